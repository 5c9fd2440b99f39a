-- +goose Up
-- Staff read a report's evidence files (csam evidence is never stored).
INSERT INTO casbin_rule (ptype, v0, v1, v2) VALUES
    ('p', 'staff', '/cases/:id/evidence/:eid', 'GET');

-- +goose Down
DELETE FROM casbin_rule WHERE ptype = 'p' AND v1 = '/cases/:id/evidence/:eid';
