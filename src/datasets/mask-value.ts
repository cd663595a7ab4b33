/**
 * Masks a sample value from a dataset so that it shows what kind of value a field holds without any
 * personal value appearing whole:
 *
 *   john.doe@example.com  → j***@e***.com      (first character of each part, and the top-level domain)
 *   +49 170 1234567       → +## ### #######    (digits become #, punctuation stays: phones, IPs, numbers)
 *   1763000000 (a number) → ##########
 *   Berlin                → B*****             (first character, an asterisk per character up to 8)
 *   true, DE, ios, v2     → as they are        (booleans, and codes of up to 3 letters or digits in one case)
 *   {…} / […]             → objects and arrays, never their content
 *
 * `strict` (for fields that identify or name someone) masks short codes too. Returns null for what
 * counts as no value (null, blank, empty object or array).
 */

const MAX_STARS = 8;
const MAX_DIGIT_MASK = 24;
// Codes such as DE, USD, ios or v2: one case, with a letter. Mixed case (Bob, Jo) may be a name, and
// a short run of digits alone (an age, say) is masked like a number.
const SHORT_CODE = /^(?=.*\p{L})(?:[\p{Lu}\p{N}_-]{1,3}|[\p{Ll}\p{N}_-]{1,3})$/u;
const EMAIL = /^[^@\s]+@[^@\s]+$/;
// Digits with the punctuation of numbers, phones, IP addresses and dates, and at least one digit.
const NUMERIC = /^[+\-(]?[\d\s().,:/_+-]*\d[\d\s().,:/_+-]*$/;

function firstChar(s: string): string {
  return String.fromCodePoint(s.codePointAt(0) ?? 0x2a);
}

function stars(s: string): string {
  return "*".repeat(Math.min(Math.max([...s].length - 1, 1), MAX_STARS));
}

function maskWord(s: string): string {
  return `${firstChar(s)}${stars(s)}`;
}

function maskEmail(s: string): string {
  const at = s.lastIndexOf("@");
  const local = s.slice(0, at);
  const domain = s.slice(at + 1);
  const dot = domain.lastIndexOf(".");
  const tld = dot > 0 ? domain.slice(dot + 1) : "";
  // The top-level domain tells little and is kept only when it looks like one.
  const keepTld = /^[A-Za-z]{2,6}$/.test(tld);
  return `${firstChar(local)}***@${firstChar(domain)}***${keepTld ? `.${tld.toLowerCase()}` : ""}`;
}

function maskDigits(s: string): string {
  const masked = s.replace(/\d/g, "#");
  return masked.length > MAX_DIGIT_MASK ? `${masked.slice(0, MAX_DIGIT_MASK)}…` : masked;
}

export function maskValue(value: unknown, options: { strict?: boolean } = {}): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "boolean") return String(value);
  if (typeof value === "number" || typeof value === "bigint") {
    if (typeof value === "number" && !Number.isFinite(value)) return String(value);
    return maskDigits(String(value));
  }
  if (Array.isArray(value)) return value.length === 0 ? null : "[…]";
  if (typeof value === "object") return Object.keys(value).length === 0 ? null : "{…}";
  const s = String(value).trim();
  if (s === "" || s === "[]" || s === "{}") return null;
  if (s === "true" || s === "false") return s;
  if (!options.strict && SHORT_CODE.test(s)) return s;
  if (EMAIL.test(s)) return maskEmail(s);
  if (NUMERIC.test(s)) return maskDigits(s);
  return maskWord(s);
}
