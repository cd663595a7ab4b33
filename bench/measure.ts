import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

/**
 * Usage: node bench/measure.ts RESULT.json SCRIPT [ARGS...]
 *
 * Runs SCRIPT in this process as if it had been started as `node SCRIPT ARGS...`, and when the process
 * exits writes to RESULT.json its peak resident memory and wall time. DuckDB runs inside the Node
 * process, so the process's RSS high-water mark covers its buffers and threads too.
 */
const [resultFile, script, ...args] = process.argv.slice(2);
if (resultFile === undefined || script === undefined) {
  process.stderr.write("usage: node bench/measure.ts RESULT.json SCRIPT [ARGS...]\n");
  process.exit(2);
}

function vmHwmKiB(): number | null {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
    return m?.[1] ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

const started = performance.now();
process.on("exit", (code) => {
  const result = {
    exitCode: code,
    wallMs: performance.now() - started,
    // getrusage(RUSAGE_SELF).ru_maxrss, in KiB on Linux.
    maxRssKiB: process.resourceUsage().maxRSS,
    vmHwmKiB: vmHwmKiB(),
  };
  writeFileSync(resultFile, `${JSON.stringify(result)}\n`);
});

const target = path.resolve(script);
process.argv = [process.argv[0] ?? "node", target, ...args];
await import(pathToFileURL(target).href);
