-- +goose Up
-- Edge reconciliation: all staff (auditors included) may read the drift
-- between what Docket decided and what each edge applied; only admins re-send.
INSERT INTO casbin_rule (ptype, v0, v1, v2) VALUES
    ('p', 'staff', '/edge/reconcile', 'GET'),
    ('p', 'admin', '/edge/reconcile/resend', 'POST');

-- +goose Down
DELETE FROM casbin_rule WHERE ptype = 'p' AND v1 IN ('/edge/reconcile', '/edge/reconcile/resend');
