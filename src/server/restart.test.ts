import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { openAsBlob } from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { openContext } from "../app/open-context.ts";
import { totpCode } from "../auth/totp.ts";
import { loadConfig } from "../config/env.ts";
import { generateDemoIncident } from "../demo/generate-demo-incident.ts";
import { tempDir } from "../lib/test-fixtures.ts";

const start = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "start.ts");

type Server = { child: ChildProcess; url: string; code: string | null };

function launch(env: Record<string, string>): Promise<Server> {
  const child = spawn(process.execPath, [start], {
    env: { ...process.env, ...env, PORT: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve, reject) => {
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      if (url && /Sign in|first admin/.test(out)) {
        resolve({ child, url, code: /"code":"([^"]+)"/.exec(out)?.[1] ?? null });
      }
    });
    child.once("exit", (code) => reject(new Error(`server exited (${code}): ${err}`)));
  });
}

async function api<T>(
  s: Server,
  method: string,
  p: string,
  auth: { cookie: string; csrf: string } | null,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = auth ? { cookie: auth.cookie, "x-csrf-token": auth.csrf } : {};
  let payload: RequestInit["body"];
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const res = await fetch(`${s.url}/api/v1${p}`, { method, headers, body: payload });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

const EMAIL = "admin@staff.example";
const PASSWORD = "a long enough passphrase";

async function signIn(s: Server, secret: string) {
  const res = await fetch(`${s.url}/api/v1/session`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: EMAIL, password: PASSWORD, totp: totpCode(secret) }),
  });
  assert.equal(res.status, 200);
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] as string;
  return { cookie, csrf: ((await res.json()) as { csrf_token: string }).csrf_token };
}

function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}

type Run = {
  id: string;
  status: string;
  job: { attempts: number; progress: { stage: string } | null } | null;
};

describe("a server killed during an analysis", { timeout: 240_000 }, () => {
  const children: ChildProcess[] = [];
  after(async () => {
    for (const c of children) await stop(c, "SIGKILL");
  });

  it("finishes the job once after it starts again", async () => {
    const demo = await generateDemoIncident({
      outDir: await tempDir("blastradius-restart-demo-"),
      users: 30_000,
      orgs: 3000,
      events: 400_000,
      seed: 5,
    });
    const env = {
      BLASTRADIUS_DATA: await tempDir("blastradius-restart-"),
      BLASTRADIUS_IDENTITIES: demo.identitiesDir,
    };

    const first = await launch(env);
    children.push(first.child);
    assert.ok(first.code, "a new store prints a bootstrap code");
    const boot = await api<{ totp: { secret: string } }>(first, "POST", "/bootstrap", null, {
      code: first.code,
      email: EMAIL,
      password: PASSWORD,
    });
    let auth = await signIn(first, boot.totp.secret);
    const incident = await api<{ id: string }>(first, "POST", "/incidents", auth, {
      title: "Analytics vendor breach",
    });
    for (const file of demo.datasets) {
      const form = new FormData();
      form.append("file", await openAsBlob(file), path.basename(file));
      await api(first, "POST", `/incidents/${incident.id}/datasets`, auth, form);
    }
    const run = await api<Run>(first, "POST", `/incidents/${incident.id}/analyses`, auth, {});

    // Kill it mid-analysis: once the job reports progress, the worker is in the middle of it.
    let seen: Run = run;
    for (let i = 0; i < 600 && !(seen.status === "running" && seen.job?.progress); i++) {
      await new Promise((r) => setTimeout(r, 50));
      seen = await api<Run>(first, "GET", `/incidents/${incident.id}/analyses/${run.id}`, auth);
    }
    assert.equal(seen.status, "running", "the analysis was under way when the server was killed");
    await stop(first.child, "SIGKILL");

    const second = await launch(env);
    children.push(second.child);
    auth = await signIn(second, boot.totp.secret);
    for (let i = 0; i < 1200 && seen.status !== "succeeded" && seen.status !== "failed"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      seen = await api<Run>(second, "GET", `/incidents/${incident.id}/analyses/${run.id}`, auth);
    }
    assert.equal(seen.status, "succeeded");
    assert.equal(seen.job?.attempts, 2, "the interrupted attempt and the one that finished");
    const summary = await api<{ affected_people: number; affected_orgs: number }>(
      second,
      "GET",
      `/incidents/${incident.id}/analyses/${run.id}/summary`,
      auth,
    );
    assert.equal(summary.affected_people, demo.counts.affectedPeople);
    assert.equal(summary.affected_orgs, demo.counts.affectedOrgs);
    const done = await api<{ detail: { run: string } }[]>(
      second,
      "GET",
      "/audit?action=analysis.succeeded&limit=100",
      auth,
    );
    assert.equal(done.filter((e) => e.detail.run === run.id).length, 1, "completed once");
    const verify = await api<{ ok: boolean }>(second, "GET", "/audit/verify", auth);
    assert.equal(verify.ok, true);
    await stop(second.child, "SIGTERM");

    const ctx = await openContext(loadConfig(env));
    try {
      const rows = await ctx.db.query<{ people: number; orgs: number; runs: number }>(
        `SELECT (SELECT count(*)::int FROM affected_people WHERE run_id = $1) AS people,
                (SELECT count(*)::int FROM affected_orgs WHERE run_id = $1) AS orgs,
                (SELECT count(*)::int FROM analysis_runs) AS runs`,
        [run.id],
      );
      assert.deepEqual(rows.rows[0], {
        people: demo.counts.affectedPeople,
        orgs: demo.counts.affectedOrgs,
        runs: 1,
      });
    } finally {
      await ctx.close();
    }
  });
});
