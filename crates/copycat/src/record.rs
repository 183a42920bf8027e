//! A target's record read into a `marc::Record`, summarised for the candidate list, and shown in
//! MARC mnemonic form for the preview.

use crate::RawRecord;

/// Reads a record as the target sent it. ISO 2709 is read in the target's `encoding` (with
/// `auto`, leader/09 decides between MARC-8 and UTF-8, as `shelfmark import` does); MARCXML is
/// Unicode. Returns the record and the reader's warnings, or why it cannot be read.
pub fn decode(raw: &RawRecord, encoding: marc::Encoding) -> Result<(marc::Record, Vec<String>), String> {
    match raw {
        RawRecord::Iso2709(bytes) => marc::iso2709::parse_record(bytes, &marc::ReadOptions { encoding })
            .map(|(record, problems)| (record, problems.iter().map(ToString::to_string).collect()))
            .map_err(|p| format!("not a readable ISO 2709 record: {p}")),
        RawRecord::MarcXml(text) => {
            let mut reader = marc::XmlReader::new(text.as_bytes());
            match reader.next() {
                Some(Ok(read)) => Ok((read.record, read.warnings.iter().map(ToString::to_string).collect())),
                Some(Err(e)) => Err(format!("not a readable MARCXML record: {}", e.problem)),
                None => Err("no MARCXML record in the record data".to_string()),
            }
        }
        RawRecord::Diagnostic(reason) => Err(reason.clone()),
    }
}

/// What staff read to choose among candidates (from `catalog::derive`, as the catalog shows
/// its own records).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub title: String,
    pub responsibility: Option<String>,
    pub authors: Vec<String>,
    pub publisher: Option<String>,
    pub year: Option<i32>,
    /// ISBN-13s.
    pub isbns: Vec<String>,
    pub lccn: Option<String>,
    pub control_number: Option<String>,
    /// The format's label (`Book`, `DVD`...).
    pub format: &'static str,
}

impl Summary {
    pub fn of(record: &marc::Record) -> Summary {
        let d = catalog::derive(record);
        Summary {
            title: d.title,
            responsibility: d.responsibility,
            authors: d.authors,
            publisher: d.publisher,
            year: d.year,
            isbns: d.isbns,
            lccn: d.lccn,
            control_number: d.control_number,
            format: d.format.label(),
        }
    }
}

/// The record in MARC mnemonic (MarcEdit `.mrk`) form, one line a field, as catalogers read it:
/// `=LDR  00000nam a2200000 a 4500`, `=001  12345`, `=245  10$aTitle /$cAuthor.`. Blanks in
/// indicators and control fields are `\`, and a `$` in the data is `{dollar}`, so that the text
/// reads back unambiguously.
pub fn preview(record: &marc::Record) -> String {
    let mut out = String::with_capacity(1024);
    out.push_str("=LDR  ");
    out.push_str(&record.leader.as_str().replace(' ', "\\"));
    out.push('\n');
    for field in &record.fields {
        out.push('=');
        out.push_str(field.tag().as_str());
        out.push_str("  ");
        match field {
            marc::Field::Control(c) => out.push_str(&c.value.replace(' ', "\\")),
            marc::Field::Data(d) => {
                for ind in [d.ind1, d.ind2] {
                    out.push(if ind == ' ' { '\\' } else { ind });
                }
                for s in &d.subfields {
                    out.push('$');
                    out.push(s.code);
                    out.push_str(&s.value.as_str().replace('$', "{dollar}"));
                }
            }
        }
        out.push('\n');
    }
    out
}
