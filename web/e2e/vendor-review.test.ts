import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { tempDir } from "../../src/lib/test-fixtures.ts";
import { ADMIN, type E2E, screenshot, setUpFirstAdmin, startE2E } from "./harness.ts";

const LONG = { timeout: 60_000 };

type VendorRow = {
  id: string;
  name: string;
  risk_tier: string | null;
  requirement_set: string | null;
  status: string;
};

/** The vendors of the test: two critical ones, one of which is offboarded, and three others. */
const INVENTORY = [
  // user.contact (high), 2,000,000 people raise it one step: critical. The one to offboard.
  {
    name: "Trackly",
    domains: ["trackly.example"],
    people_count: 2_000_000,
    access: "receives",
    flows: [{ category: "user.contact.email", fields: ["email"], surface: "web" }],
    tier: "critical",
  },
  // card data (critical) stays critical
  {
    name: "Paystream",
    domains: ["paystream.example"],
    people_count: 50_000,
    access: "receives",
    flows: [{ category: "user.financial.bank_account", fields: ["iban"], surface: "server" }],
    tier: "critical",
  },
  // passwords (critical)
  {
    name: "Vaultkeys",
    domains: ["vaultkeys.example"],
    people_count: 5_000,
    access: "reads",
    flows: [{ category: "user.authorization.credentials", fields: ["password_hash"], surface: "server" }],
    tier: "critical",
  },
  // user.contact (high), as it is
  {
    name: "Mailfox",
    domains: ["mailfox.example"],
    people_count: 20_000,
    access: "receives",
    flows: [{ category: "user.contact.email", fields: ["email"], surface: "server" }],
    tier: "high",
  },
  // behaviour (medium), fewer than 1,000 people lower it: low
  {
    name: "Heatmapr",
    domains: ["heatmapr.example"],
    people_count: 500,
    access: "receives",
    flows: [{ category: "user.behavior.browsing_history", fields: [], surface: "web" }],
    tier: "low",
  },
] as const;

/**
 * Issue 9's acceptance in the browser: a vendor is held to a requirement set, answers a
 * questionnaire through a link with no account (a "no" opens a finding; an evidence file comes
 * along), its finding gets an owner and a due date, it is offboarded step by step (the integration's
 * removal proved by a scan that no longer sees it), and every remaining vendor of the top tier is
 * then held to the elevated set in one step. The audit log names who did each step.
 */
describe("vendor review and offboarding in the browser", { timeout: 600_000 }, () => {
  let e2e: E2E;
  let page: Page;
  let csrf = "";
  const ids = new Map<string, string>();
  let vendorUrl = "";
  let link = "";
  let evidenceFile = "";
  const evidenceText = "Encryption policy v3: AES-256 at rest, keys in a KMS, backups included.\n";

  /** The API with the signed-in page's session and its CSRF token. */
  const call = async <T>(method: string, route: string, body?: unknown): Promise<T> => {
    const response = await page.request.fetch(`${e2e.server.url}/api/v1${route}`, {
      method,
      headers: { "x-csrf-token": csrf, accept: "application/json" },
      ...(body === undefined ? {} : { data: body }),
    });
    const text = await response.text();
    assert.ok(response.ok(), `${method} ${route}: ${response.status()} ${text}`);
    return (text ? JSON.parse(text) : null) as T;
  };
  const vendorId = (name: string) => {
    const id = ids.get(name);
    assert.ok(id, `vendor ${name} was created`);
    return id;
  };
  const attachScan = (scannedAt: Date, hosts: { host: string; vendor: string | null }[]) =>
    call<{ scan: { id: string } }>("POST", "/vendors/scans", {
      scanned_at: scannedAt.toISOString(),
      urls: ["https://app.company.example/"],
      requests: 40,
      third_party_requests: hosts.length,
      flows: hosts
        .filter((h) => h.vendor === "Paystream")
        .map(() => ({
          vendor: "Paystream",
          vendor_id: "paystream",
          category: "user.financial.bank_account",
          seen: true,
        })),
      third_party_hosts: hosts.map((h) => ({
        host: h.host,
        vendor: h.vendor,
        vendor_id: h.vendor?.toLowerCase() ?? null,
        requests: 2,
      })),
    });

  before(async () => {
    e2e = await startE2E();
    page = await (await e2e.newContext()).newPage();
    const dir = await tempDir("blastradius-e2e-evidence-");
    evidenceFile = path.join(dir, "encryption-policy.txt");
    await writeFile(evidenceFile, evidenceText);
  });
  after(async () => {
    await e2e?.close();
  });

  it("sets up the admin and an inventory of five vendors, two of them critical and kept", async () => {
    await setUpFirstAdmin(e2e, page);
    const me = await (await page.request.get(`${e2e.server.url}/api/v1/me`)).json();
    csrf = me.csrf_token;
    assert.ok(csrf, "the session has a CSRF token");
    for (const v of INVENTORY) {
      const created = await call<VendorRow>("POST", "/vendors", {
        name: v.name,
        domains: v.domains,
        people_count: v.people_count,
        access: v.access,
      });
      ids.set(v.name, created.id);
      await call("PUT", `/vendors/${created.id}/flows`, { flows: v.flows });
      const read = await call<VendorRow>("GET", `/vendors/${created.id}`);
      assert.equal(read.risk_tier, v.tier, `${v.name} is rated ${v.tier}`);
    }
    vendorUrl = `${e2e.server.url}/vendors/${vendorId("Trackly")}`;
  });

  it("holds the vendor to a requirement set and sends a questionnaire whose link is shown once", async () => {
    await page.goto(vendorUrl);
    await page.getByRole("heading", { name: "Trackly", level: 1 }).waitFor(LONG);
    const requirements = page.locator("section.review-requirements");
    await requirements.getByText("Not held to a requirement set yet").waitFor();
    await requirements.getByLabel("Requirement set", { exact: true }).selectOption("baseline");
    await requirements.getByRole("button", { name: "Hold to this set" }).click();
    await requirements.getByText("Trackly is now held to Baseline.").waitFor();
    await requirements.getByText(/What Baseline asks: 6 requirements/).click();
    await requirements.getByText("Multi-factor authentication for vendor staff").waitFor();

    const review = page.locator("section.review-dates");
    await review.getByText("never").waitFor();
    await review.getByRole("button", { name: "Complete review" }).click();
    await review.getByLabel("Review note").fill("Contract and DPA read; questionnaire to follow");
    await review.getByRole("button", { name: "Record the review" }).click();
    await review.getByText(/^Review recorded\. The next review is due on /).waitFor();
    await review.getByText("every 365 days (the default)").waitFor();
    assert.doesNotMatch(
      (await review.getByTestId("next-review").textContent()) ?? "",
      /not scheduled|overdue/,
    );

    const questionnaires = page.locator("section.review-questionnaires");
    await questionnaires.getByLabel("Recipient email").fill("security@trackly.example");
    await questionnaires.getByLabel("Link expires after (days)").fill("10");
    await questionnaires.getByRole("button", { name: "Send questionnaire" }).click();
    await questionnaires.getByText("It is shown only now and will not be shown again").waitFor();
    link = await questionnaires.getByLabel("Questionnaire link").inputValue();
    assert.match(link, new RegExp(`^${e2e.server.url}/questionnaire/[A-Za-z0-9_-]{40,}$`));
    await questionnaires.getByRole("button", { name: "Copy link" }).click();
    await questionnaires.getByText(/^(Copied\.|This browser did not allow copying)/).waitFor();
    await questionnaires.getByRole("button", { name: "Done" }).click();
    assert.equal(await questionnaires.getByLabel("Questionnaire link").count(), 0, "the link is gone");
    const item = questionnaires.getByRole("listitem", { name: /^Questionnaire of / });
    await item.getByText("awaiting answers").waitFor();
    await item.getByText("security@trackly.example").waitFor();
    assert.equal(await page.getByText(link).count(), 0, "the list never shows the link");
  });

  it("lets the vendor answer without an account: a missing answer is named, evidence goes up first", async () => {
    const vendor = await (await e2e.newContext({ width: 390, height: 844 })).newPage();
    await vendor.goto(`${e2e.server.url}/questionnaire/not-a-real-link`);
    await vendor.getByRole("heading", { name: "This link is not valid" }).waitFor(LONG);

    await vendor.goto(link);
    await vendor.getByRole("heading", { name: "Trackly", level: 1 }).waitFor(LONG);
    assert.equal(await vendor.getByRole("heading", { name: "Sign in to blastradius" }).count(), 0);
    await vendor.getByText("Please answer by").waitFor();
    const items = vendor.locator("section.q-item");
    assert.equal(await items.count(), 6);
    const mfa = items.nth(0);
    await mfa.getByRole("heading", { name: "1. Multi-factor authentication for vendor staff" }).waitFor();
    await mfa.getByText(/^Why we ask: A stolen or guessed password/).waitFor();
    await mfa.getByRole("radio", { name: "No", exact: true }).check();
    await mfa.getByLabel("Comment").fill("Support staff still use SMS codes; keys are rolled out by June.");

    const encryption = items.nth(1);
    await encryption.getByLabel("Evidence file for “Encryption at rest”").setInputFiles(evidenceFile);
    await encryption.getByRole("button", { name: "Attach file" }).click();
    await encryption
      .getByRole("list", { name: "Evidence attached to Encryption at rest" })
      .getByText("encryption-policy.txt")
      .waitFor(LONG);

    // submitting with five questions open names them, and sends nothing
    await vendor.getByRole("button", { name: "Submit answers" }).click();
    const missing = vendor.getByRole("alert").filter({ hasText: "Answer every question before submitting" });
    await missing.waitFor();
    assert.match(
      (await missing.textContent()) ?? "",
      /2\. Encryption at rest; 3\. Breach notice within 72 hours/,
    );
    assert.doesNotMatch((await missing.textContent()) ?? "", /1\. Multi-factor/);

    for (let i = 1; i < 6; i++) await items.nth(i).getByRole("radio", { name: "Yes", exact: true }).check();
    await vendor.getByLabel("Your name and role").fill("Dana Smith, CISO");
    await screenshot(vendor, "12-questionnaire");
    await vendor.getByRole("button", { name: "Submit answers" }).click();
    await vendor.getByRole("heading", { name: "Thank you: your answers are in" }).waitFor(LONG);
    const answers = vendor.getByRole("region", { name: "Your answers" });
    await answers.getByText("Support staff still use SMS codes").waitFor();
    await answers.getByText("Evidence: encryption-policy.txt").waitFor();

    // reopening the link shows the answers, read-only
    await vendor.reload();
    await vendor.getByRole("heading", { name: "Thank you: your answers are in" }).waitFor(LONG);
    assert.equal(await vendor.getByRole("radio").count(), 0);
  });

  it("shows staff the answers, the evidence and the finding the 'no' opened; the finding gets an owner", async () => {
    await page.goto(vendorUrl);
    const questionnaires = page.locator("section.review-questionnaires");
    const item = questionnaires.getByRole("listitem", { name: /^Questionnaire of / });
    await item.getByText("answered", { exact: true }).waitFor(LONG);
    await item.getByText(/Dana Smith, CISO on /).waitFor();
    const answers = item.getByRole("table", { name: "Answers" });
    const mfaRow = answers.getByRole("row", { name: /Multi-factor authentication for vendor staff/ });
    await mfaRow.getByText("no", { exact: true }).waitFor();
    await mfaRow.getByText("Support staff still use SMS codes").waitFor();
    const encryptionRow = answers.getByRole("row", { name: /Encryption at rest/ });
    await encryptionRow.getByText("yes", { exact: true }).waitFor();
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      encryptionRow.getByRole("link", { name: "encryption-policy.txt" }).click(),
    ]);
    assert.equal(download.suggestedFilename(), "encryption-policy.txt");
    assert.equal(await readFile((await download.path()) ?? "", "utf8"), evidenceText);
    await screenshot(page, "12-questionnaire-answers", item);

    const findings = page.locator("section.review-findings");
    const row = findings.getByRole("row", { name: /Multi-factor authentication for vendor staff/ });
    await row.getByText("from a questionnaire answer").waitFor();
    await row.getByText("medium", { exact: true }).waitFor();
    await row
      .getByRole("button", { name: "Edit finding Multi-factor authentication for vendor staff" })
      .click();
    const form = findings.getByRole("form", {
      name: "Edit finding: Multi-factor authentication for vendor staff",
    });
    await form.getByLabel("Owner").selectOption({ label: `${ADMIN.name} <${ADMIN.email}> (you)` });
    await form.getByLabel("Due date").fill("2030-01-31");
    await form.getByRole("button", { name: "Save finding" }).click();
    await findings.getByText("Finding “Multi-factor authentication for vendor staff” saved.").waitFor();
    const saved = findings.getByRole("row", { name: /Multi-factor authentication for vendor staff/ });
    await saved.getByText(`${ADMIN.name} <${ADMIN.email}>`).waitFor();
    await saved.getByText("31 Jan 2030").waitFor();
    const stored = await call<{ owner: { email: string } | null; due_at: string | null }[]>(
      "GET",
      `/vendors/${vendorId("Trackly")}/findings`,
    );
    assert.equal(stored.length, 1, "one 'no' answer, one finding");
    assert.equal(stored[0]?.owner?.email, ADMIN.email);
    assert.equal(stored[0]?.due_at, "2030-01-31");

    // a finding by hand, already past its due date: overdue, and listed first among the open ones
    await findings.getByRole("button", { name: "Add finding" }).click();
    const add = findings.getByRole("form", { name: "New finding" });
    await add.getByLabel("Title").fill("No DPA on file");
    await add.getByLabel("Severity").selectOption("high");
    await add.getByLabel("Due date").fill("2024-03-01");
    await add.getByLabel("Note").fill("Legal asked for the signed DPA");
    await add.getByRole("button", { name: "Add finding" }).click();
    await findings.getByText("Finding “No DPA on file” added.").waitFor();
    const late = findings.getByRole("row", { name: /No DPA on file/ });
    await late.getByText("overdue", { exact: true }).waitFor();
    assert.match((await late.getAttribute("class")) ?? "", /finding-overdue/);
    await findings.getByText("2 open, 1 overdue, 0 closed.").waitFor();
    const rows = findings.locator("tbody tr");
    assert.match((await rows.first().textContent()) ?? "", /No DPA on file/);
  });

  it("revokes an open link, which the vendor's page then calls withdrawn", async () => {
    const questionnaires = page.locator("section.review-questionnaires");
    await questionnaires.getByRole("button", { name: "Send questionnaire" }).click();
    const second = await questionnaires.getByLabel("Questionnaire link").inputValue();
    assert.notEqual(second, link);
    // a signed-in staff member can open the link in the same browser: no session goes with it
    const staffTab = await page.context().newPage();
    await staffTab.goto(second);
    await staffTab.getByRole("heading", { name: "Trackly", level: 1 }).waitFor(LONG);
    await staffTab
      .locator("section.q-item")
      .nth(0)
      .getByLabel(/^Evidence file for/)
      .setInputFiles(evidenceFile);
    await staffTab.getByRole("button", { name: "Attach file" }).first().click();
    await staffTab
      .getByRole("list", { name: /^Evidence attached to / })
      .getByText("encryption-policy.txt")
      .waitFor(LONG);
    await staffTab.close();

    await questionnaires.getByRole("button", { name: "Done" }).click();
    await page.reload();
    const open = questionnaires
      .getByRole("listitem", { name: /^Questionnaire of / })
      .filter({ hasText: "awaiting answers" });
    await open.getByRole("table", { name: /^Evidence received so far/ }).waitFor(LONG);
    await open.getByRole("button", { name: "Revoke link" }).click();
    await open.getByRole("button", { name: "Yes, revoke" }).click();
    await questionnaires.getByText("revoked", { exact: true }).waitFor();
    const vendor = await (await e2e.newContext()).newPage();
    await vendor.goto(second);
    await vendor.getByRole("heading", { name: "This link has expired or was withdrawn" }).waitFor(LONG);
    await vendor.getByText("Ask your contact for a new one.").waitFor();
  });

  it("offboards the vendor: a scan that no longer sees it proves the integration gone; five steps, who and when", async () => {
    // a scan from before offboarding began cannot prove anything
    const early = await attachScan(new Date(Date.now() - 86_400_000), [
      { host: "cdn.trackly.example", vendor: null },
    ]);
    await page.goto(vendorUrl);
    const offboarding = page.locator("section.review-offboarding");
    await offboarding.getByRole("button", { name: "Start offboarding" }).click();
    await offboarding.getByRole("button", { name: "Yes, start offboarding" }).click();
    await offboarding.getByText(/^Offboarding since /).waitFor(LONG);
    await page.getByRole("heading", { name: "Trackly", level: 1 }).waitFor();
    await page.locator(".vendor-title").getByText("offboarding").waitFor(LONG);

    const stillThere = await attachScan(new Date(), [
      { host: "cdn.trackly.example", vendor: null },
      { host: "api.paystream.example", vendor: "Paystream" },
    ]);
    const gone = await attachScan(new Date(), [{ host: "api.paystream.example", vendor: "Paystream" }]);

    await offboarding.getByRole("button", { name: "Mark done: Integration removed" }).click();
    const integration = offboarding.getByRole("form", { name: "Mark done: Integration removed" });
    const select = integration.getByLabel("Scan that no longer sees the vendor");
    await select.locator(`option[value="${gone.scan.id}"]`).waitFor({ state: "attached", ...LONG });
    const option = (id: string) => select.locator(`option[value="${id}"]`);
    assert.equal(await option(stillThere.scan.id).isDisabled(), true);
    assert.match((await option(stillThere.scan.id).textContent()) ?? "", /this scan still sees the vendor/);
    assert.equal(await option(early.scan.id).isDisabled(), true);
    assert.match((await option(early.scan.id).textContent()) ?? "", /run before offboarding started/);
    assert.equal(await option(gone.scan.id).isDisabled(), false);
    await integration.getByText(/: this scan still sees the vendor$/).waitFor();
    await select.selectOption(gone.scan.id);
    await integration.getByLabel("Note").fill("Trackly SDK removed in web release 4.2");
    await screenshot(page, "13-offboarding-scan", integration);
    await integration.getByRole("button", { name: "Record “Integration removed”" }).click();
    const removed = offboarding.getByTestId("step-integration_removed");
    await removed.getByText(`Done by ${ADMIN.name} (you) on`).waitFor(LONG);
    await removed.getByText(gone.scan.id).waitFor();
    await removed.getByText("Trackly SDK removed in web release 4.2").waitFor();

    // the certificate before the request: the API's reason is shown as it comes
    await offboarding.getByRole("button", { name: "Mark done: Deletion certificate received" }).click();
    const certificate = offboarding.getByRole("form", { name: "Mark done: Deletion certificate received" });
    await certificate.getByRole("button", { name: "Record “Deletion certificate received”" }).click();
    await certificate.getByRole("alert").filter({ hasText: "needs deletion_requested" }).waitFor();
    await certificate.getByRole("button", { name: "Cancel" }).click();

    const mark = async (title: string, note: string) => {
      await offboarding.getByRole("button", { name: `Mark done: ${title}` }).click();
      const form = offboarding.getByRole("form", { name: `Mark done: ${title}` });
      await form.getByLabel("Note").fill(note);
      await form.getByRole("button", { name: `Record “${title}”` }).click();
      await form.waitFor({ state: "detached", ...LONG });
    };
    await mark("Keys revoked", "Project token and service account deleted");
    await mark("Data deletion requested", "Ticket TRK-4411");
    await mark("Deletion certificate received", "Certificate of deletion, signed by Trackly's DPO");
    await mark("Contract ended", "MSA terminated by letter");
    await offboarding.getByText("All 5 steps are done: Trackly is offboarded.").waitFor(LONG);
    for (const step of ["keys_revoked", "deletion_requested", "deletion_certificate", "contract_ended"]) {
      await offboarding.getByTestId(`step-${step}`).getByText(`Done by ${ADMIN.name} (you) on`).waitFor();
    }
    await page.locator(".vendor-title").getByText("offboarded").waitFor(LONG);
    assert.equal(await offboarding.getByRole("button", { name: /^Mark done/ }).count(), 0);
    await screenshot(page, "13-offboarding", offboarding);
    const v = await call<VendorRow>("GET", `/vendors/${vendorId("Trackly")}`);
    assert.equal(v.status, "offboarded");
  });

  it("holds every remaining vendor of the top tier to the elevated set in one step", async () => {
    await assignElevatedToCritical(page, e2e.server.url);
    const vendors = await call<VendorRow[]>("GET", "/vendors");
    const byName = new Map(vendors.map((v) => [v.name, v]));
    const kept = vendors.filter((v) => v.risk_tier === "critical" && v.status !== "offboarded");
    assert.deepEqual(kept.map((v) => v.name).sort(), ["Paystream", "Vaultkeys"]);
    for (const v of kept) assert.equal(v.requirement_set, "elevated", `${v.name} is held to elevated`);
    assert.equal(byName.get("Trackly")?.status, "offboarded");
    assert.equal(byName.get("Trackly")?.requirement_set, "baseline", "the offboarded vendor is left alone");
    assert.equal(byName.get("Mailfox")?.requirement_set, null, "a high vendor is below the tier");
    assert.equal(byName.get("Heatmapr")?.requirement_set, null);
  });

  it("keeps each offboarding step in the audit log with who did it", async () => {
    const events = await call<
      { actor: string; action: string; subject: string; detail: { step?: string } }[]
    >("GET", `/audit?limit=1000&subject=${encodeURIComponent(`vendor:${vendorId("Trackly")}`)}`);
    const me = await call<{ user: { id: string } }>("GET", "/me");
    const steps = events.filter((e) => e.action === "vendor.offboarding.step");
    assert.deepEqual(
      steps.map((e) => e.detail.step),
      ["integration_removed", "keys_revoked", "deletion_requested", "deletion_certificate", "contract_ended"],
    );
    for (const e of steps) assert.equal(e.actor, `user:${me.user.id}`);
    for (const action of ["vendor.offboarding.start", "vendor.offboarded", "vendor.questionnaire.submit"]) {
      assert.ok(
        events.some((e) => e.action === action),
        `${action} in ${events.map((e) => e.action).join(", ")}`,
      );
    }

    await page.goto(`${e2e.server.url}/audit`);
    await page.getByLabel("Action").fill("vendor.offboarding.step");
    await page.getByRole("button", { name: "Apply filters" }).click();
    const table = page.locator("table.audit-table");
    await table.getByText('"step":"contract_ended"', { exact: false }).waitFor(LONG);
    // The unfiltered log shows that step too: wait for the filtered answer to replace it.
    const rows = table.locator("tbody tr");
    for (let i = 0; i < 100 && (await rows.count()) !== 5; i++) await page.waitForTimeout(100);
    assert.equal(await rows.count(), 5);
    assert.equal(await table.locator("tbody tr").filter({ hasText: ADMIN.email }).count(), 5);
  });

  it("asked only its own server, with no errors in the console", () => {
    assert.deepEqual(e2e.foreignRequests, []);
    assert.deepEqual(e2e.pageErrors, []);
  });
});

/**
 * The vendors page's one-step assignment: every vendor kept (active or under review) at or above a
 * tier gets the set; vendors being offboarded or offboarded are left alone.
 */
async function assignElevatedToCritical(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/vendors`);
  await page.getByRole("button", { name: "Assign a requirement set" }).click();
  const form = page.getByRole("form", { name: "Assign a requirement set by tier" });
  await form.getByLabel("Requirement set").selectOption("elevated");
  await form.getByLabel("At or above tier").selectOption("critical");
  await form.getByRole("button", { name: "Assign…" }).click();
  const confirm = form.getByRole("alertdialog");
  await confirm.getByText(/Paystream, Vaultkeys\.$/).waitFor(LONG);
  assert.doesNotMatch((await confirm.textContent()) ?? "", /Trackly/);
  await confirm.getByRole("button", { name: "Yes, assign to 2 vendors" }).click();
  await form.getByText("Assigned 2 vendors to Elevated.").waitFor(LONG);
}
