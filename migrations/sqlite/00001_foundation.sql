-- +goose Up
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,        -- stored lowercase
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    DATETIME NOT NULL
);

-- casbin's gorm adapter reads and writes this table; we own its shape and index
-- here so the adapter never auto-migrates.
CREATE TABLE casbin_rule (
    id    INTEGER PRIMARY KEY,
    ptype VARCHAR(100) NOT NULL DEFAULT '',
    v0    VARCHAR(100) NOT NULL DEFAULT '',
    v1    VARCHAR(100) NOT NULL DEFAULT '',
    v2    VARCHAR(100) NOT NULL DEFAULT '',
    v3    VARCHAR(100) NOT NULL DEFAULT '',
    v4    VARCHAR(100) NOT NULL DEFAULT '',
    v5    VARCHAR(100) NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX idx_casbin_rule ON casbin_rule (ptype, v0, v1, v2, v3, v4, v5);

-- scs sqlite3store's table (expiry is a julian day number).
CREATE TABLE sessions (
    token  TEXT PRIMARY KEY,
    data   BLOB NOT NULL,
    expiry REAL NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

CREATE TABLE customers (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    plan          TEXT NOT NULL DEFAULT 'free',
    contact_email TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL DEFAULT 'active',
    created_at    DATETIME NOT NULL
);

CREATE TABLE sites (
    id                 INTEGER PRIMARY KEY,
    customer_id        BIGINT NOT NULL REFERENCES customers (id),
    hostname           TEXT NOT NULL UNIQUE,
    registrable_domain TEXT NOT NULL DEFAULT '',
    created_at         DATETIME NOT NULL
);
CREATE INDEX sites_customer_idx ON sites (customer_id);

CREATE TABLE reporters (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('public', 'trusted_flagger', 'network')),
    name       TEXT NOT NULL DEFAULT '',
    email      TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL
);

CREATE TABLE cases (
    id                   INTEGER PRIMARY KEY,
    group_key            TEXT NOT NULL,        -- site:<id>, or host:<hostname> for hosts we do not serve
    site_id              BIGINT REFERENCES sites (id),
    customer_id          BIGINT REFERENCES customers (id),
    hostname             TEXT NOT NULL,
    category             TEXT NOT NULL,
    severity             INTEGER NOT NULL,
    priority             INTEGER NOT NULL,
    queue                TEXT NOT NULL,
    state                TEXT NOT NULL,
    assignee_id          BIGINT REFERENCES users (id),
    claim_expires_at     DATETIME,
    report_count         INTEGER NOT NULL DEFAULT 0,
    flagger_report_count INTEGER NOT NULL DEFAULT 0,
    sla_due_at           DATETIME NOT NULL,
    opened_at            DATETIME NOT NULL,
    updated_at           DATETIME NOT NULL,
    closed_at            DATETIME
);
-- At most one open case per site (or unknown host) and category: concurrent
-- reports race on this index, not on application code.
CREATE UNIQUE INDEX cases_one_open_per_group ON cases (group_key, category) WHERE state <> 'closed';
CREATE INDEX cases_queue_idx ON cases (queue, state, priority DESC, opened_at);
CREATE INDEX cases_customer_idx ON cases (customer_id);

CREATE TABLE reports (
    id          INTEGER PRIMARY KEY,
    public_id   TEXT NOT NULL UNIQUE,          -- the receipt id the reporter sees
    case_id     BIGINT NOT NULL REFERENCES cases (id),
    reporter_id BIGINT NOT NULL REFERENCES reporters (id),
    channel     TEXT NOT NULL CHECK (channel IN ('web', 'api', 'email')),
    category    TEXT NOT NULL,
    url         TEXT NOT NULL,
    host        TEXT NOT NULL,
    site_id     BIGINT REFERENCES sites (id),
    description TEXT NOT NULL,
    good_faith  BOOLEAN NOT NULL,
    received_at DATETIME NOT NULL
);
CREATE INDEX reports_case_idx ON reports (case_id, received_at);
CREATE INDEX reports_host_idx ON reports (host);

CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY,
    at          DATETIME NOT NULL,
    actor       TEXT NOT NULL,                 -- user:<id>, reporter:<id>, system
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    details     TEXT NOT NULL DEFAULT '{}'     -- JSON
);
CREATE INDEX audit_events_object_idx ON audit_events (object_type, object_id, id);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE reports;
DROP TABLE cases;
DROP TABLE reporters;
DROP TABLE sites;
DROP TABLE customers;
DROP TABLE sessions;
DROP TABLE casbin_rule;
DROP TABLE users;
