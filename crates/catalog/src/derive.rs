//! What Shelfmark derives from a MARC record for display, facets and matching. The MARC record
//! stays the source of truth; these fields are recomputed from it whenever it changes.
//!
//! # Punctuation
//! MARC carries ISBD punctuation at the end of subfields (`Title :`, `Heylin, Clinton.`,
//! `Smith, John, $e editor.`). Derived strings lose trailing ` /`, ` :`, ` ;`, ` =` and `,`, and
//! a trailing `.` when the three characters before it are letters or digits, or the one before
//! it is a digit, `)` or `]` (so `Hyde.`, `v. 3.` and `Paris (France).` lose it but the
//! abbreviations `ed.`, `J.` and `U.S.A.` keep it). Runs of spaces become one space.
//!
//! # Format rules
//! [`format_of`] looks at leader/06 (type of record), leader/07 (bibliographic level), the 007
//! fields (physical description) and 008 (form of item), the way Koha's and VuFind's format
//! facets do. The first rule that matches wins:
//!
//! | leader/06 | condition | format |
//! |---|---|---|
//! | `a` | leader/07 `s` and online (008/23 `o`/`q`/`s` or an 007 `cr`) | Ejournal |
//! | `a` | leader/07 `s` | Serial |
//! | `a` `t` | 008/23 `d` | LargePrint |
//! | `a` `t` | 008/23 `f`, or an 007 starting `f` (tactile) | Braille |
//! | `a` `t` | 008/23 `o`/`q`/`s`, or an 007 starting `cr` | Ebook |
//! | `a` | otherwise | Book |
//! | `t` | otherwise | Manuscript |
//! | `e` `f` | | Map |
//! | `c` `d` | | Score |
//! | `j` | compact disc (below) | MusicCd, else MusicRecording |
//! | `i` | compact disc (below) | AudiobookCd, else Audiobook |
//! | `g` | DVD (below) / Blu-ray (below) | Dvd / Bluray |
//! | `g` | 008/33 `s`/`f`/`t` (slide, filmstrip, transparency) | VisualMaterial |
//! | `g` | otherwise | Video |
//! | `m` | | ComputerFile |
//! | `o` | | Kit |
//! | `k` `r` | | VisualMaterial |
//! | `p` | | Other (mixed materials) |
//! | blank or unknown | | Book (brief records with a broken leader are nearly always books) |
//!
//! *Compact disc*: an 007 for a sound disc (`sd`) with 007/03 `f` (1.4 m/s, the CD speed). When
//! no 007 says the speed (missing, `u`, `|`), the 300 says `compact disc`, `CD`, or
//! `sound disc` with `digital` or `4 3/4 in.`.
//!
//! *DVD / Blu-ray*: an 007 for a videorecording (`v`) with 007/04 `v` (DVD) or `s` (Blu-ray).
//! When no 007 says the format, the 300 and 538 texts are read: `Blu-ray`, then `DVD`, then a
//! `videodisc` of `4 3/4 in.` (a DVD).

use crate::ident::{oclc_number, Isbn, Issn, Lccn};
use marc::{DataField, Record};
use serde::{Deserialize, Serialize};

/// The fields derived from one bibliographic record.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BibDerived {
    /// 245 $a $b $k $n $p in record order, ISBD punctuation trimmed (a `:`/`;`/`=` that ends a
    /// skipped $h medium is kept, so `$a Title $h [DVD] : $b sub` gives `Title : sub`).
    pub title: String,
    /// 245 $c.
    pub responsibility: Option<String>,
    /// 100/110/111 then 700/710/711, in record order, without trailing punctuation, relator
    /// terms ($e, $4) or control subfields; deduplicated.
    pub authors: Vec<String>,
    /// Every valid ISBN in 020 $a (and $z is *not* used for matching), as ISBN-13 without hyphens.
    pub isbns: Vec<String>,
    /// 022 $a, `NNNN-NNNC`, checksum-valid only.
    pub issns: Vec<String>,
    /// 010 $a, normalised (LC's LCCN normalisation: spaces removed, hyphen rule).
    pub lccn: Option<String>,
    /// OCLC numbers from 035 $a `(OCoLC)...` (also `ocm`/`ocn`/`on` prefixes), digits only, no
    /// leading zeros; also the 001 when 003 is `OCoLC` or the 001 has an `ocm`/`ocn`/`on` prefix.
    pub oclc_numbers: Vec<String>,
    /// 001 control number and 003 its organisation code: together a matching key.
    pub control_number: Option<String>,
    pub control_number_identifier: Option<String>,
    /// 264 _1 $b, else 260 $b.
    pub publisher: Option<String>,
    /// 008/07-10 when it is four digits, else the first four-digit year in 264 _1 $c, 260 $c,
    /// then any other 264 $c (e.g. the copyright date).
    pub year: Option<i32>,
    /// 008/35-37, else 041 $a (its first three letters).
    pub language: Option<String>,
    pub format: Format,
    /// 6XX headings (600-662), subdivisions ($v $x $y $z) joined with " -- "; deduplicated.
    /// 653 uncontrolled terms give one heading per $a.
    pub subjects: Vec<String>,
    /// 440/490 $a and 800/810/811/830 headings (title parts), then ` ; ` and $v when there is
    /// one. A traced 490 (ind1 `1`) is left out when the record has an 8XX, which carries the
    /// authorised form. Deduplicated ignoring case.
    pub series: Vec<String>,
    /// 050 / 090 joined `$a $b`.
    pub lc_call_number: Option<String>,
    /// 082 / 092 `$a` (first one only, segmentation marks `/` and `'` removed) + `$b`.
    pub dewey_call_number: Option<String>,
    /// 250 $a.
    pub edition: Option<String>,
}

/// The format, as an OPAC shows its icon and facet: derived from leader/06-07, 007 and 008.
/// The rules are in the [module documentation](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    #[default]
    Book,
    LargePrint,
    Ebook,
    Braille,
    Serial,
    Ejournal,
    Map,
    Score,
    MusicCd,
    MusicRecording,
    AudiobookCd,
    Audiobook,
    Dvd,
    Bluray,
    Video,
    ComputerFile,
    Kit,
    VisualMaterial,
    Manuscript,
    Other,
}

impl Format {
    pub const ALL: [Format; 20] = [
        Format::Book,
        Format::LargePrint,
        Format::Ebook,
        Format::Braille,
        Format::Serial,
        Format::Ejournal,
        Format::Map,
        Format::Score,
        Format::MusicCd,
        Format::MusicRecording,
        Format::AudiobookCd,
        Format::Audiobook,
        Format::Dvd,
        Format::Bluray,
        Format::Video,
        Format::ComputerFile,
        Format::Kit,
        Format::VisualMaterial,
        Format::Manuscript,
        Format::Other,
    ];

    /// The stable name used in the database, the API and files (the serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Book => "book",
            Format::LargePrint => "large_print",
            Format::Ebook => "ebook",
            Format::Braille => "braille",
            Format::Serial => "serial",
            Format::Ejournal => "ejournal",
            Format::Map => "map",
            Format::Score => "score",
            Format::MusicCd => "music_cd",
            Format::MusicRecording => "music_recording",
            Format::AudiobookCd => "audiobook_cd",
            Format::Audiobook => "audiobook",
            Format::Dvd => "dvd",
            Format::Bluray => "bluray",
            Format::Video => "video",
            Format::ComputerFile => "computer_file",
            Format::Kit => "kit",
            Format::VisualMaterial => "visual_material",
            Format::Manuscript => "manuscript",
            Format::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// What patrons and staff read on screen.
    pub fn label(self) -> &'static str {
        match self {
            Format::Book => "Book",
            Format::LargePrint => "Large print",
            Format::Ebook => "E-book",
            Format::Braille => "Braille",
            Format::Serial => "Serial",
            Format::Ejournal => "E-journal",
            Format::Map => "Map",
            Format::Score => "Score",
            Format::MusicCd => "Music CD",
            Format::MusicRecording => "Music recording",
            Format::AudiobookCd => "Audiobook CD",
            Format::Audiobook => "Audiobook",
            Format::Dvd => "DVD",
            Format::Bluray => "Blu-ray",
            Format::Video => "Video",
            Format::ComputerFile => "Computer file",
            Format::Kit => "Kit",
            Format::VisualMaterial => "Visual material",
            Format::Manuscript => "Manuscript",
            Format::Other => "Other",
        }
    }
}

/// Why a record cannot be imported as a bibliographic record: an ordinary outcome with a stable
/// code and a sentence for the operator, not an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// Leader/06 says authority, holdings, classification or community information.
    #[error("{kind} record (leader/06 {code}), not bibliographic")]
    NotBibliographic { kind: &'static str, code: char },
    #[error("field 245 is missing")]
    NoTitleField,
    #[error("field 245 has no subfield a")]
    NoTitle,
}

impl Rejection {
    /// A stable code for reports and the API.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::NotBibliographic { .. } => "not_bibliographic",
            Rejection::NoTitleField => "no_245",
            Rejection::NoTitle => "no_245_a",
        }
    }
}

/// Says why `record` cannot be imported as a bibliographic record, if it cannot: leader/06 of
/// another MARC format (authority `z`; holdings `u` `v` `x` `y`; classification `w`; community
/// information `q`), no 245, or a 245 with neither $a nor $k (a non-blank value). A blank or
/// unknown leader/06 is accepted: Koha writes such brief records and they are books.
pub fn check_bibliographic(record: &Record) -> Result<(), Rejection> {
    let code = char::from(record.leader.record_type());
    let kind = match code {
        'z' => Some("authority"),
        'u' | 'v' | 'x' | 'y' => Some("holdings"),
        'w' => Some("classification"),
        'q' => Some("community information"),
        _ => None,
    };
    if let Some(kind) = kind {
        return Err(Rejection::NotBibliographic { kind, code });
    }
    let title = record.data_field("245").ok_or(Rejection::NoTitleField)?;
    let has_title = title.subfields.iter().any(|s| matches!(s.code, 'a' | 'k') && !s.value.trim().is_empty());
    if has_title {
        Ok(())
    } else {
        Err(Rejection::NoTitle)
    }
}

/// Derives the display and matching fields from a record. Never fails: a record with no 245
/// gets an empty title (import rejects it before this point, with a reason).
pub fn derive(record: &Record) -> BibDerived {
    BibDerived {
        title: title(record),
        responsibility: record.data_field("245").and_then(|f| non_empty(trim_punct(&f.join("c")))),
        authors: authors(record),
        isbns: dedup(record.subfield_values("020", 'a').filter_map(|v| Isbn::parse(v).ok()).map(String::from)),
        issns: dedup(record.subfield_values("022", 'a').filter_map(|v| Issn::parse(v).ok()).map(String::from)),
        lccn: record.subfield_values("010", 'a').find_map(|v| Lccn::parse(v).ok()).map(String::from),
        oclc_numbers: oclc_numbers(record),
        control_number: record.control("001").and_then(|v| non_empty(v.trim().to_string())),
        control_number_identifier: record.control("003").and_then(|v| non_empty(v.trim().to_string())),
        publisher: publisher(record),
        year: year(record),
        language: language(record),
        format: format_of(record),
        subjects: subjects(record),
        series: series(record),
        lc_call_number: lc_call_number(record),
        dewey_call_number: dewey_call_number(record),
        edition: record.subfield_values("250", 'a').next().and_then(|v| non_empty(trim_punct(v))),
    }
}

/// Removes trailing ISBD punctuation (see the module documentation) and collapses spaces.
pub fn trim_punct(s: &str) -> String {
    let collapsed = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut t = collapsed.as_str();
    loop {
        let before = t;
        t = t.trim_end_matches([' ', '/', ':', ';', ',', '=']);
        if let Some(stem) = t.strip_suffix('.') {
            let last3: Vec<char> = stem.chars().rev().take(3).collect();
            let word = last3.len() == 3 && last3.iter().all(|c| c.is_alphanumeric());
            if word || last3.first().is_some_and(|c| c.is_ascii_digit() || matches!(c, ')' | ']')) {
                t = stem;
            }
        }
        if t == before {
            break;
        }
    }
    t.to_string()
}

fn non_empty(s: String) -> Option<String> {
    if s.is_empty() {
        None
    } else {
        Some(s)
    }
}

/// Keeps the first of equal strings (and drops empty ones), in order.
fn dedup(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        if !v.is_empty() && !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

fn title(record: &Record) -> String {
    record.data_field("245").map(title_statement).unwrap_or_default()
}

/// The title of a 245 field (see [`BibDerived::title`]).
pub(crate) fn title_statement(field: &DataField) -> String {
    let mut out = String::new();
    for sf in &field.subfields {
        let value = sf.value.trim();
        match sf.code {
            'a' | 'b' | 'k' | 'n' | 'p' if !value.is_empty() => {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(value);
            }
            // `$h [videorecording] :` carries the punctuation that belongs before $b.
            'h' if !out.is_empty() && !out.ends_with([':', ';', '=', '/', '.', ',']) => {
                if let Some(mark) = value.chars().last().filter(|c| matches!(c, ':' | ';' | '=')) {
                    out.push(' ');
                    out.push(mark);
                }
            }
            _ => {}
        }
    }
    trim_punct(&out)
}

/// A heading made of the subfields whose codes are in `codes`, in record order, each trimmed.
fn heading(field: &DataField, codes: &str) -> String {
    trim_punct(&field.join(codes))
}

fn name_codes(tag: &str) -> &'static str {
    match &tag[1..] {
        "10" => "abcdgn",
        "11" => "acdegnq",
        _ => "abcdq",
    }
}

fn authors(record: &Record) -> Vec<String> {
    let main = ["100", "110", "111"].into_iter().flat_map(|t| record.data_fields(t));
    let added =
        record.fields.iter().filter_map(|f| f.as_data()).filter(|d| matches!(d.tag.as_str(), "700" | "710" | "711"));
    dedup(main.chain(added).map(|f| heading(f, name_codes(f.tag.as_str()))))
}

fn oclc_numbers(record: &Record) -> Vec<String> {
    let from_001 = record.control("001").and_then(|cn| {
        let is_oclc = record.control("003").is_some_and(|org| org.trim().eq_ignore_ascii_case("OCoLC"));
        let cn = cn.trim();
        match oclc_number(cn) {
            Some(n) => Some(n),
            None if is_oclc && !cn.is_empty() && cn.bytes().all(|b| b.is_ascii_digit()) => {
                non_empty(cn.trim_start_matches('0').to_string())
            }
            None => None,
        }
    });
    dedup(record.subfield_values("035", 'a').filter_map(oclc_number).chain(from_001))
}

fn publisher(record: &Record) -> Option<String> {
    let from_264 = record.data_fields("264").filter(|f| f.ind2 == '1').find_map(|f| f.subfield('b'));
    from_264.or_else(|| record.subfield_values("260", 'b').next()).and_then(|b| non_empty(trim_punct(b)))
}

fn year(record: &Record) -> Option<i32> {
    if let Some(date1) = record.control("008").and_then(|f| f.get(7..11)) {
        if date1.bytes().all(|b| b.is_ascii_digit()) && date1 != "0000" {
            return date1.parse().ok();
        }
    }
    let published = record.data_fields("264").filter(|f| f.ind2 == '1');
    let others = record.data_fields("264").filter(|f| f.ind2 != '1');
    published.chain(record.data_fields("260")).chain(others).flat_map(|f| f.subfields_with('c')).find_map(first_year)
}

/// The first run of exactly four ASCII digits (`c2013` → 2013, `[1998?]` → 1998).
fn first_year(s: &str) -> Option<i32> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i - start == 4 {
                return s[start..i].parse().ok().filter(|y| *y > 0);
            }
        } else {
            i += 1;
        }
    }
    None
}

fn language(record: &Record) -> Option<String> {
    let is_code = |s: &str| s.len() == 3 && s.bytes().all(|b| b.is_ascii_lowercase());
    if let Some(code) = record.control("008").and_then(|f| f.get(35..38)).filter(|c| is_code(c)) {
        return Some(code.to_string());
    }
    record.subfield_values("041", 'a').filter_map(|v| v.trim().get(..3)).find(|c| is_code(c)).map(str::to_string)
}

fn subjects(record: &Record) -> Vec<String> {
    let mut out = Vec::new();
    for field in record.fields.iter().filter_map(|f| f.as_data()) {
        let tag = field.tag.as_str();
        if !(tag.starts_with('6') && ("600"..="662").contains(&tag)) {
            continue;
        }
        if tag == "653" {
            out.extend(field.subfields_with('a').map(trim_punct));
            continue;
        }
        // $e relator (except in 611, where it is a subordinate unit), $u affiliation, $w control.
        let relator = if tag == "611" { "" } else { "e" };
        let mut segments = vec![String::new()];
        for sf in &field.subfields {
            let value = sf.value.trim();
            if value.is_empty()
                || !sf.code.is_ascii_lowercase()
                || matches!(sf.code, 'u' | 'w')
                || relator.contains(sf.code)
            {
                continue;
            }
            match segments.last_mut() {
                Some(last) if !matches!(sf.code, 'v' | 'x' | 'y' | 'z') => {
                    if !last.is_empty() {
                        last.push(' ');
                    }
                    last.push_str(value);
                }
                _ => segments.push(value.to_string()),
            }
        }
        let segments: Vec<String> = segments.iter().map(|s| trim_punct(s)).filter(|s| !s.is_empty()).collect();
        out.push(segments.join(" -- "));
    }
    dedup(out.into_iter())
}

fn series(record: &Record) -> Vec<String> {
    let data = || record.fields.iter().filter_map(|f| f.as_data());
    let has_8xx = data().any(|f| matches!(f.tag.as_str(), "800" | "810" | "811" | "830"));
    let mut out: Vec<String> = Vec::new();
    for field in data() {
        let codes = match field.tag.as_str() {
            "440" | "830" => "anp",
            "490" if has_8xx && field.ind1 == '1' => continue,
            "490" => "a",
            "800" => "abcdqtnp",
            "810" => "abcdgtnp",
            "811" => "acdegqtnp",
            _ => continue,
        };
        let mut s = heading(field, codes);
        let volume = trim_punct(&field.join("v"));
        if !volume.is_empty() {
            s.push_str(" ; ");
            s.push_str(&volume);
        }
        if !s.is_empty() && !out.iter().any(|o| o.eq_ignore_ascii_case(&s)) {
            out.push(s);
        }
    }
    out
}

/// `$a $b` of the first field among `tags` that has an $a, with `clean` applied to $a.
fn call_number(record: &Record, tags: [&str; 2], clean: fn(&str) -> String) -> Option<String> {
    tags.into_iter().flat_map(|t| record.data_fields(t)).find_map(|f| {
        let a = clean(f.subfield('a')?);
        let a = a.split_whitespace().collect::<Vec<_>>().join(" ");
        if a.is_empty() {
            return None;
        }
        let b = f.subfield('b').map(|b| b.split_whitespace().collect::<Vec<_>>().join(" ")).unwrap_or_default();
        Some(if b.is_empty() { a } else { format!("{a} {b}") })
    })
}

fn lc_call_number(record: &Record) -> Option<String> {
    call_number(record, ["050", "090"], str::to_string)
}

fn dewey_call_number(record: &Record) -> Option<String> {
    call_number(record, ["082", "092"], |a| a.replace(['/', '\''], ""))
}

/// The format of a record: see the rules in the [module documentation](self).
pub fn format_of(record: &Record) -> Format {
    let leader = &record.leader;
    let f008 = record.control("008").unwrap_or("").as_bytes();
    let at = |pos: usize| f008.get(pos).copied().unwrap_or(b' ');
    let f007s: Vec<&[u8]> = record
        .fields
        .iter()
        .filter_map(|f| f.as_control())
        .filter(|c| c.tag == "007")
        .map(|c| c.value.as_bytes())
        .collect();
    let has_007 = |prefix: &[u8]| f007s.iter().any(|f| f.starts_with(prefix));
    let online = matches!(at(23), b'o' | b'q' | b's') || has_007(b"cr");
    match leader.record_type() {
        b'a' | b't' => {
            let manuscript = leader.record_type() == b't';
            if !manuscript && leader.bibliographic_level() == b's' {
                return if online { Format::Ejournal } else { Format::Serial };
            }
            if at(23) == b'd' {
                Format::LargePrint
            } else if at(23) == b'f' || has_007(b"f") {
                Format::Braille
            } else if online {
                Format::Ebook
            } else if manuscript {
                Format::Manuscript
            } else {
                Format::Book
            }
        }
        b'e' | b'f' => Format::Map,
        b'c' | b'd' => Format::Score,
        b'j' => {
            if is_compact_disc(record, &f007s) {
                Format::MusicCd
            } else {
                Format::MusicRecording
            }
        }
        b'i' => {
            if is_compact_disc(record, &f007s) {
                Format::AudiobookCd
            } else {
                Format::Audiobook
            }
        }
        b'g' => match video_disc(record, &f007s) {
            Some(format) => format,
            None if matches!(at(33), b's' | b'f' | b't') => Format::VisualMaterial,
            None => Format::Video,
        },
        b'm' => Format::ComputerFile,
        b'o' => Format::Kit,
        b'k' | b'r' => Format::VisualMaterial,
        b'p' => Format::Other,
        _ => Format::Book,
    }
}

/// The lower-cased text of the 300 (and, with `with_538`, 538) fields.
fn physical_text(record: &Record, with_538: bool) -> String {
    let tags: &[&str] = if with_538 { &["300", "538"] } else { &["300"] };
    tags.iter().flat_map(|t| record.data_fields(t)).map(|f| f.join("abce")).collect::<Vec<_>>().join(" ").to_lowercase()
}

fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric() && c != '-').filter(|w| !w.is_empty())
}

fn is_compact_disc(record: &Record, f007s: &[&[u8]]) -> bool {
    let mut said = false;
    for f in f007s.iter().filter(|f| f.starts_with(b"s")) {
        match (f.get(1), f.get(3)) {
            (Some(b'd'), Some(b'f')) => return true,
            (Some(b'd'), Some(b'u' | b'|' | b' ' | b'z' | b'n')) | (Some(b'u' | b'|'), _) => {}
            _ => said = true,
        }
    }
    if said {
        return false;
    }
    let text = physical_text(record, false);
    text.contains("compact disc")
        || words(&text).any(|w| w == "cd" || w == "cds")
        || (text.contains("sound disc") && (text.contains("digital") || text.contains("4 3/4")))
}

fn video_disc(record: &Record, f007s: &[&[u8]]) -> Option<Format> {
    let mut said = false;
    for f in f007s.iter().filter(|f| f.starts_with(b"v")) {
        match f.get(4) {
            Some(b'v') => return Some(Format::Dvd),
            Some(b's') => return Some(Format::Bluray),
            Some(b'u' | b'|' | b' ' | b'z') | None => {}
            Some(_) => said = true,
        }
    }
    if said {
        return None;
    }
    let text = physical_text(record, true);
    if text.contains("blu-ray") || text.contains("bluray") {
        Some(Format::Bluray)
    } else if words(&text).any(|w| w == "dvd" || w == "dvds") || (text.contains("videodisc") && text.contains("4 3/4"))
    {
        Some(Format::Dvd)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::record;

    /// Derives from a record written in the line format of [`crate::testing::record`] and
    /// compares one field.
    fn check<T: PartialEq + std::fmt::Debug>(text: &str, field: impl Fn(&BibDerived) -> T, expected: T) {
        let derived = derive(&record(text));
        assert_eq!(field(&derived), expected, "record:\n{text}");
    }

    fn check_format(text: &str, expected: Format) {
        check(text, |d| d.format, expected);
    }

    /// An 008 line with the given positions set (the rest a plain 2013 English book's).
    fn f008(set: &[(usize, char)]) -> String {
        let mut chars: Vec<char> = "120829s2013    nyu           000 0 eng d".chars().collect();
        for &(pos, c) in set {
            chars[pos] = c;
        }
        format!("008 {}", chars.into_iter().collect::<String>())
    }

    #[test]
    fn punctuation() {
        for (input, expected) in [
            ("E Street shuffle :", "E Street shuffle"),
            ("the glory days /", "the glory days"),
            ("Heylin, Clinton.", "Heylin, Clinton"),
            ("Smith, John,", "Smith, John"),
            ("King, Stephen, 1947-", "King, Stephen, 1947-"),
            ("Kennedy, John F. 1917-1963.", "Kennedy, John F. 1917-1963"),
            ("Rowling, J. K.", "Rowling, J. K."),
            ("2nd ed.", "2nd ed."),
            ("U.S.A.", "U.S.A."),
            ("And then ...", "And then ..."),
            ("Title =", "Title"),
            ("Title ; ", "Title"),
            ("  spaced   out  ", "spaced out"),
            ("St. :", "St."),
            ("Paris (France).", "Paris (France)"),
            ("v. 3.", "v. 3"),
            ("Hyde. /", "Hyde"),
            ("", ""),
        ] {
            assert_eq!(trim_punct(input), expected, "{input:?}");
        }
    }

    #[test]
    fn title() {
        let t = |d: &BibDerived| d.title.clone();
        check(
            "245 10 $a E Street shuffle : $b the glory days of Bruce Springsteen & the E Street Band / $c Clinton Heylin.",
            t,
            "E Street shuffle : the glory days of Bruce Springsteen & the E Street Band".to_string(),
        );
        check("245 00 $a Hamlet.", t, "Hamlet".to_string());
        check("245 00 $a Dr. Jekyll and Mr. Hyde.", t, "Dr. Jekyll and Mr. Hyde".to_string());
        check(
            "245 00 $a Star wars. $n Episode IV, $p A new hope $h [videorecording] / $c Lucasfilm.",
            t,
            "Star wars. Episode IV, A new hope".to_string(),
        );
        check("245 00 $a Casablanca $h [DVD] : $b a film.", t, "Casablanca : a film".to_string());
        check("245 00 $a Papers, $k diaries, $f 1850-1900.", t, "Papers, diaries".to_string());
        check(
            "245 00 $a Li Po and Tu Fu $b poems $c selected by Arthur Cooper",
            t,
            "Li Po and Tu Fu poems".to_string(),
        );
        check("100 1_ $a Nobody.", t, String::new());
    }

    #[test]
    fn responsibility_and_edition() {
        check("245 10 $a T / $c Clinton Heylin.", |d| d.responsibility.clone(), Some("Clinton Heylin".into()));
        check("245 10 $a T", |d| d.responsibility.clone(), None);
        check("250 __ $a First American edition.", |d| d.edition.clone(), Some("First American edition".into()));
        check("250 __ $a 2nd ed.", |d| d.edition.clone(), Some("2nd ed.".into()));
        check("245 10 $a T", |d| d.edition.clone(), None);
    }

    #[test]
    fn authors() {
        check(
            "100 1_ $a Heylin, Clinton. $9 1702\n\
             245 10 $a T\n\
             700 1_ $a Smith, John, $d 1950- $e editor. $4 edt\n\
             710 2_ $a E Street Band.\n\
             700 1_ $a Heylin, Clinton.\n\
             711 2_ $a Olympic Games $n (23rd : $d 1984 : $c Los Angeles, Calif.)",
            |d| d.authors.clone(),
            vec![
                "Heylin, Clinton".to_string(),
                "Smith, John, 1950-".to_string(),
                "E Street Band".to_string(),
                "Olympic Games (23rd : 1984 : Los Angeles, Calif.)".to_string(),
            ],
        );
        check(
            "110 2_ $a United States. $b Congress.",
            |d| d.authors.clone(),
            vec!["United States. Congress".to_string()],
        );
        check("245 10 $a T", |d| d.authors.clone(), Vec::<String>::new());
    }

    #[test]
    fn identifiers() {
        check(
            "020 __ $a 0306406152 (pbk.)\n\
             020 __ $a 978-0-306-40615-7 : $c $25.00\n\
             020 __ $a 9780670026623 (alk. paper)\n\
             020 __ $a 0306406153\n\
             020 __ $z 9780804429573",
            |d| d.isbns.clone(),
            vec!["9780306406157".to_string(), "9780670026623".to_string()],
        );
        check(
            "022 0_ $a 0028-0836 $y 0028-0837\n022 __ $a 1234-5678\n022 __ $a 1050-124x",
            |d| d.issns.clone(),
            vec!["0028-0836".to_string(), "1050-124X".to_string()],
        );
        check("010 __ $a   2012035454", |d| d.lccn.clone(), Some("2012035454".into()));
        check("010 __ $a n78-89035", |d| d.lccn.clone(), Some("n78089035".into()));
        check("010 __ $a garbage", |d| d.lccn.clone(), None);
        check(
            "001 17446121\n003 DLC\n035 __ $a (OCoLC)ocm00012345\n035 __ $a (DLC)  2012035454\n035 __ $a (OCoLC)12345\n035 __ $a (OCoLC)on1234567890",
            |d| d.oclc_numbers.clone(),
            vec!["12345".to_string(), "1234567890".to_string()],
        );
        check("001 ocm12345678\n003 OCoLC", |d| d.oclc_numbers.clone(), vec!["12345678".to_string()]);
        check("001 0012345\n003 OCoLC", |d| d.oclc_numbers.clone(), vec!["12345".to_string()]);
        check("001 17446121\n003 DLC", |d| d.oclc_numbers.clone(), Vec::<String>::new());
        check(
            "001  17446121 \n003 DLC",
            |d| (d.control_number.clone(), d.control_number_identifier.clone()),
            (Some("17446121".into()), Some("DLC".into())),
        );
        check("245 10 $a T", |d| (d.control_number.clone(), d.control_number_identifier.clone()), (None, None));
    }

    #[test]
    fn publication() {
        let p = |d: &BibDerived| d.publisher.clone();
        check("260 __ $a New York : $b Viking, $c 2013.", p, Some("Viking".into()));
        check(
            "264 _4 $c ©2012\n264 _1 $a New York : $b Penguin Press, $c 2013.\n260 __ $b Other",
            p,
            Some("Penguin Press".into()),
        );
        check("264 _3 $b Printer\n260 __ $b Viking,", p, Some("Viking".into()));
        check("245 10 $a T", p, None);

        let y = |d: &BibDerived| d.year;
        check("008 120829t20132012nyu      bk   001 0ceng  ", y, Some(2013));
        check("008 20120305nuuuu    xx           |||| ||eng d\n260 __ $c c1998.", y, Some(1998));
        check("008 120829s19uu    nyu\n264 _4 $c ©2012\n264 _1 $c [2013?]", y, Some(2013));
        check("264 _4 $c ©2012", y, Some(2012));
        check("260 __ $c 19--?", y, None);
        check("260 __ $c 12345", y, None);
        check("008 short", y, None);
    }

    #[test]
    fn language() {
        let l = |d: &BibDerived| d.language.clone();
        check("008 120829t20132012nyu      bk   001 0ceng  ", l, Some("eng".into()));
        check("008 120829t20132012nyu      bk   001 0c     \n041 0_ $a fre $a eng", l, Some("fre".into()));
        check("041 0_ $a engfre", l, Some("eng".into()));
        check("008 120829t20132012nyu      bk   001 0c|||  ", l, None);
    }

    #[test]
    fn subjects() {
        check(
            "600 10 $a Springsteen, Bruce. $9 1703\n\
             610 20 $a E Street Band.\n\
             650 _0 $a Rock musicians $z United States $v Biography.\n\
             650 _7 $a Rock musicians $z United States $v Biography. $2 fast $0 (OCoLC)fst01\n\
             651 _0 $a Paris (France) $x History $y 1870-1940.\n\
             600 10 $a Shakespeare, William, $d 1564-1616 $e author. $t Hamlet.\n\
             653 __ $a cats $a dogs\n\
             655 _7 $a Detective and mystery fiction. $2 lcgft\n\
             690 __ $a Local heading",
            |d| d.subjects.clone(),
            [
                "Springsteen, Bruce",
                "E Street Band",
                "Rock musicians -- United States -- Biography",
                "Paris (France) -- History -- 1870-1940",
                "Shakespeare, William, 1564-1616 Hamlet",
                "cats",
                "dogs",
                "Detective and mystery fiction",
            ]
            .map(String::from)
            .to_vec(),
        );
    }

    #[test]
    fn series() {
        let s = |d: &BibDerived| d.series.clone();
        check("490 0_ $a Penguin classics ; $v 12", s, vec!["Penguin classics ; 12".to_string()]);
        check(
            "490 1_ $a Harry Potter series ; $v year 3\n800 1_ $a Rowling, J. K. $t Harry Potter series ; $v year 3.",
            s,
            vec!["Rowling, J. K. Harry Potter series ; year 3".to_string()],
        );
        check(
            "490 1_ $a Oxford world's classics\n830 _0 $a Oxford world's classics (Oxford University Press)\n830 _0 $a OXFORD WORLD'S CLASSICS (OXFORD UNIVERSITY PRESS).",
            s,
            vec!["Oxford world's classics (Oxford University Press)".to_string()],
        );
        check("440 _0 $a Pelican books ; $v A12", s, vec!["Pelican books ; A12".to_string()]);
        check("490 1_ $a Traced but untraced", s, vec!["Traced but untraced".to_string()]);
    }

    #[test]
    fn call_numbers() {
        let lc = |d: &BibDerived| d.lc_call_number.clone();
        check("050 00 $a ML420.S77 $b H28 2013", lc, Some("ML420.S77 H28 2013".into()));
        check("050 00 $a QA76.73.R87 $a QA76.7 $b K53 2018", lc, Some("QA76.73.R87 K53 2018".into()));
        check("090 __ $a PS3561.I483 $b S5 1987\n050 00 $a PS3561.I483", lc, Some("PS3561.I483".into()));
        check("090 __ $a PS3561.I483 $b S5 1987", lc, Some("PS3561.I483 S5 1987".into()));
        check("050 00 $b H28", lc, None);

        let dewey = |d: &BibDerived| d.dewey_call_number.clone();
        check("082 00 $a 782.42166092 $a B $2 23", dewey, Some("782.42166092".into()));
        check("082 04 $a 813/.54 $2 23", dewey, Some("813.54".into()));
        check("082 00 $a 005.13'3 $b KIN", dewey, Some("005.133 KIN".into()));
        check("092 __ $a 813.54 $b KIN", dewey, Some("813.54 KIN".into()));
        check("092 __ $a FIC $b KING\n082 00 $a 813/.54", dewey, Some("813.54".into()));
    }

    #[test]
    fn formats_of_language_material() {
        let book = "LDR 00000nam a2200000 i 4500";
        check_format(&format!("{book}\n{}", f008(&[])), Format::Book);
        check_format(&format!("{book}\n{}", f008(&[(23, 'r')])), Format::Book);
        check_format(&format!("{book}\n{}", f008(&[(23, 'd')])), Format::LargePrint);
        check_format(&format!("{book}\n{}", f008(&[(23, 'o')])), Format::Ebook);
        check_format(&format!("{book}\n{}", f008(&[(23, 'q')])), Format::Ebook);
        check_format(&format!("{book}\n{}", f008(&[(23, 's')])), Format::Ebook);
        check_format(&format!("{book}\n{}\n007 cr |n", f008(&[])), Format::Ebook);
        check_format(&format!("{book}\n{}\n007 co |n", f008(&[])), Format::Book);
        check_format(&format!("{book}\n{}", f008(&[(23, 'f')])), Format::Braille);
        check_format(&format!("{book}\n007 fb|a"), Format::Braille);
        check_format(&format!("LDR 00000nas a2200000 i 4500\n{}", f008(&[(23, 'o')])), Format::Ejournal);
        check_format("LDR 00000cas a2200000 i 4500\n007 cr |n", Format::Ejournal);
        check_format(&format!("LDR 00000cas a2200000 i 4500\n{}", f008(&[])), Format::Serial);
        check_format(&format!("LDR 00000cas a2200000 i 4500\n{}", f008(&[(23, 'd')])), Format::Serial);
        check_format("LDR 00000ntm a2200000 i 4500", Format::Manuscript);
        check_format(&format!("LDR 00000ntm a2200000 i 4500\n{}", f008(&[(23, 'd')])), Format::LargePrint);
        check_format("LDR 00234    a2200109   4500\n008 20120305nuuuu", Format::Book);
    }

    #[test]
    fn formats_of_other_material() {
        check_format("LDR 00000nem a2200000 i 4500", Format::Map);
        check_format("LDR 00000nfm a2200000 i 4500", Format::Map);
        check_format("LDR 00000ncm a2200000 i 4500\n007 sd fungnn|||eu", Format::Score);
        check_format("LDR 00000ndm a2200000 i 4500", Format::Score);
        check_format("LDR 00000njm a2200000 i 4500\n007 sd fsngnn---e-", Format::MusicCd);
        check_format("LDR 00000njm a2200000 i 4500\n007 sdubumennmpluu\n300 __ $a 1 sound disc : $b analog, 33 1/3 rpm ; $c 12 in.", Format::MusicRecording);
        check_format("LDR 00000njm a2200000 i 4500\n007 sduzunznnmlne\n300 __ $a 1 sound disc (53 min.) : $b digital ; $c 4 3/4 in.", Format::MusicCd);
        check_format("LDR 00000njm a2200000 i 4500\n300 __ $a 1 compact disc", Format::MusicCd);
        check_format("LDR 00000njm a2200000 i 4500\n300 __ $a 1 CD", Format::MusicCd);
        check_format("LDR 00000njm a2200000 i 4500\n300 __ $a 2 DVDs  NTSC", Format::MusicRecording);
        check_format("LDR 00000njm a2200000 i 4500", Format::MusicRecording);
        check_format("LDR 00000nim a2200000 i 4500\n007 sd fsngnnmmned", Format::AudiobookCd);
        check_format("LDR 00000nim a2200000 i 4500\n007 ss lsnjlcmpnue", Format::Audiobook);
        check_format(
            "LDR 00000nim a2200000 i 4500\n007 sz zunznnnzneu\n300 __ $a 1 sound media player",
            Format::Audiobook,
        );
        check_format("LDR 00000ngm a2200000 i 4500\n007 vd bvaizm\n300 __ $a 1 videodisc", Format::Dvd);
        check_format("LDR 00000ngm a2200000 i 4500\n007 vd csaizq", Format::Bluray);
        check_format("LDR 00000ngm a2200000 i 4500\n007 vf cbahou\n538 __ $a VHS format.", Format::Video);
        check_format("LDR 00000ngm a2200000 i 4500\n007 v| ||||||\n300 __ $a 1 videocassette (VHS)", Format::Video);
        check_format("LDR 00000ngm a2200000 i 4500\n300 __ $a 1 videodisc (83 min.) : $b sd., col ; $c 4 3/4 in.\n538 __ $a PAL.", Format::Dvd);
        check_format("LDR 00000ngm a2200000 i 4500\n538 __ $a Blu-ray disc, region A.", Format::Bluray);
        check_format("LDR 00000ngm a2200000 i 4500\n007 mr c|aaf|nara", Format::Video);
        check_format(&format!("LDR 00000ngm a2200000 i 4500\n{}", f008(&[(33, 's')])), Format::VisualMaterial);
        check_format(&format!("LDR 00000ngm a2200000 i 4500\n{}", f008(&[(33, 'v')])), Format::Video);
        check_format("LDR 00000nmm a2200000 i 4500", Format::ComputerFile);
        check_format("LDR 00000nom a2200000 i 4500", Format::Kit);
        check_format("LDR 00000nkm a2200000 i 4500", Format::VisualMaterial);
        check_format("LDR 00000nrm a2200000 i 4500", Format::VisualMaterial);
        check_format("LDR 00000npc a2200000 i 4500", Format::Other);
    }

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(Format::parse(f.as_str()), Some(f));
            let json = serde_json::to_string(&f).expect("serialises");
            assert_eq!(json, format!("\"{}\"", f.as_str()));
        }
    }

    fn check_bib(text: &str, expected: Result<(), &str>) {
        let got = check_bibliographic(&record(text)).map_err(|r| r.to_string());
        assert_eq!(got, expected.map_err(str::to_string), "record:\n{text}");
    }

    #[test]
    fn bibliographic_checks() {
        check_bib("LDR 00000nam a2200000 i 4500\n245 10 $a Title", Ok(()));
        check_bib("LDR 00000ntc a2200000 i 4500\n245 10 $k Papers", Ok(()));
        check_bib("LDR 00234    a2200109   4500\n245 10 $a X Power Tools", Ok(()));
        check_bib(
            "LDR 00000nz  a2200000n  4500\n100 1_ $a Twain, Mark",
            Err("authority record (leader/06 z), not bibliographic"),
        );
        check_bib(
            "LDR 00000nx  a2200000n  4500\n852 __ $b CPL",
            Err("holdings record (leader/06 x), not bibliographic"),
        );
        check_bib("LDR 00000nw  a2200000n  4500", Err("classification record (leader/06 w), not bibliographic"));
        check_bib("LDR 00000nq  a2200000n  4500", Err("community information record (leader/06 q), not bibliographic"));
        check_bib("LDR 00000nam a2200000 i 4500\n100 1_ $a Twain, Mark", Err("field 245 is missing"));
        check_bib("LDR 00000nam a2200000 i 4500\n245 10 $b sub $c me", Err("field 245 has no subfield a"));
        check_bib("LDR 00000nam a2200000 i 4500\n245 10 $a  ", Err("field 245 has no subfield a"));
    }

    proptest::proptest! {
        /// Any text in any of the fields derive reads, and any leader: derive and the checks
        /// never panic.
        #[test]
        fn never_panics(leader in "[ -~]{24}", values in proptest::collection::vec("\\PC{0,40}", 8)) {
            let mut r = record("");
            r.leader = marc::Leader::from_bytes(leader.as_bytes().try_into().expect("24 bytes"));
            for (tag, v) in ["008", "007", "001"].iter().zip(&values) {
                r.push_control(marc::Tag::parse(tag).expect("tag"), v.clone());
            }
            for (i, tag) in ["020", "022", "010", "035", "245", "260", "264", "082", "050", "650", "490", "100"].iter().enumerate() {
                let v = &values[i % values.len()];
                r.push_data(DataField::new(marc::Tag::parse(tag).expect("tag"), ' ', '1').with('a', v.clone()).with('b', v.clone()).with('c', v.clone()).with('v', v.clone()));
            }
            let _ = derive(&r);
            let _ = check_bibliographic(&r);
        }
    }

    #[test]
    fn koha_sample_derives() {
        let records = crate::testing::koha_sample();
        assert_eq!(records.len(), 435);
        let derived: Vec<BibDerived> = records.iter().map(derive).collect();
        assert!(records.iter().all(|r| check_bibliographic(r).is_ok()));
        assert!(derived.iter().all(|d| !d.title.is_empty()));
        let first = &derived[0];
        assert_eq!(first.title, "E Street shuffle : the glory days of Bruce Springsteen & the E Street Band");
        assert_eq!(first.isbns, vec!["9780670026623".to_string()]);
        assert_eq!(first.lccn.as_deref(), Some("2012035454"));
        assert_eq!(first.year, Some(2013));
        assert_eq!(first.lc_call_number.as_deref(), Some("ML420.S77 H28 2013"));
        assert_eq!(first.dewey_call_number.as_deref(), Some("782.42166092"));
        assert_eq!(first.edition.as_deref(), Some("First American edition"));
        assert_eq!(first.subjects[2], "Rock musicians -- United States -- Biography");
        let mut counts: Vec<(Format, usize)> =
            Format::ALL.iter().map(|&f| (f, derived.iter().filter(|d| d.format == f).count())).collect();
        counts.retain(|(_, n)| *n > 0);
        // 27 `j` records: 25 CDs, one LP (007/03 `b`), one music DVD. 19 `g`: 14 DVDs (5 from
        // 007/04 `v`, 9 from "videodisc 4 3/4 in." or "DVD" in 300/538), 3 VHS, 2 film reels.
        assert_eq!(
            counts,
            vec![
                (Format::Book, 364),
                (Format::Serial, 19),
                (Format::Ejournal, 3),
                (Format::Score, 3),
                (Format::MusicCd, 25),
                (Format::MusicRecording, 2),
                (Format::Dvd, 14),
                (Format::Video, 5),
            ]
        );
    }
}
