import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AppError } from "../lib/errors.ts";
import { parseSeed } from "./load-seed.ts";

describe("parseSeed", () => {
  it("maps each well-known key to its fideslang category and keeps custom values", () => {
    const seed = parseSeed(
      `email: " Dana@Example.test "
name: Dana Whitfield
phone: "+44 20 7946 0958"
user_id: usr_123456
org_id: 98765
custom:
  - { value: "AB-99-ZZ-12", category: user.government_id, field: passport }
  - { value: "Flat 4, 12 Long Road", category: user.contact.address }
`,
      "seed.yaml",
    );
    assert.deepEqual(seed.identity, {
      email: "Dana@Example.test",
      name: "Dana Whitfield",
      phone: "+44 20 7946 0958",
      user_id: "usr_123456",
      org_id: "98765",
    });
    assert.deepEqual(
      seed.values.map((v) => [v.field, v.category, v.value]),
      [
        ["email", "user.contact.email", "Dana@Example.test"],
        ["name", "user.name", "Dana Whitfield"],
        ["phone", "user.contact.phone_number", "+44 20 7946 0958"],
        ["user_id", "user.unique_id", "usr_123456"],
        ["org_id", "user.unique_id", "98765"],
        ["passport", "user.government_id", "AB-99-ZZ-12"],
        ["custom.1", "user.contact.address", "Flat 4, 12 Long Road"],
      ],
    );
  });

  it("reads JSON as well", () => {
    const seed = parseSeed('{"first_name": "Dana", "last_name": "Whitfield"}', "seed.json");
    assert.deepEqual(
      seed.values.map((v) => v.category),
      ["user.name", "user.name"],
    );
  });

  it("names the file and the key for bad input", () => {
    const fail = (text: string, pattern: RegExp) =>
      assert.throws(
        () => parseSeed(text, "seed.yaml"),
        (e: unknown) => e instanceof AppError && e.code === "BAD_INPUT" && pattern.test(e.message),
      );
    fail("mail: a@b.test", /seed\.yaml: unknown key "mail"/);
    fail("custom:\n  - { value: x1234, category: 'Not A Key' }", /seed\.yaml: custom\.0\.category/);
    fail("{}", /seed\.yaml: no seed values/);
    fail("email: [unclosed", /seed\.yaml: not valid YAML/);
  });
});
