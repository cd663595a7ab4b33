import { Readable } from "node:stream";
import { stringify } from "csv-stringify/sync";
import type { Context } from "../app/context.ts";
import { appendAudit } from "../audit/audit-log.ts";
import { type Actor, requireRole } from "../auth/roles.ts";
import { AppError } from "../lib/errors.ts";
import type { Queryable } from "../store/db.ts";
import type { Summary } from "./analyze-incident.ts";
import { getRunObligations, loadRun, sealedOrg } from "./incident-analysis.ts";
import {
  openQuarantinedRow,
  QUARANTINE_COLUMNS,
  type QuarantineRowRecord,
  requireQuarantineKept,
} from "./read-quarantine.ts";
import { safeCell } from "./write-results.ts";

/**
 * A succeeded run's results as the files `analyze --out` writes (README "Output"), built from the
 * store: CSVs with the same columns, in the same order, with the same spreadsheet escaping, streamed
 * a page of rows at a time, so a million people never sit in memory.
 */

export const RESULT_FILES = [
  "people.csv",
  "orgs.csv",
  "admins.csv",
  "quarantine.csv",
  "summary.json",
  "obligations.json",
] as const;
export type ResultFileName = (typeof RESULT_FILES)[number];

export type ResultFile = {
  /** a safe name for Content-Disposition: the run's id and the file's name */
  fileName: string;
  contentType: string;
  body: Readable;
};

const COLUMNS = {
  "people.csv": [
    "person_key",
    "user_id",
    "email",
    "name",
    "country",
    "language",
    "categories",
    "matched_by",
    "records",
    "org_ids",
  ],
  "orgs.csv": ["org_id", "name", "affected_members", "admin_emails", "categories"],
  "admins.csv": ["org_id", "user_id", "email", "name", "language", "country", "role"],
  "quarantine.csv": ["file", "line", "row", "reason", "raw"],
} as const;

type CsvName = keyof typeof COLUMNS;
type Cell = string | number | null;

const PAGE = 1000;

function isResultFile(name: string): name is ResultFileName {
  return (RESULT_FILES as readonly string[]).includes(name);
}

const joined = (list: readonly string[] | undefined) => (list?.length ? list.join(";") : null);

/**
 * Opens one result file of a run: analysts and up, audited with the file's name. Unknown names and
 * runs without results (not succeeded, or purged) are NOT_FOUND with the reason.
 */
export async function downloadResultFile(
  ctx: Pick<Context, "db" | "sealer">,
  actor: Actor,
  incidentId: string,
  runId: string,
  name: string,
  /** rows read from the store at a time (tests use small pages) */
  options: { pageSize?: number } = {},
): Promise<ResultFile> {
  requireRole(actor, "analyst", "downloading analysis results");
  if (!isResultFile(name)) {
    throw new AppError(
      "NOT_FOUND",
      `no result file ${JSON.stringify(name.slice(0, 60))}; a run has ${RESULT_FILES.join(", ")}`,
    );
  }
  const summary = await ctx.db.transaction(async (tx) => {
    const run = await loadRun(tx, incidentId, runId);
    if (run.status !== "succeeded")
      throw new AppError("NOT_FOUND", `analysis run ${runId} is ${run.status}: it has no ${name}`);
    const r = await tx.query<{ summary: Summary | null; purged_at: Date | null }>(
      "SELECT summary, purged_at FROM analysis_runs WHERE id = $1",
      [run.id],
    );
    const row = r.rows[0];
    // Counts outlive a purge; the rows of personal data do not.
    if (!row?.summary || (row.purged_at && name.endsWith(".csv")))
      throw new AppError(
        "NOT_FOUND",
        `analysis run ${runId}: ${name} was purged after the incident's retention period`,
      );
    if (name === "quarantine.csv")
      await requireQuarantineKept(tx, run.id, row.summary, (m) => new AppError("NOT_FOUND", m));
    await appendAudit(tx, actor, "results.file.download", `incident:${incidentId}`, {
      run: run.id,
      file: name,
    });
    return row.summary;
  });
  const fileName = `run-${runId.toLowerCase()}-${name}`;
  if (name === "summary.json") return jsonFile(fileName, summary);
  if (name === "obligations.json")
    return jsonFile(fileName, await getRunObligations(ctx, actor, incidentId, runId));
  const rows = csvRows(ctx, runId.toLowerCase(), name, summary, options.pageSize ?? PAGE);
  return { fileName, contentType: "text/csv; charset=utf-8", body: Readable.from(csv(COLUMNS[name], rows)) };
}

function jsonFile(fileName: string, value: unknown): ResultFile {
  return {
    fileName,
    contentType: "application/json; charset=utf-8",
    body: Readable.from([`${JSON.stringify(value, null, 2)}\n`]),
  };
}

/** The header, then each page of rows as CSV text, every text cell neutralised for spreadsheets. */
async function* csv(columns: readonly string[], pages: AsyncIterable<Cell[][]>): AsyncGenerator<string> {
  yield stringify([columns as string[]]);
  for await (const page of pages) {
    if (page.length > 0) yield stringify(page.map((row) => row.map(safeCell)));
  }
}

/** A run's rows in ordinal order, a page at a time (keyset paging over the primary or page index). */
async function* pages<R>(
  q: Queryable,
  table: string,
  columns: string,
  runId: string,
  size: number,
): AsyncGenerator<R[]> {
  let after = -1;
  for (;;) {
    const r = await q.query<R & { ordinal: number }>(
      `SELECT ${columns}, ordinal FROM ${table} WHERE run_id = $1 AND ordinal > $2 ORDER BY ordinal LIMIT $3`,
      [runId, after, size],
    );
    if (r.rows.length > 0) yield r.rows;
    if (r.rows.length < size) return;
    after = Number(r.rows[r.rows.length - 1]?.ordinal);
  }
}

/**
 * The stream must not end short of the run's rows as if complete (a purge while it streams): a count
 * that differs from the summary's ends it with an error instead, which aborts the download.
 */
function complete(name: string, streamed: number, expected: number): void {
  if (streamed !== expected)
    throw new AppError(
      "CONFLICT",
      `${name}: ${streamed} of ${expected} rows could be read; the run's results changed (purged?)`,
    );
}

async function* csvRows(
  ctx: Pick<Context, "db" | "sealer">,
  runId: string,
  name: CsvName,
  summary: Summary,
  pageSize: number,
): AsyncGenerator<Cell[][]> {
  const open = (sealed: Uint8Array) => JSON.parse(ctx.sealer.openText(Buffer.from(sealed))) as unknown;
  let streamed = 0;
  if (name === "people.csv") {
    type PersonRow = {
      sealed: Uint8Array;
      country: string | null;
      categories: string[];
      matched_by: string;
      records: string | number;
    };
    for await (const rows of pages<PersonRow>(
      ctx.db,
      "affected_people",
      "sealed, country, categories, matched_by, records::text AS records",
      runId,
      pageSize,
    )) {
      yield rows.map((r) => {
        const p = open(r.sealed) as {
          person_key: string;
          user_id: string | null;
          email: string | null;
          name: string | null;
          language: string | null;
          org_ids?: string[];
        };
        return [
          p.person_key,
          p.user_id,
          p.email,
          p.name,
          r.country?.trim() || null,
          p.language,
          joined(r.categories) ?? "",
          r.matched_by,
          Number(r.records),
          joined(p.org_ids),
        ];
      });
      streamed += rows.length;
    }
    complete(name, streamed, summary.affected_people);
  } else if (name === "orgs.csv" || name === "admins.csv") {
    type OrgRow = { org_id: string; affected_members: number; sealed: Uint8Array };
    for await (const rows of pages<OrgRow>(
      ctx.db,
      "affected_orgs",
      "org_id, affected_members, sealed",
      runId,
      pageSize,
    )) {
      if (name === "orgs.csv") {
        yield rows.map((r) => {
          const o = sealedOrg(open(r.sealed));
          return [r.org_id, o.name, Number(r.affected_members), joined(o.admin_emails), joined(o.categories)];
        });
      } else {
        // Admins are stored per org, sorted by email: org order then gives the CLI's order.
        yield rows.flatMap((r) =>
          sealedOrg(open(r.sealed)).admins.map((a): Cell[] => [
            r.org_id,
            a.user_id,
            a.email,
            a.name,
            a.language,
            a.country,
            a.role,
          ]),
        );
      }
      streamed += rows.length;
    }
    complete(name, streamed, summary.affected_orgs);
  } else {
    for await (const rows of pages<QuarantineRowRecord>(
      ctx.db,
      "quarantined_rows",
      QUARANTINE_COLUMNS,
      runId,
      pageSize,
    )) {
      yield rows.map((r) => {
        const q = openQuarantinedRow(ctx.sealer, r);
        return [q.file, q.line, q.row, q.reason, q.raw];
      });
      streamed += rows.length;
    }
    complete(name, streamed, summary.rows.quarantined);
  }
}
