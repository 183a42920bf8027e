//! The staff client's lists on every backend: a branch's hold shelf (and its lapsed part) and
//! its open transits each way, bounded and in order; staged imports kept in file order, applied
//! at most once.

mod common;

use catalog::{Barcode, Branch, Code, ItemStatus, ItemType, NewItem, ShelvingLocation};
use chrono::{DateTime, TimeZone, Utc};
use storage::holds::{HoldPlacement, HoldStatus, HoldTarget, ItemMove, NewHold, NewTransit, QueueWrite, TransitWay};
use storage::staging::{BatchState, NewBatch, StagedMatch, StagedRecord};
use storage::{BibId, Database, NewRecord, OnMatch, Patron, StorageError};

suite! {
    db: [the_hold_shelf_of_a_branch_by_deadline, open_transits_each_way, a_staged_batch_is_applied_once],
    harness: [],
}

fn code(s: &str) -> Code {
    Code::parse(s).expect("code")
}

fn at(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).single().expect("time")
}

fn item(bc: &str, branch: &str, call: &str) -> NewItem {
    NewItem {
        barcode: Barcode::parse(bc).expect("barcode"),
        home_branch: code(branch),
        holding_branch: code(branch),
        location: Some(code("STACKS")),
        collection: None,
        call_number: Some(call.into()),
        item_type: code("BK"),
        price: None,
        public_note: None,
        staff_note: None,
        materials_specified: None,
        status: ItemStatus::Available,
        acquired_on: None,
    }
}

fn record(db: &dyn Database, title: &str, items: &[NewItem]) -> BibId {
    let derived = catalog::BibDerived { title: title.into(), ..Default::default() };
    let bib =
        db.create_record(&NewRecord { marc: format!("{title}\x1d").into_bytes(), derived, row: None }).expect("record");
    for i in items {
        db.create_item(bib, i).expect("item");
    }
    bib
}

fn setup(db: &dyn Database) {
    for b in ["MAIN", "EAST"] {
        db.upsert_branch(&Branch { code: code(b), name: b.into() }).expect("branch");
    }
    db.upsert_location(&ShelvingLocation { code: code("STACKS"), name: "Stacks".into() }).expect("loc");
    db.upsert_item_type(&ItemType { code: code("BK"), name: "Book".into(), loanable: true }).expect("type");
    for (card, surname) in [("P1", "Austen"), ("P2", "Brontë"), ("P3", "Collins")] {
        db.upsert_patron(&Patron {
            card_number: card.into(),
            surname: surname.into(),
            first_name: card.into(),
            category: code("ADULT"),
            home_branch: code("MAIN"),
            expiry_date: "2030-01-01".into(),
            email: None,
        })
        .expect("patron");
    }
}

fn item_id(db: &dyn Database, bc: &str) -> i64 {
    db.item_by_barcode(&Barcode::parse(bc).expect("barcode")).expect("read").expect("item").id
}

/// Places a hold for `card` on `bib` picked up at `pickup` and traps `copy` for it: on the
/// shelf there until `pickup_by`, or in transit there from `from`.
fn trap(db: &dyn Database, card: &str, bib: BibId, pickup: &str, copy: &str, shelf_until: Option<DateTime<Utc>>) {
    let hold = NewHold {
        card_number: card.into(),
        target: HoldTarget::Record(bib),
        pickup_branch: code(pickup),
        not_needed_after: None,
    };
    let placed =
        db.place_hold(&hold, at(1, 9), &mut |_| Some(HoldPlacement::default())).expect("place").expect("placed");
    let id = item_id(db, copy);
    let copy_branch = db.item(id).expect("read").expect("item").item.holding_branch;
    let mut trapped = placed.clone();
    trapped.trapped_item_id = Some(id);
    let (status, transits) = match shelf_until {
        Some(until) => {
            trapped.status = HoldStatus::OnShelf;
            trapped.pickup_by = Some(until);
            (ItemStatus::OnHoldShelf, vec![])
        }
        None => {
            trapped.status = HoldStatus::InTransit;
            let t = NewTransit {
                item_id: id,
                from_branch: copy_branch.clone(),
                to_branch: code(pickup),
                hold_id: Some(placed.id),
            };
            (ItemStatus::InTransit, vec![t])
        }
    };
    db.change_queue(bib, at(2, 9), &mut |_| {
        Some(QueueWrite {
            holds: vec![trapped.clone()],
            items: vec![ItemMove { item_id: id, status, holding_branch: copy_branch.clone() }],
            transits: transits.clone(),
        })
    })
    .expect("trap");
}

fn the_hold_shelf_of_a_branch_by_deadline(db: &dyn Database) {
    setup(db);
    let dune = record(db, "Dune", &[item("D1", "MAIN", "813 HER")]);
    let emma = record(db, "Emma", &[item("E1", "MAIN", "823 AUS")]);
    let kim = record(db, "Kim", &[item("K1", "EAST", "823 KIP")]);
    let waiting = record(db, "Waiting", &[item("W1", "MAIN", "100 WAI")]);
    trap(db, "P1", dune, "MAIN", "D1", Some(at(9, 22)));
    trap(db, "P2", emma, "MAIN", "E1", Some(at(5, 22)));
    trap(db, "P3", kim, "EAST", "K1", Some(at(4, 22)));
    // A waiting hold is not on any shelf.
    db.place_hold(
        &NewHold {
            card_number: "P3".into(),
            target: HoldTarget::Record(waiting),
            pickup_branch: code("MAIN"),
            not_needed_after: None,
        },
        at(1, 9),
        &mut |_| Some(HoldPlacement::default()),
    )
    .expect("place");

    let shelf = db.hold_shelf(&code("MAIN"), None, 10).expect("shelf");
    let seen: Vec<(&str, &str, &str, &str)> = shelf
        .iter()
        .map(|s| {
            (s.copy.item.item.barcode.as_str(), s.copy.title.as_str(), s.hold.card_number.as_str(), s.surname.as_str())
        })
        .collect();
    assert_eq!(seen, vec![("E1", "Emma", "P2", "Brontë"), ("D1", "Dune", "P1", "Austen")], "earliest deadline first");
    assert_eq!(shelf[0].hold.pickup_by, Some(at(5, 22)));
    assert_eq!(shelf[0].first_name, "P2");
    assert_eq!(shelf[1].copy.call_number.as_deref(), Some("813 HER"));
    assert_eq!(db.hold_shelf(&code("MAIN"), None, 1).expect("shelf").len(), 1, "bounded");

    // Lapsed: the deadline passed before the cut-off.
    let lapsed = db.hold_shelf(&code("MAIN"), Some(at(6, 0)), 10).expect("lapsed");
    assert_eq!(lapsed.iter().map(|s| s.copy.item.item.barcode.as_str()).collect::<Vec<_>>(), vec!["E1"]);
    assert!(db.hold_shelf(&code("MAIN"), Some(at(5, 22)), 10).expect("lapsed").is_empty(), "not before its deadline");
    let east = db.hold_shelf(&code("EAST"), Some(at(10, 0)), 10).expect("east");
    assert_eq!(east.iter().map(|s| s.hold.card_number.as_str()).collect::<Vec<_>>(), vec!["P3"]);
}

fn open_transits_each_way(db: &dyn Database) {
    setup(db);
    let dune = record(db, "Dune", &[item("D1", "EAST", "813 HER")]);
    let emma = record(db, "Emma", &[item("E1", "MAIN", "823 AUS")]);
    trap(db, "P1", dune, "MAIN", "D1", None);
    trap(db, "P2", emma, "EAST", "E1", None);

    let to_main = db.open_transits(&code("MAIN"), TransitWay::Receiving, 10).expect("receiving");
    assert_eq!(to_main.len(), 1);
    let t = &to_main[0];
    assert_eq!(
        (
            t.copy.item.item.barcode.as_str(),
            t.copy.title.as_str(),
            t.transit.from_branch.as_str(),
            t.card_number.as_deref()
        ),
        ("D1", "Dune", "EAST", Some("P1"))
    );
    assert_eq!(t.transit.sent_at, at(2, 9));
    let from_main = db.open_transits(&code("MAIN"), TransitWay::Sending, 10).expect("sending");
    assert_eq!(
        from_main.iter().map(|t| (t.copy.item.item.barcode.as_str(), t.transit.to_branch.as_str())).collect::<Vec<_>>(),
        vec![("E1", "EAST")]
    );
    assert!(db.open_transits(&code("MAIN"), TransitWay::Sending, 0).expect("none").is_empty(), "bounded");

    // Received (the copy moved again): no longer open.
    let e1 = item_id(db, "E1");
    db.change_queue(emma, at(3, 9), &mut |_| {
        Some(QueueWrite {
            holds: vec![],
            items: vec![ItemMove { item_id: e1, status: ItemStatus::OnHoldShelf, holding_branch: code("EAST") }],
            transits: vec![],
        })
    })
    .expect("receive");
    assert!(db.open_transits(&code("MAIN"), TransitWay::Sending, 10).expect("sending").is_empty());
    assert!(db.open_transits(&code("EAST"), TransitWay::Receiving, 10).expect("receiving").is_empty());
}

fn staged(number: i64, title: &str, marc: Option<&[u8]>, matched: Option<StagedMatch>) -> StagedRecord {
    StagedRecord {
        number,
        byte_offset: number * 100,
        title: title.into(),
        marc: marc.map(<[u8]>::to_vec),
        problem: if marc.is_none() { Some(format!("record {number}: bad leader")) } else { None },
        matched,
    }
}

fn a_staged_batch_is_applied_once(db: &dyn Database) {
    let dune = record(db, "Dune", &[]);
    let m = StagedMatch { bib_id: dune, identical: false, key: "ISBN 9780441013593".into(), title: "Dune".into() };
    let records = vec![
        staged(1, "Dune", Some(b"one"), Some(m.clone())),
        staged(2, "", None, None),
        staged(3, "Emma", Some(b"three"), None),
    ];
    let new = NewBatch {
        file_name: "vendor.mrc".into(),
        format: "iso2709".into(),
        staged_by: "cat".into(),
        staged_at: at(1, 9),
    };
    let batch = db.stage_batch(&new, &records).expect("stage");
    assert_eq!(
        (batch.records, batch.failed, batch.matched, batch.state, batch.staged_at, batch.on_match),
        (3, 1, 1, BatchState::Staged, at(1, 9), None)
    );
    assert_eq!(db.batch(batch.id).expect("read"), Some(batch.clone()));
    assert_eq!(db.staged_records(batch.id, 0, 10).expect("records"), records);
    assert_eq!(db.staged_records(batch.id, 1, 1).expect("page"), vec![records[1].clone()], "keyset paging");
    assert_eq!(db.staged_marc(batch.id).expect("marc"), vec![(1, b"one".to_vec()), (3, b"three".to_vec())]);

    let other =
        db.stage_batch(&NewBatch { file_name: "b.xml".into(), format: "marcxml".into(), ..new }, &[]).expect("stage");
    assert_eq!(db.batches(10).expect("list").iter().map(|b| b.id).collect::<Vec<_>>(), vec![other.id, batch.id]);
    assert_eq!(db.batches(1).expect("list").len(), 1);

    // The first request moves it; a second finds it taken.
    let applying = db.start_applying(batch.id, OnMatch::Replace, "cat", at(2, 9)).expect("start").expect("moved");
    assert_eq!(
        (applying.state, applying.on_match, applying.applied_by.as_deref()),
        (BatchState::Applying, Some(OnMatch::Replace), Some("cat"))
    );
    assert_eq!(db.start_applying(batch.id, OnMatch::Add, "cat", at(2, 9)).expect("start"), None);
    // A failed import puts it back; a finished one is applied for good.
    assert_eq!(db.finish_applying(batch.id, None).expect("failed").state, BatchState::Staged);
    // One the server stopped in the middle of is released only once it is older than asked:
    // never one still starting, never a staged or an applied one.
    db.start_applying(batch.id, OnMatch::Add, "cat", at(2, 9)).expect("start").expect("moved");
    assert!(!db.release_applying(batch.id, at(2, 9)).expect("not older"), "started at that very time");
    assert_eq!(db.batch(batch.id).expect("read").map(|b| b.state), Some(BatchState::Applying));
    assert!(db.release_applying(batch.id, at(2, 10)).expect("stale"));
    let released = db.batch(batch.id).expect("read").expect("batch");
    assert_eq!((released.state, released.on_match, released.applied_at), (BatchState::Staged, None, None));
    assert!(!db.release_applying(batch.id, at(2, 10)).expect("staged"), "a staged batch is not released");
    db.start_applying(batch.id, OnMatch::Skip, "cat", at(2, 10)).expect("start").expect("moved");
    let done = db.finish_applying(batch.id, Some("{\"added\":1}")).expect("done");
    assert_eq!(
        (done.state, done.on_match, done.result.as_deref()),
        (BatchState::Applied, Some(OnMatch::Skip), Some("{\"added\":1}"))
    );
    assert_eq!(done.applied_at, Some(at(2, 10)));
    assert_eq!(db.start_applying(batch.id, OnMatch::Add, "cat", at(3, 9)).expect("start"), None, "never twice");
    assert!(!db.release_applying(batch.id, at(9, 9)).expect("applied"), "an applied batch stays applied");
    assert!(matches!(db.start_applying(9999, OnMatch::Add, "cat", at(3, 9)), Err(StorageError::NotFound { .. })));
}
