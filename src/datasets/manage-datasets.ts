import { randomUUID } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import type { Context } from "../app/context.ts";
import { appendAudit } from "../audit/audit-log.ts";
import { type Actor, requireRole } from "../auth/roles.ts";
import { loadIncident } from "../incidents/manage-incidents.ts";
import { entryText, recordSystemEntry } from "../incidents/record-system-entry.ts";
import {
  checkMappingDocument,
  defaultMapping,
  type FieldMapping,
  type MappingDocument,
  mergeMapping,
} from "../intake/mapping.ts";
import { AppError, badInput } from "../lib/errors.ts";
import { requireId } from "../lib/ids.ts";
import { sealToFile } from "../lib/seal.ts";
import type { Queryable } from "../store/db.ts";

export type Dataset = {
  id: string;
  incident_id: string;
  file_name: string;
  sha256: string;
  bytes: number;
  /** detected when the dataset is first analysed */
  format: string | null;
  mapping: MappingDocument | null;
  status: "uploading" | "stored" | "purged";
  uploaded_by: string | null;
  uploaded_at: string;
  purged_at: string | null;
};

type Row = Omit<Dataset, "bytes" | "uploaded_at" | "purged_at" | "uploaded_by"> & {
  bytes: string | number;
  uploaded_at: Date;
  purged_at: Date | null;
  uploaded_by: string | null;
  stored_path: string;
};
const COLUMNS =
  "id, incident_id, file_name, stored_path, sha256, bytes, format, mapping, status, uploaded_by, uploaded_at, purged_at";
export const toDataset = (r: Row): Dataset => ({
  id: r.id,
  incident_id: r.incident_id,
  file_name: r.file_name,
  sha256: r.sha256,
  bytes: Number(r.bytes),
  format: r.format,
  mapping: r.mapping,
  status: r.status,
  uploaded_by: r.uploaded_by,
  uploaded_at: new Date(r.uploaded_at).toISOString(),
  purged_at: r.purged_at ? new Date(r.purged_at).toISOString() : null,
});

/** Sealed files live under the data folder, named by id; the original name is only shown. */
export function datasetPath(dataDir: string, incidentId: string, datasetId: string): string {
  return path.resolve(dataDir, "datasets", incidentId, `${datasetId}.sealed`);
}

/** The file's own suffixes (.jsonl.gz, .parquet), so the analysis sees the name it was given. */
export function datasetSuffix(fileName: string): string {
  const m = /((?:\.[a-z0-9]{1,8}){1,2})$/i.exec(path.basename(fileName));
  return m?.[1]?.toLowerCase() ?? "";
}

function cleanFileName(name: string | undefined): string {
  // Control characters would garble logs and terminals that show the name.
  const base = [...path.basename((name ?? "").replaceAll("\\", "/"))]
    .filter((ch) => (ch.codePointAt(0) ?? 0) > 0x1f && ch !== "\u007f")
    .join("");
  if (!base) throw badInput("file: the upload has no file name");
  return base.slice(0, 200);
}

export async function uploadDataset(
  ctx: Pick<Context, "db" | "config" | "key">,
  actor: Actor,
  incidentId: string,
  input: { fileName?: string; content: Readable; mapping?: unknown },
): Promise<Dataset> {
  requireRole(actor, "analyst", "uploading datasets");
  requireId(incidentId, "incident");
  const fileName = cleanFileName(input.fileName);
  const mapping = input.mapping === undefined ? null : checkMappingDocument(input.mapping, "mapping");
  const incident = await loadIncident(ctx.db, incidentId);
  if (incident.purged_at)
    throw new AppError("CONFLICT", "this incident's data was purged after its retention period");
  const id = randomUUID();
  const file = datasetPath(ctx.config.dataDir, incidentId, id);
  await mkdir(path.dirname(file), { recursive: true });
  const sealed = await sealToFile(input.content, file, ctx.key, { maxBytes: ctx.config.maxUploadBytes });
  try {
    return await ctx.db.transaction(async (tx) => {
      const r = await tx.query<Row>(
        `INSERT INTO datasets (id, incident_id, file_name, stored_path, sha256, bytes, mapping, status, uploaded_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'stored', $8) RETURNING ${COLUMNS}`,
        [
          id,
          incidentId,
          fileName,
          path.relative(ctx.config.dataDir, file),
          sealed.sha256,
          sealed.bytes,
          mapping,
          actor.userId ?? null,
        ],
      );
      // The received clock is the first dataset's arrival unless someone set it by hand.
      await tx.query(
        `INSERT INTO incident_clocks (incident_id, clock, at, set_by) VALUES ($1, 'dataset_received', now(), $2)
         ON CONFLICT DO NOTHING`,
        [incidentId, actor.userId ?? null],
      );
      await appendAudit(tx, actor, "dataset.upload", `incident:${incidentId}`, {
        dataset: id,
        bytes: sealed.bytes,
        sha256: sealed.sha256,
      });
      await recordSystemEntry(tx, incidentId, entryText.datasetReceived(fileName, sealed.bytes));
      return toDataset(r.rows[0] as Row);
    });
  } catch (error) {
    await rm(file, { force: true });
    throw error;
  }
}

export async function datasetsOf(
  q: Queryable,
  incidentId: string,
): Promise<(Dataset & { stored_path: string })[]> {
  const r = await q.query<Row>(
    `SELECT ${COLUMNS} FROM datasets WHERE incident_id = $1 ORDER BY uploaded_at, id`,
    [incidentId],
  );
  return r.rows.map((row) => ({ ...toDataset(row), stored_path: row.stored_path }));
}

export async function listDatasets(
  ctx: Pick<Context, "db">,
  actor: Actor,
  incidentId: string,
): Promise<Dataset[]> {
  requireRole(actor, "viewer", "reading datasets");
  await loadIncident(ctx.db, incidentId);
  return (await datasetsOf(ctx.db, incidentId)).map(({ stored_path: _, ...d }) => d);
}

async function loadDataset(q: Queryable, incidentId: string, id: string): Promise<Row> {
  const r = await q.query<Row>(`SELECT ${COLUMNS} FROM datasets WHERE id = $1 AND incident_id = $2`, [
    requireId(id, "dataset"),
    requireId(incidentId, "incident"),
  ]);
  if (!r.rows[0]) throw new AppError("NOT_FOUND", `no dataset ${id} in incident ${incidentId}`);
  return r.rows[0];
}

export async function getDataset(
  ctx: Pick<Context, "db">,
  actor: Actor,
  incidentId: string,
  id: string,
): Promise<Dataset> {
  requireRole(actor, "viewer", "reading datasets");
  return toDataset(await loadDataset(ctx.db, incidentId, id));
}

/** Replaces a dataset's field mapping (the same document as the CLI's --mapping YAML). */
export async function setDatasetMapping(
  ctx: Pick<Context, "db">,
  actor: Actor,
  incidentId: string,
  id: string,
  mapping: unknown,
): Promise<Dataset> {
  requireRole(actor, "analyst", "mapping dataset fields");
  const doc = mapping === null ? null : checkMappingDocument(mapping, "mapping");
  return ctx.db.transaction(async (tx) => {
    await loadDataset(tx, incidentId, id);
    const r = await tx.query<Row>(`UPDATE datasets SET mapping = $2 WHERE id = $1 RETURNING ${COLUMNS}`, [
      id,
      doc,
    ]);
    await appendAudit(tx, actor, "dataset.mapping", `incident:${incidentId}`, { dataset: id });
    return toDataset(r.rows[0] as Row);
  });
}

export async function deleteDataset(
  ctx: Pick<Context, "db" | "config">,
  actor: Actor,
  incidentId: string,
  id: string,
): Promise<void> {
  requireRole(actor, "responder", "removing datasets");
  const row = await ctx.db.transaction(async (tx) => {
    const found = await loadDataset(tx, incidentId, id);
    const used = await tx.query(
      "SELECT 1 FROM analysis_runs WHERE $1 = ANY(dataset_ids) AND status IN ('queued', 'running')",
      [id],
    );
    if (used.rows.length > 0)
      throw new AppError("CONFLICT", "an analysis of this dataset is running; wait for it to end");
    await tx.query(
      "UPDATE analysis_runs SET dataset_ids = array_remove(dataset_ids, $1::uuid) WHERE $1 = ANY(dataset_ids)",
      [id],
    );
    await tx.query("DELETE FROM datasets WHERE id = $1", [id]);
    await appendAudit(tx, actor, "dataset.delete", `incident:${incidentId}`, { dataset: id });
    return found;
  });
  await rm(path.resolve(ctx.config.dataDir, row.stored_path), { force: true });
}

/**
 * One mapping for an analysis of several datasets: their documents merged in upload order. A field
 * two datasets map to different categories is refused rather than silently picking one.
 */
export function mergeDatasetMappings(
  datasets: readonly Pick<Dataset, "file_name" | "mapping">[],
): FieldMapping {
  const fields: Record<string, string | null> = {};
  const roles: Record<string, string[]> = {};
  const owner: Record<string, string> = {};
  for (const d of datasets) {
    if (!d.mapping) continue;
    for (const [field, category] of Object.entries(d.mapping.fields ?? {})) {
      if (field in fields && fields[field] !== category) {
        throw badInput(
          `mapping: ${d.file_name} maps ${field} to ${category}, but ${owner[field]} maps it to ${fields[field]}`,
        );
      }
      fields[field] = category;
      owner[field] = d.file_name;
    }
    for (const [role, list] of Object.entries(d.mapping.roles ?? {})) {
      roles[role] = [...new Set([...(roles[role] ?? []), ...(list ?? [])])];
    }
  }
  return mergeMapping(defaultMapping, { fields, roles } as MappingDocument);
}
