//! Where the database lives, and [`open`], which connects and migrates.

use crate::{Database, Result};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

/// Which backend, and where. Built from the one `--database` / `SHELFMARK_DATABASE` setting with
/// [`StorageConfig::parse`]: a `postgres://` or `postgresql://` URL selects PostgreSQL,
/// anything else is a SQLite data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageConfig {
    Sqlite(SqliteOptions),
    Postgres(PostgresOptions),
}

/// The embedded database: `shelfmark.db` (with its `-wal` and `-shm` files) inside `data_dir`,
/// which is created if missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    pub data_dir: PathBuf,
    /// Reader connections kept open (writes go through one writer connection). Default 4.
    pub readers: usize,
    /// `synchronous=FULL`: every commit is on disk (fsync) before it returns, so a power cut
    /// loses nothing committed. Default off (`NORMAL`: safe against a crash of Shelfmark; a power
    /// cut may lose the last commits, never corrupt the file).
    pub synchronous_full: bool,
}

impl SqliteOptions {
    pub const FILE_NAME: &'static str = "shelfmark.db";

    pub fn new(data_dir: impl Into<PathBuf>) -> SqliteOptions {
        SqliteOptions { data_dir: data_dir.into(), readers: 4, synchronous_full: false }
    }

    pub fn database_file(&self) -> PathBuf {
        self.data_dir.join(Self::FILE_NAME)
    }
}

/// A PostgreSQL server. The URL is libpq style (`postgres://user:password@host:port/dbname`,
/// `?host=/run/postgresql` for a Unix socket); connections are not encrypted (TLS is not built
/// in: use a local socket or a private network).
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresOptions {
    pub url: String,
    /// Connections at most; a caller waits (up to 30 s) when all are busy. Default 8.
    pub pool_size: usize,
    /// Keep Shelfmark's tables in this schema (created if missing) instead of the user's default
    /// `search_path`. The test suite gives every test its own schema.
    pub schema: Option<String>,
}

impl PostgresOptions {
    pub fn new(url: impl Into<String>) -> PostgresOptions {
        PostgresOptions { url: url.into(), pool_size: 8, schema: None }
    }
}

impl std::fmt::Debug for PostgresOptions {
    /// Never prints the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresOptions")
            .field("url", &redact_url(&self.url))
            .field("pool_size", &self.pool_size)
            .field("schema", &self.schema)
            .finish()
    }
}

/// `postgres://user:secret@host/db` -> `postgres://user:***@host/db`, for logs.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

impl StorageConfig {
    /// `postgres://...` / `postgresql://...` is PostgreSQL with default options; anything else
    /// is a SQLite data directory.
    pub fn parse(location: &str) -> StorageConfig {
        let trimmed = location.trim();
        let lower = trimmed.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            StorageConfig::Postgres(PostgresOptions::new(trimmed))
        } else {
            StorageConfig::Sqlite(SqliteOptions::new(trimmed))
        }
    }

    /// "sqlite" or "postgresql".
    pub fn backend(&self) -> &'static str {
        match self {
            StorageConfig::Sqlite(_) => "sqlite",
            StorageConfig::Postgres(_) => "postgresql",
        }
    }

    /// For logs and `/health`: the data directory, or the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            StorageConfig::Sqlite(o) => o.database_file().display().to_string(),
            StorageConfig::Postgres(o) => redact_url(&o.url),
        }
    }
}

impl FromStr for StorageConfig {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Ok(StorageConfig::parse(s))
    }
}

/// Opens (creating and migrating as needed) the database the config names.
pub fn open(config: &StorageConfig) -> Result<Arc<dyn Database>> {
    Ok(match config {
        StorageConfig::Sqlite(o) => Arc::new(crate::sqlite::SqliteDatabase::open(o)?),
        StorageConfig::Postgres(o) => Arc::new(crate::postgres::PostgresDatabase::connect(o)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_locations() {
        assert_eq!(StorageConfig::parse("/var/lib/shelfmark").backend(), "sqlite");
        assert_eq!(StorageConfig::parse("data").backend(), "sqlite");
        assert_eq!(StorageConfig::parse("postgres://u@h/db").backend(), "postgresql");
        assert_eq!(StorageConfig::parse("PostgreSQL://u@h/db").backend(), "postgresql");
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact_url("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("postgres://h/db"), "postgres://h/db");
        let o = PostgresOptions::new("postgres://u:secret@h/db");
        assert!(!format!("{o:?}").contains("secret"));
    }
}
