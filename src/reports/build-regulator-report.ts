import { labelFor } from "../notify/render-notice.ts";
import { covers } from "../obligations/decide-obligations.ts";
import { CLOCKS } from "../obligations/rule-schema.ts";
import {
  type Block,
  bullets,
  count,
  duration,
  instant,
  p,
  type ReportDocument,
  type Section,
  type Span,
  strong,
  sub,
  table,
  todo,
} from "./document.ts";
import type { ReportData } from "./report-data.ts";
import {
  CLOCK_LABELS,
  campaignTable,
  categoryTable,
  countryTable,
  decisionBullets,
  noticeStatus,
  obligationsTable,
  timelineBullets,
} from "./report-parts.ts";

/**
 * A draft of the notification to a supervisory authority with what GDPR Art. 33(3) requires:
 * (a) the nature of the breach with the categories and approximate numbers of people and records,
 * (b) a contact point, (c) the likely consequences, (d) the measures taken or proposed; and the dates
 * that decide the Art. 33(1) 72-hour period. Counts and categories only: no person is named. What
 * the workspace cannot know is left as a marked "[to complete]" for a person to fill in.
 */

export type RegulatorReportOptions = {
  /** when the draft is made: deadlines are measured from it */
  now: Date;
  /** the DPO or other contact point (BLASTRADIUS_DPO_CONTACT); a placeholder when unset */
  contact?: string | null;
};

const HOUR = 3600_000;

/** What exposure of each kind of data may lead to, most serious first (matched by fideslang key). */
const CONSEQUENCES: { keys: string[]; text: string }[] = [
  {
    keys: ["user.authorization"],
    text: "Account takeover: login data may let others sign in as the people concerned until it is changed.",
  },
  {
    keys: ["user.financial"],
    text: "Financial loss and fraud using payment or account details.",
  },
  {
    keys: ["user.government_id"],
    text: "Identity theft and fraud using government-issued identifiers.",
  },
  {
    keys: ["user.health_and_medical", "user.biometric", "user.criminal_history"],
    text: "Special category data: discrimination, distress or damage to reputation.",
  },
  {
    keys: ["user.contact"],
    text: "Targeted phishing and spam: attackers can write to the people concerned, including messages that impersonate us or the vendor and refer to their account.",
  },
  {
    keys: ["user.name"],
    text: "More convincing phishing: messages can address people by name.",
  },
  {
    keys: ["user.location"],
    text: "Approximate location makes pretexts more credible (local references, language, time zone).",
  },
  {
    keys: ["user.device.ip_address"],
    text: "IP addresses reveal approximate location and network and can be used to target the network.",
  },
  {
    keys: ["user.device"],
    text: "Knowing the operating system and browser lets attackers tailor malicious links and attachments.",
  },
  {
    keys: ["user.behavior"],
    text: "Usage and referrer data show how and from where the service is used, lending credibility to pretexts.",
  },
  {
    keys: ["user.unique_id"],
    text: "Account and organisation identifiers can be quoted to make fraudulent messages look genuine; they give no access on their own.",
  },
];

const ACCESS_KEYS = ["user.authorization", "user.financial", "user.government_id"];

function keyDates(data: ReportData, now: Date): Block[] {
  const { clocks } = data.incident;
  const rows = CLOCKS.map((c) => [CLOCK_LABELS[c] ?? c, clocks[c] ? instant(clocks[c]) : "[to complete]"]);
  const blocks: Block[] = [table(["Event", "When"], rows)];
  const gdpr = data.obligations.find((o) => o.regime === "eu-gdpr" && o.audience === "regulator");
  const deadline =
    gdpr?.deadline ??
    (clocks.aware ? new Date(new Date(clocks.aware).getTime() + 72 * HOUR).toISOString() : null);
  if (!clocks.aware) {
    blocks.push(
      p(
        "The 72-hour period of Art. 33(1) runs from when the controller became aware of the breach: ",
        todo("set the incident's aware clock"),
        ".",
      ),
    );
  } else if (deadline) {
    const spans: Span[] = [
      "Art. 33(1): notification without undue delay and, where feasible, not later than 72 hours after becoming aware: ",
      strong(`by ${instant(deadline)}`),
      ". ",
    ];
    const filedAt = gdpr?.filed?.filed_at ?? null;
    const late = filedAt ? new Date(filedAt) > new Date(deadline) : now > new Date(deadline);
    if (gdpr?.filed) spans.push(`Notified on ${instant(gdpr.filed.filed_at)}. `);
    else if (!late)
      spans.push(
        `At the time of this draft, ${duration(new Date(deadline).getTime() - now.getTime())} remain. `,
      );
    blocks.push(p(...spans));
    blocks.push(
      p(
        strong("Reasons for the delay (Art. 33(1)): "),
        late
          ? todo("the notification is made after the 72-hour period; give the reasons for the delay")
          : "not applicable if this notification is made by the deadline above.",
      ),
    );
  }
  blocks.push(
    p(
      "Where not all information is available yet, it may be provided in phases without undue further delay (Art. 33(4)).",
    ),
  );
  return blocks;
}

function nature(data: ReportData): Block[] {
  const { incident, vendor, run } = data;
  const blocks: Block[] = [];
  blocks.push(
    p(
      strong("What happened: "),
      incident.description?.trim() ? incident.description : todo("describe the breach"),
    ),
  );
  if (vendor) {
    blocks.push(
      p(
        `The breach occurred at ${vendor.name}${vendor.website ? ` (${vendor.website})` : ""}, a vendor that processed personal data on our behalf. `,
        "The vendor provided the affected dataset, which we analysed against our own user records.",
      ),
    );
  } else {
    blocks.push(p(strong("Where it occurred: "), todo("the vendor or system concerned")));
  }
  blocks.push(sub("Categories and approximate number of data subjects concerned"));
  if (!run) {
    blocks.push(p(todo("no analysis of the affected dataset has succeeded yet")));
  } else {
    const s = run.summary;
    blocks.push(p(strong(`${count(s.affected_people)} people`), " affected in total, of whom:"));
    blocks.push(
      bullets([
        `${count(s.subjects.matched)} matched to user accounts of our service`,
        `${count(s.subjects.unmatched_with_email)} not found among our users but reachable by an email address in the dataset`,
        `${count(s.subjects.anonymous)} with no identifier that links them to a known person`,
        `${count(s.affected_orgs)} business customers (organisations) with affected members, and ${count(s.admins_to_notify)} of their administrators to inform`,
      ]),
    );
    blocks.push(p("By country of residence (as recorded in our user data or the dataset):"));
    blocks.push(countryTable(s.by_country));
  }
  blocks.push(sub("Categories and approximate number of personal data records concerned"));
  if (!run) {
    blocks.push(p(todo("the categories of data and the number of records concerned")));
  } else {
    const s = run.summary;
    const files = s.files.length;
    blocks.push(
      p(
        `The dataset held ${count(s.rows.read)} records${files > 0 ? ` in ${files} file${files === 1 ? "" : "s"}` : ""}; `,
        strong(`${count(s.rows.used)} records`),
        ` concerned identifiable people or devices and were analysed (${count(s.rows.quarantined)} could not be read or used and were set aside for review). `,
        "The data categories exposed, with the number of people for whom each was present:",
      ),
    );
    blocks.push(categoryTable(s.by_category));
  }
  return blocks;
}

function consequences(data: ReportData): Block[] {
  const exposed = new Set(
    Object.entries(data.run?.summary.by_category ?? {})
      .filter(([, n]) => n > 0)
      .map(([k]) => k),
  );
  const blocks: Block[] = [];
  if (exposed.size === 0) {
    return [p(todo("the likely consequences for the people concerned"))];
  }
  const items: Span[][] = [];
  const said = new Set<string>();
  for (const c of CONSEQUENCES) {
    if (c.keys.some((k) => covers(k, exposed)) && !said.has(c.text)) {
      said.add(c.text);
      items.push([c.text]);
    }
  }
  const explained = (key: string) =>
    CONSEQUENCES.some((c) => c.keys.some((k) => key === k || key.startsWith(`${k}.`)));
  for (const key of [...exposed].sort()) {
    if (!explained(key)) items.push([`Exposure of ${labelFor("en", key).toLowerCase()} (${key}).`]);
  }
  blocks.push(p("From the categories of data exposed:"), bullets(items));
  if (!ACCESS_KEYS.some((k) => covers(k, exposed))) {
    blocks.push(
      p(
        "Among the data categories found in the dataset there are no passwords or other login credentials, no payment or financial data and no government identifiers.",
      ),
    );
  }
  blocks.push(
    p(
      strong("Assessment of the risk: "),
      todo("the controller's assessment of the likelihood and severity of these consequences"),
    ),
  );
  return blocks;
}

function measures(data: ReportData, now: Date): Block[] {
  const items: Span[][] = [];
  const { vendor, run } = data;
  if (vendor) {
    const state: Record<string, string> = {
      under_review: `The relationship with ${vendor.name} is under review.`,
      offboarding: `${vendor.name} is being offboarded: it is to receive no further personal data.`,
      offboarded: `${vendor.name} has been offboarded: it receives no further personal data.`,
    };
    if (state[vendor.status]) items.push([state[vendor.status] as string]);
  }
  if (run) {
    items.push([
      `The people and organisations affected, and which of their data was exposed, were identified by matching the vendor's dataset to our user records (analysis completed ${instant(run.finished_at)}).`,
    ]);
  }
  for (const c of data.campaigns) {
    const who = c.audience === "admins" ? "administrators of affected organisations" : "affected people";
    items.push([
      `Direct notice to ${who} (campaign ${c.id}, ${c.status}): ${count(c.counts.sent)} sent, ${count(c.counts.failed)} failed, ${count(c.counts.bounced)} bounced, ${count(c.counts.pending)} still to send.`,
    ]);
  }
  const others = data.obligations.filter(
    (o) => o.filed && !(o.regime === "eu-gdpr" && o.audience === "regulator"),
  );
  for (const o of others) {
    items.push([`Notice under ${o.regime_name} to ${o.to}: ${noticeStatus(o, now)}.`]);
  }
  items.push([
    todo(
      "further measures taken or proposed to address the breach and to mitigate its possible adverse effects",
    ),
  ]);
  const blocks: Block[] = [bullets(items)];
  blocks.push(sub("Decisions recorded"), decisionBullets(data));
  if (data.campaigns.length > 0) blocks.push(sub("Notices to the people concerned"), campaignTable(data));
  return blocks;
}

export function buildRegulatorReport(data: ReportData, options: RegulatorReportOptions): ReportDocument {
  const { now } = options;
  const { incident } = data;
  const contact = options.contact?.trim();
  const regulators = data.obligations.filter((o) => o.audience === "regulator");
  const sections: Section[] = [
    { heading: "Dates and the 72-hour deadline (Art. 33(1))", blocks: keyDates(data, now) },
    { heading: "(a) Nature of the breach", blocks: nature(data) },
    {
      heading: "(b) Data protection officer or other contact point",
      blocks: [
        contact
          ? p("Name and contact details: ", contact)
          : p("Name and contact details: ", todo("the data protection officer or other contact point")),
      ],
    },
    { heading: "(c) Likely consequences of the breach", blocks: consequences(data) },
    {
      heading: "(d) Measures taken or proposed, including to mitigate adverse effects",
      blocks: measures(data, now),
    },
    {
      heading: "Notifications to authorities",
      blocks: regulators.length
        ? [
            p(
              "What the obligations engine found for each regime's authority, from the latest analysis and the incident's clocks and recorded answers:",
            ),
            obligationsTable(regulators, now),
          ]
        : [p(todo("no analysis has succeeded yet, so the authorities to notify are not known"))],
    },
    { heading: "Chronology", blocks: [timelineBullets(data)] },
  ];
  return {
    title: "Personal data breach notification to the supervisory authority (draft)",
    lead: [
      [strong("Incident: "), incident.title],
      [`Incident id ${incident.id}; status ${incident.status}.`],
      [
        `Drafted ${instant(now.toISOString())} from the blastradius workspace. GDPR Art. 33(3) contents; affected people as counts and categories only. `,
        "Check every statement and complete each field marked [to complete] before filing.",
      ],
    ],
    sections,
    generatedAt: now.toISOString(),
  };
}
