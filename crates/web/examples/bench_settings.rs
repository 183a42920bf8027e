//! The staff client's settings screens timed as a manager's browser sees them, over a catalog of
//! N items and P patrons (issue 6: every page under 100 ms server-side at 1,000,000 items): the
//! rule matrix, a rule row's edit form, saving a row (checked, stored over its version, audited
//! and put in force for every front end), the calendars, the patron categories, saving a
//! category, and a category delete refused because P patrons are in it (a count over the
//! patrons). The server is the real router on 127.0.0.1 over a real database; the client is one
//! keep-alive connection signed in through `/staff/login`, one request at a time.
//!
//! `cargo run --release -p web --example bench_settings -- [--items N] [--patrons P] [--samples N] [--database-url URL]`
//! SQLite in a temporary directory by default.

mod common;

use std::time::{Duration, Instant};

use common::staff::{code, create_account, load_items, open_database, serve, Clerk};
use common::{ms, Error};
use storage::{Database, Patron};

/// The value of the hidden field `name` in the form posting to `action`.
fn hidden(page: &str, action: &str, name: &str) -> Result<String, Error> {
    let at = page.find(&format!("method=\"post\" action=\"{action}\"")).ok_or(format!("no form to {action}"))?;
    let marker = format!("name=\"{name}\" value=\"");
    let rest = &page[at..];
    let rest = &rest[rest.find(&marker).ok_or(format!("no {name} in the form to {action}"))? + marker.len()..];
    Ok(rest[..rest.find('"').ok_or("an unterminated value")?].to_string())
}

/// The default `*/*/*` row as its edit form sends it, with `loan_period`.
fn row_form(page: &str, loan_period: &str) -> Result<Vec<(&'static str, String)>, Error> {
    let action = "/staff/admin/rules/1";
    let row = desk::CirculationSettings::default().rules[0].clone();
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let number = |v: Option<u32>| v.map(|n| n.to_string()).unwrap_or_default();
    Ok(vec![
        ("form_token", hidden(page, action, "form_token")?),
        ("version", hidden(page, action, "version")?),
        ("branch", row.branch.clone()),
        ("category", row.category.clone()),
        ("item_type", row.item_type.clone()),
        ("loan_period", loan_period.to_string()),
        ("max_loans", number(row.max_loans)),
        ("renewals_allowed", number(row.renewals_allowed)),
        ("renewal_period", text(&row.renewal_period)),
        ("fine", text(&row.fine)),
        ("grace_period", text(&row.grace_period)),
        ("max_fine", text(&row.max_fine)),
        ("lost_after_days", text(&row.lost_after_days)),
        ("lost_processing_fee", text(&row.lost_processing_fee)),
        ("hold_allowed", "yes".to_string()),
        ("max_holds", number(row.max_holds)),
        ("hold_shelf_days", number(row.hold_shelf_days)),
        ("hard_due_date", text(&row.hard_due_date)),
    ])
}

fn load_patrons(db: &dyn Database, patrons: usize) -> Result<(), Error> {
    let started = Instant::now();
    for i in 0..patrons {
        db.upsert_patron(&Patron {
            card_number: format!("2{i:013}"),
            surname: format!("Reader {i}"),
            first_name: "Bench".into(),
            category: code("ADULT")?,
            home_branch: code("MAIN")?,
            expiry_date: "2099-12-31".into(),
            email: None,
        })?;
    }
    eprintln!("loaded {patrons} patrons in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn post(clerk: &Clerk, path: &str, form: &[(&str, String)]) -> Result<(Duration, reqwest::StatusCode, String), Error> {
    let started = Instant::now();
    let r = clerk.client.post(format!("{}{path}", clerk.base)).header("cookie", &clerk.cookie).form(form).send()?;
    let status = r.status();
    let body = r.text()?;
    Ok((started.elapsed(), status, body))
}

fn main() -> Result<(), Error> {
    let (mut items, mut patrons, mut samples, mut url) = (1_000_000usize, 20_000usize, 100usize, None);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--items" => items = args.next().ok_or("--items N")?.parse()?,
            "--patrons" => patrons = args.next().ok_or("--patrons P")?.parse()?,
            "--samples" => samples = args.next().ok_or("--samples N")?.parse()?,
            "--database-url" => url = Some(args.next().ok_or("--database-url URL")?),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let dir = tempfile::tempdir()?;
    let db = open_database(url.as_deref(), dir.path())?;
    load_items(&*db, items, "Settings benchmark", |i| format!("{}.{} BEN", 100 + i % 800, i % 97))?;
    load_patrons(&*db, patrons)?;
    create_account(&*db, &["admin"])?;
    let desk = desk::Desk::new(desk::CirculationSettings::default().build()?);
    let (runtime, base) = serve(db.clone(), desk)?;
    let clerk = Clerk::log_in(&base)?;

    let mut rows: Vec<(&str, Vec<Duration>)> = vec![
        ("rule matrix (GET /staff/admin/rules)", Vec::new()),
        ("rule row edit form (GET /staff/admin/rules/1)", Vec::new()),
        ("save a rule row (POST /staff/admin/rules/1)", Vec::new()),
        ("calendars (GET /staff/admin/calendars)", Vec::new()),
        ("patron categories (GET /staff/admin/categories)", Vec::new()),
        ("save a category (POST /staff/admin/categories/ADULT)", Vec::new()),
        ("delete a category patrons have, refused (POST .../ADULT/delete)", Vec::new()),
    ];
    for i in 0..samples {
        rows[0].1.push(clerk.get("/staff/admin/rules", "id=\"rule-rows\"")?);
        let (took, page) = clerk.page("/staff/admin/rules/1", "id=\"rule-form\"")?;
        rows[1].1.push(took);
        let period = if i % 2 == 0 { "28 days" } else { "21 days" };
        let (took, status, body) = post(&clerk, "/staff/admin/rules/1", &row_form(&page, period)?)?;
        if status != reqwest::StatusCode::SEE_OTHER {
            return Err(format!("saving the rule row: {status}: {body}").into());
        }
        rows[2].1.push(took);
        rows[3].1.push(clerk.get("/staff/admin/calendars", "id=\"hours\"")?);
        let (took, page) = clerk.page("/staff/admin/categories", "id=\"categories\"")?;
        rows[4].1.push(took);
        let action = "/staff/admin/categories/ADULT";
        let (_, edit) = clerk.page(action, "id=\"category-form\"")?;
        let months = if i % 2 == 0 { "37" } else { "36" };
        let form = [
            ("form_token", hidden(&edit, action, "form_token")?),
            ("version", hidden(&edit, action, "version")?),
            ("validity_months", months.to_string()),
            ("min_age", String::new()),
            ("max_age", String::new()),
        ];
        let (took, status, body) = post(&clerk, action, &form)?;
        if status != reqwest::StatusCode::SEE_OTHER {
            return Err(format!("saving the category: {status}: {body}").into());
        }
        rows[5].1.push(took);
        let delete = "/staff/admin/categories/ADULT/delete";
        let form =
            [("form_token", hidden(&page, delete, "form_token")?), ("version", hidden(&page, delete, "version")?)];
        let (took, status, body) = post(&clerk, delete, &form)?;
        if status != reqwest::StatusCode::CONFLICT || !body.contains("patrons are in category ADULT") {
            return Err(format!("deleting ADULT: {status}: {body}").into());
        }
        rows[6].1.push(took);
    }
    println!(
        "| settings screens, {items} items, {patrons} patrons ({}), {samples} samples | p50 ms | p99 ms |",
        db.backend()
    );
    println!("|---|---|---|");
    for (name, times) in &mut rows {
        times.sort();
        println!("| {name} | {:.2} | {:.2} |", ms(times, 0.5), ms(times, 0.99));
    }
    drop(db);
    runtime.shutdown_background();
    Ok(())
}
