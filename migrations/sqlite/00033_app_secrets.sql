-- +goose Up
-- Keys Docket makes for itself (signed links, form challenges): created on first
-- use, shared by every instance on this database, never shown in the UI.
CREATE TABLE app_secrets (
    name       TEXT PRIMARY KEY,
    value      BLOB NOT NULL,
    created_at DATETIME NOT NULL
);

-- +goose Down
DROP TABLE app_secrets;
