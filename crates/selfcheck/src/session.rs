//! One kiosk's connection as a state machine over whole lines: it checks the line, keeps the
//! login and the last reply (for 97), and hands each request to [`crate::acs`]. No sockets here,
//! so the property test can feed it anything.

use crate::acs::{Acs, Kiosk};
use sip2::{format_response, parse_request, LoginResponse, Request, Response, SipError};
use std::sync::Arc;

/// Unreadable messages in a row after which the connection is closed: a kiosk that keeps
/// sending what we cannot read is not going to start making sense, and each 96 invites it to
/// send the same bytes again.
pub const MAX_BAD_MESSAGES_IN_A_ROW: u32 = 3;
/// Failed logins after which the connection is closed (someone guessing kiosk passwords).
pub const MAX_FAILED_LOGINS: u32 = 3;

/// What to do after a line: send these bytes (one write), then close or read on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    pub reply: Option<Vec<u8>>,
    pub close: bool,
}

pub struct Session {
    acs: Arc<Acs>,
    kiosk: Option<Kiosk>,
    last_reply: Option<Vec<u8>>,
    bad_in_a_row: u32,
    failed_logins: u32,
}

impl Session {
    pub fn new(acs: Arc<Acs>) -> Session {
        Session { acs, kiosk: None, last_reply: None, bad_in_a_row: 0, failed_logins: 0 }
    }

    /// The kiosk logged in on this connection, if any.
    pub fn kiosk(&self) -> Option<&Kiosk> {
        self.kiosk.as_ref()
    }

    /// A line over the framer's limit: the rest of an endless line is not worth waiting for.
    pub fn line_too_long(&mut self, error: &SipError) -> Outcome {
        tracing::warn!(%error, "sip2: closing a connection that sent an endless line");
        Outcome { reply: None, close: true }
    }

    /// Answers one whole line (without its terminator).
    pub fn handle(&mut self, line: &[u8]) -> Outcome {
        let options = &self.acs.config().options;
        let received = match parse_request(line, options) {
            Ok(r) => r,
            Err(error) => {
                self.bad_in_a_row += 1;
                tracing::info!(%error, "sip2: unreadable message");
                if self.bad_in_a_row > MAX_BAD_MESSAGES_IN_A_ROW {
                    return Outcome { reply: None, close: true };
                }
                // A damaged or unreadable message: ask for it again (the spec's answer to a bad
                // checksum, and the only one SIP2 has for a message it cannot read).
                return Outcome {
                    reply: Some(format_response(&Response::RequestScResend, None, options)),
                    close: false,
                };
            }
        };
        self.bad_in_a_row = 0;
        let sequence = received.sequence;
        match received.message {
            Request::RequestAcsResend => {
                // The last reply as it went out, sequence number and all; nothing yet: a 96.
                let reply = self
                    .last_reply
                    .clone()
                    .unwrap_or_else(|| format_response(&Response::RequestScResend, None, options));
                Outcome { reply: Some(reply), close: false }
            }
            Request::Login(login) => {
                let kiosk = self.acs.login(&login);
                let ok = kiosk.is_some();
                if ok {
                    self.kiosk = kiosk;
                    self.failed_logins = 0;
                } else {
                    self.failed_logins += 1;
                }
                let reply = format_response(&Response::Login(LoginResponse { ok }), sequence, options);
                self.last_reply = Some(reply.clone());
                Outcome { reply: Some(reply), close: self.failed_logins >= MAX_FAILED_LOGINS }
            }
            request => match &self.kiosk {
                None => {
                    // Not logged in: refused with the login response, and the connection closed,
                    // so nothing is answered to an SC the library did not let in.
                    let reply = format_response(&Response::Login(LoginResponse { ok: false }), sequence, options);
                    Outcome { reply: Some(reply), close: true }
                }
                Some(kiosk) => {
                    let response = self.acs.answer(kiosk, &request);
                    let reply = format_response(&response, sequence, options);
                    self.last_reply = Some(reply.clone());
                    Outcome { reply: Some(reply), close: false }
                }
            },
        }
    }
}
