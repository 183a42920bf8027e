//! The SIP2 server on 127.0.0.1 over a real SQLite library, driven by real clients: the PyPI
//! `sip2` client through a whole self-check session (every reply judged by pysip2's strict
//! decoder), golden transcripts compared byte for byte (the clock is injected), malformed input
//! from a raw socket that must not disturb a second kiosk, the idle timeout, TLS with a
//! certificate made here, and arbitrary bytes into the session (no panic).
#![allow(clippy::unwrap_used)] // a test: a panic with its line is the failure report

use catalog::{Barcode, Branch, Code, ItemStatus, ItemType, Money, NewItem, ShelvingLocation};
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::America::Chicago;
use circulation::{Actor, ChargeKind};
use desk::{CirculationSettings, Desk};
use proptest::prelude::*;
use selfcheck::{Acs, Server, Session, Sip2Settings};
use sip2::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use storage::holds::{HoldTarget, NewHold};
use storage::staff::NewStaff;
use storage::{Database, NewRecord, Patron, StorageConfig};

// ---------------------------------------------------------------------------------------------
// The library

const KIOSK: &str = "kiosk-main";
const KIOSK_PASSWORD: &str = "kiosk password 1";
/// P1 borrows at the kiosk with a PIN; P2 has loans others wait for; P3 gets blocked; P4 has a
/// hold waiting and no PIN.
const P1: &str = "21234000000001";
const P2: &str = "21234000000002";
const P3: &str = "21234000000003";
const P4: &str = "21234000000004";
const PIN: &str = "1234";

fn code(s: &str) -> Code {
    Code::parse(s).unwrap()
}

fn barcode(s: &str) -> Barcode {
    Barcode::parse(s).unwrap()
}

fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Chicago.with_ymd_and_hms(y, m, d, h, min, 0).unwrap().with_timezone(&Utc)
}

/// The session's clock: Monday 2 March 2026, 10:00 in Chicago.
fn now() -> DateTime<Utc> {
    local(2026, 3, 2, 10, 0)
}

fn circulation_settings() -> CirculationSettings {
    toml::from_str(
        r#"
        time_zone = "America/Chicago"
        governing_branch = "checkout"
        fine_limit = "10.00"
        max_overdues = 5
        hours = { mon = "09:00-20:00", tue = "09:00-20:00", wed = "09:00-20:00", thu = "09:00-20:00", fri = "09:00-18:00", sat = "10:00-17:00", sun = "closed" }
        closed = ["12-25", "01-01"]
        [[rules]]
        branch = "*"
        category = "*"
        item_type = "*"
        loan_period = "14 days"
        max_loans = 10
        renewals_allowed = 2
        renewal_period = "14 days"
        fine = "0.25 per day"
        grace_period = "0 days"
        max_fine = "5.00"
        lost_after_days = "60"
        lost_processing_fee = "5.00"
        hold_allowed = true
        max_holds = 5
        hold_shelf_days = 7
        hard_due_date = "none"
    "#,
    )
    .unwrap()
}

fn item(bc: &str, home: &str, ty: &str) -> NewItem {
    NewItem {
        barcode: barcode(bc),
        home_branch: code(home),
        holding_branch: code(home),
        location: Some(code("STACKS")),
        collection: None,
        call_number: Some("813 HER".into()),
        item_type: code(ty),
        price: Some(Money::from_minor(2000)),
        public_note: None,
        staff_note: None,
        materials_specified: None,
        status: ItemStatus::Available,
        acquired_on: None,
    }
}

fn record(db: &dyn Database, title: &str, items: &[NewItem]) -> i64 {
    let derived = catalog::BibDerived { title: title.into(), ..Default::default() };
    let bib = db.create_record(&NewRecord { marc: format!("{title}\x1d").into_bytes(), derived, row: None }).unwrap();
    for i in items {
        db.create_item(bib, i).unwrap();
    }
    bib
}

struct Library {
    db: Arc<dyn Database>,
    desk: Desk,
    _dir: tempfile::TempDir,
}

/// Dune (D1-D4, MAIN), a reference book (R1), "The Trap" (T1, on loan to P2, wanted by P4 at
/// MAIN), "Far Away" (F1, EAST's, on loan to P2), "Wanted" (W1, on loan to P2, for P1's hold).
/// P1 has D3 and D4 from last week and owes 2.50.
fn library() -> Library {
    let dir = tempfile::tempdir().unwrap();
    let db = storage::open(&StorageConfig::parse(dir.path().to_str().unwrap())).unwrap();
    for b in ["MAIN", "EAST"] {
        db.upsert_branch(&Branch { code: code(b), name: format!("{b} Library") }).unwrap();
    }
    db.upsert_location(&ShelvingLocation { code: code("STACKS"), name: "Stacks".into() }).unwrap();
    db.upsert_item_type(&ItemType { code: code("BK"), name: "Book".into(), loanable: true }).unwrap();
    db.upsert_item_type(&ItemType { code: code("REF"), name: "Reference".into(), loanable: false }).unwrap();
    for (card, first) in [(P1, "Ana"), (P2, "Ben"), (P3, "Cy"), (P4, "Dee")] {
        db.upsert_patron(&Patron {
            card_number: card.into(),
            surname: "Reader".into(),
            first_name: first.into(),
            category: code("ADULT"),
            home_branch: code("MAIN"),
            expiry_date: "2030-01-01".into(),
            email: None,
        })
        .unwrap();
    }
    let hash = accounts::hash_password(KIOSK_PASSWORD).unwrap();
    db.create_staff(
        &NewStaff {
            login: KIOSK.into(),
            name: "Kiosk by the door".into(),
            roles: vec!["selfcheck".into()],
            branches: vec![code("MAIN")],
            password_hash: hash,
        },
        now(),
    )
    .unwrap();
    let desk = Desk::new(circulation_settings().build().unwrap());
    desk.set_patron_password(&*db, P1, Some(PIN), now()).unwrap();
    record(
        &*db,
        "Dune",
        &[item("D1", "MAIN", "BK"), item("D2", "MAIN", "BK"), item("D3", "MAIN", "BK"), item("D4", "MAIN", "BK")],
    );
    record(&*db, "Encyclopedia", &[item("R1", "MAIN", "REF")]);
    let trap = record(&*db, "The Trap", &[item("T1", "MAIN", "BK")]);
    record(&*db, "Far Away", &[item("F1", "EAST", "BK")]);
    record(&*db, "Wanted", &[item("W1", "MAIN", "BK")]);
    let last_week = local(2026, 2, 23, 11, 0);
    let main = code("MAIN");
    for (card, bc) in [(P1, "D3"), (P1, "D4"), (P2, "T1"), (P2, "F1"), (P2, "W1")] {
        desk.checkout(&*db, card, &barcode(bc), &main, last_week, None).unwrap();
    }
    let hold = NewHold {
        card_number: P4.into(),
        target: HoldTarget::Record(trap),
        pickup_branch: main,
        not_needed_after: None,
    };
    desk.place_hold(&*db, &hold, last_week).unwrap();
    desk::ledger::charge(
        &*db,
        P1,
        ChargeKind::Printing,
        Money::from_minor(250),
        None,
        Actor::System,
        "Printing",
        last_week,
    )
    .unwrap();
    Library { db, desk, _dir: dir }
}

fn settings() -> Sip2Settings {
    Sip2Settings { bind: "127.0.0.1:0".into(), institution_id: "MAIN".into(), ..Sip2Settings::default() }
}

fn acs(lib: &Library, settings: &Sip2Settings) -> Acs {
    Acs::new(lib.db.clone(), lib.desk.clone(), settings.build().unwrap(), Arc::new(now))
}

/// Starts the server on a free port; it runs until the test's runtime ends.
async fn start(lib: &Library, settings: &Sip2Settings) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Server::new(acs(lib, settings)).unwrap();
    tokio::spawn(server.serve(listener));
    addr
}

// ---------------------------------------------------------------------------------------------
// A raw kiosk

struct Kiosk {
    stream: TcpStream,
    options: Options,
}

impl Kiosk {
    fn connect(addr: SocketAddr) -> Kiosk {
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        Kiosk { stream, options: Options::default() }
    }

    fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// One reply, through its CR; `None` when the server closed the connection.
    fn reply(&mut self) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut byte = [0u8; 1];
        loop {
            match self.stream.read(&mut byte) {
                Ok(0) => return if out.is_empty() { None } else { Some(out) },
                Ok(_) => {
                    out.push(byte[0]);
                    if byte[0] == b'\r' {
                        return Some(out);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return None,
                Err(e) => panic!("reading a reply: {e}"),
            }
        }
    }

    fn ask(&mut self, request: &Request, sequence: u8) -> (Vec<u8>, Vec<u8>) {
        let bytes = format_request(request, Some(sequence), &self.options);
        self.send_raw(&bytes);
        (bytes, self.reply().expect("a reply"))
    }

    fn login(&mut self) {
        let (_, reply) = self.ask(&login_request(KIOSK_PASSWORD), 0);
        assert!(reply.starts_with(b"941"), "{}", String::from_utf8_lossy(&reply));
    }
}

fn login_request(password: &str) -> Request {
    Request::Login(Login {
        uid_algorithm: '0',
        pwd_algorithm: '0',
        login_user_id: KIOSK.into(),
        login_password: password.into(),
        location_code: Some("MAIN".into()),
        extra: vec![],
    })
}

fn sc_status() -> Request {
    Request::ScStatus(ScStatus {
        status_code: StatusCode::ScOk,
        max_print_width: None,
        protocol_version: ProtocolVersion::V2_00,
    })
}

fn parsed(reply: &[u8]) -> Response {
    parse_response(reply, &Options::default())
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(reply)))
        .message
}

fn is_closed(k: &mut Kiosk) -> bool {
    k.reply().is_none()
}

// ---------------------------------------------------------------------------------------------
// The PyPI sip2 client and pysip2

/// The Python with `sip2` and `pysip2`; outside CI a missing one skips with a note, under CI it
/// fails.
fn python_peer() -> Option<String> {
    let python = std::env::var("SHELFMARK_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&python).args(["-c", "import pysip2, Sip2.sip2"]).output().is_ok_and(|o| o.status.success());
    if ok {
        return Some(python);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but {python} has no pysip2/sip2 (scripts/test installs pysip2==0.1.0 sip2==1.1 into the venv)"
    );
    eprintln!("skipped: {python} has no pysip2/sip2 (set SHELFMARK_PYTHON; scripts/test does)");
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_self_check_session_with_the_pypi_sip2_client() {
    let Some(python) = python_peer() else { return };
    let lib = library();
    let addr = start(&lib, &settings()).await;
    let params = serde_json_like(&[
        ("host", "127.0.0.1".into()),
        ("port", addr.port().to_string()),
        ("login", KIOSK.into()),
        ("password", KIOSK_PASSWORD.into()),
        ("institution", "MAIN".into()),
        ("location", "MAIN".into()),
        ("card", P1.into()),
        ("pin", PIN.into()),
        ("other_card", P2.into()),
        ("block_card", P3.into()),
        ("lend", "D1".into()),
        ("lend2", "D2".into()),
        ("reference", "R1".into()),
        ("renew", "D3".into()),
        ("held", "W1".into()),
        ("trap", "T1".into()),
        ("fee", "2.50".into()),
    ]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sip2_session.py");
    let out = tokio::task::spawn_blocking(move || Command::new(python).arg(script).arg(params).output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "the sip2 session failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let report = last_json_line(&stdout);
    assert_eq!(report.refused, Vec::<String>::new(), "pysip2 refused replies");
    let reply = |name: &str| -> (Vec<u8>, Response) {
        let raw = report.replies.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no {name}")).1.clone();
        let bytes = raw.into_bytes();
        let message = parsed(&bytes);
        (bytes, message)
    };

    assert_eq!(reply("login").1, Response::Login(LoginResponse { ok: true }));
    let Response::AcsStatus(s) = reply("sc_status").1 else { panic!() };
    assert!(s.online_status && s.checkin_ok && s.checkout_ok);
    assert_eq!(s.supported_messages.to_wire(), "YYYYYYYYYYYYNYYY");
    assert_eq!(s.institution_id, "MAIN");

    let Response::PatronStatus(p) = reply("patron_status").1 else { panic!() };
    assert_eq!(
        (p.personal_name.as_str(), p.valid_patron, p.valid_patron_password),
        ("Ana Reader", Some(true), Some(true))
    );
    assert!(!p.patron_status.charge_privileges_denied);
    assert_eq!(p.fee_amount.as_deref(), Some("2.50"));

    let Response::Checkout(c) = reply("checkout").1 else { panic!() };
    assert!(c.ok, "{:?}", c.screen_message);
    assert_eq!((c.title_identifier.as_str(), c.due_date.as_str()), ("Dune", "20260316    235900"));
    let Response::Checkout(c) = reply("checkout_refused").1 else { panic!() };
    assert!(!c.ok);
    assert_eq!(c.title_identifier, "Encyclopedia");
    assert!(!c.screen_message.is_empty() && c.screen_message[0].contains("not"), "{:?}", c.screen_message);

    // 63: the four loans, soonest due first (D3, D4 from last week); BP/BQ pages them.
    let Response::PatronInformation(i) = reply("patron_information_charged").1 else { panic!() };
    assert_eq!(i.charged_items, ["D3", "D4", "D1", "D2"]);
    assert_eq!((i.charged_items_count, i.fine_items_count, i.overdue_items_count), (Some(4), Some(1), Some(0)));
    let Response::PatronInformation(i) = reply("patron_information_charged_page2").1 else { panic!() };
    assert_eq!(i.charged_items, ["D4"]);

    let Response::Renew(r) = reply("renew").1 else { panic!() };
    assert!(r.ok && r.renewal_ok, "{:?}", r.screen_message);
    assert_eq!(r.due_date, "20260316    235900");
    // Renew all: D4 renews; D3 (just renewed), D1 and D2 (lent today) would get no later date.
    let Response::RenewAll(r) = reply("renew_all").1 else { panic!() };
    assert!(r.ok);
    assert_eq!(r.renewed_items, ["D4"]);
    let mut unrenewed = r.unrenewed_items.clone();
    unrenewed.sort();
    assert_eq!(unrenewed, ["D1", "D2", "D3"]);
    assert_eq!((r.renewed_count, r.unrenewed_count), (1, 3));

    let Response::ItemInformation(i) = reply("item_information").1 else { panic!() };
    assert_eq!(i.circulation_status, CirculationStatus::Charged);
    assert_eq!((i.title_identifier.as_str(), i.permanent_location.as_deref()), ("Dune", Some("MAIN")));
    let Response::ItemStatusUpdate(u) = reply("item_status_update").1 else { panic!() };
    assert!(u.item_properties_ok);
    let d2 = lib.db.item_by_barcode(&barcode("D2")).unwrap().unwrap();
    assert_eq!(d2.item.materials_specified.as_deref(), Some("2 discs"));

    let Response::Hold(h) = reply("hold").1 else { panic!() };
    assert!(h.ok, "{:?}", h.screen_message);
    assert_eq!((h.queue_position, h.pickup_location.as_deref()), (Some(1), Some("MAIN")));

    let (fee_bytes, fee) = reply("fee_paid");
    let Response::FeePaid(f) = fee else { panic!() };
    assert!(f.payment_accepted, "{:?}", f.screen_message);
    assert_eq!(lib.db.patron_account(P1).unwrap().unwrap().balance, Money::from_minor(0));
    // 97 sends the last reply again, byte for byte.
    assert_eq!(reply("resend").0, fee_bytes);

    // A sorter's check-ins: T1 is trapped for P4 here (hold shelf bin), D2 goes back.
    let Response::Checkin(c) = reply("checkin_trapped").1 else { panic!() };
    assert!(c.ok && c.alert);
    assert_eq!(
        (c.sort_bin.as_deref(), c.alert_type, c.hold_patron_id.as_deref()),
        (Some("1"), Some(AlertType::HoldLocal), Some(P4))
    );
    let Response::Checkin(c) = reply("checkin_reshelve").1 else { panic!() };
    assert!(c.ok && !c.alert);
    assert_eq!(c.sort_bin.as_deref(), Some("3"));
    assert_eq!(c.item_properties.as_deref(), Some("2 discs"));

    let Response::PatronStatus(p) = reply("patron_status_wrong_pin").1 else { panic!() };
    assert_eq!(p.valid_patron_password, Some(false));
    let Response::EndSession(e) = reply("end_session").1 else { panic!() };
    assert!(e.end_session);
    let Response::PatronStatus(p) = reply("block_patron").1 else { panic!() };
    assert!(p.patron_status.charge_privileges_denied);
    let blocks = lib.desk.blocks(&*lib.db, P3).unwrap();
    assert_eq!(blocks.len(), 1);
    assert_eq!(
        (blocks[0].reason.as_str(), blocks[0].placed_by.as_str()),
        ("Blocked at self-check kiosk-main: Card retained", KIOSK)
    );
}

/// The argument the Python script reads: a flat JSON object of strings and one number.
fn serde_json_like(pairs: &[(&str, String)]) -> String {
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| if *k == "port" { format!("\"{k}\": {v}") } else { format!("\"{k}\": {}", json_string(v)) })
        .collect();
    format!("{{{}}}", body.join(", "))
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

struct Report {
    replies: Vec<(String, String)>,
    refused: Vec<String>,
}

/// Reads the script's JSON with the one decoder Python and Rust share here: Python re-encodes
/// it as tab-separated hex, so no JSON parser is needed on this side.
fn last_json_line(stdout: &str) -> Report {
    let mut replies = Vec::new();
    let mut refused = Vec::new();
    for line in stdout.lines() {
        let mut parts = line.splitn(3, '\t');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("REPLY"), Some(name), Some(hex)) => replies.push((name.to_string(), unhex(hex))),
            (Some("REFUSED"), Some(what), _) => refused.push(what.to_string()),
            _ => {}
        }
    }
    Report { replies, refused }
}

fn unhex(hex: &str) -> String {
    let bytes: Vec<u8> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
    String::from_utf8(bytes).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Golden transcripts

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn date() -> Option<SipDate> {
    SipDate::from_parts(2026, 3, 2, 10, 0, 0, Zone::Local)
}

/// The session the goldens record, in order: (file name, request).
fn golden_session() -> Vec<(&'static str, Request)> {
    let card = P1.to_string();
    let patron_information = |summary, start, end| {
        Request::PatronInformation(PatronInformationRequest {
            language: Language::ENGLISH,
            transaction_date: date(),
            summary,
            institution_id: "MAIN".into(),
            patron_identifier: card.clone(),
            terminal_password: Some(String::new()),
            patron_password: Some(PIN.into()),
            start_item: start,
            end_item: end,
            extra: vec![],
        })
    };
    let checkout = |bc: &str| {
        Request::Checkout(Checkout {
            transaction_date: date(),
            institution_id: "MAIN".into(),
            patron_identifier: card.clone(),
            item_identifier: bc.into(),
            patron_password: Some(PIN.into()),
            ..Checkout::default()
        })
    };
    let checkin = |bc: &str| {
        Request::Checkin(Checkin {
            transaction_date: date(),
            return_date: date(),
            current_location: "MAIN".into(),
            institution_id: "MAIN".into(),
            item_identifier: bc.into(),
            ..Checkin::default()
        })
    };
    vec![
        ("93-94-login", login_request(KIOSK_PASSWORD)),
        (
            "99-98-sc-status",
            Request::ScStatus(ScStatus {
                status_code: StatusCode::ScOk,
                max_print_width: Some(80),
                protocol_version: ProtocolVersion::V2_00,
            }),
        ),
        (
            "23-24-patron-status",
            Request::PatronStatus(PatronStatusRequest {
                language: Language::ENGLISH,
                transaction_date: date(),
                institution_id: "MAIN".into(),
                patron_identifier: card.clone(),
                terminal_password: String::new(),
                patron_password: PIN.into(),
                extra: vec![],
            }),
        ),
        ("11-12-checkout", checkout("D1")),
        ("11-12-checkout-refused", checkout("R1")),
        ("63-64-patron-information-charged", patron_information(Summary::ChargedItems, Some(1), Some(5))),
        ("63-64-patron-information-fines", patron_information(Summary::FineItems, None, None)),
        (
            "29-30-renew",
            Request::Renew(Renew {
                transaction_date: date(),
                institution_id: "MAIN".into(),
                patron_identifier: card.clone(),
                patron_password: Some(PIN.into()),
                item_identifier: Some("D3".into()),
                ..Renew::default()
            }),
        ),
        (
            "65-66-renew-all",
            Request::RenewAll(RenewAll {
                transaction_date: None,
                institution_id: "MAIN".into(),
                patron_identifier: card.clone(),
                patron_password: Some(PIN.into()),
                ..RenewAll::default()
            }),
        ),
        (
            "17-18-item-information",
            Request::ItemInformation(ItemInformation {
                transaction_date: date(),
                institution_id: "MAIN".into(),
                item_identifier: "T1".into(),
                ..ItemInformation::default()
            }),
        ),
        (
            "19-20-item-status-update",
            Request::ItemStatusUpdate(ItemStatusUpdate {
                transaction_date: date(),
                institution_id: "MAIN".into(),
                item_identifier: "D2".into(),
                terminal_password: None,
                item_properties: "Book + CD".into(),
                extra: vec![],
            }),
        ),
        (
            "15-16-hold",
            Request::Hold(Hold {
                hold_mode: HoldMode::Add,
                transaction_date: date(),
                expiration_date: None,
                pickup_location: Some("MAIN".into()),
                hold_type: Some(HoldType::AnyCopyOfTitle),
                institution_id: "MAIN".into(),
                patron_identifier: card.clone(),
                patron_password: Some(PIN.into()),
                item_identifier: Some("W1".into()),
                title_identifier: None,
                terminal_password: None,
                fee_acknowledged: None,
                extra: vec![],
            }),
        ),
        (
            "37-38-fee-paid",
            Request::FeePaid(FeePaid {
                transaction_date: date(),
                fee_type: FeeType::OtherUnknown,
                payment_type: PaymentType::Cash,
                currency_type: Currency::USD,
                fee_amount: "2.50".into(),
                institution_id: "MAIN".into(),
                patron_identifier: card.clone(),
                terminal_password: None,
                patron_password: Some(PIN.into()),
                fee_identifier: None,
                transaction_id: Some("K-77".into()),
                extra: vec![],
            }),
        ),
        ("97-resend", Request::RequestAcsResend),
        ("09-10-checkin-hold-shelf", checkin("T1")),
        ("09-10-checkin-transit", checkin("F1")),
        ("09-10-checkin-reshelve", checkin("D2")),
        ("09-10-checkin-unknown-item", checkin("NOPE")),
        (
            "35-36-end-session",
            Request::EndPatronSession(EndPatronSession {
                transaction_date: date(),
                institution_id: "MAIN".into(),
                patron_identifier: card.clone(),
                terminal_password: None,
                patron_password: Some(PIN.into()),
                extra: vec![],
            }),
        ),
        (
            "01-24-block-patron",
            Request::BlockPatron(BlockPatron {
                card_retained: true,
                transaction_date: date(),
                institution_id: "MAIN".into(),
                blocked_card_msg: "Card retained".into(),
                patron_identifier: P3.into(),
                terminal_password: String::new(),
                extra: vec![],
            }),
        ),
    ]
}

/// `> request` and `< reply`, each without its CR.
fn transcript(request: &[u8], reply: &[u8]) -> String {
    let strip = |b: &[u8]| String::from_utf8_lossy(b.strip_suffix(b"\r").unwrap_or(b)).into_owned();
    format!("> {}\n< {}\n", strip(request), strip(reply))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_transcripts_match_their_files() {
    let lib = library();
    let addr = start(&lib, &settings()).await;
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let results = tokio::task::spawn_blocking(move || {
        let mut kiosk = Kiosk::connect(addr);
        let mut out = Vec::new();
        for (i, (name, request)) in golden_session().into_iter().enumerate() {
            let (sent, reply) = kiosk.ask(&request, (i % 10) as u8);
            out.push((name, transcript(&sent, &reply)));
        }
        // A damaged message: its checksum is wrong, the answer is 96.
        let bad = b"9900302.00AY1AZFFFF\r".to_vec();
        kiosk.send_raw(&bad);
        out.push(("96-bad-checksum", transcript(&bad, &kiosk.reply().unwrap())));
        out
    })
    .await
    .unwrap();
    let mut failures = Vec::new();
    let mut names = Vec::new();
    for (name, text) in &results {
        names.push(format!("{name}.sip"));
        let path = golden_dir().join(format!("{name}.sip"));
        if update {
            std::fs::create_dir_all(golden_dir()).unwrap();
            std::fs::write(&path, text).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        if &want != text {
            failures.push(format!("{name}:\n  want {want}\n  got  {text}"));
        }
    }
    assert!(failures.is_empty(), "goldens differ (UPDATE_GOLDEN=1 rewrites them):\n{}", failures.join("\n"));
    // No stale files: every golden on disk is one this session checks.
    let mut on_disk: Vec<String> = std::fs::read_dir(golden_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    names.sort();
    assert_eq!(on_disk, names);
}

// ---------------------------------------------------------------------------------------------
// Malformed input, isolation, timeouts

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_input_gets_96_or_a_closed_connection_and_never_disturbs_another_kiosk() {
    let lib = library();
    let addr = start(&lib, &settings()).await;
    tokio::task::spawn_blocking(move || {
        // A second kiosk, logged in before the trouble starts and used after it.
        let mut calm = Kiosk::connect(addr);
        calm.login();

        // Before login: refused with 940 and closed.
        let mut early = Kiosk::connect(addr);
        let (_, reply) = early.ask(&sc_status(), 1);
        assert_eq!(reply, format_response(&Response::Login(LoginResponse { ok: false }), Some(1), &Options::default()));
        assert!(is_closed(&mut early));

        let mut rough = Kiosk::connect(addr);
        rough.login();
        // A bad checksum: 96, and the connection goes on.
        rough.send_raw(b"9900302.00AY1AZ0000\r");
        assert_eq!(parsed(&rough.reply().unwrap()), Response::RequestScResend);
        let (_, reply) = rough.ask(&sc_status(), 2);
        assert!(matches!(parsed(&reply), Response::AcsStatus(_)));
        // Truncated, unknown, binary garbage: 96 each while it might still be a kiosk...
        for junk in [b"63001".as_slice(), b"XY1234AZ0000", &[0xff, 0xfe, 0x00, 0x80, 0x13]] {
            rough.send_raw(junk);
            rough.send_raw(b"\r");
            assert_eq!(parsed(&rough.reply().unwrap()), Response::RequestScResend, "{junk:?}");
        }
        // ...and closed at the fourth unreadable message in a row.
        rough.send_raw(b"garbage\r");
        assert!(is_closed(&mut rough));

        // An endless line: the connection is closed, memory stays bounded.
        let mut endless = Kiosk::connect(addr);
        endless.login();
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..4 {
            if endless.stream.write_all(&chunk).is_err() {
                break;
            }
        }
        assert!(is_closed(&mut endless));

        // Three wrong logins close the connection.
        let mut guesser = Kiosk::connect(addr);
        for seq in 0..3 {
            let (_, reply) = guesser.ask(&login_request("wrong"), seq);
            assert!(reply.starts_with(b"940"));
        }
        assert!(is_closed(&mut guesser));

        // The calm kiosk never noticed.
        let (_, reply) = calm.ask(
            &Request::ItemInformation(ItemInformation {
                item_identifier: "D1".into(),
                institution_id: "MAIN".into(),
                ..ItemInformation::default()
            }),
            3,
        );
        let Response::ItemInformation(i) = parsed(&reply) else { panic!() };
        assert_eq!(i.title_identifier, "Dune");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_is_closed() {
    let lib = library();
    let addr = start(&lib, &Sip2Settings { idle_timeout_seconds: 1, ..settings() }).await;
    tokio::task::spawn_blocking(move || {
        let mut k = Kiosk::connect(addr);
        k.login();
        let started = std::time::Instant::now();
        assert!(is_closed(&mut k));
        // Closed by the server's timer, not the client's 20-second read timeout.
        assert!(started.elapsed() < Duration::from_secs(10));
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patron_pin_can_be_required_for_checkout() {
    let lib = library();
    let addr = start(&lib, &Sip2Settings { patron_password_required: true, ..settings() }).await;
    tokio::task::spawn_blocking(move || {
        let mut k = Kiosk::connect(addr);
        k.login();
        let checkout = |card: &str, pin: Option<&str>, bc: &str| {
            Request::Checkout(Checkout {
                institution_id: "MAIN".into(),
                patron_identifier: card.into(),
                item_identifier: bc.into(),
                patron_password: pin.map(String::from),
                ..Checkout::default()
            })
        };
        for (seq, (card, pin, message)) in [
            (P1, None, "Please enter your PIN."),
            (P1, Some("9999"), "The PIN does not match this card."),
            (P4, Some("1234"), "The PIN does not match this card."),
        ]
        .into_iter()
        .enumerate()
        {
            let (_, reply) = k.ask(&checkout(card, pin, "D1"), seq as u8);
            let Response::Checkout(c) = parsed(&reply) else { panic!() };
            assert!(!c.ok);
            assert_eq!(c.screen_message, [message]);
        }
        let (_, reply) = k.ask(&checkout(P1, Some(PIN), "D1"), 5);
        let Response::Checkout(c) = parsed(&reply) else { panic!() };
        assert!(c.ok, "{:?}", c.screen_message);
    })
    .await
    .unwrap();
}

// ---------------------------------------------------------------------------------------------
// TLS

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_self_signed_certificate() {
    use tokio_rustls::rustls::{self, pki_types::ServerName, ClientConfig, RootCertStore};

    let lib = library();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, certified.cert.pem()).unwrap();
    std::fs::write(&key_path, certified.key_pair.serialize_pem()).unwrap();
    let addr = start(&lib, &Sip2Settings { tls_cert: Some(cert_path), tls_key: Some(key_path), ..settings() }).await;

    let mut roots = RootCertStore::empty();
    roots.add(certified.cert.der().clone()).unwrap();
    let config = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut tls = connector.connect(ServerName::try_from("localhost").unwrap(), tcp).await.unwrap();
    assert_eq!(tls_ask(&mut tls, login_request(KIOSK_PASSWORD), 0).await, Response::Login(LoginResponse { ok: true }));
    let status = tls_ask(&mut tls, sc_status(), 1).await;
    assert!(matches!(status, Response::AcsStatus(s) if s.online_status));

    // Plain text at a TLS port gets no SIP2 answer.
    let addr2 = addr;
    tokio::task::spawn_blocking(move || {
        let mut plain = Kiosk::connect(addr2);
        plain.send_raw(b"9300CNkiosk-main|COkiosk password 1|CPMAIN|AY0AZF4B6\r");
        assert!(plain.reply().is_none_or(|r| !r.starts_with(b"94")));
    })
    .await
    .unwrap();
}

async fn tls_ask<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    tls: &mut S,
    request: Request,
    seq: u8,
) -> Response {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    tls.write_all(&format_request(&request, Some(seq), &Options::default())).await.unwrap();
    tls.flush().await.unwrap();
    let mut reply = Vec::new();
    let mut byte = [0u8; 1];
    while !reply.ends_with(b"\r") {
        tls.read_exact(&mut byte).await.unwrap();
        reply.push(byte[0]);
    }
    parsed(&reply)
}

// ---------------------------------------------------------------------------------------------
// Arbitrary bytes into the session

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(64)
    ))]

    #[test]
    fn arbitrary_lines_never_panic_the_session(lines in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 1..6), login_first in any::<bool>()) {
        let lib = shared_library();
        let mut session = Session::new(Arc::new(acs(lib, &settings())));
        if login_first {
            let bytes = format_request(&login_request(KIOSK_PASSWORD), Some(0), &Options::default());
            let out = session.handle(bytes.strip_suffix(b"\r").unwrap());
            prop_assert_eq!(out.reply.as_deref().map(|r| &r[..3]), Some(&b"941"[..]));
        }
        for line in &lines {
            let out = session.handle(line);
            if let Some(reply) = &out.reply {
                // Whatever came in, what goes out is a SIP2 message this side can read.
                prop_assert!(parse_response(reply, &Options::default()).is_ok(), "{:?}", String::from_utf8_lossy(reply));
            }
            if out.close {
                break;
            }
        }
    }
}

/// One library for every proptest case (building one costs an argon2 hash and a database).
fn shared_library() -> &'static Library {
    static LIB: std::sync::OnceLock<Library> = std::sync::OnceLock::new();
    LIB.get_or_init(library)
}
