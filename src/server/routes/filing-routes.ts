import { z } from "zod";
import type { Context } from "../../app/context.ts";
import {
  decodeBase64,
  EVIDENCE_MAX_BYTES,
  getFilingEvidence,
  listFilings,
  recordFiling,
} from "../../obligations/file-notice.ts";
import { attachment } from "../attachment.ts";
import { actorOf } from "../authenticate.ts";
import type { App } from "../build-server.ts";
import { idParam } from "../schemas.ts";

export const filing = z
  .object({
    id: z.string(),
    incident_id: z.string(),
    regime: z.string(),
    audience: z.string(),
    filed_at: z.string(),
    reference: z.string().nullable(),
    note: z.string().nullable(),
    evidence: z
      .object({ name: z.string(), bytes: z.number().nullable(), sha256: z.string(), available: z.boolean() })
      .nullable(),
    filed_by: z.string().nullable(),
    created_at: z.string(),
  })
  .meta({ id: "Filing" });

// 10 MiB of evidence as base64, and room for the rest of the body.
const BASE64_MAX = Math.ceil(EVIDENCE_MAX_BYTES / 3) * 4;
const FILING_BODY_LIMIT = BASE64_MAX + 256 * 1024;

export async function filingRoutes(app: App, ctx: Context): Promise<void> {
  const tags = ["filings"];
  app.get(
    "/incidents/:id/filings",
    {
      config: { role: "viewer" },
      schema: {
        tags,
        summary: "Notices marked as filed, oldest first",
        params: idParam,
        response: { 200: z.array(filing) },
      },
    },
    async (request) => listFilings(ctx, actorOf(request), request.params.id),
  );
  app.post(
    "/incidents/:id/filings",
    {
      config: { role: "responder" },
      bodyLimit: FILING_BODY_LIMIT,
      schema: {
        tags,
        summary:
          "Mark a regime's notice to an audience as filed, with an optional evidence file (at most 10 MiB, base64; sealed)",
        params: idParam,
        body: z.object({
          regime: z.string().max(40),
          audience: z.string().max(40),
          filed_at: z.string().max(40).optional(),
          reference: z.string().max(300).nullable().optional(),
          note: z.string().max(20_000).nullable().optional(),
          evidence: z
            .object({ name: z.string().min(1).max(300), content_base64: z.string().max(BASE64_MAX + 1024) })
            .optional(),
        }),
        response: { 201: filing },
      },
    },
    async (request, reply) => {
      const { evidence, ...rest } = request.body;
      const created = await recordFiling(ctx, actorOf(request), request.params.id, {
        ...rest,
        ...(evidence
          ? {
              evidence: {
                name: evidence.name,
                content: decodeBase64(evidence.content_base64, "evidence.content_base64"),
              },
            }
          : {}),
      });
      return reply.status(201).send(created);
    },
  );
  app.get(
    "/incidents/:id/filings/:filingId/evidence",
    {
      config: { role: "analyst" },
      schema: {
        tags,
        summary: "A filing's evidence file as it was given (audited)",
        params: z.object({ id: z.uuid(), filingId: z.uuid() }),
      },
    },
    async (request, reply) => {
      const e = await getFilingEvidence(ctx, actorOf(request), request.params.id, request.params.filingId);
      return reply
        .type("application/octet-stream")
        .header("content-disposition", attachment(e.name))
        .header("x-content-sha256", e.sha256)
        .send(e.content);
    },
  );
}
