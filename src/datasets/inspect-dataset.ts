import { createReadStream } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import path from "node:path";
import { pipeline, type Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import type { Context } from "../app/context.ts";
import { appendAudit } from "../audit/audit-log.ts";
import { type Actor, requireRole } from "../auth/roles.ts";
import {
  type Container,
  type DetectedFormat,
  detectFormat,
  type RecordKind,
} from "../intake/detect-format.ts";
import type { Role } from "../intake/mapping.ts";
import { sampleRecords } from "../intake/sample-records.ts";
import { openDuckDb } from "../lib/duckdb.ts";
import { AppError } from "../lib/errors.ts";
import { requireId } from "../lib/ids.ts";
import { openSealedStream, unsealToFile } from "../lib/seal.ts";
import { datasetSuffix, datasetsOf, mergeDatasetMappings } from "./manage-datasets.ts";
import { maskValue } from "./mask-value.ts";

/** The API's names of the identifying roles (the mapping document's `roles` keys). */
export const ROLE_NAMES = Object.freeze({
  distinctId: "distinct_id",
  userId: "user_id",
  deviceId: "device_id",
  email: "email",
  name: "name",
  country: "country",
  region: "region",
  org: "org_id",
} as const satisfies Record<Role, string>);
export type RoleName = (typeof ROLE_NAMES)[Role];

export type DatasetField = {
  name: string;
  /** sampled records in which the field has a value (not null, blank, [] or {}) */
  seen: number;
  /** up to 3 distinct values, masked (mask-value.ts) */
  samples: string[];
  /** the category it maps to with the defaults and the dataset's own mapping, or null */
  category: string | null;
  /** the identifying roles it plays: distinct_id, user_id, device_id, email, name, country, region, org_id */
  roles: RoleName[];
};

export type DatasetInspection = {
  format: { label: string; container: Container; kind: RecordKind; gzip: boolean };
  sampled_records: number;
  fields: DatasetField[];
  /** fields with neither a category nor a role: the analysis reports them under unmapped_fields */
  unmapped: string[];
};

export const SAMPLE_RECORDS = 1000;
/** Plaintext a line-based file is sampled from; the rest of the file is never unsealed. */
const HEAD_BYTES = 32 * 2 ** 20;
const SAMPLES_PER_FIELD = 3;
// Fields in these categories identify or name someone: their samples are masked without exceptions.
const STRICT_CATEGORIES = [
  "user.name",
  "user.contact",
  "user.unique_id",
  "user.device.device_id",
  "user.device.ip_address",
];
const STRICT_ROLES: readonly Role[] = ["distinctId", "userId", "deviceId", "email", "name", "org"];

/**
 * Which fields a stored dataset has, for mapping them: its detected format and, from a sample of its
 * first records, each field's count, a few masked values, its effective category and roles. The file
 * is unsealed into a private temp folder (only its beginning, where that is enough) that is removed
 * afterwards. Analysts and up; audited.
 */
export async function inspectDataset(
  ctx: Pick<Context, "db" | "config" | "key">,
  actor: Actor,
  incidentId: string,
  datasetId: string,
  /** headBytes: how much plaintext a line-based file is sampled from (default 32 MiB) */
  options: { headBytes?: number } = {},
): Promise<DatasetInspection> {
  requireRole(actor, "analyst", "inspecting datasets");
  requireId(incidentId, "incident");
  const id = requireId(datasetId, "dataset");
  const dataset = (await datasetsOf(ctx.db, incidentId)).find((d) => d.id === id);
  if (!dataset) throw new AppError("NOT_FOUND", `no dataset ${datasetId} in incident ${incidentId}`);
  if (dataset.status !== "stored")
    throw new AppError("CONFLICT", `dataset ${datasetId} is ${dataset.status}: its file is not available`);
  const mapping = mergeDatasetMappings([dataset]);

  const work = await mkdtemp(path.join(ctx.config.tempDir, "blastradius-inspect-"));
  let inspection: DatasetInspection;
  try {
    const sealed = path.resolve(ctx.config.dataDir, dataset.stored_path);
    const file = path.join(work, `dataset${datasetSuffix(dataset.file_name)}`);
    let records: Record<string, unknown>[];
    let format: DetectedFormat;
    try {
      ({ format, records } = await sampleSealed(ctx, sealed, file, options.headBytes ?? HEAD_BYTES));
    } catch (error) {
      // Messages name the temp copy; the reader knows the file by its uploaded name.
      if (error instanceof AppError)
        throw new AppError(error.code, error.message.replaceAll(file, dataset.file_name));
      throw error;
    }
    const roleOf = new Map<string, RoleName[]>();
    for (const [role, names] of Object.entries(mapping.roles) as [Role, readonly string[]][]) {
      for (const n of names) roleOf.set(n, [...(roleOf.get(n) ?? []), ROLE_NAMES[role]]);
    }
    const strictRoleFields = new Set(STRICT_ROLES.flatMap((r) => mapping.roles[r]));
    const isStrict = (name: string) => {
      const category = mapping.fields.get(name);
      return (
        strictRoleFields.has(name) ||
        (category !== undefined &&
          STRICT_CATEGORIES.some((c) => category === c || category.startsWith(`${c}.`)))
      );
    };
    const fields = countFields(records, format.kind, (name, value) =>
      maskValue(value, { strict: isStrict(name) }),
    );
    const out: DatasetField[] = [...fields].map(([name, f]) => ({
      name,
      seen: f.seen,
      samples: f.samples,
      category: mapping.fields.get(name) ?? null,
      roles: roleOf.get(name) ?? [],
    }));
    out.sort((a, b) => b.seen - a.seen || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    // As the analysis decides unmapped_fields: an event's own time is part of the behaviour record.
    const known = (name: string) =>
      mapping.fields.has(name) || roleOf.has(name) || (format.kind === "event" && name === "time");
    inspection = {
      format: { label: format.label, container: format.container, kind: format.kind, gzip: format.gzip },
      sampled_records: records.length,
      fields: out,
      unmapped: out.filter((f) => !known(f.name)).map((f) => f.name),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  await ctx.db.transaction((tx) =>
    appendAudit(tx, actor, "dataset.inspect", `incident:${incidentId}`, {
      dataset: id,
      sampled_records: inspection.sampled_records,
      fields: inspection.fields.length,
    }),
  );
  return inspection;
}

/**
 * Line-based files (JSON lines, CSV) need only their beginning: the first HEAD_BYTES of plaintext
 * (decompressed, for gzip), cut at the last whole line. Other layouts (Parquet, JSON arrays and pages)
 * are unsealed whole, as the analysis does.
 */
async function sampleSealed(
  ctx: Pick<Context, "config" | "key">,
  sealed: string,
  file: string,
  headBytes: number,
): Promise<{ format: DetectedFormat; records: Record<string, unknown>[] }> {
  const complete = await writeHead(openedStream(sealed, ctx.key, false), file, headBytes);
  const format = await detectFormat(file);
  let readAs = format;
  if (!complete) {
    if (format.container === "lines" || format.container === "csv") {
      if (format.gzip) {
        await rm(file, { force: true });
        await writeHead(openedStream(sealed, ctx.key, true), file, headBytes);
        readAs = { ...format, gzip: false };
      }
      await cutAtLastLine(file);
    } else {
      await rm(file, { force: true });
      await unsealToFile(sealed, file, ctx.key);
    }
  }
  const duck = await openDuckDb(ctx.config);
  try {
    return { format, records: await sampleRecords(duck.sql, file, readAs, SAMPLE_RECORDS) };
  } finally {
    duck.close();
  }
}

/** The plaintext of a sealed file (gunzipped if asked); an error in any stage fails the stream. */
function openedStream(sealed: string, key: Buffer, gunzip: boolean): Readable {
  const done = () => {
    // Errors reach the reader through the last stream; stopping early is no error.
  };
  return gunzip
    ? pipeline(createReadStream(sealed), openSealedStream(key), createGunzip(), done)
    : pipeline(createReadStream(sealed), openSealedStream(key), done);
}

/** Writes at most `max` bytes of `source` to a new private file; true when that was all of it. */
async function writeHead(source: Readable, dest: string, max: number): Promise<boolean> {
  const out = await open(dest, "wx", 0o600);
  let written = 0;
  let complete = true;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      const part = chunk.subarray(0, max - written);
      await out.write(part);
      written += part.length;
      if (written >= max) {
        complete = false;
        break;
      }
    }
  } catch (error) {
    // A gzip stream cut short, or any other read error, after some data still leaves a usable sample.
    if (written === 0) throw error;
    complete = false;
  } finally {
    source.destroy();
    await out.close();
  }
  return complete;
}

/** Drops a partial last line, so a cut-off record is not read as a broken one. */
async function cutAtLastLine(file: string): Promise<void> {
  const handle = await open(file, "r+");
  try {
    const { size } = await handle.stat();
    const tail = Buffer.alloc(Math.min(size, MAX_TAIL));
    await handle.read(tail, 0, tail.length, size - tail.length);
    const newline = tail.lastIndexOf(0x0a);
    if (newline >= 0) await handle.truncate(size - tail.length + newline + 1);
  } finally {
    await handle.close();
  }
}
const MAX_TAIL = 4 * 2 ** 20;

type FieldCount = { seen: number; samples: string[] };

/**
 * Fields in first-seen order with how many records have a value for them and up to 3 distinct masked
 * values (no raw value is kept). Mixpanel events keep their fields in `properties` and profiles in
 * `$properties`; the other top-level keys (event, $distinct_id) are fields too.
 */
function countFields(
  records: readonly Record<string, unknown>[],
  kind: RecordKind,
  mask: (name: string, value: unknown) => string | null,
): Map<string, FieldCount> {
  const container = kind === "event" ? "properties" : kind === "profile" ? "$properties" : null;
  const fields = new Map<string, FieldCount>();
  const add = (name: string, value: unknown) => {
    let f = fields.get(name);
    if (!f) {
      f = { seen: 0, samples: [] };
      fields.set(name, f);
    }
    // What counts as a value is what the analysis counts as present (maskValue gives null otherwise).
    const masked = mask(name, value);
    if (masked === null) return;
    f.seen++;
    if (f.samples.length < SAMPLES_PER_FIELD && !f.samples.includes(masked)) f.samples.push(masked);
  };
  for (const record of records) {
    for (const [name, value] of Object.entries(record)) {
      if (name === container && value && typeof value === "object" && !Array.isArray(value)) {
        for (const [inner, v] of Object.entries(value as Record<string, unknown>)) add(inner, v);
      } else add(name, value);
    }
  }
  return fields;
}
