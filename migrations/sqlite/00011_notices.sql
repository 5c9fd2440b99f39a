-- +goose Up
-- Notices by email: a reporter's acknowledgement and outcome, the customer's
-- notice of action. Each row is rendered and written, with its River job, in the
-- transaction that causes it; the job sends it (SMTP, or an .eml file in the
-- outbox folder) and records the result here.
CREATE TABLE notices (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('report_ack', 'report_outcome', 'customer_action')),
    recipient  TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    case_id    BIGINT REFERENCES cases (id),
    report_id  BIGINT REFERENCES reports (id),
    state      TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'dead')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    sent_at    DATETIME
);
CREATE INDEX notices_created_idx ON notices (created_at, id);
CREATE INDEX notices_state_idx ON notices (state, created_at);
CREATE INDEX notices_case_idx ON notices (case_id);

-- +goose Down
DROP TABLE notices;
