-- +goose Up
-- The public transparency report (transparency/, ui/transparency.go): anyone
-- may read it, as a page and as CSV or JSON. Its figures select rows by the
-- time they happened in a period, so the tables get indexes on those times
-- (decisions.final_at has one from 00036).
INSERT INTO casbin_rule (ptype, v0, v1, v2) VALUES
    ('p', 'anonymous', '/transparency', 'GET'),
    ('p', 'anonymous', '/transparency.csv', 'GET'),
    ('p', 'anonymous', '/transparency.json', 'GET');
CREATE INDEX reports_received_idx ON reports (received_at, category, channel, status, reporter_id);
CREATE INDEX appeals_opened_idx ON appeals (opened_at);
CREATE INDEX appeals_decided_idx ON appeals (decided_at);

-- +goose Down
DROP INDEX appeals_decided_idx;
DROP INDEX appeals_opened_idx;
DROP INDEX reports_received_idx;
DELETE FROM casbin_rule WHERE ptype = 'p' AND v1 IN ('/transparency', '/transparency.csv', '/transparency.json');
