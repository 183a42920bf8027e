//! Staff accounts, sessions, API tokens and the audit log on every backend.

mod common;

use catalog::{Branch, Code};
use chrono::{Duration, TimeZone, Utc};
use storage::staff::{AuditFilter, Credential, NewAuditEntry, NewStaff, StaffChange};
use storage::{Database, Page, StorageError};

suite! {
    db: [
        accounts_round_trip,
        unknown_roles_and_branches_are_refused,
        sessions_expire_and_end,
        disabling_and_password_change_end_sessions,
        api_tokens_work_until_revoked,
        audit_log_appends_filters_and_pages,
        an_audited_call_commits_its_entry_with_its_first_change,
        a_branch_a_staff_account_is_limited_to_is_not_deleted,
    ],
    harness: [],
}

fn code(s: &str) -> Code {
    Code::parse(s).expect("code")
}

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).single().expect("time")
}

fn branches(db: &dyn Database) {
    for c in ["CEN", "OAK"] {
        db.upsert_branch(&Branch { code: code(c), name: c.to_string() }).expect("branch");
    }
}

fn clerk(login: &str, branches: &[&str]) -> NewStaff {
    NewStaff {
        login: login.into(),
        name: format!("{login} at the desk"),
        roles: vec!["clerk".into()],
        branches: branches.iter().map(|b| code(b)).collect(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
    }
}

fn accounts_round_trip(db: &dyn Database) {
    branches(db);
    let made = db.create_staff(&clerk("ann", &["OAK", "CEN"]), t0()).expect("create");
    assert_eq!(made.login, "ann");
    assert_eq!(made.roles, vec!["clerk".to_string()]);
    assert_eq!(made.branches, vec![code("CEN"), code("OAK")]);
    assert!(made.active);
    assert_eq!(db.staff_account("ann").expect("read"), Some(made.clone()));
    let (account, hash) = db.staff_credentials("ann").expect("read").expect("ann");
    assert_eq!(account, made);
    assert_eq!(hash, clerk("ann", &[]).password_hash);
    assert!(matches!(
        db.create_staff(&clerk("ann", &[]), t0()),
        Err(StorageError::Conflict { what: "staff login", .. })
    ));

    let change = StaffChange {
        name: Some("Ann Smith".into()),
        roles: Some(vec!["supervisor".into(), "cataloger".into()]),
        branches: Some(vec![]),
        active: None,
    };
    let updated = db.update_staff("ann", &change, t0()).expect("update");
    assert_eq!(updated.name, "Ann Smith");
    assert_eq!(updated.roles, vec!["cataloger".to_string(), "supervisor".to_string()]);
    assert!(updated.branches.is_empty());
    // Fields the change leaves out stay as they were.
    let same = db.update_staff("ann", &StaffChange::default(), t0()).expect("update");
    assert_eq!(same.roles, updated.roles);
    assert_eq!(same.name, "Ann Smith");

    db.create_staff(&clerk("bob", &[]), t0()).expect("create");
    let logins: Vec<String> = db.staff_accounts().expect("list").into_iter().map(|a| a.login).collect();
    assert_eq!(logins, vec!["ann", "bob"]);
    assert!(matches!(db.update_staff("nobody", &change, t0()), Err(StorageError::NotFound { .. })));
    assert_eq!(db.staff_account("nobody").expect("read"), None);
}

fn unknown_roles_and_branches_are_refused(db: &dyn Database) {
    branches(db);
    let mut bad = clerk("ann", &[]);
    bad.roles = vec!["janitor".into()];
    assert!(matches!(db.create_staff(&bad, t0()), Err(StorageError::Constraint(_))));
    assert!(matches!(db.create_staff(&clerk("ann", &["ZZZ"]), t0()), Err(StorageError::Constraint(_))));
    // Nothing half-written: the refused creations left no account behind.
    assert_eq!(db.staff_account("ann").expect("read"), None);
    db.create_staff(&clerk("ann", &["CEN"]), t0()).expect("create");
    let change = StaffChange { branches: Some(vec![code("NOPE")]), ..Default::default() };
    assert!(db.update_staff("ann", &change, t0()).is_err());
    assert_eq!(db.staff_account("ann").expect("read").expect("ann").branches, vec![code("CEN")]);
}

fn sessions_expire_and_end(db: &dyn Database) {
    branches(db);
    db.create_staff(&clerk("ann", &[]), t0()).expect("create");
    db.create_session("ann", "h1", t0() + Duration::hours(8), t0()).expect("session");
    let auth = db.authenticate("h1", t0() + Duration::hours(1)).expect("auth").expect("valid");
    assert_eq!(auth.account.login, "ann");
    assert!(matches!(auth.credential, Credential::Session { expires_at } if expires_at == t0() + Duration::hours(8)));
    // At and after the expiry the session is gone.
    assert_eq!(db.authenticate("h1", t0() + Duration::hours(8)).expect("auth"), None);
    assert_eq!(db.authenticate("other", t0()).expect("auth"), None);

    db.create_session("ann", "h2", t0() + Duration::hours(8), t0()).expect("session");
    assert!(db.end_session("h2").expect("end"));
    assert!(!db.end_session("h2").expect("end twice"));
    assert_eq!(db.authenticate("h2", t0()).expect("auth"), None);
    assert!(matches!(db.create_session("nobody", "h3", t0(), t0()), Err(StorageError::NotFound { .. })));
}

fn disabling_and_password_change_end_sessions(db: &dyn Database) {
    branches(db);
    db.create_staff(&clerk("ann", &[]), t0()).expect("create");
    db.create_session("ann", "s1", t0() + Duration::hours(8), t0()).expect("session");
    db.create_api_token("ann", "script", "tok", t0()).expect("token");
    let off = StaffChange { active: Some(false), ..Default::default() };
    assert!(!db.update_staff("ann", &off, t0()).expect("disable").active);
    assert_eq!(db.authenticate("s1", t0()).expect("auth"), None);
    assert_eq!(db.authenticate("tok", t0()).expect("auth"), None, "a disabled account's token stops working");
    let on = StaffChange { active: Some(true), ..Default::default() };
    db.update_staff("ann", &on, t0()).expect("enable");
    // The session ended for good; the token works again with the account.
    assert_eq!(db.authenticate("s1", t0()).expect("auth"), None);
    assert!(db.authenticate("tok", t0()).expect("auth").is_some());

    db.create_session("ann", "s2", t0() + Duration::hours(8), t0()).expect("session");
    db.set_staff_password("ann", "$argon2id$new", t0()).expect("password");
    assert_eq!(db.authenticate("s2", t0()).expect("auth"), None);
    assert_eq!(db.staff_credentials("ann").expect("read").expect("ann").1, "$argon2id$new");
}

fn api_tokens_work_until_revoked(db: &dyn Database) {
    branches(db);
    db.create_staff(&clerk("ann", &[]), t0()).expect("create");
    db.create_staff(&clerk("bob", &[]), t0()).expect("create");
    let token = db.create_api_token("ann", "nightly export", "th", t0()).expect("token");
    assert_eq!(token.name, "nightly export");
    assert_eq!(token.last_used_at, None);
    let auth = db.authenticate("th", t0() + Duration::minutes(5)).expect("auth").expect("valid");
    assert_eq!(auth.account.login, "ann");
    assert_eq!(auth.credential, Credential::ApiToken { id: token.id, name: "nightly export".into() });
    let listed = db.api_tokens("ann").expect("list");
    assert_eq!(listed.len(), 1);
    assert!(listed[0].last_used_at.is_some(), "the use is noted");
    // Another account cannot revoke it.
    assert!(matches!(db.revoke_api_token("bob", token.id, t0()), Err(StorageError::NotFound { .. })));
    db.revoke_api_token("ann", token.id, t0() + Duration::minutes(6)).expect("revoke");
    assert_eq!(db.authenticate("th", t0() + Duration::minutes(7)).expect("auth"), None);
    assert!(db.api_tokens("ann").expect("list")[0].revoked_at.is_some());
    assert!(matches!(db.revoke_api_token("ann", token.id, t0()), Err(StorageError::NotFound { .. })));
}

fn audit_log_appends_filters_and_pages(db: &dyn Database) {
    let entry = |staff: &str, action: &str| NewAuditEntry {
        staff: Some(staff.into()),
        action: action.into(),
        target: "POST /api/v1/checkouts".into(),
        details: "status 201".into(),
    };
    let mut ids = Vec::new();
    for i in 0..5 {
        let who = if i % 2 == 0 { "ann" } else { "bob" };
        ids.push(db.append_audit(&entry(who, "request"), t0() + Duration::seconds(i)).expect("append"));
    }
    db.append_audit(&NewAuditEntry { staff: None, ..entry("", "login_failed") }, t0()).expect("append");
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    let all = db.audit_log(&AuditFilter::default(), Page { after: 0, limit: 100 }).expect("read");
    assert_eq!(all.len(), 6);
    assert_eq!(all[0].staff.as_deref(), Some("ann"));
    assert_eq!(all[0].target, "POST /api/v1/checkouts");
    assert_eq!(all[0].at, "2026-03-02T09:00:00.000000Z");
    assert_eq!(all[5].staff, None);
    // Keyset paging: the second page starts after the first page's last id.
    let first = db.audit_log(&AuditFilter::default(), Page { after: 0, limit: 2 }).expect("read");
    let second = db.audit_log(&AuditFilter::default(), Page { after: first[1].id, limit: 2 }).expect("read");
    assert_eq!(second.iter().map(|e| e.id).collect::<Vec<_>>(), vec![ids[2], ids[3]]);
    let ann = AuditFilter { staff: Some("ann".into()), action: None };
    assert_eq!(db.audit_log(&ann, Page { after: 0, limit: 100 }).expect("read").len(), 3);
    let failed = AuditFilter { staff: None, action: Some("login_failed".into()) };
    assert_eq!(db.audit_log(&failed, Page { after: 0, limit: 100 }).expect("read").len(), 1);
}

/// The entry of an audited call commits inside the first write transaction that changes
/// something, once; a refused or empty transaction, or a write after the call, appends nothing.
fn an_audited_call_commits_its_entry_with_its_first_change(db: &dyn Database) {
    let entry = NewAuditEntry {
        staff: Some("ann".into()),
        action: "request".into(),
        target: "POST /api/v1/branches".into(),
        details: "committed with the change".into(),
    };
    let count = || db.audit_log(&AuditFilter::default(), Page { after: 0, limit: 100 }).expect("read").len();

    // Nothing changes: a write that finds nothing, and one refused and rolled back.
    let (refused, written) = storage::staff::audited(entry.clone(), || {
        assert!(!db.end_session("no such token").expect("end"));
        db.create_staff(&clerk("ann", &["NOWHERE"]), t0())
    });
    assert!(refused.is_err() && !written);
    assert_eq!(count(), 0);

    let ((), written) = storage::staff::audited(entry.clone(), || {
        assert!(!db.end_session("no such token").expect("end"));
        db.upsert_branch(&Branch { code: code("CEN"), name: "Central".into() }).expect("branch");
        db.upsert_branch(&Branch { code: code("OAK"), name: "Oak".into() }).expect("branch");
    });
    assert!(written);
    let log = db.audit_log(&AuditFilter::default(), Page { after: 0, limit: 100 }).expect("read");
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!((log[0].target.as_str(), log[0].details.as_str()), (entry.target.as_str(), entry.details.as_str()));

    // Outside the call nothing is waiting any more.
    db.upsert_branch(&Branch { code: code("ELM"), name: "Elm".into() }).expect("branch");
    assert_eq!(count(), 1);
}

/// A branch a staff account is limited to is refused with the reason, not a database error,
/// and stays; once the limit is gone it can be deleted.
fn a_branch_a_staff_account_is_limited_to_is_not_deleted(db: &dyn Database) {
    branches(db);
    db.create_staff(&clerk("oakdesk", &["OAK"]), t0()).expect("clerk");
    match db.delete_branch(&code("OAK")) {
        Err(storage::StorageError::Constraint(why)) => assert!(why.contains("OAK"), "{why}"),
        other => panic!("expected a refusal naming the branch, got {other:?}"),
    }
    assert!(db.branch(&code("OAK")).expect("read").is_some());
    let change = storage::staff::StaffChange { branches: Some(vec![]), ..Default::default() };
    db.update_staff("oakdesk", &change, t0()).expect("unlimit");
    db.delete_branch(&code("OAK")).expect("delete");
    assert!(db.branch(&code("OAK")).expect("read").is_none());
}
