import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { loadConfig } from "../src/config/env.ts";
import { findExposures } from "../src/scan/find-exposures.ts";
import { buildNeedles } from "../src/scan/match-seeds.ts";
import { captureSite, chromiumArgs } from "../src/scan/run-scan.ts";
import { loadVendorCatalogue } from "../src/scan/vendor-catalogue.ts";

/**
 * npm run bench:scan [-- --pages N --settle MS]
 *
 * A site of N pages (default 50) on loopback, each linking to the next few and loading a script
 * that sends the signed-in person's data the way analytics SDKs do (a JSON fetch, a base64 beacon
 * and a hashed-email pixel) to a vendor host mapped to a local sink. The scanner crawls it from the
 * first page (`--crawl N-1`); the same Chromium then loads the same pages plainly, with no recording,
 * for comparison. Prints pages per minute for the crawl (including the quiet time each page is given
 * to send, --settle) and the time the scanner adds to each page load (median and 90th percentile of
 * load-event times, scanner minus plain).
 */

const { values: o } = parseArgs({
  options: { pages: { type: "string", default: "50" }, settle: { type: "string", default: "1000" } },
});
const PAGES = Number(o.pages);
const SETTLE = Number(o.settle);
const EMAIL = "Bench.Person@example-shop.test";

const pageHtml = (i: number) => `<!doctype html><html><head><title>Page ${i}</title></head><body>
<h1>Page ${i}</h1><p>${"Lorem ipsum dolor sit amet. ".repeat(40)}</p>
<nav>${[1, 2, 3]
  .map((d) => i + d)
  .filter((n) => n < PAGES)
  .map((n) => `<a href="/p/${n}">Page ${n}</a>`)
  .join(" ")}</nav>
<script src="/sdk.js"></script></body></html>`;

// What a small analytics SDK does on each page: identify the person three ways.
const sdk = `(async () => {
  const email = ${JSON.stringify(EMAIL)};
  const event = { event: "page viewed", properties: { email, path: location.pathname, token: "bench" } };
  fetch("https://collect.vendor-bench.test/v1/t", { method: "POST", body: JSON.stringify(event), keepalive: true });
  navigator.sendBeacon("https://collect.vendor-bench.test/v1/b", "data=" + btoa(JSON.stringify(event)));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(email.toLowerCase()));
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  new Image().src = "https://collect.vendor-bench.test/px?em=" + hex;
})();`;

function listen(handler: http.RequestListener): Promise<http.Server> {
  const server = http.createServer(handler);
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}
const port = (s: http.Server) => (s.address() as AddressInfo).port;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

const site = await listen((req, res) => {
  if (req.url === "/sdk.js") {
    res.writeHead(200, { "content-type": "text/javascript" }).end(sdk);
    return;
  }
  const m = /^\/p\/(\d+)$/.exec(req.url ?? "");
  if (!m || Number(m[1]) >= PAGES) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { "content-type": "text/html" }).end(pageHtml(Number(m[1])));
});
const sink = await listen((req, res) => {
  req.resume();
  req.on("end", () => {
    res
      .writeHead(200, {
        "access-control-allow-origin": req.headers.origin ?? "*",
        "content-type": "text/plain",
      })
      .end("ok");
  });
});
const origin = `http://127.0.0.1:${port(site)}`;
const mapHosts = [{ host: "collect.vendor-bench.test", target: `127.0.0.1:${port(sink)}` }];
const config = loadConfig();

try {
  const started = performance.now();
  const capture = await captureSite({
    urls: [`${origin}/p/0`],
    seed: { email: EMAIL },
    crawl: PAGES - 1,
    mapHosts,
    ignoreHttpsErrors: false,
    blockUnmapped: true,
    firstParty: [],
    executablePath: config.chromiumPath,
    settleMs: SETTLE,
    navigationTimeoutMs: 30_000,
  });
  const crawled = performance.now();
  const exposures = findExposures(capture.requests, {
    needles: buildNeedles([{ field: "email", category: "user.contact.email", value: EMAIL }]),
    catalogue: await loadVendorCatalogue(),
    inventory: [],
  });
  const analysed = performance.now();
  const pages = capture.pages.filter((p) => !p.error && p.loadMs !== null);

  // The same pages, plainly: same browser and flags, no recording, no waiting for quiet.
  const browser = await chromium.launch({
    executablePath: config.chromiumPath,
    args: chromiumArgs({ mapHosts, blockUnmapped: true }, ["127.0.0.1"]),
    ignoreDefaultArgs: ["--enable-automation"],
  });
  const plain: number[] = [];
  try {
    const page = await (await browser.newContext()).newPage();
    for (const visit of capture.pages) {
      const t = performance.now();
      await page.goto(visit.url, { waitUntil: "load" });
      plain.push(performance.now() - t);
    }
  } finally {
    await browser.close();
  }
  const scanned = pages.map((p) => p.loadMs as number);
  const minutes = (analysed - started) / 60_000;
  const result = {
    machine: `${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`,
    pages: capture.pages.length,
    requests: capture.requests.length,
    findings: exposures.findings.length,
    settle_ms: SETTLE,
    crawl_s: +((crawled - started) / 1000).toFixed(1),
    analysis_ms: Math.round(analysed - crawled),
    pages_per_minute: +(capture.pages.length / minutes).toFixed(1),
    load_ms_scanner: { median: percentile(scanned, 50), p90: percentile(scanned, 90) },
    load_ms_plain: { median: Math.round(percentile(plain, 50)), p90: Math.round(percentile(plain, 90)) },
    added_ms_per_load: {
      median: Math.round(percentile(scanned, 50) - percentile(plain, 50)),
      p90: Math.round(percentile(scanned, 90) - percentile(plain, 90)),
    },
  };
  console.log(JSON.stringify(result, null, 2));
  if (capture.pages.length !== PAGES) {
    console.error(`expected to crawl ${PAGES} pages, crawled ${capture.pages.length}`);
    process.exitCode = 1;
  }
  if (!exposures.findings.some((f) => f.chain.join(" ").includes("sha256:hex"))) {
    console.error("the hashed email was not found");
    process.exitCode = 1;
  }
} finally {
  site.close();
  sink.close();
}
