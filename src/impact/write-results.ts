import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { CategoryBits } from "../intake/load-dataset.ts";
import { ident, literal, type Sql } from "../lib/duckdb.ts";
import type { Summary } from "./analyze-incident.ts";

/**
 * A text cell that a spreadsheet would run as a formula (it begins with = + - @ tab or CR) gets a
 * leading apostrophe, the OWASP-recommended neutraliser that every spreadsheet shows as text.
 */
export function safeCellSql(expr: string): string {
  return `CASE WHEN regexp_matches(${expr}, '^[=+\\-@\\t\\r]') THEN '''' || ${expr} ELSE ${expr} END`;
}

/** The same neutraliser for a cell written from JavaScript (the workspace's CSV downloads). */
export function safeCell<T>(value: T): T | string {
  return typeof value === "string" && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

function categoriesSql(bits: CategoryBits): string {
  // Bits are assigned in sorted category order, so this lists them sorted.
  const parts = [...bits].map(
    ([name, bit]) => `CASE WHEN cats & ${1n << BigInt(bit)} <> 0 THEN ${literal(name)} END`,
  );
  return `concat_ws(';', ${parts.join(", ")})`;
}

async function copyCsv(sql: Sql, query: string, file: string): Promise<void> {
  await sql.run(`COPY (${query}) TO ${literal(file)} (FORMAT csv, HEADER true, QUOTE '"', ESCAPE '"')`);
}

/**
 * Per-organisation and per-person facts that both the CSV and the Parquet files need, computed once.
 * A membership may repeat with different roles, so members and admins are counted per distinct user,
 * and an admin who is also an owner is listed once, as owner.
 */
async function prepareResultTables(sql: Sql): Promise<void> {
  await sql.run(`CREATE OR REPLACE TABLE result_person_orgs AS
    SELECT m.user_id, array_to_string(list_sort(list_distinct(list(m.org_id))), ';') AS org_ids
    FROM memberships m JOIN person p ON p.user_id = m.user_id
    WHERE m.org_id IN (SELECT org_id FROM affected_orgs) GROUP BY m.user_id`);
  await sql.run(`CREATE OR REPLACE TABLE result_org_members AS
    SELECT m.org_id, count(DISTINCT m.user_id) AS n, bit_or(p.cats) AS cats
    FROM memberships m JOIN person p ON p.user_id = m.user_id
    WHERE m.org_id IN (SELECT org_id FROM affected_orgs) GROUP BY m.org_id`);
  await sql.run(`CREATE OR REPLACE TABLE result_org_admins AS
    SELECT m.org_id, m.user_id, any_value(u.email) AS email, any_value(u.name) AS name,
      any_value(u.language) AS language, any_value(u.country) AS country,
      CASE WHEN bool_or(m.role = 'owner') THEN 'owner' ELSE 'admin' END AS role
    FROM memberships m JOIN users u ON u.user_id = m.user_id
    WHERE m.role IN ('owner', 'admin') AND u.email IS NOT NULL AND m.org_id IN (SELECT org_id FROM affected_orgs)
    GROUP BY m.org_id, m.user_id`);
}

type ResultQueries = { people: string; orgs: string; admins: string };

/** people, orgs and admins, with `cell` applied to every free-text column */
function resultQueries(bits: CategoryBits, cell: (c: string) => string): ResultQueries {
  return {
    people: `SELECT ${cell("person_key")}, ${cell("user_id")}, ${cell("email")}, ${cell("name")}, country, ${cell("language")},
      ${categoriesSql(bits)} AS categories, matched_by, records, ${cell("org_ids")}
     FROM (SELECT p.*, po.org_ids FROM person p LEFT JOIN result_person_orgs po ON po.user_id = p.user_id)
     ORDER BY person_key`,
    orgs: `WITH admins AS (
       SELECT org_id, array_to_string(list_sort(list_distinct(list(email))), ';') AS emails
       FROM result_org_admins GROUP BY org_id
     )
     SELECT ${cell("org_id")}, ${cell("name")}, affected_members, ${cell("admin_emails")},
       nullif(${categoriesSql(bits)}, '') AS categories FROM (
       SELECT o.org_id, o.name, coalesce(members.n, 0) AS affected_members, admins.emails AS admin_emails,
         members.cats AS cats
       FROM orgs o JOIN affected_orgs a USING (org_id)
       LEFT JOIN result_org_members members USING (org_id) LEFT JOIN admins USING (org_id)
     ) ORDER BY org_id`,
    admins: `SELECT ${cell("org_id")}, ${cell("user_id")}, ${cell("email")}, ${cell("name")}, ${cell("language")}, country, role
     FROM result_org_admins ORDER BY org_id, email, user_id`,
  };
}

const OUTPUTS = ["people", "orgs", "admins"] as const;

export async function writeResults(
  sql: Sql,
  outDir: string,
  bits: CategoryBits,
  summary: Summary,
  options: { parquet?: boolean } = {},
): Promise<void> {
  await prepareResultTables(sql);
  const safe = resultQueries(bits, (c) => `${safeCellSql(ident(c))} AS ${ident(c)}`);
  for (const name of OUTPUTS) await copyCsv(sql, safe[name], path.join(outDir, `${name}.csv`));
  if (options.parquet) {
    // Values as they are (no spreadsheet escaping), for loading into the incident workspace.
    const raw = resultQueries(bits, ident);
    for (const name of OUTPUTS) {
      await sql.run(
        `COPY (${raw[name]}) TO ${literal(path.join(outDir, `${name}.parquet`))} (FORMAT parquet)`,
      );
    }
  }
  await sql.run(
    `COPY (SELECT file, line, "row", reason, raw FROM quarantine ORDER BY file, line, "row")
     TO ${literal(path.join(outDir, "quarantine.jsonl"))} (FORMAT json)`,
  );
  await writeFile(path.join(outDir, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
}
