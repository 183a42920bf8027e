//! ISO 2709 ("binary MARC", `.mrc`): a streaming, tolerant reader and a strict writer.
//!
//! # Reading
//!
//! [`Reader`] wraps any [`Read`], buffers it itself (64 KiB reads; never the whole
//! file) and yields one `Result<ReadRecord, RecordError>` per record. Each item carries the
//! 1-based record number, the byte offset where the record starts and its original bytes.
//! [`Reader::read_into`] reads the same items into one `ReadRecord` that the caller keeps,
//! reusing its allocations from record to record (the iterator is that path with a fresh
//! `ReadRecord` each time).
//!
//! **Where a record ends — the record terminator wins.** A record is the bytes up to and
//! including the next record terminator (0x1D). If the leader's record length (leader/00-04)
//! disagrees, the terminator is trusted, a [`Problem::RecordLengthMismatch`] warning is
//! attached and the directory is read against the actual bytes. The leader length is used
//! only when there is no terminator where it should be: if the bytes at the leader length are
//! a field terminator followed by what looks like another leader (five digits at 00-04 and at
//! 12-16), the record was written without its terminator, so it is cut there
//! ([`Problem::MissingRecordTerminator`]); likewise at the end of the file. A record whose
//! leader length runs past the end of the file is rejected as [`Problem::Truncated`].
//!
//! **Between records**, blanks, tabs, CR/LF, NUL, 0x1A (DOS end-of-file) and stray record
//! terminators are skipped silently: they are padding, not data. Anything else that is not a
//! record (for example bytes after the last record that end without a terminator) is reported
//! as a rejected record. After any rejection the reader carries on after the next record
//! terminator. A run of more than [`MAX_RECORD_BYTES`] without a terminator is rejected
//! ([`Problem::Runaway`]) and skipped, so memory stays bounded.
//!
//! **Inside a record**, the directory ends at the base address (leader/12-16) when that
//! points just past a well-formed directory; otherwise at the first field terminator after
//! the leader ([`Problem::BaseAddress`]). Fields are located by the directory's lengths and
//! offsets; when those do not land on field terminators (typically lengths counted in
//! characters rather than bytes after a charset conversion) and the data area holds exactly as
//! many fields as the directory lists, fields are located by their terminators instead
//! ([`Problem::FieldsLocatedByTerminators`]). Fields that cannot be located, and fields whose
//! tag is not three letters/digits, are dropped with a warning naming them. A record is
//! rejected only when no record can be made of it: too short, no leader, no directory, no
//! fields, truncated.
//!
//! Damage inside fields is repaired with a warning: a bad indicator is kept (or read as blank
//! when it is a control character or undecodable), missing indicators are read as blanks, a
//! subfield delimiter followed by a blank or control character is a stray byte (dropped, the
//! text stays in the subfield, as YAZ ≥ 5.35 does), text before the first subfield is dropped,
//! a non-control tag whose data has no subfield delimiter is kept as a control field (so no
//! text is lost), a `00X` field laid out as a data field (two indicators, then a subfield) is
//! read as a data field. One repair is silent: a subfield delimiter just before a control
//! field's terminator carries nothing and is dropped (LC's own records have `001`s ending so).
//! In UTF-8 records an indicator or subfield code is one character, however many bytes.
//!
//! **Character coding.** With [`Encoding::Auto`], leader/09 `a` means UTF-8 and blank means
//! MARC-8 (decoded by [`crate::marc8::decode`] one subfield at a time). The leader is
//! overruled, with a [`Problem::CodingMismatch`] warning, when the bytes say otherwise: a
//! record marked UTF-8 whose data is not valid UTF-8 and contains not a single valid UTF-8
//! multibyte sequence is read as MARC-8; a record marked MARC-8 whose data is valid UTF-8 with
//! non-ASCII characters and no MARC-8 escape sequence is read as UTF-8. Other leader/09 values
//! are warned about and decided the same way from the bytes. Invalid UTF-8 left in a UTF-8
//! record becomes U+FFFD with a [`Problem::InvalidUtf8`] warning naming the field and
//! subfield. All text is returned in NFC and leader/09 of the returned record is `a`.
//! Leader/10-11 and 20-23 are read as `22` and `4500` whatever the file says (with a warning
//! when it said something else); leader/00-04 and 12-16 are kept as the file had them.
//!
//! # Writing
//!
//! [`Writer`] writes UTF-8 records (leader/09 `a`) with recomputed record length, base
//! address and directory, fields in record order. A record longer than 99,999 bytes, a field
//! longer than 9,999 bytes, or data containing a MARC delimiter is refused with a
//! [`WriteError`] naming the problem; nothing is written for that record.

use std::borrow::Cow;
use std::io::{self, Read, Write};
use std::ops::Range;

use crate::marc8;
use crate::problem::{show_bytes, Encoding, Problem, ReadOptions, ReadRecord, RecordError, WriteError};
use crate::record::{ControlField, DataField, Field, Leader, Record, Subfield, SubfieldValue, Tag};
use crate::text::{
    first_from_u0300, first_utf8_char, is_acceptable_code, is_valid_indicator, nfc, nfc_by_segments_from, nfc_owned,
};

/// Record terminator.
pub const RECORD_TERMINATOR: u8 = 0x1D;
/// Field terminator.
pub const FIELD_TERMINATOR: u8 = 0x1E;
/// Subfield delimiter.
pub const SUBFIELD_DELIMITER: u8 = 0x1F;

const RT: u8 = RECORD_TERMINATOR;
const FT: u8 = FIELD_TERMINATOR;
const SD: u8 = SUBFIELD_DELIMITER;
const ESC: u8 = 0x1B;

/// The reader gives up looking for a record terminator after this many bytes (ISO 2709 itself
/// allows 99,999; some systems write longer records, which are still read when terminated).
pub const MAX_RECORD_BYTES: usize = 1 << 20;

const READ_CHUNK: usize = 64 * 1024;

/// Streaming ISO 2709 reader; see the [module documentation](self) for the rules it follows.
pub struct Reader<R> {
    inner: R,
    options: ReadOptions,
    /// Bytes read ahead: `buf[..filled]`; the rest is room for the next read.
    buf: Vec<u8>,
    filled: usize,
    /// Index in `buf` of the first byte not yet consumed.
    start: usize,
    /// File offset of `buf[0]`.
    buf_offset: u64,
    eof: bool,
    done: bool,
    number: usize,
    /// Scratch space for [`parse_record_with`], kept from one record to the next.
    scratch: Scratch,
}

impl<R: Read> Reader<R> {
    pub fn new(inner: R) -> Self {
        Self::with_options(inner, ReadOptions::default())
    }

    pub fn with_options(inner: R, options: ReadOptions) -> Self {
        Reader {
            inner,
            options,
            buf: Vec::new(),
            filled: 0,
            start: 0,
            buf_offset: 0,
            eof: false,
            done: false,
            number: 0,
            scratch: Scratch::default(),
        }
    }

    /// Reads more bytes. Returns how many bytes were dropped from the front of the buffer
    /// (already consumed), so that callers can shift indices they hold.
    fn fill(&mut self) -> io::Result<usize> {
        let shift = self.start;
        if shift > 0 {
            self.buf.copy_within(shift..self.filled, 0);
            self.filled -= shift;
            self.buf_offset += shift as u64;
            self.start = 0;
        }
        // The buffer is zeroed when it grows, not before every read: writing 64 KiB of zeros
        // per read was a third of the reader's first-level cache misses.
        if self.buf.len() - self.filled < READ_CHUNK {
            self.buf.resize(self.filled + READ_CHUNK, 0);
        }
        loop {
            match self.inner.read(&mut self.buf[self.filled..]) {
                Ok(n) => {
                    self.filled += n;
                    if n == 0 {
                        self.eof = true;
                    }
                    return Ok(shift);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn io_error(&mut self, e: &io::Error) -> RecordError {
        self.done = true;
        RecordError {
            number: self.number + 1,
            offset: self.buf_offset + self.start as u64,
            raw: Vec::new(),
            problem: Problem::io(e),
            fatal: true,
        }
    }

    /// Takes `buf[start..end]` as the next record and parses it into `read`.
    fn emit(&mut self, read: &mut ReadRecord, end: usize, forced: Option<Problem>) -> Result<(), RecordError> {
        self.number += 1;
        let number = self.number;
        let offset = self.buf_offset + self.start as u64;
        read.raw.clear();
        read.raw.extend_from_slice(&self.buf[self.start..end]);
        self.start = end;
        if let Some(problem) = forced {
            return Err(RecordError { number, offset, raw: std::mem::take(&mut read.raw), problem, fatal: false });
        }
        read.warnings.clear();
        let ReadRecord { raw, record, warnings, .. } = read;
        match parse_record_into(raw, &self.options, &mut self.scratch, record, warnings) {
            Ok(()) => {
                read.number = number;
                read.offset = offset;
                Ok(())
            }
            Err(problem) => Err(RecordError { number, offset, raw: std::mem::take(raw), problem, fatal: false }),
        }
    }

    /// Reads the next record into `read`, the recycling counterpart of [`Iterator::next`]: the
    /// same records, warnings and errors, but written over whatever `read` held, so that its
    /// buffers (the raw bytes, the fields, each field's subfields, the heap-held values) are
    /// reused rather than allocated and freed for every record. A caller that handles one
    /// record at a time and keeps one `ReadRecord` allocates next to nothing once the first
    /// records have been read. `None` at the end of the input; on `Err` what `read` holds is
    /// unspecified (it is not a record of the file) until the next `Ok`.
    pub fn read_into(&mut self, read: &mut ReadRecord) -> Option<Result<(), RecordError>> {
        self.next_item(read)
    }

    fn next_item(&mut self, read: &mut ReadRecord) -> Option<Result<(), RecordError>> {
        if self.done {
            return None;
        }
        // Skip padding between records.
        loop {
            while self.start < self.filled && is_filler(self.buf[self.start]) {
                self.start += 1;
            }
            if self.start < self.filled {
                break;
            }
            if self.eof {
                self.done = true;
                return None;
            }
            if let Err(e) = self.fill() {
                return Some(Err(self.io_error(&e)));
            }
        }
        // Find the record terminator, reading more as needed.
        let mut scanned = self.start;
        let terminator = loop {
            if let Some(i) = find_byte(&self.buf[scanned..self.filled], RT) {
                break Some(scanned + i);
            }
            scanned = self.filled;
            if self.eof || scanned - self.start >= MAX_RECORD_BYTES {
                break None;
            }
            match self.fill() {
                Ok(shift) => scanned -= shift,
                Err(e) => return Some(Err(self.io_error(&e))),
            }
        };
        let limit = self.filled.min(self.start + MAX_RECORD_BYTES);
        let chunk_end = terminator.map_or(limit, |t| t + 1);
        let chunk = &self.buf[self.start..chunk_end];
        let leader_length = chunk.get(0..5).and_then(digits).filter(|&l| l > 24);

        // A record written without its terminator, followed by the next record: the leader
        // length either still counts the missing terminator or does not.
        if let Some(l) = leader_length {
            for end in [l - 1, l] {
                if end < chunk.len() && chunk[end - 1] == FT && looks_like_leader(&chunk[end..]) {
                    let end = self.start + end;
                    return Some(self.emit(read, end, None));
                }
            }
        }
        if terminator.is_some() {
            return Some(self.emit(read, chunk_end, None));
        }
        if self.eof {
            // The rest of the file has no terminator.
            let available = chunk.len();
            let result = match leader_length {
                Some(l) if l <= available => self.emit(read, self.start + l, None),
                Some(l) if l == available + 1 && chunk.last() == Some(&FT) => {
                    self.emit(read, self.start + available, None)
                }
                Some(l) => {
                    let end = self.start + available;
                    self.emit(read, end, Some(Problem::Truncated { leader: l, available }))
                }
                None => {
                    let end = self.start + available;
                    self.emit(read, end, Some(Problem::TrailingGarbage { len: available }))
                }
            };
            return Some(result);
        }
        // No terminator within MAX_RECORD_BYTES: reject and skip to the next terminator.
        let raw_end = self.start + MAX_RECORD_BYTES.min(chunk.len());
        let mut skipped = (raw_end - self.start) as u64;
        self.number += 1;
        let number = self.number;
        let offset = self.buf_offset + self.start as u64;
        let raw = self.buf[self.start..raw_end].to_vec();
        self.start = raw_end;
        loop {
            if let Some(i) = find_byte(&self.buf[self.start..self.filled], RT) {
                skipped += i as u64 + 1;
                self.start += i + 1;
                break;
            }
            skipped += (self.filled - self.start) as u64;
            self.start = self.filled;
            if self.eof {
                break;
            }
            if let Err(e) = self.fill() {
                return Some(Err(self.io_error(&e)));
            }
        }
        Some(Err(RecordError {
            number,
            offset,
            raw,
            problem: Problem::Runaway { limit: MAX_RECORD_BYTES, skipped },
            fatal: false,
        }))
    }
}

impl<R: Read> Iterator for Reader<R> {
    type Item = Result<ReadRecord, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        // One code path: a fresh `ReadRecord` is filled the same way a recycled one is.
        let mut read = ReadRecord::default();
        self.next_item(&mut read).map(|result| result.map(|()| read))
    }
}

impl<R: Read> std::iter::FusedIterator for Reader<R> {}

fn is_filler(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x00 | 0x1A | RT)
}

fn find_byte(hay: &[u8], needle: u8) -> Option<usize> {
    memchr::memchr(needle, hay)
}

/// How many times `needle` occurs in `hay`. Counted in 8-bit lanes, 255 bytes at a time, so
/// that the compiler vectorises it well (one pass is cheaper than a memchr call per match).
fn count_byte(hay: &[u8], needle: u8) -> usize {
    hay.chunks(255).map(|chunk| usize::from(chunk.iter().fold(0u8, |n, &b| n + u8::from(b == needle)))).sum()
}

/// A record's directory entries and positions found in its data area by [`scan_data`], kept
/// by a [`Reader`] from one record to the next so that the vectors are not allocated anew.
#[derive(Default)]
struct Scratch {
    entries: Vec<Entry>,
    /// Where each field's data is, from [`locate_fields`].
    located: Vec<(usize, usize, Range<usize>)>,
    /// Where the subfield delimiters are.
    delimiters: Vec<usize>,
    /// Allocations of fields a recycled record no longer needed, kept for the next records
    /// (see [`FieldSlots`]).
    spare_subfields: Vec<Vec<Subfield>>,
    spare_strings: Vec<String>,
}

/// Writes to the start of `out` the positions of the bytes in `hay` that match and returns how
/// many there are: `out[..n]`. `out` is a buffer whose length only grows (kept by the reader
/// from one record to the next; what lies beyond `n` is left over). Each 32-byte chunk writes
/// four positions whatever its number of matches (those past it are written over by the next
/// chunk) and moves on by that number, so that the usual chunk, with up to four delimiters,
/// costs no branch that depends on the data: the loop over the matches it replaced was
/// mispredicted about once a chunk.
fn positions_into(hay: &[u8], matches: impl Fn(u8) -> bool, out: &mut Vec<usize>) -> usize {
    let mut n = 0;
    let mut chunks = hay.chunks_exact(32);
    let mut base = 0;
    for chunk in &mut chunks {
        // Room for a whole chunk's worth; almost never taken once the buffer has grown.
        if out.len() < n + 32 {
            out.resize(n + 32, 0);
        }
        let mut mask = chunk.iter().enumerate().fold(0u32, |m, (i, &b)| m | (u32::from(matches(b)) << i));
        let count = mask.count_ones() as usize;
        for slot in &mut out[n..n + 4] {
            *slot = base + mask.trailing_zeros() as usize;
            mask &= mask.wrapping_sub(1);
        }
        let mut k = n + 4;
        while mask != 0 {
            out[k] = base + mask.trailing_zeros() as usize;
            mask &= mask - 1;
            k += 1;
        }
        n += count;
        base += 32;
    }
    if out.len() < n + 32 {
        out.resize(n + 32, 0);
    }
    for (i, &b) in chunks.remainder().iter().enumerate() {
        out[n] = base + i;
        n += usize::from(matches(b));
    }
    n
}

/// The indices in `positions` (ascending) of those within `range`. `cursor` is where the
/// previous call ended: ranges usually come in ascending order, so the search goes on from
/// there, and starts over only when a range lies before it.
fn positions_within(positions: &[usize], cursor: &mut usize, range: &Range<usize>) -> Range<usize> {
    if *cursor > 0 && positions[*cursor - 1] >= range.start {
        *cursor = positions.partition_point(|&p| p < range.start);
    }
    while *cursor < positions.len() && positions[*cursor] < range.start {
        *cursor += 1;
    }
    let lo = *cursor;
    while *cursor < positions.len() && positions[*cursor] < range.end {
        *cursor += 1;
    }
    lo..*cursor
}

/// The value of a run of ASCII digits (None if empty or any byte is not a digit).
fn digits(bytes: &[u8]) -> Option<usize> {
    if bytes.is_empty() {
        return None;
    }
    let mut n = 0usize;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + usize::from(b - b'0');
    }
    Some(n)
}

fn looks_like_leader(b: &[u8]) -> bool {
    b.len() >= 24 && digits(&b[0..5]).is_some() && digits(&b[12..17]).is_some()
}

fn entry_shaped(e: &[u8]) -> bool {
    e.len() == 12 && e[..3].iter().all(u8::is_ascii_alphanumeric) && e[3..].iter().all(u8::is_ascii_digit)
}

/// Sets leader/10-11 to `22` and 20-23 to `4500`, warning when they said something else.
pub(crate) fn repair_leader_structure(leader: &mut [u8; 24], warnings: &mut Vec<Problem>) {
    if &leader[10..12] != b"22" {
        warnings.push(Problem::LeaderStructure {
            position: "10-11",
            found: show_bytes(&leader[10..12], 2),
            expected: "22",
        });
        leader[10..12].copy_from_slice(b"22");
    }
    if &leader[20..24] != b"4500" {
        warnings.push(Problem::LeaderStructure {
            position: "20-23",
            found: show_bytes(&leader[20..24], 4),
            expected: "4500",
        });
        leader[20..24].copy_from_slice(b"4500");
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Coding {
    Utf8,
    Marc8,
}

/// One directory entry as found, numbers `None` when not numeric.
struct Entry {
    raw: [u8; 12],
    length: Option<usize>,
    start: Option<usize>,
}

/// Parses one ISO 2709 record (with or without its record terminator). Returns the record and
/// its warnings, or the problem that makes it unreadable. Used by [`Reader`]; useful on
/// its own for a record that arrived in a Z39.50 response or a database column.
pub fn parse_record(bytes: &[u8], options: &ReadOptions) -> Result<(Record, Vec<Problem>), Problem> {
    parse_record_with(bytes, options, &mut Scratch::default())
}

/// [`parse_record`] with scratch space that a caller reading many records keeps from one to
/// the next.
fn parse_record_with(
    bytes: &[u8],
    options: &ReadOptions,
    scratch: &mut Scratch,
) -> Result<(Record, Vec<Problem>), Problem> {
    let mut record = Record::default();
    let mut w = Vec::new();
    parse_record_into(bytes, options, scratch, &mut record, &mut w)?;
    Ok((record, w))
}

/// [`parse_record`] written over `record` (whose allocations are reused), its warnings appended
/// to `w`. On `Err` `record` holds no meaningful record.
fn parse_record_into(
    bytes: &[u8],
    options: &ReadOptions,
    scratch: &mut Scratch,
    record: &mut Record,
    w: &mut Vec<Problem>,
) -> Result<(), Problem> {
    if bytes.len() < 24 {
        return Err(Problem::TooShort { len: bytes.len() });
    }
    let terminated = bytes.last() == Some(&RT);
    let body = if terminated {
        &bytes[..bytes.len() - 1]
    } else {
        w.push(Problem::MissingRecordTerminator);
        bytes
    };
    if body.len() < 24 {
        return Err(Problem::TooShort { len: bytes.len() });
    }
    let mut leader_bytes = [0u8; 24];
    leader_bytes.copy_from_slice(&bytes[..24]);
    let record_length = digits(&leader_bytes[0..5]);
    let base = digits(&leader_bytes[12..17]);
    if record_length.is_none() && base.is_none() {
        return Err(Problem::NotARecord { leader: show_bytes(&leader_bytes, 24) });
    }
    match record_length {
        None => w.push(Problem::RecordLengthNotNumeric { found: show_bytes(&leader_bytes[0..5], 5) }),
        // Without its terminator the record is one byte short of a length that counted it.
        Some(l) if l != bytes.len() && (terminated || l != bytes.len() + 1) => {
            w.push(Problem::RecordLengthMismatch { leader: l, actual: bytes.len() })
        }
        Some(_) => {}
    }
    if leader_bytes.iter().any(|b| !(0x20..0x7f).contains(b)) {
        w.push(Problem::LeaderCharacters);
    }
    repair_leader_structure(&mut leader_bytes, w);

    let dir_end = locate_directory(body, base, &leader_bytes, w)?;
    let directory = &body[24..dir_end];
    let data = &body[dir_end + 1..];
    let extra = directory.len() % 12;
    if extra != 0 {
        w.push(Problem::DirectoryLength { len: directory.len(), extra });
    }
    let Scratch { entries, located, delimiters, spare_subfields, spare_strings } = scratch;
    entries.clear();
    entries.extend(directory.chunks_exact(12).map(|e| {
        let mut raw = [0; 12];
        raw.copy_from_slice(e);
        Entry { raw, length: digits(&e[3..7]), start: digits(&e[7..12]) }
    }));
    let entries = &entries[..];
    if entries.is_empty() {
        return Err(Problem::NoFields);
    }
    locate_fields(entries, data, w, located);
    if located.len() * 2 < entries.len() {
        return Err(Problem::DirectoryUnusable { entries: entries.len(), located: located.len() });
    }

    // One pass each over the data area instead of one per subfield: UTF-8 validity (fields
    // and subfields are then cut from `text`, as delimiters are ASCII) and the highest byte.
    // simdutf8 validates several times faster than `std::str::from_utf8` (32 or 64 bytes a
    // step, ASCII or not).
    let text = simdutf8::basic::from_utf8(data).ok();
    let max_byte = max_byte(data);
    let coding = choose_coding(leader_bytes[9], data, text.is_some(), max_byte, options.encoding, w);
    let decoding = Decoding {
        coding,
        // Below U+0300 (lead bytes below 0xCC) nothing combines: all text is already NFC.
        nfc_certain: max_byte < 0xCC,
    };
    let mut slots = FieldSlots::new(&mut record.fields, located.len(), spare_subfields, spare_strings);
    // Every subfield delimiter in the data area, found in one pass, 32 bytes at a time as bit
    // masks (which the compiler vectorises), instead of a search call per subfield: subfields
    // are short, so a call per delimiter costs more than the scan. Each field takes its share.
    let count = positions_into(data, |b| b == SD, delimiters);
    let delimiters = &delimiters[..count];
    let mut sd_cursor = 0;
    for &(index, entry_index, ref range) in located.iter() {
        let field_data = &data[range.clone()];
        let tag_bytes = &entries[entry_index].raw[..3];
        let Some(tag) = Tag::from_bytes(tag_bytes) else {
            w.push(Problem::InvalidTag {
                index: index + 1,
                tag: show_bytes(tag_bytes, 3),
                data: show_bytes(field_data, 200),
            });
            continue;
        };
        // `None` when the record is not valid UTF-8 or a directory offset splits a character:
        // the field is then decoded piece by piece as before.
        let field_text = text.and_then(|t| t.get(range.clone()));
        let sds = &delimiters[positions_within(delimiters, &mut sd_cursor, range)];
        // When the record has text from U+0300 up, each value is checked on its own (`nfc`,
        // `push_nfc`): a vectorised pass over it, cheaper than finding the high bytes of the
        // record first and sharing them out among the fields.
        build_field(tag, field_data, field_text, decoding, sds, range.start, &mut slots, w);
    }
    if slots.finish() == 0 {
        return Err(Problem::NoFields);
    }
    let mut leader = Leader::from_bytes(leader_bytes);
    leader.set(9, b'a');
    record.leader = leader;
    Ok(())
}

/// A record's fields written over those of the record read before: the `n`th field read goes
/// into the `n`th slot, reusing its allocations when it is of the same kind (a control field's
/// `String`, a data field's `Vec<Subfield>` and the subfields' heap-held values). The
/// allocations of slots of the other kind, and of those left over at the end, go to the spare
/// pools, from which later fields take theirs before anything is allocated; so reading many
/// records into one `Record` allocates only when a record needs more than any before it.
struct FieldSlots<'a> {
    fields: &'a mut Vec<Field>,
    /// How many of `fields` hold this record's fields.
    filled: usize,
    spare_subfields: &'a mut Vec<Vec<Subfield>>,
    spare_strings: &'a mut Vec<String>,
}

impl<'a> FieldSlots<'a> {
    /// Slots for a record of up to `expected` fields.
    fn new(
        fields: &'a mut Vec<Field>,
        expected: usize,
        spare_subfields: &'a mut Vec<Vec<Subfield>>,
        spare_strings: &'a mut Vec<String>,
    ) -> Self {
        if fields.capacity() < expected {
            fields.reserve(expected - fields.len());
        }
        FieldSlots { fields, filled: 0, spare_subfields, spare_strings }
    }

    /// Sets the next field to a control field.
    fn push_control(&mut self, tag: Tag, value: Cow<'_, str>) {
        let index = self.filled;
        self.filled += 1;
        if let Some(Field::Control(c)) = self.fields.get_mut(index) {
            c.tag = tag;
            c.value.clear();
            c.value.push_str(&value);
            return;
        }
        let value = match self.spare_strings.pop() {
            Some(mut s) => {
                s.clear();
                s.push_str(&value);
                s
            }
            None => value.into_owned(),
        };
        self.put(index, Field::Control(ControlField { tag, value }));
    }

    /// The next field, as a data field with this tag, its subfields (those it held before) to
    /// be refilled and its indicators to be set.
    fn data(&mut self, tag: Tag) -> &mut DataField {
        let index = self.filled;
        self.filled += 1;
        if !matches!(self.fields.get(index), Some(Field::Data(_))) {
            let subfields = self.spare_subfields.pop().unwrap_or_default();
            self.put(index, Field::Data(DataField { tag, ind1: ' ', ind2: ' ', subfields }));
        }
        match &mut self.fields[index] {
            Field::Data(d) => {
                d.tag = tag;
                d
            }
            Field::Control(_) => unreachable!("a data field was put in this slot just above"),
        }
    }

    fn put(&mut self, index: usize, field: Field) {
        match self.fields.get_mut(index) {
            None => self.fields.push(field),
            Some(slot) => {
                let old = std::mem::replace(slot, field);
                self.spare(old);
            }
        }
    }

    fn spare(&mut self, field: Field) {
        match field {
            Field::Data(d) => self.spare_subfields.push(d.subfields),
            Field::Control(c) => self.spare_strings.push(c.value),
        }
    }

    /// Drops the previous record's fields beyond this one's (keeping their allocations) and
    /// returns how many fields this record has.
    fn finish(self) -> usize {
        for field in self.fields.drain(self.filled..) {
            match field {
                Field::Data(d) => self.spare_subfields.push(d.subfields),
                Field::Control(c) => self.spare_strings.push(c.value),
            }
        }
        self.filled
    }
}

/// A data field's subfields written over those it held before, like [`FieldSlots`]: each
/// value's allocation is reused when the new text fits.
struct SubfieldSlots<'a> {
    subfields: &'a mut Vec<Subfield>,
    filled: usize,
}

impl<'a> SubfieldSlots<'a> {
    fn new(subfields: &'a mut Vec<Subfield>, expected: usize) -> Self {
        if subfields.capacity() < expected {
            subfields.reserve(expected - subfields.len());
        }
        SubfieldSlots { subfields, filled: 0 }
    }

    fn push(&mut self, code: char, value: Cow<'_, str>) {
        match self.subfields.get_mut(self.filled) {
            // A heap buffer is kept for the text to come; an inline value is simply replaced,
            // which is cheaper than clearing it and appending.
            Some(s) if s.value.is_heap_allocated() => {
                s.code = code;
                s.value.clear();
                s.value.push_str(&value);
            }
            Some(s) => *s = Subfield { code, value: SubfieldValue::from(value) },
            None => self.subfields.push(Subfield { code, value: SubfieldValue::from(value) }),
        }
        self.filled += 1;
    }

    /// [`SubfieldSlots::push`] of text that needs no change.
    fn push_str(&mut self, code: char, value: &str) {
        match self.subfields.get_mut(self.filled) {
            Some(s) if s.value.is_heap_allocated() => {
                s.code = code;
                s.value.clear();
                s.value.push_str(value);
            }
            Some(s) => *s = Subfield { code, value: SubfieldValue::new(value) },
            None => self.subfields.push(Subfield { code, value: SubfieldValue::new(value) }),
        }
        self.filled += 1;
    }

    /// [`SubfieldSlots::push`] of `text` in NFC, written straight into the value.
    fn push_nfc(&mut self, code: char, text: &str) {
        let Some(first) = first_from_u0300(text.as_bytes()) else {
            self.push_str(code, text);
            return;
        };
        let value = match self.subfields.get_mut(self.filled) {
            Some(s) => {
                s.code = code;
                s.value.clear();
                &mut s.value
            }
            None => {
                self.subfields.push(Subfield { code, value: SubfieldValue::with_capacity(text.len()) });
                &mut self.subfields[self.filled].value
            }
        };
        nfc_by_segments_from(text, first, value);
        self.filled += 1;
    }

    fn finish(self) {
        self.subfields.truncate(self.filled);
    }
}

fn locate_directory(
    body: &[u8],
    base: Option<usize>,
    leader: &[u8; 24],
    w: &mut Vec<Problem>,
) -> Result<usize, Problem> {
    if let Some(b) = base {
        if b >= 25 && b <= body.len() && (b - 25) % 12 == 0 {
            if body[b - 1] == FT {
                return Ok(b - 1);
            }
            if b > 25 && body[24..b - 1].chunks(12).all(entry_shaped) {
                w.push(Problem::DirectoryTerminator { found: body[b - 1] });
                return Ok(b - 1);
            }
        }
    }
    match find_byte(&body[24..], FT) {
        Some(i) => {
            let end = 24 + i;
            w.push(Problem::BaseAddress { found: show_bytes(&leader[12..17], 5), actual: end + 1 });
            Ok(end)
        }
        None => Err(Problem::NoDirectory),
    }
}

/// Finds each field's data (without its terminator). Returns (position in the directory among
/// the located fields, directory entry index, where the data is in `data`).
fn locate_fields(
    entries: &[Entry],
    data: &[u8],
    w: &mut Vec<Problem>,
    located: &mut Vec<(usize, usize, Range<usize>)>,
) {
    located.clear();
    // Where an entry's length and starting position point, if that is one whole field: it ends
    // with a field terminator and holds no other.
    let pointed_at = |e: &Entry| match (e.length, e.start) {
        (Some(l), Some(s)) if l >= 1 && s + l <= data.len() => {
            let slice = &data[s..s + l];
            (slice[l - 1] == FT && find_byte(&slice[..l - 1], FT).is_none()).then_some(s..s + l - 1)
        }
        _ => None,
    };

    // 1. The directory's offsets, if every one of them lands on a field terminator. The usual
    //    case, fields one after the other from the start of the data to its end, is checked
    //    with one count of the field terminators rather than by searching each field.
    let mut next_start = 0;
    let mut contiguous = true;
    for e in entries {
        match (e.length, e.start) {
            (Some(l), Some(s)) if l >= 1 && s == next_start && s + l <= data.len() && data[s + l - 1] == FT => {
                next_start = s + l;
            }
            _ => {
                contiguous = false;
                break;
            }
        }
    }
    if contiguous && next_start == data.len() && count_byte(data, FT) == entries.len() {
        // Each field ends with a terminator and together they hold exactly one per field.
        located.extend(entries.iter().enumerate().filter_map(|(i, e)| {
            let (l, s) = (e.length?, e.start?);
            Some((i, i, s..s + l - 1))
        }));
        return;
    }
    let mut mismatch: Option<String> = None;
    for (i, e) in entries.iter().enumerate() {
        match pointed_at(e) {
            Some(range) => located.push((i, i, range)),
            None => {
                mismatch = Some(format!("entry {} for field {}", i + 1, show_bytes(&e.raw[..3], 3)));
                break;
            }
        }
    }
    let Some(reason) = mismatch else {
        return;
    };

    // 2. The field terminators, when they delimit exactly as many fields as the directory lists
    //    and every entry at least has a proper tag (a shifted directory does not).
    let mut pieces = Vec::with_capacity(entries.len());
    let mut piece_start = 0;
    for end in memchr::memchr_iter(FT, data) {
        pieces.push(piece_start..end);
        piece_start = end + 1;
    }
    // Like `split`: what follows the last terminator is a piece too, unless there is nothing
    // there (and an empty data area is no piece at all).
    let last_terminated = data.last() == Some(&FT) || data.is_empty();
    if !last_terminated {
        pieces.push(piece_start..data.len());
    }
    if pieces.len() == entries.len() && entries.iter().all(|e| Tag::from_bytes(&e.raw[..3]).is_some()) {
        w.push(Problem::FieldsLocatedByTerminators { reason });
        if !last_terminated {
            if let Some(e) = entries.last() {
                w.push(Problem::MissingFieldTerminator { tag: show_bytes(&e.raw[..3], 3) });
            }
        }
        located.clear();
        located.extend(pieces.into_iter().enumerate().map(|(i, p)| (i, i, p)));
        return;
    }

    // 3. The entries whose offsets still land on a field terminator; the others are dropped.
    located.clear();
    for (i, e) in entries.iter().enumerate() {
        match pointed_at(e) {
            Some(range) => located.push((located.len(), i, range)),
            None => w.push(Problem::DirectoryEntry {
                index: i + 1,
                entry: show_bytes(&e.raw, 12),
                reason: "its length and starting position do not point at a field",
            }),
        }
    }
}

fn has_utf8_multibyte(data: &[u8]) -> bool {
    data.iter().enumerate().any(|(i, &b)| b >= 0xC2 && first_utf8_char(&data[i..]).is_some_and(|(_, w)| w > 1))
}

/// The highest byte in `data` (0 when empty). Written as a plain fold, without an early
/// exit, so that the compiler vectorises it.
fn max_byte(data: &[u8]) -> u8 {
    data.iter().fold(0, |max, &b| max.max(b))
}

/// `valid` and `max_byte` describe `data` (whether it is valid UTF-8, its highest byte).
fn choose_coding(
    leader09: u8,
    data: &[u8],
    valid: bool,
    max_byte: u8,
    forced: Encoding,
    w: &mut Vec<Problem>,
) -> Coding {
    match forced {
        Encoding::Utf8 => return Coding::Utf8,
        Encoding::Marc8 => return Coding::Marc8,
        Encoding::Auto => {}
    }
    let high = max_byte >= 0x80;
    let declared = char::from(leader09);
    if leader09 == b'a' && valid {
        // Valid UTF-8 as declared: read as UTF-8 whether or not it has an escape (below).
        return Coding::Utf8;
    }
    let esc = find_byte(data, ESC).is_some();
    if !high && !esc {
        // Plain ASCII reads the same either way.
        if leader09 != b'a' && leader09 != b' ' {
            w.push(Problem::CodingMismatch { declared, used: Encoding::Utf8, evidence: "is plain ASCII" });
        }
        return Coding::Utf8;
    }
    match leader09 {
        b'a' => {
            if valid || has_utf8_multibyte(data) {
                Coding::Utf8
            } else {
                w.push(Problem::CodingMismatch {
                    declared,
                    used: Encoding::Marc8,
                    evidence: "is not UTF-8 (not one valid UTF-8 multibyte sequence)",
                });
                Coding::Marc8
            }
        }
        b' ' => {
            if !esc && valid {
                w.push(Problem::CodingMismatch {
                    declared,
                    used: Encoding::Utf8,
                    evidence: "is valid UTF-8 with non-ASCII characters and no MARC-8 escapes",
                });
                Coding::Utf8
            } else {
                Coding::Marc8
            }
        }
        _ => {
            if !esc && valid {
                w.push(Problem::CodingMismatch { declared, used: Encoding::Utf8, evidence: "is valid UTF-8" });
                Coding::Utf8
            } else {
                w.push(Problem::CodingMismatch { declared, used: Encoding::Marc8, evidence: "is not valid UTF-8" });
                Coding::Marc8
            }
        }
    }
}

/// How the text of one record is decoded.
#[derive(Clone, Copy)]
struct Decoding {
    coding: Coding,
    /// The data area has no byte >= 0xCC, so valid UTF-8 text in it is certainly NFC.
    nfc_certain: bool,
}

/// Decodes one control field value or subfield. `text`, when known, is `bytes` already
/// validated as UTF-8 (cut from the record-wide validation). Text that needs no change comes
/// back borrowed, so that it is copied once, straight into the value the record keeps.
fn decode_text<'a>(
    bytes: &'a [u8],
    text: Option<&'a str>,
    decoding: Decoding,
    tag: Tag,
    code: Option<char>,
    w: &mut Vec<Problem>,
) -> Cow<'a, str> {
    match decoding.coding {
        Coding::Utf8 => match text.map_or_else(|| std::str::from_utf8(bytes), Ok) {
            Ok(s) if decoding.nfc_certain => Cow::Borrowed(s),
            Ok(s) => nfc(s),
            Err(_) => {
                w.push(Problem::InvalidUtf8 { tag: tag.to_string(), code });
                Cow::Owned(nfc_owned(String::from_utf8_lossy(bytes).into_owned()))
            }
        },
        Coding::Marc8 => {
            if bytes.is_ascii() && !bytes.contains(&ESC) {
                // ASCII without escapes is the same text in MARC-8 and UTF-8.
                if let Ok(s) = std::str::from_utf8(bytes) {
                    return Cow::Borrowed(s);
                }
            }
            let decoded = marc8::decode(bytes);
            for p in decoded.problems {
                w.push(Problem::Marc8 { tag: tag.to_string(), code, message: p.to_string() });
            }
            Cow::Owned(nfc_owned(decoded.text))
        }
    }
}

/// One indicator or subfield code: the character and how many bytes it took. Control
/// characters and undecodable bytes come back as `None` (one byte consumed).
fn read_char(bytes: &[u8], coding: Coding) -> (Option<char>, usize) {
    let b = bytes[0];
    if b < 0x80 {
        if b < 0x20 || b == 0x7F {
            return (None, 1);
        }
        return (Some(char::from(b)), 1);
    }
    match coding {
        Coding::Utf8 => match first_utf8_char(bytes) {
            Some((c, width)) if !c.is_control() => (Some(c), width),
            Some((_, width)) => (None, width),
            None => (None, 1),
        },
        Coding::Marc8 => (None, 1),
    }
}

/// Builds one field from its data (without the terminator) into the next of `slots`. `text`,
/// when known, is `data` already validated as UTF-8.
#[allow(clippy::too_many_arguments)]
fn build_field(
    tag: Tag,
    data: &[u8],
    text: Option<&str>,
    decoding: Decoding,
    sds: &[usize],
    sds_base: usize,
    slots: &mut FieldSlots<'_>,
    w: &mut Vec<Problem>,
) {
    build_field_with(tag, data, text, decoding, sds, sds_base, true, slots, w)
}

/// [`build_field`]; `shortcut` false reads even a well-formed field the byte-by-byte way (so
/// that a test can check that both ways give the same field).
#[allow(clippy::too_many_arguments)]
fn build_field_with(
    tag: Tag,
    data: &[u8],
    text: Option<&str>,
    decoding: Decoding,
    sds: &[usize],
    sds_base: usize,
    shortcut: bool,
    slots: &mut FieldSlots<'_>,
    w: &mut Vec<Problem>,
) {
    let coding = decoding.coding;
    // `sds`: where the field's subfield delimiters are, counted from `sds_base`.
    let first_sd = sds.first().map(|&p| p - sds_base);
    // A 00X field laid out as a data field (two indicators, then a subfield) is read as one,
    // as YAZ does for DanMARC and as MARCXML `datafield tag="00X"` is written.
    let laid_out_as_data = tag.is_control() && data.len() > 3 && first_sd == Some(2);
    if laid_out_as_data {
        w.push(Problem::DataFieldWithControlTag { tag: tag.to_string() });
    } else if tag.is_control() || (first_sd.is_none() && data.len() > 2) {
        // A delimiter just before the terminator carries nothing (LC has `001` values ending
        // so); it is dropped silently, like the normalisation to NFC.
        let data = data.strip_suffix(&[SD]).unwrap_or(data);
        // The field's delimiters are known: one before the end means one inside the value
        // (cheaper than searching the value again, which was a `memchr` call per field).
        if sds.first().is_some_and(|&p| p - sds_base < data.len()) {
            w.push(Problem::DelimiterInControlField { tag: tag.to_string() });
        } else if !tag.is_control() {
            w.push(Problem::NoSubfields { tag: tag.to_string() });
        }
        let text = text.and_then(|t| t.get(..data.len()));
        slots.push_control(tag, decode_text(data, text, decoding, tag, None, w));
        return;
    }
    // At most one subfield per delimiter; counting them first saves growing the Vec.
    let field = slots.data(tag);
    let mut subfields = SubfieldSlots::new(&mut field.subfields, sds.len());
    if shortcut && well_formed_subfields(data, text, decoding, sds, sds_base, &mut subfields) {
        // Two one-byte indicators, checked by `well_formed_subfields`.
        let (ind1, ind2) = (char::from(data[0]), char::from(data[1]));
        subfields.finish();
        (field.ind1, field.ind2) = (ind1, ind2);
        return;
    }
    // Whatever the shortcut wrote before it gave up is written over.
    subfields.filled = 0;
    let first_sd = first_sd.unwrap_or(data.len());

    // Indicators.
    let mut indicators = [' ', ' '];
    let mut pos = 0;
    for (k, slot) in indicators.iter_mut().enumerate() {
        if pos >= first_sd {
            w.push(Problem::MissingIndicators { tag: tag.to_string() });
            break;
        }
        let (c, width) = read_char(&data[pos..], coding);
        match c {
            Some(c) => {
                if !is_valid_indicator(c) {
                    w.push(Problem::BadIndicator {
                        tag: tag.to_string(),
                        position: k as u8 + 1,
                        found: c.to_string(),
                        replaced: false,
                    });
                }
                *slot = c;
            }
            None => w.push(Problem::BadIndicator {
                tag: tag.to_string(),
                position: k as u8 + 1,
                found: show_bytes(&data[pos..(pos + width).min(data.len())], 4),
                replaced: true,
            }),
        }
        pos += width;
    }
    if pos < first_sd {
        w.push(Problem::DataBeforeFirstSubfield { tag: tag.to_string(), text: show_bytes(&data[pos..first_sd], 200) });
    }

    // Subfields. The subfield being read is kept as where its text is in `data` and, once a
    // stray delimiter has been dropped from it, as its text joined up.
    let finish = |code: char,
                  range: Range<usize>,
                  joined: Option<Vec<u8>>,
                  subfields: &mut SubfieldSlots<'_>,
                  w: &mut Vec<Problem>| match joined {
        Some(bytes) => subfields.push(code, decode_text(&bytes, None, decoding, tag, Some(code), w)),
        None => {
            let sub_text = text.and_then(|t| t.get(range.clone()));
            subfields.push(code, decode_text(&data[range], sub_text, decoding, tag, Some(code), w));
        }
    };
    let mut current: Option<(char, Range<usize>, Option<Vec<u8>>)> = None;
    for (k, &pos) in sds.iter().enumerate() {
        let pos = pos - sds_base;
        let next = sds.get(k + 1).map_or(data.len(), |&p| p - sds_base);
        let segment = &data[pos + 1..next];
        let segment_start = pos + 1;
        let Some(&first) = segment.first() else {
            w.push(Problem::EmptySubfieldCode { tag: tag.to_string() });
            continue;
        };
        if first <= b' ' || first == 0x7F {
            // Not a subfield: a stray delimiter inside the text.
            match current.as_mut() {
                Some((_, range, joined)) => {
                    w.push(Problem::StraySubfieldDelimiter { tag: tag.to_string(), next: show_bytes(segment, 20) });
                    joined.get_or_insert_with(|| data[range.clone()].to_vec()).extend_from_slice(segment);
                }
                None => {
                    w.push(Problem::DataBeforeFirstSubfield { tag: tag.to_string(), text: show_bytes(segment, 200) })
                }
            }
            continue;
        }
        if let Some((code, range, joined)) = current.take() {
            finish(code, range, joined, &mut subfields, w);
        }
        let (c, width) = read_char(segment, coding);
        let code = match c {
            Some(c) => {
                if !is_acceptable_code(c) {
                    w.push(Problem::BadSubfieldCode { tag: tag.to_string(), found: c.to_string() });
                }
                c
            }
            None => {
                w.push(Problem::BadSubfieldCode {
                    tag: tag.to_string(),
                    found: show_bytes(&segment[..width.min(segment.len())], 4),
                });
                '\u{FFFD}'
            }
        };
        current = Some((code, (segment_start + width).min(next)..next, None));
    }
    if let Some((code, range, joined)) = current.take() {
        finish(code, range, joined, &mut subfields, w);
    }
    subfields.finish();
    (field.ind1, field.ind2) = (indicators[0], indicators[1]);
}

/// The subfields of a field with nothing to repair or warn about, the usual case: valid UTF-8,
/// two valid one-byte indicators straight before the first delimiter, and every delimiter
/// followed by a subfield code that is a printable ASCII character; they are written to
/// `subfields` and the answer is true. False for anything else, which [`build_field`] then
/// reads byte by byte with its repairs. This gives the same fields as that reading would, with
/// fewer checks and branches per subfield.
fn well_formed_subfields(
    data: &[u8],
    text: Option<&str>,
    decoding: Decoding,
    sds: &[usize],
    sds_base: usize,
    subfields: &mut SubfieldSlots<'_>,
) -> bool {
    let Some(text) = text else { return false };
    let indicator = |b: u8| b.is_ascii() && is_valid_indicator(char::from(b));
    let Some(&first) = sds.first() else { return false };
    if decoding.coding != Coding::Utf8 || first - sds_base != 2 || !indicator(data[0]) || !indicator(data[1]) {
        return false;
    }
    // Where the field's first byte of 0xCC or above is: the values before it are certainly NFC
    // and are not checked one by one (in a record with some text from U+0300 up, most fields
    // have none, and one pass over a field is cheaper than one per value).
    let first_high = if decoding.nfc_certain { usize::MAX } else { first_from_u0300(data).unwrap_or(usize::MAX) };
    // Written as they come; a bad code found midway sends the field to the careful reading,
    // which writes over what was written here.
    for (k, &pos) in sds.iter().enumerate() {
        let at = pos - sds_base;
        let Some(&code) = data.get(at + 1) else { return false };
        if !(0x21..0x7F).contains(&code) {
            return false;
        }
        let end = sds.get(k + 1).map_or(data.len(), |&p| p - sds_base);
        // Both ends are next to an ASCII byte, so on character boundaries.
        let Some(value) = text.get(at + 2..end) else { return false };
        if end <= first_high {
            subfields.push_str(char::from(code), value);
        } else {
            subfields.push_nfc(char::from(code), value);
        }
    }
    true
}

/// Writes records as ISO 2709 (UTF-8, leader/09 `a`).
pub struct Writer<W: Write> {
    out: W,
    buf: Vec<u8>,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W) -> Self {
        Writer { out, buf: Vec::with_capacity(4096) }
    }

    /// Writes one record. On error nothing of the record has been written.
    pub fn write_record(&mut self, record: &Record) -> Result<(), WriteError> {
        self.buf.clear();
        encode_into(record, &mut self.buf)?;
        self.out.write_all(&self.buf)?;
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Writes one record as ISO 2709 to `out`. On error nothing has been written.
pub fn write_record<W: Write + ?Sized>(record: &Record, out: &mut W) -> Result<(), WriteError> {
    let bytes = to_iso2709(record)?;
    out.write_all(&bytes)?;
    Ok(())
}

/// Reads one ISO 2709 record (as storage keeps them) with the default options; warnings are
/// dropped. See [`parse_record`] to keep them.
pub fn read_one(bytes: &[u8]) -> Result<Record, Problem> {
    parse_record(bytes, &ReadOptions::default()).map(|(record, _)| record)
}

/// One record as ISO 2709 bytes (UTF-8, leader/09 `a`, lengths recomputed).
pub fn to_iso2709(record: &Record) -> Result<Vec<u8>, WriteError> {
    let mut out = Vec::new();
    encode_into(record, &mut out)?;
    Ok(out)
}

/// Refuses bytes from the record terminator up to `last` (SD for subfield data, FT for
/// control fields).
fn check_delimiters(bytes: &[u8], tag: Tag, what: impl FnOnce() -> String, last: u8) -> Result<(), WriteError> {
    match bytes.iter().find(|&&b| (RT..=last).contains(&b)) {
        Some(&byte) => Err(WriteError::Delimiter { tag: tag.to_string(), what: what(), byte }),
        None => Ok(()),
    }
}

fn push_char(out: &mut Vec<u8>, c: char) {
    let mut tmp = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
}

fn put_digits(out: &mut [u8], mut n: usize) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

fn encode_into(record: &Record, out: &mut Vec<u8>) -> Result<(), WriteError> {
    let start_len = out.len();
    let dir_len = record.fields.len() * 12 + 1;
    let base = 24 + dir_len;
    // Leader and a placeholder directory, then the data; the directory is filled in after.
    out.extend_from_slice(record.leader.as_bytes());
    out.resize(start_len + base, b'0');
    let data_start = out.len();
    let mut field_start = 0usize;
    for (i, field) in record.fields.iter().enumerate() {
        let tag = field.tag();
        match field {
            Field::Control(c) => {
                // A subfield delimiter does not break a control field's framing: only the
                // terminators are refused.
                check_delimiters(c.value.as_bytes(), tag, || "the value".to_string(), FT)?;
                out.extend_from_slice(c.value.as_bytes());
            }
            Field::Data(d) => {
                for (n, ind) in [(1, d.ind1), (2, d.ind2)] {
                    let mut tmp = [0u8; 4];
                    check_delimiters(ind.encode_utf8(&mut tmp).as_bytes(), tag, || format!("indicator {n}"), SD)?;
                    push_char(out, ind);
                }
                for sf in &d.subfields {
                    let mut tmp = [0u8; 4];
                    check_delimiters(
                        sf.code.encode_utf8(&mut tmp).as_bytes(),
                        tag,
                        || "a subfield code".to_string(),
                        SD,
                    )?;
                    check_delimiters(sf.value.as_bytes(), tag, || format!("subfield ${}", sf.code), SD)?;
                    out.push(SD);
                    push_char(out, sf.code);
                    out.extend_from_slice(sf.value.as_bytes());
                }
            }
        }
        out.push(FT);
        let field_end = out.len() - data_start;
        let length = field_end - field_start;
        if length > 9_999 {
            out.truncate(start_len);
            return Err(WriteError::FieldTooLong { tag: tag.to_string(), length });
        }
        if field_start > 99_999 {
            let length = base + field_end + 1;
            out.truncate(start_len);
            return Err(WriteError::RecordTooLong { length });
        }
        let entry = start_len + 24 + i * 12;
        out[entry..entry + 3].copy_from_slice(tag.as_bytes());
        put_digits(&mut out[entry + 3..entry + 7], length);
        put_digits(&mut out[entry + 7..entry + 12], field_start);
        field_start = field_end;
    }
    out[data_start - 1] = FT;
    out.push(RT);
    let total = out.len() - start_len;
    if total > 99_999 {
        out.truncate(start_len);
        return Err(WriteError::RecordTooLong { length: total });
    }
    let leader = &mut out[start_len..start_len + 24];
    put_digits(&mut leader[0..5], total);
    leader[9] = b'a';
    leader[10..12].copy_from_slice(b"22");
    put_digits(&mut leader[12..17], base);
    leader[20..24].copy_from_slice(b"4500");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The chunked, branch-free search finds every match and nothing else, at any length,
        /// with any number of matches per chunk, into a buffer left over from a longer search.
        #[test]
        fn positions_into_finds_every_match(
            bytes in proptest::collection::vec(proptest::sample::select(vec![b'a', SD, SD, b' ', 0xCC]), 0..300),
            left_over in 0usize..100,
        ) {
            let mut out = vec![7; left_over];
            let n = positions_into(&bytes, |b| b == SD, &mut out);
            let expected: Vec<usize> = bytes.iter().enumerate().filter(|&(_, &b)| b == SD).map(|(i, _)| i).collect();
            proptest::prop_assert_eq!(&out[..n], &expected[..]);
        }

        /// The shortcut for well-formed fields reads every field exactly as the byte-by-byte
        /// reading with its repairs does: same field, same warnings.
        #[test]
        fn well_formed_shortcut_reads_as_the_careful_way(
            pieces in proptest::collection::vec(proptest::prop_oneof![
                proptest::sample::select(vec![" ", "0", "4", "a", "#", "\u{1f}", "\u{1f}a", "\u{1f}6", "\u{1f} ", "\u{1f}\u{1f}"]),
                proptest::sample::select(vec!["text ", "e\u{301}", "\u{4e2d}\u{6587}", "\u{ac00}\u{11a8}", "\u{5d0}", "\u{1f}\u{e9}x", "."]),
            ], 0..12),
            broken in proptest::bool::ANY,
        ) {
            let mut data: Vec<u8> = pieces.concat().into_bytes();
            if broken && data.len() > 3 {
                data[3] = 0xFF;
            }
            let text = std::str::from_utf8(&data).ok();
            let sds: Vec<usize> = data.iter().enumerate().filter(|(_, &b)| b == SD).map(|(i, _)| i + 7).collect();
            let decoding = Decoding { coding: Coding::Utf8, nfc_certain: !data.iter().any(|&b| b >= 0xCC) };
            let tag = Tag::from_bytes(b"245").expect("tag");
            // Into `fields`, the fields of a record read before, as a recycled record is read.
            let build = |mut fields: Vec<Field>, shortcut: bool| {
                let (mut spare_subfields, mut spare_strings, mut w) = (Vec::new(), Vec::new(), Vec::new());
                let mut slots = FieldSlots::new(&mut fields, 1, &mut spare_subfields, &mut spare_strings);
                build_field_with(tag, &data, text, decoding, &sds, 7, shortcut, &mut slots, &mut w);
                slots.finish();
                (fields, w)
            };
            let quick = build(Vec::new(), true);
            proptest::prop_assert_eq!(&quick, &build(Vec::new(), false));
            let long = "a value too long to be kept inline, on the heap";
            let previous = [
                Field::Data(DataField::new(tag, '1', '2').with('x', long).with('y', "short").with('z', long)),
                Field::Control(ControlField { tag, value: long.to_string() }),
            ];
            for field in previous {
                for shortcut in [true, false] {
                    proptest::prop_assert_eq!(&quick, &build(vec![field.clone(), field.clone()], shortcut));
                }
            }
        }
    }

    /// A well-formed record from raw field data (terminators added), leader lengths computed.
    fn iso(leader: &[u8; 24], fields: &[(&str, &[u8])]) -> Vec<u8> {
        let mut dir = Vec::new();
        let mut data = Vec::new();
        for (tag, bytes) in fields {
            dir.extend_from_slice(format!("{tag}{:04}{:05}", bytes.len() + 1, data.len()).as_bytes());
            data.extend_from_slice(bytes);
            data.push(FT);
        }
        dir.push(FT);
        let base = 24 + dir.len();
        let total = base + data.len() + 1;
        let mut out = leader.to_vec();
        out[0..5].copy_from_slice(format!("{total:05}").as_bytes());
        out[12..17].copy_from_slice(format!("{base:05}").as_bytes());
        out.extend(dir);
        out.extend(data);
        out.push(RT);
        out
    }

    const UTF8: &[u8; 24] = b"00000nam a2200000 a 4500";
    const MARC8: &[u8; 24] = b"00000nam  2200000 a 4500";

    fn simple() -> Vec<u8> {
        iso(UTF8, &[("001", b"ocm123"), ("245", b"10\x1faA title /\x1fcby someone.")])
    }

    fn parse(bytes: &[u8]) -> (Record, Vec<Problem>) {
        parse_record(bytes, &ReadOptions::default()).unwrap_or_else(|p| panic!("{p}"))
    }

    fn read_all(bytes: &[u8]) -> Vec<Result<ReadRecord, RecordError>> {
        Reader::new(bytes).collect()
    }

    #[test]
    fn reads_a_clean_record() {
        let (r, w) = parse(&simple());
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(r.control("001"), Some("ocm123"));
        let f = r.data_field("245").unwrap_or_else(|| panic!("no 245"));
        assert_eq!((f.ind1, f.ind2), ('1', '0'));
        assert_eq!(f.subfield('a'), Some("A title /"));
        assert_eq!(f.subfield('c'), Some("by someone."));
        assert_eq!(r.leader.character_coding(), b'a');
    }

    #[test]
    fn writes_what_it_reads() {
        let bytes = simple();
        let (r, _) = parse(&bytes);
        assert_eq!(to_iso2709(&r).ok(), Some(bytes.clone()));
        let mut out = Vec::new();
        let mut w = Writer::new(&mut out);
        w.write_record(&r).unwrap_or_else(|e| panic!("{e}"));
        w.write_record(&r).unwrap_or_else(|e| panic!("{e}"));
        drop(w);
        assert_eq!(out, [bytes.clone(), bytes].concat());
    }

    #[test]
    fn writer_sets_unicode_and_structure() {
        let mut r = Record::new(Leader::from_bytes(*b"99999cam  2200999 a 4500"));
        r.push_control(Tag::parse("001").unwrap_or_else(|e| panic!("{e}")), "x");
        let bytes = to_iso2709(&r).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&bytes[..24], b"00040cam a2200037 a 4500");
        assert_eq!(bytes.len(), 40);
    }

    #[test]
    fn writer_refuses_what_iso2709_cannot_carry() {
        let tag = Tag::parse("500").unwrap_or_else(|e| panic!("{e}"));
        let mut r = Record::default();
        r.push_data(DataField::new(tag, ' ', ' ').with('a', "x".repeat(9_997)));
        assert!(matches!(to_iso2709(&r), Err(WriteError::FieldTooLong { length: 10_002, .. })));

        let mut r = Record::default();
        for _ in 0..12 {
            r.push_data(DataField::new(tag, ' ', ' ').with('a', "x".repeat(9_000)));
        }
        let err = to_iso2709(&r).err();
        assert!(matches!(err, Some(WriteError::RecordTooLong { .. })), "{err:?}");
        assert!(err.map(|e| e.to_string()).unwrap_or_default().contains("99,999"));

        let mut r = Record::default();
        r.push_data(DataField::new(tag, ' ', ' ').with('a', "a\u{1f}b"));
        assert!(matches!(to_iso2709(&r), Err(WriteError::Delimiter { byte: 0x1F, .. })));
        let mut out = Vec::new();
        assert!(write_record(&r, &mut out).is_err());
        assert!(out.is_empty(), "nothing written for a refused record");
    }

    #[test]
    fn terminator_wins_over_leader_length() {
        let mut bytes = simple();
        bytes[0..5].copy_from_slice(b"00999");
        let (r, w) = parse(&bytes);
        assert_eq!(w, vec![Problem::RecordLengthMismatch { leader: 999, actual: bytes.len() }]);
        assert_eq!(r.control("001"), Some("ocm123"));
        // In a stream too: the next record is found.
        let stream = [bytes.clone(), simple()].concat();
        let items = read_all(&stream);
        assert_eq!(items.len(), 2);
        assert!(items.iter().all(Result::is_ok));
        assert_eq!(items[1].as_ref().map(|r| r.offset).ok(), Some(bytes.len() as u64));
    }

    #[test]
    fn non_numeric_leader() {
        let mut bytes = simple();
        bytes[0..5].copy_from_slice(b"0x1A3");
        let (_, w) = parse(&bytes);
        assert_eq!(w, vec![Problem::RecordLengthNotNumeric { found: "0x1A3".into() }]);
        bytes[12..17].copy_from_slice(b"abcde");
        assert!(matches!(parse_record(&bytes, &ReadOptions::default()), Err(Problem::NotARecord { .. })));
        assert!(matches!(parse_record(b"0123", &ReadOptions::default()), Err(Problem::TooShort { len: 4 })));
        let just_a_leader = b"00024nam a2200025 a 450\x1d";
        assert_eq!(parse_record(just_a_leader, &ReadOptions::default()).err(), Some(Problem::TooShort { len: 24 }));
        let items = read_all(just_a_leader);
        assert!(items.len() == 1 && items[0].is_err());
    }

    #[test]
    fn missing_record_terminator_between_records() {
        let first = simple();
        let stream = [&first[..first.len() - 1], &simple()[..]].concat();
        let items = read_all(&stream);
        assert_eq!(items.len(), 2, "{items:?}");
        let one = items[0].as_ref().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(one.warnings, vec![Problem::MissingRecordTerminator]);
        assert_eq!(one.raw.len(), first.len() - 1);
        assert!(items[1].as_ref().is_ok_and(|r| r.warnings.is_empty() && r.number == 2));
    }

    #[test]
    fn missing_record_terminator_at_end_of_file() {
        let bytes = simple();
        let items = read_all(&bytes[..bytes.len() - 1]);
        assert_eq!(items.len(), 1);
        assert!(items[0].as_ref().is_ok_and(|r| r.warnings == vec![Problem::MissingRecordTerminator]));
    }

    #[test]
    fn missing_field_terminator() {
        // The last field lost its terminator: offsets no longer match, terminators do.
        let bytes = simple();
        let mut broken = bytes[..bytes.len() - 2].to_vec();
        broken.push(RT);
        let (r, w) = parse(&broken);
        assert!(w.iter().any(|p| matches!(p, Problem::MissingFieldTerminator { tag } if tag == "245")), "{w:?}");
        assert_eq!(r.data_field("245").and_then(|f| f.subfield('c')), Some("by someone."));
    }

    #[test]
    fn broken_directory_entries() {
        // A non-numeric length: fields are located by their terminators.
        let mut bytes = simple();
        bytes[24 + 12 + 3] = b'x';
        let (r, w) = parse(&bytes);
        assert!(w.iter().any(|p| matches!(p, Problem::FieldsLocatedByTerminators { .. })), "{w:?}");
        assert_eq!(r.fields.len(), 2);
        // A directory that no longer matches at all is rejected.
        let mut bytes = simple();
        bytes[24..48].copy_from_slice(b"0 1000799999245002799990");
        let result = parse_record(&bytes, &ReadOptions::default());
        assert!(matches!(result, Err(Problem::DirectoryUnusable { entries: 2, located: 0 })), "{result:?}");
    }

    #[test]
    fn base_address_and_directory_terminator() {
        let mut bytes = simple();
        bytes[12..17].copy_from_slice(b"00099");
        let (r, w) = parse(&bytes);
        assert_eq!(w, vec![Problem::BaseAddress { found: "00099".into(), actual: 49 }]);
        assert_eq!(r.fields.len(), 2);
        let mut bytes = simple();
        bytes[48] = SD;
        let (r, w) = parse(&bytes);
        assert_eq!(w, vec![Problem::DirectoryTerminator { found: SD }]);
        assert_eq!(r.fields.len(), 2);
        let no_dir = [&b"00030nam a2200025 a 4500"[..], b"abcde\x1d"].concat();
        assert_eq!(parse_record(&no_dir, &ReadOptions::default()).err(), Some(Problem::NoDirectory));
        let empty = [&b"00026nam a2200025 a 4500"[..], b"\x1e\x1d"].concat();
        assert_eq!(parse_record(&empty, &ReadOptions::default()).err(), Some(Problem::NoFields));
    }

    #[test]
    fn invalid_tag_drops_the_field_only() {
        let bytes = iso(UTF8, &[("0 2", b"  \x1fa978"), ("245", b"00\x1faTitle")]);
        let (r, w) = parse(&bytes);
        assert!(matches!(&w[..], [Problem::InvalidTag { index: 1, tag, .. }] if tag == "0 2"), "{w:?}");
        assert_eq!(r.fields.len(), 1);
    }

    #[test]
    fn bad_and_missing_indicators() {
        let bytes = iso(UTF8, &[("245", b"-\x07\x1faTitle"), ("246", b"\x1faOther"), ("247", b"1\x1faThird")]);
        let (r, w) = parse(&bytes);
        let f = |t: &str| r.data_field(t).map(|f| (f.ind1, f.ind2));
        assert_eq!(f("245"), Some(('-', ' ')));
        assert_eq!(f("246"), Some((' ', ' ')));
        assert_eq!(f("247"), Some(('1', ' ')));
        assert!(w.contains(&Problem::BadIndicator {
            tag: "245".into(),
            position: 1,
            found: "-".into(),
            replaced: false
        }));
        assert!(w.contains(&Problem::BadIndicator {
            tag: "245".into(),
            position: 2,
            found: "\\x07".into(),
            replaced: true
        }));
        assert!(w.contains(&Problem::MissingIndicators { tag: "246".into() }));
        assert!(w.contains(&Problem::MissingIndicators { tag: "247".into() }));
        assert_eq!(r.data_field("245").and_then(|f| f.subfield('a')), Some("Title"));
    }

    #[test]
    fn subfield_damage() {
        let bytes = iso(
            UTF8,
            &[
                ("245", "10\x1f\u{e1}Title\x1f\x1fbRest".as_bytes()),
                ("500", b"  lost\x1faNote\x1f more\x1f\x1bx"),
                ("650", b" 0\x1faTopic\x1f"),
            ],
        );
        let (r, w) = parse(&bytes);
        let f245 = r.data_field("245").unwrap_or_else(|| panic!("245"));
        assert_eq!(f245.subfields, vec![Subfield::new('\u{e1}', "Title"), Subfield::new('b', "Rest")]);
        assert!(w.contains(&Problem::BadSubfieldCode { tag: "245".into(), found: "\u{e1}".into() }));
        assert!(w.contains(&Problem::EmptySubfieldCode { tag: "245".into() }));
        let f500 = r.data_field("500").unwrap_or_else(|| panic!("500"));
        assert_eq!(f500.subfields, vec![Subfield::new('a', "Note more\u{1b}x")]);
        assert!(w.contains(&Problem::DataBeforeFirstSubfield { tag: "500".into(), text: "lost".into() }));
        assert_eq!(w.iter().filter(|p| matches!(p, Problem::StraySubfieldDelimiter { .. })).count(), 2);
        assert_eq!(r.data_field("650").map(|f| f.subfields.len()), Some(1));
        assert!(w.contains(&Problem::EmptySubfieldCode { tag: "650".into() }));
    }

    #[test]
    fn fields_without_subfields_and_control_fields_with_delimiters() {
        let bytes =
            iso(UTF8, &[("001", b"123\x1f"), ("003", b"a\x1fb"), ("500", b"no delimiters here"), ("590", b"10")]);
        let (r, w) = parse(&bytes);
        assert_eq!(r.control("001"), Some("123"), "a trailing delimiter is dropped silently");
        assert_eq!(r.control("003"), Some("a\u{1f}b"));
        assert_eq!(r.control("500"), Some("no delimiters here"));
        assert_eq!(r.data_field("590").map(|f| (f.ind1, f.ind2, f.subfields.len())), Some(('1', '0', 0)));
        assert_eq!(
            w,
            vec![Problem::DelimiterInControlField { tag: "003".into() }, Problem::NoSubfields { tag: "500".into() }]
        );
        // The writer can write all of it back.
        let again = to_iso2709(&r).map(|b| parse(&b).0).ok();
        assert_eq!(again.as_ref().map(|a| a.same_content(&r)), Some(true));
        // A 00X laid out as a data field is read as one.
        let (r, w) = parse(&iso(UTF8, &[("008", b"00\x1faDanMARC")]));
        assert_eq!(r.data_field("008").and_then(|f| f.subfield('a')), Some("DanMARC"));
        assert_eq!(w, vec![Problem::DataFieldWithControlTag { tag: "008".into() }]);
    }

    #[test]
    fn invalid_utf8_in_one_subfield() {
        let bytes = iso(UTF8, &[("245", b"10\x1faCaf\xc3\xa9 \xff!\x1fbfine \xc3\xa9")]);
        let (r, w) = parse(&bytes);
        assert_eq!(w, vec![Problem::InvalidUtf8 { tag: "245".into(), code: Some('a') }]);
        let f = r.data_field("245").unwrap_or_else(|| panic!("245"));
        assert_eq!(f.subfield('a'), Some("Café \u{FFFD}!"));
        assert_eq!(f.subfield('b'), Some("fine é"));
    }

    #[test]
    fn text_comes_back_nfc() {
        let (r, w) = parse(&iso(UTF8, &[("245", "10\x1faCafe\u{301}".as_bytes())]));
        assert!(w.is_empty());
        assert_eq!(r.data_field("245").and_then(|f| f.subfield('a')), Some("Caf\u{e9}"));
    }

    #[test]
    fn leader_09_that_lies() {
        // Says UTF-8, is MARC-8 (ANSEL acute 0xE2 before the letter).
        let lying = iso(UTF8, &[("245", b"10\x1faCaf\xe2e")]);
        let (r, w) = parse(&lying);
        assert!(matches!(&w[..], [Problem::CodingMismatch { declared: 'a', used: Encoding::Marc8, .. }]), "{w:?}");
        assert_eq!(r.data_field("245").and_then(|f| f.subfield('a')), Some("Caf\u{e9}"));
        // Says MARC-8, is UTF-8.
        let lying = iso(MARC8, &[("245", "10\x1faCafé".as_bytes())]);
        let (r, w) = parse(&lying);
        assert!(matches!(&w[..], [Problem::CodingMismatch { declared: ' ', used: Encoding::Utf8, .. }]), "{w:?}");
        assert_eq!(r.data_field("245").and_then(|f| f.subfield('a')), Some("Café"));
        assert_eq!(r.leader.character_coding(), b'a');
        // An honest MARC-8 record.
        let (r, w) = parse(&iso(MARC8, &[("245", b"10\x1faCaf\xe2e")]));
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(r.data_field("245").and_then(|f| f.subfield('a')), Some("Caf\u{e9}"));
        // Not a coding at all.
        let (_, w) = parse(&iso(b"00000nam x2200000 a 4500", &[("245", b"10\x1faplain")]));
        assert!(matches!(&w[..], [Problem::CodingMismatch { declared: 'x', .. }]), "{w:?}");
    }

    #[test]
    fn forced_encoding() {
        let bytes = iso(UTF8, &[("245", b"10\x1faCaf\xe2e")]);
        let marc8 = ReadOptions { encoding: Encoding::Marc8 };
        let (r, w) = parse_record(&bytes, &marc8).unwrap_or_else(|p| panic!("{p}"));
        assert!(w.is_empty());
        assert_eq!(r.data_field("245").and_then(|f| f.subfield('a')), Some("Caf\u{e9}"));
        let utf8 = ReadOptions { encoding: Encoding::Utf8 };
        let (r, w) = parse_record(&bytes, &utf8).unwrap_or_else(|p| panic!("{p}"));
        assert_eq!(w, vec![Problem::InvalidUtf8 { tag: "245".into(), code: Some('a') }]);
        assert_eq!(r.data_field("245").and_then(|f| f.subfield('a')), Some("Caf\u{FFFD}e"));
        let items: Vec<_> = Reader::with_options(&bytes[..], marc8).collect();
        assert!(items[0].as_ref().is_ok_and(|r| r.warnings.is_empty()));
    }

    #[test]
    fn padding_between_records_is_skipped() {
        let one = simple();
        let stream =
            [b"\x00\n"[..].to_vec(), one.clone(), b"\r\n\x1a\x1d  ".to_vec(), one.clone(), b"\n\x00".to_vec()].concat();
        let items = read_all(&stream);
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].as_ref().map(|r| r.offset).ok(), Some(2));
        assert_eq!(items[1].as_ref().map(|r| (r.number, r.offset)).ok(), Some((2, 2 + one.len() as u64 + 6)));
        assert!(items.iter().all(|i| i.as_ref().is_ok_and(|r| r.warnings.is_empty() && r.raw == one)));
    }

    #[test]
    fn garbage_and_truncation_at_end_of_file() {
        let one = simple();
        let items = read_all(&[one.clone(), b"junk".to_vec()].concat());
        assert_eq!(items.len(), 2);
        let err = items[1].as_ref().err().unwrap_or_else(|| panic!("garbage read as a record"));
        assert_eq!((err.number, err.offset, &err.raw[..]), (2, one.len() as u64, &b"junk"[..]));
        assert_eq!(err.problem, Problem::TrailingGarbage { len: 4 });
        assert!(!err.fatal);

        let items = read_all(&[one.clone(), one[..40].to_vec()].concat());
        let err = items[1].as_ref().err().map(|e| e.problem.clone());
        assert_eq!(err, Some(Problem::Truncated { leader: one.len(), available: 40 }));
    }

    #[test]
    fn bad_record_in_the_middle_resynchronises() {
        let one = simple();
        let stream = [one.clone(), b"this is not a MARC record at all\x1d".to_vec(), one.clone()].concat();
        let items = read_all(&stream);
        assert_eq!(items.len(), 3);
        assert!(items[0].is_ok() && items[2].is_ok());
        let err = items[1].as_ref().err().unwrap_or_else(|| panic!("read"));
        assert!(matches!(err.problem, Problem::NotARecord { .. }), "{err}");
        assert_eq!(err.raw, b"this is not a MARC record at all\x1d");
        assert!(err.to_string().starts_with(&format!("record 2 at byte {}: not a MARC record", one.len())));
    }

    #[test]
    fn runaway_data_without_terminator_is_skipped() {
        let one = simple();
        let mut stream = vec![b'7'; MAX_RECORD_BYTES + 10];
        stream.push(RT);
        stream.extend_from_slice(&one);
        let items = read_all(&stream);
        assert_eq!(items.len(), 2);
        let err = items[0].as_ref().err().unwrap_or_else(|| panic!("read"));
        assert_eq!(err.problem, Problem::Runaway { limit: MAX_RECORD_BYTES, skipped: MAX_RECORD_BYTES as u64 + 11 });
        assert_eq!(err.raw.len(), MAX_RECORD_BYTES);
        assert!(items[1].as_ref().is_ok_and(|r| r.raw == one));
    }

    /// Hands out at most `n` bytes per read, then fails if asked to.
    struct Trickle<'a> {
        data: &'a [u8],
        n: usize,
        fail_at_end: bool,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.data.is_empty() && self.fail_at_end {
                return Err(io::Error::other("disk on fire"));
            }
            let n = self.n.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn tiny_reads_give_the_same_result() {
        let one = simple();
        let stream = [one.clone(), b"\n".to_vec(), one[..one.len() - 1].to_vec(), one.clone(), b"xx".to_vec()].concat();
        let whole: Vec<_> = read_all(&stream);
        for n in [1, 2, 7, 64] {
            let trickled: Vec<_> = Reader::new(Trickle { data: &stream, n, fail_at_end: false }).collect();
            assert_eq!(trickled, whole, "reads of {n} bytes");
        }
        assert_eq!(whole.len(), 4);
    }

    #[test]
    fn io_error_is_fatal_and_ends_the_stream() {
        let one = simple();
        let mut reader = Reader::new(Trickle { data: &one, n: 1000, fail_at_end: true });
        assert!(reader.next().is_some_and(|r| r.is_ok()));
        let err = reader.next().and_then(Result::err).unwrap_or_else(|| panic!("no error"));
        assert!(err.fatal);
        assert!(matches!(err.problem, Problem::Io { .. }));
        assert!(reader.next().is_none());
    }

    #[test]
    fn read_one_and_write_record_helpers() {
        let r = read_one(&simple()).unwrap_or_else(|p| panic!("{p}"));
        let mut out = Vec::new();
        write_record(&r, &mut out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out, simple());
        assert!(read_one(b"nonsense").is_err());
    }
}
