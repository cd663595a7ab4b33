/** Shapes of the API's responses (see /api/v1/openapi.json); kept by hand to the server's zod schemas. */
export type Role = "viewer" | "analyst" | "responder" | "admin";
export const ROLES: readonly Role[] = ["viewer", "analyst", "responder", "admin"];

export type User = {
  id: string;
  email: string;
  display_name: string | null;
  role: Role;
  totp_enabled: boolean;
  created_at: string;
  disabled: boolean;
};
export type Me = { user: User; csrf_token: string | null; via: "session" | "token" };
export type TotpEnrollment = { secret: string; otpauth_uri: string };

export type Vendor = {
  id: string;
  name: string;
  website: string | null;
  risk_tier: "low" | "medium" | "high" | "critical" | null;
  status: "active" | "under_review" | "offboarding" | "offboarded";
  notes: string | null;
  created_at: string;
  updated_at: string;
};

export const INCIDENT_STATUSES = ["open", "assessing", "notifying", "monitoring", "closed"] as const;
export type Incident = {
  id: string;
  title: string;
  description: string | null;
  vendor_id: string | null;
  status: (typeof INCIDENT_STATUSES)[number];
  controller_country: string | null;
  retention_days: number;
  clocks: Record<string, string>;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  purged_at: string | null;
};
export type TimelineEntry = {
  id: string;
  at: string;
  kind: string;
  body: string;
  author: string | null;
  created_at: string;
};
export type Decision = {
  id: string;
  subject: string;
  decision: string;
  rationale: string;
  decided_by: string | null;
  decided_at: string;
};

export type MappingDocument = {
  fields?: Record<string, string | null>;
  roles?: Record<string, string[]>;
};
export type Dataset = {
  id: string;
  incident_id: string;
  file_name: string;
  sha256: string;
  bytes: number;
  format: string | null;
  mapping: MappingDocument | null;
  status: "uploading" | "stored" | "purged";
  uploaded_by: string | null;
  uploaded_at: string;
  purged_at: string | null;
};

export type Progress = { stage: string; done: number; total: number };
export type AnalysisRun = {
  id: string;
  incident_id: string;
  status: "queued" | "running" | "succeeded" | "failed";
  dataset_ids: string[];
  job: {
    id: string;
    attempts: number;
    max_attempts: number;
    progress: Progress | null;
    error: string | null;
  } | null;
  created_by: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
};
export type Summary = {
  rows: { read: number; used: number; quarantined: number };
  affected_people: number;
  affected_orgs: number;
  admins_to_notify: number;
  by_category: Record<string, number>;
  by_country: Record<string, number>;
  [key: string]: unknown;
};
/** obligations.json entries: see README "Obligations". */
export type Obligation = { regime: string; [key: string]: unknown };
/** One notice an obligations entry describes (regime and audience), as the server decides it now. */
export type Citation = { source: string; provision: string; url?: string };
export type ObligationNotice = {
  regime: string;
  regime_name: string;
  authority: string;
  audience: "regulator" | "individuals" | "other";
  to: string;
  decision: "required" | "not_required" | "judgment";
  people: number;
  deadline: string | null;
  clock: string | null;
  timing: string;
  reason: string;
  question?: string;
  answered?: { question: string; by: string };
  contents: string[];
  citations: Citation[];
  rule_version: number;
  rule_reviewed: string;
  /** the first filing of this notice, once one is recorded */
  filed?: { filing_id: string; filed_at: string; reference: string | null };
};
export type Filing = {
  id: string;
  incident_id: string;
  regime: string;
  audience: string;
  filed_at: string;
  reference: string | null;
  note: string | null;
  evidence: { name: string; bytes: number | null; sha256: string; available: boolean } | null;
  filed_by: string | null;
  created_at: string;
};

export type Page<T> = { items: T[]; total: number; offset: number; limit: number };
export type Person = {
  person_key: string;
  user_id: string | null;
  email: string | null;
  name: string | null;
  country: string | null;
  language: string | null;
  categories: string[];
  matched_by: string;
  records: number;
};
export type OrgAdmin = {
  user_id: string | null;
  email: string;
  name: string | null;
  language: string | null;
  country: string | null;
  role: string | null;
};
export type Org = {
  org_id: string;
  name: string | null;
  affected_members: number;
  admin_emails: string[];
  categories: string[];
  admins: OrgAdmin[];
};

export type AuditEvent = {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string | null;
  detail: Record<string, unknown>;
  prevHash: string;
  hash: string;
};

export type CampaignCounts = {
  total: number;
  sent: number;
  failed: number;
  bounced: number;
  suppressed: number;
  pending: number;
};
export type Campaign = {
  id: string;
  incident_id: string | null;
  run_id: string | null;
  audience: "users" | "admins";
  filters: Record<string, string[]>;
  settings: Record<string, unknown>;
  status: string;
  recipients: number;
  created_by: string;
  created_at: string;
  approved_by: string | null;
  approved_at: string | null;
  finished_at: string | null;
};
export type DeliveryState = "queued" | "sending" | "sent" | "failed" | "bounced" | "suppressed";
export type Delivery = {
  ordinal: number;
  email: string;
  name: string | null;
  locale: string | null;
  state: DeliveryState;
  attempts: number;
  reply: string | null;
  message_id: string;
  sent_at: string | null;
  updated_at: string;
};
export type Preview = {
  from: string;
  to: string;
  subject: string;
  message_id: string;
  locale: string;
  text: string;
  html: string;
};

export type ApiToken = {
  id: string;
  name: string;
  prefix: string;
  user_id: string;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  revoked: boolean;
};
export type AuditCheck = {
  ok: boolean;
  events: number;
  head: { seq: number; hash: string } | null;
  problems: { seq: number; problem: string }[];
};

/** Datasets and blast radius pages. */
export type Category = { key: string; label: string };
export type DatasetField = {
  name: string;
  /** how many of the sampled records carry it */
  seen: number;
  /** masked sample values */
  samples: string[];
  category: string | null;
  roles: string[];
};
export type DatasetFields = {
  format: { label: string; container: string; kind: string; gzip: boolean };
  sampled_records: number;
  fields: DatasetField[];
  unmapped: string[];
};
export type QuarantinedRow = {
  file: string;
  line: number | null;
  row: number | null;
  reason: string;
  /** the row's first 2,000 characters; null when not kept */
  raw: string | null;
};
