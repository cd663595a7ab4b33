import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { generateDemoIncident } from "../demo/generate-demo-incident.ts";
import { tempDir, testConfig } from "../lib/test-fixtures.ts";
import { analyzeIncident } from "./analyze-incident.ts";

const SPEC_KEYS = [
  "rows",
  "subjects",
  "affected_people",
  "affected_orgs",
  "admins_to_notify",
  "conflicts",
  "by_category",
  "by_country",
  "unmapped_fields",
] as const;

describe("a generated incident", () => {
  for (const [users, orgs, events, seed] of [
    [2000, 200, 20000, 1],
    [300, 40, 3000, 7],
  ] as const) {
    it(`analyses to exactly its expected results (users=${users} events=${events} seed=${seed})`, async () => {
      const dir = await tempDir();
      const demo = await generateDemoIncident({ outDir: path.join(dir, "demo"), users, orgs, events, seed });
      const out = path.join(dir, "result");
      const summary = await analyzeIncident(testConfig, {
        datasets: demo.datasets,
        identitiesDir: demo.identitiesDir,
        outDir: out,
      });
      const expected = JSON.parse(await readFile(path.join(demo.expectedDir, "summary.json"), "utf8"));
      for (const key of SPEC_KEYS) assert.deepEqual(summary[key], expected[key], `summary.${key}`);
      for (const file of ["people.csv", "orgs.csv"]) {
        const actual = (await readFile(path.join(out, file), "utf8")).split("\n");
        const wanted = (await readFile(path.join(demo.expectedDir, file), "utf8")).split("\n");
        assert.equal(actual[0], wanted[0], `${file} header`);
        assert.equal(actual.length, wanted.length, `${file} rows`);
        for (let i = 1; i < wanted.length; i++) assert.equal(actual[i], wanted[i], `${file} line ${i + 1}`);
      }
      const quarantine = (await readFile(path.join(out, "quarantine.jsonl"), "utf8"))
        .split("\n")
        .filter(Boolean);
      assert.equal(quarantine.length, summary.rows.quarantined);
      assert.ok(summary.rows.quarantined > 0, "the demo carries malformed rows");
      assert.ok(
        summary.conflicts > 0 && summary.subjects.anonymous > 0 && summary.subjects.unmatched_with_email > 0,
      );
    });
  }
});
