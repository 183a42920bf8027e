use super::{
    account_where, circulating_item, item_from_row, overdue_loans, set_item_status, shelf_item_from_row, time,
    SqliteDatabase,
};
use crate::common::{self, parse_code, ITEM_COLUMNS, SHELF_COLUMNS_AFTER_ITEM};
use crate::holds::{
    HoldId, HoldPlacement, HoldPlacementContext, HoldStatus, HoldStore, HoldTarget, NewHold, NewTransit, OpenTransit,
    QueueContext, QueueWrite, ShelvedHold, StoredHold, Transit, TransitReason, TransitWay,
};
use crate::{BibId, ItemId, PatronId, Result, StorageError};
use catalog::inventory::ShelfItem;
use catalog::{Code, Item};
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{params, Connection, Row, ToSql};

const HOLD_SELECT: &str = "SELECT h.id, h.patron_id, p.card_number, p.category, p.home_branch, h.bib_id, h.item_id, \
     h.pickup_branch, h.placed_at, h.queue_position, h.not_needed_after, h.status, h.suspended_until, \
     h.trapped_item_id, h.pickup_by, h.finished_at FROM holds h JOIN patrons p ON p.id = h.patron_id";

/// [`HOLD_SELECT`]'s columns, for a query that selects more.
const HOLD_COLUMNS: &str = "h.id, h.patron_id, p.card_number, p.category, p.home_branch, h.bib_id, h.item_id, \
     h.pickup_branch, h.placed_at, h.queue_position, h.not_needed_after, h.status, h.suspended_until, \
     h.trapped_item_id, h.pickup_by, h.finished_at";

const OPEN: &str = "h.status IN ('waiting', 'suspended', 'in_transit', 'on_shelf')";

fn date(s: Option<String>) -> Result<Option<NaiveDate>> {
    s.map(|d| common::parse_date("hold date", &d)).transpose()
}

fn hold_from_row(r: &Row<'_>) -> Result<StoredHold> {
    hold_at(r, 0)
}

/// The hold whose columns (as [`HOLD_SELECT`] lists them) start at column `b`.
fn hold_at(r: &Row<'_>, b: usize) -> Result<StoredHold> {
    let status: String = r.get(b + 11)?;
    Ok(StoredHold {
        id: r.get(b)?,
        patron_id: r.get(b + 1)?,
        card_number: r.get(b + 2)?,
        patron_category: parse_code(r.get(b + 3)?)?,
        patron_home_branch: parse_code(r.get(b + 4)?)?,
        bib_id: r.get(b + 5)?,
        item_id: r.get(b + 6)?,
        pickup_branch: parse_code(r.get(b + 7)?)?,
        placed_at: time(&r.get::<_, String>(b + 8)?)?,
        queue_position: r.get(b + 9)?,
        not_needed_after: date(r.get(b + 10)?)?,
        status: HoldStatus::parse(&status)
            .ok_or_else(|| StorageError::Other(format!("unknown hold status {status:?} in the database")))?,
        suspended_until: date(r.get(b + 12)?)?,
        trapped_item_id: r.get(b + 13)?,
        pickup_by: r.get::<_, Option<String>>(b + 14)?.map(|t| time(&t)).transpose()?,
        finished_at: r.get::<_, Option<String>>(b + 15)?.map(|t| time(&t)).transpose()?,
    })
}

fn query_holds(conn: &Connection, sql: &str, key: &dyn ToSql) -> Result<Vec<StoredHold>> {
    let mut st = conn.prepare_cached(sql)?;
    let mut rows = st.query([key])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(hold_from_row(r)?);
    }
    Ok(out)
}

/// The record's open holds in queue order. The writer connection is the lock on SQLite.
pub(super) fn open_holds(conn: &Connection, bib_id: BibId) -> Result<Vec<StoredHold>> {
    query_holds(conn, &format!("{HOLD_SELECT} WHERE h.bib_id = ?1 AND {OPEN} ORDER BY h.queue_position, h.id"), &bib_id)
}

/// Writes the changing columns of holds in their new state.
pub(super) fn write_holds(conn: &Connection, holds: &[StoredHold]) -> Result<()> {
    let mut st = conn.prepare_cached(
        "UPDATE holds SET queue_position = ?1, not_needed_after = ?2, status = ?3, suspended_until = ?4, \
         trapped_item_id = ?5, pickup_by = ?6, finished_at = ?7 WHERE id = ?8",
    )?;
    for h in holds {
        st.execute(params![
            h.queue_position,
            h.not_needed_after.map(common::date_str),
            h.status.as_str(),
            h.suspended_until.map(common::date_str),
            h.trapped_item_id,
            h.pickup_by.map(common::rfc3339),
            h.finished_at.map(common::rfc3339),
            h.id
        ])?;
    }
    Ok(())
}

const TRANSIT_SELECT: &str =
    "SELECT id, item_id, from_branch, to_branch, reason, hold_id, sent_at, received_at FROM transits";

fn transit_from_row(r: &Row<'_>) -> Result<Transit> {
    transit_at(r, 0)
}

/// The transit whose columns (as [`TRANSIT_SELECT`] lists them) start at column `b`.
fn transit_at(r: &Row<'_>, b: usize) -> Result<Transit> {
    let reason: String = r.get(b + 4)?;
    Ok(Transit {
        id: r.get(b)?,
        item_id: r.get(b + 1)?,
        from_branch: parse_code(r.get(b + 2)?)?,
        to_branch: parse_code(r.get(b + 3)?)?,
        reason: TransitReason::parse(&reason)
            .ok_or_else(|| StorageError::Other(format!("unknown transit reason {reason:?} in the database")))?,
        hold_id: r.get(b + 5)?,
        sent_at: time(&r.get::<_, String>(b + 6)?)?,
        received_at: r.get::<_, Option<String>>(b + 7)?.map(|t| time(&t)).transpose()?,
    })
}

pub(super) fn open_transit(conn: &Connection, item_id: ItemId) -> Result<Option<Transit>> {
    let mut st = conn.prepare_cached(&format!("{TRANSIT_SELECT} WHERE item_id = ?1 AND received_at IS NULL"))?;
    let mut rows = st.query([item_id])?;
    rows.next()?.map(transit_from_row).transpose()
}

/// The copy has arrived somewhere: its open transit (if any) ends now.
pub(super) fn close_transit(conn: &Connection, item_id: ItemId, now: &str) -> Result<()> {
    conn.prepare_cached("UPDATE transits SET received_at = ?1 WHERE item_id = ?2 AND received_at IS NULL")?
        .execute(params![now, item_id])?;
    Ok(())
}

pub(super) fn start_transit(conn: &Connection, t: &NewTransit, now: &str) -> Result<()> {
    let reason = if t.hold_id.is_some() { TransitReason::Hold } else { TransitReason::Home };
    conn.prepare_cached(
        "INSERT INTO transits (item_id, from_branch, to_branch, reason, hold_id, sent_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![t.item_id, t.from_branch.as_str(), t.to_branch.as_str(), reason.as_str(), t.hold_id, now])?;
    Ok(())
}

fn get_hold(conn: &Connection, id: HoldId) -> Result<Option<StoredHold>> {
    Ok(query_holds(conn, &format!("{HOLD_SELECT} WHERE h.id = ?1"), &id)?.pop())
}

impl HoldStore for SqliteDatabase {
    fn place_hold(
        &self,
        hold: &NewHold,
        now: DateTime<Utc>,
        decide: &mut dyn FnMut(&HoldPlacementContext) -> Option<HoldPlacement>,
    ) -> Result<Option<StoredHold>> {
        self.write_at(now, |tx, now_text| {
            let card = hold.card_number.trim();
            let patron = account_where(tx, "card_number = ?1", &card)?
                .ok_or_else(|| StorageError::NotFound { what: "patron card", key: card.to_string() })?;
            let exists = |sql: &str, key: &dyn ToSql| -> Result<bool> {
                Ok(tx.prepare_cached(sql)?.query_row([key], |r| r.get::<_, i64>(0))? > 0)
            };
            if !exists("SELECT count(*) FROM branches WHERE code = ?1", &hold.pickup_branch.as_str())? {
                return Err(StorageError::NotFound { what: "branch", key: hold.pickup_branch.to_string() });
            }
            let (bib_id, item) = match &hold.target {
                HoldTarget::Record(bib) => {
                    if !exists("SELECT count(*) FROM bib_records WHERE id = ?1", bib)? {
                        return Err(StorageError::NotFound { what: "record", key: bib.to_string() });
                    }
                    (*bib, None)
                }
                HoldTarget::Item(barcode) => {
                    let (item, _) = circulating_item(tx, barcode)?;
                    (item.bib_id, Some(item))
                }
            };
            let item_types: Vec<Code> = match &item {
                Some(i) => vec![i.item.item_type.clone()],
                None => {
                    let mut st =
                        tx.prepare_cached("SELECT DISTINCT item_type FROM items WHERE bib_id = ?1 ORDER BY item_type")?;
                    let mut rows = st.query([bib_id])?;
                    let mut out = Vec::new();
                    while let Some(r) = rows.next()? {
                        out.push(parse_code(r.get(0)?)?);
                    }
                    out
                }
            };
            let count = |sql: &str, keys: &[&dyn ToSql]| -> Result<u32> {
                let n: i64 = tx.prepare_cached(sql)?.query_row(keys, |r| r.get(0))?;
                Ok(u32::try_from(n).unwrap_or(u32::MAX))
            };
            let holds_placed =
                count(&format!("SELECT count(*) FROM holds h WHERE h.patron_id = ?1 AND {OPEN}"), &[&patron.id])?;
            let already = count(
                &format!("SELECT count(*) FROM holds h WHERE h.patron_id = ?1 AND h.bib_id = ?2 AND {OPEN}"),
                &[&patron.id, &bib_id],
            )?;
            let on_loan = count(
                "SELECT count(*) FROM loans l JOIN items i ON i.id = l.item_id \
                 WHERE l.patron_id = ?1 AND i.bib_id = ?2 AND l.returned_at IS NULL",
                &[&patron.id, &bib_id],
            )?;
            let context = HoldPlacementContext {
                overdue_loans: overdue_loans(tx, patron.id, now_text)?,
                patron,
                bib_id,
                item,
                item_types,
                holds_placed,
                already_holds_title: already > 0,
                has_it_on_loan: on_loan > 0,
            };
            let Some(placement) = decide(&context) else { return Ok(None) };
            let position: i64 = tx
                .prepare_cached(&format!(
                    "SELECT coalesce(max(h.queue_position), 0) + 1 FROM holds h WHERE h.bib_id = ?1 AND {OPEN}"
                ))?
                .query_row([bib_id], |r| r.get(0))?;
            tx.prepare_cached(
                "INSERT INTO holds (patron_id, bib_id, item_id, pickup_branch, placed_at, queue_position, \
                 not_needed_after, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'waiting')",
            )?
            .execute(params![
                context.patron.id,
                bib_id,
                context.item.as_ref().map(|i| i.id),
                hold.pickup_branch.as_str(),
                now_text,
                position,
                hold.not_needed_after.map(common::date_str)
            ])?;
            let id = tx.last_insert_rowid();
            if let Some(o) = &placement.override_entry {
                super::log_override(tx, now_text, "hold", context.patron.id, o)?;
            }
            get_hold(tx, id)
        })
    }

    fn change_queue(
        &self,
        bib_id: BibId,
        now: DateTime<Utc>,
        decide: &mut dyn FnMut(&QueueContext) -> Option<QueueWrite>,
    ) -> Result<Option<QueueContext>> {
        self.write_at(now, |tx, now_text| {
            let holds = open_holds(tx, bib_id)?;
            let mut trapped_items = Vec::new();
            for id in holds.iter().filter(|h| matches!(h.status, HoldStatus::InTransit | HoldStatus::OnShelf)) {
                if let Some(item) = id.trapped_item_id.map(|i| item_by_id(tx, i)).transpose()? {
                    trapped_items.push(item);
                }
            }
            let context = QueueContext { bib_id, holds, trapped_items };
            let Some(write) = decide(&context) else { return Ok(None) };
            write_holds(tx, &write.holds)?;
            for m in &write.items {
                close_transit(tx, m.item_id, now_text)?;
                set_item_status(tx, now_text, m.item_id, m.status, Some(&m.holding_branch))?;
            }
            for t in &write.transits {
                start_transit(tx, t, now_text)?;
            }
            let holds = open_holds(tx, bib_id)?;
            Ok(Some(QueueContext { holds, ..context }))
        })
    }

    fn hold(&self, id: HoldId) -> Result<Option<StoredHold>> {
        self.read(|tx| get_hold(tx, id))
    }

    fn record_holds(&self, bib_id: BibId) -> Result<Vec<StoredHold>> {
        self.read(|tx| open_holds(tx, bib_id))
    }

    fn patron_holds(&self, patron: PatronId) -> Result<Vec<StoredHold>> {
        self.read(|tx| query_holds(tx, &format!("{HOLD_SELECT} WHERE h.patron_id = ?1 ORDER BY h.id DESC"), &patron))
    }

    fn records_with_expiring_holds(&self, now: DateTime<Utc>, today: NaiveDate) -> Result<Vec<BibId>> {
        self.read(|tx| {
            let mut st = tx.prepare_cached(
                "SELECT bib_id FROM holds WHERE status = 'on_shelf' AND pickup_by < ?1 \
                 UNION SELECT bib_id FROM holds WHERE status IN ('waiting', 'suspended') \
                 AND not_needed_after IS NOT NULL AND not_needed_after < ?2 ORDER BY 1",
            )?;
            let mut rows = st.query(params![common::rfc3339(now), common::date_str(today)])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(r.get(0)?);
            }
            Ok(out)
        })
    }

    fn pull_candidates(&self, branch: &Code) -> Result<(Vec<ShelfItem>, Vec<StoredHold>)> {
        self.read(|tx| {
            let sql = format!(
                // From the waiting holds (few) to their records' copies (by the bib_id index),
                // never through every copy on the branch's shelves (a million at a large branch).
                "WITH here AS (SELECT DISTINCT h.bib_id FROM holds h WHERE h.status IN ('waiting', 'suspended') \
                   AND EXISTS (SELECT 1 FROM items i WHERE i.bib_id = h.bib_id AND i.holding_branch = ?1 \
                   AND i.status = 'available')) \
                 SELECT {ITEM_COLUMNS}, {SHELF_COLUMNS_AFTER_ITEM} FROM items i JOIN here ON here.bib_id = i.bib_id \
                 JOIN bib_records b ON b.id = i.bib_id WHERE i.status = 'available' \
                 AND NOT EXISTS (SELECT 1 FROM loans l WHERE l.item_id = i.id AND l.returned_at IS NULL) \
                 ORDER BY i.call_number_sort, i.id"
            );
            let mut st = tx.prepare_cached(&sql)?;
            let mut rows = st.query([branch.as_str()])?;
            let mut items = Vec::new();
            while let Some(r) = rows.next()? {
                items.push(shelf_item_from_row(r)?);
            }
            let mut bibs: Vec<BibId> = items.iter().map(|i| i.item.bib_id).collect();
            bibs.sort_unstable();
            bibs.dedup();
            let mut holds = Vec::new();
            for bib in bibs {
                holds.extend(open_holds(tx, bib)?);
            }
            Ok((items, holds))
        })
    }

    fn transits(&self, item_id: ItemId) -> Result<Vec<Transit>> {
        self.read(|tx| {
            let mut st = tx.prepare_cached(&format!("{TRANSIT_SELECT} WHERE item_id = ?1 ORDER BY id"))?;
            let mut rows = st.query([item_id])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(transit_from_row(r)?);
            }
            Ok(out)
        })
    }

    fn hold_shelf(&self, branch: &Code, lapsed_at: Option<DateTime<Utc>>, limit: u32) -> Result<Vec<ShelvedHold>> {
        // The item and shelf columns first (0..20, as shelf_item_from_row reads them), then the
        // hold's (20..36), then the patron's name.
        let sql = format!(
            "SELECT {ITEM_COLUMNS}, {SHELF_COLUMNS_AFTER_ITEM}, {HOLD_COLUMNS}, p.surname, p.first_name \
             FROM holds h JOIN patrons p ON p.id = h.patron_id JOIN items i ON i.id = h.trapped_item_id \
             JOIN bib_records b ON b.id = i.bib_id \
             WHERE h.status = 'on_shelf' AND h.pickup_branch = ?1 AND h.pickup_by < ?2 \
             ORDER BY h.pickup_by, h.id LIMIT ?3"
        );
        // Without a cut-off every deadline counts: the far future is later than all of them.
        let before = lapsed_at.map_or_else(|| "9999".to_string(), common::rfc3339);
        self.read(|tx| {
            let mut st = tx.prepare_cached(&sql)?;
            let mut rows = st.query(params![branch.as_str(), before, i64::from(limit)])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(ShelvedHold {
                    copy: shelf_item_from_row(r)?,
                    hold: hold_at(r, 20)?,
                    surname: r.get(36)?,
                    first_name: r.get(37)?,
                });
            }
            Ok(out)
        })
    }

    fn open_transits(&self, branch: &Code, way: TransitWay, limit: u32) -> Result<Vec<OpenTransit>> {
        let end = match way {
            TransitWay::Sending => "from_branch",
            TransitWay::Receiving => "to_branch",
        };
        let sql = format!(
            "SELECT {ITEM_COLUMNS}, {SHELF_COLUMNS_AFTER_ITEM}, t.id, t.item_id, t.from_branch, t.to_branch, \
             t.reason, t.hold_id, t.sent_at, t.received_at, p.card_number \
             FROM transits t JOIN items i ON i.id = t.item_id JOIN bib_records b ON b.id = i.bib_id \
             LEFT JOIN holds h ON h.id = t.hold_id LEFT JOIN patrons p ON p.id = h.patron_id \
             WHERE t.{end} = ?1 AND t.received_at IS NULL ORDER BY t.sent_at, t.id LIMIT ?2"
        );
        self.read(|tx| {
            let mut st = tx.prepare_cached(&sql)?;
            let mut rows = st.query(params![branch.as_str(), i64::from(limit)])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(OpenTransit {
                    copy: shelf_item_from_row(r)?,
                    transit: transit_at(r, 20)?,
                    card_number: r.get(28)?,
                });
            }
            Ok(out)
        })
    }
}

fn item_by_id(conn: &Connection, id: ItemId) -> Result<Item> {
    let mut st = conn.prepare_cached(&format!("SELECT {ITEM_COLUMNS} FROM items i WHERE i.id = ?1"))?;
    let mut rows = st.query([id])?;
    let row = rows.next()?.ok_or_else(|| StorageError::NotFound { what: "item", key: id.to_string() })?;
    item_from_row(row)
}
