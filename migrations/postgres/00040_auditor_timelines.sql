-- +goose Up
-- Auditor timelines: admins and auditors read the audit trail per case, user
-- and customer, and export it. Admins do not inherit auditor (00002), so both
-- roles get their own rows, as for /outbox (00012). Read-only: GET only. The
-- restricted queue stays legal's: an auditor sees no csam case's events unless
-- they also hold a role that reads queue/restricted.
INSERT INTO casbin_rule (ptype, v0, v1, v2) VALUES
    ('p', 'auditor', '/audit', 'GET'),
    ('p', 'auditor', '/audit/cases/:id', 'GET'),
    ('p', 'auditor', '/audit/cases/:id/export.csv', 'GET'),
    ('p', 'auditor', '/audit/cases/:id/export.jsonl', 'GET'),
    ('p', 'auditor', '/audit/users/:id', 'GET'),
    ('p', 'auditor', '/audit/users/:id/export.csv', 'GET'),
    ('p', 'auditor', '/audit/users/:id/export.jsonl', 'GET'),
    ('p', 'auditor', '/audit/customers/:id', 'GET'),
    ('p', 'auditor', '/audit/customers/:id/export.csv', 'GET'),
    ('p', 'auditor', '/audit/customers/:id/export.jsonl', 'GET'),
    ('p', 'admin', '/audit', 'GET'),
    ('p', 'admin', '/audit/cases/:id', 'GET'),
    ('p', 'admin', '/audit/cases/:id/export.csv', 'GET'),
    ('p', 'admin', '/audit/cases/:id/export.jsonl', 'GET'),
    ('p', 'admin', '/audit/users/:id', 'GET'),
    ('p', 'admin', '/audit/users/:id/export.csv', 'GET'),
    ('p', 'admin', '/audit/users/:id/export.jsonl', 'GET'),
    ('p', 'admin', '/audit/customers/:id', 'GET'),
    ('p', 'admin', '/audit/customers/:id/export.csv', 'GET'),
    ('p', 'admin', '/audit/customers/:id/export.jsonl', 'GET');

-- A user's timeline is the events they did: by actor, newest first.
CREATE INDEX audit_events_actor_idx ON audit_events (actor, id);

-- +goose Down
DROP INDEX audit_events_actor_idx;
DELETE FROM casbin_rule WHERE ptype = 'p' AND v0 IN ('auditor', 'admin') AND (v1 = '/audit'
    OR v1 LIKE '/audit/cases/:id%' OR v1 LIKE '/audit/users/:id%' OR v1 LIKE '/audit/customers/:id%');
