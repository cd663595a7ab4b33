import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { type DemoManifest, generateDemoIncident } from "../../demo/generate-demo-incident.ts";
import { tempDir } from "../../lib/test-fixtures.ts";
import { postgresBackend } from "../../store/test-backends.ts";

const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), "../../../bin/blastradius.mjs");

/** The parent's environment without any setting that would point a child at another store. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k === "DATABASE_URL" || k === "PGOPTIONS" || k.startsWith("BLASTRADIUS_"))
      continue;
    env[k] = v;
  }
  return { ...env, BLASTRADIUS_THREADS: "2", BLASTRADIUS_MEMORY_LIMIT: "1GB" };
}

function cli(args: string[], env: Record<string, string>, input?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: "utf8",
    env: { ...baseEnv(), ...env },
    input: input ?? "",
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A long-running command; resolves with its exit code and output once it ends. */
function background(args: string[], env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, [bin, ...args], {
    env: { ...baseEnv(), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => {
    stdout += d;
  });
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const ended = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, stdout, stderr })),
  );
  return { child, ended, output: () => ({ stdout, stderr }) };
}

async function until<T>(what: string, probe: () => T | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe("workspace CLI (embedded store)", () => {
  let dir: string;
  let demo: DemoManifest;
  let env: Record<string, string>;
  let incidentId: string;

  before(async () => {
    dir = await tempDir();
    demo = await generateDemoIncident({
      outDir: path.join(dir, "demo"),
      users: 300,
      orgs: 30,
      events: 3000,
      seed: 2,
    });
    env = { BLASTRADIUS_DATA: path.join(dir, "data"), BLASTRADIUS_IDENTITIES: demo.identitiesDir };
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("prints help for every new command, exit 0", () => {
    const top = cli(["--help"], {});
    assert.equal(top.code, 0);
    for (const name of ["serve", "worker", "incident", "dataset", "user", "audit", "analyze", "report"]) {
      assert.match(top.stdout, new RegExp(`\\n  ${name}\\b`), name);
      const r = cli([name, "--help"], {});
      assert.equal(r.code, 0, name);
      assert.match(r.stdout, new RegExp(`Usage: blastradius ${name}`), name);
      assert.match(r.stdout, /Exit codes:/, name);
    }
    const serve = cli(["serve", "--help"], {}).stdout;
    for (const v of [
      "PORT",
      "HOST",
      "BLASTRADIUS_DATA",
      "DATABASE_URL",
      "BLASTRADIUS_ENCRYPTION_KEY",
      "BLASTRADIUS_IDENTITIES",
      "BLASTRADIUS_MAX_UPLOAD",
      "BLASTRADIUS_WORKERS",
      "BLASTRADIUS_TRUST_PROXY",
    ]) {
      assert.match(serve, new RegExp(`\\b${v}\\b`), v);
    }
    assert.match(cli(["analyze", "--help"], {}).stdout, /--incident ID \[--wait\|--no-wait\]/);
  });

  it("refuses bad usage with exit 2 before touching the store", () => {
    const unknown = cli(["incident", "frobnicate"], env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown subcommand 'frobnicate'/);
    assert.equal(cli(["dataset"], env).code, 2);
    const noTitle = cli(["incident", "create"], env);
    assert.equal(noTitle.code, 2);
    assert.match(noTitle.stderr, /--title/);
    const worker = cli(["worker"], env);
    assert.equal(worker.code, 2);
    assert.match(worker.stderr, /separate workers need a shared PostgreSQL: set DATABASE_URL/);
    const mixed = cli(["analyze", "--incident", "x", "--dataset", "y"], env);
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /--incident .* does not go with --dataset/);
  });

  it("runs an incident from creation to analysis", () => {
    const created = cli(
      [
        "incident",
        "create",
        "--title",
        "Analytics vendor breach",
        "--clock",
        "vendor_notified=2025-11-24T09:00:00Z",
      ],
      env,
    );
    assert.equal(created.code, 0, created.stderr);
    incidentId = created.stdout.trim();
    assert.match(incidentId, /^[0-9a-f-]{36}$/);

    const clock = cli(["incident", "clock", incidentId, "aware", "2025-11-25T18:00:00Z"], env);
    assert.equal(clock.code, 0, clock.stderr);
    const badClock = cli(["incident", "clock", incidentId, "noticed", "2025-11-25T18:00:00Z"], env);
    assert.equal(badClock.code, 2);
    assert.match(badClock.stderr, /not a clock/);
    const note = cli(["incident", "note", incidentId, "--body", "Vendor called", "--kind", "call"], env);
    assert.equal(note.code, 0, note.stderr);
    const decide = cli(
      [
        "incident",
        "decide",
        incidentId,
        "--subject",
        "eu-gdpr:individuals",
        "--decision",
        "not_required",
        "--rationale",
        "pseudonymous ids only",
      ],
      env,
    );
    assert.equal(decide.code, 0, decide.stderr);

    const added = cli(["dataset", "add", "--incident", incidentId, ...demo.datasets], env);
    assert.equal(added.code, 0, added.stderr);
    assert.equal(added.stdout.trim().split("\n").length, 2);
    const listed = cli(["dataset", "list", "--incident", incidentId, "--json"], env);
    assert.equal(listed.code, 0, listed.stderr);
    const datasets = JSON.parse(listed.stdout) as { file_name: string; sha256: string; status: string }[];
    assert.deepEqual(
      datasets.map((d) => d.file_name),
      demo.datasets.map((f) => path.basename(f)),
    );
    for (const d of datasets) {
      assert.match(d.sha256, /^[0-9a-f]{64}$/);
      assert.equal(d.status, "stored");
      assert.ok(added.stdout.includes(d.sha256));
    }

    const analyzed = cli(["analyze", "--incident", incidentId, "--json"], env);
    assert.equal(analyzed.code, 0, analyzed.stderr);
    const { run, summary } = JSON.parse(analyzed.stdout);
    assert.equal(run.status, "succeeded");
    assert.equal(summary.affected_people, demo.counts.affectedPeople);
    assert.equal(summary.affected_orgs, demo.counts.affectedOrgs);
    assert.equal(summary.admins_to_notify, demo.counts.adminsToNotify);

    const shown = cli(["incident", "show", incidentId, "--json"], env);
    assert.equal(shown.code, 0, shown.stderr);
    const incident = JSON.parse(shown.stdout);
    assert.equal(incident.clocks.aware, "2025-11-25T18:00:00.000Z");
    assert.equal(incident.clocks.vendor_notified, "2025-11-24T09:00:00.000Z");
    assert.ok(incident.clocks.dataset_received, "set by the first upload");
    assert.deepEqual(
      incident.runs.map((r: { id: string; status: string }) => [r.id, r.status]),
      [[run.id, "succeeded"]],
    );
    assert.equal(incident.datasets.length, 2);
    type Entry = { kind: string; body: string; author: string };
    assert.deepEqual(
      incident.timeline
        .filter((t: Entry) => t.kind !== "system")
        .map((t: Entry) => [t.kind, t.body, t.author]),
      [["call", "Vendor called", "cli"]],
    );
    // The system's own entries: each dataset's arrival and the analysis.
    assert.deepEqual(
      incident.timeline
        .filter((t: Entry) => t.kind === "system")
        .map((t: Entry) => [t.body.replace(/, [\d.]+ [KMG]?B$|, \d+ bytes$/, ", SIZE"), t.author]),
      [
        ...demo.datasets.map((f) => [`Dataset received: ${path.basename(f)}, SIZE`, "system"]),
        [
          `Analysis done: ${demo.counts.affectedPeople.toLocaleString("en-US")} people, ${demo.counts.affectedOrgs.toLocaleString("en-US")} organisations affected`,
          "system",
        ],
      ],
    );
    assert.equal(incident.decisions[0].decision, "not_required");

    const text = cli(["incident", "show", incidentId], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /Analysis runs \(1\):\n {2}\S+ {2}succeeded/);
    const list = cli(["incident", "list"], env);
    assert.match(list.stdout, new RegExp(`^${incidentId} .*Analytics vendor breach$`, "m"));
    assert.equal(cli(["incident", "show", "no-such-id"], env).code, 2);
  });

  it("writes the regulator draft and the incident report", async () => {
    const md = cli(["report", "regulator", "--incident", incidentId], env);
    assert.equal(md.code, 0, md.stderr);
    assert.match(md.stdout, /^## \(a\) Nature of the breach$/m);
    assert.match(
      md.stdout,
      new RegExp(`\\*\\*${demo.counts.affectedPeople.toLocaleString("en-US")} people\\*\\* affected`),
    );
    const out = path.join(dir, "incident-report.pdf");
    const pdf = cli(["report", "incident", "--incident", incidentId, "--format", "pdf", "--out", out], env);
    assert.equal(pdf.code, 0, pdf.stderr);
    assert.match(pdf.stderr, /wrote the incident report \(pdf, \d+ bytes\)/);
    const { readFile } = await import("node:fs/promises");
    assert.equal((await readFile(out)).subarray(0, 5).toString("latin1"), "%PDF-");
    const noOut = cli(["report", "incident", "--incident", incidentId, "--format", "pdf"], env);
    assert.equal(noOut.code, 2);
    assert.match(noOut.stderr, /--format pdf needs --out FILE/);
    assert.equal(cli(["report", "board", "--incident", incidentId], env).code, 2);
    assert.equal(cli(["report", "incident"], env).code, 2);
  });

  it("queues a run without running it with --no-wait", () => {
    const queued = cli(["analyze", "--incident", incidentId, "--no-wait"], env);
    assert.equal(queued.code, 0, queued.stderr);
    const runId = queued.stdout.trim();
    assert.match(runId, /^[0-9a-f-]{36}$/);
    const incident = JSON.parse(cli(["incident", "show", incidentId, "--json"], env).stdout);
    assert.equal(incident.runs.find((r: { id: string }) => r.id === runId).status, "queued");
  });

  it("bootstraps the first admin once, and adds accounts with the password from stdin", () => {
    const password = "a passphrase long enough";
    const first = cli(["user", "bootstrap", "--email", "admin@example.com"], {
      ...env,
      BLASTRADIUS_PASSWORD: password,
    });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /otpauth:\/\/totp\/blastradius:admin%40example\.com\?/);
    const again = cli(["user", "bootstrap", "--email", "other@example.com"], {
      ...env,
      BLASTRADIUS_PASSWORD: password,
    });
    assert.ok(again.code === 2 || again.code === 1, `exit ${again.code}`);
    assert.match(again.stderr, /the first admin exists already/);
    const noPassword = cli(["user", "add", "--email", "ana@example.com", "--role", "analyst"], env);
    assert.equal(noPassword.code, 2);
    assert.match(noPassword.stderr, /BLASTRADIUS_PASSWORD/);
    const added = cli(
      ["user", "add", "--email", "ana@example.com", "--role", "analyst"],
      env,
      `${password}\nnot read\n`,
    );
    assert.equal(added.code, 0, added.stderr);
    assert.doesNotMatch(added.stdout, /otpauth/, "only admins get a second factor at creation");
    const users = JSON.parse(cli(["user", "list", "--json"], env).stdout);
    assert.deepEqual(
      users.map((u: { email: string; role: string }) => [u.email, u.role]),
      [
        ["admin@example.com", "admin"],
        ["ana@example.com", "analyst"],
      ],
    );
  });

  it("serve holds the store until SIGTERM, and other commands say how to share it", async () => {
    const server = background(["serve"], { ...env, PORT: "0" });
    await until("the server to listen", () =>
      /listening on/.test(server.output().stdout) ? true : undefined,
    );
    const busy = cli(["incident", "list"], env);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /in use by another blastradius process.*DATABASE_URL/);
    server.child.kill("SIGTERM");
    const ended = await server.ended;
    assert.equal(ended.code, 0, ended.stderr);
    assert.match(ended.stdout, /SIGTERM: stopping/);
  });
});

describe("workspace CLI (PostgreSQL, separate worker)", async () => {
  const backend = await postgresBackend();
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    dir = await tempDir();
    env = {
      ...backend.env,
      BLASTRADIUS_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      BLASTRADIUS_IDENTITIES: path.join(dir, "demo", "identities"),
    };
  });
  after(async () => {
    await backend.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it("a worker process runs the run analyze --no-wait queued", { skip: backend.skip }, async () => {
    const demo = await generateDemoIncident({
      outDir: path.join(dir, "demo"),
      users: 100,
      orgs: 10,
      events: 500,
    });
    const incidentId = cli(["incident", "create", "--title", "Shared store"], env).stdout.trim();
    assert.match(incidentId, /^[0-9a-f-]{36}$/);
    assert.equal(cli(["dataset", "add", "--incident", incidentId, ...demo.datasets], env).code, 0);
    const queued = cli(["analyze", "--incident", incidentId, "--no-wait"], env);
    assert.equal(queued.code, 0, queued.stderr);
    const runId = queued.stdout.trim();

    const worker = background(["worker"], env);
    await until("the worker to start", () => (/running/.test(worker.output().stderr) ? true : undefined));
    let status = "";
    const end = Date.now() + 30_000;
    while (status !== "succeeded" && status !== "failed" && Date.now() < end) {
      const incident = JSON.parse(cli(["incident", "show", incidentId, "--json"], env).stdout);
      status = incident.runs.find((r: { id: string }) => r.id === runId).status;
      if (status !== "succeeded") await sleep(300);
    }
    worker.child.kill("SIGTERM");
    const ended = await worker.ended;
    assert.equal(status, "succeeded", ended.stderr);
    assert.equal(ended.code, 0, ended.stderr);
    assert.match(ended.stderr, /workers stopped/);
  });
});
