import type { Readable } from "node:stream";
import { skeleton } from "./confusables.ts";
import { type FuzzerName, type GenerateOptions, generateLookalikes } from "./generate-lookalikes.ts";
import { checkName, normaliseName } from "./idna.ts";
import { type FeedProblem, readFeed } from "./read-feed.ts";
import { parseTarget, publicSuffixOf, type Target } from "./target.ts";
import { PHISHING_KEYWORDS } from "./word-lists.ts";

/**
 * The reverse of generation: is this domain a twist of ours? Each feed name is checked against the
 * official domains, cheapest test first: one map lookup for the permutations we generate, then per
 * official a label comparison, a length window and letter-set test before any edit distance, a
 * skeleton only for labels of a fitting length, and a substring test for the brand.
 */

export type MatchResult = Readonly<{
  /** the feed's name, ASCII (punycode) form */
  domain: string;
  /** the official domain it imitates */
  official: string;
  /** 0-100: how likely the name was made to pass for the official one */
  score: number;
  reasons: readonly string[];
}>;

/** How much each fuzzer's output says "made to imitate" when the exact name turns up. */
const PERMUTATION_SCORE: Readonly<Record<FuzzerName, number>> = {
  homoglyph: 95,
  cyrillic: 95,
  homograph: 95,
  "numeral-swap": 95,
  transposition: 90,
  omission: 90,
  repetition: 90,
  "vowel-swap": 90,
  plural: 90,
  hyphenation: 90,
  insertion: 90,
  replacement: 90,
  bitsquatting: 90,
  addition: 85,
  subdomain: 85,
  "dot-dash-swap": 85,
  "tld-swap": 85,
  "wrong-sld": 85,
  various: 85,
  combosquatting: 80,
  "brand-subdomain": 80,
  dictionary: 75,
};

const SKELETON_SCORE = 100;
const SAME_LABEL_SCORE = 85;
const COMBO_SCORE = 60;
const COMBO_KEYWORD_SCORE = 80;
const BRAND_SUBDOMAIN_SCORE = 75;
const BRAND_DOMAIN_SUBDOMAIN_SCORE = 85;
const EDIT_SCORE_CAP = 90;
const EXTRA_REASON_BONUS = 5;

type Official = Readonly<{
  target: Target;
  /** the registrable label, Unicode */
  label: string;
  labelLength: number;
  mask: number;
  maxEdits: number;
  skeleton: string;
  /** ASCII characters whose skeleton starts the official's */
  skeletonStarts: ReadonlySet<string>;
  /** the brand label is long enough to look for inside other labels */
  substring: boolean;
}>;

/**
 * Edits allowed on the label, scaled by its length: none below 4 characters and 1 up to 6 (too many
 * real names are two edits from a short brand: opera and openai), 2 from 7.
 */
const maxEditsFor = (length: number) => (length < 4 ? 0 : length < 7 ? 1 : 2);

/** Which of 30 buckets of characters a label uses; each edit changes at most two buckets. */
function charMask(label: string): number {
  let mask = 0;
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    if (c >= 97 && c <= 122) mask |= 1 << (c - 97);
    else if (c >= 48 && c <= 57) mask |= 1 << 26;
    else if (c === 45) mask |= 1 << 27;
    else mask |= 1 << (28 + (c & 1));
  }
  return mask;
}

function popcount(n: number): number {
  let x = n - ((n >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

const rowA = new Int32Array(256);
const rowB = new Int32Array(256);
const rowC = new Int32Array(256);

/**
 * Damerau-Levenshtein distance (optimal string alignment: adjacent swaps count one) if it is at most
 * `max`, else max + 1; stops as soon as a whole row is over the limit.
 */
export function boundedEditDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  if (a.length > 250 || b.length > 250) return max + 1;
  let prev2 = rowA;
  let prev = rowB;
  let cur = rowC;
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let rowMin = i;
    const ai = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const bj = b.charCodeAt(j - 1);
      const cost = ai === bj ? 0 : 1;
      let d = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && ai === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === bj) {
        d = Math.min(d, (prev2[j - 2] as number) + 1);
      }
      cur[j] = d;
      if (d < rowMin) rowMin = d;
    }
    if (rowMin > max) return max + 1;
    const t = prev2;
    prev2 = prev;
    prev = cur;
    cur = t;
  }
  const d = prev[b.length] as number;
  return d > max ? max + 1 : d;
}

const ASCII_LDH = "abcdefghijklmnopqrstuvwxyz0123456789-";
const ASCII_LABEL = /^[a-z0-9-]*$/;
const ASCII_SKELETONS = new Map([...ASCII_LDH].map((ch) => [ch, skeleton(ch)]));

/** skeleton() for an ASCII label, from a per-character table. */
function asciiSkeleton(label: string): string {
  let out = "";
  for (let i = 0; i < label.length; i++) {
    const ch = label[i] as string;
    out += ASCII_SKELETONS.get(ch) ?? ch;
  }
  return out;
}

const KEYWORDS_IN = (text: string) => PHISHING_KEYWORDS.filter((k) => k.length >= 3 && text.includes(k));

export type Matcher = Readonly<{
  officials: readonly Target[];
  /** how many permutations the exact test knows */
  permutations: number;
  /** the best match of one name (ASCII or Unicode, any case), or null when it imitates none of ours */
  match: (name: string) => MatchResult | null;
}>;

type Candidate = { score: number; reasons: string[] };

const FILTER_BITS = 1 << 22;

/** FNV-1a over the name from its end, so that every suffix at a dot is hashed on the way (see permutationHit). */
function hashFromEnd(name: string): number {
  let h = 0x811c9dc5;
  for (let i = name.length - 1; i >= 0; i--) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h;
}

/** Builds the tests for the official domains once; then match() is cheap per name. */
export function createMatcher(domains: readonly (string | Target)[], options: GenerateOptions = {}): Matcher {
  const targets = domains.map((d) => (typeof d === "string" ? parseTarget(d) : d));
  const ourDomains = targets.map((t) => t.asciiDomain);
  const underOurs = ourDomains.map((d) => `.${d}`);
  const officials: Official[] = targets.map((t) => ({
    target: t,
    label: t.label,
    labelLength: t.label.length,
    mask: charMask(t.label),
    maxEdits: maxEditsFor(Array.from(t.label).length),
    skeleton: skeleton(t.label),
    skeletonStarts: new Set([...ASCII_LDH].filter((ch) => skeleton(t.label).startsWith(asciiSkeleton(ch)))),
    substring: Array.from(t.label).length >= 4,
  }));
  const permutations = new Map<string, { official: number; fuzzer: FuzzerName }>();
  targets.forEach((t, i) => {
    for (const l of generateLookalikes(t, { ...options, exclude: ourDomains })) {
      if (!permutations.has(l.punycode)) permutations.set(l.punycode, { official: i, fuzzer: l.fuzzer });
    }
  });
  // A one-hash Bloom filter in front of the map: a map lookup costs a cache miss or two, and almost
  // every name in a feed is not a permutation.
  const filter = new Uint32Array(FILTER_BITS >>> 5);
  for (const key of permutations.keys()) {
    const bit = hashFromEnd(key) & (FILTER_BITS - 1);
    filter[bit >>> 5] = (filter[bit >>> 5] as number) | (1 << (bit & 31));
  }

  /** The permutation the name or one of its parent domains is (www.opnai.com is opnai.com's). */
  function permutationHit(ascii: string): { official: number; fuzzer: FuzzerName } | undefined {
    let h = 0x811c9dc5;
    for (let i = ascii.length - 1; i >= 0; i--) {
      h = Math.imul(h ^ ascii.charCodeAt(i), 0x01000193);
      if (i > 0 && ascii.charCodeAt(i - 1) !== 46) continue;
      const bit = h & (FILTER_BITS - 1);
      if (((filter[bit >>> 5] as number) & (1 << (bit & 31))) === 0) continue;
      const hit = permutations.get(i === 0 ? ascii : ascii.slice(i));
      if (hit) return hit;
    }
    return undefined;
  }

  /**
   * Whether any label but the last could give a reason, by the cheap tests: the brand inside it, a
   * length and letter set close enough for an edit distance within the limit (then that distance),
   * an ASCII skeleton of a fitting length and first character (then that skeleton). Labels beyond
   * ASCII always get a look.
   */
  function worthALook(labels: readonly string[]): boolean {
    for (let j = 0; j < labels.length - 1; j++) {
      const label = labels[j] as string;
      if (!ASCII_LABEL.test(label)) return true;
      const length = label.length;
      let mask = -1;
      let labelSkeleton: string | undefined;
      for (const o of officials) {
        if (o.substring ? label.includes(o.label) : label === o.label) return true;
        if (o.maxEdits > 0 && Math.abs(length - o.labelLength) <= o.maxEdits) {
          if (mask < 0) mask = charMask(label);
          if (
            popcount(mask ^ o.mask) <= 2 * o.maxEdits &&
            boundedEditDistance(label, o.label, o.maxEdits) <= o.maxEdits
          ) {
            return true;
          }
        }
        if (
          length * 2 >= o.skeleton.length &&
          length <= o.skeleton.length &&
          o.skeletonStarts.has(label[0] ?? "")
        ) {
          labelSkeleton ??= asciiSkeleton(label);
          if (labelSkeleton === o.skeleton) return true;
        }
      }
    }
    return false;
  }

  /** Every reason the registrable label (and the labels before it) give, per official. */
  function reasonsFor(
    ascii: string,
    labels: readonly string[],
    add: (i: number, score: number, reason: string) => void,
  ) {
    const at = labels.length - publicSuffixOf(ascii).split(".").length - 1;
    if (at < 0) return;
    const label = labels[at] as string;
    const sub = labels.slice(0, at);
    const registrable = labels.slice(at).join(".");
    const length = label.length;
    const asciiLabel = ASCII_LABEL.test(label);
    const labelSkeleton = asciiLabel ? asciiSkeleton(label) : skeleton(label);
    officials.forEach((o, i) => {
      if (label === o.label) {
        add(i, SAME_LABEL_SCORE, `same-label: ${o.label} under another suffix (${registrable})`);
      } else {
        if (o.maxEdits > 0 && Math.abs(length - o.labelLength) <= o.maxEdits) {
          const d = boundedEditDistance(label, o.label, o.maxEdits);
          if (d <= o.maxEdits) {
            const score = Math.min(EDIT_SCORE_CAP, Math.round(100 - (100 * d) / o.labelLength));
            add(i, score, `edit-distance: ${d} edit${d > 1 ? "s" : ""} from ${o.label} (${label})`);
          }
        }
        if (labelSkeleton === o.skeleton)
          add(i, SKELETON_SCORE, `skeleton: ${label} looks the same as ${o.label}`);
        if (o.substring && label.includes(o.label)) {
          const words = KEYWORDS_IN(label.replace(o.label, " "));
          add(
            i,
            words.length ? COMBO_KEYWORD_SCORE : COMBO_SCORE,
            `combosquatting: ${o.label} inside ${registrable}${words.length ? ` with ${words.join(", ")}` : ""}`,
          );
        }
      }
      if (o.substring && sub.some((l) => l.includes(o.label))) {
        const asDomain = `.${sub.join(".")}.`.includes(`.${o.target.domain}.`);
        const words = KEYWORDS_IN(registrable);
        add(
          i,
          (asDomain ? BRAND_DOMAIN_SUBDOMAIN_SCORE : BRAND_SUBDOMAIN_SCORE) + (words.length ? 5 : 0),
          `brand-subdomain: ${asDomain ? o.target.domain : o.label} in the subdomain of ${registrable}`,
        );
      }
    });
  }

  function match(raw: string): MatchResult | null {
    const checked = checkName(normaliseName(raw));
    if (typeof checked === "string") throw new InvalidName(checked);
    const { ascii, unicode } = checked;
    for (let i = 0; i < ourDomains.length; i++) {
      if (ascii === ourDomains[i] || ascii.endsWith(underOurs[i] as string)) return null;
    }
    const hit = permutationHit(ascii);
    const labels = unicode.split(".");
    if (!hit && !worthALook(labels)) return null;

    const found = new Map<number, Candidate>();
    const add = (i: number, score: number, reason: string) => {
      const c = found.get(i);
      if (!c) found.set(i, { score, reasons: [reason] });
      else {
        c.reasons.push(reason);
        c.score = Math.max(c.score, score);
      }
    };
    if (hit) {
      const o = officials[hit.official] as Official;
      add(hit.official, PERMUTATION_SCORE[hit.fuzzer], `permutation: ${hit.fuzzer} of ${o.target.domain}`);
    }
    reasonsFor(ascii, labels, add);

    let best: { i: number; c: Candidate } | undefined;
    for (const [i, c] of found) {
      c.score = Math.min(100, c.score + EXTRA_REASON_BONUS * (c.reasons.length - 1));
      if (!best || c.score > best.c.score) best = { i, c };
    }
    if (!best) return null;
    return {
      domain: ascii,
      official: (officials[best.i] as Official).target.name,
      score: best.c.score,
      reasons: best.c.reasons,
    };
  }

  return { officials: targets, permutations: permutations.size, match };
}

/** Thrown by match() for a name that is not a valid domain; the feed reader counts these. */
export class InvalidName extends Error {
  override readonly name = "InvalidName";
}

export type FeedStats = {
  lines: number;
  names: number;
  matched: number;
  /** names reported; a name seen again later is not reported twice */
  reported: number;
  skippedLines: number;
  invalidNames: number;
  /** the first few invalid names, with their line and reason */
  invalidExamples: { line: number; name: string; reason: string }[];
  malformedLines: number;
  /** the first few malformed JSON lines */
  malformedExamples: FeedProblem[];
};

const EXAMPLES = 10;

/** Streams a feed through the matcher, calling onMatch for each name at or above minScore. */
export async function matchFeed(
  stream: Readable,
  matcher: Matcher,
  options: { minScore?: number; onMatch: (result: MatchResult, line: number) => void },
): Promise<FeedStats> {
  const minScore = options.minScore ?? 0;
  const stats: FeedStats = {
    lines: 0,
    names: 0,
    matched: 0,
    reported: 0,
    skippedLines: 0,
    invalidNames: 0,
    invalidExamples: [],
    malformedLines: 0,
    malformedExamples: [],
  };
  const reported = new Set<string>();
  stats.lines = await readFeed(stream, {
    name: (name, line) => {
      stats.names++;
      let result: MatchResult | null;
      try {
        result = matcher.match(name);
      } catch (error) {
        if (!(error instanceof InvalidName)) throw error;
        stats.invalidNames++;
        if (stats.invalidExamples.length < EXAMPLES) {
          stats.invalidExamples.push({ line, name: name.slice(0, 100), reason: error.message });
        }
        return;
      }
      if (!result || result.score < minScore) return;
      stats.matched++;
      if (reported.has(result.domain)) return;
      reported.add(result.domain);
      stats.reported++;
      options.onMatch(result, line);
    },
    malformed: (problem) => {
      stats.malformedLines++;
      if (stats.malformedExamples.length < EXAMPLES) stats.malformedExamples.push(problem);
    },
    skipped: () => {
      stats.skippedLines++;
    },
  });
  return stats;
}
