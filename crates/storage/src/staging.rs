//! Staged imports: a MARC file parsed and matched, kept in the database until staff choose how
//! to import it (add, replace or skip the records that match the catalog). The import itself is
//! `import`'s engine reading the staged records; this store only keeps the batch, its records
//! and its state, and lets exactly one request move a batch from staged to applying.
//!
//! Implemented by both backends (`sqlite/staging.rs`, `postgres/staging.rs`); a supertrait of
//! [`crate::Database`].

use crate::{BibId, OnMatch};
use chrono::{DateTime, Utc};

pub type BatchId = i64;

/// Where a batch is in its life: staged (may be applied), applying (one request is importing
/// it), applied (done; never again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchState {
    Staged,
    Applying,
    Applied,
}

impl BatchState {
    pub fn as_str(self) -> &'static str {
        match self {
            BatchState::Staged => "staged",
            BatchState::Applying => "applying",
            BatchState::Applied => "applied",
        }
    }

    pub fn parse(s: &str) -> Option<BatchState> {
        [BatchState::Staged, BatchState::Applying, BatchState::Applied].into_iter().find(|b| b.as_str() == s)
    }
}

/// `add`, `replace` or `skip`, as stored.
pub fn on_match_str(on_match: OnMatch) -> &'static str {
    match on_match {
        OnMatch::Add => "add",
        OnMatch::Replace => "replace",
        OnMatch::Skip => "skip",
    }
}

pub fn parse_on_match(s: &str) -> Option<OnMatch> {
    [OnMatch::Add, OnMatch::Replace, OnMatch::Skip].into_iter().find(|m| on_match_str(*m) == s)
}

/// A file to stage: its name, its format (`iso2709` or `marcxml`) and who uploaded it when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBatch {
    pub file_name: String,
    pub format: String,
    pub staged_by: String,
    pub staged_at: DateTime<Utc>,
}

/// The catalog record a staged record matched when it was staged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedMatch {
    pub bib_id: BibId,
    /// Byte-identical MARC: importing it changes nothing whatever the choice.
    pub identical: bool,
    /// Which key matched, as staff read it ("001 ocm123 (003 OCoLC)", "ISBN 9780...").
    pub key: String,
    pub title: String,
}

/// One record of a staged file, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedRecord {
    /// 1 for the file's first record.
    pub number: i64,
    pub byte_offset: i64,
    pub title: String,
    /// The record as the import reads it (UTF-8 ISO 2709, items included); `None` when it
    /// could not be read or is not a bibliographic record.
    pub marc: Option<Vec<u8>>,
    /// Why it stays out, when `marc` is `None`.
    pub problem: Option<String>,
    pub matched: Option<StagedMatch>,
}

/// A staged file and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub id: BatchId,
    pub file_name: String,
    pub format: String,
    pub staged_by: String,
    pub staged_at: DateTime<Utc>,
    /// Records in the file, those that failed, those that matched a catalog record.
    pub records: i64,
    pub failed: i64,
    pub matched: i64,
    pub state: BatchState,
    /// The choice it was applied with.
    pub on_match: Option<OnMatch>,
    pub applied_by: Option<String>,
    pub applied_at: Option<DateTime<Utc>>,
    /// What the import did (its counts, as JSON), once applied.
    pub result: Option<String>,
}

pub trait StagingStore {
    /// Stores a batch and its records (in file order) in one transaction, state staged.
    fn stage_batch(&self, batch: &NewBatch, records: &[StagedRecord]) -> crate::Result<Batch>;
    fn batch(&self, id: BatchId) -> crate::Result<Option<Batch>>;
    /// The newest batches first, at most `limit`.
    fn batches(&self, limit: u32) -> crate::Result<Vec<Batch>>;
    /// The batch's records with a number above `after`, in file order, at most `limit`.
    fn staged_records(&self, id: BatchId, after: i64, limit: u32) -> crate::Result<Vec<StagedRecord>>;
    /// The MARC of the batch's readable records with their numbers in the file, in file order.
    fn staged_marc(&self, id: BatchId) -> crate::Result<Vec<(i64, Vec<u8>)>>;
    /// Moves the batch from staged to applying with this choice; `None` (and nothing written)
    /// when it is not staged: another request applies it, or applied it already.
    /// [`crate::StorageError::NotFound`] for an unknown batch.
    fn start_applying(
        &self,
        id: BatchId,
        on_match: OnMatch,
        by: &str,
        now: DateTime<Utc>,
    ) -> crate::Result<Option<Batch>>;
    /// Ends an application: applied with its result, or (`result` `None`: the import failed)
    /// back to staged so that it can be tried again.
    fn finish_applying(&self, id: BatchId, result: Option<&str>) -> crate::Result<Batch>;
    /// Back to staged a batch whose application started before `started_before` and never
    /// finished (the server stopped mid-import); `false`, and nothing written, for any other
    /// batch, so a running or a fresh application is never released.
    fn release_applying(&self, id: BatchId, started_before: DateTime<Utc>) -> crate::Result<bool>;
}
