use super::{time, SqliteDatabase};

use crate::staging::{
    on_match_str, parse_on_match, Batch, BatchId, BatchState, NewBatch, StagedMatch, StagedRecord, StagingStore,
};
use crate::{OnMatch, Result, StorageError};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, Row};

const BATCH_SELECT: &str = "SELECT id, file_name, format, staged_by, staged_at, records, failed, matched, state, \
     on_match, applied_by, applied_at, result FROM import_batches";

fn batch_from_row(r: &Row<'_>) -> Result<Batch> {
    let state: String = r.get(8)?;
    let on_match: Option<String> = r.get(9)?;
    Ok(Batch {
        id: r.get(0)?,
        file_name: r.get(1)?,
        format: r.get(2)?,
        staged_by: r.get(3)?,
        staged_at: time(&r.get::<_, String>(4)?)?,
        records: r.get(5)?,
        failed: r.get(6)?,
        matched: r.get(7)?,
        state: BatchState::parse(&state)
            .ok_or_else(|| StorageError::Other(format!("unknown batch state {state:?} in the database")))?,
        on_match: on_match
            .map(|m| parse_on_match(&m).ok_or_else(|| StorageError::Other(format!("unknown on_match {m:?}"))))
            .transpose()?,
        applied_by: r.get(10)?,
        applied_at: r.get::<_, Option<String>>(11)?.map(|t| time(&t)).transpose()?,
        result: r.get(12)?,
    })
}

fn get_batch(conn: &Connection, id: BatchId) -> Result<Option<Batch>> {
    let mut st = conn.prepare_cached(&format!("{BATCH_SELECT} WHERE id = ?1"))?;
    let mut rows = st.query([id])?;
    rows.next()?.map(batch_from_row).transpose()
}

fn existing(conn: &Connection, id: BatchId) -> Result<Batch> {
    get_batch(conn, id)?.ok_or_else(|| StorageError::NotFound { what: "import batch", key: id.to_string() })
}

impl StagingStore for SqliteDatabase {
    fn stage_batch(&self, batch: &NewBatch, records: &[StagedRecord]) -> Result<Batch> {
        self.write_at(batch.staged_at, |tx, now| {
            let failed = records.iter().filter(|r| r.marc.is_none()).count() as i64;
            let matched = records.iter().filter(|r| r.matched.is_some()).count() as i64;
            tx.prepare_cached(
                "INSERT INTO import_batches (file_name, format, staged_by, staged_at, records, failed, matched, state) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'staged')",
            )?
            .execute(params![
                batch.file_name,
                batch.format,
                batch.staged_by,
                now,
                records.len() as i64,
                failed,
                matched
            ])?;
            let id = tx.last_insert_rowid();
            let mut st = tx.prepare_cached(
                "INSERT INTO staged_records (batch_id, number, byte_offset, title, marc, problem, match_kind, \
                 match_key, matched_bib_id, matched_title) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            for r in records {
                let m = r.matched.as_ref();
                st.execute(params![
                    id,
                    r.number,
                    r.byte_offset,
                    r.title,
                    r.marc,
                    r.problem,
                    m.map(|m| if m.identical { "identical" } else { "matched" }),
                    m.map(|m| &m.key),
                    m.map(|m| m.bib_id),
                    m.map(|m| &m.title),
                ])?;
            }
            existing(tx, id)
        })
    }

    fn batch(&self, id: BatchId) -> Result<Option<Batch>> {
        self.read(|tx| get_batch(tx, id))
    }

    fn batches(&self, limit: u32) -> Result<Vec<Batch>> {
        self.read(|tx| {
            let mut st = tx.prepare_cached(&format!("{BATCH_SELECT} ORDER BY id DESC LIMIT ?1"))?;
            let mut rows = st.query([i64::from(limit)])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(batch_from_row(r)?);
            }
            Ok(out)
        })
    }

    fn staged_records(&self, id: BatchId, after: i64, limit: u32) -> Result<Vec<StagedRecord>> {
        self.read(|tx| {
            let mut st = tx.prepare_cached(
                "SELECT number, byte_offset, title, marc, problem, match_kind, match_key, matched_bib_id, \
                 matched_title FROM staged_records WHERE batch_id = ?1 AND number > ?2 ORDER BY number LIMIT ?3",
            )?;
            let mut rows = st.query(params![id, after, i64::from(limit)])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let kind: Option<String> = r.get(5)?;
                let matched = match (kind, r.get::<_, Option<i64>>(7)?) {
                    (Some(kind), Some(bib_id)) => Some(StagedMatch {
                        bib_id,
                        identical: kind == "identical",
                        key: r.get::<_, Option<String>>(6)?.unwrap_or_default(),
                        title: r.get::<_, Option<String>>(8)?.unwrap_or_default(),
                    }),
                    _ => None,
                };
                out.push(StagedRecord {
                    number: r.get(0)?,
                    byte_offset: r.get(1)?,
                    title: r.get(2)?,
                    marc: r.get(3)?,
                    problem: r.get(4)?,
                    matched,
                });
            }
            Ok(out)
        })
    }

    fn staged_marc(&self, id: BatchId) -> Result<Vec<(i64, Vec<u8>)>> {
        self.read(|tx| {
            let mut st = tx.prepare_cached(
                "SELECT number, marc FROM staged_records WHERE batch_id = ?1 AND marc IS NOT NULL ORDER BY number",
            )?;
            let mut rows = st.query([id])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push((r.get(0)?, r.get(1)?));
            }
            Ok(out)
        })
    }

    fn start_applying(&self, id: BatchId, on_match: OnMatch, by: &str, now: DateTime<Utc>) -> Result<Option<Batch>> {
        self.write_at(now, |tx, now| {
            existing(tx, id)?;
            let moved = tx
                .prepare_cached(
                    "UPDATE import_batches SET state = 'applying', on_match = ?2, applied_by = ?3, applied_at = ?4 \
                     WHERE id = ?1 AND state = 'staged'",
                )?
                .execute(params![id, on_match_str(on_match), by, now])?;
            if moved == 0 {
                return Ok(None);
            }
            existing(tx, id).map(Some)
        })
    }

    fn finish_applying(&self, id: BatchId, result: Option<&str>) -> Result<Batch> {
        self.write(|tx, _| {
            match result {
                Some(result) => tx
                    .prepare_cached(
                        "UPDATE import_batches SET state = 'applied', result = ?2 WHERE id = ?1 AND state = 'applying'",
                    )?
                    .execute(params![id, result])?,
                None => tx
                    .prepare_cached(
                        "UPDATE import_batches SET state = 'staged', on_match = NULL, applied_by = NULL, \
                         applied_at = NULL WHERE id = ?1 AND state = 'applying'",
                    )?
                    .execute([id])?,
            };
            existing(tx, id)
        })
    }

    fn release_applying(&self, id: BatchId, started_before: DateTime<Utc>) -> Result<bool> {
        self.write(|tx, _| {
            let released = tx
                .prepare_cached(
                    "UPDATE import_batches SET state = 'staged', on_match = NULL, applied_by = NULL, \
                     applied_at = NULL WHERE id = ?1 AND state = 'applying' AND applied_at < ?2",
                )?
                .execute(params![id, crate::common::rfc3339(started_before)])?;
            Ok(released == 1)
        })
    }
}
