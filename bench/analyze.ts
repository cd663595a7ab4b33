import { execFileSync, spawn } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdir, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { Summary } from "../src/impact/analyze-incident.ts";
import { type DataFiles, ensureData, FULL_SIZES, type Sizes } from "./generate-data.ts";

/**
 * npm run bench:analyze [-- --events N --profiles N --users N --orgs N --data-dir DIR --regenerate
 *                          --strict --phases]
 *
 * Generates (once) a Mixpanel incident at the stated size, runs the real `blastradius analyze` CLI on it
 * in a child process, runs a hand-written DuckDB query answering the same question in another, and
 * compares wall time and peak RSS against the targets. Exit 0 unless --strict and a target fails or
 * the two disagree on the counts.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);

const TARGET_WALL_S = 60;
const TARGET_RSS_BYTES = 3 * 1024 ** 3;
const TARGET_RATIO = 1.5;

const { values: o } = parseArgs({
  options: {
    events: { type: "string" },
    profiles: { type: "string" },
    users: { type: "string" },
    orgs: { type: "string" },
    "data-dir": { type: "string" },
    regenerate: { type: "boolean", default: false },
    strict: { type: "boolean", default: false },
    phases: { type: "boolean", default: false },
  },
});

function count(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value.replaceAll("_", ""));
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${flag} must be a whole number of at least 1`);
  return n;
}

const sizes: Sizes = {
  events: count(o.events, "--events", FULL_SIZES.events),
  profiles: count(o.profiles, "--profiles", FULL_SIZES.profiles),
  users: count(o.users, "--users", FULL_SIZES.users),
  orgs: count(o.orgs, "--orgs", FULL_SIZES.orgs),
};
const dataDir = path.resolve(o["data-dir"] ?? path.join(here, ".data"));

const GiB = 1024 ** 3;
const fmtBytes = (n: number) =>
  n >= GiB
    ? `${(n / GiB).toFixed(2)} GiB`
    : n >= 1024 ** 2
      ? `${(n / 1024 ** 2).toFixed(1)} MiB`
      : `${(n / 1024).toFixed(1)} KiB`;
const fmtS = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const say = (line: string) => process.stdout.write(`${line}\n`);

type Measured = {
  wallMs: number;
  maxRssBytes: number;
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
};

/** Runs `node bench/measure.ts RESULT script args` and returns wall time (seen from here) and peak RSS. */
async function measured(label: string, script: string, args: readonly string[]): Promise<Measured> {
  const resultFile = path.join(dataDir, `measure-${label}.json`);
  await rm(resultFile, { force: true });
  const started = performance.now();
  const child = spawn(process.execPath, [path.join(here, "measure.ts"), resultFile, script, ...args], {
    cwd: root,
    env: process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Also poll the child's high-water mark, so a child that is killed still has a figure.
  let polledHwmKiB = 0;
  const poll = setInterval(() => {
    readFile(`/proc/${child.pid}/status`, "utf8")
      .then((text) => {
        const kib = Number(/^VmHWM:\s+(\d+)\s+kB$/m.exec(text)?.[1] ?? 0);
        polledHwmKiB = Math.max(polledHwmKiB, kib);
      })
      .catch(() => {});
  }, 250);
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (c, s) => resolve([c, s]));
  });
  const wallMs = performance.now() - started;
  clearInterval(poll);
  let maxRssBytes = polledHwmKiB > 0 ? polledHwmKiB * 1024 : Number.NaN;
  try {
    const r = JSON.parse(await readFile(resultFile, "utf8")) as {
      maxRssKiB: number;
      vmHwmKiB: number | null;
    };
    maxRssBytes = Math.max(r.maxRssKiB, r.vmHwmKiB ?? 0, polledHwmKiB) * 1024;
  } catch {
    // The child died before writing its figures (killed): the polled high-water mark stands.
  }
  if (code !== 0) {
    process.stderr.write(
      `${label} ${code === null ? `killed by ${signal}` : `exited with ${code}`}\n${stderr.slice(-4000)}\n`,
    );
  }
  return { wallMs, maxRssBytes, stdout, stderr, code, signal };
}

function gitDescribe(): string {
  try {
    const git = (...args: string[]) => execFileSync("git", args, { cwd: root, encoding: "utf8" }).trim();
    const dirty = git("status", "--porcelain", "--", "src", "bin").length > 0;
    return `commit ${git("rev-parse", "--short", "HEAD")}${dirty ? " with uncommitted changes in src/ or bin/" : ""}`;
  } catch {
    return "not a git checkout";
  }
}

function cpuModel(): string {
  return os.cpus()[0]?.model.trim() ?? "unknown CPU";
}

async function cpuInfoModel(): Promise<string> {
  try {
    const text = await readFile("/proc/cpuinfo", "utf8");
    return /^model name\s*:\s*(.+)$/m.exec(text)?.[1]?.trim() ?? cpuModel();
  } catch {
    return cpuModel();
  }
}

async function countLines(file: string): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let i = chunk.indexOf(10);
    while (i !== -1) {
      n++;
      i = chunk.indexOf(10, i + 1);
    }
  }
  return n;
}

/** Reads every input once so both timed runs start from the same (warm) page cache. */
async function warmCache(files: readonly string[]): Promise<void> {
  for (const f of files) {
    for await (const _ of createReadStream(f, { highWaterMark: 8 << 20 })) {
      // discard
    }
  }
}

async function main(): Promise<number> {
  await mkdir(dataDir, { recursive: true });
  const memTotal = os.totalmem();
  say("blastradius analyze benchmark");
  say(
    `machine: ${os.availableParallelism()} cores, ${fmtBytes(memTotal)} memory, ${await cpuInfoModel()}; ` +
      `Node ${process.version}, ${os.type()} ${os.release()}`,
  );
  say(
    `config: BLASTRADIUS_MEMORY_LIMIT=${process.env.BLASTRADIUS_MEMORY_LIMIT ?? "2GB (default)"}, ` +
      `BLASTRADIUS_THREADS=${process.env.BLASTRADIUS_THREADS ?? `${os.availableParallelism()} (default)`}`,
  );

  say(`code: ${gitDescribe()}`);

  const data = await ensureData(dataDir, sizes, { regenerate: o.regenerate, log: say });
  const f: DataFiles = data.files;
  say(
    data.generated
      ? `data: generated into ${dataDir} in ${data.seconds.toFixed(1)} s`
      : `data: reused ${dataDir} (sizes marker matches; --regenerate to rebuild)`,
  );
  const memberships = (await countLines(f.memberships)) - 1;
  say(
    `sizes: events=${sizes.events} profiles=${sizes.profiles} users=${sizes.users} orgs=${sizes.orgs} memberships=${memberships}`,
  );
  const inputs: [string, string][] = [
    ["events", f.events],
    ["profiles", f.profiles],
    ["users.csv", f.users],
    ["orgs.csv", f.orgs],
    ["memberships.csv", f.memberships],
  ];
  let total = 0;
  const parts: string[] = [];
  for (const [name, file] of inputs) {
    const size = (await stat(file)).size;
    total += size;
    parts.push(`${name} ${fmtBytes(size)}`);
  }
  say(`input files: ${parts.join(", ")} (total ${fmtBytes(total)})`);
  await warmCache(inputs.map(([, file]) => file));

  const outAnalyze = path.join(dataDir, "out", "analyze");
  const outHand = path.join(dataDir, "out", "handwritten");
  await rm(path.join(dataDir, "out"), { recursive: true, force: true });

  const inputArgs = ["--dataset", f.events, "--dataset", f.profiles, "--identities", f.identitiesDir];
  const analyze = await measured("analyze", path.join(root, "bin", "blastradius.mjs"), [
    "analyze",
    ...inputArgs,
    "--out",
    outAnalyze,
    "--quiet",
  ]);
  const outputs = ["summary.json", "people.csv", "orgs.csv", "quarantine.jsonl"];
  const missing: string[] = [];
  for (const name of outputs)
    if (!(await stat(path.join(outAnalyze, name)).catch(() => null))) missing.push(name);
  const summary = missing.includes("summary.json")
    ? null
    : (JSON.parse(await readFile(path.join(outAnalyze, "summary.json"), "utf8")) as Summary);
  say(
    `analyze: wall ${fmtS(analyze.wallMs)}, peak RSS ${fmtBytes(analyze.maxRssBytes)}` +
      (analyze.code === 0
        ? ""
        : ` (FAILED, ${analyze.code === null ? `killed by ${analyze.signal}` : `exit ${analyze.code}`})`),
  );
  say(
    `analyze outputs: ${missing.length === 0 ? `all present (${outputs.join(", ")})` : `MISSING ${missing.join(", ")}`}`,
  );
  if (summary) {
    say(
      `analyze summary: rows read=${summary.rows.read} used=${summary.rows.used} quarantined=${summary.rows.quarantined}; ` +
        `people=${summary.affected_people} (matched=${summary.subjects.matched} dataset-email-only=${summary.subjects.unmatched_with_email}, ` +
        `anonymous not counted=${summary.subjects.anonymous}); orgs=${summary.affected_orgs} admins=${summary.admins_to_notify} ` +
        `conflicts=${summary.conflicts}`,
    );
  }

  const hand = await measured("handwritten", path.join(here, "handwritten.ts"), [
    "--events",
    f.events,
    "--profiles",
    f.profiles,
    "--identities",
    f.identitiesDir,
    "--out",
    outHand,
  ]);
  type HandCounts = {
    affected_people: number;
    matched: number;
    affected_orgs: number;
    admins_to_notify: number;
    quarantined: number;
    by_category: Record<string, number>;
  };
  let handCounts: HandCounts | null = null;
  try {
    handCounts = JSON.parse(hand.stdout.trim().split("\n").at(-1) ?? "") as HandCounts;
  } catch {
    handCounts = null;
  }
  say(
    `hand-written: wall ${fmtS(hand.wallMs)}, peak RSS ${fmtBytes(hand.maxRssBytes)}` +
      (hand.code === 0
        ? ""
        : ` (FAILED, ${hand.code === null ? `killed by ${hand.signal}` : `exit ${hand.code}`})`),
  );
  const ratio = analyze.wallMs / hand.wallMs;
  say(`ratio analyze/hand-written (wall): ${ratio.toFixed(2)}`);

  const pair = (a: number | undefined, b: number | undefined) =>
    `analyze=${a ?? "?"} hand-written=${b ?? "?"}`;
  say(`affected people: ${pair(summary?.affected_people, handCounts?.affected_people)}`);
  say(`matched to users: ${pair(summary?.subjects.matched, handCounts?.matched)}`);
  say(`affected orgs: ${pair(summary?.affected_orgs, handCounts?.affected_orgs)}`);
  say(`admins to notify: ${pair(summary?.admins_to_notify, handCounts?.admins_to_notify)}`);
  say(`quarantined rows: ${pair(summary?.rows.quarantined, handCounts?.quarantined)}`);
  const catNames = [
    ...new Set([...Object.keys(summary?.by_category ?? {}), ...Object.keys(handCounts?.by_category ?? {})]),
  ];
  const catDiff = catNames.filter((c) => summary?.by_category[c] !== handCounts?.by_category[c]);
  say(
    `people by category: ${catDiff.length === 0 ? "same in both" : `DIFFER for ${catDiff.map((c) => `${c} (${pair(summary?.by_category[c], handCounts?.by_category[c])})`).join(", ")}`}`,
  );
  const countsAgree =
    summary !== null &&
    handCounts !== null &&
    summary.affected_people === handCounts.affected_people &&
    summary.subjects.matched === handCounts.matched &&
    summary.affected_orgs === handCounts.affected_orgs &&
    summary.admins_to_notify === handCounts.admins_to_notify &&
    catDiff.length === 0;

  const checks: [string, boolean, string][] = [
    [
      `analyze wall <= ${TARGET_WALL_S} s`,
      analyze.code === 0 && analyze.wallMs <= TARGET_WALL_S * 1000,
      `${fmtS(analyze.wallMs)}, ${analyze.wallMs <= TARGET_WALL_S * 1000 ? "under" : "over"} by ${fmtS(Math.abs(TARGET_WALL_S * 1000 - analyze.wallMs))}`,
    ],
    [
      `analyze peak RSS <= ${fmtBytes(TARGET_RSS_BYTES)}`,
      analyze.code === 0 && analyze.maxRssBytes <= TARGET_RSS_BYTES,
      fmtBytes(analyze.maxRssBytes),
    ],
    [
      `ratio analyze/hand-written <= ${TARGET_RATIO}`,
      analyze.code === 0 && hand.code === 0 && ratio <= TARGET_RATIO,
      ratio.toFixed(2),
    ],
    [
      "analyze outputs present",
      analyze.code === 0 && missing.length === 0,
      missing.length ? missing.join(", ") : "ok",
    ],
    ["counts agree with hand-written", countsAgree, countsAgree ? "ok" : "see above"],
  ];
  for (const [name, ok, detail] of checks) say(`${ok ? "PASS" : "FAIL"} ${name} (${detail})`);

  if (o.phases) {
    const phases = await measured("phases", path.join(here, "analyze-phases.ts"), [
      ...inputArgs,
      "--out",
      path.join(dataDir, "out", "phases"),
    ]);
    say(
      `analyze phases (separate run, wall ${fmtS(phases.wallMs)}, peak RSS ${fmtBytes(phases.maxRssBytes)}):`,
    );
    process.stdout.write(phases.stdout);
  }

  const failed = checks.some(([, ok]) => !ok);
  return o.strict && failed ? 1 : 0;
}

process.exitCode = await main();
