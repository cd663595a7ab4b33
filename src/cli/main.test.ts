import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { event, identities, jsonl, put, tempDir } from "../lib/test-fixtures.ts";

const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), "../../bin/blastradius.mjs");

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("blastradius CLI", () => {
  it("prints help for itself and every command, exit 0", () => {
    const top = cli(["--help"]);
    assert.equal(top.code, 0);
    for (const name of ["analyze", "obligations", "demo-data"]) {
      assert.match(top.stdout, new RegExp(`\\b${name}\\b`));
      const r = cli([name, "--help"]);
      assert.equal(r.code, 0, name);
      assert.match(r.stdout, new RegExp(`Usage: blastradius ${name}`));
    }
  });

  it("exits 2 with a message naming the option on bad usage", () => {
    const unknown = cli(["analyze", "--datset", "x"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /--datset/);
    const missing = cli(["analyze", "--dataset", "x.jsonl"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /missing required option --identities DIR/);
    assert.equal(cli(["frobnicate"]).code, 2);
    const count = cli(["demo-data", "--out", "/tmp/x", "--users", "many"]);
    assert.equal(count.code, 2);
    assert.match(count.stderr, /--users must be a whole number/);
  });

  it("exits 2 naming the setting when configuration is wrong", () => {
    const r = cli(["analyze", "--dataset", "x", "--identities", "y", "--out", "z"], {
      BLASTRADIUS_THREADS: "lots",
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /BLASTRADIUS_THREADS="lots" is not valid: expected a whole number/);
    assert.doesNotMatch(r.stderr, /NaN|Invalid input/);
    const port = cli(["serve"], { PORT: "abc" });
    assert.equal(port.code, 2);
    assert.match(port.stderr, /PORT="abc" is not valid: expected a TCP port/);
  });

  it("exits 2 naming the file for a missing dataset and 1 when the work fails", async () => {
    const dir = await tempDir();
    const ids = await identities(dir);
    const r = cli(["analyze", "--dataset", `${dir}/nope.jsonl`, "--identities", ids, "--out", `${dir}/out`]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--dataset .*nope\.jsonl: no such file/);
    const data = await put(dir, "e.jsonl", jsonl(event({ distinct_id: "u1" })));
    await put(dir, "blocker", "a file where the output folder should be");
    const failed = cli(["analyze", "--dataset", data, "--identities", ids, "--out", `${dir}/blocker/out`]);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /blastradius analyze: /);
  });

  it("analyzes and prints summary.json with --json", async () => {
    const dir = await tempDir();
    const ids = await identities(dir);
    const data = await put(dir, "e.jsonl", jsonl(event({ distinct_id: "u1", $email: "alice@example.com" })));
    const r = cli(["analyze", "--dataset", data, "--identities", ids, "--out", `${dir}/out`, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const printed = JSON.parse(r.stdout);
    const written = JSON.parse(await readFile(`${dir}/out/summary.json`, "utf8"));
    assert.deepEqual(printed, written);
    assert.equal(printed.affected_people, 1);
    assert.equal(r.stderr, "", "no progress bar when stderr is not a terminal");
  });

  it("analyze --aware-at writes obligations.json, and obligations recomputes the same from the summary", async () => {
    const dir = await tempDir();
    const ids = await identities(dir);
    const data = await put(dir, "e.jsonl", jsonl(event({ distinct_id: "u1", $email: "alice@example.com" })));
    const aware = "2025-11-25T18:00:00Z";
    const r = cli([
      "analyze",
      "--dataset",
      data,
      "--identities",
      ids,
      "--out",
      `${dir}/out`,
      "--aware-at",
      aware,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Notices required/);
    const written = JSON.parse(await readFile(`${dir}/out/obligations.json`, "utf8"));
    const gdpr = written.find(
      (d: { regime: string; audience: string }) => d.regime === "eu-gdpr" && d.audience === "regulator",
    );
    assert.equal(gdpr.decision, "required", "alice lives in DE");
    assert.equal(gdpr.deadline, "2025-11-28T18:00:00Z");
    for (const key of [
      "regime",
      "authority",
      "audience",
      "decision",
      "people",
      "deadline",
      "clock",
      "reason",
      "citations",
    ]) {
      assert.ok(key in gdpr, key);
    }
    const again = cli(["obligations", "--summary", `${dir}/out/summary.json`, "--aware-at", aware]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout), written);
    const out = cli([
      "obligations",
      "--summary",
      `${dir}/out/summary.json`,
      "--aware-at",
      aware,
      "--out",
      `${dir}/o.json`,
    ]);
    assert.equal(out.code, 0);
    assert.deepEqual(JSON.parse(await readFile(`${dir}/o.json`, "utf8")), written);
  });

  it("obligations names the option or file at fault", async () => {
    const dir = await tempDir();
    const summary = await put(
      dir,
      "s.json",
      JSON.stringify({ affected_people: 1, by_country: {}, by_category: {} }),
    );
    const noOffset = cli(["obligations", "--summary", summary, "--aware-at", "2025-11-25T18:00:00"]);
    assert.equal(noOffset.code, 2);
    assert.match(
      noOffset.stderr,
      /--aware-at "2025-11-25T18:00:00" is not an ISO-8601 instant with an offset/,
    );
    const badClock = cli([
      "obligations",
      "--summary",
      summary,
      "--aware-at",
      "2025-11-25T18:00:00Z",
      "--clock",
      "lunch=2025-11-25T12:00:00Z",
    ]);
    assert.equal(badClock.code, 2);
    assert.match(badClock.stderr, /--clock "lunch=.*NAME one of vendor_detected/);
    const badAnswer = cli([
      "obligations",
      "--summary",
      summary,
      "--aware-at",
      "2025-11-25T18:00:00Z",
      "--answer",
      "eu-gdpr=yes",
    ]);
    assert.equal(badAnswer.code, 2);
    assert.match(badAnswer.stderr, /--answer "eu-gdpr=yes": expected REGIME:AUDIENCE=required\|not_required/);
    const notSummary = await put(dir, "x.json", JSON.stringify({ hello: 1 }));
    const wrong = cli(["obligations", "--summary", notSummary, "--aware-at", "2025-11-25T18:00:00Z"]);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /x\.json: not an analyze summary: affected_people/);
    const missing = cli([
      "obligations",
      "--summary",
      `${dir}/none.json`,
      "--aware-at",
      "2025-11-25T18:00:00Z",
    ]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /none\.json: cannot read the file \(ENOENT\)/);
  });
});
