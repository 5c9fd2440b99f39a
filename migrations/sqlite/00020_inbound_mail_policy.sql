-- +goose Up
-- The unparsed-mail queue: reviewers (and senior reviewers, who inherit) and
-- legal read it and file or dismiss its messages; auditors read it. Leadership
-- and admins do not work intake.
INSERT INTO casbin_rule (ptype, v0, v1, v2) VALUES
    ('p', 'reviewer', '/mail', 'GET'),
    ('p', 'reviewer', '/mail/:id', 'GET'),
    ('p', 'reviewer', '/mail/:id/file', 'POST'),
    ('p', 'reviewer', '/mail/:id/dismiss', 'POST'),
    ('p', 'legal', '/mail', 'GET'),
    ('p', 'legal', '/mail/:id', 'GET'),
    ('p', 'legal', '/mail/:id/file', 'POST'),
    ('p', 'legal', '/mail/:id/dismiss', 'POST'),
    ('p', 'auditor', '/mail', 'GET'),
    ('p', 'auditor', '/mail/:id', 'GET');

-- +goose Down
DELETE FROM casbin_rule WHERE ptype = 'p' AND v1 IN ('/mail', '/mail/:id', '/mail/:id/file', '/mail/:id/dismiss');
