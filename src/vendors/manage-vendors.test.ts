import assert from "node:assert/strict";
import { it } from "node:test";
import { listAudit } from "../audit/audit-log.ts";
import { AppError } from "../lib/errors.ts";
import { createVendor, getVendor, listVendors, updateVendor } from "./manage-vendors.ts";
import { describeOnStores, responder, viewer } from "./test-inventory.ts";
import { setDeclaredFlows } from "./vendor-flows.ts";

const code = (c: string, message?: RegExp) => (e: unknown) =>
  e instanceof AppError && e.code === c && (message === undefined || message.test(e.message));

describeOnStores("the vendor record", (store) => {
  it("keeps every field of the record, and shows the owner by email and name", async (t) => {
    if (store.skipped(t)) return;
    const ctx = store.ctx();
    const owner = await store.account("lead@example.com", "Lead Person");
    const v = await createVendor(ctx, responder, {
      name: "  Mixpanel ",
      description: "Product analytics",
      website: "https://mixpanel.com",
      catalogue_id: "mixpanel",
      domains: ["Mixpanel.com.", "mxpnl.com"],
      purposes: ["product analytics"],
      processing_locations: ["us", "DE", "US"],
      sub_processors: [{ name: "Google Cloud", purpose: "hosting", location: "us" }],
      contract_ref: "MSA-2023-114",
      dpa_ref: "DPA-2023-114",
      certifications: ["SOC 2 Type II", "ISO 27001"],
      incident_contact: "security@mixpanel.example",
      breach_notice_hours: 72,
      access: "receives",
      people_count: 1_200_000,
      requirement_set: "baseline",
      owner_email: "LEAD@example.com",
      review_interval_days: 365,
      next_review_at: "2027-01-15",
      notes: "n",
    });
    assert.equal(v.name, "Mixpanel");
    assert.deepEqual(v.domains, ["mixpanel.com", "mxpnl.com"]);
    assert.deepEqual(v.processing_locations, ["US", "DE"]);
    assert.deepEqual(v.sub_processors, [{ name: "Google Cloud", purpose: "hosting", location: "US" }]);
    assert.equal(v.people_count, 1_200_000);
    assert.equal(v.breach_notice_hours, 72);
    assert.equal(v.next_review_at, "2027-01-15");
    assert.equal(v.owner_id, owner);
    assert.equal(v.owner_email, "lead@example.com");
    assert.equal(v.owner_name, "Lead Person");
    assert.equal(v.status, "active");
    assert.equal(v.last_reviewed_at, null);
    assert.equal(v.offboarding_started_at, null);
    assert.deepEqual(v.flows, []);
    // No categories yet: low, raised a step by 1.2 million people.
    assert.equal(v.risk_tier, "medium");
    assert.equal(v.risk_tier_override, null);
    assert.match(v.risk_reason ?? "", /1,200,000 people/);
    assert.deepEqual(await getVendor(ctx, viewer, v.id), v);
    assert.ok((await listVendors(ctx, viewer)).some((x) => x.id === v.id));
  });

  it("recomputes the tier when flows, people, access or the override change", async (t) => {
    if (store.skipped(t)) return;
    const ctx = store.ctx();
    const v = await createVendor(ctx, responder, { name: "Tiered" });
    assert.equal(v.risk_tier, null, "nothing known: not rated");
    await setDeclaredFlows(ctx, responder, v.id, [{ category: "user.device.cookie_id", surface: "web" }]);
    assert.equal((await getVendor(ctx, viewer, v.id)).risk_tier, "medium");
    assert.equal((await updateVendor(ctx, responder, v.id, { people_count: 5_000_000 })).risk_tier, "high");
    assert.equal((await updateVendor(ctx, responder, v.id, { access: "writes" })).risk_tier, "critical");
    assert.equal((await updateVendor(ctx, responder, v.id, { people_count: 10 })).risk_tier, "medium");
    const overridden = await updateVendor(ctx, responder, v.id, { risk_tier: "low" });
    assert.equal(overridden.risk_tier, "low");
    assert.equal(overridden.risk_tier_override, "low");
    assert.match(overridden.risk_reason ?? "", /^Set by hand to low \(computed: medium\)/);
    const cleared = await updateVendor(ctx, responder, v.id, { risk_tier: null });
    assert.equal(cleared.risk_tier, "medium");
    assert.equal(cleared.risk_tier_override, null);
  });

  it("refuses bad values, naming the field", async (t) => {
    if (store.skipped(t)) return;
    const ctx = store.ctx();
    const v = await createVendor(ctx, responder, { name: "Checked" });
    const bad = async (input: Record<string, unknown>, message: RegExp) =>
      assert.rejects(updateVendor(ctx, responder, v.id, input), code("BAD_INPUT", message));
    await bad({ processing_locations: ["DE", "XX"] }, /^processing_locations\.1: an ISO 3166-1 alpha-2/);
    await bad({ processing_locations: ["DEU"] }, /^processing_locations\.0:/);
    await bad({ incident_contact: "call Bob" }, /^incident_contact: an email address/);
    await bad({ owner_email: "nobody@example.com" }, /^owner_email: no account has the email/);
    await bad({ owner_email: "not an email" }, /^owner_email: an email address/);
    await bad({ breach_notice_hours: 0 }, /^breach_notice_hours: more than 0 hours/);
    await bad({ breach_notice_hours: 1.5 }, /^breach_notice_hours: a whole number/);
    await bad({ access: "root" }, /^access: one of receives, reads, writes, admin/);
    await bad({ people_count: -1 }, /^people_count:/);
    await bad({ next_review_at: "2027-02-30" }, /^next_review_at: a date/);
    await bad({ sub_processors: [{ name: "X", location: "Mars" }] }, /^sub_processors\.0\.location:/);
    await bad({ domains: ["not a domain"] }, /^domains\.0: a domain name/);
    await bad({ requirement_set: "Elevated!" }, /^requirement_set:/);
    await bad({ colour: "red" }, /unknown field colour/);
    // Nothing was written by the refused changes.
    assert.deepEqual((await getVendor(ctx, viewer, v.id)).processing_locations, []);
  });

  it("keeps names unique whatever their case, and audits each change", async (t) => {
    if (store.skipped(t)) return;
    const ctx = store.ctx();
    const v = await createVendor(ctx, responder, { name: "Segment" });
    await assert.rejects(createVendor(ctx, responder, { name: "segment" }), code("CONFLICT", /^name:/));
    await assert.rejects(createVendor(ctx, viewer, { name: "Other" }), code("FORBIDDEN"));
    await updateVendor(ctx, responder, v.id, { purposes: ["customer data"], status: "under_review" });
    const events = (await listAudit(ctx.db, { limit: 1000 })).filter((e) => e.subject === `vendor:${v.id}`);
    assert.deepEqual(
      events.map((e) => [e.action, e.detail]),
      [
        ["vendor.create", {}],
        ["vendor.update", { fields: ["purposes", "status"] }],
      ],
    );
  });
});
