import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { AppError } from "./errors.ts";
import {
  createSealer,
  loadOrCreateKey,
  openSealedStream,
  sealStream,
  sealToFile,
  unsealToFile,
} from "./seal.ts";
import { tempDir } from "./test-fixtures.ts";

const KiB = 1024;
const HEADER = 16;
const key = randomBytes(32);
const otherKey = randomBytes(32);

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");
const modeOf = async (file: string) => (await stat(file)).mode & 0o777;
const posix = process.platform !== "win32";
const flip = (buf: Buffer, at: number, bits: number) => buf.writeUInt8(buf.readUInt8(at) ^ bits, at);

/** Splits data into pieces of `size` so the stream sees many small writes, like a network upload. */
function source(data: Buffer, size = 16 * KiB): Readable {
  const pieces: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) pieces.push(data.subarray(i, i + size));
  return Readable.from(pieces);
}

function isAppError(code: string, pattern?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof AppError, `expected AppError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (pattern) assert.match(error.message, pattern);
    return true;
  };
}

/** Offsets of each chunk in a sealed file, read from the length prefixes. */
function chunkOffsets(sealed: Buffer): { start: number; end: number }[] {
  const chunks = [];
  for (let at = HEADER; at < sealed.length; ) {
    const end = at + 4 + sealed.readUInt32BE(at) + 16;
    chunks.push({ start: at, end });
    at = end;
  }
  return chunks;
}

async function sealed(dir: string, plain: Buffer, name = "data.sealed"): Promise<string> {
  const file = path.join(dir, name);
  await sealToFile(source(plain), file, key);
  return file;
}

describe("createSealer", () => {
  it("round-trips buffers and text, with a fresh nonce each time", () => {
    const sealer = createSealer(key);
    for (const plain of [Buffer.alloc(0), Buffer.from([7]), randomBytes(100 * KiB)]) {
      assert.deepEqual(sealer.open(sealer.seal(plain)), plain);
    }
    const text = "Zoë Müller <zoe@example.com> 📧";
    assert.equal(sealer.openText(sealer.seal(text)), text);
    const a = sealer.seal(text);
    const b = sealer.seal(text);
    assert.notDeepEqual(a, b, "same plaintext seals differently");
    assert.equal(a[0], 1, "version byte");
    assert.equal(a.length, 1 + 12 + Buffer.byteLength(text) + 16);
    assert.equal(createSealer(Buffer.from(key)).openText(a), text, "another sealer on the same key opens it");
  });

  it("does not leak the plaintext into the sealed bytes or the error", () => {
    const sealer = createSealer(key);
    const secret = "alice@example.com";
    const box = sealer.seal(secret);
    assert.ok(!box.includes(secret));
    const altered = Buffer.from(box);
    flip(altered, altered.length - 20, 0x01);
    assert.throws(
      () => sealer.open(altered),
      (error: unknown) => {
        assert.ok(error instanceof AppError && error.code === "INTERNAL");
        assert.match(error.message, /altered/);
        assert.ok(!error.message.includes(secret));
        return true;
      },
    );
  });

  it("refuses altered data, a wrong key and malformed input", () => {
    const sealer = createSealer(key);
    const box = sealer.seal("payload");
    for (let i = 0; i < box.length; i++) {
      const altered = Buffer.from(box);
      flip(altered, i, 0x80);
      assert.throws(() => sealer.open(altered), isAppError("INTERNAL"), `byte ${i}`);
    }
    assert.throws(() => createSealer(otherKey).open(box), isAppError("INTERNAL", /key/));
    assert.throws(() => sealer.open(box.subarray(0, 20)), isAppError("INTERNAL"));
    assert.throws(() => sealer.open(Buffer.alloc(0)), isAppError("INTERNAL"));
  });

  it("keyedHash is stable per key, differs across keys and is not a plain hash", () => {
    const h = createSealer(key).keyedHash("alice@example.com");
    assert.match(h, /^[0-9a-f]{64}$/);
    assert.equal(createSealer(Buffer.from(key)).keyedHash("alice@example.com"), h);
    assert.notEqual(createSealer(key).keyedHash("bob@example.com"), h);
    assert.notEqual(createSealer(otherKey).keyedHash("alice@example.com"), h);
    assert.notEqual(h, createHash("sha256").update("alice@example.com").digest("hex"));
  });

  it("requires a 32-byte key and names the setting", () => {
    for (const bad of [Buffer.alloc(0), randomBytes(16), randomBytes(31), randomBytes(33)]) {
      assert.throws(() => createSealer(bad), isAppError("USAGE", /BLASTRADIUS_ENCRYPTION_KEY/));
      assert.throws(() => sealStream(bad), isAppError("USAGE", /BLASTRADIUS_ENCRYPTION_KEY/));
      assert.throws(() => openSealedStream(bad), isAppError("USAGE", /BLASTRADIUS_ENCRYPTION_KEY/));
    }
  });
});

describe("sealed files", () => {
  it("round-trip at the chunk boundaries and report size and SHA-256", async () => {
    const dir = await tempDir();
    const sizes = [0, 1, 64 * KiB - 1, 64 * KiB, 64 * KiB + 1, 3 * 64 * KiB, 3 * 1024 * KiB + 123];
    for (const size of sizes) {
      const plain = randomBytes(size);
      const file = path.join(dir, `${size}.sealed`);
      const digest = await sealToFile(source(plain), file, key);
      assert.deepEqual(digest, { bytes: size, sha256: sha256(plain) }, `size ${size}`);
      const box = await readFile(file);
      const chunks = chunkOffsets(box);
      assert.equal(chunks.length, Math.max(1, Math.ceil(size / (64 * KiB))), `chunks for ${size}`);
      assert.equal(box.length, HEADER + size + chunks.length * 20, `overhead for ${size}`);
      const out = path.join(dir, `${size}.out`);
      assert.equal(await unsealToFile(file, out, key), size);
      assert.deepEqual(await readFile(out), plain, `size ${size}`);
      if (posix) {
        assert.equal(await modeOf(file), 0o600);
        assert.equal(await modeOf(out), 0o600);
      }
    }
    assert.ok(!(await readdir(dir)).some((name) => name.endsWith(".part")), "no temp files left");
  });

  it("accepts one large write and many tiny writes alike", async () => {
    const plain = randomBytes(200 * KiB + 5);
    for (const pieceSize of [plain.length, 1000]) {
      const s = sealStream(key);
      const out: Buffer[] = [];
      await pipeline(source(plain, pieceSize), s.transform, openSealedStream(key), async (stream) => {
        for await (const chunk of stream) out.push(chunk as Buffer);
      });
      assert.deepEqual(Buffer.concat(out), plain);
      assert.deepEqual(s.digest(), { bytes: plain.length, sha256: sha256(plain) });
    }
  });

  it("digest() is refused before the stream has finished", () => {
    assert.throws(() => sealStream(key).digest(), isAppError("INTERNAL"));
  });

  it("does not contain the plaintext", async () => {
    const dir = await tempDir();
    const needle = "alice@example.com,Alice Example,DE\n";
    const file = await sealed(dir, Buffer.from(needle.repeat(5000)));
    const box = await readFile(file);
    assert.ok(box.subarray(0, 8).equals(Buffer.from("BRSEAL1\n")));
    assert.ok(!box.includes("alice@example.com"));
  });

  it("seals the same input differently each time", async () => {
    const dir = await tempDir();
    const plain = randomBytes(1000);
    const a = await readFile(await sealed(dir, plain, "a"));
    const b = await readFile(await sealed(dir, plain, "b"));
    assert.notDeepEqual(a.subarray(8, 16), b.subarray(8, 16), "fresh file id");
    assert.notDeepEqual(a, b);
  });

  it("fails on any flipped byte, and removes the output", async () => {
    const dir = await tempDir();
    const plain = randomBytes(64 * KiB + 100);
    const file = await sealed(dir, plain);
    const box = await readFile(file);
    const [first, last] = chunkOffsets(box);
    assert.ok(first && last);
    // Header, a length prefix, ciphertext in both chunks and a tag.
    const positions = [
      0,
      9,
      first.start + 1,
      first.start + 4,
      first.start + 5000,
      last.start + 6,
      box.length - 1,
    ];
    for (const at of positions) {
      const altered = Buffer.from(box);
      flip(altered, at, 0x01);
      const bad = path.join(dir, "altered.sealed");
      await writeFile(bad, altered);
      const out = path.join(dir, "altered.out");
      await assert.rejects(unsealToFile(bad, out, key), isAppError("INTERNAL"), `byte ${at}`);
      assert.ok(!existsSync(out), `output removed after byte ${at}`);
    }
  });

  it("detects truncation, reordering and appended data", async () => {
    const dir = await tempDir();
    const plain = randomBytes(3 * 64 * KiB + 10);
    const box = await readFile(await sealed(dir, plain));
    const chunks = chunkOffsets(box);
    assert.equal(chunks.length, 4);
    const [c0, c1, c2, c3] = chunks as [
      (typeof chunks)[0],
      (typeof chunks)[0],
      (typeof chunks)[0],
      (typeof chunks)[0],
    ];
    const cases: [string, Buffer, RegExp][] = [
      ["last chunk dropped", box.subarray(0, c3.start), /damaged or was altered \(chunk 2\)/],
      ["cut inside the last chunk", box.subarray(0, c3.end - 1), /damaged or was altered \(chunk 3\)/],
      ["cut inside a middle chunk", box.subarray(0, c1.start + 100), /damaged or was altered/],
      ["only the header", box.subarray(0, HEADER), /damaged or was altered \(chunk 0\)/],
      [
        "first two chunks swapped",
        Buffer.concat([
          box.subarray(0, HEADER),
          box.subarray(c1.start, c1.end),
          box.subarray(c0.start, c0.end),
          box.subarray(c2.start),
        ]),
        /damaged or was altered \(chunk 0\)/,
      ],
      [
        "a chunk repeated",
        Buffer.concat([box.subarray(0, c2.end), box.subarray(c2.start, c2.end), box.subarray(c3.start)]),
        /damaged or was altered \(chunk 3\)/,
      ],
      ["data appended", Buffer.concat([box, Buffer.from([0, 0, 0, 0])]), /damaged or was altered/],
      ["an empty file", Buffer.alloc(0), /not a sealed file/],
      ["not a sealed file", Buffer.from("email\nalice@example.com\n"), /not a sealed file/],
    ];
    for (const [name, content, pattern] of cases) {
      const bad = path.join(dir, "bad.sealed");
      await writeFile(bad, content);
      await assert.rejects(
        unsealToFile(bad, path.join(dir, "bad.out"), key),
        isAppError("INTERNAL", pattern),
        name,
      );
      assert.ok(!existsSync(path.join(dir, "bad.out")), name);
    }
  });

  it("never reuses a nonce across chunks", async () => {
    const dir = await tempDir();
    // Identical plaintext chunks would seal identically if the per-chunk nonce repeated.
    const box = await readFile(await sealed(dir, Buffer.alloc(3 * 64 * KiB + 1)));
    const [c0, c1] = chunkOffsets(box);
    assert.ok(c0 && c1);
    assert.notDeepEqual(box.subarray(c0.start + 4, c0.start + 36), box.subarray(c1.start + 4, c1.start + 36));
  });

  it("rejects a forged chunk length at once instead of buffering for it", async () => {
    const opener = openSealedStream(key);
    const failed = once(opener, "error");
    const forged = Buffer.concat([
      Buffer.from("BRSEAL1\n"),
      randomBytes(8),
      Buffer.from([0x7f, 0xff, 0xff, 0xff]),
    ]);
    opener.write(Buffer.concat([forged, Buffer.alloc(100)]));
    // The input is never ended, so only the length check can produce this error.
    const timer = new AbortController();
    const timeout = delay(1000, undefined, { signal: timer.signal }).then(
      () => assert.fail("no error before the end of input"),
      () => [],
    );
    const [error] = await Promise.race([failed, timeout]).finally(() => timer.abort());
    assert.ok(isAppError("INTERNAL", /chunk 0/)(error));
  });

  it("fails with the wrong key", async () => {
    const dir = await tempDir();
    const file = await sealed(dir, Buffer.from("alice@example.com"));
    const out = path.join(dir, "out");
    await assert.rejects(unsealToFile(file, out, otherKey), isAppError("INTERNAL", /chunk 0/));
    assert.ok(!existsSync(out));
  });

  it("stops at maxBytes with TOO_LARGE and leaves no file", async () => {
    const dir = await tempDir();
    const dest = path.join(dir, "big.sealed");
    const plain = randomBytes(300 * KiB);
    await assert.rejects(
      sealToFile(source(plain), dest, key, { maxBytes: 100_000 }),
      isAppError("TOO_LARGE", /100000/),
    );
    assert.deepEqual(await readdir(dir), []);
    const exact = await sealToFile(source(plain), dest, key, { maxBytes: plain.length });
    assert.equal(exact.bytes, plain.length, "a file of exactly maxBytes is accepted");
  });

  it("removes the partial file when the source fails", async () => {
    const dir = await tempDir();
    const dest = path.join(dir, "broken.sealed");
    async function* failing() {
      yield randomBytes(200 * KiB);
      throw new Error("connection reset");
    }
    await assert.rejects(sealToFile(Readable.from(failing()), dest, key), /connection reset/);
    assert.deepEqual(await readdir(dir), []);
  });

  it("replaces a stale partial file and an existing output", async () => {
    const dir = await tempDir();
    const dest = path.join(dir, "x.sealed");
    await writeFile(`${dest}.part`, "left over from a crash", { mode: 0o644 });
    await sealToFile(source(Buffer.from("hello")), dest, key);
    const out = path.join(dir, "x.out");
    await writeFile(out, "old content that is longer than the new", { mode: 0o644 });
    assert.equal(await unsealToFile(dest, out, key), 5);
    assert.equal(await readFile(out, "utf8"), "hello");
    if (posix) assert.equal(await modeOf(out), 0o600);
    assert.deepEqual((await readdir(dir)).sort(), ["x.out", "x.sealed"]);
  });
});

describe("loadOrCreateKey", () => {
  it("creates a key file once and returns the same key afterwards", async () => {
    const dataDir = path.join(await tempDir(), "nested", "data");
    const first = await loadOrCreateKey({ dataDir });
    assert.equal(first.source, "key-file");
    assert.equal(first.created, true);
    assert.equal(first.key.length, 32);
    const file = path.join(dataDir, "encryption.key");
    assert.equal((await readFile(file, "utf8")).trim(), first.key.toString("base64"));
    if (posix) assert.equal(await modeOf(file), 0o600);
    const again = await loadOrCreateKey({ dataDir });
    assert.deepEqual(again, { key: first.key, source: "key-file", created: false });
    const box = createSealer(first.key).seal("kept across restarts");
    assert.equal(createSealer(again.key).openText(box), "kept across restarts");
  });

  it("gives every racing process the same key", async () => {
    const dataDir = await tempDir();
    const results = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateKey({ dataDir })));
    assert.equal(results.filter((r) => r.created).length, 1);
    for (const r of results) assert.deepEqual(r.key, results[0]?.key);
  });

  it("prefers the configured key and writes no file", async () => {
    const dataDir = await tempDir();
    const result = await loadOrCreateKey({ encryptionKey: key, dataDir, databaseUrl: "postgres://db/x" });
    assert.deepEqual(result, { key, source: "config", created: false });
    assert.deepEqual(await readdir(dataDir), []);
    await assert.rejects(
      loadOrCreateKey({ encryptionKey: randomBytes(16), dataDir }),
      isAppError("USAGE", /BLASTRADIUS_ENCRYPTION_KEY/),
    );
  });

  it("refuses to invent a key when the database is shared", async () => {
    const dataDir = await tempDir();
    await assert.rejects(
      loadOrCreateKey({ dataDir, databaseUrl: "postgres://user@localhost:5432/blastradius" }),
      isAppError("USAGE", /^BLASTRADIUS_ENCRYPTION_KEY must be set when DATABASE_URL is set.*openssl rand/),
    );
    assert.deepEqual(await readdir(dataDir), []);
  });

  it("rejects a key file with bad content and names it", async () => {
    const dataDir = await tempDir();
    const file = path.join(dataDir, "encryption.key");
    for (const content of [
      "not a key\n",
      randomBytes(16).toString("base64"),
      `${key.toString("base64")}!!`,
    ]) {
      await writeFile(file, content);
      await assert.rejects(loadOrCreateKey({ dataDir }), (error: unknown) => {
        assert.ok(error instanceof AppError && error.code === "USAGE");
        assert.ok(error.message.includes(file));
        return true;
      });
    }
    await writeFile(file, `${key.toString("base64")}\n`);
    assert.deepEqual((await loadOrCreateKey({ dataDir })).key, key, "a hand-written key file is accepted");
  });
});
