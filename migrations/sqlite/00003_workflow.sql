-- +goose Up
-- The case workflow: claims as leases, optimistic versions, notes, decisions,
-- configurable queue routing, and a queue_rank column that orders the queue by
-- priority with ageing (queue_rank = priority * 21600 - opened epoch: one point per 6 h).
ALTER TABLE cases ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE cases ADD COLUMN queue_rank BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN reporter_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN prior_actions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN escalated_at DATETIME;
ALTER TABLE cases ADD COLUMN close_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN merged_into BIGINT; -- a case id; not a foreign key so SQLite can drop it on down
ALTER TABLE reports ADD COLUMN reporter_key TEXT NOT NULL DEFAULT '';

DROP INDEX cases_queue_idx;
CREATE INDEX cases_queue_rank_idx ON cases (queue, queue_rank DESC, id DESC) WHERE state IN ('new', 'in_review', 'pending_signoff', 'appealed');
CREATE INDEX cases_opened_idx ON cases (opened_at DESC, id DESC);
CREATE INDEX cases_customer_opened_idx ON cases (customer_id, opened_at DESC);
CREATE INDEX cases_hostname_idx ON cases (hostname);
CREATE INDEX reports_case_reporter_idx ON reports (case_id, reporter_key);

CREATE TABLE notes (
    id         INTEGER PRIMARY KEY,
    case_id    BIGINT NOT NULL REFERENCES cases (id),
    author_id  BIGINT NOT NULL REFERENCES users (id),
    body       TEXT NOT NULL,
    created_at DATETIME NOT NULL
);
CREATE INDEX notes_case_idx ON notes (case_id, id);

CREATE TABLE decisions (
    id                 INTEGER PRIMARY KEY,
    case_id            BIGINT NOT NULL REFERENCES cases (id),
    action             TEXT NOT NULL CHECK (action IN ('no_action', 'warn', 'restrict', 'terminate', 'reinstate')),
    grounds            TEXT NOT NULL,
    explanation        TEXT NOT NULL DEFAULT '',
    status             TEXT NOT NULL CHECK (status IN ('proposed', 'final', 'rejected', 'reversed')),
    proposer_id        BIGINT NOT NULL REFERENCES users (id),
    created_at         DATETIME NOT NULL,
    final_at           DATETIME
);
CREATE INDEX decisions_case_idx ON decisions (case_id, id);

CREATE TABLE queue_rules (
    id              INTEGER PRIMARY KEY,
    position        INTEGER NOT NULL,
    category        TEXT NOT NULL DEFAULT '',
    min_severity    INTEGER NOT NULL DEFAULT 0,
    plan            TEXT NOT NULL DEFAULT '',
    trusted_flagger BOOLEAN NOT NULL DEFAULT 0,
    queue           TEXT NOT NULL,
    created_at      DATETIME NOT NULL
);
INSERT INTO queue_rules (position, trusted_flagger, queue, created_at) VALUES (10, 1, 'priority', CURRENT_TIMESTAMP);
INSERT INTO queue_rules (position, plan, queue, created_at) VALUES (20, 'enterprise', 'enterprise', CURRENT_TIMESTAMP);

-- +goose Down
DROP TABLE queue_rules;
DROP TABLE decisions;
DROP TABLE notes;
DROP INDEX reports_case_reporter_idx;
DROP INDEX cases_hostname_idx;
DROP INDEX cases_customer_opened_idx;
DROP INDEX cases_opened_idx;
DROP INDEX cases_queue_rank_idx;
CREATE INDEX cases_queue_idx ON cases (queue, state, priority DESC, opened_at);
ALTER TABLE reports DROP COLUMN reporter_key;
ALTER TABLE cases DROP COLUMN merged_into;
ALTER TABLE cases DROP COLUMN close_reason;
ALTER TABLE cases DROP COLUMN escalated_at;
ALTER TABLE cases DROP COLUMN prior_actions;
ALTER TABLE cases DROP COLUMN reporter_count;
ALTER TABLE cases DROP COLUMN queue_rank;
ALTER TABLE cases DROP COLUMN version;
