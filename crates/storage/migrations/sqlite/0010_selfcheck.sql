-- Self-check (issue 7, SIP2): patron passwords (the PIN a kiosk asks for, AD/CQ) and the
-- narrow `selfcheck` staff role that kiosk accounts log in with.

-- One row per patron who has a password: an argon2id PHC string, never the password. A patron
-- without a row has none (SIP2 answers CQ N when one is sent).
CREATE TABLE patron_passwords (
    patron_id     INTEGER PRIMARY KEY REFERENCES patrons (id),
    password_hash TEXT NOT NULL,
    set_at        TEXT NOT NULL
);

-- SQLite cannot change a CHECK in place: rebuild the small roles table with the new name.
CREATE TABLE staff_roles_new (
    staff_id INTEGER NOT NULL REFERENCES staff (id),
    role     TEXT NOT NULL
        CHECK (role IN ('admin', 'clerk', 'supervisor', 'cataloger', 'volunteer', 'selfcheck')),
    PRIMARY KEY (staff_id, role)
) WITHOUT ROWID;
INSERT INTO staff_roles_new (staff_id, role) SELECT staff_id, role FROM staff_roles;
DROP TABLE staff_roles;
ALTER TABLE staff_roles_new RENAME TO staff_roles;
