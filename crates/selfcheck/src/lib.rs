//! The SIP2 self-check server: self-check kiosks and automated book sorters log in with a staff
//! account of the `selfcheck` role and send SIP2 2.00 messages over TCP (or TLS); every message
//! is answered by the desk's services ([`desk::Desk`]), the same checkout, check-in, renewal,
//! hold, payment and block as at the circulation desk, never a second circulation.
//!
//! Layers: [`settings`] (the `[sip2]` table), [`session`] (one connection's state machine over
//! whole lines: login first, checksums, 96/97, the last reply), [`acs`] (each request to the
//! desk and back), [`server`] (the tokio listener, one task per connection, idle timeout, TLS
//! through [`tls`]). The wire format is the pure `sip2` crate's.

pub mod acs;
pub mod server;
pub mod session;
pub mod settings;
pub mod tls;

pub use acs::{Acs, Clock, Kiosk, ANSWERED};
pub use server::Server;
pub use session::{Outcome, Session};
pub use settings::{Config, SettingsError, Sip2Settings, SortBins};
pub use tls::TlsError;
