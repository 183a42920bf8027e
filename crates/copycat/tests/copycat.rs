//! The SRU response reader on responses captured from servers: `yaz-ztest` (Debian yaz, an SRU
//! server nobody here wrote) and Shelfmark's own `/sru` (SRU 1.2 and 2.0, inline and
//! string-packed records, diagnostics). Each file is in `tests/data`, as the server sent it.

#![allow(clippy::unwrap_used)]

use copycat::sru::read_response;
use copycat::{decode, CopycatError, RawRecord, Summary};

fn data(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The records of a response, read and summarised.
fn summaries(name: &str) -> (u64, Vec<Summary>) {
    let response = read_response(&data(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let summaries = response
        .records
        .iter()
        .map(|raw| Summary::of(&decode(raw, marc::Encoding::Auto).unwrap_or_else(|e| panic!("{name}: {e}")).0))
        .collect();
    (response.hits, summaries)
}

#[test]
fn yaz_ztest_records_read_in_every_version_and_packing() {
    for name in ["yaz-ztest-1.2-xml.xml", "yaz-ztest-1.2-string.xml", "yaz-ztest-2.0-xml.xml"] {
        let (hits, records) = summaries(name);
        assert_eq!(hits, 3, "{name}");
        assert_eq!(records.len(), 2, "{name}");
        let controls: Vec<Option<&str>> = records.iter().map(|s| s.control_number.as_deref()).collect();
        assert_eq!(controls, [Some("11224466"), Some("11224467")], "{name}");
        assert_eq!(records[0].title, "How to program a computer", "{name}");
        assert_eq!(records[0].authors, ["Jack Collins"], "{name}");
        assert_eq!(records[0].lccn.as_deref(), Some("11224466"), "{name}");
    }
}

#[test]
fn yaz_ztest_diagnostics_are_named() {
    let err = read_response(&data("yaz-ztest-diagnostic.xml")).unwrap_err();
    assert_eq!(
        err,
        CopycatError::Diagnostic {
            uri: "info:srw/diagnostic/1/6".into(),
            message: Some("Unsupported parameter value".into()),
            details: Some("startRecord".into()),
        }
    );
    // Surrogate diagnostics stand in for each record the server could not give.
    let response = read_response(&data("yaz-ztest-surrogate-diagnostics.xml")).unwrap();
    assert_eq!(response.hits, 23);
    assert_eq!(response.records.len(), 2);
    for record in &response.records {
        let RawRecord::Diagnostic(why) = record else { panic!("{record:?}") };
        assert!(why.contains("info:srw/diagnostic/1/63"), "{why}");
        assert!(decode(record, marc::Encoding::Auto).is_err());
    }
}

#[test]
fn shelfmark_sru_records_read_in_both_versions() {
    let (hits, records) = summaries("shelfmark-1.2-xml.xml");
    assert_eq!((hits, records.len()), (1, 1));
    let r = &records[0];
    assert_eq!(r.control_number.as_deref(), Some("17446121"));
    assert_eq!(r.title, "E Street shuffle : the glory days of Bruce Springsteen & the E Street Band");
    assert_eq!(r.isbns, ["9780670026623"]);
    assert_eq!(r.lccn.as_deref(), Some("2012035454"));

    let (hits, records) = summaries("shelfmark-2.0-string.xml");
    assert_eq!((hits, records.len()), (4, 3));
    let controls: Vec<&str> = records.iter().map(|s| s.control_number.as_deref().unwrap()).collect();
    assert_eq!(controls, ["1062522", "4824880", "4288021"]);
    for r in &records {
        assert!(r.title.to_lowercase().contains("histor"), "{}", r.title);
    }
}

#[test]
fn shelfmark_sru_diagnostics_are_named() {
    let err = read_response(&data("shelfmark-diagnostic.xml")).unwrap_err();
    assert_eq!(err.to_string(), "SRU diagnostic info:srw/diagnostic/1/14 (Invalid or unsupported use of quotes): 13");
    let err = read_response(&data("shelfmark-2.0-diagnostic.xml")).unwrap_err();
    assert_eq!(err.to_string(), "SRU diagnostic info:srw/diagnostic/1/66 (Unknown schema for retrieval): nonesuch");
}
