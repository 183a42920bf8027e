//! A MARC record becomes a storable bibliographic record here, and only here.

use storage::{NewRecord, RowValues};

/// Why a record cannot be stored: the catalog refuses it, or it cannot be written as ISO 2709.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrepareError {
    #[error(transparent)]
    Rejected(#[from] catalog::Rejection),
    #[error("cannot be stored as ISO 2709: {0}")]
    Unwritable(String),
}

impl PrepareError {
    /// A stable code for reports and the API.
    pub fn code(&self) -> &'static str {
        match self {
            PrepareError::Rejected(r) => r.code(),
            PrepareError::Unwritable(_) => "unwritable_record",
        }
    }
}

/// Checks that `record` is bibliographic, derives its display and matching fields and
/// serialises it as UTF-8 ISO 2709 (leader/09 `a`), the form the catalog keeps.
pub fn prepare_record(mut record: marc::Record) -> Result<NewRecord, PrepareError> {
    catalog::check_bibliographic(&record)?;
    record.leader.set(9, b'a');
    let derived = catalog::derive(&record);
    let mut marc = Vec::with_capacity(2048);
    marc::iso2709::write_record(&record, &mut marc).map_err(|e| PrepareError::Unwritable(e.to_string()))?;
    // The row's computed columns too, here rather than on the thread that holds the database.
    let row = Some(RowValues::of(&marc, &derived));
    Ok(NewRecord { marc, derived, row })
}
