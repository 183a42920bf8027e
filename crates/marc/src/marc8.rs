//! MARC-8 to UTF-8 conversion.
//!
//! MARC-8 is an ISO 2022 style encoding: a G0 set (bytes 0x21-0x7E) and a G1 set (0xA1-0xFE) are
//! in force, changed by escape sequences; the defaults are Basic Latin (ASCII) and Extended Latin
//! (ANSEL). East Asian characters (EACC) take three bytes each. Combining marks come *before* their
//! base character, and Unicode wants them after, so they are held back until the base arrives.
//!
//! The character sets are generated from the Library of Congress code tables into `marc8/tables.rs`
//! by `crates/marc/examples/gen_marc8_tables.rs`; nothing here is a hand-made table except the six
//! Innovative Interfaces (III) codes pymarc also accepts.
//!
//! Each call starts in the default state: escape sequences do not carry over from one field or
//! subfield to the next, as in pymarc and YAZ.
//!
//! What cannot be converted is reported as a [`Marc8Problem`] and replaced or dropped the way YAZ
//! and pymarc do: an undefined single-byte code or a control character is dropped (YAZ), a broken
//! escape sequence or an undefined EACC character becomes U+FFFD, and combining marks left without
//! a base character at the end are dropped (pymarc).

#[rustfmt::skip]
mod tables;

use tables::{SingleByteSet, COMBINING, EACC, EACC_FINAL_BYTE, EACC_NAME, NO_UNICODE, SINGLE_BYTE_SETS};
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

/// The result of decoding one MARC-8 string: the text (NFC) and what could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decoded {
    pub text: String,
    pub problems: Vec<Marc8Problem>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("MARC-8 byte offset {offset}: {message}")]
pub struct Marc8Problem {
    pub offset: usize,
    pub message: String,
}

/// Decodes MARC-8 bytes (one field's or subfield's data) to NFC UTF-8. Never fails: what cannot be
/// converted is replaced or dropped and reported in `problems`.
pub fn decode(input: &[u8]) -> Decoded {
    if is_plain_ascii(input) {
        // ASCII is NFC, and without ESC, controls, high bytes or `&#` nothing needs converting.
        return Decoded { text: String::from_utf8_lossy(input).into_owned(), problems: Vec::new() };
    }
    let mut decoder = Decoder::new(input);
    decoder.run();
    decoder.finish()
}

fn is_plain_ascii(input: &[u8]) -> bool {
    input.iter().all(|b| (0x20..=0x7E).contains(b)) && !input.windows(2).any(|w| w == b"&#")
}

/// The character set designated as G0 or G1.
#[derive(Clone, Copy)]
enum Graphic {
    Single(&'static SingleByteSet),
    Eacc,
}

/// Which of G0 and G1 an escape sequence designates.
#[derive(Clone, Copy)]
enum Target {
    G0,
    G1,
}

const ESC: u8 = 0x1B;
const ASCII_FINAL_BYTE: u8 = b'B';
const ANSEL_FINAL_BYTE: u8 = b'E';

/// Codes Innovative Interfaces (III) systems wrote into the EACC set that are not in LC's tables.
/// pymarc maps them (its `ODD_MAP`), and its golden test file uses them.
const III_EACC: [(u32, char); 6] = [
    (0x21_203D, '\u{2026}'), // HORIZONTAL ELLIPSIS
    (0x21_2040, '\u{201C}'), // LEFT DOUBLE QUOTATION MARK
    (0x7F_2014, '\u{2014}'), // EM DASH
    (0x7F_2019, '\u{2019}'), // RIGHT SINGLE QUOTATION MARK
    (0x7F_2020, '\u{201D}'), // RIGHT DOUBLE QUOTATION MARK
    (0x7F_2122, '\u{2122}'), // TRADE MARK SIGN
];

/// Looks up a single-byte character set by the final byte of its escape sequence. `s` is the
/// technique-1 escape back to ASCII.
fn set_for_final_byte(final_byte: u8) -> Option<Graphic> {
    if final_byte == EACC_FINAL_BYTE {
        return Some(Graphic::Eacc);
    }
    let wanted = if final_byte == b's' { ASCII_FINAL_BYTE } else { final_byte };
    SINGLE_BYTE_SETS.iter().find(|set| set.final_byte == wanted).map(Graphic::Single)
}

fn default_set(final_byte: u8) -> Graphic {
    match set_for_final_byte(final_byte) {
        Some(set) => set,
        // The generated table always has ASCII and ANSEL; this arm is never taken.
        None => Graphic::Single(&SINGLE_BYTE_SETS[0]),
    }
}

struct Decoder<'a> {
    input: &'a [u8],
    pos: usize,
    g0: Graphic,
    g1: Graphic,
    text: String,
    /// Combining marks read but not yet written: they follow the next base character.
    pending: Vec<char>,
    /// Offset of the first pending combining mark.
    pending_offset: usize,
    problems: Vec<Marc8Problem>,
}

impl<'a> Decoder<'a> {
    fn new(input: &'a [u8]) -> Self {
        Decoder {
            input,
            pos: 0,
            g0: default_set(ASCII_FINAL_BYTE),
            g1: default_set(ANSEL_FINAL_BYTE),
            text: String::with_capacity(input.len() + input.len() / 2),
            pending: Vec::new(),
            pending_offset: 0,
            problems: Vec::new(),
        }
    }

    fn run(&mut self) {
        while let Some(&byte) = self.input.get(self.pos) {
            match byte {
                ESC => self.escape(),
                b' ' => {
                    self.base(' ');
                    self.pos += 1;
                }
                0x00..=0x1F => {
                    self.problem(self.pos, format!("control character 0x{byte:02X} dropped"));
                    self.pos += 1;
                }
                _ => match if byte < 0x80 { self.g0 } else { self.g1 } {
                    Graphic::Single(set) => self.single(set, byte),
                    Graphic::Eacc => self.eacc(),
                },
            }
        }
    }

    fn finish(mut self) -> Decoded {
        if let Some(&mark) = self.pending.first() {
            let message = format!(
                "combining mark U+{:04X}{} at end of data has no base character; dropped",
                u32::from(mark),
                if self.pending.len() > 1 { " (and others)" } else { "" },
            );
            self.problem(self.pending_offset, message);
        }
        let text =
            if is_nfc_quick(self.text.chars()) == IsNormalized::Yes { self.text } else { self.text.nfc().collect() };
        Decoded { text, problems: self.problems }
    }

    fn problem(&mut self, offset: usize, message: String) {
        self.problems.push(Marc8Problem { offset, message });
    }

    /// Writes a base (non-combining) character, then the combining marks that preceded it.
    fn base(&mut self, c: char) {
        self.text.push(c);
        self.text.extend(self.pending.drain(..));
    }

    fn combining(&mut self, c: char) {
        if self.pending.is_empty() {
            self.pending_offset = self.pos;
        }
        self.pending.push(c);
    }

    fn single(&mut self, set: &'static SingleByteSet, byte: u8) {
        let entry = set.codes[usize::from(byte & 0x7F)];
        if entry == NO_UNICODE {
            // Second half of a double diacritic: the first half's Unicode mark already spans both.
            self.pos += 1;
            return;
        }
        let Some(c) = char::from_u32(entry & !COMBINING).filter(|_| entry != 0) else {
            let message = format!("byte 0x{byte:02X} is not defined in {}; dropped", set.name);
            self.problem(self.pos, message);
            self.pos += 1;
            return;
        };
        if entry & COMBINING != 0 {
            self.combining(c);
            self.pos += 1;
        } else if c == '&' && set.final_byte == ASCII_FINAL_BYTE {
            self.ampersand();
        } else {
            self.base(c);
            self.pos += 1;
        }
    }

    /// `&#xXXXX;` is how MARC-8 data carries a character it has no code for (LC's lossless
    /// conversion rule); it becomes that character, as in ruby-marc and marc4j.
    fn ampersand(&mut self) {
        let rest = &self.input[self.pos..];
        let digits = rest.get(3..).map_or(0, |r| r.iter().take_while(|b| b.is_ascii_hexdigit()).count());
        let is_reference = rest.starts_with(b"&#x") && (4..=6).contains(&digits) && rest.get(3 + digits) == Some(&b';');
        if !is_reference {
            self.base('&');
            self.pos += 1;
            return;
        }
        let hex = &rest[3..3 + digits];
        let value = hex.iter().fold(0u32, |acc, &b| acc * 16 + char::from(b).to_digit(16).unwrap_or(0));
        match char::from_u32(value) {
            Some(c) => {
                self.base(c);
                self.pos += 4 + digits;
            }
            None => {
                let message = format!(
                    "character reference &#x{}; is not a Unicode character; kept as text",
                    String::from_utf8_lossy(hex)
                );
                self.problem(self.pos, message);
                self.base('&');
                self.pos += 1;
            }
        }
    }

    /// Reads one EACC character: three bytes, all G0 or all G1.
    fn eacc(&mut self) {
        let start = self.pos;
        let rest = &self.input[start..];
        let high = rest[0] & 0x80;
        // Bytes that can belong to this character: same half (G0/G1), not a control or space.
        let usable = rest.iter().take(3).take_while(|&&b| b & 0x80 == high && b & 0x7F > 0x20).count();
        if let Some(c) = rest.get(..3).and_then(lookup_eacc) {
            self.base(c);
            self.pos += 3;
            return;
        }
        let shown = describe_bytes(&rest[..usable.max(1)]);
        let message = if usable == 3 {
            format!("{shown} is not defined in {EACC_NAME}; replaced by U+FFFD")
        } else {
            format!("incomplete {EACC_NAME} character {shown}; replaced by U+FFFD")
        };
        self.problem(start, message);
        self.base('\u{FFFD}');
        self.pos += usable.max(1);
    }

    /// Reads an escape sequence at `self.pos` and designates the character set it names.
    ///
    /// Recognised forms (final byte F names the set): `ESC ( F`, `ESC , F`, `ESC $ F`, `ESC $ ( F`,
    /// `ESC $ , F` for G0; `ESC ) F`, `ESC - F`, `ESC $ ) F`, `ESC $ - F` for G1; `ESC ( ! E` (the
    /// registered ANSEL form); and the technique-1 escapes `ESC g`, `ESC b`, `ESC p` (Greek
    /// symbols, subscripts, superscripts) and `ESC s` (back to ASCII) for G0.
    fn escape(&mut self) {
        let start = self.pos;
        let rest = &self.input[start + 1..];
        let mut i = 0;
        let multibyte = rest.first() == Some(&b'$');
        if multibyte {
            i += 1;
        }
        let target = match rest.get(i) {
            Some(b'(' | b',') => {
                i += 1;
                Some(Target::G0)
            }
            Some(b')' | b'-') => {
                i += 1;
                Some(Target::G1)
            }
            _ if multibyte => Some(Target::G0),
            _ => None,
        };
        if target.is_some() && rest.get(i) == Some(&b'!') {
            i += 1;
        }
        let final_byte = rest.get(i).copied().filter(|b| (0x20..=0x7E).contains(b));
        let set = final_byte.and_then(set_for_final_byte);
        match (target, final_byte, set) {
            (None, Some(b'g' | b'b' | b'p' | b's'), Some(set)) => {
                self.g0 = set;
                self.pos += 2;
            }
            (Some(target), Some(_), Some(set)) => {
                match target {
                    Target::G0 => self.g0 = set,
                    Target::G1 => self.g1 = set,
                }
                self.pos += i + 2;
            }
            (Some(_), Some(_), None) => {
                let shown = describe_escape(&self.input[start..start + i + 2]);
                self.problem(
                    start,
                    format!("escape sequence {shown} names an unknown character set; replaced by U+FFFD"),
                );
                self.base('\u{FFFD}');
                self.pos += i + 2;
            }
            _ => {
                let end = (start + 2).min(self.input.len());
                let shown = describe_escape(&self.input[start..end]);
                let what = if target.is_some() && final_byte.is_none() {
                    "incomplete escape sequence"
                } else {
                    "unknown escape sequence"
                };
                self.problem(start, format!("{what} {shown}; ESC replaced by U+FFFD"));
                self.base('\u{FFFD}');
                self.pos += 1;
            }
        }
    }
}

/// Looks up three EACC bytes, all G0 (0x21-0x7E) or all G1 (0xA1-0xFE), then the III codes.
fn lookup_eacc(bytes: &[u8]) -> Option<char> {
    let key = |mask: u8| bytes.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b & mask));
    let high = bytes.first().map_or(0, |b| b & 0x80);
    let same_half = bytes.iter().all(|b| b & 0x80 == high);
    let found = EACC
        .binary_search_by_key(&u64::from(key(0x7F)), |entry| entry >> 24)
        .ok()
        .filter(|_| same_half)
        .and_then(|i| char::from_u32((EACC[i] & 0xFF_FFFF) as u32));
    found.or_else(|| III_EACC.iter().find(|(code, _)| *code == key(0xFF)).map(|&(_, c)| c))
}

/// `ESC ( Z` style rendering of an escape sequence for a problem message.
fn describe_escape(bytes: &[u8]) -> String {
    let mut out = String::from("ESC");
    for &b in bytes.iter().skip(1) {
        out.push(' ');
        if b.is_ascii_graphic() {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("0x{b:02X}"));
        }
    }
    out
}

fn describe_bytes(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("0x{b:02X}")).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_sets_are_ascii_and_ansel() {
        assert!(matches!(default_set(ASCII_FINAL_BYTE), Graphic::Single(s) if s.final_byte == b'B'));
        assert!(matches!(default_set(ANSEL_FINAL_BYTE), Graphic::Single(s) if s.final_byte == b'E'));
        assert!(matches!(set_for_final_byte(EACC_FINAL_BYTE), Some(Graphic::Eacc)));
        assert_eq!(EACC_NAME, "Chinese, Japanese, Korean (EACC)");
    }

    #[test]
    fn eacc_table_is_sorted() {
        assert!(EACC.windows(2).all(|w| w[0] >> 24 < w[1] >> 24));
        assert_eq!(lookup_eacc(b"!0!"), Some('\u{4E00}'));
        assert_eq!(lookup_eacc(b"\xa1\xb0\xa1"), Some('\u{4E00}'));
        assert_eq!(lookup_eacc(b"\xa1\xb0!"), None);
    }

    #[test]
    fn fast_path_only_for_plain_ascii() {
        assert!(is_plain_ascii(b"Hello, world & co."));
        assert!(!is_plain_ascii(b"x &#x00E9; y"));
        assert!(!is_plain_ascii(b"caf\xe2e"));
        assert!(!is_plain_ascii(b"a\x1b(Nb"));
    }
}
