use super::{time, SqliteDatabase};
use crate::settings::{PatronSettingsRefusal, SettingsDocument, SettingsStore, StaleSettings, PATRON_SETTINGS};
use crate::Result;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

const COLUMNS: &str = "SELECT name, body, version, changed_by, changed_at FROM library_settings";

fn document(tx: &Connection, name: &str) -> Result<Option<SettingsDocument>> {
    let row = tx
        .prepare_cached(&format!("{COLUMNS} WHERE name = ?1"))?
        .query_row([name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get::<_, String>(4)?)))
        .optional()?;
    row.map(|(name, body, version, changed_by, at)| {
        Ok(SettingsDocument { name, body, version, changed_by, changed_at: time(&at)? })
    })
    .transpose()
}

fn in_category(tx: &Connection, category: &catalog::Code) -> Result<u64> {
    let n: i64 = tx.query_row("SELECT count(*) FROM patrons WHERE category = ?1", [category.as_str()], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Writes `body` as the version after `expected_version` (0: the first), in the writer's
/// transaction, so the version read and the write that depends on it cannot interleave with
/// another writer's.
fn write_document(
    tx: &Connection,
    name: &str,
    body: &str,
    expected_version: i64,
    changed_by: Option<&str>,
    at: &str,
) -> Result<std::result::Result<SettingsDocument, StaleSettings>> {
    let written = if expected_version == 0 {
        tx.execute(
            "INSERT INTO library_settings (name, body, version, changed_by, changed_at) \
             VALUES (?1, ?2, 1, ?3, ?4) ON CONFLICT (name) DO NOTHING",
            params![name, body, changed_by, at],
        )?
    } else {
        tx.execute(
            "UPDATE library_settings SET body = ?2, version = version + 1, changed_by = ?3, changed_at = ?4 \
             WHERE name = ?1 AND version = ?5",
            params![name, body, changed_by, at, expected_version],
        )?
    };
    let current = document(tx, name)?;
    match current {
        Some(doc) if written == 1 => Ok(Ok(doc)),
        other => Ok(Err(StaleSettings::from_current(name, expected_version, other))),
    }
}

/// Refuses a category the stored patron settings leave out (none stored: the settings file's
/// categories, which the desk checked, are in force). Run in the writer's transaction of a
/// registration or patron edit, so it and a removal of the category are one before the other.
pub(crate) fn check_category(tx: &Connection, category: &catalog::Code) -> Result<()> {
    let missing: Option<bool> = tx
        .prepare_cached(
            "SELECT json_type(body, '$.categories.\"' || ?2 || '\"') IS NULL FROM library_settings WHERE name = ?1",
        )?
        .query_row(params![PATRON_SETTINGS, category.as_str()], |r| r.get(0))
        .optional()?;
    if missing == Some(true) {
        return Err(crate::StorageError::NotFound { what: "patron category", key: category.to_string() });
    }
    Ok(())
}

impl SettingsStore for SqliteDatabase {
    fn settings_document(&self, name: &str) -> Result<Option<SettingsDocument>> {
        self.read(|tx| document(tx, name))
    }

    fn settings_documents(&self) -> Result<Vec<SettingsDocument>> {
        self.read(|tx| {
            let mut st = tx.prepare_cached(&format!("{COLUMNS} ORDER BY name"))?;
            let rows =
                st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get::<_, String>(4)?)))?;
            rows.map(|r| {
                let (name, body, version, changed_by, at) = r?;
                Ok(SettingsDocument { name, body, version, changed_by, changed_at: time(&at)? })
            })
            .collect()
        })
    }

    fn write_settings_document(
        &self,
        name: &str,
        body: &str,
        expected_version: i64,
        changed_by: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<SettingsDocument, StaleSettings>> {
        self.write_at(now, |tx, at| write_document(tx, name, body, expected_version, changed_by, at))
    }

    fn write_patron_settings(
        &self,
        body: &str,
        expected_version: i64,
        changed_by: Option<&str>,
        now: DateTime<Utc>,
        removed: &[catalog::Code],
    ) -> Result<std::result::Result<SettingsDocument, PatronSettingsRefusal>> {
        // One writer at a time: no registration commits between the count and the write.
        self.write_at(now, |tx, at| {
            for category in removed {
                let patrons = in_category(tx, category)?;
                if patrons > 0 {
                    return Ok(Err(PatronSettingsRefusal::InUse { category: category.clone(), patrons }));
                }
            }
            Ok(write_document(tx, PATRON_SETTINGS, body, expected_version, changed_by, at)?
                .map_err(PatronSettingsRefusal::Stale))
        })
    }

    fn patrons_in_category(&self, category: &catalog::Code) -> Result<u64> {
        self.read(|tx| in_category(tx, category))
    }
}
