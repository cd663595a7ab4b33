import { loadConfig } from "./config/env.ts";
import { describeError, exitCodeFor } from "./lib/errors.ts";
import { serve } from "./server/serve.ts";

/** `npm start`: the server on PORT with the embedded store, seeded with the demo incident on first run. */
async function start(): Promise<void> {
  const running = await serve(loadConfig());
  const stop = async (signal: string) => {
    process.stdout.write(`${signal}: stopping ...\n`);
    await running.close();
    process.exit(0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
}

start().catch((error: unknown) => {
  process.stderr.write(`blastradius: ${describeError(error)}\n`);
  process.exitCode = exitCodeFor(error);
});
