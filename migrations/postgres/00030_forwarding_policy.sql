-- +goose Up
-- The customer's response page is public: the signed link is the credential.
-- Legal downloads hotline exports (csam: the restricted queue is legal's).
-- Admins set a site's origin host and the response windows.
INSERT INTO casbin_rule (ptype, v0, v1, v2) VALUES
    ('p', 'anonymous', '/respond/:token', 'GET'),
    ('p', 'anonymous', '/respond/:token', 'POST'),
    ('p', 'legal', '/hotline-exports/:id', 'GET'),
    ('p', 'admin', '/sites/:id/origin', 'POST'),
    ('p', 'admin', '/admin/response-windows', 'GET'),
    ('p', 'admin', '/admin/response-windows', 'POST');

-- +goose Down
DELETE FROM casbin_rule WHERE ptype = 'p' AND v1 IN ('/respond/:token', '/hotline-exports/:id', '/sites/:id/origin', '/admin/response-windows');
