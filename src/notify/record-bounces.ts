import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { Context } from "../app/context.ts";
import { appendAudit } from "../audit/audit-log.ts";
import { type Actor, requireRole } from "../auth/roles.ts";
import { AppError } from "../lib/errors.ts";
import type { Queryable } from "../store/db.ts";
import { emailHash } from "./campaigns.ts";
import { parseDsn } from "./parse-dsn.ts";

/**
 * Delivery status notifications (RFC 3464) coming back: a hard bounce marks the delivery `bounced` and
 * puts the address (as its keyed hash) on the suppression list that every later campaign honours.
 * Soft bounces (delays, 4.x.x) are counted and change nothing: the relay is still trying.
 */

export type BounceTally = { hard: number; soft: number; unmatched: number };

export type BounceDirReport = BounceTally & { files: number; invalid: { file: string; reason: string }[] };

async function applyDsn(tx: Queryable, sealer: Context["sealer"], raw: Buffer): Promise<BounceTally> {
  const dsn = await parseDsn(raw);
  const tally: BounceTally = { hard: 0, soft: 0, unmatched: 0 };
  for (const r of dsn.recipients) {
    if (r.action !== "failed" && r.action !== "delayed") continue;
    if (!r.hard) {
      tally.soft++;
      continue;
    }
    const hash = r.email ? emailHash(sealer, r.email) : null;
    // the Message-ID names the exact delivery; without it, the address's latest sent message
    const match = (
      await tx.query<{ campaign_id: string; ordinal: number; email_hash: string }>(
        dsn.originalMessageId
          ? "SELECT campaign_id, ordinal, email_hash FROM deliveries WHERE message_id = $1"
          : `SELECT campaign_id, ordinal, email_hash FROM deliveries WHERE email_hash = $1 AND state = 'sent'
             ORDER BY sent_at DESC LIMIT 1`,
        [dsn.originalMessageId ?? hash],
      )
    ).rows[0];
    const target = match && (!hash || match.email_hash === hash) ? match : undefined;
    const reply = `${r.status ?? "5.0.0"} ${r.diagnostic ?? "hard bounce"}`.slice(0, 500);
    if (target) {
      await tx.query(
        `UPDATE deliveries SET state = 'bounced', reply = $3, updated_at = now()
         WHERE campaign_id = $1 AND ordinal = $2 AND state IN ('sent', 'sending', 'queued', 'failed')`,
        [target.campaign_id, target.ordinal, sealer.seal(reply)],
      );
    } else {
      tally.unmatched++;
    }
    const suppressHash = hash ?? target?.email_hash;
    if (suppressHash) {
      await tx.query(
        `INSERT INTO suppressions (email_hash, reason, campaign_id) VALUES ($1, $2, $3)
         ON CONFLICT (email_hash) DO NOTHING`,
        [suppressHash, `hard bounce ${r.status ?? ""}`.trim(), target?.campaign_id ?? null],
      );
    }
    if (target) tally.hard++;
  }
  return tally;
}

/** One DSN, e.g. from the bounce webhook. */
export async function recordBounce(
  ctx: Pick<Context, "db" | "sealer">,
  actor: Actor,
  raw: Buffer,
): Promise<BounceTally> {
  requireRole(actor, "responder", "recording bounces");
  return ctx.db.transaction(async (tx) => {
    const tally = await applyDsn(tx, ctx.sealer, raw);
    await appendAudit(tx, actor, "campaign.bounces", null, { ...tally, files: 1 });
    return tally;
  });
}

/**
 * Every `.eml` file of a folder, each in its own transaction so one bad file costs nothing but
 * itself; bad files are listed with the reason. Reading the folder again changes nothing.
 */
export async function recordBounceDir(
  ctx: Pick<Context, "db" | "sealer">,
  actor: Actor,
  dir: string,
  onFile?: (done: number, total: number) => void,
): Promise<BounceDirReport> {
  requireRole(actor, "responder", "recording bounces");
  let names: string[];
  try {
    names = (await readdir(dir)).filter((f) => f.toLowerCase().endsWith(".eml")).sort();
  } catch (error) {
    throw new AppError(
      "USAGE",
      `--dir: cannot read ${dir} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  const report: BounceDirReport = { files: names.length, hard: 0, soft: 0, unmatched: 0, invalid: [] };
  let done = 0;
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      const raw = await readFile(file);
      const tally = await ctx.db.transaction((tx) => applyDsn(tx, ctx.sealer, raw));
      report.hard += tally.hard;
      report.soft += tally.soft;
      report.unmatched += tally.unmatched;
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      report.invalid.push({ file, reason: error.message });
    }
    onFile?.(++done, names.length);
  }
  await ctx.db.transaction((tx) =>
    appendAudit(tx, actor, "campaign.bounces", null, {
      files: report.files,
      hard: report.hard,
      soft: report.soft,
      unmatched: report.unmatched,
      invalid: report.invalid.length,
    }),
  );
  return report;
}
