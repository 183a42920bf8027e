//! The counts of migration 0019 on every backend, held to the scans they replace: money per
//! UTC day (`ledger_days`, with `ledger_hours` and the ledger at the edges) over a year in three
//! zones, and the top titles read from the per-title month counts (`title_months`) by a
//! threshold merge, over random loan sequences, spans of up to 367 days, every branch filter
//! and several limits; after loans are moved, re-dated or deleted and items moved to another
//! record; and after the migration's backfill of a library that was already lending.

#![allow(clippy::unwrap_used)]

mod common;

use catalog::{Barcode, BibDerived, Branch, Code, ItemStatus, ItemType, Money, NewItem};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use circulation::{Actor, Apply, ChargeKind, PaymentMethod, Posting, StaffId};
use reports::{Period, Tz};
use storage::loans::{CheckinWrite, LoanWrite};
use storage::{BibId, Database, NewRecord, Patron};

use common::Harness;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

suite! {
    db: [
        money_over_a_year_equals_the_scan_in_every_zone,
        top_titles_equal_the_scan_over_random_loans,
        top_titles_settle_a_skewed_year_and_break_ties_by_record,
        top_titles_of_even_lending_sum_every_title_and_break_ties_by_record,
    ],
    harness: [
        counts_follow_loans_and_entries_changed_by_hand,
        backfill_counts_what_the_library_held_before_the_migration,
        holds_to_copies_equal_the_scan_over_random_item_and_hold_changes,
        copies_backfill_counts_what_the_library_held_before_the_migration,
        backfill_0021_counts_the_holds_and_loans_from_before_the_migration,
    ],
}

fn code(s: &str) -> Code {
    Code::parse(s).unwrap()
}

fn barcode(s: &str) -> Barcode {
    Barcode::parse(s).unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

const BRANCHES: [&str; 3] = ["MAIN", "EAST", "WEST"];
const CARDS: [&str; 3] = ["P1", "P2", "P3"];

fn item(bc: &str, branch: &str) -> NewItem {
    NewItem {
        barcode: barcode(bc),
        home_branch: code(branch),
        holding_branch: code(branch),
        location: None,
        collection: None,
        call_number: None,
        item_type: code("BK"),
        price: None,
        public_note: None,
        staff_note: None,
        materials_specified: None,
        status: ItemStatus::Available,
        acquired_on: None,
    }
}

/// Three branches, three patrons, and `titles` records: record `r` has `1 + r % 3` copies, the
/// first `T{r}A` at the branch `r % 3`, so popularity is skewed by copies as well as by chance.
/// Returns each copy's barcode and record.
fn library(db: &dyn Database, titles: usize) -> Vec<(String, BibId)> {
    for b in BRANCHES {
        db.upsert_branch(&Branch { code: code(b), name: format!("{b} branch") }).unwrap();
    }
    db.upsert_item_type(&ItemType { code: code("BK"), name: "Book".into(), loanable: true }).unwrap();
    for card in CARDS {
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
    let mut copies = Vec::new();
    for r in 0..titles {
        let title = format!("Title {r}");
        let derived = BibDerived { title: title.clone(), ..BibDerived::default() };
        let bib =
            db.create_record(&NewRecord { marc: format!("{title}\x1d").into_bytes(), derived, row: None }).unwrap();
        for c in 0..=(r % 3) {
            let bc = format!("T{r}{}", ["A", "B", "C"][c]);
            db.create_item(bib, &item(&bc, BRANCHES[(r + c) % 3])).unwrap();
            copies.push((bc, bib));
        }
    }
    copies
}

/// Lends a copy at `when` from `branch`, first checking it in (at the same instant) if it is out.
fn lend(db: &dyn Database, card: &str, bc: &str, branch: &str, when: DateTime<Utc>) {
    let _ = db
        .check_in(&barcode(bc), when, &mut |_| {
            Some(CheckinWrite {
                return_branch: code(branch),
                returned_at: when,
                overdue_charge: Money::ZERO,
                status: ItemStatus::Available,
                holding_branch: code(branch),
                holds: Vec::new(),
                transit: None,
                found: None,
            })
        })
        .unwrap();
    db.checkout(card, &barcode(bc), when, &mut |_| {
        Some(LoanWrite {
            checkout_branch: code(branch),
            due_at: when + Duration::days(21),
            override_entry: None,
            holds: Vec::new(),
        })
    })
    .unwrap()
    .unwrap();
}

/// Spans of up to 367 days that start and end anywhere: on UTC months, on local midnights in
/// New York and Kolkata (half hours), inside one month, across a year's end, and empty.
fn title_spans() -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let local = |from: NaiveDate, to: NaiveDate, zone: Tz| Period::new(from, to, zone).unwrap().span();
    vec![
        local(day(2026, 1, 1), day(2026, 12, 31), Tz::UTC),
        local(day(2026, 1, 1), day(2026, 12, 31), Tz::America__New_York),
        local(day(2025, 12, 15), day(2026, 12, 16), Tz::Asia__Kolkata),
        local(day(2026, 3, 1), day(2026, 3, 31), Tz::UTC),
        local(day(2026, 3, 3), day(2026, 3, 20), Tz::Asia__Kolkata),
        local(day(2026, 2, 20), day(2026, 4, 10), Tz::America__New_York),
        (at("2026-05-31T23:30:00Z"), at("2026-06-01T00:30:00Z")),
        (at("2026-06-01T00:00:00Z"), at("2026-06-01T00:00:00Z")),
        (at("2025-11-01T00:00:00Z"), at("2026-11-01T00:00:00Z")),
    ]
}

/// The top titles read from the counts equal the scan for every span, branch and limit.
fn assert_titles_match_scan(db: &dyn Database, when: &str) {
    for branch in [None, Some(code("MAIN")), Some(code("EAST"))] {
        let b = branch.as_ref();
        for span in title_spans() {
            for limit in [1, 3, 10, 40] {
                let scan = db.top_titles_by_scan(span, b, limit).unwrap();
                assert_eq!(
                    db.top_titles(span, b, limit).unwrap(),
                    scan,
                    "{when}: top {limit} titles over {span:?} at {b:?}"
                );
                assert_eq!(
                    db.top_titles_summed(span, b, limit).unwrap(),
                    scan,
                    "{when}: top {limit} titles summed over {span:?} at {b:?}"
                );
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Loan {
    copy: usize,
    patron: usize,
    branch: usize,
    minute: i64,
}

fn loan() -> impl Strategy<Value = Loan> {
    // Minutes over fourteen months from 1 December 2025, so spans cut months at both ends.
    // Copies drawn as the square of a uniform number: the first ones are lent far more often.
    (0..1000usize, 0..3usize, 0..3usize, 0..(425 * 24 * 60i64)).prop_map(|(x, patron, branch, minute)| Loan {
        copy: x * x / 1000,
        patron,
        branch,
        minute,
    })
}

fn top_titles_equal_the_scan_over_random_loans(db: &dyn Database) {
    let copies = library(db, 45);
    assert_titles_match_scan(db, "no loans");
    let start = at("2025-12-01T00:00:00Z");
    // A fixed seed: the same sequences on every run and backend; the library carries over from
    // one case to the next, so later cases start from one with history.
    let config = Config { cases: 4, failure_persistence: None, max_shrink_iters: 0, ..Config::default() };
    let mut runner = TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    runner
        .run(&proptest::collection::vec(loan(), 20..70), |loans| {
            for l in &loans {
                let (bc, _) = &copies[l.copy * copies.len() / 1000];
                let when = start + Duration::minutes(l.minute) + Duration::seconds(l.minute % 60);
                lend(db, CARDS[l.patron], bc, BRANCHES[l.branch], when);
            }
            assert_titles_match_scan(db, &format!("after {} more loans", loans.len()));
            Ok(())
        })
        .unwrap();
    let year = title_spans()[0];
    assert!(db.top_titles(year, None, 10).unwrap().len() == 10, "enough titles lent to fill the page");
}

/// A skewed year the merge settles from the counts (checked against the scan, with ties on
/// the last place broken by record id), and one exactly at its edges.
fn top_titles_settle_a_skewed_year_and_break_ties_by_record(db: &dyn Database) {
    let copies = library(db, 40);
    let first = |r: usize| copies.iter().find(|(bc, _)| *bc == format!("T{r}A")).unwrap().clone();
    // Title r is lent 12 - r times a month for the first ten, once a month for the rest, on the
    // 10th at 12:00 plus r minutes.
    for month in 1..=12u32 {
        for r in 0..40usize {
            let times = if r < 10 { 12 - r } else { 1 };
            let (bc, _) = first(r);
            for t in 0..times {
                let when = at(&format!("2026-{month:02}-10T12:00:00Z")) + Duration::minutes((r * 20 + t) as i64);
                lend(db, "P1", &bc, BRANCHES[t % 3], when);
            }
        }
    }
    let year = (at("2026-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z"));
    let top = db.top_titles(year, None, 3).unwrap();
    let got: Vec<(i64, i64)> = top.iter().map(|t| (t.bib_id, t.checkouts)).collect();
    assert_eq!(got, [(first(0).1, 144), (first(1).1, 132), (first(2).1, 120)]);
    assert_eq!(top[0].title, "Title 0");
    // Thirty titles tie on 12 for the last places: the lower record ids win.
    let twelve = db.top_titles(year, None, 12).unwrap();
    assert_eq!(
        twelve[10..].iter().map(|t| (t.bib_id, t.checkouts)).collect::<Vec<_>>(),
        [(first(10).1, 12), (first(11).1, 12)]
    );
    assert_eq!(twelve, db.top_titles_by_scan(year, None, 12).unwrap());
    // The last loan of title 0 in June is at 12:11; a span ending there leaves it out.
    let june = (at("2026-06-01T00:00:00Z"), at("2026-06-10T12:11:00Z"));
    assert_eq!(db.top_titles(june, None, 1).unwrap()[0].checkouts, 11);
    assert_titles_match_scan(db, "the skewed year");
}

fn charge_and_pay(db: &dyn Database, card: &str, when: DateTime<Utc>, amount: i64) {
    let posting = Posting { at: when, by: Actor::Staff(StaffId(7)), note: String::new() };
    let method = if when.timestamp() / 60 % 2 == 1 { PaymentMethod::Card } else { PaymentMethod::Cash };
    db.post_to_account(card, when, None, &mut |_, l| {
        l.post_charge(posting.clone(), ChargeKind::Overdue, Money::from_minor(amount), None)?;
        l.pay_keeping_credit(posting.clone(), method, Money::from_minor(amount + amount / 10), Apply::OldestFirst)?;
        if amount >= 10 {
            l.payout(posting.clone(), PaymentMethod::Cash, Money::from_minor(amount / 10))?;
        }
        Ok(())
    })
    .unwrap()
    .unwrap();
}

/// Day bounds of a year in UTC, New York (whole hours from UTC) and Kolkata (half hours).
fn year_bounds() -> Vec<Vec<DateTime<Utc>>> {
    [Tz::UTC, Tz::America__New_York, Tz::Asia__Kolkata]
        .into_iter()
        .map(|zone| Period::new(day(2026, 1, 1), day(2026, 12, 31), zone).unwrap().bounds)
        .collect()
}

fn money_spans() -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut spans: Vec<_> = year_bounds().into_iter().map(|b| (b[0], b[b.len() - 1])).collect();
    spans.extend([
        (at("2026-03-03T14:10:00Z"), at("2026-03-03T14:50:00Z")),
        (at("2026-03-03T02:00:00Z"), at("2026-03-04T01:00:00Z")),
        (at("2026-03-03T02:30:00Z"), at("2026-03-05T01:30:00Z")),
        (at("2026-03-03T00:00:00Z"), at("2026-03-04T00:00:00Z")),
        (at("2026-03-04T00:00:00Z"), at("2026-03-04T00:00:00Z")),
    ]);
    spans
}

fn assert_money_matches_scan(db: &dyn Database, when: &str) {
    for bounds in year_bounds() {
        assert_eq!(
            db.money_by_day(&bounds).unwrap(),
            db.money_by_day_by_scan(&bounds).unwrap(),
            "{when}: money by day from {}",
            bounds[0]
        );
    }
    for span in money_spans() {
        assert_eq!(
            db.money_by_type(span).unwrap(),
            db.money_by_type_by_scan(span).unwrap(),
            "{when}: money by type over {span:?}"
        );
    }
}

/// Money on whole hours, half hours, the first and last instants of UTC and local days, and
/// random minutes over a year and a month either side.
fn money_over_a_year_equals_the_scan_in_every_zone(db: &dyn Database) {
    library(db, 1);
    assert_money_matches_scan(db, "no entries");
    for (i, t) in [
        "2025-12-31T23:59:59Z",
        "2026-01-01T00:00:00Z",
        "2026-01-01T05:00:00Z",
        "2026-01-01T18:29:59Z",
        "2026-01-01T18:30:00Z",
        "2026-03-03T14:30:00Z",
        "2026-03-04T00:00:00Z",
        "2026-07-01T04:00:00Z",
        "2026-12-31T18:30:00Z",
        "2026-12-31T23:59:59Z",
        "2027-01-01T00:00:00Z",
    ]
    .into_iter()
    .enumerate()
    {
        charge_and_pay(db, CARDS[i % 3], at(t), 100 + i as i64);
    }
    // A fixed pseudo-random sequence of minutes over fourteen months (a 64-bit LCG).
    let start = at("2025-12-01T00:00:00Z");
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..120 {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let minute = ((x >> 33) % (425 * 24 * 60)) as i64;
        charge_and_pay(
            db,
            CARDS[i % 3],
            start + Duration::minutes(minute) + Duration::seconds(minute % 60),
            5 + i as i64,
        );
    }
    assert_money_matches_scan(db, "a year of payments");
    let by_day = db.money_by_day(&year_bounds()[2]).unwrap();
    assert!(by_day.iter().filter(|d| d.cash.minor() + d.card.minor() > 0).count() > 50);
}

// ---------------------------------------------------------------------------------------------
// Changes made by hand, and the backfill: SQL on the harness's own database.

fn execute(h: &Harness, sql: &str) {
    if let Some((url, schema)) = &h.pg_schema {
        let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
        client.batch_execute(&format!("SET search_path TO {schema}; {sql}")).unwrap();
    } else {
        let path = match &h.config {
            storage::StorageConfig::Sqlite(options) => options.data_dir.join("shelfmark.db"),
            other => panic!("not SQLite: {other:?}"),
        };
        rusqlite::Connection::open(path).unwrap().execute_batch(sql).unwrap();
    }
}

fn counts_follow_loans_and_entries_changed_by_hand(h: &mut Harness) {
    let copies = library(h.db(), 12);
    let start = at("2026-01-15T10:00:00Z");
    for i in 0..60usize {
        let (bc, _) = &copies[(i * i) % copies.len()];
        lend(h.db(), CARDS[i % 3], bc, BRANCHES[i % 3], start + Duration::hours(i as i64 * 151));
        charge_and_pay(h.db(), CARDS[i % 3], start + Duration::minutes(i as i64 * 9_007), 50 + i as i64);
    }
    assert_titles_match_scan(h.db(), "the loans");
    assert_money_matches_scan(h.db(), "the entries");
    let (_, moved) = &copies[1];
    let (_, onto) = &copies[copies.len() - 1];
    for (what, sql) in [
        ("a copy moved to another record", format!("UPDATE items SET bib_id = {onto} WHERE barcode = 'T1A'")),
        (
            "loans re-dated into other months",
            "UPDATE loans SET checked_out_at = returned_at WHERE returned_at IS NOT NULL AND id % 3 = 0".to_string(),
        ),
        ("loans moved to another branch", "UPDATE loans SET checkout_branch = 'WEST' WHERE id % 4 = 1".to_string()),
        ("loans deleted", "DELETE FROM loans WHERE id % 5 = 2 AND returned_at IS NOT NULL".to_string()),
        (
            "entries re-dated",
            "UPDATE ledger_entries SET at = '2026-06-30T23:59:00.000000Z' WHERE id % 3 = 0".to_string(),
        ),
        (
            "entries deleted",
            "DELETE FROM ledger_allocations WHERE credit_id % 4 = 1 OR charge_id % 4 = 1; \
             DELETE FROM ledger_entries WHERE id % 4 = 1"
                .to_string(),
        ),
    ] {
        execute(h, &sql);
        assert_titles_match_scan(h.db(), what);
        assert_money_matches_scan(h.db(), what);
    }
    // The moved copy's checkouts now count for the record it joined.
    let year = (at("2026-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z"));
    assert!(h.db().top_titles(year, None, 40).unwrap().iter().any(|t| t.bib_id == *onto));
    assert_ne!(moved, onto);
}

/// What migration 0019 created, dropped again so the database is as session 7 left it.
fn undo_0019(h: &Harness) {
    if h.pg_schema.is_some() {
        execute(
            h,
            "DROP TABLE ledger_days, title_months; \
             DROP FUNCTION ledger_day_count, title_count_loan, title_count_item_record CASCADE; \
             DROP FUNCTION count_title; \
             DROP INDEX items_bib_status_idx; CREATE INDEX items_bib_id_idx ON items (bib_id); \
             DROP INDEX loans_item_idx; CREATE INDEX loans_item_idx ON loans (item_id); \
             DELETE FROM schema_migrations WHERE version = 19",
        );
    } else {
        execute(
            h,
            "DROP TRIGGER ledger_day_count_insert; DROP TRIGGER ledger_day_count_update; \
             DROP TRIGGER ledger_day_count_delete; DROP TRIGGER title_count_loan_insert; \
             DROP TRIGGER title_count_loan_delete; DROP TRIGGER title_count_loan_move; \
             DROP TRIGGER title_count_item_record; DROP TABLE ledger_days; DROP TABLE title_months; \
             DROP INDEX items_bib_status_idx; CREATE INDEX items_bib_id_idx ON items (bib_id); \
             DROP INDEX loans_item_idx; CREATE INDEX loans_item_idx ON loans (item_id); \
             DELETE FROM schema_migrations WHERE version = 19",
        );
    }
}

fn backfill_counts_what_the_library_held_before_the_migration(h: &mut Harness) {
    let copies = library(h.db(), 20);
    let start = at("2025-12-20T10:00:00Z");
    for i in 0..40usize {
        let (bc, _) = &copies[(i * i) % copies.len()];
        lend(h.db(), CARDS[i % 3], bc, BRANCHES[i % 3], start + Duration::hours(i as i64 * 211));
        charge_and_pay(h.db(), CARDS[i % 3], start + Duration::minutes(i as i64 * 13_001), 70 + i as i64);
    }
    undo_0019(h);
    // Lending and payments under the old schema: nothing keeps these counts.
    for i in 0..20usize {
        let (bc, _) = &copies[(i * 7) % copies.len()];
        lend(
            h.db(),
            CARDS[i % 3],
            bc,
            BRANCHES[(i + 1) % 3],
            at("2026-05-02T10:00:00Z") + Duration::hours(i as i64 * 97),
        );
        charge_and_pay(h.db(), CARDS[i % 3], at("2026-05-02T10:00:00Z") + Duration::minutes(i as i64 * 4_001), 30);
    }
    // Upgrading runs 0019, whose backfill must count all of it.
    h.reopen();
    assert_titles_match_scan(h.db(), "after the backfill");
    assert_money_matches_scan(h.db(), "after the backfill");
    assert!(!h.db().top_titles(title_spans()[0], None, 5).unwrap().is_empty());
    // And the triggers it created keep counting.
    lend(h.db(), "P1", &copies[0].0, "EAST", at("2026-08-08T08:08:00Z"));
    charge_and_pay(h.db(), "P2", at("2026-08-08T08:30:00Z"), 999);
    assert_titles_match_scan(h.db(), "after a loan following the backfill");
    assert_money_matches_scan(h.db(), "after a payment following the backfill");
}

/// Lending spread evenly, the case the merge gives up on in a large library: every copy lent on the same days of
/// every month, so whole classes of titles tie and the record id decides; the summed counts
/// equal the scan over every span (edges in half-hour zones, most of a month read as its list
/// less the rest), and the titles with more copies, lent more, come first.
fn top_titles_of_even_lending_sum_every_title_and_break_ties_by_record(db: &dyn Database) {
    let copies = library(db, 60);
    for month in 0..14i64 {
        for (c, (bc, _)) in copies.iter().enumerate() {
            let when = at("2025-12-01T06:00:00Z") + Duration::days(month * 30 + (c % 5) as i64 * 6);
            lend(db, CARDS[c % 3], bc, BRANCHES[c % 3], when + Duration::minutes(c as i64 * 7));
        }
    }
    assert_titles_match_scan(db, "even lending");
    // Records r with r % 3 = 2 have three copies: the top ten are the first ten of them.
    let year = title_spans()[0];
    let top = db.top_titles_summed(year, None, 10).unwrap();
    assert!(top.windows(2).all(|w| w[0].checkouts == w[1].checkouts && w[0].bib_id < w[1].bib_id), "{top:?}");
    assert_eq!(top, db.top_titles(year, None, 10).unwrap());
    let three: Vec<String> = (0..10).map(|k| format!("Title {}", 3 * k + 2)).collect();
    assert_eq!(top.iter().map(|t| t.title.clone()).collect::<Vec<_>>(), three);
}

// Holds to copies from the kept copies per title (migration 0020).

/// The report from the kept copies equals counting the items, for every branch filter, several
/// thresholds (titles without copies among them) and limits.
fn assert_ratio_matches_scan(db: &dyn Database, when: &str) {
    for branch in [None, Some(code("MAIN")), Some(code("EAST")), Some(code("WEST"))] {
        let b = branch.as_ref();
        for threshold in [(0, 1), (1, 1), (1, 100), (2, 1), (3, 2)] {
            let threshold = reports::Threshold { holds: threshold.0, copies: threshold.1 };
            for limit in [1, 4, 100] {
                assert_eq!(
                    db.holds_ratio(b, threshold, limit).unwrap(),
                    db.holds_ratio_by_scan(b, threshold, limit).unwrap(),
                    "{when}: holds to copies above {threshold:?}, {limit} at {b:?}"
                );
            }
        }
    }
}

#[derive(Debug, Clone)]
enum CopyChange {
    /// A new copy of a record, at a branch, withdrawn or not.
    Add {
        title: usize,
        branch: usize,
        status: ItemStatus,
    },
    /// A copy's new status (in and out of the collection, and changes that leave it in).
    Status {
        copy: usize,
        status: ItemStatus,
    },
    /// A copy moved to another home branch.
    Branch {
        copy: usize,
        branch: usize,
    },
    /// A copy moved to another record (by SQL, as a record merge does).
    Record {
        copy: usize,
        title: usize,
    },
    Delete {
        copy: usize,
    },
    /// A hold placed on a record for pickup at a branch, or every seventh open hold cancelled.
    Hold {
        title: usize,
        branch: usize,
    },
    Cancel {
        which: usize,
    },
    /// Open holds (every fifth, from `which`) moved to another pickup branch.
    HoldBranch {
        which: usize,
        branch: usize,
    },
    /// Open holds moved to another record (by SQL, as a record merge does).
    HoldRecord {
        which: usize,
        title: usize,
    },
    /// Holds filled, suspended (still open), or reopened after a cancellation.
    HoldStatus {
        which: usize,
        from: &'static str,
        to: &'static str,
    },
    /// Holds deleted (by SQL: the desk never deletes one).
    HoldDelete {
        which: usize,
    },
}

fn copy_change() -> impl Strategy<Value = CopyChange> {
    let status = prop_oneof![
        Just(ItemStatus::Available),
        Just(ItemStatus::Withdrawn),
        Just(ItemStatus::CheckedOut),
        Just(ItemStatus::Lost),
    ];
    prop_oneof![
        (0..12usize, 0..3usize, status.clone()).prop_map(|(title, branch, status)| CopyChange::Add {
            title,
            branch,
            status
        }),
        (0..100usize, status).prop_map(|(copy, status)| CopyChange::Status { copy, status }),
        (0..100usize, 0..3usize).prop_map(|(copy, branch)| CopyChange::Branch { copy, branch }),
        (0..100usize, 0..12usize).prop_map(|(copy, title)| CopyChange::Record { copy, title }),
        (0..100usize).prop_map(|copy| CopyChange::Delete { copy }),
        (0..12usize, 0..3usize).prop_map(|(title, branch)| CopyChange::Hold { title, branch }),
        (0..7usize).prop_map(|which| CopyChange::Cancel { which }),
        (0..5usize, 0..3usize).prop_map(|(which, branch)| CopyChange::HoldBranch { which, branch }),
        (0..5usize, 0..12usize).prop_map(|(which, title)| CopyChange::HoldRecord { which, title }),
        (
            0..5usize,
            prop_oneof![
                Just(("waiting", "filled")),
                Just(("waiting", "suspended")),
                Just(("suspended", "waiting")),
                Just(("cancelled", "waiting")),
                Just(("suspended", "expired")),
            ]
        )
            .prop_map(|(which, (from, to))| CopyChange::HoldStatus { which, from, to }),
        (0..5usize).prop_map(|which| CopyChange::HoldDelete { which }),
    ]
}

/// The copies still in the catalogue: (barcode, home branch), by their id.
type Copies = Vec<(storage::ItemId, String, usize)>;

fn apply(h: &Harness, titles: &[BibId], copies: &mut Copies, next: &mut usize, change: &CopyChange) {
    let db = h.db();
    let pick = |copies: &Copies, copy: usize| (!copies.is_empty()).then(|| copy % copies.len());
    match change.clone() {
        CopyChange::Add { title, branch, status } => {
            let bc = format!("C{next}");
            *next += 1;
            let id = db.create_item(titles[title], &NewItem { status, ..item(&bc, BRANCHES[branch]) }).unwrap();
            copies.push((id, bc, branch));
        }
        CopyChange::Status { copy, status } => {
            if let Some(i) = pick(copies, copy) {
                let (id, bc, branch) = &copies[i];
                db.update_item(*id, &NewItem { status, ..item(bc, BRANCHES[*branch]) }).unwrap();
            }
        }
        CopyChange::Branch { copy, branch } => {
            if let Some(i) = pick(copies, copy) {
                let (id, bc, _) = copies[i].clone();
                let status = db.item(id).unwrap().unwrap().item.status;
                db.update_item(id, &NewItem { status, ..item(&bc, BRANCHES[branch]) }).unwrap();
                copies[i].2 = branch;
            }
        }
        CopyChange::Record { copy, title } => {
            if let Some(i) = pick(copies, copy) {
                execute(h, &format!("UPDATE items SET bib_id = {} WHERE id = {}", titles[title], copies[i].0));
            }
        }
        CopyChange::Delete { copy } => {
            if let Some(i) = pick(copies, copy) {
                let (id, _, _) = copies.remove(i);
                db.delete_item(id).unwrap();
            }
        }
        CopyChange::Hold { title, branch } => execute(
            h,
            &format!(
                "INSERT INTO holds (patron_id, bib_id, pickup_branch, placed_at, queue_position, status) \
                 SELECT id, {}, '{}', '2026-11-03T12:00:00.000000Z', 1, 'waiting' FROM patrons \
                 WHERE card_number = 'P1'",
                titles[title], BRANCHES[branch]
            ),
        ),
        CopyChange::Cancel { which } => {
            execute(h, &format!("UPDATE holds SET status = 'cancelled' WHERE status = 'waiting' AND id % 7 = {which}"))
        }
        CopyChange::HoldBranch { which, branch } => execute(
            h,
            &format!(
                "UPDATE holds SET pickup_branch = '{}' WHERE status IN ('waiting', 'suspended') AND id % 5 = {which}",
                BRANCHES[branch]
            ),
        ),
        CopyChange::HoldRecord { which, title } => execute(
            h,
            &format!(
                "UPDATE holds SET bib_id = {} WHERE status IN ('waiting', 'suspended') AND id % 5 = {which}",
                titles[title]
            ),
        ),
        CopyChange::HoldStatus { which, from, to } => {
            execute(h, &format!("UPDATE holds SET status = '{to}' WHERE status = '{from}' AND id % 5 = {which}"))
        }
        CopyChange::HoldDelete { which } => execute(h, &format!("DELETE FROM holds WHERE id % 5 = {which}")),
    }
}

fn holds_to_copies_equal_the_scan_over_random_item_and_hold_changes(h: &mut Harness) {
    let lib = library(h.db(), 12);
    let mut titles: Vec<BibId> = lib.iter().map(|(_, bib)| *bib).collect();
    titles.dedup();
    let mut copies: Copies =
        lib.iter().map(|(bc, _)| (h.db().item_by_barcode(&barcode(bc)).unwrap().unwrap().id, bc.clone(), 0)).collect();
    for (i, (bc, _)) in lib.iter().enumerate() {
        let branch = BRANCHES
            .iter()
            .position(|b| *b == h.db().item_by_barcode(&barcode(bc)).unwrap().unwrap().item.home_branch.as_str());
        copies[i].2 = branch.unwrap();
    }
    assert_ratio_matches_scan(h.db(), "no holds");
    // The runner takes a `Fn`: the catalogue it changes carries over from case to case.
    let (copies, next) = (std::cell::RefCell::new(copies), std::cell::Cell::new(0));
    let config = Config { cases: 6, failure_persistence: None, max_shrink_iters: 0, ..Config::default() };
    let mut runner = TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    runner
        .run(&proptest::collection::vec(copy_change(), 10..40), |changes| {
            for change in &changes {
                let mut n = next.get();
                apply(h, &titles, &mut copies.borrow_mut(), &mut n, change);
                next.set(n);
            }
            assert_ratio_matches_scan(h.db(), &format!("after {changes:?}"));
            Ok(())
        })
        .unwrap();
    let every = h.db().holds_ratio(None, reports::Threshold { holds: 0, copies: 1 }, 100).unwrap();
    assert!(!every.is_empty(), "holds placed on the way");
}

/// What migration 0021 made of `title_copies`, and its `title_years`, undone so the database is
/// as session 9 left it.
fn undo_0021(h: &Harness) {
    if h.pg_schema.is_some() {
        execute(
            h,
            "DROP TABLE title_years; DROP FUNCTION title_year_count_loan, title_year_count_item_record CASCADE; \
             DROP FUNCTION title_holds_insert, title_holds_change CASCADE; DROP INDEX title_copies_ratio_idx; \
             ALTER TABLE title_copies DROP COLUMN holds; DELETE FROM title_copies WHERE branch = '*'; \
             CREATE OR REPLACE FUNCTION title_copies_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             INSERT INTO title_copies (bib_id, branch, copies) SELECT bib_id, home_branch, count(*) FROM inserted \
             WHERE status <> 'withdrawn' GROUP BY 1, 2 ORDER BY 1, 2 ON CONFLICT (bib_id, branch) \
             DO UPDATE SET copies = title_copies.copies + excluded.copies; RETURN NULL; END $$; \
             CREATE OR REPLACE FUNCTION title_copies_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status <> 'withdrawn' THEN \
             INSERT INTO title_copies (bib_id, branch, copies) VALUES (OLD.bib_id, OLD.home_branch, -1) \
             ON CONFLICT (bib_id, branch) DO UPDATE SET copies = title_copies.copies + excluded.copies; END IF; \
             IF TG_OP = 'UPDATE' AND NEW.status <> 'withdrawn' THEN \
             INSERT INTO title_copies (bib_id, branch, copies) VALUES (NEW.bib_id, NEW.home_branch, 1) \
             ON CONFLICT (bib_id, branch) DO UPDATE SET copies = title_copies.copies + excluded.copies; END IF; \
             RETURN NULL; END $$; \
             DELETE FROM schema_migrations WHERE version = 21",
        );
    } else {
        execute(
            h,
            "DROP TRIGGER title_year_count_loan_insert; DROP TRIGGER title_year_count_loan_delete; \
             DROP TRIGGER title_year_count_loan_move; DROP TRIGGER title_year_count_item_record; DROP TABLE title_years; \
             DROP TRIGGER title_holds_insert; DROP TRIGGER title_holds_update; DROP TRIGGER title_holds_delete; \
             DROP INDEX title_copies_ratio_idx; ALTER TABLE title_copies DROP COLUMN holds; \
             DELETE FROM title_copies WHERE branch = '*'; \
             DROP TRIGGER title_copies_update; DROP TRIGGER title_copies_delete; \
             CREATE TRIGGER title_copies_update AFTER UPDATE OF bib_id, home_branch, status ON items \
             WHEN old.bib_id IS NOT new.bib_id OR old.home_branch IS NOT new.home_branch \
             OR (old.status = 'withdrawn') <> (new.status = 'withdrawn') BEGIN \
             INSERT INTO title_copies (bib_id, branch, copies) \
             SELECT old.bib_id, old.home_branch, -1 WHERE old.status <> 'withdrawn' \
             UNION ALL SELECT new.bib_id, new.home_branch, 1 WHERE new.status <> 'withdrawn' \
             ON CONFLICT (bib_id, branch) DO UPDATE SET copies = copies + excluded.copies; END; \
             CREATE TRIGGER title_copies_delete AFTER DELETE ON items WHEN old.status <> 'withdrawn' BEGIN \
             INSERT INTO title_copies (bib_id, branch, copies) VALUES (old.bib_id, old.home_branch, -1) \
             ON CONFLICT (bib_id, branch) DO UPDATE SET copies = copies + excluded.copies; END; \
             DELETE FROM schema_migrations WHERE version = 21",
        );
    }
}

/// What migrations 0020 and 0021 created, dropped again so the database is as session 8 left it.
fn undo_0020(h: &Harness) {
    undo_0021(h);
    if h.pg_schema.is_some() {
        execute(
            h,
            "DROP TABLE title_copies; DROP FUNCTION title_copies_insert, title_copies_change CASCADE; \
             DELETE FROM schema_migrations WHERE version = 20",
        );
    } else {
        execute(
            h,
            "DROP TRIGGER title_copies_update; DROP TRIGGER title_copies_delete; DROP TABLE title_copies; \
             DELETE FROM schema_migrations WHERE version = 20",
        );
    }
}

fn copies_backfill_counts_what_the_library_held_before_the_migration(h: &mut Harness) {
    let lib = library(h.db(), 15);
    let titles: Vec<BibId> = lib.iter().map(|(_, bib)| *bib).collect();
    for (i, title) in titles.iter().enumerate().step_by(2) {
        execute(
            h,
            &format!(
                "INSERT INTO holds (patron_id, bib_id, pickup_branch, placed_at, queue_position, status) \
                 SELECT id, {title}, '{}', '2026-11-03T12:00:00.000000Z', 1, 'waiting' FROM patrons",
                BRANCHES[i % 3]
            ),
        );
    }
    undo_0020(h);
    // Copies added, withdrawn and deleted under the old schema (by SQL: this storage's insert
    // path counts new copies itself, an older one did not): nothing keeps their counts.
    for (i, title) in titles.iter().enumerate().take(6) {
        execute(
            h,
            &format!(
                "INSERT INTO items (bib_id, barcode, home_branch, holding_branch, item_type, status, created_at, \
                 updated_at) VALUES ({title}, 'OLD{i}', '{b}', '{b}', 'BK', 'available', '2026-11-03T12:00:00.000000Z', \
                 '2026-11-03T12:00:00.000000Z')",
                b = BRANCHES[i % 3]
            ),
        );
        match i % 3 {
            0 => execute(h, &format!("UPDATE items SET status = 'withdrawn' WHERE barcode = 'OLD{i}'")),
            1 => execute(h, &format!("DELETE FROM items WHERE barcode = 'OLD{i}'")),
            _ => execute(h, &format!("UPDATE items SET home_branch = 'WEST' WHERE barcode = 'T{i}A'")),
        }
    }
    h.reopen();
    assert_ratio_matches_scan(h.db(), "after the backfill");
    // And the triggers (and on SQLite the insert path) it created keep counting.
    let id = h.db().create_item(titles[0], &item("NEW1", "EAST")).unwrap();
    assert_ratio_matches_scan(h.db(), "a copy added after the backfill");
    h.db().update_item(id, &NewItem { status: ItemStatus::Withdrawn, ..item("NEW1", "EAST") }).unwrap();
    assert_ratio_matches_scan(h.db(), "a copy withdrawn after the backfill");
}

/// Holds placed, filled, cancelled and moved, and loans made, under session 9's schema (no
/// holds or years kept), then the upgrade: 0021's backfill counts the open holds and each
/// title's checkouts per year, and its triggers keep counting.
fn backfill_0021_counts_the_holds_and_loans_from_before_the_migration(h: &mut Harness) {
    let lib = library(h.db(), 15);
    let mut titles: Vec<BibId> = lib.iter().map(|(_, bib)| *bib).collect();
    titles.dedup();
    let start = at("2025-12-20T10:00:00Z");
    for i in 0..30usize {
        let (bc, _) = &lib[(i * i) % lib.len()];
        lend(h.db(), CARDS[i % 3], bc, BRANCHES[i % 3], start + Duration::hours(i as i64 * 307));
    }
    undo_0021(h);
    for i in 0..30usize {
        let (bc, _) = &lib[(i * 7) % lib.len()];
        lend(h.db(), CARDS[i % 3], bc, BRANCHES[(i + 1) % 3], start + Duration::hours(i as i64 * 293 + 5));
    }
    for (i, title) in titles.iter().enumerate() {
        execute(
            h,
            &format!(
                "INSERT INTO holds (patron_id, bib_id, pickup_branch, placed_at, queue_position, status) \
                 SELECT id, {title}, '{}', '2026-11-03T12:00:00.000000Z', 1, 'waiting' FROM patrons",
                BRANCHES[i % 3]
            ),
        );
    }
    execute(
        h,
        "UPDATE holds SET status = 'filled' WHERE id % 4 = 0; UPDATE holds SET status = 'cancelled' WHERE id % 4 = 1; \
         UPDATE holds SET pickup_branch = 'WEST' WHERE id % 4 = 2; UPDATE holds SET status = 'suspended' WHERE id % 8 = 3",
    );
    // A copy withdrawn under the old schema: `*` must count it too.
    execute(h, "UPDATE items SET status = 'withdrawn' WHERE barcode = 'T2A'");
    h.reopen();
    assert_ratio_matches_scan(h.db(), "after the backfill");
    assert_titles_match_scan(h.db(), "after the backfill");
    lend(h.db(), "P1", &lib[0].0, "EAST", at("2026-08-08T08:08:00Z"));
    assert_titles_match_scan(h.db(), "a loan after the backfill");
    let every = h.db().holds_ratio(None, reports::Threshold { holds: 0, copies: 1 }, 100).unwrap();
    assert!(every.len() > 5, "open holds counted: {every:?}");
    execute(h, "UPDATE holds SET status = 'filled' WHERE id % 4 = 2");
    assert_ratio_matches_scan(h.db(), "holds filled after the backfill");
    let id = h.db().create_item(titles[4], &item("NEW1", "EAST")).unwrap();
    assert_ratio_matches_scan(h.db(), "a copy added after the backfill");
    h.db().update_item(id, &NewItem { status: ItemStatus::Withdrawn, ..item("NEW1", "EAST") }).unwrap();
    assert_ratio_matches_scan(h.db(), "a copy withdrawn after the backfill");
}
