import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import { type Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { AppError } from "./errors.ts";

/**
 * Personal data from vendor datasets is sealed at rest with AES-256-GCM under a key from configuration.
 * Small values (a column, a record) use `createSealer`; uploaded files use the chunked stream format so a
 * multi-gigabyte export is sealed and opened with constant memory.
 */

export type Sealer = {
  seal(plain: Buffer | string): Buffer;
  open(sealed: Buffer): Buffer;
  openText(sealed: Buffer): string;
  keyedHash(value: string): string;
};

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const VALUE_VERSION = 0x01;

// Distinct HKDF labels keep the value cipher, the file cipher and the lookup hash on independent keys, so
// a weakness or leak in one use (a hash table, say) tells nothing about the others.
const INFO_VALUE = "blastradius/seal/v1/value";
const INFO_FILE = "blastradius/seal/v1/file";
const INFO_HASH = "blastradius/seal/v1/lookup-hash";

const FILE_MAGIC = Buffer.from("BRSEAL1\n", "latin1");
const FILE_ID_BYTES = 8;
const FILE_HEADER_BYTES = FILE_MAGIC.length + FILE_ID_BYTES;
const CHUNK_BYTES = 64 * 1024;
const LENGTH_BYTES = 4;
// The counter fills the last 4 nonce bytes; past this the nonce would repeat, which breaks GCM entirely.
const MAX_CHUNKS = 2 ** 32;

function requireKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
    throw new AppError(
      "USAGE",
      `BLASTRADIUS_ENCRYPTION_KEY must be exactly ${KEY_BYTES} bytes (base64 of 32 random bytes). Generate one with: openssl rand -base64 32`,
    );
  }
}

function subkey(key: Buffer, info: string): Buffer {
  // The configured key is already uniformly random, so HKDF needs no salt to be sound here.
  return Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), info, KEY_BYTES));
}

export function createSealer(key: Buffer): Sealer {
  requireKey(key);
  const encKey = subkey(key, INFO_VALUE);
  const hashKey = subkey(key, INFO_HASH);
  const version = Buffer.from([VALUE_VERSION]);
  const damaged = () =>
    new AppError(
      "INTERNAL",
      "sealed value could not be opened: the encryption key is not the one it was sealed with, or the data was altered",
    );

  const open = (sealed: Buffer): Buffer => {
    if (
      !Buffer.isBuffer(sealed) ||
      sealed.length < 1 + NONCE_BYTES + TAG_BYTES ||
      sealed[0] !== VALUE_VERSION
    ) {
      throw new AppError("INTERNAL", "sealed value is damaged or in an unknown format");
    }
    const nonce = sealed.subarray(1, 1 + NONCE_BYTES);
    const body = sealed.subarray(1 + NONCE_BYTES, sealed.length - TAG_BYTES);
    const tag = sealed.subarray(sealed.length - TAG_BYTES);
    try {
      const decipher = createDecipheriv("aes-256-gcm", encKey, nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(version);
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]);
    } catch {
      // The crypto error says nothing useful and the cause must not drag the input along into logs.
      throw damaged();
    }
  };

  return {
    seal(plain) {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv("aes-256-gcm", encKey, nonce, { authTagLength: TAG_BYTES });
      // Binding the version byte stops it being swapped to steer a future reader to another scheme.
      cipher.setAAD(version);
      const input = typeof plain === "string" ? Buffer.from(plain, "utf8") : plain;
      const body = Buffer.concat([cipher.update(input), cipher.final()]);
      return Buffer.concat([version, nonce, body, cipher.getAuthTag()]);
    },
    open,
    openText: (sealed) => open(sealed).toString("utf8"),
    keyedHash: (value) => createHmac("sha256", hashKey).update(value, "utf8").digest("hex"),
  };
}

function chunkNonce(fileId: Buffer, counter: number): Buffer {
  const nonce = Buffer.alloc(NONCE_BYTES);
  fileId.copy(nonce, 0);
  nonce.writeUInt32BE(counter, FILE_ID_BYTES);
  return nonce;
}

function chunkAad(counter: number, final: boolean): Buffer {
  // The counter is in the nonce too; it is repeated here so the flag and position are authenticated as one.
  const aad = Buffer.alloc(5);
  aad.writeUInt32BE(counter, 0);
  aad[4] = final ? 1 : 0;
  return aad;
}

const damagedChunk = (counter: number) =>
  new AppError("INTERNAL", `sealed file is damaged or was altered (chunk ${counter})`);

/**
 * A Transform from plaintext to the sealed file format. A chunk is only written as non-final once more
 * plaintext is known to follow, so the last chunk (empty for an empty input) always carries the final flag
 * and a reader can tell a complete file from a truncated one.
 */
export function sealStream(key: Buffer): {
  transform: Transform;
  digest(): { bytes: number; sha256: string };
} {
  requireKey(key);
  const fileKey = subkey(key, INFO_FILE);
  const fileId = randomBytes(FILE_ID_BYTES);
  const hash = createHash("sha256");
  let bytes = 0;
  let counter = 0;
  let pending: Buffer = Buffer.alloc(0);
  let headerWritten = false;
  let result: { bytes: number; sha256: string } | undefined;

  const emit = (stream: Transform, plain: Buffer, final: boolean) => {
    if (counter >= MAX_CHUNKS) throw new AppError("TOO_LARGE", "the file is too large to seal");
    if (!headerWritten) {
      stream.push(Buffer.concat([FILE_MAGIC, fileId]));
      headerWritten = true;
    }
    const cipher = createCipheriv("aes-256-gcm", fileKey, chunkNonce(fileId, counter), {
      authTagLength: TAG_BYTES,
    });
    cipher.setAAD(chunkAad(counter, final));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    const length = Buffer.alloc(LENGTH_BYTES);
    length.writeUInt32BE(body.length, 0);
    stream.push(length);
    stream.push(body);
    stream.push(cipher.getAuthTag());
    counter++;
  };

  const transform = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      try {
        hash.update(chunk);
        bytes += chunk.length;
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        let offset = 0;
        // Strictly greater: an exact multiple of the chunk size leaves its last full chunk to flush() as final.
        while (pending.length - offset > CHUNK_BYTES) {
          emit(this, pending.subarray(offset, offset + CHUNK_BYTES), false);
          offset += CHUNK_BYTES;
        }
        // Copy the tail so a large input buffer is not kept alive by a small remainder.
        pending = offset === 0 ? pending : Buffer.from(pending.subarray(offset));
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback: TransformCallback) {
      try {
        emit(this, pending, true);
        pending = Buffer.alloc(0);
        result = { bytes, sha256: hash.digest("hex") };
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });

  return {
    transform,
    digest() {
      if (!result) throw new AppError("INTERNAL", "sealStream digest() read before the stream finished");
      return result;
    },
  };
}

/** A Transform from the sealed file format back to plaintext; no chunk is released before its tag checks. */
export function openSealedStream(key: Buffer): Transform {
  requireKey(key);
  const fileKey = subkey(key, INFO_FILE);
  let fileId: Buffer | undefined;
  let counter = 0;
  let pending: Buffer = Buffer.alloc(0);

  // Length of the chunk at the start of buf, or undefined while its length prefix is still incomplete.
  const chunkSize = (buf: Buffer): number | undefined => {
    if (buf.length < LENGTH_BYTES) return undefined;
    const length = buf.readUInt32BE(0);
    // A forged length must not make us buffer gigabytes waiting for a chunk that cannot be valid.
    if (length > CHUNK_BYTES) throw damagedChunk(counter);
    return LENGTH_BYTES + length + TAG_BYTES;
  };

  const decrypt = (stream: Transform, chunk: Buffer, final: boolean) => {
    if (!fileId || counter >= MAX_CHUNKS) throw damagedChunk(counter);
    const body = chunk.subarray(LENGTH_BYTES, chunk.length - TAG_BYTES);
    try {
      const decipher = createDecipheriv("aes-256-gcm", fileKey, chunkNonce(fileId, counter), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(chunkAad(counter, final));
      decipher.setAuthTag(chunk.subarray(chunk.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(body), decipher.final()]);
      if (plain.length > 0) stream.push(plain);
    } catch {
      throw damagedChunk(counter);
    }
    counter++;
  };

  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      try {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        let offset = 0;
        if (!fileId) {
          if (pending.length < FILE_HEADER_BYTES) return callback();
          if (!pending.subarray(0, FILE_MAGIC.length).equals(FILE_MAGIC)) {
            throw new AppError("INTERNAL", "not a sealed file, or sealed in an unsupported format");
          }
          fileId = Buffer.from(pending.subarray(FILE_MAGIC.length, FILE_HEADER_BYTES));
          offset = FILE_HEADER_BYTES;
        }
        // A chunk is non-final only if bytes follow it; the one left at the end is checked as final in flush.
        for (;;) {
          const size = chunkSize(pending.subarray(offset));
          if (size === undefined || pending.length - offset <= size) break;
          decrypt(this, pending.subarray(offset, offset + size), false);
          offset += size;
        }
        pending = offset === 0 ? pending : Buffer.from(pending.subarray(offset));
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback: TransformCallback) {
      try {
        if (!fileId) {
          throw new AppError("INTERNAL", "not a sealed file, or sealed in an unsupported format");
        }
        // Anything but exactly one complete chunk here means the end of the file was cut off.
        if (chunkSize(pending) !== pending.length) throw damagedChunk(counter);
        decrypt(this, pending, true);
        pending = Buffer.alloc(0);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}

function byteLimit(maxBytes: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      seen += chunk.length;
      if (seen > maxBytes) {
        return callback(new AppError("TOO_LARGE", `the file is larger than the limit of ${maxBytes} bytes`));
      }
      callback(null, chunk);
    },
  });
}

/**
 * Seals source into dest. Readers never see a half-written dest: it appears by rename only once complete
 * and flushed to disk. dest must not be written by two callers at once, as they would share the ".part".
 */
export async function sealToFile(
  source: Readable,
  dest: string,
  key: Buffer,
  opts: { maxBytes?: number } = {},
): Promise<{ bytes: number; sha256: string }> {
  const sealer = sealStream(key);
  const part = `${dest}.part`;
  try {
    // A stale part from a crash would otherwise keep its old mode, or make the exclusive create fail.
    await rm(part, { force: true });
    const out = createWriteStream(part, { flags: "wx", mode: 0o600, flush: true });
    if (opts.maxBytes === undefined) await pipeline(source, sealer.transform, out);
    else await pipeline(source, byteLimit(opts.maxBytes), sealer.transform, out);
    await rename(part, dest);
    return sealer.digest();
  } catch (error) {
    await rm(part, { force: true });
    throw error;
  }
}

/** Opens a sealed file into dest (mode 0o600) and returns the plaintext size; dest is removed on failure. */
export async function unsealToFile(src: string, dest: string, key: Buffer): Promise<number> {
  const opener = openSealedStream(key);
  try {
    // Removing first makes sure the plaintext never lands in an existing file with a wider mode.
    await rm(dest, { force: true });
    const out = createWriteStream(dest, { flags: "wx", mode: 0o600 });
    await pipeline(createReadStream(src), opener, out);
    return out.bytesWritten;
  } catch (error) {
    await rm(dest, { force: true });
    throw error;
  }
}

const KEY_FILE = "encryption.key";

function parseKeyFile(file: string, content: string): Buffer {
  const text = content.trim();
  const key = Buffer.from(text, "base64");
  // Buffer.from skips characters that are not base64, so compare round trips to reject a mangled file.
  if (key.length !== KEY_BYTES || key.toString("base64") !== text) {
    throw new AppError(
      "USAGE",
      `${file} does not hold a ${KEY_BYTES}-byte base64 encryption key. Restore it from a backup: data sealed with it cannot be read without it. Only if nothing was sealed yet, delete it to have a new key created.`,
    );
  }
  return key;
}

async function readKeyFile(file: string): Promise<Buffer> {
  // A racing process that won the exclusive create may not have written the key yet; give it a moment.
  for (let attempt = 0; ; attempt++) {
    const content = await readFile(file, "utf8");
    if (content.length > 0 || attempt >= 20) return parseKeyFile(file, content);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * The key that seals personal data. With PostgreSQL several processes share the data, so the key must come
 * from configuration; the embedded store is single-host, so a key file beside the data is created once.
 */
export async function loadOrCreateKey(input: {
  encryptionKey?: Buffer;
  dataDir: string;
  databaseUrl?: string;
}): Promise<{ key: Buffer; source: "config" | "key-file"; created: boolean }> {
  if (input.encryptionKey) {
    requireKey(input.encryptionKey);
    return { key: input.encryptionKey, source: "config", created: false };
  }
  if (input.databaseUrl) {
    throw new AppError(
      "USAGE",
      "BLASTRADIUS_ENCRYPTION_KEY must be set when DATABASE_URL is set: every process that shares the database needs the same key. Generate one with: openssl rand -base64 32",
    );
  }
  const file = path.join(input.dataDir, KEY_FILE);
  try {
    return { key: await readKeyFile(file), source: "key-file", created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  await mkdir(input.dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(KEY_BYTES);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    // Exclusive create: of two processes starting together, one writes the key and the other reads it.
    handle = await open(file, "wx", 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return { key: await readKeyFile(file), source: "key-file", created: false };
  }
  try {
    await handle.writeFile(`${key.toString("base64")}\n`);
    // Losing the key loses every sealed value, so it must reach the disk before anything is sealed with it.
    await handle.sync();
    await handle.close();
  } catch (error) {
    await handle.close().catch(() => {});
    // An empty key file would block every later start; nothing can have been sealed with this key yet.
    await rm(file, { force: true });
    throw error;
  }
  return { key, source: "key-file", created: true };
}
