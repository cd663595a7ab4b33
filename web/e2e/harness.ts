import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from "playwright-core";
import { totpCode } from "../../src/auth/totp.ts";
import { loadConfig } from "../../src/config/env.ts";
import { tempDir } from "../../src/lib/test-fixtures.ts";
import { type Running, serve } from "../../src/server/serve.ts";
import { DEFAULT_WEB_ROOT } from "../../src/server/web-ui.ts";

/**
 * End-to-end tests drive Debian's Chromium against a real server (PGlite store, in-process
 * workers, the built UI). Every request the browser makes outside the server's origin is blocked
 * and recorded, so a test fails if the UI reaches for anything else.
 */
export const CHROMIUM = process.env.BLASTRADIUS_CHROMIUM ?? "/usr/bin/chromium";
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
];

/** Where screenshots go: E2E_SCREENSHOTS, or a folder under the system's temp. */
export const SCREENSHOTS = path.resolve(
  process.env.E2E_SCREENSHOTS ?? path.join(process.env.TMPDIR ?? "/tmp", "blastradius-e2e-screenshots"),
);

export type E2E = {
  server: Running;
  dataDir: string;
  bootstrapCode: string | null;
  browser: Browser;
  /** requests the browser tried to make to another origin (blocked) */
  foreignRequests: string[];
  /** every URL the browser asked for */
  requests: string[];
  /** console errors and page errors (a CSP violation shows up here) */
  pageErrors: string[];
  newContext(viewport?: { width: number; height: number }): Promise<BrowserContext>;
  close(): Promise<void>;
};

export async function startE2E(env: Record<string, string> = {}): Promise<E2E> {
  assert.ok(
    existsSync(path.join(DEFAULT_WEB_ROOT, "index.html")),
    "the web UI is not built: run `npm run build:web` first (npm test does)",
  );
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install -y chromium (.ci/run does)`);
  const dataDir = await tempDir("blastradius-e2e-");
  const lines: string[] = [];
  const server = await serve(
    loadConfig({
      BLASTRADIUS_DATA: dataDir,
      BLASTRADIUS_MEMORY_LIMIT: "1GB",
      BLASTRADIUS_THREADS: "2",
      PORT: "0",
      HOST: "127.0.0.1",
      ...env,
    }),
    { out: (line) => lines.push(line) },
  );
  const all = lines.join("\n");
  const bootstrapCode = /one-time code[^\n]*\n\s+(\S+)\n/.exec(all)?.[1] ?? null;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  const origin = new URL(server.url).origin;
  const foreignRequests: string[] = [];
  const requests: string[] = [];
  const pageErrors: string[] = [];
  const contexts: BrowserContext[] = [];
  return {
    server,
    dataDir,
    bootstrapCode,
    browser,
    foreignRequests,
    requests,
    pageErrors,
    async newContext(viewport = { width: 1280, height: 900 }) {
      const context = await browser.newContext({ viewport, acceptDownloads: true });
      contexts.push(context);
      await context.route("**/*", (route) => {
        const url = route.request().url();
        requests.push(url);
        if (url.startsWith("data:") || url.startsWith("blob:") || new URL(url).origin === origin) {
          return route.continue();
        }
        foreignRequests.push(url);
        return route.abort("blockedbyclient");
      });
      context.on("page", (page) => watch(page, pageErrors));
      return context;
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser.close();
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function watch(page: Page, errors: string[]): void {
  page.on("console", (m) => {
    // A 4xx from the API is logged by the browser as a failed load; the UI handles those itself.
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) {
      errors.push(`console: ${m.text()}`);
    }
  });
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  page.on("dialog", (d) => {
    errors.push(`dialog: ${d.type()} ${d.message()}`);
    void d.dismiss();
  });
}

/** What the screen shows (1280 × 900 unless the context says otherwise), from the top or from `at`. */
export async function screenshot(page: Page, name: string, at?: Locator): Promise<string> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  if (at) await at.scrollIntoViewIfNeeded();
  else await page.evaluate("window.scrollTo(0, 0)");
  await page.screenshot({ path: file });
  return file;
}

/** The authenticator's current code. */
export const currentTotp = (secret: string): string => totpCode(secret);

export const ADMIN = {
  email: "lead@example.com",
  password: "correct horse battery staple",
  name: "Incident lead",
};

/** First run in the browser: the admin from the printed code; returns the second factor's secret. */
export async function setUpFirstAdmin(e2e: E2E, page: Page, shots = false): Promise<string> {
  assert.ok(e2e.bootstrapCode, "the server printed a set-up code");
  await page.goto(e2e.server.url);
  await page.getByRole("heading", { name: "Create the first admin" }).waitFor();
  if (shots) await screenshot(page, "01-setup");
  await page.getByLabel("Set-up code").fill(e2e.bootstrapCode);
  await page.getByLabel("Your name").fill(ADMIN.name);
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Create admin" }).click();
  await page.getByRole("heading", { name: "Set up your second factor" }).waitFor();
  const secret = (await page.getByTestId("totp-secret").textContent()) ?? "";
  assert.match(secret, /^[A-Z2-7]{16,}$/);
  await page.getByLabel("Code from the app").fill(currentTotp(secret));
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Incidents" }).waitFor();
  return secret;
}

export async function signIn(
  page: Page,
  url: string,
  account: { email: string; password: string },
  totpSecret?: string,
): Promise<void> {
  await page.goto(url);
  await page.getByRole("heading", { name: "Sign in to blastradius" }).waitFor();
  await page.getByLabel("Email").fill(account.email);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  if (totpSecret) {
    await page.getByLabel("Authenticator code").fill(currentTotp(totpSecret));
    await page.getByRole("button", { name: "Verify and sign in" }).click();
  }
  await page.getByRole("heading", { name: "Incidents" }).waitFor();
}

/** The demo's first users, as `user_id,email,name,country,language` rows of its identity store. */
export async function demoUsers(
  e2e: E2E,
  n: number,
): Promise<{ user_id: string; email: string; name: string }[]> {
  const text = await readFile(path.join(e2e.dataDir, "identities", "users.csv"), "utf8");
  return text
    .trim()
    .split("\n")
    .slice(1, n + 1)
    .map((line) => {
      const [user_id = "", email = "", name = ""] = line.split(",");
      return { user_id, email, name };
    });
}

/**
 * The document in the campaign preview's frame, once the frame shows `expect` (in its address), read
 * through the page's session. (A sandboxed frame without scripts is its own process in Chromium, and
 * reading its DOM from the test is not reliable; its address and answer are.)
 */
export async function previewFrameDocument(
  page: Page,
  expect: string,
): Promise<{ html: string; csp: string }> {
  const frame = page.getByTitle("HTML preview");
  let src = "";
  for (let i = 0; i < 300 && !src.includes(expect); i++) {
    src = (await frame.getAttribute("src")) ?? "";
    if (!src.includes(expect)) await page.waitForTimeout(100);
  }
  assert.ok(src.includes(expect), `the preview frame shows ${expect}: ${src}`);
  const response = await page.request.get(new URL(src, page.url()).toString());
  assert.equal(response.status(), 200);
  return { html: await response.text(), csp: response.headers()["content-security-policy"] ?? "" };
}
