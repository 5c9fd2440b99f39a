-- +goose Up
-- A counter that every change to casbin_rule bumps in the changing
-- transaction, whoever makes it (the admin pages, `docket user add` run beside
-- a serving instance, a migration, SQL by hand). The serving instance reads it
-- every few seconds and reloads its policy cache when it moved.
CREATE TABLE policy_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO policy_version (id, version) VALUES (1, 1);

-- +goose StatementBegin
CREATE TRIGGER casbin_rule_policy_version_ins AFTER INSERT ON casbin_rule
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER casbin_rule_policy_version_upd AFTER UPDATE ON casbin_rule
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER casbin_rule_policy_version_del AFTER DELETE ON casbin_rule
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER casbin_rule_policy_version_del;
DROP TRIGGER casbin_rule_policy_version_upd;
DROP TRIGGER casbin_rule_policy_version_ins;
DROP TABLE policy_version;
