import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { systemActor } from "../auth/roles.ts";
import { CATEGORY, defaultMapping } from "../intake/mapping.ts";
import { AppError } from "../lib/errors.ts";
import { listCategories } from "./list-categories.ts";

describe("listCategories", () => {
  const viewer = { kind: "user", userId: "v", role: "viewer", label: "user:v" } as const;

  it("lists every category the analysis uses, with the notices' plain names, sorted by key", () => {
    const list = listCategories(viewer);
    const keys = list.map((c) => c.key);
    assert.deepEqual(keys, [...keys].sort());
    assert.equal(new Set(keys).size, keys.length);
    for (const key of [...Object.values(CATEGORY), ...defaultMapping.fields.values()])
      assert.ok(keys.includes(key), key);
    const label = (key: string) => list.find((c) => c.key === key)?.label;
    assert.equal(label("user.contact.email"), "Email address");
    assert.equal(label("user.name"), "Name");
    assert.equal(label("user.device.ip_address"), "IP address");
    assert.equal(label("user.device.device_id"), "Device identifier");
    assert.match(label("user.location.coarse") ?? "", /^Approximate location/);
    assert.match(label("user.device") ?? "", /Operating system, browser/);
    // Other fideslang categories the labels name, for fields the defaults do not map.
    assert.equal(label("user.financial"), "Financial information");
    for (const c of list) assert.ok(c.label && c.label !== c.key, `${c.key} has a plain name`);
  });

  it("needs a signed-in role, viewer being enough", () => {
    assert.ok(listCategories(systemActor).length > 10);
    assert.throws(
      () => listCategories({ ...viewer, role: "nobody" as "viewer" }),
      (e: unknown) => e instanceof AppError && e.code === "FORBIDDEN",
    );
  });
});
