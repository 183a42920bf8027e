//! Due dates: the rule's loan period laid on the branch calendar.
//!
//! A daily loan is due at the end (23:59 local) of the day `period` days after checkout, moved
//! forward to the next open day when that day is closed. An hourly loan is due `period` hours
//! after checkout but no later than the branch's closing time that day, so a laptop is back
//! before the doors lock. Either is pulled back to the patron card's expiry date and the rule's
//! hard due date (end of term) when it would pass them; then it moves *back* to the last open
//! day before the limit, since moving forward would break the limit.

use crate::calendar::{add_days, Calendar, CalendarError};
use crate::rules::{Limit, Period, TimeUnit};
use chrono::{DateTime, Duration, NaiveDate, Utc};

/// What made a due date earlier than the loan period alone would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueLimit {
    CardExpiry,
    HardDueDate,
    ClosingTime,
}

impl DueLimit {
    /// The sentence for the receipt and the clerk.
    pub fn message(self) -> &'static str {
        match self {
            DueLimit::CardExpiry => "Due early because the library card expires first.",
            DueLimit::HardDueDate => "Due early because of the end-of-term due date.",
            DueLimit::ClosingTime => "Due at closing time today.",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueDate {
    pub at: DateTime<Utc>,
    pub limited_by: Option<DueLimit>,
}

/// The due date of a loan (or renewal) starting at `start` for `period`.
pub fn due_date(
    start: DateTime<Utc>,
    period: Period,
    hard_due_date: Limit<NaiveDate>,
    card_expiry: NaiveDate,
    calendar: &Calendar,
) -> Result<DueDate, CalendarError> {
    let today = calendar.local_date(start);
    let mut due = match period.unit {
        TimeUnit::Days => {
            let day = calendar.next_open_day(add_days(today, period.count))?;
            DueDate { at: calendar.end_of_day(day), limited_by: None }
        }
        TimeUnit::Hours => hourly_due(start, period.count, calendar)?,
    };
    let (limit_day, why) = match hard_due_date.value() {
        Some(hard) if hard < card_expiry => (hard, DueLimit::HardDueDate),
        _ => (card_expiry, DueLimit::CardExpiry),
    };
    let limit = calendar.end_of_day(limit_day);
    if due.at > limit {
        // The last open day on or before the limit; if none is left from today on, the limit
        // itself (the book drop takes it).
        let day = calendar.previous_open_day(limit_day, today).unwrap_or(limit_day);
        let at = match period.unit {
            TimeUnit::Days => calendar.end_of_day(day),
            TimeUnit::Hours => calendar.closing_time(day).unwrap_or(limit).min(limit),
        };
        due = DueDate { at: at.max(start.min(limit)), limited_by: Some(why) };
    }
    Ok(due)
}

fn hourly_due(start: DateTime<Utc>, hours: u32, calendar: &Calendar) -> Result<DueDate, CalendarError> {
    let length = Duration::hours(i64::from(hours));
    let today = calendar.local_date(start);
    let (from, close) = match calendar.closing_time(today) {
        Some(close) if start < close => (start, close),
        // Checked out while the branch is closed (a kiosk after hours): the loan runs from the
        // next opening, or it would be overdue before anyone could bring it back.
        _ => {
            let day = calendar.next_open_day(crate::calendar::next_day(today))?;
            match (calendar.opening_time(day), calendar.closing_time(day)) {
                (Some(open), Some(close)) => (open, close),
                _ => return Err(CalendarError::NoOpenDay { from: day, searched: 0 }),
            }
        }
    };
    let wanted = from + length;
    Ok(if wanted > close {
        DueDate { at: close, limited_by: Some(DueLimit::ClosingTime) }
    } else {
        DueDate { at: wanted, limited_by: None }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::ClosedDay;
    use crate::testing::{branch_calendar, date, local};
    use proptest::prelude::*;

    const FAR: NaiveDate = match NaiveDate::from_ymd_opt(2100, 1, 1) {
        Some(d) => d,
        None => NaiveDate::MIN,
    };

    #[test]
    fn daily_loan_is_due_at_the_end_of_an_open_day() {
        let cal = branch_calendar();
        // Wednesday 4 March 2026 + 14 days = Wednesday 18 March, 23:59 New York time.
        let d = due_date(local(&cal, 2026, 3, 4, 10, 0), Period::days(14), Limit::Unlimited, FAR, &cal).unwrap();
        assert_eq!(d, DueDate { at: local(&cal, 2026, 3, 18, 23, 59), limited_by: None });
        // + 11 days is Sunday 15 March: closed, so Monday 16 March.
        let d = due_date(local(&cal, 2026, 3, 4, 10, 0), Period::days(11), Limit::Unlimited, FAR, &cal).unwrap();
        assert_eq!(d.at, local(&cal, 2026, 3, 16, 23, 59));
        // Monday closed as well (a one-off closure): Tuesday.
        let cal = cal.closed_on(ClosedDay::On(date(2026, 3, 16))).unwrap();
        let d = due_date(local(&cal, 2026, 3, 4, 10, 0), Period::days(11), Limit::Unlimited, FAR, &cal).unwrap();
        assert_eq!(d.at, local(&cal, 2026, 3, 17, 23, 59));
    }

    #[test]
    fn yearly_holiday_moves_the_due_date() {
        let cal = branch_calendar().closed_on(ClosedDay::Yearly { month: 12, day: 25 }).unwrap();
        // 11 Dec 2025 + 14 = Thursday 25 Dec: closed every year, so Friday 26.
        let d = due_date(local(&cal, 2025, 12, 11, 12, 0), Period::days(14), Limit::Unlimited, FAR, &cal).unwrap();
        assert_eq!(d.at, local(&cal, 2025, 12, 26, 23, 59));
    }

    #[test]
    fn card_expiry_and_hard_due_date_pull_the_due_date_back() {
        let cal = branch_calendar();
        let start = local(&cal, 2026, 3, 4, 10, 0);
        let d = due_date(start, Period::days(14), Limit::Unlimited, date(2026, 3, 10), &cal).unwrap();
        assert_eq!(d, DueDate { at: local(&cal, 2026, 3, 10, 23, 59), limited_by: Some(DueLimit::CardExpiry) });
        // Hard due date on a Sunday: back to Saturday, never forward past it.
        let d = due_date(start, Period::days(14), Limit::At(date(2026, 3, 15)), date(2027, 1, 1), &cal).unwrap();
        assert_eq!(d, DueDate { at: local(&cal, 2026, 3, 14, 23, 59), limited_by: Some(DueLimit::HardDueDate) });
        // The earlier of the two wins.
        let d = due_date(start, Period::days(14), Limit::At(date(2026, 3, 12)), date(2026, 3, 11), &cal).unwrap();
        assert_eq!(d.limited_by, Some(DueLimit::CardExpiry));
    }

    #[test]
    fn hourly_loans_end_by_closing_time() {
        let cal = branch_calendar();
        let d = due_date(local(&cal, 2026, 3, 4, 10, 0), Period::hours(4), Limit::Unlimited, FAR, &cal).unwrap();
        assert_eq!(d, DueDate { at: local(&cal, 2026, 3, 4, 14, 0), limited_by: None });
        let d = due_date(local(&cal, 2026, 3, 4, 15, 0), Period::hours(4), Limit::Unlimited, FAR, &cal).unwrap();
        assert_eq!(d, DueDate { at: local(&cal, 2026, 3, 4, 17, 0), limited_by: Some(DueLimit::ClosingTime) });
        // After hours on Saturday: runs from Monday's opening.
        let d = due_date(local(&cal, 2026, 3, 7, 18, 0), Period::hours(2), Limit::Unlimited, FAR, &cal).unwrap();
        assert_eq!(d.at, local(&cal, 2026, 3, 9, 11, 0));
    }

    #[test]
    fn due_time_is_local_across_daylight_saving() {
        let cal = branch_calendar();
        // DST starts 8 March 2026 in New York: 23:59 EST is 04:59 UTC, 23:59 EDT is 03:59 UTC.
        let before = due_date(local(&cal, 2026, 2, 20, 10, 0), Period::days(14), Limit::Unlimited, FAR, &cal).unwrap();
        let after = due_date(local(&cal, 2026, 3, 4, 10, 0), Period::days(14), Limit::Unlimited, FAR, &cal).unwrap();
        assert_eq!(before.at.format("%H:%M").to_string(), "04:59");
        assert_eq!(after.at.format("%H:%M").to_string(), "03:59");
    }

    proptest! {
        /// A due date is on an open day unless a limit forced it, never past the card's expiry
        /// or the hard due date, and never before checkout.
        #[test]
        fn due_dates_respect_calendar_and_limits(
            start_day in 0u32..400, start_hour in 0u32..24, days in 0u32..60, hourly in any::<bool>(),
            expiry_in in 0u32..120, hard_in in proptest::option::of(0u32..120),
            closed in proptest::collection::vec(0u32..460, 0..30),
        ) {
            let mut cal = branch_calendar();
            let base = date(2026, 1, 1);
            for c in closed { cal.close(ClosedDay::On(add_days(base, c))).unwrap(); }
            let start_date = add_days(base, start_day);
            let start = cal.instant(start_date.and_hms_opt(start_hour, 0, 0).unwrap());
            let expiry = add_days(start_date, expiry_in);
            let hard = hard_in.map_or(Limit::Unlimited, |h| Limit::At(add_days(start_date, h)));
            let period = if hourly { Period::hours(days % 9 + 1) } else { Period::days(days) };
            let d = due_date(start, period, hard, expiry, &cal).unwrap();
            prop_assert!(d.at >= start || d.limited_by.is_some());
            prop_assert!(d.at <= cal.end_of_day(expiry));
            if let Some(h) = hard.value() { prop_assert!(d.at <= cal.end_of_day(h)); }
            if d.limited_by.is_none() {
                prop_assert!(cal.is_open(cal.local_date(d.at)));
            }
            if hourly && d.limited_by != Some(DueLimit::CardExpiry) && d.limited_by != Some(DueLimit::HardDueDate) {
                let day = cal.local_date(d.at);
                prop_assert!(d.at <= cal.closing_time(day).unwrap());
            }
        }
    }
}
