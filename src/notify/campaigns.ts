import { randomBytes } from "node:crypto";
import type { Context } from "../app/context.ts";
import { appendAudit } from "../audit/audit-log.ts";
import { type Actor, requireRole } from "../auth/roles.ts";
import { AppError } from "../lib/errors.ts";
import type { Queryable } from "../store/db.ts";
import { domainOf } from "./compose-message.ts";
import type { AudienceFilter } from "./load-audience.ts";
import type { Audience, NoticeSettings, Recipient } from "./notice-types.ts";

/**
 * A campaign is its settings plus a delivery ledger with one row per recipient, written once when
 * the campaign is made. Every later step (approval, sending, bounces) only moves ledger rows between
 * states, so the ledger is always the complete list of who must hear from us and what became of it.
 */

export const DELIVERY_STATES = ["queued", "sending", "sent", "failed", "bounced", "suppressed"] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

export type CampaignStatus = "draft" | "approved" | "sending" | "done";

export type CampaignSettings = NoticeSettings & {
  /** the From header: an address or `Name <address>` */
  from: string;
  replyTo: string | null;
};

export type Campaign = {
  id: string;
  incidentId: string | null;
  runId: string | null;
  source: string;
  audience: Audience;
  filters: AudienceFilter;
  settings: CampaignSettings;
  nonce: string;
  status: CampaignStatus;
  recipients: number;
  createdBy: string;
  createdAt: Date;
  approvedBy: string | null;
  approvedAt: Date | null;
  finishedAt: Date | null;
};

export type CampaignCounts = {
  total: number;
  sent: number;
  failed: number;
  bounced: number;
  suppressed: number;
  /** queued or sending: still owed a message */
  pending: number;
};

export const CAMPAIGN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function requireCampaignId(id: string | undefined, flag = "campaign id"): string {
  if (!id || !CAMPAIGN_ID.test(id)) {
    throw new AppError(
      "USAGE",
      `${flag} must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit (got ${JSON.stringify(id ?? "")})`,
    );
  }
  return id;
}

const COLUMNS = `id, incident_id::text AS incident_id, run_id::text AS run_id, source, audience, filters, settings, nonce,
  status, recipients, created_by, created_at, approved_by, approved_at, finished_at`;

type CampaignRow = {
  id: string;
  incident_id: string | null;
  run_id: string | null;
  source: string;
  audience: Audience;
  filters: AudienceFilter;
  settings: CampaignSettings;
  nonce: string;
  status: CampaignStatus;
  recipients: number;
  created_by: string;
  created_at: Date;
  approved_by: string | null;
  approved_at: Date | null;
  finished_at: Date | null;
};

function toCampaign(r: CampaignRow): Campaign {
  return {
    id: r.id,
    incidentId: r.incident_id,
    runId: r.run_id,
    source: r.source,
    audience: r.audience,
    filters: r.filters,
    settings: r.settings,
    nonce: r.nonce,
    status: r.status,
    recipients: r.recipients,
    createdBy: r.created_by,
    createdAt: r.created_at,
    approvedBy: r.approved_by,
    approvedAt: r.approved_at,
    finishedAt: r.finished_at,
  };
}

export async function findCampaign(q: Queryable, id: string): Promise<Campaign | null> {
  const r = await q.query<CampaignRow>(`SELECT ${COLUMNS} FROM campaigns WHERE id = $1`, [id]);
  return r.rows[0] ? toCampaign(r.rows[0]) : null;
}

export async function loadCampaign(q: Queryable, id: string): Promise<Campaign> {
  const c = await findCampaign(q, requireCampaignId(id));
  if (!c) throw new AppError("NOT_FOUND", `no campaign ${id}`);
  return c;
}

export async function getCampaign(ctx: Pick<Context, "db">, actor: Actor, id: string): Promise<Campaign> {
  requireRole(actor, "viewer", "reading a campaign");
  return loadCampaign(ctx.db, id);
}

export async function listCampaigns(
  ctx: Pick<Context, "db">,
  actor: Actor,
  incidentId?: string,
): Promise<Campaign[]> {
  requireRole(actor, "viewer", "listing campaigns");
  const r = incidentId
    ? await ctx.db.query<CampaignRow>(
        `SELECT ${COLUMNS} FROM campaigns WHERE incident_id = $1 ORDER BY created_at`,
        [incidentId],
      )
    : await ctx.db.query<CampaignRow>(`SELECT ${COLUMNS} FROM campaigns ORDER BY created_at`);
  return r.rows.map(toCampaign);
}

/** The Message-ID of one recipient: the same on every attempt, so receivers can tell a resend. */
export function messageIdFor(campaign: Pick<Campaign, "id" | "nonce" | "settings">, ordinal: number): string {
  const domain = domainOf(campaign.settings.from) ?? "blastradius.invalid";
  return `<${campaign.id}.${ordinal}.${campaign.nonce}@${domain}>`;
}

export function emailHash(sealer: Context["sealer"], email: string): string {
  return sealer.keyedHash(`email:${email.trim().toLowerCase()}`);
}

export type NewCampaign = {
  id: string;
  incidentId?: string | null;
  runId?: string | null;
  source: string;
  audience: Audience;
  filters: AudienceFilter;
  settings: CampaignSettings;
  /**
   * the recipients, in batches (e.g. readAnalysisAudience), or a function that reads them through the
   * campaign's transaction (readRunAudience): the embedded store has one connection, held by it
   */
  recipients: AsyncIterable<Recipient[]> | ((tx: Queryable) => AsyncIterable<Recipient[]>);
};

const INSERT_BATCH = 1000;

/**
 * Writes the campaign and its whole ledger in one transaction: a crash while loading leaves no
 * campaign, never a campaign missing recipients. Addresses on the suppression list start suppressed.
 */
export async function createCampaign(
  ctx: Pick<Context, "db" | "sealer">,
  actor: Actor,
  input: NewCampaign,
): Promise<Campaign> {
  requireRole(actor, "responder", "creating a campaign");
  requireCampaignId(input.id);
  if (!domainOf(input.settings.from)) {
    throw new AppError("USAGE", `the from address ${JSON.stringify(input.settings.from)} has no domain`);
  }
  const nonce = randomBytes(6).toString("hex");
  return ctx.db.transaction(async (tx) => {
    if (await findCampaign(tx, input.id))
      throw new AppError("CONFLICT", `campaign ${input.id} already exists`);
    await tx.query(
      `INSERT INTO campaigns (id, incident_id, run_id, source, audience, filters, settings, nonce, created_by)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9)`,
      [
        input.id,
        input.incidentId ?? null,
        input.runId ?? null,
        input.source,
        input.audience,
        JSON.stringify(input.filters),
        JSON.stringify(input.settings),
        nonce,
        actor.label,
      ],
    );
    const shape = { id: input.id, nonce, settings: input.settings };
    let ordinal = 0;
    let pending: Recipient[] = [];
    const flush = async () => {
      if (!pending.length) return;
      const first = ordinal;
      await tx.query(
        `INSERT INTO deliveries (campaign_id, ordinal, email_hash, recipient, message_id)
         SELECT $1, o, h, decode(s, 'base64'), m FROM unnest($2::int[], $3::text[], $4::text[], $5::text[]) AS t(o, h, s, m)`,
        [
          input.id,
          pending.map((_, i) => first + i),
          pending.map((r) => emailHash(ctx.sealer, r.email)),
          pending.map((r) => ctx.sealer.seal(JSON.stringify(r)).toString("base64")),
          pending.map((_, i) => messageIdFor(shape, first + i)),
        ],
      );
      ordinal += pending.length;
      pending = [];
    };
    const source = typeof input.recipients === "function" ? input.recipients(tx) : input.recipients;
    for await (const batch of source) {
      for (const r of batch) {
        pending.push(r);
        if (pending.length >= INSERT_BATCH) await flush();
      }
    }
    await flush();
    const suppressed = await suppressListed(tx, input.id);
    await tx.query("UPDATE campaigns SET recipients = $2 WHERE id = $1", [input.id, ordinal]);
    await appendAudit(tx, actor, "campaign.create", `campaign:${input.id}`, {
      incident: input.incidentId ?? null,
      run: input.runId ?? null,
      audience: input.audience,
      recipients: ordinal,
      suppressed,
    });
    return loadCampaign(tx, input.id);
  });
}

/** Queued recipients whose address is on the suppression list become suppressed. */
export async function suppressListed(q: Queryable, campaignId: string): Promise<number> {
  const r = await q.query<{ n: number }>(
    `WITH s AS (
       UPDATE deliveries d SET state = 'suppressed', updated_at = now()
       WHERE d.campaign_id = $1 AND d.state = 'queued'
         AND EXISTS (SELECT 1 FROM suppressions x WHERE x.email_hash = d.email_hash)
       RETURNING 1)
     SELECT count(*)::int AS n FROM s`,
    [campaignId],
  );
  return r.rows[0]?.n ?? 0;
}

/**
 * A second person signs off before anything is sent. The CLI's scripted path (`notify send`) is the
 * one exception: it records its operator as both author and approver, and says so in the audit log.
 */
export async function approveCampaign(
  ctx: Pick<Context, "db">,
  actor: Actor,
  id: string,
  options: { scripted?: boolean } = {},
): Promise<Campaign> {
  requireRole(actor, "responder", "approving a campaign");
  return ctx.db.transaction(async (tx) => {
    const c = await loadCampaign(tx, id);
    if (c.status !== "draft") throw new AppError("CONFLICT", `campaign ${id} is already ${c.status}`);
    const scripted = options.scripted === true && actor.kind === "cli";
    if (!scripted && c.createdBy === actor.label) {
      throw new AppError("FORBIDDEN", `campaign ${id} needs approval by a second person: you created it`);
    }
    await tx.query(
      "UPDATE campaigns SET status = 'approved', approved_by = $2, approved_at = now() WHERE id = $1",
      [id, actor.label],
    );
    await appendAudit(tx, actor, "campaign.approve", `campaign:${id}`, {
      recipients: c.recipients,
      scripted,
    });
    return loadCampaign(tx, id);
  });
}

export async function campaignCounts(q: Queryable, id: string): Promise<CampaignCounts> {
  const r = await q.query<{ state: DeliveryState; n: number }>(
    "SELECT state, count(*)::int AS n FROM deliveries WHERE campaign_id = $1 GROUP BY state",
    [id],
  );
  const by = Object.fromEntries(r.rows.map((x) => [x.state, x.n])) as Partial<Record<DeliveryState, number>>;
  const counts = {
    sent: by.sent ?? 0,
    failed: by.failed ?? 0,
    bounced: by.bounced ?? 0,
    suppressed: by.suppressed ?? 0,
    pending: (by.queued ?? 0) + (by.sending ?? 0),
  };
  return {
    total: counts.sent + counts.failed + counts.bounced + counts.suppressed + counts.pending,
    ...counts,
  };
}

export async function getCampaignStatus(
  ctx: Pick<Context, "db">,
  actor: Actor,
  id: string,
): Promise<{ campaign: Campaign; counts: CampaignCounts }> {
  requireRole(actor, "viewer", "reading a campaign");
  const campaign = await loadCampaign(ctx.db, id);
  return { campaign, counts: await campaignCounts(ctx.db, id) };
}

export type Delivery = {
  ordinal: number;
  recipient: Recipient;
  messageId: string;
  state: DeliveryState;
  attempts: number;
  reply: string | null;
  queuedAt: Date;
  sendingAt: Date | null;
  sentAt: Date | null;
  updatedAt: Date;
};

type DeliveryRow = {
  ordinal: number;
  recipient: Uint8Array;
  message_id: string;
  state: DeliveryState;
  attempts: number;
  reply: Uint8Array | null;
  queued_at: Date;
  sending_at: Date | null;
  sent_at: Date | null;
  updated_at: Date;
};

export function openDelivery(sealer: Context["sealer"], row: DeliveryRow): Delivery {
  return {
    ordinal: row.ordinal,
    recipient: JSON.parse(sealer.openText(Buffer.from(row.recipient))) as Recipient,
    messageId: row.message_id,
    state: row.state,
    attempts: row.attempts,
    reply: row.reply ? sealer.openText(Buffer.from(row.reply)) : null,
    queuedAt: row.queued_at,
    sendingAt: row.sending_at,
    sentAt: row.sent_at,
    updatedAt: row.updated_at,
  };
}

const DELIVERY_COLUMNS =
  "ordinal, recipient, message_id, state, attempts, reply, queued_at, sending_at, sent_at, updated_at";

/** One page of the ledger, opened: personal data, so analysts and up, and the read is audited. */
export async function listDeliveries(
  ctx: Pick<Context, "db" | "sealer">,
  actor: Actor,
  id: string,
  page: { offset?: number; limit?: number; state?: DeliveryState } = {},
): Promise<{ items: Delivery[]; offset: number; limit: number }> {
  requireRole(actor, "analyst", "reading a campaign's recipients");
  const offset = page.offset ?? 0;
  const limit = page.limit ?? 100;
  if (!Number.isInteger(offset) || offset < 0)
    throw new AppError("BAD_INPUT", "offset: a whole number from 0");
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new AppError("BAD_INPUT", "limit: 1 to 1000");
  return ctx.db.transaction(async (tx) => {
    await loadCampaign(tx, id);
    const r = await tx.query<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE campaign_id = $1 AND ($2::text IS NULL OR state = $2)
       AND ordinal >= $3 ORDER BY ordinal LIMIT $4`,
      [id, page.state ?? null, offset, limit],
    );
    await appendAudit(tx, actor, "campaign.recipients.read", `campaign:${id}`, {
      offset,
      count: r.rows.length,
    });
    return { items: r.rows.map((row) => openDelivery(ctx.sealer, row)), offset, limit };
  });
}

/** The delivery of one address in a campaign (previews, the outbox), or NOT_FOUND. */
export async function findDeliveryByEmail(
  ctx: Pick<Context, "sealer">,
  q: Queryable,
  id: string,
  email: string,
): Promise<Delivery> {
  const r = await q.query<DeliveryRow>(
    `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE campaign_id = $1 AND email_hash = $2 ORDER BY ordinal LIMIT 1`,
    [id, emailHash(ctx.sealer, email)],
  );
  if (!r.rows[0]) throw new AppError("NOT_FOUND", `campaign ${id} has no recipient with that address`);
  return openDelivery(ctx.sealer, r.rows[0]);
}
