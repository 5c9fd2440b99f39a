-- +goose Up
-- Statements of reasons (DSA Art. 17), one per decision that restricts a
-- customer (restrict in every measure, terminate). A draft while the decision
-- waits for sign-off, final with it. body is the statement as the DSA
-- Transparency Database takes it (JSON, its field names and enum values): the
-- TDB schema changes (it did on 1 July 2025) without a migration here. puid is
-- derived from the decision id, so a re-export names the same statement.
-- exported_at is the first export; export_batch the latest batch it went out in.
CREATE TABLE statements (
    id           INTEGER PRIMARY KEY,
    decision_id  BIGINT NOT NULL REFERENCES decisions (id),
    case_id      BIGINT NOT NULL REFERENCES cases (id),
    puid         TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('draft', 'final')),
    body         TEXT NOT NULL,
    redress      TEXT NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    updated_at   DATETIME NOT NULL,
    final_at     DATETIME,
    exported_at  DATETIME,
    export_batch TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX statements_decision_idx ON statements (decision_id);
CREATE UNIQUE INDEX statements_puid_idx ON statements (puid);
CREATE INDEX statements_final_idx ON statements (status, final_at, id);
CREATE INDEX statements_case_idx ON statements (case_id);

-- Statements of reasons: a reviewer previews the draft in the decide form;
-- reviewers, legal and leadership read a statement and may edit a draft (the
-- code allows only the proposer and people who may sign it off, and only while
-- it is a draft). The export (admin/sor) is for admins and legal, read by auditors.
INSERT INTO casbin_rule (ptype, v0, v1, v2) VALUES
    ('p', 'reviewer', '/cases/:id/statement/preview', 'POST'),
    ('p', 'legal', '/cases/:id/statement/preview', 'POST'),
    ('p', 'reviewer', '/statements/:id', 'GET'),
    ('p', 'legal', '/statements/:id', 'GET'),
    ('p', 'leadership', '/statements/:id', 'GET'),
    ('p', 'auditor', '/statements/:id', 'GET'),
    ('p', 'reviewer', '/statements/:id', 'POST'),
    ('p', 'legal', '/statements/:id', 'POST'),
    ('p', 'leadership', '/statements/:id', 'POST'),
    ('p', 'admin', '/admin/sor', 'GET'),
    ('p', 'legal', '/admin/sor', 'GET'),
    ('p', 'auditor', '/admin/sor', 'GET'),
    ('p', 'admin', '/admin/sor/export', 'GET'),
    ('p', 'legal', '/admin/sor/export', 'GET'),
    ('p', 'auditor', '/admin/sor/export', 'GET'),
    ('p', 'admin', '/admin/sor/:id', 'GET'),
    ('p', 'legal', '/admin/sor/:id', 'GET'),
    ('p', 'auditor', '/admin/sor/:id', 'GET');

-- +goose Down
DELETE FROM casbin_rule WHERE ptype = 'p' AND (v1 = '/cases/:id/statement/preview' OR v1 = '/statements/:id' OR v1 = '/admin/sor' OR v1 LIKE '/admin/sor/%');
DROP TABLE statements;
