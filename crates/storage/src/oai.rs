//! What the OAI-PMH provider reads: records and tombstones in datestamp order, their sets, and
//! the key its resumption tokens are signed with.
//!
//! A record's datestamp is its `updated_at` (created, or its MARC replaced). A deleted record
//! leaves a tombstone in `deleted_records`, written by [`crate::Database::delete_record`] in the
//! deleting transaction and never removed. Sets come from the record's items: its items' home
//! branches and shelving locations, as they are now. Adding or removing a copy, or moving one
//! to another home branch or location, moves the record's datestamp too (in the same
//! transaction), so an incremental harvest by set sees the record join the set. A record that
//! leaves a set is not reported to that set's harvesters (the protocol has no way to say so
//! short of a deletion, and the record is not deleted).
//!
//! Implemented by both backends (`sqlite/oai.rs`, `postgres/oai.rs`); a supertrait of
//! [`crate::Database`].

use crate::common::{Dialect, Param, Query};
use crate::{BibId, Result};
use chrono::{DateTime, Utc};

/// A set to harvest: every record with an item at any / one home branch, or on any / one
/// shelving location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OaiSet {
    AnyBranch,
    Branch(String),
    AnyLocation,
    Location(String),
}

/// Which records a list selects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OaiQuery {
    /// Datestamp at or after.
    pub from: Option<DateTime<Utc>>,
    /// Datestamp strictly before.
    pub before: Option<DateTime<Utc>>,
    /// Tombstones belong to no set: with a set, only live records are listed.
    pub set: Option<OaiSet>,
}

/// A place in the (datestamp, id) order: the last record of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OaiPosition {
    pub datestamp: DateTime<Utc>,
    pub id: BibId,
}

/// A live record or a tombstone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OaiRecord {
    pub id: BibId,
    /// Microseconds, as stored.
    pub datestamp: DateTime<Utc>,
    pub deleted: bool,
    /// The ISO 2709 record, when asked for (never for a tombstone).
    pub marc: Option<Vec<u8>>,
    /// The home branches of its items, sorted, each once.
    pub branches: Vec<String>,
    /// The shelving locations of its items, sorted, each once.
    pub locations: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OaiPage {
    pub records: Vec<OaiRecord>,
    /// How many records and tombstones the query selects in all, when asked for.
    pub total: Option<u64>,
}

/// The `settings` row holding the token key.
pub(crate) const TOKEN_KEY_SETTING: &str = "oai_token_key";

pub trait OaiStore {
    /// Records and tombstones the query selects, after `after` in (datestamp, id) order, at
    /// most `limit`, read in one transaction; with the MARC when `with_marc`, and the complete
    /// count when `count`.
    fn oai_page(
        &self,
        query: &OaiQuery,
        after: Option<&OaiPosition>,
        limit: u32,
        count: bool,
        with_marc: bool,
    ) -> Result<OaiPage>;
    /// A record (with its MARC) or its tombstone.
    fn oai_record(&self, id: BibId) -> Result<Option<OaiRecord>>;
    /// The oldest datestamp of any record or tombstone.
    fn oai_earliest_datestamp(&self) -> Result<Option<DateTime<Utc>>>;
    /// The key resumption tokens are signed with: the stored one, or `candidate` stored now when
    /// there is none yet (the caller draws it at random), so tokens survive restarts.
    fn oai_token_key(&self, candidate: &str) -> Result<String>;
}

/// A timestamp parameter: RFC 3339 text on both backends, cast on PostgreSQL.
fn at(dialect: Dialect, q: &mut Query, t: DateTime<Utc>) -> String {
    let p = q.push(dialect, Param::Text(crate::common::rfc3339(t)));
    match dialect {
        Dialect::Sqlite => p,
        Dialect::Postgres => format!("{p}::text::timestamptz"),
    }
}

/// The conditions on a datestamp column `col` (and id column `id`) for a query and position.
fn conditions(
    dialect: Dialect,
    q: &mut Query,
    query: &OaiQuery,
    after: Option<&OaiPosition>,
    col: &str,
    id: &str,
) -> Vec<String> {
    let mut conds = Vec::new();
    if let Some(from) = query.from {
        conds.push(format!("{col} >= {}", at(dialect, q, from)));
    }
    if let Some(before) = query.before {
        conds.push(format!("{col} < {}", at(dialect, q, before)));
    }
    if let Some(a) = after {
        let t = at(dialect, q, a.datestamp);
        let i = q.push(dialect, Param::Int(a.id));
        conds.push(format!("({col}, {id}) > ({t}, {i})"));
    }
    conds
}

fn where_clause(conds: &[String]) -> String {
    if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    }
}

fn set_condition(dialect: Dialect, q: &mut Query, set: &OaiSet) -> String {
    let exists = |extra: String| format!("EXISTS (SELECT 1 FROM items i WHERE i.bib_id = b.id{extra})");
    match set {
        OaiSet::AnyBranch => exists(String::new()),
        OaiSet::Branch(code) => exists(format!(" AND i.home_branch = {}", q.push(dialect, Param::Text(code.clone())))),
        OaiSet::AnyLocation => exists(" AND i.location IS NOT NULL".to_string()),
        OaiSet::Location(code) => exists(format!(" AND i.location = {}", q.push(dialect, Param::Text(code.clone())))),
    }
}

/// Live records: `id, datestamp, marc` (NULL unless `with_marc`), in order, at most `limit`.
pub(crate) fn records_page(
    dialect: Dialect,
    query: &OaiQuery,
    after: Option<&OaiPosition>,
    limit: u32,
    with_marc: bool,
) -> Query {
    let mut q = Query::default();
    let mut conds = conditions(dialect, &mut q, query, after, "b.updated_at", "b.id");
    if let Some(set) = &query.set {
        conds.push(set_condition(dialect, &mut q, set));
    }
    let marc = match (with_marc, dialect) {
        (true, _) => "b.marc",
        (false, Dialect::Sqlite) => "NULL",
        (false, Dialect::Postgres) => "NULL::bytea",
    };
    let l = q.push(dialect, Param::Int(i64::from(limit)));
    q.sql = format!(
        "SELECT b.id, b.updated_at, {marc} FROM bib_records b{} ORDER BY b.updated_at, b.id LIMIT {l}",
        where_clause(&conds)
    );
    q
}

/// Tombstones: `bib_id, deleted_at`, in order, at most `limit`; `None` with a set (a tombstone
/// belongs to none).
pub(crate) fn tombstones_page(
    dialect: Dialect,
    query: &OaiQuery,
    after: Option<&OaiPosition>,
    limit: u32,
) -> Option<Query> {
    if query.set.is_some() {
        return None;
    }
    let mut q = Query::default();
    let conds = conditions(dialect, &mut q, query, after, "d.deleted_at", "d.bib_id");
    let l = q.push(dialect, Param::Int(i64::from(limit)));
    q.sql = format!(
        "SELECT d.bib_id, d.deleted_at FROM deleted_records d{} ORDER BY d.deleted_at, d.bib_id LIMIT {l}",
        where_clause(&conds)
    );
    Some(q)
}

/// One row: how many records and tombstones the query selects.
pub(crate) fn count(dialect: Dialect, query: &OaiQuery) -> Query {
    let mut q = Query::default();
    let mut conds = conditions(dialect, &mut q, query, None, "b.updated_at", "b.id");
    let records = match &query.set {
        Some(set) => {
            conds.push(set_condition(dialect, &mut q, set));
            format!("SELECT count(*) FROM bib_records b{}", where_clause(&conds))
        }
        None => format!("SELECT count(*) FROM bib_records b{}", where_clause(&conds)),
    };
    let tombstones = if query.set.is_some() {
        "0".to_string()
    } else {
        let conds = conditions(dialect, &mut q, query, None, "d.deleted_at", "d.bib_id");
        format!("(SELECT count(*) FROM deleted_records d{})", where_clause(&conds))
    };
    q.sql = format!("SELECT ({records}) + {tombstones}");
    q
}

/// Merges live records and tombstones (each in order) into the first `limit` in (datestamp, id)
/// order.
pub(crate) fn merge(mut live: Vec<OaiRecord>, tombstones: Vec<OaiRecord>, limit: u32) -> Vec<OaiRecord> {
    live.extend(tombstones);
    live.sort_by_key(|r| (r.datestamp, r.id));
    live.truncate(limit as usize);
    live
}

/// Attaches the sets read as (bib id, home branch, location) rows.
pub(crate) fn attach_sets(records: &mut [OaiRecord], rows: impl IntoIterator<Item = (BibId, String, Option<String>)>) {
    let mut index: std::collections::HashMap<BibId, usize> = std::collections::HashMap::new();
    for (i, r) in records.iter().enumerate() {
        index.insert(r.id, i);
    }
    for (bib, branch, location) in rows {
        if let Some(&i) = index.get(&bib) {
            let r = &mut records[i];
            r.branches.push(branch);
            r.locations.extend(location);
        }
    }
    for r in records {
        r.branches.sort();
        r.branches.dedup();
        r.locations.sort();
        r.locations.dedup();
    }
}
