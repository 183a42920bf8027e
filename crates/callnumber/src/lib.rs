//! Call numbers: Dewey, Library of Congress and local schemes parsed, put in shelf order,
//! keyed as bytes, and broken into spine-label lines. Pure: no I/O, and no input makes it fail.
//!
//! ```
//! use callnumber::{CallNumber, Scheme};
//!
//! let a = CallNumber::parse("QA76.73.R87 K53 2018", Scheme::Auto);
//! let b = CallNumber::parse("QA76.73.R9 A1 1999", Scheme::Auto);
//! assert!(a < b); // cutters are decimals: .R87 before .R9
//! assert!(a.sort_key() < b.sort_key()); // and the key agrees, byte by byte
//! assert_eq!(a.spine_label(), ["QA", "76.73", ".R87", "K53", "2018"]);
//!
//! let sorted = callnumber::sort_lines("J 599.75 SMI\n813.54 KIN\nFIC KING\n", Scheme::Auto);
//! assert_eq!(sorted, ["813.54 KIN", "FIC KING", "J 599.75 SMI"]);
//! ```
//!
//! # What a call number is made of
//! Zero or more collection prefixes from a fixed list ([`Prefix`]: `J`, `REF`, `FIC`, `DVD`,
//! ...), then a body: a Dewey number (`813.54 KIN 2001 v.2 c.3`), an LC call number
//! (`QA76.73.R87 K53 2018`), a local call number of words and numbers (`FIC KING`,
//! `CD JAZZ ELL`: prefixes `FIC`, `CD` and the words after them), or text that could not be
//! parsed, which is kept, flagged with [`Warning::Unparsed`], and shelved after the parsed
//! call numbers of its prefixes.
//!
//! # Schemes
//! - [`Scheme::Lc`]: LC, also after prefixes (`REF QA76.73 .R87`); prefixes and words
//!   (`FIC KING`) are local; anything else is unparsed.
//! - [`Scheme::Dewey`]: Dewey after any prefixes; prefixes and words are local; anything else
//!   is unparsed.
//! - [`Scheme::Auto`] guesses: class letters glued to digits (`QA76`, `E184.5`) are LC; after
//!   any prefixes, three digits are Dewey (`J 599.75 SMI`); letters, a space, digits and a
//!   cutter with digits are LC (`DG 581 .M67`); text starting with a word is local
//!   (`Microfilm 9468 DT`); anything else is unparsed.
//!
//! # Shelf order
//! 1. Prefixes, one by one in the order of [`Prefix::ALL`]; no prefix first. So `813.54 KIN`
//!    < `FIC KING` < `B LINCOLN` < `E SMI` < `J 599.75 SMI` < `J FIC SMI` < `YA FIC` <
//!    `REF 030 WOR` < `CD JAZZ ELL` < `DVD 791.43 STA`.
//! 2. With the same prefixes: the prefixes alone (`[Fic]`), then Dewey, then LC, then local,
//!    then unparsed.
//! 3. Dewey: the class number as a decimal (`599.7` < `599.75` < `600`, marks ignored), then
//!    the parts after it. LC: class letters alphabetically (`Q` < `QA` < `QB`), the class
//!    number numerically with its decimals (`QA9` < `QA76` < `QA76.73` < `QA76.8`), then the
//!    parts after it. Local and unparsed: the parts.
//! 4. Parts, one by one, a missing part first ("nothing before something": `K53` < `K53 2018`),
//!    numbers before words before cutters: numbers numerically, then any letters glued to
//!    them (`1899` < `1899c` < `1900`, `9th` < `10th`); words alphabetically, with the volume,
//!    number, part and copy designators folded to one spelling each (`v. 3` < `vol. 10`);
//!    cutters by their letters, then their digits as a decimal fraction (`.R87` < `.R9`), then
//!    a work mark (`K58` < `K58a` < `K581`). So a date in the class-number position comes
//!    before the cutters (`G850 1914 .S53` < `G850 .A1`), and all the dates and volumes of a
//!    work come before a further cutter, which is another work (`A1 1999` < `A1 v.2` <
//!    `A1 B2`).
//! 5. Last, the text as written, byte by byte: the order is total and repeatable.
//!
//! [`CallNumber::sort_key`] turns this order into bytes (see `shelf_order.rs` for the layout);
//! keys compare with `memcmp`, as SQLite BLOB and PostgreSQL BYTEA `ORDER BY` do.

mod dewey;
mod element;
mod lc;
mod prefix;
mod shelf_order;
mod spine_label;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

pub use prefix::Prefix;

/// Version of the sort-key layout and ordering rules. Keys stored by another version must be
/// rebuilt; the golden list in `tests/` pins this version's keys.
pub const SORT_KEY_VERSION: u32 = 1;

/// Which classification to read call numbers as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Scheme {
    /// Guess from the text (see the crate documentation).
    #[default]
    Auto,
    /// Library of Congress.
    Lc,
    /// Dewey Decimal.
    Dewey,
}

/// A scheme name other than `auto`, `lc` or `dewey`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown call-number scheme {0:?}: expected auto, lc or dewey")]
pub struct UnknownScheme(pub String);

impl FromStr for Scheme {
    type Err = UnknownScheme;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Scheme::Auto),
            "lc" | "lcc" => Ok(Scheme::Lc),
            "dewey" | "ddc" => Ok(Scheme::Dewey),
            _ => Err(UnknownScheme(s.to_owned())),
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scheme::Auto => "auto",
            Scheme::Lc => "lc",
            Scheme::Dewey => "dewey",
        })
    }
}

/// What the body of a call number turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Library of Congress.
    Lc,
    /// Dewey Decimal.
    Dewey,
    /// Words and numbers after a prefix (`FIC KING`), or a prefix alone (`[Fic]`).
    Local,
    /// Not a call number of the scheme; kept as written and shelved after the parsed ones.
    Unparsed,
}

/// Something odd about a call number. Only [`Warning::Unparsed`] and [`Warning::Empty`] mean
/// it could not be parsed; the others say what was fixed or ignored.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Warning {
    /// Not a call number of the chosen scheme: kept as written, shelved after the parsed ones.
    Unparsed,
    /// Nothing but spaces.
    Empty,
    /// Several `|`-separated alternatives: only the first is used.
    AlternativesIgnored,
    /// Surrounding brackets removed (`[Fic]`).
    Brackets,
    /// A zero before the class letters ignored (`0TR706`).
    LeadingZero,
    /// Class letters in lower case (`Hf5521`).
    LowercaseClass,
    /// A space inside the class number (`QA76 .73`).
    SpaceInClassNumber,
    /// Letters glued to a Dewey number read as its book mark (`821.3ZA`).
    CutterAttached,
    /// Characters that have no place in a call number (`+`, `(`, `<`), ignored for ordering.
    UnexpectedCharacters,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Warning::Unparsed => "not a call number of this scheme; shelved after the parsed ones",
            Warning::Empty => "empty call number",
            Warning::AlternativesIgnored => "several alternatives given; only the first is used",
            Warning::Brackets => "brackets around the call number removed",
            Warning::LeadingZero => "zero before the class letters ignored",
            Warning::LowercaseClass => "class letters in lower case",
            Warning::SpaceInClassNumber => "space inside the class number",
            Warning::CutterAttached => "book mark glued to the class number",
            Warning::UnexpectedCharacters => "unexpected characters ignored for ordering",
        })
    }
}

/// A collection prefix and where it was written.
#[derive(Debug, Clone)]
struct PrefixAt {
    prefix: Prefix,
    start: usize,
    end: usize,
}

/// What follows the prefixes; `start` is where it begins in the original text.
#[derive(Debug, Clone)]
enum Body {
    Empty,
    Dewey { dewey: dewey::Dewey, start: usize },
    Lc { lc: lc::Lc, start: usize },
    Local { elements: Vec<element::Element>, start: usize },
    Unparsed { elements: Vec<element::Element>, start: usize },
}

/// A call number: the text as written, and what was read from it.
///
/// Built only by [`CallNumber::parse`], which never fails. Ordered by shelf order
/// ([`Ord`]); two call numbers are equal only when their text is the same.
#[derive(Debug, Clone)]
pub struct CallNumber {
    original: String,
    /// End of the part that was read (alternatives after `|` and a closing bracket excluded).
    end: usize,
    prefixes: Vec<PrefixAt>,
    body: Body,
    warnings: Vec<Warning>,
}

/// Shorthand for [`CallNumber::parse`].
pub fn parse(text: &str, scheme: Scheme) -> CallNumber {
    CallNumber::parse(text, scheme)
}

fn skip_spaces(text: &str, from: usize, end: usize) -> usize {
    from + text[from..end].len() - text[from..end].trim_start().len()
}

/// The whitespace-delimited token at `from` (after any spaces), as a byte range.
fn token_at(text: &str, from: usize, end: usize) -> Option<(usize, usize)> {
    let start = skip_spaces(text, from, end);
    let len = text[start..end].find(char::is_whitespace).unwrap_or(end - start);
    (len > 0).then_some((start, start + len))
}

/// The part of `text` to read: trimmed, the first of `|` alternatives, brackets removed.
fn region(text: &str, warnings: &mut Vec<Warning>) -> (usize, usize) {
    let trimmed = |from: usize, to: usize| {
        let s = &text[from..to];
        let start = from + s.len() - s.trim_start().len();
        (start, start + s.trim().len())
    };
    let (mut start, mut end) = trimmed(0, text.len());
    if text[start..end].contains('|') {
        let mut segments = Vec::new();
        let mut from = start;
        for piece in text[start..end].split('|') {
            let seg = trimmed(from, from + piece.len());
            if seg.0 < seg.1 {
                segments.push(seg);
            }
            from += piece.len() + 1;
        }
        if let Some(&first) = segments.first() {
            (start, end) = first;
        } else {
            end = start;
        }
        if segments.len() > 1 {
            warnings.push(Warning::AlternativesIgnored);
        }
    }
    let s = &text[start..end];
    if s.len() >= 2 && s.starts_with('[') && s.ends_with(']') {
        (start, end) = trimmed(start + 1, end - 1);
        warnings.push(Warning::Brackets);
    }
    (start, end)
}

/// Whether text starts with a word, as a local call number does (`JAZZ ELL`, `KING`).
fn starts_with_word(text: &str) -> bool {
    let first = text.split_whitespace().next().unwrap_or("");
    let first = first.strip_suffix('.').unwrap_or(first);
    !first.is_empty() && first.chars().all(char::is_alphabetic)
}

impl CallNumber {
    /// Reads a call number. Never fails: text that is not a call number of `scheme` comes
    /// back flagged ([`Kind::Unparsed`], [`Warning::Unparsed`]) and still sorts.
    pub fn parse(text: &str, scheme: Scheme) -> CallNumber {
        let mut warnings = Vec::new();
        let (start, end) = region(text, &mut warnings);
        let mut prefixes = Vec::new();
        let mut pos = start;
        let mut body = None;
        loop {
            pos = skip_spaces(text, pos, end);
            let rest = &text[pos..end];
            if rest.is_empty() {
                break;
            }
            body = match scheme {
                Scheme::Lc => lc::parse(rest, &mut warnings).map(|lc| Body::Lc { lc, start: pos }),
                Scheme::Auto if lc::glued(rest) => lc::parse(rest, &mut warnings).map(|lc| Body::Lc { lc, start: pos }),
                _ => None,
            };
            if body.is_some() {
                break;
            }
            let Some((t0, t1)) = token_at(text, pos, end) else {
                break;
            };
            let Some(prefix) = Prefix::from_token(&text[t0..t1]) else {
                break;
            };
            prefixes.push(PrefixAt { prefix, start: t0, end: t1 });
            pos = t1;
        }
        let rest = &text[pos..end];
        let body = body.unwrap_or_else(|| {
            if rest.is_empty() {
                if prefixes.is_empty() {
                    warnings.push(Warning::Empty);
                    return Body::Unparsed { elements: Vec::new(), start: pos };
                }
                return Body::Empty;
            }
            if scheme != Scheme::Lc {
                if let Some(dewey) = dewey::parse(rest, &mut warnings) {
                    return Body::Dewey { dewey, start: pos };
                }
            }
            if scheme == Scheme::Auto {
                let mut tentative = Vec::new();
                if let Some(lc) = lc::parse(rest, &mut tentative).filter(lc::spaced) {
                    warnings.extend(tentative);
                    return Body::Lc { lc, start: pos };
                }
            }
            let elements = element::elements(rest, element::Flavour::Loose);
            if (scheme == Scheme::Auto || !prefixes.is_empty()) && starts_with_word(rest) {
                return Body::Local { elements, start: pos };
            }
            warnings.push(Warning::Unparsed);
            Body::Unparsed { elements, start: pos }
        });
        CallNumber { original: text.to_owned(), end, prefixes, body, warnings }
    }

    /// The text as given to [`CallNumber::parse`].
    pub fn original(&self) -> &str {
        &self.original
    }

    /// What the body turned out to be.
    pub fn kind(&self) -> Kind {
        match self.body {
            Body::Lc { .. } => Kind::Lc,
            Body::Dewey { .. } => Kind::Dewey,
            Body::Empty | Body::Local { .. } => Kind::Local,
            Body::Unparsed { .. } => Kind::Unparsed,
        }
    }

    /// Whether the text was understood (anything but [`Kind::Unparsed`]).
    pub fn is_parsed(&self) -> bool {
        self.kind() != Kind::Unparsed
    }

    /// What was odd about the text, fixed or not.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The collection prefixes, in the order written.
    pub fn prefixes(&self) -> impl Iterator<Item = Prefix> + '_ {
        self.prefixes.iter().map(|p| p.prefix)
    }

    /// Bytes whose `memcmp` order is the shelf order ([`Ord`] on `CallNumber`), stable for
    /// [`SORT_KEY_VERSION`]. Ends with the text as written, after a `0x00`.
    pub fn sort_key(&self) -> Vec<u8> {
        shelf_order::sort_key(self)
    }

    /// The sort key without the text as written: this shelf position alone. The sort key of
    /// every call number at this position is this, `0x00`, its text. For a shelf list from `a`
    /// up to and including `b`: `a.shelf_key() <= key < b.range_end_key()`.
    pub fn shelf_key(&self) -> Vec<u8> {
        let mut key = self.sort_key();
        key.truncate(key.len() - self.original.len() - 1);
        key
    }

    /// A key just after every call number that begins like this one, part by part and digit
    /// by digit: `QA76` ends after `QA76.73.R87 K53 2018` and before `QA77`; `813.5` after
    /// `813.54 KIN` and before `813.6`; `FIC` after `FIC KINGSOLVER` and before `MYS`.
    pub fn range_end_key(&self) -> Vec<u8> {
        let mut key = self.shelf_key();
        while key.last() == Some(&shelf_order::END) {
            key.pop();
        }
        if matches!(self.body, Body::Empty) {
            key.pop();
        }
        key.push(0xFF);
        key
    }

    /// The lines of a spine label: `QA76.73.R87 K53 2018` -> `QA`, `76.73`, `.R87`, `K53`,
    /// `2018`; `J 599.75 SMI` -> `J`, `599.75`, `SMI`.
    pub fn spine_label(&self) -> Vec<String> {
        spine_label::lines(self)
    }
}

impl fmt::Display for CallNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Parses each non-blank line (trimmed) and returns them in shelf order.
pub fn shelf_order(input: &str, scheme: Scheme) -> Vec<CallNumber> {
    let mut call_numbers: Vec<CallNumber> = input
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| CallNumber::parse(line, scheme))
        .collect();
    call_numbers.sort();
    call_numbers
}

/// The non-blank lines of `input` (trimmed), in shelf order: what
/// `shelfmark callnumber sort` prints.
pub fn sort_lines(input: &str, scheme: Scheme) -> Vec<String> {
    shelf_order(input, scheme).into_iter().map(|c| c.original).collect()
}

/// For each non-blank line of `input`, in shelf order, its spine-label lines joined by
/// `" / "` (`QA / 76.73 / .R87 / K53 / 2018`): what `shelfmark callnumber sort --labels`
/// prints.
pub fn label_lines(input: &str, scheme: Scheme) -> Vec<String> {
    shelf_order(input, scheme).iter().map(|c| c.spine_label().join(" / ")).collect()
}
