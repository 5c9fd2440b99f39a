-- +goose Up
-- Senior reviewers reverse a restriction or termination made in error: the edge
-- gets a newer site.reinstate directive.
INSERT INTO casbin_rule (ptype, v0, v1, v2) VALUES
    ('p', 'senior_reviewer', '/cases/:id/reverse', 'POST');

-- +goose Down
DELETE FROM casbin_rule WHERE ptype = 'p' AND v1 = '/cases/:id/reverse';
