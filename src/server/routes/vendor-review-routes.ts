import { z } from "zod";
import type { Context } from "../../app/context.ts";
import {
  getOffboarding,
  OFFBOARDING_STEPS,
  recordOffboardingStep,
  startOffboarding,
} from "../../vendors/offboarding.ts";
import {
  ASSIGNABLE_STATUSES,
  assignRequirementSet,
  assignRequirementsByTier,
  listRequirementSets,
  RISK_TIER_ORDER,
  SEVERITIES,
} from "../../vendors/requirement-sets.ts";
import { vendorDashboard } from "../../vendors/vendor-dashboard.ts";
import {
  createFinding,
  FINDING_STATUSES,
  listFindings,
  updateFinding,
} from "../../vendors/vendor-findings.ts";
import { completeReview } from "../../vendors/vendor-reviews.ts";
import { actorOf } from "../authenticate.ts";
import type { App } from "../build-server.ts";
import { idParam } from "../schemas.ts";

const severity = z.enum(SEVERITIES);
const day = z.string().max(10);

export const requirementSetSchema = z
  .object({
    name: z.string(),
    title: z.string(),
    description: z.string(),
    finding_severity: severity,
    extends: z.string().nullable(),
    requirements: z.array(
      z.object({
        id: z.string(),
        title: z.string(),
        question: z.string(),
        why: z.string(),
        from: z.string(),
      }),
    ),
  })
  .meta({ id: "RequirementSet" });

const owner = z.object({ id: z.string(), email: z.string(), display_name: z.string().nullable() });

export const vendorFinding = z
  .object({
    id: z.string(),
    vendor_id: z.string(),
    vendor_name: z.string(),
    questionnaire_id: z.string().nullable(),
    requirement_id: z.string().nullable(),
    title: z.string(),
    severity,
    owner: owner.nullable(),
    due_at: z.string().nullable(),
    status: z.enum(FINDING_STATUSES),
    note: z.string().nullable(),
    created_at: z.string(),
    closed_at: z.string().nullable(),
    overdue: z.boolean(),
  })
  .meta({ id: "VendorFinding" });

const offboardingSchema = z
  .object({
    vendor_id: z.string(),
    name: z.string(),
    status: z.string(),
    started_at: z.string().nullable(),
    steps: z.array(
      z.object({
        step: z.enum(OFFBOARDING_STEPS),
        done: z.boolean(),
        done_at: z.string().nullable(),
        done_by: z.string().nullable(),
        done_by_label: z.string().nullable(),
        note: z.string().nullable(),
        scan_id: z.string().nullable(),
      }),
    ),
    done_steps: z.number(),
    total_steps: z.number(),
  })
  .meta({ id: "Offboarding" });

const tierCounts = z.object({
  total: z.number(),
  reviewed: z.number(),
  due_soon: z.number(),
  overdue: z.number(),
  never_reviewed: z.number(),
});

const dashboardSchema = z
  .object({
    as_of: z.string(),
    due_soon_days: z.number(),
    by_tier: z.object({
      low: tierCounts,
      medium: tierCounts,
      high: tierCounts,
      critical: tierCounts,
      unrated: tierCounts,
    }),
    overdue_reviews: z.array(
      z.object({
        vendor_id: z.string(),
        name: z.string(),
        risk_tier: z.string().nullable(),
        next_review_at: z.string(),
        owner: owner.nullable(),
      }),
    ),
    open_findings: z.object({
      total: z.number(),
      overdue: z.number(),
      by_severity: z.object({ low: z.number(), medium: z.number(), high: z.number(), critical: z.number() }),
      items: z.array(vendorFinding),
    }),
    offboarding: z.array(
      z.object({
        vendor_id: z.string(),
        name: z.string(),
        started_at: z.string().nullable(),
        done_steps: z.number(),
        total_steps: z.number(),
      }),
    ),
  })
  .meta({ id: "VendorDashboard" });

/** Ecosystem review and offboarding: requirement sets, findings, reviews, the dashboard, the checklist. */
export async function vendorReviewRoutes(app: App, ctx: Context): Promise<void> {
  const tags = ["vendor review"];
  app.get(
    "/requirement-sets",
    {
      config: { role: "viewer" },
      schema: {
        tags,
        summary: "The requirement sets vendors can be held to, with their questions",
        response: { 200: z.array(requirementSetSchema) },
      },
    },
    async (request) => listRequirementSets(actorOf(request)),
  );
  app.post(
    "/vendors/:id/requirement-set",
    {
      config: { role: "responder" },
      schema: {
        tags,
        summary: "Hold one vendor to a requirement set (null: none)",
        params: idParam,
        body: z.object({ set: z.string().max(40).nullable() }),
        response: {
          200: z.object({
            vendor_id: z.string(),
            requirement_set: z.string().nullable(),
            previous: z.string().nullable(),
          }),
        },
      },
    },
    async (request) => assignRequirementSet(ctx, actorOf(request), request.params.id, request.body.set),
  );
  app.post(
    "/vendors/assign-requirements",
    {
      config: { role: "responder" },
      schema: {
        tags,
        summary: "Hold every vendor at or above a risk tier to a requirement set, in one step",
        description:
          "Vendors without a tier, and vendors being offboarded or offboarded, are left alone. `assigned` counts the vendors whose set changed (one audit event each); `unchanged` those that had it already.",
        body: z.object({
          set: z.string().max(40),
          min_tier: z.enum(RISK_TIER_ORDER),
          include_statuses: z.array(z.enum(ASSIGNABLE_STATUSES)).min(1).optional(),
        }),
        response: {
          200: z.object({ assigned: z.number(), vendors: z.array(z.string()), unchanged: z.number() }),
        },
      },
    },
    async (request) => assignRequirementsByTier(ctx, actorOf(request), request.body),
  );

  app.get(
    "/vendors/:id/findings",
    {
      config: { role: "viewer" },
      schema: {
        tags,
        summary: "A vendor's findings: open first, by due date",
        params: idParam,
        querystring: z.object({ status: z.enum(FINDING_STATUSES).optional() }),
        response: { 200: z.array(vendorFinding) },
      },
    },
    async (request) => listFindings(ctx, actorOf(request), request.params.id, request.query),
  );
  app.post(
    "/vendors/:id/findings",
    {
      config: { role: "responder" },
      schema: {
        tags,
        summary: "Record a finding; the owner must be an account",
        params: idParam,
        body: z.object({
          title: z.string().max(300),
          severity,
          owner_id: z.string().max(60).nullable().optional(),
          due_at: day.nullable().optional(),
          requirement_id: z.string().max(60).nullable().optional(),
          note: z.string().max(20_000).nullable().optional(),
        }),
        response: { 201: vendorFinding },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createFinding(ctx, actorOf(request), request.params.id, request.body)),
  );
  app.patch(
    "/vendor-findings/:id",
    {
      config: { role: "responder" },
      schema: {
        tags,
        summary:
          "Change a finding: owner, due date, status, note, severity (null clears owner, due date, note)",
        params: idParam,
        body: z.object({
          title: z.string().max(300).optional(),
          severity: severity.optional(),
          owner_id: z.string().max(60).nullable().optional(),
          due_at: day.nullable().optional(),
          status: z.enum(FINDING_STATUSES).optional(),
          note: z.string().max(20_000).nullable().optional(),
        }),
        response: { 200: vendorFinding },
      },
    },
    async (request) => updateFinding(ctx, actorOf(request), request.params.id, request.body),
  );

  app.post(
    "/vendors/:id/reviews/complete",
    {
      config: { role: "responder" },
      schema: {
        tags,
        summary: "Record a finished review; the next falls review_interval_days later (default 365)",
        params: idParam,
        body: z.object({ note: z.string().max(5000).nullable().optional() }).optional(),
        response: {
          200: z.object({
            vendor_id: z.string(),
            last_reviewed_at: z.string(),
            next_review_at: z.string(),
            review_interval_days: z.number(),
          }),
        },
      },
    },
    async (request) =>
      completeReview(ctx, actorOf(request), request.params.id, { note: request.body?.note ?? null }),
  );
  app.get(
    "/vendors/dashboard",
    {
      config: { role: "viewer" },
      schema: {
        tags,
        summary: "Vendors by tier and review state, overdue reviews, open findings, offboardings under way",
        response: { 200: dashboardSchema },
      },
    },
    async (request) => vendorDashboard(ctx, actorOf(request)),
  );

  app.post(
    "/vendors/:id/offboarding/start",
    {
      config: { role: "responder" },
      schema: {
        tags,
        summary: "Start offboarding: status offboarding; open questionnaire links are revoked",
        params: idParam,
        response: { 200: offboardingSchema },
      },
    },
    async (request) => startOffboarding(ctx, actorOf(request), request.params.id),
  );
  app.get(
    "/vendors/:id/offboarding",
    {
      config: { role: "viewer" },
      schema: {
        tags,
        summary: "The offboarding checklist: each step with who and when",
        params: idParam,
        response: { 200: offboardingSchema },
      },
    },
    async (request) => getOffboarding(ctx, actorOf(request), request.params.id),
  );
  app.post(
    "/vendors/:id/offboarding/steps",
    {
      config: { role: "responder" },
      schema: {
        tags,
        summary: "Mark a step done; the last one makes the vendor offboarded",
        description:
          "integration_removed needs `scan_id`: an attached scan, run and attached after offboarding began, that does not see the vendor. deletion_certificate needs deletion_requested first.",
        params: idParam,
        body: z.object({
          step: z.enum(OFFBOARDING_STEPS),
          note: z.string().max(5000).nullable().optional(),
          scan_id: z.string().max(60).nullable().optional(),
        }),
        response: { 200: offboardingSchema },
      },
    },
    async (request) => recordOffboardingStep(ctx, actorOf(request), request.params.id, request.body),
  );
}
