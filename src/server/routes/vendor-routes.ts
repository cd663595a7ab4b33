import { z } from "zod";
import type { Context } from "../../app/context.ts";
import { attachScan, listScans } from "../../vendors/attach-scan.ts";
import { EXPORT_FORMATS, exportVendors } from "../../vendors/export-vendors.ts";
import { IMPORT_FORMATS, importVendors, parseImport } from "../../vendors/import-vendors.ts";
import {
  ACCESS_LEVELS,
  createVendor,
  deleteVendor,
  getVendor,
  listVendors,
  RISK_TIERS,
  updateVendor,
  VENDOR_STATUSES,
} from "../../vendors/manage-vendors.ts";
import { listVendorFlows, setDeclaredFlows } from "../../vendors/vendor-flows.ts";
import { attachment } from "../attachment.ts";
import { actorOf } from "../authenticate.ts";
import type { App } from "../build-server.ts";
import { idParam, vendor, vendorFlow } from "../schemas.ts";

// Types and sizes only: the use case checks values (countries, emails, hours ...) and names the field.
const vendorBody = z.object({
  name: z.string().max(200),
  description: z.string().max(10_000).nullable().optional(),
  website: z.string().max(500).nullable().optional(),
  catalogue_id: z.string().max(100).nullable().optional(),
  domains: z.array(z.string().max(300)).max(200).optional(),
  purposes: z.array(z.string().max(500)).max(200).optional(),
  processing_locations: z.array(z.string().max(10)).max(250).optional(),
  sub_processors: z
    .array(
      z.object({
        name: z.string().max(200),
        purpose: z.string().max(500).optional(),
        location: z.string().max(10).optional(),
      }),
    )
    .max(200)
    .optional(),
  contract_ref: z.string().max(200).nullable().optional(),
  dpa_ref: z.string().max(500).nullable().optional(),
  certifications: z.array(z.string().max(200)).max(200).optional(),
  incident_contact: z.string().max(500).nullable().optional(),
  breach_notice_hours: z.number().nullable().optional(),
  access: z.enum(ACCESS_LEVELS).nullable().optional(),
  people_count: z.number().nullable().optional(),
  risk_tier: z
    .enum(RISK_TIERS)
    .nullable()
    .optional()
    .meta({ description: "sets the override of the computed tier; null clears it" }),
  requirement_set: z.string().max(64).nullable().optional(),
  owner_id: z.uuid().nullable().optional(),
  owner_email: z.string().max(320).nullable().optional().meta({ description: "the owner by account email" }),
  review_interval_days: z.number().nullable().optional(),
  next_review_at: z.string().max(10).nullable().optional().meta({ description: "YYYY-MM-DD" }),
  status: z.enum(VENDOR_STATUSES).optional(),
  notes: z.string().max(10_000).nullable().optional(),
});

const flowInput = z.object({
  category: z.string().max(200),
  fields: z.array(z.string().max(200)).max(200).optional(),
  surface: z.enum(["web", "server", "batch"]).nullable().optional(),
});

const importResult = z
  .object({
    dry_run: z.boolean(),
    created: z.number(),
    updated: z.number(),
    unchanged: z.number(),
    vendors: z.array(
      z.object({
        name: z.string(),
        id: z.string(),
        action: z.enum(["created", "updated", "unchanged"]),
        fields: z.array(z.string()),
      }),
    ),
    warnings: z.array(z.string()),
  })
  .meta({ id: "VendorImportResult" });

const attachResult = z
  .object({
    scan: z.object({ id: z.string(), scanned_at: z.string(), urls: z.array(z.string()) }),
    vendors: z.array(
      z.object({ id: z.string(), name: z.string(), seen: z.number(), undeclared: z.number() }),
    ),
    unknown_vendors: z.array(
      z.object({
        vendor: z.string(),
        vendor_id: z.string(),
        hosts: z.array(z.string()),
        categories: z.array(z.string()),
      }),
    ),
  })
  .meta({ id: "VendorScanAttached" });

const scanEntry = z
  .object({
    id: z.string(),
    scanned_at: z.string(),
    urls: z.array(z.string()),
    attached_by: z.string().nullable(),
    created_at: z.string(),
    flows_seen: z.number(),
    third_party_hosts: z.number(),
    sees_vendor: z.boolean().optional(),
  })
  .meta({ id: "VendorScan" });

const IMPORT_BODY_LIMIT = 5 * 1024 * 1024;
const SCAN_BODY_LIMIT = 20 * 1024 * 1024;
const YAML_TYPES = ["application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"];

export async function vendorRoutes(app: App, ctx: Context): Promise<void> {
  const tags = ["vendors"];
  // A vendors file or Fides manifest can be posted as it is.
  app.addContentTypeParser(
    YAML_TYPES,
    { parseAs: "string", bodyLimit: IMPORT_BODY_LIMIT },
    (_r, body, done) => done(null, body),
  );
  app.get(
    "/vendors",
    {
      config: { role: "viewer" },
      schema: { tags, summary: "All vendors, with their flows", response: { 200: z.array(vendor) } },
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
    "/vendors/export",
    {
      config: { role: "viewer" },
      schema: {
        tags,
        summary:
          "Every vendor as code: the vendors file (yaml, the default) or a Fides system manifest, as an attachment",
        querystring: z.object({ format: z.enum(EXPORT_FORMATS).default("yaml") }),
        produces: ["text/yaml"],
      },
    },
    async (request, reply) => {
      const { text } = await exportVendors(ctx, actorOf(request), request.query.format);
      return reply
        .type("text/yaml; charset=utf-8")
        .header(
          "content-disposition",
          attachment(request.query.format === "fides" ? "fides-systems.yaml" : "vendors.yaml"),
        )
        .send(text);
    },
  );
  app.post(
    "/vendors/import",
    {
      config: { role: "responder" },
      bodyLimit: IMPORT_BODY_LIMIT,
      schema: {
        tags,
        summary:
          "Import vendors as code: the YAML itself (content type application/yaml; ?format= and ?dry_run=true) or JSON {text, format, dry_run}. Upserts by name; the file is the truth for the fields it gives",
        querystring: z.object({
          format: z.enum(IMPORT_FORMATS).optional(),
          dry_run: z.enum(["true", "false"]).optional(),
        }),
        body: z.union([
          z.string().max(IMPORT_BODY_LIMIT),
          z.object({
            text: z.string().max(IMPORT_BODY_LIMIT),
            format: z.enum(IMPORT_FORMATS).optional(),
            dry_run: z.boolean().optional(),
          }),
        ]),
        response: { 200: importResult },
      },
    },
    async (request) => {
      const body = typeof request.body === "string" ? { text: request.body } : request.body;
      const format = ("format" in body ? body.format : undefined) ?? request.query.format ?? "auto";
      const dryRun = ("dry_run" in body ? body.dry_run : undefined) ?? request.query.dry_run === "true";
      const { items, warnings } = parseImport(body.text, "body", format);
      return importVendors(ctx, actorOf(request), items, { dryRun, warnings });
    },
  );
  app.get(
    "/vendors/scans",
    {
      config: { role: "viewer" },
      schema: { tags, summary: "Attached scans, newest first", response: { 200: z.array(scanEntry) } },
    },
    async (request) => listScans(ctx, actorOf(request)),
  );
  app.post(
    "/vendors/scans",
    {
      config: { role: "responder" },
      bodyLimit: SCAN_BODY_LIMIT,
      schema: {
        tags,
        summary:
          "Attach a scan: summary.json's content, optionally with findings.json's list as `findings`. Marks declared flows seen, adds undeclared ones, reports vendors not in the inventory",
        body: z.looseObject({}),
        response: { 201: attachResult },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await attachScan(ctx, actorOf(request), request.body, "body")),
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
        summary: "Change a vendor (the fields given)",
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
  app.get(
    "/vendors/:id/flows",
    {
      config: { role: "viewer" },
      schema: {
        tags,
        summary: "What the vendor receives: declared, seen or undeclared flows",
        params: idParam,
        response: { 200: z.array(vendorFlow) },
      },
    },
    async (request) => listVendorFlows(ctx, actorOf(request), request.params.id),
  );
  app.put(
    "/vendors/:id/flows",
    {
      config: { role: "responder" },
      schema: {
        tags,
        summary: "Replace the vendor's declared flows (flows a scan saw stay, as undeclared)",
        params: idParam,
        body: z.object({ flows: z.array(flowInput).max(1000) }),
        response: { 200: z.array(vendorFlow) },
      },
    },
    async (request) => setDeclaredFlows(ctx, actorOf(request), request.params.id, request.body.flows),
  );
  app.get(
    "/vendors/:id/scans",
    {
      config: { role: "viewer" },
      schema: {
        tags,
        summary: "Attached scans, newest first, each saying whether it met this vendor",
        params: idParam,
        response: { 200: z.array(scanEntry) },
      },
    },
    async (request) => listScans(ctx, actorOf(request), { vendorId: request.params.id }),
  );
}
