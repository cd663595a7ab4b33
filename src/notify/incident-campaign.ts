import type { Context } from "../app/context.ts";
import { appendAudit } from "../audit/audit-log.ts";
import { type Actor, requireRole, systemActor } from "../auth/roles.ts";
import { loadIncident } from "../incidents/manage-incidents.ts";
import { enqueue } from "../jobs/queue.ts";
import type { JobHandler } from "../jobs/run-worker.ts";
import { AppError } from "../lib/errors.ts";
import { type Campaign, type CampaignSettings, createCampaign, loadCampaign } from "./campaigns.ts";
import { type AudienceFilter, readRunAudience } from "./load-audience.ts";
import { dkimOptions, type NoticeFile, noticeSettings } from "./notice-settings.ts";
import type { Audience } from "./notice-types.ts";
import { renderThreads, SEND_DEFAULTS, sendCampaign } from "./send-campaign.ts";
import { outboxTransport, smtpTransport } from "./transports.ts";

/**
 * Campaigns of the incident workspace: recipients from an analysis run's sealed results, the vendor
 * and dates from the incident, a second person's approval, then sending as a background job.
 */

export const NOTIFY_JOB = "notify";

export type IncidentCampaignInput = {
  id: string;
  /** default: the incident's latest succeeded analysis */
  runId?: string;
  audience: Audience;
  filters?: AudienceFilter;
  from: string;
  replyTo?: string | null;
  notice?: NoticeFile;
};

export async function createIncidentCampaign(
  ctx: Pick<Context, "db" | "sealer">,
  actor: Actor,
  incidentId: string,
  input: IncidentCampaignInput,
): Promise<Campaign> {
  requireRole(actor, "responder", "creating a campaign");
  const incident = await loadIncident(ctx.db, incidentId);
  const run = (
    await ctx.db.query<{ id: string; summary: { by_category?: Record<string, number> } | null }>(
      `SELECT id::text AS id, summary FROM analysis_runs
       WHERE incident_id = $1 AND status = 'succeeded' AND ($2::uuid IS NULL OR id = $2::uuid)
       ORDER BY finished_at DESC LIMIT 1`,
      [incidentId, input.runId ?? null],
    )
  ).rows[0];
  if (!run) {
    throw new AppError(
      "CONFLICT",
      input.runId
        ? `run ${input.runId} of incident ${incidentId} has not succeeded`
        : `incident ${incidentId} has no finished analysis yet: run one first`,
    );
  }
  const vendor = incident.vendor_id
    ? ((await ctx.db.query<{ name: string }>("SELECT name FROM vendors WHERE id = $1", [incident.vendor_id]))
        .rows[0]?.name ?? null)
    : null;
  const notice: NoticeFile = {
    ...(vendor ? { vendor } : {}),
    ...(incident.clocks.vendor_detected ? { discovered_at: incident.clocks.vendor_detected } : {}),
    ...input.notice,
  };
  const settings: CampaignSettings = {
    ...noticeSettings({ from: input.from, notice, exposed: Object.keys(run.summary?.by_category ?? {}) }),
    from: input.from,
    replyTo: input.replyTo ?? null,
  };
  const filters = input.filters ?? {};
  return createCampaign(ctx, actor, {
    id: input.id,
    incidentId,
    runId: run.id,
    source: `run:${run.id}`,
    audience: input.audience,
    filters,
    settings,
    recipients: (tx) => readRunAudience({ db: tx, sealer: ctx.sealer }, run.id, input.audience, filters),
  });
}

/** Queues the sending job of an approved campaign; any worker (in the server or apart) picks it up. */
export async function startCampaignSend(
  ctx: Pick<Context, "db">,
  actor: Actor,
  id: string,
): Promise<{ campaign: Campaign; job_id: string }> {
  requireRole(actor, "responder", "sending a campaign");
  return ctx.db.transaction(async (tx) => {
    const campaign = await loadCampaign(tx, id);
    if (campaign.status === "draft") {
      throw new AppError("CONFLICT", `campaign ${id} is not approved yet: a second person must approve it`);
    }
    const jobId = await enqueue(tx, NOTIFY_JOB, { campaign: id }, { maxAttempts: 5 });
    await appendAudit(tx, actor, "campaign.send.queue", `campaign:${id}`, { job: jobId });
    return { campaign, job_id: jobId };
  });
}

/**
 * The worker's side. Sending records each outcome as it goes, so a retried job simply resumes; the
 * job's own completion only stores the final counts. A stop (worker shutdown, lost lease) fails the
 * attempt so the queue hands the rest to the next attempt.
 */
export function notifyJobHandler(ctx: Context): JobHandler {
  return async ({ job, signal, progress, finish }) => {
    const id = String((job.payload as { campaign?: unknown }).campaign ?? "");
    const campaign = await loadCampaign(ctx.db, id);
    const { config } = ctx;
    const dkim = dkimOptions(
      { keyFile: config.dkimKeyFile, selector: config.dkimSelector, domain: config.dkimDomain },
      campaign.settings.from,
      {
        key: "BLASTRADIUS_DKIM_KEY",
        selector: "BLASTRADIUS_DKIM_SELECTOR",
        domain: "BLASTRADIUS_DKIM_DOMAIN",
      },
    );
    const transport = config.smtpUrl
      ? smtpTransport(config.smtpUrl, { connections: SEND_DEFAULTS.concurrency })
      : outboxTransport();
    try {
      const report = await sendCampaign(
        ctx,
        systemActor,
        id,
        transport,
        { dkim },
        {
          ...SEND_DEFAULTS,
          domainConcurrency: SEND_DEFAULTS.concurrency,
          threads: renderThreads(config.threads, dkim !== null),
          signal,
          onProgress: (c) => progress({ stage: "sending", done: c.total - c.pending, total: c.total }),
        },
      );
      if (report.stopped)
        throw new AppError("WORK_FAILED", `campaign ${id} stopped with ${report.counts.pending} owed`);
      await finish(async () => report.counts);
    } finally {
      await transport.close();
    }
  };
}
