-- +goose Up
-- Appeals: the public pages behind a signed link are open to anyone (the token
-- is the authorization); reviewers and legal review appeals, leadership and
-- auditors read them. Whoever decided a case never reviews its appeal, whatever
-- this policy says.
INSERT INTO casbin_rule (ptype, v0, v1, v2) VALUES
    ('p', 'anonymous', '/appeal/:token', 'GET'),
    ('p', 'anonymous', '/appeal/:token', 'POST'),
    ('p', 'reviewer', '/appeals', 'GET'),
    ('p', 'legal', '/appeals', 'GET'),
    ('p', 'leadership', '/appeals', 'GET'),
    ('p', 'auditor', '/appeals', 'GET'),
    ('p', 'reviewer', '/appeals/:id', 'GET'),
    ('p', 'legal', '/appeals/:id', 'GET'),
    ('p', 'leadership', '/appeals/:id', 'GET'),
    ('p', 'auditor', '/appeals/:id', 'GET'),
    ('p', 'reviewer', '/appeals/:id/reply', 'POST'),
    ('p', 'legal', '/appeals/:id/reply', 'POST'),
    ('p', 'reviewer', '/appeals/:id/uphold', 'POST'),
    ('p', 'legal', '/appeals/:id/uphold', 'POST'),
    ('p', 'reviewer', '/appeals/:id/reverse', 'POST'),
    ('p', 'legal', '/appeals/:id/reverse', 'POST');

-- +goose Down
DELETE FROM casbin_rule WHERE ptype = 'p' AND (v1 = '/appeal/:token' OR v1 = '/appeals' OR v1 LIKE '/appeals/%');
