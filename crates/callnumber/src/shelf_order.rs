//! Shelf order: the comparison of two call numbers, and the sort key whose byte order is the
//! same.
//!
//! # Order
//! 1. Prefixes, one by one in the fixed order of [`Prefix::ALL`](crate::Prefix::ALL); no
//!    prefix first (`813.54 KIN` < `FIC KING` < `J 599.75 SMI` < `J FIC SMI` < `REF 030 WOR`).
//! 2. Within the same prefixes: a prefix alone, then Dewey, then LC, then local call
//!    numbers (words and numbers), then whatever could not be parsed.
//! 3. Dewey: the class number as a decimal (`599.7` < `599.75` < `600`), then the book mark and
//!    the rest part by part (see [`crate::element`]).
//!    LC: class letters alphabetically (`Q` < `QA` < `QB`), the class number as a decimal
//!    number (`QA9` < `QA76` < `QA76.73` < `QA76.8`), then cutters as decimals (`.R87` <
//!    `.R9`), dates and volumes part by part, numbers before words before cutters: a date or
//!    number standing before the cutters (`G850 1914 .S53`) comes before any cutter, and the
//!    volumes of a work before a further cutter (`A1 v.2` < `A1 B2`).
//!    Local and unparsed: words alphabetically and numbers numerically, part by part.
//! 4. Last, the text as written, byte by byte, so that the order is total and repeatable.
//!
//! # Sort key layout (version [`crate::SORT_KEY_VERSION`])
//! One byte `0x10 + rank` per prefix; one byte for the kind of body (`0x02` prefix alone,
//! `0x03` Dewey, `0x04` LC, `0x05` local, `0x06` unparsed); the body; `0x00`; the text as
//! written (UTF-8). No body byte is `0x00` or `0xFF`. Inside a body `0x01` ends every string and the run of parts, and each part
//! starts with a tag: `0x02` number (`0x02` + number of digits, digits, suffix, `0x01`), `0x03` word
//! (letters `0x01`), `0x04` cutter (letters `0x01` digits `0x01` work mark `0x01`). Dewey body:
//! three digits, decimals, `0x01`, parts. LC body: class letters, `0x01`, `0x02` + length and
//! digits of the whole number, decimals, `0x01`, parts. Local and unparsed body: parts.
//! Letters are upper case; no byte of a string is below `0x02`, so a shorter string or run
//! always sorts first, and the only `0x00` is the one before the text as written.

use std::cmp::Ordering;

use crate::element::Element;
use crate::{Body, CallNumber};

const SEPARATOR: u8 = 0x00;
pub(crate) const END: u8 = 0x01;
const TAG_NUMBER: u8 = 0x02;
const TAG_WORD: u8 = 0x03;
const TAG_CUTTER: u8 = 0x04;
const KIND_EMPTY: u8 = 0x02;
const KIND_DEWEY: u8 = 0x03;
const KIND_LC: u8 = 0x04;
const KIND_LOCAL: u8 = 0x05;
const KIND_UNPARSED: u8 = 0x06;
const PREFIX_BASE: u8 = 0x10;
const LEN_BASE: u8 = 0x02;

impl Body {
    fn rank(&self) -> u8 {
        match self {
            Body::Empty => KIND_EMPTY,
            Body::Dewey { .. } => KIND_DEWEY,
            Body::Lc { .. } => KIND_LC,
            Body::Local { .. } => KIND_LOCAL,
            Body::Unparsed { .. } => KIND_UNPARSED,
        }
    }

    fn shelf_cmp(&self, other: &Body) -> Ordering {
        match (self, other) {
            (Body::Dewey { dewey: a, .. }, Body::Dewey { dewey: b, .. }) => {
                a.whole.cmp(&b.whole).then_with(|| a.decimal.cmp(&b.decimal)).then_with(|| a.elements.cmp(&b.elements))
            }
            (Body::Lc { lc: a, .. }, Body::Lc { lc: b, .. }) => a
                .class
                .cmp(&b.class)
                .then_with(|| a.whole.len().cmp(&b.whole.len()))
                .then_with(|| a.whole.cmp(&b.whole))
                .then_with(|| a.decimal.cmp(&b.decimal))
                .then_with(|| a.elements.cmp(&b.elements)),
            (Body::Local { elements: a, .. }, Body::Local { elements: b, .. })
            | (Body::Unparsed { elements: a, .. }, Body::Unparsed { elements: b, .. }) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl Ord for CallNumber {
    fn cmp(&self, other: &Self) -> Ordering {
        self.prefixes
            .iter()
            .map(|p| p.prefix)
            .cmp(other.prefixes.iter().map(|p| p.prefix))
            .then_with(|| self.body.shelf_cmp(&other.body))
            .then_with(|| self.original.cmp(&other.original))
    }
}

impl PartialOrd for CallNumber {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Equal means the same place on the shelf and the same text.
impl PartialEq for CallNumber {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for CallNumber {}

/// A number's length as one byte, `0x02 + length`, so that no byte of a body is `0x00`.
fn push_len(key: &mut Vec<u8>, text: &str) {
    // Lengths are bounded by the parsers (four digits, 64 digits); saturate all the same.
    key.push(u8::try_from(text.len()).map_or(u8::MAX, |n| n.saturating_add(LEN_BASE)));
}

fn push_elements(key: &mut Vec<u8>, elements: &[Element]) {
    for element in elements {
        match element {
            Element::Number(n) => {
                key.push(TAG_NUMBER);
                push_len(key, &n.digits);
                key.extend_from_slice(n.digits.as_bytes());
                key.extend_from_slice(n.suffix.as_bytes());
                key.push(END);
            }
            Element::Cutter(c) => {
                key.push(TAG_CUTTER);
                key.extend_from_slice(c.letters.as_bytes());
                key.push(END);
                key.extend_from_slice(c.digits.as_bytes());
                key.push(END);
                key.extend_from_slice(c.work.as_bytes());
                key.push(END);
            }
            Element::Word(w) => {
                key.push(TAG_WORD);
                key.extend_from_slice(w.as_bytes());
                key.push(END);
            }
        }
    }
    key.push(END);
}

pub(crate) fn sort_key(call_number: &CallNumber) -> Vec<u8> {
    let mut key = Vec::with_capacity(48 + call_number.original.len());
    for p in &call_number.prefixes {
        key.push(PREFIX_BASE + p.prefix.rank());
    }
    key.push(call_number.body.rank());
    match &call_number.body {
        Body::Empty => {}
        Body::Dewey { dewey, .. } => {
            key.extend_from_slice(dewey.whole.as_bytes());
            key.extend_from_slice(dewey.decimal.as_bytes());
            key.push(END);
            push_elements(&mut key, &dewey.elements);
        }
        Body::Lc { lc, .. } => {
            key.extend_from_slice(lc.class.as_bytes());
            key.push(END);
            push_len(&mut key, &lc.whole);
            key.extend_from_slice(lc.whole.as_bytes());
            key.extend_from_slice(lc.decimal.as_bytes());
            key.push(END);
            push_elements(&mut key, &lc.elements);
        }
        Body::Local { elements, .. } | Body::Unparsed { elements, .. } => {
            push_elements(&mut key, elements);
        }
    }
    key.push(SEPARATOR);
    key.extend_from_slice(call_number.original.as_bytes());
    key
}
