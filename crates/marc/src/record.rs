//! The record model: a leader and fields in the order they arrived, text always UTF-8.

use std::fmt;

/// The 24-byte record leader, kept as raw ASCII bytes so that nothing a cataloger set is lost.
///
/// Positions 00-04 (record length) and 12-16 (base address) are recomputed by writers; readers
/// keep whatever the file said.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Leader([u8; 24]);

impl Leader {
    /// A leader for a new UTF-8 bibliographic record of a language-material monograph.
    pub fn new_bibliographic() -> Self {
        Leader(*b"00000nam a2200000 i 4500")
    }

    /// Builds a leader from 24 bytes; any byte outside printable ASCII becomes a blank.
    pub fn from_bytes(bytes: [u8; 24]) -> Self {
        let mut b = bytes;
        for byte in &mut b {
            if !(0x20..0x7f).contains(byte) {
                *byte = b' ';
            }
        }
        Leader(b)
    }

    pub fn as_bytes(&self) -> &[u8; 24] {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        // Only printable ASCII is ever stored.
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    pub fn get(&self, position: usize) -> u8 {
        self.0[position]
    }

    /// Sets one position; a non-printable byte is stored as a blank.
    pub fn set(&mut self, position: usize, value: u8) {
        self.0[position] = if (0x20..0x7f).contains(&value) { value } else { b' ' };
    }

    /// Leader/05 record status (n new, c corrected, d deleted, ...).
    pub fn record_status(&self) -> u8 {
        self.0[5]
    }

    /// Leader/06 type of record.
    pub fn record_type(&self) -> u8 {
        self.0[6]
    }

    /// Leader/07 bibliographic level.
    pub fn bibliographic_level(&self) -> u8 {
        self.0[7]
    }

    /// Leader/09 character coding scheme: blank = MARC-8, `a` = UCS/Unicode.
    pub fn character_coding(&self) -> u8 {
        self.0[9]
    }

    pub fn is_unicode(&self) -> bool {
        self.0[9] == b'a'
    }
}

impl Default for Leader {
    fn default() -> Self {
        Self::new_bibliographic()
    }
}

impl fmt::Debug for Leader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Leader({:?})", self.as_str())
    }
}

impl fmt::Display for Leader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A field tag: three ASCII alphanumeric characters (real files carry alphabetic local tags).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag([u8; 3]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a MARC tag (three letters or digits)")]
pub struct TagError(pub String);

impl Tag {
    pub fn parse(s: &str) -> Result<Tag, TagError> {
        Tag::from_bytes(s.as_bytes()).ok_or_else(|| TagError(s.to_string()))
    }

    pub fn from_bytes(b: &[u8]) -> Option<Tag> {
        if b.len() == 3 && b.iter().all(|c| c.is_ascii_alphanumeric()) {
            Some(Tag([b[0], b[1], b[2]]))
        } else {
            None
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    pub fn as_bytes(&self) -> &[u8; 3] {
        &self.0
    }

    /// 001-009 are control fields (no indicators, no subfields). `000` is the leader's tag in
    /// some formats and is treated as a control field too.
    pub fn is_control(&self) -> bool {
        self.0[0] == b'0' && self.0[1] == b'0'
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({})", self.as_str())
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Tag {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

/// A subfield's text: a string that keeps up to 24 bytes inline and reads like a `String`
/// (`Deref<Target = str>`, built from `&str` or `String`). Subfields are short (16 bytes on
/// average in LC's records, 85% of them up to 24), and a heap allocation per subfield was the
/// largest single cost of reading a record.
pub type SubfieldValue = compact_str::CompactString;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subfield {
    pub code: char,
    pub value: SubfieldValue,
}

impl Subfield {
    pub fn new(code: char, value: impl Into<SubfieldValue>) -> Self {
        Subfield { code, value: value.into() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlField {
    pub tag: Tag,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataField {
    pub tag: Tag,
    pub ind1: char,
    pub ind2: char,
    pub subfields: Vec<Subfield>,
}

impl DataField {
    pub fn new(tag: Tag, ind1: char, ind2: char) -> Self {
        DataField { tag, ind1, ind2, subfields: Vec::new() }
    }

    pub fn with(mut self, code: char, value: impl Into<SubfieldValue>) -> Self {
        self.subfields.push(Subfield::new(code, value));
        self
    }

    /// The first subfield with this code.
    pub fn subfield(&self, code: char) -> Option<&str> {
        self.subfields.iter().find(|s| s.code == code).map(|s| s.value.as_str())
    }

    /// Every subfield with this code, in order.
    pub fn subfields_with(&self, code: char) -> impl Iterator<Item = &str> + '_ {
        self.subfields.iter().filter(move |s| s.code == code).map(|s| s.value.as_str())
    }

    /// The values of the subfields whose code is in `codes`, joined with a space.
    pub fn join(&self, codes: &str) -> String {
        let mut out = String::new();
        for s in self.subfields.iter().filter(|s| codes.contains(s.code)) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(s.value.trim());
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Control(ControlField),
    Data(DataField),
}

impl Field {
    pub fn tag(&self) -> Tag {
        match self {
            Field::Control(f) => f.tag,
            Field::Data(f) => f.tag,
        }
    }

    pub fn as_data(&self) -> Option<&DataField> {
        match self {
            Field::Data(f) => Some(f),
            Field::Control(_) => None,
        }
    }

    pub fn as_control(&self) -> Option<&ControlField> {
        match self {
            Field::Control(f) => Some(f),
            Field::Data(_) => None,
        }
    }
}

/// A MARC record: the leader and the fields, repeated fields kept in the order they came.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    pub leader: Leader,
    pub fields: Vec<Field>,
}

impl Record {
    pub fn new(leader: Leader) -> Self {
        Record { leader, fields: Vec::new() }
    }

    pub fn push(&mut self, field: Field) {
        self.fields.push(field);
    }

    pub fn push_control(&mut self, tag: Tag, value: impl Into<String>) {
        self.fields.push(Field::Control(ControlField { tag, value: value.into() }));
    }

    pub fn push_data(&mut self, field: DataField) {
        self.fields.push(Field::Data(field));
    }

    /// The value of the first control field with this tag.
    pub fn control(&self, tag: &str) -> Option<&str> {
        self.fields.iter().find_map(|f| match f {
            Field::Control(c) if c.tag == tag => Some(c.value.as_str()),
            _ => None,
        })
    }

    /// Every data field with this tag, in record order.
    pub fn data_fields<'a>(&'a self, tag: &'a str) -> impl Iterator<Item = &'a DataField> + 'a {
        self.fields.iter().filter_map(move |f| match f {
            Field::Data(d) if d.tag == tag => Some(d),
            _ => None,
        })
    }

    /// The first data field with this tag.
    pub fn data_field<'a>(&'a self, tag: &'a str) -> Option<&'a DataField> {
        self.data_fields(tag).next()
    }

    /// Every value of subfield `code` in fields tagged `tag`, in record order.
    pub fn subfield_values<'a>(&'a self, tag: &'a str, code: char) -> impl Iterator<Item = &'a str> + 'a {
        self.data_fields(tag).flat_map(move |d| d.subfields_with(code))
    }

    /// Equality up to what writers recompute: the same fields, and the same leader apart from
    /// the record length (00-04) and the base address (12-16). A record read, written and read
    /// again is `same_content` as the first reading even when its byte length changed (NFC,
    /// MARC-8 to UTF-8).
    pub fn same_content(&self, other: &Record) -> bool {
        let strip = |l: &Leader| {
            let mut b = *l.as_bytes();
            b[0..5].fill(b'0');
            b[12..17].fill(b'0');
            b
        };
        self.fields == other.fields && strip(&self.leader) == strip(&other.leader)
    }

    /// Removes every field with this tag (used to strip embedded item fields before storing).
    pub fn remove_fields(&mut self, tag: &str) -> Vec<Field> {
        let (removed, kept): (Vec<Field>, Vec<Field>) =
            std::mem::take(&mut self.fields).into_iter().partition(|f| f.tag() == tag);
        self.fields = kept;
        removed
    }
}
