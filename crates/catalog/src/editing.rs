//! A MARC record as a cataloger edits it: a [`Draft`] holds what the editor's form said, text as
//! typed (a tag of two characters, an indicator `x`, a control field with subfields), so that
//! [`Draft::check`] can name every problem next to the box it is in, and only a draft without
//! problems becomes a [`Record`] ([`Draft::to_record`]).
//!
//! The indicator values are MARC 21's for the fields catalogers type most (main entries, 245,
//! subjects, added entries, 856, and the classification and identifier fields around them);
//! other fields take any digit, lowercase letter or blank. The leader and the 008 are described
//! position by position ([`LEADER`], [`fixed_field_008`]) so that the editor can offer their
//! coded values by name. [`template`] starts a new record of a common kind.

use crate::derive::{check_bibliographic, Rejection};
use marc::{ControlField, DataField, Field, Leader, Record, Subfield, Tag};

/// One field of a draft. `value` is the text of a control field; a data field has subfields.
/// A draft field may be both or neither: that is one of the problems [`Draft::check`] reports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DraftField {
    pub tag: String,
    /// Blank is `' '`; the editor also accepts an empty box or `#` for blank.
    pub ind1: String,
    pub ind2: String,
    pub value: Option<String>,
    pub subfields: Vec<(String, String)>,
}

impl DraftField {
    /// A data field whose subfields are all empty: a template's offer the cataloger did not
    /// take. It is left out of the record and not checked; so are empty subfields.
    pub fn is_placeholder(&self) -> bool {
        !self.subfields.is_empty() && self.subfields.iter().all(|(_, v)| v.is_empty())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Draft {
    pub leader: String,
    pub fields: Vec<DraftField>,
}

/// Where a problem is, so the editor can show it beside that box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Place {
    Leader,
    /// The record as a whole (245 missing).
    Record,
    Tag(usize),
    Ind1(usize),
    Ind2(usize),
    /// The whole field (no subfields, or subfields on a control field).
    Field(usize),
    /// A control field's value.
    Value(usize),
    SubfieldCode(usize, usize),
    SubfieldValue(usize, usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub place: Place,
    /// A sentence that names the field, indicator or subfield and says what is wrong.
    pub message: String,
}

impl Problem {
    fn at(place: Place, message: String) -> Problem {
        Problem { place, message }
    }
}

/// The indicator as stored: empty and `#` are blank.
fn indicator(raw: &str) -> Option<char> {
    let mut chars = raw.chars();
    match (chars.next(), chars.next()) {
        (None, _) => Some(' '),
        (Some('#'), None) => Some(' '),
        (Some(c), None) => Some(c),
        _ => None,
    }
}

fn shown(c: char) -> String {
    if c == ' ' {
        "blank".to_string()
    } else {
        format!("\"{c}\"")
    }
}

/// The values MARC 21 defines for a tag's indicators (`' '` is blank), for the tags the editor
/// knows; `None` for a tag whose indicators are not checked beyond their shape.
pub fn indicator_values(tag: &str) -> Option<(&'static str, &'static str)> {
    const DIGITS: &str = "0123456789";
    Some(match tag {
        "010" | "020" | "022" | "040" | "250" | "300" | "504" => (" ", " "),
        "050" => (" 01", " 04"),
        "082" => ("017", " 04"),
        "100" => ("013", " "),
        "110" | "111" => ("012", " "),
        "130" => (DIGITS, " "),
        "240" => ("01", DIGITS),
        "245" => ("01", DIGITS),
        "246" => ("0123", " 012345678"),
        "260" => (" 23", " "),
        "264" => (" 23", "01234"),
        "490" => ("01", " "),
        "500" => (" ", " "),
        "505" => ("0128", " 0"),
        "520" => (" 012348", " "),
        "600" => ("013", "01234567"),
        "610" | "611" => ("012", "01234567"),
        "630" => (DIGITS, "01234567"),
        "650" => (" 012", "01234567"),
        "651" => (" ", "01234567"),
        "655" => (" 0", "01234567"),
        "700" => ("013", " 2"),
        "710" | "711" => ("012", " 2"),
        "730" | "740" => (DIGITS, " 2"),
        "800" => ("013", " "),
        "830" => (" ", DIGITS),
        "856" => (" 012347", " 0128"),
        _ => return None,
    })
}

fn allowed_list(values: &str) -> String {
    let named: Vec<String> = values.chars().map(shown).collect();
    match named.len() {
        1 => named[0].clone(),
        _ => format!("{} or {}", named[..named.len() - 1].join(", "), named[named.len() - 1]),
    }
}

impl Draft {
    /// The draft of a stored record: every field as it is.
    pub fn from_record(record: &Record) -> Draft {
        let fields = record
            .fields
            .iter()
            .map(|f| match f {
                Field::Control(c) => DraftField {
                    tag: c.tag.as_str().to_string(),
                    value: Some(c.value.clone()),
                    ..DraftField::default()
                },
                Field::Data(d) => DraftField {
                    tag: d.tag.as_str().to_string(),
                    ind1: d.ind1.to_string(),
                    ind2: d.ind2.to_string(),
                    value: None,
                    subfields: d.subfields.iter().map(|s| (s.code.to_string(), s.value.as_str().to_string())).collect(),
                },
            })
            .collect();
        Draft { leader: record.leader.as_str().to_string(), fields }
    }

    /// Every problem of the draft, in the order of the form (leader, then field by field),
    /// then what [`check_bibliographic`] says of the record as a whole.
    pub fn check(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.leader.chars().count() != 24 || !self.leader.chars().all(|c| (' '..='~').contains(&c)) {
            problems.push(Problem::at(
                Place::Leader,
                format!("the leader must be 24 letters, digits or blanks; it is {:?}", self.leader),
            ));
        }
        for (i, f) in self.fields.iter().enumerate() {
            check_field(i, f, &mut problems);
        }
        // The record-level rules, on the fields that are well-formed.
        let record = self.partial_record();
        match check_bibliographic(&record) {
            Ok(()) => {}
            // A 245 left empty (a template's) is a 245 without its title, where it stands.
            Err(Rejection::NoTitleField) => match self.fields.iter().position(|f| f.tag.trim() == "245") {
                Some(at) => {
                    problems.push(Problem::at(Place::Field(at), "field 245 has no subfield $a (the title)".to_string()))
                }
                None => problems.push(Problem::at(
                    Place::Record,
                    "field 245 (title statement) is missing: every record needs one".to_string(),
                )),
            },
            Err(Rejection::NoTitle) => {
                let at = self.fields.iter().position(|f| f.tag.trim() == "245").unwrap_or(0);
                problems.push(Problem::at(Place::Field(at), "field 245 has no subfield $a (the title)".to_string()));
            }
            Err(e @ Rejection::NotBibliographic { .. }) => {
                problems.push(Problem::at(Place::Leader, format!("leader/06 type of record: this is a {e}")))
            }
        }
        problems
    }

    /// The record the draft describes, leaving out what is not well-formed (for the record
    /// level checks) and what the cataloger left empty (see [`DraftField::is_placeholder`]).
    fn partial_record(&self) -> Record {
        let mut record = Record::new(leader_of(&self.leader));
        for f in self.fields.iter().filter(|f| !f.is_placeholder()) {
            if let Some(field) = field_of(f) {
                record.push(field);
            }
        }
        record
    }

    /// The record, when [`Draft::check`] finds nothing; else every problem.
    pub fn to_record(&self) -> Result<Record, Vec<Problem>> {
        let problems = self.check();
        if problems.is_empty() {
            Ok(self.partial_record())
        } else {
            Err(problems)
        }
    }
}

fn leader_of(text: &str) -> Leader {
    let mut bytes = [b' '; 24];
    for (b, c) in bytes.iter_mut().zip(text.bytes()) {
        *b = c;
    }
    Leader::from_bytes(bytes)
}

fn field_of(f: &DraftField) -> Option<Field> {
    let tag = Tag::parse(f.tag.trim()).ok()?;
    if tag.is_control() {
        if !f.subfields.is_empty() {
            return None;
        }
        return Some(Field::Control(ControlField { tag, value: f.value.clone().unwrap_or_default() }));
    }
    let (ind1, ind2) = (indicator(&f.ind1)?, indicator(&f.ind2)?);
    let mut subfields = Vec::with_capacity(f.subfields.len());
    for (code, value) in f.subfields.iter().filter(|(_, v)| !v.is_empty()) {
        let mut chars = code.chars();
        let (Some(c), None) = (chars.next(), chars.next()) else { return None };
        subfields.push(Subfield::new(c, value.as_str()));
    }
    Some(Field::Data(DataField { tag, ind1, ind2, subfields }))
}

fn check_field(i: usize, f: &DraftField, problems: &mut Vec<Problem>) {
    if f.is_placeholder() {
        return;
    }
    let tag = f.tag.trim();
    let named = if tag.is_empty() { format!("field {}", i + 1) } else { format!("field {tag}") };
    if !(tag.len() == 3 && tag.bytes().all(|b| b.is_ascii_digit())) {
        problems.push(Problem::at(
            Place::Tag(i),
            format!("{named}: the tag must be three digits (000-999), not {:?}", f.tag),
        ));
        return;
    }
    if tag.starts_with("00") {
        if !f.subfields.is_empty() {
            problems.push(Problem::at(
                Place::Field(i),
                format!("field {tag} is a control field: it has a value but no indicators or subfields"),
            ));
        }
        for (which, raw, place) in [("1", &f.ind1, Place::Ind1(i)), ("2", &f.ind2, Place::Ind2(i))] {
            if indicator(raw).is_some_and(|c| c != ' ') || indicator(raw).is_none() {
                problems.push(Problem::at(
                    place,
                    format!("field {tag} is a control field: indicator {which} must be left empty"),
                ));
            }
        }
        return;
    }
    if f.value.as_deref().is_some_and(|v| !v.is_empty()) {
        problems.push(Problem::at(
            Place::Value(i),
            format!("field {tag} is a data field: its text goes in subfields, not in a control-field value"),
        ));
    }
    let allowed = indicator_values(tag);
    for (n, raw, place) in [(1, &f.ind1, Place::Ind1(i)), (2, &f.ind2, Place::Ind2(i))] {
        let Some(c) = indicator(raw).filter(|c| *c == ' ' || c.is_ascii_digit() || c.is_ascii_lowercase()) else {
            problems.push(Problem::at(
                place,
                format!(
                    "field {tag} indicator {n}: {raw:?} is not an indicator (one digit, lowercase letter or blank)"
                ),
            ));
            continue;
        };
        if let Some(values) = allowed.map(|(a, b)| if n == 1 { a } else { b }) {
            if !values.contains(c) {
                problems.push(Problem::at(
                    place,
                    format!(
                        "field {tag} indicator {n}: {} is not defined for {tag}; it is {}",
                        shown(c),
                        allowed_list(values)
                    ),
                ));
            }
        }
    }
    if f.subfields.is_empty() {
        problems.push(Problem::at(Place::Field(i), format!("field {tag} has no subfields")));
    }
    for (j, (code, value)) in f.subfields.iter().enumerate() {
        let mut chars = code.chars();
        let good =
            matches!((chars.next(), chars.next()), (Some(c), None) if c.is_ascii_lowercase() || c.is_ascii_digit());
        if !good && !value.is_empty() {
            problems.push(Problem::at(
                Place::SubfieldCode(i, j),
                format!(
                    "field {tag} subfield {}: the code {code:?} must be one lowercase letter a-z or digit 0-9",
                    j + 1
                ),
            ));
        }
    }
}

/// One position (or run of positions) of the leader or the 008, with its coded values when
/// it has them (a code and what it means; `' '` is blank, `'|'` no attempt to code).
#[derive(Debug, Clone, Copy)]
pub struct Position {
    pub start: usize,
    pub len: usize,
    pub name: &'static str,
    pub codes: &'static [(char, &'static str)],
}

const fn pos(start: usize, len: usize, name: &'static str, codes: &'static [(char, &'static str)]) -> Position {
    Position { start, len, name, codes }
}

/// The leader positions a cataloger sets; the rest (lengths, addresses, the fixed `22` and
/// `4500`, the character coding Shelfmark always writes as UTF-8) are the writer's.
pub const LEADER: &[Position] = &[
    pos(
        5,
        1,
        "Record status",
        &[
            ('a', "increase in encoding level"),
            ('c', "corrected or revised"),
            ('d', "deleted"),
            ('n', "new"),
            ('p', "increase from prepublication"),
        ],
    ),
    pos(
        6,
        1,
        "Type of record",
        &[
            ('a', "language material"),
            ('c', "notated music"),
            ('d', "manuscript notated music"),
            ('e', "cartographic material"),
            ('f', "manuscript cartographic material"),
            ('g', "projected medium (video, film)"),
            ('i', "nonmusical sound recording"),
            ('j', "musical sound recording"),
            ('k', "two-dimensional nonprojectable graphic"),
            ('m', "computer file"),
            ('o', "kit"),
            ('p', "mixed materials"),
            ('r', "three-dimensional artifact"),
            ('t', "manuscript language material"),
        ],
    ),
    pos(
        7,
        1,
        "Bibliographic level",
        &[
            ('a', "monographic component part"),
            ('b', "serial component part"),
            ('c', "collection"),
            ('d', "subunit"),
            ('i', "integrating resource"),
            ('m', "monograph/item"),
            ('s', "serial"),
        ],
    ),
    pos(8, 1, "Type of control", &[(' ', "no specified type"), ('a', "archival")]),
    pos(
        17,
        1,
        "Encoding level",
        &[
            (' ', "full level"),
            ('1', "full level, material not examined"),
            ('2', "less-than-full level, material not examined"),
            ('3', "abbreviated level"),
            ('4', "core level"),
            ('5', "partial (preliminary) level"),
            ('7', "minimal level"),
            ('8', "prepublication level"),
            ('u', "unknown"),
            ('z', "not applicable"),
        ],
    ),
    pos(
        18,
        1,
        "Descriptive cataloging form",
        &[
            (' ', "non-ISBD"),
            ('a', "AACR 2"),
            ('c', "ISBD punctuation omitted"),
            ('i', "ISBD punctuation included"),
            ('n', "non-ISBD punctuation omitted"),
            ('u', "unknown"),
        ],
    ),
    pos(
        19,
        1,
        "Multipart resource record level",
        &[
            (' ', "not specified or not applicable"),
            ('a', "set"),
            ('b', "part with independent title"),
            ('c', "part with dependent title"),
        ],
    ),
];

/// Which 008 layout a record uses, from leader/06 and /07 (MARC 21 "008 - all materials").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Material {
    Books,
    ContinuingResources,
    VisualMaterials,
    ComputerFiles,
    Music,
    Maps,
    MixedMaterials,
}

impl Material {
    pub fn of(leader: &str) -> Material {
        let b = leader.as_bytes();
        let (kind, level) = (b.get(6).copied().unwrap_or(b'a'), b.get(7).copied().unwrap_or(b'm'));
        match kind {
            b'a' if matches!(level, b'b' | b'i' | b's') => Material::ContinuingResources,
            b'c' | b'd' | b'i' | b'j' => Material::Music,
            b'e' | b'f' => Material::Maps,
            b'g' | b'k' | b'o' | b'r' => Material::VisualMaterials,
            b'm' => Material::ComputerFiles,
            b'p' => Material::MixedMaterials,
            _ => Material::Books,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Material::Books => "books",
            Material::ContinuingResources => "continuing resources",
            Material::VisualMaterials => "visual materials",
            Material::ComputerFiles => "computer files",
            Material::Music => "music",
            Material::Maps => "maps",
            Material::MixedMaterials => "mixed materials",
        }
    }
}

const GOVERNMENT: &[(char, &str)] = &[
    (' ', "not a government publication"),
    ('a', "autonomous or semi-autonomous component"),
    ('c', "multilocal"),
    ('f', "federal/national"),
    ('i', "international intergovernmental"),
    ('l', "local"),
    ('m', "multistate"),
    ('o', "government publication, level undetermined"),
    ('s', "state, provincial, territorial"),
    ('u', "unknown if government publication"),
    ('z', "other"),
    ('|', "no attempt to code"),
];
const FORM_OF_ITEM: &[(char, &str)] = &[
    (' ', "none of the following (print)"),
    ('a', "microfilm"),
    ('b', "microfiche"),
    ('c', "microopaque"),
    ('d', "large print"),
    ('f', "braille"),
    ('o', "online"),
    ('q', "direct electronic"),
    ('r', "regular print reproduction"),
    ('s', "electronic"),
    ('|', "no attempt to code"),
];
const AUDIENCE: &[(char, &str)] = &[
    (' ', "unknown or not specified"),
    ('a', "preschool"),
    ('b', "primary"),
    ('c', "pre-adolescent"),
    ('d', "adolescent"),
    ('e', "adult"),
    ('f', "specialized"),
    ('g', "general"),
    ('j', "juvenile"),
    ('|', "no attempt to code"),
];
const YES_NO: &[(char, &str)] = &[('0', "no"), ('1', "yes"), ('|', "no attempt to code")];

const COMMON_START: [Position; 6] = [
    pos(0, 6, "Date entered on file (yymmdd)", &[]),
    pos(
        6,
        1,
        "Type of date",
        &[
            ('b', "no dates given; B.C. date involved"),
            ('c', "continuing resource currently published"),
            ('d', "continuing resource ceased publication"),
            ('e', "detailed date"),
            ('i', "inclusive dates of collection"),
            ('k', "range of years of bulk of collection"),
            ('m', "multiple dates"),
            ('n', "dates unknown"),
            ('p', "date of distribution and of production"),
            ('q', "questionable date"),
            ('r', "reprint and original date"),
            ('s', "single known date"),
            ('t', "publication and copyright date"),
            ('u', "continuing resource status unknown"),
            ('|', "no attempt to code"),
        ],
    ),
    pos(7, 4, "Date 1", &[]),
    pos(11, 4, "Date 2", &[]),
    pos(15, 3, "Place of publication (MARC country code)", &[]),
    pos(18, 0, "", &[]),
];
const COMMON_END: [Position; 3] = [
    pos(35, 3, "Language (MARC language code)", &[]),
    pos(
        38,
        1,
        "Modified record",
        &[
            (' ', "not modified"),
            ('d', "dashed-on information omitted"),
            ('o', "completely romanized"),
            ('r', "completely romanized, printed cards in script"),
            ('s', "shortened"),
            ('x', "missing characters"),
            ('|', "no attempt to code"),
        ],
    ),
    pos(
        39,
        1,
        "Cataloging source",
        &[
            (' ', "national bibliographic agency"),
            ('c', "cooperative cataloging program"),
            ('d', "other"),
            ('u', "unknown"),
            ('|', "no attempt to code"),
        ],
    ),
];

const BOOKS_18_34: &[Position] = &[
    pos(18, 4, "Illustrations (up to four codes)", &[]),
    pos(22, 1, "Target audience", AUDIENCE),
    pos(23, 1, "Form of item", FORM_OF_ITEM),
    pos(24, 4, "Nature of contents (up to four codes)", &[]),
    pos(28, 1, "Government publication", GOVERNMENT),
    pos(29, 1, "Conference publication", YES_NO),
    pos(30, 1, "Festschrift", YES_NO),
    pos(31, 1, "Index", YES_NO),
    pos(32, 1, "Undefined", &[]),
    pos(
        33,
        1,
        "Literary form",
        &[
            ('0', "not fiction"),
            ('1', "fiction"),
            ('d', "dramas"),
            ('e', "essays"),
            ('f', "novels"),
            ('h', "humor, satires"),
            ('i', "letters"),
            ('j', "short stories"),
            ('m', "mixed forms"),
            ('p', "poetry"),
            ('s', "speeches"),
            ('u', "unknown"),
            ('|', "no attempt to code"),
        ],
    ),
    pos(
        34,
        1,
        "Biography",
        &[
            (' ', "no biographical material"),
            ('a', "autobiography"),
            ('b', "individual biography"),
            ('c', "collective biography"),
            ('d', "contains biographical information"),
            ('|', "no attempt to code"),
        ],
    ),
];

const CONTINUING_18_34: &[Position] = &[
    pos(
        18,
        1,
        "Frequency",
        &[
            (' ', "no determinable frequency"),
            ('a', "annual"),
            ('b', "bimonthly"),
            ('c', "semiweekly"),
            ('d', "daily"),
            ('e', "biweekly"),
            ('f', "semiannual"),
            ('g', "biennial"),
            ('h', "triennial"),
            ('i', "three times a week"),
            ('j', "three times a month"),
            ('k', "continuously updated"),
            ('m', "monthly"),
            ('q', "quarterly"),
            ('s', "semimonthly"),
            ('t', "three times a year"),
            ('u', "unknown"),
            ('w', "weekly"),
            ('z', "other"),
            ('|', "no attempt to code"),
        ],
    ),
    pos(
        19,
        1,
        "Regularity",
        &[
            ('n', "normalized irregular"),
            ('r', "regular"),
            ('u', "unknown"),
            ('x', "completely irregular"),
            ('|', "no attempt to code"),
        ],
    ),
    pos(20, 1, "Undefined", &[]),
    pos(
        21,
        1,
        "Type of continuing resource",
        &[
            (' ', "none of the following"),
            ('d', "updating database"),
            ('g', "magazine"),
            ('h', "blog"),
            ('j', "journal"),
            ('l', "updating loose-leaf"),
            ('m', "monographic series"),
            ('n', "newspaper"),
            ('p', "periodical"),
            ('r', "repository"),
            ('s', "newsletter"),
            ('t', "directory"),
            ('w', "updating Web site"),
            ('|', "no attempt to code"),
        ],
    ),
    pos(22, 1, "Form of original item", FORM_OF_ITEM),
    pos(23, 1, "Form of item", FORM_OF_ITEM),
    pos(24, 1, "Nature of entire work", &[]),
    pos(25, 3, "Nature of contents (up to three codes)", &[]),
    pos(28, 1, "Government publication", GOVERNMENT),
    pos(29, 1, "Conference publication", YES_NO),
    pos(30, 3, "Undefined", &[]),
    pos(33, 1, "Original alphabet or script of title", &[]),
    pos(
        34,
        1,
        "Entry convention",
        &[('0', "successive entry"), ('1', "latest entry"), ('2', "integrated entry"), ('|', "no attempt to code")],
    ),
];

const VISUAL_18_34: &[Position] = &[
    pos(18, 3, "Running time in minutes (000 = over 999, --- unknown, nnn not applicable)", &[]),
    pos(21, 1, "Undefined", &[]),
    pos(22, 1, "Target audience", AUDIENCE),
    pos(23, 5, "Undefined", &[]),
    pos(28, 1, "Government publication", GOVERNMENT),
    pos(29, 1, "Form of item", FORM_OF_ITEM),
    pos(30, 3, "Undefined", &[]),
    pos(
        33,
        1,
        "Type of visual material",
        &[
            ('a', "art original"),
            ('b', "kit"),
            ('c', "art reproduction"),
            ('d', "diorama"),
            ('f', "filmstrip"),
            ('g', "game"),
            ('i', "picture"),
            ('k', "graphic"),
            ('l', "technical drawing"),
            ('m', "motion picture"),
            ('n', "chart"),
            ('o', "flash card"),
            ('p', "microscope slide"),
            ('q', "model"),
            ('r', "realia"),
            ('s', "slide"),
            ('t', "transparency"),
            ('v', "videorecording"),
            ('w', "toy"),
            ('z', "other"),
            ('|', "no attempt to code"),
        ],
    ),
    pos(
        34,
        1,
        "Technique",
        &[
            ('a', "animation"),
            ('c', "animation and live action"),
            ('l', "live action"),
            ('n', "not applicable"),
            ('u', "unknown"),
            ('z', "other"),
            ('|', "no attempt to code"),
        ],
    ),
];

const OTHER_18_34: &[Position] = &[pos(18, 17, "Positions 18-34 (material specific)", &[])];

/// The 008's positions for a material, from 00 to 39 without a gap.
pub fn fixed_field_008(material: Material) -> Vec<Position> {
    let middle = match material {
        Material::Books => BOOKS_18_34,
        Material::ContinuingResources => CONTINUING_18_34,
        Material::VisualMaterials => VISUAL_18_34,
        _ => OTHER_18_34,
    };
    let mut out: Vec<Position> = COMMON_START[..5].to_vec();
    out.extend_from_slice(middle);
    out.extend_from_slice(&COMMON_END);
    out
}

/// The kinds of new record the editor starts from.
pub const TEMPLATES: &[(&str, &str)] =
    &[("book", "Book"), ("ebook", "E-book"), ("dvd", "DVD"), ("serial", "Serial"), ("blank", "From scratch")];

/// A new record of the kind named (see [`TEMPLATES`]), entered on `today` (`yymmdd`): the
/// leader, 008 (and 006/007 where MARC 21 wants them) coded for that kind, and the data fields
/// a cataloger fills in, empty. `None` for an unknown kind.
pub fn template(kind: &str, today: &str) -> Option<Draft> {
    let today: String = today.chars().chain(std::iter::repeat(' ')).take(6).collect();
    let data = |tag: &str, ind1: char, ind2: char, codes: &[&str]| DraftField {
        tag: tag.to_string(),
        ind1: ind1.to_string(),
        ind2: ind2.to_string(),
        value: None,
        subfields: codes.iter().map(|c| (c.to_string(), String::new())).collect(),
    };
    let control =
        |tag: &str, value: String| DraftField { tag: tag.to_string(), value: Some(value), ..DraftField::default() };
    // 008 for books: 18-21 illustrations, 22 audience, 23 form of item, 24-27 contents,
    // 28 government, 29 conference, 30 festschrift, 31 index, 33 literary form, 34 biography.
    let book_008 = |form: char| {
        [today.as_str(), "s", "        ", "xx ", "     ", &form.to_string(), "     ", "000 0 eng d"].concat()
    };
    let (leader, mut fields) = match kind {
        "book" => ("00000nam a2200000 i 4500", vec![control("008", book_008(' '))]),
        "ebook" => (
            "00000nam a2200000 i 4500",
            vec![
                // An online text: 006 for its computer-file aspects, 007 "cr" (remote resource).
                control("006", "m     o  d        ".to_string()),
                control("007", "cr |n|||||||||".to_string()),
                control("008", book_008('o')),
            ],
        ),
        "dvd" => (
            "00000ngm a2200000 i 4500",
            vec![
                // 007 videorecording: v d (videodisc), colour, DVD format, sound on medium.
                control("007", "vd cvaizq".to_string()),
                // 008/18-20 running time, 22 audience, 29 form of item, 33 v videorecording, 34 l live action.
                control(
                    "008",
                    [today.as_str(), "s", "        ", "xx ", "---", "  ", "     ", "  ", "   ", "vl", "eng d"].concat(),
                ),
            ],
        ),
        "serial" => (
            "00000nas a2200000 i 4500",
            vec![
                // 008/18 frequency, 19 regularity, 21 p periodical, 34 0 successive entry.
                control("008", [today.as_str(), "c", "    9999", "xx ", " r p", "       ", "0   a0", "eng d"].concat()),
            ],
        ),
        "blank" => ("00000nam a2200000 i 4500", vec![]),
        _ => return None,
    };
    if kind == "serial" {
        fields.push(data("022", ' ', ' ', &["a"]));
        fields.push(data("245", '0', '0', &["a", "b"]));
        fields.push(data("264", ' ', '1', &["a", "b", "c"]));
        fields.push(data("310", ' ', ' ', &["a"]));
        fields.push(data("362", '1', ' ', &["a"]));
    } else if kind != "blank" {
        fields.push(data("020", ' ', ' ', &["a"]));
        fields.push(data("100", '1', ' ', &["a"]));
        fields.push(data("245", '1', '0', &["a", "c"]));
        fields.push(data("264", ' ', '1', &["a", "b", "c"]));
        fields.push(data("300", ' ', ' ', &["a"]));
        fields.push(data("650", ' ', '0', &["a"]));
        if kind == "ebook" {
            fields.push(data("856", '4', '0', &["u"]));
        }
    } else {
        fields.push(data("245", '0', '0', &["a"]));
    }
    Some(Draft { leader: leader.to_string(), fields })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn field(tag: &str, ind1: &str, ind2: &str, subfields: &[(&str, &str)]) -> DraftField {
        DraftField {
            tag: tag.into(),
            ind1: ind1.into(),
            ind2: ind2.into(),
            value: None,
            subfields: subfields.iter().map(|(c, v)| (c.to_string(), v.to_string())).collect(),
        }
    }

    fn draft(fields: Vec<DraftField>) -> Draft {
        Draft { leader: "00000nam a2200000 i 4500".into(), fields }
    }

    fn title() -> DraftField {
        field("245", "1", "0", &[("a", "Moby Dick")])
    }

    fn messages(d: &Draft) -> Vec<(Place, String)> {
        d.check().into_iter().map(|p| (p.place, p.message)).collect()
    }

    #[test]
    fn a_good_draft_becomes_its_record() {
        let d = draft(vec![
            DraftField {
                tag: "008".into(),
                value: Some("260101s2026    xx            000 0 eng d".into()),
                ..Default::default()
            },
            field("100", "1", "", &[("a", "Melville, Herman.")]),
            title(),
            field("650", "", "0", &[("a", "Whales"), ("v", "Fiction.")]),
        ]);
        let record = d.to_record().expect("no problems");
        assert_eq!(record.data_field("100").map(|f| (f.ind1, f.ind2)), Some(('1', ' ')));
        assert_eq!(record.data_field("650").map(|f| f.ind1), Some(' '));
        assert_eq!(record.control("008").map(str::len), Some(40));
        assert_eq!(Draft::from_record(&record).to_record(), Ok(record));
    }

    #[test]
    fn each_problem_names_its_field_indicator_or_subfield() {
        let missing = messages(&draft(vec![field("100", "1", " ", &[("a", "Melville")])]));
        assert_eq!(
            missing,
            vec![(Place::Record, "field 245 (title statement) is missing: every record needs one".into())]
        );

        let no_a = messages(&draft(vec![field("245", "1", "0", &[("c", "by someone")])]));
        assert_eq!(no_a, vec![(Place::Field(0), "field 245 has no subfield $a (the title)".into())]);

        let bad_ind = messages(&draft(vec![field("245", "x", "0", &[("a", "T")])]));
        assert_eq!(bad_ind.len(), 1);
        assert_eq!(bad_ind[0].0, Place::Ind1(0));
        assert!(
            bad_ind[0].1.contains("field 245 indicator 1") && bad_ind[0].1.contains("\"0\" or \"1\""),
            "{bad_ind:?}"
        );

        let symbol = messages(&draft(vec![title(), field("500", "*", "", &[("a", "Note")])]));
        assert_eq!(symbol[0].0, Place::Ind1(1));
        assert!(symbol[0].1.starts_with("field 500 indicator 1: \"*\" is not an indicator"), "{symbol:?}");

        let ind2 = messages(&draft(vec![title(), field("100", "1", "4", &[("a", "X")])]));
        assert_eq!(
            ind2,
            vec![(Place::Ind2(1), "field 100 indicator 2: \"4\" is not defined for 100; it is blank".into())]
        );

        let code = messages(&draft(vec![title(), field("650", " ", "0", &[("A", "Whales")])]));
        assert_eq!(code[0].0, Place::SubfieldCode(1, 0));
        assert!(code[0].1.contains("field 650 subfield 1") && code[0].1.contains("\"A\""), "{code:?}");

        let tag = messages(&draft(vec![title(), field("65", " ", "0", &[("a", "Whales")])]));
        assert_eq!(tag[0].0, Place::Tag(1));
        assert!(tag[0].1.contains("three digits"), "{tag:?}");

        let control = messages(&draft(vec![title(), field("005", "", "", &[("a", "20260101")])]));
        assert_eq!(control[0].0, Place::Field(1));
        assert!(control[0].1.starts_with("field 005 is a control field"), "{control:?}");

        let leader = messages(&Draft { leader: "short".into(), fields: vec![title()] });
        assert_eq!(leader[0].0, Place::Leader);
    }

    #[test]
    fn blank_indicators_may_be_typed_empty_or_as_a_hash() {
        for blank in ["", " ", "#"] {
            assert!(draft(vec![field("245", "0", "0", &[("a", "T")]), field("650", blank, "0", &[("a", "S")])])
                .check()
                .is_empty());
        }
    }

    #[test]
    fn templates_code_their_kind_and_wait_for_a_title() {
        for (kind, _) in TEMPLATES {
            let d = template(kind, "261130").expect("a template");
            assert_eq!(d.leader.len(), 24);
            let problems = d.check();
            assert!(problems.iter().any(|p| p.message.contains("245")), "{kind}: {problems:?}");
            if let Some(f008) = d.fields.iter().find(|f| f.tag == "008") {
                let v = f008.value.as_deref().unwrap_or("");
                assert_eq!(v.chars().count(), 40, "{kind}: {v:?}");
                assert!(v.starts_with("261130"));
                let layout = fixed_field_008(Material::of(&d.leader));
                // Every coded position of the template holds one of its codes.
                for p in layout.iter().filter(|p| !p.codes.is_empty()) {
                    let c = v.chars().nth(p.start).unwrap_or(' ');
                    assert!(p.codes.iter().any(|(code, _)| *code == c), "{kind} 008/{}: {c:?}", p.start);
                }
            }
        }
        assert_eq!(Material::of(&template("dvd", "").expect("a template").leader), Material::VisualMaterials);
        assert_eq!(Material::of(&template("serial", "").expect("a template").leader), Material::ContinuingResources);
        assert_eq!(
            template("ebook", "")
                .expect("a template")
                .fields
                .iter()
                .find(|f| f.tag == "008")
                .expect("a template")
                .value
                .as_deref()
                .map(|v| &v[23..24]),
            Some("o")
        );
        assert!(template("scroll", "").is_none());
    }

    #[test]
    fn the_008_layouts_cover_every_position_once() {
        for m in [Material::Books, Material::ContinuingResources, Material::VisualMaterials, Material::Music] {
            let mut at = 0;
            for p in fixed_field_008(m) {
                assert_eq!(p.start, at, "{m:?}");
                at += p.len;
            }
            assert_eq!(at, 40, "{m:?}");
        }
    }

    proptest! {
        /// Whatever a form sends, checking never panics, and a draft without problems is a
        /// record that comes back as the same draft.
        #[test]
        fn checking_any_draft_is_total(
            leader in "[ -~]{0,30}",
            fields in proptest::collection::vec(
                ("[0-9a-zA-Z]{0,4}", "[ #0-9a-z*]{0,2}", "[ #0-9a-z]{0,2}",
                 proptest::option::of(".{0,10}"),
                 proptest::collection::vec(("[a-zA-Z0-9$]{0,2}", ".{0,8}"), 0..4)),
                0..6),
        ) {
            let d = Draft {
                leader,
                fields: fields.into_iter().map(|(tag, ind1, ind2, value, subfields)| DraftField { tag, ind1, ind2, value, subfields }).collect(),
            };
            if let Ok(record) = d.to_record() {
                let again = Draft::from_record(&record);
                prop_assert_eq!(again.to_record(), Ok(record));
            }
        }

        /// Any indicator that is not a digit, lowercase letter or blank is reported on that box.
        #[test]
        fn a_strange_indicator_is_always_named(c in proptest::char::any().prop_filter("not valid", |c| !(c.is_ascii_digit() || c.is_ascii_lowercase() || *c == ' ' || *c == '#'))) {
            let d = draft(vec![title(), field("500", &c.to_string(), " ", &[("a", "x")])]);
            let problems = d.check();
            prop_assert!(problems.iter().any(|p| p.place == Place::Ind1(1) && p.message.contains("field 500 indicator 1")));
        }
    }
}
