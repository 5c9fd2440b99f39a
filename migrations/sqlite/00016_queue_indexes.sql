-- +goose Up
-- Indexes found missing by `docket bench` at 200,000 cases and 1,000,000 reports
-- (BENCHMARKS.md): the queue sorted by SLA and by newest, sign-offs of a case,
-- reporter search, and (SQLite only; PostgreSQL already scans the queue index
-- alone) open cases per queue without reading the rows.
CREATE INDEX cases_queue_sla_idx ON cases (queue, sla_due_at, id) WHERE state IN ('new', 'in_review', 'pending_signoff', 'appealed');
CREATE INDEX cases_queue_opened_idx ON cases (queue, opened_at DESC, id DESC) WHERE state IN ('new', 'in_review', 'pending_signoff', 'appealed');
CREATE INDEX signoffs_case_idx ON signoffs (case_id, id);
CREATE INDEX reporters_email_idx ON reporters (email);
CREATE INDEX reports_reporter_idx ON reports (reporter_id);
CREATE INDEX cases_open_queue_idx ON cases (queue, state) WHERE state IN ('new', 'in_review', 'pending_signoff', 'appealed');

-- +goose Down
DROP INDEX cases_open_queue_idx;
DROP INDEX reports_reporter_idx;
DROP INDEX reporters_email_idx;
DROP INDEX signoffs_case_idx;
DROP INDEX cases_queue_opened_idx;
DROP INDEX cases_queue_sla_idx;
