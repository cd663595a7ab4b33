import { usageError } from "../../lib/errors.ts";
import { startWorkers } from "../../server/serve.ts";
import { type Command, parseOptions, positiveInt, withContext } from "../command.ts";

const MAX_CONCURRENCY = 64;

const help = `Usage: blastradius worker [--concurrency N]

Runs job workers (the analyses started in the web app, the API or with 'analyze --incident
--no-wait') against a shared PostgreSQL store, until SIGINT (Ctrl-C) or SIGTERM. Start as many
worker processes, on as many machines, as you like: each job goes to one of them. A stop is
graceful: a job that is running goes back to the queue for another worker. Workers also purge
incidents past their retention period, hourly.

The embedded store serves one process, so there the server runs the jobs itself
(BLASTRADIUS_WORKERS); this command needs DATABASE_URL.

Options:
  --concurrency N  jobs to run at the same time in this process, 1 to ${MAX_CONCURRENCY} (default 1); each
                   analysis uses BLASTRADIUS_THREADS and BLASTRADIUS_MEMORY_LIMIT
  -h, --help       this help

Environment:
  DATABASE_URL                the PostgreSQL server the servers use (required)
  BLASTRADIUS_ENCRYPTION_KEY  the same key the servers use (required with DATABASE_URL)
  BLASTRADIUS_DATA            the folder with the sealed datasets: the one the servers use (shared
                              storage when workers run on other machines)
  BLASTRADIUS_IDENTITIES      your identity store export (default BLASTRADIUS_DATA/identities)
  BLASTRADIUS_MEMORY_LIMIT, BLASTRADIUS_THREADS, BLASTRADIUS_TEMP_DIR: as for 'analyze'.

Exit codes: 0 stopped by a signal, 1 the work failed (e.g. the database is unreachable), 2 bad
usage or a bad setting (such as no DATABASE_URL).

Examples:
  DATABASE_URL=postgres://br@db/br BLASTRADIUS_ENCRYPTION_KEY=... blastradius worker
  blastradius worker --concurrency 2`;

const untilSignal = () =>
  new Promise<NodeJS.Signals>((resolve) => {
    const onInt = () => done("SIGINT");
    const onTerm = () => done("SIGTERM");
    const done = (name: NodeJS.Signals) => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      resolve(name);
    };
    process.once("SIGINT", onInt);
    process.once("SIGTERM", onTerm);
  });

export const workerCommand: Command = {
  name: "worker",
  help,
  run: async (argv, config) => {
    const o = parseOptions(argv, { concurrency: { type: "string" } });
    const count = positiveInt(o.concurrency, "--concurrency", 1);
    if (count > MAX_CONCURRENCY)
      throw usageError(`--concurrency must be at most ${MAX_CONCURRENCY} (got ${count})`);
    if (!config.databaseUrl) {
      throw usageError(
        "separate workers need a shared PostgreSQL: set DATABASE_URL (with the embedded store, the server runs the jobs itself)",
      );
    }
    const log = (line: string) => process.stderr.write(`${line}\n`);
    return withContext(config, async (ctx) => {
      const stopped = untilSignal();
      const workers = await startWorkers(ctx, count, log);
      log(`${count} worker${count === 1 ? "" : "s"} running; SIGINT (Ctrl-C) or SIGTERM stops them`);
      const signal = await stopped;
      log(`${signal}: stopping; a running job goes back to the queue ...`);
      await workers.stop();
      log("workers stopped");
      return 0;
    });
  },
};
