//! A book sorter's exchange over SIP2, as the Library of Congress sorter makes it: log in once,
//! then for each item an item information (17) and a check-in (09), each waiting for its
//! answer. Reports p50/p99/max milliseconds per item (17 + 09) on loopback, first with the one
//! kiosk connected, then with 200 connected: 199 other kiosks logged in, a quarter of them
//! sending an SC status (99) every second, the rest idle. Every item is on loan, so each
//! check-in closes a loan (and writes the fine, if any) in its transaction.
//!
//! `cargo run --release -p selfcheck --example bench_sorter -- [--items N]` (SQLite in a
//! temporary directory, `synchronous=NORMAL`, the default).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use catalog::{Barcode, BibDerived, Branch, Code, ItemStatus, ItemType, NewItem, ShelvingLocation};
use chrono::Utc;
use desk::Desk;
use selfcheck::{Acs, Server, Sip2Settings};
use sip2::{format_request, Checkin, ItemInformation, Login, Options, Request, ScStatus};
use storage::{Database, NewRecord, Patron, StorageConfig};

type Error = Box<dyn std::error::Error + Send + Sync>;

const KIOSKS: usize = 200;
const PASSWORD: &str = "sorter password 1";

fn code(s: &str) -> Result<Code, Error> {
    Ok(Code::parse(s)?)
}

fn ms(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn settings() -> Result<desk::CirculationSettings, Error> {
    Ok(toml::from_str(
        r#"
        time_zone = "America/Chicago"
        governing_branch = "checkout"
        fine_limit = "10.00"
        max_overdues = 5
        hours = { mon = "00:00-23:59", tue = "00:00-23:59", wed = "00:00-23:59", thu = "00:00-23:59", fri = "00:00-23:59", sat = "00:00-23:59", sun = "00:00-23:59" }
        [[rules]]
        branch = "*"
        category = "*"
        item_type = "*"
        loan_period = "14 days"
        max_loans = 100000
        renewals_allowed = 2
        renewal_period = "14 days"
        fine = "0.25 per day"
        grace_period = "0 days"
        max_fine = "5.00"
        lost_after_days = "60"
        lost_processing_fee = "5.00"
        hold_allowed = true
        max_holds = 10
        hold_shelf_days = 7
        hard_due_date = "none"
    "#,
    )?)
}

/// Items `prefix000001`..: one record each, all lent to one patron.
fn lend_items(db: &dyn Database, desk: &Desk, prefix: &str, n: usize) -> Result<Vec<String>, Error> {
    let main = code("MAIN")?;
    let mut barcodes = Vec::with_capacity(n);
    for i in 0..n {
        let bc = format!("{prefix}{i:06}");
        let derived = BibDerived { title: format!("Sorted book {i}"), ..Default::default() };
        let bib = db.create_record(&NewRecord { marc: format!("{bc}\x1d").into_bytes(), derived, row: None })?;
        db.create_item(
            bib,
            &NewItem {
                barcode: Barcode::parse(&bc)?,
                home_branch: main.clone(),
                holding_branch: main.clone(),
                location: Some(code("STACKS")?),
                collection: None,
                call_number: Some(format!("813 B{i}")),
                item_type: code("BK")?,
                price: None,
                public_note: None,
                staff_note: None,
                materials_specified: None,
                status: ItemStatus::Available,
                acquired_on: None,
            },
        )?;
        desk.checkout(db, "21234000000001", &Barcode::parse(&bc)?, &main, Utc::now(), None)?;
        barcodes.push(bc);
    }
    Ok(barcodes)
}

struct Kiosk {
    stream: TcpStream,
    options: Options,
    sequence: u8,
}

impl Kiosk {
    fn login(addr: SocketAddr, login: &str) -> Result<Kiosk, Error> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        let mut k = Kiosk { stream, options: Options::default(), sequence: 0 };
        let reply = k.ask(&Request::Login(Login {
            uid_algorithm: '0',
            pwd_algorithm: '0',
            login_user_id: login.into(),
            login_password: PASSWORD.into(),
            location_code: Some("MAIN".into()),
            extra: vec![],
        }))?;
        if !reply.starts_with(b"941") {
            return Err(format!("login refused: {}", String::from_utf8_lossy(&reply)).into());
        }
        Ok(k)
    }

    fn ask(&mut self, request: &Request) -> Result<Vec<u8>, Error> {
        self.sequence = (self.sequence + 1) % 10;
        self.stream.write_all(&format_request(request, Some(self.sequence), &self.options))?;
        let mut reply = Vec::with_capacity(512);
        let mut buffer = [0u8; 4096];
        while !reply.ends_with(b"\r") {
            let n = self.stream.read(&mut buffer)?;
            if n == 0 {
                return Err("the server closed the connection".into());
            }
            reply.extend_from_slice(&buffer[..n]);
        }
        Ok(reply)
    }
}

/// The sorter's exchange for each barcode; the time of each 17 + 09 pair.
fn sort(kiosk: &mut Kiosk, barcodes: &[String]) -> Result<Vec<Duration>, Error> {
    let mut times = Vec::with_capacity(barcodes.len());
    for bc in barcodes {
        let started = Instant::now();
        let info = kiosk.ask(&Request::ItemInformation(ItemInformation {
            institution_id: "MAIN".into(),
            item_identifier: bc.clone(),
            ..ItemInformation::default()
        }))?;
        let back = kiosk.ask(&Request::Checkin(Checkin {
            current_location: "MAIN".into(),
            institution_id: "MAIN".into(),
            item_identifier: bc.clone(),
            ..Checkin::default()
        }))?;
        times.push(started.elapsed());
        if !info.starts_with(b"18") || !back.starts_with(b"101") {
            return Err(format!("unexpected replies for {bc}: {}", String::from_utf8_lossy(&back)).into());
        }
    }
    times.sort();
    Ok(times)
}

fn report(label: &str, times: &[Duration]) {
    println!(
        "| {label} | {} | {:.2} | {:.2} | {:.2} |",
        times.len(),
        ms(times, 0.5),
        ms(times, 0.99),
        times.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    );
}

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let mut items = 1000usize;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--items" => items = args.next().ok_or("--items N")?.parse()?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let dir = tempfile::tempdir()?;
    let db = storage::open(&StorageConfig::parse(&dir.path().to_string_lossy()))?;
    db.upsert_branch(&Branch { code: code("MAIN")?, name: "Main".into() })?;
    db.upsert_location(&ShelvingLocation { code: code("STACKS")?, name: "Stacks".into() })?;
    db.upsert_item_type(&ItemType { code: code("BK")?, name: "Book".into(), loanable: true })?;
    db.upsert_patron(&Patron {
        card_number: "21234000000001".into(),
        surname: "Reader".into(),
        first_name: "Ana".into(),
        category: code("ADULT")?,
        home_branch: code("MAIN")?,
        expiry_date: "2099-01-01".into(),
        email: None,
    })?;
    let hash = accounts::hash_password(PASSWORD)?;
    for k in 0..KIOSKS {
        db.create_staff(
            &storage::staff::NewStaff {
                login: format!("kiosk{k}"),
                name: format!("Kiosk {k}"),
                roles: vec!["selfcheck".into()],
                branches: vec![code("MAIN")?],
                password_hash: hash.clone(),
            },
            Utc::now(),
        )?;
    }
    let desk = Desk::new(settings()?.build()?);
    eprintln!("lending {} items...", 2 * items);
    let alone = lend_items(&*db, &desk, "A", items)?;
    let crowded = lend_items(&*db, &desk, "C", items)?;

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let config =
        Sip2Settings { bind: "127.0.0.1:0".into(), institution_id: "MAIN".into(), ..Default::default() }.build()?;
    let acs = Acs::new(db.clone(), desk, config, Arc::new(Utc::now));
    let server = Server::new(acs)?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    runtime.spawn(server.serve(listener));

    println!("| kiosks connected | items | p50 ms/item | p99 ms/item | max ms |");
    println!("|---|---|---|---|---|");
    let mut sorter = Kiosk::login(addr, "kiosk0")?;
    report("1", &sort(&mut sorter, &alone)?);

    // 199 more kiosks: logged in, a quarter of them polling with 99 each second.
    let stop = Arc::new(AtomicBool::new(false));
    let mut others = Vec::new();
    for k in 1..KIOSKS {
        let mut kiosk = Kiosk::login(addr, &format!("kiosk{k}"))?;
        let stop = stop.clone();
        let active = k % 4 == 0;
        others.push(std::thread::spawn(move || -> Result<(), Error> {
            let status = Request::ScStatus(ScStatus {
                status_code: sip2::StatusCode::ScOk,
                max_print_width: Some(80),
                protocol_version: sip2::ProtocolVersion::V2_00,
            });
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(if active { 1000 } else { 200 }));
                if active {
                    kiosk.ask(&status)?;
                }
            }
            Ok(())
        }));
    }
    report(&KIOSKS.to_string(), &sort(&mut sorter, &crowded)?);
    stop.store(true, Ordering::Relaxed);
    for t in others {
        t.join().map_err(|_| "a kiosk thread panicked")??;
    }
    Ok(())
}
