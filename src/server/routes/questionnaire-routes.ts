import { z } from "zod";
import type { Context } from "../../app/context.ts";
import { AppError } from "../../lib/errors.ts";
import {
  ANSWERS,
  addEvidence,
  EVIDENCE_MAX_BYTES,
  EXPIRY_DAYS_MAX,
  getEvidence,
  listQuestionnaires,
  openQuestionnaire,
  requireWritableLink,
  revokeQuestionnaire,
  sendQuestionnaire,
  submitAnswers,
} from "../../vendors/questionnaires.ts";
import { attachment } from "../attachment.ts";
import { actorOf } from "../authenticate.ts";
import type { App } from "../build-server.ts";
import { idParam } from "../schemas.ts";

const answer = z.object({ answer: z.enum(ANSWERS), comment: z.string().nullable() });

const evidenceMeta = z.object({
  id: z.string(),
  requirement_id: z.string(),
  name: z.string(),
  content_type: z.string().nullable(),
  bytes: z.number(),
  sha256: z.string(),
  created_at: z.string(),
});
const publicEvidence = evidenceMeta.omit({ sha256: true, content_type: true });

export const questionnaire = z
  .object({
    id: z.string(),
    vendor_id: z.string(),
    requirement_set: z.string(),
    status: z.enum(["sent", "submitted", "revoked", "expired"]),
    recipient: z.string().nullable(),
    respondent: z.string().nullable(),
    expires_at: z.string(),
    created_at: z.string(),
    created_by: z.string().nullable(),
    submitted_at: z.string().nullable(),
    answers: z.record(z.string(), answer).nullable(),
    evidence: z.array(evidenceMeta),
  })
  .meta({ id: "Questionnaire" });

const publicQuestionnaire = z
  .object({
    vendor: z.string(),
    set: z.object({ name: z.string(), title: z.string(), description: z.string() }),
    requirements: z.array(
      z.object({ id: z.string(), title: z.string(), question: z.string(), why: z.string() }),
    ),
    status: z.enum(["sent", "submitted"]),
    expires_at: z.string(),
    respondent: z.string().nullable(),
    submitted_at: z.string().nullable(),
    answers: z.record(z.string(), answer).nullable(),
    evidence: z.array(publicEvidence),
    max_evidence_bytes: z.number(),
  })
  .meta({ id: "PublicQuestionnaire" });

const tokenParam = z.object({ token: z.string().max(100) });
const questionnaireParams = z.object({ id: z.uuid(), questionnaireId: z.uuid() });

/**
 * Questionnaires: responders send and revoke links and read the answers and evidence; the vendor
 * uses the public routes under /questionnaires/:token, with no account and a rate limit per client.
 */
export async function questionnaireRoutes(
  app: App,
  ctx: Context,
  rate: { max: number; timeWindow: string },
): Promise<void> {
  const tags = ["questionnaires"];
  // Reading and uploading take several requests per visit; submitting takes one.
  const browse = { rateLimit: { ...rate, max: rate.max * 6 } };
  const submit = { rateLimit: rate };

  app.post(
    "/vendors/:id/questionnaires",
    {
      config: { role: "responder" },
      schema: {
        tags,
        summary: "Send the vendor's requirement set as a questionnaire link (the token is shown once)",
        description:
          "The vendor needs a requirement set. `link` is the page to give the vendor (prefix it with this server's address); only the token's SHA-256 is kept.",
        params: idParam,
        body: z
          .object({
            recipient: z.string().max(300).nullable().optional(),
            expires_in_days: z.number().int().min(1).max(EXPIRY_DAYS_MAX).optional(),
          })
          .optional(),
        response: { 201: z.object({ questionnaire, link: z.string(), token: z.string() }) },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await sendQuestionnaire(ctx, actorOf(request), request.params.id, request.body ?? {})),
  );
  app.get(
    "/vendors/:id/questionnaires",
    {
      config: { role: "viewer" },
      schema: {
        tags,
        summary:
          "The vendor's questionnaires, newest first, with answers and evidence files (names and sizes)",
        params: idParam,
        response: { 200: z.array(questionnaire) },
      },
    },
    async (request) => listQuestionnaires(ctx, actorOf(request), request.params.id),
  );
  app.post(
    "/vendors/:id/questionnaires/:questionnaireId/revoke",
    {
      config: { role: "responder" },
      schema: {
        tags,
        summary: "Stop a questionnaire link from working",
        params: questionnaireParams,
        response: { 200: questionnaire },
      },
    },
    async (request) =>
      revokeQuestionnaire(ctx, actorOf(request), request.params.id, request.params.questionnaireId),
  );
  app.get(
    "/vendors/:id/questionnaires/:questionnaireId/evidence/:evidenceId",
    {
      config: { role: "responder" },
      schema: {
        tags,
        summary: "An evidence file as the vendor gave it (audited)",
        params: questionnaireParams.extend({ evidenceId: z.uuid() }),
      },
    },
    async (request, reply) => {
      const e = await getEvidence(
        ctx,
        actorOf(request),
        request.params.id,
        request.params.questionnaireId,
        request.params.evidenceId,
      );
      return reply
        .type("application/octet-stream")
        .header("content-disposition", attachment(e.name))
        .header("x-content-sha256", e.sha256)
        .send(e.content);
    },
  );

  app.get(
    "/questionnaires/:token",
    {
      config: { role: "public", ...browse },
      schema: {
        tags,
        summary: "(Public, for the vendor) the questionnaire behind a link",
        description: "404 for a link we never made; 410 once it expired or was revoked.",
        params: tokenParam,
        response: { 200: publicQuestionnaire },
      },
    },
    async (request) => openQuestionnaire(ctx, request.params.token),
  );
  app.post(
    "/questionnaires/:token",
    {
      config: { role: "public", ...submit },
      schema: {
        tags,
        summary: "(Public, for the vendor) submit the answers, once",
        description:
          "Every requirement needs an answer (yes, no, partial or not_applicable). Each no or partial opens a finding for us to follow up. 409 once submitted; 410 once expired or revoked.",
        params: tokenParam,
        body: z.object({
          respondent: z.string().max(300),
          answers: z.record(
            z.string().max(60),
            z.object({ answer: z.string().max(20), comment: z.string().max(5000).nullable().optional() }),
          ),
        }),
        response: { 200: publicQuestionnaire.extend({ findings_opened: z.number() }) },
      },
    },
    async (request) => submitAnswers(ctx, request.params.token, request.body),
  );
  app.post(
    "/questionnaires/:token/evidence",
    {
      config: { role: "public", ...browse },
      schema: {
        tags,
        summary: "(Public, for the vendor) attach an evidence file to an answer, before submitting",
        description: `multipart/form-data: a \`requirement_id\` field, then the \`file\` (at most ${EVIDENCE_MAX_BYTES} bytes). Sealed at rest.`,
        params: tokenParam,
        consumes: ["multipart/form-data"],
        response: { 201: publicEvidence },
      },
    },
    async (request, reply) => {
      await requireWritableLink(ctx, request.params.token);
      if (!request.isMultipart()) {
        throw new AppError(
          "USAGE",
          "send multipart/form-data: a `requirement_id` field, then the `file` field",
        );
      }
      const part = await request.file({ limits: { fileSize: EVIDENCE_MAX_BYTES, files: 1, fields: 2 } });
      if (!part) throw new AppError("USAGE", "file: the form has no file");
      if (part.fieldname !== "file") {
        throw new AppError("USAGE", `field ${JSON.stringify(part.fieldname)}: send the file as \`file\``);
      }
      const field = part.fields.requirement_id;
      const requirementId =
        field && !Array.isArray(field) && field.type === "field" ? String(field.value) : "";
      if (!requirementId) {
        throw new AppError("USAGE", "requirement_id: send it as a form field before the file");
      }
      const tooLarge = () =>
        new AppError("TOO_LARGE", `file: larger than the limit of ${EVIDENCE_MAX_BYTES} bytes (10 MiB)`);
      let content: Buffer;
      try {
        content = await part.toBuffer();
      } catch (error) {
        if ((error as { code?: string }).code === "FST_REQ_FILE_TOO_LARGE") throw tooLarge();
        throw error;
      }
      // At the limit the parser may end the stream as if it were complete: only `truncated` tells.
      if (part.file.truncated) throw tooLarge();
      const created = await addEvidence(ctx, request.params.token, {
        requirement_id: requirementId,
        name: part.filename,
        content_type: part.mimetype,
        content,
      });
      return reply.status(201).send(created);
    },
  );
}
