//! MARCXML (MARC 21 slim, `http://www.loc.gov/MARC21/slim`): a streaming, record-by-record
//! reader that recovers from a malformed record, and a writer.
//!
//! # Reading
//!
//! [`Reader`] wraps any [`Read`] and yields one `Result<ReadRecord, RecordError>` per
//! `record` element, whatever its prefix (`record`, `marc:record`, ...), under a `collection`
//! root, as a bare root, or inside any other wrapper. It never holds more than the current
//! record in memory: a light scanner finds each record's extent (skipping comments, CDATA,
//! processing instructions and quoted attribute values), and the record alone is then parsed
//! with `quick-xml`. So malformed XML inside one record rejects that record only, with its
//! number, its byte offset and the line and column of the fault, and reading goes on with the
//! next record. A record whose end tag is missing ends where the next `record` (or the
//! closing `collection`) starts. Only damage the scanner cannot see past (end of file inside a
//! record, comment or tag) stops the reader, with a fatal [`RecordError`] naming the position.
//!
//! Characters XML 1.0 forbids (raw or as character references, e.g. a raw 0x07) make the
//! record malformed. Invalid UTF-8 is replaced by U+FFFD with a warning. An `encoding` of
//! ISO-8859-1 in the XML declaration is honoured; other non-UTF-8 encodings are refused.
//!
//! Repairs, each with a warning: a missing leader becomes a blank one; a leader that is not 24
//! characters is padded or cut; a numeric tag of one or two digits gets leading zeros (`42` →
//! `042`); an empty or missing indicator is a blank; a subfield without a code is dropped;
//! unknown elements are ignored. A field whose tag cannot be repaired is dropped; a record
//! without fields is rejected.
//!
//! MARCXML text is Unicode whatever leader/09 says, so it is never MARC-8-decoded; the returned
//! record has leader/09 `a` and NFC text, as from the ISO 2709 reader.
//!
//! # Writing
//!
//! [`Writer`] writes a `collection` in the MARC21/slim namespace, one `record` per call, with
//! `&`, `<`, `>` and `"` escaped, carriage returns written as `&#xD;` (and tabs/newlines in
//! attributes as references) so they survive a round trip. Characters XML 1.0 cannot carry at
//! all (C0 controls other than tab, LF and CR; U+FFFE, U+FFFF) are written as U+FFFD and
//! counted in [`Writer::replaced_characters`].

use std::borrow::Cow;
use std::io::{self, Read, Write};

use quick_xml::events::{BytesStart, Event};
use quick_xml::XmlVersion;

use crate::iso2709::repair_leader_structure;
use crate::problem::{show_bytes, Problem, ReadRecord, RecordError, WriteError};
use crate::record::{ControlField, DataField, Field, Leader, Record, Subfield, SubfieldValue, Tag};
use crate::text::{is_acceptable_code, is_valid_indicator, is_xml_char, nfc, nfc_owned};

/// The MARC 21 slim namespace.
pub const MARCXML_NAMESPACE: &str = "http://www.loc.gov/MARC21/slim";

const READ_CHUNK: usize = 64 * 1024;
/// A single record (or a single comment, tag, ...) larger than this stops the reader.
pub const MAX_XML_RECORD_BYTES: usize = 64 << 20;

/// What the scanner found at a `<`.
enum Markup {
    /// Comment, CDATA, processing instruction, DOCTYPE or stray `<`: skipped.
    Other,
    /// `<?xml ... ?>`, with its text.
    Declaration(Vec<u8>),
    Start {
        name: Vec<u8>,
        empty: bool,
    },
    End {
        name: Vec<u8>,
    },
}

fn local_name(qname: &[u8]) -> &[u8] {
    match qname.iter().rposition(|&b| b == b':') {
        Some(i) => &qname[i + 1..],
        None => qname,
    }
}

fn is_name_byte(b: u8) -> bool {
    !(b.is_ascii_whitespace() || matches!(b, b'/' | b'>' | b'<' | b'=' | b'"' | b'\'' | b'!' | b'?'))
}

/// Streaming MARCXML reader; see the [module documentation](self).
pub struct Reader<R> {
    inner: R,
    buf: Vec<u8>,
    /// File offset of `buf[0]`.
    buf_offset: u64,
    /// Line number (1-based) of `buf[0]`, and the offset of the line start that precedes it.
    buf_line: u64,
    buf_line_start: u64,
    /// The last position resolved to a line: (offset, line, offset of that line's start).
    /// Records come in file order, so counting on from here keeps line numbers linear.
    line_cache: (u64, u64, u64),
    /// File offset of the next byte to look at.
    pos: u64,
    eof: bool,
    done: bool,
    started: bool,
    latin1: bool,
    number: usize,
}

/// An error that ends reading: what to report and where.
struct Fatal {
    at: u64,
    message: String,
}

impl<R: Read> Reader<R> {
    pub fn new(inner: R) -> Self {
        Reader {
            inner,
            buf: Vec::with_capacity(READ_CHUNK * 2),
            buf_offset: 0,
            buf_line: 1,
            buf_line_start: 0,
            line_cache: (0, 1, 0),
            pos: 0,
            eof: false,
            done: false,
            started: false,
            latin1: false,
            number: 0,
        }
    }

    fn end(&self) -> u64 {
        self.buf_offset + self.buf.len() as u64
    }

    fn idx(&self, abs: u64) -> usize {
        (abs - self.buf_offset) as usize
    }

    /// Drops buffered bytes before `keep`, then reads more. Returns false at end of file.
    fn fill(&mut self, keep: u64) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        let drop = self.idx(keep.max(self.buf_offset).min(self.end()));
        if drop > 0 && drop >= self.buf.len() / 2 {
            let (line, line_start) = self.line_col_raw(self.buf_offset + drop as u64);
            self.buf_line = line;
            self.buf_line_start = line_start;
            self.buf.drain(..drop);
            self.buf_offset += drop as u64;
        }
        if self.buf.len() > MAX_XML_RECORD_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a single MARCXML record or markup is larger than {MAX_XML_RECORD_BYTES} bytes"),
            ));
        }
        let len = self.buf.len();
        self.buf.resize(len + READ_CHUNK, 0);
        loop {
            match self.inner.read(&mut self.buf[len..]) {
                Ok(n) => {
                    self.buf.truncate(len + n);
                    if n == 0 {
                        self.eof = true;
                    }
                    return Ok(n > 0);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buf.truncate(len);
                    return Err(e);
                }
            }
        }
    }

    /// Line and line-start offset at a buffered offset (also moves the cache there).
    fn line_col_raw(&mut self, abs: u64) -> (u64, u64) {
        self.line_col(abs);
        (self.line_cache.1, self.line_cache.2)
    }

    /// Makes sure bytes up to `abs_end` (exclusive) are buffered, if the file has them.
    fn ensure(&mut self, abs_end: u64, keep: u64) -> io::Result<()> {
        while self.end() < abs_end && self.fill(keep)? {}
        Ok(())
    }

    fn byte(&self, abs: u64) -> Option<u8> {
        if abs >= self.buf_offset && abs < self.end() {
            Some(self.buf[self.idx(abs)])
        } else {
            None
        }
    }

    fn starts_with(&mut self, abs: u64, pat: &[u8], keep: u64) -> io::Result<bool> {
        self.ensure(abs + pat.len() as u64, keep)?;
        let i = self.idx(abs);
        Ok(self.buf.get(i..i + pat.len()) == Some(pat))
    }

    /// Offset of the next occurrence of `pat` at or after `from`.
    fn find(&mut self, from: u64, pat: &[u8], keep: u64) -> io::Result<Option<u64>> {
        let mut search = from;
        loop {
            let i = self.idx(search);
            let found = match pat {
                [b] => memchr::memchr(*b, &self.buf[i..]),
                _ => memchr::memmem::find(&self.buf[i..], pat),
            };
            if let Some(p) = found {
                return Ok(Some(search + p as u64));
            }
            search = (self.end() + 1).saturating_sub(pat.len() as u64).max(search);
            if !self.fill(keep)? {
                return Ok(None);
            }
        }
    }

    /// Line and column (1-based) of a buffered offset.
    fn line_col(&mut self, abs: u64) -> (u64, u64) {
        let abs = abs.clamp(self.buf_offset, self.end());
        let (from, mut line, mut line_start) = if self.line_cache.0 >= self.buf_offset && self.line_cache.0 <= abs {
            self.line_cache
        } else {
            (self.buf_offset, self.buf_line, self.buf_line_start)
        };
        let region = &self.buf[self.idx(from)..self.idx(abs)];
        if let Some(last) = memchr::memrchr(b'\n', region) {
            line += memchr::memchr_iter(b'\n', region).count() as u64;
            line_start = from + last as u64 + 1;
        }
        self.line_cache = (abs, line, line_start);
        (line, abs - line_start + 1)
    }

    /// Reads the markup starting with `<` at `at`. Returns it and the offset just after it.
    fn markup(&mut self, at: u64, keep: u64) -> Result<(Markup, u64), Fatal> {
        let io = |e: io::Error| Fatal { at, message: format!("I/O error: {e}") };
        let unclosed = |what: &str| Fatal { at, message: format!("{what} is never closed") };
        if self.starts_with(at, b"<!--", keep).map_err(io)? {
            let end = self.find(at + 4, b"-->", keep).map_err(io)?.ok_or_else(|| unclosed("comment"))?;
            return Ok((Markup::Other, end + 3));
        }
        if self.starts_with(at, b"<![CDATA[", keep).map_err(io)? {
            let end = self.find(at + 9, b"]]>", keep).map_err(io)?.ok_or_else(|| unclosed("CDATA section"))?;
            return Ok((Markup::Other, end + 3));
        }
        if self.starts_with(at, b"<?", keep).map_err(io)? {
            let end = self.find(at + 2, b"?>", keep).map_err(io)?.ok_or_else(|| unclosed("processing instruction"))?;
            let text = self.buf[self.idx(at)..self.idx(end)].to_vec();
            if text.len() >= 6 && text[2..5].eq_ignore_ascii_case(b"xml") && text[5].is_ascii_whitespace() {
                return Ok((Markup::Declaration(text), end + 2));
            }
            return Ok((Markup::Other, end + 2));
        }
        if self.starts_with(at, b"<!", keep).map_err(io)? {
            let gt = self.find(at + 2, b">", keep).map_err(io)?.ok_or_else(|| unclosed("declaration"))?;
            let bracket = self.buf[self.idx(at)..self.idx(gt)].contains(&b'[');
            if bracket {
                let end = self.find(at + 2, b"]>", keep).map_err(io)?;
                let end = self.find(end.unwrap_or(gt), b">", keep).map_err(io)?.ok_or_else(|| unclosed("DOCTYPE"))?;
                return Ok((Markup::Other, end + 1));
            }
            return Ok((Markup::Other, gt + 1));
        }
        let closing = self.starts_with(at, b"</", keep).map_err(io)?;
        let name_start = at + if closing { 2 } else { 1 };
        // The name.
        let mut p = name_start;
        loop {
            match self.byte(p) {
                Some(b) if is_name_byte(b) => p += 1,
                Some(_) => break,
                None => {
                    if !self.fill(keep).map_err(io)? {
                        break;
                    }
                }
            }
        }
        if p == name_start {
            // `<` that starts no markup: malformed text, left to the record parser.
            return Ok((Markup::Other, at + 1));
        }
        let name = self.buf[self.idx(name_start)..self.idx(p)].to_vec();
        // The rest of the tag, respecting quotes; a `<` means the tag is broken.
        let mut quote: Option<u8> = None;
        let mut prev = 0u8;
        loop {
            let Some(b) = self.byte(p) else {
                if !self.fill(keep).map_err(io)? {
                    return Err(unclosed("tag"));
                }
                continue;
            };
            match quote {
                Some(_) if b == b'<' => return Ok((Markup::Other, p)),
                Some(q) if b == q => quote = None,
                Some(_) => {}
                None => match b {
                    b'"' | b'\'' => quote = Some(b),
                    b'<' => return Ok((Markup::Other, p)),
                    b'>' => {
                        let markup =
                            if closing { Markup::End { name } } else { Markup::Start { name, empty: prev == b'/' } };
                        return Ok((markup, p + 1));
                    }
                    _ => {}
                },
            }
            prev = b;
            p += 1;
        }
    }

    /// Ends reading with `fatal`, reported as record `self.number` (callers outside a record
    /// count the record that could not be read first).
    fn fatal(&mut self, start: u64, fatal: Fatal) -> RecordError {
        self.done = true;
        let (line, column) = self.line_col(fatal.at);
        let raw = self.buf[self.idx(start.clamp(self.buf_offset, self.end()))..].to_vec();
        RecordError {
            number: self.number,
            offset: start,
            raw,
            problem: Problem::MalformedXml { line, column, message: fatal.message },
            fatal: true,
        }
    }

    /// Handles the XML declaration's encoding.
    fn declaration(&mut self, text: &[u8], at: u64) -> Result<(), Fatal> {
        let lower = text.to_ascii_lowercase();
        let Some(i) = lower.windows(8).position(|w| w == b"encoding") else {
            return Ok(());
        };
        let rest = &lower[i + 8..];
        let Some(q) = rest.iter().position(|&b| b == b'"' || b == b'\'') else {
            return Ok(());
        };
        let quote = rest[q];
        let value = &rest[q + 1..];
        let value = &value[..value.iter().position(|&b| b == quote).unwrap_or(value.len())];
        match value {
            b"utf-8" | b"utf8" | b"us-ascii" | b"ascii" => Ok(()),
            b"iso-8859-1" | b"latin1" | b"latin-1" | b"iso_8859-1" | b"l1" => {
                self.latin1 = true;
                Ok(())
            }
            other => Err(Fatal {
                at,
                message: format!("XML encoding {:?} is not supported (use UTF-8)", show_bytes(other, 40)),
            }),
        }
    }

    fn next_item(&mut self) -> Option<Result<ReadRecord, RecordError>> {
        if self.done {
            return None;
        }
        if !self.started {
            self.started = true;
            if let Err(e) = self.ensure(4, 0) {
                self.number += 1;
                return Some(Err(self.fatal(0, Fatal { at: 0, message: format!("I/O error: {e}") })));
            }
            if self.buf.starts_with(b"\xEF\xBB\xBF") {
                self.pos = 3;
            } else if self.buf.starts_with(b"\xFE\xFF") || self.buf.starts_with(b"\xFF\xFE") {
                let f = Fatal { at: 0, message: "UTF-16 MARCXML is not supported (use UTF-8)".to_string() };
                self.number += 1;
                return Some(Err(self.fatal(0, f)));
            }
        }
        loop {
            let lt = match self.find(self.pos, b"<", self.pos) {
                Ok(Some(lt)) => lt,
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    let at = self.pos;
                    self.number += 1;
                    return Some(Err(self.fatal(at, Fatal { at, message: format!("I/O error: {e}") })));
                }
            };
            let (markup, after) = match self.markup(lt, lt) {
                Ok(m) => m,
                Err(f) => {
                    self.number += 1;
                    return Some(Err(self.fatal(lt, f)));
                }
            };
            self.pos = after;
            match markup {
                Markup::Declaration(text) => {
                    if let Err(f) = self.declaration(&text, lt) {
                        self.number += 1;
                        return Some(Err(self.fatal(lt, f)));
                    }
                }
                Markup::Start { name, empty } => {
                    let local = local_name(&name);
                    if local == b"record" {
                        match self.record(lt, &name, empty, after, None) {
                            Some(item) => return Some(item),
                            None => continue,
                        }
                    }
                    if matches!(local, b"leader" | b"controlfield" | b"datafield" | b"subfield") {
                        let message =
                            format!("MARCXML element <{}> outside any <record>", String::from_utf8_lossy(&name));
                        match self.record(lt, &name, empty, after, Some(message)) {
                            Some(item) => return Some(item),
                            None => continue,
                        }
                    }
                    // A wrapper (collection, an envelope, ...): look inside.
                }
                Markup::End { .. } | Markup::Other => {}
            }
        }
    }

    /// Scans one element named `qname` that starts at `start` (its start tag ends at
    /// `after_tag`) and parses it as a record; `stray` rejects it with that message instead.
    fn record(
        &mut self,
        start: u64,
        qname: &[u8],
        empty: bool,
        after_tag: u64,
        stray: Option<String>,
    ) -> Option<Result<ReadRecord, RecordError>> {
        self.number += 1;
        let mut unclosed: Option<(u64, String)> = None;
        let mut seen_fields = false;
        let end = if empty {
            after_tag
        } else {
            let mut cursor = after_tag;
            loop {
                let lt = match self.find(cursor, b"<", start) {
                    Ok(Some(lt)) => lt,
                    Ok(None) => {
                        let f = Fatal { at: start, message: "end of file inside this record".to_string() };
                        return Some(Err(self.fatal(start, f)));
                    }
                    Err(e) => {
                        let f = Fatal { at: cursor, message: format!("I/O error: {e}") };
                        return Some(Err(self.fatal(start, f)));
                    }
                };
                let (markup, after) = match self.markup(lt, start) {
                    Ok(m) => m,
                    Err(f) => return Some(Err(self.fatal(start, f))),
                };
                match markup {
                    Markup::End { name } if name == qname || local_name(&name) == local_name(qname) => break after,
                    Markup::End { name } if local_name(&name) == b"collection" => {
                        unclosed = Some((lt, format!("not closed before </{}>", String::from_utf8_lossy(&name))));
                        break lt;
                    }
                    Markup::Start { name, .. } if local_name(&name) == b"record" => {
                        if !seen_fields && stray.is_none() {
                            // No MARC content yet: the outer element was a wrapper that happens
                            // to be called `record` (OAI-PMH); the MARC record is the inner one.
                            self.number -= 1;
                            self.pos = lt;
                            return None;
                        }
                        unclosed = Some((lt, "not closed before the next <record>".to_string()));
                        break lt;
                    }
                    Markup::Start { name, .. } => {
                        seen_fields |= matches!(local_name(&name), b"leader" | b"controlfield" | b"datafield");
                        cursor = after;
                    }
                    _ => cursor = after,
                }
            }
        };
        self.pos = end;
        let number = self.number;
        let raw = self.buf[self.idx(start)..self.idx(end)].to_vec();
        let reject = |problem: Problem| RecordError { number, offset: start, raw: raw.clone(), problem, fatal: false };
        if let Some(message) = stray {
            let (line, column) = self.line_col(start);
            return Some(Err(reject(Problem::MalformedXml { line, column, message })));
        }
        if let Some((at, what)) = unclosed {
            let (line, column) = self.line_col(at);
            let message = format!("<{}> {what}", String::from_utf8_lossy(qname));
            return Some(Err(reject(Problem::MalformedXml { line, column, message })));
        }
        let origin = self.line_col(start);
        Some(match parse_xml_record(&raw, self.latin1, origin) {
            Ok((record, warnings)) => Ok(ReadRecord { number, offset: start, raw, record, warnings }),
            Err(problem) => Err(reject(problem)),
        })
    }
}

impl<R: Read> Iterator for Reader<R> {
    type Item = Result<ReadRecord, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_item()
    }
}

impl<R: Read> std::iter::FusedIterator for Reader<R> {}

/// Line and column in the file of byte `k` of a record that starts at `origin`.
fn position_in(raw: &[u8], k: usize, origin: (u64, u64)) -> (u64, u64) {
    let k = k.min(raw.len());
    let before = &raw[..k];
    match before.iter().rposition(|&b| b == b'\n') {
        Some(nl) => {
            let lines = before.iter().filter(|&&b| b == b'\n').count() as u64;
            (origin.0 + lines, (k - nl) as u64)
        }
        None => (origin.0, origin.1 + k as u64),
    }
}

/// Where an event is, resolved to a line only when a warning needs it.
struct Where<'a> {
    text: &'a [u8],
    origin: (u64, u64),
    at: usize,
}

impl Where<'_> {
    fn line(&self) -> u64 {
        position_in(self.text, self.at, self.origin).0
    }
}

/// What kind of element is open.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    Record,
    Leader,
    Control,
    Data,
    Subfield,
    Ignored,
}

/// Parses one `record` element (its bytes from `<record` to `</record>`). `origin` is the
/// line and column of its first byte in the file, for messages.
pub fn parse_xml_record(raw: &[u8], latin1: bool, origin: (u64, u64)) -> Result<(Record, Vec<Problem>), Problem> {
    let malformed = |k: usize, message: String| {
        let (line, column) = position_in(raw, k, origin);
        Problem::MalformedXml { line, column, message }
    };
    if let Some(k) = raw.iter().position(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) {
        return Err(malformed(k, format!("character 0x{:02X} is not allowed in XML", raw[k])));
    }
    let mut w = Vec::new();
    let text: Cow<'_, str> = if latin1 {
        Cow::Owned(raw.iter().map(|&b| char::from(b)).collect())
    } else {
        match std::str::from_utf8(raw) {
            Ok(s) => Cow::Borrowed(s),
            Err(e) => {
                let (line, _) = position_in(raw, e.valid_up_to(), origin);
                w.push(Problem::XmlContent { line, message: "invalid UTF-8 replaced by U+FFFD".to_string() });
                String::from_utf8_lossy(raw)
            }
        }
    };
    let line_of = |k: usize| position_in(text.as_bytes(), k, origin).0;
    let at_line = |k: usize| Where { text: text.as_bytes(), origin, at: k };

    let mut reader = quick_xml::Reader::from_str(&text);
    let mut stack: Vec<Open> = Vec::new();
    let mut leader: Option<String> = None;
    let mut fields: Vec<Field> = Vec::new();
    let mut datafield: Option<DataField> = None;
    let mut control_tag: Option<Tag> = None;
    let mut code: Option<char> = None;
    let mut value = String::new();

    loop {
        let at = reader.buffer_position() as usize;
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => return Err(malformed(reader.error_position() as usize, e.to_string())),
        };
        let collecting = matches!(stack.last(), Some(Open::Leader | Open::Control | Open::Subfield));
        match event {
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) => {
                let is_empty = matches!(event, Event::Empty(_));
                let here = at_line(at);
                let open = open_element(e, &stack, &here, &mut w, &mut datafield, &mut control_tag, &mut code)
                    .map_err(|m| malformed(at, m))?;
                value.clear();
                stack.push(open);
                if is_empty {
                    close_element(
                        &mut stack,
                        &mut leader,
                        &mut fields,
                        &mut datafield,
                        control_tag,
                        code,
                        &mut value,
                        &here,
                        &mut w,
                    );
                }
            }
            Event::End(_) => {
                let here = at_line(at);
                close_element(
                    &mut stack,
                    &mut leader,
                    &mut fields,
                    &mut datafield,
                    control_tag,
                    code,
                    &mut value,
                    &here,
                    &mut w,
                );
            }
            Event::Text(t) => {
                let content = t.xml10_content();
                if collecting {
                    value.push_str(&content);
                } else if !content.trim().is_empty() && stack.last() != Some(&Open::Ignored) {
                    w.push(Problem::XmlContent {
                        line: line_of(at),
                        message: format!(
                            "text outside any field ignored: {:?}",
                            show_bytes(content.trim().as_bytes(), 60)
                        ),
                    });
                }
            }
            Event::CData(t) => {
                if collecting {
                    value.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let resolved: Cow<'_, str> = if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) if is_xml_char(c) => Cow::Owned(c.to_string()),
                        Ok(Some(c)) => {
                            return Err(malformed(
                                at,
                                format!("character reference to U+{:04X} is not allowed in XML", c as u32),
                            ))
                        }
                        Ok(None) | Err(_) => return Err(malformed(at, format!("bad character reference &{};", &*r))),
                    }
                } else {
                    match &*r {
                        "lt" => Cow::Borrowed("<"),
                        "gt" => Cow::Borrowed(">"),
                        "amp" => Cow::Borrowed("&"),
                        "apos" => Cow::Borrowed("'"),
                        "quot" => Cow::Borrowed("\""),
                        other => {
                            w.push(Problem::XmlContent {
                                line: line_of(at),
                                message: format!("unknown entity &{other}; kept as written"),
                            });
                            Cow::Owned(format!("&{other};"))
                        }
                    }
                };
                if collecting {
                    value.push_str(&resolved);
                }
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(malformed(raw.len(), "record ends with elements still open".to_string()));
    }
    if fields.is_empty() {
        return Err(Problem::NoFields);
    }
    let mut leader_bytes = [b' '; 24];
    match leader {
        None => {
            w.push(Problem::MissingLeader);
            leader_bytes.copy_from_slice(b"00000     2200000   4500");
        }
        Some(text) => {
            let count = text.chars().count();
            if count != 24 {
                w.push(Problem::LeaderLength { len: count });
            }
            let mut bad = false;
            for (slot, c) in leader_bytes.iter_mut().zip(text.chars()) {
                if c.is_ascii() && !c.is_ascii_control() {
                    *slot = c as u8;
                } else {
                    bad = true;
                }
            }
            if bad {
                w.push(Problem::LeaderCharacters);
            }
        }
    }
    repair_leader_structure(&mut leader_bytes, &mut w);
    let mut leader = Leader::from_bytes(leader_bytes);
    leader.set(9, b'a');
    Ok((Record { leader, fields }, w))
}

fn attribute(e: &BytesStart<'_>, name: &[u8]) -> Result<Option<String>, String> {
    for attr in e.attributes() {
        let attr = attr.map_err(|err| err.to_string())?;
        if attr.key.local_name().as_ref().as_bytes() == name {
            let value = attr.normalized_value(XmlVersion::Implicit1_0).map_err(|err| err.to_string())?;
            if let Some(c) = value.chars().find(|&c| !is_xml_char(c)) {
                return Err(format!("character U+{:04X} is not allowed in XML", c as u32));
            }
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

/// The tag of a field element, repaired when it is one or two digits; None (with a warning)
/// when unusable.
fn xml_tag(raw: Option<&str>, here: &Where<'_>, w: &mut Vec<Problem>) -> Option<Tag> {
    let Some(raw) = raw else {
        w.push(Problem::XmlContent { line: here.line(), message: "field without a tag attribute dropped".to_string() });
        return None;
    };
    if let Some(tag) = Tag::from_bytes(raw.as_bytes()) {
        return Some(tag);
    }
    let trimmed = raw.trim();
    let repaired = if !trimmed.is_empty() && trimmed.len() < 3 && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        format!("{trimmed:0>3}")
    } else {
        trimmed.to_string()
    };
    match Tag::from_bytes(repaired.as_bytes()) {
        Some(tag) => {
            w.push(Problem::TagRepaired { tag: tag.to_string(), found: raw.to_string() });
            Some(tag)
        }
        None => {
            w.push(Problem::XmlContent {
                line: here.line(),
                message: format!("field with tag {raw:?} dropped: not three letters or digits"),
            });
            None
        }
    }
}

fn xml_indicator(raw: Option<&str>, tag: Tag, position: u8, w: &mut Vec<Problem>) -> char {
    let raw = raw.unwrap_or("");
    let mut chars = raw.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if is_valid_indicator(c) => c,
        (Some(c), _) if !c.is_control() => {
            w.push(Problem::BadIndicator { tag: tag.to_string(), position, found: raw.to_string(), replaced: false });
            c
        }
        _ => {
            w.push(Problem::BadIndicator { tag: tag.to_string(), position, found: raw.to_string(), replaced: true });
            ' '
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn open_element(
    e: &BytesStart<'_>,
    stack: &[Open],
    here: &Where<'_>,
    w: &mut Vec<Problem>,
    datafield: &mut Option<DataField>,
    control_tag: &mut Option<Tag>,
    code: &mut Option<char>,
) -> Result<Open, String> {
    let name = e.local_name();
    let name = name.as_ref().as_bytes();
    let parent = stack.last().copied();
    let open = match (parent, name) {
        (None, b"record") => Open::Record,
        (Some(Open::Record), b"leader") => Open::Leader,
        (Some(Open::Record), b"controlfield") => {
            let tag = attribute(e, b"tag")?;
            *control_tag = xml_tag(tag.as_deref(), here, w);
            Open::Control
        }
        (Some(Open::Record), b"datafield") => {
            let tag = attribute(e, b"tag")?;
            *datafield = match xml_tag(tag.as_deref(), here, w) {
                Some(tag) => {
                    if tag.is_control() {
                        w.push(Problem::DataFieldWithControlTag { tag: tag.to_string() });
                    }
                    let ind1 = xml_indicator(attribute(e, b"ind1")?.as_deref(), tag, 1, w);
                    let ind2 = xml_indicator(attribute(e, b"ind2")?.as_deref(), tag, 2, w);
                    Some(DataField::new(tag, ind1, ind2))
                }
                None => None,
            };
            Open::Data
        }
        (Some(Open::Data), b"subfield") => {
            let raw = attribute(e, b"code")?.unwrap_or_default();
            let mut chars = raw.chars();
            *code = match (chars.next(), chars.next()) {
                (Some(c), None) => Some(c),
                (Some(c), Some(_)) => Some(c),
                (None, _) => None,
            };
            if let (Some(c), Some(field)) = (*code, datafield.as_ref()) {
                if !is_acceptable_code(c) || raw.chars().count() > 1 {
                    w.push(Problem::BadSubfieldCode { tag: field.tag.to_string(), found: raw.clone() });
                }
            }
            Open::Subfield
        }
        (Some(Open::Ignored), _) => Open::Ignored,
        _ => {
            w.push(Problem::XmlContent {
                line: here.line(),
                message: format!("element <{}> ignored here", e.name().as_ref()),
            });
            Open::Ignored
        }
    };
    Ok(open)
}

#[allow(clippy::too_many_arguments)]
fn close_element(
    stack: &mut Vec<Open>,
    leader: &mut Option<String>,
    fields: &mut Vec<Field>,
    datafield: &mut Option<DataField>,
    control_tag: Option<Tag>,
    code: Option<char>,
    value: &mut String,
    here: &Where<'_>,
    w: &mut Vec<Problem>,
) {
    match stack.pop() {
        Some(Open::Leader) => *leader = Some(std::mem::take(value)),
        Some(Open::Control) => {
            if let Some(tag) = control_tag {
                fields.push(Field::Control(ControlField { tag, value: nfc_owned(std::mem::take(value)) }));
            }
        }
        Some(Open::Subfield) => {
            if let Some(field) = datafield.as_mut() {
                // Copied out of `value`, whose buffer is kept for the next subfield: most
                // subfields fit inline in a `SubfieldValue` and need no allocation of their own.
                let text = SubfieldValue::from(nfc(value));
                value.clear();
                match code {
                    Some(code) => field.subfields.push(Subfield { code, value: text }),
                    None => w.push(Problem::XmlContent {
                        line: here.line(),
                        message: format!("field {}: subfield without a code dropped: {text:?}", field.tag),
                    }),
                }
            }
        }
        Some(Open::Data) => {
            if let Some(field) = datafield.take() {
                fields.push(Field::Data(field));
            }
        }
        Some(Open::Record | Open::Ignored) | None => {}
    }
    value.clear();
}

/// Writes records as a MARCXML `collection`: the XML declaration and the opening tag are
/// written by [`Writer::new`], one `record` per [`Writer::write_record`], and the closing tag by
/// [`Writer::finish`] (dropping the writer closes the collection too, ignoring errors).
pub struct Writer<W: Write> {
    out: Option<W>,
    replaced: usize,
    buf: String,
}

impl<W: Write> Writer<W> {
    /// Starts the collection.
    pub fn new(mut out: W) -> io::Result<Self> {
        let header =
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<collection xmlns=\"{MARCXML_NAMESPACE}\">\n");
        out.write_all(header.as_bytes())?;
        Ok(Writer { out: Some(out), replaced: 0, buf: String::with_capacity(4096) })
    }

    pub fn write_record(&mut self, record: &Record) -> Result<(), WriteError> {
        let out = self.out.as_mut().ok_or(WriteError::Finished)?;
        self.buf.clear();
        self.replaced += render_record(record, &mut self.buf, false);
        out.write_all(self.buf.as_bytes())?;
        Ok(())
    }

    /// How many characters XML cannot carry were written as U+FFFD so far.
    pub fn replaced_characters(&self) -> usize {
        self.replaced
    }

    /// Closes the collection, flushes and returns the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        let mut out = self.out.take().ok_or_else(|| io::Error::other("the MARCXML collection was already finished"))?;
        out.write_all(b"</collection>\n")?;
        out.flush()?;
        Ok(out)
    }
}

impl<W: Write> Drop for Writer<W> {
    fn drop(&mut self) {
        if let Some(out) = self.out.as_mut() {
            let _ = out.write_all(b"</collection>\n");
            let _ = out.flush();
        }
    }
}

/// The first record of a MARCXML document (a bare `record` or a `collection`), for a record
/// that arrived on its own (an API body, an SRU response). Warnings are dropped.
pub fn read_one(bytes: &[u8]) -> Result<Record, RecordError> {
    match Reader::new(bytes).next() {
        Some(Ok(read)) => Ok(read.record),
        Some(Err(e)) => Err(e),
        None => Err(RecordError { number: 1, offset: 0, raw: bytes.to_vec(), problem: Problem::NoRecord, fatal: true }),
    }
}

/// One record as a standalone MARCXML `record` element (with the namespace declaration).
pub fn to_marcxml(record: &Record) -> String {
    let mut out = String::new();
    render_record(record, &mut out, true);
    out
}

/// Escapes `s` as XML element text into `out`, the way records are written: `&`, `<`, `>` and
/// carriage returns escaped, characters XML 1.0 forbids replaced by U+FFFD (so a record with a
/// stray control character still gives a well-formed document). Returns how many were replaced.
pub fn escape_text(out: &mut String, s: &str) -> usize {
    escape_into(out, s, false)
}

/// Escapes `s` into `out`; returns how many characters were replaced by U+FFFD.
fn escape_into(out: &mut String, s: &str, attribute: bool) -> usize {
    let special = |c: char| matches!(c, '&' | '<' | '>' | '"' | '\r' | '\t' | '\n') || !is_xml_char(c);
    if !s.chars().any(special) {
        out.push_str(s);
        return 0;
    }
    let mut replaced = 0;
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\r' => out.push_str("&#xD;"),
            '\t' if attribute => out.push_str("&#x9;"),
            '\n' if attribute => out.push_str("&#xA;"),
            c if !is_xml_char(c) => {
                replaced += 1;
                out.push('\u{FFFD}');
            }
            c => out.push(c),
        }
    }
    replaced
}

fn render_record(record: &Record, out: &mut String, standalone: bool) -> usize {
    let mut replaced = 0;
    let mut tmp = [0u8; 4];
    if standalone {
        out.push_str("<record xmlns=\"");
        out.push_str(MARCXML_NAMESPACE);
        out.push_str("\">\n");
    } else {
        out.push_str("  <record>\n");
    }
    let mut leader = *record.leader.as_bytes();
    leader[9] = b'a';
    out.push_str("    <leader>");
    replaced += escape_into(out, &String::from_utf8_lossy(&leader), false);
    out.push_str("</leader>\n");
    for field in &record.fields {
        match field {
            Field::Control(c) => {
                out.push_str("    <controlfield tag=\"");
                replaced += escape_into(out, c.tag.as_str(), true);
                out.push_str("\">");
                replaced += escape_into(out, &c.value, false);
                out.push_str("</controlfield>\n");
            }
            Field::Data(d) => {
                out.push_str("    <datafield tag=\"");
                replaced += escape_into(out, d.tag.as_str(), true);
                out.push_str("\" ind1=\"");
                replaced += escape_into(out, d.ind1.encode_utf8(&mut tmp), true);
                out.push_str("\" ind2=\"");
                replaced += escape_into(out, d.ind2.encode_utf8(&mut tmp), true);
                out.push_str("\">\n");
                for sf in &d.subfields {
                    out.push_str("      <subfield code=\"");
                    replaced += escape_into(out, sf.code.encode_utf8(&mut tmp), true);
                    out.push_str("\">");
                    replaced += escape_into(out, &sf.value, false);
                    out.push_str("</subfield>\n");
                }
                out.push_str("    </datafield>\n");
            }
        }
    }
    out.push_str(if standalone { "</record>\n" } else { "  </record>\n" });
    replaced
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(xml: &str) -> Vec<Result<ReadRecord, RecordError>> {
        Reader::new(xml.as_bytes()).collect()
    }

    fn one(xml: &str) -> (Record, Vec<Problem>) {
        let mut items = read(xml);
        assert_eq!(items.len(), 1, "{items:?}");
        match items.remove(0) {
            Ok(r) => (r.record, r.warnings),
            Err(e) => panic!("{e}"),
        }
    }

    const REC: &str = r#"<record><leader>00000nam  2200000 a 4500</leader><controlfield tag="001">id1</controlfield><datafield tag="245" ind1="1" ind2="0"><subfield code="a">Title &amp; more</subfield></datafield></record>"#;

    #[test]
    fn collection_with_and_without_prefix() {
        let plain = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><collection xmlns="{MARCXML_NAMESPACE}">{REC}{REC}</collection>"#
        );
        let items = read(&plain);
        assert_eq!(items.len(), 2);
        let prefixed = plain.replace("<collection", "<marc:collection").replace("</collection", "</marc:collection");
        let prefixed = prefixed.replace("xmlns=", "xmlns:marc=");
        let prefixed = ["record", "leader", "controlfield", "datafield", "subfield"].iter().fold(prefixed, |s, n| {
            s.replace(&format!("<{n}"), &format!("<marc:{n}")).replace(&format!("</{n}"), &format!("</marc:{n}"))
        });
        let items2 = read(&prefixed);
        assert_eq!(items2.len(), 2);
        for (a, b) in items.iter().zip(&items2) {
            let (a, b) = (a.as_ref().map(|r| &r.record).ok(), b.as_ref().map(|r| &r.record).ok());
            assert!(a.is_some() && a == b);
        }
        let (r, w) = one(REC);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(r.leader.as_str(), "00000nam a2200000 a 4500", "leader/09 set to a");
        assert_eq!(r.control("001"), Some("id1"));
        assert_eq!(r.data_field("245").and_then(|f| f.subfield('a')), Some("Title & more"));
    }

    #[test]
    fn offsets_and_raw_bytes() {
        let doc = format!("<collection>\n  {REC}\n  {REC}\n</collection>\n");
        let items = read(&doc);
        let first = doc.find("<record").unwrap_or(0);
        let second = doc.rfind("<record").unwrap_or(0);
        let got: Vec<(usize, u64, Vec<u8>)> =
            items.into_iter().filter_map(Result::ok).map(|r| (r.number, r.offset, r.raw)).collect();
        assert_eq!(got, vec![(1, first as u64, REC.as_bytes().to_vec()), (2, second as u64, REC.as_bytes().to_vec())]);
    }

    #[test]
    fn text_references_cdata_and_whitespace() {
        let xml = "<record><leader>00000nam a2200000 a 4500</leader>\
            <controlfield tag=\"008\">  spaced  </controlfield>\
            <datafield tag=\"500\" ind1=\" \" ind2=\" \">\n  <subfield code=\"a\">a&lt;b&gt;c &#233;&#x301; <![CDATA[<raw>&]]> \"q\" 'a'</subfield>\n</datafield>\
            <datafield tag=\"520\" ind1=\" \" ind2=\" \"><subfield code=\"a\">line&#xD;\r\nnext</subfield><subfield code=\"b\"/></datafield>\
            </record>";
        let (r, w) = one(xml);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(r.control("008"), Some("  spaced  "));
        assert_eq!(r.data_field("500").and_then(|f| f.subfield('a')), Some("a<b>c \u{e9}\u{301} <raw>& \"q\" 'a'"));
        let f520 = r.data_field("520").unwrap_or_else(|| panic!("520"));
        assert_eq!(f520.subfield('a'), Some("line\r\nnext"));
        assert_eq!(f520.subfield('b'), Some(""));
    }

    #[test]
    fn text_is_nfc() {
        let (r, _) = one("<record><datafield tag=\"245\" ind1=\"0\" ind2=\"0\"><subfield code=\"a\">Cafe\u{301}</subfield></datafield></record>");
        assert_eq!(r.data_field("245").and_then(|f| f.subfield('a')), Some("Caf\u{e9}"));
    }

    #[test]
    fn repairs_with_warnings() {
        let xml = r#"<record><leader>short</leader>
            <datafield tag="42" ind1="" ind2="AB"><subfield code="a">x</subfield><subfield code="">lost</subfield></datafield>
            <datafield tag="24x5" ind1="0" ind2="0"><subfield code="a">dropped</subfield></datafield>
            <datafield ind1="0" ind2="0"><subfield code="a">no tag</subfield></datafield>
            <datafield tag="001" ind1="0" ind2="0"><subfield code="a">odd</subfield></datafield>
            <foo>ignored</foo> stray text
            </record>"#;
        let (r, w) = one(xml);
        assert_eq!(r.leader.as_str(), "short    a2200000   4500".replace("short    a2200000", "short    a22     "));
        let tags: Vec<String> = r.fields.iter().map(|f| f.tag().to_string()).collect();
        assert_eq!(tags, ["042", "001"]);
        let f = r.data_field("042").unwrap_or_else(|| panic!("042"));
        assert_eq!((f.ind1, f.ind2), (' ', 'A'));
        assert_eq!(f.subfields.len(), 1);
        assert!(w.contains(&Problem::LeaderLength { len: 5 }));
        assert!(w.contains(&Problem::TagRepaired { tag: "042".into(), found: "42".into() }));
        assert!(w.contains(&Problem::BadIndicator {
            tag: "042".into(),
            position: 1,
            found: String::new(),
            replaced: true
        }));
        assert!(w.contains(&Problem::BadIndicator {
            tag: "042".into(),
            position: 2,
            found: "AB".into(),
            replaced: false
        }));
        assert!(w.contains(&Problem::DataFieldWithControlTag { tag: "001".into() }));
        let messages: Vec<String> = w.iter().map(ToString::to_string).collect();
        for needle in
            ["subfield without a code dropped", "\"24x5\" dropped", "without a tag", "<foo> ignored", "stray text"]
        {
            assert!(messages.iter().any(|m| m.contains(needle)), "{needle}: {messages:?}");
        }
    }

    #[test]
    fn missing_leader_and_empty_record() {
        let (r, w) = one(r#"<record><controlfield tag="001">x</controlfield></record>"#);
        assert_eq!(w, vec![Problem::MissingLeader]);
        assert_eq!(r.leader.as_str(), "00000    a2200000   4500");
        let items = read("<collection><record/><record></record></collection>");
        assert_eq!(items.len(), 2);
        assert!(items.iter().all(|i| i.as_ref().err().is_some_and(|e| e.problem == Problem::NoFields && !e.fatal)));
    }

    #[test]
    fn malformed_record_in_the_middle_is_skipped() {
        let bad = r#"<record><datafield tag="245" ind1="0" ind2="0"><subfield code="a">x</datafield></record>"#;
        let doc = format!("<collection>\n{REC}\n{bad}\n{REC}\n</collection>");
        let items = read(&doc);
        assert_eq!(items.len(), 3);
        assert!(items[0].is_ok() && items[2].is_ok());
        let err = items[1].as_ref().err().unwrap_or_else(|| panic!("read"));
        assert!(matches!(&err.problem, Problem::MalformedXml { line: 3, .. }), "{err}");
        assert!(!err.fatal);
        assert_eq!(err.raw, bad.as_bytes());
    }

    #[test]
    fn unclosed_record_ends_at_the_next_one() {
        let doc = format!("<collection>{}\n{REC}</collection>", &REC[..REC.len() - "</record>".len()]);
        let items = read(&doc);
        assert_eq!(items.len(), 2);
        let err = items[0].as_ref().err().unwrap_or_else(|| panic!("read"));
        assert!(err.to_string().contains("not closed before the next <record>"), "{err}");
        assert!(items[1].is_ok());
        // Or at the end of the collection.
        let doc = format!("<collection>{REC}<record><controlfield tag=\"001\">x</controlfield></collection>");
        let items = read(&doc);
        assert_eq!(items.len(), 2);
        assert!(items[1].as_ref().err().is_some_and(|e| e.to_string().contains("</collection>")));
    }

    #[test]
    fn damage_the_scanner_cannot_pass_is_fatal() {
        for doc in [
            format!("<collection>{REC}<record><leader>x</leader>"),
            format!("<collection>{REC}<!-- never closed <record>"),
            format!("<collection>{REC}<record><datafield tag=\"245"),
        ] {
            let items = read(&doc);
            assert_eq!(items.len(), 2, "{doc}");
            assert!(items[0].is_ok());
            let err = items[1].as_ref().err().unwrap_or_else(|| panic!("read"));
            assert!(err.fatal, "{err}");
            assert!(matches!(err.problem, Problem::MalformedXml { line: 1, .. }), "{err}");
        }
    }

    #[test]
    fn characters_xml_forbids() {
        let raw = "<collection><record><controlfield tag=\"001\">a\u{7}b</controlfield></record></collection>";
        let items = read(raw);
        assert!(items[0].as_ref().err().is_some_and(|e| e.to_string().contains("0x07")));
        let reference = "<record><controlfield tag=\"001\">a&#x1F;b</controlfield></record>";
        let items = read(reference);
        assert!(items[0].as_ref().err().is_some_and(|e| e.to_string().contains("U+001F")), "{items:?}");
    }

    #[test]
    fn encodings() {
        let latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><record><controlfield tag=\"001\">caf\xe9</controlfield></record>";
        let items: Vec<_> = Reader::new(&latin1[..]).collect();
        assert_eq!(items[0].as_ref().ok().and_then(|r| r.record.control("001")), Some("café"));
        let bad_utf8 = b"\xEF\xBB\xBF<record><controlfield tag=\"001\">caf\xe9</controlfield></record>";
        let items: Vec<_> = Reader::new(&bad_utf8[..]).collect();
        let r = items[0].as_ref().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.record.control("001"), Some("caf\u{FFFD}"));
        assert!(
            matches!(&r.warnings[..], [Problem::XmlContent { line: 1, .. }, Problem::MissingLeader]),
            "{:?}",
            r.warnings
        );
        let other = b"<?xml version='1.0' encoding='Shift_JIS'?><record/>";
        let items: Vec<_> = Reader::new(&other[..]).collect();
        assert!(items.len() == 1 && items[0].as_ref().err().is_some_and(|e| e.fatal && e.number == 1));
        let utf16 = b"\xFF\xFE<\x00r\x00";
        let items: Vec<_> = Reader::new(&utf16[..]).collect();
        assert!(items.len() == 1 && items[0].as_ref().err().is_some_and(|e| e.fatal));
    }

    #[test]
    fn comments_and_wrappers_do_not_confuse_the_scanner() {
        let doc = format!(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE x [ <!ENTITY e \"v\"> ]>\n<!-- <record> in a comment -->\
             <envelope><data attr=\"a > b\">{REC}</data><![CDATA[<record>]]></envelope>"
        );
        let items = read(&doc);
        assert_eq!(items.len(), 1, "{items:?}");
        assert!(items[0].is_ok());
        // A `<record>` in a comment inside a record is not the next record.
        let rec = REC.replace("</record>", "<!-- </record> <record> --></record>");
        assert!(read(&rec).iter().all(Result::is_ok));
    }

    #[test]
    fn oai_pmh_record_wrappers_are_looked_into() {
        let oai = format!(
            "<OAI-PMH><ListRecords><record><header><identifier>x</identifier></header>\
             <metadata>{}</metadata></record><record><header/><metadata>{REC}</metadata></record>\
             </ListRecords></OAI-PMH>",
            REC.replace("<record>", "<marc:record xmlns:marc=\"http://www.loc.gov/MARC21/slim\">")
                .replace("</record>", "</marc:record>")
                .replace("<leader", "<marc:leader")
                .replace("</leader", "</marc:leader")
                .replace("<controlfield", "<marc:controlfield")
                .replace("</controlfield", "</marc:controlfield")
                .replace("<datafield", "<marc:datafield")
                .replace("</datafield", "</marc:datafield")
                .replace("<subfield", "<marc:subfield")
                .replace("</subfield", "</marc:subfield"),
        );
        let items = read(&oai);
        assert_eq!(items.len(), 2, "{items:?}");
        assert!(items.iter().all(|i| i.as_ref().is_ok_and(|r| r.warnings.is_empty())));
        assert_eq!(items.iter().filter_map(|i| i.as_ref().ok()).map(|r| r.number).collect::<Vec<_>>(), [1, 2]);
    }

    #[test]
    fn stray_fields_outside_records_are_reported() {
        let items = read(&format!(
            "<collection><datafield tag=\"952\"><subfield code=\"a\">x</subfield></datafield>{REC}</collection>"
        ));
        assert_eq!(items.len(), 2);
        assert!(items[0].as_ref().err().is_some_and(|e| e.to_string().contains("outside any <record>")));
        assert!(items[1].as_ref().is_ok_and(|r| r.number == 2));
    }

    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = 1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn byte_by_byte_reading_gives_the_same_result() {
        let bad = r#"<record><datafield tag="245"><subfield code="a">x</datafield></record>"#;
        let doc = format!("<?xml version=\"1.0\"?>\n<collection>\n<!-- c -->\n{REC}\n{bad}\n{REC}\n</collection>\n");
        let whole = read(&doc);
        let trickled: Vec<_> = Reader::new(Trickle(doc.as_bytes())).collect();
        assert_eq!(trickled, whole);
        assert_eq!(whole.len(), 3);
    }

    #[test]
    fn writer_escapes_and_round_trips() {
        let tag = |t: &str| Tag::parse(t).unwrap_or_else(|e| panic!("{e}"));
        let mut r = Record::new(Leader::from_bytes(*b"00000cam  2200000 a 4500"));
        r.push_control(tag("001"), "a<b>&\"c\"");
        r.push_data(
            DataField::new(tag("245"), '1', '"').with('a', "Tom & Jerry <1> \"quoted\"\r\n\ttab").with('&', "amp code"),
        );
        let mut out = Vec::new();
        let mut w = Writer::new(&mut out).unwrap_or_else(|e| panic!("{e}"));
        w.write_record(&r).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(w.replaced_characters(), 0);
        w.finish().unwrap_or_else(|e| panic!("{e}"));
        let text = String::from_utf8(out.clone()).unwrap_or_default();
        assert!(text.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<collection xmlns=\"http://www.loc.gov/MARC21/slim\">"
        ));
        assert!(text.ends_with("</collection>\n"));
        assert!(text.contains("ind2=\"&quot;\""));
        assert!(text.contains("&#xD;"));
        let back: Vec<_> = Reader::new(&out[..]).collect();
        let back = back[0].as_ref().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            back.warnings,
            vec![Problem::BadIndicator { tag: "245".into(), position: 2, found: "\"".into(), replaced: false }]
        );
        let mut expected = r.clone();
        expected.leader.set(9, b'a');
        assert_eq!(back.record, expected);
        // Standalone.
        let single = to_marcxml(&r);
        assert!(single.starts_with("<record xmlns=\"http://www.loc.gov/MARC21/slim\">"));
        assert_eq!(read_one(single.as_bytes()).ok(), Some(expected));
    }

    #[test]
    fn writer_replaces_what_xml_cannot_carry() {
        let mut r = Record::default();
        r.push_control(Tag::parse("001").unwrap_or_else(|e| panic!("{e}")), "a\u{1f}b\u{0}c");
        let mut w = Writer::new(Vec::new()).unwrap_or_else(|e| panic!("{e}"));
        w.write_record(&r).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(w.replaced_characters(), 2);
        let out = w.finish().unwrap_or_default();
        let back = read_one(&out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.control("001"), Some("a\u{FFFD}b\u{FFFD}c"));
    }

    #[test]
    fn dropping_the_writer_closes_the_collection() {
        let mut out = Vec::new();
        {
            let w = Writer::new(&mut out).unwrap_or_else(|e| panic!("{e}"));
            drop(w);
        }
        assert!(String::from_utf8_lossy(&out)
            .ends_with("<collection xmlns=\"http://www.loc.gov/MARC21/slim\">\n</collection>\n"));
        assert!(read_one(&out).is_err_and(|e| e.problem == Problem::NoRecord));
    }
}
