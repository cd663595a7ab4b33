import type { Actor } from "../auth/roles.ts";
import { badInput } from "../lib/errors.ts";
import type { Queryable, Row } from "../store/db.ts";
import { GENESIS_HASH, hashEvent } from "./hash-event.ts";

/**
 * The audit log: one hash chain over audit_events. Each event's hash covers its columns and the
 * previous event's hash, so an edit, a deletion, a reordering or a forged event shows up in
 * verifyAudit at the exact seq. The database triggers already refuse UPDATE, DELETE and TRUNCATE;
 * the chain is for whoever can switch the triggers off. Someone who can also recompute every later
 * hash (the hash is unkeyed) can only be caught against a head recorded earlier: the anchor.
 */

export type AuditEvent = {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string | null;
  detail: Record<string, unknown>;
  prevHash: string;
  hash: string;
};

export type AuditVerification = {
  ok: boolean;
  events: number;
  head: { seq: number; hash: string } | null;
  problems: { seq: number; problem: string }[];
};

export const LIST_LIMIT_DEFAULT = 100;
export const LIST_LIMIT_MAX = 1000;
const VERIFY_BATCH_DEFAULT = 1000;

// `at` as text in UTC with microseconds: a Date would round away a sub-millisecond edit, and the
// session's time zone must not change what is hashed. seq comes back as text because pg returns
// bigint as a string and PGlite as a number; ORDER BY must then name audit_events.seq, as a bare
// `seq` would sort the text alias ("10" before "9").
const COLUMNS = `seq::text AS seq,
  to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at,
  actor, action, subject, detail, prev_hash, hash`;

type EventRow = Row & {
  seq: string;
  at: string;
  actor: string;
  action: string;
  subject: string | null;
  detail: unknown;
  prev_hash: string;
  hash: string;
};

function toEvent(row: EventRow): AuditEvent {
  return {
    seq: Number(row.seq),
    // Appended events hold whole milliseconds, which toISOString writes with three digits.
    at: row.at.replace(/(\.\d{3})000Z$/, "$1Z"),
    actor: row.actor,
    action: row.action,
    subject: row.subject,
    detail: row.detail as Record<string, unknown>,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/**
 * Appends one event in the caller's transaction, so the event commits or rolls back with the change
 * it records. `detail` is kept for as long as the log and can never be erased, so it must never hold
 * personal data (names, emails, file contents, answers): record ids and counts only.
 *
 * Appenders queue on a table lock (SHARE ROW EXCLUSIVE conflicts with itself, not with readers) so
 * each reads the true last event; under READ COMMITTED the read after the lock sees every event
 * committed before it (a stale REPEATABLE READ snapshot fails on the seq key instead of forking the
 * chain). Called outside a transaction, the LOCK statement fails, which is intended.
 */
export async function appendAudit(
  tx: Queryable,
  actor: Actor,
  action: string,
  subject?: string | null,
  detail: Record<string, unknown> = {},
): Promise<AuditEvent> {
  if (!action) throw badInput("an audit event needs an action");
  if (detail === null || typeof detail !== "object" || Array.isArray(detail)) {
    throw badInput("an audit event's detail must be an object");
  }
  // Hash what jsonb will hand back, not the caller's object (dates, undefined, toJSON...).
  const detailJson = JSON.stringify(detail);
  const storedDetail = JSON.parse(detailJson) as Record<string, unknown>;

  await tx.query("LOCK TABLE audit_events IN SHARE ROW EXCLUSIVE MODE");
  const last = (
    await tx.query<{ seq: string; hash: string }>(
      "SELECT seq::text AS seq, hash FROM audit_events ORDER BY audit_events.seq DESC LIMIT 1",
    )
  ).rows[0];
  const event: Omit<AuditEvent, "hash"> = {
    seq: last ? Number(last.seq) + 1 : 1,
    at: new Date().toISOString(),
    actor: actor.label,
    action,
    subject: subject ?? null,
    detail: storedDetail,
    prevHash: last ? last.hash : GENESIS_HASH,
  };
  const hash = hashEvent(event);
  await tx.query(
    `INSERT INTO audit_events (seq, at, actor, action, subject, detail, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)`,
    [event.seq, event.at, event.actor, event.action, event.subject, detailJson, event.prevHash, hash],
  );
  return { ...event, hash };
}

export type ListAuditOptions = {
  /** only events after this seq (for paging: pass the last seq seen) */
  afterSeq?: number;
  /** default 100, at most 1000 */
  limit?: number;
  subject?: string;
  action?: string;
};

export async function listAudit(q: Queryable, opts: ListAuditOptions = {}): Promise<AuditEvent[]> {
  const limit = opts.limit ?? LIST_LIMIT_DEFAULT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > LIST_LIMIT_MAX) {
    throw badInput(`limit must be a whole number from 1 to ${LIST_LIMIT_MAX} (got ${limit})`);
  }
  const where: string[] = [];
  const params: unknown[] = [];
  if (opts.afterSeq !== undefined) {
    if (!Number.isSafeInteger(opts.afterSeq) || opts.afterSeq < 0) {
      throw badInput(`afterSeq must be a whole number of at least 0 (got ${opts.afterSeq})`);
    }
    params.push(opts.afterSeq);
    where.push(`seq > $${params.length}`);
  }
  if (opts.subject !== undefined) {
    params.push(opts.subject);
    where.push(`subject = $${params.length}`);
  }
  if (opts.action !== undefined) {
    params.push(opts.action);
    where.push(`action = $${params.length}`);
  }
  params.push(limit);
  const { rows } = await q.query<EventRow>(
    `SELECT ${COLUMNS} FROM audit_events ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY audit_events.seq LIMIT $${params.length}`,
    params,
  );
  return rows.map(toEvent);
}

export type VerifyAuditOptions = {
  /** a head recorded earlier (e.g. printed by `audit verify`): catches a cut tail or a rewritten chain */
  anchor?: { seq: number; hash: string };
  /** events read per query (default 1000), so a long log never sits in memory at once */
  batch?: number;
};

/** Walks the whole chain and names every event that breaks it; never stops at the first problem. */
export async function verifyAudit(q: Queryable, opts: VerifyAuditOptions = {}): Promise<AuditVerification> {
  const batch = opts.batch ?? VERIFY_BATCH_DEFAULT;
  if (!Number.isSafeInteger(batch) || batch < 1) throw badInput(`batch must be at least 1 (got ${batch})`);
  const anchor = opts.anchor && { seq: opts.anchor.seq, hash: opts.anchor.hash.toLowerCase() };
  const problems: AuditVerification["problems"] = [];
  const report = (seq: number, problem: string) => problems.push({ seq, problem });
  let prev: { seq: number; hash: string } | null = null;
  let events = 0;
  let anchorSeen = false;
  // Keyset paging on the seq text, so a seq beyond 2^53 (forged) cannot make the walk loop or skip.
  let cursor: string | null = null;

  for (;;) {
    const rows: EventRow[] = (
      cursor === null
        ? await q.query<EventRow>(`SELECT ${COLUMNS} FROM audit_events ORDER BY audit_events.seq LIMIT $1`, [
            batch,
          ])
        : await q.query<EventRow>(
            `SELECT ${COLUMNS} FROM audit_events WHERE seq > $1::bigint ORDER BY audit_events.seq LIMIT $2`,
            [cursor, batch],
          )
    ).rows;
    for (const row of rows) {
      const e = toEvent(row);
      events++;
      const expected = prev ? prev.seq + 1 : 1;
      if (e.seq > expected) {
        report(
          expected,
          e.seq - 1 === expected
            ? `event ${expected} is missing (deleted)`
            : `events ${expected} to ${e.seq - 1} are missing (deleted)`,
        );
      } else if (e.seq < expected) {
        report(e.seq, `event ${e.seq} is out of sequence (the log starts at event 1)`);
      }
      if (hashEvent(e) !== e.hash) {
        report(
          e.seq,
          `event ${e.seq} was changed after it was written (its hash does not match its contents)`,
        );
      }
      // With the start of the log missing there is no earlier hash to hold the first event to; the
      // gap is reported above.
      if (prev) {
        if (e.prevHash !== prev.hash)
          report(e.seq, `event ${e.seq} does not follow event ${prev.seq} (chain broken)`);
      } else if (e.seq === 1 && e.prevHash !== GENESIS_HASH) {
        report(1, "event 1 does not start the chain (its prev_hash is not all zeros)");
      }
      if (anchor && e.seq === anchor.seq) {
        anchorSeen = true;
        if (e.hash !== anchor.hash) {
          report(
            e.seq,
            `event ${e.seq} recorded as head earlier has changed (its hash is not the recorded one)`,
          );
        }
      }
      prev = { seq: e.seq, hash: e.hash };
    }
    if (rows.length < batch) break;
    cursor = rows[rows.length - 1]?.seq ?? null;
  }

  if (anchor && !anchorSeen && (prev === null || prev.seq < anchor.seq)) {
    report(
      anchor.seq,
      prev === null
        ? `event ${anchor.seq} recorded as head earlier is gone: the log is empty`
        : `event ${anchor.seq} recorded as head earlier is gone: the log was cut after event ${prev.seq}`,
    );
  }
  // An anchor inside a gap is already reported as missing.
  return { ok: problems.length === 0, events, head: prev, problems };
}
