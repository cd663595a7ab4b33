-- The incident workspace's first schema. Runs unchanged on PGlite (PostgreSQL 18) and on PostgreSQL 15+.

CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email text NOT NULL UNIQUE,
  display_name text,
  role text NOT NULL CHECK (role IN ('admin', 'responder', 'analyst', 'viewer')),
  password_hash text,
  totp_secret bytea,
  created_at timestamptz NOT NULL DEFAULT now(),
  disabled_at timestamptz
);

CREATE TABLE sessions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);

CREATE TABLE api_tokens (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name text NOT NULL,
  token_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  expires_at timestamptz,
  revoked_at timestamptz
);

CREATE TABLE vendors (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL UNIQUE,
  website text,
  risk_tier text CHECK (risk_tier IN ('low', 'medium', 'high', 'critical')),
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'under_review', 'offboarding', 'offboarded')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE incidents (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  title text NOT NULL,
  vendor_id uuid REFERENCES vendors (id),
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'assessing', 'notifying', 'monitoring', 'closed')),
  controller_country char(2),
  retention_days integer NOT NULL DEFAULT 365 CHECK (retention_days > 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  closed_at timestamptz
);

-- Every clock kept apart; each obligation rule says which one starts its deadline.
CREATE TABLE incident_clocks (
  incident_id uuid NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  clock text NOT NULL CHECK (clock IN ('vendor_detected', 'vendor_notified', 'aware', 'dataset_received', 'assessed')),
  at timestamptz NOT NULL,
  set_by uuid REFERENCES users (id),
  set_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (incident_id, clock)
);

CREATE TABLE timeline_entries (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  incident_id uuid NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  at timestamptz NOT NULL,
  kind text NOT NULL,
  body text NOT NULL,
  author_id uuid REFERENCES users (id),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX timeline_entries_incident ON timeline_entries (incident_id, at);

-- The decision log: what was decided, by whom and why (including answers to obligation judgments).
CREATE TABLE decisions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  incident_id uuid NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  subject text NOT NULL,
  decision text NOT NULL,
  rationale text NOT NULL,
  decided_by uuid REFERENCES users (id),
  decided_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE datasets (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  incident_id uuid NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  file_name text NOT NULL,
  stored_path text NOT NULL,
  sha256 char(64) NOT NULL,
  bytes bigint NOT NULL CHECK (bytes >= 0),
  format text,
  mapping jsonb,
  uploaded_by uuid REFERENCES users (id),
  uploaded_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE analysis_runs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  incident_id uuid NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  summary jsonb,
  obligations jsonb,
  error text,
  created_by uuid REFERENCES users (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz
);

-- Results hold personal data: identifying columns are encrypted by the application before storage.
CREATE TABLE affected_people (
  run_id uuid NOT NULL REFERENCES analysis_runs (id) ON DELETE CASCADE,
  person_key_hash text NOT NULL,
  sealed bytea NOT NULL,
  country char(2),
  categories text[] NOT NULL,
  matched_by text NOT NULL,
  records bigint NOT NULL,
  PRIMARY KEY (run_id, person_key_hash)
);

CREATE TABLE affected_orgs (
  run_id uuid NOT NULL REFERENCES analysis_runs (id) ON DELETE CASCADE,
  org_id text NOT NULL,
  sealed bytea NOT NULL,
  affected_members integer NOT NULL,
  PRIMARY KEY (run_id, org_id)
);

-- The durable job queue: workers claim with FOR UPDATE SKIP LOCKED.
CREATE TABLE jobs (
  id bigserial PRIMARY KEY,
  kind text NOT NULL,
  payload jsonb NOT NULL DEFAULT '{}',
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL DEFAULT 5,
  run_after timestamptz NOT NULL DEFAULT now(),
  locked_by text,
  locked_at timestamptz,
  progress jsonb,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_ready ON jobs (run_after) WHERE status = 'queued';

-- Append-only, each event chained to the previous one by hash.
CREATE TABLE audit_events (
  seq bigint PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor text NOT NULL,
  action text NOT NULL,
  subject text,
  detail jsonb NOT NULL DEFAULT '{}',
  prev_hash char(64) NOT NULL,
  hash char(64) NOT NULL UNIQUE
);
