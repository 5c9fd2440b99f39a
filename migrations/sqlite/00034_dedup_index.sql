-- +goose Up
-- The duplicate check (cases.findOriginal) asks for the reporter's earliest
-- report of the same URL and category within the window. The old index ended
-- at the host, so a flagger reporting many URLs on one site made every check
-- read all of its reports on that site in the window; with the URL and
-- category in the index it reads one entry. (The URL determines the host.)
CREATE INDEX reports_dedup_url_idx ON reports (reporter_key, url, category, received_at);
DROP INDEX reports_dedup_idx;

-- +goose Down
CREATE INDEX reports_dedup_idx ON reports (reporter_key, host, received_at);
DROP INDEX reports_dedup_url_idx;
