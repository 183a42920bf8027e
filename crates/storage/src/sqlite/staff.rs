use super::{is_unique_violation, time, SqliteDatabase};
use crate::common::{self, parse_code};
use crate::staff::{
    check_roles, split_words, unknown_staff, ApiToken, ApiTokenId, AuditEntry, AuditFilter, AuditId, Authenticated,
    Credential, NewAuditEntry, NewStaff, OverrideRecord, StaffAccount, StaffChange, StaffStore, TOUCH_EVERY_SECONDS,
};
use crate::{Page, Result, StorageError};
use catalog::Code;
use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row};

const ACCOUNT_SQL: &str = "SELECT s.id, s.login, s.name, \
        (SELECT group_concat(role, ' ') FROM staff_roles WHERE staff_id = s.id), \
        (SELECT group_concat(branch, ' ') FROM staff_branches WHERE staff_id = s.id), \
        s.active, s.created_at \
     FROM staff s";

fn account_from_row(row: &Row<'_>) -> Result<StaffAccount> {
    Ok(StaffAccount {
        id: row.get(0)?,
        login: row.get(1)?,
        name: row.get(2)?,
        roles: split_words(row.get(3)?),
        branches: split_words(row.get(4)?).into_iter().map(parse_code).collect::<Result<_>>()?,
        active: row.get(5)?,
        created_at: row.get(6)?,
    })
}

fn account(conn: &Connection, login: &str) -> Result<Option<StaffAccount>> {
    let mut st = conn.prepare_cached(&format!("{ACCOUNT_SQL} WHERE s.login = ?1"))?;
    let mut rows = st.query([login])?;
    rows.next()?.map(account_from_row).transpose()
}

fn staff_id(conn: &Connection, login: &str) -> Result<i64> {
    conn.prepare_cached("SELECT id FROM staff WHERE login = ?1")?
        .query_row([login], |r| r.get(0))
        .optional()?
        .ok_or_else(|| unknown_staff(login))
}

fn set_roles(conn: &Connection, id: i64, roles: &[String]) -> Result<()> {
    check_roles(roles)?;
    conn.prepare_cached("DELETE FROM staff_roles WHERE staff_id = ?1")?.execute([id])?;
    let mut st = conn.prepare_cached("INSERT OR IGNORE INTO staff_roles (staff_id, role) VALUES (?1, ?2)")?;
    for role in roles {
        st.execute(params![id, role])?;
    }
    Ok(())
}

fn set_branches(conn: &Connection, id: i64, branches: &[Code]) -> Result<()> {
    conn.prepare_cached("DELETE FROM staff_branches WHERE staff_id = ?1")?.execute([id])?;
    let mut exists = conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM branches WHERE code = ?1)")?;
    let mut insert = conn.prepare_cached("INSERT OR IGNORE INTO staff_branches (staff_id, branch) VALUES (?1, ?2)")?;
    for b in branches {
        if !exists.query_row([b.as_str()], |r| r.get::<_, bool>(0))? {
            return Err(StorageError::Constraint(format!("there is no branch {}", b.as_str())));
        }
        insert.execute(params![id, b.as_str()])?;
    }
    Ok(())
}

fn token_from_row(row: &Row<'_>) -> rusqlite::Result<ApiToken> {
    Ok(ApiToken {
        id: row.get(0)?,
        name: row.get(1)?,
        created_at: row.get(2)?,
        last_used_at: row.get(3)?,
        revoked_at: row.get(4)?,
    })
}

const TOKEN_COLUMNS: &str = "id, name, created_at, last_used_at, revoked_at";

impl StaffStore for SqliteDatabase {
    fn create_staff(&self, staff: &NewStaff, now: DateTime<Utc>) -> Result<StaffAccount> {
        self.write_at(now, |tx, now| {
            let id: i64 = tx
                .prepare_cached(
                    "INSERT INTO staff (login, name, password_hash, active, created_at, updated_at) \
                     VALUES (?1, ?2, ?3, 1, ?4, ?4) RETURNING id",
                )?
                .query_row(params![staff.login, staff.name, staff.password_hash, now], |r| r.get(0))
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        StorageError::Conflict { what: "staff login", key: staff.login.clone() }
                    } else {
                        e.into()
                    }
                })?;
            set_roles(tx, id, &staff.roles)?;
            set_branches(tx, id, &staff.branches)?;
            account(tx, &staff.login)?.ok_or_else(|| unknown_staff(&staff.login))
        })
    }

    fn update_staff(&self, login: &str, change: &StaffChange, now: DateTime<Utc>) -> Result<StaffAccount> {
        self.write_at(now, |tx, now| {
            let id = staff_id(tx, login)?;
            if let Some(name) = &change.name {
                tx.prepare_cached("UPDATE staff SET name = ?2 WHERE id = ?1")?.execute(params![id, name])?;
            }
            if let Some(roles) = &change.roles {
                set_roles(tx, id, roles)?;
            }
            if let Some(branches) = &change.branches {
                set_branches(tx, id, branches)?;
            }
            if let Some(active) = change.active {
                tx.prepare_cached("UPDATE staff SET active = ?2 WHERE id = ?1")?.execute(params![id, active])?;
                if !active {
                    tx.prepare_cached("DELETE FROM staff_sessions WHERE staff_id = ?1")?.execute([id])?;
                }
            }
            tx.prepare_cached("UPDATE staff SET updated_at = ?2 WHERE id = ?1")?.execute(params![id, now])?;
            account(tx, login)?.ok_or_else(|| unknown_staff(login))
        })
    }

    fn staff_account(&self, login: &str) -> Result<Option<StaffAccount>> {
        self.read(|tx| account(tx, login))
    }

    fn staff_accounts(&self) -> Result<Vec<StaffAccount>> {
        self.read(|tx| {
            let mut st = tx.prepare_cached(&format!("{ACCOUNT_SQL} ORDER BY s.login"))?;
            let mut rows = st.query([])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(account_from_row(row)?);
            }
            Ok(out)
        })
    }

    fn staff_credentials(&self, login: &str) -> Result<Option<(StaffAccount, String)>> {
        self.read(|tx| {
            let Some(a) = account(tx, login)? else { return Ok(None) };
            let hash: String =
                tx.prepare_cached("SELECT password_hash FROM staff WHERE id = ?1")?.query_row([a.id], |r| r.get(0))?;
            Ok(Some((a, hash)))
        })
    }

    fn set_staff_password(&self, login: &str, password_hash: &str, now: DateTime<Utc>) -> Result<()> {
        self.write_at(now, |tx, now| {
            let id = staff_id(tx, login)?;
            tx.prepare_cached("UPDATE staff SET password_hash = ?2, updated_at = ?3 WHERE id = ?1")?
                .execute(params![id, password_hash, now])?;
            tx.prepare_cached("DELETE FROM staff_sessions WHERE staff_id = ?1")?.execute([id])?;
            Ok(())
        })
    }

    fn create_session(
        &self,
        login: &str,
        token_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.write_at(now, |tx, now| {
            let id = staff_id(tx, login)?;
            tx.prepare_cached("DELETE FROM staff_sessions WHERE staff_id = ?1 AND expires_at <= ?2")?
                .execute(params![id, now])?;
            tx.prepare_cached(
                "INSERT INTO staff_sessions (token_hash, staff_id, created_at, expires_at, last_used_at) \
                 VALUES (?1, ?2, ?3, ?4, ?3)",
            )?
            .execute(params![token_hash, id, now, common::rfc3339(expires_at)])?;
            Ok(())
        })
    }

    fn end_session(&self, token_hash: &str) -> Result<bool> {
        self.write(|tx, _| {
            Ok(tx.prepare_cached("DELETE FROM staff_sessions WHERE token_hash = ?1")?.execute([token_hash])? > 0)
        })
    }

    fn authenticate(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Authenticated>> {
        let now_str = common::rfc3339(now);
        let stale = common::rfc3339(now - Duration::seconds(TOUCH_EVERY_SECONDS));
        // (login, credential, last used) read in one snapshot; the touch below is a separate,
        // idempotent write made only when the last use is a minute old.
        let found = self.read(|tx| {
            let session = tx
                .prepare_cached(
                    "SELECT s.login, x.expires_at, x.last_used_at FROM staff_sessions x \
                     JOIN staff s ON s.id = x.staff_id \
                     WHERE x.token_hash = ?1 AND x.expires_at > ?2 AND s.active = 1",
                )?
                .query_row(params![token_hash, now_str], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
                })
                .optional()?;
            if let Some((login, expires, last)) = session {
                let a = account(tx, &login)?.ok_or_else(|| unknown_staff(&login))?;
                return Ok(Some((
                    Authenticated { account: a, credential: Credential::Session { expires_at: time(&expires)? } },
                    last < stale,
                )));
            }
            let token = tx
                .prepare_cached(
                    "SELECT s.login, t.id, t.name, t.last_used_at FROM staff_api_tokens t \
                     JOIN staff s ON s.id = t.staff_id \
                     WHERE t.token_hash = ?1 AND t.revoked_at IS NULL AND s.active = 1",
                )?
                .query_row([token_hash], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                })
                .optional()?;
            match token {
                Some((login, id, name, last)) => {
                    let a = account(tx, &login)?.ok_or_else(|| unknown_staff(&login))?;
                    let stale_use = last.is_none_or(|l| l < stale);
                    Ok(Some((Authenticated { account: a, credential: Credential::ApiToken { id, name } }, stale_use)))
                }
                None => Ok(None),
            }
        })?;
        let Some((auth, touch)) = found else { return Ok(None) };
        if touch {
            self.write_at(now, |tx, now| {
                match &auth.credential {
                    Credential::Session { .. } => tx
                        .prepare_cached("UPDATE staff_sessions SET last_used_at = ?2 WHERE token_hash = ?1")?
                        .execute(params![token_hash, now])?,
                    Credential::ApiToken { id, .. } => tx
                        .prepare_cached("UPDATE staff_api_tokens SET last_used_at = ?2 WHERE id = ?1")?
                        .execute(params![id, now])?,
                };
                Ok(())
            })?;
        }
        Ok(Some(auth))
    }

    fn create_api_token(&self, login: &str, name: &str, token_hash: &str, now: DateTime<Utc>) -> Result<ApiToken> {
        self.write_at(now, |tx, now| {
            let id = staff_id(tx, login)?;
            Ok(tx
                .prepare_cached(&format!(
                    "INSERT INTO staff_api_tokens (staff_id, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4) \
                     RETURNING {TOKEN_COLUMNS}"
                ))?
                .query_row(params![id, name, token_hash, now], token_from_row)?)
        })
    }

    fn api_tokens(&self, login: &str) -> Result<Vec<ApiToken>> {
        self.read(|tx| {
            let id = staff_id(tx, login)?;
            let mut st = tx.prepare_cached(&format!(
                "SELECT {TOKEN_COLUMNS} FROM staff_api_tokens WHERE staff_id = ?1 ORDER BY id"
            ))?;
            let rows = st.query_map([id], token_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn revoke_api_token(&self, login: &str, id: ApiTokenId, now: DateTime<Utc>) -> Result<()> {
        self.write_at(now, |tx, now| {
            let staff = staff_id(tx, login)?;
            let n = tx
                .prepare_cached(
                    "UPDATE staff_api_tokens SET revoked_at = ?3 \
                     WHERE id = ?1 AND staff_id = ?2 AND revoked_at IS NULL",
                )?
                .execute(params![id, staff, now])?;
            if n == 0 {
                return Err(StorageError::NotFound { what: "API token", key: format!("{id} of {login}") });
            }
            Ok(())
        })
    }

    fn append_audit(&self, entry: &NewAuditEntry, now: DateTime<Utc>) -> Result<AuditId> {
        self.write_at(now, |tx, now| insert_audit(tx, now, entry))
    }

    fn override_log(&self, page: Page) -> Result<Vec<OverrideRecord>> {
        self.read(|tx| {
            let mut st = tx.prepare_cached(
                "SELECT o.id, o.at, o.staff, o.action, o.overridden, o.reason, p.card_number \
                 FROM override_log o LEFT JOIN patrons p ON p.id = o.patron_id WHERE o.id > ?1 ORDER BY o.id LIMIT ?2",
            )?;
            let rows = st.query_map(params![page.after, page.limit], |r| {
                Ok((
                    r.get(0)?,
                    r.get::<_, String>(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get::<_, String>(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            })?;
            rows.map(|r| {
                let (id, at, staff, action, overridden, reason, card_number) = r?;
                Ok(OverrideRecord {
                    id,
                    at: time(&at)?,
                    staff,
                    action,
                    overridden: overridden.split(',').filter(|c| !c.is_empty()).map(str::to_string).collect(),
                    reason,
                    card_number,
                })
            })
            .collect()
        })
    }

    fn audit_log(&self, filter: &AuditFilter, page: Page) -> Result<Vec<AuditEntry>> {
        self.read(|tx| {
            let mut st = tx.prepare_cached(
                "SELECT id, at, staff, action, target, details FROM audit_log \
                 WHERE id > ?1 AND (?2 IS NULL OR staff = ?2) AND (?3 IS NULL OR action = ?3) \
                 ORDER BY id LIMIT ?4",
            )?;
            let rows = st.query_map(params![page.after, filter.staff, filter.action, page.limit], |r| {
                Ok(AuditEntry {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    staff: r.get(2)?,
                    action: r.get(3)?,
                    target: r.get(4)?,
                    details: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }
}

/// Appends one entry: [`StaffStore::append_audit`], and the write helper for an entry waiting
/// on the transaction (`crate::staff::audited`).
pub(super) fn insert_audit(tx: &Connection, now: &str, entry: &NewAuditEntry) -> Result<AuditId> {
    Ok(tx
        .prepare_cached(
            "INSERT INTO audit_log (at, staff, action, target, details) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
        )?
        .query_row(params![now, entry.staff, entry.action, entry.target, entry.details], |r| r.get(0))?)
}
