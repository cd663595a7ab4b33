import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { openDuckDb } from "../lib/duckdb.ts";
import { event, jsonl, profile, put, tempDir, testConfig } from "../lib/test-fixtures.ts";
import { detectFormat } from "./detect-format.ts";

describe("detectFormat", () => {
  it("tells formats apart by content, gzip or not, whatever the file is called", async () => {
    const dir = await tempDir();
    const cases: [string, string | Buffer, boolean, string, string][] = [
      ["a.txt", jsonl(event({ distinct_id: "x" })), false, "lines", "event"],
      ["b.dat", jsonl(event({ distinct_id: "x" })), true, "lines", "event"],
      ["c", jsonl(profile("x", { $email: "a@b.c" })), false, "lines", "profile"],
      [
        "d.json",
        JSON.stringify({ page: 0, results: [profile("x", {})], status: "ok" }),
        false,
        "page",
        "profile",
      ],
      ["e.json", JSON.stringify({ page: 0, results: [profile("x", {})] }, null, 2), true, "page", "profile"],
      ["f.json", JSON.stringify([{ email: "a@b.c" }], null, 2), false, "array", "flat"],
      ["g.json", JSON.stringify([event({ distinct_id: "x" })]), false, "array", "event"],
      ["h.csv", "email,name\na@b.c,A\n", false, "csv", "flat"],
      ["i.jsonl", jsonl({ email: "a@b.c" }), false, "lines", "flat"],
      ["j.jsonl", `{"event": trunc\n${jsonl(event({ distinct_id: "x" }))}`, false, "lines", "event"],
      ["k.csv", "", false, "empty", "flat"],
      ["l.csv.gz", "\n\n", true, "empty", "flat"],
    ];
    for (const [name, content, gzip, container, kind] of cases) {
      const f = await detectFormat(await put(dir, name, content, gzip));
      assert.equal(f.container, container, name);
      assert.equal(f.kind, kind, name);
      assert.equal(f.gzip, gzip, name);
    }
  });

  it("recognises Parquet by its magic bytes", async () => {
    const dir = await tempDir();
    const db = await openDuckDb(testConfig);
    const file = `${dir}/p.bin`;
    await db.sql.run(`COPY (SELECT 'a@b.c' AS email) TO '${file}' (FORMAT parquet)`);
    db.close();
    const f = await detectFormat(file);
    assert.equal(f.container, "parquet");
  });

  it("names the file when it cannot be opened", async () => {
    await assert.rejects(
      detectFormat("/nonexistent/x.jsonl"),
      /\/nonexistent\/x\.jsonl: cannot open the file \(no such file\)/,
    );
  });
});
