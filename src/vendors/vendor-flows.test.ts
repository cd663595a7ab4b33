import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { listAudit } from "../audit/audit-log.ts";
import { AppError } from "../lib/errors.ts";
import { attachScan } from "./attach-scan.ts";
import { createVendor, getVendor } from "./manage-vendors.ts";
import { describeOnStores, responder, viewer } from "./test-inventory.ts";
import { checkDeclaredFlows, listVendorFlows, setDeclaredFlows } from "./vendor-flows.ts";
import { flowState } from "./vendor-store.ts";

const bad = (message: RegExp) => (e: unknown) =>
  e instanceof AppError && e.code === "BAD_INPUT" && message.test(e.message);

describe("checkDeclaredFlows", () => {
  it("normalises a declared list and names the entry that is wrong", () => {
    assert.deepEqual(checkDeclaredFlows([{ category: "user.contact.email", fields: ["$email", "$email"] }]), [
      { category: "user.contact.email", fields: ["$email"], surface: null },
    ]);
    assert.throws(() => checkDeclaredFlows([{ category: "Email" }]), bad(/^flows\.0\.category: a fideslang/));
    assert.throws(
      () => checkDeclaredFlows([{ category: "user.name" }, { category: "user.name", surface: "tv" }]),
      bad(/^flows\.1\.surface:/),
    );
    assert.throws(
      () =>
        checkDeclaredFlows([
          { category: "user.name", surface: "web" },
          { category: "user.name", surface: "web" },
        ]),
      bad(/^flows\.1: user\.name on web is listed twice/),
    );
    assert.throws(() => checkDeclaredFlows([{ category: "user.name", via: "x" }]), bad(/unknown key via/));
  });

  it("gives each flow its state from the latest scan", () => {
    assert.equal(flowState({ declared: true, last_seen_scan_id: "s2" }, "s2"), "seen");
    assert.equal(flowState({ declared: true, last_seen_scan_id: "s1" }, "s2"), "declared");
    assert.equal(flowState({ declared: true, last_seen_scan_id: null }, null), "declared");
    assert.equal(flowState({ declared: false, last_seen_scan_id: "s1" }, "s2"), "undeclared");
  });
});

const scan = (scanned_at: string, flows: Array<{ vendor: string; vendor_id: string; category: string }>) => ({
  scanned_at,
  urls: ["https://app.shop.test/"],
  flows: flows.map((f) => ({ ...f, declared: false, seen: true, seed_fields: ["email"] })),
  third_party_hosts: [],
});

describeOnStores("a vendor's flows", (store) => {
  it("replaces the declared set, keeps what scans saw, and states each flow", async (t) => {
    if (store.skipped(t)) return;
    const ctx = store.ctx();
    const v = await createVendor(ctx, responder, { name: "Flowing", catalogue_id: "flowing" });
    const first = await setDeclaredFlows(ctx, responder, v.id, [
      { category: "user.contact.email", fields: ["$email"], surface: "web" },
      { category: "user.unique_id" },
      { category: "user.financial", surface: "batch" },
    ]);
    assert.deepEqual(
      first.map((f) => [f.category, f.surface, f.fields, f.state]),
      [
        ["user.contact.email", "web", ["$email"], "declared"],
        ["user.financial", "batch", [], "declared"],
        ["user.unique_id", null, [], "declared"],
      ],
    );
    assert.equal((await getVendor(ctx, viewer, v.id)).risk_tier, "critical");

    await attachScan(
      ctx,
      responder,
      scan("2026-03-01T10:00:00Z", [
        { vendor: "Flowing", vendor_id: "flowing", category: "user.contact.email" },
        { vendor: "Flowing", vendor_id: "flowing", category: "user.device.ip_address" },
      ]),
    );
    const seen = await listVendorFlows(ctx, viewer, v.id);
    assert.deepEqual(
      seen.map((f) => [f.category, f.surface, f.state]),
      [
        ["user.contact.email", "web", "seen"],
        ["user.device.ip_address", "web", "undeclared"],
        ["user.financial", "batch", "declared"],
        ["user.unique_id", null, "declared"],
      ],
    );

    // Drop email (seen: stays as undeclared) and financial (never seen: gone); declare the IP address.
    const after = await setDeclaredFlows(ctx, responder, v.id, [
      { category: "user.unique_id" },
      { category: "user.device.ip_address", surface: "web", fields: ["ip"] },
    ]);
    assert.deepEqual(
      after.map((f) => [f.category, f.surface, f.declared, f.state, f.fields]),
      [
        ["user.contact.email", "web", false, "undeclared", ["$email"]],
        ["user.device.ip_address", "web", true, "seen", ["ip"]],
        ["user.unique_id", null, true, "declared", []],
      ],
    );
    assert.equal(
      (await getVendor(ctx, viewer, v.id)).risk_tier,
      "high",
      "the email it was seen receiving still counts",
    );

    // A newer scan that does not see the vendor: nothing is "seen" by the latest scan any more.
    await attachScan(ctx, responder, scan("2026-04-01T10:00:00Z", []));
    assert.deepEqual(
      (await listVendorFlows(ctx, viewer, v.id)).map((f) => f.state),
      ["undeclared", "declared", "declared"],
    );
  });

  it("audits a change once and a repeat not at all", async (t) => {
    if (store.skipped(t)) return;
    const ctx = store.ctx();
    const v = await createVendor(ctx, responder, { name: "Audited flows" });
    const flows = [{ category: "user.name", surface: "server" }];
    await setDeclaredFlows(ctx, responder, v.id, flows);
    await setDeclaredFlows(ctx, responder, v.id, flows);
    const events = await listAudit(ctx.db, { subject: `vendor:${v.id}`, action: "vendor.flow.declare" });
    assert.deepEqual(
      events.map((e) => e.detail),
      [{ added: 1, changed: 0, removed: 0, declared: 1 }],
    );
    await assert.rejects(
      setDeclaredFlows(ctx, viewer, v.id, flows),
      (e: unknown) => e instanceof AppError && e.code === "FORBIDDEN",
    );
    await assert.rejects(
      listVendorFlows(ctx, viewer, "00000000-0000-4000-8000-000000000000"),
      (e: unknown) => e instanceof AppError && e.code === "NOT_FOUND",
    );
  });
});
