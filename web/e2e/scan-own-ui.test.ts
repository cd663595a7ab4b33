import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { tempDir } from "../../src/lib/test-fixtures.ts";
import { ADMIN, CHROMIUM, type E2E, setUpFirstAdmin, startE2E } from "./harness.ts";

/**
 * The tool that finds leaks to vendors must not leak itself: the exposure scanner, signed in as the
 * admin, crawls blastradius's own web UI and finds no request to any third party.
 */
describe("the scanner on blastradius's own web UI", { timeout: 300_000 }, () => {
  let e2e: E2E;
  let totpSecret = "";

  before(async () => {
    e2e = await startE2E();
    const page = await (await e2e.newContext()).newPage();
    totpSecret = await setUpFirstAdmin(e2e, page);
    // An incident gives the crawl its pages (overview, datasets, blast radius, ...) to follow.
    await page.getByRole("button", { name: "New incident" }).click();
    await page.getByLabel("Title").fill("Scanner walk-through");
    await page.getByRole("button", { name: "Open incident" }).click();
    await page.getByRole("heading", { name: "Scanner walk-through" }).waitFor();
    await page.context().close();
  });
  after(async () => {
    await e2e?.close();
  });

  it("crawls the signed-in UI and sees no third-party request", async () => {
    const dir = await tempDir("blastradius-scan-own-ui-");
    const seed = path.join(dir, "seed.yaml");
    await writeFile(seed, `email: ${ADMIN.email}\nname: ${ADMIN.name}\n`);
    const out = path.join(dir, "out");
    const root = path.resolve(import.meta.dirname, "../..");
    const args = [
      path.join(root, "bin/blastradius.mjs"),
      "scan",
      "--url",
      e2e.server.url,
      "--seed",
      seed,
      "--steps",
      path.join(import.meta.dirname, "scan-sign-in.steps.ts"),
      "--crawl",
      "20",
      "--block-unmapped",
      "--settle",
      "500",
      "--out",
      out,
      "--fail-on-undeclared",
    ];
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, args, {
        env: {
          ...process.env,
          BLASTRADIUS_CHROMIUM: CHROMIUM,
          SCAN_PASSWORD: ADMIN.password,
          SCAN_TOTP_SECRET: totpSecret,
        },
      });
      let stderr = "";
      child.stderr.on("data", (d) => {
        stderr += d;
      });
      child.on("close", (code) => resolve({ code, stderr }));
    });
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(await readFile(path.join(out, "summary.json"), "utf8"));
    const pages = summary.pages as { url: string; error: string | null }[];
    assert.ok(
      pages.length >= 8,
      `the crawl reached ${pages.length} pages: ${pages.map((p) => p.url).join(", ")}`,
    );
    assert.deepEqual(
      pages.filter((p) => p.error),
      [],
    );
    assert.ok(
      pages.some((p) => /\/incidents\/[^/]+/.test(p.url)),
      "an incident's pages were crawled",
    );
    assert.ok(summary.requests > pages.length, "the pages' own requests (API, assets) were recorded");
    assert.equal(summary.third_party_requests, 0);
    assert.deepEqual(summary.third_party_hosts, []);
    assert.deepEqual(JSON.parse(await readFile(path.join(out, "findings.json"), "utf8")), []);
  });
});
