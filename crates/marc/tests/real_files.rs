//! The readers and writers against the real MARC files in `shared/data/marc` (see its
//! README.md): every ISO 2709 and MARCXML file the README lists is read and its outcome
//! (records read, records rejected and which) asserted; YAZ's golden ISO 2709 ↔ MARCXML pairs
//! must read the same; the LC sample must read cleanly and write back; every record must
//! survive ISO 2709 and MARCXML round trips; and no input, however mangled, may panic a reader.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use marc::{
    parse_record, to_iso2709, to_marcxml, Field, Iso2709Reader, Problem, ReadOptions, ReadRecord, Record, RecordError,
    XmlReader,
};
use proptest::prelude::*;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/marc")
}

fn read_bytes(rel: &str) -> Vec<u8> {
    let path = data_dir().join(rel);
    fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn is_xml(rel: &str) -> bool {
    rel.ends_with(".xml") || rel.ends_with(".marcxml")
}

/// Every item the right reader yields for a file.
fn read_all(rel: &str) -> Vec<Result<ReadRecord, RecordError>> {
    let bytes = read_bytes(rel);
    if is_xml(rel) {
        XmlReader::new(&bytes[..]).collect()
    } else {
        Iso2709Reader::new(&bytes[..]).collect()
    }
}

fn records(rel: &str) -> Vec<Record> {
    read_all(rel).into_iter().filter_map(Result::ok).map(|r| r.record).collect()
}

/// A record as text, one field per line, for readable assertion failures.
fn dump(r: &Record) -> String {
    let mut out = format!("LDR {}\n", r.leader);
    for f in &r.fields {
        match f {
            Field::Control(c) => out.push_str(&format!("{} {:?}\n", c.tag, c.value)),
            Field::Data(d) => {
                out.push_str(&format!("{} {:?}{:?}", d.tag, d.ind1, d.ind2));
                for s in &d.subfields {
                    out.push_str(&format!(" ${}{:?}", s.code, s.value));
                }
                out.push('\n');
            }
        }
    }
    out
}

/// [`dump`] without the leader positions writers recompute (record length, base address).
fn dump_content(r: &Record) -> String {
    let mut r = r.clone();
    for p in (0..5).chain(12..17) {
        r.leader.set(p, b'0');
    }
    dump(&r)
}

// ---------------------------------------------------------------------------------------------
// Every listed file.

/// What reading a file gives: records read, and the numbers of the records rejected.
struct Expect {
    path: &'static str,
    /// The "records" column of the README.
    readme: usize,
    ok: usize,
    bad: &'static [usize],
    /// Why our count of items (ok + bad) differs from the README's, when it does.
    differs: Option<&'static str>,
}

const fn same(path: &'static str, readme: usize, ok: usize, bad: &'static [usize]) -> Expect {
    Expect { path, readme, ok, bad, differs: None }
}

const fn differs(path: &'static str, readme: usize, ok: usize, bad: &'static [usize], why: &'static str) -> Expect {
    Expect { path, readme, ok, bad, differs: Some(why) }
}

const FILES: &[Expect] = &[
    same("koha-sample/koha-sample-with-items.marcxml", 435, 435, &[]),
    same("koha-sample/koha-sample-with-items.mrc", 435, 435, &[]),
    same("lc-marcxml-samples/collection-clasmrc.xml", 20, 20, &[]),
    same("lc-marcxml-samples/collection-namemrc.xml", 20, 20, &[]),
    same("lc-marcxml-samples/collection-opera-43.xml", 43, 43, &[]),
    same("lc-marcxml-samples/collection-sandburg-1.xml", 1, 1, &[]),
    same("lc-marcxml-samples/collection-subjmrc.xml", 20, 20, &[]),
    // Ends with 0x1D 0x1D 0x00: padding, skipped.
    same("lc-marcxml-samples/zebra-sample-marc.mrc", 24, 24, &[]),
    same("marc-perl-tests/marc-charset-cjk1.marc", 1, 1, &[]),
    same("marc-perl-tests/marc-charset-cjk2.marc", 1, 1, &[]),
    same("marc-perl-tests/marc-charset-cjk3.marc", 1, 1, &[]),
    same("marc-perl-tests/marc-charset-cjk4.marc", 1, 1, &[]),
    same("marc-perl-tests/marc-charset-cyrillic.marc", 1, 1, &[]),
    // Not a record at all (MARC-8 text lines): no leader, no terminator.
    same("marc-perl-tests/marc-charset-farsi.marc", 1, 0, &[1]),
    same("marc-perl-tests/marc-charset-hebrew1.marc", 1, 1, &[]),
    same("marc-perl-tests/marc-charset-hebrew2.marc", 1, 1, &[]),
    same("marc-perl-tests/marc-charset-hebrew3.marc", 1, 1, &[]),
    same("marc-perl-tests/marc-charset-hebrew4.marc", 1, 1, &[]),
    same("marc-perl-tests/marc-lint-camel.usmarc", 11, 11, &[]),
    same("marc-perl-tests/marc-marcmaker-camel.usmarc", 10, 10, &[]),
    same("marc-perl-tests/marc-mij-camel.usmarc", 10, 10, &[]),
    same("marc-perl-tests/marc-mij-test.mrc", 9, 9, &[]),
    // Directory ends with 0x1F: read by the base address, with a warning.
    same("marc-perl-tests/marc-record-baddir.usmarc", 1, 1, &[]),
    same("marc-perl-tests/marc-record-badind.usmarc", 1, 1, &[]),
    // A stray 0x1D between records 2 and 3 (padding, skipped) and a lone "7" after the last
    // record (rejected as trailing garbage): 6 read, like MARC::Record's own test.
    same("marc-perl-tests/marc-record-badldr.usmarc", 7, 6, &[7]),
    same("marc-perl-tests/marc-record-camel.usmarc", 10, 10, &[]),
    // Records 2, 5 and 8 start with 0x1A (DOS end-of-file): padding, skipped.
    same("marc-perl-tests/marc-record-cameleof.usmarc", 10, 10, &[]),
    // NUL, blank and newline padding before records 1 and 2.
    same("marc-perl-tests/marc-record-filler.usmarc", 3, 3, &[]),
    same("marc-perl-tests/marc-record-sample1.usmarc", 1, 1, &[]),
    differs(
        "marc-perl-tests/marc-record-sample1eof.usmarc",
        2,
        1,
        &[],
        "the README's second record is one 0x1A byte after the first: padding, skipped",
    ),
    same("marc-perl-tests/marc-record-title_proper.usmarc", 5, 5, &[]),
    same("marc-perl-tests/marc-xml-batch-ns.xml", 10, 10, &[]),
    same("marc-perl-tests/marc-xml-batch.xml", 10, 10, &[]),
    // `<record>` elements with no fields are rejected.
    same("marc-perl-tests/marc-xml-empty-record-2.xml", 1, 0, &[1]),
    same("marc-perl-tests/marc-xml-empty-record.xml", 1, 0, &[1]),
    same("marc-perl-tests/marc-xml-end-of-stream.xml", 1, 1, &[]),
    same("marc-perl-tests/marc-xml-escape.mrc", 1, 1, &[]),
    differs(
        "marc-perl-tests/marc-xml-invalid.xml",
        0,
        0,
        &[1],
        "a <datafield> outside any <record> is reported as a rejected item",
    ),
    same("marc-perl-tests/marc-xml-namespace.xml", 1, 1, &[]),
    same("marc-perl-tests/marc-xml-record.dat", 1, 1, &[]),
    same("marc-perl-tests/marc-xml-subfield0.xml", 1, 1, &[]),
    same("pymarc-tests/1251.dat", 6, 6, &[]),
    same("pymarc-tests/alphatag.dat", 1, 1, &[]),
    same("pymarc-tests/bad_eacc_encoding.dat", 1, 1, &[]),
    // The 020's directory tag is "0 2": that field is dropped with a warning; 821 trailing
    // blanks are padding.
    same("pymarc-tests/bad_indicator.dat", 1, 1, &[]),
    same("pymarc-tests/bad_marc8_escape.dat", 1, 1, &[]),
    // 1 good; 2, 3, 6 bad base address and 4, 5 bad directory length/entry: repaired with
    // warnings; 7 has no fields; 8 good; 9 truncated at end of file.
    same("pymarc-tests/bad_records.mrc", 9, 7, &[7, 9]),
    same("pymarc-tests/bad_subfield_code.dat", 1, 1, &[]),
    differs(
        "pymarc-tests/bad_tag.xml",
        0,
        1,
        &[],
        "pymarc gives up on the 17-character leader; it is padded (and tag 42 read as 042) with warnings",
    ),
    same("pymarc-tests/batch.xml", 2, 2, &[]),
    same("pymarc-tests/diacritic.dat", 1, 1, &[]),
    same("pymarc-tests/marc.dat", 20, 20, &[]),
    same("pymarc-tests/marc8-to-unicode.dat", 1, 1, &[]),
    same("pymarc-tests/marc8.dat", 1, 1, &[]),
    same("pymarc-tests/multi_isbn.dat", 1, 1, &[]),
    same("pymarc-tests/one.dat", 1, 1, &[]),
    same("pymarc-tests/regression45.dat", 12, 12, &[]),
    same("pymarc-tests/test.dat", 10, 10, &[]),
    same("pymarc-tests/testunimarc.dat", 1, 1, &[]),
    same("pymarc-tests/utf8.xml", 1, 1, &[]),
    same("pymarc-tests/utf8_errors.dat", 1, 1, &[]),
    same("pymarc-tests/utf8_invalid.mrc", 1, 1, &[]),
    same("pymarc-tests/utf8_with_leader_flag.dat", 1, 1, &[]),
    same("pymarc-tests/utf8_without_leader_flag.dat", 1, 1, &[]),
    same("ruby-marc-tests/bad_eacc_encoding.marc8.marc", 1, 1, &[]),
    same("ruby-marc-tests/batch.dat", 10, 10, &[]),
    same("ruby-marc-tests/batch.xml", 2, 2, &[]),
    // cp866 UNIMARC with wrong leader lengths: read (as MARC-8, with many warnings).
    same("ruby-marc-tests/cp866_multirecord.marc", 2, 2, &[]),
    same("ruby-marc-tests/cp866_unimarc.marc", 1, 1, &[]),
    same("ruby-marc-tests/escaped_character_reference.marc8.marc", 1, 1, &[]),
    same("ruby-marc-tests/marc8_accented_chars.marc", 1, 1, &[]),
    same("ruby-marc-tests/marc_with_bad_utf8.utf8.marc", 1, 1, &[]),
    same("ruby-marc-tests/messed_up_leader.xml", 1, 1, &[]),
    same("ruby-marc-tests/no-leading-zero.xml", 1, 1, &[]),
    same("ruby-marc-tests/non-numeric.dat", 1, 1, &[]),
    same("ruby-marc-tests/non-numeric.xml", 1, 1, &[]),
    same("ruby-marc-tests/one.dat", 1, 1, &[]),
    same("ruby-marc-tests/one.xml", 1, 1, &[]),
    same("ruby-marc-tests/random_tag_order.dat", 1, 1, &[]),
    same("ruby-marc-tests/random_tag_order2.dat", 1, 1, &[]),
    differs(
        "ruby-marc-tests/three-records-second-bad.xml",
        0,
        2,
        &[2],
        "pymarc gives up on the whole file; we reject record 2 (raw 0x07) and read 1 and 3",
    ),
    same("ruby-marc-tests/utf8.marc", 1, 1, &[]),
    same("ruby-marc-tests/utf8_multirecord.marc", 2, 2, &[]),
    same("ruby-marc-tests/utf8_with_bad_bytes.marc", 1, 1, &[]),
    same("yaz-tests/marc0.marc", 1, 1, &[]),
    same("yaz-tests/marc0.xml", 1, 1, &[]),
    same("yaz-tests/marc1.marc", 1, 1, &[]),
    same("yaz-tests/marc1.xml", 1, 1, &[]),
    same("yaz-tests/marc10.marc", 1, 1, &[]),
    same("yaz-tests/marc10.xml", 1, 1, &[]),
    same("yaz-tests/marc11.marc", 1, 1, &[]),
    same("yaz-tests/marc11.xml", 1, 1, &[]),
    same("yaz-tests/marc12.marc", 1, 1, &[]),
    same("yaz-tests/marc12.xml", 1, 1, &[]),
    same("yaz-tests/marc2.marc", 1, 1, &[]),
    same("yaz-tests/marc2.xml", 1, 1, &[]),
    same("yaz-tests/marc3.marc", 1, 1, &[]),
    same("yaz-tests/marc3.xml", 1, 1, &[]),
    // The leader is shifted by five bytes, so is the directory: nothing can be located (YAZ
    // too makes an empty record of it, and so its XML has a record without fields).
    same("yaz-tests/marc4.marc", 1, 0, &[1]),
    same("yaz-tests/marc4.xml", 1, 0, &[1]),
    same("yaz-tests/marc5.marc", 1, 1, &[]),
    same("yaz-tests/marc5.xml", 1, 1, &[]),
    same("yaz-tests/marc6.marc", 1, 1, &[]),
    same("yaz-tests/marc6.xml", 1, 1, &[]),
    same("yaz-tests/marc7.marc", 1, 1, &[]),
    same("yaz-tests/marc7.xml", 1, 1, &[]),
    same("yaz-tests/marc8.marc", 1, 1, &[]),
    same("yaz-tests/marc8.xml", 1, 1, &[]),
    same("yaz-tests/marc9.marc", 1, 1, &[]),
    same("yaz-tests/marc9.xml", 1, 1, &[]),
    same("yaz-tests/marccol1.u8.marc", 19, 19, &[]),
    same("yaz-tests/marccol2.u8.marc", 1, 1, &[]),
    same("yaz-tests/marccol3.u8.marc", 1, 1, &[]),
    same("yaz-tests/marccol4.u8.marc", 1, 1, &[]),
    same("yaz-tests/marccol5.u8.marc", 11, 11, &[]),
];

const LC_SAMPLE: &str = "lc-books-2016/lc-books-2016-sample.mrc";

/// The per-file table of the README: path -> records.
fn readme_table() -> BTreeMap<String, usize> {
    let readme = fs::read_to_string(data_dir().join("README.md")).unwrap_or_else(|e| panic!("README.md: {e}"));
    let mut table = BTreeMap::new();
    for line in readme.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | file | fmt | records | ...
        if cells.len() > 4 && (cells[2] == "ISO" || cells[2] == "XML") {
            let records = cells[3].parse().unwrap_or_else(|_| panic!("records column of {line:?}"));
            table.insert(cells[1].to_string(), records);
        }
    }
    table
}

#[test]
fn the_table_here_is_the_readme_table() {
    let readme = readme_table();
    assert!(readme.len() > 100, "README table not found ({} rows)", readme.len());
    let ours: BTreeMap<String, usize> = FILES.iter().map(|e| (e.path.to_string(), e.readme)).collect();
    assert_eq!(ours, readme, "every file the README lists, with the README's record count");
}

#[test]
fn every_listed_file_reads_as_expected() {
    let mut failures = Vec::new();
    for e in FILES {
        let items = read_all(e.path);
        let ok = items.iter().filter(|i| i.is_ok()).count();
        let bad: Vec<usize> = items.iter().filter_map(|i| i.as_ref().err()).map(|err| err.number).collect();
        if ok != e.ok || bad != e.bad {
            let reasons: Vec<String> = items.iter().filter_map(|i| i.as_ref().err()).map(ToString::to_string).collect();
            failures
                .push(format!("{}: read {ok}, rejected {bad:?}; expected {}, {:?}; {reasons:?}", e.path, e.ok, e.bad));
        }
        // Record numbers are 1.. in order, offsets increase.
        let numbers: Vec<usize> = items.iter().map(|i| i.as_ref().map_or_else(|e| e.number, |r| r.number)).collect();
        assert_eq!(numbers, (1..=items.len()).collect::<Vec<_>>(), "{}", e.path);
        let offsets: Vec<u64> = items.iter().map(|i| i.as_ref().map_or_else(|e| e.offset, |r| r.offset)).collect();
        assert!(offsets.windows(2).all(|w| w[0] < w[1]), "{}: offsets {offsets:?}", e.path);
        match e.differs {
            None => assert_eq!(ok + bad.len(), e.readme, "{}: items vs README", e.path),
            Some(why) => assert_ne!(ok + bad.len(), e.readme, "{}: no longer differs from README ({why})", e.path),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Raw bytes carried by each item are exactly the file's bytes at that offset.
#[test]
fn items_carry_their_original_bytes() {
    for e in FILES {
        let bytes = read_bytes(e.path);
        for item in read_all(e.path) {
            let (offset, raw) = match &item {
                Ok(r) => (r.offset, &r.raw),
                Err(err) => (err.offset, &err.raw),
            };
            let start = offset as usize;
            assert_eq!(&bytes[start..start + raw.len()], &raw[..], "{} at {offset}", e.path);
        }
    }
}

fn problems_of(rel: &str, number: usize) -> Vec<Problem> {
    match read_all(rel).into_iter().nth(number - 1) {
        Some(Ok(r)) => r.warnings,
        Some(Err(e)) => vec![e.problem],
        None => panic!("{rel}: no record {number}"),
    }
}

#[test]
fn broken_files_are_reported_with_the_right_reason() {
    let bad = "pymarc-tests/bad_records.mrc";
    assert!(problems_of(bad, 1).is_empty());
    for n in [2, 3, 6] {
        assert!(problems_of(bad, n).iter().any(|p| matches!(p, Problem::BaseAddress { .. })), "record {n}");
    }
    assert!(problems_of(bad, 4).iter().any(|p| matches!(p, Problem::DirectoryLength { len: 13, extra: 1 })));
    assert!(problems_of(bad, 5).iter().any(|p| matches!(p, Problem::FieldsLocatedByTerminators { .. })));
    assert_eq!(problems_of(bad, 7), vec![Problem::NoFields]);
    assert_eq!(problems_of(bad, 9), vec![Problem::Truncated { leader: 127, available: 100 }]);
    // The repaired records are the good one.
    let recs = records(bad);
    for r in &recs[1..6] {
        assert_eq!(r.fields, recs[0].fields);
    }

    assert_eq!(problems_of("marc-perl-tests/marc-record-badldr.usmarc", 7), vec![Problem::TrailingGarbage { len: 1 }]);
    assert!(matches!(problems_of("marc-perl-tests/marc-charset-farsi.marc", 1)[..], [Problem::TrailingGarbage { .. }]));
    assert_eq!(
        problems_of("marc-perl-tests/marc-record-baddir.usmarc", 1),
        vec![Problem::DirectoryTerminator { found: 0x1F }]
    );
    let baddir = &records("marc-perl-tests/marc-record-baddir.usmarc")[0];
    assert_eq!(baddir.subfield_values("245", 'a').collect::<Vec<_>>(), ["Green Eggs and Ham"]);
    assert_eq!(
        problems_of("marc-perl-tests/marc-record-badind.usmarc", 1),
        vec![Problem::BadIndicator { tag: "245".into(), position: 1, found: "-".into(), replaced: false }]
    );
    assert!(matches!(problems_of("pymarc-tests/bad_indicator.dat", 1)[..], [Problem::InvalidTag { index: 1, .. }]));
    assert!(problems_of("ruby-marc-tests/marc_with_bad_utf8.utf8.marc", 1)
        .iter()
        .any(|p| matches!(p, Problem::RecordLengthMismatch { leader: 1161, actual: 1163 })));
    assert!(matches!(problems_of("yaz-tests/marc4.marc", 1)[..], [Problem::DirectoryUnusable { .. }]));
    assert_eq!(problems_of("yaz-tests/marc4.xml", 1), vec![Problem::NoFields]);

    // XML: the second record has a raw 0x07 in a code attribute; 1 and 3 are read.
    let three = read_all("ruby-marc-tests/three-records-second-bad.xml");
    let err = three[1].as_ref().err().map(|e| (e.problem.clone(), e.fatal));
    assert!(
        matches!(&err, Some((Problem::MalformedXml { line: 72, message, .. }, false)) if message.contains("0x07")),
        "{err:?}"
    );
    assert!(three.iter().filter_map(|r| r.as_ref().ok()).all(|r| r.record.data_field("260").is_some()));
    assert!(matches!(
        problems_of("marc-perl-tests/marc-xml-invalid.xml", 1)[..],
        [Problem::MalformedXml { line: 6, .. }]
    ));
    let no_zero = &records("ruby-marc-tests/no-leading-zero.xml")[0];
    assert!(no_zero.data_field("042").is_some());
}

#[test]
fn encoding_repairs_on_real_files() {
    // Leader says UTF-8, the data is MARC-8.
    let p = problems_of("ruby-marc-tests/marc8_accented_chars.marc", 1);
    assert!(p.iter().any(|p| matches!(p, Problem::CodingMismatch { declared: 'a', used: marc::Encoding::Marc8, .. })));
    // Leader says MARC-8, the data is UTF-8: read the same as the honest twin.
    let p = problems_of("pymarc-tests/utf8_without_leader_flag.dat", 1);
    assert!(p.iter().any(|p| matches!(p, Problem::CodingMismatch { declared: ' ', used: marc::Encoding::Utf8, .. })));
    assert_eq!(
        records("pymarc-tests/utf8_without_leader_flag.dat")[0].fields,
        records("pymarc-tests/utf8_with_leader_flag.dat")[0].fields
    );
    // UTF-8 with bad bytes: U+FFFD in that subfield only, with a warning naming it.
    let p = problems_of("ruby-marc-tests/utf8_with_bad_bytes.marc", 1);
    assert_eq!(p, vec![Problem::InvalidUtf8 { tag: "245".into(), code: Some('a') }]);
    let r = &records("ruby-marc-tests/utf8_with_bad_bytes.marc")[0];
    assert!(r.subfield_values("245", 'a').any(|v| v.contains('\u{FFFD}')));
    // Every record comes back with leader/09 `a` and NFC text.
    for e in FILES {
        for r in records(e.path) {
            assert_eq!(r.leader.character_coding(), b'a', "{}", e.path);
            for f in &r.fields {
                let texts: Vec<&str> = match f {
                    Field::Control(c) => vec![c.value.as_str()],
                    Field::Data(d) => d.subfields.iter().map(|s| s.value.as_str()).collect(),
                };
                for t in texts {
                    assert!(unicode_normalization::is_nfc(t), "{}: {t:?} not NFC", e.path);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// YAZ golden pairs.

fn yaz_pair(n: u32) -> (Record, Record) {
    let iso = records(&format!("yaz-tests/marc{n}.marc"));
    let xml = records(&format!("yaz-tests/marc{n}.xml"));
    assert_eq!((iso.len(), xml.len()), (1, 1), "marc{n}");
    (iso.into_iter().next().unwrap_or_default(), xml.into_iter().next().unwrap_or_default())
}

#[test]
fn yaz_utf8_pairs_read_the_same() {
    assert_eq!(read_bytes("yaz-tests/marc0.chr"), b"utf-8\n");
    let (iso, xml) = yaz_pair(0);
    assert_eq!(dump(&iso), dump(&xml), "marc0.marc vs marc0.xml");

    // marc5's 250 is "  2η εκδ." with no subfield delimiter at all. YAZ takes the byte after
    // the indicators for a delimiter without looking, so its XML has `$η " εκδ."` and the "2"
    // is lost; we keep the text whole (as a control field, with a warning). Every other field
    // is the same.
    assert_eq!(read_bytes("yaz-tests/marc5.chr"), b"utf-8\n");
    let (mut iso, mut xml) = yaz_pair(5);
    let ours = iso.remove_fields("250");
    let theirs = xml.remove_fields("250");
    assert_eq!(dump(&iso), dump(&xml), "marc5.marc vs marc5.xml");
    assert_eq!(
        ours,
        vec![Field::Control(marc::ControlField {
            tag: marc::Tag::parse("250").unwrap_or_else(|e| panic!("{e}")),
            value: "  2η εκδ.".into()
        })]
    );
    assert_eq!(
        theirs,
        vec![Field::Data(
            marc::DataField::new(marc::Tag::parse("250").unwrap_or_else(|e| panic!("{e}")), ' ', ' ')
                .with('η', " εκδ.")
        )]
    );
    assert!(problems_of("yaz-tests/marc5.marc", 1).contains(&Problem::NoSubfields { tag: "250".into() }));
}

/// These depend on the MARC-8 converter (`crate::marc8`): with a placeholder that only knows
/// ASCII they fail, on purpose.
#[test]
fn yaz_marc8_pairs_read_the_same() {
    let mut failures = Vec::new();
    for n in [6, 7, 8, 9, 12] {
        assert_eq!(read_bytes(&format!("yaz-tests/marc{n}.chr")), b"marc-8\n");
        let (iso, xml) = yaz_pair(n);
        if dump(&iso) != dump(&xml) {
            failures.push(format!("marc{n}.marc:\n{}marc{n}.xml:\n{}", dump(&iso), dump(&xml)));
        }
    }
    assert!(failures.is_empty(), "MARC-8 pairs differ:\n{}", failures.join("\n"));
}

/// YAZ's own ISO 2709 rendering of each golden XML reads as the XML does.
#[test]
fn yaz_xml_to_iso_pairs_read_the_same() {
    // The UTF-8 and MARC-8 ones (the DanMARC pairs use three-character indicators).
    for n in [0, 5, 6, 7, 8, 9, 12] {
        let xml = records(&format!("yaz-tests/marc{n}.xml"));
        let iso = records(&format!("yaz-tests/marc{n}.xml.marc"));
        assert_eq!(xml.len(), 1, "marc{n}.xml");
        assert_eq!(iso.len(), 1, "marc{n}.xml.marc");
        // YAZ recomputed the lengths in its ISO 2709 (UTF-8 is longer than the MARC-8 the
        // XML's leader still counts).
        assert_eq!(dump_content(&iso[0]), dump_content(&xml[0]), "marc{n}.xml.marc vs marc{n}.xml");
    }
}

// ---------------------------------------------------------------------------------------------
// The LC sample.

#[test]
fn lc_sample_reads_cleanly_and_writes_back() {
    let bytes = read_bytes(LC_SAMPLE);
    let mut count = 0;
    let mut normalised = 0;
    let mut out = Vec::with_capacity(bytes.len());
    for item in Iso2709Reader::new(&bytes[..]) {
        let read = item.unwrap_or_else(|e| panic!("{e}"));
        count += 1;
        assert!(read.warnings.is_empty(), "record {}: {:?}", read.number, read.warnings);
        let written = to_iso2709(&read.record).unwrap_or_else(|e| panic!("record {}: {e}", read.number));
        let (again, warnings) = parse_record(&written, &ReadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        assert!(warnings.is_empty(), "record {}: {warnings:?}", read.number);
        assert!(again.same_content(&read.record), "record {} does not survive a write", read.number);
        assert_eq!(to_iso2709(&again).ok().as_ref(), Some(&written), "record {}: second write differs", read.number);
        // Byte for byte, unless the reader had to normalise: LC writes decomposed (NFD)
        // diacritics, which come back composed, and record 16763's `001` ends with a stray
        // subfield delimiter, which is dropped.
        let raw_text = String::from_utf8_lossy(&read.raw);
        if unicode_normalization::is_nfc(&raw_text) && !read.raw.windows(2).any(|w| w == b"\x1f\x1e") {
            assert_eq!(written, read.raw, "record {} is not written back byte for byte", read.number);
        } else {
            normalised += 1;
        }
        out.extend_from_slice(&written);
    }
    assert_eq!(count, 20_834);
    assert!(normalised < 10_000, "{normalised} records normalised");
    // The whole file written back reads as the same records again.
    let again = Iso2709Reader::new(&out[..]).filter(Result::is_ok).count();
    assert_eq!(again, 20_834);
}

// ---------------------------------------------------------------------------------------------
// Round trips.

#[test]
fn every_record_survives_iso2709_and_marcxml_round_trips() {
    let mut files: Vec<&str> = FILES.iter().map(|e| e.path).collect();
    files.push(LC_SAMPLE);
    let mut xml_lossy = 0;
    for rel in files {
        for item in read_all(rel) {
            let Ok(read) = item else { continue };
            let r = &read.record;
            // ISO 2709 -> model
            let iso = to_iso2709(r).unwrap_or_else(|e| panic!("{rel} #{}: {e}", read.number));
            let (back, _) =
                parse_record(&iso, &ReadOptions::default()).unwrap_or_else(|e| panic!("{rel} #{}: {e}", read.number));
            assert_eq!(dump_content(&back), dump_content(r), "{rel} #{}: ISO 2709 round trip", read.number);
            assert!(back.same_content(r));
            // MARCXML -> model
            let xml = to_marcxml(r);
            let mut reader = XmlReader::new(xml.as_bytes());
            let back = match reader.next() {
                Some(Ok(b)) => b.record,
                other => panic!("{rel} #{}: {other:?}\n{xml}", read.number),
            };
            if has_non_xml_chars(r) {
                // Characters XML cannot carry come back as U+FFFD; everything else is kept.
                xml_lossy += 1;
                assert_eq!(back.fields.len(), r.fields.len());
                continue;
            }
            assert_eq!(dump(&back), dump(r), "{rel} #{}: MARCXML round trip", read.number);
            assert_eq!(&back, r);
            // MARCXML -> ISO 2709 -> model
            let iso = to_iso2709(&back).unwrap_or_else(|e| panic!("{rel} #{}: {e}", read.number));
            let (again, _) = parse_record(&iso, &ReadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(dump_content(&again), dump_content(r), "{rel} #{}: MARCXML -> ISO 2709", read.number);
        }
    }
    // zebra #24 and DanMARC records with 0x1F in control fields, and the like.
    assert!(xml_lossy < 10, "{xml_lossy} records lost characters in MARCXML");
}

fn has_non_xml_chars(r: &Record) -> bool {
    let bad = |s: &str| {
        s.chars().any(|c| (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{FFFE}' || c == '\u{FFFF}')
    };
    r.fields.iter().any(|f| match f {
        Field::Control(c) => bad(&c.value),
        Field::Data(d) => {
            bad(&d.ind1.to_string())
                || bad(&d.ind2.to_string())
                || d.subfields.iter().any(|s| bad(&s.value) || bad(&s.code.to_string()))
        }
    })
}

#[test]
fn a_collection_written_with_the_writers_reads_back() {
    let recs = records("koha-sample/koha-sample-with-items.mrc");
    let mut xml = marc::XmlWriter::new(Vec::new()).unwrap_or_else(|e| panic!("{e}"));
    let mut iso = marc::Iso2709Writer::new(Vec::new());
    for r in &recs {
        xml.write_record(r).unwrap_or_else(|e| panic!("{e}"));
        iso.write_record(r).unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(xml.replaced_characters(), 0);
    let xml = xml.finish().unwrap_or_default();
    let iso = iso.into_inner().unwrap_or_default();
    assert_eq!(marc::FileFormat::sniff(&xml), marc::FileFormat::MarcXml);
    assert_eq!(marc::FileFormat::sniff(&iso), marc::FileFormat::Iso2709);
    let from_xml: Vec<Record> = XmlReader::new(&xml[..]).filter_map(Result::ok).map(|r| r.record).collect();
    let from_iso: Vec<Record> = Iso2709Reader::new(&iso[..]).filter_map(Result::ok).map(|r| r.record).collect();
    // MARCXML keeps the leader as it is; ISO 2709 recomputes the lengths.
    assert_eq!(from_xml, recs);
    assert_eq!(from_iso.len(), recs.len());
    assert!(from_iso.iter().zip(&recs).all(|(a, b)| a.same_content(b)));
    // And the Koha MARCXML twin of that file is the same catalogue (its leaders still count
    // the lengths from before the items were attached).
    let twin = records("koha-sample/koha-sample-with-items.marcxml");
    assert_eq!(twin.len(), recs.len());
    assert!(twin.iter().zip(&recs).all(|(a, b)| a.same_content(b)));
}

// ---------------------------------------------------------------------------------------------
// No input panics a reader.

fn sample_records() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for rel in
        ["pymarc-tests/marc8.dat", "ruby-marc-tests/utf8.marc", "yaz-tests/marc12.marc", "pymarc-tests/bad_records.mrc"]
    {
        out.push(read_bytes(rel));
    }
    out
}

fn sample_xml() -> Vec<Vec<u8>> {
    ["yaz-tests/marc5.xml", "ruby-marc-tests/three-records-second-bad.xml", "marc-perl-tests/marc-xml-batch-ns.xml"]
        .iter()
        .map(|rel| read_bytes(rel))
        .collect()
}

fn drain_both(bytes: &[u8]) {
    for r in Iso2709Reader::new(bytes).flatten() {
        let _ = to_iso2709(&r.record);
        let _ = to_marcxml(&r.record);
    }
    for r in XmlReader::new(bytes).flatten() {
        let _ = to_iso2709(&r.record);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        drain_both(&bytes);
    }

    #[test]
    fn arbitrary_bytes_with_marc_delimiters_never_panic(
        bytes in proptest::collection::vec(prop_oneof![Just(0x1Du8), Just(0x1E), Just(0x1F), Just(b'0'), Just(b'<'), Just(b'>'), any::<u8>()], 0..2048)
    ) {
        drain_both(&bytes);
    }

    #[test]
    fn mutated_real_records_never_panic(
        which in 0usize..4,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..12),
    ) {
        let mut bytes = sample_records().swap_remove(which);
        mutate(&mut bytes, &edits);
        drain_both(&bytes);
    }

    #[test]
    fn mutated_real_xml_never_panics(
        which in 0usize..3,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..12),
    ) {
        let mut bytes = sample_xml().swap_remove(which);
        mutate(&mut bytes, &edits);
        drain_both(&bytes);
    }
}

/// Overwrites, inserts, deletes or truncates at the given places.
fn mutate(bytes: &mut Vec<u8>, edits: &[(prop::sample::Index, u8, u8)]) {
    for (at, byte, kind) in edits {
        if bytes.is_empty() {
            bytes.push(*byte);
            continue;
        }
        let i = at.index(bytes.len());
        match kind {
            0 => bytes[i] = *byte,
            1 => bytes.insert(i, *byte),
            2 => {
                bytes.remove(i);
            }
            _ => bytes.truncate(i),
        }
    }
}
