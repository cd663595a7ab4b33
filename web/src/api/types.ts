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

export type RiskTier = "low" | "medium" | "high" | "critical";
export type VendorFlow = {
  id: string;
  category: string;
  /** null: every surface */
  surface: "web" | "server" | "batch" | null;
  fields: string[];
  declared: boolean;
  /** seen: declared and seen by the latest attached scan; declared: not seen by it; undeclared: seen, not declared */
  state: "declared" | "seen" | "undeclared";
  last_seen_at: string | null;
  last_seen_scan_id: string | null;
};
export type Vendor = {
  id: string;
  name: string;
  description: string | null;
  website: string | null;
  catalogue_id: string | null;
  domains: string[];
  purposes: string[];
  /** ISO 3166-1 alpha-2 */
  processing_locations: string[];
  sub_processors: { name: string; purpose?: string; location?: string }[];
  contract_ref: string | null;
  dpa_ref: string | null;
  certifications: string[];
  incident_contact: string | null;
  breach_notice_hours: number | null;
  access: "receives" | "reads" | "writes" | "admin" | null;
  people_count: number | null;
  /** the tier the vendor is held to: the override when set, else the computed one */
  risk_tier: RiskTier | null;
  /** PATCH risk_tier sets this; null clears it */
  risk_tier_override: RiskTier | null;
  risk_reason: string | null;
  requirement_set: string | null;
  owner_id: string | null;
  owner_email: string | null;
  owner_name: string | null;
  review_interval_days: number | null;
  /** YYYY-MM-DD */
  next_review_at: string | null;
  last_reviewed_at: string | null;
  status: "active" | "under_review" | "offboarding" | "offboarded";
  offboarding_started_at: string | null;
  notes: string | null;
  created_at: string;
  updated_at: string;
  flows: VendorFlow[];
};
export type VendorAccess = NonNullable<Vendor["access"]>;
export type VendorStatus = Vendor["status"];
export type SubProcessor = Vendor["sub_processors"][number];
/** POST /vendors/import (also a dry run: the same, rolled back). */
export type VendorImportResult = {
  dry_run: boolean;
  created: number;
  updated: number;
  unchanged: number;
  vendors: { name: string; id: string; action: "created" | "updated" | "unchanged"; fields: string[] }[];
  warnings: string[];
};
/** POST /vendors/scans: the inventory vendors the scan met, and those it met that the inventory lacks. */
export type VendorScanAttached = {
  scan: { id: string; scanned_at: string; urls: string[] };
  vendors: { id: string; name: string; seen: number; undeclared: number }[];
  unknown_vendors: { vendor: string; vendor_id: string; hosts: string[]; categories: string[] }[];
};
/** GET /vendors/scans and /vendors/:id/scans (the latter with sees_vendor). */
export type VendorScan = {
  id: string;
  scanned_at: string;
  urls: string[];
  attached_by: string | null;
  created_at: string;
  flows_seen: number;
  third_party_hosts: number;
  sees_vendor?: boolean;
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

/** Ecosystem review and offboarding (requirement sets, questionnaires, findings, reviews, dashboard). */
export type Severity = "low" | "medium" | "high" | "critical";
export type Requirement = {
  id: string;
  title: string;
  question: string;
  why: string;
  /** the set whose file defines it (an inherited requirement names the extended set) */
  from: string;
};
export type RequirementSet = {
  name: string;
  title: string;
  description: string;
  finding_severity: Severity;
  extends: string | null;
  requirements: Requirement[];
};
export type AssignedRequirementSet = {
  vendor_id: string;
  requirement_set: string | null;
  previous: string | null;
};
export type BulkAssignResult = { assigned: number; vendors: string[]; unchanged: number };

export type AnswerValue = "yes" | "no" | "partial" | "not_applicable";
export type QuestionnaireAnswer = { answer: AnswerValue; comment: string | null };
export type QuestionnaireEvidence = {
  id: string;
  requirement_id: string;
  name: string;
  content_type: string | null;
  bytes: number;
  sha256: string;
  created_at: string;
};
export type QuestionnaireStatus = "sent" | "submitted" | "revoked" | "expired";
export type Questionnaire = {
  id: string;
  vendor_id: string;
  requirement_set: string;
  status: QuestionnaireStatus;
  recipient: string | null;
  respondent: string | null;
  expires_at: string;
  created_at: string;
  created_by: string | null;
  submitted_at: string | null;
  answers: Record<string, QuestionnaireAnswer> | null;
  evidence: QuestionnaireEvidence[];
};
/** POST /vendors/:id/questionnaires: `link` (a path on this server) holds the token, shown this once. */
export type QuestionnaireSent = { questionnaire: Questionnaire; link: string; token: string };
/** GET /questionnaires/:token, the page the vendor fills in without an account. */
export type PublicQuestionnaire = {
  vendor: string;
  set: { name: string; title: string; description: string };
  requirements: { id: string; title: string; question: string; why: string }[];
  status: "sent" | "submitted";
  expires_at: string;
  respondent: string | null;
  submitted_at: string | null;
  answers: Record<string, QuestionnaireAnswer> | null;
  evidence: { id: string; requirement_id: string; name: string; bytes: number; created_at: string }[];
  max_evidence_bytes: number;
};
export type QuestionnaireSubmitted = PublicQuestionnaire & { findings_opened: number };

export type FindingOwner = { id: string; email: string; display_name: string | null };
export type VendorFinding = {
  id: string;
  vendor_id: string;
  vendor_name: string;
  questionnaire_id: string | null;
  requirement_id: string | null;
  title: string;
  severity: Severity;
  owner: FindingOwner | null;
  /** YYYY-MM-DD */
  due_at: string | null;
  status: "open" | "closed";
  note: string | null;
  created_at: string;
  closed_at: string | null;
  overdue: boolean;
};
export type CompletedReview = {
  vendor_id: string;
  last_reviewed_at: string;
  next_review_at: string;
  review_interval_days: number;
};

export type OffboardingStepName =
  | "integration_removed"
  | "keys_revoked"
  | "deletion_requested"
  | "deletion_certificate"
  | "contract_ended";
export type OffboardingStep = {
  step: OffboardingStepName;
  done: boolean;
  done_at: string | null;
  done_by: string | null;
  done_by_label: string | null;
  note: string | null;
  /** integration_removed: the attached scan that no longer sees the vendor */
  scan_id: string | null;
};
export type Offboarding = {
  vendor_id: string;
  name: string;
  status: string;
  started_at: string | null;
  steps: OffboardingStep[];
  done_steps: number;
  total_steps: number;
};

export type TierCounts = {
  total: number;
  /** a review on record whose next date has not passed */
  reviewed: number;
  due_soon: number;
  overdue: number;
  never_reviewed: number;
};
export type VendorDashboard = {
  as_of: string;
  due_soon_days: number;
  by_tier: Record<RiskTier | "unrated", TierCounts>;
  overdue_reviews: {
    vendor_id: string;
    name: string;
    risk_tier: string | null;
    next_review_at: string;
    owner: FindingOwner | null;
  }[];
  open_findings: {
    total: number;
    overdue: number;
    by_severity: Record<Severity, number>;
    items: VendorFinding[];
  };
  offboarding: {
    vendor_id: string;
    name: string;
    started_at: string | null;
    done_steps: number;
    total_steps: number;
  }[];
};
