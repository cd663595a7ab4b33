import { open } from "node:fs/promises";
import { createGunzip } from "node:zlib";
import { badInput } from "../lib/errors.ts";

/** How records are laid out in the file, and what one record looks like. */
export type Container = "lines" | "array" | "page" | "csv" | "parquet" | "empty";
export type RecordKind = "event" | "profile" | "flat";

export type DetectedFormat = Readonly<{
  container: Container;
  kind: RecordKind;
  gzip: boolean;
  /** human name used in summaries and messages */
  label: string;
}>;

const HEAD_BYTES = 256 * 1024;

/** Reads at most the first HEAD_BYTES of the (decompressed) content. */
export async function readHead(path: string): Promise<{ head: Buffer; gzip: boolean }> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw badInput(`${path}: cannot open the file (${code === "ENOENT" ? "no such file" : code})`);
  }
  try {
    const raw = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(raw, 0, HEAD_BYTES, 0);
    const bytes = raw.subarray(0, bytesRead);
    const gzip = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
    if (!gzip) return { head: bytes, gzip };
    return { head: await gunzipPrefix(path), gzip };
  } finally {
    await handle.close();
  }
}

async function gunzipPrefix(path: string): Promise<Buffer> {
  const { createReadStream } = await import("node:fs");
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const source = createReadStream(path);
    const gunzip = createGunzip();
    const finish = () => {
      source.destroy();
      gunzip.destroy();
      resolve(Buffer.concat(chunks).subarray(0, HEAD_BYTES));
    };
    gunzip.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= HEAD_BYTES) finish();
    });
    gunzip.on("end", finish);
    gunzip.on("error", (error) => {
      if (size > 0) finish();
      else reject(badInput(`${path}: looks gzip-compressed but cannot be decompressed (${error.message})`));
    });
    source.on("error", reject);
    source.pipe(gunzip);
  });
}

function kindOf(value: unknown): RecordKind {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    if ("event" in o && "properties" in o) return "event";
    if ("$distinct_id" in o && "$properties" in o) return "profile";
  }
  return "flat";
}

const labels: Record<RecordKind, string> = {
  event: "Mixpanel event export",
  profile: "Mixpanel profile export",
  flat: "records",
};

/** Detects the format from the content, never from the file name. */
export async function detectFormat(path: string): Promise<DetectedFormat> {
  const { head, gzip } = await readHead(path);
  const make = (container: Container, kind: RecordKind, label: string): DetectedFormat =>
    Object.freeze({ container, kind, gzip, label: `${label}${gzip ? " (gzip)" : ""}` });

  if (head.subarray(0, 4).toString("latin1") === "PAR1") {
    if (gzip) throw badInput(`${path}: a gzip-compressed Parquet file is not supported; decompress it first`);
    return make("parquet", "flat", "Parquet");
  }
  let text = head.toString("utf8");
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const trimmed = text.trimStart();
  if (trimmed.length === 0) return make("empty", "flat", "empty file");

  if (trimmed.startsWith("[")) {
    const kind = kindOf(firstArrayElement(trimmed));
    return make("array", kind, kind === "flat" ? "JSON array" : `${labels[kind]} (JSON array)`);
  }
  if (trimmed.startsWith("{")) {
    const firstLine = trimmed.split("\n", 1)[0] ?? "";
    const parsed = tryParse(firstLine);
    if (parsed && typeof parsed === "object" && Array.isArray((parsed as { results?: unknown }).results)) {
      return make("page", "profile", "Mixpanel engage API page JSON");
    }
    if (
      parsed === undefined &&
      /^\{\s*"(page|page_size|session_id|status|total|computed_at|results)"\s*:/.test(trimmed)
    ) {
      // A pretty-printed page: the first line alone is not a JSON value.
      return make("page", "profile", "Mixpanel engage API page JSON");
    }
    // Lines: the first well-formed line says what the records are.
    for (const line of trimmed.split("\n").slice(0, 1000)) {
      const value = tryParse(line);
      if (value !== undefined) {
        const kind = kindOf(value);
        return make("lines", kind, kind === "flat" ? "JSON lines" : `${labels[kind]} (JSON lines)`);
      }
    }
    return make("lines", "flat", "JSON lines");
  }
  return make("csv", "flat", "CSV");
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The first element of a JSON array held in a prefix of the file, or undefined. */
function firstArrayElement(text: string): unknown {
  const whole = tryParse(text);
  if (Array.isArray(whole)) return whole[0];
  // Cut at each '}' until the prefix "[{...}" parses as the first element.
  let end = text.indexOf("}");
  while (end !== -1 && end < 65536) {
    const candidate = tryParse(`${text.slice(text.indexOf("[") + 1, end + 1).trim()}`);
    if (candidate !== undefined) return candidate;
    end = text.indexOf("}", end + 1);
  }
  return undefined;
}
