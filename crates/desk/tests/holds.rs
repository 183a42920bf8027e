//! Holds at the desk, day by day with an injected clock, on a real SQLite database: a hold
//! trapped at another branch and sent in transit, received and filled at checkout; hold-shelf
//! expiry passing the copy to the next patron; renewal refused because of a hold; the pull list
//! in shelf order; suspended holds skipped; item-level holds taking only their copy.
#![allow(clippy::unwrap_used)] // a test: a panic with its line is the failure report

mod common;
use catalog::{Branch, ItemStatus, ItemType, Money, NewItem, ShelvingLocation};
use chrono::{DateTime, NaiveDate, Utc};
use circulation::{RefusalCode, Routing};
use common::{barcode, code, local};
use desk::{CirculationSettings, Desk, DeskError, HoldChange};
use std::sync::Arc;
use storage::holds::{HoldStatus, HoldTarget, NewHold, StoredHold, TransitReason};
use storage::{BibId, Database, NewRecord, Patron, StorageConfig};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn settings() -> CirculationSettings {
    let text = r#"
        time_zone = "America/Chicago"
        governing_branch = "checkout"
        fine_limit = "10.00"
        max_overdues = 5
        hours = { mon = "09:00-20:00", tue = "09:00-20:00", wed = "09:00-20:00", thu = "09:00-20:00", fri = "09:00-18:00", sat = "10:00-17:00", sun = "closed" }
        closed = ["12-25", "01-01"]
        [[rules]]
        branch = "*"
        category = "*"
        item_type = "*"
        loan_period = "14 days"
        max_loans = 5
        renewals_allowed = 2
        renewal_period = "14 days"
        fine = "0.25 per day"
        grace_period = "0 days"
        max_fine = "5.00"
        lost_after_days = "60"
        lost_processing_fee = "5.00"
        hold_allowed = true
        max_holds = 3
        hold_shelf_days = 7
        hard_due_date = "none"
        [[rules]]
        branch = "*"
        category = "*"
        item_type = "REF"
        hold_allowed = false
    "#;
    toml::from_str(text).unwrap()
}

struct Library {
    db: Arc<dyn Database>,
    desk: Desk,
    /// Record "Dune" with copies D1 (MAIN, 813 HER) and D2 (EAST, 813 HER c.2).
    dune: BibId,
    _dir: tempfile::TempDir,
}

fn item(bc: &str, home: &str, call: &str, ty: &str) -> NewItem {
    NewItem {
        barcode: barcode(bc),
        home_branch: code(home),
        holding_branch: code(home),
        location: Some(code("STACKS")),
        collection: None,
        call_number: Some(call.into()),
        item_type: code(ty),
        price: Some(Money::from_minor(2000)),
        public_note: None,
        staff_note: None,
        materials_specified: None,
        status: ItemStatus::Available,
        acquired_on: None,
    }
}

fn record(db: &dyn Database, name: &str, items: &[NewItem]) -> BibId {
    let bib = db
        .create_record(&NewRecord { marc: format!("{name}\x1d").into_bytes(), derived: Default::default(), row: None })
        .unwrap();
    for i in items {
        db.create_item(bib, i).unwrap();
    }
    bib
}

fn library() -> Library {
    let dir = tempfile::tempdir().unwrap();
    let db = storage::open(&StorageConfig::parse(dir.path().to_str().unwrap())).unwrap();
    for b in ["MAIN", "EAST"] {
        db.upsert_branch(&Branch { code: code(b), name: b.into() }).unwrap();
    }
    db.upsert_location(&ShelvingLocation { code: code("STACKS"), name: "Stacks".into() }).unwrap();
    db.upsert_item_type(&ItemType { code: code("BK"), name: "Book".into(), loanable: true }).unwrap();
    db.upsert_item_type(&ItemType { code: code("REF"), name: "Reference".into(), loanable: false }).unwrap();
    for card in ["P1", "P2", "P3", "P4"] {
        db.upsert_patron(&Patron {
            card_number: card.into(),
            surname: "Reader".into(),
            first_name: card.into(),
            category: code("ADULT"),
            home_branch: code("MAIN"),
            expiry_date: "2030-01-01".into(),
            email: None,
        })
        .unwrap();
    }
    let dune = record(&*db, "dune", &[item("D1", "MAIN", "813 HER", "BK"), item("D2", "EAST", "813 HER c.2", "BK")]);
    Library { db, desk: Desk::new(settings().build().unwrap()), dune, _dir: dir }
}

fn title_hold(card: &str, bib: BibId, pickup: &str) -> NewHold {
    NewHold {
        card_number: card.into(),
        target: HoldTarget::Record(bib),
        pickup_branch: code(pickup),
        not_needed_after: None,
    }
}

fn refusal_codes(e: DeskError) -> Vec<RefusalCode> {
    match e {
        DeskError::Refused(r) => r.into_iter().map(|r| r.code).collect(),
        other => panic!("expected a refusal, got {other}"),
    }
}

/// The queue as (card, status, position, trapped barcode, pickup by).
/// A hold as the scenarios assert it: card, status, position, trapped copy, pickup deadline.
type QueueRow = (String, HoldStatus, i64, Option<String>, Option<DateTime<Utc>>);

fn queue(db: &dyn Database, bib: BibId) -> Vec<QueueRow> {
    db.record_holds(bib)
        .unwrap()
        .into_iter()
        .map(|h| {
            let trapped = h.trapped_item_id.map(|i| db.item(i).unwrap().unwrap().item.barcode.to_string());
            (h.card_number, h.status, h.queue_position, trapped, h.pickup_by)
        })
        .collect()
}

fn copy(db: &dyn Database, bc: &str) -> (ItemStatus, String) {
    let i = db.item_by_barcode(&barcode(bc)).unwrap().unwrap();
    (i.item.status, i.item.holding_branch.to_string())
}

fn hold_of(db: &dyn Database, card: &str) -> StoredHold {
    let p = db.patron_account(card).unwrap().unwrap();
    db.patron_holds(p.id).unwrap().into_iter().next().unwrap()
}

#[test]
fn a_hold_trapped_at_another_branch_travels_is_received_and_filled() {
    let lib = library();
    let (db, desk) = (&*lib.db, &lib.desk);
    let (main, east) = (code("MAIN"), code("EAST"));
    // Monday 2 March: P3 borrows D1 at MAIN; D2 is lent at EAST to P2.
    desk.checkout(db, "P3", &barcode("D1"), &main, local(2026, 3, 2, 10, 0), None).unwrap();
    desk.checkout(db, "P2", &barcode("D2"), &east, local(2026, 3, 2, 10, 5), None).unwrap();

    // Tuesday: P1 asks for Dune, to pick up at EAST.
    let placed = desk.place_hold(db, &title_hold("P1", lib.dune, "EAST"), local(2026, 3, 3, 11, 0)).unwrap();
    assert_eq!(placed.status, HoldStatus::Waiting);
    assert_eq!(queue(db, lib.dune), vec![("P1".into(), HoldStatus::Waiting, 1, None, None)]);

    // Wednesday: D1 comes back at MAIN: trapped for P1 and sent to EAST.
    let back = desk.check_in(db, &barcode("D1"), &main, None, local(2026, 3, 4, 9, 30)).unwrap();
    assert_eq!(
        back.decision.routing,
        Routing::Transit { to: east.clone(), hold: Some(circulation::HoldId(placed.id)) }
    );
    assert_eq!(back.hold.as_ref().map(|h| h.card_number.as_str()), Some("P1"));
    assert_eq!(copy(db, "D1"), (ItemStatus::InTransit, "MAIN".into()));
    assert_eq!(queue(db, lib.dune), vec![("P1".into(), HoldStatus::InTransit, 1, Some("D1".into()), None)]);
    let d1 = db.item_by_barcode(&barcode("D1")).unwrap().unwrap().id;
    let transits = db.transits(d1).unwrap();
    assert_eq!(transits.len(), 1);
    assert_eq!(
        (transits[0].from_branch.as_str(), transits[0].to_branch.as_str(), transits[0].reason, transits[0].hold_id),
        ("MAIN", "EAST", TransitReason::Hold, Some(placed.id))
    );
    assert_eq!(transits[0].received_at, None);

    // Thursday: received at EAST: on the hold shelf until Thursday 12 March, closing.
    let got = desk.check_in(db, &barcode("D1"), &east, None, local(2026, 3, 5, 10, 0)).unwrap();
    let by = local(2026, 3, 12, 23, 59);
    assert_eq!(
        got.decision.routing,
        Routing::HoldShelf {
            hold: circulation::HoldId(placed.id),
            patron: circulation::PatronId(placed.patron_id),
            pickup_by: by
        }
    );
    assert!(!got.loan_closed);
    assert_eq!(copy(db, "D1"), (ItemStatus::OnHoldShelf, "EAST".into()));
    assert_eq!(queue(db, lib.dune), vec![("P1".into(), HoldStatus::OnShelf, 1, Some("D1".into()), Some(by))]);
    assert_eq!(db.transits(d1).unwrap()[0].received_at, Some(local(2026, 3, 5, 10, 0)));

    // Friday: P3 may not take P1's copy; P1 may, and that fills the hold.
    let no = desk.checkout(db, "P3", &barcode("D1"), &east, local(2026, 3, 6, 10, 0), None).unwrap_err();
    assert_eq!(refusal_codes(no), vec![RefusalCode::ItemOnHoldForOther]);
    desk.checkout(db, "P1", &barcode("D1"), &east, local(2026, 3, 6, 10, 5), None).unwrap();
    assert_eq!(copy(db, "D1"), (ItemStatus::CheckedOut, "EAST".into()));
    assert!(queue(db, lib.dune).is_empty());
    let filled = hold_of(db, "P1");
    assert_eq!(filled.status, HoldStatus::Filled);
    assert_eq!(filled.finished_at, Some(local(2026, 3, 6, 10, 5)));
    assert_eq!(filled.trapped_item_id, Some(d1));

    // Monday: P1 returns it at EAST; nobody waits, so it goes home to MAIN, and is shelved there.
    let home = desk.check_in(db, &barcode("D1"), &east, None, local(2026, 3, 9, 10, 0)).unwrap();
    assert_eq!(home.decision.routing, Routing::Transit { to: main.clone(), hold: None });
    assert_eq!(copy(db, "D1"), (ItemStatus::InTransit, "EAST".into()));
    assert_eq!(db.transits(d1).unwrap()[1].reason, TransitReason::Home);
    let shelved = desk.check_in(db, &barcode("D1"), &main, None, local(2026, 3, 10, 10, 0)).unwrap();
    assert_eq!(shelved.decision.routing, Routing::Shelve);
    assert_eq!(copy(db, "D1"), (ItemStatus::Available, "MAIN".into()));
    assert!(db.transits(d1).unwrap().iter().all(|t| t.received_at.is_some()));
}

#[test]
fn hold_shelf_expiry_passes_the_copy_to_the_next_patron() {
    let lib = library();
    let (db, desk, main) = (&*lib.db, &lib.desk, code("MAIN"));
    desk.checkout(db, "P3", &barcode("D1"), &main, local(2026, 3, 2, 10, 0), None).unwrap();
    desk.checkout(db, "P3", &barcode("D2"), &code("EAST"), local(2026, 3, 2, 10, 0), None).unwrap();
    desk.place_hold(db, &title_hold("P1", lib.dune, "MAIN"), local(2026, 3, 3, 11, 0)).unwrap();
    desk.place_hold(db, &title_hold("P2", lib.dune, "MAIN"), local(2026, 3, 3, 12, 0)).unwrap();

    // Wednesday 4 March: D1 back; on the shelf for P1 until Wednesday 11 March.
    desk.check_in(db, &barcode("D1"), &main, None, local(2026, 3, 4, 9, 30)).unwrap();
    let p1_by = local(2026, 3, 11, 23, 59);
    assert_eq!(
        queue(db, lib.dune),
        vec![
            ("P1".into(), HoldStatus::OnShelf, 1, Some("D1".into()), Some(p1_by)),
            ("P2".into(), HoldStatus::Waiting, 2, None, None)
        ]
    );

    // The sweep on the evening of the 11th: the deadline has not passed.
    let sweep = desk.expire_hold_shelf(db, local(2026, 3, 11, 22, 0)).unwrap();
    assert!(sweep.expired.is_empty());

    // Early on the 12th: P1's hold expires; D1 is trapped for P2, on the shelf until the 19th.
    let at = local(2026, 3, 12, 1, 0);
    let sweep = desk.expire_hold_shelf(db, at).unwrap();
    let p1 = hold_of(db, "P1");
    assert_eq!(sweep.expired, vec![p1.id]);
    let p2_by = local(2026, 3, 19, 23, 59);
    assert_eq!(sweep.routed.len(), 1);
    assert!(matches!(sweep.routed[0].1, Routing::HoldShelf { pickup_by, .. } if pickup_by == p2_by));
    assert_eq!((p1.status, p1.finished_at, p1.trapped_item_id), (HoldStatus::Expired, Some(at), None));
    assert_eq!(queue(db, lib.dune), vec![("P2".into(), HoldStatus::OnShelf, 1, Some("D1".into()), Some(p2_by))]);
    assert_eq!(copy(db, "D1"), (ItemStatus::OnHoldShelf, "MAIN".into()));

    // Run twice on the same day: nothing changes.
    let again = desk.expire_hold_shelf(db, local(2026, 3, 12, 1, 5)).unwrap();
    assert_eq!(again, desk::ShelfSweep::default());
    assert_eq!(queue(db, lib.dune), vec![("P2".into(), HoldStatus::OnShelf, 1, Some("D1".into()), Some(p2_by))]);

    // P2 does not come either: on the 20th the copy has nobody left and goes back on the shelf.
    let sweep = desk.expire_hold_shelf(db, local(2026, 3, 20, 8, 0)).unwrap();
    assert_eq!(sweep.routed, vec![(db.item_by_barcode(&barcode("D1")).unwrap().unwrap().id, Routing::Shelve)]);
    assert!(queue(db, lib.dune).is_empty());
    assert_eq!(copy(db, "D1"), (ItemStatus::Available, "MAIN".into()));
}

#[test]
fn renewal_is_refused_while_another_patron_waits_and_a_suspended_hold_is_skipped() {
    let lib = library();
    let (db, desk, main) = (&*lib.db, &lib.desk, code("MAIN"));
    desk.checkout(db, "P3", &barcode("D1"), &main, local(2026, 3, 2, 10, 0), None).unwrap();
    desk.checkout(db, "P3", &barcode("D2"), &code("EAST"), local(2026, 3, 2, 10, 0), None).unwrap();
    let p1 = desk.place_hold(db, &title_hold("P1", lib.dune, "MAIN"), local(2026, 3, 3, 11, 0)).unwrap();

    let no = desk.renew(db, &barcode("D1"), local(2026, 3, 10, 10, 0), None).unwrap_err();
    assert_eq!(refusal_codes(no), vec![RefusalCode::RenewalOnHold]);

    // P1 goes away until the 20th: the hold keeps its place but no longer blocks the renewal.
    let suspend = HoldChange { suspend: Some(Some(day(2026, 3, 20))), ..Default::default() };
    let s = desk.change_hold(db, p1.id, &suspend, local(2026, 3, 10, 11, 0)).unwrap();
    assert_eq!((s.status, s.suspended_until), (HoldStatus::Suspended, Some(day(2026, 3, 20))));
    let (loan, _) = desk.renew(db, &barcode("D1"), local(2026, 3, 10, 11, 5), None).unwrap();
    assert_eq!(loan.renewals, 1);

    // P2 asks too; D2 comes back while P1 is away: it is trapped for P2, not P1.
    desk.place_hold(db, &title_hold("P2", lib.dune, "EAST"), local(2026, 3, 11, 9, 0)).unwrap();
    let back = desk.check_in(db, &barcode("D2"), &code("EAST"), None, local(2026, 3, 12, 9, 0)).unwrap();
    assert_eq!(back.hold.map(|h| h.card_number), Some("P2".into()));
    assert_eq!(
        queue(db, lib.dune),
        vec![
            ("P1".into(), HoldStatus::Suspended, 1, None, None),
            ("P2".into(), HoldStatus::OnShelf, 2, Some("D2".into()), Some(local(2026, 3, 19, 23, 59)))
        ]
    );

    // Resumed, P1 blocks renewals again.
    let resume = HoldChange { resume: true, ..Default::default() };
    assert_eq!(desk.change_hold(db, p1.id, &resume, local(2026, 3, 13, 9, 0)).unwrap().status, HoldStatus::Waiting);
    let no = desk.renew(db, &barcode("D1"), local(2026, 3, 13, 10, 0), None).unwrap_err();
    assert_eq!(refusal_codes(no), vec![RefusalCode::RenewalOnHold]);
    // Resuming a hold that is not suspended is refused, and changes nothing.
    assert!(matches!(desk.change_hold(db, p1.id, &resume, local(2026, 3, 13, 9, 0)), Err(DeskError::Hold(_))));
}

#[test]
fn an_item_level_hold_takes_only_its_copy() {
    let lib = library();
    let (db, desk, main) = (&*lib.db, &lib.desk, code("MAIN"));
    desk.checkout(db, "P3", &barcode("D1"), &main, local(2026, 3, 2, 10, 0), None).unwrap();
    desk.checkout(db, "P3", &barcode("D2"), &main, local(2026, 3, 2, 10, 0), None).unwrap();
    let only_d2 = NewHold { target: HoldTarget::Item(barcode("D2")), ..title_hold("P1", lib.dune, "MAIN") };
    let h = desk.place_hold(db, &only_d2, local(2026, 3, 3, 9, 0)).unwrap();
    assert_eq!(h.item_id, Some(db.item_by_barcode(&barcode("D2")).unwrap().unwrap().id));

    // D1 comes back: the hold does not want it; it is shelved, and may be lent to anyone.
    let d1 = desk.check_in(db, &barcode("D1"), &main, None, local(2026, 3, 4, 9, 0)).unwrap();
    assert_eq!(d1.decision.routing, Routing::Shelve);
    assert_eq!(copy(db, "D1"), (ItemStatus::Available, "MAIN".into()));
    // D2 (home EAST) comes back at MAIN: trapped for P1 here rather than sent home.
    let d2 = desk.check_in(db, &barcode("D2"), &main, None, local(2026, 3, 4, 9, 5)).unwrap();
    assert!(matches!(d2.decision.routing, Routing::HoldShelf { .. }));
    assert_eq!(
        queue(db, lib.dune),
        vec![("P1".into(), HoldStatus::OnShelf, 1, Some("D2".into()), Some(local(2026, 3, 11, 23, 59)))]
    );
    desk.checkout(db, "P2", &barcode("D1"), &main, local(2026, 3, 4, 10, 0), None).unwrap();
}

#[test]
fn placing_a_hold_is_refused_with_every_reason() {
    let lib = library();
    let (db, desk, main) = (&*lib.db, &lib.desk, code("MAIN"));
    let now = local(2026, 3, 3, 9, 0);
    desk.checkout(db, "P2", &barcode("D1"), &main, now, None).unwrap();
    desk.place_hold(db, &title_hold("P1", lib.dune, "MAIN"), now).unwrap();
    let again = desk.place_hold(db, &title_hold("P1", lib.dune, "MAIN"), now).unwrap_err();
    assert_eq!(refusal_codes(again), vec![RefusalCode::HoldAlreadyPlaced]);

    let on_loan = desk.place_hold(db, &title_hold("P2", lib.dune, "MAIN"), now).unwrap_err();
    assert_eq!(refusal_codes(on_loan), vec![RefusalCode::ItemOnLoanToPatron]);

    // Reference copies take no holds.
    let atlas = record(db, "atlas", &[item("R1", "MAIN", "912 ATL", "REF")]);
    let no = desk.place_hold(db, &title_hold("P3", atlas, "MAIN"), now).unwrap_err();
    assert_eq!(refusal_codes(no), vec![RefusalCode::HoldsNotAllowed]);

    // At most three holds (P1 has one).
    for n in 0..2 {
        let bib = record(db, &format!("t{n}"), &[item(&format!("T{n}"), "MAIN", "100", "BK")]);
        desk.place_hold(db, &title_hold("P1", bib, "MAIN"), now).unwrap();
    }
    let bib = record(db, "t9", &[item("T9", "MAIN", "100", "BK")]);
    let many = desk.place_hold(db, &title_hold("P1", bib, "MAIN"), now).unwrap_err();
    assert_eq!(refusal_codes(many), vec![RefusalCode::TooManyHolds]);
    assert!(db.record_holds(bib).unwrap().is_empty());
    // An unknown card is not a refusal but a lookup failure.
    assert!(matches!(
        desk.place_hold(db, &title_hold("NOPE", lib.dune, "MAIN"), now),
        Err(DeskError::NotFound { what: "patron card", .. })
    ));
}

#[test]
fn staff_move_cancel_and_the_copy_passes_on() {
    let lib = library();
    let (db, desk, main) = (&*lib.db, &lib.desk, code("MAIN"));
    desk.checkout(db, "P3", &barcode("D1"), &main, local(2026, 3, 2, 10, 0), None).unwrap();
    desk.checkout(db, "P3", &barcode("D2"), &main, local(2026, 3, 2, 10, 0), None).unwrap();
    let p1 = desk.place_hold(db, &title_hold("P1", lib.dune, "MAIN"), local(2026, 3, 3, 9, 0)).unwrap();
    let p2 = desk.place_hold(db, &title_hold("P2", lib.dune, "EAST"), local(2026, 3, 3, 9, 5)).unwrap();
    // Staff put P2 first.
    let moved = desk
        .change_hold(db, p2.id, &HoldChange { position: Some(1), ..Default::default() }, local(2026, 3, 3, 10, 0))
        .unwrap();
    assert_eq!(moved.queue_position, 1);
    assert_eq!(queue(db, lib.dune).iter().map(|q| (q.0.as_str(), q.2)).collect::<Vec<_>>(), vec![("P2", 1), ("P1", 2)]);

    // P2 cancels; D1 back at MAIN goes on the shelf for P1.
    let c = desk.cancel_hold(db, p2.id, local(2026, 3, 4, 9, 0)).unwrap();
    assert_eq!((c.status, c.finished_at), (HoldStatus::Cancelled, Some(local(2026, 3, 4, 9, 0))));
    assert!(matches!(desk.cancel_hold(db, p2.id, local(2026, 3, 4, 9, 1)), Err(DeskError::Hold(_))));
    desk.check_in(db, &barcode("D1"), &main, None, local(2026, 3, 4, 10, 0)).unwrap();
    assert_eq!(hold_of(db, "P1").status, HoldStatus::OnShelf);

    // P4 waits at EAST; P1 cancels with the copy on the shelf: it goes to EAST for P4.
    let p4 = desk.place_hold(db, &title_hold("P4", lib.dune, "EAST"), local(2026, 3, 4, 12, 0)).unwrap();
    desk.cancel_hold(db, p1.id, local(2026, 3, 4, 13, 0)).unwrap();
    assert_eq!(hold_of(db, "P1").status, HoldStatus::Cancelled);
    assert_eq!(queue(db, lib.dune), vec![("P4".into(), HoldStatus::InTransit, 1, Some("D1".into()), None)]);
    assert_eq!(copy(db, "D1"), (ItemStatus::InTransit, "MAIN".into()));
    let d1 = db.item_by_barcode(&barcode("D1")).unwrap().unwrap().id;
    let t = db.transits(d1).unwrap();
    assert_eq!((t.len(), t[0].to_branch.as_str(), t[0].hold_id), (1, "EAST", Some(p4.id)));
}

#[test]
fn the_pull_list_is_in_shelf_order_one_copy_per_hold() {
    let lib = library();
    let (db, desk, main) = (&*lib.db, &lib.desk, code("MAIN"));
    let now = local(2026, 3, 3, 9, 0);
    // Shelf order at MAIN: 005 (Bits), 500 (Cells, two copies), 813 HER (Dune D1), 900 (Maps).
    let cells = record(db, "cells", &[item("C2", "MAIN", "500 CEL c.2", "BK"), item("C1", "MAIN", "500 CEL", "BK")]);
    let bits = record(db, "bits", &[item("B1", "MAIN", "005 BIT", "BK")]);
    let maps = record(db, "maps", &[item("M1", "MAIN", "900 MAP", "BK")]);
    let _nobody = record(db, "quiet", &[item("Q1", "MAIN", "001 QUI", "BK")]);
    for (card, bib) in [("P1", lib.dune), ("P1", cells), ("P2", bits), ("P3", maps)] {
        desk.place_hold(db, &title_hold(card, bib, "EAST"), now).unwrap();
    }
    // P3 is away: Maps is not pulled. Quiet has no hold.
    let p3 = hold_of(db, "P3");
    desk.change_hold(db, p3.id, &HoldChange { suspend: Some(None), ..Default::default() }, now).unwrap();
    let list = desk.pull_list(db, &main, now).unwrap();
    let got: Vec<(&str, Option<&str>, &str)> = list
        .iter()
        .map(|e| (e.shelf.item.item.barcode.as_str(), e.shelf.call_number.as_deref(), e.hold.card_number.as_str()))
        .collect();
    // P1's Dune hold is pulled at EAST, its pickup branch, which has D2: not at MAIN as well.
    assert_eq!(got, vec![("B1", Some("005 BIT"), "P2"), ("C1", Some("500 CEL"), "P1")]);
    let pulled = |branch: &str| -> Vec<(String, String)> {
        let list = desk.pull_list(db, &code(branch), now).unwrap();
        list.iter().map(|e| (e.shelf.item.item.barcode.to_string(), e.hold.card_number.clone())).collect()
    };
    let pair = |bc: &str, card: &str| (bc.to_string(), card.to_string());
    assert_eq!(pulled("EAST"), vec![pair("D2", "P1")]);
    // P4 wants Dune at MAIN: D1 is pulled for P4 at MAIN, D2 still for P1 at EAST.
    desk.place_hold(db, &title_hold("P4", lib.dune, "MAIN"), now).unwrap();
    assert_eq!(pulled("MAIN"), vec![pair("B1", "P2"), pair("C1", "P1"), pair("D1", "P4")]);
    assert_eq!(pulled("EAST"), vec![pair("D2", "P1")]);
    // D1 is checked in at MAIN anyway: it is trapped for P1, first in line, and travels to
    // EAST; D2 is now the copy for P4 and is pulled at EAST.
    desk.check_in(db, &barcode("D1"), &main, None, local(2026, 3, 3, 10, 0)).unwrap();
    assert_eq!(pulled("MAIN"), vec![pair("B1", "P2"), pair("C1", "P1")]);
    assert_eq!(pulled("EAST"), vec![pair("D2", "P4")]);
}

#[test]
fn an_override_past_a_trap_puts_that_hold_back_in_line() {
    let lib = library();
    let (db, desk, main) = (&*lib.db, &lib.desk, code("MAIN"));
    desk.checkout(db, "P3", &barcode("D1"), &main, local(2026, 3, 2, 10, 0), None).unwrap();
    desk.checkout(db, "P3", &barcode("D2"), &main, local(2026, 3, 2, 10, 0), None).unwrap();
    desk.place_hold(db, &title_hold("P1", lib.dune, "MAIN"), local(2026, 3, 3, 9, 0)).unwrap();
    desk.place_hold(db, &title_hold("P2", lib.dune, "MAIN"), local(2026, 3, 3, 9, 5)).unwrap();
    desk.check_in(db, &barcode("D1"), &main, None, local(2026, 3, 4, 9, 0)).unwrap();
    assert_eq!(hold_of(db, "P1").status, HoldStatus::OnShelf);

    // P2 takes P1's copy with a supervisor's override: P2's own hold is filled, P1 waits again, first.
    let boss = desk::Override {
        staff: circulation::Staff::new(circulation::StaffId(7), [circulation::Permission::Override]),
        staff_name: "boss".into(),
        reason: "P1 phoned: give it to P2".into(),
    };
    desk.checkout(db, "P2", &barcode("D1"), &main, local(2026, 3, 4, 10, 0), Some(&boss)).unwrap();
    assert_eq!(hold_of(db, "P2").status, HoldStatus::Filled);
    assert_eq!(queue(db, lib.dune), vec![("P1".into(), HoldStatus::Waiting, 1, None, None)]);
    // The next copy back is P1's.
    desk.check_in(db, &barcode("D2"), &main, None, local(2026, 3, 5, 9, 0)).unwrap();
    assert_eq!(
        queue(db, lib.dune),
        vec![("P1".into(), HoldStatus::OnShelf, 1, Some("D2".into()), Some(local(2026, 3, 12, 23, 59)))]
    );
}

/// A storm closes MAIN on Monday 16 March, declared on Saturday the 14th: the loan checked out
/// at MAIN due that day moves to Tuesday, the hold waiting on MAIN's shelf gets a day more, EAST
/// is untouched, the fines follow the moved dates, and the closure stays in the calendar.
#[test]
fn an_emergency_closure_moves_due_dates_and_pickup_deadlines() {
    let lib = library();
    let (db, desk, main, east) = (&*lib.db, &lib.desk, code("MAIN"), code("EAST"));
    record(db, "ice", &[item("I1", "MAIN", "551 ICE", "BK")]);
    desk.checkout(db, "P3", &barcode("I1"), &main, local(2026, 3, 2, 10, 0), None).unwrap();
    desk.checkout(db, "P4", &barcode("D2"), &east, local(2026, 3, 2, 10, 0), None).unwrap();
    let loan = |bc: &str| {
        let item = db.item_by_barcode(&barcode(bc)).unwrap().unwrap().id;
        let patron = db.patron_account(if bc == "I1" { "P3" } else { "P4" }).unwrap().unwrap().id;
        db.open_loans(patron).unwrap().into_iter().find(|l| l.item_id == item).unwrap()
    };
    let due = |bc: &str| loan(bc).due_at;
    assert_eq!((due("I1"), due("D2")), (local(2026, 3, 16, 23, 59), local(2026, 3, 16, 23, 59)));
    desk.place_hold(db, &title_hold("P1", lib.dune, "MAIN"), local(2026, 3, 10, 11, 0)).unwrap();
    desk.check_in(db, &barcode("D1"), &main, None, local(2026, 3, 11, 9, 30)).unwrap();
    assert_eq!(hold_of(db, "P1").pickup_by, Some(local(2026, 3, 18, 23, 59)));

    // Saturday 14 March: a past day is refused, then Monday is closed.
    let at = local(2026, 3, 14, 11, 0);
    let only_main = [main.clone()];
    let past = desk.declare_closure(db, &only_main, day(2026, 3, 13), "storm", Some("boss"), at).unwrap_err();
    assert!(matches!(past, DeskError::Invalid { field: "day", .. }), "{past}");
    let report = desk.declare_closure(db, &only_main, day(2026, 3, 16), "storm damage", Some("boss"), at).unwrap();
    let i1_loan = loan("I1").id;
    assert_eq!(report.loans_moved, vec![(i1_loan, local(2026, 3, 17, 23, 59))]);
    assert_eq!(report.holds_extended, vec![(hold_of(db, "P1").id, local(2026, 3, 19, 23, 59))]);
    assert_eq!((due("I1"), due("D2")), (local(2026, 3, 17, 23, 59), local(2026, 3, 16, 23, 59)));
    assert_eq!(hold_of(db, "P1").pickup_by, Some(local(2026, 3, 19, 23, 59)));
    // Declared twice: refused, nothing moves again.
    let again = desk.declare_closure(db, &only_main, day(2026, 3, 16), "storm", None, at).unwrap_err();
    assert!(matches!(again, DeskError::Storage(storage::StorageError::Conflict { .. })), "{again}");
    assert_eq!(due("I1"), local(2026, 3, 17, 23, 59));

    // The closure is stored: a desk started afresh sees it once it has read the closures.
    let fresh = Desk::new(settings().build().unwrap());
    assert!(fresh.circulation().calendar(&main).is_open(day(2026, 3, 16)));
    fresh.load_closures(db).unwrap();
    assert!(!fresh.circulation().calendar(&main).is_open(day(2026, 3, 16)));
    assert!(fresh.circulation().calendar(&east).is_open(day(2026, 3, 16)));
    let stored = db.closures().unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!((stored[0].branch.as_str(), stored[0].reason.as_str()), ("MAIN", "storm damage"));

    // Tuesday: D2 comes back to EAST a day late (EAST was open on Monday): one day's fine.
    let d2 = desk.check_in(db, &barcode("D2"), &east, None, local(2026, 3, 17, 10, 0)).unwrap();
    assert_eq!(d2.decision.charge, Money::from_minor(25));
    // Wednesday: I1 comes back to MAIN, due Tuesday now: one day's fine, not two.
    let i1 = desk.check_in(db, &barcode("I1"), &main, None, local(2026, 3, 18, 10, 0)).unwrap();
    assert_eq!(i1.decision.charge, Money::from_minor(25));

    // The shelf sweep keeps P1's hold through Thursday and expires it after.
    assert!(desk.expire_hold_shelf(db, local(2026, 3, 19, 22, 0)).unwrap().expired.is_empty());
    assert_eq!(desk.expire_hold_shelf(db, local(2026, 3, 20, 1, 0)).unwrap().expired, vec![hold_of(db, "P1").id]);
}
