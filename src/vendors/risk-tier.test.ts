import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { computeRiskTier, effectiveRiskTier, sensitivityOf } from "./risk-tier.ts";
import type { Access } from "./vendor-fields.ts";

describe("sensitivityOf", () => {
  it("classes each category by the longest listed prefix", () => {
    const table: Array<[string, string]> = [
      ["user.authorization.credentials", "critical"],
      ["user.authorization.credentials.password", "critical"],
      ["user.authorization", "high"],
      ["user.financial", "critical"],
      ["user.financial.bank_account", "critical"],
      ["user.government_id.passport_number", "critical"],
      ["user.health_and_medical", "critical"],
      ["user.biometric", "critical"],
      ["user.criminal_history", "critical"],
      ["user.genetic", "critical"],
      ["user.sensitive", "critical"],
      ["user.demographic.religious_belief", "critical"],
      ["user.demographic.age_range", "medium"],
      ["user.contact.email", "high"],
      ["user.contact.phone_number", "high"],
      ["user.contact.address.street", "high"],
      ["user.name", "high"],
      ["user.name.first", "high"],
      ["user.location.precise", "high"],
      ["user.location.coarse", "medium"],
      ["user.location", "medium"],
      ["user.unique_id", "medium"],
      ["user.device.ip_address", "medium"],
      ["user.behavior.browsing_history", "medium"],
      ["user.non_identifiable", "low"],
      ["system.operations", "low"],
      ["user.contacts_of_friends", "low"],
      // fideslang 1.x keys read as their 2.x key
      ["user.provided.identifiable.contact.email", "high"],
      ["user.derived.identifiable.location.precise", "high"],
      ["user.provided.identifiable.credentials.password", "critical"],
      ["user.provided.nonidentifiable", "low"],
    ];
    assert.deepEqual(
      table.map(([c]) => [c, sensitivityOf(c)]),
      table,
    );
  });
});

describe("computeRiskTier", () => {
  const tier = (categories: string[], people_count: number | null, access: Access | null) =>
    computeRiskTier({ categories, people_count, access }).tier;

  it("starts from the most sensitive category", () => {
    assert.equal(tier(["user.device.cookie_id", "user.contact.email"], 5000, "receives"), "high");
    assert.equal(tier(["user.device.cookie_id"], 5000, "receives"), "medium");
    assert.equal(tier(["user.financial"], 5000, null), "critical");
    assert.equal(tier(["system.operations"], 5000, null), "low");
    assert.equal(tier([], 5000, "receives"), "low");
  });

  it("raises a step for a million people or more and lowers one below a thousand", () => {
    assert.equal(tier(["user.device.cookie_id"], 1_000_000, null), "high");
    assert.equal(tier(["user.device.cookie_id"], 999_999, null), "medium");
    assert.equal(tier(["user.device.cookie_id"], 999, null), "low");
    assert.equal(tier(["user.device.cookie_id"], 1000, null), "medium");
    assert.equal(tier(["user.financial"], 2_000_000, null), "critical");
    assert.equal(tier(["system.operations"], 10, null), "low");
    assert.equal(tier(["user.contact.email"], null, null), "high");
  });

  it("raises a step for write access, and admin access to at least high", () => {
    assert.equal(tier(["user.device.cookie_id"], 5000, "writes"), "high");
    assert.equal(tier(["user.device.cookie_id"], 5000, "reads"), "medium");
    assert.equal(tier([], 10, "admin"), "high");
    assert.equal(tier(["user.contact.email"], 5000, "admin"), "critical");
    assert.equal(tier(["user.contact.email"], 2_000_000, "writes"), "critical");
    assert.equal(tier(["system.operations"], 500, "writes"), "medium");
  });

  it("does not rate a vendor nothing is known of", () => {
    const r = computeRiskTier({ categories: [], people_count: null, access: null });
    assert.equal(r.tier, null);
    assert.match(r.reason, /^Not rated/);
  });

  it("says why in a sentence", () => {
    const r = computeRiskTier({
      categories: ["user.contact.email", "user.device.cookie_id", "user.contact.email"],
      people_count: 1_200_000,
      access: "writes",
    });
    assert.equal(r.tier, "critical");
    assert.equal(
      r.reason,
      "Critical: the most sensitive data it receives is user.contact.email (high); 1,200,000 people (1,000,000 or more) raise it one step; it can write to our systems, which raises it one step (already critical).",
    );
    const few = computeRiskTier({ categories: [], people_count: 12, access: "admin" });
    assert.equal(
      few.reason,
      "High: it receives no data category on record (low); 12 people (fewer than 1,000) lower it one step (already low); it administers our systems, which raises it one step and to at least high.",
    );
  });
});

describe("effectiveRiskTier", () => {
  it("holds the vendor to the override and keeps the computed reason", () => {
    const computed = computeRiskTier({
      categories: ["user.device.cookie_id"],
      people_count: null,
      access: null,
    });
    assert.deepEqual(effectiveRiskTier(computed, null), computed);
    const r = effectiveRiskTier(computed, "critical");
    assert.equal(r.tier, "critical");
    assert.match(r.reason, /^Set by hand to critical \(computed: medium\)\. Medium: /);
    const unrated = computeRiskTier({ categories: [], people_count: null, access: null });
    assert.match(effectiveRiskTier(unrated, "low").reason, /computed: not rated/);
  });
});
