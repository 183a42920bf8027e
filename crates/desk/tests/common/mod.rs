//! What the desk's day-by-day scenario binaries share: parsing helpers, the clock in the
//! library's time zone (Chicago), and the circulation settings the scenarios assume.

#![allow(dead_code)] // each test binary uses its own part
#![allow(clippy::unwrap_used)]

use catalog::{Barcode, Code};
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::America::Chicago;
use desk::CirculationSettings;

pub fn code(s: &str) -> Code {
    Code::parse(s).unwrap()
}

pub fn barcode(s: &str) -> Barcode {
    Barcode::parse(s).unwrap()
}

/// A local (Chicago) wall-clock time as the instant the desk sees.
pub fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Chicago.with_ymd_and_hms(y, m, d, h, min, 0).unwrap().with_timezone(&Utc)
}

/// Chicago hours, closed on Sundays, Christmas and New Year's Day; one rule row for everything:
/// 14-day loans, 0.25 a day capped at 5.00, lost after 60 days with a 5.00 processing fee.
pub fn settings() -> CirculationSettings {
    let text = r#"
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
        max_loans = 3
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
    "#;
    toml::from_str(text).unwrap()
}
