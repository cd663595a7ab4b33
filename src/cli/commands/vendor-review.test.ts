import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { Context } from "../../app/context.ts";
import { openContext } from "../../app/open-context.ts";
import { cliActor } from "../../auth/roles.ts";
import { loadConfig } from "../../config/env.ts";
import { tempDir } from "../../lib/test-fixtures.ts";
import { recordOffboardingStep } from "../../vendors/offboarding.ts";
import { addAccount, addScan, addVendor } from "../../vendors/test-review-store.ts";

/** `blastradius review` as an operator uses it, on the embedded store. */

const bin = fileURLToPath(new URL("../../../bin/blastradius.mjs", import.meta.url));

describe("blastradius review", { timeout: 600_000 }, () => {
  let dir: string;
  let env: Record<string, string>;
  let ownerEmail: string;

  const cli = (...args: string[]) => {
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith("BLASTRADIUS_") && k !== "DATABASE_URL"),
    );
    const r = spawnSync(process.execPath, [bin, "review", ...args], {
      encoding: "utf8",
      env: { ...clean, BLASTRADIUS_THREADS: "2", BLASTRADIUS_MEMORY_LIMIT: "1GB", ...env },
      timeout: 180_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  /** The store between two commands (the embedded store takes one process at a time). */
  async function withStore<T>(work: (ctx: Context) => Promise<T>): Promise<T> {
    const ctx = await openContext(loadConfig({ ...env }));
    try {
      return await work(ctx);
    } finally {
      await ctx.close();
    }
  }

  before(async () => {
    dir = await tempDir("blastradius-review-cli-");
    env = { BLASTRADIUS_DATA: dir };
    await withStore(async (ctx) => {
      const owner = await addAccount(ctx.db, "responder", "Olga");
      ownerEmail = owner.email;
      await addVendor(ctx.db, {
        name: "Mixpanel",
        catalogue_id: "mixpanel",
        domains: ["mixpanel.com"],
        risk_tier: "critical",
      });
      await addVendor(ctx.db, {
        name: "Support Desk",
        risk_tier: "high",
        owner_id: owner.id,
        next_review_at: "2000-01-01",
      });
      await addVendor(ctx.db, { name: "Fonts Co", risk_tier: "low" });
    });
  });
  it("assigns the elevated set to every vendor at or above high in one step", () => {
    const r = cli("assign", "--set", "elevated", "--min-tier", "high", "--json");
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { assigned: number; vendors: string[]; unchanged: number };
    assert.equal(out.assigned, 2);
    const bad = cli("assign", "--set", "elevated", "--min-tier", "extreme");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--min-tier must be one of low, medium, high, critical/);
  });

  it("sends the review reminder once, to the outbox, readable with notify outbox", () => {
    const dry = cli("remind", "--dry-run");
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^1 vendor\(s\) due for a reminder \(dry run: nothing sent\)/);
    assert.match(dry.stdout, /would_send\s+2000-01-01 \(overdue\)\s+Support Desk/);
    const sent = cli("remind", "--from", "security@example.com");
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(
      sent.stdout,
      /^1 reminder\(s\) sent, 0 failed, 0 vendor\(s\) without an owner \(via outbox, campaign review-reminders-/,
    );
    const campaign = /campaign (review-reminders-[0-9a-f-]+)\)/.exec(sent.stdout)?.[1] ?? "";
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith("BLASTRADIUS_") && k !== "DATABASE_URL"),
    );
    const outbox = spawnSync(
      process.execPath,
      [bin, "notify", "outbox", "--campaign", campaign, "--recipient", ownerEmail],
      { encoding: "utf8", env: { ...clean, ...env }, timeout: 180_000 },
    );
    assert.equal(outbox.status, 0, outbox.stderr);
    assert.match(outbox.stdout, /Subject: Overdue: security review of Support Desk/);
  });

  it("offboards a vendor by name, refusing integration_removed until a scan shows it gone", async () => {
    const started = cli("offboard", "Mixpanel", "--start");
    assert.equal(started.code, 0, started.stderr);
    assert.match(started.stdout, /^Offboarding Mixpanel \(.*\): status offboarding; 0 of 5 steps done/);
    const refused = cli("offboard", "mixpanel", "--step", "integration_removed");
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /scan_id: integration_removed needs a scan that no longer sees Mixpanel/);
    const scan = await withStore((ctx) =>
      addScan(ctx.db, { hosts: [{ host: "cdn.example.net", vendor: null, vendor_id: null }] }),
    );
    const removed = cli(
      "offboard",
      "Mixpanel",
      "--step",
      "integration_removed",
      "--scan",
      scan,
      "--note",
      "SDK removed",
    );
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(
      removed.stdout,
      new RegExp(`\\[x\\] integration_removed .* by cli, scan ${scan}: SDK removed`),
    );
    // the middle steps straight through the use case: each command start opens the embedded store
    await withStore(async (ctx) => {
      const id = (
        await ctx.db.query<{ id: string }>("SELECT id::text AS id FROM vendors WHERE name = 'Mixpanel'")
      ).rows[0]?.id as string;
      for (const step of ["keys_revoked", "deletion_requested", "deletion_certificate"]) {
        await recordOffboardingStep(ctx, cliActor, id, { step });
      }
    });
    const done = cli("offboard", "Mixpanel", "--step", "contract_ended", "--json");
    assert.equal(done.code, 0, done.stderr);
    assert.equal((JSON.parse(done.stdout) as { status: string }).status, "offboarded");
    assert.equal(cli("offboard", "Nobody", "--start").code, 2);
    const usage = cli("offboard", "Mixpanel", "--scan", scan);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--scan and --note go with --step NAME/);
  });

  it("prints the dashboard", () => {
    const r = cli("dashboard");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Vendors as of \d{4}-\d{2}-\d{2}/);
    assert.match(r.stdout, /high\s+1\s+0\s+0\s+1\s+1/);
    assert.equal(cli("frobnicate").code, 2);
  });
});
