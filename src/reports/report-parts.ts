import { labelFor } from "../notify/render-notice.ts";
import type { ObligationWithFiling } from "../obligations/file-notice.ts";
import { type Block, bullets, count, duration, instant, type Span, strong, table } from "./document.ts";
import type { ReportData } from "./report-data.ts";

/** Pieces both reports use: counts tables, deadline status, the chronology, campaigns. */

export const CLOCK_LABELS: Record<string, string> = {
  vendor_detected: "The vendor detected the breach",
  vendor_notified: "The vendor told us",
  aware: "We became aware (controller awareness)",
  dataset_received: "We received the affected dataset",
  assessed: "Risk assessment completed",
};

export const AUDIENCE_LABELS: Record<string, string> = {
  regulator: "regulator",
  individuals: "individuals",
  other: "others",
};

/** Entries sorted by count, largest first, then by key. */
export function byCount(counts: Record<string, number>): [string, number][] {
  return Object.entries(counts).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

export function categoryTable(byCategory: Record<string, number>): Block {
  return table(
    ["Data category", "Key (fideslang)", "People affected"],
    byCount(byCategory).map(([key, n]) => [labelFor("en", key), key, count(n)]),
    [false, false, true],
  );
}

export function countryTable(byCountry: Record<string, number>): Block {
  return table(
    ["Country of residence", "People affected"],
    byCount(byCountry).map(([cc, n]) => [cc === "unknown" ? "not known" : cc, count(n)]),
    [false, true],
  );
}

/** Where a notice stands at `now`: filed (and whether in time), overdue, due, or not owed. */
export function noticeStatus(o: ObligationWithFiling, now: Date): string {
  const deadline = o.deadline ? new Date(o.deadline) : null;
  if (o.filed) {
    const late = deadline && new Date(o.filed.filed_at) > deadline;
    return `filed ${instant(o.filed.filed_at)}${o.filed.reference ? ` (ref. ${o.filed.reference})` : ""}${late ? ", after the deadline" : ""}`;
  }
  if (o.decision === "not_required") return "not required";
  const owed = o.decision === "judgment" ? "awaiting a decision" : "not filed";
  if (!deadline) return `${owed}; no fixed deadline (${o.timing})`;
  const left = deadline.getTime() - now.getTime();
  return left < 0 ? `${owed}; overdue by ${duration(left)}` : `${owed}; ${duration(left)} left`;
}

export function obligationsTable(obligations: readonly ObligationWithFiling[], now: Date): Block {
  return table(
    ["Regime", "Audience", "Decision", "People", "Deadline", "Status"],
    obligations.map((o) => [
      o.regime,
      AUDIENCE_LABELS[o.audience] ?? o.audience,
      o.decision.replace("_", " "),
      count(o.people),
      o.deadline ? instant(o.deadline) : o.decision === "not_required" ? "-" : "none fixed",
      noticeStatus(o, now),
    ]),
    [false, false, false, true, false, false],
  );
}

export function timelineBullets(data: ReportData): Block {
  if (data.timeline.length === 0) return bullets(["No timeline entries yet."]);
  return bullets(
    data.timeline.map((t): Span[] => [
      strong(`${instant(t.at)} `),
      `(${t.kind}${t.author && t.author !== t.kind ? `, ${t.author}` : ""}) `,
      t.body,
    ]),
  );
}

export function decisionBullets(data: ReportData): Block {
  if (data.decisions.length === 0) return bullets(["No decisions recorded yet."]);
  return bullets(
    data.decisions.map((d): Span[] => [
      strong(`${d.subject}: ${d.decision}`),
      ` (${instant(d.decided_at)}${d.decided_by ? `, ${d.decided_by}` : ""}). `,
      `Rationale: ${d.rationale}`,
    ]),
  );
}

export function campaignTable(data: ReportData): Block {
  return table(
    ["Campaign", "Audience", "Status", "Recipients", "Sent", "Failed", "Bounced", "Suppressed", "Pending"],
    data.campaigns.map((c) => [
      c.id,
      c.audience,
      c.status,
      count(c.recipients),
      count(c.counts.sent),
      count(c.counts.failed),
      count(c.counts.bounced),
      count(c.counts.suppressed),
      count(c.counts.pending),
    ]),
    [false, false, false, true, true, true, true, true, true],
  );
}

export function filingTable(data: ReportData): Block {
  return table(
    ["Filed", "Regime", "Audience", "Reference", "Evidence", "Recorded by"],
    data.filings.map((f) => [
      instant(f.filed_at),
      f.regime,
      AUDIENCE_LABELS[f.audience] ?? f.audience,
      f.reference ?? "-",
      f.evidence
        ? `${f.evidence.name}, sha256 ${f.evidence.sha256.slice(0, 12)}...${f.evidence.available ? "" : " (purged)"}`
        : "-",
      f.filed_by ?? "-",
    ]),
  );
}
