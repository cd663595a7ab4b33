import type { Context } from "../../app/context.ts";
import { cliActor } from "../../auth/roles.ts";
import { listDatasets } from "../../datasets/manage-datasets.ts";
import { listRuns } from "../../impact/incident-analysis.ts";
import {
  addTimelineEntry,
  createIncident,
  getIncident,
  INCIDENT_STATUSES,
  type Incident,
  type IncidentInput,
  type IncidentStatus,
  listDecisions,
  listIncidents,
  listTimeline,
  parseInstant,
  recordDecision,
  setClock,
  updateIncident,
} from "../../incidents/manage-incidents.ts";
import { badInput, usageError } from "../../lib/errors.ts";
import { CLOCKS, type ClockName } from "../../obligations/rule-schema.ts";
import {
  type Command,
  expectArguments,
  parseCommandLine,
  positiveInt,
  subcommandError,
  withContext,
} from "../command.ts";

const SUBCOMMANDS = ["list", "create", "show", "update", "clock", "note", "decide"] as const;

const help = `Usage: blastradius incident list [--json]
       blastradius incident create --title T [--vendor ID] [--description D] [--controller-country CC]
                                   [--status S] [--retention-days N] [--clock NAME=ISO ...] [--json]
       blastradius incident show ID [--json]
       blastradius incident update ID [--title T] [--status S] [--vendor ID] [--description D]
                                      [--controller-country CC] [--retention-days N] [--json]
       blastradius incident clock ID NAME ISO|--clear [--json]
       blastradius incident note ID --body TEXT [--kind K] [--at ISO] [--json]
       blastradius incident decide ID --subject S --decision D --rationale R [--json]

Incidents in the workspace store: what happened, with which vendor, its clocks (each kept apart,
as the deadlines run from different ones), its timeline and its documented decisions. Everything
done here is recorded in the audit log with the actor "cli".

list    all incidents, newest first: id, status, when opened, title.
create  opens an incident and prints its id (only the id, so scripts can keep it).
show    the incident with its clocks, datasets, analysis runs, timeline and decisions.
update  changes the fields given. An empty value (--vendor "") clears vendor, description or
        controller country. Closing (--status closed) starts the retention period.
clock   sets a clock to an instant, or removes it with --clear. Clocks: ${CLOCKS.join(", ")}.
        dataset_received is set by the first dataset upload unless set by hand.
note    adds a timeline entry (default kind note, at now).
decide  records a decision with its rationale. A subject REGIME:AUDIENCE (e.g. eu-gdpr:individuals)
        with decision required or not_required answers that regime's judgment question in the
        obligations.

Options:
  --title T                 a short name for the incident
  --vendor ID               the vendor's id (vendors are managed in the web app or the API)
  --description D           what is known so far
  --controller-country CC   where you are established, ISO 3166-1 alpha-2 (decides the GDPR lead
                            authority)
  --status S                one of ${INCIDENT_STATUSES.join(", ")} (create: default open)
  --retention-days N        days the incident's data is kept after it is closed (default 365)
  --clock NAME=ISO          (create) a clock, repeatable, e.g. --clock aware=2025-11-25T18:00:00Z
  --clear                   (clock) remove the clock instead of setting it
  --body TEXT               (note) what happened
  --kind K                  (note) a short lower-case word such as note, call or email
  --at ISO                  (note) when it happened (default now)
  --subject S               (decide) what was decided about
  --decision D              (decide) the decision
  --rationale R             (decide) why
  --json                    print JSON instead of text
  -h, --help                this help

Times are ISO-8601 with an offset, such as 2025-11-25T18:00:00Z or 2025-11-25T19:00:00+01:00.

Environment: DATABASE_URL (a PostgreSQL server, with BLASTRADIUS_ENCRYPTION_KEY) or BLASTRADIUS_DATA
(the embedded store's folder; not while 'blastradius serve' uses it).

Exit codes: 0 success, 1 the work failed (e.g. the store is in use), 2 bad usage, bad input or no
such incident.

Examples:
  ID=$(blastradius incident create --title "Analytics vendor breach" --clock vendor_notified=2025-11-24T09:00:00Z)
  blastradius incident clock "$ID" aware 2025-11-25T18:00:00Z
  blastradius incident note "$ID" --kind call --body "Vendor confirmed the export covers October"
  blastradius incident decide "$ID" --subject eu-gdpr:individuals --decision not_required \\
    --rationale "Only pseudonymous ids exposed; low risk (Art. 34(3)(a))"
  blastradius incident update "$ID" --status notifying
  blastradius incident show "$ID"`;

const print = (line: string) => process.stdout.write(`${line}\n`);
const printJson = (value: unknown) => print(JSON.stringify(value, null, 2));

function nonEmpty(value: string | undefined, flag: string): string | undefined {
  if (value !== undefined && !value.trim()) throw usageError(`${flag} must not be empty`);
  return value;
}

function status(value: string | undefined): IncidentStatus | undefined {
  if (value === undefined) return undefined;
  if (!(INCIDENT_STATUSES as readonly string[]).includes(value)) {
    throw usageError(
      `--status must be one of ${INCIDENT_STATUSES.join(", ")} (got ${JSON.stringify(value)})`,
    );
  }
  return value as IncidentStatus;
}

function country(value: string | undefined): string | null | undefined {
  if (value === undefined || value === "") return value === "" ? null : undefined;
  const cc = value.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(cc)) {
    throw usageError(
      `--controller-country ${JSON.stringify(value)} is not an ISO 3166-1 alpha-2 country code such as DE`,
    );
  }
  return cc;
}

function clockName(value: string, where: string): ClockName {
  if (!(CLOCKS as readonly string[]).includes(value)) {
    throw usageError(`${where} ${JSON.stringify(value)} is not a clock: use one of ${CLOCKS.join(", ")}`);
  }
  return value as ClockName;
}

/** Checked here so the message names the option; the store checks again. */
function instant(value: string, where: string): string {
  try {
    return parseInstant(value, where).toISOString();
  } catch {
    throw badInput(
      `${where} ${JSON.stringify(value)}: expected an ISO-8601 time with offset, such as 2025-11-25T18:00:00Z`,
    );
  }
}

function parseClockArgs(args: readonly string[] = []): Partial<Record<ClockName, string>> {
  const clocks: Partial<Record<ClockName, string>> = {};
  for (const arg of args) {
    const eq = arg.indexOf("=");
    if (eq < 1) throw usageError(`--clock ${JSON.stringify(arg)}: expected NAME=ISO`);
    const name = clockName(arg.slice(0, eq), "--clock");
    clocks[name] = instant(arg.slice(eq + 1), `--clock ${name}`);
  }
  return clocks;
}

const incidentOptions = {
  title: { type: "string" },
  vendor: { type: "string" },
  description: { type: "string" },
  "controller-country": { type: "string" },
  status: { type: "string" },
  "retention-days": { type: "string" },
  json: { type: "boolean", default: false },
} as const;

/** The fields options set; an empty value clears the nullable ones. */
function incidentInput(o: {
  title?: string;
  vendor?: string;
  description?: string;
  "controller-country"?: string;
  status?: string;
  "retention-days"?: string;
}): IncidentInput {
  const input: IncidentInput = {};
  if (o.title !== undefined) input.title = nonEmpty(o.title, "--title");
  if (o.vendor !== undefined) input.vendor_id = o.vendor.trim() || null;
  if (o.description !== undefined) input.description = o.description || null;
  const cc = country(o["controller-country"]);
  if (cc !== undefined) input.controller_country = cc;
  const s = status(o.status);
  if (s !== undefined) input.status = s;
  if (o["retention-days"] !== undefined)
    input.retention_days = positiveInt(o["retention-days"], "--retention-days", 365);
  return input;
}

const day = (iso: string | null) => (iso ? iso.slice(0, 16).replace("T", " ") : "-");

export function formatIncidentList(incidents: readonly Incident[]): string[] {
  return incidents.map((i) => `${i.id}  ${i.status.padEnd(10)}  ${day(i.created_at)}  ${i.title}`);
}

type Shown = Incident & {
  datasets: Awaited<ReturnType<typeof listDatasets>>;
  runs: Awaited<ReturnType<typeof listRuns>>;
  timeline: Awaited<ReturnType<typeof listTimeline>>;
  decisions: Awaited<ReturnType<typeof listDecisions>>;
};

export function formatIncident(i: Shown): string {
  const lines = [
    `Incident ${i.id}: ${i.title}`,
    `  status ${i.status}; vendor ${i.vendor_id ?? "-"}; controller country ${i.controller_country ?? "-"}; retention ${i.retention_days} days after closing`,
    `  opened ${i.created_at}; updated ${i.updated_at}${i.closed_at ? `; closed ${i.closed_at}` : ""}${i.purged_at ? `; data purged ${i.purged_at}` : ""}`,
  ];
  if (i.description) lines.push(`  ${i.description}`);
  const clocks = CLOCKS.filter((c) => i.clocks[c]);
  lines.push(
    "Clocks:",
    ...(clocks.length ? clocks.map((c) => `  ${c.padEnd(16)} ${i.clocks[c]}`) : ["  (none)"]),
  );
  lines.push(
    `Datasets (${i.datasets.length}):`,
    ...i.datasets.map(
      (d) =>
        `  ${d.id}  ${d.status.padEnd(7)} ${String(d.bytes).padStart(12)} bytes  sha256 ${d.sha256}  ${d.file_name}`,
    ),
  );
  lines.push(
    `Analysis runs (${i.runs.length}):`,
    ...i.runs.map(
      (r) =>
        `  ${r.id}  ${r.status.padEnd(9)}  started ${day(r.created_at)}${r.finished_at ? `, finished ${day(r.finished_at)}` : ""}` +
        (r.status === "failed" && r.job?.error ? `: ${r.job.error}` : ""),
    ),
  );
  lines.push(
    `Timeline (${i.timeline.length}):`,
    ...i.timeline.map((t) => `  ${t.at}  ${t.kind}: ${t.body}${t.author ? ` (${t.author})` : ""}`),
  );
  lines.push(
    `Decisions (${i.decisions.length}):`,
    ...i.decisions.map(
      (d) =>
        `  ${d.decided_at}  ${d.subject}: ${d.decision} (${d.decided_by ?? "?"})\n      because ${d.rationale}`,
    ),
  );
  return lines.join("\n");
}

/** Everything a subcommand needs once its options are settled; runs with the store open. */
type Work = (ctx: Context) => Promise<number>;

function plan(sub: string | undefined, argv: readonly string[]): Work {
  switch (sub) {
    case "list": {
      const { values: o, positionals } = parseCommandLine(argv, {
        json: { type: "boolean", default: false },
      });
      expectArguments(positionals, []);
      return async (ctx) => {
        const incidents = await listIncidents(ctx, cliActor);
        if (o.json) printJson(incidents);
        else if (incidents.length === 0)
          process.stderr.write("(no incidents yet: blastradius incident create --title T)\n");
        else print(formatIncidentList(incidents).join("\n"));
        return 0;
      };
    }
    case "create": {
      const { values: o, positionals } = parseCommandLine(argv, {
        ...incidentOptions,
        clock: { type: "string", multiple: true },
      });
      expectArguments(positionals, []);
      if (o.title === undefined) throw usageError("missing required option --title T");
      const input = incidentInput(o);
      const clocks = parseClockArgs(o.clock);
      return async (ctx) => {
        const incident = await createIncident(ctx, cliActor, { ...input, clocks });
        if (o.json) printJson(incident);
        else print(incident.id);
        return 0;
      };
    }
    case "show": {
      const { values: o, positionals } = parseCommandLine(argv, {
        json: { type: "boolean", default: false },
      });
      const [id = ""] = expectArguments(positionals, ["ID"]);
      return async (ctx) => {
        const incident = await getIncident(ctx, cliActor, id);
        const shown: Shown = {
          ...incident,
          datasets: await listDatasets(ctx, cliActor, id),
          runs: await listRuns(ctx, cliActor, id),
          timeline: await listTimeline(ctx, cliActor, id),
          decisions: await listDecisions(ctx, cliActor, id),
        };
        print(o.json ? JSON.stringify(shown, null, 2) : formatIncident(shown));
        return 0;
      };
    }
    case "update": {
      const { values: o, positionals } = parseCommandLine(argv, incidentOptions);
      const [id = ""] = expectArguments(positionals, ["ID"]);
      const input = incidentInput(o);
      if (Object.keys(input).length === 0) {
        throw usageError(
          "nothing to change: give --title, --status, --vendor, --description, --controller-country or --retention-days",
        );
      }
      return async (ctx) => {
        const incident = await updateIncident(ctx, cliActor, id, input);
        if (o.json) printJson(incident);
        else
          print(
            `updated incident ${incident.id} (${Object.keys(input).join(", ")}); status ${incident.status}`,
          );
        return 0;
      };
    }
    case "clock": {
      const { values: o, positionals } = parseCommandLine(argv, {
        clear: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
      });
      const names = o.clear ? ["ID", "NAME"] : ["ID", "NAME", "ISO (or --clear)"];
      const [id = "", name = "", at] = expectArguments(positionals, names);
      const clock = clockName(name, "NAME");
      const when = at === undefined ? null : instant(at, clock);
      return async (ctx) => {
        const incident = await setClock(ctx, cliActor, id, clock, when);
        if (o.json) printJson(incident);
        else print(`incident ${incident.id}: ${clock} ${when ? `set to ${when}` : "cleared"}`);
        return 0;
      };
    }
    case "note": {
      const { values: o, positionals } = parseCommandLine(argv, {
        body: { type: "string" },
        kind: { type: "string" },
        at: { type: "string" },
        json: { type: "boolean", default: false },
      });
      const [id = ""] = expectArguments(positionals, ["ID"]);
      if (!o.body?.trim()) throw usageError("missing required option --body TEXT");
      if (o.kind !== undefined && !/^[a-z][a-z0-9_]{0,39}$/.test(o.kind.trim())) {
        throw usageError(
          `--kind must be a short lower-case word such as note or call (got ${JSON.stringify(o.kind)})`,
        );
      }
      const at = o.at === undefined ? undefined : instant(o.at, "--at");
      const body = o.body;
      return async (ctx) => {
        const entry = await addTimelineEntry(ctx, cliActor, id, { body, kind: o.kind, at });
        if (o.json) printJson(entry);
        else print(`added ${entry.kind} ${entry.id} at ${entry.at} to incident ${id}`);
        return 0;
      };
    }
    case "decide": {
      const { values: o, positionals } = parseCommandLine(argv, {
        subject: { type: "string" },
        decision: { type: "string" },
        rationale: { type: "string" },
        json: { type: "boolean", default: false },
      });
      const [id = ""] = expectArguments(positionals, ["ID"]);
      const input = {
        subject: "",
        decision: "",
        rationale: "",
      };
      for (const field of ["subject", "decision", "rationale"] as const) {
        const value = o[field];
        if (!value?.trim()) throw usageError(`missing required option --${field} ${field[0]?.toUpperCase()}`);
        input[field] = value;
      }
      return async (ctx) => {
        const decision = await recordDecision(ctx, cliActor, id, input);
        if (o.json) printJson(decision);
        else
          print(
            `recorded decision ${decision.id} on incident ${id}: ${decision.subject} ${decision.decision}`,
          );
        return 0;
      };
    }
    default:
      throw subcommandError(sub, SUBCOMMANDS);
  }
}

export const incidentCommand: Command = {
  name: "incident",
  help,
  run: async (argv, config) => {
    const [sub, ...rest] = argv;
    // Options are checked before the store is opened, so a typo never waits on a busy store.
    const work = plan(sub, rest);
    return withContext(config, work);
  },
};
