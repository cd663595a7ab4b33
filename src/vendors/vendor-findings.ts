import type { Context } from "../app/context.ts";
import { appendAudit } from "../audit/audit-log.ts";
import { type Actor, requireRole } from "../auth/roles.ts";
import { AppError, badInput } from "../lib/errors.ts";
import { requireId } from "../lib/ids.ts";
import type { Queryable } from "../store/db.ts";
import { loadRequirementSets, SEVERITIES, type Severity } from "./requirement-sets.ts";

/**
 * Findings: what a vendor does not (yet) meet, with an owner on our side and a due date. Opened by
 * hand or automatically for every "no" or "partial" answer in a questionnaire; closed when fixed
 * or accepted. Dates are calendar days in UTC.
 */

export const FINDING_STATUSES = ["open", "closed"] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];

export type Owner = { id: string; email: string; display_name: string | null };

export type VendorFinding = {
  id: string;
  vendor_id: string;
  vendor_name: string;
  questionnaire_id: string | null;
  requirement_id: string | null;
  title: string;
  severity: Severity;
  owner: Owner | null;
  /** YYYY-MM-DD */
  due_at: string | null;
  status: FindingStatus;
  note: string | null;
  created_at: string;
  closed_at: string | null;
  /** open and past its due date */
  overdue: boolean;
};

export type FindingInput = {
  title: string;
  severity: Severity;
  owner_id?: string | null;
  due_at?: string | null;
  requirement_id?: string | null;
  note?: string | null;
};

export type FindingPatch = {
  title?: string;
  severity?: Severity;
  owner_id?: string | null;
  due_at?: string | null;
  status?: FindingStatus;
  note?: string | null;
};

const DAY_MS = 86_400_000;

/** The UTC calendar day of an instant, as YYYY-MM-DD. */
export const dayOf = (at: Date): string => at.toISOString().slice(0, 10);

export function addDays(day: string, days: number): string {
  return dayOf(new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS));
}

/** A calendar date YYYY-MM-DD that exists; the error names the field. */
export function parseDay(value: string, field: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
  const at = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
  if (!m || !at || dayOf(at) !== value.trim()) {
    throw badInput(`${field}: a date such as 2026-03-31 (got ${JSON.stringify(value)})`);
  }
  return value.trim();
}

type Row = {
  id: string;
  vendor_id: string;
  vendor_name: string;
  questionnaire_id: string | null;
  requirement_id: string | null;
  title: string;
  severity: Severity;
  owner_id: string | null;
  owner_email: string | null;
  owner_name: string | null;
  due_at: string | null;
  status: FindingStatus;
  note: string | null;
  created_at: Date;
  closed_at: Date | null;
  overdue: boolean;
};

export const FINDING_SELECT = `SELECT f.id::text AS id, f.vendor_id::text AS vendor_id, v.name AS vendor_name,
    f.questionnaire_id::text AS questionnaire_id, f.requirement_id, f.title, f.severity,
    f.owner_id::text AS owner_id, u.email AS owner_email, u.display_name AS owner_name,
    f.due_at::text AS due_at, f.status, f.note, f.created_at, f.closed_at,
    (f.status = 'open' AND f.due_at < (now() AT TIME ZONE 'UTC')::date) AS overdue
  FROM vendor_findings f JOIN vendors v ON v.id = f.vendor_id LEFT JOIN users u ON u.id = f.owner_id`;

/** Open first, then by due date (none last), then oldest first. */
export const FINDING_ORDER = "ORDER BY f.status = 'closed', f.due_at NULLS LAST, f.created_at, f.id";

export const toFinding = (r: Row): VendorFinding => ({
  id: r.id,
  vendor_id: r.vendor_id,
  vendor_name: r.vendor_name,
  questionnaire_id: r.questionnaire_id,
  requirement_id: r.requirement_id,
  title: r.title,
  severity: r.severity,
  owner:
    r.owner_id && r.owner_email ? { id: r.owner_id, email: r.owner_email, display_name: r.owner_name } : null,
  due_at: r.due_at,
  status: r.status,
  note: r.note,
  created_at: new Date(r.created_at).toISOString(),
  closed_at: r.closed_at ? new Date(r.closed_at).toISOString() : null,
  overdue: r.overdue === true,
});

export async function findingsWhere(
  q: Queryable,
  where: string,
  params: readonly unknown[],
  limit?: number,
): Promise<VendorFinding[]> {
  const r = await q.query<Row>(
    `${FINDING_SELECT} WHERE ${where} ${FINDING_ORDER}${limit ? ` LIMIT ${Math.floor(limit)}` : ""}`,
    params,
  );
  return r.rows.map(toFinding);
}

async function loadFinding(q: Queryable, id: string): Promise<VendorFinding> {
  const [f] = await findingsWhere(q, "f.id = $1", [id]);
  if (!f) throw new AppError("NOT_FOUND", `no finding ${id}`);
  return f;
}

/** An owner is an account that exists and is not disabled. */
export async function requireOwner(q: Queryable, ownerId: string, field = "owner_id"): Promise<string> {
  const id = ownerId.trim().toLowerCase();
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) {
    throw badInput(`${field}: an account's id (got ${JSON.stringify(ownerId.slice(0, 60))})`);
  }
  const r = await q.query<{ disabled: boolean }>(
    "SELECT disabled_at IS NOT NULL AS disabled FROM users WHERE id = $1",
    [id],
  );
  if (!r.rows[0]) throw badInput(`${field}: no account ${id}`);
  if (r.rows[0].disabled) throw badInput(`${field}: account ${id} is disabled`);
  return id;
}

function cleanTitle(title: string | undefined): string {
  const t = (title ?? "").trim();
  if (!t) throw badInput("title: required");
  if (t.length > 300) throw badInput("title: at most 300 characters");
  return t;
}

function cleanNote(note: string | null | undefined): string | null {
  if (note === undefined || note === null || !note.trim()) return null;
  if (note.length > 20_000) throw badInput("note: at most 20,000 characters");
  return note;
}

function cleanSeverity(severity: string | undefined): Severity {
  if (!(SEVERITIES as readonly string[]).includes(severity ?? "")) {
    throw badInput(`severity: one of ${SEVERITIES.join(", ")} (got ${JSON.stringify(severity ?? null)})`);
  }
  return severity as Severity;
}

/** A requirement id of the vendor's set, or of any set when it has none. */
async function checkRequirement(vendorSet: string | null, id: string): Promise<string> {
  const sets = await loadRequirementSets();
  const scope = vendorSet ? sets.filter((s) => s.name === vendorSet) : sets;
  if (!scope.some((s) => s.requirements.some((r) => r.id === id))) {
    throw badInput(
      `requirement_id: ${JSON.stringify(id)} is not a requirement of ${vendorSet ? `the set ${vendorSet}` : "any set"}`,
    );
  }
  return id;
}

/** Inserts a finding in the caller's transaction and audits it. */
export async function insertFinding(
  tx: Queryable,
  actor: Actor,
  vendorId: string,
  f: {
    title: string;
    severity: Severity;
    owner_id: string | null;
    due_at: string | null;
    requirement_id: string | null;
    questionnaire_id: string | null;
    note: string | null;
  },
): Promise<string> {
  const r = await tx.query<{ id: string }>(
    `INSERT INTO vendor_findings (vendor_id, questionnaire_id, requirement_id, title, severity, owner_id, due_at, note)
     VALUES ($1, $2, $3, $4, $5, $6, $7::date, $8) RETURNING id::text AS id`,
    [vendorId, f.questionnaire_id, f.requirement_id, f.title, f.severity, f.owner_id, f.due_at, f.note],
  );
  const id = (r.rows[0] as { id: string }).id;
  await appendAudit(tx, actor, "vendor.finding.create", `vendor:${vendorId}`, {
    finding: id,
    severity: f.severity,
    requirement: f.requirement_id,
    questionnaire: f.questionnaire_id,
    owner: f.owner_id,
    due_at: f.due_at,
  });
  return id;
}

export async function listFindings(
  ctx: Pick<Context, "db">,
  actor: Actor,
  vendorId: string,
  filter: { status?: FindingStatus } = {},
): Promise<VendorFinding[]> {
  requireRole(actor, "viewer", "reading vendor findings");
  requireId(vendorId, "vendor");
  const exists = await ctx.db.query("SELECT 1 FROM vendors WHERE id = $1", [vendorId]);
  if (exists.rows.length === 0) throw new AppError("NOT_FOUND", `no vendor ${vendorId}`);
  return findingsWhere(ctx.db, "f.vendor_id = $1 AND ($2::text IS NULL OR f.status = $2)", [
    vendorId,
    filter.status ?? null,
  ]);
}

export async function createFinding(
  ctx: Pick<Context, "db">,
  actor: Actor,
  vendorId: string,
  input: FindingInput,
): Promise<VendorFinding> {
  requireRole(actor, "responder", "recording vendor findings");
  requireId(vendorId, "vendor");
  const title = cleanTitle(input.title);
  const severity = cleanSeverity(input.severity);
  const due = input.due_at ? parseDay(input.due_at, "due_at") : null;
  const note = cleanNote(input.note);
  return ctx.db.transaction(async (tx) => {
    const v = await tx.query<{ requirement_set: string | null }>(
      "SELECT requirement_set FROM vendors WHERE id = $1",
      [vendorId],
    );
    if (!v.rows[0]) throw new AppError("NOT_FOUND", `no vendor ${vendorId}`);
    const owner = input.owner_id ? await requireOwner(tx, input.owner_id) : null;
    const requirement = input.requirement_id?.trim()
      ? await checkRequirement(v.rows[0].requirement_set, input.requirement_id.trim())
      : null;
    const id = await insertFinding(tx, actor, vendorId, {
      title,
      severity,
      owner_id: owner,
      due_at: due,
      requirement_id: requirement,
      questionnaire_id: null,
      note,
    });
    return loadFinding(tx, id);
  });
}

/** Changes the fields given; null clears the owner, the due date or the note. Closing stamps closed_at. */
export async function updateFinding(
  ctx: Pick<Context, "db">,
  actor: Actor,
  findingId: string,
  patch: FindingPatch,
): Promise<VendorFinding> {
  requireRole(actor, "responder", "changing vendor findings");
  requireId(findingId, "finding");
  const sets: string[] = [];
  const params: unknown[] = [findingId];
  const set = (sql: string, value: unknown) => {
    params.push(value);
    sets.push(sql.replace("?", `$${params.length}`));
  };
  if (patch.title !== undefined) set("title = ?", cleanTitle(patch.title));
  if (patch.severity !== undefined) set("severity = ?", cleanSeverity(patch.severity));
  if (patch.due_at !== undefined)
    set("due_at = ?::date", patch.due_at ? parseDay(patch.due_at, "due_at") : null);
  if (patch.note !== undefined) set("note = ?", cleanNote(patch.note));
  if (patch.status !== undefined) {
    if (!(FINDING_STATUSES as readonly string[]).includes(patch.status)) {
      throw badInput(`status: one of ${FINDING_STATUSES.join(", ")} (got ${JSON.stringify(patch.status)})`);
    }
    set("status = ?", patch.status);
    sets.push(patch.status === "closed" ? "closed_at = coalesce(closed_at, now())" : "closed_at = NULL");
  }
  const fields = Object.keys(patch).filter((k) => patch[k as keyof FindingPatch] !== undefined);
  if (fields.length === 0) {
    throw badInput("nothing to change: give title, severity, owner_id, due_at, status or note");
  }
  return ctx.db.transaction(async (tx) => {
    if (patch.owner_id !== undefined) {
      set("owner_id = ?", patch.owner_id ? await requireOwner(tx, patch.owner_id) : null);
    }
    const r = await tx.query<{ vendor_id: string }>(
      `UPDATE vendor_findings SET ${sets.join(", ")} WHERE id = $1 RETURNING vendor_id::text AS vendor_id`,
      params,
    );
    const vendorId = r.rows[0]?.vendor_id;
    if (!vendorId) throw new AppError("NOT_FOUND", `no finding ${findingId}`);
    await appendAudit(tx, actor, "vendor.finding.update", `vendor:${vendorId}`, {
      finding: findingId,
      fields,
      ...(patch.status !== undefined ? { status: patch.status } : {}),
      ...(patch.owner_id !== undefined ? { owner: patch.owner_id } : {}),
    });
    return loadFinding(tx, findingId);
  });
}
