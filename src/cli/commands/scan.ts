import { cliActor } from "../../auth/roles.ts";
import type { Config } from "../../config/env.ts";
import { usageError } from "../../lib/errors.ts";
import type { MapHost } from "../../scan/run-scan.ts";
import { scanSite } from "../../scan/scan-site.ts";
import { listVendors } from "../../vendors/manage-vendors.ts";
import { declaredVendorsOf } from "../../vendors/vendor-file.ts";
import { type Command, parseOptions, positiveInt, requireOption, withContext } from "../command.ts";

const help = `Usage: blastradius scan --url URL [--url URL ...] --seed FILE --out DIR [--steps FILE]
                        [--crawl N] [--map-host HOST=IP:PORT ...] [--ignore-https-errors]
                        [--block-unmapped] [--first-party DOMAIN ...]
                        [--inventory FILE | --store-inventory]
                        [--catalogue FILE] [--settle MS] [--timeout MS] [--fail-on-undeclared]
                        [--json] [--quiet]

Finds which personal data your own web front-end hands to which vendor. Drives Chromium through
the app as a seeded test person (signed in by a --steps module, or not), records every request the
pages make (fetch and XHR, keepalive fetches, sendBeacon, images, scripts, with query strings, bodies
and cookies), decodes them (query strings, forms, JSON, base64, gzip and deflate, lz-string,
multipart, nested) and looks for the seed's values as they are, case-changed, URL-encoded, base64 or
hashed (MD5, SHA-1, SHA-256, SHA-512, of the value and of its normalised form, and chains of two).
Each hit names the vendor (from the bundled catalogue, also behind a first-party proxy by its SDK's
payload) and says whether your inventory declares that vendor receiving that data category.

Options:
  --url URL             where to start; repeat for several. The first is where --steps runs.
  --seed FILE           the test identity (YAML or JSON): email, name, first_name, last_name,
                        phone, user_id, org_id, and custom: [{value, category[, field]}].
  --out DIR             writes findings.json, summary.json, scan.har, report.md and report.html.
  --steps FILE          a JavaScript or TypeScript module whose default export is an async
                        function ({ page, context, seed, url }) that signs in and walks the app
                        with Playwright's page API (seed holds the seed file's values).
  --crawl N             also follow same-site links, up to N more pages (default 0). Links that
                        look like signing out are not followed.
  --map-host HOST=IP:PORT  resolve HOST to IP:PORT inside the browser (staging, tests);
                        repeatable. Without a port the address's own port is used.
  --ignore-https-errors accept certificates the browser would refuse (local test certificates).
  --block-unmapped      every host that is not mapped with --map-host (nor localhost, 127.0.0.1,
                        a --url host or a --first-party domain) fails to resolve: nothing else
                        leaves the machine.
  --first-party DOMAIN  another site that is the app's own (an API or CDN domain); repeatable.
                        The --url sites are always first-party. First-party requests are not
                        findings unless their payload is a known vendor SDK's (a proxy).
  --inventory FILE      your vendors-as-code file (see README): each (vendor, category) flow seen
                        is declared or undeclared, and declared web flows not seen are listed.
                        Without it (or --store-inventory) every flow is undeclared.
  --store-inventory     compare with the vendors in the workspace store instead of a file (their
                        declared flows; see 'blastradius vendors'): BLASTRADIUS_DATA or
                        DATABASE_URL, as for the other workspace commands.
  --catalogue FILE      a vendor catalogue to use instead of the bundled one (same YAML format).
  --settle MS           a page's visit ends after MS ms without a new request (default 1000).
  --timeout MS          navigation timeout per page (default 30000).
  --fail-on-undeclared  exit 3 when any undeclared flow was seen (for release gates).
  --json                print summary.json to stdout.
  --quiet               no progress lines and no summary text.
  -h, --help            this help.

Environment: BLASTRADIUS_CHROMIUM (the Chromium to drive; default /usr/bin/chromium); with
--store-inventory also the store's settings (BLASTRADIUS_DATA, DATABASE_URL, BLASTRADIUS_ENCRYPTION_KEY).

Exit codes: 0 scanned (findings or not), 1 the scan failed (browser, --steps error), 2 bad usage or
bad input (the message names the option or file), 3 with --fail-on-undeclared: undeclared flows.
`;

export function parseMapHost(value: string): MapHost {
  const m = /^([A-Za-z0-9*._-]+)=(\[[0-9a-fA-F:]+\]|[0-9.]+|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(
    value.trim(),
  );
  if (!m || (m[3] !== undefined && Number(m[3]) > 65535)) {
    throw usageError(
      `--map-host ${JSON.stringify(value)}: expected HOST=IP:PORT, such as api-js.mixpanel.com=127.0.0.1:8443`,
    );
  }
  return { host: (m[1] as string).toLowerCase(), target: m[3] ? `${m[2]}:${m[3]}` : (m[2] as string) };
}

function parseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usageError(
      `--url ${JSON.stringify(value)}: not a URL (give the full address, such as https://app.example.com/)`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw usageError(`--url ${JSON.stringify(value)}: only http and https addresses can be scanned`);
  }
  return url.href;
}

export const scanCommand: Command = {
  name: "scan",
  help,
  async run(argv, config: Config) {
    const o = parseOptions(argv, {
      url: { type: "string", multiple: true },
      seed: { type: "string" },
      out: { type: "string" },
      steps: { type: "string" },
      crawl: { type: "string" },
      "map-host": { type: "string", multiple: true },
      "ignore-https-errors": { type: "boolean" },
      "block-unmapped": { type: "boolean" },
      "first-party": { type: "string", multiple: true },
      inventory: { type: "string" },
      "store-inventory": { type: "boolean" },
      catalogue: { type: "string" },
      settle: { type: "string" },
      timeout: { type: "string" },
      "fail-on-undeclared": { type: "boolean" },
      json: { type: "boolean" },
      quiet: { type: "boolean" },
    });
    const urls = (o.url ?? []).map(parseUrl);
    if (urls.length === 0) throw usageError("missing required option --url");
    const seedFile = requireOption(o.seed, "--seed");
    const outDir = requireOption(o.out, "--out");
    const crawl = o.crawl === undefined || o.crawl === "0" ? 0 : positiveInt(o.crawl, "--crawl", 0);
    if (o.inventory && o["store-inventory"]) {
      throw usageError("--inventory and --store-inventory: give one inventory, a file or the store");
    }
    // Read before the browser starts, and the store closed again: a scan takes minutes.
    const storeInventory = o["store-inventory"]
      ? await withContext(config, async (ctx) => declaredVendorsOf(await listVendors(ctx, cliActor)))
      : undefined;
    const quiet = o.quiet === true;
    const log = (line: string) => {
      if (!quiet) process.stderr.write(`${line}\n`);
    };
    const { summary } = await scanSite({
      urls,
      seedFile,
      ...(o.steps ? { stepsFile: o.steps } : {}),
      crawl,
      mapHosts: (o["map-host"] ?? []).map(parseMapHost),
      ignoreHttpsErrors: o["ignore-https-errors"] === true,
      blockUnmapped: o["block-unmapped"] === true,
      firstParty: o["first-party"] ?? [],
      ...(o.inventory ? { inventoryFile: o.inventory } : {}),
      ...(storeInventory ? { inventory: storeInventory, inventoryLabel: "the workspace store" } : {}),
      ...(o.catalogue ? { catalogueFile: o.catalogue } : {}),
      outDir,
      settleMs: positiveInt(o.settle, "--settle", 1000),
      navigationTimeoutMs: positiveInt(o.timeout, "--timeout", 30_000),
      executablePath: config.chromiumPath,
      onPage: (visit, index) =>
        log(
          `page ${index}${crawl > 0 ? ` (crawl up to ${crawl} more)` : ""}: ${visit.url}${visit.error ? ` (failed: ${visit.error})` : ""}`,
        ),
    });
    if (o.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else if (!quiet) {
      process.stdout.write(
        [
          `${summary.pages.length} pages, ${summary.requests} requests (${summary.third_party_requests} to third parties), ${summary.findings} findings.`,
          ...summary.flows.map(
            (f) =>
              `  ${f.seen ? (f.declared ? "declared  " : "UNDECLARED") : "not seen  "}  ${f.vendor}: ${f.category}${f.seed_fields.length > 0 ? ` (${f.seed_fields.join(", ")})` : ""}`,
          ),
          `Report: ${outDir}/report.html (also report.md, findings.json, summary.json, scan.har)`,
          "",
        ].join("\n"),
      );
    }
    return o["fail-on-undeclared"] === true && summary.undeclared_flows > 0 ? 3 : 0;
  },
};
