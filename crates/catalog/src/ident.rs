//! Standard identifiers: ISBN (10 and 13, with checksums), ISSN, LCCN, OCLC numbers.
//!
//! Each parser takes the messy text found in MARC subfields (`0306406152 (pbk.)`,
//! `978-0-306-40615-7 :`, `  2012035454`, `(OCoLC)ocm12345678`) and returns a value in one
//! canonical form, so that two records carrying the same identifier compare equal.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An ISBN, kept as its 13-digit form without hyphens (an ISBN-10 is converted on parse).
/// Two records with the ISBN-10 and the ISBN-13 of one book therefore hold equal values.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Isbn(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IsbnError {
    #[error("{0:?} does not start with an ISBN")]
    NotFound(String),
    #[error("{0:?} has neither 10 nor 13 digits")]
    WrongLength(String),
    #[error("{0:?} is a 13-digit number that does not start with 978 or 979")]
    NotBookland(String),
    #[error("{0:?} has a wrong check digit")]
    BadChecksum(String),
}

impl Isbn {
    /// Parses the ISBN at the start of `s`, which may carry an `ISBN` label, hyphens or
    /// spaces between digit groups, a lower-case `x`, and a qualifier after it
    /// (`0306406152 (pbk.)`, `978-0-306-40615-7 :`).
    pub fn parse(s: &str) -> Result<Isbn, IsbnError> {
        let digits = isbn_candidate(s)?;
        match digits.len() {
            10 => {
                if isbn10_check(&digits[..9]) != digits[9] {
                    return Err(IsbnError::BadChecksum(s.to_string()));
                }
                let mut isbn13 = String::with_capacity(13);
                isbn13.push_str("978");
                isbn13.extend(digits[..9].iter().map(|&d| char::from(d)));
                isbn13.push(char::from(isbn13_check(isbn13.as_bytes())));
                Ok(Isbn(isbn13))
            }
            13 => {
                if !(digits.starts_with(b"978") || digits.starts_with(b"979")) {
                    return Err(IsbnError::NotBookland(s.to_string()));
                }
                if isbn13_check(&digits[..12]) != digits[12] {
                    return Err(IsbnError::BadChecksum(s.to_string()));
                }
                Ok(Isbn(digits.iter().map(|&d| char::from(d)).collect()))
            }
            _ => Err(IsbnError::WrongLength(s.to_string())),
        }
    }

    /// The 13 digits, no hyphens: the canonical form.
    pub fn as_isbn13(&self) -> &str {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The ISBN-10 form (no hyphens, check digit possibly `X`) when the ISBN starts with 978;
    /// a 979 ISBN has no ISBN-10.
    pub fn to_isbn10(&self) -> Option<String> {
        let body = self.0.as_bytes().strip_prefix(b"978")?.get(..9)?;
        let mut out: String = body.iter().map(|&d| char::from(d)).collect();
        out.push(char::from(isbn10_check(body)));
        Some(out)
    }
}

/// Finds the digits of the ISBN at the start of `s`: the first run of digits, `X` and hyphens,
/// or, when that run is not 10 or 13 digits long, the first run that also allows spaces.
fn isbn_candidate(s: &str) -> Result<Vec<u8>, IsbnError> {
    let mut t = s.trim_start();
    if t.get(..4).is_some_and(|label| label.eq_ignore_ascii_case("isbn")) {
        t = &t[4..];
        for label in ["-13", "-10", "13:", "10:"] {
            if let Some(rest) = t.strip_prefix(label) {
                t = rest;
                break;
            }
        }
        t = t.trim_start_matches([':', ' ']);
    }
    let digits_of = |allow_space: bool| -> Vec<u8> {
        t.bytes()
            .take_while(|b| b.is_ascii_digit() || matches!(b, b'X' | b'x' | b'-') || (allow_space && *b == b' '))
            .filter(|b| *b != b'-' && *b != b' ')
            .map(|b| b.to_ascii_uppercase())
            .collect()
    };
    let mut digits = digits_of(false);
    if digits.is_empty() {
        return Err(IsbnError::NotFound(s.to_string()));
    }
    if digits.len() != 10 && digits.len() != 13 {
        digits = digits_of(true);
    }
    // `X` is a check digit: only the last of ten.
    let x_misplaced = digits.iter().enumerate().any(|(i, &d)| d == b'X' && !(i == 9 && digits.len() == 10));
    if x_misplaced || (digits.len() != 10 && digits.len() != 13) {
        return Err(IsbnError::WrongLength(s.to_string()));
    }
    Ok(digits)
}

/// The ISBN-10 check digit of nine ASCII digits.
fn isbn10_check(nine: &[u8]) -> u8 {
    let sum: u32 = nine.iter().enumerate().map(|(i, d)| (10 - i as u32) * u32::from(d - b'0')).sum();
    match (11 - sum % 11) % 11 {
        10 => b'X',
        c => b'0' + c as u8,
    }
}

/// The ISBN-13 (EAN-13) check digit of the first twelve ASCII digits.
fn isbn13_check(twelve: &[u8]) -> u8 {
    let sum: u32 =
        twelve.iter().take(12).enumerate().map(|(i, d)| if i % 2 == 0 { 1 } else { 3 } * u32::from(d - b'0')).sum();
    b'0' + ((10 - sum % 10) % 10) as u8
}

impl fmt::Display for Isbn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Isbn {
    type Error = IsbnError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Isbn::parse(&s)
    }
}

impl From<Isbn> for String {
    fn from(i: Isbn) -> String {
        i.0
    }
}

/// An ISSN in its printed form `NNNN-NNNC` (check digit `X` upper case), checksum-valid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Issn(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssnError {
    #[error("{0:?} does not start with an ISSN (eight digits, the last possibly X)")]
    NotFound(String),
    #[error("{0:?} has a wrong check digit")]
    BadChecksum(String),
}

impl Issn {
    /// Parses the ISSN at the start of `s` (`0028-0836`, `00280836`, `0317-847x (print)`).
    pub fn parse(s: &str) -> Result<Issn, IssnError> {
        let digits: Vec<u8> = s
            .trim_start()
            .bytes()
            .take_while(|b| b.is_ascii_digit() || matches!(b, b'X' | b'x' | b'-'))
            .filter(|b| *b != b'-')
            .map(|b| b.to_ascii_uppercase())
            .collect();
        if digits.len() != 8 || digits[..7].iter().any(|d| !d.is_ascii_digit()) {
            return Err(IssnError::NotFound(s.to_string()));
        }
        let sum: u32 = digits[..7].iter().enumerate().map(|(i, d)| (8 - i as u32) * u32::from(d - b'0')).sum();
        let check = match (11 - sum % 11) % 11 {
            10 => b'X',
            c => b'0' + c as u8,
        };
        if digits[7] != check {
            return Err(IssnError::BadChecksum(s.to_string()));
        }
        let text: String = digits.iter().map(|&d| char::from(d)).collect();
        Ok(Issn(format!("{}-{}", &text[..4], &text[4..])))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Issn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Issn {
    type Error = IssnError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Issn::parse(&s)
    }
}

impl From<Issn> for String {
    fn from(i: Issn) -> String {
        i.0
    }
}

/// A Library of Congress Control Number in LC's normalised form (`n78890351`, `2001000002`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Lccn(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an LCCN (up to three letters, then 8 or 10 digits once normalised)")]
pub struct LccnError(pub String);

impl Lccn {
    /// Normalises with LC's algorithm (<https://www.loc.gov/marc/lccn-namespace.html>):
    /// remove all blanks; drop a `/` and everything after it; if there is a hyphen, remove it
    /// and left-pad the digits after it with zeros to six. Prefix letters are lower-cased. The
    /// result must be a prefix of 0-3 letters and 8 digits, or of 0-2 letters and 10 digits.
    pub fn parse(s: &str) -> Result<Lccn, LccnError> {
        let err = || LccnError(s.to_string());
        let mut t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        if let Some(slash) = t.find('/') {
            t.truncate(slash);
        }
        if let Some((before, after)) = t.split_once('-') {
            if after.is_empty() || after.len() > 6 || !after.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            t = format!("{before}{after:0>6}");
        }
        let t = t.to_ascii_lowercase();
        let letters = t.bytes().take_while(|b| b.is_ascii_lowercase()).count();
        let digits = &t[letters..];
        let valid = digits.bytes().all(|b| b.is_ascii_digit())
            && match digits.len() {
                8 => letters <= 3,
                10 => letters <= 2,
                _ => false,
            };
        if valid {
            Ok(Lccn(t))
        } else {
            Err(err())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Lccn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Lccn {
    type Error = LccnError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Lccn::parse(&s)
    }
}

impl From<Lccn> for String {
    fn from(l: Lccn) -> String {
        l.0
    }
}

/// The OCLC number in a 035 $a value (`(OCoLC)ocm12345678`, `(OCoLC)12345`, `(OCoLC)on1234567890`)
/// or in an OCLC-style 001 (`ocm12345678`, `ocn123456789`, `on1234567890`): digits only,
/// leading zeros removed. Other systems' numbers (`(DLC)...`, bare digits) give `None`.
pub fn oclc_number(s: &str) -> Option<String> {
    let t = s.trim();
    let t = match t.get(..7) {
        Some(label) if label.eq_ignore_ascii_case("(ocolc)") => {
            let rest = t[7..].trim_start();
            strip_oclc_prefix(rest).unwrap_or(rest)
        }
        _ => strip_oclc_prefix(t)?,
    };
    let digits: String = t.chars().take_while(char::is_ascii_digit).collect();
    let rest = &t[digits.len()..];
    if digits.is_empty() || !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
        return None;
    }
    let trimmed = digits.trim_start_matches('0');
    if trimmed.is_empty() {
        None
    } else {
        Some(trimmed.to_string())
    }
}

fn strip_oclc_prefix(t: &str) -> Option<&str> {
    ["ocm", "ocn", "on"].iter().find_map(|p| t.strip_prefix(p)).map(str::trim_start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check_isbn(input: &str, expected: Result<&str, ()>) {
        let got = Isbn::parse(input).map(|i| i.as_isbn13().to_string()).map_err(|_| ());
        assert_eq!(got, expected.map(str::to_string), "ISBN {input:?}");
    }

    #[test]
    fn isbns_from_020_text() {
        check_isbn("0306406152", Ok("9780306406157"));
        check_isbn("0306406152 (pbk.)", Ok("9780306406157"));
        check_isbn("978-0-306-40615-7 :", Ok("9780306406157"));
        check_isbn("9780306406157", Ok("9780306406157"));
        check_isbn("  9780670026623 (alk. paper)", Ok("9780670026623"));
        check_isbn("080442957x", Ok("9780804429573"));
        check_isbn("080442957X : $5.95", Ok("9780804429573"));
        check_isbn("ISBN 0-306-40615-2", Ok("9780306406157"));
        check_isbn("ISBN-13: 978-0-306-40615-7", Ok("9780306406157"));
        check_isbn("978 0 306 40615 7", Ok("9780306406157"));
        check_isbn("9791090636071", Ok("9791090636071"));
        check_isbn("0306406153", Err(()));
        check_isbn("9780306406158", Err(()));
        check_isbn("0123456789012", Err(()));
        check_isbn("03064061", Err(()));
        check_isbn("03064X6152", Err(()));
        check_isbn("(pbk.)", Err(()));
        check_isbn("", Err(()));
    }

    #[test]
    fn isbn10_form() {
        for (input, ten) in
            [("9780306406157", Some("0306406152")), ("9780804429573", Some("080442957X")), ("9791090636071", None)]
        {
            let isbn = Isbn::parse(input).expect(input);
            assert_eq!(isbn.to_isbn10().as_deref(), ten, "{input}");
        }
    }

    fn check_issn(input: &str, expected: Result<&str, ()>) {
        let got = Issn::parse(input).map(|i| i.as_str().to_string()).map_err(|_| ());
        assert_eq!(got, expected.map(str::to_string), "ISSN {input:?}");
    }

    #[test]
    fn issns() {
        check_issn("0028-0836", Ok("0028-0836"));
        check_issn("00280836", Ok("0028-0836"));
        check_issn("0317-8471 ;", Ok("0317-8471"));
        check_issn("2049-3630", Ok("2049-3630"));
        check_issn("1050-124x (print)", Ok("1050-124X"));
        check_issn("0028-0837", Err(()));
        check_issn("0028-083", Err(()));
        check_issn("002X-0836", Err(()));
    }

    fn check_lccn(input: &str, expected: Result<&str, ()>) {
        let got = Lccn::parse(input).map(|l| l.as_str().to_string()).map_err(|_| ());
        assert_eq!(got, expected.map(str::to_string), "LCCN {input:?}");
    }

    #[test]
    fn lccns_normalised_the_lc_way() {
        // The examples of https://www.loc.gov/marc/lccn-namespace.html
        check_lccn("n78-890351", Ok("n78890351"));
        check_lccn("n78-89035", Ok("n78089035"));
        check_lccn("n 78890351 ", Ok("n78890351"));
        check_lccn(" 85000002 ", Ok("85000002"));
        check_lccn("85-2 ", Ok("85000002"));
        check_lccn("2001-000002", Ok("2001000002"));
        check_lccn("75-425165//r75", Ok("75425165"));
        check_lccn(" 79139101 /AC/r932", Ok("79139101"));
        // As found in 010 $a.
        check_lccn("  2012035454", Ok("2012035454"));
        check_lccn("sn 85000002 ", Ok("sn85000002"));
        check_lccn("SN85000002", Ok("sn85000002"));
        check_lccn("85-1234567", Err(()));
        check_lccn("1234567", Err(()));
        check_lccn("abcd12345678", Err(()));
        check_lccn("abc2012035454", Err(()));
        check_lccn("", Err(()));
    }

    fn check_oclc(input: &str, expected: Option<&str>) {
        assert_eq!(oclc_number(input).as_deref(), expected, "OCLC {input:?}");
    }

    #[test]
    fn oclc_numbers() {
        check_oclc("(OCoLC)ocm12345678", Some("12345678"));
        check_oclc("(OCoLC)12345", Some("12345"));
        check_oclc("(OCoLC)00012345", Some("12345"));
        check_oclc("(ocolc)ocn123456789", Some("123456789"));
        check_oclc("(OCoLC)on1234567890", Some("1234567890"));
        check_oclc("(OCoLC) 12345 ", Some("12345"));
        check_oclc("ocm00012345", Some("12345"));
        check_oclc("ocn123456789", Some("123456789"));
        check_oclc("on1234567890", Some("1234567890"));
        check_oclc("(DLC)  2012035454", None);
        check_oclc("12345", None);
        check_oclc("(OCoLC)", None);
        check_oclc("(OCoLC)000", None);
        check_oclc("(OCoLC)12345abc", None);
        check_oclc("(OCoLC)M-ESTCN123", None);
    }

    fn isbn10_from(nine: &[u8]) -> String {
        let digits: Vec<u8> = nine.iter().map(|d| b'0' + d).collect();
        let mut s: String = digits.iter().map(|&d| char::from(d)).collect();
        s.push(char::from(isbn10_check(&digits)));
        s
    }

    proptest! {
        #[test]
        fn isbn10_to_13_to_10_round_trips(nine in proptest::collection::vec(0u8..10, 9)) {
            let ten = isbn10_from(&nine);
            let isbn = Isbn::parse(&ten).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(isbn.to_isbn10(), Some(ten.clone()));
            let again = Isbn::parse(isbn.as_isbn13()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(again, isbn);
        }

        #[test]
        fn one_changed_digit_breaks_an_isbn(nine in proptest::collection::vec(0u8..10, 9), pos in 0usize..13, delta in 1u8..10) {
            let ten = isbn10_from(&nine);
            let isbn13 = Isbn::parse(&ten).map_err(|e| TestCaseError::fail(e.to_string()))?.as_isbn13().to_string();
            for valid in [ten, isbn13] {
                let mut bytes = valid.into_bytes();
                let p = pos % bytes.len();
                let old = if bytes[p] == b'X' { 10 } else { bytes[p] - b'0' };
                let new = (old + delta) % 10;
                bytes[p] = b'0' + new;
                if new == old { continue; }
                let changed = String::from_utf8(bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert!(Isbn::parse(&changed).is_err(), "{} parsed", changed);
            }
        }

        #[test]
        fn parsers_never_panic(s in "\\PC{0,30}", digits in "[0-9Xx -]{0,20}") {
            for input in [s.as_str(), digits.as_str(), &format!("ISBN{s}"), &format!("(OCoLC){s}")] {
                let _ = Isbn::parse(input);
                let _ = Issn::parse(input);
                let _ = Lccn::parse(input);
                let _ = oclc_number(input);
            }
        }

        #[test]
        fn one_changed_digit_breaks_an_issn(seven in proptest::collection::vec(0u8..10, 7), pos in 0usize..7, delta in 1u8..10) {
            let body: String = seven.iter().map(|d| char::from(b'0' + d)).collect();
            let check = (0..=10).map(|c| if c == 10 { 'X' } else { char::from(b'0' + c) })
                .find(|c| Issn::parse(&format!("{body}{c}")).is_ok());
            prop_assert!(check.is_some());
            let mut bytes = body.into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let changed = format!("{}{}", String::from_utf8(bytes).map_err(|e| TestCaseError::fail(e.to_string()))?, check.unwrap_or('0'));
            prop_assert!(Issn::parse(&changed).is_err());
        }
    }
}
