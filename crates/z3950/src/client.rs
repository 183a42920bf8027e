//! The blocking client: one TCP connection to one target database, one request at a time.
//! Responses are interpreted by the pure functions [`search_outcome`], [`present_outcome`]
//! and [`init_outcome`], so captured responses can be checked without a socket.

use crate::diagnostics::bib1_message_or_unknown;
use crate::frame::{self, FrameError};
use crate::pdu::{
    self, close_reason_name, pdu_name, DefaultDiagFormat, DiagRec, External, ExternalEncoding, InitializeResponse, Pdu,
    PresentResponse, RecordChoice, Records, SearchResponse,
};
use crate::query::Query;
use crate::request::{self, InitParameters};
use rasn::types::{Integer, OctetString};
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How to reach a target: the timeout for connecting and for each read and write, the login
/// some targets require, and the largest response to accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    pub timeout: Duration,
    pub user: Option<String>,
    pub password: Option<String>,
    /// Asked of the target as both `preferredMessageSize` and `exceptionalRecordSize`;
    /// a response larger than twice this (plus room for the envelope) is refused.
    pub preferred_message_size: u32,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self { timeout: Duration::from_secs(10), user: None, password: None, preferred_message_size: 1 << 20 }
    }
}

/// One presented record: the ISO 2709 bytes, or the target's reason for not sending it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PresentedRecord {
    Marc(Vec<u8>),
    Diagnostic { code: u32, message: String, addinfo: Option<String> },
}

#[derive(thiserror::Error, Debug)]
pub enum Error {
    #[error("{action}: {source}")]
    Io {
        action: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{action}: no answer within {timeout:?}")]
    Timeout { action: String, timeout: Duration },
    #[error("the target closed the connection while {action}")]
    Disconnected { action: String },
    #[error("Z39.50 protocol error: {0}")]
    Protocol(String),
    #[error("the target refused the Init{}: {message}", code.map(|c| format!(" (Bib-1 diagnostic {c})")).unwrap_or_default())]
    InitRefused { code: Option<u32>, message: String },
    #[error("Bib-1 diagnostic {code}: {message}{}", addinfo.as_deref().map(|a| format!(" ({a})")).unwrap_or_default())]
    Diagnostic { code: u32, message: String, addinfo: Option<String> },
    #[error("the target closed the association ({reason}){}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Closed { reason: &'static str, message: Option<String> },
    #[error("the target's {pdu} is larger than this client accepts: {source}")]
    TooLarge {
        pdu: &'static str,
        #[source]
        source: FrameError,
    },
}

/// A connection to one database of a Z39.50 target, initialised and ready to search.
#[derive(Debug)]
pub struct Client {
    stream: TcpStream,
    database: String,
    timeout: Duration,
    limit: usize,
    buffer: Vec<u8>,
    /// The hit count of the last successful search: the size of the result set.
    hits: Option<u64>,
    /// Why the association can no longer be trusted (a broken or half-read exchange, a
    /// Close from the target); every later request fails with it. Diagnostics do not count:
    /// the target answered properly.
    broken: Option<String>,
    /// What the target said about itself in its InitializeResponse.
    pub target_implementation: Option<String>,
}

/// The result set every search replaces; copy cataloging needs only one.
const RESULT_SET: &str = "default";

/// Room for the PDU envelope around the records of a full response.
const ENVELOPE: usize = 64 * 1024;

impl Client {
    /// Connects to `addr` ("host:port") and sends Init; a refusal is [`Error::InitRefused`]
    /// with the target's reason when it gives one.
    pub fn connect(addr: &str, database: &str, options: &ClientOptions) -> Result<Client, Error> {
        let action = format!("connecting to Z39.50 target {addr}");
        let addresses = addr.to_socket_addrs().map_err(|source| Error::Io { action: action.clone(), source })?;
        let mut last = None;
        let mut stream = None;
        for address in addresses {
            match TcpStream::connect_timeout(&address, options.timeout) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let stream = match (stream, last) {
            (Some(s), _) => s,
            (None, Some(e)) => return Err(io_error(action, options.timeout, e)),
            (None, None) => {
                return Err(Error::Io {
                    action,
                    source: std::io::Error::new(ErrorKind::NotFound, "no address for the host"),
                })
            }
        };
        let configure = |r: std::io::Result<()>| {
            r.map_err(|source| Error::Io { action: format!("configuring the connection to {addr}"), source })
        };
        configure(stream.set_read_timeout(Some(options.timeout)))?;
        configure(stream.set_write_timeout(Some(options.timeout)))?;
        configure(stream.set_nodelay(true))?;
        let size = options.preferred_message_size;
        let mut client = Client {
            stream,
            database: database.to_owned(),
            timeout: options.timeout,
            limit: (size as usize).saturating_mul(2).saturating_add(ENVELOPE),
            buffer: Vec::new(),
            hits: None,
            broken: None,
            target_implementation: None,
        };
        let init = request::init(&InitParameters {
            preferred_message_size: size,
            exceptional_record_size: size,
            user: options.user.as_deref(),
            password: options.password.as_deref(),
            implementation_id: "Shelfmark",
            implementation_name: "Shelfmark",
            implementation_version: env!("CARGO_PKG_VERSION"),
        });
        match client.exchange(&init, "Init")? {
            Pdu::InitResponse(response) => {
                client.target_implementation = init_outcome(&response)?;
                Ok(client)
            }
            other => Err(unexpected("Init", &other)),
        }
    }

    /// Searches the database; the hit count, or the target's diagnostic.
    pub fn search(&mut self, query: &Query) -> Result<u64, Error> {
        let search = request::search(RESULT_SET, &self.database, query.to_rpn());
        // The search replaces the result set, whatever its outcome.
        self.hits = None;
        match self.exchange(&search, "Search")? {
            Pdu::SearchResponse(response) => {
                let hits = search_outcome(&response)?;
                self.hits = Some(hits);
                Ok(hits)
            }
            other => Err(self.fail(unexpected("Search", &other))),
        }
    }

    /// Fetches `count` records of the last search from `start` (1-based) as USMARC, in the
    /// order the target sends them. A count running past the end of the result set is cut to
    /// it; a start past the end is the target's diagnostic 13. Targets send only as many
    /// records as fit in the preferred message size (Zebra sends one of twenty at 4 KiB), so
    /// the rest are asked for again until all have come or the target sends none.
    pub fn present(&mut self, start: u64, count: u64) -> Result<Vec<PresentedRecord>, Error> {
        let Some(hits) = self.hits else {
            return Err(Error::Protocol("present before any successful search: there is no result set".to_owned()));
        };
        if start == 0 {
            return Err(Error::Protocol("present from position 0: result set positions start at 1".to_owned()));
        }
        let count = if start <= hits { count.min(hits - start + 1) } else { count };
        let mut records = Vec::new();
        while (records.len() as u64) < count {
            let next = start + records.len() as u64;
            let present = request::present(RESULT_SET, next, count - records.len() as u64, "F");
            let batch = match self.exchange(&present, "Present")? {
                Pdu::PresentResponse(response) => present_outcome(&response)?,
                other => return Err(self.fail(unexpected("Present", &other))),
            };
            if batch.is_empty() {
                break;
            }
            records.extend(batch);
        }
        Ok(records)
    }

    /// Sends Close (reason finished) and waits for the target's Close or for it to hang up.
    /// An association that already failed is just dropped: there is nothing left to close.
    pub fn close(mut self) -> Result<(), Error> {
        if self.broken.is_some() {
            let _ = self.stream.shutdown(std::net::Shutdown::Both);
            return Ok(());
        }
        self.send(&request::close(), "Close")?;
        match self.receive("Close") {
            Ok(Pdu::Close(_)) | Err(Error::Disconnected { .. }) => Ok(()),
            Ok(other) => Err(unexpected("Close", &other)),
            Err(e) => Err(e),
        }
    }

    fn exchange(&mut self, request: &Pdu, what: &str) -> Result<Pdu, Error> {
        if let Some(reason) = &self.broken {
            return Err(Error::Protocol(format!("{what} on an association that failed earlier: {reason}")));
        }
        match self.send(request, what).and_then(|()| self.receive(what)) {
            Ok(Pdu::Close(close)) => Err(self.fail(closed(&close))),
            Ok(response) => Ok(response),
            Err(error) => Err(self.fail(error)),
        }
    }

    fn fail(&mut self, error: Error) -> Error {
        self.broken = Some(error.to_string());
        error
    }

    fn send(&mut self, request: &Pdu, what: &str) -> Result<(), Error> {
        let bytes = crate::encode(request).map_err(|e| Error::Protocol(format!("encoding the {what} request: {e}")))?;
        self.stream
            .write_all(&bytes)
            .and_then(|()| self.stream.flush())
            .map_err(|e| io_error(format!("sending the {what} request"), self.timeout, e))
    }

    fn receive(&mut self, what: &str) -> Result<Pdu, Error> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match frame::frame(&self.buffer, self.limit) {
                Ok(Some(length)) => {
                    let bytes: Vec<u8> = self.buffer.drain(..length).collect();
                    return decode_response(&bytes, what);
                }
                Ok(None) => {
                    // Garbage (an HTTP or SRU answer from a wrong port) is named at once
                    // instead of waiting for as many bytes as its first octets seem to say.
                    if let Ok(Some(header)) = frame::header(&self.buffer, 0) {
                        if header.class != frame::TagClass::Context || !header.constructed {
                            return Err(Error::Protocol(format!(
                                "the response to {what} does not start with a Z39.50 PDU tag (first bytes {:02x?})",
                                &self.buffer[..self.buffer.len().min(8)]
                            )));
                        }
                    }
                }
                Err(source @ FrameError::TooLarge { .. }) => {
                    return Err(Error::TooLarge { pdu: response_name(&self.buffer), source })
                }
                Err(e) => return Err(Error::Protocol(format!("the response to {what} is not BER: {e}"))),
            }
            let n = match self.stream.read(&mut chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_error(format!("reading the response to {what}"), self.timeout, e)),
            };
            if n == 0 {
                return Err(Error::Disconnected { action: format!("waiting for the response to {what}") });
            }
            self.buffer.extend_from_slice(&chunk[..n]);
        }
    }
}

fn io_error(action: String, timeout: Duration, source: std::io::Error) -> Error {
    match source.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => Error::Timeout { action, timeout },
        _ => Error::Io { action, source },
    }
}

fn response_name(bytes: &[u8]) -> &'static str {
    match frame::header(bytes, 0) {
        Ok(Some(header)) if header.class == frame::TagClass::Context => pdu_name(header.tag),
        _ => "response",
    }
}

/// Decodes a framed PDU a target sent, refusing request PDUs and PDUs this client does not
/// speak by name before handing the bytes to the decoder.
pub fn decode_response(bytes: &[u8], what: &str) -> Result<Pdu, Error> {
    let tag = match frame::header(bytes, 0) {
        Ok(Some(header)) if header.class == frame::TagClass::Context && header.constructed => header.tag,
        _ => return Err(Error::Protocol(format!("the response to {what} does not start with a Z39.50 PDU tag"))),
    };
    if !pdu::RESPONSE_TAGS.contains(&tag) {
        return Err(Error::Protocol(format!(
            "the target answered {what} with a {} PDU (tag {tag}), which this client does not handle",
            pdu_name(tag)
        )));
    }
    crate::decode(bytes).map_err(|e| {
        Error::Protocol(format!("the target's {} in answer to {what} does not decode: {e}", pdu_name(tag)))
    })
}

fn unexpected(what: &str, pdu: &Pdu) -> Error {
    let name = match pdu {
        Pdu::InitRequest(_) => "initRequest",
        Pdu::InitResponse(_) => "initResponse",
        Pdu::SearchRequest(_) => "searchRequest",
        Pdu::SearchResponse(_) => "searchResponse",
        Pdu::PresentRequest(_) => "presentRequest",
        Pdu::PresentResponse(_) => "presentResponse",
        Pdu::Close(_) => "close",
    };
    Error::Protocol(format!("the target answered {what} with a {name} PDU"))
}

fn closed(close: &pdu::Close) -> Error {
    let reason = i64::try_from(&close.close_reason).map_or("unknown reason", close_reason_name);
    Error::Closed { reason, message: close.diagnostic_information.as_ref().map(|m| m.to_text()) }
}

fn integer(value: &Integer, field: &str, pdu: &str) -> Result<u64, Error> {
    u64::try_from(value).map_err(|_| Error::Protocol(format!("{pdu}: {field} is {value}, not a count of records")))
}

/// The target's implementation, or why it refused. The refusal's reason comes from the
/// diagnostic targets put in `userInformationField` (YAZ servers, Koha) or `otherInfo`.
pub fn init_outcome(response: &InitializeResponse) -> Result<Option<String>, Error> {
    let implementation = [&response.implementation_name, &response.implementation_version]
        .into_iter()
        .flatten()
        .map(|s| s.to_text())
        .collect::<Vec<_>>()
        .join(" ");
    if !response.result {
        let (code, message) = init_refusal_reason(response);
        return Err(Error::InitRefused { code, message });
    }
    if !response.options.get(pdu::option::SEARCH).is_some_and(|b| *b) {
        return Err(Error::InitRefused {
            code: None,
            message: "the target does not offer the search service".to_owned(),
        });
    }
    if !response.options.get(pdu::option::PRESENT).is_some_and(|b| *b) {
        return Err(Error::InitRefused {
            code: None,
            message: "the target does not offer the present service".to_owned(),
        });
    }
    Ok((!implementation.is_empty()).then_some(implementation))
}

/// The first diagnostic of a diag-1 `DiagnosticFormat` (BER bytes): its Bib-1 code and a
/// sentence.
fn diag1_reason(bytes: &[u8]) -> Option<(Option<u32>, String)> {
    let entries: pdu::diag1::DiagnosticFormat = rasn::ber::decode(bytes).ok()?;
    let entry = entries.into_iter().next()?;
    let code = match &entry.diagnostic {
        Some(pdu::diag1::Diagnostic::DefaultDiagRec(d)) => u32::try_from(&d.condition).ok(),
        _ => None,
    };
    let message = match (&entry.diagnostic, &entry.message) {
        (_, Some(m)) => m.to_text(),
        (Some(pdu::diag1::Diagnostic::DefaultDiagRec(d)), None) => {
            let (_, message, addinfo) = diagnostic_parts(d);
            addinfo.map_or(message.clone(), |a| format!("{message}: {a}"))
        }
        _ => "no reason given".to_owned(),
    };
    Some((code, message))
}

/// Why a target refused the Init, from wherever it put the reason: a diag-1 record in
/// `userInformationField` directly, or (YAZ's GFS: Zebra, Koha) inside UserInfo-1, an
/// `OtherInformation` whose units carry diag-1 records; or a text in `otherInfo`.
fn init_refusal_reason(response: &InitializeResponse) -> (Option<u32>, String) {
    let from_other_info = |units: &pdu::OtherInformation| {
        units.iter().find_map(|unit| match &unit.information {
            pdu::Information::ExternallyDefinedInfo(pdu::ExternalContent {
                encoding: ExternalEncoding::SingleAsn1Type(any),
                ..
            }) => diag1_reason(any.as_bytes()),
            pdu::Information::CharacterInfo(text) => Some((None, text.to_text())),
            _ => None,
        })
    };
    let from_user_information = |external: &External| {
        let ExternalEncoding::SingleAsn1Type(any) = &external.encoding else {
            return None;
        };
        let is_user_info_1 = external.direct_reference.as_ref().is_some_and(|oid| {
            let arcs: &[u32] = oid;
            arcs == pdu::oid::USER_INFO_1
        });
        if is_user_info_1 {
            let units: pdu::TaggedOtherInformation = rasn::ber::decode(any.as_bytes()).ok()?;
            from_other_info(&units.0)
        } else {
            diag1_reason(any.as_bytes())
        }
    };
    response
        .user_information_field
        .as_ref()
        .and_then(from_user_information)
        .or_else(|| response.other_info.as_ref().and_then(from_other_info))
        .unwrap_or_else(|| (None, "no reason given".to_owned()))
}

fn diagnostic_parts(diagnostic: &DefaultDiagFormat) -> (u32, String, Option<String>) {
    let code = u32::try_from(&diagnostic.condition).unwrap_or(0);
    let addinfo = diagnostic.addinfo.to_text();
    (code, bib1_message_or_unknown(code), (!addinfo.is_empty()).then_some(addinfo))
}

fn diag_rec_parts(diagnostic: &DiagRec) -> (u32, String, Option<String>) {
    match diagnostic {
        DiagRec::DefaultFormat(d) => diagnostic_parts(d),
        DiagRec::ExternallyDefined(e) => (
            0,
            "a diagnostic in a format other than Bib-1's default".to_owned(),
            e.direct_reference.as_ref().map(|oid| oid.iter().map(u32::to_string).collect::<Vec<_>>().join(".")),
        ),
    }
}

fn diagnostic_error((code, message, addinfo): (u32, String, Option<String>)) -> Error {
    Error::Diagnostic { code, message, addinfo }
}

fn records_diagnostic(records: &pdu::OptionalRecords) -> Option<Error> {
    match &records.0 {
        Some(Records::NonSurrogateDiagnostic(d)) => Some(diagnostic_error(diagnostic_parts(d))),
        Some(Records::MultipleNonSurDiagnostics(list)) => list.first().map(|d| diagnostic_error(diag_rec_parts(d))),
        _ => None,
    }
}

/// The hit count of a search, or the target's diagnostic when the search failed.
pub fn search_outcome(response: &SearchResponse) -> Result<u64, Error> {
    if let Some(error) = records_diagnostic(&response.records) {
        return Err(error);
    }
    if !response.search_status {
        return Err(Error::Protocol("searchResponse: searchStatus is failure but no diagnostic says why".to_owned()));
    }
    integer(&response.result_count, "resultCount", "searchResponse")
}

/// The records of a present, in the target's order: MARC bytes or a per-record diagnostic.
/// A diagnostic for the whole request (13, present out of range) is an error.
pub fn present_outcome(response: &PresentResponse) -> Result<Vec<PresentedRecord>, Error> {
    if let Some(error) = records_diagnostic(&response.records) {
        return Err(error);
    }
    let records = match &response.records.0 {
        Some(Records::ResponseRecords(records)) => records,
        None => return Ok(Vec::new()),
        Some(_) => unreachable!("diagnostics handled above"),
    };
    records
        .iter()
        .enumerate()
        .map(|(i, named)| match &named.record {
            RecordChoice::RetrievalRecord(external) => marc_bytes(external, i + 1).map(PresentedRecord::Marc),
            RecordChoice::SurrogateDiagnostic(d) => {
                let (code, message, addinfo) = diag_rec_parts(d);
                Ok(PresentedRecord::Diagnostic { code, message, addinfo })
            }
            RecordChoice::StartingFragment(_)
            | RecordChoice::IntermediateFragment(_)
            | RecordChoice::FinalFragment(_) => Err(Error::Protocol(format!(
                "presentResponse: record {} came as a fragment, but segmentation was not negotiated",
                i + 1
            ))),
        })
        .collect()
}

/// The ISO 2709 bytes of a retrieval record: an EXTERNAL in a MARC syntax (USMARC or another
/// national MARC, all ISO 2709), octet-aligned or, as some targets do, an OCTET STRING as the
/// single ASN.1 type.
fn marc_bytes(external: &External, position: usize) -> Result<Vec<u8>, Error> {
    let is_marc = external.direct_reference.as_ref().is_none_or(|oid| {
        let arcs: &[u32] = oid;
        // 1.2.840.10003.5.1-5.30 are the MARC family (UNIMARC 1, ... USMARC 10, ...).
        arcs.len() == 6 && arcs[..5] == [1, 2, 840, 10003, 5] && (1..=30).contains(&arcs[5])
    });
    if !is_marc {
        let syntax = external
            .direct_reference
            .as_ref()
            .map(|oid| oid.iter().map(u32::to_string).collect::<Vec<_>>().join("."))
            .unwrap_or_default();
        return Err(Error::Protocol(format!(
            "presentResponse: record {position} is in record syntax {syntax}, not USMARC"
        )));
    }
    match &external.encoding {
        ExternalEncoding::OctetAligned(bytes) => Ok(bytes.to_vec()),
        ExternalEncoding::SingleAsn1Type(any) => {
            rasn::ber::decode::<OctetString>(any.as_bytes()).map(|b| b.to_vec()).map_err(|e| {
                Error::Protocol(format!(
                    "presentResponse: record {position} is a single-ASN1-type that is not an OCTET STRING: {e}"
                ))
            })
        }
        ExternalEncoding::Arbitrary(_) => {
            Err(Error::Protocol(format!("presentResponse: record {position} is a BIT STRING, not ISO 2709 octets")))
        }
    }
}
