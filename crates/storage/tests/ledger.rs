//! The patron ledger, lost and claimed-returned loans, damage inspections and the repair queue,
//! on every backend: what storage appends is what the pure ledger posted, the balance column is
//! always the sum of the rows, a refused operation writes nothing, and two desks paying the same
//! charge at once cannot both apply to it.

mod common;

use catalog::{Barcode, Branch, Code, ItemStatus, ItemType, Money, NewItem};
use chrono::{DateTime, Duration, Utc};
use circulation::{
    Actor, Apply, ChargeKind, EntryId, EntryKind, FoundPolicy, Ledger, LedgerError, PaymentMethod, Posting, StaffId,
};
use proptest::prelude::*;
use storage::ledger::{Account, Condition, LedgerRefusal, NewInspection, Stop, StopKind};
use storage::loans::{CheckinWrite, LoanWrite};
use storage::{Database, NewRecord, Patron};

suite! {
    db: [
        charges_and_payments_oldest_first_or_picked,
        refused_operations_write_nothing,
        overpayment_kept_as_credit_is_paid_out,
        random_sequences_keep_balance_equal_to_the_entries,
        concurrent_payments_against_one_charge,
        lost_loan_stops_once_and_is_reversed_when_found,
        claims_returned_are_counted,
        inspection_charges_the_last_borrower_and_queues_the_repair,
    ],
    harness: [],
}

fn code(s: &str) -> Code {
    Code::parse(s).expect("code")
}

fn barcode(s: &str) -> Barcode {
    Barcode::parse(s).expect("barcode")
}

fn money(minor: i64) -> Money {
    Money::from_minor(minor)
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("time").with_timezone(&Utc)
}

const CLERK: Actor = Actor::Staff(StaffId(7));

fn library(db: &dyn Database, cards: &[&str]) {
    db.upsert_branch(&Branch { code: code("MAIN"), name: "Main".into() }).expect("branch");
    db.upsert_branch(&Branch { code: code("EAST"), name: "East".into() }).expect("branch");
    db.upsert_item_type(&ItemType { code: code("BK"), name: "Book".into(), loanable: true }).expect("type");
    for card in cards {
        register(db, card);
    }
    let bib = db
        .create_record(&NewRecord { marc: b"ledger\x1d".to_vec(), derived: Default::default(), row: None })
        .expect("record");
    for bc in ["I1", "I2", "I3"] {
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
                price: Some(money(2500)),
                public_note: None,
                staff_note: None,
                materials_specified: None,
                status: ItemStatus::Available,
                acquired_on: None,
            },
        )
        .expect("item");
    }
}

fn register(db: &dyn Database, card: &str) {
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

fn posting(now: DateTime<Utc>, note: &str) -> Posting {
    Posting { at: now, by: CLERK, note: note.to_string() }
}

/// Posts through storage; panics on a storage error, returns the ledger's refusal.
fn post(
    db: &dyn Database,
    card: &str,
    now: DateTime<Utc>,
    mut f: impl FnMut(&Account, &mut Ledger) -> Result<(), LedgerRefusal>,
) -> Result<Account, LedgerRefusal> {
    db.post_to_account(card, now, None, &mut |a, l| f(a, l)).expect("storage")
}

fn account(db: &dyn Database, card: &str) -> Account {
    db.account(card).expect("read").expect("patron")
}

/// The invariants that must hold of any stored account: the balance column equals the sum of
/// the entries and the pure ledger's balance, and no charge has more applied than its amount.
fn check_account(db: &dyn Database, card: &str) -> Account {
    let a = account(db, card);
    let sum: i64 = a.ledger.entries().iter().map(|e| e.signed_amount().minor()).sum();
    assert_eq!(a.patron.balance.minor(), sum, "balance column = sum of entries");
    assert_eq!(a.ledger.balance().minor(), sum, "ledger balance = sum of entries");
    let column = db.patron_account(card).expect("read").expect("patron").balance;
    assert_eq!(column, a.patron.balance);
    for e in a.ledger.entries() {
        if let EntryKind::Charge { amount, .. } = &e.kind {
            let applied: i64 = a
                .ledger
                .entries()
                .iter()
                .filter_map(|c| match &c.kind {
                    EntryKind::Credit { applied, .. } => Some(applied),
                    _ => None,
                })
                .flatten()
                .filter(|x| x.charge == e.id)
                .map(|x| x.amount.minor())
                .sum();
            assert!(applied <= amount.minor(), "charge {:?} over-paid: {applied} > {amount}", e.id);
            assert_eq!(a.ledger.outstanding(e.id), Some(money(amount.minor() - applied)));
        }
    }
    a
}

fn charges_and_payments_oldest_first_or_picked(db: &dyn Database) {
    library(db, &["P1"]);
    let t = at("2026-11-02T15:00:00Z");
    for (i, (kind, amount)) in
        [(ChargeKind::Overdue, 150), (ChargeKind::Printing, 40), (ChargeKind::Other, 1000)].into_iter().enumerate()
    {
        post(db, "P1", t + Duration::minutes(i as i64), |_, l| {
            l.post_charge(posting(t + Duration::minutes(i as i64), "desk"), kind, money(amount), None)?;
            Ok(())
        })
        .expect("charge");
    }
    let a = check_account(db, "P1");
    assert_eq!(a.patron.balance, money(1190));
    let rows: Vec<i64> = a.rows.iter().map(|r| r.id).collect();
    // 1.70 oldest first: the overdue paid off, 0.20 of the printing.
    let t2 = t + Duration::hours(1);
    let a = post(db, "P1", t2, |_, l| {
        l.pay(posting(t2, ""), PaymentMethod::Cash, money(170), Apply::OldestFirst)?;
        Ok(())
    })
    .expect("pay");
    assert_eq!(a.ledger.outstanding(EntryId(0)), Some(Money::ZERO));
    assert_eq!(a.ledger.outstanding(EntryId(1)), Some(money(20)));
    // The clerk picks the manual charge (by its row, as the API names it).
    let a = post(db, "P1", t2, |acct, l| {
        let picked = acct.entry_id(rows[2]).ok_or(LedgerRefusal::UnknownCharge(rows[2]))?;
        l.pay(posting(t2, ""), PaymentMethod::Card, money(600), Apply::Charges(vec![picked]))?;
        Ok(())
    })
    .expect("pay picked");
    assert_eq!(a.ledger.outstanding(EntryId(2)), Some(money(400)));
    assert_eq!(a.ledger.outstanding(EntryId(1)), Some(money(20)));
    // Read back: the same ledger, with who, when, why, method and allocations.
    let back = check_account(db, "P1");
    assert_eq!(back.ledger, a.ledger);
    assert_eq!(back.patron.balance, money(420));
    assert_eq!(back.ledger.entries()[0].by, CLERK);
    assert!(matches!(
        back.ledger.entries()[4].kind,
        EntryKind::Credit { kind: circulation::CreditKind::Payment(PaymentMethod::Card), .. }
    ));
}

fn refused_operations_write_nothing(db: &dyn Database) {
    library(db, &["P1"]);
    let t = at("2026-11-02T15:00:00Z");
    post(db, "P1", t, |_, l| {
        l.post_charge(posting(t, "lost card"), ChargeKind::CardReplacement, money(300), None)?;
        Ok(())
    })
    .expect("charge");
    let before = check_account(db, "P1");
    assert_eq!(
        post(db, "P1", t, |_, l| {
            l.pay(posting(t, ""), PaymentMethod::Cash, money(301), Apply::OldestFirst)?;
            Ok(())
        }),
        Err(LedgerRefusal::Ledger(LedgerError::ExceedsOutstanding { amount: money(301), outstanding: money(300) }))
    );
    assert_eq!(
        post(db, "P1", t, |_, l| {
            l.waive(posting(t, "  "), money(100), Apply::OldestFirst)?;
            Ok(())
        }),
        Err(LedgerRefusal::Ledger(LedgerError::ReasonRequired))
    );
    // A closure that posts and then refuses: the posted entry is not written either.
    assert_eq!(
        post(db, "P1", t, |_, l| {
            l.post_charge(posting(t, "printing"), ChargeKind::Printing, money(10), None)?;
            Err(LedgerRefusal::UnknownCharge(999))
        }),
        Err(LedgerRefusal::UnknownCharge(999))
    );
    assert_eq!(check_account(db, "P1"), before);
    assert!(matches!(
        db.post_to_account("NOBODY", t, None, &mut |_, _| Ok(())),
        Err(storage::StorageError::NotFound { .. })
    ));
}

fn overpayment_kept_as_credit_is_paid_out(db: &dyn Database) {
    library(db, &["P1"]);
    let t = at("2026-11-02T15:00:00Z");
    post(db, "P1", t, |_, l| {
        l.post_charge(posting(t, "overdue"), ChargeKind::Overdue, money(250), None)?;
        l.pay_keeping_credit(posting(t, ""), PaymentMethod::Cash, money(1000), Apply::OldestFirst)?;
        Ok(())
    })
    .expect("pay");
    let a = check_account(db, "P1");
    assert_eq!((a.patron.balance, a.ledger.credit()), (money(-750), money(750)));
    assert_eq!(a.rows.len(), 3, "charge, payment of 2.50, deposit of 7.50");
    post(db, "P1", t, |_, l| {
        l.payout(posting(t, "change"), PaymentMethod::Cash, money(750))?;
        Ok(())
    })
    .expect("payout");
    assert_eq!(check_account(db, "P1").patron.balance, Money::ZERO);
}

#[derive(Debug, Clone)]
enum Op {
    Charge(usize, i64),
    PayOldest(i64),
    PayPicked(Vec<usize>, i64),
    PayKeepingCredit(i64),
    Waive(i64),
    WriteOff(Vec<usize>, i64),
    Refund(usize, i64),
    Payout(i64),
}

fn op() -> impl Strategy<Value = Op> {
    let amount = 1i64..3000;
    let picks = proptest::collection::vec(0usize..10, 1..3);
    prop_oneof![
        3 => (0usize..8, amount.clone()).prop_map(|(k, a)| Op::Charge(k, a)),
        2 => amount.clone().prop_map(Op::PayOldest),
        1 => (picks.clone(), amount.clone()).prop_map(|(p, a)| Op::PayPicked(p, a)),
        1 => amount.clone().prop_map(Op::PayKeepingCredit),
        1 => amount.clone().prop_map(Op::Waive),
        1 => (picks, amount.clone()).prop_map(|(p, a)| Op::WriteOff(p, a)),
        1 => (0usize..10, amount.clone()).prop_map(|(c, a)| Op::Refund(c, a)),
        1 => amount.prop_map(Op::Payout),
    ]
}

/// Applies `op` to a ledger; `rows` is the account's rows (picked charges are named by row, as
/// the API does, and mapped back through the account).
fn apply(
    op: &Op,
    l: &mut Ledger,
    rows: &[i64],
    account: Option<&Account>,
    now: DateTime<Utc>,
) -> Result<(), LedgerRefusal> {
    let p = posting(now, "reason");
    let entry = |i: usize| -> Result<EntryId, LedgerRefusal> {
        let row = rows.get(i).copied().unwrap_or(-1);
        match account {
            Some(a) => a.entry_id(row).ok_or(LedgerRefusal::UnknownCharge(row)),
            None => {
                rows.iter().position(|r| *r == row).map(|i| EntryId(i as u32)).ok_or(LedgerRefusal::UnknownCharge(row))
            }
        }
    };
    let picked = |ps: &[usize]| -> Result<Apply, LedgerRefusal> {
        Ok(Apply::Charges(ps.iter().map(|i| entry(*i)).collect::<Result<_, _>>()?))
    };
    match op {
        Op::Charge(k, a) => l.post_charge(p, ChargeKind::ALL[*k], money(*a), None).map(drop)?,
        Op::PayOldest(a) => l.pay(p, PaymentMethod::Cash, money(*a), Apply::OldestFirst).map(drop)?,
        Op::PayPicked(ps, a) => l.pay(p, PaymentMethod::Card, money(*a), picked(ps)?).map(drop)?,
        Op::PayKeepingCredit(a) => {
            l.pay_keeping_credit(p, PaymentMethod::Card, money(*a), Apply::OldestFirst).map(drop)?
        }
        Op::Waive(a) => l.waive(p, money(*a), Apply::OldestFirst).map(drop)?,
        Op::WriteOff(ps, a) => l.write_off(p, money(*a), picked(ps)?).map(drop)?,
        Op::Refund(c, a) => l.refund(p, entry(*c)?, money(*a)).map(drop)?,
        Op::Payout(a) => l.payout(p, PaymentMethod::Cash, money(*a)).map(drop)?,
    }
    Ok(())
}

/// Random sequences of charges, payments, waivers, write-offs, refunds and payouts through
/// storage, each its own transaction, against the pure ledger run alongside: after every step
/// the stored account is the model's, its balance column is the sum of its rows, and no charge
/// is over-paid; a refused step writes nothing.
fn random_sequences_keep_balance_equal_to_the_entries(db: &dyn Database) {
    library(db, &[]);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig { cases: 12, ..ProptestConfig::default() });
    let case = std::cell::Cell::new(0u32);
    runner
        .run(&proptest::collection::vec(op(), 1..30), |ops| {
            case.set(case.get() + 1);
            let card = format!("PROP{}", case.get());
            register(db, &card);
            let mut model = Ledger::new();
            let t0 = at("2026-11-02T15:00:00Z");
            for (i, op) in ops.iter().enumerate() {
                let now = t0 + Duration::minutes(i as i64);
                let stored_before = account(db, &card);
                let rows: Vec<i64> = stored_before.rows.iter().map(|r| r.id).collect();
                let mut next = model.clone();
                let expected = apply(op, &mut next, &rows, None, now);
                let result = post(db, &card, now, |a, l| apply(op, l, &rows, Some(a), now));
                prop_assert_eq!(result.is_ok(), expected.is_ok(), "{:?}: {:?} vs {:?}", op, result, expected);
                if expected.is_ok() {
                    model = next;
                }
                let stored = check_account(db, &card);
                prop_assert_eq!(&stored.ledger, &model);
                if result.is_err() {
                    prop_assert_eq!(&stored, &stored_before);
                }
            }
            Ok(())
        })
        .expect("property");
}

/// Eight desks pay 5.00 each against the same 10.00 charge at once: exactly two succeed, the
/// charge is paid exactly once over, and the balance is zero.
fn concurrent_payments_against_one_charge(db: &dyn Database) {
    library(db, &["P1"]);
    let t = at("2026-11-02T15:00:00Z");
    let a = post(db, "P1", t, |_, l| {
        l.post_charge(posting(t, "lost card"), ChargeKind::CardReplacement, money(1000), None)?;
        Ok(())
    })
    .expect("charge");
    let charge_row = a.rows[0].id;
    let results: Vec<Result<Account, LedgerRefusal>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(move || {
                    db.post_to_account("P1", t, None, &mut |a, l| {
                        let c = a.entry_id(charge_row).ok_or(LedgerRefusal::UnknownCharge(charge_row))?;
                        l.pay(posting(t, ""), PaymentMethod::Card, money(500), Apply::Charges(vec![c]))?;
                        Ok(())
                    })
                    .expect("storage")
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 2);
    assert!(results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .all(|e| matches!(e, LedgerRefusal::Ledger(LedgerError::ExceedsOutstanding { .. }))));
    let a = check_account(db, "P1");
    assert_eq!((a.patron.balance, a.ledger.outstanding(EntryId(0))), (Money::ZERO, Some(Money::ZERO)));
    assert_eq!(a.rows.len(), 3);
}

fn lend(db: &dyn Database, card: &str, bc: &str, now: DateTime<Utc>, due: DateTime<Utc>) -> storage::loans::Loan {
    db.checkout(card, &barcode(bc), now, &mut |_| {
        Some(LoanWrite { checkout_branch: code("MAIN"), due_at: due, override_entry: None, holds: Vec::new() })
    })
    .expect("checkout")
    .expect("loan")
}

fn give_back(db: &dyn Database, bc: &str, now: DateTime<Utc>, found: Option<FoundPolicy>) {
    let wrote = db
        .check_in(&barcode(bc), now, &mut |_| {
            Some(CheckinWrite {
                return_branch: code("MAIN"),
                returned_at: now,
                overdue_charge: Money::ZERO,
                status: ItemStatus::Available,
                holding_branch: code("MAIN"),
                holds: Vec::new(),
                transit: None,
                found,
            })
        })
        .expect("check in");
    assert!(wrote);
}

fn lost_loan_stops_once_and_is_reversed_when_found(db: &dyn Database) {
    library(db, &["P1"]);
    let out = at("2026-09-01T15:00:00Z");
    let due = at("2026-09-15T23:59:00Z");
    let loan = lend(db, "P1", "I1", out, due);
    lend(db, "P1", "I2", out, at("2026-12-15T23:59:00Z"));
    let day = at("2026-11-20T08:00:00Z");
    // Only the overdue loan whose copy is still on loan is a candidate.
    let candidates = db.lost_candidates(day).expect("candidates");
    assert_eq!(candidates.iter().map(|c| c.loan.id).collect::<Vec<_>>(), vec![loan.id]);
    assert_eq!(candidates[0].item.item.barcode.as_str(), "I1");
    let stop = Stop { kind: StopKind::Lost, by: Actor::System, note: "lost after 60 days".into() };
    let declare = |ctx: &storage::ledger::StopContext, l: &mut Ledger| -> Result<bool, LedgerRefusal> {
        assert_eq!((ctx.loan.id, ctx.already_charged), (loan.id, Money::ZERO));
        let p = Posting { at: day, by: Actor::System, note: "lost after 60 days".into() };
        let item = Some(circulation::ItemId(ctx.item.id));
        l.post_charge(p.clone(), ChargeKind::Overdue, money(500), item)?;
        l.post_charge(p.clone(), ChargeKind::Lost, money(2500), item)?;
        l.post_charge(p, ChargeKind::Processing, money(500), item)?;
        Ok(true)
    };
    // "Not yet" writes nothing.
    assert_eq!(db.stop_loan(&barcode("I1"), &stop, day, &mut |_, _| Ok(false)).expect("stop"), Ok(None));
    let stopped = db
        .stop_loan(&barcode("I1"), &stop, day, &mut |c, l| declare(c, l))
        .expect("stop")
        .expect("ok")
        .expect("stopped");
    assert_eq!((stopped.kind, stopped.entries.len()), (StopKind::Lost, 3));
    let item = db.item_by_barcode(&barcode("I1")).expect("read").expect("I1");
    assert_eq!(item.item.status, ItemStatus::Lost);
    assert_eq!(check_account(db, "P1").patron.balance, money(3500));
    // Twice: refused, nothing written; and no longer a candidate.
    let again = db.stop_loan(&barcode("I1"), &stop, day, &mut |c, l| declare(c, l)).expect("stop");
    assert_eq!(again, Err(LedgerRefusal::AlreadyStopped { barcode: "I1".into(), kind: StopKind::Lost }));
    assert!(db.lost_candidates(day).expect("candidates").is_empty());
    assert_eq!(check_account(db, "P1").rows.len(), 3);
    // The overdue posted at the stop is what check-in sees as already charged.
    let mut seen = None;
    db.check_in(&barcode("I1"), day, &mut |c| {
        seen = Some(c.already_charged);
        None
    })
    .expect("look");
    assert_eq!(seen, Some(money(500)));
    // 10.00 paid towards it, then it turns up: the replacement is reversed (15.00 waived, the
    // 10.00 paid refunded); the overdue and the processing fee stay.
    let t = day + Duration::days(3);
    post(db, "P1", t, |_, l| {
        l.pay(posting(t, ""), PaymentMethod::Cash, money(1000), Apply::Charges(vec![EntryId(1)]))?;
        Ok(())
    })
    .expect("pay");
    give_back(db, "I1", t, Some(FoundPolicy::default()));
    let a = check_account(db, "P1");
    assert_eq!(a.ledger.outstanding(EntryId(1)), Some(Money::ZERO));
    assert_eq!(a.ledger.credit(), money(1000));
    assert_eq!(a.patron.balance, money(0), "5.00 overdue + 5.00 processing owed, 10.00 to hand back");
    assert_eq!(db.item_by_barcode(&barcode("I1")).expect("read").expect("I1").item.status, ItemStatus::Available);
    // Not on loan any more: nothing to stop.
    assert_eq!(
        db.stop_loan(&barcode("I1"), &stop, t, &mut |c, l| declare(c, l)).expect("stop"),
        Err(LedgerRefusal::NotOnLoan("I1".into()))
    );
}

fn claims_returned_are_counted(db: &dyn Database) {
    library(db, &["P1", "P2"]);
    let out = at("2026-09-01T15:00:00Z");
    for bc in ["I1", "I2"] {
        lend(db, "P1", bc, out, at("2026-09-15T23:59:00Z"));
    }
    let stop = Stop { kind: StopKind::ClaimsReturned, by: CLERK, note: "says it went in the book drop".into() };
    let t = at("2026-09-20T15:00:00Z");
    for bc in ["I1", "I2"] {
        db.stop_loan(&barcode(bc), &stop, t, &mut |_, _| Ok(true)).expect("stop").expect("ok").expect("stopped");
        let item = db.item_by_barcode(&barcode(bc)).expect("read").expect("item");
        assert_eq!(item.item.status, ItemStatus::Missing);
    }
    let p1 = db.patron_account("P1").expect("read").expect("P1");
    let p2 = db.patron_account("P2").expect("read").expect("P2");
    assert_eq!(db.claims_returned_count(p1.id).expect("count"), 2);
    assert_eq!(db.claims_returned_count(p2.id).expect("count"), 0);
    // A claimed copy is not a lost candidate.
    assert!(db.lost_candidates(at("2027-01-01T00:00:00Z")).expect("candidates").is_empty());
}

fn inspection_charges_the_last_borrower_and_queues_the_repair(db: &dyn Database) {
    library(db, &["P1", "P2"]);
    let t = at("2026-10-01T15:00:00Z");
    lend(db, "P1", "I1", t, t + Duration::days(14));
    let inspection = |charge: Option<i64>, repair: bool| NewInspection {
        barcode: barcode("I1"),
        branch: code("EAST"),
        condition: Condition::Damaged,
        note: "water damage, pages 10-40".into(),
        damage_charge: charge.map(money),
        to_repair: repair,
        by: CLERK,
    };
    // On loan: check it in first.
    assert_eq!(db.inspect(&inspection(Some(800), true), t).expect("inspect"), Err(LedgerRefusal::OnLoan("I1".into())));
    give_back(db, "I1", t + Duration::days(2), None);
    // An earlier borrower: the last one is charged.
    let later = t + Duration::days(3);
    let done = db.inspect(&inspection(Some(800), true), later).expect("inspect").expect("inspected");
    assert_eq!((done.status, done.condition, done.to_repair), (ItemStatus::InRepair, Condition::Damaged, true));
    let p1 = check_account(db, "P1");
    assert_eq!(done.charged, Some((p1.patron.id, p1.rows[0].id)));
    assert_eq!(p1.patron.balance, money(800));
    assert!(matches!(p1.ledger.entries()[0].kind, EntryKind::Charge { kind: ChargeKind::Damage, item: Some(_), .. }));
    assert_eq!(check_account(db, "P2").patron.balance, Money::ZERO);
    let queue = db.repair_queue(&code("EAST")).expect("queue");
    assert_eq!(queue.len(), 1);
    assert_eq!((queue[0].item.item.barcode.as_str(), queue[0].inspection_id), ("I1", done.id));
    assert_eq!(
        (queue[0].item.item.status, queue[0].note.as_str()),
        (ItemStatus::InRepair, "water damage, pages 10-40")
    );
    assert!(db.repair_queue(&code("MAIN")).expect("queue").is_empty());
    // Repaired: available again, out of the queue; a second "repaired" is refused.
    let item = db.repaired(done.item_id, later + Duration::days(5), CLERK).expect("repaired").expect("ok");
    assert_eq!((item.item.status, item.item.holding_branch.as_str()), (ItemStatus::Available, "EAST"));
    assert!(db.repair_queue(&code("EAST")).expect("queue").is_empty());
    assert_eq!(
        db.repaired(done.item_id, later + Duration::days(5), CLERK).expect("repaired"),
        Err(LedgerRefusal::NotInRepair(done.item_id))
    );
    // Never lent: no one to charge, nothing recorded.
    let never = NewInspection { barcode: barcode("I3"), ..inspection(Some(100), true) };
    assert_eq!(db.inspect(&never, later).expect("inspect"), Err(LedgerRefusal::NoBorrower("I3".into())));
    assert_eq!(db.item_by_barcode(&barcode("I3")).expect("read").expect("I3").item.status, ItemStatus::Available);
    // Unusable and not for repair: Damaged, awaiting replacement or withdrawal.
    let unusable = NewInspection { barcode: barcode("I3"), condition: Condition::Unusable, ..inspection(None, false) };
    let done = db.inspect(&unusable, later).expect("inspect").expect("inspected");
    assert_eq!((done.status, done.charged), (ItemStatus::Damaged, None));
}
