import { writeFile } from "node:fs/promises";
import { cliActor } from "../../auth/roles.ts";
import { usageError } from "../../lib/errors.ts";
import {
  produceReport,
  REPORT_FORMATS,
  REPORT_KINDS,
  type ReportFormat,
  type ReportKind,
} from "../../reports/produce-report.ts";
import { type Command, expectArguments, parseCommandLine, requireOption, withContext } from "../command.ts";

const help = `Usage: blastradius report regulator|incident --incident ID [--format md|pdf] [--out FILE]

Writes a report of an incident in the workspace store, from its clocks, latest succeeded analysis
(counts by category and country), obligations, decisions, filings, timeline and campaigns. The
affected people appear as counts and categories, never their data. Each report made is recorded in
the audit log (report.downloaded, actor "cli").

regulator  a draft notification to the supervisory authority with the contents GDPR Art. 33(3)
           requires: (a) nature of the breach with the categories and approximate numbers of
           people and records, (b) the DPO or other contact point (BLASTRADIUS_DPO_CONTACT, else a
           placeholder), (c) likely consequences, (d) measures taken or proposed; and the dates
           behind the Art. 33(1) 72-hour deadline. What the workspace cannot know is marked
           "[to complete]".
incident   the internal incident report: summary, clocks and deadlines, blast radius, obligations
           per regime with decision, deadline and filed status, filings, decisions, timeline,
           campaigns and datasets.

Options:
  --incident ID     the incident (see 'blastradius incident list')
  --format F        md (Markdown, the default) or pdf
  --out FILE        where to write it; without it Markdown goes to stdout (a PDF needs --out)
  -h, --help        this help

Environment: DATABASE_URL (a PostgreSQL server, with BLASTRADIUS_ENCRYPTION_KEY) or BLASTRADIUS_DATA
(the embedded store's folder; not while 'blastradius serve' uses it). BLASTRADIUS_DPO_CONTACT: the
contact point the regulator draft names.

Exit codes: 0 success, 1 the work failed (e.g. the store is in use), 2 bad usage or no such incident.

Examples:
  blastradius report regulator --incident "$ID" --format pdf --out regulator-report.pdf
  blastradius report incident --incident "$ID" > incident-report.md`;

export const reportCommand: Command = {
  name: "report",
  help,
  run: async (argv, config) => {
    const { values: o, positionals } = parseCommandLine(argv, {
      incident: { type: "string" },
      format: { type: "string", default: "md" },
      out: { type: "string" },
    });
    const [kind = ""] = expectArguments(positionals, ["regulator|incident"]);
    if (!(REPORT_KINDS as readonly string[]).includes(kind)) {
      throw usageError(`unknown report '${kind}': ${REPORT_KINDS.join(", ")}`);
    }
    const incident = requireOption(o.incident, "--incident ID");
    const format = o.format ?? "md";
    if (!(REPORT_FORMATS as readonly string[]).includes(format)) {
      throw usageError(
        `--format must be one of ${REPORT_FORMATS.join(", ")} (got ${JSON.stringify(format)})`,
      );
    }
    if (format === "pdf" && !o.out)
      throw usageError("--format pdf needs --out FILE (a PDF is not for a terminal)");
    return withContext(config, async (ctx) => {
      const report = await produceReport(ctx, cliActor, incident, kind as ReportKind, format as ReportFormat);
      if (o.out) {
        await writeFile(o.out, report.body);
        process.stderr.write(
          `wrote the ${kind} report (${format}, ${report.body.length} bytes) to ${o.out}\n`,
        );
      } else process.stdout.write(report.body);
      return 0;
    });
  },
};
