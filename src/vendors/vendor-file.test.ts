import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AppError } from "../lib/errors.ts";
import { declaredVendorsOf, formatVendorFile, parseVendorFile, parseVendorRecords } from "./vendor-file.ts";

describe("parseVendorFile", () => {
  it("reads a list of vendors with their flows", () => {
    const vendors = parseVendorFile(
      `vendors:
  - name: Mixpanel
    catalogue: mixpanel
    data:
      - { category: user.contact.email, fields: [$email], surface: web }
      - { category: user.unique_id }
  - name: Billing Co
    domains: [Billing.Example.]
    data:
      - { category: user.financial, surface: server }
`,
      "vendors.yaml",
    );
    assert.equal(vendors.length, 2);
    assert.deepEqual(vendors[0], {
      name: "Mixpanel",
      catalogue: "mixpanel",
      domains: [],
      data: [
        { category: "user.contact.email", fields: ["$email"], surface: "web" },
        { category: "user.unique_id", fields: [], surface: null },
      ],
    });
    assert.deepEqual(vendors[1]?.domains, ["billing.example"]);
  });

  it("reads a file that holds one vendor", () => {
    const vendors = parseVendorFile(
      "name: Sentry\ndata: [{ category: user.contact.email }]\n",
      "sentry.yaml",
    );
    assert.deepEqual(
      vendors.map((v) => [v.name, v.data.length]),
      [["Sentry", 1]],
    );
  });

  it("names the file and the field that is wrong", () => {
    const fail = (text: string, pattern: RegExp) =>
      assert.throws(
        () => parseVendorFile(text, "v.yaml"),
        (e: unknown) => e instanceof AppError && e.code === "BAD_INPUT" && pattern.test(e.message),
      );
    fail(
      "vendors:\n  - name: A\n    data: [{ category: user.x, surface: mobile }]\n",
      /v\.yaml: vendors\.0\.data\.0\.surface/,
    );
    fail("name: A\nsurfaces: web\n", /v\.yaml: .*unknown key surfaces/);
    fail("vendors:\n  - name: A\n  - name: a\n", /v\.yaml: vendors\.1\.name: "a" is listed twice/);
    fail("name: A\ndata: [{ category: Email }]\n", /v\.yaml: data\.0\.category/);
  });
});

const FULL = `vendors:
  - name: Mixpanel
    catalogue: mixpanel
    description: Product analytics
    website: https://mixpanel.com
    status: active
    domains: [mixpanel.com]
    purposes: [product analytics]
    processing_locations: [us, DE]
    sub_processors: [{ name: Google Cloud, purpose: hosting, location: US }]
    contract_ref: MSA-2023-114
    dpa_ref: DPA-2023-114
    certifications: [SOC 2 Type II, ISO 27001]
    incident_contact: security@mixpanel.example
    breach_notice_hours: 72
    access: receives
    people_count: 1200000
    risk_tier: high
    requirement_set: baseline
    owner: Lead@Example.com
    review_interval_days: 365
    next_review: 2027-01-15
    data:
      - { category: user.contact.email, fields: [$email], surface: web }
  - name: Old CRM
    description: null
    status: offboarded
`;

describe("parseVendorRecords", () => {
  it("reads the whole record, and tells a field left out (undefined) from one cleared (null)", () => {
    const [mixpanel, crm] = parseVendorRecords(FULL, "vendors.yaml");
    assert.deepEqual(mixpanel, {
      name: "Mixpanel",
      catalogue: "mixpanel",
      description: "Product analytics",
      website: "https://mixpanel.com",
      status: "active",
      domains: ["mixpanel.com"],
      purposes: ["product analytics"],
      processing_locations: ["US", "DE"],
      sub_processors: [{ name: "Google Cloud", purpose: "hosting", location: "US" }],
      contract_ref: "MSA-2023-114",
      dpa_ref: "DPA-2023-114",
      certifications: ["SOC 2 Type II", "ISO 27001"],
      incident_contact: "security@mixpanel.example",
      breach_notice_hours: 72,
      access: "receives",
      people_count: 1200000,
      risk_tier: "high",
      requirement_set: "baseline",
      owner: "lead@example.com",
      review_interval_days: 365,
      next_review: "2027-01-15",
      data: [{ category: "user.contact.email", fields: ["$email"], surface: "web" }],
    });
    assert.deepEqual(crm, { name: "Old CRM", description: null, status: "offboarded" });
    // The scanner reads the same file, seeing only what it needs.
    assert.deepEqual(parseVendorFile(FULL, "vendors.yaml")[1], {
      name: "Old CRM",
      catalogue: null,
      domains: [],
      data: [],
    });
  });

  it("writes records that read back the same", () => {
    const records = parseVendorRecords(FULL, "vendors.yaml");
    const text = formatVendorFile(records, " exported");
    assert.match(text, /^# exported\n/);
    assert.match(text, /- \{ category: user\.contact\.email, fields: \[ \$email \], surface: web \}/);
    assert.deepEqual(parseVendorRecords(text, "out.yaml"), [
      records[0],
      // null means "clear" on import; written files leave empty fields out
      { name: "Old CRM", status: "offboarded" },
    ]);
  });

  it("names the field that is wrong, and why", () => {
    const fail = (field: string, value: string, pattern: RegExp) =>
      assert.throws(
        () => parseVendorRecords(`name: A\n${field}: ${value}\n`, "a.yaml"),
        (e: unknown) => e instanceof AppError && e.code === "BAD_INPUT" && pattern.test(e.message),
      );
    fail("processing_locations", "[DE, ZZ]", /^a\.yaml: processing_locations\.1: an ISO 3166-1 alpha-2/);
    fail("incident_contact", "Bob", /^a\.yaml: incident_contact: an email address/);
    fail("owner", "lead", /^a\.yaml: owner: an email address/);
    fail("breach_notice_hours", "0", /^a\.yaml: breach_notice_hours: more than 0 hours/);
    fail("breach_notice_hours", "'72'", /^a\.yaml: breach_notice_hours: /);
    fail("access", "root", /^a\.yaml: access: /);
    fail("people_count", "-5", /^a\.yaml: people_count: 0 or more/);
    fail("next_review", "2027-13-01", /^a\.yaml: next_review: a date/);
    fail("sub_processors", "[{ name: X, country: US }]", /^a\.yaml: sub_processors\.0: unknown key country/);
    fail("risk_tier", "extreme", /^a\.yaml: risk_tier: /);
    fail(
      "data",
      "[{ category: user.name }, { category: user.name }]",
      /^a\.yaml: data\.1: user\.name on every surface is listed twice/,
    );
  });
});

describe("declaredVendorsOf", () => {
  it("keeps what the store declares and leaves out flows only a scan saw", () => {
    const flow = (category: string, declared: boolean, surface: "web" | "server" | null = null) => ({
      category,
      fields: declared ? ["$email"] : [],
      surface,
      declared,
    });
    assert.deepEqual(
      declaredVendorsOf([
        {
          name: "Mixpanel",
          catalogue_id: "mixpanel",
          domains: ["mixpanel.com"],
          flows: [
            flow("user.contact.email", true, "web"),
            flow("user.name", false, "web"),
            flow("user.unique_id", true),
          ],
        },
      ]),
      [
        {
          name: "Mixpanel",
          catalogue: "mixpanel",
          domains: ["mixpanel.com"],
          data: [
            { category: "user.contact.email", fields: ["$email"], surface: "web" },
            { category: "user.unique_id", fields: ["$email"], surface: null },
          ],
        },
      ],
    );
  });
});
