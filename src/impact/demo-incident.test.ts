import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { parse as parseCsv } from "csv-parse/sync";
import { generateDemoIncident } from "../demo/generate-demo-incident.ts";
import { tempDir, testConfig } from "../lib/test-fixtures.ts";
import { analyzeIncident } from "./analyze-incident.ts";

type Row = Record<string, string>;

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
      // The generator knows the original columns; the ones added since come last and are checked
      // against each other below.
      const added: Record<string, string> = { "people.csv": "org_ids", "orgs.csv": "categories" };
      const read = async (d: string, file: string) =>
        parseCsv(await readFile(path.join(d, file), "utf8")) as string[][];
      for (const file of ["people.csv", "orgs.csv"]) {
        const actual = await read(out, file);
        const wanted = await read(demo.expectedDir, file);
        assert.deepEqual(actual[0], [...(wanted[0] ?? []), added[file]], `${file} header`);
        assert.equal(actual.length, wanted.length, `${file} rows`);
        for (let i = 1; i < wanted.length; i++) {
          assert.deepEqual(actual[i]?.slice(0, -1), wanted[i], `${file} row ${i}`);
        }
      }
      const peopleRows = parseCsv(await readFile(path.join(out, "people.csv"), "utf8"), {
        columns: true,
      }) as Row[];
      const orgRows = parseCsv(await readFile(path.join(out, "orgs.csv"), "utf8"), {
        columns: true,
      }) as Row[];
      const adminRows = parseCsv(await readFile(path.join(out, "admins.csv"), "utf8"), {
        columns: true,
      }) as Row[];
      const split = (v: string | undefined) => (v ? v.split(";") : []);
      for (const org of orgRows) {
        const members = peopleRows.filter((p) => split(p.org_ids).includes(org.org_id ?? ""));
        assert.equal(String(members.length), org.affected_members, `org ${org.org_id} members`);
        const union = [...new Set(members.flatMap((p) => split(p.categories)))].sort();
        assert.deepEqual(split(org.categories), union, `org ${org.org_id} categories`);
        const emails = [...new Set(adminRows.filter((a) => a.org_id === org.org_id).map((a) => a.email))];
        assert.deepEqual(emails.sort(), split(org.admin_emails), `org ${org.org_id} admins`);
      }
      // admins_to_notify also counts admins without an email, whom admins.csv cannot list.
      assert.ok(new Set(adminRows.map((a) => a.user_id)).size <= summary.admins_to_notify);
      assert.ok(adminRows.length > 0);
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
