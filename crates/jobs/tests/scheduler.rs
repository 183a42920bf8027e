//! The running scheduler keeps a server's desk in step with settings edited on another server
//! (or an emergency closure declared there) that shares the database: within a tick, not at the
//! next start or daily run.
#![allow(clippy::unwrap_used)] // a test: a panic with its line is the failure report

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use common::circulation;
use desk::Desk;
use jobs::{NoticeSettings, Scheduler};
use storage::{Database, StorageConfig};

#[test]
fn an_edit_saved_on_another_server_is_in_force_here_within_a_tick() {
    let dir = tempfile::tempdir().unwrap();
    let db: Arc<dyn Database> =
        storage::open(&StorageConfig::Sqlite(storage::SqliteOptions::new(dir.path().join("db")))).unwrap();
    db.upsert_branch(&catalog::Branch { code: catalog::Code::parse("MAIN").unwrap(), name: "Main".into() }).unwrap();
    // Two servers started from the same settings file: this one runs the scheduler.
    let here = Desk::new(circulation().build().unwrap());
    let there = Desk::new(circulation().build().unwrap());
    let notices = NoticeSettings::default().build("Test Library").unwrap();
    let _scheduler = Scheduler::start(db.clone(), here.clone(), notices, Duration::from_millis(20)).unwrap();

    let monday = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
    let main = catalog::Code::parse("MAIN").unwrap();
    assert!(here.circulation().calendar(&main).is_open(monday));
    let (mut edited, stamp) = there.circulation_settings();
    edited.hours.mon = "closed".into();
    let now = Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap();
    there.update_circulation(&*db, edited.clone(), stamp.version, Some("manager"), now).unwrap();

    let started = Instant::now();
    while here.circulation_settings().1.version != 1 {
        assert!(started.elapsed() < Duration::from_secs(30), "the edit was not loaded within 30 s");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(here.circulation_settings().0, edited);
    assert!(!here.circulation().calendar(&main).is_open(monday), "Mondays are closed here now");

    // An emergency closure declared there, with the settings' version unchanged, closes the
    // branch here too.
    let tuesday = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
    assert!(here.circulation().calendar(&main).is_open(tuesday));
    there.declare_closure(&*db, std::slice::from_ref(&main), tuesday, "burst pipe", Some("manager"), now).unwrap();
    let started = Instant::now();
    while here.circulation().calendar(&main).is_open(tuesday) {
        assert!(started.elapsed() < Duration::from_secs(30), "the closure was not loaded within 30 s");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(here.circulation_settings().1.version, 1);
}
