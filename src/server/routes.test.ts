import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { startTotpEnrollment } from "../auth/accounts.ts";
import { hasRole, ROLES, type Role, systemActor } from "../auth/roles.ts";
import { createApiToken } from "../auth/sessions.ts";
import { totpCode } from "../auth/totp.ts";
import { uploadDataset } from "../datasets/manage-datasets.ts";
import { generateDemoIncident } from "../demo/generate-demo-incident.ts";
import { startAnalysis } from "../impact/incident-analysis.ts";
import { createIncident } from "../incidents/manage-incidents.ts";
import { startWorker } from "../jobs/run-worker.ts";
import { jsonl, tempDir } from "../lib/test-fixtures.ts";
import { approveCampaign, listDeliveries } from "../notify/campaigns.ts";
import { createIncidentCampaign } from "../notify/incident-campaign.ts";
import { sendCampaign } from "../notify/send-campaign.ts";
import { outboxTransport } from "../notify/transports.ts";
import { recordFiling } from "../obligations/file-notice.ts";
import { createVendor } from "../vendors/manage-vendors.ts";
import { startOffboarding } from "../vendors/offboarding.ts";
import { addEvidence, sendQuestionnaire } from "../vendors/questionnaires.ts";
import { assignRequirementSet, requirementSet } from "../vendors/requirement-sets.ts";
import { createFinding } from "../vendors/vendor-findings.ts";
import { jobHandlers } from "./serve.ts";
import { type Session, startTestServer, type TestServer } from "./test-server.ts";

/**
 * Every route, without credentials and with each role: 401, 403, or success. The route list comes
 * from the server itself, so a new route without a sample here fails this test.
 */

type Call = {
  path: string;
  body?: unknown;
  form?: FormData;
  raw?: { type: string; data: string };
  as?: Session;
  expect?: number;
};
type Sample = (s: Session, role: Role) => Promise<Call>;

let server: TestServer;
let incidentId: string;
let runId: string;
let datasetId: string;
let campaignId: string;
let recipientEmail: string;
let n = 0;
const unique = (what: string) => `${what} ${++n}`;

const newIncident = async () =>
  (await createIncident(server.ctx, systemActor, { title: unique("incident") })).id;
const responderB = { kind: "user", userId: "b", role: "responder", label: "user:second" } as const;
const newCampaign = async (approved: boolean) => {
  const id = `c${++n}`;
  await createIncidentCampaign(server.ctx, systemActor, incidentId, {
    id,
    audience: "users",
    from: "security@example.com",
  });
  if (approved) await approveCampaign(server.ctx, responderB, id);
  return id;
};
const bounce = () =>
  [
    "From: MAILER-DAEMON@mx.example.org",
    "Subject: Undelivered Mail",
    "MIME-Version: 1.0",
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
    "",
    "--b",
    "Content-Type: message/delivery-status",
    "",
    "Reporting-MTA: dns; mx.example.org",
    "",
    "Final-Recipient: rfc822; gone@example.org",
    "Action: failed",
    "Status: 5.1.1",
    "",
    "--b--",
    "",
  ].join("\r\n");
const newVendor = async () => (await createVendor(server.ctx, systemActor, { name: unique("vendor") })).id;
const newReviewedVendor = async () => {
  const v = await newVendor();
  await assignRequirementSet(server.ctx, systemActor, v, "baseline");
  return v;
};
const newLink = async () =>
  (await sendQuestionnaire(server.ctx, systemActor, await newReviewedVendor())).token;
const newDataset = async (incident: string) =>
  (
    await uploadDataset(server.ctx, systemActor, incident, {
      fileName: "export.jsonl",
      content: Readable.from([
        jsonl({ event: "Page View", properties: { distinct_id: "u1", $email: "a@b.example" } }),
      ]),
    })
  ).id;

function datasetForm(): FormData {
  const form = new FormData();
  form.append("mapping", JSON.stringify({ fields: { plan: "user.financial" } }));
  form.append(
    "file",
    new Blob([jsonl({ event: "Sign Up", properties: { distinct_id: "u9" } })]),
    "more.jsonl",
  );
  return form;
}

const samples: Record<string, Sample> = {
  "GET /api/v1/vendors/export": async () => ({ path: "/vendors/export?format=fides" }),
  "POST /api/v1/vendors/import": async () => ({
    path: "/vendors/import",
    raw: { type: "application/yaml", data: `name: ${unique("vendor")}\ndata: [{ category: user.name }]\n` },
  }),
  "GET /api/v1/vendors/scans": async () => ({ path: "/vendors/scans" }),
  "POST /api/v1/vendors/scans": async () => ({
    path: "/vendors/scans",
    // each call is a new scan (the same scan twice is a 409)
    body: {
      scanned_at: new Date(Date.UTC(2026, 0, 1) + ++n * 1000).toISOString(),
      urls: ["https://app.shop.test/"],
      flows: [],
      third_party_hosts: [],
    },
  }),
  "GET /api/v1/vendors/:id/flows": async () => ({ path: `/vendors/${await newVendor()}/flows` }),
  "PUT /api/v1/vendors/:id/flows": async () => ({
    path: `/vendors/${await newVendor()}/flows`,
    body: { flows: [{ category: "user.contact.email", surface: "web" }] },
  }),
  "GET /api/v1/vendors/:id/scans": async () => ({ path: `/vendors/${await newVendor()}/scans` }),
  "GET /api/v1/requirement-sets": async () => ({ path: "/requirement-sets" }),
  "POST /api/v1/vendors/:id/requirement-set": async () => ({
    path: `/vendors/${await newVendor()}/requirement-set`,
    body: { set: "elevated" },
  }),
  "POST /api/v1/vendors/assign-requirements": async () => ({
    path: "/vendors/assign-requirements",
    body: { set: "baseline", min_tier: "critical" },
  }),
  "GET /api/v1/vendors/dashboard": async () => ({ path: "/vendors/dashboard" }),
  "GET /api/v1/vendors/:id/findings": async () => ({ path: `/vendors/${await newVendor()}/findings` }),
  "POST /api/v1/vendors/:id/findings": async () => ({
    path: `/vendors/${await newVendor()}/findings`,
    body: { title: "No DPA", severity: "high", due_at: "2026-12-31" },
  }),
  "PATCH /api/v1/vendor-findings/:id": async () => {
    const f = await createFinding(server.ctx, systemActor, await newVendor(), {
      title: "x",
      severity: "low",
    });
    return { path: `/vendor-findings/${f.id}`, body: { status: "closed" } };
  },
  "POST /api/v1/vendors/:id/reviews/complete": async () => ({
    path: `/vendors/${await newVendor()}/reviews/complete`,
    body: {},
  }),
  "POST /api/v1/vendors/:id/offboarding/start": async () => ({
    path: `/vendors/${await newVendor()}/offboarding/start`,
  }),
  "GET /api/v1/vendors/:id/offboarding": async () => ({ path: `/vendors/${await newVendor()}/offboarding` }),
  "POST /api/v1/vendors/:id/offboarding/steps": async () => {
    const v = await newVendor();
    await startOffboarding(server.ctx, systemActor, v);
    return { path: `/vendors/${v}/offboarding/steps`, body: { step: "keys_revoked" } };
  },
  "POST /api/v1/vendors/:id/questionnaires": async () => ({
    path: `/vendors/${await newReviewedVendor()}/questionnaires`,
    body: { expires_in_days: 3 },
  }),
  "GET /api/v1/vendors/:id/questionnaires": async () => ({
    path: `/vendors/${await newReviewedVendor()}/questionnaires`,
  }),
  "POST /api/v1/vendors/:id/questionnaires/:questionnaireId/revoke": async () => {
    const v = await newReviewedVendor();
    const q = await sendQuestionnaire(server.ctx, systemActor, v);
    return { path: `/vendors/${v}/questionnaires/${q.questionnaire.id}/revoke` };
  },
  "GET /api/v1/vendors/:id/questionnaires/:questionnaireId/evidence/:evidenceId": async () => {
    const v = await newReviewedVendor();
    const q = await sendQuestionnaire(server.ctx, systemActor, v);
    const e = await addEvidence(server.ctx, q.token, {
      requirement_id: "mfa",
      name: "policy.pdf",
      content: Buffer.from("policy"),
    });
    return { path: `/vendors/${v}/questionnaires/${q.questionnaire.id}/evidence/${e.id}` };
  },
  // The vendor's routes: no account, only the link's token.
  "GET /api/v1/questionnaires/:token": async () => ({ path: `/questionnaires/${await newLink()}` }),
  "POST /api/v1/questionnaires/:token": async () => ({
    path: `/questionnaires/${await newLink()}`,
    body: {
      respondent: "Vendor CISO",
      answers: Object.fromEntries(
        (await requirementSet("baseline")).requirements.map((r) => [r.id, { answer: "yes" }]),
      ),
    },
  }),
  "POST /api/v1/questionnaires/:token/evidence": async () => {
    const form = new FormData();
    form.append("requirement_id", "mfa");
    form.append("file", new Blob(["a policy"]), "policy.txt");
    return { path: `/questionnaires/${await newLink()}/evidence`, form };
  },
  // Public: no account; answers with the verdict (the DNS cache is empty, so nothing verifies).
  "POST /api/v1/verify-email": async () => ({
    path: "/verify-email",
    raw: { type: "text/plain", data: "From: a@example.com\r\nSubject: x\r\n\r\nhello" },
  }),
  "GET /api/v1/health": async () => ({ path: "/health" }),
  "GET /api/v1/openapi.json": async () => ({ path: "/openapi.json" }),
  // The first admin exists: bootstrapping again is refused whoever asks.
  "POST /api/v1/bootstrap": async () => ({
    path: "/bootstrap",
    body: { code: "x", email: "x@y.example", password: "0123456789abc" },
    expect: 409,
  }),
  "POST /api/v1/session": async () => {
    const s = await server.session("viewer");
    return { path: "/session", body: { email: s.email, password: "a long enough passphrase" }, expect: 200 };
  },
  "DELETE /api/v1/session": async (_s, role) => ({ path: "/session", as: await server.session(role) }),
  "GET /api/v1/me": async () => ({ path: "/me" }),
  "POST /api/v1/me/password": async (_s, role) => ({
    path: "/me/password",
    body: { password: "another long passphrase" },
    as: await server.session(role),
  }),
  "POST /api/v1/me/totp": async (_s, role) => ({
    path: "/me/totp",
    as: await server.session(role),
    // Admins have their second factor from the start.
    expect: role === "admin" ? 409 : 200,
  }),
  "POST /api/v1/me/totp/confirm": async (_s, role) => {
    const as = await server.session(role);
    const secret =
      as.totpSecret ??
      (await startTotpEnrollment(server.ctx, { kind: "user", userId: as.userId, role, label: "t" })).secret;
    return { path: "/me/totp/confirm", body: { code: totpCode(secret) }, as };
  },
  "GET /api/v1/tokens": async () => ({ path: "/tokens" }),
  "POST /api/v1/tokens": async () => ({ path: "/tokens", body: { name: unique("ci") } }),
  "DELETE /api/v1/tokens/:id": async (s, role) => {
    const t = await createApiToken(
      server.ctx,
      { kind: "user", userId: s.userId, role, label: "t" },
      { name: "x" },
    );
    return { path: `/tokens/${t.api_token.id}` };
  },
  "GET /api/v1/users": async () => ({ path: "/users" }),
  "POST /api/v1/users": async () => ({
    path: "/users",
    body: {
      email: `${unique("u").replace(" ", "")}@staff.example`,
      password: "0123456789abc",
      role: "viewer",
    },
  }),
  "PATCH /api/v1/users/:id": async () => ({
    path: `/users/${(await server.session("viewer")).userId}`,
    body: { role: "analyst" },
  }),
  "GET /api/v1/vendors": async () => ({ path: "/vendors" }),
  "POST /api/v1/vendors": async () => ({
    path: "/vendors",
    body: { name: unique("vendor"), risk_tier: "high" },
  }),
  "GET /api/v1/vendors/:id": async () => ({ path: `/vendors/${await newVendor()}` }),
  "PATCH /api/v1/vendors/:id": async () => ({
    path: `/vendors/${await newVendor()}`,
    body: { status: "under_review" },
  }),
  "DELETE /api/v1/vendors/:id": async () => ({ path: `/vendors/${await newVendor()}` }),
  "GET /api/v1/incidents": async () => ({ path: "/incidents" }),
  "POST /api/v1/incidents": async () => ({
    path: "/incidents",
    body: { title: unique("incident"), clocks: { aware: "2025-11-09T14:00:00Z" } },
  }),
  "GET /api/v1/incidents/:id": async () => ({ path: `/incidents/${incidentId}` }),
  "PATCH /api/v1/incidents/:id": async () => ({
    path: `/incidents/${await newIncident()}`,
    body: { status: "notifying" },
  }),
  "DELETE /api/v1/incidents/:id": async () => ({ path: `/incidents/${await newIncident()}` }),
  "PUT /api/v1/incidents/:id/clocks/:clock": async () => ({
    path: `/incidents/${incidentId}/clocks/vendor_notified`,
    body: { at: "2025-11-08T09:30:00+01:00" },
  }),
  "GET /api/v1/incidents/:id/timeline": async () => ({ path: `/incidents/${incidentId}/timeline` }),
  "POST /api/v1/incidents/:id/timeline": async () => ({
    path: `/incidents/${incidentId}/timeline`,
    body: { body: "called the vendor", kind: "call" },
  }),
  "GET /api/v1/incidents/:id/decisions": async () => ({ path: `/incidents/${incidentId}/decisions` }),
  "POST /api/v1/incidents/:id/decisions": async () => ({
    path: `/incidents/${incidentId}/decisions`,
    body: {
      subject: "eu-gdpr:individuals",
      decision: "not_required",
      rationale: "no high risk: no credentials",
    },
  }),
  "POST /api/v1/incidents/:id/purge": async () => ({ path: `/incidents/${await newIncident()}/purge` }),
  "GET /api/v1/incidents/:id/datasets": async () => ({ path: `/incidents/${incidentId}/datasets` }),
  "POST /api/v1/incidents/:id/datasets": async () => ({
    path: `/incidents/${await newIncident()}/datasets`,
    form: datasetForm(),
  }),
  "GET /api/v1/incidents/:id/datasets/:datasetId": async () => ({
    path: `/incidents/${incidentId}/datasets/${datasetId}`,
  }),
  "GET /api/v1/incidents/:id/datasets/:datasetId/fields": async () => ({
    path: `/incidents/${incidentId}/datasets/${datasetId}/fields`,
  }),
  "GET /api/v1/categories": async () => ({ path: "/categories" }),
  "PUT /api/v1/incidents/:id/datasets/:datasetId/mapping": async () => {
    const incident = await newIncident();
    return {
      path: `/incidents/${incident}/datasets/${await newDataset(incident)}/mapping`,
      body: { mapping: { fields: { plan: "user.financial" } } },
    };
  },
  "DELETE /api/v1/incidents/:id/datasets/:datasetId": async () => {
    const incident = await newIncident();
    return { path: `/incidents/${incident}/datasets/${await newDataset(incident)}` };
  },
  "GET /api/v1/incidents/:id/analyses": async () => ({ path: `/incidents/${incidentId}/analyses` }),
  "POST /api/v1/incidents/:id/analyses": async () => {
    const incident = await newIncident();
    await newDataset(incident);
    return { path: `/incidents/${incident}/analyses`, body: {} };
  },
  "GET /api/v1/incidents/:id/analyses/:runId": async () => ({
    path: `/incidents/${incidentId}/analyses/${runId}`,
  }),
  "GET /api/v1/incidents/:id/analyses/:runId/summary": async () => ({
    path: `/incidents/${incidentId}/analyses/${runId}/summary`,
  }),
  "GET /api/v1/incidents/:id/analyses/:runId/obligations": async () => ({
    path: `/incidents/${incidentId}/analyses/${runId}/obligations`,
  }),
  "GET /api/v1/incidents/:id/analyses/:runId/people": async () => ({
    path: `/incidents/${incidentId}/analyses/${runId}/people?limit=5&category=user.contact`,
  }),
  "GET /api/v1/incidents/:id/analyses/:runId/quarantine": async () => ({
    path: `/incidents/${incidentId}/analyses/${runId}/quarantine?limit=5`,
  }),
  "GET /api/v1/incidents/:id/analyses/:runId/files/:name": async () => ({
    path: `/incidents/${incidentId}/analyses/${runId}/files/people.csv`,
  }),
  "GET /api/v1/incidents/:id/analyses/:runId/orgs": async () => ({
    path: `/incidents/${incidentId}/analyses/${runId}/orgs?offset=1&limit=5`,
  }),
  "GET /api/v1/incidents/:id/campaigns": async () => ({ path: `/incidents/${incidentId}/campaigns` }),
  "POST /api/v1/incidents/:id/campaigns": async () => ({
    path: `/incidents/${incidentId}/campaigns`,
    body: {
      id: `c${++n}`,
      audience: "admins",
      from: "Security <security@example.com>",
      notice: { vendor: "Analytics Co" },
    },
  }),
  "GET /api/v1/campaigns/:campaignId": async () => ({ path: `/campaigns/${campaignId}` }),
  "POST /api/v1/campaigns/:campaignId/approve": async () => ({
    path: `/campaigns/${await newCampaign(false)}/approve`,
  }),
  "POST /api/v1/campaigns/:campaignId/send": async () => ({
    path: `/campaigns/${await newCampaign(true)}/send`,
  }),
  "GET /api/v1/campaigns/:campaignId/recipients": async () => ({
    path: `/campaigns/${campaignId}/recipients?limit=3`,
  }),
  "GET /api/v1/campaigns/:campaignId/preview.html": async () => ({
    path: `/campaigns/${campaignId}/preview.html?email=${encodeURIComponent(recipientEmail)}&locale=de`,
  }),
  "GET /api/v1/campaigns/:campaignId/preview": async () => ({
    path: `/campaigns/${campaignId}/preview?email=${encodeURIComponent(recipientEmail)}&locale=fr`,
  }),
  "GET /api/v1/campaigns/:campaignId/outbox": async () => ({
    path: `/campaigns/${campaignId}/outbox?email=${encodeURIComponent(recipientEmail)}`,
  }),
  "GET /api/v1/incidents/:id/filings": async () => ({ path: `/incidents/${incidentId}/filings` }),
  "POST /api/v1/incidents/:id/filings": async () => ({
    path: `/incidents/${incidentId}/filings`,
    body: {
      regime: "eu-gdpr",
      audience: "regulator",
      filed_at: "2025-11-27T10:00:00Z",
      reference: "DPA-1",
      evidence: { name: "receipt.txt", content_base64: Buffer.from("receipt").toString("base64") },
    },
  }),
  "GET /api/v1/incidents/:id/filings/:filingId/evidence": async () => {
    const filing = await recordFiling(server.ctx, systemActor, incidentId, {
      regime: "eu-gdpr",
      audience: "individuals",
      evidence: { name: "notice.eml", content: Buffer.from("the notice") },
    });
    return { path: `/incidents/${incidentId}/filings/${filing.id}/evidence` };
  },
  "GET /api/v1/incidents/:id/reports/regulator.md": async () => ({
    path: `/incidents/${incidentId}/reports/regulator.md`,
  }),
  "GET /api/v1/incidents/:id/reports/regulator.pdf": async () => ({
    path: `/incidents/${incidentId}/reports/regulator.pdf`,
  }),
  "GET /api/v1/incidents/:id/reports/incident.md": async () => ({
    path: `/incidents/${incidentId}/reports/incident.md`,
  }),
  "GET /api/v1/incidents/:id/reports/incident.pdf": async () => ({
    path: `/incidents/${incidentId}/reports/incident.pdf`,
  }),
  "POST /api/v1/bounces": async () => ({ path: "/bounces", raw: { type: "message/rfc822", data: bounce() } }),
  "GET /api/v1/audit": async () => ({ path: "/audit?limit=10" }),
  "GET /api/v1/audit/verify": async () => ({ path: "/audit/verify" }),
};

async function send(
  method: string,
  call: Call,
  session: Session | null,
): Promise<{ status: number; body: unknown }> {
  // null means anonymous, even for a sample that brings its own session
  const who = session && (call.as ?? session);
  const headers: Record<string, string> = {};
  if (who) {
    headers.cookie = who.cookie;
    headers["x-csrf-token"] = who.csrf;
  }
  let body: RequestInit["body"];
  if (call.form) body = call.form;
  else if (call.raw) {
    headers["content-type"] = call.raw.type;
    body = call.raw.data;
  } else if (call.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(call.body);
  }
  const res = await fetch(`${server.url}/api/v1${call.path}`, { method, headers, body });
  const text = await res.text();
  const json = res.headers.get("content-type")?.startsWith("application/json");
  return { status: res.status, body: text && json ? JSON.parse(text) : text || null };
}

describe("the API's access control", { timeout: 180_000 }, () => {
  const sessions = new Map<Role, Session>();

  before(async () => {
    const demoDir = await tempDir("blastradius-api-demo-");
    const demo = await generateDemoIncident({ outDir: demoDir, users: 300, orgs: 30, events: 3000, seed: 3 });
    const dnsCache = `${demoDir}/dns-cache.json`;
    await (await import("node:fs/promises")).writeFile(dnsCache, "{}");
    server = await startTestServer({
      BLASTRADIUS_IDENTITIES: demo.identitiesDir,
      BLASTRADIUS_OFFICIAL_DOMAINS: "example.com",
      BLASTRADIUS_DNS_CACHE: dnsCache,
    });
    incidentId = await newIncident();
    for (const file of demo.datasets) {
      const { createReadStream } = await import("node:fs");
      const path = await import("node:path");
      datasetId = (
        await uploadDataset(server.ctx, systemActor, incidentId, {
          fileName: path.basename(file),
          content: createReadStream(file),
        })
      ).id;
    }
    runId = (await startAnalysis(server.ctx, systemActor, incidentId)).id;
    const worker = startWorker({
      db: server.ctx.db,
      handlers: jobHandlers(server.ctx),
      pollMs: 50,
      log: () => {},
    });
    await worker.idle();
    await worker.stop();
    campaignId = await newCampaign(true);
    await sendCampaign(
      server.ctx,
      systemActor,
      campaignId,
      outboxTransport(),
      { dkim: null },
      {
        concurrency: 2,
        domainConcurrency: 2,
        rate: null,
        maxAttempts: 1,
        retryDelayMs: 10,
        threads: 0,
      },
    );
    recipientEmail =
      (await listDeliveries(server.ctx, systemActor, campaignId, { limit: 1 })).items[0]?.recipient.email ??
      "";
    for (const role of ROLES) sessions.set(role, await server.session(role));
  });
  after(async () => server?.close());

  it("has a sample for every route", () => {
    const missing = server.routeTable.map((r) => `${r.method} ${r.url}`).filter((k) => !samples[k]);
    assert.deepEqual(missing, [], "routes without a sample in this test");
  });

  it("answers each route with 401 without credentials, 403 below its role, and success from its role up", async () => {
    const outcomes: string[] = [];
    for (const route of server.routeTable) {
      const sample = samples[`${route.method} ${route.url}`];
      if (!sample) continue;
      const anonymous = await send(
        route.method,
        await sample(sessions.get("viewer") as Session, "viewer"),
        null,
      );
      if (route.role === "public") {
        assert.ok(
          anonymous.status < 400 || anonymous.status === 409,
          `${route.method} ${route.url} anonymous: ${anonymous.status}`,
        );
      } else {
        assert.equal(anonymous.status, 401, `${route.method} ${route.url} without credentials`);
      }
      for (const role of ROLES) {
        const session = sessions.get(role) as Session;
        const call = await sample(session, role);
        const res = await send(route.method, call, session);
        const allowed = route.role === "public" || hasRole({ kind: "user", role, label: "" }, route.role);
        const label = `${route.method} ${route.url} as ${role}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`;
        if (!allowed) assert.equal(res.status, 403, label);
        else if (call.expect) assert.equal(res.status, call.expect, label);
        else assert.ok(res.status >= 200 && res.status < 300, label);
        outcomes.push(`${route.method} ${route.url} ${role} ${res.status}`);
      }
    }
    assert.ok(outcomes.length >= 4 * 54, `walked ${outcomes.length} route × role calls`);
  });

  it("refuses a cookie session's change without the CSRF token, and accepts a bearer token without one", async () => {
    const s = sessions.get("responder") as Session;
    const noCsrf = await fetch(`${server.url}/api/v1/vendors`, {
      method: "POST",
      headers: { cookie: s.cookie, "content-type": "application/json" },
      body: JSON.stringify({ name: unique("vendor") }),
    });
    assert.equal(noCsrf.status, 403);
    assert.equal(((await noCsrf.json()) as { error: { code: string } }).error.code, "CSRF");
    const wrong = await send(
      "POST",
      { path: "/vendors", body: { name: unique("vendor") } },
      { ...s, csrf: "x".repeat(43) },
    );
    assert.equal(wrong.status, 403);

    const token = await createApiToken(
      server.ctx,
      { kind: "user", userId: s.userId, role: "responder", label: "t" },
      { name: "ci" },
    );
    const bearer = await fetch(`${server.url}/api/v1/vendors`, {
      method: "POST",
      headers: { authorization: `Bearer ${token.token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: unique("vendor") }),
    });
    assert.equal(bearer.status, 201);
    await fetch(`${server.url}/api/v1/tokens/${token.api_token.id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${token.token}` },
    });
    const revoked = await fetch(`${server.url}/api/v1/vendors`, {
      headers: { authorization: `Bearer ${token.token}` },
    });
    assert.equal(revoked.status, 401);
  });

  it("stores only hashes of sessions and tokens, and audits every read of personal data", async () => {
    const s = sessions.get("analyst") as Session;
    const secret = s.cookie.split("=")[1] as string;
    const stored = await server.ctx.db.query<{ token_hash: string }>("SELECT token_hash FROM sessions");
    assert.ok(
      stored.rows.length > 0 &&
        stored.rows.every((r) => r.token_hash !== secret && /^[0-9a-f]{64}$/.test(r.token_hash)),
    );
    const before = await server.ctx.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM audit_events WHERE action = 'results.people.read' AND actor = $1",
      [`user:${s.userId}`],
    );
    const page = await send("GET", { path: `/incidents/${incidentId}/analyses/${runId}/people?limit=3` }, s);
    assert.equal((page.body as { items: unknown[] }).items.length, 3);
    const after = await server.ctx.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM audit_events WHERE action = 'results.people.read' AND actor = $1",
      [`user:${s.userId}`],
    );
    assert.equal((after.rows[0]?.n ?? 0) - (before.rows[0]?.n ?? 0), 1);
    // Personal data is sealed at rest: no email appears in the stored results.
    const email = (page.body as { items: { email: string | null }[] }).items.find((p) => p.email)
      ?.email as string;
    const raw = await server.ctx.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM affected_people WHERE position(convert_to($1, 'UTF8') in sealed) > 0",
      [email],
    );
    assert.equal(raw.rows[0]?.n, 0);
  });

  it("serves result files as attachments, filtered people pages, quarantined rows and dataset fields", async () => {
    const s = sessions.get("analyst") as Session;
    const run = `/api/v1/incidents/${incidentId}/analyses/${runId}`;
    const get = (route: string) => fetch(`${server.url}${route}`, { headers: { cookie: s.cookie } });

    const csv = await get(`${run}/files/people.csv`);
    assert.equal(csv.status, 200);
    assert.equal(csv.headers.get("content-type"), "text/csv; charset=utf-8");
    assert.equal(csv.headers.get("content-disposition"), `attachment; filename="run-${runId}-people.csv"`);
    assert.equal(csv.headers.get("cache-control"), "no-store");
    const lines = (await csv.text()).trimEnd().split("\n");
    assert.equal(
      lines[0],
      "person_key,user_id,email,name,country,language,categories,matched_by,records,org_ids",
    );
    const all = (await (await get(`${run}/people?limit=1000`)).json()) as {
      items: { email: string | null; country: string | null; categories: string[] }[];
      total: number;
    };
    assert.equal(lines.length - 1, all.total);

    const unknown = await get(`${run}/files/secrets.txt`);
    assert.equal(unknown.status, 404);
    assert.match(((await unknown.json()) as { error: { message: string } }).error.message, /people\.csv/);

    const country = all.items.find((p) => p.country)?.country as string;
    const filtered = (await (await get(`${run}/people?country=${country.toLowerCase()}&limit=2`)).json()) as {
      items: { country: string }[];
      total: number;
    };
    assert.equal(filtered.total, all.items.filter((p) => p.country === country).length);
    assert.ok(filtered.items.length > 0 && filtered.items.every((p) => p.country === country));
    const email = all.items.find((p) => p.email)?.email as string;
    const one = (await (await get(`${run}/people?q=${encodeURIComponent(email.toUpperCase())}`)).json()) as {
      items: { email: string }[];
      total: number;
    };
    assert.ok(one.total >= 1 && one.items.every((p) => p.email.toLowerCase() === email.toLowerCase()));
    assert.equal((await get(`${run}/people?country=Germany`)).status, 400);

    const quarantine = (await (await get(`${run}/quarantine?limit=2`)).json()) as {
      items: { file: string; reason: string }[];
      total: number;
    };
    const summary = (await (await get(`${run}/summary`)).json()) as { rows: { quarantined: number } };
    assert.equal(quarantine.total, summary.rows.quarantined);

    const fields = (await (
      await get(`/api/v1/incidents/${incidentId}/datasets/${datasetId}/fields`)
    ).json()) as {
      sampled_records: number;
      fields: { name: string; samples: string[] }[];
    };
    assert.ok(fields.sampled_records > 0 && fields.fields.length > 0);
    const categories = (await (await get("/api/v1/categories")).json()) as { key: string; label: string }[];
    assert.equal(categories.find((c) => c.key === "user.contact.email")?.label, "Email address");
  });

  it("sends security headers and no-store on every API answer", async () => {
    const res = await fetch(`${server.url}/api/v1/health`);
    assert.match(res.headers.get("content-security-policy") ?? "", /default-src 'self'/);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(res.headers.get("cache-control"), "no-store");
    const big = await fetch(`${server.url}/api/v1/session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "x@y.example", password: "p".repeat(2 * 1024 * 1024) }),
    });
    assert.equal(big.status, 413);
  });
});

describe("sign-in rate limit", () => {
  it("answers 429 after too many attempts from one client", async () => {
    const limited = await startTestServer({}, { authRateLimit: 3 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${limited.url}/api/v1/session`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email: "nobody@staff.example", password: "wrong password!" }),
        });
        statuses.push(res.status);
      }
      assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
    } finally {
      await limited.close();
    }
  });
});
