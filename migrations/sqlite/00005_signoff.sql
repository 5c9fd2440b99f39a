-- +goose Up
-- Termination sign-off by legal and leadership, and the directives a final
-- decision sends to the edge (queued here; delivery is the notify package's).
ALTER TABLE decisions ADD COLUMN hostnames TEXT NOT NULL DEFAULT '[]'; -- JSON array
ALTER TABLE decisions ADD COLUMN evidence TEXT NOT NULL DEFAULT '';    -- references, one per line

CREATE TABLE signoffs (
    id          INTEGER PRIMARY KEY,
    decision_id BIGINT NOT NULL REFERENCES decisions (id),
    case_id     BIGINT NOT NULL REFERENCES cases (id),
    role        TEXT NOT NULL CHECK (role IN ('legal', 'leadership')),
    user_id     BIGINT NOT NULL REFERENCES users (id),
    verdict     TEXT NOT NULL CHECK (verdict IN ('approve', 'reject')),
    comment     TEXT NOT NULL DEFAULT '',
    created_at  DATETIME NOT NULL
);
-- One sign-off per person per decision (so one person holding both roles cannot
-- give both), and one approval per role.
CREATE UNIQUE INDEX signoffs_one_per_user ON signoffs (decision_id, user_id);
CREATE UNIQUE INDEX signoffs_one_approval_per_role ON signoffs (decision_id, role) WHERE verdict = 'approve';

CREATE TABLE directives (
    id          TEXT PRIMARY KEY,                 -- ULID
    type        TEXT NOT NULL CHECK (type IN ('site.terminate', 'site.restrict', 'site.reinstate')),
    version     BIGINT NOT NULL,
    customer_id BIGINT REFERENCES customers (id),
    hostnames   TEXT NOT NULL,                    -- JSON array
    case_id     BIGINT NOT NULL REFERENCES cases (id),
    decision_id BIGINT NOT NULL REFERENCES decisions (id),
    reason_code TEXT NOT NULL,
    issued_at   DATETIME NOT NULL,
    status      TEXT NOT NULL DEFAULT 'queued'
);
CREATE INDEX directives_status_idx ON directives (status, issued_at);

-- The last directive version per hostname: versions only grow.
CREATE TABLE hostname_versions (
    hostname TEXT PRIMARY KEY,
    version  BIGINT NOT NULL
);

-- +goose Down
DROP TABLE hostname_versions;
DROP TABLE directives;
DROP TABLE signoffs;
ALTER TABLE decisions DROP COLUMN evidence;
ALTER TABLE decisions DROP COLUMN hostnames;
