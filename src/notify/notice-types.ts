/**
 * The shapes shared by audiences, rendering, the ledger and the sender. A recipient's data comes from
 * an analysis (people, organisations and their admins) and is sealed at rest in the delivery ledger.
 */

export const AUDIENCES = ["users", "admins"] as const;
export type Audience = (typeof AUDIENCES)[number];

/** An affected organisation as its admins are told about it. */
export type OrgExposure = {
  org_id: string;
  name: string | null;
  /** how many of its members were affected */
  affected_members: number;
  /** fideslang keys exposed among its affected members, sorted */
  categories: string[];
};

export type Recipient = {
  /** trimmed and lower-cased */
  email: string;
  name: string | null;
  /** the store's language for the person, as given (`pt-BR`, `pt_br`, `de`...), or null */
  locale: string | null;
  /** ISO country code or null */
  country: string | null;
  /** fideslang keys exposed for this recipient, sorted (admins: the union over their organisations) */
  categories: string[];
  /** admins: the affected organisations they own or administer, sorted by org_id; users: [] */
  orgs: OrgExposure[];
};

/** What every notice of a campaign says besides the recipient's own data. */
export type NoticeSettings = {
  /** who is writing: the company's name, or null for a neutral wording */
  company: string | null;
  /** the breached vendor's name, or null ("one of our service providers") */
  vendor: string | null;
  /** ISO-8601 dates (YYYY-MM-DD or full timestamps) or null when unknown */
  incidentStart: string | null;
  incidentEnd: string | null;
  discoveredAt: string | null;
  /**
   * What was not exposed, in order: known keys (fideslang categories such as
   * `user.authorization.credentials`, or `passwords`, `api_keys`, `payment_data`,
   * `conversation_content`, `government_id`) are said in the recipient's language; anything else is
   * shown as written.
   */
  notExposed: string[];
  /** the domains the company sends mail from, e.g. ["example.com"] */
  senderDomains: string[];
  /** where to ask questions: an email address or an https URL */
  contact: string;
  /** used when the recipient's language has no template, before English; e.g. "en" */
  localeDefault: string;
  /** a folder whose templates override the shipped ones (same layout), or null */
  templatesDir: string | null;
};

export type RenderedNotice = {
  /** the template locale actually used, e.g. "pt-BR" */
  locale: string;
  subject: string;
  text: string;
  html: string;
};
