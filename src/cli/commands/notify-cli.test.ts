import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "csv-parse/sync";
import { generateDemoIncident } from "../../demo/generate-demo-incident.ts";
import { tempDir } from "../../lib/test-fixtures.ts";

/** `blastradius notify` as a person uses it: on a real analysis of the demo incident, via the outbox. */

const bin = fileURLToPath(new URL("../../../bin/blastradius.mjs", import.meta.url));

function cli(args: string[], env: Record<string, string>) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("BLASTRADIUS_") && k !== "DATABASE_URL"),
  );
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: "utf8",
    env: { ...clean, BLASTRADIUS_THREADS: "2", BLASTRADIUS_MEMORY_LIMIT: "1GB", ...env },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("blastradius notify", { timeout: 300_000 }, () => {
  let dir: string;
  let out: string;
  let env: Record<string, string>;
  let people: { email: string; name: string; language: string }[];

  before(async () => {
    dir = await tempDir();
    const demo = await generateDemoIncident({
      outDir: path.join(dir, "demo"),
      users: 200,
      orgs: 20,
      events: 2000,
      seed: 5,
    });
    out = path.join(dir, "result");
    const args = ["analyze", "--identities", demo.identitiesDir, "--out", out, "--quiet"];
    for (const d of demo.datasets) args.push("--dataset", d);
    const r = cli(args, {});
    assert.equal(r.code, 0, r.stderr);
    people = (parse(await readFile(path.join(out, "people.csv")), { columns: true }) as typeof people).filter(
      (p) => p.email,
    );
    env = { BLASTRADIUS_DATA: path.join(dir, "store") };
    await writeFile(
      path.join(dir, "notice.yaml"),
      "vendor: Analytics Co\ncompany: Example Inc.\nincident_start: 2025-11-08\ndiscovered_at: 2025-11-09\nnot_exposed: [passwords, api_keys]\n",
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("previews a recipient's message in their language, or another", () => {
    const german = people.find((p) => p.language.startsWith("de")) ?? people[0];
    assert.ok(german);
    const r = cli(
      [
        "notify",
        "preview",
        "--analysis",
        out,
        "--audience",
        "users",
        "--recipient",
        german.email,
        "--notice",
        path.join(dir, "notice.yaml"),
      ],
      {},
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^From: security@example\.com$/m);
    assert.match(r.stdout, /Analytics Co/);
    assert.match(r.stdout, /----- HTML part -----/);
    const fr = cli(
      [
        "notify",
        "preview",
        "--analysis",
        out,
        "--audience",
        "users",
        "--recipient",
        german.email,
        "--locale",
        "fr",
      ],
      {},
    );
    assert.equal(fr.code, 0, fr.stderr);
    assert.match(fr.stdout, /^Language: fr$/m);
    const nobody = cli(
      [
        "notify",
        "preview",
        "--analysis",
        out,
        "--audience",
        "users",
        "--recipient",
        "nobody@nowhere.example",
      ],
      {},
    );
    assert.equal(nobody.code, 2);
    assert.match(nobody.stderr, /nobody@nowhere\.example is not in the users audience/);
  });

  it("sends to the outbox, resumes as a no-op, reports status, refuses a changed audience", async () => {
    const send = (extra: string[] = []) =>
      cli(
        [
          "notify",
          "send",
          "--analysis",
          out,
          "--audience",
          "users",
          "--campaign",
          "nov-users",
          "--from",
          "Example Security <security@example.com>",
          "--notice",
          path.join(dir, "notice.yaml"),
          ...extra,
        ],
        env,
      );
    const first = send(["--json"]);
    assert.equal(first.code, 0, first.stderr);
    const counts = JSON.parse(first.stdout);
    assert.deepEqual(counts, {
      total: people.length,
      sent: people.length,
      failed: 0,
      bounced: 0,
      suppressed: 0,
      pending: 0,
    });
    const again = send(["--json"]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout), counts);

    const status = cli(["notify", "status", "--campaign", "nov-users", "--json"], env);
    assert.equal(status.code, 0, status.stderr);
    assert.deepEqual(Object.keys(JSON.parse(status.stdout)), [
      "total",
      "sent",
      "failed",
      "bounced",
      "suppressed",
      "pending",
    ]);

    const changed = cli(
      [
        "notify",
        "send",
        "--analysis",
        out,
        "--audience",
        "admins",
        "--campaign",
        "nov-users",
        "--from",
        "Example Security <security@example.com>",
      ],
      env,
    );
    assert.equal(changed.code, 2);
    assert.match(changed.stderr, /--audience users, not admins/);

    const someone = people[0]?.email ?? "";
    const stored = cli(["notify", "outbox", "--campaign", "nov-users", "--recipient", someone], env);
    assert.equal(stored.code, 0, stored.stderr);
    assert.match(stored.stdout, /^Message-ID: <nov-users\.\d+\.[0-9a-f]+@example\.com>$/im);

    const exported = path.join(dir, "export");
    const ex = cli(["notify", "export", "--campaign", "nov-users", "--out", exported], env);
    assert.equal(ex.code, 0, ex.stderr);
    const rows = parse(await readFile(path.join(exported, "recipients.csv")), { columns: true }) as {
      file: string;
      state: string;
    }[];
    assert.equal(rows.length, people.length);
    assert.equal((await readdir(path.join(exported, "messages"))).length, people.length);
    assert.ok(rows.every((r) => r.state === "sent"));
  });

  it("sends to admins, and reads bounces from a folder, listing what is not a DSN", async () => {
    const admins = cli(
      [
        "notify",
        "send",
        "--analysis",
        out,
        "--audience",
        "admins",
        "--campaign",
        "nov-admins",
        "--from",
        "security@example.com",
        "--json",
      ],
      env,
    );
    assert.equal(admins.code, 0, admins.stderr);
    assert.ok(JSON.parse(admins.stdout).sent > 0);

    const bounces = path.join(dir, "bounces");
    await mkdir(bounces);
    // someone only in the users campaign, so the bounce (no Message-ID) can only be that delivery
    const adminEmails = new Set(
      (parse(await readFile(path.join(out, "admins.csv")), { columns: true }) as { email: string }[]).map(
        (a) => a.email,
      ),
    );
    const victim = people.find((p) => !adminEmails.has(p.email))?.email ?? "";
    await writeFile(
      path.join(bounces, "1.eml"),
      [
        "From: MAILER-DAEMON@mx.example.org",
        "Subject: Undelivered",
        "MIME-Version: 1.0",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="x"',
        "",
        "--x",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; mx.example.org",
        "",
        `Final-Recipient: rfc822; ${victim}`,
        "Action: failed",
        "Status: 5.1.1",
        "",
        "--x--",
        "",
      ].join("\r\n"),
    );
    await writeFile(
      path.join(bounces, "2.eml"),
      "From: someone@example.org\r\nSubject: hello\r\n\r\njust a reply\r\n",
    );
    const r = cli(["notify", "bounces", "--dir", bounces, "--json"], env);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.files, 2);
    assert.equal(report.hard, 1);
    assert.equal(report.invalid.length, 1);
    assert.match(report.invalid[0].file, /2\.eml$/);

    const status = JSON.parse(cli(["notify", "status", "--campaign", "nov-users", "--json"], env).stdout);
    assert.equal(status.bounced, 1);
    assert.equal(status.sent, people.length - 1);
  });

  it("names the option in usage errors", () => {
    // a valid send, with one option replaced (or removed, with null) per case
    const send = (change: Record<string, string | null> = {}, extra: string[] = []) => {
      const options: Record<string, string | null> = {
        "--analysis": "x",
        "--audience": "users",
        "--campaign": "x",
        "--from": "a@b.example",
        ...change,
      };
      const args = ["notify", "send"];
      for (const [flag, value] of Object.entries(options)) if (value !== null) args.push(flag, value);
      return [...args, ...extra];
    };
    const cases: [string[], RegExp][] = [
      [send({ "--analysis": null }), /missing required option --analysis/],
      [send({ "--audience": "everyone" }), /--audience/],
      [send({ "--campaign": "bad id!" }), /--campaign/],
      [send({ "--from": "not-an-address" }), /--from/],
      [send({}, ["--smtp", "http://x"]), /--smtp/],
      [send({}, ["--dkim-key", "/nonexistent.pem", "--dkim-selector", "s1"]), /--dkim-key: cannot read/],
      [send({}, ["--concurrency", "0"]), /--concurrency/],
      [["notify", "frobnicate"], /unknown subcommand 'frobnicate'/],
    ];
    for (const [args, message] of cases) {
      const r = cli(args, env);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    assert.equal(cli(["notify", "--help"], {}).code, 0);
  });
});
