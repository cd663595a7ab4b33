import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { AppError } from "../lib/errors.ts";
import type { Db, Queryable } from "../store/db.ts";
import { type Backend, backends } from "../store/test-backends.ts";
import {
  backoffMs,
  claim,
  enqueue,
  fail,
  finish,
  getJob,
  heartbeat,
  type Job,
  listJobs,
  requeueExpired,
} from "./queue.ts";
import { type JobHandler, startWorker } from "./run-worker.ts";

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function vendorNames(q: Queryable): Promise<string[]> {
  const r = await q.query<{ name: string }>("SELECT name FROM vendors ORDER BY name");
  return r.rows.map((row) => row.name);
}

/** milliseconds from the database's clock to the job's run_after */
async function runAfterIn(db: Db, id: string): Promise<number> {
  const r = await db.query<{ ms: number }>(
    "SELECT (extract(epoch FROM run_after - now()) * 1000)::float8 AS ms FROM jobs WHERE id = $1::bigint",
    [id],
  );
  return r.rows[0]?.ms ?? Number.NaN;
}

const makeReady = (db: Db, id: string) =>
  db.query("UPDATE jobs SET run_after = now() WHERE id = $1::bigint", [id]);

async function mustGet(db: Db, id: string): Promise<Job> {
  const job = await getJob(db, id);
  assert.ok(job, `job ${id} exists`);
  return job;
}

describe("backoffMs", () => {
  it("doubles from five seconds and stops at ten minutes", () => {
    assert.deepEqual([1, 2, 3, 4].map(backoffMs), [5000, 10_000, 20_000, 40_000]);
    assert.equal(backoffMs(8), 600_000);
    assert.equal(backoffMs(50), 600_000);
  });
});

for (const make of backends) {
  describe(`job queue on ${make === backends[0] ? "PGlite" : "PostgreSQL"}`, () => {
    let backend: Backend;
    let db: Db;
    // PostgreSQL only: a second pool, as a second process would have (PGlite opens once per folder).
    let db2: Db | undefined;
    before(async () => {
      backend = await make();
      if (backend.skip) return;
      db = await backend.open();
      if (backend.name === "PostgreSQL") db2 = await backend.open();
    });
    after(async () => {
      await db2?.close();
      await db?.close();
      await backend?.cleanup();
    });

    it("enqueues, claims and finishes a job with its result and writes", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const id = await enqueue(db, "roundtrip", { incident: "i-1", rows: [1, 2] });
      assert.match(id, /^\d+$/);
      const queued = await mustGet(db, id);
      assert.equal(queued.status, "queued");
      assert.equal(queued.attempts, 0);
      assert.equal(queued.maxAttempts, 5);
      assert.deepEqual(queued.payload, { incident: "i-1", rows: [1, 2] });

      assert.equal(await claim(db, "w1", ["other-kind"]), null, "only the asked-for kinds");
      const job = await claim(db, "w1", ["roundtrip", "other-kind"]);
      assert.ok(job);
      assert.equal(job.id, id);
      assert.equal(job.status, "running");
      assert.equal(job.lockedBy, "w1");
      assert.equal(job.attempts, 1);
      assert.deepEqual(job.payload, { incident: "i-1", rows: [1, 2] });
      assert.equal(await claim(db, "w2", ["roundtrip"]), null, "a running job is not handed out twice");

      assert.equal(
        await finish(db, id, "w1", async (tx) => {
          await tx.query("INSERT INTO vendors (name) VALUES ('Roundtrip Vendor')");
          return { people: 3, note: "done" };
        }),
        true,
      );
      const done = await mustGet(db, id);
      assert.equal(done.status, "succeeded");
      assert.deepEqual(done.result, { people: 3, note: "done" });
      assert.equal(done.lockedBy, null);
      assert.ok(done.finishedAt instanceof Date);
      assert.ok(done.createdAt instanceof Date);
      assert.ok((await vendorNames(db)).includes("Roundtrip Vendor"));
      assert.equal(await finish(db, id, "w1"), false, "a finished job cannot finish again");

      const listed = await listJobs(db, { status: "succeeded" });
      assert.ok(listed.some((j) => j.id === id));
      assert.ok((await listJobs(db, { status: "queued" })).every((j) => j.status === "queued"));
      assert.equal(await getJob(db, "999999999"), null);
      assert.equal(await getJob(db, "not-a-number"), null);
    });

    it("enqueues inside the caller's transaction and honours runAfter", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      await assert.rejects(
        db.transaction(async (tx) => {
          await enqueue(tx, "txkind", { n: 1 });
          throw new Error("caller rolls back");
        }),
        /caller rolls back/,
      );
      assert.equal(await claim(db, "w", ["txkind"]), null, "a rolled-back enqueue leaves no job");

      const later = await enqueue(db, "later", ["array", "payload"], {
        runAfter: new Date(Date.now() + 60_000),
        maxAttempts: 2,
      });
      assert.equal(await claim(db, "w", ["later"]), null, "not before runAfter");
      await makeReady(db, later);
      const job = await claim(db, "w", ["later"]);
      assert.equal(job?.id, later);
      assert.deepEqual(job?.payload, ["array", "payload"]);
      assert.equal(job?.maxAttempts, 2);
      await assert.rejects(enqueue(db, "bad", {}, { maxAttempts: 0 }), (e) => e instanceof AppError);
    });

    it("never hands the same job to two concurrent claimers", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const ids = new Set<string>();
      for (let i = 0; i < 20; i++) ids.add(await enqueue(db, "contended", { i }));
      const drain = async (on: Db, workerId: string) => {
        const got: string[] = [];
        for (;;) {
          const job = await claim(on, workerId, ["contended"]);
          if (!job) return got;
          assert.equal(job.lockedBy, workerId);
          got.push(job.id);
        }
      };
      const claimers = [drain(db, "a"), drain(db, "b"), drain(db, "c")];
      if (db2) claimers.push(drain(db2, "d"), drain(db2, "e"));
      const results = await Promise.all(claimers);
      const all = results.flat();
      assert.equal(all.length, 20, `claims per claimer: ${results.map((r) => r.length).join(", ")}`);
      assert.deepEqual(new Set(all), ids, "each job claimed exactly once");
      if (db2) {
        const viaSecond = results.slice(3).flat().length;
        t.diagnostic(`second connection claimed ${viaSecond} of 20`);
      }
      for (const id of all) assert.equal(await finish(db, id, (await mustGet(db, id)).lockedBy ?? ""), true);
    });

    it("retries a failing job with backoff, then fails it for good", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const id = await enqueue(db, "flaky", {}, { maxAttempts: 3 });

      const first = await claim(db, "w", ["flaky"]);
      assert.equal(first?.attempts, 1);
      assert.equal(await fail(db, id, "w", "boom 1"), "retry");
      let job = await mustGet(db, id);
      assert.equal(job.status, "queued");
      assert.equal(job.attempts, 1);
      assert.equal(job.lastError, "boom 1");
      assert.equal(job.lockedBy, null);
      let wait = await runAfterIn(db, id);
      assert.ok(wait > backoffMs(1) - 1000 && wait <= backoffMs(1), `first backoff ${wait} ms`);
      assert.equal(await claim(db, "w", ["flaky"]), null, "not during the backoff");

      await makeReady(db, id);
      assert.equal((await claim(db, "w", ["flaky"]))?.attempts, 2);
      assert.equal(await fail(db, id, "w", "boom 2"), "retry");
      wait = await runAfterIn(db, id);
      assert.ok(wait > backoffMs(2) - 1000 && wait <= backoffMs(2), `second backoff ${wait} ms`);

      await makeReady(db, id);
      assert.equal((await claim(db, "w", ["flaky"]))?.attempts, 3);
      assert.equal(await fail(db, id, "w", `x${"e".repeat(5000)}`), "failed");
      job = await mustGet(db, id);
      assert.equal(job.status, "failed");
      assert.equal(job.attempts, 3);
      assert.equal(job.lastError?.length, 2000, "the error is truncated");
      assert.ok(job.finishedAt instanceof Date);
      await makeReady(db, id);
      assert.equal(await claim(db, "w", ["flaky"]), null, "a failed job stays failed");
    });

    it("rolls back the work of a worker whose lease was taken over", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const other = db2 ?? db;
      const id = await enqueue(db, "lease", { n: 1 });
      assert.equal((await claim(db, "slow", ["lease"]))?.id, id);
      assert.equal(await heartbeat(db, id, "slow", { stage: "reading", done: 1, total: 4 }), true);
      assert.deepEqual((await mustGet(db, id)).progress, { stage: "reading", done: 1, total: 4 });

      assert.equal(await requeueExpired(other, 60_000), 0, "a fresh lease is not expired");
      assert.ok((await requeueExpired(other, 0)) >= 1);
      const requeued = await mustGet(db, id);
      assert.equal(requeued.status, "queued");
      assert.equal(requeued.attempts, 1, "the lost try stays counted");
      assert.equal(requeued.lastError, "worker lost");
      const taken = await claim(other, "fast", ["lease"]);
      assert.equal(taken?.id, id);
      assert.equal(taken?.attempts, 2);
      assert.equal(taken?.progress, null, "a new try starts without the old progress");

      assert.equal(await heartbeat(db, id, "slow", { stage: "late", done: 2, total: 4 }), false);
      let ran = false;
      assert.equal(
        await finish(db, id, "slow", async (tx) => {
          ran = true;
          await tx.query("INSERT INTO vendors (name) VALUES ('Lost Lease Vendor')");
          return "slow result";
        }),
        false,
      );
      assert.equal(ran, false, "the work of a lost lease never runs");
      assert.equal(await fail(db, id, "slow", "late failure"), "lost");
      let job = await mustGet(db, id);
      assert.equal(job.status, "running");
      assert.equal(job.lockedBy, "fast");
      assert.equal(job.lastError, "worker lost", "the lost worker's failure is not recorded");

      await assert.rejects(
        finish(other, id, "fast", async (tx) => {
          await tx.query("INSERT INTO vendors (name) VALUES ('Failed Work Vendor')");
          throw new Error("work broke");
        }),
        /work broke/,
      );
      job = await mustGet(db, id);
      assert.equal(job.status, "running", "work that throws leaves the job running");
      assert.equal(job.lockedBy, "fast");

      assert.equal(
        await finish(other, id, "fast", async (tx) => {
          await tx.query("INSERT INTO vendors (name) VALUES ('Fast Vendor')");
          return "fast result";
        }),
        true,
      );
      const names = await vendorNames(db);
      assert.ok(names.includes("Fast Vendor"));
      assert.ok(!names.includes("Lost Lease Vendor"));
      assert.ok(!names.includes("Failed Work Vendor"));
      job = await mustGet(db, id);
      assert.equal(job.status, "succeeded");
      assert.equal(job.result, "fast result");
    });

    it("fails a job whose worker is lost on its last try", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const id = await enqueue(db, "last-try", {}, { maxAttempts: 1 });
      await claim(db, "doomed", ["last-try"]);
      assert.ok((await requeueExpired(db, 0)) >= 1);
      const job = await mustGet(db, id);
      assert.equal(job.status, "failed");
      assert.equal(job.lastError, "worker lost");
      assert.ok(job.finishedAt instanceof Date);
    });

    it("runs a handler with visible progress, commits its writes, and stops", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const lines: string[] = [];
      let open = () => {};
      const gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      const worker = startWorker({
        db,
        pollMs: 20,
        leaseMs: 3000,
        heartbeatMs: 30,
        log: (line) => lines.push(line),
        handlers: {
          progressing: async ({ job, progress, finish: done }) => {
            for (let i = 1; i <= 50; i++) progress({ stage: "matching", done: i, total: 100 });
            await gate;
            await done(async (tx) => {
              await tx.query("INSERT INTO vendors (name) VALUES ($1)", [
                `Worker Vendor ${(job.payload as { n: number }).n}`,
              ]);
              return { matched: 100 };
            });
          },
          silent: async () => {},
        },
      });
      try {
        const id = await enqueue(db, "progressing", { n: 7, email: "someone@example.com" });
        const seen = await waitFor("progress", async () => {
          const job = await getJob(db, id);
          return job?.progress ? job : null;
        });
        assert.equal(seen.status, "running");
        assert.equal(seen.lockedBy, worker.workerId);
        assert.deepEqual(seen.progress, { stage: "matching", done: 50, total: 100 }, "the latest progress");
        open();
        await worker.idle();
        const job = await mustGet(db, id);
        assert.equal(job.status, "succeeded");
        assert.deepEqual(job.result, { matched: 100 });
        assert.ok((await vendorNames(db)).includes("Worker Vendor 7"));

        const silent = await enqueue(db, "silent", {});
        await worker.idle();
        const quiet = await mustGet(db, silent);
        assert.equal(quiet.status, "succeeded", "a handler that returns is finished for it");
        assert.equal(quiet.result, null);
      } finally {
        open();
        await worker.stop();
      }
      await worker.idle();
      assert.ok(
        lines.some((l) => l.includes("(progressing) succeeded")),
        lines.join("\n"),
      );
      assert.ok(!lines.some((l) => l.includes("example.com")), "payloads are never logged");
    });

    it("retries a handler that throws", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      let calls = 0;
      const lines: string[] = [];
      const worker = startWorker({
        db,
        pollMs: 20,
        leaseMs: 3000,
        log: (line) => lines.push(line),
        handlers: {
          sometimes: async ({ finish: done }) => {
            calls++;
            if (calls === 1) throw new Error("first try breaks for secret@example.com");
            await done(async () => "second try");
          },
        },
      });
      try {
        const id = await enqueue(db, "sometimes", {}, { maxAttempts: 2 });
        await worker.idle();
        let job = await mustGet(db, id);
        assert.equal(job.status, "queued");
        assert.equal(job.attempts, 1);
        assert.match(job.lastError ?? "", /first try breaks/);
        assert.ok((await runAfterIn(db, id)) > 1000, "retried after a backoff");
        await makeReady(db, id);
        await worker.idle();
        job = await mustGet(db, id);
        assert.equal(job.status, "succeeded");
        assert.equal(job.attempts, 2);
        assert.equal(job.result, "second try");
        assert.equal(calls, 2);
      } finally {
        await worker.stop();
      }
      assert.ok(
        lines.some((l) => l.includes("will retry")),
        lines.join("\n"),
      );
      assert.ok(!lines.some((l) => l.includes("secret@")), "error messages stay out of the log");
    });

    it("gives a running job back untouched when stopped", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const worker = startWorker({
        db,
        pollMs: 20,
        leaseMs: 3000,
        log: () => {},
        handlers: {
          endless: ({ signal }) =>
            new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
        },
      });
      const id = await enqueue(db, "endless", {});
      await waitFor("the job to start", async () => (await getJob(db, id))?.status === "running");
      await worker.stop();
      const job = await mustGet(db, id);
      assert.equal(job.status, "queued");
      assert.equal(job.attempts, 0, "an interrupted try is not counted");
      assert.equal(job.lockedBy, null);
    });

    it("aborts a handler whose lease is taken over and refuses its finish", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const other = db2 ?? db;
      let finishError: unknown;
      const lines: string[] = [];
      const worker = startWorker({
        db,
        pollMs: 20,
        leaseMs: 60_000,
        heartbeatMs: 30,
        log: (line) => lines.push(line),
        handlers: {
          stolen: async ({ signal, finish: done }) => {
            await new Promise((resolve) => signal.addEventListener("abort", resolve));
            try {
              await done(async (tx) => {
                await tx.query("INSERT INTO vendors (name) VALUES ('Stolen Vendor')");
              });
            } catch (error) {
              finishError = error;
              throw error;
            }
          },
        },
      });
      try {
        const id = await enqueue(db, "stolen", {});
        await waitFor("the job to start", async () => (await getJob(db, id))?.status === "running");
        assert.ok((await requeueExpired(other, 0)) >= 1);
        assert.equal((await claim(other, "thief", ["stolen"]))?.id, id);
        await waitFor("the handler to give up", async () => finishError);
        assert.ok(finishError instanceof AppError && finishError.code === "CONFLICT", String(finishError));
        await worker.idle();
        const job = await mustGet(db, id);
        assert.equal(job.status, "running");
        assert.equal(job.lockedBy, "thief");
        assert.ok(!(await vendorNames(db)).includes("Stolen Vendor"));
        assert.equal(await finish(other, id, "thief"), true);
      } finally {
        await worker.stop();
      }
      assert.ok(
        lines.some((l) => l.includes("lost its lease")),
        lines.join("\n"),
      );
    });

    it("shares 20 jobs between two workers, each run exactly once", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const runs = new Map<string, string[]>();
      const handler =
        (name: string): JobHandler =>
        async ({ job, finish: done }) => {
          runs.set(job.id, [...(runs.get(job.id) ?? []), name]);
          await sleep(2);
          await done(async (tx) => {
            await tx.query("INSERT INTO vendors (name) VALUES ($1)", [`Shared ${job.id}`]);
          });
        };
      const workers = [
        startWorker({ db, pollMs: 10, leaseMs: 3000, log: () => {}, handlers: { shared: handler("one") } }),
        startWorker({
          db: db2 ?? db,
          pollMs: 10,
          leaseMs: 3000,
          log: () => {},
          handlers: { shared: handler("two") },
        }),
      ];
      try {
        const ids: string[] = [];
        for (let i = 0; i < 20; i++) ids.push(await enqueue(db, "shared", { i }));
        await Promise.all(workers.map((w) => w.idle()));
        assert.deepEqual([...runs.keys()].sort(), [...ids].sort());
        for (const [id, by] of runs) assert.equal(by.length, 1, `job ${id} ran ${by.join(", ")}`);
        for (const id of ids) assert.equal((await mustGet(db, id)).status, "succeeded");
        const shared = (await vendorNames(db)).filter((n) => n.startsWith("Shared "));
        assert.equal(shared.length, 20);
        t.diagnostic(`worker one ran ${[...runs.values()].filter((b) => b[0] === "one").length} of 20`);
      } finally {
        await Promise.all(workers.map((w) => w.stop()));
      }
    });
  });
}
