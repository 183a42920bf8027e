//! SRU as a client: the searchRetrieve URL for a target, and the reader of its response (SRU
//! 1.1/1.2 in the `http://www.loc.gov/zing/srw/` namespace, 2.0 in
//! `http://docs.oasis-open.org/ns/search-ws/sruResponse`, or none at all). Records come as
//! MARCXML elements (packing `xml`) or as one escaped string; diagnostics become
//! [`CopycatError::Diagnostic`]. Pure: the HTTP request is made in `source.rs`.

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::settings::{Packing, SruVersion};
use crate::{CopycatError, RawRecord};

/// The searchRetrieve request for `cql`, asking for at most `max` records in `schema`.
pub fn search_url(
    base: &str,
    version: SruVersion,
    packing: Packing,
    schema: &str,
    cql: &str,
    max: usize,
) -> Result<reqwest::Url, CopycatError> {
    let max = max.to_string();
    let mut params: Vec<(&str, &str)> = vec![
        ("version", version.as_str()),
        ("operation", "searchRetrieve"),
        ("query", cql),
        ("startRecord", "1"),
        ("maximumRecords", &max),
        ("recordSchema", schema),
    ];
    let packing = match packing {
        Packing::Xml => "xml",
        Packing::String => "string",
    };
    // SRU 2.0 renamed 1.x's recordPacking to recordXMLEscaping (and gave the old name a new
    // meaning: packed or unpacked).
    match version {
        SruVersion::V2_0 => params.push(("recordXMLEscaping", packing)),
        SruVersion::V1_1 | SruVersion::V1_2 => params.push(("recordPacking", packing)),
    }
    reqwest::Url::parse_with_params(base, &params)
        .map_err(|e| CopycatError::Response(format!("cannot build a request from the url {base:?}: {e}")))
}

/// What a searchRetrieve response held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SruResponse {
    /// `numberOfRecords`: every hit, not only the records returned.
    pub hits: u64,
    pub records: Vec<RawRecord>,
}

/// Reads a searchRetrieve response. A non-surrogate diagnostic (one outside any record) is the
/// answer's error; a surrogate diagnostic (in place of one record) leaves that record out and
/// is counted in [`RawRecord::Diagnostic`].
pub fn read_response(body: &[u8]) -> Result<SruResponse, CopycatError> {
    let text = std::str::from_utf8(body)
        .map_err(|e| CopycatError::Response(format!("the response is not UTF-8 (byte {})", e.valid_up_to())))?;
    let mut reader = Reader::from_str(text);
    let bad = |reader: &Reader<&[u8]>, e: &dyn std::fmt::Display| {
        CopycatError::Response(format!(
            "the response is not well-formed XML near byte {}: {e}",
            reader.buffer_position()
        ))
    };
    let mut root_seen = false;
    let mut hits: Option<u64> = None;
    let mut records: Vec<RawRecord> = Vec::new();
    // Inside <record>: its schema, packing and data, and a surrogate diagnostic.
    let mut in_record = false;
    let mut record_schema: Option<String> = None;
    let mut record_data: Option<String> = None;
    let mut in_diagnostic = false;
    let mut diagnostic = DiagnosticParts::default();
    let mut depth_of_records: Option<usize> = None;
    let mut depth = 0usize;
    loop {
        let event = reader.read_event().map_err(|e| bad(&reader, &e))?;
        match event {
            Event::Start(start) => {
                depth += 1;
                let local = start.local_name();
                let local = local.as_ref();
                if !root_seen {
                    root_seen = true;
                    if local != "searchRetrieveResponse" {
                        let name = start.name().as_ref().to_string();
                        return Err(CopycatError::Response(format!(
                            "expected an SRU searchRetrieveResponse, got <{name}>"
                        )));
                    }
                    continue;
                }
                let end = start.to_end().into_owned();
                match local {
                    "numberOfRecords" if !in_record => {
                        let value = inner_text(&mut reader, &end).map_err(|e| bad(&reader, &e))?;
                        depth -= 1;
                        hits = Some(value.trim().parse().map_err(|_| {
                            CopycatError::Response(format!("numberOfRecords {value:?} is not a number"))
                        })?);
                    }
                    "records" if depth_of_records.is_none() => depth_of_records = Some(depth),
                    "record" if depth_of_records == Some(depth - 1) => {
                        in_record = true;
                        record_schema = None;
                        record_data = None;
                    }
                    "recordSchema" if in_record => {
                        record_schema = Some(inner_text(&mut reader, &end).map_err(|e| bad(&reader, &e))?);
                        depth -= 1;
                    }
                    "recordData" if in_record => {
                        let raw = reader.read_text(end.name()).map_err(|e| bad(&reader, &e))?;
                        depth -= 1;
                        record_data = Some(record_data_text(&raw)?);
                    }
                    "diagnostic" => {
                        in_diagnostic = true;
                        diagnostic = DiagnosticParts::default();
                    }
                    "uri" | "details" | "message" if in_diagnostic => {
                        let value = inner_text(&mut reader, &end).map_err(|e| bad(&reader, &e))?;
                        depth -= 1;
                        let slot = match local {
                            "uri" => &mut diagnostic.uri,
                            "details" => &mut diagnostic.details,
                            _ => &mut diagnostic.message,
                        };
                        *slot = Some(value.trim().to_string()).filter(|v| !v.is_empty());
                    }
                    _ => {}
                }
            }
            Event::End(end) => {
                let local = end.local_name();
                match local.as_ref() {
                    "diagnostic" if in_diagnostic => {
                        in_diagnostic = false;
                        let diagnostic = std::mem::take(&mut diagnostic).into_error();
                        if !in_record {
                            return Err(diagnostic);
                        }
                        records.push(RawRecord::Diagnostic(diagnostic.to_string()));
                        // A surrogate diagnostic's recordData held it; it is not a record.
                        record_data = None;
                    }
                    "record" if in_record && depth_of_records == Some(depth - 1) => {
                        in_record = false;
                        if let Some(data) = record_data.take() {
                            records.push(classify(record_schema.take(), data));
                        }
                    }
                    "records" if depth_of_records == Some(depth) => depth_of_records = None,
                    _ => {}
                }
                depth = depth.saturating_sub(1);
            }
            Event::Empty(empty) if !root_seen => {
                let name = empty.name().as_ref().to_string();
                return Err(CopycatError::Response(format!("expected an SRU searchRetrieveResponse, got <{name}/>")));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !root_seen {
        return Err(CopycatError::Response("the response is empty or has no XML element".into()));
    }
    let hits = hits.ok_or_else(|| CopycatError::Response("the response has no numberOfRecords".into()))?;
    Ok(SruResponse { hits, records })
}

/// A record's data as MARCXML text, or a surrogate diagnostic when the target sent one in
/// place of the record (the diagnostic arrives as `recordData` in the diagnostic schema).
fn classify(schema: Option<String>, data: String) -> RawRecord {
    match schema.as_deref() {
        Some("info:srw/schema/1/diagnostics-v1.1") | Some("http://www.loc.gov/zing/srw/diagnostic/") => {
            RawRecord::Diagnostic(format!("the target sent a diagnostic instead of the record: {}", data.trim()))
        }
        _ => RawRecord::MarcXml(data),
    }
}

/// The text content of an element, unescaped (entities and character references).
fn inner_text(reader: &mut Reader<&[u8]>, end: &quick_xml::events::BytesEnd<'_>) -> Result<String, quick_xml::Error> {
    let raw = reader.read_text(end.name())?;
    Ok(unescape_lossy(&raw))
}

fn unescape_lossy(raw: &str) -> String {
    match quick_xml::escape::unescape(raw) {
        Ok(text) => text.into_owned(),
        Err(_) => raw.to_string(),
    }
}

/// `recordData`'s content as the MARCXML text of the record: inline XML as it stands, an
/// escaped string unescaped, a CDATA section unwrapped.
fn record_data_text(raw: &str) -> Result<String, CopycatError> {
    let trimmed = raw.trim();
    if let Some(rest) = trimmed.strip_prefix("<![CDATA[") {
        return Ok(rest.strip_suffix("]]>").unwrap_or(rest).to_string());
    }
    if trimmed.starts_with('<') {
        return Ok(trimmed.to_string());
    }
    quick_xml::escape::unescape(trimmed)
        .map(|t| t.into_owned())
        .map_err(|e| CopycatError::Response(format!("a string-packed record does not unescape: {e}")))
}

#[derive(Debug, Default)]
struct DiagnosticParts {
    uri: Option<String>,
    details: Option<String>,
    message: Option<String>,
}

impl DiagnosticParts {
    fn into_error(self) -> CopycatError {
        let uri = self.uri.unwrap_or_else(|| "(no uri)".to_string());
        let message = self.message.or_else(|| standard_message(&uri).map(str::to_string));
        CopycatError::Diagnostic { uri, message, details: self.details }
    }
}

/// The meaning of the common SRU diagnostics, for a target that sends only the URI.
fn standard_message(uri: &str) -> Option<&'static str> {
    let n: u32 = uri.strip_prefix("info:srw/diagnostic/1/")?.parse().ok()?;
    Some(match n {
        1 => "General system error",
        4 => "Unsupported operation",
        5 => "Unsupported version",
        6 => "Unsupported parameter value",
        7 => "Mandatory parameter not supplied",
        8 => "Unsupported parameter",
        10 => "Query syntax error",
        16 => "Unsupported index",
        19 => "Unsupported relation",
        27 => "Empty term unsupported",
        61 => "First record position out of range",
        66 => "Unknown schema for retrieval",
        71 => "Unsupported record packing",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_carry_each_versions_parameters() {
        let url =
            search_url("http://127.0.0.1:9/sru", SruVersion::V1_2, Packing::Xml, "marcxml", "dc.title all \"a&b\"", 5)
                .expect("url");
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/sru?version=1.2&operation=searchRetrieve&query=dc.title+all+%22a%26b%22\
             &startRecord=1&maximumRecords=5&recordSchema=marcxml&recordPacking=xml"
        );
        let url = search_url("http://h/db", SruVersion::V2_0, Packing::String, "marcxml", "x", 1).expect("url");
        assert!(url.as_str().ends_with("&recordXMLEscaping=string"), "{url}");
        assert!(!url.as_str().contains("recordPacking"), "{url}");
    }

    const MARCXML: &str = "<record xmlns=\"http://www.loc.gov/MARC21/slim\"><leader>00000nam a2200000 a 4500</leader>\
        <controlfield tag=\"001\">42</controlfield><datafield tag=\"245\" ind1=\"0\" ind2=\"0\">\
        <subfield code=\"a\">Fish &amp; chips</subfield></datafield></record>";

    #[test]
    fn inline_and_string_packed_records_read_the_same() {
        let inline = format!(
            "<?xml version=\"1.0\"?><zs:searchRetrieveResponse xmlns:zs=\"http://www.loc.gov/zing/srw/\">\
             <zs:version>1.2</zs:version><zs:numberOfRecords>7</zs:numberOfRecords><zs:records><zs:record>\
             <zs:recordSchema>marcxml</zs:recordSchema><zs:recordPacking>xml</zs:recordPacking>\
             <zs:recordData>{MARCXML}</zs:recordData><zs:recordPosition>1</zs:recordPosition></zs:record>\
             </zs:records></zs:searchRetrieveResponse>"
        );
        let mut escaped = String::new();
        marc::xml::escape_text(&mut escaped, MARCXML);
        let string = format!(
            "<searchRetrieveResponse xmlns=\"http://docs.oasis-open.org/ns/search-ws/sruResponse\">\
             <version>2.0</version><numberOfRecords>7</numberOfRecords><records><record>\
             <recordSchema>marcxml</recordSchema><recordXMLEscaping>string</recordXMLEscaping>\
             <recordData>{escaped}</recordData></record></records></searchRetrieveResponse>"
        );
        for body in [inline, string] {
            let response = read_response(body.as_bytes()).expect("a response");
            assert_eq!(response.hits, 7);
            let [RawRecord::MarcXml(xml)] = &response.records[..] else { panic!("{response:?}") };
            let record = marc::xml::read_one(xml.as_bytes()).expect("MARCXML");
            assert_eq!(record.control("001"), Some("42"));
            assert_eq!(record.subfield_values("245", 'a').collect::<Vec<_>>(), ["Fish & chips"]);
        }
    }

    #[test]
    fn a_diagnostic_names_its_uri_message_and_details() {
        let body = "<zs:searchRetrieveResponse xmlns:zs=\"http://www.loc.gov/zing/srw/\"><zs:version>1.2</zs:version>\
            <zs:numberOfRecords>0</zs:numberOfRecords><zs:diagnostics>\
            <diagnostic xmlns=\"http://www.loc.gov/zing/srw/diagnostic/\"><uri>info:srw/diagnostic/1/16</uri>\
            <details>bath.lccn</details><message>Unsupported index</message></diagnostic>\
            </zs:diagnostics></zs:searchRetrieveResponse>";
        let err = read_response(body.as_bytes()).expect_err("diagnostic");
        assert_eq!(
            err,
            CopycatError::Diagnostic {
                uri: "info:srw/diagnostic/1/16".into(),
                message: Some("Unsupported index".into()),
                details: Some("bath.lccn".into())
            }
        );
        assert_eq!(err.to_string(), "SRU diagnostic info:srw/diagnostic/1/16 (Unsupported index): bath.lccn");
        // Only a URI: the standard message is filled in.
        let bare = body.replace("<message>Unsupported index</message>", "").replace("<details>bath.lccn</details>", "");
        assert_eq!(
            read_response(bare.as_bytes()).expect_err("diagnostic").to_string(),
            "SRU diagnostic info:srw/diagnostic/1/16 (Unsupported index)"
        );
    }

    #[test]
    fn a_surrogate_diagnostic_stands_in_for_its_record_only() {
        let body = format!(
            "<searchRetrieveResponse><numberOfRecords>2</numberOfRecords><records>\
             <record><recordSchema>info:srw/schema/1/diagnostics-v1.1</recordSchema><recordData>\
             <diagnostic><uri>info:srw/diagnostic/1/67</uri><message>Record not available</message></diagnostic>\
             </recordData></record><record><recordSchema>marcxml</recordSchema><recordData>{MARCXML}</recordData>\
             </record></records></searchRetrieveResponse>"
        );
        let response = read_response(body.as_bytes()).expect("response");
        assert_eq!(response.hits, 2);
        assert!(
            matches!(&response.records[0], RawRecord::Diagnostic(d) if d.contains("diagnostic/1/67")),
            "{response:?}"
        );
        assert!(matches!(&response.records[1], RawRecord::MarcXml(_)));
    }

    #[test]
    fn what_is_not_a_response_is_named() {
        for (body, expected) in [
            ("<html><body>Not found</body></html>", "expected an SRU searchRetrieveResponse, got <html>"),
            ("<explainResponse/>", "got <explainResponse/>"),
            ("", "no XML element"),
            ("<searchRetrieveResponse><records/></searchRetrieveResponse>", "no numberOfRecords"),
            (
                "<searchRetrieveResponse><numberOfRecords>many</numberOfRecords></searchRetrieveResponse>",
                "\"many\" is not a number",
            ),
            ("<searchRetrieveResponse><numberOfRecords>1</numberOf", "not well-formed"),
        ] {
            let err = read_response(body.as_bytes()).expect_err(body).to_string();
            assert!(err.contains(expected), "{body}: {err}");
        }
        assert!(read_response(b"\xff\xfe<").expect_err("bytes").to_string().contains("not UTF-8"));
    }
}
