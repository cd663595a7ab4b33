import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { systemActor } from "../auth/roles.ts";
import { createIncident } from "../incidents/manage-incidents.ts";
import { type Session, startTestServer, type TestServer } from "./test-server.ts";

/** Filings and reports over HTTP: bodies, downloads and their headers (access is in routes.test.ts). */

describe("filing and report routes", { timeout: 120_000 }, () => {
  let server: TestServer;
  let responder: Session;
  let analyst: Session;
  let viewer: Session;
  let incidentId: string;

  const call = async (as: Session, method: string, path: string, body?: unknown) =>
    fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: {
        cookie: as.cookie,
        "x-csrf-token": as.csrf,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  before(async () => {
    server = await startTestServer();
    responder = await server.session("responder");
    analyst = await server.session("analyst");
    viewer = await server.session("viewer");
    incidentId = (
      await createIncident(server.ctx, systemActor, {
        title: "Breach <b>at</b> [vendor](http://x.example)",
        clocks: { aware: "2025-11-25T18:00:00Z" },
      })
    ).id;
  });
  after(async () => server?.close());

  it("takes a filing with evidence larger than the usual JSON limit, and gives the file back as it was", async () => {
    const content = Buffer.alloc(2_000_000, "receipt ");
    const res = await call(responder, "POST", `/incidents/${incidentId}/filings`, {
      regime: "eu-gdpr",
      audience: "regulator",
      filed_at: "2025-11-27T10:00:00Z",
      reference: "DPA-2025-0042",
      note: "web form",
      evidence: { name: 'Empfangsbestätigung "1".pdf', content_base64: content.toString("base64") },
    });
    assert.equal(res.status, 201, await res.clone().text());
    const filing = (await res.json()) as {
      id: string;
      filed_at: string;
      evidence: { name: string; bytes: number; sha256: string; available: boolean };
    };
    assert.equal(filing.filed_at, "2025-11-27T10:00:00.000Z");
    const sha256 = createHash("sha256").update(content).digest("hex");
    assert.deepEqual(filing.evidence, {
      name: 'Empfangsbestätigung "1".pdf',
      bytes: content.length,
      sha256,
      available: true,
    });

    const list = await call(viewer, "GET", `/incidents/${incidentId}/filings`);
    assert.deepEqual(
      ((await list.json()) as { id: string }[]).map((f) => f.id),
      [filing.id],
    );

    const download = await call(analyst, "GET", `/incidents/${incidentId}/filings/${filing.id}/evidence`);
    assert.equal(download.status, 200);
    assert.equal(download.headers.get("content-type"), "application/octet-stream");
    assert.equal(
      download.headers.get("content-disposition"),
      `attachment; filename="Empfangsbest_tigung _1_.pdf"; filename*=UTF-8''Empfangsbest%C3%A4tigung%20%221%22.pdf`,
    );
    assert.equal(download.headers.get("x-content-sha256"), sha256);
    assert.ok(Buffer.from(await download.arrayBuffer()).equals(content));
  });

  it("refuses evidence over 10 MiB, evidence that is not base64, and unknown notices", async () => {
    const post = (body: unknown) => call(responder, "POST", `/incidents/${incidentId}/filings`, body);
    const big = await post({
      regime: "eu-gdpr",
      audience: "regulator",
      evidence: { name: "big.bin", content_base64: Buffer.alloc(10 * 1024 * 1024 + 1).toString("base64") },
    });
    assert.equal(big.status, 413);
    assert.equal(((await big.json()) as { error: { code: string } }).error.code, "TOO_LARGE");
    const bad = await post({
      regime: "eu-gdpr",
      audience: "regulator",
      evidence: { name: "x.pdf", content_base64: "not base64!" },
    });
    assert.equal(bad.status, 422);
    assert.match(
      ((await bad.json()) as { error: { message: string } }).error.message,
      /evidence.content_base64/,
    );
    const unknown = await post({ regime: "eu-gdpr", audience: "press" });
    assert.equal(unknown.status, 422);
    const list = await call(viewer, "GET", `/incidents/${incidentId}/filings`);
    assert.equal(((await list.json()) as unknown[]).length, 1, "nothing refused was stored");
  });

  it("downloads the reports as attachments, Markdown as UTF-8 text and PDF", async () => {
    const short = incidentId.replaceAll("-", "").slice(0, 8);
    const md = await call(viewer, "GET", `/incidents/${incidentId}/reports/regulator.md`);
    assert.equal(md.status, 200);
    assert.equal(md.headers.get("content-type"), "text/markdown; charset=utf-8");
    assert.equal(
      md.headers.get("content-disposition"),
      `attachment; filename="regulator-report-${short}.md"; filename*=UTF-8''regulator-report-${short}.md`,
    );
    assert.equal(md.headers.get("cache-control"), "no-store");
    const text = await md.text();
    assert.match(text, /^# Personal data breach notification to the supervisory authority \(draft\)$/m);
    assert.match(text, /^## \(a\) Nature of the breach$/m);
    assert.match(text, /\*\*Incident:\*\* Breach \\<b\\>at\\<\/b\\> \\\[vendor\\\]\(http:\/\/x\.example\)/);
    assert.match(text, /Notice filed: eu-gdpr to regulator \(reference DPA-2025-0042\)/);

    const pdf = await call(viewer, "GET", `/incidents/${incidentId}/reports/incident.pdf`);
    assert.equal(pdf.status, 200);
    assert.equal(pdf.headers.get("content-type"), "application/pdf");
    assert.match(
      pdf.headers.get("content-disposition") ?? "",
      /^attachment; filename="incident-report-[0-9a-f]{8}\.pdf"/,
    );
    const bytes = Buffer.from(await pdf.arrayBuffer());
    assert.equal(bytes.subarray(0, 5).toString("latin1"), "%PDF-");

    const missing = await call(
      viewer,
      "GET",
      "/incidents/00000000-0000-4000-8000-000000000000/reports/incident.md",
    );
    assert.equal(missing.status, 404);
  });

  it("documents the new routes in the OpenAPI document", async () => {
    const doc = (await (await fetch(`${server.url}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    for (const p of [
      "/api/v1/incidents/{id}/filings",
      "/api/v1/incidents/{id}/filings/{filingId}/evidence",
      "/api/v1/incidents/{id}/reports/regulator.md",
      "/api/v1/incidents/{id}/reports/incident.pdf",
    ]) {
      assert.ok(doc.paths[p], p);
    }
  });
});
