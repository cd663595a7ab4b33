-- The incident workspace proper: accounts with a second factor, dataset lifecycle, runs tied to
-- their job, sealed results, and an audit table that refuses to be changed.

ALTER TABLE users ADD COLUMN totp_enabled_at timestamptz;
ALTER TABLE users ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

ALTER TABLE sessions ADD COLUMN last_seen_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX sessions_user ON sessions (user_id);

ALTER TABLE api_tokens ADD COLUMN prefix text NOT NULL DEFAULT '';
CREATE INDEX api_tokens_user ON api_tokens (user_id);

ALTER TABLE vendors ADD COLUMN notes text;

ALTER TABLE incidents ADD COLUMN description text;
ALTER TABLE incidents ADD COLUMN created_by uuid REFERENCES users (id);
ALTER TABLE incidents ADD COLUMN purged_at timestamptz;

ALTER TABLE decisions ADD COLUMN decided_by_label text;
ALTER TABLE timeline_entries ADD COLUMN author_label text;

-- Files are kept sealed (AES-256-GCM) in the data folder; the hash is of the bytes as uploaded.
ALTER TABLE datasets ADD COLUMN status text NOT NULL DEFAULT 'stored' CHECK (status IN ('uploading', 'stored', 'purged'));
ALTER TABLE datasets ADD COLUMN purged_at timestamptz;
CREATE INDEX datasets_incident ON datasets (incident_id);

ALTER TABLE analysis_runs ADD COLUMN job_id bigint REFERENCES jobs (id);
ALTER TABLE analysis_runs ADD COLUMN dataset_ids uuid[] NOT NULL DEFAULT '{}';
ALTER TABLE analysis_runs ADD COLUMN purged_at timestamptz;
CREATE INDEX analysis_runs_incident ON analysis_runs (incident_id, created_at);

-- Identifying columns (user id, email, name, language, admin emails) live only inside `sealed`.
ALTER TABLE affected_people ADD COLUMN ordinal integer NOT NULL DEFAULT 0;
CREATE INDEX affected_people_page ON affected_people (run_id, ordinal);
ALTER TABLE affected_orgs ADD COLUMN ordinal integer NOT NULL DEFAULT 0;
CREATE INDEX affected_orgs_page ON affected_orgs (run_id, ordinal);

ALTER TABLE jobs ADD COLUMN finished_at timestamptz;
ALTER TABLE jobs ADD COLUMN result jsonb;
CREATE INDEX jobs_running ON jobs (locked_at) WHERE status = 'running';

-- Append-only: the application never changes or removes an event, so the database refuses to.
-- (Someone with rights to drop the trigger can still tamper; `audit verify` catches that.)
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only';
END
$$;
CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
