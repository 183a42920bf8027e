//! The harness every storage test binary shares: each test is a function over `&dyn Database`
//! (or over a [`Harness`] when it needs to reopen the database), and `suite!` runs each one on
//! SQLite in a temporary directory, always, and on PostgreSQL when `SHELFMARK_TEST_DATABASE_URL`
//! is set, in a fresh schema per test so tests run in parallel. With `CI` set and no PostgreSQL
//! URL the PostgreSQL tests fail rather than skip. `scripts/pg-test-cluster.sh` starts a
//! throwaway server:
//!
//! ```sh
//! scripts/pg-test-cluster.sh -- cargo test -p storage
//! ```

#![allow(dead_code)] // each test binary uses its own part of the harness

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use storage::{Database, PostgresOptions, StorageConfig};

// ---------------------------------------------------------------------------------------------
// Backends.

const PG_URL_VAR: &str = "SHELFMARK_TEST_DATABASE_URL";

/// One test's database, and how to open it again.
pub struct Harness {
    pub db: Option<Arc<dyn Database>>,
    pub config: StorageConfig,
    _dir: Option<tempfile::TempDir>,
    /// PostgreSQL: the URL and the schema to drop at the end.
    pub pg_schema: Option<(String, String)>,
}

impl Harness {
    pub fn sqlite() -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = StorageConfig::parse(dir.path().to_str().expect("utf-8 temp path"));
        let db = storage::open(&config).expect("open sqlite");
        assert_eq!(db.backend(), "sqlite");
        Harness { db: Some(db), config, _dir: Some(dir), pg_schema: None }
    }

    /// `None` when PostgreSQL tests are not wanted here; panics under CI without a URL.
    pub fn postgres(test: &str) -> Option<Harness> {
        let url = match std::env::var(PG_URL_VAR) {
            Ok(url) if !url.trim().is_empty() => url,
            _ => {
                if std::env::var_os("CI").is_some() {
                    panic!(
                        "CI is set but {PG_URL_VAR} is not: the PostgreSQL suite must run in CI \
                         (start a server with scripts/pg-test-cluster.sh)"
                    );
                }
                eprintln!("skipping PostgreSQL: {PG_URL_VAR} is not set");
                return None;
            }
        };
        static N: AtomicU32 = AtomicU32::new(0);
        let mut name: String = test.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(32).collect();
        name = format!("t_{name}_{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        let mut options = PostgresOptions::new(url.clone());
        options.pool_size = 4;
        options.schema = Some(name.clone());
        let config = StorageConfig::Postgres(options);
        let db = storage::open(&config).expect("open postgresql");
        assert_eq!(db.backend(), "postgresql");
        Some(Harness { db: Some(db), config, _dir: None, pg_schema: Some((url, name)) })
    }

    pub fn db(&self) -> &dyn Database {
        self.db.as_deref().expect("open database")
    }

    pub fn reopen(&mut self) {
        self.db = None;
        self.db = Some(storage::open(&self.config).expect("reopen"));
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.db = None;
        if let Some((url, schema)) = self.pg_schema.take() {
            if let Ok(mut client) = postgres::Client::connect(&url, postgres::NoTls) {
                let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
            }
        }
    }
}

/// Runs every test on SQLite and on PostgreSQL. `db:` tests take `&dyn Database`, `harness:`
/// tests take `&mut Harness`.
#[macro_export]
macro_rules! suite {
    (db: [$($db:ident),* $(,)?], harness: [$($h:ident),* $(,)?] $(,)?) => {
        mod sqlite {
            $( #[test] fn $db() { let h = $crate::common::Harness::sqlite(); super::$db(h.db()); } )*
            $( #[test] fn $h() { let mut h = $crate::common::Harness::sqlite(); super::$h(&mut h); } )*
        }
        mod postgresql {
            $( #[test] fn $db() {
                if let Some(h) = $crate::common::Harness::postgres(stringify!($db)) { super::$db(h.db()); }
            } )*
            $( #[test] fn $h() {
                if let Some(mut h) = $crate::common::Harness::postgres(stringify!($h)) { super::$h(&mut h); }
            } )*
        }
    };
}
