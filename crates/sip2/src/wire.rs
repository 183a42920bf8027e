//! The shared machinery of every message: the error-detection trailer (`AY<n>AZ<xxxx>`), the
//! fixed-length fields after the command code, and the variable-length fields after them.

use crate::checksum::{checksum, code_point_checksum};
use crate::codes::{Currency, Language, ProtocolVersion};
use crate::{Field, FieldId, Options, SipDate, SipError};

/// The longest value a variable-length field may carry (the spec's limit; `pysip2` enforces it).
pub const MAX_FIELD_BYTES: usize = 255;

/// A message taken off the wire: the command code, the text after it, and the trailer.
pub(crate) struct Unwrapped {
    pub command: [u8; 2],
    /// The text after the command code, decoded, without the trailer.
    pub body: String,
    pub sequence: Option<u8>,
}

/// Strips line ends and the error-detection trailer, checks the checksum and the encoding.
pub(crate) fn unwrap(line: &[u8], options: &Options) -> Result<Unwrapped, SipError> {
    let end = line.iter().rposition(|&b| b != b'\r' && b != b'\n').map_or(0, |i| i + 1);
    let line = &line[..end];
    if line.len() > options.max_message_length {
        return Err(SipError::LineTooLong { length: line.len(), limit: options.max_message_length });
    }

    // The checksum: "AZ" and hex digits at the very end. Four digits is the spec; fewer are
    // accepted because the PyPI `sip2` client (1.1) formats it with `'X'`, not `'04X'`.
    let mut rest = line;
    let mut found = None;
    for digits in (1..=4).rev() {
        if line.len() >= digits + 2 {
            let at = line.len() - digits - 2;
            let hex = &line[at + 2..];
            if &line[at..at + 2] == b"AZ" && hex.iter().all(u8::is_ascii_hexdigit) {
                let value = std::str::from_utf8(hex).ok().and_then(|h| u16::from_str_radix(h, 16).ok());
                if let Some(value) = value {
                    found = Some((at, value));
                    break;
                }
            }
        }
    }
    match found {
        Some((at, value)) => {
            if options.error_detection {
                let prefix = &line[..at + 2];
                let expected = checksum(prefix);
                // The PyPI `sip2` client sums code points, not bytes, before sending UTF-8.
                let by_code_points = options.encoding == crate::Encoding::Utf8
                    && std::str::from_utf8(prefix).is_ok_and(|text| code_point_checksum(text) == value);
                if expected != value && !by_code_points {
                    return Err(SipError::BadChecksum { found: value, expected });
                }
            }
            rest = &line[..at];
        }
        // A bare "97"/"96" is still a request to resend (a resend request normally carries AZ
        // but no AY), so let it through to be answered.
        None if options.error_detection && line != b"97" && line != b"96" => return Err(SipError::MissingChecksum),
        None => {}
    }
    let mut sequence = None;
    if rest.len() >= 3 && rest[rest.len() - 3..rest.len() - 1] == *b"AY" && rest[rest.len() - 1].is_ascii_digit() {
        sequence = Some(rest[rest.len() - 1] - b'0');
        rest = &rest[..rest.len() - 3];
    }

    if rest.len() < 2 {
        return Err(SipError::Empty);
    }
    let command = [rest[0], rest[1]];
    let body = options
        .encoding
        .decode(&rest[2..])
        .map_err(|offset| SipError::Encoding { encoding: options.encoding, offset: offset + 2 })?;
    Ok(Unwrapped { command, body, sequence })
}

/// The printable form of a command code for an error message.
pub(crate) fn command_text(command: [u8; 2]) -> String {
    command.escape_ascii().to_string()
}

/// Reads the fixed-length fields of a message body, then hands the rest to [`Fields`].
pub(crate) struct Reader<'a> {
    body: &'a str,
    /// Byte offset into `body`; positions in errors add 2 for the command code.
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(body: &'a str) -> Self {
        Reader { body, pos: 0 }
    }

    fn position(&self) -> usize {
        self.pos + 2
    }

    /// The next `width` characters, which must be ASCII (every fixed field is).
    fn take(&mut self, width: usize, field: &'static str) -> Result<&'a str, SipError> {
        let position = self.position();
        let text = match self.body.get(self.pos..self.pos + width) {
            Some(text) => text,
            None if self.body.len() < self.pos + width => return Err(SipError::Truncated { field, position }),
            // Not a character boundary: a non-ASCII character inside the fixed field.
            None => {
                let value = self.body[self.pos..].chars().take(width).collect();
                return Err(SipError::BadFixedField { field, position, value });
            }
        };
        if !text.is_ascii() {
            return Err(SipError::BadFixedField { field, position, value: text.to_owned() });
        }
        self.pos += width;
        Ok(text)
    }

    fn bad(&self, field: &'static str, width: usize, text: &str) -> SipError {
        SipError::BadFixedField { field, position: self.position() - width, value: text.to_owned() }
    }

    /// A Y/N field; lower case is taken too (harmless, and hand-typed test sessions send it).
    pub fn yes_no(&mut self, field: &'static str) -> Result<bool, SipError> {
        let text = self.take(1, field)?;
        parse_yes_no(text).ok_or_else(|| self.bad(field, 1, text))
    }

    /// A 0/1 field (ok, item properties ok).
    pub fn zero_one(&mut self, field: &'static str) -> Result<bool, SipError> {
        match self.take(1, field)? {
            "1" => Ok(true),
            "0" => Ok(false),
            text => Err(self.bad(field, 1, text)),
        }
    }

    pub fn yes_no_unknown(&mut self, field: &'static str) -> Result<crate::YesNoUnknown, SipError> {
        use crate::YesNoUnknown::*;
        match self.take(1, field)? {
            "Y" | "y" => Ok(Yes),
            "N" | "n" => Ok(No),
            "U" | "u" => Ok(Unknown),
            text => Err(self.bad(field, 1, text)),
        }
    }

    pub fn char(&mut self, field: &'static str) -> Result<char, SipError> {
        Ok(self.take(1, field)?.chars().next().unwrap_or(' '))
    }

    pub fn date(&mut self, field: &'static str) -> Result<SipDate, SipError> {
        let text = self.take(18, field)?;
        SipDate::parse(text).ok_or_else(|| self.bad(field, 18, text))
    }

    /// A date that may be eighteen blanks (no date).
    pub fn optional_date(&mut self, field: &'static str) -> Result<Option<SipDate>, SipError> {
        let text = self.take(18, field)?;
        if text.bytes().all(|b| b == b' ') {
            return Ok(None);
        }
        SipDate::parse(text).map(Some).ok_or_else(|| self.bad(field, 18, text))
    }

    /// A date that may be missing altogether: present when the next character is a digit or a
    /// blank, absent when a field identifier follows at once.
    pub fn date_if_present(&mut self, field: &'static str) -> Result<Option<SipDate>, SipError> {
        match self.body.as_bytes().get(self.pos) {
            Some(b) if b.is_ascii_digit() || *b == b' ' => self.optional_date(field),
            _ => Ok(None),
        }
    }

    /// A number of `width` digits.
    pub fn number(&mut self, width: usize, field: &'static str) -> Result<u16, SipError> {
        let text = self.take(width, field)?;
        parse_digits(text).ok_or_else(|| self.bad(field, width, text))
    }

    /// A number of `width` digits, or blanks for "not given".
    pub fn optional_number(&mut self, width: usize, field: &'static str) -> Result<Option<u16>, SipError> {
        let text = self.take(width, field)?;
        if text.bytes().all(|b| b == b' ') {
            return Ok(None);
        }
        parse_digits(text).map(Some).ok_or_else(|| self.bad(field, width, text))
    }

    /// A language code; blanks read as unknown (000), as sent by Edmonton Public Library's
    /// SIPCHK client in its patron information requests.
    pub fn language(&mut self) -> Result<Language, SipError> {
        Ok(Language(self.optional_number(3, "language")?.unwrap_or(0)))
    }

    pub fn protocol_version(&mut self) -> Result<ProtocolVersion, SipError> {
        let text = self.take(4, "protocol version")?;
        ProtocolVersion::parse(text).ok_or_else(|| self.bad("protocol version", 4, text))
    }

    pub fn currency(&mut self, field: &'static str) -> Result<Currency, SipError> {
        let text = self.take(3, field)?;
        Currency::new(text).ok_or_else(|| self.bad(field, 3, text))
    }

    /// A numeric code of `width` digits.
    pub fn code<T>(&mut self, width: usize, field: &'static str, from_code: fn(u16) -> T) -> Result<T, SipError> {
        self.number(width, field).map(from_code)
    }

    /// A string of Y/blank flags. `N` reads as blank too: some ACSs write patron status that way.
    pub fn flags<const N: usize>(&mut self, field: &'static str) -> Result<[bool; N], SipError> {
        let text = self.take(N, field)?;
        let mut flags = [false; N];
        for (flag, b) in flags.iter_mut().zip(text.bytes()) {
            *flag = match b {
                b'Y' | b'y' => true,
                b' ' | b'N' | b'n' => false,
                _ => return Err(self.bad(field, N, text)),
            };
        }
        Ok(flags)
    }

    /// The variable-length fields that follow the fixed ones.
    pub fn fields(self) -> Result<Fields, SipError> {
        Fields::parse(&self.body[self.pos..], self.position())
    }
}

pub(crate) fn parse_yes_no(text: &str) -> Option<bool> {
    match text {
        "Y" | "y" => Some(true),
        "N" | "n" => Some(false),
        _ => None,
    }
}

fn parse_digits(text: &str) -> Option<u16> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The variable-length fields of a message, in the order received. Typed messages take what
/// they know; what is left over becomes their `extra` list.
pub(crate) struct Fields {
    fields: Vec<Option<Field>>,
}

impl Fields {
    /// Splits at `|`. Empty pieces (`||`, a trailing `|`) are skipped, and the last field may
    /// lack its `|`: several kiosks end the message there before the trailer.
    fn parse(text: &str, start: usize) -> Result<Fields, SipError> {
        let mut fields = Vec::new();
        let mut position = start;
        for piece in text.split('|') {
            if !piece.is_empty() {
                let id = piece.as_bytes().get(..2).filter(|id| FieldId::is_valid(id));
                let Some(&[a, b]) = id else {
                    return Err(SipError::BadFieldId { position });
                };
                fields.push(Some(Field { id: FieldId([a, b]), value: piece[2..].to_owned() }));
            }
            position += piece.len() + 1;
        }
        Ok(Fields { fields })
    }

    /// The first occurrence of `id`, if any.
    pub fn optional(&mut self, id: FieldId) -> Option<String> {
        let slot = self.fields.iter_mut().find(|f| f.as_ref().is_some_and(|f| f.id == id))?;
        slot.take().map(|f| f.value)
    }

    /// A field the spec requires; absent reads as empty, since kiosks leave out empty required
    /// fields (terminal password, patron password) and the answer to "no item identifier" is a
    /// refusal from the server, not a protocol error.
    pub fn required(&mut self, id: FieldId) -> String {
        self.optional(id).unwrap_or_default()
    }

    /// Every occurrence of a repeatable field, in order.
    pub fn all(&mut self, id: FieldId) -> Vec<String> {
        let mut values = Vec::new();
        for slot in &mut self.fields {
            if slot.as_ref().is_some_and(|f| f.id == id) {
                if let Some(f) = slot.take() {
                    values.push(f.value);
                }
            }
        }
        values
    }

    /// An optional field parsed by `parse`; empty reads as absent.
    fn parsed<T>(&mut self, id: FieldId, parse: impl Fn(&str) -> Option<T>) -> Result<Option<T>, SipError> {
        match self.optional(id) {
            None => Ok(None),
            Some(value) if value.trim().is_empty() => Ok(None),
            Some(value) => parse(&value).map(Some).ok_or(SipError::BadFieldValue { id, value }),
        }
    }

    pub fn yes_no(&mut self, id: FieldId) -> Result<Option<bool>, SipError> {
        self.parsed(id, parse_yes_no)
    }

    pub fn date(&mut self, id: FieldId) -> Result<Option<SipDate>, SipError> {
        self.parsed(id, SipDate::parse)
    }

    /// A number written in decimal; blanks around it are allowed (some ACSs pad).
    pub fn number(&mut self, id: FieldId) -> Result<Option<u32>, SipError> {
        self.parsed(id, |v| {
            let v = v.trim();
            v.bytes().all(|b| b.is_ascii_digit()).then(|| v.parse().ok()).flatten()
        })
    }

    pub fn code<T>(&mut self, id: FieldId, from_code: fn(u16) -> T) -> Result<Option<T>, SipError> {
        self.parsed(id, |v| parse_digits(v.trim()).map(from_code))
    }

    pub fn currency(&mut self, id: FieldId) -> Result<Option<Currency>, SipError> {
        self.parsed(id, |v| Currency::new(v.trim()))
    }

    /// Whatever no typed field took.
    pub fn rest(self) -> Vec<Field> {
        self.fields.into_iter().flatten().collect()
    }
}

/// Builds a message: command code, fixed fields, variable fields, then the trailer.
pub(crate) struct Writer {
    text: String,
    encoding: crate::Encoding,
}

impl Writer {
    pub fn new(command: &str, options: &Options) -> Self {
        Writer { text: command.to_owned(), encoding: options.encoding }
    }

    /// A fixed field, already in wire form.
    pub fn fixed(&mut self, text: impl std::fmt::Display) -> &mut Self {
        use std::fmt::Write;
        // Writing to a String cannot fail.
        let _ = write!(self.text, "{text}");
        self
    }

    pub fn yes_no(&mut self, value: bool) -> &mut Self {
        self.fixed(if value { 'Y' } else { 'N' })
    }

    pub fn zero_one(&mut self, value: bool) -> &mut Self {
        self.fixed(if value { '1' } else { '0' })
    }

    /// A date, or eighteen blanks for none.
    pub fn optional_date(&mut self, date: Option<&SipDate>) -> &mut Self {
        match date {
            Some(date) => self.fixed(date),
            None => self.fixed(" ".repeat(18)),
        }
    }

    /// A number of `width` digits (cut to its last digits if it would not fit).
    pub fn number(&mut self, value: u16, width: usize) -> &mut Self {
        let value = u32::from(value) % 10u32.pow(width as u32);
        self.fixed(format!("{value:0width$}"))
    }

    pub fn optional_number(&mut self, value: Option<u16>, width: usize) -> &mut Self {
        match value {
            Some(value) => self.number(value, width),
            None => self.fixed(" ".repeat(width)),
        }
    }

    /// A variable-length field. The value cannot carry `|` or control characters (they would
    /// end the field or the message), so each becomes a blank; it is cut to 255 bytes in the
    /// connection's encoding at a character boundary.
    pub fn field(&mut self, id: FieldId, value: &str) -> &mut Self {
        self.text.push_str(id.as_str());
        let mut bytes = 0;
        for c in value.chars() {
            let c = if c == '|' || c.is_control() { ' ' } else { c };
            bytes += self.encoding.encoded_len(c);
            if bytes > MAX_FIELD_BYTES {
                break;
            }
            self.text.push(c);
        }
        self.text.push('|');
        self
    }

    pub fn optional(&mut self, id: FieldId, value: Option<&str>) -> &mut Self {
        if let Some(value) = value {
            self.field(id, value);
        }
        self
    }

    pub fn all(&mut self, id: FieldId, values: &[String]) -> &mut Self {
        for value in values {
            self.field(id, value);
        }
        self
    }

    pub fn optional_yes_no(&mut self, id: FieldId, value: Option<bool>) -> &mut Self {
        self.optional(id, value.map(|v| if v { "Y" } else { "N" }))
    }

    pub fn optional_display<T: std::fmt::Display>(&mut self, id: FieldId, value: Option<T>) -> &mut Self {
        match value {
            Some(value) => self.field(id, &value.to_string()),
            None => self,
        }
    }

    pub fn extra(&mut self, fields: &[Field]) -> &mut Self {
        for field in fields {
            self.field(field.id, &field.value);
        }
        self
    }

    /// The finished line: encoded, with `AY<n>AZ<xxxx>` when error detection is on (only `AZ`
    /// when there is no sequence number, as for 96 and 97), and the closing CR.
    pub fn finish(&self, sequence: Option<u8>, options: &Options) -> Vec<u8> {
        let mut bytes = self.encoding.encode(&self.text);
        if options.error_detection {
            if let Some(n) = sequence {
                bytes.extend_from_slice(b"AY");
                bytes.push(b'0' + n % 10);
            }
            bytes.extend_from_slice(b"AZ");
            let sum = checksum(&bytes);
            bytes.extend_from_slice(format!("{sum:04X}").as_bytes());
        }
        bytes.push(b'\r');
        bytes
    }
}
