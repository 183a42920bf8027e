-- Two more kept counts for the staff reports (issue 6, session 10): open holds per title, and
-- (at the end) checkouts per title and UTC year.
--
-- Open holds per title (issue 6, session 10), kept beside the copies in `title_copies`: the
-- open holds (waiting, suspended, in transit, on the shelf) per record and pickup branch, and a
-- row per record under the branch `*` with the copies and holds of every branch, as
-- `title_months` keeps its `*`. With a title's holds and copies in one row, the holds-to-copies
-- report is one range of a partial index in its own order, as on PostgreSQL (where looking up
-- each title's copies cost about 100 ms for 20,000 titles with holds).

ALTER TABLE title_copies ADD COLUMN holds INTEGER NOT NULL DEFAULT 0;

-- The report's order (`reports::holds_ratio_sql`), written exactly as the query writes it.
CREATE INDEX title_copies_ratio_idx ON title_copies (
    branch,
    CASE WHEN copies = 0 THEN 0 ELSE 1 END,
    CASE WHEN copies = 0 THEN holds ELSE holds * 1.0 / copies END DESC,
    bib_id
) WHERE holds > 0;

-- New items are counted under `*` too by storage's insert path (sqlite.rs `count_new_items`).
-- A copy's old count out and its new one in, under its branch and under `*` (SQLite's upsert
-- may touch one row twice).
DROP TRIGGER title_copies_update;
CREATE TRIGGER title_copies_update AFTER UPDATE OF bib_id, home_branch, status ON items
WHEN old.bib_id IS NOT new.bib_id OR old.home_branch IS NOT new.home_branch
     OR (old.status = 'withdrawn') <> (new.status = 'withdrawn') BEGIN
    INSERT INTO title_copies (bib_id, branch, copies)
    SELECT old.bib_id, old.home_branch, -1 WHERE old.status <> 'withdrawn'
    UNION ALL SELECT old.bib_id, '*', -1 WHERE old.status <> 'withdrawn'
    UNION ALL SELECT new.bib_id, new.home_branch, 1 WHERE new.status <> 'withdrawn'
    UNION ALL SELECT new.bib_id, '*', 1 WHERE new.status <> 'withdrawn'
    ON CONFLICT (bib_id, branch) DO UPDATE SET copies = copies + excluded.copies;
END;

DROP TRIGGER title_copies_delete;
CREATE TRIGGER title_copies_delete AFTER DELETE ON items WHEN old.status <> 'withdrawn' BEGIN
    INSERT INTO title_copies (bib_id, branch, copies)
    SELECT old.bib_id, old.home_branch, -1 UNION ALL SELECT old.bib_id, '*', -1 WHERE true
    ON CONFLICT (bib_id, branch) DO UPDATE SET copies = copies + excluded.copies;
END;

CREATE TRIGGER title_holds_insert AFTER INSERT ON holds
WHEN new.status IN ('waiting', 'suspended', 'in_transit', 'on_shelf') BEGIN
    INSERT INTO title_copies (bib_id, branch, copies, holds)
    SELECT new.bib_id, new.pickup_branch, 0, 1 UNION ALL SELECT new.bib_id, '*', 0, 1 WHERE true
    ON CONFLICT (bib_id, branch) DO UPDATE SET holds = holds + excluded.holds;
END;

-- A hold filled, cancelled, expired (or reopened), or moved to another pickup branch or record.
CREATE TRIGGER title_holds_update AFTER UPDATE OF bib_id, pickup_branch, status ON holds
WHEN old.bib_id IS NOT new.bib_id OR old.pickup_branch IS NOT new.pickup_branch
     OR (old.status IN ('waiting', 'suspended', 'in_transit', 'on_shelf'))
        <> (new.status IN ('waiting', 'suspended', 'in_transit', 'on_shelf')) BEGIN
    INSERT INTO title_copies (bib_id, branch, copies, holds)
    SELECT old.bib_id, old.pickup_branch, 0, -1 WHERE old.status IN ('waiting', 'suspended', 'in_transit', 'on_shelf')
    UNION ALL SELECT old.bib_id, '*', 0, -1 WHERE old.status IN ('waiting', 'suspended', 'in_transit', 'on_shelf')
    UNION ALL SELECT new.bib_id, new.pickup_branch, 0, 1 WHERE new.status IN ('waiting', 'suspended', 'in_transit', 'on_shelf')
    UNION ALL SELECT new.bib_id, '*', 0, 1 WHERE new.status IN ('waiting', 'suspended', 'in_transit', 'on_shelf')
    ON CONFLICT (bib_id, branch) DO UPDATE SET holds = holds + excluded.holds;
END;

CREATE TRIGGER title_holds_delete AFTER DELETE ON holds
WHEN old.status IN ('waiting', 'suspended', 'in_transit', 'on_shelf') BEGIN
    INSERT INTO title_copies (bib_id, branch, copies, holds)
    SELECT old.bib_id, old.pickup_branch, 0, -1 UNION ALL SELECT old.bib_id, '*', 0, -1 WHERE true
    ON CONFLICT (bib_id, branch) DO UPDATE SET holds = holds + excluded.holds;
END;

-- The library so far: every title's copies under `*`, then the open holds under their pickup
-- branch and `*`.
INSERT INTO title_copies (bib_id, branch, copies)
SELECT bib_id, '*', sum(copies) FROM title_copies WHERE branch <> '*' GROUP BY bib_id
ON CONFLICT (bib_id, branch) DO UPDATE SET copies = excluded.copies;
INSERT INTO title_copies (bib_id, branch, copies, holds)
SELECT bib_id, branch, 0, count(*) FROM (
    SELECT bib_id, pickup_branch AS branch FROM holds WHERE status IN ('waiting', 'suspended', 'in_transit', 'on_shelf')
    UNION ALL SELECT bib_id, '*' FROM holds WHERE status IN ('waiting', 'suspended', 'in_transit', 'on_shelf')
) WHERE true GROUP BY 1, 2
ON CONFLICT (bib_id, branch) DO UPDATE SET holds = excluded.holds;

-- ---------------------------------------------------------------------------------------------
-- Checkouts per title, branch and UTC year (`YYYY`), beside 0019's per month (branch `*` for
-- every branch): the top-titles merge reads a year whose twelve months a span touches as one
-- list, which settles on lending spread evenly over the titles where twelve month lists never
-- do (each list's next title may add one more checkout).

CREATE TABLE title_years (
    bib_id    INTEGER NOT NULL,
    branch    TEXT NOT NULL,
    year      TEXT NOT NULL,
    checkouts INTEGER NOT NULL,
    PRIMARY KEY (bib_id, branch, year)
) WITHOUT ROWID;
CREATE INDEX title_years_rank_idx ON title_years (year, branch, checkouts DESC, bib_id);

CREATE TRIGGER title_year_count_loan_insert AFTER INSERT ON loans BEGIN
    INSERT INTO title_years (bib_id, branch, year, checkouts)
    SELECT i.bib_id, b.branch, substr(new.checked_out_at, 1, 4), 1
    FROM items i, (SELECT new.checkout_branch AS branch UNION ALL SELECT '*') b WHERE i.id = new.item_id
    ON CONFLICT (bib_id, branch, year) DO UPDATE SET checkouts = checkouts + excluded.checkouts;
END;

CREATE TRIGGER title_year_count_loan_delete AFTER DELETE ON loans BEGIN
    INSERT INTO title_years (bib_id, branch, year, checkouts)
    SELECT i.bib_id, b.branch, substr(old.checked_out_at, 1, 4), -1
    FROM items i, (SELECT old.checkout_branch AS branch UNION ALL SELECT '*') b WHERE i.id = old.item_id
    ON CONFLICT (bib_id, branch, year) DO UPDATE SET checkouts = checkouts + excluded.checkouts;
END;

CREATE TRIGGER title_year_count_loan_move AFTER UPDATE OF checked_out_at, checkout_branch, item_id ON loans
WHEN old.checked_out_at IS NOT new.checked_out_at OR old.checkout_branch IS NOT new.checkout_branch
     OR old.item_id IS NOT new.item_id BEGIN
    INSERT INTO title_years (bib_id, branch, year, checkouts)
    SELECT i.bib_id, b.branch, substr(old.checked_out_at, 1, 4), -1
    FROM items i, (SELECT old.checkout_branch AS branch UNION ALL SELECT '*') b WHERE i.id = old.item_id
    ON CONFLICT (bib_id, branch, year) DO UPDATE SET checkouts = checkouts + excluded.checkouts;
    INSERT INTO title_years (bib_id, branch, year, checkouts)
    SELECT i.bib_id, b.branch, substr(new.checked_out_at, 1, 4), 1
    FROM items i, (SELECT new.checkout_branch AS branch UNION ALL SELECT '*') b WHERE i.id = new.item_id
    ON CONFLICT (bib_id, branch, year) DO UPDATE SET checkouts = checkouts + excluded.checkouts;
END;

-- An item moved to another record takes its loans' checkouts along.
CREATE TRIGGER title_year_count_item_record AFTER UPDATE OF bib_id ON items WHEN old.bib_id IS NOT new.bib_id BEGIN
    INSERT INTO title_years (bib_id, branch, year, checkouts)
    SELECT t.bib_id, CASE WHEN b.every THEN '*' ELSE l.checkout_branch END, substr(l.checked_out_at, 1, 4),
           t.sign * count(*)
    FROM loans l, (SELECT 0 AS every UNION ALL SELECT 1) b,
         (SELECT old.bib_id AS bib_id, -1 AS sign UNION ALL SELECT new.bib_id, 1) t
    WHERE l.item_id = new.id GROUP BY 1, 2, 3, t.sign
    ON CONFLICT (bib_id, branch, year) DO UPDATE SET checkouts = checkouts + excluded.checkouts;
END;

INSERT INTO title_years (bib_id, branch, year, checkouts)
SELECT bib_id, branch, substr(month, 1, 4), sum(checkouts) FROM title_months WHERE 1 GROUP BY 1, 2, 3;
