import { stat } from "node:fs/promises";
import { analyzeIncident, type Summary } from "../../impact/analyze-incident.ts";
import { loadMapping } from "../../intake/mapping.ts";
import { badInput } from "../../lib/errors.ts";
import { type Command, parseOptions, requireOption } from "../command.ts";
import { terminalProgress } from "../progress.ts";

const help = `Usage: blastradius analyze --dataset FILE [--dataset FILE ...] --identities DIR --out DIR
                           [--mapping FILE] [--json] [--quiet]

Matches a vendor's exported dataset to your identity store and writes who is affected and which of
their data categories were exposed.

Options:
  --dataset FILE     a dataset file; repeat for several. Mixpanel event or profile export (JSONL or
                     engage page JSON), CSV, JSON array, JSONL or Parquet; .gz or not. The format is
                     detected from the content.
  --identities DIR   folder with users.csv (user_id,email[,name,country,language]), orgs.csv
                     (org_id,name[,country]) and memberships.csv (org_id,user_id,role); .parquet and
                     .jsonl (and .gz) versions are accepted too.
  --out DIR          where to write summary.json, people.csv, orgs.csv and quarantine.jsonl.
  --mapping FILE     YAML that changes the field-to-category mapping (see README).
  --json             print summary.json to stdout.
  --quiet            no progress bar and no summary text.
  -h, --help         this help.

Environment: BLASTRADIUS_MEMORY_LIMIT (default 2GB), BLASTRADIUS_THREADS (default: all cores),
BLASTRADIUS_TEMP_DIR (where DuckDB spills; default the system temp folder).

Exit codes: 0 success, 1 the work failed, 2 bad usage or bad input.

Example:
  blastradius analyze --dataset export.jsonl.gz --dataset profiles.json --identities ./idp --out ./result`;

export function formatSummary(s: Summary, outDir: string): string {
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
    `Results in ${outDir}: summary.json, people.csv, orgs.csv, quarantine.jsonl`,
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
      json: { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
    });
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
    if (o.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else if (!o.quiet) process.stdout.write(`${formatSummary(summary, outDir)}\n`);
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
