//! Patrons at the desk, with an injected clock, on SQLite and (when
//! `SHELFMARK_TEST_DATABASE_URL` is set) PostgreSQL: registration with issued cards, duplicates
//! and the guarantor rule; a stored block refusing a checkout with its code and reason; a card
//! replaced (the old number refused, the new one seeing the same loans and balance); card
//! renewal; anonymising returned loans twice; a school's CSV list.
#![allow(clippy::unwrap_used)] // a test: a panic with its line is the failure report

use catalog::{Barcode, Branch, Code, ItemStatus, ItemType, Money, NewItem};
use chrono::{DateTime, Datelike, Months, NaiveDate, TimeZone, Utc};
use circulation::registration::{luhn_digit, CardNumberPattern};
use circulation::RefusalCode;
use desk::patrons::{BlockRequest, PatronError, PatronInput, RowOutcome};
use desk::{CirculationSettings, Desk, DeskError};
use std::sync::Arc;
use storage::patrons::{BlockKind, HistoryChoice, ReadingHistory};
use storage::{Database, NewRecord, Page, StorageConfig};

fn code(s: &str) -> Code {
    Code::parse(s).unwrap()
}

fn barcode(s: &str) -> Barcode {
    Barcode::parse(s).unwrap()
}

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// The `n`-th card the default pattern issues.
fn issued(n: u64) -> String {
    CardNumberPattern::default().issue(n).unwrap()
}

/// Runs `test` on SQLite, then on PostgreSQL in a schema of its own when a server is given.
fn on_each_backend(name: &str, test: impl Fn(&dyn Database)) {
    let dir = tempfile::tempdir().unwrap();
    let db = storage::open(&StorageConfig::parse(dir.path().to_str().unwrap())).unwrap();
    test(&*setup(db));
    match std::env::var("SHELFMARK_TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => {
            let mut options = storage::PostgresOptions::new(url);
            options.schema = Some(format!("desk_{name}_{}", std::process::id()));
            test(&*setup(storage::open(&StorageConfig::Postgres(options)).unwrap()));
        }
        _ => eprintln!("skipping PostgreSQL: SHELFMARK_TEST_DATABASE_URL is not set"),
    }
}

fn setup(db: Arc<dyn Database>) -> Arc<dyn Database> {
    db.upsert_branch(&Branch { code: code("MAIN"), name: "Main".into() }).unwrap();
    db.upsert_item_type(&ItemType { code: code("BK"), name: "Book".into(), loanable: true }).unwrap();
    let bib =
        db.create_record(&NewRecord { marc: b"patrons\x1d".to_vec(), derived: Default::default(), row: None }).unwrap();
    for bc in ["B1", "B2", "B3"] {
        db.create_item(
            bib,
            &NewItem {
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
            },
        )
        .unwrap();
    }
    db
}

fn desk() -> Desk {
    Desk::new(CirculationSettings::default().build().unwrap())
}

fn adult(surname: &str, first: &str, birth: &str, email: Option<&str>) -> PatronInput {
    PatronInput {
        surname: surname.into(),
        first_name: first.into(),
        birth_date: Some(day(birth)),
        email: email.map(Into::into),
        category: Some(code("ADULT")),
        home_branch: Some(code("MAIN")),
        ..PatronInput::default()
    }
}

fn problem_codes(e: PatronError) -> Vec<(&'static str, &'static str)> {
    match e {
        PatronError::Invalid(p) => p.into_iter().map(|p| (p.field, p.code)).collect(),
        other => panic!("expected form problems, got {other}"),
    }
}

#[test]
fn registration_issues_cards_refuses_duplicates_and_applies_the_guarantor_rule() {
    on_each_backend("registration", |db| {
        let desk = desk();
        let now = at(2026, 3, 2, 15);
        let ana = desk
            .register_patron(db, &adult("Lopez", "Ana", "1980-02-03", Some("ana@example.org")), false, now)
            .unwrap();
        assert_eq!(ana.card_number, issued(1));
        assert!(CardNumberPattern::default().validate(&ana.card_number).is_ok());
        // ADULT cards last 36 months from registration.
        assert_eq!(ana.details.expiry_date, day("2029-03-02"));
        assert_eq!(ana.details.reading_history, HistoryChoice::Default);

        // Same name and birth date, spelt differently: refused naming Ana's card.
        let again = adult("LÓPEZ", "ana", "1980-02-03", None);
        match desk.register_patron(db, &again, false, now).unwrap_err() {
            PatronError::Duplicate(d) => {
                assert_eq!(d.len(), 1);
                assert_eq!(d[0].sentence(), format!("Ana Lopez (card {}) has the same name and birth date", issued(1)));
            }
            other => panic!("{other}"),
        }
        // Same email: refused; staff confirm it is someone else: registered with the next card.
        let bea = adult("Lopez", "Bea", "1982-05-06", Some("Ana@Example.org"));
        assert!(matches!(desk.register_patron(db, &bea, false, now), Err(PatronError::Duplicate(_))));
        assert_eq!(desk.register_patron(db, &bea, true, now).unwrap().card_number, issued(2));

        // A card typed in with a wrong check digit, and one in use.
        let body = "2123400000999";
        let wrong = format!("{body}{}", (luhn_digit(body) as u8 - b'0' + 1) % 10);
        let typed = PatronInput { card_number: Some(wrong), ..adult("Kim", "Joon", "1990-01-01", None) };
        assert_eq!(
            problem_codes(desk.register_patron(db, &typed, false, now).unwrap_err()),
            [("card_number", "invalid_card_number")]
        );
        let taken = PatronInput { card_number: Some(issued(1)), ..adult("Kim", "Joon", "1990-01-01", None) };
        assert_eq!(
            problem_codes(desk.register_patron(db, &taken, false, now).unwrap_err()),
            [("card_number", "card_number_taken")]
        );

        // Children need a guarantor: by category, and under 16 in any category.
        let child = PatronInput { category: Some(code("CHILD")), ..adult("Lopez", "Maria", "2018-04-02", None) };
        assert_eq!(
            problem_codes(desk.register_patron(db, &child, false, now).unwrap_err()),
            [("guarantor", "guarantor_required")]
        );
        let young_adult = adult("Lopez", "Teo", "2012-01-01", None);
        assert_eq!(
            problem_codes(desk.register_patron(db, &young_adult, false, now).unwrap_err()),
            [("guarantor", "guarantor_required")]
        );
        let unknown = PatronInput { guarantor: Some(issued(9)), ..child.clone() };
        assert_eq!(
            problem_codes(desk.register_patron(db, &unknown, false, now).unwrap_err()),
            [("guarantor", "unknown_guarantor")]
        );
        let maria = desk.register_patron(db, &PatronInput { guarantor: Some(issued(1)), ..child }, false, now).unwrap();
        assert_eq!(maria.details.guarantor, Some(issued(1)));
        assert_eq!(maria.details.expiry_date, day("2028-03-02"));
        // Every problem at once, each naming its field.
        let blank = PatronInput { category: Some(code("NOPE")), ..PatronInput::default() };
        assert_eq!(
            problem_codes(desk.register_patron(db, &blank, false, now).unwrap_err()),
            [
                ("surname", "missing_field"),
                ("first_name", "missing_field"),
                ("home_branch", "missing_field"),
                ("category", "unknown_category")
            ]
        );
    });
}

#[test]
fn a_blocked_patron_is_refused_at_checkout_with_the_code_and_reason() {
    on_each_backend("blocked", |db| {
        let desk = desk();
        let main = code("MAIN");
        let p = desk.register_patron(db, &adult("Hart", "Jo", "1970-01-01", None), false, at(2026, 5, 1, 10)).unwrap();
        let card = p.card_number.as_str();
        let block = BlockRequest {
            kind: BlockKind::Manual,
            reason: "Three damaged books".into(),
            until: Some(day("2026-05-10")),
        };
        let placed = desk.add_block(db, card, &block, "alice", at(2026, 5, 1, 11)).unwrap();

        let refused = desk.checkout(db, card, &barcode("B1"), &main, at(2026, 5, 4, 15), None).unwrap_err();
        match refused {
            DeskError::Refused(r) => {
                assert_eq!(r.len(), 1);
                assert_eq!(r[0].code, RefusalCode::PatronBlocked);
                assert_eq!(r[0].message, "The patron is blocked until 2026-05-10: Three damaged books.");
            }
            other => panic!("{other}"),
        }
        assert_eq!(db.item_by_barcode(&barcode("B1")).unwrap().unwrap().item.status, ItemStatus::Available);
        // After its last day the block no longer applies.
        desk.checkout(db, card, &barcode("B1"), &main, at(2026, 5, 11, 15), None).unwrap();

        // A block without an end applies until lifted.
        let lost = BlockRequest { kind: BlockKind::AddressUnknown, reason: "Mail returned".into(), until: None };
        let lost = desk.add_block(db, card, &lost, "bob", at(2026, 5, 12, 10)).unwrap();
        let codes = match desk.checkout(db, card, &barcode("B2"), &main, at(2026, 5, 12, 15), None).unwrap_err() {
            DeskError::Refused(r) => r.into_iter().map(|r| (r.code, r.message)).collect::<Vec<_>>(),
            other => panic!("{other}"),
        };
        assert_eq!(
            codes,
            [(RefusalCode::PatronBlocked, "The patron's address must be updated: Mail returned.".to_string())]
        );
        desk.lift_block(db, card, lost.id, "carol", at(2026, 5, 13, 10)).unwrap();
        desk.checkout(db, card, &barcode("B2"), &main, at(2026, 5, 13, 15), None).unwrap();
        let all = desk.blocks(db, card).unwrap();
        assert_eq!(
            all.iter().map(|b| (b.id, b.lifted.is_some())).collect::<Vec<_>>(),
            [(placed.id, false), (lost.id, true)]
        );

        // A manual block needs a reason; an end date in the past is refused.
        let no_reason = BlockRequest { kind: BlockKind::Manual, reason: " ".into(), until: None };
        assert_eq!(
            problem_codes(desk.add_block(db, card, &no_reason, "a", at(2026, 5, 13, 10)).unwrap_err()),
            [("reason", "missing_field")]
        );
        let past = BlockRequest { kind: BlockKind::Manual, reason: "x".into(), until: Some(day("2026-05-01")) };
        assert_eq!(
            problem_codes(desk.add_block(db, card, &past, "a", at(2026, 5, 13, 10)).unwrap_err()),
            [("until", "invalid_date")]
        );
    });
}

#[test]
fn a_replaced_card_is_refused_and_the_new_card_has_the_loans_and_balance() {
    on_each_backend("replaced", |db| {
        let desk = desk();
        let main = code("MAIN");
        let p = desk.register_patron(db, &adult("Ruiz", "Eva", "1985-08-08", None), false, at(2026, 1, 5, 10)).unwrap();
        let old = p.card_number.clone();
        // A late return leaves a fine; another book stays out.
        desk.checkout(db, &old, &barcode("B1"), &main, at(2026, 1, 5, 15), None).unwrap();
        let back = desk.check_in(db, &barcode("B1"), &main, None, at(2026, 2, 5, 12)).unwrap();
        assert!(back.decision.charge > Money::ZERO);
        desk.checkout(db, &old, &barcode("B2"), &main, at(2026, 2, 5, 15), None).unwrap();
        let before = db.patron_account(&old).unwrap().unwrap();

        let replaced = desk.replace_card(db, &old, None, "alice", Some("card lost"), at(2026, 2, 6, 10)).unwrap();
        assert_eq!(replaced.card_number, issued(2));
        assert_eq!(replaced.id, p.id);

        match desk.checkout(db, &old, &barcode("B3"), &main, at(2026, 2, 6, 15), None).unwrap_err() {
            DeskError::CardReplaced { card, replaced_at } => {
                assert_eq!((card, replaced_at), (old.clone(), at(2026, 2, 6, 10)))
            }
            other => panic!("{other}"),
        }
        assert!(matches!(desk.patron(db, &old), Err(PatronError::CardReplaced { .. })));
        let after = db.patron_account(&replaced.card_number).unwrap().unwrap();
        assert_eq!((after.id, after.balance), (before.id, before.balance));
        let loans = db.open_loans(after.id).unwrap();
        assert_eq!(loans.len(), 1);
        assert_eq!(db.item(loans[0].item_id).unwrap().unwrap().item.barcode, barcode("B2"));
        // The new card borrows, and returns what the old card borrowed.
        desk.checkout(db, &replaced.card_number, &barcode("B3"), &main, at(2026, 2, 6, 15), None).unwrap();
        assert!(desk.check_in(db, &barcode("B2"), &main, None, at(2026, 2, 7, 12)).unwrap().loan_closed);
        let cards = desk.replaced_cards(db, &replaced.card_number).unwrap();
        assert_eq!(
            cards.iter().map(|c| (c.card_number.as_str(), c.reason.as_deref())).collect::<Vec<_>>(),
            [(old.as_str(), Some("card lost"))]
        );
        // A number given by staff is checked against the pattern.
        assert_eq!(
            problem_codes(
                desk.replace_card(db, &replaced.card_number, Some("123"), "a", None, at(2026, 2, 8, 10)).unwrap_err()
            ),
            [("card_number", "invalid_card_number")]
        );
    });
}

#[test]
fn card_renewal_runs_from_the_later_of_today_and_the_old_expiry() {
    on_each_backend("renewal", |db| {
        let desk = desk();
        let p =
            desk.register_patron(db, &adult("Long", "Ada", "1950-01-01", None), false, at(2026, 1, 10, 10)).unwrap();
        assert_eq!(p.details.expiry_date, day("2029-01-10"));
        // Early: from the old expiry, so renewing early never shortens the card.
        let early = desk.renew_card(db, &p.card_number, at(2028, 12, 1, 10)).unwrap();
        assert_eq!(early.details.expiry_date, day("2032-01-10"));
        // Long expired: from today.
        let late = desk.renew_card(db, &p.card_number, at(2035, 6, 1, 10)).unwrap();
        assert_eq!(late.details.expiry_date, day("2038-06-01"));
        assert_eq!(db.patron_account(&p.card_number).unwrap().unwrap().expiry_date, day("2038-06-01"));
        assert!(matches!(desk.renew_card(db, "21234999999999", at(2035, 6, 1, 10)), Err(PatronError::NotFound { .. })));
    });
}

#[test]
fn anonymising_returned_loans_twice_changes_nothing() {
    on_each_backend("anonymise", |db| {
        let desk = desk();
        let main = code("MAIN");
        let keeper = PatronInput { reading_history: HistoryChoice::Keep, ..adult("Keep", "Kay", "1990-01-01", None) };
        let kay = desk.register_patron(db, &keeper, false, at(2026, 4, 1, 10)).unwrap();
        let dee =
            desk.register_patron(db, &adult("Default", "Dee", "1991-01-01", None), false, at(2026, 4, 1, 10)).unwrap();
        desk.checkout(db, &kay.card_number, &barcode("B1"), &main, at(2026, 4, 1, 15), None).unwrap();
        desk.checkout(db, &dee.card_number, &barcode("B2"), &main, at(2026, 4, 1, 15), None).unwrap();
        desk.checkout(db, &dee.card_number, &barcode("B3"), &main, at(2026, 4, 1, 15), None).unwrap();
        desk.check_in(db, &barcode("B1"), &main, None, at(2026, 4, 8, 12)).unwrap();
        desk.check_in(db, &barcode("B2"), &main, None, at(2026, 4, 8, 12)).unwrap();

        let night = at(2026, 4, 9, 2);
        assert_eq!(desk.anonymise_returned_loans(db, night, night).unwrap(), 1);
        assert_eq!(desk.anonymise_returned_loans(db, night, night).unwrap(), 0);
        assert!(
            matches!(desk.reading_history(db, &kay.card_number, Page::default()).unwrap(), ReadingHistory::Kept(h) if h.len() == 1)
        );
        assert_eq!(desk.reading_history(db, &dee.card_number, Page::default()).unwrap(), ReadingHistory::NotKept);
        // Dee's open loan is untouched and still returns to her.
        assert_eq!(db.open_loans(dee.id).unwrap().len(), 1);
        assert!(desk.check_in(db, &barcode("B3"), &main, None, at(2026, 4, 10, 12)).unwrap().loan_closed);
        let next_night = at(2026, 4, 11, 2);
        assert_eq!(desk.anonymise_returned_loans(db, next_night, next_night).unwrap(), 1);
        assert_eq!(desk.anonymise_returned_loans(db, next_night, next_night).unwrap(), 0);
    });
}

/// A school's list of students, with dates of birth relative to `today` so the ages (and so
/// the categories and the guarantor rule) hold whenever the test runs.
pub fn school_list(today: NaiveDate) -> (String, Vec<String>) {
    let born = |years: u32, days: u64| {
        (today.checked_sub_months(Months::new(12 * years)).unwrap() - chrono::Days::new(days)).to_string()
    };
    let body = "2123400000999";
    let wrong = format!("{body}{}", (luhn_digit(body) as u8 - b'0' + 1) % 10);
    let bad_date = format!("{}-13-01", today.year() - 17);
    let csv = format!(
        "Surname,First Name,Birth Date,Email,Category,Home Branch,Card Number\n\
         Okafor,Chidi,{a},chidi.okafor@school.example,STUDENT,MAIN,\n\
         Nguyen,Linh,{bad_date},,STUDENT,MAIN,\n\
         Okafor,Chidi,{a},,STUDENT,MAIN,\n\
         ,Sam,{b},,STUDENT,MAIN,\n\
         Garcia,Mateo,{c},,STUDENT,MAIN,{wrong}\n\
         Brown,Tia,{d},,STUDENT,MAIN,\n\
         \"Schmidt\",\"Lena, Marie\",{e},lena.schmidt@school.example,STUDENT,MAIN,\n",
        a = born(17, 40),
        b = born(16, 3),
        c = born(17, 100),
        d = born(14, 10),
        e = born(18, 5),
    );
    let report = vec![
        format!("row 2: registered as card {}", issued(1)),
        format!("row 3: refused: field birth_date: \"{bad_date}\" is not a date (YYYY-MM-DD)"),
        format!("row 4: duplicate of card {}", issued(1)),
        "row 5: refused: field surname: surname is required".to_string(),
        format!("row 6: refused: field card_number: card number \"{wrong}\" has a wrong check digit: it was probably mistyped"),
        "row 7: refused: field guarantor: a patron under 16 needs a guarantor (a parent or carer's card number)".to_string(),
        format!("row 8: registered as card {}", issued(2)),
    ];
    (csv, report)
}

#[test]
fn a_school_list_is_imported_row_by_row() {
    on_each_backend("csv", |db| {
        let desk = desk();
        let now = at(2026, 9, 1, 9);
        let (csv, expected) = school_list(now.date_naive());

        let mut seen = Vec::new();
        let dry = desk.import_patrons_csv(db, csv.as_bytes(), true, now, &mut |row| seen.push(row)).unwrap();
        assert_eq!(seen, [2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(dry.iter().map(|r| r.outcome.clone()).collect::<Vec<_>>()[..1], [RowOutcome::WouldRegister]);
        assert_eq!(dry[2].outcome, RowOutcome::DuplicateOfRow(2));
        assert_eq!(dry[6].outcome, RowOutcome::WouldRegister);
        assert!(db.find_patrons(&Default::default(), Page::default()).unwrap().is_empty(), "a dry run writes nothing");

        let report = desk.import_patrons_csv(db, csv.as_bytes(), false, now, &mut |_| {}).unwrap();
        assert_eq!(report.iter().map(ToString::to_string).collect::<Vec<_>>(), expected);
        let lena = desk.patron(db, &issued(2)).unwrap();
        assert_eq!(
            (lena.details.first_name.as_str(), lena.details.email.as_deref()),
            ("Lena, Marie", Some("lena.schmidt@school.example"))
        );

        // Loading the same list again registers no one twice.
        let again = desk.import_patrons_csv(db, csv.as_bytes(), false, now, &mut |_| {}).unwrap();
        assert_eq!(again[0].to_string(), format!("row 2: duplicate of card {}", issued(1)));
        assert_eq!(again[6].to_string(), format!("row 8: duplicate of card {}", issued(2)));
        assert_eq!(db.find_patrons(&Default::default(), Page::default()).unwrap().len(), 2);

        // A header the import does not know stops the file before any row.
        let e =
            desk.import_patrons_csv(db, "surname,first_name,shoe_size\nA,B,9\n".as_bytes(), false, now, &mut |_| {});
        assert!(e.unwrap_err().to_string().contains("shoe_size"));
    });
}
