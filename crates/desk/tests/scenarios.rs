//! Circulation at the desk, day by day with an injected clock, on a real SQLite database: the
//! due date moved off a holiday, a fine across closed days, a backdated book-drop check-in,
//! renewals up to the limit, refusals with their codes, an override.
#![allow(clippy::unwrap_used)] // a test: a panic with its line is the failure report

mod common;
use catalog::{Branch, ItemStatus, ItemType, Money, NewItem, ShelvingLocation};
use circulation::{Permission, RefusalCode, Staff, StaffId};
use common::{barcode, code, local, settings};
use desk::{Desk, DeskError, Override};
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
    db.upsert_location(&ShelvingLocation { code: code("STACKS"), name: "Stacks".into() }).unwrap();
    db.upsert_item_type(&ItemType { code: code("BK"), name: "Book".into(), loanable: true }).unwrap();
    db.upsert_item_type(&ItemType { code: code("REF"), name: "Reference".into(), loanable: false }).unwrap();
    for (card, expiry) in [("P1", "2030-01-01"), ("P2", "2030-01-01"), ("OLD", "2026-06-30")] {
        db.upsert_patron(&Patron {
            card_number: card.into(),
            surname: "Reader".into(),
            first_name: card.into(),
            category: code("ADULT"),
            home_branch: code("MAIN"),
            expiry_date: expiry.into(),
            email: None,
        })
        .unwrap();
    }
    let bib = db
        .create_record(&NewRecord { marc: b"scenario\x1d".to_vec(), derived: Default::default(), row: None })
        .unwrap();
    for (bc, ty, price) in
        [("B1", "BK", 2000), ("B2", "BK", 2000), ("B3", "BK", 300), ("B4", "BK", 2000), ("R1", "REF", 0)]
    {
        db.create_item(
            bib,
            &NewItem {
                barcode: barcode(bc),
                home_branch: code("MAIN"),
                holding_branch: code("MAIN"),
                location: Some(code("STACKS")),
                collection: None,
                call_number: None,
                item_type: code(ty),
                price: Some(Money::from_minor(price)),
                public_note: None,
                staff_note: None,
                materials_specified: None,
                status: ItemStatus::Available,
                acquired_on: None,
            },
        )
        .unwrap();
    }
    Library { db, desk: Desk::new(settings().build().unwrap()), _dir: dir }
}

fn refusal_codes(e: DeskError) -> Vec<RefusalCode> {
    match e {
        DeskError::Refused(r) => r.into_iter().map(|r| r.code).collect(),
        other => panic!("expected a refusal, got {other}"),
    }
}

#[test]
fn a_loan_over_christmas_and_its_fine() {
    let lib = library();
    let (db, desk, main) = (&*lib.db, &lib.desk, code("MAIN"));
    // Friday 11 December, 15:00: fourteen days is Christmas Day, closed: due Saturday the 26th.
    let out = desk.checkout(db, "P1", &barcode("B1"), &main, local(2026, 12, 11, 15, 0), None).unwrap();
    assert_eq!(out.loan.due_at, local(2026, 12, 26, 23, 59));
    assert_eq!(db.item_by_barcode(&barcode("B1")).unwrap().unwrap().item.status, ItemStatus::CheckedOut);

    // Back on Wednesday the 30th: Sunday the 27th is closed, so three open days late: 0.75.
    let back = desk.check_in(db, &barcode("B1"), &main, None, local(2026, 12, 30, 10, 0)).unwrap();
    assert!(back.loan_closed);
    assert_eq!(back.decision.charge, Money::from_minor(75));
    assert_eq!(back.status, ItemStatus::Available);
    assert_eq!(db.patron_account("P1").unwrap().unwrap().balance, Money::from_minor(75));
    // Checked in twice: no loan, no second charge.
    let again = desk.check_in(db, &barcode("B1"), &main, None, local(2026, 12, 30, 10, 5)).unwrap();
    assert!(!again.loan_closed);
    assert_eq!(db.patron_account("P1").unwrap().unwrap().balance, Money::from_minor(75));
}

#[test]
fn the_book_drop_is_checked_in_as_of_the_due_date() {
    let lib = library();
    let (db, desk, main) = (&*lib.db, &lib.desk, code("MAIN"));
    let out = desk.checkout(db, "P1", &barcode("B2"), &main, local(2026, 11, 2, 12, 0), None).unwrap();
    // Emptied two days later, dated back to the evening of the due date: nothing to pay.
    let back =
        desk.check_in(db, &barcode("B2"), &main, Some(out.loan.due_at), out.loan.due_at + chrono::Duration::days(2));
    assert_eq!(back.unwrap().decision.charge, Money::ZERO);
    assert_eq!(db.patron_account("P1").unwrap().unwrap().balance, Money::ZERO);
    // A check-in dated in the future is refused, and nothing is written.
    desk.checkout(db, "P1", &barcode("B2"), &main, local(2026, 11, 20, 12, 0), None).unwrap();
    let future = desk.check_in(db, &barcode("B2"), &main, Some(local(2026, 12, 1, 12, 0)), local(2026, 11, 21, 12, 0));
    assert!(matches!(future, Err(DeskError::CheckIn(_))));
    assert_eq!(db.item_by_barcode(&barcode("B2")).unwrap().unwrap().item.status, ItemStatus::CheckedOut);
}

#[test]
fn a_fine_is_capped_by_the_item_price() {
    let lib = library();
    let (db, desk, main) = (&*lib.db, &lib.desk, code("MAIN"));
    desk.checkout(db, "P2", &barcode("B3"), &main, local(2026, 9, 1, 12, 0), None).unwrap();
    let back = desk.check_in(db, &barcode("B3"), &main, None, local(2026, 11, 2, 12, 0)).unwrap();
    assert_eq!(back.decision.charge, Money::from_minor(300), "B3 costs 3.00, under the 5.00 cap");
}

#[test]
fn renewals_up_to_the_limit() {
    let lib = library();
    let (db, desk, main) = (&*lib.db, &lib.desk, code("MAIN"));
    let out = desk.checkout(db, "P1", &barcode("B1"), &main, local(2026, 11, 2, 12, 0), None).unwrap();
    let (first, _) = desk.renew(db, &barcode("B1"), local(2026, 11, 10, 12, 0), None).unwrap();
    assert!(first.due_at > out.loan.due_at);
    assert_eq!(first.renewals, 1);
    let (second, _) = desk.renew(db, &barcode("B1"), local(2026, 11, 20, 12, 0), None).unwrap();
    assert_eq!(second.renewals, 2);
    let third = desk.renew(db, &barcode("B1"), local(2026, 11, 30, 12, 0), None).unwrap_err();
    assert_eq!(refusal_codes(third), [RefusalCode::RenewalLimit]);
    // Staff with the override permission may go past it, and the override is logged.
    let staff = Override {
        staff: Staff::new(StaffId(7), [Permission::Circulate, Permission::Override]),
        staff_name: "jsmith".into(),
        reason: "patron is housebound".into(),
    };
    let (third, _) = desk.renew(db, &barcode("B1"), local(2026, 11, 30, 12, 0), Some(&staff)).unwrap();
    assert_eq!(third.renewals, 3);
    // A volunteer may not.
    let volunteer =
        Override { staff: Staff::new(StaffId(8), [Permission::CheckIn]), staff_name: "vol".into(), reason: "x".into() };
    let refused = desk.renew(db, &barcode("B1"), local(2026, 12, 1, 12, 0), Some(&volunteer));
    assert!(matches!(refused, Err(DeskError::Override(_))));
}

#[test]
fn refusals_name_every_reason() {
    let lib = library();
    let (db, desk, main) = (&*lib.db, &lib.desk, code("MAIN"));
    let now = local(2026, 11, 2, 12, 0);
    assert_eq!(
        refusal_codes(desk.checkout(db, "OLD", &barcode("B1"), &main, now, None).unwrap_err()),
        [RefusalCode::CardExpired]
    );
    assert_eq!(
        refusal_codes(desk.checkout(db, "P1", &barcode("R1"), &main, now, None).unwrap_err()),
        [RefusalCode::ItemNotLoanable]
    );
    desk.checkout(db, "P1", &barcode("B1"), &main, now, None).unwrap();
    assert_eq!(
        refusal_codes(desk.checkout(db, "P2", &barcode("B1"), &main, now, None).unwrap_err()),
        [RefusalCode::ItemOnLoanToOther]
    );
    assert_eq!(
        refusal_codes(desk.checkout(db, "P1", &barcode("B1"), &main, now, None).unwrap_err()),
        [RefusalCode::ItemOnLoanToPatron]
    );
    for bc in ["B2", "B3"] {
        desk.checkout(db, "P1", &barcode(bc), &main, now, None).unwrap();
    }
    assert_eq!(
        refusal_codes(desk.checkout(db, "P1", &barcode("B4"), &main, now, None).unwrap_err()),
        [RefusalCode::TooManyLoans],
        "max_loans is 3"
    );
    assert!(matches!(
        desk.checkout(db, "NOBODY", &barcode("B4"), &main, now, None),
        Err(DeskError::NotFound { what: "patron card", .. })
    ));
    assert!(matches!(
        desk.checkout(db, "P1", &barcode("ZZ"), &main, now, None),
        Err(DeskError::NotFound { what: "item", .. })
    ));
}
