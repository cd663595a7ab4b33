import { neighbours } from "./keyboard.ts";

/**
 * Fuzzers that change the registrable label the way typing goes wrong. Each takes the label and
 * yields candidate labels; the caller puts them back into a name, checks them and drops duplicates.
 * Labels are handled as code points so that an internationalised label is never split mid-character.
 */

const ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";
const VOWELS = "aeiou";
const LDH = /^[a-z0-9-]$/;

const chars = (label: string) => Array.from(label);

/** One character more anywhere: openai → openaix, opxenai, xopenai. */
export function* addition(label: string): Iterable<string> {
  const c = chars(label);
  for (let i = 0; i <= c.length; i++) {
    const pre = c.slice(0, i).join("");
    const post = c.slice(i).join("");
    for (const ch of ALNUM) yield pre + ch + post;
  }
}

/** One bit flipped in one character, as a memory or transmission fault would: openai → openqi, npenai. */
export function* bitsquatting(label: string): Iterable<string> {
  const c = chars(label);
  for (let i = 0; i < c.length; i++) {
    const code = (c[i] as string).codePointAt(0) as number;
    if (code > 0x7f) continue;
    for (let bit = 0; bit < 8; bit++) {
      const flipped = String.fromCharCode(code ^ (1 << bit));
      if (LDH.test(flipped)) yield [...c.slice(0, i), flipped, ...c.slice(i + 1)].join("");
    }
  }
}

/** A hyphen between two characters: open-ai. */
export function* hyphenation(label: string): Iterable<string> {
  const c = chars(label);
  for (let i = 1; i < c.length; i++) {
    if (c[i - 1] === "-" || c[i] === "-") continue;
    yield [...c.slice(0, i), "-", ...c.slice(i)].join("");
  }
}

/** A neighbouring key pressed with the intended one, before or after it: openai → opwenai, opewnai. */
export function* insertion(label: string): Iterable<string> {
  const c = chars(label);
  for (let i = 0; i < c.length; i++) {
    const pre = c.slice(0, i).join("");
    const post = c.slice(i + 1).join("");
    const ch = c[i] as string;
    for (const key of neighbours(ch)) {
      yield pre + key + ch + post;
      yield pre + ch + key + post;
    }
  }
}

/** One character left out: openai → opnai. */
export function* omission(label: string): Iterable<string> {
  const c = chars(label);
  for (let i = 0; i < c.length; i++) yield [...c.slice(0, i), ...c.slice(i + 1)].join("");
}

/** A plural "s" (or "es" after s, x, z) after a character, the end included: openais, opensai. */
export function* plural(label: string): Iterable<string> {
  const c = chars(label);
  for (let i = 1; i < c.length; i++) {
    const ch = c[i] as string;
    yield [...c.slice(0, i + 1), "sxz".includes(ch) ? "es" : "s", ...c.slice(i + 1)].join("");
  }
}

/** A character typed twice: oppenai. */
export function* repetition(label: string): Iterable<string> {
  const c = chars(label);
  for (let i = 0; i < c.length; i++) yield [...c.slice(0, i + 1), ...c.slice(i)].join("");
}

/** A neighbouring key instead of the intended one: openai → opebai. */
export function* replacement(label: string): Iterable<string> {
  const c = chars(label);
  for (let i = 0; i < c.length; i++) {
    for (const key of neighbours(c[i] as string)) yield [...c.slice(0, i), key, ...c.slice(i + 1)].join("");
  }
}

/** A dot inside the label, so that the start becomes a subdomain: open.ai.com → ope.nai.com. */
export function* subdomain(label: string): Iterable<string> {
  const c = chars(label);
  for (let i = 1; i < c.length; i++) {
    if (c[i - 1] === "-" || c[i] === "-") continue;
    yield [...c.slice(0, i), ".", ...c.slice(i)].join("");
  }
}

/** Two neighbouring characters swapped: poenai. */
export function* transposition(label: string): Iterable<string> {
  const c = chars(label);
  for (let i = 0; i + 1 < c.length; i++) {
    if (c[i] === c[i + 1]) continue;
    yield [...c.slice(0, i), c[i + 1], c[i], ...c.slice(i + 2)].join("");
  }
}

/** One vowel for another: opanai, upenai. */
export function* vowelSwap(label: string): Iterable<string> {
  const c = chars(label);
  for (let i = 0; i < c.length; i++) {
    if (!VOWELS.includes(c[i] as string)) continue;
    for (const v of VOWELS) {
      if (v !== c[i]) yield [...c.slice(0, i), v, ...c.slice(i + 1)].join("");
    }
  }
}
