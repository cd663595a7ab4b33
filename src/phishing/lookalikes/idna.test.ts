import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { domainToASCII, domainToUnicode } from "node:url";
import { skeleton } from "./confusables.ts";
import {
  checkName,
  codePointStatus,
  decodeLabel,
  encodeLabel,
  normaliseName,
  uLabelProblem,
} from "./idna.ts";

const status = (ch: string) => codePointStatus(ch.codePointAt(0) as number);

describe("IDNA2008 code point properties (RFC 5892)", () => {
  it("lets lowercase letters, digits and marks of any script through", () => {
    for (const ch of ["a", "z", "0", "-", "ö", "ı", "а", "ο", "ß", "ς", "ᴄ", "中", "ش"]) {
      assert.equal(status(ch), "PVALID", ch);
    }
  });

  it("refuses what NFKC or case folding would change, symbols and joiners", () => {
    for (const ch of ["A", "Ö", "ſ", "ǆ", "ᵃ", "Ａ", "ℌ", "_", "!", "\u00a0", "\u0640", "\uab70"]) {
      assert.notEqual(status(ch), "PVALID", ch);
    }
    assert.equal(status("\u200d"), "CONTEXTJ");
    assert.equal(status("\u00b7"), "CONTEXTO");
    assert.equal(status("\u0378"), "UNASSIGNED");
  });

  it("checks the label rules and CONTEXTO contexts", () => {
    assert.equal(uLabelProblem("l·l"), null, "the Catalan middle dot between two l");
    assert.match(uLabelProblem("a·b") ?? "", /not allowed in this context/);
    assert.match(uLabelProblem("ab--c") ?? "", /third and fourth/);
    assert.match(uLabelProblem("-ab") ?? "", /hyphen/);
    assert.match(uLabelProblem("\u0301a") ?? "", /combining mark/);
    assert.match(uLabelProblem("o\u0308") ?? "", /NFC/);
  });
});

describe("checkName", () => {
  it("gives both forms of a valid name", () => {
    assert.deepEqual(checkName("openai.com"), { unicode: "openai.com", ascii: "openai.com" });
    assert.deepEqual(checkName("оpenai.com"), { unicode: "оpenai.com", ascii: domainToASCII("оpenai.com") });
    assert.deepEqual(checkName("xn--bcher-kva.de"), { unicode: "bücher.de", ascii: "xn--bcher-kva.de" });
  });

  it("says what is wrong with an invalid name", () => {
    assert.match(checkName("foo_bar.com") as string, /U\+005F/);
    assert.match(checkName("a..com") as string, /empty label/);
    assert.match(checkName("xn--zz.com") as string, /not a valid A-label/);
    assert.match(checkName("xn--abc-.com") as string, /A-label|hyphen/);
    assert.match(checkName(`${"a".repeat(64)}.com`) as string, /63/);
    assert.match(checkName(`${"abcdefghi.".repeat(26)}com`) as string, /253/);
    assert.match(checkName("1شبكة.com") as string, /right-to-left/);
    assert.match(checkName("ab\u200d.com") as string, /contextj/);
  });

  it("accepts right-to-left names that keep the Bidi rule", () => {
    const arabic = checkName("شبكة.com");
    assert.equal(typeof arabic, "object");
    assert.equal((arabic as { ascii: string }).ascii, domainToASCII("شبكة.com"));
  });

  it("normalises what feeds and people write", () => {
    assert.equal(normaliseName("  OpenAI.COM.  "), "openai.com");
    assert.equal(normaliseName("*.openai.com"), "openai.com");
    assert.equal(normaliseName("openai\u3002com"), "openai.com");
  });
});

describe("punycode", () => {
  it("agrees with node:url on labels of many scripts", () => {
    const labels = [
      "bücher",
      "оpenai",
      "ореnаі",
      "中文",
      "mañana",
      "öpenaі",
      "ᴄat",
      "ελληνικά",
      "日本語ドメイン",
    ];
    for (const label of labels) {
      const ace = domainToASCII(label);
      assert.match(ace, /^xn--/);
      assert.equal(`xn--${encodeLabel(label)}`, ace, label);
      assert.equal(decodeLabel(ace.slice(4)), domainToUnicode(ace), ace);
    }
  });

  it("refuses what is not Punycode", () => {
    assert.equal(decodeLabel("zz"), null);
    assert.equal(decodeLabel("a-!"), null);
  });
});

describe("skeleton (UTS #39)", () => {
  it("maps confusables to one prototype, case and marks aside", () => {
    assert.equal(skeleton("оpеnаі"), "openai");
    assert.equal(skeleton("0penai"), "openai");
    assert.equal(skeleton("mixpanel"), skeleton("rnixpanel"));
    assert.equal(skeleton("öpenai"), "openai");
    assert.notEqual(skeleton("openai"), skeleton("opanai"));
  });
});
