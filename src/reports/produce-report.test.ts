import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { openContext } from "../app/open-context.ts";
import { type Actor, systemActor } from "../auth/roles.ts";
import { loadConfig } from "../config/env.ts";
import { uploadDataset } from "../datasets/manage-datasets.ts";
import {
  ANALYSIS_JOB,
  analysisJobHandler,
  getRunObligations,
  startAnalysis,
} from "../impact/incident-analysis.ts";
import { createIncident, recordDecision } from "../incidents/manage-incidents.ts";
import { startWorker } from "../jobs/run-worker.ts";
import { AppError } from "../lib/errors.ts";
import { event, identities, jsonl, tempDir } from "../lib/test-fixtures.ts";
import { recordFiling } from "../obligations/file-notice.ts";
import { createVendor } from "../vendors/manage-vendors.ts";
import { produceReport } from "./produce-report.ts";

/** The reports from a real workspace: an analysed dataset, a decision and a filed notice. */

const viewer: Actor = { kind: "token", role: "viewer", label: "token:viewer" };

describe("reports of a workspace incident (PGlite)", { timeout: 120_000 }, () => {
  let ctx: Awaited<ReturnType<typeof openContext>>;
  let incidentId: string;
  let runId: string;

  before(async () => {
    const dir = await tempDir("blastradius-reports-");
    ctx = await openContext(
      loadConfig({
        BLASTRADIUS_DATA: dir,
        BLASTRADIUS_IDENTITIES: await identities(dir),
        BLASTRADIUS_MEMORY_LIMIT: "1GB",
        BLASTRADIUS_THREADS: "2",
        BLASTRADIUS_DPO_CONTACT: "Data Protection Officer, dpo@example.com, +49 30 1234",
      }),
    );
    const vendor = await createVendor(ctx, systemActor, { name: "Analytics Co", status: "offboarding" });
    incidentId = (
      await createIncident(ctx, systemActor, {
        title: "Analytics vendor breach",
        vendor_id: vendor.id,
        controller_country: "DE",
        clocks: { aware: "2025-11-25T18:00:00Z", vendor_detected: "2025-11-09T14:00:00Z" },
      })
    ).id;
    await uploadDataset(ctx, systemActor, incidentId, {
      fileName: "export.jsonl",
      content: Readable.from([
        jsonl(
          event({ distinct_id: "u1", $email: "alice@example.com", $city: "Berlin" }),
          event({ distinct_id: "u3", $os: "Linux" }),
        ),
      ]),
    });
    runId = (await startAnalysis(ctx, systemActor, incidentId)).id;
    const worker = startWorker({
      db: ctx.db,
      handlers: { [ANALYSIS_JOB]: analysisJobHandler(ctx) },
      pollMs: 20,
      log: () => {},
    });
    await worker.idle();
    await worker.stop();
    await recordDecision(ctx, systemActor, incidentId, {
      subject: "eu-gdpr:individuals",
      decision: "required",
      rationale: "Emails enable targeted phishing",
    });
    await recordFiling(ctx, systemActor, incidentId, {
      regime: "eu-gdpr",
      audience: "regulator",
      filed_at: "2025-11-27T10:00:00Z",
      reference: "DPA-2025-0042",
    });
  });
  after(async () => ctx?.close());

  it("marks the filed notice in the run's obligations", async () => {
    const obligations = await getRunObligations(ctx, viewer, incidentId, runId);
    const gdpr = obligations.find((o) => o.regime === "eu-gdpr" && o.audience === "regulator");
    assert.deepEqual(gdpr?.filed && { ...gdpr.filed, filing_id: typeof gdpr.filed.filing_id }, {
      filing_id: "string",
      filed_at: "2025-11-27T10:00:00.000Z",
      reference: "DPA-2025-0042",
    });
    assert.equal(
      obligations.filter((o) => o.filed).length,
      1,
      "only the regime and audience that were filed",
    );
  });

  it("writes the regulator draft from the store: counts, contact, deadline, filing; audited", async () => {
    const now = new Date("2025-11-26T18:00:00Z");
    const md = await produceReport(ctx, viewer, incidentId, "regulator", "md", { now });
    assert.equal(md.contentType, "text/markdown; charset=utf-8");
    assert.equal(md.fileName, `regulator-report-${incidentId.replaceAll("-", "").slice(0, 8)}.md`);
    const text = md.body.toString("utf8");
    assert.match(text, /\*\*2 people\*\* affected in total, of whom:/);
    assert.match(text, /- 2 matched to user accounts of our service/);
    assert.match(text, /\| Email address \| user\.contact\.email \| 1 \|/);
    assert.match(text, /\| DE \| 1 \|\n\| FR \| 1 \|/);
    assert.match(text, /The dataset held 2 records in 1 file; \*\*2 records\*\*/);
    assert.match(text, /Name and contact details: Data Protection Officer, dpo@example\.com, \+49 30 1234/);
    assert.match(text, /\*\*by 2025-11-28 18:00 UTC\*\*\. Notified on 2025-11-27 10:00 UTC\./);
    assert.match(text, /Analytics Co is being offboarded/);
    assert.match(text, /Notice filed: eu-gdpr to regulator \(reference DPA-2025-0042\)/);
    assert.ok(!/alice|Alice/.test(text), "no person in the report");

    const pdf = await produceReport(ctx, viewer, incidentId, "incident", "pdf", { now });
    assert.equal(pdf.contentType, "application/pdf");
    assert.equal(pdf.body.subarray(0, 5).toString("latin1"), "%PDF-");

    const audit = await ctx.db.query<{ actor: string; detail: { report: string; format: string } }>(
      "SELECT actor, detail FROM audit_events WHERE action = 'report.downloaded' AND subject = $1 ORDER BY seq",
      [`incident:${incidentId}`],
    );
    assert.deepEqual(
      audit.rows.map((r) => [r.actor, r.detail.report, r.detail.format]),
      [
        ["token:viewer", "regulator", "md"],
        ["token:viewer", "incident", "pdf"],
      ],
    );
  });

  it("refuses unknown kinds and formats, and those without a role", async () => {
    await assert.rejects(
      produceReport(ctx, viewer, incidentId, "board" as "incident", "md"),
      (e: unknown) => e instanceof AppError && e.code === "USAGE",
    );
    await assert.rejects(
      produceReport(ctx, viewer, incidentId, "incident", "docx" as "md"),
      (e: unknown) => e instanceof AppError && e.code === "USAGE",
    );
    await assert.rejects(
      produceReport(
        ctx,
        { kind: "token", role: "nobody" as "viewer", label: "x" },
        incidentId,
        "incident",
        "md",
      ),
      (e: unknown) => e instanceof AppError && e.code === "FORBIDDEN",
    );
  });
});
