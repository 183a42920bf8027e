//! Report query speed at a large library's scale, on SQLite or PostgreSQL: `--items` items (default 1,000,000)
//! on records of four copies each at four branches, a year of loans (`--loans`, default 500,000, most
//! returned, a tenth renewed, a few hundred overdue), 50,000 patrons registered over the year,
//! 200,000 ledger entries and 20,000 open holds. The rows are written straight into the schema
//! that `storage::open` created (a bulk load, not the desk's one transaction per loan), then
//! each report's `ReportStore` call is timed: the median and worst of 5 runs, for 30 days and
//! for a whole year, for the whole library and for one branch. The reports that read kept counts
//! (migration 0016) are timed again counting by scan (`*_by_scan`, what they did before), and
//! by day in Kolkata, whose days start on the half hour and so count their edges from the loans.
//! Top titles are timed once more over a rolling 365 days ending mid-year, which holds no UTC
//! year: with lending spread evenly the merge gives up there and every title is summed.
//!
//! `--zipf S` lends the returned loans' titles by a Zipf law of exponent `S` (title `r` about
//! `1 / r^S` as often as the first) instead of every title equally (each title twice a year,
//! `S = 0`, the default): real lending is skewed, and the top-titles report's merge settles
//! from the kept counts only when it is (on even lending it falls back to the scan).
//!
//! `--database-url URL` runs on PostgreSQL (an empty database: `scripts/pg-test-cluster.sh`
//! gives one) instead of SQLite in a temporary directory; the rows are loaded with `COPY`.
//!
//! `--reuse` (PostgreSQL only) skips the load when the database's `items` table already holds
//! rows, so one loaded database (7-11 minutes to load) serves many runs while a query is tuned;
//! the migrations `storage::open` finds missing are still applied, backfills and all. Pass the
//! same `--items`, `--loans` and `--zipf` as the run that loaded it.
//!
//! `cargo run --release -p storage --example bench_reports -- [--items N] [--loans N] [--zipf S] [--database-url URL] [--reuse]`

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use reports::{Period, Threshold};
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

/// A column value of a generated row, written by each backend its own way.
enum Field {
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
    Null,
}

impl rusqlite::ToSql for Field {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Field::Int(n) => ToSqlOutput::from(*n),
            Field::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            Field::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
            Field::Null => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

/// Where the generated rows go: one table at a time, its columns named once.
trait Sink {
    fn table(&mut self, table: &str, columns: &[&str], rows: &mut dyn Iterator<Item = Vec<Field>>)
        -> Result<(), Error>;
}

/// SQLite: one prepared insert per table, in the open transaction.
struct SqliteSink<'a>(&'a rusqlite::Transaction<'a>);

impl Sink for SqliteSink<'_> {
    fn table(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: &mut dyn Iterator<Item = Vec<Field>>,
    ) -> Result<(), Error> {
        let marks: Vec<String> = (1..=columns.len()).map(|n| format!("?{n}")).collect();
        let mut st =
            self.0.prepare(&format!("INSERT INTO {table} ({}) VALUES ({})", columns.join(", "), marks.join(", ")))?;
        for row in rows {
            st.execute(rusqlite::params_from_iter(row.iter()))?;
        }
        Ok(())
    }
}

/// PostgreSQL: `COPY ... FROM STDIN` in text format, the way a bulk load is done there; the
/// tables' triggers fire as they do for inserts (per row for loans and ledger entries, per
/// statement for items).
struct PostgresSink<'a, 'b>(&'a mut postgres::Transaction<'b>);

impl Sink for PostgresSink<'_, '_> {
    fn table(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: &mut dyn Iterator<Item = Vec<Field>>,
    ) -> Result<(), Error> {
        use std::fmt::Write as _;
        use std::io::Write as _;
        let mut w = self.0.copy_in(&format!("COPY {table} ({}) FROM STDIN", columns.join(", ")))?;
        let mut line = String::new();
        for row in rows {
            line.clear();
            for (n, f) in row.iter().enumerate() {
                if n > 0 {
                    line.push('\t');
                }
                match f {
                    Field::Int(v) => write!(line, "{v}")?,
                    // The generated texts hold no tab, newline or backslash.
                    Field::Text(t) => line.push_str(t),
                    Field::Bytes(b) => {
                        line.push_str("\\\\x");
                        for byte in b {
                            write!(line, "{byte:02x}")?;
                        }
                    }
                    Field::Null => line.push_str("\\N"),
                }
            }
            line.push('\n');
            w.write_all(line.as_bytes())?;
        }
        w.finish()?;
        Ok(())
    }
}

fn text(s: impl Into<String>) -> Field {
    Field::Text(s.into())
}

/// The library's rows, the same on both backends; record, item, patron and loan ids are their
/// row numbers from 1 (a fresh database).
fn generate(sink: &mut dyn Sink, items: usize, loans: usize, zipf: f64) -> Result<(), Error> {
    let start = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).single().ok_or("date")?;
    let at = |i: usize, of: usize| start + chrono::Duration::seconds((i as i64 * 365 * 86_400) / of.max(1) as i64);
    let records = items.div_ceil(4).max(1);
    sink.table(
        "bib_records",
        &["marc", "marc_sha256", "title", "title_fold", "format", "created_at", "updated_at"],
        &mut (0..records).map(|r| {
            let title = format!("Title {r}");
            vec![
                Field::Bytes(vec![0]),
                Field::Bytes(vec![0]),
                text(&title),
                text(title),
                text("book"),
                text(rfc(start)),
                text(rfc(start)),
            ]
        }),
    )?;
    let keys: Vec<Vec<u8>> =
        CALL_NUMBERS.iter().map(|c| callnumber::CallNumber::parse(c, callnumber::Scheme::Auto).sort_key()).collect();
    sink.table(
        "items",
        &[
            "bib_id",
            "barcode",
            "home_branch",
            "holding_branch",
            "call_number",
            "call_number_sort",
            "item_type",
            "status",
            "created_at",
            "updated_at",
        ],
        &mut (0..items).map(|i| {
            let status = if i < loans / 20 { "checked_out" } else { "available" };
            vec![
                Field::Int((i % records) as i64 + 1),
                text(format!("3{i:012}")),
                text(BRANCHES[i % 4]),
                text(BRANCHES[i % 4]),
                text(CALL_NUMBERS[i % 8]),
                Field::Bytes(keys[i % 8].clone()),
                text(if i % 10 == 0 { "DVD" } else { "BK" }),
                text(status),
                text(rfc(start)),
                text(rfc(start)),
            ]
        }),
    )?;
    let patrons = 50_000;
    sink.table(
        "patrons",
        &["card_number", "surname", "first_name", "category", "home_branch", "expiry_date", "created_at", "updated_at"],
        &mut (0..patrons).map(|p| {
            let cat = ["ADULT", "CHILD", "SENIOR"][p % 3];
            let created = rfc(at(p, patrons));
            vec![
                text(format!("2{p:012}")),
                text("Reader"),
                text("Pat"),
                text(cat),
                text(BRANCHES[p % 4]),
                text("2030-01-01"),
                text(&created),
                text(created),
            ]
        }),
    )?;
    // Loans: the last twentieth still open (the first few hundred of those overdue).
    let open_from = loans - loans / 20;
    let now = start + chrono::Duration::days(365);
    let mut titles = (zipf > 0.0).then(|| Zipf::new(records, zipf));
    sink.table(
        "loans",
        &[
            "item_id",
            "patron_id",
            "checkout_branch",
            "checked_out_at",
            "due_at",
            "renewals",
            "returned_at",
            "return_branch",
        ],
        &mut (0..loans).map(|l| {
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
            let returned = if open { Field::Null } else { text(rfc(out + chrono::Duration::days(14))) };
            let return_branch = if open { Field::Null } else { text(BRANCHES[l % 4]) };
            vec![
                Field::Int(item),
                Field::Int((l % patrons) as i64 + 1),
                text(BRANCHES[l % 4]),
                text(rfc(out)),
                text(rfc(due)),
                Field::Int(i64::from(l % 10 == 0)),
                returned,
                return_branch,
            ]
        }),
    )?;
    sink.table(
        "loan_renewals",
        &["loan_id", "renewed_at"],
        &mut (0..loans)
            .step_by(10)
            .map(|l| vec![Field::Int(l as i64 + 1), text(rfc(at(l, loans) + chrono::Duration::days(7)))]),
    )?;
    let entries = 200_000;
    sink.table(
        "ledger_entries",
        &["patron_id", "kind", "amount", "at", "method"],
        &mut (0..entries).map(|e| {
            let (kind, amount, method) = match e % 4 {
                0 => ("overdue", 150, Field::Null),
                1 => ("payment", -150, text("cash")),
                2 => ("lost", 2500, Field::Null),
                _ => ("payment", -2500, text("card")),
            };
            vec![
                Field::Int((e % patrons) as i64 + 1),
                text(kind),
                Field::Int(amount),
                text(rfc(at(e, entries))),
                method,
            ]
        }),
    )?;
    sink.table(
        "holds",
        &["patron_id", "bib_id", "pickup_branch", "placed_at", "queue_position", "status"],
        &mut (0..20_000usize).map(|h| {
            vec![
                Field::Int((h % patrons) as i64 + 1),
                Field::Int((h % records) as i64 + 1),
                text(BRANCHES[h % 4]),
                text(rfc(at(h, 20_000))),
                Field::Int(h as i64),
                text("waiting"),
            ]
        }),
    )?;
    Ok(())
}

const SETUP: &str = "INSERT INTO branches (code, name) VALUES ('MAIN', 'MAIN'), ('EAST', 'EAST'), ('WEST', 'WEST'), \
     ('NORTH', 'NORTH'); INSERT INTO item_types (code, name, loanable) VALUES ('BK', 'Book', true), ('DVD', 'Video', true)";

/// On SQLite storage's insert path counts new items (`collection_counts`, `title_copies`), not
/// a trigger; rows written straight into the tables are counted here as the migrations'
/// backfills count them (into rows the holds' trigger may have made already).
const SQLITE_ITEM_COUNTS: &str = "\
    INSERT INTO title_copies (bib_id, branch, copies) \
    SELECT bib_id, CASE WHEN e.every = 1 THEN '*' ELSE home_branch END, count(*) \
    FROM items CROSS JOIN (SELECT 0 AS every UNION ALL SELECT 1) e WHERE status <> 'withdrawn' GROUP BY 1, 2 \
    ON CONFLICT (bib_id, branch) DO UPDATE SET copies = copies + excluded.copies; \
    INSERT INTO collection_counts (scheme, branch, class, items) \
    SELECT CASE WHEN k IS NULL THEN 'none' WHEN substr(t, 1, 1) = char(3) THEN 'dewey' \
                WHEN substr(t, 1, 1) = char(4) THEN 'lc' ELSE 'none' END, b, \
           CASE WHEN k IS NULL THEN '' WHEN substr(t, 1, 1) = char(3) THEN substr(t, 2, 1) \
                WHEN substr(t, 1, 1) = char(4) THEN substr(t, 2, instr(t, char(1)) - 2) ELSE '' END, count(*) \
    FROM (SELECT call_number_sort AS k, home_branch AS b, ltrim(CAST(call_number_sort AS TEXT), char(16, 17, 18, \
          19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37)) AS t \
          FROM items WHERE status <> 'withdrawn') GROUP BY 1, 2, 3";

fn load(url: Option<&str>, dir: &std::path::Path, items: usize, loans: usize, zipf: f64) -> Result<(), Error> {
    match url {
        None => {
            let mut c = rusqlite::Connection::open(dir.join("shelfmark.db"))?;
            c.pragma_update(None, "synchronous", "OFF")?;
            let tx = c.transaction()?;
            tx.execute_batch(SETUP)?;
            generate(&mut SqliteSink(&tx), items, loans, zipf)?;
            tx.execute_batch(SQLITE_ITEM_COUNTS)?;
            tx.commit()?;
            c.execute_batch("ANALYZE")?;
        }
        Some(url) => {
            let mut c = postgres::Client::connect(url, postgres::NoTls)?;
            let mut tx = c.transaction()?;
            tx.batch_execute(SETUP)?;
            generate(&mut PostgresSink(&mut tx), items, loans, zipf)?;
            tx.commit()?;
            // Statistics; the visibility map (VACUUM) is made in `main`, after timing what
            // depends on it.
            c.batch_execute("ANALYZE")?;
        }
    }
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
    let args: Vec<String> = std::env::args().collect();
    let url = args.iter().position(|a| a == "--database-url").and_then(|i| args.get(i + 1)).cloned();
    let dir = tempfile::tempdir()?;
    let config = StorageConfig::parse(url.as_deref().unwrap_or(dir.path().to_str().ok_or("path")?));
    let db = storage::open(&config)?;
    let started = Instant::now();
    let loaded = match (&url, args.iter().any(|a| a == "--reuse")) {
        (Some(url), true) => {
            let mut c = postgres::Client::connect(url, postgres::NoTls)?;
            c.query_one("SELECT EXISTS (SELECT 1 FROM items)", &[])?.get::<_, bool>(0)
        }
        _ => false,
    };
    if loaded {
        println!("reusing the loaded database ({items} items, {loans} loans, zipf {zipf} assumed)");
    } else {
        load(url.as_deref(), dir.path(), items, loans, zipf)?;
        println!("loaded {items} items, {loans} loans (zipf {zipf}) in {:.1} s", started.elapsed().as_secs_f64());
    }
    let zone = chrono_tz_utc();
    let month = Period::new(day(2025, 12, 1)?, day(2025, 12, 30)?, zone)?;
    let year = Period::new(day(2025, 1, 1)?, day(2025, 12, 31)?, zone)?;
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().ok_or("date")?;
    let main = catalog::Code::parse("MAIN")?;
    let threshold = Threshold { holds: 1, copies: 100 };
    println!("| report | range | branch | median ms | worst ms |\n|---|---|---|---:|---:|");
    if let Some(url) = &url {
        // Counting a title's copies from `items_bib_status_idx` visits each entry's heap row
        // until a VACUUM has marked the pages all-visible, as after a day of circulation it
        // has not; the kept copies are one row per title and branch either way.
        for branch in [None, Some(&main)] {
            let b = branch.map_or("all", |c| c.as_str());
            let row = |name: &str, (median, worst): (f64, f64)| {
                println!("| {name}, before VACUUM | now | {b} | {median:.1} | {worst:.1} |")
            };
            row("holds to copies", time(5, || db.holds_ratio(branch, threshold, 100))?);
            row("holds to copies, by scan", time(5, || db.holds_ratio_by_scan(branch, threshold, 100))?);
        }
        postgres::Client::connect(url, postgres::NoTls)?.batch_execute("VACUUM ANALYZE")?;
    }
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
            row("top titles, summed", time(5, || db.top_titles_summed(span, branch, 25))?);
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
    // A rolling year (the last 365 days, ending mid-year): no UTC year inside it, so with
    // lending spread evenly the threshold merge cannot settle and the report sums every title.
    let rolling = Period::new(day(2024, 7, 16)?, day(2025, 7, 15)?, zone)?;
    for branch in [None, Some(&main)] {
        let b = branch.map_or("all", |c| c.as_str());
        let span = rolling.span();
        let row = |name: &str, (median, worst): (f64, f64)| {
            println!("| {name} | rolling 365 days ending mid-year | {b} | {median:.1} | {worst:.1} |");
        };
        row("top titles", time(5, || db.top_titles(span, branch, 25))?);
        row("top titles, summed", time(5, || db.top_titles_summed(span, branch, 25))?);
        row("top titles, by scan", time(5, || db.top_titles_by_scan(span, branch, 25))?);
    }
    for branch in [None, Some(&main)] {
        let b = branch.map_or("all", |c| c.as_str());
        let row =
            |name: &str, (median, worst): (f64, f64)| println!("| {name} | now | {b} | {median:.1} | {worst:.1} |");
        row("overdue (first page of 50)", time(5, || db.overdue_loans(now, branch, None, 50))?);
        row("holds to copies", time(5, || db.holds_ratio(branch, threshold, 100))?);
        row("holds to copies, by scan", time(5, || db.holds_ratio_by_scan(branch, threshold, 100))?);
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
