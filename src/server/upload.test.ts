import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { open, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { totpCode } from "../auth/totp.ts";
import { tempDir } from "../lib/test-fixtures.ts";

/**
 * The server as `npm start` runs it, fed a 1 GiB upload generated on the fly: it must come back with
 * the right size and hash, sealed on disk, without the server's memory growing with the file.
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const start = path.join(root, "src/start.ts");

const GiB = 2 ** 30;
const MiB = 2 ** 20;
/**
 * What the upload may add to the server's resident memory. Not a limit on the whole process: the embedded
 * store (PGlite, a WebAssembly Postgres) alone keeps ~350-550 MiB resident once open and peaks near 1.2 GiB
 * while it creates a new store, before any upload. The upload itself adds under 20 MiB; anything that
 * buffers a share of the file shows up far above this.
 */
const GROWTH_LIMIT_MiB = 128;

type Server = { child: ChildProcess; url: string; code: string; dataDir: string };
type Session = { cookie: string; csrf: string };

const children: ChildProcess[] = [];
const dirs: string[] = [];

async function startServer(env: Record<string, string> = {}): Promise<Server> {
  const dataDir = await tempDir("blastradius-upload-");
  dirs.push(dataDir);
  // An existing identities folder means the demo incident is not seeded.
  const identities = await tempDir("blastradius-upload-ids-");
  dirs.push(identities);
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: "0",
    HOST: "127.0.0.1",
    BLASTRADIUS_DATA: dataDir,
    BLASTRADIUS_IDENTITIES: identities,
    BLASTRADIUS_WORKERS: "0",
    ...env,
  };
  // The embedded store with its own key file, whatever the surrounding shell has set.
  delete childEnv.DATABASE_URL;
  delete childEnv.BLASTRADIUS_ENCRYPTION_KEY;
  const child = spawn(process.execPath, [start], {
    cwd: root,
    env: childEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (s: string) => {
    stderr += s;
  });
  return new Promise<Server>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error("the server did not start within 60 s")), 60_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(new Error(`${error.message}\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    };
    const exited = (code: number | null, signal: string | null) =>
      fail(new Error(`the server exited (${code ?? signal})`));
    const read = (s: string) => {
      stdout += s;
      const url = /blastradius is listening on (http:\/\/\S+)/.exec(stdout)?.[1];
      const code = /"code":"([^"]+)"/.exec(stdout)?.[1];
      if (url && code) {
        clearTimeout(timer);
        // Only our own listeners: stop() waits on "exit" later, and the rest of stdout is not parsed.
        child.off("exit", exited);
        child.stdout?.off("data", read).resume();
        resolve({ child, url, code, dataDir });
      }
    };
    child.once("exit", exited);
    child.stdout?.setEncoding("utf8").on("data", read);
  });
}

async function api(
  server: Server,
  method: string,
  route: string,
  body?: unknown,
  session?: Session,
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (session) {
    headers.cookie = session.cookie;
    headers["x-csrf-token"] = session.csrf;
  }
  const res = await fetch(`${server.url}/api/v1${route}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : {}, headers: res.headers };
}

/** Bootstraps the first admin, signs in and opens an incident. */
async function signInWithIncident(server: Server): Promise<{ session: Session; incidentId: string }> {
  const email = "admin@example.com";
  const password = "a long enough passphrase";
  const boot = await api(server, "POST", "/bootstrap", { code: server.code, email, password });
  assert.equal(boot.status, 201, JSON.stringify(boot.json));
  const secret = (boot.json.totp as { secret: string }).secret;
  const signIn = await api(server, "POST", "/session", { email, password, totp: totpCode(secret) });
  assert.equal(signIn.status, 200, JSON.stringify(signIn.json));
  const cookie = signIn.headers
    .getSetCookie()
    .map((c) => c.split(";")[0] ?? "")
    .find((c) => c.startsWith("blastradius_session="));
  assert.ok(cookie, "the session cookie is set");
  const session = { cookie, csrf: String(signIn.json.csrf_token) };
  const incident = await api(server, "POST", "/incidents", { title: "Upload test" }, session);
  assert.equal(incident.status, 201, JSON.stringify(incident.json));
  return { session, incidentId: String(incident.json.id) };
}

// Every line is exactly 128 bytes of JSON; the digits of a running counter are written into place.
const LINE_BYTES = 128;
const DIGITS = 10;
const PLACEHOLDER = "#".repeat(DIGITS);
const TEMPLATE = (() => {
  const base = `{"event":"Page View","properties":{"distinct_id":"u${PLACEHOLDER}","$email":"u${PLACEHOLDER}@example.com","pad":""}}`;
  const line = base.replace(`"pad":""`, `"pad":"${"x".repeat(LINE_BYTES - 1 - base.length)}"`);
  return Buffer.from(`${line}\n`, "latin1");
})();
const SLOTS = [TEMPLATE.indexOf(PLACEHOLDER), TEMPLATE.lastIndexOf(PLACEHOLDER)];
assert.equal(TEMPLATE.length, LINE_BYTES);

/** The nth 1 MiB chunk of the generated dataset: fresh each time, as the socket may still hold the last. */
function chunk(n: number): Buffer {
  const buf = Buffer.allocUnsafe(MiB);
  const lines = MiB / LINE_BYTES;
  for (let i = 0; i < lines; i++) {
    const at = i * LINE_BYTES;
    TEMPLATE.copy(buf, at);
    const digits = String(n * lines + i).padStart(DIGITS, "0");
    for (const slot of SLOTS) buf.write(digits, at + slot, "latin1");
  }
  return buf;
}

type Upload = {
  status: number;
  json: Record<string, unknown>;
  sha256: string;
  sent: number;
  seconds: number;
};

/**
 * Posts `size` bytes of generated JSON lines as the multipart field `file`, hashing them as they go;
 * only one chunk exists at a time. Stops sending if the server answers early (413).
 */
function upload(server: Server, session: Session, incidentId: string, size: number): Promise<Upload> {
  const boundary = `----blastradius${Date.now().toString(16)}`;
  const preamble = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jsonl"\r\nContent-Type: application/x-ndjson\r\n\r\n`,
  );
  const closing = Buffer.from(`\r\n--${boundary}--\r\n`);
  const url = new URL(`${server.url}/api/v1/incidents/${incidentId}/datasets`);
  const hash = createHash("sha256");
  const began = performance.now();
  let sent = 0;
  return new Promise<Upload>((resolve, reject) => {
    let answered = false;
    const req = http.request(url, {
      method: "POST",
      headers: {
        "content-type": `multipart/form-data; boundary=${boundary}`,
        "content-length": String(preamble.length + size + closing.length),
        cookie: session.cookie,
        "x-csrf-token": session.csrf,
      },
    });
    req.on("response", (res) => {
      answered = true;
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (s: string) => {
        text += s;
      });
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          json: text ? JSON.parse(text) : {},
          sha256: hash.digest("hex"),
          sent,
          seconds: (performance.now() - began) / 1000,
        }),
      );
      res.on("error", reject);
    });
    // After an early answer the server may close the connection under the rest of the body.
    req.on("error", (error) => {
      if (!answered) reject(error);
    });
    const send = async () => {
      const write = (buf: Buffer) =>
        req.write(buf) ? Promise.resolve() : new Promise<void>((r) => req.once("drain", r));
      await write(preamble);
      for (let n = 0; sent < size && !answered && !req.destroyed; n++) {
        const part = chunk(n).subarray(0, Math.min(MiB, size - sent));
        hash.update(part);
        sent += part.length;
        await write(part);
      }
      if (!answered && !req.destroyed) req.end(closing);
    };
    send().catch((error: unknown) => {
      if (!answered) reject(error);
    });
  });
}

/** A line of /proc/<pid>/status in MiB (VmRSS: resident now, VmHWM: the peak resident so far). */
async function memoryMiB(pid: number, field: "VmRSS" | "VmHWM"): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kB = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1];
  assert.ok(kB, `${field} in /proc/${pid}/status`);
  return Number(kB) / 1024;
}

async function filesUnder(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((e) => !e.isDirectory()).map((e) => path.join(e.parentPath, e.name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

describe("dataset upload over HTTP", () => {
  after(async () => {
    await Promise.all(children.map(stop));
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it("streams a 1 GiB upload into a sealed file without the server's memory growing with it", {
    timeout: 240_000,
  }, async (t) => {
    const server = await startServer();
    const pid = server.child.pid;
    assert.ok(pid);
    const { session, incidentId } = await signInWithIncident(server);

    const startupPeak = await memoryMiB(pid, "VmHWM");
    // Writing 5 to clear_refs resets VmHWM (Linux 4.0+, an error elsewhere), so it then holds the upload's peak.
    await writeFile(`/proc/${pid}/clear_refs`, "5");
    const rssBefore = await memoryMiB(pid, "VmRSS");
    const sent = await upload(server, session, incidentId, GiB);
    const peakAfter = await memoryMiB(pid, "VmHWM");
    const rssAfter = await memoryMiB(pid, "VmRSS");
    t.diagnostic(
      `server memory: VmRSS before upload ${rssBefore.toFixed(1)} MiB, VmHWM during upload ${peakAfter.toFixed(1)} MiB ` +
        `(growth ${(peakAfter - rssBefore).toFixed(1)} MiB), VmRSS after ${rssAfter.toFixed(1)} MiB, ` +
        `VmHWM of start-up and sign-in ${startupPeak.toFixed(1)} MiB`,
    );
    t.diagnostic(
      `upload: ${sent.sent} bytes in ${sent.seconds.toFixed(1)} s (${(sent.sent / MiB / sent.seconds).toFixed(0)} MiB/s)`,
    );

    assert.equal(sent.status, 201, JSON.stringify(sent.json));
    assert.equal(sent.sent, GiB);
    assert.equal(sent.json.bytes, GiB);
    assert.equal(sent.json.sha256, sent.sha256);
    assert.equal(sent.json.file_name, "big.jsonl");
    assert.ok(
      peakAfter - rssBefore < GROWTH_LIMIT_MiB,
      `the server's resident memory grew from ${rssBefore.toFixed(1)} MiB to a peak of ${peakAfter.toFixed(1)} MiB during the upload, more than ${GROWTH_LIMIT_MiB} MiB`,
    );
    // And in absolute terms: the whole server, embedded database included, stays within a few hundred MiB.
    assert.ok(peakAfter < 768, `the server peaked at ${peakAfter.toFixed(1)} MiB during the upload`);

    const files = await filesUnder(path.join(server.dataDir, "datasets", incidentId));
    assert.deepEqual(
      files.map((f) => path.basename(f)),
      [`${sent.json.id}.sealed`],
    );
    const sealed = files[0] as string;
    const size = (await stat(sealed)).size;
    assert.ok(size > GiB && size < GiB * 1.01, `sealed file of ${size} bytes`);
    const handle = await open(sealed, "r");
    try {
      const { buffer } = await handle.read({ buffer: Buffer.alloc(MiB), position: 0 });
      const plain = chunk(0);
      assert.notDeepEqual(
        buffer.subarray(0, 64),
        plain.subarray(0, 64),
        "the file does not begin with the plaintext",
      );
      assert.equal(buffer.indexOf(plain.subarray(0, LINE_BYTES)), -1, "no plaintext line in its first MiB");
      assert.equal(buffer.indexOf("u0000000000@example.com"), -1);
    } finally {
      await handle.close();
    }
    // A gigabyte need not wait for the end of the suite.
    await rm(sealed, { force: true });
  });

  it("refuses an upload over BLASTRADIUS_MAX_UPLOAD with 413 and leaves no file behind", {
    timeout: 60_000,
  }, async () => {
    const server = await startServer({ BLASTRADIUS_MAX_UPLOAD: "1MB" });
    const { session, incidentId } = await signInWithIncident(server);

    const refused = await upload(server, session, incidentId, 3_000_000);
    assert.equal(refused.status, 413, JSON.stringify(refused.json));
    assert.equal((refused.json.error as { code: string }).code, "TOO_LARGE");

    assert.deepEqual(await filesUnder(path.join(server.dataDir, "datasets")), []);
    const listed = await api(server, "GET", `/incidents/${incidentId}/datasets`, undefined, session);
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.json, []);
    const health = await api(server, "GET", "/health");
    assert.equal(health.status, 200);
    assert.equal(health.json.ok, true);
  });
});
