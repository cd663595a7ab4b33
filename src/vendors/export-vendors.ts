import type { Context } from "../app/context.ts";
import { type Actor, requireRole } from "../auth/roles.ts";
import { usageError } from "../lib/errors.ts";
import { formatFidesManifest } from "./fides-manifest.ts";
import { formatVendorFile, type VendorRecord } from "./vendor-file.ts";
import { readVendors, type Vendor } from "./vendor-store.ts";

/**
 * Every vendor as code, in the format `vendors import` reads, so export then import changes
 * nothing: the vendors file (the whole record and the declared flows; not what scans saw, which is
 * evidence rather than declaration) or a Fides manifest (what fideslang can say: fides-manifest.ts).
 */

export const EXPORT_FORMATS = ["yaml", "fides"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export function exportFormat(value: string | undefined, where: string): ExportFormat {
  if (value === undefined) return "yaml";
  if (!(EXPORT_FORMATS as readonly string[]).includes(value)) {
    throw usageError(`${where} must be one of ${EXPORT_FORMATS.join(", ")} (got ${JSON.stringify(value)})`);
  }
  return value as ExportFormat;
}

/** The vendor as a file record: every field it has, the override as risk_tier, the owner by email. */
export function recordOf(v: Vendor): VendorRecord {
  return {
    name: v.name,
    catalogue: v.catalogue_id,
    description: v.description,
    website: v.website,
    status: v.status,
    domains: v.domains,
    purposes: v.purposes,
    processing_locations: v.processing_locations,
    sub_processors: v.sub_processors,
    contract_ref: v.contract_ref,
    dpa_ref: v.dpa_ref,
    certifications: v.certifications,
    incident_contact: v.incident_contact,
    breach_notice_hours: v.breach_notice_hours,
    access: v.access,
    people_count: v.people_count,
    risk_tier: v.risk_tier_override,
    requirement_set: v.requirement_set,
    owner: v.owner_email,
    review_interval_days: v.review_interval_days,
    next_review: v.next_review_at,
    notes: v.notes,
    data: v.flows
      .filter((f) => f.declared)
      .map((f) => ({ category: f.category, fields: f.fields, surface: f.surface })),
  };
}

const HEADER = ` Vendors as code, exported by blastradius. Import with: blastradius vendors import FILE
 risk_tier is an override (the computed tier is shown in the app); data lists the declared flows.`;

export async function exportVendors(
  ctx: Pick<Context, "db">,
  actor: Actor,
  format: ExportFormat = "yaml",
): Promise<{ text: string; count: number }> {
  requireRole(actor, "viewer", "reading vendors");
  const vendors = await readVendors(ctx.db);
  const text =
    format === "fides" ? formatFidesManifest(vendors) : formatVendorFile(vendors.map(recordOf), HEADER);
  return { text, count: vendors.length };
}
