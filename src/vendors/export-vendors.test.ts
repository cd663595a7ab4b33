import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { listAudit } from "../audit/audit-log.ts";
import { AppError } from "../lib/errors.ts";
import { attachScan } from "./attach-scan.ts";
import { exportFormat, exportVendors } from "./export-vendors.ts";
import { importVendors, parseImport } from "./import-vendors.ts";
import { createVendor, listVendors, updateVendor } from "./manage-vendors.ts";
import { describeOnStores, responder, viewer } from "./test-inventory.ts";
import { parseVendorRecords } from "./vendor-file.ts";
import { setDeclaredFlows } from "./vendor-flows.ts";

describe("exportFormat", () => {
  it("defaults to yaml and refuses other formats by name", () => {
    assert.equal(exportFormat(undefined, "--format"), "yaml");
    assert.equal(exportFormat("fides", "--format"), "fides");
    assert.throws(
      () => exportFormat("csv", "--format"),
      (e: unknown) =>
        e instanceof AppError && e.code === "USAGE" && /--format must be one of yaml, fides/.test(e.message),
    );
  });
});

describeOnStores("vendors export", (store) => {
  it("writes every vendor so that importing the export changes nothing", async (t) => {
    if (store.skipped(t)) return;
    const ctx = store.ctx();
    await store.account("owner@example.com", "Owner");
    const full = await createVendor(ctx, responder, {
      name: "Mixpanel",
      catalogue_id: "mixpanel",
      description: "Product analytics: events and profiles",
      website: "https://mixpanel.com",
      domains: ["mixpanel.com"],
      purposes: ["product analytics", "funnels, retention"],
      processing_locations: ["US", "NL"],
      sub_processors: [{ name: "Google Cloud", purpose: "hosting", location: "US" }, { name: "Snowflake" }],
      contract_ref: "MSA-2023-114",
      dpa_ref: "DPA-2023-114",
      certifications: ["SOC 2 Type II", "ISO 27001"],
      incident_contact: "https://mixpanel.example/security",
      breach_notice_hours: 48,
      access: "reads",
      people_count: 1_200_000,
      risk_tier: "critical",
      requirement_set: "elevated",
      owner_email: "owner@example.com",
      review_interval_days: 180,
      next_review_at: "2026-12-01",
      status: "under_review",
      notes: "Line one.\nLine two: with a colon.",
    });
    await setDeclaredFlows(ctx, responder, full.id, [
      { category: "user.contact.email", fields: ["$email", "properties.email"], surface: "web" },
      { category: "user.unique_id", surface: "server" },
      { category: "user.device" },
    ]);
    await createVendor(ctx, responder, { name: "Bare Co" });
    const offboarded = await createVendor(ctx, responder, { name: "Yes", status: "offboarded" });
    await updateVendor(ctx, responder, offboarded.id, { processing_locations: ["NO"] });
    // What a scan saw but nobody declared is evidence, not declaration: it is not exported.
    await attachScan(ctx, responder, {
      scanned_at: "2026-03-01T10:00:00Z",
      urls: ["https://app.test/"],
      flows: [{ vendor: "Mixpanel", vendor_id: "mixpanel", category: "user.name", seen: true }],
      third_party_hosts: [],
    });

    const before = await listVendors(ctx, viewer);
    const audit = (await listAudit(ctx.db, { limit: 1000 })).length;
    const { text, count } = await exportVendors(ctx, viewer, "yaml");
    assert.equal(count, 3);
    const records = parseVendorRecords(text, "export.yaml");
    assert.deepEqual(
      records.map((r) => r.name),
      ["Bare Co", "Mixpanel", "Yes"],
    );
    const mixpanel = records[1];
    assert.equal(mixpanel?.risk_tier, "critical", "the override, not the computed tier");
    assert.equal(mixpanel?.owner, "owner@example.com");
    assert.deepEqual(
      mixpanel?.data?.map((f) => f.category),
      ["user.contact.email", "user.device", "user.unique_id"],
    );
    assert.deepEqual(records[2]?.processing_locations, ["NO"], "Norway stays a country, not false");

    const result = await importVendors(ctx, responder, parseImport(text, "export.yaml").items);
    assert.deepEqual([result.created, result.updated, result.unchanged], [0, 0, 3]);
    assert.deepEqual(await listVendors(ctx, viewer), before);
    assert.equal((await listAudit(ctx.db, { limit: 1000 })).length, audit);
  });
});
