-- Circulation: loans, the patron ledger, and the log of overrides.

CREATE TABLE loans (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_id         BIGINT NOT NULL REFERENCES items (id),
    patron_id       BIGINT NOT NULL REFERENCES patrons (id),
    checkout_branch TEXT NOT NULL REFERENCES branches (code),
    checked_out_at  TIMESTAMPTZ NOT NULL,
    due_at          TIMESTAMPTZ NOT NULL,
    renewals        INTEGER NOT NULL DEFAULT 0 CHECK (renewals >= 0),
    returned_at     TIMESTAMPTZ,
    return_branch   TEXT REFERENCES branches (code)
);
-- One open loan per copy: of two desks checking out the same copy at once, exactly one commits.
CREATE UNIQUE INDEX loans_open_item_idx ON loans (item_id) WHERE returned_at IS NULL;
-- A patron's overdue loans are counted from here, stopping at the policy's limit.
CREATE INDEX loans_open_patron_due_idx ON loans (patron_id, due_at) WHERE returned_at IS NULL;

-- Open loans per patron and item type, kept in the loan's transaction: a checkout reads two
-- counts, never the patron's list of loans, so its cost does not grow with the loans.
CREATE TABLE patron_loan_counts (
    patron_id  BIGINT NOT NULL REFERENCES patrons (id),
    item_type  TEXT NOT NULL,
    open_loans INTEGER NOT NULL CHECK (open_loans >= 0),
    PRIMARY KEY (patron_id, item_type)
);

-- The patron's account: charges positive, credits negative, minor units. Rows are only ever
-- inserted; a correction is another row.
CREATE TABLE ledger_entries (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patron_id BIGINT NOT NULL REFERENCES patrons (id),
    kind      TEXT NOT NULL,
    amount    BIGINT NOT NULL,
    loan_id   BIGINT REFERENCES loans (id),
    at        TIMESTAMPTZ NOT NULL,
    staff     TEXT,
    note      TEXT
);
CREATE INDEX ledger_entries_patron_idx ON ledger_entries (patron_id);
CREATE INDEX ledger_entries_loan_idx ON ledger_entries (loan_id) WHERE loan_id IS NOT NULL;
-- The sum of the patron's ledger entries, written in the same transaction as each entry.
ALTER TABLE patrons ADD COLUMN balance BIGINT NOT NULL DEFAULT 0;

-- Staff actions that went past a refusal: who, when, what was overridden and why. It names the
-- patron, never the item: the log is of staff actions, not of what patrons read.
CREATE TABLE override_log (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         TIMESTAMPTZ NOT NULL,
    staff      TEXT NOT NULL,
    action     TEXT NOT NULL,
    overridden TEXT NOT NULL,
    reason     TEXT NOT NULL,
    patron_id  BIGINT REFERENCES patrons (id)
);
