import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { put, tempDir } from "../../lib/test-fixtures.ts";
import { generateLookalikes } from "./generate-lookalikes.ts";
import { boundedEditDistance, createMatcher, type MatchResult, matchFeed } from "./match-feed.ts";
import { openFeed } from "./read-feed.ts";

const matcher = createMatcher(["openai.com", "mixpanel.com"]);

function match(name: string): MatchResult | null {
  return matcher.match(name);
}

function reasonKinds(r: MatchResult | null): string[] {
  return (r?.reasons ?? []).map((reason) => reason.split(":")[0] as string);
}

async function runFeed(text: string | Buffer, minScore = 0) {
  const found: { result: MatchResult; line: number }[] = [];
  const stats = await matchFeed(Readable.from([text]).setEncoding("utf8"), matcher, {
    minScore,
    onMatch: (result, line) => found.push({ result, line }),
  });
  return { found, stats };
}

describe("boundedEditDistance", () => {
  it("counts insertions, deletions, substitutions and adjacent swaps as one edit each", () => {
    assert.equal(boundedEditDistance("openai", "openai", 2), 0);
    assert.equal(boundedEditDistance("opneai", "openai", 2), 1, "a swap");
    assert.equal(boundedEditDistance("opnai", "openai", 2), 1);
    assert.equal(boundedEditDistance("openaix", "openai", 2), 1);
    assert.equal(boundedEditDistance("opanaj", "openai", 2), 2);
    assert.equal(boundedEditDistance("github", "openai", 2), 3, "beyond the limit: limit + 1");
    assert.equal(boundedEditDistance("o", "openai", 2), 3);
  });
});

describe("matching one name", () => {
  it("finds an exact permutation with the fuzzer that makes it", () => {
    const r = match("opnai.com");
    assert.equal(r?.official, "openai.com");
    assert.match(r?.reasons[0] ?? "", /^permutation: omission of openai\.com/);
    assert.ok((r?.score ?? 0) >= 90);
    assert.match(match("www.opnai.com")?.reasons[0] ?? "", /^permutation: omission/, "under a permutation");
  });

  it("finds every generated lookalike of an official domain", () => {
    const lookalikes = generateLookalikes("mixpanel.com");
    for (let i = 0; i < lookalikes.length; i += 37) {
      const l = lookalikes[i] as (typeof lookalikes)[number];
      const r = match(l.punycode);
      assert.equal(r?.official, "mixpanel.com", l.punycode);
      assert.ok(reasonKinds(r).includes("permutation"), l.punycode);
    }
  });

  it("finds a confusable skeleton that no fuzzer made", () => {
    const r = match("0penai.net");
    assert.deepEqual(reasonKinds(r).includes("skeleton"), true);
    assert.ok(!reasonKinds(r).includes("permutation"), "0penai.net is not generated");
    assert.equal(r?.score, 100);
    const cyrillic = match("xn--80aj0ai6iw2f.com");
    assert.ok(reasonKinds(cyrillic).includes("skeleton"), "an A-label is decoded first");
    assert.match(
      match("rnixpane1.io")?.reasons.join() ?? "",
      /skeleton: rnixpane1 looks the same as mixpanel/,
    );
  });

  it("finds small edit distances, scaled by length", () => {
    const one = match("opneai.xyz");
    assert.deepEqual(reasonKinds(one), ["edit-distance"]);
    assert.match(one?.reasons[0] ?? "", /1 edit from openai/);
    const two = match("mixpamal.net");
    assert.match(two?.reasons[0] ?? "", /2 edits from mixpanel/);
    assert.ok((match("mixpanal.net")?.score ?? 0) > (two?.score ?? 100), "two edits score lower than one");
    assert.equal(match("opera.com"), null, "two edits are too many for a six-letter brand");
    assert.equal(match("mixtapes.org"), null, "three edits are too many for any");
  });

  it("finds the same label under another suffix", () => {
    const r = match("openai.github.io");
    assert.deepEqual(reasonKinds(r), ["same-label"]);
    assert.equal(match("mixpanel.xyz")?.official, "mixpanel.com");
  });

  it("finds the brand inside another registered domain (combosquatting), keywords scoring higher", () => {
    const plain = match("bestopenaitools.net");
    assert.deepEqual(reasonKinds(plain), ["combosquatting"]);
    const keyword = match("openai-helpdesk-team.net");
    assert.match(
      keyword?.reasons.join() ?? "",
      /combosquatting: openai inside openai-helpdesk-team\.net with help/,
    );
    assert.ok((keyword?.score ?? 0) > (plain?.score ?? 100));
  });

  it("finds the brand in the subdomain of someone else's domain", () => {
    const r = match("openai.com.secure-portal.xyz");
    assert.ok(reasonKinds(r).includes("brand-subdomain"));
    assert.match(r?.reasons.join() ?? "", /openai\.com in the subdomain of secure-portal\.xyz/);
    assert.match(match("login.mixpanel.evil.org")?.reasons.join() ?? "", /brand-subdomain: mixpanel in/);
  });

  it("does not report the official domains, their subdomains or unrelated names", () => {
    for (const name of [
      "openai.com",
      "OPENAI.COM.",
      "api.openai.com",
      "*.cdn.mixpanel.com",
      "mixpanel.com",
    ]) {
      assert.equal(match(name), null, name);
    }
    for (const name of ["example.com", "weather.org", "bbc.co.uk", "panel.io", "opera.com", "mixer.net"]) {
      assert.equal(match(name), null, name);
    }
  });

  it("keeps the best official when a name is close to several", () => {
    const both = createMatcher(["stripe.com", "strike.com"]);
    const r = both.match("stripe.net");
    assert.equal(r?.official, "stripe.com", "the same label beats one edit");
  });

  it("throws on a name that is not a domain (the feed counts it)", () => {
    assert.throws(() => match("foo_bar.com"), /U\+005F/);
  });
});

describe("matching a feed", () => {
  it("reads plain lines, reports each lookalike once with its line, counts what it skips", async () => {
    const { found, stats } = await runFeed(
      ["opnai.com", "example.com", "", "# a comment", "opnai.com", "foo_bar.com", "openai-support.com"].join(
        "\n",
      ),
    );
    assert.deepEqual(
      found.map((f) => [f.result.domain, f.line]),
      [
        ["opnai.com", 1],
        ["openai-support.com", 7],
      ],
    );
    assert.equal(stats.lines, 7);
    assert.equal(stats.names, 5);
    assert.equal(stats.matched, 3, "the repeat matches too");
    assert.equal(stats.reported, 2, "but is reported once");
    assert.equal(stats.skippedLines, 2);
    assert.equal(stats.invalidNames, 1);
    assert.deepEqual(
      stats.invalidExamples.map((e) => [e.line, e.name]),
      [[6, "foo_bar.com"]],
    );
  });

  it("reads certificate-transparency JSON lines and names the line of a malformed one", async () => {
    const lines = [
      JSON.stringify({ all_domains: ["mixpane1.com", "www.mixpane1.com", "example.org"] }),
      JSON.stringify({ data: { leaf_cert: { all_domains: ["*.opnai.com"] } } }),
      '{"all_domains": ["openai.com"',
      JSON.stringify({ message_type: "heartbeat" }),
      "mixpanal.io",
    ];
    const { found, stats } = await runFeed(`${lines.join("\n")}\n`);
    assert.deepEqual(
      found.map((f) => [f.result.domain, f.line]),
      [
        ["mixpane1.com", 1],
        ["www.mixpane1.com", 1],
        ["opnai.com", 2],
        ["mixpanal.io", 5],
      ],
    );
    assert.equal(stats.malformedLines, 2);
    assert.deepEqual(
      stats.malformedExamples.map((e) => e.line),
      [3, 4],
    );
    assert.match(stats.malformedExamples[0]?.message ?? "", /not valid JSON/);
    assert.match(stats.malformedExamples[1]?.message ?? "", /no all_domains/);
  });

  it("reports only names at or above --min-score", async () => {
    const { found } = await runFeed("opnai.com\nbestopenaitools.net\n", 70);
    assert.deepEqual(
      found.map((f) => f.result.domain),
      ["opnai.com"],
    );
  });

  it("opens plain and gzipped files alike, and names a missing one", async () => {
    const dir = await tempDir();
    const text = "opnai.com\r\nexample.com\r\nmixpanal.io";
    for (const file of [await put(dir, "feed.txt", text), await put(dir, "feed.txt.gz", text, true)]) {
      const found: string[] = [];
      const stats = await matchFeed(await openFeed(file), matcher, {
        onMatch: (r) => found.push(r.domain),
      });
      assert.deepEqual(found, ["opnai.com", "mixpanal.io"], file);
      assert.equal(stats.lines, 3, file);
      assert.equal(stats.invalidNames, 0, `${file}: CRLF line ends are not part of the name`);
    }
    await assert.rejects(openFeed(`${dir}/nope.txt`), /--feed .*nope\.txt: no such file/);
  });
});
