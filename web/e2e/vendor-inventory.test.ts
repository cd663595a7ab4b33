import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { BrowserContext, Page } from "playwright-core";
import { tempDir } from "../../src/lib/test-fixtures.ts";
import { type E2E, screenshot, setUpFirstAdmin, startE2E } from "./harness.ts";

const VENDORS_YAML = `vendors:
  - name: Acme Analytics
    catalogue: acme-analytics
    description: Product analytics
    domains: [acme-analytics.example]
    purposes: [product analytics]
    processing_locations: [US, DE]
    access: receives
    people_count: 50000
    owner: lead@example.com
    review_interval_days: 365
    next_review: 2020-01-15
    data:
      - { category: user.contact.email, fields: [$email], surface: web }
  - name: Payroll Partner
    description: Salary payments
    access: writes
    people_count: 800
    data:
      - { category: user.financial.bank_account, surface: batch }
  - name: Status Pages
    description: The public status page
    access: receives
    people_count: 200
    data:
      - { category: user.device.cookie_id, surface: web }
`;

/** A scanner summary: Acme's declared email flow seen, a precise location nobody declared, a stranger. */
const SCAN_SUMMARY = {
  scanned_at: "2026-03-01T10:00:00Z",
  urls: ["https://app.shop.test/"],
  requests: 40,
  third_party_requests: 4,
  flows: [
    {
      vendor: "Acme Analytics",
      vendor_id: "acme-analytics",
      category: "user.contact.email",
      declared: true,
      seen: true,
      seed_fields: ["email"],
    },
    { vendor: "Acme Analytics", vendor_id: "acme-analytics", category: "user.location.precise", seen: true },
    { vendor: "Tracker X", vendor_id: "tracker-x", category: "user.device.cookie_id", seen: true },
  ],
  third_party_hosts: [
    {
      host: "api.acme-analytics.example",
      vendor: "Acme Analytics",
      vendor_id: "acme-analytics",
      requests: 3,
    },
    { host: "cdn.tracker-x.example", vendor: "Tracker X", vendor_id: "tracker-x", requests: 1 },
  ],
};

/** The vendor inventory in the browser: import, tiers, one vendor's record and flows, a scan, export. */
describe("the vendor inventory in the browser", { timeout: 600_000 }, () => {
  let e2e: E2E;
  let context: BrowserContext;
  let page: Page;
  let dir = "";
  let acmeUrl = "";

  before(async () => {
    e2e = await startE2E();
    context = await e2e.newContext();
    page = await context.newPage();
    dir = await tempDir("blastradius-e2e-vendors-");
  });
  after(async () => {
    await e2e?.close();
  });

  const vendorRow = (name: string) =>
    page.getByRole("table", { name: "Vendors", exact: true }).getByRole("row").filter({ hasText: name });

  it("signs in and opens the vendors page with its dashboard", async () => {
    await setUpFirstAdmin(e2e, page);
    await page.getByRole("link", { name: "Vendors" }).click();
    await page.getByRole("heading", { name: "Vendors", level: 1 }).waitFor();
    // the demo's vendor is there (set to high by hand)
    await vendorRow("Product analytics vendor (demo)").waitFor();
    await page.getByTestId("dash-kept").getByText("1", { exact: true }).waitFor();
  });

  it("imports three vendors from a YAML file: a dry run, then the import", async () => {
    const file = path.join(dir, "vendors.yaml");
    await writeFile(file, VENDORS_YAML);
    await page.getByRole("button", { name: "Import vendors" }).click();
    await page.getByLabel("Vendors file").setInputFiles(file);
    const code = page.getByLabel("Vendors as code");
    for (let i = 0; i < 50 && !(await code.inputValue()).includes("Payroll"); i++)
      await page.waitForTimeout(100);
    assert.match(await code.inputValue(), /Status Pages/);
    const importButton = page.getByRole("button", { name: "Import", exact: true });
    assert.equal(await importButton.isDisabled(), true, "no import before a dry run");

    await page.getByRole("button", { name: "Dry run" }).click();
    await page.getByText("Dry run (nothing changed): 3 created, 0 updated, 0 unchanged.").waitFor();
    assert.equal(await vendorRow("Acme Analytics").count(), 0, "a dry run changes nothing");

    await importButton.click();
    await page.getByText("Imported: 3 created, 0 updated, 0 unchanged.").waitFor();
    await vendorRow("Acme Analytics").waitFor();
  });

  it("shows each vendor's computed tier with the reason, and filters the list", async () => {
    const acme = vendorRow("Acme Analytics");
    await acme.locator(".badge.risk-high").waitFor();
    await acme.getByText(/^High: the most sensitive data it receives is user\.contact\.email/).waitFor();
    const payroll = vendorRow("Payroll Partner");
    await payroll.locator(".badge.risk-critical").waitFor();
    await payroll.getByText(/lower it one step/).waitFor();
    await payroll
      .getByText(/writes/)
      .first()
      .waitFor();
    const status = vendorRow("Status Pages");
    await status.locator(".badge.risk-low").waitFor();
    await status.getByText(/^Low: /).waitFor();
    // Acme's review (2020) is overdue
    await acme.getByText("overdue").waitFor();

    await page.getByLabel("Risk tier", { exact: true }).selectOption("critical");
    await page.getByText("1 of 4 vendors").waitFor();
    assert.equal(await vendorRow("Acme Analytics").count(), 0);
    await page.getByLabel("Risk tier", { exact: true }).selectOption("");
    await page.getByLabel("Search", { exact: true }).fill("acme-analytics.example");
    await page.getByText("1 of 4 vendors").waitFor();
    await vendorRow("Acme Analytics").waitFor();
    await page.getByLabel("Search", { exact: true }).fill("");
    await page.getByText("4 vendors", { exact: true }).waitFor();
  });

  it("counts the vendors on the dashboard by tier and review", async () => {
    await page.getByTestId("dash-kept").getByText("4", { exact: true }).waitFor();
    await page.getByTestId("dash-overdue-reviews").getByText("1", { exact: true }).waitFor();
    const byTier = page.getByRole("table", { name: "Vendors by risk tier and review" });
    const high = byTier.getByRole("row").filter({ has: page.locator(".badge.risk-high") });
    // demo vendor and Acme: two high, one overdue (Acme), both never reviewed
    assert.deepEqual(await high.getByRole("cell").allTextContents(), ["2", "0", "0", "1", "2"]);
    const critical = byTier.getByRole("row").filter({ has: page.locator(".badge.risk-critical") });
    assert.equal(await critical.getByRole("cell").first().textContent(), "1");
    await page.getByRole("heading", { name: "Overdue reviews" }).waitFor();
    await page.locator(".vendor-dash-list").getByRole("link", { name: "Acme Analytics" }).waitFor();
  });

  it("assigns a requirement set to every vendor at or above a tier, after a confirmation", async () => {
    await page.getByRole("button", { name: "Assign a requirement set" }).click();
    await page.getByLabel("Requirement set", { exact: true }).selectOption("baseline");
    await page.getByLabel("At or above tier").selectOption("high");
    await page.getByRole("button", { name: "Assign…" }).click();
    const confirm = page.getByRole("alertdialog");
    await confirm.getByText(/^3 vendors at or above high will be held to /).waitFor();
    assert.doesNotMatch((await confirm.textContent()) ?? "", /Status Pages/, "low tier left alone");
    await confirm.getByRole("button", { name: "Yes, assign to 3 vendors" }).click();
    await page.getByText(/^Assigned 3 vendors to /).waitFor();
    await vendorRow("Payroll Partner").getByText("baseline").waitFor();
    assert.equal(await vendorRow("Status Pages").getByText("baseline").count(), 0);
    await page.getByRole("button", { name: "Close" }).click();
  });

  it("opens a vendor and edits its profile and declared flows", async () => {
    await vendorRow("Acme Analytics").getByRole("link", { name: "Acme Analytics" }).click();
    await page.getByRole("heading", { name: "Acme Analytics", level: 1 }).waitFor();
    acmeUrl = page.url();
    await page
      .getByTestId("vendor-risk-reason")
      .getByText(/^High: /)
      .waitFor();

    await page.getByRole("button", { name: "Edit profile" }).click();
    const form = page.getByRole("form", { name: "Edit profile" });
    await form.getByLabel("Contract reference").fill("MSA-2026-7");
    await form.getByLabel("Processing locations").fill("US, DE, ie");
    await form.getByRole("button", { name: "Save profile" }).click();
    await page.getByText("Profile saved.").waitFor();
    const profile = page.locator("#profile");
    await profile.getByText("MSA-2026-7").waitFor();
    await profile.getByText("US, DE, IE").waitFor();

    await page.getByRole("button", { name: "Edit declared flows" }).click();
    const flows = page.getByRole("form", { name: "Declared flows of Acme Analytics" });
    assert.equal(await flows.getByLabel("Flow 1 category").inputValue(), "user.contact.email");
    await flows.getByRole("button", { name: "Add flow" }).click();
    await flows.getByLabel("Flow 2 category").fill("user.unique_id");
    await flows.getByLabel("Flow 2 surface").selectOption("server");
    await flows.getByLabel("Flow 2 fields").fill("user_id, account_id");
    await flows.getByRole("button", { name: "Save declared flows" }).click();
    await page.getByText("Declared flows saved: 2.").waitFor();
    const row = page
      .getByRole("table", { name: "Data flows" })
      .getByRole("row")
      .filter({ hasText: "user.unique_id" });
    await row.getByText("user_id, account_id").waitFor();
    await row.getByText("server").waitFor();
    await row.getByText("declared", { exact: true }).waitFor();
  });

  it("attaches a scan and shows the undeclared flow and the vendor it does not know", async () => {
    const summary = path.join(dir, "summary.json");
    await writeFile(summary, JSON.stringify(SCAN_SUMMARY, null, 2));
    await page.getByRole("link", { name: "All vendors" }).click();
    await page.getByRole("button", { name: "Attach a scan" }).click();
    await page.getByLabel("Scan summary (summary.json)").setInputFiles(summary);
    await page.getByRole("button", { name: "Attach scan" }).click();
    const outcome = page.getByTestId("attach-outcome");
    await outcome
      .getByText(/attached: it met 1 inventory vendor and 1 vendor not in the inventory/)
      .waitFor();
    const met = outcome
      .getByRole("table", { name: "Vendors the scan met" })
      .getByRole("row", { name: /Acme/ });
    await met.getByText("user.location.precise").waitFor();
    const unknown = outcome.getByRole("table", { name: "Vendors not in the inventory" });
    await unknown.getByText("cdn.tracker-x.example").waitFor();
    await vendorRow("Acme Analytics").getByText("1 undeclared flow").waitFor();
    const scans = page.getByRole("table", { name: "Attached scans" });
    await scans.getByText("https://app.shop.test/").waitFor();
    await screenshot(page, "15-vendors");

    // the same scan again is refused, and says so
    await page.getByRole("button", { name: "Attach scan" }).click();
    await page.getByText(/this scan is attached already/).waitFor();

    await page.goto(acmeUrl);
    const table = page.getByRole("table", { name: "Data flows" });
    const undeclared = table.getByRole("row").filter({ hasText: "user.location.precise" });
    await undeclared.getByText("undeclared", { exact: true }).waitFor();
    assert.notEqual(await undeclared.getByRole("cell").nth(4).textContent(), "never");
    const email = table.getByRole("row").filter({ hasText: "user.contact.email" });
    await email.getByText("seen", { exact: true }).waitFor();
    const vendorScans = page.locator("#scans").getByRole("table", { name: "Attached scans" });
    await vendorScans.getByRole("cell", { name: "yes", exact: true }).waitFor();
    await screenshot(page, "16-vendor");
  });

  it("downloads the inventory as vendors.yaml and as a Fides manifest", async () => {
    await page.getByRole("link", { name: "All vendors" }).click();
    const [yaml] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Export vendors.yaml" }).click(),
    ]);
    assert.equal(yaml.suggestedFilename(), "vendors.yaml");
    const text = await readFile((await yaml.path()) as string, "utf8");
    for (const value of [
      "Acme Analytics",
      "Payroll Partner",
      "Status Pages",
      "MSA-2026-7",
      "user.unique_id",
    ]) {
      assert.ok(text.includes(value), `vendors.yaml has ${value}`);
    }
    // what scans saw is not part of the record
    assert.doesNotMatch(text, /user\.location\.precise/);
    const [fides] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Export Fides manifest" }).click(),
    ]);
    const manifest = await readFile((await fides.path()) as string, "utf8");
    assert.match(manifest, /^system:/m);
    assert.match(manifest, /fides_key: acme_analytics/);
  });

  it("deletes a vendor without incidents, and refuses one with incidents", async () => {
    await vendorRow("Status Pages").getByRole("link", { name: "Status Pages" }).click();
    await page.getByRole("button", { name: "Delete vendor" }).click();
    await page.getByRole("button", { name: "Yes, delete Status Pages" }).click();
    await page.getByText("Vendor Status Pages deleted.").waitFor();
    await page.getByText("3 vendors", { exact: true }).waitFor();

    await vendorRow("Product analytics vendor (demo)").getByRole("link").click();
    await page.getByRole("button", { name: "Delete vendor" }).click();
    await page.getByRole("button", { name: /^Yes, delete / }).click();
    await page.getByText(/this vendor has incidents/).waitFor();
  });

  it("fits a 375 px wide screen", async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    for (const url of [`${new URL(page.url()).origin}/vendors`, acmeUrl]) {
      await page.goto(url);
      await page.getByRole("heading", { level: 1 }).waitFor();
      await page
        .getByRole("heading", { name: "Data flows" })
        .or(page.getByRole("heading", { name: "Inventory" }))
        .waitFor();
      const overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth");
      const wide = await page.evaluate(
        `[...document.querySelectorAll("body *")].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest(".table-wrap")).slice(0, 5).map((e) => e.tagName + "." + e.className).join(" ")`,
      );
      assert.ok((overflow as number) <= 1, `${url} scrolls sideways by ${overflow} px: ${wide}`);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("made no request outside the server's origin and broke no policy", () => {
    assert.deepEqual(e2e.foreignRequests, []);
    assert.deepEqual(e2e.pageErrors, []);
  });
});
