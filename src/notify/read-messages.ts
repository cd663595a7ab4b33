import { createWriteStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { finished } from "node:stream/promises";
import { stringify } from "csv-stringify";
import type { Context } from "../app/context.ts";
import { appendAudit } from "../audit/audit-log.ts";
import { type Actor, requireRole } from "../auth/roles.ts";
import { AppError } from "../lib/errors.ts";
import {
  type Campaign,
  type CampaignSettings,
  findDeliveryByEmail,
  loadCampaign,
  openDelivery,
} from "./campaigns.ts";
import { composeMessage, domainOf, withoutControls } from "./compose-message.ts";
import { type AudienceFilter, readAnalysisAudience } from "./load-audience.ts";
import type { Audience, Recipient, RenderedNotice } from "./notice-types.ts";
import { renderNotice } from "./render-notice.ts";

/** A message as a person reviews it: headers, the text part, then the HTML part. */
export type Preview = {
  from: string;
  to: string;
  subject: string;
  messageId: string;
  locale: string;
  text: string;
  html: string;
  /** the complete RFC 5322 message (unsigned) */
  raw: Buffer;
};

async function preview(
  audience: Audience,
  settings: CampaignSettings,
  recipient: Recipient,
  messageId: string,
): Promise<Preview> {
  const notice: RenderedNotice = renderNotice(audience, recipient, settings);
  const raw = await composeMessage(
    notice,
    { from: settings.from, replyTo: settings.replyTo, to: recipient, messageId },
    null,
  );
  const to = recipient.name ? `${withoutControls(recipient.name)} <${recipient.email}>` : recipient.email;
  return {
    from: settings.from,
    to,
    subject: notice.subject,
    messageId,
    locale: notice.locale,
    text: notice.text,
    html: notice.html,
    raw,
  };
}

export function formatPreview(p: Preview): string {
  return [
    `From: ${p.from}`,
    `To: ${p.to}`,
    `Subject: ${p.subject}`,
    `Message-ID: ${p.messageId}`,
    `Language: ${p.locale}`,
    "",
    p.text.trimEnd(),
    "",
    "----- HTML part -----",
    p.html.trimEnd(),
    "",
  ].join("\n");
}

/** Before any campaign exists: the message one person of an analysis folder would get. */
export async function previewFromAnalysis(input: {
  dir: string;
  audience: Audience;
  filter: AudienceFilter;
  email: string;
  locale?: string;
  settings: CampaignSettings;
}): Promise<Preview> {
  const wanted = input.email.trim().toLowerCase();
  for await (const batch of readAnalysisAudience(input.dir, input.audience, input.filter)) {
    const found = batch.find((r) => r.email === wanted);
    if (found) {
      const recipient = input.locale ? { ...found, locale: input.locale } : found;
      return preview(
        input.audience,
        input.settings,
        recipient,
        `<preview@${domainOf(input.settings.from) ?? "blastradius.invalid"}>`,
      );
    }
  }
  throw new AppError("NOT_FOUND", `${input.email} is not in the ${input.audience} audience of ${input.dir}`);
}

/** The message a campaign's recipient gets (or got), with its real Message-ID; an audited read. */
export async function previewFromCampaign(
  ctx: Pick<Context, "db" | "sealer">,
  actor: Actor,
  id: string,
  email: string,
  locale?: string,
): Promise<Preview> {
  requireRole(actor, "analyst", "previewing a campaign's message");
  return ctx.db.transaction(async (tx) => {
    const campaign = await loadCampaign(tx, id);
    const d = await findDeliveryByEmail(ctx, tx, id, email);
    await appendAudit(tx, actor, "campaign.preview", `campaign:${id}`, { ordinal: d.ordinal });
    const recipient = locale ? { ...d.recipient, locale } : d.recipient;
    return preview(campaign.audience, campaign.settings, recipient, d.messageId);
  });
}

/** A message the built-in outbox holds, exactly as it was stored (signed, if DKIM was on). */
export async function readOutboxMessage(
  ctx: Pick<Context, "db" | "sealer">,
  actor: Actor,
  id: string,
  email: string,
): Promise<{ messageId: string; raw: Buffer }> {
  requireRole(actor, "analyst", "reading the outbox");
  return ctx.db.transaction(async (tx) => {
    await loadCampaign(tx, id);
    const d = await findDeliveryByEmail(ctx, tx, id, email);
    const r = await tx.query<{ message: Uint8Array }>(
      "SELECT message FROM outbox WHERE campaign_id = $1 AND ordinal = $2",
      [id, d.ordinal],
    );
    if (!r.rows[0])
      throw new AppError("NOT_FOUND", `the outbox holds no message of campaign ${id} for that address`);
    await appendAudit(tx, actor, "campaign.outbox.read", `campaign:${id}`, { ordinal: d.ordinal });
    return { messageId: d.messageId, raw: ctx.sealer.open(Buffer.from(r.rows[0].message)) };
  });
}

const EXPORT_PAGE = 1000;

/** CSV cells a spreadsheet would run as a formula get a leading apostrophe (as in people.csv). */
function cell(value: string | null): string {
  const v = value ?? "";
  return /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
}

/**
 * Every recipient with their rendered message, for channels other than email: `recipients.csv`
 * (ordinal, email, name, language, country, categories, state, message_id, file) and one `.eml`
 * file per recipient under `messages/`. Personal data leaves the store here, so it is audited.
 */
export async function exportCampaign(
  ctx: Pick<Context, "db" | "sealer">,
  actor: Actor,
  id: string,
  outDir: string,
  onProgress?: (done: number, total: number) => void,
): Promise<{ recipients: number; dir: string }> {
  requireRole(actor, "analyst", "exporting a campaign");
  const campaign: Campaign = await loadCampaign(ctx.db, id);
  const messagesDir = path.join(outDir, "messages");
  await mkdir(messagesDir, { recursive: true });
  const csv = stringify({
    header: true,
    columns: ["ordinal", "email", "name", "language", "country", "categories", "state", "message_id", "file"],
  });
  const out = createWriteStream(path.join(outDir, "recipients.csv"));
  csv.pipe(out);
  let offset = 0;
  for (;;) {
    const r = await ctx.db.query<Parameters<typeof openDelivery>[1]>(
      `SELECT ordinal, recipient, message_id, state, attempts, reply, queued_at, sending_at, sent_at, updated_at
       FROM deliveries WHERE campaign_id = $1 AND ordinal >= $2 ORDER BY ordinal LIMIT $3`,
      [id, offset, EXPORT_PAGE],
    );
    if (!r.rows.length) break;
    for (const row of r.rows) {
      const d = openDelivery(ctx.sealer, row);
      const file = `messages/${String(d.ordinal).padStart(7, "0")}.eml`;
      const p = await preview(campaign.audience, campaign.settings, d.recipient, d.messageId);
      await writeFile(path.join(outDir, file), p.raw);
      const line = [
        String(d.ordinal),
        cell(d.recipient.email),
        cell(d.recipient.name),
        cell(d.recipient.locale),
        cell(d.recipient.country),
        d.recipient.categories.join(";"),
        d.state,
        d.messageId,
        file,
      ];
      if (!csv.write(line)) await new Promise((resolve) => csv.once("drain", resolve));
    }
    offset = (r.rows.at(-1)?.ordinal ?? offset) + 1;
    onProgress?.(Math.min(offset, campaign.recipients), campaign.recipients);
  }
  csv.end();
  await finished(out);
  await ctx.db.transaction((tx) =>
    appendAudit(tx, actor, "campaign.export", `campaign:${id}`, { recipients: campaign.recipients }),
  );
  return { recipients: campaign.recipients, dir: outDir };
}
