//! Circulation through the HTTP API, as a desk does it: checkout + check-in pairs per second
//! with p50/p99 latency, and checkout latency for a patron who already has 1,000 loans against
//! one who has none. The server is the real router on 127.0.0.1 over a real database; the
//! client is one keep-alive HTTP connection per desk, one request at a time, signed in as a
//! clerk with an API token, so each request pays for authentication and each write for its
//! audit-log entry. `--desks N` runs the pairs from N desks at once (a busy branch), each on its
//! own copies.
//!
//! `cargo run --release -p web --example bench_circulation -- [--pairs N] [--desks N] [--database-url URL] [--normal]`
//! SQLite in a temporary directory by default, with `synchronous=FULL` (every commit on disk
//! before the answer); `--normal` measures SQLite's default `synchronous=NORMAL` instead.

use std::sync::Arc;
use std::time::{Duration, Instant};

use catalog::{Barcode, BibDerived, Branch, Code, ItemStatus, ItemType, NewItem, ShelvingLocation};
use serde_json::json;
use storage::{Database, ImportCandidate, NewRecord, OnMatch, Patron, SqliteOptions, StorageConfig};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// One desk's checkout and check-in latencies.
type DeskTimes = (Vec<Duration>, Vec<Duration>);

const HEAVY_LOANS: usize = 1000;
const PAIR_ITEMS: usize = 100;
const SAMPLES: usize = 300;

fn code(s: &str) -> Result<Code, Error> {
    Ok(Code::parse(s)?)
}

fn ms(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// A clerk's account and an API token for it: what a desk terminal signs in with.
fn clerk_token(db: &dyn Database) -> Result<String, Error> {
    let now = chrono::Utc::now();
    let staff = storage::staff::NewStaff {
        login: "desk1".into(),
        name: "Desk one".into(),
        roles: vec!["clerk".into()],
        branches: vec![],
        password_hash: accounts::hash_password("bench desk password")?,
    };
    db.create_staff(&staff, now)?;
    let (token, hash) = accounts::new_token()?;
    db.create_api_token("desk1", "bench", &hash, now)?;
    Ok(token)
}

fn setup(db: &dyn Database) -> Result<(), Error> {
    db.upsert_branch(&Branch { code: code("MAIN")?, name: "Main".into() })?;
    db.upsert_location(&ShelvingLocation { code: code("STACKS")?, name: "Stacks".into() })?;
    db.upsert_item_type(&ItemType { code: code("BK")?, name: "Book".into(), loanable: true })?;
    for card in ["LIGHT", "HEAVY"] {
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
    let items = (0..HEAVY_LOANS + PAIR_ITEMS + SAMPLES)
        .map(|i| {
            Ok(NewItem {
                barcode: Barcode::parse(&format!("3{i:013}"))?,
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
        .collect::<Result<Vec<_>, Error>>()?;
    let derived = BibDerived { title: "Circulation benchmark".into(), ..BibDerived::default() };
    let record = NewRecord { marc: b"bench\x1d".to_vec(), derived, row: None };
    db.import_batch(&[ImportCandidate { record, items }], OnMatch::Add)?;
    Ok(())
}

fn main() -> Result<(), Error> {
    let mut pairs = 3000usize;
    let mut desks = 1usize;
    let mut url = None;
    let mut full = true;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--pairs" => pairs = args.next().ok_or("--pairs N")?.parse()?,
            "--desks" => desks = args.next().ok_or("--desks N")?.parse::<usize>()?.clamp(1, PAIR_ITEMS),
            "--database-url" => url = Some(args.next().ok_or("--database-url URL")?),
            "--normal" => full = false,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let dir = tempfile::tempdir()?;
    let config = match &url {
        Some(u) => StorageConfig::parse(u),
        None => StorageConfig::Sqlite(SqliteOptions { synchronous_full: full, ..SqliteOptions::new(dir.path()) }),
    };
    let db: Arc<dyn Database> = storage::open(&config)?;
    setup(&*db)?;
    let token = clerk_token(&*db)?;
    let durability = match (&url, full) {
        (Some(_), _) => "PostgreSQL".to_string(),
        (None, true) => "SQLite, synchronous=FULL".to_string(),
        (None, false) => "SQLite, synchronous=NORMAL".to_string(),
    };

    let mut settings = desk::CirculationSettings::default();
    settings.rules[0].max_loans = Some(5000);
    let desk = desk::Desk::new(settings.build()?);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let base = format!("http://{}", listener.local_addr()?);
    runtime.spawn(web::serve(listener, web::router(db.clone(), web::WebConfig::default(), desk, None)));

    let post_with = |client: &reqwest::blocking::Client,
                     path: &str,
                     body: serde_json::Value,
                     want: u16|
     -> Result<Duration, Error> {
        let started = Instant::now();
        let r = client.post(format!("{base}{path}")).bearer_auth(&token).json(&body).send()?;
        let took = started.elapsed();
        if r.status().as_u16() != want {
            return Err(format!("{path}: {} {}", r.status(), r.text().unwrap_or_default()).into());
        }
        Ok(took)
    };
    let client = reqwest::blocking::Client::new();
    let post = |path: &str, body: serde_json::Value, want: u16| post_with(&client, path, body, want);
    let checkout = |card: &str, i: usize| {
        post("/api/v1/checkouts", json!({"card_number": card, "barcode": format!("3{i:013}"), "branch": "MAIN"}), 201)
    };
    let checkin = |i: usize| post("/api/v1/checkins", json!({"barcode": format!("3{i:013}"), "branch": "MAIN"}), 200);

    // The heavy patron's thousand loans.
    for i in 0..HEAVY_LOANS {
        checkout("HEAVY", i)?;
    }
    // Pairs: check out and straight back in, each desk cycling over its share of a hundred copies.
    let per_desk = PAIR_ITEMS / desks;
    let started = Instant::now();
    let runs: Vec<Result<DeskTimes, Error>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..desks)
            .map(|d| {
                let post_with = &post_with;
                scope.spawn(move || -> Result<DeskTimes, Error> {
                    let client = reqwest::blocking::Client::new();
                    let (mut outs, mut ins) = (Vec::new(), Vec::new());
                    for n in (d..pairs).step_by(desks) {
                        let i = HEAVY_LOANS + d * per_desk + n % per_desk;
                        let barcode = format!("3{i:013}");
                        let out = json!({"card_number": "LIGHT", "barcode": barcode, "branch": "MAIN"});
                        outs.push(post_with(&client, "/api/v1/checkouts", out, 201)?);
                        let back = json!({"barcode": barcode, "branch": "MAIN"});
                        ins.push(post_with(&client, "/api/v1/checkins", back, 200)?);
                    }
                    Ok((outs, ins))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("a desk panicked".into()))).collect()
    });
    let elapsed = started.elapsed();
    let (mut outs, mut ins) = (Vec::with_capacity(pairs), Vec::with_capacity(pairs));
    for run in runs {
        let (o, i) = run?;
        outs.extend(o);
        ins.extend(i);
    }
    outs.sort();
    ins.sort();
    // Checkout latency by the patron's loan count (each copy checked back in, untimed).
    let mut by_patron = Vec::new();
    for card in ["LIGHT", "HEAVY"] {
        let mut times = Vec::with_capacity(SAMPLES);
        for s in 0..SAMPLES {
            let i = HEAVY_LOANS + PAIR_ITEMS + s;
            times.push(checkout(card, i)?);
            checkin(i)?;
        }
        times.sort();
        by_patron.push((card, times));
    }

    println!("| circulation over HTTP ({durability}, {desks} desk{}) | value |", if desks == 1 { "" } else { "s" });
    println!("|---|---:|");
    println!(
        "| checkout + check-in pairs | {pairs} in {:.2} s: {:.0} pairs/s |",
        elapsed.as_secs_f64(),
        pairs as f64 / elapsed.as_secs_f64()
    );
    println!("| checkout p50 / p99 | {:.2} / {:.2} ms |", ms(&outs, 0.5), ms(&outs, 0.99));
    println!("| check-in p50 / p99 | {:.2} / {:.2} ms |", ms(&ins, 0.5), ms(&ins, 0.99));
    for (card, times) in &by_patron {
        let loans = if *card == "HEAVY" { HEAVY_LOANS } else { 0 };
        println!(
            "| checkout for a patron with {loans} loans, p50 / p99 | {:.2} / {:.2} ms |",
            ms(times, 0.5),
            ms(times, 0.99)
        );
    }
    // The database goes down off the runtime (the PostgreSQL client must not be dropped on it).
    drop(runtime);
    drop(db);
    Ok(())
}
