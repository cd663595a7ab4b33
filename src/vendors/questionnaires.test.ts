import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  addEvidence,
  checkAnswers,
  EVIDENCE_MAX_BYTES,
  getEvidence,
  listQuestionnaires,
  openQuestionnaire,
  QuestionnaireGone,
  revokeQuestionnaire,
  sendQuestionnaire,
  submitAnswers,
} from "./questionnaires.ts";
import { requirementSet } from "./requirement-sets.ts";
import { addAccount, addVendor, auditActions, describeOnBackends } from "./test-review-store.ts";
import { listFindings } from "./vendor-findings.ts";

const allYes = async (set: string) =>
  Object.fromEntries(
    (await requirementSet(set)).requirements.map((r) => [r.id, { answer: "yes", comment: null }]),
  ) as Record<string, { answer: string; comment: string | null }>;

describeOnBackends("questionnaires", (s) => {
  s.it("needs a requirement set, and stores only the token's hash", async () => {
    const { db } = s.ctx();
    const responder = await addAccount(db, "responder");
    const bare = await addVendor(db, { name: "No Set Co" });
    await assert.rejects(sendQuestionnaire(s.ctx(), responder.actor, bare), {
      code: "CONFLICT",
      message: /^requirement_set: vendor "No Set Co" has none/,
    });
    const vendor = await addVendor(db, { requirement_set: "baseline" });
    await assert.rejects(sendQuestionnaire(s.ctx(), responder.actor, vendor, { expires_in_days: 91 }), {
      code: "BAD_INPUT",
      message: /^expires_in_days: a whole number from 1 to 90/,
    });
    const sent = await sendQuestionnaire(s.ctx(), responder.actor, vendor, {
      recipient: "sec@vendor.example",
    });
    assert.match(sent.token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(sent.link, `/questionnaire/${sent.token}`);
    assert.equal(sent.questionnaire.status, "sent");
    assert.equal(sent.questionnaire.requirement_set, "baseline");
    const days = (Date.parse(sent.questionnaire.expires_at) - Date.now()) / 86_400_000;
    assert.ok(days > 13.9 && days <= 14, String(days));
    const stored = await db.query<{ token_hash: string }>(
      "SELECT token_hash FROM vendor_questionnaires WHERE id = $1",
      [sent.questionnaire.id],
    );
    assert.equal(stored.rows[0]?.token_hash, createHash("sha256").update(sent.token).digest("hex"));
    const leak = await db.query("SELECT 1 FROM vendor_questionnaires WHERE token_hash = $1", [sent.token]);
    assert.equal(leak.rows.length, 0);
    assert.deepEqual(await auditActions(db, `vendor:${vendor}`), ["vendor.questionnaire.send"]);
  });

  s.it("takes evidence, then the answers once, and opens a finding for every no or partial", async () => {
    const ctx = s.ctx();
    const responder = await addAccount(ctx.db, "responder");
    const vendor = await addVendor(ctx.db, { name: "Analytics Co", requirement_set: "elevated" });
    const { token, questionnaire } = await sendQuestionnaire(ctx, responder.actor, vendor);

    const shown = await openQuestionnaire(ctx, token);
    assert.equal(shown.vendor, "Analytics Co");
    assert.equal(shown.set.title, "Elevated");
    assert.equal(shown.requirements.length, 7);
    assert.equal(shown.status, "sent");
    assert.equal(shown.answers, null);

    const pdf = Buffer.from("%PDF-1.7 a SOC 2 report");
    const ev = await addEvidence(ctx, token, {
      requirement_id: "phishing_resistant_mfa",
      name: "../../soc2.pdf",
      content_type: "application/pdf",
      content: pdf,
    });
    assert.equal(ev.name, "soc2.pdf");
    assert.equal(ev.bytes, pdf.length);
    const sealed = await ctx.db.query<{ sealed: Uint8Array }>(
      "SELECT sealed FROM vendor_evidence WHERE id = $1",
      [ev.id],
    );
    assert.ok(
      !Buffer.from(sealed.rows[0]?.sealed ?? []).includes(Buffer.from("SOC 2")),
      "evidence is sealed",
    );
    await assert.rejects(
      addEvidence(ctx, token, { requirement_id: "mfa", name: "x.txt", content: Buffer.from("x") }),
      { code: "BAD_INPUT", message: /^requirement_id: "mfa" is not a requirement of elevated/ },
    );
    await assert.rejects(
      addEvidence(ctx, token, {
        requirement_id: "least_data",
        name: "big.bin",
        content: Buffer.alloc(EVIDENCE_MAX_BYTES + 1),
      }),
      { code: "TOO_LARGE" },
    );

    const answers = await allYes("elevated");
    answers.phishing_resistant_mfa = {
      answer: "partial",
      comment: "Keys for admins; SMS still allowed for support",
    };
    answers.least_data = { answer: "no", comment: null };
    answers.subprocessor_list = { answer: "not_applicable", comment: null };
    await assert.rejects(
      submitAnswers(ctx, token, { respondent: "CISO", answers: { ...answers, mfa: { answer: "yes" } } }),
      { code: "BAD_INPUT", message: /^answers\.mfa: not a requirement of elevated/ },
    );
    const { least_data: _dropped, ...incomplete } = answers;
    await assert.rejects(submitAnswers(ctx, token, { respondent: "CISO", answers: incomplete }), {
      code: "BAD_INPUT",
      message: "answers: missing least_data",
    });
    await assert.rejects(submitAnswers(ctx, token, { respondent: " ", answers }), {
      message: /^respondent:/,
    });

    const now = new Date("2026-03-02T10:00:00Z");
    const done = await submitAnswers(ctx, token, { respondent: "Jo, CISO", answers }, now);
    assert.equal(done.findings_opened, 2);
    assert.equal(done.status, "submitted");
    assert.equal(done.answers?.least_data?.answer, "no");
    assert.equal(done.respondent, "Jo, CISO");

    // one transaction, one created_at: order by requirement for the comparison
    const findings = (await listFindings(ctx, responder.actor, vendor)).sort((a, b) =>
      (b.requirement_id ?? "").localeCompare(a.requirement_id ?? ""),
    );
    assert.deepEqual(
      findings.map((f) => [f.requirement_id, f.title, f.severity, f.due_at, f.owner, f.status]),
      [
        [
          "phishing_resistant_mfa",
          "Phishing-resistant MFA for vendor staff",
          "high",
          "2026-04-01",
          null,
          "open",
        ],
        ["least_data", "Least data", "high", "2026-04-01", null, "open"],
      ],
    );
    assert.ok(findings.every((f) => f.questionnaire_id === questionnaire.id));
    assert.match(findings[0]?.note ?? "", /Answered "partial".*SMS still allowed/);

    await assert.rejects(submitAnswers(ctx, token, { respondent: "Someone else", answers }), {
      code: "CONFLICT",
      message: /^the answers were submitted on/,
    });
    await assert.rejects(
      addEvidence(ctx, token, { requirement_id: "least_data", name: "late.txt", content: Buffer.from("x") }),
      { code: "CONFLICT" },
    );
    assert.equal((await openQuestionnaire(ctx, token)).answers?.least_data?.answer, "no");

    const listed = await listQuestionnaires(ctx, responder.actor, vendor);
    assert.equal(listed[0]?.status, "submitted");
    assert.deepEqual(
      listed[0]?.evidence.map((e) => [e.name, e.requirement_id, e.bytes]),
      [["soc2.pdf", "phishing_resistant_mfa", pdf.length]],
    );
    const viewer = await addAccount(ctx.db, "viewer");
    await assert.rejects(getEvidence(ctx, viewer.actor, vendor, questionnaire.id, ev.id), {
      code: "FORBIDDEN",
    });
    const file = await getEvidence(ctx, responder.actor, vendor, questionnaire.id, ev.id);
    assert.deepEqual(file.content, pdf);

    const audit = await ctx.db.query<{ action: string; actor: string; detail: Record<string, unknown> }>(
      "SELECT action, actor, detail FROM audit_events WHERE subject = $1 ORDER BY seq",
      [`vendor:${vendor}`],
    );
    assert.deepEqual(
      audit.rows.map((r) => r.action),
      [
        "vendor.questionnaire.send",
        "vendor.questionnaire.evidence",
        "vendor.finding.create",
        "vendor.finding.create",
        "vendor.questionnaire.submit",
        "vendor.questionnaire.evidence.read",
      ],
    );
    assert.equal(audit.rows[4]?.actor, `questionnaire:${questionnaire.id}`);
    // answers and comments are the vendor's words: counts only in the audit log
    assert.ok(!JSON.stringify(audit.rows).includes("SMS still allowed"));
    assert.ok(!JSON.stringify(audit.rows).includes("Jo, CISO"));
  });

  s.it("404s a token it never made, and is gone once expired or revoked", async () => {
    const ctx = s.ctx();
    const responder = await addAccount(ctx.db, "responder");
    const vendor = await addVendor(ctx.db, { requirement_set: "baseline" });
    await assert.rejects(openQuestionnaire(ctx, "A".repeat(43)), { code: "NOT_FOUND" });
    await assert.rejects(openQuestionnaire(ctx, "short"), { code: "NOT_FOUND" });

    const expired = await sendQuestionnaire(ctx, responder.actor, vendor);
    await ctx.db.query(
      "UPDATE vendor_questionnaires SET expires_at = now() - interval '1 minute' WHERE id = $1",
      [expired.questionnaire.id],
    );
    await assert.rejects(openQuestionnaire(ctx, expired.token), QuestionnaireGone);
    await assert.rejects(openQuestionnaire(ctx, expired.token), { code: "GONE" });
    await assert.rejects(
      submitAnswers(ctx, expired.token, { respondent: "x", answers: await allYes("baseline") }),
      (e: Error) => e instanceof QuestionnaireGone && /expired/.test(e.message),
    );
    assert.equal((await listQuestionnaires(ctx, responder.actor, vendor))[0]?.status, "expired");

    const revoked = await sendQuestionnaire(ctx, responder.actor, vendor);
    const r = await revokeQuestionnaire(ctx, responder.actor, vendor, revoked.questionnaire.id);
    assert.equal(r.status, "revoked");
    await assert.rejects(
      openQuestionnaire(ctx, revoked.token),
      (e: Error) => e instanceof QuestionnaireGone && /revoked/.test(e.message),
    );
    await assert.rejects(revokeQuestionnaire(ctx, responder.actor, vendor, revoked.questionnaire.id), {
      code: "CONFLICT",
    });
  });

  s.it("answers every requirement with a known value", async () => {
    const set = await requirementSet("baseline");
    const answers = await allYes("baseline");
    assert.equal(Object.keys(checkAnswers(set, answers)).length, 6);
    assert.throws(() => checkAnswers(set, { ...answers, mfa: { answer: "maybe" } }), {
      message: "answers.mfa.answer: one of yes, no, partial, not_applicable",
    });
  });
});
