//! The provider over an in-memory store of real records (Koha's sample catalogue).

use crate::provider::{respond, Entry, ListQuery, Page, Repository, SetInfo, Store};
use crate::sets::SetSpec;
use crate::token::Position;
use chrono::{DateTime, TimeDelta, Utc};
use quick_xml::events::Event;
use std::cell::Cell;
use std::collections::BTreeSet;

struct Memory {
    entries: Vec<Entry>,
    sets: Vec<SetInfo>,
    pages: Cell<u32>,
}

impl Store for Memory {
    type Error = String;

    fn earliest_datestamp(&self) -> Result<Option<DateTime<Utc>>, String> {
        Ok(self.entries.iter().map(|e| e.datestamp).min())
    }

    fn sets(&self) -> Result<Vec<SetInfo>, String> {
        Ok(self.sets.clone())
    }

    fn page(
        &self,
        q: &ListQuery,
        after: Option<Position>,
        limit: u32,
        count: bool,
        metadata: bool,
    ) -> Result<Page, String> {
        self.pages.set(self.pages.get() + 1);
        let mut selected: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| q.from.is_none_or(|f| e.datestamp >= f))
            .filter(|e| q.before.is_none_or(|b| e.datestamp < b))
            .filter(|e| match &q.set {
                None => true,
                Some(s) => e.sets.iter().any(|m| m == s || m.parent().as_ref() == Some(s)),
            })
            .collect();
        selected.sort_by_key(|e| (e.datestamp, e.id));
        let total = selected.len() as u64;
        let entries = selected
            .into_iter()
            .filter(|e| after.is_none_or(|a| (e.datestamp, e.id) > (a.datestamp, a.id)))
            .take(limit as usize)
            .map(|e| Entry { marc: if metadata { e.marc.clone() } else { None }, ..e.clone() })
            .collect();
        Ok(Page { entries, complete_list_size: count.then_some(total) })
    }

    fn entry(&self, id: i64) -> Result<Option<Entry>, String> {
        Ok(self.entries.iter().find(|e| e.id == id).cloned())
    }
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn repository(key: &[u8]) -> Repository {
    Repository {
        name: "Test Library".into(),
        base_url: "http://127.0.0.1/oai".into(),
        repository_id: "library.example.org".into(),
        admin_emails: vec!["admin@example.org".into()],
        page_size: 50,
        token_key: key.to_vec(),
    }
}

fn koha_marc() -> Vec<Vec<u8>> {
    let shared = std::env::var_os("SHELFMARK_SHARED")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let file = std::fs::File::open(shared.join("data/marc/koha-sample/koha-sample-with-items.mrc"))
        .expect("koha sample (set SHELFMARK_SHARED)");
    marc::Iso2709Reader::new(file).map(|r| marc::to_iso2709(&r.expect("record").record).expect("write")).collect()
}

/// 435 records, three a second from 2026-01-01, every tenth deleted, the odd ones at branch
/// MAIN and every third in the collection REF.
fn memory() -> Memory {
    let start = at("2026-01-01T00:00:00.250Z");
    let entries = koha_marc()
        .into_iter()
        .enumerate()
        .map(|(i, marc)| {
            let id = i as i64 + 1;
            let deleted = id % 10 == 0;
            let mut sets = Vec::new();
            if !deleted && id % 2 == 1 {
                sets.push(SetSpec::Branch("MAIN".into()));
            }
            if !deleted && id % 3 == 0 {
                sets.push(SetSpec::Collection("REF".into()));
            }
            Entry {
                id,
                datestamp: start + TimeDelta::milliseconds(333 * i as i64),
                deleted,
                marc: (!deleted).then_some(marc),
                sets,
            }
        })
        .collect();
    Memory {
        entries,
        sets: vec![
            SetInfo { spec: SetSpec::Branch("MAIN".into()), name: "Main Library".into() },
            SetInfo { spec: SetSpec::Collection("REF".into()), name: "Reference".into() },
        ],
        pages: Cell::new(0),
    }
}

fn get(store: &Memory, key: &[u8], query: &str) -> Doc {
    let arguments: Vec<(String, String)> = query
        .split('&')
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), v.to_string())
        })
        .collect();
    Doc::parse(respond(&repository(key), store, &arguments, at("2026-06-01T12:00:00.9Z")).expect("response"))
}

/// (path, attributes, text).
type Element = (String, Vec<(String, String)>, String);

/// A response, checked well-formed, as (path, attributes, text) per element.
struct Doc {
    xml: String,
    elements: Vec<Element>,
}

impl Doc {
    fn parse(xml: String) -> Doc {
        let mut reader = quick_xml::Reader::from_str(&xml);
        let mut path: Vec<String> = Vec::new();
        let mut elements = Vec::new();
        let mut open: Vec<usize> = Vec::new();
        loop {
            match reader.read_event().unwrap_or_else(|e| panic!("{e}: {xml}")) {
                Event::Start(e) => {
                    path.push(e.local_name().as_ref().to_string());
                    let attributes = e
                        .attributes()
                        .map(|a| {
                            let a = a.unwrap();
                            (
                                a.key.as_ref().to_string(),
                                a.normalized_value(quick_xml::XmlVersion::Implicit1_0).unwrap().into_owned(),
                            )
                        })
                        .collect();
                    open.push(elements.len());
                    elements.push((path.join("/"), attributes, String::new()));
                }
                Event::Text(t) => {
                    if let Some(&i) = open.last() {
                        elements[i].2.push_str(&t.xml10_content());
                    }
                }
                Event::GeneralRef(r) => {
                    if let Some(&i) = open.last() {
                        let s = match &*r {
                            "amp" => "&",
                            "lt" => "<",
                            "gt" => ">",
                            "quot" => "\"",
                            _ => "'",
                        };
                        elements[i].2.push_str(s);
                    }
                }
                Event::End(_) => {
                    path.pop();
                    open.pop();
                }
                Event::Empty(e) => {
                    path.push(e.local_name().as_ref().to_string());
                    elements.push((path.join("/"), Vec::new(), String::new()));
                    path.pop();
                }
                Event::Eof => break,
                _ => {}
            }
        }
        assert!(elements.first().is_some_and(|(p, _, _)| p == "OAI-PMH"), "{xml}");
        Doc { xml, elements }
    }

    fn texts(&self, path: &str) -> Vec<&str> {
        self.elements.iter().filter(|(p, _, _)| p.ends_with(path)).map(|(_, _, t)| t.as_str()).collect()
    }

    fn attribute(&self, path: &str, name: &str) -> Option<&str> {
        self.elements
            .iter()
            .find(|(p, _, _)| p.ends_with(path))
            .and_then(|(_, a, _)| a.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()))
    }

    fn errors(&self) -> Vec<&str> {
        self.elements
            .iter()
            .filter(|(p, _, _)| p == "OAI-PMH/error")
            .filter_map(|(_, a, _)| a.iter().find(|(k, _)| k == "code").map(|(_, v)| v.as_str()))
            .collect()
    }
}

const KEY: &[u8] = b"a key";

#[test]
fn identify() {
    let store = memory();
    let doc = get(&store, KEY, "verb=Identify");
    assert_eq!(doc.errors(), Vec::<&str>::new());
    assert_eq!(doc.texts("OAI-PMH/responseDate"), ["2026-06-01T12:00:00Z"]);
    assert_eq!(doc.attribute("OAI-PMH/request", "verb"), Some("Identify"));
    assert_eq!(doc.texts("Identify/repositoryName"), ["Test Library"]);
    assert_eq!(doc.texts("Identify/baseURL"), ["http://127.0.0.1/oai"]);
    assert_eq!(doc.texts("Identify/protocolVersion"), ["2.0"]);
    assert_eq!(doc.texts("Identify/adminEmail"), ["admin@example.org"]);
    assert_eq!(doc.texts("Identify/earliestDatestamp"), ["2026-01-01T00:00:00Z"]);
    assert_eq!(doc.texts("Identify/deletedRecord"), ["persistent"]);
    assert_eq!(doc.texts("Identify/granularity"), ["YYYY-MM-DDThh:mm:ssZ"]);
    assert_eq!(doc.texts("oai-identifier/sampleIdentifier"), ["oai:library.example.org:1"]);
}

/// (identifier, deleted) per header; (cursor, completeListSize) per token.
type Harvest = (Vec<(String, bool)>, Vec<(String, String)>);

/// Follows the tokens to the end; the identifiers in order, deleted ones marked, and the
/// (cursor, completeListSize) of every token.
fn harvest(store: &Memory, key: &[u8], verb: &str, first: &str) -> Harvest {
    let mut doc = get(store, key, &format!("verb={verb}&{first}"));
    let mut ids = Vec::new();
    let mut tokens = Vec::new();
    loop {
        assert_eq!(doc.errors(), Vec::<&str>::new(), "{}", doc.xml);
        let deleted = doc
            .elements
            .iter()
            .filter(|(p, _, _)| p.ends_with("/header"))
            .map(|(_, a, _)| a.iter().any(|(k, v)| k == "status" && v == "deleted"));
        ids.extend(doc.texts("/header/identifier").into_iter().map(str::to_string).zip(deleted));
        let token = doc.texts(&format!("{verb}/resumptionToken")).first().map(|t| t.to_string());
        match token {
            None => break,
            Some(t) => {
                tokens.push((
                    doc.attribute("resumptionToken", "cursor").unwrap().to_string(),
                    doc.attribute("resumptionToken", "completeListSize").unwrap().to_string(),
                ));
                if t.is_empty() {
                    break;
                }
                doc = get(store, key, &format!("verb={verb}&resumptionToken={t}"));
            }
        }
    }
    (ids, tokens)
}

#[test]
fn full_harvest_follows_tokens_to_every_record() {
    let store = memory();
    for (verb, prefix) in [("ListRecords", "oai_dc"), ("ListRecords", "marc21"), ("ListIdentifiers", "oai_dc")] {
        let (ids, tokens) = harvest(&store, KEY, verb, &format!("metadataPrefix={prefix}"));
        let expected: Vec<(String, bool)> =
            store.entries.iter().map(|e| (format!("oai:library.example.org:{}", e.id), e.deleted)).collect();
        assert_eq!(ids, expected, "{verb} {prefix}");
        // 435 records in pages of 50: nine pages, cursors 0, 50, ..., 400.
        let cursors: Vec<String> = (0..9).map(|i| (i * 50).to_string()).collect();
        assert_eq!(tokens.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>(), cursors);
        assert!(tokens.iter().all(|(_, size)| size == "435"));
    }
}

#[test]
fn metadata_in_both_formats() {
    let store = memory();
    let dc = get(&store, KEY, "verb=GetRecord&identifier=oai:library.example.org:1&metadataPrefix=oai_dc");
    let record = marc::parse_record(store.entries[0].marc.as_ref().unwrap(), &marc::ReadOptions::default()).unwrap().0;
    let title = catalog::derive(&record).title;
    assert_eq!(dc.texts("metadata/dc/title"), [title.as_str()]);
    assert_eq!(dc.texts("GetRecord/record/header/identifier"), ["oai:library.example.org:1"]);
    assert_eq!(dc.texts("GetRecord/record/header/datestamp"), ["2026-01-01T00:00:00Z"]);
    assert_eq!(dc.texts("GetRecord/record/header/setSpec"), ["branch:MAIN"]);
    let m = get(&store, KEY, "verb=GetRecord&identifier=oai:library.example.org:1&metadataPrefix=marc21");
    let start = m.xml.find("<record xmlns=\"http://www.loc.gov/MARC21/slim\">").expect("MARCXML record");
    let end = m.xml.rfind("</metadata>").unwrap();
    let back = marc::xml::read_one(&m.xml.as_bytes()[start..end]).expect("MARCXML reads back");
    assert!(back.same_content(&record));
    // A deleted record: a header with status="deleted" and no metadata.
    let gone = get(&store, KEY, "verb=GetRecord&identifier=oai:library.example.org:10&metadataPrefix=oai_dc");
    assert_eq!(gone.attribute("GetRecord/record/header", "status"), Some("deleted"));
    assert!(gone.texts("metadata").is_empty());
}

#[test]
fn from_until_and_sets_select() {
    let store = memory();
    let in_window = |from: &str, until: &str| -> Vec<i64> {
        store
            .entries
            .iter()
            .filter(|e| e.datestamp >= at(from) && crate::datestamp::truncate(e.datestamp) <= at(until))
            .map(|e| e.id)
            .collect()
    };
    let ids = |list: Vec<(String, bool)>| -> Vec<i64> {
        list.iter().map(|(i, _)| i.rsplit(':').next().unwrap().parse().unwrap()).collect()
    };
    let (got, _) = harvest(
        &store,
        KEY,
        "ListIdentifiers",
        "metadataPrefix=oai_dc&from=2026-01-01T00:00:10Z&until=2026-01-01T00:01:00Z",
    );
    assert_eq!(ids(got), in_window("2026-01-01T00:00:10Z", "2026-01-01T00:01:00Z"));
    // Seconds: a record stamped 00:00:00.250 is inside until=00:00:00Z.
    let (got, _) = harvest(&store, KEY, "ListIdentifiers", "metadataPrefix=oai_dc&until=2026-01-01T00:00:00Z");
    assert_eq!(ids(got), [1, 2, 3]);
    let (got, _) = harvest(&store, KEY, "ListIdentifiers", "metadataPrefix=oai_dc&from=2026-01-01&until=2026-01-01");
    assert_eq!(got.len(), 435);
    let (got, _) = harvest(&store, KEY, "ListRecords", "metadataPrefix=oai_dc&set=branch:MAIN");
    let main: Vec<i64> = store.entries.iter().filter(|e| !e.deleted && e.id % 2 == 1).map(|e| e.id).collect();
    assert_eq!(ids(got), main);
    let (got, _) = harvest(&store, KEY, "ListRecords", "metadataPrefix=oai_dc&set=collection");
    let reference: Vec<i64> = store.entries.iter().filter(|e| !e.deleted && e.id % 3 == 0).map(|e| e.id).collect();
    assert_eq!(ids(got), reference);
}

#[test]
fn list_sets_and_formats() {
    let store = memory();
    let doc = get(&store, KEY, "verb=ListSets");
    assert_eq!(doc.texts("set/setSpec"), ["branch", "branch:MAIN", "collection", "collection:REF"]);
    assert_eq!(doc.texts("set/setName")[1], "Main Library");
    let doc = get(&store, KEY, "verb=ListMetadataFormats");
    assert_eq!(doc.texts("metadataFormat/metadataPrefix"), ["oai_dc", "marc21"]);
    let doc = get(&store, KEY, "verb=ListMetadataFormats&identifier=oai:library.example.org:3");
    assert_eq!(doc.texts("metadataFormat/metadataPrefix"), ["oai_dc", "marc21"]);
}

#[test]
fn every_error_code() {
    let store = memory();
    let empty = Memory { entries: Vec::new(), sets: Vec::new(), pages: Cell::new(0) };
    let check = |store: &Memory, query: &str, code: &str, echoed: bool| {
        let doc = get(store, KEY, query);
        assert_eq!(doc.errors(), [code], "{query}: {}", doc.xml);
        // The request element echoes the arguments unless the request itself was malformed.
        assert_eq!(doc.attribute("OAI-PMH/request", "verb").is_some(), echoed, "{query}");
        assert_eq!(doc.texts("OAI-PMH/request"), ["http://127.0.0.1/oai"]);
        assert_eq!(
            doc.elements.iter().filter(|(p, _, _)| p.matches('/').count() == 1).count(),
            3,
            "{query}: {}",
            doc.xml
        );
    };
    check(&store, "verb=Nonsense", "badVerb", false);
    check(&store, "metadataPrefix=oai_dc", "badVerb", false);
    check(&store, "verb=ListRecords", "badArgument", false);
    check(&store, "verb=ListRecords&metadataPrefix=oai_dc&from=2026-02-30", "badArgument", false);
    check(&store, "verb=ListRecords&metadataPrefix=mods", "cannotDisseminateFormat", true);
    check(
        &store,
        "verb=GetRecord&identifier=oai:library.example.org:1&metadataPrefix=mods",
        "cannotDisseminateFormat",
        true,
    );
    check(
        &store,
        "verb=GetRecord&identifier=oai:library.example.org:9999&metadataPrefix=oai_dc",
        "idDoesNotExist",
        true,
    );
    check(&store, "verb=GetRecord&identifier=oai:elsewhere.org:1&metadataPrefix=oai_dc", "idDoesNotExist", true);
    check(&store, "verb=ListMetadataFormats&identifier=junk", "idDoesNotExist", true);
    check(&store, "verb=ListMetadataFormats&identifier=oai:library.example.org:10", "noMetadataFormats", true);
    check(&store, "verb=ListRecords&metadataPrefix=oai_dc&from=2027-01-01", "noRecordsMatch", true);
    check(&store, "verb=ListIdentifiers&metadataPrefix=oai_dc&set=branch:NOWHERE", "noRecordsMatch", true);
    check(&store, "verb=ListIdentifiers&metadataPrefix=oai_dc&set=shelf:X", "noRecordsMatch", true);
    check(&empty, "verb=ListSets", "noSetHierarchy", true);
    check(&empty, "verb=ListRecords&metadataPrefix=oai_dc&set=branch", "noSetHierarchy", true);
    check(&empty, "verb=ListRecords&metadataPrefix=oai_dc", "noRecordsMatch", true);
    check(&store, "verb=ListSets&resumptionToken=x", "badResumptionToken", true);
    check(&store, "verb=ListRecords&resumptionToken=nonsense", "badResumptionToken", true);
    // A real token: from another key, edited, or for another verb.
    let doc = get(&store, KEY, "verb=ListRecords&metadataPrefix=oai_dc");
    let token = doc.texts("ListRecords/resumptionToken")[0].to_string();
    check(&store, &format!("verb=ListIdentifiers&resumptionToken={token}"), "badResumptionToken", true);
    let doc = get(&store, b"another key", &format!("verb=ListRecords&resumptionToken={token}"));
    assert_eq!(doc.errors(), ["badResumptionToken"]);
    let mut edited = token.clone().into_bytes();
    edited[3] = if edited[3] == b'0' { b'1' } else { b'0' };
    check(
        &store,
        &format!("verb=ListRecords&resumptionToken={}", String::from_utf8(edited).unwrap()),
        "badResumptionToken",
        true,
    );
    // The same token still works from a provider started afresh with the same key.
    let again = get(&memory(), KEY, &format!("verb=ListRecords&resumptionToken={token}"));
    assert_eq!(again.errors(), Vec::<&str>::new());
    assert_eq!(again.attribute("resumptionToken", "cursor"), Some("50"));
    assert_eq!(again.texts("header/identifier")[0], "oai:library.example.org:51");
}

#[test]
fn arguments_are_escaped_in_the_echo() {
    let store = memory();
    let doc = get(&store, KEY, "verb=GetRecord&identifier=<\"'>&metadataPrefix=oai_dc");
    assert_eq!(doc.errors(), ["idDoesNotExist"]);
    assert_eq!(doc.attribute("OAI-PMH/request", "identifier"), Some("<\"'>"));
}

#[test]
fn only_counts_on_the_first_page() {
    let store = memory();
    let (_, tokens) = harvest(&store, KEY, "ListIdentifiers", "metadataPrefix=oai_dc");
    assert_eq!(tokens.len(), 9);
    assert_eq!(store.pages.get(), 9);
    let mut seen = BTreeSet::new();
    for (cursor, _) in tokens {
        assert!(seen.insert(cursor));
    }
}
