import type { Context } from "../app/context.ts";
import { appendAudit } from "../audit/audit-log.ts";
import { type Actor, requireRole } from "../auth/roles.ts";
import { AppError, badInput } from "../lib/errors.ts";
import { requireId } from "../lib/ids.ts";
import type { Queryable } from "../store/db.ts";
import { scanSeesVendor } from "./attach-scan.ts";
import { revokeOpenQuestionnaires } from "./questionnaires.ts";

/**
 * Offboarding a vendor is a checklist, each step with who and when: the integration is removed
 * (proved by a scan attached after offboarding began that no longer sees the vendor), keys are
 * revoked, deletion of our data is requested and its certificate received, and the contract ends.
 * When every step is done the vendor is offboarded.
 */

export const OFFBOARDING_STEPS = [
  "integration_removed",
  "keys_revoked",
  "deletion_requested",
  "deletion_certificate",
  "contract_ended",
] as const;
export type OffboardingStepName = (typeof OFFBOARDING_STEPS)[number];

export type OffboardingStep = {
  step: OffboardingStepName;
  done: boolean;
  done_at: string | null;
  /** the account that recorded it, and the audit log's name for whoever did ("user:<id>", "cli") */
  done_by: string | null;
  done_by_label: string | null;
  note: string | null;
  /** integration_removed: the scan that no longer sees the vendor */
  scan_id: string | null;
};

export type Offboarding = {
  vendor_id: string;
  name: string;
  status: string;
  started_at: string | null;
  steps: OffboardingStep[];
  done_steps: number;
  total_steps: number;
};

type VendorRow = {
  id: string;
  name: string;
  status: string;
  catalogue_id: string | null;
  domains: string[] | null;
  offboarding_started_at: Date | null;
};

type StepRow = {
  step: OffboardingStepName;
  done_at: Date;
  done_by: string | null;
  done_by_label: string | null;
  note: string | null;
  scan_id: string | null;
};

async function loadVendor(q: Queryable, vendorId: string, lock = false): Promise<VendorRow> {
  const r = await q.query<VendorRow>(
    `SELECT id::text AS id, name, status, catalogue_id, domains, offboarding_started_at FROM vendors WHERE id = $1${lock ? " FOR UPDATE" : ""}`,
    [vendorId],
  );
  if (!r.rows[0]) throw new AppError("NOT_FOUND", `no vendor ${vendorId}`);
  return r.rows[0];
}

async function checklist(q: Queryable, v: VendorRow): Promise<Offboarding> {
  const r = await q.query<StepRow>(
    `SELECT step, done_at, done_by::text AS done_by, done_by_label, note, scan_id::text AS scan_id
     FROM vendor_offboarding_steps WHERE vendor_id = $1`,
    [v.id],
  );
  const steps = OFFBOARDING_STEPS.map((step): OffboardingStep => {
    const s = r.rows.find((x) => x.step === step);
    return {
      step,
      done: s !== undefined,
      done_at: s ? new Date(s.done_at).toISOString() : null,
      done_by: s?.done_by ?? null,
      done_by_label: s?.done_by_label ?? null,
      note: s?.note ?? null,
      scan_id: s?.scan_id ?? null,
    };
  });
  return {
    vendor_id: v.id,
    name: v.name,
    status: v.status,
    started_at: v.offboarding_started_at ? new Date(v.offboarding_started_at).toISOString() : null,
    steps,
    done_steps: steps.filter((s) => s.done).length,
    total_steps: steps.length,
  };
}

export async function getOffboarding(
  ctx: Pick<Context, "db">,
  actor: Actor,
  vendorId: string,
): Promise<Offboarding> {
  requireRole(actor, "viewer", "reading offboarding checklists");
  requireId(vendorId, "vendor");
  return checklist(ctx.db, await loadVendor(ctx.db, vendorId));
}

/** Starts offboarding: the vendor's status becomes offboarding and its open questionnaire links stop working. */
export async function startOffboarding(
  ctx: Pick<Context, "db">,
  actor: Actor,
  vendorId: string,
): Promise<Offboarding> {
  requireRole(actor, "responder", "offboarding vendors");
  requireId(vendorId, "vendor");
  return ctx.db.transaction(async (tx) => {
    const v = await loadVendor(tx, vendorId, true);
    if (v.status === "offboarding") {
      throw new AppError(
        "CONFLICT",
        `vendor ${JSON.stringify(v.name)} is being offboarded already (since ${v.offboarding_started_at ? new Date(v.offboarding_started_at).toISOString() : "?"})`,
      );
    }
    if (v.status === "offboarded") {
      throw new AppError("CONFLICT", `vendor ${JSON.stringify(v.name)} is offboarded already`);
    }
    const r = await tx.query<{ offboarding_started_at: Date }>(
      `UPDATE vendors SET status = 'offboarding', offboarding_started_at = now(), updated_at = now()
       WHERE id = $1 RETURNING offboarding_started_at`,
      [vendorId],
    );
    const revoked = await revokeOpenQuestionnaires(tx, vendorId);
    await appendAudit(tx, actor, "vendor.offboarding.start", `vendor:${vendorId}`, {
      previous_status: v.status,
      questionnaires_revoked: revoked,
    });
    return checklist(tx, {
      ...v,
      status: "offboarding",
      offboarding_started_at: r.rows[0]?.offboarding_started_at ?? null,
    });
  });
}

export type StepInput = { step: string; note?: string | null; scan_id?: string | null };

/** The scan proves the integration is gone: attached and run after offboarding began, and blind to the vendor. */
async function checkRemovalScan(
  q: Queryable,
  v: VendorRow,
  scanId: string | null | undefined,
): Promise<string> {
  if (!scanId) {
    throw badInput(
      `scan_id: integration_removed needs a scan that no longer sees ${v.name}: run the exposure scan, attach it (blastradius vendors attach-scan DIR, or POST /vendors/scans) and give the attached scan's id`,
    );
  }
  const id = requireId(scanId, "scan");
  const r = await q.query<{
    scanned_at: Date;
    created_at: Date;
    summary: Parameters<typeof scanSeesVendor>[0];
  }>("SELECT scanned_at, created_at, summary FROM vendor_scans WHERE id = $1", [id]);
  const scan = r.rows[0];
  if (!scan) throw badInput(`scan_id: no attached scan ${id}`);
  const started = v.offboarding_started_at ? new Date(v.offboarding_started_at) : null;
  if (!started) throw new AppError("CONFLICT", `vendor ${v.name} has no offboarding start time`);
  for (const [what, at] of [
    ["attached", new Date(scan.created_at)],
    ["run", new Date(scan.scanned_at)],
  ] as const) {
    if (at.getTime() < started.getTime()) {
      throw badInput(
        `scan_id: scan ${id} was ${what} at ${at.toISOString()}, before offboarding started at ${started.toISOString()}: it cannot show the integration is gone; run and attach a new scan`,
      );
    }
  }
  const sees = scanSeesVendor(scan.summary, {
    name: v.name,
    catalogue_id: v.catalogue_id,
    domains: Array.isArray(v.domains) ? v.domains : [],
  });
  if (sees) {
    throw badInput(
      `scan_id: scan ${id} still sees ${v.name} (requests to its hosts or flows to it): remove the integration and scan again`,
    );
  }
  return id;
}

/** Marks one step done. The last one makes the vendor offboarded. */
export async function recordOffboardingStep(
  ctx: Pick<Context, "db">,
  actor: Actor,
  vendorId: string,
  input: StepInput,
): Promise<Offboarding> {
  requireRole(actor, "responder", "offboarding vendors");
  requireId(vendorId, "vendor");
  if (!(OFFBOARDING_STEPS as readonly string[]).includes(input.step)) {
    throw badInput(`step: one of ${OFFBOARDING_STEPS.join(", ")} (got ${JSON.stringify(input.step)})`);
  }
  const step = input.step as OffboardingStepName;
  const note = input.note?.trim() || null;
  if (note && note.length > 5000) throw badInput("note: at most 5,000 characters");
  if (input.scan_id && step !== "integration_removed") {
    throw badInput("scan_id: only for the integration_removed step");
  }
  return ctx.db.transaction(async (tx) => {
    const v = await loadVendor(tx, vendorId, true);
    if (v.status !== "offboarding") {
      throw new AppError(
        "CONFLICT",
        v.status === "offboarded"
          ? `vendor ${JSON.stringify(v.name)} is offboarded already`
          : `vendor ${JSON.stringify(v.name)} is ${v.status}: start offboarding first`,
      );
    }
    const before = await checklist(tx, v);
    const existing = before.steps.find((s) => s.step === step);
    if (existing?.done) {
      throw new AppError("CONFLICT", `step: ${step} was recorded already, at ${existing.done_at}`);
    }
    if (step === "deletion_certificate" && !before.steps.find((s) => s.step === "deletion_requested")?.done) {
      throw new AppError(
        "CONFLICT",
        "step: deletion_certificate needs deletion_requested to be recorded first",
      );
    }
    const scanId = step === "integration_removed" ? await checkRemovalScan(tx, v, input.scan_id) : null;
    await tx.query(
      `INSERT INTO vendor_offboarding_steps (vendor_id, step, done_by, done_by_label, note, scan_id)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [vendorId, step, actor.userId ?? null, actor.label, note, scanId],
    );
    await appendAudit(tx, actor, "vendor.offboarding.step", `vendor:${vendorId}`, {
      step,
      scan: scanId,
      note: note !== null,
    });
    const after = await checklist(tx, v);
    if (after.done_steps === after.total_steps) {
      await tx.query("UPDATE vendors SET status = 'offboarded', updated_at = now() WHERE id = $1", [
        vendorId,
      ]);
      await appendAudit(tx, actor, "vendor.offboarded", `vendor:${vendorId}`, { steps: after.total_steps });
      return { ...after, status: "offboarded" };
    }
    return after;
  });
}
