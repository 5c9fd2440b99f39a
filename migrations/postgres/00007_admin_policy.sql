-- +goose Up
-- Admins edit the policy itself and users' roles; both are audited with before/after.
INSERT INTO casbin_rule (ptype, v0, v1, v2) VALUES
    ('p', 'admin', '/admin/policy', 'GET'),
    ('p', 'admin', '/admin/policy', 'POST'),
    ('p', 'admin', '/admin/policy/delete', 'POST'),
    ('p', 'admin', '/admin/users/:id/roles', 'POST'),
    -- Auditors read everything, including the policy.
    ('p', 'auditor', '/admin/policy', 'GET'),
    ('p', 'auditor', '/admin/users', 'GET');

-- +goose Down
DELETE FROM casbin_rule WHERE ptype = 'p' AND (v1 IN ('/admin/policy', '/admin/policy/delete', '/admin/users/:id/roles')
    OR (v0 = 'auditor' AND v1 = '/admin/users'));
