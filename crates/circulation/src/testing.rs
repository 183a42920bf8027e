//! Fixtures shared by the unit tests: a default rule, a branch calendar, dates and instants.

use crate::calendar::{Calendar, OpeningHours};
use crate::rules::{FineRate, Limit, Period, Rule, TimeUnit};
use crate::Money;
use catalog::Code;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

pub fn code(s: &str) -> Code {
    Code::parse(s).unwrap()
}

pub fn money(minor: i64) -> Money {
    Money::from_minor(minor)
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// An instant given as local wall-clock time in the test calendar's zone.
pub fn local(cal: &Calendar, y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    cal.instant(date(y, m, d).and_hms_opt(h, min, 0).unwrap())
}

pub fn hours(open: u32, close: u32) -> Option<OpeningHours> {
    Some(
        OpeningHours::new(NaiveTime::from_hms_opt(open, 0, 0).unwrap(), NaiveTime::from_hms_opt(close, 0, 0).unwrap())
            .unwrap(),
    )
}

/// Monday to Saturday 9-17 (Saturday 10-16), closed Sundays, in New York.
pub fn branch_calendar() -> Calendar {
    let weekday = hours(9, 17);
    Calendar::new(chrono_tz::America::New_York, [weekday, weekday, weekday, weekday, weekday, hours(10, 16), None])
        .unwrap()
}

/// Open every day 9-17: for tests that want no closed days at all.
pub fn open_every_day() -> Calendar {
    let h = hours(9, 17);
    Calendar::new(chrono_tz::America::New_York, [h; 7]).unwrap()
}

pub fn default_rule() -> Rule {
    Rule {
        loan_period: Period::days(14),
        max_loans: 20,
        renewals_allowed: 2,
        renewal_period: Period::days(14),
        fine: FineRate { amount: money(25), per: TimeUnit::Days },
        grace_period: Period::days(0),
        max_fine: Limit::At(money(1000)),
        lost_after_days: Limit::At(60),
        lost_processing_fee: money(500),
        hold_allowed: true,
        max_holds: 10,
        hold_shelf_days: 7,
        hard_due_date: Limit::Unlimited,
    }
}
