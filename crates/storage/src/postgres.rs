//! The PostgreSQL backend, on the synchronous `postgres` client.
//!
//! **Threads:** the synchronous client drives its own small tokio runtime and panics when called
//! from a thread that is already running a tokio runtime. Async callers (the web server) must
//! call this backend inside `tokio::task::spawn_blocking`.
//!
//! A pool of at most [`PostgresOptions::pool_size`] connections, opened lazily; each connection
//! caches its prepared statements. Writes run in READ COMMITTED transactions and are retried (up
//! to three times) when PostgreSQL reports a deadlock or a serialization failure. Import batches
//! take a transaction-level advisory lock, so concurrent imports match against each other's
//! records instead of both adding the same title. The change feed stays monotonic because each
//! writer takes another advisory lock just before it inserts its change rows and holds it until
//! commit: change ids are handed out in commit order. Export reads in one REPEATABLE READ, READ
//! ONLY transaction through a portal (a server-side cursor), a chunk of records at a time.

mod closures;
mod holds;
mod ledger;
mod notices;
mod oai;
mod patrons;
mod reports;
mod settings;
mod staff;
mod staging;

use crate::common::{
    self, branch_has_items, branch_has_patrons, branch_still_named, change_from, fold, fold_authors, item_acquired_on,
    item_refs, items_query, no_inventory, no_record, parse_barcode, parse_code, parse_format, parse_status,
    record_has_items, records_query, shelf_query, shelf_sort_key, BatchWriter, Dialect, Found, NeededCodes, Param,
    PendingChange, RecordCallNumbers, Ref, Savepoint,
};
use crate::config::{redact_url, PostgresOptions};
use crate::loans::{
    self, CheckinContext, CheckinWrite, CheckoutContext, Loan, LoanWrite, OverrideEntry, PatronAccount, RenewalContext,
    RenewalWrite,
};
use crate::migrate::{self, check_not_newer};
use crate::pool::{Pool, Pooled};
use crate::{
    BibId, Change, ChangeEntity, ChangeKind, Database, ImportCandidate, ImportOutcome, Inventory, InventoryId,
    InventorySnapshot, ItemFilter, ItemId, NewInventory, NewRecord, OnMatch, Page, Patron, RecordFilter, Result,
    ShelfPage, ShelfQuery, StorageError, StoredRecord,
};
use crate::{ChangeSignal, LoanId, PatronId};
use ::postgres::error::SqlState;
use ::postgres::types::ToSql;
use ::postgres::{Client, GenericClient, IsolationLevel, NoTls, Row, Statement, Transaction};
use catalog::inventory::ShelfItem;
use catalog::{Barcode, BibDerived, Branch, Code, Item, ItemStatus, ItemType, Money, NewItem, ShelvingLocation};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Advisory lock keys (`pg_advisory_xact_lock`), the ASCII of "SHELFMK" plus a number.
const MIGRATE_LOCK: i64 = 0x5348_454c_464d_4b01;
const IMPORT_LOCK: i64 = 0x5348_454c_464d_4b02;
const CHANGES_LOCK: i64 = 0x5348_454c_464d_4b03;

/// Records fetched per round trip by `export`.
const EXPORT_CHUNK: i32 = 256;
const WRITE_ATTEMPTS: usize = 3;

pub struct PostgresDatabase {
    pool: Pool<PgConn>,
    description: String,
    signal: Arc<ChangeSignal>,
}

impl std::fmt::Debug for PostgresDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresDatabase").field("url", &self.description).finish_non_exhaustive()
    }
}

struct PgConn {
    client: Client,
    statements: HashMap<String, Statement>,
}

impl PostgresDatabase {
    /// Connects, creates the schema if one is named, and migrates. Must not be called on a tokio
    /// runtime thread (see the module docs).
    pub fn connect(options: &PostgresOptions) -> Result<PostgresDatabase> {
        let mut config: ::postgres::Config = options
            .url
            .parse()
            .map_err(|e| StorageError::Other(format!("bad PostgreSQL URL {}: {e}", redact_url(&options.url))))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("shelfmark");
        }
        let schema = options.schema.as_deref().map(quote_schema).transpose()?;
        let set_path = schema.as_ref().map(|s| format!("SET search_path TO {s}"));
        let connect = move || -> Result<PgConn> {
            let mut client = config.connect(NoTls)?;
            if let Some(sql) = &set_path {
                client.batch_execute(sql)?;
            }
            Ok(PgConn { client, statements: HashMap::new() })
        };
        let mut first = connect()?;
        if let Some(s) = &schema {
            first.client.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {s}"))?;
        }
        migrate(&mut first.client)?;
        rebuild_keys_if_stale(&mut first.client)?;
        {
            // Rows from before 0017 get the search keys only Rust can compute (a no-op
            // afterwards: the partial index of rows due is empty).
            let mut tx = first.client.transaction()?;
            patrons::fill_search_keys(&mut Cx { c: &mut tx, statements: &mut HashMap::new() })?;
            tx.commit()?;
        }
        let pool = Pool::new(options.pool_size, Duration::from_secs(30), Box::new(connect));
        pool.seed(first);
        Ok(PostgresDatabase { pool, description: redact_url(&options.url), signal: Arc::default() })
    }

    /// A live connection from the pool (dead ones, e.g. after a server restart, are dropped).
    fn conn(&self) -> Result<Pooled<'_, PgConn>> {
        loop {
            let mut conn = self.pool.get()?;
            if conn.client.is_closed() {
                conn.mark_broken();
                continue;
            }
            return Ok(conn);
        }
    }

    /// One write transaction, retried on deadlock or serialization failure. The change rows the
    /// closure queued are inserted last, under [`CHANGES_LOCK`].
    fn write<T>(&self, mut f: impl FnMut(&mut Tx<'_, '_>) -> Result<T>) -> Result<T> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut conn = self.conn()?;
            let result = (|| {
                let PgConn { client, statements } = &mut *conn;
                let mut tx = client.transaction()?;
                let (value, changes, bulk) = {
                    let mut w =
                        Tx { cx: Cx { c: &mut tx, statements }, changes: Vec::new(), marks: Vec::new(), bulk: false };
                    let value = f(&mut w)?;
                    (value, w.changes, w.bulk)
                };
                if !changes.is_empty() {
                    flush_changes(&mut Cx { c: &mut tx, statements }, &changes, bulk)?;
                }
                let audited = match crate::staff::pending_audit() {
                    Some(entry) => {
                        let mut cx = Cx { c: &mut tx, statements };
                        // A transaction that changed nothing has no transaction id yet.
                        let changed: bool =
                            cx.query_one("SELECT txid_current_if_assigned() IS NOT NULL", &[])?.try_get(0)?;
                        if changed {
                            staff::insert_audit(&mut cx, &entry, Utc::now())?;
                        }
                        changed
                    }
                    None => false,
                };
                tx.commit()?;
                if !changes.is_empty() {
                    self.signal.notify();
                }
                Ok((value, audited))
            })();
            if conn.client.is_closed() {
                conn.mark_broken();
            }
            match result {
                Err(e) if attempt < WRITE_ATTEMPTS && is_retryable(&e) => continue,
                Ok((value, audited)) => {
                    if audited {
                        crate::staff::audit_committed();
                    }
                    return Ok(value);
                }
                Err(e) => return Err(map_error(e)),
            }
        }
    }

    /// One read: a single statement, which is a transaction of its own.
    fn read<T>(&self, f: impl FnOnce(&mut Cx<'_, Client>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn()?;
        let PgConn { client, statements } = &mut *conn;
        let result = f(&mut Cx { c: client, statements });
        if conn.client.is_closed() {
            conn.mark_broken();
        }
        result.map_err(map_error)
    }
}

fn quote_schema(name: &str) -> Result<String> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(format!("\"{name}\""))
    } else {
        Err(StorageError::Other(format!(
            "schema name {name:?} must be letters, digits and '_' (at most 63, not starting with a digit)"
        )))
    }
}

fn migrate(client: &mut Client) -> Result<()> {
    {
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    INTEGER PRIMARY KEY,
                 name       TEXT NOT NULL,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        )?;
        let max: Option<i32> = tx.query_one("SELECT max(version) FROM schema_migrations", &[])?.get(0);
        check_not_newer(max.map(i64::from), migrate::POSTGRES)?;
        tx.commit()?;
    }
    for m in migrate::POSTGRES {
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])?;
        let version = i32::try_from(m.version).unwrap_or(i32::MAX);
        let done: bool =
            tx.query_one("SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)", &[&version])?.get(0);
        if done {
            continue;
        }
        tx.batch_execute(m.sql).map_err(|e| StorageError::Migration {
            version: m.version,
            message: e.as_db_error().map(|d| d.to_string()).unwrap_or_else(|| e.to_string()),
        })?;
        tx.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", &[&version, &m.name])?;
        tx.commit()?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Errors.

fn sql_state(e: &StorageError) -> Option<&SqlState> {
    match e {
        StorageError::Postgres(e) => e.code(),
        _ => None,
    }
}

fn is_retryable(e: &StorageError) -> bool {
    matches!(sql_state(e), Some(s) if *s == SqlState::T_R_DEADLOCK_DETECTED || *s == SqlState::T_R_SERIALIZATION_FAILURE)
}

/// What every error that no call site turned into a sentence becomes: integrity and data
/// problems (SQLSTATE classes 23 and 22) are the caller's, anything else is the database's.
fn map_error(e: StorageError) -> StorageError {
    let StorageError::Postgres(pg) = &e else { return e };
    let Some(db) = pg.as_db_error() else { return e };
    let code = db.code();
    if *code == SqlState::UNIQUE_VIOLATION {
        let what = match db.constraint() {
            Some("items_barcode_key") => "item barcode",
            Some("patrons_card_number_key") => "card number",
            _ => "row",
        };
        let key = db.detail().and_then(key_from_detail).unwrap_or_else(|| db.message().to_string());
        StorageError::Conflict { what, key }
    } else if code.code().starts_with("23") || code.code().starts_with("22") {
        StorageError::Constraint(format!("the database refused the change: {}", db.message()))
    } else {
        e
    }
}

/// `Key (barcode)=(123) already exists.` -> `123`.
fn key_from_detail(detail: &str) -> Option<String> {
    let start = detail.find(")=(")? + 3;
    let end = detail.rfind(')')?;
    (end > start).then(|| detail[start..end].to_string())
}

fn constraint_of(e: &StorageError) -> Option<(&SqlState, Option<&str>)> {
    match e {
        StorageError::Postgres(e) => e.as_db_error().map(|d| (d.code(), d.constraint())),
        _ => None,
    }
}

/// The sentence for a failed item insert or update, from the constraint PostgreSQL names.
fn item_error(e: StorageError, bib_id: Option<BibId>, item: &NewItem) -> StorageError {
    let Some((code, constraint)) = constraint_of(&e) else { return e };
    if *code == SqlState::UNIQUE_VIOLATION && constraint == Some("items_barcode_key") {
        return common::barcode_taken(&item.barcode);
    }
    if *code == SqlState::FOREIGN_KEY_VIOLATION {
        let refs = item_refs(item);
        let find = |r: Ref| refs.iter().find(|(x, _)| *x == r).map(|(r, c)| r.missing(c));
        let sentence = match constraint {
            Some("items_bib_id_fkey") => bib_id.map(no_record),
            Some("items_home_branch_fkey") => find(Ref::HomeBranch),
            Some("items_holding_branch_fkey") => find(Ref::HoldingBranch),
            Some("items_location_fkey") => find(Ref::Location),
            Some("items_item_type_fkey") => find(Ref::ItemType),
            _ => None,
        };
        if let Some(s) = sentence {
            return s;
        }
    }
    e
}

// ---------------------------------------------------------------------------------------------
// Statements.

/// A client or transaction with its connection's statement cache.
struct Cx<'a, C: GenericClient> {
    c: &'a mut C,
    statements: &'a mut HashMap<String, Statement>,
}

type Params<'p> = [&'p (dyn ToSql + Sync)];

impl<C: GenericClient> Cx<'_, C> {
    fn prepare(&mut self, sql: &str) -> Result<Statement> {
        if let Some(st) = self.statements.get(sql) {
            return Ok(st.clone());
        }
        let st = self.c.prepare(sql)?;
        self.statements.insert(sql.to_string(), st.clone());
        Ok(st)
    }

    fn query(&mut self, sql: &str, params: &Params<'_>) -> Result<Vec<Row>> {
        let st = self.prepare(sql)?;
        Ok(self.c.query(&st, params)?)
    }

    fn query_opt(&mut self, sql: &str, params: &Params<'_>) -> Result<Option<Row>> {
        let st = self.prepare(sql)?;
        Ok(self.c.query_opt(&st, params)?)
    }

    fn query_one(&mut self, sql: &str, params: &Params<'_>) -> Result<Row> {
        let st = self.prepare(sql)?;
        Ok(self.c.query_one(&st, params)?)
    }

    fn execute(&mut self, sql: &str, params: &Params<'_>) -> Result<u64> {
        let st = self.prepare(sql)?;
        Ok(self.c.execute(&st, params)?)
    }
}

/// A write transaction: the statements, plus the change rows to insert at commit.
struct Tx<'a, 'c> {
    cx: Cx<'a, Transaction<'c>>,
    changes: Vec<PendingChange>,
    /// `changes.len()` at each open savepoint.
    marks: Vec<usize>,
    /// The changes are an import batch's ([`crate::Change::bulk`]).
    bulk: bool,
}

impl Tx<'_, '_> {
    fn change(&mut self, entity: ChangeEntity, entity_id: i64, kind: ChangeKind) {
        self.changes.push(PendingChange { entity, entity_id, kind });
    }
}

fn flush_changes(cx: &mut Cx<'_, Transaction<'_>>, changes: &[PendingChange], bulk: bool) -> Result<()> {
    let entities: Vec<&str> = changes.iter().map(|c| c.entity.as_str()).collect();
    let ids: Vec<i64> = changes.iter().map(|c| c.entity_id).collect();
    let kinds: Vec<&str> = changes.iter().map(|c| c.kind.as_str()).collect();
    // The lock is taken before the first identity value is drawn and held to commit, so change
    // ids are in commit order.
    cx.execute(
        "INSERT INTO changes (entity, entity_id, kind, at, bulk) \
         SELECT c.entity, c.entity_id, c.kind, now(), $5 \
         FROM (SELECT pg_advisory_xact_lock($1)) AS l, \
              unnest($2::text[], $3::int8[], $4::text[]) WITH ORDINALITY AS c(entity, entity_id, kind, n) \
         ORDER BY c.n",
        &[&CHANGES_LOCK, &entities, &ids, &kinds, &bulk],
    )?;
    Ok(())
}

/// The change feed rows `sql` selects (id, entity, entity_id, kind, at, bulk) after `$1`, at
/// most `$2`.
fn read_changes(cx: &mut Cx<'_, Client>, sql: &str, after: i64, limit: u32) -> Result<Vec<Change>> {
    cx.query(sql, &[&after, &i64::from(limit)])?
        .iter()
        .map(|r| {
            change_from(r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, timestamp(r, 4)?, r.try_get(5)?)
        })
        .collect()
}

fn boxed(params: &[Param]) -> Vec<Box<dyn ToSql + Sync>> {
    params
        .iter()
        .map(|p| -> Box<dyn ToSql + Sync> {
            match p {
                Param::Text(s) => Box::new(s.clone()),
                Param::Int(i) => Box::new(*i),
                Param::Int32(i) => Box::new(*i),
                Param::Ids(ids) => Box::new(ids.clone()),
                Param::Bytes(b) => Box::new(b.clone()),
            }
        })
        .collect()
}

fn refs(params: &[Box<dyn ToSql + Sync>]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|b| b.as_ref()).collect()
}

fn timestamp(row: &Row, i: usize) -> Result<String> {
    Ok(common::rfc3339(row.try_get::<_, DateTime<Utc>>(i)?))
}

fn stored_record(row: &Row) -> Result<StoredRecord> {
    let derived = BibDerived {
        title: row.try_get(2)?,
        responsibility: row.try_get(3)?,
        authors: row.try_get(4)?,
        isbns: row.try_get(5)?,
        issns: row.try_get(6)?,
        lccn: row.try_get(7)?,
        oclc_numbers: row.try_get(8)?,
        control_number: row.try_get(9)?,
        control_number_identifier: row.try_get(10)?,
        publisher: row.try_get(11)?,
        year: row.try_get(12)?,
        language: row.try_get(13)?,
        format: parse_format(row.try_get(14)?)?,
        subjects: row.try_get(15)?,
        series: row.try_get(16)?,
        lc_call_number: row.try_get(17)?,
        dewey_call_number: row.try_get(18)?,
        edition: row.try_get(19)?,
    };
    Ok(StoredRecord {
        id: row.try_get(0)?,
        marc: row.try_get(1)?,
        derived,
        created_at: timestamp(row, 20)?,
        updated_at: timestamp(row, 21)?,
    })
}

fn item_from_row(row: &Row) -> Result<Item> {
    let code = |i: usize| -> Result<Code> { parse_code(row.try_get(i)?) };
    let opt_code =
        |i: usize| -> Result<Option<Code>> { row.try_get::<_, Option<String>>(i)?.map(parse_code).transpose() };
    Ok(Item {
        id: row.try_get(0)?,
        bib_id: row.try_get(1)?,
        item: NewItem {
            barcode: parse_barcode(row.try_get(2)?)?,
            home_branch: code(3)?,
            holding_branch: code(4)?,
            location: opt_code(5)?,
            collection: row.try_get(6)?,
            call_number: row.try_get(7)?,
            item_type: code(8)?,
            price: row.try_get::<_, Option<i64>>(9)?.map(Money::from_minor),
            public_note: row.try_get(10)?,
            staff_note: row.try_get(11)?,
            materials_specified: row.try_get(12)?,
            status: parse_status(row.try_get(13)?)?,
            acquired_on: row.try_get::<_, Option<NaiveDate>>(14)?.map(common::date_str),
        },
    })
}

fn count(row: Row) -> Result<u64> {
    Ok(u64::try_from(row.try_get::<_, i64>(0)?).unwrap_or(0))
}

// ---------------------------------------------------------------------------------------------
// Writes shared by the trait methods and import batches.

/// The 22 derived-and-MARC values of a record, in the column order of INSERT_RECORD_CTES.
struct RecordValues {
    marc: Vec<u8>,
    sha: Vec<u8>,
    title_fold: String,
    authors_fold: String,
    format: String,
}

impl RecordValues {
    fn new(r: &NewRecord, sha: &[u8]) -> RecordValues {
        RecordValues {
            marc: r.marc.clone(),
            sha: sha.to_vec(),
            title_fold: fold(&r.derived.title),
            authors_fold: fold_authors(&r.derived.authors),
            format: r.derived.format.as_str().to_string(),
        }
    }

    fn params<'p>(&'p self, d: &'p BibDerived) -> Vec<&'p (dyn ToSql + Sync)> {
        vec![
            &self.marc,
            &self.sha,
            &d.title,
            &self.title_fold,
            &d.responsibility,
            &d.authors,
            &self.authors_fold,
            &d.isbns,
            &d.issns,
            &d.lccn,
            &d.oclc_numbers,
            &d.control_number,
            &d.control_number_identifier,
            &d.publisher,
            &d.year,
            &d.language,
            &self.format,
            &d.subjects,
            &d.series,
            &d.lc_call_number,
            &d.dewey_call_number,
            &d.edition,
        ]
    }
}

/// A new record and its identifier rows, as CTEs; `b` yields the new id.
const INSERT_RECORD_CTES: &str = "WITH b AS ( \
       INSERT INTO bib_records (marc, marc_sha256, title, title_fold, responsibility, authors, authors_fold, \
         isbns, issns, lccn, oclc_numbers, control_number, control_number_identifier, publisher, year, language, \
         format, subjects, series, lc_call_number, dewey_call_number, edition, created_at, updated_at) \
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, \
         now(), now()) \
       RETURNING id), \
     i AS (INSERT INTO bib_isbns (isbn, bib_id) SELECT DISTINCT x, b.id FROM b, unnest($8::text[]) AS x), \
     o AS (INSERT INTO bib_oclc_numbers (oclc_number, bib_id) SELECT DISTINCT x, b.id FROM b, unnest($11::text[]) AS x)";

/// Rewrites the row and brings the identifier tables in line (rows that stay are left alone, so
/// the DELETE and INSERT of one statement never touch the same row).
const REPLACE_RECORD: &str = "WITH b AS ( \
       UPDATE bib_records SET marc = $1, marc_sha256 = $2, title = $3, title_fold = $4, responsibility = $5, \
         authors = $6, authors_fold = $7, isbns = $8, issns = $9, lccn = $10, oclc_numbers = $11, \
         control_number = $12, control_number_identifier = $13, publisher = $14, year = $15, language = $16, \
         format = $17, subjects = $18, series = $19, lc_call_number = $20, dewey_call_number = $21, edition = $22, \
         updated_at = now() \
       WHERE id = $23 RETURNING id), \
     di AS (DELETE FROM bib_isbns WHERE bib_id = $23 AND NOT (isbn = ANY($8::text[]))), \
     ii AS (INSERT INTO bib_isbns (isbn, bib_id) SELECT DISTINCT x, b.id FROM b, unnest($8::text[]) AS x \
       ON CONFLICT DO NOTHING), \
     do_ AS (DELETE FROM bib_oclc_numbers WHERE bib_id = $23 AND NOT (oclc_number = ANY($11::text[]))), \
     io AS (INSERT INTO bib_oclc_numbers (oclc_number, bib_id) SELECT DISTINCT x, b.id FROM b, unnest($11::text[]) AS x \
       ON CONFLICT DO NOTHING) \
     SELECT id FROM b";

fn insert_record(w: &mut Tx<'_, '_>, r: &NewRecord, sha: &[u8]) -> Result<BibId> {
    let values = RecordValues::new(r, sha);
    let sql = format!("{INSERT_RECORD_CTES} SELECT id FROM b");
    let id: BibId = w.cx.query_one(&sql, &values.params(&r.derived))?.try_get(0)?;
    w.change(ChangeEntity::Record, id, ChangeKind::Created);
    Ok(id)
}

fn replace_record(w: &mut Tx<'_, '_>, id: BibId, r: &NewRecord, sha: &[u8]) -> Result<()> {
    let values = RecordValues::new(r, sha);
    let mut params = values.params(&r.derived);
    params.push(&id);
    if w.cx.query_opt(REPLACE_RECORD, &params)?.is_none() {
        return Err(StorageError::NotFound { what: "record", key: id.to_string() });
    }
    refresh_inherited_keys(w, id, &RecordCallNumbers::of(&r.derived))?;
    w.change(ChangeEntity::Record, id, ChangeKind::Updated);
    Ok(())
}

/// Moves the items shelved under a record's call number when the record's call numbers change.
fn refresh_inherited_keys(w: &mut Tx<'_, '_>, bib_id: BibId, record: &RecordCallNumbers) -> Result<()> {
    w.cx.execute(
        "UPDATE items SET call_number_sort = $1 WHERE bib_id = $2 AND (call_number IS NULL OR trim(call_number) = '') \
         AND call_number_sort IS DISTINCT FROM $1",
        &[&shelf_sort_key(None, record), &bib_id],
    )?;
    Ok(())
}

/// The record's call numbers, read only when some item has none of its own.
fn record_call_numbers<C: GenericClient>(
    cx: &mut Cx<'_, C>,
    bib_id: BibId,
    items: &[NewItem],
) -> Result<RecordCallNumbers> {
    if items.iter().all(|i| common::has_own_call_number(i.call_number.as_deref())) {
        return Ok(RecordCallNumbers::default());
    }
    let row = cx.query_opt("SELECT dewey_call_number, lc_call_number FROM bib_records WHERE id = $1", &[&bib_id])?;
    Ok(match row {
        Some(r) => RecordCallNumbers { dewey: r.try_get(0)?, lc: r.try_get(1)? },
        None => RecordCallNumbers::default(),
    })
}

/// Recomputes every item's sort key when the stored keys are of another layout version (or
/// were never written: a database from before keys were kept). One transaction.
fn rebuild_keys_if_stale(client: &mut Client) -> Result<()> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])?;
    let stored: Option<String> = tx
        .query_opt("SELECT value FROM settings WHERE name = $1", &[&common::KEY_VERSION_SETTING])?
        .map(|r| r.try_get(0))
        .transpose()?;
    if stored.as_deref() == Some(common::key_version().as_str()) {
        return Ok(());
    }
    let rows = tx.query(
        "SELECT i.id, i.call_number, b.dewey_call_number, b.lc_call_number \
         FROM items i JOIN bib_records b ON b.id = i.bib_id",
        &[],
    )?;
    let mut ids: Vec<i64> = Vec::with_capacity(rows.len());
    let mut keys: Vec<Vec<u8>> = Vec::with_capacity(rows.len());
    for r in &rows {
        let own: Option<String> = r.try_get(1)?;
        let record = RecordCallNumbers { dewey: r.try_get(2)?, lc: r.try_get(3)? };
        ids.push(r.try_get(0)?);
        keys.push(shelf_sort_key(own.as_deref(), &record));
    }
    tx.execute(
        "UPDATE items SET call_number_sort = k.key FROM unnest($1::int8[], $2::bytea[]) AS k(id, key) \
         WHERE items.id = k.id",
        &[&ids, &keys],
    )?;
    tx.execute(
        "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        &[&common::KEY_VERSION_SETTING, &common::key_version()],
    )?;
    tx.commit()?;
    Ok(())
}

fn shelf_item_from_row(row: &Row) -> Result<ShelfItem> {
    let record = RecordCallNumbers { dewey: row.try_get(16)?, lc: row.try_get(17)? };
    let last_seen = row.try_get::<_, Option<DateTime<Utc>>>(19)?.map(common::rfc3339);
    Ok(common::shelf_item(item_from_row(row)?, row.try_get(15)?, record, row.try_get(18)?, last_seen))
}

fn inventory_from_row(row: &Row) -> Result<Inventory> {
    Ok(Inventory {
        id: row.try_get(0)?,
        scope: NewInventory {
            branch: parse_code(row.try_get(1)?)?,
            location: row.try_get::<_, Option<String>>(2)?.map(parse_code).transpose()?,
            call_number_from: row.try_get(3)?,
            call_number_to: row.try_get(4)?,
        },
        started_at: timestamp(row, 5)?,
        scans: u64::try_from(row.try_get::<_, i64>(6)?).unwrap_or(0),
    })
}

const INVENTORY_SQL: &str = "SELECT v.id, v.branch, v.location, v.call_number_from, v.call_number_to, v.started_at, \
     (SELECT count(*) FROM inventory_scans s WHERE s.inventory_id = v.id) FROM inventories v WHERE v.id = $1";

fn get_inventory<C: GenericClient>(cx: &mut Cx<'_, C>, id: InventoryId) -> Result<Option<Inventory>> {
    cx.query_opt(INVENTORY_SQL, &[&id])?.map(|r| inventory_from_row(&r)).transpose()
}

// ---------------------------------------------------------------------------------------------
// Import batches.

const FIND_MATCH: &str = "SELECT rank, id FROM ( \
       SELECT 0 AS rank, id FROM bib_records WHERE marc_sha256 = $1 \
       UNION ALL SELECT 1, id FROM bib_records \
         WHERE control_number = $2::text \
           AND control_number_identifier IS NOT DISTINCT FROM $3::text \
       UNION ALL SELECT 2, o.bib_id FROM bib_oclc_numbers o JOIN bib_records b ON b.id = o.bib_id \
         WHERE o.oclc_number = ANY($4::text[]) AND NOT COALESCE(b.control_number <> $2::text \
           AND b.control_number_identifier IS NOT DISTINCT FROM $3::text, false) \
       UNION ALL SELECT 3, i.bib_id FROM bib_isbns i JOIN bib_records b ON b.id = i.bib_id \
         WHERE i.isbn = ANY($5::text[]) AND NOT COALESCE(b.control_number <> $2::text \
           AND b.control_number_identifier IS NOT DISTINCT FROM $3::text, false) \
     ) AS m ORDER BY rank, id LIMIT 1";

/// The items of an import candidate as 13 column arrays, for one `unnest` insert.
struct ItemArrays<'a> {
    barcodes: Vec<&'a str>,
    home: Vec<&'a str>,
    holding: Vec<&'a str>,
    location: Vec<Option<&'a str>>,
    collection: Vec<Option<&'a str>>,
    call_number: Vec<Option<&'a str>>,
    item_type: Vec<&'a str>,
    price: Vec<Option<i64>>,
    public_note: Vec<Option<&'a str>>,
    staff_note: Vec<Option<&'a str>>,
    materials: Vec<Option<&'a str>>,
    status: Vec<&'static str>,
    acquired: Vec<Option<NaiveDate>>,
    sort_key: Vec<Vec<u8>>,
}

impl<'a> ItemArrays<'a> {
    /// `record`: the call numbers of the record the items belong to, for items without their own.
    fn new(items: &'a [NewItem], record: &RecordCallNumbers) -> Result<ItemArrays<'a>> {
        let text = |f: fn(&'a NewItem) -> Option<&'a str>| items.iter().map(f).collect::<Vec<_>>();
        Ok(ItemArrays {
            barcodes: items.iter().map(|i| i.barcode.as_str()).collect(),
            home: items.iter().map(|i| i.home_branch.as_str()).collect(),
            holding: items.iter().map(|i| i.holding_branch.as_str()).collect(),
            location: text(|i| i.location.as_ref().map(Code::as_str)),
            collection: text(|i| i.collection.as_deref()),
            call_number: text(|i| i.call_number.as_deref()),
            item_type: items.iter().map(|i| i.item_type.as_str()).collect(),
            price: items.iter().map(|i| i.price.map(Money::minor)).collect(),
            public_note: text(|i| i.public_note.as_deref()),
            staff_note: text(|i| i.staff_note.as_deref()),
            materials: text(|i| i.materials_specified.as_deref()),
            status: items.iter().map(|i| i.status.as_str()).collect(),
            acquired: items.iter().map(item_acquired_on).collect::<Result<_>>()?,
            sort_key: items.iter().map(|i| shelf_sort_key(i.call_number.as_deref(), record)).collect(),
        })
    }

    fn params(&self) -> [&(dyn ToSql + Sync); 14] {
        [
            &self.barcodes,
            &self.home,
            &self.holding,
            &self.location,
            &self.collection,
            &self.call_number,
            &self.item_type,
            &self.price,
            &self.public_note,
            &self.staff_note,
            &self.materials,
            &self.status,
            &self.acquired,
            &self.sort_key,
        ]
    }
}

/// `INSERT INTO items ... SELECT <bib>, ... FROM <from>unnest($first .. $first+13)`, skipping
/// barcodes that exist, returning the new ids.
fn insert_items_sql(from: &str, bib: &str, first: usize) -> String {
    let types = [
        "text", "text", "text", "text", "text", "text", "text", "int8", "text", "text", "text", "text", "date", "bytea",
    ];
    let arrays: Vec<String> = types.iter().enumerate().map(|(k, t)| format!("${}::{t}[]", first + k)).collect();
    format!(
        "INSERT INTO items (bib_id, barcode, home_branch, holding_branch, location, collection, call_number, \
           item_type, price, public_note, staff_note, materials_specified, status, acquired_on, call_number_sort, \
           created_at, updated_at) \
         SELECT {bib}, t.barcode, t.home_branch, t.holding_branch, t.location, t.collection, t.call_number, \
           t.item_type, t.price, t.public_note, t.staff_note, t.materials_specified, t.status, t.acquired_on, \
           t.call_number_sort, now(), now() \
         FROM {from}unnest({}) WITH ORDINALITY AS t(barcode, home_branch, holding_branch, location, collection, \
           call_number, item_type, price, public_note, staff_note, materials_specified, status, acquired_on, \
           call_number_sort, n) \
         ORDER BY t.n \
         ON CONFLICT (barcode) DO NOTHING \
         RETURNING id",
        arrays.join(", ")
    )
}

fn counts(added: usize, total: usize) -> (u32, u32) {
    let added = u32::try_from(added).unwrap_or(u32::MAX);
    (added, u32::try_from(total).unwrap_or(u32::MAX).saturating_sub(added))
}

impl BatchWriter for Tx<'_, '_> {
    fn ensure_codes(&mut self, codes: &NeededCodes) -> Result<()> {
        if !codes.branches.is_empty() {
            self.cx.execute(
                "INSERT INTO branches (code, name) SELECT c, c FROM unnest($1::text[]) AS c ON CONFLICT DO NOTHING",
                &[&codes.branches],
            )?;
        }
        if !codes.locations.is_empty() {
            self.cx.execute(
                "INSERT INTO shelving_locations (code, name) SELECT c, c FROM unnest($1::text[]) AS c \
                 ON CONFLICT DO NOTHING",
                &[&codes.locations],
            )?;
        }
        if !codes.item_types.is_empty() {
            self.cx.execute(
                "INSERT INTO item_types (code, name, loanable) SELECT c, c, true FROM unnest($1::text[]) AS c \
                 ON CONFLICT DO NOTHING",
                &[&codes.item_types],
            )?;
        }
        Ok(())
    }

    fn find(&mut self, record: &NewRecord, sha: &[u8]) -> Result<Found> {
        let d = &record.derived;
        let row = self.cx.query_opt(
            FIND_MATCH,
            &[&sha, &d.control_number, &d.control_number_identifier, &d.oclc_numbers, &d.isbns],
        )?;
        Ok(match row {
            None => Found::Nothing,
            Some(row) => {
                let rank: i32 = row.try_get(0)?;
                let id: BibId = row.try_get(1)?;
                if rank == 0 {
                    Found::Identical(id)
                } else {
                    Found::Matched(id)
                }
            }
        })
    }

    fn insert_record(&mut self, record: &NewRecord, sha: &[u8]) -> Result<BibId> {
        insert_record(self, record, sha)
    }

    fn replace_record(&mut self, id: BibId, record: &NewRecord, sha: &[u8]) -> Result<()> {
        replace_record(self, id, record, sha)
    }

    fn attach_items(&mut self, bib_id: BibId, items: &[NewItem]) -> Result<(u32, u32)> {
        if items.is_empty() {
            return Ok((0, 0));
        }
        let record = record_call_numbers(&mut self.cx, bib_id, items)?;
        let arrays = ItemArrays::new(items, &record)?;
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&bib_id];
        params.extend(arrays.params());
        let rows = self.cx.query(&insert_items_sql("", "$1::int8", 2), &params)?;
        for row in &rows {
            let id: ItemId = row.try_get(0)?;
            self.change(ChangeEntity::Item, id, ChangeKind::Created);
        }
        Ok(counts(rows.len(), items.len()))
    }

    /// One statement: the record, its identifier rows and its items.
    fn insert_record_with_items(
        &mut self,
        record: &NewRecord,
        sha: &[u8],
        items: &[NewItem],
    ) -> Result<(BibId, u32, u32)> {
        if items.is_empty() {
            return Ok((insert_record(self, record, sha)?, 0, 0));
        }
        let values = RecordValues::new(record, sha);
        let arrays = ItemArrays::new(items, &RecordCallNumbers::of(&record.derived))?;
        let mut params = values.params(&record.derived);
        params.extend(arrays.params());
        let sql = format!(
            "{INSERT_RECORD_CTES}, it AS ({}) SELECT (SELECT id FROM b), ARRAY(SELECT id FROM it)",
            insert_items_sql("b, ", "b.id", 23)
        );
        let row = self.cx.query_one(&sql, &params)?;
        let id: BibId = row.try_get(0)?;
        let item_ids: Vec<ItemId> = row.try_get(1)?;
        self.change(ChangeEntity::Record, id, ChangeKind::Created);
        for item_id in &item_ids {
            self.change(ChangeEntity::Item, *item_id, ChangeKind::Created);
        }
        let (added, existing) = counts(item_ids.len(), items.len());
        Ok((id, added, existing))
    }

    fn savepoint(&mut self, name: Savepoint) -> Result<()> {
        self.cx.c.batch_execute(&format!("SAVEPOINT {}", name.name()))?;
        self.marks.push(self.changes.len());
        Ok(())
    }

    fn release(&mut self, name: Savepoint) -> Result<()> {
        self.cx.c.batch_execute(&format!("RELEASE SAVEPOINT {}", name.name()))?;
        self.marks.pop();
        Ok(())
    }

    fn rollback_to(&mut self, name: Savepoint) -> Result<()> {
        let n = name.name();
        self.cx.c.batch_execute(&format!("ROLLBACK TO SAVEPOINT {n}; RELEASE SAVEPOINT {n}"))?;
        if let Some(mark) = self.marks.pop() {
            self.changes.truncate(mark);
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// The trait.

const INSERT_ITEM: &str = "INSERT INTO items (bib_id, barcode, home_branch, holding_branch, location, collection, \
     call_number, item_type, price, public_note, staff_note, materials_specified, status, acquired_on, \
     created_at, updated_at, call_number_sort) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, now(), now(), $15) RETURNING id";

/// `$1` is the bib id (insert) or the item id (update); `$2..$14` the item, `$15` its sort key.
fn item_write(w: &mut Tx<'_, '_>, sql: &str, key: i64, bib_id: BibId, item: &NewItem) -> Result<Vec<Row>> {
    let acquired = item_acquired_on(item)?;
    let record = record_call_numbers(&mut w.cx, bib_id, std::slice::from_ref(item))?;
    let sort_key = shelf_sort_key(item.call_number.as_deref(), &record);
    let location = item.location.as_ref().map(Code::as_str);
    let price = item.price.map(Money::minor);
    w.cx.query(
        sql,
        &[
            &key,
            &item.barcode.as_str(),
            &item.home_branch.as_str(),
            &item.holding_branch.as_str(),
            &location,
            &item.collection,
            &item.call_number,
            &item.item_type.as_str(),
            &price,
            &item.public_note,
            &item.staff_note,
            &item.materials_specified,
            &item.status.as_str(),
            &acquired,
            &sort_key,
        ],
    )
}

/// A copy added, removed, or moved to another home branch or shelving location changes the
/// OAI-PMH sets its record is in, so the record's datestamp (`updated_at`) moves too: an
/// incremental harvest of a set then sees it join.
fn redate_record(w: &mut Tx<'_, '_>, bib_id: BibId) -> Result<()> {
    w.cx.execute("UPDATE bib_records SET updated_at = now() WHERE id = $1", &[&bib_id])?;
    Ok(())
}

const UPDATE_ITEM: &str = "UPDATE items SET barcode = $2, home_branch = $3, holding_branch = $4, \
     location = $5, collection = $6, call_number = $7, item_type = $8, price = $9, public_note = $10, \
     staff_note = $11, materials_specified = $12, status = $13, acquired_on = $14, updated_at = now(), \
     call_number_sort = $15 WHERE id = $1 RETURNING id";

impl Database for PostgresDatabase {
    fn backend(&self) -> &'static str {
        "postgresql"
    }

    fn upsert_branch(&self, branch: &Branch) -> Result<()> {
        self.write(|w| {
            w.cx.execute(
                "INSERT INTO branches (code, name) VALUES ($1, $2) ON CONFLICT (code) DO UPDATE SET name = excluded.name",
                &[&branch.code.as_str(), &branch.name],
            )?;
            Ok(())
        })
    }

    fn branches(&self) -> Result<Vec<Branch>> {
        self.read(|cx| {
            cx.query("SELECT code, name FROM branches ORDER BY code", &[])?
                .iter()
                .map(|r| Ok(Branch { code: parse_code(r.try_get(0)?)?, name: r.try_get(1)? }))
                .collect()
        })
    }

    fn branch(&self, code: &Code) -> Result<Option<Branch>> {
        self.read(|cx| {
            cx.query_opt("SELECT code, name FROM branches WHERE code = $1", &[&code.as_str()])?
                .map(|r| Ok(Branch { code: parse_code(r.try_get(0)?)?, name: r.try_get(1)? }))
                .transpose()
        })
    }

    fn delete_branch(&self, code: &Code) -> Result<()> {
        self.write(|w| {
            let items: i64 =
                w.cx.query_one(
                    "SELECT count(*) FROM items WHERE home_branch = $1 OR holding_branch = $1",
                    &[&code.as_str()],
                )?
                .try_get(0)?;
            if items > 0 {
                return Err(branch_has_items(code, items));
            }
            let patrons: i64 =
                w.cx.query_one("SELECT count(*) FROM patrons WHERE home_branch = $1", &[&code.as_str()])?.try_get(0)?;
            if patrons > 0 {
                return Err(branch_has_patrons(code, patrons));
            }
            match w.cx.execute("DELETE FROM branches WHERE code = $1", &[&code.as_str()]) {
                Ok(0) => Err(StorageError::NotFound { what: "branch", key: code.to_string() }),
                Ok(_) => Ok(()),
                // Named elsewhere (a staff account's branch limit, a hold's pickup branch), or an
                // item or patron written since the counts above (under READ COMMITTED).
                Err(e) if matches!(constraint_of(&e), Some((s, _)) if *s == SqlState::FOREIGN_KEY_VIOLATION) => {
                    Err(branch_still_named(code))
                }
                Err(e) => Err(e),
            }
        })
    }

    fn upsert_location(&self, location: &ShelvingLocation) -> Result<()> {
        self.write(|w| {
            w.cx.execute(
                "INSERT INTO shelving_locations (code, name) VALUES ($1, $2) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name",
                &[&location.code.as_str(), &location.name],
            )?;
            Ok(())
        })
    }

    fn locations(&self) -> Result<Vec<ShelvingLocation>> {
        self.read(|cx| {
            cx.query("SELECT code, name FROM shelving_locations ORDER BY code", &[])?
                .iter()
                .map(|r| Ok(ShelvingLocation { code: parse_code(r.try_get(0)?)?, name: r.try_get(1)? }))
                .collect()
        })
    }

    fn upsert_item_type(&self, item_type: &ItemType) -> Result<()> {
        self.write(|w| {
            w.cx.execute(
                "INSERT INTO item_types (code, name, loanable) VALUES ($1, $2, $3) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, loanable = excluded.loanable",
                &[&item_type.code.as_str(), &item_type.name, &item_type.loanable],
            )?;
            Ok(())
        })
    }

    fn item_types(&self) -> Result<Vec<ItemType>> {
        self.read(|cx| {
            cx.query("SELECT code, name, loanable FROM item_types ORDER BY code", &[])?
                .iter()
                .map(|r| {
                    Ok(ItemType { code: parse_code(r.try_get(0)?)?, name: r.try_get(1)?, loanable: r.try_get(2)? })
                })
                .collect()
        })
    }

    fn upsert_patron(&self, patron: &Patron) -> Result<()> {
        let expiry = common::parse_date("expiry date", &patron.expiry_date)?;
        self.write(|w| {
            let result = w.cx.execute(
                "INSERT INTO patrons (card_number, surname, first_name, category, home_branch, expiry_date, email, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, now(), now()) \
                 ON CONFLICT (card_number) DO UPDATE SET surname = excluded.surname, \
                 first_name = excluded.first_name, category = excluded.category, \
                 home_branch = excluded.home_branch, expiry_date = excluded.expiry_date, \
                 email = excluded.email, updated_at = excluded.updated_at, search_name = NULL",
                &[
                    &patron.card_number,
                    &patron.surname,
                    &patron.first_name,
                    &patron.category.as_str(),
                    &patron.home_branch.as_str(),
                    &expiry,
                    &patron.email,
                ],
            );
            match result {
                Ok(_) => patrons::fill_search_keys(&mut w.cx),
                Err(e) if matches!(constraint_of(&e), Some((_, Some("patrons_home_branch_fkey")))) => {
                    Err(Ref::HomeBranch.missing(&patron.home_branch))
                }
                Err(e) => Err(e),
            }
        })
    }

    fn patrons(&self, page: Page) -> Result<Vec<Patron>> {
        self.read(|cx| {
            cx.query(
                "SELECT card_number, surname, first_name, category, home_branch, expiry_date, email \
                 FROM patrons ORDER BY id LIMIT $1 OFFSET $2",
                &[&i64::from(page.limit), &page.after.max(0)],
            )?
            .iter()
            .map(|r| {
                Ok(Patron {
                    card_number: r.try_get(0)?,
                    surname: r.try_get(1)?,
                    first_name: r.try_get(2)?,
                    category: parse_code(r.try_get(3)?)?,
                    home_branch: parse_code(r.try_get(4)?)?,
                    expiry_date: common::date_str(r.try_get(5)?),
                    email: r.try_get(6)?,
                })
            })
            .collect()
        })
    }

    fn count_patrons(&self) -> Result<u64> {
        self.read(|cx| count(cx.query_one("SELECT count(*) FROM patrons", &[])?))
    }

    fn create_record(&self, record: &NewRecord) -> Result<BibId> {
        let sha = common::sha256(&record.marc);
        self.write(|w| insert_record(w, record, &sha))
    }

    fn record(&self, id: BibId) -> Result<Option<StoredRecord>> {
        let sql = format!("SELECT {} FROM bib_records b WHERE b.id = $1", common::RECORD_COLUMNS);
        self.read(|cx| cx.query_opt(&sql, &[&id])?.map(|r| stored_record(&r)).transpose())
    }

    fn update_record(&self, id: BibId, record: &NewRecord) -> Result<()> {
        let sha = common::sha256(&record.marc);
        self.write(|w| replace_record(w, id, record, &sha))
    }

    fn delete_record(&self, id: BibId) -> Result<()> {
        self.write(|w| {
            let items: i64 = w.cx.query_one("SELECT count(*) FROM items WHERE bib_id = $1", &[&id])?.try_get(0)?;
            if items > 0 {
                return Err(record_has_items(id, items));
            }
            match w.cx.execute("DELETE FROM bib_records WHERE id = $1", &[&id]) {
                Ok(0) => return Err(StorageError::NotFound { what: "record", key: id.to_string() }),
                Ok(_) => {}
                Err(e) if matches!(constraint_of(&e), Some((_, Some("items_bib_id_fkey")))) => {
                    return Err(record_has_items(id, 1));
                }
                Err(e) => return Err(e),
            }
            oai::write_tombstone(w, id)?;
            w.change(ChangeEntity::Record, id, ChangeKind::Deleted);
            Ok(())
        })
    }

    fn records(&self, filter: &RecordFilter, page: Page) -> Result<Vec<StoredRecord>> {
        let q = records_query(Dialect::Postgres, filter, Some(page));
        let params = boxed(&q.params);
        self.read(|cx| cx.query(&q.sql, &refs(&params))?.iter().map(stored_record).collect())
    }

    fn count_records(&self) -> Result<u64> {
        self.read(|cx| count(cx.query_one("SELECT count(*) FROM bib_records", &[])?))
    }

    fn records_by_ids(&self, ids: &[BibId]) -> Result<Vec<StoredRecord>> {
        let sql = format!("SELECT {} FROM bib_records b WHERE b.id = ANY($1) ORDER BY b.id", common::RECORD_COLUMNS);
        self.read(|cx| cx.query(&sql, &[&ids])?.iter().map(stored_record).collect())
    }

    fn create_item(&self, bib_id: BibId, item: &NewItem) -> Result<ItemId> {
        self.write(|w| {
            let rows =
                item_write(w, INSERT_ITEM, bib_id, bib_id, item).map_err(|e| item_error(e, Some(bib_id), item))?;
            let id: ItemId = rows
                .first()
                .ok_or_else(|| StorageError::Other("item insert returned no id".to_string()))?
                .try_get(0)?;
            redate_record(w, bib_id)?;
            w.change(ChangeEntity::Item, id, ChangeKind::Created);
            Ok(id)
        })
    }

    fn item(&self, id: ItemId) -> Result<Option<Item>> {
        let sql = format!("SELECT {} FROM items i WHERE i.id = $1", common::ITEM_COLUMNS);
        self.read(|cx| cx.query_opt(&sql, &[&id])?.map(|r| item_from_row(&r)).transpose())
    }

    fn item_by_barcode(&self, barcode: &Barcode) -> Result<Option<Item>> {
        let sql = format!("SELECT {} FROM items i WHERE i.barcode = $1", common::ITEM_COLUMNS);
        self.read(|cx| cx.query_opt(&sql, &[&barcode.as_str()])?.map(|r| item_from_row(&r)).transpose())
    }

    fn update_item(&self, id: ItemId, item: &NewItem) -> Result<()> {
        self.write(|w| {
            let Some(before) =
                w.cx.query_opt("SELECT bib_id, home_branch, location FROM items WHERE id = $1", &[&id])?
            else {
                return Err(StorageError::NotFound { what: "item", key: id.to_string() });
            };
            let bib_id: BibId = before.try_get(0)?;
            let (home_branch, location): (String, Option<String>) = (before.try_get(1)?, before.try_get(2)?);
            let rows = item_write(w, UPDATE_ITEM, id, bib_id, item).map_err(|e| item_error(e, None, item))?;
            if rows.is_empty() {
                return Err(StorageError::NotFound { what: "item", key: id.to_string() });
            }
            if home_branch != item.home_branch.as_str()
                || location.as_deref() != item.location.as_ref().map(Code::as_str)
            {
                redate_record(w, bib_id)?;
            }
            w.change(ChangeEntity::Item, id, ChangeKind::Updated);
            Ok(())
        })
    }

    fn delete_item(&self, id: ItemId) -> Result<()> {
        self.write(|w| {
            let Some(deleted) = w.cx.query_opt("DELETE FROM items WHERE id = $1 RETURNING bib_id", &[&id])? else {
                return Err(StorageError::NotFound { what: "item", key: id.to_string() });
            };
            redate_record(w, deleted.try_get(0)?)?;
            w.change(ChangeEntity::Item, id, ChangeKind::Deleted);
            Ok(())
        })
    }

    fn items(&self, filter: &ItemFilter, page: Page) -> Result<Vec<Item>> {
        let q = items_query(Dialect::Postgres, filter, page);
        let params = boxed(&q.params);
        self.read(|cx| cx.query(&q.sql, &refs(&params))?.iter().map(item_from_row).collect())
    }

    fn count_items(&self) -> Result<u64> {
        self.read(|cx| count(cx.query_one("SELECT count(*) FROM items", &[])?))
    }

    fn items_by_ids(&self, ids: &[ItemId]) -> Result<Vec<Item>> {
        let sql = format!("SELECT {} FROM items i WHERE i.id = ANY($1) ORDER BY i.id", common::ITEM_COLUMNS);
        self.read(|cx| cx.query(&sql, &[&ids])?.iter().map(item_from_row).collect())
    }

    fn items_of_records(&self, records: &[BibId]) -> Result<Vec<Item>> {
        let sql =
            format!("SELECT {} FROM items i WHERE i.bib_id = ANY($1) ORDER BY i.bib_id, i.id", common::ITEM_COLUMNS);
        self.read(|cx| cx.query(&sql, &[&records])?.iter().map(item_from_row).collect())
    }

    fn import_batch(&self, batch: &[ImportCandidate], on_match: OnMatch) -> Result<Vec<ImportOutcome>> {
        self.write(|w| {
            // One import at a time, so that two batches carrying the same title match each other.
            w.cx.execute("SELECT pg_advisory_xact_lock($1)", &[&IMPORT_LOCK])?;
            w.bulk = true;
            common::run_import(w, batch, on_match)
        })
    }

    fn import_record(&self, candidate: &ImportCandidate, on_match: OnMatch) -> Result<ImportOutcome> {
        let outcomes = self.write(|w| {
            w.cx.execute("SELECT pg_advisory_xact_lock($1)", &[&IMPORT_LOCK])?;
            common::run_import(w, std::slice::from_ref(candidate), on_match)
        })?;
        outcomes.into_iter().next().ok_or_else(|| StorageError::Other("the import gave no outcome".into()))
    }

    fn import_match(&self, record: &NewRecord) -> Result<Option<crate::ImportMatch>> {
        // The matcher runs on the import's transaction type; this transaction writes nothing.
        self.write(|w| common::import_match(w, record))
    }

    fn export(
        &self,
        filter: &RecordFilter,
        each: &mut dyn FnMut(StoredRecord, Vec<Item>) -> Result<(), String>,
    ) -> Result<()> {
        let q = records_query(Dialect::Postgres, filter, None);
        let params = boxed(&q.params);
        let items_sql =
            format!("SELECT {} FROM items i WHERE i.bib_id = ANY($1) ORDER BY i.bib_id, i.id", common::ITEM_COLUMNS);
        let mut conn = self.conn()?;
        let result = (|| -> Result<()> {
            let PgConn { client, statements } = &mut *conn;
            let mut tx =
                client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start()?;
            let portal = tx.bind(q.sql.as_str(), &refs(&params))?;
            loop {
                let rows = tx.query_portal(&portal, EXPORT_CHUNK)?;
                if rows.is_empty() {
                    break;
                }
                let records = rows.iter().map(stored_record).collect::<Result<Vec<_>>>()?;
                let ids: Vec<i64> = records.iter().map(|r| r.id).collect();
                let mut items: HashMap<BibId, Vec<Item>> = HashMap::new();
                for row in (Cx { c: &mut tx, statements: &mut *statements }).query(&items_sql, &[&ids])? {
                    let item = item_from_row(&row)?;
                    items.entry(item.bib_id).or_default().push(item);
                }
                for record in records {
                    let its = items.remove(&record.id).unwrap_or_default();
                    each(record, its).map_err(StorageError::Other)?;
                }
                if rows.len() < EXPORT_CHUNK as usize {
                    break;
                }
            }
            tx.commit()?;
            Ok(())
        })();
        if conn.client.is_closed() {
            conn.mark_broken();
        }
        result.map_err(map_error)
    }

    fn changes(&self, after: i64, limit: u32) -> Result<Vec<Change>> {
        self.read(|cx| {
            read_changes(
                cx,
                "SELECT id, entity, entity_id, kind, at, bulk FROM changes WHERE id > $1 ORDER BY id LIMIT $2",
                after,
                limit,
            )
        })
    }

    fn prompt_changes(&self, after: i64, limit: u32) -> Result<Vec<Change>> {
        self.read(|cx| {
            read_changes(
                cx,
                "SELECT id, entity, entity_id, kind, at, bulk FROM changes \
                 WHERE NOT bulk AND id > $1 ORDER BY id LIMIT $2",
                after,
                limit,
            )
        })
    }

    fn prompt_changes_after(&self, after: i64) -> Result<u64> {
        self.read(|cx| {
            let count: i64 =
                cx.query_one("SELECT count(*) FROM changes WHERE NOT bulk AND id > $1", &[&after])?.try_get(0)?;
            Ok(u64::try_from(count).unwrap_or(0))
        })
    }

    fn change_signal(&self) -> Arc<ChangeSignal> {
        self.signal.clone()
    }

    fn changes_after(&self, after: i64) -> Result<(i64, u64)> {
        self.read(|cx| {
            let row = cx.query_one("SELECT coalesce(max(id), $1), count(*) FROM changes WHERE id > $1", &[&after])?;
            Ok((row.try_get(0)?, u64::try_from(row.try_get::<_, i64>(1)?).unwrap_or(0)))
        })
    }

    fn shelf_list(&self, query: &ShelfQuery, page: &ShelfPage) -> Result<Vec<ShelfItem>> {
        let q = shelf_query(Dialect::Postgres, query, page.after.as_ref(), Some(page.limit));
        let params = boxed(&q.params);
        self.read(|cx| cx.query(&q.sql, &refs(&params))?.iter().map(shelf_item_from_row).collect())
    }

    fn shelf_before(&self, query: &ShelfQuery, key: &[u8], limit: u32) -> Result<Vec<ShelfItem>> {
        let q = common::shelf_before_query(Dialect::Postgres, query, key, limit);
        let params = boxed(&q.params);
        self.read(|cx| cx.query(&q.sql, &refs(&params))?.iter().map(shelf_item_from_row).collect())
    }

    fn recent_items(&self, branch: &Code, limit: u32) -> Result<Vec<ShelfItem>> {
        let q = common::recent_items_query(Dialect::Postgres, branch, limit);
        let params = boxed(&q.params);
        self.read(|cx| cx.query(&q.sql, &refs(&params))?.iter().map(shelf_item_from_row).collect())
    }

    fn start_inventory(&self, scope: &NewInventory) -> Result<Inventory> {
        self.write(|w| {
            let result = w.cx.query_one(
                "INSERT INTO inventories (branch, location, call_number_from, call_number_to, started_at) \
                 VALUES ($1, $2, $3, $4, now()) RETURNING id",
                &[
                    &scope.branch.as_str(),
                    &scope.location.as_ref().map(Code::as_str),
                    &scope.call_number_from,
                    &scope.call_number_to,
                ],
            );
            let id: InventoryId = match result {
                Ok(row) => row.try_get(0)?,
                Err(e) if matches!(constraint_of(&e), Some((c, _)) if *c == SqlState::FOREIGN_KEY_VIOLATION) => {
                    let branch_fk = matches!(constraint_of(&e), Some((_, Some("inventories_branch_fkey"))));
                    return Err(common::inventory_scope_error(scope, !branch_fk));
                }
                Err(e) => return Err(e),
            };
            get_inventory(&mut w.cx, id)?.ok_or_else(|| no_inventory(id))
        })
    }

    fn inventory(&self, id: InventoryId) -> Result<Option<Inventory>> {
        self.read(|cx| get_inventory(cx, id))
    }

    fn add_inventory_scans(&self, id: InventoryId, barcodes: &[String]) -> Result<Inventory> {
        let scans: Vec<&str> = common::clean_scans(barcodes);
        self.write(|w| {
            // Serialises uploads to one inventory, so that sequence numbers follow arrival order.
            if w.cx.query_opt("SELECT id FROM inventories WHERE id = $1 FOR UPDATE", &[&id])?.is_none() {
                return Err(no_inventory(id));
            }
            w.cx.execute(
                "INSERT INTO inventory_scans (inventory_id, seq, barcode, scanned_at) \
                 SELECT $1, (SELECT coalesce(max(seq), 0) FROM inventory_scans WHERE inventory_id = $1) + s.n, \
                        s.barcode, now() \
                 FROM unnest($2::text[]) WITH ORDINALITY AS s(barcode, n)",
                &[&id, &scans],
            )?;
            w.cx.execute("UPDATE items SET last_seen_at = now() WHERE barcode = ANY($1)", &[&scans])?;
            get_inventory(&mut w.cx, id)?.ok_or_else(|| no_inventory(id))
        })
    }

    fn inventory_snapshot(&self, id: InventoryId) -> Result<InventorySnapshot> {
        let mut conn = self.conn()?;
        let result = (|| -> Result<InventorySnapshot> {
            let PgConn { client, statements } = &mut *conn;
            let mut tx =
                client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start()?;
            let mut cx = Cx { c: &mut tx, statements };
            let inventory = get_inventory(&mut cx, id)?.ok_or_else(|| no_inventory(id))?;
            let q = shelf_query(Dialect::Postgres, &inventory.scope.shelf_query(), None, None);
            let params = boxed(&q.params);
            let in_scope = cx.query(&q.sql, &refs(&params))?.iter().map(shelf_item_from_row).collect::<Result<_>>()?;
            let scans: Vec<String> = cx
                .query("SELECT barcode FROM inventory_scans WHERE inventory_id = $1 ORDER BY seq", &[&id])?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?;
            let mut scanned_items = HashMap::new();
            for row in cx.query(&common::shelf_item_by_barcode_sql("ANY($1)"), &[&scans])? {
                let item = shelf_item_from_row(&row)?;
                scanned_items.insert(item.item.item.barcode.to_string(), item);
            }
            tx.commit()?;
            Ok(InventorySnapshot { inventory, in_scope, scans, scanned_items })
        })();
        if conn.client.is_closed() {
            conn.mark_broken();
        }
        result.map_err(map_error)
    }

    fn shelf_items(&self, barcodes: &[Barcode]) -> Result<Vec<Option<ShelfItem>>> {
        let wanted: Vec<&str> = barcodes.iter().map(Barcode::as_str).collect();
        self.read(|cx| {
            let mut found = HashMap::new();
            for row in cx.query(&common::shelf_item_by_barcode_sql("ANY($1)"), &[&wanted])? {
                let item = shelf_item_from_row(&row)?;
                found.insert(item.item.item.barcode.to_string(), item);
            }
            Ok(wanted.iter().map(|b| found.get(*b).cloned()).collect())
        })
    }

    fn checkout(
        &self,
        card_number: &str,
        barcode: &Barcode,
        now: DateTime<Utc>,
        decide: &mut dyn FnMut(&CheckoutContext) -> Option<LoanWrite>,
    ) -> Result<Option<Loan>> {
        let card = card_number.trim();
        self.write(|w| {
            let patron = account_by_card(&mut w.cx, card)?
                .ok_or_else(|| StorageError::NotFound { what: "patron card", key: card.to_string() })?;
            let (item, loanable) = lock_item(&mut w.cx, barcode)?;
            let counts = w.cx.query_one(
                "SELECT coalesce(sum(open_loans), 0)::int8, \
                        coalesce(sum(CASE WHEN item_type = $2 THEN open_loans END), 0)::int8 \
                 FROM patron_loan_counts WHERE patron_id = $1",
                &[&patron.id, &item.item.item_type.as_str()],
            )?;
            let context = CheckoutContext {
                open_loan: open_loan(&mut w.cx, item.id)?,
                loans_total: u32::try_from(counts.try_get::<_, i64>(0)?).unwrap_or(u32::MAX),
                loans_of_item_type: u32::try_from(counts.try_get::<_, i64>(1)?).unwrap_or(u32::MAX),
                overdue_loans: overdue_loans(&mut w.cx, patron.id, now)?,
                holds: holds::open_holds(&mut w.cx, item.bib_id, true)?,
                patron,
                item,
                loanable,
            };
            let Some(write) = decide(&context) else { return Ok(None) };
            let (patron, item) = (&context.patron, &context.item);
            let id: LoanId =
                w.cx.query_one(
                    "INSERT INTO loans (item_id, patron_id, checkout_branch, checked_out_at, due_at) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    &[&item.id, &patron.id, &write.checkout_branch.as_str(), &now, &write.due_at],
                )?
                .try_get(0)?;
            count_loan(w, patron.id, &item.item.item_type, 1)?;
            set_item_status(w, item.id, ItemStatus::CheckedOut, &write.checkout_branch)?;
            if let Some(o) = &write.override_entry {
                log_override(w, now, "checkout", patron.id, o)?;
            }
            holds::write_holds(w, &write.holds)?;
            Ok(Some(get_loan(&mut w.cx, id)?))
        })
    }

    fn renew(
        &self,
        barcode: &Barcode,
        now: DateTime<Utc>,
        decide: &mut dyn FnMut(&RenewalContext) -> Option<RenewalWrite>,
    ) -> Result<Option<Loan>> {
        self.write(|w| {
            let (item, _) = lock_item(&mut w.cx, barcode)?;
            let loan = open_loan(&mut w.cx, item.id)?
                .ok_or_else(|| StorageError::NotFound { what: "loan of item", key: barcode.to_string() })?;
            let patron = account_by_id(&mut w.cx, loan.patron_id)?;
            let context = RenewalContext {
                overdue_loans: overdue_loans(&mut w.cx, patron.id, now)?,
                holds: holds::open_holds(&mut w.cx, item.bib_id, false)?,
                patron,
                item,
                loan,
            };
            let Some(write) = decide(&context) else { return Ok(None) };
            w.cx.execute(
                "UPDATE loans SET due_at = $1, renewals = renewals + 1 WHERE id = $2",
                &[&write.due_at, &context.loan.id],
            )?;
            // When it was renewed, for the reports (0017).
            w.cx.execute("INSERT INTO loan_renewals (loan_id, renewed_at) VALUES ($1, $2)", &[&context.loan.id, &now])?;
            if let Some(o) = &write.override_entry {
                log_override(w, now, "renew", context.patron.id, o)?;
            }
            Ok(Some(get_loan(&mut w.cx, context.loan.id)?))
        })
    }

    fn check_in(
        &self,
        barcode: &Barcode,
        now: DateTime<Utc>,
        decide: &mut dyn FnMut(&CheckinContext) -> Option<CheckinWrite>,
    ) -> Result<bool> {
        self.write(|w| {
            let (item, _) = lock_item(&mut w.cx, barcode)?;
            let loan = match open_loan(&mut w.cx, item.id)? {
                None => None,
                Some(loan) => {
                    let patron = account_by_id(&mut w.cx, loan.patron_id)?;
                    Some((loan, patron))
                }
            };
            let already: i64 = match &loan {
                None => 0,
                Some((l, _)) => w
                    .cx
                    .query_one(
                        "SELECT coalesce(sum(amount), 0)::int8 FROM ledger_entries WHERE loan_id = $1 AND kind = 'overdue'",
                        &[&l.id],
                    )?
                    .try_get(0)?,
            };
            let context = CheckinContext {
                holds: holds::open_holds(&mut w.cx, item.bib_id, true)?,
                transit: holds::open_transit(&mut w.cx, item.id)?,
                item,
                loan,
                already_charged: Money::from_minor(already),
            };
            let Some(write) = decide(&context) else { return Ok(false) };
            if let Some((loan, patron)) = &context.loan {
                w.cx.execute(
                    "UPDATE loans SET returned_at = $1, return_branch = $2 WHERE id = $3",
                    &[&write.returned_at, &write.return_branch.as_str(), &loan.id],
                )?;
                count_loan(w, patron.id, &context.item.item.item_type, -1)?;
                let charge = write.overdue_charge.minor();
                if charge > 0 {
                    let note = format!("overdue, returned {}", common::rfc3339(write.returned_at));
                    w.cx.execute(
                        "INSERT INTO ledger_entries (patron_id, kind, amount, loan_id, at, note) \
                         VALUES ($1, 'overdue', $2, $3, $4, $5)",
                        &[&patron.id, &charge, &loan.id, &now, &note],
                    )?;
                    w.cx.execute("UPDATE patrons SET balance = balance + $1 WHERE id = $2", &[&charge, &patron.id])?;
                }
                // Ledger: a lost copy is back; reverse its lost charges.
                if let Some(policy) = write.found {
                    ledger::found_at_check_in(w, patron.id, context.item.id, now, policy)?;
                }
            }
            set_item_status(w, context.item.id, write.status, &write.holding_branch)?;
            // Holds: checking the copy in receives its transit; then the trap, and a new transit.
            holds::close_transit(w, context.item.id, now)?;
            holds::write_holds(w, &write.holds)?;
            if let Some(t) = &write.transit {
                holds::start_transit(w, t, now)?;
            }
            Ok(true)
        })
    }

    fn patron_account(&self, card_number: &str) -> Result<Option<PatronAccount>> {
        self.read(|cx| account_by_card(cx, card_number.trim()))
    }

    fn open_loan_of_item(&self, item: ItemId) -> Result<Option<Loan>> {
        self.read(|cx| open_loan(cx, item))
    }

    fn open_loans(&self, patron: PatronId) -> Result<Vec<Loan>> {
        let sql = format!(
            "SELECT {LOAN_COLUMNS} FROM loans l WHERE l.patron_id = $1 AND l.returned_at IS NULL ORDER BY l.due_at, l.id"
        );
        self.read(|cx| cx.query(&sql, &[&patron])?.iter().map(loan_from_row).collect())
    }
}

// ---------------------------------------------------------------------------------------------
// Circulation. `SELECT ... FOR UPDATE` on the copy's row is the lock: a second desk checking
// out the same copy waits for the first to commit, then reads the copy on loan.

const LOAN_COLUMNS: &str =
    "l.id, l.item_id, l.patron_id, l.checkout_branch, l.checked_out_at, l.due_at, l.renewals, l.returned_at";

fn loan_from_row(row: &Row) -> Result<Loan> {
    Ok(Loan {
        id: row.try_get(0)?,
        item_id: row.try_get(1)?,
        patron_id: row.try_get(2)?,
        checkout_branch: parse_code(row.try_get(3)?)?,
        checked_out_at: row.try_get(4)?,
        due_at: row.try_get(5)?,
        renewals: u32::try_from(row.try_get::<_, i32>(6)?).unwrap_or(0),
        returned_at: row.try_get(7)?,
    })
}

fn account_from_row(row: &Row) -> Result<PatronAccount> {
    Ok(PatronAccount {
        id: row.try_get(0)?,
        card_number: row.try_get(1)?,
        category: parse_code(row.try_get(2)?)?,
        home_branch: parse_code(row.try_get(3)?)?,
        expiry_date: row.try_get(4)?,
        balance: Money::from_minor(row.try_get(5)?),
        blocks: Vec::new(),
    })
}

const ACCOUNT_SQL: &str = "SELECT id, card_number, category, home_branch, expiry_date, balance FROM patrons";

fn account_by_card<C: GenericClient>(cx: &mut Cx<'_, C>, card: &str) -> Result<Option<PatronAccount>> {
    let row = cx.query_opt(&format!("{ACCOUNT_SQL} WHERE card_number = $1"), &[&card])?;
    let Some(mut account) = row.map(|r| account_from_row(&r)).transpose()? else { return Ok(None) };
    account.blocks = patrons::active_blocks(cx, account.id)?;
    Ok(Some(account))
}

fn account_by_id<C: GenericClient>(cx: &mut Cx<'_, C>, id: PatronId) -> Result<PatronAccount> {
    let row = cx.query_opt(&format!("{ACCOUNT_SQL} WHERE id = $1"), &[&id])?;
    let mut account = row
        .map(|r| account_from_row(&r))
        .transpose()?
        .ok_or_else(|| StorageError::Other(format!("a loan names patron {id}, who does not exist")))?;
    account.blocks = patrons::active_blocks(cx, account.id)?;
    Ok(account)
}

/// The copy with this barcode, locked for the rest of the transaction, and whether its type lends.
fn lock_item<C: GenericClient>(cx: &mut Cx<'_, C>, barcode: &Barcode) -> Result<(Item, bool)> {
    let sql = format!(
        "SELECT {}, t.loanable FROM items i JOIN item_types t ON t.code = i.item_type WHERE i.barcode = $1 \
         FOR UPDATE OF i",
        common::ITEM_COLUMNS
    );
    let row = cx
        .query_opt(&sql, &[&barcode.as_str()])?
        .ok_or_else(|| StorageError::NotFound { what: "item", key: barcode.to_string() })?;
    Ok((item_from_row(&row)?, row.try_get(15)?))
}

fn open_loan<C: GenericClient>(cx: &mut Cx<'_, C>, item: ItemId) -> Result<Option<Loan>> {
    let sql = format!("SELECT {LOAN_COLUMNS} FROM loans l WHERE l.item_id = $1 AND l.returned_at IS NULL");
    cx.query_opt(&sql, &[&item])?.map(|r| loan_from_row(&r)).transpose()
}

fn overdue_loans<C: GenericClient>(cx: &mut Cx<'_, C>, patron: PatronId, now: DateTime<Utc>) -> Result<u32> {
    let n: i64 = cx
        .query_one(
            "SELECT count(*) FROM (SELECT 1 FROM loans WHERE patron_id = $1 AND returned_at IS NULL AND due_at < $2 \
             LIMIT $3) AS o",
            &[&patron, &now, &(i64::from(loans::OVERDUE_COUNT_CAP) + 1)],
        )?
        .try_get(0)?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

fn count_loan(w: &mut Tx<'_, '_>, patron: PatronId, item_type: &Code, delta: i32) -> Result<()> {
    w.cx.execute(
        "INSERT INTO patron_loan_counts (patron_id, item_type, open_loans) VALUES ($1, $2, greatest($3, 0)) \
         ON CONFLICT (patron_id, item_type) DO UPDATE SET open_loans = greatest(patron_loan_counts.open_loans + $3, 0)",
        &[&patron, &item_type.as_str(), &delta],
    )?;
    Ok(())
}

fn log_override(
    w: &mut Tx<'_, '_>,
    now: DateTime<Utc>,
    action: &str,
    patron: PatronId,
    o: &OverrideEntry,
) -> Result<()> {
    w.cx.execute(
        "INSERT INTO override_log (at, staff, action, overridden, reason, patron_id) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&now, &o.staff, &action, &o.overridden.join(","), &o.reason, &patron],
    )?;
    Ok(())
}

fn set_item_status(w: &mut Tx<'_, '_>, id: ItemId, status: ItemStatus, holding: &Code) -> Result<()> {
    w.cx.execute(
        "UPDATE items SET status = $1, holding_branch = $2, updated_at = now() WHERE id = $3",
        &[&status.as_str(), &holding.as_str(), &id],
    )?;
    w.change(ChangeEntity::Item, id, ChangeKind::Updated);
    Ok(())
}

fn get_loan<C: GenericClient>(cx: &mut Cx<'_, C>, id: LoanId) -> Result<Loan> {
    loan_from_row(&cx.query_one(&format!("SELECT {LOAN_COLUMNS} FROM loans l WHERE l.id = $1"), &[&id])?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_checked() {
        assert_eq!(quote_schema("t_suite_1").ok().as_deref(), Some("\"t_suite_1\""));
        for bad in ["", "1abc", "a-b", "a\"b", "a b"] {
            assert!(quote_schema(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_come_out_of_details() {
        assert_eq!(key_from_detail("Key (barcode)=(3999) already exists.").as_deref(), Some("3999"));
        assert_eq!(key_from_detail("nothing"), None);
    }
}
