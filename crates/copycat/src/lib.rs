//! Copy cataloging: finding a record another library has already catalogued and bringing it
//! into ours.
//!
//! - [`settings`]: the `[[copycat.targets]]` list (SRU and Z39.50 targets), checked at start-up.
//! - [`CopyQuery`]: what staff search by (ISBN, ISSN, LCCN, title, author, keywords) and its CQL.
//! - [`Source`]: a target as something to search; [`source_for`] picks SRU ([`sru`] reads the
//!   responses) or, once it is wired in, Z39.50.
//! - [`search`]: several targets at once, one thread each, each within its timeout; a target
//!   that fails is reported beside the others' results.
//! - [`Candidate`]: a found record with its [`Summary`] (from `catalog::derive`) and its
//!   [`preview`] in MARC mnemonic form; [`in_catalog`] says whether the catalog already holds it,
//!   by the import's own matching.
//! - [`import`]: a chosen record through `import::prepare_record` and `Database::import_batch`
//!   (matching, on-match policy, the change feed) in one transaction.
//!
//! API boundary: no HTTP server, no CLI; `web` and `shelfmark` call these functions.

pub mod settings;
pub mod sru;

mod query;
mod record;
mod source;

use std::sync::mpsc;
use std::time::{Duration, Instant};

pub use query::{quote, CopyQuery, QueryError, ACCESS_POINTS};
pub use record::{decode, preview, Summary};
pub use settings::{CopycatSettings, SettingsError, Target, TargetSettings, Targets};
pub use source::{source_for, Found, Source, SruSource, Z3950Source};
pub use storage::OnMatch;

/// A record as a target sent it, before it is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawRecord {
    /// ISO 2709 bytes (Z39.50), read in the target's configured encoding.
    Iso2709(Vec<u8>),
    /// A MARCXML `record` (SRU).
    MarcXml(String),
    /// The target could not send this record; why.
    Diagnostic(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CopycatError {
    #[error("no target is named {0:?}")]
    UnknownTarget(String),
    #[error("{0}")]
    Connection(String),
    #[error("no answer from {location} within {seconds} s")]
    Timeout { seconds: u64, location: String },
    #[error("HTTP status {status}: {detail}")]
    Http { status: u16, detail: String },
    #[error("SRU diagnostic {uri}{}{}", message.as_deref().map(|m| format!(" ({m})")).unwrap_or_default(), details.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Diagnostic { uri: String, message: Option<String>, details: Option<String> },
    #[error("Bib-1 diagnostic {code} ({message}){}", addinfo.as_deref().map(|a| format!(": {a}")).unwrap_or_default())]
    Bib1Diagnostic { code: u32, message: String, addinfo: Option<String> },
    #[error("{0}")]
    Response(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("the target has no record at position {position} for this search ({available} returned)")]
    NoSuchPosition { position: usize, available: usize },
    #[error("record {position}: {reason}")]
    Unreadable { position: usize, reason: String },
    /// The catalog refuses the record; `code` is the import's stable reason code.
    #[error("{code}: {reason}")]
    Rejected { code: String, reason: String },
    #[error("storage: {0}")]
    Storage(String),
}

impl From<storage::StorageError> for CopycatError {
    fn from(e: storage::StorageError) -> Self {
        CopycatError::Storage(e.to_string())
    }
}

/// One record a target found, read and summarised.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// 1-based, in the target's order: the number staff pick it by.
    pub position: usize,
    pub record: marc::Record,
    pub summary: Summary,
    /// What the reader repaired (a bad indicator, a MARC-8 character it could not map...).
    pub warnings: Vec<String>,
}

/// What one target answered.
#[derive(Debug, Clone)]
pub struct Hits {
    /// Every record the target matched, not only those returned.
    pub hits: u64,
    pub candidates: Vec<Candidate>,
    /// Records the target returned that could not be read: position and why.
    pub unreadable: Vec<(usize, String)>,
}

/// One target's part of a search: its name and its hits, or why it gave none.
#[derive(Debug, Clone)]
pub struct TargetResult {
    pub target: String,
    pub outcome: Result<Hits, CopycatError>,
}

/// How a candidate stands against our catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InCatalog {
    /// Not held: an import adds it.
    No,
    /// Held byte for byte as record `id`: an import changes nothing.
    Identical(storage::BibId),
    /// Held as record `id` (same 001+003, OCLC number or ISBN).
    Matched(storage::BibId),
    /// The catalog would refuse it (no 245, an authority record...), with the reason.
    Refused(String),
}

/// The most records one search asks a target for.
pub const MAX_RECORDS: usize = 50;

/// Searches every target at once, one thread each, and waits for each at most its timeout (and
/// a second's grace for reading what arrived). A target that cannot be reached, times out or
/// answers with a diagnostic gives an error in its own [`TargetResult`]; the others are
/// unaffected. Results come in the order of `targets`.
pub fn search(targets: &[Target], query: &CopyQuery, max: usize) -> Vec<TargetResult> {
    search_with(targets, query, max, source_for)
}

/// [`search`] with the sources made by `make` (tests give their own).
pub fn search_with(
    targets: &[Target],
    query: &CopyQuery,
    max: usize,
    make: fn(&Target) -> Result<Box<dyn Source>, CopycatError>,
) -> Vec<TargetResult> {
    let max = max.clamp(1, MAX_RECORDS);
    let started = Instant::now();
    let pending: Vec<(Target, mpsc::Receiver<Result<Hits, CopycatError>>)> = targets
        .iter()
        .map(|target| {
            let (tx, rx) = mpsc::sync_channel(1);
            let (t, q) = (target.clone(), query.clone());
            // Threads are not joined: one stuck past its timeout is left to finish on its own
            // (its answer is dropped) rather than holding up the others' results.
            let spawned = std::thread::Builder::new().name(format!("copycat-{}", target.name)).spawn(move || {
                let outcome = make(&t).and_then(|source| source.search(&q, max)).map(|found| read_found(found, &t));
                let _ = tx.send(outcome);
            });
            if let Err(e) = spawned {
                let (tx, rx) = mpsc::sync_channel(1);
                let _ = tx.send(Err(CopycatError::Connection(format!("cannot start a thread: {e}"))));
                return (target.clone(), rx);
            }
            (target.clone(), rx)
        })
        .collect();
    pending
        .into_iter()
        .map(|(target, rx)| {
            let deadline = target.timeout + Duration::from_secs(1);
            let left = deadline.saturating_sub(started.elapsed());
            let outcome = match rx.recv_timeout(left) {
                Ok(outcome) => outcome,
                Err(_) => Err(CopycatError::Timeout {
                    seconds: target.timeout.as_secs(),
                    location: target.endpoint.location(),
                }),
            };
            TargetResult { target: target.name, outcome }
        })
        .collect()
}

/// The target's records read into candidates, in the target's order.
fn read_found(found: Found, target: &Target) -> Hits {
    let mut candidates = Vec::new();
    let mut unreadable = Vec::new();
    for (i, raw) in found.records.into_iter().enumerate() {
        let position = i + 1;
        match record::decode(&raw, target.encoding) {
            Ok((record, warnings)) => {
                let summary = Summary::of(&record);
                candidates.push(Candidate { position, record, summary, warnings });
            }
            Err(reason) => unreadable.push((position, reason)),
        }
    }
    Hits { hits: found.hits, candidates, unreadable }
}

/// Searches one target again and returns the record at `position` (1-based), for an import
/// chosen from an earlier result list.
pub fn fetch(target: &Target, query: &CopyQuery, position: usize) -> Result<Candidate, CopycatError> {
    let max = position.max(1);
    if max > MAX_RECORDS {
        return Err(CopycatError::NoSuchPosition { position, available: MAX_RECORDS });
    }
    let [result] = &search(std::slice::from_ref(target), query, max)[..] else {
        return Err(CopycatError::Response("one target searched, but not one result".into()));
    };
    let hits = result.outcome.clone()?;
    if let Some((_, reason)) = hits.unreadable.iter().find(|(p, _)| *p == position) {
        return Err(CopycatError::Unreadable { position, reason: reason.clone() });
    }
    let available = hits.candidates.len() + hits.unreadable.len();
    hits.candidates
        .into_iter()
        .find(|c| c.position == position)
        .ok_or(CopycatError::NoSuchPosition { position, available })
}

/// The record as the catalog would store it: checked, derived and serialised by the import's
/// own `prepare_record`, without the fields that carry another library's items (a record from a
/// Koha target brings its 952s, which describe that library's copies, not ours).
fn prepare(mut record: marc::Record) -> Result<storage::NewRecord, CopycatError> {
    let mappings =
        [catalog::ItemMapping::koha_952(), catalog::ItemMapping::holdings_852(), catalog::ItemMapping::vendor_949()];
    record.fields.retain(|f| !f.as_data().is_some_and(|d| mappings.iter().any(|m| m.carries_item(d))));
    import::prepare_record(record)
        .map_err(|e| CopycatError::Rejected { code: e.code().to_string(), reason: e.to_string() })
}

/// Whether the catalog already holds `record`, by the matching an import applies.
pub fn in_catalog(db: &dyn storage::Database, record: &marc::Record) -> Result<InCatalog, CopycatError> {
    let prepared = match prepare(record.clone()) {
        Ok(p) => p,
        Err(CopycatError::Rejected { reason, .. }) => return Ok(InCatalog::Refused(reason)),
        Err(e) => return Err(e),
    };
    Ok(match db.import_match(&prepared)? {
        None => InCatalog::No,
        Some(storage::ImportMatch::Identical(id)) => InCatalog::Identical(id),
        Some(storage::ImportMatch::Matched(id)) => InCatalog::Matched(id),
    })
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imported {
    /// A new record, `id`.
    Added(storage::BibId),
    /// Matched record `id`, whose MARC was replaced by the candidate's.
    Replaced(storage::BibId),
    /// Record `id` is byte for byte this record already: nothing was written.
    Unchanged(storage::BibId),
    /// Matched record `id`, left as it is (`--on-match skip`).
    Skipped(storage::BibId),
}

impl Imported {
    pub fn id(self) -> storage::BibId {
        match self {
            Imported::Added(id) | Imported::Replaced(id) | Imported::Unchanged(id) | Imported::Skipped(id) => id,
        }
    }

    /// `added`, `replaced`, `unchanged` or `skipped`.
    pub fn as_str(self) -> &'static str {
        match self {
            Imported::Added(_) => "added",
            Imported::Replaced(_) => "replaced",
            Imported::Unchanged(_) => "unchanged",
            Imported::Skipped(_) => "skipped",
        }
    }
}

/// Imports `record` through the import path (`prepare_record`, then `import_record` with the
/// matching and `on_match`), as one transaction that also writes the change feed, so the search
/// index follows (ahead of any file import running beside it).
pub fn import(db: &dyn storage::Database, record: marc::Record, on_match: OnMatch) -> Result<Imported, CopycatError> {
    let prepared = prepare(record)?;
    let candidate = storage::ImportCandidate { record: prepared, items: Vec::new() };
    match db.import_record(&candidate, on_match)? {
        storage::ImportOutcome::Added { id, .. } => Ok(Imported::Added(id)),
        storage::ImportOutcome::Replaced { id, .. } => Ok(Imported::Replaced(id)),
        storage::ImportOutcome::Unchanged { id, .. } => Ok(Imported::Unchanged(id)),
        storage::ImportOutcome::Skipped { id, .. } => Ok(Imported::Skipped(id)),
        storage::ImportOutcome::Rejected { reason } => {
            Err(CopycatError::Rejected { code: "storage_rejected".into(), reason })
        }
    }
}

#[cfg(test)]
mod tests;
