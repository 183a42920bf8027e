//! Code 39 (ANSI/AIM BC1, ISO/IEC 16388): 43 characters, each five bars and four spaces of which
//! three are wide, framed by `*` start and stop characters. The optional check character is the
//! sum of the characters' values modulo 43.

use crate::symbol::{BarcodeError, Pattern, Symbology};

/// The characters Code 39 encodes, in order of their check-character values.
pub const CHARACTERS: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%";

/// Wide/narrow patterns (bit set = wide; nine elements bar-space-...-bar, first element in the
/// most significant bit), in the order of [`CHARACTERS`].
const PATTERNS: [u16; 43] = [
    0x034, 0x121, 0x061, 0x160, 0x031, 0x130, 0x070, 0x025, 0x124, 0x064, // 0-9
    0x109, 0x049, 0x148, 0x019, 0x118, 0x058, 0x00D, 0x10C, 0x04C, 0x01C, // A-J
    0x103, 0x043, 0x142, 0x013, 0x112, 0x052, 0x007, 0x106, 0x046, 0x016, // K-T
    0x181, 0x0C1, 0x1C0, 0x091, 0x190, 0x0D0, 0x085, 0x184, 0x0C4, 0x0A8, // U-Z - . space $
    0x0A2, 0x08A, 0x02A, // / + %
];

/// `*`, the start and stop character; never data.
const START_STOP: u16 = 0x094;

/// The value of a character (its index in [`CHARACTERS`]), or `None` when Code 39 cannot encode it.
pub fn value(c: char) -> Option<usize> {
    CHARACTERS.find(c)
}

/// The modulo-43 check character of `data`, or the error for its first character Code 39
/// cannot encode.
pub fn check_character(data: &str) -> Result<char, BarcodeError> {
    let values = values(data, true)?;
    let sum: usize = values.iter().sum();
    // The index is below 43 and CHARACTERS is ASCII, so the byte is the character.
    Ok(char::from(CHARACTERS.as_bytes()[sum % 43]))
}

fn values(data: &str, check_character: bool) -> Result<Vec<usize>, BarcodeError> {
    if data.is_empty() {
        return Err(BarcodeError::Empty);
    }
    data.chars()
        .enumerate()
        .map(|(i, c)| {
            value(c).ok_or(BarcodeError::Unencodable {
                symbology: Symbology::Code39 { check_character },
                character: c,
                position: i + 1,
            })
        })
        .collect()
}

/// Encodes `data` between `*` start and stop characters, with the check character after the
/// data when `check_character` is set. Lower-case letters are refused rather than folded to
/// upper case: the scanner would then read back a different barcode from the one the catalog holds.
pub fn encode(data: &str, check_character: bool) -> Result<Pattern, BarcodeError> {
    let mut values = values(data, check_character)?;
    if check_character {
        let sum: usize = values.iter().sum();
        values.push(sum % 43);
    }
    let codes = std::iter::once(START_STOP).chain(values.into_iter().map(|v| PATTERNS[v])).chain([START_STOP]);
    Ok(Pattern::from_characters(codes, 9))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Reads a pattern back into characters: the tests' independent path from bars to text.
    fn decode(pattern: &Pattern) -> Option<String> {
        let nw = pattern.to_nw();
        let chars: Vec<&str> = nw.as_bytes().chunks(10).map(|c| std::str::from_utf8(&c[..9]).unwrap_or("")).collect();
        let star = "nwnnwnwnn";
        if chars.first() != Some(&star) || chars.last() != Some(&star) {
            return None;
        }
        let mut out = String::new();
        for code in &chars[1..chars.len() - 1] {
            let idx = PUBLISHED.iter().position(|(_, p)| p == code)?;
            out.push(PUBLISHED[idx].0);
        }
        Some(out)
    }

    /// The Code 39 table as published (ISO/IEC 16388 table 1; Wikipedia "Code 39"), written as
    /// narrow/wide elements bar first, independent of the bit table in the code.
    const PUBLISHED: [(char, &str); 43] = [
        ('0', "nnnwwnwnn"),
        ('1', "wnnwnnnnw"),
        ('2', "nnwwnnnnw"),
        ('3', "wnwwnnnnn"),
        ('4', "nnnwwnnnw"),
        ('5', "wnnwwnnnn"),
        ('6', "nnwwwnnnn"),
        ('7', "nnnwnnwnw"),
        ('8', "wnnwnnwnn"),
        ('9', "nnwwnnwnn"),
        ('A', "wnnnnwnnw"),
        ('B', "nnwnnwnnw"),
        ('C', "wnwnnwnnn"),
        ('D', "nnnnwwnnw"),
        ('E', "wnnnwwnnn"),
        ('F', "nnwnwwnnn"),
        ('G', "nnnnnwwnw"),
        ('H', "wnnnnwwnn"),
        ('I', "nnwnnwwnn"),
        ('J', "nnnnwwwnn"),
        ('K', "wnnnnnnww"),
        ('L', "nnwnnnnww"),
        ('M', "wnwnnnnwn"),
        ('N', "nnnnwnnww"),
        ('O', "wnnnwnnwn"),
        ('P', "nnwnwnnwn"),
        ('Q', "nnnnnnwww"),
        ('R', "wnnnnnwwn"),
        ('S', "nnwnnnwwn"),
        ('T', "nnnnwnwwn"),
        ('U', "wwnnnnnnw"),
        ('V', "nwwnnnnnw"),
        ('W', "wwwnnnnnn"),
        ('X', "nwnnwnnnw"),
        ('Y', "wwnnwnnnn"),
        ('Z', "nwwnwnnnn"),
        ('-', "nwnnnnwnw"),
        ('.', "wwnnnnwnn"),
        (' ', "nwwnnnwnn"),
        ('$', "nwnwnwnnn"),
        ('/', "nwnwnnnwn"),
        ('+', "nwnnnwnwn"),
        ('%', "nnnwnwnwn"),
    ];

    #[test]
    fn every_character_matches_the_published_table() {
        for (c, nw) in PUBLISHED {
            let pattern = encode(&c.to_string(), false).expect("encodable");
            let expected = format!("nwnnwnwnn n{nw}n nwnnwnwnn").replace(' ', "");
            assert_eq!(pattern.to_nw(), expected, "character {c:?}");
        }
    }

    #[test]
    fn every_character_has_three_wide_of_nine() {
        for p in PATTERNS.iter().chain([&START_STOP]) {
            assert_eq!(p.count_ones(), 3, "{p:#x}");
            assert!(*p < 1 << 9);
        }
    }

    #[test]
    fn check_characters_match_worked_examples() {
        // "CODE39": 12+24+13+14+3+9 = 75, 75 mod 43 = 32 -> W.
        assert_eq!(check_character("CODE39").expect("encodable"), 'W');
        // "WIKIPEDIA": 32+18+20+18+25+14+13+18+10 = 168, mod 43 = 39 -> '$'.
        assert_eq!(check_character("WIKIPEDIA").expect("encodable"), '$');
        assert_eq!(check_character("0").expect("encodable"), '0');
        assert_eq!(check_character("%").expect("encodable"), '%');
        assert_eq!(check_character("%1").expect("encodable"), '0');
    }

    #[test]
    fn check_character_is_appended_before_stop() {
        let with = encode("CODE39", true).expect("encodable");
        assert_eq!(decode(&with).expect("decodes"), "CODE39W");
        let without = encode("CODE39", false).expect("encodable");
        assert_eq!(decode(&without).expect("decodes"), "CODE39");
    }

    #[test]
    fn unencodable_characters_are_named_with_their_position() {
        let err = encode("AB*C", false).expect_err("refused");
        assert_eq!(
            err,
            BarcodeError::Unencodable {
                symbology: Symbology::Code39 { check_character: false },
                character: '*',
                position: 3
            }
        );
        assert_eq!(err.to_string(), "Code 39 cannot encode '*' (character 3)");
        assert!(matches!(encode("abc", false), Err(BarcodeError::Unencodable { character: 'a', position: 1, .. })));
        assert!(matches!(encode("12é", true), Err(BarcodeError::Unencodable { character: 'é', position: 3, .. })));
        assert_eq!(encode("", false), Err(BarcodeError::Empty));
        assert_eq!(check_character(""), Err(BarcodeError::Empty));
    }

    #[test]
    fn width_counts_gaps_and_ratio() {
        // One data character: three characters of 6 narrow + 3 wide, two gaps.
        let p = encode("A", false).expect("encodable");
        assert_eq!(p.width(1, 3), 3 * (6 + 9) + 2);
        assert_eq!(p.width(2, 5), 3 * (12 + 15) + 4);
        assert_eq!(p.bars(1, 3).len(), 15);
    }

    proptest! {
        #[test]
        fn any_encodable_text_round_trips(data in "[0-9A-Z. $/+%-]{1,30}", check in any::<bool>()) {
            let pattern = encode(&data, check).expect("encodable");
            let mut expected = data.clone();
            if check {
                expected.push(check_character(&data).expect("encodable"));
            }
            prop_assert_eq!(decode(&pattern), Some(expected));
            let chars = data.chars().count() + 2 + usize::from(check);
            prop_assert_eq!(pattern.elements().len(), chars * 10 - 1);
            prop_assert!(pattern.elements().first().is_some_and(|e| e.bar));
            prop_assert!(pattern.elements().last().is_some_and(|e| e.bar));
        }

        #[test]
        fn first_bad_character_is_reported(prefix in "[0-9A-Z]{0,10}", bad in "[a-z*#@!éß€]", rest in "\\PC{0,10}") {
            let data = format!("{prefix}{bad}{rest}");
            let position = prefix.chars().count() + 1;
            let character = bad.chars().next().expect("one character");
            let result = encode(&data, false);
            let reported = matches!(result, Err(BarcodeError::Unencodable { character: c, position: p, .. }) if c == character && p == position);
            prop_assert!(reported, "{:?}", result);
        }
    }
}
