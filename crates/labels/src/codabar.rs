//! Codabar (ANSI/AIM BC3, also NW-7): digits and `- $ : / . +`, each four bars and three spaces,
//! framed by start and stop characters chosen from `A B C D`. Libraries print their 14-digit item
//! and patron barcodes as Codabar between `A` and `B`, and scanners strip the start and stop.

use crate::symbol::{BarcodeError, Pattern, Symbology};

/// Data characters, then the start/stop characters, in the order of [`PATTERNS`].
const CHARACTERS: &str = "0123456789-$:/.+ABCD";

/// Wide/narrow patterns (bit set = wide; seven elements bar-space-...-bar, first element in the
/// most significant bit), in the order of [`CHARACTERS`].
const PATTERNS: [u16; 20] = [
    0x03, 0x06, 0x09, 0x60, 0x12, 0x42, 0x21, 0x24, 0x30, 0x48, // 0-9
    0x0C, 0x18, 0x45, 0x51, 0x54, 0x15, // - $ : / . +
    0x1A, 0x29, 0x0B, 0x0E, // A B C D
];

/// The start character printed when the barcode brings none.
pub const DEFAULT_START: char = 'A';
/// The stop character printed when the barcode brings none.
pub const DEFAULT_STOP: char = 'B';

fn is_start_stop(c: char) -> bool {
    matches!(c, 'A'..='D')
}

fn code(c: char) -> Option<u16> {
    CHARACTERS.find(c).map(|i| PATTERNS[i])
}

/// Encodes `data`. A barcode written with its own start and stop (`A31234000456789B`) keeps
/// them; otherwise it is framed by [`DEFAULT_START`] and [`DEFAULT_STOP`]. `A`-`D` anywhere
/// else, and anything outside the Codabar set (letters included), is refused with its position.
pub fn encode(data: &str) -> Result<Pattern, BarcodeError> {
    let chars: Vec<char> = data.chars().collect();
    let framed = chars.len() >= 2
        && chars.first().copied().is_some_and(is_start_stop)
        && chars.last().copied().is_some_and(is_start_stop);
    let (start, body, stop, first_position) = if framed {
        (chars[0], &chars[1..chars.len() - 1], chars[chars.len() - 1], 2)
    } else {
        (DEFAULT_START, &chars[..], DEFAULT_STOP, 1)
    };
    if body.is_empty() {
        return Err(BarcodeError::Empty);
    }
    let mut codes = Vec::with_capacity(body.len() + 2);
    codes.push(code(start).ok_or(BarcodeError::Empty)?);
    for (i, &c) in body.iter().enumerate() {
        let unencodable =
            BarcodeError::Unencodable { symbology: Symbology::Codabar, character: c, position: first_position + i };
        if is_start_stop(c) {
            return Err(unencodable);
        }
        codes.push(code(c).ok_or(unencodable)?);
    }
    codes.push(code(stop).ok_or(BarcodeError::Empty)?);
    Ok(Pattern::from_characters(codes, 7))
}

/// The barcode as staff know it: without start and stop characters if it was written with them.
pub fn data(barcode: &str) -> &str {
    let mut chars = barcode.chars();
    match (chars.next(), chars.next_back()) {
        (Some(a), Some(b)) if is_start_stop(a) && is_start_stop(b) => &barcode[1..barcode.len() - 1],
        _ => barcode,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The Codabar table as published (ANSI/AIM BC3; Wikipedia "Codabar"), narrow/wide elements
    /// bar first, independent of the bit table in the code.
    const PUBLISHED: [(char, &str); 20] = [
        ('0', "nnnnnww"),
        ('1', "nnnnwwn"),
        ('2', "nnnwnnw"),
        ('3', "wwnnnnn"),
        ('4', "nnwnnwn"),
        ('5', "wnnnnwn"),
        ('6', "nwnnnnw"),
        ('7', "nwnnwnn"),
        ('8', "nwwnnnn"),
        ('9', "wnnwnnn"),
        ('-', "nnnwwnn"),
        ('$', "nnwwnnn"),
        (':', "wnnnwnw"),
        ('/', "wnwnnnw"),
        ('.', "wnwnwnn"),
        ('+', "nnwnwnw"),
        ('A', "nnwwnwn"),
        ('B', "nwnwnnw"),
        ('C', "nnnwnww"),
        ('D', "nnnwwwn"),
    ];

    fn decode(pattern: &Pattern) -> Option<String> {
        let nw = pattern.to_nw();
        let mut out = String::new();
        for chunk in nw.as_bytes().chunks(8) {
            let code = std::str::from_utf8(&chunk[..7]).ok()?;
            let idx = PUBLISHED.iter().position(|(_, p)| *p == code)?;
            out.push(PUBLISHED[idx].0);
        }
        Some(out)
    }

    #[test]
    fn every_character_matches_the_published_table() {
        for (c, nw) in &PUBLISHED[..16] {
            let pattern = encode(&c.to_string()).expect("encodable");
            assert_eq!(pattern.to_nw(), format!("nnwwnwnn{nw}nnwnwnnw"), "character {c:?}");
        }
        for (c, nw) in &PUBLISHED[16..] {
            let pattern = encode(&format!("{c}1{c}")).expect("encodable");
            assert_eq!(pattern.to_nw(), format!("{nw}nnnnnwwnn{nw}"), "start/stop {c:?}");
        }
    }

    #[test]
    fn digits_have_two_wide_and_the_rest_three() {
        for (i, p) in PATTERNS.iter().enumerate() {
            assert!(*p < 1 << 7);
            assert_eq!(p.count_ones(), if i < 12 { 2 } else { 3 }, "{}", &CHARACTERS[i..=i]);
        }
    }

    #[test]
    fn library_barcode_is_framed_a_b() {
        let p = encode("31234000456789").expect("encodable");
        assert_eq!(decode(&p).expect("decodes"), "A31234000456789B");
        let own = encode("C31234000456789D").expect("encodable");
        assert_eq!(decode(&own).expect("decodes"), "C31234000456789D");
        assert_eq!(data("A31234000456789B"), "31234000456789");
        assert_eq!(data("31234000456789"), "31234000456789");
        assert_eq!(data("A"), "A");
    }

    #[test]
    fn refusals_name_character_and_position() {
        assert_eq!(
            encode("3123X5"),
            Err(BarcodeError::Unencodable { symbology: Symbology::Codabar, character: 'X', position: 5 })
        );
        assert_eq!(encode("3123X5").expect_err("refused").to_string(), "Codabar cannot encode 'X' (character 5)");
        // A start character with no matching stop is data, and data cannot hold A-D.
        assert!(matches!(encode("A123"), Err(BarcodeError::Unencodable { character: 'A', position: 1, .. })));
        assert!(matches!(encode("A1B2B"), Err(BarcodeError::Unencodable { character: 'B', position: 3, .. })));
        assert!(matches!(encode("12 3"), Err(BarcodeError::Unencodable { character: ' ', position: 3, .. })));
        assert_eq!(encode(""), Err(BarcodeError::Empty));
        assert_eq!(encode("AB"), Err(BarcodeError::Empty));
    }

    #[test]
    fn width_of_a_fourteen_digit_barcode() {
        // 14 digits of 5 narrow + 2 wide, A and B of 4 narrow + 3 wide, 15 narrow gaps.
        let p = encode("31234000456789").expect("encodable");
        assert_eq!(p.width(1, 3), 14 * 11 + 2 * 13 + 15);
    }

    proptest! {
        #[test]
        fn any_encodable_text_round_trips(data in "[0-9$:/.+-]{1,30}", framing in proptest::option::of(("[A-D]", "[A-D]"))) {
            let (text, expected) = match &framing {
                Some((a, b)) => (format!("{a}{data}{b}"), format!("{a}{data}{b}")),
                None => (data.clone(), format!("A{data}B")),
            };
            let pattern = encode(&text).expect("encodable");
            prop_assert_eq!(decode(&pattern), Some(expected));
            prop_assert_eq!(pattern.elements().len(), (data.len() + 2) * 8 - 1);
        }

        #[test]
        fn anything_else_is_refused_not_panicked(text in "\\PC{0,20}") {
            match encode(&text) {
                Ok(p) => prop_assert!(p.elements().len() >= 3 * 8 - 1),
                Err(BarcodeError::Unencodable { position, character, .. }) => {
                    prop_assert_eq!(text.chars().nth(position - 1), Some(character));
                }
                Err(BarcodeError::Empty) => prop_assert!(text.chars().count() <= 2),
            }
        }
    }
}
