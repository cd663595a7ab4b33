import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { parseVendorFile } from "../vendors/vendor-file.ts";
import { findExposures } from "./find-exposures.ts";
import { buildNeedles } from "./match-seeds.ts";
import type { CapturedRequest } from "./run-scan.ts";
import { loadVendorCatalogue, type VendorCatalogue } from "./vendor-catalogue.ts";

const EMAIL = "Dana.Whitfield@Example-Shop.test";
const needles = buildNeedles([
  { field: "email", category: "user.contact.email", value: EMAIL },
  { field: "user_id", category: "user.unique_id", value: "usr_7Qx4kP2m" },
]);

const request = (over: Partial<CapturedRequest> & { url: string }): CapturedRequest => ({
  method: "GET",
  resourceType: "fetch",
  headers: {},
  body: null,
  page: "https://app.shop.test/account",
  failure: null,
  thirdParty: true,
  ...over,
});

const mixpanelBody = (props: Record<string, string>) =>
  Buffer.from(
    `data=${encodeURIComponent(JSON.stringify([{ event: "viewed", properties: { ...props, token: "t", mp_lib: "web", $lib_version: "2.83.0" } }]))}`,
  );

describe("findExposures", () => {
  let catalogue: VendorCatalogue;
  before(async () => {
    catalogue = await loadVendorCatalogue();
  });

  it("names the vendor by host, keeps the chain and counts repeats as one finding", () => {
    const sha = createHash("sha256").update(EMAIL.toLowerCase()).digest("hex");
    const { findings, third_party_hosts } = findExposures(
      [
        request({ url: `https://www.facebook.com/tr/?id=1&ud[em]=${sha}`, resourceType: "image" }),
        request({
          url: "https://api-js.mixpanel.com/track/",
          method: "POST",
          body: mixpanelBody({ email: EMAIL }),
        }),
        request({
          url: "https://api-js.mixpanel.com/track/",
          method: "POST",
          body: mixpanelBody({ email: EMAIL }),
        }),
      ],
      { needles, catalogue, inventory: [] },
    );
    const pixel = findings.find((f) => f.vendor_id === "meta");
    assert.deepEqual(pixel?.chain, ["query:ud[em]", "normalised", "sha256:hex"]);
    assert.equal(pixel?.category, "user.contact.email");
    const mixpanel = findings.filter((f) => f.vendor_id === "mixpanel");
    assert.equal(mixpanel.length, 1);
    assert.equal(mixpanel[0]?.requests, 2);
    assert.deepEqual(
      third_party_hosts.map((h) => [h.host, h.vendor_id, h.requests]),
      [
        ["api-js.mixpanel.com", "mixpanel", 2],
        ["www.facebook.com", "meta", 1],
      ],
    );
  });

  it("reports first-party requests only when their payload is a known SDK's (a proxy)", () => {
    const { findings } = findExposures(
      [
        request({
          url: `https://app.shop.test/api/me?email=${encodeURIComponent(EMAIL)}`,
          thirdParty: false,
        }),
        request({
          url: "https://app.shop.test/signup",
          method: "POST",
          thirdParty: false,
          body: Buffer.from(JSON.stringify({ email: EMAIL, password: "x", token: "abc" })),
        }),
        request({
          url: "https://app.shop.test/mp/track/",
          method: "POST",
          thirdParty: false,
          body: mixpanelBody({ distinct_id: "usr_7Qx4kP2m" }),
        }),
      ],
      { needles, catalogue, inventory: [] },
    );
    assert.deepEqual(
      findings.map((f) => [f.vendor_id, f.host, f.seed_field, f.first_party_proxy]),
      [["mixpanel", "app.shop.test", "user_id", true]],
    );
  });

  it("names a third party the catalogue does not know by its site", () => {
    const body = gzipSync(JSON.stringify({ user: { mail: EMAIL } }));
    const { findings } = findExposures(
      [request({ url: "https://collect.tracker.example.net/v1", method: "POST", body })],
      { needles, catalogue, inventory: [] },
    );
    assert.deepEqual(
      findings.map((f) => [f.vendor, f.vendor_id, f.vendor_category, f.chain.join(" > ")]),
      [["example.net", "site:example.net", null, "body > gzip > json:user.mail > plain"]],
    );
  });

  it("marks flows declared by a parent category, for the web only, and lists declared flows not seen", () => {
    const inventory = parseVendorFile(
      `vendors:
  - { name: Mixpanel, data: [{ category: user.contact }, { category: user.unique_id, surface: server }] }
  - { name: Own collector, domains: [tracker.example.net], data: [{ category: user.contact.email }] }
  - { name: Hotjar, data: [{ category: user.behavior, surface: web }] }
`,
      "inventory.yaml",
    );
    const { findings, flows } = findExposures(
      [
        request({
          url: "https://api-js.mixpanel.com/track/",
          method: "POST",
          body: mixpanelBody({ email: EMAIL, distinct_id: "usr_7Qx4kP2m" }),
        }),
        request({ url: `https://collect.tracker.example.net/p?e=${encodeURIComponent(EMAIL)}` }),
      ],
      { needles, catalogue, inventory },
    );
    const declared = (vendor: string, field: string) =>
      findings.find((f) => f.vendor_id === vendor && f.seed_field === field)?.declared;
    assert.equal(declared("mixpanel", "email"), true, "user.contact covers user.contact.email");
    assert.equal(declared("mixpanel", "user_id"), false, "declared for the server, not the web");
    assert.equal(declared("site:example.net", "email"), true, "matched by the inventory's domains");
    assert.deepEqual(
      flows.map((f) => [f.vendor, f.category, f.declared, f.seen]),
      [
        ["Mixpanel", "user.unique_id", false, true],
        ["example.net", "user.contact.email", true, true],
        ["Mixpanel", "user.contact.email", true, true],
        ["Hotjar", "user.behavior", true, false],
      ],
    );
  });
});
