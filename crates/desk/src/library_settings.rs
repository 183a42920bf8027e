//! Settings edited by staff: the rule matrix, the calendars and the patron categories change
//! while the library is open, and every front end uses the new ones at once.
//!
//! `shelfmark.toml` is the starting point of a new library; once staff save a settings document
//! (`circulation` or `patrons`, stored as JSON by [`storage::settings`]), the stored one takes
//! its place. An edit is checked with the same `build` as the file (its errors name the row and
//! field), stored with a compare-and-swap on the version the editor started from, and swapped
//! into the desk's shared settings in one step: every clone of the [`Desk`] (the web server's,
//! the SIP2 server's, the job scheduler's) sees it, and an operation running at that moment keeps
//! the settings it started with, old or new, never a mix. Other servers on the same database pick
//! an edit up when [`Desk::load_settings`] runs (at start-up, and at every tick of the jobs scheduler).

use crate::patrons::{PatronRules, PatronSettings};
use crate::{CirculationSettings, Desk, DeskError, SettingsError};
use catalog::Code;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use storage::settings::{PatronSettingsRefusal, SettingsDocument};
use storage::Database;

/// The stored document names.
const CIRCULATION: &str = "circulation";
const PATRONS: &str = "patrons";

/// Which version of a settings document is in force, and who saved it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsStamp {
    /// 0: the settings file's (nothing edited yet); the editor sends it back when saving.
    pub version: i64,
    pub changed_by: Option<String>,
    pub changed_at: Option<DateTime<Utc>>,
}

impl SettingsStamp {
    fn of(doc: &SettingsDocument) -> SettingsStamp {
        SettingsStamp { version: doc.version, changed_by: doc.changed_by.clone(), changed_at: Some(doc.changed_at) }
    }
}

/// A stored document read back: it was checked when it was saved, but a newer Shelfmark may
/// read settings differently, so it is checked again and a failure names the document.
fn stored<T: serde::de::DeserializeOwned>(doc: &SettingsDocument) -> Result<T, SettingsError> {
    serde_json::from_str(&doc.body).map_err(|e| SettingsError {
        place: format!("stored {} settings (version {})", doc.name, doc.version),
        message: e.to_string(),
    })
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, DeskError> {
    serde_json::to_string(value)
        .map_err(|e| DeskError::Storage(storage::StorageError::Other(format!("settings as JSON: {e}"))))
}

impl Desk {
    /// Reads the edited settings and the emergency closures, and puts them in force: a stored
    /// document takes the place of the configured settings of its name. Called at start-up and
    /// at every tick of the jobs scheduler (a minute in `serve`), so an edit saved through another server is seen here too.
    pub fn load_settings(&self, db: &dyn Database) -> Result<(), DeskError> {
        let docs = db.settings_documents()?;
        let closures: Vec<(Code, chrono::NaiveDate)> = db.closures()?.into_iter().map(|c| (c.branch, c.day)).collect();
        let doc = |name: &str| docs.iter().find(|d| d.name == name);
        let (circulation_version, patrons_version, same_closures) = {
            let live = self.live();
            (live.circulation_stamp.version, live.patrons_stamp.version, live.closures == closures)
        };
        // Only a version newer than the one in force is read and built (every scheduler tick
        // calls this); a version this desk saved after the read above is newer still: keep it.
        let circulation = match doc(CIRCULATION) {
            Some(d) if d.version > circulation_version => {
                Some((Arc::new(stored::<CirculationSettings>(d)?.build()?), SettingsStamp::of(d)))
            }
            Some(_) => None,
            None if circulation_version > 0 => Some((self.configured.circulation.clone(), SettingsStamp::default())),
            None => None,
        };
        let patrons = match doc(PATRONS) {
            Some(d) if d.version > patrons_version => {
                Some((Arc::new(stored::<PatronSettings>(d)?.build()?), SettingsStamp::of(d)))
            }
            Some(_) => None,
            None if patrons_version > 0 => Some((self.configured.patrons.clone(), SettingsStamp::default())),
            None => None,
        };
        if circulation.is_none() && patrons.is_none() && same_closures {
            return Ok(());
        }
        let mut live = self.live_mut();
        if let Some((c, stamp)) = circulation {
            if stamp.version == 0 || stamp.version > live.circulation_stamp.version {
                live.circulation = c;
                live.circulation_stamp = stamp;
            }
        }
        if let Some((p, stamp)) = patrons {
            if stamp.version == 0 || stamp.version > live.patrons_stamp.version {
                live.patrons = p;
                live.patrons_stamp = stamp;
            }
        }
        live.closures = closures;
        live.current = Arc::new(live.circulation.with_closures(live.closures.iter().map(|(b, d)| (b, *d))));
        Ok(())
    }

    /// The circulation settings in force as written (what an editor starts from), and their
    /// version.
    pub fn circulation_settings(&self) -> (CirculationSettings, SettingsStamp) {
        let live = self.live();
        (live.circulation.source.clone(), live.circulation_stamp.clone())
    }

    /// The patron settings in force as written, and their version.
    pub fn patron_settings(&self) -> (PatronSettings, SettingsStamp) {
        let live = self.live();
        (live.patrons.source.clone(), live.patrons_stamp.clone())
    }

    /// Puts `settings` in force for every front end: checked (an error names the row and
    /// field, and nothing changes), stored as the version after `expected_version` (the one
    /// the editor started from; [`DeskError::StaleSettings`] if someone saved since), then
    /// swapped in. Returns the new version.
    pub fn update_circulation(
        &self,
        db: &dyn Database,
        settings: CirculationSettings,
        expected_version: i64,
        by: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<SettingsStamp, DeskError> {
        let built = Arc::new(settings.build()?);
        let doc = db.write_settings_document(CIRCULATION, &json(&settings)?, expected_version, by, now)??;
        let stamp = SettingsStamp::of(&doc);
        let mut live = self.live_mut();
        // Two saves through this desk commit in version order but may reach here in either.
        if stamp.version > live.circulation_stamp.version {
            live.current = Arc::new(built.with_closures(live.closures.iter().map(|(b, d)| (b, *d))));
            live.circulation = built;
            live.circulation_stamp = stamp.clone();
        }
        Ok(stamp)
    }

    /// Puts the patron settings in force, as [`Desk::update_circulation`] does. A category that
    /// patrons still have cannot be removed: [`DeskError::Invalid`] on `categories` says how many.
    pub fn update_patron_settings(
        &self,
        db: &dyn Database,
        settings: PatronSettings,
        expected_version: i64,
        by: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<SettingsStamp, DeskError> {
        let built: Arc<PatronRules> = Arc::new(settings.build()?);
        let before = self.patron_rules();
        let removed: Vec<Code> = before
            .registration
            .categories
            .keys()
            .filter(|code| !built.registration.categories.contains_key(*code))
            .cloned()
            .collect();
        // Counted in the write's own transaction, which registrations exclude: a patron
        // registered into a removed category in between is either counted or refused.
        let doc = match db.write_patron_settings(&json(&settings)?, expected_version, by, now, &removed)? {
            Ok(doc) => doc,
            Err(PatronSettingsRefusal::InUse { category, patrons }) => return Err(in_use(&category, patrons)),
            Err(PatronSettingsRefusal::Stale(stale)) => return Err(stale.into()),
        };
        let stamp = SettingsStamp::of(&doc);
        let mut live = self.live_mut();
        if stamp.version > live.patrons_stamp.version {
            live.patrons = built;
            live.patrons_stamp = stamp.clone();
        }
        Ok(stamp)
    }
}

fn in_use(code: &Code, n: u64) -> DeskError {
    let patrons = if n == 1 { "1 patron is".to_string() } else { format!("{n} patrons are") };
    DeskError::Invalid {
        field: "categories",
        message: format!("{patrons} in category {code}: move them to another category before deleting it"),
    }
}
