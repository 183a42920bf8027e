use super::{timestamp, Cx, PostgresDatabase};
use crate::common::parse_code;
use crate::staff::{
    check_roles, split_words, unknown_staff, ApiToken, ApiTokenId, AuditEntry, AuditFilter, AuditId, Authenticated,
    Credential, NewAuditEntry, NewStaff, OverrideRecord, StaffAccount, StaffChange, StaffStore, TOUCH_EVERY_SECONDS,
};
use crate::{common, Page, Result, StorageError};
use ::postgres::{GenericClient, Row};
use catalog::Code;
use chrono::{DateTime, Duration, Utc};

const ACCOUNT_SQL: &str = "SELECT s.id, s.login, s.name, \
        (SELECT string_agg(role, ' ') FROM staff_roles WHERE staff_id = s.id), \
        (SELECT string_agg(branch, ' ') FROM staff_branches WHERE staff_id = s.id), \
        s.active, s.created_at, s.password_hash \
     FROM staff s";

fn account_from_row(row: &Row) -> Result<StaffAccount> {
    Ok(StaffAccount {
        id: row.try_get(0)?,
        login: row.try_get(1)?,
        name: row.try_get(2)?,
        roles: split_words(row.try_get(3)?),
        branches: split_words(row.try_get(4)?).into_iter().map(parse_code).collect::<Result<_>>()?,
        active: row.try_get(5)?,
        created_at: timestamp(row, 6)?,
    })
}

fn account<C: GenericClient>(cx: &mut Cx<'_, C>, login: &str) -> Result<Option<StaffAccount>> {
    cx.query_opt(&format!("{ACCOUNT_SQL} WHERE s.login = $1"), &[&login])?.map(|r| account_from_row(&r)).transpose()
}

fn staff_id<C: GenericClient>(cx: &mut Cx<'_, C>, login: &str) -> Result<i64> {
    match cx.query_opt("SELECT id FROM staff WHERE login = $1", &[&login])? {
        Some(r) => Ok(r.try_get(0)?),
        None => Err(unknown_staff(login)),
    }
}

fn set_roles<C: GenericClient>(cx: &mut Cx<'_, C>, id: i64, roles: &[String]) -> Result<()> {
    check_roles(roles)?;
    cx.execute("DELETE FROM staff_roles WHERE staff_id = $1", &[&id])?;
    cx.execute(
        "INSERT INTO staff_roles (staff_id, role) SELECT $1, r FROM unnest($2::text[]) AS r ON CONFLICT DO NOTHING",
        &[&id, &roles],
    )?;
    Ok(())
}

fn set_branches<C: GenericClient>(cx: &mut Cx<'_, C>, id: i64, branches: &[Code]) -> Result<()> {
    let codes: Vec<&str> = branches.iter().map(|b| b.as_str()).collect();
    let unknown = cx.query_opt(
        "SELECT b FROM unnest($1::text[]) AS b WHERE NOT EXISTS (SELECT 1 FROM branches WHERE code = b) LIMIT 1",
        &[&codes],
    )?;
    if let Some(r) = unknown {
        return Err(StorageError::Constraint(format!("there is no branch {}", r.try_get::<_, String>(0)?)));
    }
    cx.execute("DELETE FROM staff_branches WHERE staff_id = $1", &[&id])?;
    cx.execute(
        "INSERT INTO staff_branches (staff_id, branch) SELECT $1, b FROM unnest($2::text[]) AS b \
         ON CONFLICT DO NOTHING",
        &[&id, &codes],
    )?;
    Ok(())
}

fn opt_timestamp(row: &Row, i: usize) -> Result<Option<String>> {
    Ok(row.try_get::<_, Option<DateTime<Utc>>>(i)?.map(common::rfc3339))
}

fn token_from_row(row: &Row) -> Result<ApiToken> {
    Ok(ApiToken {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        created_at: timestamp(row, 2)?,
        last_used_at: opt_timestamp(row, 3)?,
        revoked_at: opt_timestamp(row, 4)?,
    })
}

const TOKEN_COLUMNS: &str = "id, name, created_at, last_used_at, revoked_at";

impl StaffStore for PostgresDatabase {
    fn create_staff(&self, staff: &NewStaff, now: DateTime<Utc>) -> Result<StaffAccount> {
        self.write(|w| {
            let Some(row) = w.cx.query_opt(
                "INSERT INTO staff (login, name, password_hash, active, created_at, updated_at) \
                 VALUES ($1, $2, $3, TRUE, $4, $4) ON CONFLICT (login) DO NOTHING RETURNING id",
                &[&staff.login, &staff.name, &staff.password_hash, &now],
            )?
            else {
                return Err(StorageError::Conflict { what: "staff login", key: staff.login.clone() });
            };
            let id: i64 = row.try_get(0)?;
            set_roles(&mut w.cx, id, &staff.roles)?;
            set_branches(&mut w.cx, id, &staff.branches)?;
            account(&mut w.cx, &staff.login)?.ok_or_else(|| unknown_staff(&staff.login))
        })
    }

    fn update_staff(&self, login: &str, change: &StaffChange, now: DateTime<Utc>) -> Result<StaffAccount> {
        self.write(|w| {
            // Locks the account row: two administrators editing one account take turns.
            let id: i64 = match w.cx.query_opt("SELECT id FROM staff WHERE login = $1 FOR UPDATE", &[&login])? {
                Some(r) => r.try_get(0)?,
                None => return Err(unknown_staff(login)),
            };
            if let Some(name) = &change.name {
                w.cx.execute("UPDATE staff SET name = $2 WHERE id = $1", &[&id, name])?;
            }
            if let Some(roles) = &change.roles {
                set_roles(&mut w.cx, id, roles)?;
            }
            if let Some(branches) = &change.branches {
                set_branches(&mut w.cx, id, branches)?;
            }
            if let Some(active) = change.active {
                w.cx.execute("UPDATE staff SET active = $2 WHERE id = $1", &[&id, &active])?;
                if !active {
                    w.cx.execute("DELETE FROM staff_sessions WHERE staff_id = $1", &[&id])?;
                }
            }
            w.cx.execute("UPDATE staff SET updated_at = $2 WHERE id = $1", &[&id, &now])?;
            account(&mut w.cx, login)?.ok_or_else(|| unknown_staff(login))
        })
    }

    fn staff_account(&self, login: &str) -> Result<Option<StaffAccount>> {
        self.read(|cx| account(cx, login))
    }

    fn staff_accounts(&self) -> Result<Vec<StaffAccount>> {
        self.read(|cx| {
            cx.query(&format!("{ACCOUNT_SQL} ORDER BY s.login"), &[])?.iter().map(account_from_row).collect()
        })
    }

    fn staff_credentials(&self, login: &str) -> Result<Option<(StaffAccount, String)>> {
        self.read(|cx| {
            // ACCOUNT_SQL reads the hash too (column 7), so both come from one statement.
            match cx.query_opt(&format!("{ACCOUNT_SQL} WHERE s.login = $1"), &[&login])? {
                Some(r) => Ok(Some((account_from_row(&r)?, r.try_get(7)?))),
                None => Ok(None),
            }
        })
    }

    fn set_staff_password(&self, login: &str, password_hash: &str, now: DateTime<Utc>) -> Result<()> {
        self.write(|w| {
            let id = staff_id(&mut w.cx, login)?;
            w.cx.execute(
                "UPDATE staff SET password_hash = $2, updated_at = $3 WHERE id = $1",
                &[&id, &password_hash, &now],
            )?;
            w.cx.execute("DELETE FROM staff_sessions WHERE staff_id = $1", &[&id])?;
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
        self.write(|w| {
            let id = staff_id(&mut w.cx, login)?;
            w.cx.execute("DELETE FROM staff_sessions WHERE staff_id = $1 AND expires_at <= $2", &[&id, &now])?;
            w.cx.execute(
                "INSERT INTO staff_sessions (token_hash, staff_id, created_at, expires_at, last_used_at) \
                 VALUES ($1, $2, $3, $4, $3)",
                &[&token_hash, &id, &now, &expires_at],
            )?;
            Ok(())
        })
    }

    fn end_session(&self, token_hash: &str) -> Result<bool> {
        self.write(|w| Ok(w.cx.execute("DELETE FROM staff_sessions WHERE token_hash = $1", &[&token_hash])? > 0))
    }

    fn authenticate(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Authenticated>> {
        let stale = now - Duration::seconds(TOUCH_EVERY_SECONDS);
        let found = self.read(|cx| {
            let session = cx.query_opt(
                "SELECT s.login, x.expires_at, x.last_used_at < $3 FROM staff_sessions x \
                 JOIN staff s ON s.id = x.staff_id \
                 WHERE x.token_hash = $1 AND x.expires_at > $2 AND s.active",
                &[&token_hash, &now, &stale],
            )?;
            if let Some(r) = session {
                let login: String = r.try_get(0)?;
                let a = account(cx, &login)?.ok_or_else(|| unknown_staff(&login))?;
                let credential = Credential::Session { expires_at: r.try_get(1)? };
                return Ok(Some((Authenticated { account: a, credential }, r.try_get::<_, bool>(2)?)));
            }
            let token = cx.query_opt(
                "SELECT s.login, t.id, t.name, coalesce(t.last_used_at < $2, TRUE) FROM staff_api_tokens t \
                 JOIN staff s ON s.id = t.staff_id \
                 WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND s.active",
                &[&token_hash, &stale],
            )?;
            match token {
                Some(r) => {
                    let login: String = r.try_get(0)?;
                    let a = account(cx, &login)?.ok_or_else(|| unknown_staff(&login))?;
                    let credential = Credential::ApiToken { id: r.try_get(1)?, name: r.try_get(2)? };
                    Ok(Some((Authenticated { account: a, credential }, r.try_get::<_, bool>(3)?)))
                }
                None => Ok(None),
            }
        })?;
        let Some((auth, touch)) = found else { return Ok(None) };
        if touch {
            self.write(|w| {
                match &auth.credential {
                    Credential::Session { .. } => w.cx.execute(
                        "UPDATE staff_sessions SET last_used_at = $2 WHERE token_hash = $1",
                        &[&token_hash, &now],
                    )?,
                    Credential::ApiToken { id, .. } => {
                        w.cx.execute("UPDATE staff_api_tokens SET last_used_at = $2 WHERE id = $1", &[id, &now])?
                    }
                };
                Ok(())
            })?;
        }
        Ok(Some(auth))
    }

    fn create_api_token(&self, login: &str, name: &str, token_hash: &str, now: DateTime<Utc>) -> Result<ApiToken> {
        self.write(|w| {
            let id = staff_id(&mut w.cx, login)?;
            let row = w.cx.query_one(
                &format!(
                    "INSERT INTO staff_api_tokens (staff_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) \
                     RETURNING {TOKEN_COLUMNS}"
                ),
                &[&id, &name, &token_hash, &now],
            )?;
            token_from_row(&row)
        })
    }

    fn api_tokens(&self, login: &str) -> Result<Vec<ApiToken>> {
        self.read(|cx| {
            let id = staff_id(cx, login)?;
            cx.query(&format!("SELECT {TOKEN_COLUMNS} FROM staff_api_tokens WHERE staff_id = $1 ORDER BY id"), &[&id])?
                .iter()
                .map(token_from_row)
                .collect()
        })
    }

    fn revoke_api_token(&self, login: &str, id: ApiTokenId, now: DateTime<Utc>) -> Result<()> {
        self.write(|w| {
            let staff = staff_id(&mut w.cx, login)?;
            let n = w.cx.execute(
                "UPDATE staff_api_tokens SET revoked_at = $3 WHERE id = $1 AND staff_id = $2 AND revoked_at IS NULL",
                &[&id, &staff, &now],
            )?;
            if n == 0 {
                return Err(StorageError::NotFound { what: "API token", key: format!("{id} of {login}") });
            }
            Ok(())
        })
    }

    fn append_audit(&self, entry: &NewAuditEntry, now: DateTime<Utc>) -> Result<AuditId> {
        self.write(|w| insert_audit(&mut w.cx, entry, now))
    }

    fn override_log(&self, page: Page) -> Result<Vec<OverrideRecord>> {
        self.read(|cx| {
            let limit = i64::from(page.limit);
            cx.query(
                "SELECT o.id, o.at, o.staff, o.action, o.overridden, o.reason, p.card_number \
                 FROM override_log o LEFT JOIN patrons p ON p.id = o.patron_id WHERE o.id > $1 ORDER BY o.id LIMIT $2",
                &[&page.after, &limit],
            )?
            .iter()
            .map(|r| {
                let overridden: String = r.try_get(4)?;
                Ok(OverrideRecord {
                    id: r.try_get(0)?,
                    at: r.try_get(1)?,
                    staff: r.try_get(2)?,
                    action: r.try_get(3)?,
                    overridden: overridden.split(',').filter(|c| !c.is_empty()).map(str::to_string).collect(),
                    reason: r.try_get(5)?,
                    card_number: r.try_get(6)?,
                })
            })
            .collect()
        })
    }

    fn audit_log(&self, filter: &AuditFilter, page: Page) -> Result<Vec<AuditEntry>> {
        self.read(|cx| {
            let limit = i64::from(page.limit);
            cx.query(
                "SELECT id, at, staff, action, target, details FROM audit_log \
                 WHERE id > $1 AND ($2::text IS NULL OR staff = $2) AND ($3::text IS NULL OR action = $3) \
                 ORDER BY id LIMIT $4",
                &[&page.after, &filter.staff, &filter.action, &limit],
            )?
            .iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get(0)?,
                    at: timestamp(r, 1)?,
                    staff: r.try_get(2)?,
                    action: r.try_get(3)?,
                    target: r.try_get(4)?,
                    details: r.try_get(5)?,
                })
            })
            .collect()
        })
    }
}

/// Appends one entry: [`StaffStore::append_audit`], and the write helper for an entry waiting
/// on the transaction (`crate::staff::audited`).
pub(super) fn insert_audit<C: GenericClient>(
    cx: &mut Cx<'_, C>,
    entry: &NewAuditEntry,
    now: DateTime<Utc>,
) -> Result<AuditId> {
    Ok(cx
        .query_one(
            "INSERT INTO audit_log (at, staff, action, target, details) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            &[&now, &entry.staff, &entry.action, &entry.target, &entry.details],
        )?
        .try_get(0)?)
}
