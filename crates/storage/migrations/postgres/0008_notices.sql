-- Notices and daily jobs: the library's templates, the messages sent, the keys that stop a
-- second copy of a notice, and the daily jobs' runs.

CREATE TABLE notice_templates (
    kind       TEXT NOT NULL,
    channel    TEXT NOT NULL CHECK (channel IN ('email', 'print')),
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (kind, channel)
);

-- One row per message, email or print. status: pending -> sent | failed (email), print.
CREATE TABLE notices (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patron_id    BIGINT NOT NULL REFERENCES patrons (id),
    kind         TEXT NOT NULL,
    channel      TEXT NOT NULL CHECK (channel IN ('email', 'print')),
    recipient    TEXT,
    subject      TEXT NOT NULL,
    body         TEXT NOT NULL,
    day          DATE NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'print')),
    error        TEXT,
    delivered_at TIMESTAMPTZ
);
CREATE INDEX notices_undelivered_idx ON notices (id) WHERE status IN ('pending', 'failed');
CREATE INDEX notices_print_idx ON notices (day, patron_id) WHERE channel = 'print';

-- What each notice was about: (patron, kind, loan/hold/card, due date/expiry) at most once.
CREATE TABLE notice_keys (
    patron_id BIGINT NOT NULL REFERENCES patrons (id),
    kind      TEXT NOT NULL,
    subject   TEXT NOT NULL,
    occasion  TEXT NOT NULL,
    -- Set in the same transaction, once the message is stored.
    notice_id BIGINT REFERENCES notices (id),
    PRIMARY KEY (patron_id, kind, subject, occasion)
);
-- The notices a loan had for its current due date, looked up per loan.
CREATE INDEX notice_keys_subject_idx ON notice_keys (subject, occasion);

CREATE TABLE job_runs (
    job         TEXT NOT NULL,
    day         DATE NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL,
    summary     TEXT NOT NULL,
    PRIMARY KEY (job, day)
);

-- The loans a notice job looks at are found by due time, not patron by patron.
CREATE INDEX loans_open_due_idx ON loans (due_at) WHERE returned_at IS NULL;
CREATE INDEX patrons_expiry_date_idx ON patrons (expiry_date);
