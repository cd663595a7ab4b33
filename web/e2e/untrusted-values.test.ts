import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { tempDir } from "../../src/lib/test-fixtures.ts";
import {
  demoUsers,
  type E2E,
  previewFrameDocument,
  screenshot,
  setUpFirstAdmin,
  startE2E,
} from "./harness.ts";

const LONG = { timeout: 180_000 };
const IMG = "<img src=x onerror=alert(1)>";
const SCRIPT = "<script>alert(2)</script>";
const FIELD = "<img src=y onerror=alert(3)>";
const FILE = "<img src=z onerror=alert(4)>.csv";

/**
 * A vendor's export is attacker-controlled: names, field names, the file name and bad rows that end
 * up in the quarantine all carry markup. Every page that shows them must show text, and nothing
 * may run or load.
 */
describe("markup in a dataset", { timeout: 600_000 }, () => {
  let e2e: E2E;
  let page: Page;
  let incidentUrl = "";

  before(async () => {
    e2e = await startE2E();
    page = await (await e2e.newContext()).newPage();
    await setUpFirstAdmin(e2e, page);
  });
  after(async () => {
    await e2e?.close();
  });

  it("is shown as text on the datasets page, the fields, the quarantine and the timeline", async () => {
    const [known] = await demoUsers(e2e, 1);
    const dir = await tempDir("blastradius-e2e-xss-");
    const file = path.join(dir, FILE);
    const csv = (cells: string[]) => cells.map((c) => `"${c.replaceAll('"', '""')}"`).join(",");
    await writeFile(
      file,
      [
        csv(["email", "name", FIELD]),
        csv([known?.email ?? "", IMG, SCRIPT]),
        csv(["mallory@evil.example", IMG, "x"]),
        csv(["trent@evil.example", SCRIPT, "y"]),
        csv(["", `"><svg onload=alert(5)>`, "no identifier: quarantined"]),
      ].join("\n"),
    );
    await page.getByRole("link", { name: "Demo: analytics vendor breach" }).click();
    await page.getByRole("heading", { name: "Timeline" }).waitFor();
    incidentUrl = page.url().replace(/\/$/, "");
    await page.getByRole("link", { name: "Datasets" }).click();
    await page.getByLabel("Dataset file").setInputFiles(file);
    await page.getByRole("button", { name: "Upload", exact: true }).click();
    await page.getByRole("heading", { name: `Fields and mapping of ${FILE}` }).waitFor(LONG);
    await page.getByText(FIELD, { exact: true }).first().waitFor(LONG);
    await page.getByRole("button", { name: "Run analysis" }).click();
    await page.getByText("Analysis finished.").waitFor(LONG);
    await page.getByText(`"><svg onload=alert(5)>`).first().waitFor();
    await screenshot(page, "xss-datasets");

    await page.goto(incidentUrl);
    await page.getByText(`Dataset received: ${FILE}`).waitFor();
  });

  it("is shown as text in the people table", async () => {
    await page.goto(`${incidentUrl}/blast-radius`);
    for (const [email, name] of [
      ["mallory@evil.example", IMG],
      ["trent@evil.example", SCRIPT],
    ] as const) {
      await page.getByLabel("Search people").fill(email);
      await page.getByRole("button", { name: "Search", exact: true }).click();
      const table = page.getByRole("table", { name: "Affected people", exact: true });
      await table.getByText(email).waitFor();
      await table.getByText(name, { exact: true }).waitFor();
    }
    await screenshot(page, "xss-people");
  });

  it("is escaped in a notice's preview", async () => {
    await page.goto(`${incidentUrl}/campaigns`);
    await page.getByRole("button", { name: "New campaign" }).click();
    const form = page.getByRole("form", { name: "New campaign" });
    await form.getByLabel("Campaign ID").fill("xss-check");
    await form.getByRole("radio", { name: "Users" }).check();
    await form.getByLabel("From address").fill("security@company.example");
    await form.getByRole("button", { name: "Create campaign" }).click();
    await page.getByRole("heading", { name: /^Campaign / }).waitFor(LONG);
    await page.getByLabel("Recipient").fill("mallory@evil.example");
    await page.getByLabel("Recipient").press("Enter");
    await page.getByTestId("preview-text").getByText(IMG).waitFor();
    const { html, csp } = await previewFrameDocument(page, "mallory%40evil.example");
    // Handlebars escapes < > and = alike
    assert.match(html, /&lt;img src(=|&#x3D;)x onerror(=|&#x3D;)alert\(1\)&gt;/, "the name is escaped");
    assert.doesNotMatch(html, /<img|<script/i, "no markup from the dataset in the HTML part");
    assert.match(csp, /(^|; )sandbox($|;)/);
    assert.doesNotMatch(csp, /script-src|allow-scripts/);
    await page.getByTitle("HTML preview").scrollIntoViewIfNeeded();
    await screenshot(page, "xss-preview");
  });

  it("never ran, loaded or left the origin", async () => {
    for (const p of ["/blast-radius", "/datasets", "", "/campaigns/xss-check"]) {
      await page.goto(`${incidentUrl}${p}`);
      await page.waitForLoadState("networkidle");
      // the markup would have made elements; it made none
      assert.equal(await page.locator("img[src=x], img[src=y], img[src=z], svg[onload]").count(), 0, p);
    }
    assert.deepEqual(e2e.pageErrors, [], "no alert and no console error");
    const loaded = e2e.requests.filter((u) => /\/(x|y|z)(\?|$)/.test(new URL(u).pathname));
    assert.deepEqual(loaded, [], "no image from the markup was requested");
    assert.deepEqual(e2e.foreignRequests, []);
  });
});
