import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { parse as parseCsv } from "csv-parse/sync";
import { AppError } from "../lib/errors.ts";
import { event, identities, jsonl, profile, put, tempDir, testConfig } from "../lib/test-fixtures.ts";
import { analyzeIncident } from "./analyze-incident.ts";

type Row = Record<string, string>;

async function analyze(files: Record<string, string | Buffer>, ids?: Parameters<typeof identities>[1]) {
  const dir = await tempDir();
  const datasets: string[] = [];
  for (const [name, content] of Object.entries(files)) {
    datasets.push(await put(dir, name.replace(/\.gz$/, ""), content, name.endsWith(".gz")));
  }
  const out = path.join(dir, "out");
  const summary = await analyzeIncident(testConfig, {
    datasets,
    identitiesDir: await identities(dir, ids),
    outDir: out,
  });
  const csv = async (name: string) =>
    parseCsv(await readFile(path.join(out, name), "utf8"), { columns: true, bom: true }) as Row[];
  const quarantine = (await readFile(path.join(out, "quarantine.jsonl"), "utf8"))
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { file: string; line: number | null; row: number | null; reason: string });
  const people = await csv("people.csv");
  const byKey = new Map(people.map((p) => [p.person_key, p]));
  return { summary, people, byKey, orgs: await csv("orgs.csv"), quarantine, dir, datasets };
}

function assertReconciles(summary: Awaited<ReturnType<typeof analyze>>["summary"]) {
  assert.equal(summary.rows.read, summary.rows.used + summary.rows.quarantined);
  assert.equal(summary.affected_people, summary.subjects.matched + summary.subjects.unmatched_with_email);
}

describe("analyze: matching rules", () => {
  it("resolves by $user_id, then distinct id, then email, and the id wins a conflict", async () => {
    const r = await analyze({
      "events.jsonl": jsonl(
        event({ distinct_id: "x1", $user_id: "u1" }),
        event({ distinct_id: "u2" }),
        event({ distinct_id: "opaque", $email: "  CAROL@example.COM " }),
      ),
      "profiles.jsonl": jsonl(profile("u1", { $email: "carol@example.com", $name: "Mallory" })),
    });
    assert.equal(r.byKey.get("user:u1")?.matched_by, "user_id");
    assert.equal(r.byKey.get("user:u2")?.matched_by, "distinct_id");
    assert.equal(r.byKey.get("user:u3")?.matched_by, "email");
    assert.equal(r.summary.conflicts, 1);
    // The conflicting profile belongs to u1 (its id), so u1 is exposed by email and name, u3 by email only.
    assert.equal(
      r.byKey.get("user:u1")?.categories,
      "user.behavior;user.contact.email;user.name;user.unique_id",
    );
    assert.equal(r.byKey.get("user:u1")?.records, "2");
    assert.equal(r.byKey.get("user:u1")?.name, "Alice", "a matched user's name comes from the store");
    assert.equal(r.byKey.get("user:u2")?.email, "Bob@Example.com", "the store's email as written");
    assert.equal(r.summary.subjects.matched, 3);
    assertReconciles(r.summary);
  });

  it("stitches devices seen with exactly one user, and not devices shared by two", async () => {
    const r = await analyze({
      "e.jsonl": jsonl(
        event({ distinct_id: "u1", $user_id: "u1", $device_id: "d1" }),
        event({ distinct_id: "$device:d1", $device_id: "d1", $referrer: "https://search.example/?q=x" }),
        event({ distinct_id: "$device:d1", $current_url: "https://app.example/billing" }),
        event({ distinct_id: "u2", $device_id: "shared" }),
        event({ distinct_id: "u3", $device_id: "shared" }),
        event({ distinct_id: "$device:shared", $os: "Linux" }),
        event({ distinct_id: "$device:lonely", $city: "Lyon" }),
      ),
    });
    const u1 = r.byKey.get("user:u1");
    assert.equal(u1?.records, "3");
    assert.equal(u1?.matched_by, "user_id");
    assert.match(u1?.categories ?? "", /user\.behavior\.browsing_history/);
    assert.match(u1?.categories ?? "", /user\.device\.device_id/);
    assert.doesNotMatch(r.byKey.get("user:u2")?.categories ?? "", /user\.device;/);
    assert.equal(r.summary.subjects.anonymous, 2, "$device:shared and $device:lonely");
    assert.equal(r.summary.affected_people, 3);
  });

  it("a user matched only through a device says so", async () => {
    const r = await analyze({
      "p.jsonl": jsonl(profile("p-9", { $email: "bob@example.com", $device_id: "d7" })),
      "e.jsonl": jsonl(
        event({ distinct_id: "$device:d7", $os: "Mac" }),
        event({ distinct_id: "$device:d8", $device_id: "d8" }),
      ),
      "e2.jsonl": jsonl(
        event({ distinct_id: "other", $device_id: "d8" }),
        event({ distinct_id: "u3", $device_id: "d8" }),
      ),
    });
    assert.equal(r.byKey.get("user:u2")?.matched_by, "email");
    assert.equal(r.byKey.get("user:u2")?.records, "2");
    assert.equal(r.byKey.get("user:u3")?.records, "3");
    assert.equal(r.byKey.get("user:u3")?.matched_by, "distinct_id");
    assert.equal(r.summary.subjects.anonymous, 0);
  });

  it("groups unresolved records by distinct id and merges groups that share an email", async () => {
    const r = await analyze({
      "e.jsonl": jsonl(
        event({ distinct_id: "g1", $email: "gone@x.com", mp_country_code: "br" }),
        event({ distinct_id: "g1", $city: "Recife", mp_country_code: "BR" }),
        event({ distinct_id: "g2", $email: "GONE@x.com ", mp_country_code: "PT" }),
        event({ distinct_id: "g2", $email: "other@x.com", mp_country_code: "PT" }),
        event({ distinct_id: "g3", $email: "other@x.com", $name: "Gone Person" }),
        event({ distinct_id: "anon" }),
      ),
    });
    assert.equal(r.summary.subjects.unmatched_with_email, 1, "g1, g2 and g3 are linked by emails");
    assert.equal(r.summary.subjects.anonymous, 1);
    const p = r.byKey.get("email:gone@x.com");
    assert.ok(p, "keyed by the smallest email");
    assert.equal(p.records, "5");
    assert.equal(p.matched_by, "dataset_email");
    assert.equal(p.user_id, "");
    assert.equal(p.name, "Gone Person");
    assert.equal(p.country, "BR", "BR 2, PT 2: the tie goes to the alphabetically first");
    assert.deepEqual(r.summary.by_country, { BR: 1 });
  });

  it("takes the store's country first, else the most frequent in the records", async () => {
    const r = await analyze(
      {
        "e.jsonl": jsonl(
          event({ distinct_id: "u1", mp_country_code: "US" }),
          event({ distinct_id: "u2", $country_code: "JP" }),
          event({ distinct_id: "u2", mp_country_code: "GB" }),
          event({ distinct_id: "u2", mp_country_code: "GB" }),
          event({ distinct_id: "u3" }),
        ),
        "p.jsonl": jsonl(profile("u3", { country: "ES" })),
      },
      {
        users: "user_id,email,country,language\nu1,a@x.com,DE,de\nu2,b@x.com,,en\nu3,c@x.com,,\n",
      },
    );
    assert.equal(r.byKey.get("user:u1")?.country, "DE");
    assert.equal(r.byKey.get("user:u2")?.country, "GB");
    assert.equal(r.byKey.get("user:u3")?.country, "ES");
    assert.equal(r.byKey.get("user:u1")?.language, "de");
    assert.deepEqual(r.summary.by_country, { DE: 1, ES: 1, GB: 1 });
  });

  it("reports people per state or province where the dataset gives it", async () => {
    const r = await analyze(
      {
        "e.jsonl": jsonl(
          event({ distinct_id: "u1", $region: "California" }),
          event({ distinct_id: "u1", $region: "California" }),
          event({ distinct_id: "u1", $region: "Nevada" }),
          event({ distinct_id: "u2" }),
          event({ distinct_id: "u3", $region: "Bavaria" }),
        ),
      },
      { users: "user_id,email,country\nu1,a@x.com,US\nu2,b@x.com,US\nu3,c@x.com,DE\n" },
    );
    assert.deepEqual(r.summary.by_region, { DE: { Bavaria: 1 }, US: { California: 1, unknown: 1 } });
    assert.deepEqual(r.summary.by_country_category.DE, {
      "user.behavior": 1,
      "user.location.coarse": 1,
      "user.unique_id": 1,
    });
  });

  it("finds affected organisations and every owner and admin to notify", async () => {
    const r = await analyze(
      { "e.jsonl": jsonl(event({ distinct_id: "u2" }), event({ distinct_id: "$device:zz", org_id: "o3" })) },
      {
        users: "user_id,email\nu1,a@x.com\nu2,b@x.com\nu3,c@x.com\nu4,d@x.com\n",
        orgs: "org_id,name\no1,One\no2,Two\no3,Three\no4,Four\n",
        memberships:
          "org_id,user_id,role\no1,u1,owner\no1,u2,member\no1,u4,ADMIN\no3,u3,owner\no4,u1,owner\n",
      },
    );
    assert.equal(r.summary.affected_orgs, 2);
    assert.deepEqual(
      r.orgs.map((o) => [o.org_id, o.affected_members, o.admin_emails]),
      [
        ["o1", "1", "a@x.com;d@x.com"],
        ["o3", "0", "c@x.com"],
      ],
    );
    assert.equal(r.summary.admins_to_notify, 3);
  });

  it("lists each affected org's categories, each person's orgs, and every admin per org", async () => {
    const r = await analyze(
      {
        "e.jsonl": jsonl(
          event({ distinct_id: "u2", $email: "b@x.com" }),
          event({ distinct_id: "u3", $os: "Linux" }),
          event({ distinct_id: "stranger", $email: "new@x.com" }),
        ),
      },
      {
        users:
          "user_id,email,name,country,language\nu1,a@x.com,Alice,DE,de\nu2,b@x.com,Bob,,\nu3,c@x.com,Carol,FR,fr\nu4,d@x.com,=Dora,FR,fr\nu5,,Eve,,\n",
        orgs: "org_id,name\no1,One\no2,Two\no3,Three\n",
        memberships:
          "org_id,user_id,role\no1,u1,owner\no1,u2,member\no1,u4,admin\no1,u5,admin\no2,u4,owner\no2,u4,admin\no2,u3,member\no2,u2,reader\no3,u1,owner\n",
      },
    );
    const header = async (name: string) =>
      (await readFile(path.join(r.dir, "out", name), "utf8")).split("\n")[0];
    assert.equal(
      await header("people.csv"),
      "person_key,user_id,email,name,country,language,categories,matched_by,records,org_ids",
    );
    assert.equal(await header("orgs.csv"), "org_id,name,affected_members,admin_emails,categories");
    assert.equal(await header("admins.csv"), "org_id,user_id,email,name,language,country,role");
    assert.deepEqual(
      r.orgs.map((o) => [o.org_id, o.affected_members, o.categories]),
      [
        ["o1", "1", "user.behavior;user.contact.email;user.unique_id"],
        ["o2", "2", "user.behavior;user.contact.email;user.device;user.unique_id"],
      ],
    );
    assert.equal(r.byKey.get("user:u2")?.org_ids, "o1;o2");
    assert.equal(r.byKey.get("user:u3")?.org_ids, "o2");
    assert.equal(r.byKey.get("email:new@x.com")?.org_ids, "", "an unmatched person is in no org");
    const admins = parseCsv(await readFile(path.join(r.dir, "out", "admins.csv"), "utf8"), {
      columns: true,
    }) as Row[];
    // u2 is a member (not listed), u5 has no email, o3 is not affected; u4 is listed for both orgs,
    // once per org although o2 gives it two roles, and its name is neutralised for spreadsheets.
    assert.deepEqual(
      admins.map((a) => [a.org_id, a.user_id, a.email, a.name, a.language, a.country, a.role]),
      [
        ["o1", "u1", "a@x.com", "Alice", "de", "DE", "owner"],
        ["o1", "u4", "d@x.com", "'=Dora", "fr", "FR", "admin"],
        ["o2", "u4", "d@x.com", "'=Dora", "fr", "FR", "owner"],
      ],
    );
  });

  it("counts a member once when a membership repeats, and takes any admin role it has", async () => {
    const r = await analyze(
      { "e.jsonl": jsonl(event({ distinct_id: "u2" })) },
      { memberships: "org_id,user_id,role\no1,u1,owner\no1,u2,member\no1,u2,admin\no1,u2,member\n" },
    );
    assert.deepEqual(
      r.orgs.map((o) => [o.org_id, o.affected_members, o.admin_emails]),
      [["o1", "1", "Bob@Example.com;alice@example.com"]],
    );
    assert.equal(r.summary.admins_to_notify, 2);
  });

  it("counts a category only where its value is present and non-empty", async () => {
    const r = await analyze({
      "e.jsonl": jsonl(
        event({ distinct_id: "u1", $email: "  ", $os: "", $browser: null, $city: [], $ip: "10.0.0.1" }),
      ),
    });
    assert.equal(r.byKey.get("user:u1")?.categories, "user.behavior;user.device.ip_address;user.unique_id");
    assert.deepEqual(Object.keys(r.summary.by_category).sort(), [
      "user.behavior",
      "user.device.ip_address",
      "user.unique_id",
    ]);
  });

  it("lists unmapped fields with how many rows carry them", async () => {
    const r = await analyze({
      "e.jsonl": jsonl(
        event({ distinct_id: "u1", $insert_id: "a", mp_lib: "web" }),
        event({ distinct_id: "u1", mp_lib: "web" }),
      ),
      "p.jsonl": jsonl(profile("u2", { $last_seen: "2025-11-01" })),
    });
    assert.deepEqual(r.summary.unmapped_fields, { $insert_id: 1, $last_seen: 1, mp_lib: 2 });
  });
});

describe("analyze: formats", () => {
  it("reads generic CSV with a BOM, CRLF, semicolons and quoted fields", async () => {
    const csv =
      '\ufeffemail;name;plan\r\n"alice@example.com";"Smith; Alice";pro\r\n"new@x.com";"Line\r\nbreak";free\r\n';
    const r = await analyze({ "people.csv": csv });
    assert.equal(r.summary.rows.read, 2);
    assert.equal(r.byKey.get("user:u1")?.categories, "user.contact.email;user.name");
    assert.equal(r.byKey.get("email:new@x.com")?.name, "Line\r\nbreak");
    assert.deepEqual(r.summary.unmapped_fields, { plan: 2 });
  });

  it("reads JSON arrays, engage pages, Parquet and gzip, and the results agree", async () => {
    const records = [
      { distinct_id: "u1", $os: "Mac" },
      { email: "bob@example.com", $city: "Paris" },
    ];
    const base = await analyze({ "a.jsonl": jsonl(...records) });
    const arr = await analyze({ "a.json.gz": JSON.stringify(records, null, 2) });
    const page = await analyze({
      "p.json": JSON.stringify({
        page: 0,
        results: [
          profile("u1", { $os: "Mac" }),
          profile("zz", { $email: "bob@example.com", $city: "Paris" }),
        ],
      }),
    });
    const dir = await tempDir();
    const pq = path.join(dir, "x.parquet");
    const { openDuckDb } = await import("../lib/duckdb.ts");
    const db = await openDuckDb(testConfig);
    await db.sql.run(
      `COPY (SELECT * FROM (VALUES ('u1', 'Mac', NULL, NULL), (NULL, NULL, 'bob@example.com', 'Paris')) t(distinct_id, "$os", email, "$city")) TO '${pq}' (FORMAT parquet)`,
    );
    db.close();
    const parquet = await analyze({ "x.parquet": await readFile(pq) });
    for (const r of [arr, page, parquet]) {
      assert.deepEqual(
        r.people.map((p) => [
          p.person_key,
          (p.categories ?? "").replace("user.unique_id", "").replace(/;$/, ""),
        ]),
        base.people.map((p) => [
          p.person_key,
          (p.categories ?? "").replace("user.unique_id", "").replace(/;$/, ""),
        ]),
      );
    }
  });

  it("reads several engage pages that follow each other in one file", async () => {
    const page = (n: number, results: unknown[]) => JSON.stringify({ page: n, results, status: "ok" });
    const r = await analyze({
      "pages.json": `${page(0, [profile("u1", { $email: "alice@example.com" })])}\n${page(1, [profile("zz", { $email: "new@x.com" })])}\n`,
    });
    assert.deepEqual([...r.byKey.keys()], ["email:new@x.com", "user:u1"]);
    assert.equal(r.summary.files[0]?.format, "Mixpanel engage API page JSON");
  });

  it("an empty dataset file is read as zero rows, not an error", async () => {
    const r = await analyze({ "empty.jsonl": "", "e.jsonl": jsonl(event({ distinct_id: "u1" })) });
    assert.equal(r.summary.rows.read, 1);
    assert.equal(r.summary.files[0]?.read, 0);
  });
});

describe("analyze: bad and hostile input", () => {
  it("quarantines every unusable line with its line number and reason, and counts reconcile", async () => {
    const good = JSON.stringify(event({ distinct_id: "u1" }));
    const lines = [
      good, // 1
      "", // 2: blank lines are not rows
      '{"event": "x", "properties": {"distinct_id": "u2"', // 3 truncated
      "42", // 4 not an object
      JSON.stringify(event({})), // 5 no identifier
      Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString("latin1"), // 6 (rewritten below as raw bytes)
      JSON.stringify(event({ distinct_id: { nested: true } })), // 7 wrong type for an id
      JSON.stringify({ event: "x", properties: "not an object" }), // 8
      JSON.stringify(event({ distinct_id: "u3", $name: "x".repeat(3_000_000) })), // 9 several MB, fine
      good, // 10
    ];
    const content = Buffer.concat(
      lines.map((l, i) =>
        Buffer.concat([i === 5 ? Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) : Buffer.from(l), Buffer.from("\n")]),
      ),
    );
    const r = await analyze({ "e.jsonl": content });
    assert.deepEqual(
      r.quarantine.map((q) => [q.line, q.reason]),
      [
        [3, "not valid JSON"],
        [4, "not a JSON object"],
        [5, "no distinct id, user id, device id or email"],
        [6, "not valid UTF-8"],
        [7, "no distinct id, user id, device id or email"],
        [8, "properties is missing or not an object"],
      ],
    );
    assert.deepEqual(r.summary.rows, { read: 9, used: 3, quarantined: 6 });
    assert.equal(r.byKey.get("user:u3")?.categories, "user.behavior;user.name;user.unique_id");
  });

  it("reads clean JSON lines with the fast reader and still numbers quarantined lines right", async () => {
    const records = [
      event({ distinct_id: "u1", $os: "Mac", mp_lib: "web" }),
      event({ mp_lib: "web" }),
      event({ distinct_id: "$device:d9", $device_id: "d9" }),
      event({ $insert_id: "x" }),
    ].map((r) => JSON.stringify(r));
    const clean = `${records[0]}\n\n\n${records[1]}\n${records[2]}\n  \n${records[3]}\n`;
    const fast = await analyze({ "e.jsonl": clean });
    assert.equal(fast.summary.files[0]?.reader, "fast");
    assert.deepEqual(
      fast.quarantine.map((q) => [q.line, q.reason]),
      [
        [4, "no distinct id, user id, device id or email"],
        [7, "no distinct id, user id, device id or email"],
      ],
    );
    // One broken line sends the file down the line-by-line path; everything else comes out the same.
    const slow = await analyze({ "e.jsonl": `${clean}{"event": broken\n` });
    assert.equal(slow.summary.files[0]?.reader, "lines");
    const where = (q: { line: number | null; reason: string }) => [q.line, q.reason];
    assert.deepEqual(slow.quarantine.slice(0, 2).map(where), fast.quarantine.map(where));
    assert.deepEqual(slow.people, fast.people);
    assert.deepEqual(slow.summary.unmapped_fields, fast.summary.unmapped_fields);
    assert.deepEqual(slow.summary.by_category, fast.summary.by_category);
    assert.deepEqual(fast.summary.rows, { read: 4, used: 2, quarantined: 2 });
  });

  it("keeps line numbers right deep into a large file", async () => {
    const lines: string[] = [];
    for (let i = 1; i <= 200_000; i++) {
      if (i === 150_001) lines.push("{broken");
      else if (i === 199_999) lines.push(JSON.stringify(event({ mp_lib: "web" })));
      else lines.push(JSON.stringify(event({ distinct_id: `anon-${i % 1000}` })));
    }
    const content = Buffer.from(`${lines.join("\n")}\n`);
    // An invalid UTF-8 line early shifts every later record by one.
    content[100] = 0xff;
    const r = await analyze({ "big.jsonl": content });
    assert.deepEqual(
      r.quarantine.map((q) => q.line),
      [2, 150_001, 199_999],
    );
    assert.equal(r.summary.rows.read, 200_000);
  });

  it("writes CSV cells so that spreadsheets do not run them", async () => {
    const hostile = [
      '=HYPERLINK("http://evil.example","click")',
      "+1",
      "-2+3",
      "@SUM(A1)",
      "\tx",
      "\rx",
      "<script>alert(1)</script>",
    ];
    const r = await analyze({
      "e.jsonl": jsonl(
        ...hostile.map((name, i) => event({ distinct_id: `h${i}`, $email: `h${i}@x.com`, $name: name })),
      ),
    });
    const text = await readFile(path.join(r.dir, "out", "people.csv"), "utf8");
    const names = r.people.map((p) => p.name).sort();
    assert.deepEqual(names, [...hostile.slice(0, 6).map((h) => `'${h}`), hostile[6]].sort());
    assert.doesNotMatch(text, /(^|,)"?[=+\-@]/m);
  });

  it("rejects a CSV with duplicate headers, naming file and line", async () => {
    await assert.rejects(
      analyze({ "dup.csv": "email,name,email\na@x.com,A,b@x.com\n" }),
      (e: unknown) =>
        e instanceof AppError &&
        e.code === "BAD_INPUT" &&
        /dup\.csv line 1: duplicate column name "email" \(columns 1 and 3\)/.test(e.message),
    );
  });

  it("quotes column names, so quotes and SQL in them are just names", async () => {
    const evil = `x"; DROP TABLE users; --`;
    const csv = `email,"${evil.replaceAll('"', '""')}",name\nalice@example.com,1,A\n`;
    const r = await analyze({ "e.csv": csv });
    assert.deepEqual(r.summary.unmapped_fields, { [evil]: 1 });
    assert.equal(r.summary.subjects.matched, 1);
  });

  it("reports CSV rows with the wrong number of fields by line", async () => {
    const r = await analyze({
      "e.csv": "email,name\na@x.com,A\nb@x.com,B,extra\nc@x.com\nalice@example.com,Alice\n",
    });
    assert.deepEqual(
      r.quarantine.map((q) => [q.line, q.reason]),
      [
        [3, "more fields than the header"],
        [4, "fewer fields than the header"],
      ],
    );
    assert.deepEqual(r.summary.rows, { read: 4, used: 2, quarantined: 2 });
  });

  it("fails clearly on a missing identity column and on a missing identity file", async () => {
    await assert.rejects(
      analyze({ "e.jsonl": jsonl(event({ distinct_id: "u1" })) }, { users: "user_id,name\nu1,A\n" }),
      /users\.csv line 1: missing required column email/,
    );
    const dir = await tempDir();
    const data = await put(dir, "e.jsonl", jsonl(event({ distinct_id: "u1" })));
    await assert.rejects(
      analyzeIncident(testConfig, { datasets: [data], identitiesDir: dir, outDir: path.join(dir, "out") }),
      /--identities .*: no users file \(expected one of users\.csv, users\.csv\.gz/,
    );
  });

  it("quarantines CSV rows that are not UTF-8, by line", async () => {
    const csv = Buffer.concat([
      Buffer.from("email,name\nalice@example.com,Alice\nx@y.com,"),
      Buffer.from([0xc3, 0x28]),
      Buffer.from("\nbob@example.com,Bob\n"),
    ]);
    const r = await analyze({ "e.csv": csv });
    assert.deepEqual(
      r.quarantine.map((q) => [q.line, q.reason]),
      [[3, "not valid UTF-8"]],
    );
    assert.deepEqual(r.summary.rows, { read: 3, used: 2, quarantined: 1 });
  });

  it("rejects a broken JSON array naming the file", async () => {
    await assert.rejects(
      analyze({ "a.json": '[{"email": "a@x.com"},\n{"email": ' }),
      (e: unknown) =>
        e instanceof AppError &&
        e.code === "BAD_INPUT" &&
        /a\.json: cannot be read as JSON array/.test(e.message),
    );
  });

  it("quarantines a JSON line longer than the line limit and goes on", async () => {
    const huge = JSON.stringify(event({ distinct_id: "u2", $name: "y".repeat(33 * 1024 * 1024) }));
    const r = await analyze({
      "e.jsonl": `${JSON.stringify(event({ distinct_id: "u1" }))}\n${huge}\n${JSON.stringify(event({ distinct_id: "u3" }))}\n`,
    });
    assert.deepEqual(
      r.quarantine.map((q) => [q.line, q.reason]),
      [[2, "line longer than the 32 MiB limit"]],
    );
    assert.deepEqual([...r.byKey.keys()], ["user:u1", "user:u3"]);
  });

  it("leaves out identity rows that cannot be used, and says which", async () => {
    const r = await analyze(
      { "e.jsonl": jsonl(event({ distinct_id: "u1" })) },
      {
        users: "user_id,email\nu1,a@x.com\n,b@x.com\nu1,c@x.com\n",
        memberships: "org_id,user_id,role\no1,u1,boss\n",
      },
    );
    assert.deepEqual(
      r.summary.identities.rejected_rows.map((x) => [path.basename(x.file), x.line, x.reason]),
      [
        ["users.csv", 3, "no user_id"],
        ["users.csv", 4, "user_id u1 repeats an earlier row"],
        ["memberships.csv", 2, "role boss is not one of owner, admin, member, reader"],
      ],
    );
  });
});
