-- Staff accounts, their roles and branch limits, sessions, API tokens, and the audit log.

CREATE TABLE staff (
    id            INTEGER PRIMARY KEY,
    login         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    -- argon2id, as a PHC string: the parameters travel with the hash.
    password_hash TEXT NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE staff_roles (
    staff_id INTEGER NOT NULL REFERENCES staff (id),
    role     TEXT NOT NULL CHECK (role IN ('admin', 'clerk', 'supervisor', 'cataloger', 'volunteer')),
    PRIMARY KEY (staff_id, role)
) WITHOUT ROWID;

-- No rows: every branch. A branch named here cannot be deleted (no cascade), so deleting a
-- branch never turns a limited account into an unlimited one.
CREATE TABLE staff_branches (
    staff_id INTEGER NOT NULL REFERENCES staff (id),
    branch   TEXT NOT NULL REFERENCES branches (code),
    PRIMARY KEY (staff_id, branch)
) WITHOUT ROWID;

-- Tokens are kept as their SHA-256 (hex): the database alone does not let anyone sign in.
CREATE TABLE staff_sessions (
    token_hash   TEXT PRIMARY KEY,
    staff_id     INTEGER NOT NULL REFERENCES staff (id),
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    last_used_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX staff_sessions_staff_idx ON staff_sessions (staff_id);

CREATE TABLE staff_api_tokens (
    id           INTEGER PRIMARY KEY,
    staff_id     INTEGER NOT NULL REFERENCES staff (id),
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);
CREATE INDEX staff_api_tokens_staff_idx ON staff_api_tokens (staff_id);

-- Staff actions: who, when, what, to what. The login is text, not a reference, so an entry
-- outlives the account and a failed log-in with an unknown login is still recorded.
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    staff   TEXT,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX audit_log_staff_idx ON audit_log (staff, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
