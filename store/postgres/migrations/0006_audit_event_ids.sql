-- The rollout and event a decision record was written from, as numbers,
-- so catching up after a crash reads them instead of parsing the record's
-- target text. Records written before stay 0 (and keep their v1 hash).
ALTER TABLE audit_log ADD COLUMN rollout_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE audit_log ADD COLUMN event_id BIGINT NOT NULL DEFAULT 0;
