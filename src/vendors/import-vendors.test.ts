import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { listAudit } from "../audit/audit-log.ts";
import { AppError } from "../lib/errors.ts";
import { importVendors, parseImport } from "./import-vendors.ts";
import { createVendor, getVendor, listVendors } from "./manage-vendors.ts";
import { describeOnStores, responder, viewer } from "./test-inventory.ts";

const FILE = `vendors:
  - name: Mixpanel
    catalogue: mixpanel
    description: Product analytics
    processing_locations: [US]
    breach_notice_hours: 72
    access: receives
    people_count: 1200000
    owner: owner@example.com
    next_review: 2027-01-15
    data:
      - { category: user.contact.email, fields: [$email], surface: web }
      - { category: user.unique_id }
  - name: Billing Co
    risk_tier: critical
    data:
      - { category: user.financial, surface: server }
`;

const bad = (message: RegExp) => (e: unknown) =>
  e instanceof AppError && e.code === "BAD_INPUT" && message.test(e.message);

describe("parseImport", () => {
  it("tells a Fides manifest from a vendors file, or reads the format it is told", () => {
    assert.equal(parseImport(FILE, "v.yaml").items.length, 2);
    assert.equal(parseImport(FILE, "v.yaml", "yaml").items[1]?.record.name, "Billing Co");
    const fides = "system:\n  - fides_key: crm\n    name: crm\n    privacy_declarations: []\n";
    assert.deepEqual(parseImport(fides, "f.yaml").items[0]?.record, { name: "crm", purposes: [], data: [] });
    assert.throws(() => parseImport(fides, "f.yaml", "yaml"), bad(/^f\.yaml: this is a Fides manifest/));
    assert.throws(() => parseImport(FILE, "v.yaml", "fides"), bad(/^v\.yaml: system: required/));
    assert.throws(() => parseImport("vendors: [", "v.yaml"), bad(/^v\.yaml: not valid YAML/));
  });
});

describeOnStores("vendors import", (store) => {
  it("creates, then finds nothing to change, and audits once per vendor changed", async (t) => {
    if (store.skipped(t)) return;
    const ctx = store.ctx();
    const owner = await store.account("owner@example.com");
    const first = await importVendors(ctx, responder, parseImport(FILE, "v.yaml").items);
    assert.deepEqual([first.created, first.updated, first.unchanged], [2, 0, 0]);
    const mixpanel = await getVendor(ctx, viewer, first.vendors[0]?.id ?? "");
    assert.equal(mixpanel.owner_id, owner);
    assert.equal(mixpanel.catalogue_id, "mixpanel");
    assert.equal(mixpanel.next_review_at, "2027-01-15");
    assert.deepEqual(
      mixpanel.flows.map((f) => [f.category, f.surface, f.fields]),
      [
        ["user.contact.email", "web", ["$email"]],
        ["user.unique_id", null, []],
      ],
    );
    assert.equal(mixpanel.risk_tier, "critical", "high contact data, raised by 1.2 million people");
    const billing = await getVendor(ctx, viewer, first.vendors[1]?.id ?? "");
    assert.equal(billing.risk_tier_override, "critical");

    const second = await importVendors(ctx, responder, parseImport(FILE, "v.yaml").items);
    assert.deepEqual([second.created, second.updated, second.unchanged], [0, 0, 2]);
    assert.deepEqual(await getVendor(ctx, viewer, mixpanel.id), mixpanel, "not even updated_at moves");
    const events = (await listAudit(ctx.db, { action: "vendor.import", limit: 1000 })).map((e) => [
      e.subject,
      e.detail,
    ]);
    assert.deepEqual(events, [
      [
        `vendor:${mixpanel.id}`,
        {
          action: "created",
          fields: [
            "name",
            "catalogue",
            "description",
            "processing_locations",
            "breach_notice_hours",
            "access",
            "people_count",
            "owner",
            "next_review",
            "data",
          ],
        },
      ],
      [`vendor:${billing.id}`, { action: "created", fields: ["name", "risk_tier", "data"] }],
    ]);
  });

  it("takes the file as the truth for the fields it gives, and leaves the rest", async (t) => {
    if (store.skipped(t)) return;
    const ctx = store.ctx();
    const v = await createVendor(ctx, responder, {
      name: "Intercom",
      website: "https://intercom.com",
      notes: "kept",
      description: "chat",
      domains: ["intercom.io"],
    });
    const result = await importVendors(
      ctx,
      responder,
      parseImport(
        "name: intercom\ndescription: null\ndomains: [intercom.io, intercomcdn.com]\ndata: [{ category: user.name }]\n",
        "intercom.yaml",
      ).items,
    );
    assert.deepEqual(result.vendors, [
      { name: "intercom", id: v.id, action: "updated", fields: ["name", "description", "domains", "data"] },
    ]);
    const after = await getVendor(ctx, viewer, v.id);
    assert.equal(after.name, "intercom");
    assert.equal(after.description, null);
    assert.equal(after.website, "https://intercom.com");
    assert.equal(after.notes, "kept");
    assert.deepEqual(after.domains, ["intercom.io", "intercomcdn.com"]);
    assert.deepEqual(
      after.flows.map((f) => f.category),
      ["user.name"],
    );
    // Without `data`, the declared flows stay.
    await importVendors(
      ctx,
      responder,
      parseImport("name: Intercom\nstatus: under_review\n", "i.yaml").items,
    );
    assert.deepEqual(
      (await getVendor(ctx, viewer, v.id)).flows.map((f) => f.category),
      ["user.name"],
    );
  });

  it("on a dry run reports the same and changes nothing; a bad vendor changes nothing either", async (t) => {
    if (store.skipped(t)) return;
    const ctx = store.ctx();
    const before = await listVendors(ctx, viewer);
    const auditBefore = (await listAudit(ctx.db, { limit: 1000 })).length;
    const text = "vendors:\n  - name: Dry One\n  - name: Dry Two\n    people_count: 5\n";
    const dry = await importVendors(ctx, responder, parseImport(text, "d.yaml").items, { dryRun: true });
    assert.equal(dry.dry_run, true);
    assert.deepEqual([dry.created, dry.updated, dry.unchanged], [2, 0, 0]);
    assert.deepEqual(await listVendors(ctx, viewer), before);
    assert.equal((await listAudit(ctx.db, { limit: 1000 })).length, auditBefore);

    const unknownOwner = "vendors:\n  - name: Fine Co\n  - name: Owned Co\n    owner: ghost@example.com\n";
    await assert.rejects(
      importVendors(ctx, responder, parseImport(unknownOwner, "o.yaml").items),
      bad(/^o\.yaml: Owned Co: owner: no account has the email ghost@example\.com/),
    );
    await assert.rejects(
      importVendors(ctx, responder, parseImport(unknownOwner, "o.yaml").items, { dryRun: true }),
      bad(/owner: no account/),
    );
    assert.deepEqual(await listVendors(ctx, viewer), before, "Fine Co was not created");

    const twice = [
      ...parseImport("name: Twice\n", "a.yaml").items,
      ...parseImport("name: TWICE\n", "b.yaml").items,
    ];
    await assert.rejects(
      importVendors(ctx, responder, twice),
      bad(/^b\.yaml: TWICE: the vendor is also in a\.yaml/),
    );
    await assert.rejects(
      importVendors(ctx, viewer, parseImport(text, "d.yaml").items),
      (e: unknown) => e instanceof AppError && e.code === "FORBIDDEN",
    );
  });
});
