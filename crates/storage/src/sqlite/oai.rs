use super::{time, SqliteDatabase};
use crate::common::{Dialect, Param};
use crate::oai::{self, OaiPage, OaiPosition, OaiQuery, OaiRecord, OaiStore, TOKEN_KEY_SETTING};
use crate::{BibId, Result};
use chrono::{DateTime, Utc};
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

fn live_records(conn: &Connection, sql: &str, params: &[Param]) -> Result<Vec<OaiRecord>> {
    let mut st = conn.prepare_cached(sql)?;
    let mut rows = st.query(params_from_iter(params))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(OaiRecord {
            id: row.get(0)?,
            datestamp: time(&row.get::<_, String>(1)?)?,
            deleted: false,
            marc: row.get(2)?,
            branches: Vec::new(),
            locations: Vec::new(),
        });
    }
    Ok(out)
}

fn tombstones(conn: &Connection, sql: &str, params: &[Param]) -> Result<Vec<OaiRecord>> {
    let mut st = conn.prepare_cached(sql)?;
    let mut rows = st.query(params_from_iter(params))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(OaiRecord {
            id: row.get(0)?,
            datestamp: time(&row.get::<_, String>(1)?)?,
            deleted: true,
            marc: None,
            branches: Vec::new(),
            locations: Vec::new(),
        });
    }
    Ok(out)
}

fn with_sets(conn: &Connection, records: &mut [OaiRecord]) -> Result<()> {
    let ids: Vec<i64> = records.iter().filter(|r| !r.deleted).map(|r| r.id).collect();
    if ids.is_empty() {
        return Ok(());
    }
    let mut st = conn.prepare_cached(
        "SELECT DISTINCT bib_id, home_branch, location FROM items WHERE bib_id IN (SELECT value FROM json_each(?1))",
    )?;
    let mut rows = st.query([Param::Ids(ids)])?;
    let mut found = Vec::new();
    while let Some(row) = rows.next()? {
        found.push((row.get(0)?, row.get(1)?, row.get(2)?));
    }
    oai::attach_sets(records, found);
    Ok(())
}

/// The tombstone of a record deleted in this transaction.
pub(super) fn write_tombstone(tx: &Connection, now: &str, id: BibId) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO deleted_records (bib_id, deleted_at) VALUES (?1, ?2) \
         ON CONFLICT (bib_id) DO UPDATE SET deleted_at = excluded.deleted_at",
    )?
    .execute(params![id, now])?;
    Ok(())
}

impl OaiStore for SqliteDatabase {
    fn oai_page(
        &self,
        query: &OaiQuery,
        after: Option<&OaiPosition>,
        limit: u32,
        count: bool,
        with_marc: bool,
    ) -> Result<OaiPage> {
        let live_q = oai::records_page(Dialect::Sqlite, query, after, limit, with_marc);
        let dead_q = oai::tombstones_page(Dialect::Sqlite, query, after, limit);
        let count_q = count.then(|| oai::count(Dialect::Sqlite, query));
        self.read(|tx| {
            let live = live_records(tx, &live_q.sql, &live_q.params)?;
            let dead = match &dead_q {
                Some(q) => tombstones(tx, &q.sql, &q.params)?,
                None => Vec::new(),
            };
            let mut records = oai::merge(live, dead, limit);
            with_sets(tx, &mut records)?;
            let total = match &count_q {
                Some(q) => {
                    let n: i64 = tx.prepare_cached(&q.sql)?.query_row(params_from_iter(&q.params), |r| r.get(0))?;
                    Some(u64::try_from(n).unwrap_or(0))
                }
                None => None,
            };
            Ok(OaiPage { records, total })
        })
    }

    fn oai_record(&self, id: BibId) -> Result<Option<OaiRecord>> {
        self.read(|tx| {
            let mut live =
                live_records(tx, "SELECT id, updated_at, marc FROM bib_records WHERE id = ?1", &[Param::Int(id)])?;
            if live.is_empty() {
                let sql = "SELECT bib_id, deleted_at FROM deleted_records WHERE bib_id = ?1";
                return Ok(tombstones(tx, sql, &[Param::Int(id)])?.pop());
            }
            with_sets(tx, &mut live)?;
            Ok(live.pop())
        })
    }

    fn oai_earliest_datestamp(&self) -> Result<Option<DateTime<Utc>>> {
        self.read(|tx| {
            let earliest: Option<String> = tx
                .prepare_cached(
                    "SELECT min(t) FROM (SELECT min(updated_at) AS t FROM bib_records \
                     UNION ALL SELECT min(deleted_at) FROM deleted_records)",
                )?
                .query_row([], |r| r.get(0))?;
            earliest.map(|t| time(&t)).transpose()
        })
    }

    fn oai_token_key(&self, candidate: &str) -> Result<String> {
        self.write(|tx, _| {
            tx.prepare_cached("INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING")?
                .execute([TOKEN_KEY_SETTING, candidate])?;
            let key: Option<String> = tx
                .prepare_cached("SELECT value FROM settings WHERE name = ?1")?
                .query_row([TOKEN_KEY_SETTING], |r| r.get(0))
                .optional()?;
            Ok(key.unwrap_or_else(|| candidate.to_string()))
        })
    }
}
