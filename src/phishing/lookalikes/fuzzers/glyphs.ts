import { HOMOGRAPH_SCRIPTS, latinLookalikes, prototypeOf, scriptLookalikes } from "../confusables.ts";

/**
 * Fuzzers that swap characters for others that look the same: single and double homoglyphs,
 * Cyrillic and other scripts over the whole word, and the ASCII tricks (0 for o, rn for m).
 */

/** ASCII characters and clusters that pass for a single ASCII character at a glance. */
const ASCII_LOOKALIKES: Readonly<Record<string, readonly string[]>> = {
  "0": ["o"],
  "1": ["l", "i"],
  "2": ["z"],
  "3": ["8"],
  "5": ["s"],
  "6": ["9", "b"],
  "8": ["3", "b"],
  "9": ["6", "g", "q"],
  b: ["d", "6", "lb"],
  c: ["e"],
  d: ["b", "cl", "dl"],
  e: ["c"],
  g: ["q", "9"],
  h: ["b", "lh"],
  i: ["1", "l"],
  k: ["lc", "lk"],
  l: ["1", "i"],
  m: ["n", "nn", "rn", "rr"],
  n: ["m", "r"],
  o: ["0"],
  q: ["g", "9"],
  s: ["5"],
  u: ["v"],
  v: ["u"],
  w: ["vv"],
  z: ["2"],
};

/**
 * Cyrillic letters that look like Latin ones in most fonts but that confusables.txt ties to another
 * character (к to ĸ, т to small capital T).
 */
const CYRILLIC_EXTRA: Readonly<Record<string, string>> = {
  b: "ь",
  g: "ԍ",
  k: "к",
  l: "ӏ",
  m: "м",
  r: "г",
  t: "т",
};

/**
 * How well a stand-in passes for the character, best first: ASCII look-alikes; letters of other
 * scripts whose prototype is the character itself (Cyrillic а); Latin letters with one mark, the
 * Latin-1 and Latin Extended-A ones first; other decorated Latin; the looser confusables; letters
 * with two marks (ấ).
 */
function rank(ch: string, glyph: string): number {
  if (ASCII_LOOKALIKES[ch]?.includes(glyph)) return 0;
  if (!/^\p{Script=Latin}$/u.test(glyph)) return prototypeOf(glyph).toLowerCase() === ch ? 1 : 5;
  const marks = glyph.normalize("NFD").length - 1;
  if (marks === 1) return (glyph.codePointAt(0) as number) <= 0x17f ? 2 : 3;
  return marks === 0 ? 4 : 6;
}

const glyphCache = new Map<string, readonly string[]>();

/** Everything that may stand in for one character, best first (see rank). */
function glyphsFor(ch: string): readonly string[] {
  let glyphs = glyphCache.get(ch);
  if (glyphs === undefined) {
    const all = new Set<string>(ASCII_LOOKALIKES[ch] ?? []);
    for (const g of latinLookalikes(ch)) all.add(g);
    for (const list of scriptLookalikes(ch).values()) for (const g of list) all.add(g);
    const extra = CYRILLIC_EXTRA[ch];
    if (extra) all.add(extra);
    const ranked = [...all].map((g) => ({ g, r: rank(ch, g), cp: g.codePointAt(0) as number }));
    ranked.sort((a, b) => a.r - b.r || a.cp - b.cp || (a.g < b.g ? -1 : 1));
    glyphs = ranked.map((x) => x.g);
    glyphCache.set(ch, glyphs);
  }
  return glyphs;
}

/**
 * One homoglyph step: one character replaced by one of its first `width` look-alikes, at one of
 * its places or at a run of its consecutive places at once (goоgle, goооgle).
 */
function* glyphStep(label: string, width: number): Iterable<string> {
  const c = Array.from(label);
  const places = new Map<string, number[]>();
  c.forEach((ch, i) => {
    const list = places.get(ch);
    if (list) list.push(i);
    else places.set(ch, [i]);
  });
  for (const [ch, at] of places) {
    const glyphs = glyphsFor(ch).slice(0, width);
    if (glyphs.length === 0) continue;
    for (const i of at) {
      const pre = c.slice(0, i).join("");
      const post = c.slice(i + 1).join("");
      for (const g of glyphs) yield pre + g + post;
    }
    for (let first = 0; first < at.length; first++) {
      for (let last = first + 1; last < at.length; last++) {
        for (const g of glyphs) {
          const out = c.slice();
          for (let k = first; k <= last; k++) out[at[k] as number] = g;
          yield out.join("");
        }
      }
    }
  }
}

/** About how many names two steps make for a label; the second step's width is cut to stay near it. */
export const HOMOGLYPH_PAIR_BUDGET = 20_000;

/**
 * The widest second step that keeps the estimated count (names after one step times the changes
 * the second step can make, halved for the pairs made in either order) within the budget.
 */
function secondStepWidth(label: string): number {
  const occurrences = new Map<string, number>();
  for (const ch of label) occurrences.set(ch, (occurrences.get(ch) ?? 0) + 1);
  const changes = (width: number) => {
    let total = 0;
    for (const [ch, m] of occurrences) total += ((m * (m + 1)) / 2) * Math.min(width, glyphsFor(ch).length);
    return total;
  };
  const once = changes(Number.POSITIVE_INFINITY);
  let width = Math.max(0, ...[...occurrences.keys()].map((ch) => glyphsFor(ch).length));
  while (width > 1 && (once * changes(width)) / 2 > HOMOGLYPH_PAIR_BUDGET) width--;
  return width;
}

/**
 * One or two homoglyph steps: öpenai, öpenaі, 0penai, operai. The first step uses every look-alike;
 * the second only the best ones when the label is long, so a long label does not make millions.
 */
export function* homoglyph(label: string): Iterable<string> {
  const once = new Set(glyphStep(label, Number.POSITIVE_INFINITY));
  yield* once;
  const width = secondStepWidth(label);
  for (const one of once) yield* glyphStep(one, width);
}

/** The best look-alike of a character in a script: an exact confusable, else our Cyrillic pick, else a loose one. */
function firstInScript(ch: string, script: string): string | undefined {
  const own = scriptLookalikes(ch).get(script)?.[0];
  if (own !== undefined && prototypeOf(own).toLowerCase() === ch) return own;
  return (script === "cyrillic" ? CYRILLIC_EXTRA[ch] : undefined) ?? own;
}

/** Every letter that has a Cyrillic twin replaced by it: оpеnаі. */
export function* cyrillic(label: string): Iterable<string> {
  const out = Array.from(label).map((ch) => firstInScript(ch, "cyrillic") ?? ch);
  const name = out.join("");
  if (name !== label) yield name;
}

const MAX_COMBINATIONS_PER_SCRIPT = 64;

/** Every choice of one candidate per position, in order, at most `limit` of them. */
function* combinations(options: readonly (readonly string[])[], limit: number): Iterable<string> {
  const index = options.map(() => 0);
  for (let n = 0; n < limit; n++) {
    yield options.map((o, i) => o[index[i] as number]).join("");
    let i = options.length - 1;
    while (i >= 0) {
      index[i] = (index[i] as number) + 1;
      if ((index[i] as number) < (options[i] as readonly string[]).length) break;
      index[i] = 0;
      i--;
    }
    if (i < 0) return;
  }
}

/**
 * Whole-word homographs from Unicode's confusables: for each script that has look-alikes, every
 * letter that has one replaced (whole-script when all have one, like раураl; mixed-script
 * otherwise), with its variants; then every letter taken from whichever script has a look-alike.
 */
export function* homograph(label: string): Iterable<string> {
  const c = Array.from(label);
  for (const { name: script } of HOMOGRAPH_SCRIPTS) {
    const options = c.map((ch) => {
      const best = firstInScript(ch, script);
      if (best === undefined) return [ch];
      return [best, ...(scriptLookalikes(ch).get(script) ?? []).filter((g) => g !== best)];
    });
    if (options.every((o, i) => o.length === 1 && o[0] === c[i])) continue;
    yield* combinations(options, MAX_COMBINATIONS_PER_SCRIPT);
  }
  const anyScript = c.map((ch) => {
    for (const { name } of HOMOGRAPH_SCRIPTS) {
      const g = firstInScript(ch, name);
      if (g) return g;
    }
    return ch;
  });
  yield anyScript.join("");
}

/** Digits and letter clusters read as other letters: 0/o, 1/l, 1/i, 11/ll, rn/m, vv/w, cl/d... */
const SWAPS: readonly (readonly [string, string])[] = [
  ["o", "0"],
  ["l", "1"],
  ["i", "1"],
  ["i", "l"],
  ["ll", "11"],
  ["m", "rn"],
  ["m", "nn"],
  ["w", "vv"],
  ["w", "uu"],
  ["d", "cl"],
  ["n", "ri"],
  ["s", "5"],
  ["z", "2"],
  ["g", "9"],
  ["q", "9"],
  ["b", "6"],
  ["e", "3"],
  ["a", "4"],
  ["t", "7"],
];

function* swapEach(label: string, from: string, to: string): Iterable<string> {
  let count = 0;
  for (let at = label.indexOf(from); at >= 0; at = label.indexOf(from, at + from.length)) {
    count++;
    yield label.slice(0, at) + to + label.slice(at + from.length);
  }
  if (count > 1) yield label.replaceAll(from, to);
}

/** Each swap both ways, at each place and at all places at once: 0penai, mixpane1, rnixpanel. */
export function* numeralSwap(label: string): Iterable<string> {
  for (const [a, b] of SWAPS) {
    yield* swapEach(label, a, b);
    yield* swapEach(label, b, a);
  }
}
