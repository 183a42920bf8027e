//! What the index knows about a record: built from the stored record (its derived fields and
//! the full MARC, for notes, variant titles and the 880 alternate-script fields) and its items
//! (call numbers, branches, shelving locations, what is on the shelf now).

use catalog::{Format, Item, ItemStatus};
use marc::{DataField, Record};
use storage::StoredRecord;
use tantivy::schema::Facet;
use tantivy::TantivyDocument;

use crate::analysis::{call_number_key, identifier_key, isbn_key, normalize, sort_form};
use crate::schema::{Fields, TITLE_STARTS_WORDS};

/// The facets the index counts, each a top-level path in the `facets` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FacetName {
    /// [`Format::as_str`] values.
    Format,
    /// Branches (holding branch codes) where an item is on the shelf now.
    Availability,
    /// Home branch codes of the items.
    Branch,
    /// Shelving location codes of the items.
    Location,
    /// MARC language codes (008/35-37).
    Language,
    /// `1990` for the 1990s.
    Decade,
    Year,
    /// Main subject headings (the part before the first ` -- `).
    Subject,
    Author,
    /// Target audience from 008/22: `Juvenile`, `Adult`, ...
    Audience,
}

impl FacetName {
    pub const ALL: [FacetName; 10] = [
        FacetName::Format,
        FacetName::Availability,
        FacetName::Branch,
        FacetName::Location,
        FacetName::Language,
        FacetName::Decade,
        FacetName::Year,
        FacetName::Subject,
        FacetName::Author,
        FacetName::Audience,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FacetName::Format => "format",
            FacetName::Availability => "availability",
            FacetName::Branch => "branch",
            FacetName::Location => "location",
            FacetName::Language => "language",
            FacetName::Decade => "decade",
            FacetName::Year => "year",
            FacetName::Subject => "subject",
            FacetName::Author => "author",
            FacetName::Audience => "audience",
        }
    }

    pub fn parse(s: &str) -> Option<FacetName> {
        FacetName::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// The facet path for a value (`/format/book`); an empty value is the whole facet (any value).
    pub fn facet(self, value: &str) -> Facet {
        if value.is_empty() {
            Facet::from_path([self.as_str()])
        } else {
            Facet::from_path([self.as_str(), value])
        }
    }
}

/// The index's view of one record, before it becomes a tantivy document. Pure data, so tests
/// can look at what a record contributes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogDocument {
    pub id: i64,
    pub title_display: String,
    pub author_display: Option<String>,
    /// 245, 246 variant titles, 130/240 uniform titles, 880s linked to them.
    pub titles: Vec<String>,
    /// Normalised exact-title forms: the full title and the title proper, each with and without
    /// the leading article (245 second indicator).
    pub exact_titles: Vec<String>,
    pub title_sort: String,
    pub authors: Vec<String>,
    pub author_sort: String,
    pub subjects: Vec<String>,
    pub series: Vec<String>,
    pub publishers: Vec<String>,
    pub notes: Vec<String>,
    pub isbns: Vec<String>,
    pub issns: Vec<String>,
    pub lccns: Vec<String>,
    pub call_numbers: Vec<String>,
    pub call_number_sort: Option<Vec<u8>>,
    pub year: Option<i32>,
    pub format: Format,
    pub facets: Vec<(FacetName, String)>,
    pub item_ids: Vec<i64>,
}

/// Builds the index's view of a record and its items. A MARC record that does not read (it
/// always should: storage wrote it) still indexes by its derived fields.
pub fn catalog_document(record: &StoredRecord, items: &[Item]) -> CatalogDocument {
    let d = &record.derived;
    let marc = marc::iso2709::read_one(&record.marc).ok();
    let mut doc = CatalogDocument {
        id: record.id,
        title_display: d.title.clone(),
        author_display: d.authors.first().cloned().or_else(|| d.responsibility.clone()),
        year: d.year,
        format: d.format,
        ..Default::default()
    };

    doc.titles.push(d.title.clone());
    let nonfiling = marc.as_ref().map(nonfiling_characters).unwrap_or(0);
    let filing_title = skip_chars(&d.title, nonfiling);
    let mut exact = vec![normalize(&d.title), normalize(filing_title)];
    if let Some(title_proper) = marc.as_ref().and_then(|m| m.data_field("245")).and_then(|f| f.subfield('a')) {
        exact.push(normalize(title_proper));
        exact.push(normalize(skip_chars(title_proper, nonfiling)));
    }
    exact.retain(|t| !t.is_empty());
    exact.sort();
    exact.dedup();
    doc.exact_titles = exact;
    doc.title_sort = sort_form(filing_title);

    doc.authors = d.authors.clone();
    if let Some(r) = &d.responsibility {
        doc.authors.push(r.clone());
    }
    // A record without an author files under its title, as a card catalog's title main entry.
    doc.author_sort = d.authors.first().map(|a| sort_form(a)).unwrap_or_else(|| doc.title_sort.clone());
    doc.subjects = d.subjects.clone();
    doc.series = d.series.clone();
    doc.publishers = d.publisher.iter().cloned().collect();
    if let Some(e) = &d.edition {
        doc.notes.push(e.clone());
    }

    // Identifiers: every form a patron may type meets the one the index keeps.
    doc.isbns = d.isbns.clone();
    doc.issns = d.issns.iter().map(|i| identifier_key(i)).collect();
    doc.lccns = d.lccn.iter().map(|l| identifier_key(l)).collect();
    for cn in d.lc_call_number.iter().chain(d.dewey_call_number.iter()) {
        doc.call_numbers.push(call_number_key(cn));
    }

    if let Some(m) = &marc {
        add_marc_fields(m, &mut doc);
    }

    // Items: their call numbers, where they belong, and where one is on the shelf now.
    let mut facets: Vec<(FacetName, String)> = Vec::new();
    for item in items {
        let it = &item.item;
        doc.item_ids.push(item.id);
        if let Some(cn) = &it.call_number {
            doc.call_numbers.push(call_number_key(cn));
        }
        facets.push((FacetName::Branch, it.home_branch.as_str().to_string()));
        if let Some(loc) = &it.location {
            facets.push((FacetName::Location, loc.as_str().to_string()));
        }
        if it.status == ItemStatus::Available {
            facets.push((FacetName::Availability, it.holding_branch.as_str().to_string()));
        }
    }
    let shelved_under = d
        .lc_call_number
        .as_deref()
        .map(|c| (c, callnumber::Scheme::Lc))
        .or_else(|| d.dewey_call_number.as_deref().map(|c| (c, callnumber::Scheme::Dewey)))
        .or_else(|| items.iter().find_map(|i| i.item.call_number.as_deref()).map(|c| (c, callnumber::Scheme::Auto)));
    doc.call_number_sort = shelved_under.map(|(c, scheme)| callnumber::CallNumber::parse(c, scheme).sort_key());

    facets.push((FacetName::Format, d.format.as_str().to_string()));
    if let Some(lang) = &d.language {
        facets.push((FacetName::Language, lang.clone()));
    }
    if let Some(year) = d.year {
        facets.push((FacetName::Decade, (year - year.rem_euclid(10)).to_string()));
        facets.push((FacetName::Year, year.to_string()));
    }
    for s in &d.subjects {
        let main = s.split(" -- ").next().unwrap_or(s).trim();
        if !main.is_empty() {
            facets.push((FacetName::Subject, main.to_string()));
        }
    }
    for a in &d.authors {
        facets.push((FacetName::Author, a.clone()));
    }
    if let Some(audience) = marc.as_ref().and_then(audience) {
        facets.push((FacetName::Audience, audience.to_string()));
    }
    facets.retain(|(_, v)| !v.is_empty());
    facets.sort_by(|a, b| (a.0.as_str(), &a.1).cmp(&(b.0.as_str(), &b.1)));
    facets.dedup();
    doc.facets = facets;
    doc.call_numbers.retain(|c| !c.is_empty());
    doc.call_numbers.dedup();
    doc
}

/// 245 second indicator: how many characters of the title a filing order skips (`The `).
fn nonfiling_characters(record: &Record) -> usize {
    record.data_field("245").and_then(|f| f.ind2.to_digit(10)).map(|n| n as usize).unwrap_or(0)
}

fn skip_chars(text: &str, n: usize) -> &str {
    match text.char_indices().nth(n) {
        Some((i, _)) if n > 0 => &text[i..],
        _ if n > 0 && text.chars().count() <= n => text,
        _ => text,
    }
}

/// What a field says, without its control subfields ($0-$9: links, linkage, sources).
fn field_text(field: &DataField) -> String {
    let mut out = String::new();
    for s in field.subfields.iter().filter(|s| !s.code.is_ascii_digit()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(s.value.trim());
    }
    out
}

enum Target {
    Title,
    Author,
    Subject,
    Series,
    Publisher,
    Notes,
}

fn target(tag: &str) -> Option<Target> {
    Some(match tag {
        "130" | "240" | "242" | "243" | "245" | "246" | "247" | "730" | "740" => Target::Title,
        "100" | "110" | "111" | "700" | "710" | "711" | "720" => Target::Author,
        "440" | "490" | "800" | "810" | "811" | "830" => Target::Series,
        "260" | "264" => Target::Publisher,
        "250" => Target::Notes,
        t if t.starts_with('6') => Target::Subject,
        t if t.starts_with('5') => Target::Notes,
        _ => return None,
    })
}

fn add_marc_fields(record: &Record, doc: &mut CatalogDocument) {
    for field in record.fields.iter().filter_map(|f| f.as_data()) {
        let tag = field.tag.as_str();
        match tag {
            // Variant and uniform titles, and the notes, come from the MARC; the rest was derived.
            "130" | "240" | "242" | "246" | "730" | "740" => doc.titles.push(field.join("abfgknpst")),
            t if t.starts_with('5') => doc.notes.push(field_text(field)),
            "020" => {
                // Cancelled and invalid ISBNs ($z) are still what is printed on some copies.
                for v in field.subfields_with('a').chain(field.subfields_with('z')) {
                    if let Some(key) = isbn_key(v) {
                        doc.isbns.push(key);
                    }
                }
            }
            "880" => {
                // Alternate-script fields (Chinese, Hebrew, Arabic, Cyrillic ...) go into the
                // field they are linked to: $6 `245-01/$1` is the 245's script form.
                let linked = field.subfield('6').and_then(|l| l.get(0..3)).unwrap_or("");
                let text = field_text(field);
                if text.is_empty() {
                    continue;
                }
                match target(linked) {
                    Some(Target::Title) => {
                        if linked == "245" {
                            doc.exact_titles.push(normalize(&field.join("abnp")));
                        }
                        doc.titles.push(text)
                    }
                    Some(Target::Author) => doc.authors.push(text),
                    Some(Target::Subject) => doc.subjects.push(text),
                    Some(Target::Series) => doc.series.push(text),
                    Some(Target::Publisher) => doc.publishers.push(field.join("b")),
                    Some(Target::Notes) => doc.notes.push(text),
                    None => {}
                }
            }
            _ => {}
        }
    }
    doc.isbns.sort();
    doc.isbns.dedup();
    doc.titles.retain(|t| !t.trim().is_empty());
    doc.exact_titles.retain(|t| !t.is_empty());
}

/// 008/22 for the kinds of material that carry a target audience there.
fn audience(record: &Record) -> Option<&'static str> {
    if !matches!(
        record.leader.record_type(),
        b'a' | b't' | b'm' | b'c' | b'd' | b'i' | b'j' | b'g' | b'k' | b'o' | b'r'
    ) {
        return None;
    }
    if record.leader.record_type() == b'a' && matches!(record.leader.bibliographic_level(), b's' | b'b' | b'i') {
        return None;
    }
    let code = record.control("008")?.as_bytes().get(22).copied()?;
    Some(match code {
        b'a' => "Preschool",
        b'b' => "Primary",
        b'c' => "Pre-adolescent",
        b'd' => "Adolescent",
        b'e' => "Adult",
        b'f' => "Specialized",
        b'g' => "General",
        b'j' => "Juvenile",
        _ => return None,
    })
}

/// The starts of a normalised title that a shorter query can be: the title cut before each of
/// its first [`TITLE_STARTS_WORDS`] spaces (`history of the world` gives `history`, `history
/// of`, `history of the`). The title itself is `title_exact`'s.
pub(crate) fn title_starts(title: &str) -> impl Iterator<Item = &str> {
    title.match_indices(' ').take(TITLE_STARTS_WORDS).map(|(at, _)| &title[..at])
}

impl CatalogDocument {
    /// The tantivy document for this record.
    pub fn to_tantivy(&self, f: &Fields) -> TantivyDocument {
        let mut doc = TantivyDocument::default();
        doc.add_u64(f.id, self.id as u64);
        for id in &self.item_ids {
            doc.add_u64(f.item_id, *id as u64);
        }
        doc.add_text(f.title_display, &self.title_display);
        if let Some(a) = &self.author_display {
            doc.add_text(f.author_display, a);
        }
        for t in &self.titles {
            doc.add_text(f.title, t);
        }
        for t in &self.exact_titles {
            doc.add_text(f.title_exact, t);
        }
        let mut starts: Vec<&str> = self.exact_titles.iter().flat_map(|t| title_starts(t)).collect();
        starts.sort_unstable();
        starts.dedup();
        for start in starts {
            doc.add_text(f.title_starts, start);
        }
        doc.add_text(f.title_sort, &self.title_sort);
        doc.add_text(f.author_sort, &self.author_sort);
        for (field, pairs, values) in [
            (f.author, f.author_pairs, &self.authors),
            (f.subject, f.subject_pairs, &self.subjects),
            (f.series, f.series_pairs, &self.series),
        ] {
            for v in values {
                doc.add_text(field, v);
                doc.add_text(pairs, v);
            }
        }
        for (field, values) in [
            (f.publisher, &self.publishers),
            (f.notes, &self.notes),
            (f.isbn, &self.isbns),
            (f.issn, &self.issns),
            (f.lccn, &self.lccns),
            (f.callnumber, &self.call_numbers),
        ] {
            for v in values {
                doc.add_text(field, v);
            }
        }
        if let Some(key) = &self.call_number_sort {
            doc.add_bytes(f.callnumber_sort, key);
        }
        if let Some(y) = self.year {
            doc.add_i64(f.year, y as i64);
        }
        doc.add_u64(f.format, format_code(self.format));
        for (name, value) in &self.facets {
            doc.add_facet(f.facets, name.facet(value));
        }
        doc
    }
}

/// A format's place in [`Format::ALL`], as the `format` fast field keeps it.
pub fn format_code(format: Format) -> u64 {
    Format::ALL.iter().position(|f| *f == format).unwrap_or(Format::ALL.len() - 1) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_chars_skips_leading_articles() {
        assert_eq!(skip_chars("The hobbit", 4), "hobbit");
        assert_eq!(skip_chars("The hobbit", 0), "The hobbit");
        assert_eq!(skip_chars("Ab", 9), "Ab");
    }

    #[test]
    fn facet_paths() {
        assert_eq!(FacetName::Subject.facet("Cats -- Fiction").to_path(), ["subject", "Cats -- Fiction"]);
        assert_eq!(FacetName::Format.facet("").to_path(), ["format"]);
        assert_eq!(FacetName::Author.facet("A/B").to_path(), ["author", "A/B"]);
    }
}
