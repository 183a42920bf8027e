//! The `[sip2]` table of `shelfmark.toml`: where the server listens, TLS, how it speaks (character
//! encoding, error detection), the sorter's bins, and what a kiosk must ask of a patron.

use catalog::Code;
use serde::{Deserialize, Serialize};
use sip2::{Currency, Encoding, Options};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The `[sip2]` settings as the library writes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Sip2Settings {
    /// `host:port`; SIP2's customary port is 6001.
    pub bind: String,
    /// AO in every reply: the library's institution id as the kiosks are configured with it.
    pub institution_id: String,
    /// AM in the status reply (98).
    pub library_name: Option<String>,
    /// PEM files; both or neither. With them the listener speaks only TLS.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// `utf-8`, `latin-1` or `cp850` (3M units' default).
    pub encoding: String,
    /// Checksums (AZ) and sequence numbers (AY), checked and written.
    pub error_detection: bool,
    /// A connection that sends nothing for this long is closed (kiosks send 99 every minute
    /// or so; a sorter that went away must not hold its task forever).
    pub idle_timeout_seconds: u64,
    /// Whether a checkout (11) needs the patron's password (AD) to match; a patron without a
    /// password cannot check out at a kiosk when this is on.
    pub patron_password_required: bool,
    /// The currency of fee amounts (BH) and the one fee paid (37) must name.
    pub currency: String,
    /// What the 98 tells the kiosk to wait for an answer, in tenths of a second (0: forever).
    pub timeout_period: u16,
    pub sort_bins: SortBins,
}

/// The bin codes a book sorter is configured with (CL in the check-in reply).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SortBins {
    /// Trapped for a hold at this branch.
    pub hold_shelf: String,
    /// Going to another branch (a hold there, or its home).
    pub transit: String,
    /// Back to the shelves here.
    pub reshelve: String,
    /// Not checked in (an unknown barcode, a refusal): for a person to look at.
    pub problem: String,
}

impl Default for SortBins {
    fn default() -> Self {
        SortBins { hold_shelf: "1".into(), transit: "2".into(), reshelve: "3".into(), problem: "4".into() }
    }
}

impl Default for Sip2Settings {
    fn default() -> Self {
        Sip2Settings {
            bind: "127.0.0.1:6001".into(),
            institution_id: "shelfmark".into(),
            library_name: None,
            tls_cert: None,
            tls_key: None,
            encoding: "utf-8".into(),
            error_detection: true,
            idle_timeout_seconds: 600,
            patron_password_required: false,
            currency: "USD".into(),
            timeout_period: 0,
            sort_bins: SortBins::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("[sip2] {field}: {message}")]
pub struct SettingsError {
    pub field: &'static str,
    pub message: String,
}

fn bad(field: &'static str, message: impl Into<String>) -> SettingsError {
    SettingsError { field, message: message.into() }
}

/// The settings checked and in the types the server uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub bind: SocketAddr,
    pub institution_id: String,
    pub library_name: Option<String>,
    pub tls: Option<(PathBuf, PathBuf)>,
    pub options: Options,
    pub idle_timeout: Duration,
    pub patron_password_required: bool,
    pub currency: Currency,
    pub timeout_period: u16,
    pub sort_bins: SortBins,
}

impl Sip2Settings {
    pub fn build(&self) -> Result<Config, SettingsError> {
        let bind = self.bind.parse().map_err(|e| bad("bind", format!("{:?} is not host:port ({e})", self.bind)))?;
        let field_text = |field: &'static str, value: &str| -> Result<String, SettingsError> {
            let v = value.trim();
            if v.is_empty() || v.len() > 255 || v.chars().any(|c| c == '|' || c.is_control()) {
                return Err(bad(field, format!("{value:?} must be 1 to 255 bytes without '|'")));
            }
            Ok(v.to_string())
        };
        let institution_id = field_text("institution_id", &self.institution_id)?;
        let library_name = self.library_name.as_deref().map(|n| field_text("library_name", n)).transpose()?;
        let encoding = match self.encoding.trim().to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Encoding::Utf8,
            "latin-1" | "latin1" | "iso-8859-1" => Encoding::Latin1,
            "cp850" | "ibm850" => Encoding::Cp850,
            other => return Err(bad("encoding", format!("{other:?} is not utf-8, latin-1 or cp850"))),
        };
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(c), Some(k)) => Some((c.clone(), k.clone())),
            (None, None) => None,
            _ => return Err(bad("tls_cert", "give both tls_cert and tls_key, or neither")),
        };
        if self.idle_timeout_seconds == 0 {
            return Err(bad("idle_timeout_seconds", "must be at least 1"));
        }
        let currency =
            Currency::new(self.currency.trim()).ok_or_else(|| bad("currency", "an ISO 4217 code of three letters"))?;
        if self.timeout_period > 999 {
            return Err(bad("timeout_period", "at most 999 (tenths of a second)"));
        }
        let bins = &self.sort_bins;
        for (field, value) in [
            ("sort_bins.hold_shelf", &bins.hold_shelf),
            ("sort_bins.transit", &bins.transit),
            ("sort_bins.reshelve", &bins.reshelve),
            ("sort_bins.problem", &bins.problem),
        ] {
            field_text(field, value)?;
        }
        Ok(Config {
            bind,
            institution_id,
            library_name,
            tls,
            options: Options { error_detection: self.error_detection, encoding, ..Options::default() },
            idle_timeout: Duration::from_secs(self.idle_timeout_seconds),
            patron_password_required: self.patron_password_required,
            currency,
            timeout_period: self.timeout_period,
            sort_bins: SortBins {
                hold_shelf: bins.hold_shelf.trim().into(),
                transit: bins.transit.trim().into(),
                reshelve: bins.reshelve.trim().into(),
                problem: bins.problem.trim().into(),
            },
        })
    }
}

/// A location code (CP) as a branch code, when it is one.
pub(crate) fn branch_code(text: &str) -> Option<Code> {
    Code::parse(text.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_build_and_bad_values_name_their_field() {
        let c = Sip2Settings::default().build().expect("defaults");
        assert_eq!(c.options.encoding, Encoding::Utf8);
        assert!(c.options.error_detection && c.tls.is_none());
        let with = |f: &dyn Fn(&mut Sip2Settings)| {
            let mut s = Sip2Settings::default();
            f(&mut s);
            s.build().map(|_| ()).map_err(|e| e.field)
        };
        assert_eq!(with(&|s| s.encoding = "ebcdic".into()), Err("encoding"));
        assert_eq!(with(&|s| s.encoding = "CP850".into()), Ok(()));
        assert_eq!(with(&|s| s.bind = "nowhere".into()), Err("bind"));
        assert_eq!(with(&|s| s.tls_cert = Some("c.pem".into())), Err("tls_cert"));
        assert_eq!(with(&|s| s.sort_bins.transit = "a|b".into()), Err("sort_bins.transit"));
        assert_eq!(with(&|s| s.currency = "dollars".into()), Err("currency"));
        assert_eq!(with(&|s| s.institution_id = " ".into()), Err("institution_id"));
        assert_eq!(with(&|s| s.idle_timeout_seconds = 0), Err("idle_timeout_seconds"));
    }

    #[test]
    fn a_toml_table_reads() {
        let s: Sip2Settings = toml::from_str(
            "bind = \"0.0.0.0:6001\"\ninstitution_id = \"MAIN\"\nencoding = \"cp850\"\n[sort_bins]\nhold_shelf = \"H\"\n",
        )
        .expect("toml");
        let c = s.build().expect("build");
        assert_eq!(
            (c.institution_id.as_str(), c.sort_bins.hold_shelf.as_str(), c.sort_bins.transit.as_str()),
            ("MAIN", "H", "2")
        );
    }
}
