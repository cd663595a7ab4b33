import { z } from "zod";
import type { Context } from "../../app/context.ts";
import {
  getRun,
  getRunObligations,
  getRunSummary,
  listRuns,
  readAffectedOrgs,
  readAffectedPeople,
  startAnalysis,
} from "../../impact/incident-analysis.ts";
import { actorOf } from "../authenticate.ts";
import type { App } from "../build-server.ts";
import { analysisRun, idParam, obligation, org, page, pageQuery, person, summary } from "../schemas.ts";

const runParams = z.object({ id: z.uuid(), runId: z.uuid() });

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
        summary: "Affected people, a page at a time (audited)",
        params: runParams,
        querystring: pageQuery,
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
}
