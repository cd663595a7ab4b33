import { z } from "zod";
import { AppError, badInput } from "../lib/errors.ts";
import type { Queryable } from "../store/db.ts";
import { computeRiskTier, effectiveRiskTier } from "./risk-tier.ts";
import {
  ACCESS_LEVELS,
  type Access,
  calendarDay,
  catalogueId,
  countryCode,
  domainName,
  emailAddress,
  incidentContact,
  peopleCount,
  positiveDays,
  positiveHours,
  RISK_TIERS,
  type RiskTier,
  requirementSetName,
  type SubProcessor,
  type Surface,
  shortText,
  subProcessor,
  textList,
  VENDOR_STATUSES,
  type VendorStatus,
} from "./vendor-fields.ts";

/**
 * The vendor tables as rows and back: reading a vendor with its owner and flows, writing the fields
 * a caller gives, and keeping the stored risk tier in step. Every function takes the transaction
 * (or the db) it runs on, so a use case can do several in one transaction.
 */

export type FlowState = "declared" | "seen" | "undeclared";

export type VendorFlow = {
  id: string;
  category: string;
  /** null: every surface */
  surface: Surface | null;
  fields: string[];
  declared: boolean;
  /**
   * declared: declared, not seen by the latest attached scan; seen: declared and seen by it;
   * undeclared: seen by a scan, not declared.
   */
  state: FlowState;
  last_seen_at: string | null;
  last_seen_scan_id: string | null;
};

export type Vendor = {
  id: string;
  name: string;
  description: string | null;
  website: string | null;
  /** the scanner catalogue's id (src/scan/catalogue/vendors.yaml) */
  catalogue_id: string | null;
  domains: string[];
  purposes: string[];
  /** ISO 3166-1 alpha-2 */
  processing_locations: string[];
  sub_processors: SubProcessor[];
  contract_ref: string | null;
  dpa_ref: string | null;
  certifications: string[];
  incident_contact: string | null;
  breach_notice_hours: number | null;
  access: Access | null;
  people_count: number | null;
  /** the tier the vendor is held to: the override when set, else the computed one */
  risk_tier: RiskTier | null;
  risk_tier_override: RiskTier | null;
  risk_reason: string | null;
  requirement_set: string | null;
  owner_id: string | null;
  owner_email: string | null;
  owner_name: string | null;
  review_interval_days: number | null;
  /** YYYY-MM-DD */
  next_review_at: string | null;
  last_reviewed_at: string | null;
  status: VendorStatus;
  offboarding_started_at: string | null;
  notes: string | null;
  created_at: string;
  updated_at: string;
  flows: VendorFlow[];
};

/** What a caller may set. `risk_tier` sets the override (null clears it); owner by id or email. */
export type VendorInput = Partial<{
  name: string;
  description: string | null;
  website: string | null;
  catalogue_id: string | null;
  domains: string[];
  purposes: string[];
  processing_locations: string[];
  sub_processors: SubProcessor[];
  contract_ref: string | null;
  dpa_ref: string | null;
  certifications: string[];
  incident_contact: string | null;
  breach_notice_hours: number | null;
  access: Access | null;
  people_count: number | null;
  risk_tier: RiskTier | null;
  requirement_set: string | null;
  owner_id: string | null;
  owner_email: string | null;
  review_interval_days: number | null;
  next_review_at: string | null;
  status: VendorStatus;
  notes: string | null;
}>;

const opt = <T extends z.ZodType>(schema: T) => schema.nullable().optional();
const distinct = (values: readonly string[]) => [...new Set(values)];

/** The checks every write goes through, whichever transport it came from. */
export const vendorInputSchema = z
  .object({
    name: shortText(200).optional(),
    description: opt(z.string().trim().max(10_000)),
    website: opt(z.string().trim().max(500)),
    catalogue_id: opt(catalogueId),
    domains: z.array(domainName).max(200).transform(distinct).optional(),
    purposes: textList(500).transform(distinct).optional(),
    processing_locations: z.array(countryCode).max(250).transform(distinct).optional(),
    sub_processors: z.array(subProcessor).max(200).optional(),
    contract_ref: opt(shortText(200)),
    dpa_ref: opt(shortText(500)),
    certifications: textList(200).transform(distinct).optional(),
    incident_contact: opt(incidentContact),
    breach_notice_hours: opt(positiveHours),
    access: opt(z.enum(ACCESS_LEVELS, `one of ${ACCESS_LEVELS.join(", ")}`)),
    people_count: opt(peopleCount),
    risk_tier: opt(z.enum(RISK_TIERS, `one of ${RISK_TIERS.join(", ")}`)),
    requirement_set: opt(requirementSetName),
    owner_id: opt(z.uuid("an account's id")),
    owner_email: opt(emailAddress),
    review_interval_days: opt(positiveDays),
    next_review_at: opt(calendarDay),
    status: z.enum(VENDOR_STATUSES, `one of ${VENDOR_STATUSES.join(", ")}`).optional(),
    notes: opt(z.string().max(10_000)),
  })
  .strict();

/** The input checked and normalised (trimmed, upper-case countries, lower-case domains), or BAD_INPUT naming the field. */
export function checkVendorInput(input: VendorInput): VendorInput {
  const r = vendorInputSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0] as z.core.$ZodIssue;
    const where = issue.path.join(".") || "(body)";
    if (issue.code === "unrecognized_keys")
      throw badInput(`${where}: unknown field ${issue.keys.join(", ")}`);
    throw badInput(`${where}: ${issue.message}`);
  }
  if (r.data.owner_id !== undefined && r.data.owner_email !== undefined) {
    throw badInput("owner_email: give the owner by owner_id or by owner_email, not both");
  }
  // Empty text clears a field rather than storing "".
  const data = r.data as Record<string, unknown>;
  for (const key of ["description", "website", "notes"]) if (data[key] === "") data[key] = null;
  return r.data as VendorInput;
}

type VendorRow = Omit<
  Vendor,
  "flows" | "created_at" | "updated_at" | "last_reviewed_at" | "offboarding_started_at"
> & {
  created_at: Date | string;
  updated_at: Date | string;
  last_reviewed_at: Date | string | null;
  offboarding_started_at: Date | string | null;
};

const SELECT_VENDORS = `SELECT v.id, v.name, v.description, v.website, v.catalogue_id, v.domains, v.purposes,
  v.processing_locations, v.sub_processors, v.contract_ref, v.dpa_ref, v.certifications, v.incident_contact,
  v.breach_notice_hours, v.access, v.people_count::float8 AS people_count, v.risk_tier, v.risk_tier_override,
  v.risk_reason, v.requirement_set, v.owner_id, u.email AS owner_email, u.display_name AS owner_name,
  v.review_interval_days, v.next_review_at::text AS next_review_at, v.last_reviewed_at, v.status,
  v.offboarding_started_at, v.notes, v.created_at, v.updated_at
  FROM vendors v LEFT JOIN users u ON u.id = v.owner_id`;

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

type FlowRow = Omit<VendorFlow, "state" | "last_seen_at"> & {
  vendor_id: string;
  last_seen_at: Date | string | null;
};

export async function latestScanId(q: Queryable): Promise<string | null> {
  const r = await q.query<{ id: string }>(
    "SELECT id FROM vendor_scans ORDER BY scanned_at DESC, created_at DESC, id DESC LIMIT 1",
  );
  return r.rows[0]?.id ?? null;
}

export function flowState(flow: Pick<VendorFlow, "declared" | "last_seen_scan_id">, latest: string | null) {
  if (!flow.declared) return "undeclared";
  return latest !== null && flow.last_seen_scan_id === latest ? "seen" : "declared";
}

const SURFACE_ORDER = [null, "web", "server", "batch"];
const byFlow = (a: VendorFlow, b: VendorFlow) =>
  (a.category < b.category ? -1 : a.category > b.category ? 1 : 0) ||
  SURFACE_ORDER.indexOf(a.surface) - SURFACE_ORDER.indexOf(b.surface);

/** Each vendor's flows (every vendor's when ids is null), sorted by category then surface. */
export async function readFlows(
  q: Queryable,
  ids: readonly string[] | null,
): Promise<Map<string, VendorFlow[]>> {
  const latest = await latestScanId(q);
  const r = await q.query<FlowRow>(
    `SELECT id, vendor_id, category, surface, fields, declared, last_seen_at, last_seen_scan_id
     FROM vendor_flows ${ids === null ? "" : "WHERE vendor_id = ANY($1::uuid[])"}`,
    ids === null ? [] : [ids],
  );
  const out = new Map<string, VendorFlow[]>();
  for (const row of r.rows) {
    const flow: VendorFlow = {
      id: row.id,
      category: row.category,
      surface: row.surface,
      fields: row.fields,
      declared: row.declared,
      state: flowState(row, latest),
      last_seen_at: iso(row.last_seen_at),
      last_seen_scan_id: row.last_seen_scan_id,
    };
    out.set(row.vendor_id, [...(out.get(row.vendor_id) ?? []), flow]);
  }
  for (const flows of out.values()) flows.sort(byFlow);
  return out;
}

/** Vendors with their owner and flows; `where` filters on the alias v. */
export async function readVendors(
  q: Queryable,
  where: { sql: string; params: unknown[] } | null = null,
): Promise<Vendor[]> {
  const r = await q.query<VendorRow>(
    `${SELECT_VENDORS} ${where ? `WHERE ${where.sql}` : ""} ORDER BY lower(v.name), v.id`,
    where?.params ?? [],
  );
  const flows = await readFlows(q, where ? r.rows.map((v) => v.id) : null);
  return r.rows.map((v) => ({
    ...v,
    created_at: iso(v.created_at) as string,
    updated_at: iso(v.updated_at) as string,
    last_reviewed_at: iso(v.last_reviewed_at),
    offboarding_started_at: iso(v.offboarding_started_at),
    flows: flows.get(v.id) ?? [],
  }));
}

export async function readVendor(q: Queryable, id: string): Promise<Vendor> {
  const [vendor] = await readVendors(q, { sql: "v.id = $1", params: [id] });
  if (!vendor) throw new AppError("NOT_FOUND", `no vendor ${id}`);
  return vendor;
}

const JSON_COLUMNS = new Set([
  "domains",
  "purposes",
  "processing_locations",
  "sub_processors",
  "certifications",
]);
const COLUMN_OF: Record<string, string> = { risk_tier: "risk_tier_override", owner_email: "owner_id" };

async function ownerIdFor(q: Queryable, email: string | null): Promise<string | null> {
  if (email === null) return null;
  const r = await q.query<{ id: string }>("SELECT id FROM users WHERE lower(email) = lower($1)", [email]);
  if (!r.rows[0]) throw badInput(`owner_email: no account has the email ${email}`);
  return r.rows[0].id;
}

async function ensureNameFree(q: Queryable, name: string, id: string | null): Promise<void> {
  const r = await q.query("SELECT 1 FROM vendors WHERE lower(name) = lower($1) AND id IS DISTINCT FROM $2", [
    name,
    id,
  ]);
  if (r.rows.length > 0)
    throw new AppError("CONFLICT", `name: a vendor called ${JSON.stringify(name)} exists already`);
}

function translateDbError(error: unknown): never {
  const e = error as { code?: string; constraint?: string; message?: string };
  if (e.code === "23503" && /owner/.test(`${e.constraint ?? ""}${e.message ?? ""}`)) {
    throw badInput("owner_id: no such account");
  }
  // Another writer took the name between the check and the write.
  if (e.code === "23505") throw new AppError("CONFLICT", "name: a vendor with this name exists already");
  throw error;
}

/** The columns the given fields of checked input set, each with its parameter placeholder. */
async function assignments(
  q: Queryable,
  input: VendorInput,
  params: unknown[],
): Promise<Array<{ column: string; value: string }>> {
  const out: Array<{ column: string; value: string }> = [];
  for (const [key, raw] of Object.entries(input)) {
    if (raw === undefined) continue;
    const value = key === "owner_email" ? await ownerIdFor(q, raw as string | null) : raw;
    params.push(JSON_COLUMNS.has(key) ? JSON.stringify(value) : value);
    out.push({
      column: COLUMN_OF[key] ?? key,
      value: `$${params.length}${JSON_COLUMNS.has(key) ? "::jsonb" : ""}`,
    });
  }
  return out;
}

/** Inserts a vendor from checked input (name required) and returns its id. */
export async function insertVendor(tx: Queryable, input: VendorInput): Promise<string> {
  if (!input.name) throw badInput("name: required");
  await ensureNameFree(tx, input.name, null);
  const params: unknown[] = [];
  const sets = await assignments(tx, input, params);
  const r = await tx
    .query<{ id: string }>(
      `INSERT INTO vendors (${sets.map((s) => s.column).join(", ")})
       VALUES (${sets.map((s) => s.value).join(", ")}) RETURNING id`,
      params,
    )
    .catch(translateDbError);
  const id = (r.rows[0] as { id: string }).id;
  await refreshRisk(tx, id);
  return id;
}

/** Writes the given fields of checked input; NOT_FOUND when there is no such vendor. */
export async function writeVendor(tx: Queryable, id: string, input: VendorInput): Promise<void> {
  if (input.name !== undefined) await ensureNameFree(tx, input.name, id);
  const params: unknown[] = [id];
  const sets = (await assignments(tx, input, params)).map((s) => `${s.column} = ${s.value}`);
  const r = await tx
    .query(
      `UPDATE vendors SET ${[...sets, "updated_at = now()"].join(", ")} WHERE id = $1 RETURNING id`,
      params,
    )
    .catch(translateDbError);
  if (r.rows.length === 0) throw new AppError("NOT_FOUND", `no vendor ${id}`);
  await refreshRisk(tx, id);
}

/**
 * Recomputes the vendor's tier from its flows, people and access, applies the override, and stores
 * tier and reason when they changed. Called after every change to any of those, in its transaction.
 */
export async function refreshRisk(
  tx: Queryable,
  id: string,
): Promise<{ tier: RiskTier | null; reason: string }> {
  const v = await tx.query<{
    people_count: number | null;
    access: Access | null;
    risk_tier_override: RiskTier | null;
    risk_tier: RiskTier | null;
    risk_reason: string | null;
  }>(
    "SELECT people_count::float8 AS people_count, access, risk_tier_override, risk_tier, risk_reason FROM vendors WHERE id = $1",
    [id],
  );
  const row = v.rows[0];
  if (!row) throw new AppError("NOT_FOUND", `no vendor ${id}`);
  const categories = await tx.query<{ category: string }>(
    "SELECT DISTINCT category FROM vendor_flows WHERE vendor_id = $1",
    [id],
  );
  const result = effectiveRiskTier(
    computeRiskTier({
      categories: categories.rows.map((c) => c.category),
      people_count: row.people_count,
      access: row.access,
    }),
    row.risk_tier_override,
  );
  if (result.tier !== row.risk_tier || result.reason !== row.risk_reason) {
    await tx.query("UPDATE vendors SET risk_tier = $2, risk_reason = $3 WHERE id = $1", [
      id,
      result.tier,
      result.reason,
    ]);
  }
  return result;
}
