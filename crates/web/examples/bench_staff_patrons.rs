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

use std::sync::Arc;
use std::time::{Duration, Instant};

use catalog::{Barcode, BibDerived, Branch, Code, ItemStatus, ItemType, Money, NewItem, ShelvingLocation};
use storage::patrons::{CardChoice, HistoryChoice, NoticePreference, PatronDetails};
use storage::{Database, ImportCandidate, NewRecord, OnMatch, StorageConfig};

type Error = Box<dyn std::error::Error + Send + Sync>;

const ITEMS_PER_RECORD: usize = 10;
const LOANS: usize = 20;
const CHARGES: usize = 20;

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

/// Card numbers the benchmark registers: outside the library's issued pattern, so the
/// registrations timed later are issued numbers that cannot collide.
fn card(i: usize) -> String {
    format!("9{i:013}")
}

fn load(db: &dyn Database, items: usize, patrons: usize) -> Result<(), Error> {
    db.upsert_branch(&Branch { code: code("MAIN")?, name: "Main Library".into() })?;
    db.upsert_location(&ShelvingLocation { code: code("STACKS")?, name: "Stacks".into() })?;
    db.upsert_item_type(&ItemType { code: code("BK")?, name: "Book".into(), loanable: true })?;
    let started = Instant::now();
    let (mut batch, mut made, mut record_no) = (Vec::new(), 0, 0);
    while made < items {
        record_no += 1;
        let derived = BibDerived { title: format!("Patron benchmark record {record_no}"), ..BibDerived::default() };
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
                    call_number: Some(format!("{} BEN", 100 + i % 800)),
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
    let started = Instant::now();
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
    db.create_staff(
        &storage::staff::NewStaff {
            login: "desk1".into(),
            name: "Desk one".into(),
            roles: vec!["clerk".into()],
            branches: vec![],
            password_hash: accounts::hash_password("bench desk password")?,
        },
        chrono::Utc::now(),
    )?;
    Ok(())
}

struct Clerk {
    client: reqwest::blocking::Client,
    base: String,
    cookie: String,
}

impl Clerk {
    fn get(&self, path: &str, expect: &str) -> Result<(Duration, String), Error> {
        let started = Instant::now();
        let r = self.client.get(format!("{}{path}", self.base)).header("cookie", &self.cookie).send()?;
        let status = r.status();
        let body = r.text()?;
        let took = started.elapsed();
        if !status.is_success() || !body.contains(expect) {
            return Err(format!("GET {path}: {status}, no {expect:?} in the page").into());
        }
        Ok((took, body))
    }

    /// A form post answered `303 See Other`, as every successful patron form is.
    fn post(&self, path: &str, form: &[(&str, &str)]) -> Result<Duration, Error> {
        let started = Instant::now();
        let r = self.client.post(format!("{}{path}", self.base)).header("cookie", &self.cookie).form(form).send()?;
        let status = r.status();
        let body = r.text()?;
        let took = started.elapsed();
        if status != reqwest::StatusCode::SEE_OTHER {
            return Err(format!("POST {path}: {status}: {body}").into());
        }
        Ok(took)
    }
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
    let config = match &url {
        Some(u) => StorageConfig::parse(u),
        None => StorageConfig::parse(dir.path().to_str().ok_or("temp dir path")?),
    };
    let db: Arc<dyn Database> = storage::open(&config)?;
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
    let clerk = Clerk { client, base, cookie };

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
        times[0].1.push(clerk.get(&format!("/staff/patrons?q={}", card(i)), row)?.0);
        times[1].1.push(clerk.get(&format!("/staff/patrons?q=patron{i}%40example.org"), row)?.0);
        times[2].1.push(clerk.get(&format!("/staff/patrons?q=555-{i:07}"), row)?.0);
        times[3].1.push(clerk.get(&format!("/staff/patrons?q=surname{i:06}"), row)?.0);
        let (took, page) = clerk.get(&record, "id=\"balance\"")?;
        times[4].1.push(took);
        let (took, form) = clerk.get("/staff/patrons/new", "id=\"register-surname\"")?;
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
        )?);
        let t = token(&page, &pay)?;
        times[7].1.push(clerk.post(&pay, &[("amount", "0.01"), ("method", "cash"), ("form_token", &t)])?);
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
