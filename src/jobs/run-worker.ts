import { randomBytes } from "node:crypto";
import os from "node:os";
import { AppError } from "../lib/errors.ts";
import type { Db, Queryable } from "../store/db.ts";
import {
  claim,
  fail,
  finish,
  heartbeat,
  type Job,
  type JobProgress,
  release,
  requeueExpired,
} from "./queue.ts";

/**
 * The worker loop: claims one job at a time, keeps its lease alive while the handler works, and
 * records the outcome. Log lines name the job, its kind and the outcome only: payloads and error
 * messages may carry personal data, and the error is kept on the job (last_error) for those allowed
 * to read it.
 */

export type JobContext = {
  job: Job;
  db: Db;
  /** cheap to call often: the latest value is written within progressMs (or with the next heartbeat) */
  progress: (p: JobProgress) => void;
  /** aborted when the worker stops or the job's lease is lost; long work should check it */
  signal: AbortSignal;
  /**
   * Commits `work` (the job's writes, on `tx` only) together with the job's completion, its return
   * value becoming the job's result. Throws AppError("CONFLICT") when the lease was lost, with
   * nothing written: another worker owns the job now.
   */
  finish: (work: (tx: Queryable) => Promise<unknown>) => Promise<void>;
};

export type JobHandler = (ctx: JobContext) => Promise<void>;

export type WorkerOptions = {
  db: Db;
  workerId?: string;
  handlers: Record<string, JobHandler>;
  /** how long to wait before asking again when the queue is empty (default 1000) */
  pollMs?: number;
  /** how long without a heartbeat before a job's worker is presumed dead (default 30000) */
  leaseMs?: number;
  /** default leaseMs / 3, so two beats can be missed before the lease runs out */
  heartbeatMs?: number;
  /** how soon reported progress reaches the store, at most one write per period (default 1000) */
  progressMs?: number;
  log?: (line: string) => void;
};

export type Worker = {
  readonly workerId: string;
  /** stops claiming, aborts the running job's signal, and resolves once that job has ended */
  stop(): Promise<void>;
  /** resolves the next time the worker, having looked after this call, finds nothing to do */
  idle(): Promise<void>;
};

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

export function startWorker(opts: WorkerOptions): Worker {
  const { db, handlers } = opts;
  const workerId = opts.workerId ?? `${os.hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  const pollMs = opts.pollMs ?? 1000;
  const leaseMs = opts.leaseMs ?? 30_000;
  const heartbeatMs = opts.heartbeatMs ?? Math.max(1, Math.floor(leaseMs / 3));
  const progressMs = opts.progressMs ?? 1000;
  if (!(heartbeatMs > 0 && heartbeatMs < leaseMs)) {
    throw new AppError(
      "BAD_INPUT",
      `heartbeatMs (${heartbeatMs}) must be above 0 and below leaseMs (${leaseMs})`,
    );
  }
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const kinds = Object.keys(handlers);
  const stopping = new AbortController();
  const sweepEveryMs = leaseMs / 2;
  let lastSweep = Number.NEGATIVE_INFINITY;
  let wake: (() => void) | undefined;
  let claimsStarted = 0;
  let idleWaiters: { after: number; resolve: () => void }[] = [];

  const settleIdle = (claimNumber: number) => {
    const ready = idleWaiters.filter((w) => w.after < claimNumber);
    idleWaiters = idleWaiters.filter((w) => w.after >= claimNumber);
    for (const w of ready) w.resolve();
  };

  const nap = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        stopping.signal.removeEventListener("abort", done);
        wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, pollMs);
      stopping.signal.addEventListener("abort", done);
      wake = done;
    });

  async function runJob(job: Job): Promise<void> {
    const startedAt = Date.now();
    const lease = new AbortController();
    const signal = AbortSignal.any([stopping.signal, lease.signal]);
    const conflict = () => new AppError("CONFLICT", `job ${job.id} was taken over by another worker`);
    let pending: JobProgress | undefined;
    let finishing = false;
    let finished = false;
    let lost = false;
    let settled = false;

    // A heartbeat that lands after completion or during it finds the row no longer running; that is
    // not a lost lease, hence the flags.
    const beat = async () => {
      if (settled || finishing || finished || lost) return;
      const p = pending;
      pending = undefined;
      try {
        const held = await heartbeat(db, job.id, workerId, p);
        if (!held && !finishing && !finished) {
          lost = true;
          lease.abort(conflict());
        }
      } catch (error) {
        pending ??= p;
        log(`worker ${workerId}: heartbeat for job ${job.id} failed: ${messageOf(error)}`);
      }
    };
    let beating = Promise.resolve();
    let progressTimer: NodeJS.Timeout | undefined;
    const timer = setInterval(() => {
      beating = beating.then(beat);
    }, heartbeatMs);

    const finishJob = async (work?: (tx: Queryable) => Promise<unknown>) => {
      if (finished) throw new AppError("INTERNAL", `job ${job.id} is already finished`);
      if (lost) throw conflict();
      finishing = true;
      try {
        if (!(await finish(db, job.id, workerId, work))) {
          lost = true;
          lease.abort(conflict());
          throw conflict();
        }
        finished = true;
      } finally {
        finishing = false;
      }
    };

    let threw = false;
    let handlerError: unknown;
    try {
      const handler = handlers[job.kind];
      if (!handler) throw new AppError("INTERNAL", `no handler for job kind ${job.kind}`);
      await handler({
        job,
        db,
        progress: (p) => {
          pending = { stage: p.stage, done: p.done, total: p.total };
          // People watch progress in the UI: write it soon, but at most once per progressMs.
          progressTimer ??= setTimeout(() => {
            progressTimer = undefined;
            beating = beating.then(beat);
          }, progressMs);
        },
        signal,
        finish: (work) => finishJob(work),
      });
    } catch (error) {
      threw = true;
      handlerError = error;
    } finally {
      settled = true;
      clearInterval(timer);
      clearTimeout(progressTimer);
      await beating;
    }

    let outcome: string;
    try {
      if (finished) {
        outcome = threw ? "succeeded (its handler threw after finishing)" : "succeeded";
      } else if (lost) {
        outcome = "lost its lease to another worker";
      } else if (!threw) {
        await finishJob();
        outcome = "succeeded";
      } else if (stopping.signal.aborted) {
        outcome = (await release(db, job.id, workerId))
          ? "interrupted by shutdown, back in the queue"
          : "interrupted by shutdown after losing its lease";
      } else {
        const next = await fail(db, job.id, workerId, messageOf(handlerError));
        outcome =
          next === "retry"
            ? `failed attempt ${job.attempts} of ${job.maxAttempts}, will retry`
            : next === "failed"
              ? `failed attempt ${job.attempts} of ${job.maxAttempts}, giving up`
              : "failed after losing its lease to another worker";
      }
    } catch (error) {
      // The job stays running under this worker; its lease runs out and it is handed out again.
      outcome =
        error instanceof AppError && error.code === "CONFLICT"
          ? "lost its lease to another worker"
          : `outcome not recorded (${messageOf(error)}), left to expire`;
    }
    log(`worker ${workerId}: job ${job.id} (${job.kind}) ${outcome} in ${Date.now() - startedAt} ms`);
  }

  const loop = (async () => {
    while (!stopping.signal.aborted) {
      let job: Job | null = null;
      let claimNumber = 0;
      try {
        if (Date.now() - lastSweep >= sweepEveryMs) {
          lastSweep = Date.now();
          const n = await requeueExpired(db, leaseMs);
          if (n > 0) log(`worker ${workerId}: ${n} job(s) whose worker stopped responding handed out again`);
        }
        claimNumber = ++claimsStarted;
        job = await claim(db, workerId, kinds);
      } catch (error) {
        claimNumber = 0;
        log(`worker ${workerId}: could not poll the queue: ${messageOf(error)}`);
      }
      if (job) {
        if (stopping.signal.aborted) {
          await release(db, job.id, workerId).catch(() => {});
          break;
        }
        await runJob(job);
        continue;
      }
      if (claimNumber > 0) settleIdle(claimNumber);
      if (!stopping.signal.aborted) await nap();
    }
    settleIdle(Number.POSITIVE_INFINITY);
  })();

  return {
    workerId,
    stop: async () => {
      stopping.abort();
      wake?.();
      await loop;
    },
    idle: () => {
      if (stopping.signal.aborted) return Promise.resolve();
      return new Promise<void>((resolve) => {
        idleWaiters.push({ after: claimsStarted, resolve });
        wake?.();
      });
    },
  };
}
