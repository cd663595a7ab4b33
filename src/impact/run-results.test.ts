import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { Readable as ReadableStream } from "node:stream";
import { after, before, describe, it } from "node:test";
import { parse as parseCsv } from "csv-parse/sync";
import type { Context } from "../app/context.ts";
import { systemActor } from "../auth/roles.ts";
import { loadConfig } from "../config/env.ts";
import { uploadDataset } from "../datasets/manage-datasets.ts";
import { createIncident } from "../incidents/manage-incidents.ts";
import { purgeIncidentData } from "../incidents/purge-incident.ts";
import { startWorker } from "../jobs/run-worker.ts";
import { AppError } from "../lib/errors.ts";
import { createSealer } from "../lib/seal.ts";
import { event, identities, jsonl, put, tempDir, testConfig } from "../lib/test-fixtures.ts";
import type { Db } from "../store/db.ts";
import { type Backend, backends } from "../store/test-backends.ts";
import { analyzeIncident, type Summary } from "./analyze-incident.ts";
import { downloadResultFile, RESULT_FILES } from "./download-results.ts";
import {
  type AffectedPerson,
  ANALYSIS_JOB,
  analysisJobHandler,
  getRunObligations,
  readAffectedPeople,
  startAnalysis,
} from "./incident-analysis.ts";
import type { PeopleFilter } from "./people-filter.ts";
import { personEmailHash, personUserIdHash } from "./person-hashes.ts";
import { readQuarantine } from "./read-quarantine.ts";

/**
 * A run stored by the worker, read back as the web UI reads it: people searched and filtered, the
 * quarantined rows, and the result files, which must hold what `analyze --out` writes for the same
 * datasets.
 */

const IDS = {
  users:
    "user_id,email,name,country,language\n" +
    "u1,alice@example.com,Alice,DE,de\n" +
    "u2,Bob@Example.com,Bob,,en\n" +
    "u3,carol@example.com,=Carol,FR,fr\n" +
    "u4,dave@example.com,Dave,US,en\n",
  orgs: "org_id,name\no1,=Org One\no2,Org Two\n",
  memberships: "org_id,user_id,role\no1,u1,owner\no1,u2,member\no2,u3,admin\no2,u4,owner\n",
};

const EVENTS = [
  jsonl(
    event({ distinct_id: "u1", $email: "alice@example.com", $ip: "10.0.0.1" }),
    event({ distinct_id: "u2", $browser: "Firefox" }),
    event({ distinct_id: "anon-9", $email: " Zed@X.example ", mp_country_code: "US", $city: "Springfield" }),
  ),
  "not json {\n",
  jsonl(event({ $os: "Linux", secret_note: "=HYPERLINK(evil)" })),
  "\n",
  jsonl(
    event({ distinct_id: "anon-7", $email: "=cmd@evil.example", mp_country_code: "DE" }),
    event({ distinct_id: "u3", org_id: "o2", $name: "Carol" }),
  ),
].join("");
const USERS_CSV = "distinct_id,email,country\nu4,dave@example.com,US\n,,\n+x,,\n";

const analyst = { kind: "user", userId: "a", role: "analyst", label: "user:analyst" } as const;
const viewer = { kind: "user", userId: "v", role: "viewer", label: "user:viewer" } as const;

async function text(body: Readable): Promise<string> {
  let s = "";
  for await (const chunk of body) s += chunk;
  return s;
}

const rows = (csv: string) => parseCsv(csv, { bom: true }) as string[][];

const code = (c: string) => (e: unknown) => e instanceof AppError && e.code === c;

let cli: { dir: string; summary: Summary } | undefined;

/** The same datasets through the CLI's analysis, for what the files must hold. */
async function cliOutput(): Promise<{ dir: string; summary: Summary }> {
  if (cli) return cli;
  const dir = await tempDir("blastradius-results-cli-");
  const datasets = [await put(dir, "events.jsonl", EVENTS), await put(dir, "users.csv", USERS_CSV)];
  const out = path.join(dir, "out");
  const summary = await analyzeIncident(testConfig, {
    datasets,
    identitiesDir: await identities(dir, IDS),
    outDir: out,
  });
  cli = { dir: out, summary };
  return cli;
}

for (const [i, make] of backends.entries()) {
  describe(`a stored run's results on ${i === 0 ? "PGlite" : "PostgreSQL"}`, { timeout: 180_000 }, () => {
    let backend: Backend;
    let db: Db;
    let ctx: Context;
    let incidentId: string;
    let runId: string;
    let everyone: AffectedPerson[];

    before(async () => {
      backend = await make();
      if (backend.skip) return;
      db = await backend.open();
      const key = Buffer.alloc(32, 5);
      ctx = {
        db,
        key,
        sealer: createSealer(key),
        config: loadConfig({
          BLASTRADIUS_DATA: backend.dataDir,
          BLASTRADIUS_IDENTITIES: await identities(backend.dataDir, IDS),
          BLASTRADIUS_MEMORY_LIMIT: "1GB",
          BLASTRADIUS_THREADS: "2",
        }),
      };
      incidentId = (await createIncident(ctx, systemActor, { title: "vendor breach" })).id;
      for (const [fileName, content] of [
        ["events.jsonl", EVENTS],
        ["users.csv", USERS_CSV],
      ] as const) {
        await uploadDataset(ctx, systemActor, incidentId, {
          fileName,
          content: ReadableStream.from([content]),
        });
      }
      runId = (await startAnalysis(ctx, systemActor, incidentId)).id;
      const worker = startWorker({
        db,
        handlers: { [ANALYSIS_JOB]: analysisJobHandler(ctx) },
        pollMs: 20,
        log: () => {},
      });
      await worker.idle();
      await worker.stop();
      everyone = (await readAffectedPeople(ctx, analyst, incidentId, runId, { limit: 1000 })).items;
    });
    after(async () => {
      await db?.close();
      await backend?.cleanup();
    });

    it("stores the quarantined rows sealed, under the uploaded names, and hashes to find people by", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const stored = await db.query<{
        ordinal: number;
        file: string;
        line: number | null;
        sealed: Uint8Array;
      }>(
        `SELECT ordinal, file, line::int AS line, sealed FROM quarantined_rows WHERE run_id = $1 ORDER BY ordinal`,
        [runId],
      );
      assert.deepEqual(
        stored.rows.map((r) => [r.ordinal, r.file, r.line]),
        [
          [0, "events.jsonl", 4],
          [1, "events.jsonl", 5],
          [2, "users.csv", 3],
        ],
      );
      for (const r of stored.rows) {
        const sealed = Buffer.from(r.sealed);
        assert.equal(sealed.indexOf("not json"), -1);
        assert.equal(sealed.indexOf("HYPERLINK"), -1);
      }
      const people = await db.query<{ email_hash: string | null; user_id_hash: string | null }>(
        "SELECT email_hash, user_id_hash FROM affected_people WHERE run_id = $1 ORDER BY ordinal",
        [runId],
      );
      const expected = everyone.map((p) => ({
        email_hash: p.email ? personEmailHash(ctx.sealer, p.email) : null,
        user_id_hash: p.user_id ? personUserIdHash(ctx.sealer, p.user_id) : null,
      }));
      assert.deepEqual(people.rows, expected);
      assert.equal(people.rows.filter((p) => p.email_hash).length, 6);
      assert.equal(people.rows.filter((p) => p.user_id_hash).length, 4);
    });

    it("finds one person by email in any case, by user id and by person key", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const find = async (q: string) => {
        const page = await readAffectedPeople(ctx, analyst, incidentId, runId, { q });
        assert.equal(page.total, page.items.length);
        return page.items.map((p) => p.person_key);
      };
      assert.deepEqual(await find("  ALICE@example.COM "), ["user:u1"]);
      assert.deepEqual(await find("bob@example.com"), ["user:u2"], "the store's Bob@Example.com");
      assert.deepEqual(await find("zed@x.example"), ["email:zed@x.example"]);
      assert.deepEqual(await find("u3"), ["user:u3"]);
      assert.deepEqual(await find("user:u4"), ["user:u4"]);
      assert.deepEqual(await find("email:ZED@x.example"), ["email:zed@x.example"]);
      assert.deepEqual(await find("nobody@example.com"), []);
      assert.deepEqual(await find("U3"), [], "user ids are exact");

      const audit = await db.query<{ detail: Record<string, unknown> }>(
        "SELECT detail FROM audit_events WHERE action = 'results.people.read' ORDER BY seq DESC LIMIT 1",
      );
      assert.deepEqual(audit.rows[0]?.detail, { run: runId, offset: 0, count: 0, filter: { search: true } });
    });

    it("filters by country and by category with its sub-categories, counting what it keeps", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      assert.equal(everyone.length, 6);
      const covers = (p: AffectedPerson, c: string) =>
        p.categories.some((k) => k === c || k.startsWith(`${c}.`));
      const cases: PeopleFilter[] = [];
      for (const country of [undefined, "DE", "us", "FR", "unknown", "JP"])
        for (const category of [
          undefined,
          "user",
          "user.device",
          "user.device.ip_address",
          "user.contact",
          "user.financial",
        ])
          cases.push({ country, category });
      cases.push({ q: "alice@example.com", country: "DE" }, { q: "alice@example.com", country: "FR" });
      for (const f of cases) {
        const want = everyone.filter(
          (p) =>
            (f.country === undefined ||
              (f.country === "unknown" ? p.country === null : p.country === f.country.toUpperCase())) &&
            (f.category === undefined || covers(p, f.category)) &&
            (f.q === undefined || p.email === f.q),
        );
        const page = await readAffectedPeople(ctx, analyst, incidentId, runId, { ...f, limit: 1000 });
        const label = JSON.stringify(f);
        assert.deepEqual(page.items, want, label);
        assert.equal(page.total, want.length, label);
        if (want.length > 1) {
          const second = await readAffectedPeople(ctx, analyst, incidentId, runId, {
            ...f,
            offset: 1,
            limit: 1,
          });
          assert.deepEqual(second.items, [want[1]], `${label} offset 1`);
          assert.equal(second.total, want.length);
        }
      }
      const devices = await readAffectedPeople(ctx, analyst, incidentId, runId, { category: "user.device" });
      assert.deepEqual(
        devices.items.map((p) => p.person_key),
        ["user:u1", "user:u2"],
        "u1's IP address is a device category too",
      );
      const audit = await db.query<{ detail: Record<string, unknown> }>(
        "SELECT detail FROM audit_events WHERE action = 'results.people.read' ORDER BY seq DESC LIMIT 1",
      );
      assert.deepEqual(audit.rows[0]?.detail, {
        run: runId,
        offset: 0,
        count: 2,
        filter: { category: "user.device" },
      });
      for (const bad of [{ country: "Germany" }, { category: "User.Name" }]) {
        await assert.rejects(readAffectedPeople(ctx, analyst, incidentId, runId, bad), code("BAD_INPUT"));
      }
    });

    it("reads the quarantined rows a page at a time, opened and audited, as quarantine.jsonl has them", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const { dir } = await cliOutput();
      const fromCli = (await readFile(path.join(dir, "quarantine.jsonl"), "utf8"))
        .split("\n")
        .filter(Boolean)
        .map((l) => {
          const q = JSON.parse(l) as { file: string };
          return { ...q, file: path.basename(q.file) };
        });
      const all = await readQuarantine(ctx, analyst, incidentId, runId);
      assert.deepEqual(all, { items: fromCli, total: 3, offset: 0, limit: 100 });
      assert.equal(all.items[0]?.raw, "not json {");
      assert.equal(all.items[0]?.reason, "not valid JSON");
      const second = await readQuarantine(ctx, analyst, incidentId, runId, { offset: 1, limit: 1 });
      assert.deepEqual(second.items, [fromCli[1]]);
      const audit = await db.query<{ actor: string; detail: Record<string, unknown> }>(
        "SELECT actor, detail FROM audit_events WHERE action = 'results.quarantine.read' ORDER BY seq DESC LIMIT 1",
      );
      assert.deepEqual(audit.rows[0], {
        actor: "user:analyst",
        detail: { run: runId, offset: 1, count: 1 },
      });
      await assert.rejects(readQuarantine(ctx, viewer, incidentId, runId), code("FORBIDDEN"));
    });

    it("downloads each file with what analyze --out writes, in pages, spreadsheet-safe", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const { dir } = await cliOutput();
      for (const name of ["people.csv", "orgs.csv", "admins.csv"] as const) {
        for (const pageSize of [1000, 1]) {
          const file = await downloadResultFile(ctx, analyst, incidentId, runId, name, { pageSize });
          assert.equal(file.fileName, `run-${runId}-${name}`);
          assert.equal(file.contentType, "text/csv; charset=utf-8");
          assert.deepEqual(
            rows(await text(file.body)),
            rows(await readFile(path.join(dir, name), "utf8")),
            `${name} in pages of ${pageSize}`,
          );
        }
      }
      const people = await text(
        (await downloadResultFile(ctx, analyst, incidentId, runId, "people.csv")).body,
      );
      assert.match(
        people,
        /^person_key,user_id,email,name,country,language,categories,matched_by,records,org_ids\n/,
      );
      assert.match(people, /,'=cmd@evil\.example,/, "a formula-like email is neutralised");
      assert.match(people, /,'=Carol,/);
      assert.ok(!/,=/.test(people), "no cell begins with =");
      const orgs = await text((await downloadResultFile(ctx, analyst, incidentId, runId, "orgs.csv")).body);
      assert.match(
        orgs,
        /^org_id,name,affected_members,admin_emails,categories\no1,'=Org One,2,alice@example\.com,/,
      );

      const quarantine = rows(
        await text((await downloadResultFile(ctx, analyst, incidentId, runId, "quarantine.csv")).body),
      );
      const jsonLines = (await readFile(path.join(dir, "quarantine.jsonl"), "utf8"))
        .split("\n")
        .filter(Boolean);
      assert.deepEqual(quarantine[0], ["file", "line", "row", "reason", "raw"]);
      assert.deepEqual(
        quarantine.slice(1),
        jsonLines.map((l) => {
          const q = JSON.parse(l) as {
            file: string;
            line: number | null;
            row: number | null;
            reason: string;
            raw: string;
          };
          const cell = (v: string) => (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v);
          return [
            path.basename(q.file),
            q.line === null ? "" : String(q.line),
            q.row === null ? "" : String(q.row),
            q.reason,
            cell(q.raw),
          ];
        }),
      );

      const summary = JSON.parse(
        await text((await downloadResultFile(ctx, analyst, incidentId, runId, "summary.json")).body),
      ) as Summary;
      const stored = await db.query<{ summary: Summary }>("SELECT summary FROM analysis_runs WHERE id = $1", [
        runId,
      ]);
      assert.deepEqual(summary, stored.rows[0]?.summary);
      assert.deepEqual(
        summary.files.map((f) => f.file),
        ["events.jsonl", "users.csv"],
      );
      const obligations = await downloadResultFile(ctx, analyst, incidentId, runId, "obligations.json");
      assert.equal(obligations.contentType, "application/json; charset=utf-8");
      assert.deepEqual(
        JSON.parse(await text(obligations.body)),
        JSON.parse(JSON.stringify(await getRunObligations(ctx, analyst, incidentId, runId))),
      );

      const audit = await db.query<{ detail: { file: string } }>(
        "SELECT detail FROM audit_events WHERE action = 'results.file.download' AND detail->>'run' = $1 ORDER BY seq",
        [runId],
      );
      assert.deepEqual([...new Set(audit.rows.map((r) => r.detail.file))].sort(), [...RESULT_FILES].sort());
    });

    it("answers NOT_FOUND for an unknown file, a run without results, and viewers FORBIDDEN", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      await assert.rejects(
        downloadResultFile(ctx, analyst, incidentId, runId, "../../etc/passwd"),
        (e: unknown) => code("NOT_FOUND")(e) && /people\.csv, orgs\.csv/.test((e as Error).message),
      );
      const queued = (await startAnalysis(ctx, systemActor, incidentId)).id;
      await assert.rejects(
        downloadResultFile(ctx, analyst, incidentId, queued, "people.csv"),
        (e: unknown) => code("NOT_FOUND")(e) && /is queued/.test((e as Error).message),
      );
      await db.query("DELETE FROM analysis_runs WHERE id = $1", [queued]);
      await assert.rejects(
        downloadResultFile(ctx, viewer, incidentId, runId, "summary.json"),
        code("FORBIDDEN"),
      );
    });

    it("a purge ends a download in progress with an error, and removes the quarantined rows", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const file = await downloadResultFile(ctx, analyst, incidentId, runId, "people.csv", { pageSize: 2 });
      const chunks = file.body[Symbol.asyncIterator]();
      assert.match(String((await chunks.next()).value), /^person_key,/);
      await purgeIncidentData(ctx, systemActor, incidentId, "requested");
      await assert.rejects(
        (async () => {
          for (;;) if ((await chunks.next()).done) return;
        })(),
        (e: unknown) => code("CONFLICT")(e) && /2 of 6 rows/.test((e as Error).message),
      );
      const left = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM quarantined_rows WHERE run_id = $1",
        [runId],
      );
      assert.equal(left.rows[0]?.n, 0);
      await assert.rejects(
        downloadResultFile(ctx, analyst, incidentId, runId, "people.csv"),
        (e: unknown) => code("NOT_FOUND")(e) && /purged/.test((e as Error).message),
      );
      await assert.rejects(readQuarantine(ctx, analyst, incidentId, runId), code("CONFLICT"));
      const summary = await downloadResultFile(ctx, analyst, incidentId, runId, "summary.json");
      assert.equal((JSON.parse(await text(summary.body)) as Summary).affected_people, 6, "counts stay");
    });
  });
}
