import type { Queryable } from "../store/db.ts";

/**
 * Timeline entries the system writes itself (kind `system`, author "system") when something happens
 * to the incident: a dataset arrives, an analysis ends, a campaign finishes sending, a notice is
 * filed. Callers pass the transaction of the event, so the entry commits or rolls back with it.
 * Bodies are file names, ids and counts only: never anything read from a dataset.
 */

export const SYSTEM_KIND = "system";
export const SYSTEM_AUTHOR = "system";

export async function recordSystemEntry(
  tx: Queryable,
  incidentId: string,
  body: string,
  at?: Date | string,
): Promise<string> {
  const r = await tx.query<{ id: string }>(
    `INSERT INTO timeline_entries (incident_id, at, kind, body, author_id, author_label)
     VALUES ($1, coalesce($2::timestamptz, now()), $3, $4, NULL, $5) RETURNING id`,
    [incidentId, at ?? null, SYSTEM_KIND, body, SYSTEM_AUTHOR],
  );
  return r.rows[0]?.id as string;
}

/** "1 person", "2 people": counts in entries and reports read as sentences. */
export function plural(n: number, one: string, many: string): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}

/** Bytes as people read them, in the decimal units BLASTRADIUS_MAX_UPLOAD uses (1 MB = 10^6 bytes). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return plural(bytes, "byte", "bytes");
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = -1;
  // 999,999 bytes would round to "1000.0 KB": rounding decides when to move up a unit
  const shown = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
  while (unit < units.length - 1 && Number(shown(value)) >= 1000) {
    value /= 1000;
    unit++;
  }
  return `${shown(value)} ${units[unit]}`;
}

export const entryText = {
  datasetReceived: (fileName: string, bytes: number) =>
    `Dataset received: ${fileName}, ${formatBytes(bytes)}`,
  analysisDone: (people: number, orgs: number) =>
    `Analysis done: ${plural(people, "person", "people")}, ${plural(orgs, "organisation", "organisations")} affected`,
  analysisFailed: (runId: string, attempts: number) =>
    `Analysis failed after ${plural(attempts, "attempt", "attempts")} (run ${runId}); the error is on the run`,
  campaignFinished: (
    campaignId: string,
    audience: string,
    c: { sent: number; failed: number; bounced: number; suppressed: number },
  ) =>
    `Campaign ${campaignId} finished sending to ${audience}: ${c.sent} sent, ${c.failed} failed, ${c.bounced} bounced, ${c.suppressed} suppressed`,
  noticeFiled: (regime: string, audience: string, reference: string | null) =>
    `Notice filed: ${regime} to ${audience}${reference ? ` (reference ${reference})` : ""}`,
};
