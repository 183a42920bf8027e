-- Copies per title (issue 6, session 9): the items not withdrawn per record and home branch,
-- kept in the transaction of every item write, so the holds-to-copies report reads one short
-- range of this table per title with holds instead of counting the title's items.

CREATE TABLE title_copies (
    bib_id INTEGER NOT NULL,
    branch TEXT NOT NULL,
    copies INTEGER NOT NULL,
    PRIMARY KEY (bib_id, branch)
) WITHOUT ROWID;

-- A new item is counted by storage's insert path (sqlite.rs `count_new_items`), as 0016 counts
-- it for the collection, not by a trigger: on SQLite an insert trigger made imports of items
-- several times slower.

-- A copy withdrawn or returned to the collection, moved to another home branch or to another
-- record: its old count out, its new one in.
CREATE TRIGGER title_copies_update AFTER UPDATE OF bib_id, home_branch, status ON items
WHEN old.bib_id IS NOT new.bib_id OR old.home_branch IS NOT new.home_branch
     OR (old.status = 'withdrawn') <> (new.status = 'withdrawn') BEGIN
    INSERT INTO title_copies (bib_id, branch, copies)
    SELECT old.bib_id, old.home_branch, -1 WHERE old.status <> 'withdrawn'
    UNION ALL SELECT new.bib_id, new.home_branch, 1 WHERE new.status <> 'withdrawn'
    ON CONFLICT (bib_id, branch) DO UPDATE SET copies = copies + excluded.copies;
END;

CREATE TRIGGER title_copies_delete AFTER DELETE ON items WHEN old.status <> 'withdrawn' BEGIN
    INSERT INTO title_copies (bib_id, branch, copies) VALUES (old.bib_id, old.home_branch, -1)
    ON CONFLICT (bib_id, branch) DO UPDATE SET copies = copies + excluded.copies;
END;

INSERT INTO title_copies (bib_id, branch, copies)
SELECT bib_id, home_branch, count(*) FROM items WHERE status <> 'withdrawn' GROUP BY 1, 2;
