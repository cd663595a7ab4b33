import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { Context } from "../app/context.ts";
import type { Actor, Role } from "../auth/roles.ts";
import { loadConfig } from "../config/env.ts";
import { createSealer } from "../lib/seal.ts";
import type { Queryable } from "../store/db.ts";
import { type Backend, backends } from "../store/test-backends.ts";

/**
 * For the ecosystem-review tests: a suite run once on PGlite and once on PostgreSQL (skipped, and
 * saying why, when no server is reachable outside CI), with helpers that add vendors and accounts.
 */

export type ReviewSuite = {
  ctx(): Context;
  backend(): Backend;
  it(name: string, fn: () => Promise<void>): void;
};

export function describeOnBackends(title: string, body: (s: ReviewSuite) => void): void {
  for (const make of backends) {
    const label = make.name === "pgliteBackend" ? "PGlite" : "PostgreSQL";
    describe(`${title} on ${label}`, { timeout: 120_000 }, () => {
      let backend: Backend;
      let ctx: Context;
      before(async () => {
        backend = await make();
        if (backend.skip) return;
        const db = await backend.open();
        const key = randomBytes(32);
        ctx = {
          db,
          key,
          sealer: createSealer(key),
          config: loadConfig({ BLASTRADIUS_DATA: backend.dataDir }),
        };
      });
      after(async () => {
        await ctx?.db.close();
        await backend?.cleanup();
      });
      body({
        ctx: () => ctx,
        backend: () => backend,
        it: (name, fn) =>
          it(name, async (t) => {
            if (backend.skip) return t.skip(backend.skip);
            await fn();
          }),
      });
    });
  }
}

let serial = 0;

export type TestVendor = {
  name?: string;
  risk_tier?: string | null;
  status?: string;
  requirement_set?: string | null;
  owner_id?: string | null;
  review_interval_days?: number | null;
  next_review_at?: string | null;
  last_reviewed_at?: Date | null;
  catalogue_id?: string | null;
  domains?: string[];
};

export async function addVendor(q: Queryable, v: TestVendor = {}): Promise<string> {
  const r = await q.query<{ id: string }>(
    `INSERT INTO vendors (name, risk_tier, status, requirement_set, owner_id, review_interval_days, next_review_at,
       last_reviewed_at, catalogue_id, domains)
     VALUES ($1, $2, $3, $4, $5, $6, $7::date, $8, $9, $10::text::jsonb) RETURNING id::text AS id`,
    [
      v.name ?? `Vendor ${++serial}-${randomBytes(3).toString("hex")}`,
      v.risk_tier ?? null,
      v.status ?? "active",
      v.requirement_set ?? null,
      v.owner_id ?? null,
      v.review_interval_days ?? null,
      v.next_review_at ?? null,
      v.last_reviewed_at ?? null,
      v.catalogue_id ?? null,
      JSON.stringify(v.domains ?? []),
    ],
  );
  return (r.rows[0] as { id: string }).id;
}

/** An account (no password: these tests act through use cases) and the actor it signs in as. */
export async function addAccount(
  q: Queryable,
  role: Role,
  name: string | null = null,
): Promise<{ id: string; email: string; actor: Actor }> {
  const email = `${role}-${++serial}-${randomBytes(3).toString("hex")}@staff.example`;
  const r = await q.query<{ id: string }>(
    "INSERT INTO users (email, role, display_name) VALUES ($1, $2, $3) RETURNING id::text AS id",
    [email, role, name],
  );
  const id = (r.rows[0] as { id: string }).id;
  return { id, email, actor: { kind: "user", userId: id, role, label: `user:${id}` } };
}

export async function auditActions(q: Queryable, subject: string): Promise<string[]> {
  const r = await q.query<{ action: string }>(
    "SELECT action FROM audit_events WHERE subject = $1 ORDER BY seq",
    [subject],
  );
  return r.rows.map((x) => x.action);
}

export type ScanHost = { host: string; vendor: string | null; vendor_id: string | null };
export type ScanFlow = { vendor: string; vendor_id: string; category: string; seen: boolean };

/** A scan as the inventory stores it (vendor_scans), run and attached `agoMinutes` ago. */
export async function addScan(
  q: Queryable,
  seen: { hosts?: ScanHost[]; flows?: ScanFlow[] },
  agoMinutes = 0,
): Promise<string> {
  const summary = {
    scanned_at: new Date().toISOString(),
    urls: ["https://app.example.com/"],
    flows: seen.flows ?? [],
    third_party_hosts: seen.hosts ?? [],
    requests: 40,
    third_party_requests: 3,
  };
  const r = await q.query<{ id: string }>(
    `INSERT INTO vendor_scans (scanned_at, urls, summary, created_at)
     VALUES (now() - $1 * interval '1 minute', '["https://app.example.com/"]'::jsonb, $2::text::jsonb,
       now() - $1 * interval '1 minute')
     RETURNING id::text AS id`,
    [agoMinutes, JSON.stringify(summary)],
  );
  return (r.rows[0] as { id: string }).id;
}
