//! Settings edited while the library is open, on a real SQLite database: a checkout after an
//! edit gets the new loan period, through the desk that saved it and through a clone of it (as
//! the SIP2 server holds); an edit that does not build names the row and field and leaves the
//! old settings in force; a save from a stale version is refused; another server's desk picks
//! the edit up when it loads the settings, with the emergency closures still in its calendars;
//! a patron category that patrons still have cannot be deleted.
#![allow(clippy::unwrap_used)] // a test: a panic with its line is the failure report

mod common;
use catalog::{Branch, ItemStatus, ItemType, Money, NewItem};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::America::Chicago;
use common::{barcode, code, local, settings};
use desk::patrons::{CategorySettings, PatronSettings};
use desk::{Desk, DeskError};
use std::sync::Arc;
use storage::{Database, NewRecord, Patron, StorageConfig};

struct Library {
    db: Arc<dyn Database>,
    desk: Desk,
    _dir: tempfile::TempDir,
}

fn library() -> Library {
    let dir = tempfile::tempdir().unwrap();
    let db = storage::open(&StorageConfig::parse(dir.path().to_str().unwrap())).unwrap();
    db.upsert_branch(&Branch { code: code("MAIN"), name: "Main".into() }).unwrap();
    db.upsert_item_type(&ItemType { code: code("BK"), name: "Book".into(), loanable: true }).unwrap();
    let bib =
        db.create_record(&NewRecord { marc: b"edits\x1d".to_vec(), derived: Default::default(), row: None }).unwrap();
    for bc in ["B1", "B2", "B3", "B4"] {
        let item = NewItem {
            barcode: barcode(bc),
            home_branch: code("MAIN"),
            holding_branch: code("MAIN"),
            location: None,
            collection: None,
            call_number: None,
            item_type: code("BK"),
            price: Some(Money::from_minor(2000)),
            public_note: None,
            staff_note: None,
            materials_specified: None,
            status: ItemStatus::Available,
            acquired_on: None,
        };
        db.create_item(bib, &item).unwrap();
    }
    db.upsert_patron(&Patron {
        card_number: "P1".into(),
        surname: "Reader".into(),
        first_name: "Pat".into(),
        category: code("ADULT"),
        home_branch: code("MAIN"),
        expiry_date: "2030-01-01".into(),
        email: None,
    })
    .unwrap();
    Library { db, desk: Desk::new(settings().build().unwrap()), _dir: dir }
}

fn due_day(due: DateTime<Utc>) -> NaiveDate {
    due.with_timezone(&Chicago).date_naive()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Monday 2 March 2026, mid-morning, at MAIN.
fn monday() -> DateTime<Utc> {
    local(2026, 3, 2, 10, 0)
}

#[test]
fn a_checkout_after_an_edit_gets_the_new_loan_period_on_every_clone() {
    let lib = library();
    let (db, desk) = (&*lib.db, &lib.desk);
    // The SIP2 server holds a clone made at start-up, before the edit.
    let kiosk = desk.clone();
    let before = desk.checkout(db, "P1", &barcode("B1"), &code("MAIN"), monday(), None).unwrap();
    assert_eq!(due_day(before.loan.due_at), day(2026, 3, 16), "14 days, as the file says");

    let (mut edited, stamp) = desk.circulation_settings();
    assert_eq!(stamp.version, 0, "nothing edited yet: the file's settings");
    edited.rules[0].loan_period = Some("28 days".into());
    let saved = desk.update_circulation(db, edited.clone(), 0, Some("manager"), monday()).unwrap();
    assert_eq!((saved.version, saved.changed_by.as_deref(), saved.changed_at), (1, Some("manager"), Some(monday())));

    let at_desk = desk.checkout(db, "P1", &barcode("B2"), &code("MAIN"), monday(), None).unwrap();
    assert_eq!(due_day(at_desk.loan.due_at), day(2026, 3, 30));
    let at_kiosk = kiosk.checkout(db, "P1", &barcode("B3"), &code("MAIN"), monday(), None).unwrap();
    assert_eq!(due_day(at_kiosk.loan.due_at), day(2026, 3, 30), "the clone sees the edit");
    assert_eq!(kiosk.circulation_settings(), (edited, saved));
    // Stored: what was saved is what a restart reads.
    let doc = db.settings_document("circulation").unwrap().unwrap();
    assert_eq!(doc.version, 1);
    assert!(doc.body.contains("28 days"), "{}", doc.body);
}

#[test]
fn an_edit_that_does_not_build_names_the_field_and_changes_nothing() {
    let lib = library();
    let (db, desk) = (&*lib.db, &lib.desk);
    let (mut edited, _) = desk.circulation_settings();
    edited.rules[0].loan_period = Some("three weeks".into());
    let e = desk.update_circulation(db, edited, 0, Some("manager"), monday()).unwrap_err();
    let DeskError::Settings(e) = e else { panic!("expected a settings error, got {e}") };
    assert_eq!(e.place, "rule 1 (*/*/*) loan_period");
    assert!(e.message.contains("three weeks"), "{}", e.message);

    assert_eq!(db.settings_document("circulation").unwrap(), None, "nothing stored");
    assert_eq!(desk.circulation_settings(), (settings(), Default::default()));
    let loan = desk.checkout(db, "P1", &barcode("B1"), &code("MAIN"), monday(), None).unwrap();
    assert_eq!(due_day(loan.loan.due_at), day(2026, 3, 16), "the old loan period is still in force");

    let (mut hours, _) = desk.circulation_settings();
    hours.hours.sat = "10:00 till 17:00".into();
    let DeskError::Settings(e) = desk.update_circulation(db, hours, 0, None, monday()).unwrap_err() else {
        panic!("expected a settings error")
    };
    assert_eq!(e.place, "hours.sat");
}

#[test]
fn a_save_from_a_stale_version_is_refused_and_the_first_stays() {
    let lib = library();
    let (db, desk) = (&*lib.db, &lib.desk);
    // Two managers open the form at version 0.
    let (mut first, v) = desk.circulation_settings();
    let (mut second, _) = desk.circulation_settings();
    first.rules[0].loan_period = Some("21 days".into());
    second.rules[0].loan_period = Some("7 days".into());
    desk.update_circulation(db, first.clone(), v.version, Some("ana"), monday()).unwrap();
    let e = desk.update_circulation(db, second, v.version, Some("ben"), monday()).unwrap_err();
    let DeskError::StaleSettings(stale) = e else { panic!("expected a stale version, got {e}") };
    assert_eq!((stale.expected, stale.current), (0, 1));
    assert!(stale.to_string().contains("changed by ana"), "{stale}");
    assert_eq!(desk.circulation_settings().0, first);
    let loan = desk.checkout(db, "P1", &barcode("B1"), &code("MAIN"), monday(), None).unwrap();
    assert_eq!(due_day(loan.loan.due_at), day(2026, 3, 23));
}

#[test]
fn another_servers_desk_loads_the_edit_and_keeps_the_closures() {
    let lib = library();
    let (db, desk) = (&*lib.db, &lib.desk);
    // Wednesday 4 March is closed for snow, then the hours are edited: Monday closed.
    desk.declare_closure(db, &[code("MAIN")], day(2026, 3, 4), "snow", Some("manager"), monday()).unwrap();
    let (mut edited, _) = desk.circulation_settings();
    edited.hours.mon = "closed".into();
    desk.update_circulation(db, edited.clone(), 0, Some("manager"), monday()).unwrap();
    for d in [desk.clone(), {
        // Another server on the same database, started from the same file.
        let other = Desk::new(settings().build().unwrap());
        assert!(other.circulation().calendar(&code("MAIN")).is_open(day(2026, 3, 9)));
        other.load_settings(db).unwrap();
        other
    }] {
        let c = d.circulation();
        let main = c.calendar(&code("MAIN"));
        assert!(!main.is_open(day(2026, 3, 9)), "Mondays are closed now");
        assert!(!main.is_open(day(2026, 3, 4)), "the emergency closure is still in the calendar");
        assert!(main.is_open(day(2026, 3, 11)));
        assert_eq!(d.circulation_settings().0, edited);
        assert_eq!(d.circulation_settings().1.version, 1);
    }
}

#[test]
fn patron_categories_are_added_and_one_patrons_have_cannot_go() {
    let lib = library();
    let (db, desk) = (&*lib.db, &lib.desk);
    let (mut edited, stamp) = desk.patron_settings();
    assert_eq!((edited.clone(), stamp.version), (PatronSettings::default(), 0));
    edited.categories.insert(
        "HOMEBOUND".into(),
        CategorySettings { validity_months: 24, min_age: None, max_age: None, guarantor: false },
    );
    let v1 = desk.update_patron_settings(db, edited.clone(), 0, Some("manager"), monday()).unwrap();
    assert!(desk.clone().patron_rules().registration.categories.contains_key(&code("HOMEBOUND")));

    // ADULT has patron P1 (and a second one): refused, naming how many; nothing changes.
    db.upsert_patron(&Patron {
        card_number: "P2".into(),
        surname: "Reader".into(),
        first_name: "Two".into(),
        category: code("ADULT"),
        home_branch: code("MAIN"),
        expiry_date: "2030-01-01".into(),
        email: None,
    })
    .unwrap();
    let mut without_adult = edited.clone();
    without_adult.categories.remove("ADULT");
    let e = desk.update_patron_settings(db, without_adult, v1.version, Some("manager"), monday()).unwrap_err();
    let DeskError::Invalid { field, message } = e else { panic!("expected a refusal, got {e}") };
    assert_eq!(field, "categories");
    assert!(message.contains("2 patrons are in category ADULT"), "{message}");
    assert_eq!(desk.patron_settings(), (edited.clone(), v1.clone()));

    // A category nobody has goes.
    let mut without_inst = edited;
    without_inst.categories.remove("INST");
    let v2 = desk.update_patron_settings(db, without_inst, v1.version, Some("manager"), monday()).unwrap();
    assert_eq!(v2.version, 2);
    assert!(!desk.patron_rules().registration.categories.contains_key(&code("INST")));

    // A category that does not build names its field.
    let (mut bad, _) = desk.patron_settings();
    bad.categories.get_mut("HOMEBOUND").unwrap().validity_months = 0;
    let DeskError::Settings(e) = desk.update_patron_settings(db, bad, v2.version, None, monday()).unwrap_err() else {
        panic!("expected a settings error")
    };
    assert_eq!(e.place, "patrons.categories.HOMEBOUND.validity_months");
}

/// Another server's desk still has the category a manager has just removed: a registration
/// through it is refused in the registration's own transaction, naming the category field,
/// instead of putting a patron in a category that no longer exists.
#[test]
fn a_registration_through_a_desk_that_missed_the_removal_is_refused() {
    let lib = library();
    let (db, desk) = (&*lib.db, &lib.desk);
    let other = Desk::new(settings().build().unwrap());
    other.load_settings(db).unwrap();
    let (mut without_inst, stamp) = desk.patron_settings();
    without_inst.categories.remove("INST");
    desk.update_patron_settings(db, without_inst, stamp.version, Some("manager"), monday()).unwrap();
    assert!(other.patron_rules().registration.categories.contains_key(&code("INST")), "the other desk missed it");
    let input = desk::patrons::PatronInput {
        surname: "Late".into(),
        first_name: "Lee".into(),
        category: Some(code("INST")),
        home_branch: Some(code("MAIN")),
        ..Default::default()
    };
    match other.register_patron(db, &input, true, monday()) {
        Err(desk::patrons::PatronError::Invalid(problems)) => {
            assert_eq!((problems[0].field, problems[0].code), ("category", "unknown_category"), "{problems:?}");
        }
        other => panic!("registered into a removed category: {other:?}"),
    }
    assert_eq!(db.patrons_in_category(&code("INST")).unwrap(), 0);
    // A category still in the settings registers through the same desk.
    let adult = desk::patrons::PatronInput { category: Some(code("ADULT")), ..input };
    assert!(other.register_patron(db, &adult, true, monday()).is_ok());
}
