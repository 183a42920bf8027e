-- Report counts (issue 6): the collection and circulation reports read counts kept in the same
-- transaction as the change they count, so a report at 1,000,000 items and 500,000 loans sums
-- a few thousand rows instead of grouping every item or loan. Triggers keep them, so every
-- path that writes items or loans (the desk, imports, bulk loads, anonymisation) is counted;
-- the backfill at the end counts what a library held before this migration.

-- Items in the collection (not withdrawn) per home branch and class, derived from
-- `call_number_sort` exactly as the collection report did when it scanned: the key without its
-- prefix bytes (0x10..0x25) starts with the kind of body, 0x03 Dewey (the class is its first
-- digit, the hundreds) or 0x04 LC (the class is its letters, up to the 0x01 that ends them).
-- Anything else, or no key, is 'none' with class ''.
CREATE TABLE collection_counts (
    scheme TEXT NOT NULL,
    branch TEXT NOT NULL,
    class  TEXT NOT NULL,
    items  INTEGER NOT NULL,
    PRIMARY KEY (scheme, branch, class)
) WITHOUT ROWID;

-- Checkouts, renewals and check-ins per UTC hour (`YYYY-MM-DDTHH`, the timestamps' first 13
-- characters) and branch (the checkout branch for checkouts and renewals, the return branch for
-- check-ins): a local day is the hours it covers plus, in a zone whose offset is not whole
-- hours, the minutes at its edges counted from the loans themselves.
CREATE TABLE circulation_hours (
    hour      TEXT NOT NULL,
    branch    TEXT NOT NULL,
    checkouts INTEGER NOT NULL,
    renewals  INTEGER NOT NULL,
    check_ins INTEGER NOT NULL,
    PRIMARY KEY (hour, branch)
) WITHOUT ROWID;

-- The same per UTC day (`YYYY-MM-DD`), branch, item type and patron category, for the reports
-- grouped over a span. The item type and category are the item's and borrower's now, as the
-- reports have always counted them: changing either moves that item's or patron's counts.
CREATE TABLE circulation_days (
    day       TEXT NOT NULL,
    branch    TEXT NOT NULL,
    item_type TEXT NOT NULL,
    category  TEXT NOT NULL,
    checkouts INTEGER NOT NULL,
    renewals  INTEGER NOT NULL,
    check_ins INTEGER NOT NULL,
    PRIMARY KEY (day, branch, item_type, category)
) WITHOUT ROWID;

-- What moving an item's or patron's counts, or a loan's renewals, has to find.
CREATE INDEX loans_item_idx ON loans (item_id);
CREATE INDEX loans_patron_idx ON loans (patron_id);
CREATE INDEX loan_renewals_loan_idx ON loan_renewals (loan_id);

-- ---------------------------------------------------------------------------------------------
-- The collection.

-- A new item is counted by storage's insert (sqlite.rs COUNT_NEW_ITEM, the same expressions as
-- the update trigger below), not by a trigger: on SQLite an insert that fires a trigger made a
-- 1,000-item import batch eight times slower.

CREATE TRIGGER collection_count_update AFTER UPDATE OF home_branch, status, call_number_sort ON items
WHEN old.home_branch IS NOT new.home_branch OR old.call_number_sort IS NOT new.call_number_sort
     OR (old.status = 'withdrawn') <> (new.status = 'withdrawn') BEGIN
    INSERT INTO collection_counts (scheme, branch, class, items)
    SELECT CASE WHEN old.call_number_sort IS NULL THEN 'none' WHEN substr(t, 1, 1) = char(3) THEN 'dewey'
                WHEN substr(t, 1, 1) = char(4) THEN 'lc' ELSE 'none' END,
           old.home_branch,
           CASE WHEN old.call_number_sort IS NULL THEN '' WHEN substr(t, 1, 1) = char(3) THEN substr(t, 2, 1)
                WHEN substr(t, 1, 1) = char(4) THEN substr(t, 2, instr(t, char(1)) - 2) ELSE '' END,
           -1
    FROM (SELECT ltrim(CAST(old.call_number_sort AS TEXT),
                       char(16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37)) AS t)
    WHERE old.status <> 'withdrawn'
    ON CONFLICT (scheme, branch, class) DO UPDATE SET items = items + excluded.items;
    INSERT INTO collection_counts (scheme, branch, class, items)
    SELECT CASE WHEN new.call_number_sort IS NULL THEN 'none' WHEN substr(t, 1, 1) = char(3) THEN 'dewey'
                WHEN substr(t, 1, 1) = char(4) THEN 'lc' ELSE 'none' END,
           new.home_branch,
           CASE WHEN new.call_number_sort IS NULL THEN '' WHEN substr(t, 1, 1) = char(3) THEN substr(t, 2, 1)
                WHEN substr(t, 1, 1) = char(4) THEN substr(t, 2, instr(t, char(1)) - 2) ELSE '' END,
           1
    FROM (SELECT ltrim(CAST(new.call_number_sort AS TEXT),
                       char(16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37)) AS t)
    WHERE new.status <> 'withdrawn'
    ON CONFLICT (scheme, branch, class) DO UPDATE SET items = items + excluded.items;
END;

CREATE TRIGGER collection_count_delete AFTER DELETE ON items WHEN old.status <> 'withdrawn' BEGIN
    INSERT INTO collection_counts (scheme, branch, class, items)
    SELECT CASE WHEN old.call_number_sort IS NULL THEN 'none' WHEN substr(t, 1, 1) = char(3) THEN 'dewey'
                WHEN substr(t, 1, 1) = char(4) THEN 'lc' ELSE 'none' END,
           old.home_branch,
           CASE WHEN old.call_number_sort IS NULL THEN '' WHEN substr(t, 1, 1) = char(3) THEN substr(t, 2, 1)
                WHEN substr(t, 1, 1) = char(4) THEN substr(t, 2, instr(t, char(1)) - 2) ELSE '' END,
           -1
    FROM (SELECT ltrim(CAST(old.call_number_sort AS TEXT),
                       char(16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37)) AS t)
    WHERE 1
    ON CONFLICT (scheme, branch, class) DO UPDATE SET items = items + excluded.items;
END;

-- ---------------------------------------------------------------------------------------------
-- Circulation. Each loan counts a checkout, a check-in once returned, and a renewal per row of
-- `loan_renewals`; a change takes the old row's counts away and adds the new row's.

CREATE TRIGGER circulation_count_loan_insert AFTER INSERT ON loans BEGIN
    INSERT INTO circulation_hours (hour, branch, checkouts, renewals, check_ins)
    SELECT substr(new.checked_out_at, 1, 13), new.checkout_branch, 1, 0, 0 WHERE 1
    UNION ALL SELECT substr(new.returned_at, 1, 13), coalesce(new.return_branch, ''), 0, 0, 1
    WHERE new.returned_at IS NOT NULL
    ON CONFLICT (hour, branch) DO UPDATE SET checkouts = checkouts + excluded.checkouts,
        renewals = renewals + excluded.renewals, check_ins = check_ins + excluded.check_ins;
    INSERT INTO circulation_days (day, branch, item_type, category, checkouts, renewals, check_ins)
    SELECT e.day, e.branch, i.item_type, p.category, e.c, 0, e.i
    FROM (SELECT substr(new.checked_out_at, 1, 10) AS day, new.checkout_branch AS branch, 1 AS c, 0 AS i
          UNION ALL SELECT substr(new.returned_at, 1, 10), coalesce(new.return_branch, ''), 0, 1
          WHERE new.returned_at IS NOT NULL) e
    JOIN items i ON i.id = new.item_id JOIN patrons p ON p.id = new.patron_id WHERE 1
    ON CONFLICT (day, branch, item_type, category) DO UPDATE SET checkouts = checkouts + excluded.checkouts,
        renewals = renewals + excluded.renewals, check_ins = check_ins + excluded.check_ins;
END;

-- A check-in (or its correction): only the check-in moves.
CREATE TRIGGER circulation_count_loan_return AFTER UPDATE OF returned_at, return_branch ON loans
WHEN (old.returned_at IS NOT new.returned_at OR old.return_branch IS NOT new.return_branch)
     AND old.checked_out_at IS new.checked_out_at AND old.checkout_branch IS new.checkout_branch
     AND old.item_id IS new.item_id AND old.patron_id IS new.patron_id BEGIN
    INSERT INTO circulation_hours (hour, branch, checkouts, renewals, check_ins)
    SELECT substr(old.returned_at, 1, 13), coalesce(old.return_branch, ''), 0, 0, -1 WHERE old.returned_at IS NOT NULL
    UNION ALL SELECT substr(new.returned_at, 1, 13), coalesce(new.return_branch, ''), 0, 0, 1
    WHERE new.returned_at IS NOT NULL
    ON CONFLICT (hour, branch) DO UPDATE SET checkouts = checkouts + excluded.checkouts,
        renewals = renewals + excluded.renewals, check_ins = check_ins + excluded.check_ins;
    INSERT INTO circulation_days (day, branch, item_type, category, checkouts, renewals, check_ins)
    SELECT e.day, e.branch, i.item_type, p.category, 0, 0, e.i
    FROM (SELECT substr(old.returned_at, 1, 10) AS day, coalesce(old.return_branch, '') AS branch, -1 AS i
          WHERE old.returned_at IS NOT NULL
          UNION ALL SELECT substr(new.returned_at, 1, 10), coalesce(new.return_branch, ''), 1
          WHERE new.returned_at IS NOT NULL) e
    JOIN items i ON i.id = new.item_id JOIN patrons p ON p.id = new.patron_id WHERE 1
    ON CONFLICT (day, branch, item_type, category) DO UPDATE SET checkouts = checkouts + excluded.checkouts,
        renewals = renewals + excluded.renewals, check_ins = check_ins + excluded.check_ins;
END;

-- Anything else a loan's counts depend on (anonymisation moves loans to another patron): all of
-- the old row's counts out, all of the new row's in.
CREATE TRIGGER circulation_count_loan_move AFTER UPDATE OF checked_out_at, checkout_branch, item_id, patron_id ON loans
WHEN old.checked_out_at IS NOT new.checked_out_at OR old.checkout_branch IS NOT new.checkout_branch
     OR old.item_id IS NOT new.item_id OR old.patron_id IS NOT new.patron_id BEGIN
    INSERT INTO circulation_hours (hour, branch, checkouts, renewals, check_ins)
    SELECT hour, branch, sum(c), sum(r), sum(i) FROM (
        SELECT substr(old.checked_out_at, 1, 13) AS hour, old.checkout_branch AS branch, -1 AS c, 0 AS r, 0 AS i
        UNION ALL SELECT substr(old.returned_at, 1, 13), coalesce(old.return_branch, ''), 0, 0, -1
        WHERE old.returned_at IS NOT NULL
        UNION ALL SELECT substr(renewed_at, 1, 13), old.checkout_branch, 0, -1, 0 FROM loan_renewals WHERE loan_id = old.id
        UNION ALL SELECT substr(new.checked_out_at, 1, 13), new.checkout_branch, 1, 0, 0
        UNION ALL SELECT substr(new.returned_at, 1, 13), coalesce(new.return_branch, ''), 0, 0, 1
        WHERE new.returned_at IS NOT NULL
        UNION ALL SELECT substr(renewed_at, 1, 13), new.checkout_branch, 0, 1, 0 FROM loan_renewals WHERE loan_id = new.id
    ) WHERE 1 GROUP BY hour, branch
    ON CONFLICT (hour, branch) DO UPDATE SET checkouts = checkouts + excluded.checkouts,
        renewals = renewals + excluded.renewals, check_ins = check_ins + excluded.check_ins;
    INSERT INTO circulation_days (day, branch, item_type, category, checkouts, renewals, check_ins)
    SELECT e.day, e.branch, i.item_type, p.category, sum(e.c), sum(e.r), sum(e.i) FROM (
        SELECT substr(old.checked_out_at, 1, 10) AS day, old.checkout_branch AS branch, -1 AS c, 0 AS r, 0 AS i,
               old.item_id AS item_id, old.patron_id AS patron_id
        UNION ALL SELECT substr(old.returned_at, 1, 10), coalesce(old.return_branch, ''), 0, 0, -1,
               old.item_id, old.patron_id WHERE old.returned_at IS NOT NULL
        UNION ALL SELECT substr(renewed_at, 1, 10), old.checkout_branch, 0, -1, 0, old.item_id, old.patron_id
               FROM loan_renewals WHERE loan_id = old.id
        UNION ALL SELECT substr(new.checked_out_at, 1, 10), new.checkout_branch, 1, 0, 0, new.item_id, new.patron_id
        UNION ALL SELECT substr(new.returned_at, 1, 10), coalesce(new.return_branch, ''), 0, 0, 1,
               new.item_id, new.patron_id WHERE new.returned_at IS NOT NULL
        UNION ALL SELECT substr(renewed_at, 1, 10), new.checkout_branch, 0, 1, 0, new.item_id, new.patron_id
               FROM loan_renewals WHERE loan_id = new.id
    ) e JOIN items i ON i.id = e.item_id JOIN patrons p ON p.id = e.patron_id
    WHERE 1 GROUP BY e.day, e.branch, i.item_type, p.category
    ON CONFLICT (day, branch, item_type, category) DO UPDATE SET checkouts = checkouts + excluded.checkouts,
        renewals = renewals + excluded.renewals, check_ins = check_ins + excluded.check_ins;
END;

CREATE TRIGGER circulation_count_loan_delete AFTER DELETE ON loans BEGIN
    INSERT INTO circulation_hours (hour, branch, checkouts, renewals, check_ins)
    SELECT hour, branch, sum(c), sum(r), sum(i) FROM (
        SELECT substr(old.checked_out_at, 1, 13) AS hour, old.checkout_branch AS branch, -1 AS c, 0 AS r, 0 AS i
        UNION ALL SELECT substr(old.returned_at, 1, 13), coalesce(old.return_branch, ''), 0, 0, -1
        WHERE old.returned_at IS NOT NULL
        UNION ALL SELECT substr(renewed_at, 1, 13), old.checkout_branch, 0, -1, 0 FROM loan_renewals WHERE loan_id = old.id
    ) WHERE 1 GROUP BY hour, branch
    ON CONFLICT (hour, branch) DO UPDATE SET checkouts = checkouts + excluded.checkouts,
        renewals = renewals + excluded.renewals, check_ins = check_ins + excluded.check_ins;
    INSERT INTO circulation_days (day, branch, item_type, category, checkouts, renewals, check_ins)
    SELECT e.day, e.branch, i.item_type, p.category, sum(e.c), sum(e.r), sum(e.i) FROM (
        SELECT substr(old.checked_out_at, 1, 10) AS day, old.checkout_branch AS branch, -1 AS c, 0 AS r, 0 AS i
        UNION ALL SELECT substr(old.returned_at, 1, 10), coalesce(old.return_branch, ''), 0, 0, -1
        WHERE old.returned_at IS NOT NULL
        UNION ALL SELECT substr(renewed_at, 1, 10), old.checkout_branch, 0, -1, 0 FROM loan_renewals WHERE loan_id = old.id
    ) e JOIN items i ON i.id = old.item_id JOIN patrons p ON p.id = old.patron_id
    WHERE 1 GROUP BY e.day, e.branch, i.item_type, p.category
    ON CONFLICT (day, branch, item_type, category) DO UPDATE SET checkouts = checkouts + excluded.checkouts,
        renewals = renewals + excluded.renewals, check_ins = check_ins + excluded.check_ins;
END;

CREATE TRIGGER circulation_count_renewal_insert AFTER INSERT ON loan_renewals BEGIN
    INSERT INTO circulation_hours (hour, branch, checkouts, renewals, check_ins)
    SELECT substr(new.renewed_at, 1, 13), l.checkout_branch, 0, 1, 0 FROM loans l WHERE l.id = new.loan_id
    ON CONFLICT (hour, branch) DO UPDATE SET renewals = renewals + excluded.renewals;
    INSERT INTO circulation_days (day, branch, item_type, category, checkouts, renewals, check_ins)
    SELECT substr(new.renewed_at, 1, 10), l.checkout_branch, i.item_type, p.category, 0, 1, 0
    FROM loans l JOIN items i ON i.id = l.item_id JOIN patrons p ON p.id = l.patron_id WHERE l.id = new.loan_id
    ON CONFLICT (day, branch, item_type, category) DO UPDATE SET renewals = renewals + excluded.renewals;
END;

CREATE TRIGGER circulation_count_renewal_delete AFTER DELETE ON loan_renewals BEGIN
    INSERT INTO circulation_hours (hour, branch, checkouts, renewals, check_ins)
    SELECT substr(old.renewed_at, 1, 13), l.checkout_branch, 0, -1, 0 FROM loans l WHERE l.id = old.loan_id
    ON CONFLICT (hour, branch) DO UPDATE SET renewals = renewals + excluded.renewals;
    INSERT INTO circulation_days (day, branch, item_type, category, checkouts, renewals, check_ins)
    SELECT substr(old.renewed_at, 1, 10), l.checkout_branch, i.item_type, p.category, 0, -1, 0
    FROM loans l JOIN items i ON i.id = l.item_id JOIN patrons p ON p.id = l.patron_id WHERE l.id = old.loan_id
    ON CONFLICT (day, branch, item_type, category) DO UPDATE SET renewals = renewals + excluded.renewals;
END;

-- An item's new type takes its loans' counts along.
CREATE TRIGGER circulation_count_item_type AFTER UPDATE OF item_type ON items
WHEN old.item_type IS NOT new.item_type BEGIN
    INSERT INTO circulation_days (day, branch, item_type, category, checkouts, renewals, check_ins)
    SELECT e.day, e.branch, t.item_type, p.category, t.sign * sum(e.c), t.sign * sum(e.r), t.sign * sum(e.i) FROM (
        SELECT l.patron_id, substr(l.checked_out_at, 1, 10) AS day, l.checkout_branch AS branch, 1 AS c, 0 AS r, 0 AS i
        FROM loans l WHERE l.item_id = new.id
        UNION ALL SELECT l.patron_id, substr(l.returned_at, 1, 10), coalesce(l.return_branch, ''), 0, 0, 1
        FROM loans l WHERE l.item_id = new.id AND l.returned_at IS NOT NULL
        UNION ALL SELECT l.patron_id, substr(r.renewed_at, 1, 10), l.checkout_branch, 0, 1, 0
        FROM loans l JOIN loan_renewals r ON r.loan_id = l.id WHERE l.item_id = new.id
    ) e JOIN patrons p ON p.id = e.patron_id
    JOIN (SELECT old.item_type AS item_type, -1 AS sign UNION ALL SELECT new.item_type, 1) t
    WHERE 1 GROUP BY e.day, e.branch, t.item_type, p.category, t.sign
    ON CONFLICT (day, branch, item_type, category) DO UPDATE SET checkouts = checkouts + excluded.checkouts,
        renewals = renewals + excluded.renewals, check_ins = check_ins + excluded.check_ins;
END;

-- A patron's new category takes their loans' counts along.
CREATE TRIGGER circulation_count_patron_category AFTER UPDATE OF category ON patrons
WHEN old.category IS NOT new.category BEGIN
    INSERT INTO circulation_days (day, branch, item_type, category, checkouts, renewals, check_ins)
    SELECT e.day, e.branch, i.item_type, t.category, t.sign * sum(e.c), t.sign * sum(e.r), t.sign * sum(e.i) FROM (
        SELECT l.item_id, substr(l.checked_out_at, 1, 10) AS day, l.checkout_branch AS branch, 1 AS c, 0 AS r, 0 AS i
        FROM loans l WHERE l.patron_id = new.id
        UNION ALL SELECT l.item_id, substr(l.returned_at, 1, 10), coalesce(l.return_branch, ''), 0, 0, 1
        FROM loans l WHERE l.patron_id = new.id AND l.returned_at IS NOT NULL
        UNION ALL SELECT l.item_id, substr(r.renewed_at, 1, 10), l.checkout_branch, 0, 1, 0
        FROM loans l JOIN loan_renewals r ON r.loan_id = l.id WHERE l.patron_id = new.id
    ) e JOIN items i ON i.id = e.item_id
    JOIN (SELECT old.category AS category, -1 AS sign UNION ALL SELECT new.category, 1) t
    WHERE 1 GROUP BY e.day, e.branch, i.item_type, t.category, t.sign
    ON CONFLICT (day, branch, item_type, category) DO UPDATE SET checkouts = checkouts + excluded.checkouts,
        renewals = renewals + excluded.renewals, check_ins = check_ins + excluded.check_ins;
END;

-- ---------------------------------------------------------------------------------------------
-- Money: ledger entries per UTC hour, kind and method ('' for none), counted and summed as
-- stored (charges positive, credits negative). Entries are only ever inserted; the other
-- triggers keep the counts right should a row be corrected or removed by hand.

CREATE TABLE ledger_hours (
    hour    TEXT NOT NULL,
    kind    TEXT NOT NULL,
    method  TEXT NOT NULL,
    entries INTEGER NOT NULL,
    amount  INTEGER NOT NULL,
    PRIMARY KEY (hour, kind, method)
) WITHOUT ROWID;

CREATE TRIGGER ledger_count_insert AFTER INSERT ON ledger_entries BEGIN
    INSERT INTO ledger_hours (hour, kind, method, entries, amount)
    VALUES (substr(new.at, 1, 13), new.kind, coalesce(new.method, ''), 1, new.amount)
    ON CONFLICT (hour, kind, method) DO UPDATE SET entries = entries + excluded.entries, amount = amount + excluded.amount;
END;

CREATE TRIGGER ledger_count_update AFTER UPDATE OF at, kind, method, amount ON ledger_entries
WHEN old.at IS NOT new.at OR old.kind IS NOT new.kind OR old.method IS NOT new.method OR old.amount IS NOT new.amount BEGIN
    INSERT INTO ledger_hours (hour, kind, method, entries, amount)
    VALUES (substr(old.at, 1, 13), old.kind, coalesce(old.method, ''), -1, -old.amount)
    ON CONFLICT (hour, kind, method) DO UPDATE SET entries = entries + excluded.entries, amount = amount + excluded.amount;
    INSERT INTO ledger_hours (hour, kind, method, entries, amount)
    VALUES (substr(new.at, 1, 13), new.kind, coalesce(new.method, ''), 1, new.amount)
    ON CONFLICT (hour, kind, method) DO UPDATE SET entries = entries + excluded.entries, amount = amount + excluded.amount;
END;

CREATE TRIGGER ledger_count_delete AFTER DELETE ON ledger_entries BEGIN
    INSERT INTO ledger_hours (hour, kind, method, entries, amount)
    VALUES (substr(old.at, 1, 13), old.kind, coalesce(old.method, ''), -1, -old.amount)
    ON CONFLICT (hour, kind, method) DO UPDATE SET entries = entries + excluded.entries, amount = amount + excluded.amount;
END;

-- ---------------------------------------------------------------------------------------------
-- Backfill: what the library held before this migration.

INSERT INTO collection_counts (scheme, branch, class, items)
SELECT scheme, branch, class, count(*) FROM (
    SELECT CASE WHEN call_number_sort IS NULL THEN 'none' WHEN substr(t, 1, 1) = char(3) THEN 'dewey'
                WHEN substr(t, 1, 1) = char(4) THEN 'lc' ELSE 'none' END AS scheme,
           home_branch AS branch,
           CASE WHEN call_number_sort IS NULL THEN '' WHEN substr(t, 1, 1) = char(3) THEN substr(t, 2, 1)
                WHEN substr(t, 1, 1) = char(4) THEN substr(t, 2, instr(t, char(1)) - 2) ELSE '' END AS class
    FROM (SELECT call_number_sort, home_branch,
                 ltrim(CAST(call_number_sort AS TEXT),
                       char(16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37)) AS t
          FROM items WHERE status <> 'withdrawn')
) GROUP BY scheme, branch, class;

INSERT INTO circulation_hours (hour, branch, checkouts, renewals, check_ins)
SELECT hour, branch, sum(c), sum(r), sum(i) FROM (
    SELECT substr(checked_out_at, 1, 13) AS hour, checkout_branch AS branch, 1 AS c, 0 AS r, 0 AS i FROM loans
    UNION ALL SELECT substr(returned_at, 1, 13), coalesce(return_branch, ''), 0, 0, 1 FROM loans
    WHERE returned_at IS NOT NULL
    UNION ALL SELECT substr(r.renewed_at, 1, 13), l.checkout_branch, 0, 1, 0
    FROM loan_renewals r JOIN loans l ON l.id = r.loan_id
) GROUP BY hour, branch;

INSERT INTO circulation_days (day, branch, item_type, category, checkouts, renewals, check_ins)
SELECT e.day, e.branch, i.item_type, p.category, sum(e.c), sum(e.r), sum(e.i) FROM (
    SELECT item_id, patron_id, substr(checked_out_at, 1, 10) AS day, checkout_branch AS branch,
           1 AS c, 0 AS r, 0 AS i FROM loans
    UNION ALL SELECT item_id, patron_id, substr(returned_at, 1, 10), coalesce(return_branch, ''), 0, 0, 1
    FROM loans WHERE returned_at IS NOT NULL
    UNION ALL SELECT l.item_id, l.patron_id, substr(r.renewed_at, 1, 10), l.checkout_branch, 0, 1, 0
    FROM loan_renewals r JOIN loans l ON l.id = r.loan_id
) e JOIN items i ON i.id = e.item_id JOIN patrons p ON p.id = e.patron_id
GROUP BY e.day, e.branch, i.item_type, p.category;

INSERT INTO ledger_hours (hour, kind, method, entries, amount)
SELECT substr(at, 1, 13), kind, coalesce(method, ''), count(*), sum(amount) FROM ledger_entries GROUP BY 1, 2, 3;
