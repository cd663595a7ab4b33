import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { maskValue } from "./mask-value.ts";

describe("maskValue", () => {
  it("masks emails to their first characters and top-level domain", () => {
    assert.equal(maskValue("john.doe@example.com"), "j***@e***.com");
    assert.equal(maskValue("  Zoë@Mail.Example.DE "), "Z***@M***.de");
    assert.equal(maskValue("a@localhost"), "a***@l***");
    assert.equal(maskValue("x@host.123"), "x***@h***");
  });

  it("turns digits into # and keeps the punctuation of phones, addresses and dates", () => {
    assert.equal(maskValue("+49 170 1234567"), "+## ### #######");
    assert.equal(maskValue("192.168.1.20"), "###.###.#.##");
    assert.equal(maskValue("2025-11-09"), "####-##-##");
    assert.equal(maskValue(1763000000), "##########");
    assert.equal(maskValue(-3.25), "-#.##");
    assert.equal(maskValue("34"), "##", "digits alone are not a code");
    assert.equal(maskValue("1".repeat(40)), `${"#".repeat(24)}…`);
  });

  it("keeps the first character of other text and hides its length past a cap", () => {
    assert.equal(maskValue("Berlin"), "B*****");
    assert.equal(maskValue("Jo"), "J*", "mixed case may be a name");
    assert.equal(maskValue("Bob"), "B**");
    assert.equal(maskValue("Ann Smith"), "A********");
    assert.equal(maskValue("a very long name that goes on"), "a********");
    assert.equal(maskValue("$device:5f2c1d"), "$********");
    assert.equal(maskValue("Ωmega"), "Ω****");
  });

  it("shows booleans and short codes as they are", () => {
    assert.equal(maskValue(true), "true");
    assert.equal(maskValue("false"), "false");
    assert.equal(maskValue("DE"), "DE");
    assert.equal(maskValue("ios"), "ios");
    assert.equal(maskValue("v2"), "v2");
    assert.equal(maskValue("USD"), "USD");
  });

  it("masks short codes too when strict, for fields that identify someone", () => {
    assert.equal(maskValue("bob", { strict: true }), "b**");
    assert.equal(maskValue("u1", { strict: true }), "u*");
    assert.equal(maskValue(true, { strict: true }), "true");
  });

  it("never shows the content of objects and arrays, and gives null for no value", () => {
    assert.equal(maskValue({ email: "a@b.example" }), "{…}");
    assert.equal(maskValue(["a@b.example"]), "[…]");
    for (const none of [null, undefined, "", "   ", "[]", "{}", [], {}]) assert.equal(maskValue(none), null);
  });

  it("leaves no personal value whole", () => {
    const values = [
      "alice.smith@example.com",
      "Alice Smith",
      "+1 (415) 555-0100",
      "10.0.0.254",
      "https://example.com/account/alice",
      "9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f",
    ];
    for (const v of values) {
      const masked = maskValue(v) ?? "";
      assert.ok(!masked.includes(v), `${v} → ${masked}`);
      for (const part of v.split(/[@.\s/:-]+/).filter((p) => p.length > 3))
        assert.ok(!masked.includes(part), `${v} → ${masked} shows ${part}`);
    }
  });
});
