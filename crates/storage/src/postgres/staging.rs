use super::{Cx, PostgresDatabase};
use crate::staging::{
    on_match_str, parse_on_match, Batch, BatchId, BatchState, NewBatch, StagedMatch, StagedRecord, StagingStore,
};
use crate::{OnMatch, Result, StorageError};
use ::postgres::{GenericClient, Row};
use chrono::{DateTime, Utc};

const BATCH_SELECT: &str = "SELECT id, file_name, format, staged_by, staged_at, records, failed, matched, state, \
     on_match, applied_by, applied_at, result FROM import_batches";

fn batch_from_row(r: &Row) -> Result<Batch> {
    let state: String = r.try_get(8)?;
    let on_match: Option<String> = r.try_get(9)?;
    Ok(Batch {
        id: r.try_get(0)?,
        file_name: r.try_get(1)?,
        format: r.try_get(2)?,
        staged_by: r.try_get(3)?,
        staged_at: r.try_get(4)?,
        records: r.try_get(5)?,
        failed: r.try_get(6)?,
        matched: r.try_get(7)?,
        state: BatchState::parse(&state)
            .ok_or_else(|| StorageError::Other(format!("unknown batch state {state:?} in the database")))?,
        on_match: on_match
            .map(|m| parse_on_match(&m).ok_or_else(|| StorageError::Other(format!("unknown on_match {m:?}"))))
            .transpose()?,
        applied_by: r.try_get(10)?,
        applied_at: r.try_get(11)?,
        result: r.try_get(12)?,
    })
}

fn existing<C: GenericClient>(cx: &mut Cx<'_, C>, id: BatchId) -> Result<Batch> {
    cx.query_opt(&format!("{BATCH_SELECT} WHERE id = $1"), &[&id])?
        .map(|r| batch_from_row(&r))
        .transpose()?
        .ok_or_else(|| StorageError::NotFound { what: "import batch", key: id.to_string() })
}

impl StagingStore for PostgresDatabase {
    fn stage_batch(&self, batch: &NewBatch, records: &[StagedRecord]) -> Result<Batch> {
        let failed = records.iter().filter(|r| r.marc.is_none()).count() as i64;
        let matched = records.iter().filter(|r| r.matched.is_some()).count() as i64;
        let count = records.len() as i64;
        self.write(|w| {
            let id: i64 =
                w.cx.query_one(
                    "INSERT INTO import_batches (file_name, format, staged_by, staged_at, records, failed, matched, \
                     state) VALUES ($1, $2, $3, $4, $5, $6, $7, 'staged') RETURNING id",
                    &[&batch.file_name, &batch.format, &batch.staged_by, &batch.staged_at, &count, &failed, &matched],
                )?
                .try_get(0)?;
            for r in records {
                let m = r.matched.as_ref();
                w.cx.execute(
                    "INSERT INTO staged_records (batch_id, number, byte_offset, title, marc, problem, match_kind, \
                     match_key, matched_bib_id, matched_title) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    &[
                        &id,
                        &r.number,
                        &r.byte_offset,
                        &r.title,
                        &r.marc,
                        &r.problem,
                        &m.map(|m| if m.identical { "identical" } else { "matched" }),
                        &m.map(|m| m.key.as_str()),
                        &m.map(|m| m.bib_id),
                        &m.map(|m| m.title.as_str()),
                    ],
                )?;
            }
            existing(&mut w.cx, id)
        })
    }

    fn batch(&self, id: BatchId) -> Result<Option<Batch>> {
        self.read(|cx| {
            cx.query_opt(&format!("{BATCH_SELECT} WHERE id = $1"), &[&id])?.map(|r| batch_from_row(&r)).transpose()
        })
    }

    fn batches(&self, limit: u32) -> Result<Vec<Batch>> {
        self.read(|cx| {
            cx.query(&format!("{BATCH_SELECT} ORDER BY id DESC LIMIT $1"), &[&i64::from(limit)])?
                .iter()
                .map(batch_from_row)
                .collect()
        })
    }

    fn staged_records(&self, id: BatchId, after: i64, limit: u32) -> Result<Vec<StagedRecord>> {
        self.read(|cx| {
            cx.query(
                "SELECT number, byte_offset, title, marc, problem, match_kind, match_key, matched_bib_id, \
                 matched_title FROM staged_records WHERE batch_id = $1 AND number > $2 ORDER BY number LIMIT $3",
                &[&id, &after, &i64::from(limit)],
            )?
            .iter()
            .map(|r| {
                let kind: Option<String> = r.try_get(5)?;
                let matched = match (kind, r.try_get::<_, Option<i64>>(7)?) {
                    (Some(kind), Some(bib_id)) => Some(StagedMatch {
                        bib_id,
                        identical: kind == "identical",
                        key: r.try_get::<_, Option<String>>(6)?.unwrap_or_default(),
                        title: r.try_get::<_, Option<String>>(8)?.unwrap_or_default(),
                    }),
                    _ => None,
                };
                Ok(StagedRecord {
                    number: r.try_get(0)?,
                    byte_offset: r.try_get(1)?,
                    title: r.try_get(2)?,
                    marc: r.try_get(3)?,
                    problem: r.try_get(4)?,
                    matched,
                })
            })
            .collect()
        })
    }

    fn staged_marc(&self, id: BatchId) -> Result<Vec<(i64, Vec<u8>)>> {
        self.read(|cx| {
            cx.query(
                "SELECT number, marc FROM staged_records WHERE batch_id = $1 AND marc IS NOT NULL ORDER BY number",
                &[&id],
            )?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
        })
    }

    fn start_applying(&self, id: BatchId, on_match: OnMatch, by: &str, now: DateTime<Utc>) -> Result<Option<Batch>> {
        self.write(|w| {
            existing(&mut w.cx, id)?;
            let moved = w.cx.execute(
                "UPDATE import_batches SET state = 'applying', on_match = $2, applied_by = $3, applied_at = $4 \
                 WHERE id = $1 AND state = 'staged'",
                &[&id, &on_match_str(on_match), &by, &now],
            )?;
            if moved == 0 {
                return Ok(None);
            }
            existing(&mut w.cx, id).map(Some)
        })
    }

    fn finish_applying(&self, id: BatchId, result: Option<&str>) -> Result<Batch> {
        self.write(|w| {
            match result {
                Some(result) => w.cx.execute(
                    "UPDATE import_batches SET state = 'applied', result = $2 WHERE id = $1 AND state = 'applying'",
                    &[&id, &result],
                )?,
                None => w.cx.execute(
                    "UPDATE import_batches SET state = 'staged', on_match = NULL, applied_by = NULL, \
                     applied_at = NULL WHERE id = $1 AND state = 'applying'",
                    &[&id],
                )?,
            };
            existing(&mut w.cx, id)
        })
    }

    fn release_applying(&self, id: BatchId, started_before: DateTime<Utc>) -> Result<bool> {
        self.write(|w| {
            let released = w.cx.execute(
                "UPDATE import_batches SET state = 'staged', on_match = NULL, applied_by = NULL, \
                 applied_at = NULL WHERE id = $1 AND state = 'applying' AND applied_at < $2",
                &[&id, &started_before],
            )?;
            Ok(released == 1)
        })
    }
}
