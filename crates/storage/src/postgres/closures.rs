use super::{Cx, PostgresDatabase};
use crate::closures::{Closure, ClosureContext, ClosureStore, ClosureWrite};
use crate::common::parse_code;
use crate::{Result, StorageError};
use chrono::{DateTime, Utc};
use postgres::GenericClient;

impl ClosureStore for PostgresDatabase {
    fn declare_closures(
        &self,
        closures: &[Closure],
        window: (DateTime<Utc>, DateTime<Utc>),
        decide: &mut dyn FnMut(&Closure, &ClosureContext) -> ClosureWrite,
    ) -> Result<Vec<ClosureWrite>> {
        self.write(|w| closures.iter().map(|closure| declare(&mut w.cx, closure, window, decide)).collect())
    }

    fn closures(&self) -> Result<Vec<Closure>> {
        self.read(|cx| {
            cx.query("SELECT branch, day, reason, declared_by, declared_at FROM closures ORDER BY day, branch", &[])?
                .iter()
                .map(|r| {
                    Ok(Closure {
                        branch: parse_code(r.try_get(0)?)?,
                        day: r.try_get(1)?,
                        reason: r.try_get(2)?,
                        declared_by: r.try_get(3)?,
                        declared_at: r.try_get(4)?,
                    })
                })
                .collect()
        })
    }
}

fn declare<C: GenericClient>(
    cx: &mut Cx<'_, C>,
    closure: &Closure,
    window: (DateTime<Utc>, DateTime<Utc>),
    decide: &mut dyn FnMut(&Closure, &ClosureContext) -> ClosureWrite,
) -> Result<ClosureWrite> {
    let branch = closure.branch.as_str();
    // The branch row locked: two closures of one branch at once queue here.
    if cx.query_opt("SELECT 1 FROM branches WHERE code = $1 FOR UPDATE", &[&branch])?.is_none() {
        return Err(StorageError::NotFound { what: "branch", key: branch.to_string() });
    }
    if cx.query_opt("SELECT 1 FROM closures WHERE branch = $1 AND day = $2", &[&branch, &closure.day])?.is_some() {
        return Err(StorageError::Conflict { what: "closure", key: format!("{branch} {}", closure.day) });
    }
    cx.execute(
        "INSERT INTO closures (branch, day, reason, declared_by, declared_at) VALUES ($1, $2, $3, $4, $5)",
        &[&branch, &closure.day, &closure.reason, &closure.declared_by, &closure.declared_at],
    )?;
    let pairs = |rows: Vec<postgres::Row>| -> Result<Vec<(i64, DateTime<Utc>)>> {
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    };
    // Locked, so a renewal or check-in of one of them waits for the closure.
    let loans = pairs(cx.query(
        "SELECT id, due_at FROM loans WHERE returned_at IS NULL AND checkout_branch = $1 \
         AND due_at >= $2 AND due_at < $3 ORDER BY id FOR UPDATE",
        &[&branch, &window.0, &window.1],
    )?)?;
    let shelf_holds = pairs(cx.query(
        "SELECT id, pickup_by FROM holds WHERE status = 'on_shelf' AND pickup_branch = $1 \
         AND pickup_by >= $2 ORDER BY id FOR UPDATE",
        &[&branch, &window.0],
    )?)?;
    let write = decide(closure, &ClosureContext { loans, shelf_holds });
    for (id, due) in &write.loans {
        cx.execute("UPDATE loans SET due_at = $2 WHERE id = $1 AND returned_at IS NULL", &[id, due])?;
    }
    for (id, by) in &write.shelf_holds {
        cx.execute("UPDATE holds SET pickup_by = $2 WHERE id = $1 AND status = 'on_shelf'", &[id, by])?;
    }
    Ok(write)
}
