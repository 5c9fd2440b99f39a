-- +goose Up
-- /readyz is for load balancers and orchestrators, which do not sign in: public,
-- like /healthz. It names failing dependencies but never why (that goes to the log).
INSERT INTO casbin_rule (ptype, v0, v1, v2) VALUES
    ('p', 'anonymous', '/readyz', 'GET');

-- +goose Down
DELETE FROM casbin_rule WHERE ptype = 'p' AND v0 = 'anonymous' AND v1 = '/readyz' AND v2 = 'GET';
