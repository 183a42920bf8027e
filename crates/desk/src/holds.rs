//! Holds at the desk: placing, cancelling, suspending, resuming and moving holds, the pull list,
//! and the nightly hold-shelf sweep. Check-in, checkout and renewal consult the queue too (in
//! `lib.rs`), with the helpers here.
//!
//! The queue is stored as rows ([`StoredHold`]); each operation rebuilds the `circulation`
//! crate's [`HoldQueue`] from the rows storage read under lock, lets it decide, and hands
//! storage back the rows that changed. Queue positions are renumbered 1..n over the open holds
//! on every write, so "move to position 2" means the same thing to the clerk and the table.

use crate::{item_snapshot, Desk, DeskError};
use catalog::inventory::ShelfItem;
use catalog::{Code, Item, ItemStatus};
use chrono::{DateTime, NaiveDate, Utc};
use circulation::{
    BranchContext, CheckInRequest, Decision, Hold, HoldId, HoldQueue, HoldRequest, HoldState, ItemId, PatronId,
    RecordId, Refusal, RefusalCode, Routing, Rule,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use storage::holds::{HoldPlacement, HoldStatus, ItemMove, NewHold, NewTransit, QueueContext, QueueWrite, StoredHold};
use storage::{BibId, Database, StorageError};

/// The hold-shelf days when no rule speaks (a copy freed with nobody waiting never uses them).
const DEFAULT_SHELF_DAYS: u32 = 7;

/// A change staff make to a hold (`PATCH /holds/{id}`); `None` leaves that part alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HoldChange {
    /// `Some(until)`: suspend (until that day, or `None` until resumed).
    pub suspend: Option<Option<NaiveDate>>,
    pub resume: bool,
    /// The new place in the queue, 1 first; past the end means last.
    pub position: Option<usize>,
    pub not_needed_after: Option<Option<NaiveDate>>,
}

/// A copy to fetch from the shelf for a hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullListEntry {
    pub shelf: ShelfItem,
    /// The hold it would fill (the first eligible one no copy earlier on the list took).
    pub hold: StoredHold,
}

/// What the nightly hold-shelf sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShelfSweep {
    pub expired: Vec<storage::holds::HoldId>,
    /// Copies freed from the hold shelf and where each went.
    pub routed: Vec<(storage::ItemId, Routing)>,
}

pub(crate) fn to_hold(h: &StoredHold) -> Hold {
    let finished = h.finished_at.unwrap_or(h.placed_at);
    let item = ItemId(h.trapped_item_id.unwrap_or_default());
    let state = match h.status {
        HoldStatus::Waiting => HoldState::Waiting,
        HoldStatus::Suspended => HoldState::Suspended { until: h.suspended_until },
        HoldStatus::InTransit => HoldState::InTransit { item },
        HoldStatus::OnShelf => HoldState::OnShelf { item, pickup_by: h.pickup_by.unwrap_or(h.placed_at) },
        HoldStatus::Filled => HoldState::Filled { at: finished },
        HoldStatus::Cancelled => HoldState::Cancelled { at: finished },
        HoldStatus::Expired => HoldState::Expired { at: finished },
    };
    Hold {
        id: HoldId(h.id),
        patron: PatronId(h.patron_id),
        record: RecordId(h.bib_id),
        item: h.item_id.map(ItemId),
        pickup_branch: h.pickup_branch.clone(),
        placed_at: h.placed_at,
        not_needed_after: h.not_needed_after,
        state,
    }
}

/// The stored row in the state the queue gave the hold.
fn apply(old: &StoredHold, new: &Hold, position: i64) -> StoredHold {
    let mut s = old.clone();
    s.queue_position = position;
    s.not_needed_after = new.not_needed_after;
    s.suspended_until = None;
    s.pickup_by = None;
    match new.state {
        HoldState::Waiting => {
            s.status = HoldStatus::Waiting;
            s.trapped_item_id = None;
        }
        HoldState::Suspended { until } => {
            s.status = HoldStatus::Suspended;
            s.suspended_until = until;
            s.trapped_item_id = None;
        }
        HoldState::InTransit { item } => {
            s.status = HoldStatus::InTransit;
            s.trapped_item_id = Some(item.0);
        }
        HoldState::OnShelf { item, pickup_by } => {
            s.status = HoldStatus::OnShelf;
            s.trapped_item_id = Some(item.0);
            s.pickup_by = Some(pickup_by);
        }
        // A filled hold keeps the copy that filled it, as history.
        HoldState::Filled { at } => {
            s.status = HoldStatus::Filled;
            s.finished_at = Some(at);
        }
        HoldState::Cancelled { at } => {
            s.status = HoldStatus::Cancelled;
            s.trapped_item_id = None;
            s.finished_at = Some(at);
        }
        HoldState::Expired { at } => {
            s.status = HoldStatus::Expired;
            s.trapped_item_id = None;
            s.finished_at = Some(at);
        }
    }
    s
}

pub(crate) fn queue_of(bib_id: BibId, holds: &[StoredHold]) -> Result<HoldQueue, DeskError> {
    HoldQueue::from_holds(RecordId(bib_id), holds.iter().map(to_hold).collect()).map_err(DeskError::from)
}

/// The rows whose state the queue changed, with open holds renumbered 1..n in queue order.
pub(crate) fn changed(before: &[StoredHold], queue: &HoldQueue) -> Vec<StoredHold> {
    let mut position = 0;
    let mut out = Vec::new();
    for hold in queue.holds() {
        let Some(old) = before.iter().find(|h| h.id == hold.id.0) else { continue };
        let place = if hold.state.is_finished() {
            old.queue_position
        } else {
            position += 1;
            position
        };
        let new = apply(old, hold, place);
        if new != *old {
            out.push(new);
        }
    }
    out
}

impl Desk {
    /// The rule for a hold taking a copy: resolved as for a checkout at the pickup branch.
    pub(crate) fn hold_rule(&self, h: &StoredHold, item_type: &Code, item_home: &Code) -> Rule {
        let where_ = BranchContext {
            checkout_branch: h.pickup_branch.clone(),
            item_home_branch: item_home.clone(),
            patron_home_branch: h.patron_home_branch.clone(),
        };
        self.circulation().matrix.resolve_for(&where_, &h.patron_category, item_type).rule
    }

    /// The rule's say on whether each hold may take `item`.
    pub(crate) fn hold_allowed<'a>(&'a self, holds: &'a [StoredHold], item: &'a Item) -> impl Fn(&Hold) -> bool + 'a {
        move |h: &Hold| {
            holds
                .iter()
                .find(|s| s.id == h.id.0)
                .is_some_and(|s| self.hold_rule(s, &item.item.item_type, &item.item.home_branch).hold_allowed)
        }
    }

    /// The hold-shelf days for the hold with a claim on `item` today (the rule of its patron).
    pub(crate) fn shelf_days(&self, holds: &[StoredHold], queue: &HoldQueue, item: &Item, today: NaiveDate) -> u32 {
        let allowed = self.hold_allowed(holds, item);
        queue
            .claim_on(ItemId(item.id), today, allowed)
            .and_then(|c| holds.iter().find(|s| s.id == c.hold.0))
            .map_or(DEFAULT_SHELF_DAYS, |s| {
                self.hold_rule(s, &item.item.item_type, &item.item.home_branch).hold_shelf_days
            })
    }

    /// Routes a copy freed from the hold shelf where it sits, as a check-in there would: the
    /// next patron's hold, home in transit, or back on the shelf.
    fn reroute(
        &self,
        queue: &mut HoldQueue,
        holds: &[StoredHold],
        item: &Item,
        now: DateTime<Utc>,
    ) -> Result<(ItemMove, Option<NewTransit>, Routing), DeskError> {
        let here = item.item.holding_branch.clone();
        let c = self.circulation();
        let calendar = c.calendar(&here);
        let snapshot = item_snapshot(item, true, None);
        let request = CheckInRequest {
            item: &snapshot,
            loan: None,
            here: &here,
            calendar,
            fine_calendar: calendar,
            returned_at: now,
            now,
            hold_shelf_days: self.shelf_days(holds, queue, item, calendar.local_date(now)),
        };
        let routing = circulation::check_in(&request, queue, self.hold_allowed(holds, item))?.routing;
        let (status, transit) = match &routing {
            Routing::Shelve => (ItemStatus::Available, None),
            Routing::HoldShelf { .. } => (ItemStatus::OnHoldShelf, None),
            Routing::Transit { to, hold } => (
                ItemStatus::InTransit,
                Some(NewTransit {
                    item_id: item.id,
                    from_branch: here.clone(),
                    to_branch: to.clone(),
                    hold_id: hold.map(|h| h.0),
                }),
            ),
        };
        Ok((ItemMove { item_id: item.id, status, holding_branch: here }, transit, routing))
    }

    /// Places a hold (title-level on a record or item-level on a copy) at the end of the queue,
    /// when the rule allows it: every refusal comes back with its code.
    pub fn place_hold(&self, db: &dyn Database, hold: &NewHold, now: DateTime<Utc>) -> Result<StoredHold, DeskError> {
        self.place_hold_with(db, hold, now, None)
    }

    /// [`Desk::place_hold`], going past overridable refusals (a patron at the hold limit, a
    /// blocked card) when staff with the Override permission give their reason; the override
    /// is logged in the hold's transaction.
    pub fn place_hold_with(
        &self,
        db: &dyn Database,
        hold: &NewHold,
        now: DateTime<Utc>,
        with: Option<&crate::Override>,
    ) -> Result<StoredHold, DeskError> {
        let c = self.circulation();
        let mut refused: Option<DeskError> = None;
        let placed = db.place_hold(hold, now, &mut |ctx| {
            let patron = crate::patron_snapshot(&ctx.patron, ctx.overdue_loans);
            let item_home = ctx.item.as_ref().map_or(&hold.pickup_branch, |i| &i.item.home_branch);
            let where_ = BranchContext {
                checkout_branch: hold.pickup_branch.clone(),
                item_home_branch: item_home.clone(),
                patron_home_branch: ctx.patron.home_branch.clone(),
            };
            let rules: Vec<Rule> =
                ctx.item_types.iter().map(|t| c.matrix.resolve_for(&where_, &ctx.patron.category, t).rule).collect();
            // A title-level hold may be filled by any copy: the first type whose rule allows holds governs.
            let Some(rule) = rules.iter().find(|r| r.hold_allowed).or(rules.first()) else {
                refused = Some(DeskError::Refused(vec![Refusal::new(
                    RefusalCode::HoldsNotAllowed,
                    "This title has no copies that could fill a hold.",
                )]));
                return None;
            };
            let request = HoldRequest {
                patron: &patron,
                rule,
                policy: &c.policy,
                holds_placed: ctx.holds_placed,
                already_holds_title: ctx.already_holds_title,
                has_it_on_loan: ctx.has_it_on_loan,
                now,
                calendar: c.calendar(&hold.pickup_branch),
            };
            let decision: Decision<()> = circulation::decide_hold_placement(&request);
            match crate::override_entry(decision, with) {
                Ok(((), override_entry)) => Some(HoldPlacement { override_entry }),
                Err(e) => {
                    refused = Some(e);
                    None
                }
            }
        })?;
        match (placed, refused) {
            (Some(h), _) => Ok(h),
            (None, Some(e)) => Err(e),
            (None, None) => Err(DeskError::Storage(StorageError::Other("the hold decision was not asked".into()))),
        }
    }

    /// One change to a record's queue, decided by `f` over the queue and its context; `None`
    /// from `f` writes nothing. Returns the record's open holds after.
    fn with_queue(
        &self,
        db: &dyn Database,
        bib_id: BibId,
        now: DateTime<Utc>,
        mut f: impl FnMut(&QueueContext, &mut HoldQueue, &mut QueueWrite) -> Result<bool, DeskError>,
    ) -> Result<Option<Vec<StoredHold>>, DeskError> {
        let mut failed = None;
        let after = db.change_queue(bib_id, now, &mut |ctx| {
            let mut run = || -> Result<Option<QueueWrite>, DeskError> {
                let mut queue = queue_of(bib_id, &ctx.holds)?;
                let mut write = QueueWrite::default();
                if !f(ctx, &mut queue, &mut write)? {
                    return Ok(None);
                }
                write.holds = changed(&ctx.holds, &queue);
                Ok(Some(write))
            };
            run().unwrap_or_else(|e| {
                failed = Some(e);
                None
            })
        })?;
        match failed {
            Some(e) => Err(e),
            None => Ok(after.map(|c| c.holds)),
        }
    }

    fn open_hold(db: &dyn Database, id: storage::holds::HoldId) -> Result<StoredHold, DeskError> {
        db.hold(id)?.ok_or_else(|| DeskError::NotFound { what: "hold", key: id.to_string() })
    }

    /// The hold as it is now (after a change).
    fn reread(db: &dyn Database, id: storage::holds::HoldId) -> Result<StoredHold, DeskError> {
        Self::open_hold(db, id)
    }

    /// Cancels a hold. A copy on the hold shelf for it passes to the next patron (or goes
    /// back); a copy in transit for it travels on and is routed when checked in where it lands.
    pub fn cancel_hold(
        &self,
        db: &dyn Database,
        id: storage::holds::HoldId,
        now: DateTime<Utc>,
    ) -> Result<StoredHold, DeskError> {
        let hold = Self::open_hold(db, id)?;
        self.with_queue(db, hold.bib_id, now, |ctx, queue, write| {
            let was_on_shelf = ctx.holds.iter().find(|h| h.id == id).map(|h| h.status == HoldStatus::OnShelf);
            let Some(on_shelf) = was_on_shelf else {
                return Err(circulation::HoldError::WrongState(HoldId(id)).into());
            };
            let freed = queue.cancel(HoldId(id), now)?;
            if let (Some(item), true) = (freed, on_shelf) {
                if let Some(copy) = ctx.trapped_items.iter().find(|i| i.id == item.0) {
                    let (m, t, _) = self.reroute(queue, &ctx.holds, copy, now)?;
                    write.items.push(m);
                    write.transits.extend(t);
                }
            }
            Ok(true)
        })?;
        Self::reread(db, id)
    }

    /// Suspends, resumes, moves in the queue, or sets the not-needed-after day of a hold.
    pub fn change_hold(
        &self,
        db: &dyn Database,
        id: storage::holds::HoldId,
        change: &HoldChange,
        now: DateTime<Utc>,
    ) -> Result<StoredHold, DeskError> {
        let hold = Self::open_hold(db, id)?;
        self.with_queue(db, hold.bib_id, now, |ctx, queue, _| {
            if !ctx.holds.iter().any(|h| h.id == id) {
                return Err(circulation::HoldError::WrongState(HoldId(id)).into());
            }
            let hid = HoldId(id);
            if let Some(until) = change.suspend {
                queue.suspend(hid, until)?;
            }
            if change.resume {
                queue.resume(hid)?;
            }
            if let Some(position) = change.position {
                queue.move_to(hid, position.saturating_sub(1))?;
            }
            if let Some(day) = change.not_needed_after {
                let mut holds = queue.holds().to_vec();
                if let Some(h) = holds.iter_mut().find(|h| h.id == hid) {
                    h.not_needed_after = day;
                }
                *queue = HoldQueue::from_holds(queue.record(), holds)?;
            }
            Ok(true)
        })?;
        Self::reread(db, id)
    }

    /// The nightly sweep (`expire_hold_shelf`): holds on the shelf past their pickup deadline
    /// and holds no longer wanted expire; each copy freed from the shelf passes to the next
    /// patron in the queue (hold shelf here or in transit), or goes home or back on the shelf.
    /// One transaction per record; run twice on the same day, the second run changes nothing.
    pub fn expire_hold_shelf(&self, db: &dyn Database, now: DateTime<Utc>) -> Result<ShelfSweep, DeskError> {
        let today = self.circulation().library_calendar.local_date(now);
        self.expire_holds_of(db, &db.records_with_expiring_holds(now, today)?, now)
    }

    /// The sweep of [`Desk::expire_hold_shelf`] over these records only: the staff's "clear
    /// the expired holds" at one branch's hold shelf. A record with nothing to expire is left
    /// alone, so a list read a moment ago is safe to pass.
    pub fn expire_holds_of(
        &self,
        db: &dyn Database,
        records: &[BibId],
        now: DateTime<Utc>,
    ) -> Result<ShelfSweep, DeskError> {
        let today = self.circulation().library_calendar.local_date(now);
        let mut sweep = ShelfSweep::default();
        for &bib_id in records {
            let mut found = ShelfSweep::default();
            self.with_queue(db, bib_id, now, |ctx, queue, write| {
                found = ShelfSweep::default();
                let freed = queue.expire(now, today);
                found.expired = queue
                    .holds()
                    .iter()
                    .filter(|h| matches!(h.state, HoldState::Expired { .. }))
                    .map(|h| h.id.0)
                    .collect();
                if found.expired.is_empty() {
                    return Ok(false);
                }
                for item in freed {
                    if let Some(copy) = ctx.trapped_items.iter().find(|i| i.id == item.0) {
                        let (m, t, routing) = self.reroute(queue, &ctx.holds, copy, now)?;
                        write.items.push(m);
                        write.transits.extend(t);
                        found.routed.push((copy.id, routing));
                    }
                }
                Ok(true)
            })?;
            sweep.expired.extend(found.expired);
            sweep.routed.extend(found.routed);
        }
        Ok(sweep)
    }

    /// The copies to fetch from `branch`'s shelves for holds, in shelf order.
    ///
    /// Each waiting hold is matched to one copy across the library, so it is on one branch's list
    /// only: in queue order, each hold takes the copy a hold may have (not suspended, wanted
    /// still, allowed by the rule, the named copy for an item-level hold) at its pickup branch
    /// if there is one, else the first by branch code and shelf order. Every branch computes the
    /// same match, so two branches never pull for the same hold.
    pub fn pull_list(
        &self,
        db: &dyn Database,
        branch: &Code,
        now: DateTime<Utc>,
    ) -> Result<Vec<PullListEntry>, DeskError> {
        let (items, holds) = db.pull_candidates(branch)?;
        let today = self.circulation().library_calendar.local_date(now);
        let mut by_record: BTreeMap<BibId, Vec<StoredHold>> = BTreeMap::new();
        for h in holds {
            by_record.entry(h.bib_id).or_default().push(h);
        }
        let mut copies: BTreeMap<BibId, Vec<&ShelfItem>> = BTreeMap::new();
        for shelf in &items {
            copies.entry(shelf.item.bib_id).or_default().push(shelf);
        }
        let mut pulled: HashMap<storage::ItemId, StoredHold> = HashMap::new();
        for (bib, holds) in &by_record {
            let queue = queue_of(*bib, holds)?;
            let copies = copies.get(bib).map_or(&[][..], Vec::as_slice);
            let mut taken: HashSet<storage::ItemId> = HashSet::new();
            for hold in holds {
                let may_take = |shelf: &&&ShelfItem| {
                    let allowed = self.hold_allowed(holds, &shelf.item);
                    let only_this = |h: &circulation::Hold| h.id.0 == hold.id && allowed(h);
                    !taken.contains(&shelf.item.id)
                        && queue.claim_on(ItemId(shelf.item.id), today, only_this).is_some_and(|c| c.hold.0 == hold.id)
                };
                let best = copies.iter().filter(may_take).min_by_key(|shelf| {
                    let elsewhere = shelf.item.item.holding_branch != hold.pickup_branch;
                    (elsewhere, shelf.item.item.holding_branch.clone(), shelf.key.clone(), shelf.item.id)
                });
                if let Some(shelf) = best {
                    taken.insert(shelf.item.id);
                    pulled.insert(shelf.item.id, hold.clone());
                }
            }
        }
        Ok(items
            .iter()
            .filter(|shelf| &shelf.item.item.holding_branch == branch)
            .filter_map(|shelf| pulled.remove(&shelf.item.id).map(|hold| PullListEntry { shelf: shelf.clone(), hold }))
            .collect())
    }
}
