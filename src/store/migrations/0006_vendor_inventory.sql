-- The vendor inventory and the work around it (capabilities C1 and C9): what each vendor receives,
-- by category, field and surface; where and under which terms it processes; its computed risk tier;
-- the requirement set it must meet, questionnaires it answers through a token link, findings with
-- owners and due dates, recurring reviews; and the offboarding checklist.

ALTER TABLE vendors ADD COLUMN description text;
-- the scanner catalogue's id (src/scan/catalogue/vendors.yaml), to match scan results
ALTER TABLE vendors ADD COLUMN catalogue_id text;
ALTER TABLE vendors ADD COLUMN domains jsonb NOT NULL DEFAULT '[]';
ALTER TABLE vendors ADD COLUMN purposes jsonb NOT NULL DEFAULT '[]';
-- ISO 3166-1 alpha-2 country codes
ALTER TABLE vendors ADD COLUMN processing_locations jsonb NOT NULL DEFAULT '[]';
-- [{name, purpose, location}]
ALTER TABLE vendors ADD COLUMN sub_processors jsonb NOT NULL DEFAULT '[]';
ALTER TABLE vendors ADD COLUMN contract_ref text;
ALTER TABLE vendors ADD COLUMN dpa_ref text;
ALTER TABLE vendors ADD COLUMN certifications jsonb NOT NULL DEFAULT '[]';
ALTER TABLE vendors ADD COLUMN incident_contact text;
-- the contractual time within which the vendor must tell us of a breach
ALTER TABLE vendors ADD COLUMN breach_notice_hours integer CHECK (breach_notice_hours > 0);
-- what the vendor can do with our systems and data: receives what we send, reads from our systems,
-- writes to them, or administers them
ALTER TABLE vendors ADD COLUMN access text CHECK (access IN ('receives', 'reads', 'writes', 'admin'));
-- how many people's data the vendor holds (an estimate)
ALTER TABLE vendors ADD COLUMN people_count bigint CHECK (people_count >= 0);
-- risk_tier (from 0001) now holds the computed tier, or the override when one is set
ALTER TABLE vendors ADD COLUMN risk_tier_override text CHECK (risk_tier_override IN ('low', 'medium', 'high', 'critical'));
ALTER TABLE vendors ADD COLUMN risk_reason text;
-- the requirement set the vendor must meet (src/vendors/requirements/<name>.yaml)
ALTER TABLE vendors ADD COLUMN requirement_set text;
ALTER TABLE vendors ADD COLUMN owner_id uuid REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE vendors ADD COLUMN review_interval_days integer CHECK (review_interval_days > 0);
ALTER TABLE vendors ADD COLUMN next_review_at date;
ALTER TABLE vendors ADD COLUMN last_reviewed_at timestamptz;
ALTER TABLE vendors ADD COLUMN review_reminded_at timestamptz;
ALTER TABLE vendors ADD COLUMN offboarding_started_at timestamptz;

-- What a vendor receives: declared in the inventory, seen by the scanner, or both.
CREATE TABLE vendor_flows (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  vendor_id uuid NOT NULL REFERENCES vendors (id) ON DELETE CASCADE,
  category text NOT NULL,
  -- NULL: every surface (a Fides declaration, say, does not tell them apart)
  surface text CHECK (surface IN ('web', 'server', 'batch')),
  fields jsonb NOT NULL DEFAULT '[]',
  declared boolean NOT NULL DEFAULT true,
  last_seen_at timestamptz,
  last_seen_scan_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE NULLS NOT DISTINCT (vendor_id, category, surface)
);

-- A scanner run attached to the inventory: its summary (flows, third-party hosts), never the HAR.
CREATE TABLE vendor_scans (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  scanned_at timestamptz NOT NULL,
  urls jsonb NOT NULL,
  summary jsonb NOT NULL,
  attached_by uuid REFERENCES users (id) ON DELETE SET NULL,
  attached_by_label text,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE vendor_questionnaires (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  vendor_id uuid NOT NULL REFERENCES vendors (id) ON DELETE CASCADE,
  requirement_set text NOT NULL,
  -- the link's token is shown once; only its SHA-256 is kept
  token_hash text NOT NULL UNIQUE,
  expires_at timestamptz NOT NULL,
  status text NOT NULL DEFAULT 'sent' CHECK (status IN ('sent', 'submitted', 'revoked')),
  recipient text,
  -- {requirement_id: {answer: yes|no|partial|not_applicable, comment}}
  answers jsonb,
  respondent text,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  submitted_at timestamptz
);
CREATE INDEX vendor_questionnaires_vendor ON vendor_questionnaires (vendor_id, created_at);

-- Files a vendor attaches to its answers, sealed like every file that may hold personal data.
CREATE TABLE vendor_evidence (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  questionnaire_id uuid NOT NULL REFERENCES vendor_questionnaires (id) ON DELETE CASCADE,
  requirement_id text NOT NULL,
  name text NOT NULL,
  content_type text,
  bytes integer NOT NULL,
  sha256 text NOT NULL,
  sealed bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE vendor_findings (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  vendor_id uuid NOT NULL REFERENCES vendors (id) ON DELETE CASCADE,
  questionnaire_id uuid REFERENCES vendor_questionnaires (id) ON DELETE SET NULL,
  requirement_id text,
  title text NOT NULL,
  severity text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  owner_id uuid REFERENCES users (id) ON DELETE SET NULL,
  due_at date,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
  note text,
  created_at timestamptz NOT NULL DEFAULT now(),
  closed_at timestamptz
);
CREATE INDEX vendor_findings_open ON vendor_findings (vendor_id, status, due_at);

CREATE TABLE vendor_offboarding_steps (
  vendor_id uuid NOT NULL REFERENCES vendors (id) ON DELETE CASCADE,
  step text NOT NULL CHECK (step IN ('integration_removed', 'keys_revoked', 'deletion_requested', 'deletion_certificate', 'contract_ended')),
  done_at timestamptz NOT NULL DEFAULT now(),
  done_by uuid REFERENCES users (id) ON DELETE SET NULL,
  done_by_label text,
  note text,
  -- for integration_removed: the scan that no longer sees the vendor
  scan_id uuid REFERENCES vendor_scans (id),
  PRIMARY KEY (vendor_id, step)
);
