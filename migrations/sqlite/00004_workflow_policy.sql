-- +goose Up
-- Permissions for the case workflow. Claims, notes and decisions are staff work;
-- auditors read but never act, so the action routes name the acting roles.
INSERT INTO casbin_rule (ptype, v0, v1, v2) VALUES
    ('p', 'staff', 'queue/priority', 'read'),
    ('p', 'staff', 'queue/enterprise', 'read'),
    ('p', 'reviewer', '/cases/:id/claim', 'POST'),
    ('p', 'legal', '/cases/:id/claim', 'POST'),
    ('p', 'reviewer', '/cases/:id/release', 'POST'),
    ('p', 'legal', '/cases/:id/release', 'POST'),
    ('p', 'senior_reviewer', '/cases/:id/reassign', 'POST'),
    ('p', 'admin', '/cases/:id/reassign', 'POST'),
    ('p', 'reviewer', '/cases/:id/notes', 'POST'),
    ('p', 'legal', '/cases/:id/notes', 'POST'),
    ('p', 'leadership', '/cases/:id/notes', 'POST'),
    ('p', 'reviewer', '/cases/:id/escalate', 'POST'),
    ('p', 'reviewer', '/cases/:id/decide', 'POST'),
    ('p', 'legal', '/cases/:id/decide', 'POST'),
    ('p', 'reviewer', '/cases/:id/close', 'POST'),
    ('p', 'reviewer', '/cases/:id/merge', 'POST'),
    ('p', 'reviewer', '/cases/:id/split', 'POST'),
    ('p', 'senior_reviewer', '/cases/bulk-close', 'POST'),
    ('p', 'staff', '/cases/:id/status', 'GET'),
    ('p', 'staff', '/search', 'GET'),
    ('p', 'staff', '/customers/:id', 'GET'),
    ('p', 'admin', '/admin/queues', 'GET'),
    ('p', 'admin', '/admin/queues', 'POST'),
    ('p', 'admin', '/admin/queues/:id/delete', 'POST'),
    -- Decisions on an escalated case are for senior reviewers.
    ('p', 'senior_reviewer', 'case/escalated', 'decide'),
    -- Reporter contact details (email) are for senior reviewers and legal.
    ('p', 'senior_reviewer', 'reporter/contact', 'read'),
    ('p', 'legal', 'reporter/contact', 'read'),
    -- The JSON API mirrors the pages; the same roles may use it.
    ('p', 'staff', '/api/v1/queues', 'GET'),
    ('p', 'staff', '/api/v1/cases', 'GET'),
    ('p', 'staff', '/api/v1/cases/:id', 'GET'),
    ('p', 'reviewer', '/api/v1/cases/:id/claim', 'POST'),
    ('p', 'legal', '/api/v1/cases/:id/claim', 'POST'),
    ('p', 'reviewer', '/api/v1/cases/:id/release', 'POST'),
    ('p', 'legal', '/api/v1/cases/:id/release', 'POST'),
    ('p', 'reviewer', '/api/v1/cases/:id/notes', 'POST'),
    ('p', 'legal', '/api/v1/cases/:id/notes', 'POST'),
    ('p', 'leadership', '/api/v1/cases/:id/notes', 'POST'),
    ('p', 'reviewer', '/api/v1/cases/:id/decide', 'POST'),
    ('p', 'legal', '/api/v1/cases/:id/decide', 'POST');

-- +goose Down
DELETE FROM casbin_rule WHERE ptype = 'p' AND (v1 LIKE '/cases/:id/%' OR v1 LIKE '/api/v1/%'
    OR v1 IN ('queue/priority', 'queue/enterprise', '/cases/bulk-close', '/search', '/customers/:id',
              '/admin/queues', '/admin/queues/:id/delete', 'case/escalated', 'reporter/contact'));
