-- +goose Up
-- Trusted flaggers (DSA Art. 22) and their API keys. A flagger is a reporters
-- row of kind trusted_flagger; flaggers marks the rows an admin registered, so
-- the admin page lists flaggers and not every report's reporter. Keys are stored
-- only as the SHA-256 of the full key (32 random bytes: high entropy, so a fast
-- hash is right); prefix is what the UI shows and what a lookup starts from.
CREATE TABLE flaggers (
    reporter_id INTEGER PRIMARY KEY REFERENCES reporters (id),
    created_by  TEXT NOT NULL,
    created_at  DATETIME NOT NULL
);

CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    prefix       TEXT NOT NULL UNIQUE,
    hash         TEXT NOT NULL UNIQUE,
    reporter_id  BIGINT NOT NULL REFERENCES reporters (id),
    name         TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   DATETIME NOT NULL,
    revoked_at   DATETIME,
    last_used_at DATETIME
);
CREATE INDEX api_keys_reporter_idx ON api_keys (reporter_id);

-- The first response to each Idempotency-Key, per API key; status 0 while the
-- first request is still being processed.
CREATE TABLE idempotency_keys (
    api_key_id   BIGINT NOT NULL REFERENCES api_keys (id),
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL DEFAULT 0,
    response     TEXT NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    PRIMARY KEY (api_key_id, key)
);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE api_keys;
DROP TABLE flaggers;
