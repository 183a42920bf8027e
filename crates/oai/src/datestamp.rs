//! OAI-PMH datestamps: UTC, `YYYY-MM-DD` or `YYYY-MM-DDThh:mm:ssZ` (this repository's
//! granularity is seconds, so it accepts both in `from` and `until`).

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, TimeDelta, Timelike, Utc};

/// How precise a `from` or `until` argument was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Day,
    Second,
}

/// A `from` or `until` argument as the harvester wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Datestamp {
    /// The first instant it names (midnight for a day).
    pub start: DateTime<Utc>,
    pub granularity: Granularity,
}

impl Datestamp {
    /// Parses one of the two legal forms; anything else (time zones, fractions, a bare year,
    /// a day that does not exist) is `None`.
    pub fn parse(s: &str) -> Option<Datestamp> {
        if s.len() == 10 {
            let day = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
            // chrono accepts `2026-1-5`; the protocol wants the fixed width form.
            if day.format("%Y-%m-%d").to_string() != s {
                return None;
            }
            return Some(Datestamp { start: day.and_hms_opt(0, 0, 0)?.and_utc(), granularity: Granularity::Day });
        }
        if s.len() != 20 || !s.ends_with('Z') {
            return None;
        }
        let at = NaiveDateTime::parse_from_str(&s[..19], "%Y-%m-%dT%H:%M:%S").ok()?;
        if at.format("%Y-%m-%dT%H:%M:%S").to_string() != s[..19] {
            return None;
        }
        Some(Datestamp { start: at.and_utc(), granularity: Granularity::Second })
    }

    /// The first instant after the period it names: an `until` includes its whole day or second.
    pub fn end(&self) -> DateTime<Utc> {
        match self.granularity {
            Granularity::Day => self.start + TimeDelta::days(1),
            Granularity::Second => self.start + TimeDelta::seconds(1),
        }
    }
}

/// A datestamp as the protocol writes it: seconds, UTC (fractions are cut, never rounded up, so
/// a record changed at 10:00:00.7 is inside `until=10:00:00Z`).
pub fn format(at: DateTime<Utc>) -> String {
    truncate(at).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `at` without its fraction of a second.
pub fn truncate(at: DateTime<Utc>) -> DateTime<Utc> {
    at.with_nanosecond(0).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn legal_forms() {
        let day = Datestamp::parse("2026-02-28").unwrap();
        assert_eq!((day.start, day.granularity), (at("2026-02-28T00:00:00Z"), Granularity::Day));
        assert_eq!(day.end(), at("2026-03-01T00:00:00Z"));
        let second = Datestamp::parse("2026-02-28T23:59:59Z").unwrap();
        assert_eq!((second.start, second.granularity), (at("2026-02-28T23:59:59Z"), Granularity::Second));
        assert_eq!(second.end(), at("2026-03-01T00:00:00Z"));
    }

    #[test]
    fn illegal_forms() {
        for s in [
            "",
            "2026",
            "2026-02",
            "2026-2-28",
            "2026-02-30",
            "2026-02-28T10:00:00",
            "2026-02-28T10:00Z",
            "2026-02-28T10:00:00.5Z",
            "2026-02-28T10:00:00+01:00",
            "2026-02-28t10:00:00z",
            "2026-02-28T24:00:00Z",
            "yesterday",
            "２０２６-02-28",
        ] {
            assert_eq!(Datestamp::parse(s), None, "{s}");
        }
    }

    #[test]
    fn formatting_cuts_the_fraction() {
        assert_eq!(format(at("2026-11-30T06:10:00.999999Z")), "2026-11-30T06:10:00Z");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,25}") {
            let _ = Datestamp::parse(&s);
        }

        #[test]
        fn second_round_trip(secs in 0i64..4_000_000_000) {
            let t = DateTime::from_timestamp(secs, 0).unwrap();
            let d = Datestamp::parse(&format(t)).unwrap();
            proptest::prop_assert_eq!(d.start, t);
        }
    }
}
