import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { literal, openDuckDb, queryOne } from "../lib/duckdb.ts";
import { testConfig } from "../lib/test-fixtures.ts";
import { safeCell, safeCellSql } from "./write-results.ts";

describe("safeCellSql and safeCell", () => {
  it("neutralises cells that a spreadsheet would run, and leaves others alone", async () => {
    const db = await openDuckDb(testConfig);
    try {
      const cases: [string, string][] = [
        ["=1+1", "'=1+1"],
        ["+31 20 123", "'+31 20 123"],
        ["-x", "'-x"],
        ["@cmd", "'@cmd"],
        ["\tx", "'\tx"],
        ["\rx", "'\rx"],
        ["a=b", "a=b"],
        ["Zoë", "Zoë"],
        ["", ""],
      ];
      for (const [input, expected] of cases) {
        const r = await queryOne<{ v: string }>(db.sql, `SELECT ${safeCellSql(literal(input))} AS v`);
        assert.equal(r.v, expected, JSON.stringify(input));
        assert.equal(safeCell(input), expected, `safeCell ${JSON.stringify(input)}`);
      }
      assert.equal(safeCell(-3), -3, "numbers are not text");
      assert.equal(safeCell(null), null);
    } finally {
      db.close();
    }
  });
});
