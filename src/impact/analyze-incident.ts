import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Config } from "../config/env.ts";
import {
  type CategoryBits,
  categoryBits,
  type LoadedFile,
  loadDataset,
  MAX_LINE_BYTES,
} from "../intake/load-dataset.ts";
import { type IdentityStore, loadIdentities } from "../intake/load-identities.ts";
import { defaultMapping, type FieldMapping } from "../intake/mapping.ts";
import { openDuckDb, queryOne, queryRows, type Sql } from "../lib/duckdb.ts";
import { usageError } from "../lib/errors.ts";
import { resolveSubjects } from "./resolve-subjects.ts";
import { writeResults } from "./write-results.ts";

export type AnalyzeInput = Readonly<{
  datasets: readonly string[];
  identitiesDir: string;
  outDir: string;
  mapping?: FieldMapping;
  /** also write people.parquet and orgs.parquet with unescaped values (for the workspace) */
  parquet?: boolean;
}>;

export type FileSummary = Readonly<{
  file: string;
  format: string;
  /** "fast" (DuckDB's JSON reader), "lines" (line by line, when some lines are broken) or "table" */
  reader: string;
  read: number;
  used: number;
  quarantined: number;
}>;

export type Summary = {
  rows: { read: number; used: number; quarantined: number };
  subjects: { matched: number; unmatched_with_email: number; anonymous: number };
  affected_people: number;
  affected_orgs: number;
  admins_to_notify: number;
  conflicts: number;
  by_category: Record<string, number>;
  by_country: Record<string, number>;
  /** country → category → affected people, so each law sees what was exposed of its own residents */
  by_country_category: Record<string, Record<string, number>>;
  /** country → state or province (from the dataset, e.g. Mixpanel's $region) or "unknown" → affected people */
  by_region: Record<string, Record<string, number>>;
  unmapped_fields: Record<string, number>;
  files: FileSummary[];
  identities: {
    users: number;
    orgs: number;
    memberships: number;
    rejected: number;
    rejected_rows: { file: string; line: number | null; reason: string }[];
  };
};

/** Reports long work as it goes: a stage name and how many of its steps are done. */
export type Progress = (stage: string, done: number, total: number) => void;

export async function analyzeIncident(
  config: Config,
  input: AnalyzeInput,
  progress: Progress = () => {},
): Promise<Summary> {
  if (input.datasets.length === 0) throw usageError("analyze: give at least one --dataset FILE");
  const mapping = input.mapping ?? defaultMapping;
  const bits = categoryBits(mapping);
  await mkdir(input.outDir, { recursive: true });
  const db = await openDuckDb(config);
  try {
    const { sql } = db;
    const total = input.datasets.length + 4;
    let step = 0;
    progress("reading identity store", step, total);
    const identities = await loadIdentities(sql, input.identitiesDir);
    const files: LoadedFile[] = [];
    for (const [i, file] of input.datasets.entries()) {
      progress(`reading ${path.basename(file)}`, ++step, total);
      files.push(await loadDataset(sql, file, i, mapping, bits));
    }
    progress("collecting records", ++step, total);
    await sql.run(
      `CREATE VIEW used AS ${files.map((f) => `SELECT did, uid, dev, email, name, country, region, org, cats FROM ${f.table} WHERE reason IS NULL`).join(" UNION ALL ")}`,
    );
    const fileSummaries = await quarantineTable(sql, files);
    progress("matching subjects", ++step, total);
    // Record order mattered only for line numbers, which are settled now; without it DuckDB can
    // aggregate and join with less memory and less work. Outputs carry their own ORDER BY.
    await sql.run("SET preserve_insertion_order = false");
    const subjects = await resolveSubjects(sql);
    progress("writing results", ++step, total);
    const summary = await summarize(sql, bits, files, fileSummaries, subjects, identities);
    await writeResults(sql, input.outDir, bits, summary, { parquet: input.parquet });
    progress("done", ++step, total);
    return summary;
  } finally {
    db.close();
  }
}

/**
 * Everything that is not used goes into one quarantine table with file, line (or row) and reason.
 * Line numbers are recovered from record positions: a record's position counts only the lines the
 * reader accepted, so each rejected line before it shifts it by one.
 */
async function quarantineTable(sql: Sql, files: readonly LoadedFile[]): Promise<FileSummary[]> {
  await sql.run(
    `CREATE TABLE quarantine (file VARCHAR, line BIGINT, "row" BIGINT, reason VARCHAR, raw VARCHAR)`,
  );
  const summaries: FileSummary[] = [];
  for (const f of files) {
    const lineBased = f.format.container === "lines" || f.format.container === "csv";
    const fileLit = `'${f.path.replaceAll("'", "''")}'`;
    if (f.rejectTable) {
      await sql.run(`CREATE TABLE ${f.rejectTable}_lines AS
        SELECT line, row_number() OVER (ORDER BY line) AS i, error_type, csv_line FROM (
          SELECT line, min(error_type) AS error_type, min(csv_line) AS csv_line FROM ${f.rejectTable} GROUP BY line)`);
      await sql.run(`INSERT INTO quarantine
        SELECT ${fileLit}, line, NULL, CASE error_type
            WHEN 'INVALID ENCODING' THEN 'not valid UTF-8'
            WHEN 'LINE SIZE OVER MAXIMUM' THEN 'line longer than the ${MAX_LINE_BYTES / 2 ** 20} MiB limit'
            WHEN 'TOO MANY COLUMNS' THEN ${f.format.container === "lines" ? "'line holds a NUL byte'" : "'more fields than the header'"}
            WHEN 'MISSING COLUMNS' THEN 'fewer fields than the header'
            WHEN 'UNQUOTED VALUE' THEN 'a quote inside an unquoted field'
            ELSE 'unreadable ' || lower(error_type) END,
          left(csv_line, 2000)
        FROM ${f.rejectTable}_lines`);
    }
    if (f.gapTable) {
      await sql.run(`CREATE TABLE ${f.gapTable}_ranked AS
        SELECT line, row_number() OVER (ORDER BY line) AS i FROM ${f.gapTable}`);
    }
    // A record's position counts only records: each gap line (rejected or blank) before it shifts it.
    const shift = f.gapTable
      ? `(SELECT count(*) FROM ${f.gapTable}_ranked r WHERE r.line - ${f.headerLines} - r.i < q.ord)`
      : "0";
    await sql.run(`INSERT INTO quarantine
      SELECT ${fileLit},
        ${lineBased ? `q.ord + ${f.headerLines} + ${shift}` : "NULL"},
        ${lineBased ? "NULL" : "q.ord"},
        q.reason, q.raw
      FROM (SELECT rowid + 1 AS ord, reason, raw FROM ${f.table} WHERE reason IS NOT NULL AND reason <> 'blank') q`);
    const c = await queryOne<{ used: bigint; quarantined: bigint }>(
      sql,
      `SELECT (SELECT count(*) FROM ${f.table} WHERE reason IS NULL) AS used,
        (SELECT count(*) FROM quarantine WHERE file = ${fileLit}) AS quarantined`,
    );
    const used = Number(c.used);
    const quarantined = Number(c.quarantined);
    summaries.push({
      file: f.path,
      format: f.format.label,
      reader: f.readBy,
      read: used + quarantined,
      used,
      quarantined,
    });
  }
  return summaries;
}

async function summarize(
  sql: Sql,
  bits: CategoryBits,
  files: readonly LoadedFile[],
  fileSummaries: readonly FileSummary[],
  subjects: Awaited<ReturnType<typeof resolveSubjects>>,
  identities: IdentityStore,
): Promise<Summary> {
  const categories = [...bits];
  const byCat = await queryOne<Record<string, bigint>>(
    sql,
    `SELECT ${categories.map(([, bit], i) => `count(*) FILTER (WHERE cats & ${1n << BigInt(bit)} <> 0) AS c${i}`).join(", ")} FROM person`,
  );
  const by_category: Record<string, number> = {};
  categories.forEach(([name], i) => {
    const n = Number(byCat[`c${i}`] ?? 0);
    if (n > 0) by_category[name] = n;
  });
  const by_country: Record<string, number> = {};
  const by_country_category: Record<string, Record<string, number>> = {};
  for (const r of await queryRows<Record<string, bigint | string>>(
    sql,
    `SELECT coalesce(country, 'unknown') AS country, count(*) AS n,
      ${categories.map(([, bit], i) => `count(*) FILTER (WHERE cats & ${1n << BigInt(bit)} <> 0) AS c${i}`).join(", ")}
     FROM person GROUP BY 1 ORDER BY 1`,
  )) {
    const country = String(r.country);
    by_country[country] = Number(r.n);
    const cats: Record<string, number> = {};
    categories.forEach(([name], i) => {
      const n = Number(r[`c${i}`] ?? 0);
      if (n > 0) cats[name] = n;
    });
    by_country_category[country] = cats;
  }
  const by_region: Record<string, Record<string, number>> = {};
  for (const r of await queryRows<{ country: string; region: string; n: bigint }>(
    sql,
    `SELECT country, coalesce(region, 'unknown') AS region, count(*) AS n FROM person
     WHERE country IS NOT NULL GROUP BY ALL ORDER BY 1, 2`,
  )) {
    by_region[r.country] = { ...(by_region[r.country] ?? {}), [r.region]: Number(r.n) };
  }
  const orgCounts = await queryOne<{ orgs: bigint; admins: bigint }>(
    sql,
    `SELECT (SELECT count(*) FROM affected_orgs) AS orgs,
      (SELECT count(DISTINCT m.user_id) FROM memberships m JOIN affected_orgs a USING (org_id)
        WHERE m.role IN ('owner', 'admin')) AS admins`,
  );
  const unmapped: Record<string, number> = {};
  for (const f of files)
    for (const [k, n] of Object.entries(f.unmapped)) unmapped[k] = (unmapped[k] ?? 0) + n;
  const unmapped_fields = Object.fromEntries(Object.entries(unmapped).sort(([a], [b]) => (a < b ? -1 : 1)));
  const rows = fileSummaries.reduce(
    (acc, f) => ({
      read: acc.read + f.read,
      used: acc.used + f.used,
      quarantined: acc.quarantined + f.quarantined,
    }),
    { read: 0, used: 0, quarantined: 0 },
  );
  return {
    rows,
    subjects: {
      matched: subjects.matched,
      unmatched_with_email: subjects.unmatchedWithEmail,
      anonymous: subjects.anonymous,
    },
    affected_people: subjects.matched + subjects.unmatchedWithEmail,
    affected_orgs: Number(orgCounts.orgs),
    admins_to_notify: Number(orgCounts.admins),
    conflicts: subjects.conflicts,
    by_category,
    by_country,
    by_country_category,
    by_region,
    unmapped_fields,
    files: [...fileSummaries],
    identities: {
      ...identities.counts,
      rejected: identities.rejected.length,
      rejected_rows: identities.rejected.slice(0, 100).map((r) => ({ ...r })),
    },
  };
}
