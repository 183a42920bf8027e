//! Test helpers: records typed as text, and the Koha sample catalogue read from MARCXML.
//!
//! The text form is `yaz-marcdump -o line` style, one field per line:
//! `LDR 00000nam a2200000 i 4500` (optional; a new bibliographic leader otherwise),
//! `001 12345` for control fields, and `245 10 $a Title : $b sub / $c me.` for data fields,
//! where `_` or `#` is a blank indicator and a subfield starts with `$` and its code followed by
//! a space (so `$25.00` inside a value is just text).

use marc::{DataField, Leader, Record, Subfield, Tag};
use quick_xml::events::Event;
use quick_xml::Reader;
use std::path::PathBuf;

pub(crate) fn record(text: &str) -> Record {
    let mut record = Record::new(Leader::new_bibliographic());
    for line in text.lines().map(str::trim_start).filter(|l| !l.trim().is_empty()) {
        let (tag, rest) = line.split_at(3);
        let rest = rest.strip_prefix(' ').unwrap_or(rest);
        if tag == "LDR" || tag == "000" {
            let bytes: [u8; 24] = rest.as_bytes().try_into().expect("a leader is 24 bytes");
            record.leader = Leader::from_bytes(bytes);
            continue;
        }
        let tag = Tag::parse(tag).expect("tag");
        if tag.is_control() {
            record.push_control(tag, rest);
            continue;
        }
        let ind = |c: char| if c == '_' || c == '#' { ' ' } else { c };
        let mut chars = rest.chars();
        let (ind1, ind2) = (ind(chars.next().expect("ind1")), ind(chars.next().expect("ind2")));
        let mut field = DataField::new(tag, ind1, ind2);
        field.subfields = subfields(chars.as_str());
        record.push_data(field);
    }
    record
}

/// Splits ` $a one $b two` at every `$` that follows a space and precedes a code and a space.
fn subfields(s: &str) -> Vec<Subfield> {
    let chars: Vec<char> = s.chars().collect();
    let starts: Vec<usize> = (0..chars.len())
        .filter(|&i| {
            chars[i] == '$'
                && (i == 0 || chars[i - 1] == ' ')
                && chars.get(i + 1).is_some_and(|c| c.is_ascii_alphanumeric())
                && chars.get(i + 2).is_none_or(|c| *c == ' ')
        })
        .collect();
    starts
        .iter()
        .enumerate()
        .map(|(n, &start)| {
            let end = starts.get(n + 1).copied().unwrap_or(chars.len());
            let value: String = chars[(start + 2).min(end)..end].iter().collect();
            Subfield::new(chars[start + 1], value.trim())
        })
        .collect()
}

/// Where the shared test data lives: `$SHELFMARK_SHARED/data` (as `scripts/test` sets it), else
/// `shared/data` next to the workspace.
pub(crate) fn data_path(relative: &str) -> PathBuf {
    let shared = std::env::var_os("SHELFMARK_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    shared.join("data").join(relative)
}

pub(crate) fn read_data(relative: &str) -> String {
    let path = data_path(relative);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("test data {} (set SHELFMARK_SHARED): {e}", path.display()))
}

/// The 435 records of Koha's sample catalogue with their 952 items.
pub(crate) fn koha_sample() -> Vec<Record> {
    marcxml(&read_data("marc/koha-sample/koha-sample-with-items.marcxml"))
}

/// A small MARCXML reader, enough for well-formed test files.
pub(crate) fn marcxml(xml: &str) -> Vec<Record> {
    enum In {
        Nothing,
        Leader,
        Control(Tag),
        Subfield(char),
    }
    let mut reader = Reader::from_str(xml);
    let mut records = Vec::new();
    let mut record: Option<Record> = None;
    let mut field: Option<DataField> = None;
    let mut text = String::new();
    let mut inside = In::Nothing;
    loop {
        let event = reader.read_event().expect("well-formed MARCXML");
        match event {
            Event::Start(e) => {
                let attr = |name: &str| -> String {
                    e.try_get_attribute(name)
                        .expect("attribute")
                        .map(|a| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).expect("value").into_owned())
                        .unwrap_or_default()
                };
                text.clear();
                match e.local_name().as_ref() {
                    "record" => record = Some(Record::new(Leader::new_bibliographic())),
                    "leader" => inside = In::Leader,
                    "controlfield" => inside = In::Control(Tag::parse(&attr("tag")).expect("tag")),
                    "datafield" => {
                        let ind = |s: String| s.chars().next().unwrap_or(' ');
                        field = Some(DataField::new(
                            Tag::parse(&attr("tag")).expect("tag"),
                            ind(attr("ind1")),
                            ind(attr("ind2")),
                        ));
                    }
                    "subfield" => inside = In::Subfield(attr("code").chars().next().unwrap_or(' ')),
                    _ => {}
                }
            }
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => match r.resolve_char_ref().expect("char ref") {
                Some(c) => text.push(c),
                None => text.push_str(match &*r {
                    "lt" => "<",
                    "gt" => ">",
                    "amp" => "&",
                    "quot" => "\"",
                    "apos" => "'",
                    other => panic!("unknown entity {other}"),
                }),
            },
            Event::End(e) => {
                match (e.local_name().as_ref(), &inside) {
                    ("leader", _) => {
                        let mut bytes = [b' '; 24];
                        for (b, t) in bytes.iter_mut().zip(text.bytes()) {
                            *b = t;
                        }
                        if let Some(r) = record.as_mut() {
                            r.leader = Leader::from_bytes(bytes);
                        }
                    }
                    ("controlfield", In::Control(tag)) => {
                        if let Some(r) = record.as_mut() {
                            r.push_control(*tag, text.clone());
                        }
                    }
                    ("subfield", In::Subfield(code)) => {
                        if let Some(f) = field.as_mut() {
                            f.subfields.push(Subfield::new(*code, text.clone()));
                        }
                    }
                    ("datafield", _) => {
                        if let (Some(r), Some(f)) = (record.as_mut(), field.take()) {
                            r.push_data(f);
                        }
                    }
                    ("record", _) => records.extend(record.take()),
                    _ => {}
                }
                inside = In::Nothing;
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    records
}

#[test]
fn line_format() {
    let r = record("LDR 00000njm a2200000 i 4500\n001 12345\n020 __ $a 0306406152 : $c $25.00\n245 10 $a T $bx");
    assert_eq!(r.leader.record_type(), b'j');
    assert_eq!(r.control("001"), Some("12345"));
    let f = r.data_field("020").expect("020");
    assert_eq!((f.ind1, f.ind2), (' ', ' '));
    assert_eq!(f.subfield('c'), Some("$25.00"));
    assert_eq!(r.data_field("245").expect("245").subfields, vec![Subfield::new('a', "T $bx")]);
}
