-- +goose Up
-- When the overdue sweep (a timer, on one instance) found an emergency
-- restriction past its sign-off deadline and recorded it: each is recorded
-- once, in the audit log as decision.signoff_overdue.
ALTER TABLE decisions ADD COLUMN overdue_flagged_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE decisions DROP COLUMN overdue_flagged_at;
