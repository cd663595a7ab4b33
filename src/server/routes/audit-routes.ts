import { z } from "zod";
import type { Context } from "../../app/context.ts";
import { checkAuditLog, readAuditLog } from "../../audit/audit-access.ts";
import { actorOf } from "../authenticate.ts";
import type { App } from "../build-server.ts";
import { auditEvent } from "../schemas.ts";

export async function auditRoutes(app: App, ctx: Context): Promise<void> {
  const tags = ["audit"];
  app.get(
    "/audit",
    {
      config: { role: "admin" },
      schema: {
        tags,
        summary: "Audit events in order; page with after=<last seq seen>",
        querystring: z.object({
          after: z.coerce.number().int().min(0).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
          action: z.string().optional(),
          subject: z.string().optional(),
        }),
        response: { 200: z.array(auditEvent) },
      },
    },
    async (request) =>
      readAuditLog(ctx, actorOf(request), {
        afterSeq: request.query.after,
        limit: request.query.limit,
        action: request.query.action,
        subject: request.query.subject,
      }),
  );
  app.get(
    "/audit/verify",
    {
      config: { role: "admin" },
      schema: {
        tags,
        summary: "Check the hash chain; names every event that was changed, removed or reordered",
        querystring: z.object({
          anchor_seq: z.coerce.number().int().min(1).optional(),
          anchor_hash: z.string().length(64).optional(),
        }),
        response: {
          200: z.object({
            ok: z.boolean(),
            events: z.number(),
            head: z.object({ seq: z.number(), hash: z.string() }).nullable(),
            problems: z.array(z.object({ seq: z.number(), problem: z.string() })),
          }),
        },
      },
    },
    async (request) =>
      checkAuditLog(ctx, actorOf(request), {
        anchor:
          request.query.anchor_seq && request.query.anchor_hash
            ? { seq: request.query.anchor_seq, hash: request.query.anchor_hash }
            : undefined,
      }),
  );
}
