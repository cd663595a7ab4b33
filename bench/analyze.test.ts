import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

function run(args: readonly string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(here, "analyze.ts"), ...args], {
    cwd: path.dirname(here),
    encoding: "utf8",
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("bench:analyze runs end to end at a tiny size and agrees with the hand-written query", {
  timeout: 60_000,
}, async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "blastradius-bench-"));
  try {
    const sizes = ["--events", "20000", "--profiles", "2000", "--users", "10000", "--orgs", "2000"];
    const { code, stdout, stderr } = run([...sizes, "--data-dir", dir]);
    assert.equal(code, 0, `exit ${code}\n${stdout}\n${stderr}`);

    for (const line of [
      /^machine: \d+ cores, .+ memory, /m,
      /^sizes: events=20000 profiles=2000 users=10000 orgs=2000 memberships=\d+$/m,
      /^input files: events .+ \(total .+\)$/m,
      /^analyze: wall \d+\.\d s, peak RSS \d+(\.\d+)? (KiB|MiB|GiB)$/m,
      /^analyze outputs: all present/m,
      /^hand-written: wall \d+\.\d s, peak RSS \d+(\.\d+)? (KiB|MiB|GiB)$/m,
      /^ratio analyze\/hand-written \(wall\): \d+\.\d\d$/m,
      /^(PASS|FAIL) analyze wall <= 60 s/m,
      /^(PASS|FAIL) analyze peak RSS <= 3\.00 GiB/m,
      /^(PASS|FAIL) ratio analyze\/hand-written <= 1\.5/m,
    ]) {
      assert.match(stdout, line);
    }

    const people = /^affected people: analyze=(\d+) hand-written=(\d+)$/m.exec(stdout);
    assert.ok(people, stdout);
    assert.ok(Number(people[1]) > 0, "some people are affected");
    assert.equal(people[1], people[2], "analyze and the hand-written query count the same people");
    const orgs = /^affected orgs: analyze=(\d+) hand-written=(\d+)$/m.exec(stdout);
    assert.equal(orgs?.[1], orgs?.[2], "same affected orgs");
    const admins = /^admins to notify: analyze=(\d+) hand-written=(\d+)$/m.exec(stdout);
    assert.equal(admins?.[1], admins?.[2], "same admins");
    assert.match(stdout, /^people by category: same in both$/m);
    assert.match(stdout, /^PASS counts agree with hand-written/m);

    // The second run reuses the data (the sizes marker matches).
    const again = run([...sizes, "--data-dir", dir]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^data: reused /m);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
