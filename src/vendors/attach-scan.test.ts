import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { listAudit } from "../audit/audit-log.ts";
import { AppError } from "../lib/errors.ts";
import { tempDir } from "../lib/test-fixtures.ts";
import type { Finding } from "../scan/find-exposures.ts";
import { type ScanSummary, writeScanReport } from "../scan/write-scan-report.ts";
import { attachScan, checkScanUpload, listScans, loadScanDir, scanSeesVendor } from "./attach-scan.ts";
import { createVendor, getVendor } from "./manage-vendors.ts";
import { describeOnStores, responder, viewer } from "./test-inventory.ts";
import { setDeclaredFlows } from "./vendor-flows.ts";

const host = (h: string, vendor: string | null, vendor_id: string | null) => ({
  host: h,
  vendor,
  vendor_id,
  requests: 3,
  failed: 0,
});
const flow = (vendor: string, vendor_id: string, category: string, seen = true) => ({
  vendor,
  vendor_id,
  category,
  declared: false,
  seen,
  seed_fields: ["email"],
});

/** A scan as `blastradius scan --out` writes it (the summary the scanner's own writer produces). */
function summaryOf(scanned_at: string, over: Partial<ScanSummary> = {}): ScanSummary {
  return {
    scanned_at,
    urls: ["https://app.shop.test/"],
    pages: [
      { url: "https://app.shop.test/account?session=secret", loadMs: 80, error: null },
    ] as ScanSummary["pages"],
    requests: 40,
    third_party_requests: 12,
    findings: 0,
    undeclared_flows: 0,
    declared_not_seen: 0,
    flows: [],
    third_party_hosts: [],
    skipped_seed_fields: [],
    truncated_requests: 0,
    user_agent: "Mozilla/5.0",
    inventory: null,
    ...over,
  };
}

describe("scanSeesVendor", () => {
  const summary = {
    third_party_hosts: [
      host("api-js.mixpanel.com", "Mixpanel", "mixpanel"),
      host("cdn.tiny.example", null, null),
    ],
    flows: [flow("Hotjar", "hotjar", "user.contact.email"), flow("Sentry", "sentry", "user.name", false)],
  };
  it("sees a vendor by catalogue id, name or domain, in hosts or seen flows", () => {
    const sees = (v: { name: string; catalogue_id?: string; domains?: string[] }) =>
      scanSeesVendor(summary, {
        name: v.name,
        catalogue_id: v.catalogue_id ?? null,
        domains: v.domains ?? [],
      });
    assert.equal(sees({ name: "Analytics", catalogue_id: "mixpanel" }), true);
    assert.equal(sees({ name: "MIXPANEL" }), true);
    assert.equal(sees({ name: "Tiny", domains: ["tiny.example"] }), true);
    assert.equal(sees({ name: "hotjar" }), true, "a seen flow's vendor id");
    assert.equal(
      sees({ name: "Sentry", catalogue_id: "sentry" }),
      false,
      "declared but not seen is not seen",
    );
    assert.equal(sees({ name: "Segment", catalogue_id: "segment", domains: ["segment.io"] }), false);
    assert.equal(sees({ name: "Shop", domains: ["ny.example"] }), false, "a domain matches whole labels");
  });
});

describe("checkScanUpload", () => {
  it("keeps the summary without pages, and names a wrong field", () => {
    const { summary } = checkScanUpload(summaryOf("2026-03-01T11:00:00+01:00"));
    assert.equal(summary.scanned_at, "2026-03-01T10:00:00.000Z");
    assert.equal("pages" in summary, false);
    assert.equal(JSON.stringify(summary).includes("session=secret"), false);
    const bad = (body: unknown, message: RegExp) =>
      assert.throws(
        () => checkScanUpload(body, "summary.json"),
        (e: unknown) => e instanceof AppError && e.code === "BAD_INPUT" && message.test(e.message),
      );
    bad({ ...summaryOf("yesterday") }, /^summary\.json: scanned_at: an ISO-8601 time/);
    bad({ ...summaryOf("2026-03-01T10:00:00Z"), urls: [] }, /^summary\.json: urls:/);
    bad(
      { ...summaryOf("2026-03-01T10:00:00Z"), flows: [{ vendor: "x" }] },
      /^summary\.json: flows\.0\.vendor_id: required/,
    );
    bad([], /^summary\.json: \(top level\):/);
  });
});

describeOnStores("attaching scans", (store) => {
  it("marks declared flows seen, adds undeclared ones, reports vendors not in the inventory", async (t) => {
    if (store.skipped(t)) return;
    const ctx = store.ctx();
    const mixpanel = await createVendor(ctx, responder, {
      name: "Product Analytics",
      catalogue_id: "mixpanel",
    });
    await setDeclaredFlows(ctx, responder, mixpanel.id, [
      { category: "user.contact", surface: "web" },
      { category: "user.unique_id", surface: "server" },
    ]);
    const tiny = await createVendor(ctx, responder, { name: "Tiny Widgets", domains: ["tiny.example"] });
    const dir = path.join(await tempDir("blastradius-scan-"), "out");
    await mkdir(dir);
    const findings: Finding[] = [
      {
        vendor: "tiny.example",
        vendor_id: "site:tiny.example",
        vendor_category: null,
        host: "w.tiny.example",
        url: "https://w.tiny.example/collect?name=Dana",
        method: "GET",
        category: "user.name",
        seed_field: "name",
        chain: ["query:name"],
        declared: false,
        first_party_proxy: false,
        resource_type: "fetch",
        page: "https://app.shop.test/account",
        requests: 1,
      },
    ];
    await writeScanReport(
      dir,
      summaryOf("2026-03-01T10:00:00Z", {
        flows: [
          flow("Mixpanel", "mixpanel", "user.contact.email"),
          flow("Mixpanel", "mixpanel", "user.unique_id"),
          flow("tiny.example", "site:tiny.example", "user.name"),
          flow("Hotjar", "hotjar", "user.contact.email"),
          flow("Mixpanel", "mixpanel", "user.financial", false),
        ],
        third_party_hosts: [
          host("api-js.mixpanel.com", "Mixpanel", "mixpanel"),
          host("w.tiny.example", null, null),
          host("script.hotjar.com", "Hotjar", "hotjar"),
          host("fonts.unknown.example", null, null),
        ],
      }),
      findings,
    );
    const upload = await loadScanDir(dir);
    const attached = await attachScan(ctx, responder, upload, dir);
    assert.deepEqual(attached.vendors, [
      { id: mixpanel.id, name: "Product Analytics", seen: 1, undeclared: 1 },
      { id: tiny.id, name: "Tiny Widgets", seen: 0, undeclared: 1 },
    ]);
    assert.deepEqual(attached.unknown_vendors, [
      {
        vendor: "Hotjar",
        vendor_id: "hotjar",
        hosts: ["script.hotjar.com"],
        categories: ["user.contact.email"],
      },
      {
        vendor: "unknown.example",
        vendor_id: "site:unknown.example",
        hosts: ["fonts.unknown.example"],
        categories: [],
      },
    ]);
    const m = await getVendor(ctx, viewer, mixpanel.id);
    assert.deepEqual(
      m.flows.map((f) => [f.category, f.surface, f.declared, f.state, f.last_seen_at]),
      [
        ["user.contact", "web", true, "seen", "2026-03-01T10:00:00.000Z"],
        // a server flow: no browser scan can see it, so the web sighting is a flow of its own
        ["user.unique_id", "web", false, "undeclared", "2026-03-01T10:00:00.000Z"],
        ["user.unique_id", "server", true, "declared", null],
      ],
    );
    const w = await getVendor(ctx, viewer, tiny.id);
    assert.deepEqual(
      w.flows.map((f) => [f.category, f.surface, f.state]),
      [["user.name", "web", "undeclared"]],
    );
    assert.equal(w.risk_tier, "high", "the undeclared name it was seen receiving rates it");

    const stored = await ctx.db.query<{ summary: Record<string, unknown> }>(
      "SELECT summary FROM vendor_scans",
    );
    assert.deepEqual(Object.keys(stored.rows[0]?.summary ?? {}).sort(), [
      "flows",
      "requests",
      "scanned_at",
      "third_party_hosts",
      "third_party_requests",
      "urls",
    ]);
    const events = await listAudit(ctx.db, { action: "vendor.scan.attach" });
    assert.deepEqual(
      events.map((e) => [e.subject, e.detail]),
      [[`vendor_scan:${attached.scan.id}`, { vendors: 2, flows_seen: 1, undeclared: 2, unknown_vendors: 2 }]],
    );

    await assert.rejects(
      attachScan(ctx, responder, upload),
      (e: unknown) => e instanceof AppError && e.code === "CONFLICT" && e.message.includes(attached.scan.id),
    );

    // An older scan attached later is listed below the newer one and does not move "last seen" back.
    const older = await attachScan(ctx, responder, {
      ...summaryOf("2026-02-01T10:00:00Z"),
      flows: [
        flow("Mixpanel", "mixpanel", "user.contact.email"),
        flow("Mixpanel", "mixpanel", "user.unique_id"),
      ],
    });
    const m2 = await getVendor(ctx, viewer, mixpanel.id);
    assert.deepEqual(
      m2.flows.map((f) => [f.category, f.surface, f.last_seen_at, f.last_seen_scan_id]),
      [
        ["user.contact", "web", "2026-03-01T10:00:00.000Z", attached.scan.id],
        ["user.unique_id", "web", "2026-03-01T10:00:00.000Z", attached.scan.id],
        ["user.unique_id", "server", null, null],
      ],
    );
    const scans = await listScans(ctx, viewer, { vendorId: tiny.id });
    assert.deepEqual(
      scans.map((s) => [s.id, s.flows_seen, s.sees_vendor]),
      [
        [attached.scan.id, 4, true],
        [older.scan.id, 2, false],
      ],
    );
    assert.equal((await listScans(ctx, viewer))[0]?.attached_by, "token:responder");
    await assert.rejects(
      attachScan(ctx, viewer, summaryOf("2026-05-01T00:00:00Z")),
      (e: unknown) => e instanceof AppError && e.code === "FORBIDDEN",
    );
  });

  it("says which file is missing or broken in a scan folder", async () => {
    const dir = await tempDir("blastradius-scan-");
    await assert.rejects(
      loadScanDir(dir),
      (e: unknown) => e instanceof AppError && /summary\.json: cannot read \(ENOENT\)/.test(e.message),
    );
  });
});
