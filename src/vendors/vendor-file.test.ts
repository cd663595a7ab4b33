import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AppError } from "../lib/errors.ts";
import { parseVendorFile } from "./vendor-file.ts";

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
