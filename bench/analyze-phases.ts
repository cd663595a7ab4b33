import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { DuckDBConnection } from "@duckdb/node-api";
import { loadConfig } from "../src/config/env.ts";
import { analyzeIncident } from "../src/impact/analyze-incident.ts";

/**
 * Where analyze spends its time: runs analyzeIncident (as the CLI does) with a progress callback that
 * times each stage, and times every SQL statement by wrapping the DuckDB connection's methods (no change
 * to src/). Prints the stages and the slowest statements.
 *
 * Usage: node bench/analyze-phases.ts --dataset FILE [--dataset FILE...] --identities DIR --out DIR
 */
const { values: o } = parseArgs({
  options: {
    dataset: { type: "string", multiple: true },
    identities: { type: "string" },
    out: { type: "string" },
    top: { type: "string", default: "15" },
  },
});
if (!o.dataset || !o.identities || !o.out)
  throw new Error("usage: --dataset FILE... --identities DIR --out DIR");

type Timed = { ms: number; text: string; stage: string };
const statements: Timed[] = [];
let stage = "start";
let depth = 0;
const proto = DuckDBConnection.prototype as unknown as Record<
  string,
  (...args: unknown[]) => Promise<unknown>
>;
for (const method of ["run", "runAndReadAll"]) {
  const original = proto[method];
  if (!original) continue;
  proto[method] = async function (this: unknown, ...args: unknown[]) {
    // runAndReadAll runs through run(): time only the outermost call.
    if (depth > 0) return original.apply(this, args);
    depth++;
    const t = performance.now();
    try {
      return await original.apply(this, args);
    } finally {
      depth--;
      statements.push({ ms: performance.now() - t, text: String(args[0]), stage });
    }
  };
}

/** The process's RSS high-water mark so far (DuckDB included), in KiB. */
function hwmKiB(): number {
  const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
  return Number(m?.[1] ?? 0);
}

const stages: { name: string; ms: number; hwmKiB: number }[] = [];
let stageStart = performance.now();
const started = stageStart;
const endStage = (now: number) => {
  const last = stages.at(-1);
  if (last) {
    last.ms = now - stageStart;
    last.hwmKiB = hwmKiB();
  }
};
await analyzeIncident(
  loadConfig(),
  { datasets: o.dataset, identitiesDir: o.identities, outDir: o.out },
  (name) => {
    const now = performance.now();
    endStage(now);
    stages.push({ name, ms: 0, hwmKiB: 0 });
    stage = name;
    stageStart = now;
  },
);
endStage(performance.now());

const s = (ms: number) => `${(ms / 1000).toFixed(1).padStart(6)} s`;
const gib = (kib: number) => `${(kib / 1024 ** 2).toFixed(2)} GiB`;
process.stdout.write(
  `  total ${s(performance.now() - started)}\n  by stage (wall; peak RSS so far at its end):\n`,
);
for (const st of stages) process.stdout.write(`    ${s(st.ms)}  ${gib(st.hwmKiB)}  ${st.name}\n`);
const top = Number(o.top);
process.stdout.write(`  slowest ${top} SQL statements:\n`);
for (const t of [...statements].sort((a, b) => b.ms - a.ms).slice(0, top)) {
  const text = t.text.replace(/\s+/g, " ").trim();
  process.stdout.write(
    `    ${s(t.ms)}  [${t.stage}] ${text.length > 150 ? `${text.slice(0, 150)}…` : text}\n`,
  );
}
