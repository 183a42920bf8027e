-- An import's changes are marked bulk (issue 5): the search follower applies every other change
-- (a staff edit, a check-in, a copy-cataloged record) ahead of an import's backlog, so those are
-- searchable within a second however far behind the import the index is. Applying a change out
-- of order is safe because the follower re-indexes from the database's current state.
-- The partial index holds only the changes that are not bulk, so an import's writes skip it.
ALTER TABLE changes ADD COLUMN bulk BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX changes_prompt_idx ON changes (id) WHERE NOT bulk;
