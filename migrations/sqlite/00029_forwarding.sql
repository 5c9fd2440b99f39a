-- +goose Up
-- Forwarding a report to the people who can act on it (the customer, the origin
-- host behind a pass-through site, for csam the hotline) and the customer's
-- response window.

-- The origin hosting provider of a pass-through site, when we know it.
ALTER TABLE sites ADD COLUMN origin_host TEXT NOT NULL DEFAULT '';
ALTER TABLE sites ADD COLUMN origin_abuse_email TEXT NOT NULL DEFAULT '';

-- A case forwarded to its customer waits for an answer until response_due_at;
-- response_flag is '' (never forwarded), awaiting, responded or no_response.
ALTER TABLE cases ADD COLUMN response_due_at DATETIME;
ALTER TABLE cases ADD COLUMN response_flag TEXT NOT NULL DEFAULT '';

-- Forwarded notices are notices of kind customer_action (the kind's CHECK stays
-- as it is); topic tells a forwarded report from a notice of action.
ALTER TABLE notices ADD COLUMN topic TEXT NOT NULL DEFAULT '';

-- What the reporter chose, per report and recipient.
CREATE TABLE forward_choices (
    report_id BIGINT NOT NULL REFERENCES reports (id),
    recipient TEXT NOT NULL CHECK (recipient IN ('customer', 'origin', 'hotline')),
    choice    TEXT NOT NULL CHECK (choice IN ('send', 'send_anonymously', 'do_not_send')),
    PRIMARY KEY (report_id, recipient)
);

-- The hotline's copy of a csam report: a JSON document legal downloads and
-- submits (never an email with content).
CREATE TABLE hotline_exports (
    id         INTEGER PRIMARY KEY,
    report_id  BIGINT NOT NULL REFERENCES reports (id),
    case_id    BIGINT NOT NULL REFERENCES cases (id),
    payload    TEXT NOT NULL,
    created_at DATETIME NOT NULL
);
CREATE INDEX hotline_exports_case_idx ON hotline_exports (case_id);

-- What was sent to whom: one row per report and recipient forwarded to.
CREATE TABLE forwards (
    id               INTEGER PRIMARY KEY,
    report_id        BIGINT NOT NULL REFERENCES reports (id),
    case_id          BIGINT NOT NULL REFERENCES cases (id),
    recipient        TEXT NOT NULL CHECK (recipient IN ('customer', 'origin', 'hotline')),
    address          TEXT NOT NULL,
    anonymous        BOOLEAN NOT NULL,
    notice_id        BIGINT REFERENCES notices (id),
    hotline_export_id BIGINT REFERENCES hotline_exports (id),
    created_at       DATETIME NOT NULL
);
CREATE INDEX forwards_case_idx ON forwards (case_id, id);

-- The customer's answers through the signed response link.
CREATE TABLE customer_responses (
    id         INTEGER PRIMARY KEY,
    case_id    BIGINT NOT NULL REFERENCES cases (id),
    kind       TEXT NOT NULL CHECK (kind IN ('removed', 'disputed', 'other')),
    body       TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created_at DATETIME NOT NULL
);
CREATE INDEX customer_responses_case_idx ON customer_responses (case_id, id);
CREATE INDEX customer_responses_token_idx ON customer_responses (token_hash, created_at);

-- How long a forwarded case waits for the customer, per category (hours).
CREATE TABLE response_windows (
    category TEXT PRIMARY KEY,
    hours    INTEGER NOT NULL CHECK (hours BETWEEN 1 AND 2160)
);
INSERT INTO response_windows (category, hours) VALUES
    ('phishing', 24), ('malware', 24), ('copyright', 72), ('trademark', 72),
    ('harassment', 48), ('spam', 72), ('other', 72), ('threat', 4),
    ('violent_extremism', 4), ('csam', 1);

-- +goose Down
DROP TABLE response_windows;
DROP TABLE customer_responses;
DROP TABLE forwards;
DROP TABLE hotline_exports;
DROP TABLE forward_choices;
ALTER TABLE notices DROP COLUMN topic;
ALTER TABLE cases DROP COLUMN response_flag;
ALTER TABLE cases DROP COLUMN response_due_at;
ALTER TABLE sites DROP COLUMN origin_abuse_email;
ALTER TABLE sites DROP COLUMN origin_host;
