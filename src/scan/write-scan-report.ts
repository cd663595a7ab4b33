import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { Exposures, Finding, Flow } from "./find-exposures.ts";
import type { PageVisit } from "./run-scan.ts";

/** What one scan found, as the files in --out: findings.json, summary.json, report.md, report.html. */

export type ScanSummary = {
  scanned_at: string;
  urls: string[];
  pages: PageVisit[];
  requests: number;
  third_party_requests: number;
  findings: number;
  undeclared_flows: number;
  declared_not_seen: number;
  flows: Flow[];
  third_party_hosts: Exposures["third_party_hosts"];
  /** Seed values too short to look for without false alarms. */
  skipped_seed_fields: string[];
  truncated_requests: number;
  user_agent: string;
  inventory: string | null;
};

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string,
  );
// Markdown table cells: a pipe or a newline in a URL would break the table.
const cell = (s: string) =>
  s
    .replace(/\\/g, "\\\\")
    .replace(/\|/g, "\\|")
    .replace(/[\r\n]+/g, " ");
const shortUrl = (u: string) => (u.length > 120 ? `${u.slice(0, 117)}...` : u);
const chainText = (f: Finding) => f.chain.join(" → ");

function markdown(summary: ScanSummary, findings: readonly Finding[]): string {
  const undeclared = summary.flows.filter((f) => f.seen && !f.declared);
  const declared = summary.flows.filter((f) => f.seen && f.declared);
  const notSeen = summary.flows.filter((f) => !f.seen);
  const lines = [
    "# Exposure scan",
    "",
    `Scanned ${summary.urls.join(", ")} on ${summary.scanned_at}: ${summary.pages.length} pages, ${summary.requests} requests, ${summary.third_party_requests} to third parties.`,
    "",
    `- Findings: ${summary.findings}`,
    `- Undeclared flows: ${summary.undeclared_flows}`,
    `- Declared flows not seen: ${summary.declared_not_seen}`,
    summary.inventory
      ? `- Inventory: ${summary.inventory}`
      : "- Inventory: none given (every flow is undeclared)",
    "",
  ];
  const flowTable = (title: string, flows: readonly Flow[]) => {
    if (flows.length === 0) return;
    lines.push(`## ${title}`, "", "| vendor | category | seed fields |", "|---|---|---|");
    for (const f of flows)
      lines.push(`| ${cell(f.vendor)} | ${f.category} | ${f.seed_fields.join(", ") || "-"} |`);
    lines.push("");
  };
  flowTable("Undeclared flows", undeclared);
  flowTable("Declared flows seen", declared);
  flowTable("Declared flows not seen", notSeen);
  if (findings.length > 0) {
    lines.push(
      "## Findings",
      "",
      "| vendor | host | method | category | seed field | chain | declared | proxy | requests | url |",
      "|---|---|---|---|---|---|---|---|---|---|",
    );
    for (const f of findings) {
      lines.push(
        `| ${cell(f.vendor)} | ${cell(f.host)} | ${f.method} | ${f.category} | ${cell(f.seed_field)} | ${cell(chainText(f))} | ${f.declared ? "yes" : "no"} | ${f.first_party_proxy ? "yes" : "no"} | ${f.requests} | ${cell(shortUrl(f.url))} |`,
      );
    }
    lines.push("");
  }
  lines.push("## Third-party hosts", "");
  if (summary.third_party_hosts.length === 0) lines.push("None: no request left the app's own site.", "");
  else {
    lines.push("| host | vendor | requests | failed |", "|---|---|---|---|");
    for (const h of summary.third_party_hosts) {
      lines.push(
        `| ${cell(h.host)} | ${cell(h.vendor ?? "not in the catalogue")} | ${h.requests} | ${h.failed} |`,
      );
    }
    lines.push("");
  }
  lines.push("## Pages", "", "| page | load ms | error |", "|---|---|---|");
  for (const p of summary.pages)
    lines.push(`| ${cell(shortUrl(p.url))} | ${p.loadMs ?? "-"} | ${cell(p.error ?? "")} |`);
  lines.push("");
  if (summary.skipped_seed_fields.length > 0) {
    lines.push(
      `Seed values not searched (shorter than 4 characters): ${summary.skipped_seed_fields.join(", ")}.`,
      "",
    );
  }
  if (summary.truncated_requests > 0) {
    lines.push(
      `${summary.truncated_requests} request(s) were too large or too deeply nested to decode completely.`,
      "",
    );
  }
  return lines.join("\n");
}

function html(summary: ScanSummary, findings: readonly Finding[]): string {
  const e = escapeHtml;
  const rows = (flows: readonly Flow[]) =>
    flows
      .map(
        (f) =>
          `<tr><td>${e(f.vendor)}</td><td>${e(f.category)}</td><td>${e(f.seed_fields.join(", ") || "-")}</td><td class="${f.seen ? (f.declared ? "ok" : "bad") : "muted"}">${f.seen ? (f.declared ? "declared" : "undeclared") : "declared, not seen"}</td></tr>`,
      )
      .join("");
  const findingRows = findings
    .map(
      (f) =>
        `<tr><td>${e(f.vendor)}</td><td>${e(f.host)}</td><td>${e(f.method)}</td><td>${e(f.category)}</td><td>${e(f.seed_field)}</td><td><code>${e(chainText(f))}</code></td><td class="${f.declared ? "ok" : "bad"}">${f.declared ? "yes" : "no"}</td><td>${f.first_party_proxy ? "yes" : "no"}</td><td>${f.requests}</td><td class="url">${e(shortUrl(f.url))}</td></tr>`,
    )
    .join("");
  const hostRows = summary.third_party_hosts
    .map(
      (h) =>
        `<tr><td>${e(h.host)}</td><td>${e(h.vendor ?? "not in the catalogue")}</td><td>${h.requests}</td><td>${h.failed}</td></tr>`,
    )
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Exposure scan</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:2rem;color:#1b1f24}table{border-collapse:collapse;margin:.5rem 0 1.5rem;width:100%}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f6f8fa}
.bad{color:#a40e26;font-weight:600}.ok{color:#116329}.muted{color:#57606a}.url{word-break:break-all;font-size:13px}code{font-size:13px}
</style></head><body>
<h1>Exposure scan</h1>
<p>Scanned ${e(summary.urls.join(", "))} on ${e(summary.scanned_at)}: ${summary.pages.length} pages, ${summary.requests} requests, ${summary.third_party_requests} to third parties.</p>
<ul><li>Findings: ${summary.findings}</li><li class="${summary.undeclared_flows > 0 ? "bad" : "ok"}">Undeclared flows: ${summary.undeclared_flows}</li><li>Declared flows not seen: ${summary.declared_not_seen}</li>
<li>Inventory: ${summary.inventory ? e(summary.inventory) : "none given (every flow is undeclared)"}</li></ul>
<h2>Flows</h2>
${summary.flows.length === 0 ? "<p>No seeded value reached a vendor.</p>" : `<table><thead><tr><th>vendor</th><th>category</th><th>seed fields</th><th>status</th></tr></thead><tbody>${rows(summary.flows)}</tbody></table>`}
<h2>Findings</h2>
${findings.length === 0 ? "<p>None.</p>" : `<table><thead><tr><th>vendor</th><th>host</th><th>method</th><th>category</th><th>seed field</th><th>chain</th><th>declared</th><th>proxy</th><th>requests</th><th>url</th></tr></thead><tbody>${findingRows}</tbody></table>`}
<h2>Third-party hosts</h2>
${hostRows === "" ? "<p>None: no request left the app's own site.</p>" : `<table><thead><tr><th>host</th><th>vendor</th><th>requests</th><th>failed</th></tr></thead><tbody>${hostRows}</tbody></table>`}
<h2>Pages</h2>
<table><thead><tr><th>page</th><th>load ms</th><th>error</th></tr></thead><tbody>${summary.pages
    .map(
      (p) =>
        `<tr><td class="url">${e(shortUrl(p.url))}</td><td>${p.loadMs ?? "-"}</td><td>${e(p.error ?? "")}</td></tr>`,
    )
    .join("")}</tbody></table>
</body></html>
`;
}

export async function writeScanReport(
  outDir: string,
  summary: ScanSummary,
  findings: readonly Finding[],
): Promise<void> {
  const findingsOut = findings.map((f) => ({
    vendor: f.vendor,
    host: f.host,
    url: f.url,
    method: f.method,
    category: f.category,
    seed_field: f.seed_field,
    chain: f.chain,
    declared: f.declared,
    first_party_proxy: f.first_party_proxy,
    vendor_id: f.vendor_id,
    vendor_category: f.vendor_category,
    resource_type: f.resource_type,
    page: f.page,
    requests: f.requests,
  }));
  await Promise.all([
    writeFile(path.join(outDir, "findings.json"), `${JSON.stringify(findingsOut, null, 2)}\n`),
    writeFile(path.join(outDir, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`),
    writeFile(path.join(outDir, "report.md"), markdown(summary, findings)),
    writeFile(path.join(outDir, "report.html"), html(summary, findings)),
  ]);
}
