import path from "node:path";
import { formatObligations, formatSummary } from "./cli/commands/analyze.ts";
import { terminalProgress } from "./cli/progress.ts";
import { loadConfig } from "./config/env.ts";
import { generateDemoIncident } from "./demo/generate-demo-incident.ts";
import { analyzeIncident } from "./impact/analyze-incident.ts";
import { describeError, exitCodeFor } from "./lib/errors.ts";
import { exposureFromSummary, obligationsForIncident } from "./obligations/obligations-for-incident.ts";

/**
 * `npm start`: until the web UI lands, a new user sees the engine work end to end on a synthetic
 * incident: vendor exports and an identity store are generated, analysed, and summarised.
 */
async function start(): Promise<number> {
  const config = loadConfig();
  const root = path.resolve(process.env.BLASTRADIUS_DEMO_DIR ?? ".data/demo");
  process.stdout.write(`Generating a demo incident in ${root} ...\n`);
  const demo = await generateDemoIncident({ outDir: root, users: 2000, orgs: 200, events: 20000, seed: 1 });
  const outDir = path.join(root, "result");
  const bar = terminalProgress(true);
  try {
    const summary = await analyzeIncident(
      config,
      { datasets: demo.datasets, identitiesDir: demo.identitiesDir, outDir },
      bar.progress,
    );
    bar.stop();
    process.stdout.write(`\n${formatSummary(summary, outDir)}\n`);
    // As if the company became aware of the breach just now.
    const decisions = await obligationsForIncident({
      exposure: exposureFromSummary(summary, "summary"),
      clocks: { aware: new Date().toISOString().replace(/\.\d{3}Z$/, "Z") },
      controllerCountry: "US",
    });
    process.stdout.write(`\nIf you became aware of this breach now:\n${formatObligations(decisions)}\n`);
    process.stdout.write(
      `\nThe vendor's files are in ${path.dirname(demo.datasets[0] ?? root)}; what analyze must find, worked out while generating, is in ${demo.expectedDir}.\n` +
        "Try it on your own data: npx blastradius analyze --help\n",
    );
    return 0;
  } finally {
    bar.stop();
  }
}

start().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`blastradius: ${describeError(error)}\n`);
    process.exitCode = exitCodeFor(error);
  },
);
