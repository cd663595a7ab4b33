import punycode from "punycode/punycode.js";

/** Punycode (RFC 3492) for one label without its "xn--" prefix, from the punycode package. */
export const encodeLabel = (label: string): string => punycode.encode(label);

/** The label an ACE label's Punycode part stands for, or null when it is not valid Punycode. */
export function decodeLabel(ace: string): string | null {
  try {
    return punycode.decode(ace);
  } catch {
    return null;
  }
}

/**
 * IDNA2008 validity (RFC 5890-5893) for the names we generate and the names we read.
 *
 * The derived property table of RFC 5892 is computed from the Unicode data built into the JS engine
 * (general category, normalisation, case mapping) instead of a shipped table, so it follows the
 * engine's Unicode version. CONTEXTJ (joiners) is refused outright; CONTEXTO rules are applied;
 * the Bidi rule (RFC 5893) is approximated with the Script property (JS regexes have no Bidi_Class).
 */

const PVALID_EXCEPTIONS = new Set([0x00df, 0x03c2, 0x06fd, 0x06fe, 0x0f0b, 0x3007]);
const CONTEXTO = new Set([
  0x00b7,
  0x0375,
  0x05f3,
  0x05f4,
  0x30fb,
  ...range(0x0660, 0x0669),
  ...range(0x06f0, 0x06f9),
]);
const DISALLOWED_EXCEPTIONS = new Set([
  0x0640, 0x07fa, 0x302e, 0x302f, 0x3031, 0x3032, 0x3033, 0x3034, 0x3035, 0x303b,
]);

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

const UNASSIGNED = /^\p{Cn}$/u;
const LETTER_DIGIT = /^[\p{Ll}\p{Lu}\p{Lo}\p{Nd}\p{Lm}\p{Mn}\p{Mc}]$/u;
const IGNORABLE = /^[\p{Default_Ignorable_Code_Point}\p{White_Space}\p{Noncharacter_Code_Point}]$/u;
const COMBINING_MARK = /^\p{M}/u;

// Full case folding is lower(upper(x)) but for two cases: Cherokee small letters fold to capitals,
// and dotless ı folds to itself (its capital I lowercases to a dotted i).
const isCherokeeSmall = (cp: number) => (cp >= 0xab70 && cp <= 0xabbf) || (cp >= 0x13f8 && cp <= 0x13fd);
const DOTLESS_I = 0x0131;

function isUnstable(ch: string, cp: number): boolean {
  if (isCherokeeSmall(cp)) return true;
  if (cp === DOTLESS_I) return false;
  const k = ch.normalize("NFKC");
  return k.toLowerCase().normalize("NFKC") !== ch || k.toUpperCase().toLowerCase().normalize("NFKC") !== ch;
}

const inIgnorableBlock = (cp: number) =>
  (cp >= 0x20d0 && cp <= 0x20ff) || (cp >= 0x1d100 && cp <= 0x1d1ff) || (cp >= 0x1d200 && cp <= 0x1d24f);

const isOldHangulJamo = (cp: number) =>
  (cp >= 0x1100 && cp <= 0x11ff) || (cp >= 0xa960 && cp <= 0xa97c) || (cp >= 0xd7b0 && cp <= 0xd7fb);

export type CodePointStatus = "PVALID" | "CONTEXTO" | "CONTEXTJ" | "DISALLOWED" | "UNASSIGNED";

/** RFC 5892 section 3, in its order of precedence. */
function deriveStatus(cp: number): CodePointStatus {
  if (PVALID_EXCEPTIONS.has(cp)) return "PVALID";
  if (CONTEXTO.has(cp)) return "CONTEXTO";
  if (DISALLOWED_EXCEPTIONS.has(cp)) return "DISALLOWED";
  const ch = String.fromCodePoint(cp);
  if (UNASSIGNED.test(ch)) return "UNASSIGNED";
  if (cp === 0x2d || (cp >= 0x30 && cp <= 0x39) || (cp >= 0x61 && cp <= 0x7a)) return "PVALID";
  if (cp === 0x200c || cp === 0x200d) return "CONTEXTJ";
  if (isUnstable(ch, cp)) return "DISALLOWED";
  if (IGNORABLE.test(ch) || inIgnorableBlock(cp) || isOldHangulJamo(cp)) return "DISALLOWED";
  return LETTER_DIGIT.test(ch) ? "PVALID" : "DISALLOWED";
}

const statusCache = new Map<number, CodePointStatus>();

export function codePointStatus(cp: number): CodePointStatus {
  let status = statusCache.get(cp);
  if (status === undefined) {
    status = deriveStatus(cp);
    statusCache.set(cp, status);
  }
  return status;
}

const RTL_SCRIPT =
  /[\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}\p{Script=Samaritan}\p{Script=Mandaic}\p{Script=Adlam}\p{Script=Hanifi_Rohingya}\p{Script=Yezidi}\p{Script=Mende_Kikakui}]/u;
const RTL_CHAR = new RegExp(`^${RTL_SCRIPT.source}$`, "u");
const ARABIC_INDIC_DIGIT = /^[\u0660-\u0669\u06f0-\u06f9]$/u;
const ASCII_DIGIT = /^[0-9]$/;
const NONSPACING = /^\p{Mn}$/u;
const LETTER = /^\p{L}$/u;

const isGreek = (ch: string) => /^\p{Script=Greek}$/u.test(ch);
const isHebrew = (ch: string) => /^\p{Script=Hebrew}$/u.test(ch);
const isKanaOrHan = (ch: string) => /^[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]$/u.test(ch);

/** RFC 5892 appendix A rules for the CONTEXTO code points (the label is given as code points). */
function contextOk(chars: readonly string[], i: number): boolean {
  const cp = chars[i]?.codePointAt(0) ?? 0;
  if (cp === 0x00b7) return chars[i - 1] === "l" && chars[i + 1] === "l";
  if (cp === 0x0375) return chars[i + 1] !== undefined && isGreek(chars[i + 1] as string);
  if (cp === 0x05f3 || cp === 0x05f4) return chars[i - 1] !== undefined && isHebrew(chars[i - 1] as string);
  if (cp === 0x30fb) return chars.some((c) => c !== "\u30fb" && isKanaOrHan(c));
  if (cp >= 0x0660 && cp <= 0x0669) return !chars.some((c) => c >= "\u06f0" && c <= "\u06f9");
  if (cp >= 0x06f0 && cp <= 0x06f9) return !chars.some((c) => c >= "\u0660" && c <= "\u0669");
  return false;
}

/** Why a U-label (Unicode form, lowercase) is not valid IDNA2008, or null when it is. */
export function uLabelProblem(label: string): string | null {
  if (label.length === 0) return "empty label";
  if (label.normalize("NFC") !== label) return "not in NFC";
  if (label.startsWith("-") || label.endsWith("-")) return "starts or ends with a hyphen";
  if (label.length >= 4 && label[2] === "-" && label[3] === "-")
    return "hyphens in the third and fourth places";
  if (COMBINING_MARK.test(label)) return "starts with a combining mark";
  const chars = Array.from(label);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    const status = codePointStatus(ch.codePointAt(0) as number);
    if (status === "PVALID") continue;
    if (status === "CONTEXTO" && contextOk(chars, i)) continue;
    return `code point U+${(ch.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, "0")} is ${status === "CONTEXTO" ? "not allowed in this context" : status.toLowerCase()}`;
  }
  return null;
}

/**
 * RFC 5893 on the whole name, approximated: a right-to-left label starts with a right-to-left letter,
 * holds no left-to-right letters and does not mix the two kinds of digits; once any label is
 * right-to-left, every label starts with a letter.
 */
function bidiProblem(labels: readonly string[]): string | null {
  if (!labels.some((l) => RTL_SCRIPT.test(l))) return null;
  for (const label of labels) {
    const chars = Array.from(label);
    if (!LETTER.test(chars[0] ?? ""))
      return `label "${label}" must start with a letter in a right-to-left name`;
    if (!RTL_SCRIPT.test(label)) continue;
    if (!RTL_CHAR.test(chars[0] ?? ""))
      return `right-to-left label "${label}" starts with a left-to-right letter`;
    let asciiDigits = false;
    let arabicDigits = false;
    for (const ch of chars) {
      if (ASCII_DIGIT.test(ch)) asciiDigits = true;
      else if (ARABIC_INDIC_DIGIT.test(ch)) arabicDigits = true;
      else if (LETTER.test(ch) && !RTL_CHAR.test(ch)) return `label "${label}" mixes directions`;
    }
    if (asciiDigits && arabicDigits) return `label "${label}" mixes European and Arabic-Indic digits`;
    const last = chars.findLast((c) => !NONSPACING.test(c)) ?? "";
    if (!(RTL_CHAR.test(last) || ASCII_DIGIT.test(last) || ARABIC_INDIC_DIGIT.test(last))) {
      return `right-to-left label "${label}" ends badly`;
    }
  }
  return null;
}

const LDH_LABEL = /^[a-z0-9-]+$/;
const ASCII = /^\p{ASCII}*$/u;

export type IdnaName = Readonly<{ unicode: string; ascii: string }>;

/** An LDH label's problem, checked without the per-code-point work. */
function ldhProblem(label: string): string | null {
  if (label.startsWith("-") || label.endsWith("-")) return "starts or ends with a hyphen";
  if (label.length >= 4 && label[2] === "-" && label[3] === "-")
    return "hyphens in the third and fourth places";
  return null;
}

/**
 * The common case in one pass over the characters: only a-z, 0-9, hyphens and dots, every label
 * 1-63 long without a hyphen at either end or in the third and fourth places (so no A-labels), at
 * most 253 in all. Anything else takes the full check, which also says what is wrong.
 */
function isPlainLdhName(name: string): boolean {
  if (name.length > 253) return false;
  let start = 0;
  for (let i = 0; i <= name.length; i++) {
    const c = i < name.length ? name.charCodeAt(i) : 46;
    if (c === 46) {
      const length = i - start;
      if (length === 0 || length > 63) return false;
      if (name.charCodeAt(start) === 45 || name.charCodeAt(i - 1) === 45) return false;
      if (length >= 4 && name.charCodeAt(start + 2) === 45 && name.charCodeAt(start + 3) === 45) return false;
      start = i + 1;
    } else if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45)) {
      return false;
    }
  }
  return true;
}

/** One label as [Unicode form, ASCII form], or the reason it is not valid. */
function checkLabel(label: string): readonly [string, string] | string {
  if (label.length === 0) return "empty label";
  if (LDH_LABEL.test(label)) {
    if (!label.startsWith("xn--")) {
      const problem = ldhProblem(label);
      return problem ? `"${label}": ${problem}` : [label, label];
    }
    const decoded = decodeLabel(label.slice(4));
    // An A-label must decode, hold something beyond ASCII and be the canonical encoding of it.
    if (decoded === null || ASCII.test(decoded) || `xn--${encodeLabel(decoded)}` !== label) {
      return `"${label}" is not a valid A-label`;
    }
    const problem = uLabelProblem(decoded);
    return problem ? `"${label}": ${problem}` : [decoded, label];
  }
  const problem = uLabelProblem(label);
  return problem ? `"${label}": ${problem}` : [label, `xn--${encodeLabel(label)}`];
}

/**
 * Checks a lowercase domain name in Unicode form (A-labels are accepted too and decoded) and returns
 * both forms, or the reason it is not a valid IDNA2008 name. Limits: labels of at most 63 octets and
 * a name of at most 253 in ASCII form.
 */
export function checkName(name: string): IdnaName | string {
  if (name.length === 0) return "empty name";
  if (isPlainLdhName(name)) return { unicode: name, ascii: name };
  const unicodeLabels: string[] = [];
  const asciiLabels: string[] = [];
  let rtlPossible = false;
  for (const label of name.split(".")) {
    const checked = checkLabel(label);
    if (typeof checked === "string") return checked;
    const [u, a] = checked;
    if (a.length > 63) return `label "${a}" is longer than 63 octets`;
    if (u !== a) rtlPossible = true;
    unicodeLabels.push(u);
    asciiLabels.push(a);
  }
  if (rtlPossible) {
    const bidi = bidiProblem(unicodeLabels);
    if (bidi) return bidi;
  }
  const ascii = asciiLabels.join(".");
  if (ascii.length > 253) return "name is longer than 253 octets";
  return { unicode: unicodeLabels.join("."), ascii };
}

/**
 * What a person typed or a feed holds, made comparable: trimmed, lowercase, without a trailing dot or
 * a leading "*." (certificate wildcards), full stops of other scripts read as dots.
 */
export function normaliseName(raw: string): string {
  let name = raw.trim().toLowerCase();
  if (!ASCII.test(name)) name = name.replace(/[\u3002\uff0e\uff61]/g, ".").normalize("NFC");
  if (name.endsWith(".")) name = name.slice(0, -1);
  if (name.startsWith("*.")) name = name.slice(2);
  return name;
}
