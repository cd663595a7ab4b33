import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { buildCorpus, type Corpus } from "../../src/phishing/verify-email/test-corpus.ts";
import { type E2E, screenshot, setUpFirstAdmin, startE2E } from "./harness.ts";

const LONG = { timeout: 60_000 };

/**
 * The public "is this message really from us?" page in Chromium: no sign-in, a pasted message or a
 * chosen .eml file, the verdict and its reasons in words; nothing requested outside the server.
 */
describe("the public message check page", { timeout: 300_000 }, () => {
  let corpus: Corpus;
  let e2e: E2E;
  let page: Page;

  before(async () => {
    corpus = await buildCorpus();
    e2e = await startE2E({
      BLASTRADIUS_OFFICIAL_DOMAINS: "openai.com",
      BLASTRADIUS_DNS_CACHE: corpus.dnsCacheFile,
    });
    page = await (await e2e.newContext({ width: 390, height: 844 })).newPage();
  });
  after(async () => {
    await e2e?.close();
  });

  const check = async () => {
    await page.getByRole("button", { name: "Check the message" }).click();
  };

  it("opens without signing in and shows the verdict and reasons for a pasted phishing message", async () => {
    await page.goto(`${e2e.server.url}/verify`);
    await page.getByRole("heading", { name: "Is this message really from us?" }).waitFor();
    assert.equal(await page.getByRole("heading", { name: "Sign in to blastradius" }).count(), 0);

    await page.getByLabel("Message source").fill(corpus.messages["mismatched-link"].toString("utf8"));
    await check();
    await page.getByRole("heading", { name: "Phishing: do not trust this message" }).waitFor(LONG);
    await page.getByText("A link shows openai.com but leads to evil.example.").waitFor();
    await page
      .getByText("This message pretends to come from us, or leads to places that pretend to be ours.")
      .waitFor();
    await screenshot(page, "verify-email-phishing", page.getByRole("heading", { name: /^Phishing/ }));

    await page.getByLabel("Message source").fill(corpus.messages["display-name"].toString("utf8"));
    await check();
    await page.getByText(/The sender's name “OpenAI Support” claims to be us \(openai\.com\)/).waitFor(LONG);
  });

  it("checks a chosen .eml file and shows the authentication results of a genuine message", async () => {
    await page.getByRole("button", { name: "Clear" }).click();
    await page.getByLabel("Or choose a saved message (.eml)").setInputFiles(corpus.files.genuine);
    await check();
    await page.getByRole("heading", { name: "Authentic: this message is from us" }).waitFor(LONG);
    const table = page.getByRole("table", { name: "Authentication results" });
    await table.getByRole("row", { name: /DMARC.*pass for openai\.com \(policy: reject\)/ }).waitFor();
    await table.getByRole("row", { name: /DKIM.*pass for openai\.com/ }).waitFor();
    await table.getByRole("row", { name: /SPF.*pass \(192\.0\.2\.25 for openai\.com\)/ }).waitFor();
    await screenshot(page, "verify-email-authentic", table);
  });

  it("says what to paste when the text is not a message", async () => {
    await page.getByRole("button", { name: "Clear" }).click();
    await page.getByLabel("Message source").fill("Did you really send me this?");
    await check();
    await page.getByRole("alert").filter({ hasText: "not an email message" }).waitFor(LONG);
  });

  it("asked only its own server, for nothing but the check, with no errors", () => {
    assert.deepEqual(e2e.foreignRequests, []);
    const api = e2e.requests.filter((u) => new URL(u).pathname.startsWith("/api/"));
    assert.ok(api.length >= 4, api.join("\n"));
    assert.deepEqual(
      [...new Set(api.map((u) => new URL(u).pathname))],
      ["/api/v1/verify-email"],
      "the public page needs no session and asks for none",
    );
    assert.deepEqual(e2e.pageErrors, []);
  });

  it("works for a signed-in staff member too, whose session cookie is not sent", async () => {
    const staff = await (await e2e.newContext()).newPage();
    await setUpFirstAdmin(e2e, staff);
    await staff.goto(`${e2e.server.url}/verify`);
    await staff.getByLabel("Message source").fill(corpus.messages["spoofed-from"].toString("utf8"));
    await staff.getByRole("button", { name: "Check the message" }).click();
    await staff.getByRole("heading", { name: "Phishing: do not trust this message" }).waitFor(LONG);
    await staff.getByText(/fails that domain's DMARC check/).waitFor();
    assert.deepEqual(e2e.foreignRequests, []);
    assert.deepEqual(e2e.pageErrors, []);
  });

  it("is linked from the sign-in page", async () => {
    const visitor = await (await e2e.newContext()).newPage();
    await visitor.goto(e2e.server.url);
    await visitor.getByRole("heading", { name: "Sign in to blastradius" }).waitFor();
    await visitor.getByRole("link", { name: "Check whether it is genuine." }).click();
    await visitor.getByRole("heading", { name: "Is this message really from us?" }).waitFor();
  });
});
