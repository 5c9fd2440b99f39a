-- +goose Up
-- The audit log as a hash chain (issue 9): every event carries its place in the
-- chain (seq), the previous event's hash and its own, written by audit.Record in
-- the caller's transaction. The columns are nullable only for rows older than
-- this migration; audit.ChainLegacy (run after migrating) chains those once, in
-- id order, and from then on a row without a hash is evidence of tampering.
ALTER TABLE audit_events ADD COLUMN seq INTEGER;
ALTER TABLE audit_events ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_events ADD COLUMN hash TEXT;
-- Partial: on PostgreSQL a row carries seq = -1 until its transaction commits
-- (see the trigger below); queries by seq say "seq > 0" so the index serves them.
CREATE UNIQUE INDEX audit_events_seq_idx ON audit_events (seq) WHERE seq > 0;
-- Rows outside the chain; empty unless someone inserted one by hand, so the
-- check for them costs nothing.
CREATE INDEX audit_events_unchained_idx ON audit_events (id) WHERE seq IS NULL OR seq <= 0;

-- The head of each chain: its last seq and hash. Record updates this row first,
-- which serializes the writers of a chain (a row lock on PostgreSQL; SQLite
-- has one writer anyway). legacy_until is the largest id that existed before
-- the chain did; ChainLegacy sets it to 0 once those rows are chained.
CREATE TABLE audit_chain (
    log          TEXT PRIMARY KEY,
    seq          INTEGER NOT NULL,
    hash         TEXT NOT NULL,
    legacy_until INTEGER NOT NULL
);
INSERT INTO audit_chain (log, seq, hash, legacy_until)
    SELECT 'audit_events', 0, '', COALESCE(MAX(id), 0) FROM audit_events;

-- Signed checkpoints: (log, seq, hash) at a time, signed with Docket's ed25519
-- audit key. Copied elsewhere (exports), they anchor the chain outside the
-- database: a chain recomputed after an edit no longer matches them.
CREATE TABLE audit_checkpoints (
    id        INTEGER PRIMARY KEY,
    log       TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    hash      TEXT NOT NULL,
    at        DATETIME NOT NULL,
    key_id    TEXT NOT NULL,               -- hex SHA-256 of the public key, first 16 bytes
    signature TEXT NOT NULL                -- hex ed25519 signature
);
CREATE INDEX audit_checkpoints_log_seq_idx ON audit_checkpoints (log, seq);

-- Results of `docket audit verify` and of the page's Verify button, so the
-- auditor's page shows the last result without walking the chain per view.
CREATE TABLE audit_verifications (
    id          INTEGER PRIMARY KEY,
    log         TEXT NOT NULL,
    at          DATETIME NOT NULL,
    actor       TEXT NOT NULL,             -- user:<id> or system
    ok          BOOLEAN NOT NULL,
    events      INTEGER NOT NULL,
    head_seq    INTEGER NOT NULL,
    checkpoints INTEGER NOT NULL,
    problem     TEXT NOT NULL DEFAULT '',
    took_ms     INTEGER NOT NULL
);
CREATE INDEX audit_verifications_log_idx ON audit_verifications (log, id);

-- The chain page: auditors and admins read it, run a verification and download
-- the export; nobody edits anything there.
INSERT INTO casbin_rule (ptype, v0, v1, v2) VALUES
    ('p', 'auditor', '/audit/chain', 'GET'),
    ('p', 'admin', '/audit/chain', 'GET'),
    ('p', 'auditor', '/audit/chain/verify', 'POST'),
    ('p', 'admin', '/audit/chain/verify', 'POST'),
    ('p', 'auditor', '/audit/chain/export.jsonl', 'GET'),
    ('p', 'admin', '/audit/chain/export.jsonl', 'GET');

-- +goose Down
DELETE FROM casbin_rule WHERE ptype = 'p' AND (v1 = '/audit/chain' OR v1 LIKE '/audit/chain/%');
DROP TABLE audit_verifications;
DROP TABLE audit_checkpoints;
DROP TABLE audit_chain;
DROP INDEX audit_events_unchained_idx;
DROP INDEX audit_events_seq_idx;
ALTER TABLE audit_events DROP COLUMN hash;
ALTER TABLE audit_events DROP COLUMN prev_hash;
ALTER TABLE audit_events DROP COLUMN seq;
