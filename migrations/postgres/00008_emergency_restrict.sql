-- +goose Up
-- Emergency restriction: a senior reviewer may restrict a csam or threat site at
-- once; legal and leadership must still sign off by the deadline.
ALTER TABLE decisions ADD COLUMN emergency BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE decisions ADD COLUMN signoff_due_at TIMESTAMPTZ;
ALTER TABLE decisions ADD COLUMN ratified_at TIMESTAMPTZ;
CREATE INDEX decisions_status_idx ON decisions (status, emergency);

INSERT INTO casbin_rule (ptype, v0, v1, v2) VALUES
    ('p', 'senior_reviewer', 'case/emergency', 'restrict');

-- +goose Down
DELETE FROM casbin_rule WHERE ptype = 'p' AND v1 = 'case/emergency';
DROP INDEX decisions_status_idx;
ALTER TABLE decisions DROP COLUMN ratified_at;
ALTER TABLE decisions DROP COLUMN signoff_due_at;
ALTER TABLE decisions DROP COLUMN emergency;
