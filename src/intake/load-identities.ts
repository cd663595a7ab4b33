import { access } from "node:fs/promises";
import path from "node:path";
import { ident, literal, queryOne, queryRows, type Sql } from "../lib/duckdb.ts";
import { badInput } from "../lib/errors.ts";
import { detectFormat } from "./detect-format.ts";

/**
 * Loads the company's identity store into DuckDB tables `users`, `orgs` and `memberships`.
 * Rows that cannot be used (no id, a repeated id, an unknown role) are left out and reported with
 * file and line, so the caller can say exactly what was not taken in.
 */

export const ROLES = ["owner", "admin", "member", "reader"] as const;

export type IdentityIssue = Readonly<{ file: string; line: number | null; reason: string }>;

export type IdentityStore = Readonly<{
  files: Readonly<Record<"users" | "orgs" | "memberships", string>>;
  counts: Readonly<{ users: number; orgs: number; memberships: number }>;
  rejected: readonly IdentityIssue[];
}>;

const SPECS = {
  users: { required: ["user_id", "email"], optional: ["name", "country", "language"] },
  orgs: { required: ["org_id", "name"], optional: ["country"] },
  memberships: { required: ["org_id", "user_id", "role"], optional: [] as string[] },
} as const;

type TableName = keyof typeof SPECS;

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

async function findFile(dir: string, name: TableName): Promise<string> {
  const candidates = ["csv", "parquet", "jsonl"].flatMap((ext) => [`${name}.${ext}`, `${name}.${ext}.gz`]);
  for (const candidate of candidates) {
    const file = path.join(dir, candidate);
    if (await exists(file)) return file;
  }
  throw badInput(`--identities ${dir}: no ${name} file (expected one of ${candidates.join(", ")})`);
}

/** Reads a file into `<table>_src` with every column as text, plus each row's line (CSV) or row number. */
async function readRaw(
  sql: Sql,
  file: string,
  table: TableName,
): Promise<{ columns: string[]; lineOffset: number }> {
  const format = await detectFormat(file);
  const src = `${table}_src`;
  const compression = (none: string) => `compression = '${format.gzip ? "gzip" : none}'`;
  let select: string;
  let lineOffset = 0;
  if (format.container === "empty") throw badInput(`${file}: the file is empty; it needs at least a header`);
  if (format.container === "parquet") select = `SELECT * FROM read_parquet(${literal(file)})`;
  else if (format.container === "lines" || format.container === "array") {
    select = `SELECT * FROM read_json(${literal(file)}, ${compression("uncompressed")}, format = '${format.container === "lines" ? "newline_delimited" : "array"}', sample_size = -1)`;
  } else {
    lineOffset = 1;
    select = `SELECT * FROM read_csv(${literal(file)}, ${compression("none")}, header = true, all_varchar = true,
      store_rejects = true, rejects_table = ${literal(`${table}_rej`)}, rejects_scan = ${literal(`${table}_rej_scan`)})`;
  }
  try {
    await sql.run(`CREATE TABLE ${src} AS ${select}`);
  } catch (error) {
    throw badInput(`${file}: cannot be read as ${format.label}: ${(error as Error).message.split("\n")[0]}`);
  }
  const columns = (await queryRows<{ column_name: string }>(sql, `DESCRIBE ${src}`)).map(
    (c) => c.column_name,
  );
  return { columns, lineOffset };
}

async function loadTable(
  sql: Sql,
  dir: string,
  table: TableName,
  rejected: IdentityIssue[],
): Promise<string> {
  const file = await findFile(dir, table);
  const { columns, lineOffset } = await readRaw(sql, file, table);
  const spec = SPECS[table];
  const missing = spec.required.filter((c) => !columns.includes(c));
  if (missing.length > 0) {
    throw badInput(
      `${file}${lineOffset ? " line 1" : ""}: missing required column${missing.length > 1 ? "s" : ""} ${missing.join(", ")} (found: ${columns.join(", ") || "none"})`,
    );
  }
  const text = (c: string) =>
    columns.includes(c) ? `nullif(trim(CAST(${ident(c)} AS VARCHAR)), '')` : "NULL::VARCHAR";
  const src = `${table}_src`;
  // Row position in the file, for messages: CSV data rows start on line 2.
  const at = `(rowid + 1 + ${lineOffset})`;
  let body: string;
  let problems: string;
  if (table === "users") {
    body = `SELECT ${text("user_id")} AS user_id, ${text("email")} AS email, lower(${text("email")}) AS email_norm,
      ${text("name")} AS name,
      CASE WHEN regexp_full_match(upper(${text("country")}), '[A-Z]{2}') THEN upper(${text("country")}) END AS country,
      ${text("language")} AS language, ${at} AS line FROM ${src}`;
    problems = `CASE WHEN user_id IS NULL THEN 'no user_id'
      WHEN row_number() OVER (PARTITION BY user_id ORDER BY line) > 1 THEN 'user_id ' || user_id || ' repeats an earlier row' END`;
  } else if (table === "orgs") {
    body = `SELECT ${text("org_id")} AS org_id, ${text("name")} AS name,
      CASE WHEN regexp_full_match(upper(${text("country")}), '[A-Z]{2}') THEN upper(${text("country")}) END AS country,
      ${at} AS line FROM ${src}`;
    problems = `CASE WHEN org_id IS NULL THEN 'no org_id'
      WHEN row_number() OVER (PARTITION BY org_id ORDER BY line) > 1 THEN 'org_id ' || org_id || ' repeats an earlier row' END`;
  } else {
    body = `SELECT ${text("org_id")} AS org_id, ${text("user_id")} AS user_id, lower(${text("role")}) AS role,
      ${at} AS line FROM ${src}`;
    problems = `CASE WHEN org_id IS NULL THEN 'no org_id' WHEN user_id IS NULL THEN 'no user_id'
      WHEN role IS NULL OR role NOT IN (${ROLES.map(literal).join(", ")})
        THEN 'role ' || coalesce(role, '(empty)') || ' is not one of ${ROLES.join(", ")}' END`;
  }
  await sql.run(`CREATE TABLE ${table}_checked AS SELECT *, ${problems} AS problem FROM (${body})`);
  await sql.run(
    `CREATE TABLE ${table} AS SELECT * EXCLUDE (problem, line) FROM ${table}_checked WHERE problem IS NULL`,
  );
  const bad = await queryRows<{ line: bigint; problem: string }>(
    sql,
    `SELECT line, problem FROM ${table}_checked WHERE problem IS NOT NULL ORDER BY line LIMIT 1000`,
  );
  for (const b of bad) rejected.push({ file, line: Number(b.line), reason: b.problem });
  if (lineOffset) {
    const rej = await queryRows<{ line: bigint; error_type: string }>(
      sql,
      `SELECT line, min(error_type) AS error_type FROM ${table}_rej GROUP BY line ORDER BY line LIMIT 1000`,
    ).catch(() => []);
    for (const r of rej)
      rejected.push({
        file,
        line: Number(r.line),
        reason: `unreadable CSV row (${r.error_type.toLowerCase()})`,
      });
  }
  await sql.run(`DROP TABLE ${table}_checked; DROP TABLE ${src}`);
  return file;
}

export async function loadIdentities(sql: Sql, dir: string): Promise<IdentityStore> {
  const rejected: IdentityIssue[] = [];
  const users = await loadTable(sql, dir, "users", rejected);
  const orgs = await loadTable(sql, dir, "orgs", rejected);
  const memberships = await loadTable(sql, dir, "memberships", rejected);
  // One membership per (org, user): the strongest role wins when a pair repeats.
  await sql.run(`CREATE OR REPLACE TABLE memberships AS
    SELECT org_id, user_id, arg_min(role, list_position(${`[${ROLES.map(literal).join(", ")}]`}, role)) AS role
    FROM memberships GROUP BY org_id, user_id`);
  // An email shared by several users resolves to none of them rather than to a guess.
  await sql.run(`CREATE TABLE user_emails AS
    SELECT email_norm AS email, min(user_id) AS user_id FROM users WHERE email_norm IS NOT NULL
    GROUP BY email_norm HAVING count(*) = 1`);
  const counts = await queryOne<{ u: bigint; o: bigint; m: bigint }>(
    sql,
    "SELECT (SELECT count(*) FROM users) AS u, (SELECT count(*) FROM orgs) AS o, (SELECT count(*) FROM memberships) AS m",
  );
  return Object.freeze({
    files: { users, orgs, memberships },
    counts: { users: Number(counts.u), orgs: Number(counts.o), memberships: Number(counts.m) },
    rejected,
  });
}
