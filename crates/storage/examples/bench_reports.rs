//! Report query speed on SQLite at a large library's scale: `--items` items (default 1,000,000)
//! on records of four copies each at four branches, a year of loans (`--loans`, default 500,000, most
//! returned, a tenth renewed, a few hundred overdue), 50,000 patrons registered over the year,
//! 200,000 ledger entries and 20,000 open holds. The rows are written straight into the schema
//! that `storage::open` created (a bulk load, not the desk's one transaction per loan), then
//! each report's `ReportStore` call is timed: the median and worst of 5 runs, for 30 days and
//! for a whole year, for the whole library and for one branch. The reports that read kept counts
//! (migration 0016) are timed again counting by scan (`*_by_scan`, what they did before), and
//! by day in Kolkata, whose days start on the half hour and so count their edges from the loans.
//!
//! `--zipf S` lends the returned loans' titles by a Zipf law of exponent `S` (title `r` about
//! `1 / r^S` as often as the first) instead of every title equally (each title twice a year,
//! `S = 0`, the default): real lending is skewed, and the top-titles report's merge settles
//! from the kept counts only when it is (on even lending it falls back to the scan).
//!
//! `cargo run --release -p storage --example bench_reports -- [--items N] [--loans N] [--zipf S]`

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use reports::{Period, Threshold};
use rusqlite::params;
use storage::reports::{CirculationGroup, ClassScheme};
use storage::StorageConfig;

type Error = Box<dyn std::error::Error>;

const BRANCHES: [&str; 4] = ["MAIN", "EAST", "WEST", "NORTH"];
const CALL_NUMBERS: [&str; 8] = [
    "813.54 KIN",
    "J 599.75 SMI",
    "QA76.73.R87 K53 2018",
    "PR4034 .E5 2003",
    "FIC KING",
    "305.8 ABC",
    "E184.5 .B3",
    "REF 030 WOR",
];

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn float_arg(name: &str, default: f64) -> f64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Titles `0..records` drawn by a Zipf law of exponent `s` from a fixed pseudo-random sequence.
struct Zipf {
    cumulative: Vec<f64>,
    state: u64,
}

impl Zipf {
    fn new(records: usize, s: f64) -> Zipf {
        let mut total = 0.0;
        let cumulative = (1..=records)
            .map(|r| {
                total += 1.0 / (r as f64).powf(s);
                total
            })
            .collect();
        Zipf { cumulative, state: 0x9E37_79B9_7F4A_7C15 }
    }

    fn next(&mut self) -> usize {
        self.state = self.state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let u = (self.state >> 11) as f64 / (1u64 << 53) as f64 * total;
        self.cumulative.partition_point(|c| *c < u).min(self.cumulative.len().saturating_sub(1))
    }
}

fn rfc(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn load(path: &std::path::Path, items: usize, loans: usize, zipf: f64) -> Result<(), Error> {
    let mut c = rusqlite::Connection::open(path)?;
    c.pragma_update(None, "synchronous", "OFF")?;
    let tx = c.transaction()?;
    for b in BRANCHES {
        tx.execute("INSERT INTO branches (code, name) VALUES (?1, ?1)", [b])?;
    }
    tx.execute("INSERT INTO item_types (code, name, loanable) VALUES ('BK', 'Book', 1), ('DVD', 'Video', 1)", [])?;
    let start = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).single().ok_or("date")?;
    let at = |i: usize, of: usize| start + chrono::Duration::seconds((i as i64 * 365 * 86_400) / of.max(1) as i64);
    let records = items.div_ceil(4).max(1);
    {
        let mut st = tx.prepare(
            "INSERT INTO bib_records (marc, marc_sha256, title, title_fold, format, created_at, updated_at) \
             VALUES (x'00', x'00', ?1, ?1, 'book', ?2, ?2)",
        )?;
        for r in 0..records {
            st.execute(params![format!("Title {r}"), rfc(start)])?;
        }
        let keys: Vec<Vec<u8>> = CALL_NUMBERS
            .iter()
            .map(|c| callnumber::CallNumber::parse(c, callnumber::Scheme::Auto).sort_key())
            .collect();
        let mut st = tx.prepare(
            "INSERT INTO items (bib_id, barcode, home_branch, holding_branch, call_number, call_number_sort, \
             item_type, status, created_at, updated_at) VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        )?;
        for i in 0..items {
            let status = if i < loans / 20 { "checked_out" } else { "available" };
            st.execute(params![
                (i % records) as i64 + 1,
                format!("3{i:012}"),
                BRANCHES[i % 4],
                CALL_NUMBERS[i % 8],
                keys[i % 8],
                if i % 10 == 0 { "DVD" } else { "BK" },
                status,
                rfc(start)
            ])?;
        }
        let patrons = 50_000;
        let mut st = tx.prepare(
            "INSERT INTO patrons (card_number, surname, first_name, category, home_branch, expiry_date, \
             created_at, updated_at) VALUES (?1, 'Reader', 'Pat', ?2, ?3, '2030-01-01', ?4, ?4)",
        )?;
        for p in 0..patrons {
            let cat = ["ADULT", "CHILD", "SENIOR"][p % 3];
            st.execute(params![format!("2{p:012}"), cat, BRANCHES[p % 4], rfc(at(p, patrons))])?;
        }
        // Loans: the last twentieth still open (the first few hundred of those overdue).
        let mut st = tx.prepare(
            "INSERT INTO loans (item_id, patron_id, checkout_branch, checked_out_at, due_at, renewals, \
             returned_at, return_branch) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?3)",
        )?;
        let mut renew = tx.prepare("INSERT INTO loan_renewals (loan_id, renewed_at) VALUES (?1, ?2)")?;
        let open_from = loans - loans / 20;
        let now = start + chrono::Duration::days(365);
        let mut titles = (zipf > 0.0).then(|| Zipf::new(records, zipf));
        for l in 0..loans {
            let out = at(l, loans);
            let open = l >= open_from;
            let due = if open && l < open_from + 300 {
                now - chrono::Duration::days(3)
            } else {
                out + chrono::Duration::days(21)
            };
            // A returned loan's copy: by turns, or one of the four copies of a title drawn by
            // the Zipf law (title r's copies are items r, r + records, ...).
            let item = match (&mut titles, open) {
                (_, true) => (l - open_from) as i64 + 1,
                (Some(z), false) => (z.next() + records * (l % 4)).min(items - 1) as i64 + 1,
                (None, false) => (l % items) as i64 + 1,
            };
            let returned = (!open).then(|| rfc(out + chrono::Duration::days(14)));
            st.execute(params![
                item,
                (l % patrons) as i64 + 1,
                BRANCHES[l % 4],
                rfc(out),
                rfc(due),
                i64::from(l % 10 == 0),
                returned
            ])?;
            if l % 10 == 0 {
                renew.execute(params![tx.last_insert_rowid(), rfc(out + chrono::Duration::days(7))])?;
            }
        }
        let entries = 200_000;
        let mut st =
            tx.prepare("INSERT INTO ledger_entries (patron_id, kind, amount, at, method) VALUES (?1, ?2, ?3, ?4, ?5)")?;
        for e in 0..entries {
            let (kind, amount, method) = match e % 4 {
                0 => ("overdue", 150, None),
                1 => ("payment", -150, Some("cash")),
                2 => ("lost", 2500, None),
                _ => ("payment", -2500, Some("card")),
            };
            st.execute(params![(e % patrons) as i64 + 1, kind, amount, rfc(at(e, entries)), method])?;
        }
        let mut st = tx.prepare(
            "INSERT INTO holds (patron_id, bib_id, pickup_branch, placed_at, queue_position, status) \
             VALUES (?1, ?2, ?3, ?4, ?5, 'waiting')",
        )?;
        for h in 0..20_000usize {
            st.execute(params![
                (h % patrons) as i64 + 1,
                (h % records) as i64 + 1,
                BRANCHES[h % 4],
                rfc(at(h, 20_000)),
                h as i64
            ])?;
        }
    }
    tx.commit()?;
    c.execute_batch("ANALYZE")?;
    Ok(())
}

fn time<T>(runs: usize, mut f: impl FnMut() -> Result<T, storage::StorageError>) -> Result<(f64, f64), Error> {
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        std::hint::black_box(f()?);
        times.push(t.elapsed());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    Ok((ms(times[runs / 2]), ms(times[runs - 1])))
}

fn main() -> Result<(), Error> {
    let items = arg("--items", 1_000_000);
    let loans = arg("--loans", 500_000).min(items * 20);
    let zipf = float_arg("--zipf", 0.0);
    let dir = tempfile::tempdir()?;
    let db = storage::open(&StorageConfig::parse(dir.path().to_str().ok_or("path")?))?;
    let started = Instant::now();
    load(&dir.path().join("shelfmark.db"), items, loans, zipf)?;
    println!("loaded {items} items, {loans} loans (zipf {zipf}) in {:.1} s", started.elapsed().as_secs_f64());
    let zone = chrono_tz_utc();
    let month = Period::new(day(2025, 12, 1)?, day(2025, 12, 30)?, zone)?;
    let year = Period::new(day(2025, 1, 1)?, day(2025, 12, 31)?, zone)?;
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().ok_or("date")?;
    let main = catalog::Code::parse("MAIN")?;
    println!("| report | range | branch | median ms | worst ms |\n|---|---|---|---:|---:|");
    for (label, period) in [("30 days", &month), ("365 days", &year)] {
        for branch in [None, Some(&main)] {
            let b = branch.map_or("all", |c| c.as_str());
            let span = period.span();
            let row = |name: &str, (median, worst): (f64, f64)| {
                println!("| {name} | {label} | {b} | {median:.1} | {worst:.1} |");
            };
            row("circulation by day", time(5, || db.circulation_by_day(&period.bounds, branch))?);
            row("circulation by day, by scan", time(5, || db.circulation_by_day_by_scan(&period.bounds, branch))?);
            let kolkata = Period::new(period.from, period.to, reports::Tz::Asia__Kolkata)?;
            row("circulation by day, Kolkata", time(5, || db.circulation_by_day(&kolkata.bounds, branch))?);
            row("circulation by branch", time(5, || db.circulation_by(CirculationGroup::Branch, span, branch))?);
            row("circulation by item type", time(5, || db.circulation_by(CirculationGroup::ItemType, span, branch))?);
            row(
                "circulation by item type, by scan",
                time(5, || db.circulation_by_by_scan(CirculationGroup::ItemType, span, branch))?,
            );
            row(
                "circulation by patron category",
                time(5, || db.circulation_by(CirculationGroup::PatronCategory, span, branch))?,
            );
            row("top titles", time(5, || db.top_titles(span, branch, 25))?);
            row("top titles, Kolkata", time(5, || db.top_titles(kolkata.span(), branch, 25))?);
            row("top titles, by scan", time(5, || db.top_titles_by_scan(span, branch, 25))?);
            row("registrations by day", time(5, || db.registrations_by_day(&period.bounds, branch))?);
            row("registrations by category", time(5, || db.registrations_by_category(span, branch))?);
            if branch.is_none() {
                row("money by day", time(5, || db.money_by_day(&period.bounds))?);
                row("money by day, by scan", time(5, || db.money_by_day_by_scan(&period.bounds))?);
                row("money by day, Kolkata", time(5, || db.money_by_day(&kolkata.bounds))?);
                row("money by type", time(5, || db.money_by_type(span))?);
                row("money by type, by scan", time(5, || db.money_by_type_by_scan(span))?);
                row("money by type, Kolkata", time(5, || db.money_by_type(kolkata.span()))?);
            }
        }
    }
    for branch in [None, Some(&main)] {
        let b = branch.map_or("all", |c| c.as_str());
        let row =
            |name: &str, (median, worst): (f64, f64)| println!("| {name} | now | {b} | {median:.1} | {worst:.1} |");
        row("overdue (first page of 50)", time(5, || db.overdue_loans(now, branch, None, 50))?);
        row("holds to copies", time(5, || db.holds_ratio(branch, Threshold { holds: 1, copies: 100 }, 100))?);
        row("collection by Dewey hundreds", time(5, || db.collection(ClassScheme::Dewey, branch))?);
        row("collection by LC class", time(5, || db.collection(ClassScheme::Lc, branch))?);
        row("collection by Dewey hundreds, by scan", time(5, || db.collection_by_scan(ClassScheme::Dewey, branch))?);
        row("collection by LC class, by scan", time(5, || db.collection_by_scan(ClassScheme::Lc, branch))?);
    }
    Ok(())
}

fn day(y: i32, m: u32, d: u32) -> Result<NaiveDate, Error> {
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| "date".into())
}

fn chrono_tz_utc() -> reports::Tz {
    reports::Tz::UTC
}
