-- Shelfmark schema, version 1 (PostgreSQL).
--
-- The same tables as the SQLite schema, with native types: TIMESTAMPTZ, DATE, BYTEA, TEXT[].
-- Constraint names are spelled out because the storage layer turns them into sentences.

CREATE TABLE branches (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE shelving_locations (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE item_types (
    code     TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    loanable BOOLEAN NOT NULL
);

CREATE TABLE patrons (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    card_number TEXT NOT NULL CONSTRAINT patrons_card_number_key UNIQUE,
    surname     TEXT NOT NULL,
    first_name  TEXT NOT NULL,
    category    TEXT NOT NULL,
    home_branch TEXT NOT NULL CONSTRAINT patrons_home_branch_fkey REFERENCES branches (code),
    expiry_date DATE NOT NULL,
    email       TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX patrons_home_branch_idx ON patrons (home_branch);

CREATE TABLE bib_records (
    id                        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    marc                      BYTEA NOT NULL,
    marc_sha256               BYTEA NOT NULL,
    title                     TEXT NOT NULL,
    title_fold                TEXT NOT NULL,
    responsibility            TEXT,
    authors                   TEXT[] NOT NULL DEFAULT '{}',
    authors_fold              TEXT NOT NULL DEFAULT '',
    isbns                     TEXT[] NOT NULL DEFAULT '{}',
    issns                     TEXT[] NOT NULL DEFAULT '{}',
    lccn                      TEXT,
    oclc_numbers              TEXT[] NOT NULL DEFAULT '{}',
    control_number            TEXT,
    control_number_identifier TEXT,
    publisher                 TEXT,
    year                      INTEGER,
    language                  TEXT,
    format                    TEXT NOT NULL,
    subjects                  TEXT[] NOT NULL DEFAULT '{}',
    series                    TEXT[] NOT NULL DEFAULT '{}',
    lc_call_number            TEXT,
    dewey_call_number         TEXT,
    edition                   TEXT,
    created_at                TIMESTAMPTZ NOT NULL,
    updated_at                TIMESTAMPTZ NOT NULL
);
CREATE INDEX bib_records_control_number_idx ON bib_records (control_number, control_number_identifier);
CREATE INDEX bib_records_marc_sha256_idx ON bib_records (marc_sha256);

CREATE TABLE bib_isbns (
    isbn   TEXT NOT NULL,
    bib_id BIGINT NOT NULL REFERENCES bib_records (id) ON DELETE CASCADE,
    PRIMARY KEY (isbn, bib_id)
);
CREATE INDEX bib_isbns_bib_id_idx ON bib_isbns (bib_id);

CREATE TABLE bib_oclc_numbers (
    oclc_number TEXT NOT NULL,
    bib_id      BIGINT NOT NULL REFERENCES bib_records (id) ON DELETE CASCADE,
    PRIMARY KEY (oclc_number, bib_id)
);
CREATE INDEX bib_oclc_numbers_bib_id_idx ON bib_oclc_numbers (bib_id);

CREATE TABLE items (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bib_id              BIGINT NOT NULL CONSTRAINT items_bib_id_fkey REFERENCES bib_records (id),
    barcode             TEXT NOT NULL CONSTRAINT items_barcode_key UNIQUE,
    home_branch         TEXT NOT NULL CONSTRAINT items_home_branch_fkey REFERENCES branches (code),
    holding_branch      TEXT NOT NULL CONSTRAINT items_holding_branch_fkey REFERENCES branches (code),
    location            TEXT CONSTRAINT items_location_fkey REFERENCES shelving_locations (code),
    collection          TEXT,
    call_number         TEXT,
    -- Filled by the call-number work: a byte string whose order is shelf order.
    call_number_sort    BYTEA,
    item_type           TEXT NOT NULL CONSTRAINT items_item_type_fkey REFERENCES item_types (code),
    price               BIGINT,
    public_note         TEXT,
    staff_note          TEXT,
    materials_specified TEXT,
    status              TEXT NOT NULL CONSTRAINT items_status_check CHECK (status IN ('available',
                            'checked_out', 'in_transit', 'on_hold_shelf', 'lost', 'missing',
                            'damaged', 'in_repair', 'withdrawn', 'on_order')),
    acquired_on         DATE,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX items_bib_id_idx ON items (bib_id);
CREATE INDEX items_shelf_idx ON items (home_branch, location, call_number_sort);
CREATE INDEX items_holding_branch_idx ON items (holding_branch);
-- Deliberately no index on location, item type or status yet: every index costs each item write
-- (import speed), and nothing deletes locations or item types. Add them with the work that
-- needs them.

-- The change feed (transactional outbox). Writers take an advisory lock just before they insert
-- their change rows and hold it to commit, so ids are handed out in commit order: a follower
-- reading `id > last_seen` never misses a row that commits late.
CREATE TABLE changes (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entity    TEXT NOT NULL CHECK (entity IN ('record', 'item')),
    entity_id BIGINT NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('created', 'updated', 'deleted')),
    at        TIMESTAMPTZ NOT NULL
);
