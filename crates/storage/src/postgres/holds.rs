use super::{
    account_by_card, item_from_row, lock_item, overdue_loans, set_item_status, shelf_item_from_row, Cx,
    PostgresDatabase, Tx,
};
use crate::common::{parse_code, ITEM_COLUMNS, SHELF_COLUMNS_AFTER_ITEM};
use crate::holds::{
    HoldId, HoldPlacement, HoldPlacementContext, HoldStatus, HoldStore, HoldTarget, NewHold, NewTransit, OpenTransit,
    QueueContext, QueueWrite, ShelvedHold, StoredHold, Transit, TransitReason, TransitWay,
};
use crate::{BibId, ItemId, PatronId, Result, StorageError};
use ::postgres::{GenericClient, Row};
use catalog::inventory::ShelfItem;
use catalog::Code;
use chrono::{DateTime, NaiveDate, Utc};

const HOLD_SELECT: &str = "SELECT h.id, h.patron_id, p.card_number, p.category, p.home_branch, h.bib_id, h.item_id, \
     h.pickup_branch, h.placed_at, h.queue_position, h.not_needed_after, h.status, h.suspended_until, \
     h.trapped_item_id, h.pickup_by, h.finished_at FROM holds h JOIN patrons p ON p.id = h.patron_id";

/// [`HOLD_SELECT`]'s columns, for a query that selects more.
const HOLD_COLUMNS: &str = "h.id, h.patron_id, p.card_number, p.category, p.home_branch, h.bib_id, h.item_id, \
     h.pickup_branch, h.placed_at, h.queue_position, h.not_needed_after, h.status, h.suspended_until, \
     h.trapped_item_id, h.pickup_by, h.finished_at";

const OPEN: &str = "h.status IN ('waiting', 'suspended', 'in_transit', 'on_shelf')";

fn hold_from_row(r: &Row) -> Result<StoredHold> {
    hold_at(r, 0)
}

/// The hold whose columns (as [`HOLD_SELECT`] lists them) start at column `b`.
fn hold_at(r: &Row, b: usize) -> Result<StoredHold> {
    let status: String = r.try_get(b + 11)?;
    Ok(StoredHold {
        id: r.try_get(b)?,
        patron_id: r.try_get(b + 1)?,
        card_number: r.try_get(b + 2)?,
        patron_category: parse_code(r.try_get(b + 3)?)?,
        patron_home_branch: parse_code(r.try_get(b + 4)?)?,
        bib_id: r.try_get(b + 5)?,
        item_id: r.try_get(b + 6)?,
        pickup_branch: parse_code(r.try_get(b + 7)?)?,
        placed_at: r.try_get(b + 8)?,
        queue_position: r.try_get(b + 9)?,
        not_needed_after: r.try_get(b + 10)?,
        status: HoldStatus::parse(&status)
            .ok_or_else(|| StorageError::Other(format!("unknown hold status {status:?} in the database")))?,
        suspended_until: r.try_get(b + 12)?,
        trapped_item_id: r.try_get(b + 13)?,
        pickup_by: r.try_get(b + 14)?,
        finished_at: r.try_get(b + 15)?,
    })
}

/// The record's open holds in queue order; `lock` takes their rows for the transaction, so two
/// writers of one queue (two copies checked in at once) take turns.
pub(super) fn open_holds<C: GenericClient>(cx: &mut Cx<'_, C>, bib_id: BibId, lock: bool) -> Result<Vec<StoredHold>> {
    let sql = format!(
        "{HOLD_SELECT} WHERE h.bib_id = $1 AND {OPEN} ORDER BY h.queue_position, h.id{}",
        if lock { " FOR UPDATE OF h" } else { "" }
    );
    cx.query(&sql, &[&bib_id])?.iter().map(hold_from_row).collect()
}

pub(super) fn write_holds(w: &mut Tx<'_, '_>, holds: &[StoredHold]) -> Result<()> {
    for h in holds {
        w.cx.execute(
            "UPDATE holds SET queue_position = $1, not_needed_after = $2, status = $3, suspended_until = $4, \
             trapped_item_id = $5, pickup_by = $6, finished_at = $7 WHERE id = $8",
            &[
                &h.queue_position,
                &h.not_needed_after,
                &h.status.as_str(),
                &h.suspended_until,
                &h.trapped_item_id,
                &h.pickup_by,
                &h.finished_at,
                &h.id,
            ],
        )?;
    }
    Ok(())
}

const TRANSIT_SELECT: &str =
    "SELECT id, item_id, from_branch, to_branch, reason, hold_id, sent_at, received_at FROM transits";

fn transit_from_row(r: &Row) -> Result<Transit> {
    transit_at(r, 0)
}

/// The transit whose columns (as [`TRANSIT_SELECT`] lists them) start at column `b`.
fn transit_at(r: &Row, b: usize) -> Result<Transit> {
    let reason: String = r.try_get(b + 4)?;
    Ok(Transit {
        id: r.try_get(b)?,
        item_id: r.try_get(b + 1)?,
        from_branch: parse_code(r.try_get(b + 2)?)?,
        to_branch: parse_code(r.try_get(b + 3)?)?,
        reason: TransitReason::parse(&reason)
            .ok_or_else(|| StorageError::Other(format!("unknown transit reason {reason:?} in the database")))?,
        hold_id: r.try_get(b + 5)?,
        sent_at: r.try_get(b + 6)?,
        received_at: r.try_get(b + 7)?,
    })
}

pub(super) fn open_transit<C: GenericClient>(cx: &mut Cx<'_, C>, item_id: ItemId) -> Result<Option<Transit>> {
    cx.query_opt(&format!("{TRANSIT_SELECT} WHERE item_id = $1 AND received_at IS NULL"), &[&item_id])?
        .map(|r| transit_from_row(&r))
        .transpose()
}

/// The copy has arrived somewhere: its open transit (if any) ends now.
pub(super) fn close_transit(w: &mut Tx<'_, '_>, item_id: ItemId, now: DateTime<Utc>) -> Result<()> {
    w.cx.execute("UPDATE transits SET received_at = $1 WHERE item_id = $2 AND received_at IS NULL", &[&now, &item_id])?;
    Ok(())
}

pub(super) fn start_transit(w: &mut Tx<'_, '_>, t: &NewTransit, now: DateTime<Utc>) -> Result<()> {
    let reason = if t.hold_id.is_some() { TransitReason::Hold } else { TransitReason::Home };
    w.cx.execute(
        "INSERT INTO transits (item_id, from_branch, to_branch, reason, hold_id, sent_at) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&t.item_id, &t.from_branch.as_str(), &t.to_branch.as_str(), &reason.as_str(), &t.hold_id, &now],
    )?;
    Ok(())
}

fn get_hold<C: GenericClient>(cx: &mut Cx<'_, C>, id: HoldId) -> Result<Option<StoredHold>> {
    cx.query_opt(&format!("{HOLD_SELECT} WHERE h.id = $1"), &[&id])?.map(|r| hold_from_row(&r)).transpose()
}

fn count<C: GenericClient>(
    cx: &mut Cx<'_, C>,
    sql: &str,
    keys: &[&(dyn ::postgres::types::ToSql + Sync)],
) -> Result<u32> {
    let n: i64 = cx.query_one(sql, keys)?.try_get(0)?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

impl HoldStore for PostgresDatabase {
    fn place_hold(
        &self,
        hold: &NewHold,
        now: DateTime<Utc>,
        decide: &mut dyn FnMut(&HoldPlacementContext) -> Option<HoldPlacement>,
    ) -> Result<Option<StoredHold>> {
        let card = hold.card_number.trim();
        self.write(|w| {
            let patron = account_by_card(&mut w.cx, card)?
                .ok_or_else(|| StorageError::NotFound { what: "patron card", key: card.to_string() })?;
            // The patron's row is the lock on their count of holds.
            w.cx.execute("SELECT 1 FROM patrons WHERE id = $1 FOR UPDATE", &[&patron.id])?;
            if count(&mut w.cx, "SELECT count(*) FROM branches WHERE code = $1", &[&hold.pickup_branch.as_str()])? == 0 {
                return Err(StorageError::NotFound { what: "branch", key: hold.pickup_branch.to_string() });
            }
            let (bib_id, item) = match &hold.target {
                HoldTarget::Record(bib) => {
                    if count(&mut w.cx, "SELECT count(*) FROM bib_records WHERE id = $1", &[bib])? == 0 {
                        return Err(StorageError::NotFound { what: "record", key: bib.to_string() });
                    }
                    (*bib, None)
                }
                HoldTarget::Item(barcode) => {
                    let (item, _) = lock_item(&mut w.cx, barcode)?;
                    (item.bib_id, Some(item))
                }
            };
            let item_types: Vec<Code> = match &item {
                Some(i) => vec![i.item.item_type.clone()],
                None => w
                    .cx
                    .query("SELECT DISTINCT item_type FROM items WHERE bib_id = $1 ORDER BY item_type", &[&bib_id])?
                    .iter()
                    .map(|r| parse_code(r.try_get(0)?))
                    .collect::<Result<_>>()?,
            };
            let holds_placed =
                count(&mut w.cx, &format!("SELECT count(*) FROM holds h WHERE h.patron_id = $1 AND {OPEN}"), &[&patron.id])?;
            let already = count(
                &mut w.cx,
                &format!("SELECT count(*) FROM holds h WHERE h.patron_id = $1 AND h.bib_id = $2 AND {OPEN}"),
                &[&patron.id, &bib_id],
            )?;
            let on_loan = count(
                &mut w.cx,
                "SELECT count(*) FROM loans l JOIN items i ON i.id = l.item_id \
                 WHERE l.patron_id = $1 AND i.bib_id = $2 AND l.returned_at IS NULL",
                &[&patron.id, &bib_id],
            )?;
            let context = HoldPlacementContext {
                overdue_loans: overdue_loans(&mut w.cx, patron.id, now)?,
                patron,
                bib_id,
                item,
                item_types,
                holds_placed,
                already_holds_title: already > 0,
                has_it_on_loan: on_loan > 0,
            };
            let Some(placement) = decide(&context) else { return Ok(None) };
            let position: i64 = w
                .cx
                .query_one(
                    &format!("SELECT coalesce(max(h.queue_position), 0)::int8 + 1 FROM holds h WHERE h.bib_id = $1 AND {OPEN}"),
                    &[&bib_id],
                )?
                .try_get(0)?;
            let id: HoldId = w
                .cx
                .query_one(
                    "INSERT INTO holds (patron_id, bib_id, item_id, pickup_branch, placed_at, queue_position, \
                     not_needed_after, status) VALUES ($1, $2, $3, $4, $5, $6, $7, 'waiting') RETURNING id",
                    &[
                        &context.patron.id,
                        &bib_id,
                        &context.item.as_ref().map(|i| i.id),
                        &hold.pickup_branch.as_str(),
                        &now,
                        &position,
                        &hold.not_needed_after,
                    ],
                )?
                .try_get(0)?;
            if let Some(o) = &placement.override_entry {
                super::log_override(w, now, "hold", context.patron.id, o)?;
            }
            get_hold(&mut w.cx, id)
        })
    }

    fn change_queue(
        &self,
        bib_id: BibId,
        now: DateTime<Utc>,
        decide: &mut dyn FnMut(&QueueContext) -> Option<QueueWrite>,
    ) -> Result<Option<QueueContext>> {
        self.write(|w| {
            // Copies first, then the queue: the order check-in takes them in.
            let trapped_items =
                w.cx.query(
                    &format!(
                        "SELECT {ITEM_COLUMNS} FROM items i WHERE i.id IN (SELECT h.trapped_item_id FROM holds h \
                         WHERE h.bib_id = $1 AND h.status IN ('in_transit', 'on_shelf')) ORDER BY i.id FOR UPDATE OF i"
                    ),
                    &[&bib_id],
                )?
                .iter()
                .map(item_from_row)
                .collect::<Result<Vec<_>>>()?;
            let holds = open_holds(&mut w.cx, bib_id, true)?;
            let context = QueueContext { bib_id, holds, trapped_items };
            let Some(write) = decide(&context) else { return Ok(None) };
            write_holds(w, &write.holds)?;
            for m in &write.items {
                close_transit(w, m.item_id, now)?;
                set_item_status(w, m.item_id, m.status, &m.holding_branch)?;
            }
            for t in &write.transits {
                start_transit(w, t, now)?;
            }
            let holds = open_holds(&mut w.cx, bib_id, false)?;
            Ok(Some(QueueContext { holds, ..context.clone() }))
        })
    }

    fn hold(&self, id: HoldId) -> Result<Option<StoredHold>> {
        self.read(|cx| get_hold(cx, id))
    }

    fn record_holds(&self, bib_id: BibId) -> Result<Vec<StoredHold>> {
        self.read(|cx| open_holds(cx, bib_id, false))
    }

    fn patron_holds(&self, patron: PatronId) -> Result<Vec<StoredHold>> {
        self.read(|cx| {
            cx.query(&format!("{HOLD_SELECT} WHERE h.patron_id = $1 ORDER BY h.id DESC"), &[&patron])?
                .iter()
                .map(hold_from_row)
                .collect()
        })
    }

    fn records_with_expiring_holds(&self, now: DateTime<Utc>, today: NaiveDate) -> Result<Vec<BibId>> {
        self.read(|cx| {
            cx.query(
                "SELECT bib_id FROM holds WHERE status = 'on_shelf' AND pickup_by < $1 \
                 UNION SELECT bib_id FROM holds WHERE status IN ('waiting', 'suspended') \
                 AND not_needed_after IS NOT NULL AND not_needed_after < $2 ORDER BY 1",
                &[&now, &today],
            )?
            .iter()
            .map(|r| Ok(r.try_get(0)?))
            .collect()
        })
    }

    fn pull_candidates(&self, branch: &Code) -> Result<(Vec<ShelfItem>, Vec<StoredHold>)> {
        // Two statements, not one snapshot: a hold placed between them is missed until the next
        // look at the list, which is all a list of copies to fetch needs.
        self.read(|cx| {
            let sql = format!(
                // From the waiting holds (few) to their records' copies (by the bib_id index),
                // never through every copy on the branch's shelves (a million at a large branch).
                "WITH here AS (SELECT DISTINCT h.bib_id FROM holds h WHERE h.status IN ('waiting', 'suspended') \
                   AND EXISTS (SELECT 1 FROM items i WHERE i.bib_id = h.bib_id AND i.holding_branch = $1 \
                   AND i.status = 'available')) \
                 SELECT {ITEM_COLUMNS}, {SHELF_COLUMNS_AFTER_ITEM} FROM items i JOIN here ON here.bib_id = i.bib_id \
                 JOIN bib_records b ON b.id = i.bib_id WHERE i.status = 'available' \
                 AND NOT EXISTS (SELECT 1 FROM loans l WHERE l.item_id = i.id AND l.returned_at IS NULL) \
                 ORDER BY i.call_number_sort, i.id"
            );
            let items =
                cx.query(&sql, &[&branch.as_str()])?.iter().map(shelf_item_from_row).collect::<Result<Vec<_>>>()?;
            let mut bibs: Vec<BibId> = items.iter().map(|i| i.item.bib_id).collect();
            bibs.sort_unstable();
            bibs.dedup();
            let holds = cx
                .query(
                    &format!(
                        "{HOLD_SELECT} WHERE h.bib_id = ANY($1) AND {OPEN} ORDER BY h.bib_id, h.queue_position, h.id"
                    ),
                    &[&bibs],
                )?
                .iter()
                .map(hold_from_row)
                .collect::<Result<Vec<_>>>()?;
            Ok((items, holds))
        })
    }

    fn transits(&self, item_id: ItemId) -> Result<Vec<Transit>> {
        self.read(|cx| {
            cx.query(&format!("{TRANSIT_SELECT} WHERE item_id = $1 ORDER BY id"), &[&item_id])?
                .iter()
                .map(transit_from_row)
                .collect()
        })
    }
    fn hold_shelf(&self, branch: &Code, lapsed_at: Option<DateTime<Utc>>, limit: u32) -> Result<Vec<ShelvedHold>> {
        // The item and shelf columns first (0..20, as shelf_item_from_row reads them), then the
        // hold's (20..36), then the patron's name.
        let sql = format!(
            "SELECT {ITEM_COLUMNS}, {SHELF_COLUMNS_AFTER_ITEM}, {HOLD_COLUMNS}, p.surname, p.first_name \
             FROM holds h JOIN patrons p ON p.id = h.patron_id JOIN items i ON i.id = h.trapped_item_id \
             JOIN bib_records b ON b.id = i.bib_id \
             WHERE h.status = 'on_shelf' AND h.pickup_branch = $1 AND h.pickup_by < $2 \
             ORDER BY h.pickup_by, h.id LIMIT $3"
        );
        // Without a cut-off every deadline counts: the year 9999 is later than all of them.
        let before = lapsed_at.unwrap_or(DateTime::<Utc>::from_timestamp(253_402_300_799, 0).unwrap_or_default());
        self.read(|cx| {
            cx.query(&sql, &[&branch.as_str(), &before, &i64::from(limit)])?
                .iter()
                .map(|r| {
                    Ok(ShelvedHold {
                        copy: shelf_item_from_row(r)?,
                        hold: hold_at(r, 20)?,
                        surname: r.try_get(36)?,
                        first_name: r.try_get(37)?,
                    })
                })
                .collect()
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
             WHERE t.{end} = $1 AND t.received_at IS NULL ORDER BY t.sent_at, t.id LIMIT $2"
        );
        self.read(|cx| {
            cx.query(&sql, &[&branch.as_str(), &i64::from(limit)])?
                .iter()
                .map(|r| {
                    Ok(OpenTransit {
                        copy: shelf_item_from_row(r)?,
                        transit: transit_at(r, 20)?,
                        card_number: r.try_get(28)?,
                    })
                })
                .collect()
        })
    }
}
