import {
  cyrillic as cyrillicWord,
  homoglyph,
  homograph as homographWord,
  numeralSwap,
} from "./fuzzers/glyphs.ts";
import * as typo from "./fuzzers/typos.ts";
import * as words from "./fuzzers/words.ts";
import { checkName } from "./idna.ts";
import { parseTarget, type Target, withLabel } from "./target.ts";
import { DEFAULT_TLDS } from "./word-lists.ts";

/**
 * Lookalike domains of a domain: dnstwist's sixteen fuzzers and our additions, each name checked
 * as IDNA2008, listed once under the first fuzzer (in FUZZERS order) that made it, never the domain
 * itself nor a name under it.
 */

/**
 * Every fuzzer, in the order that decides which one a name is credited to when several make it:
 * the most specific first (a transposition is also a double replacement; a doubled letter is also
 * an addition), the broad ones (homoglyph, addition) and the word lists last.
 */
export const FUZZERS = [
  "transposition",
  "omission",
  "repetition",
  "vowel-swap",
  "plural",
  "hyphenation",
  "subdomain",
  "dot-dash-swap",
  "numeral-swap",
  "cyrillic",
  "homograph",
  "insertion",
  "replacement",
  "bitsquatting",
  "homoglyph",
  "addition",
  "tld-swap",
  "wrong-sld",
  "various",
  "dictionary",
  "combosquatting",
  "brand-subdomain",
] as const;

export type FuzzerName = (typeof FUZZERS)[number];

export type Lookalike = Readonly<{
  fuzzer: FuzzerName;
  /** Unicode form */
  domain: string;
  /** ASCII form (IDNA A-labels) */
  punycode: string;
  /** the domain it imitates, lowercase Unicode form */
  original: string;
}>;

export type GenerateOptions = Readonly<{
  /** words for the dictionary fuzzer; none by default (it then makes nothing) */
  dictionary?: readonly string[];
  /** suffixes for tld-swap; a built-in list of common ones by default */
  tlds?: readonly string[];
  /** further domains (ASCII) that are ours: never listed, nor names under them */
  exclude?: readonly string[];
}>;

type Settings = Readonly<{ dictionary: readonly string[]; tlds: readonly string[] }>;

const onLabel = (fuzz: (label: string) => Iterable<string>) =>
  function* (t: Target): Iterable<string> {
    for (const label of fuzz(t.label)) yield withLabel(t, label);
  };

const RUN: Readonly<Record<FuzzerName, (t: Target, s: Settings) => Iterable<string>>> = {
  addition: onLabel(typo.addition),
  bitsquatting: onLabel(typo.bitsquatting),
  cyrillic: onLabel(cyrillicWord),
  homoglyph: onLabel(homoglyph),
  hyphenation: onLabel(typo.hyphenation),
  insertion: onLabel(typo.insertion),
  omission: onLabel(typo.omission),
  plural: onLabel(typo.plural),
  repetition: onLabel(typo.repetition),
  replacement: onLabel(typo.replacement),
  subdomain: onLabel(typo.subdomain),
  transposition: onLabel(typo.transposition),
  "vowel-swap": onLabel(typo.vowelSwap),
  dictionary: (t, s) => words.dictionary(t, s.dictionary),
  "tld-swap": (t, s) => words.tldSwap(t, s.tlds),
  various: words.various,
  "numeral-swap": onLabel(numeralSwap),
  homograph: onLabel(homographWord),
  "dot-dash-swap": words.dotDashSwap,
  "wrong-sld": words.wrongSecondLevel,
  combosquatting: words.combosquatting,
  "brand-subdomain": words.brandSubdomain,
};

const isUnder = (ascii: string, domain: string) => ascii === domain || ascii.endsWith(`.${domain}`);

/** Lookalikes of one domain (Unicode or punycode; a bad one is a bad-input error naming it). */
export function generateLookalikes(domain: string | Target, options: GenerateOptions = {}): Lookalike[] {
  const target = typeof domain === "string" ? parseTarget(domain) : domain;
  const settings: Settings = { dictionary: options.dictionary ?? [], tlds: options.tlds ?? DEFAULT_TLDS };
  const ours = [target.asciiName, target.asciiDomain, ...(options.exclude ?? [])];
  const tried = new Set<string>();
  const listed = new Set<string>();
  const out: Lookalike[] = [];
  for (const fuzzer of FUZZERS) {
    for (const candidate of RUN[fuzzer](target, settings)) {
      if (tried.has(candidate)) continue;
      tried.add(candidate);
      const checked = checkName(candidate);
      if (typeof checked === "string" || listed.has(checked.ascii)) continue;
      listed.add(checked.ascii);
      if (ours.some((d) => isUnder(checked.ascii, d))) continue;
      out.push({ fuzzer, domain: checked.unicode, punycode: checked.ascii, original: target.name });
    }
  }
  return out;
}

/**
 * Lookalikes of several domains, one after the other; each domain is treated as ours for all the
 * others (openai.com's tld-swap does not list openai.co.uk when both are given).
 */
export function generateForDomains(
  domains: readonly (string | Target)[],
  options: GenerateOptions = {},
): Lookalike[] {
  const targets = domains.map((d) => (typeof d === "string" ? parseTarget(d) : d));
  const exclude = [...(options.exclude ?? []), ...targets.map((t) => t.asciiDomain)];
  return targets.flatMap((t) => generateLookalikes(t, { ...options, exclude }));
}
