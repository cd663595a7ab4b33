import { formatBytes } from "../incidents/record-system-entry.ts";
import { CLOCKS } from "../obligations/rule-schema.ts";
import {
  type Block,
  bullets,
  count,
  instant,
  p,
  type ReportDocument,
  type Section,
  strong,
  sub,
  table,
} from "./document.ts";
import type { ReportData } from "./report-data.ts";
import {
  CLOCK_LABELS,
  campaignTable,
  categoryTable,
  countryTable,
  decisionBullets,
  filingTable,
  obligationsTable,
  timelineBullets,
} from "./report-parts.ts";

/**
 * The internal incident report: where the response stands, for the people running it and for
 * auditors. The incident, its clocks and deadlines, the blast radius in counts by category and
 * country, each regime's notices with decision, deadline and whether filed, the decision log, the
 * timeline, campaigns and datasets. Counts and categories only: no person is named.
 */

export type IncidentReportOptions = { now: Date };

function summary(data: ReportData): Block[] {
  const { incident, vendor, run } = data;
  const rows: string[][] = [
    ["Incident id", incident.id],
    ["Status", incident.status],
    [
      "Vendor",
      vendor
        ? `${vendor.name} (${vendor.status.replace("_", " ")}${vendor.risk_tier ? `, ${vendor.risk_tier} risk` : ""})`
        : "-",
    ],
    ["Controller established in", incident.controller_country ?? "-"],
    ["Opened", instant(incident.created_at)],
    ["Closed", instant(incident.closed_at)],
    [
      "Retention after closing",
      `${incident.retention_days} days${incident.purged_at ? `; personal data purged ${instant(incident.purged_at)}` : ""}`,
    ],
    ["Latest analysis", run ? `${run.id}, completed ${instant(run.finished_at)}` : "none has succeeded yet"],
  ];
  const blocks: Block[] = [table(["Field", "Value"], rows)];
  if (incident.description?.trim()) blocks.push(p(strong("Description: "), incident.description));
  if (run) {
    const s = run.summary;
    const required = data.obligations.filter((o) => o.decision === "required");
    const open = data.obligations.filter((o) => o.decision === "judgment");
    blocks.push(
      bullets([
        `${count(s.affected_people)} people and ${count(s.affected_orgs)} organisations affected; ${count(s.admins_to_notify)} administrators to inform.`,
        `${Object.keys(s.by_category).length} data categories exposed; people in ${Object.keys(s.by_country).filter((c) => c !== "unknown").length} countries.`,
        `${required.length} notices required (${required.filter((o) => o.filed).length} filed), ${open.length} awaiting a decision.`,
        `${data.campaigns.length} notification campaigns; ${data.filings.length} filings recorded.`,
      ]),
    );
  }
  return blocks;
}

function clocksAndDeadlines(data: ReportData, now: Date): Block[] {
  const { clocks } = data.incident;
  const blocks: Block[] = [
    table(
      ["Clock", "Event", "When"],
      CLOCKS.map((c) => [c, CLOCK_LABELS[c] ?? c, instant(clocks[c])]),
    ),
  ];
  const owed = data.obligations.filter((o) => o.decision !== "not_required");
  blocks.push(sub("Deadlines of the notices owed or awaiting a decision"));
  if (!data.run) blocks.push(p("No analysis has succeeded yet, so the notices owed are not known."));
  else if (owed.length === 0) blocks.push(p("No notice is owed under any regime."));
  else {
    const sorted = [...owed].sort((a, b) => (a.deadline ?? "9").localeCompare(b.deadline ?? "9"));
    blocks.push(obligationsTable(sorted, now));
  }
  return blocks;
}

function blastRadius(data: ReportData): Block[] {
  if (!data.run) return [p("No analysis has succeeded yet.")];
  const s = data.run.summary;
  return [
    bullets([
      `Records: ${count(s.rows.read)} read, ${count(s.rows.used)} used, ${count(s.rows.quarantined)} quarantined.`,
      `Subjects: ${count(s.subjects.matched)} matched to users, ${count(s.subjects.unmatched_with_email)} not users but with an email, ${count(s.subjects.anonymous)} anonymous; ${count(s.conflicts)} conflicting records.`,
      `Affected: ${count(s.affected_people)} people, ${count(s.affected_orgs)} organisations, ${count(s.admins_to_notify)} administrators to inform.`,
    ]),
    sub("By data category"),
    categoryTable(s.by_category),
    sub("By country"),
    countryTable(s.by_country),
  ];
}

function obligations(data: ReportData, now: Date): Block[] {
  if (!data.run) return [p("No analysis has succeeded yet.")];
  const blocks: Block[] = [obligationsTable(data.obligations, now)];
  const questions = data.obligations.filter((o) => o.decision === "judgment" && o.question);
  if (questions.length > 0) {
    blocks.push(sub("Questions awaiting a decision"));
    blocks.push(bullets(questions.map((o) => [strong(`${o.regime}:${o.audience} `), o.question ?? ""])));
  }
  const answered = data.obligations.filter((o) => o.answered);
  if (answered.length > 0) {
    blocks.push(sub("Judgments recorded"));
    blocks.push(
      bullets(
        answered.map((o) => [
          strong(`${o.regime}:${o.audience} `),
          `${o.decision.replace("_", " ")}, decided by ${o.answered?.by ?? "?"}`,
        ]),
      ),
    );
  }
  return blocks;
}

export function buildIncidentReport(data: ReportData, options: IncidentReportOptions): ReportDocument {
  const { now } = options;
  const sections: Section[] = [
    { heading: "Summary", blocks: summary(data) },
    { heading: "Clocks and deadlines", blocks: clocksAndDeadlines(data, now) },
    { heading: "Blast radius", blocks: blastRadius(data) },
    { heading: "Obligations", blocks: obligations(data, now) },
    {
      heading: "Filings",
      blocks: data.filings.length ? [filingTable(data)] : [p("No notice has been marked as filed yet.")],
    },
    { heading: "Decisions", blocks: [decisionBullets(data)] },
    { heading: "Timeline", blocks: [timelineBullets(data)] },
    {
      heading: "Campaigns",
      blocks: data.campaigns.length ? [campaignTable(data)] : [p("No notification campaign yet.")],
    },
    {
      heading: "Datasets",
      blocks: data.datasets.length
        ? [
            table(
              ["File", "Size", "SHA-256", "Status", "Received"],
              data.datasets.map((d) => [
                d.file_name,
                formatBytes(d.bytes),
                d.sha256,
                d.status,
                instant(d.uploaded_at),
              ]),
              [false, true, false, false, false],
            ),
          ]
        : [p("No dataset received yet.")],
    },
  ];
  return {
    title: `Incident report: ${data.incident.title}`,
    lead: [
      [`Incident id ${data.incident.id}; status ${data.incident.status}.`],
      [
        `Generated ${instant(now.toISOString())} from the blastradius workspace. Affected people appear as counts and categories only.`,
      ],
    ],
    sections,
    generatedAt: now.toISOString(),
  };
}
