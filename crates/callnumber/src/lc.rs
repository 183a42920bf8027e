//! Library of Congress call numbers: class letters, class number, cutters, dates, volumes.
//!
//! Lenient about the mess found in real records (`DG 581 .M67`, `QA76.64. E24`, `RA784 . S87`,
//! `0TR706 .L36`, `Hf5521`): what can be read is read, and a warning says what was fixed.

use crate::element::{self, Element, Flavour};
use crate::Warning;

/// A parsed LC call number.
#[derive(Debug, Clone)]
pub(crate) struct Lc {
    /// One to three upper-case letters, a valid LC class (`QA`, `E`, `KFN`).
    pub(crate) class: String,
    /// Whole part of the class number, ASCII digits without leading zeros, at most four.
    pub(crate) whole: String,
    /// Decimal part of the class number, ASCII digits.
    pub(crate) decimal: String,
    /// Everything after the class number: cutters, dates, volumes.
    pub(crate) elements: Vec<Element>,
    /// Byte offset (into the parsed text) where the part after the class number starts.
    pub(crate) tail_start: usize,
}

/// Whether letters are an LC class: no class starts with I, O, W, X or Y, and only D and K
/// have three-letter subclasses (`DJK`, `KFN`).
pub(crate) fn valid_class(letters: &str) -> bool {
    let b = letters.as_bytes();
    match b {
        [b'I' | b'O' | b'W' | b'X' | b'Y', ..] => false,
        [_] | [_, _] => true,
        [first, _, _] => matches!(first, b'D' | b'K'),
        _ => false,
    }
}

fn digits_len(text: &str) -> usize {
    text.bytes().take_while(u8::is_ascii_digit).count()
}

fn spaces_len(text: &str) -> usize {
    text.bytes().take_while(|&b| b == b' ' || b == b'\t').count()
}

/// Length of leading zeros that stand before class letters (`0TR706`).
fn leading_zeros(text: &str) -> usize {
    let zeros = text.bytes().take_while(|&b| b == b'0').count();
    if zeros > 0 && text[zeros..].starts_with(|c: char| c.is_ascii_alphabetic()) {
        zeros
    } else {
        0
    }
}

/// Strong evidence of LC: class letters glued to the class number (`QA76`, `E184.5`,
/// `0TR706`), as opposed to a prefix and a Dewey number (`J 599.75`).
pub(crate) fn glued(text: &str) -> bool {
    let text = &text[leading_zeros(text)..];
    let letters = text.bytes().take_while(u8::is_ascii_alphabetic).count();
    (1..=3).contains(&letters)
        && valid_class(&text[..letters].to_ascii_uppercase())
        && text[letters..].starts_with(|c: char| c.is_ascii_digit())
}

/// Parses an LC call number, or `None` when `text` does not start with class letters and a
/// class number.
pub(crate) fn parse(text: &str, warnings: &mut Vec<Warning>) -> Option<Lc> {
    let mut local = Vec::new();
    let mut i = leading_zeros(text);
    if i > 0 {
        local.push(Warning::LeadingZero);
    }
    let letters = text[i..].bytes().take_while(u8::is_ascii_alphabetic).count();
    if !(1..=3).contains(&letters) {
        return None;
    }
    let written = &text[i..i + letters];
    let class = written.to_ascii_uppercase();
    if !valid_class(&class) {
        return None;
    }
    if class != written {
        local.push(Warning::LowercaseClass);
    }
    i += letters;
    i += spaces_len(&text[i..]);
    let whole_len = digits_len(&text[i..]);
    if whole_len == 0 {
        return None;
    }
    let whole = text[i..i + whole_len].trim_start_matches('0');
    if whole.len() > 4 {
        return None;
    }
    let whole = whole.to_owned();
    i += whole_len;
    let mut decimal = String::new();
    // `QA76.73`, and with a stray space `QA76 .73`.
    let spaces = spaces_len(&text[i..]);
    let after = &text[i + spaces..];
    if let Some(rest) = after.strip_prefix('.') {
        let n = digits_len(rest);
        if n > 0 {
            decimal = rest[..n].to_owned();
            if spaces > 0 {
                local.push(Warning::SpaceInClassNumber);
            }
            i += spaces + 1 + n;
        }
    }
    let tail = &text[i..];
    if tail.contains(|c: char| !(c.is_alphanumeric() || c.is_whitespace() || ".,-/'".contains(c))) {
        local.push(Warning::UnexpectedCharacters);
    }
    warnings.extend(local);
    Some(Lc { class, whole, decimal, elements: element::elements(tail, Flavour::Lc), tail_start: i })
}

/// Weaker evidence of LC, for text that is not [`glued`]: class letters, a space, a class
/// number and then a cutter with digits (`DG 581 .M67 1999`).
pub(crate) fn spaced(lc: &Lc) -> bool {
    lc.elements.iter().any(|e| matches!(e, Element::Cutter(c) if !c.digits.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::element::{Cutter, Number};

    fn show(text: &str) -> String {
        let mut warnings = Vec::new();
        let Some(lc) = parse(text, &mut warnings) else {
            return "none".to_owned();
        };
        let mut out = format!("{}|{}", lc.class, lc.whole);
        if !lc.decimal.is_empty() {
            out.push('.');
            out.push_str(&lc.decimal);
        }
        for e in &lc.elements {
            out.push('|');
            match e {
                Element::Number(Number { digits, suffix }) => out.push_str(&format!("{digits}{suffix}")),
                Element::Cutter(Cutter { letters, digits, work }) => {
                    out.push_str(&format!(".{letters}{digits}{}", work.to_lowercase()));
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
    fn clean_call_numbers() {
        check("QA76.73.R87 K53 2018", "QA|76.73|.R87|.K53|2018");
        check("PS3561.I483 S5 1987", "PS|3561|.I483|.S5|1987");
        check("RX671 .A92", "RX|671|.A92");
        check("PZ3.S918 Lo", "PZ|3|.S918|.LO");
        check("KFN5010.3 .F56 1999h", "KFN|5010.3|.F56|1999H");
        check("E513.5 9th .M33 2000", "E|513.5|9TH|.M33|2000");
        check("HV610 1997.P7 S657 1998", "HV|610|1997|.P7|.S657|1998");
        check("QC3 .P35 2000 vol. 2", "QC|3|.P35|2000|'V|2");
        check("Z7845.C48 A94 no.45 2001", "Z|7845|.C48|.A94|'NO|45|2001");
    }

    #[test]
    fn real_world_mess() {
        check("DG 581 .M67 1999", "DG|581|.M67|1999");
        check("QA76.64. E24 2000", "QA|76.64|.E24|2000");
        check("RA784 . S87 2001", "RA|784|.S87|2001");
        check("PZ8.3. .C4567 1999", "PZ|8.3|.C4567|1999");
        check("0TR706 .L36 2000", "TR|706|.L36|2000 !LeadingZero");
        check("Hf5521 .W67 2001", "HF|5521|.W67|2001 !LowercaseClass");
        check("QA76 .73", "QA|76.73 !SpaceInClassNumber");
        check("KPA916.5  2000", "KPA|916.5|2000");
        check("HD9685.C63 X53 1998.", "HD|9685|.C63|.X53|1998");
        check("NA1209+", "NA|1209 !UnexpectedCharacters");
        check("QA076.5", "QA|76.5");
    }

    #[test]
    fn not_lc() {
        for input in [
            "LAW",
            "MLCSN 99/4184 (B)",
            "Microfilm 9468 DT",
            "CPB Box no. 1798 vol. 19",
            "UNCLASSIFIED 1763 (H)",
            "IN PROCESS",
            "SDA 08110",
            "VAI 5802 (viewing copy)",
            "Incun. 150- .B3",
            "*",
            "n-cn---",
            "813.54 KIN",
            "QA12345",
            "",
            "0",
            "WA100",
        ] {
            check(input, "none");
        }
    }

    #[test]
    fn class_validity() {
        for ok in ["A", "QA", "KFN", "DJK", "E", "Z"] {
            assert!(valid_class(ok), "{ok}");
        }
        for bad in ["", "I", "O", "W", "X", "Y", "IN", "LAW", "QAB", "KFNA"] {
            assert!(!valid_class(bad), "{bad}");
        }
    }

    #[test]
    fn glued_means_letters_touch_digits() {
        assert!(glued("QA76"));
        assert!(glued("0TR706"));
        assert!(glued("hf5521"));
        assert!(!glued("QA 76"));
        assert!(!glued("J 599"));
        assert!(!glued("599.75"));
        assert!(!glued("MLCS2000"));
    }
}
