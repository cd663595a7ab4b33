import { createHash } from "node:crypto";
import path from "node:path";
import type { Context } from "../app/context.ts";
import { appendAudit } from "../audit/audit-log.ts";
import { type Actor, requireRole } from "../auth/roles.ts";
import { loadIncident, parseInstant } from "../incidents/manage-incidents.ts";
import { entryText, recordSystemEntry } from "../incidents/record-system-entry.ts";
import { AppError, badInput } from "../lib/errors.ts";
import { requireId } from "../lib/ids.ts";
import type { Queryable } from "../store/db.ts";
import type { ObligationDecision } from "./decide-obligations.ts";
import { loadRules } from "./load-rules.ts";

/**
 * Filings: a notice owed under a regime (obligations) marked as given to its audience, when, under
 * which reference, with the proof. The proof is a file that may name people (a submitted form, a
 * receipt), so it is sealed, read only by analysts and up with every read audited, and purged with
 * the incident's other personal data; the filing itself stays as the record of the response.
 */

/** The largest evidence file, before sealing (and before base64 on the API). */
export const EVIDENCE_MAX_BYTES = 10 * 1024 * 1024;

export type Filing = {
  id: string;
  incident_id: string;
  regime: string;
  audience: string;
  filed_at: string;
  reference: string | null;
  note: string | null;
  /** the proof's name, size and SHA-256 (of the file as given); available false once purged */
  evidence: { name: string; bytes: number | null; sha256: string; available: boolean } | null;
  /** who recorded it, as the audit log names them ("user:<id>", "cli", ...) */
  filed_by: string | null;
  created_at: string;
};

export type FilingInput = {
  regime: string;
  audience: string;
  /** ISO-8601 with offset; default now */
  filed_at?: string;
  reference?: string | null;
  note?: string | null;
  evidence?: { name: string; content: Buffer };
};

/** What an obligation carries once a filing for its regime and audience exists: the first one. */
export type FiledInfo = { filing_id: string; filed_at: string; reference: string | null };
export type ObligationWithFiling = ObligationDecision & { filed?: FiledInfo };

type Row = {
  id: string;
  incident_id: string;
  regime: string;
  audience: string;
  filed_at: Date;
  reference: string | null;
  note: string | null;
  evidence_name: string | null;
  evidence_sha256: string | null;
  evidence_bytes: number | null;
  has_evidence: boolean;
  filed_by_label: string | null;
  created_at: Date;
};

const COLUMNS = `id, incident_id, regime, audience, filed_at, reference, note, evidence_name, evidence_sha256,
  evidence_bytes, evidence_sealed IS NOT NULL AS has_evidence, filed_by_label, created_at`;

const toFiling = (r: Row): Filing => ({
  id: r.id,
  incident_id: r.incident_id,
  regime: r.regime,
  audience: r.audience,
  filed_at: new Date(r.filed_at).toISOString(),
  reference: r.reference,
  note: r.note,
  evidence:
    r.evidence_name === null
      ? null
      : {
          name: r.evidence_name,
          bytes: r.evidence_bytes,
          sha256: r.evidence_sha256 ?? "",
          available: r.has_evidence,
        },
  filed_by: r.filed_by_label,
  created_at: new Date(r.created_at).toISOString(),
});

/** Strict base64 (the API's JSON carries the evidence so), naming the field when it is not. */
export function decodeBase64(value: string, field: string): Buffer {
  const compact = value.replace(/\s+/g, "");
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) {
    throw badInput(`${field}: not base64`);
  }
  return Buffer.from(compact, "base64");
}

function cleanName(name: string): string {
  // A path's last part, without control characters that would garble a terminal or a header.
  const base = [...path.basename(name.replaceAll("\\", "/"))]
    .filter((ch) => (ch.codePointAt(0) ?? 0) > 0x1f && ch !== "\u007f")
    .join("")
    .trim();
  if (!base || base === "." || base === "..") throw badInput("evidence.name: a file name");
  return base.slice(0, 200);
}

/** The regime and audience pairs the rules know: a filing must answer one of their notices. */
async function checkNotice(regime: string, audience: string): Promise<void> {
  const rules = await loadRules();
  const rule = rules.find((r) => r.id === regime);
  if (!rule)
    throw badInput(`regime: one of ${rules.map((r) => r.id).join(", ")} (got ${JSON.stringify(regime)})`);
  const audiences = rule.obligations.map((o) => o.audience);
  if (!audiences.includes(audience as (typeof audiences)[number])) {
    throw badInput(
      `audience: ${regime} has notices to ${audiences.join(", ")} (got ${JSON.stringify(audience)})`,
    );
  }
}

const FUTURE_SLACK_MS = 5 * 60_000;

export async function recordFiling(
  ctx: Pick<Context, "db" | "sealer">,
  actor: Actor,
  incidentId: string,
  input: FilingInput,
): Promise<Filing> {
  requireRole(actor, "responder", "recording a filed notice");
  requireId(incidentId, "incident");
  const regime = input.regime?.trim() ?? "";
  const audience = input.audience?.trim() ?? "";
  await checkNotice(regime, audience);
  const filedAt = input.filed_at ? parseInstant(input.filed_at, "filed_at") : new Date();
  if (filedAt.getTime() > Date.now() + FUTURE_SLACK_MS) throw badInput("filed_at: is in the future");
  const reference = input.reference?.trim() || null;
  if (reference && reference.length > 300) throw badInput("reference: at most 300 characters");
  const note = input.note?.trim() ? input.note : null;
  if (note && note.length > 20_000) throw badInput("note: at most 20,000 characters");
  let evidence: { name: string; sealed: Buffer; sha256: string; bytes: number } | null = null;
  if (input.evidence) {
    const { content } = input.evidence;
    if (content.length === 0) throw badInput("evidence: the file is empty");
    if (content.length > EVIDENCE_MAX_BYTES) {
      throw new AppError(
        "TOO_LARGE",
        `evidence: the file is larger than the limit of ${EVIDENCE_MAX_BYTES} bytes (10 MiB)`,
      );
    }
    evidence = {
      name: cleanName(input.evidence.name ?? ""),
      sealed: ctx.sealer.seal(content),
      sha256: createHash("sha256").update(content).digest("hex"),
      bytes: content.length,
    };
  }
  return ctx.db.transaction(async (tx) => {
    const incident = await loadIncident(tx, incidentId);
    if (evidence && incident.purged_at) {
      throw new AppError(
        "CONFLICT",
        "this incident's personal data was purged after its retention period: record the filing without evidence",
      );
    }
    const r = await tx.query<Row>(
      `INSERT INTO filings (incident_id, regime, audience, filed_at, reference, note, evidence_name, evidence_sealed,
         evidence_sha256, evidence_bytes, filed_by, filed_by_label)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING ${COLUMNS}`,
      [
        incidentId,
        regime,
        audience,
        filedAt,
        reference,
        note,
        evidence?.name ?? null,
        evidence?.sealed ?? null,
        evidence?.sha256 ?? null,
        evidence?.bytes ?? null,
        actor.userId ?? null,
        actor.label,
      ],
    );
    const filing = toFiling(r.rows[0] as Row);
    await appendAudit(tx, actor, "filing.record", `incident:${incidentId}`, {
      filing: filing.id,
      regime,
      audience,
      evidence_bytes: evidence?.bytes ?? null,
    });
    await recordSystemEntry(tx, incidentId, entryText.noticeFiled(regime, audience, reference), filedAt);
    return filing;
  });
}

export async function filingsOf(q: Queryable, incidentId: string): Promise<Filing[]> {
  const r = await q.query<Row>(
    `SELECT ${COLUMNS} FROM filings WHERE incident_id = $1 ORDER BY filed_at, created_at, id`,
    [incidentId],
  );
  return r.rows.map(toFiling);
}

/** Filings hold no personal data themselves (the evidence stays sealed), so viewers may list them. */
export async function listFilings(
  ctx: Pick<Context, "db">,
  actor: Actor,
  incidentId: string,
): Promise<Filing[]> {
  requireRole(actor, "viewer", "reading filings");
  await loadIncident(ctx.db, incidentId);
  return filingsOf(ctx.db, incidentId);
}

/** The proof as it was given; analysts and up, and every read is audited. */
export async function getFilingEvidence(
  ctx: Pick<Context, "db" | "sealer">,
  actor: Actor,
  incidentId: string,
  filingId: string,
): Promise<{ name: string; sha256: string; content: Buffer }> {
  requireRole(actor, "analyst", "reading a filing's evidence");
  requireId(incidentId, "incident");
  requireId(filingId, "filing");
  return ctx.db.transaction(async (tx) => {
    const r = await tx.query<{
      evidence_name: string | null;
      evidence_sha256: string | null;
      evidence_sealed: Uint8Array | null;
    }>(
      "SELECT evidence_name, evidence_sha256, evidence_sealed FROM filings WHERE id = $1 AND incident_id = $2",
      [filingId, incidentId],
    );
    const row = r.rows[0];
    if (!row) throw new AppError("NOT_FOUND", `no filing ${filingId} in incident ${incidentId}`);
    if (row.evidence_name === null) throw new AppError("NOT_FOUND", `filing ${filingId} has no evidence`);
    if (row.evidence_sealed === null) {
      throw new AppError(
        "CONFLICT",
        "this filing's evidence was purged after the incident's retention period",
      );
    }
    const content = ctx.sealer.open(Buffer.from(row.evidence_sealed));
    await appendAudit(tx, actor, "filing.evidence.read", `incident:${incidentId}`, {
      filing: filingId,
      bytes: content.length,
    });
    return { name: row.evidence_name, sha256: row.evidence_sha256 ?? "", content };
  });
}

/**
 * Marks each obligation whose notice was filed: `filed` is the first filing for its regime and
 * audience (later ones, such as information given in phases, are in the list of filings).
 */
export async function attachFilings(
  q: Queryable,
  incidentId: string,
  obligations: readonly ObligationDecision[],
): Promise<ObligationWithFiling[]> {
  const filings = await filingsOf(q, incidentId);
  return obligations.map((o) => {
    const first = filings.find((f) => f.regime === o.regime && f.audience === o.audience);
    return first
      ? { ...o, filed: { filing_id: first.id, filed_at: first.filed_at, reference: first.reference } }
      : { ...o };
  });
}
