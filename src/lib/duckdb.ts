import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import type { Config } from "../config/env.ts";

export type Sql = DuckDBConnection;

/** An in-process DuckDB sized by the validated configuration; it spills to tempDir past memoryLimit. */
export async function openDuckDb(config: Pick<Config, "memoryLimit" | "threads" | "tempDir">): Promise<{
  sql: Sql;
  close: () => void;
}> {
  const instance = await DuckDBInstance.create(":memory:", {
    memory_limit: config.memoryLimit,
    threads: String(config.threads),
    temp_directory: config.tempDir,
    // Nothing we run reaches out: no extension downloads, no remote files.
    autoinstall_known_extensions: "false",
    autoload_known_extensions: "false",
  });
  const sql = await instance.connect();
  return {
    sql,
    close: () => {
      sql.closeSync();
      instance.closeSync();
    },
  };
}

/** A SQL string literal. Every path and value that comes from outside goes through here or a parameter. */
export function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A quoted SQL identifier: column names from files may hold quotes, spaces or SQL. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function listLiteral(values: readonly string[]): string {
  return values.length === 0 ? "[]::VARCHAR[]" : `[${values.map(literal).join(", ")}]`;
}

export async function queryRows<T = Record<string, unknown>>(sql: Sql, text: string): Promise<T[]> {
  const reader = await sql.runAndReadAll(text);
  return reader.getRowObjectsJS() as T[];
}

export async function queryOne<T = Record<string, unknown>>(sql: Sql, text: string): Promise<T> {
  const rows = await queryRows<T>(sql, text);
  const first = rows[0];
  if (first === undefined) throw new Error("query returned no row");
  return first;
}

/** Rows of a large result in batches, fetched chunk by chunk rather than all at once. */
export async function* streamRows<T = Record<string, unknown>>(
  sql: Sql,
  text: string,
  batch = 2000,
): AsyncGenerator<T[]> {
  const result = await sql.stream(text);
  let rows: T[] = [];
  for await (const chunk of result.yieldRowObjects()) {
    rows.push(...(chunk as T[]));
    if (rows.length >= batch) {
      yield rows;
      rows = [];
    }
  }
  if (rows.length > 0) yield rows;
}
