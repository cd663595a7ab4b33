import type { Context } from "../app/context.ts";
import { type Actor, requireRole } from "../auth/roles.ts";
import { type Dataset, listDatasets } from "../datasets/manage-datasets.ts";
import type { Summary } from "../impact/analyze-incident.ts";
import { getRunObligations, getRunSummary, listRuns } from "../impact/incident-analysis.ts";
import {
  type DecisionEntry,
  getIncident,
  type Incident,
  listDecisions,
  listTimeline,
  type TimelineEntry,
} from "../incidents/manage-incidents.ts";
import { type CampaignCounts, campaignCounts, listCampaigns } from "../notify/campaigns.ts";
import { type Filing, listFilings, type ObligationWithFiling } from "../obligations/file-notice.ts";
import { getVendor, type Vendor } from "../vendors/manage-vendors.ts";

/**
 * Everything a report says, read with the reader's role (viewer and up: counts, never a person).
 * The builders are pure functions of this, so reports are tested without a store.
 */
export type ReportData = {
  incident: Incident;
  /** What the reports say of the vendor: who, where, its standing. */
  vendor: Pick<Vendor, "id" | "name" | "website" | "risk_tier" | "status"> | null;
  /** the latest succeeded analysis, whose counts and obligations the reports use */
  run: { id: string; finished_at: string | null; summary: Summary } | null;
  /** from that run and the incident's clocks and answers as they are now; empty without a run */
  obligations: ObligationWithFiling[];
  decisions: DecisionEntry[];
  timeline: TimelineEntry[];
  filings: Filing[];
  campaigns: {
    id: string;
    audience: string;
    status: string;
    /** recipients when the campaign was made (the counts below are gone once the incident is purged) */
    recipients: number;
    created_at: string;
    finished_at: string | null;
    counts: CampaignCounts;
  }[];
  datasets: Dataset[];
};

export async function loadReportData(
  ctx: Pick<Context, "db">,
  actor: Actor,
  incidentId: string,
): Promise<ReportData> {
  requireRole(actor, "viewer", "reading reports");
  const incident = await getIncident(ctx, actor, incidentId);
  const vendor = incident.vendor_id ? await getVendor(ctx, actor, incident.vendor_id) : null;
  const latest = (await listRuns(ctx, actor, incidentId))
    .filter((r) => r.status === "succeeded")
    .sort((a, b) => (b.finished_at ?? "").localeCompare(a.finished_at ?? ""))[0];
  const run = latest
    ? {
        id: latest.id,
        finished_at: latest.finished_at,
        summary: await getRunSummary(ctx, actor, incidentId, latest.id),
      }
    : null;
  const obligations = latest ? await getRunObligations(ctx, actor, incidentId, latest.id) : [];
  const campaigns = [];
  for (const c of await listCampaigns(ctx, actor, incidentId)) {
    campaigns.push({
      id: c.id,
      audience: c.audience,
      status: c.status,
      recipients: c.recipients,
      created_at: new Date(c.createdAt).toISOString(),
      finished_at: c.finishedAt ? new Date(c.finishedAt).toISOString() : null,
      counts: await campaignCounts(ctx.db, c.id),
    });
  }
  return {
    incident,
    vendor,
    run,
    obligations,
    decisions: await listDecisions(ctx, actor, incidentId),
    timeline: await listTimeline(ctx, actor, incidentId),
    filings: await listFilings(ctx, actor, incidentId),
    campaigns,
    datasets: await listDatasets(ctx, actor, incidentId),
  };
}
