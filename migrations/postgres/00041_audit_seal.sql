-- +goose Up
-- The audit chain on PostgreSQL is sealed after commit, in batches, instead of
-- by the deferred trigger of 00035 (issue 7's intake target). The trigger took
-- the chain head's row lock inside every audited COMMIT, so audited commits —
-- WAL flush included — happened one at a time across all instances; intake
-- reached 40 % of the raw insert rate. Now audit.RecordAll inserts rows with
-- seq = -1 and returns, and audit_chain_seal, called by every instance's
-- sealer about once a second (and by verify, checkpoint and export), chains
-- the committed pending rows in id order under the head's lock, one
-- transaction per batch. A pending row is not evidence of tampering while it
-- is young; stored_at says how young (audit.PendingGrace).
DROP TRIGGER audit_events_chain ON audit_events;
DROP FUNCTION audit_chain_link();
-- now() is stable, so this is a catalogue change, not a table rewrite; rows
-- already there get the migration's time, and are all chained anyway.
ALTER TABLE audit_events ADD COLUMN stored_at TIMESTAMPTZ NOT NULL DEFAULT now();
-- Then the insert's own clock rather than its transaction's start, which is
-- closer to when the row became visible for a transaction that ran long.
ALTER TABLE audit_events ALTER COLUMN stored_at SET DEFAULT clock_timestamp();

-- +goose StatementBegin
CREATE FUNCTION audit_chain_seal(max_rows INTEGER) RETURNS INTEGER LANGUAGE plpgsql AS $$
DECLARE
    h_seq  BIGINT;
    h_hash TEXT;
    h_leg  BIGINT;
    n      INTEGER := 0;
    r      RECORD;
    ids    BIGINT[] := '{}';
    seqs   BIGINT[] := '{}';
    prevs  TEXT[] := '{}';
    hashes TEXT[] := '{}';
BEGIN
    -- Sealers on several instances take turns here. Each statement below reads
    -- a fresh snapshot (READ COMMITTED), so after the wait a sealer sees the
    -- rows the one before it sealed as sealed.
    SELECT seq, hash, legacy_until INTO h_seq, h_hash, h_leg FROM audit_chain WHERE log = 'audit_events' FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'audit chain head missing (run: docket migrate up)';
    END IF;
    IF h_leg > 0 THEN
        RAISE EXCEPTION 'audit events from before the chain are not chained yet (run: docket migrate up)';
    END IF;
    -- Only committed rows are visible: an open transaction's rows are sealed
    -- by a later call, after rows with higher ids maybe, so seq order is
    -- commit order, roughly, and not id order.
    -- Each field is its 8-byte big-endian length, then its UTF-8 bytes, as in
    -- audit.HashEvent; written out inline, since a function call per field
    -- costs more than the hash. 0x15 is the length of the version string.
    FOR r IN SELECT id, id::TEXT AS id_t, convert_to(to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '000Z', 'UTF8') AS at_b,
                    convert_to(actor, 'UTF8') AS actor_b, convert_to(action, 'UTF8') AS action_b,
                    convert_to(object_type, 'UTF8') AS type_b, convert_to(object_id, 'UTF8') AS oid_b, convert_to(details, 'UTF8') AS details_b
             FROM audit_events WHERE seq = -1 AND (seq IS NULL OR seq <= 0) ORDER BY id LIMIT max_rows LOOP
        h_seq := h_seq + 1;
        n := n + 1;
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
    IF n = 0 THEN
        RETURN 0;
    END IF;
    UPDATE audit_events e SET seq = u.seq, prev_hash = u.prev, hash = u.hash
        FROM unnest(ids, seqs, prevs, hashes) AS u(id, seq, prev, hash) WHERE e.id = u.id;
    UPDATE audit_chain SET seq = h_seq, hash = h_hash WHERE log = 'audit_events';
    RETURN n;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION audit_chain_seal(INTEGER);
ALTER TABLE audit_events DROP COLUMN stored_at;
-- Back to 00035's commit trigger (a copy: migrations are frozen). Rows still
-- pending stay unchained; seal them first (docket audit verify does).
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
