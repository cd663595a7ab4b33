/**
 * Decodes one captured browser request into text leaves, each with the chain of steps that produced it, so
 * the seed matcher can find personal data however a tracker wrapped it (form → base64 → JSON, gzip, ...).
 *
 * Chain steps, in the order they were applied:
 * - sources (first step): `path`, `query:<name>`, `query` (a bare `?token` without `=`), `fragment`,
 *   `cookie:<name>`, `header:<name>`, `body`;
 * - parsing steps: `form:<name>`, `json:<path>`, `json` (a JSON text that is a bare string or number),
 *   `json-lines[<i>]` (i counts non-empty lines from 0), `multipart:<name>`, and `path` / `query:<name>` /
 *   `fragment` again for an absolute http(s) URL found inside a value (a referrer, `$current_url`, ...);
 * - transforming steps: `base64`, `base64url`, `gzip`, `deflate` (zlib), `deflate-raw`, `brotli` (only when
 *   content-encoding says br), `lz-string:base64`, `lz-string:uri`, `lz-string:utf16`, `url-decoded`.
 *
 * JSON path syntax: object keys joined with `.`, array items as `[i]`, e.g. `[0].properties.$email` or
 * `events[0].user_properties.email`. A key that is empty or contains `.`, `[`, `]` or `"` is written as
 * `["the.key"]` (JSON string syntax), so a path always reads back unambiguously.
 *
 * Depth: `maxDepth` counts transforming steps only (base64, gzip, lz-string, url-decoded, ...), because those
 * are the "layers" of encoding; parsing steps (JSON, form, multipart) are free, but a whole chain is capped at
 * 4 × maxDepth + 2 steps so pathological nesting (JSON in a JSON string in a JSON string ...) still ends.
 * Reaching the depth limit does not set `truncated`: the deepest string is still a leaf, just not decoded.
 *
 * Every intermediate string is a leaf too, so a value inside a longer string is still found by substring
 * search. Leaves shorter than MIN_LEAF_CHARS are left out: the matcher never looks for anything shorter.
 */
import { Buffer, isUtf8 } from "node:buffer";
import zlib from "node:zlib";
import LZString from "lz-string";

export type Leaf = { text: string; chain: readonly string[] };
export type DecodedRequest = { leaves: Leaf[]; keys: Set<string>; truncated: boolean };
/** Header names lower-case; includes `cookie` when the browser sent one. */
export type CapturedRequest = { url: string; headers: Readonly<Record<string, string>>; body: Buffer | null };
export type DecodeLimits = { maxDepth?: number; maxBytes?: number; maxLeaves?: number };

export const DEFAULT_LIMITS = { maxDepth: 4, maxBytes: 8 * 1024 * 1024, maxLeaves: 20_000 } as const;
/** Same as the matcher's shortest seed value: a shorter leaf can never contain a needle. */
export const MIN_LEAF_CHARS = 4;

/** lz-string decompression can grow quadratically on crafted input, so very long candidates are not tried. */
const LZ_MAX_INPUT_CHARS = 1024 * 1024;
/** Raw inflate is tried on base64-decoded binary only when it is at least this long (zlib set-up is slow). */
const RAW_INFLATE_MIN_SPECULATIVE_BYTES = 100;
const JSON_MAX_NESTING = 64;

/** Request headers that never carry the page's data; everything else is decoded as `header:<name>`. */
const STANDARD_HEADERS = new Set([
  "accept",
  "user-agent",
  "content-type",
  "content-length",
  "content-encoding",
  "origin",
  "host",
  "cache-control",
  "pragma",
  "connection",
  "keep-alive",
  "cookie",
  "dnt",
  "te",
  "priority",
  "purpose",
  "expect",
  "range",
  "if-none-match",
  "if-modified-since",
  "if-match",
  "if-unmodified-since",
  "if-range",
  "upgrade",
  "upgrade-insecure-requests",
  "transfer-encoding",
  "x-requested-with",
]);

type State = {
  leaves: Leaf[];
  keys: Set<string>;
  truncated: boolean;
  stopped: boolean;
  bytesLeft: number;
  maxLeaves: number;
  maxDepth: number;
  maxChain: number;
};

type BytesHints = {
  /** The request's own Content-Encoding (or a multipart part's), lower-case. */
  contentEncoding?: string;
  /** Content-Type says application/x-www-form-urlencoded: parse as a form even if it is not "clean". */
  form?: boolean;
  /** The bytes came from guessing (base64 of an arbitrary token): be strict about what counts as text. */
  speculative?: boolean;
};

export function decodeRequest(req: CapturedRequest, limits: DecodeLimits = {}): DecodedRequest {
  const maxDepth = limits.maxDepth ?? DEFAULT_LIMITS.maxDepth;
  const state: State = {
    leaves: [],
    keys: new Set(),
    truncated: false,
    stopped: false,
    bytesLeft: limits.maxBytes ?? DEFAULT_LIMITS.maxBytes,
    maxLeaves: limits.maxLeaves ?? DEFAULT_LIMITS.maxLeaves,
    maxDepth,
    maxChain: 4 * maxDepth + 2,
  };
  const headers = req.headers;
  visitUrl(state, req.url, [], 0);
  const cookie = headers.cookie;
  if (cookie) visitCookies(state, cookie);
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (isStandardHeader(name) || value === "") continue;
    const chain = [`header:${name}`];
    visitString(state, value, chain, 0);
    // `Authorization: Basic <base64>` (Segment's write key) and similar: decode the credential too.
    const credential = /^[A-Za-z][\w-]*\s+(\S{8,})$/.exec(value.trim())?.[1];
    if (credential) decodeString(state, credential, chain, 0, {});
  }
  if (req.body && req.body.length > 0) visitBody(state, req.body, headers);
  return { leaves: state.leaves, keys: state.keys, truncated: state.truncated };
}

function isStandardHeader(name: string): boolean {
  if (name === "referer") return false;
  return (
    STANDARD_HEADERS.has(name) ||
    name.startsWith("accept-") ||
    name.startsWith("sec-") ||
    name.startsWith(":")
  );
}

// ---------------------------------------------------------------------------------------------- sources

function visitUrl(state: State, text: string, chain: readonly string[], layers: number): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  const rawPath = url.pathname;
  const pathChain = [...chain, "path"];
  emit(state, percentDecode(rawPath), pathChain);
  // A path segment may itself be an encoded payload (`/collect/eyJlbWFpbCI6...`).
  for (const segment of rawPath.split("/")) {
    if (segment.length >= MIN_LEAF_CHARS) decodeString(state, percentDecode(segment), pathChain, layers, {});
  }
  if (url.search.length > 1) visitParams(state, url.search.slice(1), chain, "query", layers);
  if (url.hash.length > 1)
    visitString(state, percentDecode(url.hash.slice(1)), [...chain, "fragment"], layers);
  return true;
}

function visitCookies(state: State, header: string): void {
  for (const pair of header.split(";")) {
    const at = pair.indexOf("=");
    if (at <= 0) continue;
    const name = pair.slice(0, at).trim();
    let value = pair.slice(at + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    // Cookie values are sent as stored; percent-encoding is only a convention, so it is a `url-decoded` step.
    visitString(state, value, [`cookie:${name}`], 0);
  }
}

function visitBody(state: State, body: Buffer, headers: Readonly<Record<string, string>>): void {
  const contentType = (headers["content-type"] ?? "").toLowerCase();
  const contentEncoding = (headers["content-encoding"] ?? "").toLowerCase() || undefined;
  const chain = ["body"];
  if (contentType.includes("multipart/")) {
    const boundary = multipartBoundary(headers["content-type"] ?? "", body);
    if (boundary) {
      const text = bytesToText(body, false);
      if (text !== undefined) emit(state, text, chain);
      for (const part of parseMultipart(body, boundary)) {
        if (state.stopped) return;
        state.keys.add(part.name);
        visitBytes(state, part.data, [...chain, `multipart:${part.name}`], 0, {
          form: part.contentType.includes("application/x-www-form-urlencoded"),
        });
      }
      return;
    }
  }
  visitBytes(state, body, chain, 0, {
    contentEncoding,
    form: contentType.includes("application/x-www-form-urlencoded"),
  });
}

/** Query strings and form bodies: `a=1&b=2`, names and values percent-decoded with `+` as space. */
function visitParams(
  state: State,
  raw: string,
  chain: readonly string[],
  kind: "query" | "form",
  layers: number,
): void {
  for (const part of raw.split("&")) {
    if (state.stopped) return;
    if (part === "") continue;
    const at = part.indexOf("=");
    if (at < 0) {
      // `?eyJhIjoxfQ` carries a value with no name: decode it, but it is no parameter name.
      if (kind === "query") visitString(state, formDecode(part), [...chain, "query"], layers);
      continue;
    }
    const name = formDecode(part.slice(0, at));
    const rawValue = part.slice(at + 1);
    const value = formDecode(rawValue);
    state.keys.add(name);
    const step = [...chain, `${kind}:${name}`];
    visitString(state, value, step, layers);
    // Some trackers put a raw `+` (jane+test@example.com) in a URL; `+` as space would hide it.
    if (rawValue.includes("+")) emit(state, percentDecode(rawValue), step);
  }
}

// ---------------------------------------------------------------------------------------------- strings

function emit(state: State, text: string, chain: readonly string[]): void {
  if (state.stopped || text.length < MIN_LEAF_CHARS) return;
  if (state.leaves.length >= state.maxLeaves) {
    state.truncated = true;
    state.stopped = true;
    return;
  }
  state.leaves.push({ text, chain });
}

function visitString(state: State, text: string, chain: readonly string[], layers: number): void {
  emit(state, text, chain);
  decodeString(state, text, chain, layers, {});
}

/** Tries each decoder on a string that is already a leaf; the first that recognises it wins. */
function decodeString(
  state: State,
  text: string,
  chain: readonly string[],
  layers: number,
  hints: { form?: boolean },
): void {
  if (state.stopped || chain.length >= state.maxChain) return;
  const t = text.trim();
  if (t.length < MIN_LEAF_CHARS) return;
  const first = t.charCodeAt(0);
  if (first === 0x7b || first === 0x5b || first === 0x22) {
    // { [ "
    const parsed = parseJson(t);
    if (parsed.ok) {
      walkJson(state, parsed.value, chain, "", layers, 0);
      return;
    }
    if (t.includes("\n") && visitJsonLines(state, t, chain, layers)) return;
  }
  if (/^https?:\/\/\S+$/i.test(t) && visitUrl(state, t, chain, layers)) return;
  // A form Content-Type is trusted even for "unclean" forms, but not for a body that is plainly base64.
  if (looksLikeForm(t) || (hints.form && t.includes("=") && !BASE64_STRICT.test(t))) {
    visitParams(state, t, chain, "form", layers);
    return;
  }
  if (layers >= state.maxDepth) return;
  if (t.length >= 8 && !isPlainToken(t)) {
    const compact = unwrapBase64(t);
    if (decodeBase64(state, compact, chain, layers)) return;
    if (decodeLzString(state, compact, chain, layers)) return;
  }
  if (/%[0-9A-Fa-f]{2}/.test(t)) {
    const decoded = percentDecode(t);
    if (decoded !== t) visitString(state, decoded, [...chain, "url-decoded"], layers + 1);
  }
}

const FORM_NAME = /^[\w.\-[\]$%+~:!*@]+$/;
const BASE64_STRICT = /^[A-Za-z0-9+/]+={0,2}$/;
const BASE64URL_STRICT = /^[A-Za-z0-9_-]+={0,2}$/;

/** `k=v&k2=v2` with no whitespace, every part named; a padded base64 string (`abc=`) is not a form. */
function looksLikeForm(t: string): boolean {
  if (!t.includes("=") || /\s/.test(t) || BASE64_STRICT.test(t) || BASE64URL_STRICT.test(t)) return false;
  let named = 0;
  for (const part of t.split("&")) {
    if (part === "") continue;
    const at = part.indexOf("=");
    if (at <= 0 || !FORM_NAME.test(part.slice(0, at))) return false;
    named++;
  }
  return named > 0;
}

function visitJsonLines(state: State, t: string, chain: readonly string[], layers: number): boolean {
  const lines = t.split(/\r?\n/).filter((line) => line.trim() !== "");
  if (lines.length < 2) return false;
  const values: unknown[] = [];
  for (const line of lines) {
    const trimmed = line.trim();
    if (trimmed[0] !== "{" && trimmed[0] !== "[") return false;
    const parsed = parseJson(trimmed);
    if (!parsed.ok) return false;
    values.push(parsed.value);
  }
  values.forEach((value, i) => {
    const step = [...chain, `json-lines[${i}]`];
    emit(state, lines[i] ?? "", step);
    walkJson(state, value, step, "", layers, 0);
  });
  return true;
}

// ------------------------------------------------------------------------------------------------- JSON

/** A number whose source text is kept, because JSON.parse would round a 19-digit id or phone number. */
class NumberSource {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    if (!/\d{16}/.test(text)) return { ok: true, value: JSON.parse(text) };
    const keepSource = (_key: string, value: unknown, context?: { source?: string }) =>
      typeof value === "number" && context?.source ? new NumberSource(context.source) : value;
    return { ok: true, value: JSON.parse(text, keepSource) };
  } catch {
    return { ok: false };
  }
}

function walkJson(
  state: State,
  value: unknown,
  chain: readonly string[],
  path: string,
  layers: number,
  nesting: number,
): void {
  if (state.stopped || nesting > JSON_MAX_NESTING) return;
  if (typeof value === "string") {
    if (value.length >= MIN_LEAF_CHARS) visitString(state, value, jsonStep(chain, path), layers);
  } else if (typeof value === "number") {
    const text = String(value);
    if (text.length >= MIN_LEAF_CHARS) emit(state, text, jsonStep(chain, path));
  } else if (value instanceof NumberSource) {
    emit(state, value.text, jsonStep(chain, path));
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length && !state.stopped; i++) {
      walkJson(state, value[i], chain, `${path}[${i}]`, layers, nesting + 1);
    }
  } else if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    for (const key in record) {
      if (state.stopped) return;
      if (!Object.hasOwn(record, key)) continue;
      state.keys.add(key);
      walkJson(state, record[key], chain, jsonPath(path, key), layers, nesting + 1);
    }
  }
}

function jsonStep(chain: readonly string[], path: string): string[] {
  return [...chain, path === "" ? "json" : `json:${path}`];
}

function jsonPath(parent: string, key: string): string {
  if (key === "" || /[.[\]"]/.test(key)) return `${parent}[${JSON.stringify(key)}]`;
  return parent === "" ? key : `${parent}.${key}`;
}

// -------------------------------------------------------------------------------- base64 and lz-string

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Digits, hex digests and UUIDs are valid base64 (and lz-string) alphabet but never an encoding. */
function isPlainToken(t: string): boolean {
  return /^[0-9]+$/.test(t) || /^[0-9a-f]+$/.test(t) || /^[0-9A-F]+$/.test(t) || UUID.test(t);
}

/**
 * Form decoding turns an unescaped `+` of base64 into a space, and MIME wraps base64 in lines; undo both.
 * Spaces count as lost `+` only when rare (base64 has one `+` in 64 characters), so prose stays prose.
 */
function unwrapBase64(t: string): string {
  if (t.includes(" ") && /^[A-Za-z0-9+/ ]+={0,2}$/.test(t)) {
    const spaces = t.length - t.replaceAll(" ", "").length;
    return spaces * 20 <= t.length ? t.replaceAll(" ", "+") : t;
  }
  if (/[\r\n]/.test(t) && /^[A-Za-z0-9+/=\r\n]+$/.test(t)) return t.replace(/[\r\n]/g, "");
  return t;
}

/** Returns true when the string was base64 of text or of compressed data (and was decoded). */
function decodeBase64(state: State, s: string, chain: readonly string[], layers: number): boolean {
  const core = s.replace(/=+$/, "");
  if (core.length % 4 === 1 || (core.length !== s.length && s.length % 4 !== 0)) return false;
  const step = BASE64_STRICT.test(s) ? "base64" : BASE64URL_STRICT.test(s) ? "base64url" : undefined;
  if (!step) return false;
  const bytes = Buffer.from(s, step);
  const next = [...chain, step];
  if (hasCompressionMagic(bytes)) {
    visitBytes(state, bytes, next, layers + 1, { speculative: true });
    return true;
  }
  const text = bytesToText(bytes, true);
  if (text !== undefined) {
    visitString(state, text, next, layers + 1);
    return true;
  }
  // CompressionStream("deflate-raw") output, base64-encoded; accepted only when it inflates to JSON.
  if (bytes.length >= RAW_INFLATE_MIN_SPECULATIVE_BYTES && layers + 2 <= state.maxDepth) {
    const inflated = inflateRawJson(state, bytes);
    if (inflated !== undefined) {
      visitString(state, inflated, [...next, "deflate-raw"], layers + 2);
      return true;
    }
  }
  return false;
}

const LZ_BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
const LZ_URI_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-$";

/** PostHog's legacy `compression=lz64` and other lz-string payloads. */
function decodeLzString(state: State, t: string, chain: readonly string[], layers: number): boolean {
  if (t.length > LZ_MAX_INPUT_CHARS) return false;
  const attempts: [string, string, (s: string) => string | null][] = [];
  // Both alphabets share 63 characters; compressToBase64 pads to a multiple of 4, the URI form never pads.
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(t) && t.length % 4 === 0 && lzStartsWithText(t, LZ_BASE64_ALPHABET, 6)) {
    attempts.push(["lz-string:base64", t, LZString.decompressFromBase64]);
  } else if (/^[A-Za-z0-9+\-$]+$/.test(t) && lzStartsWithText(t, LZ_URI_ALPHABET, 6)) {
    attempts.push(["lz-string:uri", t, LZString.decompressFromEncodedURIComponent]);
  }
  if (looksLikeLzUtf16(t)) attempts.push(["lz-string:utf16", t, LZString.decompressFromUTF16]);
  for (const [step, input, decompress] of attempts) {
    let out: string | null;
    try {
      out = decompress(input);
    } catch {
      continue;
    }
    if (typeof out !== "string" || !acceptLzOutput(out)) continue;
    if (!spendBytes(state, out.length)) return true;
    visitString(state, out, [...chain, step], layers + 1);
    return true;
  }
  return false;
}

/**
 * lz-string stores a literal first character as 2 zero bits and 8 bits of character (LSB first), so a
 * compressed text starts with a printable byte; anything else is not worth decompressing.
 */
function lzStartsWithText(s: string, alphabet: string, bitsPerChar: number): boolean {
  const bits: number[] = [];
  for (let i = 0; bits.length < 10 && i < s.length; i++) {
    const value = alphabet.indexOf(s.charAt(i));
    if (value < 0) return false;
    for (let bit = bitsPerChar - 1; bit >= 0; bit--) bits.push((value >> bit) & 1);
  }
  if (bits.length < 10 || bits[0] !== 0 || bits[1] !== 0) return false;
  let code = 0;
  for (let i = 0; i < 8; i++) code |= (bits[2 + i] ?? 0) << i;
  return (code >= 0x20 && code < 0x7f) || code === 0x09 || code === 0x0a || code === 0x0d;
}

/** compressToUTF16 output: every char is 15 bits + 32, and the text is mostly outside ASCII. */
function looksLikeLzUtf16(t: string): boolean {
  let high = 0;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x20 || c > 0x801f) return false;
    if (c >= 0x80) high++;
  }
  return high * 2 >= t.length;
}

function acceptLzOutput(out: string): boolean {
  if (out.length < MIN_LEAF_CHARS) return false;
  const t = out.trim();
  if ((t.startsWith("{") || t.startsWith("[")) && parseJson(t).ok) return true;
  if (out.length < 8) return false;
  let printable = 0;
  for (let i = 0; i < out.length; i++) {
    const c = out.charCodeAt(i);
    if ((c >= 0x20 && c < 0x7f) || c === 0x09 || c === 0x0a || c === 0x0d) printable++;
  }
  return printable >= out.length * 0.95;
}

// ------------------------------------------------------------------------------------------------ bytes

function hasCompressionMagic(bytes: Buffer): boolean {
  return isGzip(bytes) || isZlib(bytes);
}

function isGzip(b: Buffer): boolean {
  return b.length >= 10 && b[0] === 0x1f && b[1] === 0x8b && b[2] === 0x08;
}

/** RFC 1950 header: method 8, window ≤ 32 KiB, and the 16-bit header is a multiple of 31. */
function isZlib(b: Buffer): boolean {
  const cmf = b[0];
  const flg = b[1];
  if (b.length < 6 || cmf === undefined || flg === undefined) return false;
  return (cmf & 0x0f) === 8 && cmf >> 4 <= 7 && ((cmf << 8) | flg) % 31 === 0;
}

function visitBytes(
  state: State,
  bytes: Buffer,
  chain: readonly string[],
  layers: number,
  hints: BytesHints,
): void {
  if (state.stopped || bytes.length === 0) return;
  const canDecode = layers < state.maxDepth && chain.length < state.maxChain;
  if (canDecode && isGzip(bytes)) {
    const out = inflate(state, zlib.gunzipSync, bytes);
    if (out) visitBytes(state, out, [...chain, "gzip"], layers + 1, {});
    return;
  }
  if (canDecode && isZlib(bytes)) {
    const out = inflate(state, zlib.inflateSync, bytes);
    if (out) {
      visitBytes(state, out, [...chain, "deflate"], layers + 1, {});
      return;
    }
  }
  const text = bytesToText(bytes, hints.speculative === true);
  if (text !== undefined) {
    emit(state, text, chain);
    decodeString(state, text, chain, layers, { form: hints.form });
    return;
  }
  if (!canDecode) return;
  const encoding = hints.contentEncoding ?? "";
  if (encoding.includes("br")) {
    const out = inflate(state, zlib.brotliDecompressSync, bytes);
    if (out) visitBytes(state, out, [...chain, "brotli"], layers + 1, {});
    return;
  }
  if (encoding.includes("deflate") || encoding.includes("gzip") || encoding.includes("compress")) {
    const out = inflate(state, zlib.inflateRawSync, bytes);
    if (out) visitBytes(state, out, [...chain, "deflate-raw"], layers + 1, {});
    return;
  }
  // Unlabelled binary (sendBeacon of CompressionStream("deflate-raw") output): accept only JSON.
  if (hints.speculative && bytes.length < RAW_INFLATE_MIN_SPECULATIVE_BYTES) return;
  const inflated = inflateRawJson(state, bytes);
  if (inflated !== undefined) visitString(state, inflated, [...chain, "deflate-raw"], layers + 1);
}

function inflateRawJson(state: State, bytes: Buffer): string | undefined {
  // Block type 3 is reserved: such bytes are certainly not a raw deflate stream.
  if (((bytes[0] ?? 0) & 0b110) === 0b110) return undefined;
  const out = inflate(state, zlib.inflateRawSync, bytes);
  if (!out) return undefined;
  const text = bytesToText(out, false);
  if (text === undefined) return undefined;
  const t = text.trim();
  if (!t.startsWith("{") && !t.startsWith("[")) return undefined;
  const lines = t.split(/\r?\n/).filter((line) => line.trim() !== "");
  return parseJson(t).ok || lines.every((line) => parseJson(line.trim()).ok) ? text : undefined;
}

type Inflater = (buf: Buffer, options: zlib.ZlibOptions & zlib.BrotliOptions) => Buffer;

/** Decompresses within the request's byte budget; a bomb or a budget overrun sets `truncated`. */
function inflate(state: State, fn: Inflater, bytes: Buffer): Buffer | undefined {
  if (state.bytesLeft <= 0) {
    state.truncated = true;
    return undefined;
  }
  try {
    const out = fn(bytes, { maxOutputLength: state.bytesLeft });
    state.bytesLeft -= out.length;
    return out;
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") state.truncated = true;
    return undefined;
  }
}

function spendBytes(state: State, count: number): boolean {
  if (count > state.bytesLeft) {
    state.truncated = true;
    state.bytesLeft = 0;
    return false;
  }
  state.bytesLeft -= count;
  return true;
}

/**
 * Valid UTF-8 that is (mostly) printable, or undefined for binary. Guessed bytes (`speculative`) must be
 * entirely printable, so random tokens that happen to be valid base64 do not become garbage leaves.
 */
function bytesToText(bytes: Buffer, speculative: boolean): string | undefined {
  // isUtf8 is simdutf-backed; a fatal TextDecoder costs tens of microseconds per small buffer.
  if (!isUtf8(bytes)) return undefined;
  const text = bytes.toString("utf8");
  let bad = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || (c >= 0x7f && c <= 0x9f) || c === 0xfffd) {
      bad++;
    }
  }
  if (speculative ? bad > 0 : bad > text.length * 0.05) return undefined;
  return text;
}

// -------------------------------------------------------------------------------------------- multipart

function multipartBoundary(contentType: string, body: Buffer): string | undefined {
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (boundary) return boundary;
  // No boundary parameter: a multipart body still starts with `--<boundary>` on its first line.
  const firstLine = body.subarray(0, 200).toString("latin1").split(/\r?\n/)[0] ?? "";
  return firstLine.startsWith("--") && firstLine.length > 2 ? firstLine.slice(2).trim() : undefined;
}

type Part = { name: string; contentType: string; data: Buffer };

/** Parses a complete multipart body (RFC 7578); tolerant of LF-only line breaks and a missing close. */
export function parseMultipart(body: Buffer, boundary: string): Part[] {
  const delimiter = Buffer.from(`--${boundary}`, "latin1");
  const parts: Part[] = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const afterDelimiter = at + delimiter.length;
    if (body[afterDelimiter] === 0x2d && body[afterDelimiter + 1] === 0x2d) break; // `--boundary--`
    const lineEnd = body.indexOf(0x0a, afterDelimiter);
    if (lineEnd < 0) break;
    const next = body.indexOf(delimiter, lineEnd + 1);
    let end = next < 0 ? body.length : next;
    if (next >= 0 && body[end - 1] === 0x0a) end--;
    if (next >= 0 && body[end - 1] === 0x0d) end--;
    const part = body.subarray(lineEnd + 1, Math.max(lineEnd + 1, end));
    const parsed = parsePart(part);
    if (parsed) parts.push(parsed);
    at = next;
  }
  return parts;
}

function parsePart(part: Buffer): Part | undefined {
  let split = part.indexOf("\r\n\r\n");
  let gap = 4;
  if (split < 0) {
    split = part.indexOf("\n\n");
    gap = 2;
  }
  if (split < 0) return undefined;
  const head = part.subarray(0, split).toString("utf8");
  let name = "";
  let contentType = "";
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const header = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (header === "content-disposition") {
      const match = /(?:^|;)\s*name=(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(value);
      name = match?.[1] ?? match?.[2] ?? "";
    } else if (header === "content-type") {
      contentType = value.toLowerCase();
    }
  }
  return { name, contentType, data: part.subarray(split + gap) };
}

// ------------------------------------------------------------------------------------- percent-decoding

/** decodeURIComponent that leaves malformed escapes as they are instead of throwing. */
export function percentDecode(s: string): string {
  if (!s.includes("%")) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

function formDecode(s: string): string {
  return percentDecode(s.replaceAll("+", " "));
}
