import { z } from "zod";
import type { Context } from "../../app/context.ts";
import { downloadResultFile, RESULT_FILES } from "../../impact/download-results.ts";
import {
  getRun,
  getRunObligations,
  getRunSummary,
  listRuns,
  readAffectedOrgs,
  readAffectedPeople,
  startAnalysis,
} from "../../impact/incident-analysis.ts";
import { readQuarantine } from "../../impact/read-quarantine.ts";
import { actorOf } from "../authenticate.ts";
import type { App } from "../build-server.ts";
import {
  analysisRun,
  idParam,
  obligation,
  org,
  page,
  pageQuery,
  person,
  quarantinedRow,
  summary,
} from "../schemas.ts";

const runParams = z.object({ id: z.uuid(), runId: z.uuid() });

const peopleQuery = pageQuery.extend({
  q: z
    .string()
    .trim()
    .min(1)
    .max(1000)
    .optional()
    .meta({ description: "one person exactly: an email (any case), a user id or a person key" }),
  country: z
    .string()
    .regex(/^([A-Za-z]{2}|unknown)$/, "a two-letter country code, or unknown")
    .optional()
    .meta({ description: "ISO country code, or unknown" }),
  category: z
    .string()
    .max(200)
    .regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/, "a category key such as user.contact")
    .optional()
    .meta({
      description: "a category key; its sub-categories match too (user.device: user.device.ip_address)",
    }),
});

export async function analysisRoutes(app: App, ctx: Context): Promise<void> {
  const tags = ["analyses"];
  app.get(
    "/incidents/:id/analyses",
    {
      config: { role: "viewer" },
      schema: {
        tags,
        summary: "The incident's analysis runs, newest first",
        params: idParam,
        response: { 200: z.array(analysisRun) },
      },
    },
    async (request) => listRuns(ctx, actorOf(request), request.params.id),
  );
  app.post(
    "/incidents/:id/analyses",
    {
      config: { role: "analyst" },
      schema: {
        tags,
        summary: "Start an analysis of the incident's datasets (a job); poll the run for progress",
        params: idParam,
        body: z.object({ dataset_ids: z.array(z.uuid()).optional() }).optional(),
        response: { 202: analysisRun },
      },
    },
    async (request, reply) =>
      reply.status(202).send(
        await startAnalysis(ctx, actorOf(request), request.params.id, {
          datasetIds: request.body?.dataset_ids,
        }),
      ),
  );
  app.get(
    "/incidents/:id/analyses/:runId",
    {
      config: { role: "viewer" },
      schema: {
        tags,
        summary: "One run: status, attempts and progress",
        params: runParams,
        response: { 200: analysisRun },
      },
    },
    async (request) => getRun(ctx, actorOf(request), request.params.id, request.params.runId),
  );
  app.get(
    "/incidents/:id/analyses/:runId/summary",
    {
      config: { role: "viewer" },
      schema: {
        tags,
        summary: "The run's summary (counts only)",
        params: runParams,
        response: { 200: summary },
      },
    },
    async (request) => getRunSummary(ctx, actorOf(request), request.params.id, request.params.runId),
  );
  app.get(
    "/incidents/:id/analyses/:runId/obligations",
    {
      config: { role: "viewer" },
      schema: {
        tags,
        summary:
          "Which notices each regime requires, from this run and the incident's current clocks and answers",
        params: runParams,
        response: { 200: z.array(obligation) },
      },
    },
    async (request) => getRunObligations(ctx, actorOf(request), request.params.id, request.params.runId),
  );
  app.get(
    "/incidents/:id/analyses/:runId/people",
    {
      config: { role: "analyst" },
      schema: {
        tags,
        summary: "Affected people, a page at a time, optionally searched and filtered (audited)",
        description:
          "`total` counts the people the filters keep. The search value is matched through keyed hashes and never recorded in the audit log.",
        params: runParams,
        querystring: peopleQuery,
        response: { 200: page(person) },
      },
    },
    async (request) =>
      readAffectedPeople(ctx, actorOf(request), request.params.id, request.params.runId, request.query),
  );
  app.get(
    "/incidents/:id/analyses/:runId/orgs",
    {
      config: { role: "analyst" },
      schema: {
        tags,
        summary: "Affected organisations and their admins, a page at a time (audited)",
        params: runParams,
        querystring: pageQuery,
        response: { 200: page(org) },
      },
    },
    async (request) =>
      readAffectedOrgs(ctx, actorOf(request), request.params.id, request.params.runId, request.query),
  );
  app.get(
    "/incidents/:id/analyses/:runId/quarantine",
    {
      config: { role: "analyst" },
      schema: {
        tags,
        summary: "The rows the analysis could not use, with file, line or row, reason and raw text (audited)",
        params: runParams,
        querystring: pageQuery,
        response: { 200: page(quarantinedRow) },
      },
    },
    async (request) =>
      readQuarantine(ctx, actorOf(request), request.params.id, request.params.runId, request.query),
  );
  app.get(
    "/incidents/:id/analyses/:runId/files/:name",
    {
      config: { role: "analyst" },
      schema: {
        tags,
        summary: "Download one of the run's result files, as `analyze --out` writes them (audited)",
        description: `name: ${RESULT_FILES.join(", ")}. CSV cells that a spreadsheet would run as a formula begin with an apostrophe.`,
        params: runParams.extend({ name: z.string().max(100) }),
      },
    },
    async (request, reply) => {
      const file = await downloadResultFile(
        ctx,
        actorOf(request),
        request.params.id,
        request.params.runId,
        request.params.name,
      );
      return reply
        .type(file.contentType)
        .header("content-disposition", `attachment; filename="${file.fileName}"`)
        .send(file.body);
    },
  );
}
