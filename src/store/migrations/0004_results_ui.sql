-- Results as the web UI reads them: the rows an analysis quarantined (their raw excerpt sealed), and
-- lookups and filters over affected people. Emails and user ids are found through keyed hashes, so
-- the identifying values themselves stay only inside `sealed`.

CREATE TABLE quarantined_rows (
  run_id uuid NOT NULL REFERENCES analysis_runs (id) ON DELETE CASCADE,
  -- position in quarantine.jsonl (ordered by file, line, row), from 0
  ordinal integer NOT NULL,
  -- the uploaded file's name
  file text NOT NULL,
  line bigint,
  "row" bigint,
  reason text NOT NULL,
  -- the first 2,000 characters of the row, sealed; null when there is none
  sealed bytea,
  PRIMARY KEY (run_id, ordinal)
);

-- Keyed hashes (HMAC) of `email:` + the trimmed, lower-cased email and of `user_id:` + the user id.
ALTER TABLE affected_people ADD COLUMN email_hash text;
ALTER TABLE affected_people ADD COLUMN user_id_hash text;
CREATE INDEX affected_people_email ON affected_people (run_id, email_hash);
CREATE INDEX affected_people_user ON affected_people (run_id, user_id_hash);
-- A country's people a page at a time, and their count, without reading the run's other people.
CREATE INDEX affected_people_country ON affected_people (run_id, country, ordinal);
