//! The SIP2 date: 18 characters `YYYYMMDDZZZZHHMMSS`, where `ZZZZ` is four blanks for local time,
//! `   Z` for UTC, or another letter in the last position for another (military) time zone.

use std::fmt;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

/// The time zone part (`ZZZZ`) of a [`SipDate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Zone {
    /// Four blanks: the library's local time, which the spec prefers.
    #[default]
    Local,
    /// `   Z`: universal time.
    Utc,
    /// Another zone letter (upper-case `A`..=`Y`), in the last position. Any other byte here is
    /// written as local time, since the wire cannot carry it.
    Other(u8),
}

/// A SIP2 date and time, to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SipDate {
    datetime: NaiveDateTime,
    zone: Zone,
}

impl SipDate {
    /// The date and time as written, in `zone`. Fractions of a second are dropped: the wire has
    /// none.
    pub fn new(datetime: NaiveDateTime, zone: Zone) -> Self {
        let mut datetime = datetime.with_nanosecond(0).unwrap_or(datetime);
        let year = datetime.year().clamp(0, 9999);
        if year != datetime.year() {
            // Four digits of year is all the wire holds; clamp rather than write a wrong width
            // (day 28 exists in every month, so the date stays real).
            let day = datetime.day().min(28);
            if let Some(date) = NaiveDate::from_ymd_opt(year, datetime.month(), day) {
                datetime = date.and_time(datetime.time());
            }
        }
        SipDate { datetime, zone }
    }

    /// A date from its parts; `None` when they are not a real date and time.
    pub fn from_parts(
        year: i32,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
        zone: Zone,
    ) -> Option<Self> {
        if !(0..=9999).contains(&year) {
            return None;
        }
        let date = NaiveDate::from_ymd_opt(year, month, day)?;
        let time = NaiveTime::from_hms_opt(hour, minute, second)?;
        Some(SipDate { datetime: date.and_time(time), zone })
    }

    /// The date and time as written (in [`SipDate::zone`]).
    pub fn datetime(&self) -> NaiveDateTime {
        self.datetime
    }

    pub fn zone(&self) -> Zone {
        self.zone
    }

    /// Reads the 18-character form; `None` when it is not one. A lower-case zone letter is taken
    /// as upper case, and the letter may stand anywhere among the four zone characters.
    pub fn parse(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        if b.len() != 18 || !b[..8].iter().chain(&b[12..]).all(u8::is_ascii_digit) {
            return None;
        }
        let num = |range: std::ops::Range<usize>| text.get(range).and_then(|s| s.parse::<u32>().ok());
        let zone_text = text.get(8..12)?.trim_matches(' ');
        let zone = match zone_text.as_bytes() {
            [] => Zone::Local,
            [b'Z' | b'z'] => Zone::Utc,
            [c] if c.is_ascii_alphabetic() => Zone::Other(c.to_ascii_uppercase()),
            _ => return None,
        };
        let year = i32::try_from(num(0..4)?).ok()?;
        SipDate::from_parts(year, num(4..6)?, num(6..8)?, num(12..14)?, num(14..16)?, num(16..18)?, zone)
    }
}

impl fmt::Display for SipDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.datetime;
        let zone = match self.zone {
            Zone::Local => "    ".to_string(),
            Zone::Utc => "   Z".to_string(),
            Zone::Other(c) if c.is_ascii_uppercase() => format!("   {}", char::from(c)),
            Zone::Other(_) => "    ".to_string(),
        };
        write!(
            f,
            "{:04}{:02}{:02}{zone}{:02}{:02}{:02}",
            d.year().clamp(0, 9999),
            d.month(),
            d.day(),
            d.hour(),
            d.minute(),
            d.second()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_the_three_zone_forms() {
        for text in ["20130424    113511", "20130424   Z113511", "20130424   Q113511"] {
            let d = SipDate::parse(text).unwrap();
            assert_eq!(d.to_string(), text);
        }
        assert_eq!(SipDate::parse("20130424   z113511").unwrap().zone(), Zone::Utc);
        assert_eq!(SipDate::parse("20130424Z   113511").unwrap().to_string(), "20130424   Z113511");
    }

    #[test]
    fn years_beyond_four_digits_are_clamped() {
        let far = NaiveDate::from_ymd_opt(12024, 2, 29).unwrap().and_hms_opt(1, 2, 3).unwrap();
        assert_eq!(SipDate::new(far, Zone::Utc).to_string(), "99990228   Z010203");
        let early = NaiveDate::from_ymd_opt(-5, 6, 7).unwrap().and_hms_opt(1, 2, 3).unwrap();
        assert_eq!(SipDate::new(early, Zone::Local).to_string(), "00000607    010203");
    }

    #[test]
    fn refuses_what_is_not_a_date() {
        for text in [
            "",
            "                  ",
            "20130431    113511",
            "20130424    246000",
            "2013042     113511",
            "20130424  ZZ113511",
            "20130424    11351",
        ] {
            assert_eq!(SipDate::parse(text), None, "{text:?}");
        }
    }
}
