//! SRU, Search/Retrieve via URL, versions 1.2 and 2.0, as pure protocol logic: an HTTP edge
//! hands [`respond`] the request's parameters and a [`Catalog`] to search, and gets back the
//! XML to send. No I/O here: the catalog is whatever the caller implements (the web crate's
//! search index and database; tests' records in memory).
//!
//! - [`request`]: the parameters of explain, searchRetrieve and scan, checked; every bad one is
//!   a [`request::Refusal`] carrying the diagnostic (`info:srw/diagnostic/1/N`) that names it.
//! - [`plan`]: CQL (parsed and validated by the `cql` crate) onto the search crate's
//!   [`search::structured::Criterion`]; the indexes and relations this server answers.
//! - [`schema`]: the record schemas, `marcxml` and `dc` (the Library of Congress MARC to
//!   Dublin Core crosswalk in `catalog::dublin_core`).
//! - [`response`]: the responses and diagnostics, in each version's namespaces and order.
//!
//! ```
//! use sru::{respond, Catalog, Limits, ServerInfo};
//! use search::structured::{Criterion, Found, ScanTerm};
//! use search::query::SearchField;
//!
//! struct Empty;
//! impl Catalog for Empty {
//!     type Error = std::convert::Infallible;
//!     fn find(&self, _: &Criterion, _: usize, _: usize) -> Result<Found, Self::Error> {
//!         Ok(Found { total: 0, record_ids: vec![] })
//!     }
//!     fn scan(&self, _: SearchField, _: &str, _: usize, _: usize) -> Result<Vec<ScanTerm>, Self::Error> {
//!         Ok(vec![])
//!     }
//!     fn record(&self, _: i64) -> Result<Option<marc::Record>, Self::Error> { Ok(None) }
//! }
//! let params = vec![("version".to_string(), "1.2".to_string()), ("operation".into(), "searchRetrieve".into()),
//!                   ("query".into(), "dc.format = book".into())];
//! let info = ServerInfo { host: "localhost".into(), port: 80, database: "sru".into(), title: "Library".into(),
//!                         description: String::new(), default_records: 10, max_records: 100 };
//! let xml = respond(&params, &Limits::default(), &info, &Empty).unwrap();
//! assert!(xml.contains("<diag:uri>info:srw/diagnostic/1/16</diag:uri>"));
//! ```

pub mod plan;
pub mod request;
pub mod response;
pub mod schema;

use cql::{Diagnostic, DiagnosticKind};
use search::query::SearchField;
use search::structured::{Criterion, Found, ScanTerm};

pub use request::{parse_request, Escaping, Limits, Operation, Request, Version};
pub use response::{RecordOut, ServerInfo, TermOut};
pub use schema::RecordSchema;

/// What SRU needs from the catalog: search, list terms, fetch records.
pub trait Catalog {
    type Error;
    /// The records matching `criterion`: the total and `limit` ids from `offset`, in a stable
    /// order (the same query pages the same way).
    fn find(&self, criterion: &Criterion, offset: usize, limit: usize) -> Result<Found, Self::Error>;
    /// Up to `count` terms of `field` in index order, the first `before` of them before `from`.
    fn scan(&self, field: SearchField, from: &str, before: usize, count: usize) -> Result<Vec<ScanTerm>, Self::Error>;
    /// The record with this id; `None` when it has gone (deleted since the search).
    fn record(&self, id: i64) -> Result<Option<marc::Record>, Self::Error>;
}

/// Answers one SRU request: the response XML (diagnostics included), or the catalog's error
/// when the catalog itself failed (the edge answers that with a general system error).
pub fn respond<C: Catalog>(
    params: &[(String, String)],
    limits: &Limits,
    info: &ServerInfo,
    catalog: &C,
) -> Result<String, C::Error> {
    let request = match parse_request(params, limits) {
        Ok(r) => r,
        Err(refusal) => return Ok(response::refusal(&refusal)),
    };
    let version = request.version;
    match request.operation {
        Operation::Explain { escaping, stylesheet } => {
            Ok(response::explain(version, escaping, stylesheet.as_deref(), info, &plan::indexes()))
        }
        Operation::SearchRetrieve(sr) => {
            let criterion = match plan::plan(&sr.query) {
                Ok(c) => c,
                Err(d) => return Ok(response::search_retrieve(version, &sr, 0, &[], &[d])),
            };
            let offset = usize::try_from(sr.start_record - 1).unwrap_or(usize::MAX);
            let limit = usize::try_from(sr.maximum_records).unwrap_or(usize::MAX);
            let found = catalog.find(&criterion, offset, limit)?;
            let total = found.total as u64;
            if let Err(d) = response::check_start(&sr, total) {
                return Ok(response::search_retrieve(version, &sr, total, &[], &[d]));
            }
            let mut records = Vec::with_capacity(found.record_ids.len());
            for id in found.record_ids {
                records.push(match catalog.record(id)? {
                    Some(record) => RecordOut::Data(sr.record_schema.render(&record)),
                    None => RecordOut::Surrogate(Diagnostic::new(
                        DiagnosticKind::RecordTemporarilyUnavailable,
                        format!("record {id} was deleted"),
                    )),
                });
            }
            Ok(response::search_retrieve(version, &sr, total, &records, &[]))
        }
        Operation::Scan(scan) => {
            let plan = match plan::plan_scan(&scan.scan_clause) {
                Ok(p) => p,
                Err(d) => return Ok(response::scan(version, &scan, &[], &[d])),
            };
            let count = usize::try_from(scan.maximum_terms).unwrap_or(usize::MAX);
            // Position 0 puts the scan term just before the list: nothing before it, and the
            // term itself left out when the index holds it.
            let terms = if scan.response_position == 0 {
                let key = search::structured::scan_key(plan.field, &plan.from);
                let mut terms = catalog.scan(plan.field, &plan.from, 0, count + 1)?;
                if terms.first().is_some_and(|t| t.term == key) {
                    terms.remove(0);
                }
                terms.truncate(count);
                terms
            } else {
                let before = usize::try_from(scan.response_position - 1).unwrap_or(usize::MAX);
                catalog.scan(plan.field, &plan.from, before, count)?
            };
            let terms: Vec<TermOut> =
                terms.into_iter().map(|t| TermOut { value: t.term, records: t.records }).collect();
            Ok(response::scan(version, &scan, &terms, &[]))
        }
    }
}

/// The answer when a request cannot be served at all (the catalog failed, the server has no
/// index, the parameters do not decode): `diagnostic` as the response of the operation the
/// parameters ask for, in their version.
pub fn failure(params: &[(String, String)], diagnostic: Diagnostic) -> String {
    let (version, operation, stylesheet) = match parse_request(params, &Limits::default()) {
        Ok(r) => {
            let (operation, stylesheet) = match r.operation {
                Operation::Explain { stylesheet, .. } => (request::OperationName::Explain, stylesheet),
                Operation::SearchRetrieve(s) => (request::OperationName::SearchRetrieve, s.stylesheet),
                Operation::Scan(s) => (request::OperationName::Scan, s.stylesheet),
            };
            (r.version, operation, stylesheet)
        }
        Err(refusal) => (refusal.version, refusal.operation, refusal.stylesheet),
    };
    response::refusal(&request::Refusal { version, operation, diagnostic, stylesheet })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
mod tests {
    use super::*;
    use marc::{DataField, Leader, Record, Tag};
    use proptest::prelude::*;

    /// Records 1..=n titled "Title i"; every criterion finds all of them, in id order, except
    /// `rec.id`, which finds that one. Record 3 has gone (deleted after indexing).
    struct Memory {
        n: i64,
    }

    impl Catalog for Memory {
        type Error = String;
        fn find(&self, criterion: &Criterion, offset: usize, limit: usize) -> Result<Found, String> {
            let ids: Vec<i64> = match criterion {
                Criterion::RecordId(id) => (1..=self.n).filter(|i| i == id).collect(),
                _ => (1..=self.n).collect(),
            };
            Ok(Found { total: ids.len(), record_ids: ids.into_iter().skip(offset).take(limit).collect() })
        }
        fn scan(&self, _: SearchField, from: &str, before: usize, count: usize) -> Result<Vec<ScanTerm>, String> {
            let all: Vec<String> = ["apple", "banana", "cherry", "damson", "elder"].map(String::from).to_vec();
            let at = all.iter().position(|t| t.as_str() >= from).unwrap_or(all.len());
            let first = at.saturating_sub(before);
            Ok(all[first..].iter().take(count).map(|t| ScanTerm { term: t.clone(), records: t.len() as u64 }).collect())
        }
        fn record(&self, id: i64) -> Result<Option<Record>, String> {
            if id == 3 {
                return Ok(None);
            }
            let mut record = Record::new(Leader::new_bibliographic());
            let tag = Tag::parse("245").map_err(|e| format!("{e:?}"))?;
            record.push_data(DataField::new(tag, '0', '0').with('a', format!("Title {id} <&>")));
            Ok(Some(record))
        }
    }

    fn info() -> ServerInfo {
        ServerInfo {
            host: "127.0.0.1".into(),
            port: 8080,
            database: "sru".into(),
            title: "Riverton & Co".into(),
            description: "test".into(),
            default_records: 10,
            max_records: 100,
        }
    }

    fn ask(n: i64, pairs: &[(&str, &str)]) -> String {
        let params: Vec<(String, String)> = pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        respond(&params, &Limits::default(), &info(), &Memory { n }).unwrap()
    }

    fn between<'a>(xml: &'a str, open: &str, close: &str) -> Vec<&'a str> {
        xml.split(open).skip(1).map(|p| &p[..p.find(close).unwrap_or(p.len())]).collect()
    }

    #[test]
    fn pages_number_their_records_and_point_to_the_next() {
        let v12 = [("version", "1.2"), ("operation", "searchRetrieve"), ("query", "cql.allRecords = 1")];
        let page = |start: &'static str, max: &'static str| {
            let mut p = v12.to_vec();
            p.extend([("startRecord", start), ("maximumRecords", max)]);
            ask(25, &p)
        };
        let first = page("1", "10");
        assert!(first.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<zs:searchRetrieveResponse xmlns:zs=\"http://www.loc.gov/zing/srw/\"><zs:version>1.2</zs:version><zs:numberOfRecords>25</zs:numberOfRecords><zs:records>"), "{first}");
        assert_eq!(between(&first, "<zs:recordPosition>", "<"), (1..=10).map(|i| i.to_string()).collect::<Vec<_>>());
        assert_eq!(between(&first, "<zs:nextRecordPosition>", "<"), ["11"]);
        // Record order inside a record: schema, packing, data, position.
        let record = between(&first, "<zs:record>", "</zs:record>")[0];
        let order: Vec<usize> = ["<zs:recordSchema>", "<zs:recordPacking>", "<zs:recordData>", "<zs:recordPosition>"]
            .iter()
            .map(|e| record.find(e).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{record}");
        assert!(record.contains("Title 1 &lt;&amp;&gt;"));
        // The deleted record stands as a surrogate diagnostic in its place.
        assert!(first.contains("<zs:recordSchema>info:srw/schema/1/diagnostics-v1.1</zs:recordSchema>"));
        assert!(first.contains("<diag:uri>info:srw/diagnostic/1/64</diag:uri>"));
        let last = page("21", "10");
        assert_eq!(between(&last, "<zs:recordPosition>", "<"), ["21", "22", "23", "24", "25"]);
        assert!(!last.contains("nextRecordPosition"));
        let exact_end = page("16", "10");
        assert!(!exact_end.contains("nextRecordPosition"), "{exact_end}");
        let past = page("26", "10");
        assert!(past.contains("<zs:numberOfRecords>25</zs:numberOfRecords>"));
        assert_eq!(between(&past, "<diag:uri>", "<"), ["info:srw/diagnostic/1/61"]);
        let count_only = page("1", "0");
        assert!(!count_only.contains("<zs:records>") && !count_only.contains("nextRecordPosition"), "{count_only}");
        assert!(!ask(0, &v12).contains("diagnostic"), "an empty result from position 1 is no error");
    }

    #[test]
    fn version_2_0_namespaces_and_elements() {
        let xml =
            ask(3, &[("query", "rec.id = 2"), ("recordXMLEscaping", "string"), ("stylesheet", "/s.xsl?a=1&b=\"2\"")]);
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<?xml-stylesheet type=\"text/xsl\" href=\"/s.xsl?a=1&amp;b=&quot;2&quot;\"?>\n<sru:searchRetrieveResponse xmlns:sru=\"http://docs.oasis-open.org/ns/search-ws/sruResponse\"><sru:version>2.0</sru:version><sru:numberOfRecords>1</sru:numberOfRecords>"), "{xml}");
        assert!(xml.contains("<sru:recordXMLEscaping>string</sru:recordXMLEscaping><sru:recordData>&lt;record xmlns=\"http://www.loc.gov/MARC21/slim\"&gt;"), "{xml}");
        assert!(xml.ends_with("<sru:resultCountPrecision>info:srw/vocabulary/resultCountPrecision/1/exact</sru:resultCountPrecision></sru:searchRetrieveResponse>\n"), "{xml}");
        let refused = ask(3, &[("query", "dc.format = x")]);
        assert!(refused.contains("<sru:diagnostics><diag:diagnostic xmlns:diag=\"http://docs.oasis-open.org/ns/search-ws/diagnostic\"><diag:uri>info:srw/diagnostic/1/16</diag:uri><diag:details>dc.format</diag:details><diag:message>Unsupported index</diag:message></diag:diagnostic></sru:diagnostics>"), "{refused}");
        let dc = ask(3, &[("query", "rec.id = 1"), ("recordSchema", "info:srw/schema/1/dc-v1.1")]);
        assert!(dc.contains("<sru:recordSchema>info:srw/schema/1/dc-v1.1</sru:recordSchema><sru:recordXMLEscaping>xml</sru:recordXMLEscaping><sru:recordData><srw_dc:dc xmlns:srw_dc=\"info:srw/schema/1/dc-schema\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:title>Title 1 &lt;&amp;&gt;</dc:title>"), "{dc}");
    }

    #[test]
    fn scan_positions() {
        let scan = |version: &'static str, from: &'static str, position: &'static str, max: &'static str| {
            let clause = format!("dc.title = {from}");
            let params: Vec<(String, String)> = [
                ("version", version),
                ("operation", "scan"),
                ("scanClause", clause.as_str()),
                ("responsePosition", position),
                ("maximumTerms", max),
            ]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
            respond(&params, &Limits::default(), &info(), &Memory { n: 1 }).unwrap()
        };
        let first = scan("1.2", "banana", "1", "3");
        assert!(first.contains("<zs:scanResponse xmlns:zs=\"http://www.loc.gov/zing/srw/\"><zs:version>1.2</zs:version><zs:terms><zs:term><zs:value>banana</zs:value><zs:numberOfRecords>6</zs:numberOfRecords></zs:term>"), "{first}");
        assert_eq!(between(&first, "<zs:value>", "<"), ["banana", "cherry", "damson"]);
        assert_eq!(between(&scan("1.2", "cherry", "2", "3"), "<zs:value>", "<"), ["banana", "cherry", "damson"]);
        assert_eq!(between(&scan("1.2", "cherry", "0", "2"), "<zs:value>", "<"), ["damson", "elder"]);
        let v2 = scan("2.0", "cherry", "1", "2");
        assert!(
            v2.contains("<scan:scanResponse xmlns:scan=\"http://docs.oasis-open.org/ns/search-ws/scan\"><scan:terms>"),
            "{v2}"
        );
        assert!(scan("1.2", "cherry", "9", "2").contains("info:srw/diagnostic/1/120"));
        assert!(scan("2.0", "cher*", "1", "2").contains("info:srw/diagnostic/1/28"));
    }

    #[test]
    fn explain_lists_what_is_supported() {
        let xml = ask(0, &[("version", "1.2"), ("operation", "explain")]);
        assert!(xml.contains("<zs:explainResponse xmlns:zs=\"http://www.loc.gov/zing/srw/\"><zs:version>1.2</zs:version><zs:record><zs:recordSchema>http://explain.z3950.org/dtd/2.0/</zs:recordSchema><zs:recordPacking>xml</zs:recordPacking>"), "{xml}");
        assert!(xml.contains("<title lang=\"en\" primary=\"true\">Riverton &amp; Co</title>"));
        assert!(xml.contains("<host>127.0.0.1</host><port>8080</port><database>sru</database>"));
        for index in plan::indexes() {
            assert!(xml.contains(&format!("<name set=\"{}\">{}</name>", index.set, index.name)), "{}", index.name);
        }
        assert!(xml.contains("<set name=\"bath\" identifier=\"http://zing.z3950.org/cql/bath/2.0/\"/>"));
        assert!(xml.contains("<setting type=\"maximumRecords\">100</setting>"));
        assert!(!xml.contains("<zs:recordPosition>"), "explain's record has no position");
    }

    #[test]
    fn failures_answer_in_the_operations_response() {
        let params = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
        };
        let d = Diagnostic::new(DiagnosticKind::GeneralSystemError, "disk on fire");
        let sr = failure(&params(&[("version", "1.2"), ("operation", "searchRetrieve"), ("query", "a")]), d.clone());
        assert!(sr.contains("<zs:searchRetrieveResponse") && sr.contains("<zs:numberOfRecords>0</zs:numberOfRecords>"));
        assert!(sr.contains("<diag:uri>info:srw/diagnostic/1/1</diag:uri><diag:details>disk on fire</diag:details>"));
        assert!(failure(&params(&[("scanClause", "a")]), d.clone()).contains("<scan:scanResponse"));
        assert!(failure(&[], d).contains("<sru:explainResponse"));
    }

    proptest! {
        /// No request, however garbled, panics or escapes well-formedness basics.
        #[test]
        fn no_request_panics(
            names in proptest::collection::vec(prop_oneof![
                Just("version".to_string()), Just("operation".to_string()), Just("query".to_string()),
                Just("startRecord".to_string()), Just("maximumRecords".to_string()), Just("recordSchema".to_string()),
                Just("scanClause".to_string()), Just("responsePosition".to_string()), Just("maximumTerms".to_string()),
                Just("recordPacking".to_string()), Just("stylesheet".to_string()), "\\PC{0,6}"], 0..6),
            values in proptest::collection::vec("\\PC{0,24}", 6),
        ) {
            let params: Vec<(String, String)> = names.into_iter().zip(values).collect();
            let xml = respond(&params, &Limits::default(), &info(), &Memory { n: 12 }).unwrap();
            prop_assert!(xml.starts_with("<?xml"));
            // Characters XML forbids never reach the response.
            prop_assert!(!xml.contains('\u{0}'), "a NUL in the response");
        }

        #[test]
        fn any_query_string_gets_an_answer(query in "\\PC{0,60}") {
            let params = vec![("version".to_string(), "1.2".to_string()), ("operation".to_string(), "searchRetrieve".to_string()), ("query".to_string(), query)];
            let xml = respond(&params, &Limits::default(), &info(), &Memory { n: 12 }).unwrap();
            prop_assert!(xml.contains("<zs:numberOfRecords>"));
        }
    }
}
