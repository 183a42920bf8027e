//! What both backends share: value conversions, the sentences for refused writes, the SQL of the
//! list filters, and the import-batch algorithm (written once over [`BatchWriter`]).

use crate::{
    BibId, Change, ChangeEntity, ChangeKind, ImportCandidate, ImportOutcome, ItemFilter, NewRecord, OnMatch,
    RecordFilter, Result, StorageError,
};
use catalog::{Barcode, Code, Format, NewItem};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashSet};

// ---------------------------------------------------------------------------------------------
// Values.

pub(crate) fn now() -> DateTime<Utc> {
    Utc::now()
}

/// The one timestamp format both backends hand out: RFC 3339, UTC, microseconds.
pub(crate) fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Case folding for the "substring of the title / an author" filters. Done in Rust, not SQL, so
/// that both backends fold the same way (SQLite's `lower()` only knows ASCII).
pub(crate) fn fold(s: &str) -> String {
    s.to_lowercase()
}

/// The least string greater than every string that starts with `prefix` (in byte order, which
/// is code-point order in UTF-8): `key >= prefix AND key < prefix_end(prefix)` is a prefix
/// search an index can answer as a range.
pub(crate) fn prefix_end(prefix: &str) -> String {
    format!("{prefix}{}", char::MAX)
}

/// The folded authors, one per line, so that a substring search finds any one of them.
pub(crate) fn fold_authors(authors: &[String]) -> String {
    let mut out = String::new();
    for (i, a) in authors.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&fold(&a.replace('\n', " ")));
    }
    out
}

pub(crate) fn sha256(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

pub(crate) fn parse_format(s: &str) -> Result<Format> {
    Format::parse(s).ok_or_else(|| StorageError::Other(format!("unknown format {s:?} in the database")))
}

pub(crate) fn parse_code(s: String) -> Result<Code> {
    Code::parse(&s).map_err(|e| StorageError::Other(format!("bad code in the database: {e}")))
}

pub(crate) fn parse_barcode(s: String) -> Result<Barcode> {
    Barcode::parse(&s).map_err(|e| StorageError::Other(format!("bad barcode in the database: {e}")))
}

pub(crate) fn parse_status(s: &str) -> Result<catalog::ItemStatus> {
    catalog::ItemStatus::parse(s)
        .ok_or_else(|| StorageError::Other(format!("unknown item status {s:?} in the database")))
}

/// A `YYYY-MM-DD` date, or a sentence saying which field is wrong.
pub(crate) fn parse_date(what: &str, s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| StorageError::Constraint(format!("{what} {s:?} is not a date (expected YYYY-MM-DD)")))
}

pub(crate) fn date_str(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Checks an item's dates and returns the acquisition date normalised.
pub(crate) fn item_acquired_on(item: &NewItem) -> Result<Option<NaiveDate>> {
    item.acquired_on.as_deref().map(|d| parse_date(&format!("item {}: acquisition date", item.barcode), d)).transpose()
}

// ---------------------------------------------------------------------------------------------
// Sentences for refused writes (the same on both backends).

pub(crate) fn no_record(id: BibId) -> StorageError {
    StorageError::Constraint(format!("record {id} does not exist"))
}

pub(crate) fn barcode_taken(barcode: &Barcode) -> StorageError {
    StorageError::Conflict { what: "item barcode", key: barcode.to_string() }
}

/// Which reference of an item (or patron) names a row that does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ref {
    HomeBranch,
    HoldingBranch,
    Location,
    ItemType,
}

impl Ref {
    pub(crate) fn missing(self, code: &Code) -> StorageError {
        let what = match self {
            Ref::HomeBranch => "home branch",
            Ref::HoldingBranch => "holding branch",
            Ref::Location => "shelving location",
            Ref::ItemType => "item type",
        };
        StorageError::Constraint(format!("{what} {code} does not exist"))
    }

    pub(crate) fn table(self) -> &'static str {
        match self {
            Ref::HomeBranch | Ref::HoldingBranch => "branches",
            Ref::Location => "shelving_locations",
            Ref::ItemType => "item_types",
        }
    }
}

/// The references of an item, in the order they are reported.
pub(crate) fn item_refs(item: &NewItem) -> Vec<(Ref, &Code)> {
    let mut refs = vec![(Ref::HomeBranch, &item.home_branch), (Ref::HoldingBranch, &item.holding_branch)];
    if let Some(l) = &item.location {
        refs.push((Ref::Location, l));
    }
    refs.push((Ref::ItemType, &item.item_type));
    refs
}

pub(crate) fn change_from(id: i64, entity: &str, entity_id: i64, kind: &str, at: String, bulk: bool) -> Result<Change> {
    Ok(Change {
        id,
        entity: ChangeEntity::parse(entity)
            .ok_or_else(|| StorageError::Other(format!("unknown change entity {entity:?}")))?,
        entity_id,
        kind: ChangeKind::parse(kind).ok_or_else(|| StorageError::Other(format!("unknown change kind {kind:?}")))?,
        at,
        bulk,
    })
}

pub(crate) fn branch_has_items(code: &Code, n: i64) -> StorageError {
    StorageError::Constraint(format!(
        "branch {code} is still the home or holding branch of {n} item{}; move or delete them first",
        if n == 1 { "" } else { "s" }
    ))
}

pub(crate) fn branch_has_patrons(code: &Code, n: i64) -> StorageError {
    StorageError::Constraint(format!(
        "branch {code} is still the home branch of {n} patron{}; move them first",
        if n == 1 { "" } else { "s" }
    ))
}

/// A branch other rows still name: a staff account limited to it, a hold to be picked up or a
/// transit going there, an item or patron written meanwhile.
pub(crate) fn branch_still_named(code: &Code) -> StorageError {
    StorageError::Constraint(format!(
        "branch {code} is still named elsewhere (a staff account limited to it, a hold's pickup \
         branch, a transit, a closure, an item or patron); change those first"
    ))
}

pub(crate) fn record_has_items(id: BibId, n: i64) -> StorageError {
    StorageError::Constraint(format!(
        "record {id} still has {n} item{}; delete or move them first",
        if n == 1 { "" } else { "s" }
    ))
}

// ---------------------------------------------------------------------------------------------
// Change feed rows waiting to be written.

#[derive(Debug, Clone, Copy)]
pub(crate) struct PendingChange {
    pub entity: ChangeEntity,
    pub entity_id: i64,
    pub kind: ChangeKind,
}

// ---------------------------------------------------------------------------------------------
// List filters, as SQL shared by both backends.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub(crate) enum Param {
    Text(String),
    Int(i64),
    Int32(i32),
    Ids(Vec<i64>),
    Bytes(Vec<u8>),
}

/// A `WHERE ... ORDER BY ... LIMIT` tail with numbered placeholders and their values.
#[derive(Debug, Default)]
pub(crate) struct Query {
    pub sql: String,
    pub params: Vec<Param>,
}

impl Query {
    pub(crate) fn push(&mut self, dialect: Dialect, param: Param) -> String {
        self.params.push(param);
        let n = self.params.len();
        match dialect {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}"),
        }
    }
}

pub(crate) const RECORD_COLUMNS: &str = "b.id, b.marc, b.title, b.responsibility, b.authors, b.isbns, b.issns, \
     b.lccn, b.oclc_numbers, b.control_number, b.control_number_identifier, b.publisher, b.year, b.language, \
     b.format, b.subjects, b.series, b.lc_call_number, b.dewey_call_number, b.edition, b.created_at, b.updated_at";

pub(crate) const ITEM_COLUMNS: &str = "i.id, i.bib_id, i.barcode, i.home_branch, i.holding_branch, i.location, \
     i.collection, i.call_number, i.item_type, i.price, i.public_note, i.staff_note, i.materials_specified, \
     i.status, i.acquired_on";

/// `SELECT <record columns> FROM bib_records b WHERE <filter> [AND b.id > after] ORDER BY b.id [LIMIT n]`.
pub(crate) fn records_query(dialect: Dialect, filter: &RecordFilter, page: Option<crate::Page>) -> Query {
    let mut q = Query::default();
    let mut conds: Vec<String> = Vec::new();
    let substring = |col: &str, p: &str| match dialect {
        Dialect::Sqlite => format!("instr({col}, {p}) > 0"),
        Dialect::Postgres => format!("strpos({col}, {p}) > 0"),
    };
    if let Some(t) = &filter.title {
        let p = q.push(dialect, Param::Text(fold(t.trim())));
        conds.push(substring("b.title_fold", &p));
    }
    if let Some(a) = &filter.author {
        let p = q.push(dialect, Param::Text(fold(a.trim())));
        conds.push(substring("b.authors_fold", &p));
    }
    if let Some(isbn) = &filter.isbn {
        let p = q.push(dialect, Param::Text(isbn.trim().to_string()));
        conds.push(format!("EXISTS (SELECT 1 FROM bib_isbns x WHERE x.isbn = {p} AND x.bib_id = b.id)"));
    }
    if let Some(y) = filter.year_from {
        let p = q.push(dialect, Param::Int32(y));
        conds.push(format!("b.year >= {p}"));
    }
    if let Some(y) = filter.year_to {
        let p = q.push(dialect, Param::Int32(y));
        conds.push(format!("b.year <= {p}"));
    }
    if let Some(f) = filter.format {
        let p = q.push(dialect, Param::Text(f.as_str().to_string()));
        conds.push(format!("b.format = {p}"));
    }
    if let Some(branch) = &filter.branch {
        let p = q.push(dialect, Param::Text(branch.to_string()));
        conds.push(format!("EXISTS (SELECT 1 FROM items i WHERE i.bib_id = b.id AND i.home_branch = {p})"));
    }
    if let Some(ids) = &filter.ids {
        conds.push(one_of(dialect, &mut q, "b.id", ids));
    }
    if let Some(page) = page {
        let p = q.push(dialect, Param::Int(page.after));
        conds.push(format!("b.id > {p}"));
    }
    let mut sql = format!("SELECT {RECORD_COLUMNS} FROM bib_records b");
    if !conds.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conds.join(" AND "));
    }
    sql.push_str(" ORDER BY b.id");
    if let Some(page) = page {
        let p = q.push(dialect, Param::Int(i64::from(page.limit)));
        sql.push_str(&format!(" LIMIT {p}"));
    }
    q.sql = sql;
    q
}

/// `SELECT <item columns> FROM items i WHERE <filter> AND i.id > after ORDER BY i.id LIMIT n`.
/// `col` is one of `ids`: a JSON array on SQLite, an array parameter on PostgreSQL.
fn one_of(dialect: Dialect, q: &mut Query, col: &str, ids: &[i64]) -> String {
    match dialect {
        Dialect::Sqlite => {
            let json = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
            let p = q.push(dialect, Param::Text(json));
            format!("{col} IN (SELECT value FROM json_each({p}))")
        }
        Dialect::Postgres => {
            let p = q.push(dialect, Param::Ids(ids.to_vec()));
            format!("{col} = ANY({p})")
        }
    }
}

pub(crate) fn items_query(dialect: Dialect, filter: &ItemFilter, page: crate::Page) -> Query {
    let mut q = Query::default();
    let mut conds: Vec<String> = Vec::new();
    if let Some(id) = filter.bib_id {
        let p = q.push(dialect, Param::Int(id));
        conds.push(format!("i.bib_id = {p}"));
    }
    if let Some(ids) = &filter.bib_ids {
        conds.push(one_of(dialect, &mut q, "i.bib_id", ids));
    }
    for (col, code) in [
        ("i.home_branch", &filter.home_branch),
        ("i.holding_branch", &filter.holding_branch),
        ("i.location", &filter.location),
        ("i.item_type", &filter.item_type),
    ] {
        if let Some(code) = code {
            let p = q.push(dialect, Param::Text(code.to_string()));
            conds.push(format!("{col} = {p}"));
        }
    }
    if let Some(status) = filter.status {
        let p = q.push(dialect, Param::Text(status.as_str().to_string()));
        conds.push(format!("i.status = {p}"));
    }
    let p = q.push(dialect, Param::Int(page.after));
    conds.push(format!("i.id > {p}"));
    let limit = q.push(dialect, Param::Int(i64::from(page.limit)));
    q.sql = format!("SELECT {ITEM_COLUMNS} FROM items i WHERE {} ORDER BY i.id LIMIT {limit}", conds.join(" AND "));
    q
}

// ---------------------------------------------------------------------------------------------
// The shelf.

/// The name in `settings` of the version of the stored call-number sort keys.
pub(crate) const KEY_VERSION_SETTING: &str = "call_number_sort_version";

pub(crate) fn key_version() -> String {
    callnumber::SORT_KEY_VERSION.to_string()
}

/// The record's call numbers, for items that have none of their own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RecordCallNumbers {
    pub dewey: Option<String>,
    pub lc: Option<String>,
}

impl RecordCallNumbers {
    pub(crate) fn of(d: &catalog::BibDerived) -> RecordCallNumbers {
        RecordCallNumbers { dewey: d.dewey_call_number.clone(), lc: d.lc_call_number.clone() }
    }
}

/// Whether an item is shelved under its record's call number (so a change to the record's
/// call numbers moves it).
pub(crate) fn has_own_call_number(call_number: Option<&str>) -> bool {
    call_number.is_some_and(|c| !c.trim().is_empty())
}

/// The sort key stored in `items.call_number_sort`: the shelf order of the call number the item
/// is shelved under. An item with no call number at all sorts first.
pub(crate) fn shelf_sort_key(own: Option<&str>, record: &RecordCallNumbers) -> Vec<u8> {
    let shelved = catalog::shelving_call_number(own, record.dewey.as_deref(), record.lc.as_deref());
    callnumber::CallNumber::parse(shelved.unwrap_or(""), callnumber::Scheme::Auto).sort_key()
}

/// Columns of a shelf entry: the item, then title, the record's call numbers, key, last seen.
pub(crate) const SHELF_COLUMNS_AFTER_ITEM: &str =
    "b.title, b.dewey_call_number, b.lc_call_number, i.call_number_sort, i.last_seen_at";

/// `SELECT <item>, <shelf columns> FROM items i JOIN bib_records b ... ORDER BY key, id`.
pub(crate) fn shelf_query(
    dialect: Dialect,
    query: &crate::ShelfQuery,
    after: Option<&crate::ShelfCursor>,
    limit: Option<u32>,
) -> Query {
    let mut q = Query::default();
    let p = q.push(dialect, Param::Text(query.branch.to_string()));
    let mut conds = vec![format!("i.home_branch = {p}")];
    if let Some(location) = &query.location {
        let p = q.push(dialect, Param::Text(location.to_string()));
        conds.push(format!("i.location = {p}"));
    }
    if let Some(status) = query.status {
        let p = q.push(dialect, Param::Text(status.as_str().to_string()));
        conds.push(format!("i.status = {p}"));
    }
    let (from, to_end) = query.key_range();
    if let Some(from) = from {
        let p = q.push(dialect, Param::Bytes(from));
        conds.push(format!("i.call_number_sort >= {p}"));
    }
    if let Some(to_end) = to_end {
        let p = q.push(dialect, Param::Bytes(to_end));
        conds.push(format!("i.call_number_sort < {p}"));
    }
    if let Some(after) = after {
        let k = q.push(dialect, Param::Bytes(after.key.clone()));
        let id = q.push(dialect, Param::Int(after.id));
        // A row-value comparison, not `key > k OR (key = k AND id > i)`: PostgreSQL turns the
        // row value into one index range on (home_branch, location, call_number_sort, id), the
        // OR form into a scan of the whole location (163 ms against 1 ms for a deep page).
        conds.push(format!("(i.call_number_sort, i.id) > ({k}, {id})"));
    }
    let mut sql = format!(
        "SELECT {ITEM_COLUMNS}, {SHELF_COLUMNS_AFTER_ITEM} FROM items i JOIN bib_records b ON b.id = i.bib_id \
         WHERE {} ORDER BY i.call_number_sort, i.id",
        conds.join(" AND ")
    );
    if let Some(limit) = limit {
        let p = q.push(dialect, Param::Int(i64::from(limit)));
        sql.push_str(&format!(" LIMIT {p}"));
    }
    q.sql = sql;
    q
}

/// The entries of `query`'s shelf that stand before the sort key `key`, nearest first (its
/// range is ignored): where a new call number will stand, seen from the left.
pub(crate) fn shelf_before_query(dialect: Dialect, query: &crate::ShelfQuery, key: &[u8], limit: u32) -> Query {
    let mut q = Query::default();
    let p = q.push(dialect, Param::Text(query.branch.to_string()));
    let mut conds = vec![format!("i.home_branch = {p}")];
    if let Some(location) = &query.location {
        let p = q.push(dialect, Param::Text(location.to_string()));
        conds.push(format!("i.location = {p}"));
    }
    if let Some(status) = query.status {
        let p = q.push(dialect, Param::Text(status.as_str().to_string()));
        conds.push(format!("i.status = {p}"));
    }
    let k = q.push(dialect, Param::Bytes(key.to_vec()));
    conds.push(format!("i.call_number_sort < {k}"));
    let l = q.push(dialect, Param::Int(i64::from(limit)));
    q.sql = format!(
        "SELECT {ITEM_COLUMNS}, {SHELF_COLUMNS_AFTER_ITEM} FROM items i JOIN bib_records b ON b.id = i.bib_id \
         WHERE {} ORDER BY i.call_number_sort DESC, i.id DESC LIMIT {l}",
        conds.join(" AND ")
    );
    q
}

/// The last `limit` items added at a branch (its home branch), newest first, as a shelf sees them.
pub(crate) fn recent_items_query(dialect: Dialect, branch: &Code, limit: u32) -> Query {
    let mut q = Query::default();
    let b = q.push(dialect, Param::Text(branch.to_string()));
    let l = q.push(dialect, Param::Int(i64::from(limit)));
    // Walk the ids from the newest and stop after `limit` of the branch's: SQLite would rather
    // take the branch's whole range of the shelf index and sort it, unless the unary `+` keeps
    // it off that index. PostgreSQL makes the same choice by its statistics.
    let branch_column = match dialect {
        Dialect::Sqlite => "+i.home_branch",
        Dialect::Postgres => "i.home_branch",
    };
    q.sql = format!(
        "SELECT {ITEM_COLUMNS}, {SHELF_COLUMNS_AFTER_ITEM} FROM items i JOIN bib_records b ON b.id = i.bib_id \
         WHERE {branch_column} = {b} ORDER BY i.id DESC LIMIT {l}"
    );
    q
}

/// One item with its shelf columns, by barcode (`{p}` is the placeholder).
pub(crate) fn shelf_item_by_barcode_sql(p: &str) -> String {
    format!(
        "SELECT {ITEM_COLUMNS}, {SHELF_COLUMNS_AFTER_ITEM} FROM items i JOIN bib_records b ON b.id = i.bib_id \
         WHERE i.barcode = {p}"
    )
}

/// A shelf entry from an item and the columns after it.
pub(crate) fn shelf_item(
    item: catalog::Item,
    title: String,
    record: RecordCallNumbers,
    key: Vec<u8>,
    last_seen_at: Option<String>,
) -> catalog::inventory::ShelfItem {
    let call_number =
        catalog::shelving_call_number(item.item.call_number.as_deref(), record.dewey.as_deref(), record.lc.as_deref())
            .map(str::to_string);
    catalog::inventory::ShelfItem { item, title, call_number, key, last_seen_at }
}

/// Scanned barcodes as stored: trimmed, blank lines dropped.
pub(crate) fn clean_scans(barcodes: &[String]) -> Vec<&str> {
    barcodes.iter().map(|b| b.trim()).filter(|b| !b.is_empty()).collect()
}

/// Why an inventory cannot start: its branch, else its shelving location, does not exist.
pub(crate) fn inventory_scope_error(scope: &crate::NewInventory, branch_exists: bool) -> StorageError {
    match (&scope.location, branch_exists) {
        (Some(location), true) => StorageError::Constraint(format!("shelving location {location} does not exist")),
        _ => StorageError::Constraint(format!("branch {} does not exist", scope.branch)),
    }
}

pub(crate) fn no_inventory(id: crate::InventoryId) -> StorageError {
    StorageError::NotFound { what: "inventory", key: id.to_string() }
}

// ---------------------------------------------------------------------------------------------
// Import batches.

/// What a lookup for an import candidate found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found {
    /// A stored record with byte-identical MARC (lowest id if several).
    Identical(BibId),
    /// The first match by 001+003, then OCLC number, then ISBN (lowest id within a rule).
    Matched(BibId),
    Nothing,
}

/// The codes the items of a batch name, sorted (so concurrent batches lock them in one order).
#[derive(Debug, Default)]
pub(crate) struct NeededCodes {
    pub branches: Vec<String>,
    pub locations: Vec<String>,
    pub item_types: Vec<String>,
}

/// The steps of an import, one implementation per backend. Every step runs inside the batch's
/// transaction.
pub(crate) trait BatchWriter {
    fn ensure_codes(&mut self, codes: &NeededCodes) -> Result<()>;
    fn find(&mut self, record: &NewRecord, sha: &[u8]) -> Result<Found>;
    fn insert_record(&mut self, record: &NewRecord, sha: &[u8]) -> Result<BibId>;
    fn replace_record(&mut self, id: BibId, record: &NewRecord, sha: &[u8]) -> Result<()>;
    /// Adds the items whose barcode is new; returns (added, already existing).
    fn attach_items(&mut self, bib_id: BibId, items: &[NewItem]) -> Result<(u32, u32)>;
    /// A new record with its items (PostgreSQL does both in one round trip).
    fn insert_record_with_items(
        &mut self,
        record: &NewRecord,
        sha: &[u8],
        items: &[NewItem],
    ) -> Result<(BibId, u32, u32)> {
        let id = self.insert_record(record, sha)?;
        let (added, existing) = self.attach_items(id, items)?;
        Ok((id, added, existing))
    }
    fn savepoint(&mut self, name: Savepoint) -> Result<()>;
    fn release(&mut self, name: Savepoint) -> Result<()>;
    /// Rolls back to the savepoint and releases it (change rows queued since go too).
    fn rollback_to(&mut self, name: Savepoint) -> Result<()>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Savepoint {
    Batch,
    Candidate,
}

impl Savepoint {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Savepoint::Batch => "import_batch",
            Savepoint::Candidate => "import_candidate",
        }
    }
}

/// Problems found before touching the database: one optional rejection reason per candidate.
fn prevalidate(batch: &[ImportCandidate]) -> Vec<Option<String>> {
    let mut seen: HashSet<&str> = HashSet::new();
    batch
        .iter()
        .map(|c| {
            let mut reason = nul_problem(c);
            for item in &c.items {
                if reason.is_none() {
                    if let Err(e) = item_acquired_on(item) {
                        reason = Some(e.to_string());
                    }
                }
                if !seen.insert(item.barcode.as_str()) && reason.is_none() {
                    reason = Some(format!("item barcode {} appears more than once in this batch", item.barcode));
                }
            }
            reason
        })
        .collect()
}

/// Text with a NUL character: PostgreSQL cannot store it, so neither backend accepts it.
fn nul_problem(c: &ImportCandidate) -> Option<String> {
    let d = &c.record.derived;
    let mut texts: Vec<&str> = vec![d.title.as_str()];
    for o in [
        &d.responsibility,
        &d.lccn,
        &d.control_number,
        &d.control_number_identifier,
        &d.publisher,
        &d.language,
        &d.lc_call_number,
        &d.dewey_call_number,
        &d.edition,
    ] {
        texts.extend(o.as_deref());
    }
    for list in [&d.authors, &d.isbns, &d.issns, &d.oclc_numbers, &d.subjects, &d.series] {
        texts.extend(list.iter().map(String::as_str));
    }
    for item in &c.items {
        for o in [&item.collection, &item.call_number, &item.public_note, &item.staff_note, &item.materials_specified] {
            texts.extend(o.as_deref());
        }
    }
    texts
        .iter()
        .find(|t| t.contains('\0'))
        .map(|t| format!("the text {:?} contains a NUL character", t.replace('\0', "\\0")))
}

fn needed_codes(batch: &[ImportCandidate], reasons: &[Option<String>]) -> NeededCodes {
    let mut branches = BTreeSet::new();
    let mut locations = BTreeSet::new();
    let mut item_types = BTreeSet::new();
    for (c, reason) in batch.iter().zip(reasons) {
        if reason.is_some() {
            continue;
        }
        for item in &c.items {
            branches.insert(item.home_branch.to_string());
            branches.insert(item.holding_branch.to_string());
            if let Some(l) = &item.location {
                locations.insert(l.to_string());
            }
            item_types.insert(item.item_type.to_string());
        }
    }
    NeededCodes {
        branches: branches.into_iter().collect(),
        locations: locations.into_iter().collect(),
        item_types: item_types.into_iter().collect(),
    }
}

/// Errors that reject one candidate rather than fail the batch.
fn is_candidate_problem(e: &StorageError) -> bool {
    matches!(e, StorageError::Conflict { .. } | StorageError::Constraint(_) | StorageError::NotFound { .. })
}

/// Imports a batch in at most two passes. The first pass writes every candidate without
/// per-candidate savepoints (savepoints cost SQLite a copy of each page a candidate touches, and
/// PostgreSQL a round trip). Problems known in advance (a barcode twice in the batch, a bad date,
/// a NUL character) are rejected before it starts, so it normally commits. If a candidate still
/// fails, the batch rolls back to its savepoint and a second, careful pass wraps each candidate
/// in a savepoint, rejecting those that fail while the others are stored.
pub(crate) fn run_import(
    w: &mut dyn BatchWriter,
    batch: &[ImportCandidate],
    on_match: OnMatch,
) -> Result<Vec<ImportOutcome>> {
    let reasons = prevalidate(batch);
    w.ensure_codes(&needed_codes(batch, &reasons))?;
    w.savepoint(Savepoint::Batch)?;
    match import_pass(w, batch, &reasons, on_match, false)? {
        Some(outcomes) => {
            w.release(Savepoint::Batch)?;
            Ok(outcomes)
        }
        None => {
            w.rollback_to(Savepoint::Batch)?;
            import_pass(w, batch, &reasons, on_match, true)?
                .ok_or_else(|| StorageError::Other("the careful import pass gave up".to_string()))
        }
    }
}

/// One pass over the batch. `Ok(None)`: a candidate failed in the fast pass (nothing is undone
/// here; the caller rolls back to the batch savepoint).
fn import_pass(
    w: &mut dyn BatchWriter,
    batch: &[ImportCandidate],
    reasons: &[Option<String>],
    on_match: OnMatch,
    careful: bool,
) -> Result<Option<Vec<ImportOutcome>>> {
    let mut outcomes = Vec::with_capacity(batch.len());
    for (candidate, reason) in batch.iter().zip(reasons) {
        if let Some(reason) = reason {
            outcomes.push(ImportOutcome::Rejected { reason: reason.clone() });
            continue;
        }
        if careful {
            w.savepoint(Savepoint::Candidate)?;
        }
        match import_one(w, candidate, on_match) {
            Ok(outcome) => {
                if careful {
                    w.release(Savepoint::Candidate)?;
                }
                outcomes.push(outcome);
            }
            Err(e) if is_candidate_problem(&e) => {
                if !careful {
                    return Ok(None);
                }
                w.rollback_to(Savepoint::Candidate)?;
                outcomes.push(ImportOutcome::Rejected { reason: e.to_string() });
            }
            Err(e) => return Err(e),
        }
    }
    Ok(Some(outcomes))
}

/// [`Database::import_match`] on a backend's transaction: the first step of [`import_one`] alone.
pub(crate) fn import_match(w: &mut dyn BatchWriter, record: &NewRecord) -> Result<Option<crate::ImportMatch>> {
    let computed;
    let sha = match &record.row {
        Some(v) => &v.sha256,
        None => {
            computed = sha256(&record.marc);
            &computed
        }
    };
    Ok(match w.find(record, sha)? {
        Found::Identical(id) => Some(crate::ImportMatch::Identical(id)),
        Found::Matched(id) => Some(crate::ImportMatch::Matched(id)),
        Found::Nothing => None,
    })
}

fn import_one(w: &mut dyn BatchWriter, c: &ImportCandidate, on_match: OnMatch) -> Result<ImportOutcome> {
    let computed;
    let sha = match &c.record.row {
        Some(v) => &v.sha256,
        None => {
            computed = sha256(&c.record.marc);
            &computed
        }
    };
    Ok(match w.find(&c.record, sha)? {
        Found::Identical(id) => {
            let (items_added, items_existing) = w.attach_items(id, &c.items)?;
            ImportOutcome::Unchanged { id, items_added, items_existing }
        }
        Found::Matched(id) => match on_match {
            OnMatch::Add => {
                let (id, items_added, items_existing) = w.insert_record_with_items(&c.record, sha, &c.items)?;
                ImportOutcome::Added { id, items_added, items_existing }
            }
            OnMatch::Replace => {
                w.replace_record(id, &c.record, sha)?;
                let (items_added, items_existing) = w.attach_items(id, &c.items)?;
                ImportOutcome::Replaced { id, items_added, items_existing }
            }
            OnMatch::Skip => {
                let (items_added, items_existing) = w.attach_items(id, &c.items)?;
                ImportOutcome::Skipped { id, items_added, items_existing }
            }
        },
        Found::Nothing => {
            let (id, items_added, items_existing) = w.insert_record_with_items(&c.record, sha, &c.items)?;
            ImportOutcome::Added { id, items_added, items_existing }
        }
    })
}

/// The ISBNs / OCLC numbers of a record without repeats (a record may carry one ISBN as both
/// ISBN-10 and ISBN-13), for the child tables.
pub(crate) fn distinct(values: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    values.iter().filter(|v| seen.insert(v.as_str())).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_round_trip() {
        for f in Format::ALL {
            assert_eq!(parse_format(f.as_str()).ok(), Some(f));
            // The stored name is the one the API speaks.
            assert_eq!(serde_json::to_value(f).ok(), Some(serde_json::Value::String(f.as_str().into())));
        }
    }

    #[test]
    fn folds_unicode() {
        assert_eq!(fold("Études ÅNGSTRÖM"), "études ångström");
        assert_eq!(fold_authors(&["King, Stephen".into(), "Straub, Peter".into()]), "king, stephen\nstraub, peter");
    }

    /// A writer that keeps titles in memory, fails on titles starting with "bad", and undoes
    /// savepoints by restoring snapshots.
    #[derive(Default)]
    struct Fake {
        stored: Vec<String>,
        saved: Vec<(Savepoint, Vec<String>)>,
        log: Vec<String>,
    }

    impl BatchWriter for Fake {
        fn ensure_codes(&mut self, _: &NeededCodes) -> Result<()> {
            Ok(())
        }
        fn find(&mut self, record: &NewRecord, _: &[u8]) -> Result<Found> {
            let pos = self.stored.iter().position(|t| *t == record.derived.title);
            Ok(pos.map_or(Found::Nothing, |i| Found::Identical(i as BibId + 1)))
        }
        fn insert_record(&mut self, record: &NewRecord, _: &[u8]) -> Result<BibId> {
            if record.derived.title.starts_with("bad") {
                return Err(StorageError::Constraint(format!("{} is bad", record.derived.title)));
            }
            self.stored.push(record.derived.title.clone());
            Ok(self.stored.len() as BibId)
        }
        fn replace_record(&mut self, _: BibId, _: &NewRecord, _: &[u8]) -> Result<()> {
            Ok(())
        }
        fn attach_items(&mut self, _: BibId, items: &[NewItem]) -> Result<(u32, u32)> {
            Ok((items.len() as u32, 0))
        }
        fn savepoint(&mut self, name: Savepoint) -> Result<()> {
            self.log.push(format!("savepoint {}", name.name()));
            self.saved.push((name, self.stored.clone()));
            Ok(())
        }
        fn release(&mut self, name: Savepoint) -> Result<()> {
            assert_eq!(self.saved.pop().map(|s| s.0), Some(name));
            Ok(())
        }
        fn rollback_to(&mut self, name: Savepoint) -> Result<()> {
            self.log.push(format!("rollback {}", name.name()));
            let (n, stored) = self.saved.pop().expect("open savepoint");
            assert_eq!(n, name);
            self.stored = stored;
            Ok(())
        }
    }

    fn candidate(title: &str) -> ImportCandidate {
        let derived = crate::BibDerived { title: title.to_string(), ..Default::default() };
        ImportCandidate { record: NewRecord { marc: title.as_bytes().to_vec(), derived, row: None }, items: vec![] }
    }

    #[test]
    fn a_failing_candidate_is_rejected_in_a_careful_second_pass() {
        let mut w = Fake::default();
        let batch = [candidate("one"), candidate("bad two"), candidate("three"), candidate("bad four")];
        let out = run_import(&mut w, &batch, OnMatch::Skip).expect("import");
        assert_eq!(
            out,
            vec![
                ImportOutcome::Added { id: 1, items_added: 0, items_existing: 0 },
                ImportOutcome::Rejected { reason: "bad two is bad".into() },
                ImportOutcome::Added { id: 2, items_added: 0, items_existing: 0 },
                ImportOutcome::Rejected { reason: "bad four is bad".into() },
            ]
        );
        assert_eq!(w.stored, ["one", "three"]);
        assert!(w.saved.is_empty());
        // One fast pass that stopped at the first failure, then one careful pass.
        assert_eq!(w.log.iter().filter(|l| l.as_str() == "rollback import_batch").count(), 1);
        assert_eq!(w.log.iter().filter(|l| l.as_str() == "rollback import_candidate").count(), 2);
    }

    #[test]
    fn a_clean_batch_takes_one_pass_without_candidate_savepoints() {
        let mut w = Fake::default();
        let out = run_import(&mut w, &[candidate("a"), candidate("b"), candidate("a")], OnMatch::Skip).expect("import");
        assert_eq!(out[2], ImportOutcome::Unchanged { id: 1, items_added: 0, items_existing: 0 });
        assert_eq!(w.log, ["savepoint import_batch"]);
    }

    #[test]
    fn nul_characters_are_rejected_up_front() {
        let mut c = candidate("fine");
        c.record.derived.authors = vec!["Bad\0Name".into()];
        let reasons = prevalidate(&[c]);
        assert!(reasons[0].as_deref().is_some_and(|r| r.contains("NUL")), "{reasons:?}");
    }

    #[test]
    fn timestamps_are_utc_micros() {
        let s = rfc3339(now());
        assert!(s.ends_with('Z') && s.len() == 27, "{s}");
    }
}
