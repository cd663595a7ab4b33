import { publicSuffixOf, type Target, withLabel } from "../target.ts";
import {
  ATTACKER_TLDS,
  COUNTRY_CODES,
  PHISHING_KEYWORDS,
  PHISHING_PHRASES,
  SECOND_LEVELS,
} from "../word-lists.ts";

/**
 * Fuzzers that add words or change the suffix. They yield whole names (the caller checks them and
 * drops duplicates and the original).
 */

/** A word from the dictionary before or after the label, joined or with a hyphen; in place of a hyphenated part. */
export function* dictionary(t: Target, words: readonly string[]): Iterable<string> {
  const parts = t.label.split("-");
  for (const word of words) {
    if (word === t.label) continue;
    yield withLabel(t, `${t.label}${word}`);
    yield withLabel(t, `${t.label}-${word}`);
    yield withLabel(t, `${word}${t.label}`);
    yield withLabel(t, `${word}-${t.label}`);
    if (parts.length > 1) {
      yield withLabel(t, [...parts.slice(0, -1), word].join("-"));
      yield withLabel(t, [word, ...parts.slice(1)].join("-"));
    }
  }
}

/** The same label under another suffix: openai.net, openai.co.uk. */
export function* tldSwap(t: Target, tlds: readonly string[]): Iterable<string> {
  for (const tld of tlds) if (tld !== t.suffix) yield withLabel(t, t.label, tld);
}

/** The suffix run into the label or hyphenated, and a multi-part suffix cut short: openaicom.com, openai-com.com, openai.uk. */
export function* various(t: Target): Iterable<string> {
  const joined = t.suffix.replaceAll(".", "");
  const dashed = t.suffix.replaceAll(".", "-");
  yield withLabel(t, `${t.label}${joined}`);
  yield withLabel(t, `${t.label}-${dashed}`);
  if (t.suffix !== "com") {
    yield withLabel(t, `${t.label}${joined}`, "com");
    yield withLabel(t, `${t.label}-${dashed}`, "com");
  }
  const parts = t.suffix.split(".");
  if (parts.length > 1) {
    yield withLabel(t, t.label, parts.at(-1));
    yield withLabel(t, `${t.label}${parts[0]}`, parts.slice(1).join("."));
    yield withLabel(t, `${t.label}-${parts[0]}`, parts.slice(1).join("."));
  }
}

/**
 * Dots and hyphens traded: a hyphen of the label made a dot (my.brand.com), each dot of the name
 * before the suffix made a hyphen (www-openai.com, openai-co.uk), and the "www." typed without its dot.
 */
export function* dotDashSwap(t: Target): Iterable<string> {
  const c = Array.from(t.label);
  for (let i = 0; i < c.length; i++) {
    if (c[i] === "-") yield withLabel(t, [...c.slice(0, i), ".", ...c.slice(i + 1)].join(""));
  }
  // Dots inside the suffix stay: openai.co-uk would be under a top-level domain that does not exist.
  const head = t.subdomain ? `${t.subdomain}.${t.label}` : t.label;
  const name = `${head}.${t.suffix}`;
  for (let i = 0; i <= head.length; i++) {
    if (name[i] !== ".") continue;
    const swapped = `${name.slice(0, i)}-${name.slice(i + 1)}`;
    yield swapped.includes(".") ? swapped : `${swapped}.com`;
  }
  yield `www${t.domain}`;
  yield `www-${t.domain}`;
  yield `ww${t.domain}`;
}

/**
 * Second levels a registry does not use or the brand does not own: .co.uk → .com.uk, .org.uk,
 * .uk.com, .uk.co; .com → .com.br, .co.com, .us.com (those that the public suffix list knows).
 */
export function* wrongSecondLevel(t: Target): Iterable<string> {
  const parts = t.suffix.split(".");
  if (parts.length > 1) {
    const [second, ...rest] = parts as [string, ...string[]];
    const top = rest.join(".");
    for (const sld of SECOND_LEVELS) if (sld !== second) yield withLabel(t, t.label, `${sld}.${top}`);
    yield withLabel(t, t.label, `${top}.${second}`);
    yield withLabel(t, t.label, `${top}.com`);
    yield withLabel(t, t.label, `${top}.net`);
    yield withLabel(t, t.label, second);
    return;
  }
  const tld = t.suffix;
  for (const cc of COUNTRY_CODES) {
    if (cc === tld) continue;
    // Only suffixes that exist: com.br is one, com.uk is not (and is generated from .co.uk above).
    const under = `${tld}.${cc}`;
    if (publicSuffixOf(`x.${under}`) === under) yield withLabel(t, t.label, under);
    const over = `${cc}.${tld}`;
    if (publicSuffixOf(`x.${over}`) === over) yield withLabel(t, t.label, over);
  }
  for (const sld of SECOND_LEVELS) {
    const over = `${sld}.${tld}`;
    if (sld !== tld && publicSuffixOf(`x.${over}`) === over) yield withLabel(t, t.label, over);
  }
}

/** The brand with a phishing keyword, on its own suffix and on .com: openai-support.com, login-openai.com. */
export function* combosquatting(t: Target): Iterable<string> {
  const suffixes = t.suffix === "com" ? [t.suffix] : [t.suffix, "com"];
  for (const suffix of suffixes) {
    for (const word of PHISHING_KEYWORDS) {
      yield `${t.label}-${word}.${suffix}`;
      yield `${word}-${t.label}.${suffix}`;
      yield `${t.label}${word}.${suffix}`;
      yield `${word}${t.label}.${suffix}`;
    }
  }
}

/** The brand's whole domain, or its label, as subdomains of an attacker's domain: openai.com.verify-account.io. */
export function* brandSubdomain(t: Target): Iterable<string> {
  for (const phrase of [...PHISHING_KEYWORDS, ...PHISHING_PHRASES]) {
    for (const tld of ATTACKER_TLDS) yield `${t.domain}.${phrase}.${tld}`;
  }
  // The bare label only before a two-word phrase: before one word it would mostly be someone's real domain.
  for (const phrase of PHISHING_PHRASES) {
    for (const tld of ATTACKER_TLDS) yield `${t.label}.${phrase}.${tld}`;
  }
}
