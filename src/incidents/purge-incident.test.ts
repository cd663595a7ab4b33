import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import type { Context } from "../app/context.ts";
import { systemActor } from "../auth/roles.ts";
import { loadConfig } from "../config/env.ts";
import { uploadDataset } from "../datasets/manage-datasets.ts";
import { createSealer } from "../lib/seal.ts";
import { jsonl } from "../lib/test-fixtures.ts";
import { getFilingEvidence, listFilings, recordFiling } from "../obligations/file-notice.ts";
import type { Db } from "../store/db.ts";
import { type Backend, backends } from "../store/test-backends.ts";
import { createIncident, updateIncident } from "./manage-incidents.ts";
import { purgeExpired } from "./purge-incident.ts";

for (const [i, make] of backends.entries()) {
  describe(`retention purge on ${i === 0 ? "PGlite" : "PostgreSQL"}`, () => {
    let backend: Backend;
    let db: Db;
    let ctx: Context;
    before(async () => {
      backend = await make();
      if (backend.skip) return;
      db = await backend.open();
      const key = Buffer.alloc(32, 9);
      ctx = { db, key, sealer: createSealer(key), config: loadConfig({ BLASTRADIUS_DATA: backend.dataDir }) };
    });
    after(async () => {
      await db?.close();
      await backend?.cleanup();
    });

    it("purges the data of incidents closed longer ago than their retention, and audits it", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const old = await createIncident(ctx, systemActor, { title: "old", retention_days: 30 });
      const recent = await createIncident(ctx, systemActor, { title: "recent", retention_days: 30 });
      const open = await createIncident(ctx, systemActor, { title: "open", retention_days: 1 });
      for (const inc of [old, recent, open]) {
        await uploadDataset(ctx, systemActor, inc.id, {
          fileName: "e.jsonl",
          content: Readable.from([jsonl({ event: "x", properties: { $email: "p@x.example" } })]),
        });
      }
      // A run's quarantined rows quote the dataset: they go with the rest of its personal data.
      for (const inc of [old, recent]) {
        const run = await db.query<{ id: string }>(
          "INSERT INTO analysis_runs (incident_id, status) VALUES ($1, 'succeeded') RETURNING id",
          [inc.id],
        );
        await db.query(
          `INSERT INTO quarantined_rows (run_id, ordinal, file, line, reason, sealed)
           VALUES ($1, 0, 'e.jsonl', 1, 'not valid JSON', $2)`,
          [run.rows[0]?.id, ctx.sealer.seal("{broken")],
        );
      }
      // A filing's evidence may name people: it goes, the filing stays as the record.
      const filings = new Map<string, string>();
      for (const inc of [old, recent]) {
        const f = await recordFiling(ctx, systemActor, inc.id, {
          regime: "eu-gdpr",
          audience: "regulator",
          reference: "DPA-1",
          evidence: { name: "receipt.pdf", content: Buffer.from("receipt naming p@x.example") },
        });
        filings.set(inc.id, f.id);
      }
      await updateIncident(ctx, systemActor, old.id, { status: "closed" });
      await updateIncident(ctx, systemActor, recent.id, { status: "closed" });
      await db.query("UPDATE incidents SET closed_at = now() - interval '31 days' WHERE id = $1", [old.id]);
      await db.query("UPDATE incidents SET closed_at = now() - interval '29 days' WHERE id = $1", [
        recent.id,
      ]);

      assert.deepEqual(await purgeExpired(ctx), [old.id]);
      assert.deepEqual(await purgeExpired(ctx), [], "nothing left to purge");
      const files = async (id: string) =>
        readdir(path.join(backend.dataDir, "datasets", id)).then(
          (f) => f.length,
          () => 0,
        );
      assert.equal(await files(old.id), 0);
      assert.equal(await files(recent.id), 1);
      assert.equal(await files(open.id), 1);
      const ds = await db.query<{ incident_id: string; status: string }>(
        "SELECT incident_id, status FROM datasets",
      );
      assert.equal(ds.rows.find((d) => d.incident_id === old.id)?.status, "purged");
      const quarantined = await db.query<{ incident_id: string; n: number }>(
        `SELECT r.incident_id, count(q.run_id)::int AS n FROM analysis_runs r
         LEFT JOIN quarantined_rows q ON q.run_id = r.id GROUP BY r.incident_id`,
      );
      assert.equal(quarantined.rows.find((r) => r.incident_id === old.id)?.n, 0);
      assert.equal(quarantined.rows.find((r) => r.incident_id === recent.id)?.n, 1);
      const [oldFiling] = await listFilings(ctx, systemActor, old.id);
      assert.equal(oldFiling?.id, filings.get(old.id));
      assert.deepEqual(
        [oldFiling?.reference, oldFiling?.evidence?.name, oldFiling?.evidence?.available],
        ["DPA-1", "receipt.pdf", false],
        "the filing and its evidence's name and hash stay; the file goes",
      );
      await assert.rejects(
        getFilingEvidence(ctx, systemActor, old.id, filings.get(old.id) ?? ""),
        /evidence was purged/,
      );
      const kept = await getFilingEvidence(ctx, systemActor, recent.id, filings.get(recent.id) ?? "");
      assert.equal(kept.content.toString(), "receipt naming p@x.example");
      const audit = await db.query<{
        actor: string;
        detail: { reason: string; datasets: number; evidence: number };
      }>("SELECT actor, detail FROM audit_events WHERE action = 'incident.purge' AND subject = $1", [
        `incident:${old.id}`,
      ]);
      assert.deepEqual(
        audit.rows.map((r) => [r.actor, r.detail.reason, r.detail.datasets, r.detail.evidence]),
        [["system", "retention", 1, 1]],
      );
      const inc = await db.query<{ purged_at: Date | null }>(
        "SELECT purged_at FROM incidents WHERE id = $1",
        [old.id],
      );
      assert.ok(inc.rows[0]?.purged_at);
    });
  });
}
