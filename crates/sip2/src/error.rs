//! What can be wrong with a SIP2 message on the way in.

use crate::{Encoding, FieldId};

/// Why a line could not be read as a SIP2 message. Positions are 0-based byte offsets into the
/// line as received (the command code is at 0 and 1), so a log line can point at the byte.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SipError {
    /// Nothing, or fewer than the two bytes of a command code.
    #[error("message too short to carry a command code")]
    Empty,
    /// The line is longer than [`crate::Options::max_message_length`]; the caller should close
    /// the connection rather than wait for the rest of an endless line.
    #[error("message of {length} bytes is longer than the limit of {limit}")]
    LineTooLong { length: usize, limit: usize },
    /// The checksum (AZ) does not match the bytes before it: the answer is a resend (96/97).
    #[error("bad checksum: the message carries {found:04X}, its bytes need {expected:04X}")]
    BadChecksum { found: u16, expected: u16 },
    /// Error detection is on and the message carries no checksum (AZ).
    #[error("no checksum (AZ) although error detection is on")]
    MissingChecksum,
    /// A command code this side does not take (a response code sent to a server is unknown too).
    #[error("unknown command {0:?}")]
    UnknownCommand(String),
    /// Bytes that are not text in the configured character encoding.
    #[error("not valid {encoding} at byte {offset}")]
    Encoding { encoding: Encoding, offset: usize },
    /// The message ends inside a fixed-length field.
    #[error("fixed field {field:?} truncated at position {position}")]
    Truncated { field: &'static str, position: usize },
    /// A fixed-length field holds something its definition does not allow.
    #[error("fixed field {field:?} at position {position} holds {value:?}")]
    BadFixedField { field: &'static str, position: usize, value: String },
    /// A variable-length field does not start with a two-character identifier.
    #[error("no field identifier at position {position}")]
    BadFieldId { position: usize },
    /// A variable-length field whose value has a defined form (Y/N, a date, a number, a code)
    /// holds something else.
    #[error("field {id} holds {value:?}")]
    BadFieldValue { id: FieldId, value: String },
}
