import { type Command, parseOptions, positiveInt, requireOption } from "../command.ts";

const help = `Usage: blastradius demo-data --out DIR [--users N] [--orgs N] [--events N] [--seed N]

Writes a realistic synthetic incident to DIR: a Mixpanel event export (dataset/mixpanel-events.jsonl.gz),
a Mixpanel engage profile page (dataset/mixpanel-profiles.json), an identity store (identities/) and
the results 'analyze' must give for it, worked out while generating (expected/).

Options:
  --out DIR      where to write (created if missing)
  --users N      users in the identity store (default 2000)
  --orgs N       organisations (default 200)
  --events N     events in the export (default 20000)
  --seed N       random seed; the same seed gives the same files (default 1)
  -h, --help     this help

Example:
  blastradius demo-data --out ./demo && blastradius analyze --dataset ./demo/dataset/mixpanel-events.jsonl.gz \\
    --dataset ./demo/dataset/mixpanel-profiles.json --identities ./demo/identities --out ./demo/result`;

export const demoDataCommand: Command = {
  name: "demo-data",
  help,
  run: async (argv) => {
    const o = parseOptions(argv, {
      out: { type: "string" },
      users: { type: "string" },
      orgs: { type: "string" },
      events: { type: "string" },
      seed: { type: "string" },
    });
    const outDir = requireOption(o.out, "--out DIR");
    const options = {
      outDir,
      users: positiveInt(o.users, "--users", 2000),
      orgs: positiveInt(o.orgs, "--orgs", 200),
      events: positiveInt(o.events, "--events", 20000),
      seed: positiveInt(o.seed, "--seed", 1),
    };
    // Loaded on use: the generator is not needed for any other command.
    const { generateDemoIncident } = await import("../../demo/generate-demo-incident.ts");
    const manifest = await generateDemoIncident(options);
    process.stdout.write(
      `${[
        `Demo incident written to ${outDir}`,
        `  datasets:   ${manifest.datasets.join(", ")}`,
        `  identities: ${manifest.identitiesDir}`,
        `  expected:   ${manifest.expectedDir}`,
      ].join("\n")}\n`,
    );
    return 0;
  },
};
