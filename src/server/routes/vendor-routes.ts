import { z } from "zod";
import type { Context } from "../../app/context.ts";
import {
  createVendor,
  deleteVendor,
  getVendor,
  listVendors,
  RISK_TIERS,
  updateVendor,
  VENDOR_STATUSES,
} from "../../vendors/manage-vendors.ts";
import { actorOf } from "../authenticate.ts";
import type { App } from "../build-server.ts";
import { idParam, vendor } from "../schemas.ts";

const vendorBody = z.object({
  name: z.string().max(200),
  website: z.string().max(500).nullable().optional(),
  risk_tier: z.enum(RISK_TIERS).nullable().optional(),
  status: z.enum(VENDOR_STATUSES).optional(),
  notes: z.string().max(10_000).nullable().optional(),
});

export async function vendorRoutes(app: App, ctx: Context): Promise<void> {
  const tags = ["vendors"];
  app.get(
    "/vendors",
    {
      config: { role: "viewer" },
      schema: { tags, summary: "All vendors", response: { 200: z.array(vendor) } },
    },
    async (request) => listVendors(ctx, actorOf(request)),
  );
  app.post(
    "/vendors",
    {
      config: { role: "responder" },
      schema: { tags, summary: "Add a vendor", body: vendorBody, response: { 201: vendor } },
    },
    async (request, reply) => reply.status(201).send(await createVendor(ctx, actorOf(request), request.body)),
  );
  app.get(
    "/vendors/:id",
    {
      config: { role: "viewer" },
      schema: { tags, summary: "One vendor", params: idParam, response: { 200: vendor } },
    },
    async (request) => getVendor(ctx, actorOf(request), request.params.id),
  );
  app.patch(
    "/vendors/:id",
    {
      config: { role: "responder" },
      schema: {
        tags,
        summary: "Change a vendor",
        params: idParam,
        body: vendorBody.partial(),
        response: { 200: vendor },
      },
    },
    async (request) => updateVendor(ctx, actorOf(request), request.params.id, request.body),
  );
  app.delete(
    "/vendors/:id",
    {
      config: { role: "responder" },
      schema: {
        tags,
        summary: "Remove a vendor that has no incidents",
        params: idParam,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await deleteVendor(ctx, actorOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
}
