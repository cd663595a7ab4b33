import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AppError } from "../lib/errors.ts";
import { put, tempDir } from "../lib/test-fixtures.ts";
import {
  loadVendorCatalogue,
  parseVendorCatalogue,
  VENDOR_CATEGORIES,
  type VendorCatalogue,
} from "./vendor-catalogue.ts";

const shipped = await loadVendorCatalogue();

/** The keys a decoder would report for a request: JSON keys at any depth plus query parameter names. */
function keysOf(body: unknown, query = ""): Set<string> {
  const keys = new Set(new URLSearchParams(query).keys());
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) {
        keys.add(k);
        walk(v);
      }
    }
  };
  walk(body);
  return keys;
}

const idOf = (vendor: { id: string } | undefined) => vendor?.id;

/** A two-entry catalogue in YAML; `second` is spliced in as the second entry's extra lines. */
function yamlWith(second: string): string {
  return `vendors:
  - id: first
    name: First
    category: analytics
    domains: [first.example]
    privacy: https://first.example/privacy
  - id: second
    name: Second
${second}
`;
}
const secondOk = `    category: chat
    domains: [second.example]
    privacy: https://second.example/privacy`;

function badInputMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof AppError, `expected an AppError, got ${String(error)}`);
    assert.equal(error.code, "BAD_INPUT");
    return error.message;
  }
  assert.fail("expected a BAD_INPUT error");
}

describe("the shipped vendor catalogue", () => {
  it("loads with well over a hundred vendors, all with https privacy links", () => {
    assert.ok(shipped.vendors.length >= 120, `only ${shipped.vendors.length} vendors`);
    for (const v of shipped.vendors) {
      assert.match(v.privacy, /^https:\/\//, v.id);
      if (v.dpa) assert.match(v.dpa, /^https:\/\//, v.id);
      assert.ok(VENDOR_CATEGORIES.includes(v.category), v.id);
    }
  });

  it("has several vendors in every category the scanner must cover", () => {
    const required = [
      "analytics",
      "tag-manager",
      "session-replay",
      "chat",
      "error-tracking",
      "advertising",
      "customer-data",
    ] as const;
    for (const category of required) {
      const count = shipped.vendors.filter((v) => v.category === category).length;
      assert.ok(count >= 4, `${category} has only ${count} vendors`);
    }
  });

  it("names the vendor behind real SDK hosts", () => {
    const expected: [string, string][] = [
      ["api-js.mixpanel.com", "mixpanel"],
      ["cdn.mxpnl.com", "mixpanel"],
      ["us.i.posthog.com", "posthog"],
      ["eu.i.posthog.com", "posthog"],
      ["api.segment.io", "segment"],
      ["cdn.segment.com", "segment"],
      ["browser-intake-datadoghq.com", "datadog"],
      ["browser-intake-us5-datadoghq.com", "datadog"],
      ["browser-intake-datadoghq.eu", "datadog"],
      ["o4504.ingest.us.sentry.io", "sentry"],
      ["o123.ingest.sentry.io", "sentry"],
      ["www.facebook.com", "meta"],
      ["connect.facebook.net", "meta"],
      ["www.google-analytics.com", "google-analytics"],
      ["region1.google-analytics.com", "google-analytics"],
      ["www.googletagmanager.com", "google-tag-manager"],
      ["api2.amplitude.com", "amplitude"],
      ["bam.nr-data.net", "new-relic"],
      ["static.hotjar.com", "hotjar"],
      ["fonts.gstatic.com", "google-fonts"],
      ["cdnjs.cloudflare.com", "cdnjs"],
      ["bat.bing.com", "microsoft-advertising"],
    ];
    for (const [host, id] of expected) assert.equal(idOf(shipped.byHost(host)), id, host);
    assert.equal(shipped.byHost("www.google-analytics.com")?.name, "Google Analytics");
  });

  it("normalises the host: case and a trailing dot", () => {
    assert.equal(idOf(shipped.byHost("API-JS.Mixpanel.COM")), "mixpanel");
    assert.equal(idOf(shipped.byHost("api-js.mixpanel.com.")), "mixpanel");
  });

  it("does not name a vendor for unrelated, lookalike or IP hosts", () => {
    for (const host of [
      "example.com",
      "mixpanel.com.evil.test",
      "notmixpanel.com",
      "mixpanel.co",
      "fonts.googleapis.com.example.org",
      "gstatic.com",
      "google.com",
      "127.0.0.1",
      "[::1]",
      "::1",
      "",
    ]) {
      assert.equal(shipped.byHost(host), undefined, host);
    }
  });

  it("recognises SDK payloads behind a first-party proxy", () => {
    const mixpanel = keysOf([
      {
        event: "Signed up",
        properties: {
          token: "abc",
          distinct_id: "u1",
          $device_id: "d1",
          mp_lib: "web",
          $lib_version: "2.60.0",
          $insert_id: "x",
          $current_url: "https://app.example/",
        },
      },
    ]);
    assert.equal(idOf(shipped.bySignature(mixpanel, "/mp/track/")), "mixpanel");

    const posthogEvent = keysOf({
      api_key: "phc_x",
      batch: [
        {
          event: "$pageview",
          properties: { $lib: "web", $lib_version: "1.200.0", distinct_id: "u1", token: "phc_x" },
        },
      ],
    });
    assert.equal(idOf(shipped.bySignature(posthogEvent, "/ingest/e/")), "posthog");
    // the minimal PostHog key set must not be taken for Mixpanel, which never sends $lib
    const posthogMinimal = new Set(["$lib", "$lib_version", "distinct_id", "token"]);
    assert.equal(idOf(shipped.bySignature(posthogMinimal, "/e/")), "posthog");

    const segment = keysOf({
      type: "track",
      event: "Signed up",
      properties: {},
      context: { library: { name: "analytics.js", version: "next-1.70.0" } },
      integrations: {},
      messageId: "ajs-next-1",
      anonymousId: "a1",
      userId: "u1",
      timestamp: "2024-01-01T00:00:00Z",
      writeKey: "wk",
      sentAt: "2024-01-01T00:00:00Z",
      _metadata: { bundled: [] },
    });
    assert.equal(idOf(shipped.bySignature(segment, "/v1/t")), "segment");

    const rudderstack = keysOf({
      channel: "web",
      context: { library: { name: "RudderLabs JavaScript SDK" } },
      type: "track",
      messageId: "m1",
      originalTimestamp: "2024-01-01T00:00:00Z",
      anonymousId: "a1",
      userId: "u1",
      event: "Signed up",
      properties: {},
      integrations: { All: true },
      sentAt: "2024-01-01T00:00:00Z",
    });
    assert.equal(idOf(shipped.bySignature(rudderstack, "/v1/track")), "rudderstack");

    const sentryQuery = keysOf(
      {},
      "sentry_version=7&sentry_key=pub&sentry_client=sentry.javascript.browser%2F8.0.0",
    );
    assert.equal(idOf(shipped.bySignature(sentryQuery, "/api/4504/envelope/")), "sentry");
    const sentryTunnel = keysOf({
      event_id: "e1",
      sent_at: "2024-01-01T00:00:00Z",
      sdk: { name: "sentry.javascript.browser", version: "8.0.0" },
      dsn: "https://pub@o1.ingest.sentry.io/1",
    });
    assert.equal(idOf(shipped.bySignature(sentryTunnel, "/monitoring")), "sentry");

    const datadogProxy = keysOf({}, "ddforward=%2Fapi%2Fv2%2Frum%3Fddsource%3Dbrowser");
    assert.equal(idOf(shipped.bySignature(datadogProxy, "/dd-proxy")), "datadog");
    const datadogIntake = keysOf({}, "ddsource=browser&dd-api-key=pub&dd-evp-origin=browser&dd-request-id=1");
    assert.equal(idOf(shipped.bySignature(datadogIntake, "/api/v2/rum")), "datadog");

    const ga4 = keysOf(
      {},
      "v=2&tid=G-ABC&gtm=45je&_p=1&cid=1.2&en=page_view&dl=https%3A%2F%2Fapp.example%2F",
    );
    assert.equal(idOf(shipped.bySignature(ga4, "/g/collect")), "google-analytics");
    assert.equal(
      shipped.bySignature(ga4, "/api/collect-feedback"),
      undefined,
      "GA4 keys need the /g/collect path",
    );

    const amplitude = keysOf({
      api_key: "k",
      events: [{ event_type: "Signed up", device_id: "d", user_id: "u", insert_id: "i" }],
    });
    assert.equal(idOf(shipped.bySignature(amplitude, "/2/httpapi")), "amplitude");

    const snowplow = keysOf({
      schema: "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",
      data: [{ e: "pv", tv: "js-3.0.0", eid: "e1", p: "web", dtm: "1", duid: "d1" }],
    });
    assert.equal(idOf(shipped.bySignature(snowplow, "/com.snowplowanalytics.snowplow/tp2")), "snowplow");

    const fullstory = keysOf({}, "OrgId=o-1&UserId=1&SessionId=2&PageId=3&Seq=1");
    assert.equal(idOf(shipped.bySignature(fullstory, "/rec/bundle")), "fullstory");

    const heap = keysOf({ app_id: "1", identity: "alice@example.com", event: "Signed up", properties: {} });
    assert.equal(idOf(shipped.bySignature(heap, "/api/track")), "heap");
  });

  it("does not fire on an ordinary first-party app API", () => {
    const requests: [Set<string>, string][] = [
      [new Set(["email", "password", "name", "id", "user_id", "token"]), "/api/login"],
      [keysOf({ email: "a@example.com", password: "x", remember: true }), "/api/session"],
      [keysOf({ user: { id: 1, name: "A", email: "a@example.com", token: "t" } }), "/api/users/1"],
      [keysOf({ query: "q", variables: { id: 1 }, operationName: "Me" }), "/graphql"],
      [keysOf({ data: { type: "users", id: "1", attributes: { name: "A" } } }), "/api/users"],
      // an app's own event log looks like analytics but carries no SDK's markers
      [keysOf({ event: "clicked", properties: { page: "/" }, timestamp: "t", userId: "u" }), "/api/events"],
      [keysOf({ events: [{ type: "view", id: 1 }], session: "s", version: "1" }), "/api/track"],
      [keysOf({ data: { id: 1 }, token: "t", distinct_id: "u" }), "/api/collect"],
      [keysOf({}, "v=1&id=2&t=3&page=1"), "/search"],
      [keysOf({ error: { message: "m", stack: "s" }, url: "u", environment: "prod" }), "/api/errors"],
    ];
    for (const [keys, path] of requests) {
      const hit = shipped.bySignature(keys, path);
      assert.equal(hit, undefined, `${[...keys].join(",")} ${path} taken for ${hit?.id}`);
    }
    assert.equal(shipped.bySignature(new Set(), "/g/collect"), undefined);
  });

  it("finds vendors by id and, case-insensitively, by name or id", () => {
    assert.equal(shipped.byId("mixpanel")?.name, "Mixpanel");
    assert.equal(shipped.byId("Mixpanel"), undefined);
    assert.equal(idOf(shipped.byName("MIXPANEL")), "mixpanel");
    assert.equal(idOf(shipped.byName("google analytics")), "google-analytics");
    assert.equal(idOf(shipped.byName("Google-Analytics")), "google-analytics");
    assert.equal(shipped.byName("no such vendor"), undefined);
  });
});

describe("parseVendorCatalogue", () => {
  const two = (a: string, b: string): VendorCatalogue =>
    parseVendorCatalogue(
      `vendors:
  - id: broad
    name: Broad CDN
    category: fonts-cdn
    domains: [${a}]
    privacy: https://broad.example/privacy
    signatures:
      - keys: [alpha, beta]
  - id: narrow
    name: Narrow Analytics
    category: analytics
    domains: [${b}]
    privacy: https://narrow.example/privacy
    dpa: https://narrow.example/dpa
    signatures:
      - keys: [alpha, beta, gamma]
        path: '^/v\\d+/collect$'
`,
      "test.yaml",
    );

  it("lets the longest listed domain win", () => {
    const c = two("cdn.example", "special.cdn.example");
    assert.equal(idOf(c.byHost("x.special.cdn.example")), "narrow");
    assert.equal(idOf(c.byHost("special.cdn.example")), "narrow");
    assert.equal(idOf(c.byHost("other.cdn.example")), "broad");
    assert.equal(idOf(c.byHost("cdn.example")), "broad");
    assert.equal(c.byHost("example"), undefined);
  });

  it("prefers the matching signature with the most keys, and honours its path", () => {
    const c = two("cdn.example", "special.cdn.example");
    const keys = new Set(["alpha", "beta", "gamma", "other"]);
    assert.equal(idOf(c.bySignature(keys, "/v2/collect")), "narrow");
    assert.equal(idOf(c.bySignature(keys, "/v2/collect/more")), "broad", "narrow's path does not match");
    assert.equal(idOf(c.bySignature(new Set(["alpha", "beta"]), "/v2/collect")), "broad");
    assert.equal(c.bySignature(new Set(["alpha"]), "/v2/collect"), undefined);
    assert.equal(c.byId("narrow")?.dpa, "https://narrow.example/dpa");
    assert.equal(c.byId("broad")?.dpa, undefined);
  });

  it("names the source, entry and field of each problem", () => {
    const cases: [string, RegExp][] = [
      [
        yamlWith(secondOk).replace("id: second", "id: first"),
        /test\.yaml line \d+: vendors\[1\] \(id first\): field id: first is already used by .*vendors\[0\]/,
      ],
      [
        yamlWith(secondOk.replace("second.example]", "first.example]")),
        /vendors\[1\] \(id second\): field domains\[0\]: first\.example is already listed by .*vendors\[0\] \(id first\)/,
      ],
      [
        yamlWith(secondOk.replace("category: chat", "category: chatbots")),
        /vendors\[1\] \(id second\): field category: must be one of: analytics/,
      ],
      [
        yamlWith(secondOk.replace("https://second", "http://second")),
        /vendors\[1\] \(id second\): field privacy: must be an https:\/\/ URL/,
      ],
      [
        `${yamlWith(secondOk)}    signatures:\n      - keys: [a]\n        path: '(unclosed'\n`,
        /vendors\[1\] \(id second\): field signatures\[0\]\.path: not a valid JavaScript regular expression/,
      ],
      [
        `${yamlWith(secondOk)}    signatures:\n      - keys: []\n`,
        /vendors\[1\] \(id second\): field signatures\[0\]\.keys: a signature needs at least one key/,
      ],
      [
        yamlWith(secondOk.replace("second.example]", "10.0.0.1]")),
        /vendors\[1\] \(id second\): field domains\[0\]: a lowercase host name/,
      ],
      [
        yamlWith(secondOk.replace("second.example]", "Second.Example]")),
        /field domains\[0\]: a lowercase host name/,
      ],
      [
        yamlWith(`${secondOk}\n    domain: [x.example]`),
        /vendors\[1\] \(id second\): field \(entry\): unknown field domain/,
      ],
      [
        yamlWith(secondOk.replace("    privacy: https://second.example/privacy", "")),
        /vendors\[1\] \(id second\): field privacy: is required/,
      ],
      [
        yamlWith(secondOk.replace("second.example]", "second.example, second.example]")),
        /vendors\[1\] \(id second\): field domains\[1\]: second\.example is listed twice/,
      ],
      [
        yamlWith(secondOk).replace("id: second", "id: Second Vendor"),
        /vendors\[1\] \(id Second Vendor\): field id: a lowercase slug/,
      ],
      ["vendor:\n  - id: x\n", /test\.yaml: .*vendors:/],
      ["vendors: [\n", /test\.yaml line \d+: not valid YAML/],
    ];
    for (const [text, expected] of cases) {
      const message = badInputMessage(() => parseVendorCatalogue(text, "test.yaml"));
      assert.match(message, expected);
      assert.ok(message.startsWith("test.yaml"), message);
    }
  });

  it("reports the line of the offending entry", () => {
    const message = badInputMessage(() =>
      parseVendorCatalogue(yamlWith(secondOk.replace("category: chat", "category: nope")), "x.yaml"),
    );
    // the category of the second entry sits on line 9
    assert.match(message, /^x\.yaml line 9: /);
  });
});

describe("loadVendorCatalogue", () => {
  const own = `vendors:
  - id: acme-analytics
    name: Acme Analytics
    category: analytics
    domains: [acme-analytics.example]
    privacy: https://acme-analytics.example/privacy
  - id: mixpanel
    name: Mixpanel (EU residency)
    category: analytics
    domains: [mixpanel.com, mxpnl.com]
    privacy: https://mixpanel.com/legal/privacy-policy/
`;

  it("uses a given file instead of the shipped catalogue", async () => {
    const file = await put(await tempDir(), "own.yaml", own);
    const c = await loadVendorCatalogue(file);
    assert.deepEqual(
      c.vendors.map((v) => v.id),
      ["acme-analytics", "mixpanel"],
    );
    assert.equal(c.byHost("www.google-analytics.com"), undefined);
  });

  it("with extend, adds the file's vendors to the shipped ones and replaces those with the same id", async () => {
    const file = await put(await tempDir(), "own.yaml", own);
    const c = await loadVendorCatalogue(file, { extend: true });
    assert.equal(c.vendors.length, shipped.vendors.length + 1);
    assert.equal(idOf(c.byHost("cdn.acme-analytics.example")), "acme-analytics");
    assert.equal(c.byHost("api-js.mixpanel.com")?.name, "Mixpanel (EU residency)");
    assert.equal(c.byId("mixpanel")?.signatures.length, 0);
    assert.equal(idOf(c.byHost("www.google-analytics.com")), "google-analytics");
  });

  it("with extend, rejects a domain the shipped catalogue gives another vendor, naming both files", async () => {
    const file = await put(
      await tempDir(),
      "own.yaml",
      own.replace("[acme-analytics.example]", "[acme-analytics.example, segment.io]"),
    );
    await assert.rejects(loadVendorCatalogue(file, { extend: true }), (error: AppError) => {
      assert.equal(error.code, "BAD_INPUT");
      assert.match(
        error.message,
        /own\.yaml line \d+: vendors\[0\] \(id acme-analytics\): field domains\[1\]: segment\.io is already listed by .*vendors\.yaml line \d+: vendors\[\d+\] \(id segment\)/,
      );
      return true;
    });
  });

  it("names a file it cannot read", async () => {
    const missing = `${await tempDir()}/nope.yaml`;
    await assert.rejects(loadVendorCatalogue(missing), (error: AppError) => {
      assert.equal(error.code, "BAD_INPUT");
      assert.match(error.message, /nope\.yaml: cannot read the vendor catalogue \(ENOENT\)/);
      return true;
    });
  });
});
