-- +goose Up
-- Structured facts about a decision that statements of reasons (DSA Art. 17)
-- and the transparency report need, beside the free-text grounds:
--   ground_type: 'illegal' (the content is illegal: a legal ground) or 'terms'
--     (incompatible with the terms of service: a contractual ground); '' for
--     decisions that restrict nothing (no_action, reinstate) and for decisions
--     made before this migration.
--   automated: whether automated means took part in the decision
--     ('none', 'partial', 'full'), as the DSA Transparency Database asks.
ALTER TABLE decisions ADD COLUMN ground_type TEXT NOT NULL DEFAULT '' CHECK (ground_type IN ('', 'illegal', 'terms'));
ALTER TABLE decisions ADD COLUMN automated TEXT NOT NULL DEFAULT 'none' CHECK (automated IN ('none', 'partial', 'full'));
CREATE INDEX decisions_final_at_idx ON decisions (final_at);

-- +goose Down
DROP INDEX decisions_final_at_idx;
ALTER TABLE decisions DROP COLUMN automated;
ALTER TABLE decisions DROP COLUMN ground_type;
