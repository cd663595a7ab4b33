/**
 * Finds the seeded test identity's values in decoded request leaves, in plain, normalised, encoded and
 * hashed form, and says how each was encoded.
 *
 * A match's chain is the leaf's chain followed by the value's encoding steps, from the value outwards:
 * - the form: `plain` (the value as given, exact case), `case-changed` (the value in another case),
 *   `normalised` (the ad-pixel normalisation, see `normalise`), `normalised`, `case-changed`;
 * - then up to two encodings, each one of `url-encoded`, `base64`, `base64url`, `md5:hex`, `md5:base64`,
 *   `sha1:hex`, `sha1:base64`, `sha256:hex`, `sha256:base64`, `sha512:hex`, `sha512:base64`,
 *   e.g. ["normalised", "sha256:hex"] or ["plain", "md5:hex", "sha256:hex"].
 *
 * Text forms, url-encoded and hex needles match case-insensitively; base64 needles match exactly (base64 is
 * case-sensitive) and without their `=` padding. Values shorter than MIN_SEED_CHARS are not searched for
 * (they would match everywhere); `buildNeedles` lists them in `NeedleSet.skipped` so the caller can say so.
 */
import { createHash } from "node:crypto";
import type { Leaf } from "./decode-payload.ts";

export type SeedValue = { field: string; category: string; value: string };
export type SeedMatch = { seed_field: string; category: string; chain: string[] };

export const MIN_SEED_CHARS = 4;

type TextForm = "plain" | "normalised";
type Variant = { text: string; steps: readonly string[]; textForm: TextForm | undefined };
/** Needles of one seed with the same text (folded when case-insensitive); the first variant is simplest. */
type NeedleGroup = {
  seed: number;
  caseInsensitive: boolean;
  /** Lower-cased (per character) when caseInsensitive, else the exact needle. */
  folded: string;
  variants: Variant[];
};

export type NeedleSet = {
  readonly seeds: readonly SeedValue[];
  /** Seed values not searched for because they are shorter than MIN_SEED_CHARS (after trimming). */
  readonly skipped: readonly SeedValue[];
  /** Number of distinct needles, for progress and benchmark output. */
  readonly size: number;
  readonly minLength: number;
  readonly index: ReadonlyMap<number, readonly NeedleGroup[]>;
  /** Folded character pairs (low bytes) at needle offsets 0-1 and 2-3, to skip most positions quickly. */
  readonly pairs: Uint8Array;
  readonly pairs2: Uint8Array;
};

// ------------------------------------------------------------------------------------------ normalising

type Rule = "email" | "phone" | "name" | "place";

function ruleFor(field: string, category = ""): Rule | undefined {
  const f = field.toLowerCase();
  if (/e-?mail/.test(f) || category === "user.contact.email") return "email";
  if (/phone|mobile|msisdn|(^|_)tel$/.test(f) || category.startsWith("user.contact.phone")) return "phone";
  if (
    /(^|_)((first|last|full|given|family|middle|sur|display)_?)?name$|^(fn|ln|surname)$/.test(f) ||
    category === "user.name" ||
    category.startsWith("user.name.")
  ) {
    return "name";
  }
  if (/(^|_)(city|state|region|zip|zip_?code|postal_?code|postcode|country)$/.test(f)) return "place";
  return undefined;
}

/**
 * Every normalised form ad pixels send for this value, first the main one:
 * - email: trimmed and lower-cased (Meta, Google, TikTok); for gmail.com / googlemail.com also without the
 *   dots before the `@` (Google enhanced conversions);
 * - phone: digits only with the country code kept, `+`, spaces, dashes, parentheses and leading zeros
 *   dropped (Meta, TikTok); also `+` and those digits (Google's E.164);
 * - names: trimmed, lower-cased, punctuation removed, spaces collapsed (Meta), and also without spaces;
 * - city, region, postcode, country: lower-cased without spaces or punctuation (Meta);
 * - anything else (ids): none, the value is sent as given.
 */
function normalisedForms(field: string, value: string, category?: string): string[] {
  const rule = ruleFor(field, category);
  const forms: string[] = [];
  if (rule === "email") {
    const email = value.trim().toLowerCase();
    forms.push(email);
    const at = email.lastIndexOf("@");
    const domain = email.slice(at + 1);
    if (at > 0 && (domain === "gmail.com" || domain === "googlemail.com")) {
      forms.push(`${email.slice(0, at).replaceAll(".", "")}@${domain}`);
    }
  } else if (rule === "phone") {
    const digits = value.replace(/\D/g, "").replace(/^0+/, "");
    if (digits !== "") forms.push(digits, `+${digits}`);
  } else if (rule === "name") {
    const name = value.trim().toLowerCase().replace(/\p{P}/gu, "").replace(/\s+/g, " ").trim();
    forms.push(name, name.replaceAll(" ", ""));
  } else if (rule === "place") {
    forms.push(value.toLowerCase().replace(/[\s\p{P}]/gu, ""));
  }
  return [...new Set(forms)].filter((form) => form !== value && form !== "");
}

/** The ad-pixel normalisation of this field's value, or undefined when it is the value itself. */
export function normalise(field: string, value: string): string | undefined {
  return normalisedForms(field, value)[0];
}

// ------------------------------------------------------------------------------------------- encodings

type Encoded = { canonical: string; needles: string[]; caseInsensitive: boolean };
type Encoder = { step: string; encode: (s: string) => Encoded | undefined };

const stripPadding = (s: string) => s.replace(/=+$/, "");

function digestEncoders(algorithm: string): Encoder[] {
  return [
    {
      step: `${algorithm}:hex`,
      encode: (s) => {
        const hex = createHash(algorithm).update(s, "utf8").digest("hex");
        return { canonical: hex, needles: [hex], caseInsensitive: true };
      },
    },
    {
      step: `${algorithm}:base64`,
      encode: (s) => {
        const b64 = createHash(algorithm).update(s, "utf8").digest("base64");
        return { canonical: b64, needles: [stripPadding(b64)], caseInsensitive: false };
      },
    },
  ];
}

const ENCODERS: readonly Encoder[] = [
  {
    step: "url-encoded",
    encode: (s) => {
      const component = encodeURIComponent(s);
      // application/x-www-form-urlencoded: `+` for spaces, and a few more characters escaped.
      const form = new URLSearchParams([["", s]]).toString().slice(1);
      const needles = [...new Set([component, form])].filter((n) => n !== s);
      if (needles.length === 0) return undefined;
      return { canonical: needles[0] ?? component, needles, caseInsensitive: true };
    },
  },
  {
    step: "base64",
    encode: (s) => {
      const b64 = Buffer.from(s, "utf8").toString("base64");
      return { canonical: b64, needles: [stripPadding(b64)], caseInsensitive: false };
    },
  },
  {
    step: "base64url",
    encode: (s) => {
      const b64 = Buffer.from(s, "utf8").toString("base64url");
      return { canonical: b64, needles: [b64], caseInsensitive: false };
    },
  },
  ...digestEncoders("md5"),
  ...digestEncoders("sha1"),
  ...digestEncoders("sha256"),
  ...digestEncoders("sha512"),
];

// ------------------------------------------------------------------------------------------ case folding

const foldCache = new Uint16Array(65536);

/** Per-UTF-16-unit lower-casing that never changes a string's length, so positions stay aligned. */
function fold(c: number): number {
  if (c < 128) return c >= 65 && c <= 90 ? c + 32 : c;
  const cached = foldCache[c] ?? 0;
  if (cached !== 0) return cached;
  const lower = String.fromCharCode(c).toLowerCase();
  const folded = lower.length === 1 ? lower.charCodeAt(0) : c;
  foldCache[c] = folded;
  return folded;
}

function foldString(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) out += String.fromCharCode(fold(s.charCodeAt(i)));
  return out;
}

/** Index key of four folded characters; unique for ASCII, collisions elsewhere only cost a comparison. */
function key4(a: number, b: number, c: number, d: number): number {
  return ((a * 131 + b) * 131 + c) * 131 + d;
}

const pairSlot = (a: number, b: number) => ((a & 0xff) << 8) | (b & 0xff);

// --------------------------------------------------------------------------------------------- building

export function buildNeedles(seeds: readonly SeedValue[]): NeedleSet {
  const groups = new Map<string, NeedleGroup>();
  const skipped: SeedValue[] = [];
  let size = 0;

  const add = (seed: number, text: string, caseInsensitive: boolean, variant: Omit<Variant, "text">) => {
    if (text.length < MIN_SEED_CHARS) return;
    const folded = caseInsensitive ? foldString(text) : text;
    const id = `${seed}\u0000${caseInsensitive ? "i" : "s"}${folded}`;
    const existing = groups.get(id);
    if (existing) {
      // Alternatives that differ only in case tell `plain` from `normalised` by the exact case found.
      if (caseInsensitive && !existing.variants.some((v) => v.text === text)) {
        existing.variants.push({ text, ...variant });
      }
      return;
    }
    groups.set(id, { seed, caseInsensitive, folded, variants: [{ text, ...variant }] });
    size++;
  };

  seeds.forEach((seed, index) => {
    if (seed.value.trim().length < MIN_SEED_CHARS) {
      skipped.push(seed);
      return;
    }
    const forms: [TextForm, string][] = [["plain", seed.value]];
    for (const form of normalisedForms(seed.field, seed.value, seed.category))
      forms.push(["normalised", form]);
    for (const [label, text] of forms) {
      if (text.length < MIN_SEED_CHARS) continue;
      add(index, text, true, { steps: [label], textForm: label });
      for (const first of ENCODERS) {
        const once = first.encode(text);
        if (!once) continue;
        for (const needle of once.needles) {
          add(index, needle, once.caseInsensitive, { steps: [label, first.step], textForm: undefined });
        }
        for (const second of ENCODERS) {
          const twice = second.encode(once.canonical);
          if (!twice) continue;
          for (const needle of twice.needles) {
            add(index, needle, twice.caseInsensitive, {
              steps: [label, first.step, second.step],
              textForm: undefined,
            });
          }
        }
      }
    }
  });

  const index = new Map<number, NeedleGroup[]>();
  const pairs = new Uint8Array(65536);
  const pairs2 = new Uint8Array(65536);
  let minLength = Number.POSITIVE_INFINITY;
  for (const group of groups.values()) {
    const f = group.folded;
    const k = key4(
      fold(f.charCodeAt(0)),
      fold(f.charCodeAt(1)),
      fold(f.charCodeAt(2)),
      fold(f.charCodeAt(3)),
    );
    const bucket = index.get(k);
    if (bucket) bucket.push(group);
    else index.set(k, [group]);
    pairs[pairSlot(fold(f.charCodeAt(0)), fold(f.charCodeAt(1)))] = 1;
    pairs2[pairSlot(fold(f.charCodeAt(2)), fold(f.charCodeAt(3)))] = 1;
    minLength = Math.min(minLength, f.length);
  }
  return { seeds: [...seeds], skipped, size, minLength, index, pairs, pairs2 };
}

// ---------------------------------------------------------------------------------------------- finding

type Hit = { seed: number; leaf: number; steps: readonly string[]; start: number; length: number };

/**
 * Every seed value found in the leaves, deduplicated by (seed_field, chain). A match in a leaf is dropped
 * when a leaf decoded from it (a longer chain with this leaf's chain as prefix) holds the same occurrence:
 * the same seed in the same encoding, or the encoding without its last base64/base64url/url-encoded step
 * (so base64 of the email is reported once, through the decoded leaf, as [..., "base64", "plain"]).
 */
export function findSeeds(needles: NeedleSet, leaves: readonly Leaf[]): SeedMatch[] {
  const hits: Hit[] = [];
  leaves.forEach((leaf, index) => {
    scanLeaf(needles, leaf.text, index, hits);
  });
  const explained = explainedByDecodedLeaves(hits, leaves);
  const seen = new Set<string>();
  const matches: SeedMatch[] = [];
  for (const hit of hits) {
    const leaf = leaves[hit.leaf];
    const seed = needles.seeds[hit.seed];
    if (!leaf || !seed) continue;
    if (explained.has(occurrenceKey(hit.seed, hit.steps, leaf.chain))) continue;
    const chain = [...leaf.chain, ...hit.steps];
    const id = `${seed.field}\u0000${chain.join("\u0001")}`;
    if (seen.has(id)) continue;
    seen.add(id);
    matches.push({ seed_field: seed.field, category: seed.category, chain });
  }
  return matches;
}

function scanLeaf(needles: NeedleSet, text: string, leafIndex: number, hits: Hit[]): void {
  const n = text.length;
  if (n < needles.minLength) return;
  const { index, pairs, pairs2 } = needles;
  const leafHits: Hit[] = [];
  let c1 = fold(text.charCodeAt(0));
  let c2 = fold(text.charCodeAt(1));
  let c3 = fold(text.charCodeAt(2));
  for (let i = 0; i + 3 < n; i++) {
    const c0 = c1;
    c1 = c2;
    c2 = c3;
    c3 = fold(text.charCodeAt(i + 3));
    if (pairs[pairSlot(c0, c1)] !== 1 || pairs2[pairSlot(c2, c3)] !== 1) continue;
    const bucket = index.get(key4(c0, c1, c2, c3));
    if (!bucket) continue;
    for (const group of bucket) {
      const steps = matchAt(group, text, i);
      if (steps) {
        leafHits.push({ seed: group.seed, leaf: leafIndex, steps, start: i, length: group.folded.length });
      }
    }
  }
  // Two needles of one seed over exactly the same characters are one occurrence: keep the simplest.
  leafHits.sort((a, b) => a.start - b.start || b.length - a.length || a.steps.length - b.steps.length);
  const taken = new Set<string>();
  const kept: Hit[] = [];
  for (const hit of leafHits) {
    const spot = `${hit.seed}:${hit.start}:${hit.length}`;
    if (taken.has(spot)) continue;
    taken.add(spot);
    kept.push(hit);
  }
  for (const hit of kept) {
    if (!insideOtherSeed(hit, kept)) hits.push(hit);
  }
}

/**
 * A first name inside the matched email, or inside the full name, is that other seed's occurrence, not
 * evidence that the first name itself was sent.
 */
function insideOtherSeed(hit: Hit, others: readonly Hit[]): boolean {
  if (others.length > 1000) return false; // the same seed repeated everywhere: not worth the quadratic check
  const end = hit.start + hit.length;
  return others.some(
    (other) =>
      other.seed !== hit.seed &&
      other.length > hit.length &&
      other.start <= hit.start &&
      other.start + other.length >= end,
  );
}

/** The encoding steps when the group's needle is at `pos`, or undefined. */
function matchAt(group: NeedleGroup, text: string, pos: number): readonly string[] | undefined {
  const needle = group.folded;
  if (pos + needle.length > text.length) return undefined;
  if (!group.caseInsensitive) return text.startsWith(needle, pos) ? group.variants[0]?.steps : undefined;
  for (let j = 4; j < needle.length; j++) {
    if (fold(text.charCodeAt(pos + j)) !== needle.charCodeAt(j)) return undefined;
  }
  for (const variant of group.variants) {
    if (text.startsWith(variant.text, pos)) return variant.steps;
  }
  const first = group.variants[0];
  if (!first) return undefined;
  if (first.textForm === "plain") return ["case-changed"];
  if (first.textForm === "normalised") return ["normalised", "case-changed"];
  return first.steps; // a hex digest or percent-escape in the other case means the same thing
}

/** `case-changed` is the same occurrence as `plain` for deciding whether a decoded leaf explains a match. */
function canonicalSteps(steps: readonly string[]): string {
  const kept = steps.filter((step) => step !== "case-changed");
  if (kept.length === 0) kept.push("plain");
  return kept.join("\u0001");
}

function occurrenceKey(seed: number, steps: readonly string[], chain: readonly string[]): string {
  return `${seed}\u0000${canonicalSteps(steps)}\u0000${chain.join("\u0001")}`;
}

const REVERSIBLE_STEPS = new Set(["base64", "base64url", "url-encoded"]);

/**
 * Keys (seed, encoding, ancestor chain) of matches that a leaf decoded from that ancestor already reports,
 * plus the same with one reversible encoding step added (the ancestor saw it still encoded).
 */
function explainedByDecodedLeaves(hits: readonly Hit[], leaves: readonly Leaf[]): Set<string> {
  const explained = new Set<string>();
  for (const hit of hits) {
    const chain = leaves[hit.leaf]?.chain ?? [];
    if (chain.length < 2) continue;
    const encodings = [canonicalSteps(hit.steps)];
    for (const step of REVERSIBLE_STEPS) encodings.push(`${encodings[0]}\u0001${step}`);
    let prefix = "";
    for (let length = 1; length < chain.length; length++) {
      prefix = length === 1 ? (chain[0] ?? "") : `${prefix}\u0001${chain[length - 1] ?? ""}`;
      for (const encoding of encodings) explained.add(`${hit.seed}\u0000${encoding}\u0000${prefix}`);
    }
  }
  return explained;
}
