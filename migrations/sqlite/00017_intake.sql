-- +goose Up
-- Intake (issue 7). A report about a host the provider does not serve is kept
-- with its receipt but opens no case, and a repeat of a report (same reporter,
-- same URL, within the window) is linked to the original instead of counted:
-- reports.case_id becomes nullable, with the report's own status beside it.
-- SQLite cannot drop NOT NULL, so the table is rebuilt. notices references
-- reports: with foreign keys deferred, dropping the old table leaves notices
-- pointing nowhere until the same ids are inserted into the new one, before commit.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE reports_copy AS SELECT * FROM reports;
DROP TABLE reports;
CREATE TABLE reports (
    id           INTEGER PRIMARY KEY,
    public_id    TEXT NOT NULL UNIQUE,          -- the receipt id the reporter sees
    case_id      BIGINT REFERENCES cases (id),  -- NULL: not hosted here, or a duplicate
    reporter_id  BIGINT NOT NULL REFERENCES reporters (id),
    channel      TEXT NOT NULL CHECK (channel IN ('web', 'api', 'email')),
    category     TEXT NOT NULL,
    url          TEXT NOT NULL,
    host         TEXT NOT NULL,
    site_id      BIGINT REFERENCES sites (id),
    description  TEXT NOT NULL,
    good_faith   BOOLEAN NOT NULL,
    received_at  DATETIME NOT NULL,
    reporter_key TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL DEFAULT 'filed', -- filed, not_hosted, duplicate
    duplicate_of BIGINT REFERENCES reports (id)
);
INSERT INTO reports (id, public_id, case_id, reporter_id, channel, category, url, host, site_id, description, good_faith, received_at, reporter_key)
    SELECT id, public_id, case_id, reporter_id, channel, category, url, host, site_id, description, good_faith, received_at, reporter_key FROM reports_copy;
DROP TABLE reports_copy;
CREATE INDEX reports_case_idx ON reports (case_id, received_at);
CREATE INDEX reports_host_idx ON reports (host);
CREATE INDEX reports_case_reporter_idx ON reports (case_id, reporter_key);
CREATE INDEX reports_reporter_idx ON reports (reporter_id);
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
PRAGMA defer_foreign_keys = ON;
UPDATE notices SET report_id = NULL WHERE report_id IN (SELECT id FROM reports WHERE case_id IS NULL);
CREATE TABLE reports_copy AS SELECT * FROM reports WHERE case_id IS NOT NULL;
DROP TABLE reports;
CREATE TABLE reports (
    id          INTEGER PRIMARY KEY,
    public_id   TEXT NOT NULL UNIQUE,
    case_id     BIGINT NOT NULL REFERENCES cases (id),
    reporter_id BIGINT NOT NULL REFERENCES reporters (id),
    channel     TEXT NOT NULL CHECK (channel IN ('web', 'api', 'email')),
    category    TEXT NOT NULL,
    url         TEXT NOT NULL,
    host        TEXT NOT NULL,
    site_id     BIGINT REFERENCES sites (id),
    description TEXT NOT NULL,
    good_faith  BOOLEAN NOT NULL,
    received_at DATETIME NOT NULL,
    reporter_key TEXT NOT NULL DEFAULT ''
);
INSERT INTO reports (id, public_id, case_id, reporter_id, channel, category, url, host, site_id, description, good_faith, received_at, reporter_key)
    SELECT id, public_id, case_id, reporter_id, channel, category, url, host, site_id, description, good_faith, received_at, reporter_key FROM reports_copy;
DROP TABLE reports_copy;
CREATE INDEX reports_case_idx ON reports (case_id, received_at);
CREATE INDEX reports_host_idx ON reports (host);
CREATE INDEX reports_case_reporter_idx ON reports (case_id, reporter_key);
CREATE INDEX reports_reporter_idx ON reports (reporter_id);
