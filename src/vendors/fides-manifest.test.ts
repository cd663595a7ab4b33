import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { AppError } from "../lib/errors.ts";
import { exportVendors } from "./export-vendors.ts";
import { fidesKeyFor, parseFidesManifest } from "./fides-manifest.ts";
import { importVendors, parseImport } from "./import-vendors.ts";
import { getVendor } from "./manage-vendors.ts";
import { describeOnStores, responder, viewer } from "./test-inventory.ts";

/** A manifest as a team using Fides keeps it, with the parts the inventory does not read. */
const MANIFEST = `system:
  - fides_key: demo_analytics_system
    name: Demo Analytics System
    description: A system used for analyzing customer behaviour.
    system_type: Service
    administrating_department: Engineering
    organization_fides_key: default_organization
    egress:
      - fides_key: demo_marketing_system
        type: system
        data_categories: [user.device.cookie_id]
    privacy_declarations:
      - name: Analyze customer behaviour for improvements.
        data_categories: [user.contact, user.device.cookie_id]
        data_use: functional.service.improve
        data_subjects: [customer]
        dataset_references: [demo_users_dataset]
    third_country_transfers: [USA, CAN]
  - fides_key: demo_marketing_system
    name: Demo Marketing System
    description: Collect data about our users for marketing.
    system_type: Service
    privacy_declarations:
      - name: Ads
        data_categories: [user.device.cookie_id, user.location.coarse]
        data_use: marketing.advertising
        data_subjects: [customer]
      - name: Newsletters
        data_categories: [user.contact.email, user.device.cookie_id]
        data_use: marketing.communications.email
        data_subjects: [customer]
    dpa_location: https://dpa.marketing.example/2024
dataset:
  - fides_key: demo_users_dataset
    collections: []
`;

type System = {
  fides_key: string;
  name: string;
  description?: string;
  system_type: string;
  privacy_declarations: Array<{
    name: string;
    data_categories: string[];
    data_use: string;
    data_subjects?: string[];
  }>;
  third_country_transfers?: string[];
  dpa_location?: string;
};
const systemsOf = (text: string) => (parseYaml(text) as { system: System[] }).system;
const byKey = (systems: System[]) => new Map(systems.map((s) => [s.fides_key, s]));
const categoriesOf = (s: System) =>
  [...new Set(s.privacy_declarations.flatMap((d) => d.data_categories))].sort();
const usesOf = (s: System) => s.privacy_declarations.map((d) => d.data_use).sort();

const bad = (message: RegExp) => (e: unknown) =>
  e instanceof AppError && e.code === "BAD_INPUT" && message.test(e.message);

describe("fides manifests", () => {
  it("read each system as a vendor: categories on every surface, uses as purposes, alpha-2 locations", () => {
    const { records, warnings } = parseFidesManifest(parseYaml(MANIFEST), "fides.yaml");
    assert.deepEqual(records[0], {
      name: "Demo Analytics System",
      description: "A system used for analyzing customer behaviour.",
      purposes: ["functional.service.improve"],
      processing_locations: ["US", "CA"],
      data: [
        { category: "user.contact", fields: [], surface: null },
        { category: "user.device.cookie_id", fields: [], surface: null },
      ],
    });
    assert.deepEqual(records[1]?.purposes, ["marketing.advertising", "marketing.communications.email"]);
    assert.equal(records[1]?.dpa_ref, "https://dpa.marketing.example/2024");
    assert.equal(records[1]?.processing_locations, undefined, "no transfers given: left as it is");
    assert.deepEqual(warnings, [
      "fides.yaml: ignored dataset (only system resources are read)",
      "fides.yaml: system.1: its declarations give different categories to different data uses; the inventory keeps the categories and the uses, and an export gives every use every category",
    ]);
  });

  it("derives the key from the name, and warns when a system's key is not that", () => {
    assert.equal(fidesKeyFor("Demo Analytics System"), "demo_analytics_system");
    assert.equal(fidesKeyFor("Google Analytics 4 (GA4)"), "google_analytics_4_ga4");
    assert.equal(fidesKeyFor("***"), "vendor");
    const { records, warnings } = parseFidesManifest(
      {
        system: [{ fides_key: "crm_1", name: "The CRM", privacy_declarations: [] }, { fides_key: "billing" }],
      },
      "m.yaml",
    );
    assert.deepEqual(
      records.map((r) => r.name),
      ["The CRM", "billing"],
    );
    assert.deepEqual(warnings, [
      "m.yaml: system.0: fides_key crm_1 is not derived from the name; an export writes it as the_crm",
    ]);
  });

  it("names the system and field that is wrong", () => {
    const fail = (system: unknown, message: RegExp) =>
      assert.throws(() => parseFidesManifest({ system: [system] }, "m.yaml"), bad(message));
    fail({ name: "x" }, /^m\.yaml: system\.0\.fides_key: required/);
    fail({ fides_key: "a b" }, /^m\.yaml: system\.0\.fides_key: a fides_key/);
    fail(
      { fides_key: "a", third_country_transfers: ["USA", "XYZ"] },
      /^m\.yaml: system\.0\.third_country_transfers\.1: "XYZ"/,
    );
    fail(
      { fides_key: "a", privacy_declarations: [{ data_categories: ["User Email"], data_use: "x" }] },
      /^m\.yaml: system\.0\.privacy_declarations\.0\.data_categories\.0: a fideslang category key/,
    );
    fail(
      { fides_key: "a", privacy_declarations: [{ data_categories: [] }] },
      /privacy_declarations\.0\.data_use: required/,
    );
    assert.throws(() => parseFidesManifest({ systems: [] }, "m.yaml"), bad(/^m\.yaml: system: required/));
    assert.throws(
      () =>
        parseFidesManifest(
          {
            system: [
              { fides_key: "a", name: "X" },
              { fides_key: "b", name: "x" },
            ],
          },
          "m.yaml",
        ),
      bad(/system\.1: the name "x" is also system\.0's/),
    );
  });
});

describeOnStores("a Fides manifest through the inventory", (store) => {
  it("round-trips its systems and categories: import, export as Fides, same systems, uses and categories", async (t) => {
    if (store.skipped(t)) return;
    const ctx = store.ctx();
    const { items, warnings } = parseImport(MANIFEST, "fides.yaml");
    const imported = await importVendors(ctx, responder, items, { warnings });
    assert.equal(imported.created, 2);
    assert.equal(imported.warnings.length, 2);
    const analytics = await getVendor(ctx, viewer, imported.vendors[0]?.id ?? "");
    assert.deepEqual(
      analytics.flows.map((f) => [f.category, f.surface, f.declared]),
      [
        ["user.contact", null, true],
        ["user.device.cookie_id", null, true],
      ],
    );
    assert.equal(analytics.risk_tier, "high", "user.contact is high");

    const { text } = await exportVendors(ctx, viewer, "fides");
    const before = byKey(systemsOf(MANIFEST));
    const after = byKey(systemsOf(text));
    assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort());
    for (const [key, original] of before) {
      const exported = after.get(key) as System;
      assert.equal(exported.name, original.name, key);
      assert.equal(exported.description, original.description, key);
      assert.equal(exported.system_type, "Service");
      assert.deepEqual(categoriesOf(exported), categoriesOf(original), key);
      assert.deepEqual(usesOf(exported), usesOf(original), key);
      assert.deepEqual(exported.third_country_transfers, original.third_country_transfers, key);
      assert.equal(exported.dpa_location, original.dpa_location, key);
    }
    // A system with one use keeps its declaration exactly; with several, each use gets every category.
    assert.deepEqual(
      after.get("demo_analytics_system")?.privacy_declarations.map((d) => [d.data_use, d.data_categories]),
      before.get("demo_analytics_system")?.privacy_declarations.map((d) => [d.data_use, d.data_categories]),
    );
    for (const d of after.get("demo_marketing_system")?.privacy_declarations ?? []) {
      assert.deepEqual(d.data_categories, [
        "user.contact.email",
        "user.device.cookie_id",
        "user.location.coarse",
      ]);
    }

    // Importing the export again changes nothing.
    const again = await importVendors(ctx, responder, parseImport(text, "export.yaml").items);
    assert.deepEqual([again.created, again.updated, again.unchanged], [0, 0, 2]);
  });
});
