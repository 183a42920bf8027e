-- Holds: the queue per record (title-level) or per copy (item-level), and transits between
-- branches. A hold is never deleted: filled, cancelled and expired holds keep the history.

CREATE TABLE holds (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patron_id        BIGINT NOT NULL REFERENCES patrons (id),
    bib_id           BIGINT NOT NULL REFERENCES bib_records (id),
    -- Set for an item-level hold: only this copy will do.
    item_id          BIGINT REFERENCES items (id),
    pickup_branch    TEXT NOT NULL REFERENCES branches (code),
    placed_at        TIMESTAMPTZ NOT NULL,
    -- Queue order within the record (then id): staff may move a hold.
    queue_position   BIGINT NOT NULL,
    not_needed_after DATE,
    status           TEXT NOT NULL CHECK (status IN
                         ('waiting', 'suspended', 'in_transit', 'on_shelf', 'filled', 'cancelled', 'expired')),
    suspended_until  DATE,
    -- The copy trapped for it (in transit or on the hold shelf); kept once filled, as history.
    trapped_item_id  BIGINT REFERENCES items (id),
    pickup_by        TIMESTAMPTZ,
    finished_at      TIMESTAMPTZ,
    CHECK ((status IN ('in_transit', 'on_shelf')) = (trapped_item_id IS NOT NULL) OR status = 'filled'),
    CHECK ((status = 'on_shelf') = (pickup_by IS NOT NULL))
);
-- The queue of a record: one indexed range, in queue order, open holds only.
CREATE INDEX holds_queue_idx ON holds (bib_id, queue_position, id)
    WHERE status IN ('waiting', 'suspended', 'in_transit', 'on_shelf');
-- The patron's holds.
CREATE INDEX holds_patron_idx ON holds (patron_id, id);
-- A copy is trapped for one hold at a time.
CREATE UNIQUE INDEX holds_trapped_item_idx ON holds (trapped_item_id) WHERE status IN ('in_transit', 'on_shelf');
-- The nightly hold-shelf sweep.
CREATE INDEX holds_pickup_by_idx ON holds (pickup_by) WHERE status = 'on_shelf';
CREATE INDEX holds_not_needed_after_idx ON holds (not_needed_after)
    WHERE status IN ('waiting', 'suspended') AND not_needed_after IS NOT NULL;

-- A copy travelling between branches: to a hold's pickup branch, or home.
CREATE TABLE transits (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_id     BIGINT NOT NULL REFERENCES items (id),
    from_branch TEXT NOT NULL REFERENCES branches (code),
    to_branch   TEXT NOT NULL REFERENCES branches (code),
    reason      TEXT NOT NULL CHECK (reason IN ('hold', 'home')),
    hold_id     BIGINT REFERENCES holds (id),
    sent_at     TIMESTAMPTZ NOT NULL,
    received_at TIMESTAMPTZ,
    CHECK ((reason = 'hold') = (hold_id IS NOT NULL))
);
-- One open transit per copy.
CREATE UNIQUE INDEX transits_open_item_idx ON transits (item_id) WHERE received_at IS NULL;
CREATE INDEX transits_item_idx ON transits (item_id, id);
