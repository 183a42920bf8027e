-- Self-check (issue 7, SIP2): patron passwords (the PIN a kiosk asks for, AD/CQ) and the
-- narrow `selfcheck` staff role that kiosk accounts log in with.

-- One row per patron who has a password: an argon2id PHC string, never the password. A patron
-- without a row has none (SIP2 answers CQ N when one is sent).
CREATE TABLE patron_passwords (
    patron_id     BIGINT PRIMARY KEY REFERENCES patrons (id),
    password_hash TEXT NOT NULL,
    set_at        TIMESTAMPTZ NOT NULL
);

ALTER TABLE staff_roles DROP CONSTRAINT staff_roles_role_check;
ALTER TABLE staff_roles ADD CONSTRAINT staff_roles_role_check
    CHECK (role IN ('admin', 'clerk', 'supervisor', 'cataloger', 'volunteer', 'selfcheck'));
