import { loadConfig } from "../config/env.ts";
import { AppError, describeError, exitCodeFor, usageError } from "../lib/errors.ts";
import type { Command } from "./command.ts";

/**
 * Each command's module is loaded only when it runs (or prints its help): loading them all made
 * every start pay for Chromium's driver, DuckDB, Fastify and the rest.
 */
type Entry = Readonly<{ name: string; summary: string; load: () => Promise<Command> }>;

const commands: readonly Entry[] = [
  {
    name: "analyze",
    summary: "match a vendor dataset to your users: affected people, orgs, admins, exposure",
    load: async () => (await import("./commands/analyze.ts")).analyzeCommand,
  },
  {
    name: "obligations",
    summary: "decide which notices are owed, to whom and by when, from a summary.json",
    load: async () => (await import("./commands/obligations.ts")).obligationsCommand,
  },
  {
    name: "demo-data",
    summary: "write a synthetic incident (vendor exports, identity store, expected results)",
    load: async () => (await import("./commands/demo-data.ts")).demoDataCommand,
  },
  {
    name: "serve",
    summary: "run the incident workspace: the web UI, its API and the job workers (what npm start runs)",
    load: async () => (await import("./commands/serve.ts")).serveCommand,
  },
  {
    name: "worker",
    summary: "run analysis jobs from a shared PostgreSQL store (beside servers with BLASTRADIUS_WORKERS=0)",
    load: async () => (await import("./commands/worker.ts")).workerCommand,
  },
  {
    name: "incident",
    summary: "open, list, show and update incidents; set clocks, add timeline notes, record decisions",
    load: async () => (await import("./commands/incident.ts")).incidentCommand,
  },
  {
    name: "dataset",
    summary: "store a vendor's dataset files under an incident (sealed), list them, set their mapping",
    load: async () => (await import("./commands/dataset.ts")).datasetCommand,
  },
  {
    name: "user",
    summary: "create the first admin, add accounts, list accounts",
    load: async () => (await import("./commands/user.ts")).userCommand,
  },
  {
    name: "notify",
    summary: "tell affected people and org admins: preview, send, resume, bounces, export",
    load: async () => (await import("./commands/notify.ts")).notifyCommand,
  },
  {
    name: "lookalikes",
    summary: "lookalike domains of yours (typos, homoglyphs, combosquats) and a feed check for them",
    load: async () => (await import("./commands/lookalikes.ts")).lookalikesCommand,
  },
  {
    name: "verify-email",
    summary: "is this message really from us? DKIM, SPF, DMARC, lookalike senders and links",
    load: async () => (await import("./commands/verify-email.ts")).verifyEmailCommand,
  },
  {
    name: "report",
    summary:
      "write an incident's regulator notification draft (GDPR Art. 33) or incident report, as Markdown or PDF",
    load: async () => (await import("./commands/report.ts")).reportCommand,
  },
  {
    name: "scan",
    summary: "find which personal data your web front-end sends to which vendor (real Chromium)",
    load: async () => (await import("./commands/scan.ts")).scanCommand,
  },
  {
    name: "vendors",
    summary: "vendors as code: validate, import and export the inventory (also Fides); attach scans",
    load: async () => (await import("./commands/vendors.ts")).vendorsCommand,
  },
  {
    name: "review",
    summary: "vendor requirement sets, review reminders, the review dashboard and offboarding checklists",
    load: async () => (await import("./commands/vendor-review.ts")).reviewCommand,
  },
  {
    name: "audit",
    summary: "verify the audit log's hash chain, or list its events",
    load: async () => (await import("./commands/audit.ts")).auditCommand,
  },
];

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    "blastradius: work out exactly who a vendor breach affects, and what of theirs was exposed.",
    "",
    "Usage: blastradius <command> [options]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Run 'blastradius <command> --help' for a command's options.",
    "Exit codes: 0 success, 1 the work failed, 2 bad usage or bad input, 3 a gate failed (scan",
    "--fail-on-undeclared, verify-email --fail-on).",
  ].join("\n");
}

/** The CLI's only entry: returns the exit code, prints results to stdout and messages to stderr. */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${overview()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === "--version") {
    process.stdout.write("blastradius 0.1.0\n");
    return 0;
  }
  const entry = commands.find((c) => c.name === name);
  try {
    if (!entry)
      throw usageError(`unknown command '${name}'. Commands: ${commands.map((c) => c.name).join(", ")}`);
    const command = await entry.load();
    if (rest.includes("--help") || rest.includes("-h")) {
      process.stdout.write(`${command.help}\n`);
      return 0;
    }
    const config = loadConfig();
    return await command.run(rest, config);
  } catch (error) {
    process.stderr.write(`blastradius${entry ? ` ${entry.name}` : ""}: ${describeError(error)}\n`);
    if (error instanceof AppError && error.code === "USAGE" && entry) {
      process.stderr.write(`Run 'blastradius ${entry.name} --help' for usage.\n`);
    }
    if (!(error instanceof AppError) && process.env.BLASTRADIUS_DEBUG) console.error(error);
    return exitCodeFor(error);
  }
}
