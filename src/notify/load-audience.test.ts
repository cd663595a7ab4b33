import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { openContext } from "../app/open-context.ts";
import { systemActor } from "../auth/roles.ts";
import { loadConfig } from "../config/env.ts";
import { uploadDataset } from "../datasets/manage-datasets.ts";
import { analyzeIncident } from "../impact/analyze-incident.ts";
import {
  ANALYSIS_JOB,
  analysisJobHandler,
  getRun,
  readAffectedOrgs,
  sealedOrg,
  startAnalysis,
} from "../impact/incident-analysis.ts";
import { createIncident } from "../incidents/manage-incidents.ts";
import { startWorker } from "../jobs/run-worker.ts";
import { AppError } from "../lib/errors.ts";
import { event, identities, jsonl, put, tempDir, testConfig } from "../lib/test-fixtures.ts";
import {
  type AudienceFilter,
  describeFilter,
  parseAudience,
  readAnalysisAudience,
  readRunAudience,
} from "./load-audience.ts";
import type { Audience, Recipient } from "./notice-types.ts";

/**
 * u1 and u6 share an email (written differently), u3's name and o1's name look like formulas, u4
 * administers two affected orgs without being affected, u5 is affected with no email, o3 is not
 * affected, and zed@x.com is a person of the dataset only.
 */
const IDS = {
  users:
    "user_id,email,name,country,language\n" +
    "u1,alice@example.com,Alice,DE,de\n" +
    "u2,Bob@Example.com,Bob,,en\n" +
    "u3,carol@example.com,=Carol,FR,fr\n" +
    "u4,dave@example.com,Dave,FR,fr\n" +
    "u5,,Eve,,\n" +
    "u6, ALICE@example.com ,,,\n" +
    "u8,hal@example.com,Hal,US,en\n",
  orgs: "org_id,name\no1,=Org One\no2,Org Two\no3,Org Three\n",
  memberships:
    "org_id,user_id,role\n" +
    "o1,u1,owner\no1,u2,member\no1,u4,admin\no1,u5,admin\n" +
    "o2,u4,owner\no2,u3,member\n" +
    "o3,u8,owner\n",
};

const EVENTS = jsonl(
  event({ distinct_id: "u1", $email: "alice@example.com" }),
  event({ distinct_id: "u2", $os: "Linux" }),
  event({ distinct_id: "u3", $city: "Paris" }),
  event({ distinct_id: "u5" }),
  event({ distinct_id: "u6", $phone: "+33 1 23" }),
  event({ distinct_id: "stranger", $email: "zed@x.com" }),
);

const O1 = {
  org_id: "o1",
  name: "=Org One",
  affected_members: 3,
  categories: ["user.behavior", "user.contact.email", "user.device", "user.unique_id"],
};
const O2 = {
  org_id: "o2",
  name: "Org Two",
  affected_members: 1,
  categories: ["user.behavior", "user.location.coarse", "user.unique_id"],
};

const ALICE: Recipient = {
  email: "alice@example.com",
  name: "Alice",
  locale: "de",
  country: "DE",
  categories: ["user.behavior", "user.contact.email", "user.contact.phone_number", "user.unique_id"],
  orgs: [],
};
const BOB: Recipient = {
  email: "bob@example.com",
  name: "Bob",
  locale: "en",
  country: null,
  categories: ["user.behavior", "user.device", "user.unique_id"],
  orgs: [],
};
const CAROL: Recipient = {
  email: "carol@example.com",
  name: "=Carol",
  locale: "fr",
  country: "FR",
  categories: ["user.behavior", "user.location.coarse", "user.unique_id"],
  orgs: [],
};
const ZED: Recipient = {
  email: "zed@x.com",
  name: null,
  locale: null,
  country: null,
  categories: ["user.behavior", "user.contact.email", "user.unique_id"],
  orgs: [],
};
const ALICE_ADMIN: Recipient = {
  email: "alice@example.com",
  name: "Alice",
  locale: "de",
  country: "DE",
  categories: O1.categories,
  orgs: [O1],
};
const DAVE_ADMIN: Recipient = {
  email: "dave@example.com",
  name: "Dave",
  locale: "fr",
  country: "FR",
  categories: [...new Set([...O1.categories, ...O2.categories])].sort(),
  orgs: [O1, O2],
};

const CASES: { audience: Audience; filter: AudienceFilter; want: Recipient[] }[] = [
  { audience: "users", filter: {}, want: [ALICE, BOB, CAROL, ZED] },
  { audience: "users", filter: { countries: ["de"] }, want: [ALICE] },
  { audience: "users", filter: { countries: ["unknown", "FR"] }, want: [BOB, CAROL, ZED] },
  { audience: "users", filter: { categories: ["user.contact"] }, want: [ALICE, ZED] },
  {
    audience: "users",
    filter: { categories: ["user.device.ip_address", "user.location.coarse"] },
    want: [CAROL],
  },
  { audience: "users", filter: { orgs: ["o1"] }, want: [ALICE, BOB] },
  { audience: "users", filter: { orgs: ["o2", "o3"] }, want: [CAROL] },
  { audience: "users", filter: { countries: ["unknown"], categories: ["user.contact"] }, want: [ZED] },
  { audience: "users", filter: { countries: [], categories: [], orgs: [] }, want: [ALICE, BOB, CAROL, ZED] },
  { audience: "admins", filter: {}, want: [ALICE_ADMIN, DAVE_ADMIN] },
  { audience: "admins", filter: { countries: ["fr"] }, want: [DAVE_ADMIN] },
  { audience: "admins", filter: { categories: ["user.location"] }, want: [DAVE_ADMIN] },
  {
    audience: "admins",
    filter: { orgs: ["o2"] },
    want: [{ ...DAVE_ADMIN, orgs: [O2], categories: O2.categories }],
  },
  // Narrowed to o2, Dave's categories no longer include user.device.
  { audience: "admins", filter: { orgs: ["o2"], categories: ["user.device"] }, want: [] },
  { audience: "admins", filter: { orgs: ["o3"] }, want: [] },
];

async function collect(batches: AsyncGenerator<Recipient[]>): Promise<Recipient[][]> {
  const all: Recipient[][] = [];
  for await (const b of batches) all.push(b);
  return all;
}

const label = (c: (typeof CASES)[number]) =>
  `${c.audience} with ${describeFilter(c.filter)}${Object.keys(c.filter).length > 0 && describeFilter(c.filter) === "no filter" ? " (empty lists)" : ""}`;

let fixtureDir: string;
let outDir: string;

async function analysisFolder(): Promise<string> {
  fixtureDir = await tempDir();
  const data = await put(fixtureDir, "e.jsonl", EVENTS);
  const out = path.join(fixtureDir, "out");
  await analyzeIncident(testConfig, {
    datasets: [data],
    identitiesDir: await identities(fixtureDir, IDS),
    outDir: out,
  });
  return out;
}

describe("readAnalysisAudience", () => {
  before(async () => {
    outDir = await analysisFolder();
  });

  for (const c of CASES) {
    it(`reads ${label(c)}`, async () => {
      const batches = await collect(readAnalysisAudience(outDir, c.audience, c.filter, 1000, testConfig));
      assert.deepEqual(batches.flat(), c.want);
      assert.ok(batches.every((b) => b.length > 0));
    });
  }

  it("yields batches of the size asked for, the last one holding the rest", async () => {
    const sizes = async (n: number) =>
      (await collect(readAnalysisAudience(outDir, "users", {}, n, testConfig))).map((b) => b.length);
    assert.deepEqual(await sizes(1), [1, 1, 1, 1]);
    assert.deepEqual(await sizes(3), [3, 1]);
    assert.deepEqual(await sizes(4), [4]);
    await assert.rejects(collect(readAnalysisAudience(outDir, "users", {}, 0, testConfig)), /batch size/);
  });

  it("undoes the spreadsheet neutraliser only where the analysis added it", async () => {
    const dir = await tempDir();
    await put(
      dir,
      "people.csv",
      "person_key,user_id,email,name,country,language,categories,matched_by,records,org_ids\n" +
        "user:a,a,a@x.com,'=SUM(A1),DE,'@de,user.name,user_id,1,'-o1;o2\n" +
        "user:b,b,b@x.com,'plain,,,user.name,user_id,1,\n" +
        `user:c,c,c@x.com,"'\tTab",,,user.name,user_id,1,\n` +
        "user:d,d,d@x.com,'+31 20,,,user.name,user_id,1,\n" +
        "user:e,e,,No Email,,,user.name,user_id,1,\n",
    );
    const got = (await collect(readAnalysisAudience(dir, "users", {}, 10, testConfig))).flat();
    assert.deepEqual(
      got.map((r) => [r.email, r.name, r.locale]),
      [
        ["a@x.com", "=SUM(A1)", "@de"],
        ["b@x.com", "'plain", null],
        ["c@x.com", "\tTab", null],
        ["d@x.com", "+31 20", null],
      ],
    );
    const inO1 = await collect(readAnalysisAudience(dir, "users", { orgs: ["-o1"] }, 10, testConfig));
    assert.deepEqual(
      inO1.flat().map((r) => r.email),
      ["a@x.com"],
    );
  });

  it("merges rows that share an email, whatever their case and spaces", async () => {
    const [alice] = (
      await collect(readAnalysisAudience(outDir, "users", { countries: ["DE"] }, 10, testConfig))
    ).flat();
    assert.equal(alice?.name, "Alice", "the first non-empty name, in person_key order");
    assert.ok(alice?.categories.includes("user.contact.phone_number"), "u6's categories count too");
  });

  it("says to re-run analyze when the folder has no admins.csv, and names missing files and columns", async () => {
    const dir = await tempDir();
    await put(dir, "orgs.csv", "org_id,name,affected_members,admin_emails\no1,One,1,a@x.com\n");
    await put(
      dir,
      "people.csv",
      "person_key,user_id,email,name,country,language,categories,matched_by,records\n",
    );
    await assert.rejects(
      collect(readAnalysisAudience(dir, "admins", {}, 10, testConfig)),
      (e: unknown) =>
        e instanceof AppError &&
        e.code === "BAD_INPUT" &&
        /admins\.csv/.test(e.message) &&
        /re-run `blastradius analyze`/.test(e.message),
    );
    // An older people.csv still serves users, but cannot say who is in which org.
    assert.deepEqual(await collect(readAnalysisAudience(dir, "users", {}, 10, testConfig)), []);
    await assert.rejects(
      collect(readAnalysisAudience(dir, "users", { orgs: ["o1"] }, 10, testConfig)),
      (e: unknown) =>
        e instanceof AppError &&
        e.code === "BAD_INPUT" &&
        /people\.csv: missing column org_ids/.test(e.message),
    );
    await put(dir, "people.csv", "person_key,email,name\nuser:a,a@x.com,A\n");
    await assert.rejects(
      collect(readAnalysisAudience(dir, "users", {}, 10, testConfig)),
      /people\.csv: missing columns country, language, categories/,
    );
    await assert.rejects(
      collect(readAnalysisAudience(path.join(dir, "nope"), "users", {}, 10, testConfig)),
      (e: unknown) =>
        e instanceof AppError && e.code === "BAD_INPUT" && /nope: no such folder/.test(e.message),
    );
    const empty = path.join(dir, "empty");
    await mkdir(empty);
    await assert.rejects(
      collect(readAnalysisAudience(empty, "users", {}, 10, testConfig)),
      (e: unknown) =>
        e instanceof AppError && e.code === "BAD_INPUT" && /people\.csv: not found/.test(e.message),
    );
  });
});

describe("parseAudience and describeFilter", () => {
  it("accepts the audiences and names the flag and the choices otherwise", () => {
    assert.equal(parseAudience("users", "--audience"), "users");
    assert.equal(parseAudience(" Admins ", "--audience"), "admins");
    for (const bad of [undefined, "", "everyone"]) {
      assert.throws(
        () => parseAudience(bad, "--audience"),
        (e: unknown) =>
          e instanceof AppError &&
          e.code === "USAGE" &&
          e.message.startsWith("--audience:") &&
          e.message.includes("users, admins"),
      );
    }
  });

  it("says what a filter keeps", () => {
    assert.equal(
      describeFilter({ countries: ["DE", "FR"], categories: ["user.name"] }),
      "country DE, FR; category user.name",
    );
    assert.equal(describeFilter({ orgs: ["o1"] }), "org o1");
    assert.equal(describeFilter({}), "no filter");
  });
});

describe("readRunAudience (PGlite)", { timeout: 120_000 }, () => {
  let ctx: Awaited<ReturnType<typeof openContext>>;
  let incidentId: string;
  let runId: string;

  before(async () => {
    outDir ??= await analysisFolder();
    const dir = await tempDir("blastradius-audience-");
    const ids = await identities(dir, IDS);
    ctx = await openContext(
      loadConfig({
        BLASTRADIUS_DATA: dir,
        BLASTRADIUS_IDENTITIES: ids,
        BLASTRADIUS_MEMORY_LIMIT: "1GB",
        BLASTRADIUS_THREADS: "2",
      }),
    );
    incidentId = (await createIncident(ctx, systemActor, { title: "vendor breach" })).id;
    await uploadDataset(ctx, systemActor, incidentId, {
      fileName: "e.jsonl",
      content: Readable.from([EVENTS]),
    });
    runId = (await startAnalysis(ctx, systemActor, incidentId)).id;
    const worker = startWorker({
      db: ctx.db,
      handlers: { [ANALYSIS_JOB]: analysisJobHandler(ctx) },
      pollMs: 20,
      log: () => {},
    });
    await worker.idle();
    await worker.stop();
    assert.equal((await getRun(ctx, systemActor, incidentId, runId)).status, "succeeded");
  });
  after(async () => ctx?.close());

  for (const c of CASES) {
    it(`reads ${label(c)}, as from the folder`, async () => {
      const batches = await collect(readRunAudience(ctx, runId, c.audience, c.filter));
      assert.deepEqual(batches.flat(), c.want);
    });
  }

  it("yields batches of the size asked for", async () => {
    const sizes = (await collect(readRunAudience(ctx, runId, "users", {}, 3))).map((b) => b.length);
    assert.deepEqual(sizes, [3, 1]);
  });

  it("stores each org's categories and admins", async () => {
    const page = await readAffectedOrgs(ctx, systemActor, incidentId, runId);
    assert.deepEqual(
      page.items.map((o) => [o.org_id, o.categories, o.admins.map((a) => [a.user_id, a.email, a.role])]),
      [
        [
          "o1",
          O1.categories,
          [
            ["u1", "alice@example.com", "owner"],
            ["u4", "dave@example.com", "admin"],
          ],
        ],
        ["o2", O2.categories, [["u4", "dave@example.com", "owner"]]],
      ],
    );
    assert.deepEqual(page.items[0]?.admins[0], {
      user_id: "u1",
      email: "alice@example.com",
      name: "Alice",
      language: "de",
      country: "DE",
      role: "owner",
    });
  });

  it("reads orgs stored by an older version: admins from admin_emails, no categories", async () => {
    const old = { name: "=Org One", admin_emails: ["alice@example.com", "Dave@example.com"] };
    assert.deepEqual(sealedOrg(old).admins[1], {
      user_id: null,
      email: "Dave@example.com",
      name: null,
      language: null,
      country: null,
      role: null,
    });
    const r = await ctx.db.query<{ sealed: Uint8Array }>(
      "SELECT sealed FROM affected_orgs WHERE run_id = $1 AND org_id = 'o1'",
      [runId],
    );
    const current = r.rows[0]?.sealed as Uint8Array;
    await ctx.db.query("UPDATE affected_orgs SET sealed = $2 WHERE run_id = $1 AND org_id = 'o1'", [
      runId,
      ctx.sealer.seal(JSON.stringify(old)),
    ]);
    try {
      const admins = (await collect(readRunAudience(ctx, runId, "admins", { orgs: ["o1"] }))).flat();
      assert.deepEqual(admins, [
        {
          email: "alice@example.com",
          name: null,
          locale: null,
          country: null,
          categories: [],
          orgs: [{ ...O1, categories: [] }],
        },
        {
          email: "dave@example.com",
          name: null,
          locale: null,
          country: null,
          categories: [],
          orgs: [{ ...O1, categories: [] }],
        },
      ]);
    } finally {
      await ctx.db.query("UPDATE affected_orgs SET sealed = $2 WHERE run_id = $1 AND org_id = 'o1'", [
        runId,
        Buffer.from(current),
      ]);
    }
  });

  it("refuses a run that does not exist", async () => {
    await assert.rejects(
      collect(readRunAudience(ctx, "00000000-0000-4000-8000-000000000000", "users")),
      (e: unknown) => e instanceof AppError && e.code === "NOT_FOUND",
    );
  });
});
