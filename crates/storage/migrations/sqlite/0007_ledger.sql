-- The patron ledger's detail, lost and claimed-returned loans, damage inspections and the repair
-- queue. Ledger rows stay insert-only: what the pure ledger needs to replay an entry (its item,
-- payment method, the charge a refund gives back, and where each credit went) is written with
-- the entry and never changed.

ALTER TABLE ledger_entries ADD COLUMN item_id INTEGER REFERENCES items (id);
-- cash or card, for payments and payouts.
ALTER TABLE ledger_entries ADD COLUMN method TEXT;
-- The charge a refund gives money back on.
ALTER TABLE ledger_entries ADD COLUMN refund_of INTEGER REFERENCES ledger_entries (id);

-- The parts of a payment, waiver or write-off applied to each charge, in the order applied.
CREATE TABLE ledger_allocations (
    credit_id INTEGER NOT NULL REFERENCES ledger_entries (id),
    seq       INTEGER NOT NULL,
    charge_id INTEGER NOT NULL REFERENCES ledger_entries (id),
    amount    INTEGER NOT NULL CHECK (amount > 0),
    PRIMARY KEY (credit_id, seq)
) WITHOUT ROWID;
CREATE INDEX ledger_allocations_charge_idx ON ledger_allocations (charge_id);

-- A loan whose fines stopped: declared lost, or the patron claims to have returned it. One per
-- loan, so the daily lost job run twice declares nothing the second time.
CREATE TABLE loan_stops (
    loan_id   INTEGER PRIMARY KEY REFERENCES loans (id),
    kind      TEXT NOT NULL CHECK (kind = 'lost' OR kind = 'claims_returned'),
    patron_id INTEGER NOT NULL REFERENCES patrons (id),
    item_id   INTEGER NOT NULL REFERENCES items (id),
    at        TEXT NOT NULL,
    staff     TEXT,
    note      TEXT NOT NULL
);
-- A patron's claims-returned count is read from here.
CREATE INDEX loan_stops_patron_idx ON loan_stops (patron_id, kind);

-- Damage inspections at check-in: what the clerk saw, and what it led to.
CREATE TABLE inspections (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id         INTEGER NOT NULL REFERENCES items (id),
    branch          TEXT NOT NULL REFERENCES branches (code),
    at              TEXT NOT NULL,
    staff           TEXT,
    condition       TEXT NOT NULL CHECK (condition = 'good' OR condition = 'worn' OR condition = 'damaged'
                                         OR condition = 'unusable'),
    note            TEXT NOT NULL,
    loan_id         INTEGER REFERENCES loans (id),
    charge_entry_id INTEGER REFERENCES ledger_entries (id),
    to_repair       INTEGER NOT NULL CHECK (to_repair = 0 OR to_repair = 1)
);
CREATE INDEX inspections_item_idx ON inspections (item_id);

-- The repair queue: an item sent to repair by an inspection, until it is repaired.
CREATE TABLE repairs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id       INTEGER NOT NULL REFERENCES items (id),
    inspection_id INTEGER NOT NULL REFERENCES inspections (id),
    branch        TEXT NOT NULL REFERENCES branches (code),
    queued_at     TEXT NOT NULL,
    repaired_at   TEXT,
    repaired_by   TEXT
);
CREATE UNIQUE INDEX repairs_open_item_idx ON repairs (item_id) WHERE repaired_at IS NULL;
CREATE INDEX repairs_open_branch_idx ON repairs (branch, queued_at) WHERE repaired_at IS NULL;
