import assert from "node:assert/strict";
import { mkdir, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import type { Context } from "../app/context.ts";
import { systemActor } from "../auth/roles.ts";
import { loadConfig } from "../config/env.ts";
import { createIncident } from "../incidents/manage-incidents.ts";
import { literal, openDuckDb } from "../lib/duckdb.ts";
import { AppError } from "../lib/errors.ts";
import { createSealer } from "../lib/seal.ts";
import { event, jsonl, profile, testConfig } from "../lib/test-fixtures.ts";
import type { Db } from "../store/db.ts";
import { type Backend, backends } from "../store/test-backends.ts";
import { type DatasetField, inspectDataset } from "./inspect-dataset.ts";
import { deleteDataset, uploadDataset } from "./manage-datasets.ts";

const analyst = { kind: "user", userId: "a", role: "analyst", label: "user:analyst" } as const;
const viewer = { kind: "user", userId: "v", role: "viewer", label: "user:viewer" } as const;

const EMAILS = ["alice.smith@example.com", "bob.jones@example.org", "carol@example.net"];
const NAMES = ["Alice Smith", "Bob Jones", "Carol Diaz"];

/** n events of three people; one line that is not JSON, one blank line. */
function events(n: number): string {
  const records = Array.from({ length: n }, (_, i) =>
    event({
      distinct_id: `user-${i % 3}`,
      $email: EMAILS[i % 3],
      $name: NAMES[i % 3],
      mp_country_code: ["DE", "US", "FR"][i % 3],
      $os: "Mac OS X",
      plan: i % 2 ? "enterprise" : "free",
      favourite_colour: "teal",
      props: {},
    }),
  );
  return `${jsonl(...records.slice(0, 2))}not json at all\n\n${jsonl(...records.slice(2))}`;
}

const byName = (fields: DatasetField[], name: string) => {
  const f = fields.find((x) => x.name === name);
  assert.ok(f, `field ${name}`);
  return f;
};

for (const [i, make] of backends.entries()) {
  describe(`inspectDataset on ${i === 0 ? "PGlite" : "PostgreSQL"}`, { timeout: 120_000 }, () => {
    let backend: Backend;
    let db: Db;
    let ctx: Context;
    let incidentId: string;
    let tempDir: string;
    before(async () => {
      backend = await make();
      if (backend.skip) return;
      db = await backend.open();
      const key = Buffer.alloc(32, 7);
      tempDir = path.join(backend.dataDir, "tmp");
      await mkdir(tempDir);
      ctx = {
        db,
        key,
        sealer: createSealer(key),
        config: loadConfig({
          BLASTRADIUS_DATA: backend.dataDir,
          BLASTRADIUS_TEMP_DIR: tempDir,
          BLASTRADIUS_MEMORY_LIMIT: "1GB",
          BLASTRADIUS_THREADS: "2",
        }),
      };
      incidentId = (await createIncident(ctx, systemActor, { title: "inspect" })).id;
    });
    after(async () => {
      await db?.close();
      await backend?.cleanup();
    });

    const upload = async (fileName: string, content: string | Buffer, mapping?: unknown) =>
      (
        await uploadDataset(ctx, systemActor, incidentId, {
          fileName,
          content: Readable.from([content]),
          mapping,
        })
      ).id;

    it("lists an event export's fields with counts, masked samples, categories and roles", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const id = await upload("export.jsonl", events(1500), { fields: { plan: "user.financial" } });
      const r = await inspectDataset(ctx, analyst, incidentId, id);
      assert.deepEqual(r.format, {
        label: "Mixpanel event export (JSON lines)",
        container: "lines",
        kind: "event",
        gzip: false,
      });
      assert.equal(r.sampled_records, 1000, "at most 1000 records, the broken line not among them");

      const email = byName(r.fields, "$email");
      assert.deepEqual(email, {
        name: "$email",
        seen: 1000,
        samples: ["a***@e***.com", "b***@e***.org", "c***@e***.net"],
        category: "user.contact.email",
        roles: ["email"],
      });
      assert.deepEqual(byName(r.fields, "$name").roles, ["name"]);
      assert.deepEqual(byName(r.fields, "$name").samples, ["A********", "B********", "C********"]);
      assert.deepEqual(byName(r.fields, "distinct_id").roles, ["distinct_id"]);
      assert.deepEqual(
        byName(r.fields, "distinct_id").samples,
        ["u*****"],
        "ids masked to first character and length",
      );
      assert.deepEqual(byName(r.fields, "mp_country_code"), {
        name: "mp_country_code",
        seen: 1000,
        samples: ["DE", "US", "FR"],
        category: "user.location.coarse",
        roles: ["country"],
      });
      assert.equal(byName(r.fields, "plan").category, "user.financial", "the dataset's own mapping");
      assert.deepEqual(byName(r.fields, "event").samples, ["P********"]);
      assert.equal(byName(r.fields, "event").category, "user.behavior");
      assert.equal(byName(r.fields, "time").samples[0], "##########");
      assert.equal(byName(r.fields, "props").seen, 0, "an empty object is no value");
      assert.deepEqual(r.unmapped, ["favourite_colour", "props"]);
      assert.equal(byName(r.fields, "favourite_colour").category, null);

      // No personal value appears whole anywhere in the answer.
      const text = JSON.stringify(r);
      for (const v of [...EMAILS, ...NAMES, "Alice", "user-1", "enterprise"])
        assert.ok(!text.includes(v), `${v} is not shown`);

      const audit = await db.query<{ detail: Record<string, unknown> }>(
        "SELECT detail FROM audit_events WHERE action = 'dataset.inspect' ORDER BY seq DESC LIMIT 1",
      );
      assert.deepEqual(audit.rows[0]?.detail, {
        dataset: id,
        sampled_records: 1000,
        fields: r.fields.length,
      });
      assert.deepEqual(await readdir(tempDir), [], "the unsealed copy is removed");
    });

    it("samples only the beginning of a large gzip file", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const text = jsonl(
        ...Array.from({ length: 400 }, (_, i) =>
          event({ distinct_id: `user-${i}`, $insert_id: ((i * 2654435761) % 2 ** 32).toString(36) }),
        ),
      );
      const id = await upload("export.jsonl.gz", gzipSync(text));
      // Smaller than the compressed file, so the sample is read from its beginning alone.
      const headBytes = 2000;
      assert.ok(gzipSync(text).length > headBytes);
      const r = await inspectDataset(ctx, analyst, incidentId, id, { headBytes });
      assert.equal(r.format.gzip, true);
      assert.equal(r.format.container, "lines");
      const fitting = text.slice(0, headBytes).split("\n").slice(0, -1);
      const records = fitting.filter((l) => l.startsWith("{")).length;
      assert.equal(r.sampled_records, records, "every whole line of the head, the cut one left out");
      assert.ok(records >= 5 && records < 400, `${records} records`);
      const whole = await inspectDataset(ctx, analyst, incidentId, id);
      assert.equal(whole.sampled_records, 400);
      assert.deepEqual(await readdir(tempDir), []);
    });

    it("reads profiles from $properties, CSV columns and Parquet columns", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const profiles = await inspectDataset(
        ctx,
        analyst,
        incidentId,
        await upload(
          "profiles.json",
          JSON.stringify([
            profile("p1", { $email: "dana@example.com", $city: "Lisbon" }),
            profile("p2", { $email: "ed@example.com", $phone: "+351 912 345 678" }),
          ]),
        ),
      );
      assert.equal(profiles.format.kind, "profile");
      assert.equal(profiles.format.container, "array");
      assert.equal(profiles.sampled_records, 2);
      assert.deepEqual(
        profiles.fields.map((f) => [f.name, f.seen, f.category]),
        [
          ["$distinct_id", 2, "user.unique_id"],
          ["$email", 2, "user.contact.email"],
          ["$city", 1, "user.location.coarse"],
          ["$phone", 1, "user.contact.phone_number"],
        ],
      );
      assert.deepEqual(byName(profiles.fields, "$phone").samples, ["+### ### ### ###"]);

      const csv = await inspectDataset(
        ctx,
        analyst,
        incidentId,
        await upload("users.csv", "user_id;email;org_id;score\nu1;x@y.example;o1;12\nu2;;o2;7\n", {
          roles: { org_id: ["org_id"] },
        }),
      );
      assert.equal(csv.format.container, "csv");
      assert.deepEqual(
        csv.fields.map((f) => [f.name, f.seen, f.roles]),
        [
          ["org_id", 2, ["org_id"]],
          ["score", 2, []],
          ["user_id", 2, ["user_id"]],
          ["email", 1, ["email"]],
        ],
      );
      assert.deepEqual(
        byName(csv.fields, "org_id").samples,
        ["o*"],
        "identifiers are masked even when short",
      );
      assert.deepEqual(byName(csv.fields, "score").samples, ["##", "#"]);
      assert.deepEqual(csv.unmapped, ["score"]);

      const duck = await openDuckDb(testConfig);
      const parquetFile = path.join(backend.dataDir, "p.parquet");
      try {
        await duck.sql.run(
          `COPY (SELECT 'u' || i AS user_id, i AS visits, i % 2 = 0 AS active FROM range(5) t(i)) TO ${literal(parquetFile)} (FORMAT parquet)`,
        );
      } finally {
        duck.close();
      }
      const parquet = await inspectDataset(
        ctx,
        analyst,
        incidentId,
        await upload("p.parquet", await readFile(parquetFile)),
      );
      assert.deepEqual(parquet.format, { label: "Parquet", container: "parquet", kind: "flat", gzip: false });
      assert.equal(parquet.sampled_records, 5);
      assert.deepEqual(byName(parquet.fields, "active").samples, ["true", "false"]);
      assert.deepEqual(byName(parquet.fields, "visits").samples, ["#"]);
    });

    it("refuses viewers, unknown and removed datasets", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const id = await upload("e.jsonl", events(3));
      await assert.rejects(
        inspectDataset(ctx, viewer, incidentId, id),
        (e: unknown) => e instanceof AppError && e.code === "FORBIDDEN",
      );
      await assert.rejects(
        inspectDataset(ctx, analyst, incidentId, "00000000-0000-4000-8000-000000000000"),
        (e: unknown) => e instanceof AppError && e.code === "NOT_FOUND",
      );
      await deleteDataset(ctx, systemActor, incidentId, id);
      await assert.rejects(
        inspectDataset(ctx, analyst, incidentId, id),
        (e: unknown) => e instanceof AppError && e.code === "NOT_FOUND",
      );
      await db.query("UPDATE datasets SET status = 'purged' WHERE incident_id = $1", [incidentId]);
      const other = (await db.query<{ id: string }>("SELECT id FROM datasets LIMIT 1")).rows[0]?.id as string;
      await assert.rejects(
        inspectDataset(ctx, analyst, incidentId, other),
        (e: unknown) => e instanceof AppError && e.code === "CONFLICT" && /purged/.test(e.message),
      );
    });
  });
}
