import { stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Context } from "../../app/context.ts";
import { cliActor } from "../../auth/roles.ts";
import type { Config } from "../../config/env.ts";
import { analyzeIncident, type Summary } from "../../impact/analyze-incident.ts";
import {
  type AnalysisRun,
  getRun,
  getRunObligations,
  getRunSummary,
  startAnalysis,
} from "../../impact/incident-analysis.ts";
import { getIncident } from "../../incidents/manage-incidents.ts";
import { loadMapping } from "../../intake/mapping.ts";
import { requeueExpired } from "../../jobs/queue.ts";
import { startWorker } from "../../jobs/run-worker.ts";
import { AppError, badInput, usageError } from "../../lib/errors.ts";
import type { ObligationDecision } from "../../obligations/decide-obligations.ts";
import { loadRuleFile } from "../../obligations/load-rules.ts";
import {
  exposureFromSummary,
  obligationsForIncident,
  parseClocks,
  parseCountry,
} from "../../obligations/obligations-for-incident.ts";
import { jobHandlers } from "../../server/serve.ts";
import { type Command, parseOptions, requireOption, withContext } from "../command.ts";
import { terminalProgress } from "../progress.ts";

const help = `Usage: blastradius analyze --dataset FILE [--dataset FILE ...] --identities DIR --out DIR
                           [--mapping FILE] [--aware-at ISO [--clock NAME=ISO ...]
                           [--controller-country CC] [--contract FILE]] [--json] [--quiet]
       blastradius analyze --incident ID [--wait|--no-wait] [--json] [--quiet]

Matches a vendor's exported dataset to your identity store and writes who is affected and which of
their data categories were exposed.

The first form works on files and needs no store. The second analyses the datasets stored under a
workspace incident ('blastradius dataset add') against BLASTRADIUS_IDENTITIES, and keeps the results
(sealed) in the store as a new analysis run of the incident. By default it runs the analysis in this
process (with any analyses queued before it) and waits: it shows progress, then prints the summary
and the run id, and when the incident has an aware clock, the notices owed. With --no-wait it only
queues the run and prints its id, for a worker to run it ('blastradius worker' on PostgreSQL, or the
server); follow it with 'blastradius incident show ID'.

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
  --incident ID      analyse the incident's stored datasets instead of files (not with --dataset,
                     --identities, --out, --mapping, --aware-at, --clock, --controller-country or
                     --contract: the incident keeps its own mappings, clocks and country).
  --wait             (with --incident) run the analysis here and wait for it; the default.
  --no-wait          (with --incident) only queue the run and print its id.
  --json             print summary.json to stdout (with --incident: {"run": ..., "summary": ...};
                     with --no-wait: the queued run).
  --quiet            no progress bar and no summary text.
  -h, --help         this help.

Environment: BLASTRADIUS_MEMORY_LIMIT (default 2GB), BLASTRADIUS_THREADS (default: all cores),
BLASTRADIUS_TEMP_DIR (where DuckDB spills; default the system temp folder). With --incident also
BLASTRADIUS_IDENTITIES (your identity store export; default BLASTRADIUS_DATA/identities) and the
store: DATABASE_URL (with BLASTRADIUS_ENCRYPTION_KEY) or BLASTRADIUS_DATA (the embedded store's
folder; not while 'blastradius serve' uses it).

Exit codes: 0 success, 1 the work failed (with --incident: the run failed; its error is printed),
2 bad usage or bad input.

Examples:
  blastradius analyze --dataset export.jsonl.gz --dataset profiles.json --identities ./idp --out ./result
  blastradius analyze --incident "$ID"
  RUN=$(blastradius analyze --incident "$ID" --no-wait)`;

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
export function formatObligations(
  decisions: readonly ObligationDecision[],
  detailsIn = "obligations.json",
): string {
  const line = (d: ObligationDecision) =>
    `    ${`${d.regime} ${d.audience}`.padEnd(24)} ${String(d.people).padStart(8)} people  ${d.deadline ? `by ${d.deadline}` : d.timing}`;
  const required = decisions
    .filter((d) => d.decision === "required")
    .sort((a, b) => (a.deadline ?? "9").localeCompare(b.deadline ?? "9"));
  const judgment = decisions.filter((d) => d.decision === "judgment");
  return [
    `Notices required (${required.length}; details, reasons and citations in ${detailsIn}):`,
    ...(required.length ? required.map(line) : ["    (none)"]),
    `Needing a documented judgment (${judgment.length}):`,
    ...(judgment.length ? judgment.map(line) : ["    (none)"]),
    "This supports legal advice; it does not replace it.",
  ].join("\n");
}

const print = (line: string) => process.stdout.write(`${line}\n`);

/**
 * The bar's total is fixed when it starts, but a run's stages count different things (datasets
 * unsealed, analysis steps, results stored): a new total starts a new bar.
 */
function runProgress(enabled: boolean) {
  let bar = terminalProgress(enabled);
  let total: number | undefined;
  let last = "";
  return {
    show: (p: { stage: string; done: number; total: number } | null | undefined) => {
      if (!p) return;
      const key = `${p.stage}\u0000${p.done}\u0000${p.total}`;
      if (key === last) return;
      last = key;
      if (total !== undefined && p.total !== total) {
        bar.stop();
        bar = terminalProgress(enabled);
      }
      total = p.total;
      bar.progress(p.stage, p.done, p.total);
    },
    stop: () => bar.stop(),
  };
}

/** Runs jobs in this process until the run has ended (or a signal says stop), showing its progress. */
async function runHere(ctx: Context, queued: AnalysisRun, showProgress: boolean): Promise<AnalysisRun> {
  // With the embedded store this process holds the only lock: jobs marked running are orphans.
  if (ctx.db.kind === "pglite") await requeueExpired(ctx.db, 0);
  const debug = process.env.BLASTRADIUS_DEBUG;
  const worker = startWorker({
    db: ctx.db,
    handlers: jobHandlers(ctx),
    pollMs: 200,
    progressMs: 500,
    log: (line) => {
      if (debug) process.stderr.write(`${line}\n`);
    },
  });
  let interrupted: string | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = signal;
    process.stderr.write(
      `\n${signal}: stopping once the running step ends; press Ctrl-C again to quit at once (the run then goes back to the queue)\n`,
    );
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const bar = runProgress(showProgress);
  let run = queued;
  try {
    while (!interrupted) {
      run = await getRun(ctx, cliActor, run.incident_id, run.id);
      bar.show(run.job?.progress);
      if (run.status === "succeeded" || run.status === "failed") break;
      await sleep(250);
    }
  } finally {
    bar.stop();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await worker.stop();
  }
  run = await getRun(ctx, cliActor, run.incident_id, run.id);
  if (interrupted && run.status !== "succeeded" && run.status !== "failed") {
    throw new AppError(
      "WORK_FAILED",
      `interrupted by ${interrupted}: analysis run ${run.id} is ${run.status === "queued" ? "back in the queue" : run.status}; the server or a worker runs it, or see 'blastradius incident show ${run.incident_id}'`,
    );
  }
  return run;
}

/** analyze --incident: a run of the incident's stored datasets, run here and awaited unless --no-wait. */
async function analyzeStoredIncident(
  config: Config,
  opts: { incidentId: string; wait: boolean; json: boolean; quiet: boolean },
): Promise<number> {
  return withContext(config, async (ctx) => {
    const queued = await startAnalysis(ctx, cliActor, opts.incidentId);
    if (!opts.wait) {
      if (opts.json) print(JSON.stringify(queued, null, 2));
      else {
        print(queued.id);
        if (!opts.quiet) {
          process.stderr.write(
            `analysis run ${queued.id} queued; a worker runs it (the server, or 'blastradius worker' with DATABASE_URL). ` +
              `Follow it with: blastradius incident show ${opts.incidentId}\n`,
          );
        }
      }
      return 0;
    }
    const run = await runHere(ctx, queued, !opts.quiet);
    if (run.status === "failed") {
      if (opts.json) print(JSON.stringify({ run }, null, 2));
      throw new AppError(
        "WORK_FAILED",
        `analysis run ${run.id} failed after ${run.job?.attempts ?? 0} attempt(s): ${run.job?.error ?? "no error recorded"}`,
      );
    }
    const summary = await getRunSummary(ctx, cliActor, opts.incidentId, run.id);
    if (opts.json) print(JSON.stringify({ run, summary }, null, 2));
    else if (!opts.quiet) {
      const where = `the store (incident ${opts.incidentId}, analysis run ${run.id})`;
      const files = `the summary, affected people and organisations (API: /api/v1/incidents/${opts.incidentId}/analyses/${run.id}/people and /orgs)`;
      print(formatSummary(summary, where, files));
      const incident = await getIncident(ctx, cliActor, opts.incidentId);
      if (incident.clocks.aware) {
        const decisions = await getRunObligations(ctx, cliActor, opts.incidentId, run.id);
        print(formatObligations(decisions, `the API's .../analyses/${run.id}/obligations`));
      } else {
        print(
          `Notices owed: set the aware clock first (blastradius incident clock ${opts.incidentId} aware ISO)`,
        );
      }
      print(`Analysis run: ${run.id}`);
    }
    if (summary.identities.rejected > 0) {
      process.stderr.write(
        `warning: ${summary.identities.rejected} identity rows left out (unreadable or incomplete rows in BLASTRADIUS_IDENTITIES)\n`,
      );
    }
    return 0;
  });
}

export const analyzeCommand: Command = {
  name: "analyze",
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
      incident: { type: "string" },
      wait: { type: "boolean" },
      "no-wait": { type: "boolean" },
      json: { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
    });
    if (o.incident !== undefined) {
      const fileOnly = (
        [
          "dataset",
          "identities",
          "out",
          "mapping",
          "aware-at",
          "clock",
          "controller-country",
          "contract",
        ] as const
      ).filter((k) => o[k] !== undefined);
      if (fileOnly.length > 0) {
        throw usageError(
          `--incident analyses the incident's stored datasets; it does not go with ${fileOnly.map((k) => `--${k}`).join(", ")}`,
        );
      }
      if (o.wait && o["no-wait"]) throw usageError("--wait and --no-wait contradict each other");
      const incidentId = requireOption(o.incident, "--incident ID");
      return analyzeStoredIncident(config, {
        incidentId,
        wait: !o["no-wait"],
        json: o.json,
        quiet: o.quiet,
      });
    }
    if (o.wait || o["no-wait"]) throw usageError("--wait and --no-wait go with --incident ID");
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
