//! The staff client's desk actions, timed as a clerk's browser sees them, over a catalog of a
//! million items (issue 6: every page under 100 ms server-side at 1,000,000 items): scanning a
//! patron card (the desk page with the patron panel, for a patron with no loans and one with
//! 20), a checkout scan, a check-in scan, and opening the check-in screen. The server is the
//! real router on 127.0.0.1 over a real database; the client is one keep-alive connection
//! signed in through `/staff/login` with the session cookie, one request at a time, so each
//! request pays for the session lookup, and each write for its audit-log entry and its commit.
//!
//! Then every other staff screen, opened as a GET the way a browser does (patrons, cataloging,
//! holds and transits, reports, administration), over the same catalog, each timed until it has
//! 20 samples or 20 seconds.
//!
//! `cargo run --release -p web --example bench_staff_desk -- [--items N] [--samples N] [--database-url URL]`
//! SQLite in a temporary directory by default.

mod common;

use std::time::{Duration, Instant};

use common::staff::{barcode, code, create_account, load_items, open_database, serve, Clerk};
use common::{ms, Error};
use storage::{Database, Patron};

const REGULAR_LOANS: usize = 20;

fn load(db: &dyn Database, items: usize) -> Result<(), Error> {
    load_items(db, items, "Desk benchmark", |i| format!("{} BEN", 100 + i % 800))?;
    for card in ["LIGHT", "REGULAR"] {
        db.upsert_patron(&Patron {
            card_number: card.into(),
            surname: "Bench".into(),
            first_name: card.into(),
            category: code("ADULT")?,
            home_branch: code("MAIN")?,
            expiry_date: "2099-12-31".into(),
            email: None,
        })?;
    }
    // Admin grants every permission: one account opens every screen.
    create_account(db, &["clerk", "admin"])
}

fn main() -> Result<(), Error> {
    let (mut items, mut samples, mut url) = (1_000_000usize, 300usize, None);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--items" => items = args.next().ok_or("--items N")?.parse()?,
            "--samples" => samples = args.next().ok_or("--samples N")?.parse()?,
            "--database-url" => url = Some(args.next().ok_or("--database-url URL")?),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if items < samples + REGULAR_LOANS {
        return Err("--items must exceed --samples by the regular patron's loans".into());
    }
    let dir = tempfile::tempdir()?;
    let db = open_database(url.as_deref(), dir.path())?;
    load(&*db, items)?;

    let desk = desk::Desk::new(desk::CirculationSettings::default().build()?);
    let (runtime, base) = serve(db.clone(), desk)?;
    let clerk = Clerk::log_in(&base)?;

    // The regular patron's loans, spread over the catalog.
    let stride = items / (samples + REGULAR_LOANS);
    for k in 0..REGULAR_LOANS {
        let b = barcode((samples + k) * stride);
        clerk.post("/staff/desk/checkout", &[("card", "REGULAR"), ("barcode", &b)], Some("Checked out: "))?;
    }

    let (mut scan_light, mut scan_regular, mut outs, mut ins, mut screens) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for s in 0..samples {
        let b = barcode(s * stride);
        scan_light.push(clerk.get("/staff/desk?card=LIGHT", "id=\"item-barcode\"")?);
        scan_regular.push(clerk.get("/staff/desk?card=REGULAR", "Loans (20)")?);
        outs.push(clerk.post("/staff/desk/checkout", &[("card", "LIGHT"), ("barcode", &b)], Some("Checked out: "))?);
        screens.push(clerk.get("/staff/checkin", "id=\"item-barcode\"")?);
        ins.push(clerk.post("/staff/checkin", &[("barcode", &b)], Some("Reshelve at Stacks"))?);
    }
    println!("| staff desk, {items} items ({}), {samples} samples | p50 ms | p99 ms |", db.backend());
    println!("|---|---|---|");
    for (name, times) in [
        ("scan a patron card, no loans (GET /staff/desk?card=)", &mut scan_light),
        ("scan a patron card, 20 loans", &mut scan_regular),
        ("checkout scan (POST /staff/desk/checkout)", &mut outs),
        ("check-in screen (GET /staff/checkin)", &mut screens),
        ("check-in scan (POST /staff/checkin)", &mut ins),
    ] {
        times.sort();
        println!("| {name} | {:.2} | {:.2} |", ms(times, 0.5), ms(times, 0.99));
    }

    // A real record (the loaded ones carry only a title) for the MARC editor and the item form.
    let record = clerk.api(
        "/api/v1/records",
        &serde_json::json!({
            "leader": "00000nam a2200000 i 4500",
            "fields": [
                {"008": "200101s2020    nyu           000 1 eng d"},
                {"020": {"ind1": " ", "ind2": " ", "subfields": [{"a": "0-306-40615-2"}]}},
                {"100": {"ind1": "1", "ind2": " ", "subfields": [{"a": "Bradbury, Ray,"}, {"e": "author."}]}},
                {"245": {"ind1": "1", "ind2": "0", "subfields": [{"a": "Fahrenheit 451 /"}, {"c": "Ray Bradbury."}]}},
                {"650": {"ind1": " ", "ind2": "0", "subfields": [{"a": "Censorship"}, {"v": "Fiction."}]}}
            ]
        }),
    )?;
    let record_id = record["id"].as_i64().ok_or("the new record has no id")?;
    let item = clerk.api(
        &format!("/api/v1/records/{record_id}/items"),
        &serde_json::json!({"barcode": "39999999999999", "home_branch": "MAIN", "location": "STACKS",
                             "item_type": "BK", "call_number": "813.54 BRA", "price": "24.95"}),
    )?;
    let item_id = item["id"].as_i64().ok_or("the new item has no id")?;
    let today = chrono::Utc::now().date_naive();
    let month = format!("from={}&to={today}", today - chrono::Duration::days(30));
    let some_barcode = barcode(items / 2);
    let screens: Vec<(&str, String)> = vec![
        ("patron search by name", "/staff/patrons?q=Bench".into()),
        ("patron record, 20 loans", "/staff/patrons/REGULAR".into()),
        ("catalog search by barcode", format!("/staff/cataloging?by=barcode&q={some_barcode}")),
        ("MARC editor", format!("/staff/cataloging/records/{record_id}")),
        ("new item form", format!("/staff/cataloging/records/{record_id}/items/new")),
        ("item form", format!("/staff/cataloging/items/{item_id}")),
        ("labels: the branch's recent items", "/staff/cataloging/labels?branch=MAIN".into()),
        ("MARC import: upload and recent batches", "/staff/cataloging/import".into()),
        ("pull list", "/staff/holds/pull-list?branch=MAIN".into()),
        ("hold shelf", "/staff/holds/shelf?branch=MAIN".into()),
        ("expired holds", "/staff/holds/expired?branch=MAIN".into()),
        ("transits", "/staff/transits?branch=MAIN".into()),
        ("report: circulation by day, 30 days", format!("/staff/reports/circulation-by-day?{month}")),
        ("report: circulation by item type, 30 days", format!("/staff/reports/circulation-by-item-type?{month}")),
        ("report: top titles, 30 days", format!("/staff/reports/top-titles?{month}")),
        ("report: overdue list", format!("/staff/reports/overdue?{month}")),
        ("report: holds to copies", format!("/staff/reports/holds-ratio?{month}")),
        ("report: collection by Dewey hundreds", format!("/staff/reports/collection-dewey?{month}")),
        ("report: collection by LC class", format!("/staff/reports/collection-lc?{month}")),
        ("report: money by type, 30 days", format!("/staff/reports/money-by-type?{month}")),
        ("rule matrix and explainer", "/staff/admin/rules?branch=MAIN&category=ADULT&item_type=BK".into()),
        ("branches", "/staff/admin/branches".into()),
        ("staff accounts", "/staff/admin/accounts".into()),
        ("calendars and closures", "/staff/admin/calendars".into()),
        ("notice templates", "/staff/admin/notices".into()),
    ];
    println!();
    println!("| staff screen, {items} items ({}) | samples | p50 ms | p99 ms |", db.backend());
    println!("|---|---:|---:|---:|");
    for (name, path) in &screens {
        let started = Instant::now();
        let mut times = Vec::new();
        while times.len() < 20 && (times.len() < 3 || started.elapsed() < Duration::from_secs(20)) {
            times.push(clerk.get(path, "</html>")?);
        }
        times.sort();
        println!(
            "| {name} (`GET {}`) | {} | {:.2} | {:.2} |",
            path.split('?').next().unwrap_or(path),
            times.len(),
            ms(&times, 0.5),
            ms(&times, 0.99)
        );
    }
    drop(db);
    runtime.shutdown_background();
    Ok(())
}
