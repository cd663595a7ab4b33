import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { domainToASCII, domainToUnicode, fileURLToPath } from "node:url";
import { skeleton } from "./confusables.ts";
import { cyrillic, homoglyph, homograph, numeralSwap } from "./fuzzers/glyphs.ts";
import * as typo from "./fuzzers/typos.ts";
import * as words from "./fuzzers/words.ts";
import {
  FUZZERS,
  type FuzzerName,
  generateForDomains,
  generateLookalikes,
  type Lookalike,
} from "./generate-lookalikes.ts";
import { parseTarget } from "./target.ts";
import { readWordList } from "./word-list-file.ts";

const data = path.join(path.dirname(fileURLToPath(import.meta.url)), "data");
const tldDict = await readWordList(path.join(data, "common_tlds.dict"), "--tld-dict", "suffix");
const englishDict = await readWordList(path.join(data, "english.dict"), "--dict", "word");

const openai = generateLookalikes("openai.com");
const mixpanel = generateLookalikes("mixpanel.com");
const withDicts = generateLookalikes("openai.com", { tlds: tldDict, dictionary: englishDict });
const coUk = generateLookalikes("www.openai.co.uk");

const byName = (list: readonly Lookalike[]) => new Map(list.map((l) => [l.domain, l]));
const openaiByName = byName(withDicts);
const mixpanelByName = byName(mixpanel);

/** The name is generated, credited to the fuzzer given. */
function assertCredited(index: Map<string, Lookalike>, name: string, fuzzer: FuzzerName) {
  const found = index.get(name);
  assert.ok(found, `${name} is generated`);
  assert.equal(found.fuzzer, fuzzer, `${name} is credited to ${fuzzer}`);
}

const isAscii = (s: string) => /^[\x21-\x7e]+$/.test(s);

describe("lookalike fuzzers, one by one", () => {
  const label = (f: (l: string) => Iterable<string>, l: string) => new Set(f(l));

  it("addition puts one character anywhere", () => {
    const out = label(typo.addition, "openai");
    for (const n of ["openaix", "xopenai", "op3enai"]) assert.ok(out.has(n), n);
    assert.ok(out.size > 6 * 36 && out.size <= 7 * 36, "7 places, 36 characters, a few alike");
    assertCredited(openaiByName, "openaix.com", "addition");
  });

  it("bitsquatting flips one bit and keeps letters, digits and hyphens", () => {
    const out = label(typo.bitsquatting, "openai");
    assert.ok(out.has("npenai"), "o (0x6f) with its lowest bit flipped is n");
    assert.ok(out.has("openqi"), "a (0x61) with bit 4 flipped is q");
    assert.ok(!out.has("ope.ai"), "a flip that makes a dot is not a label");
    for (const n of out) assert.match(n, /^[a-z0-9-]+$/);
    assertCredited(openaiByName, "npenai.com", "bitsquatting");
    assert.ok(label(typo.bitsquatting, "mixpanel").has("mixpanem"), "l (0x6c) flips to m (0x6d)");
  });

  it("cyrillic replaces every letter that has a Cyrillic twin", () => {
    const [name] = [...cyrillic("openai")];
    assert.equal(name, "\u043e\u0440\u0435n\u0430\u0456", "о р е n а і: n has no twin");
    const found = openaiByName.get(`${name}.com`);
    assert.equal(found?.fuzzer, "cyrillic");
    assert.match(found?.punycode ?? "", /^xn--/);
    assert.equal([...cyrillic("xyz")].length, 1);
    assert.deepEqual([...cyrillic("123")], [], "nothing to replace, nothing made");
  });

  it("homoglyph makes internationalised names with one or two look-alikes", () => {
    const out = label(homoglyph, "openai");
    assert.ok(out.has("öpenai"), "a decorated letter");
    assert.ok(out.has("\u03bfpenai"), "a Greek omicron");
    assert.ok(out.has("öpenaі"), "two look-alikes at once");
    assert.ok(out.has("0penai") && out.has("openal"), "ASCII look-alikes");
    assert.ok(label(homoglyph, "mixpanel").has("rnixpanel"), "m reads as rn");
    const umlaut = openaiByName.get("öpenai.com");
    assert.equal(umlaut?.fuzzer, "homoglyph");
    assert.match(umlaut?.punycode ?? "", /^xn--/);
    assert.equal(umlaut?.punycode, domainToASCII("öpenai.com"));
    const idn = openai.filter((l) => l.fuzzer === "homoglyph" && l.punycode.startsWith("xn--"));
    assert.ok(idn.length > 2000, `${idn.length} internationalised homoglyphs`);
  });

  it("homoglyph replaces runs of a repeated letter", () => {
    const out = label(homoglyph, "google");
    assert.ok(out.has("göögle"), "both o at once");
    assert.ok(out.has("göogle") && out.has("goögle"), "each o alone");
  });

  it("hyphenation puts a hyphen between two characters", () => {
    assert.deepEqual([...typo.hyphenation("abc")], ["a-bc", "ab-c"]);
    assert.deepEqual([...typo.hyphenation("a-b")], [], "never next to a hyphen");
    assertCredited(openaiByName, "open-ai.com", "hyphenation");
  });

  it("insertion adds a neighbouring key before or after a key", () => {
    const out = label(typo.insertion, "openai");
    assert.ok(out.has("oplenai"), "l is below p");
    assert.ok(out.has("opwenai"), "w is near e");
    assertCredited(openaiByName, "oplenai.com", "insertion");
    assert.ok(label(typo.insertion, "ab").has("azb"), "z neighbours a on QWERTY");
  });

  it("omission leaves one character out", () => {
    assert.deepEqual([...typo.omission("abc")], ["bc", "ac", "ab"]);
    assertCredited(openaiByName, "opnai.com", "omission");
    assertCredited(mixpanelByName, "mixpnel.com", "omission");
  });

  it("plural adds s, or es after s, x or z", () => {
    const out = label(typo.plural, "openai");
    assert.ok(out.has("openais"));
    assert.ok(label(typo.plural, "mixpanel").has("mixespanel"), "es after x");
    assertCredited(openaiByName, "openais.com", "plural");
  });

  it("repetition doubles one character", () => {
    assert.deepEqual([...typo.repetition("ab")], ["aab", "abb"]);
    assertCredited(openaiByName, "oppenai.com", "repetition");
  });

  it("replacement uses a neighbouring key on QWERTY, QWERTZ or AZERTY", () => {
    const out = label(typo.replacement, "openai");
    assert.ok(out.has("opebai"), "b is below n");
    assert.ok(label(typo.replacement, "mixpanel").has("mixpanem"), "m is beside l on AZERTY");
    assert.ok(label(typo.replacement, "ty").has("zy"), "z is beside t on QWERTZ");
    assertCredited(openaiByName, "opebai.com", "replacement");
  });

  it("subdomain puts a dot inside the label", () => {
    assert.deepEqual([...typo.subdomain("abc")], ["a.bc", "ab.c"]);
    assertCredited(openaiByName, "open.ai.com", "subdomain");
  });

  it("transposition swaps two neighbouring characters", () => {
    assert.deepEqual([...typo.transposition("abb")], ["bab"], "equal neighbours are not swapped");
    assertCredited(openaiByName, "poenai.com", "transposition");
    assertCredited(mixpanelByName, "imxpanel.com", "transposition");
  });

  it("vowel-swap puts another vowel in a vowel's place", () => {
    const out = label(typo.vowelSwap, "openai");
    assert.ok(out.has("opanai") && out.has("upenai") && out.has("openau"));
    assertCredited(openaiByName, "opanai.com", "vowel-swap");
  });

  it("dictionary adds a word before or after, joined or hyphenated, and replaces hyphenated parts", () => {
    const t = parseTarget("my-brand.com");
    const out = new Set(words.dictionary(t, ["login"]));
    for (const n of ["my-brandlogin.com", "my-brand-login.com", "loginmy-brand.com", "login-my-brand.com"]) {
      assert.ok(out.has(n), n);
    }
    assert.ok(out.has("my-login.com") && out.has("login-brand.com"), "a hyphenated part replaced");
    assertCredited(openaiByName, "openaissl.com", "dictionary");
    assertCredited(openaiByName, "https-www-openai.com", "dictionary");
    assert.ok(!byName(openai).has("openaissl.com"), "no dictionary, no dictionary names");
  });

  it("tld-swap uses the --tld-dict suffixes, or a built-in list", () => {
    assertCredited(openaiByName, "openai.ly", "tld-swap");
    assertCredited(openaiByName, "openai.com.br", "tld-swap");
    assert.ok(!byName(openai).has("openai.ly"), ".ly is only in the dictionary");
    assert.equal(byName(openai).get("openai.net")?.fuzzer, "tld-swap", "the built-in list has .net");
  });

  it("various runs the suffix into the label", () => {
    assertCredited(openaiByName, "openaicom.com", "various");
    const uk = byName(coUk);
    assert.equal(uk.get("www.openaicouk.co.uk")?.fuzzer, "various");
    assert.equal(uk.get("www.openaico.uk")?.fuzzer, "various", "a multi-part suffix cut short");
  });

  it("numeral-swap trades digits and letter clusters both ways", () => {
    const out = label(numeralSwap, "openai");
    assert.ok(out.has("0penai") && out.has("opena1") && out.has("openal"));
    const mix = label(numeralSwap, "mixpanel");
    assert.ok(mix.has("mixpane1") && mix.has("rnixpanel"));
    const ll = label(numeralSwap, "hello");
    assert.ok(ll.has("he11o"), "ll to 11");
    assert.ok(label(numeralSwap, "dolby").has("clolby"), "d to cl");
    assert.ok(label(numeralSwap, "vvork").has("work"), "vv to w");
    assertCredited(openaiByName, "0penai.com", "numeral-swap");
    assertCredited(mixpanelByName, "mixpane1.com", "numeral-swap");
  });

  it("homograph makes whole-word look-alikes from Unicode's confusables", () => {
    const whole = [...homograph("paypal")];
    assert.ok(
      whole.some((n) => !/\p{Script=Latin}/u.test(n)),
      "whole-script: every letter of paypal has a Cyrillic look-alike",
    );
    const mixed = [...homograph("openai")];
    assert.ok(mixed.length > 5);
    assert.ok(
      mixed.some((n) => /n/.test(n) && /\p{Script=Cyrillic}/u.test(n)),
      "mixed-script: n stays Latin",
    );
    assert.ok(
      mixed.some((n) => !/\p{Script=Latin}/u.test(n)),
      "letters from several scripts make a name without Latin",
    );
    for (const n of mixed) assert.equal(skeleton(n), "openai", `${n} has the skeleton of openai`);
    assert.ok(openai.some((l) => l.fuzzer === "homograph"));
  });

  it("dot-dash-swap trades dots and hyphens", () => {
    const index = byName(openai);
    assert.equal(index.get("www-openai.com")?.fuzzer, "dot-dash-swap");
    assert.equal(index.get("wwwopenai.com")?.fuzzer, "dot-dash-swap");
    assert.equal(index.get("openai-com.com")?.fuzzer, "dot-dash-swap");
    assert.equal(byName(generateLookalikes("my-brand.com")).get("my.brand.com")?.fuzzer, "dot-dash-swap");
  });

  it("wrong-sld changes the second level of a multi-part suffix", () => {
    const uk = byName(coUk);
    for (const n of ["www.openai.com.uk", "www.openai.org.uk", "www.openai.uk.com", "www.openai.uk.co"]) {
      assert.equal(uk.get(n)?.fuzzer, "wrong-sld", n);
    }
    assert.equal(byName(openai).get("openai.com.au")?.fuzzer, "wrong-sld", "com.au exists");
    assert.ok(!byName(openai).has("openai.com.uk"), "com.uk is not a suffix of its own");
  });

  it("combosquatting puts phishing keywords next to the brand", () => {
    const index = byName(openai);
    for (const n of ["openai-support.com", "login-openai.com", "openaibilling.com", "ssoopenai.com"]) {
      assert.equal(index.get(n)?.fuzzer, "combosquatting", n);
    }
    const uk = byName(coUk);
    assert.equal(uk.get("openai-support.co.uk")?.fuzzer, "combosquatting");
    assert.equal(uk.get("openai-support.com")?.fuzzer, "combosquatting", "and on .com");
  });

  it("brand-subdomain puts the brand's domain in front of an attacker's", () => {
    const index = byName(openai);
    assert.equal(index.get("openai.com.verify-account.io")?.fuzzer, "brand-subdomain");
    assert.equal(index.get("openai.com.login.xyz")?.fuzzer, "brand-subdomain");
    assert.equal(index.get("openai.secure-login.com")?.fuzzer, "brand-subdomain");
  });

  it("every fuzzer contributes to openai.com with both dictionaries", () => {
    const used = new Set(withDicts.map((l) => l.fuzzer));
    for (const f of FUZZERS) assert.ok(used.has(f), `${f} made at least one name`);
  });
});

describe("generated names", () => {
  const all = [openai, mixpanel, withDicts, coUk];

  it("are valid IDNA2008: both forms round-trip and the lengths are within limits", () => {
    for (const list of all) {
      for (const l of list) {
        assert.equal(domainToASCII(l.domain), l.punycode, `${l.domain} encodes as ${l.punycode}`);
        assert.equal(domainToUnicode(l.punycode), l.domain, `${l.punycode} decodes as ${l.domain}`);
        assert.ok(isAscii(l.punycode), l.punycode);
        assert.ok(l.punycode.length <= 253, l.punycode);
        for (const label of l.punycode.split(".")) {
          assert.ok(label.length >= 1 && label.length <= 63, `${l.punycode}: label ${label}`);
          assert.doesNotMatch(label, /^-|-$/, `${l.punycode}: hyphen at an end`);
        }
        assert.equal(l.domain, l.domain.normalize("NFC"));
      }
    }
  });

  it("never include the original, a name under it, or a name twice", () => {
    for (const [list, original] of [
      [openai, "openai.com"],
      [mixpanel, "mixpanel.com"],
      [withDicts, "openai.com"],
      [coUk, "openai.co.uk"],
    ] as const) {
      const seen = new Set<string>();
      for (const l of list) {
        assert.notEqual(l.punycode, original);
        assert.ok(!l.punycode.endsWith(`.${original}`), `${l.punycode} is under ${original}`);
        assert.ok(!seen.has(l.punycode), `${l.punycode} listed twice`);
        seen.add(l.punycode);
      }
    }
    assert.ok(!coUk.some((l) => l.punycode === "www.openai.co.uk"));
  });

  it("are at least as many as dnstwist makes", () => {
    assert.ok(openai.length >= 2697, `openai.com: ${openai.length}`);
    const idn = openai.filter((l) => l.punycode.includes("xn--")).length;
    assert.ok(idn >= 2502, `openai.com internationalised: ${idn}`);
    assert.ok(mixpanel.length >= 3041, `mixpanel.com: ${mixpanel.length}`);
    assert.ok(withDicts.length >= 3003, `openai.com with both dictionaries: ${withDicts.length}`);
  });

  it("are credited to the first fuzzer in FUZZERS that makes them", () => {
    const index = byName(openai);
    assert.ok(new Set(typo.addition("openai")).has("openais"), "addition makes openais too");
    assert.ok(FUZZERS.indexOf("plural") < FUZZERS.indexOf("addition"));
    assert.equal(index.get("openais.com")?.fuzzer, "plural");
    assert.ok(new Set(homoglyph("openai")).has("0penai"), "homoglyph makes 0penai too");
    assert.ok(FUZZERS.indexOf("numeral-swap") < FUZZERS.indexOf("homoglyph"));
    assert.equal(index.get("0penai.com")?.fuzzer, "numeral-swap");
  });

  it("keep a subdomain of the input and work from the registrable label of a multi-part suffix", () => {
    const t = parseTarget("www.openai.co.uk");
    assert.deepEqual([t.subdomain, t.label, t.suffix, t.domain], ["www", "openai", "co.uk", "openai.co.uk"]);
    const index = byName(coUk);
    assert.equal(index.get("www.opnai.co.uk")?.fuzzer, "omission");
    assert.ok(!index.has("www.openai.co.ul"), "the suffix is not fuzzed as if it were the label");
    assert.equal(index.get("www.openai.com")?.fuzzer, "tld-swap");
  });

  it("accept an internationalised domain in either form", () => {
    const unicode = generateLookalikes("bücher.de");
    const ace = generateLookalikes("xn--bcher-kva.de");
    assert.deepEqual(unicode, ace);
    assert.ok(unicode.some((l) => l.domain === "bücer.de" && l.fuzzer === "omission"));
    assert.ok(unicode.every((l) => l.original === "bücher.de"));
  });

  it("treat every given domain as ours when several are given", () => {
    const both = generateForDomains(["openai.com", "openai.co.uk"]);
    assert.ok(!both.some((l) => l.punycode === "openai.co.uk" || l.punycode === "openai.com"));
    assert.ok(both.some((l) => l.original === "openai.co.uk"));
  });

  it("refuse a domain that is not one, saying why", () => {
    assert.throws(() => generateLookalikes("foo_bar.com"), /not a valid domain.*U\+005F/);
    assert.throws(() => generateLookalikes("co.uk"), /public suffix/);
    assert.throws(() => generateLookalikes("10.0.0.1"), /IP address/);
    assert.throws(() => generateLookalikes(""), /empty/);
  });

  it("stay in the thousands for a long label (the second homoglyph step narrows)", () => {
    const long = generateLookalikes("verylongcompanynamehere.com");
    assert.ok(long.length > 5000 && long.length < 60_000, `${long.length}`);
  });
});
