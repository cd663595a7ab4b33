import assert from "node:assert/strict";
import { getOffboarding, recordOffboardingStep, startOffboarding } from "./offboarding.ts";
import { listQuestionnaires, sendQuestionnaire } from "./questionnaires.ts";
import {
  addAccount,
  addScan,
  addVendor,
  auditActions,
  describeOnBackends,
  type ScanHost,
} from "./test-review-store.ts";

const analytics: ScanHost = {
  host: "www.google-analytics.com",
  vendor: "Google Analytics",
  vendor_id: "google-analytics",
};

describeOnBackends("offboarding", (s) => {
  s.it(
    "refuses integration_removed without a scan that proves it, then ends with the vendor offboarded",
    async () => {
      const ctx = s.ctx();
      const responder = await addAccount(ctx.db, "responder");
      const vendor = await addVendor(ctx.db, {
        name: "Mixpanel",
        catalogue_id: "mixpanel",
        domains: ["mixpanel.com"],
        requirement_set: "baseline",
        risk_tier: "high",
      });
      await assert.rejects(recordOffboardingStep(ctx, responder.actor, vendor, { step: "keys_revoked" }), {
        code: "CONFLICT",
        message: 'vendor "Mixpanel" is active: start offboarding first',
      });
      const oldScan = await addScan(ctx.db, { hosts: [analytics] }, 60);
      await sendQuestionnaire(ctx, responder.actor, vendor);

      const started = await startOffboarding(ctx, responder.actor, vendor);
      assert.equal(started.status, "offboarding");
      assert.ok(started.started_at);
      assert.equal(started.done_steps, 0);
      assert.equal(started.total_steps, 5);
      assert.equal((await listQuestionnaires(ctx, responder.actor, vendor))[0]?.status, "revoked");
      await assert.rejects(startOffboarding(ctx, responder.actor, vendor), { code: "CONFLICT" });

      await assert.rejects(
        recordOffboardingStep(ctx, responder.actor, vendor, { step: "integration_removed" }),
        {
          code: "BAD_INPUT",
          message: /^scan_id: integration_removed needs a scan that no longer sees Mixpanel/,
        },
      );
      await assert.rejects(
        recordOffboardingStep(ctx, responder.actor, vendor, {
          step: "integration_removed",
          scan_id: oldScan,
        }),
        {
          code: "BAD_INPUT",
          message: new RegExp(`^scan_id: scan ${oldScan} was attached at .* before offboarding started`),
        },
      );
      const bySdkHost = await addScan(ctx.db, {
        hosts: [analytics, { host: "api-js.mixpanel.com", vendor: null, vendor_id: null }],
      });
      await assert.rejects(
        recordOffboardingStep(ctx, responder.actor, vendor, {
          step: "integration_removed",
          scan_id: bySdkHost,
        }),
        { code: "BAD_INPUT", message: new RegExp(`^scan_id: scan ${bySdkHost} still sees Mixpanel`) },
      );
      const byFlow = await addScan(ctx.db, {
        flows: [{ vendor: "Mixpanel", vendor_id: "mixpanel", category: "user.contact.email", seen: true }],
      });
      await assert.rejects(
        recordOffboardingStep(ctx, responder.actor, vendor, { step: "integration_removed", scan_id: byFlow }),
        { message: /still sees Mixpanel/ },
      );
      await assert.rejects(
        recordOffboardingStep(ctx, responder.actor, vendor, {
          step: "integration_removed",
          scan_id: "00000000-0000-4000-8000-000000000000",
        }),
        { message: "scan_id: no attached scan 00000000-0000-4000-8000-000000000000" },
      );

      const clean = await addScan(ctx.db, {
        hosts: [analytics],
        // a declared flow the scan did not see is no sign of the vendor
        flows: [{ vendor: "Mixpanel", vendor_id: "mixpanel", category: "user.contact.email", seen: false }],
      });
      const removed = await recordOffboardingStep(ctx, responder.actor, vendor, {
        step: "integration_removed",
        scan_id: clean,
        note: "SDK removed in web 4.2",
      });
      const step = removed.steps.find((x) => x.step === "integration_removed");
      assert.equal(step?.done, true);
      assert.equal(step?.scan_id, clean);
      assert.equal(step?.done_by, responder.id);
      assert.equal(step?.done_by_label, responder.actor.label);
      assert.equal(step?.note, "SDK removed in web 4.2");
      await assert.rejects(
        recordOffboardingStep(ctx, responder.actor, vendor, { step: "integration_removed", scan_id: clean }),
        { code: "CONFLICT", message: /^step: integration_removed was recorded already/ },
      );

      await assert.rejects(
        recordOffboardingStep(ctx, responder.actor, vendor, { step: "deletion_certificate" }),
        {
          code: "CONFLICT",
          message: "step: deletion_certificate needs deletion_requested to be recorded first",
        },
      );
      await assert.rejects(
        recordOffboardingStep(ctx, responder.actor, vendor, { step: "keys_revoked", scan_id: clean }),
        { message: "scan_id: only for the integration_removed step" },
      );
      await assert.rejects(recordOffboardingStep(ctx, responder.actor, vendor, { step: "forgotten" }), {
        message: /^step: one of integration_removed, keys_revoked/,
      });
      for (const name of ["keys_revoked", "deletion_requested", "deletion_certificate"]) {
        const o = await recordOffboardingStep(ctx, responder.actor, vendor, { step: name });
        assert.equal(o.status, "offboarding");
      }
      const last = await recordOffboardingStep(ctx, responder.actor, vendor, {
        step: "contract_ended",
        note: "terminated as of 2026-01-31",
      });
      assert.equal(last.status, "offboarded");
      assert.equal(last.done_steps, 5);
      const shown = await getOffboarding(ctx, responder.actor, vendor);
      assert.equal(shown.status, "offboarded");
      assert.ok(shown.steps.every((x) => x.done && x.done_at));
      await assert.rejects(recordOffboardingStep(ctx, responder.actor, vendor, { step: "keys_revoked" }), {
        code: "CONFLICT",
        message: 'vendor "Mixpanel" is offboarded already',
      });
      const actions = await auditActions(ctx.db, `vendor:${vendor}`);
      assert.deepEqual(actions.slice(actions.indexOf("vendor.offboarding.start")), [
        "vendor.offboarding.start",
        "vendor.offboarding.step",
        "vendor.offboarding.step",
        "vendor.offboarding.step",
        "vendor.offboarding.step",
        "vendor.offboarding.step",
        "vendor.offboarded",
      ]);
    },
  );

  s.it("needs a responder to change and a viewer to read", async () => {
    const ctx = s.ctx();
    const viewer = await addAccount(ctx.db, "viewer");
    const vendor = await addVendor(ctx.db);
    await assert.rejects(startOffboarding(ctx, viewer.actor, vendor), { code: "FORBIDDEN" });
    const o = await getOffboarding(ctx, viewer.actor, vendor);
    assert.equal(o.started_at, null);
    assert.deepEqual(
      o.steps.map((x) => x.step),
      ["integration_removed", "keys_revoked", "deletion_requested", "deletion_certificate", "contract_ended"],
    );
  });
});
