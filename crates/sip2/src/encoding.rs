//! Character encodings of the text in SIP2 fields. The protocol names none: 3M's units default to
//! code page 850, newer kiosks and the PyPI `sip2` client send UTF-8, European ACSs often
//! ISO-8859-1. All three agree with ASCII, so `|`, field identifiers and fixed fields sit on the
//! same bytes whatever the encoding; only field values differ.

use std::fmt;

/// The character encoding of a connection (a per-kiosk setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Encoding {
    #[default]
    Utf8,
    /// ISO-8859-1: each byte is the code point of the same number.
    Latin1,
    /// IBM code page 850 (DOS Latin-1), the default of 3M units and of PyPI `pysip2`.
    Cp850,
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Latin1 => "ISO-8859-1",
            Encoding::Cp850 => "CP850",
        })
    }
}

/// Code page 850, bytes 0x80..=0xFF (generated from Python's `cp850` codec; the Python peer
/// test decodes our output with that codec and would catch a wrong entry).
const CP850_HIGH: [char; 128] = [
    '\u{00C7}', '\u{00FC}', '\u{00E9}', '\u{00E2}', '\u{00E4}', '\u{00E0}', '\u{00E5}', '\u{00E7}', '\u{00EA}',
    '\u{00EB}', '\u{00E8}', '\u{00EF}', '\u{00EE}', '\u{00EC}', '\u{00C4}', '\u{00C5}', '\u{00C9}', '\u{00E6}',
    '\u{00C6}', '\u{00F4}', '\u{00F6}', '\u{00F2}', '\u{00FB}', '\u{00F9}', '\u{00FF}', '\u{00D6}', '\u{00DC}',
    '\u{00F8}', '\u{00A3}', '\u{00D8}', '\u{00D7}', '\u{0192}', '\u{00E1}', '\u{00ED}', '\u{00F3}', '\u{00FA}',
    '\u{00F1}', '\u{00D1}', '\u{00AA}', '\u{00BA}', '\u{00BF}', '\u{00AE}', '\u{00AC}', '\u{00BD}', '\u{00BC}',
    '\u{00A1}', '\u{00AB}', '\u{00BB}', '\u{2591}', '\u{2592}', '\u{2593}', '\u{2502}', '\u{2524}', '\u{00C1}',
    '\u{00C2}', '\u{00C0}', '\u{00A9}', '\u{2563}', '\u{2551}', '\u{2557}', '\u{255D}', '\u{00A2}', '\u{00A5}',
    '\u{2510}', '\u{2514}', '\u{2534}', '\u{252C}', '\u{251C}', '\u{2500}', '\u{253C}', '\u{00E3}', '\u{00C3}',
    '\u{255A}', '\u{2554}', '\u{2569}', '\u{2566}', '\u{2560}', '\u{2550}', '\u{256C}', '\u{00A4}', '\u{00F0}',
    '\u{00D0}', '\u{00CA}', '\u{00CB}', '\u{00C8}', '\u{0131}', '\u{00CD}', '\u{00CE}', '\u{00CF}', '\u{2518}',
    '\u{250C}', '\u{2588}', '\u{2584}', '\u{00A6}', '\u{00CC}', '\u{2580}', '\u{00D3}', '\u{00DF}', '\u{00D4}',
    '\u{00D2}', '\u{00F5}', '\u{00D5}', '\u{00B5}', '\u{00FE}', '\u{00DE}', '\u{00DA}', '\u{00DB}', '\u{00D9}',
    '\u{00FD}', '\u{00DD}', '\u{00AF}', '\u{00B4}', '\u{00AD}', '\u{00B1}', '\u{2017}', '\u{00BE}', '\u{00B6}',
    '\u{00A7}', '\u{00F7}', '\u{00B8}', '\u{00B0}', '\u{00A8}', '\u{00B7}', '\u{00B9}', '\u{00B3}', '\u{00B2}',
    '\u{25A0}', '\u{00A0}',
];

impl Encoding {
    /// The bytes as text; the error names the first byte that is not valid in this encoding.
    pub(crate) fn decode(self, bytes: &[u8]) -> Result<String, usize> {
        match self {
            Encoding::Utf8 => match std::str::from_utf8(bytes) {
                Ok(s) => Ok(s.to_owned()),
                Err(e) => Err(e.valid_up_to()),
            },
            Encoding::Latin1 => Ok(bytes.iter().map(|&b| char::from(b)).collect()),
            Encoding::Cp850 => Ok(bytes
                .iter()
                .map(|&b| if b < 0x80 { char::from(b) } else { CP850_HIGH[usize::from(b - 0x80)] })
                .collect()),
        }
    }

    /// How many bytes `c` takes, once [`Encoding::encode`] has replaced what cannot be written.
    pub(crate) fn encoded_len(self, c: char) -> usize {
        match self {
            Encoding::Utf8 => c.len_utf8(),
            Encoding::Latin1 | Encoding::Cp850 => 1,
        }
    }

    /// The text as bytes; a character the encoding cannot hold becomes `?`, since a reply must
    /// go out whole rather than fail over one letter of a title.
    pub(crate) fn encode(self, text: &str) -> Vec<u8> {
        match self {
            Encoding::Utf8 => text.as_bytes().to_vec(),
            Encoding::Latin1 => text.chars().map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?')).collect(),
            Encoding::Cp850 => text
                .chars()
                .map(|c| {
                    if c.is_ascii() {
                        c as u8
                    } else {
                        CP850_HIGH.iter().position(|&h| h == c).map_or(b'?', |i| 0x80 + i as u8)
                    }
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_byte_encodings_round_trip_every_byte() {
        let all: Vec<u8> = (0..=255).collect();
        for enc in [Encoding::Latin1, Encoding::Cp850] {
            let text = enc.decode(&all).unwrap();
            assert_eq!(enc.encode(&text), all, "{enc}");
        }
    }

    #[test]
    fn unrepresentable_characters_become_question_marks() {
        assert_eq!(Encoding::Latin1.encode("Łódź"), b"?\xF3d?");
        assert_eq!(Encoding::Cp850.encode("é€"), b"\x82?");
        assert_eq!(Encoding::Utf8.decode(b"ab\xFFc"), Err(2));
    }
}
