-- Reports (issue 6): each report is one aggregate query over a date range, so the range must be
-- an index range, not a walk of the table.

-- A renewal as an event: `loans.renewals` counts them but says nothing of when. Written in the
-- renewal's transaction; renewals from before this migration have no row (their dates were
-- never kept).
CREATE TABLE loan_renewals (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    loan_id    INTEGER NOT NULL REFERENCES loans (id),
    renewed_at TEXT NOT NULL
);
CREATE INDEX loan_renewals_at_idx ON loan_renewals (renewed_at, loan_id);

-- Checkouts and check-ins by day and branch: the branch in the index, so a count is read from
-- the index alone.
CREATE INDEX loans_checked_out_at_idx ON loans (checked_out_at, checkout_branch);
CREATE INDEX loans_returned_at_idx ON loans (returned_at, return_branch) WHERE returned_at IS NOT NULL;
-- Money collected by day and type.
CREATE INDEX ledger_entries_at_idx ON ledger_entries (at, kind);
-- New registrations by day and category.
CREATE INDEX patrons_created_at_idx ON patrons (created_at, home_branch);
