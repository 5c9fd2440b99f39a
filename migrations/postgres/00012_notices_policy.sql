-- +goose Up
-- Admins and auditors read the outbox: every notice sent, and the templates.
INSERT INTO casbin_rule (ptype, v0, v1, v2) VALUES
    ('p', 'admin', '/outbox', 'GET'),
    ('p', 'admin', '/outbox/:id', 'GET'),
    ('p', 'auditor', '/outbox', 'GET'),
    ('p', 'auditor', '/outbox/:id', 'GET');

-- +goose Down
DELETE FROM casbin_rule WHERE ptype = 'p' AND v1 IN ('/outbox', '/outbox/:id');
