-- +goose Up
-- Trusted flaggers' API keys (subjects apikey:<id>, granted trusted_flagger when
-- issued) file reports and read their own; admins manage flaggers and keys.
-- trusted_flagger does not inherit anonymous or staff: a key may do only this.
INSERT INTO casbin_rule (ptype, v0, v1, v2) VALUES
    ('p', 'trusted_flagger', '/api/v1/reports', 'POST'),
    ('p', 'trusted_flagger', '/api/v1/reports/:id', 'GET'),
    ('p', 'admin', '/admin/flaggers', 'GET'),
    ('p', 'admin', '/admin/flaggers', 'POST'),
    ('p', 'admin', '/admin/flaggers/keys/:id/revoke', 'POST');

-- +goose Down
DELETE FROM casbin_rule WHERE ptype = 'p' AND v1 IN ('/api/v1/reports', '/api/v1/reports/:id', '/admin/flaggers', '/admin/flaggers/keys/:id/revoke');
DELETE FROM casbin_rule WHERE ptype = 'g' AND v0 LIKE 'apikey:%';
