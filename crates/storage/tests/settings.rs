//! The edited settings documents on every backend: the first save, versions counting up, a
//! stale version refused with who changed it and nothing written, two editors at once from one
//! version (exactly one wins), and a document that survives reopening the database.

#![allow(clippy::unwrap_used)]

mod common;

use chrono::{DateTime, TimeZone, Utc};
use common::Harness;
use std::sync::{Arc, Barrier};
use storage::settings::StaleSettings;
use storage::Database;

suite! {
    db: [
        nothing_stored_at_first,
        first_save_then_versions_count_up,
        a_stale_version_is_refused_and_changes_nothing,
        a_first_save_from_two_forms_keeps_the_first,
        two_editors_at_once_one_wins,
        removing_a_category_counts_its_patrons_in_the_write,
        registration_refuses_a_category_the_stored_settings_left_out,
    ],
    harness: [a_saved_document_survives_reopening],
}

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 15, minute, 0).unwrap()
}

fn nothing_stored_at_first(db: &dyn Database) {
    assert_eq!(db.settings_document("circulation").unwrap(), None);
    assert!(db.settings_documents().unwrap().is_empty());
}

fn first_save_then_versions_count_up(db: &dyn Database) {
    let v1 = db.write_settings_document("circulation", r#"{"a": 1}"#, 0, Some("ana"), at(1)).unwrap().unwrap();
    assert_eq!((v1.version, v1.changed_by.as_deref(), v1.changed_at), (1, Some("ana"), at(1)));
    let v2 = db.write_settings_document("circulation", r#"{"a": 2}"#, 1, Some("ben"), at(2)).unwrap().unwrap();
    assert_eq!((v2.version, v2.changed_by.as_deref(), v2.changed_at), (2, Some("ben"), at(2)));
    let stored = db.settings_document("circulation").unwrap().unwrap();
    assert_eq!(stored, v2);
    let body: serde_json::Value = serde_json::from_str(&stored.body).unwrap();
    assert_eq!(body, serde_json::json!({"a": 2}));
    // The other document is separate, with versions of its own.
    let p = db.write_settings_document("patrons", r#"{"b": true}"#, 0, None, at(3)).unwrap().unwrap();
    assert_eq!(p.version, 1);
    let names: Vec<String> = db.settings_documents().unwrap().into_iter().map(|d| d.name).collect();
    assert_eq!(names, ["circulation", "patrons"]);
}

fn a_stale_version_is_refused_and_changes_nothing(db: &dyn Database) {
    db.write_settings_document("circulation", r#"{"a": 1}"#, 0, Some("ana"), at(1)).unwrap().unwrap();
    db.write_settings_document("circulation", r#"{"a": 2}"#, 1, Some("ben"), at(2)).unwrap().unwrap();
    let stale = db.write_settings_document("circulation", r#"{"a": 3}"#, 1, Some("cat"), at(3)).unwrap().unwrap_err();
    assert_eq!(
        stale,
        StaleSettings {
            name: "circulation".into(),
            expected: 1,
            current: 2,
            changed: Some((Some("ben".into()), at(2))),
        }
    );
    let message = stale.to_string();
    assert!(message.contains("changed by ben at 2026-11-30 15:02 UTC"), "{message}");
    let stored = db.settings_document("circulation").unwrap().unwrap();
    assert_eq!((stored.version, stored.changed_by.as_deref()), (2, Some("ben")));
    assert_eq!(serde_json::from_str::<serde_json::Value>(&stored.body).unwrap(), serde_json::json!({"a": 2}));
    // A version from the future is as stale as one from the past.
    assert!(db.write_settings_document("circulation", "{}", 7, None, at(4)).unwrap().is_err());
}

fn a_first_save_from_two_forms_keeps_the_first(db: &dyn Database) {
    db.write_settings_document("patrons", r#"{"first": 1}"#, 0, Some("ana"), at(1)).unwrap().unwrap();
    let stale = db.write_settings_document("patrons", r#"{"second": 1}"#, 0, Some("ben"), at(2)).unwrap().unwrap_err();
    assert_eq!((stale.expected, stale.current), (0, 1));
    let stored = db.settings_document("patrons").unwrap().unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&stored.body).unwrap(), serde_json::json!({"first": 1}));
}

fn two_editors_at_once_one_wins(db: &dyn Database) {
    db.write_settings_document("circulation", r#"{"n": 0}"#, 0, None, at(1)).unwrap().unwrap();
    // Eight editors who all opened version 1 save at the same moment.
    let barrier = Arc::new(Barrier::new(8));
    let results: Vec<bool> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let barrier = barrier.clone();
                s.spawn(move || {
                    barrier.wait();
                    let body = format!(r#"{{"n": {i}}}"#);
                    db.write_settings_document("circulation", &body, 1, Some(&format!("editor{i}")), at(2))
                        .unwrap()
                        .is_ok()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|ok| **ok).count(), 1, "{results:?}");
    let winner = results.iter().position(|ok| *ok).unwrap();
    let stored = db.settings_document("circulation").unwrap().unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(stored.changed_by, Some(format!("editor{winner}")));
    assert_eq!(serde_json::from_str::<serde_json::Value>(&stored.body).unwrap(), serde_json::json!({"n": winner}));
}

fn a_saved_document_survives_reopening(h: &mut Harness) {
    h.db().write_settings_document("circulation", r#"{"kept": true}"#, 0, Some("ana"), at(1)).unwrap().unwrap();
    h.reopen();
    let stored = h.db().settings_document("circulation").unwrap().unwrap();
    assert_eq!((stored.version, stored.changed_by.as_deref(), stored.changed_at), (1, Some("ana"), at(1)));
}

// ---------------------------------------------------------------------------------------------
// Patron categories: the count and the write of a removal in one transaction, and registration
// checking its category against the stored document in its own.

fn code(s: &str) -> catalog::Code {
    catalog::Code::parse(s).unwrap()
}

fn patron_details(surname: &str, category: &str) -> storage::patrons::PatronDetails {
    storage::patrons::PatronDetails {
        surname: surname.into(),
        first_name: "Pat".into(),
        category: code(category),
        home_branch: code("MAIN"),
        expiry_date: chrono::NaiveDate::from_ymd_opt(2029, 6, 30).unwrap(),
        birth_date: None,
        email: None,
        phone: None,
        address: None,
        guarantor: None,
        notice_preference: storage::patrons::NoticePreference::Email,
        reading_history: storage::patrons::HistoryChoice::Default,
        name_key: None,
        email_key: None,
    }
}

fn register(db: &dyn Database, card: &str, category: &str) -> storage::Result<storage::patrons::Registration> {
    db.register_patron(&patron_details(card, category), storage::patrons::CardChoice::Given(card), true, at(9))
}

const BOTH: &str = r#"{"categories": {"ADULT": {"validity_months": 36}, "CHILD": {"validity_months": 24}}}"#;
const CHILD_ONLY: &str = r#"{"categories": {"CHILD": {"validity_months": 24}}}"#;
const ADULT_ONLY: &str = r#"{"categories": {"ADULT": {"validity_months": 36}}}"#;

fn removing_a_category_counts_its_patrons_in_the_write(db: &dyn Database) {
    use storage::settings::PatronSettingsRefusal;
    db.upsert_branch(&catalog::Branch { code: code("MAIN"), name: "Main".into() }).unwrap();
    db.write_patron_settings(BOTH, 0, Some("ana"), at(1), &[]).unwrap().unwrap();
    register(db, "21234000000019", "CHILD").unwrap();
    register(db, "21234000000027", "CHILD").unwrap();
    // Two children: CHILD stays, and nothing is written.
    assert_eq!(
        db.write_patron_settings(ADULT_ONLY, 1, Some("ben"), at(2), &[code("CHILD")]).unwrap(),
        Err(PatronSettingsRefusal::InUse { category: code("CHILD"), patrons: 2 })
    );
    assert_eq!(db.settings_document("patrons").unwrap().unwrap().version, 1);
    // A stale version is refused as before.
    assert!(matches!(
        db.write_patron_settings(CHILD_ONLY, 7, Some("ben"), at(2), &[code("ADULT")]).unwrap(),
        Err(PatronSettingsRefusal::Stale(StaleSettings { current: 1, expected: 7, .. }))
    ));
    // Nobody is an adult: ADULT goes.
    let v2 = db.write_patron_settings(CHILD_ONLY, 1, Some("ben"), at(3), &[code("ADULT")]).unwrap().unwrap();
    assert_eq!((v2.version, v2.body.contains("ADULT")), (2, false));
}

fn registration_refuses_a_category_the_stored_settings_left_out(db: &dyn Database) {
    db.upsert_branch(&catalog::Branch { code: code("MAIN"), name: "Main".into() }).unwrap();
    // Nothing stored: the settings file's categories are in force, which the desk checks.
    register(db, "21234000000019", "ADULT").unwrap();
    db.write_patron_settings(BOTH, 0, Some("ana"), at(1), &[]).unwrap().unwrap();
    // The desk's copy of the settings may still have ADULT: storage refuses it anyway once the
    // stored document has not.
    let moved = storage::patrons::PatronDetails { category: code("CHILD"), ..patron_details("A", "ADULT") };
    db.update_patron("21234000000019", &moved, at(2)).unwrap();
    db.write_patron_settings(CHILD_ONLY, 1, Some("ben"), at(3), &[code("ADULT")]).unwrap().unwrap();
    match register(db, "21234000000027", "ADULT") {
        Err(storage::StorageError::NotFound { what: "patron category", key }) => assert_eq!(key, "ADULT"),
        other => panic!("registered into a removed category: {other:?}"),
    }
    let back = storage::patrons::PatronDetails { category: code("ADULT"), ..moved.clone() };
    assert!(matches!(
        db.update_patron("21234000000019", &back, at(4)),
        Err(storage::StorageError::NotFound { what: "patron category", .. })
    ));
    assert_eq!(db.patrons_in_category(&code("ADULT")).unwrap(), 0);
    // The categories the document has still register, and an edit that keeps the category
    // is not refused.
    assert!(matches!(register(db, "21234000000035", "CHILD").unwrap(), storage::patrons::Registration::Registered(_)));
    let renamed = storage::patrons::PatronDetails { surname: "B".into(), ..moved };
    db.update_patron("21234000000019", &renamed, at(5)).unwrap();
}
