//! A Z39.50 client (ANSI/NISO Z39.50-2003, ISO 23950) for copy cataloging: connect and
//! initialise, search with a Type-1 (RPN) query in Bib-1 attributes, present records in
//! USMARC (ISO 2709 bytes), close.
//!
//! The pure part has no I/O: the APDUs as `rasn` ASN.1 types ([`pdu`]), BER encoding and
//! decoding ([`encode`], [`decode`]), query construction ([`Query`]), the Bib-1 diagnostic
//! table ([`diagnostics`]) and the PDU framer ([`frame`]). The [`Client`] at the edge drives
//! them over a blocking `TcpStream` with timeouts.
//!
//! # What goes over the wire
//! - Terms go out as `general` (OCTET STRING) terms in UTF-8; no character-set negotiation
//!   is attempted, so a target that expects MARC-8 or Latin-1 terms matches only their
//!   ASCII. Standard numbers are sent exactly as given: strip hyphens and qualifiers first.
//! - Records come back as the target stored them (leader/09 says UTF-8 or MARC-8); the
//!   import path reads them with the marc crate, which converts MARC-8.
//! - One result set, named "default", replaced by every search; Present asks for element
//!   set "F" in USMARC (1.2.840.10003.5.10) and accepts any ISO 2709 MARC syntax back.
//! - A response is refused once its length passes twice the preferred message size plus
//!   64 KiB (the [`frame`] limit), before it is read.
//!
//! ```no_run
//! use z3950::{Client, ClientOptions, PresentedRecord, Query};
//! let mut client = Client::connect("z3950.loc.gov:7090", "VOYAGER", &ClientOptions::default())?;
//! let hits = client.search(&Query::isbn("9780262033848"))?;
//! for record in client.present(1, hits.min(5))? {
//!     if let PresentedRecord::Marc(iso2709) = record { /* import */ }
//! }
//! client.close()?;
//! # Ok::<(), z3950::Error>(())
//! ```

mod client;
pub mod diagnostics;
pub mod frame;
pub mod pdu;
mod query;
pub mod request;

pub use client::{
    decode_response, init_outcome, present_outcome, search_outcome, Client, ClientOptions, Error, PresentedRecord,
};
pub use query::{attribute_type, completeness, position, relation, structure, truncation, use_attribute, Query};

/// BER-encodes a PDU.
pub fn encode(pdu: &pdu::Pdu) -> Result<Vec<u8>, rasn::error::EncodeError> {
    rasn::ber::encode(pdu)
}

/// Decodes one BER PDU that fills `bytes` exactly (trailing bytes are an error: the framer
/// cuts the stream into single PDUs first). Request PDUs nest their queries without bound;
/// the client decodes only response PDUs ([`decode_response`]), whose types do not recurse.
pub fn decode(bytes: &[u8]) -> Result<pdu::Pdu, rasn::error::DecodeError> {
    let (pdu, rest) = rasn::ber::decode_with_remainder::<pdu::Pdu>(bytes)?;
    if rest.is_empty() {
        Ok(pdu)
    } else {
        Err(rasn::error::DecodeError::from_kind(
            rasn::error::DecodeErrorKind::Custom { msg: format!("{} bytes after the end of the PDU", rest.len()) },
            rasn::Codec::Ber,
        ))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
