-- +goose Up
-- Sign-off is for legal and leadership. Giving a sign-off in a role is a policy
-- object too (signoff/legal, signoff/leadership), so a grant decides who may.
INSERT INTO casbin_rule (ptype, v0, v1, v2) VALUES
    ('p', 'legal', '/signoffs', 'GET'),
    ('p', 'leadership', '/signoffs', 'GET'),
    ('p', 'legal', '/signoffs/:id', 'GET'),
    ('p', 'leadership', '/signoffs/:id', 'GET'),
    ('p', 'legal', '/signoffs/:id/approve', 'POST'),
    ('p', 'leadership', '/signoffs/:id/approve', 'POST'),
    ('p', 'legal', '/signoffs/:id/reject', 'POST'),
    ('p', 'leadership', '/signoffs/:id/reject', 'POST'),
    ('p', 'legal', 'signoff/legal', 'give'),
    ('p', 'leadership', 'signoff/leadership', 'give');

-- +goose Down
DELETE FROM casbin_rule WHERE ptype = 'p' AND (v1 LIKE '/signoffs%' OR v1 LIKE 'signoff/%');
