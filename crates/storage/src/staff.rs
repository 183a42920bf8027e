//! Staff accounts, roles and permissions, sessions and API tokens, and the audit log.
//!
//! The trait is implemented by both backends (`sqlite/staff.rs`, `postgres/staff.rs`) and is a
//! supertrait of [`crate::Database`], so `dyn Database` offers its methods.
//!
//! Storage keeps what the `accounts` crate computes and does not compute it: passwords arrive
//! hashed (argon2id PHC strings) and tokens as their SHA-256 in hex; roles are stored by name
//! (`staff_roles`, checked against the built-in names) and branch limits as references to
//! `branches` (`staff_branches`: a branch a limit names cannot be deleted, so a limit never
//! silently widens). The audit log (`audit_log`) is append-only: the schema refuses UPDATE and
//! DELETE on it. It records staff actions, never what a patron borrowed.

use crate::{Page, Result};
use catalog::Code;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::cell::RefCell;

pub type StaffAccountId = i64;
pub type AuditId = i64;
pub type ApiTokenId = i64;

/// The role names the schema accepts (`accounts::Role` parses them).
pub const ROLE_NAMES: [&str; 6] = ["admin", "clerk", "supervisor", "cataloger", "volunteer", "selfcheck"];

/// A staff account as stored (never its password hash, which only [`StaffStore::staff_credentials`]
/// hands out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffAccount {
    pub id: StaffAccountId,
    pub login: String,
    pub name: String,
    /// Role names, sorted.
    pub roles: Vec<String>,
    /// The branches the account is limited to, sorted; empty: every branch.
    pub branches: Vec<Code>,
    pub active: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStaff {
    pub login: String,
    pub name: String,
    pub roles: Vec<String>,
    pub branches: Vec<Code>,
    /// An argon2id PHC string.
    pub password_hash: String,
}

/// What an update changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaffChange {
    pub name: Option<String>,
    pub roles: Option<Vec<String>>,
    pub branches: Option<Vec<Code>>,
    /// `false` disables the account and ends its sessions; its API tokens stop working while it
    /// is disabled.
    pub active: Option<bool>,
}

/// How a request proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Session { expires_at: DateTime<Utc> },
    ApiToken { id: ApiTokenId, name: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    pub account: StaffAccount,
    pub credential: Credential,
}

/// A named API token (for scripts and integrations); the token itself is shown once, when it is
/// made, and only its hash is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    /// The staff login acting (for a failed log-in: the login that was tried); `None` for the
    /// system itself.
    pub staff: Option<String>,
    /// What was done: `login`, `logout`, `login_failed`, `request`, ...
    pub action: String,
    /// What it was done to: a route (`POST /api/v1/checkouts`), a login.
    pub target: String,
    /// More, as text a person reads (`status 201`).
    pub details: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub id: AuditId,
    /// RFC 3339, UTC.
    pub at: String,
    pub staff: Option<String>,
    pub action: String,
    pub target: String,
    pub details: String,
}

/// An override as logged: staff went past refusals, with their reason, in the transaction of
/// the checkout, renewal or hold it allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverrideRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// The staff login.
    pub staff: String,
    /// `checkout`, `renewal`, `hold`.
    pub action: String,
    /// The refusal codes gone past.
    pub overridden: Vec<String>,
    pub reason: String,
    /// The patron's card, when the override was for a patron.
    pub card_number: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub staff: Option<String>,
    pub action: Option<String>,
}

/// Staff accounts, roles and permissions, sessions and API tokens, and the audit log. Every
/// method is one transaction.
pub trait StaffStore {
    /// [`crate::StorageError::Conflict`] when the login is taken; [`crate::StorageError::Constraint`]
    /// for an unknown role or branch.
    fn create_staff(&self, staff: &NewStaff, now: DateTime<Utc>) -> Result<StaffAccount>;
    /// Changes what `change` names; disabling ends the account's sessions in the same transaction.
    fn update_staff(&self, login: &str, change: &StaffChange, now: DateTime<Utc>) -> Result<StaffAccount>;
    fn staff_account(&self, login: &str) -> Result<Option<StaffAccount>>;
    /// Every account, by login.
    fn staff_accounts(&self) -> Result<Vec<StaffAccount>>;
    /// The account and its password hash, for a log-in.
    fn staff_credentials(&self, login: &str) -> Result<Option<(StaffAccount, String)>>;
    /// Replaces the password hash and ends every session of the account: whoever knew the old
    /// password is signed out.
    fn set_staff_password(&self, login: &str, password_hash: &str, now: DateTime<Utc>) -> Result<()>;

    /// Starts a session (and clears the account's expired ones).
    fn create_session(
        &self,
        login: &str,
        token_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()>;
    /// Ends a session; false when there was none with that hash.
    fn end_session(&self, token_hash: &str) -> Result<bool>;
    /// The active account whose unexpired session or unrevoked API token has this hash. Notes
    /// the use (at most once a minute per credential, so that every request is not a write).
    fn authenticate(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Authenticated>>;

    fn create_api_token(&self, login: &str, name: &str, token_hash: &str, now: DateTime<Utc>) -> Result<ApiToken>;
    /// The account's API tokens, revoked ones included, oldest first.
    fn api_tokens(&self, login: &str) -> Result<Vec<ApiToken>>;
    /// [`crate::StorageError::NotFound`] unless the account has an unrevoked token with this id.
    fn revoke_api_token(&self, login: &str, id: ApiTokenId, now: DateTime<Utc>) -> Result<()>;

    fn append_audit(&self, entry: &NewAuditEntry, now: DateTime<Utc>) -> Result<AuditId>;
    /// Entries in id order (oldest first) after `page.after`.
    fn audit_log(&self, filter: &AuditFilter, page: Page) -> Result<Vec<AuditEntry>>;
    /// The override log in id order (oldest first) after `page.after`.
    fn override_log(&self, page: Page) -> Result<Vec<OverrideRecord>>;
}

thread_local! {
    /// The entry [`audited`] has waiting for this thread's next write transaction.
    static PENDING_AUDIT: RefCell<Option<NewAuditEntry>> = const { RefCell::new(None) };
}

/// Runs `f` with `entry` waiting on this thread: the first write transaction inside `f` that
/// changes anything appends `entry` to the audit log before it commits. The action and its
/// entry then commit together or not at all, and the request costs one commit, not two. A
/// transaction that changes nothing (a refused checkout) appends nothing. Returns whether the
/// entry was written, so that a caller whose action left no database change can log it itself.
pub fn audited<T>(entry: NewAuditEntry, f: impl FnOnce() -> T) -> (T, bool) {
    /// Puts back what was waiting before, even when `f` panics.
    struct Restore(Option<NewAuditEntry>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            PENDING_AUDIT.with(|p| *p.borrow_mut() = previous);
        }
    }
    let _restore = Restore(PENDING_AUDIT.with(|p| p.replace(Some(entry))));
    let value = f();
    let written = PENDING_AUDIT.with(|p| p.borrow().is_none());
    (value, written)
}

/// The entry waiting for this thread's write transaction, if any (the backends' write helpers).
pub(crate) fn pending_audit() -> Option<NewAuditEntry> {
    PENDING_AUDIT.with(|p| p.borrow().clone())
}

/// The waiting entry has committed: later transactions of the same call append nothing.
pub(crate) fn audit_committed() {
    PENDING_AUDIT.with(|p| *p.borrow_mut() = None);
}

/// Last-used times are refreshed when older than this.
pub(crate) const TOUCH_EVERY_SECONDS: i64 = 60;

pub(crate) fn split_words(s: Option<String>) -> Vec<String> {
    let mut v: Vec<String> = s.unwrap_or_default().split_whitespace().map(str::to_string).collect();
    v.sort();
    v.dedup();
    v
}

pub(crate) fn unknown_staff(login: &str) -> crate::StorageError {
    crate::StorageError::NotFound { what: "staff account", key: login.to_string() }
}

pub(crate) fn check_roles(roles: &[String]) -> Result<()> {
    match roles.iter().find(|r| !ROLE_NAMES.contains(&r.as_str())) {
        Some(r) => Err(crate::StorageError::Constraint(format!("there is no role {r:?}"))),
        None => Ok(()),
    }
}
