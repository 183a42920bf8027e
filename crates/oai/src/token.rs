//! Resumption tokens that survive a restart: nothing is kept on the server. A token carries the
//! whole list request (verb, metadata format, set, from, until), the position reached (the last
//! record's datestamp and id: lists run in datestamp, id order), the cursor and the complete
//! list size counted on the first page, followed by an HMAC-SHA256 of all that under the
//! repository's key. A token that was edited, cut short or made with another key is refused as
//! `badResumptionToken` instead of being read as some other request.
//!
//! The text is `<payload as hex>.<first 16 bytes of the MAC as hex>`: URL-safe, and opaque to
//! harvesters, who must not build tokens themselves.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// Which list a token continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListVerb {
    ListRecords,
    ListIdentifiers,
}

impl ListVerb {
    pub fn as_str(self) -> &'static str {
        match self {
            ListVerb::ListRecords => "ListRecords",
            ListVerb::ListIdentifiers => "ListIdentifiers",
        }
    }
}

/// Where in the list the next page starts: after this datestamp and record id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub datestamp: DateTime<Utc>,
    pub id: i64,
}

/// Everything a resumption token stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resumption {
    pub verb: ListVerb,
    pub metadata_prefix: String,
    /// The set as the harvester wrote it.
    pub set: Option<String>,
    /// Inclusive lower bound.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive upper bound (the end of the `until` day or second).
    pub before: Option<DateTime<Utc>>,
    pub after: Position,
    /// How many records the earlier pages held.
    pub cursor: u64,
    /// The complete list size, counted when the list started.
    pub complete_list_size: u64,
}

const VERSION: &str = "1";
const MAC_BYTES: usize = 16;

impl Resumption {
    pub fn encode(&self, key: &[u8]) -> String {
        let micros = |t: Option<DateTime<Utc>>| t.map(|t| t.timestamp_micros().to_string()).unwrap_or_default();
        let verb = match self.verb {
            ListVerb::ListRecords => "R",
            ListVerb::ListIdentifiers => "I",
        };
        let payload = [
            VERSION.to_string(),
            verb.to_string(),
            self.metadata_prefix.clone(),
            self.set.clone().unwrap_or_default(),
            micros(self.from),
            micros(self.before),
            self.after.datestamp.timestamp_micros().to_string(),
            self.after.id.to_string(),
            self.cursor.to_string(),
            self.complete_list_size.to_string(),
        ]
        .join("|");
        let mac = hmac_sha256(key, payload.as_bytes());
        format!("{}.{}", hex(payload.as_bytes()), hex(&mac[..MAC_BYTES]))
    }

    /// The request a token stands for, or `None` when it is not a token this key made.
    pub fn decode(token: &str, key: &[u8]) -> Option<Resumption> {
        let (payload_hex, mac_hex) = token.split_once('.')?;
        let payload = unhex(payload_hex)?;
        let mac = unhex(mac_hex)?;
        let expected = hmac_sha256(key, &payload);
        // Compared in full whatever differs first: the time taken says nothing about the key.
        if mac.len() != MAC_BYTES || mac.iter().zip(&expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) != 0 {
            return None;
        }
        let payload = String::from_utf8(payload).ok()?;
        let fields: Vec<&str> = payload.split('|').collect();
        let [version, verb, prefix, set, from, before, after_at, after_id, cursor, size] = fields.as_slice() else {
            return None;
        };
        if *version != VERSION {
            return None;
        }
        let time = |s: &str| -> Option<Option<DateTime<Utc>>> {
            if s.is_empty() {
                Some(None)
            } else {
                DateTime::from_timestamp_micros(s.parse().ok()?).map(Some)
            }
        };
        Some(Resumption {
            verb: match *verb {
                "R" => ListVerb::ListRecords,
                "I" => ListVerb::ListIdentifiers,
                _ => return None,
            },
            metadata_prefix: (*prefix).to_string(),
            set: (!set.is_empty()).then(|| (*set).to_string()),
            from: time(from)?,
            before: time(before)?,
            after: Position { datestamp: time(after_at)??, id: after_id.parse().ok()? },
            cursor: cursor.parse().ok()?,
            complete_list_size: size.parse().ok()?,
        })
    }
}

/// HMAC-SHA256 (RFC 2104).
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > block.len() {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> Resumption {
        Resumption {
            verb: ListVerb::ListRecords,
            metadata_prefix: "oai_dc".into(),
            set: Some("branch:MAIN".into()),
            from: DateTime::from_timestamp(1_700_000_000, 0),
            before: None,
            after: Position { datestamp: DateTime::from_timestamp_micros(1_700_000_123_456_789).unwrap(), id: 77 },
            cursor: 100,
            complete_list_size: 1234,
        }
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2.
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block.
        assert_eq!(
            hex(&hmac_sha256(&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn round_trip() {
        let token = sample().encode(b"key");
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit() || b == b'.'));
        assert_eq!(Resumption::decode(&token, b"key"), Some(sample()));
    }

    #[test]
    fn refused_tokens() {
        let token = sample().encode(b"key");
        assert_eq!(Resumption::decode(&token, b"another key"), None);
        assert_eq!(Resumption::decode(&token[..token.len() - 2], b"key"), None);
        assert_eq!(Resumption::decode("", b"key"), None);
        assert_eq!(Resumption::decode(".", b"key"), None);
        assert_eq!(Resumption::decode("garbage", b"key"), None);
        // A well-formed payload with a correct MAC but an unknown version or verb.
        let forged = |payload: &str| {
            format!("{}.{}", hex(payload.as_bytes()), hex(&hmac_sha256(b"key", payload.as_bytes())[..16]))
        };
        assert!(Resumption::decode(&forged("1|R|oai_dc||||5|1|0|1"), b"key").is_some());
        assert_eq!(Resumption::decode(&forged("2|R|oai_dc||||5|1|0|1"), b"key"), None);
        assert_eq!(Resumption::decode(&forged("1|X|oai_dc||||5|1|0|1"), b"key"), None);
        assert_eq!(Resumption::decode(&forged("1|R|oai_dc||||5|1|0"), b"key"), None);
        assert_eq!(Resumption::decode(&forged("1|R|oai_dc|||||1|0|1"), b"key"), None);
    }

    proptest! {
        #[test]
        fn any_single_character_change_is_refused(at in 0usize..200, replacement in "[0-9a-f.]") {
            let token = sample().encode(b"key");
            let at = at % token.len();
            let mut edited: Vec<char> = token.chars().collect();
            let new = replacement.chars().next().unwrap();
            prop_assume!(edited[at] != new);
            edited[at] = new;
            let edited: String = edited.into_iter().collect();
            prop_assert_eq!(Resumption::decode(&edited, b"key"), None);
        }

        #[test]
        fn tokens_round_trip(
            prefix in "[a-z_0-9]{1,10}",
            set in proptest::option::of("[a-z:A-Z0-9~]{1,20}"),
            from in proptest::option::of(0i64..4_000_000_000_000_000),
            at in 0i64..4_000_000_000_000_000,
            id in 1i64..i64::MAX,
            cursor in 0u64..u64::MAX,
        ) {
            let r = Resumption {
                verb: ListVerb::ListIdentifiers,
                metadata_prefix: prefix,
                set,
                from: from.and_then(DateTime::from_timestamp_micros),
                before: None,
                after: Position { datestamp: DateTime::from_timestamp_micros(at).unwrap(), id },
                cursor,
                complete_list_size: cursor,
            };
            prop_assert_eq!(Resumption::decode(&r.encode(b"k"), b"k"), Some(r));
        }

        #[test]
        fn decoding_never_panics(s in "\\PC{0,80}") {
            let _ = Resumption::decode(&s, b"k");
        }
    }
}
