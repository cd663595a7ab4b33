import type { Context } from "../app/context.ts";
import { type Actor, requireRole } from "../auth/roles.ts";
import { OFFBOARDING_STEPS } from "./offboarding.ts";
import { RISK_TIER_ORDER, SEVERITIES, type Severity } from "./requirement-sets.ts";
import { findingsWhere, type Owner, type VendorFinding } from "./vendor-findings.ts";

/**
 * The ecosystem at a glance: the vendors we keep (active or under review) by risk tier and review
 * state, the reviews that are overdue, the open findings, and the offboardings under way.
 *
 * Per tier: `reviewed` have a review on record whose next date has not passed; `never_reviewed`
 * have none; `overdue` are past their next review date (reviewed before or not); `due_soon` fall
 * due within DUE_SOON_DAYS. The counts overlap by design: a never-reviewed vendor can be overdue.
 * Vendors without a tier are under `unrated`.
 */

export const DUE_SOON_DAYS = 30;
const FINDING_ITEMS = 50;

export type TierCounts = {
  total: number;
  reviewed: number;
  due_soon: number;
  overdue: number;
  never_reviewed: number;
};

export type VendorDashboard = {
  as_of: string;
  due_soon_days: number;
  by_tier: Record<(typeof RISK_TIER_ORDER)[number] | "unrated", TierCounts>;
  overdue_reviews: {
    vendor_id: string;
    name: string;
    risk_tier: string | null;
    next_review_at: string;
    owner: Owner | null;
  }[];
  open_findings: {
    total: number;
    overdue: number;
    by_severity: Record<Severity, number>;
    /** the first 50 by due date (none last) */
    items: VendorFinding[];
  };
  offboarding: {
    vendor_id: string;
    name: string;
    started_at: string | null;
    done_steps: number;
    total_steps: number;
  }[];
};

const TODAY = "(now() AT TIME ZONE 'UTC')::date";
const KEPT = "v.status IN ('active', 'under_review')";

export async function vendorDashboard(ctx: Pick<Context, "db">, actor: Actor): Promise<VendorDashboard> {
  requireRole(actor, "viewer", "reading the vendor dashboard");
  const tiers = await ctx.db.query<{ tier: string } & TierCounts>(
    `SELECT coalesce(v.risk_tier, 'unrated') AS tier, count(*)::int AS total,
       count(*) FILTER (WHERE v.last_reviewed_at IS NOT NULL
         AND (v.next_review_at IS NULL OR v.next_review_at >= ${TODAY}))::int AS reviewed,
       count(*) FILTER (WHERE v.next_review_at >= ${TODAY} AND v.next_review_at <= ${TODAY} + $1::int)::int AS due_soon,
       count(*) FILTER (WHERE v.next_review_at < ${TODAY})::int AS overdue,
       count(*) FILTER (WHERE v.last_reviewed_at IS NULL)::int AS never_reviewed
     FROM vendors v WHERE ${KEPT} GROUP BY 1`,
    [DUE_SOON_DAYS],
  );
  const empty = (): TierCounts => ({ total: 0, reviewed: 0, due_soon: 0, overdue: 0, never_reviewed: 0 });
  const byTier = Object.fromEntries(
    [...RISK_TIER_ORDER, "unrated" as const].map((t) => {
      const row = tiers.rows.find((r) => r.tier === t);
      return [
        t,
        row
          ? {
              total: row.total,
              reviewed: row.reviewed,
              due_soon: row.due_soon,
              overdue: row.overdue,
              never_reviewed: row.never_reviewed,
            }
          : empty(),
      ];
    }),
  ) as VendorDashboard["by_tier"];

  const overdue = await ctx.db.query<{
    id: string;
    name: string;
    risk_tier: string | null;
    next_review_at: string;
    owner_id: string | null;
    owner_email: string | null;
    owner_name: string | null;
  }>(
    `SELECT v.id::text AS id, v.name, v.risk_tier, v.next_review_at::text AS next_review_at,
       u.id::text AS owner_id, u.email AS owner_email, u.display_name AS owner_name
     FROM vendors v LEFT JOIN users u ON u.id = v.owner_id
     WHERE ${KEPT} AND v.next_review_at < ${TODAY}
     ORDER BY v.next_review_at, lower(v.name), v.id`,
  );

  const counts = await ctx.db.query<{ severity: Severity; total: number; overdue: number }>(
    `SELECT f.severity, count(*)::int AS total, count(*) FILTER (WHERE f.due_at < ${TODAY})::int AS overdue
     FROM vendor_findings f WHERE f.status = 'open' GROUP BY 1`,
  );
  const bySeverity = Object.fromEntries(
    SEVERITIES.map((s) => [s, counts.rows.find((r) => r.severity === s)?.total ?? 0]),
  ) as Record<Severity, number>;

  const offboarding = await ctx.db.query<{
    id: string;
    name: string;
    offboarding_started_at: Date | null;
    done: number;
  }>(
    `SELECT v.id::text AS id, v.name, v.offboarding_started_at,
       (SELECT count(*)::int FROM vendor_offboarding_steps s WHERE s.vendor_id = v.id) AS done
     FROM vendors v WHERE v.status = 'offboarding'
     ORDER BY v.offboarding_started_at NULLS LAST, lower(v.name), v.id`,
  );

  const asOf = await ctx.db.query<{ today: string }>(`SELECT ${TODAY}::text AS today`);
  return {
    as_of: asOf.rows[0]?.today ?? new Date().toISOString().slice(0, 10),
    due_soon_days: DUE_SOON_DAYS,
    by_tier: byTier,
    overdue_reviews: overdue.rows.map((r) => ({
      vendor_id: r.id,
      name: r.name,
      risk_tier: r.risk_tier,
      next_review_at: r.next_review_at,
      owner:
        r.owner_id && r.owner_email
          ? { id: r.owner_id, email: r.owner_email, display_name: r.owner_name }
          : null,
    })),
    open_findings: {
      total: counts.rows.reduce((n, r) => n + r.total, 0),
      overdue: counts.rows.reduce((n, r) => n + r.overdue, 0),
      by_severity: bySeverity,
      items: await findingsWhere(ctx.db, "f.status = 'open'", [], FINDING_ITEMS),
    },
    offboarding: offboarding.rows.map((r) => ({
      vendor_id: r.id,
      name: r.name,
      started_at: r.offboarding_started_at ? new Date(r.offboarding_started_at).toISOString() : null,
      done_steps: r.done,
      total_steps: OFFBOARDING_STEPS.length,
    })),
  };
}
