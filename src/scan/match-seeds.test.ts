import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { decodeRequest, type Leaf } from "./decode-payload.ts";
import { buildNeedles, findSeeds, normalise, type SeedValue } from "./match-seeds.ts";

const EMAIL: SeedValue = { field: "email", category: "user.contact.email", value: "Jane.Doe@Example.com" };
const NAME: SeedValue = { field: "name", category: "user.name", value: "Zoë Ångström" };
const PHONE: SeedValue = {
  field: "phone",
  category: "user.contact.phone_number",
  value: "+1 (555) 010-4477",
};
const USER_ID: SeedValue = { field: "user_id", category: "user.unique_id", value: "usr_8XkQ2mLp" };

const digest = (algorithm: string, s: string, encoding: "hex" | "base64") =>
  createHash(algorithm).update(s, "utf8").digest(encoding);

/** Each first-level encoding as the test computes it independently of the code under test. */
const ENCODE: Record<string, (s: string) => string> = {
  "url-encoded": (s) => encodeURIComponent(s),
  base64: (s) => Buffer.from(s).toString("base64"),
  base64url: (s) => Buffer.from(s).toString("base64url"),
};
for (const algorithm of ["md5", "sha1", "sha256", "sha512"]) {
  ENCODE[`${algorithm}:hex`] = (s) => digest(algorithm, s, "hex");
  ENCODE[`${algorithm}:base64`] = (s) => digest(algorithm, s, "base64");
}

function encode(steps: string[], value: string): string {
  return steps.reduce((s, step) => {
    const fn = ENCODE[step];
    assert.ok(fn, step);
    return fn(s);
  }, value);
}

const chains = (matches: { chain: string[] }[]) => matches.map((m) => m.chain.join(" > ")).sort();

describe("normalise", () => {
  it("uses the ad-pixel normalisation of each kind of field", () => {
    assert.equal(normalise("email", "  Jane.Doe@Example.COM "), "jane.doe@example.com");
    assert.equal(normalise("email", "jane@example.com"), undefined, "already normal");
    assert.equal(normalise("phone", "+1 (555) 010-4477"), "15550104477");
    assert.equal(normalise("mobile_phone", "0044 20 7946-0958"), "442079460958", "leading zeros dropped");
    assert.equal(normalise("name", "  Jane  O'Neil-Smith "), "jane oneilsmith");
    assert.equal(normalise("first_name", "Zoë"), "zoë");
    assert.equal(normalise("user_id", "AbC123"), undefined, "ids are sent as given");
  });
});

describe("findSeeds", () => {
  const needles = buildNeedles([NAME]);

  for (const step of Object.keys(ENCODE)) {
    it(`finds the value as ${step}`, () => {
      const encoded = encode([step], NAME.value);
      assert.notEqual(encoded, NAME.value);
      // The name's UTF-8 makes base64 use `/`, so base64 and base64url really differ.
      if (step === "base64url") assert.notEqual(encoded, encode(["base64"], NAME.value).replace(/=+$/, ""));
      const leaf: Leaf = { text: `{"v":"${encoded}","other":"x"}`, chain: ["body"] };
      assert.deepEqual(chains(findSeeds(needles, [leaf])), [`body > plain > ${step}`]);
    });
  }

  const twoDeep = [
    ["md5:hex", "sha256:hex"],
    ["sha256:hex", "sha256:hex"],
    ["sha256:hex", "base64"],
    ["base64", "md5:hex"],
    ["sha1:hex", "sha512:base64"],
    ["url-encoded", "sha256:hex"],
    ["sha256:base64", "url-encoded"],
  ];
  for (const steps of twoDeep) {
    it(`finds a two-deep chain ${steps.join(" then ")}`, () => {
      const leaf: Leaf = { text: encode(steps, NAME.value), chain: ["query:h"] };
      assert.deepEqual(chains(findSeeds(needles, [leaf])), [`query:h > plain > ${steps.join(" > ")}`]);
    });
  }

  it("finds the normalised email's SHA-256 hex the way a pixel sends it, in either case", () => {
    const set = buildNeedles([EMAIL]);
    const hash = digest("sha256", "jane.doe@example.com", "hex");
    const leaves: Leaf[] = [
      { text: hash, chain: ["query:udff[em]"] },
      { text: `em=${hash.toUpperCase()}`, chain: ["body"] },
      { text: encode(["sha256:hex", "base64"], "jane.doe@example.com"), chain: ["cookie:x"] },
    ];
    assert.deepEqual(chains(findSeeds(set, leaves)), [
      "body > normalised > sha256:hex",
      "cookie:x > normalised > sha256:hex > base64",
      "query:udff[em] > normalised > sha256:hex",
    ]);
  });

  it("tells plain, normalised and case-changed text apart", () => {
    const set = buildNeedles([EMAIL]);
    const found = (text: string) => chains(findSeeds(set, [{ text, chain: ["l"] }]));
    assert.deepEqual(found("to: Jane.Doe@Example.com;"), ["l > plain"]);
    assert.deepEqual(found("jane.doe@example.com"), ["l > normalised"]);
    assert.deepEqual(found("JANE.DOE@EXAMPLE.COM"), ["l > case-changed"]);
    const name = buildNeedles([NAME]);
    assert.deepEqual(chains(findSeeds(name, [{ text: "ZOË ÅNGSTRÖM", chain: ["l"] }])), ["l > case-changed"]);
    assert.deepEqual(chains(findSeeds(name, [{ text: "zoëångström", chain: ["l"] }])), ["l > normalised"]);
  });

  it("finds the Google-normalised gmail address without dots", () => {
    const set = buildNeedles([
      { field: "email", category: "user.contact.email", value: "Jane.Doe@GMail.com" },
    ]);
    const leaf = { text: digest("sha256", "janedoe@gmail.com", "hex"), chain: ["json:em"] };
    assert.deepEqual(chains(findSeeds(set, [leaf])), ["json:em > normalised > sha256:hex"]);
  });

  it("does not report a first name found only inside the email or the full name", () => {
    const first = { field: "first_name", category: "user.name", value: "Jane" };
    const full = { field: "name", category: "user.name", value: "Jane Doe" };
    const set = buildNeedles([EMAIL, first, full]);
    const leaves: Leaf[] = [
      { text: "Jane.Doe@Example.com", chain: ["a"] },
      { text: "Hello Jane Doe", chain: ["b"] },
      { text: "Jane", chain: ["c"] },
    ];
    assert.deepEqual(
      findSeeds(set, leaves).map((m) => `${m.seed_field}: ${m.chain.join(" > ")}`),
      ["email: a > plain", "name: b > plain", "first_name: c > plain"],
    );
  });

  it("finds a URL-encoded email in a raw query string", () => {
    const set = buildNeedles([EMAIL]);
    const leaf = {
      text: "https://t.example/p?ev=lead&em=Jane.Doe%40Example.com&x=1",
      chain: ["header:referer"],
    };
    assert.deepEqual(chains(findSeeds(set, [leaf])), ["header:referer > plain > url-encoded"]);
    const lower = { text: "q=jane.doe%40example.com", chain: ["x"] };
    assert.deepEqual(chains(findSeeds(set, [lower])), ["x > normalised > url-encoded"]);
  });

  it("finds a phone number in the digits-only and E.164 forms pixels hash", () => {
    const set = buildNeedles([PHONE]);
    const leaves: Leaf[] = [
      { text: digest("sha256", "15550104477", "hex"), chain: ["query:ph"] },
      { text: digest("sha256", "+15550104477", "hex"), chain: ["json:phone_number"] },
      { text: "call 15550104477", chain: ["body"] },
    ];
    assert.deepEqual(chains(findSeeds(set, leaves)), [
      "body > normalised",
      "json:phone_number > normalised > sha256:hex",
      "query:ph > normalised > sha256:hex",
    ]);
  });

  it("skips and reports values shorter than four characters", () => {
    const short = { field: "initials", category: "user.name", value: "JD" };
    const padded = { field: "zip", category: "user.contact.address.postal_code", value: "  12 " };
    const set = buildNeedles([short, padded, USER_ID]);
    assert.deepEqual(set.skipped, [short, padded]);
    const leaf = { text: `JD 12 ${Buffer.from("JD").toString("base64")} usr_8XkQ2mLp`, chain: ["body"] };
    assert.deepEqual(findSeeds(set, [leaf]), [
      { seed_field: "user_id", category: "user.unique_id", chain: ["body", "plain"] },
    ]);
  });

  it("does not match unrelated text of the same length", () => {
    const set = buildNeedles([EMAIL, NAME, PHONE, USER_ID]);
    const leaves: Leaf[] = [
      { text: "Jane.Dee@Example.com", chain: ["a"] },
      { text: "John.Doe@Example.com", chain: ["b"] },
      { text: "usr_8XkQ2mLq", chain: ["c"] },
      { text: digest("sha256", "jane.doe@example.org", "hex"), chain: ["d"] },
      { text: "+1 (555) 010-4478 15550104478", chain: ["e"] },
      { text: Buffer.from("Jane.Doe@Example.con").toString("base64"), chain: ["f"] },
    ];
    assert.deepEqual(findSeeds(set, leaves), []);
  });

  it("finds a value inside a larger string and dedupes by field and chain", () => {
    const set = buildNeedles([EMAIL, USER_ID]);
    const leaves: Leaf[] = [
      {
        text: `{"msg":"welcome Jane.Doe@Example.com (usr_8XkQ2mLp), again Jane.Doe@Example.com"}`,
        chain: ["body"],
      },
      { text: "Jane.Doe@Example.com", chain: ["body"] },
    ];
    const matches = findSeeds(set, leaves);
    assert.deepEqual(matches, [
      { seed_field: "email", category: "user.contact.email", chain: ["body", "plain"] },
      { seed_field: "user_id", category: "user.unique_id", chain: ["body", "plain"] },
    ]);
  });

  it("reports base64 of the value through the decoded leaf, not as an encoding of the outer leaf", () => {
    const set = buildNeedles([EMAIL]);
    const encoded = Buffer.from(EMAIL.value).toString("base64");
    const outerOnly = findSeeds(set, [{ text: encoded, chain: ["query:e"] }]);
    assert.deepEqual(chains(outerOnly), ["query:e > plain > base64"]);
    const decoded = decodeRequest({
      url: `https://t.example/p?e=${encodeURIComponent(encoded)}`,
      headers: {},
      body: null,
    });
    assert.deepEqual(chains(findSeeds(set, decoded.leaves)), ["query:e > base64 > plain"]);
  });

  it("keeps genuinely different occurrences in one request apart", () => {
    const set = buildNeedles([EMAIL]);
    const hash = digest("sha256", "jane.doe@example.com", "hex");
    const body = JSON.stringify({ user: { email: EMAIL.value }, ud: { em: hash } });
    const decoded = decodeRequest({ url: "https://t.example/tr", headers: {}, body: Buffer.from(body) });
    assert.deepEqual(chains(findSeeds(set, decoded.leaves)), [
      "body > json:ud.em > normalised > sha256:hex",
      "body > json:user.email > plain",
    ]);
  });

  it("finds the seed end to end in a Mixpanel-style request", () => {
    const set = buildNeedles([EMAIL, USER_ID]);
    const events = [
      {
        event: "Signed up",
        properties: {
          $email: EMAIL.value,
          distinct_id: USER_ID.value,
          token: "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
          mp_lib: "web",
        },
      },
    ];
    const body = `data=${encodeURIComponent(Buffer.from(JSON.stringify(events)).toString("base64"))}`;
    const decoded = decodeRequest({
      url: "https://api-js.mixpanel.com/track/?verbose=1",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: Buffer.from(body),
    });
    assert.deepEqual(findSeeds(set, decoded.leaves), [
      {
        seed_field: "email",
        category: "user.contact.email",
        chain: ["body", "form:data", "base64", "json:[0].properties.$email", "plain"],
      },
      {
        seed_field: "user_id",
        category: "user.unique_id",
        chain: ["body", "form:data", "base64", "json:[0].properties.distinct_id", "plain"],
      },
    ]);
  });
});
