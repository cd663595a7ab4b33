import { stat } from "node:fs/promises";
import { ident, literal, queryRows, type Sql } from "../lib/duckdb.ts";
import { AppError, badInput } from "../lib/errors.ts";
import type { DetectedFormat } from "./detect-format.ts";
import { guessDelimiter, linesSource, MAX_LINE_BYTES, readCsvHeader } from "./load-dataset.ts";

/** A line longer than this is left out of a sample rather than parsed in JavaScript. */
const MAX_SAMPLE_LINE_BYTES = 4 * 2 ** 20;

/**
 * The first `limit` records of a dataset file as JavaScript objects, read by DuckDB the way
 * load-dataset reads the whole file (the same readers, delimiter and header), for showing which fields
 * a file has. Lines that are blank, not a JSON object, or unreadable are skipped and not counted.
 */
export async function sampleRecords(
  sql: Sql,
  path: string,
  format: DetectedFormat,
  limit = 1000,
): Promise<Record<string, unknown>[]> {
  const compression = `compression = '${format.gzip ? "gzip" : "uncompressed"}'`;
  let query: string;
  switch (format.container) {
    case "empty":
      return [];
    case "lines":
      query = `SELECT line FROM (${linesSource(path, format.gzip, null)})
        WHERE line IS NOT NULL AND strlen(line) <= ${MAX_SAMPLE_LINE_BYTES}
          AND coalesce(TRY(json_type(line)) = 'OBJECT', false) LIMIT ${limit}`;
      break;
    case "array":
      query = `SELECT CAST(json AS VARCHAR) AS line FROM read_json_objects(${literal(path)}, format = 'array',
        ${compression}, maximum_object_size = ${MAX_LINE_BYTES * 4}) LIMIT ${limit}`;
      break;
    case "page": {
      const pageBytes = format.gzip
        ? 256 * 2 ** 20
        : Math.min(2 ** 30, Math.max(2 ** 20, (await stat(path)).size + 1024));
      query = `SELECT CAST(unnest(json_extract(json, '$.results[*]')) AS VARCHAR) AS line
        FROM read_json_objects(${literal(path)}, format = 'auto', ${compression}, maximum_object_size = ${pageBytes})
        LIMIT ${limit}`;
      break;
    }
    case "csv": {
      const delimiter = await guessDelimiter(path);
      const header = await readCsvHeader(path, delimiter, '"');
      if (header.length === 0 || new Set(header).size !== header.length || header.some((h) => !h.trim()))
        throw badInput(
          `${path} line 1: the CSV header is empty, or has a column without a name or twice the same name`,
        );
      query = `SELECT CAST(to_json(${ident("__row")}) AS VARCHAR) AS line FROM (
        SELECT r AS ${ident("__row")} FROM read_csv(${literal(path)}, compression = '${format.gzip ? "gzip" : "none"}',
          header = true, auto_detect = false, columns = {${header.map((h) => `${literal(h)}: 'VARCHAR'`).join(", ")}},
          delim = ${literal(delimiter)}, quote = '"', escape = '"', max_line_size = ${MAX_LINE_BYTES},
          buffer_size = ${MAX_LINE_BYTES * 2}, ignore_errors = true) r
        LIMIT ${limit})`;
      break;
    }
    case "parquet":
      query = `SELECT CAST(to_json(${ident("__row")}) AS VARCHAR) AS line FROM (
        SELECT r AS ${ident("__row")} FROM read_parquet(${literal(path)}) r LIMIT ${limit})`;
      break;
  }
  let rows: { line: string | null }[];
  try {
    rows = await queryRows<{ line: string | null }>(sql, query);
  } catch (error) {
    if (error instanceof AppError) throw error;
    const message = ((error as Error).message.split("\n")[0] ?? "").slice(0, 300);
    throw badInput(`${path}: cannot be read as ${format.label}: ${message}`);
  }
  const records: Record<string, unknown>[] = [];
  for (const { line } of rows) {
    if (line === null) continue;
    try {
      const value: unknown = JSON.parse(line);
      if (value && typeof value === "object" && !Array.isArray(value))
        records.push(value as Record<string, unknown>);
    } catch {
      // A line that is not JSON is not a record; the analysis quarantines it.
    }
  }
  return records;
}
