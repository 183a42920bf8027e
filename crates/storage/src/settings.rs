//! The library's edited settings: one JSON document per name (`circulation`, `patrons`), each
//! with a version that counts its edits, who made the last one and when.
//!
//! Storage keeps the text and the version; what the document means is the desk's business (it
//! checks a document before it is written and again when it reads it). A write names the version
//! the editor started from and succeeds only if that is still the stored one (compare and swap):
//! of two managers editing at once, the second to save is told who changed the settings in
//! between, rather than silently undoing their change.

use crate::Result;
use chrono::{DateTime, Utc};

/// A stored settings document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsDocument {
    /// `circulation` or `patrons`.
    pub name: String,
    /// The document, JSON.
    pub body: String,
    /// 1 for the first edit, one more for each edit after it.
    pub version: i64,
    /// The staff login that saved this version.
    pub changed_by: Option<String>,
    pub changed_at: DateTime<Utc>,
}

/// A write refused because the stored version is no longer the one the editor started from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the {name} settings were changed{} since this form was opened (version {current}, not {expected}): \
     reload them, look at that change, and make yours again",
    changed.as_ref().map(|(by, at)| format!(" by {} at {}", by.as_deref().unwrap_or("the system"), at.format("%Y-%m-%d %H:%M UTC"))).unwrap_or_default()
)]
pub struct StaleSettings {
    pub name: String,
    /// The version the editor started from (0: the settings file's, nothing stored).
    pub expected: i64,
    /// The version stored now (0: nothing stored).
    pub current: i64,
    /// Who saved the current version, and when.
    pub changed: Option<(Option<String>, DateTime<Utc>)>,
}

impl StaleSettings {
    pub(crate) fn from_current(name: &str, expected: i64, current: Option<SettingsDocument>) -> StaleSettings {
        StaleSettings {
            name: name.to_string(),
            expected,
            current: current.as_ref().map_or(0, |d| d.version),
            changed: current.map(|d| (d.changed_by, d.changed_at)),
        }
    }
}

/// Why the patron settings were not written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatronSettingsRefusal {
    /// Someone saved since the editor started.
    Stale(StaleSettings),
    /// Patrons are in a category the new settings leave out (the first such category).
    InUse { category: catalog::Code, patrons: u64 },
}

/// The name of the patron settings document, whose `categories` registration checks.
pub const PATRON_SETTINGS: &str = "patrons";

/// The edited settings. Every method is one transaction.
pub trait SettingsStore {
    /// The stored document of that name, if staff ever saved one.
    fn settings_document(&self, name: &str) -> Result<Option<SettingsDocument>>;

    /// Every stored document, by name.
    fn settings_documents(&self) -> Result<Vec<SettingsDocument>>;

    /// Stores `body` (JSON) as the next version of `name` if the stored version is still
    /// `expected_version` (0: nothing stored yet); else the [`StaleSettings`] naming the version
    /// stored now and who saved it, and nothing is written.
    fn write_settings_document(
        &self,
        name: &str,
        body: &str,
        expected_version: i64,
        changed_by: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<SettingsDocument, StaleSettings>>;

    /// Stores the patron settings document ([`PATRON_SETTINGS`]) as
    /// [`SettingsStore::write_settings_document`] does, unless a patron is in one of the
    /// `removed` categories: counted in the same transaction as the write. Registration and
    /// patron edits check their category against the stored document in their own transaction
    /// ([`crate::patrons::PatronStore::register_patron`]), and the two exclude each other, so no
    /// patron lands in a category as it is removed: either the patron is counted and the removal
    /// refused, or the removal is stored and the patron refused.
    fn write_patron_settings(
        &self,
        body: &str,
        expected_version: i64,
        changed_by: Option<&str>,
        now: DateTime<Utc>,
        removed: &[catalog::Code],
    ) -> Result<std::result::Result<SettingsDocument, PatronSettingsRefusal>>;

    /// How many patrons are in the category (a category patrons still have cannot go). A rare
    /// administrative question, so it reads the table rather than keep an index for it.
    fn patrons_in_category(&self, category: &catalog::Code) -> Result<u64>;
}
