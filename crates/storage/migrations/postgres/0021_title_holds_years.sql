-- Two more kept counts for the staff reports (issue 6, session 10): open holds per title, and
-- (at the end) checkouts per title and UTC year.
--
-- Open holds per title (issue 6, session 10), kept beside the copies in `title_copies`: the
-- open holds (waiting, suspended, in transit, on the shelf) per record and pickup branch, and a
-- row per record under the branch `*` with the copies and holds of every branch, as
-- `title_months` keeps its `*`. With a title's holds and copies in one row, the holds-to-copies
-- report is one range of a partial index in its own order: the titles with holds, most holds
-- per copy first. Looking up each title's copies (0020) cost about 100 ms for 20,000 titles with
-- holds on PostgreSQL; the range reads the report's page.

ALTER TABLE title_copies ADD COLUMN holds BIGINT NOT NULL DEFAULT 0;

-- The report's order (`reports::holds_ratio_sql`): titles without copies first, by holds, then
-- by holds per copy; ties by record. Written exactly as the query writes it, which is how the
-- planner matches an expression index to an ORDER BY.
CREATE INDEX title_copies_ratio_idx ON title_copies (
    branch,
    (CASE WHEN copies = 0 THEN 0 ELSE 1 END),
    (CASE WHEN copies = 0 THEN holds ELSE holds * 1.0 / copies END) DESC,
    bib_id
) WHERE holds > 0;

-- A load of items is counted once per statement, now under the home branch and `*`.
CREATE OR REPLACE FUNCTION title_copies_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO title_copies (bib_id, branch, copies)
    SELECT i.bib_id, b.branch, count(*) FROM inserted i CROSS JOIN LATERAL (VALUES (i.home_branch), ('*')) b(branch)
    WHERE i.status <> 'withdrawn' GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (bib_id, branch) DO UPDATE SET copies = title_copies.copies + excluded.copies;
    RETURN NULL;
END $$;

-- A copy's old count out and its new one in, under its branch and under `*`. One upsert may
-- not touch a row twice, so the `*` row of a copy that stays on its record (moved between
-- branches, withdrawn, returned to the collection) gets the difference in one statement.
CREATE OR REPLACE FUNCTION title_copies_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was integer := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') AND OLD.status <> 'withdrawn' THEN 1 ELSE 0 END;
    now_in integer := CASE WHEN TG_OP = 'UPDATE' AND NEW.status <> 'withdrawn' THEN 1 ELSE 0 END;
BEGIN
    IF was = 1 THEN
        INSERT INTO title_copies (bib_id, branch, copies) VALUES (OLD.bib_id, OLD.home_branch, -1)
        ON CONFLICT (bib_id, branch) DO UPDATE SET copies = title_copies.copies + excluded.copies;
    END IF;
    IF now_in = 1 THEN
        INSERT INTO title_copies (bib_id, branch, copies) VALUES (NEW.bib_id, NEW.home_branch, 1)
        ON CONFLICT (bib_id, branch) DO UPDATE SET copies = title_copies.copies + excluded.copies;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.bib_id = NEW.bib_id THEN
        IF now_in <> was THEN
            INSERT INTO title_copies (bib_id, branch, copies) VALUES (NEW.bib_id, '*', now_in - was)
            ON CONFLICT (bib_id, branch) DO UPDATE SET copies = title_copies.copies + excluded.copies;
        END IF;
    ELSE
        IF was = 1 THEN
            INSERT INTO title_copies (bib_id, branch, copies) VALUES (OLD.bib_id, '*', -1)
            ON CONFLICT (bib_id, branch) DO UPDATE SET copies = title_copies.copies + excluded.copies;
        END IF;
        IF now_in = 1 THEN
            INSERT INTO title_copies (bib_id, branch, copies) VALUES (NEW.bib_id, '*', 1)
            ON CONFLICT (bib_id, branch) DO UPDATE SET copies = title_copies.copies + excluded.copies;
        END IF;
    END IF;
    RETURN NULL;
END $$;

-- Holds placed (one at the desk, many in a load) counted once per statement.
CREATE FUNCTION title_holds_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO title_copies (bib_id, branch, copies, holds)
    SELECT h.bib_id, b.branch, 0, count(*) FROM inserted h CROSS JOIN LATERAL (VALUES (h.pickup_branch), ('*')) b(branch)
    WHERE h.status IN ('waiting', 'suspended', 'in_transit', 'on_shelf') GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (bib_id, branch) DO UPDATE SET holds = title_copies.holds + excluded.holds;
    RETURN NULL;
END $$;
CREATE TRIGGER title_holds_insert AFTER INSERT ON holds REFERENCING NEW TABLE AS inserted
FOR EACH STATEMENT EXECUTE FUNCTION title_holds_insert();

-- A hold filled, cancelled, expired (or reopened), moved to another pickup branch or record, or
-- deleted: as `title_copies_change` does for a copy.
CREATE FUNCTION title_holds_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was integer := CASE WHEN TG_OP IN ('UPDATE', 'DELETE')
                        AND OLD.status IN ('waiting', 'suspended', 'in_transit', 'on_shelf') THEN 1 ELSE 0 END;
    now_open integer := CASE WHEN TG_OP = 'UPDATE'
                             AND NEW.status IN ('waiting', 'suspended', 'in_transit', 'on_shelf') THEN 1 ELSE 0 END;
BEGIN
    IF was = 1 THEN
        INSERT INTO title_copies (bib_id, branch, copies, holds) VALUES (OLD.bib_id, OLD.pickup_branch, 0, -1)
        ON CONFLICT (bib_id, branch) DO UPDATE SET holds = title_copies.holds + excluded.holds;
    END IF;
    IF now_open = 1 THEN
        INSERT INTO title_copies (bib_id, branch, copies, holds) VALUES (NEW.bib_id, NEW.pickup_branch, 0, 1)
        ON CONFLICT (bib_id, branch) DO UPDATE SET holds = title_copies.holds + excluded.holds;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.bib_id = NEW.bib_id THEN
        IF now_open <> was THEN
            INSERT INTO title_copies (bib_id, branch, copies, holds) VALUES (NEW.bib_id, '*', 0, now_open - was)
            ON CONFLICT (bib_id, branch) DO UPDATE SET holds = title_copies.holds + excluded.holds;
        END IF;
    ELSE
        IF was = 1 THEN
            INSERT INTO title_copies (bib_id, branch, copies, holds) VALUES (OLD.bib_id, '*', 0, -1)
            ON CONFLICT (bib_id, branch) DO UPDATE SET holds = title_copies.holds + excluded.holds;
        END IF;
        IF now_open = 1 THEN
            INSERT INTO title_copies (bib_id, branch, copies, holds) VALUES (NEW.bib_id, '*', 0, 1)
            ON CONFLICT (bib_id, branch) DO UPDATE SET holds = title_copies.holds + excluded.holds;
        END IF;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER title_holds_update AFTER UPDATE OF bib_id, pickup_branch, status ON holds
FOR EACH ROW WHEN (OLD.bib_id IS DISTINCT FROM NEW.bib_id OR OLD.pickup_branch IS DISTINCT FROM NEW.pickup_branch
                   OR (OLD.status IN ('waiting', 'suspended', 'in_transit', 'on_shelf'))
                      <> (NEW.status IN ('waiting', 'suspended', 'in_transit', 'on_shelf')))
EXECUTE FUNCTION title_holds_change();
CREATE TRIGGER title_holds_delete AFTER DELETE ON holds
FOR EACH ROW EXECUTE FUNCTION title_holds_change();

-- The library so far: every title's copies under `*`, then the open holds under their pickup
-- branch and `*`.
INSERT INTO title_copies (bib_id, branch, copies)
SELECT bib_id, '*', sum(copies) FROM title_copies WHERE branch <> '*' GROUP BY bib_id
ON CONFLICT (bib_id, branch) DO UPDATE SET copies = excluded.copies;
INSERT INTO title_copies (bib_id, branch, copies, holds)
SELECT h.bib_id, b.branch, 0, count(*) FROM holds h CROSS JOIN LATERAL (VALUES (h.pickup_branch), ('*')) b(branch)
WHERE h.status IN ('waiting', 'suspended', 'in_transit', 'on_shelf') GROUP BY 1, 2
ON CONFLICT (bib_id, branch) DO UPDATE SET holds = excluded.holds;

-- ---------------------------------------------------------------------------------------------
-- Checkouts per title, branch and UTC year, beside 0019's per month (branch `*` for every
-- branch): the top-titles merge reads a year whose twelve months a span touches as one list.
-- With loans spread evenly over the titles, twelve month lists never settle it (each list's
-- next title may add one more checkout), and summing every title's months took 110-145 ms for
-- a year at 500,000 loans; a year's list settles at its first page.

CREATE TABLE title_years (
    bib_id    BIGINT NOT NULL,
    branch    TEXT NOT NULL,
    year      TIMESTAMPTZ NOT NULL,
    checkouts BIGINT NOT NULL,
    PRIMARY KEY (bib_id, branch, year)
);
CREATE INDEX title_years_rank_idx ON title_years (year, branch, checkouts DESC, bib_id);

CREATE FUNCTION title_year_count_loan() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO title_years (bib_id, branch, year, checkouts)
        SELECT i.bib_id, b.branch, date_trunc('year', OLD.checked_out_at, 'UTC'), -1
        FROM items i, (VALUES (OLD.checkout_branch), ('*')) b (branch) WHERE i.id = OLD.item_id ORDER BY 2
        ON CONFLICT (bib_id, branch, year) DO UPDATE SET checkouts = title_years.checkouts + excluded.checkouts;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO title_years (bib_id, branch, year, checkouts)
        SELECT i.bib_id, b.branch, date_trunc('year', NEW.checked_out_at, 'UTC'), 1
        FROM items i, (VALUES (NEW.checkout_branch), ('*')) b (branch) WHERE i.id = NEW.item_id ORDER BY 2
        ON CONFLICT (bib_id, branch, year) DO UPDATE SET checkouts = title_years.checkouts + excluded.checkouts;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER title_year_count_loan AFTER INSERT OR DELETE ON loans
FOR EACH ROW EXECUTE FUNCTION title_year_count_loan();
CREATE TRIGGER title_year_count_loan_move AFTER UPDATE OF checked_out_at, checkout_branch, item_id ON loans
FOR EACH ROW WHEN (OLD.checked_out_at IS DISTINCT FROM NEW.checked_out_at
                   OR OLD.checkout_branch IS DISTINCT FROM NEW.checkout_branch OR OLD.item_id IS DISTINCT FROM NEW.item_id)
EXECUTE FUNCTION title_year_count_loan();

-- An item moved to another record takes its loans' checkouts along.
CREATE FUNCTION title_year_count_item_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO title_years (bib_id, branch, year, checkouts)
    SELECT t.bib_id, CASE WHEN b.every THEN '*' ELSE l.checkout_branch END,
           date_trunc('year', l.checked_out_at, 'UTC'), t.sign * count(*)
    FROM loans l, (VALUES (false), (true)) b (every), (VALUES (OLD.bib_id, -1), (NEW.bib_id, 1)) t (bib_id, sign)
    WHERE l.item_id = NEW.id GROUP BY 1, 2, 3, t.sign ORDER BY 1, 2, 3
    ON CONFLICT (bib_id, branch, year) DO UPDATE SET checkouts = title_years.checkouts + excluded.checkouts;
    RETURN NULL;
END $$;
CREATE TRIGGER title_year_count_item_record AFTER UPDATE OF bib_id ON items
FOR EACH ROW WHEN (OLD.bib_id IS DISTINCT FROM NEW.bib_id) EXECUTE FUNCTION title_year_count_item_record();

INSERT INTO title_years (bib_id, branch, year, checkouts)
SELECT bib_id, branch, date_trunc('year', month, 'UTC'), sum(checkouts) FROM title_months GROUP BY 1, 2, 3;
