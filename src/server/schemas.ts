import { z } from "zod";
import { ROLES } from "../auth/roles.ts";

/** Response shapes shared by several routes; they also make the OpenAPI document. */

export const errorBody = z
  .object({ error: z.object({ code: z.string(), message: z.string() }) })
  .meta({ id: "Error" });

export const idParam = z.object({ id: z.uuid() });
export const pageQuery = z.object({
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const user = z
  .object({
    id: z.string(),
    email: z.string(),
    display_name: z.string().nullable(),
    role: z.enum(ROLES),
    totp_enabled: z.boolean(),
    created_at: z.string(),
    disabled: z.boolean(),
  })
  .meta({ id: "User" });

export const totpEnrollment = z
  .object({ secret: z.string(), otpauth_uri: z.string() })
  .meta({ id: "TotpEnrollment" });

export const apiToken = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    user_id: z.string(),
    created_at: z.string(),
    last_used_at: z.string().nullable(),
    expires_at: z.string().nullable(),
    revoked: z.boolean(),
  })
  .meta({ id: "ApiToken" });

export const vendorFlow = z
  .object({
    id: z.string(),
    category: z.string(),
    surface: z.enum(["web", "server", "batch"]).nullable().meta({ description: "null: every surface" }),
    fields: z.array(z.string()),
    declared: z.boolean(),
    state: z.enum(["declared", "seen", "undeclared"]).meta({
      description:
        "seen: declared and seen by the latest attached scan; declared: not seen by it; undeclared: seen by a scan, not declared",
    }),
    last_seen_at: z.string().nullable(),
    last_seen_scan_id: z.string().nullable(),
  })
  .meta({ id: "VendorFlow" });

export const vendor = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    website: z.string().nullable(),
    catalogue_id: z.string().nullable(),
    domains: z.array(z.string()),
    purposes: z.array(z.string()),
    processing_locations: z.array(z.string()).meta({ description: "ISO 3166-1 alpha-2" }),
    sub_processors: z.array(
      z.object({ name: z.string(), purpose: z.string().optional(), location: z.string().optional() }),
    ),
    contract_ref: z.string().nullable(),
    dpa_ref: z.string().nullable(),
    certifications: z.array(z.string()),
    incident_contact: z.string().nullable(),
    breach_notice_hours: z.number().nullable(),
    access: z.enum(["receives", "reads", "writes", "admin"]).nullable(),
    people_count: z.number().nullable(),
    risk_tier: z
      .enum(["low", "medium", "high", "critical"])
      .nullable()
      .meta({ description: "the override when set, else the computed tier" }),
    risk_tier_override: z.enum(["low", "medium", "high", "critical"]).nullable(),
    risk_reason: z.string().nullable(),
    requirement_set: z.string().nullable(),
    owner_id: z.string().nullable(),
    owner_email: z.string().nullable(),
    owner_name: z.string().nullable(),
    review_interval_days: z.number().nullable(),
    next_review_at: z.string().nullable().meta({ description: "YYYY-MM-DD" }),
    last_reviewed_at: z.string().nullable(),
    status: z.enum(["active", "under_review", "offboarding", "offboarded"]),
    offboarding_started_at: z.string().nullable(),
    notes: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    flows: z.array(vendorFlow),
  })
  .meta({ id: "Vendor" });

export const incident = z
  .object({
    id: z.string(),
    title: z.string(),
    description: z.string().nullable(),
    vendor_id: z.string().nullable(),
    status: z.enum(["open", "assessing", "notifying", "monitoring", "closed"]),
    controller_country: z.string().nullable(),
    retention_days: z.number(),
    clocks: z.record(z.string(), z.string()),
    created_at: z.string(),
    updated_at: z.string(),
    closed_at: z.string().nullable(),
    purged_at: z.string().nullable(),
  })
  .meta({ id: "Incident" });

export const timelineEntry = z
  .object({
    id: z.string(),
    at: z.string(),
    kind: z.string(),
    body: z.string(),
    author: z.string().nullable(),
    created_at: z.string(),
  })
  .meta({ id: "TimelineEntry" });

export const decision = z
  .object({
    id: z.string(),
    subject: z.string(),
    decision: z.string(),
    rationale: z.string(),
    decided_by: z.string().nullable(),
    decided_at: z.string(),
  })
  .meta({ id: "Decision" });

export const mappingDocument = z
  .object({
    fields: z.record(z.string(), z.string().nullable()).optional(),
    roles: z.record(z.string(), z.array(z.string())).optional(),
  })
  .meta({ id: "Mapping", description: "the same document as the CLI's --mapping YAML (see README)" });

export const dataset = z
  .object({
    id: z.string(),
    incident_id: z.string(),
    file_name: z.string(),
    sha256: z.string(),
    bytes: z.number(),
    format: z.string().nullable(),
    mapping: mappingDocument.nullable(),
    status: z.enum(["uploading", "stored", "purged"]),
    uploaded_by: z.string().nullable(),
    uploaded_at: z.string(),
    purged_at: z.string().nullable(),
  })
  .meta({ id: "Dataset" });

export const progress = z.object({ stage: z.string(), done: z.number(), total: z.number() });

export const analysisRun = z
  .object({
    id: z.string(),
    incident_id: z.string(),
    status: z.enum(["queued", "running", "succeeded", "failed"]),
    dataset_ids: z.array(z.string()),
    job: z
      .object({
        id: z.string(),
        attempts: z.number(),
        max_attempts: z.number(),
        progress: progress.nullable(),
        error: z.string().nullable(),
      })
      .nullable(),
    created_by: z.string().nullable(),
    created_at: z.string(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
  })
  .meta({ id: "AnalysisRun" });

export const summary = z
  .looseObject({
    rows: z.object({ read: z.number(), used: z.number(), quarantined: z.number() }),
    affected_people: z.number(),
    affected_orgs: z.number(),
    admins_to_notify: z.number(),
    by_category: z.record(z.string(), z.number()),
    by_country: z.record(z.string(), z.number()),
  })
  .meta({ id: "Summary", description: "the same fields as summary.json (see README)" });

export const obligation = z.looseObject({ regime: z.string() }).meta({
  id: "Obligation",
  description: "the same fields as obligations.json entries (see README)",
});

export const person = z
  .object({
    person_key: z.string(),
    user_id: z.string().nullable(),
    email: z.string().nullable(),
    name: z.string().nullable(),
    country: z.string().nullable(),
    language: z.string().nullable(),
    categories: z.array(z.string()),
    matched_by: z.string(),
    records: z.number(),
  })
  .meta({ id: "AffectedPerson" });

export const org = z
  .object({
    org_id: z.string(),
    name: z.string().nullable(),
    affected_members: z.number(),
    admin_emails: z.array(z.string()),
    categories: z.array(z.string()),
    admins: z.array(
      z.object({
        user_id: z.string().nullable(),
        email: z.string(),
        name: z.string().nullable(),
        language: z.string().nullable(),
        country: z.string().nullable(),
        role: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: "AffectedOrg" });

export const quarantinedRow = z
  .object({
    file: z.string().meta({ description: "the uploaded file's name" }),
    line: z.number().nullable(),
    row: z.number().nullable(),
    reason: z.string(),
    raw: z.string().nullable().meta({ description: "the first 2,000 characters of the row" }),
  })
  .meta({ id: "QuarantinedRow" });

export const datasetFields = z
  .object({
    format: z.object({
      label: z.string(),
      container: z.enum(["lines", "array", "page", "csv", "parquet", "empty"]),
      kind: z.enum(["event", "profile", "flat"]),
      gzip: z.boolean(),
    }),
    sampled_records: z.number(),
    fields: z.array(
      z.object({
        name: z.string(),
        seen: z.number().meta({ description: "sampled records with a value in this field" }),
        samples: z.array(z.string()).meta({ description: "up to 3 distinct values, masked" }),
        category: z.string().nullable(),
        roles: z.array(
          z.enum(["distinct_id", "user_id", "device_id", "email", "name", "country", "region", "org_id"]),
        ),
      }),
    ),
    unmapped: z.array(z.string()),
  })
  .meta({ id: "DatasetFields" });

export const dataCategory = z.object({ key: z.string(), label: z.string() }).meta({ id: "DataCategory" });

export const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), total: z.number(), offset: z.number(), limit: z.number() });

export const auditEvent = z
  .object({
    seq: z.number(),
    at: z.string(),
    actor: z.string(),
    action: z.string(),
    subject: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()),
    prevHash: z.string(),
    hash: z.string(),
  })
  .meta({ id: "AuditEvent" });
