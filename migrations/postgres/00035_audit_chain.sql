-- +goose Up
-- The audit log as a hash chain (issue 9): every event carries its place in the
-- chain (seq), the previous event's hash and its own, written by audit.Record in
-- the caller's transaction. The columns are nullable only for rows older than
-- this migration; audit.ChainLegacy (run after migrating) chains those once, in
-- id order, and from then on a row without a hash is evidence of tampering.
ALTER TABLE audit_events ADD COLUMN seq BIGINT;
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
    seq          BIGINT NOT NULL,
    hash         TEXT NOT NULL,
    legacy_until BIGINT NOT NULL
);
INSERT INTO audit_chain (log, seq, hash, legacy_until)
    SELECT 'audit_events', 0, '', COALESCE(MAX(id), 0) FROM audit_events;

-- On PostgreSQL an event is chained when its transaction commits, not when it
-- is inserted: Record inserts it with seq = -1 and this deferred trigger takes
-- the head's row lock at COMMIT, gives the transaction's rows their seq,
-- prev_hash and hash (the same encoding as audit.HashEvent), in id order, and
-- moves the head once. Taking the head lock
-- at insert time instead would hold it while the rest of the transaction locks
-- cases, and two transactions locking the same rows in the other order would
-- deadlock; at commit the only lock left to take is the head's. A row
-- inserted by hand without seq = -1 is not chained, and Verify reports it.
-- +goose StatementBegin
CREATE FUNCTION audit_chain_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    h_seq  BIGINT;
    h_hash TEXT;
    h_leg  BIGINT;
    r      RECORD;
    ids    BIGINT[] := '{}';
    seqs   BIGINT[] := '{}';
    prevs  TEXT[] := '{}';
    hashes TEXT[] := '{}';
BEGIN
    -- The first firing in a commit chains every row the transaction wrote;
    -- the firings for the others find their row done and return.
    PERFORM 1 FROM audit_events WHERE id = NEW.id AND seq = -1;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT seq, hash, legacy_until INTO h_seq, h_hash, h_leg FROM audit_chain WHERE log = 'audit_events' FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'audit chain head missing (run: docket migrate up)';
    END IF;
    IF h_leg > 0 THEN
        RAISE EXCEPTION 'audit events from before the chain are not chained yet (run: docket migrate up)';
    END IF;
    -- Rows with seq = -1 visible here are this transaction's: others' are
    -- either uncommitted (invisible) or were chained when they committed.
    -- Each field is its 8-byte big-endian length, then its UTF-8 bytes, as in
    -- HashEvent; written out inline, since a function call per field costs
    -- more than the hash. 0x15 is the length of the version string.
    FOR r IN SELECT id, id::TEXT AS id_t, convert_to(to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '000Z', 'UTF8') AS at_b,
                    convert_to(actor, 'UTF8') AS actor_b, convert_to(action, 'UTF8') AS action_b,
                    convert_to(object_type, 'UTF8') AS type_b, convert_to(object_id, 'UTF8') AS oid_b, convert_to(details, 'UTF8') AS details_b
             FROM audit_events WHERE seq = -1 AND (seq IS NULL OR seq <= 0) ORDER BY id LOOP
        h_seq := h_seq + 1;
        ids := ids || r.id;
        seqs := seqs || h_seq;
        prevs := prevs || h_hash;
        h_hash := encode(sha256(
            '\x0000000000000015'::BYTEA || convert_to('docket-audit-event-v1', 'UTF8') ||
            int8send(octet_length(h_hash)::BIGINT) || convert_to(h_hash, 'UTF8') ||
            int8send(octet_length(r.id_t)::BIGINT) || convert_to(r.id_t, 'UTF8') ||
            int8send(octet_length(h_seq::TEXT)::BIGINT) || convert_to(h_seq::TEXT, 'UTF8') ||
            int8send(length(r.at_b)::BIGINT) || r.at_b ||
            int8send(length(r.actor_b)::BIGINT) || r.actor_b ||
            int8send(length(r.action_b)::BIGINT) || r.action_b ||
            int8send(length(r.type_b)::BIGINT) || r.type_b ||
            int8send(length(r.oid_b)::BIGINT) || r.oid_b ||
            int8send(length(r.details_b)::BIGINT) || r.details_b), 'hex');
        hashes := hashes || h_hash;
    END LOOP;
    UPDATE audit_events e SET seq = u.seq, prev_hash = u.prev, hash = u.hash
        FROM unnest(ids, seqs, prevs, hashes) AS u(id, seq, prev, hash) WHERE e.id = u.id;
    UPDATE audit_chain SET seq = h_seq, hash = h_hash WHERE log = 'audit_events';
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE CONSTRAINT TRIGGER audit_events_chain AFTER INSERT ON audit_events
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.seq = -1) EXECUTE FUNCTION audit_chain_link();

-- Signed checkpoints: (log, seq, hash) at a time, signed with Docket's ed25519
-- audit key. Copied elsewhere (exports), they anchor the chain outside the
-- database: a chain recomputed after an edit no longer matches them.
CREATE TABLE audit_checkpoints (
    id        BIGSERIAL PRIMARY KEY,
    log       TEXT NOT NULL,
    seq       BIGINT NOT NULL,
    hash      TEXT NOT NULL,
    at        TIMESTAMPTZ NOT NULL,
    key_id    TEXT NOT NULL,               -- hex SHA-256 of the public key, first 16 bytes
    signature TEXT NOT NULL                -- hex ed25519 signature
);
CREATE INDEX audit_checkpoints_log_seq_idx ON audit_checkpoints (log, seq);

-- Results of `docket audit verify` and of the page's Verify button, so the
-- auditor's page shows the last result without walking the chain per view.
CREATE TABLE audit_verifications (
    id          BIGSERIAL PRIMARY KEY,
    log         TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    actor       TEXT NOT NULL,             -- user:<id> or system
    ok          BOOLEAN NOT NULL,
    events      BIGINT NOT NULL,
    head_seq    BIGINT NOT NULL,
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
DROP TRIGGER audit_events_chain ON audit_events;
DROP FUNCTION audit_chain_link();
DROP INDEX audit_events_unchained_idx;
DROP INDEX audit_events_seq_idx;
ALTER TABLE audit_events DROP COLUMN hash;
ALTER TABLE audit_events DROP COLUMN prev_hash;
ALTER TABLE audit_events DROP COLUMN seq;
