import { randomBytes } from "node:crypto";
import os from "node:os";
import type { Context } from "../app/context.ts";
import { appendAudit } from "../audit/audit-log.ts";
import { type Actor, requireRole } from "../auth/roles.ts";
import { entryText, recordSystemEntry } from "../incidents/record-system-entry.ts";
import { AppError } from "../lib/errors.ts";
import type { Queryable } from "../store/db.ts";
import {
  type Campaign,
  type CampaignCounts,
  campaignCounts,
  loadCampaign,
  suppressListed,
} from "./campaigns.ts";
import { addressOf, domainOf } from "./compose-message.ts";
import type { Recipient } from "./notice-types.ts";
import type { MessageJob, MessageSetup } from "./render-message.ts";
import { createRenderPool } from "./render-pool.ts";
import type { Outcome, Transport } from "./transports.ts";

/**
 * Sends a campaign's owed messages and records each outcome in the ledger.
 *
 * The crash guarantee comes from one rule: a send slot takes its next message only after the outcome
 * of its last one is committed. So at any instant at most `concurrency` messages can have reached the
 * relay without the ledger knowing; after a crash those (and every row claimed but not yet sent) are
 * `sending`, are put back in the queue and go out again with the same Message-ID. Nobody is skipped,
 * and duplicates per crash are at most `concurrency`, each identifiable by its Message-ID.
 *
 * Outcomes are committed in groups (one transaction for whatever finished while the last commit ran),
 * which keeps the ledger from being the bottleneck without weakening the rule above.
 */

export type SendOptions = {
  /** messages in flight at once (and SMTP connections); default 10 */
  concurrency: number;
  /** messages in flight to one recipient domain; default: concurrency */
  domainConcurrency: number;
  /** messages per second over the whole campaign; null: as fast as the relay takes them */
  rate: number | null;
  /** a recipient whose relay keeps answering 4xx (or dropping the connection) fails after this many tries */
  maxAttempts: number;
  /** the first retry waits this long, then twice as long each time, at most 10 minutes */
  retryDelayMs: number;
  /** threads that build and sign messages; 0 builds them on this thread */
  threads: number;
  signal?: AbortSignal;
  /** called at most every `progressMs` and once at the end */
  onProgress?: (counts: CampaignCounts, note?: string) => void;
  progressMs?: number;
  /** how long the campaign's sender lease lasts without renewal; default 30 s */
  leaseMs?: number;
};

export const SEND_DEFAULTS = {
  concurrency: 10,
  rate: null,
  maxAttempts: 5,
  retryDelayMs: 5000,
} as const;

const MAX_RETRY_DELAY_MS = 10 * 60_000;

/**
 * Threads that build messages: every core but one, which the SMTP connections and the ledger need;
 * with DKIM, every core, since signing then costs more than everything else put together.
 */
export function renderThreads(cores: number, signed: boolean): number {
  return Math.max(1, Math.min(4, signed ? cores : cores - 1));
}
const CLAIM_BATCH = 200;
const RENDER_CHUNK = 25;
const GATHER_MS = 5;

type Ready = { ordinal: number; to: string; domain: string; raw: Buffer | Error; attempts: number };
type Result = { ordinal: number; outcome: Outcome; attempts: number };

export type SendReport = { counts: CampaignCounts; stopped: boolean };

export async function sendCampaign(
  ctx: Pick<Context, "db" | "sealer">,
  actor: Actor,
  campaignId: string,
  transport: Transport,
  setup: Omit<MessageSetup, "audience" | "settings" | "from" | "replyTo">,
  options: SendOptions,
): Promise<SendReport> {
  requireRole(actor, "responder", "sending a campaign");
  const campaign = await loadCampaign(ctx.db, campaignId);
  if (campaign.status === "draft") {
    throw new AppError(
      "CONFLICT",
      `campaign ${campaignId} is not approved yet: a second person must approve it`,
    );
  }
  const envelopeFrom = addressOf(campaign.settings.from);
  const lease = await acquireLease(ctx.db, campaignId, options.leaseMs ?? 30_000, options.signal);
  const pool = createRenderPool(
    {
      audience: campaign.audience,
      settings: campaign.settings,
      from: campaign.settings.from,
      replyTo: campaign.settings.replyTo,
      dkim: setup.dkim,
    },
    options.threads,
  );
  try {
    await ctx.db.transaction(async (tx) => {
      // rows a dead sender had claimed: owed again, with their own Message-IDs
      await requeueClaimed(tx, campaignId);
      await suppressListed(tx, campaignId);
      await tx.query("UPDATE campaigns SET status = 'sending' WHERE id = $1 AND status <> 'sending'", [
        campaignId,
      ]);
      await appendAudit(tx, actor, "campaign.send.start", `campaign:${campaignId}`, {
        transport: transport.describe,
        dkim: setup.dkim ? `${setup.dkim.selector}._domainkey.${setup.dkim.domain}` : null,
      });
    });
    const stopped = await runSender(ctx, campaign, envelopeFrom, transport, pool, options, lease);
    const counts = await campaignCounts(ctx.db, campaignId);
    await ctx.db.transaction(async (tx) => {
      if (counts.pending === 0) {
        // The incident's timeline hears of a campaign once: when it first finishes (a send run
        // again later finds it finished before).
        const finished = await tx.query<{ first: boolean; incident_id: string | null }>(
          `UPDATE campaigns c SET status = 'done', finished_at = now()
           FROM (SELECT id, finished_at IS NULL AS first FROM campaigns WHERE id = $1 FOR UPDATE) old
           WHERE c.id = old.id RETURNING old.first, c.incident_id::text AS incident_id`,
          [campaignId],
        );
        const incidentId = finished.rows[0]?.first ? finished.rows[0].incident_id : null;
        if (incidentId) {
          await recordSystemEntry(
            tx,
            incidentId,
            entryText.campaignFinished(campaignId, campaign.audience, counts),
          );
        }
      }
      await appendAudit(
        tx,
        actor,
        stopped ? "campaign.send.stop" : "campaign.send.finish",
        `campaign:${campaignId}`,
        {
          ...counts,
        },
      );
    });
    options.onProgress?.(counts);
    return { counts, stopped };
  } finally {
    await pool.close();
    await lease.release();
  }
}

type Lease = { holder: string; lost: () => boolean; release: () => Promise<void> };

/**
 * One sender per campaign, across processes and machines: a lease row renewed while sending. A lease
 * left by a process of this machine that no longer exists is taken over at once (a killed sender
 * restarted by hand); any other is waited out.
 */
async function acquireLease(
  db: Context["db"],
  campaignId: string,
  leaseMs: number,
  signal?: AbortSignal,
): Promise<Lease> {
  const holder = `${os.hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  const take = async (force: boolean) =>
    (
      await db.query(
        `UPDATE campaigns SET sender = $2, sender_until = now() + ($3::int * interval '1 millisecond')
         WHERE id = $1 AND ($4 OR sender IS NULL OR sender_until < now()) RETURNING id`,
        [campaignId, holder, leaseMs, force],
      )
    ).rows.length > 0;
  for (;;) {
    if (await take(false)) break;
    const r = await db.query<{ sender: string | null }>("SELECT sender FROM campaigns WHERE id = $1", [
      campaignId,
    ]);
    const [host, pid] = (r.rows[0]?.sender ?? "").split(":");
    if (host === os.hostname() && pid && !processAlive(Number(pid)) && (await take(true))) break;
    if (signal?.aborted)
      throw new AppError("WORK_FAILED", `stopped while waiting to send campaign ${campaignId}`);
    await sleep(1000, signal);
  }
  let lost = false;
  const timer = setInterval(
    () => {
      db.query(
        `UPDATE campaigns SET sender_until = now() + ($3::int * interval '1 millisecond')
         WHERE id = $1 AND sender = $2 RETURNING id`,
        [campaignId, holder, leaseMs],
      ).then(
        (r) => {
          if (!r.rows.length) lost = true;
        },
        () => {},
      );
    },
    Math.max(100, Math.floor(leaseMs / 3)),
  );
  timer.unref();
  return {
    holder,
    lost: () => lost,
    release: async () => {
      clearInterval(timer);
      await db.query(
        "UPDATE campaigns SET sender = NULL, sender_until = NULL WHERE id = $1 AND sender = $2",
        [campaignId, holder],
      );
    },
  };
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

export function retryDelay(attempts: number, baseMs: number): number {
  return Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** Math.max(0, attempts - 1));
}

/** Returns true when it stopped early (signal, lost lease) with recipients still owed. */
async function runSender(
  ctx: Pick<Context, "db" | "sealer">,
  campaign: Campaign,
  envelopeFrom: string,
  transport: Transport,
  pool: ReturnType<typeof createRenderPool>,
  options: SendOptions,
  lease: Lease,
): Promise<boolean> {
  const { db, sealer } = ctx;
  const concurrency = Math.max(1, options.concurrency);
  const domainLimit = Math.max(1, Math.min(options.domainConcurrency, concurrency));
  const stopRequested = () => options.signal?.aborted === true || lease.lost();
  let fatal: unknown = null;

  // progress: the ledger's counts at start, moved by each committed outcome
  const counts = await campaignCounts(db, campaign.id);
  let lastProgress = 0;
  const progress = (force = false, note?: string) => {
    const now = Date.now();
    if (!options.onProgress || (!force && now - lastProgress < (options.progressMs ?? 250))) return;
    lastProgress = now;
    options.onProgress({ ...counts }, note);
  };

  // ---- the ready list: rendered messages waiting for a slot
  const ready: Ready[] = [];
  const inFlightByDomain = new Map<string, number>();
  let wake: (() => void) | null = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const changed = () =>
    new Promise<void>((resolve) => {
      const prev = wake;
      wake = () => {
        prev?.();
        resolve();
      };
    });

  // taken by a slot and not yet committed
  let inFlight = 0;

  // ---- group commit of outcomes; a failed commit stops the sender, and the rows stay `sending`
  let pendingResults: { result: Result; done: () => void }[] = [];
  let committing: Promise<void> | null = null;
  const commitLoop = async () => {
    while (pendingResults.length) {
      const group = pendingResults;
      pendingResults = [];
      try {
        await recordOutcomes(
          db,
          sealer,
          campaign.id,
          group.map((g) => g.result),
          options,
        );
        for (const { result } of group) {
          const final = result.outcome.kind !== "temporary" || result.attempts >= options.maxAttempts;
          if (result.outcome.kind === "sent") counts.sent++;
          else if (final) counts.failed++;
          if (final) counts.pending--;
        }
      } catch (error) {
        fatal ??= error;
      }
      for (const g of group) g.done();
      progress();
    }
  };
  // A commit costs about as much for one row as for twenty, so it waits (at most GATHER_MS) until
  // every slot holding a message is waiting on it; the slots are idle then anyway.
  let gatherTimer: NodeJS.Timeout | null = null;
  const flush = () => {
    if (gatherTimer) clearTimeout(gatherTimer);
    gatherTimer = null;
    committing ??= commitLoop().finally(() => {
      committing = null;
      if (pendingResults.length) flush();
    });
  };
  const commit = (result: Result) =>
    new Promise<void>((resolve) => {
      pendingResults.push({ result, done: resolve });
      if (committing) return;
      if (pendingResults.length >= inFlight) flush();
      else gatherTimer ??= setTimeout(flush, GATHER_MS);
    });

  // ---- rate limit: a single schedule shared by all slots
  let nextSlotAt = 0;
  const paced = async () => {
    if (!options.rate) return;
    const now = Date.now();
    const at = Math.max(now, nextSlotAt);
    nextSlotAt = at + 1000 / options.rate;
    if (at > now) await sleep(at - now, options.signal);
  };

  let producing = true;
  const takeReady = (): Ready | null => {
    const i = ready.findIndex((m) => (inFlightByDomain.get(m.domain) ?? 0) < domainLimit);
    if (i < 0) return null;
    return ready.splice(i, 1)[0] ?? null;
  };

  const slot = async () => {
    for (;;) {
      if (fatal || stopRequested()) return;
      const m = takeReady();
      if (!m) {
        if (!producing && ready.length === 0) return;
        await changed();
        continue;
      }
      inFlightByDomain.set(m.domain, (inFlightByDomain.get(m.domain) ?? 0) + 1);
      inFlight++;
      try {
        // a message that cannot be built is a template or settings problem, the same for everyone:
        // stop with everyone still owed rather than fail them all
        if (m.raw instanceof Error) {
          fatal ??= new AppError(
            "WORK_FAILED",
            `the message for recipient #${m.ordinal} could not be built: ${m.raw.message}`,
          );
          return;
        }
        await paced();
        let outcome: Outcome;
        try {
          outcome = await transport.send({ envelopeFrom, to: m.to, raw: m.raw });
        } catch (error) {
          fatal ??= error;
          return;
        }
        await commit({ ordinal: m.ordinal, outcome, attempts: m.attempts + 1 });
      } finally {
        inFlight--;
        inFlightByDomain.set(m.domain, (inFlightByDomain.get(m.domain) ?? 1) - 1);
        notify();
      }
    }
  };

  const slots = Array.from({ length: concurrency }, slot);

  // ---- producer: claim due rows, render them, hand them to the slots
  const produce = async () => {
    let cursor = -1;
    try {
      for (;;) {
        if (fatal || stopRequested()) return;
        // keep the ready list short: claimed rows are `sending`, which on a crash only means "owed again"
        while (ready.length >= CLAIM_BATCH && !fatal && !stopRequested()) await changed();
        let claimed = await claimDue(db, campaign.id, CLAIM_BATCH, cursor);
        if (!claimed.length && cursor >= 0) {
          // end of a pass: start again from the top, where retries that fell due are waiting
          cursor = -1;
          claimed = await claimDue(db, campaign.id, CLAIM_BATCH, cursor);
        }
        if (!claimed.length) {
          // wait until everything taken is committed: a 4xx among it is a retry due later
          while ((ready.length || inFlight) && !fatal && !stopRequested()) await changed();
          const next = await nextRetryAt(db, campaign.id);
          if (next === null) {
            if (await anyQueued(db, campaign.id)) continue;
            return;
          }
          const wait = Math.max(0, next.getTime() - Date.now());
          if (wait > 0) {
            progress(true, `waiting ${Math.ceil(wait / 1000)} s to retry`);
            await sleep(Math.min(wait, 5000), options.signal);
          }
          continue;
        }
        cursor = claimed.at(-1)?.ordinal ?? cursor;
        const jobs: (MessageJob & { attempts: number })[] = claimed.map((row) => ({
          ordinal: row.ordinal,
          messageId: row.message_id,
          attempts: row.attempts,
          recipient: JSON.parse(sealer.openText(Buffer.from(row.recipient))) as Recipient,
        }));
        const chunks: (typeof jobs)[] = [];
        for (let i = 0; i < jobs.length; i += RENDER_CHUNK) chunks.push(jobs.slice(i, i + RENDER_CHUNK));
        await Promise.all(
          chunks.map(async (chunk) => {
            const raws = await pool.render(chunk.map(({ attempts: _, ...job }) => job));
            chunk.forEach((job, i) => {
              ready.push({
                ordinal: job.ordinal,
                to: job.recipient.email,
                domain: domainOf(job.recipient.email) ?? "",
                raw: raws[i] ?? new Error("not rendered"),
                attempts: job.attempts,
              });
            });
            notify();
          }),
        );
      }
    } catch (error) {
      fatal ??= error;
    } finally {
      producing = false;
      notify();
    }
  };

  const stopListener = () => notify();
  options.signal?.addEventListener("abort", stopListener);
  try {
    progress(true);
    await Promise.all([produce(), ...slots]);
    while (committing) await committing;
  } finally {
    options.signal?.removeEventListener("abort", stopListener);
  }
  if (fatal) {
    // what was claimed but not sent is owed again; nothing was lost
    await requeueClaimed(db, campaign.id);
    throw fatal;
  }
  if (stopRequested()) {
    await requeueClaimed(db, campaign.id);
    return true;
  }
  return false;
}

/** Rows claimed but without an outcome: owed again, with the Message-IDs they already have. */
async function requeueClaimed(q: Queryable, campaignId: string): Promise<void> {
  await q.query(
    "UPDATE deliveries SET state = 'queued', updated_at = now() WHERE campaign_id = $1 AND state = 'sending'",
    [campaignId],
  );
}

type ClaimedRow = { ordinal: number; message_id: string; recipient: Uint8Array; attempts: number };

/** Due rows after `after` in ordinal order: a walk along the primary key, never a scan by state. */
async function claimDue(
  db: Queryable,
  campaignId: string,
  limit: number,
  after: number,
): Promise<ClaimedRow[]> {
  const r = await db.query<ClaimedRow>(
    `UPDATE deliveries d SET state = 'sending', sending_at = now(), updated_at = now()
     FROM (SELECT ordinal FROM deliveries
           WHERE campaign_id = $1 AND ordinal > $3 AND state = 'queued'
             AND (next_attempt_at IS NULL OR next_attempt_at <= now())
           ORDER BY ordinal LIMIT $2 FOR UPDATE SKIP LOCKED) due
     WHERE d.campaign_id = $1 AND d.ordinal = due.ordinal
     RETURNING d.ordinal, d.message_id, d.recipient, d.attempts`,
    [campaignId, limit, after],
  );
  return r.rows.sort((a, b) => a.ordinal - b.ordinal);
}

async function nextRetryAt(db: Queryable, campaignId: string): Promise<Date | null> {
  const r = await db.query<{ at: Date | null }>(
    "SELECT min(next_attempt_at) AS at FROM deliveries WHERE campaign_id = $1 AND state = 'queued'",
    [campaignId],
  );
  return r.rows[0]?.at ?? null;
}

async function anyQueued(db: Queryable, campaignId: string): Promise<boolean> {
  const r = await db.query("SELECT 1 FROM deliveries WHERE campaign_id = $1 AND state = 'queued' LIMIT 1", [
    campaignId,
  ]);
  return r.rows.length > 0;
}

async function recordOutcomes(
  db: Context["db"],
  sealer: Context["sealer"],
  campaignId: string,
  results: Result[],
  options: Pick<SendOptions, "maxAttempts" | "retryDelayMs">,
): Promise<void> {
  const states: string[] = [];
  const delays: (number | null)[] = [];
  for (const r of results) {
    const o = r.outcome;
    if (o.kind === "sent") states.push("sent");
    else if (o.kind === "permanent" || r.attempts >= options.maxAttempts) states.push("failed");
    else states.push("queued");
    delays.push(states.at(-1) === "queued" ? retryDelay(r.attempts, options.retryDelayMs) : null);
  }
  const stored = results.filter((r) => r.outcome.kind === "sent" && r.outcome.store);
  await db.transaction(async (tx) => {
    await tx.query(
      `UPDATE deliveries d SET state = t.state, attempts = t.attempts, reply = decode(t.reply, 'base64'),
         next_attempt_at = CASE WHEN t.delay IS NULL THEN NULL ELSE now() + t.delay * interval '1 millisecond' END,
         sent_at = CASE WHEN t.state = 'sent' THEN now() ELSE d.sent_at END, updated_at = now()
       FROM unnest($2::int[], $3::text[], $4::int[], $5::text[], $6::int[]) AS t(ordinal, state, attempts, reply, delay)
       WHERE d.campaign_id = $1 AND d.ordinal = t.ordinal AND d.state = 'sending'`,
      [
        campaignId,
        results.map((r) => r.ordinal),
        states,
        results.map((r) => r.attempts),
        results.map((r) => sealer.seal(r.outcome.reply).toString("base64")),
        delays,
      ],
    );
    if (stored.length) {
      await tx.query(
        `INSERT INTO outbox (campaign_id, ordinal, message_id, message)
         SELECT $1, t.ordinal, d.message_id, decode(t.message, 'base64')
         FROM unnest($2::int[], $3::text[]) AS t(ordinal, message)
         JOIN deliveries d ON d.campaign_id = $1 AND d.ordinal = t.ordinal
         ON CONFLICT (campaign_id, ordinal) DO UPDATE SET message = EXCLUDED.message, stored_at = now()`,
        [
          campaignId,
          stored.map((r) => r.ordinal),
          stored.map((r) => sealer.seal((r.outcome as { store: Buffer }).store).toString("base64")),
        ],
      );
    }
  });
}
