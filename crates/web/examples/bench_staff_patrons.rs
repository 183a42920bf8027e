//! The staff client's patron screens, timed as a clerk's browser sees them, over a catalog of
//! `--items` items and `--patrons` registered patrons: the search box by card, email, phone and
//! the start of a name; the record of a patron with 20 loans and an account of 20 charges; the
//! registration form and a registration; a payment at the record. The server is the real
//! router on 127.0.0.1 over a real database; the client is one keep-alive connection signed in
//! through `/staff/login` with the session cookie, one request at a time, so each request pays
//! for the session lookup, and each write for its audit-log entry and its commit.
//!
//! `cargo run --release -p web --example bench_staff_patrons -- [--items N] [--patrons N] [--samples N] [--database-url URL]`
//! SQLite in a temporary directory by default.

mod common;

use std::time::Duration;

use catalog::{Barcode, Money};
use common::staff::{barcode, code, create_account, load_items, open_database, serve, Clerk};
use common::{ms, Error};
use storage::patrons::{CardChoice, HistoryChoice, NoticePreference, PatronDetails};
use storage::Database;

const LOANS: usize = 20;
const CHARGES: usize = 20;

/// Card numbers the benchmark registers: outside the library's issued pattern, so the
/// registrations timed later are issued numbers that cannot collide.
fn card(i: usize) -> String {
    format!("9{i:013}")
}

fn load(db: &dyn Database, items: usize, patrons: usize) -> Result<(), Error> {
    load_items(db, items, "Patron benchmark", |i| format!("{} BEN", 100 + i % 800))?;
    let started = std::time::Instant::now();
    let now = chrono::Utc::now();
    for i in 0..patrons {
        let (surname, first) = (format!("Surname{i:06}"), format!("First{}", i % 97));
        let email = format!("patron{i}@example.org");
        let details = PatronDetails {
            surname: surname.clone(),
            first_name: first.clone(),
            category: code("ADULT")?,
            home_branch: code("MAIN")?,
            expiry_date: chrono::NaiveDate::from_ymd_opt(2099, 12, 31).ok_or("date")?,
            birth_date: chrono::NaiveDate::from_ymd_opt(
                1950 + (i % 50) as i32,
                1 + (i % 12) as u32,
                1 + (i % 28) as u32,
            ),
            email: Some(email.clone()),
            phone: Some(format!("555-{i:07}")),
            address: Some(format!("{i} Bench Street")),
            guarantor: None,
            notice_preference: NoticePreference::Email,
            reading_history: HistoryChoice::Default,
            name_key: None,
            email_key: Some(email),
        };
        db.register_patron(&details, CardChoice::Given(&card(i)), true, now)?;
    }
    eprintln!("registered {patrons} patrons in {:.1} s", started.elapsed().as_secs_f64());
    create_account(db, &["clerk"])
}

/// The `form_token` of the form posting to `action` on `page`.
fn token(page: &str, action: &str) -> Result<String, Error> {
    let at = page.find(&format!("action=\"{action}\"")).ok_or("no such form")?;
    let rest = &page[at..];
    let v = rest.find("name=\"form_token\" value=\"").ok_or("no token")? + "name=\"form_token\" value=\"".len();
    Ok(rest[v..v + rest[v..].find('"').ok_or("token")?].to_string())
}

fn main() -> Result<(), Error> {
    let (mut items, mut patrons, mut samples, mut url) = (1_000_000usize, 20_000usize, 200usize, None);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--items" => items = args.next().ok_or("--items N")?.parse()?,
            "--patrons" => patrons = args.next().ok_or("--patrons N")?.parse()?,
            "--samples" => samples = args.next().ok_or("--samples N")?.parse()?,
            "--database-url" => url = Some(args.next().ok_or("--database-url URL")?),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if items < LOANS || patrons < 2 {
        return Err("--items must be at least 20 and --patrons at least 2".into());
    }
    let dir = tempfile::tempdir()?;
    let db = open_database(url.as_deref(), dir.path())?;
    load(&*db, items, patrons)?;

    // The patron whose record is timed: 20 loans spread over the catalog, 20 charges.
    let busy = card(patrons / 2);
    let desk = desk::Desk::new(desk::CirculationSettings::default().build()?);
    let stride = items / LOANS;
    for k in 0..LOANS {
        let b = Barcode::parse(&barcode(k * stride))?;
        desk.checkout(&*db, &busy, &b, &code("MAIN")?, chrono::Utc::now(), None)?;
    }
    for _ in 0..CHARGES {
        let (kind, by) = (circulation::ChargeKind::Overdue, circulation::Actor::System);
        desk::ledger::charge(&*db, &busy, kind, Money::from_minor(100_000), None, by, "late", chrono::Utc::now())?;
    }

    let (runtime, base) = serve(db.clone(), desk)?;
    let clerk = Clerk::log_in(&base)?;

    let mut times: Vec<(&str, Vec<Duration>)> = [
        "search by card (GET /staff/patrons?q=CARD)",
        "search by email",
        "search by phone",
        "search by the start of a name",
        "the record, 20 loans and 20 charges (GET /staff/patrons/{card})",
        "the registration form (GET /staff/patrons/new)",
        "a registration (POST /staff/patrons/new)",
        "a payment at the record (POST .../payment)",
    ]
    .into_iter()
    .map(|n| (n, Vec::new()))
    .collect();
    let record = format!("/staff/patrons/{busy}");
    let pay = format!("{record}/payment");
    for s in 0..samples {
        let i = (s * 7919) % patrons;
        let row = "class=\"patron-result\"";
        times[0].1.push(clerk.page(&format!("/staff/patrons?q={}", card(i)), row)?.0);
        times[1].1.push(clerk.page(&format!("/staff/patrons?q=patron{i}%40example.org"), row)?.0);
        times[2].1.push(clerk.page(&format!("/staff/patrons?q=555-{i:07}"), row)?.0);
        times[3].1.push(clerk.page(&format!("/staff/patrons?q=surname{i:06}"), row)?.0);
        let (took, page) = clerk.page(&record, "id=\"balance\"")?;
        times[4].1.push(took);
        let (took, form) = clerk.page("/staff/patrons/new", "id=\"register-surname\"")?;
        times[5].1.push(took);
        let (t, surname) = (token(&form, "/staff/patrons/new")?, format!("Newcomer{s}"));
        times[6].1.push(clerk.post(
            "/staff/patrons/new",
            &[
                ("surname", &surname),
                ("first_name", "Bench"),
                ("category", "ADULT"),
                ("home_branch", "MAIN"),
                ("form_token", &t),
            ],
            None,
        )?);
        let t = token(&page, &pay)?;
        times[7].1.push(clerk.post(&pay, &[("amount", "0.01"), ("method", "cash"), ("form_token", &t)], None)?);
    }
    println!(
        "| staff patrons, {items} items, {patrons} patrons ({}), {samples} samples | p50 ms | p99 ms |",
        db.backend()
    );
    println!("|---|---|---|");
    for (name, t) in &mut times {
        t.sort();
        println!("| {name} | {:.2} | {:.2} |", ms(t, 0.5), ms(t, 0.99));
    }
    drop(db);
    runtime.shutdown_background();
    Ok(())
}
