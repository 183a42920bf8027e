use super::{boxed, map_error, refs, Cx, PgConn, PostgresDatabase, Tx};
use crate::common::Dialect;
use crate::oai::{self, OaiPage, OaiPosition, OaiQuery, OaiRecord, OaiStore, TOKEN_KEY_SETTING};
use crate::{BibId, Result};
use chrono::{DateTime, Utc};
use postgres::{GenericClient, IsolationLevel, Row};

fn record_from_row(row: &Row, deleted: bool) -> Result<OaiRecord> {
    Ok(OaiRecord {
        id: row.try_get(0)?,
        datestamp: row.try_get(1)?,
        deleted,
        marc: if deleted { None } else { row.try_get(2)? },
        branches: Vec::new(),
        locations: Vec::new(),
    })
}

fn with_sets<C: GenericClient>(cx: &mut Cx<'_, C>, records: &mut [OaiRecord]) -> Result<()> {
    let ids: Vec<i64> = records.iter().filter(|r| !r.deleted).map(|r| r.id).collect();
    if ids.is_empty() {
        return Ok(());
    }
    let rows = cx.query("SELECT DISTINCT bib_id, home_branch, location FROM items WHERE bib_id = ANY($1)", &[&ids])?;
    let found = rows
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect::<Result<Vec<(BibId, String, Option<String>)>>>()?;
    oai::attach_sets(records, found);
    Ok(())
}

/// The tombstone of a record deleted in this transaction.
pub(super) fn write_tombstone(w: &mut Tx<'_, '_>, id: BibId) -> Result<()> {
    w.cx.execute(
        "INSERT INTO deleted_records (bib_id, deleted_at) VALUES ($1, now()) \
         ON CONFLICT (bib_id) DO UPDATE SET deleted_at = excluded.deleted_at",
        &[&id],
    )?;
    Ok(())
}

impl PostgresDatabase {
    /// Several statements in one read-only REPEATABLE READ transaction: one snapshot.
    pub(super) fn read_snapshot<T>(
        &self,
        f: impl FnOnce(&mut Cx<'_, postgres::Transaction<'_>>) -> Result<T>,
    ) -> Result<T> {
        let mut conn = self.conn()?;
        let result = (|| {
            let PgConn { client, statements } = &mut *conn;
            let mut tx =
                client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start()?;
            let value = f(&mut Cx { c: &mut tx, statements })?;
            tx.commit()?;
            Ok(value)
        })();
        if conn.client.is_closed() {
            conn.mark_broken();
        }
        result.map_err(map_error)
    }
}

impl OaiStore for PostgresDatabase {
    fn oai_page(
        &self,
        query: &OaiQuery,
        after: Option<&OaiPosition>,
        limit: u32,
        count: bool,
        with_marc: bool,
    ) -> Result<OaiPage> {
        let live_q = oai::records_page(Dialect::Postgres, query, after, limit, with_marc);
        let dead_q = oai::tombstones_page(Dialect::Postgres, query, after, limit);
        let count_q = count.then(|| oai::count(Dialect::Postgres, query));
        self.read_snapshot(|cx| {
            let params = boxed(&live_q.params);
            let live = cx
                .query(&live_q.sql, &refs(&params))?
                .iter()
                .map(|r| record_from_row(r, false))
                .collect::<Result<_>>()?;
            let dead = match &dead_q {
                Some(q) => {
                    let params = boxed(&q.params);
                    cx.query(&q.sql, &refs(&params))?.iter().map(|r| record_from_row(r, true)).collect::<Result<_>>()?
                }
                None => Vec::new(),
            };
            let mut records = oai::merge(live, dead, limit);
            with_sets(cx, &mut records)?;
            let total = match &count_q {
                Some(q) => {
                    let params = boxed(&q.params);
                    let n: i64 = cx.query_one(&q.sql, &refs(&params))?.try_get(0)?;
                    Some(u64::try_from(n).unwrap_or(0))
                }
                None => None,
            };
            Ok(OaiPage { records, total })
        })
    }

    fn oai_record(&self, id: BibId) -> Result<Option<OaiRecord>> {
        self.read_snapshot(|cx| {
            if let Some(row) = cx.query_opt("SELECT id, updated_at, marc FROM bib_records WHERE id = $1", &[&id])? {
                let mut records = [record_from_row(&row, false)?];
                with_sets(cx, &mut records)?;
                let [record] = records;
                return Ok(Some(record));
            }
            cx.query_opt("SELECT bib_id, deleted_at FROM deleted_records WHERE bib_id = $1", &[&id])?
                .map(|r| record_from_row(&r, true))
                .transpose()
        })
    }

    fn oai_earliest_datestamp(&self) -> Result<Option<DateTime<Utc>>> {
        self.read(|cx| {
            Ok(cx
                .query_one(
                    "SELECT least((SELECT min(updated_at) FROM bib_records), (SELECT min(deleted_at) FROM deleted_records))",
                    &[],
                )?
                .try_get(0)?)
        })
    }

    fn oai_token_key(&self, candidate: &str) -> Result<String> {
        self.write(|w| {
            w.cx.execute(
                "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                &[&TOKEN_KEY_SETTING, &candidate],
            )?;
            Ok(w.cx.query_one("SELECT value FROM settings WHERE name = $1", &[&TOKEN_KEY_SETTING])?.try_get(0)?)
        })
    }
}
