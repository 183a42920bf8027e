//! Small text helpers shared by the readers: NFC normalisation with an allocation-free fast
//! path, and what counts as a valid indicator or subfield code.

use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

/// True when `s` is certainly NFC: every character is below U+0300, where nothing combines
/// (UTF-8 lead bytes below 0xCC). A byte scan, much cheaper than the full quick check.
fn below_combining_marks(s: &str) -> bool {
    s.bytes().all(|b| b < 0xCC)
}

/// `s` in Unicode Normalization Form C. Already-NFC text is copied as it is.
pub(crate) fn nfc(s: &str) -> String {
    if below_combining_marks(s) {
        return s.to_owned();
    }
    match is_nfc_quick(s.chars()) {
        IsNormalized::Yes => s.to_owned(),
        _ => s.nfc().collect(),
    }
}

/// Like [`nfc`] but takes ownership, so already-normal text is not copied.
pub(crate) fn nfc_owned(s: String) -> String {
    if below_combining_marks(&s) {
        return s;
    }
    match is_nfc_quick(s.chars()) {
        IsNormalized::Yes => s,
        _ => s.nfc().collect(),
    }
}

/// MARC 21 indicators are a blank, a digit or a lowercase letter.
pub(crate) fn is_valid_indicator(c: char) -> bool {
    c == ' ' || c.is_ascii_digit() || c.is_ascii_lowercase()
}

/// Subfield codes: MARC 21 uses lowercase letters and digits; local practice uses other ASCII
/// graphic characters too, which are accepted without a warning.
pub(crate) fn is_acceptable_code(c: char) -> bool {
    c.is_ascii_graphic()
}

/// Characters that XML 1.0 cannot carry, even as character references.
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Length in bytes of the UTF-8 sequence starting with `lead` (1 for a stray continuation
/// byte or an invalid lead byte, so that callers always make progress).
pub(crate) fn utf8_width(lead: u8) -> usize {
    match lead {
        0x00..=0x7F => 1,
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 1,
    }
}

/// The first character of `bytes` if they start with a valid UTF-8 sequence, with its width.
pub(crate) fn first_utf8_char(bytes: &[u8]) -> Option<(char, usize)> {
    let first = *bytes.first()?;
    let width = utf8_width(first);
    let s = std::str::from_utf8(bytes.get(..width)?).ok()?;
    s.chars().next().map(|c| (c, width))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfc_composes_decomposed_text() {
        assert_eq!(nfc("e\u{301}"), "\u{e9}");
        assert_eq!(nfc("\u{e9}\u{2dc}"), "\u{e9}\u{2dc}");
        assert_eq!(nfc("\u{1100}\u{1161}"), "\u{ac00}");
        assert_eq!(nfc_owned("e\u{301}".to_string()), "\u{e9}");
        assert_eq!(nfc("plain"), "plain");
    }

    #[test]
    fn first_char_of_utf8() {
        assert_eq!(first_utf8_char("á!".as_bytes()), Some(('á', 2)));
        assert_eq!(first_utf8_char(b"\xC3"), None);
        assert_eq!(first_utf8_char(b"a"), Some(('a', 1)));
        assert_eq!(first_utf8_char(b""), None);
    }

    #[test]
    fn xml_chars() {
        assert!(is_xml_char('\n'));
        assert!(!is_xml_char('\u{7}'));
        assert!(!is_xml_char('\u{FFFE}'));
        assert!(is_xml_char('\u{1F600}'));
    }
}
