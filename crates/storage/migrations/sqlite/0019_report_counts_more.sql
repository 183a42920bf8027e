-- More report counts (issue 6, session 8): money per UTC day, checkouts per title and UTC month,
-- and the copies of a title found from one index, so the money, top-titles and holds-to-copies
-- reports over a year read a few hundred rows instead of every ledger entry, loan or item.

-- ---------------------------------------------------------------------------------------------
-- Money per UTC day (`YYYY-MM-DD`), kind and method ('' for none), beside `ledger_hours`: a
-- year by day reads 365 days' rows instead of 8,760 hours'. Separate triggers from 0016's, so
-- each table's counts stay with the migration that made them.

CREATE TABLE ledger_days (
    day     TEXT NOT NULL,
    kind    TEXT NOT NULL,
    method  TEXT NOT NULL,
    entries INTEGER NOT NULL,
    amount  INTEGER NOT NULL,
    PRIMARY KEY (day, kind, method)
) WITHOUT ROWID;

CREATE TRIGGER ledger_day_count_insert AFTER INSERT ON ledger_entries BEGIN
    INSERT INTO ledger_days (day, kind, method, entries, amount)
    VALUES (substr(new.at, 1, 10), new.kind, coalesce(new.method, ''), 1, new.amount)
    ON CONFLICT (day, kind, method) DO UPDATE SET entries = entries + excluded.entries, amount = amount + excluded.amount;
END;

CREATE TRIGGER ledger_day_count_update AFTER UPDATE OF at, kind, method, amount ON ledger_entries
WHEN old.at IS NOT new.at OR old.kind IS NOT new.kind OR old.method IS NOT new.method OR old.amount IS NOT new.amount BEGIN
    INSERT INTO ledger_days (day, kind, method, entries, amount)
    VALUES (substr(old.at, 1, 10), old.kind, coalesce(old.method, ''), -1, -old.amount)
    ON CONFLICT (day, kind, method) DO UPDATE SET entries = entries + excluded.entries, amount = amount + excluded.amount;
    INSERT INTO ledger_days (day, kind, method, entries, amount)
    VALUES (substr(new.at, 1, 10), new.kind, coalesce(new.method, ''), 1, new.amount)
    ON CONFLICT (day, kind, method) DO UPDATE SET entries = entries + excluded.entries, amount = amount + excluded.amount;
END;

CREATE TRIGGER ledger_day_count_delete AFTER DELETE ON ledger_entries BEGIN
    INSERT INTO ledger_days (day, kind, method, entries, amount)
    VALUES (substr(old.at, 1, 10), old.kind, coalesce(old.method, ''), -1, -old.amount)
    ON CONFLICT (day, kind, method) DO UPDATE SET entries = entries + excluded.entries, amount = amount + excluded.amount;
END;

INSERT INTO ledger_days (day, kind, method, entries, amount)
SELECT substr(at, 1, 10), kind, coalesce(method, ''), count(*), sum(amount) FROM ledger_entries GROUP BY 1, 2, 3;

-- ---------------------------------------------------------------------------------------------
-- Checkouts per title (the item's record now, as the report has always counted it), checkout
-- branch and UTC month (`YYYY-MM`), and per title and month at every branch together (branch
-- '*'). The top-titles report reads each month's titles in order of checkouts (the rank index)
-- and stops once no title it has not read can reach the last place (`reports::top_titles`).

CREATE TABLE title_months (
    bib_id    INTEGER NOT NULL,
    branch    TEXT NOT NULL,
    month     TEXT NOT NULL,
    checkouts INTEGER NOT NULL,
    PRIMARY KEY (bib_id, branch, month)
) WITHOUT ROWID;
CREATE INDEX title_months_rank_idx ON title_months (month, branch, checkouts DESC, bib_id);

CREATE TRIGGER title_count_loan_insert AFTER INSERT ON loans BEGIN
    INSERT INTO title_months (bib_id, branch, month, checkouts)
    SELECT i.bib_id, b.branch, substr(new.checked_out_at, 1, 7), 1
    FROM items i, (SELECT new.checkout_branch AS branch UNION ALL SELECT '*') b WHERE i.id = new.item_id
    ON CONFLICT (bib_id, branch, month) DO UPDATE SET checkouts = checkouts + excluded.checkouts;
END;

CREATE TRIGGER title_count_loan_delete AFTER DELETE ON loans BEGIN
    INSERT INTO title_months (bib_id, branch, month, checkouts)
    SELECT i.bib_id, b.branch, substr(old.checked_out_at, 1, 7), -1
    FROM items i, (SELECT old.checkout_branch AS branch UNION ALL SELECT '*') b WHERE i.id = old.item_id
    ON CONFLICT (bib_id, branch, month) DO UPDATE SET checkouts = checkouts + excluded.checkouts;
END;

CREATE TRIGGER title_count_loan_move AFTER UPDATE OF checked_out_at, checkout_branch, item_id ON loans
WHEN old.checked_out_at IS NOT new.checked_out_at OR old.checkout_branch IS NOT new.checkout_branch
     OR old.item_id IS NOT new.item_id BEGIN
    INSERT INTO title_months (bib_id, branch, month, checkouts)
    SELECT i.bib_id, b.branch, substr(old.checked_out_at, 1, 7), -1
    FROM items i, (SELECT old.checkout_branch AS branch UNION ALL SELECT '*') b WHERE i.id = old.item_id
    ON CONFLICT (bib_id, branch, month) DO UPDATE SET checkouts = checkouts + excluded.checkouts;
    INSERT INTO title_months (bib_id, branch, month, checkouts)
    SELECT i.bib_id, b.branch, substr(new.checked_out_at, 1, 7), 1
    FROM items i, (SELECT new.checkout_branch AS branch UNION ALL SELECT '*') b WHERE i.id = new.item_id
    ON CONFLICT (bib_id, branch, month) DO UPDATE SET checkouts = checkouts + excluded.checkouts;
END;

-- An item moved to another record takes its loans' checkouts along.
CREATE TRIGGER title_count_item_record AFTER UPDATE OF bib_id ON items WHEN old.bib_id IS NOT new.bib_id BEGIN
    INSERT INTO title_months (bib_id, branch, month, checkouts)
    SELECT t.bib_id, CASE WHEN b.every THEN '*' ELSE l.checkout_branch END, substr(l.checked_out_at, 1, 7),
           t.sign * count(*)
    FROM loans l, (SELECT 0 AS every UNION ALL SELECT 1) b,
         (SELECT old.bib_id AS bib_id, -1 AS sign UNION ALL SELECT new.bib_id, 1) t
    WHERE l.item_id = new.id GROUP BY 1, 2, 3, t.sign
    ON CONFLICT (bib_id, branch, month) DO UPDATE SET checkouts = checkouts + excluded.checkouts;
END;

INSERT INTO title_months (bib_id, branch, month, checkouts)
SELECT i.bib_id, CASE WHEN b.every THEN '*' ELSE l.checkout_branch END, substr(l.checked_out_at, 1, 7), count(*)
FROM loans l JOIN items i ON i.id = l.item_id, (SELECT 0 AS every UNION ALL SELECT 1) b
WHERE 1 GROUP BY 1, 2, 3;

-- The loans of one item by checkout time and branch: the exact count of a title's checkouts in
-- the parts of a range that are not whole months, read from the index alone. It replaces 0016's
-- index on `item_id`, which it begins with.
DROP INDEX loans_item_idx;
CREATE INDEX loans_item_idx ON loans (item_id, checked_out_at, checkout_branch);

-- ---------------------------------------------------------------------------------------------
-- A title's copies by status and home branch: the holds-to-copies report counts the copies of
-- every title with holds from this index alone, where the index on `bib_id` made it read each
-- copy's row (80,000 rows of a 1,000,000-item table for 20,000 titles with holds). It begins
-- with `bib_id`, so it replaces that index.
DROP INDEX items_bib_id_idx;
CREATE INDEX items_bib_status_idx ON items (bib_id, status, home_branch);
