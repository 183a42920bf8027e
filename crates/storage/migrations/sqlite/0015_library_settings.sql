-- The library's circulation settings as staff edited them in the staff client, one JSON document
-- per name (`circulation`, `patrons`). A document here takes the place of the settings file's
-- table of the same name; the file stays the starting point of a new library. `version` counts
-- the edits, so that an editor who started from an older version is refused instead of
-- silently overwriting someone else's change.

CREATE TABLE library_settings (
    name       TEXT PRIMARY KEY,
    body       TEXT NOT NULL CHECK (json_valid(body)),
    version    INTEGER NOT NULL CHECK (version >= 1),
    changed_by TEXT,
    changed_at TEXT NOT NULL
);
