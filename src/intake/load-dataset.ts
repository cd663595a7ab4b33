import { stat } from "node:fs/promises";
import { parse as parseCsv } from "csv-parse/sync";
import { ident, literal, queryOne, queryRows, type Sql } from "../lib/duckdb.ts";
import { AppError, badInput } from "../lib/errors.ts";
import { type DetectedFormat, detectFormat, type RecordKind, readHead } from "./detect-format.ts";
import { CATEGORY, type FieldMapping, type Role } from "./mapping.ts";

/**
 * Loads one dataset file into a DuckDB table of normalised records, one row per input record:
 *   rec_<n>(reason, did, uid, dev, email, name, country, region, org, cats, raw)
 * in file order, so `rowid` is the record's position; `reason` is NULL for a usable record and says why
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
  /** lines the reader rejected, with DuckDB's reason: rej_<n>(line, error_type, csv_line) */
  rejectTable: string | null;
  /** physical lines that hold no record (rejected or blank), for turning positions into lines */
  gapTable: string | null;
  /** lines above the first record (a CSV header) */
  headerLines: number;
  /** how the file was read: the JSON-lines fast path, or line by line */
  readBy: "fast" | "lines" | "table";
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
 * of the per-record SQL refers to those columns. `sourceValue` gives a field's raw SQL value, or null when
 * the source cannot have it.
 */
function fieldColumns(
  fields: readonly string[],
  sourceValue: (field: string) => string | null,
  identifierFields: ReadonlySet<string>,
): { select: string; accessor: Accessor } {
  const column = new Map<string, string>();
  const parts: string[] = [];
  for (const f of fields) {
    const value = sourceValue(f);
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

export function objectPath(kind: RecordKind): string {
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
    `${role("region")} AS region`,
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
  did, uid, dev, email, name, country, region, org,
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
  const topLevel = new Set(
    format.kind === "event" ? ["event"] : format.kind === "profile" ? ["$distinct_id"] : [],
  );
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

/**
 * The fast path for JSON lines. DuckDB's own JSON reader, typed to just the mapped fields that occur
 * in the file, is several times faster than parsing text lines. It cannot say why a line failed, so it
 * is taken only when a first pass over the file (which also counts the fields) finds every line a JSON
 * object with a non-empty record object; otherwise the caller reads the file line by line. Returns
 * null when the file needs that.
 */
async function loadJsonLinesFast(
  sql: Sql,
  table: string,
  path: string,
  format: DetectedFormat,
  mapping: FieldMapping,
  bits: CategoryBits,
): Promise<{ unmapped: Record<string, number>; gapTable: string | null } | null> {
  const compression = `compression = '${format.gzip ? "gzip" : "uncompressed"}'`;
  const container = objectPath(format.kind);
  const keySets = await queryRows<{ ks: string[] | null; bad: boolean; n: bigint }>(
    sql,
    `SELECT ks, bad, count(*) AS n FROM (
       SELECT TRY(json_keys(json${container ? `, ${literal(container)}` : ""})) AS ks,
         json IS NULL OR strlen(CAST(json AS VARCHAR)) > ${MAX_LINE_BYTES} AS bad
       FROM read_ndjson_objects(${literal(path)}, ${compression}, ignore_errors = true,
         maximum_object_size = ${MAX_LINE_BYTES})
     ) GROUP BY ks, bad`,
  );
  if (keySets.some((k) => k.bad || k.ks === null || k.ks.length === 0)) return null;
  const seen = new Map<string, number>();
  for (const { ks, n } of keySets) for (const k of ks ?? []) seen.set(k, (seen.get(k) ?? 0) + Number(n));
  const known = new Set(fieldsOfInterest(mapping));
  const unmapped = Object.fromEntries([...seen].filter(([k]) => !known.has(k)));

  const topLevel = format.kind === "event" ? ["event"] : format.kind === "profile" ? ["$distinct_id"] : [];
  const nested = [...known].filter((f) => seen.has(f) && !topLevel.includes(f));
  if (nested.length === 0) return null;
  const struct = (names: readonly string[]) =>
    `STRUCT(${names.map((f) => `${ident(f)} VARCHAR`).join(", ")})`;
  const columns =
    format.kind === "flat"
      ? nested.map((f) => `${literal(f)}: 'VARCHAR'`)
      : [
          ...topLevel.map((f) => `${literal(f)}: 'VARCHAR'`),
          `${literal(container.slice(1))}: ${literal(struct(nested))}`,
        ];
  const { select, accessor } = fieldColumns(
    [...topLevel, ...nested],
    (f) =>
      format.kind === "flat" || topLevel.includes(f)
        ? `struct_extract(v, ${literal(f)})`
        : `struct_extract(struct_extract(v, ${literal(container.slice(1))}), ${literal(f)})`,
    identifierFields(mapping),
  );
  const inner = `
SELECT NULL::VARCHAR AS line, false AS is_blank, false AS invalid, v, ${recordColumns(accessor, mapping, bits, format.kind)}
FROM (
  SELECT v, ${select} FROM (
    SELECT r AS v FROM read_json(${literal(path)}, format = 'newline_delimited', ${compression},
      columns = {${columns.join(", ")}}, maximum_object_size = ${MAX_LINE_BYTES}) r
  )
)`;
  await sql.run(`CREATE TABLE ${table} AS ${finishRecords(inner, "NULL", "CAST(to_json(v) AS VARCHAR)")}`);

  // Positions count records; blank lines are not records, so quarantined records need them to get
  // their line numbers. Only then is the file read once more, as plain lines.
  const quarantined = await queryOne<{ n: bigint }>(
    sql,
    `SELECT count(*) AS n FROM ${table} WHERE reason IS NOT NULL`,
  );
  if (Number(quarantined.n) === 0) return { unmapped, gapTable: null };
  // Counting lines is cheap; as many lines as records means there are no blank lines to account for.
  const counts = await queryOne<{ lines: bigint; records: bigint }>(
    sql,
    `SELECT (SELECT count(*) FROM (${linesSource(path, format.gzip, null)})) AS lines,
      (SELECT count(*) FROM ${table}) AS records`,
  );
  if (counts.lines === counts.records) return { unmapped, gapTable: null };
  const lines = `${table}_lines`;
  const rejects = `${table}_lines_rej`;
  await sql.run(`CREATE TABLE ${lines} AS
    SELECT line IS NULL OR (strlen(line) < 64 AND trim(line) = '') AS blank
    FROM (${linesSource(path, format.gzip, rejects)})`);
  const check = await queryOne<{ records: bigint; rejected: bigint; read: bigint }>(
    sql,
    `SELECT (SELECT count(*) FROM ${lines} WHERE NOT blank) AS records,
      (SELECT count(*) FROM ${rejects}) AS rejected, (SELECT count(*) FROM ${table}) AS read`,
  );
  // Both readers must agree line for line; if not, the caller falls back to reading lines.
  if (Number(check.rejected) > 0 || check.records !== check.read) {
    await sql.run(`DROP TABLE ${table}; DROP TABLE ${lines}`);
    return null;
  }
  const gapTable = `${table}_gaps`;
  await sql.run(`CREATE TABLE ${gapTable} AS SELECT rowid + 1 AS line FROM ${lines} WHERE blank`);
  return { unmapped, gapTable };
}

export function linesSource(path: string, gzip: boolean, rejectTable: string | null): string {
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
export async function guessDelimiter(path: string): Promise<string> {
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

export async function readCsvHeader(path: string, delimiter: string, quote: string): Promise<string[]> {
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
  let gapTable: string | null = null;
  let taken: LoadedFile["readBy"] = "table";
  let headerLines = 0;
  try {
    switch (format.container) {
      case "empty":
        await sql.run(`CREATE TABLE ${table} AS ${finishRecords(emptyInner(), "NULL", "NULL")}`);
        break;
      case "lines": {
        const fast = await loadJsonLinesFast(sql, table, path, format, mapping, bits);
        if (fast) {
          unmapped = fast.unmapped;
          gapTable = fast.gapTable;
          taken = "fast";
          break;
        }
        usesRejects = true;
        gapTable = `${rejectTable}_gaps`;
        taken = "lines";
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
        await sql.run(`CREATE TABLE ${gapTable} AS SELECT DISTINCT line FROM ${rejectTable}`);
        break;
      }
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
        gapTable = `${rejectTable}_gaps`;
        await sql.run(`CREATE TABLE ${gapTable} AS SELECT DISTINCT line FROM ${rejectTable}`);
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
    gapTable,
    headerLines,
    readBy: taken,
    unmapped: unmapped as Record<string, number>,
  });
}

function emptyInner(): string {
  return `SELECT NULL::VARCHAR AS line, false AS is_blank, false AS invalid, NULL::VARCHAR AS did,
    NULL::VARCHAR AS uid, NULL::VARCHAR AS dev0, NULL::VARCHAR AS email_raw, NULL::VARCHAR AS name,
    NULL::VARCHAR AS country, NULL::VARCHAR AS region, NULL::VARCHAR AS org, 0 AS cats0 WHERE false`;
}

function firstLine(message: string): string {
  return message.split("\n")[0] ?? message;
}
