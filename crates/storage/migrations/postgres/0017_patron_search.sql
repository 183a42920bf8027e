-- Finding a patron by the start of their name or by phone (issue 6) from an index, not a walk of
-- the patrons table.
-- search_name: "surname first name" folded as circulation::registration::search_name folds it
-- (case and accents ignored); phone_key: the number's digits reversed, so the last digits a
-- patron reads out are a prefix. Both are computed in Rust: a write leaves them NULL and the same
-- transaction fills every NULL row (storage fills the rows that exist when this runs, on open).
-- Byte order ("C"), so a prefix is an index range whatever the database's collation.
ALTER TABLE patrons ADD COLUMN search_name TEXT COLLATE "C";
ALTER TABLE patrons ADD COLUMN phone_key TEXT COLLATE "C";
CREATE INDEX patrons_search_name_idx ON patrons (search_name, id);
CREATE INDEX patrons_phone_key_idx ON patrons (phone_key) WHERE phone_key IS NOT NULL;
CREATE INDEX patrons_search_keys_due_idx ON patrons (id) WHERE search_name IS NULL;
