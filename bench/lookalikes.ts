import { spawn } from "node:child_process";
import { closeSync, openSync, writeSync } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { generateLookalikes } from "../src/phishing/lookalikes/generate-lookalikes.ts";

/**
 * npm run bench:lookalikes [-- --lines N --keep --strict]
 *
 * Times lookalike generation for openai.com and mixpanel.com (first call, with the tables built, and
 * warm), then writes a feed of N lines (default 10 million: random domains, about one in a thousand
 * a lookalike of an official domain, one in twenty a certificate-transparency JSON line) to a temp
 * file and runs the real `blastradius lookalikes match` CLI on it against five official domains.
 * Targets: generation well under a second; the match under 60 s. Exit 0 unless --strict and a
 * target fails.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = path.join(here, "../bin/blastradius.mjs");
const measure = path.join(here, "measure.ts");

const TARGET_GENERATE_MS = 1000;
const TARGET_MATCH_S = 60;
const OFFICIALS = ["openai.com", "mixpanel.com", "stripe.com", "paypal.com", "barclays.co.uk"];

const { values: o } = parseArgs({
  options: {
    lines: { type: "string" },
    keep: { type: "boolean", default: false },
    strict: { type: "boolean", default: false },
  },
});
const lines = o.lines === undefined ? 10_000_000 : Number(o.lines.replaceAll("_", ""));
if (!Number.isSafeInteger(lines) || lines < 1)
  throw new Error("--lines must be a whole number of at least 1");

/** A small seeded generator, so that every run reads the same feed. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TLDS = ["com", "com", "com", "com", "net", "org", "io", "co.uk", "de", "xyz", "online", "app", "info"];
const SUBS = ["www", "mail", "api", "cdn", "shop", "login", "m", "dev"];
const LETTERS = [..."abcdefghijklmnopqrstuvwxyz"];
const ALNUM = [..."abcdefghijklmnopqrstuvwxyz0123456789"];

function writeFeed(file: string, count: number): { lookalikes: number; json: number } {
  const rand = random(42);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
  const lookalikes = OFFICIALS.flatMap((d) => generateLookalikes(d).map((l) => l.punycode));
  const randomName = () => {
    const length = 3 + Math.floor(rand() * rand() * 16);
    let label = pick(LETTERS);
    for (let i = 1; i < length; i++) label += pick(ALNUM);
    const name = `${label}.${pick(TLDS)}`;
    return rand() < 0.3 ? `${pick(SUBS)}.${name}` : name;
  };
  const fd = openSync(file, "w");
  let buffer: string[] = [];
  let planted = 0;
  let json = 0;
  for (let i = 0; i < count; i++) {
    let name: string;
    if (rand() < 0.001) {
      name = pick(lookalikes);
      planted++;
    } else {
      name = randomName();
    }
    if (rand() < 0.05) {
      buffer.push(JSON.stringify({ all_domains: [name, `www.${name}`] }));
      json++;
    } else {
      buffer.push(name);
    }
    if (buffer.length === 65_536) {
      writeSync(fd, `${buffer.join("\n")}\n`);
      buffer = [];
    }
  }
  if (buffer.length) writeSync(fd, `${buffer.join("\n")}\n`);
  closeSync(fd);
  return { lookalikes: planted, json };
}

function timeGenerate(domain: string) {
  const first = performance.now();
  const count = generateLookalikes(domain).length;
  const firstMs = performance.now() - first;
  const runs = 5;
  const warm = performance.now();
  for (let i = 0; i < runs; i++) generateLookalikes(domain);
  return { domain, count, firstMs, warmMs: (performance.now() - warm) / runs };
}

type MatchRun = { seconds: number; reported: number; stderr: string; peakRssKiB: number | null };

/** The CLI in a child process under bench/measure.ts, which records its peak memory. */
function runMatch(feed: string, resultFile: string): Promise<MatchRun> {
  return new Promise((resolve, reject) => {
    const args = [
      measure,
      resultFile,
      bin,
      "lookalikes",
      "match",
      ...OFFICIALS.flatMap((d) => ["--domain", d]),
      "--feed",
      feed,
    ];
    const started = performance.now();
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let reported = 0;
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      for (const byte of chunk) if (byte === 10) reported++;
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", async (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) {
        reject(new Error(`match exited ${code}: ${stderr}`));
        return;
      }
      const result = JSON.parse(await readFile(resultFile, "utf8")) as { maxRssKiB?: number };
      resolve({ seconds, reported, stderr, peakRssKiB: result.maxRssKiB ?? null });
    });
  });
}

const dir = await mkdtemp(path.join(os.tmpdir(), "blastradius-lookalikes-bench-"));
try {
  console.log("Generation (in process):");
  let generationOk = true;
  for (const domain of ["openai.com", "mixpanel.com"]) {
    const g = timeGenerate(domain);
    generationOk &&= g.firstMs < TARGET_GENERATE_MS;
    console.log(
      `  ${domain.padEnd(14)} ${String(g.count).padStart(6)} names  first call ${g.firstMs.toFixed(0)} ms  warm ${g.warmMs.toFixed(0)} ms  (target < ${TARGET_GENERATE_MS} ms)`,
    );
  }

  const feed = path.join(dir, "feed.txt");
  const writeStarted = performance.now();
  const planted = writeFeed(feed, lines);
  const size = (await stat(feed)).size;
  console.log(
    `Feed: ${lines.toLocaleString("en")} lines, ${(size / 1024 ** 2).toFixed(0)} MiB, ${planted.lookalikes} planted lookalikes, ${planted.json} JSON lines (written in ${((performance.now() - writeStarted) / 1000).toFixed(1)} s)`,
  );

  const m = await runMatch(feed, path.join(dir, "measure.json"));
  const matchOk = m.seconds < TARGET_MATCH_S;
  console.log(`Match against ${OFFICIALS.length} official domains (CLI, wall time with start-up):`);
  console.log(
    `  ${m.seconds.toFixed(1)} s  ${Math.round(lines / m.seconds).toLocaleString("en")} lines/s  ${m.reported} reported  peak RSS ${m.peakRssKiB === null ? "?" : `${(m.peakRssKiB / 1024).toFixed(0)} MiB`}  (target < ${TARGET_MATCH_S} s)`,
  );
  console.log(
    m.stderr
      .trim()
      .split("\n")
      .map((l) => `  ${l}`)
      .join("\n"),
  );
  if (o.keep) console.log(`Feed kept: ${feed}`);
  if (o.strict && !(generationOk && matchOk)) process.exitCode = 1;
} finally {
  if (!o.keep) await rm(dir, { recursive: true, force: true });
}
