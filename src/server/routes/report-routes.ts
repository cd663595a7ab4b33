import type { Context } from "../../app/context.ts";
import { produceReport, type ReportFormat, type ReportKind } from "../../reports/produce-report.ts";
import { attachment } from "../attachment.ts";
import { actorOf } from "../authenticate.ts";
import type { App } from "../build-server.ts";
import { idParam } from "../schemas.ts";

const REPORTS: { kind: ReportKind; format: ReportFormat; summary: string }[] = [
  {
    kind: "regulator",
    format: "md",
    summary: "Draft notification to the supervisory authority (GDPR Art. 33(3) contents) as Markdown",
  },
  {
    kind: "regulator",
    format: "pdf",
    summary: "Draft notification to the supervisory authority (GDPR Art. 33(3) contents) as PDF",
  },
  { kind: "incident", format: "md", summary: "Internal incident report as Markdown" },
  { kind: "incident", format: "pdf", summary: "Internal incident report as PDF" },
];

/** Reports hold counts and categories, never a person, so viewers may download them; each is audited. */
export async function reportRoutes(app: App, ctx: Context): Promise<void> {
  for (const r of REPORTS) {
    app.get(
      `/incidents/:id/reports/${r.kind}.${r.format}`,
      {
        config: { role: "viewer" },
        schema: {
          tags: ["reports"],
          summary: `${r.summary} (an attachment; audited as report.downloaded)`,
          params: idParam,
          produces: [r.format === "pdf" ? "application/pdf" : "text/markdown"],
        },
      },
      async (request, reply) => {
        const report = await produceReport(ctx, actorOf(request), request.params.id, r.kind, r.format);
        return reply
          .type(report.contentType)
          .header("content-disposition", attachment(report.fileName))
          .send(report.body);
      },
    );
  }
}
