import { mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import type { Context } from "../app/context.ts";
import { appendAudit } from "../audit/audit-log.ts";
import { type Actor, requireRole, systemActor } from "../auth/roles.ts";
import { datasetSuffix, datasetsOf, mergeDatasetMappings } from "../datasets/manage-datasets.ts";
import { decisionsOf, loadIncident } from "../incidents/manage-incidents.ts";
import { entryText, recordSystemEntry } from "../incidents/record-system-entry.ts";
import type { JobProgress } from "../jobs/queue.ts";
import { enqueue } from "../jobs/queue.ts";
import type { JobContext, JobHandler } from "../jobs/run-worker.ts";
import { literal, openDuckDb, streamRows } from "../lib/duckdb.ts";
import { AppError } from "../lib/errors.ts";
import { requireId } from "../lib/ids.ts";
import { unsealToFile } from "../lib/seal.ts";
import { attachFilings, type ObligationWithFiling } from "../obligations/file-notice.ts";
import { exposureFromSummary, obligationsForIncident } from "../obligations/obligations-for-incident.ts";
import type { Queryable, Row } from "../store/db.ts";
import { analyzeIncident, type Summary } from "./analyze-incident.ts";
import { countFiltered, type PeopleFilter, peopleFilter, type ResultFilter } from "./people-filter.ts";
import { personEmailHash, personUserIdHash } from "./person-hashes.ts";
import { storeQuarantine } from "./store-quarantine.ts";

export const ANALYSIS_JOB = "analysis";

export type AnalysisRun = {
  id: string;
  incident_id: string;
  status: "queued" | "running" | "succeeded" | "failed";
  dataset_ids: string[];
  job: {
    id: string;
    attempts: number;
    max_attempts: number;
    progress: JobProgress | null;
    error: string | null;
  } | null;
  created_by: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
};

type RunRow = {
  id: string;
  incident_id: string;
  status: AnalysisRun["status"];
  dataset_ids: string[];
  job_id: string | null;
  job_status: string | null;
  attempts: number | null;
  max_attempts: number | null;
  progress: JobProgress | null;
  last_error: string | null;
  created_by: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
};

const RUN_SELECT = `SELECT r.id, r.incident_id, r.status, r.dataset_ids, r.job_id::text AS job_id, j.status AS job_status,
    j.attempts, j.max_attempts, j.progress, j.last_error, r.created_by, r.created_at, r.started_at, r.finished_at
  FROM analysis_runs r LEFT JOIN jobs j ON j.id = r.job_id`;

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

function toRun(r: RunRow): AnalysisRun {
  // The run fails when its job gives up; until then a failed attempt is only a retry.
  const status = r.status !== "succeeded" && r.job_status === "failed" ? "failed" : r.status;
  return {
    id: r.id,
    incident_id: r.incident_id,
    status,
    dataset_ids: r.dataset_ids,
    job: r.job_id
      ? {
          id: r.job_id,
          attempts: r.attempts ?? 0,
          max_attempts: r.max_attempts ?? 0,
          progress: r.progress,
          error: r.last_error,
        }
      : null,
    created_by: r.created_by,
    created_at: new Date(r.created_at).toISOString(),
    started_at: iso(r.started_at),
    finished_at: iso(r.finished_at),
  };
}

export async function loadRun(q: Queryable, incidentId: string, runId: string): Promise<AnalysisRun> {
  const r = await q.query<RunRow>(`${RUN_SELECT} WHERE r.id = $1 AND r.incident_id = $2`, [
    requireId(runId, "analysis run"),
    requireId(incidentId, "incident"),
  ]);
  if (!r.rows[0]) throw new AppError("NOT_FOUND", `no analysis run ${runId} in incident ${incidentId}`);
  return toRun(r.rows[0]);
}

/** Queues an analysis of the incident's datasets (all of them unless some are named). */
export async function startAnalysis(
  ctx: Pick<Context, "db">,
  actor: Actor,
  incidentId: string,
  input: { datasetIds?: string[] } = {},
): Promise<AnalysisRun> {
  requireRole(actor, "analyst", "starting an analysis");
  return ctx.db.transaction(async (tx) => {
    const incident = await loadIncident(tx, incidentId);
    if (incident.purged_at)
      throw new AppError("CONFLICT", "this incident's data was purged after its retention period");
    const stored = (await datasetsOf(tx, incidentId)).filter((d) => d.status === "stored");
    const wanted = input.datasetIds?.map((id) => requireId(id, "dataset")) ?? stored.map((d) => d.id);
    for (const id of wanted) {
      if (!stored.some((d) => d.id === id))
        throw new AppError("NOT_FOUND", `no stored dataset ${id} in this incident`);
    }
    if (wanted.length === 0) throw new AppError("CONFLICT", "upload a dataset to this incident first");
    const r = await tx.query<{ id: string }>(
      "INSERT INTO analysis_runs (incident_id, dataset_ids, created_by) VALUES ($1, $2::uuid[], $3) RETURNING id",
      [incidentId, wanted, actor.userId ?? null],
    );
    const runId = r.rows[0]?.id as string;
    const jobId = await enqueue(tx, ANALYSIS_JOB, { run_id: runId }, { maxAttempts: 3 });
    await tx.query("UPDATE analysis_runs SET job_id = $2 WHERE id = $1", [runId, jobId]);
    await appendAudit(tx, actor, "analysis.start", `incident:${incidentId}`, {
      run: runId,
      datasets: wanted.length,
    });
    return loadRun(tx, incidentId, runId);
  });
}

export async function listRuns(
  ctx: Pick<Context, "db">,
  actor: Actor,
  incidentId: string,
): Promise<AnalysisRun[]> {
  requireRole(actor, "viewer", "reading analyses");
  await loadIncident(ctx.db, incidentId);
  const r = await ctx.db.query<RunRow>(
    `${RUN_SELECT} WHERE r.incident_id = $1 ORDER BY r.created_at DESC, r.id`,
    [incidentId],
  );
  return r.rows.map(toRun);
}

export async function getRun(
  ctx: Pick<Context, "db">,
  actor: Actor,
  incidentId: string,
  runId: string,
): Promise<AnalysisRun> {
  requireRole(actor, "viewer", "reading analyses");
  return loadRun(ctx.db, incidentId, runId);
}

export async function succeededRun(
  q: Queryable,
  incidentId: string,
  runId: string,
  needRows = false,
): Promise<{ summary: Summary }> {
  const run = await loadRun(q, incidentId, runId);
  if (run.status !== "succeeded")
    throw new AppError("CONFLICT", `analysis run ${runId} is ${run.status}, it has no results yet`);
  const r = await q.query<{ summary: Summary | null; purged_at: Date | null }>(
    "SELECT summary, purged_at FROM analysis_runs WHERE id = $1",
    [runId],
  );
  const row = r.rows[0];
  if (!row?.summary || (needRows && row.purged_at))
    throw new AppError("CONFLICT", "this run's results were purged after the incident's retention period");
  return { summary: row.summary };
}

/** Counts only: no person is named in a summary, so viewers may read it. */
export async function getRunSummary(
  ctx: Pick<Context, "db">,
  actor: Actor,
  incidentId: string,
  runId: string,
): Promise<Summary> {
  requireRole(actor, "viewer", "reading analysis summaries");
  const { summary } = await succeededRun(ctx.db, incidentId, runId);
  // Quarantined rows are quoted in the identity report; that is personal data, which viewers do not see.
  return { ...summary, identities: { ...summary.identities, rejected_rows: [] } };
}

/**
 * What each law requires, from this run's exposure and the incident's clocks and answers as they are
 * now; a notice already filed carries `filed` (see file-notice.ts).
 */
export async function getRunObligations(
  ctx: Pick<Context, "db">,
  actor: Actor,
  incidentId: string,
  runId: string,
): Promise<ObligationWithFiling[]> {
  requireRole(actor, "viewer", "reading obligations");
  const { summary } = await succeededRun(ctx.db, incidentId, runId);
  const incident = await loadIncident(ctx.db, incidentId);
  const answers: Record<string, { decision: "required" | "not_required"; by?: string }> = {};
  for (const d of await decisionsOf(ctx.db, incidentId)) {
    if (
      /^([a-z]{2}-[a-z]+|contract):(regulator|individuals|other)$/.test(d.subject) &&
      /^(required|not_required)$/.test(d.decision)
    ) {
      answers[d.subject] = {
        decision: d.decision as "required" | "not_required",
        by: d.decided_by ?? undefined,
      };
    }
  }
  const obligations = await obligationsForIncident({
    exposure: exposureFromSummary(summary, `analysis run ${runId}`),
    clocks: incident.clocks,
    controllerCountry: incident.controller_country ?? undefined,
    answers,
  });
  return attachFilings(ctx.db, incidentId, obligations);
}

export type AffectedPerson = {
  person_key: string;
  user_id: string | null;
  email: string | null;
  name: string | null;
  country: string | null;
  language: string | null;
  categories: string[];
  matched_by: string;
  records: number;
};

/** An owner or admin of an affected organisation, as the identity store gives them. */
export type OrgAdmin = {
  /** null for runs stored before admins were kept */
  user_id: string | null;
  email: string;
  name: string | null;
  language: string | null;
  country: string | null;
  /** null for runs stored before admins were kept */
  role: "owner" | "admin" | null;
};

export type AffectedOrg = {
  org_id: string;
  name: string | null;
  affected_members: number;
  admin_emails: string[];
  /** fideslang keys exposed among its affected members, sorted */
  categories: string[];
  /** sorted by email */
  admins: OrgAdmin[];
};

/** What an affected_orgs row seals. */
export type SealedOrg = Pick<AffectedOrg, "name" | "admin_emails" | "categories" | "admins">;

/** Opens an affected_orgs row's sealed JSON; rows stored by older runs lack categories and admins. */
export function sealedOrg(sealed: unknown): SealedOrg {
  const o = sealed as Partial<SealedOrg> & { name: string | null; admin_emails: string[] };
  return {
    name: o.name,
    admin_emails: o.admin_emails,
    categories: o.categories ?? [],
    admins:
      o.admins ??
      o.admin_emails.map((email) => ({
        user_id: null,
        email,
        name: null,
        language: null,
        country: null,
        role: null,
      })),
  };
}

function pick<T extends object, K extends keyof T>(o: T, keys: readonly K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((k) => [k, o[k]])) as Pick<T, K>;
}

export type Page<T> = { items: T[]; total: number; offset: number; limit: number };

export function pageBounds(offset = 0, limit = 100): { offset: number; limit: number } {
  if (!Number.isInteger(offset) || offset < 0)
    throw new AppError("BAD_INPUT", "offset: a whole number, 0 or more");
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new AppError("BAD_INPUT", "limit: 1 to 1000");
  return { offset, limit };
}

type ResultTable = {
  table: "affected_people" | "affected_orgs";
  columns: string;
  total: (s: Summary) => number;
};

/**
 * One page of a run's sealed results, opened, and the read audited in the same transaction. With a
 * filter (see people-filter.ts) the page and its total are of the rows it keeps.
 */
async function readResultPage<R extends Row, T>(
  ctx: Pick<Context, "db" | "sealer">,
  actor: Actor,
  ids: { incidentId: string; runId: string },
  page: { offset?: number; limit?: number },
  from: ResultTable,
  open: (row: R, sealed: unknown) => T,
  filterOf: (summary: Summary) => ResultFilter | null = () => null,
): Promise<Page<T>> {
  const { offset, limit } = pageBounds(page.offset, page.limit);
  return ctx.db.transaction(async (tx) => {
    const { summary } = await succeededRun(tx, ids.incidentId, ids.runId, true);
    const filter = filterOf(summary);
    let rows: (R & { sealed: Uint8Array })[] = [];
    let total = from.total(summary);
    if (!filter) {
      // Ordinals run from 0 without gaps, so an offset is a position in the page index.
      const r = await tx.query<R & { sealed: Uint8Array }>(
        `SELECT sealed, ${from.columns} FROM ${from.table}
         WHERE run_id = $1 AND ordinal >= $2 ORDER BY ordinal LIMIT $3`,
        [ids.runId, offset, limit],
      );
      rows = r.rows;
    } else if (filter.none) {
      total = 0;
    } else {
      const r = await tx.query<R & { sealed: Uint8Array }>(
        `SELECT sealed, ${from.columns} FROM ${from.table}
         WHERE run_id = $1 AND ${filter.where(4)} ORDER BY ordinal LIMIT $2 OFFSET $3`,
        [ids.runId, limit, offset, ...filter.params],
      );
      rows = r.rows;
      total = filter.total ?? (await countFiltered(tx, from.table, ids.runId, filter));
    }
    const items = rows.map((row) => open(row, JSON.parse(ctx.sealer.openText(Buffer.from(row.sealed)))));
    const what = from.table === "affected_people" ? "people" : "orgs";
    await appendAudit(tx, actor, `results.${what}.read`, `incident:${ids.incidentId}`, {
      run: ids.runId,
      offset,
      count: items.length,
      ...(filter ? { filter: filter.audit } : {}),
    });
    return { items, total, offset, limit };
  });
}

/** Personal data: analysts and up, and every page read is audited. */
export async function readAffectedPeople(
  ctx: Pick<Context, "db" | "sealer">,
  actor: Actor,
  incidentId: string,
  runId: string,
  page: { offset?: number; limit?: number } & PeopleFilter = {},
): Promise<Page<AffectedPerson>> {
  requireRole(actor, "analyst", "reading affected people");
  return readResultPage<
    { country: string | null; categories: string[]; matched_by: string; records: string },
    AffectedPerson
  >(
    ctx,
    actor,
    { incidentId, runId },
    page,
    {
      table: "affected_people",
      columns: "country, categories, matched_by, records",
      total: (s) => s.affected_people,
    },
    (row, sealed) => ({
      // Picked one by one: the sealed record also holds org_ids, which this page does not show.
      ...pick(sealed as Pick<AffectedPerson, "person_key" | "user_id" | "email" | "name" | "language">, [
        "person_key",
        "user_id",
        "email",
        "name",
        "language",
      ]),
      country: row.country?.trim() ?? null,
      categories: row.categories,
      matched_by: row.matched_by,
      records: Number(row.records),
    }),
    (summary) => peopleFilter(ctx.sealer, summary, page),
  );
}

export async function readAffectedOrgs(
  ctx: Pick<Context, "db" | "sealer">,
  actor: Actor,
  incidentId: string,
  runId: string,
  page: { offset?: number; limit?: number } = {},
): Promise<Page<AffectedOrg>> {
  requireRole(actor, "analyst", "reading affected organisations");
  return readResultPage<{ org_id: string; affected_members: number }, AffectedOrg>(
    ctx,
    actor,
    { incidentId, runId },
    page,
    { table: "affected_orgs", columns: "org_id, affected_members", total: (s) => s.affected_orgs },
    (row, sealed) => {
      const { name, admin_emails, categories, admins } = sealedOrg(sealed);
      return {
        org_id: row.org_id,
        name,
        affected_members: row.affected_members,
        admin_emails,
        categories,
        admins,
      };
    },
  );
}

const BATCH = 2000;

/**
 * The worker's side: unseal the datasets into a private temp folder, run the same analysis as the
 * CLI, and store the results sealed, in the same transaction that completes the job, so a crash at
 * any point leaves either no results or all of them, and a retried job writes them once.
 */
export function analysisJobHandler(ctx: Context): JobHandler {
  const attempt: JobHandler = async ({ job, progress, finish }) => {
    const runId = (job.payload as { run_id?: string }).run_id;
    if (!runId) throw new AppError("BAD_INPUT", `job ${job.id}: no run_id`);
    const run = await ctx.db.query<{ incident_id: string; dataset_ids: string[]; status: string }>(
      "SELECT incident_id, dataset_ids, status FROM analysis_runs WHERE id = $1",
      [runId],
    );
    const row = run.rows[0];
    if (!row || row.status === "succeeded") return; // deleted, or done by an earlier attempt
    await ctx.db.query(
      "UPDATE analysis_runs SET status = 'running', started_at = coalesce(started_at, now()) WHERE id = $1",
      [runId],
    );
    const datasets = (await datasetsOf(ctx.db, row.incident_id)).filter((d) =>
      row.dataset_ids.includes(d.id),
    );
    if (datasets.length !== row.dataset_ids.length || datasets.some((d) => d.status !== "stored")) {
      throw new AppError("CONFLICT", `run ${runId}: a dataset it analyses was removed or purged`);
    }
    const work = await mkdtemp(path.join(ctx.config.tempDir, "blastradius-run-"));
    try {
      const files: string[] = [];
      for (const [i, d] of datasets.entries()) {
        progress({
          stage: `unsealing dataset ${i + 1} of ${datasets.length}`,
          done: i,
          total: datasets.length,
        });
        // Named after the upload (made safe), so progress reads "reading 1-export.jsonl.gz".
        const suffix = datasetSuffix(d.file_name);
        const stem = d.file_name
          .slice(0, d.file_name.length - suffix.length)
          .replace(/[^A-Za-z0-9_-]/g, "_")
          .slice(0, 60);
        const file = path.join(work, `${i + 1}-${stem}${suffix}`);
        await unsealToFile(path.resolve(ctx.config.dataDir, d.stored_path), file, ctx.key);
        files.push(file);
      }
      const outDir = path.join(work, "out");
      const summary = await analyzeIncident(
        ctx.config,
        {
          datasets: files,
          identitiesDir: ctx.config.identitiesDir,
          outDir,
          mapping: mergeDatasetMappings(datasets),
          parquet: true,
        },
        (stage, done, total) => progress({ stage, done, total }),
      );
      // The temp names mean nothing to a reader; the summary names the uploaded files.
      summary.files = summary.files.map((f, i) => ({ ...f, file: datasets[i]?.file_name ?? f.file }));
      progress({ stage: "storing results", done: 0, total: summary.affected_people + summary.affected_orgs });
      await finish(async (tx) => {
        await tx.query("DELETE FROM affected_people WHERE run_id = $1", [runId]);
        await tx.query("DELETE FROM affected_orgs WHERE run_id = $1", [runId]);
        await storeResults(ctx, tx, runId, outDir);
        // The quarantine file names the temp copies; readers see the uploaded names.
        await storeQuarantine(
          ctx,
          tx,
          runId,
          outDir,
          new Map(files.map((f, i) => [f, datasets[i]?.file_name ?? ""])),
        );
        await tx.query(
          "UPDATE analysis_runs SET status = 'succeeded', summary = $2, finished_at = now(), error = NULL WHERE id = $1",
          [runId, JSON.stringify(summary)],
        );
        for (const [i, d] of datasets.entries()) {
          await tx.query("UPDATE datasets SET format = $2 WHERE id = $1", [
            d.id,
            summary.files[i]?.format ?? null,
          ]);
        }
        await appendAudit(tx, systemActor, "analysis.succeeded", `incident:${row.incident_id}`, {
          run: runId,
          affected_people: summary.affected_people,
          affected_orgs: summary.affected_orgs,
        });
        await recordSystemEntry(
          tx,
          row.incident_id,
          entryText.analysisDone(summary.affected_people, summary.affected_orgs),
        );
        return { affected_people: summary.affected_people, affected_orgs: summary.affected_orgs };
      });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  };
  return async (jobContext) => {
    try {
      await attempt(jobContext);
    } catch (error) {
      await noteFailedAnalysis(ctx, jobContext, error);
      throw error;
    }
  };
}

/**
 * The last attempt's failure goes on the incident's timeline (the run fails with it). Not the error
 * itself: it may quote a dataset, and the timeline is for every viewer; the run keeps the error for
 * analysts. A shutdown or a lost lease is no failure: the job goes back to the queue.
 */
async function noteFailedAnalysis(ctx: Context, { job, signal }: JobContext, error: unknown): Promise<void> {
  if (job.attempts < job.maxAttempts || signal.aborted) return;
  if (error instanceof AppError && error.code === "CONFLICT" && /taken over/.test(error.message)) return;
  const runId = (job.payload as { run_id?: string }).run_id;
  if (!runId) return;
  try {
    await ctx.db.transaction(async (tx) => {
      const r = await tx.query<{ incident_id: string }>(
        "SELECT incident_id FROM analysis_runs WHERE id = $1 AND status <> 'succeeded'",
        [runId],
      );
      const incidentId = r.rows[0]?.incident_id;
      if (incidentId) await recordSystemEntry(tx, incidentId, entryText.analysisFailed(runId, job.attempts));
    });
  } catch {
    // The entry is a courtesy: the job's own failure is what must be recorded, and the worker does.
  }
}

async function storeResults(
  ctx: Pick<Context, "config" | "sealer">,
  tx: Queryable,
  runId: string,
  outDir: string,
): Promise<void> {
  const duck = await openDuckDb(ctx.config);
  try {
    const people = literal(path.join(outDir, "people.parquet"));
    let offset = 0;
    for await (const rows of streamRows<{
      person_key: string;
      user_id: string | null;
      email: string | null;
      name: string | null;
      country: string | null;
      language: string | null;
      categories: string | null;
      matched_by: string;
      records: bigint | number;
      org_ids: string | null;
    }>(duck.sql, `SELECT * FROM read_parquet(${people}) ORDER BY person_key`, BATCH)) {
      await tx.query(
        `INSERT INTO affected_people (run_id, person_key_hash, sealed, country, categories, matched_by, records, ordinal,
           email_hash, user_id_hash)
         SELECT $1, k, decode(s, 'base64'), c, string_to_array(nullif(cat, ''), ';'), m, r, o, eh, uh
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::int[], $9::text[], $10::text[])
           AS t(k, s, c, cat, m, r, o, eh, uh)`,
        [
          runId,
          rows.map((p) => ctx.sealer.keyedHash(p.person_key)),
          rows.map((p) =>
            ctx.sealer
              .seal(
                JSON.stringify({
                  person_key: p.person_key,
                  user_id: p.user_id,
                  email: p.email,
                  name: p.name,
                  language: p.language,
                  org_ids: p.org_ids ? p.org_ids.split(";") : [],
                }),
              )
              .toString("base64"),
          ),
          rows.map((p) => p.country),
          rows.map((p) => p.categories ?? ""),
          rows.map((p) => p.matched_by),
          rows.map((p) => String(p.records)),
          rows.map((_, i) => offset + i),
          // Lookups by email or user id without either being stored in the clear.
          rows.map((p) => (p.email?.trim() ? personEmailHash(ctx.sealer, p.email) : null)),
          rows.map((p) => (p.user_id ? personUserIdHash(ctx.sealer, p.user_id) : null)),
        ],
      );
      offset += rows.length;
    }
    const orgs = literal(path.join(outDir, "orgs.parquet"));
    const admins = literal(path.join(outDir, "admins.parquet"));
    offset = 0;
    // DuckDB groups the admins per org (spilling to disk if it must), so only a batch of orgs with
    // their admins is ever held here.
    for await (const rows of streamRows<{
      org_id: string;
      name: string | null;
      affected_members: bigint | number;
      admin_emails: string | null;
      categories: string | null;
      admins: string | null;
    }>(
      duck.sql,
      `SELECT o.org_id, o.name, o.affected_members, o.admin_emails, o.categories, a.admins
       FROM read_parquet(${orgs}) o LEFT JOIN (
         SELECT org_id, to_json(list({
           'user_id': user_id, 'email': email, 'name': name, 'language': language, 'country': country, 'role': role
         } ORDER BY email, user_id))::VARCHAR AS admins
         FROM read_parquet(${admins}) GROUP BY org_id
       ) a ON a.org_id = o.org_id
       ORDER BY o.org_id`,
      BATCH,
    )) {
      await tx.query(
        `INSERT INTO affected_orgs (run_id, org_id, sealed, affected_members, ordinal)
         SELECT $1, id, decode(s, 'base64'), n, o FROM unnest($2::text[], $3::text[], $4::int[], $5::int[]) AS t(id, s, n, o)`,
        [
          runId,
          rows.map((o) => o.org_id),
          rows.map((o) =>
            ctx.sealer
              .seal(
                JSON.stringify({
                  name: o.name,
                  admin_emails: o.admin_emails ? o.admin_emails.split(";") : [],
                  categories: o.categories ? o.categories.split(";") : [],
                  admins: o.admins ? (JSON.parse(o.admins) as OrgAdmin[]) : [],
                } satisfies SealedOrg),
              )
              .toString("base64"),
          ),
          rows.map((o) => Number(o.affected_members)),
          rows.map((_, i) => offset + i),
        ],
      );
      offset += rows.length;
    }
  } finally {
    duck.close();
  }
}
