-- Notices filed: which regime's notice went to which audience, when, under what reference, with the
-- proof (a receipt, a screenshot, the submitted form) sealed like every other file that may hold
-- personal data. The retention purge empties evidence_sealed and keeps the rest as the record.

CREATE TABLE filings (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  incident_id uuid NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  regime text NOT NULL,
  -- the audiences of the rule files: regulator, individuals or other
  audience text NOT NULL,
  filed_at timestamptz NOT NULL,
  reference text,
  note text,
  evidence_name text,
  -- AES-256-GCM sealed file, at most 10 MiB before sealing; NULL once purged
  evidence_sealed bytea,
  evidence_sha256 text,
  evidence_bytes integer,
  filed_by uuid REFERENCES users (id),
  filed_by_label text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX filings_incident ON filings (incident_id, regime, audience, filed_at);
