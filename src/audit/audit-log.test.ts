import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Actor, cliActor, systemActor } from "../auth/roles.ts";
import {
  auditCommand,
  type Output,
  parseAnchor,
  runAudit,
  runAuditList,
  runAuditVerify,
} from "../cli/commands/audit.ts";
import { AppError, exitCodeFor } from "../lib/errors.ts";
import { tempDir, testConfig } from "../lib/test-fixtures.ts";
import type { Db, Queryable } from "../store/db.ts";
import { openStore } from "../store/open-store.ts";
import { type Backend, backends } from "../store/test-backends.ts";
import { type AuditVerification, appendAudit, listAudit, verifyAudit } from "./audit-log.ts";
import { canonicalJson, GENESIS_HASH, hashEvent } from "./hash-event.ts";

const user: Actor = { kind: "user", userId: "u-1", role: "responder", label: "user:u-1" };

class Rollback extends Error {}

/**
 * Tampers as someone with rights on the table would (triggers off), verifies, then rolls it all back,
 * the ALTER TABLE included, so every case starts from the same intact log.
 */
async function tampered(db: Db, sql: string[], anchor?: { seq: number; hash: string }) {
  let result: AuditVerification | undefined;
  await assert.rejects(
    db.transaction(async (tx) => {
      await tx.exec("ALTER TABLE audit_events DISABLE TRIGGER USER");
      for (const s of sql) await tx.query(s);
      result = await verifyAudit(tx, { anchor, batch: 4 });
      throw new Rollback();
    }),
    Rollback,
  );
  assert.ok(result);
  return result;
}

function capture(): Output & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}

describe("canonicalJson and hashEvent", () => {
  it("sorts keys recursively and refuses what JSON cannot carry", () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [2, { z: null, y: "x" }], c: true } }),
      canonicalJson({ a: { c: true, d: [2, { y: "x", z: null }] }, b: 1 }),
    );
    assert.equal(canonicalJson({ b: 1, a: "é\n" }), '{"a":"é\\n","b":1}');
    assert.equal(canonicalJson({ a: undefined, b: 2 }), '{"b":2}');
    assert.throws(() => canonicalJson(Number.NaN), TypeError);
    assert.throws(() => canonicalJson(1n), TypeError);
    assert.throws(() => canonicalJson(new Date()), TypeError);
  });

  it("changes the hash when any field changes", () => {
    const e = {
      seq: 1,
      at: "2025-11-25T18:00:00.123Z",
      actor: "cli",
      action: "x",
      subject: null,
      detail: { n: 1 },
      prevHash: GENESIS_HASH,
    };
    const h = hashEvent(e);
    assert.match(h, /^[0-9a-f]{64}$/);
    assert.equal(hashEvent({ ...e, detail: { n: 1 } }), h);
    for (const changed of [
      { seq: 2 },
      { at: "2025-11-25T18:00:00.124Z" },
      { actor: "system" },
      { action: "y" },
      { subject: "s" },
      { detail: { n: 2 } },
      { prevHash: "1".repeat(64) },
    ]) {
      assert.notEqual(hashEvent({ ...e, ...changed }), h, JSON.stringify(changed));
    }
  });

  it("parses --anchor and names the option when it is wrong", () => {
    const hash = "A".repeat(64);
    assert.deepEqual(parseAnchor(`12:${hash}`), { seq: 12, hash: hash.toLowerCase() });
    assert.equal(parseAnchor(undefined), undefined);
    for (const bad of ["12", `0:${hash}`, `x:${hash}`, "12:abc", `12:${"g".repeat(64)}`]) {
      assert.throws(
        () => parseAnchor(bad),
        (e: unknown) =>
          e instanceof AppError && e.code === "USAGE" && /--anchor must be SEQ:HASH/.test(e.message),
        bad,
      );
    }
  });
});

for (const make of backends) {
  describe(`audit log on ${make === backends[0] ? "PGlite" : "PostgreSQL"}`, () => {
    let backend: Backend;
    let db: Db;
    let head: { seq: number; hash: string };
    before(async () => {
      backend = await make();
      if (!backend.skip) db = await backend.open();
    });
    after(async () => {
      await db?.close();
      await backend?.cleanup();
    });

    it("verifies an empty log", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      assert.deepEqual(await verifyAudit(db), { ok: true, events: 0, head: null, problems: [] });
      const v = await verifyAudit(db, { anchor: { seq: 3, hash: "a".repeat(64) } });
      assert.deepEqual(v.problems, [
        { seq: 3, problem: "event 3 recorded as head earlier is gone: the log is empty" },
      ]);
    });

    it("chains events appended in transactions and verifies them", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const appended = [];
      for (let i = 1; i <= 10; i++) {
        appended.push(
          await db.transaction(async (tx) => {
            await tx.query("INSERT INTO vendors (name) VALUES ($1)", [`vendor ${i}`]);
            return appendAudit(tx, i % 2 ? user : cliActor, "vendor.create", `vendor:${i}`, {
              z: i,
              a: { nested: [i, "x"], b: null },
              skipped: undefined,
            });
          }),
        );
      }
      assert.deepEqual(
        appended.map((e) => e.seq),
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      );
      assert.equal(appended[0]?.prevHash, GENESIS_HASH);
      assert.equal(appended[1]?.prevHash, appended[0]?.hash);
      const last = appended[9];
      assert.ok(last);
      head = { seq: last.seq, hash: last.hash };
      for (const batch of [1, 3, 10, 1000]) {
        assert.deepEqual(await verifyAudit(db, { batch, anchor: head }), {
          ok: true,
          events: 10,
          head,
          problems: [],
        });
      }

      const listed = await listAudit(db);
      assert.deepEqual(
        listed,
        appended.map(({ detail, ...e }) => ({ ...e, detail: { z: detail.z, a: detail.a } })),
      );
      assert.match(listed[0]?.at ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.deepEqual(
        (await listAudit(db, { afterSeq: 7, limit: 2 })).map((e) => e.seq),
        [8, 9],
      );
      assert.deepEqual(
        (await listAudit(db, { subject: "vendor:4" })).map((e) => e.seq),
        [4],
      );
      assert.equal((await listAudit(db, { action: "vendor.create", limit: 1000 })).length, 10);
      await assert.rejects(listAudit(db, { limit: 1001 }), /limit must be a whole number from 1 to 1000/);
    });

    it("rolls the event back with the change it records", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      await assert.rejects(
        db.transaction(async (tx) => {
          await appendAudit(tx, systemActor, "vendor.delete", "vendor:1");
          throw new Error("abort");
        }),
        /abort/,
      );
      assert.equal((await verifyAudit(db)).events, 10);
      await assert.rejects(appendAudit(db, systemActor, "outside"), /transaction/);
    });

    it("keeps the chain gap-free under concurrent appends", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const events = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          db.transaction((tx) => appendAudit(tx, user, "token.use", null, { n: i })),
        ),
      );
      assert.deepEqual(
        events.map((e) => e.seq).sort((a, b) => a - b),
        Array.from({ length: 20 }, (_, i) => 11 + i),
      );
      const v = await verifyAudit(db, { batch: 7, anchor: head });
      assert.deepEqual(v.problems, []);
      assert.equal(v.events, 30);
      assert.equal(v.head?.seq, 30);
      head = v.head ?? head;
    });

    it("refuses UPDATE, DELETE and TRUNCATE", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      await assert.rejects(db.query("UPDATE audit_events SET actor = 'x' WHERE seq = 4"), /append-only/);
      await assert.rejects(db.query("DELETE FROM audit_events WHERE seq = 6"), /append-only/);
      await assert.rejects(db.query("TRUNCATE audit_events"), /append-only/);
      assert.ok((await verifyAudit(db)).ok);
    });

    it("names an edited event", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const v = await tampered(db, [`UPDATE audit_events SET detail = '{"z": 40}' WHERE seq = 4`]);
      assert.equal(v.ok, false);
      assert.deepEqual(v.problems, [
        {
          seq: 4,
          problem: "event 4 was changed after it was written (its hash does not match its contents)",
        },
      ]);
      const at = await tampered(db, [
        "UPDATE audit_events SET at = at + interval '1 microsecond' WHERE seq = 9",
      ]);
      assert.deepEqual(
        at.problems.map((p) => p.seq),
        [9],
      );
    });

    it("names a deleted event, and a missing start", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const v = await tampered(db, ["DELETE FROM audit_events WHERE seq = 6"]);
      assert.deepEqual(v.problems, [
        { seq: 6, problem: "event 6 is missing (deleted)" },
        { seq: 7, problem: "event 7 does not follow event 5 (chain broken)" },
      ]);
      assert.equal(v.events, 29);
      const range = await tampered(db, ["DELETE FROM audit_events WHERE seq BETWEEN 12 AND 14"]);
      assert.deepEqual(
        range.problems.map((p) => p.problem),
        ["events 12 to 14 are missing (deleted)", "event 15 does not follow event 11 (chain broken)"],
      );
      const start = await tampered(db, ["DELETE FROM audit_events WHERE seq <= 2"]);
      assert.deepEqual(start.problems, [{ seq: 1, problem: "events 1 to 2 are missing (deleted)" }]);
    });

    it("names swapped events", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const v = await tampered(db, [
        "UPDATE audit_events SET seq = -3 WHERE seq = 3",
        "UPDATE audit_events SET seq = 3 WHERE seq = 5",
        "UPDATE audit_events SET seq = 5 WHERE seq = -3",
      ]);
      const changed = v.problems.filter((p) => p.problem.includes("was changed")).map((p) => p.seq);
      assert.deepEqual(changed, [3, 5]);
      assert.ok(v.problems.some((p) => p.problem === "event 3 does not follow event 2 (chain broken)"));
      assert.ok(v.problems.every((p) => p.seq >= 3 && p.seq <= 6));
    });

    it("names a forged event and a chain that does not start at zero", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const forged = await tampered(db, [
        `INSERT INTO audit_events (seq, actor, action, detail, prev_hash, hash)
         VALUES (31, 'cli', 'forged', '{}', '${"b".repeat(64)}', '${"c".repeat(64)}')`,
      ]);
      assert.deepEqual(forged.problems, [
        {
          seq: 31,
          problem: "event 31 was changed after it was written (its hash does not match its contents)",
        },
        { seq: 31, problem: "event 31 does not follow event 30 (chain broken)" },
      ]);
      // A forger who hashes correctly still cannot link to the real chain without the last hash...
      const e = {
        seq: 31,
        at: "2025-01-01T00:00:00.000Z",
        actor: "cli",
        action: "forged",
        subject: null,
        detail: {},
        prevHash: "b".repeat(64),
      };
      const wellHashed = await tampered(db, [
        `INSERT INTO audit_events (seq, at, actor, action, detail, prev_hash, hash)
         VALUES (31, '${e.at}', 'cli', 'forged', '{}', '${e.prevHash}', '${hashEvent(e)}')`,
      ]);
      assert.deepEqual(wellHashed.problems, [
        { seq: 31, problem: "event 31 does not follow event 30 (chain broken)" },
      ]);
      const genesis = await tampered(db, [
        `UPDATE audit_events SET prev_hash = '${"1".repeat(64)}' WHERE seq = 1`,
      ]);
      assert.ok(
        genesis.problems.some(
          (p) =>
            p.seq === 1 && p.problem === "event 1 does not start the chain (its prev_hash is not all zeros)",
        ),
      );
    });

    it("with an anchor, names a cut tail and a rewritten chain", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const cut = await tampered(db, ["DELETE FROM audit_events WHERE seq > 28"], head);
      assert.deepEqual(cut.problems, [
        { seq: 30, problem: "event 30 recorded as head earlier is gone: the log was cut after event 28" },
      ]);
      assert.equal(cut.head?.seq, 28);
      // Without the anchor a cut tail looks like a shorter, intact log: that is what the anchor is for.
      const unanchored = await tampered(db, ["DELETE FROM audit_events WHERE seq > 28"]);
      assert.equal(unanchored.ok, true);

      // Edit event 4 and recompute every hash after it: only the recorded head can tell.
      const rows = await listAudit(db, { limit: 1000 });
      const rewrite: string[] = [];
      let prevHash = rows[2]?.hash ?? "";
      for (const r of rows.slice(3)) {
        const detail = r.seq === 4 ? { z: 40 } : r.detail;
        const hash = hashEvent({ ...r, detail, prevHash });
        rewrite.push(
          `UPDATE audit_events SET detail = '${JSON.stringify(detail)}', prev_hash = '${prevHash}', hash = '${hash}' WHERE seq = ${r.seq}`,
        );
        prevHash = hash;
      }
      // hash is UNIQUE, so move the old hashes out of the way first.
      const rewritten = await tampered(
        db,
        [`UPDATE audit_events SET hash = lpad(seq::text, 64, 'f') WHERE seq >= 4`, ...rewrite],
        head,
      );
      assert.deepEqual(rewritten.problems, [
        {
          seq: 30,
          problem: "event 30 recorded as head earlier has changed (its hash is not the recorded one)",
        },
      ]);
      assert.ok((await verifyAudit(db, { anchor: head })).ok, "the rollbacks restored the log");
    });

    it("maps verify's outcome to output and exit codes", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const ok = capture();
      assert.equal(await runAuditVerify(db, {}, ok), 0);
      assert.deepEqual(ok.stdout, [`audit log intact: 30 events, head 30 ${head.hash}`]);
      assert.deepEqual(ok.stderr, []);

      let bad = capture();
      let code = -1;
      await assert.rejects(
        db.transaction(async (tx: Queryable) => {
          await tx.exec("ALTER TABLE audit_events DISABLE TRIGGER USER");
          await tx.query("DELETE FROM audit_events WHERE seq = 6");
          code = await runAuditVerify(tx, { anchor: head }, bad);
          const json = capture();
          assert.equal(await runAuditVerify(tx, { json: true }, json), 1);
          const parsed = JSON.parse(json.stdout.join("\n")) as AuditVerification;
          assert.equal(parsed.ok, false);
          assert.equal(parsed.problems[0]?.seq, 6);
          throw new Rollback();
        }),
        Rollback,
      );
      assert.equal(code, 1);
      assert.deepEqual(bad.stdout, []);
      assert.deepEqual(bad.stderr, [
        "event 6 is missing (deleted)",
        "event 7 does not follow event 5 (chain broken)",
        "audit log NOT intact: 2 problems in 29 events",
      ]);

      bad = capture();
      assert.equal(await runAuditList(db, { afterSeq: 27, limit: 2 }, bad), 0);
      assert.equal(bad.stdout.length, 2);
      assert.match(bad.stdout[0] ?? "", /^28 {2}\S+Z {2}user:u-1 {2}token\.use {2}- {2}\{"n":\d+\}$/);
      assert.deepEqual(bad.stderr, ["(more may follow: --after 29)"]);
    });
  });
}

describe("blastradius audit", () => {
  it("exits 2 naming the option before opening the store", async () => {
    const config = { ...testConfig, dataDir: "/nonexistent/never-opened" };
    for (const [argv, message] of [
      [["verify", "--anchor", "12"], /--anchor must be SEQ:HASH/],
      [["verify", "--anchr", "x"], /--anchr/],
      [["list", "--limit", "5000"], /--limit must be at most 1000/],
      [["list", "--after", "-1"], /--after/],
      [["check"], /unknown subcommand 'check'/],
      [[], /missing subcommand/],
    ] as const) {
      await assert.rejects(auditCommand.run(argv, config), (e: unknown) => {
        assert.equal(exitCodeFor(e), 2);
        assert.match((e as Error).message, message);
        return true;
      });
    }
    assert.match(auditCommand.help, /Usage: blastradius audit verify/);
  });

  it("verifies and lists an embedded store", async () => {
    const dataDir = await tempDir("blastradius-audit-cli-");
    const db = await openStore({ dataDir });
    let head: { seq: number; hash: string } | undefined;
    try {
      for (let i = 0; i < 3; i++) {
        const e = await db.transaction((tx) => appendAudit(tx, cliActor, "demo", `thing:${i}`, { i }));
        head = { seq: e.seq, hash: e.hash };
      }
    } finally {
      await db.close();
    }
    assert.ok(head);
    const io = capture();
    const config = { ...testConfig, dataDir };
    assert.equal(await runAudit(["verify", "--anchor", `${head.seq}:${head.hash}`], config, io), 0);
    assert.equal(await runAudit(["list", "--json"], config, io), 0);
    assert.deepEqual(io.stderr, []);
    assert.equal(io.stdout[0], `audit log intact: 3 events, head 3 ${head.hash}`);
    const written = io.stdout;
    const listed = JSON.parse(written[1] ?? "") as { seq: number; subject: string }[];
    assert.deepEqual(
      listed.map((e) => [e.seq, e.subject]),
      [
        [1, "thing:0"],
        [2, "thing:1"],
        [3, "thing:2"],
      ],
    );
  });
});
