//! Where settings come from, strongest first: command-line flags, environment variables
//! (`SHELFMARK_*`, read by clap), the TOML file, defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

/// The TOML file: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub library_name: Option<String>,
    pub bind: Option<SocketAddr>,
    pub database_url: Option<String>,
    /// Loan rules, calendars and blocking limits (`[circulation]`); the defaults of
    /// [`desk::CirculationSettings`] when absent.
    pub circulation: Option<desk::CirculationSettings>,
    /// Card numbers and patron categories (`[patrons]`); the defaults of
    /// [`desk::patrons::PatronSettings`] when absent.
    pub patrons: Option<desk::patrons::PatronSettings>,
    /// The password `shelfmark demo` gives the demo's `admin` account (default: a new random
    /// one, printed).
    pub admin_password: Option<String>,
    /// Notices and the daily jobs (`[notices]`: SMTP, run time, courtesy and overdue
    /// intervals); the defaults of [`jobs::NoticeSettings`] when absent.
    pub notices: Option<jobs::NoticeSettings>,
    /// The OAI-PMH provider at `/oai` (`[oai]`: repository_name, repository_id, admin_email,
    /// base_url, page_size); the defaults of [`web::OaiConfig`] when absent.
    pub oai: Option<web::OaiConfig>,
    /// The SIP2 self-check server (`[sip2]`: bind address, institution id, TLS, encoding, sort
    /// bins); `shelfmark serve` starts it only when the table is present.
    pub sip2: Option<selfcheck::Sip2Settings>,
    /// Copy-cataloging targets (`[[copycat.targets]]`: name, kind sru or z3950, url or address
    /// and database, version, record_schema, encoding, timeout_seconds, user, password).
    pub copycat: Option<copycat::CopycatSettings>,
}

impl FileConfig {
    /// The desk with the library's circulation settings, checked now so that a mistake in the
    /// settings stops the server at start-up, naming the row and field.
    pub fn desk(&self) -> anyhow::Result<desk::Desk> {
        let settings = self.circulation.clone().unwrap_or_default();
        let patrons = self.patrons.clone().unwrap_or_default().build().context("the [patrons] settings")?;
        Ok(desk::Desk::new(settings.build().context("the [circulation] settings")?).with_patron_rules(patrons))
    }

    /// The `[sip2]` settings, checked now so a mistake stops the server at start-up.
    pub fn sip2(&self) -> anyhow::Result<Option<selfcheck::Config>> {
        self.sip2.as_ref().map(|s| s.build().context("the [sip2] settings")).transpose()
    }

    /// The `[notices]` settings, checked now so a mistake stops the server at start-up.
    pub fn notices(&self, library_name: &str) -> anyhow::Result<jobs::Notices> {
        let settings = self.notices.clone().unwrap_or_default();
        settings.build(library_name).context("the [notices] settings")
    }

    /// The `[oai]` settings, checked now so a mistake stops the server at start-up.
    pub fn oai(&self) -> anyhow::Result<web::OaiConfig> {
        let settings = self.oai.clone().unwrap_or_default();
        settings.check().map_err(|e| anyhow::anyhow!("the [oai] settings: {e}"))?;
        Ok(settings)
    }

    /// The `[[copycat.targets]]`, checked now so a mistake stops the server at start-up.
    pub fn copycat(&self) -> anyhow::Result<copycat::Targets> {
        Ok(self.copycat.clone().unwrap_or_default().build()?)
    }

    /// Reads `explicit` if given (it must exist), else `<data>/shelfmark.toml` if it exists.
    pub fn load(explicit: Option<&Path>, data: &Path) -> anyhow::Result<FileConfig> {
        let path: PathBuf = match explicit {
            Some(p) => p.to_path_buf(),
            None => {
                let p = data.join("shelfmark.toml");
                if !p.exists() {
                    return Ok(FileConfig::default());
                }
                p
            }
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the settings file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("settings file {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sip2_table_starts_the_self_check_server_and_a_bad_one_is_refused() {
        let none: FileConfig = toml::from_str("library_name = \"X\"").expect("toml");
        assert!(none.sip2().expect("no table").is_none());
        let some: FileConfig = toml::from_str(
            "[sip2]\nbind = \"127.0.0.1:6001\"\ninstitution_id = \"MAIN\"\n[sip2.sort_bins]\ntransit = \"T\"\n",
        )
        .expect("toml");
        let config = some.sip2().expect("valid").expect("present");
        assert_eq!((config.institution_id.as_str(), config.sort_bins.transit.as_str()), ("MAIN", "T"));
        let bad: FileConfig = toml::from_str("[sip2]\nencoding = \"ebcdic\"\n").expect("toml");
        let message = format!("{:#}", bad.sip2().expect_err("refused"));
        assert!(message.contains("[sip2] encoding"), "{message}");
    }

    /// Every TOML example in the README is a settings file Shelfmark accepts, so a librarian who
    /// copies one gets a library that starts.
    #[test]
    fn the_readme_examples_are_valid_settings() {
        let readme = include_str!("../../../README.md");
        let blocks: Vec<&str> =
            readme.split("```toml\n").skip(1).filter_map(|rest| rest.split("\n```").next()).collect();
        assert!(blocks.len() >= 3, "the README's TOML examples were not found");
        for block in blocks {
            let config: FileConfig = toml::from_str(block).unwrap_or_else(|e| panic!("{e}\nin:\n{block}"));
            config.desk().unwrap_or_else(|e| panic!("{e:#}\nin:\n{block}"));
            config.notices("Riverside").unwrap_or_else(|e| panic!("{e:#}\nin:\n{block}"));
            config.sip2().unwrap_or_else(|e| panic!("{e:#}\nin:\n{block}"));
            config.oai().unwrap_or_else(|e| panic!("{e:#}\nin:\n{block}"));
            config.copycat().unwrap_or_else(|e| panic!("{e:#}\nin:\n{block}"));
        }
    }
}
