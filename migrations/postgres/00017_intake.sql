-- +goose Up
-- Intake (issue 7). A report about a host the provider does not serve is kept
-- with its receipt but opens no case, and a repeat of a report (same reporter,
-- same URL, within the window) is linked to the original instead of counted.
ALTER TABLE reports ALTER COLUMN case_id DROP NOT NULL;  -- NULL: not hosted here, or a duplicate
ALTER TABLE reports ADD COLUMN status TEXT NOT NULL DEFAULT 'filed'; -- filed, not_hosted, duplicate
ALTER TABLE reports ADD COLUMN duplicate_of BIGINT REFERENCES reports (id);
-- Deduplication looks up the reporter's recent reports about the same host.
CREATE INDEX reports_dedup_idx ON reports (reporter_key, host, received_at);

-- Customers synced from billing (`docket import sites`) carry billing's id.
ALTER TABLE customers ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX customers_external_id_idx ON customers (external_id);

-- Rate limits shared by every instance (GCRA): the theoretical arrival time of
-- the next request per key, in Unix microseconds.
CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    tat BIGINT NOT NULL
);

-- +goose Down
DROP TABLE rate_limits;
DROP INDEX customers_external_id_idx;
ALTER TABLE customers DROP COLUMN external_id;
DROP INDEX reports_dedup_idx;
UPDATE notices SET report_id = NULL WHERE report_id IN (SELECT id FROM reports WHERE case_id IS NULL);
DELETE FROM reports WHERE case_id IS NULL;
ALTER TABLE reports DROP COLUMN duplicate_of;
ALTER TABLE reports DROP COLUMN status;
ALTER TABLE reports ALTER COLUMN case_id SET NOT NULL;
