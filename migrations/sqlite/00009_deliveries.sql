-- +goose Up
-- Delivery of directives to the edge. directive_hosts indexes which hostnames a
-- directive covers, so a delivery can wait for older directives on the same
-- hostname; deliveries and their attempts are what the deliveries page shows.
-- (River's own job tables are created by River's migrator at start.)
CREATE TABLE directive_hosts (
    directive_id TEXT NOT NULL REFERENCES directives (id),
    hostname     TEXT NOT NULL,
    version      BIGINT NOT NULL,
    PRIMARY KEY (directive_id, hostname)
);
CREATE INDEX directive_hosts_host_idx ON directive_hosts (hostname, version);

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    directive_id    TEXT NOT NULL REFERENCES directives (id),
    target          TEXT NOT NULL,               -- an edge endpoint URL, or nats:<bucket>
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'superseded', 'dead')),
    job_id          BIGINT NOT NULL DEFAULT 0,  -- the River job, to wake it when the target recovers
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    last_attempt_at DATETIME,
    delivered_at    DATETIME,
    created_at      DATETIME NOT NULL,
    UNIQUE (directive_id, target)
);
CREATE INDEX deliveries_state_idx ON deliveries (state, created_at);

CREATE TABLE delivery_attempts (
    id          INTEGER PRIMARY KEY,
    delivery_id BIGINT NOT NULL REFERENCES deliveries (id),
    at          DATETIME NOT NULL,
    http_status INTEGER NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    duration_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX delivery_attempts_delivery_idx ON delivery_attempts (delivery_id, id);

-- +goose Down
DROP TABLE delivery_attempts;
DROP TABLE deliveries;
DROP TABLE directive_hosts;
