//! Finding where one BER-encoded PDU ends in a byte stream, without decoding it.
//!
//! Z39.50 over TCP sends PDUs back to back with no other framing, so the reader asks
//! [`frame`] after every read whether the buffer holds a whole PDU. Definite lengths are read
//! from the outer header; an indefinite length (which YAZ-based targets send for large
//! responses) is followed through the nested elements to its end-of-contents octets. The
//! framer only looks at bytes inside the buffer, and refuses a PDU longer than the caller's
//! limit as soon as its header (or, for indefinite lengths, the bytes seen so far) says so,
//! so a hostile length cannot make the client buffer without bound.

/// Why the bytes cannot be the start of a PDU the client will accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("PDU of {length} bytes or more is over the limit of {limit} bytes")]
    TooLarge { length: u64, limit: usize },
    #[error("malformed BER at byte {offset}: {reason}")]
    Malformed { offset: usize, reason: &'static str },
}

/// Class of a BER tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagClass {
    Universal,
    Application,
    Context,
    Private,
}

/// The identifier and length octets of one BER element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub class: TagClass,
    pub constructed: bool,
    pub tag: u32,
    /// Bytes taken by the identifier and length octets.
    pub header_len: usize,
    /// Content length; `None` for the indefinite form.
    pub length: Option<u64>,
}

/// Elements nested inside one indefinite-length PDU deeper than this are refused: Z39.50
/// responses nest a dozen levels at most, and the bound keeps the walk's state small.
const MAX_INDEFINITE_DEPTH: usize = 64;

/// Reads the header at `offset`; `Ok(None)` when the buffer ends inside it.
pub fn header(buf: &[u8], offset: usize) -> Result<Option<Header>, FrameError> {
    let malformed = |reason| FrameError::Malformed { offset, reason };
    let Some(&first) = buf.get(offset) else {
        return Ok(None);
    };
    let class = match first >> 6 {
        0 => TagClass::Universal,
        1 => TagClass::Application,
        2 => TagClass::Context,
        _ => TagClass::Private,
    };
    let constructed = first & 0x20 != 0;
    let mut pos = offset + 1;
    let mut tag = u32::from(first & 0x1f);
    if tag == 0x1f {
        tag = 0;
        let mut octets = 0;
        loop {
            let Some(&b) = buf.get(pos) else {
                return Ok(None);
            };
            pos += 1;
            octets += 1;
            if octets == 1 && b == 0x80 {
                return Err(malformed("tag number with a leading zero octet"));
            }
            if octets > 4 {
                return Err(malformed("tag number longer than four octets"));
            }
            tag = (tag << 7) | u32::from(b & 0x7f);
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    let Some(&first_length) = buf.get(pos) else {
        return Ok(None);
    };
    pos += 1;
    let length = match first_length {
        0x80 if constructed => None,
        0x80 => return Err(malformed("indefinite length on a primitive element")),
        0xff => return Err(malformed("reserved length octet 0xFF")),
        n if n < 0x80 => Some(u64::from(n)),
        n => {
            let count = usize::from(n & 0x7f);
            if count > 8 {
                return Err(malformed("length of more than eight octets"));
            }
            let Some(octets) = buf.get(pos..pos + count) else {
                return Ok(None);
            };
            pos += count;
            Some(octets.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
        }
    };
    Ok(Some(Header { class, constructed, tag, header_len: pos - offset, length }))
}

/// Whether `buf` starts with one complete BER element (a PDU) of at most `limit` bytes:
/// `Ok(Some(n))` when its first `n` bytes are one, `Ok(None)` when more bytes are needed.
/// Never looks past `buf` and never returns `n > buf.len()`.
pub fn frame(buf: &[u8], limit: usize) -> Result<Option<usize>, FrameError> {
    let too_large = |length: u64| FrameError::TooLarge { length, limit };
    let Some(outer) = header(buf, 0)? else {
        return Ok(None);
    };
    if let Some(length) = outer.length {
        let total = (outer.header_len as u64).saturating_add(length);
        if total > limit as u64 {
            return Err(too_large(total));
        }
        // total <= limit, a usize, so the conversion is lossless.
        let total = total as usize;
        return Ok((buf.len() >= total).then_some(total));
    }
    // Indefinite: walk the contents, entering nested indefinite elements and skipping
    // definite ones whole, until the end-of-contents octets of the outer element.
    let mut depth = 1usize;
    let mut pos = outer.header_len;
    loop {
        if pos > limit {
            return Err(too_large(pos as u64));
        }
        match (buf.get(pos), buf.get(pos + 1)) {
            (Some(0), Some(0)) => {
                pos += 2;
                depth -= 1;
                if depth == 0 {
                    return if pos > limit { Err(too_large(pos as u64)) } else { Ok(Some(pos)) };
                }
                continue;
            }
            (Some(0), Some(_)) => {
                return Err(FrameError::Malformed {
                    offset: pos,
                    reason: "end-of-contents octets with a non-zero length",
                })
            }
            (None, _) | (Some(0), None) => return Ok(None),
            _ => {}
        }
        let Some(inner) = header(buf, pos)? else {
            return Ok(None);
        };
        match inner.length {
            None => {
                depth += 1;
                if depth > MAX_INDEFINITE_DEPTH {
                    return Err(FrameError::Malformed {
                        offset: pos,
                        reason: "indefinite-length elements nested too deep",
                    });
                }
                pos += inner.header_len;
            }
            Some(length) => {
                let end = (pos as u64).saturating_add(inner.header_len as u64).saturating_add(length);
                if end > limit as u64 {
                    return Err(too_large(end));
                }
                pos = end as usize;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn check(bytes: &[u8], expected: Result<Option<usize>, FrameError>) {
        assert_eq!(frame(bytes, 1 << 20), expected, "{bytes:02x?}");
    }

    #[test]
    fn definite_lengths() {
        check(&[], Ok(None));
        check(&[0xb5], Ok(None));
        check(&[0xb5, 0x03, 0x83, 0x01], Ok(None));
        check(&[0xb5, 0x03, 0x83, 0x01, 0x00], Ok(Some(5)));
        check(&[0xb5, 0x03, 0x83, 0x01, 0x00, 0xb5], Ok(Some(5)));
        // Long form, and a two-octet tag (close is [48]).
        let mut long = vec![0xbf, 0x30, 0x81, 0x80];
        long.extend([0u8; 0x80]);
        check(&long[..100], Ok(None));
        check(&long, Ok(Some(132)));
    }

    #[test]
    fn indefinite_lengths_follow_nested_elements() {
        // [21] { [5] 1, [17] (indefinite) { 04 01 'x' } EOC } EOC
        let pdu = [0xb5, 0x80, 0x85, 0x01, 0x01, 0xb1, 0x80, 0x04, 0x01, b'x', 0, 0, 0, 0];
        for n in 0..pdu.len() {
            check(&pdu[..n], Ok(None));
        }
        check(&pdu, Ok(Some(pdu.len())));
        let mut more = pdu.to_vec();
        more.extend([0xb5, 0x00]);
        check(&more, Ok(Some(pdu.len())));
    }

    #[test]
    fn oversize_and_malformed_headers_are_refused() {
        assert_eq!(
            frame(&[0xb5, 0x84, 0x7f, 0xff, 0xff, 0xff], 1000),
            Err(FrameError::TooLarge { length: 0x7fff_ffff + 6, limit: 1000 })
        );
        assert!(matches!(frame(&[0x85, 0x80, 0, 0], 1000), Err(FrameError::Malformed { .. })));
        assert!(matches!(frame(&[0xb5, 0xff], 1000), Err(FrameError::Malformed { .. })));
        assert!(matches!(frame(&[0xb5, 0x80, 0x00, 0x05], 1000), Err(FrameError::Malformed { .. })));
        let mut deep = Vec::new();
        for _ in 0..100 {
            deep.extend([0xa1, 0x80]);
        }
        assert!(matches!(frame(&deep, 1000), Err(FrameError::Malformed { .. })));
        let mut endless = vec![0xb5, 0x80];
        endless.extend(std::iter::repeat_n([0x04, 0x02, 0x41, 0x41], 300).flatten());
        assert!(matches!(frame(&endless, 1000), Err(FrameError::TooLarge { .. })));
    }

    proptest::proptest! {
        #[test]
        fn never_over_reads(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512),
                            limit in 0usize..1024) {
            if let Ok(Some(n)) = frame(&bytes, limit) {
                proptest::prop_assert!(n <= bytes.len());
                proptest::prop_assert!(n <= limit);
                // A frame found in a prefix is the same frame in the whole buffer.
                proptest::prop_assert_eq!(frame(&bytes[..n], limit), Ok(Some(n)));
            }
        }
    }
}
