import type { Context } from "../app/context.ts";
import { appendAudit } from "../audit/audit-log.ts";
import { type Actor, requireRole } from "../auth/roles.ts";
import { usageError } from "../lib/errors.ts";
import { buildIncidentReport } from "./build-incident-report.ts";
import { buildRegulatorReport } from "./build-regulator-report.ts";
import { type ReportDocument, shortId } from "./document.ts";
import { renderMarkdown } from "./render-markdown.ts";
import { renderPdf } from "./render-pdf.ts";
import { loadReportData } from "./report-data.ts";

/**
 * The use case behind the report routes and `blastradius report`: read the incident as the actor may
 * (viewer and up: the reports hold counts, never a person), build the document, render it, and
 * record the download in the audit log.
 */

export const REPORT_KINDS = ["regulator", "incident"] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];
export const REPORT_FORMATS = ["md", "pdf"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export type ProducedReport = {
  fileName: string;
  contentType: string;
  body: Buffer;
  document: ReportDocument;
};

export async function produceReport(
  ctx: Pick<Context, "db" | "config">,
  actor: Actor,
  incidentId: string,
  kind: ReportKind,
  format: ReportFormat,
  options: { now?: Date } = {},
): Promise<ProducedReport> {
  requireRole(actor, "viewer", "downloading reports");
  if (!(REPORT_KINDS as readonly string[]).includes(kind))
    throw usageError(`report: one of ${REPORT_KINDS.join(", ")} (got ${JSON.stringify(kind)})`);
  if (!(REPORT_FORMATS as readonly string[]).includes(format))
    throw usageError(`format: one of ${REPORT_FORMATS.join(", ")} (got ${JSON.stringify(format)})`);
  const now = options.now ?? new Date();
  const data = await loadReportData(ctx, actor, incidentId);
  const document =
    kind === "regulator"
      ? buildRegulatorReport(data, { now, contact: ctx.config.dpoContact ?? null })
      : buildIncidentReport(data, { now });
  const body = format === "pdf" ? await renderPdf(document) : Buffer.from(renderMarkdown(document), "utf8");
  await ctx.db.transaction(async (tx) => {
    await appendAudit(tx, actor, "report.downloaded", `incident:${data.incident.id}`, {
      report: kind,
      format,
      bytes: body.length,
    });
  });
  return {
    fileName: `${kind}-report-${shortId(data.incident.id)}.${format}`,
    contentType: format === "pdf" ? "application/pdf" : "text/markdown; charset=utf-8",
    body,
    document,
  };
}
