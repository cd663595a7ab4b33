import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { Context } from "../app/context.ts";
import { createUser } from "../auth/accounts.ts";
import { cliActor, type Role, systemActor } from "../auth/roles.ts";
import { signIn } from "../auth/sessions.ts";
import { totpCode } from "../auth/totp.ts";
import { loadConfig } from "../config/env.ts";
import { createSealer } from "../lib/seal.ts";
import { type Backend, backends } from "../store/test-backends.ts";
import { sendQuestionnaire } from "../vendors/questionnaires.ts";
import { requirementSet } from "../vendors/requirement-sets.ts";
import { addScan, addVendor } from "../vendors/test-review-store.ts";
import { type App, buildServer } from "./build-server.ts";
import { startTestServer } from "./test-server.ts";

/**
 * Ecosystem review and offboarding over HTTP, on PGlite and on PostgreSQL: the questionnaire a
 * vendor fills in without an account, bulk assignment, findings, reviews, the dashboard, and an
 * offboarding that a scan has to prove.
 */

type Session = { userId: string; cookie: string; csrf: string };

type Server = {
  ctx: Context;
  url: string;
  session(role: Role): Promise<Session>;
  close(): Promise<void>;
};

async function startOn(backend: Backend): Promise<Server> {
  const db = await backend.open();
  const key = randomBytes(32);
  const ctx: Context = {
    db,
    key,
    sealer: createSealer(key),
    config: loadConfig({ BLASTRADIUS_DATA: backend.dataDir, PORT: "0" }),
  };
  const app: App = await buildServer(ctx, {
    bootstrapCode: () => null,
    onBootstrapped: () => {},
    authRateLimit: 10_000,
    log: () => {},
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  let serial = 0;
  return {
    ctx,
    url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`,
    session: async (role) => {
      const email = `${role}-${++serial}-${randomBytes(3).toString("hex")}@staff.example`;
      const password = "a long enough passphrase";
      const created = await createUser(ctx, cliActor, { email, role, password });
      const s = await signIn(ctx, {
        email,
        password,
        totp: created.totp ? totpCode(created.totp.secret) : undefined,
      });
      return { userId: created.user.id, cookie: `blastradius_session=${s.token}`, csrf: s.csrf_token };
    },
    close: async () => {
      await app.close();
      await db.close();
    },
  };
}

for (const make of backends) {
  describe(`vendor review routes on ${make === backends[0] ? "PGlite" : "PostgreSQL"}`, {
    timeout: 180_000,
  }, () => {
    let backend: Backend;
    let server: Server;
    let responder: Session;
    let viewer: Session;

    const call = async (as: Session | null, method: string, path: string, body?: unknown) => {
      const headers: Record<string, string> = {};
      if (as) {
        headers.cookie = as.cookie;
        headers["x-csrf-token"] = as.csrf;
      }
      if (body !== undefined && !(body instanceof FormData)) headers["content-type"] = "application/json";
      const res = await fetch(`${server.url}/api/v1${path}`, {
        method,
        headers,
        body: body instanceof FormData ? body : body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let json: unknown = null;
      try {
        json = JSON.parse(text);
      } catch {
        json = text;
      }
      return {
        status: res.status,
        json: json as Record<string, unknown> & { error?: { message: string } },
        res,
      };
    };

    const evidenceForm = (requirement: string | null, content: Buffer | string, name = "soc2.pdf") => {
      const form = new FormData();
      if (requirement !== null) form.append("requirement_id", requirement);
      form.append("file", new Blob([content]), name);
      return form;
    };

    before(async () => {
      backend = await make();
      if (backend.skip) return;
      server = await startOn(backend);
      responder = await server.session("responder");
      viewer = await server.session("viewer");
    });
    after(async () => {
      await server?.close();
      await backend?.cleanup();
    });
    const test = (name: string, fn: () => Promise<void>) =>
      it(name, async (t) => {
        if (backend.skip) return t.skip(backend.skip);
        await fn();
      });

    test("a vendor fills in a questionnaire without an account; no and partial answers become findings", async () => {
      const vendor = await addVendor(server.ctx.db, { name: "Analytics Co", risk_tier: "high" });
      const none = await call(responder, "POST", `/vendors/${vendor}/questionnaires`, {});
      assert.equal(none.status, 409);
      assert.match(none.json.error?.message ?? "", /^requirement_set: vendor "Analytics Co" has none/);
      assert.equal(
        (await call(viewer, "POST", `/vendors/${vendor}/requirement-set`, { set: "elevated" })).status,
        403,
      );
      const assigned = await call(responder, "POST", `/vendors/${vendor}/requirement-set`, {
        set: "elevated",
      });
      assert.deepEqual(assigned.json, { vendor_id: vendor, requirement_set: "elevated", previous: null });

      const sent = await call(responder, "POST", `/vendors/${vendor}/questionnaires`, {
        recipient: "security@analytics.example",
        expires_in_days: 7,
      });
      assert.equal(sent.status, 201);
      const token = sent.json.token as string;
      assert.equal(sent.json.link, `/questionnaire/${token}`);

      const page = await call(null, "GET", `/questionnaires/${token}`);
      assert.equal(page.status, 200);
      assert.equal(page.res.headers.get("cache-control"), "no-store");
      assert.equal(page.json.vendor, "Analytics Co");
      assert.equal((page.json.set as { title: string }).title, "Elevated");
      const requirements = page.json.requirements as { id: string; question: string }[];
      assert.equal(requirements.length, 7);
      assert.equal(page.json.status, "sent");

      const pdf = Buffer.from("%PDF-1.7 key inventory");
      const upload = await call(
        null,
        "POST",
        `/questionnaires/${token}/evidence`,
        evidenceForm("phishing_resistant_mfa", pdf),
      );
      assert.equal(upload.status, 201, JSON.stringify(upload.json));
      assert.equal(upload.json.name, "soc2.pdf");
      const noField = await call(null, "POST", `/questionnaires/${token}/evidence`, evidenceForm(null, "x"));
      assert.equal(noField.status, 400);
      assert.match(noField.json.error?.message ?? "", /^requirement_id:/);
      const tooBig = await call(
        null,
        "POST",
        `/questionnaires/${token}/evidence`,
        evidenceForm("least_data", Buffer.alloc(10 * 1024 * 1024 + 1), "dump.bin"),
      );
      assert.equal(tooBig.status, 413);
      assert.match(tooBig.json.error?.message ?? "", /^file: larger than the limit of 10485760 bytes/);

      const answers = Object.fromEntries(requirements.map((r) => [r.id, { answer: "yes" }])) as Record<
        string,
        { answer: string; comment?: string }
      >;
      answers.phishing_resistant_mfa = { answer: "partial", comment: "security keys for admins only" };
      answers.breach_notice_24h = { answer: "no" };
      const unknown = await call(null, "POST", `/questionnaires/${token}`, {
        respondent: "Vendor CISO",
        answers: { ...answers, telepathy: { answer: "yes" } },
      });
      assert.equal(unknown.status, 422);
      assert.match(unknown.json.error?.message ?? "", /^answers\.telepathy: not a requirement of elevated/);

      const submitted = await call(null, "POST", `/questionnaires/${token}`, {
        respondent: "Vendor CISO",
        answers,
      });
      assert.equal(submitted.status, 200, JSON.stringify(submitted.json));
      assert.equal(submitted.json.findings_opened, 2);
      assert.equal(submitted.json.status, "submitted");
      const again = await call(null, "POST", `/questionnaires/${token}`, { respondent: "Someone", answers });
      assert.equal(again.status, 409);
      const late = await call(
        null,
        "POST",
        `/questionnaires/${token}/evidence`,
        evidenceForm("least_data", "x"),
      );
      assert.equal(late.status, 409);
      const reread = await call(null, "GET", `/questionnaires/${token}`);
      assert.deepEqual((reread.json.answers as Record<string, unknown>).breach_notice_24h, {
        answer: "no",
        comment: null,
      });

      const listed = await call(viewer, "GET", `/vendors/${vendor}/questionnaires`);
      const q = (
        listed.json as unknown as { id: string; status: string; evidence: { id: string; sha256: string }[] }[]
      )[0];
      assert.equal(q?.status, "submitted");
      const evidenceId = q?.evidence[0]?.id ?? "";
      const path = `/vendors/${vendor}/questionnaires/${q?.id}/evidence/${evidenceId}`;
      assert.equal((await call(viewer, "GET", path)).status, 403);
      const download = await call(responder, "GET", path);
      assert.equal(download.status, 200);
      assert.equal(download.res.headers.get("content-type"), "application/octet-stream");
      assert.match(
        download.res.headers.get("content-disposition") ?? "",
        /^attachment; filename="soc2\.pdf"/,
      );
      assert.equal(download.json, pdf.toString());

      const findings = await call(viewer, "GET", `/vendors/${vendor}/findings`);
      const list = findings.json as unknown as {
        id: string;
        requirement_id: string;
        severity: string;
        owner: unknown;
        due_at: string;
      }[];
      assert.deepEqual(list.map((f) => f.requirement_id).sort(), [
        "breach_notice_24h",
        "phishing_resistant_mfa",
      ]);
      assert.ok(
        list.every((f) => f.severity === "high" && f.owner === null && /^\d{4}-\d{2}-\d{2}$/.test(f.due_at)),
      );
      const bad = await call(responder, "PATCH", `/vendor-findings/${list[0]?.id}`, {
        owner_id: "00000000-0000-4000-8000-000000000000",
      });
      assert.equal(bad.status, 422);
      assert.match(bad.json.error?.message ?? "", /^owner_id: no account/);
      const owned = await call(responder, "PATCH", `/vendor-findings/${list[0]?.id}`, {
        owner_id: viewer.userId,
        due_at: "2026-12-31",
      });
      assert.equal(owned.status, 200);
      assert.equal((owned.json.owner as { id: string }).id, viewer.userId);
      const manual = await call(responder, "POST", `/vendors/${vendor}/findings`, {
        title: "No DPA signed",
        severity: "critical",
        owner_id: responder.userId,
        due_at: "2026-07-01",
      });
      assert.equal(manual.status, 201);
    });

    test("unknown links are 404, expired and revoked ones 410, with no session needed to find out", async () => {
      const vendor = await addVendor(server.ctx.db, { requirement_set: "baseline" });
      assert.equal((await call(null, "GET", `/questionnaires/${"x".repeat(43)}`)).status, 404);
      assert.equal(
        (await call(null, "POST", `/questionnaires/${"x".repeat(43)}`, { respondent: "a", answers: {} }))
          .status,
        404,
      );
      const expired = await sendQuestionnaire(server.ctx, systemActor, vendor, {});
      await server.ctx.db.query(
        "UPDATE vendor_questionnaires SET expires_at = now() - interval '1 second' WHERE id = $1",
        [expired.questionnaire.id],
      );
      const gone = await call(null, "GET", `/questionnaires/${expired.token}`);
      assert.equal(gone.status, 410);
      assert.equal((gone.json.error as unknown as { code: string }).code, "GONE");
      const answers = Object.fromEntries(
        (await requirementSet("baseline")).requirements.map((r) => [r.id, { answer: "yes" }]),
      );
      assert.equal(
        (await call(null, "POST", `/questionnaires/${expired.token}`, { respondent: "a", answers })).status,
        410,
      );
      assert.equal(
        (await call(null, "POST", `/questionnaires/${expired.token}/evidence`, evidenceForm("mfa", "x")))
          .status,
        410,
      );

      const live = await sendQuestionnaire(server.ctx, systemActor, vendor, {});
      const revoked = await call(
        responder,
        "POST",
        `/vendors/${vendor}/questionnaires/${live.questionnaire.id}/revoke`,
      );
      assert.equal(revoked.status, 200);
      assert.equal(revoked.json.status, "revoked");
      assert.equal((await call(null, "GET", `/questionnaires/${live.token}`)).status, 410);
    });

    test("assigns elevated to every vendor at or above high in one call, and the dashboard counts them", async () => {
      const top = await addVendor(server.ctx.db, { risk_tier: "critical", requirement_set: "baseline" });
      const high = await addVendor(server.ctx.db, { risk_tier: "high" });
      const low = await addVendor(server.ctx.db, { risk_tier: "low" });
      const leaving = await addVendor(server.ctx.db, { risk_tier: "critical", status: "offboarding" });
      assert.equal(
        (await call(viewer, "POST", "/vendors/assign-requirements", { set: "elevated", min_tier: "high" }))
          .status,
        403,
      );
      const r = await call(responder, "POST", "/vendors/assign-requirements", {
        set: "elevated",
        min_tier: "high",
      });
      assert.equal(r.status, 200);
      const vendors = r.json.vendors as string[];
      assert.ok(vendors.includes(top) && vendors.includes(high));
      assert.ok(!vendors.includes(low) && !vendors.includes(leaving));
      const rows = await server.ctx.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM vendors WHERE risk_tier IN ('high', 'critical') AND status IN ('active', 'under_review') AND requirement_set IS DISTINCT FROM 'elevated'",
      );
      assert.equal(rows.rows[0]?.n, 0);
      const bad = await call(responder, "POST", "/vendors/assign-requirements", {
        set: "elevated",
        min_tier: "huge",
      });
      assert.equal(bad.status, 400);

      const reviewed = await call(responder, "POST", `/vendors/${high}/reviews/complete`, {
        note: "read the SOC 2",
      });
      assert.equal(reviewed.status, 200);
      assert.match(reviewed.json.next_review_at as string, /^\d{4}-\d{2}-\d{2}$/);
      const d = await call(viewer, "GET", "/vendors/dashboard");
      assert.equal(d.status, 200, JSON.stringify(d.json));
      const tiers = d.json.by_tier as Record<string, { total: number; reviewed: number }>;
      const counted = await server.ctx.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM vendors WHERE risk_tier = 'high' AND status IN ('active', 'under_review')",
      );
      assert.equal(tiers.high?.total, counted.rows[0]?.n);
      assert.ok((tiers.high?.reviewed ?? 0) >= 1);
      assert.equal((await call(null, "GET", "/vendors/dashboard")).status, 401);
      const sets = await call(viewer, "GET", "/requirement-sets");
      assert.deepEqual(
        (sets.json as unknown as { name: string }[]).map((s) => s.name),
        ["baseline", "elevated"],
      );
    });

    test("offboarding refuses integration_removed without a qualifying scan, accepts one, and ends offboarded", async () => {
      const vendor = await addVendor(server.ctx.db, {
        name: "Mixpanel",
        catalogue_id: "mixpanel",
        domains: ["mixpanel.com"],
        risk_tier: "high",
      });
      const started = await call(responder, "POST", `/vendors/${vendor}/offboarding/start`);
      assert.equal(started.status, 200);
      assert.equal(started.json.status, "offboarding");
      const noScan = await call(responder, "POST", `/vendors/${vendor}/offboarding/steps`, {
        step: "integration_removed",
      });
      assert.equal(noScan.status, 422);
      assert.match(noScan.json.error?.message ?? "", /^scan_id: integration_removed needs a scan/);
      const seeing = await addScan(server.ctx.db, {
        hosts: [{ host: "api-js.mixpanel.com", vendor: "Mixpanel", vendor_id: "mixpanel" }],
      });
      const stillThere = await call(responder, "POST", `/vendors/${vendor}/offboarding/steps`, {
        step: "integration_removed",
        scan_id: seeing,
      });
      assert.equal(stillThere.status, 422);
      assert.match(stillThere.json.error?.message ?? "", /still sees Mixpanel/);
      const clean = await addScan(server.ctx.db, {
        hosts: [
          { host: "www.google-analytics.com", vendor: "Google Analytics", vendor_id: "google-analytics" },
        ],
      });
      const removed = await call(responder, "POST", `/vendors/${vendor}/offboarding/steps`, {
        step: "integration_removed",
        scan_id: clean,
        note: "SDK gone from the web app",
      });
      assert.equal(removed.status, 200, JSON.stringify(removed.json));
      const cert = await call(responder, "POST", `/vendors/${vendor}/offboarding/steps`, {
        step: "deletion_certificate",
      });
      assert.equal(cert.status, 409);
      let last = removed;
      for (const step of ["keys_revoked", "deletion_requested", "deletion_certificate", "contract_ended"]) {
        last = await call(responder, "POST", `/vendors/${vendor}/offboarding/steps`, { step });
        assert.equal(last.status, 200, `${step}: ${JSON.stringify(last.json)}`);
      }
      assert.equal(last.json.status, "offboarded");
      const checklist = await call(viewer, "GET", `/vendors/${vendor}/offboarding`);
      const steps = checklist.json.steps as { step: string; done_by: string; scan_id: string | null }[];
      assert.ok(steps.every((s) => s.done_by === responder.userId));
      assert.equal(steps.find((s) => s.step === "integration_removed")?.scan_id, clean);
      const status = await server.ctx.db.query<{ status: string }>(
        "SELECT status FROM vendors WHERE id = $1",
        [vendor],
      );
      assert.equal(status.rows[0]?.status, "offboarded");
    });
  });
}

describe("the public questionnaire routes' rate limit", { timeout: 180_000 }, () => {
  it("limits each client on the link's routes", async () => {
    const server = await startTestServer({}, { authRateLimit: 1 });
    try {
      const vendor = await addVendor(server.ctx.db, { requirement_set: "baseline" });
      const { token } = await sendQuestionnaire(server.ctx, systemActor, vendor, {});
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++)
        statuses.push((await fetch(`${server.url}/api/v1/questionnaires/${token}`)).status);
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 429]);
      const submit = async () =>
        (
          await fetch(`${server.url}/api/v1/questionnaires/${token}`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ respondent: "x", answers: {} }),
          })
        ).status;
      assert.equal(await submit(), 422);
      assert.equal(await submit(), 429);
    } finally {
      await server.close();
    }
  });
});
