import type { Context } from "../app/context.ts";
import { appendAudit } from "../audit/audit-log.ts";
import { type Actor, requireRole } from "../auth/roles.ts";
import { AppError, badInput } from "../lib/errors.ts";
import { requireId } from "../lib/ids.ts";
import {
  checkVendorInput,
  insertVendor,
  readVendor,
  readVendors,
  type VendorInput,
  writeVendor,
} from "./vendor-store.ts";

/**
 * The vendor inventory's use cases: the full record of each vendor (what it does, what it
 * receives by category, field and surface, where and on which terms, its risk tier) and its flows.
 * The stored risk tier is recomputed in the transaction of every change (vendor-store.ts).
 */

export { ACCESS_LEVELS, RISK_TIERS, VENDOR_STATUSES } from "./vendor-fields.ts";
export type { FlowState, Vendor, VendorFlow, VendorInput } from "./vendor-store.ts";

export async function listVendors(ctx: Pick<Context, "db">, actor: Actor) {
  requireRole(actor, "viewer", "reading vendors");
  return readVendors(ctx.db);
}

export async function getVendor(ctx: Pick<Context, "db">, actor: Actor, id: string) {
  requireRole(actor, "viewer", "reading vendors");
  return readVendor(ctx.db, requireId(id, "vendor"));
}

export async function createVendor(ctx: Pick<Context, "db">, actor: Actor, input: VendorInput) {
  requireRole(actor, "responder", "adding vendors");
  if (!input.name?.trim()) throw badInput("name: required");
  const checked = checkVendorInput(input);
  return ctx.db.transaction(async (tx) => {
    const id = await insertVendor(tx, checked);
    await appendAudit(tx, actor, "vendor.create", `vendor:${id}`);
    return readVendor(tx, id);
  });
}

export async function updateVendor(ctx: Pick<Context, "db">, actor: Actor, id: string, input: VendorInput) {
  requireRole(actor, "responder", "changing vendors");
  requireId(id, "vendor");
  if (input.name !== undefined && !input.name.trim()) throw badInput("name: must not be empty");
  const checked = checkVendorInput(input);
  return ctx.db.transaction(async (tx) => {
    await writeVendor(tx, id, checked);
    await appendAudit(tx, actor, "vendor.update", `vendor:${id}`, { fields: Object.keys(checked) });
    return readVendor(tx, id);
  });
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
