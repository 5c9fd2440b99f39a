-- +goose Up
-- Inbound mail (email intake): every message Docket receives, parsed or not, is
-- kept whole here first, so nothing is ever dropped. status: filed (its reports
-- were filed; inbound_mail_reports holds them), parsed (read, but Docket could
-- not file it by itself: e.g. the report names only an IP address), unparsed
-- (not an ARF/X-ARF report, or broken), dismissed (a reviewer set it aside).
-- parsed and unparsed make the "Unparsed mail" queue.
CREATE TABLE inbound_mail (
    id            BIGSERIAL PRIMARY KEY,
    received_at   TIMESTAMPTZ NOT NULL,
    source        TEXT NOT NULL,
    envelope_from TEXT NOT NULL DEFAULT '',
    from_name     TEXT NOT NULL DEFAULT '',
    from_email    TEXT NOT NULL DEFAULT '',
    subject       TEXT NOT NULL DEFAULT '',
    message_id    TEXT NOT NULL DEFAULT '',
    format        TEXT NOT NULL DEFAULT '',
    size          BIGINT NOT NULL,
    sha256        TEXT NOT NULL UNIQUE,
    raw           BYTEA NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('parsed', 'unparsed', 'filed', 'dismissed')),
    reason        TEXT NOT NULL DEFAULT '',
    -- A message about child sexual abuse material is read only by those who
    -- may read the restricted queue (set when a report in it is csam).
    restricted    BOOLEAN NOT NULL DEFAULT FALSE,
    handled_by    BIGINT REFERENCES users (id),
    handled_at    TIMESTAMPTZ
);
CREATE INDEX inbound_mail_status_idx ON inbound_mail (status, received_at);

CREATE TABLE inbound_mail_reports (
    inbound_mail_id BIGINT NOT NULL REFERENCES inbound_mail (id),
    report_id       BIGINT NOT NULL REFERENCES reports (id),
    PRIMARY KEY (inbound_mail_id, report_id)
);

-- +goose Down
DROP TABLE inbound_mail_reports;
DROP TABLE inbound_mail;
