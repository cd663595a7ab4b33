import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { BrowserContext, Page } from "playwright-core";
import { tempDir } from "../../src/lib/test-fixtures.ts";
import {
  ADMIN,
  currentTotp,
  demoUsers,
  type E2E,
  previewFrameDocument,
  screenshot,
  setUpFirstAdmin,
  signIn,
  startE2E,
} from "./harness.ts";

const LONG = { timeout: 180_000 };

/**
 * The whole demo incident, as a response team walks it in the browser: first-run set-up, sign-in
 * with a second factor, a new dataset mapped and analysed, the blast radius, a judgment question,
 * a campaign approved by a second person and sent to the outbox, and the regulator report.
 */
describe("the demo incident in the browser", { timeout: 900_000 }, () => {
  let e2e: E2E;
  let admin: BrowserContext;
  let page: Page;
  let totpSecret = "";
  let incidentUrl = "";
  let campaignUrl = "";
  const responder = { email: "counsel@example.com", password: "another long passphrase" };
  let supportUsers: { email: string }[] = [];

  before(async () => {
    e2e = await startE2E();
    admin = await e2e.newContext();
    page = await admin.newPage();
  });
  after(async () => {
    await e2e?.close();
  });

  it("creates the first admin with the set-up code and a second factor", async () => {
    totpSecret = await setUpFirstAdmin(e2e, page, true);
  });

  it("signs out and back in with the authenticator's code", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to blastradius" }).waitFor();
    await page.getByLabel("Email").fill(ADMIN.email);
    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByLabel("Authenticator code").fill(currentTotp(totpSecret));
    await screenshot(page, "02-sign-in");
    await page.getByRole("button", { name: "Verify and sign in" }).click();
    await page.getByRole("heading", { name: "Incidents" }).waitFor();
    await screenshot(page, "03-incidents");
  });

  it("opens the demo incident: clocks, deadlines and the timeline", async () => {
    await page.getByRole("link", { name: "Demo: analytics vendor breach" }).click();
    await page.getByRole("heading", { name: "Timeline" }).waitFor();
    incidentUrl = page.url().replace(/\/$/, "");
    await page.getByText("Dataset received:").first().waitFor(LONG);
    await page.getByText("Loading the deadlines").waitFor({ state: "detached", ...LONG });
    await page
      .getByText(/ left$/)
      .first()
      .waitFor();
    await screenshot(page, "04-incident-overview");
  });

  it("uploads a dataset, maps a field and runs the analysis", async () => {
    const users = await demoUsers(e2e, 6);
    supportUsers = users;
    const dir = await tempDir("blastradius-e2e-upload-");
    const file = path.join(dir, "support-export.csv");
    await writeFile(
      file,
      [
        "email,name,plan,ticket_subject",
        ...users.map((u, i) => `${u.email},${u.name},${i % 2 ? "team" : "pro"},Billing question ${i}`),
        ",,pro,no identifier on this row",
      ].join("\n"),
    );
    await page.getByRole("link", { name: "Datasets" }).click();
    await page.getByLabel("Dataset file").setInputFiles(file);
    await page.getByRole("button", { name: "Upload", exact: true }).click();
    await page.getByText("Uploaded support-export.csv").waitFor(LONG);

    // the new upload opens on its fields
    await page.getByRole("heading", { name: "Fields and mapping of support-export.csv" }).waitFor(LONG);
    await page.getByLabel("Category of plan").selectOption("user.account");
    await page.getByRole("button", { name: "Save mapping" }).click();
    await page.getByText("Mapping saved.").waitFor();
    await screenshot(page, "05-dataset-mapping", page.getByRole("heading", { name: /^Fields and mapping/ }));

    await page.getByRole("button", { name: "Run analysis" }).click();
    await page.getByText("Analysis finished.").waitFor(LONG);
    await page.getByRole("heading", { name: "Quarantine" }).waitFor();
    const reconcile = await page.getByTestId("quarantine-reconcile").textContent();
    assert.match(reconcile ?? "", /reconcile/);
    await screenshot(page, "06-datasets-analysed");
  });

  it("reads the blast radius and finds one person", async () => {
    await page.getByRole("link", { name: "See the blast radius" }).click();
    await page.getByRole("heading", { name: "People by data category" }).waitFor();
    await page.getByRole("heading", { name: "People by country" }).waitFor();
    await page.getByRole("heading", { name: "Affected organisations" }).waitFor();
    await screenshot(page, "07-blast-radius");
    await screenshot(
      page,
      "07-blast-radius-people",
      page.getByRole("heading", { name: "Affected organisations" }),
    );
    const email = supportUsers[0]?.email ?? "";
    await page.getByLabel("Search people").fill(email.toUpperCase());
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await page.getByText("1 person match").waitFor();
    const table = page.getByRole("table", { name: "Affected people", exact: true });
    assert.equal(await table.getByRole("row").count(), 2, "a header and the one match");
    await table.getByText(email).waitFor();
  });

  it("answers a judgment question and marks a notice filed", async () => {
    await page.goto(`${incidentUrl}/obligations`);
    const question = page.getByRole("form", { name: /^Answer: / }).first();
    await question.waitFor(LONG);
    const title = ((await question.getAttribute("aria-label")) ?? "").replace(/^Answer: /, "");
    await question.getByRole("radio", { name: "Required", exact: true }).check();
    await question
      .getByLabel("Rationale")
      .fill("Emails and names in the export: counsel's view is that notice is owed.");
    await question.getByRole("button", { name: "Record answer" }).click();
    await page.getByRole("button", { name: `Change answer: ${title}` }).waitFor();

    await page
      .getByRole("button", { name: /^Mark as filed: / })
      .first()
      .click();
    const filing = page.getByRole("form", { name: /^File notice: / });
    await filing.getByLabel("Reference").fill("DPA-2026-0042");
    await filing.getByRole("button", { name: "Record filing" }).click();
    await page.getByText("DPA-2026-0042").first().waitFor();
    await screenshot(page, "08-obligations");
  });

  it("adds a responder on the users page", async () => {
    await page.getByRole("link", { name: "Users" }).click();
    await page.getByRole("button", { name: "New user" }).click();
    const form = page.getByRole("form", { name: "New user" });
    await form.getByLabel("Email").fill(responder.email);
    await form.getByLabel("Name").fill("Outside counsel");
    await form.getByLabel("Role").selectOption("responder");
    await form.getByLabel("Initial password").fill(responder.password);
    await form.getByRole("button", { name: "Create user" }).click();
    await page.getByRole("heading", { name: `Account created: ${responder.email}` }).waitFor();
    await page.getByRole("button", { name: "Done" }).click();
    await screenshot(page, "09-users");
  });

  it("creates a campaign and previews it per recipient and language", async () => {
    await page.goto(`${incidentUrl}/campaigns`);
    await page.getByRole("button", { name: "New campaign" }).click();
    const form = page.getByRole("form", { name: "New campaign" });
    await form.getByRole("radio", { name: "Users" }).check();
    await form.getByLabel("From address").fill("security@company.example");
    await form.getByLabel("Company").fill("Example Company");
    await form.getByLabel("Contact for questions").fill("privacy@company.example");
    await form.getByRole("button", { name: "Create campaign" }).click();
    await page.getByRole("heading", { name: /^Campaign / }).waitFor(LONG);
    campaignUrl = page.url();

    // the second suggested recipient, typed in
    const second = await page.locator("datalist option").nth(1).getAttribute("value");
    assert.ok(second);
    await page.getByLabel("Recipient").fill(second);
    await page.getByLabel("Recipient").press("Enter");
    await page.getByText(`<${second}>`).first().waitFor();
    const language = page.getByLabel("Language", { exact: true });
    await language.selectOption("es");
    await page.getByTestId("preview-subject").waitFor();
    await page
      .getByTestId("preview-text")
      .getByText(/Example Company/)
      .waitFor();
    const spanish = await page.getByTestId("preview-subject").textContent();
    await language.selectOption("de");
    const subject = page.getByTestId("preview-subject");
    for (let i = 0; i < 100 && (await subject.textContent()) === spanish; i++) await page.waitForTimeout(100);
    assert.notEqual(await subject.textContent(), spanish, "the German subject replaced the Spanish one");
    const { html } = await previewFrameDocument(page, "locale=de");
    assert.match(html, /Example Company/);
    assert.match(html, /<html[^>]*lang="de"/);
    await page.getByTitle("HTML preview").scrollIntoViewIfNeeded();
    await screenshot(page, "10-campaign-preview", page.getByRole("heading", { name: "Preview" }));
  });

  it("needs a second person to approve, then sends to the outbox", async () => {
    await page.getByText("a second person must approve").waitFor();
    const counsel = await e2e.newContext();
    const other = await counsel.newPage();
    await signIn(other, e2e.server.url, responder);
    await other.goto(campaignUrl);
    await other.getByRole("button", { name: "Approve campaign" }).click();
    await other.getByText(/^Approved /).waitFor();
    await counsel.close();

    await page.reload();
    await page.getByRole("button", { name: "Send campaign" }).click();
    const finished = page.getByText(/^Sending finished: [\d,]+ sent, 0 failed/);
    await finished.waitFor(LONG);
    const sent = Number(/([\d,]+) sent/.exec((await finished.textContent()) ?? "")?.[1]?.replaceAll(",", ""));
    assert.ok(sent > 0, "messages went to the outbox");
    await screenshot(page, "11-campaign-sent");
  });

  it("downloads the regulator report as PDF and Markdown", async () => {
    await page.goto(`${incidentUrl}/reports`);
    await page.getByRole("heading", { name: "Regulator report draft (Markdown)" }).waitFor();
    const [pdf] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Download regulator report (PDF)" }).click(),
    ]);
    const pdfBytes = await readFile((await pdf.path()) as string);
    assert.equal(pdfBytes.subarray(0, 5).toString("latin1"), "%PDF-");
    const [md] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Download regulator report (Markdown)" }).click(),
    ]);
    const markdown = await readFile((await md.path()) as string, "utf8");
    assert.match(markdown, /33\(3\)/);
    assert.doesNotMatch(markdown, new RegExp(supportUsers[0]?.email ?? "^$"), "counts only, no addresses");
    await screenshot(page, "12-reports");
  });

  it("shows vendors and a verified audit chain", async () => {
    await page.getByRole("link", { name: "Vendors" }).click();
    await page.getByText("Product analytics vendor (demo)").first().waitFor();
    await screenshot(page, "13-vendors");
    await page.getByRole("link", { name: "Audit log" }).click();
    await page.getByText(/^Chain verified: \d+ events/).waitFor(LONG);
    await screenshot(page, "14-audit");
  });

  it("works on a narrow screen", async () => {
    const narrow = await e2e.newContext({ width: 375, height: 800 });
    const phone = await narrow.newPage();
    await signIn(phone, e2e.server.url, responder);
    await phone.goto(`${incidentUrl}/blast-radius`);
    await phone.getByRole("heading", { name: "People by country" }).waitFor();
    const overflow = await phone.evaluate("document.documentElement.scrollWidth - window.innerWidth");
    const wide = await phone.evaluate(
      `[...document.querySelectorAll("body *")].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest(".table-wrap")).slice(0, 5).map((e) => e.tagName + "." + e.className).join(" ")`,
    );
    assert.ok((overflow as number) <= 1, `the page scrolls sideways by ${overflow} px: ${wide}`);
    await screenshot(phone, "15-blast-radius-narrow");
    await phone.getByRole("button", { name: "Menu" }).click();
    await phone.getByRole("link", { name: "Incidents" }).click();
    await phone.getByRole("heading", { name: "Incidents" }).waitFor();
    await narrow.close();
  });

  it("made no request outside the server's origin and broke no policy", () => {
    assert.deepEqual(e2e.foreignRequests, []);
    assert.deepEqual(e2e.pageErrors, []);
  });
});
