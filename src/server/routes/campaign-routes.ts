import { z } from "zod";
import type { Context } from "../../app/context.ts";
import {
  approveCampaign,
  CAMPAIGN_ID,
  type Campaign,
  DELIVERY_STATES,
  getCampaignStatus,
  listCampaigns,
  listDeliveries,
} from "../../notify/campaigns.ts";
import { createIncidentCampaign, startCampaignSend } from "../../notify/incident-campaign.ts";
import { AUDIENCES } from "../../notify/notice-types.ts";
import { previewFromCampaign, readOutboxMessage } from "../../notify/read-messages.ts";
import { recordBounce } from "../../notify/record-bounces.ts";
import { actorOf } from "../authenticate.ts";
import type { App } from "../build-server.ts";
import { idParam, pageQuery } from "../schemas.ts";

const campaignId = z.string().regex(CAMPAIGN_ID, "1 to 64 letters, digits, '.', '_' or '-'");
const campaignParam = z.object({ campaignId });

const counts = z.object({
  total: z.number(),
  sent: z.number(),
  failed: z.number(),
  bounced: z.number(),
  suppressed: z.number(),
  pending: z.number(),
});

const campaignBody = z
  .object({
    id: z.string(),
    incident_id: z.string().nullable(),
    run_id: z.string().nullable(),
    audience: z.enum(AUDIENCES),
    filters: z.record(z.string(), z.array(z.string())),
    settings: z.record(z.string(), z.unknown()),
    status: z.string(),
    recipients: z.number(),
    created_by: z.string(),
    created_at: z.string(),
    approved_by: z.string().nullable(),
    approved_at: z.string().nullable(),
    finished_at: z.string().nullable(),
  })
  .meta({ id: "Campaign" });

function campaignJson(c: Campaign) {
  return {
    id: c.id,
    incident_id: c.incidentId,
    run_id: c.runId,
    audience: c.audience,
    filters: c.filters as Record<string, string[]>,
    settings: c.settings as unknown as Record<string, unknown>,
    status: c.status,
    recipients: c.recipients,
    created_by: c.createdBy,
    created_at: new Date(c.createdAt).toISOString(),
    approved_by: c.approvedBy,
    approved_at: c.approvedAt ? new Date(c.approvedAt).toISOString() : null,
    finished_at: c.finishedAt ? new Date(c.finishedAt).toISOString() : null,
  };
}

const address = z
  .string()
  .min(3)
  .max(320)
  .regex(/^[^\r\n]+@[^\r\n]+$/, "an email address");
const list = z.array(z.string().min(1).max(200)).max(100);

const newCampaign = z.object({
  id: campaignId,
  run_id: z.uuid().optional(),
  audience: z.enum(AUDIENCES),
  filters: z
    .object({ countries: list.optional(), categories: list.optional(), orgs: list.optional() })
    .optional(),
  from: address,
  reply_to: address.optional(),
  notice: z
    .object({
      company: z.string().min(1).max(200).optional(),
      vendor: z.string().min(1).max(200).optional(),
      incident_start: z.string().optional(),
      incident_end: z.string().optional(),
      discovered_at: z.string().optional(),
      not_exposed: list.optional(),
      sender_domains: list.optional(),
      contact: z.string().min(3).max(300).optional(),
      locale_default: z.string().min(2).max(20).optional(),
    })
    .strict()
    .optional(),
});

export async function campaignRoutes(app: App, ctx: Context): Promise<void> {
  const tags = ["campaigns"];
  app.get(
    "/incidents/:id/campaigns",
    {
      config: { role: "viewer" },
      schema: {
        tags,
        summary: "The incident's notification campaigns",
        params: idParam,
        response: { 200: z.array(campaignBody) },
      },
    },
    async (request) => (await listCampaigns(ctx, actorOf(request), request.params.id)).map(campaignJson),
  );
  app.post(
    "/incidents/:id/campaigns",
    {
      config: { role: "responder" },
      schema: {
        tags,
        summary: "Make a campaign (a draft) from the incident's latest analysis, or the run given",
        params: idParam,
        body: newCampaign,
        response: { 201: campaignBody },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const c = await createIncidentCampaign(ctx, actorOf(request), request.params.id, {
        id: b.id,
        runId: b.run_id,
        audience: b.audience,
        filters: b.filters,
        from: b.from,
        replyTo: b.reply_to ?? null,
        notice: b.notice,
      });
      return reply.status(201).send(campaignJson(c));
    },
  );
  app.get(
    "/campaigns/:campaignId",
    {
      config: { role: "viewer" },
      schema: {
        tags,
        summary: "A campaign and its ledger's counts",
        params: campaignParam,
        response: { 200: z.object({ campaign: campaignBody, counts }) },
      },
    },
    async (request) => {
      const s = await getCampaignStatus(ctx, actorOf(request), request.params.campaignId);
      return { campaign: campaignJson(s.campaign), counts: s.counts };
    },
  );
  app.post(
    "/campaigns/:campaignId/approve",
    {
      config: { role: "responder" },
      schema: {
        tags,
        summary: "Approve a draft campaign (a second person: not its author); audited",
        params: campaignParam,
        response: { 200: campaignBody },
      },
    },
    async (request) => campaignJson(await approveCampaign(ctx, actorOf(request), request.params.campaignId)),
  );
  app.post(
    "/campaigns/:campaignId/send",
    {
      config: { role: "responder" },
      schema: {
        tags,
        summary: "Queue the sending of an approved campaign (a job; sending again resumes it)",
        params: campaignParam,
        response: { 202: z.object({ campaign: campaignBody, job_id: z.string() }) },
      },
    },
    async (request, reply) => {
      const r = await startCampaignSend(ctx, actorOf(request), request.params.campaignId);
      return reply.status(202).send({ campaign: campaignJson(r.campaign), job_id: r.job_id });
    },
  );
  app.get(
    "/campaigns/:campaignId/recipients",
    {
      config: { role: "analyst" },
      schema: {
        tags,
        summary: "The delivery ledger, a page at a time (audited)",
        params: campaignParam,
        querystring: pageQuery.extend({ state: z.enum(DELIVERY_STATES).optional() }),
        response: {
          200: z.object({
            items: z.array(
              z.object({
                ordinal: z.number(),
                email: z.string(),
                name: z.string().nullable(),
                locale: z.string().nullable(),
                state: z.enum(DELIVERY_STATES),
                attempts: z.number(),
                reply: z.string().nullable(),
                message_id: z.string(),
                sent_at: z.string().nullable(),
                updated_at: z.string(),
              }),
            ),
            offset: z.number(),
            limit: z.number(),
          }),
        },
      },
    },
    async (request) => {
      const p = await listDeliveries(ctx, actorOf(request), request.params.campaignId, request.query);
      return {
        offset: p.offset,
        limit: p.limit,
        items: p.items.map((d) => ({
          ordinal: d.ordinal,
          email: d.recipient.email,
          name: d.recipient.name,
          locale: d.recipient.locale,
          state: d.state,
          attempts: d.attempts,
          reply: d.reply,
          message_id: d.messageId,
          sent_at: d.sentAt ? new Date(d.sentAt).toISOString() : null,
          updated_at: new Date(d.updatedAt).toISOString(),
        })),
      };
    },
  );
  app.get(
    "/campaigns/:campaignId/preview",
    {
      config: { role: "analyst" },
      schema: {
        tags,
        summary: "The message one recipient gets: subject, text and HTML (audited)",
        params: campaignParam,
        querystring: z.object({ email: z.string().min(3), locale: z.string().max(20).optional() }),
        response: {
          200: z.object({
            from: z.string(),
            to: z.string(),
            subject: z.string(),
            message_id: z.string(),
            locale: z.string(),
            text: z.string(),
            html: z.string(),
          }),
        },
      },
    },
    async (request) => {
      const p = await previewFromCampaign(
        ctx,
        actorOf(request),
        request.params.campaignId,
        request.query.email,
        request.query.locale,
      );
      return {
        from: p.from,
        to: p.to,
        subject: p.subject,
        message_id: p.messageId,
        locale: p.locale,
        text: p.text,
        html: p.html,
      };
    },
  );
  app.get(
    "/campaigns/:campaignId/preview.html",
    {
      config: { role: "analyst" },
      schema: {
        tags,
        summary:
          "The HTML part one recipient gets, as a document of its own for the UI's preview frame (audited)",
        description:
          "Served under its own Content-Security-Policy: the message's inline styles apply, and nothing runs, loads or leaves.",
        params: campaignParam,
        querystring: z.object({ email: z.string().min(3), locale: z.string().max(20).optional() }),
      },
    },
    async (request, reply) => {
      const p = await previewFromCampaign(
        ctx,
        actorOf(request),
        request.params.campaignId,
        request.query.email,
        request.query.locale,
      );
      // The app's policy forbids inline styles and framing; this document needs the first and
      // allows only the second, from the app itself, in a sandbox with no scripts.
      reply.header(
        "content-security-policy",
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; base-uri 'none'; frame-ancestors 'self'; sandbox",
      );
      reply.header("x-frame-options", "SAMEORIGIN");
      return reply.type("text/html; charset=utf-8").send(p.html);
    },
  );
  app.get(
    "/campaigns/:campaignId/outbox",
    {
      config: { role: "analyst" },
      schema: {
        tags,
        summary: "A message held by the built-in outbox, as message/rfc822 (audited)",
        params: campaignParam,
        querystring: z.object({ email: z.string().min(3) }),
      },
    },
    async (request, reply) => {
      const m = await readOutboxMessage(
        ctx,
        actorOf(request),
        request.params.campaignId,
        request.query.email,
      );
      return reply.type("message/rfc822").send(m.raw);
    },
  );
  app.post(
    "/bounces",
    {
      config: { role: "responder" },
      bodyLimit: 5 * 1024 * 1024,
      schema: {
        tags,
        summary: "Report a bounce: the raw delivery status notification (RFC 3464) as message/rfc822",
        response: { 200: z.object({ hard: z.number(), soft: z.number(), unmatched: z.number() }) },
      },
    },
    async (request) => recordBounce(ctx, actorOf(request), request.body as Buffer),
  );
}
