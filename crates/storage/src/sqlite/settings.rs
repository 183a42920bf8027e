use super::{time, SqliteDatabase};
use crate::settings::{SettingsDocument, SettingsStore, StaleSettings};
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
        self.write_at(now, |tx, at| {
            // The writer connection is held for the whole transaction, so the version read and
            // the write that depends on it cannot interleave with another writer's.
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
        })
    }

    fn patrons_in_category(&self, category: &catalog::Code) -> Result<u64> {
        self.read(|tx| {
            let n: i64 =
                tx.query_row("SELECT count(*) FROM patrons WHERE category = ?1", [category.as_str()], |r| r.get(0))?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }
}
