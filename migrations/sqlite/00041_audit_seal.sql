-- +goose Up
-- PostgreSQL seals the audit chain after commit from this version on (see the
-- postgres folder's 00041); SQLite chains in the writing transaction, as
-- before, since its single writer serializes commits anyway. Nothing changes
-- here; the file keeps both folders at the same versions.
SELECT 1;

-- +goose Down
SELECT 1;
