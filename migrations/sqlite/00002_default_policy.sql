-- +goose Up
-- Default access policy. Admins change it later in the database (audited); a
-- release that needs new permissions adds a migration like this one.
-- Role hierarchy: every staff role is "staff", staff inherits "anonymous",
-- senior reviewers inherit reviewer.
INSERT INTO casbin_rule (ptype, v0, v1) VALUES
    ('g', 'staff', 'anonymous'),
    ('g', 'reviewer', 'staff'),
    ('g', 'senior_reviewer', 'reviewer'),
    ('g', 'legal', 'staff'),
    ('g', 'leadership', 'staff'),
    ('g', 'admin', 'staff'),
    ('g', 'auditor', 'staff');

INSERT INTO casbin_rule (ptype, v0, v1, v2) VALUES
    ('p', 'anonymous', '/', 'GET'),
    ('p', 'anonymous', '/healthz', 'GET'),
    ('p', 'anonymous', '/static/*', 'GET'),
    ('p', 'anonymous', '/report', 'GET'),
    ('p', 'anonymous', '/report', 'POST'),
    ('p', 'anonymous', '/report/receipt/:id', 'GET'),
    ('p', 'anonymous', '/login', 'GET'),
    ('p', 'anonymous', '/login', 'POST'),
    ('p', 'staff', '/logout', 'POST'),
    ('p', 'staff', '/queue', 'GET'),
    ('p', 'staff', '/cases/:id', 'GET'),
    ('p', 'admin', '/admin/users', 'GET'),
    ('p', 'admin', '/admin/users', 'POST'),
    -- Queues are objects too: csam cases sit in "restricted", which only legal reads.
    ('p', 'staff', 'queue/general', 'read'),
    ('p', 'legal', 'queue/restricted', 'read');

-- +goose Down
DELETE FROM casbin_rule WHERE ptype IN ('p', 'g') AND v0 IN
    ('staff', 'reviewer', 'senior_reviewer', 'legal', 'leadership', 'admin', 'auditor', 'anonymous');
