import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  decideObligations,
  type Exposure,
  type Facts,
  type ObligationDecision,
} from "./decide-obligations.ts";
import { loadRules } from "./load-rules.ts";
import { REGIME_IDS, type Rule } from "./rule-schema.ts";

// What the Mixpanel dataset held: name, email, coarse location, OS and browser, referrers, user and org ids.
const MIXPANEL = [
  "user.behavior.browsing_history",
  "user.contact.email",
  "user.device",
  "user.device.device_id",
  "user.location.coarse",
  "user.name",
  "user.unique_id",
];

function exposure(byCountry: Record<string, number>, categories = MIXPANEL): Exposure {
  const people = Object.values(byCountry).reduce((a, b) => a + b, 0);
  return {
    affectedPeople: people,
    byCountry,
    byCategory: Object.fromEntries(categories.map((c) => [c, people])),
    affectedOrgs: 3,
  };
}

const COUNTRIES = {
  US: 400,
  DE: 300,
  FR: 100,
  GB: 150,
  BR: 200,
  CA: 50,
  AU: 30,
  JP: 1200,
  SG: 600,
  KR: 1500,
  IN: 80,
};
const AWARE = "2026-11-19T10:00:00-03:00";

let rules: Rule[];
before(async () => {
  rules = await loadRules();
});

function decide(facts: Partial<Facts> & { exposure: Exposure }) {
  const all = decideObligations(rules, { clocks: { aware: AWARE }, ...facts });
  const get = (regime: string, audience: string): ObligationDecision => {
    const d = all.find((x) => x.regime === regime && x.audience === audience);
    assert.ok(d, `${regime} ${audience}`);
    return d;
  };
  return { all, get };
}

describe("obligations on a Mixpanel-like exposure", () => {
  it("gives one entry per regime and audience, each with a reason and citations", () => {
    const { all } = decide({ exposure: exposure(COUNTRIES) });
    const keys = all.map((d) => `${d.regime}/${d.audience}`);
    assert.equal(new Set(keys).size, keys.length);
    for (const d of all) {
      assert.ok(d.citations.length > 0, `${d.regime} cites`);
      assert.ok(d.reason.length > 20, `${d.regime} explains`);
      if (d.decision === "judgment") assert.ok(d.question, `${d.regime} asks`);
    }
    assert.deepEqual([...new Set(all.map((d) => d.regime))].sort(), [...REGIME_IDS]);
  });

  it("EU and UK GDPR: the authority within 72 hours of awareness; individuals need a high-risk judgment", () => {
    const { get } = decide({ exposure: exposure(COUNTRIES), controllerCountry: "US" });
    const eu = get("eu-gdpr", "regulator");
    assert.equal(eu.decision, "required");
    assert.equal(eu.people, 400);
    assert.equal(eu.deadline, "2026-11-22T10:00:00-03:00");
    assert.equal(eu.clock, "aware");
    assert.match(eu.authority, /each country where affected people live: DE, FR/);
    assert.match(eu.reason, /DE 300, FR 100/);
    assert.equal(get("eu-gdpr", "individuals").decision, "judgment");
    assert.equal(get("uk-gdpr", "regulator").deadline, "2026-11-22T10:00:00-03:00");
    assert.equal(get("uk-gdpr", "individuals").decision, "judgment");
    const established = decide({ exposure: exposure(COUNTRIES), controllerCountry: "IE" }).get(
      "eu-gdpr",
      "regulator",
    );
    assert.match(established.authority, /lead authority: the one of IE/);
  });

  it("GDPR individuals become required when credentials are exposed", () => {
    const { get } = decide({
      exposure: exposure(COUNTRIES, [...MIXPANEL, "user.authorization.credentials"]),
    });
    assert.equal(get("eu-gdpr", "individuals").decision, "required");
  });

  it("LGPD: 3 working days that skip Brazilian holidays and weekends", () => {
    const { get } = decide({ exposure: exposure(COUNTRIES) });
    for (const audience of ["regulator", "individuals"]) {
      const d = get("br-lgpd", audience);
      assert.equal(d.decision, "judgment");
      assert.equal(d.deadline, "2026-11-25T23:59:59-03:00", "Fri 20 Nov is a holiday, then a weekend");
      assert.equal(d.people, 200);
    }
  });

  it("California and New York: not required for this exposure, required with credentials", () => {
    const plain = decide({ exposure: exposure(COUNTRIES) });
    for (const [regime, audience] of [
      ["us-ca", "individuals"],
      ["us-ca", "regulator"],
      ["us-ny", "individuals"],
      ["us-ny", "regulator"],
      ["us-ny", "other"],
    ] as const) {
      const d = plain.get(regime, audience);
      assert.equal(d.decision, "not_required", `${regime} ${audience}`);
      assert.equal(d.deadline, null);
    }
    assert.match(
      plain.get("us-ca", "individuals").reason,
      /400 whose state or province is not known are treated as possibly covered/,
    );
    const creds = decide({
      exposure: exposure({ ...COUNTRIES, US: 600 }, [...MIXPANEL, "user.authorization.credentials"]),
    });
    assert.equal(creds.get("us-ca", "individuals").decision, "required");
    assert.equal(creds.get("us-ca", "individuals").deadline, "2026-12-19T23:59:59-08:00");
    assert.equal(creds.get("us-ca", "regulator").decision, "required", "more than 500 residents");
    assert.equal(creds.get("us-ny", "individuals").decision, "required");
    assert.equal(creds.get("us-ny", "individuals").deadline, "2026-12-19T23:59:59-05:00");
    assert.equal(creds.get("us-ny", "regulator").decision, "required");
    assert.equal(creds.get("us-ny", "other").decision, "not_required", "5,000 or fewer residents");
    const few = decide({ exposure: exposure({ US: 500 }, [...MIXPANEL, "user.authorization.credentials"]) });
    assert.equal(few.get("us-ca", "regulator").decision, "not_required");
  });

  it("Canada and Australia: a real-risk or serious-harm judgment", () => {
    const { get } = decide({ exposure: exposure(COUNTRIES) });
    for (const d of [
      get("ca-pipeda", "regulator"),
      get("ca-pipeda", "individuals"),
      get("au-ndb", "regulator"),
    ]) {
      assert.equal(d.decision, "judgment");
      assert.equal(d.deadline, null);
    }
  });

  it("Singapore turns on 500 affected residents", () => {
    assert.equal(
      decide({ exposure: exposure({ SG: 500 }) }).get("sg-pdpa", "regulator").decision,
      "required",
    );
    assert.equal(
      decide({ exposure: exposure({ SG: 499 }) }).get("sg-pdpa", "regulator").decision,
      "not_required",
    );
    assert.equal(
      decide({ exposure: exposure({ SG: 600 }) }).get("sg-pdpa", "individuals").decision,
      "not_required",
    );
    const assessed = decide({
      exposure: exposure({ SG: 600 }),
      clocks: { aware: AWARE, assessed: "2026-11-27T09:00:00+08:00" },
    }).get("sg-pdpa", "regulator");
    assert.equal(assessed.clock, "assessed");
    assert.equal(assessed.deadline, "2026-11-30T23:59:59+08:00");
    const unassessed = decide({ exposure: exposure({ SG: 600 }) }).get("sg-pdpa", "regulator");
    assert.equal(unassessed.deadline, null);
    assert.match(unassessed.reason, /runs from the assessed clock, which is not set/);
  });

  it("Japan and South Korea turn on 1,000", () => {
    assert.equal(
      decide({ exposure: exposure({ JP: 1001 }) }).get("jp-appi", "regulator").decision,
      "required",
    );
    assert.equal(
      decide({ exposure: exposure({ JP: 1000 }) }).get("jp-appi", "regulator").decision,
      "judgment",
    );
    assert.equal(
      decide({ exposure: exposure({ KR: 1000 }) }).get("kr-pipa", "regulator").decision,
      "required",
    );
    assert.equal(
      decide({ exposure: exposure({ KR: 999 }) }).get("kr-pipa", "regulator").decision,
      "judgment",
    );
    const kr = decide({ exposure: exposure({ KR: 10 }) }).get("kr-pipa", "individuals");
    assert.equal(kr.decision, "required");
    assert.equal(kr.deadline, "2026-11-22T10:00:00-03:00");
  });

  it("India: not before the breach rules are in force, required after", () => {
    const now = decide({ exposure: exposure({ IN: 80 }) }).get("in-dpdp", "regulator");
    assert.equal(now.decision, "not_required");
    assert.match(now.reason, /apply from 2027-05-13/);
    const later = decideObligations(rules, {
      exposure: exposure({ IN: 80 }),
      clocks: { aware: "2027-06-01T10:00:00+05:30" },
    }).find((d) => d.regime === "in-dpdp" && d.audience === "regulator");
    assert.equal(later?.decision, "required");
    assert.equal(later?.deadline, "2027-06-04T10:00:00+05:30");
  });

  it("the contract rule tells customers within 48 hours; nobody affected means nothing owed", () => {
    const { get } = decide({ exposure: exposure(COUNTRIES) });
    assert.equal(get("contract", "other").decision, "required");
    assert.equal(get("contract", "other").deadline, "2026-11-21T10:00:00-03:00");
    const none = decide({ exposure: exposure({}) });
    for (const d of none.all) assert.equal(d.decision, "not_required", `${d.regime} ${d.audience}`);
  });

  it("records a person's answer to a judgment question, keeping the question and who decided", () => {
    const { get } = decide({
      exposure: exposure(COUNTRIES),
      answers: {
        "br-lgpd:regulator": { decision: "required", by: "dpo@example.com" },
        "eu-gdpr:regulator": { decision: "not_required" },
      },
    });
    const lgpd = get("br-lgpd", "regulator");
    assert.equal(lgpd.decision, "required");
    assert.equal(lgpd.deadline, "2026-11-25T23:59:59-03:00");
    assert.equal(lgpd.answered?.by, "dpo@example.com");
    assert.match(lgpd.answered?.question ?? "", /significantly affect/);
    assert.match(lgpd.reason, /Judgment recorded: required/);
    assert.equal(get("br-lgpd", "individuals").decision, "judgment", "only the answered audience changes");
    assert.equal(
      get("eu-gdpr", "regulator").decision,
      "required",
      "an answer cannot overrule a rule's required",
    );
  });

  it("uses the state where the dataset gives it, and counts the unknown as possibly covered", () => {
    const e: Exposure = {
      ...exposure({ US: 1000 }, [...MIXPANEL, "user.authorization.credentials"]),
      byRegion: { US: { California: 450, "new york": 100, Texas: 300, unknown: 150 } },
    };
    const { get } = decide({ exposure: e });
    const ca = get("us-ca", "individuals");
    assert.equal(ca.people, 600);
    assert.match(
      ca.reason,
      /450 affected people are there by the dataset's region, and 150 whose state or province is not known/,
    );
    assert.match(ca.reason, /400 elsewhere in the country are not covered/);
    assert.equal(get("us-ca", "regulator").decision, "required", "600 possibly Californian");
    assert.equal(get("us-ny", "individuals").people, 250);
    assert.equal(get("eu-gdpr", "regulator").decision, "not_required");
  });

  it("uses the categories of the jurisdiction's own people when the summary has them", () => {
    const e: Exposure = {
      ...exposure({ US: 10, DE: 10 }),
      byCategory: { "user.name": 20, "user.authorization.credentials": 10 },
      byCountryCategory: {
        US: { "user.name": 10 },
        DE: { "user.name": 10, "user.authorization.credentials": 10 },
      },
    };
    const { get } = decide({ exposure: e });
    assert.equal(
      get("us-ca", "individuals").decision,
      "not_required",
      "no US person had credentials exposed",
    );
    assert.equal(get("eu-gdpr", "individuals").decision, "required");
  });
});
