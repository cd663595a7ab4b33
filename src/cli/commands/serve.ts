import type { Config } from "../../config/env.ts";
import { serve } from "../../server/serve.ts";
import { type Command, parseOptions } from "../command.ts";

const help = `Usage: blastradius serve

Runs the incident workspace: the web UI and its API on HOST:PORT with the store, and job workers
that run the analyses and campaigns. The UI is served from web/dist (built by npm install, or
'npm run build:web'). On a new embedded store without an identity store it seeds a demo
incident. It prints where it listens and, while no account exists, a one-time code to create the
first admin in the browser (or run 'blastradius user bootstrap' before starting it). 'npm start'
runs the same.
Stops gracefully on SIGINT (Ctrl-C) or SIGTERM: running jobs go back to the queue.

Options:
  -h, --help   this help

Environment:
  PORT                        TCP port to listen on (default 8080; 0 picks a free one)
  HOST                        address to listen on (default 127.0.0.1; 0.0.0.0 for all)
  BLASTRADIUS_DATA            the embedded store's folder: database, sealed datasets and, without
                              BLASTRADIUS_ENCRYPTION_KEY, the key file (default ./.blastradius).
                              The embedded store serves one process: other commands cannot use it
                              while the server runs.
  DATABASE_URL                a PostgreSQL server instead (postgres://user@host:5432/db); lets
                              several servers, 'blastradius worker' processes and the CLI share it
  BLASTRADIUS_ENCRYPTION_KEY  32 random bytes in base64 (openssl rand -base64 32) that seal personal
                              data at rest; required with DATABASE_URL, else a key file is created
  BLASTRADIUS_IDENTITIES      folder with your identity store export (users, orgs, memberships) that
                              analyses match against (default BLASTRADIUS_DATA/identities)
  BLASTRADIUS_MAX_UPLOAD      largest dataset upload (default 20GB)
  BLASTRADIUS_WORKERS         job workers inside the server (default 1; 0 leaves the jobs to separate
                              'blastradius worker' processes, which need DATABASE_URL)
  BLASTRADIUS_TRUST_PROXY     true behind a reverse proxy: trust X-Forwarded-* (default false)
  BLASTRADIUS_MEMORY_LIMIT, BLASTRADIUS_THREADS, BLASTRADIUS_TEMP_DIR: as for 'analyze'.

Exit codes: 0 stopped by a signal, 1 the server failed (e.g. the store is in use), 2 bad usage or
a bad setting.

Examples:
  blastradius serve
  PORT=9000 HOST=0.0.0.0 BLASTRADIUS_DATA=/srv/blastradius blastradius serve
  DATABASE_URL=postgres://br@db/br BLASTRADIUS_ENCRYPTION_KEY=... BLASTRADIUS_WORKERS=0 blastradius serve`;

/** The server until SIGINT or SIGTERM, then a graceful stop; what both 'serve' and 'npm start' run. */
export async function serveUntilSignal(config: Config): Promise<number> {
  const running = await serve(config);
  const signal = await new Promise<string>((resolve) => {
    const on = (name: NodeJS.Signals) => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      resolve(name);
    };
    const onInt = () => on("SIGINT");
    const onTerm = () => on("SIGTERM");
    process.once("SIGINT", onInt);
    process.once("SIGTERM", onTerm);
  });
  process.stdout.write(`${signal}: stopping ...\n`);
  await running.close();
  return 0;
}

export const serveCommand: Command = {
  name: "serve",
  help,
  run: (argv, config) => {
    parseOptions(argv, {});
    return serveUntilSignal(config);
  },
};
