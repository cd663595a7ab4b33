import type { Context } from "../app/context.ts";
import { appendAudit } from "../audit/audit-log.ts";
import { type Actor, requireRole } from "../auth/roles.ts";
import { AppError, badInput } from "../lib/errors.ts";
import { requireId } from "../lib/ids.ts";

export const RISK_TIERS = ["low", "medium", "high", "critical"] as const;
export const VENDOR_STATUSES = ["active", "under_review", "offboarding", "offboarded"] as const;

export type Vendor = {
  id: string;
  name: string;
  website: string | null;
  risk_tier: (typeof RISK_TIERS)[number] | null;
  status: (typeof VENDOR_STATUSES)[number];
  notes: string | null;
  created_at: string;
  updated_at: string;
};

export type VendorInput = Partial<Pick<Vendor, "name" | "website" | "risk_tier" | "status" | "notes">>;

type Row = Omit<Vendor, "created_at" | "updated_at"> & { created_at: Date; updated_at: Date };
const COLUMNS = "id, name, website, risk_tier, status, notes, created_at, updated_at";
const toVendor = (r: Row): Vendor => ({
  ...r,
  created_at: new Date(r.created_at).toISOString(),
  updated_at: new Date(r.updated_at).toISOString(),
});

function uniqueName(error: unknown, name: string | undefined): never {
  if ((error as { code?: string }).code === "23505") {
    throw new AppError("CONFLICT", `name: a vendor called ${JSON.stringify(name)} exists already`);
  }
  throw error;
}

export async function listVendors(ctx: Pick<Context, "db">, actor: Actor): Promise<Vendor[]> {
  requireRole(actor, "viewer", "reading vendors");
  const r = await ctx.db.query<Row>(`SELECT ${COLUMNS} FROM vendors ORDER BY lower(name), id`);
  return r.rows.map(toVendor);
}

export async function getVendor(ctx: Pick<Context, "db">, actor: Actor, id: string): Promise<Vendor> {
  requireRole(actor, "viewer", "reading vendors");
  const r = await ctx.db.query<Row>(`SELECT ${COLUMNS} FROM vendors WHERE id = $1`, [
    requireId(id, "vendor"),
  ]);
  if (!r.rows[0]) throw new AppError("NOT_FOUND", `no vendor ${id}`);
  return toVendor(r.rows[0]);
}

export async function createVendor(
  ctx: Pick<Context, "db">,
  actor: Actor,
  input: VendorInput,
): Promise<Vendor> {
  requireRole(actor, "responder", "adding vendors");
  if (!input.name?.trim()) throw badInput("name: required");
  return ctx.db
    .transaction(async (tx) => {
      const r = await tx.query<Row>(
        `INSERT INTO vendors (name, website, risk_tier, status, notes) VALUES ($1, $2, $3, coalesce($4, 'active'), $5)
         RETURNING ${COLUMNS}`,
        [
          input.name?.trim(),
          input.website ?? null,
          input.risk_tier ?? null,
          input.status ?? null,
          input.notes ?? null,
        ],
      );
      const vendor = toVendor(r.rows[0] as Row);
      await appendAudit(tx, actor, "vendor.create", `vendor:${vendor.id}`);
      return vendor;
    })
    .catch((e) => uniqueName(e, input.name));
}

export async function updateVendor(
  ctx: Pick<Context, "db">,
  actor: Actor,
  id: string,
  input: VendorInput,
): Promise<Vendor> {
  requireRole(actor, "responder", "changing vendors");
  requireId(id, "vendor");
  if (input.name !== undefined && !input.name.trim()) throw badInput("name: must not be empty");
  return ctx.db
    .transaction(async (tx) => {
      const sets: string[] = [];
      const params: unknown[] = [id];
      for (const key of ["name", "website", "risk_tier", "status", "notes"] as const) {
        if (input[key] === undefined) continue;
        params.push(key === "name" ? input.name?.trim() : input[key]);
        sets.push(`${key} = $${params.length}`);
      }
      const r = await tx.query<Row>(
        `UPDATE vendors SET ${[...sets, "updated_at = now()"].join(", ")} WHERE id = $1 RETURNING ${COLUMNS}`,
        params,
      );
      if (!r.rows[0]) throw new AppError("NOT_FOUND", `no vendor ${id}`);
      await appendAudit(tx, actor, "vendor.update", `vendor:${id}`, { fields: Object.keys(input) });
      return toVendor(r.rows[0]);
    })
    .catch((e) => uniqueName(e, input.name));
}

export async function deleteVendor(ctx: Pick<Context, "db">, actor: Actor, id: string): Promise<void> {
  requireRole(actor, "responder", "removing vendors");
  requireId(id, "vendor");
  await ctx.db.transaction(async (tx) => {
    const used = await tx.query("SELECT 1 FROM incidents WHERE vendor_id = $1 LIMIT 1", [id]);
    if (used.rows.length > 0) {
      throw new AppError("CONFLICT", "this vendor has incidents; mark it offboarded instead of removing it");
    }
    const r = await tx.query("DELETE FROM vendors WHERE id = $1 RETURNING id", [id]);
    if (r.rows.length === 0) throw new AppError("NOT_FOUND", `no vendor ${id}`);
    await appendAudit(tx, actor, "vendor.delete", `vendor:${id}`);
  });
}
