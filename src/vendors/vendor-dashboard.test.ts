import assert from "node:assert/strict";
import { recordOffboardingStep, startOffboarding } from "./offboarding.ts";
import { addAccount, addVendor, describeOnBackends } from "./test-review-store.ts";
import { vendorDashboard } from "./vendor-dashboard.ts";
import { addDays, createFinding, dayOf, updateFinding } from "./vendor-findings.ts";

describeOnBackends("the vendor dashboard", (s) => {
  s.it(
    "counts vendors by tier and review state, overdue reviews, open findings and offboardings",
    async () => {
      const ctx = s.ctx();
      const today = dayOf(new Date());
      const responder = await addAccount(ctx.db, "responder");
      const owner = await addAccount(ctx.db, "analyst", "Olga");
      const reviewed = new Date(Date.now() - 30 * 86_400_000);
      const current = await addVendor(ctx.db, {
        name: "Current",
        risk_tier: "critical",
        last_reviewed_at: reviewed,
        next_review_at: addDays(today, 100),
      });
      const late = await addVendor(ctx.db, {
        name: "Late",
        risk_tier: "critical",
        owner_id: owner.id,
        next_review_at: addDays(today, -3),
      });
      await addVendor(ctx.db, {
        name: "Soon",
        risk_tier: "critical",
        last_reviewed_at: reviewed,
        next_review_at: addDays(today, 10),
      });
      await addVendor(ctx.db, { name: "Unscheduled", risk_tier: "high" });
      await addVendor(ctx.db, { name: "Unrated" });
      const leaving = await addVendor(ctx.db, {
        name: "Leaving",
        risk_tier: "critical",
        next_review_at: addDays(today, -9),
      });
      await addVendor(ctx.db, { name: "Gone", risk_tier: "critical", status: "offboarded" });
      await startOffboarding(ctx, responder.actor, leaving);
      await recordOffboardingStep(ctx, responder.actor, leaving, { step: "keys_revoked" });

      const overdueFinding = await createFinding(ctx, responder.actor, late, {
        title: "SMS codes for support staff",
        severity: "high",
        due_at: addDays(today, -1),
        owner_id: owner.id,
      });
      await createFinding(ctx, responder.actor, current, { title: "No DPA", severity: "critical" });
      await createFinding(ctx, responder.actor, current, {
        title: "Logs kept 90 days",
        severity: "medium",
        due_at: addDays(today, 5),
      });
      const closed = await createFinding(ctx, responder.actor, current, { title: "Old", severity: "low" });
      await updateFinding(ctx, responder.actor, closed.id, { status: "closed" });

      const viewer = await addAccount(ctx.db, "viewer");
      const d = await vendorDashboard(ctx, viewer.actor);
      assert.equal(d.as_of, today);
      assert.deepEqual(d.by_tier, {
        low: { total: 0, reviewed: 0, due_soon: 0, overdue: 0, never_reviewed: 0 },
        medium: { total: 0, reviewed: 0, due_soon: 0, overdue: 0, never_reviewed: 0 },
        high: { total: 1, reviewed: 0, due_soon: 0, overdue: 0, never_reviewed: 1 },
        critical: { total: 3, reviewed: 2, due_soon: 1, overdue: 1, never_reviewed: 1 },
        unrated: { total: 1, reviewed: 0, due_soon: 0, overdue: 0, never_reviewed: 1 },
      });
      assert.deepEqual(d.overdue_reviews, [
        {
          vendor_id: late,
          name: "Late",
          risk_tier: "critical",
          next_review_at: addDays(today, -3),
          owner: { id: owner.id, email: owner.email, display_name: "Olga" },
        },
      ]);
      assert.equal(d.open_findings.total, 3);
      assert.equal(d.open_findings.overdue, 1);
      assert.deepEqual(d.open_findings.by_severity, { low: 0, medium: 1, high: 1, critical: 1 });
      assert.deepEqual(
        d.open_findings.items.map((f) => [f.vendor_name, f.title, f.overdue]),
        [
          ["Late", "SMS codes for support staff", true],
          ["Current", "Logs kept 90 days", false],
          ["Current", "No DPA", false],
        ],
      );
      assert.equal(d.open_findings.items[0]?.id, overdueFinding.id);
      assert.deepEqual(
        d.offboarding.map((o) => [o.vendor_id, o.name, o.done_steps, o.total_steps]),
        [[leaving, "Leaving", 1, 5]],
      );
    },
  );
});
