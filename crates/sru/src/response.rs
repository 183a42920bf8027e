//! The responses as XML, in the namespaces and element order of the version asked for.
//!
//! | | SRU 1.2 | SRU 2.0 |
//! |---|---|---|
//! | response namespace | `http://www.loc.gov/zing/srw/` (all operations) | `http://docs.oasis-open.org/ns/search-ws/sruResponse`; scan: `.../search-ws/scan` |
//! | diagnostic namespace | `http://www.loc.gov/zing/srw/diagnostic/` | `http://docs.oasis-open.org/ns/search-ws/diagnostic` |
//! | record escaping element | `recordPacking` (`xml`/`string`) | `recordXMLEscaping` (`xml`/`string`) |
//! | extra | | `resultCountPrecision` after the diagnostics |
//!
//! Every value that came from the request or a record is escaped, and characters XML 1.0
//! forbids become U+FFFD, so a response is always well-formed.

use cql::Diagnostic;

use crate::plan::IndexInfo;
use crate::request::{Escaping, OperationName, Refusal, Scan, SearchRetrieve, Version};
use crate::schema::RecordSchema;

pub const SRW_NAMESPACE: &str = "http://www.loc.gov/zing/srw/";
pub const SRW_DIAGNOSTIC_NAMESPACE: &str = "http://www.loc.gov/zing/srw/diagnostic/";
pub const SRU_RESPONSE_NAMESPACE: &str = "http://docs.oasis-open.org/ns/search-ws/sruResponse";
pub const SRU_SCAN_NAMESPACE: &str = "http://docs.oasis-open.org/ns/search-ws/scan";
pub const SRU_DIAGNOSTIC_NAMESPACE: &str = "http://docs.oasis-open.org/ns/search-ws/diagnostic";
pub const EXPLAIN_NAMESPACE: &str = "http://explain.z3950.org/dtd/2.0/";
/// The schema of a surrogate diagnostic standing in for a record that cannot be sent.
pub const DIAGNOSTIC_SCHEMA: &str = "info:srw/schema/1/diagnostics-v1.1";

/// One record of a searchRetrieve response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOut {
    /// The record in the schema asked for, as an XML element.
    Data(String),
    /// Why this record cannot be sent (64: temporarily unavailable), in its place.
    Surrogate(Diagnostic),
}

/// A start past the end of a result of `total` records is diagnostic 61 (the response still
/// says how many records there are). An empty result may be asked for from position 1.
pub fn check_start(request: &SearchRetrieve, total: u64) -> Result<(), Diagnostic> {
    if request.start_record > total.max(1) {
        return Err(Diagnostic::new(
            cql::DiagnosticKind::FirstRecordPositionOutOfRange,
            request.start_record.to_string(),
        ));
    }
    Ok(())
}

/// Where the next page starts, when there is one.
pub fn next_record_position(request: &SearchRetrieve, returned: usize, total: u64) -> Option<u64> {
    let next = request.start_record + returned as u64;
    (returned > 0 && next <= total).then_some(next)
}

struct Writer {
    out: String,
    version: Version,
    /// The prefix of the response namespace (`zs`, `sru`, `scan`).
    prefix: &'static str,
}

impl Writer {
    fn new(version: Version, stylesheet: Option<&str>) -> Writer {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        if let Some(href) = stylesheet {
            out.push_str("<?xml-stylesheet type=\"text/xsl\" href=\"");
            attribute(&mut out, href);
            out.push_str("\"?>\n");
        }
        let prefix = match version {
            Version::V1_2 => "zs",
            Version::V2_0 => "sru",
        };
        Writer { out, version, prefix }
    }

    fn open_root(&mut self, name: &str, namespace: &str) {
        self.out.push('<');
        self.out.push_str(self.prefix);
        self.out.push(':');
        self.out.push_str(name);
        self.out.push_str(" xmlns:");
        self.out.push_str(self.prefix);
        self.out.push_str("=\"");
        self.out.push_str(namespace);
        self.out.push_str("\">");
    }

    fn open(&mut self, name: &str) {
        self.out.push('<');
        self.out.push_str(self.prefix);
        self.out.push(':');
        self.out.push_str(name);
        self.out.push('>');
    }

    fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(self.prefix);
        self.out.push(':');
        self.out.push_str(name);
        self.out.push('>');
    }

    fn element(&mut self, name: &str, value: &str) {
        self.open(name);
        text(&mut self.out, value);
        self.close(name);
    }

    fn version(&mut self) {
        self.element("version", self.version.as_str());
    }

    fn diagnostics(&mut self, diagnostics: &[Diagnostic]) {
        if diagnostics.is_empty() {
            return;
        }
        self.open("diagnostics");
        for d in diagnostics {
            diagnostic(&mut self.out, self.version, d);
        }
        self.close("diagnostics");
    }

    /// One `record`: schema, escaping, data, position (the order both versions define).
    fn record(&mut self, schema: &str, escaping: Escaping, data: &str, position: Option<u64>) {
        self.open("record");
        self.element("recordSchema", schema);
        let escaping_element = match self.version {
            Version::V1_2 => "recordPacking",
            Version::V2_0 => "recordXMLEscaping",
        };
        self.element(escaping_element, escaping.as_str());
        self.open("recordData");
        match escaping {
            Escaping::Xml => self.out.push_str(data),
            Escaping::String => text(&mut self.out, data),
        }
        self.close("recordData");
        if let Some(p) = position {
            self.element("recordPosition", &p.to_string());
        }
        self.close("record");
    }

    fn finish(mut self, root: &str) -> String {
        self.close(root);
        self.out.push('\n');
        self.out
    }
}

fn response_namespace(version: Version) -> &'static str {
    match version {
        Version::V1_2 => SRW_NAMESPACE,
        Version::V2_0 => SRU_RESPONSE_NAMESPACE,
    }
}

/// A searchRetrieve response: the total, the records of the page (numbered from the request's
/// `startRecord`), the next position when more follow, and non-fatal diagnostics.
pub fn search_retrieve(
    version: Version,
    request: &SearchRetrieve,
    total: u64,
    records: &[RecordOut],
    diagnostics: &[Diagnostic],
) -> String {
    let mut w = Writer::new(version, request.stylesheet.as_deref());
    w.open_root("searchRetrieveResponse", response_namespace(version));
    w.version();
    w.element("numberOfRecords", &total.to_string());
    if !records.is_empty() {
        w.open("records");
        for (i, record) in records.iter().enumerate() {
            let position = Some(request.start_record + i as u64);
            match record {
                RecordOut::Data(xml) => w.record(request.record_schema.uri(), request.escaping, xml, position),
                RecordOut::Surrogate(d) => {
                    let mut xml = String::new();
                    diagnostic(&mut xml, version, d);
                    w.record(DIAGNOSTIC_SCHEMA, request.escaping, &xml, position);
                }
            }
        }
        w.close("records");
    }
    if let Some(next) = next_record_position(request, records.len(), total) {
        w.element("nextRecordPosition", &next.to_string());
    }
    w.diagnostics(diagnostics);
    if version == Version::V2_0 && diagnostics.is_empty() {
        w.element("resultCountPrecision", "info:srw/vocabulary/resultCountPrecision/1/exact");
    }
    w.finish("searchRetrieveResponse")
}

/// One scanned term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermOut {
    pub value: String,
    pub records: u64,
}

/// A scan response: the terms in order with their record counts.
pub fn scan(version: Version, request: &Scan, terms: &[TermOut], diagnostics: &[Diagnostic]) -> String {
    scan_body(Writer::new(version, request.stylesheet.as_deref()), terms, diagnostics)
}

fn scan_body(mut w: Writer, terms: &[TermOut], diagnostics: &[Diagnostic]) -> String {
    let namespace = match w.version {
        Version::V1_2 => SRW_NAMESPACE,
        Version::V2_0 => {
            w.prefix = "scan";
            SRU_SCAN_NAMESPACE
        }
    };
    w.open_root("scanResponse", namespace);
    // 2.0's scan response has no version element: the namespace says it.
    if w.version == Version::V1_2 {
        w.version();
    }
    if !terms.is_empty() {
        w.open("terms");
        for t in terms {
            w.open("term");
            w.element("value", &t.value);
            w.element("numberOfRecords", &t.records.to_string());
            w.close("term");
        }
        w.close("terms");
    }
    w.diagnostics(diagnostics);
    w.finish("scanResponse")
}

/// What the explain record says about where and what this server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    pub host: String,
    pub port: u16,
    /// The database path clients open (`sru` in `http://host:port/sru`).
    pub database: String,
    pub title: String,
    pub description: String,
    pub default_records: u64,
    pub max_records: u64,
}

/// An explain response: the ZeeRex record describing the indexes, relations and record schemas
/// this server really supports.
pub fn explain(
    version: Version,
    escaping: Escaping,
    stylesheet: Option<&str>,
    info: &ServerInfo,
    indexes: &[IndexInfo],
) -> String {
    let mut w = Writer::new(version, stylesheet);
    w.open_root("explainResponse", response_namespace(version));
    w.version();
    let record = zeerex(version, info, indexes);
    w.record(EXPLAIN_NAMESPACE, escaping, &record, None);
    w.finish("explainResponse")
}

fn zeerex(version: Version, info: &ServerInfo, indexes: &[IndexInfo]) -> String {
    let mut out = String::new();
    out.push_str("<explain xmlns=\"");
    out.push_str(EXPLAIN_NAMESPACE);
    out.push_str("\"><serverInfo protocol=\"SRU\" version=\"");
    out.push_str(version.as_str());
    out.push_str("\" transport=\"http\" method=\"GET POST\"><host>");
    text(&mut out, &info.host);
    out.push_str("</host><port>");
    out.push_str(&info.port.to_string());
    out.push_str("</port><database>");
    text(&mut out, &info.database);
    out.push_str("</database></serverInfo><databaseInfo><title lang=\"en\" primary=\"true\">");
    text(&mut out, &info.title);
    out.push_str("</title><description lang=\"en\" primary=\"true\">");
    text(&mut out, &info.description);
    out.push_str("</description></databaseInfo><indexInfo>");
    for (name, uri) in cql::KNOWN_CONTEXT_SETS {
        if indexes.iter().any(|i| i.set == *name) {
            out.push_str(&format!("<set name=\"{name}\" identifier=\"{uri}\"/>"));
        }
    }
    for index in indexes {
        out.push_str(&format!(
            "<index search=\"true\" scan=\"{}\" sort=\"false\"><title lang=\"en\">",
            index.scannable
        ));
        text(&mut out, index.title);
        out.push_str(&format!("</title><map><name set=\"{}\">{}</name></map>", index.set, index.name));
        // Which relations each index answers: ZeeRex puts `supports` in an index's configInfo.
        out.push_str("<configInfo>");
        for relation in &index.relations {
            out.push_str("<supports type=\"relation\">");
            text(&mut out, relation.as_str());
            out.push_str("</supports>");
        }
        out.push_str("</configInfo></index>");
    }
    out.push_str("</indexInfo><schemaInfo>");
    for schema in RecordSchema::ALL {
        out.push_str(&format!(
            "<schema identifier=\"{}\" name=\"{}\" retrieve=\"true\" sort=\"false\"><title lang=\"en\">",
            schema.uri(),
            schema.name()
        ));
        text(&mut out, schema.title());
        out.push_str("</title></schema>");
    }
    out.push_str("</schemaInfo><configInfo>");
    out.push_str(&format!("<default type=\"numberOfRecords\">{}</default>", info.default_records));
    out.push_str(&format!("<default type=\"retrieveSchema\">{}</default>", RecordSchema::MarcXml.name()));
    out.push_str("<default type=\"contextSet\">cql</default><default type=\"index\">cql.serverChoice</default>");
    out.push_str(&format!("<setting type=\"maximumRecords\">{}</setting>", info.max_records));
    for boolean in ["and", "or", "not"] {
        out.push_str(&format!("<supports type=\"booleanModifier\">{boolean}</supports>"));
    }
    out.push_str("<supports type=\"maskingCharacter\">*</supports><supports type=\"maskingCharacter\">?</supports>");
    out.push_str("<supports type=\"emptyTerm\">false</supports>");
    out.push_str("</configInfo></explain>");
    out
}

/// The answer to a request refused before it ran, as the response of its operation.
pub fn refusal(refusal: &Refusal) -> String {
    let diagnostics = std::slice::from_ref(&refusal.diagnostic);
    let mut w = Writer::new(refusal.version, refusal.stylesheet.as_deref());
    match refusal.operation {
        OperationName::Scan => scan_body(w, &[], diagnostics),
        OperationName::SearchRetrieve => {
            w.open_root("searchRetrieveResponse", response_namespace(refusal.version));
            w.version();
            // A refused search has no result: 0 records, as SRU clients expect the element.
            w.element("numberOfRecords", "0");
            w.diagnostics(diagnostics);
            w.finish("searchRetrieveResponse")
        }
        OperationName::Explain => {
            w.open_root("explainResponse", response_namespace(refusal.version));
            w.version();
            w.diagnostics(diagnostics);
            w.finish("explainResponse")
        }
    }
}

/// A diagnostic element in the version's diagnostic namespace.
pub fn diagnostic(out: &mut String, version: Version, d: &Diagnostic) {
    let namespace = match version {
        Version::V1_2 => SRW_DIAGNOSTIC_NAMESPACE,
        Version::V2_0 => SRU_DIAGNOSTIC_NAMESPACE,
    };
    out.push_str("<diag:diagnostic xmlns:diag=\"");
    out.push_str(namespace);
    out.push_str("\"><diag:uri>");
    out.push_str(&d.uri());
    out.push_str("</diag:uri>");
    if let Some(details) = &d.details {
        out.push_str("<diag:details>");
        text(out, details);
        out.push_str("</diag:details>");
    }
    out.push_str("<diag:message>");
    text(out, d.message());
    out.push_str("</diag:message></diag:diagnostic>");
}

fn text(out: &mut String, s: &str) {
    marc::xml::escape_text(out, s);
}

fn attribute(out: &mut String, s: &str) {
    let mut escaped = String::new();
    marc::xml::escape_text(&mut escaped, s);
    out.push_str(&escaped.replace('"', "&quot;"));
}
