//! The `[[copycat.targets]]` settings: what the library writes in its TOML file, and the checked
//! [`Target`]s built from it at start-up. Every refusal names the target and the setting.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The `[copycat]` table as written: unchecked. [`CopycatSettings::build`] checks it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CopycatSettings {
    pub targets: Vec<TargetSettings>,
}

/// One `[[copycat.targets]]` entry as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TargetSettings {
    /// How staff name the target (`--target`, `?target=`): unique, no spaces.
    pub name: String,
    /// `sru` or `z3950`.
    pub kind: String,
    /// SRU: the base URL (`http://host:port/database`).
    pub url: Option<String>,
    /// Z39.50: `host:port`.
    pub address: Option<String>,
    /// Z39.50: the database name.
    pub database: Option<String>,
    /// SRU version: `1.1`, `1.2` (default) or `2.0`.
    pub version: Option<String>,
    /// The record schema asked for: `marcxml` (default).
    pub record_schema: Option<String>,
    /// SRU: `xml` (default, records inline) or `string` (records as escaped text).
    pub record_packing: Option<String>,
    /// Character coding of ISO 2709 records (Z39.50): `auto` (leader/09, default), `marc8`, `utf8`.
    pub encoding: Option<String>,
    /// Seconds before the target is given up on (default 10).
    pub timeout_seconds: Option<u64>,
    pub user: Option<String>,
    pub password: Option<String>,
}

/// A target whose settings were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub endpoint: Endpoint,
    pub record_schema: String,
    pub encoding: marc::Encoding,
    pub timeout: Duration,
    pub credentials: Option<Credentials>,
}

#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    // The password must not reach a log line through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("user", &self.user).finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Sru { url: String, version: SruVersion, packing: Packing },
    Z3950 { host: String, port: u16, database: String },
}

impl Endpoint {
    /// `sru` or `z3950`, as in the settings.
    pub fn kind(&self) -> &'static str {
        match self {
            Endpoint::Sru { .. } => "sru",
            Endpoint::Z3950 { .. } => "z3950",
        }
    }

    /// Where the target is, for people: the URL, or `host:port/database`.
    pub fn location(&self) -> String {
        match self {
            Endpoint::Sru { url, .. } => url.clone(),
            Endpoint::Z3950 { host, port, database } => format!("{host}:{port}/{database}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SruVersion {
    V1_1,
    V1_2,
    V2_0,
}

impl SruVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            SruVersion::V1_1 => "1.1",
            SruVersion::V1_2 => "1.2",
            SruVersion::V2_0 => "2.0",
        }
    }
}

/// How records come inside `recordData`: as XML elements, or as one escaped string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packing {
    Xml,
    String,
}

/// A refused setting: which target (by name, or by position when it has none) and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("[[copycat.targets]] {target}: {problem}")]
pub struct SettingsError {
    pub target: String,
    pub problem: String,
}

/// The checked target list, in the order the settings give them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    targets: Vec<Target>,
}

impl Targets {
    pub fn new(targets: Vec<Target>) -> Targets {
        Targets { targets }
    }

    pub fn all(&self) -> &[Target] {
        &self.targets
    }

    pub fn get(&self, name: &str) -> Option<&Target> {
        self.targets.iter().find(|t| t.name == name)
    }

    /// The targets named, in the order given; all of them when `names` is empty.
    pub fn select(&self, names: &[String]) -> Result<Vec<Target>, crate::CopycatError> {
        if names.is_empty() {
            return Ok(self.targets.clone());
        }
        names
            .iter()
            .map(|n| self.get(n).cloned().ok_or_else(|| crate::CopycatError::UnknownTarget(n.clone())))
            .collect()
    }
}

const DEFAULT_TIMEOUT_SECONDS: u64 = 10;

impl CopycatSettings {
    /// Checks every target; the first problem found, naming its target and setting.
    pub fn build(&self) -> Result<Targets, SettingsError> {
        let mut targets: Vec<Target> = Vec::with_capacity(self.targets.len());
        for (i, t) in self.targets.iter().enumerate() {
            let label = if t.name.trim().is_empty() { format!("number {}", i + 1) } else { format!("{:?}", t.name) };
            let target = t.build().map_err(|problem| SettingsError { target: label.clone(), problem })?;
            if targets.iter().any(|other| other.name == target.name) {
                return Err(SettingsError { target: label, problem: "name: another target has this name".into() });
            }
            targets.push(target);
        }
        Ok(Targets { targets })
    }
}

impl TargetSettings {
    fn build(&self) -> Result<Target, String> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err("name: missing (every target needs a name staff can choose it by)".into());
        }
        if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("name {name:?}: no spaces, so it can be given as --target {name}"));
        }
        if name.contains(',') {
            return Err(format!("name {name:?}: no commas (a search names several targets separated by commas)"));
        }
        let endpoint = match self.kind.as_str() {
            "sru" => {
                for (field, value) in [("address", &self.address), ("database", &self.database)] {
                    if value.is_some() {
                        return Err(format!("{field}: only for Z39.50 targets; an SRU target has a url"));
                    }
                }
                let url = self.url.as_deref().map(str::trim).unwrap_or_default();
                if url.is_empty() {
                    return Err("url: missing (the SRU base URL, such as http://host:port/database)".into());
                }
                // The HTTP client is built without TLS; saying so here beats a failed search.
                if url.starts_with("https://") {
                    return Err(format!(
                        "url {url:?}: https targets are not supported yet; use the target's http:// address"
                    ));
                }
                if !url.starts_with("http://") {
                    return Err(format!("url {url:?}: must start with http://"));
                }
                if reqwest::Url::parse(url).is_err() {
                    return Err(format!("url {url:?}: not a URL"));
                }
                let version = match self.version.as_deref().unwrap_or("1.2") {
                    "1.1" => SruVersion::V1_1,
                    "1.2" => SruVersion::V1_2,
                    "2.0" => SruVersion::V2_0,
                    other => return Err(format!("version {other:?}: SRU 1.1, 1.2 or 2.0")),
                };
                let packing = match self.record_packing.as_deref().unwrap_or("xml") {
                    "xml" => Packing::Xml,
                    "string" => Packing::String,
                    other => return Err(format!("record_packing {other:?}: xml or string")),
                };
                Endpoint::Sru { url: url.to_string(), version, packing }
            }
            "z3950" => {
                for (field, set) in [
                    ("url", self.url.is_some()),
                    ("version", self.version.is_some()),
                    ("record_packing", self.record_packing.is_some()),
                ] {
                    if set {
                        return Err(format!(
                            "{field}: only for SRU targets; a Z39.50 target has an address and a database"
                        ));
                    }
                }
                let address = self.address.as_deref().map(str::trim).unwrap_or_default();
                if address.is_empty() {
                    return Err("address: missing (host:port of the Z39.50 server)".into());
                }
                let (host, port) = address
                    .rsplit_once(':')
                    .and_then(|(h, p)| Some((h, p.parse::<u16>().ok().filter(|p| *p > 0)?)))
                    .filter(|(h, _)| !h.is_empty())
                    .ok_or_else(|| format!("address {address:?}: must be host:port"))?;
                let database = self.database.as_deref().map(str::trim).unwrap_or_default();
                if database.is_empty() {
                    return Err("database: missing (the Z39.50 database name)".into());
                }
                Endpoint::Z3950 { host: host.to_string(), port, database: database.to_string() }
            }
            "" => return Err("kind: missing (sru or z3950)".into()),
            other => return Err(format!("kind {other:?}: sru or z3950")),
        };
        let record_schema = self.record_schema.as_deref().unwrap_or("marcxml").trim().to_string();
        if let Endpoint::Sru { .. } = endpoint {
            // The reader understands MARC 21 only; another schema would give records it cannot read.
            if !matches!(record_schema.as_str(), "marcxml" | "info:srw/schema/1/marcxml-v1.1") {
                return Err(format!("record_schema {record_schema:?}: only marcxml records can be imported"));
            }
        }
        let encoding = match self.encoding.as_deref().unwrap_or("auto") {
            "auto" => marc::Encoding::Auto,
            "marc8" => marc::Encoding::Marc8,
            "utf8" => marc::Encoding::Utf8,
            other => return Err(format!("encoding {other:?}: auto, marc8 or utf8")),
        };
        let seconds = self.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECONDS);
        if !(1..=300).contains(&seconds) {
            return Err(format!("timeout_seconds {seconds}: between 1 and 300"));
        }
        let credentials = match (&self.user, &self.password) {
            (None, None) => None,
            (Some(user), Some(password)) if !user.is_empty() => {
                Some(Credentials { user: user.clone(), password: password.clone() })
            }
            (Some(_), Some(_)) => return Err("user: empty".into()),
            (Some(_), None) => return Err("password: missing (a user is given)".into()),
            (None, Some(_)) => return Err("user: missing (a password is given)".into()),
        };
        Ok(Target {
            name: name.to_string(),
            endpoint,
            record_schema,
            encoding,
            timeout: Duration::from_secs(seconds),
            credentials,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(toml_text: &str) -> Result<Targets, SettingsError> {
        #[derive(Deserialize)]
        struct File {
            copycat: CopycatSettings,
        }
        let file: File = toml::from_str(toml_text).unwrap_or_else(|e| panic!("{e}"));
        file.copycat.build()
    }

    fn refused(toml_text: &str) -> String {
        build(toml_text).expect_err("refused").to_string()
    }

    #[test]
    fn a_full_list_builds_with_defaults() {
        let targets = build(
            r#"
            [[copycat.targets]]
            name = "lc"
            kind = "sru"
            url = "http://lx2.loc.gov:210/LCDB"
            version = "1.1"

            [[copycat.targets]]
            name = "zebra"
            kind = "z3950"
            address = "127.0.0.1:9999"
            database = "Default"
            encoding = "marc8"
            timeout_seconds = 3
            user = "u"
            password = "p"
            "#,
        )
        .expect("valid");
        let [lc, zebra] = targets.all() else { panic!("two targets") };
        assert_eq!(
            lc.endpoint,
            Endpoint::Sru {
                url: "http://lx2.loc.gov:210/LCDB".into(),
                version: SruVersion::V1_1,
                packing: Packing::Xml
            }
        );
        assert_eq!(
            (lc.record_schema.as_str(), lc.encoding, lc.timeout),
            ("marcxml", marc::Encoding::Auto, Duration::from_secs(10))
        );
        assert_eq!(lc.credentials, None);
        assert_eq!(
            zebra.endpoint,
            Endpoint::Z3950 { host: "127.0.0.1".into(), port: 9999, database: "Default".into() }
        );
        assert_eq!((zebra.encoding, zebra.timeout), (marc::Encoding::Marc8, Duration::from_secs(3)));
        assert_eq!(zebra.credentials, Some(Credentials { user: "u".into(), password: "p".into() }));
        assert!(!format!("{zebra:?}").contains("password: \"p\""));
        assert_eq!(targets.get("zebra").map(|t| t.endpoint.location()), Some("127.0.0.1:9999/Default".into()));
        assert_eq!(targets.select(&[]).expect("all").len(), 2);
        assert!(targets.select(&["nope".into()]).is_err());
    }

    #[test]
    fn no_table_means_no_targets() {
        assert!(CopycatSettings::default().build().expect("empty").all().is_empty());
    }

    #[test]
    fn each_mistake_names_the_target_and_the_setting() {
        let cases = [
            ("kind = \"sru\"\nurl = \"http://x/y\"", "number 1: name: missing"),
            ("name = \"a b\"\nkind = \"sru\"\nurl = \"http://x/y\"", "\"a b\": name \"a b\""),
            ("name = \"x\"\nurl = \"http://x/y\"", "\"x\": kind: missing"),
            ("name = \"x\"\nkind = \"ftp\"", "\"x\": kind \"ftp\""),
            ("name = \"x\"\nkind = \"sru\"", "\"x\": url: missing"),
            ("name = \"x\"\nkind = \"sru\"\nurl = \"ftp://x/y\"", "\"x\": url \"ftp://x/y\""),
            ("name = \"x\"\nkind = \"sru\"\nurl = \"https://x/y\"", "https targets are not supported yet"),
            ("name = \"x\"\nkind = \"sru\"\nurl = \"http://x/y\"\nversion = \"1.3\"", "\"x\": version \"1.3\""),
            ("name = \"x\"\nkind = \"sru\"\nurl = \"http://x/y\"\nrecord_schema = \"dc\"", "record_schema \"dc\""),
            ("name = \"x\"\nkind = \"sru\"\nurl = \"http://x/y\"\nrecord_packing = \"zip\"", "record_packing \"zip\""),
            (
                "name = \"x\"\nkind = \"sru\"\nurl = \"http://x/y\"\ndatabase = \"D\"",
                "\"x\": database: only for Z39.50",
            ),
            ("name = \"x\"\nkind = \"z3950\"\ndatabase = \"D\"", "\"x\": address: missing"),
            (
                "name = \"x\"\nkind = \"z3950\"\naddress = \"host\"\ndatabase = \"D\"",
                "address \"host\": must be host:port",
            ),
            ("name = \"x\"\nkind = \"z3950\"\naddress = \"host:0\"\ndatabase = \"D\"", "must be host:port"),
            ("name = \"x\"\nkind = \"z3950\"\naddress = \"host:210\"", "\"x\": database: missing"),
            (
                "name = \"x\"\nkind = \"z3950\"\naddress = \"h:210\"\ndatabase = \"D\"\nurl = \"http://x\"",
                "url: only for SRU",
            ),
            (
                "name = \"x\"\nkind = \"z3950\"\naddress = \"h:210\"\ndatabase = \"D\"\nencoding = \"latin1\"",
                "encoding \"latin1\"",
            ),
            ("name = \"x\"\nkind = \"sru\"\nurl = \"http://x/y\"\ntimeout_seconds = 0", "timeout_seconds 0"),
            ("name = \"x\"\nkind = \"sru\"\nurl = \"http://x/y\"\nuser = \"u\"", "password: missing"),
            ("name = \"x\"\nkind = \"sru\"\nurl = \"http://x/y\"\npassword = \"p\"", "user: missing"),
        ];
        for (body, expected) in cases {
            let message = refused(&format!("[[copycat.targets]]\n{body}\n"));
            assert!(message.starts_with("[[copycat.targets]] "), "{message}");
            assert!(message.contains(expected), "{body}\n=> {message}\nwanted {expected}");
        }
        let twice = "[[copycat.targets]]\nname = \"x\"\nkind = \"sru\"\nurl = \"http://x/y\"\n";
        assert!(refused(&format!("{twice}{twice}")).contains("\"x\": name: another target has this name"));
    }

    #[test]
    fn unknown_settings_are_refused_by_the_reader() {
        let text = "[[copycat.targets]]\nname = \"x\"\nkind = \"sru\"\nurl = \"http://x/y\"\nhost = \"h\"\n";
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct File {
            copycat: CopycatSettings,
        }
        let err = toml::from_str::<File>(text).expect_err("unknown field");
        assert!(err.to_string().contains("host"), "{err}");
    }
}
