import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import type { Context } from "../app/context.ts";
import { createUser } from "../auth/accounts.ts";
import { cliActor, type Role } from "../auth/roles.ts";
import { createApiToken } from "../auth/sessions.ts";
import { loadConfig } from "../config/env.ts";
import { createSealer } from "../lib/seal.ts";
import type { Db } from "../store/db.ts";
import { type Backend, backends } from "../store/test-backends.ts";
import { buildServer } from "./build-server.ts";

/**
 * The inventory over HTTP on both stores: the full record (and the old shape the web UI sends),
 * flows, vendors as code in and out (YAML and Fides), scans. Access per role is in routes.test.ts.
 */

const MANIFEST = `system:
  - fides_key: crm_system
    name: CRM System
    system_type: Service
    privacy_declarations:
      - name: Customer support
        data_categories: [user.contact.email, user.name]
        data_use: essential.service
        data_subjects: [customer]
    third_country_transfers: [IRL]
`;

for (const make of backends) {
  describe(`vendor routes (${make === backends[0] ? "PGlite" : "PostgreSQL"})`, { timeout: 120_000 }, () => {
    let backend: Backend;
    let db: Db | undefined;
    let app: Awaited<ReturnType<typeof buildServer>> | undefined;
    let url = "";
    const tokens = new Map<Role, string>();

    const call = async (
      role: Role,
      method: string,
      path: string,
      body?: unknown,
      type = "application/json",
    ) => {
      const res = await fetch(`${url}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${tokens.get(role)}`,
          ...(body === undefined ? {} : { "content-type": type }),
        },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      });
      const text = await res.text();
      const json = res.headers.get("content-type")?.startsWith("application/json");
      return { status: res.status, headers: res.headers, body: json && text ? JSON.parse(text) : text };
    };

    before(async () => {
      backend = await make();
      if (backend.skip) return;
      db = await backend.open();
      const key = Buffer.alloc(32, 5);
      const ctx: Context = {
        db,
        key,
        sealer: createSealer(key),
        config: loadConfig({ BLASTRADIUS_DATA: backend.dataDir, BLASTRADIUS_MEMORY_LIMIT: "1GB" }),
      };
      app = await buildServer(ctx, { bootstrapCode: () => null, onBootstrapped: () => {}, log: () => {} });
      await app.listen({ port: 0, host: "127.0.0.1" });
      const address = app.server.address();
      url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
      for (const role of ["viewer", "responder"] as const) {
        const { user } = await createUser(ctx, cliActor, {
          email: `${role}@staff.example`,
          displayName: `The ${role}`,
          role,
          password: "a long enough passphrase",
        });
        const t = await createApiToken(
          ctx,
          { kind: "user", userId: user.id, role, label: `user:${user.id}` },
          { name: role },
        );
        tokens.set(role, t.token);
      }
    });
    after(async () => {
      await app?.close();
      await db?.close();
      await backend?.cleanup();
    });

    it("keeps the old vendor shape working: risk_tier is the override, null clears it", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const created = await call("responder", "POST", "/vendors", {
        name: "Legacy Co",
        website: "https://legacy.example",
        risk_tier: "high",
        status: "active",
        notes: null,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.risk_tier, "high");
      assert.equal(created.body.risk_tier_override, "high");
      assert.deepEqual(created.body.flows, []);
      const patched = await call("responder", "PATCH", `/vendors/${created.body.id}`, {
        risk_tier: null,
        status: "under_review",
      });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.risk_tier, null, "nothing known: not rated");
      assert.equal(patched.body.risk_tier_override, null);
      assert.equal(patched.body.status, "under_review");
    });

    it("takes and returns the whole record, and names a wrong field", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const created = await call("responder", "POST", "/vendors", { name: "Full Co" });
      const id = created.body.id;
      const patched = await call("responder", "PATCH", `/vendors/${id}`, {
        description: "Support desk",
        processing_locations: ["ie", "US"],
        sub_processors: [{ name: "AWS", location: "IE" }],
        incident_contact: "security@full.example",
        breach_notice_hours: 24,
        access: "admin",
        people_count: 50_000,
        owner_email: "responder@staff.example",
        next_review_at: "2027-03-31",
      });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.deepEqual(patched.body.processing_locations, ["IE", "US"]);
      assert.equal(patched.body.owner_name, "The responder");
      assert.equal(patched.body.risk_tier, "high", "admin access: at least high");
      assert.match(patched.body.risk_reason, /administers our systems/);
      const wrong = await call("responder", "PATCH", `/vendors/${id}`, { processing_locations: ["Ireland"] });
      assert.equal(wrong.status, 422);
      assert.match(wrong.body.error.message, /^processing_locations\.0: an ISO 3166-1 alpha-2 country code/);
      const hours = await call("responder", "PATCH", `/vendors/${id}`, { breach_notice_hours: -1 });
      assert.equal(hours.status, 422);
      assert.match(hours.body.error.message, /^breach_notice_hours:/);
      const type = await call("responder", "PATCH", `/vendors/${id}`, { access: "root" });
      assert.equal(type.status, 400);
      assert.match(type.body.error.message, /body\.access/);

      const flows = await call("responder", "PUT", `/vendors/${id}/flows`, {
        flows: [{ category: "user.contact.email", fields: ["email"], surface: "server" }],
      });
      assert.equal(flows.status, 200, JSON.stringify(flows.body));
      assert.deepEqual(
        flows.body.map((f: { category: string; state: string }) => [f.category, f.state]),
        [["user.contact.email", "declared"]],
      );
      const listed = await call("viewer", "GET", `/vendors/${id}/flows`);
      assert.deepEqual(listed.body, flows.body);
      const vendor = await call("viewer", "GET", `/vendors/${id}`);
      assert.equal(vendor.body.risk_tier, "critical", "contact data, raised by admin access");
      const badFlow = await call("responder", "PUT", `/vendors/${id}/flows`, {
        flows: [{ category: "Email" }],
      });
      assert.equal(badFlow.status, 422);
      assert.match(badFlow.body.error.message, /^flows\.0\.category/);
    });

    it("imports YAML and Fides, exports both, and export then import changes nothing", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const yaml =
        "vendors:\n  - name: Yaml Co\n    owner: viewer@staff.example\n    data: [{ category: user.name }]\n";
      const dry = await call("responder", "POST", "/vendors/import?dry_run=true", yaml, "application/yaml");
      assert.equal(dry.status, 200, JSON.stringify(dry.body));
      assert.deepEqual([dry.body.dry_run, dry.body.created], [true, 1]);
      assert.equal(
        (await call("viewer", "GET", "/vendors")).body.some((v: { name: string }) => v.name === "Yaml Co"),
        false,
      );
      const real = await call("responder", "POST", "/vendors/import", yaml, "text/yaml");
      assert.equal(real.body.created, 1);
      const fides = await call("responder", "POST", "/vendors/import", { text: MANIFEST, format: "fides" });
      assert.equal(fides.status, 200, JSON.stringify(fides.body));
      assert.deepEqual(
        fides.body.vendors.map((v: { name: string; action: string }) => [v.name, v.action]),
        [["CRM System", "created"]],
      );
      const badFile = await call("responder", "POST", "/vendors/import", { text: "name: X\ncolour: red\n" });
      assert.equal(badFile.status, 422);
      assert.match(badFile.body.error.message, /^body: \(top level\): unknown key colour/);
      const forbidden = await call("viewer", "POST", "/vendors/import", yaml, "application/yaml");
      assert.equal(forbidden.status, 403);

      const exported = await call("viewer", "GET", "/vendors/export");
      assert.equal(exported.status, 200);
      assert.match(exported.headers.get("content-type") ?? "", /^text\/yaml/);
      assert.match(exported.headers.get("content-disposition") ?? "", /attachment; filename="vendors\.yaml"/);
      const again = await call("responder", "POST", "/vendors/import", exported.body, "application/yaml");
      assert.equal(again.body.created + again.body.updated, 0, JSON.stringify(again.body));
      assert.ok(again.body.unchanged >= 4);

      const manifest = await call("viewer", "GET", "/vendors/export?format=fides");
      assert.match(manifest.headers.get("content-disposition") ?? "", /filename="fides-systems\.yaml"/);
      const crm = (parseYaml(manifest.body) as { system: Array<Record<string, unknown>> }).system.find(
        (s) => s.fides_key === "crm_system",
      );
      assert.deepEqual(crm?.third_country_transfers, ["IRL"]);
      assert.deepEqual(
        (crm?.privacy_declarations as Array<{ data_categories: string[] }> | undefined)?.[0]?.data_categories,
        ["user.contact.email", "user.name"],
      );
      assert.equal((await call("viewer", "GET", "/vendors/export?format=csv")).status, 400);
    });

    it("attaches a scan and lists scans, newest first", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const v = await call("responder", "POST", "/vendors", {
        name: "Scanned Co",
        domains: ["scanned.example"],
      });
      const body = {
        scanned_at: "2026-06-01T08:00:00Z",
        urls: ["https://app.test/"],
        pages: [{ url: "https://app.test/?token=x", loadMs: 1, error: null }],
        flows: [
          {
            vendor: "scanned.example",
            vendor_id: "site:scanned.example",
            category: "user.contact.email",
            seen: true,
            declared: false,
            seed_fields: ["email"],
          },
        ],
        third_party_hosts: [
          { host: "t.scanned.example", vendor: null, vendor_id: null, requests: 2, failed: 0 },
        ],
        findings: [
          {
            vendor_id: "site:scanned.example",
            host: "t.scanned.example",
            url: "https://t.scanned.example/?e=x",
          },
        ],
      };
      const attached = await call("responder", "POST", "/vendors/scans", body);
      assert.equal(attached.status, 201, JSON.stringify(attached.body));
      assert.deepEqual(attached.body.vendors, [
        { id: v.body.id, name: "Scanned Co", seen: 0, undeclared: 1 },
      ]);
      assert.equal((await call("responder", "POST", "/vendors/scans", body)).status, 409);
      const bad = await call("responder", "POST", "/vendors/scans", { ...body, scanned_at: "soon" });
      assert.equal(bad.status, 422);
      assert.match(bad.body.error.message, /^body: scanned_at:/);
      const flows = await call("viewer", "GET", `/vendors/${v.body.id}/flows`);
      assert.deepEqual(
        flows.body.map((f: { category: string; surface: string; state: string }) => [
          f.category,
          f.surface,
          f.state,
        ]),
        [["user.contact.email", "web", "undeclared"]],
      );
      const scans = await call("viewer", "GET", "/vendors/scans");
      assert.equal(scans.body[0].id, attached.body.scan.id);
      assert.equal(JSON.stringify(scans.body).includes("token=x"), false);
      const forVendor = await call("viewer", "GET", `/vendors/${v.body.id}/scans`);
      assert.equal(forVendor.body[0].sees_vendor, true);
    });

    it("documents the new routes in the OpenAPI document", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const doc = (await (await fetch(`${url}/api/v1/openapi.json`)).json()) as {
        paths: Record<string, unknown>;
      };
      for (const p of [
        "/api/v1/vendors/{id}/flows",
        "/api/v1/vendors/import",
        "/api/v1/vendors/export",
        "/api/v1/vendors/scans",
      ]) {
        assert.ok(doc.paths[p], p);
      }
    });
  });
}
