//! The embedded backend: one SQLite file in WAL mode.
//!
//! Writes go through a single writer connection behind a `Mutex` (SQLite allows one writer at a
//! time anyway; serialising in-process avoids busy retries), each method one `BEGIN IMMEDIATE`
//! transaction. Reads use a small pool of reader connections, each method inside one deferred
//! transaction, so they see a consistent snapshot and never wait for the writer. Every
//! connection keeps a cache of prepared statements.
//!
//! Pragmas: `journal_mode=WAL`, `synchronous=NORMAL` (durable across crashes of the application;
//! a power cut may lose the last commits but never corrupts the file), `foreign_keys=ON`,
//! `busy_timeout=5s` (another process, such as a backup, may hold the lock briefly).

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
    self, branch_has_items, branch_has_patrons, branch_still_named, change_from, distinct, item_acquired_on, item_refs,
    items_query, no_inventory, no_record, parse_barcode, parse_code, parse_format, parse_status, record_has_items,
    records_query, shelf_query, shelf_sort_key, BatchWriter, Dialect, Found, NeededCodes, Param, RecordCallNumbers,
    Ref, Savepoint,
};
use crate::config::SqliteOptions;
use crate::loans::{
    self, CheckinContext, CheckinWrite, CheckoutContext, Loan, LoanWrite, OverrideEntry, PatronAccount, RenewalContext,
    RenewalWrite,
};
use crate::migrate::{self, check_not_newer};
use crate::pool::Pool;
use crate::{
    BibId, Change, ChangeEntity, ChangeKind, Database, ImportCandidate, ImportOutcome, Inventory, InventoryId,
    InventorySnapshot, ItemFilter, ItemId, NewInventory, NewRecord, OnMatch, Page, Patron, RecordFilter, Result,
    RowValues, ShelfPage, ShelfQuery, StorageError, StoredRecord,
};
use crate::{ChangeSignal, LoanId, PatronId};
use catalog::inventory::ShelfItem;
use catalog::{Barcode, BibDerived, Branch, Code, Item, ItemStatus, ItemType, Money, NewItem, ShelvingLocation};
use chrono::{DateTime, Utc};
use rusqlite::config::DbConfig;
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{ffi, params, params_from_iter, Connection, OpenFlags, OptionalExtension, Row, ToSql, Transaction};
use rusqlite::{TransactionBehavior, TransactionState};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const STATEMENT_CACHE: usize = 64;

pub struct SqliteDatabase {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Pool<Connection>,
    signal: Arc<ChangeSignal>,
}

impl std::fmt::Debug for SqliteDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteDatabase").field("path", &self.path).finish_non_exhaustive()
    }
}

impl SqliteDatabase {
    /// Opens `shelfmark.db` in the data directory (creating both if missing) and migrates it.
    pub fn open(options: &SqliteOptions) -> Result<SqliteDatabase> {
        std::fs::create_dir_all(&options.data_dir).map_err(|e| {
            StorageError::Other(format!("cannot create data directory {}: {e}", options.data_dir.display()))
        })?;
        let db = Self::open_file(options.database_file(), options.readers)?;
        if options.synchronous_full {
            db.writer.lock().unwrap_or_else(|e| e.into_inner()).execute_batch("PRAGMA synchronous = FULL")?;
        }
        Ok(db)
    }

    /// Opens (creating if missing) and migrates one database file.
    pub fn open_file(path: impl AsRef<Path>, readers: usize) -> Result<SqliteDatabase> {
        let path = path.as_ref().to_path_buf();
        let mut writer = connect(&path, true)?;
        migrate(&mut writer)?;
        rebuild_keys_if_stale(&mut writer)?;
        let reader_path = path.clone();
        let readers =
            Pool::new(readers.max(1), Duration::from_secs(30), Box::new(move || connect(&reader_path, false)));
        Ok(SqliteDatabase { path, writer: Mutex::new(writer), readers, signal: Arc::default() })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// One write transaction on the writer connection, stamped now.
    fn write<T>(&self, f: impl FnOnce(&Transaction<'_>, &str) -> Result<T>) -> Result<T> {
        self.write_at(common::now(), f)
    }

    /// One write transaction stamped `now`: circulation passes the caller's clock (tests, a
    /// backdated desk).
    fn write_at<T>(&self, now: DateTime<Utc>, f: impl FnOnce(&Transaction<'_>, &str) -> Result<T>) -> Result<T> {
        let mut conn = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        // A panic in an earlier call may have left a transaction open: end it.
        if conn.transaction_state(None::<&str>)? != TransactionState::None {
            conn.execute_batch("ROLLBACK")?;
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let before = tx.total_changes();
        let now = common::rfc3339(now);
        FEED_WRITTEN.set(false);
        let value = f(&tx, &now)?;
        let audit = crate::staff::pending_audit().filter(|_| tx.total_changes() > before);
        if let Some(entry) = &audit {
            staff::insert_audit(&tx, &now, entry)?;
        }
        tx.commit()?;
        if audit.is_some() {
            crate::staff::audit_committed();
        }
        if FEED_WRITTEN.replace(false) {
            self.signal.notify();
        }
        Ok(value)
    }

    /// One read transaction on a reader connection: a consistent snapshot.
    fn read<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.readers.get()?;
        let tx = conn.transaction()?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }
}

fn connect(path: &Path, writer: bool) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // Query planner stability: plans do not depend on bound values. Without it SQLite marks many
    // statements (`col = ?` with ORDER BY, `LIMIT ?`) to be re-prepared whenever their bindings
    // are cleared, which rusqlite does each time a cached statement goes back to the cache: the
    // cache would then save nothing.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    if writer {
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StorageError::Other(format!(
                "{} cannot use write-ahead logging (journal mode stayed {mode}); is it on a network file system?",
                path.display()
            )));
        }
    }
    // The writer gets a larger page cache: index inserts keyed by hashes and ISBNs land all over
    // their B-trees, and a small cache turns a large import into page reads. Checkpointing every
    // 64 MiB of WAL instead of 4 MiB copies an index page that many batches touch once, not once
    // per batch.
    conn.execute_batch(if writer {
        "PRAGMA foreign_keys = ON;
         PRAGMA synchronous = NORMAL;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -131072;
         PRAGMA wal_autocheckpoint = 16384;"
    } else {
        "PRAGMA foreign_keys = ON;
         PRAGMA synchronous = NORMAL;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -16000;"
    })?;
    if !writer {
        conn.execute_batch("PRAGMA query_only = ON")?;
    }
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY NOT NULL,
             name       TEXT NOT NULL,
             applied_at TEXT NOT NULL
         )",
    )?;
    let max: Option<i64> = tx.query_row("SELECT max(version) FROM schema_migrations", [], |r| r.get(0))?;
    check_not_newer(max, migrate::SQLITE)?;
    tx.commit()?;
    for m in migrate::SQLITE {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let done: bool =
            tx.query_row("SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)", [m.version], |r| {
                r.get(0)
            })?;
        if done {
            continue;
        }
        tx.execute_batch(m.sql).map_err(|e| StorageError::Migration { version: m.version, message: e.to_string() })?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            params![m.version, m.name, common::rfc3339(common::now())],
        )?;
        tx.commit()?;
    }
    // Rows from before 0017 get the search keys only Rust can compute (a no-op afterwards: the
    // partial index of rows due is empty).
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    patrons::fill_search_keys(&tx)?;
    tx.commit()?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Errors.

fn extended_code(e: &rusqlite::Error) -> Option<i32> {
    match e {
        rusqlite::Error::SqliteFailure(f, _) => Some(f.extended_code),
        _ => None,
    }
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(extended_code(e), Some(ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY))
}

fn is_fk_violation(e: &rusqlite::Error) -> bool {
    extended_code(e) == Some(ffi::SQLITE_CONSTRAINT_FOREIGNKEY)
}

/// After a foreign-key failure writing an item: which reference is missing, as a sentence.
fn diagnose_item(conn: &Connection, bib_id: Option<BibId>, item: &NewItem) -> Result<StorageError> {
    if let Some(bib_id) = bib_id {
        if !exists(conn, "SELECT EXISTS (SELECT 1 FROM bib_records WHERE id = ?1)", &bib_id)? {
            return Ok(no_record(bib_id));
        }
    }
    for (r, code) in item_refs(item) {
        let sql = format!("SELECT EXISTS (SELECT 1 FROM {} WHERE code = ?1)", r.table());
        if !exists(conn, &sql, &code.as_str())? {
            return Ok(r.missing(code));
        }
    }
    Ok(StorageError::Constraint(format!("item {} refers to a row that does not exist", item.barcode)))
}

fn exists(conn: &Connection, sql: &str, key: &dyn ToSql) -> Result<bool> {
    Ok(conn.prepare_cached(sql)?.query_row([key], |r| r.get(0))?)
}

// ---------------------------------------------------------------------------------------------
// Values.

impl ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Param::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Param::Int(i) => ToSqlOutput::Owned(Value::Integer(*i)),
            Param::Int32(i) => ToSqlOutput::Owned(Value::Integer(i64::from(*i))),
            Param::Ids(ids) => ToSqlOutput::Owned(Value::Text(json(ids))),
            Param::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".to_string())
}

fn from_json(column: &str, text: &str) -> Result<Vec<String>> {
    serde_json::from_str(text).map_err(|e| StorageError::Other(format!("bad JSON in bib_records.{column}: {e}")))
}

fn stored_record(row: &Row<'_>) -> Result<StoredRecord> {
    let text = |i: usize| -> Result<String> { Ok(row.get::<_, String>(i)?) };
    let derived = BibDerived {
        title: row.get(2)?,
        responsibility: row.get(3)?,
        authors: from_json("authors", &text(4)?)?,
        isbns: from_json("isbns", &text(5)?)?,
        issns: from_json("issns", &text(6)?)?,
        lccn: row.get(7)?,
        oclc_numbers: from_json("oclc_numbers", &text(8)?)?,
        control_number: row.get(9)?,
        control_number_identifier: row.get(10)?,
        publisher: row.get(11)?,
        year: row.get(12)?,
        language: row.get(13)?,
        format: parse_format(&text(14)?)?,
        subjects: from_json("subjects", &text(15)?)?,
        series: from_json("series", &text(16)?)?,
        lc_call_number: row.get(17)?,
        dewey_call_number: row.get(18)?,
        edition: row.get(19)?,
    };
    Ok(StoredRecord { id: row.get(0)?, marc: row.get(1)?, derived, created_at: row.get(20)?, updated_at: row.get(21)? })
}

fn item_from_row(row: &Row<'_>) -> Result<Item> {
    let code = |i: usize| -> Result<Code> { parse_code(row.get(i)?) };
    let opt_code = |i: usize| -> Result<Option<Code>> { row.get::<_, Option<String>>(i)?.map(parse_code).transpose() };
    Ok(Item {
        id: row.get(0)?,
        bib_id: row.get(1)?,
        item: NewItem {
            barcode: parse_barcode(row.get(2)?)?,
            home_branch: code(3)?,
            holding_branch: code(4)?,
            location: opt_code(5)?,
            collection: row.get(6)?,
            call_number: row.get(7)?,
            item_type: code(8)?,
            price: row.get::<_, Option<i64>>(9)?.map(Money::from_minor),
            public_note: row.get(10)?,
            staff_note: row.get(11)?,
            materials_specified: row.get(12)?,
            status: parse_status(&row.get::<_, String>(13)?)?,
            acquired_on: row.get(14)?,
        },
    })
}

fn query_records(conn: &Connection, sql: &str, params: &[Param]) -> Result<Vec<StoredRecord>> {
    let mut st = conn.prepare_cached(sql)?;
    let mut rows = st.query(params_from_iter(params))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(stored_record(row)?);
    }
    Ok(out)
}

fn query_items(conn: &Connection, sql: &str, params: &[&dyn ToSql]) -> Result<Vec<Item>> {
    let mut st = conn.prepare_cached(sql)?;
    let mut rows = st.query(params)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(item_from_row(row)?);
    }
    Ok(out)
}

fn count(conn: &Connection, sql: &str) -> Result<u64> {
    let n: i64 = conn.prepare_cached(sql)?.query_row([], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

// ---------------------------------------------------------------------------------------------
// Writes shared by the trait methods and import batches.

thread_local! {
    /// Set when the write transaction running on this thread adds to the change feed, so that
    /// its commit signals the feed's readers ([`SqliteDatabase::write_at`] runs the whole
    /// transaction on the caller's thread).
    static FEED_WRITTEN: Cell<bool> = const { Cell::new(false) };
}

thread_local! {
    /// Set while an import batch runs on this thread: the changes it writes are bulk.
    static BULK: Cell<bool> = const { Cell::new(false) };
}

/// Marks the changes written on this thread bulk until dropped (a panic included).
struct BulkWrites;

impl BulkWrites {
    fn begin() -> BulkWrites {
        BULK.set(true);
        BulkWrites
    }
}

impl Drop for BulkWrites {
    fn drop(&mut self) {
        BULK.set(false);
    }
}

fn record_change(tx: &Connection, now: &str, entity: ChangeEntity, id: i64, kind: ChangeKind) -> Result<()> {
    tx.prepare_cached("INSERT INTO changes (entity, entity_id, kind, at, bulk) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![entity.as_str(), id, kind.as_str(), now, BULK.get()])?;
    FEED_WRITTEN.set(true);
    Ok(())
}

/// The change feed rows `sql` selects (id, entity, entity_id, kind, at, bulk) after `?1`, at
/// most `?2`.
fn read_changes(tx: &Connection, sql: &str, after: i64, limit: u32) -> Result<Vec<Change>> {
    let mut st = tx.prepare_cached(sql)?;
    let mut rows = st.query(params![after, i64::from(limit)])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(change_from(
            r.get(0)?,
            &r.get::<_, String>(1)?,
            r.get(2)?,
            &r.get::<_, String>(3)?,
            r.get(4)?,
            r.get(5)?,
        )?);
    }
    Ok(out)
}

const INSERT_RECORD: &str = "INSERT INTO bib_records (marc, marc_sha256, title, title_fold, responsibility, \
     authors, authors_fold, isbns, issns, lccn, oclc_numbers, control_number, control_number_identifier, \
     publisher, year, language, format, subjects, series, lc_call_number, dewey_call_number, edition, \
     created_at, updated_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?23)";

const UPDATE_RECORD: &str = "UPDATE bib_records SET marc = ?1, marc_sha256 = ?2, title = ?3, title_fold = ?4, \
     responsibility = ?5, authors = ?6, authors_fold = ?7, isbns = ?8, issns = ?9, lccn = ?10, oclc_numbers = ?11, \
     control_number = ?12, control_number_identifier = ?13, publisher = ?14, year = ?15, language = ?16, \
     format = ?17, subjects = ?18, series = ?19, lc_call_number = ?20, dewey_call_number = ?21, edition = ?22, \
     updated_at = ?23 WHERE id = ?24";

/// Runs INSERT_RECORD or UPDATE_RECORD: the first 23 parameters are the same.
fn write_record_row(
    tx: &Connection,
    sql: &str,
    r: &NewRecord,
    sha: &[u8],
    now: &str,
    id: Option<BibId>,
) -> Result<usize> {
    let d = &r.derived;
    let computed;
    let v = match &r.row {
        Some(v) => v,
        None => {
            computed = RowValues::of(&r.marc, d);
            &computed
        }
    };
    let mut st = tx.prepare_cached(sql)?;
    let format = d.format.as_str();
    let common: [&dyn ToSql; 23] = [
        &r.marc,
        &sha,
        &d.title,
        &v.title_fold,
        &d.responsibility,
        &v.authors_json,
        &v.authors_fold,
        &v.isbns_json,
        &v.issns_json,
        &d.lccn,
        &v.oclc_numbers_json,
        &d.control_number,
        &d.control_number_identifier,
        &d.publisher,
        &d.year,
        &d.language,
        &format,
        &v.subjects_json,
        &v.series_json,
        &d.lc_call_number,
        &d.dewey_call_number,
        &d.edition,
        &now,
    ];
    Ok(match id {
        None => st.execute(&common[..])?,
        Some(id) => {
            let mut all: Vec<&dyn ToSql> = common.to_vec();
            all.push(&id);
            st.execute(&all[..])?
        }
    })
}

fn write_identifiers(tx: &Connection, id: BibId, d: &BibDerived, replace: bool) -> Result<()> {
    if replace {
        tx.prepare_cached("DELETE FROM bib_isbns WHERE bib_id = ?1")?.execute([id])?;
        tx.prepare_cached("DELETE FROM bib_oclc_numbers WHERE bib_id = ?1")?.execute([id])?;
    }
    let mut st = tx.prepare_cached("INSERT OR IGNORE INTO bib_isbns (isbn, bib_id) VALUES (?1, ?2)")?;
    for isbn in distinct(&d.isbns) {
        st.execute(params![isbn, id])?;
    }
    let mut st = tx.prepare_cached("INSERT OR IGNORE INTO bib_oclc_numbers (oclc_number, bib_id) VALUES (?1, ?2)")?;
    for n in distinct(&d.oclc_numbers) {
        st.execute(params![n, id])?;
    }
    Ok(())
}

fn insert_record(tx: &Connection, now: &str, r: &NewRecord, sha: &[u8]) -> Result<BibId> {
    write_record_row(tx, INSERT_RECORD, r, sha, now, None)?;
    let id = tx.last_insert_rowid();
    write_identifiers(tx, id, &r.derived, false)?;
    record_change(tx, now, ChangeEntity::Record, id, ChangeKind::Created)?;
    Ok(id)
}

fn replace_record(tx: &Connection, now: &str, id: BibId, r: &NewRecord, sha: &[u8]) -> Result<()> {
    if write_record_row(tx, UPDATE_RECORD, r, sha, now, Some(id))? == 0 {
        return Err(StorageError::NotFound { what: "record", key: id.to_string() });
    }
    write_identifiers(tx, id, &r.derived, true)?;
    refresh_inherited_keys(tx, id, &RecordCallNumbers::of(&r.derived))?;
    record_change(tx, now, ChangeEntity::Record, id, ChangeKind::Updated)
}

/// A copy added, removed, or moved to another home branch or shelving location changes the
/// OAI-PMH sets its record is in, so the record's datestamp (`updated_at`) moves too: an
/// incremental harvest of a set then sees it join.
fn redate_record(tx: &Connection, now: &str, bib_id: BibId) -> Result<()> {
    tx.prepare_cached("UPDATE bib_records SET updated_at = ?1 WHERE id = ?2")?.execute(params![now, bib_id])?;
    Ok(())
}

const INSERT_ITEM: &str = "INSERT INTO items (bib_id, barcode, home_branch, holding_branch, location, collection, \
     call_number, item_type, price, public_note, staff_note, materials_specified, status, acquired_on, \
     created_at, updated_at, call_number_sort) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15, ?16)";

const INSERT_ITEM_SKIP_EXISTING: &str = "INSERT INTO items (bib_id, barcode, home_branch, holding_branch, \
     location, collection, call_number, item_type, price, public_note, staff_note, materials_specified, status, \
     acquired_on, created_at, updated_at, call_number_sort) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15, ?16) \
     ON CONFLICT (barcode) DO NOTHING";

/// New items into `collection_counts` (0016), by the class their shelf key starts with (the
/// expressions of the update trigger in 0016), and into `title_copies` (0020) under their home
/// branch and under `*` (0021): one statement each for a record's new items, called by each
/// insert path, rather than a trigger on items, which on SQLite made a 1,000-item import
/// batch eight times slower.
fn count_new_items(tx: &Connection, ids: &[ItemId]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    tx.prepare_cached(
        "INSERT INTO collection_counts (scheme, branch, class, items) \
         SELECT CASE WHEN k IS NULL THEN 'none' WHEN substr(t, 1, 1) = char(3) THEN 'dewey' \
                     WHEN substr(t, 1, 1) = char(4) THEN 'lc' ELSE 'none' END AS scheme, \
                b, \
                CASE WHEN k IS NULL THEN '' WHEN substr(t, 1, 1) = char(3) THEN substr(t, 2, 1) \
                     WHEN substr(t, 1, 1) = char(4) THEN substr(t, 2, instr(t, char(1)) - 2) ELSE '' END AS class, \
                count(*) \
         FROM (SELECT call_number_sort AS k, home_branch AS b, \
                      ltrim(CAST(call_number_sort AS TEXT), char(16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, \
                            28, 29, 30, 31, 32, 33, 34, 35, 36, 37)) AS t \
               FROM items WHERE id IN (SELECT value FROM json_each(?1)) AND status <> 'withdrawn') \
         WHERE 1 GROUP BY 1, 2, 3 \
         ON CONFLICT (scheme, branch, class) DO UPDATE SET items = items + excluded.items",
    )?
    .execute([json(ids)])?;
    tx.prepare_cached(
        "INSERT INTO title_copies (bib_id, branch, copies) \
         SELECT i.bib_id, CASE WHEN e.every = 1 THEN '*' ELSE i.home_branch END, count(*) \
         FROM items i CROSS JOIN (SELECT 0 AS every UNION ALL SELECT 1) e \
         WHERE i.id IN (SELECT value FROM json_each(?1)) AND i.status <> 'withdrawn' GROUP BY 1, 2 \
         ON CONFLICT (bib_id, branch) DO UPDATE SET copies = copies + excluded.copies",
    )?
    .execute([json(ids)])?;
    Ok(())
}

/// The record's call numbers, read (once) only when some of its items have none of their own.
fn record_call_numbers(tx: &Connection, bib_id: BibId, items: &[NewItem]) -> Result<RecordCallNumbers> {
    if items.iter().all(|i| common::has_own_call_number(i.call_number.as_deref())) {
        return Ok(RecordCallNumbers::default());
    }
    Ok(tx
        .prepare_cached("SELECT dewey_call_number, lc_call_number FROM bib_records WHERE id = ?1")?
        .query_row([bib_id], |r| Ok(RecordCallNumbers { dewey: r.get(0)?, lc: r.get(1)? }))
        .optional()?
        .unwrap_or_default())
}

/// Moves the items shelved under a record's call number when the record's call numbers change.
fn refresh_inherited_keys(tx: &Connection, bib_id: BibId, record: &RecordCallNumbers) -> Result<()> {
    tx.prepare_cached(
        "UPDATE items SET call_number_sort = ?1 WHERE bib_id = ?2 AND (call_number IS NULL OR trim(call_number) = '') \
         AND call_number_sort IS NOT ?1",
    )?
    .execute(params![shelf_sort_key(None, record), bib_id])?;
    Ok(())
}

/// Recomputes every item's sort key when the stored keys are of another layout version (or
/// were never written: a database from before keys were kept). One transaction.
fn rebuild_keys_if_stale(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let stored: Option<String> = tx
        .query_row("SELECT value FROM settings WHERE name = ?1", [common::KEY_VERSION_SETTING], |r| r.get(0))
        .optional()?;
    if stored.as_deref() == Some(common::key_version().as_str()) {
        return Ok(());
    }
    {
        let mut read = tx.prepare(
            "SELECT i.id, i.call_number, b.dewey_call_number, b.lc_call_number \
             FROM items i JOIN bib_records b ON b.id = i.bib_id",
        )?;
        let mut write = tx.prepare("UPDATE items SET call_number_sort = ?1 WHERE id = ?2")?;
        let mut rows = read.query([])?;
        while let Some(r) = rows.next()? {
            let own: Option<String> = r.get(1)?;
            let record = RecordCallNumbers { dewey: r.get(2)?, lc: r.get(3)? };
            write.execute(params![shelf_sort_key(own.as_deref(), &record), r.get::<_, i64>(0)?])?;
        }
    }
    tx.execute(
        "INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        params![common::KEY_VERSION_SETTING, common::key_version()],
    )?;
    tx.commit()?;
    Ok(())
}

fn shelf_item_from_row(row: &Row<'_>) -> Result<ShelfItem> {
    let record = RecordCallNumbers { dewey: row.get(16)?, lc: row.get(17)? };
    Ok(common::shelf_item(item_from_row(row)?, row.get(15)?, record, row.get(18)?, row.get(19)?))
}

fn query_shelf(conn: &Connection, q: &common::Query) -> Result<Vec<ShelfItem>> {
    let mut st = conn.prepare_cached(&q.sql)?;
    let mut rows = st.query(params_from_iter(&q.params))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(shelf_item_from_row(row)?);
    }
    Ok(out)
}

fn shelf_item_by_barcode(conn: &Connection, barcode: &str) -> Result<Option<ShelfItem>> {
    let mut st = conn.prepare_cached(&common::shelf_item_by_barcode_sql("?1"))?;
    let mut rows = st.query([barcode])?;
    rows.next()?.map(shelf_item_from_row).transpose()
}

fn inventory_from_row(row: &Row<'_>) -> Result<Inventory> {
    Ok(Inventory {
        id: row.get(0)?,
        scope: NewInventory {
            branch: parse_code(row.get(1)?)?,
            location: row.get::<_, Option<String>>(2)?.map(parse_code).transpose()?,
            call_number_from: row.get(3)?,
            call_number_to: row.get(4)?,
        },
        started_at: row.get(5)?,
        scans: u64::try_from(row.get::<_, i64>(6)?).unwrap_or(0),
    })
}

const INVENTORY_SQL: &str = "SELECT v.id, v.branch, v.location, v.call_number_from, v.call_number_to, v.started_at, \
     (SELECT count(*) FROM inventory_scans s WHERE s.inventory_id = v.id) FROM inventories v WHERE v.id = ?1";

fn get_inventory(conn: &Connection, id: InventoryId) -> Result<Option<Inventory>> {
    let mut st = conn.prepare_cached(INVENTORY_SQL)?;
    let mut rows = st.query([id])?;
    rows.next()?.map(inventory_from_row).transpose()
}

/// Inserts an item. With `skip_existing`, an existing barcode is not an error: `Ok(None)`.
fn insert_item(
    tx: &Connection,
    now: &str,
    bib_id: BibId,
    record: &RecordCallNumbers,
    item: &NewItem,
    skip_existing: bool,
) -> Result<Option<ItemId>> {
    let acquired = item_acquired_on(item)?.map(common::date_str);
    let sql = if skip_existing { INSERT_ITEM_SKIP_EXISTING } else { INSERT_ITEM };
    let location = item.location.as_ref().map(Code::as_str);
    let price = item.price.map(Money::minor);
    let key = shelf_sort_key(item.call_number.as_deref(), record);
    let result = tx.prepare_cached(sql)?.execute(params![
        bib_id,
        item.barcode.as_str(),
        item.home_branch.as_str(),
        item.holding_branch.as_str(),
        location,
        item.collection,
        item.call_number,
        item.item_type.as_str(),
        price,
        item.public_note,
        item.staff_note,
        item.materials_specified,
        item.status.as_str(),
        acquired,
        now,
        key,
    ]);
    match result {
        Ok(0) => Ok(None),
        Ok(_) => {
            let id = tx.last_insert_rowid();
            record_change(tx, now, ChangeEntity::Item, id, ChangeKind::Created)?;
            Ok(Some(id))
        }
        Err(e) if is_unique_violation(&e) => Err(common::barcode_taken(&item.barcode)),
        Err(e) if is_fk_violation(&e) => Err(diagnose_item(tx, Some(bib_id), item)?),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Import batches.

fn lowest(a: Option<BibId>, b: Option<BibId>) -> Option<BibId> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

struct SqliteBatch<'a> {
    tx: &'a Connection,
    now: &'a str,
}

impl BatchWriter for SqliteBatch<'_> {
    fn ensure_codes(&mut self, codes: &NeededCodes) -> Result<()> {
        let mut st =
            self.tx.prepare_cached("INSERT INTO branches (code, name) VALUES (?1, ?1) ON CONFLICT DO NOTHING")?;
        for c in &codes.branches {
            st.execute([c])?;
        }
        let mut st = self
            .tx
            .prepare_cached("INSERT INTO shelving_locations (code, name) VALUES (?1, ?1) ON CONFLICT DO NOTHING")?;
        for c in &codes.locations {
            st.execute([c])?;
        }
        let mut st = self.tx.prepare_cached(
            "INSERT INTO item_types (code, name, loanable) VALUES (?1, ?1, 1) ON CONFLICT DO NOTHING",
        )?;
        for c in &codes.item_types {
            st.execute([c])?;
        }
        Ok(())
    }

    /// Simple indexed lookups, cheapest first to most specific, stopping at the first hit.
    fn find(&mut self, record: &NewRecord, sha: &[u8]) -> Result<Found> {
        let d = &record.derived;
        let first = |sql: &str, key: &dyn ToSql, key2: Option<&dyn ToSql>| -> Result<Option<BibId>> {
            let mut st = self.tx.prepare_cached(sql)?;
            Ok(match key2 {
                None => st.query_row([key], |r| r.get(0)).optional()?,
                Some(k2) => st.query_row([key, k2], |r| r.get(0)).optional()?,
            })
        };
        if let Some(id) = first("SELECT id FROM bib_records WHERE marc_sha256 = ?1 ORDER BY id LIMIT 1", &sha, None)? {
            return Ok(Found::Identical(id));
        }
        if let Some(cn) = &d.control_number {
            let hit = match &d.control_number_identifier {
                Some(org) => first(
                    "SELECT id FROM bib_records WHERE control_number = ?1 AND control_number_identifier = ?2 \
                     ORDER BY id LIMIT 1",
                    cn,
                    Some(org),
                )?,
                None => first(
                    "SELECT id FROM bib_records WHERE control_number = ?1 AND control_number_identifier IS NULL \
                     ORDER BY id LIMIT 1",
                    cn,
                    None,
                )?,
            };
            if let Some(id) = hit {
                return Ok(Found::Matched(id));
            }
        }
        // A record found by OCLC number or ISBN whose control number, from the same source
        // (003), differs is another record: LC catalogs distinct volumes under one set ISBN.
        let by_identifier = |sql: &str, key: &str| -> Result<Option<BibId>> {
            let mut st = self.tx.prepare_cached(sql)?;
            Ok(st
                .query_row(rusqlite::params![key, d.control_number, d.control_number_identifier], |r| r.get(0))
                .optional()?)
        };
        let mut best: Option<BibId> = None;
        for n in &d.oclc_numbers {
            let hit = by_identifier(
                "SELECT o.bib_id FROM bib_oclc_numbers o JOIN bib_records b ON b.id = o.bib_id \
                 WHERE o.oclc_number = ?1 AND NOT COALESCE(b.control_number <> ?2 \
                   AND b.control_number_identifier IS ?3, 0) ORDER BY o.bib_id LIMIT 1",
                n,
            )?;
            best = lowest(best, hit);
        }
        if best.is_none() {
            for isbn in &d.isbns {
                let hit = by_identifier(
                    "SELECT i.bib_id FROM bib_isbns i JOIN bib_records b ON b.id = i.bib_id \
                     WHERE i.isbn = ?1 AND NOT COALESCE(b.control_number <> ?2 \
                       AND b.control_number_identifier IS ?3, 0) ORDER BY i.bib_id LIMIT 1",
                    isbn,
                )?;
                best = lowest(best, hit);
            }
        }
        Ok(best.map_or(Found::Nothing, Found::Matched))
    }

    fn insert_record(&mut self, record: &NewRecord, sha: &[u8]) -> Result<BibId> {
        insert_record(self.tx, self.now, record, sha)
    }

    fn replace_record(&mut self, id: BibId, record: &NewRecord, sha: &[u8]) -> Result<()> {
        replace_record(self.tx, self.now, id, record, sha)
    }

    fn attach_items(&mut self, bib_id: BibId, items: &[NewItem]) -> Result<(u32, u32)> {
        let mut existing = 0;
        let record = record_call_numbers(self.tx, bib_id, items)?;
        let mut new = Vec::with_capacity(items.len());
        for item in items {
            match insert_item(self.tx, self.now, bib_id, &record, item, true)? {
                Some(id) => new.push(id),
                None => existing += 1,
            }
        }
        count_new_items(self.tx, &new)?;
        Ok((new.len() as u32, existing))
    }

    fn savepoint(&mut self, name: Savepoint) -> Result<()> {
        self.tx.execute_batch(&format!("SAVEPOINT {}", name.name()))?;
        Ok(())
    }

    fn release(&mut self, name: Savepoint) -> Result<()> {
        self.tx.execute_batch(&format!("RELEASE {}", name.name()))?;
        Ok(())
    }

    fn rollback_to(&mut self, name: Savepoint) -> Result<()> {
        let n = name.name();
        self.tx.execute_batch(&format!("ROLLBACK TO {n}; RELEASE {n}"))?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// The trait.

impl Database for SqliteDatabase {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn upsert_branch(&self, branch: &Branch) -> Result<()> {
        self.write(|tx, _| {
            tx.prepare_cached(
                "INSERT INTO branches (code, name) VALUES (?1, ?2) ON CONFLICT (code) DO UPDATE SET name = excluded.name",
            )?
            .execute(params![branch.code.as_str(), branch.name])?;
            Ok(())
        })
    }

    fn branches(&self) -> Result<Vec<Branch>> {
        self.read(|tx| {
            let mut st = tx.prepare_cached("SELECT code, name FROM branches ORDER BY code")?;
            let mut rows = st.query([])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(Branch { code: parse_code(r.get(0)?)?, name: r.get(1)? });
            }
            Ok(out)
        })
    }

    fn branch(&self, code: &Code) -> Result<Option<Branch>> {
        self.read(|tx| {
            let row: Option<(String, String)> = tx
                .prepare_cached("SELECT code, name FROM branches WHERE code = ?1")?
                .query_row([code.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            row.map(|(code, name)| Ok(Branch { code: parse_code(code)?, name })).transpose()
        })
    }

    fn delete_branch(&self, code: &Code) -> Result<()> {
        self.write(|tx, _| {
            let items: i64 = tx
                .prepare_cached("SELECT count(*) FROM items WHERE home_branch = ?1 OR holding_branch = ?1")?
                .query_row([code.as_str()], |r| r.get(0))?;
            if items > 0 {
                return Err(branch_has_items(code, items));
            }
            let patrons: i64 = tx
                .prepare_cached("SELECT count(*) FROM patrons WHERE home_branch = ?1")?
                .query_row([code.as_str()], |r| r.get(0))?;
            if patrons > 0 {
                return Err(branch_has_patrons(code, patrons));
            }
            let n = match tx.prepare_cached("DELETE FROM branches WHERE code = ?1")?.execute([code.as_str()]) {
                Ok(n) => n,
                Err(e) if is_fk_violation(&e) => return Err(branch_still_named(code)),
                Err(e) => return Err(e.into()),
            };
            if n == 0 {
                return Err(StorageError::NotFound { what: "branch", key: code.to_string() });
            }
            Ok(())
        })
    }

    fn upsert_location(&self, location: &ShelvingLocation) -> Result<()> {
        self.write(|tx, _| {
            tx.prepare_cached(
                "INSERT INTO shelving_locations (code, name) VALUES (?1, ?2) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name",
            )?
            .execute(params![location.code.as_str(), location.name])?;
            Ok(())
        })
    }

    fn locations(&self) -> Result<Vec<ShelvingLocation>> {
        self.read(|tx| {
            let mut st = tx.prepare_cached("SELECT code, name FROM shelving_locations ORDER BY code")?;
            let mut rows = st.query([])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(ShelvingLocation { code: parse_code(r.get(0)?)?, name: r.get(1)? });
            }
            Ok(out)
        })
    }

    fn upsert_item_type(&self, item_type: &ItemType) -> Result<()> {
        self.write(|tx, _| {
            tx.prepare_cached(
                "INSERT INTO item_types (code, name, loanable) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, loanable = excluded.loanable",
            )?
            .execute(params![item_type.code.as_str(), item_type.name, item_type.loanable])?;
            Ok(())
        })
    }

    fn item_types(&self) -> Result<Vec<ItemType>> {
        self.read(|tx| {
            let mut st = tx.prepare_cached("SELECT code, name, loanable FROM item_types ORDER BY code")?;
            let mut rows = st.query([])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(ItemType { code: parse_code(r.get(0)?)?, name: r.get(1)?, loanable: r.get(2)? });
            }
            Ok(out)
        })
    }

    fn upsert_patron(&self, patron: &Patron) -> Result<()> {
        let expiry = common::date_str(common::parse_date("expiry date", &patron.expiry_date)?);
        self.write(|tx, now| {
            let result = tx
                .prepare_cached(
                    "INSERT INTO patrons (card_number, surname, first_name, category, home_branch, expiry_date, \
                     email, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) \
                     ON CONFLICT (card_number) DO UPDATE SET surname = excluded.surname, \
                     first_name = excluded.first_name, category = excluded.category, \
                     home_branch = excluded.home_branch, expiry_date = excluded.expiry_date, \
                     email = excluded.email, updated_at = excluded.updated_at, search_name = NULL",
                )?
                .execute(params![
                    patron.card_number,
                    patron.surname,
                    patron.first_name,
                    patron.category.as_str(),
                    patron.home_branch.as_str(),
                    expiry,
                    patron.email,
                    now
                ]);
            match result {
                Ok(_) => patrons::fill_search_keys(tx),
                Err(e) if is_fk_violation(&e) => Err(Ref::HomeBranch.missing(&patron.home_branch)),
                Err(e) => Err(e.into()),
            }
        })
    }

    fn patrons(&self, page: Page) -> Result<Vec<Patron>> {
        self.read(|tx| {
            let mut st = tx.prepare_cached(
                "SELECT card_number, surname, first_name, category, home_branch, expiry_date, email \
                 FROM patrons ORDER BY id LIMIT ?1 OFFSET ?2",
            )?;
            let mut rows = st.query(params![i64::from(page.limit), page.after.max(0)])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(Patron {
                    card_number: r.get(0)?,
                    surname: r.get(1)?,
                    first_name: r.get(2)?,
                    category: parse_code(r.get(3)?)?,
                    home_branch: parse_code(r.get(4)?)?,
                    expiry_date: r.get(5)?,
                    email: r.get(6)?,
                });
            }
            Ok(out)
        })
    }

    fn count_patrons(&self) -> Result<u64> {
        self.read(|tx| count(tx, "SELECT count(*) FROM patrons"))
    }

    fn create_record(&self, record: &NewRecord) -> Result<BibId> {
        let sha = common::sha256(&record.marc);
        self.write(|tx, now| insert_record(tx, now, record, &sha))
    }

    fn record(&self, id: BibId) -> Result<Option<StoredRecord>> {
        self.read(|tx| {
            let sql = format!("SELECT {} FROM bib_records b WHERE b.id = ?1", common::RECORD_COLUMNS);
            Ok(query_records(tx, &sql, &[Param::Int(id)])?.pop())
        })
    }

    fn update_record(&self, id: BibId, record: &NewRecord) -> Result<()> {
        let sha = common::sha256(&record.marc);
        self.write(|tx, now| replace_record(tx, now, id, record, &sha))
    }

    fn delete_record(&self, id: BibId) -> Result<()> {
        self.write(|tx, now| {
            let items: i64 =
                tx.prepare_cached("SELECT count(*) FROM items WHERE bib_id = ?1")?.query_row([id], |r| r.get(0))?;
            if items > 0 {
                return Err(record_has_items(id, items));
            }
            if tx.prepare_cached("DELETE FROM bib_records WHERE id = ?1")?.execute([id])? == 0 {
                return Err(StorageError::NotFound { what: "record", key: id.to_string() });
            }
            oai::write_tombstone(tx, now, id)?;
            record_change(tx, now, ChangeEntity::Record, id, ChangeKind::Deleted)
        })
    }

    fn records(&self, filter: &RecordFilter, page: Page) -> Result<Vec<StoredRecord>> {
        let q = records_query(Dialect::Sqlite, filter, Some(page));
        self.read(|tx| query_records(tx, &q.sql, &q.params))
    }

    fn count_records(&self) -> Result<u64> {
        self.read(|tx| count(tx, "SELECT count(*) FROM bib_records"))
    }

    fn records_by_ids(&self, ids: &[BibId]) -> Result<Vec<StoredRecord>> {
        let sql = format!(
            "SELECT {} FROM bib_records b WHERE b.id IN (SELECT value FROM json_each(?1)) ORDER BY b.id",
            common::RECORD_COLUMNS
        );
        self.read(|tx| query_records(tx, &sql, &[Param::Text(json(ids))]))
    }

    fn create_item(&self, bib_id: BibId, item: &NewItem) -> Result<ItemId> {
        self.write(|tx, now| {
            let record = record_call_numbers(tx, bib_id, std::slice::from_ref(item))?;
            let id = insert_item(tx, now, bib_id, &record, item, false)?
                .ok_or_else(|| StorageError::Other("item insert wrote no row".to_string()))?;
            count_new_items(tx, &[id])?;
            redate_record(tx, now, bib_id)?;
            Ok(id)
        })
    }

    fn item(&self, id: ItemId) -> Result<Option<Item>> {
        let sql = format!("SELECT {} FROM items i WHERE i.id = ?1", common::ITEM_COLUMNS);
        self.read(|tx| Ok(query_items(tx, &sql, &[&id])?.pop()))
    }

    fn item_by_barcode(&self, barcode: &Barcode) -> Result<Option<Item>> {
        let sql = format!("SELECT {} FROM items i WHERE i.barcode = ?1", common::ITEM_COLUMNS);
        self.read(|tx| Ok(query_items(tx, &sql, &[&barcode.as_str()])?.pop()))
    }

    fn update_item(&self, id: ItemId, item: &NewItem) -> Result<()> {
        let acquired = item_acquired_on(item)?.map(common::date_str);
        self.write(|tx, now| {
            let before: Option<(BibId, String, Option<String>)> = tx
                .prepare_cached("SELECT bib_id, home_branch, location FROM items WHERE id = ?1")?
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            let Some((bib_id, home_branch, location)) = before else {
                return Err(StorageError::NotFound { what: "item", key: id.to_string() });
            };
            if home_branch != item.home_branch.as_str()
                || location.as_deref() != item.location.as_ref().map(Code::as_str)
            {
                redate_record(tx, now, bib_id)?;
            }
            let key = shelf_sort_key(
                item.call_number.as_deref(),
                &record_call_numbers(tx, bib_id, std::slice::from_ref(item))?,
            );
            let result = tx
                .prepare_cached(
                    "UPDATE items SET barcode = ?1, home_branch = ?2, holding_branch = ?3, location = ?4, \
                     collection = ?5, call_number = ?6, item_type = ?7, price = ?8, public_note = ?9, \
                     staff_note = ?10, materials_specified = ?11, status = ?12, acquired_on = ?13, \
                     updated_at = ?14, call_number_sort = ?16 WHERE id = ?15",
                )?
                .execute(params![
                    item.barcode.as_str(),
                    item.home_branch.as_str(),
                    item.holding_branch.as_str(),
                    item.location.as_ref().map(Code::as_str),
                    item.collection,
                    item.call_number,
                    item.item_type.as_str(),
                    item.price.map(Money::minor),
                    item.public_note,
                    item.staff_note,
                    item.materials_specified,
                    item.status.as_str(),
                    acquired,
                    now,
                    id,
                    key
                ]);
            match result {
                Ok(0) => Err(StorageError::NotFound { what: "item", key: id.to_string() }),
                Ok(_) => record_change(tx, now, ChangeEntity::Item, id, ChangeKind::Updated),
                Err(e) if is_unique_violation(&e) => Err(common::barcode_taken(&item.barcode)),
                Err(e) if is_fk_violation(&e) => Err(diagnose_item(tx, None, item)?),
                Err(e) => Err(e.into()),
            }
        })
    }

    fn delete_item(&self, id: ItemId) -> Result<()> {
        self.write(|tx, now| {
            let bib_id: Option<BibId> = tx
                .prepare_cached("DELETE FROM items WHERE id = ?1 RETURNING bib_id")?
                .query_row([id], |r| r.get(0))
                .optional()?;
            let Some(bib_id) = bib_id else {
                return Err(StorageError::NotFound { what: "item", key: id.to_string() });
            };
            redate_record(tx, now, bib_id)?;
            record_change(tx, now, ChangeEntity::Item, id, ChangeKind::Deleted)
        })
    }

    fn items(&self, filter: &ItemFilter, page: Page) -> Result<Vec<Item>> {
        let q = items_query(Dialect::Sqlite, filter, page);
        self.read(|tx| {
            let params: Vec<&dyn ToSql> = q.params.iter().map(|p| p as &dyn ToSql).collect();
            query_items(tx, &q.sql, &params)
        })
    }

    fn count_items(&self) -> Result<u64> {
        self.read(|tx| count(tx, "SELECT count(*) FROM items"))
    }

    fn items_by_ids(&self, ids: &[ItemId]) -> Result<Vec<Item>> {
        let sql = format!(
            "SELECT {} FROM items i WHERE i.id IN (SELECT value FROM json_each(?1)) ORDER BY i.id",
            common::ITEM_COLUMNS
        );
        self.read(|tx| query_items(tx, &sql, &[&json(ids)]))
    }

    fn items_of_records(&self, records: &[BibId]) -> Result<Vec<Item>> {
        let sql = format!(
            "SELECT {} FROM items i WHERE i.bib_id IN (SELECT value FROM json_each(?1)) ORDER BY i.bib_id, i.id",
            common::ITEM_COLUMNS
        );
        self.read(|tx| query_items(tx, &sql, &[&json(records)]))
    }

    fn import_batch(&self, batch: &[ImportCandidate], on_match: OnMatch) -> Result<Vec<ImportOutcome>> {
        let _bulk = BulkWrites::begin();
        self.write(|tx, now| common::run_import(&mut SqliteBatch { tx, now }, batch, on_match))
    }

    fn import_record(&self, candidate: &ImportCandidate, on_match: OnMatch) -> Result<ImportOutcome> {
        let outcomes = self.write(|tx, now| {
            common::run_import(&mut SqliteBatch { tx, now }, std::slice::from_ref(candidate), on_match)
        })?;
        outcomes.into_iter().next().ok_or_else(|| StorageError::Other("the import gave no outcome".into()))
    }

    fn import_match(&self, record: &NewRecord) -> Result<Option<crate::ImportMatch>> {
        // A read transaction: finding writes nothing, so `now` is never used.
        self.read(|tx| common::import_match(&mut SqliteBatch { tx, now: "" }, record))
    }

    fn export(
        &self,
        filter: &RecordFilter,
        each: &mut dyn FnMut(StoredRecord, Vec<Item>) -> Result<(), String>,
    ) -> Result<()> {
        let q = records_query(Dialect::Sqlite, filter, None);
        let items_sql = format!("SELECT {} FROM items i WHERE i.bib_id = ?1 ORDER BY i.id", common::ITEM_COLUMNS);
        self.read(|tx| {
            // Rows stream from SQLite one at a time: memory stays flat whatever the catalog size.
            let mut st = tx.prepare(&q.sql)?;
            let mut rows = st.query(params_from_iter(&q.params))?;
            while let Some(row) = rows.next()? {
                let record = stored_record(row)?;
                let items = query_items(tx, &items_sql, &[&record.id])?;
                each(record, items).map_err(StorageError::Other)?;
            }
            Ok(())
        })
    }

    fn changes(&self, after: i64, limit: u32) -> Result<Vec<Change>> {
        self.read(|tx| {
            read_changes(
                tx,
                "SELECT id, entity, entity_id, kind, at, bulk FROM changes WHERE id > ?1 ORDER BY id LIMIT ?2",
                after,
                limit,
            )
        })
    }

    fn prompt_changes(&self, after: i64, limit: u32) -> Result<Vec<Change>> {
        self.read(|tx| {
            read_changes(
                tx,
                "SELECT id, entity, entity_id, kind, at, bulk FROM changes \
                 WHERE bulk = 0 AND id > ?1 ORDER BY id LIMIT ?2",
                after,
                limit,
            )
        })
    }

    fn prompt_changes_after(&self, after: i64) -> Result<u64> {
        self.read(|tx| {
            let count: i64 = tx
                .prepare_cached("SELECT count(*) FROM changes WHERE bulk = 0 AND id > ?1")?
                .query_row([after], |r| r.get(0))?;
            Ok(u64::try_from(count).unwrap_or(0))
        })
    }

    fn change_signal(&self) -> Arc<ChangeSignal> {
        self.signal.clone()
    }

    fn changes_after(&self, after: i64) -> Result<(i64, u64)> {
        self.read(|tx| {
            let (last, count): (i64, i64) = tx
                .prepare_cached("SELECT coalesce(max(id), ?1), count(*) FROM changes WHERE id > ?1")?
                .query_row([after], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok((last, u64::try_from(count).unwrap_or(0)))
        })
    }

    fn shelf_list(&self, query: &ShelfQuery, page: &ShelfPage) -> Result<Vec<ShelfItem>> {
        let q = shelf_query(Dialect::Sqlite, query, page.after.as_ref(), Some(page.limit));
        self.read(|tx| query_shelf(tx, &q))
    }

    fn shelf_before(&self, query: &ShelfQuery, key: &[u8], limit: u32) -> Result<Vec<ShelfItem>> {
        let q = common::shelf_before_query(Dialect::Sqlite, query, key, limit);
        self.read(|tx| query_shelf(tx, &q))
    }

    fn recent_items(&self, branch: &Code, limit: u32) -> Result<Vec<ShelfItem>> {
        let q = common::recent_items_query(Dialect::Sqlite, branch, limit);
        self.read(|tx| query_shelf(tx, &q))
    }

    fn start_inventory(&self, scope: &NewInventory) -> Result<Inventory> {
        self.write(|tx, now| {
            let result = tx
                .prepare_cached(
                    "INSERT INTO inventories (branch, location, call_number_from, call_number_to, started_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![
                    scope.branch.as_str(),
                    scope.location.as_ref().map(Code::as_str),
                    scope.call_number_from,
                    scope.call_number_to,
                    now
                ]);
            match result {
                Ok(_) => {}
                Err(e) if is_fk_violation(&e) => {
                    let branch =
                        exists(tx, "SELECT EXISTS (SELECT 1 FROM branches WHERE code = ?1)", &scope.branch.as_str())?;
                    return Err(common::inventory_scope_error(scope, branch));
                }
                Err(e) => return Err(e.into()),
            }
            get_inventory(tx, tx.last_insert_rowid())?
                .ok_or_else(|| StorageError::Other("inventory insert wrote no row".to_string()))
        })
    }

    fn inventory(&self, id: InventoryId) -> Result<Option<Inventory>> {
        self.read(|tx| get_inventory(tx, id))
    }

    fn add_inventory_scans(&self, id: InventoryId, barcodes: &[String]) -> Result<Inventory> {
        self.write(|tx, now| {
            let next: i64 = tx
                .prepare_cached("SELECT coalesce(max(seq), 0) + 1 FROM inventory_scans WHERE inventory_id = ?1")?
                .query_row([id], |r| r.get(0))?;
            if get_inventory(tx, id)?.is_none() {
                return Err(no_inventory(id));
            }
            let mut insert = tx.prepare_cached(
                "INSERT INTO inventory_scans (inventory_id, seq, barcode, scanned_at) VALUES (?1, ?2, ?3, ?4)",
            )?;
            let mut seen = tx.prepare_cached("UPDATE items SET last_seen_at = ?1 WHERE barcode = ?2")?;
            for (n, barcode) in common::clean_scans(barcodes).into_iter().enumerate() {
                insert.execute(params![id, next + n as i64, barcode, now])?;
                seen.execute(params![now, barcode])?;
            }
            get_inventory(tx, id)?.ok_or_else(|| no_inventory(id))
        })
    }

    fn inventory_snapshot(&self, id: InventoryId) -> Result<InventorySnapshot> {
        self.read(|tx| {
            let inventory = get_inventory(tx, id)?.ok_or_else(|| no_inventory(id))?;
            let in_scope = query_shelf(tx, &shelf_query(Dialect::Sqlite, &inventory.scope.shelf_query(), None, None))?;
            let mut scans = Vec::new();
            let mut st =
                tx.prepare_cached("SELECT barcode FROM inventory_scans WHERE inventory_id = ?1 ORDER BY seq")?;
            let mut rows = st.query([id])?;
            while let Some(r) = rows.next()? {
                scans.push(r.get::<_, String>(0)?);
            }
            let mut scanned_items = std::collections::HashMap::new();
            for barcode in &scans {
                if scanned_items.contains_key(barcode) {
                    continue;
                }
                if let Some(item) = shelf_item_by_barcode(tx, barcode)? {
                    scanned_items.insert(barcode.clone(), item);
                }
            }
            Ok(InventorySnapshot { inventory, in_scope, scans, scanned_items })
        })
    }

    fn shelf_items(&self, barcodes: &[Barcode]) -> Result<Vec<Option<ShelfItem>>> {
        self.read(|tx| barcodes.iter().map(|b| shelf_item_by_barcode(tx, b.as_str())).collect())
    }

    fn checkout(
        &self,
        card_number: &str,
        barcode: &Barcode,
        now: DateTime<Utc>,
        decide: &mut dyn FnMut(&CheckoutContext) -> Option<LoanWrite>,
    ) -> Result<Option<Loan>> {
        self.write_at(now, |tx, now_text| {
            let patron = account_where(tx, "card_number = ?1", &card_number.trim())?
                .ok_or_else(|| StorageError::NotFound { what: "patron card", key: card_number.trim().to_string() })?;
            let (item, loanable) = circulating_item(tx, barcode)?;
            let (total, of_type): (i64, i64) = tx
                .prepare_cached(
                    "SELECT coalesce(sum(open_loans), 0), coalesce(sum(CASE WHEN item_type = ?2 THEN open_loans END), 0) \
                     FROM patron_loan_counts WHERE patron_id = ?1",
                )?
                .query_row(params![patron.id, item.item.item_type.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))?;
            let context = CheckoutContext {
                open_loan: open_loan(tx, item.id)?,
                loans_total: u32::try_from(total).unwrap_or(u32::MAX),
                loans_of_item_type: u32::try_from(of_type).unwrap_or(u32::MAX),
                overdue_loans: overdue_loans(tx, patron.id, now_text)?,
                holds: holds::open_holds(tx, item.bib_id)?,
                patron,
                item,
                loanable,
            };
            let Some(write) = decide(&context) else { return Ok(None) };
            let (patron, item) = (&context.patron, &context.item);
            tx.prepare_cached(
                "INSERT INTO loans (item_id, patron_id, checkout_branch, checked_out_at, due_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![item.id, patron.id, write.checkout_branch.as_str(), now_text, common::rfc3339(write.due_at)])?;
            let loan_id = tx.last_insert_rowid();
            count_loan(tx, patron.id, &item.item.item_type, 1)?;
            set_item_status(tx, now_text, item.id, ItemStatus::CheckedOut, Some(&write.checkout_branch))?;
            if let Some(o) = &write.override_entry {
                log_override(tx, now_text, "checkout", patron.id, o)?;
            }
            holds::write_holds(tx, &write.holds)?;
            Ok(Some(get_loan(tx, loan_id)?))
        })
    }

    fn renew(
        &self,
        barcode: &Barcode,
        now: DateTime<Utc>,
        decide: &mut dyn FnMut(&RenewalContext) -> Option<RenewalWrite>,
    ) -> Result<Option<Loan>> {
        self.write_at(now, |tx, now_text| {
            let (item, _) = circulating_item(tx, barcode)?;
            let loan = open_loan(tx, item.id)?
                .ok_or_else(|| StorageError::NotFound { what: "loan of item", key: barcode.to_string() })?;
            let patron = account_where(tx, "id = ?1", &loan.patron_id)?
                .ok_or_else(|| StorageError::Other(format!("loan {} names no patron", loan.id)))?;
            let context = RenewalContext {
                overdue_loans: overdue_loans(tx, patron.id, now_text)?,
                holds: holds::open_holds(tx, item.bib_id)?,
                patron,
                item,
                loan,
            };
            let Some(write) = decide(&context) else { return Ok(None) };
            tx.prepare_cached("UPDATE loans SET due_at = ?1, renewals = renewals + 1 WHERE id = ?2")?
                .execute(params![common::rfc3339(write.due_at), context.loan.id])?;
            // When it was renewed, for the reports (0017).
            tx.prepare_cached("INSERT INTO loan_renewals (loan_id, renewed_at) VALUES (?1, ?2)")?
                .execute(params![context.loan.id, now_text])?;
            if let Some(o) = &write.override_entry {
                log_override(tx, now_text, "renew", context.patron.id, o)?;
            }
            Ok(Some(get_loan(tx, context.loan.id)?))
        })
    }

    fn check_in(
        &self,
        barcode: &Barcode,
        now: DateTime<Utc>,
        decide: &mut dyn FnMut(&CheckinContext) -> Option<CheckinWrite>,
    ) -> Result<bool> {
        self.write_at(now, |tx, now_text| {
            let (item, _) = circulating_item(tx, barcode)?;
            let loan = match open_loan(tx, item.id)? {
                None => None,
                Some(loan) => {
                    let patron = account_where(tx, "id = ?1", &loan.patron_id)?
                        .ok_or_else(|| StorageError::Other(format!("loan {} names no patron", loan.id)))?;
                    Some((loan, patron))
                }
            };
            let already: i64 = match &loan {
                None => 0,
                Some((l, _)) => tx
                    .prepare_cached(
                        "SELECT coalesce(sum(amount), 0) FROM ledger_entries WHERE loan_id = ?1 AND kind = 'overdue'",
                    )?
                    .query_row([l.id], |r| r.get(0))?,
            };
            let context = CheckinContext {
                holds: holds::open_holds(tx, item.bib_id)?,
                transit: holds::open_transit(tx, item.id)?,
                item,
                loan,
                already_charged: Money::from_minor(already),
            };
            let Some(write) = decide(&context) else { return Ok(false) };
            if let Some((loan, patron)) = &context.loan {
                tx.prepare_cached("UPDATE loans SET returned_at = ?1, return_branch = ?2 WHERE id = ?3")?
                    .execute(params![common::rfc3339(write.returned_at), write.return_branch.as_str(), loan.id])?;
                count_loan(tx, patron.id, &context.item.item.item_type, -1)?;
                if write.overdue_charge.minor() > 0 {
                    tx.prepare_cached(
                        "INSERT INTO ledger_entries (patron_id, kind, amount, loan_id, at, note) \
                         VALUES (?1, 'overdue', ?2, ?3, ?4, ?5)",
                    )?
                    .execute(params![
                        patron.id,
                        write.overdue_charge.minor(),
                        loan.id,
                        now_text,
                        format!("overdue, returned {}", common::rfc3339(write.returned_at))
                    ])?;
                    tx.prepare_cached("UPDATE patrons SET balance = balance + ?1 WHERE id = ?2")?
                        .execute(params![write.overdue_charge.minor(), patron.id])?;
                }
                // Ledger: a lost copy is back; reverse its lost charges.
                if let Some(policy) = write.found {
                    ledger::found_at_check_in(tx, patron.id, context.item.id, now, policy)?;
                }
            }
            set_item_status(tx, now_text, context.item.id, write.status, Some(&write.holding_branch))?;
            // Holds: checking the copy in receives its transit; then the trap, and a new transit.
            holds::close_transit(tx, context.item.id, now_text)?;
            holds::write_holds(tx, &write.holds)?;
            if let Some(t) = &write.transit {
                holds::start_transit(tx, t, now_text)?;
            }
            Ok(true)
        })
    }

    fn patron_account(&self, card_number: &str) -> Result<Option<PatronAccount>> {
        self.read(|tx| account_where(tx, "card_number = ?1", &card_number.trim()))
    }

    fn open_loan_of_item(&self, item: ItemId) -> Result<Option<Loan>> {
        self.read(|tx| open_loan(tx, item))
    }

    fn open_loans(&self, patron: PatronId) -> Result<Vec<Loan>> {
        let sql = format!(
            "SELECT {LOAN_COLUMNS} FROM loans l WHERE l.patron_id = ?1 AND l.returned_at IS NULL ORDER BY l.due_at, l.id"
        );
        self.read(|tx| {
            let mut st = tx.prepare_cached(&sql)?;
            let mut rows = st.query([patron])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(loan_from_row(r)?);
            }
            Ok(out)
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Circulation. The writer connection is the lock: one write transaction at a time, so the
// context a decision reads is what its write changes.

const LOAN_COLUMNS: &str =
    "l.id, l.item_id, l.patron_id, l.checkout_branch, l.checked_out_at, l.due_at, l.renewals, l.returned_at";

fn time(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StorageError::Other(format!("bad timestamp {s:?} in the database: {e}")))
}

fn loan_from_row(row: &Row<'_>) -> Result<Loan> {
    Ok(Loan {
        id: row.get(0)?,
        item_id: row.get(1)?,
        patron_id: row.get(2)?,
        checkout_branch: parse_code(row.get(3)?)?,
        checked_out_at: time(&row.get::<_, String>(4)?)?,
        due_at: time(&row.get::<_, String>(5)?)?,
        renewals: row.get(6)?,
        returned_at: row.get::<_, Option<String>>(7)?.map(|t| time(&t)).transpose()?,
    })
}

fn account_from_row(row: &Row<'_>) -> Result<PatronAccount> {
    Ok(PatronAccount {
        id: row.get(0)?,
        card_number: row.get(1)?,
        category: parse_code(row.get(2)?)?,
        home_branch: parse_code(row.get(3)?)?,
        expiry_date: common::parse_date("expiry date", &row.get::<_, String>(4)?)?,
        balance: Money::from_minor(row.get(5)?),
        blocks: Vec::new(),
    })
}

const ACCOUNT_SQL: &str = "SELECT id, card_number, category, home_branch, expiry_date, balance FROM patrons";

fn account_where(conn: &Connection, condition: &str, key: &dyn ToSql) -> Result<Option<PatronAccount>> {
    let mut st = conn.prepare_cached(&format!("{ACCOUNT_SQL} WHERE {condition}"))?;
    let mut rows = st.query([key])?;
    let mut account = rows.next()?.map(account_from_row).transpose()?;
    if let Some(a) = account.as_mut() {
        a.blocks = patrons::active_blocks(conn, a.id)?;
    }
    Ok(account)
}

/// The item with this barcode and whether its type lends.
fn circulating_item(conn: &Connection, barcode: &Barcode) -> Result<(Item, bool)> {
    let sql = format!(
        "SELECT {}, t.loanable FROM items i JOIN item_types t ON t.code = i.item_type WHERE i.barcode = ?1",
        common::ITEM_COLUMNS
    );
    let mut st = conn.prepare_cached(&sql)?;
    let mut rows = st.query([barcode.as_str()])?;
    let row = rows.next()?.ok_or_else(|| StorageError::NotFound { what: "item", key: barcode.to_string() })?;
    Ok((item_from_row(row)?, row.get::<_, bool>(15)?))
}

fn open_loan(conn: &Connection, item_id: ItemId) -> Result<Option<Loan>> {
    let sql = format!("SELECT {LOAN_COLUMNS} FROM loans l WHERE l.item_id = ?1 AND l.returned_at IS NULL");
    let mut st = conn.prepare_cached(&sql)?;
    let mut rows = st.query([item_id])?;
    rows.next()?.map(loan_from_row).transpose()
}

fn overdue_loans(conn: &Connection, patron: PatronId, now: &str) -> Result<u32> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM (SELECT 1 FROM loans WHERE patron_id = ?1 AND returned_at IS NULL AND due_at < ?2 \
             LIMIT ?3)",
        )?
        .query_row(params![patron, now, i64::from(loans::OVERDUE_COUNT_CAP) + 1], |r| r.get(0))?)
}

fn count_loan(conn: &Connection, patron: PatronId, item_type: &Code, delta: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO patron_loan_counts (patron_id, item_type, open_loans) VALUES (?1, ?2, max(?3, 0)) \
         ON CONFLICT (patron_id, item_type) DO UPDATE SET open_loans = max(open_loans + ?3, 0)",
    )?
    .execute(params![patron, item_type.as_str(), delta])?;
    Ok(())
}

fn log_override(conn: &Connection, now: &str, action: &str, patron: PatronId, o: &OverrideEntry) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO override_log (at, staff, action, overridden, reason, patron_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![now, o.staff, action, o.overridden.join(","), o.reason, patron])?;
    Ok(())
}

fn set_item_status(conn: &Connection, now: &str, id: ItemId, status: ItemStatus, holding: Option<&Code>) -> Result<()> {
    conn.prepare_cached(
        "UPDATE items SET status = ?1, holding_branch = coalesce(?2, holding_branch), updated_at = ?3 WHERE id = ?4",
    )?
    .execute(params![status.as_str(), holding.map(Code::as_str), now, id])?;
    record_change(conn, now, ChangeEntity::Item, id, ChangeKind::Updated)
}

fn get_loan(conn: &Connection, id: LoanId) -> Result<Loan> {
    let sql = format!("SELECT {LOAN_COLUMNS} FROM loans l WHERE l.id = ?1");
    conn.prepare_cached(&sql)?.query_row([id], |r| Ok(loan_from_row(r)))?
}
