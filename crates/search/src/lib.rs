//! The catalog's embedded full-text index (tantivy), one per node, rebuildable from the
//! database at any time.
//!
//! - [`analysis`]: how text becomes terms (CJK bigrams, diacritic folding, plural-only
//!   stemming, no stop words dropped), identical for records and queries.
//! - [`query`]: the query language (words, phrases, AND/OR/NOT, parentheses, `field:term`,
//!   `year:1990-1999`), parsed without I/O; unreadable input becomes plain words and a message.
//! - [`document`]: what the index takes from a record and its items, and the facets.
//! - [`SearchIndex`]: the index on disk, [`SearchIndex::search`] and
//!   [`SearchIndex::rebuild`] (a fresh generation swapped in atomically while the old serves).
//! - [`structured`]: explicit criteria (masked words, whole titles, record ids, year
//!   comparisons) and term enumeration, for SRU's CQL.
//! - [`SearchIndex::did_you_mean`] (`suggest`): for a search that found nothing, the closest
//!   indexed words (edit distance up to 2, the most used first), offered only if they find something.
//! - [`Follower`]: applies the database's change feed after the checkpoint kept in the index's
//!   commit payload, so a restart resumes exactly; [`Follower::lag`] is for `/health`.
//!
//! ```no_run
//! use std::sync::Arc;
//! use search::{Follower, IndexSettings, SearchIndex, SearchRequest};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let db = storage::open(&storage::StorageConfig::parse("/var/lib/shelfmark"))?;
//! let index = Arc::new(SearchIndex::open("/var/lib/shelfmark/index", IndexSettings::default())?);
//! let follower = Follower::new(index.clone(), db.clone()).spawn(std::time::Duration::from_millis(250))?;
//! let results = index.search(&SearchRequest::new("title:emma austen"))?;
//! # drop(follower); Ok(()) }
//! ```

mod admission;
pub mod analysis;
pub mod document;
mod facet_counts;
mod follower;
mod index;
pub mod query;
mod schema;
pub mod structured;
mod suggest;

use std::path::Path;

pub use document::{catalog_document, CatalogDocument, FacetName};
pub use follower::{Follower, FollowerHandle, Lag, RebuildProgress, RebuildReport};
pub use index::{
    FacetCounts, FacetFilter, FacetValue, Hit, IndexSettings, SearchIndex, SearchRequest, SearchResults, Sort,
};
pub use schema::SCHEMA_VERSION;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("search index: {0}")]
    OpenDirectory(#[from] tantivy::directory::error::OpenDirectoryError),
    #[error("search index: {0}")]
    OpenRead(#[from] tantivy::directory::error::OpenReadError),
    #[error("search index: {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("search index: unreadable commit payload: {0}")]
    Payload(String),
    #[error("search index: cannot start the follower thread: {0}")]
    Thread(std::io::Error),
    #[error("search index: the writer is closed")]
    Closed,
    #[error(transparent)]
    Storage(#[from] storage::StorageError),
}

impl SearchError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> SearchError {
        SearchError::Io { path: path.display().to_string(), source }
    }
}
