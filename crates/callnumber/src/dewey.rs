//! Dewey Decimal call numbers: a three-digit class number with decimals, then a book mark
//! (cutter or author letters), dates, volumes and copies: `813.54 KIN 2001 v.2 c.3`.
//!
//! The class number is read as the DDC prints it, segmentation marks (`/`) and prime marks
//! (`'`) included (`813/.54`, `781.63/096891`); the marks are dropped for ordering and for
//! labels.

use crate::element::{self, Element, Flavour};
use crate::Warning;

/// A parsed Dewey call number.
#[derive(Debug, Clone)]
pub(crate) struct Dewey {
    /// The three digits before the decimal point (`004`, `813`).
    pub(crate) whole: String,
    /// The digits after the decimal point, marks removed.
    pub(crate) decimal: String,
    /// Byte length of the class number as written (marks included).
    pub(crate) number_len: usize,
    /// The book mark, dates, volumes after the class number.
    pub(crate) elements: Vec<Element>,
}

/// Whether text starts like a Dewey class number: three digits and no fourth.
pub(crate) fn looks_like(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 3 && b[..3].iter().all(u8::is_ascii_digit) && !b.get(3).is_some_and(u8::is_ascii_digit)
}

fn is_mark(b: u8) -> bool {
    b == b'/' || b == b'\''
}

/// Parses a Dewey call number, or `None` when `text` does not start with a class number.
pub(crate) fn parse(text: &str, warnings: &mut Vec<Warning>) -> Option<Dewey> {
    if !looks_like(text) {
        return None;
    }
    let b = text.as_bytes();
    let whole = text[..3].to_owned();
    let mut i = 3;
    let mut decimal = String::new();
    // Marks may follow the whole part (`813/.54`, `530/.092`, `700'.1`).
    let mut j = i;
    while b.get(j).copied().is_some_and(is_mark) {
        j += 1;
    }
    if b.get(j) == Some(&b'.') {
        j += 1;
        i = j;
        while let Some(&c) = b.get(i) {
            if c.is_ascii_digit() {
                decimal.push(char::from(c));
            } else if !is_mark(c) {
                break;
            }
            i += 1;
        }
        // Marks at the end belong to nothing (`813.54/`); keep them out of the label.
        while i > j && is_mark(b[i - 1]) {
            i -= 1;
        }
    }
    let number_len = i;
    if text[i..].starts_with(|c: char| c.is_alphabetic()) {
        warnings.push(Warning::CutterAttached);
    }
    let tail = &text[i..];
    if tail.contains(|c: char| !(c.is_alphanumeric() || c.is_whitespace() || ".,-/'".contains(c))) {
        warnings.push(Warning::UnexpectedCharacters);
    }
    Some(Dewey { whole, decimal, number_len, elements: element::elements(tail, Flavour::Dewey) })
}

/// The class number as a label shows it: marks removed, no trailing period (`813/.54` ->
/// `813.54`).
pub(crate) fn label_number(written: &str) -> String {
    let mut out: String = written.chars().filter(|&c| c != '/' && c != '\'').collect();
    if out.ends_with('.') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::element::{Cutter, Number};

    fn show(text: &str) -> String {
        let mut warnings = Vec::new();
        let Some(d) = parse(text, &mut warnings) else {
            return "none".to_owned();
        };
        let mut out = format!("{}.{}", d.whole, d.decimal);
        out.push_str(&format!("[{}]", label_number(&text[..d.number_len])));
        for e in &d.elements {
            out.push('|');
            match e {
                Element::Number(Number { digits, suffix }) => out.push_str(&format!("{digits}{suffix}")),
                Element::Cutter(Cutter { letters, digits, work }) => {
                    out.push_str(&format!("{letters}{digits}{}", work.to_lowercase()));
                }
                Element::Word(w) => out.push_str(&format!("'{w}")),
            }
        }
        for w in warnings {
            out.push_str(&format!(" !{w:?}"));
        }
        out
    }

    fn check(input: &str, expected: &str) {
        assert_eq!(show(input), expected, "input {input:?}");
    }

    #[test]
    fn class_numbers() {
        check("813.54 KIN 2001 v.2 c.3", "813.54[813.54]|KIN|2001|'V|2|'C|3");
        check("599.75 SMI", "599.75[599.75]|SMI");
        check("030 WOR", "030.[030]|WOR");
        check("813/.54", "813.54[813.54]");
        check("781.63/096891", "781.63096891[781.63096891]");
        check("305.48/9653/092", "305.489653092[305.489653092]");
        check("700'.1 ABC", "700.1[700.1]|ABC");
        check("813.", "813.[813]");
        check("813.54/", "813.54[813.54]");
        check("813.54 K58a", "813.54[813.54]|K58a");
        check("553.7/0973 s", "553.70973[553.70973]|S");
        check("346.4305/2 /2", "346.43052[346.43052]|2");
        check("232 9/7", "232.[232]|9|7");
        check("821.3ZA", "821.3[821.3]|ZA !CutterAttached");
        check("813.54.2", "813.54[813.54]|2");
    }

    #[test]
    fn not_dewey() {
        for input in ["98.6/097291", "2000", "C810.8/0357", "Fic", "", "81", "8134"] {
            check(input, "none");
        }
    }
}
