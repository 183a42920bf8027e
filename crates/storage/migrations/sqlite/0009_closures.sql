-- Emergency closures: a day closed at a branch after due dates and pickup deadlines were set.
-- The desk adds them to the branch's calendar; a closure is declared once and never removed
-- (the fines already computed with it must stay reproducible).

CREATE TABLE closures (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    branch      TEXT NOT NULL REFERENCES branches (code),
    day         TEXT NOT NULL,
    reason      TEXT NOT NULL,
    declared_by TEXT,
    declared_at TEXT NOT NULL,
    UNIQUE (branch, day)
);
-- The loans an emergency closure moves: open, checked out at the branch, due that day.
CREATE INDEX loans_open_branch_due_idx ON loans (checkout_branch, due_at) WHERE returned_at IS NULL;
