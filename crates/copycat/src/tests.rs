//! Searching several targets with sources made here, reading records, the preview, and the
//! import against a real SQLite catalog.

use super::*;
use std::time::Duration;

fn record(title: &str, isbn: &str) -> marc::Record {
    let mut r = marc::Record::new(marc::Leader::new_bibliographic());
    r.push_control(marc::Tag::parse("001").expect("tag"), format!("cc-{title}"));
    r.push_control(marc::Tag::parse("003").expect("tag"), "DLC");
    r.push_data(marc::DataField::new(marc::Tag::parse("020").expect("tag"), ' ', ' ').with('a', isbn));
    r.push_data(
        marc::DataField::new(marc::Tag::parse("245").expect("tag"), '1', '0')
            .with('a', format!("{title} /"))
            .with('c', "by A. Writer."),
    );
    r.push_data(
        marc::DataField::new(marc::Tag::parse("260").expect("tag"), ' ', ' ')
            .with('a', "London :")
            .with('b', "Dollar$ Press,")
            .with('c', "1999."),
    );
    r
}

fn target(name: &str, timeout: u64) -> Target {
    Target {
        name: name.into(),
        endpoint: settings::Endpoint::Sru {
            url: format!("http://127.0.0.1:9/{name}"),
            version: settings::SruVersion::V1_2,
            packing: settings::Packing::Xml,
        },
        record_schema: "marcxml".into(),
        encoding: marc::Encoding::Auto,
        timeout: Duration::from_secs(timeout),
        credentials: None,
    }
}

struct Fake(&'static str);

impl Source for Fake {
    fn search(&self, query: &CopyQuery, max: usize) -> Result<Found, CopycatError> {
        match self.0 {
            "good" => Ok(Found {
                hits: 12,
                records: (0..max.min(3))
                    .map(|i| match i {
                        1 => RawRecord::Diagnostic("record 2 is not available".into()),
                        _ => RawRecord::MarcXml(marc::xml::to_marcxml(&record(
                            &format!("{} {i}", query.term()),
                            "0306406152",
                        ))),
                    })
                    .collect(),
            }),
            "down" => Err(CopycatError::Connection("cannot reach 127.0.0.1:9: connection refused".into())),
            _ => {
                std::thread::sleep(Duration::from_secs(4));
                Ok(Found { hits: 0, records: vec![] })
            }
        }
    }
}

fn fake(target: &Target) -> Result<Box<dyn Source>, CopycatError> {
    Ok(Box::new(Fake(match target.name.as_str() {
        "good" => "good",
        "down" => "down",
        _ => "slow",
    })))
}

#[test]
fn a_failing_or_slow_target_is_reported_beside_the_others() {
    let targets = [target("down", 5), target("good", 5), target("slow", 1)];
    let query = CopyQuery::parse("title", "whales").expect("query");
    let started = std::time::Instant::now();
    let results = search_with(&targets, &query, 10, fake);
    // The slow target is given up after its own timeout (1 s + 1 s grace), not waited for.
    assert!(started.elapsed() < Duration::from_millis(3500), "{:?}", started.elapsed());
    let names: Vec<&str> = results.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(names, ["down", "good", "slow"]);
    let down = results[0].outcome.as_ref().expect_err("down");
    assert!(down.to_string().contains("connection refused"), "{down}");
    let good = results[1].outcome.as_ref().expect("good");
    assert_eq!(good.hits, 12);
    let positions: Vec<usize> = good.candidates.iter().map(|c| c.position).collect();
    assert_eq!(positions, [1, 3]);
    assert_eq!(good.unreadable, vec![(2, "record 2 is not available".to_string())]);
    assert_eq!(good.candidates[1].summary.title, "whales 2");
    assert_eq!(good.candidates[1].summary.isbns, ["9780306406157"]);
    assert_eq!(good.candidates[1].summary.publisher.as_deref(), Some("Dollar$ Press"));
    assert_eq!(good.candidates[1].summary.year, Some(1999));
    assert_eq!(good.candidates[1].summary.format, "Book");
    assert_eq!(
        results[2].outcome.as_ref().expect_err("slow"),
        &CopycatError::Timeout { seconds: 1, location: "http://127.0.0.1:9/slow".into() }
    );
}

#[test]
fn a_z3950_target_that_is_down_is_named() {
    let mut t = target("z", 1);
    t.endpoint = settings::Endpoint::Z3950 { host: "127.0.0.1".into(), port: 9, database: "Default".into() };
    let [result] = &search(&[t], &CopyQuery::parse("isbn", "0306406152").expect("q"), 5)[..] else { panic!() };
    let error = result.outcome.as_ref().expect_err("nothing listens on port 9").to_string();
    assert!(error.starts_with("127.0.0.1:9/Default: "), "{error}");
}

#[test]
fn copy_queries_in_bib1() {
    use z3950::Query;
    let q = |by: &str, term: &str| crate::source::bib1_query(&CopyQuery::parse(by, term).expect("query"));
    let and = |a: Query, b: Query| Query::And(Box::new(a), Box::new(b));
    // Both forms of an ISBN; a 979 ISBN has no ISBN-10.
    assert_eq!(
        q("isbn", "0-306-40615-2"),
        Query::Or(Box::new(Query::isbn("9780306406157")), Box::new(Query::isbn("0306406152")))
    );
    assert_eq!(q("isbn", "979-10-90636-07-1"), Query::isbn("9791090636071"));
    // Every word of a title or author, punctuation left out, whatever the order.
    let title = and(
        and(and(and(Query::title("Moby"), Query::title("Dick")), Query::title("or,")), Query::title("the")),
        Query::title("whale"),
    );
    assert_eq!(q("title", "Moby Dick : or, the whale"), title);
    assert_eq!(q("author", "Melville"), Query::author("Melville"));
    assert_eq!(q("keywords", "whale sea"), and(Query::any("whale"), Query::any("sea")));
    assert_eq!(q("lccn", "2001012345"), Query::lccn("2001012345"));
}

#[test]
fn the_preview_is_mnemonic_marc() {
    let text = preview(&record("Moby Dick", "0306406152"));
    assert_eq!(
        text,
        "=LDR  00000nam\\a2200000\\i\\4500\n\
         =001  cc-Moby\\Dick\n\
         =003  DLC\n\
         =020  \\\\$a0306406152\n\
         =245  10$aMoby Dick /$cby A. Writer.\n\
         =260  \\\\$aLondon :$bDollar{dollar} Press,$c1999.\n"
    );
}

#[test]
fn iso_2709_is_read_in_the_targets_encoding() {
    // MARC-8 writes n with a tilde as the combining mark 0xE4 before the n. The writer makes a
    // UTF-8 record with a one-byte stand-in, which is then swapped for 0xE4 (same length, so
    // the directory stays right).
    let mut r = record("Pe~na", "0306406152");
    r.leader.set(9, b' ');
    let mut bytes = marc::to_iso2709(&r).expect("iso2709");
    let title_at = bytes.windows(7).position(|w| w == b"Pe~na /").expect("title") + 2;
    bytes[title_at] = 0xE4;
    let title = |encoding| {
        let (read, _) = decode(&RawRecord::Iso2709(bytes.clone()), encoding).expect("readable");
        let title = read.subfield_values("245", 'a').next().map(str::to_string);
        title
    };
    assert_eq!(title(marc::Encoding::Marc8).as_deref(), Some("Pe\u{f1}a /"));
    // Leader/09 is blank: auto reads MARC-8 too.
    assert_eq!(title(marc::Encoding::Auto).as_deref(), Some("Pe\u{f1}a /"));
    // Forced UTF-8, the lone byte is not a character.
    assert_eq!(title(marc::Encoding::Utf8).as_deref(), Some("Pe\u{fffd}na /"));
    assert!(decode(&RawRecord::Iso2709(b"garbage".to_vec()), marc::Encoding::Auto).is_err());
    assert!(decode(&RawRecord::MarcXml("<nothing/>".into()), marc::Encoding::Auto).is_err());
}

fn catalog() -> (tempfile::TempDir, std::sync::Arc<dyn storage::Database>) {
    let dir = tempfile::tempdir().expect("dir");
    let db = storage::open(&storage::StorageConfig::parse(dir.path().to_str().expect("utf-8"))).expect("db");
    (dir, db)
}

#[test]
fn import_goes_through_the_import_path_and_matches_the_second_time() {
    let (_dir, db) = catalog();
    let mut r = record("Moby Dick", "0306406152");
    r.push_data(marc::DataField::new(marc::Tag::parse("952").expect("tag"), ' ', ' ').with('p', "THEIR-BARCODE"));
    assert_eq!(in_catalog(&*db, &r).expect("match"), InCatalog::No);
    let added = import(&*db, r.clone(), OnMatch::Skip).expect("import");
    let Imported::Added(id) = added else { panic!("{added:?}") };
    // The other library's item field is not kept, and no item was made from it.
    let stored = db.record(id).expect("read").expect("stored");
    let stored_record = marc::iso2709::read_one(&stored.marc).expect("parse");
    assert!(stored_record.data_field("952").is_none());
    assert_eq!(db.count_items().expect("items"), 0);
    assert_eq!(stored.derived.title, "Moby Dick");
    // The change feed has the new record, so the search index follows.
    let changes = db.changes(0, 100).expect("changes");
    assert!(changes.iter().any(|c| c.entity_id == id), "{changes:?}");

    assert_eq!(in_catalog(&*db, &r).expect("match"), InCatalog::Identical(id));
    assert_eq!(import(&*db, r.clone(), OnMatch::Add).expect("again"), Imported::Unchanged(id));
    // The same book from another source (another 245 $c) matches by 001+003.
    let mut edited = r.clone();
    edited.fields.retain(|f| f.tag().as_str() != "260");
    assert_eq!(in_catalog(&*db, &edited).expect("match"), InCatalog::Matched(id));
    assert_eq!(import(&*db, edited.clone(), OnMatch::Skip).expect("skip"), Imported::Skipped(id));
    assert_eq!(import(&*db, edited.clone(), OnMatch::Replace).expect("replace"), Imported::Replaced(id));
    assert!(db.record(id).expect("read").expect("stored").derived.publisher.is_none());
    assert_eq!(db.count_records().expect("count"), 1);

    let mut no_title = r;
    no_title.fields.retain(|f| f.tag().as_str() != "245");
    assert!(
        matches!(in_catalog(&*db, &no_title).expect("match"), InCatalog::Refused(reason) if reason.contains("245"))
    );
    let err = import(&*db, no_title, OnMatch::Skip).expect_err("refused");
    assert!(matches!(&err, CopycatError::Rejected { code, .. } if code == "no_245"), "{err}");
}
