import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { PassThrough, type Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { badInput } from "../../lib/errors.ts";

/**
 * A domain feed, line by line: plain domains, or certificate-transparency JSON lines whose
 * `all_domains` array (at the top, or under data.leaf_cert as certstream sends it) lists the names.
 * Gzip is recognised by its magic bytes, so `.gz` files and gzipped stdin both work.
 */

export type FeedProblem = Readonly<{ line: number; message: string }>;

export type FeedEvents = Readonly<{
  /** a name to check, as written in the feed */
  name: (name: string, line: number) => void;
  /** a JSON line that does not parse or has no all_domains array */
  malformed: (problem: FeedProblem) => void;
  /** a blank or comment line */
  skipped: (line: number) => void;
}>;

const GZIP_MAGIC = [0x1f, 0x8b];

async function startsWithGzipMagic(file: string): Promise<boolean> {
  const handle = await open(file, "r");
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
  } finally {
    await handle.close();
  }
}

/** Stdin with gzip undone when its first bytes say so. */
function sniffedStdin(): Readable {
  const out = new PassThrough();
  let decided = false;
  const input = process.stdin;
  const decide = (chunk: Buffer) => {
    decided = true;
    input.off("data", decide);
    input.pause();
    const target = chunk[0] === GZIP_MAGIC[0] && chunk[1] === GZIP_MAGIC[1] ? createGunzip() : null;
    if (target) {
      target.on("error", (e) => out.destroy(e));
      target.pipe(out);
      target.write(chunk);
      input.pipe(target);
    } else {
      out.write(chunk);
      input.pipe(out);
    }
  };
  input.on("data", decide);
  input.once("end", () => {
    if (!decided) out.end();
  });
  input.once("error", (e) => out.destroy(e));
  return out;
}

/** Opens the feed (a file path, or "-" for stdin) as a stream of text; unreadable files are bad input. */
export async function openFeed(file: string, option = "--feed"): Promise<Readable> {
  if (file === "-") {
    const stream = sniffedStdin();
    stream.setEncoding("utf8");
    return stream;
  }
  let gzip: boolean;
  try {
    gzip = await startsWithGzipMagic(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw badInput(
      `${option} ${file}: ${code === "ENOENT" ? "no such file" : `cannot read it (${code ?? "error"})`}`,
    );
  }
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  if (!gzip) {
    raw.setEncoding("utf8");
    return raw;
  }
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  raw.on("error", (e) => gunzip.destroy(e));
  raw.pipe(gunzip);
  gunzip.setEncoding("utf8");
  return gunzip;
}

function namesOfJsonLine(text: string): string[] | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `not valid JSON (${(error as Error).message})`;
  }
  const record = value as { all_domains?: unknown; data?: { leaf_cert?: { all_domains?: unknown } } };
  const list = record?.all_domains ?? record?.data?.leaf_cert?.all_domains;
  if (!Array.isArray(list)) return "no all_domains array";
  if (!list.every((n) => typeof n === "string")) return "all_domains holds something other than strings";
  return list as string[];
}

function handleLine(text: string, line: number, events: FeedEvents) {
  const trimmed = text.trim();
  if (trimmed === "" || trimmed.startsWith("#")) {
    events.skipped(line);
    return;
  }
  if (trimmed.startsWith("{")) {
    const names = namesOfJsonLine(trimmed);
    if (typeof names === "string") events.malformed({ line, message: names });
    else for (const name of names) events.name(name, line);
    return;
  }
  events.name(trimmed, line);
}

/** Reads the feed to its end, calling back for each name, malformed line and skipped line. */
export async function readFeed(stream: Readable, events: FeedEvents): Promise<number> {
  let line = 0;
  let rest = "";
  for await (const chunk of stream as AsyncIterable<string>) {
    let text = rest + chunk;
    let start = 0;
    for (let end = text.indexOf("\n"); end >= 0; end = text.indexOf("\n", start)) {
      line++;
      handleLine(text.slice(start, end), line, events);
      start = end + 1;
    }
    rest = text.slice(start);
    text = "";
  }
  if (rest.length > 0) {
    line++;
    handleLine(rest, line, events);
  }
  return line;
}
