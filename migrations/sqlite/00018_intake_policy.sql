-- +goose Up
-- The public status lookup (receipt id + email) and the API's OpenAPI document,
-- which trusted flaggers' keys may read too (trusted_flagger inherits nothing).
INSERT INTO casbin_rule (ptype, v0, v1, v2) VALUES
    ('p', 'anonymous', '/status', 'GET'),
    ('p', 'anonymous', '/status', 'POST'),
    ('p', 'anonymous', '/api/v1/openapi.json', 'GET'),
    ('p', 'trusted_flagger', '/api/v1/openapi.json', 'GET');

-- +goose Down
DELETE FROM casbin_rule WHERE ptype = 'p' AND v1 IN ('/status', '/api/v1/openapi.json');
