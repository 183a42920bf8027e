//! MARC-8 to UTF-8 conversion: golden files from pymarc, ruby-marc and YAZ, small cases, the
//! generated-table check and a property test.
//!
//! Shared test data is read from `<CARGO_MANIFEST_DIR>/../../../shared/data`; tests that need it
//! pass silently (with a note on stderr) when it is absent.

use std::path::PathBuf;

use marc::marc8::{decode, Decoded};
use proptest::prelude::*;
use quick_xml::events::Event;
use quick_xml::Reader;
use unicode_normalization::{is_nfc, UnicodeNormalization};

#[path = "../examples/gen_marc8_tables.rs"]
#[allow(dead_code)]
mod gen_marc8_tables;

fn shared(path: &str) -> Option<PathBuf> {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(path);
    // The shared data is beside every checkout (and CI's); a missing file is a failure, never a skip.
    assert!(full.exists(), "test data {} not found", full.display());
    Some(full)
}

fn read(path: &PathBuf) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn nfc(s: &str) -> String {
    s.nfc().collect()
}

/// Decodes and checks the text, and that nothing was reported.
#[track_caller]
fn check(input: &[u8], expected: &str) {
    let Decoded { text, problems } = decode(input);
    assert_eq!(text, nfc(expected), "input {input:?}");
    assert!(problems.is_empty(), "input {input:?}: {problems:?}");
}

/// Decodes and checks the text and the offsets of the reported problems.
#[track_caller]
fn check_problems(input: &[u8], expected: &str, offsets: &[usize]) {
    let Decoded { text, problems } = decode(input);
    assert_eq!(text, nfc(expected), "input {input:?}");
    let got: Vec<usize> = problems.iter().map(|p| p.offset).collect();
    assert_eq!(got, offsets, "input {input:?}: {problems:?}");
}

// ---------------------------------------------------------------------------------------------
// The generated table

#[test]
fn generated_tables_match_codetables_xml() {
    let Some(xml_path) = shared("marc8/codetables.xml") else {
        return;
    };
    let xml = std::fs::read_to_string(&xml_path).unwrap_or_else(|e| panic!("{e}"));
    let generated = gen_marc8_tables::generate(&xml).unwrap_or_else(|e| panic!("{e}"));
    let committed_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/marc8/tables.rs");
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        generated == committed,
        "{} is out of date; regenerate with\n  cargo run -p marc --example gen_marc8_tables -- {} {}",
        committed_path.display(),
        xml_path.display(),
        committed_path.display()
    );
}

// ---------------------------------------------------------------------------------------------
// Golden line pairs: pymarc's test_marc8.txt/test_utf8.txt (ruby-marc has the first 1,514)

/// Runs a pair of line files the way pymarc's test does (stop at the first empty line) and
/// returns how many lines matched.
fn line_pairs(marc8: &str, utf8: &str) -> Option<usize> {
    let marc8 = read(&shared(marc8)?);
    let utf8 = read(&shared(utf8)?);
    let mut count = 0;
    let mut failures = Vec::new();
    for (n, (m, u)) in marc8.split(|&b| b == b'\n').zip(utf8.split(|&b| b == b'\n')).enumerate() {
        if m.is_empty() || u.is_empty() {
            break;
        }
        count += 1;
        let expected = nfc(std::str::from_utf8(u).unwrap_or_else(|e| panic!("line {}: {e}", n + 1)));
        let got = decode(m);
        if got.text != expected || !got.problems.is_empty() {
            failures.push(format!(
                "line {}: {:?}\n  got      {:?}\n  expected {:?}\n  problems {:?}",
                n + 1,
                m,
                got.text,
                expected,
                got.problems
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {count} lines differ:\n{}", failures.len(), failures.join("\n"));
    Some(count)
}

#[test]
fn pymarc_golden_lines() {
    if let Some(count) = line_pairs("marc/pymarc-tests/test_marc8.txt", "marc/pymarc-tests/test_utf8.txt") {
        assert_eq!(count, 1515);
    }
}

#[test]
fn ruby_marc_golden_lines() {
    if let Some(count) =
        line_pairs("marc/ruby-marc-tests/marc8/data/test_marc8.txt", "marc/ruby-marc-tests/marc8/data/test_utf8.txt")
    {
        assert_eq!(count, 1514);
    }
}

// ---------------------------------------------------------------------------------------------
// A minimal ISO 2709 walk (the real reader lives in iso2709.rs; this test does not depend on it)

/// One field: tag and either the control field value or (code, value) subfields.
struct RawField {
    tag: String,
    control: Option<Vec<u8>>,
    subfields: Vec<(u8, Vec<u8>)>,
}

fn ascii_number(bytes: &[u8]) -> usize {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| panic!("bad number {bytes:?}"))
}

/// Splits the records of an ISO 2709 file into fields and subfields. A subfield delimiter is
/// only taken as one when a graphic ASCII code follows it; otherwise (0x1F before ESC or a space
/// in the middle of MARC-8 text, as in YAZ's marc12) it is dropped and the subfield goes on, which
/// is what YAZ >= 5.35 does.
fn iso2709_records(data: &[u8]) -> Vec<Vec<RawField>> {
    let mut records = Vec::new();
    let mut rest = data;
    while rest.len() >= 24 && rest[..5].iter().all(u8::is_ascii_digit) {
        let length = ascii_number(&rest[..5]);
        let record = &rest[..length.min(rest.len())];
        rest = &rest[length.min(rest.len())..];
        let base = ascii_number(&record[12..17]);
        let indicators = ascii_number(&record[10..11]);
        let mut fields = Vec::new();
        for entry in record[24..base - 1].chunks_exact(12) {
            let tag = String::from_utf8_lossy(&entry[..3]).into_owned();
            let len = ascii_number(&entry[3..7]);
            let start = base + ascii_number(&entry[7..12]);
            let mut value = &record[start..start + len];
            if value.last() == Some(&0x1E) {
                value = &value[..value.len() - 1];
            }
            if tag.as_str() < "010" {
                fields.push(RawField { tag, control: Some(value.to_vec()), subfields: Vec::new() });
                continue;
            }
            let mut subfields: Vec<(u8, Vec<u8>)> = Vec::new();
            let mut i = indicators;
            while i < value.len() {
                let b = value[i];
                let code = value.get(i + 1).copied().filter(|c| (0x21..=0x7E).contains(c));
                match (b, code, subfields.last_mut()) {
                    (0x1F, Some(code), _) => {
                        subfields.push((code, Vec::new()));
                        i += 2;
                        continue;
                    }
                    (0x1F, None, _) => {}
                    (_, _, Some((_, data))) => data.push(b),
                    (_, _, None) => {}
                }
                i += 1;
            }
            fields.push(RawField { tag, control: None, subfields });
        }
        records.push(fields);
    }
    records
}

/// A MARCXML field: tag, control field text, (code, text) subfields.
type XmlField = (String, Option<String>, Vec<(String, String)>);

/// Fields of the first `<record>` of a MARCXML file, in the same shape (values as UTF-8 text).
fn marcxml_fields(xml: &str) -> Vec<XmlField> {
    let mut reader = Reader::from_str(xml);
    let mut fields: Vec<XmlField> = Vec::new();
    let mut text: Option<String> = None;
    loop {
        let event = reader.read_event().unwrap_or_else(|e| panic!("XML: {e}"));
        match event {
            Event::Start(e) => {
                let attr = |key: &str| {
                    e.try_get_attribute(key)
                        .ok()
                        .flatten()
                        .and_then(|a| {
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok().map(|v| v.into_owned())
                        })
                        .unwrap_or_default()
                };
                match e.local_name().as_ref() {
                    "controlfield" => {
                        fields.push((attr("tag"), Some(String::new()), Vec::new()));
                        text = Some(String::new());
                    }
                    "datafield" => fields.push((attr("tag"), None, Vec::new())),
                    "subfield" => {
                        if let Some(field) = fields.last_mut() {
                            field.2.push((attr("code"), String::new()));
                        }
                        text = Some(String::new());
                    }
                    _ => {}
                }
            }
            Event::Text(t) => {
                if let Some(text) = text.as_mut() {
                    text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(text) = text.as_mut() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => text.push(c),
                        _ => text.push_str(quick_xml::escape::resolve_predefined_entity(&r).unwrap_or("")),
                    }
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                "controlfield" | "subfield" => {
                    let done = text.take().unwrap_or_default();
                    if let Some(field) = fields.last_mut() {
                        match field.2.last_mut() {
                            Some(sub) if field.1.is_none() => sub.1 = done,
                            _ => field.1 = Some(done),
                        }
                    }
                }
                "record" => break,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    fields
}

#[test]
fn yaz_marc8_golden_records() {
    let Some(dir) = shared("marc/yaz-tests") else {
        return;
    };
    let mut files = 0;
    let mut compared = 0;
    for n in 0..100 {
        let Ok(charset) = std::fs::read_to_string(dir.join(format!("marc{n}.chr"))) else {
            continue;
        };
        if charset.trim() != "marc-8" {
            continue;
        }
        files += 1;
        let records = iso2709_records(&read(&dir.join(format!("marc{n}.marc"))));
        let xml = String::from_utf8(read(&dir.join(format!("marc{n}.xml")))).unwrap_or_else(|e| panic!("{e}"));
        let expected = marcxml_fields(&xml);
        let got = &records[0];
        assert_eq!(got.len(), expected.len(), "marc{n}: field count");
        for (field, (tag, control, subfields)) in got.iter().zip(&expected) {
            assert_eq!(&field.tag, tag, "marc{n}");
            if let Some(value) = &field.control {
                let decoded = decode(value);
                assert_eq!(Some(&decoded.text), control.as_ref().map(|c| nfc(c)).as_ref(), "marc{n} {tag}");
                compared += 1;
                continue;
            }
            assert_eq!(field.subfields.len(), subfields.len(), "marc{n} {tag}: subfield count");
            for ((code, value), (expected_code, expected_value)) in field.subfields.iter().zip(subfields) {
                assert_eq!(char::from(*code).to_string(), *expected_code, "marc{n} {tag}");
                let decoded = decode(value);
                assert_eq!(
                    decoded.text,
                    nfc(expected_value),
                    "marc{n} {tag} ${expected_code}: {value:?} {:?}",
                    decoded.problems
                );
                compared += 1;
            }
        }
    }
    assert_eq!(files, 5, "marc6, marc7, marc8, marc9 and marc12 are MARC-8");
    eprintln!("yaz: {files} files, {compared} values");
}

/// Every subfield of a file decoded, with its tag and code.
fn decode_file(path: &str) -> Option<Vec<(String, u8, Decoded)>> {
    let data = read(&shared(path)?);
    let mut out = Vec::new();
    for record in iso2709_records(&data) {
        for field in record {
            if let Some(value) = &field.control {
                out.push((field.tag.clone(), b' ', decode(value)));
            }
            for (code, value) in &field.subfields {
                out.push((field.tag.clone(), *code, decode(value)));
            }
        }
    }
    Some(out)
}

fn subfield<'a>(values: &'a [(String, u8, Decoded)], tag: &str, code: u8) -> &'a Decoded {
    values
        .iter()
        .find(|(t, c, _)| t == tag && *c == code)
        .map(|(_, _, d)| d)
        .unwrap_or_else(|| panic!("no {tag} ${}", char::from(code)))
}

#[test]
fn real_marc8_files_decode_without_problems() {
    for path in [
        "marc/marc-perl-tests/marc-charset-cjk1.marc",
        "marc/marc-perl-tests/marc-charset-cjk2.marc",
        "marc/marc-perl-tests/marc-charset-cjk3.marc",
        "marc/marc-perl-tests/marc-charset-cjk4.marc",
        "marc/marc-perl-tests/marc-charset-cyrillic.marc",
        "marc/marc-perl-tests/marc-charset-hebrew1.marc",
        "marc/marc-perl-tests/marc-charset-hebrew2.marc",
        "marc/marc-perl-tests/marc-charset-hebrew3.marc",
        "marc/marc-perl-tests/marc-charset-hebrew4.marc",
        "marc/marc-perl-tests/marc-record-camel.usmarc",
        "marc/pymarc-tests/marc.dat",
        "marc/pymarc-tests/marc8.dat",
    ] {
        let Some(values) = decode_file(path) else {
            continue;
        };
        assert!(!values.is_empty(), "{path}");
        for (tag, code, decoded) in &values {
            assert!(decoded.problems.is_empty(), "{path} {tag} ${}: {:?}", char::from(*code), decoded.problems);
            assert!(!decoded.text.contains('\u{FFFD}'), "{path} {tag}");
        }
    }
}

#[test]
fn pymarc_marc8_record() {
    let Some(values) = decode_file("marc/pymarc-tests/marc8.dat") else {
        return;
    };
    assert_eq!(subfield(&values, "240", b'a').text, "De la solitude \u{e0} la communaut\u{e9}.");
}

#[test]
fn ruby_marc_escaped_character_reference() {
    let Some(values) = decode_file("marc/ruby-marc-tests/escaped_character_reference.marc8.marc") else {
        return;
    };
    let d = subfield(&values, "260", b'a');
    assert_eq!(d.text, "Rio de Janeiro escaped replacement char: \u{FFFD} .");
    assert!(d.problems.is_empty());
}

#[test]
fn bad_marc8_escapes_are_reported() {
    let Some(values) = decode_file("marc/pymarc-tests/bad_marc8_escape.dat") else {
        return;
    };
    // pymarc keeps the stray ESC ("La Soci\xe9t\x1b,"); we replace it.
    let publisher = subfield(&values, "260", b'b');
    assert_eq!(publisher.text, "La Soci\u{e9}t\u{FFFD},");
    assert_eq!(publisher.problems.len(), 1);
    assert!(publisher.problems[0].message.contains("ESC ,"), "{:?}", publisher.problems);
    let title = subfield(&values, "245", b'a');
    assert_eq!(title.text, "Bulletin de la Soci\u{e9}t\u{e9} linn\u{FFFD}enne de Bordeaux.");
    let earlier = subfield(&values, "222", b'a');
    assert!(earlier.text.starts_with("Bulletin de la Soci\u{FFFD}t\u{e9} linn\u{FFFD}enne"), "{}", earlier.text);
    let total: usize = values.iter().map(|(_, _, d)| d.problems.len()).sum();
    assert_eq!(total, 16);
}

#[test]
fn bad_eacc_encoding_is_reported() {
    let Some(values) = decode_file("marc/pymarc-tests/bad_eacc_encoding.dat") else {
        return;
    };
    let title = subfield(&values, "880", b'a');
    assert_eq!(title.problems.len(), 3, "{:?}", title.problems);
    assert!(title.text.ends_with("\u{FFFD}\u{FFFD}\u{FFFD}"), "{}", title.text);
    assert!(title.problems[0].message.contains("0x7B 0x36 0x39"), "{:?}", title.problems);
    assert!(title.problems[2].message.contains("incomplete"), "{:?}", title.problems);
}

// ---------------------------------------------------------------------------------------------
// Small cases

#[test]
fn ascii() {
    check(b"", "");
    check(b"Plain text, 100% & more.", "Plain text, 100% & more.");
}

#[test]
fn ansel_spacing_characters() {
    check(b"\xa1\xa2\xa3\xa4\xa5\xa6", "\u{141}\u{d8}\u{110}\u{de}\u{c6}\u{152}");
    check(b"\xb9 \xc3 \xc7", "\u{a3} \u{a9} \u{df}");
    check(b"\x88The\x89 end", "\u{98}The\u{9c} end");
}

#[test]
fn combining_marks_follow_their_base() {
    check(b"caf\xe2e", "caf\u{e9}");
    check(b"Conversa\xf0c\xe4ao", "Conversa\u{e7}\u{e3}o");
    // Two marks on one letter keep their order (NFC sorts them by class).
    check(b"\xe3\xe2a", "a\u{302}\u{301}");
    check(b"\xf2\xe4a", "a\u{323}\u{303}");
    // A mark on a space stays a combining mark on the space.
    check(b"\xe2 x", " \u{301}x");
    // Marks carry over an escape sequence to the next base character.
    check(b"\xe2\x1b(Na", "\u{410}\u{301}");
}

#[test]
fn double_diacritics_use_the_first_half_only() {
    // Ligature and double tilde: the first half is U+0361/U+0360 after the first letter, the
    // second half has no Unicode counterpart (YAZ; pymarc's FE20-FE23 halves are the `alt`).
    check(b"\xebts\xeca", "t\u{361}sa");
    check(b"\xfang\xfbx", "n\u{360}gx");
}

#[test]
fn trailing_combining_mark_is_dropped() {
    let d = decode(b"abc\xe2");
    assert_eq!(d.text, "abc");
    assert_eq!(d.problems.len(), 1);
    assert_eq!(d.problems[0].offset, 3);
    assert!(d.problems[0].message.contains("U+0301"));
}

#[test]
fn greek_symbols_subscripts_superscripts() {
    // Technique 1: ESC g / ESC b / ESC p switch G0, ESC s switches back to ASCII.
    check(b"\x1bgabc\x1bs x", "\u{3b1}\u{3b2}\u{3b3} x");
    check(b"H\x1bb2\x1bsO", "H\u{2082}O");
    check(b"x\x1bp2\x1bs", "x\u{b2}");
    check(b"\x1bp(+)\x1bs", "\u{207d}\u{207a}\u{207e}");
}

#[test]
fn basic_greek() {
    check(b"\x1b(Sabd\x1b(B", "\u{3b1}\u{3b2}\u{3b3}");
}

#[test]
fn cyrillic_in_g0_and_g1() {
    check(b"\x1b(NRUSSKIJ\x1b(B", "\u{440}\u{443}\u{441}\u{441}\u{43a}\u{438}\u{439}");
    check(b"\x1b(Nmir\x1b(B", "\u{41c}\u{418}\u{420}");
    // Basic Cyrillic designated as G1: the same letters from 0xA1-0xFE, ASCII stays in G0.
    check(b"\x1b)Nx \xed\xe9\xf2", "x \u{41c}\u{418}\u{420}");
    // Extended Cyrillic.
    check(b"\x1b(Q@", "\u{491}");
}

#[test]
fn hebrew_with_points() {
    check(b"\x1b(2`\x1b(B", "\u{5d0}");
    // A point (combining) before its letter.
    check(b"\x1b(2A`\x1b(B", "\u{5d0}\u{5b8}");
}

#[test]
fn arabic() {
    check(b"\x1b(3GdedcjI\x1b(B", "\u{627}\u{644}\u{645}\u{644}\u{643}\u{64a}\u{629}");
    // Extended Arabic designated as G1.
    check(b"\x1b)4\xa9", "\u{67e}");
}

#[test]
fn eacc() {
    check(b"\x1b$1!0!\x1b(B", "\u{4e00}");
    check(b"\x1b$1!0!!0!\x1b(B x", "\u{4e00}\u{4e00} x");
    // A space inside EACC text is a space (YAZ).
    check(b"\x1b$1!0! !0!\x1b(B", "\u{4e00} \u{4e00}");
    // Other forms of the designation.
    check(b"\x1b$,1!0!\x1b(B", "\u{4e00}");
    check(b"\x1b$(1!0!\x1b(B", "\u{4e00}");
    // EACC designated as G1: the same bytes with the high bit set.
    check(b"\x1b$)1\xa1\xb0\xa1", "\u{4e00}");
    // Non-BMP: CJK Extension B.
    check(b"\x1b$1!uY\x1b(B", "\u{212c4}");
    // Innovative Interfaces codes accepted by pymarc.
    check(b"\x1b$1\x7f\x20\x14\x1b(B", "\u{2014}");
}

#[test]
fn ansel_designated_as_g0() {
    check(b"\x1b(!E!\x1b(Bb", "\u{141}b");
    check(b"\x1b(E!", "\u{141}");
}

#[test]
fn state_resets_at_each_call() {
    check(b"\x1b(N", "");
    check(b"mir", "mir");
}

#[test]
fn character_references() {
    check(b"x &#x00E9; y", "x \u{e9} y");
    check(b"&#x1F600;&#x200F;", "\u{1f600}\u{200f}");
    check(b"&#x0301;", "\u{301}");
    // Not references: left alone.
    check(b"&#200F; &#x12; &#x1234567; #x2000;", "&#200F; &#x12; &#x1234567; #x2000;");
    check_problems(b"&#xD800;", "&#xD800;", &[0]);
}

#[test]
fn bad_escape_sequences() {
    check_problems(b"Soci\x1bt\xe2e", "Soci\u{FFFD}t\u{e9}", &[4]);
    check_problems(b"La Soci\xe2et\x1b,", "La Soci\u{e9}t\u{FFFD},", &[10]);
    check_problems(b"end\x1b", "end\u{FFFD}", &[3]);
    check_problems(b"end\x1b$", "end\u{FFFD}$", &[3]);
    // An unknown set: the whole sequence is replaced, the sets stay as they were.
    check_problems(b"a\x1b(Zb", "a\u{FFFD}b", &[1]);
}

#[test]
fn bad_bytes() {
    // Controls and undefined codes are dropped (YAZ) and reported.
    check_problems(b"a\x0cb", "ab", &[1]);
    check_problems(b"a\x1fb", "ab", &[1]);
    check_problems(b"a\xafb", "ab", &[1]);
    check_problems(b"a\x7fb", "ab", &[1]);
    // Undefined or truncated EACC characters become U+FFFD.
    check_problems(b"\x1b$1{69", "\u{FFFD}", &[3]);
    check_problems(b"\x1b$1!0", "\u{FFFD}", &[3]);
    check_problems(b"\x1b$1!0\x1b(Bx", "\u{FFFD}x", &[3]);
    // A space ends a broken EACC character and stays a space.
    check_problems(b"\x1b$1!0 !0!", "\u{FFFD} \u{4e00}", &[3]);
}

#[test]
fn problems_name_the_bytes() {
    let d = decode(b"a\xafb");
    assert_eq!(d.problems[0].message, "byte 0xAF is not defined in Extended Latin (ANSEL); dropped");
    assert_eq!(
        d.problems[0].to_string(),
        "MARC-8 byte offset 1: byte 0xAF is not defined in Extended Latin (ANSEL); dropped"
    );
    let d = decode(b"x\x1bt");
    assert_eq!(d.problems[0].message, "unknown escape sequence ESC t; ESC replaced by U+FFFD");
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_and_give_nfc(input in proptest::collection::vec(any::<u8>(), 0..200)) {
        let d = decode(&input);
        prop_assert!(is_nfc(&d.text));
        prop_assert!(d.problems.iter().all(|p| p.offset <= input.len()));
    }

    #[test]
    fn marc8_like_bytes_never_panic_and_give_nfc(
        parts in proptest::collection::vec(
            prop_oneof![
                Just(b"\x1b(N".to_vec()), Just(b"\x1b$1".to_vec()), Just(b"\x1b(B".to_vec()),
                Just(b"\x1bg".to_vec()), Just(b"\x1b)2".to_vec()), Just(b"&#x00E9;".to_vec()),
                proptest::collection::vec(0x20u8..0x7f, 1..6),
                proptest::collection::vec(0xa1u8..0xff, 1..4),
            ],
            0..20,
        )
    ) {
        let input = parts.concat();
        let d = decode(&input);
        prop_assert!(is_nfc(&d.text));
    }
}
