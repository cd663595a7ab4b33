import assert from "node:assert/strict";
import { cliActor } from "../auth/roles.ts";
import { readOutboxMessage } from "../notify/read-messages.ts";
import { startSmtpPeer } from "../notify/test-smtp-peer.ts";
import { outboxTransport, smtpTransport } from "../notify/transports.ts";
import { addAccount, addVendor, auditActions, describeOnBackends } from "./test-review-store.ts";
import { addDays } from "./vendor-findings.ts";
import { completeReview, sendReviewReminders, startReviewReminders } from "./vendor-reviews.ts";

const NOW = new Date("2026-06-01T09:00:00Z");
const TODAY = "2026-06-01";
const later = (days: number) => new Date(NOW.getTime() + days * 86_400_000);

async function headerOf(raw: Buffer, name: string): Promise<string | undefined> {
  const { default: PostalMime } = await import("postal-mime");
  const parsed = await PostalMime.parse(raw);
  return name === "subject" ? parsed.subject : parsed.text;
}

describeOnBackends("vendor reviews", (s) => {
  s.it("completing a review sets the next date from the vendor's interval (365 by default)", async () => {
    const ctx = s.ctx();
    const responder = await addAccount(ctx.db, "responder");
    const quarterly = await addVendor(ctx.db, { review_interval_days: 90, next_review_at: "2026-05-01" });
    await ctx.db.query(
      "UPDATE vendors SET review_reminded_at = now(), notes = 'Main analytics vendor' WHERE id = $1",
      [quarterly],
    );
    const done = await completeReview(ctx, responder.actor, quarterly, {
      now: NOW,
      note: "SOC 2 read; no exceptions",
    });
    assert.deepEqual(done, {
      vendor_id: quarterly,
      last_reviewed_at: NOW.toISOString(),
      next_review_at: "2026-08-30",
      review_interval_days: 90,
    });
    const row = await ctx.db.query<{ next: string; reminded: Date | null; notes: string }>(
      "SELECT next_review_at::text AS next, review_reminded_at AS reminded, notes FROM vendors WHERE id = $1",
      [quarterly],
    );
    assert.equal(row.rows[0]?.next, "2026-08-30");
    assert.equal(row.rows[0]?.reminded, null);
    assert.equal(
      row.rows[0]?.notes,
      `Main analytics vendor\n\nReview 2026-06-01 (${responder.actor.label}): SOC 2 read; no exceptions`,
    );
    const yearly = await addVendor(ctx.db);
    assert.equal(
      (await completeReview(ctx, responder.actor, yearly, { now: NOW })).next_review_at,
      "2027-06-01",
    );
    assert.deepEqual(await auditActions(ctx.db, `vendor:${quarterly}`), ["vendor.review.complete"]);
    const viewer = await addAccount(ctx.db, "viewer");
    await assert.rejects(completeReview(ctx, viewer.actor, yearly), { code: "FORBIDDEN" });
  });

  s.it("reminds each owner once per review cycle, through the outbox", async () => {
    const ctx = s.ctx();
    await ctx.db.query("DELETE FROM vendors");
    const ana = await addAccount(ctx.db, "responder", "Ana");
    const ben = await addAccount(ctx.db, "analyst");
    const soon = await addVendor(ctx.db, {
      name: "Soon Co",
      owner_id: ana.id,
      next_review_at: addDays(TODAY, 10),
    });
    const overdue = await addVendor(ctx.db, {
      name: "Late Co",
      owner_id: ben.id,
      next_review_at: addDays(TODAY, -5),
    });
    await addVendor(ctx.db, { name: "Far Co", owner_id: ana.id, next_review_at: addDays(TODAY, 30) });
    const orphan = await addVendor(ctx.db, { name: "Orphan Co", next_review_at: addDays(TODAY, 1) });
    await addVendor(ctx.db, {
      name: "Leaving Co",
      owner_id: ana.id,
      next_review_at: TODAY,
      status: "offboarding",
    });

    const dry = await sendReviewReminders(ctx, cliActor, {
      transport: outboxTransport(),
      now: NOW,
      dry_run: true,
    });
    assert.deepEqual(
      dry.items.map((i) => [i.name, i.outcome, i.overdue]),
      [
        ["Late Co", "would_send", true],
        ["Orphan Co", "no_owner", false],
        ["Soon Co", "would_send", false],
      ],
    );

    const wider = await sendReviewReminders(ctx, cliActor, {
      transport: outboxTransport(),
      now: NOW,
      within_days: 60,
      dry_run: true,
    });
    assert.ok(wider.items.some((i) => i.name === "Far Co"));

    const first = await sendReviewReminders(ctx, cliActor, {
      transport: outboxTransport(),
      now: NOW,
      from: "Security <security@example.com>",
    });
    assert.equal(first.sent, 2);
    assert.equal(first.no_owner, 1);
    assert.match(first.campaign_id ?? "", /^review-reminders-20260601-[0-9a-f]{8}$/);
    assert.deepEqual(
      first.items.map((i) => [i.vendor_id, i.outcome, i.owner_email]),
      [
        [overdue, "sent", ben.email],
        [orphan, "no_owner", null],
        [soon, "sent", ana.email],
      ],
    );
    const message = await readOutboxMessage(ctx, cliActor, first.campaign_id as string, ana.email);
    assert.equal(await headerOf(message.raw, "subject"), "Due: security review of Soon Co");
    const text = (await headerOf(message.raw, "text")) ?? "";
    assert.match(text, /^Hello Ana,/);
    assert.match(text, /is due on 2026-06-11/);
    assert.match(text, new RegExp(`blastradius review complete ${soon}`));
    const late = await readOutboxMessage(ctx, cliActor, first.campaign_id as string, ben.email);
    assert.equal(await headerOf(late.raw, "subject"), "Overdue: security review of Late Co");

    // the same day, and ten days on (now overdue): this cycle's reminder went out already
    for (const at of [NOW, later(10)]) {
      const again = await sendReviewReminders(ctx, cliActor, { transport: outboxTransport(), now: at });
      assert.equal(again.sent, 0);
      assert.equal(again.campaign_id, null);
    }
    assert.deepEqual(await auditActions(ctx.db, `vendor:${soon}`), ["vendor.review.remind"]);

    // a completed review starts the next cycle: reminded again 14 days before the new date
    await completeReview(ctx, ana.actor, soon, { now: later(12) });
    const quiet = await sendReviewReminders(ctx, cliActor, { transport: outboxTransport(), now: later(13) });
    assert.ok(!quiet.items.some((i) => i.vendor_id === soon));
    const next = await sendReviewReminders(ctx, cliActor, {
      transport: outboxTransport(),
      now: later(12 + 365 - 14),
    });
    assert.deepEqual(
      next.items.filter((i) => i.vendor_id === soon).map((i) => i.outcome),
      ["sent"],
    );
    await assert.rejects(
      sendReviewReminders(ctx, cliActor, { transport: outboxTransport(), within_days: -1 }),
      { message: /^within_days:/ },
    );
  });

  s.it("sends through a real SMTP peer, and gives the claim back when the relay refuses", async () => {
    const ctx = s.ctx();
    await ctx.db.query("DELETE FROM vendors");
    const owner = await addAccount(ctx.db, "responder", "Sam");
    const vendor = await addVendor(ctx.db, { name: "Relay Co", owner_id: owner.id, next_review_at: TODAY });
    let refuse = true;
    const peer = await startSmtpPeer({ rule: () => (refuse ? "5xx" : "accept") });
    try {
      const transport = smtpTransport(peer.url, { connections: 1 });
      try {
        const failed = await sendReviewReminders(ctx, cliActor, {
          transport,
          now: NOW,
          from: "sec@example.com",
        });
        assert.equal(failed.failed, 1);
        assert.equal(failed.sent, 0);
        const claim = await ctx.db.query<{ reminded: Date | null }>(
          "SELECT review_reminded_at AS reminded FROM vendors WHERE id = $1",
          [vendor],
        );
        assert.equal(claim.rows[0]?.reminded, null);
        refuse = false;
        const sent = await sendReviewReminders(ctx, cliActor, {
          transport,
          now: NOW,
          from: "sec@example.com",
        });
        assert.equal(sent.sent, 1);
      } finally {
        await transport.close();
      }
      const delivered = peer.delivered();
      assert.equal(delivered.length, 1);
      assert.deepEqual(delivered[0]?.rcpt, [owner.email]);
      assert.equal(delivered[0]?.from, "sec@example.com");
      assert.equal(
        await headerOf(delivered[0]?.raw ?? Buffer.alloc(0), "subject"),
        "Due: security review of Relay Co",
      );
      const ledger = await ctx.db.query<{ state: string }>(
        "SELECT d.state FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id WHERE c.source = 'vendor-reviews' AND c.status = 'done' ORDER BY c.created_at, d.ordinal",
      );
      assert.deepEqual(ledger.rows.map((r) => r.state).slice(-2), ["failed", "sent"]);
      assert.deepEqual(await auditActions(ctx.db, `vendor:${vendor}`), [
        "vendor.review.remind",
        "vendor.review.remind",
      ]);
    } finally {
      await peer.close();
    }
  });

  s.it(
    "the server's round runs once at start through the configured transport (the outbox here)",
    async () => {
      const ctx = s.ctx();
      await ctx.db.query("DELETE FROM vendors");
      const owner = await addAccount(ctx.db, "responder");
      await addVendor(ctx.db, { name: "Startup Co", owner_id: owner.id, next_review_at: "2000-01-01" });
      const lines: string[] = [];
      const timer = startReviewReminders(ctx, (line) => lines.push(line));
      await timer.stop();
      assert.equal(lines.length, 1, lines.join("\n"));
      assert.match(
        lines[0] ?? "",
        /^vendor review reminders: 1 sent, 0 failed \(via outbox, campaign (review-reminders-\S+)\)$/,
      );
      const campaign = /campaign (\S+)\)/.exec(lines[0] ?? "")?.[1] ?? "";
      const m = await readOutboxMessage(ctx, cliActor, campaign, owner.email);
      assert.equal(await headerOf(m.raw, "subject"), "Overdue: security review of Startup Co");
      assert.match(m.raw.toString("latin1"), /^From: blastradius <blastradius@localhost>/m);
    },
  );
});
