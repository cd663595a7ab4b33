-- Notification campaigns and their delivery ledger: one row per recipient, so a campaign can be
-- resumed after any crash without skipping anyone.

CREATE TABLE campaigns (
  id text PRIMARY KEY,
  -- null for a campaign sent from an analysis folder by the CLI
  incident_id uuid REFERENCES incidents (id) ON DELETE CASCADE,
  run_id uuid REFERENCES analysis_runs (id) ON DELETE SET NULL,
  -- where the recipients came from: an analysis folder's absolute path, or run:<id>
  source text NOT NULL,
  audience text NOT NULL CHECK (audience IN ('users', 'admins')),
  filters jsonb NOT NULL DEFAULT '{}',
  -- from address, notice settings (vendor, dates, not exposed, sender domains, contact, locales)
  settings jsonb NOT NULL,
  -- a random token in every Message-ID, so a campaign made again under the same id never reuses one
  nonce text NOT NULL,
  status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'approved', 'sending', 'done')),
  recipients integer NOT NULL DEFAULT 0,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  approved_by text,
  approved_at timestamptz,
  -- one sender at a time: whoever holds an unexpired lease
  sender text,
  sender_until timestamptz,
  finished_at timestamptz
);

CREATE INDEX campaigns_incident ON campaigns (incident_id);

CREATE TABLE deliveries (
  campaign_id text NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  ordinal integer NOT NULL,
  -- keyed hash of the lower-cased address: suppression and bounce lookups without the address
  email_hash text NOT NULL,
  -- sealed JSON of the recipient (address, name, language, categories, organisations)
  recipient bytea NOT NULL,
  message_id text NOT NULL UNIQUE,
  state text NOT NULL DEFAULT 'queued'
    CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'bounced', 'suppressed')),
  attempts integer NOT NULL DEFAULT 0,
  -- sealed: SMTP replies often quote the address
  reply bytea,
  next_attempt_at timestamptz,
  queued_at timestamptz NOT NULL DEFAULT now(),
  sending_at timestamptz,
  sent_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (campaign_id, ordinal)
) WITH (fillfactor = 50);
-- Every message updates its row twice (claimed, then its outcome). No index covers a column those
-- updates change, and pages keep room, so both are heap-only (HOT) updates that touch no index:
-- the sender finds due rows by walking the primary key from a cursor instead of by state.

CREATE INDEX deliveries_email ON deliveries (email_hash);

CREATE TABLE suppressions (
  email_hash text PRIMARY KEY,
  reason text NOT NULL,
  campaign_id text,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- The built-in transport: messages kept in the store (sealed) instead of sent.
CREATE TABLE outbox (
  campaign_id text NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  ordinal integer NOT NULL,
  message_id text NOT NULL,
  message bytea NOT NULL,
  stored_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (campaign_id, ordinal)
);
