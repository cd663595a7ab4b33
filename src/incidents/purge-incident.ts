import { rm } from "node:fs/promises";
import path from "node:path";
import type { Context } from "../app/context.ts";
import { appendAudit } from "../audit/audit-log.ts";
import { type Actor, requireRole, systemActor } from "../auth/roles.ts";
import { requireId } from "../lib/ids.ts";
import { loadIncident } from "./manage-incidents.ts";

/**
 * Removes an incident's personal data: the sealed dataset files and the affected people, orgs and
 * quarantined rows of its runs, and the evidence files of its filings. What remains is the record
 * of the response (clocks, timeline, decisions, counts, filings, hashes of the files) and the audit
 * event saying when and why the data went.
 */
export async function purgeIncidentData(
  ctx: Pick<Context, "db" | "config">,
  actor: Actor,
  id: string,
  reason: "requested" | "retention",
): Promise<{ datasets: number; people: number; orgs: number; recipients: number; evidence: number }> {
  requireRole(actor, "admin", "purging an incident's data");
  requireId(id, "incident");
  const counts = await ctx.db.transaction(async (tx) => {
    await loadIncident(tx, id);
    const ds = await tx.query<{ n: number }>(
      `WITH p AS (UPDATE datasets SET status = 'purged', purged_at = now() WHERE incident_id = $1 AND status <> 'purged' RETURNING 1)
       SELECT count(*)::int AS n FROM p`,
      [id],
    );
    const people = await tx.query<{ n: number }>(
      `WITH d AS (DELETE FROM affected_people WHERE run_id IN (SELECT id FROM analysis_runs WHERE incident_id = $1) RETURNING 1)
       SELECT count(*)::int AS n FROM d`,
      [id],
    );
    const orgs = await tx.query<{ n: number }>(
      `WITH d AS (DELETE FROM affected_orgs WHERE run_id IN (SELECT id FROM analysis_runs WHERE incident_id = $1) RETURNING 1)
       SELECT count(*)::int AS n FROM d`,
      [id],
    );
    // Quarantined rows quote the dataset (sealed, but personal data all the same).
    await tx.query(
      "DELETE FROM quarantined_rows WHERE run_id IN (SELECT id FROM analysis_runs WHERE incident_id = $1)",
      [id],
    );
    // A campaign keeps its settings; its recipients and stored messages are personal data.
    await tx.query(
      "DELETE FROM outbox WHERE campaign_id IN (SELECT id FROM campaigns WHERE incident_id = $1)",
      [id],
    );
    const recipients = await tx.query<{ n: number }>(
      `WITH d AS (DELETE FROM deliveries WHERE campaign_id IN (SELECT id FROM campaigns WHERE incident_id = $1) RETURNING 1)
       SELECT count(*)::int AS n FROM d`,
      [id],
    );
    // A filing stays as the record that the notice was given; its evidence file may name people.
    const evidence = await tx.query<{ n: number }>(
      `WITH e AS (UPDATE filings SET evidence_sealed = NULL WHERE incident_id = $1 AND evidence_sealed IS NOT NULL RETURNING 1)
       SELECT count(*)::int AS n FROM e`,
      [id],
    );
    // Counts stay; the identity-store rows quoted in the summary's rejected_rows go with the data.
    await tx.query(
      `UPDATE analysis_runs SET purged_at = now(),
         summary = CASE WHEN summary IS NULL THEN NULL ELSE jsonb_set(summary, '{identities,rejected_rows}', '[]'::jsonb, false) END
       WHERE incident_id = $1 AND purged_at IS NULL`,
      [id],
    );
    await tx.query("UPDATE incidents SET purged_at = now(), updated_at = now() WHERE id = $1", [id]);
    const c = {
      datasets: ds.rows[0]?.n ?? 0,
      people: people.rows[0]?.n ?? 0,
      orgs: orgs.rows[0]?.n ?? 0,
      recipients: recipients.rows[0]?.n ?? 0,
      evidence: evidence.rows[0]?.n ?? 0,
    };
    await appendAudit(tx, actor, "incident.purge", `incident:${id}`, { reason, ...c });
    return c;
  });
  // Files go after the commit: a crash in between leaves files the next purge run removes.
  await rm(path.resolve(ctx.config.dataDir, "datasets", id), { recursive: true, force: true });
  return counts;
}

/** Incidents closed longer ago than their retention period, purged by the system (workers run this). */
export async function purgeExpired(ctx: Pick<Context, "db" | "config">): Promise<string[]> {
  const due = await ctx.db.query<{ id: string }>(
    `SELECT id FROM incidents
     WHERE closed_at IS NOT NULL AND closed_at + make_interval(days => retention_days) <= now()
       AND (purged_at IS NULL OR EXISTS (SELECT 1 FROM datasets d WHERE d.incident_id = incidents.id AND d.status <> 'purged'))
     ORDER BY closed_at`,
  );
  for (const { id } of due.rows) await purgeIncidentData(ctx, systemActor, id, "retention");
  return due.rows.map((r) => r.id);
}
