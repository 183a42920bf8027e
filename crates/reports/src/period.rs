//! The days a report covers, as the library counts them: local dates in its time zone, turned
//! into UTC instants for the queries. A day is `[its local midnight, the next local midnight)`,
//! so a day of a daylight-saving change is 23 or 25 hours long and every instant falls in
//! exactly one day.

use chrono::{DateTime, Days, LocalResult, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// The longest range a report covers: a year and a day (a leap year's full year fits).
pub const MAX_DAYS: u32 = 367;

/// A range of local dates, `from` to `to` inclusive, and the UTC instant each day starts at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// `bounds[i]` is where day `from + i` starts, `bounds[days]` where the day after `to`
    /// starts: one more bound than days.
    pub bounds: Vec<DateTime<Utc>>,
}

/// A range the form cannot take; `field` names the form field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct PeriodError {
    pub field: &'static str,
    pub message: String,
}

impl Period {
    /// The form's `from` and `to` (YYYY-MM-DD), each checked and named when wrong.
    pub fn parse(from: &str, to: &str, zone: Tz) -> Result<Period, PeriodError> {
        let date = |field: &'static str, raw: &str| {
            NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| PeriodError {
                field,
                message: format!("{raw:?} is not a date: write it as YYYY-MM-DD, e.g. 2026-03-01"),
            })
        };
        Period::new(date("from", from)?, date("to", to)?, zone)
    }

    pub fn new(from: NaiveDate, to: NaiveDate, zone: Tz) -> Result<Period, PeriodError> {
        if to < from {
            return Err(PeriodError {
                field: "to",
                message: format!("the range ends ({to}) before it starts ({from})"),
            });
        }
        let days = (to - from).num_days() + 1;
        if days > i64::from(MAX_DAYS) {
            return Err(PeriodError {
                field: "to",
                message: format!("the range is {days} days long; a report covers at most {MAX_DAYS} days"),
            });
        }
        let mut bounds = Vec::with_capacity(usize::try_from(days).unwrap_or(0) + 1);
        let mut day = from;
        for _ in 0..=days {
            bounds.push(start_of(day, zone).ok_or_else(|| PeriodError {
                field: "to",
                message: format!("{day} is outside the dates this library can count"),
            })?);
            day = day.checked_add_days(Days::new(1)).ok_or_else(|| PeriodError {
                field: "to",
                message: format!("{day} is outside the dates this library can count"),
            })?;
        }
        Ok(Period { from, to, bounds })
    }

    /// The local dates, one per day.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.from.iter_days().take(self.bounds.len().saturating_sub(1))
    }

    /// Where the range starts and ends (exclusive) in UTC.
    pub fn span(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        let first = self.bounds.first().copied().unwrap_or_default();
        (first, self.bounds.last().copied().unwrap_or(first))
    }
}

/// The first instant of a local date: midnight, or, where a clock change skips midnight, the
/// first local time that exists that day.
fn start_of(day: NaiveDate, zone: Tz) -> Option<DateTime<Utc>> {
    let mut time = day.and_hms_opt(0, 0, 0)?;
    // A gap is at most a few hours: step through it a quarter of an hour at a time.
    for _ in 0..24 * 4 {
        match zone.from_local_datetime(&time) {
            LocalResult::Single(t) => return Some(t.with_timezone(&Utc)),
            LocalResult::Ambiguous(earliest, _) => return Some(earliest.with_timezone(&Utc)),
            LocalResult::None => time += chrono::Duration::minutes(15),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn a_day_starts_at_local_midnight_and_spring_forward_is_23_hours() {
        let p = Period::new(d("2026-03-07"), d("2026-03-09"), chrono_tz::America::New_York).expect("period");
        assert_eq!(p.bounds.len(), 4);
        assert_eq!(p.bounds[0].to_rfc3339(), "2026-03-07T05:00:00+00:00");
        // 8 March 2026: clocks go forward at 02:00 in New York.
        assert_eq!((p.bounds[2] - p.bounds[1]).num_hours(), 23);
        assert_eq!(p.bounds[2].to_rfc3339(), "2026-03-09T04:00:00+00:00");
        assert_eq!(p.days().collect::<Vec<_>>(), [d("2026-03-07"), d("2026-03-08"), d("2026-03-09")]);
        assert_eq!(p.span(), (p.bounds[0], p.bounds[3]));
    }

    #[test]
    fn a_midnight_that_does_not_exist_starts_the_day_at_the_first_time_that_does() {
        // Santiago moves from 00:00 to 01:00 on the first Sunday of September.
        let p = Period::new(d("2026-09-06"), d("2026-09-06"), chrono_tz::America::Santiago).expect("period");
        assert_eq!(p.bounds[0].to_rfc3339(), "2026-09-06T04:00:00+00:00");
    }

    #[test]
    fn bad_ranges_name_the_field() {
        let utc = chrono_tz::UTC;
        let e = Period::parse("2026-13-01", "2026-01-02", utc).expect_err("bad month");
        assert_eq!(e.field, "from");
        assert!(e.message.contains("YYYY-MM-DD"), "{e}");
        assert_eq!(Period::parse("2026-01-01", "yesterday", utc).expect_err("bad").field, "to");
        let e = Period::parse("2026-02-01", "2026-01-01", utc).expect_err("backwards");
        assert_eq!(e.field, "to");
        assert!(e.message.contains("before it starts"), "{e}");
        assert!(Period::parse("2024-01-01", "2024-12-31", utc).is_ok());
        assert!(Period::parse("2024-01-01", "2025-06-01", utc).expect_err("long").message.contains("at most"));
    }
}
