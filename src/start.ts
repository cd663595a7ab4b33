import { serveUntilSignal } from "./cli/commands/serve.ts";
import { loadConfig } from "./config/env.ts";
import { describeError, exitCodeFor } from "./lib/errors.ts";

/**
 * `npm start`: the server on PORT with the embedded store, seeded with the demo incident on first run;
 * the same as `blastradius serve`. Exits once a signal has stopped it, whatever still holds the loop.
 */
async function start(): Promise<void> {
  const code = await serveUntilSignal(loadConfig());
  process.exit(code);
}

start().catch((error: unknown) => {
  process.stderr.write(`blastradius: ${describeError(error)}\n`);
  process.exitCode = exitCodeFor(error);
});
