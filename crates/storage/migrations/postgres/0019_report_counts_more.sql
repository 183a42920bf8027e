-- More report counts (issue 6, session 8): money per UTC day, checkouts per title and UTC month,
-- and the copies of a title found from one index, so the money, top-titles and holds-to-copies
-- reports over a year read a few hundred rows instead of every ledger entry, loan or item.
-- The same tables as SQLite's 0019, with the UTC day and month as the instant they start.

-- ---------------------------------------------------------------------------------------------
-- Money per UTC day, kind and method ('' for none), beside `ledger_hours`. A function of its
-- own, so each table's counts stay with the migration that made them.

CREATE TABLE ledger_days (
    day     TIMESTAMPTZ NOT NULL,
    kind    TEXT NOT NULL,
    method  TEXT NOT NULL,
    entries BIGINT NOT NULL,
    amount  BIGINT NOT NULL,
    PRIMARY KEY (day, kind, method)
);

CREATE FUNCTION ledger_day_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO ledger_days (day, kind, method, entries, amount)
        VALUES (date_trunc('day', OLD.at, 'UTC'), OLD.kind, coalesce(OLD.method, ''), -1, -OLD.amount)
        ON CONFLICT (day, kind, method) DO UPDATE SET entries = ledger_days.entries + excluded.entries,
            amount = ledger_days.amount + excluded.amount;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO ledger_days (day, kind, method, entries, amount)
        VALUES (date_trunc('day', NEW.at, 'UTC'), NEW.kind, coalesce(NEW.method, ''), 1, NEW.amount)
        ON CONFLICT (day, kind, method) DO UPDATE SET entries = ledger_days.entries + excluded.entries,
            amount = ledger_days.amount + excluded.amount;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER ledger_day_count_insert AFTER INSERT OR DELETE ON ledger_entries
FOR EACH ROW EXECUTE FUNCTION ledger_day_count();
CREATE TRIGGER ledger_day_count_update AFTER UPDATE OF at, kind, method, amount ON ledger_entries
FOR EACH ROW WHEN (OLD.at IS DISTINCT FROM NEW.at OR OLD.kind IS DISTINCT FROM NEW.kind
                   OR OLD.method IS DISTINCT FROM NEW.method OR OLD.amount IS DISTINCT FROM NEW.amount)
EXECUTE FUNCTION ledger_day_count();

INSERT INTO ledger_days (day, kind, method, entries, amount)
SELECT date_trunc('day', at, 'UTC'), kind, coalesce(method, ''), count(*), sum(amount) FROM ledger_entries GROUP BY 1, 2, 3;

-- ---------------------------------------------------------------------------------------------
-- Checkouts per title (the item's record now), checkout branch and UTC month, and per title and
-- month at every branch together (branch '*'), read in order of checkouts by the top-titles
-- report (`reports::top_titles`).

CREATE TABLE title_months (
    bib_id    BIGINT NOT NULL,
    branch    TEXT NOT NULL,
    month     TIMESTAMPTZ NOT NULL,
    checkouts BIGINT NOT NULL,
    PRIMARY KEY (bib_id, branch, month)
);
CREATE INDEX title_months_rank_idx ON title_months (month, branch, checkouts DESC, bib_id);

-- `n` checkouts of the loan out at `at` from `branch` of item `item`, for its title at that
-- branch and at every branch.
CREATE FUNCTION count_title(loan_item BIGINT, loan_branch TEXT, loan_at TIMESTAMPTZ, n BIGINT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO title_months (bib_id, branch, month, checkouts)
    SELECT i.bib_id, b.branch, date_trunc('month', loan_at, 'UTC'), n
    FROM items i, (VALUES (loan_branch), ('*')) b (branch) WHERE i.id = loan_item
    ORDER BY 2
    ON CONFLICT (bib_id, branch, month) DO UPDATE SET checkouts = title_months.checkouts + excluded.checkouts
$$;

CREATE FUNCTION title_count_loan() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM count_title(OLD.item_id, OLD.checkout_branch, OLD.checked_out_at, -1);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM count_title(NEW.item_id, NEW.checkout_branch, NEW.checked_out_at, 1);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER title_count_loan AFTER INSERT OR DELETE ON loans
FOR EACH ROW EXECUTE FUNCTION title_count_loan();
CREATE TRIGGER title_count_loan_move AFTER UPDATE OF checked_out_at, checkout_branch, item_id ON loans
FOR EACH ROW WHEN (OLD.checked_out_at IS DISTINCT FROM NEW.checked_out_at
                   OR OLD.checkout_branch IS DISTINCT FROM NEW.checkout_branch OR OLD.item_id IS DISTINCT FROM NEW.item_id)
EXECUTE FUNCTION title_count_loan();

-- An item moved to another record takes its loans' checkouts along.
CREATE FUNCTION title_count_item_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO title_months (bib_id, branch, month, checkouts)
    SELECT t.bib_id, CASE WHEN b.every THEN '*' ELSE l.checkout_branch END,
           date_trunc('month', l.checked_out_at, 'UTC'), t.sign * count(*)
    FROM loans l, (VALUES (false), (true)) b (every), (VALUES (OLD.bib_id, -1), (NEW.bib_id, 1)) t (bib_id, sign)
    WHERE l.item_id = NEW.id GROUP BY 1, 2, 3, t.sign ORDER BY 1, 2, 3
    ON CONFLICT (bib_id, branch, month) DO UPDATE SET checkouts = title_months.checkouts + excluded.checkouts;
    RETURN NULL;
END $$;
CREATE TRIGGER title_count_item_record AFTER UPDATE OF bib_id ON items
FOR EACH ROW WHEN (OLD.bib_id IS DISTINCT FROM NEW.bib_id) EXECUTE FUNCTION title_count_item_record();

INSERT INTO title_months (bib_id, branch, month, checkouts)
SELECT i.bib_id, CASE WHEN b.every THEN '*' ELSE l.checkout_branch END, date_trunc('month', l.checked_out_at, 'UTC'),
       count(*)
FROM loans l JOIN items i ON i.id = l.item_id, (VALUES (false), (true)) b (every) GROUP BY 1, 2, 3;

-- The loans of one item by checkout time and branch (replacing 0016's index on `item_id`).
DROP INDEX loans_item_idx;
CREATE INDEX loans_item_idx ON loans (item_id, checked_out_at, checkout_branch);

-- ---------------------------------------------------------------------------------------------
-- A title's copies by status and home branch, read from the index alone by the holds-to-copies
-- report (replacing the index on `bib_id`, which it begins with).
DROP INDEX items_bib_id_idx;
CREATE INDEX items_bib_status_idx ON items (bib_id, status, home_branch);
