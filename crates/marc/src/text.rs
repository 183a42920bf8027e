//! Small text helpers shared by the readers: NFC normalisation with an allocation-free fast
//! path, and what counts as a valid indicator or subfield code.

use std::borrow::Cow;

use unicode_normalization::char::compose;
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

/// True when `s` is certainly NFC: every character is below U+0300, where nothing combines
/// (UTF-8 lead bytes below 0xCC).
pub(crate) fn below_combining_marks(s: &str) -> bool {
    first_from_u0300(s.as_bytes()).is_none()
}

const LOW7: u64 = u64::from_ne_bytes([0x7F; 8]);
const HIGH_BITS: u64 = u64::from_ne_bytes([0x80; 8]);
const TO_0XCC: u64 = u64::from_ne_bytes([0x34; 8]);

/// Bit 7 of each byte of the result is set exactly where that byte of `x` is 0xCC or above: a
/// byte with bit 7 set whose low seven bits, plus 0x34, reach 0x80 (at most 0xB3, so no carry
/// into the next byte; no false hits, and the lowest set bit is the first such byte).
#[inline(always)]
fn from_0xcc(x: u64) -> u64 {
    ((x & LOW7) + TO_0XCC) & x & HIGH_BITS
}

/// Where the first byte of 0xCC or above is (a UTF-8 lead byte of a character from U+0300 up),
/// eight bytes at a time (SWAR) with an early exit. Subfield values are short (most under 32
/// bytes), where a vectorised fold over the whole value spends its time in the scalar tail;
/// this takes a value of 25 bytes in four steps, the last one the zero-padded rest.
pub(crate) fn first_from_u0300(bytes: &[u8]) -> Option<usize> {
    let mut chunks = bytes.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let hits = from_0xcc(u64::from_le_bytes(word));
        if hits != 0 {
            return Some(base + hits.trailing_zeros() as usize / 8);
        }
        base += 8;
    }
    let rest = chunks.remainder();
    if rest.is_empty() {
        return None;
    }
    let mut word = [0u8; 8];
    word[..rest.len()].copy_from_slice(rest);
    let hits = from_0xcc(u64::from_le_bytes(word));
    (hits != 0).then(|| base + hits.trailing_zeros() as usize / 8)
}

/// `s` in Unicode Normalization Form C, borrowed when it certainly is already (so that the
/// caller copies it only once, into whatever it keeps).
pub(crate) fn nfc(s: &str) -> Cow<'_, str> {
    match first_from_u0300(s.as_bytes()) {
        None => Cow::Borrowed(s),
        Some(first) => {
            let mut out = String::with_capacity(s.len());
            nfc_by_segments_from(s, first, &mut out);
            Cow::Owned(out)
        }
    }
}

/// True for characters that NFC leaves alone wherever they stand: below U+0300, or in a range of
/// letters that are starters (combining class 0) with NFC quick check Yes, so that none of
/// them is reordered, decomposed or composed with the character before it (the characters that
/// can be the second half of a composition are exactly those whose quick check is Maybe). The
/// ranges are the scripts that fill LC's vernacular fields (Cyrillic, Hebrew, Arabic, kana,
/// CJK ideographs, Hangul syllables); a range check is cheaper than the normaliser's quick check
/// (a table look-up per character). A Hangul syllable may take a following trailing jamo, and a
/// kana a following voicing mark, but those are not in these ranges, so text containing them
/// goes to the normaliser.
fn is_inert(c: char) -> bool {
    matches!(c,
        '\0'..='\u{2ff}'
        | '\u{400}'..='\u{482}'
        | '\u{48a}'..='\u{4ff}'
        | '\u{5d0}'..='\u{5ea}'
        | '\u{621}'..='\u{63a}'
        | '\u{641}'..='\u{64a}'
        | '\u{3041}'..='\u{3096}'
        | '\u{30a1}'..='\u{30fa}'
        | '\u{3400}'..='\u{4dbf}'
        | '\u{4e00}'..='\u{9fff}'
        | '\u{ac00}'..='\u{d7a3}')
}

/// Like [`nfc`] but takes ownership, so already-normal text is not copied.
pub(crate) fn nfc_owned(s: String) -> String {
    if below_combining_marks(&s) {
        return s;
    }
    match is_nfc_quick(s.chars()) {
        IsNormalized::Yes => s,
        _ => nfc_by_segments(&s),
    }
}

/// NFC of `s`, normalising only the pieces that can change. Every character below U+0300
/// (UTF-8 lead byte below 0xCC) is a starter that is its own NFC, and none is ever the second
/// half of a composition; so text can be cut just before any such character and each piece
/// normalised on its own. The pieces that need the normaliser are the runs of characters from
/// U+0300 up, each with the character before it (which a combining mark may compose with).
/// Catalogue text in decomposed form (LC's is) is mostly ASCII with a mark here and there, and
/// the full normaliser costs per character, so this is several times faster than `s.nfc()`.
fn nfc_by_segments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    nfc_into(s, &mut out);
    out
}

/// Where NFC text can be written: a `String`, or a subfield value refilled in place.
pub(crate) trait TextOut {
    fn push_str(&mut self, s: &str);
    fn push(&mut self, c: char);
}

impl TextOut for String {
    fn push_str(&mut self, s: &str) {
        String::push_str(self, s);
    }

    fn push(&mut self, c: char) {
        String::push(self, c);
    }
}

impl TextOut for compact_str::CompactString {
    fn push_str(&mut self, s: &str) {
        compact_str::CompactString::push_str(self, s);
    }

    fn push(&mut self, c: char) {
        compact_str::CompactString::push(self, c);
    }
}

/// Appends `s` in NFC to `out`: [`nfc`] without the intermediate `String`.
pub(crate) fn nfc_into(s: &str, out: &mut impl TextOut) {
    match first_from_u0300(s.as_bytes()) {
        None => out.push_str(s),
        Some(first) => nfc_by_segments_from(s, first, out),
    }
}

/// [`nfc_by_segments`], appending to `out`, when the first byte of 0xCC or above is known to be at `first`
/// (found by the caller's check whether the text needs normalising, so not searched again).
pub(crate) fn nfc_by_segments_from(s: &str, first: usize, out: &mut impl TextOut) {
    let bytes = s.as_bytes();
    // Start of the text not yet copied to `out`.
    let mut done = 0;
    let mut next = Some(first);
    while let Some(i) = next {
        // The piece starts with the character before the run (one or two bytes, as it is below
        // U+0300), unless the run starts the text or follows the previous piece.
        let start = match i.checked_sub(1) {
            Some(j) if j >= done && bytes[j] < 0x80 => j,
            Some(j) if j > done => j - 1,
            _ => i,
        };
        // The run: bytes >= 0x80 that are not a lead byte below 0xCC (so continuation bytes
        // and higher lead bytes). It ends at ASCII, a lead byte below 0xCC or the end of the
        // text, all character boundaries.
        let end = bytes[i..].iter().position(|&b| b < 0x80 || (0xC0..0xCC).contains(&b)).map_or(bytes.len(), |n| i + n);
        let piece = &s[start..end];
        // Combining diacritical marks (U+0300-U+036F, lead bytes 0xCC-0xCD) are never NFC after
        // a letter they compose with; other text (Greek, Cyrillic, CJK) usually is NFC already.
        let marks = bytes[i..end].iter().any(|&b| b == 0xCC || b == 0xCD);
        if let Some(c) = ascii_with_one_mark(piece) {
            // The common case in decomposed text, without the general normaliser.
            out.push_str(&s[done..start]);
            match c {
                Some(c) => out.push(c),
                None => out.push_str(piece),
            }
            done = end;
            next = first_from_u0300(&bytes[done..]).map(|n| done + n);
            continue;
        }
        out.push_str(&s[done..start]);
        if !marks && (piece.chars().all(is_inert) || is_nfc_quick(piece.chars()) == IsNormalized::Yes) {
            out.push_str(piece);
        } else {
            for c in piece.nfc() {
                out.push(c);
            }
        }
        done = end;
        next = first_from_u0300(&bytes[done..]).map(|n| done + n);
    }
    out.push_str(&s[done..]);
}

/// NFC of `piece` when it is an ASCII character followed by one combining diacritical mark
/// (U+0300-U+036F) that is its own decomposition: `Some(Some(c))` when the two compose to
/// `c`, `Some(None)` when they stay as they are, `None` when `piece` is not of that shape.
/// An ASCII character is a starter with no decomposition and a single mark needs no
/// reordering, so NFC is just the canonical composition of the pair (if there is one).
fn ascii_with_one_mark(piece: &str) -> Option<Option<char>> {
    let &[base, lead, _] = piece.as_bytes() else {
        return None;
    };
    if !base.is_ascii() || !(lead == 0xCC || lead == 0xCD) {
        return None;
    }
    let mark = piece[1..].chars().next()?;
    // U+0370 up (also lead byte 0xCD) are not combining marks; U+0340, U+0341, U+0343 and
    // U+0344 decompose to other marks.
    if mark > '\u{36f}' || matches!(mark, '\u{340}' | '\u{341}' | '\u{343}' | '\u{344}') {
        return None;
    }
    Some(compose(char::from(base), mark))
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
        assert_eq!(nfc("Cafe\u{301} a\u{308}\u{304} \u{1100}\u{1161}\u{11a8}!"), "Caf\u{e9} \u{1df} \u{ac01}!");
        assert_eq!(nfc("\u{301}e\u{327}\u{301}"), "\u{301}\u{229}\u{301}");
    }

    proptest::proptest! {
        /// Normalising piece by piece gives what normalising the whole text does, on text
        /// mixing the characters where composition happens (Latin with combining marks,
        /// Greek, Hangul jamo and syllables, Indic two-part vowels) with anything else.
        #[test]
        fn nfc_by_segments_is_nfc(chars in proptest::collection::vec(proptest::prop_oneof![
            proptest::char::range('\u{20}', '\u{7e}'),
            proptest::char::range('\u{a0}', '\u{2ff}'),
            proptest::char::range('\u{300}', '\u{36f}'),
            proptest::char::range('\u{370}', '\u{3ff}'),
            proptest::char::range('\u{1100}', '\u{11ff}'),
            proptest::char::range('\u{ac00}', '\u{ac30}'),
            proptest::char::range('\u{b3e}', '\u{b57}'),
            proptest::char::range('\u{1e00}', '\u{1fff}'),
            proptest::char::any(),
        ], 0..16)) {
            let s: String = chars.into_iter().collect();
            let expected: String = s.nfc().collect();
            proptest::prop_assert_eq!(&nfc_by_segments(&s), &expected);
            proptest::prop_assert_eq!(&nfc(&s), &expected);
            proptest::prop_assert_eq!(&nfc_owned(s.clone()), &expected);
            let mut into = compact_str::CompactString::default();
            nfc_into(&s, &mut into);
            proptest::prop_assert_eq!(into.as_str(), expected.as_str());
            // Already-NFC input comes back unchanged through every path.
            proptest::prop_assert_eq!(&nfc(&expected), &expected);
            let mut again = String::new();
            nfc_into(&expected, &mut again);
            proptest::prop_assert_eq!(&again, &expected);
        }

        /// The eight-bytes-at-a-time search finds what a byte-by-byte search does, at every
        /// length and alignment (the padded tail included), and the fast answer "nothing from
        /// U+0300 up" agrees with the normaliser's own quick check on such text.
        #[test]
        fn first_from_u0300_is_the_plain_search(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80), skip in 0usize..8) {
            let bytes = &bytes[skip.min(bytes.len())..];
            proptest::prop_assert_eq!(first_from_u0300(bytes), bytes.iter().position(|&b| b >= 0xCC));
            if let Ok(s) = std::str::from_utf8(bytes) {
                proptest::prop_assert_eq!(below_combining_marks(s), s.chars().all(|c| c < '\u{300}'));
                if below_combining_marks(s) {
                    proptest::prop_assert_eq!(is_nfc_quick(s.chars()), IsNormalized::Yes);
                }
            }
        }

        /// Hangul (syllables with trailing jamo, conjoining jamo), kana with voicing marks,
        /// Cyrillic with combining breve, Arabic with harakat, all normalised per value.
        #[test]
        fn nfc_of_vernacular_scripts(chars in proptest::collection::vec(proptest::prop_oneof![
            proptest::char::range('\u{20}', '\u{7e}'),
            proptest::char::range('\u{300}', '\u{36f}'),
            proptest::char::range('\u{400}', '\u{4ff}'),
            proptest::char::range('\u{5d0}', '\u{5ea}'),
            proptest::char::range('\u{5b0}', '\u{5c7}'),
            proptest::char::range('\u{621}', '\u{655}'),
            proptest::char::range('\u{1100}', '\u{1112}'),
            proptest::char::range('\u{1161}', '\u{1175}'),
            proptest::char::range('\u{11a8}', '\u{11c2}'),
            proptest::char::range('\u{ac00}', '\u{d7a3}'),
            proptest::char::range('\u{3041}', '\u{30ff}'),
            proptest::char::range('\u{4e00}', '\u{4e20}'),
        ], 0..24)) {
            let s: String = chars.into_iter().collect();
            let expected: String = s.nfc().collect();
            proptest::prop_assert_eq!(&nfc(&s), &expected);
            let mut into = compact_str::CompactString::default();
            nfc_into(&s, &mut into);
            proptest::prop_assert_eq!(into.as_str(), expected.as_str());
            proptest::prop_assert_eq!(&nfc_owned(s), &expected);
        }
    }

    /// The fast path for an ASCII character and one mark agrees with the normaliser on every
    /// such pair (and on the two-byte characters after the marks, which it leaves alone).
    #[test]
    fn ascii_with_one_mark_is_nfc() {
        for base in (0u8..0x80).map(char::from) {
            for mark in '\u{300}'..='\u{37f}' {
                let s: String = [base, mark].into_iter().collect();
                let expected: String = s.nfc().collect();
                match ascii_with_one_mark(&s) {
                    Some(Some(c)) => assert_eq!(c.to_string(), expected, "{s:?}"),
                    Some(None) => assert_eq!(s, expected, "{s:?}"),
                    None => assert!(matches!(mark, '\u{340}' | '\u{341}' | '\u{343}' | '\u{344}' | '\u{370}'..)),
                }
                assert_eq!(nfc(&s), expected, "{s:?}");
            }
        }
    }

    /// Every character `is_inert` lets through is a starter with NFC quick check Yes (so it is
    /// never the second half of a composition), and text of them is its own NFC.
    #[test]
    fn inert_characters_are_nfc_starters() {
        let mut count = 0;
        for c in (0..=0x10ffff).filter_map(char::from_u32).filter(|&c| is_inert(c)) {
            assert_eq!(unicode_normalization::char::canonical_combining_class(c), 0, "{c:?}");
            assert_eq!(is_nfc_quick(std::iter::once(c)), IsNormalized::Yes, "{c:?}");
            let pair: String = ['a', c, c].into_iter().collect();
            assert_eq!(pair.nfc().collect::<String>(), pair, "{c:?}");
            count += 1;
        }
        assert!(count > 30_000);
        assert_eq!(nfc("Москва 北京 서울 ひらがな"), "Москва 北京 서울 ひらがな");
        assert_eq!(nfc("\u{ac00}\u{11a8}"), "\u{ac01}");
        assert_eq!(nfc("\u{304b}\u{3099}"), "\u{304c}");
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
