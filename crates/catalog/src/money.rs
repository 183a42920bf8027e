//! Money as an exact count of minor units (cents) in the library's one currency. Never a float.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Money(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an amount of money (expected digits with at most two decimals, e.g. 25.00)")]
pub struct MoneyError(pub String);

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn from_minor(minor: i64) -> Money {
        Money(minor)
    }

    pub fn minor(self) -> i64 {
        self.0
    }

    /// Parses `25`, `25.5`, `25.50`, `-3.00`, and the forms found in import files (`$25.00`,
    /// `25,00`). More than two decimals is refused rather than rounded: money is never guessed.
    pub fn parse(s: &str) -> Result<Money, MoneyError> {
        let err = || MoneyError(s.to_string());
        let t = s.trim().trim_start_matches(['$', '£', '€']).trim();
        let (neg, t) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let t = t.replace(',', ".");
        let (whole, frac) = match t.split_once('.') {
            Some((w, f)) => (w, f),
            None => (t.as_str(), ""),
        };
        if whole.is_empty() && frac.is_empty() {
            return Err(err());
        }
        if !whole.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) || frac.len() > 2 {
            return Err(err());
        }
        let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| err())? };
        let frac: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().map_err(|_| err())? * 10,
            _ => frac.parse().map_err(|_| err())?,
        };
        let minor = whole.checked_mul(100).and_then(|w| w.checked_add(frac)).ok_or_else(err)?;
        Ok(Money(if neg { -minor } else { minor }))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl TryFrom<String> for Money {
    type Error = MoneyError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Money::parse(&s)
    }
}

impl From<Money> for String {
    fn from(m: Money) -> String {
        m.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_library_forms() {
        for (input, minor) in [
            ("25", 2500),
            ("25.5", 2550),
            ("25.50", 2550),
            ("$25.00", 2500),
            ("25,99", 2599),
            ("-3.00", -300),
            (".75", 75),
        ] {
            assert_eq!(Money::parse(input), Ok(Money(minor)), "{input}");
        }
        for bad in ["", "abc", "1.234", "1.2.3", "--1", "."] {
            assert!(Money::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn display_round_trips(minor in -10_000_000_000i64..10_000_000_000) {
            let m = Money(minor);
            prop_assert_eq!(Money::parse(&m.to_string()), Ok(m));
        }
    }
}
