//! SIP2, the 3M Standard Interchange Protocol 2.00 that self-check kiosks and book sorters speak:
//! typed requests and responses, parsing and formatting with sequence numbers (AY) and
//! checksums (AZ), and a line framer for the byte stream. Pure: no I/O, no clock.
//!
//! The server reads a line with [`Framer`], [`parse_request`]s it, decides, and sends
//! [`format_response`] with the request's sequence number. The inverse pair ([`format_request`],
//! [`parse_response`]) lets tests and simulators play the kiosk.
//!
//! # What we accept that the spec does not ask for, and who sends it
//! - Blank (18 spaces) no-block due dates in 11 and 29: the PyPI `sip2` client (1.1) sends them
//!   whenever it has no due date. Blank transaction and return dates generally, and a blank
//!   language and summary in 63: Edmonton Public Library's SIPCHK client (`63` + 31 blanks).
//! - 65 without the transaction date: the PyPI `sip2` client starts its renew all with `AO`.
//! - A checksum of fewer than four hex digits: the PyPI `sip2` client formats it with `'X'`.
//! - A checksum over Unicode code points instead of bytes, when the connection is UTF-8: the
//!   PyPI `sip2` client sums the text before encoding it.
//! - Three blanks as the maximum print width in 99: SIPCHK (`990   2.00`).
//! - Missing optional fields, fields in any order, required fields left out (read as empty),
//!   a last field without its `|`, empty `||`: common across kiosk firmware; the server, not the
//!   parser, refuses a checkout without an item.
//! - Lower-case y/n in flag fields, `N` for blank in patron status and summary flags: harmless.
//! - LF or CRLF instead of CR (in [`Framer`]): telnet-style test sessions.
//! - Unknown field identifiers and codes outside the spec's lists are kept, not refused
//!   (`extra`, `Unlisted`), so vendor extensions pass through.

mod checksum;
mod codes;
mod date;
mod encoding;
mod error;
mod fields;
mod framer;
mod request;
mod response;
mod wire;

pub use checksum::{checksum, verify_checksum};
pub use codes::{
    AlertType, CirculationStatus, Currency, FeeType, HoldMode, HoldType, Language, MediaType, PatronStatus,
    PaymentType, ProtocolVersion, SecurityMarker, StatusCode, Summary, SupportedMessages, YesNoUnknown,
};
pub use date::{SipDate, Zone};
pub use encoding::Encoding;
pub use error::SipError;
pub use fields::{ids, Field, FieldId};
pub use framer::Framer;
pub use request::{
    BlockPatron, Checkin, Checkout, EndPatronSession, FeePaid, Hold, ItemInformation, ItemStatusUpdate, Login,
    PatronInformationRequest, PatronStatusRequest, Renew, RenewAll, Request, ScStatus,
};
pub use response::{
    AcsStatus, CheckinResponse, CheckoutResponse, EndSessionResponse, FeePaidResponse, HoldResponse,
    ItemInformationResponse, ItemStatusUpdateResponse, LoginResponse, PatronInformationResponse, PatronStatusResponse,
    RenewAllResponse, RenewResponse, Response,
};
pub use wire::MAX_FIELD_BYTES;

/// How a connection speaks: set per kiosk account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Sequence numbers (AY) and checksums (AZ): checked on the way in (a message without a
    /// checksum is refused) and written on the way out. Off: a trailer that arrives anyway is
    /// stripped unchecked, and none is written.
    pub error_detection: bool,
    pub encoding: Encoding,
    /// The longest message taken or sent whole, in bytes without the terminator. The PyPI `sip2`
    /// client reads a reply with one 4 KB `recv`, so replies longer than that break it anyway.
    pub max_message_length: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { error_detection: true, encoding: Encoding::Utf8, max_message_length: 4096 }
    }
}

/// A message as received, with its sequence number: the server must echo it (AY) in the reply,
/// so the parsers return it beside the message rather than inside every message type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received<T> {
    pub message: T,
    pub sequence: Option<u8>,
}

/// Reads one message from an SC. `line` may end with CR, LF or CRLF.
pub fn parse_request(line: &[u8], options: &Options) -> Result<Received<Request>, SipError> {
    let unwrapped = wire::unwrap(line, options)?;
    match Request::read(unwrapped.command, &unwrapped.body)? {
        Some(message) => Ok(Received { message, sequence: unwrapped.sequence }),
        None => Err(SipError::UnknownCommand(wire::command_text(unwrapped.command))),
    }
}

/// Writes one message to an SC, ending in CR. With error detection on it carries
/// `AY<sequence>AZ<checksum>` (just `AZ` when `sequence` is `None`, and always for 96).
/// Sequence numbers go from 0 to 9; a larger one is written as its last digit. Field values
/// are cleaned (no `|` or control characters, at most 255 bytes), but the message as a whole is
/// never cut: keep long lists (64's items) short with the request's BP/BQ range.
pub fn format_response(response: &Response, sequence: Option<u8>, options: &Options) -> Vec<u8> {
    let mut w = wire::Writer::new(response.command(), options);
    response.write(&mut w);
    let sequence = if matches!(response, Response::RequestScResend) { None } else { sequence };
    w.finish(sequence, options)
}

/// Reads one message from an ACS (the client side, for tests and simulated peers).
pub fn parse_response(line: &[u8], options: &Options) -> Result<Received<Response>, SipError> {
    let unwrapped = wire::unwrap(line, options)?;
    match Response::read(unwrapped.command, &unwrapped.body)? {
        Some(message) => Ok(Received { message, sequence: unwrapped.sequence }),
        None => Err(SipError::UnknownCommand(wire::command_text(unwrapped.command))),
    }
}

/// Writes one message to an ACS, ending in CR (97 never carries a sequence number).
pub fn format_request(request: &Request, sequence: Option<u8>, options: &Options) -> Vec<u8> {
    let mut w = wire::Writer::new(request.command(), options);
    request.write(&mut w);
    let sequence = if matches!(request, Request::RequestAcsResend) { None } else { sequence };
    w.finish(sequence, options)
}
