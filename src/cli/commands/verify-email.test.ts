import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { put } from "../../lib/test-fixtures.ts";
import { buildCorpus, type Corpus } from "../../phishing/verify-email/test-corpus.ts";

/** `blastradius verify-email` as a person or a script uses it, offline with the corpus's DNS cache. */

const bin = fileURLToPath(new URL("../../../bin/blastradius.mjs", import.meta.url));

type Run = { code: number | null; stdout: string; stderr: string };

/** Runs the command in its own process. */
function cli(args: string[], options: { env?: Record<string, string>; input?: Buffer } = {}): Promise<Run> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("BLASTRADIUS_") && k !== "DATABASE_URL"),
  );
  const child = spawn(process.execPath, [bin, "verify-email", ...args], {
    env: { ...clean, ...options.env },
    timeout: 300_000,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  child.stdin.end(options.input ?? "");
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs several, two at a time: each start loads the whole CLI, which is most of a run's time. */
async function cliAll(runs: [string[], { env?: Record<string, string>; input?: Buffer }?][]): Promise<Run[]> {
  const results: Run[] = new Array(runs.length);
  let next = 0;
  const lane = async () => {
    while (next < runs.length) {
      const i = next++;
      const [args, options] = runs[i] as (typeof runs)[number];
      results[i] = await cli(args, options);
    }
  };
  await Promise.all([lane(), lane()]);
  return results;
}

describe("blastradius verify-email", { timeout: 900_000 }, () => {
  let corpus: Corpus;
  let offline: string[];

  before(async () => {
    corpus = await buildCorpus();
    offline = ["--official", "openai.com", "--dns-cache", corpus.dnsCacheFile];
  });

  it("prints the verdict, the reasons and the checks as text, exit 0 whatever the verdict", async () => {
    const [genuine, spoofed] = (await cliAll([
      [[corpus.files.genuine, ...offline]],
      [[corpus.files["spoofed-from"], ...offline]],
    ])) as [Run, Run];
    assert.equal(genuine.code, 0, genuine.stderr);
    assert.match(genuine.stdout, /^AUTHENTIC: This message comes from us \(openai\.com\)/);
    assert.match(genuine.stdout, /\nFrom: +"OpenAI" <noreply@openai\.com>\n/);
    assert.match(genuine.stdout, /\n {2}DKIM +pass \(openai\.com, aligned\)\n/);
    assert.match(genuine.stdout, /\n {2}SPF +pass \(192\.0\.2\.25 for openai\.com\)\n/);
    assert.match(genuine.stdout, /\n {2}DMARC +pass \(openai\.com, policy reject\)\n/);

    assert.equal(spoofed.code, 0, spoofed.stderr);
    assert.match(spoofed.stdout, /^PHISHING: This message pretends to come from us/);
    assert.match(spoofed.stdout, /- \[phishing\] dmarc-fail: The message claims to come from openai\.com/);
  });

  it("prints the result as JSON with --json", async () => {
    const r = await cli([corpus.files["display-name"], ...offline, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.equal(json.verdict, "phishing");
    assert.deepEqual(Object.keys(json.auth).sort(), ["arc", "dkim", "dmarc", "spf"]);
    assert.deepEqual(json.from, {
      name: "OpenAI Support",
      address: "support@mailer.example",
      domain: "mailer.example",
    });
    assert.ok(
      json.reasons.some(
        (r: { code: string; message: string }) =>
          r.code === "display-name-claims-company" && r.message.includes("OpenAI Support"),
      ),
    );
  });

  it("reads the message from standard input with -, and the settings from the environment", async () => {
    const r = await cli(["-", "--json"], {
      input: corpus.messages["reply-to"],
      env: { BLASTRADIUS_OFFICIAL_DOMAINS: "openai.com", BLASTRADIUS_DNS_CACHE: corpus.dnsCacheFile },
    });
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.equal(json.verdict, "suspicious");
    assert.deepEqual(
      json.reasons.map((x: { code: string }) => x.code),
      ["reply-to-elsewhere"],
    );
  });

  it("exits 3 with --fail-on when the verdict is that bad or worse, else 0", async () => {
    const suspicious = corpus.files["broken-signature"];
    const runs = await cliAll([
      [[suspicious, ...offline, "--fail-on", "suspicious"]],
      [[suspicious, ...offline, "--fail-on", "phishing"]],
      [[corpus.files["mismatched-link"], ...offline, "--fail-on", "phishing"]],
      [[corpus.files.genuine, ...offline, "--fail-on", "suspicious"]],
    ]);
    assert.deepEqual(
      runs.map((r) => r.code),
      [3, 0, 3, 0],
      runs.map((r) => r.stderr).join("\n"),
    );
  });

  it("exits 2 naming the option, the setting or the file", async () => {
    const notMessage = await put(corpus.dir, "note.txt", "Is this from you?\n");
    const cases: [string[], Record<string, string>, RegExp][] = [
      [
        [corpus.files.genuine, "--dns-cache", corpus.dnsCacheFile],
        {},
        /missing required option --official DOMAIN/,
      ],
      [
        [corpus.files.genuine, "--official", "co.uk", "--dns-cache", corpus.dnsCacheFile],
        {},
        /--official "co\.uk" is a public suffix/,
      ],
      [
        [corpus.files.genuine],
        { BLASTRADIUS_OFFICIAL_DOMAINS: "openai.com,co.uk" },
        /BLASTRADIUS_OFFICIAL_DOMAINS "co\.uk"/,
      ],
      [[`${corpus.dir}/nope.eml`, ...offline], {}, /nope\.eml: no such file/],
      [
        [corpus.files.genuine, "--official", "openai.com", "--dns-cache", `${corpus.dir}/none.json`],
        {},
        /--dns-cache .*none\.json: no such file/,
      ],
      [
        [corpus.files.genuine, "--official", "openai.com"],
        { BLASTRADIUS_DNS_CACHE: `${corpus.dir}/none.json` },
        /BLASTRADIUS_DNS_CACHE .*none\.json: no such file/,
      ],
      [
        [corpus.files.genuine, ...offline, "--fail-on", "bad"],
        {},
        /--fail-on must be suspicious or phishing/,
      ],
      [[notMessage, ...offline], {}, /not an email message/],
      [[...offline], {}, /missing FILE/],
      [[corpus.files.genuine, ...offline, "--offical", "x"], {}, /unknown option '--offical'/],
    ];
    const runs = await cliAll(cases.map(([args, env]) => [args, { env }]));
    runs.forEach((r, i) => {
      const [args, , pattern] = cases[i] as (typeof cases)[number];
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.equal(r.stdout, "");
    });
  });
});
