//! What the readers and writers report: the [`Problem`]s found in dirty input (warnings on a
//! record that was still read, or the reason a record was rejected), the located wrappers
//! [`ReadRecord`] and [`RecordError`] that every reader yields, reader options, and
//! [`WriteError`].
//!
//! A reader never panics and never stops at the first bad record: each item it yields is either
//! a [`ReadRecord`] (possibly with warnings) or a [`RecordError`] carrying the record number,
//! the byte offset and the original bytes, so that an importer can write rejects to a file and
//! tell the cataloger why.

use std::fmt;

use crate::record::Record;

/// How the ISO 2709 reader decides the character coding of a record's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// Trust leader/09 (`a` = UTF-8, blank = MARC-8) unless the bytes clearly say otherwise;
    /// when they do, the record is read the way the bytes say and a
    /// [`Problem::CodingMismatch`] warning is attached.
    #[default]
    Auto,
    /// Always UTF-8 (invalid sequences become U+FFFD with a warning).
    Utf8,
    /// Always MARC-8.
    Marc8,
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Encoding::Auto => "auto",
            Encoding::Utf8 => "UTF-8",
            Encoding::Marc8 => "MARC-8",
        })
    }
}

/// Options for the readers. `ReadOptions::default()` is what an importer wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadOptions {
    /// Character coding of ISO 2709 data (MARCXML is always Unicode and ignores this).
    pub encoding: Encoding,
}

/// One record read from a file: where it was, its original bytes, the parsed record and the
/// non-fatal problems found in it.
///
/// `ReadRecord::default()` is an empty one for [`crate::Iso2709Reader::read_into`] to fill.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReadRecord {
    /// 1-based position of the record in the file (rejected records are counted too).
    pub number: usize,
    /// Byte offset in the file where the record starts.
    pub offset: u64,
    /// The record exactly as it was in the file (ISO 2709 bytes, or the `<record>` element).
    pub raw: Vec<u8>,
    /// The record, text in NFC UTF-8 and leader/09 set to `a`.
    pub record: Record,
    /// What was wrong but could be repaired or worked around.
    pub warnings: Vec<Problem>,
}

/// A record that could not be read. `raw` holds the original bytes for a reject file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record {number} at byte {offset}: {problem}")]
pub struct RecordError {
    /// 1-based position of the record in the file.
    pub number: usize,
    /// Byte offset in the file where the record starts.
    pub offset: u64,
    /// The bytes that were taken to be this record (capped for runaway input).
    pub raw: Vec<u8>,
    /// Why the record was rejected.
    pub problem: Problem,
    /// True when the reader cannot go on after this (I/O error, XML it cannot resynchronise
    /// after); the iterator then ends.
    pub fatal: bool,
}

/// A problem found in a record. As a warning it sits in [`ReadRecord::warnings`]; as the reason
/// for a rejection it sits in [`RecordError::problem`]. The `Display` text is written for a
/// cataloger reading an import report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    // ----- framing (ISO 2709) -----
    #[error("only {len} bytes, too short for a leader (24 bytes) and a directory")]
    TooShort { len: usize },
    #[error("not a MARC record: leader {leader:?} has neither a numeric record length nor a numeric base address")]
    NotARecord { leader: String },
    #[error("leader record length {found:?} is not a number; the record terminator was used")]
    RecordLengthNotNumeric { found: String },
    #[error("leader says the record is {leader} bytes but it is {actual} bytes up to its record terminator; the terminator wins")]
    RecordLengthMismatch { leader: usize, actual: usize },
    #[error("record has no record terminator (0x1D); the leader record length was used to find its end")]
    MissingRecordTerminator,
    #[error("file ends inside the record: leader says {leader} bytes but only {available} are left")]
    Truncated { leader: usize, available: usize },
    #[error("{len} bytes of data at the end of the file that are not a MARC record")]
    TrailingGarbage { len: usize },
    #[error("no record terminator within {limit} bytes; skipped {skipped} bytes up to the next one")]
    Runaway { limit: usize, skipped: u64 },

    // ----- leader -----
    #[error("leader contains characters that are not printable ASCII; they were replaced by blanks")]
    LeaderCharacters,
    #[error("leader is {len} characters long instead of 24; it was padded or cut")]
    LeaderLength { len: usize },
    #[error("leader/{position} is {found:?}, expected {expected:?}; read as {expected:?}")]
    LeaderStructure { position: &'static str, found: String, expected: &'static str },

    // ----- directory -----
    #[error(
        "base address of data {found:?} does not match the directory, which ends at byte {actual}; the directory wins"
    )]
    BaseAddress { found: String, actual: usize },
    #[error("directory ends with byte 0x{found:02X} instead of the field terminator 0x1E")]
    DirectoryTerminator { found: u8 },
    #[error("no directory: no field terminator (0x1E) after the leader")]
    NoDirectory,
    #[error("directory is {len} bytes, not a multiple of 12; the last {extra} bytes were ignored")]
    DirectoryLength { len: usize, extra: usize },
    #[error("directory entry {index} ({entry:?}) cannot be used: {reason}; the field was dropped")]
    DirectoryEntry { index: usize, entry: String, reason: &'static str },
    #[error("directory lengths/offsets do not match the field terminators ({reason}); fields were located by their terminators instead")]
    FieldsLocatedByTerminators { reason: String },
    #[error("directory does not match the data: only {located} of its {entries} entries point at a field")]
    DirectoryUnusable { entries: usize, located: usize },
    #[error("record has no fields")]
    NoFields,

    // ----- fields -----
    #[error("field {index}: tag {tag:?} is not three letters or digits; the field was dropped (data {data:?})")]
    InvalidTag { index: usize, tag: String, data: String },
    #[error("field {tag}: tag {found:?} was read as {tag}")]
    TagRepaired { tag: String, found: String },
    #[error("field {tag}: no field terminator (0x1E) at its end")]
    MissingFieldTerminator { tag: String },
    #[error("field {tag}: indicator {position} is {found:?}, not a blank, digit or lowercase letter{}", replaced_note(*.replaced))]
    BadIndicator { tag: String, position: u8, found: String, replaced: bool },
    #[error("field {tag}: indicators missing; read as blanks")]
    MissingIndicators { tag: String },
    #[error("field {tag}: subfield code {found:?} is not a letter, digit or ASCII symbol")]
    BadSubfieldCode { tag: String, found: String },
    #[error("field {tag}: subfield delimiter without a subfield code; dropped")]
    EmptySubfieldCode { tag: String },
    #[error("field {tag}: stray subfield delimiter before {next:?}; the text was kept in the preceding subfield")]
    StraySubfieldDelimiter { tag: String, next: String },
    #[error("field {tag}: text before the first subfield was dropped: {text:?}")]
    DataBeforeFirstSubfield { tag: String, text: String },
    #[error("field {tag}: has no subfields; kept as a control field")]
    NoSubfields { tag: String },
    #[error("control field {tag} contains a subfield delimiter (0x1F)")]
    DelimiterInControlField { tag: String },
    #[error("datafield {tag} uses a control-field tag")]
    DataFieldWithControlTag { tag: String },

    // ----- character coding -----
    #[error("field {tag}{}: invalid UTF-8 replaced by U+FFFD", code_note(*.code))]
    InvalidUtf8 { tag: String, code: Option<char> },
    #[error("field {tag}{}: MARC-8: {message}", code_note(*.code))]
    Marc8 { tag: String, code: Option<char>, message: String },
    #[error("leader/09 is {declared:?} ({}) but the data {evidence}; read as {used}", declared_note(*.declared))]
    CodingMismatch { declared: char, used: Encoding, evidence: &'static str },

    // ----- MARCXML -----
    #[error("malformed XML at line {line}, column {column}: {message}")]
    MalformedXml { line: u64, column: u64, message: String },
    #[error("line {line}: {message}")]
    XmlContent { line: u64, message: String },
    #[error("no MARCXML record element found")]
    NoRecord,
    #[error("record has no leader; a blank one was used")]
    MissingLeader,

    // ----- I/O -----
    #[error("I/O error: {message}")]
    Io { kind: std::io::ErrorKind, message: String },
}

fn replaced_note(replaced: bool) -> &'static str {
    if replaced {
        "; read as blank"
    } else {
        ""
    }
}

fn code_note(code: Option<char>) -> String {
    match code {
        Some(c) => format!(" ${c}"),
        None => String::new(),
    }
}

fn declared_note(declared: char) -> &'static str {
    match declared {
        'a' => "UTF-8",
        ' ' => "MARC-8",
        _ => "not a valid coding",
    }
}

impl Problem {
    pub(crate) fn io(e: &std::io::Error) -> Problem {
        Problem::Io { kind: e.kind(), message: e.to_string() }
    }
}

/// Why a record could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    #[error("record is {length} bytes; ISO 2709 allows at most 99,999")]
    RecordTooLong { length: usize },
    #[error("field {tag} is {length} bytes; ISO 2709 allows at most 9,999 per field")]
    FieldTooLong { tag: String, length: usize },
    #[error("field {tag}: {what} contains the MARC delimiter 0x{byte:02X}, which ISO 2709 cannot carry")]
    Delimiter { tag: String, what: String, byte: u8 },
    #[error("the MARCXML collection was already finished")]
    Finished,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Text of arbitrary bytes for messages: lossy UTF-8 with control characters escaped, cut
/// after `max` characters.
pub(crate) fn show_bytes(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.push_str(&format!("\\x{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}
