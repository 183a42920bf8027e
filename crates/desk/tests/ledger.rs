//! The patron's account at the desk, day by day with an injected clock, on a real SQLite
//! database: an overdue loan declared lost by the daily job (run twice), paid towards, then
//! found; claims returned; a damage inspection at check-in, the repair queue, repaired.
#![allow(clippy::unwrap_used)] // a test: a panic with its line is the failure report

mod common;
use catalog::{Branch, ItemStatus, ItemType, Money, NewItem, ShelvingLocation};
use circulation::{Actor, ChargeKind, EntryId, EntryKind, PaymentMethod, StaffId};
use common::{barcode, code, local, settings};
use desk::ledger::CreditRequest;
use desk::{CirculationSettings, Desk, DeskError};
use std::sync::Arc;
use storage::ledger::{Condition, LedgerRefusal, NewInspection, StopKind};
use storage::{Database, NewRecord, Patron, StorageConfig};

struct Library {
    db: Arc<dyn Database>,
    desk: Desk,
    _dir: tempfile::TempDir,
}

fn library_with(refund_processing_fee_when_found: bool) -> Library {
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
    for (bc, ty, price) in [
        ("B1", "BK", Some(2000)),
        ("B2", "BK", Some(2000)),
        ("B3", "BK", Some(300)),
        ("B4", "BK", Some(2000)),
        ("B5", "BK", None),
        ("R1", "REF", Some(0)),
    ] {
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
                price: price.map(Money::from_minor),
                public_note: None,
                staff_note: None,
                materials_specified: None,
                status: ItemStatus::Available,
                acquired_on: None,
            },
        )
        .unwrap();
    }
    let settings = CirculationSettings {
        refund_processing_fee_when_found,
        default_replacement_price: Some("25.00".into()),
        ..settings()
    };
    Library { db, desk: Desk::new(settings.build().unwrap()), _dir: dir }
}

const CLERK: Actor = Actor::Staff(StaffId(3));

fn balance(db: &dyn Database, card: &str) -> Money {
    db.patron_account(card).unwrap().unwrap().balance
}

fn status(db: &dyn Database, bc: &str) -> ItemStatus {
    db.item_by_barcode(&barcode(bc)).unwrap().unwrap().item.status
}

/// The charges on the account: (kind, amount, outstanding).
fn charges(db: &dyn Database, card: &str) -> Vec<(ChargeKind, Money, Money)> {
    let a = db.account(card).unwrap().unwrap();
    a.ledger
        .entries()
        .iter()
        .filter_map(|e| match e.kind {
            EntryKind::Charge { kind, amount, .. } => Some((kind, amount, a.ledger.outstanding(e.id).unwrap())),
            _ => None,
        })
        .collect()
}

fn m(minor: i64) -> Money {
    Money::from_minor(minor)
}

#[test]
fn overdue_then_lost_then_found() {
    let lib = library_with(false);
    let (db, desk, main) = (&*lib.db, &lib.desk, code("MAIN"));
    // Monday 2 March: due Monday the 16th.
    let out = desk.checkout(db, "P1", &barcode("B1"), &main, local(2026, 3, 2, 12, 0), None).unwrap();
    assert_eq!(out.loan.due_at, local(2026, 3, 16, 23, 59));

    // The nightly job on 14 May: 59 days overdue, not lost yet; nothing changes.
    assert!(desk.mark_lost(db, local(2026, 5, 14, 2, 0)).unwrap().is_empty());
    assert_eq!((status(db, "B1"), balance(db, "P1")), (ItemStatus::CheckedOut, Money::ZERO));

    // 15 May: 60 days. The fine to date (capped at 5.00), the replacement (20.00) and the
    // processing fee (5.00) are charged; the copy is Lost.
    let night = local(2026, 5, 15, 2, 0);
    let declared = desk.mark_lost(db, night).unwrap();
    assert_eq!(declared.len(), 1);
    assert_eq!((declared[0].loan.id, declared[0].kind), (out.loan.id, StopKind::Lost));
    assert_eq!(status(db, "B1"), ItemStatus::Lost);
    assert_eq!(
        charges(db, "P1"),
        [
            (ChargeKind::Overdue, m(500), m(500)),
            (ChargeKind::Lost, m(2000), m(2000)),
            (ChargeKind::Processing, m(500), m(500))
        ]
    );
    assert_eq!(balance(db, "P1"), m(3000));
    // The loan stays open (the copy is still the patron's to bring back).
    assert_eq!(db.open_loans(out.loan.patron_id).unwrap().len(), 1);

    // The job runs again the same night, and the next: nothing more.
    let before = db.account("P1").unwrap().unwrap();
    assert!(desk.mark_lost(db, night).unwrap().is_empty());
    assert!(desk.mark_lost(db, local(2026, 5, 16, 2, 0)).unwrap().is_empty());
    assert_eq!(db.account("P1").unwrap().unwrap(), before);

    // The patron pays 10.00, oldest first: the overdue, then 5.00 of the replacement.
    let paid = desk::ledger::credit(
        db,
        "P1",
        CreditRequest::Payment { method: PaymentMethod::Cash, keep_credit: false },
        m(1000),
        None,
        CLERK,
        "",
        local(2026, 5, 18, 11, 0),
    )
    .unwrap();
    assert_eq!(paid.entries.len(), 1);
    assert_eq!(balance(db, "P1"), m(2000));

    // 1 June: it turns up. Checked in: no more overdue (the fine stopped when it was declared
    // lost), the replacement reversed (15.00 waived, the 5.00 paid on it refunded), the
    // processing fee kept (the library's policy), the copy back on the shelf.
    let back = desk.check_in(db, &barcode("B1"), &main, None, local(2026, 6, 1, 10, 0)).unwrap();
    assert!(back.loan_closed);
    assert_eq!((back.decision.charge, back.status), (Money::ZERO, ItemStatus::Available));
    assert_eq!(status(db, "B1"), ItemStatus::Available);
    assert_eq!(
        charges(db, "P1"),
        [
            (ChargeKind::Overdue, m(500), m(0)),
            (ChargeKind::Lost, m(2000), m(0)),
            (ChargeKind::Processing, m(500), m(500))
        ]
    );
    let a = db.account("P1").unwrap().unwrap();
    assert_eq!((a.patron.balance, a.ledger.credit()), (Money::ZERO, m(500)), "5.00 owed, 5.00 to hand back");
    // The credit is handed back in cash; the processing fee is still owed.
    desk::ledger::payout(db, "P1", PaymentMethod::Cash, m(500), CLERK, "refund of lost item", local(2026, 6, 1, 10, 5))
        .unwrap();
    assert_eq!(balance(db, "P1"), m(500));
    // Nothing was updated or deleted: every entry is still there, in order.
    let after = db.account("P1").unwrap().unwrap();
    assert_eq!(&after.ledger.entries()[..before.ledger.entries().len()], before.ledger.entries());
}

#[test]
fn found_with_the_processing_fee_refunded_by_policy() {
    let lib = library_with(true);
    let (db, desk, main) = (&*lib.db, &lib.desk, code("MAIN"));
    desk.checkout(db, "P2", &barcode("B4"), &main, local(2026, 3, 2, 12, 0), None).unwrap();
    assert_eq!(desk.mark_lost(db, local(2026, 5, 15, 2, 0)).unwrap().len(), 1);
    desk.check_in(db, &barcode("B4"), &main, None, local(2026, 5, 20, 10, 0)).unwrap();
    // Unpaid: both the replacement and the processing fee waived; the overdue stays.
    assert_eq!(
        charges(db, "P2"),
        [
            (ChargeKind::Overdue, m(500), m(500)),
            (ChargeKind::Lost, m(2000), m(0)),
            (ChargeKind::Processing, m(500), m(0))
        ]
    );
    assert_eq!(balance(db, "P2"), m(500));
}

/// A copy with no price of its own, declared lost: the library's default replacement price
/// is charged with the processing fee (the overdue fine has no price to cap it but its own).
#[test]
fn a_lost_copy_without_a_price_costs_the_default_replacement() {
    let lib = library_with(false);
    let (db, desk, main) = (&*lib.db, &lib.desk, code("MAIN"));
    desk.checkout(db, "P2", &barcode("B5"), &main, local(2026, 3, 2, 12, 0), None).unwrap();
    assert_eq!(desk.mark_lost(db, local(2026, 5, 15, 2, 0)).unwrap().len(), 1);
    assert_eq!(
        charges(db, "P2"),
        [
            (ChargeKind::Overdue, m(500), m(500)),
            (ChargeKind::Lost, m(2500), m(2500)),
            (ChargeKind::Processing, m(500), m(500))
        ]
    );
    assert_eq!(status(db, "B5"), ItemStatus::Lost);
}

#[test]
fn claims_returned_stops_the_fine_and_is_counted() {
    let lib = library_with(false);
    let (db, desk, main) = (&*lib.db, &lib.desk, code("MAIN"));
    let out = desk.checkout(db, "P1", &barcode("B2"), &main, local(2026, 3, 2, 12, 0), None).unwrap();
    // Friday 20 March, four days after the due date: the patron says it went back.
    let claim = desk
        .claims_returned(db, &barcode("B2"), CLERK, "says it went in the book drop", local(2026, 3, 20, 12, 0))
        .unwrap();
    assert_eq!((claim.kind, claim.loan.id), (StopKind::ClaimsReturned, out.loan.id));
    assert_eq!(status(db, "B2"), ItemStatus::Missing);
    // The fine to date (17, 18, 19, 20 March: four open days at 0.25) is charged, no more.
    assert_eq!(charges(db, "P1"), [(ChargeKind::Overdue, m(100), m(100))]);
    assert_eq!(db.claims_returned_count(out.loan.patron_id).unwrap(), 1);
    // Claimed twice: refused with its reason, nothing written.
    let twice = desk.claims_returned(db, &barcode("B2"), CLERK, "", local(2026, 3, 21, 12, 0)).unwrap_err();
    assert!(matches!(twice, DeskError::Ledger(LedgerRefusal::AlreadyStopped { kind: StopKind::ClaimsReturned, .. })));
    assert_eq!(db.claims_returned_count(out.loan.patron_id).unwrap(), 1);
    // Not a lost candidate, however long it stays out.
    assert!(desk.mark_lost(db, local(2026, 9, 1, 2, 0)).unwrap().is_empty());
    // Found on the shelf a month later: checked in, and the fine did not grow.
    let back = desk.check_in(db, &barcode("B2"), &main, None, local(2026, 4, 20, 12, 0)).unwrap();
    assert!(back.loan_closed);
    assert_eq!(back.decision.charge, Money::ZERO);
    assert_eq!(balance(db, "P1"), m(100));
    // Claiming a copy that is not on loan is refused.
    let not_lent = desk.claims_returned(db, &barcode("B2"), CLERK, "", local(2026, 4, 21, 12, 0)).unwrap_err();
    assert!(matches!(not_lent, DeskError::Ledger(LedgerRefusal::NotOnLoan(_))));
}

#[test]
fn damage_found_at_check_in_is_charged_and_repaired() {
    let lib = library_with(false);
    let (db, desk, main) = (&*lib.db, &lib.desk, code("MAIN"));
    desk.checkout(db, "P2", &barcode("B4"), &main, local(2026, 11, 2, 12, 0), None).unwrap();
    let now = local(2026, 11, 9, 12, 0);
    desk.check_in(db, &barcode("B4"), &main, None, now).unwrap();
    // The clerk finds water damage: 8.00 to the last borrower, the copy to the repair queue.
    let inspection = NewInspection {
        barcode: barcode("B4"),
        branch: main.clone(),
        condition: Condition::Damaged,
        note: "water damage to the cover".into(),
        damage_charge: Some(m(800)),
        to_repair: true,
        by: CLERK,
    };
    let done = desk::ledger::inspect(db, &inspection, now).unwrap();
    assert_eq!(done.status, ItemStatus::InRepair);
    assert_eq!(charges(db, "P2"), [(ChargeKind::Damage, m(800), m(800))]);
    let queue = desk::ledger::repair_queue(db, &main).unwrap();
    assert_eq!(queue.iter().map(|r| r.item.item.barcode.as_str()).collect::<Vec<_>>(), ["B4"]);
    // In repair: not lendable.
    let refused = desk.checkout(db, "P1", &barcode("B4"), &main, local(2026, 11, 10, 12, 0), None).unwrap_err();
    assert!(matches!(refused, DeskError::Refused(_)));
    // Repaired a week later: on the shelf, out of the queue, lendable again.
    let item = desk::ledger::repaired(db, done.item_id, CLERK, local(2026, 11, 16, 12, 0)).unwrap();
    assert_eq!(item.item.status, ItemStatus::Available);
    assert!(desk::ledger::repair_queue(db, &main).unwrap().is_empty());
    desk.checkout(db, "P1", &barcode("B4"), &main, local(2026, 11, 17, 12, 0), None).unwrap();
    // The damage charge is the patron's to pay, waive (with a reason) or write off.
    let a = db.account("P2").unwrap().unwrap();
    let row = a.row(EntryId(0)).unwrap().id;
    let no_reason = desk::ledger::credit(db, "P2", CreditRequest::Waiver, m(800), Some(&[row]), CLERK, " ", now);
    assert!(matches!(
        no_reason,
        Err(DeskError::Ledger(LedgerRefusal::Ledger(circulation::LedgerError::ReasonRequired)))
    ));
    desk::ledger::credit(db, "P2", CreditRequest::Waiver, m(300), Some(&[row]), CLERK, "cover only", now).unwrap();
    assert_eq!(balance(db, "P2"), m(500));
}
