//! Reading an SRU request from its parameters (a GET query string or a POSTed form): which
//! version and operation, and each operation's parameters checked, so that every bad request
//! becomes the diagnostic that names the problem, answered in the version the client speaks.

use cql::{Diagnostic, DiagnosticKind as K};

use crate::schema::RecordSchema;

/// The SRU versions this server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// SRU 1.2 (Library of Congress, `http://www.loc.gov/zing/srw/`).
    V1_2,
    /// SRU 2.0 (OASIS searchRetrieve 1.0, `http://docs.oasis-open.org/ns/search-ws/...`).
    V2_0,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V1_2 => "1.2",
            Version::V2_0 => "2.0",
        }
    }
}

/// How a record travels inside `recordData`: as XML elements, or escaped as a string
/// (1.2's `recordPacking`, 2.0's `recordXMLEscaping`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escaping {
    Xml,
    String,
}

impl Escaping {
    pub fn as_str(self) -> &'static str {
        match self {
            Escaping::Xml => "xml",
            Escaping::String => "string",
        }
    }
}

/// What the server allows a client to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Records in a response when the request does not say (`maximumRecords` absent).
    pub default_records: u64,
    /// The most records one response carries; a larger `maximumRecords` gets this many.
    pub max_records: u64,
    /// Terms in a scan response when the request does not say.
    pub default_terms: u64,
    /// The most terms one scan response lists; a larger `maximumTerms` gets this many.
    pub max_terms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { default_records: 10, max_records: 100, default_terms: 20, max_terms: 100 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRetrieve {
    /// The CQL as sent.
    pub query: String,
    /// 1-based position of the first record to return.
    pub start_record: u64,
    /// How many records to return (already capped at [`Limits::max_records`]).
    pub maximum_records: u64,
    pub record_schema: RecordSchema,
    pub escaping: Escaping,
    pub stylesheet: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// The CQL `index relation term` to scan from, as sent.
    pub scan_clause: String,
    /// Where the scan term stands in the list: 1 is first, 0 just before the list.
    pub response_position: u64,
    /// How many terms to list (already capped at [`Limits::max_terms`]).
    pub maximum_terms: u64,
    pub stylesheet: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    Explain { escaping: Escaping, stylesheet: Option<String> },
    SearchRetrieve(SearchRetrieve),
    Scan(Scan),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub version: Version,
    pub operation: Operation,
}

/// A request that cannot be answered: the diagnostic, in the version to answer with and as the
/// operation's response when the operation is known (an SRU client reads a diagnostic inside
/// the response it asked for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub version: Version,
    pub operation: OperationName,
    pub diagnostic: Diagnostic,
    pub stylesheet: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationName {
    Explain,
    SearchRetrieve,
    Scan,
}

impl OperationName {
    pub fn as_str(self) -> &'static str {
        match self {
            OperationName::Explain => "explain",
            OperationName::SearchRetrieve => "searchRetrieve",
            OperationName::Scan => "scan",
        }
    }
}

/// Parameters every operation takes; `x-` extensions are ignored, as SRU allows.
const COMMON: &[&str] = &["operation", "version", "stylesheet", "recordPacking", "recordXMLEscaping", "httpAccept"];
const SEARCH_RETRIEVE: &[&str] =
    &["query", "queryType", "startRecord", "maximumRecords", "recordSchema", "resultSetTTL", "renderedBy"];
const SCAN: &[&str] = &["scanClause", "responsePosition", "maximumTerms"];

/// Reads a request. `params` are the decoded name/value pairs in the order sent.
pub fn parse_request(params: &[(String, String)], limits: &Limits) -> Result<Request, Box<Refusal>> {
    let get = |name: &str| params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let stylesheet = get("stylesheet").map(str::to_string);
    let requested_version = get("version");
    // A client that names a version below 2.0 is answered in 1.2 even when refused; anyone
    // else (no version, 2.0, or something newer) in 2.0.
    let version = match requested_version {
        Some(v) if v.trim().starts_with('1') => Version::V1_2,
        _ => Version::V2_0,
    };
    let operation_name = match get("operation") {
        Some("explain") => Some(OperationName::Explain),
        Some("searchRetrieve") => Some(OperationName::SearchRetrieve),
        Some("scan") => Some(OperationName::Scan),
        Some(_) => None,
        // SRU 2.0 reads the operation from the parameters; 1.2 requires it, but a request
        // without one is still best answered as an explain.
        None if get("query").is_some() => Some(OperationName::SearchRetrieve),
        None if get("scanClause").is_some() => Some(OperationName::Scan),
        None => Some(OperationName::Explain),
    };
    let refuse = |operation: OperationName, diagnostic: Diagnostic| {
        Box::new(Refusal { version, operation, diagnostic, stylesheet: stylesheet.clone() })
    };
    let Some(operation) = operation_name else {
        let name = get("operation").unwrap_or_default();
        return Err(refuse(OperationName::Explain, Diagnostic::new(K::UnsupportedOperation, name)));
    };
    // Without a version the request is read as 2.0, where the parameter is optional. Details of
    // diagnostic 5 are the highest version supported.
    match requested_version.map(str::trim) {
        Some("1.2") | Some("2.0") | None => {}
        Some(_) => return Err(refuse(operation, Diagnostic::new(K::UnsupportedVersion, "2.0"))),
    }
    for (i, (name, _)) in params.iter().enumerate() {
        if params[..i].iter().any(|(n, _)| n == name) {
            return Err(refuse(
                operation,
                Diagnostic::new(K::UnsupportedParameterValue, format!("{name} is repeated")),
            ));
        }
        let allowed = match operation {
            OperationName::Explain => &[][..],
            OperationName::SearchRetrieve => SEARCH_RETRIEVE,
            OperationName::Scan => SCAN,
        };
        let known = COMMON.contains(&name.as_str()) || allowed.contains(&name.as_str());
        if !known && !name.starts_with("x-") {
            return Err(refuse(operation, Diagnostic::new(K::UnsupportedParameter, name.clone())));
        }
    }
    let escaping =
        escaping(version, get("recordPacking"), get("recordXMLEscaping")).map_err(|d| refuse(operation, d))?;
    let operation = match operation {
        OperationName::Explain => Operation::Explain { escaping, stylesheet },
        OperationName::SearchRetrieve => {
            let read = || -> Result<SearchRetrieve, Diagnostic> {
                let query = get("query").ok_or_else(|| Diagnostic::new(K::MandatoryParameterNotSupplied, "query"))?;
                if let Some(kind) = get("queryType") {
                    if kind != "cql" {
                        return Err(Diagnostic::new(K::UnsupportedParameterValue, format!("queryType {kind}")));
                    }
                }
                let start_record = number(get("startRecord"), "startRecord", 1)?;
                if start_record == 0 {
                    return Err(Diagnostic::new(K::UnsupportedParameterValue, "startRecord must be 1 or more"));
                }
                let maximum_records = number(get("maximumRecords"), "maximumRecords", limits.default_records)?;
                let record_schema = match get("recordSchema") {
                    None | Some("") => RecordSchema::MarcXml,
                    Some(name) => RecordSchema::parse(name)
                        .ok_or_else(|| Diagnostic::new(K::UnknownSchemaForRetrieval, name.to_string()))?,
                };
                Ok(SearchRetrieve {
                    query: query.to_string(),
                    start_record,
                    maximum_records: maximum_records.min(limits.max_records),
                    record_schema,
                    escaping,
                    stylesheet: stylesheet.clone(),
                })
            };
            Operation::SearchRetrieve(read().map_err(|d| refuse(operation, d))?)
        }
        OperationName::Scan => {
            let read = || -> Result<Scan, Diagnostic> {
                let scan_clause =
                    get("scanClause").ok_or_else(|| Diagnostic::new(K::MandatoryParameterNotSupplied, "scanClause"))?;
                let response_position = number(get("responsePosition"), "responsePosition", 1)?;
                let maximum_terms = number(get("maximumTerms"), "maximumTerms", limits.default_terms)?;
                if maximum_terms == 0 {
                    return Err(Diagnostic::new(K::UnsupportedParameterValue, "maximumTerms must be 1 or more"));
                }
                let maximum_terms = maximum_terms.min(limits.max_terms);
                // The scan term may stand anywhere in the list or just after it, no further.
                if response_position > maximum_terms + 1 {
                    return Err(Diagnostic::new(K::ResponsePositionOutOfRange, response_position.to_string()));
                }
                Ok(Scan {
                    scan_clause: scan_clause.to_string(),
                    response_position,
                    maximum_terms,
                    stylesheet: stylesheet.clone(),
                })
            };
            Operation::Scan(read().map_err(|d| refuse(operation, d))?)
        }
    };
    Ok(Request { version, operation })
}

fn number(value: Option<&str>, name: &str, default: u64) -> Result<u64, Diagnostic> {
    match value {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .map_err(|_| Diagnostic::new(K::UnsupportedParameterValue, format!("{name} {v:?} is not a whole number"))),
    }
}

/// 1.2: `recordPacking` is `xml` or `string`. 2.0: that became `recordXMLEscaping`, and
/// `recordPacking` says `packed` (the record whole, which is all this server sends) or
/// `unpacked`.
fn escaping(version: Version, packing: Option<&str>, xml_escaping: Option<&str>) -> Result<Escaping, Diagnostic> {
    let read = |value: &str| match value {
        "xml" => Ok(Escaping::Xml),
        "string" => Ok(Escaping::String),
        other => Err(Diagnostic::new(K::UnsupportedRecordPacking, other.to_string())),
    };
    match version {
        Version::V1_2 => match (packing, xml_escaping) {
            (_, Some(_)) => Err(Diagnostic::new(K::UnsupportedParameter, "recordXMLEscaping")),
            (Some(p), None) => read(p),
            (None, None) => Ok(Escaping::Xml),
        },
        Version::V2_0 => {
            if let Some(p) = packing {
                if p != "packed" {
                    return Err(Diagnostic::new(K::UnsupportedRecordPacking, p.to_string()));
                }
            }
            xml_escaping.map_or(Ok(Escaping::Xml), read)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    fn parse(pairs: &[(&str, &str)]) -> Result<Request, Box<Refusal>> {
        parse_request(&params(pairs), &Limits::default())
    }

    fn refused(pairs: &[(&str, &str)]) -> (Version, OperationName, u16, Option<String>) {
        let r = parse(pairs).expect_err("refused");
        (r.version, r.operation, r.diagnostic.number(), r.diagnostic.details)
    }

    #[test]
    fn search_retrieve_with_defaults_and_limits() {
        let r = parse(&[("operation", "searchRetrieve"), ("version", "1.2"), ("query", "dc.title = whale")]).unwrap();
        assert_eq!(r.version, Version::V1_2);
        let Operation::SearchRetrieve(s) = r.operation else { panic!("{r:?}") };
        assert_eq!((s.start_record, s.maximum_records), (1, 10));
        assert_eq!((s.record_schema, s.escaping), (RecordSchema::MarcXml, Escaping::Xml));
        let r = parse(&[("query", "whale"), ("maximumRecords", "5000"), ("startRecord", "11"), ("recordSchema", "dc")])
            .unwrap();
        assert_eq!(r.version, Version::V2_0);
        let Operation::SearchRetrieve(s) = r.operation else { panic!() };
        assert_eq!((s.start_record, s.maximum_records, s.record_schema), (11, 100, RecordSchema::DublinCore));
        let r =
            parse(&[("query", "whale"), ("recordSchema", "info:srw/schema/1/marcxml-v1.1"), ("maximumRecords", "0")])
                .unwrap();
        let Operation::SearchRetrieve(s) = r.operation else { panic!() };
        assert_eq!((s.maximum_records, s.record_schema), (0, RecordSchema::MarcXml));
    }

    #[test]
    fn operation_from_parameters_in_2_0() {
        assert!(matches!(parse(&[]).unwrap().operation, Operation::Explain { .. }));
        assert!(matches!(parse(&[("scanClause", "dc.title=a")]).unwrap().operation, Operation::Scan(_)));
        assert!(matches!(
            parse(&[("version", "2.0"), ("query", "a")]).unwrap().operation,
            Operation::SearchRetrieve(_)
        ));
    }

    #[test]
    fn every_bad_parameter_is_its_diagnostic() {
        use OperationName::*;
        let v12 = [("operation", "searchRetrieve"), ("version", "1.2")];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut p = v12.to_vec();
            p.extend_from_slice(extra);
            p
        };
        assert_eq!(
            refused(&[("operation", "update"), ("version", "1.2")]),
            (Version::V1_2, Explain, 4, Some("update".into()))
        );
        assert_eq!(
            refused(&[("operation", "explain"), ("version", "1.1")]),
            (Version::V1_2, Explain, 5, Some("2.0".into()))
        );
        assert_eq!(refused(&[("operation", "explain"), ("version", "3.0")]).2, 5);
        assert_eq!(refused(&v12), (Version::V1_2, SearchRetrieve, 7, Some("query".into())));
        assert_eq!(refused(&with(&[("query", "a"), ("startRecord", "0")])).2, 6);
        assert_eq!(refused(&with(&[("query", "a"), ("startRecord", "x")])).2, 6);
        assert_eq!(refused(&with(&[("query", "a"), ("startRecord", "-3")])).2, 6);
        assert_eq!(refused(&with(&[("query", "a"), ("maximumRecords", "many")])).2, 6);
        assert_eq!(
            refused(&with(&[("query", "a"), ("recordSchema", "mods")])),
            (Version::V1_2, SearchRetrieve, 66, Some("mods".into()))
        );
        assert_eq!(refused(&with(&[("query", "a"), ("recordPacking", "json")])).2, 71);
        assert_eq!(refused(&with(&[("query", "a"), ("recordXMLEscaping", "xml")])).2, 8);
        assert_eq!(
            refused(&with(&[("query", "a"), ("sortKeys", "title")])),
            (Version::V1_2, SearchRetrieve, 8, Some("sortKeys".into()))
        );
        assert_eq!(refused(&with(&[("query", "a"), ("query", "b")])).2, 6);
        assert_eq!(refused(&[("query", "a"), ("queryType", "pqf")]).2, 6);
        assert_eq!(refused(&[("query", "a"), ("recordPacking", "unpacked")]).2, 71);
        assert_eq!(refused(&[("query", "a"), ("recordXMLEscaping", "html")]).2, 71);
        // Extensions are ignored; 2.0's escaping and packing are read.
        let r = parse(&with(&[("query", "a"), ("x-debug", "1"), ("recordPacking", "string")])).unwrap();
        assert!(matches!(
            r.operation,
            Operation::SearchRetrieve(super::SearchRetrieve { escaping: Escaping::String, .. })
        ));
        let r = parse(&[("query", "a"), ("recordPacking", "packed"), ("recordXMLEscaping", "string")]).unwrap();
        assert!(matches!(
            r.operation,
            Operation::SearchRetrieve(super::SearchRetrieve { escaping: Escaping::String, .. })
        ));
    }

    #[test]
    fn scan_parameters() {
        let r = parse(&[("operation", "scan"), ("version", "1.2"), ("scanClause", "dc.title = whale")]).unwrap();
        let Operation::Scan(s) = r.operation else { panic!() };
        assert_eq!((s.response_position, s.maximum_terms), (1, 20));
        let s = |extra: &[(&'static str, &'static str)]| {
            let mut p = vec![("operation", "scan"), ("version", "1.2"), ("scanClause", "dc.title = whale")];
            p.extend_from_slice(extra);
            p
        };
        assert_eq!(refused(&[("operation", "scan"), ("version", "1.2")]).2, 7);
        assert_eq!(refused(&s(&[("maximumTerms", "0")])).2, 6);
        assert_eq!(refused(&s(&[("responsePosition", "-1")])).2, 6);
        assert_eq!(refused(&s(&[("responsePosition", "12"), ("maximumTerms", "10")])).2, 120);
        let r = parse(&s(&[("responsePosition", "11"), ("maximumTerms", "10")])).unwrap();
        assert!(matches!(r.operation, Operation::Scan(Scan { response_position: 11, maximum_terms: 10, .. })));
        assert_eq!(refused(&s(&[("query", "a")])).2, 8);
    }
}
