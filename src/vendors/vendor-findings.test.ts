import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { addAccount, addVendor, auditActions, describeOnBackends } from "./test-review-store.ts";
import { addDays, createFinding, listFindings, parseDay, updateFinding } from "./vendor-findings.ts";

describe("finding dates", () => {
  it("takes real calendar dates only, and adds days across months and leap years", () => {
    assert.equal(parseDay("2028-02-29", "due_at"), "2028-02-29");
    assert.throws(() => parseDay("2027-02-29", "due_at"), { message: /^due_at: a date such as/ });
    assert.throws(() => parseDay("31/03/2026", "due_at"), { code: "BAD_INPUT" });
    assert.equal(addDays("2028-02-28", 1), "2028-02-29");
    assert.equal(addDays("2026-12-15", 30), "2027-01-14");
  });
});

describeOnBackends("vendor findings", (s) => {
  s.it(
    "records a finding with an owner and due date, and names owner_id when it is not an account",
    async () => {
      const ctx = s.ctx();
      const responder = await addAccount(ctx.db, "responder");
      const owner = await addAccount(ctx.db, "analyst", "Ana Owner");
      const vendor = await addVendor(ctx.db, { requirement_set: "baseline" });
      const f = await createFinding(ctx, responder.actor, vendor, {
        title: "  No MFA for support staff ",
        severity: "high",
        owner_id: owner.id,
        due_at: "2026-05-01",
        requirement_id: "mfa",
        note: "seen in the SOC 2 exceptions",
      });
      assert.equal(f.title, "No MFA for support staff");
      assert.deepEqual(f.owner, { id: owner.id, email: owner.email, display_name: "Ana Owner" });
      assert.equal(f.due_at, "2026-05-01");
      assert.equal(f.status, "open");
      assert.equal(f.requirement_id, "mfa");

      await assert.rejects(
        createFinding(ctx, responder.actor, vendor, {
          title: "x",
          severity: "low",
          owner_id: "00000000-0000-4000-8000-000000000000",
        }),
        { code: "BAD_INPUT", message: "owner_id: no account 00000000-0000-4000-8000-000000000000" },
      );
      await assert.rejects(
        createFinding(ctx, responder.actor, vendor, { title: "x", severity: "low", owner_id: "bob" }),
        {
          message: /^owner_id: an account's id/,
        },
      );
      await assert.rejects(
        createFinding(ctx, responder.actor, vendor, {
          title: "x",
          severity: "low",
          requirement_id: "least_data",
        }),
        { message: 'requirement_id: "least_data" is not a requirement of the set baseline' },
      );
      await assert.rejects(
        createFinding(ctx, responder.actor, vendor, { title: "x", severity: "urgent" as "low" }),
        {
          message: /^severity: one of low, medium, high, critical/,
        },
      );
      const viewer = await addAccount(ctx.db, "viewer");
      await assert.rejects(createFinding(ctx, viewer.actor, vendor, { title: "x", severity: "low" }), {
        code: "FORBIDDEN",
      });
      assert.equal((await listFindings(ctx, viewer.actor, vendor)).length, 1);
    },
  );

  s.it("changes owner, due date and status; closing stamps the time, reopening clears it", async () => {
    const ctx = s.ctx();
    const responder = await addAccount(ctx.db, "responder");
    const owner = await addAccount(ctx.db, "responder");
    const vendor = await addVendor(ctx.db);
    const f = await createFinding(ctx, responder.actor, vendor, {
      title: "Breach notice 7 days in the contract",
      severity: "medium",
      due_at: "2020-01-01",
    });
    assert.equal(f.overdue, true);
    const owned = await updateFinding(ctx, responder.actor, f.id, {
      owner_id: owner.id,
      due_at: "2999-01-01",
    });
    assert.equal(owned.owner?.id, owner.id);
    assert.equal(owned.overdue, false);
    const closed = await updateFinding(ctx, responder.actor, f.id, {
      status: "closed",
      note: "contract amended",
    });
    assert.equal(closed.status, "closed");
    assert.ok(closed.closed_at);
    assert.equal(closed.note, "contract amended");
    const reopened = await updateFinding(ctx, responder.actor, f.id, { status: "open", owner_id: null });
    assert.equal(reopened.closed_at, null);
    assert.equal(reopened.owner, null);
    await ctx.db.query("UPDATE users SET disabled_at = now() WHERE id = $1", [owner.id]);
    await assert.rejects(updateFinding(ctx, responder.actor, f.id, { owner_id: owner.id }), {
      message: `owner_id: account ${owner.id} is disabled`,
    });
    await assert.rejects(updateFinding(ctx, responder.actor, f.id, {}), { message: /^nothing to change/ });
    await assert.rejects(
      updateFinding(ctx, responder.actor, "00000000-0000-4000-8000-000000000000", { status: "closed" }),
      { code: "NOT_FOUND" },
    );
    assert.deepEqual(await auditActions(ctx.db, `vendor:${vendor}`), [
      "vendor.finding.create",
      "vendor.finding.update",
      "vendor.finding.update",
      "vendor.finding.update",
    ]);
    assert.deepEqual(
      (await listFindings(ctx, responder.actor, vendor, { status: "closed" })).map((x) => x.id),
      [],
    );
  });
});
