import { loadConfig } from "../config/env.ts";
import { AppError, describeError, exitCodeFor, usageError } from "../lib/errors.ts";
import type { Command } from "./command.ts";
import { analyzeCommand } from "./commands/analyze.ts";
import { auditCommand } from "./commands/audit.ts";
import { datasetCommand } from "./commands/dataset.ts";
import { demoDataCommand } from "./commands/demo-data.ts";
import { incidentCommand } from "./commands/incident.ts";
import { lookalikesCommand } from "./commands/lookalikes.ts";
import { notifyCommand } from "./commands/notify.ts";
import { obligationsCommand } from "./commands/obligations.ts";
import { reportCommand } from "./commands/report.ts";
import { scanCommand } from "./commands/scan.ts";
import { serveCommand } from "./commands/serve.ts";
import { userCommand } from "./commands/user.ts";
import { workerCommand } from "./commands/worker.ts";

const commands: readonly Command[] = [
  analyzeCommand,
  obligationsCommand,
  demoDataCommand,
  serveCommand,
  workerCommand,
  incidentCommand,
  datasetCommand,
  userCommand,
  notifyCommand,
  lookalikesCommand,
  reportCommand,
  scanCommand,
  auditCommand,
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
    "Exit codes: 0 success, 1 the work failed, 2 bad usage or bad input.",
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
  const command = commands.find((c) => c.name === name);
  try {
    if (!command)
      throw usageError(`unknown command '${name}'. Commands: ${commands.map((c) => c.name).join(", ")}`);
    if (rest.includes("--help") || rest.includes("-h")) {
      process.stdout.write(`${command.help}\n`);
      return 0;
    }
    const config = loadConfig();
    return await command.run(rest, config);
  } catch (error) {
    process.stderr.write(`blastradius${command ? ` ${command.name}` : ""}: ${describeError(error)}\n`);
    if (error instanceof AppError && error.code === "USAGE" && command) {
      process.stderr.write(`Run 'blastradius ${command.name} --help' for usage.\n`);
    }
    if (!(error instanceof AppError) && process.env.BLASTRADIUS_DEBUG) console.error(error);
    return exitCodeFor(error);
  }
}
