//! The storage seam. Everything Shelfmark keeps goes through [`Database`]; the two backends
//! ([`sqlite::SqliteDatabase`], the embedded default, and [`postgres::PostgresDatabase`]) pass the
//! same test suite (`tests/suite.rs`).
//!
//! Architecture invariant: every method is one transaction. A method either commits all it was
//! asked to write or nothing; callers never see half a write.
//!
//! # Opening a database
//!
//! ```no_run
//! use storage::StorageConfig;
//! // A data directory (the database is `shelfmark.db` inside, created on first use) ...
//! let db = storage::open(&StorageConfig::parse("/var/lib/shelfmark"))?;
//! // ... or a PostgreSQL URL (`postgres://` or `postgresql://`).
//! let db = storage::open(&StorageConfig::parse("postgres://shelfmark@localhost/shelfmark"))?;
//! # Ok::<(), storage::StorageError>(())
//! ```
//!
//! [`open`] applies the migrations compiled into the binary (`migrations/{sqlite,postgres}/`,
//! tracked in a `schema_migrations` table, each in its own transaction) before it returns, and
//! refuses a database that a newer Shelfmark has migrated further.
//!
//! # Threads
//!
//! Methods block. Both backends are `Send + Sync` and keep a small connection pool, so share one
//! `Arc<dyn Database>` between threads. From async code call them inside
//! `tokio::task::spawn_blocking`: the PostgreSQL backend uses the synchronous `postgres` client,
//! which runs its own small runtime and **panics if called on a tokio runtime thread**.
//!
//! # Durability
//!
//! SQLite runs in WAL mode with `synchronous=NORMAL`: a committed transaction survives a crash or
//! kill of Shelfmark itself; a power cut or OS crash can lose the last few commits (never corrupt
//! the file). That is the usual trade for an embedded server (commits cost no fsync); a library
//! that wants every commit on disk before the desk sees "done" runs PostgreSQL.
//!
//! # Schema
//!
//! One SQL file per backend and version in `migrations/` (read those for the details):
//! `branches`, `shelving_locations`, `item_types` (keyed by their codes); `patrons`;
//! `bib_records` (the full MARC record, its SHA-256 for identical-record matching, and every
//! derived field; list fields as JSON text on SQLite and `TEXT[]` on PostgreSQL, plus folded
//! copies of title and authors for case-insensitive filters); the matching identifiers in
//! indexed child tables `bib_isbns` and `bib_oclc_numbers`, and an index on (001, 003);
//! `items` (barcode unique, foreign keys to the record, branches, location and item type,
//! status checked against the known values, price in minor units, and `call_number_sort`, still
//! NULL, indexed with home branch and location for shelf order); `changes` (below);
//! `schema_migrations`. Timestamps are UTC.
//!
//! # Change feed
//!
//! Every record and item write also appends to a `changes` table in the same transaction
//! ([`Database::changes`]). Change ids grow in commit order, so a follower such as the search
//! index reads "everything after the last id I saw" and never misses a write. The changes an
//! import batch writes are marked bulk ([`Change::bulk`]); [`Database::prompt_changes`] reads
//! the others, so that a follower can take a staff edit ahead of an import's backlog.

use catalog::inventory::{InventoryReport, Scope, ShelfItem};
use catalog::{BibDerived, Branch, Code, Item, ItemStatus, ItemType, NewItem, ShelvingLocation};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

pub mod closures;
mod common;
mod config;
pub mod holds;
pub mod ledger;
pub mod loans;
mod migrate;
pub mod notices;
pub mod oai;
pub mod patrons;
mod pool;
pub mod postgres;
pub mod reports;
pub mod settings;
pub mod signal;
pub mod sqlite;
pub mod staff;
pub mod staging;

pub use closures::ClosureStore;
pub use config::{open, PostgresOptions, SqliteOptions, StorageConfig};
pub use holds::HoldStore;
pub use ledger::LedgerStore;
pub use notices::NoticeStore;
pub use oai::OaiStore;
pub use patrons::PatronStore;
pub use reports::ReportStore;
pub use settings::SettingsStore;
pub use signal::ChangeSignal;
pub use staff::StaffStore;
pub use staging::StagingStore;

pub type BibId = i64;
pub type ItemId = i64;
pub type InventoryId = i64;
pub type PatronId = i64;
pub type LoanId = i64;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A row the caller named does not exist.
    #[error("{what} {key} does not exist")]
    NotFound { what: &'static str, key: String },
    /// A unique value is taken (barcode, branch code, ...).
    #[error("{what} {key} already exists")]
    Conflict { what: &'static str, key: String },
    /// A reference to another row that does not exist, or a delete that other rows still need.
    #[error("{0}")]
    Constraint(String),
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] ::postgres::Error),
    #[error("migration {version} failed: {message}")]
    Migration { version: u32, message: String },
    #[error("{0}")]
    Other(String),
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// A bibliographic record to store: the full MARC record (ISO 2709, UTF-8, leader/09 `a`) and the
/// fields derived from it.
#[derive(Debug, Clone)]
pub struct NewRecord {
    pub marc: Vec<u8>,
    pub derived: BibDerived,
    /// The row's computed columns, when worked out in advance ([`RowValues::of`], after `marc`
    /// and `derived` are final); `None` computes them while writing. The importer fills this
    /// on its reading thread, so that the thread holding the database does none of this work.
    pub row: Option<RowValues>,
}

/// What a record's row holds besides `marc` and `derived` as they are: the SHA-256 of the MARC
/// (identical-record matching), the case-folded title and authors (searching) and the JSON of the
/// list-valued fields. Computing these was 6-8% of the time of the thread that commits an import's
/// batches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowValues {
    pub(crate) sha256: Vec<u8>,
    pub(crate) title_fold: String,
    pub(crate) authors_fold: String,
    pub(crate) authors_json: String,
    pub(crate) isbns_json: String,
    pub(crate) issns_json: String,
    pub(crate) oclc_numbers_json: String,
    pub(crate) subjects_json: String,
    pub(crate) series_json: String,
}

impl RowValues {
    pub fn of(marc: &[u8], derived: &BibDerived) -> RowValues {
        let json = |list: &[String]| serde_json::to_string(list).unwrap_or_else(|_| "[]".to_string());
        RowValues {
            sha256: common::sha256(marc),
            title_fold: common::fold(&derived.title),
            authors_fold: common::fold_authors(&derived.authors),
            authors_json: json(&derived.authors),
            isbns_json: json(&derived.isbns),
            issns_json: json(&derived.issns),
            oclc_numbers_json: json(&derived.oclc_numbers),
            subjects_json: json(&derived.subjects),
            series_json: json(&derived.series),
        }
    }
}

/// A stored bibliographic record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredRecord {
    pub id: BibId,
    #[serde(skip)]
    pub marc: Vec<u8>,
    pub derived: BibDerived,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub updated_at: String,
}

/// Filters for listing records; all given filters must hold.
#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    /// Case-insensitive substring of the title.
    pub title: Option<String>,
    /// Case-insensitive substring of any author.
    pub author: Option<String>,
    /// Any ISBN (ISBN-13, normalised by the caller).
    pub isbn: Option<String>,
    pub year_from: Option<i32>,
    pub year_to: Option<i32>,
    pub format: Option<catalog::Format>,
    /// Only records with at least one item at this home branch.
    pub branch: Option<Code>,
    /// Explicit ids (an export selection).
    pub ids: Option<Vec<BibId>>,
}

#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    pub bib_id: Option<BibId>,
    /// The copies of any of these records (a page of search results) in one read.
    pub bib_ids: Option<Vec<BibId>>,
    pub home_branch: Option<Code>,
    pub holding_branch: Option<Code>,
    pub location: Option<Code>,
    pub item_type: Option<Code>,
    pub status: Option<ItemStatus>,
}

/// Keyset paging: rows with id greater than `after`, at most `limit` of them, in id order.
/// Stable under concurrent inserts, cheap at any depth.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub after: i64,
    pub limit: u32,
}

impl Default for Page {
    fn default() -> Self {
        Page { after: 0, limit: 50 }
    }
}

/// What the change feed says about a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeEntity {
    Record,
    Item,
}

impl ChangeEntity {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeEntity::Record => "record",
            ChangeEntity::Item => "item",
        }
    }

    pub fn parse(s: &str) -> Option<ChangeEntity> {
        [ChangeEntity::Record, ChangeEntity::Item].into_iter().find(|e| e.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Created,
    Updated,
    Deleted,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Created => "created",
            ChangeKind::Updated => "updated",
            ChangeKind::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Option<ChangeKind> {
        [ChangeKind::Created, ChangeKind::Updated, ChangeKind::Deleted].into_iter().find(|k| k.as_str() == s)
    }
}

/// One entry of the change feed: a record or an item was created, updated or deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Grows in commit order: read with `after` = the last id seen.
    pub id: i64,
    pub entity: ChangeEntity,
    pub entity_id: i64,
    pub kind: ChangeKind,
    /// RFC 3339, UTC.
    pub at: String,
    /// Written by an import batch ([`Database::import_batch`]): it may wait behind the changes
    /// that are not.
    pub bulk: bool,
}

/// What to do when an imported record matches one already in the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnMatch {
    /// Add it as a new record anyway (a byte-identical record is still never stored twice).
    Add,
    /// Replace the matched record's MARC (its items stay attached).
    Replace,
    /// Leave the matched record as it is (its new items are still attached to it, so a vendor
    /// file of extra copies of titles we hold just adds the copies).
    #[default]
    Skip,
}

/// One record of an import batch, already parsed, converted and derived.
#[derive(Debug, Clone)]
pub struct ImportCandidate {
    pub record: NewRecord,
    pub items: Vec<NewItem>,
}

/// What happened to one candidate. Items whose barcode already exists are never added twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportOutcome {
    Added {
        id: BibId,
        items_added: u32,
        items_existing: u32,
    },
    Replaced {
        id: BibId,
        items_added: u32,
        items_existing: u32,
    },
    /// Matched an existing record whose MARC is byte-identical: nothing to do.
    Unchanged {
        id: BibId,
        items_added: u32,
        items_existing: u32,
    },
    Skipped {
        id: BibId,
        items_added: u32,
        items_existing: u32,
    },
    /// The candidate could not be stored (e.g. an item names an unknown branch and the batch
    /// policy does not create it); the rest of the batch goes on.
    Rejected {
        reason: String,
    },
}

/// What an import of a record would match in the catalog ([`Database::import_match`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMatch {
    /// A stored record with byte-identical MARC.
    Identical(BibId),
    /// A stored record found by 001+003, OCLC number or ISBN.
    Matched(BibId),
}

/// A patron, as far as the catalog foundation needs one (the demo library registers some). The
/// circulation work extends this with blocks, guarantors, preferences and privacy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Patron {
    pub card_number: String,
    pub surname: String,
    pub first_name: String,
    pub category: Code,
    pub home_branch: Code,
    /// `YYYY-MM-DD`.
    pub expiry_date: String,
    pub email: Option<String>,
}

/// A shelf list: the items of a branch (optionally one shelving location, one status) in shelf
/// order, optionally from the call number `from` up to and including every call number that
/// begins like `to` (`QA76` to `QA77` includes `QA77.5 .B3`). Items are shelved under their own
/// call number, else their record's ([`catalog::shelving_call_number`]).
#[derive(Debug, Clone)]
pub struct ShelfQuery {
    pub branch: Code,
    pub location: Option<Code>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub status: Option<ItemStatus>,
}

impl ShelfQuery {
    /// The call-number range as sort keys: `from.shelf_key() <= key < to.range_end_key()`.
    pub fn key_range(&self) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
        let parse = |s: &String| callnumber::CallNumber::parse(s.trim(), callnumber::Scheme::Auto);
        let from = self.from.as_ref().filter(|s| !s.trim().is_empty()).map(|s| parse(s).shelf_key());
        let to = self.to.as_ref().filter(|s| !s.trim().is_empty()).map(|s| parse(s).range_end_key());
        (from, to)
    }
}

/// Keyset paging in shelf order: the entries after `after` (a sort key and item id, the last
/// entry of the previous page), at most `limit` of them. Cheap at any depth.
#[derive(Debug, Clone, Default)]
pub struct ShelfPage {
    pub after: Option<ShelfCursor>,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShelfCursor {
    pub key: Vec<u8>,
    pub id: ItemId,
}

impl ShelfCursor {
    pub fn after(entry: &ShelfItem) -> ShelfCursor {
        ShelfCursor { key: entry.key.clone(), id: entry.item.id }
    }

    /// `<key in hex>.<item id>`: what the API hands out as `next`.
    pub fn token(&self) -> String {
        let mut s: String = self.key.iter().map(|b| format!("{b:02x}")).collect();
        s.push('.');
        s.push_str(&self.id.to_string());
        s
    }

    pub fn parse(token: &str) -> Option<ShelfCursor> {
        let (hex, id) = token.split_once('.')?;
        if hex.len() % 2 != 0 {
            return None;
        }
        let key = (0..hex.len())
            .step_by(2)
            .map(|i| hex.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
            .collect::<Option<Vec<u8>>>()?;
        Some(ShelfCursor { key, id: id.parse().ok()? })
    }
}

/// The stretch of shelf an inventory reads (see [`ShelfQuery`] for the range).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewInventory {
    pub branch: Code,
    #[serde(default)]
    pub location: Option<Code>,
    #[serde(default)]
    pub call_number_from: Option<String>,
    #[serde(default)]
    pub call_number_to: Option<String>,
}

impl NewInventory {
    pub fn shelf_query(&self) -> ShelfQuery {
        ShelfQuery {
            branch: self.branch.clone(),
            location: self.location.clone(),
            from: self.call_number_from.clone(),
            to: self.call_number_to.clone(),
            status: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inventory {
    pub id: InventoryId,
    #[serde(flatten)]
    pub scope: NewInventory,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// Scans received so far (duplicates included).
    pub scans: u64,
}

/// Everything an inventory report is computed from, read in one transaction.
#[derive(Debug, Clone)]
pub struct InventorySnapshot {
    pub inventory: Inventory,
    /// Every item of the scope, whatever its status, in shelf order.
    pub in_scope: Vec<ShelfItem>,
    /// The barcodes as scanned, in scan order.
    pub scans: Vec<String>,
    /// The item of every scanned barcode the catalog knows.
    pub scanned_items: HashMap<String, ShelfItem>,
}

/// An inventory and its report, computed now from what is stored.
pub fn inventory_report(db: &dyn Database, id: InventoryId) -> Result<(Inventory, InventoryReport)> {
    let snap = db.inventory_snapshot(id)?;
    let (from_key, to_end_key) = snap.inventory.scope.shelf_query().key_range();
    let scope = Scope {
        branch: snap.inventory.scope.branch.clone(),
        location: snap.inventory.scope.location.clone(),
        from_key,
        to_end_key,
    };
    let report = catalog::inventory::report(&scope, &snap.in_scope, &snap.scans, &snap.scanned_items);
    Ok((snap.inventory, report))
}

/// The seam in front of SQLite and PostgreSQL. Methods are synchronous (the server calls them
/// from blocking tasks); each is exactly one transaction. The catalog, the shelf and loans are
/// here; each other concern has a trait of its own in its module (staff, patrons, holds, ledger,
/// notices), and `Database` requires them all, so a `dyn Database` offers every method.
pub trait Database:
    StaffStore
    + PatronStore
    + HoldStore
    + LedgerStore
    + NoticeStore
    + ClosureStore
    + OaiStore
    + StagingStore
    + ReportStore
    + SettingsStore
    + Send
    + Sync
    + 'static
{
    /// "sqlite" or "postgresql", for `/health` and logs.
    fn backend(&self) -> &'static str;

    // Organisation.
    fn upsert_branch(&self, branch: &Branch) -> Result<()>;
    fn branches(&self) -> Result<Vec<Branch>>;
    fn branch(&self, code: &Code) -> Result<Option<Branch>>;
    /// Refused with [`StorageError::Constraint`] while items name the branch.
    fn delete_branch(&self, code: &Code) -> Result<()>;
    fn upsert_location(&self, location: &ShelvingLocation) -> Result<()>;
    fn locations(&self) -> Result<Vec<ShelvingLocation>>;
    fn upsert_item_type(&self, item_type: &ItemType) -> Result<()>;
    fn item_types(&self) -> Result<Vec<ItemType>>;

    /// Registers or updates (by card number) a patron.
    fn upsert_patron(&self, patron: &Patron) -> Result<()>;
    /// Patrons in registration order. [`Patron`] carries no id yet, so `page.after` counts the
    /// patrons already seen (the second page of 50 is `after: 50`).
    fn patrons(&self, page: Page) -> Result<Vec<Patron>>;
    fn count_patrons(&self) -> Result<u64>;

    // Bibliographic records.
    fn create_record(&self, record: &NewRecord) -> Result<BibId>;
    fn record(&self, id: BibId) -> Result<Option<StoredRecord>>;
    fn update_record(&self, id: BibId, record: &NewRecord) -> Result<()>;
    /// Refused with [`StorageError::Constraint`] while the record has items.
    fn delete_record(&self, id: BibId) -> Result<()>;
    fn records(&self, filter: &RecordFilter, page: Page) -> Result<Vec<StoredRecord>>;
    fn count_records(&self) -> Result<u64>;
    /// The records among `ids` that exist, in id order, in one read (the search follower
    /// re-reads a whole batch of changed records at once rather than one query per record).
    fn records_by_ids(&self, ids: &[BibId]) -> Result<Vec<StoredRecord>>;

    // Items.
    fn create_item(&self, bib_id: BibId, item: &NewItem) -> Result<ItemId>;
    fn item(&self, id: ItemId) -> Result<Option<Item>>;
    fn item_by_barcode(&self, barcode: &catalog::Barcode) -> Result<Option<Item>>;
    fn update_item(&self, id: ItemId, item: &NewItem) -> Result<()>;
    fn delete_item(&self, id: ItemId) -> Result<()>;
    fn items(&self, filter: &ItemFilter, page: Page) -> Result<Vec<Item>>;
    fn count_items(&self) -> Result<u64>;
    /// The items among `ids` that exist, in id order, in one read.
    fn items_by_ids(&self, ids: &[ItemId]) -> Result<Vec<Item>>;
    /// Every item of the records among `records`, ordered by record id then item id, in one
    /// read taken from one snapshot.
    fn items_of_records(&self, records: &[BibId]) -> Result<Vec<Item>>;

    /// Stores a batch of imported records in one transaction. Matching, in this order: a
    /// byte-identical MARC record (so that records with no identifiers still import
    /// idempotently), 001+003, then 035 OCLC number, then ISBN. Control numbers outrank shared
    /// identifiers: a record found by OCLC number or ISBN whose 001 differs while its 003 is the
    /// same is another record, not a match (LC catalogs the volumes of a set separately under
    /// the set's ISBN). Branches, locations and item types that items
    /// name but that do not exist yet are created (named after their code).
    ///
    /// A candidate whose MARC is byte-identical to a stored record is
    /// [`ImportOutcome::Unchanged`] whatever `on_match` says (the record is not written), so
    /// importing the same batch twice changes nothing the second time. Items whose barcode
    /// exists already are counted in `items_existing`; the other items are attached to the added,
    /// replaced, unchanged or skipped record. A candidate that cannot be stored (an item barcode
    /// that appears twice in the batch, a bad date) is [`ImportOutcome::Rejected`] and the rest of
    /// the batch commits.
    ///
    /// The batch's changes are bulk ([`Change::bulk`]).
    fn import_batch(&self, batch: &[ImportCandidate], on_match: OnMatch) -> Result<Vec<ImportOutcome>>;

    /// [`Database::import_batch`] for the one record a cataloger chose (copy cataloging): its
    /// changes are not bulk, so the search index takes it ahead of a running import's backlog.
    fn import_record(&self, candidate: &ImportCandidate, on_match: OnMatch) -> Result<ImportOutcome>;

    /// The stored record [`Database::import_batch`] would match `record` with, by the same rules,
    /// without writing anything (copy cataloging shows it before staff choose to import).
    fn import_match(&self, record: &NewRecord) -> Result<Option<ImportMatch>>;

    /// Calls `each` for every record the filter selects, in id order, with its items, inside one
    /// read transaction (a consistent snapshot), without loading the catalog into memory.
    /// An `Err` from `each` stops the export and comes back as [`StorageError::Other`].
    fn export(
        &self,
        filter: &RecordFilter,
        each: &mut dyn FnMut(StoredRecord, Vec<Item>) -> Result<(), String>,
    ) -> Result<()>;

    /// The change feed: changes with id greater than `after`, oldest first, at most `limit`.
    fn changes(&self, after: i64, limit: u32) -> Result<Vec<Change>>;
    /// The changes after `after` that are not bulk, oldest first, at most `limit`: one range of
    /// an index that holds only those.
    fn prompt_changes(&self, after: i64, limit: u32) -> Result<Vec<Change>>;
    /// How many changes after `after` are not bulk: one range count of the same index.
    fn prompt_changes_after(&self, after: i64) -> Result<u64>;
    /// Where the change feed stands relative to `after`: the last change id (`after` when none
    /// follow) and how many changes follow `after`. One indexed read: how far a follower lags.
    fn changes_after(&self, after: i64) -> Result<(i64, u64)>;
    /// Signalled after each commit of this handle that wrote to the change feed.
    fn change_signal(&self) -> Arc<ChangeSignal>;

    // The shelf.
    /// A page of a shelf list, in shelf order (sort key, then item id).
    fn shelf_list(&self, query: &ShelfQuery, page: &ShelfPage) -> Result<Vec<ShelfItem>>;
    /// Refused with [`StorageError::Constraint`] when the branch or location does not exist.
    /// Up to `limit` entries of the shelf `query` names (its range ignored) that stand before
    /// the sort key `key`, nearest first: the left-hand neighbours of a call number.
    fn shelf_before(&self, query: &ShelfQuery, key: &[u8], limit: u32) -> Result<Vec<ShelfItem>>;
    /// The last `limit` items added with `branch` as their home branch, newest first.
    fn recent_items(&self, branch: &Code, limit: u32) -> Result<Vec<ShelfItem>>;
    fn start_inventory(&self, scope: &NewInventory) -> Result<Inventory>;
    fn inventory(&self, id: InventoryId) -> Result<Option<Inventory>>;
    /// Appends barcodes as scanned, in order after those already received, and records the
    /// scanned items as last seen now. Blank lines are skipped.
    fn add_inventory_scans(&self, id: InventoryId, barcodes: &[String]) -> Result<Inventory>;
    fn inventory_snapshot(&self, id: InventoryId) -> Result<InventorySnapshot>;
    /// Items as a shelf sees them (title, the call number they are shelved under), by barcode:
    /// one entry per barcode asked for, `None` for a barcode no item has.
    fn shelf_items(&self, barcodes: &[catalog::Barcode]) -> Result<Vec<Option<ShelfItem>>>;

    // Circulation: each call is one transaction that locks the copy, reads the context, asks
    // `decide`, and writes what it returned (or nothing, when it returns `None`). See [`loans`].
    /// [`StorageError::NotFound`] for an unknown card or barcode.
    fn checkout(
        &self,
        card_number: &str,
        barcode: &catalog::Barcode,
        now: chrono::DateTime<chrono::Utc>,
        decide: &mut dyn FnMut(&loans::CheckoutContext) -> Option<loans::LoanWrite>,
    ) -> Result<Option<loans::Loan>>;
    /// Renews the copy's open loan; [`StorageError::NotFound`] when it is not on loan.
    fn renew(
        &self,
        barcode: &catalog::Barcode,
        now: chrono::DateTime<chrono::Utc>,
        decide: &mut dyn FnMut(&loans::RenewalContext) -> Option<loans::RenewalWrite>,
    ) -> Result<Option<loans::Loan>>;
    /// True when the decision's write was made.
    fn check_in(
        &self,
        barcode: &catalog::Barcode,
        now: chrono::DateTime<chrono::Utc>,
        decide: &mut dyn FnMut(&loans::CheckinContext) -> Option<loans::CheckinWrite>,
    ) -> Result<bool>;
    /// The patron with this card, or `None`.
    fn patron_account(&self, card_number: &str) -> Result<Option<loans::PatronAccount>>;
    /// The patron's open loans, soonest due first.
    fn open_loans(&self, patron: PatronId) -> Result<Vec<loans::Loan>>;
    /// The copy's open loan, if it is on loan (a kiosk shows its due date, never its patron).
    fn open_loan_of_item(&self, item: ItemId) -> Result<Option<loans::Loan>>;
}
