import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { brandWords } from "./domains.ts";
import { lookalikeCheck } from "./lookalike-check.ts";
import { htmlLinks } from "./message-links.ts";
import {
  type AuthResults,
  claimedBrand,
  type MessageFacts,
  messageReasons,
  type Officials,
  REASON_SEVERITY,
  verdictOf,
} from "./verdict.ts";

/** The rules on hand-made facts: what mailauth would have said, without a message. */

const DOMAINS = ["openai.com", "box.com"];
const officials: Officials = {
  domains: DOMAINS,
  brands: brandWords(DOMAINS),
  imitates: lookalikeCheck(DOMAINS),
};

const passing: AuthResults = {
  dkim: {
    result: "pass",
    signatures: [{ domain: "openai.com", selector: "s1", result: "pass", aligned: true, comment: null }],
  },
  spf: { result: "pass", domain: "openai.com", client_ip: "192.0.2.1", helo: null, comment: null },
  dmarc: {
    result: "pass",
    domain: "openai.com",
    policy: "reject",
    aligned_dkim: "openai.com",
    aligned_spf: "openai.com",
    comment: null,
  },
  arc: { result: "none", comment: null },
};

const facts = (over: Partial<MessageFacts> = {}): MessageFacts => ({
  from: [{ name: "OpenAI", address: "noreply@openai.com" }],
  replyTo: [],
  links: [],
  auth: passing,
  ...over,
});

const judge = (f: MessageFacts) => {
  const reasons = messageReasons(f, officials);
  return { verdict: verdictOf(reasons), codes: reasons.map((r) => r.code) };
};

describe("the verdict rules", () => {
  it("calls a message authentic only with DMARC passing for an official From and nothing else", () => {
    assert.deepEqual(judge(facts()), { verdict: "authentic", codes: [] });
    // a subdomain of an official domain is official
    assert.equal(
      judge(facts({ from: [{ name: "", address: "notices@mail.openai.com" }] })).verdict,
      "authentic",
    );
  });

  it("lets a DMARC fail win over an aligned DKIM pass", () => {
    const auth = {
      ...passing,
      dmarc: { ...passing.dmarc, result: "fail", aligned_dkim: null, aligned_spf: null },
    };
    assert.ok(auth.dkim.signatures.every((s) => s.result === "pass" && s.aligned));
    assert.deepEqual(judge(facts({ auth })), { verdict: "phishing", codes: ["dmarc-fail"] });
  });

  it("gives every DMARC result but pass a reason", () => {
    for (const [result, code] of [
      ["none", "dmarc-none"],
      ["temperror", "dmarc-unchecked"],
      ["permerror", "dmarc-unchecked"],
      ["neutral", "dmarc-unchecked"],
    ] as const) {
      const got = judge(facts({ auth: { ...passing, dmarc: { ...passing.dmarc, result } } }));
      assert.deepEqual(got, { verdict: "suspicious", codes: [code] }, result);
    }
  });

  it("does not hold a failed SPF against a message DMARC passed on its aligned DKIM signature (forwarding)", () => {
    const forwarded = {
      ...passing,
      spf: { ...passing.spf, result: "fail" },
      dmarc: { ...passing.dmarc, aligned_spf: null },
    };
    assert.deepEqual(judge(facts({ auth: forwarded })), { verdict: "authentic", codes: [] });
    const softfail = {
      ...passing,
      dkim: { result: "none", signatures: [] },
      spf: { ...passing.spf, result: "softfail" },
      dmarc: { ...passing.dmarc, result: "fail", aligned_dkim: null, aligned_spf: null },
    };
    assert.deepEqual(judge(facts({ auth: softfail })).codes, ["dmarc-fail", "no-aligned-dkim", "spf-fail"]);
  });

  it("reports a signature of another domain as not aligned when DMARC does not pass", () => {
    const auth: AuthResults = {
      ...passing,
      dkim: {
        result: "pass",
        signatures: [{ domain: "esp.example", selector: "x", result: "pass", aligned: false, comment: null }],
      },
      dmarc: { ...passing.dmarc, result: "none" },
    };
    const reasons = messageReasons(facts({ auth }), officials);
    assert.deepEqual(
      reasons.map((r) => r.code),
      ["dmarc-none", "no-aligned-dkim"],
    );
    assert.match(reasons[1]?.message ?? "", /only of esp\.example/);
  });

  it("reports a broken ARC chain", () => {
    const auth = { ...passing, arc: { result: "fail", comment: "i=2 signature did not verify" } };
    assert.deepEqual(judge(facts({ auth })), { verdict: "suspicious", codes: ["arc-fail"] });
  });

  it("flags a missing or repeated From, and checks every From address", () => {
    assert.deepEqual(judge(facts({ from: [] })), { verdict: "suspicious", codes: ["from-missing"] });
    const two = judge(
      facts({
        from: [
          { name: "", address: "noreply@openai.com" },
          { name: "", address: "x@0penai.com" },
        ],
      }),
    );
    assert.deepEqual(two, { verdict: "phishing", codes: ["from-lookalike", "from-multiple"] });
  });

  it("tells a Reply-To elsewhere from one at the sender's own domain", () => {
    const reply = (address: string) => judge(facts({ replyTo: [{ name: "", address }] }));
    assert.deepEqual(reply("help@openai.com").codes, []);
    assert.deepEqual(reply("help@support.openai.com").codes, []);
    assert.deepEqual(reply("billing@evil.example"), { verdict: "suspicious", codes: ["reply-to-elsewhere"] });
    assert.deepEqual(reply("billing@openai-billing.com"), {
      verdict: "phishing",
      codes: ["reply-to-lookalike"],
    });
    const foreign = judge(
      facts({
        from: [{ name: "", address: "news@shop.example" }],
        replyTo: [{ name: "", address: "x@shop.example" }],
      }),
    );
    assert.ok(!foreign.codes.includes("reply-to-elsewhere"), foreign.codes.join());
  });

  it("tells a link that shows our domain from one that shows another site", () => {
    const links = htmlLinks(
      [
        '<a href="https://evil.example/x">openai.com/login</a>',
        '<a href="https://tracking.example/c?u=1">news.example.org/article</a>',
        '<a href="https://help.openai.com/a">https://openai.com/help</a>',
        '<a href="https://evil.example/y">Click here</a>',
      ].join(""),
    );
    const reasons = messageReasons(facts({ links }), officials);
    assert.deepEqual(
      reasons.map((r) => [r.code, r.severity]),
      [
        ["link-mismatch", "phishing"],
        ["link-text-differs", "suspicious"],
      ],
    );
  });

  it("keeps at most five reasons of one code", () => {
    const links = htmlLinks(
      Array.from({ length: 12 }, (_, i) => `<a href="https://e${i}.example/">openai.com</a>`).join(""),
    );
    assert.equal(messageReasons(facts({ links }), officials).length, 5);
  });

  it("has a severity for every code, and only phishing and suspicious", () => {
    for (const [code, severity] of Object.entries(REASON_SEVERITY)) {
      assert.ok(severity === "phishing" || severity === "suspicious", code);
    }
  });
});

describe("claimedBrand", () => {
  const claim = (name: string) => claimedBrand(name, officials);

  it("finds the brand as a word, as words, inside a longer word, in look-alike letters, or as the domain", () => {
    assert.equal(claim("OpenAI Support"), "openai.com");
    assert.equal(claim("Open AI"), "openai.com");
    assert.equal(claim("OpenAISupport Team"), "openai.com");
    assert.equal(claim("\u041epen\u0410I Security"), "openai.com"); // Cyrillic O and A
    assert.equal(claim("support@openai.com"), "openai.com");
    assert.equal(claim("Box"), "box.com");
  });

  it("does not find a short brand inside another word, nor a brand in an unrelated name", () => {
    assert.equal(claim("Inbox Team"), null);
    assert.equal(claim("Alice Example"), null);
    assert.equal(claim(""), null);
  });
});
