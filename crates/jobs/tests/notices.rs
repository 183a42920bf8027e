//! Notices day by day with an injected clock, on a real SQLite database, delivered to a real
//! SMTP server (aiosmtpd on 127.0.0.1) that captures every message: a courtesy notice two days
//! before the due day, 1st/2nd/3rd overdue notices on the right days across closed days, nothing
//! sent twice when the jobs run twice the same day, a patron without email in the print batch,
//! a card-expiring notice, hold-ready and hold-expiring notices.
#![allow(clippy::unwrap_used)] // a test: a panic with its line is the failure report

mod common;

use catalog::{Barcode, BibDerived, Branch, Code, ItemStatus, ItemType, NewItem};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::America::Chicago;
use common::circulation;
use desk::Desk;
use jobs::{NoticeSettings, Outcome};
use notices::{SmtpSecurity, SmtpSettings};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use storage::{Database, NewRecord, Patron, StorageConfig};

fn code(s: &str) -> Code {
    Code::parse(s).unwrap()
}

fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Chicago.with_ymd_and_hms(y, m, d, h, min, 0).unwrap().with_timezone(&Utc)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// aiosmtpd on a free port of 127.0.0.1, writing each message it accepts to `dir` as JSON
/// (recipients, subject, decoded body).
struct SmtpServer {
    child: Child,
    port: u16,
    dir: PathBuf,
}

const SERVER: &str = r#"
import json, os, sys, time, email
from email import policy
from aiosmtpd.controller import Controller

out, port = sys.argv[1], int(sys.argv[2])
count = 0

class Capture:
    async def handle_DATA(self, server, session, envelope):
        global count
        count += 1
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        record = {"rcpt": envelope.rcpt_tos, "from": envelope.mail_from, "to": msg["To"],
                  "subject": msg["Subject"], "body": msg.get_content()}
        path = os.path.join(out, "%05d.json" % count)
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        return "250 Message accepted"

c = Controller(Capture(), hostname="127.0.0.1", port=port)
c.start()
print("ready", flush=True)
sys.stdin.read()
c.stop()
"#;

fn python() -> String {
    std::env::var("SHELFMARK_PYTHON").unwrap_or_else(|_| "python3".into())
}

impl SmtpServer {
    fn start(dir: &Path) -> SmtpServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let script = dir.join("smtp_capture.py");
        std::fs::write(&script, SERVER).unwrap();
        let mail = dir.join("mail");
        std::fs::create_dir_all(&mail).unwrap();
        let mut child = Command::new(python())
            .arg(&script)
            .arg(&mail)
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {} (set SHELFMARK_PYTHON to a python with aiosmtpd; scripts/test does): {e}",
                    python()
                )
            });
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready", "aiosmtpd did not start (is it installed in {}?)", python());
        SmtpServer { child, port, dir: mail }
    }

    /// Every message captured so far, in arrival order.
    fn messages(&self) -> Vec<serde_json::Value> {
        let mut names: Vec<_> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        names.sort();
        names.iter().map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()).collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn register(db: &dyn Database, card: &str, first: &str, email: Option<&str>, expiry: &str) {
    db.upsert_patron(&Patron {
        card_number: card.into(),
        surname: "Reader".into(),
        first_name: first.into(),
        category: code("ADULT"),
        home_branch: code("MAIN"),
        expiry_date: expiry.into(),
        email: email.map(str::to_string),
    })
    .unwrap();
}

fn add_copy(db: &dyn Database, barcode: &str, title: &str) {
    let derived = BibDerived { title: title.into(), ..BibDerived::default() };
    let marc = format!("{title}\x1d").into_bytes();
    let bib = db.create_record(&NewRecord { marc, derived, row: None }).unwrap();
    db.create_item(
        bib,
        &NewItem {
            barcode: Barcode::parse(barcode).unwrap(),
            home_branch: code("MAIN"),
            holding_branch: code("MAIN"),
            location: None,
            collection: None,
            call_number: None,
            item_type: code("BK"),
            price: None,
            public_note: None,
            staff_note: None,
            materials_specified: None,
            status: ItemStatus::Available,
            acquired_on: None,
        },
    )
    .unwrap();
}

#[test]
fn notices_day_by_day_through_a_real_smtp_server() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(dir.path());
    let db: Arc<dyn Database> = storage::open(&StorageConfig::parse(dir.path().to_str().unwrap())).unwrap();
    let db = &*db;
    db.upsert_branch(&Branch { code: code("MAIN"), name: "Main".into() }).unwrap();
    db.upsert_item_type(&ItemType { code: code("BK"), name: "Book".into(), loanable: true }).unwrap();
    register(db, "ADA", "Ada", Some("ada@example.org"), "2030-01-01");
    register(db, "BOB", "Bob", None, "2030-01-01");
    register(db, "CARA", "Cara", Some("cara@example.org"), "2026-04-10");
    add_copy(db, "M1", "Middlemarch");
    add_copy(db, "P1", "Persuasion");
    add_copy(db, "U1", "Ulysses");
    add_copy(db, "E1", "Emma");

    let circulation = circulation().build().unwrap();
    let desk = Desk::new(circulation.clone());
    let settings = NoticeSettings {
        smtp: Some(SmtpSettings {
            host: "127.0.0.1".into(),
            port: smtp.port,
            security: SmtpSecurity::None,
            from: "Riverton Public Library <notices@riverton.example>".into(),
            ..SmtpSettings::default()
        }),
        ..NoticeSettings::default()
    };
    let notices = settings.build("Riverton Public Library").unwrap();

    // Wednesday 4 March, 15:00: fourteen days is Wednesday the 18th, closed, so due Thursday
    // the 19th at the end of the day. Ada borrows two, Bob (no email) one.
    let main = code("MAIN");
    let at = local(2026, 3, 4, 15, 0);
    for (card, item) in [("ADA", "M1"), ("ADA", "P1"), ("BOB", "U1")] {
        let out = desk.checkout(db, card, &Barcode::parse(item).unwrap(), &main, at, None).unwrap();
        assert_eq!(out.loan.due_at, local(2026, 3, 19, 23, 59), "{item}");
    }

    // Cara asks for Emma, to pick up at MAIN; the copy is found on Monday 23 March at noon.
    let emma = db.item_by_barcode(&Barcode::parse("E1").unwrap()).unwrap().unwrap().bib_id;
    let hold = storage::holds::NewHold {
        card_number: "CARA".into(),
        target: storage::holds::HoldTarget::Record(emma),
        pickup_branch: main.clone(),
        not_needed_after: None,
    };
    desk.place_hold(db, &hold, at).unwrap();

    // Every day at 06:00 in Chicago from 5 March to 20 April; twice on some days.
    let mut sent_on: Vec<(NaiveDate, String, String)> = Vec::new();
    let mut seen = 0;
    let mut day = date(2026, 3, 5);
    while day <= date(2026, 4, 20) {
        let now = Chicago.from_local_datetime(&day.and_hms_opt(6, 0, 0).unwrap()).unwrap().with_timezone(&Utc);
        let reports = jobs::run_day(db, &circulation, &notices, day, now, &[]).unwrap();
        assert!(reports.iter().all(|r| matches!(r.outcome, Outcome::Ran { .. })), "{day}: {reports:?}");
        // The same day again, an hour later (a restart, or a clerk pressing "run"): nothing.
        let again = jobs::run_day(db, &circulation, &notices, day, now + chrono::Duration::hours(1), &[]).unwrap();
        assert!(again.iter().all(|r| matches!(r.outcome, Outcome::AlreadyRan { .. })), "{day}: {again:?}");
        let messages = smtp.messages();
        for m in &messages[seen..] {
            sent_on.push((day, m["rcpt"][0].as_str().unwrap().to_string(), m["subject"].as_str().unwrap().to_string()));
        }
        seen = messages.len();
        if day == date(2026, 3, 23) {
            let found =
                desk.check_in(db, &Barcode::parse("E1").unwrap(), &main, None, local(2026, 3, 23, 12, 0)).unwrap();
            assert_eq!(found.status, ItemStatus::OnHoldShelf);
        }
        day = day.succ_opt().unwrap();
    }

    let emails: Vec<(NaiveDate, &str, &str)> = sent_on.iter().map(|(d, to, s)| (*d, to.as_str(), s.as_str())).collect();
    assert_eq!(
        emails,
        [
            // Thirty days before the card expires on 10 April.
            (date(2026, 3, 11), "cara@example.org", "Riverton Public Library: your library card expires soon"),
            // Two days before the due day (the 19th), across the closure on the 18th.
            (date(2026, 3, 17), "ada@example.org", "Riverton Public Library: items due soon"),
            // The day after the due day, then 14 and 28 days after it (closed Sundays count:
            // a notice is about the patron's calendar, not the branch's hours).
            (date(2026, 3, 20), "ada@example.org", "Riverton Public Library: items overdue"),
            // Emma went on the hold shelf at noon on the 23rd until the 30th: ready the next
            // morning, expiring the day before the deadline.
            (date(2026, 3, 24), "cara@example.org", "Riverton Public Library: your hold is ready"),
            (date(2026, 3, 29), "cara@example.org", "Riverton Public Library: pick up your hold soon"),
            (date(2026, 4, 2), "ada@example.org", "Riverton Public Library: second notice, items overdue"),
            (date(2026, 4, 16), "ada@example.org", "Riverton Public Library: final notice, items overdue"),
        ]
    );

    // One message lists both of Ada's books, with titles, barcodes and the due date in Chicago.
    let messages = smtp.messages();
    let courtesy = &messages[1];
    assert_eq!(courtesy["from"], "notices@riverton.example");
    let body = courtesy["body"].as_str().unwrap();
    assert!(body.starts_with("Dear Ada Reader,"), "{body}");
    assert!(body.contains("  - Middlemarch (barcode M1): due 2026-03-19 23:59"), "{body}");
    assert!(body.contains("  - Persuasion (barcode P1): due 2026-03-19 23:59"), "{body}");
    assert!(messages[6]["body"].as_str().unwrap().contains("marked lost"), "the final notice's wording");
    for hold_notice in [&messages[3], &messages[4]] {
        let body = hold_notice["body"].as_str().unwrap();
        assert!(body.contains("  - Emma (barcode E1): pick up by 2026-03-30 23:59 at MAIN"), "{body}");
    }
    let card = messages[0]["body"].as_str().unwrap();
    assert!(card.contains("Your library card CARA expires on 2026-04-10"), "{card}");

    // Bob has no email: his notices wait in the print batch of their day, never mailed.
    let printed: Vec<(NaiveDate, String)> = [date(2026, 3, 17), date(2026, 3, 20), date(2026, 4, 2), date(2026, 4, 16)]
        .into_iter()
        .flat_map(|d| db.print_notices(d).unwrap().into_iter().map(move |n| (d, n.kind)))
        .collect();
    assert_eq!(
        printed,
        [
            (date(2026, 3, 17), "courtesy".to_string()),
            (date(2026, 3, 20), "overdue_1".to_string()),
            (date(2026, 4, 2), "overdue_2".to_string()),
            (date(2026, 4, 16), "overdue_3".to_string()),
        ]
    );
    let bob = &db.print_notices(date(2026, 3, 20)).unwrap()[0];
    assert!(bob.body.contains("Ulysses (barcode U1): due 2026-03-19 23:59"), "{}", bob.body);
    assert_eq!((bob.card_number.as_str(), bob.recipient.as_deref()), ("BOB", None));

    // The log: every email delivered.
    let log = db.notices(storage::Page { after: 0, limit: 100 }).unwrap();
    assert_eq!(log.len(), 11);
    assert!(log.iter().filter(|n| n.channel == "email").all(|n| n.status == "sent" && n.delivered_at.is_some()));
}

#[test]
fn a_run_that_dies_half_way_is_finished_by_the_next_without_a_second_copy() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(dir.path());
    let db: Arc<dyn Database> = storage::open(&StorageConfig::parse(dir.path().to_str().unwrap())).unwrap();
    let db = &*db;
    db.upsert_branch(&Branch { code: code("MAIN"), name: "Main".into() }).unwrap();
    db.upsert_item_type(&ItemType { code: code("BK"), name: "Book".into(), loanable: true }).unwrap();
    register(db, "ADA", "Ada", Some("ada@example.org"), "2030-01-01");
    add_copy(db, "M1", "Middlemarch");
    let circulation = circulation().build().unwrap();
    let desk = Desk::new(circulation.clone());
    desk.checkout(db, "ADA", &Barcode::parse("M1").unwrap(), &code("MAIN"), local(2026, 3, 4, 15, 0), None).unwrap();
    let smtp_settings = SmtpSettings {
        host: "127.0.0.1".into(),
        port: smtp.port,
        security: SmtpSecurity::None,
        from: "notices@riverton.example".into(),
        ..SmtpSettings::default()
    };
    let day = date(2026, 3, 20);
    let now = local(2026, 3, 20, 6, 0);

    // The first run decides and stores the overdue notice, then "dies" before sending: it
    // has no SMTP server yet, and its send_notices never records a finished run.
    let offline = NoticeSettings::default().build("Riverton").unwrap();
    let only = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let first = jobs::run_day(db, &circulation, &offline, day, now, &only(&["loan_notices"])).unwrap();
    assert!(matches!(&first[0].outcome, Outcome::Ran { summary } if summary.contains("1 overdue_1")), "{first:?}");
    assert!(smtp.messages().is_empty());
    assert_eq!(db.pending_notices(0, 10).unwrap().len(), 1);

    // The rerun: the loan notice job is done for the day; sending delivers the stored notice.
    let online = NoticeSettings { smtp: Some(smtp_settings), ..NoticeSettings::default() }.build("Riverton").unwrap();
    let second = jobs::run_day(db, &circulation, &online, day, now, &[]).unwrap();
    let outcome = |name: &str| &second.iter().find(|r| r.job == name).expect("the job ran").outcome;
    assert!(matches!(outcome("loan_notices"), Outcome::AlreadyRan { .. }), "{second:?}");
    assert!(matches!(outcome("send_notices"), Outcome::Ran { summary } if summary == "1 email notices sent, 0 failed"));
    assert_eq!(smtp.messages().len(), 1);

    // The next day decides afresh (no job_runs row covers it): the loan is still overdue, but
    // its 1st overdue notice's key is taken, so nothing new goes out.
    let next_day = jobs::run_day(db, &circulation, &online, date(2026, 3, 21), local(2026, 3, 21, 6, 0), &[]).unwrap();
    assert!(next_day.iter().all(|r| matches!(r.outcome, Outcome::Ran { .. })), "{next_day:?}");
    assert_eq!(smtp.messages().len(), 1);

    assert!(matches!(
        jobs::run_day(db, &circulation, &online, day, now, &only(&["no_such_job"])),
        Err(jobs::JobsError::UnknownJob(name)) if name == "no_such_job"
    ));
}
