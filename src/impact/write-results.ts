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

export async function writeResults(
  sql: Sql,
  outDir: string,
  bits: CategoryBits,
  summary: Summary,
): Promise<void> {
  const safe = (c: string) => `${safeCellSql(ident(c))} AS ${ident(c)}`;
  await copyCsv(
    sql,
    `SELECT ${safe("person_key")}, ${safe("user_id")}, ${safe("email")}, ${safe("name")}, country, ${safe("language")},
      ${categoriesSql(bits)} AS categories, matched_by, records
     FROM person ORDER BY person_key`,
    path.join(outDir, "people.csv"),
  );
  await copyCsv(
    sql,
    `WITH members AS (
       SELECT m.org_id, count(DISTINCT m.user_id) AS n FROM memberships m JOIN person p ON p.user_id = m.user_id
       WHERE m.org_id IN (SELECT org_id FROM affected_orgs) GROUP BY m.org_id
     ), admins AS (
       SELECT m.org_id, array_to_string(list_sort(list_distinct(list(u.email))), ';') AS emails
       FROM memberships m JOIN users u ON u.user_id = m.user_id
       WHERE m.role IN ('owner', 'admin') AND u.email IS NOT NULL AND m.org_id IN (SELECT org_id FROM affected_orgs)
       GROUP BY m.org_id
     )
     SELECT ${safe("org_id")}, ${safe("name")}, affected_members, ${safe("admin_emails")} FROM (
       SELECT o.org_id, o.name, coalesce(members.n, 0) AS affected_members, admins.emails AS admin_emails
       FROM orgs o JOIN affected_orgs a USING (org_id)
       LEFT JOIN members USING (org_id) LEFT JOIN admins USING (org_id)
     ) ORDER BY org_id`,
    path.join(outDir, "orgs.csv"),
  );
  await sql.run(
    `COPY (SELECT file, line, "row", reason, raw FROM quarantine ORDER BY file, line, "row")
     TO ${literal(path.join(outDir, "quarantine.jsonl"))} (FORMAT json)`,
  );
  await writeFile(path.join(outDir, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
}
