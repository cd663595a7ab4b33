import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { put, tempDir } from "../lib/test-fixtures.ts";
import { loadRuleFile, loadRules, RULES_DIR } from "./load-rules.ts";
import { REGIME_IDS, ruleSchema } from "./rule-schema.ts";

describe("rule files", () => {
  it("every bundled rule validates against the schema, and every regime is there", async () => {
    const files = (await readdir(RULES_DIR)).filter((f) => f.endsWith(".yaml"));
    for (const f of files) await loadRuleFile(path.join(RULES_DIR, f));
    const rules = await loadRules();
    assert.deepEqual(
      rules.map((r) => r.id),
      [...REGIME_IDS],
    );
    for (const rule of rules) {
      for (const o of rule.obligations)
        assert.ok(o.citations.length > 0, `${rule.id} ${o.audience} cites nothing`);
    }
  });

  it("rejects a rule without a citation or without a review date", async () => {
    const gdpr = parseYaml(await readFile(path.join(RULES_DIR, "eu-gdpr.yaml"), "utf8"));
    assert.equal(ruleSchema.safeParse(gdpr).success, true);
    const noReview = structuredClone(gdpr);
    delete noReview.reviewed;
    assert.equal(ruleSchema.safeParse(noReview).success, false);
    const noCitation = structuredClone(gdpr);
    noCitation.obligations[0].citations = [];
    assert.equal(ruleSchema.safeParse(noCitation).success, false);
    const judgmentWithoutQuestion = structuredClone(gdpr);
    delete judgmentWithoutQuestion.obligations[1].decide[1].question;
    assert.equal(ruleSchema.safeParse(judgmentWithoutQuestion).success, false);
  });

  it("names the file and field of a bad rule", async () => {
    const dir = await tempDir();
    const file = await put(dir, "xx-bad.yaml", "id: xx-bad\nname: Bad\nversion: 1\nreviewed: soon\n");
    await assert.rejects(
      loadRuleFile(file),
      /xx-bad\.yaml: not a valid rule: reviewed: a date as YYYY-MM-DD/,
    );
  });
});
