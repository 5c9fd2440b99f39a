-- +goose Up
-- Graduated actions at the edge, expiries and the strike ledger.
-- A restriction may be a measure narrower than the whole site: an interstitial
-- (a warning page in front of it) or a block of specific URLs. The action
-- column keeps 'restrict' and measure refines it, because widening the action
-- and type CHECK constraints would mean rebuilding decisions and directives on
-- SQLite, tables other features reference and extend. The wire type of a
-- directive is site.<measure> when measure is set (see cases.Directive.EdgeType).
ALTER TABLE decisions ADD COLUMN measure TEXT NOT NULL DEFAULT '' CHECK (measure IN ('', 'interstitial', 'block_url'));
ALTER TABLE decisions ADD COLUMN urls TEXT NOT NULL DEFAULT '[]'; -- JSON array, for block_url
ALTER TABLE decisions ADD COLUMN lasts_seconds BIGINT NOT NULL DEFAULT 0; -- how long once final; 0 until changed
ALTER TABLE decisions ADD COLUMN expires_at DATETIME;              -- the measure is lifted then
ALTER TABLE directives ADD COLUMN measure TEXT NOT NULL DEFAULT '' CHECK (measure IN ('', 'interstitial', 'block_url'));
ALTER TABLE directives ADD COLUMN urls TEXT NOT NULL DEFAULT '[]';
ALTER TABLE directives ADD COLUMN expires_at DATETIME;

-- One strike per final action against a customer: the repeat-offender record.
-- A strike counts while expires_at is in the future and it is not voided (the
-- decision was reversed or an emergency restriction revoked).
CREATE TABLE strikes (
    id          INTEGER PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    case_id     BIGINT NOT NULL REFERENCES cases (id),
    decision_id BIGINT NOT NULL REFERENCES decisions (id),
    category    TEXT NOT NULL,
    action      TEXT NOT NULL,
    weight      INTEGER NOT NULL,
    at          DATETIME NOT NULL,
    expires_at  DATETIME NOT NULL,
    voided_at   DATETIME,
    UNIQUE (decision_id)
);
CREATE INDEX strikes_customer_idx ON strikes (customer_id, expires_at);

-- +goose Down
DROP TABLE strikes;
ALTER TABLE directives DROP COLUMN expires_at;
ALTER TABLE directives DROP COLUMN urls;
ALTER TABLE directives DROP COLUMN measure;
ALTER TABLE decisions DROP COLUMN expires_at;
ALTER TABLE decisions DROP COLUMN lasts_seconds;
ALTER TABLE decisions DROP COLUMN urls;
ALTER TABLE decisions DROP COLUMN measure;
