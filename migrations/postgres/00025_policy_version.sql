-- +goose Up
-- A counter that every change to casbin_rule bumps in the changing
-- transaction, whoever makes it (the admin pages, `docket user add`, a
-- migration, SQL by hand). Each instance reads it every few seconds and reloads
-- its policy cache when it moved, so a change on one instance holds on all.
CREATE TABLE policy_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO policy_version (id, version) VALUES (1, 1);

-- +goose StatementBegin
CREATE FUNCTION bump_policy_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER casbin_rule_policy_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON casbin_rule
    FOR EACH STATEMENT EXECUTE FUNCTION bump_policy_version();

-- +goose Down
DROP TRIGGER casbin_rule_policy_version ON casbin_rule;
DROP FUNCTION bump_policy_version();
DROP TABLE policy_version;
