import { createHash, randomBytes } from "node:crypto";
import path from "node:path";
import type { Context } from "../app/context.ts";
import { appendAudit } from "../audit/audit-log.ts";
import { type Actor, requireRole } from "../auth/roles.ts";
import { AppError, badInput } from "../lib/errors.ts";
import { requireId } from "../lib/ids.ts";
import type { Queryable } from "../store/db.ts";
import { type Requirement, type RequirementSet, requirementSet } from "./requirement-sets.ts";
import { addDays, dayOf, insertFinding } from "./vendor-findings.ts";

/**
 * Security questionnaires a vendor answers through a link, without an account. The link carries a
 * random token (32 bytes); only its SHA-256 is stored, so the database alone cannot open a link.
 * The link works until it expires or is revoked; it takes evidence files until the answers are
 * submitted, and the answers once. On submission every "no" or "partial" answer opens a finding
 * with the requirement's title, the set's severity and a due date 30 days out, without an owner
 * until someone takes it.
 */

export const ANSWERS = ["yes", "no", "partial", "not_applicable"] as const;
export type AnswerValue = (typeof ANSWERS)[number];
export type Answer = { answer: AnswerValue; comment: string | null };
export type Answers = Record<string, Answer>;

export const EXPIRY_DAYS_DEFAULT = 14;
export const EXPIRY_DAYS_MAX = 90;
/** The largest evidence file, before sealing. */
export const EVIDENCE_MAX_BYTES = 10 * 1024 * 1024;
/** Evidence files one questionnaire takes: the link is public, so what it can store is bounded. */
export const EVIDENCE_MAX_FILES = 50;
/** Days a finding opened from an answer has before it is due. */
export const FINDING_DUE_DAYS = 30;
const COMMENT_MAX = 5000;

export type QuestionnaireStatus = "sent" | "submitted" | "revoked" | "expired";

export type EvidenceMeta = {
  id: string;
  requirement_id: string;
  name: string;
  content_type: string | null;
  bytes: number;
  sha256: string;
  created_at: string;
};

export type Questionnaire = {
  id: string;
  vendor_id: string;
  requirement_set: string;
  /** `expired`: sent, not submitted, and past expires_at */
  status: QuestionnaireStatus;
  recipient: string | null;
  respondent: string | null;
  expires_at: string;
  created_at: string;
  /** the account that sent it */
  created_by: string | null;
  submitted_at: string | null;
  answers: Answers | null;
  evidence: EvidenceMeta[];
};

/** What the vendor sees at the link: no ids of ours beyond the requirement ids. */
export type PublicQuestionnaire = {
  vendor: string;
  set: { name: string; title: string; description: string };
  requirements: { id: string; title: string; question: string; why: string }[];
  status: "sent" | "submitted";
  expires_at: string;
  respondent: string | null;
  submitted_at: string | null;
  answers: Answers | null;
  evidence: Omit<EvidenceMeta, "sha256" | "content_type">[];
  max_evidence_bytes: number;
};

/**
 * The link no longer works (expired or revoked). A CONFLICT to the CLI; the HTTP routes answer 410
 * Gone, which says to the vendor's browser that asking again will not help.
 */
export class QuestionnaireGone extends AppError {
  constructor(message: string) {
    super("GONE", message);
    this.name = "QuestionnaireGone";
  }
}

const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const hashToken = (token: string) => createHash("sha256").update(token, "utf8").digest("hex");
const linkPath = (token: string) => `/questionnaire/${token}`;

/** Who the audit log names for what arrives through a link: the questionnaire, never a person. */
const linkActor = (questionnaireId: string): Actor =>
  Object.freeze({ kind: "system", role: "viewer", label: `questionnaire:${questionnaireId}` });

type Row = {
  id: string;
  vendor_id: string;
  vendor_name: string;
  requirement_set: string;
  status: "sent" | "submitted" | "revoked";
  expired: boolean;
  recipient: string | null;
  respondent: string | null;
  expires_at: Date;
  created_at: Date;
  created_by: string | null;
  submitted_at: Date | null;
  answers: Answers | null;
};

const SELECT = `SELECT q.id::text AS id, q.vendor_id::text AS vendor_id, v.name AS vendor_name, q.requirement_set,
    q.status, (q.status = 'sent' AND q.expires_at <= now()) AS expired, q.recipient, q.respondent, q.expires_at,
    q.created_at, q.created_by::text AS created_by, q.submitted_at, q.answers
  FROM vendor_questionnaires q JOIN vendors v ON v.id = q.vendor_id`;

type EvidenceRow = {
  id: string;
  questionnaire_id: string;
  requirement_id: string;
  name: string;
  content_type: string | null;
  bytes: number;
  sha256: string;
  created_at: Date;
};

const toEvidence = (e: EvidenceRow): EvidenceMeta => ({
  id: e.id,
  requirement_id: e.requirement_id,
  name: e.name,
  content_type: e.content_type,
  bytes: Number(e.bytes),
  sha256: e.sha256,
  created_at: new Date(e.created_at).toISOString(),
});

async function evidenceOf(q: Queryable, questionnaireIds: readonly string[]): Promise<EvidenceMeta[][]> {
  if (questionnaireIds.length === 0) return [];
  const r = await q.query<EvidenceRow>(
    `SELECT id::text AS id, questionnaire_id::text AS questionnaire_id, requirement_id, name, content_type, bytes,
       sha256, created_at
     FROM vendor_evidence WHERE questionnaire_id = ANY($1::uuid[]) ORDER BY created_at, id`,
    [[...questionnaireIds]],
  );
  return questionnaireIds.map((id) => r.rows.filter((e) => e.questionnaire_id === id).map(toEvidence));
}

const toQuestionnaire = (r: Row, evidence: EvidenceMeta[]): Questionnaire => ({
  id: r.id,
  vendor_id: r.vendor_id,
  requirement_set: r.requirement_set,
  status: r.expired ? "expired" : r.status,
  recipient: r.recipient,
  respondent: r.respondent,
  expires_at: new Date(r.expires_at).toISOString(),
  created_at: new Date(r.created_at).toISOString(),
  created_by: r.created_by,
  submitted_at: r.submitted_at ? new Date(r.submitted_at).toISOString() : null,
  answers: r.answers,
  evidence,
});

async function loadQuestionnaire(q: Queryable, vendorId: string, id: string): Promise<Questionnaire> {
  const r = await q.query<Row>(`${SELECT} WHERE q.id = $1 AND q.vendor_id = $2`, [id, vendorId]);
  const row = r.rows[0];
  if (!row) throw new AppError("NOT_FOUND", `no questionnaire ${id} for vendor ${vendorId}`);
  const [evidence = []] = await evidenceOf(q, [row.id]);
  return toQuestionnaire(row, evidence);
}

/** The row behind a link; FOR UPDATE when about to write, so two submissions queue on it. */
async function byToken(q: Queryable, token: string, lock: boolean): Promise<Row> {
  if (!TOKEN.test(token)) throw new AppError("NOT_FOUND", "no questionnaire at this link");
  const r = await q.query<Row>(`${SELECT} WHERE q.token_hash = $1${lock ? " FOR UPDATE OF q" : ""}`, [
    hashToken(token),
  ]);
  if (!r.rows[0]) throw new AppError("NOT_FOUND", "no questionnaire at this link");
  return r.rows[0];
}

function requireOpen(row: Row): void {
  if (row.status === "revoked") {
    throw new QuestionnaireGone("this questionnaire link was revoked: ask your contact for a new one");
  }
  if (new Date(row.expires_at).getTime() <= Date.now()) {
    throw new QuestionnaireGone(
      `this questionnaire link expired on ${new Date(row.expires_at).toISOString()}: ask your contact for a new one`,
    );
  }
}

function requireUnsubmitted(row: Row): void {
  if (row.status === "submitted") {
    throw new AppError(
      "CONFLICT",
      `the answers were submitted on ${new Date(row.submitted_at ?? 0).toISOString()} and can no longer be changed`,
    );
  }
}

async function setOf(row: Pick<Row, "requirement_set">): Promise<RequirementSet> {
  try {
    return await requirementSet(row.requirement_set, "requirement_set");
  } catch {
    throw new AppError(
      "CONFLICT",
      `the requirement set ${row.requirement_set} this questionnaire asks no longer exists`,
    );
  }
}

export type SendInput = { recipient?: string | null; expires_in_days?: number };
export type Sent = {
  questionnaire: Questionnaire;
  /** the path of the page the vendor opens (the token is shown this once) */
  link: string;
  token: string;
};

export async function sendQuestionnaire(
  ctx: Pick<Context, "db">,
  actor: Actor,
  vendorId: string,
  input: SendInput = {},
): Promise<Sent> {
  requireRole(actor, "responder", "sending questionnaires");
  requireId(vendorId, "vendor");
  const days = input.expires_in_days ?? EXPIRY_DAYS_DEFAULT;
  if (!Number.isInteger(days) || days < 1 || days > EXPIRY_DAYS_MAX) {
    throw badInput(`expires_in_days: a whole number from 1 to ${EXPIRY_DAYS_MAX} (got ${days})`);
  }
  const recipient = input.recipient?.trim() || null;
  if (recipient && recipient.length > 300) throw badInput("recipient: at most 300 characters");
  const token = randomBytes(32).toString("base64url");
  return ctx.db.transaction(async (tx) => {
    const v = await tx.query<{ requirement_set: string | null; status: string; name: string }>(
      "SELECT requirement_set, status, name FROM vendors WHERE id = $1",
      [vendorId],
    );
    const vendor = v.rows[0];
    if (!vendor) throw new AppError("NOT_FOUND", `no vendor ${vendorId}`);
    if (!vendor.requirement_set) {
      throw new AppError(
        "CONFLICT",
        `requirement_set: vendor ${JSON.stringify(vendor.name)} has none; assign one first (POST /vendors/${vendorId}/requirement-set)`,
      );
    }
    if (vendor.status === "offboarding" || vendor.status === "offboarded") {
      throw new AppError("CONFLICT", `vendor ${JSON.stringify(vendor.name)} is ${vendor.status}`);
    }
    await requirementSet(vendor.requirement_set, "requirement_set");
    const r = await tx.query<{ id: string }>(
      `INSERT INTO vendor_questionnaires (vendor_id, requirement_set, token_hash, expires_at, recipient, created_by)
       VALUES ($1, $2, $3, now() + $4 * interval '1 day', $5, $6) RETURNING id::text AS id`,
      [vendorId, vendor.requirement_set, hashToken(token), days, recipient, actor.userId ?? null],
    );
    const id = (r.rows[0] as { id: string }).id;
    await appendAudit(tx, actor, "vendor.questionnaire.send", `vendor:${vendorId}`, {
      questionnaire: id,
      set: vendor.requirement_set,
      expires_in_days: days,
    });
    return { questionnaire: await loadQuestionnaire(tx, vendorId, id), link: linkPath(token), token };
  });
}

export async function listQuestionnaires(
  ctx: Pick<Context, "db">,
  actor: Actor,
  vendorId: string,
): Promise<Questionnaire[]> {
  requireRole(actor, "viewer", "reading questionnaires");
  requireId(vendorId, "vendor");
  const exists = await ctx.db.query("SELECT 1 FROM vendors WHERE id = $1", [vendorId]);
  if (exists.rows.length === 0) throw new AppError("NOT_FOUND", `no vendor ${vendorId}`);
  const r = await ctx.db.query<Row>(`${SELECT} WHERE q.vendor_id = $1 ORDER BY q.created_at DESC, q.id`, [
    vendorId,
  ]);
  const evidence = await evidenceOf(
    ctx.db,
    r.rows.map((row) => row.id),
  );
  return r.rows.map((row, i) => toQuestionnaire(row, evidence[i] ?? []));
}

export async function revokeQuestionnaire(
  ctx: Pick<Context, "db">,
  actor: Actor,
  vendorId: string,
  questionnaireId: string,
): Promise<Questionnaire> {
  requireRole(actor, "responder", "revoking questionnaires");
  requireId(vendorId, "vendor");
  requireId(questionnaireId, "questionnaire");
  return ctx.db.transaction(async (tx) => {
    const q = await loadQuestionnaire(tx, vendorId, questionnaireId);
    if (q.status === "submitted" || q.status === "revoked") {
      throw new AppError("CONFLICT", `questionnaire ${questionnaireId} is ${q.status} already`);
    }
    await tx.query("UPDATE vendor_questionnaires SET status = 'revoked' WHERE id = $1", [questionnaireId]);
    await appendAudit(tx, actor, "vendor.questionnaire.revoke", `vendor:${vendorId}`, {
      questionnaire: questionnaireId,
    });
    return loadQuestionnaire(tx, vendorId, questionnaireId);
  });
}

/** An evidence file as it was given; responders only, and every read is audited. */
export async function getEvidence(
  ctx: Pick<Context, "db" | "sealer">,
  actor: Actor,
  vendorId: string,
  questionnaireId: string,
  evidenceId: string,
): Promise<{ name: string; sha256: string; content: Buffer }> {
  requireRole(actor, "responder", "reading questionnaire evidence");
  requireId(vendorId, "vendor");
  requireId(questionnaireId, "questionnaire");
  requireId(evidenceId, "evidence");
  return ctx.db.transaction(async (tx) => {
    const r = await tx.query<{ name: string; sha256: string; sealed: Uint8Array }>(
      `SELECT e.name, e.sha256, e.sealed FROM vendor_evidence e
       JOIN vendor_questionnaires q ON q.id = e.questionnaire_id
       WHERE e.id = $1 AND e.questionnaire_id = $2 AND q.vendor_id = $3`,
      [evidenceId, questionnaireId, vendorId],
    );
    const row = r.rows[0];
    if (!row)
      throw new AppError("NOT_FOUND", `no evidence ${evidenceId} in questionnaire ${questionnaireId}`);
    const content = ctx.sealer.open(Buffer.from(row.sealed));
    await appendAudit(tx, actor, "vendor.questionnaire.evidence.read", `vendor:${vendorId}`, {
      questionnaire: questionnaireId,
      evidence: evidenceId,
      bytes: content.length,
    });
    return { name: row.name, sha256: row.sha256, content };
  });
}

// ------------------------------------------------------------------------------------ at the link

const publicRequirement = (r: Requirement) => ({
  id: r.id,
  title: r.title,
  question: r.question,
  why: r.why,
});

/** What the link shows: 404 for a token we never made, Gone once expired or revoked. */
export async function openQuestionnaire(
  ctx: Pick<Context, "db">,
  token: string,
): Promise<PublicQuestionnaire> {
  const row = await byToken(ctx.db, token, false);
  requireOpen(row);
  const set = await setOf(row);
  const [evidence = []] = await evidenceOf(ctx.db, [row.id]);
  return {
    vendor: row.vendor_name,
    set: { name: set.name, title: set.title, description: set.description },
    requirements: set.requirements.map(publicRequirement),
    status: row.status === "submitted" ? "submitted" : "sent",
    expires_at: new Date(row.expires_at).toISOString(),
    respondent: row.respondent,
    submitted_at: row.submitted_at ? new Date(row.submitted_at).toISOString() : null,
    answers: row.answers,
    evidence: evidence.map(({ sha256: _s, content_type: _c, ...e }) => e),
    max_evidence_bytes: EVIDENCE_MAX_BYTES,
  };
}

/** Refuses early (before an upload is read) when the link cannot take anything any more. */
export async function requireWritableLink(ctx: Pick<Context, "db">, token: string): Promise<void> {
  const row = await byToken(ctx.db, token, false);
  requireOpen(row);
  requireUnsubmitted(row);
}

export type SubmitInput = {
  respondent: string;
  answers: Record<string, { answer: string; comment?: string | null }>;
};

/** Every requirement answered, with known ids and values; messages name `answers.<id>`. */
export function checkAnswers(set: RequirementSet, answers: SubmitInput["answers"]): Answers {
  if (typeof answers !== "object" || answers === null || Array.isArray(answers)) {
    throw badInput("answers: an object of requirement id to {answer, comment}");
  }
  const known = new Set(set.requirements.map((r) => r.id));
  const out: Answers = {};
  for (const [id, value] of Object.entries(answers)) {
    if (!known.has(id)) {
      throw badInput(`answers.${id}: not a requirement of ${set.name} (${[...known].join(", ")})`);
    }
    if (!(ANSWERS as readonly string[]).includes(value?.answer)) {
      throw badInput(`answers.${id}.answer: one of ${ANSWERS.join(", ")}`);
    }
    const comment = value.comment?.trim() || null;
    if (comment && comment.length > COMMENT_MAX) {
      throw badInput(`answers.${id}.comment: at most ${COMMENT_MAX} characters`);
    }
    out[id] = { answer: value.answer as AnswerValue, comment };
  }
  const missing = set.requirements.filter((r) => !out[r.id]).map((r) => r.id);
  if (missing.length > 0) throw badInput(`answers: missing ${missing.join(", ")}`);
  return out;
}

export type Submitted = PublicQuestionnaire & { findings_opened: number };

export async function submitAnswers(
  ctx: Pick<Context, "db">,
  token: string,
  input: SubmitInput,
  now: Date = new Date(),
): Promise<Submitted> {
  const respondent = input.respondent?.trim() ?? "";
  if (!respondent) throw badInput("respondent: your name (and role) is required");
  if (respondent.length > 300) throw badInput("respondent: at most 300 characters");
  const opened = await ctx.db.transaction(async (tx) => {
    const row = await byToken(tx, token, true);
    requireOpen(row);
    requireUnsubmitted(row);
    const set = await setOf(row);
    const answers = checkAnswers(set, input.answers);
    await tx.query(
      `UPDATE vendor_questionnaires SET status = 'submitted', answers = $2::text::jsonb, respondent = $3,
         submitted_at = $4 WHERE id = $1`,
      [row.id, JSON.stringify(answers), respondent, now],
    );
    const actor = linkActor(row.id);
    const due = addDays(dayOf(now), FINDING_DUE_DAYS);
    let findings = 0;
    for (const r of set.requirements) {
      const a = answers[r.id];
      if (!a || (a.answer !== "no" && a.answer !== "partial")) continue;
      await insertFinding(tx, actor, row.vendor_id, {
        title: r.title,
        severity: set.finding_severity,
        owner_id: null,
        due_at: due,
        requirement_id: r.id,
        questionnaire_id: row.id,
        note: `Answered "${a.answer}" in the ${set.name} questionnaire submitted on ${dayOf(now)}.${a.comment ? ` The vendor's comment: ${a.comment}` : ""}`,
      });
      findings++;
    }
    const counts = Object.fromEntries(
      ANSWERS.map((v) => [v, Object.values(answers).filter((a) => a.answer === v).length]),
    );
    await appendAudit(tx, actor, "vendor.questionnaire.submit", `vendor:${row.vendor_id}`, {
      questionnaire: row.id,
      set: set.name,
      answers: counts,
      findings,
    });
    return findings;
  });
  return { ...(await openQuestionnaire(ctx, token)), findings_opened: opened };
}

function cleanFileName(name: string): string {
  const base = [...path.basename(name.replaceAll("\\", "/"))]
    .filter((ch) => (ch.codePointAt(0) ?? 0) > 0x1f && ch !== "\u007f")
    .join("")
    .trim();
  if (!base || base === "." || base === "..") throw badInput("file: needs a file name");
  return base.slice(0, 200);
}

const cleanContentType = (type: string | null | undefined): string | null =>
  type && /^[\w.+-]{1,60}\/[\w.+-]{1,60}$/.test(type) ? type.toLowerCase() : null;

export type EvidenceInput = {
  requirement_id: string;
  name: string;
  content_type?: string | null;
  content: Buffer;
};

/** Attaches a file to one answer, sealed; only while the answers are not yet submitted. */
export async function addEvidence(
  ctx: Pick<Context, "db" | "sealer">,
  token: string,
  input: EvidenceInput,
): Promise<Omit<EvidenceMeta, "sha256" | "content_type">> {
  const requirementId = input.requirement_id?.trim() ?? "";
  if (!requirementId) throw badInput("requirement_id: which requirement the file is evidence for");
  const name = cleanFileName(input.name ?? "");
  if (input.content.length === 0) throw badInput("file: the file is empty");
  if (input.content.length > EVIDENCE_MAX_BYTES) {
    throw new AppError("TOO_LARGE", `file: larger than the limit of ${EVIDENCE_MAX_BYTES} bytes (10 MiB)`);
  }
  const sealed = ctx.sealer.seal(input.content);
  const sha256 = createHash("sha256").update(input.content).digest("hex");
  return ctx.db.transaction(async (tx) => {
    const row = await byToken(tx, token, true);
    requireOpen(row);
    requireUnsubmitted(row);
    const set = await setOf(row);
    if (!set.requirements.some((r) => r.id === requirementId)) {
      throw badInput(
        `requirement_id: ${JSON.stringify(requirementId)} is not a requirement of ${set.name} (${set.requirements.map((r) => r.id).join(", ")})`,
      );
    }
    const count = await tx.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM vendor_evidence WHERE questionnaire_id = $1",
      [row.id],
    );
    if ((count.rows[0]?.n ?? 0) >= EVIDENCE_MAX_FILES) {
      throw new AppError("CONFLICT", `file: a questionnaire takes at most ${EVIDENCE_MAX_FILES} files`);
    }
    const r = await tx.query<EvidenceRow>(
      `INSERT INTO vendor_evidence (questionnaire_id, requirement_id, name, content_type, bytes, sha256, sealed)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       RETURNING id::text AS id, questionnaire_id::text AS questionnaire_id, requirement_id, name, content_type,
         bytes, sha256, created_at`,
      [
        row.id,
        requirementId,
        name,
        cleanContentType(input.content_type),
        input.content.length,
        sha256,
        sealed,
      ],
    );
    const e = toEvidence(r.rows[0] as EvidenceRow);
    await appendAudit(tx, linkActor(row.id), "vendor.questionnaire.evidence", `vendor:${row.vendor_id}`, {
      questionnaire: row.id,
      evidence: e.id,
      requirement: requirementId,
      bytes: e.bytes,
    });
    const { sha256: _s, content_type: _c, ...shown } = e;
    return shown;
  });
}

/** Revokes a vendor's outstanding links (offboarding); returns how many. */
export async function revokeOpenQuestionnaires(tx: Queryable, vendorId: string): Promise<number> {
  const r = await tx.query<{ id: string }>(
    "UPDATE vendor_questionnaires SET status = 'revoked' WHERE vendor_id = $1 AND status = 'sent' RETURNING id",
    [vendorId],
  );
  return r.rows.length;
}
