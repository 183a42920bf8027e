use super::{Cx, PostgresDatabase};
use crate::settings::{SettingsDocument, SettingsStore, StaleSettings};
use crate::Result;
use chrono::{DateTime, Utc};
use postgres::{GenericClient, Row};

const COLUMNS: &str = "SELECT name, body::text, version, changed_by, changed_at FROM library_settings";

fn from_row(r: &Row) -> Result<SettingsDocument> {
    Ok(SettingsDocument {
        name: r.try_get(0)?,
        body: r.try_get(1)?,
        version: r.try_get(2)?,
        changed_by: r.try_get(3)?,
        changed_at: r.try_get(4)?,
    })
}

fn document<C: GenericClient>(cx: &mut Cx<'_, C>, name: &str) -> Result<Option<SettingsDocument>> {
    cx.query_opt(&format!("{COLUMNS} WHERE name = $1"), &[&name])?.as_ref().map(from_row).transpose()
}

impl SettingsStore for PostgresDatabase {
    fn settings_document(&self, name: &str) -> Result<Option<SettingsDocument>> {
        self.read(|cx| document(cx, name))
    }

    fn settings_documents(&self) -> Result<Vec<SettingsDocument>> {
        self.read(|cx| cx.query(&format!("{COLUMNS} ORDER BY name"), &[])?.iter().map(from_row).collect())
    }

    fn write_settings_document(
        &self,
        name: &str,
        body: &str,
        expected_version: i64,
        changed_by: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<SettingsDocument, StaleSettings>> {
        self.write(|w| {
            // The version test is in the statement itself: of two editors who both started from
            // one version, the second's UPDATE waits for the first's row lock, then finds the
            // version moved on and changes nothing; the second INSERT finds the row taken.
            let written = if expected_version == 0 {
                w.cx.execute(
                    "INSERT INTO library_settings (name, body, version, changed_by, changed_at) \
                     VALUES ($1, $2::text::jsonb, 1, $3, $4) ON CONFLICT (name) DO NOTHING",
                    &[&name, &body, &changed_by, &now],
                )?
            } else {
                w.cx.execute(
                    "UPDATE library_settings SET body = $2::text::jsonb, version = version + 1, changed_by = $3, \
                     changed_at = $4 WHERE name = $1 AND version = $5",
                    &[&name, &body, &changed_by, &now, &expected_version],
                )?
            };
            let current = document(&mut w.cx, name)?;
            match current {
                Some(doc) if written == 1 => Ok(Ok(doc)),
                other => Ok(Err(StaleSettings::from_current(name, expected_version, other))),
            }
        })
    }

    fn patrons_in_category(&self, category: &catalog::Code) -> Result<u64> {
        self.read(|cx| {
            let n: i64 =
                cx.query_one("SELECT count(*) FROM patrons WHERE category = $1", &[&category.as_str()])?.try_get(0)?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }
}
