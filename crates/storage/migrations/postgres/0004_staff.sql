-- Staff accounts, their roles and branch limits, sessions, API tokens, and the audit log.

CREATE TABLE staff (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    -- argon2id, as a PHC string: the parameters travel with the hash.
    password_hash TEXT NOT NULL,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE staff_roles (
    staff_id BIGINT NOT NULL REFERENCES staff (id),
    role     TEXT NOT NULL CHECK (role IN ('admin', 'clerk', 'supervisor', 'cataloger', 'volunteer')),
    PRIMARY KEY (staff_id, role)
);

-- No rows: every branch. A branch named here cannot be deleted (no cascade), so deleting a
-- branch never turns a limited account into an unlimited one.
CREATE TABLE staff_branches (
    staff_id BIGINT NOT NULL REFERENCES staff (id),
    branch   TEXT NOT NULL REFERENCES branches (code),
    PRIMARY KEY (staff_id, branch)
);

-- Tokens are kept as their SHA-256 (hex): the database alone does not let anyone sign in.
CREATE TABLE staff_sessions (
    token_hash   TEXT PRIMARY KEY,
    staff_id     BIGINT NOT NULL REFERENCES staff (id),
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX staff_sessions_staff_idx ON staff_sessions (staff_id);

CREATE TABLE staff_api_tokens (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    staff_id     BIGINT NOT NULL REFERENCES staff (id),
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX staff_api_tokens_staff_idx ON staff_api_tokens (staff_id);

-- Staff actions: who, when, what, to what. The login is text, not a reference, so an entry
-- outlives the account and a failed log-in with an unknown login is still recorded.
CREATE TABLE audit_log (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      TIMESTAMPTZ NOT NULL,
    staff   TEXT,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX audit_log_staff_idx ON audit_log (staff, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
