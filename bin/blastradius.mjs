#!/usr/bin/env node
// Plain JavaScript on purpose: it must run on any Node to say clearly when Node is too old to run the
// TypeScript sources directly (type stripping is on by default from Node 22.18 / 23.6).
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `blastradius: Node ${process.versions.node} is too old; Node >=22.18 is needed. ` +
      "Run it through npm (npx blastradius ...) in the project folder after 'npm install', which brings Node 24.\n",
  );
  process.exit(1);
}
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
