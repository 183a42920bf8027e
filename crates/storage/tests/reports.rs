//! The reports' aggregate queries on every backend: a small library where every checkout,
//! renewal, check-in, registration, hold and payment is made at a known instant, and every
//! report's numbers are what those events add up to: per local day (New York, so a loan at
//! 03:00 UTC belongs to the day before), per branch, item type and category, with a branch
//! filter, paged, and with the edges of the range exclusive at the end.

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

suite! {
    db: [
        circulation_by_local_day_and_branch,
        circulation_grouped_by_branch_item_type_and_category,
        top_titles_and_the_overdue_list_paged,
        holds_to_copies_above_a_threshold,
        collection_by_dewey_hundreds_and_lc_class,
        registrations_by_day_and_category,
        money_by_day_and_type,
    ],
    harness: [],
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
