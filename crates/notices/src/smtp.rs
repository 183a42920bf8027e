//! Delivery by SMTP (`lettre`): plain SMTP (a relay on the same host, or a test server on
//! 127.0.0.1), STARTTLS or implicit TLS, with optional login.

use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// No encryption: only for a relay on the same machine or network (and tests).
    None,
    /// Upgrade with STARTTLS, refusing a server that does not offer it (port 587).
    #[default]
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    /// `Riverton Public Library <notices@riverton.example>`.
    pub from: String,
    pub timeout_seconds: u64,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        SmtpSettings {
            host: "localhost".into(),
            port: 587,
            security: SmtpSecurity::StartTls,
            username: None,
            password: None,
            from: "Shelfmark Library <notices@localhost>".into(),
            timeout_seconds: 30,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("bad address {address:?}: {reason}")]
    Address { address: String, reason: String },
    #[error("the message could not be built: {0}")]
    Build(String),
    #[error("SMTP: {0}")]
    Smtp(String),
}

/// A connection recipe for the library's SMTP server. Each [`Mailer::send`] opens a connection
/// (lettre's pool is not worth it for a once-a-day batch).
pub struct Mailer {
    transport: SmtpTransport,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl Mailer {
    pub fn new(settings: &SmtpSettings) -> Result<Mailer, DeliveryError> {
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| DeliveryError::Address { address: settings.from.clone(), reason: format!("{e}") })?;
        let tls = |host: &str| {
            TlsParameters::new(host.to_string()).map_err(|e| DeliveryError::Smtp(format!("TLS for {host}: {e}")))
        };
        let builder = SmtpTransport::builder_dangerous(&settings.host).port(settings.port);
        let builder = match settings.security {
            SmtpSecurity::None => builder.tls(Tls::None),
            SmtpSecurity::StartTls => builder.tls(Tls::Required(tls(&settings.host)?)),
            SmtpSecurity::Tls => builder.tls(Tls::Wrapper(tls(&settings.host)?)),
        };
        let builder = match (&settings.username, &settings.password) {
            (Some(u), Some(p)) => builder.credentials(Credentials::new(u.clone(), p.clone())),
            _ => builder,
        };
        let transport = builder.timeout(Some(Duration::from_secs(settings.timeout_seconds.max(1)))).build();
        Ok(Mailer { transport, from })
    }

    /// Sends one plain-text message; the error says what the server or the address refused.
    pub fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), DeliveryError> {
        let to: Mailbox =
            to.parse().map_err(|e| DeliveryError::Address { address: to.to_string(), reason: format!("{e}") })?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_string())
            .map_err(|e| DeliveryError::Build(e.to_string()))?;
        self.transport.send(&message).map(|_| ()).map_err(|e| DeliveryError::Smtp(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_from_address_is_refused_when_the_mailer_is_built() {
        let settings = SmtpSettings { from: "not an address".into(), ..SmtpSettings::default() };
        assert!(matches!(Mailer::new(&settings), Err(DeliveryError::Address { .. })));
    }

    #[test]
    fn a_bad_recipient_is_a_delivery_error_naming_it() {
        let settings =
            SmtpSettings { security: SmtpSecurity::None, port: 1, host: "127.0.0.1".into(), ..SmtpSettings::default() };
        let mailer = Mailer::new(&settings).expect("mailer");
        let e = mailer.send("nobody", "s", "b").expect_err("refused");
        assert!(e.to_string().contains("\"nobody\""), "{e}");
    }
}
