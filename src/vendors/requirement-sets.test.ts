import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { cliActor } from "../auth/roles.ts";
import { tempDir } from "../lib/test-fixtures.ts";
import {
  assignRequirementSet,
  assignRequirementsByTier,
  listRequirementSets,
  loadRequirementSets,
  loadRequirementSetsFrom,
  requirementSet,
} from "./requirement-sets.ts";
import { addAccount, addVendor, auditActions, describeOnBackends } from "./test-review-store.ts";

describe("the bundled requirement sets", () => {
  it("baseline asks the six baseline questions", async () => {
    const baseline = await requirementSet("baseline");
    assert.deepEqual(
      baseline.requirements.map((r) => r.id),
      [
        "mfa",
        "encryption_at_rest",
        "breach_notice_72h",
        "access_logging",
        "deletion_on_request",
        "subprocessor_list",
      ],
    );
    assert.equal(baseline.finding_severity, "medium");
    for (const r of baseline.requirements) assert.ok(r.question.endsWith("?"), r.id);
  });

  it("elevated strengthens baseline: phishing-resistant MFA instead of any MFA, and keeps the rest", async () => {
    const elevated = await requirementSet("elevated");
    const ids = elevated.requirements.map((r) => r.id);
    assert.deepEqual(ids, [
      "phishing_resistant_mfa",
      "least_data",
      "customer_scoped_keys",
      "breach_notice_24h",
      "export_logging_alerts",
      "deletion_30_days_certificate",
      "subprocessor_list",
    ]);
    assert.equal(elevated.extends, "baseline");
    assert.equal(elevated.finding_severity, "high");
    assert.equal(elevated.requirements.find((r) => r.id === "subprocessor_list")?.from, "baseline");
    const mfa = elevated.requirements[0];
    assert.match(mfa?.question ?? "", /FIDO2\/WebAuthn/);
    assert.match(mfa?.question ?? "", /SMS/);
    assert.match(mfa?.why ?? "", /SMS phishing/);
    assert.match(elevated.requirements[1]?.question ?? "", /no names, email addresses/);
  });

  it("is read once per process", async () => {
    assert.equal(await loadRequirementSets(), await loadRequirementSets());
    assert.deepEqual(
      (await listRequirementSets(cliActor)).map((s) => s.name),
      ["baseline", "elevated"],
    );
  });

  it("names the choices for an unknown set", async () => {
    await assert.rejects(requirementSet("gold", "set"), {
      code: "BAD_INPUT",
      message: 'set: one of baseline, elevated (got "gold")',
    });
  });
});

describe("requirement set validation", () => {
  const item = (id: string, extra = "") =>
    `  - id: ${id}\n    title: T ${id}\n    question: Q ${id}?\n    why: W ${id}\n${extra}`;
  const file = (name: string, body: string, head = "") =>
    `name: ${name}\ntitle: ${name}\ndescription: d\nfinding_severity: low\n${head}requirements:\n${body}`;

  async function dirWith(files: Record<string, string>): Promise<string> {
    const dir = await tempDir("blastradius-reqsets-");
    for (const [f, text] of Object.entries(files)) await writeFile(path.join(dir, f), text);
    return dir;
  }

  it("refuses a set whose name is not its file's", async () => {
    const dir = await dirWith({ "a.yaml": file("b", item("x")) });
    await assert.rejects(loadRequirementSetsFrom(dir), {
      code: "BAD_INPUT",
      message: `${path.join(dir, "a.yaml")}: name is b, expected a (the file's name)`,
    });
  });

  it("refuses duplicate requirement ids, also across an extended set", async () => {
    const same = await dirWith({ "a.yaml": file("a", item("x") + item("x")) });
    await assert.rejects(loadRequirementSetsFrom(same), /requirement id x appears twice/);
    const inherited = await dirWith({
      "a.yaml": file("a", item("x")),
      "b.yaml": file("b", item("x"), "extends: a\n"),
    });
    await assert.rejects(loadRequirementSetsFrom(inherited), /b\.yaml: requirement id x appears twice/);
  });

  it("refuses unknown keys, unknown extended sets, replacing what is not there, and cycles", async () => {
    await assert.rejects(
      loadRequirementSetsFrom(await dirWith({ "a.yaml": `${file("a", item("x"))}colour: red\n` })),
      /a\.yaml: not a valid requirement set: .*colour/,
    );
    await assert.rejects(
      loadRequirementSetsFrom(await dirWith({ "a.yaml": file("a", item("x"), "extends: z\n") })),
      /a\.yaml: extends: no requirement set "z"/,
    );
    await assert.rejects(
      loadRequirementSetsFrom(
        await dirWith({
          "a.yaml": file("a", item("x")),
          "b.yaml": file("b", item("y", "    replaces: nope\n"), "extends: a\n"),
        }),
      ),
      /b\.yaml: requirements\.0\.replaces: a has no requirement "nope"/,
    );
    await assert.rejects(
      loadRequirementSetsFrom(
        await dirWith({
          "a.yaml": file("a", item("x"), "extends: b\n"),
          "b.yaml": file("b", item("y"), "extends: a\n"),
        }),
      ),
      /extends itself/,
    );
  });

  it("resolves a replacement in place of the extended item", async () => {
    const sets = await loadRequirementSetsFrom(
      await dirWith({
        "a.yaml": file("a", item("x") + item("y")),
        "b.yaml": file("b", item("x2", "    replaces: x\n"), "extends: a\n"),
      }),
    );
    assert.deepEqual(
      sets.find((s) => s.name === "b")?.requirements.map((r) => `${r.id}@${r.from}`),
      ["x2@b", "y@a"],
    );
  });
});

describeOnBackends("assigning requirement sets", (s) => {
  s.it("assigns elevated to every active or under-review vendor at or above high, in one step", async () => {
    const { db } = s.ctx();
    const responder = await addAccount(db, "responder");
    const critical = await addVendor(db, { risk_tier: "critical", requirement_set: "baseline" });
    const high = await addVendor(db, { risk_tier: "high", status: "under_review" });
    const already = await addVendor(db, { risk_tier: "high", requirement_set: "elevated" });
    const medium = await addVendor(db, { risk_tier: "medium", requirement_set: "baseline" });
    const unrated = await addVendor(db, {});
    const leaving = await addVendor(db, { risk_tier: "critical", status: "offboarding" });
    const gone = await addVendor(db, { risk_tier: "critical", status: "offboarded" });

    const r = await assignRequirementsByTier(s.ctx(), responder.actor, { set: "elevated", min_tier: "high" });
    assert.equal(r.assigned, 2);
    assert.deepEqual([...r.vendors].sort(), [critical, high].sort());
    assert.equal(r.unchanged, 1);

    const sets = await db.query<{ id: string; requirement_set: string | null }>(
      "SELECT id::text AS id, requirement_set FROM vendors WHERE id = ANY($1::uuid[])",
      [[critical, high, already, medium, unrated, leaving, gone]],
    );
    const setOf = (id: string) => sets.rows.find((x) => x.id === id)?.requirement_set;
    assert.equal(setOf(critical), "elevated");
    assert.equal(setOf(high), "elevated");
    assert.equal(setOf(already), "elevated");
    assert.equal(setOf(medium), "baseline");
    assert.equal(setOf(unrated), null);
    assert.equal(setOf(leaving), null);
    assert.equal(setOf(gone), null);
    assert.deepEqual(await auditActions(db, `vendor:${critical}`), ["vendor.requirements.assign"]);
    assert.deepEqual(await auditActions(db, `vendor:${already}`), []);

    const again = await assignRequirementsByTier(s.ctx(), responder.actor, {
      set: "elevated",
      min_tier: "high",
    });
    assert.equal(again.assigned, 0);
  });

  s.it("only touches the statuses asked for, and never vendors on their way out", async () => {
    const { db } = s.ctx();
    const responder = await addAccount(db, "responder");
    const reviewing = await addVendor(db, { risk_tier: "critical", status: "under_review" });
    const r = await assignRequirementsByTier(s.ctx(), responder.actor, {
      set: "baseline",
      min_tier: "critical",
      include_statuses: ["active"],
    });
    assert.ok(!r.vendors.includes(reviewing));
    await assert.rejects(
      assignRequirementsByTier(s.ctx(), responder.actor, {
        set: "baseline",
        min_tier: "low",
        include_statuses: ["offboarding"],
      }),
      { code: "BAD_INPUT", message: /^include_statuses: "offboarding" is not one of active, under_review/ },
    );
    await assert.rejects(
      assignRequirementsByTier(s.ctx(), responder.actor, { set: "silver", min_tier: "low" }),
      { code: "BAD_INPUT", message: /^set: one of/ },
    );
  });

  s.it("sets one vendor's set, needs a responder, and refuses a vendor being offboarded", async () => {
    const { db } = s.ctx();
    const responder = await addAccount(db, "responder");
    const viewer = await addAccount(db, "viewer");
    const id = await addVendor(db, { risk_tier: "low" });
    await assert.rejects(assignRequirementSet(s.ctx(), viewer.actor, id, "baseline"), { code: "FORBIDDEN" });
    assert.deepEqual(await assignRequirementSet(s.ctx(), responder.actor, id, "baseline"), {
      vendor_id: id,
      requirement_set: "baseline",
      previous: null,
    });
    assert.equal((await assignRequirementSet(s.ctx(), responder.actor, id, null)).previous, "baseline");
    const leaving = await addVendor(db, { status: "offboarding" });
    await assert.rejects(assignRequirementSet(s.ctx(), responder.actor, leaving, "elevated"), {
      code: "CONFLICT",
    });
  });
});
