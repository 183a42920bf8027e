use super::{time, SqliteDatabase};
use crate::closures::{Closure, ClosureContext, ClosureStore, ClosureWrite};
use crate::common::{self, date_str, parse_code, parse_date};
use crate::{Result, StorageError};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, ToSql};

impl ClosureStore for SqliteDatabase {
    fn declare_closures(
        &self,
        closures: &[Closure],
        window: (DateTime<Utc>, DateTime<Utc>),
        decide: &mut dyn FnMut(&Closure, &ClosureContext) -> ClosureWrite,
    ) -> Result<Vec<ClosureWrite>> {
        let Some(first) = closures.first() else { return Ok(Vec::new()) };
        self.write_at(first.declared_at, |tx, now| {
            closures.iter().map(|closure| declare(tx, now, closure, window, decide)).collect()
        })
    }

    fn closures(&self) -> Result<Vec<Closure>> {
        self.read(|tx| {
            let mut st = tx.prepare_cached(
                "SELECT branch, day, reason, declared_by, declared_at FROM closures ORDER BY day, branch",
            )?;
            let rows = st.query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?, r.get(3)?, r.get::<_, String>(4)?))
            })?;
            rows.map(|r| {
                let (branch, day, reason, declared_by, at) = r?;
                Ok(Closure {
                    branch: parse_code(branch)?,
                    day: parse_date("closure day", &day)?,
                    reason,
                    declared_by,
                    declared_at: time(&at)?,
                })
            })
            .collect()
        })
    }
}

fn declare(
    tx: &Connection,
    now: &str,
    closure: &Closure,
    window: (DateTime<Utc>, DateTime<Utc>),
    decide: &mut dyn FnMut(&Closure, &ClosureContext) -> ClosureWrite,
) -> Result<ClosureWrite> {
    let branch = closure.branch.as_str();
    let day = date_str(closure.day);
    if tx.query_row("SELECT 1 FROM branches WHERE code = ?1", [branch], |_| Ok(())).optional()?.is_none() {
        return Err(StorageError::NotFound { what: "branch", key: branch.to_string() });
    }
    let closed = tx
        .query_row("SELECT 1 FROM closures WHERE branch = ?1 AND day = ?2", params![branch, day], |_| Ok(()))
        .optional()?;
    if closed.is_some() {
        return Err(StorageError::Conflict { what: "closure", key: format!("{branch} {day}") });
    }
    tx.execute(
        "INSERT INTO closures (branch, day, reason, declared_by, declared_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![branch, day, closure.reason, closure.declared_by, now],
    )?;
    let moving = |sql: &str, values: &[&dyn ToSql]| -> Result<Vec<(i64, DateTime<Utc>)>> {
        let mut st = tx.prepare_cached(sql)?;
        let rows = st.query_map(values, |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
        rows.map(|r| {
            let (id, at) = r?;
            Ok((id, time(&at)?))
        })
        .collect()
    };
    let (from, to) = (common::rfc3339(window.0), common::rfc3339(window.1));
    let loans = moving(
        "SELECT id, due_at FROM loans WHERE returned_at IS NULL AND checkout_branch = ?1 \
         AND due_at >= ?2 AND due_at < ?3 ORDER BY id",
        &[&branch, &from, &to],
    )?;
    // No upper bound for deadlines: a closure pushes back every later one.
    let shelf_holds = moving(
        "SELECT id, pickup_by FROM holds WHERE status = 'on_shelf' AND pickup_branch = ?1 \
         AND pickup_by >= ?2 ORDER BY id",
        &[&branch, &from],
    )?;
    let write = decide(closure, &ClosureContext { loans, shelf_holds });
    let mut move_loan = tx.prepare_cached("UPDATE loans SET due_at = ?2 WHERE id = ?1 AND returned_at IS NULL")?;
    for (id, due) in &write.loans {
        move_loan.execute(params![id, common::rfc3339(*due)])?;
    }
    let mut extend = tx.prepare_cached("UPDATE holds SET pickup_by = ?2 WHERE id = ?1 AND status = 'on_shelf'")?;
    for (id, by) in &write.shelf_holds {
        extend.execute(params![id, common::rfc3339(*by)])?;
    }
    Ok(write)
}
