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

/** people and orgs, with `cell` applied to every free-text column */
function resultQueries(bits: CategoryBits, cell: (c: string) => string): { people: string; orgs: string } {
  return {
    people: `SELECT ${cell("person_key")}, ${cell("user_id")}, ${cell("email")}, ${cell("name")}, country, ${cell("language")},
      ${categoriesSql(bits)} AS categories, matched_by, records
     FROM person ORDER BY person_key`,
    orgs: `WITH members AS (
       SELECT m.org_id, count(DISTINCT m.user_id) AS n FROM memberships m JOIN person p ON p.user_id = m.user_id
       WHERE m.org_id IN (SELECT org_id FROM affected_orgs) GROUP BY m.org_id
     ), admins AS (
       SELECT m.org_id, array_to_string(list_sort(list_distinct(list(u.email))), ';') AS emails
       FROM memberships m JOIN users u ON u.user_id = m.user_id
       WHERE m.role IN ('owner', 'admin') AND u.email IS NOT NULL AND m.org_id IN (SELECT org_id FROM affected_orgs)
       GROUP BY m.org_id
     )
     SELECT ${cell("org_id")}, ${cell("name")}, affected_members, ${cell("admin_emails")} FROM (
       SELECT o.org_id, o.name, coalesce(members.n, 0) AS affected_members, admins.emails AS admin_emails
       FROM orgs o JOIN affected_orgs a USING (org_id)
       LEFT JOIN members USING (org_id) LEFT JOIN admins USING (org_id)
     ) ORDER BY org_id`,
  };
}

export async function writeResults(
  sql: Sql,
  outDir: string,
  bits: CategoryBits,
  summary: Summary,
  options: { parquet?: boolean } = {},
): Promise<void> {
  const safe = resultQueries(bits, (c) => `${safeCellSql(ident(c))} AS ${ident(c)}`);
  await copyCsv(sql, safe.people, path.join(outDir, "people.csv"));
  await copyCsv(sql, safe.orgs, path.join(outDir, "orgs.csv"));
  if (options.parquet) {
    // Values as they are (no spreadsheet escaping), for loading into the incident workspace.
    const raw = resultQueries(bits, ident);
    await sql.run(`COPY (${raw.people}) TO ${literal(path.join(outDir, "people.parquet"))} (FORMAT parquet)`);
    await sql.run(`COPY (${raw.orgs}) TO ${literal(path.join(outDir, "orgs.parquet"))} (FORMAT parquet)`);
  }
  await sql.run(
    `COPY (SELECT file, line, "row", reason, raw FROM quarantine ORDER BY file, line, "row")
     TO ${literal(path.join(outDir, "quarantine.jsonl"))} (FORMAT json)`,
  );
  await writeFile(path.join(outDir, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
}
