import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inflateSync } from "node:zlib";
import type { Summary } from "../impact/analyze-incident.ts";
import type { ObligationWithFiling } from "../obligations/file-notice.ts";
import { obligationsForIncident } from "../obligations/obligations-for-incident.ts";
import { buildIncidentReport } from "./build-incident-report.ts";
import { buildRegulatorReport } from "./build-regulator-report.ts";
import type { ReportDocument } from "./document.ts";
import { escapeMarkdown, renderMarkdown } from "./render-markdown.ts";
import { pdfText, renderPdf } from "./render-pdf.ts";
import type { ReportData } from "./report-data.ts";

const AWARE = "2025-11-25T18:00:00.000Z";
const NOW_IN_TIME = new Date("2025-11-26T18:00:00.000Z"); // 48 hours before the 72 run out
const NOW_LATE = new Date("2025-12-01T09:30:00.000Z");

const SUMMARY: Summary = {
  rows: { read: 12_345, used: 12_000, quarantined: 345 },
  subjects: { matched: 1_180, unmatched_with_email: 40, anonymous: 14 },
  affected_people: 1_234,
  affected_orgs: 56,
  admins_to_notify: 78,
  conflicts: 3,
  by_category: {
    "user.contact.email": 1_220,
    "user.name": 1_100,
    "user.location.coarse": 900,
    "user.device": 1_234,
    "user.unique_id": 1_234,
  },
  by_country: { DE: 700, FR: 300, US: 200, unknown: 34 },
  by_country_category: {
    DE: { "user.contact.email": 690, "user.name": 650 },
    FR: { "user.contact.email": 300 },
    US: { "user.contact.email": 200, "user.name": 200 },
  },
  by_region: { US: { California: 120, "New York": 80 } },
  unmapped_fields: {},
  files: [],
  identities: { users: 5000, orgs: 300, memberships: 6000, rejected: 0, rejected_rows: [] },
};

async function obligations(filed?: { regime: string; audience: string; at: string }) {
  const list = await obligationsForIncident({
    exposure: {
      affectedPeople: SUMMARY.affected_people,
      affectedOrgs: SUMMARY.affected_orgs,
      byCountry: SUMMARY.by_country,
      byCategory: SUMMARY.by_category,
      byCountryCategory: SUMMARY.by_country_category,
      byRegion: SUMMARY.by_region,
    },
    clocks: { aware: AWARE },
    controllerCountry: "DE",
  });
  return list.map(
    (o): ObligationWithFiling =>
      filed && o.regime === filed.regime && o.audience === filed.audience
        ? { ...o, filed: { filing_id: "f1", filed_at: filed.at, reference: "DPA-2025-0042" } }
        : o,
  );
}

async function data(over: Partial<ReportData> = {}): Promise<ReportData> {
  return {
    incident: {
      id: "0f8fad5b-d9cb-469f-a165-70867728950e",
      title: "Analytics vendor breach",
      description: "An attacker exported a dataset of our users from the analytics vendor.",
      vendor_id: "7c9e6679-7425-40de-944b-e07fc1f90ae7",
      status: "notifying",
      controller_country: "DE",
      retention_days: 365,
      clocks: {
        vendor_detected: "2025-11-09T14:00:00.000Z",
        vendor_notified: "2025-11-25T09:00:00.000Z",
        aware: AWARE,
        dataset_received: "2025-11-25T20:00:00.000Z",
      },
      created_at: "2025-11-25T18:05:00.000Z",
      updated_at: "2025-11-26T10:00:00.000Z",
      closed_at: null,
      purged_at: null,
    },
    vendor: {
      id: "7c9e6679-7425-40de-944b-e07fc1f90ae7",
      name: "Analytics Co",
      website: "https://analytics.example",
      risk_tier: "high",
      status: "offboarding",
    },
    run: { id: "run-1", finished_at: "2025-11-25T21:00:00.000Z", summary: SUMMARY },
    obligations: await obligations(),
    decisions: [
      {
        id: "d1",
        subject: "eu-gdpr:individuals",
        decision: "required",
        rationale: "Names and emails enable targeted phishing.",
        decided_by: "user:dpo",
        decided_at: "2025-11-26T08:00:00.000Z",
      },
    ],
    timeline: [
      {
        id: "t1",
        at: "2025-11-25T20:00:00.000Z",
        kind: "system",
        body: "Dataset received: export.jsonl.gz, 1.2 MB",
        author: "system",
        created_at: "2025-11-25T20:00:00.000Z",
      },
      {
        id: "t2",
        at: "2025-11-25T21:00:00.000Z",
        kind: "system",
        body: "Analysis done: 1,234 people, 56 organisations affected",
        author: "system",
        created_at: "2025-11-25T21:00:00.000Z",
      },
    ],
    filings: [],
    campaigns: [
      {
        id: "users-1",
        audience: "users",
        status: "done",
        recipients: 1_220,
        created_at: "2025-11-26T09:00:00.000Z",
        finished_at: "2025-11-26T11:00:00.000Z",
        counts: { total: 1_220, sent: 1_200, failed: 5, bounced: 15, suppressed: 0, pending: 0 },
      },
    ],
    datasets: [
      {
        id: "ds1",
        incident_id: "0f8fad5b-d9cb-469f-a165-70867728950e",
        file_name: "export.jsonl.gz",
        sha256: "a".repeat(64),
        bytes: 1_200_000,
        format: "mixpanel-events",
        mapping: null,
        status: "stored",
        uploaded_by: null,
        uploaded_at: "2025-11-25T20:00:00.000Z",
        purged_at: null,
      },
    ],
    ...over,
  };
}

/** The text a PDF shows: the strings of its TJ operators (pdfkit writes them as hex, one line each). */
function pdfShownText(pdf: Buffer): string {
  const raw = pdf.toString("latin1");
  const streams: string[] = [];
  for (const m of raw.matchAll(/stream\r?\n([\s\S]*?)\r?\nendstream/g)) {
    const body = m[1] ?? "";
    const bytes = Buffer.from(body, "latin1");
    try {
      streams.push(inflateSync(bytes).toString("latin1"));
    } catch {
      streams.push(body);
    }
  }
  const lines: string[] = [];
  for (const s of streams) {
    for (const tj of s.matchAll(/\[([^\]]*)\] TJ/g)) {
      const hex = [...(tj[1] ?? "").matchAll(/<([0-9a-f]*)>/gi)].map((h) => h[1] ?? "").join("");
      lines.push(Buffer.from(hex, "hex").toString("latin1"));
    }
  }
  return lines.join("\n");
}

const pageCount = (pdf: Buffer) => (pdf.toString("latin1").match(/\/Type \/Page\b/g) ?? []).length;

const ART_33_HEADINGS = [
  "## (a) Nature of the breach",
  "## (b) Data protection officer or other contact point",
  "## (c) Likely consequences of the breach",
  "## (d) Measures taken or proposed, including to mitigate adverse effects",
];

describe("the regulator report", () => {
  it("has each GDPR Art. 33(3) heading, the counts of people and records, and the dates", async () => {
    const md = renderMarkdown(buildRegulatorReport(await data(), { now: NOW_IN_TIME }));
    for (const h of ART_33_HEADINGS) assert.ok(md.includes(`\n${h}\n`), `missing ${h}`);
    assert.match(md, /\*\*1,234 people\*\* affected in total/);
    assert.match(md, /1,180 matched to user accounts/);
    assert.match(md, /40 not found among our users but reachable by an email address/);
    assert.match(
      md,
      /56 business customers \(organisations\) with affected members, and 78 of their administrators/,
    );
    assert.match(md, /The dataset held 12,345 records; \*\*12,000 records\*\*/);
    assert.match(md, /\| Email address \| user\.contact\.email \| 1,220 \|/);
    assert.match(md, /\| DE \| 700 \|/);
    assert.match(md, /\| not known \| 34 \|/);
    assert.match(md, /\| We became aware \(controller awareness\) \| 2025-11-25 18:00 UTC \|/);
    assert.match(md, /\| The vendor detected the breach \| 2025-11-09 14:00 UTC \|/);
    assert.match(md, /\*\*by 2025-11-28 18:00 UTC\*\*/, "the 72-hour deadline from the aware clock");
    assert.match(md, /At the time of this draft, 2 days remain\./);
    assert.match(md, /\*\*Reasons for the delay \(Art\. 33\(1\)\):\*\* not applicable/);
    assert.match(md, /Analytics Co \(https:\/\/analytics\.example\), a vendor/);
    assert.match(md, /Analytics Co is being offboarded/);
    assert.match(md, /campaign users-1, done\): 1,200 sent, 5 failed, 15 bounced, 0 still to send/);
    assert.match(md, /Targeted phishing and spam/);
    assert.match(md, /no passwords or other login credentials/);
    assert.match(md, /Dataset received: export\.jsonl\.gz, 1\.2 MB/);
  });

  it("marks what a person must complete: the contact point, the assessment, further measures", async () => {
    const md = renderMarkdown(buildRegulatorReport(await data(), { now: NOW_IN_TIME }));
    assert.match(
      md,
      /Name and contact details: \*\*\[to complete: the data protection officer or other contact point\]\*\*/,
    );
    assert.match(md, /\*\*\[to complete: further measures taken or proposed/);
    const withContact = renderMarkdown(
      buildRegulatorReport(await data(), {
        now: NOW_IN_TIME,
        contact: "Data Protection Officer, dpo@example.com",
      }),
    );
    assert.match(withContact, /Name and contact details: Data Protection Officer, dpo@example\.com/);
    assert.doesNotMatch(withContact, /to complete: the data protection officer/);
  });

  it("asks for the reasons of a delay past the 72 hours, and says when the notice was filed", async () => {
    const late = renderMarkdown(buildRegulatorReport(await data(), { now: NOW_LATE }));
    assert.match(
      late,
      /\*\*\[to complete: the notification is made after the 72-hour period; give the reasons for the delay\]\*\*/,
    );
    const filed = await data({
      obligations: await obligations({
        regime: "eu-gdpr",
        audience: "regulator",
        at: "2025-11-27T10:00:00.000Z",
      }),
    });
    const md = renderMarkdown(buildRegulatorReport(filed, { now: NOW_LATE }));
    assert.match(md, /Notified on 2025-11-27 10:00 UTC\./);
    assert.match(md, /not applicable if this notification is made by the deadline above/);
    assert.match(
      md,
      /\| eu-gdpr \| regulator \| required \| 1,000 \| 2025-11-28 18:00 UTC \| filed 2025-11-27 10:00 UTC \(ref\. DPA-2025-0042\) \|/,
    );
  });

  it("leaves the counts to complete while no analysis has succeeded, and the deadline without an aware clock", async () => {
    const d = await data({ run: null, obligations: [], campaigns: [] });
    d.incident = { ...d.incident, clocks: {} };
    const md = renderMarkdown(buildRegulatorReport(d, { now: NOW_IN_TIME }));
    for (const h of ART_33_HEADINGS) assert.ok(md.includes(h));
    assert.match(md, /\[to complete: no analysis of the affected dataset has succeeded yet\]/);
    assert.match(md, /\[to complete: set the incident's aware clock\]/);
    assert.match(md, /\[to complete: the likely consequences for the people concerned\]/);
  });
});

describe("the incident report", () => {
  it("has the summary, clocks and deadlines, counts by category and country, obligations, campaigns", async () => {
    const d = await data({
      obligations: await obligations({
        regime: "eu-gdpr",
        audience: "regulator",
        at: "2025-11-27T10:00:00.000Z",
      }),
      filings: [
        {
          id: "f1",
          incident_id: "0f8fad5b-d9cb-469f-a165-70867728950e",
          regime: "eu-gdpr",
          audience: "regulator",
          filed_at: "2025-11-27T10:00:00.000Z",
          reference: "DPA-2025-0042",
          note: null,
          evidence: { name: "receipt.pdf", bytes: 1000, sha256: "b".repeat(64), available: true },
          filed_by: "user:dpo",
          created_at: "2025-11-27T10:05:00.000Z",
        },
      ],
    });
    const md = renderMarkdown(buildIncidentReport(d, { now: NOW_IN_TIME }));
    for (const h of [
      "## Summary",
      "## Clocks and deadlines",
      "## Blast radius",
      "## Obligations",
      "## Filings",
      "## Decisions",
      "## Timeline",
      "## Campaigns",
      "## Datasets",
    ]) {
      assert.ok(md.includes(`\n${h}\n`), `missing ${h}`);
    }
    assert.match(md, /1,234 people and 56 organisations affected; 78 administrators to inform/);
    assert.match(
      md,
      /\| Approximate location \(city, region and country, as detected by the browser\) \| user\.location\.coarse \| 900 \|/,
    );
    assert.match(md, /\| FR \| 300 \|/);
    assert.match(
      md,
      /\| eu-gdpr \| regulator \| required \| 1,000 \| 2025-11-28 18:00 UTC \| filed 2025-11-27 10:00 UTC \(ref\. DPA-2025-0042\) \|/,
    );
    assert.match(md, /\| users-1 \| users \| done \| 1,220 \| 1,200 \| 5 \| 15 \| 0 \| 0 \|/);
    assert.match(
      md,
      /\| 2025-11-27 10:00 UTC \| eu-gdpr \| regulator \| DPA-2025-0042 \| receipt\.pdf, sha256 bbbbbbbbbbbb\.\.\. \| user:dpo \|/,
    );
    assert.match(
      md,
      /\*\*eu-gdpr:individuals: required\*\* \(2025-11-26 08:00 UTC, user:dpo\)\. Rationale: Names and emails/,
    );
    assert.match(md, /\| export\.jsonl\.gz \| 1\.2 MB \| a{64} \| stored \| 2025-11-25 20:00 UTC \|/);
    assert.match(md, /notices required \(1 filed\)/);
  });
});

describe("Markdown rendering", () => {
  it("escapes what users and datasets wrote, so that it stays text", () => {
    assert.equal(escapeMarkdown("[click](javascript:alert(1))"), "\\[click\\](javascript:alert(1))");
    assert.equal(escapeMarkdown("<img src=x onerror=alert(1)>"), "\\<img src=x onerror=alert(1)\\>");
    assert.equal(escapeMarkdown("# not a heading"), "\\# not a heading");
    assert.equal(escapeMarkdown("- not a list"), "\\- not a list");
    assert.equal(escapeMarkdown("1. not a list"), "1\\. not a list");
    assert.equal(escapeMarkdown("1.2 MB, -5 %, 3)x"), "1.2 MB, -5 %, 3)x");
    assert.equal(escapeMarkdown("---"), "\\---");
    assert.equal(escapeMarkdown("a | b"), "a \\| b");
    assert.equal(escapeMarkdown("user.unique_id _x_"), "user.unique_id \\_x\\_");
    assert.equal(
      escapeMarkdown("**bold** _it_ `code` ~x~ &amp;"),
      "\\*\\*bold\\*\\* \\_it\\_ \\`code\\` \\~x\\~ \\&amp;",
    );
    assert.equal(escapeMarkdown("two\nlines\r\n\tand tabs"), "two lines and tabs");
  });

  it("keeps hostile values inside their paragraph, list item and table cell", async () => {
    const d = await data();
    d.incident = { ...d.incident, title: "Breach\n# Owned | [x](http://evil.example)" };
    d.timeline = [
      { ...(d.timeline[0] as ReportData["timeline"][number]), body: "line one\n\n## injected\n| a | b |" },
    ];
    d.datasets = [{ ...(d.datasets[0] as ReportData["datasets"][number]), file_name: "a|b<script>.csv" }];
    const md = renderMarkdown(buildIncidentReport(d, { now: NOW_IN_TIME }));
    assert.match(md, /^# Incident report: Breach \\# Owned \\\| \\\[x\\\]\(http:\/\/evil\.example\)$/m);
    assert.doesNotMatch(md, /^## injected/m);
    assert.match(md, /line one \\#\\# injected \\\| a \\\| b \\\|/);
    assert.match(md, /\| a\\\|b\\<script\\>\.csv \|/);
  });
});

describe("PDF rendering", () => {
  const textOf = async (doc: ReportDocument) => pdfShownText(await renderPdf(doc, { compress: false }));

  it("writes a PDF with the Art. 33(3) headings and the counts in its text", async () => {
    const doc = buildRegulatorReport(await data(), { now: NOW_IN_TIME });
    const pdf = await renderPdf(doc);
    assert.equal(pdf.subarray(0, 5).toString("latin1"), "%PDF-");
    assert.match(pdf.subarray(-8).toString("latin1"), /%%EOF\s*$/);
    assert.ok(pageCount(pdf) >= 1);
    const text = pdfShownText(pdf); // compressed streams are inflated by the reader above
    for (const h of [
      "(a) Nature of the breach",
      "(b) Data protection officer or other contact point",
      "(c) Likely consequences of the breach",
      "(d) Measures taken or proposed, including to mitigate adverse effects",
    ]) {
      assert.ok(text.includes(h), `missing ${h}`);
    }
    assert.ok(text.includes("1,234 people"));
    assert.ok(text.includes("12,000 records"));
    assert.ok(text.includes("[to complete: the data protection officer or other contact point]"));
    assert.match(text, /page 1 of \d+/);
  });

  it("is the same file for the same report made at the same time, dated with that time", async () => {
    const doc = buildIncidentReport(await data(), { now: NOW_IN_TIME });
    const a = await renderPdf(doc);
    const b = await renderPdf(doc);
    assert.ok(a.equals(b));
    assert.ok(a.toString("latin1").includes("(D:20251126180000Z)"), "created at the generation time");
  });

  it("breaks long tables across pages and repeats their header", async () => {
    const d = await data();
    const byCountry: Record<string, number> = {};
    for (let i = 0; i < 150; i++) byCountry[`C${String(i).padStart(3, "0")}`] = 1000 - i;
    d.run = { ...(d.run as NonNullable<ReportData["run"]>), summary: { ...SUMMARY, by_country: byCountry } };
    const text = await textOf(buildIncidentReport(d, { now: NOW_IN_TIME }));
    const pdf = await renderPdf(buildIncidentReport(d, { now: NOW_IN_TIME }), { compress: false });
    assert.ok(pageCount(pdf) >= 3, `${pageCount(pdf)} pages`);
    assert.ok(text.includes("C000") && text.includes("C149"));
    assert.ok((text.match(/Country of residence/g) ?? []).length >= 2, "the header again on the next page");
  });

  it("writes what the standard fonts cannot show without accents or as ?", () => {
    assert.equal(pdfText("Müller — Łódź 東京"), "Müller — ?ódz ??");
  });
});
