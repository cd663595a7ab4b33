import { z } from "zod";
import type { Context } from "../../app/context.ts";
import {
  addTimelineEntry,
  createIncident,
  deleteIncident,
  getIncident,
  INCIDENT_STATUSES,
  listDecisions,
  listIncidents,
  listTimeline,
  recordDecision,
  setClock,
  updateIncident,
} from "../../incidents/manage-incidents.ts";
import { purgeIncidentData } from "../../incidents/purge-incident.ts";
import { CLOCKS } from "../../obligations/rule-schema.ts";
import { actorOf } from "../authenticate.ts";
import type { App } from "../build-server.ts";
import { decision, idParam, incident, timelineEntry } from "../schemas.ts";

const incidentBody = z.object({
  title: z.string().max(300),
  description: z.string().max(20_000).nullable().optional(),
  vendor_id: z.uuid().nullable().optional(),
  status: z.enum(INCIDENT_STATUSES).optional(),
  controller_country: z.string().length(2).nullable().optional(),
  retention_days: z.number().int().min(1).max(36_500).optional(),
});

export async function incidentRoutes(app: App, ctx: Context): Promise<void> {
  const tags = ["incidents"];
  app.get(
    "/incidents",
    {
      config: { role: "viewer" },
      schema: { tags, summary: "All incidents, newest first", response: { 200: z.array(incident) } },
    },
    async (request) => listIncidents(ctx, actorOf(request)),
  );
  app.post(
    "/incidents",
    {
      config: { role: "responder" },
      schema: {
        tags,
        summary: "Open an incident (optionally with its clocks)",
        body: incidentBody.extend({ clocks: z.partialRecord(z.enum(CLOCKS), z.string()).optional() }),
        response: { 201: incident },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createIncident(ctx, actorOf(request), request.body)),
  );
  app.get(
    "/incidents/:id",
    {
      config: { role: "viewer" },
      schema: { tags, summary: "One incident with its clocks", params: idParam, response: { 200: incident } },
    },
    async (request) => getIncident(ctx, actorOf(request), request.params.id),
  );
  app.patch(
    "/incidents/:id",
    {
      config: { role: "responder" },
      schema: {
        tags,
        summary: "Change an incident (closing it starts its retention period)",
        params: idParam,
        body: incidentBody.partial(),
        response: { 200: incident },
      },
    },
    async (request) => updateIncident(ctx, actorOf(request), request.params.id, request.body),
  );
  app.delete(
    "/incidents/:id",
    {
      config: { role: "admin" },
      schema: {
        tags,
        summary: "Delete an incident and everything in it",
        params: idParam,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await deleteIncident(ctx, actorOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
  app.put(
    "/incidents/:id/clocks/:clock",
    {
      config: { role: "responder" },
      schema: {
        tags,
        summary: "Set (or, with at: null, clear) one of the incident's clocks",
        params: z.object({ id: z.uuid(), clock: z.enum(CLOCKS) }),
        body: z.object({ at: z.string().nullable() }),
        response: { 200: incident },
      },
    },
    async (request) =>
      setClock(ctx, actorOf(request), request.params.id, request.params.clock, request.body.at),
  );
  app.get(
    "/incidents/:id/timeline",
    {
      config: { role: "viewer" },
      schema: {
        tags,
        summary: "The incident's timeline",
        params: idParam,
        response: { 200: z.array(timelineEntry) },
      },
    },
    async (request) => listTimeline(ctx, actorOf(request), request.params.id),
  );
  app.post(
    "/incidents/:id/timeline",
    {
      config: { role: "responder" },
      schema: {
        tags,
        summary: "Add a timeline entry",
        params: idParam,
        body: z.object({
          at: z.string().optional(),
          kind: z.string().max(40).optional(),
          body: z.string().max(20_000),
        }),
        response: { 201: timelineEntry },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await addTimelineEntry(ctx, actorOf(request), request.params.id, request.body)),
  );
  app.get(
    "/incidents/:id/decisions",
    {
      config: { role: "viewer" },
      schema: { tags, summary: "The decision log", params: idParam, response: { 200: z.array(decision) } },
    },
    async (request) => listDecisions(ctx, actorOf(request), request.params.id),
  );
  app.post(
    "/incidents/:id/decisions",
    {
      config: { role: "responder" },
      schema: {
        tags,
        summary:
          "Record a decision with its rationale; subject REGIME:AUDIENCE with decision required|not_required answers an obligation's judgment question",
        params: idParam,
        body: z.object({
          subject: z.string().max(200),
          decision: z.string().max(200),
          rationale: z.string().max(20_000),
        }),
        response: { 201: decision },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await recordDecision(ctx, actorOf(request), request.params.id, request.body)),
  );
  app.post(
    "/incidents/:id/purge",
    {
      config: { role: "admin" },
      schema: {
        tags,
        summary:
          "Purge the incident's datasets and results now (they are purged anyway when its retention period ends)",
        params: idParam,
        response: { 200: incident },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      await purgeIncidentData(ctx, actor, request.params.id, "requested");
      return getIncident(ctx, actor, request.params.id);
    },
  );
}
