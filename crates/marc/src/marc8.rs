//! MARC-8 to UTF-8 conversion. (Placeholder until the generated tables land: only ASCII is
//! decoded, everything else becomes U+FFFD with a problem reported.)

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

/// Decodes MARC-8 bytes (one field's or subfield's data) to NFC UTF-8. Never fails: bytes that
/// cannot be converted become U+FFFD and are reported in `problems`.
pub fn decode(input: &[u8]) -> Decoded {
    let mut out = Decoded::default();
    for (offset, &b) in input.iter().enumerate() {
        if b.is_ascii() {
            out.text.push(b as char);
        } else {
            out.text.push('\u{FFFD}');
            out.problems.push(Marc8Problem { offset, message: format!("byte 0x{b:02X} not converted") });
        }
    }
    out
}
