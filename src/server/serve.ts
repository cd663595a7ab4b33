import { randomBytes } from "node:crypto";
import type { Context } from "../app/context.ts";
import { openContext } from "../app/open-context.ts";
import { countUsers } from "../auth/accounts.ts";
import type { Config } from "../config/env.ts";
import { seedDemoIfEmpty } from "../demo/seed-demo.ts";
import { ANALYSIS_JOB, analysisJobHandler } from "../impact/incident-analysis.ts";
import { purgeExpired } from "../incidents/purge-incident.ts";
import { requeueExpired } from "../jobs/queue.ts";
import { startWorker, type Worker } from "../jobs/run-worker.ts";
import { NOTIFY_JOB, notifyJobHandler } from "../notify/incident-campaign.ts";
import { startReviewReminders } from "../vendors/vendor-reviews.ts";
import { buildServer } from "./build-server.ts";

export type Running = { url: string; close(): Promise<void> };

const PURGE_EVERY_MS = 3600_000;

/** The job handlers every worker runs, in the server or in `blastradius worker`. */
export function jobHandlers(ctx: Context) {
  return { [ANALYSIS_JOB]: analysisJobHandler(ctx), [NOTIFY_JOB]: notifyJobHandler(ctx) };
}

/**
 * Starts workers that also purge expired incidents now and then. With the embedded store this
 * process is the only one, so jobs marked running belong to a process that died: they go back to
 * the queue at once instead of waiting out their lease.
 */
export async function startWorkers(
  ctx: Context,
  count: number,
  log: (line: string) => void,
): Promise<{ workers: Worker[]; stop(): Promise<void> }> {
  if (ctx.db.kind === "pglite") {
    const n = await requeueExpired(ctx.db, 0);
    if (n > 0) log(`${n} job(s) interrupted by the last shutdown were queued again`);
  }
  const workers = Array.from({ length: count }, () =>
    startWorker({ db: ctx.db, handlers: jobHandlers(ctx), log }),
  );
  const purge = async () => {
    try {
      const purged = await purgeExpired(ctx);
      if (purged.length > 0)
        log(`purged the data of ${purged.length} incident(s) past their retention period`);
    } catch (error) {
      log(`retention purge failed: ${(error as Error).message}`);
    }
  };
  let timer: NodeJS.Timeout | undefined;
  let reminders: { stop(): Promise<void> } | undefined;
  if (count > 0) {
    await purge();
    timer = setInterval(purge, PURGE_EVERY_MS);
    timer.unref();
    // vendor review reminders: once now, then every 24 hours (each vendor is claimed before sending,
    // so several processes never remind twice)
    reminders = startReviewReminders(ctx, log);
  }
  return {
    workers,
    stop: async () => {
      clearInterval(timer);
      await reminders?.stop();
      await Promise.all(workers.map((w) => w.stop()));
    },
  };
}

/**
 * The server: the embedded store (or PostgreSQL), the demo incident on a new store, the API, and
 * in-process workers. Prints where it listens and how to sign in.
 */
export async function serve(
  config: Config,
  options: { out?: (line: string) => void; seedDemo?: boolean } = {},
): Promise<Running> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const ctx = await openContext(config);
  try {
    if (ctx.keyCreated)
      out(
        `Created the encryption key ${config.dataDir}/encryption.key: back it up; sealed data is lost without it.`,
      );
    if (options.seedDemo !== false) {
      const seeded = await seedDemoIfEmpty(ctx);
      if (seeded) out(`Seeded the demo incident ${seeded.incidentId}; its analysis is queued.`);
    }
    let bootstrap: string | null =
      (await countUsers(ctx)) === 0 ? randomBytes(15).toString("base64url") : null;
    const app = await buildServer(ctx, {
      bootstrapCode: () => bootstrap,
      onBootstrapped: () => {
        bootstrap = null;
      },
      log,
    });
    await app.listen({ port: config.port, host: config.host });
    const address = app.server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    const host = config.host.includes(":")
      ? `[${config.host}]`
      : config.host === "0.0.0.0"
        ? "127.0.0.1"
        : config.host;
    const url = `http://${host}:${port}`;
    const workers = await startWorkers(ctx, config.workers, log);
    out(`blastradius is listening on ${url} (API: ${url}/api/v1, document: ${url}/api/v1/openapi.json)`);
    if (bootstrap) {
      out(
        [
          "No account exists yet. Create the first admin with this one-time code (valid until the server stops):",
          `  ${bootstrap}`,
          `Open ${url} in a browser and enter it, or use the API:`,
          `  curl -s ${url}/api/v1/bootstrap -H 'content-type: application/json' \\`,
          `    -d '{"code":"${bootstrap}","email":"you@example.com","password":"a passphrase of 12+ characters"}'`,
          "The answer holds the admin's second-factor secret (otpauth URI): add it to an authenticator app.",
          `Then sign in: POST ${url}/api/v1/session with email, password and totp (the 6-digit code).`,
        ].join("\n"),
      );
    } else {
      out(`Sign in at ${url} (or POST ${url}/api/v1/session with email, password and, if set up, totp).`);
    }
    return {
      url,
      close: async () => {
        await workers.stop();
        await app.close();
        await ctx.close();
      },
    };
  } catch (error) {
    await ctx.close();
    throw error;
  }
}
