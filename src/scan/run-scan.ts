import { existsSync } from "node:fs";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { AppError } from "../lib/errors.ts";
import { type RecordedRequest, RequestRecorder } from "./record-requests.ts";
import { isSameSite } from "./site.ts";

/**
 * Drives Chromium through the app and records every request its pages make. The browser must look
 * like one a person uses: SDKs such as posthog-js drop all events from a browser whose user agent
 * says HeadlessChrome or whose navigator.webdriver is true, and a scan that trips those filters
 * would report a clean bill of health for an app that leaks.
 */

export type ScanStepsContext = Readonly<{
  page: Page;
  context: BrowserContext;
  /** The seed file's well-known values (email, name, ...), to type into the app's forms. */
  seed: Readonly<Record<string, string | undefined>>;
  url: string;
}>;
/** A `--steps` module's default export: signs in and walks the app as the seeded person. */
export type ScanSteps = (ctx: ScanStepsContext) => Promise<void>;

export type MapHost = Readonly<{ host: string; target: string }>;

export type CapturedRequest = RecordedRequest & { thirdParty: boolean };

/** One address visited; a link that turned out to be a file download is kept but is not a page. */
export type PageVisit = { url: string; loadMs: number | null; error: string | null; download?: true };

export type CaptureResult = { requests: CapturedRequest[]; pages: PageVisit[]; userAgent: string };

export type CaptureOptions = Readonly<{
  urls: readonly string[];
  seed: Readonly<Record<string, string | undefined>>;
  steps?: ScanSteps;
  /** How many more same-site pages to follow from the pages visited; 0 follows none. */
  crawl: number;
  mapHosts: readonly MapHost[];
  ignoreHttpsErrors: boolean;
  /** Any host not mapped and not loopback fails to resolve, so nothing leaves the machine. */
  blockUnmapped: boolean;
  /** Extra sites that count as the app's own. */
  firstParty: readonly string[];
  harPath?: string;
  executablePath: string;
  /** Quiet time (no new request) that ends a page's visit. */
  settleMs: number;
  navigationTimeoutMs: number;
  onPage?: (visit: PageVisit, index: number) => void;
}>;

const MAX_SETTLE_MS = 15_000;
// Leaving these would end the seeded session halfway through the crawl.
const SESSION_ENDING = /log-?out|sign-?out|log-?off/i;

/**
 * Host resolver rules: --map-host entries, then (with --block-unmapped) everything else fails to
 * resolve except loopback and the app's own hosts, so not even a DNS query leaves the machine.
 */
export function chromiumArgs(
  options: Pick<CaptureOptions, "mapHosts" | "blockUnmapped">,
  ownHosts: readonly string[] = [],
): string[] {
  const rules = options.mapHosts.map((m) => `MAP ${m.host} ${m.target}`);
  if (options.blockUnmapped) {
    const allowed = new Set(["localhost", "127.0.0.1", "[::1]", ...ownHosts]);
    rules.push("MAP * ~NOTFOUND", ...[...allowed].map((h) => `EXCLUDE ${h}`));
  }
  return [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-blink-features=AutomationControlled",
    ...(rules.length > 0 ? [`--host-resolver-rules=${rules.join(", ")}`] : []),
  ];
}

export async function launchScanBrowser(
  options: Pick<CaptureOptions, "mapHosts" | "blockUnmapped" | "executablePath">,
  ownHosts: readonly string[] = [],
): Promise<Browser> {
  if (!existsSync(options.executablePath)) {
    throw new AppError(
      "WORK_FAILED",
      `no Chromium at ${options.executablePath}: install Debian's (apt-get install chromium) or set BLASTRADIUS_CHROMIUM`,
    );
  }
  return chromium.launch({
    executablePath: options.executablePath,
    args: chromiumArgs(options, ownHosts),
    ignoreDefaultArgs: ["--enable-automation"],
  });
}

/** The browser's own user agent without the "Headless" that bot filters look for. */
async function ordinaryUserAgent(browser: Browser): Promise<string> {
  const probe = await browser.newContext();
  try {
    const page = await probe.newPage();
    return (await page.evaluate(() => navigator.userAgent)).replace(/HeadlessChrome/g, "Chrome");
  } finally {
    await probe.close();
  }
}

/** Resolves once the page has started no request for `quietMs` (or after MAX_SETTLE_MS). */
async function settle(lastRequestAt: () => number, quietMs: number): Promise<void> {
  const started = Date.now();
  for (;;) {
    const quiet = Date.now() - lastRequestAt();
    if (quiet >= quietMs || Date.now() - started >= MAX_SETTLE_MS) return;
    await new Promise((r) => setTimeout(r, Math.min(quietMs - quiet, 250)));
  }
}

/**
 * What a person switching to another tab looks like to the page. Batching SDKs (Mixpanel waits ten
 * seconds between sends) flush their queues with sendBeacon on `visibilitychange` to hidden, which
 * a navigation inside a headless browser does not fire, so without this the last events of every
 * page would never be seen.
 */
async function hidePage(page: Page): Promise<void> {
  await page
    .evaluate(() => {
      // Runs in the page; typed loosely because the project's own types have no DOM.
      const g = globalThis as unknown as {
        document: EventTarget;
        window: EventTarget;
        PageTransitionEvent: new (type: string, init: { persisted: boolean }) => Event;
      };
      Object.defineProperty(g.document, "visibilityState", { configurable: true, get: () => "hidden" });
      Object.defineProperty(g.document, "hidden", { configurable: true, get: () => true });
      g.document.dispatchEvent(new Event("visibilitychange", { bubbles: true }));
      g.window.dispatchEvent(new g.PageTransitionEvent("pagehide", { persisted: false }));
    })
    .catch(() => undefined);
}

async function sameSiteLinks(page: Page, sites: readonly string[]): Promise<string[]> {
  const hrefs = await page
    .$$eval("a[href]:not([download])", (as) => as.map((a) => (a as unknown as { href: string }).href))
    .catch(() => [] as string[]);
  const out: string[] = [];
  for (const href of hrefs) {
    let url: URL;
    try {
      url = new URL(href);
    } catch {
      continue;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") continue;
    if (!sites.some((s) => isSameSite(url.hostname, s)) || SESSION_ENDING.test(url.pathname)) continue;
    url.hash = "";
    out.push(url.href);
  }
  return out;
}

/** The app's own hosts, which --block-unmapped leaves reachable: the --url hosts, and each
 * --first-party domain with its subdomains. */
export function reachableHosts(options: Pick<CaptureOptions, "urls" | "firstParty">): string[] {
  return [
    ...new Set([
      ...options.urls.map((u) => new URL(u).hostname),
      ...options.firstParty.flatMap((d) => [d, `*.${d}`]),
    ]),
  ];
}

export async function captureSite(options: CaptureOptions): Promise<CaptureResult> {
  const firstUrl = options.urls[0];
  if (firstUrl === undefined) throw new AppError("USAGE", "missing --url");
  const ownHosts = options.urls.map((u) => new URL(u).hostname);
  const sites = [...ownHosts, ...options.firstParty];
  const browser = await launchScanBrowser(options, reachableHosts(options));
  const pages: PageVisit[] = [];
  let currentPage = firstUrl;
  const recorder = new RequestRecorder(() => currentPage);
  try {
    const userAgent = await ordinaryUserAgent(browser);
    const context = await browser.newContext({
      userAgent,
      ignoreHTTPSErrors: options.ignoreHttpsErrors,
      viewport: { width: 1366, height: 800 },
      locale: "en-GB",
      ...(options.harPath ? { recordHar: { path: options.harPath, content: "omit" as const } } : {}),
    });
    recorder.watchContext(context);
    context.on("page", (page) => {
      void recorder.watchPage(context, page);
    });

    const page = await context.newPage();
    await recorder.watchPage(context, page);
    page.setDefaultNavigationTimeout(options.navigationTimeoutMs);
    page.on("framenavigated", (frame) => {
      if (frame === page.mainFrame()) currentPage = frame.url();
    });

    const visit = async (url: string, walk?: ScanSteps) => {
      const started = Date.now();
      const entry: PageVisit = { url, loadMs: null, error: null };
      try {
        await page.goto(url, { waitUntil: "load" });
        entry.loadMs = Date.now() - started;
        if (walk) await walk({ page, context, seed: options.seed, url });
        await settle(() => recorder.lastRequestAt, options.settleMs);
        // The flush the hiding starts counts as activity, so the settling waits for it.
        recorder.lastRequestAt = Date.now();
        await hidePage(page);
        await settle(() => recorder.lastRequestAt, options.settleMs);
      } catch (error) {
        const message = (error as Error).message.split("\n")[0] ?? "failed";
        if (/Download is starting/.test(message)) entry.download = true;
        else entry.error = message;
      }
      pages.push(entry);
      options.onPage?.(entry, pages.length);
    };

    await visit(firstUrl, options.steps);
    if (options.steps && pages[0]?.error) {
      throw new AppError("WORK_FAILED", `--steps failed on ${firstUrl}: ${pages[0].error}`);
    }
    const visited = new Set<string>(pages.map((p) => p.url));
    const queue: string[] = [...options.urls.slice(1)];
    const enqueueLinks = async () => {
      for (const link of await sameSiteLinks(page, sites)) {
        if (!visited.has(link) && !queue.includes(link)) queue.push(link);
      }
    };
    visited.add(page.url().split("#")[0] ?? "");
    if (options.crawl > 0) await enqueueLinks();
    let crawled = 0;
    while (queue.length > 0) {
      const next = queue.shift() as string;
      const listed = options.urls.includes(next);
      if (visited.has(next) || (!listed && crawled >= options.crawl)) continue;
      visited.add(next);
      if (!listed) crawled += 1;
      await visit(next);
      visited.add(page.url().split("#")[0] ?? "");
      if (crawled < options.crawl) await enqueueLinks();
    }
    // Leaving the last page fires pagehide and visibilitychange, when SDKs flush their queues.
    await page.goto("about:blank").catch(() => undefined);
    await settle(() => recorder.lastRequestAt, options.settleMs);
    const requests = await recorder.requests();
    await context.close();
    return {
      requests: requests.map((r) => ({
        ...r,
        thirdParty: !sites.some((s) => isSameSite(new URL(r.url).hostname, s)),
      })),
      pages,
      userAgent,
    };
  } finally {
    await browser.close();
  }
}
