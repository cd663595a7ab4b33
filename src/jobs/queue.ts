import { AppError } from "../lib/errors.ts";
import type { Db, Queryable } from "../store/db.ts";

/**
 * A durable job queue on the `jobs` table. Hand-written because no queue library runs on both PGlite
 * and PostgreSQL; the claim uses FOR UPDATE SKIP LOCKED so several workers (and, on PostgreSQL,
 * several processes) never take the same job. A claim is a lease: the worker keeps it alive with
 * heartbeats, and completion only counts while the lease is still this worker's, so a job whose
 * worker was presumed dead and whose work was handed to another commits its results exactly once.
 */

export type JobStatus = "queued" | "running" | "succeeded" | "failed";

export type JobProgress = { stage: string; done: number; total: number };

export type Job = {
  /** bigserial, as a string: JavaScript numbers cannot hold every bigint */
  id: string;
  kind: string;
  payload: unknown;
  status: JobStatus;
  attempts: number;
  maxAttempts: number;
  runAfter: Date;
  lockedBy: string | null;
  progress: JobProgress | null;
  lastError: string | null;
  result: unknown;
  createdAt: Date;
  finishedAt: Date | null;
};

type JobRow = {
  id: string;
  kind: string;
  payload: unknown;
  status: JobStatus;
  attempts: number;
  max_attempts: number;
  run_after: Date;
  locked_by: string | null;
  progress: JobProgress | null;
  last_error: string | null;
  result: unknown;
  created_at: Date;
  finished_at: Date | null;
};

// pg returns int8 as a string and PGlite as a number; casting makes both agree.
const COLUMNS =
  "id::text AS id, kind, payload, status, attempts, max_attempts, run_after, locked_by, progress, last_error, result, created_at, finished_at";

const MAX_ERROR_CHARS = 2000;

function toJob(row: JobRow): Job {
  return {
    id: row.id,
    kind: row.kind,
    payload: row.payload,
    status: row.status,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    runAfter: row.run_after,
    lockedBy: row.locked_by,
    progress: row.progress,
    lastError: row.last_error,
    result: row.result,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
  };
}

/**
 * JSON goes in as text cast to jsonb: pg would turn a JS array into a PostgreSQL array literal and
 * send a bare string unquoted, so neither driver is trusted to serialise jsonb itself.
 */
function jsonParam(value: unknown): string | null {
  return JSON.stringify(value) ?? null;
}

/** Delay before the next try after `attempt` failed tries: 5 s, 10 s, 20 s, ... capped at 10 minutes. */
export function backoffMs(attempt: number): number {
  return Math.min(5000 * 2 ** (Math.max(attempt, 1) - 1), 600_000);
}

/** Adds a job; pass a transaction to make the job exist only if the caller's writes commit. */
export async function enqueue(
  q: Queryable,
  kind: string,
  payload: unknown,
  opts: { maxAttempts?: number; runAfter?: Date } = {},
): Promise<string> {
  if (!kind) throw new AppError("BAD_INPUT", "a job needs a kind");
  const maxAttempts = opts.maxAttempts ?? 5;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new AppError("BAD_INPUT", `maxAttempts must be a whole number of at least 1, not ${maxAttempts}`);
  }
  if (opts.runAfter && Number.isNaN(opts.runAfter.getTime())) {
    throw new AppError("BAD_INPUT", "runAfter is not a valid date");
  }
  const r = await q.query<{ id: string }>(
    `INSERT INTO jobs (kind, payload, max_attempts, run_after)
     VALUES ($1, $2::text::jsonb, $3, COALESCE($4::timestamptz, now()))
     RETURNING id::text AS id`,
    [kind, jsonParam(payload ?? {}), maxAttempts, opts.runAfter ?? null],
  );
  const id = r.rows[0]?.id;
  if (id === undefined) throw new AppError("INTERNAL", "enqueue returned no id");
  return id;
}

/** Takes the oldest ready job of the given kinds, or null when there is none. */
export async function claim(db: Db, workerId: string, kinds: readonly string[]): Promise<Job | null> {
  if (kinds.length === 0) return null;
  // Progress is cleared because a retried job starts its work over.
  const r = await db.query<JobRow>(
    `UPDATE jobs
        SET status = 'running', locked_by = $1, locked_at = now(), attempts = attempts + 1,
            progress = NULL, updated_at = now()
      WHERE id = (
              SELECT id FROM jobs
               WHERE status = 'queued' AND run_after <= now() AND kind = ANY($2::text[])
               ORDER BY run_after, id
               FOR UPDATE SKIP LOCKED
               LIMIT 1)
        AND status = 'queued'
      RETURNING ${COLUMNS}`,
    [workerId, [...kinds]],
  );
  const row = r.rows[0];
  return row ? toJob(row) : null;
}

/** Keeps the lease alive (and records progress); false once the job is no longer this worker's. */
export async function heartbeat(
  db: Db,
  id: string,
  workerId: string,
  progress?: JobProgress,
): Promise<boolean> {
  const r = await db.query(
    `UPDATE jobs
        SET locked_at = now(), updated_at = now(), progress = COALESCE($3::text::jsonb, progress)
      WHERE id = $1::bigint AND locked_by = $2 AND status = 'running'
      RETURNING id`,
    [id, workerId, progress ? jsonParam(progress) : null],
  );
  return r.rows.length > 0;
}

class LeaseLost extends Error {}

/**
 * Completes a job exactly once: the completion and the job's own writes (`work`) commit in one
 * transaction, and only while this worker still holds the lease. Returns false, with nothing
 * written, when the lease was lost. The row is marked first so that it stays locked while `work`
 * runs and a concurrent requeue waits for the outcome instead of handing the job out again.
 * On PGlite, `work` must use `tx` only: the store has one connection and `db` waits for the commit.
 */
export async function finish(
  db: Db,
  id: string,
  workerId: string,
  work?: (tx: Queryable) => Promise<unknown>,
): Promise<boolean> {
  try {
    return await db.transaction(async (tx) => {
      const held = await tx.query(
        `UPDATE jobs
            SET status = 'succeeded', finished_at = now(), updated_at = now(), result = NULL,
                locked_by = NULL, locked_at = NULL
          WHERE id = $1::bigint AND locked_by = $2 AND status = 'running'
          RETURNING id`,
        [id, workerId],
      );
      if (held.rows.length === 0) throw new LeaseLost();
      if (work) {
        const result = await work(tx);
        if (result !== undefined) {
          await tx.query("UPDATE jobs SET result = $2::text::jsonb WHERE id = $1::bigint", [
            id,
            jsonParam(result),
          ]);
        }
      }
      return true;
    });
  } catch (error) {
    if (error instanceof LeaseLost) return false;
    throw error;
  }
}

/**
 * Records a failed try: back in the queue after a backoff while tries remain, else failed for good.
 * "lost" when the job is no longer this worker's (its lease was taken over), so nothing changed.
 */
export async function fail(
  db: Db,
  id: string,
  workerId: string,
  error: string,
): Promise<"retry" | "failed" | "lost"> {
  // The backoff is worked out in SQL (mirroring backoffMs) so that reading the tries and requeueing
  // stay one atomic statement.
  const r = await db.query<{ status: JobStatus }>(
    `UPDATE jobs
        SET status = CASE WHEN attempts < max_attempts THEN 'queued' ELSE 'failed' END,
            run_after = CASE WHEN attempts < max_attempts
                             THEN now() + least(5000 * power(2, greatest(attempts, 1) - 1), 600000) * interval '1 millisecond'
                             ELSE run_after END,
            finished_at = CASE WHEN attempts < max_attempts THEN NULL ELSE now() END,
            last_error = $3, locked_by = NULL, locked_at = NULL, updated_at = now()
      WHERE id = $1::bigint AND locked_by = $2 AND status = 'running'
      RETURNING status`,
    [id, workerId, error.slice(0, MAX_ERROR_CHARS)],
  );
  const status = r.rows[0]?.status;
  if (status === undefined) return "lost";
  return status === "queued" ? "retry" : "failed";
}

/**
 * Gives a job back untouched, for a worker that stops before finishing it: the interrupted try is
 * not counted against the job, since the job did nothing wrong.
 */
export async function release(db: Db, id: string, workerId: string): Promise<boolean> {
  const r = await db.query(
    `UPDATE jobs
        SET status = 'queued', attempts = greatest(attempts - 1, 0), locked_by = NULL, locked_at = NULL,
            run_after = now(), updated_at = now()
      WHERE id = $1::bigint AND locked_by = $2 AND status = 'running'
      RETURNING id`,
    [id, workerId],
  );
  return r.rows.length > 0;
}

/**
 * Hands out again the jobs whose worker stopped heartbeating for leaseMs (presumed dead). The try
 * it used stays counted, so a job that keeps killing its worker ends failed instead of looping.
 * `requeueExpired(db, 0)` takes back every running job: right for the embedded single-process store
 * at start-up, where no other worker can be alive.
 */
export async function requeueExpired(db: Db, leaseMs: number): Promise<number> {
  const r = await db.query(
    `UPDATE jobs
        SET status = CASE WHEN attempts < max_attempts THEN 'queued' ELSE 'failed' END,
            finished_at = CASE WHEN attempts < max_attempts THEN NULL ELSE now() END,
            last_error = 'worker lost', locked_by = NULL, locked_at = NULL, updated_at = now()
      WHERE status = 'running' AND locked_at <= now() - $1::int * interval '1 millisecond'
      RETURNING id`,
    [Math.max(0, Math.round(leaseMs))],
  );
  return r.rows.length;
}

export async function getJob(q: Queryable, id: string): Promise<Job | null> {
  if (!/^\d{1,19}$/.test(id)) return null;
  const r = await q.query<JobRow>(`SELECT ${COLUMNS} FROM jobs WHERE id = $1::bigint`, [id]);
  const row = r.rows[0];
  return row ? toJob(row) : null;
}

/** Newest first. */
export async function listJobs(q: Queryable, opts: { status?: string; limit?: number } = {}): Promise<Job[]> {
  const limit = Math.min(Math.max(Math.trunc(opts.limit ?? 100), 1), 1000);
  const r = await q.query<JobRow>(
    `SELECT ${COLUMNS} FROM jobs
      WHERE ($1::text IS NULL OR status = $1)
      ORDER BY id DESC
      LIMIT $2`,
    [opts.status ?? null, limit],
  );
  return r.rows.map(toJob);
}
