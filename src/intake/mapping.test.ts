import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { put, tempDir } from "../lib/test-fixtures.ts";
import { CATEGORY, defaultMapping, loadMapping } from "./mapping.ts";

describe("field mapping", () => {
  it("maps the Mixpanel fields the README lists by default", () => {
    const f = defaultMapping.fields;
    assert.equal(f.get("$email"), CATEGORY.email);
    assert.equal(f.get("$last_name"), CATEGORY.name);
    assert.equal(f.get("mp_country_code"), CATEGORY.location);
    assert.equal(f.get("$browser_version"), CATEGORY.device);
    assert.equal(f.get("$initial_referring_domain"), CATEGORY.browsing);
    assert.equal(f.get("$device_id"), CATEGORY.deviceId);
    assert.equal(f.get("$ip"), CATEGORY.ip);
    assert.equal(f.get("org_id"), CATEGORY.uniqueId);
    assert.equal(f.get("$insert_id"), undefined);
  });

  it("adds, overrides and removes fields and replaces roles from YAML", async () => {
    const dir = await tempDir();
    const file = await put(
      dir,
      "m.yaml",
      "fields:\n  company_email: user.contact.email\n  $os: null\n  $city: user.location.precise\nroles:\n  org_id: [company_id]\n",
    );
    const m = await loadMapping(file);
    assert.equal(m.fields.get("company_email"), CATEGORY.email);
    assert.equal(m.fields.has("$os"), false);
    assert.equal(m.fields.get("$city"), "user.location.precise");
    assert.deepEqual(m.roles.org, ["company_id"]);
    assert.equal(
      m.fields.get("company_id"),
      CATEGORY.uniqueId,
      "an org field is an identifier unless mapped",
    );
    assert.deepEqual(m.roles.email, defaultMapping.roles.email);
  });

  it("names the file, line or key at fault", async () => {
    const dir = await tempDir();
    await assert.rejects(
      loadMapping(await put(dir, "a.yaml", "fields:\n  x: [unclosed\n")),
      /a\.yaml line \d+: not valid YAML/,
    );
    await assert.rejects(
      loadMapping(await put(dir, "b.yaml", "fields:\n  x: Not A Category\n")),
      /b\.yaml: fields\.x: .*category key/,
    );
    await assert.rejects(loadMapping(await put(dir, "c.yaml", "colour: red\n")), /c\.yaml: .*colour/);
    await assert.rejects(
      loadMapping(`${dir}/missing.yaml`),
      /missing\.yaml: cannot read the file \(ENOENT\)/,
    );
  });
});
