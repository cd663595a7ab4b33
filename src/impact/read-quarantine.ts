import type { Context } from "../app/context.ts";
import { appendAudit } from "../audit/audit-log.ts";
import { type Actor, requireRole } from "../auth/roles.ts";
import { AppError } from "../lib/errors.ts";
import type { Queryable } from "../store/db.ts";
import type { Summary } from "./analyze-incident.ts";
import { type Page, pageBounds, succeededRun } from "./incident-analysis.ts";

/** One row an analysis could not use, as quarantine.jsonl gives it (README "Output"). */
export type QuarantinedRow = {
  /** the uploaded file's name */
  file: string;
  /** for JSON lines and CSV */
  line: number | null;
  /** for JSON arrays, engage pages and Parquet */
  row: number | null;
  reason: string;
  /** the first 2,000 characters of the row */
  raw: string | null;
};

/** A quarantined_rows row as QUARANTINE_COLUMNS selects it. */
export type QuarantineRowRecord = {
  file: string;
  line: string | number | null;
  row: string | number | null;
  reason: string;
  sealed: Uint8Array | null;
};

export const QUARANTINE_COLUMNS = `file, line::text AS line, "row"::text AS "row", reason, sealed`;

export function openQuarantinedRow(sealer: Context["sealer"], r: QuarantineRowRecord): QuarantinedRow {
  return {
    file: r.file,
    line: r.line === null ? null : Number(r.line),
    row: r.row === null ? null : Number(r.row),
    reason: r.reason,
    raw: r.sealed ? sealer.openText(Buffer.from(r.sealed)) : null,
  };
}

/**
 * Runs stored before quarantined rows were kept have a count in the summary and no rows: say so
 * rather than show an empty list.
 */
export async function requireQuarantineKept(
  q: Queryable,
  runId: string,
  summary: Summary,
  notKept: (message: string) => AppError,
): Promise<void> {
  if (summary.rows.quarantined === 0) return;
  const r = await q.query("SELECT 1 FROM quarantined_rows WHERE run_id = $1 LIMIT 1", [runId]);
  if (r.rows.length === 0)
    throw notKept(
      `analysis run ${runId} was stored before quarantined rows were kept; start a new analysis to see them`,
    );
}

/** Personal data (the raw rows): analysts and up, and every page read is audited. */
export async function readQuarantine(
  ctx: Pick<Context, "db" | "sealer">,
  actor: Actor,
  incidentId: string,
  runId: string,
  page: { offset?: number; limit?: number } = {},
): Promise<Page<QuarantinedRow>> {
  requireRole(actor, "analyst", "reading quarantined rows");
  const { offset, limit } = pageBounds(page.offset, page.limit);
  return ctx.db.transaction(async (tx) => {
    const { summary } = await succeededRun(tx, incidentId, runId, true);
    await requireQuarantineKept(tx, runId, summary, (m) => new AppError("CONFLICT", m));
    // Ordinals run from 0 without gaps, so an offset is a position in the primary index.
    const r = await tx.query<QuarantineRowRecord>(
      `SELECT ${QUARANTINE_COLUMNS} FROM quarantined_rows
       WHERE run_id = $1 AND ordinal >= $2 ORDER BY ordinal LIMIT $3`,
      [runId, offset, limit],
    );
    const items = r.rows.map((row) => openQuarantinedRow(ctx.sealer, row));
    await appendAudit(tx, actor, "results.quarantine.read", `incident:${incidentId}`, {
      run: runId,
      offset,
      count: items.length,
    });
    return { items, total: summary.rows.quarantined, offset, limit };
  });
}
