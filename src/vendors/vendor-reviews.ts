import { randomBytes } from "node:crypto";
import type { Context } from "../app/context.ts";
import { appendAudit } from "../audit/audit-log.ts";
import { type Actor, requireRole, systemActor } from "../auth/roles.ts";
import type { Config } from "../config/env.ts";
import { AppError, badInput } from "../lib/errors.ts";
import { requireId } from "../lib/ids.ts";
import { type CampaignSettings, emailHash, messageIdFor } from "../notify/campaigns.ts";
import {
  addressOf,
  composeMessage,
  createSigner,
  type DkimOptions,
  domainOf,
} from "../notify/compose-message.ts";
import { dkimOptions } from "../notify/notice-settings.ts";
import type { Recipient } from "../notify/notice-types.ts";
import { type Outcome, outboxTransport, smtpTransport, type Transport } from "../notify/transports.ts";
import type { Queryable } from "../store/db.ts";
import { addDays, dayOf } from "./vendor-findings.ts";

/**
 * Recurring vendor reviews. Completing a review sets the next one `review_interval_days` ahead
 * (365 when the vendor has none). Reminders go to the vendor's owner once per review cycle: when
 * the next review is `within_days` away or past, and no reminder went out since the cycle's window
 * opened (next review minus within_days). Completing the review starts a new cycle.
 *
 * Reminders travel like campaign messages: the built-in outbox by default, SMTP when
 * BLASTRADIUS_SMTP_URL is set, DKIM-signed when configured. Each run that sends anything is one
 * campaign in the delivery ledger (`review-reminders-...`, no incident), so the messages can be read
 * with `blastradius notify outbox` and bounces are matched to them.
 */

export const REVIEW_INTERVAL_DEFAULT_DAYS = 365;
export const REMIND_WITHIN_DAYS_DEFAULT = 14;
const DAY_MS = 86_400_000;

export type CompletedReview = {
  vendor_id: string;
  last_reviewed_at: string;
  next_review_at: string;
  review_interval_days: number;
};

/**
 * Records a finished review. The note, if any, is appended to the vendor's notes with the date and
 * who reviewed (the audit log records only that there was one: it must never hold free text).
 */
export async function completeReview(
  ctx: Pick<Context, "db">,
  actor: Actor,
  vendorId: string,
  input: { note?: string | null; now?: Date } = {},
): Promise<CompletedReview> {
  requireRole(actor, "responder", "completing vendor reviews");
  requireId(vendorId, "vendor");
  const note = input.note?.trim() || null;
  if (note && note.length > 5000) throw badInput("note: at most 5,000 characters");
  const now = input.now ?? new Date();
  return ctx.db.transaction(async (tx) => {
    const r = await tx.query<{ review_interval_days: number | null; status: string; notes: string | null }>(
      "SELECT review_interval_days, status, notes FROM vendors WHERE id = $1 FOR UPDATE",
      [vendorId],
    );
    const v = r.rows[0];
    if (!v) throw new AppError("NOT_FOUND", `no vendor ${vendorId}`);
    if (v.status === "offboarded") throw new AppError("CONFLICT", `vendor ${vendorId} is offboarded`);
    const interval = v.review_interval_days ?? REVIEW_INTERVAL_DEFAULT_DAYS;
    const next = addDays(dayOf(now), interval);
    const notes = note
      ? `${v.notes ? `${v.notes}\n\n` : ""}Review ${dayOf(now)} (${actor.label}): ${note}`
      : v.notes;
    await tx.query(
      `UPDATE vendors SET last_reviewed_at = $2, next_review_at = $3::date, review_reminded_at = NULL,
         notes = $4, updated_at = now() WHERE id = $1`,
      [vendorId, now, next, notes],
    );
    await appendAudit(tx, actor, "vendor.review.complete", `vendor:${vendorId}`, {
      next_review_at: next,
      interval_days: interval,
      note: note !== null,
    });
    return {
      vendor_id: vendorId,
      last_reviewed_at: now.toISOString(),
      next_review_at: next,
      review_interval_days: interval,
    };
  });
}

// ------------------------------------------------------------------------------------ reminders

export type ReminderOutcome = "sent" | "failed" | "no_owner" | "would_send";

export type ReminderItem = {
  vendor_id: string;
  name: string;
  next_review_at: string;
  overdue: boolean;
  /** the owner's account email; null when the vendor has no (enabled) owner */
  owner_email: string | null;
  outcome: ReminderOutcome;
};

export type ReminderReport = {
  /** the ledger campaign of this run; null when nothing was sent (or a dry run) */
  campaign_id: string | null;
  transport: string;
  items: ReminderItem[];
  sent: number;
  failed: number;
  no_owner: number;
};

export type ReminderOptions = {
  transport: Transport;
  now?: Date;
  within_days?: number;
  dry_run?: boolean;
  /** the From header; default `blastradius <blastradius@<first official domain>>` */
  from?: string;
  dkim?: DkimOptions | null;
};

type DueRow = {
  id: string;
  name: string;
  next_review_at: string;
  review_reminded_at: Date | null;
  requirement_set: string | null;
  owner_email: string | null;
  owner_name: string | null;
  open_findings: number;
  overdue_findings: number;
};

/** The From address reminders use unless told otherwise. */
export function defaultReminderFrom(config: Pick<Config, "officialDomains">): string {
  return `blastradius <blastradius@${config.officialDomains[0] ?? "localhost"}>`;
}

/** How the server and `review remind` send: SMTP when configured, else the built-in outbox. */
export function reminderTransport(config: Pick<Config, "smtpUrl">, smtpUrl = config.smtpUrl): Transport {
  return smtpUrl ? smtpTransport(smtpUrl, { connections: 1 }) : outboxTransport();
}

export function reminderDkim(config: Config, from: string): DkimOptions | null {
  return dkimOptions(
    { keyFile: config.dkimKeyFile, selector: config.dkimSelector, domain: config.dkimDomain },
    from,
    { key: "BLASTRADIUS_DKIM_KEY", selector: "BLASTRADIUS_DKIM_SELECTOR", domain: "BLASTRADIUS_DKIM_DOMAIN" },
  );
}

// A vendor is due when its next review falls within the window, it is still a vendor we keep, and
// no reminder went out since the window of this cycle opened. Days are UTC calendar days.
const DUE_WHERE = `v.next_review_at IS NOT NULL AND v.status IN ('active', 'under_review')
  AND v.next_review_at <= ($1::timestamptz AT TIME ZONE 'UTC')::date + $2::int
  AND (v.review_reminded_at IS NULL
       OR v.review_reminded_at < ((v.next_review_at - $2::int)::timestamp AT TIME ZONE 'UTC'))`;

async function dueVendors(q: Queryable, now: Date, withinDays: number, lock: boolean): Promise<DueRow[]> {
  const r = await q.query<DueRow>(
    `SELECT v.id::text AS id, v.name, v.next_review_at::text AS next_review_at, v.review_reminded_at,
       v.requirement_set, u.email AS owner_email, u.display_name AS owner_name,
       (SELECT count(*)::int FROM vendor_findings f WHERE f.vendor_id = v.id AND f.status = 'open') AS open_findings,
       (SELECT count(*)::int FROM vendor_findings f WHERE f.vendor_id = v.id AND f.status = 'open'
          AND f.due_at < ($1::timestamptz AT TIME ZONE 'UTC')::date) AS overdue_findings
     FROM vendors v LEFT JOIN users u ON u.id = v.owner_id AND u.disabled_at IS NULL
     WHERE ${DUE_WHERE}
     ORDER BY v.next_review_at, lower(v.name), v.id${lock ? " FOR UPDATE OF v" : ""}`,
    [now, withinDays],
  );
  return r.rows;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.codePointAt(0)};`);

/** The reminder's subject and text; plain, as it goes to our own staff. */
export function reminderText(v: DueRow, today: string): { subject: string; text: string } {
  const overdueDays = Math.round(
    (Date.parse(`${today}T00:00:00Z`) - Date.parse(`${v.next_review_at}T00:00:00Z`)) / DAY_MS,
  );
  const when =
    overdueDays > 0
      ? `was due on ${v.next_review_at} and is ${overdueDays} day${overdueDays === 1 ? "" : "s"} overdue`
      : overdueDays === 0
        ? `is due today (${v.next_review_at})`
        : `is due on ${v.next_review_at}`;
  const subject = `${overdueDays > 0 ? "Overdue" : "Due"}: security review of ${v.name}`;
  const text = [
    v.owner_name ? `Hello ${v.owner_name},` : "Hello,",
    "",
    `The security review of the vendor ${v.name} ${when}. You are its owner in blastradius.`,
    "",
    "Check what the vendor receives (its data flows and the latest scan), its requirement set" +
      ` (${v.requirement_set ?? "none assigned yet"}) and its open findings (${v.open_findings} open, ${v.overdue_findings} past their due date); send a questionnaire if the answers are out of date. Then record the review in the web app under Vendors, or with:`,
    "",
    `  blastradius review complete ${v.id} --note "what you checked"`,
    "",
    "This is the only reminder for this review; the next one comes with the next review date.",
  ].join("\n");
  return { subject, text };
}

type Claimed = DueRow & { ordinal: number; message_id: string; previous: Date | null };

/**
 * Emails each due vendor's owner once per review cycle and marks the vendor reminded. Vendors are
 * claimed (marked) before anything is sent, so two processes running this together never remind
 * twice; a message the transport does not take gives the claim back, so the next run tries again.
 */
export async function sendReviewReminders(
  ctx: Pick<Context, "db" | "sealer">,
  actor: Actor,
  options: ReminderOptions,
): Promise<ReminderReport> {
  requireRole(actor, "responder", "sending vendor review reminders");
  const now = options.now ?? new Date();
  const within = options.within_days ?? REMIND_WITHIN_DAYS_DEFAULT;
  if (!Number.isInteger(within) || within < 0 || within > 365) {
    throw badInput(`within_days: a whole number from 0 to 365 (got ${within})`);
  }
  const from = options.from ?? "blastradius <blastradius@localhost>";
  const fromDomain = domainOf(from);
  if (!fromDomain) throw badInput(`from: ${JSON.stringify(from)} has no domain`);
  const today = dayOf(now);
  const item = (v: DueRow, outcome: ReminderOutcome): ReminderItem => ({
    vendor_id: v.id,
    name: v.name,
    next_review_at: v.next_review_at,
    overdue: v.next_review_at < today,
    owner_email: v.owner_email,
    outcome,
  });
  const report: ReminderReport = {
    campaign_id: null,
    transport: options.transport.describe,
    items: [],
    sent: 0,
    failed: 0,
    no_owner: 0,
  };

  if (options.dry_run) {
    for (const v of await dueVendors(ctx.db, now, within, false)) {
      report.items.push(item(v, v.owner_email ? "would_send" : "no_owner"));
      if (!v.owner_email) report.no_owner++;
    }
    return report;
  }

  const campaignId = `review-reminders-${today.replaceAll("-", "")}-${randomBytes(4).toString("hex")}`;
  const nonce = randomBytes(6).toString("hex");
  const settings: CampaignSettings = {
    company: null,
    vendor: null,
    incidentStart: null,
    incidentEnd: null,
    discoveredAt: null,
    notExposed: [],
    senderDomains: [fromDomain],
    contact: addressOf(from),
    localeDefault: "en",
    templatesDir: null,
    from,
    replyTo: null,
  };
  const claimed = await ctx.db.transaction(async (tx) => {
    const due = await dueVendors(tx, now, within, true);
    for (const v of due.filter((d) => !d.owner_email)) {
      report.items.push(item(v, "no_owner"));
      report.no_owner++;
    }
    const mine: Claimed[] = due
      .filter((d) => d.owner_email)
      .map((d, ordinal) => ({
        ...d,
        ordinal,
        message_id: messageIdFor({ id: campaignId, nonce, settings }, ordinal),
        previous: d.review_reminded_at,
      }));
    if (mine.length === 0) return mine;
    await tx.query(
      `INSERT INTO campaigns (id, source, audience, filters, settings, nonce, status, recipients, created_by,
         approved_by, approved_at)
       VALUES ($1, 'vendor-reviews', 'users', '{}'::jsonb, $2::text::jsonb, $3, 'sending', $4, $5, $5, now())`,
      [campaignId, JSON.stringify(settings), nonce, mine.length, actor.label],
    );
    for (const v of mine) {
      const recipient: Recipient = {
        email: (v.owner_email as string).trim().toLowerCase(),
        name: v.owner_name,
        locale: "en",
        country: null,
        categories: [],
        orgs: [],
      };
      await tx.query(
        `INSERT INTO deliveries (campaign_id, ordinal, email_hash, recipient, message_id, state, sending_at)
         VALUES ($1, $2, $3, $4, $5, 'sending', now())`,
        [
          campaignId,
          v.ordinal,
          emailHash(ctx.sealer, recipient.email),
          ctx.sealer.seal(JSON.stringify(recipient)),
          v.message_id,
        ],
      );
      await tx.query("UPDATE vendors SET review_reminded_at = $2 WHERE id = $1", [v.id, now]);
    }
    return mine;
  });
  if (claimed.length === 0) return report;
  report.campaign_id = campaignId;

  const signer = createSigner(options.dkim ?? null);
  for (const v of claimed) {
    const { subject, text } = reminderText(v, today);
    let outcome: Outcome;
    try {
      const raw = await composeMessage(
        {
          locale: "en",
          subject,
          text,
          html: `<!doctype html><html><body>${text
            .split("\n\n")
            .map((p) => `<p style="white-space:pre-wrap">${escapeHtml(p)}</p>`)
            .join("")}</body></html>`,
        },
        { from, to: { name: v.owner_name, email: v.owner_email as string }, messageId: v.message_id },
        signer,
      );
      outcome = await options.transport.send({
        envelopeFrom: addressOf(from),
        to: v.owner_email as string,
        raw,
      });
    } catch (error) {
      outcome = { kind: "permanent", reply: (error as Error).message.slice(0, 500) };
    }
    const sent = outcome.kind === "sent";
    await ctx.db.transaction(async (tx) => {
      await tx.query(
        `UPDATE deliveries SET state = $3::text, attempts = 1, reply = $4,
           sent_at = CASE WHEN $3::text = 'sent' THEN now() END,
           updated_at = now() WHERE campaign_id = $1 AND ordinal = $2`,
        [campaignId, v.ordinal, sent ? "sent" : "failed", ctx.sealer.seal(outcome.reply)],
      );
      if (sent && outcome.kind === "sent" && outcome.store) {
        await tx.query(
          "INSERT INTO outbox (campaign_id, ordinal, message_id, message) VALUES ($1, $2, $3, $4)",
          [campaignId, v.ordinal, v.message_id, ctx.sealer.seal(outcome.store)],
        );
      }
      if (!sent) {
        // Give the claim back, unless a newer run or a completed review changed it meanwhile.
        await tx.query(
          "UPDATE vendors SET review_reminded_at = $3 WHERE id = $1 AND review_reminded_at = $2",
          [v.id, now, v.previous],
        );
      }
      await appendAudit(tx, actor, "vendor.review.remind", `vendor:${v.id}`, {
        campaign: campaignId,
        ordinal: v.ordinal,
        next_review_at: v.next_review_at,
        outcome: sent ? "sent" : "failed",
      });
    });
    report.items.push(item(v, sent ? "sent" : "failed"));
    if (sent) report.sent++;
    else report.failed++;
  }
  await ctx.db.query("UPDATE campaigns SET status = 'done', finished_at = now() WHERE id = $1", [campaignId]);
  report.items.sort((a, b) =>
    a.next_review_at < b.next_review_at ? -1 : a.next_review_at > b.next_review_at ? 1 : 0,
  );
  return report;
}

/**
 * What the server (and `blastradius worker`) runs: reminders once at start, then every 24 hours,
 * through the configured transport. A failure is logged and tried again on the next round.
 */
export function startReviewReminders(
  ctx: Context,
  log: (line: string) => void,
  everyMs = DAY_MS,
): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  const round = async () => {
    const from = defaultReminderFrom(ctx.config);
    let transport: Transport | null = null;
    try {
      transport = reminderTransport(ctx.config);
      const report = await sendReviewReminders(ctx, systemActor, {
        transport,
        from,
        dkim: reminderDkim(ctx.config, from),
      });
      if (report.sent + report.failed > 0) {
        log(
          `vendor review reminders: ${report.sent} sent, ${report.failed} failed (via ${report.transport}, campaign ${report.campaign_id})`,
        );
      }
    } catch (error) {
      log(`vendor review reminders failed: ${(error as Error).message}`);
    } finally {
      await transport?.close().catch(() => {});
    }
  };
  const tick = () => {
    if (running) return;
    running = round().finally(() => {
      running = null;
    });
  };
  tick();
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
