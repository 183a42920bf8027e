//! HoldStore on every backend: placement contexts, the queue as one indexed read in order,
//! queue writes (holds, copies, transits) all or nothing, check-in and checkout reading the
//! queue and writing traps and transits, the nightly sweep's records, the pull list's copies.

mod common;

use catalog::{Barcode, Branch, Code, ItemStatus, ItemType, NewItem, ShelvingLocation};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use storage::holds::{
    HoldPlacement, HoldStatus, HoldTarget, ItemMove, NewHold, NewTransit, QueueWrite, StoredHold, TransitReason,
};
use storage::loans::{CheckinWrite, LoanWrite, OverrideEntry};
use storage::{BibId, Database, NewRecord, Patron, StorageError};

suite! {
    db: [placement_reads_its_context_and_queues_in_order, queue_writes_are_all_or_nothing,
         check_in_and_checkout_carry_the_queue, sweep_and_pull_candidates,
         an_emergency_closure_moves_what_it_is_told_all_or_nothing, holds_on_the_shelf_are_read_for_notices],
    harness: [],
}

fn code(s: &str) -> Code {
    Code::parse(s).expect("code")
}

fn barcode(s: &str) -> Barcode {
    Barcode::parse(s).expect("barcode")
}

fn at(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).single().expect("time")
}

fn item(bc: &str, branch: &str, call: &str) -> NewItem {
    NewItem {
        barcode: barcode(bc),
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

fn record(db: &dyn Database, name: &str, items: &[NewItem]) -> BibId {
    let bib = db
        .create_record(&NewRecord { marc: format!("{name}\x1d").into_bytes(), derived: Default::default(), row: None })
        .expect("record");
    for i in items {
        db.create_item(bib, i).expect("item");
    }
    bib
}

fn setup(db: &dyn Database) -> BibId {
    for b in ["MAIN", "EAST"] {
        db.upsert_branch(&Branch { code: code(b), name: b.into() }).expect("branch");
    }
    db.upsert_location(&ShelvingLocation { code: code("STACKS"), name: "Stacks".into() }).expect("loc");
    db.upsert_item_type(&ItemType { code: code("BK"), name: "Book".into(), loanable: true }).expect("type");
    for card in ["P1", "P2", "P3"] {
        db.upsert_patron(&Patron {
            card_number: card.into(),
            surname: "Reader".into(),
            first_name: card.into(),
            category: code("ADULT"),
            home_branch: code("MAIN"),
            expiry_date: "2030-01-01".into(),
            email: None,
        })
        .expect("patron");
    }
    record(db, "dune", &[item("D1", "MAIN", "813 HER"), item("D2", "EAST", "813 HER c.2")])
}

fn hold(card: &str, target: HoldTarget) -> NewHold {
    NewHold { card_number: card.into(), target, pickup_branch: code("MAIN"), not_needed_after: None }
}

fn place(db: &dyn Database, card: &str, bib: BibId, now: DateTime<Utc>) -> StoredHold {
    db.place_hold(&hold(card, HoldTarget::Record(bib)), now, &mut |_| Some(HoldPlacement::default()))
        .expect("place")
        .expect("placed")
}

fn item_id(db: &dyn Database, bc: &str) -> i64 {
    db.item_by_barcode(&barcode(bc)).expect("read").expect("item").id
}

fn placement_reads_its_context_and_queues_in_order(db: &dyn Database) {
    let dune = setup(db);
    let mut seen = Vec::new();
    let first = db
        .place_hold(&hold("P1", HoldTarget::Record(dune)), at(2, 15), &mut |ctx| {
            seen.push((ctx.holds_placed, ctx.already_holds_title, ctx.has_it_on_loan, ctx.item_types.clone()));
            Some(HoldPlacement::default())
        })
        .expect("place")
        .expect("placed");
    assert_eq!(seen, vec![(0, false, false, vec![code("BK")])]);
    assert_eq!(
        (first.status, first.queue_position, first.card_number.as_str(), first.placed_at, first.item_id),
        (HoldStatus::Waiting, 1, "P1", at(2, 15), None)
    );
    assert_eq!(first.patron_category, code("ADULT"));

    // Asked again, the context says so; a refusal writes nothing.
    let refused = db
        .place_hold(&hold("P1", HoldTarget::Record(dune)), at(2, 16), &mut |ctx| {
            assert!(ctx.already_holds_title);
            assert_eq!(ctx.holds_placed, 1);
            None
        })
        .expect("place");
    assert_eq!(refused, None);
    assert_eq!(db.record_holds(dune).expect("queue").len(), 1);

    // An item-level hold names its copy; the queue is in placement order.
    let second = db
        .place_hold(&hold("P2", HoldTarget::Item(barcode("D2"))), at(2, 17), &mut |ctx| {
            assert_eq!(ctx.item.as_ref().map(|i| i.item.barcode.as_str()), Some("D2"));
            // Past a refusal: the override is logged with the hold.
            Some(HoldPlacement {
                override_entry: Some(OverrideEntry {
                    staff: "boss".into(),
                    overridden: vec!["hold_limit_reached".into()],
                    reason: "book club set".into(),
                }),
            })
        })
        .expect("place")
        .expect("placed");
    assert_eq!((second.item_id, second.queue_position), (Some(item_id(db, "D2")), 2));
    let order: Vec<i64> = db.record_holds(dune).expect("queue").iter().map(|h| h.id).collect();
    assert_eq!(order, vec![first.id, second.id]);
    let p2 = db.patron_account("P2").expect("read").expect("patron");
    assert_eq!(db.patron_holds(p2.id).expect("holds"), vec![second.clone()]);
    assert_eq!(db.hold(second.id).expect("read"), Some(second));
    let log = db.override_log(storage::Page { after: 0, limit: 10 }).expect("override log");
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(
        (log[0].staff.as_str(), log[0].action.as_str(), log[0].reason.as_str(), log[0].card_number.as_deref()),
        ("boss", "hold", "book club set", Some("P2"))
    );
    assert_eq!((log[0].overridden.clone(), log[0].at), (vec!["hold_limit_reached".to_string()], at(2, 17)));

    // Unknown card, record, copy and branch are named.
    let missing = |h: NewHold| match db.place_hold(&h, at(2, 18), &mut |_| Some(HoldPlacement::default())) {
        Err(StorageError::NotFound { what, .. }) => what,
        other => panic!("expected not found, got {other:?}"),
    };
    assert_eq!(missing(hold("NOPE", HoldTarget::Record(dune))), "patron card");
    assert_eq!(missing(hold("P3", HoldTarget::Record(dune + 100))), "record");
    assert_eq!(missing(hold("P3", HoldTarget::Item(barcode("ZZZ")))), "item");
    assert_eq!(missing(NewHold { pickup_branch: code("WEST"), ..hold("P3", HoldTarget::Record(dune)) }), "branch");
}

fn queue_writes_are_all_or_nothing(db: &dyn Database) {
    let dune = setup(db);
    let p1 = place(db, "P1", dune, at(2, 15));
    let p2 = place(db, "P2", dune, at(2, 16));
    let d1 = item_id(db, "D1");

    // Trap D1 for P2, send it to EAST, and move P2 first: one write.
    let mut trapped = p2.clone();
    trapped.status = HoldStatus::InTransit;
    trapped.trapped_item_id = Some(d1);
    trapped.queue_position = 1;
    let mut second = p1.clone();
    second.queue_position = 2;
    let after = db
        .change_queue(dune, at(3, 9), &mut |ctx| {
            assert_eq!(ctx.holds.iter().map(|h| h.id).collect::<Vec<_>>(), vec![p1.id, p2.id]);
            assert!(ctx.trapped_items.is_empty());
            Some(QueueWrite {
                holds: vec![trapped.clone(), second.clone()],
                items: vec![ItemMove { item_id: d1, status: ItemStatus::InTransit, holding_branch: code("MAIN") }],
                transits: vec![NewTransit {
                    item_id: d1,
                    from_branch: code("MAIN"),
                    to_branch: code("EAST"),
                    hold_id: Some(p2.id),
                }],
            })
        })
        .expect("write")
        .expect("written");
    assert_eq!(after.holds, vec![trapped.clone(), second.clone()]);
    let d1_now = db.item(d1).expect("read").expect("item");
    assert_eq!(d1_now.item.status, ItemStatus::InTransit);
    let transits = db.transits(d1).expect("transits");
    assert_eq!(transits.len(), 1);
    assert_eq!(
        (transits[0].reason, transits[0].sent_at, transits[0].received_at),
        (TransitReason::Hold, at(3, 9), None)
    );

    // The next queue read carries the trapped copy. A write that fails half-way (a transit to
    // a branch that does not exist) leaves nothing: the hold is not cancelled either.
    let mut cancelled = p1.clone();
    cancelled.status = HoldStatus::Cancelled;
    cancelled.finished_at = Some(at(3, 10));
    let d2 = item_id(db, "D2");
    let failed = db.change_queue(dune, at(3, 10), &mut |ctx| {
        assert_eq!(ctx.trapped_items.iter().map(|i| i.id).collect::<Vec<_>>(), vec![d1]);
        Some(QueueWrite {
            holds: vec![cancelled.clone()],
            items: vec![],
            transits: vec![NewTransit {
                item_id: d2,
                from_branch: code("EAST"),
                to_branch: code("WEST"),
                hold_id: None,
            }],
        })
    });
    assert!(failed.is_err());
    assert_eq!(db.record_holds(dune).expect("queue"), vec![trapped, second]);
    // Deciding nothing writes nothing.
    assert_eq!(db.change_queue(dune, at(3, 11), &mut |_| None).expect("no write"), None);
}

fn check_in_and_checkout_carry_the_queue(db: &dyn Database) {
    let dune = setup(db);
    let p1 = place(db, "P1", dune, at(2, 15));
    let d1 = item_id(db, "D1");
    // D1 was sent home from EAST: an open transit.
    db.change_queue(dune, at(2, 16), &mut |_| {
        Some(QueueWrite {
            holds: vec![],
            items: vec![ItemMove { item_id: d1, status: ItemStatus::InTransit, holding_branch: code("EAST") }],
            transits: vec![NewTransit {
                item_id: d1,
                from_branch: code("EAST"),
                to_branch: code("MAIN"),
                hold_id: None,
            }],
        })
    })
    .expect("write");

    // Checked in at MAIN: the context has the queue and the transit; the write traps it for P1.
    let mut on_shelf = p1.clone();
    on_shelf.status = HoldStatus::OnShelf;
    on_shelf.trapped_item_id = Some(d1);
    on_shelf.pickup_by = Some(at(9, 23));
    let done = db
        .check_in(&barcode("D1"), at(3, 9), &mut |ctx| {
            assert_eq!(ctx.holds, vec![p1.clone()]);
            assert_eq!(
                ctx.transit.as_ref().map(|t| (t.to_branch.as_str(), t.reason)),
                Some(("MAIN", TransitReason::Home))
            );
            Some(CheckinWrite {
                return_branch: code("MAIN"),
                returned_at: at(3, 9),
                overdue_charge: catalog::Money::ZERO,
                status: ItemStatus::OnHoldShelf,
                holding_branch: code("MAIN"),
                holds: vec![on_shelf.clone()],
                transit: None,
                found: None,
            })
        })
        .expect("check in");
    assert!(done);
    assert_eq!(db.transits(d1).expect("transits")[0].received_at, Some(at(3, 9)));
    assert_eq!(db.record_holds(dune).expect("queue"), vec![on_shelf.clone()]);

    // Checkout reads the queue under the copy's lock and fills the hold in the same write.
    let mut filled = on_shelf.clone();
    filled.status = HoldStatus::Filled;
    filled.pickup_by = None;
    filled.finished_at = Some(at(4, 10));
    let loan = db
        .checkout("P1", &barcode("D1"), at(4, 10), &mut |ctx| {
            assert_eq!(ctx.holds, vec![on_shelf.clone()]);
            Some(LoanWrite {
                checkout_branch: code("MAIN"),
                due_at: at(18, 23),
                override_entry: None,
                holds: vec![filled.clone()],
            })
        })
        .expect("checkout");
    assert!(loan.is_some());
    assert!(db.record_holds(dune).expect("queue").is_empty());
    assert_eq!(db.hold(p1.id).expect("read"), Some(filled));
    // Renewal sees the (now empty) queue.
    db.renew(&barcode("D1"), at(5, 10), &mut |ctx| {
        assert!(ctx.holds.is_empty());
        None
    })
    .expect("renew");
}

fn sweep_and_pull_candidates(db: &dyn Database) {
    let dune = setup(db);
    let later = record(db, "atlas", &[item("A1", "MAIN", "912 ATL"), item("A2", "MAIN", "001 ATL")]);
    let _quiet = record(db, "quiet", &[item("Q1", "MAIN", "100 QUI")]);
    let p1 = place(db, "P1", dune, at(2, 15));
    let wanted = db
        .place_hold(
            &NewHold {
                not_needed_after: NaiveDate::from_ymd_opt(2026, 3, 10),
                ..hold("P2", HoldTarget::Record(later))
            },
            at(2, 15),
            &mut |_| Some(HoldPlacement::default()),
        )
        .expect("place")
        .expect("placed");
    assert_eq!(wanted.not_needed_after, NaiveDate::from_ymd_opt(2026, 3, 10));

    // The records with holds and a copy on MAIN's shelf (the quiet title has no hold): their
    // copies on every branch's shelf (D2 is at EAST), in shelf order, and their holds.
    let (items, holds) = db.pull_candidates(&code("MAIN")).expect("pull");
    let barcodes: Vec<&str> = items.iter().map(|i| i.item.item.barcode.as_str()).collect();
    assert_eq!(barcodes, vec!["A2", "D1", "D2", "A1"]);
    let mut ids: Vec<i64> = holds.iter().map(|h| h.id).collect();
    ids.sort_unstable();
    assert_eq!(ids, vec![p1.id, wanted.id]);

    // On the shelf until the 9th: the sweep finds it after, and the unwanted hold after the 10th.
    let d1 = item_id(db, "D1");
    let mut on_shelf = p1.clone();
    on_shelf.status = HoldStatus::OnShelf;
    on_shelf.trapped_item_id = Some(d1);
    on_shelf.pickup_by = Some(at(9, 23));
    db.change_queue(dune, at(3, 9), &mut |_| {
        Some(QueueWrite {
            holds: vec![on_shelf.clone()],
            items: vec![ItemMove { item_id: d1, status: ItemStatus::OnHoldShelf, holding_branch: code("MAIN") }],
            transits: vec![],
        })
    })
    .expect("write");
    let day = |d| NaiveDate::from_ymd_opt(2026, 3, d).expect("day");
    assert!(db.records_with_expiring_holds(at(9, 22), day(9)).expect("sweep").is_empty());
    assert_eq!(db.records_with_expiring_holds(at(10, 1), day(10)).expect("sweep"), vec![dune]);
    let mut both = vec![dune, later];
    both.sort_unstable();
    assert_eq!(db.records_with_expiring_holds(at(11, 1), day(11)).expect("sweep"), both);
    // The trapped copy is off the pull list.
    let (items, _) = db.pull_candidates(&code("MAIN")).expect("pull");
    assert_eq!(items.iter().map(|i| i.item.item.barcode.as_str()).collect::<Vec<_>>(), vec!["A2", "A1"]);
}

/// A closure reads the branch's open loans due in the window and its hold-shelf deadlines,
/// writes the moves it is given, and stores the day; a second closure of the day, or an
/// unknown branch in the list, refuses the whole declaration.
fn an_emergency_closure_moves_what_it_is_told_all_or_nothing(db: &dyn Database) {
    use storage::closures::{Closure, ClosureWrite};
    let dune = setup(db);
    let p1 = place(db, "P1", dune, at(2, 15));
    let (d1, d2) = (item_id(db, "D1"), item_id(db, "D2"));
    let mut on_shelf = p1.clone();
    on_shelf.status = HoldStatus::OnShelf;
    on_shelf.trapped_item_id = Some(d1);
    on_shelf.pickup_by = Some(at(12, 23));
    db.change_queue(dune, at(3, 9), &mut |_| {
        Some(QueueWrite {
            holds: vec![on_shelf.clone()],
            items: vec![ItemMove { item_id: d1, status: ItemStatus::OnHoldShelf, holding_branch: code("MAIN") }],
            transits: vec![],
        })
    })
    .expect("trap");
    let lend = |bc: &str, due: DateTime<Utc>| {
        db.checkout("P2", &barcode(bc), at(2, 10), &mut |_| {
            Some(LoanWrite { checkout_branch: code("MAIN"), due_at: due, override_entry: None, holds: vec![] })
        })
        .expect("checkout")
        .expect("loan")
    };
    let due_in_window = lend("D2", at(10, 23));
    // The copy's open loan is found from the copy (a kiosk's item information shows its due date).
    assert_eq!(db.open_loan_of_item(d2).expect("read").map(|l| l.id), Some(due_in_window.id));
    assert_eq!(db.open_loan_of_item(d1).expect("read"), None);
    let closure = |branch: &str| Closure {
        branch: code(branch),
        day: NaiveDate::from_ymd_opt(2026, 3, 10).expect("day"),
        reason: "burst pipe".into(),
        declared_by: Some("boss".into()),
        declared_at: at(9, 8),
    };
    let window = (at(10, 0), at(11, 0));

    // An unknown branch after a good one: nothing is stored or moved.
    let refused = db.declare_closures(&[closure("MAIN"), closure("NOWHERE")], window, &mut |_, _| ClosureWrite {
        loans: vec![(due_in_window.id, at(11, 23))],
        shelf_holds: vec![],
    });
    assert!(matches!(refused, Err(StorageError::NotFound { .. })), "{refused:?}");
    assert!(db.closures().expect("closures").is_empty());

    let mut seen = Vec::new();
    let written = db
        .declare_closures(&[closure("MAIN"), closure("EAST")], window, &mut |c, ctx| {
            seen.push((c.branch.to_string(), ctx.loans.clone(), ctx.shelf_holds.clone()));
            if c.branch.as_str() == "MAIN" {
                ClosureWrite { loans: vec![(due_in_window.id, at(11, 23))], shelf_holds: vec![(p1.id, at(13, 23))] }
            } else {
                ClosureWrite::default()
            }
        })
        .expect("declare");
    assert_eq!(
        seen,
        vec![
            ("MAIN".to_string(), vec![(due_in_window.id, at(10, 23))], vec![(p1.id, at(12, 23))]),
            ("EAST".to_string(), vec![], vec![]),
        ]
    );
    assert_eq!(written.len(), 2);
    let loans = db.open_loans(due_in_window.patron_id).expect("loans");
    assert_eq!(loans.iter().map(|l| (l.item_id, l.due_at)).collect::<Vec<_>>(), vec![(d2, at(11, 23))]);
    assert_eq!(db.hold(p1.id).expect("hold").and_then(|h| h.pickup_by), Some(at(13, 23)));
    let stored = db.closures().expect("closures");
    assert_eq!(
        stored.iter().map(|c| (c.branch.as_str(), c.day.to_string(), c.declared_by.as_deref())).collect::<Vec<_>>(),
        vec![("EAST", "2026-03-10".to_string(), Some("boss")), ("MAIN", "2026-03-10".to_string(), Some("boss"))]
    );
    assert_eq!(stored[0].declared_at, at(9, 8));

    // The same day again at MAIN: refused, and nothing moves a second time.
    let again = db.declare_closures(&[closure("MAIN")], window, &mut |_, _| ClosureWrite {
        loans: vec![(due_in_window.id, at(12, 23))],
        shelf_holds: vec![],
    });
    assert!(matches!(again, Err(StorageError::Conflict { .. })), "{again:?}");
    assert_eq!(db.open_loans(due_in_window.patron_id).expect("loans")[0].due_at, at(11, 23));
}

/// The hold notices job reads the holds waiting on a shelf, with the notice kinds already sent
/// for the current pickup deadline.
fn holds_on_the_shelf_are_read_for_notices(db: &dyn Database) {
    use storage::notices::{due_occasion, NewNotice, NoticeKey};
    let dune = setup(db);
    let p1 = place(db, "P1", dune, at(2, 15));
    place(db, "P2", dune, at(2, 16));
    let d1 = item_id(db, "D1");
    let mut on_shelf = p1.clone();
    on_shelf.status = HoldStatus::OnShelf;
    on_shelf.trapped_item_id = Some(d1);
    on_shelf.pickup_by = Some(at(12, 23));
    db.change_queue(dune, at(3, 9), &mut |_| {
        Some(QueueWrite {
            holds: vec![on_shelf.clone()],
            items: vec![ItemMove { item_id: d1, status: ItemStatus::OnHoldShelf, holding_branch: code("MAIN") }],
            transits: vec![],
        })
    })
    .expect("trap");

    let due = db.holds_on_shelf_for_notices(at(2, 0), 0, 10).expect("read");
    assert_eq!(due.len(), 1, "only the hold on the shelf: {due:?}");
    let h = &due[0];
    assert_eq!((h.hold_id, h.item_id, h.barcode.as_str()), (p1.id, d1, "D1"));
    assert_eq!((h.pickup_branch.as_str(), h.pickup_by, h.patron.card_number.as_str()), ("MAIN", at(12, 23), "P1"));
    assert!(h.sent.is_empty());
    assert!(db.holds_on_shelf_for_notices(at(2, 0), p1.id, 10).expect("read").is_empty(), "keyset paging");

    let key = NoticeKey {
        patron_id: p1.patron_id,
        kind: "hold_ready".into(),
        subject: format!("hold:{}", p1.id),
        occasion: due_occasion(at(12, 23)),
    };
    db.record_notice(&[key], at(3, 10), &mut |_| {
        Some(NewNotice {
            patron_id: p1.patron_id,
            kind: "hold_ready".into(),
            channel: "print".into(),
            recipient: None,
            subject: "ready".into(),
            body: "ready".into(),
            day: NaiveDate::from_ymd_opt(2026, 3, 3).expect("day"),
        })
    })
    .expect("notice");
    // Told it is ready: left out until its deadline comes inside the expiring window, then
    // read with what was sent.
    assert!(db.holds_on_shelf_for_notices(at(2, 0), 0, 10).expect("read").is_empty());
    let expiring = db.holds_on_shelf_for_notices(at(13, 0), 0, 10).expect("read");
    assert_eq!(
        expiring.iter().map(|h| (h.hold_id, h.sent.clone())).collect::<Vec<_>>(),
        vec![(p1.id, vec!["hold_ready".to_string()])]
    );
}
