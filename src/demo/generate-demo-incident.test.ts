import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { parse as parseCsv } from "csv-parse/sync";
import type { Summary as FullSummary } from "../impact/analyze-incident.ts";
import { defaultMapping } from "../intake/mapping.ts";
import { type DemoManifest, generateDemoIncident } from "./generate-demo-incident.ts";

const SIZE = { users: 2000, orgs: 200, events: 20000 };

type Summary = Pick<
  FullSummary,
  | "rows"
  | "subjects"
  | "affected_people"
  | "affected_orgs"
  | "admins_to_notify"
  | "conflicts"
  | "by_category"
  | "by_country"
  | "unmapped_fields"
>;

const temps: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "blastradius-demo-"));
  temps.push(dir);
  return dir;
}
after(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

const readCsv = async (file: string): Promise<Record<string, string>[]> =>
  parseCsv(await readFile(file, "utf8"), { columns: true }) as Record<string, string>[];

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

describe("generateDemoIncident", () => {
  let out: string;
  let manifest: DemoManifest;
  let summary: Summary;
  let elapsed: number;

  before(async () => {
    out = await tempDir();
    const start = performance.now();
    manifest = await generateDemoIncident({ outDir: out, ...SIZE, seed: 7 });
    elapsed = performance.now() - start;
    summary = JSON.parse(await readFile(path.join(manifest.expectedDir, "summary.json"), "utf8")) as Summary;
  });

  it("writes every file, quickly", async () => {
    assert.deepEqual(await listFiles(out), [
      path.join("dataset", "mixpanel-events.jsonl.gz"),
      path.join("dataset", "mixpanel-profiles.json"),
      path.join("expected", "orgs.csv"),
      path.join("expected", "people.csv"),
      path.join("expected", "summary.json"),
      path.join("identities", "memberships.csv"),
      path.join("identities", "orgs.csv"),
      path.join("identities", "users.csv"),
    ]);
    assert.deepEqual(manifest.datasets, [
      path.join(out, "dataset", "mixpanel-events.jsonl.gz"),
      path.join(out, "dataset", "mixpanel-profiles.json"),
    ]);
    assert.equal(manifest.identitiesDir, path.join(out, "identities"));
    assert.equal(manifest.expectedDir, path.join(out, "expected"));
    assert.ok(elapsed < 3000, `took ${Math.round(elapsed)} ms`);
  });

  it("writes an identity store with one owner per org", async () => {
    const users = await readCsv(path.join(manifest.identitiesDir, "users.csv"));
    const orgs = await readCsv(path.join(manifest.identitiesDir, "orgs.csv"));
    const memberships = await readCsv(path.join(manifest.identitiesDir, "memberships.csv"));
    assert.equal(users.length, SIZE.users);
    assert.equal(orgs.length, SIZE.orgs);
    assert.equal(memberships.length, manifest.counts.memberships);
    assert.deepEqual(Object.keys(users[0] ?? {}), ["user_id", "email", "name", "country", "language"]);
    assert.ok(
      users.some((u) => u.country === ""),
      "some users have no country",
    );
    assert.ok(
      users.some((u) => u.name?.includes(",") && u.name.includes("'")),
      "a name that needs quoting",
    );
    assert.ok(orgs.some((o) => o.name === '"Blue Sky" Consulting'));
    for (const org of orgs) {
      const roles = memberships.filter((m) => m.org_id === org.org_id).map((m) => m.role);
      assert.equal(roles.filter((r) => r === "owner").length, 1, `${org.org_id} has one owner`);
    }
    assert.ok(memberships.some((m) => m.role === "admin"));
    const perUser = new Map<string, number>();
    for (const m of memberships) perUser.set(m.user_id ?? "", (perUser.get(m.user_id ?? "") ?? 0) + 1);
    assert.ok(
      [...perUser.values()].some((n) => n > 1),
      "a user in several orgs",
    );
  });

  it("writes datasets the analyzer recognises", async () => {
    const lines = gunzipSync(await readFile(manifest.datasets[0] as string))
      .toString("utf8")
      .split("\n");
    const first = JSON.parse(lines[0] as string) as { event: string; properties: Record<string, unknown> };
    assert.equal(typeof first.event, "string", "the first line is a well-formed event");
    assert.equal(typeof first.properties.time, "number");
    assert.equal(lines.filter((l) => l.trim() !== "").length, manifest.counts.eventLines);
    assert.ok(lines.slice(0, -1).includes(""), "a blank line in the middle");
    const text = await readFile(manifest.datasets[1] as string, "utf8");
    assert.match(text, /^\{"page":0,/);
    const page = JSON.parse(text) as { page_size: number; total: number; status: string; results: unknown[] };
    assert.equal(page.status, "ok");
    assert.equal(page.results.length, manifest.counts.profiles);
    assert.equal(page.total, page.results.length);
    assert.ok(text.includes("Longname".repeat(1250)), "the 10,000-character name");
  });

  it("writes expected results that reconcile", async () => {
    const { rows, subjects } = summary;
    assert.equal(rows.read, rows.used + rows.quarantined);
    assert.equal(rows.read, manifest.counts.eventLines + manifest.counts.profiles);
    assert.equal(rows.quarantined, 11);
    assert.equal(summary.affected_people, subjects.matched + subjects.unmatched_with_email);
    const people = await readCsv(path.join(manifest.expectedDir, "people.csv"));
    assert.equal(people.length, summary.affected_people);
    const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
    assert.equal(sum(summary.by_country), summary.affected_people);
    for (const n of Object.values(summary.by_category)) assert.ok(n > 0 && n <= summary.affected_people);
    assert.ok(summary.conflicts > 0 && subjects.anonymous > 0 && subjects.unmatched_with_email > 0);
    const orgs = await readCsv(path.join(manifest.expectedDir, "orgs.csv"));
    assert.equal(orgs.length, summary.affected_orgs);
    assert.ok(summary.affected_orgs < SIZE.orgs, "some orgs are not affected");
    assert.ok(
      orgs.some((o) => o.affected_members === "0"),
      "an org affected only through an org_id in a record",
    );
    const keys = people.map((p) => p.person_key ?? "");
    assert.deepEqual(keys, [...keys].sort());
    const matchedBy = new Set(people.map((p) => p.matched_by));
    for (const how of ["user_id", "distinct_id", "email", "dataset_email"])
      assert.ok(matchedBy.has(how), how);
    assert.ok(
      people.some((p) => p.name === `'=HYPERLINK("http://x","y")`),
      "formula defused",
    );
    assert.ok(people.some((p) => p.name === "<script>alert(1)</script>"));
    assert.ok(people.some((p) => p.name?.length === 10000));
    assert.deepEqual(manifest.counts, {
      users: SIZE.users,
      orgs: SIZE.orgs,
      memberships: manifest.counts.memberships,
      eventLines: SIZE.events,
      profiles: manifest.counts.profiles,
      rowsRead: rows.read,
      rowsUsed: rows.used,
      quarantined: rows.quarantined,
      matched: subjects.matched,
      unmatchedWithEmail: subjects.unmatched_with_email,
      anonymous: subjects.anonymous,
      affectedPeople: summary.affected_people,
      affectedOrgs: summary.affected_orgs,
      adminsToNotify: summary.admins_to_notify,
      conflicts: summary.conflicts,
    });
  });

  it("agrees with the rules applied to the written files", async () => {
    const derived = await applyRules(out);
    assert.deepEqual(summary, derived.summary);
    assert.equal(await readFile(path.join(manifest.expectedDir, "people.csv"), "utf8"), derived.people);
    assert.equal(await readFile(path.join(manifest.expectedDir, "orgs.csv"), "utf8"), derived.orgs);
  });

  it("is deterministic for a seed", async () => {
    const again = await tempDir();
    await generateDemoIncident({ outDir: again, ...SIZE, seed: 7 });
    const files = await listFiles(out);
    assert.deepEqual(await listFiles(again), files);
    for (const file of files) {
      assert.ok((await readFile(path.join(out, file))).equals(await readFile(path.join(again, file))), file);
    }
    const other = await tempDir();
    await generateDemoIncident({ outDir: other, ...SIZE, seed: 8 });
    const a = await readFile(path.join(out, "identities", "users.csv"));
    assert.ok(!a.equals(await readFile(path.join(other, "identities", "users.csv"))), "another seed differs");
  });
});

describe("generateDemoIncident at the smallest sizes", () => {
  it("still covers every scenario and agrees with the rules", async () => {
    const out = await tempDir();
    const manifest = await generateDemoIncident({ outDir: out, users: 20, orgs: 2, events: 100 });
    const derived = await applyRules(out);
    const summary = JSON.parse(
      await readFile(path.join(manifest.expectedDir, "summary.json"), "utf8"),
    ) as Summary;
    assert.deepEqual(summary, derived.summary);
    assert.equal(await readFile(path.join(manifest.expectedDir, "people.csv"), "utf8"), derived.people);
    assert.equal(await readFile(path.join(manifest.expectedDir, "orgs.csv"), "utf8"), derived.orgs);
    assert.ok(summary.conflicts > 0 && summary.subjects.anonymous > 0);
    const people = await readCsv(path.join(manifest.expectedDir, "people.csv"));
    const matchedBy = new Set(people.map((p) => p.matched_by));
    assert.deepEqual([...matchedBy].sort(), ["dataset_email", "distinct_id", "email", "user_id"]);
  });

  it("rejects sizes it cannot honour", async () => {
    const outDir = await tempDir();
    await assert.rejects(generateDemoIncident({ outDir, users: 5, orgs: 2, events: 100 }), /users must be/);
    await assert.rejects(generateDemoIncident({ outDir, users: 20, orgs: 2, events: 1.5 }), /events must be/);
    await assert.rejects(generateDemoIncident({ outDir, users: 5000, orgs: 10, events: 100 }), /too few/);
  });
});

// ---------------------------------------------------------------------------------------------------
// An independent reading of the files with the analyzer's rules, to check the generator's bookkeeping.

const FIELDS: Record<string, string> = Object.fromEntries(
  [...defaultMapping.fields].filter(([field]) => field !== "event" && field !== "time"),
);

type Rec = {
  did?: string;
  uid?: string;
  dev?: string;
  email?: string;
  name?: string;
  country?: string;
  org?: string;
  cats: Set<string>;
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => {
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (typeof v !== "string") return undefined;
  return v.trim() === "" ? undefined : v.trim();
};
const exposed = (v: unknown) =>
  typeof v === "string"
    ? v.trim() !== ""
    : Array.isArray(v)
      ? v.length > 0
      : isObject(v)
        ? Object.keys(v).length > 0
        : v !== null && v !== undefined;
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const cell = (v: string | number) => {
  if (typeof v === "number") return String(v);
  const s = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};
const row = (cells: (string | number)[]) => `${cells.map(cell).join(",")}\n`;

function toRecord(kind: "event" | "profile", fields: Record<string, unknown>): Rec | null {
  const did = text(fields.distinct_id) ?? text(fields.$distinct_id);
  const uid = text(fields.$user_id) ?? text(fields.user_id);
  const dev =
    text(fields.$device_id) ??
    text(fields.device_id) ??
    (did?.startsWith("$device:") ? text(did.slice("$device:".length)) : undefined);
  const rawEmail = (text(fields.$email) ?? text(fields.email))?.toLowerCase();
  const email = rawEmail && /^[^@\s]+@[^@\s]+$/.test(rawEmail) ? rawEmail : undefined;
  if (!did && !uid && !dev && !email) return null;
  const cats = new Set<string>();
  if (kind === "event" && (exposed(fields.event) || exposed(fields.time))) cats.add("user.behavior");
  for (const [key, value] of Object.entries(fields)) {
    const category = FIELDS[key];
    if (!category || !exposed(value)) continue;
    const deviceDid =
      (key === "distinct_id" || key === "$distinct_id") && String(value).startsWith("$device:");
    cats.add(deviceDid ? "user.device.device_id" : category);
  }
  const country = ["mp_country_code", "$country_code", "country"]
    .map((k) => text(fields[k])?.toUpperCase())
    .find((c) => c !== undefined && /^[A-Z]{2}$/.test(c));
  return {
    did,
    uid,
    dev,
    email,
    name: text(fields.$name) ?? text(fields.name),
    country,
    org: text(fields.org_id),
    cats,
  };
}

async function applyRules(out: string): Promise<{ summary: Summary; people: string; orgs: string }> {
  const users = await readCsv(path.join(out, "identities", "users.csv"));
  const orgRows = await readCsv(path.join(out, "identities", "orgs.csv"));
  const memberships = await readCsv(path.join(out, "identities", "memberships.csv"));
  const userById = new Map(users.map((u) => [u.user_id ?? "", u]));
  const emailCount = new Map<string, number>();
  for (const u of users)
    emailCount.set((u.email ?? "").toLowerCase(), (emailCount.get((u.email ?? "").toLowerCase()) ?? 0) + 1);
  const userByEmail = new Map(
    users
      .filter((u) => emailCount.get((u.email ?? "").toLowerCase()) === 1)
      .map((u) => [(u.email ?? "").toLowerCase(), u.user_id ?? ""]),
  );

  const records: Rec[] = [];
  const unmapped = new Map<string, number>();
  let read = 0;
  let quarantined = 0;
  const take = (kind: "event" | "profile", container: unknown, fields: Record<string, unknown> | null) => {
    read++;
    if (isObject(container)) {
      for (const key of Object.keys(container)) {
        if (!(key in FIELDS) && key !== "time" && key !== "event")
          unmapped.set(key, (unmapped.get(key) ?? 0) + 1);
      }
    }
    const rec = fields ? toRecord(kind, fields) : null;
    if (rec) records.push(rec);
    else quarantined++;
  };
  const eventText = gunzipSync(
    await readFile(path.join(out, "dataset", "mixpanel-events.jsonl.gz")),
  ).toString("utf8");
  for (const line of eventText.split("\n")) {
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      value = undefined;
    }
    if (!isObject(value)) take("event", null, null);
    else {
      const props = isObject(value.properties) ? value.properties : {};
      take("event", value.properties, { event: value.event, ...props });
    }
  }
  const page = JSON.parse(await readFile(path.join(out, "dataset", "mixpanel-profiles.json"), "utf8")) as {
    results: { $distinct_id: unknown; $properties: unknown }[];
  };
  for (const p of page.results) {
    const props = isObject(p.$properties) ? p.$properties : {};
    take("profile", p.$properties, { $distinct_id: p.$distinct_id, ...props });
  }

  // Resolution: user id, then distinct id, then email; an id beats a disagreeing email (a conflict).
  const STRENGTH = ["device", "email", "distinct_id", "user_id"];
  const owner = new Map<Rec, { user: string; how: string }>();
  let conflicts = 0;
  for (const rec of records) {
    const byId =
      rec.uid && userById.has(rec.uid) ? rec.uid : rec.did && userById.has(rec.did) ? rec.did : undefined;
    const byEmail = rec.email ? userByEmail.get(rec.email) : undefined;
    if (byId) {
      owner.set(rec, { user: byId, how: byId === rec.uid ? "user_id" : "distinct_id" });
      if (byEmail && byEmail !== byId) conflicts++;
    } else if (byEmail) owner.set(rec, { user: byEmail, how: "email" });
  }
  const deviceUsers = new Map<string, Set<string>>();
  for (const [rec, { user }] of owner) {
    if (!rec.dev) continue;
    const set = deviceUsers.get(rec.dev) ?? new Set();
    set.add(user);
    deviceUsers.set(rec.dev, set);
  }
  for (const rec of records) {
    const users = rec.dev && !owner.has(rec) ? deviceUsers.get(rec.dev) : undefined;
    if (users?.size === 1) owner.set(rec, { user: [...users][0] as string, how: "device" });
  }

  type Person = { recs: Rec[]; how: string; name: string };
  const matched = new Map<string, Person>();
  for (const [rec, { user, how }] of owner) {
    const p = matched.get(user) ?? { recs: [], how, name: "" };
    p.recs.push(rec);
    if (STRENGTH.indexOf(how) > STRENGTH.indexOf(p.how)) p.how = how;
    matched.set(user, p);
  }
  const groups = new Map<string, Rec[]>();
  for (const rec of records) {
    if (owner.has(rec)) continue;
    assert.ok(rec.did, "every unresolved record has a distinct id");
    groups.set(rec.did, [...(groups.get(rec.did) ?? []), rec]);
  }
  const unmatched = new Map<string, Person>();
  let anonymous = 0;
  for (const recs of groups.values()) {
    const emails = new Set(recs.flatMap((r) => (r.email ? [r.email] : [])));
    assert.ok(emails.size <= 1, "a group has at most one email");
    const email = [...emails][0];
    if (!email) {
      anonymous++;
      continue;
    }
    const p = unmatched.get(email) ?? { recs: [], how: "dataset_email", name: "" };
    p.recs.push(...recs);
    p.name ||= recs.find((r) => r.name)?.name ?? "";
    unmatched.set(email, p);
  }

  const mostFrequent = (recs: Rec[]) => {
    const tally = new Map<string, number>();
    for (const r of recs) if (r.country) tally.set(r.country, (tally.get(r.country) ?? 0) + 1);
    return [...tally].sort(([a, x], [b, y]) => y - x || compare(a, b))[0]?.[0] ?? "";
  };
  const byCategory = new Map<string, number>();
  const byCountry = new Map<string, number>();
  const people: { key: string; cells: (string | number)[] }[] = [];
  const add = (
    key: string,
    p: Person,
    cells: (c: string, country: string) => (string | number)[],
    store = "",
  ) => {
    const cats = [...new Set(p.recs.flatMap((r) => [...r.cats]))].sort(compare);
    const country = /^[A-Z]{2}$/.test(store.toUpperCase()) ? store.toUpperCase() : mostFrequent(p.recs);
    for (const c of cats) byCategory.set(c, (byCategory.get(c) ?? 0) + 1);
    byCountry.set(country || "unknown", (byCountry.get(country || "unknown") ?? 0) + 1);
    people.push({ key, cells: cells(cats.join(";"), country) });
  };
  for (const [id, p] of matched) {
    const u = userById.get(id) as Record<string, string>;
    const store = u.country ?? "";
    add(
      `user:${id}`,
      p,
      (c, country) => [
        `user:${id}`,
        id,
        u.email ?? "",
        u.name ?? "",
        country,
        u.language ?? "",
        c,
        p.how,
        p.recs.length,
      ],
      store,
    );
  }
  for (const [email, p] of unmatched) {
    add(`email:${email}`, p, (c, country) => [
      `email:${email}`,
      "",
      email,
      p.name,
      country,
      "",
      c,
      p.how,
      p.recs.length,
    ]);
  }
  people.sort((a, b) => compare(a.key, b.key));

  const orgName = new Map(orgRows.map((o) => [o.org_id ?? "", o.name ?? ""]));
  const affected = new Set<string>();
  for (const rec of records) if (rec.org && orgName.has(rec.org)) affected.add(rec.org);
  const members = new Map<string, number>();
  for (const m of memberships) {
    if (!matched.has(m.user_id ?? "")) continue;
    affected.add(m.org_id ?? "");
    members.set(m.org_id ?? "", (members.get(m.org_id ?? "") ?? 0) + 1);
  }
  const admins = new Set<string>();
  let orgs = "org_id,name,affected_members,admin_emails\n";
  for (const id of [...affected].sort(compare)) {
    const emails: string[] = [];
    for (const m of memberships) {
      if (m.org_id !== id || (m.role !== "owner" && m.role !== "admin")) continue;
      admins.add(m.user_id ?? "");
      emails.push(userById.get(m.user_id ?? "")?.email ?? "");
    }
    orgs += row([id, orgName.get(id) ?? "", members.get(id) ?? 0, emails.sort(compare).join(";")]);
  }

  const sorted = (m: Map<string, number>) => Object.fromEntries([...m].sort(([a], [b]) => compare(a, b)));
  const summary: Summary = {
    rows: { read, used: read - quarantined, quarantined },
    subjects: { matched: matched.size, unmatched_with_email: unmatched.size, anonymous },
    affected_people: matched.size + unmatched.size,
    affected_orgs: affected.size,
    admins_to_notify: admins.size,
    conflicts,
    by_category: sorted(byCategory),
    by_country: sorted(byCountry),
    unmapped_fields: sorted(unmapped),
  };
  const header = "person_key,user_id,email,name,country,language,categories,matched_by,records\n";
  return { summary, people: header + people.map((p) => row(p.cells)).join(""), orgs };
}
