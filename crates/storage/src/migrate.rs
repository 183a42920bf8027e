//! Versioned migrations, compiled into the binary. Each backend has one SQL file per version in
//! `migrations/<backend>/NNNN_name.sql`; they are applied in order when the database is opened,
//! each in its own transaction together with its row in `schema_migrations`. Applied versions
//! are never edited: a schema change is a new file (in both directories).

use crate::{Result, StorageError};

#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

pub(crate) const SQLITE: &[Migration] = &[
    Migration { version: 1, name: "initial", sql: include_str!("../migrations/sqlite/0001_initial.sql") },
    Migration { version: 2, name: "shelf", sql: include_str!("../migrations/sqlite/0002_shelf.sql") },
    Migration { version: 3, name: "loans", sql: include_str!("../migrations/sqlite/0003_loans.sql") },
    Migration { version: 4, name: "staff", sql: include_str!("../migrations/sqlite/0004_staff.sql") },
    Migration { version: 5, name: "patrons", sql: include_str!("../migrations/sqlite/0005_patrons.sql") },
    Migration { version: 6, name: "holds", sql: include_str!("../migrations/sqlite/0006_holds.sql") },
    Migration { version: 7, name: "ledger", sql: include_str!("../migrations/sqlite/0007_ledger.sql") },
    Migration { version: 8, name: "notices", sql: include_str!("../migrations/sqlite/0008_notices.sql") },
    Migration { version: 9, name: "closures", sql: include_str!("../migrations/sqlite/0009_closures.sql") },
    Migration { version: 10, name: "selfcheck", sql: include_str!("../migrations/sqlite/0010_selfcheck.sql") },
    Migration { version: 11, name: "oai", sql: include_str!("../migrations/sqlite/0011_oai.sql") },
    Migration {
        version: 12,
        name: "patron_sessions",
        sql: include_str!("../migrations/sqlite/0012_patron_sessions.sql"),
    },
    Migration {
        version: 13,
        name: "staged_imports",
        sql: include_str!("../migrations/sqlite/0013_staged_imports.sql"),
    },
    Migration { version: 14, name: "reports", sql: include_str!("../migrations/sqlite/0014_reports.sql") },
    Migration {
        version: 15,
        name: "library_settings",
        sql: include_str!("../migrations/sqlite/0015_library_settings.sql"),
    },
    Migration { version: 16, name: "report_counts", sql: include_str!("../migrations/sqlite/0016_report_counts.sql") },
    Migration { version: 17, name: "patron_search", sql: include_str!("../migrations/sqlite/0017_patron_search.sql") },
    Migration { version: 18, name: "bulk_changes", sql: include_str!("../migrations/sqlite/0018_bulk_changes.sql") },
    Migration {
        version: 19,
        name: "report_counts_more",
        sql: include_str!("../migrations/sqlite/0019_report_counts_more.sql"),
    },
    Migration { version: 20, name: "title_copies", sql: include_str!("../migrations/sqlite/0020_title_copies.sql") },
    Migration {
        version: 21,
        name: "title_holds_years",
        sql: include_str!("../migrations/sqlite/0021_title_holds_years.sql"),
    },
];

pub(crate) const POSTGRES: &[Migration] = &[
    Migration { version: 1, name: "initial", sql: include_str!("../migrations/postgres/0001_initial.sql") },
    Migration { version: 2, name: "shelf", sql: include_str!("../migrations/postgres/0002_shelf.sql") },
    Migration { version: 3, name: "loans", sql: include_str!("../migrations/postgres/0003_loans.sql") },
    Migration { version: 4, name: "staff", sql: include_str!("../migrations/postgres/0004_staff.sql") },
    Migration { version: 5, name: "patrons", sql: include_str!("../migrations/postgres/0005_patrons.sql") },
    Migration { version: 6, name: "holds", sql: include_str!("../migrations/postgres/0006_holds.sql") },
    Migration { version: 7, name: "ledger", sql: include_str!("../migrations/postgres/0007_ledger.sql") },
    Migration { version: 8, name: "notices", sql: include_str!("../migrations/postgres/0008_notices.sql") },
    Migration { version: 9, name: "closures", sql: include_str!("../migrations/postgres/0009_closures.sql") },
    Migration { version: 10, name: "selfcheck", sql: include_str!("../migrations/postgres/0010_selfcheck.sql") },
    Migration { version: 11, name: "oai", sql: include_str!("../migrations/postgres/0011_oai.sql") },
    Migration {
        version: 12,
        name: "patron_sessions",
        sql: include_str!("../migrations/postgres/0012_patron_sessions.sql"),
    },
    Migration {
        version: 13,
        name: "staged_imports",
        sql: include_str!("../migrations/postgres/0013_staged_imports.sql"),
    },
    Migration { version: 14, name: "reports", sql: include_str!("../migrations/postgres/0014_reports.sql") },
    Migration {
        version: 15,
        name: "library_settings",
        sql: include_str!("../migrations/postgres/0015_library_settings.sql"),
    },
    Migration {
        version: 16,
        name: "report_counts",
        sql: include_str!("../migrations/postgres/0016_report_counts.sql"),
    },
    Migration {
        version: 17,
        name: "patron_search",
        sql: include_str!("../migrations/postgres/0017_patron_search.sql"),
    },
    Migration { version: 18, name: "bulk_changes", sql: include_str!("../migrations/postgres/0018_bulk_changes.sql") },
    Migration {
        version: 19,
        name: "report_counts_more",
        sql: include_str!("../migrations/postgres/0019_report_counts_more.sql"),
    },
    Migration { version: 20, name: "title_copies", sql: include_str!("../migrations/postgres/0020_title_copies.sql") },
    Migration {
        version: 21,
        name: "title_holds_years",
        sql: include_str!("../migrations/postgres/0021_title_holds_years.sql"),
    },
];

/// Refuses a database that a newer Shelfmark migrated past what this binary knows.
pub(crate) fn check_not_newer(applied_max: Option<i64>, known: &[Migration]) -> Result<()> {
    let latest = known.iter().map(|m| m.version).max().unwrap_or(0);
    match applied_max {
        Some(v) if v > i64::from(latest) => Err(StorageError::Migration {
            version: u32::try_from(v).unwrap_or(u32::MAX),
            message: format!(
                "the database is at schema version {v} but this Shelfmark knows versions up to {latest}: \
                 run a newer Shelfmark"
            ),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_in_order_and_match_between_backends() {
        for list in [SQLITE, POSTGRES] {
            for (i, m) in list.iter().enumerate() {
                assert_eq!(m.version as usize, i + 1, "{}", m.name);
            }
        }
        let names = |l: &[Migration]| l.iter().map(|m| (m.version, m.name)).collect::<Vec<_>>();
        assert_eq!(names(SQLITE), names(POSTGRES));
    }
}
