import type { Context } from "../app/context.ts";
import { appendAudit } from "../audit/audit-log.ts";
import { type Actor, requireRole } from "../auth/roles.ts";
import { AppError, badInput } from "../lib/errors.ts";
import { requireId } from "../lib/ids.ts";
import { CLOCKS, type ClockName } from "../obligations/rule-schema.ts";
import type { Queryable } from "../store/db.ts";
import { SYSTEM_KIND } from "./record-system-entry.ts";

export const INCIDENT_STATUSES = ["open", "assessing", "notifying", "monitoring", "closed"] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export type Incident = {
  id: string;
  title: string;
  description: string | null;
  vendor_id: string | null;
  status: IncidentStatus;
  controller_country: string | null;
  retention_days: number;
  /** each clock kept apart: when the vendor detected it, told us, we became aware, ... */
  clocks: Partial<Record<ClockName, string>>;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  purged_at: string | null;
};

export type IncidentInput = Partial<
  Pick<Incident, "title" | "description" | "vendor_id" | "status" | "controller_country" | "retention_days">
>;

type Row = Omit<Incident, "clocks" | "created_at" | "updated_at" | "closed_at" | "purged_at"> & {
  created_at: Date;
  updated_at: Date;
  closed_at: Date | null;
  purged_at: Date | null;
};
const COLUMNS =
  "id, title, description, vendor_id, status, controller_country, retention_days, created_at, updated_at, closed_at, purged_at";
const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

async function withClocks(q: Queryable, rows: Row[]): Promise<Incident[]> {
  if (rows.length === 0) return [];
  const c = await q.query<{ incident_id: string; clock: ClockName; at: Date }>(
    "SELECT incident_id, clock, at FROM incident_clocks WHERE incident_id = ANY($1::uuid[])",
    [rows.map((r) => r.id)],
  );
  return rows.map((r) => ({
    ...r,
    controller_country: r.controller_country?.trim() ?? null,
    clocks: Object.fromEntries(
      c.rows.filter((x) => x.incident_id === r.id).map((x) => [x.clock, new Date(x.at).toISOString()]),
    ),
    created_at: new Date(r.created_at).toISOString(),
    updated_at: new Date(r.updated_at).toISOString(),
    closed_at: iso(r.closed_at),
    purged_at: iso(r.purged_at),
  }));
}

export async function loadIncident(q: Queryable, id: string): Promise<Incident> {
  const r = await q.query<Row>(`SELECT ${COLUMNS} FROM incidents WHERE id = $1`, [requireId(id, "incident")]);
  const [incident] = await withClocks(q, r.rows);
  if (!incident) throw new AppError("NOT_FOUND", `no incident ${id}`);
  return incident;
}

function checkInput(input: IncidentInput): void {
  if (input.title !== undefined && !input.title.trim()) throw badInput("title: must not be empty");
  if (input.status !== undefined && !(INCIDENT_STATUSES as readonly string[]).includes(input.status)) {
    throw badInput(`status: one of ${INCIDENT_STATUSES.join(", ")}`);
  }
  if (input.controller_country != null && !/^[A-Z]{2}$/.test(input.controller_country)) {
    throw badInput("controller_country: an ISO 3166-1 alpha-2 code such as DE or US");
  }
  if (
    input.retention_days !== undefined &&
    !(Number.isInteger(input.retention_days) && input.retention_days > 0)
  ) {
    throw badInput("retention_days: a whole number of days above 0");
  }
  if (input.vendor_id != null) requireId(input.vendor_id, "vendor");
}

async function vendorExists(q: Queryable, id: string | null | undefined): Promise<void> {
  if (id == null) return;
  const r = await q.query("SELECT 1 FROM vendors WHERE id = $1", [id]);
  if (r.rows.length === 0) throw badInput(`vendor_id: no vendor ${id}`);
}

export async function listIncidents(ctx: Pick<Context, "db">, actor: Actor): Promise<Incident[]> {
  requireRole(actor, "viewer", "reading incidents");
  const r = await ctx.db.query<Row>(`SELECT ${COLUMNS} FROM incidents ORDER BY created_at DESC, id`);
  return withClocks(ctx.db, r.rows);
}

export async function getIncident(ctx: Pick<Context, "db">, actor: Actor, id: string): Promise<Incident> {
  requireRole(actor, "viewer", "reading incidents");
  return loadIncident(ctx.db, id);
}

export async function createIncident(
  ctx: Pick<Context, "db">,
  actor: Actor,
  input: IncidentInput & { clocks?: Partial<Record<string, string>> },
): Promise<Incident> {
  requireRole(actor, "responder", "opening incidents");
  if (!input.title?.trim()) throw badInput("title: required");
  checkInput(input);
  const clocks = checkClocks(input.clocks ?? {});
  return ctx.db.transaction(async (tx) => {
    await vendorExists(tx, input.vendor_id);
    const r = await tx.query<{ id: string }>(
      `INSERT INTO incidents (title, description, vendor_id, status, controller_country, retention_days, created_by, closed_at)
       VALUES ($1, $2, $3, coalesce($4, 'open'), $5, coalesce($6, 365), $7, CASE WHEN $4 = 'closed' THEN now() END)
       RETURNING id`,
      [
        input.title?.trim(),
        input.description ?? null,
        input.vendor_id ?? null,
        input.status ?? null,
        input.controller_country ?? null,
        input.retention_days ?? null,
        actor.userId ?? null,
      ],
    );
    const id = r.rows[0]?.id as string;
    for (const [clock, at] of clocks) await upsertClock(tx, actor, id, clock, at);
    await appendAudit(tx, actor, "incident.create", `incident:${id}`);
    return loadIncident(tx, id);
  });
}

export async function updateIncident(
  ctx: Pick<Context, "db">,
  actor: Actor,
  id: string,
  input: IncidentInput,
): Promise<Incident> {
  requireRole(actor, "responder", "changing incidents");
  requireId(id, "incident");
  checkInput(input);
  return ctx.db.transaction(async (tx) => {
    await vendorExists(tx, input.vendor_id);
    const sets: string[] = [];
    const params: unknown[] = [id];
    for (const key of [
      "title",
      "description",
      "vendor_id",
      "status",
      "controller_country",
      "retention_days",
    ] as const) {
      if (input[key] === undefined) continue;
      params.push(key === "title" ? input.title?.trim() : input[key]);
      sets.push(`${key} = $${params.length}`);
    }
    if (input.status !== undefined) {
      // closed_at starts the retention period; reopening stops it.
      sets.push(`closed_at = CASE WHEN ${input.status === "closed"} THEN coalesce(closed_at, now()) END`);
    }
    const r = await tx.query(
      `UPDATE incidents SET ${[...sets, "updated_at = now()"].join(", ")} WHERE id = $1 RETURNING id`,
      params,
    );
    if (r.rows.length === 0) throw new AppError("NOT_FOUND", `no incident ${id}`);
    await appendAudit(tx, actor, "incident.update", `incident:${id}`, {
      fields: Object.keys(input),
      ...(input.status ? { status: input.status } : {}),
    });
    return loadIncident(tx, id);
  });
}

export async function deleteIncident(ctx: Pick<Context, "db">, actor: Actor, id: string): Promise<void> {
  requireRole(actor, "admin", "deleting incidents");
  requireId(id, "incident");
  await ctx.db.transaction(async (tx) => {
    const r = await tx.query("DELETE FROM incidents WHERE id = $1 RETURNING id", [id]);
    if (r.rows.length === 0) throw new AppError("NOT_FOUND", `no incident ${id}`);
    await appendAudit(tx, actor, "incident.delete", `incident:${id}`);
  });
}

function checkClocks(clocks: Partial<Record<string, string>>): [ClockName, Date][] {
  return Object.entries(clocks).map(([name, at]) => {
    if (!(CLOCKS as readonly string[]).includes(name)) {
      throw badInput(`clocks.${name}: not a clock; use one of ${CLOCKS.join(", ")}`);
    }
    return [name as ClockName, parseInstant(at ?? "", `clocks.${name}`)];
  });
}

export function parseInstant(value: string, field: string): Date {
  // An offset is required: a deadline computed from a local time of unknown zone is wrong.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    throw badInput(`${field}: an ISO-8601 time with offset, such as 2025-11-09T14:00:00Z`);
  }
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw badInput(`${field}: not a real time`);
  return d;
}

async function upsertClock(
  tx: Queryable,
  actor: Actor,
  id: string,
  clock: ClockName,
  at: Date,
): Promise<void> {
  await tx.query(
    `INSERT INTO incident_clocks (incident_id, clock, at, set_by) VALUES ($1, $2, $3, $4)
     ON CONFLICT (incident_id, clock) DO UPDATE SET at = EXCLUDED.at, set_by = EXCLUDED.set_by, set_at = now()`,
    [id, clock, at, actor.userId ?? null],
  );
  await appendAudit(tx, actor, "incident.clock", `incident:${id}`, { clock, at: at.toISOString() });
}

export async function setClock(
  ctx: Pick<Context, "db">,
  actor: Actor,
  id: string,
  clock: string,
  at: string | null,
): Promise<Incident> {
  requireRole(actor, "responder", "setting clocks");
  requireId(id, "incident");
  if (!(CLOCKS as readonly string[]).includes(clock)) {
    throw new AppError("NOT_FOUND", `no clock ${JSON.stringify(clock)}; use one of ${CLOCKS.join(", ")}`);
  }
  return ctx.db.transaction(async (tx) => {
    await loadIncident(tx, id);
    if (at === null) {
      await tx.query("DELETE FROM incident_clocks WHERE incident_id = $1 AND clock = $2", [id, clock]);
      await appendAudit(tx, actor, "incident.clock_cleared", `incident:${id}`, { clock });
    } else {
      await upsertClock(tx, actor, id, clock as ClockName, parseInstant(at, "at"));
    }
    await tx.query("UPDATE incidents SET updated_at = now() WHERE id = $1", [id]);
    return loadIncident(tx, id);
  });
}

export type TimelineEntry = {
  id: string;
  at: string;
  kind: string;
  body: string;
  author: string | null;
  created_at: string;
};

export async function listTimeline(
  ctx: Pick<Context, "db">,
  actor: Actor,
  id: string,
): Promise<TimelineEntry[]> {
  requireRole(actor, "viewer", "reading timelines");
  await loadIncident(ctx.db, id);
  const r = await ctx.db.query<{
    id: string;
    at: Date;
    kind: string;
    body: string;
    author_label: string | null;
    created_at: Date;
  }>(
    "SELECT id, at, kind, body, author_label, created_at FROM timeline_entries WHERE incident_id = $1 ORDER BY at, created_at, id",
    [id],
  );
  return r.rows.map((e) => ({
    id: e.id,
    at: new Date(e.at).toISOString(),
    kind: e.kind,
    body: e.body,
    author: e.author_label,
    created_at: new Date(e.created_at).toISOString(),
  }));
}

export async function addTimelineEntry(
  ctx: Pick<Context, "db">,
  actor: Actor,
  id: string,
  input: { at?: string; kind?: string; body: string },
): Promise<TimelineEntry> {
  requireRole(actor, "responder", "writing the timeline");
  if (!input.body?.trim()) throw badInput("body: required");
  const kind = input.kind?.trim() || "note";
  if (!/^[a-z][a-z0-9_]{0,39}$/.test(kind))
    throw badInput("kind: a short lower-case word such as note or call");
  // Entries of kind system are the system's own record (uploads, analyses, sends, filings).
  if (kind === SYSTEM_KIND) throw badInput("kind: system is kept for the entries the system writes");
  const at = input.at ? parseInstant(input.at, "at") : new Date();
  return ctx.db.transaction(async (tx) => {
    await loadIncident(tx, id);
    const r = await tx.query<{ id: string; created_at: Date }>(
      `INSERT INTO timeline_entries (incident_id, at, kind, body, author_id, author_label)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, created_at`,
      [id, at, kind, input.body, actor.userId ?? null, actor.label],
    );
    const row = r.rows[0] as { id: string; created_at: Date };
    await appendAudit(tx, actor, "timeline.add", `incident:${id}`, { entry: row.id, kind });
    return {
      id: row.id,
      at: at.toISOString(),
      kind,
      body: input.body,
      author: actor.label,
      created_at: new Date(row.created_at).toISOString(),
    };
  });
}

export type DecisionEntry = {
  id: string;
  subject: string;
  decision: string;
  rationale: string;
  decided_by: string | null;
  decided_at: string;
};

export async function listDecisions(
  ctx: Pick<Context, "db">,
  actor: Actor,
  id: string,
): Promise<DecisionEntry[]> {
  requireRole(actor, "viewer", "reading decisions");
  await loadIncident(ctx.db, id);
  return decisionsOf(ctx.db, id);
}

export async function decisionsOf(q: Queryable, id: string): Promise<DecisionEntry[]> {
  const r = await q.query<{
    id: string;
    subject: string;
    decision: string;
    rationale: string;
    decided_by_label: string | null;
    decided_at: Date;
  }>(
    "SELECT id, subject, decision, rationale, decided_by_label, decided_at FROM decisions WHERE incident_id = $1 ORDER BY decided_at, id",
    [id],
  );
  return r.rows.map((d) => ({
    id: d.id,
    subject: d.subject,
    decision: d.decision,
    rationale: d.rationale,
    decided_by: d.decided_by_label,
    decided_at: new Date(d.decided_at).toISOString(),
  }));
}

/**
 * A decision with who and why. One whose subject is "REGIME:AUDIENCE" (e.g. eu-gdpr:individuals)
 * and whose decision is required or not_required answers that regime's judgment question; the
 * latest such answer is what the obligations use.
 */
export async function recordDecision(
  ctx: Pick<Context, "db">,
  actor: Actor,
  id: string,
  input: { subject: string; decision: string; rationale: string },
): Promise<DecisionEntry> {
  requireRole(actor, "responder", "recording decisions");
  for (const field of ["subject", "decision", "rationale"] as const) {
    if (!input[field]?.trim()) throw badInput(`${field}: required`);
  }
  return ctx.db.transaction(async (tx) => {
    await loadIncident(tx, id);
    const r = await tx.query<{ id: string; decided_at: Date }>(
      `INSERT INTO decisions (incident_id, subject, decision, rationale, decided_by, decided_by_label)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, decided_at`,
      [id, input.subject.trim(), input.decision.trim(), input.rationale, actor.userId ?? null, actor.label],
    );
    const row = r.rows[0] as { id: string; decided_at: Date };
    await appendAudit(tx, actor, "decision.record", `incident:${id}`, { decision: row.id });
    return {
      id: row.id,
      subject: input.subject.trim(),
      decision: input.decision.trim(),
      rationale: input.rationale,
      decided_by: actor.label,
      decided_at: new Date(row.decided_at).toISOString(),
    };
  });
}
