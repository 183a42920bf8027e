//! The staff client's holds and transits lists and the staged import's preview, timed as a
//! clerk's browser sees them, over a catalog of N items (issue 6: every page under 100 ms
//! server-side at 1,000,000 items). On the catalog: holds whose copies are on the shelf (the
//! pull list), copies trapped on the hold shelf (half of them past their pickup date), copies in
//! transit from this branch and to it; and a staged file of the Koha sample (436 records) whose
//! preview is read. The server is the real router on 127.0.0.1 over a real database; the client
//! is one keep-alive connection signed in through `/staff/login`, one request at a time.
//!
//! `cargo run --release -p web --example bench_staff_holds -- [--items N] [--holds N] [--samples N] [--database-url URL]`
//! SQLite in a temporary directory by default. `SHELFMARK_SHARED` locates the Koha sample.

use std::sync::Arc;
use std::time::{Duration, Instant};

use catalog::{Barcode, BibDerived, Branch, Code, ItemStatus, ItemType, NewItem, ShelvingLocation};
use chrono::Utc;
use storage::holds::{HoldPlacement, HoldTarget, NewHold};
use storage::{Database, ImportCandidate, NewRecord, OnMatch, Patron, StorageConfig};

type Error = Box<dyn std::error::Error + Send + Sync>;

const ITEMS_PER_RECORD: usize = 10;

fn code(s: &str) -> Result<Code, Error> {
    Ok(Code::parse(s)?)
}

fn ms(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn barcode(i: usize) -> String {
    format!("3{i:013}")
}

/// N items at MAIN, ten per record, with varied Dewey call numbers.
fn load(db: &dyn Database, items: usize) -> Result<(), Error> {
    for (c, name) in [("MAIN", "Main Library"), ("EAST", "East Branch")] {
        db.upsert_branch(&Branch { code: code(c)?, name: name.into() })?;
    }
    db.upsert_location(&ShelvingLocation { code: code("STACKS")?, name: "Stacks".into() })?;
    db.upsert_item_type(&ItemType { code: code("BK")?, name: "Book".into(), loanable: true })?;
    db.upsert_patron(&Patron {
        card_number: "HOLDER".into(),
        surname: "Bench".into(),
        first_name: "Holder".into(),
        category: code("ADULT")?,
        home_branch: code("MAIN")?,
        expiry_date: "2099-12-31".into(),
        email: None,
    })?;
    let started = Instant::now();
    let (mut batch, mut made, mut record_no) = (Vec::new(), 0, 0);
    while made < items {
        record_no += 1;
        let derived = BibDerived { title: format!("Holds benchmark record {record_no}"), ..BibDerived::default() };
        let mut marc = format!("bench record {record_no}").into_bytes();
        marc.push(0x1d);
        let n = ITEMS_PER_RECORD.min(items - made);
        let its: Vec<NewItem> = (made..made + n)
            .map(|i| {
                Ok(NewItem {
                    barcode: Barcode::parse(&barcode(i))?,
                    home_branch: code("MAIN")?,
                    holding_branch: code("MAIN")?,
                    location: Some(code("STACKS")?),
                    collection: None,
                    call_number: Some(format!("{}.{} BEN", 100 + i % 800, i % 97)),
                    item_type: code("BK")?,
                    price: None,
                    public_note: None,
                    staff_note: None,
                    materials_specified: None,
                    status: ItemStatus::Available,
                    acquired_on: None,
                })
            })
            .collect::<Result<_, Error>>()?;
        made += n;
        batch.push(ImportCandidate { record: NewRecord { marc, derived, row: None }, items: its });
        if batch.len() == 100 || made == items {
            db.import_batch(&batch, OnMatch::Add)?;
            batch.clear();
        }
    }
    eprintln!("loaded {items} items in {:.1} s ({})", started.elapsed().as_secs_f64(), db.backend());
    db.create_staff(
        &storage::staff::NewStaff {
            login: "desk1".into(),
            name: "Desk one".into(),
            roles: vec!["clerk".into(), "cataloger".into()],
            branches: vec![],
            password_hash: accounts::hash_password("bench desk password")?,
        },
        Utc::now(),
    )?;
    Ok(())
}

/// `holds` title-level holds spread over the catalog, in four kinds: waiting (the pull list),
/// trapped on MAIN's shelf long ago (expired) and today, and picked up at EAST (in transit).
fn holds(db: &dyn Database, desk: &desk::Desk, items: usize, holds: usize) -> Result<(), Error> {
    let records = items.div_ceil(ITEMS_PER_RECORD);
    let stride = (records / holds.max(1)).max(1);
    let long_ago = Utc::now() - chrono::Duration::days(30);
    for h in 0..holds {
        let bib = (h * stride) as i64 + 1;
        let kind = h % 4;
        let pickup = if kind == 3 { "EAST" } else { "MAIN" };
        let at = if kind == 1 { long_ago } else { Utc::now() };
        let hold = NewHold {
            card_number: "HOLDER".into(),
            target: HoldTarget::Record(bib),
            pickup_branch: code(pickup)?,
            not_needed_after: None,
        };
        // Storage's placement without the rule's hold limit: one patron holds them all.
        db.place_hold(&hold, at, &mut |_| Some(HoldPlacement::default()))?;
        if kind != 0 {
            let copy = Barcode::parse(&barcode((bib as usize - 1) * ITEMS_PER_RECORD))?;
            desk.check_in(db, &copy, &code("MAIN")?, None, at)?;
        }
    }
    Ok(())
}

struct Clerk {
    client: reqwest::blocking::Client,
    base: String,
    cookie: String,
}

impl Clerk {
    fn get(&self, path: &str, expect: &str) -> Result<Duration, Error> {
        let started = Instant::now();
        let r = self.client.get(format!("{}{path}", self.base)).header("cookie", &self.cookie).send()?;
        let status = r.status();
        let body = r.text()?;
        let took = started.elapsed();
        if !status.is_success() || !body.contains(expect) {
            return Err(format!("GET {path}: {status}, no {expect:?} in the page").into());
        }
        Ok(took)
    }
}

fn shared_data(relative: &str) -> std::path::PathBuf {
    let shared = std::env::var_os("SHELFMARK_SHARED")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    shared.join("data").join(relative)
}

fn main() -> Result<(), Error> {
    let (mut items, mut hold_count, mut samples, mut url) = (1_000_000usize, 400usize, 100usize, None);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--items" => items = args.next().ok_or("--items N")?.parse()?,
            "--holds" => hold_count = args.next().ok_or("--holds N")?.parse()?,
            "--samples" => samples = args.next().ok_or("--samples N")?.parse()?,
            "--database-url" => url = Some(args.next().ok_or("--database-url URL")?),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let dir = tempfile::tempdir()?;
    let config = match &url {
        Some(u) => StorageConfig::parse(u),
        None => StorageConfig::parse(dir.path().to_str().ok_or("temp dir path")?),
    };
    let db: Arc<dyn Database> = storage::open(&config)?;
    load(&*db, items)?;
    let desk = desk::Desk::new(desk::CirculationSettings::default().build()?);
    holds(&*db, &desk, items, hold_count)?;

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let base = format!("http://{}", listener.local_addr()?);
    runtime.spawn(web::serve(listener, web::router(db.clone(), web::WebConfig::default(), desk, None)));

    let client = reqwest::blocking::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let r = client
        .post(format!("{base}/staff/login"))
        .form(&[("login", "desk1"), ("password", "bench desk password")])
        .send()?;
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .ok_or("the log-in set no cookie")?
        .to_string();

    // A staged file, sent as a raw body.
    let koha = std::fs::read(shared_data("marc/koha-sample/koha-sample-with-items.mrc"))?;
    let started = Instant::now();
    let r = client
        .post(format!("{base}/staff/cataloging/import?name=koha.mrc"))
        .header("cookie", &cookie)
        .header("content-type", "application/marc")
        .body(koha)
        .send()?;
    let staged_in = started.elapsed();
    let preview = r.headers().get("location").and_then(|v| v.to_str().ok()).ok_or("no preview")?.to_string();
    let clerk = Clerk { client, base, cookie };

    let mut rows: Vec<(&str, Vec<Duration>)> = vec![
        ("pull list (GET /staff/holds/pull-list)", Vec::new()),
        ("hold shelf (GET /staff/holds/shelf)", Vec::new()),
        ("expired holds (GET /staff/holds/expired)", Vec::new()),
        ("transits (GET /staff/transits)", Vec::new()),
        ("import preview, first 100 records", Vec::new()),
    ];
    for _ in 0..samples {
        rows[0].1.push(clerk.get("/staff/holds/pull-list?branch=MAIN", "class=\"pull\"")?);
        rows[1].1.push(clerk.get("/staff/holds/shelf?branch=MAIN", "class=\"on-shelf\"")?);
        rows[2].1.push(clerk.get("/staff/holds/expired?branch=MAIN", "class=\"on-shelf\"")?);
        rows[3].1.push(clerk.get("/staff/transits?branch=MAIN", "class=\"transit\"")?);
        rows[4].1.push(clerk.get(&preview, "id=\"count-records\"")?);
    }
    println!(
        "| staff holds lists, {items} items, {hold_count} holds ({}), {samples} samples | p50 ms | p99 ms |",
        db.backend()
    );
    println!("|---|---|---|");
    for (name, times) in &mut rows {
        times.sort();
        println!("| {name} | {:.2} | {:.2} |", ms(times, 0.5), ms(times, 0.99));
    }
    println!("| stage the Koha sample (436 records, one upload) | {:.0} | |", staged_in.as_secs_f64() * 1000.0);
    drop(db);
    runtime.shutdown_background();
    Ok(())
}
