-- OAI-PMH harvesting. A record's datestamp is its updated_at; lists run in (datestamp, id)
-- order from a position, so both orders are indexed.
CREATE INDEX bib_records_updated_at_idx ON bib_records (updated_at, id);

-- Persistent deleted records: one tombstone per deleted bibliographic record, written in the
-- transaction that deletes it, kept for good (OAI-PMH deletedRecord "persistent"). Record ids
-- are never reused (AUTOINCREMENT), so a tombstone never shadows a live record.
CREATE TABLE deleted_records (
    bib_id     INTEGER PRIMARY KEY NOT NULL,
    deleted_at TEXT NOT NULL
);
CREATE INDEX deleted_records_deleted_at_idx ON deleted_records (deleted_at, bib_id);
