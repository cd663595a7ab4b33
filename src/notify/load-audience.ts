import { stat } from "node:fs/promises";
import path from "node:path";
import type { Context } from "../app/context.ts";
import { type Config, loadConfig } from "../config/env.ts";
import { sealedOrg } from "../impact/incident-analysis.ts";
import { MAX_LINE_BYTES } from "../intake/load-dataset.ts";
import { ident, literal, openDuckDb, queryRows, type Sql, streamRows } from "../lib/duckdb.ts";
import { AppError, usageError } from "../lib/errors.ts";
import { requireId } from "../lib/ids.ts";
import type { Queryable } from "../store/db.ts";
import { AUDIENCES, type Audience, type OrgExposure, type Recipient } from "./notice-types.ts";

/**
 * Who to notify, from an analysis: its `--out` folder or an incident's stored run. Every reader
 * yields recipients deduplicated by email, in email order, a batch at a time.
 */

/** Each filter is optional; an absent or empty one keeps everyone. Filters are AND-ed, values OR-ed. */
export type AudienceFilter = { countries?: string[]; categories?: string[]; orgs?: string[] };

export function parseAudience(value: string | undefined, flag: string): Audience {
  const v = value?.trim().toLowerCase();
  const found = AUDIENCES.find((a) => a === v);
  if (!found) {
    throw usageError(
      `${flag}: ${value === undefined ? "required" : `${JSON.stringify(value)} is not an audience`}; give one of ${AUDIENCES.join(", ")}`,
    );
  }
  return found;
}

const given = (values: string[] | undefined): values is string[] => values !== undefined && values.length > 0;

export function describeFilter(filter: AudienceFilter): string {
  const parts: string[] = [];
  if (given(filter.countries)) parts.push(`country ${filter.countries.join(", ")}`);
  if (given(filter.categories)) parts.push(`category ${filter.categories.join(", ")}`);
  if (given(filter.orgs)) parts.push(`org ${filter.orgs.join(", ")}`);
  return parts.length > 0 ? parts.join("; ") : "no filter";
}

/** Country and category tests; the org filter is applied where membership is known. */
function recipientTest(filter: AudienceFilter): (r: Recipient) => boolean {
  const countries = given(filter.countries)
    ? new Set(filter.countries.map((c) => c.trim().toUpperCase()))
    : null;
  const categories = given(filter.categories) ? filter.categories.map((c) => c.trim()) : null;
  return (r) => {
    if (countries && !countries.has(r.country?.toUpperCase() ?? "UNKNOWN")) return false;
    // A category names its whole subtree: user.contact covers user.contact.email.
    if (categories && !r.categories.some((c) => categories.some((f) => c === f || c.startsWith(`${f}.`))))
      return false;
    return true;
  };
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const sortedUnion = (lists: Iterable<readonly string[]>) => [...new Set([...lists].flat())].sort(byString);
const splitList = (v: string | null | undefined) => (v ? v.split(";").filter(Boolean) : []);

function checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new AppError("BAD_INPUT", "batch size: a whole number, 1 or more");
}

/** Gathers items into batches of `size`; `flush` yields the rest. */
function batcher<T>(size: number): { add: (item: T) => T[] | null; flush: () => T[] | null } {
  let batch: T[] = [];
  return {
    add: (item) => {
      batch.push(item);
      if (batch.length < size) return null;
      const full = batch;
      batch = [];
      return full;
    },
    flush: () => (batch.length > 0 ? batch : null),
  };
}

// ---------------------------------------------------------------------------------------------
// From an analysis folder

/**
 * A CSV cell as the analysis wrote it, back to its value: the `'` that neutralises a would-be
 * formula (write-results.ts safeCellSql) comes off, blanks become NULL.
 */
function cellSql(column: string): string {
  const c = ident(column);
  return `nullif(trim(CASE WHEN regexp_matches(${c}, '^''[=+\\-@\\t\\r]') THEN substr(${c}, 2) ELSE ${c} END), '')`;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** A `read_csv` of one result file, after checking it has the columns asked for. */
async function csvSource(
  sql: Sql,
  file: string,
  required: readonly string[],
): Promise<{ from: string; columns: string[] }> {
  if (!(await exists(file)))
    throw new AppError("BAD_INPUT", `${file}: not found; is this a blastradius analyze --out folder?`);
  // The layout write-results.ts writes: no sniffing of delimiter or quoting, every column as text.
  // A dataset line may be 32 MiB, and its name lands in one cell, its quotes doubled.
  const from = `read_csv(${literal(file)}, header = true, all_varchar = true, delim = ',', quote = '"', escape = '"',
    max_line_size = ${MAX_LINE_BYTES * 2}, buffer_size = ${MAX_LINE_BYTES * 4})`;
  let columns: string[];
  try {
    columns = (await queryRows<{ column_name: string }>(sql, `DESCRIBE SELECT * FROM ${from}`)).map(
      (c) => c.column_name,
    );
  } catch (error) {
    throw new AppError(
      "BAD_INPUT",
      `${file}: cannot be read as CSV: ${(error as Error).message.split("\n")[0]}`,
    );
  }
  const missing = required.filter((c) => !columns.includes(c));
  if (missing.length > 0) {
    throw new AppError(
      "BAD_INPUT",
      `${file}: missing column${missing.length > 1 ? "s" : ""} ${missing.join(", ")} (re-run blastradius analyze to write it)`,
    );
  }
  return { from, columns };
}

type DuckSettings = Pick<Config, "memoryLimit" | "threads" | "tempDir">;

/**
 * Recipients of an `analyze --out` folder, deduplicated by email, in email order, in batches.
 * DuckDB sorts the rows by email (spilling to `duck.tempDir` past its memory limit), so rows for one
 * email arrive together and are merged here with only the current one held. `duck` defaults to the
 * settings of the environment, as the CLI reads them.
 */
export async function* readAnalysisAudience(
  dir: string,
  audience: Audience,
  filter: AudienceFilter = {},
  batchSize = 1000,
  duck: DuckSettings = loadConfig(),
): AsyncGenerator<Recipient[]> {
  checkBatchSize(batchSize);
  const isDir = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir)
    throw new AppError("BAD_INPUT", `${dir}: no such folder (give the --out folder of blastradius analyze)`);
  const db = await openDuckDb(duck);
  try {
    if (audience === "users") yield* folderUsers(db.sql, dir, filter, batchSize);
    else yield* folderAdmins(db.sql, dir, filter, batchSize);
  } finally {
    db.close();
  }
}

type UserRow = {
  email: string;
  name: string | null;
  language: string | null;
  country: string | null;
  categories: string | null;
  org_ids: string | null;
};

/** One recipient being built from the rows that share its email. */
type Pending = { recipient: Recipient; categories: string[][]; orgIds: Set<string> };

async function* folderUsers(
  sql: Sql,
  dir: string,
  filter: AudienceFilter,
  batchSize: number,
): AsyncGenerator<Recipient[]> {
  const file = path.join(dir, "people.csv");
  const orgFilter = given(filter.orgs) ? new Set(filter.orgs) : null;
  // org_ids came later than the other columns: an older folder still serves unless orgs are asked for.
  const required = [
    "person_key",
    "email",
    "name",
    "country",
    "language",
    "categories",
    ...(orgFilter ? ["org_ids"] : []),
  ];
  const { from, columns } = await csvSource(sql, file, required);
  const orgIds = columns.includes("org_ids") ? cellSql("org_ids") : "NULL";
  const query = `SELECT lower(email) AS email, name, language, country, categories, org_ids FROM (
      SELECT ${cellSql("email")} AS email, ${cellSql("name")} AS name, ${cellSql("language")} AS language,
        ${cellSql("country")} AS country, ${cellSql("categories")} AS categories, ${orgIds} AS org_ids,
        ${cellSql("person_key")} AS person_key
      FROM ${from})
    WHERE email IS NOT NULL ORDER BY lower(email), person_key`;
  yield* mergeUsers(streamRows<UserRow>(sql, query), filter, batchSize);
}

/**
 * Merges rows that arrive grouped by email: categories are united, and name, locale and country are
 * the first non-empty ones (rows come in person_key order within an email).
 */
async function* mergeUsers(
  rows: AsyncIterable<UserRow[]>,
  filter: AudienceFilter,
  batchSize: number,
): AsyncGenerator<Recipient[]> {
  const test = recipientTest(filter);
  const orgFilter = given(filter.orgs) ? new Set(filter.orgs) : null;
  const out = batcher<Recipient>(batchSize);
  let pending: Pending | null = null;
  const settle = (p: Pending): Recipient[] | null => {
    const recipient = { ...p.recipient, categories: sortedUnion(p.categories) };
    if (orgFilter && ![...p.orgIds].some((o) => orgFilter.has(o))) return null;
    return test(recipient) ? out.add(recipient) : null;
  };
  for await (const batch of rows) {
    for (const row of batch) {
      const email = row.email.trim().toLowerCase();
      if (!email) continue;
      if (pending && pending.recipient.email !== email) {
        const full = settle(pending);
        if (full) yield full;
        pending = null;
      }
      if (!pending) {
        pending = {
          recipient: { email, name: null, locale: null, country: null, categories: [], orgs: [] },
          categories: [],
          orgIds: new Set(),
        };
      }
      const r = pending.recipient;
      r.name ??= row.name;
      r.locale ??= row.language;
      r.country ??= row.country;
      pending.categories.push(splitList(row.categories));
      for (const o of splitList(row.org_ids)) pending.orgIds.add(o);
    }
  }
  if (pending) {
    const full = settle(pending);
    if (full) yield full;
  }
  const rest = out.flush();
  if (rest) yield rest;
}

type AdminRow = {
  email: string;
  name: string | null;
  language: string | null;
  country: string | null;
  org_id: string;
  org_name: string | null;
  affected_members: string | null;
  categories: string | null;
};

async function* folderAdmins(
  sql: Sql,
  dir: string,
  filter: AudienceFilter,
  batchSize: number,
): AsyncGenerator<Recipient[]> {
  const adminsFile = path.join(dir, "admins.csv");
  if (!(await exists(adminsFile))) {
    throw new AppError(
      "BAD_INPUT",
      `${adminsFile}: not found; this folder was written by an older version of blastradius: re-run \`blastradius analyze\` to list the admins of affected organisations`,
    );
  }
  const admins = await csvSource(sql, adminsFile, ["org_id", "email", "name", "language", "country"]);
  const orgs = await csvSource(sql, path.join(dir, "orgs.csv"), [
    "org_id",
    "name",
    "affected_members",
    "categories",
  ]);
  const query = `SELECT lower(a.email) AS email, a.name, a.language, a.country, a.org_id,
      o.name AS org_name, o.affected_members, o.categories
    FROM (
      SELECT ${cellSql("email")} AS email, ${cellSql("name")} AS name, ${cellSql("language")} AS language,
        ${cellSql("country")} AS country, ${cellSql("org_id")} AS org_id
      FROM ${admins.from}
    ) a LEFT JOIN (
      SELECT ${cellSql("org_id")} AS org_id, ${cellSql("name")} AS name,
        ${cellSql("affected_members")} AS affected_members, ${cellSql("categories")} AS categories
      FROM ${orgs.from}
    ) o ON o.org_id = a.org_id
    WHERE a.email IS NOT NULL AND a.org_id IS NOT NULL ORDER BY lower(a.email), a.org_id`;
  const test = recipientTest(filter);
  const orgFilter = given(filter.orgs) ? new Set(filter.orgs) : null;
  const out = batcher<Recipient>(batchSize);
  let pending: Recipient | null = null;
  const settle = (r: Recipient): Recipient[] | null => {
    const done = finishAdmin(r, orgFilter);
    return done && test(done) ? out.add(done) : null;
  };
  for await (const batch of streamRows<AdminRow>(sql, query)) {
    for (const row of batch) {
      const email = row.email.trim().toLowerCase();
      if (pending && pending.email !== email) {
        const full = settle(pending);
        if (full) yield full;
        pending = null;
      }
      pending ??= { email, name: null, locale: null, country: null, categories: [], orgs: [] };
      pending.name ??= row.name;
      pending.locale ??= row.language;
      pending.country ??= row.country;
      addOrg(pending, {
        org_id: row.org_id,
        name: row.org_name,
        affected_members: Number(row.affected_members ?? 0),
        categories: splitList(row.categories),
      });
    }
  }
  if (pending) {
    const full = settle(pending);
    if (full) yield full;
  }
  const rest = out.flush();
  if (rest) yield rest;
}

/** Two users of the store may share an email and administer the same org: it is listed once. */
function addOrg(r: Recipient, org: OrgExposure): void {
  if (!r.orgs.some((o) => o.org_id === org.org_id)) r.orgs.push(org);
}

/** Narrows an admin to the orgs asked for (none left: not a recipient) and sums up their categories. */
function finishAdmin(r: Recipient, orgFilter: Set<string> | null): Recipient | null {
  const orgs = (orgFilter ? r.orgs.filter((o) => orgFilter.has(o.org_id)) : r.orgs).sort((a, b) =>
    byString(a.org_id, b.org_id),
  );
  if (orgs.length === 0) return null;
  return { ...r, orgs, categories: sortedUnion(orgs.map((o) => o.categories)) };
}

// ---------------------------------------------------------------------------------------------
// From a stored run

const PAGE = 2000;

async function runReadable(q: Queryable, runId: string): Promise<string> {
  const id = requireId(runId, "analysis run");
  const r = await q.query<{ status: string; purged_at: Date | null }>(
    "SELECT status, purged_at FROM analysis_runs WHERE id = $1",
    [id],
  );
  const run = r.rows[0];
  if (!run) throw new AppError("NOT_FOUND", `no analysis run ${runId}`);
  if (run.status !== "succeeded")
    throw new AppError("CONFLICT", `analysis run ${runId} is ${run.status}, it has no results yet`);
  if (run.purged_at)
    throw new AppError("CONFLICT", "this run's results were purged after the incident's retention period");
  return id;
}

/**
 * The same recipients from an incident's stored run. Emails are sealed, so the store cannot sort or
 * group by them: users are deduplicated in memory, which holds one entry per person with an email of
 * the run (a few hundred bytes each) before the first batch is yielded. Admins are few and grouped the
 * same way. The rows are read a page at a time in `ordinal` order.
 */
export async function* readRunAudience(
  // a Queryable, not the store: a campaign reads its recipients inside the transaction that writes them
  ctx: { db: Queryable; sealer: Context["sealer"] },
  runId: string,
  audience: Audience,
  filter: AudienceFilter = {},
  batchSize = 1000,
): AsyncGenerator<Recipient[]> {
  checkBatchSize(batchSize);
  const id = await runReadable(ctx.db, runId);
  const open = (sealed: Uint8Array) => JSON.parse(ctx.sealer.openText(Buffer.from(sealed))) as unknown;
  const test = recipientTest(filter);
  const orgFilter = given(filter.orgs) ? new Set(filter.orgs) : null;
  const recipients = new Map<string, Pending>();
  const pendingFor = (email: string): Pending => {
    let p = recipients.get(email);
    if (!p) {
      p = {
        recipient: { email, name: null, locale: null, country: null, categories: [], orgs: [] },
        categories: [],
        orgIds: new Set(),
      };
      recipients.set(email, p);
    }
    return p;
  };

  if (audience === "users") {
    for await (const rows of runPages<{ sealed: Uint8Array; country: string | null; categories: string[] }>(
      ctx.db,
      "affected_people",
      "sealed, country, categories",
      id,
    )) {
      for (const row of rows) {
        const person = open(row.sealed) as {
          email: string | null;
          name: string | null;
          language: string | null;
          org_ids?: string[];
        };
        const email = person.email?.trim().toLowerCase();
        if (!email) continue;
        if (orgFilter && !person.org_ids) {
          throw new AppError(
            "CONFLICT",
            `analysis run ${runId} was stored by an older version that did not keep org memberships; start a new analysis to filter users by org`,
          );
        }
        const p = pendingFor(email);
        p.recipient.name ??= person.name || null;
        p.recipient.locale ??= person.language || null;
        p.recipient.country ??= row.country?.trim() || null;
        p.categories.push(row.categories);
        for (const o of person.org_ids ?? []) p.orgIds.add(o);
      }
    }
  } else {
    for await (const rows of runPages<{ org_id: string; affected_members: number; sealed: Uint8Array }>(
      ctx.db,
      "affected_orgs",
      "org_id, affected_members, sealed",
      id,
      orgFilter ? [...orgFilter] : undefined,
    )) {
      for (const row of rows) {
        const org = sealedOrg(open(row.sealed));
        const exposure: OrgExposure = {
          org_id: row.org_id,
          name: org.name,
          affected_members: Number(row.affected_members),
          categories: org.categories,
        };
        for (const admin of org.admins) {
          const email = admin.email.trim().toLowerCase();
          if (!email) continue;
          const p = pendingFor(email);
          p.recipient.name ??= admin.name || null;
          p.recipient.locale ??= admin.language || null;
          p.recipient.country ??= admin.country || null;
          addOrg(p.recipient, exposure);
        }
      }
    }
  }

  const out = batcher<Recipient>(batchSize);
  for (const email of [...recipients.keys()].sort(byString)) {
    const p = recipients.get(email) as Pending;
    recipients.delete(email);
    let r: Recipient | null;
    if (audience === "users") {
      r = { ...p.recipient, categories: sortedUnion(p.categories) };
      if (orgFilter && ![...p.orgIds].some((o) => orgFilter.has(o))) r = null;
    } else {
      r = finishAdmin(p.recipient, orgFilter);
    }
    if (!r || !test(r)) continue;
    const full = out.add(r);
    if (full) yield full;
  }
  const rest = out.flush();
  if (rest) yield rest;
}

/** A run's result rows in `ordinal` order, a page at a time (keyset paging, so each page is cheap). */
async function* runPages<R>(
  db: Queryable,
  table: "affected_people" | "affected_orgs",
  columns: string,
  runId: string,
  orgIds?: string[],
): AsyncGenerator<R[]> {
  let after = -1;
  for (;;) {
    const r = await db.query<R & { ordinal: number }>(
      `SELECT ${columns}, ordinal FROM ${table}
       WHERE run_id = $1 AND ordinal > $2 ${orgIds ? "AND org_id = ANY($4::text[])" : ""}
       ORDER BY ordinal LIMIT $3`,
      orgIds ? [runId, after, PAGE, orgIds] : [runId, after, PAGE],
    );
    if (r.rows.length === 0) return;
    yield r.rows;
    after = Number(r.rows[r.rows.length - 1]?.ordinal);
    if (r.rows.length < PAGE) return;
  }
}
