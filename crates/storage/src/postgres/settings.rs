use super::patrons::lock_registrations;
use super::{Cx, PostgresDatabase};
use crate::settings::{PatronSettingsRefusal, SettingsDocument, SettingsStore, StaleSettings, PATRON_SETTINGS};
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

fn in_category<C: GenericClient>(cx: &mut Cx<'_, C>, category: &catalog::Code) -> Result<u64> {
    let n: i64 = cx.query_one("SELECT count(*) FROM patrons WHERE category = $1", &[&category.as_str()])?.try_get(0)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Writes `body` as the version after `expected_version` (0: the first). The version test is in
/// the statement itself: of two editors who both started from one version, the second's UPDATE
/// waits for the first's row lock, then finds the version moved on and changes nothing; the
/// second INSERT finds the row taken.
fn write_document<C: GenericClient>(
    cx: &mut Cx<'_, C>,
    name: &str,
    body: &str,
    expected_version: i64,
    changed_by: Option<&str>,
    now: DateTime<Utc>,
) -> Result<std::result::Result<SettingsDocument, StaleSettings>> {
    let written = if expected_version == 0 {
        cx.execute(
            "INSERT INTO library_settings (name, body, version, changed_by, changed_at) \
             VALUES ($1, $2::text::jsonb, 1, $3, $4) ON CONFLICT (name) DO NOTHING",
            &[&name, &body, &changed_by, &now],
        )?
    } else {
        cx.execute(
            "UPDATE library_settings SET body = $2::text::jsonb, version = version + 1, changed_by = $3, \
             changed_at = $4 WHERE name = $1 AND version = $5",
            &[&name, &body, &changed_by, &now, &expected_version],
        )?
    };
    let current = document(cx, name)?;
    match current {
        Some(doc) if written == 1 => Ok(Ok(doc)),
        other => Ok(Err(StaleSettings::from_current(name, expected_version, other))),
    }
}

/// Refuses a category the stored patron settings leave out (none stored: the settings file's
/// categories, which the desk checked, are in force). The caller holds `lock_registrations`,
/// which a removal of categories takes too.
pub(super) fn check_category<C: GenericClient>(cx: &mut Cx<'_, C>, category: &catalog::Code) -> Result<()> {
    let missing: Option<bool> = cx
        .query_opt(
            "SELECT NOT ((body -> 'categories') ? $2) FROM library_settings WHERE name = $1",
            &[&PATRON_SETTINGS, &category.as_str()],
        )?
        .map(|r| r.try_get(0))
        .transpose()?;
    if missing == Some(true) {
        return Err(crate::StorageError::NotFound { what: "patron category", key: category.to_string() });
    }
    Ok(())
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
        self.write(|w| write_document(&mut w.cx, name, body, expected_version, changed_by, now))
    }

    fn write_patron_settings(
        &self,
        body: &str,
        expected_version: i64,
        changed_by: Option<&str>,
        now: DateTime<Utc>,
        removed: &[catalog::Code],
    ) -> Result<std::result::Result<SettingsDocument, PatronSettingsRefusal>> {
        self.write(|w| {
            // The lock every registration (and category change) takes first: one in flight
            // commits before the count, which then sees it; one after waits for this write and
            // then finds its category gone.
            lock_registrations(&mut w.cx)?;
            for category in removed {
                let patrons = in_category(&mut w.cx, category)?;
                if patrons > 0 {
                    return Ok(Err(PatronSettingsRefusal::InUse { category: category.clone(), patrons }));
                }
            }
            Ok(write_document(&mut w.cx, PATRON_SETTINGS, body, expected_version, changed_by, now)?
                .map_err(PatronSettingsRefusal::Stale))
        })
    }

    fn patrons_in_category(&self, category: &catalog::Code) -> Result<u64> {
        self.read(|cx| in_category(cx, category))
    }
}
