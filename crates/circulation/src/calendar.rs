//! A branch's calendar: opening hours per weekday and the days it is closed, in the library's
//! time zone.
//!
//! Instants are stored in UTC, but "due on Tuesday" and "closed on 25 December" are local
//! facts, so every question the calendar answers takes or gives a local date and converts at
//! the edge with `chrono-tz` (daylight saving included). A weekday with no hours is a weekly
//! closed day ("every Sunday"); [`ClosedDay`] adds yearly holidays and one-off closures. An
//! emergency closure is a one-off closure declared after due dates and pickup deadlines were
//! set; [`Calendar::moved_due`] and [`Calendar::extended_pickup_deadline`] say how those move.
//!
//! **End of day.** A daily loan is due at 23:59 local time on its due day, not at closing time:
//! the book drop is open all evening and patrons renew online at night, and fines count whole
//! open days, so nothing is gained by being due at 17:00 except confused patrons.

use chrono::{DateTime, Datelike, Days, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("opening time {open} is not before closing time {close}")]
    BadHours { open: NaiveTime, close: NaiveTime },
    #[error("the calendar has no open weekday")]
    NeverOpen,
    #[error("the branch has no open day within {searched} days after {from}")]
    NoOpenDay { from: NaiveDate, searched: u32 },
    #[error("{month}-{day} is not a day of the year")]
    BadYearlyDay { month: u32, day: u32 },
}

/// The hours a branch is open on a day; `open < close`, both local times on the same day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpeningHours {
    open: NaiveTime,
    close: NaiveTime,
}

impl OpeningHours {
    pub fn new(open: NaiveTime, close: NaiveTime) -> Result<OpeningHours, CalendarError> {
        if open < close {
            Ok(OpeningHours { open, close })
        } else {
            Err(CalendarError::BadHours { open, close })
        }
    }

    pub fn open(self) -> NaiveTime {
        self.open
    }

    pub fn close(self) -> NaiveTime {
        self.close
    }
}

/// A day the branch is closed besides its weekly closed weekdays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ClosedDay {
    /// Every year on this month and day (25 December). 29 February closes leap years only.
    Yearly { month: u32, day: u32 },
    /// One day only: a snow day, a staff training day, an emergency closure.
    On(NaiveDate),
}

/// How far ahead [`Calendar::next_open_day`] looks before deciding the calendar is broken. Three
/// years outlasts any renovation; a loop without a bound would hang on a misconfigured calendar.
const SEARCH_DAYS: u32 = 3 * 366;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    tz: Tz,
    /// Monday first, as `Weekday::num_days_from_monday`.
    week: [Option<OpeningHours>; 7],
    yearly: BTreeSet<(u32, u32)>,
    once: BTreeSet<NaiveDate>,
}

impl Calendar {
    /// `week` is Monday first; `None` closes that weekday every week. At least one weekday must
    /// be open, or no due date could ever be found.
    pub fn new(tz: Tz, week: [Option<OpeningHours>; 7]) -> Result<Calendar, CalendarError> {
        if week.iter().all(Option::is_none) {
            return Err(CalendarError::NeverOpen);
        }
        Ok(Calendar { tz, week, yearly: BTreeSet::new(), once: BTreeSet::new() })
    }

    pub fn close(&mut self, day: ClosedDay) -> Result<(), CalendarError> {
        match day {
            ClosedDay::Yearly { month, day } => {
                // 2024 is a leap year, so 29 February is accepted and every other real day too.
                if NaiveDate::from_ymd_opt(2024, month, day).is_none() {
                    return Err(CalendarError::BadYearlyDay { month, day });
                }
                self.yearly.insert((month, day));
            }
            ClosedDay::On(date) => {
                self.once.insert(date);
            }
        }
        Ok(())
    }

    /// The same calendar with one more closed day.
    pub fn closed_on(mut self, day: ClosedDay) -> Result<Calendar, CalendarError> {
        self.close(day)?;
        Ok(self)
    }

    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    pub fn closed_days(&self) -> impl Iterator<Item = ClosedDay> + '_ {
        let yearly = self.yearly.iter().map(|&(month, day)| ClosedDay::Yearly { month, day });
        yearly.chain(self.once.iter().map(|&d| ClosedDay::On(d)))
    }

    /// The usual hours of a weekday, closed days aside; `None` when it is closed every week.
    pub fn weekly_hours(&self, weekday: chrono::Weekday) -> Option<OpeningHours> {
        self.week[weekday.num_days_from_monday() as usize]
    }

    /// The branch's hours on `date`, or `None` when it is closed all day.
    pub fn hours(&self, date: NaiveDate) -> Option<OpeningHours> {
        if self.once.contains(&date) || self.yearly.contains(&(date.month(), date.day())) {
            return None;
        }
        self.week[date.weekday().num_days_from_monday() as usize]
    }

    pub fn is_open(&self, date: NaiveDate) -> bool {
        self.hours(date).is_some()
    }

    /// The local date of an instant.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }

    /// The instant of a local wall-clock time. In the autumn hour that happens twice the
    /// earlier is taken; in the spring gap the moment the clocks jump to.
    pub fn instant(&self, local: NaiveDateTime) -> DateTime<Utc> {
        match self.tz.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
            LocalResult::None => {
                for minutes in [30, 60, 90, 120] {
                    let Some(later) = local.checked_add_signed(Duration::minutes(minutes)) else { break };
                    if let LocalResult::Single(t) | LocalResult::Ambiguous(t, _) = self.tz.from_local_datetime(&later) {
                        return t.with_timezone(&Utc);
                    }
                }
                // No zone has a gap over two hours, so this is the edge of chrono's range: reading the
                // wall clock as UTC is the least wrong answer there.
                Utc.from_utc_datetime(&local)
            }
        }
    }

    /// When a daily loan due on `date` is due: 23:59 local (see the module doc).
    pub fn end_of_day(&self, date: NaiveDate) -> DateTime<Utc> {
        self.instant(date.and_time(end_of_day_time()))
    }

    pub fn opening_time(&self, date: NaiveDate) -> Option<DateTime<Utc>> {
        self.hours(date).map(|h| self.instant(date.and_time(h.open)))
    }

    pub fn closing_time(&self, date: NaiveDate) -> Option<DateTime<Utc>> {
        self.hours(date).map(|h| self.instant(date.and_time(h.close)))
    }

    /// The first open day on or after `from`.
    pub fn next_open_day(&self, from: NaiveDate) -> Result<NaiveDate, CalendarError> {
        let mut day = from;
        for _ in 0..SEARCH_DAYS {
            if self.is_open(day) {
                return Ok(day);
            }
            day = next_day(day);
        }
        Err(CalendarError::NoOpenDay { from, searched: SEARCH_DAYS })
    }

    /// The last open day on or before `from`, if there is one no earlier than `not_before`.
    pub fn previous_open_day(&self, from: NaiveDate, not_before: NaiveDate) -> Option<NaiveDate> {
        let mut day = from;
        while day >= not_before {
            if self.is_open(day) {
                return Some(day);
            }
            day = day.pred_opt()?;
        }
        None
    }

    /// Open days in `(after, through]`: the days an overdue daily loan accrues fines for.
    pub fn open_days_between(&self, after: NaiveDate, through: NaiveDate) -> u32 {
        let mut count = 0u32;
        let mut day = next_day(after);
        while day <= through {
            if self.is_open(day) {
                count = count.saturating_add(1);
            }
            let Some(next) = day.succ_opt() else { break };
            day = next;
        }
        count
    }

    /// Minutes the branch is open between two instants: the time an overdue hourly loan accrues.
    pub fn open_minutes_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        if to <= from {
            return 0;
        }
        let mut total = 0i64;
        let last = self.local_date(to);
        let mut day = self.local_date(from);
        while day <= last {
            if let (Some(open), Some(close)) = (self.opening_time(day), self.closing_time(day)) {
                let start = open.max(from);
                let end = close.min(to);
                if end > start {
                    total = total.saturating_add((end - start).num_minutes());
                }
            }
            let Some(next) = day.succ_opt() else { break };
            day = next;
        }
        total
    }

    /// Where a due instant goes when its day has been closed after the loan was made (an
    /// emergency closure): to the same hour on the next open day for daily loans, whose due time
    /// is the end of the day, and to that day's closing time for hourly ones. `None` when the due
    /// day is still open.
    pub fn moved_due(&self, due: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, CalendarError> {
        let day = self.local_date(due);
        if self.is_open(day) {
            return Ok(None);
        }
        let next = self.next_open_day(day)?;
        let was_end_of_day = due.with_timezone(&self.tz).time() == end_of_day_time();
        Ok(Some(match self.closing_time(next) {
            Some(close) if !was_end_of_day => close,
            _ => self.end_of_day(next),
        }))
    }

    /// A hold shelf pickup deadline after `closed` was closed in an emergency: a patron loses no
    /// pickup day, so a closure on or before the deadline day (and not before `today`) pushes the
    /// deadline to the end of the next open day after it. `None` when the closure does not touch
    /// the deadline.
    pub fn extended_pickup_deadline(
        &self,
        deadline: DateTime<Utc>,
        closed: NaiveDate,
        today: NaiveDate,
    ) -> Result<Option<DateTime<Utc>>, CalendarError> {
        let deadline_day = self.local_date(deadline);
        if closed < today || closed > deadline_day {
            return Ok(None);
        }
        let next = self.next_open_day(next_day(deadline_day))?;
        Ok(Some(self.end_of_day(next)))
    }
}

fn end_of_day_time() -> NaiveTime {
    NaiveTime::from_hms_opt(23, 59, 0).unwrap_or(NaiveTime::MIN)
}

/// The day after; saturates at chrono's last date, which no library reaches.
pub(crate) fn next_day(day: NaiveDate) -> NaiveDate {
    day.checked_add_days(Days::new(1)).unwrap_or(day)
}

pub(crate) fn add_days(day: NaiveDate, n: u32) -> NaiveDate {
    day.checked_add_days(Days::new(u64::from(n))).unwrap_or(NaiveDate::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{branch_calendar, date, hours, local};
    use proptest::prelude::*;

    #[test]
    fn closed_days_weekly_yearly_and_one_off() {
        let cal = branch_calendar()
            .closed_on(ClosedDay::Yearly { month: 12, day: 25 })
            .unwrap()
            .closed_on(ClosedDay::On(date(2026, 2, 9)))
            .unwrap();
        assert!(!cal.is_open(date(2026, 3, 8))); // a Sunday
        assert!(!cal.is_open(date(2026, 12, 25)) && !cal.is_open(date(2031, 12, 25)));
        assert!(!cal.is_open(date(2026, 2, 9)) && cal.is_open(date(2027, 2, 9)));
        assert_eq!(cal.next_open_day(date(2026, 2, 8)), Ok(date(2026, 2, 10)));
        assert_eq!(cal.open_days_between(date(2026, 2, 6), date(2026, 2, 10)), 2); // Sat, Tue
        assert_eq!(cal.closed_days().count(), 2);
        assert_eq!(
            branch_calendar().closed_on(ClosedDay::Yearly { month: 2, day: 30 }),
            Err(CalendarError::BadYearlyDay { month: 2, day: 30 })
        );
    }

    #[test]
    fn calendars_that_cannot_open_are_refused() {
        assert_eq!(Calendar::new(chrono_tz::UTC, [None; 7]), Err(CalendarError::NeverOpen));
        assert!(OpeningHours::new(NaiveTime::MIN, NaiveTime::MIN).is_err());
        let mut cal = Calendar::new(chrono_tz::UTC, [None, None, None, None, None, None, hours(9, 12)]).unwrap();
        for m in 1..=12 {
            for d in 1..=31 {
                let _ = cal.close(ClosedDay::Yearly { month: m, day: d });
            }
        }
        assert!(matches!(cal.next_open_day(date(2026, 1, 1)), Err(CalendarError::NoOpenDay { .. })));
    }

    #[test]
    fn emergency_closure_moves_due_dates_on_that_day_only() {
        let cal = branch_calendar();
        let due = local(&cal, 2026, 3, 5, 23, 59); // Thursday
        let hourly = local(&cal, 2026, 3, 5, 15, 0);
        assert_eq!(cal.moved_due(due), Ok(None));
        let snowed = cal.closed_on(ClosedDay::On(date(2026, 3, 5))).unwrap();
        assert_eq!(snowed.moved_due(due), Ok(Some(local(&snowed, 2026, 3, 6, 23, 59))));
        assert_eq!(snowed.moved_due(hourly), Ok(Some(local(&snowed, 2026, 3, 6, 17, 0))));
        assert_eq!(snowed.moved_due(local(&snowed, 2026, 3, 6, 23, 59)), Ok(None));
    }

    #[test]
    fn open_minutes_follow_opening_hours() {
        let cal = branch_calendar();
        // Friday 16:00 to Monday 10:00: 1 hour Friday, 6 hours Saturday, 1 hour Monday.
        assert_eq!(cal.open_minutes_between(local(&cal, 2026, 3, 6, 16, 0), local(&cal, 2026, 3, 9, 10, 0)), 8 * 60);
    }

    proptest! {
        /// The next open day is open, and no day before it (from the start) is.
        #[test]
        fn next_open_day_is_the_first_open_day(start in 0u32..800, closed in proptest::collection::vec(0u32..820, 0..40)) {
            let mut cal = branch_calendar();
            for c in closed { cal.close(ClosedDay::On(add_days(date(2026, 1, 1), c))).unwrap(); }
            let from = add_days(date(2026, 1, 1), start);
            let next = cal.next_open_day(from).unwrap();
            prop_assert!(cal.is_open(next) && next >= from);
            let mut d = from;
            while d < next { prop_assert!(!cal.is_open(d)); d = next_day(d); }
        }
    }
}
