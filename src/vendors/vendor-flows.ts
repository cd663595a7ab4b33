import { z } from "zod";
import type { Context } from "../app/context.ts";
import { appendAudit } from "../audit/audit-log.ts";
import { type Actor, requireRole } from "../auth/roles.ts";
import { AppError, badInput } from "../lib/errors.ts";
import { requireId } from "../lib/ids.ts";
import type { Queryable } from "../store/db.ts";
import { declaredFlow } from "./vendor-fields.ts";
import type { DeclaredFlow } from "./vendor-file.ts";
import { readFlows, refreshRisk, type VendorFlow } from "./vendor-store.ts";

/**
 * What a vendor receives. A flow is declared (the inventory says the vendor gets this category on
 * this surface), seen (an attached scan saw it), or both. For display each has a state: `seen`
 * (declared and seen by the latest attached scan), `declared` (not seen by it: the scan may not reach
 * that code, or the flow is on a server or batch surface no browser scan can see), `undeclared`
 * (seen, never declared: the inventory is wrong or the integration leaks).
 */

const flowKey = (f: { category: string; surface: string | null }) => `${f.category}\u0000${f.surface ?? ""}`;
const sameFields = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

export type FlowChange = { added: number; changed: number; removed: number };

/** Checks a declared list (from the API) and names the entry that is wrong. */
export function checkDeclaredFlows(input: unknown): DeclaredFlow[] {
  const r = z.array(declaredFlow).max(1000).safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0] as z.core.$ZodIssue;
    const where = ["flows", ...issue.path].join(".");
    if (issue.code === "unrecognized_keys") throw badInput(`${where}: unknown key ${issue.keys.join(", ")}`);
    throw badInput(`${where}: ${issue.message}`);
  }
  const seen = new Set<string>();
  return r.data.map((f, i) => {
    const flow = { category: f.category, fields: [...new Set(f.fields ?? [])], surface: f.surface ?? null };
    if (seen.has(flowKey(flow))) {
      throw badInput(`flows.${i}: ${f.category} on ${flow.surface ?? "every surface"} is listed twice`);
    }
    seen.add(flowKey(flow));
    return flow;
  });
}

/**
 * Makes `flows` the vendor's declared set: new ones are added, changed fields written, declared
 * ones not listed any more are removed, except that a flow a scan has seen stays as undeclared
 * (the scan's evidence is kept). Recomputes the risk tier when anything changed.
 */
export async function replaceDeclaredFlows(
  tx: Queryable,
  vendorId: string,
  flows: readonly DeclaredFlow[],
): Promise<FlowChange> {
  const existing = await tx.query<{
    id: string;
    category: string;
    surface: string | null;
    fields: string[];
    declared: boolean;
    last_seen_at: unknown;
  }>("SELECT id, category, surface, fields, declared, last_seen_at FROM vendor_flows WHERE vendor_id = $1", [
    vendorId,
  ]);
  const byKey = new Map(existing.rows.map((r) => [flowKey(r), r]));
  const wanted = new Set(flows.map(flowKey));
  const change: FlowChange = { added: 0, changed: 0, removed: 0 };
  for (const f of flows) {
    const row = byKey.get(flowKey(f));
    if (!row) {
      await tx.query(
        "INSERT INTO vendor_flows (vendor_id, category, surface, fields, declared) VALUES ($1, $2, $3, $4::jsonb, true)",
        [vendorId, f.category, f.surface, JSON.stringify(f.fields)],
      );
      change.added += 1;
    } else if (!row.declared || !sameFields(row.fields, f.fields)) {
      await tx.query("UPDATE vendor_flows SET declared = true, fields = $2::jsonb WHERE id = $1", [
        row.id,
        JSON.stringify(f.fields),
      ]);
      if (row.declared) change.changed += 1;
      else change.added += 1;
    }
  }
  for (const row of existing.rows) {
    if (!row.declared || wanted.has(flowKey(row))) continue;
    if (row.last_seen_at !== null) {
      await tx.query("UPDATE vendor_flows SET declared = false WHERE id = $1", [row.id]);
    } else {
      await tx.query("DELETE FROM vendor_flows WHERE id = $1", [row.id]);
    }
    change.removed += 1;
  }
  if (change.added + change.changed + change.removed > 0) await refreshRisk(tx, vendorId);
  return change;
}

async function requireVendor(q: Queryable, id: string): Promise<void> {
  const r = await q.query("SELECT 1 FROM vendors WHERE id = $1", [id]);
  if (r.rows.length === 0) throw new AppError("NOT_FOUND", `no vendor ${id}`);
}

export async function listVendorFlows(
  ctx: Pick<Context, "db">,
  actor: Actor,
  vendorId: string,
): Promise<VendorFlow[]> {
  requireRole(actor, "viewer", "reading vendors");
  const id = requireId(vendorId, "vendor");
  await requireVendor(ctx.db, id);
  return (await readFlows(ctx.db, [id])).get(id) ?? [];
}

/** Replaces the vendor's declared flows (scan-seen rows stay); returns the flows as they now are. */
export async function setDeclaredFlows(
  ctx: Pick<Context, "db">,
  actor: Actor,
  vendorId: string,
  flows: unknown,
): Promise<VendorFlow[]> {
  requireRole(actor, "responder", "changing vendors");
  const id = requireId(vendorId, "vendor");
  const checked = checkDeclaredFlows(flows);
  return ctx.db.transaction(async (tx) => {
    await requireVendor(tx, id);
    const change = await replaceDeclaredFlows(tx, id, checked);
    if (change.added + change.changed + change.removed > 0) {
      await tx.query("UPDATE vendors SET updated_at = now() WHERE id = $1", [id]);
      await appendAudit(tx, actor, "vendor.flow.declare", `vendor:${id}`, {
        ...change,
        declared: checked.length,
      });
    }
    return (await readFlows(tx, [id])).get(id) ?? [];
  });
}
