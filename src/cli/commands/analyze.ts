import { stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { analyzeIncident, type Summary } from "../../impact/analyze-incident.ts";
import { loadMapping } from "../../intake/mapping.ts";
import { badInput, usageError } from "../../lib/errors.ts";
import type { ObligationDecision } from "../../obligations/decide-obligations.ts";
import { loadRuleFile } from "../../obligations/load-rules.ts";
import {
  exposureFromSummary,
  obligationsForIncident,
  parseClocks,
  parseCountry,
} from "../../obligations/obligations-for-incident.ts";
import { type Command, parseOptions, requireOption } from "../command.ts";
import { terminalProgress } from "../progress.ts";

const help = `Usage: blastradius analyze --dataset FILE [--dataset FILE ...] --identities DIR --out DIR
                           [--mapping FILE] [--aware-at ISO [--clock NAME=ISO ...]
                           [--controller-country CC] [--contract FILE]] [--json] [--quiet]

Matches a vendor's exported dataset to your identity store and writes who is affected and which of
their data categories were exposed.

Options:
  --dataset FILE     a dataset file; repeat for several. Mixpanel event or profile export (JSONL or
                     engage page JSON), CSV, JSON array, JSONL or Parquet; .gz or not. The format is
                     detected from the content.
  --identities DIR   folder with users.csv (user_id,email[,name,country,language]), orgs.csv
                     (org_id,name[,country]) and memberships.csv (org_id,user_id,role); .parquet and
                     .jsonl (and .gz) versions are accepted too.
  --out DIR          where to write summary.json, people.csv, orgs.csv and quarantine.jsonl
                     (and obligations.json with --aware-at).
  --mapping FILE     YAML that changes the field-to-category mapping (see README).
  --aware-at ISO     when you became aware (ISO-8601 with offset); also writes obligations.json:
                     which notices each regime requires, to whom, by when and why.
  --clock NAME=ISO   another clock for the deadlines (vendor_detected, vendor_notified,
                     dataset_received, assessed); repeatable. See 'blastradius obligations --help'.
  --controller-country CC  where you are established (decides the GDPR lead authority).
  --contract FILE    your own contractual notice rule instead of the bundled one.
  --json             print summary.json to stdout.
  --quiet            no progress bar and no summary text.
  -h, --help         this help.

Environment: BLASTRADIUS_MEMORY_LIMIT (default 2GB), BLASTRADIUS_THREADS (default: all cores),
BLASTRADIUS_TEMP_DIR (where DuckDB spills; default the system temp folder).

Exit codes: 0 success, 1 the work failed, 2 bad usage or bad input.

Example:
  blastradius analyze --dataset export.jsonl.gz --dataset profiles.json --identities ./idp --out ./result`;

export function formatSummary(
  s: Summary,
  outDir: string,
  files = "summary.json, people.csv, orgs.csv, quarantine.jsonl",
): string {
  const top = (o: Record<string, number>) =>
    Object.entries(o)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .map(([k, v]) => `    ${k.padEnd(34)} ${v}`)
      .join("\n");
  return [
    `Rows: ${s.rows.read} read, ${s.rows.used} used, ${s.rows.quarantined} quarantined`,
    `Affected people: ${s.affected_people} (${s.subjects.matched} matched to your users, ${s.subjects.unmatched_with_email} reachable only at a dataset email; ${s.subjects.anonymous} anonymous subjects not counted)`,
    `Affected organisations: ${s.affected_orgs}; admins to notify: ${s.admins_to_notify}`,
    `Conflicting records (id and email point to different users; the id won): ${s.conflicts}`,
    "  People by exposed data category:",
    top(s.by_category) || "    (none)",
    "  People by country:",
    top(s.by_country) || "    (none)",
    Object.keys(s.unmapped_fields).length
      ? `Unmapped fields (not counted as exposure; map them with --mapping): ${Object.keys(s.unmapped_fields).length}`
      : "Unmapped fields: none",
    `Results in ${outDir}: ${files}`,
  ].join("\n");
}

/** Owed notices first, by deadline; then what needs a person's judgment. */
export function formatObligations(decisions: readonly ObligationDecision[]): string {
  const line = (d: ObligationDecision) =>
    `    ${`${d.regime} ${d.audience}`.padEnd(24)} ${String(d.people).padStart(8)} people  ${d.deadline ? `by ${d.deadline}` : d.timing}`;
  const required = decisions
    .filter((d) => d.decision === "required")
    .sort((a, b) => (a.deadline ?? "9").localeCompare(b.deadline ?? "9"));
  const judgment = decisions.filter((d) => d.decision === "judgment");
  return [
    `Notices required (${required.length}; details, reasons and citations in obligations.json):`,
    ...(required.length ? required.map(line) : ["    (none)"]),
    `Needing a documented judgment (${judgment.length}):`,
    ...(judgment.length ? judgment.map(line) : ["    (none)"]),
    "This supports legal advice; it does not replace it.",
  ].join("\n");
}

export const analyzeCommand: Command = {
  name: "analyze",
  summary: "match a vendor dataset to your users: affected people, orgs, admins, exposure",
  help,
  run: async (argv, config) => {
    const o = parseOptions(argv, {
      dataset: { type: "string", multiple: true },
      identities: { type: "string" },
      out: { type: "string" },
      mapping: { type: "string" },
      "aware-at": { type: "string" },
      clock: { type: "string", multiple: true },
      "controller-country": { type: "string" },
      contract: { type: "string" },
      json: { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
    });
    // Settle every option before the long work starts.
    const clocks = parseClocks(o["aware-at"], o.clock);
    if ((o.clock || o["controller-country"] || o.contract) && !clocks.aware) {
      throw usageError("--clock, --controller-country and --contract go with --aware-at ISO");
    }
    const controllerCountry = parseCountry(o["controller-country"], "--controller-country");
    if (o.contract) await loadRuleFile(o.contract, "contract");
    const datasets = requireOption(o.dataset, "--dataset FILE");
    const identitiesDir = requireOption(o.identities, "--identities DIR");
    const outDir = requireOption(o.out, "--out DIR");
    const dirStat = await stat(identitiesDir).catch(() => null);
    if (!dirStat?.isDirectory()) throw badInput(`--identities ${identitiesDir}: not a folder`);
    for (const file of datasets) {
      const s = await stat(file).catch(() => null);
      if (!s?.isFile()) throw badInput(`--dataset ${file}: no such file`);
    }
    const mapping = o.mapping ? await loadMapping(o.mapping) : undefined;
    const bar = terminalProgress(!o.quiet);
    let summary: Summary;
    try {
      summary = await analyzeIncident(config, { datasets, identitiesDir, outDir, mapping }, bar.progress);
    } finally {
      bar.stop();
    }
    let decisions: ObligationDecision[] | null = null;
    if (clocks.aware) {
      decisions = await obligationsForIncident({
        exposure: exposureFromSummary(summary, "summary"),
        clocks,
        controllerCountry,
        contractFile: o.contract,
      });
      await writeFile(path.join(outDir, "obligations.json"), `${JSON.stringify(decisions, null, 2)}\n`);
    }
    if (o.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else if (!o.quiet) {
      const files = `summary.json, people.csv, orgs.csv, quarantine.jsonl${decisions ? ", obligations.json" : ""}`;
      process.stdout.write(`${formatSummary(summary, outDir, files)}\n`);
      if (decisions) process.stdout.write(`${formatObligations(decisions)}\n`);
    }
    for (const issue of summary.identities.rejected_rows.slice(0, 5)) {
      process.stderr.write(
        `warning: ${issue.file}${issue.line ? ` line ${issue.line}` : ""}: ${issue.reason}; row left out\n`,
      );
    }
    if (summary.identities.rejected > 5) {
      process.stderr.write(
        `warning: ${summary.identities.rejected - 5} more identity rows left out (summary.json lists them)\n`,
      );
    }
    return 0;
  },
};
