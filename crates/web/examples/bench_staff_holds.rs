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

mod common;

use std::time::{Duration, Instant};

use catalog::{Barcode, Branch};
use chrono::Utc;
use common::staff::{barcode, code, create_account, load_items, open_database, serve, Clerk, ITEMS_PER_RECORD};
use common::{ms, Error};
use storage::holds::{HoldPlacement, HoldTarget, NewHold};
use storage::{Database, Patron};

/// N items at MAIN, ten per record, with varied Dewey call numbers; the branch EAST.
fn load(db: &dyn Database, items: usize) -> Result<(), Error> {
    load_items(db, items, "Holds benchmark", |i| format!("{}.{} BEN", 100 + i % 800, i % 97))?;
    db.upsert_branch(&Branch { code: code("EAST")?, name: "East Branch".into() })?;
    db.upsert_patron(&Patron {
        card_number: "HOLDER".into(),
        surname: "Bench".into(),
        first_name: "Holder".into(),
        category: code("ADULT")?,
        home_branch: code("MAIN")?,
        expiry_date: "2099-12-31".into(),
        email: None,
    })?;
    create_account(db, &["clerk", "cataloger"])
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
    let db = open_database(url.as_deref(), dir.path())?;
    load(&*db, items)?;
    let desk = desk::Desk::new(desk::CirculationSettings::default().build()?);
    holds(&*db, &desk, items, hold_count)?;

    let (runtime, base) = serve(db.clone(), desk)?;
    let clerk = Clerk::log_in(&base)?;

    // A staged file, sent as a raw body.
    let koha = std::fs::read(shared_data("marc/koha-sample/koha-sample-with-items.mrc"))?;
    let started = Instant::now();
    let r = clerk
        .client
        .post(format!("{base}/staff/cataloging/import?name=koha.mrc"))
        .header("cookie", &clerk.cookie)
        .header("content-type", "application/marc")
        .body(koha)
        .send()?;
    let staged_in = started.elapsed();
    let preview = r.headers().get("location").and_then(|v| v.to_str().ok()).ok_or("no preview")?.to_string();

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
