-- Shelfmark schema, version 1 (SQLite).
--
-- CHECKs list allowed values with OR, not IN (...): SQLite builds a temporary index for an IN
-- list on every row it checks, which tripled the cost of an insert.
--
-- Timestamps are TEXT in RFC 3339 UTC with microseconds (`2024-05-01T09:30:00.000000Z`), which
-- sorts as time. Codes (branches, locations, item types) are their own primary keys: they are the
-- stable names staff and files use. Record and item ids are AUTOINCREMENT so that an id is never
-- reused after a delete (the change feed and external links name rows by id).

CREATE TABLE branches (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL
);

CREATE TABLE shelving_locations (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL
);

CREATE TABLE item_types (
    code     TEXT PRIMARY KEY NOT NULL,
    name     TEXT NOT NULL,
    loanable INTEGER NOT NULL CHECK (loanable = 0 OR loanable = 1)
);

CREATE TABLE patrons (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    card_number TEXT NOT NULL UNIQUE,
    surname     TEXT NOT NULL,
    first_name  TEXT NOT NULL,
    category    TEXT NOT NULL,
    home_branch TEXT NOT NULL REFERENCES branches (code),
    expiry_date TEXT NOT NULL,
    email       TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX patrons_home_branch_idx ON patrons (home_branch);

-- The full MARC record is the source of truth; every other column is derived from it and
-- rewritten whenever it changes. List-valued fields are JSON arrays (in record order); the
-- identifiers used for matching are also kept in indexed child tables.
CREATE TABLE bib_records (
    id                        INTEGER PRIMARY KEY AUTOINCREMENT,
    marc                      BLOB NOT NULL,
    marc_sha256               BLOB NOT NULL,
    title                     TEXT NOT NULL,
    title_fold                TEXT NOT NULL,
    responsibility            TEXT,
    authors                   TEXT NOT NULL DEFAULT '[]',
    authors_fold              TEXT NOT NULL DEFAULT '',
    isbns                     TEXT NOT NULL DEFAULT '[]',
    issns                     TEXT NOT NULL DEFAULT '[]',
    lccn                      TEXT,
    oclc_numbers              TEXT NOT NULL DEFAULT '[]',
    control_number            TEXT,
    control_number_identifier TEXT,
    publisher                 TEXT,
    year                      INTEGER,
    language                  TEXT,
    format                    TEXT NOT NULL,
    subjects                  TEXT NOT NULL DEFAULT '[]',
    series                    TEXT NOT NULL DEFAULT '[]',
    lc_call_number            TEXT,
    dewey_call_number         TEXT,
    edition                   TEXT,
    created_at                TEXT NOT NULL,
    updated_at                TEXT NOT NULL
);
CREATE INDEX bib_records_control_number_idx ON bib_records (control_number, control_number_identifier);
CREATE INDEX bib_records_marc_sha256_idx ON bib_records (marc_sha256);

CREATE TABLE bib_isbns (
    isbn   TEXT NOT NULL,
    bib_id INTEGER NOT NULL REFERENCES bib_records (id) ON DELETE CASCADE,
    PRIMARY KEY (isbn, bib_id)
) WITHOUT ROWID;
CREATE INDEX bib_isbns_bib_id_idx ON bib_isbns (bib_id);

CREATE TABLE bib_oclc_numbers (
    oclc_number TEXT NOT NULL,
    bib_id      INTEGER NOT NULL REFERENCES bib_records (id) ON DELETE CASCADE,
    PRIMARY KEY (oclc_number, bib_id)
) WITHOUT ROWID;
CREATE INDEX bib_oclc_numbers_bib_id_idx ON bib_oclc_numbers (bib_id);

CREATE TABLE items (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    bib_id              INTEGER NOT NULL REFERENCES bib_records (id),
    barcode             TEXT NOT NULL UNIQUE,
    home_branch         TEXT NOT NULL REFERENCES branches (code),
    holding_branch      TEXT NOT NULL REFERENCES branches (code),
    location            TEXT REFERENCES shelving_locations (code),
    collection          TEXT,
    call_number         TEXT,
    -- Filled by the call-number work: a byte string whose order is shelf order.
    call_number_sort    BLOB,
    item_type           TEXT NOT NULL REFERENCES item_types (code),
    price               INTEGER,
    public_note         TEXT,
    staff_note          TEXT,
    materials_specified TEXT,
    status              TEXT NOT NULL CHECK (status = 'available' OR status = 'checked_out'
                            OR status = 'in_transit' OR status = 'on_hold_shelf' OR status = 'lost'
                            OR status = 'missing' OR status = 'damaged' OR status = 'in_repair'
                            OR status = 'withdrawn' OR status = 'on_order'),
    acquired_on         TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE INDEX items_bib_id_idx ON items (bib_id);
-- Shelf lists, pull lists and inventory walk a branch's location in shelf order.
CREATE INDEX items_shelf_idx ON items (home_branch, location, call_number_sort);
CREATE INDEX items_holding_branch_idx ON items (holding_branch);
-- Deliberately no index on location, item type or status yet: every index costs each item write
-- (import speed), and nothing deletes locations or item types. Add them with the work that
-- needs them.

-- The change feed (transactional outbox): one row per record or item write, written in the same
-- transaction. Ids are monotonic in commit order, so a follower (the search index) reads
-- `id > last_seen` and never misses a change.
CREATE TABLE changes (
    -- Not AUTOINCREMENT (one write less per change): rows are only ever appended, and a job that
    -- prunes the feed must keep the newest row so that ids never go back.
    id        INTEGER PRIMARY KEY,
    entity    TEXT NOT NULL CHECK (entity = 'record' OR entity = 'item'),
    entity_id INTEGER NOT NULL,
    kind      TEXT NOT NULL CHECK (kind = 'created' OR kind = 'updated' OR kind = 'deleted'),
    at        TEXT NOT NULL
);
