import { stat } from "node:fs/promises";
import { parse as parseCsv } from "csv-parse/sync";
import { ident, literal, queryOne, queryRows, type Sql } from "../lib/duckdb.ts";
import { AppError, badInput } from "../lib/errors.ts";
import { type DetectedFormat, detectFormat, type RecordKind, readHead } from "./detect-format.ts";
import { CATEGORY, type FieldMapping, type Role } from "./mapping.ts";

/**
 * Loads one dataset file into a DuckDB table of normalised records, one row per input record:
 *   rec_<n>(ord, reason, did, uid, dev, email, name, country, org, cats, raw)
 * `ord` is the record's position in the file; `reason` is NULL for a usable record and says why
 * otherwise; `cats` is a bit set over the mapping's categories. Lines that DuckDB's reader itself
 * rejects (bad UTF-8, over-long lines, broken CSV quoting) land in rej_<n> with their line numbers.
 * Nothing is read into JavaScript row by row.
 */

export const NO_IDENTIFIER = "no distinct id, user id, device id or email";
export const MAX_LINE_BYTES = 32 * 1024 * 1024;
const RAW_EXCERPT_CHARS = 2000;

export type LoadedFile = Readonly<{
  index: number;
  path: string;
  format: DetectedFormat;
  table: string;
  rejectTable: string | null;
  /** lines above the first record (a CSV header) */
  headerLines: number;
  unmapped: Record<string, number>;
}>;

export type CategoryBits = ReadonlyMap<string, number>;

export function categoryBits(mapping: FieldMapping): CategoryBits {
  const all = new Set(mapping.fields.values());
  all.add(CATEGORY.deviceId);
  all.add(CATEGORY.behavior);
  return new Map([...all].sort().map((category, i) => [category, i]));
}

/** SQL over one record: the text of a field (NULL when absent or empty) and whether it is present. */
type Accessor = Readonly<{ text: (field: string) => string; present: (field: string) => string }>;

/**
 * Every field of interest is read once into a text column `f<i>` (trimmed, NULL when empty); the rest
 * of the per-record SQL refers to those columns. `valueOf` gives a field's raw SQL value, or null when
 * the source cannot have it.
 */
function fieldColumns(
  fields: readonly string[],
  valueOf: (field: string) => string | null,
  identifierFields: ReadonlySet<string>,
): { select: string; accessor: Accessor } {
  const column = new Map<string, string>();
  const parts: string[] = [];
  for (const f of fields) {
    const value = valueOf(f);
    if (value === null) continue;
    const name = `f${column.size}`;
    column.set(f, name);
    parts.push(`nullif(trim(CAST(${value} AS VARCHAR)), '') AS ${name}`);
  }
  const col = (f: string) => column.get(f) ?? "NULL::VARCHAR";
  return {
    select: parts.length ? parts.join(", ") : "NULL::VARCHAR AS f_none",
    accessor: {
      // An object or an array is no identifier.
      text: (f) =>
        identifierFields.has(f)
          ? `(CASE WHEN starts_with(${col(f)}, '{') OR starts_with(${col(f)}, '[') THEN NULL ELSE ${col(f)} END)`
          : col(f),
      present: (f) => (column.has(f) ? `coalesce(${col(f)} NOT IN ('[]', '{}'), false)` : "false"),
    },
  };
}

function objectPath(kind: RecordKind): string {
  return kind === "event" ? "/properties" : kind === "profile" ? "/$properties" : "";
}

function fieldsOfInterest(mapping: FieldMapping): string[] {
  const names = new Set(mapping.fields.keys());
  for (const list of Object.values(mapping.roles)) for (const f of list) names.add(f);
  return [...names];
}

function identifierFields(mapping: FieldMapping): Set<string> {
  const r = mapping.roles;
  return new Set([...r.distinctId, ...r.userId, ...r.deviceId, ...r.email, ...r.org]);
}

/** The json_transform structure for a record kind: every field of interest as text. */
function transformSpec(kind: RecordKind, fields: readonly string[], topLevel: ReadonlySet<string>) {
  const typed = (names: readonly string[]) => Object.fromEntries(names.map((f) => [f, "VARCHAR"]));
  if (kind === "flat") return typed(fields);
  return {
    ...typed(fields.filter((f) => topLevel.has(f))),
    [kind === "event" ? "properties" : "$properties"]: typed(fields.filter((f) => !topLevel.has(f))),
  };
}

function firstText(a: Accessor, fields: readonly string[]): string {
  if (fields.length === 0) return "NULL::VARCHAR";
  return `coalesce(${fields.map(a.text).join(", ")})`;
}

/** The per-record SELECT list shared by every format. */
function recordColumns(a: Accessor, mapping: FieldMapping, bits: CategoryBits, kind: RecordKind): string {
  const role = (r: Role) => firstText(a, mapping.roles[r]);
  const didFields = new Set(mapping.roles.distinctId);
  const byCategory = new Map<string, string[]>();
  for (const [field, category] of mapping.fields) {
    if (kind !== "event" && (field === "event" || field === "time")) continue;
    let condition = a.present(field);
    // A distinct id of the form $device:<id> is a device id, not a person's id.
    if (didFields.has(field)) condition = `(${condition} AND NOT starts_with(${a.text(field)}, '$device:'))`;
    byCategory.set(category, [...(byCategory.get(category) ?? []), condition]);
  }
  const deviceDid = `starts_with(did, '$device:')`;
  const catTerms = [...byCategory].map(([category, conditions]) => {
    const bit = 1n << BigInt(bits.get(category) ?? 0);
    return `(CASE WHEN ${conditions.join(" OR ")} THEN ${bit} ELSE 0 END)`;
  });
  const deviceBit = 1n << BigInt(bits.get(CATEGORY.deviceId) ?? 0);
  catTerms.push(`(CASE WHEN ${deviceDid} THEN ${deviceBit} ELSE 0 END)`);
  const country = mapping.roles.country.map(
    (f) => `(CASE WHEN regexp_full_match(upper(${a.text(f)}), '[A-Z]{2}') THEN upper(${a.text(f)}) END)`,
  );
  return [
    `${role("distinctId")} AS did`,
    `${role("userId")} AS uid`,
    `${role("deviceId")} AS dev0`,
    `${role("email")} AS email_raw`,
    `${role("name")} AS name`,
    `${country.length ? `coalesce(${country.join(", ")})` : "NULL::VARCHAR"} AS country`,
    `${role("org")} AS org`,
  ]
    .join(",\n  ")
    .concat(`,\n  ${catTerms.join(" | ")} AS cats0`);
}

/** Normalises emails and device ids, decides the quarantine reason, keeps an excerpt of bad records. */
function finishRecords(inner: string, invalidReason: string, rawExpr: string, shapeReason = "NULL"): string {
  return `
SELECT
  CASE WHEN is_blank THEN 'blank'
       WHEN invalid THEN ${invalidReason}
       WHEN did IS NULL AND uid IS NULL AND dev IS NULL AND email IS NULL
         THEN coalesce(${shapeReason}, '${NO_IDENTIFIER}')
  END AS reason,
  did, uid, dev, email, name, country, org,
  cats0::BIGINT AS cats,
  CASE WHEN invalid OR (did IS NULL AND uid IS NULL AND dev IS NULL AND email IS NULL AND NOT is_blank)
       THEN left(${rawExpr}, ${RAW_EXCERPT_CHARS}) END AS raw
FROM (
  SELECT *,
    coalesce(dev0, CASE WHEN starts_with(did, '$device:') THEN nullif(substr(did, 9), '') END) AS dev,
    CASE WHEN regexp_full_match(lower(email_raw), '[^@\\s]+@[^@\\s]+') THEN lower(email_raw) END AS email
  FROM (${inner})
)`;
}

async function loadJson(
  sql: Sql,
  table: string,
  source: string,
  keySource: string,
  format: DetectedFormat,
  mapping: FieldMapping,
  bits: CategoryBits,
): Promise<Record<string, unknown>> {
  const fields = fieldsOfInterest(mapping);
  const topLevel = new Set(format.kind === "event" ? ["event"] : format.kind === "profile" ? ["$distinct_id"] : []);
  const spec = JSON.stringify(transformSpec(format.kind, fields, topLevel));
  const container = objectPath(format.kind).slice(1);
  const { select, accessor } = fieldColumns(
    fields,
    (f) => `struct_extract(${topLevel.has(f) ? "v" : "p"}, ${literal(f)})`,
    identifierFields(mapping),
  );
  // json_transform parses each record once into a struct of just the fields of interest.
  const inner = `
SELECT line, is_blank, invalid, ${recordColumns(accessor, mapping, bits, format.kind)}
FROM (
  SELECT line, is_blank, (NOT is_blank AND v IS NULL) AS invalid, ${select}
  FROM (
    SELECT line, is_blank, v, ${container ? `struct_extract(v, ${literal(container)})` : "v"} AS p
    FROM (
      SELECT line, coalesce(trim(line), '') = '' AS is_blank,
        CASE WHEN coalesce(trim(line), '') <> '' THEN TRY(json_transform(line, ${literal(spec)})) END AS v
      FROM (${source})
    )
  )
)`;
  const invalid = `CASE WHEN NOT json_valid(line) THEN 'not valid JSON' ELSE 'not a JSON object' END`;
  const shape = `CASE WHEN json_type(line) <> 'OBJECT' THEN 'not a JSON object'${
    container
      ? ` WHEN coalesce(json_type(line, ${literal(`/${container}`)}), '') <> 'OBJECT' THEN '${container} is missing or not an object'`
      : ""
  } END`;
  await sql.run(`CREATE TABLE ${table} AS ${finishRecords(inner, invalid, "line", shape)}`);
  // Fields outside the mapping, counted over the records that have them.
  const known = new Set(fieldsOfInterest(mapping));
  if (format.kind === "event") known.add("time");
  const keysRows = await queryRows<{ k: string; n: bigint }>(
    sql,
    `SELECT k, count(*) AS n FROM (
       SELECT unnest(TRY(json_keys(line, ${literal(objectPath(format.kind))}))) AS k FROM (${keySource})
     ) GROUP BY k`,
  );
  const unmapped: Record<string, unknown> = {};
  for (const { k, n } of keysRows) if (!known.has(k)) unmapped[k] = Number(n);
  return unmapped;
}

function linesSource(path: string, gzip: boolean, rejectTable: string | null): string {
  const rejects = rejectTable
    ? `store_rejects = true, rejects_table = ${literal(rejectTable)}, rejects_scan = ${literal(`${rejectTable}_scan`)}`
    : "ignore_errors = true";
  return `SELECT line FROM read_csv(${literal(path)}, columns = {'line': 'VARCHAR'}, delim = '\\0', quote = '',
    escape = '', header = false, auto_detect = false, new_line = '\\n', max_line_size = ${MAX_LINE_BYTES},
    buffer_size = ${MAX_LINE_BYTES * 2}, compression = '${gzip ? "gzip" : "none"}', ${rejects})`;
}

/**
 * The delimiter is the candidate that occurs most often in the header line outside quotes. The
 * header is the one line whose shape we can trust; DuckDB's sniffer, which votes over data rows,
 * picks a wrong delimiter when many rows are malformed.
 */
async function guessDelimiter(path: string): Promise<string> {
  const { head } = await readHead(path);
  const firstLine = head.toString("utf8").split("\n", 1)[0] ?? "";
  const counts = new Map<string, number>();
  let quoted = false;
  for (const ch of firstLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === "," || ch === ";" || ch === "\t" || ch === "|"))
      counts.set(ch, (counts.get(ch) ?? 0) + 1);
  }
  let best = ",";
  let bestCount = 0;
  for (const [ch, n] of counts) {
    if (n > bestCount) [best, bestCount] = [ch, n];
  }
  return best;
}

async function readCsvHeader(path: string, delimiter: string, quote: string): Promise<string[]> {
  const { head } = await readHead(path);
  let text = head.toString("utf8");
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    const rows = parseCsv(text, {
      delimiter,
      quote: quote || false,
      to_line: 1,
      relax_column_count: true,
      relax_quotes: true,
      bom: true,
    }) as string[][];
    return rows[0] ?? [];
  } catch (error) {
    throw badInput(`${path} line 1: cannot read the CSV header (${(error as Error).message})`);
  }
}

async function loadCsv(
  sql: Sql,
  table: string,
  rejectTable: string,
  file: { path: string; gzip: boolean },
  mapping: FieldMapping,
  bits: CategoryBits,
): Promise<Record<string, unknown>> {
  const compression = `compression = '${file.gzip ? "gzip" : "none"}'`;
  const delimiter = await guessDelimiter(file.path);
  const quote = '"';
  const header = await readCsvHeader(file.path, delimiter, quote);
  if (header.length === 0) throw badInput(`${file.path} line 1: the CSV has no header row`);
  const seen = new Map<string, number>();
  header.forEach((name, i) => {
    if (name.trim() === "") throw badInput(`${file.path} line 1: column ${i + 1} has no name`);
    const before = seen.get(name);
    if (before !== undefined) {
      throw badInput(
        `${file.path} line 1: duplicate column name ${JSON.stringify(name)} (columns ${before + 1} and ${i + 1}); rename one of them`,
      );
    }
    seen.set(name, i);
  });
  const raw = `${table}_raw`;
  await sql.run(
    `CREATE TABLE ${raw} AS SELECT * FROM read_csv(${literal(file.path)}, ${compression}, header = true,
       auto_detect = false, columns = {${header.map((h) => `${literal(h)}: 'VARCHAR'`).join(", ")}},
       delim = ${literal(delimiter)}, quote = ${literal(quote)}, escape = ${literal(quote)},
       max_line_size = ${MAX_LINE_BYTES}, buffer_size = ${MAX_LINE_BYTES * 2}, strict_mode = true,
       store_rejects = true, rejects_table = ${literal(rejectTable)}, rejects_scan = ${literal(`${rejectTable}_scan`)})`,
  );
  return loadColumns(sql, table, raw, header, mapping, bits);
}

async function loadColumns(
  sql: Sql,
  table: string,
  raw: string,
  columns: readonly string[],
  mapping: FieldMapping,
  bits: CategoryBits,
): Promise<Record<string, unknown>> {
  const have = new Set(columns);
  const { select, accessor } = fieldColumns(
    fieldsOfInterest(mapping),
    (f) => (have.has(f) ? ident(f) : null),
    identifierFields(mapping),
  );
  const rawExpr = `CAST(to_json(${ident("__row")}) AS VARCHAR)`;
  const inner = `SELECT false AS is_blank, false AS invalid, ${ident("__row")}, ${recordColumns(accessor, mapping, bits, "flat")}
    FROM (SELECT ${raw} AS ${ident("__row")}, ${select} FROM ${raw})`;
  await sql.run(`CREATE TABLE ${table} AS ${finishRecords(inner, "NULL", rawExpr)}`);
  const known = new Set(fieldsOfInterest(mapping));
  const others = columns.filter((c) => !known.has(c));
  if (others.length === 0) return {};
  const counts = await queryOne<Record<string, bigint>>(
    sql,
    `SELECT ${others
      .map(
        (c, i) =>
          `count(*) FILTER (WHERE nullif(trim(CAST(${ident(c)} AS VARCHAR)), '') IS NOT NULL) AS c${i}`,
      )
      .join(", ")} FROM ${raw}`,
  );
  const unmapped: Record<string, unknown> = {};
  others.forEach((c, i) => {
    unmapped[c] = Number(counts[`c${i}`] ?? 0);
  });
  return unmapped;
}

export async function loadDataset(
  sql: Sql,
  path: string,
  index: number,
  mapping: FieldMapping,
  bits: CategoryBits,
): Promise<LoadedFile> {
  const format = await detectFormat(path);
  const table = `rec_${index}`;
  const rejectTable = `rej_${index}`;
  const compression = `compression = '${format.gzip ? "gzip" : "uncompressed"}'`;
  let unmapped: Record<string, unknown> = {};
  let usesRejects = false;
  let headerLines = 0;
  try {
    switch (format.container) {
      case "empty":
        await sql.run(`CREATE TABLE ${table} AS ${finishRecords(emptyInner(), "NULL", "NULL")}`);
        break;
      case "lines":
        usesRejects = true;
        // The first scan records rejected lines; the key count re-reads without recording them twice.
        unmapped = await loadJson(
          sql,
          table,
          linesSource(path, format.gzip, rejectTable),
          linesSource(path, format.gzip, null),
          format,
          mapping,
          bits,
        );
        break;
      case "array": {
        const source = `SELECT CAST(json AS VARCHAR) AS line FROM read_json_objects(${literal(path)}, format = 'array', ${compression}, maximum_object_size = ${MAX_LINE_BYTES * 4})`;
        unmapped = await loadJson(sql, table, source, source, format, mapping, bits);
        break;
      }
      case "page": {
        // A page is one JSON value: DuckDB needs a buffer that holds it whole, so size it to the file.
        const pageBytes = format.gzip
          ? 256 * 2 ** 20
          : Math.min(2 ** 30, Math.max(2 ** 20, (await stat(path)).size + 1024));
        const source = `SELECT CAST(unnest(json_extract(json, '$.results[*]')) AS VARCHAR) AS line FROM read_json_objects(${literal(path)}, format = 'auto', ${compression}, maximum_object_size = ${pageBytes})`;
        unmapped = await loadJson(sql, table, source, source, format, mapping, bits);
        break;
      }
      case "csv":
        usesRejects = true;
        headerLines = 1;
        unmapped = await loadCsv(sql, table, rejectTable, { path, gzip: format.gzip }, mapping, bits);
        break;
      case "parquet": {
        const raw = `${table}_raw`;
        await sql.run(`CREATE TABLE ${raw} AS SELECT * FROM read_parquet(${literal(path)})`);
        const cols = await queryRows<{ column_name: string }>(sql, `DESCRIBE ${raw}`);
        unmapped = await loadColumns(
          sql,
          table,
          raw,
          cols.map((c) => c.column_name),
          mapping,
          bits,
        );
        break;
      }
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw badInput(`${path}: cannot be read as ${format.label}: ${firstLine((error as Error).message)}`);
  }
  return Object.freeze({
    index,
    path,
    format,
    table,
    rejectTable: usesRejects ? rejectTable : null,
    headerLines,
    unmapped: unmapped as Record<string, number>,
  });
}

function emptyInner(): string {
  return `SELECT NULL::VARCHAR AS line, false AS is_blank, false AS invalid, NULL::VARCHAR AS did,
    NULL::VARCHAR AS uid, NULL::VARCHAR AS dev0, NULL::VARCHAR AS email_raw, NULL::VARCHAR AS name,
    NULL::VARCHAR AS country, NULL::VARCHAR AS org, 0 AS cats0 WHERE false`;
}

function firstLine(message: string): string {
  return message.split("\n")[0] ?? message;
}
