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

/** The SELECT that reads a file with every column as it comes, and the columns it has. */
async function readSelect(
  sql: Sql,
  file: string,
  table: TableName,
): Promise<{ select: string; columns: string[]; lineOffset: number }> {
  const format = await detectFormat(file);
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
    const columns = (await queryRows<{ column_name: string }>(sql, `DESCRIBE ${select}`)).map(
      (c) => c.column_name,
    );
    return { select, columns, lineOffset };
  } catch (error) {
    throw badInput(`${file}: cannot be read as ${format.label}: ${(error as Error).message.split("\n")[0]}`);
  }
}

const KEY: Record<TableName, string> = { users: "user_id", orgs: "org_id", memberships: "org_id" };

async function loadTable(
  sql: Sql,
  dir: string,
  table: TableName,
  rejected: IdentityIssue[],
): Promise<string> {
  const file = await findFile(dir, table);
  const { select, columns, lineOffset } = await readSelect(sql, file, table);
  const spec = SPECS[table];
  const missing = spec.required.filter((c) => !columns.includes(c));
  if (missing.length > 0) {
    throw badInput(
      `${file}${lineOffset ? " line 1" : ""}: missing required column${missing.length > 1 ? "s" : ""} ${missing.join(", ")} (found: ${columns.join(", ") || "none"})`,
    );
  }
  const text = (c: string) =>
    columns.includes(c) ? `nullif(trim(CAST(${ident(c)} AS VARCHAR)), '')` : "NULL::VARCHAR";
  const country = `CASE WHEN regexp_full_match(upper(${text("country")}), '[A-Z]{2}') THEN upper(${text("country")}) END`;
  const body =
    table === "users"
      ? `${text("user_id")} AS user_id, ${text("email")} AS email, lower(${text("email")}) AS email_norm,
         ${text("name")} AS name, ${country} AS country, ${text("language")} AS language`
      : table === "orgs"
        ? `${text("org_id")} AS org_id, ${text("name")} AS name, ${country} AS country`
        : `${text("org_id")} AS org_id, ${text("user_id")} AS user_id, lower(${text("role")}) AS role`;
  const all = `${table}_all`;
  try {
    await sql.run(`CREATE TABLE ${all} AS SELECT ${body} FROM (${select})`);
  } catch (error) {
    throw badInput(`${file}: cannot be read: ${(error as Error).message.split("\n")[0]}`);
  }
  // Row position in the file, for messages: CSV data rows start on line 2.
  const at = `(rowid + 1 + ${lineOffset})`;
  const key = KEY[table];
  const problem =
    table === "memberships"
      ? `CASE WHEN org_id IS NULL THEN 'no org_id' WHEN user_id IS NULL THEN 'no user_id'
          WHEN role IS NULL OR role NOT IN (${ROLES.map(literal).join(", ")})
            THEN 'role ' || coalesce(role, '(empty)') || ' is not one of ${ROLES.join(", ")}' END`
      : `CASE WHEN ${key} IS NULL THEN 'no ${key}' END`;
  // Most stores are clean: check that with one aggregate before doing any per-row work.
  const stats = await queryOne<{ bad: bigint; dups: bigint }>(
    sql,
    `SELECT count(*) FILTER (WHERE (${problem}) IS NOT NULL) AS bad,
      ${table === "memberships" ? "0" : `count(${key}) - count(DISTINCT ${key})`} AS dups FROM ${all}`,
  );
  if (Number(stats.bad) === 0 && Number(stats.dups) === 0) {
    await sql.run(`ALTER TABLE ${all} RENAME TO ${table}`);
  } else {
    const repeat =
      table === "memberships"
        ? "NULL"
        : `CASE WHEN row_number() OVER (PARTITION BY ${key} ORDER BY rowid) > 1 THEN '${key} ' || ${key} || ' repeats an earlier row' END`;
    await sql.run(`CREATE TABLE ${table}_checked AS
      SELECT *, ${at} AS line, coalesce(${problem}, ${repeat}) AS problem FROM ${all}`);
    await sql.run(
      `CREATE TABLE ${table} AS SELECT * EXCLUDE (problem, line) FROM ${table}_checked WHERE problem IS NULL`,
    );
    const bad = await queryRows<{ line: bigint; problem: string }>(
      sql,
      `SELECT line, problem FROM ${table}_checked WHERE problem IS NOT NULL ORDER BY line LIMIT 1000`,
    );
    for (const b of bad) rejected.push({ file, line: Number(b.line), reason: b.problem });
    await sql.run(`DROP TABLE ${table}_checked; DROP TABLE ${all}`);
  }
  if (lineOffset) {
    const rej = await queryRows<{ line: bigint; error_type: string }>(
      sql,
      `SELECT line, min(error_type) AS error_type FROM ${table}_rej GROUP BY line ORDER BY line LIMIT 1000`,
    ).catch(() => []);
    for (const r of rej) {
      rejected.push({
        file,
        line: Number(r.line),
        reason: `unreadable CSV row (${r.error_type.toLowerCase()})`,
      });
    }
  }
  return file;
}

export async function loadIdentities(sql: Sql, dir: string): Promise<IdentityStore> {
  const rejected: IdentityIssue[] = [];
  const users = await loadTable(sql, dir, "users", rejected);
  const orgs = await loadTable(sql, dir, "orgs", rejected);
  const memberships = await loadTable(sql, dir, "memberships", rejected);
  // A (org, user) pair may repeat with different roles; every query over memberships counts distinct
  // users, so a repeat neither double-counts a member nor hides an admin role.
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
