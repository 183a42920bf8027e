-- Report counts (issue 6): the collection and circulation reports read counts kept in the same
-- transaction as the change they count, so a report at 1,000,000 items and 500,000 loans sums
-- a few thousand rows instead of grouping every item or loan. Triggers keep them, so every
-- path that writes items or loans (the desk, imports, COPY loads, anonymisation) is counted;
-- the backfill at the end counts what a library held before this migration.

-- Items in the collection (not withdrawn) per home branch and class, derived from
-- `call_number_sort` exactly as the collection report did when it scanned (`collection_class`).
CREATE TABLE collection_counts (
    scheme TEXT NOT NULL,
    branch TEXT NOT NULL,
    class  TEXT NOT NULL,
    items  BIGINT NOT NULL,
    PRIMARY KEY (scheme, branch, class)
);

-- Checkouts, renewals and check-ins per UTC hour and branch (the checkout branch for checkouts
-- and renewals, the return branch for check-ins): a local day is the hours it covers plus, in a
-- zone whose offset is not whole hours, the minutes at its edges counted from the loans.
CREATE TABLE circulation_hours (
    hour      TIMESTAMPTZ NOT NULL,
    branch    TEXT NOT NULL,
    checkouts BIGINT NOT NULL,
    renewals  BIGINT NOT NULL,
    check_ins BIGINT NOT NULL,
    PRIMARY KEY (hour, branch)
);

-- The same per UTC day, branch, item type and patron category, for the reports grouped over a
-- span. The item type and category are the item's and borrower's now, as the reports have
-- always counted them: changing either moves that item's or patron's counts.
CREATE TABLE circulation_days (
    day       TIMESTAMPTZ NOT NULL,
    branch    TEXT NOT NULL,
    item_type TEXT NOT NULL,
    category  TEXT NOT NULL,
    checkouts BIGINT NOT NULL,
    renewals  BIGINT NOT NULL,
    check_ins BIGINT NOT NULL,
    PRIMARY KEY (day, branch, item_type, category)
);

-- What moving an item's or patron's counts, or a loan's renewals, has to find.
CREATE INDEX loans_item_idx ON loans (item_id);
CREATE INDEX loans_patron_idx ON loans (patron_id);
CREATE INDEX loan_renewals_loan_idx ON loan_renewals (loan_id);

-- ---------------------------------------------------------------------------------------------
-- The collection. The sort key without its prefix bytes (0x10..0x25) starts with the kind of
-- body: 0x03 Dewey (the class is its first digit, the hundreds) or 0x04 LC (its letters, up to
-- the 0x01 that ends them). Anything else, or no key, is 'none' with class ''.

CREATE FUNCTION collection_class(key BYTEA, OUT scheme TEXT, OUT class TEXT) LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN $1 IS NULL THEN 'none'
                WHEN substring(t from 1 for 1) = '\x03'::bytea THEN 'dewey'
                WHEN substring(t from 1 for 1) = '\x04'::bytea THEN 'lc' ELSE 'none' END,
           CASE WHEN $1 IS NULL THEN ''
                WHEN substring(t from 1 for 1) = '\x03'::bytea THEN convert_from(substring(t from 2 for 1), 'UTF8')
                WHEN substring(t from 1 for 1) = '\x04'::bytea
                THEN convert_from(substring(t from 2 for greatest(position('\x01'::bytea in t) - 2, 0)), 'UTF8')
                ELSE '' END
    FROM (SELECT ltrim($1, '\x101112131415161718191a1b1c1d1e1f202122232425'::bytea) AS t) k
$$;

CREATE FUNCTION count_collection(branch TEXT, key BYTEA, n BIGINT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO collection_counts (scheme, branch, class, items)
    SELECT c.scheme, $1, c.class, $3 FROM collection_class($2) c
    ON CONFLICT (scheme, branch, class) DO UPDATE SET items = collection_counts.items + excluded.items
$$;

-- A load of many items (COPY, INSERT ... SELECT) is counted once per statement, not per row.
CREATE FUNCTION collection_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO collection_counts (scheme, branch, class, items)
    SELECT c.scheme, i.home_branch, c.class, count(*) FROM inserted i CROSS JOIN LATERAL collection_class(i.call_number_sort) c
    WHERE i.status <> 'withdrawn' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (scheme, branch, class) DO UPDATE SET items = collection_counts.items + excluded.items;
    RETURN NULL;
END $$;
CREATE TRIGGER collection_count_insert AFTER INSERT ON items REFERENCING NEW TABLE AS inserted
FOR EACH STATEMENT EXECUTE FUNCTION collection_count_insert();

CREATE FUNCTION collection_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status <> 'withdrawn' THEN
        PERFORM count_collection(OLD.home_branch, OLD.call_number_sort, -1);
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.status <> 'withdrawn' THEN
        PERFORM count_collection(NEW.home_branch, NEW.call_number_sort, 1);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER collection_count_update AFTER UPDATE OF home_branch, status, call_number_sort ON items
FOR EACH ROW WHEN (OLD.home_branch IS DISTINCT FROM NEW.home_branch
                   OR OLD.call_number_sort IS DISTINCT FROM NEW.call_number_sort
                   OR (OLD.status = 'withdrawn') <> (NEW.status = 'withdrawn'))
EXECUTE FUNCTION collection_count_change();
CREATE TRIGGER collection_count_delete AFTER DELETE ON items
FOR EACH ROW EXECUTE FUNCTION collection_count_change();

-- ---------------------------------------------------------------------------------------------
-- Circulation. Each loan counts a checkout, a check-in once returned, and a renewal per row of
-- `loan_renewals`; a change takes the old row's counts away and adds the new row's.

-- `n` times each event `(at, branch, checkouts, renewals, check_ins)` of loan `l`, under the
-- loan's item type and borrower's category.
CREATE FUNCTION count_events(l loans, n BIGINT, with_checkout BOOLEAN, with_check_in BOOLEAN, with_renewals BOOLEAN)
RETURNS void LANGUAGE sql AS $$
    WITH e (at, branch, c, r, i) AS (
        SELECT l.checked_out_at, l.checkout_branch, 1, 0, 0 WHERE with_checkout
        UNION ALL SELECT l.returned_at, coalesce(l.return_branch, ''), 0, 0, 1
        WHERE with_check_in AND l.returned_at IS NOT NULL
        UNION ALL SELECT renewed_at, l.checkout_branch, 0, 1, 0 FROM loan_renewals
        WHERE with_renewals AND loan_id = l.id
    ), h AS (
        INSERT INTO circulation_hours (hour, branch, checkouts, renewals, check_ins)
        SELECT date_trunc('hour', e.at, 'UTC'), e.branch, n * sum(e.c), n * sum(e.r), n * sum(e.i)
        FROM e GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (hour, branch) DO UPDATE SET checkouts = circulation_hours.checkouts + excluded.checkouts,
            renewals = circulation_hours.renewals + excluded.renewals,
            check_ins = circulation_hours.check_ins + excluded.check_ins
    )
    INSERT INTO circulation_days (day, branch, item_type, category, checkouts, renewals, check_ins)
    SELECT date_trunc('day', e.at, 'UTC'), e.branch, it.item_type, p.category, n * sum(e.c), n * sum(e.r), n * sum(e.i)
    FROM e, items it, patrons p WHERE it.id = l.item_id AND p.id = l.patron_id
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (day, branch, item_type, category) DO UPDATE SET checkouts = circulation_days.checkouts + excluded.checkouts,
        renewals = circulation_days.renewals + excluded.renewals,
        check_ins = circulation_days.check_ins + excluded.check_ins
$$;

CREATE FUNCTION circulation_count_loan() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM count_events(NEW, 1, true, true, true);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM count_events(OLD, -1, true, true, true);
    ELSIF TG_ARGV[0] = 'return' THEN
        PERFORM count_events(OLD, -1, false, true, false);
        PERFORM count_events(NEW, 1, false, true, false);
    ELSE
        PERFORM count_events(OLD, -1, true, true, true);
        PERFORM count_events(NEW, 1, true, true, true);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER circulation_count_loan_insert AFTER INSERT ON loans
FOR EACH ROW EXECUTE FUNCTION circulation_count_loan();
CREATE TRIGGER circulation_count_loan_delete AFTER DELETE ON loans
FOR EACH ROW EXECUTE FUNCTION circulation_count_loan();
-- A check-in (or its correction): only the check-in moves.
CREATE TRIGGER circulation_count_loan_return AFTER UPDATE OF returned_at, return_branch ON loans
FOR EACH ROW WHEN ((OLD.returned_at IS DISTINCT FROM NEW.returned_at OR OLD.return_branch IS DISTINCT FROM NEW.return_branch)
                   AND OLD.checked_out_at = NEW.checked_out_at AND OLD.checkout_branch = NEW.checkout_branch
                   AND OLD.item_id = NEW.item_id AND OLD.patron_id = NEW.patron_id)
EXECUTE FUNCTION circulation_count_loan('return');
-- Anything else a loan's counts depend on (anonymisation moves loans to another patron).
CREATE TRIGGER circulation_count_loan_move AFTER UPDATE OF checked_out_at, checkout_branch, item_id, patron_id ON loans
FOR EACH ROW WHEN (OLD.checked_out_at IS DISTINCT FROM NEW.checked_out_at
                   OR OLD.checkout_branch IS DISTINCT FROM NEW.checkout_branch
                   OR OLD.item_id IS DISTINCT FROM NEW.item_id OR OLD.patron_id IS DISTINCT FROM NEW.patron_id)
EXECUTE FUNCTION circulation_count_loan('move');

CREATE FUNCTION circulation_count_renewal() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    renewal loan_renewals;
    sign BIGINT;
BEGIN
    IF TG_OP = 'INSERT' THEN
        renewal := NEW;
        sign := 1;
    ELSE
        renewal := OLD;
        sign := -1;
    END IF;
    INSERT INTO circulation_hours (hour, branch, checkouts, renewals, check_ins)
    SELECT date_trunc('hour', renewal.renewed_at, 'UTC'), l.checkout_branch, 0, sign, 0 FROM loans l
    WHERE l.id = renewal.loan_id
    ON CONFLICT (hour, branch) DO UPDATE SET renewals = circulation_hours.renewals + excluded.renewals;
    INSERT INTO circulation_days (day, branch, item_type, category, checkouts, renewals, check_ins)
    SELECT date_trunc('day', renewal.renewed_at, 'UTC'), l.checkout_branch, it.item_type, p.category, 0, sign, 0
    FROM loans l JOIN items it ON it.id = l.item_id JOIN patrons p ON p.id = l.patron_id WHERE l.id = renewal.loan_id
    ON CONFLICT (day, branch, item_type, category) DO UPDATE SET renewals = circulation_days.renewals + excluded.renewals;
    RETURN NULL;
END $$;
CREATE TRIGGER circulation_count_renewal AFTER INSERT OR DELETE ON loan_renewals
FOR EACH ROW EXECUTE FUNCTION circulation_count_renewal();

-- An item's new type, or a patron's new category, takes their loans' counts along.
CREATE FUNCTION circulation_count_item_type() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO circulation_days (day, branch, item_type, category, checkouts, renewals, check_ins)
    SELECT e.day, e.branch, t.v, p.category, t.n * sum(e.c), t.n * sum(e.r), t.n * sum(e.i)
    FROM (SELECT l.item_id, l.patron_id, date_trunc('day', l.checked_out_at, 'UTC') AS day, l.checkout_branch AS branch,
                 1 AS c, 0 AS r, 0 AS i FROM loans l WHERE l.item_id = NEW.id
          UNION ALL SELECT l.item_id, l.patron_id, date_trunc('day', l.returned_at, 'UTC'), coalesce(l.return_branch, ''),
                 0, 0, 1 FROM loans l WHERE l.item_id = NEW.id AND l.returned_at IS NOT NULL
          UNION ALL SELECT l.item_id, l.patron_id, date_trunc('day', r.renewed_at, 'UTC'), l.checkout_branch, 0, 1, 0
          FROM loans l JOIN loan_renewals r ON r.loan_id = l.id WHERE l.item_id = NEW.id
         ) e
    JOIN patrons p ON p.id = e.patron_id
    CROSS JOIN (VALUES (OLD.item_type, -1), (NEW.item_type, 1)) t(v, n)
    GROUP BY 1, 2, 3, 4, t.n ORDER BY 1, 2, 3, 4, t.n
    ON CONFLICT (day, branch, item_type, category) DO UPDATE SET checkouts = circulation_days.checkouts + excluded.checkouts,
        renewals = circulation_days.renewals + excluded.renewals,
        check_ins = circulation_days.check_ins + excluded.check_ins;
    RETURN NULL;
END $$;
CREATE FUNCTION circulation_count_patron_category() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO circulation_days (day, branch, item_type, category, checkouts, renewals, check_ins)
    SELECT e.day, e.branch, it.item_type, t.v, t.n * sum(e.c), t.n * sum(e.r), t.n * sum(e.i)
    FROM (SELECT l.item_id, l.patron_id, date_trunc('day', l.checked_out_at, 'UTC') AS day, l.checkout_branch AS branch,
                 1 AS c, 0 AS r, 0 AS i FROM loans l WHERE l.patron_id = NEW.id
          UNION ALL SELECT l.item_id, l.patron_id, date_trunc('day', l.returned_at, 'UTC'), coalesce(l.return_branch, ''),
                 0, 0, 1 FROM loans l WHERE l.patron_id = NEW.id AND l.returned_at IS NOT NULL
          UNION ALL SELECT l.item_id, l.patron_id, date_trunc('day', r.renewed_at, 'UTC'), l.checkout_branch, 0, 1, 0
          FROM loans l JOIN loan_renewals r ON r.loan_id = l.id WHERE l.patron_id = NEW.id
         ) e
    JOIN items it ON it.id = e.item_id
    CROSS JOIN (VALUES (OLD.category, -1), (NEW.category, 1)) t(v, n)
    GROUP BY 1, 2, 3, 4, t.n ORDER BY 1, 2, 3, 4, t.n
    ON CONFLICT (day, branch, item_type, category) DO UPDATE SET checkouts = circulation_days.checkouts + excluded.checkouts,
        renewals = circulation_days.renewals + excluded.renewals,
        check_ins = circulation_days.check_ins + excluded.check_ins;
    RETURN NULL;
END $$;
CREATE TRIGGER circulation_count_item_type AFTER UPDATE OF item_type ON items
FOR EACH ROW WHEN (OLD.item_type IS DISTINCT FROM NEW.item_type) EXECUTE FUNCTION circulation_count_item_type();
CREATE TRIGGER circulation_count_patron_category AFTER UPDATE OF category ON patrons
FOR EACH ROW WHEN (OLD.category IS DISTINCT FROM NEW.category) EXECUTE FUNCTION circulation_count_patron_category();

-- ---------------------------------------------------------------------------------------------
-- Money: ledger entries per UTC hour, kind and method ('' for none), counted and summed as
-- stored (charges positive, credits negative). Entries are only ever inserted; the other
-- triggers keep the counts right should a row be corrected or removed by hand.

CREATE TABLE ledger_hours (
    hour    TIMESTAMPTZ NOT NULL,
    kind    TEXT NOT NULL,
    method  TEXT NOT NULL,
    entries BIGINT NOT NULL,
    amount  BIGINT NOT NULL,
    PRIMARY KEY (hour, kind, method)
);

CREATE FUNCTION ledger_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO ledger_hours (hour, kind, method, entries, amount)
        VALUES (date_trunc('hour', OLD.at, 'UTC'), OLD.kind, coalesce(OLD.method, ''), -1, -OLD.amount)
        ON CONFLICT (hour, kind, method) DO UPDATE SET entries = ledger_hours.entries + excluded.entries,
            amount = ledger_hours.amount + excluded.amount;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO ledger_hours (hour, kind, method, entries, amount)
        VALUES (date_trunc('hour', NEW.at, 'UTC'), NEW.kind, coalesce(NEW.method, ''), 1, NEW.amount)
        ON CONFLICT (hour, kind, method) DO UPDATE SET entries = ledger_hours.entries + excluded.entries,
            amount = ledger_hours.amount + excluded.amount;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER ledger_count_insert AFTER INSERT OR DELETE ON ledger_entries
FOR EACH ROW EXECUTE FUNCTION ledger_count();
CREATE TRIGGER ledger_count_update AFTER UPDATE OF at, kind, method, amount ON ledger_entries
FOR EACH ROW WHEN (OLD.at IS DISTINCT FROM NEW.at OR OLD.kind IS DISTINCT FROM NEW.kind
                   OR OLD.method IS DISTINCT FROM NEW.method OR OLD.amount IS DISTINCT FROM NEW.amount)
EXECUTE FUNCTION ledger_count();

-- ---------------------------------------------------------------------------------------------
-- Backfill: what the library held before this migration.

INSERT INTO collection_counts (scheme, branch, class, items)
SELECT c.scheme, i.home_branch, c.class, count(*) FROM items i CROSS JOIN LATERAL collection_class(i.call_number_sort) c
WHERE i.status <> 'withdrawn' GROUP BY 1, 2, 3;

INSERT INTO circulation_hours (hour, branch, checkouts, renewals, check_ins)
SELECT date_trunc('hour', e.at, 'UTC'), e.branch, sum(e.c), sum(e.r), sum(e.i) FROM (
    SELECT checked_out_at AS at, checkout_branch AS branch, 1 AS c, 0 AS r, 0 AS i FROM loans
    UNION ALL SELECT returned_at, coalesce(return_branch, ''), 0, 0, 1 FROM loans WHERE returned_at IS NOT NULL
    UNION ALL SELECT r.renewed_at, l.checkout_branch, 0, 1, 0 FROM loan_renewals r JOIN loans l ON l.id = r.loan_id
) e GROUP BY 1, 2;

INSERT INTO circulation_days (day, branch, item_type, category, checkouts, renewals, check_ins)
SELECT date_trunc('day', e.at, 'UTC'), e.branch, it.item_type, p.category, sum(e.c), sum(e.r), sum(e.i) FROM (
    SELECT item_id, patron_id, checked_out_at AS at, checkout_branch AS branch, 1 AS c, 0 AS r, 0 AS i FROM loans
    UNION ALL SELECT item_id, patron_id, returned_at, coalesce(return_branch, ''), 0, 0, 1
    FROM loans WHERE returned_at IS NOT NULL
    UNION ALL SELECT l.item_id, l.patron_id, r.renewed_at, l.checkout_branch, 0, 1, 0
    FROM loan_renewals r JOIN loans l ON l.id = r.loan_id
) e JOIN items it ON it.id = e.item_id JOIN patrons p ON p.id = e.patron_id
GROUP BY 1, 2, 3, 4;

INSERT INTO ledger_hours (hour, kind, method, entries, amount)
SELECT date_trunc('hour', at, 'UTC'), kind, coalesce(method, ''), count(*), sum(amount) FROM ledger_entries GROUP BY 1, 2, 3;
