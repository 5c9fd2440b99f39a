-- +goose Up
-- Appeals (DSA Art. 20): the customer, or a reporter against a decision not to
-- act, contests a final decision through a signed link. One appeal per decision
-- per appellant (appellant_key is "customer" or "reporter:<reporter id>"); the
-- reviewer is never the person who decided (enforced in cases/appeals.go).
CREATE TABLE appeals (
    id            INTEGER PRIMARY KEY,
    case_id       BIGINT NOT NULL REFERENCES cases (id),
    decision_id   BIGINT NOT NULL REFERENCES decisions (id),
    appellant     TEXT NOT NULL CHECK (appellant IN ('customer', 'reporter')),
    appellant_key TEXT NOT NULL,
    reporter_id   BIGINT REFERENCES reporters (id),
    report_id     BIGINT REFERENCES reports (id),
    grounds       TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('open', 'upheld', 'reversed')),
    reviewer_id   BIGINT REFERENCES users (id),
    outcome       TEXT NOT NULL DEFAULT '',
    opened_at     DATETIME NOT NULL,
    decided_at    DATETIME
);
CREATE UNIQUE INDEX appeals_one_per_appellant ON appeals (decision_id, appellant_key);
CREATE INDEX appeals_state_idx ON appeals (state, opened_at, id);
CREATE INDEX appeals_case_idx ON appeals (case_id);

-- The thread of an appeal: the appellant's grounds and later messages, and the
-- reviewers' replies (mailed to the appellant).
CREATE TABLE appeal_messages (
    id         INTEGER PRIMARY KEY,
    appeal_id  BIGINT NOT NULL REFERENCES appeals (id),
    author     TEXT NOT NULL CHECK (author IN ('appellant', 'staff')),
    user_id    BIGINT REFERENCES users (id),
    body       TEXT NOT NULL,
    created_at DATETIME NOT NULL
);
CREATE INDEX appeal_messages_appeal_idx ON appeal_messages (appeal_id, id);

-- +goose Down
DROP TABLE appeal_messages;
DROP TABLE appeals;
