-- The shelf: call-number sort keys kept current, items' last-seen date, inventories.

-- Which layout of call-number sort key `items.call_number_sort` holds (callnumber's
-- SORT_KEY_VERSION). Opening a database whose keys are of another version rebuilds them.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- When an inventory last scanned the item on a shelf (UTC).
ALTER TABLE items ADD COLUMN last_seen_at TEXT;

-- A shelf reading: a branch, optionally one shelving location and a call-number range. The
-- range is kept as typed; its keys are computed when the report is built.
CREATE TABLE inventories (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    branch           TEXT NOT NULL REFERENCES branches (code),
    location         TEXT REFERENCES shelving_locations (code),
    call_number_from TEXT,
    call_number_to   TEXT,
    started_at       TEXT NOT NULL
);

-- Barcodes as scanned, in scan order (seq), uploaded in as many batches as it takes. Kept as
-- typed: a barcode the catalog does not know is a finding, not an error.
CREATE TABLE inventory_scans (
    inventory_id INTEGER NOT NULL REFERENCES inventories (id),
    seq          INTEGER NOT NULL,
    barcode      TEXT NOT NULL,
    scanned_at   TEXT NOT NULL,
    PRIMARY KEY (inventory_id, seq)
) WITHOUT ROWID;
