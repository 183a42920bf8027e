//! The reports' aggregate queries on every backend: a small library where every checkout,
//! renewal, check-in, registration, hold and payment is made at a known instant, and every
//! report's numbers are what those events add up to: per local day (New York, so a loan at
//! 03:00 UTC belongs to the day before), per branch, item type and category, with a branch
//! filter, paged, and with the edges of the range exclusive at the end.
//!
//! The collection and circulation reports read counts that triggers keep (migration 0016); the
//! same reports counted from the items and loans themselves (`*_by_scan`, the queries they ran
//! before) are the oracle: after every kind of change, over random sequences of changes, and
//! after the migration's backfill of a library that was already lending.

mod common;

use catalog::{Barcode, BibDerived, Branch, Code, ItemStatus, ItemType, Money, NewItem};
use chrono::{DateTime, NaiveDate, Utc};
use circulation::{Actor, Apply, ChargeKind, Ledger, PaymentMethod, Posting, StaffId};
use reports::{CirculationCounts, Group, MoneyDay, Threshold};
use storage::holds::{HoldPlacement, HoldTarget, NewHold};
use storage::ledger::{Account, LedgerRefusal};
use storage::loans::{CheckinWrite, LoanWrite, RenewalWrite};
use storage::patrons::{CardChoice, HistoryChoice, NoticePreference, PatronDetails, Registration};
use storage::reports::{CirculationGroup, ClassScheme};
use storage::{BibId, Database, NewRecord, Patron};

use common::Harness;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

suite! {
    db: [
        circulation_by_local_day_and_branch,
        circulation_grouped_by_branch_item_type_and_category,
        top_titles_and_the_overdue_list_paged,
        holds_to_copies_above_a_threshold,
        collection_by_dewey_hundreds_and_lc_class,
        registrations_by_day_and_category,
        money_by_day_and_type,
        counts_equal_the_scan_after_every_kind_of_change,
        counts_equal_the_scan_over_random_changes,
    ],
    harness: [backfill_counts_what_the_library_held_before_the_migration],
}

fn code(s: &str) -> Code {
    Code::parse(s).expect("code")
}

fn barcode(s: &str) -> Barcode {
    Barcode::parse(s).expect("barcode")
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("time").with_timezone(&Utc)
}

/// 2, 3 and 4 November 2026 in New York (EST, UTC-5): each day starts at 05:00 UTC.
fn bounds() -> Vec<DateTime<Utc>> {
    ["2026-11-02T05:00:00Z", "2026-11-03T05:00:00Z", "2026-11-04T05:00:00Z", "2026-11-05T05:00:00Z"]
        .into_iter()
        .map(at)
        .collect()
}

fn span() -> (DateTime<Utc>, DateTime<Utc>) {
    let b = bounds();
    (b[0], b[3])
}

fn item(bc: &str, branch: &str, item_type: &str, call: Option<&str>, status: ItemStatus) -> NewItem {
    NewItem {
        barcode: barcode(bc),
        home_branch: code(branch),
        holding_branch: code(branch),
        location: None,
        collection: None,
        call_number: call.map(str::to_string),
        item_type: code(item_type),
        price: None,
        public_note: None,
        staff_note: None,
        materials_specified: None,
        status,
        acquired_on: None,
    }
}

fn record(db: &dyn Database, title: &str, dewey: Option<&str>) -> BibId {
    let derived =
        BibDerived { title: title.to_string(), dewey_call_number: dewey.map(str::to_string), ..BibDerived::default() };
    db.create_record(&NewRecord { marc: format!("{title}\x1d").into_bytes(), derived, row: None }).expect("record")
}

fn patron(db: &dyn Database, card: &str, category: &str, branch: &str) {
    db.upsert_patron(&Patron {
        card_number: card.into(),
        surname: "Reader".into(),
        first_name: card.into(),
        category: code(category),
        home_branch: code(branch),
        expiry_date: "2030-01-01".into(),
        email: None,
    })
    .expect("patron");
}

struct Library {
    dune: BibId,
    emma: BibId,
    ghost: BibId,
}

/// Two branches, two item types, three patrons; Dune (D1, D2 at MAIN, a DVD D3 at EAST),
/// Emma (E1 at EAST, E2 at MAIN, W1 withdrawn), Rome (R1, shelved under its record's Dewey),
/// and Ghost, a record without items.
fn library(db: &dyn Database) -> Library {
    db.upsert_branch(&Branch { code: code("MAIN"), name: "Main Library".into() }).expect("branch");
    db.upsert_branch(&Branch { code: code("EAST"), name: "East Branch".into() }).expect("branch");
    db.upsert_item_type(&ItemType { code: code("BK"), name: "Book".into(), loanable: true }).expect("type");
    db.upsert_item_type(&ItemType { code: code("DVD"), name: "Video disc".into(), loanable: true }).expect("type");
    patron(db, "P1", "ADULT", "MAIN");
    patron(db, "P2", "CHILD", "EAST");
    patron(db, "P3", "ADULT", "EAST");
    let dune = record(db, "Dune", None);
    let emma = record(db, "Emma", None);
    let rome = record(db, "Rome", Some("945.2 ROM"));
    let ghost = record(db, "Ghost", None);
    let available = ItemStatus::Available;
    for (bib, it) in [
        (dune, item("D1", "MAIN", "BK", Some("813.54 HER"), available)),
        (dune, item("D2", "MAIN", "BK", Some("813.54 HER"), available)),
        (dune, item("D3", "EAST", "DVD", Some("J 599.75 SMI"), available)),
        (emma, item("E1", "EAST", "BK", Some("QA76.73 .R87 2018"), available)),
        (emma, item("E2", "MAIN", "BK", Some("PR4034 .E5 2003"), available)),
        (emma, item("W1", "MAIN", "BK", Some("QA76 .X1"), ItemStatus::Withdrawn)),
        (rome, item("R1", "MAIN", "BK", None, available)),
    ] {
        db.create_item(bib, &it).expect("item");
    }
    Library { dune, emma, ghost }
}

fn checkout(db: &dyn Database, card: &str, bc: &str, branch: &str, when: &str, due: &str) {
    db.checkout(card, &barcode(bc), at(when), &mut |_| {
        Some(LoanWrite { checkout_branch: code(branch), due_at: at(due), override_entry: None, holds: Vec::new() })
    })
    .expect("checkout")
    .expect("lent");
}

fn renew(db: &dyn Database, bc: &str, when: &str, due: &str) {
    db.renew(&barcode(bc), at(when), &mut |_| Some(RenewalWrite { due_at: at(due), override_entry: None }))
        .expect("renew")
        .expect("renewed");
}

fn check_in(db: &dyn Database, bc: &str, branch: &str, when: &str) {
    let wrote = db
        .check_in(&barcode(bc), at(when), &mut |_| {
            Some(CheckinWrite {
                return_branch: code(branch),
                returned_at: at(when),
                overdue_charge: Money::ZERO,
                status: ItemStatus::Available,
                holding_branch: code(branch),
                holds: Vec::new(),
                transit: None,
                found: None,
            })
        })
        .expect("check in");
    assert!(wrote);
}

/// The loans: each line says which local day (New York) it falls on.
fn circulate(db: &dyn Database) {
    // Before the range (1 November): not counted, but overdue later.
    checkout(db, "P2", "E2", "MAIN", "2026-11-01T12:00:00Z", "2026-11-01T20:00:00Z");
    // Day 0.
    checkout(db, "P1", "D1", "MAIN", "2026-11-02T15:00:00Z", "2026-11-16T23:00:00Z");
    // 22:00 on day 0 in New York, already 3 November in UTC.
    checkout(db, "P2", "E1", "EAST", "2026-11-03T03:00:00Z", "2026-11-20T23:00:00Z");
    // Day 1.
    checkout(db, "P1", "D3", "EAST", "2026-11-03T14:00:00Z", "2026-11-04T10:00:00Z");
    renew(db, "D1", "2026-11-03T14:30:00Z", "2026-11-30T23:00:00Z");
    // Day 2: D1 comes back at the other branch.
    check_in(db, "D1", "EAST", "2026-11-04T16:00:00Z");
    checkout(db, "P2", "D2", "MAIN", "2026-11-04T16:30:00Z", "2026-11-30T23:00:00Z");
    // The first instant after the range: not counted.
    checkout(db, "P3", "R1", "MAIN", "2026-11-05T05:00:00Z", "2026-11-30T23:00:00Z");
}

fn counts(checkouts: i64, renewals: i64, check_ins: i64) -> CirculationCounts {
    CirculationCounts { checkouts, renewals, check_ins }
}

fn circulation_by_local_day_and_branch(db: &dyn Database) {
    library(db);
    assert_eq!(db.circulation_by_day(&bounds(), None).expect("report"), [counts(0, 0, 0); 3], "nothing yet");
    circulate(db);
    assert_eq!(
        db.circulation_by_day(&bounds(), None).expect("report"),
        [counts(2, 0, 0), counts(1, 1, 0), counts(1, 0, 1)]
    );
    // MAIN: its checkouts and the renewal of a loan made there; D1's check-in was at EAST.
    assert_eq!(
        db.circulation_by_day(&bounds(), Some(&code("MAIN"))).expect("report"),
        [counts(1, 0, 0), counts(0, 1, 0), counts(1, 0, 0)]
    );
    assert_eq!(
        db.circulation_by_day(&bounds(), Some(&code("EAST"))).expect("report"),
        [counts(1, 0, 0), counts(1, 0, 0), counts(0, 0, 1)]
    );
    // One day, the 5th: only R1's checkout.
    let fifth = [at("2026-11-05T05:00:00Z"), at("2026-11-06T05:00:00Z")];
    assert_eq!(db.circulation_by_day(&fifth, None).expect("report"), [counts(1, 0, 0)]);
}

fn group<T>(code: &str, name: Option<&str>, counts: T) -> Group<T> {
    Group { code: code.to_string(), name: name.map(str::to_string), counts }
}

fn circulation_grouped_by_branch_item_type_and_category(db: &dyn Database) {
    library(db);
    circulate(db);
    assert_eq!(
        db.circulation_by(CirculationGroup::Branch, span(), None).expect("report"),
        [group("EAST", Some("East Branch"), counts(2, 0, 1)), group("MAIN", Some("Main Library"), counts(2, 1, 0))]
    );
    assert_eq!(
        db.circulation_by(CirculationGroup::Branch, span(), Some(&code("EAST"))).expect("report"),
        [group("EAST", Some("East Branch"), counts(2, 0, 1))]
    );
    assert_eq!(
        db.circulation_by(CirculationGroup::ItemType, span(), None).expect("report"),
        [group("BK", Some("Book"), counts(3, 1, 1)), group("DVD", Some("Video disc"), counts(1, 0, 0))]
    );
    assert_eq!(
        db.circulation_by(CirculationGroup::PatronCategory, span(), None).expect("report"),
        [group("ADULT", None, counts(2, 1, 1)), group("CHILD", None, counts(2, 0, 0))]
    );
    assert_eq!(
        db.circulation_by(CirculationGroup::PatronCategory, span(), Some(&code("MAIN"))).expect("report"),
        [group("ADULT", None, counts(1, 1, 0)), group("CHILD", None, counts(1, 0, 0))]
    );
}

fn top_titles_and_the_overdue_list_paged(db: &dyn Database) {
    let lib = library(db);
    circulate(db);
    let top = db.top_titles(span(), None, 10).expect("report");
    let got: Vec<(BibId, &str, i64)> = top.iter().map(|t| (t.bib_id, t.title.as_str(), t.checkouts)).collect();
    assert_eq!(got, [(lib.dune, "Dune", 3), (lib.emma, "Emma", 1)]);
    assert_eq!(db.top_titles(span(), None, 1).expect("report").len(), 1);
    let east: Vec<i64> =
        db.top_titles(span(), Some(&code("EAST")), 10).expect("r").iter().map(|t| t.checkouts).collect();
    assert_eq!(east, [1, 1], "D3 and E1 at EAST");

    let now = at("2026-11-04T20:00:00Z");
    let all = db.overdue_loans(now, None, None, 10).expect("report");
    let got: Vec<(&str, &str, &str)> =
        all.iter().map(|l| (l.barcode.as_str(), l.title.as_str(), l.card_number.as_str())).collect();
    assert_eq!(got, [("E2", "Emma", "P2"), ("D3", "Dune", "P1")], "longest overdue first");
    assert_eq!(
        (all[0].due_at, all[0].patron_name.as_str(), all[0].checkout_branch.as_str()),
        (at("2026-11-01T20:00:00Z"), "Reader, P2", "MAIN")
    );
    let first = db.overdue_loans(now, None, None, 1).expect("page 1");
    assert_eq!(first.len(), 1);
    let second = db.overdue_loans(now, None, Some((first[0].due_at, first[0].loan_id)), 1).expect("page 2");
    assert_eq!(second.iter().map(|l| l.barcode.as_str()).collect::<Vec<_>>(), ["D3"]);
    assert!(db.overdue_loans(now, None, Some((second[0].due_at, second[0].loan_id)), 1).expect("page 3").is_empty());
    let main: Vec<String> =
        db.overdue_loans(now, Some(&code("MAIN")), None, 10).expect("r").into_iter().map(|l| l.barcode).collect();
    assert_eq!(main, ["E2"]);
    // Before D3 was due, only E2.
    assert_eq!(db.overdue_loans(at("2026-11-04T09:00:00Z"), None, None, 10).expect("r").len(), 1);
}

fn place(db: &dyn Database, card: &str, bib: BibId, pickup: &str) {
    let hold = NewHold {
        card_number: card.into(),
        target: HoldTarget::Record(bib),
        pickup_branch: code(pickup),
        not_needed_after: None,
    };
    db.place_hold(&hold, at("2026-11-03T12:00:00Z"), &mut |_| Some(HoldPlacement::default()))
        .expect("place")
        .expect("placed");
}

fn holds_to_copies_above_a_threshold(db: &dyn Database) {
    let lib = library(db);
    for card in ["P1", "P2", "P3"] {
        place(db, card, lib.emma, "MAIN");
    }
    place(db, "P1", lib.dune, "EAST");
    place(db, "P2", lib.ghost, "EAST");
    let one = Threshold { holds: 1, copies: 1 };
    let ratios = |branch: Option<&str>, threshold, limit| {
        db.holds_ratio(branch.map(code).as_ref(), threshold, limit)
            .expect("report")
            .into_iter()
            .map(|h| (h.bib_id, h.holds, h.copies))
            .collect::<Vec<_>>()
    };
    // Ghost has no copy at all, first; Emma 3 holds on 2 copies (W1 is withdrawn); Dune's
    // 1 on 3 is under the threshold.
    assert_eq!(ratios(None, one, 10), [(lib.ghost, 1, 0), (lib.emma, 3, 2)]);
    assert_eq!(ratios(None, Threshold { holds: 3, copies: 2 }, 10), [(lib.ghost, 1, 0)], "strictly above");
    assert_eq!(ratios(None, Threshold { holds: 0, copies: 1 }, 10).len(), 3);
    assert_eq!(ratios(None, one, 1), [(lib.ghost, 1, 0)]);
    // At EAST: holds picked up there against EAST's copies (Dune: 1 on D3).
    assert_eq!(ratios(Some("EAST"), Threshold { holds: 0, copies: 1 }, 10), [(lib.ghost, 1, 0), (lib.dune, 1, 1)]);
}

fn collection_by_dewey_hundreds_and_lc_class(db: &dyn Database) {
    library(db);
    let classes = |scheme, branch: Option<&str>| {
        db.collection(scheme, branch.map(code).as_ref())
            .expect("report")
            .into_iter()
            .map(|g| (g.code, g.counts))
            .collect::<Vec<_>>()
    };
    let owned = |v: &[(&str, i64)]| v.iter().map(|(c, n)| (c.to_string(), *n)).collect::<Vec<_>>();
    // D3 "J 599.75 SMI" is Dewey behind a prefix; R1 is shelved under its record's 945.2.
    assert_eq!(classes(ClassScheme::Dewey, None), owned(&[("500-599", 1), ("800-899", 2), ("900-999", 1)]));
    assert_eq!(classes(ClassScheme::Dewey, Some("EAST")), owned(&[("500-599", 1)]));
    // W1 (QA, withdrawn) is not in the collection.
    assert_eq!(classes(ClassScheme::Lc, None), owned(&[("PR", 1), ("QA", 1)]));
    assert_eq!(classes(ClassScheme::Lc, Some("MAIN")), owned(&[("PR", 1)]));
}

fn register(db: &dyn Database, surname: &str, category: &str, branch: &str, when: &str) {
    let details = PatronDetails {
        surname: surname.into(),
        first_name: "New".into(),
        category: code(category),
        home_branch: code(branch),
        expiry_date: NaiveDate::from_ymd_opt(2029, 6, 30).expect("date"),
        birth_date: None,
        email: None,
        phone: None,
        address: None,
        guarantor: None,
        notice_preference: NoticePreference::Email,
        reading_history: HistoryChoice::Default,
        name_key: None,
        email_key: None,
    };
    let card = format!("N-{surname}");
    match db.register_patron(&details, CardChoice::Given(&card), false, at(when)).expect("register") {
        Registration::Registered(_) => {}
        Registration::Duplicates(d) => panic!("duplicates: {d:?}"),
    }
}

fn registrations_by_day_and_category(db: &dyn Database) {
    library(db);
    register(db, "Ames", "ADULT", "MAIN", "2026-11-02T12:00:00Z");
    register(db, "Bell", "CHILD", "EAST", "2026-11-03T04:59:59Z"); // 23:59:59 on day 0 locally
    register(db, "Cole", "ADULT", "EAST", "2026-11-04T18:00:00Z");
    register(db, "Dunn", "CHILD", "MAIN", "2026-11-05T05:00:00Z"); // after the range
    assert_eq!(db.registrations_by_day(&bounds(), None).expect("report"), [2, 0, 1]);
    assert_eq!(db.registrations_by_day(&bounds(), Some(&code("EAST"))).expect("report"), [1, 0, 1]);
    assert_eq!(
        db.registrations_by_category(span(), None).expect("report"),
        [group("ADULT", None, 2), group("CHILD", None, 1)]
    );
    assert_eq!(db.registrations_by_category(span(), Some(&code("MAIN"))).expect("report"), [group("ADULT", None, 1)]);
}

fn post(
    db: &dyn Database,
    card: &str,
    when: &str,
    mut f: impl FnMut(Posting, &mut Ledger) -> Result<(), LedgerRefusal>,
) {
    let now = at(when);
    let posting = Posting { at: now, by: Actor::Staff(StaffId(7)), note: String::new() };
    let _: Account =
        db.post_to_account(card, now, None, &mut |_, l| f(posting.clone(), l)).expect("storage").expect("posted");
}

fn m(minor: i64) -> Money {
    Money::from_minor(minor)
}

fn money_by_day_and_type(db: &dyn Database) {
    library(db);
    // Day 0: a fine of 1.50. Day 1: printing 0.40, 1.00 paid in cash. Day 2: 0.90 by card.
    post(db, "P1", "2026-11-02T15:00:00Z", |p, l| {
        Ok(l.post_charge(p, ChargeKind::Overdue, m(150), None).map(|_| ())?)
    });
    post(db, "P1", "2026-11-03T15:00:00Z", |p, l| {
        l.post_charge(p.clone(), ChargeKind::Printing, m(40), None)?;
        l.pay(p, PaymentMethod::Cash, m(100), Apply::OldestFirst)?;
        Ok(())
    });
    post(db, "P1", "2026-11-04T15:00:00Z", |p, l| {
        Ok(l.pay(p, PaymentMethod::Card, m(90), Apply::OldestFirst).map(|_| ())?)
    });
    // Day 2, P2: a lost item of 25.00, 30.00 paid in cash with 5.00 kept as credit (a deposit),
    // and 2.00 of the credit handed back the same day.
    post(db, "P2", "2026-11-04T16:00:00Z", |p, l| {
        l.post_charge(p.clone(), ChargeKind::Lost, m(2500), None)?;
        l.pay_keeping_credit(p, PaymentMethod::Cash, m(3000), Apply::OldestFirst)?;
        Ok(())
    });
    post(db, "P2", "2026-11-04T16:05:00Z", |p, l| Ok(l.payout(p, PaymentMethod::Cash, m(200)).map(|_| ())?));
    // After the range.
    post(db, "P2", "2026-11-05T05:00:00Z", |p, l| Ok(l.payout(p, PaymentMethod::Cash, m(300)).map(|_| ())?));

    let day = |cash, card, paid_out| MoneyDay { cash: m(cash), card: m(card), paid_out: m(paid_out) };
    let days = db.money_by_day(&bounds()).expect("report");
    assert_eq!(days, [day(0, 0, 0), day(100, 0, 0), day(3000, 90, 200)]);
    assert_eq!(days[2].net(), m(2890));

    let kinds: Vec<(String, String, i64, Money)> =
        db.money_by_type(span()).expect("report").into_iter().map(|k| (k.entry, k.kind, k.entries, k.amount)).collect();
    let row = |e: &str, k: &str, n, a| (e.to_string(), k.to_string(), n, m(a));
    assert_eq!(
        kinds,
        [
            row("payment", "card", 1, 90),
            row("payment", "cash", 2, 2600),
            row("deposit", "cash", 1, 500),
            row("payout", "cash", 1, 200),
            row("charge", "lost", 1, 2500),
            row("charge", "overdue", 1, 150),
            row("charge", "printing", 1, 40),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// The kept counts against the scan.

/// Day bounds in three zones and one window shorter than an hour: New York (whole hours from
/// UTC), Kolkata (UTC+5:30, so every day has half hours at its edges), and UTC days.
fn bound_sets() -> Vec<Vec<DateTime<Utc>>> {
    let days = |first: &str| -> Vec<DateTime<Utc>> {
        let first = at(first);
        (0..8).map(|d| first + chrono::Duration::days(d)).collect()
    };
    vec![
        days("2026-10-31T04:00:00Z"),
        days("2026-10-31T18:30:00Z"),
        days("2026-11-01T00:00:00Z"),
        vec![at("2026-11-03T14:10:00Z"), at("2026-11-03T14:50:00Z")],
    ]
}

fn spans() -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    vec![
        span(),
        (at("2026-10-31T18:30:00Z"), at("2026-11-06T18:30:00Z")),
        (at("2026-11-01T00:00:00Z"), at("2026-11-08T00:00:00Z")),
        (at("2026-11-03T14:10:00Z"), at("2026-11-03T14:50:00Z")),
        (at("2026-11-03T02:00:00Z"), at("2026-11-04T01:00:00Z")),
        (at("2026-11-04T00:00:00Z"), at("2026-11-04T00:00:00Z")),
    ]
}

/// Every collection and circulation report, for the whole library and each branch, read from
/// the counts equals the same report counted by scanning.
fn assert_counts_match_scan(db: &dyn Database, when: &str) {
    for branch in [None, Some(code("MAIN")), Some(code("EAST"))] {
        let b = branch.as_ref();
        for scheme in [ClassScheme::Dewey, ClassScheme::Lc] {
            assert_eq!(
                db.collection(scheme, b).expect("collection"),
                db.collection_by_scan(scheme, b).expect("scan"),
                "{when}: collection by {scheme:?} at {b:?}"
            );
        }
        for bounds in bound_sets() {
            assert_eq!(
                db.circulation_by_day(&bounds, b).expect("by day"),
                db.circulation_by_day_by_scan(&bounds, b).expect("scan"),
                "{when}: circulation by day from {} at {b:?}",
                bounds[0]
            );
        }
        if b.is_none() {
            // The ledger records no branch.
            for bounds in bound_sets() {
                assert_eq!(
                    db.money_by_day(&bounds).expect("money by day"),
                    db.money_by_day_by_scan(&bounds).expect("scan"),
                    "{when}: money by day from {}",
                    bounds[0]
                );
            }
            for span in spans() {
                assert_eq!(
                    db.money_by_type(span).expect("money by type"),
                    db.money_by_type_by_scan(span).expect("scan"),
                    "{when}: money by type over {span:?}"
                );
            }
        }
        for span in spans() {
            for group in [CirculationGroup::Branch, CirculationGroup::ItemType, CirculationGroup::PatronCategory] {
                assert_eq!(
                    db.circulation_by(group, span, b).expect("by group"),
                    db.circulation_by_by_scan(group, span, b).expect("scan"),
                    "{when}: circulation by {group:?} over {span:?} at {b:?}"
                );
            }
        }
    }
}

fn item_id(db: &dyn Database, bc: &str) -> i64 {
    db.item_by_barcode(&barcode(bc)).expect("item").expect("exists").id
}

/// Rewrites an item with `change` applied.
fn edit_item(db: &dyn Database, bc: &str, change: impl FnOnce(&mut NewItem)) {
    let stored = db.item_by_barcode(&barcode(bc)).expect("item").expect("exists");
    let mut item = stored.item;
    change(&mut item);
    db.update_item(stored.id, &item).expect("update item");
}

fn counts_equal_the_scan_after_every_kind_of_change(db: &dyn Database) {
    let lib = library(db);
    assert_counts_match_scan(db, "the library");
    // Something in every class and branch to move.
    assert_eq!(db.collection(ClassScheme::Lc, None).expect("lc").len(), 2);
    circulate(db);
    assert_counts_match_scan(db, "after the loans");
    assert_ne!(db.circulation_by_day(&bound_sets()[1], None).expect("kolkata"), [counts(0, 0, 0); 7]);

    // A Dewey copy re-shelved under LC at the other branch.
    edit_item(db, "D2", |i| {
        i.call_number = Some("QA76.9 .D3".into());
        i.home_branch = code("EAST");
    });
    assert_counts_match_scan(db, "D2 moved from 800-899 at MAIN to QA at EAST");
    assert_eq!(db.collection(ClassScheme::Lc, Some(&code("EAST"))).expect("lc"), [group("QA", None, 2)]);
    // One thing at a time: the branch alone, then the call number alone.
    edit_item(db, "D3", |i| i.home_branch = code("MAIN"));
    assert_counts_match_scan(db, "D3 moved to MAIN");
    edit_item(db, "D3", |i| i.call_number = Some("J 598.2 SMI".into()));
    assert_counts_match_scan(db, "D3 re-numbered in the same class");
    edit_item(db, "D3", |i| i.call_number = Some("J 636.7 SMI".into()));
    assert_counts_match_scan(db, "D3 re-numbered into 600-699");
    // Withdrawn and reinstated.
    edit_item(db, "E1", |i| i.status = ItemStatus::Withdrawn);
    assert_counts_match_scan(db, "E1 withdrawn");
    edit_item(db, "W1", |i| i.status = ItemStatus::Available);
    assert_counts_match_scan(db, "W1 reinstated");
    // No call number of its own: shelved under the record's, then under none.
    edit_item(db, "E2", |i| i.call_number = None);
    assert_counts_match_scan(db, "E2 without a call number");
    let rome = record(db, "Rome again", Some("720.9 ROM"));
    db.create_item(rome, &item("R2", "EAST", "DVD", None, ItemStatus::Available)).expect("item");
    assert_counts_match_scan(db, "R2 added under its record's Dewey");
    db.delete_item(item_id(db, "R2")).expect("delete");
    assert_counts_match_scan(db, "R2 deleted");
    db.create_item(lib.ghost, &item("G1", "MAIN", "BK", Some("QA1 .G5"), ItemStatus::Withdrawn)).expect("item");
    db.delete_item(item_id(db, "G1")).expect("delete");
    assert_counts_match_scan(db, "a withdrawn item added and deleted");

    // An item's type and a patron's category carry their loans' counts along.
    edit_item(db, "D1", |i| i.item_type = code("DVD"));
    assert_counts_match_scan(db, "D1 now a DVD");
    patron(db, "P2", "SENIOR", "EAST");
    assert_counts_match_scan(db, "P2 now a senior");
    assert!(db
        .circulation_by(CirculationGroup::PatronCategory, span(), None)
        .expect("by category")
        .iter()
        .any(|g| g.code == "SENIOR"));

    // More lending, on half hours and at the edges of days.
    check_in(db, "E1", "MAIN", "2026-11-04T18:45:00Z");
    renew(db, "D3", "2026-11-04T18:29:59Z", "2026-11-30T23:00:00Z");
    renew(db, "D3", "2026-11-05T00:00:00Z", "2026-12-30T23:00:00Z");
    check_in(db, "D3", "EAST", "2026-11-05T04:59:59Z");
    checkout(db, "P3", "D1", "EAST", "2026-11-05T18:30:00Z", "2026-11-30T23:00:00Z");
    assert_counts_match_scan(db, "after more lending");

    // Money on whole hours, half hours and the last second of a day.
    charge_and_pay(db, "P1", at("2026-11-02T15:00:00Z"), 150, true);
    charge_and_pay(db, "P2", at("2026-11-03T18:31:00Z"), 2500, true);
    charge_and_pay(db, "P3", at("2026-11-04T04:59:59Z"), 40, false);
    // The first instant of a day in each zone: its first whole hour.
    charge_and_pay(db, "P1", at("2026-11-03T00:00:00Z"), 300, true);
    charge_and_pay(db, "P1", at("2026-11-03T04:00:00Z"), 310, true);
    charge_and_pay(db, "P1", at("2026-11-02T19:00:00Z"), 320, true);
    assert_counts_match_scan(db, "after payments");
    assert_ne!(db.money_by_day(&bound_sets()[1]).expect("money"), [MoneyDay::default(); 7]);

    // Anonymisation moves returned loans to the anonymous patron's category.
    let moved = db.anonymise_returned_loans(at("2026-11-06T00:00:00Z"), at("2026-11-06T00:00:00Z")).expect("anonymise");
    assert!(moved > 0);
    assert_counts_match_scan(db, "after anonymisation");
}

/// A charge of `amount` and, when `paid`, a payment of it (by card at odd minutes, else cash)
/// and a refund of a tenth as a payout, at `when`. Whether the ledger took it: a patron who
/// owed more before has no credit left to pay out.
fn try_charge_and_pay(db: &dyn Database, card: &str, when: DateTime<Utc>, amount: i64, paid: bool) -> bool {
    let posting = Posting { at: when, by: Actor::Staff(StaffId(7)), note: String::new() };
    let method = if when.timestamp() / 60 % 2 == 1 { PaymentMethod::Card } else { PaymentMethod::Cash };
    let posted: Option<Account> = db
        .post_to_account(card, when, None, &mut |_, l| {
            l.post_charge(posting.clone(), ChargeKind::Overdue, m(amount), None)?;
            if paid {
                l.pay_keeping_credit(posting.clone(), method, m(amount + amount / 10), Apply::OldestFirst)?;
                if amount >= 10 {
                    l.payout(posting.clone(), PaymentMethod::Cash, m(amount / 10))?;
                }
            }
            Ok(())
        })
        .expect("storage")
        .ok();
    posted.is_some()
}

fn charge_and_pay(db: &dyn Database, card: &str, when: DateTime<Utc>, amount: i64, paid: bool) {
    assert!(try_charge_and_pay(db, card, when, amount, paid), "{card} charged and paid {amount}");
}

#[derive(Debug, Clone)]
enum Change {
    AddItem { branch: usize, item_type: usize, call: usize },
    Reshelve { item: usize, branch: usize, call: usize },
    Withdraw { item: usize, withdrawn: bool },
    Retype { item: usize, item_type: usize },
    Delete { item: usize },
    Checkout { patron: usize, item: usize, minute: i64 },
    Renew { item: usize, minute: i64 },
    CheckIn { item: usize, branch: usize, minute: i64 },
    Recategorise { patron: usize, category: usize },
    Charge { patron: usize, minute: i64, amount: i64, paid: bool },
}

const BRANCHES: [&str; 2] = ["MAIN", "EAST"];
const TYPES: [&str; 2] = ["BK", "DVD"];
const CATEGORIES: [&str; 3] = ["ADULT", "CHILD", "SENIOR"];
const CARDS: [&str; 3] = ["P1", "P2", "P3"];
/// Dewey, Dewey behind a prefix, LC, LC behind a prefix, neither, none (the record's Dewey).
const CALLS: [Option<&str>; 6] = [
    Some("813.54 HER"),
    Some("J 599.75 SMI"),
    Some("QA76.73 .R87 2018"),
    Some("REF PR4034 .E5"),
    Some("FIC KING"),
    None,
];

fn change() -> impl Strategy<Value = Change> {
    // Minutes from 31 October 00:00 UTC over eight days, so loans fall on every kind of edge.
    let minute = 0..(8 * 24 * 60i64);
    prop_oneof![
        (0..2usize, 0..2usize, 0..6usize).prop_map(|(branch, item_type, call)| Change::AddItem {
            branch,
            item_type,
            call
        }),
        (any::<usize>(), 0..2usize, 0..6usize).prop_map(|(item, branch, call)| Change::Reshelve { item, branch, call }),
        (any::<usize>(), any::<bool>()).prop_map(|(item, withdrawn)| Change::Withdraw { item, withdrawn }),
        (any::<usize>(), 0..2usize).prop_map(|(item, item_type)| Change::Retype { item, item_type }),
        any::<usize>().prop_map(|item| Change::Delete { item }),
        (0..3usize, any::<usize>(), minute.clone()).prop_map(|(patron, item, minute)| Change::Checkout {
            patron,
            item,
            minute
        }),
        (any::<usize>(), minute.clone()).prop_map(|(item, minute)| Change::Renew { item, minute }),
        (any::<usize>(), 0..2usize, minute).prop_map(|(item, branch, minute)| Change::CheckIn { item, branch, minute }),
        (0..3usize, 0..3usize).prop_map(|(patron, category)| Change::Recategorise { patron, category }),
        (0..3usize, 0..(8 * 24 * 60i64), 1..5000i64, any::<bool>())
            .prop_map(|(patron, minute, amount, paid)| Change::Charge { patron, minute, amount, paid }),
    ]
}

/// Applies one change through the storage API. A change the library refuses (deleting an item
/// that has loans, lending a copy already out) changes nothing, which the counts must agree with.
fn apply(db: &dyn Database, bib: BibId, barcodes: &mut Vec<String>, next: &mut usize, change: &Change) {
    let pick = |i: usize| barcodes.get(i % barcodes.len().max(1)).cloned();
    let minute = |m: i64| at("2026-10-31T00:00:00Z") + chrono::Duration::minutes(m) + chrono::Duration::seconds(m % 60);
    match change {
        Change::AddItem { branch, item_type, call } => {
            let bc = format!("X{next}");
            *next += 1;
            let it = item(&bc, BRANCHES[*branch], TYPES[*item_type], CALLS[*call], ItemStatus::Available);
            db.create_item(bib, &it).expect("add item");
            barcodes.push(bc);
        }
        Change::Reshelve { item, branch, call } => {
            if let Some(bc) = pick(*item) {
                edit_item(db, &bc, |i| {
                    i.home_branch = code(BRANCHES[*branch]);
                    i.call_number = CALLS[*call].map(str::to_string);
                });
            }
        }
        Change::Withdraw { item, withdrawn } => {
            if let Some(bc) = pick(*item) {
                let status = if *withdrawn { ItemStatus::Withdrawn } else { ItemStatus::Available };
                edit_item(db, &bc, |i| i.status = status);
            }
        }
        Change::Retype { item, item_type } => {
            if let Some(bc) = pick(*item) {
                edit_item(db, &bc, |i| i.item_type = code(TYPES[*item_type]));
            }
        }
        Change::Delete { item } => {
            if let Some(bc) = pick(*item) {
                if db.delete_item(item_id(db, &bc)).is_ok() {
                    barcodes.retain(|b| *b != bc);
                }
            }
        }
        Change::Checkout { patron, item, minute: m } => {
            if let Some(bc) = pick(*item) {
                let when = minute(*m);
                let _ = db.checkout(CARDS[*patron], &barcode(&bc), when, &mut |_| {
                    Some(LoanWrite {
                        checkout_branch: code(BRANCHES[*m as usize % 2]),
                        due_at: when + chrono::Duration::days(14),
                        override_entry: None,
                        holds: Vec::new(),
                    })
                });
            }
        }
        Change::Renew { item, minute: m } => {
            if let Some(bc) = pick(*item) {
                let when = minute(*m);
                let _ = db.renew(&barcode(&bc), when, &mut |_| {
                    Some(RenewalWrite { due_at: when + chrono::Duration::days(14), override_entry: None })
                });
            }
        }
        Change::CheckIn { item, branch, minute: m } => {
            if let Some(bc) = pick(*item) {
                let when = minute(*m);
                let _ = db.check_in(&barcode(&bc), when, &mut |_| {
                    Some(CheckinWrite {
                        return_branch: code(BRANCHES[*branch]),
                        returned_at: when,
                        overdue_charge: Money::ZERO,
                        status: ItemStatus::Available,
                        holding_branch: code(BRANCHES[*branch]),
                        holds: Vec::new(),
                        transit: None,
                        found: None,
                    })
                });
            }
        }
        Change::Recategorise { patron: p, category } => {
            patron(db, CARDS[*p], CATEGORIES[*category], BRANCHES[*p % 2]);
        }
        Change::Charge { patron, minute: m, amount, paid } => {
            try_charge_and_pay(db, CARDS[*patron], minute(*m), *amount, *paid);
        }
    }
}

fn counts_equal_the_scan_over_random_changes(db: &dyn Database) {
    library(db);
    let bib = record(db, "Random", Some("301.4 RAN"));
    let barcodes = std::cell::RefCell::new(["D1", "D2", "D3", "E1", "E2", "W1", "R1"].map(String::from).to_vec());
    let next = std::cell::RefCell::new(0);
    // A fixed seed: the same sequences on every run and backend. The database carries over from
    // one case to the next, so later cases start from a library with history (and shrinking,
    // which would replay a case on a changed library, is off).
    let config = Config { cases: 6, failure_persistence: None, max_shrink_iters: 0, ..Config::default() };
    let mut runner = TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    runner
        .run(&proptest::collection::vec(change(), 1..40), |changes| {
            for (n, c) in changes.iter().enumerate() {
                apply(db, bib, &mut barcodes.borrow_mut(), &mut next.borrow_mut(), c);
                if n % 5 == 4 || n + 1 == changes.len() {
                    assert_counts_match_scan(db, &format!("after {:?}", &changes[..=n]));
                }
            }
            Ok(())
        })
        .expect("counts equal the scan");
    assert!(db.circulation_by_day_by_scan(&bound_sets()[2], None).expect("scan").iter().any(|c| c.checkouts > 0));
}

// ---------------------------------------------------------------------------------------------
// The migration's backfill.

/// What migration 0016 created, dropped again so the database is as an older Shelfmark left it.
fn undo_report_counts(h: &Harness) {
    if let Some((url, schema)) = &h.pg_schema {
        let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
        client
            .batch_execute(&format!(
                "SET search_path TO {schema}; \
                 DROP TABLE collection_counts, circulation_hours, circulation_days, ledger_hours; \
                 DROP FUNCTION collection_count_insert, collection_count_change, circulation_count_loan, \
                 circulation_count_renewal, circulation_count_item_type, circulation_count_patron_category, \
                 ledger_count CASCADE; \
                 DROP FUNCTION count_collection, collection_class, count_events; \
                 DROP INDEX loans_item_idx, loans_patron_idx, loan_renewals_loan_idx; \
                 DELETE FROM schema_migrations WHERE version = 16"
            ))
            .expect("undo 0016 on PostgreSQL");
    } else {
        let dir = match &h.config {
            storage::StorageConfig::Sqlite(options) => options.data_dir.join("shelfmark.db"),
            other => panic!("not SQLite: {other:?}"),
        };
        let conn = rusqlite::Connection::open(dir).expect("open");
        let triggers: Vec<String> = conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' \
                 AND (name LIKE 'collection_count_%' OR name LIKE 'circulation_count_%' OR name LIKE 'ledger_count_%')",
            )
            .expect("triggers")
            .query_map([], |r| r.get(0))
            .expect("triggers")
            .collect::<Result<_, _>>()
            .expect("triggers");
        assert_eq!(triggers.len(), 13, "{triggers:?}");
        for t in triggers {
            conn.execute_batch(&format!("DROP TRIGGER {t}")).expect("drop trigger");
        }
        conn.execute_batch(
            "DROP TABLE collection_counts; DROP TABLE circulation_hours; DROP TABLE circulation_days; \
             DROP TABLE ledger_hours; \
             DROP INDEX loans_item_idx; DROP INDEX loans_patron_idx; DROP INDEX loan_renewals_loan_idx; \
             DELETE FROM schema_migrations WHERE version = 16",
        )
        .expect("undo 0016 on SQLite");
    }
}

fn backfill_counts_what_the_library_held_before_the_migration(h: &mut Harness) {
    library(h.db());
    circulate(h.db());
    charge_and_pay(h.db(), "P1", at("2026-11-02T15:00:00Z"), 150, true);
    undo_report_counts(h);
    charge_and_pay(h.db(), "P2", at("2026-11-03T18:31:00Z"), 2500, true);
    // Lending and cataloguing under the old schema: nothing keeps counts.
    let db = h.db();
    check_in(db, "E1", "MAIN", "2026-11-04T18:45:00Z");
    renew(db, "D3", "2026-11-04T18:29:59Z", "2026-11-30T23:00:00Z");
    checkout(db, "P3", "D1", "EAST", "2026-11-05T18:30:00Z", "2026-11-30T23:00:00Z");
    edit_item(db, "D2", |i| i.home_branch = code("EAST"));
    edit_item(db, "E2", |i| i.status = ItemStatus::Withdrawn);
    // Upgrading runs 0016, whose backfill must count all of it.
    h.reopen();
    assert_counts_match_scan(h.db(), "after the backfill");
    assert_eq!(
        h.db().collection(ClassScheme::Dewey, None).expect("dewey"),
        [group("500-599", None, 1), group("800-899", None, 2), group("900-999", None, 1)]
    );
    assert_eq!(
        h.db().circulation_by(CirculationGroup::Branch, spans()[2], None).expect("by branch"),
        [group("EAST", Some("East Branch"), counts(3, 1, 1)), group("MAIN", Some("Main Library"), counts(4, 1, 1))]
    );
    assert_eq!(
        h.db().money_by_day(&bound_sets()[2]).expect("money")[1..4],
        [
            MoneyDay { cash: m(165), card: m(0), paid_out: m(15) },
            MoneyDay { cash: m(0), card: m(2750), paid_out: m(250) },
            MoneyDay::default()
        ]
    );
    // And the triggers it created keep counting.
    check_in(h.db(), "D1", "MAIN", "2026-11-06T10:15:00Z");
    assert_counts_match_scan(h.db(), "after a check-in following the backfill");
}
