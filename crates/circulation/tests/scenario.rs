//! A circulation scenario through the public API, as the storage and HTTP layers will drive it:
//! checkout, a hold, a refused renewal, an emergency closure, a late check-in trapped for the
//! hold, the fine paid in part, an item declared lost and found again. After each step the
//! state that matters (due dates, hold states, ledger) is rendered and compared.

// A test binary: an unwrap that fails is a failed test, which is what it should be.
#![allow(clippy::unwrap_used)]

use catalog::Code;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use circulation::calendar::{Calendar, ClosedDay, OpeningHours};
use circulation::checkin::{check_in, CheckInRequest, OpenLoan, Routing};
use circulation::checkout::{
    decide_checkout, decide_renewal, CheckoutRequest, ItemSnapshot, ItemState, LoanCounts, LoanSnapshot, RenewalRequest,
};
use circulation::fines::FineTerms;
use circulation::holds::{Hold, HoldQueue, HoldState};
use circulation::ledger::{Actor, Apply, ChargeKind, Ledger, PaymentMethod, Posting};
use circulation::lost::{declare_lost, is_lost, item_found, FoundPolicy};
use circulation::patron::{CirculationPolicy, PatronSnapshot};
use circulation::refusal::RefusalCode;
use circulation::rules::{
    BranchContext, FineRate, GoverningBranch, Limit, Period, Rule, RuleKey, RuleMatrix, RuleRow, RuleSettings, Scope,
    TimeUnit,
};
use circulation::{HoldId, ItemId, Money, PatronId, RecordId, StaffId};

fn code(s: &str) -> Code {
    Code::parse(s).unwrap()
}

fn cal() -> Calendar {
    let h =
        OpeningHours::new(NaiveTime::from_hms_opt(9, 0, 0).unwrap(), NaiveTime::from_hms_opt(17, 0, 0).unwrap()).ok();
    let mut c = Calendar::new(chrono_tz::America::Chicago, [h, h, h, h, h, h, None]).unwrap();
    c.close(ClosedDay::Yearly { month: 12, day: 25 }).unwrap();
    c
}

fn at(c: &Calendar, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    c.instant(NaiveDate::from_ymd_opt(2026, m, d).unwrap().and_hms_opt(h, 0, 0).unwrap())
}

fn local(c: &Calendar, t: DateTime<Utc>) -> String {
    t.with_timezone(&c.time_zone()).format("%a %d %b %H:%M").to_string()
}

fn matrix() -> RuleMatrix {
    let default = Rule {
        loan_period: Period::days(14),
        max_loans: 30,
        renewals_allowed: 3,
        renewal_period: Period::days(14),
        fine: FineRate { amount: Money::from_minor(25), per: TimeUnit::Days },
        grace_period: Period::days(0),
        max_fine: Limit::At(Money::from_minor(500)),
        lost_after_days: Limit::At(30),
        lost_processing_fee: Money::from_minor(500),
        hold_allowed: true,
        max_holds: 15,
        hold_shelf_days: 7,
        hard_due_date: Limit::Unlimited,
    };
    let rows = vec![
        RuleRow { key: RuleKey::DEFAULT, settings: default.to_settings() },
        // Children borrow fine-free at every branch.
        RuleRow {
            key: RuleKey { branch: Scope::Any, category: Scope::Only(code("CHILD")), item_type: Scope::Any },
            settings: RuleSettings { fine: Some(FineRate::free()), ..Default::default() },
        },
    ];
    RuleMatrix::new(rows, GoverningBranch::CheckoutBranch).unwrap()
}

fn patron(id: i64, category: &str) -> PatronSnapshot {
    PatronSnapshot {
        id: PatronId(id),
        category: code(category),
        home_branch: code("CPL"),
        card_expiry: NaiveDate::from_ymd_opt(2027, 6, 30).unwrap(),
        blocks: vec![],
        balance: Money::ZERO,
        overdue_loans: 0,
    }
}

fn book(id: i64, state: ItemState) -> ItemSnapshot {
    ItemSnapshot {
        id: ItemId(id),
        record: RecordId(1),
        item_type: code("BK"),
        loanable: true,
        home_branch: code("CPL"),
        state,
        price: Some(Money::from_minor(2000)),
        materials_specified: None,
    }
}

fn render(c: &Calendar, queue: &HoldQueue, ledger: &Ledger) -> String {
    let mut out = Vec::new();
    for h in queue.holds() {
        let state = match h.state {
            HoldState::OnShelf { item, pickup_by } => format!("on shelf (item {item}) until {}", local(c, pickup_by)),
            other => format!("{other:?}"),
        };
        out.push(format!("hold {} patron {}: {state}", h.id, h.patron));
    }
    for e in ledger.entries() {
        out.push(format!("entry {}: {:?} {}", e.id.0, e.kind, e.signed_amount()));
    }
    out.push(format!("balance {}", ledger.balance()));
    out.join("\n")
}

#[test]
fn a_month_at_the_desk() {
    let mut c = cal();
    let rules = matrix();
    let policy = CirculationPolicy { fine_limit: Limit::At(Money::from_minor(1000)), max_overdues: Limit::Unlimited };
    let ctx =
        BranchContext { checkout_branch: code("CPL"), item_home_branch: code("CPL"), patron_home_branch: code("CPL") };
    let ann = patron(1, "ADULT");
    let ben = patron(2, "ADULT");
    let resolution = rules.resolve_for(&ctx, &ann.category, &code("BK"));
    let mut queue = HoldQueue::new(RecordId(1));
    let mut ledger = Ledger::new();
    let clerk = |c: &Calendar, m, d, note: &str| Posting {
        at: at(c, m, d, 12),
        by: Actor::Staff(StaffId(9)),
        note: note.into(),
    };

    // Mon 2 March: Ann borrows the book; it is due in 14 days.
    let item = book(10, ItemState::Available);
    let d = decide_checkout(&CheckoutRequest {
        patron: &ann,
        item: &item,
        resolution: &resolution,
        loans: LoanCounts::default(),
        claim: queue.claim_on(item.id, NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(), |_| true),
        policy: &policy,
        calendar: &c,
        now: at(&c, 3, 2, 10),
    })
    .unwrap();
    let mut due = d.allowed().unwrap().due.at;
    assert_eq!(local(&c, due), "Mon 16 Mar 23:59");

    // Ben places a title hold.
    queue
        .place(Hold {
            id: HoldId(1),
            patron: ben.id,
            record: RecordId(1),
            item: None,
            pickup_branch: code("CPL"),
            placed_at: at(&c, 3, 3, 10),
            not_needed_after: None,
            state: HoldState::Waiting,
        })
        .unwrap();

    // Ann tries to renew: someone is waiting.
    let today = NaiveDate::from_ymd_opt(2026, 3, 12).unwrap();
    let r = decide_renewal(&RenewalRequest {
        patron: &ann,
        loan: LoanSnapshot { item: item.id, due, renewals_used: 0 },
        resolution: &resolution,
        wanted_by_others: queue.claim_on(item.id, today, |h| h.patron != ann.id).is_some(),
        policy: &policy,
        calendar: &c,
        now: at(&c, 3, 12, 10),
    })
    .unwrap();
    assert_eq!(r.refusals.iter().map(|r| r.code).collect::<Vec<_>>(), vec![RefusalCode::RenewalOnHold]);

    // A snow day on Monday 16 March moves the due date to Tuesday.
    c.close(ClosedDay::On(NaiveDate::from_ymd_opt(2026, 3, 16).unwrap())).unwrap();
    if let Some(moved) = c.moved_due(due).unwrap() {
        due = moved;
    }
    assert_eq!(local(&c, due), "Tue 17 Mar 23:59");

    // Fri 20 March: back three open days late; trapped for Ben on the hold shelf here.
    let back = book(10, ItemState::CheckedOut { patron: ann.id });
    let here = code("CPL");
    let outcome = check_in(
        &CheckInRequest {
            item: &back,
            loan: Some(OpenLoan {
                patron: ann.id,
                checked_out_at: at(&c, 3, 2, 10),
                due,
                fine_terms: FineTerms::from(&resolution.rule),
                already_charged: Money::ZERO,
            }),
            here: &here,
            calendar: &c,
            fine_calendar: &c,
            returned_at: at(&c, 3, 20, 10),
            now: at(&c, 3, 20, 10),
            hold_shelf_days: resolution.rule.hold_shelf_days,
        },
        &mut queue,
        |_| true,
    )
    .unwrap();
    assert!(matches!(outcome.routing, Routing::HoldShelf { hold: HoldId(1), .. }));
    let fine =
        ledger.post_charge(clerk(&c, 3, 20, "overdue"), ChargeKind::Overdue, outcome.charge, Some(back.id)).unwrap();
    assert_eq!(
        render(&c, &queue, &ledger),
        "hold 1 patron 2: on shelf (item 10) until Fri 27 Mar 23:59\n\
         entry 0: Charge { kind: Overdue, amount: Money(75), item: Some(ItemId(10)) } 0.75\n\
         balance 0.75"
    );

    // Ann pays part of it; Ben picks the book up, which fills his hold.
    ledger.pay(clerk(&c, 3, 21, ""), PaymentMethod::Cash, Money::from_minor(50), Apply::OldestFirst).unwrap();
    assert_eq!(ledger.outstanding(fine), Some(Money::from_minor(25)));
    let claim = queue.claim_on(ItemId(10), NaiveDate::from_ymd_opt(2026, 3, 23).unwrap(), |_| true);
    let d = decide_checkout(&CheckoutRequest {
        patron: &ben,
        item: &book(10, ItemState::OnHoldShelf),
        resolution: &resolution,
        loans: LoanCounts::default(),
        claim,
        policy: &policy,
        calendar: &c,
        now: at(&c, 3, 23, 10),
    })
    .unwrap();
    let plan = d.allowed().unwrap();
    queue.fill(plan.fills_hold.unwrap(), at(&c, 3, 23, 10)).unwrap();

    // Ben's loan is never returned: 30 days after it was due it is declared lost.
    let ben_due = plan.due.at;
    assert_eq!(local(&c, ben_due), "Mon 06 Apr 23:59");
    assert!(!is_lost(ben_due, at(&c, 5, 5, 2), &resolution.rule, &c));
    assert!(is_lost(ben_due, at(&c, 5, 6, 2), &resolution.rule, &c));
    let mut bens = Ledger::new();
    let system = Posting { at: at(&c, 5, 6, 2), by: Actor::System, note: "lost after 30 days".into() };
    declare_lost(&mut bens, &system, ItemId(10), back.price.unwrap_or(Money::ZERO), &resolution.rule).unwrap();
    bens.pay(clerk(&c, 5, 8, ""), PaymentMethod::Card, Money::from_minor(1000), Apply::OldestFirst).unwrap();
    // It turns up: the unpaid part of the replacement is waived, the paid part refunded and paid out.
    item_found(&mut bens, &clerk(&c, 5, 12, "found under the car seat"), ItemId(10), FoundPolicy::default()).unwrap();
    bens.payout(clerk(&c, 5, 12, "cash back"), PaymentMethod::Cash, bens.credit()).unwrap();
    assert_eq!(
        render(&c, &HoldQueue::new(RecordId(1)), &bens),
        "entry 0: Charge { kind: Lost, amount: Money(2000), item: Some(ItemId(10)) } 20.00\n\
         entry 1: Charge { kind: Processing, amount: Money(500), item: Some(ItemId(10)) } 5.00\n\
         entry 2: Credit { kind: Payment(Card), amount: Money(1000), applied: [Allocation { charge: EntryId(0), amount: Money(1000) }] } -10.00\n\
         entry 3: Credit { kind: Waiver, amount: Money(1000), applied: [Allocation { charge: EntryId(0), amount: Money(1000) }] } -10.00\n\
         entry 4: Credit { kind: Refund { charge: EntryId(0) }, amount: Money(1000), applied: [] } -10.00\n\
         entry 5: Payout { method: Cash, amount: Money(1000) } 10.00\n\
         balance 5.00"
    );

    // A child borrowing the same book pays nothing however late it comes back.
    let child = rules.resolve_for(&ctx, &code("CHILD"), &code("BK"));
    assert!(child.rule.fine.is_free());
    assert!(child.explanation.describe(&child.rule).contains("fine = none (fine-free) from */CHILD/*"));
}
