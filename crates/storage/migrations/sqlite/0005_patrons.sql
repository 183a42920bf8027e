-- Patrons (issue 4): contacts, guarantor, preferences, privacy, duplicate keys, blocks, the
-- cards a patron had before, the card-number sequence, and the anonymous patron.

ALTER TABLE patrons ADD COLUMN birth_date TEXT;
ALTER TABLE patrons ADD COLUMN address TEXT;
ALTER TABLE patrons ADD COLUMN phone TEXT;
ALTER TABLE patrons ADD COLUMN guarantor_id INTEGER REFERENCES patrons (id);
ALTER TABLE patrons ADD COLUMN notice_preference TEXT NOT NULL DEFAULT 'email'
    CHECK (notice_preference IN ('email', 'sms', 'print'));
-- Only 'keep' keeps returned loans linked to the patron (LIBRARY.md, Privacy).
ALTER TABLE patrons ADD COLUMN reading_history TEXT NOT NULL DEFAULT 'default'
    CHECK (reading_history IN ('keep', 'default', 'never'));
-- Duplicate detection: folded "surname|first name|birth date" and the lower-cased email, as
-- circulation::registration computes them.
ALTER TABLE patrons ADD COLUMN name_key TEXT;
ALTER TABLE patrons ADD COLUMN email_key TEXT;
UPDATE patrons SET email_key = lower(trim(email)) WHERE email IS NOT NULL AND trim(email) <> '';
CREATE INDEX patrons_name_key_idx ON patrons (name_key) WHERE name_key IS NOT NULL;
CREATE INDEX patrons_email_key_idx ON patrons (email_key) WHERE email_key IS NOT NULL;
CREATE INDEX patrons_guarantor_idx ON patrons (guarantor_id) WHERE guarantor_id IS NOT NULL;

-- Blocks are never deleted: lifting one stamps who and when.
CREATE TABLE patron_blocks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    patron_id  INTEGER NOT NULL REFERENCES patrons (id),
    kind       TEXT NOT NULL CHECK (kind IN ('manual', 'lost_card', 'address_unknown')),
    reason     TEXT NOT NULL,
    until_date TEXT,
    placed_at  TEXT NOT NULL,
    placed_by  TEXT NOT NULL,
    lifted_at  TEXT,
    lifted_by  TEXT
);
-- A checkout reads the patron's unlifted blocks from here.
CREATE INDEX patron_blocks_active_idx ON patron_blocks (patron_id) WHERE lifted_at IS NULL;
CREATE INDEX patron_blocks_patron_idx ON patron_blocks (patron_id, id);

-- Card numbers a patron had before their current one. A number here never works again and is
-- never issued again.
CREATE TABLE patron_cards (
    card_number TEXT PRIMARY KEY,
    patron_id   INTEGER NOT NULL REFERENCES patrons (id),
    replaced_at TEXT NOT NULL,
    replaced_by TEXT NOT NULL,
    reason      TEXT
) WITHOUT ROWID;
CREATE INDEX patron_cards_patron_idx ON patron_cards (patron_id);

-- The next sequence number for issued cards (the pattern makes the number from it).
CREATE TABLE patron_card_sequence (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    next INTEGER NOT NULL CHECK (next > 0)
);
INSERT INTO patron_card_sequence (id, next) VALUES (1, 1);

-- The one patron anonymised returned loans point at (created on first use).
CREATE TABLE anonymous_patron (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    patron_id INTEGER NOT NULL REFERENCES patrons (id)
);
