-- Staff client (issue 6): the branch lists of holds and transits read one indexed range each,
-- and a MARC file is staged (parsed, matched, kept) before staff choose how to import it.

-- A branch's hold shelf, by pickup deadline (the expired ones are its first rows).
CREATE INDEX holds_shelf_branch_idx ON holds (pickup_branch, pickup_by, id) WHERE status = 'on_shelf';
-- A branch's open transits, to send and to receive, oldest first.
CREATE INDEX transits_open_from_idx ON transits (from_branch, sent_at, id) WHERE received_at IS NULL;
CREATE INDEX transits_open_to_idx ON transits (to_branch, sent_at, id) WHERE received_at IS NULL;

-- One uploaded file. `state` goes staged -> applying -> applied; only one request can move it
-- out of staged, so a batch is never imported twice. `result` is the import's counts (JSON).
CREATE TABLE import_batches (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    file_name   TEXT NOT NULL,
    format      TEXT NOT NULL CHECK (format IN ('iso2709', 'marcxml')),
    staged_by   TEXT NOT NULL,
    staged_at   TEXT NOT NULL,
    records     INTEGER NOT NULL,
    failed      INTEGER NOT NULL,
    matched     INTEGER NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('staged', 'applying', 'applied')),
    on_match    TEXT CHECK (on_match IN ('add', 'replace', 'skip')),
    applied_by  TEXT,
    applied_at  TEXT,
    result      TEXT
);

-- Each record of the file in file order: the record as the import will read it (UTF-8 ISO
-- 2709, items included), or the problem that kept it out; and what it matched when staged.
CREATE TABLE staged_records (
    batch_id       INTEGER NOT NULL REFERENCES import_batches (id),
    number         INTEGER NOT NULL,
    byte_offset    INTEGER NOT NULL,
    title          TEXT NOT NULL,
    marc           BLOB,
    problem        TEXT,
    match_kind     TEXT CHECK (match_kind IN ('identical', 'matched')),
    match_key      TEXT,
    matched_bib_id INTEGER,
    matched_title  TEXT,
    PRIMARY KEY (batch_id, number),
    CHECK ((marc IS NULL) = (problem IS NOT NULL))
);
