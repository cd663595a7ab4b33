import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { AppError } from "../lib/errors.ts";
import { tempDir } from "../lib/test-fixtures.ts";
import type { Db } from "./db.ts";
import { listMigrations, migrate } from "./migrate.ts";
import { openStore } from "./open-store.ts";
import { type Backend, backends } from "./test-backends.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
for (const [i, make] of backends.entries()) {
  describe(`store on ${i === 0 ? "PGlite" : "PostgreSQL"}`, () => {
    let backend: Backend;
    let db: Db;
    before(async () => {
      backend = await make();
      if (!backend.skip) db = await backend.open();
    });
    after(async () => {
      await db?.close();
      await backend?.cleanup();
    });

    it("applies the migrations once", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const versions = await db.query<{ version: number }>(
        "SELECT version FROM schema_migrations ORDER BY version",
      );
      const shipped = (await listMigrations()).map((m) => m.version);
      assert.deepEqual(shipped.slice(0, 4), [1, 2, 3, 4]);
      assert.deepEqual(
        versions.rows.map((r) => r.version),
        shipped,
      );
      assert.deepEqual(await migrate(db), [], "nothing left to apply");
      const tables = await db.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1`,
      );
      for (const name of [
        "audit_events",
        "incident_clocks",
        "incidents",
        "jobs",
        "vendors",
        "datasets",
        "analysis_runs",
        "quarantined_rows",
        "filings",
      ]) {
        assert.ok(
          tables.rows.some((r) => r.table_name === name),
          name,
        );
      }
    });

    it("commits a transaction that resolves and rolls back one that throws", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      await db.transaction((tx) => tx.query("INSERT INTO vendors (name) VALUES ($1)", ["Kept"]));
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query("INSERT INTO vendors (name) VALUES ($1)", ["Dropped"]);
          throw new Error("abort");
        }),
        /abort/,
      );
      const names = await db.query<{ name: string }>("SELECT name FROM vendors ORDER BY name");
      assert.deepEqual(
        names.rows.map((r) => r.name),
        ["Kept"],
      );
    });

    it("keeps the clocks apart and refuses an unknown one", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const [incident] = (
        await db.query<{ id: string }>("INSERT INTO incidents (title) VALUES ('Vendor breach') RETURNING id")
      ).rows;
      await db.query("INSERT INTO incident_clocks (incident_id, clock, at) VALUES ($1, 'aware', now())", [
        incident?.id,
      ]);
      await assert.rejects(
        db.query("INSERT INTO incident_clocks (incident_id, clock, at) VALUES ($1, 'lunch', now())", [
          incident?.id,
        ]),
        /incident_clocks_clock_check|check constraint/,
      );
    });
  });
}

describe("the embedded store's data folder", () => {
  it("refuses a second process clearly instead of sharing PGlite", async () => {
    const dir = await tempDir("blastradius-lock-");
    const first = await openStore({ dataDir: dir });
    try {
      await assert.rejects(
        openStore({ dataDir: dir, lockRetries: 0 }),
        (e: unknown) =>
          e instanceof AppError &&
          e.code === "STORE_BUSY" &&
          e.message.includes(dir) &&
          /set DATABASE_URL/.test(e.message),
      );
    } finally {
      await first.close();
    }
    const again = await openStore({ dataDir: dir, lockRetries: 0 });
    await again.close();
  });

  it("survives SIGKILL of the process that holds it", { timeout: 60_000 }, async () => {
    const dir = await tempDir("blastradius-kill-");
    const script = path.join(dir, "writer.ts");
    await writeFile(
      script,
      `import { openStore } from ${JSON.stringify(path.join(here, "open-store.ts"))};
const db = await openStore({ dataDir: ${JSON.stringify(path.join(dir, "data"))} });
for (let i = 1; ; i++) {
  await db.query("INSERT INTO vendors (name) VALUES ($1)", ["vendor " + i]);
  if (i === 25) process.stdout.write("committed 25\\n");
}
`,
    );
    const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => {
        if (d.toString().includes("committed 25")) resolve();
      });
      child.on("exit", (code) => reject(new Error(`writer exited early (${code})`)));
    });
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    const db = await openStore({ dataDir: path.join(dir, "data") });
    try {
      const n = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM vendors");
      assert.ok((n.rows[0]?.n ?? 0) >= 25, `committed rows survive (found ${n.rows[0]?.n})`);
      const dup = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM (SELECT name FROM vendors GROUP BY name HAVING count(*) > 1) d",
      );
      assert.equal(dup.rows[0]?.n, 0);
    } finally {
      await db.close();
    }
  });
});
