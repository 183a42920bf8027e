-- OPAC (issue 5): patrons signed in to the public catalog. Only the SHA-256 of the session
-- token is stored. A session lives until `expires_at`, which each use moves forward (an idle
-- timeout); it is separate from staff sessions, so a patron's cookie never grants staff rights.
CREATE TABLE patron_sessions (
    token_hash   TEXT PRIMARY KEY NOT NULL,
    patron_id    BIGINT NOT NULL REFERENCES patrons (id),
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX patron_sessions_patron_idx ON patron_sessions (patron_id, expires_at);
