import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { parse } from "csv-parse/sync";
import { describeError, exitCodeFor } from "../../lib/errors.ts";
import { put, tempDir, testConfig } from "../../lib/test-fixtures.ts";
import { lookalikesCommand } from "./lookalikes.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = path.join(here, "../../../bin/blastradius.mjs");
const data = path.join(here, "../../phishing/lookalikes/data");

const run = (argv: string[]) => lookalikesCommand.run(argv, testConfig);

function cli(args: string[], input?: string | Buffer) {
  const r = spawnSync(process.execPath, [bin, "lookalikes", ...args], {
    encoding: "utf8",
    input,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("blastradius lookalikes", () => {
  it("prints its full help", () => {
    const r = cli(["--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: blastradius lookalikes DOMAIN\.\.\./);
    assert.match(r.stdout, /blastradius lookalikes match --domain DOMAIN/);
    for (const word of [
      "--tld-dict",
      "--dict",
      "--format",
      "--feed",
      "--min-score",
      "homoglyph",
      "combosquatting",
    ]) {
      assert.ok(r.stdout.includes(word), word);
    }
  });

  it("lists one ASCII domain a line by default, never the original", () => {
    const r = cli(["openai.com"]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.ok(lines.length >= 2697, `${lines.length} lines`);
    for (const line of lines) assert.match(line, /^[a-z0-9.-]+$/, line);
    assert.ok(lines.includes("opnai.com") && lines.includes("poenai.com"));
    assert.ok(lines.some((l) => l.startsWith("xn--")));
    assert.ok(!lines.includes("openai.com"));
    assert.equal(new Set(lines).size, lines.length, "no name twice");
  });

  it("gives Unicode and punycode forms with the fuzzer as JSON and CSV, with the dictionaries", () => {
    const dicts = ["--tld-dict", `${data}/common_tlds.dict`, "--dict", `${data}/english.dict`];
    const json = cli(["openai.com", ...dicts, "--format", "json"]);
    assert.equal(json.code, 0, json.stderr);
    const list = JSON.parse(json.stdout) as {
      fuzzer: string;
      domain: string;
      punycode: string;
      original: string;
    }[];
    assert.ok(list.length >= 3003, `${list.length}`);
    assert.deepEqual(Object.keys(list[0] ?? {}), ["fuzzer", "domain", "punycode", "original"]);
    const cyr = list.find((l) => l.fuzzer === "cyrillic");
    assert.ok(cyr && cyr.domain !== cyr.punycode && cyr.punycode.startsWith("xn--"));
    assert.ok(list.some((l) => l.fuzzer === "dictionary" && l.domain === "openai-login.com"));
    assert.ok(list.some((l) => l.fuzzer === "tld-swap" && l.domain === "openai.ly"));
    assert.ok(list.every((l) => l.original === "openai.com"));

    const csv = cli(["mixpanel.com", "www.openai.co.uk", "--format", "csv"]);
    assert.equal(csv.code, 0, csv.stderr);
    assert.equal(csv.stdout.split("\n")[0], "fuzzer,domain,punycode,original");
    const rows = parse(csv.stdout, { columns: true }) as Record<string, string>[];
    assert.ok(rows.filter((r) => r.original === "mixpanel.com").length >= 3041);
    assert.ok(rows.some((r) => r.domain === "www.openai.com.uk" && r.fuzzer === "wrong-sld"));
  });

  it("exits 2 naming the option or file on bad usage and bad input", () => {
    const format = cli(["openai.com", "--format", "xml"]);
    assert.equal(format.code, 2);
    assert.match(format.stderr, /--format must be list, json or csv \(got "xml"\)/);
    const dict = cli(["openai.com", "--dict", "/nonexistent/words.dict"]);
    assert.equal(dict.code, 2);
    assert.match(dict.stderr, /--dict \/nonexistent\/words\.dict: no such file/);
  });

  // The same checks in this process: every start of the CLI loads the whole application.
  it("refuses a missing or invalid DOMAIN and unknown options with usage or input errors", async () => {
    for (const [argv, message] of [
      [[], /missing DOMAIN/],
      [["foo_bar.com"], /DOMAIN "foo_bar\.com" is not a valid domain/],
      [["co.uk"], /public suffix/],
      [["openai.com", "--tld", "x"], /--tld/],
      [["openai.com", "--tld-dict", here], /--tld-dict .*: cannot read it/],
    ] as const) {
      const error = await run([...argv]).then(
        () => assert.fail(`${argv.join(" ")} succeeded`),
        (e: unknown) => e,
      );
      assert.equal(exitCodeFor(error), 2, argv.join(" "));
      assert.match(describeError(error), message);
    }
  });
});

describe("blastradius lookalikes match", () => {
  const feedLines = [
    "opnai.com",
    "example.com",
    "api.openai.com",
    "openai.com",
    "foo_bar.com",
    JSON.stringify({ all_domains: ["openai-support.com", "*.xn--80aj0ai6iw2f.com"] }),
    "{broken",
    "mixpanal.io",
  ];

  it("reports each lookalike with official, score and reasons; counts bad lines on stderr", async () => {
    const dir = await tempDir();
    const feed = await put(dir, "feed.txt", `${feedLines.join("\n")}\n`);
    const r = cli(["match", "--domain", "openai.com", "--domain", "mixpanel.com", "--feed", feed]);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout
      .trimEnd()
      .split("\n")
      .map((l) => l.split("\t"));
    assert.deepEqual(
      rows.map((row) => [row[0], row[1]]),
      [
        ["opnai.com", "openai.com"],
        ["openai-support.com", "openai.com"],
        ["xn--80aj0ai6iw2f.com", "openai.com"],
        ["mixpanal.io", "mixpanel.com"],
      ],
    );
    for (const row of rows) assert.match(row[2] ?? "", /^\d+$/);
    assert.match(rows[2]?.[3] ?? "", /skeleton/);
    assert.match(r.stderr, /1 invalid name left out/);
    assert.match(r.stderr, /line 5: "foo_bar\.com"/);
    assert.match(r.stderr, /1 malformed JSON line left out/);
    assert.match(r.stderr, /line 7: not valid JSON/);
  });

  it("writes JSON and CSV, reads gzipped and plain stdin, filters by --min-score", () => {
    const gz = gzipSync(`${feedLines.join("\n")}\n`);
    const json = cli(["match", "--domain", "openai.com,mixpanel.com", "--feed", "-", "--format", "json"], gz);
    assert.equal(json.code, 0, json.stderr);
    const results = JSON.parse(json.stdout) as { domain: string; score: number; reasons: string[] }[];
    assert.equal(results.length, 4);
    assert.deepEqual(Object.keys(results[0] ?? {}), ["domain", "official", "score", "reasons"]);
    assert.ok(results.every((x) => Array.isArray(x.reasons) && x.reasons.length > 0));

    const plain = `${feedLines.join("\n")}\n`;
    const csv = cli(
      ["match", "--domain", "openai.com", "--feed", "-", "--format", "csv", "--min-score", "90"],
      plain,
    );
    assert.equal(csv.code, 0, csv.stderr);
    const rows = parse(csv.stdout, { columns: true }) as Record<string, string>[];
    assert.deepEqual(Object.keys(rows[0] ?? {}), ["domain", "official", "score", "reasons"]);
    assert.ok(rows.length >= 1 && rows.every((row) => Number(row.score) >= 90));
    assert.ok(!rows.some((row) => row.domain === "mixpanal.io"), "mixpanel.com is not official here");
  });

  it("exits 2 naming the option or file", async () => {
    const dir = await tempDir();
    const missing = cli(["match", "--domain", "openai.com", "--feed", `${dir}/nope.jsonl.gz`]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--feed .*nope\.jsonl\.gz: no such file/);
    const feed = await put(dir, "feed.txt", "opnai.com\n");
    for (const [argv, message] of [
      [["--feed", feed], /missing required option --domain/],
      [["--domain", "openai.com"], /missing required option --feed FILE/],
      [["--domain", "not a domain", "--feed", feed], /--domain "not a domain" is not a valid domain/],
      [
        ["--domain", "openai.com", "--feed", feed, "--min-score", "high"],
        /--min-score must be a whole number/,
      ],
      [["--domain", "openai.com", "--feed", feed, "--format", "yaml"], /--format/],
    ] as const) {
      const error = await run(["match", ...argv]).then(
        () => assert.fail(`${argv.join(" ")} succeeded`),
        (e: unknown) => e,
      );
      assert.equal(exitCodeFor(error), 2, argv.join(" "));
      assert.match(describeError(error), message);
    }
  });
});
