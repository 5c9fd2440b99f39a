-- +goose Up
-- The hardened public form (issue 7): category-specific details and the
-- submission a report came in with (one form, several URLs), evidence files,
-- the proof-of-work challenges already spent, and the form's HMAC key.
ALTER TABLE reports ADD COLUMN details TEXT NOT NULL DEFAULT '';
ALTER TABLE reports ADD COLUMN submission_id TEXT NOT NULL DEFAULT '';
CREATE INDEX reports_submission_idx ON reports (submission_id) WHERE submission_id <> '';

-- One row per file per report. The blob itself is stored once, under its
-- SHA-256 (blob_key), in the evidence bucket.
CREATE TABLE evidence (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id     INTEGER NOT NULL REFERENCES reports (id),
    sha256        TEXT NOT NULL,
    size          INTEGER NOT NULL,
    content_type  TEXT NOT NULL,               -- sniffed from the bytes, never the client's
    original_name TEXT NOT NULL,               -- sanitized
    blob_key      TEXT NOT NULL,
    created_at    DATETIME NOT NULL
);
CREATE INDEX evidence_report_idx ON evidence (report_id);

-- A challenge id is spent once; rows are pruned after the challenge would have
-- expired anyway.
CREATE TABLE form_challenges_spent (
    id         TEXT PRIMARY KEY,
    expires_at DATETIME NOT NULL
);
CREATE INDEX form_challenges_spent_expiry_idx ON form_challenges_spent (expires_at);


-- +goose Down
DROP TABLE form_challenges_spent;
DROP TABLE evidence;
DROP INDEX reports_submission_idx;
ALTER TABLE reports DROP COLUMN submission_id;
ALTER TABLE reports DROP COLUMN details;
