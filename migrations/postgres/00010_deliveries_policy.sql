-- +goose Up
-- Everyone on staff may see where directives are; only admins replay dead letters.
INSERT INTO casbin_rule (ptype, v0, v1, v2) VALUES
    ('p', 'staff', '/deliveries', 'GET'),
    ('p', 'admin', '/deliveries/:id/replay', 'POST');

-- +goose Down
DELETE FROM casbin_rule WHERE ptype = 'p' AND v1 IN ('/deliveries', '/deliveries/:id/replay');
