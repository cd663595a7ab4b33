import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { Context } from "../app/context.ts";
import type { Actor } from "../auth/roles.ts";
import { loadConfig } from "../config/env.ts";
import { createIncident, listTimeline } from "../incidents/manage-incidents.ts";
import { AppError } from "../lib/errors.ts";
import { createSealer } from "../lib/seal.ts";
import type { Db, Queryable } from "../store/db.ts";
import { type Backend, backends } from "../store/test-backends.ts";
import type { ObligationDecision } from "./decide-obligations.ts";
import {
  attachFilings,
  decodeBase64,
  EVIDENCE_MAX_BYTES,
  getFilingEvidence,
  listFilings,
  recordFiling,
} from "./file-notice.ts";

const responder: Actor = { kind: "token", role: "responder", label: "token:dpo" };
const analyst: Actor = { kind: "token", role: "analyst", label: "token:analyst" };
const viewer: Actor = { kind: "token", role: "viewer", label: "token:viewer" };

const code = (code: string) => (e: unknown) => e instanceof AppError && e.code === code;

for (const [i, make] of backends.entries()) {
  describe(`filings on ${i === 0 ? "PGlite" : "PostgreSQL"}`, () => {
    let backend: Backend;
    let db: Db;
    let ctx: Context;
    before(async () => {
      backend = await make();
      if (backend.skip) return;
      db = await backend.open();
      const key = Buffer.alloc(32, 7);
      ctx = { db, key, sealer: createSealer(key), config: loadConfig({ BLASTRADIUS_DATA: backend.dataDir }) };
    });
    after(async () => {
      await db?.close();
      await backend?.cleanup();
    });

    it("records a filed notice with sealed evidence, audits it and writes the timeline", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const incident = await createIncident(ctx, responder, { title: "breach" });
      const content = Buffer.from("%PDF-1.4 receipt of notification no. 42\n");
      const filing = await recordFiling(ctx, responder, incident.id, {
        regime: "eu-gdpr",
        audience: "regulator",
        filed_at: "2025-11-27T11:00:00+01:00",
        reference: " DPA-2025-0042 ",
        note: "Filed through the authority's web form.",
        evidence: { name: "C:\\Users\\dpo\\receipt.pdf", content },
      });
      assert.equal(filing.filed_at, "2025-11-27T10:00:00.000Z");
      assert.equal(filing.reference, "DPA-2025-0042");
      assert.equal(filing.filed_by, "token:dpo");
      assert.deepEqual(filing.evidence, {
        name: "receipt.pdf",
        bytes: content.length,
        sha256: createHash("sha256").update(content).digest("hex"),
        available: true,
      });

      // sealed at rest: the stored bytes are not the file
      const stored = await db.query<{ evidence_sealed: Uint8Array }>(
        "SELECT evidence_sealed FROM filings WHERE id = $1",
        [filing.id],
      );
      const sealed = Buffer.from(stored.rows[0]?.evidence_sealed ?? []);
      assert.ok(sealed.length > content.length);
      assert.equal(sealed.indexOf(Buffer.from("receipt of notification")), -1);

      assert.deepEqual(await listFilings(ctx, viewer, incident.id), [filing]);
      const evidence = await getFilingEvidence(ctx, analyst, incident.id, filing.id);
      assert.ok(evidence.content.equals(content));
      assert.equal(evidence.name, "receipt.pdf");

      const audit = await db.query<{ actor: string; action: string; detail: Record<string, unknown> }>(
        "SELECT actor, action, detail FROM audit_events WHERE subject = $1 AND action LIKE 'filing.%' ORDER BY seq",
        [`incident:${incident.id}`],
      );
      assert.deepEqual(
        audit.rows.map((r) => [r.actor, r.action, r.detail.filing]),
        [
          ["token:dpo", "filing.record", filing.id],
          ["token:analyst", "filing.evidence.read", filing.id],
        ],
      );
      const timeline = await listTimeline(ctx, viewer, incident.id);
      const entry = timeline.find((e) => e.kind === "system");
      assert.deepEqual(entry && [entry.at, entry.body, entry.author], [
        "2025-11-27T10:00:00.000Z",
        "Notice filed: eu-gdpr to regulator (reference DPA-2025-0042)",
        "system",
      ]);
    });

    it("records a filing without evidence, at now by default", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const incident = await createIncident(ctx, responder, { title: "breach" });
      const before = Date.now();
      const filing = await recordFiling(ctx, responder, incident.id, {
        regime: "us-ca",
        audience: "individuals",
      });
      assert.equal(filing.evidence, null);
      assert.equal(filing.reference, null);
      assert.ok(Date.parse(filing.filed_at) >= before - 1000 && Date.parse(filing.filed_at) <= Date.now());
      await assert.rejects(getFilingEvidence(ctx, analyst, incident.id, filing.id), code("NOT_FOUND"));
      const timeline = await listTimeline(ctx, viewer, incident.id);
      assert.deepEqual(
        timeline.map((e) => e.body),
        ["Notice filed: us-ca to individuals"],
      );
    });

    it("refuses notices the rules do not know, times in the future, empty or too large evidence, and low roles", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const incident = await createIncident(ctx, responder, { title: "breach" });
      const file = (regime: string, audience: string, extra = {}) =>
        recordFiling(ctx, responder, incident.id, { regime, audience, ...extra });
      await assert.rejects(file("xx-law", "regulator"), /regime: one of au-ndb, br-lgpd/);
      await assert.rejects(
        file("eu-gdpr", "other"),
        /audience: eu-gdpr has notices to regulator, individuals/,
      );
      await assert.rejects(
        file("eu-gdpr", "regulator", { filed_at: "2025-11-27 10:00" }),
        /filed_at: an ISO-8601 time with offset/,
      );
      await assert.rejects(
        file("eu-gdpr", "regulator", { filed_at: new Date(Date.now() + 3600_000).toISOString() }),
        /filed_at: is in the future/,
      );
      await assert.rejects(
        file("eu-gdpr", "regulator", { evidence: { name: "x.pdf", content: Buffer.alloc(0) } }),
        /evidence: the file is empty/,
      );
      await assert.rejects(
        file("eu-gdpr", "regulator", {
          evidence: { name: "x.pdf", content: Buffer.alloc(EVIDENCE_MAX_BYTES + 1) },
        }),
        code("TOO_LARGE"),
      );
      await assert.rejects(
        recordFiling(ctx, analyst, incident.id, { regime: "eu-gdpr", audience: "regulator" }),
        code("FORBIDDEN"),
      );
      const ok = await file("eu-gdpr", "regulator", {
        evidence: { name: "ok.txt", content: Buffer.alloc(1024, 1) },
      });
      await assert.rejects(getFilingEvidence(ctx, viewer, incident.id, ok.id), code("FORBIDDEN"));
      const other = await createIncident(ctx, responder, { title: "other" });
      await assert.rejects(getFilingEvidence(ctx, analyst, other.id, ok.id), code("NOT_FOUND"));
      assert.equal((await listFilings(ctx, viewer, incident.id)).length, 1, "only the accepted one");
    });
  });
}

describe("attachFilings and decodeBase64", () => {
  const obligation = (regime: string, audience: "regulator" | "individuals") =>
    ({ regime, audience, decision: "required" }) as unknown as ObligationDecision;
  const rows = [
    {
      id: "f2",
      filed_at: new Date("2025-11-28T09:00:00Z"),
      reference: "second",
      regime: "eu-gdpr",
      audience: "regulator",
    },
    {
      id: "f1",
      filed_at: new Date("2025-11-27T10:00:00Z"),
      reference: null,
      regime: "eu-gdpr",
      audience: "regulator",
    },
    {
      id: "f3",
      filed_at: new Date("2025-11-27T10:00:00Z"),
      reference: "x",
      regime: "uk-gdpr",
      audience: "individuals",
    },
  ];
  // Only what filingsOf reads, sorted as its query sorts.
  const fake: Queryable = {
    query: (async () => ({
      rows: [...rows]
        .sort((a, b) => a.filed_at.getTime() - b.filed_at.getTime())
        .map((r) => ({
          ...r,
          incident_id: "i",
          note: null,
          evidence_name: null,
          evidence_sha256: null,
          evidence_bytes: null,
          has_evidence: false,
          filed_by_label: null,
          created_at: r.filed_at,
        })),
    })) as Queryable["query"],
    exec: async () => {},
  };

  it("marks each regime and audience with its first filing, and leaves the others alone", async () => {
    const out = await attachFilings(fake, "i", [
      obligation("eu-gdpr", "regulator"),
      obligation("eu-gdpr", "individuals"),
      obligation("uk-gdpr", "regulator"),
      obligation("uk-gdpr", "individuals"),
    ]);
    assert.deepEqual(
      out.map((o) => [o.regime, o.audience, o.filed ?? null]),
      [
        ["eu-gdpr", "regulator", { filing_id: "f1", filed_at: "2025-11-27T10:00:00.000Z", reference: null }],
        ["eu-gdpr", "individuals", null],
        ["uk-gdpr", "regulator", null],
        ["uk-gdpr", "individuals", { filing_id: "f3", filed_at: "2025-11-27T10:00:00.000Z", reference: "x" }],
      ],
    );
    assert.ok(!("filed" in (out[1] ?? {})), "no filed key where nothing was filed");
  });

  it("decodes strict base64 only", () => {
    assert.equal(decodeBase64("aGVs\nbG8=", "f").toString(), "hello");
    assert.throws(
      () => decodeBase64("aGVsbG8", "evidence.content_base64"),
      /evidence.content_base64: not base64/,
    );
    assert.throws(() => decodeBase64("aGV$bG8=", "f"), /not base64/);
  });
});
