//! Holds: the queue of patrons waiting for a title (or one item), and what happens to a copy
//! that is checked in while they wait.
//!
//! A queue is per bibliographic record, in priority order: first come first served, with staff
//! able to move a hold. When a copy comes back it is **trapped** for the first eligible hold
//! (waiting, not suspended, still wanted, item-level holds only for their item, and the rule
//! allowing holds for that patron on that item type); the copy then goes to the hold shelf here
//! or in transit to the pickup branch. On the shelf the hold has a pickup deadline counted in
//! the pickup branch's calendar; when it passes, the hold expires and the copy is trapped for the
//! next patron. Emergency closures push deadlines already set ([`HoldQueue::extend_pickup_deadlines`]).

use crate::calendar::{add_days, Calendar, CalendarError};
use crate::{HoldId, ItemId, PatronId, RecordId};
use catalog::Code;
use chrono::{DateTime, NaiveDate, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldState {
    /// In the queue.
    Waiting,
    /// Frozen (the patron is away): keeps its place but is skipped; it counts again from `until`.
    Suspended {
        until: Option<NaiveDate>,
    },
    /// Trapped and on its way to the pickup branch.
    InTransit {
        item: ItemId,
    },
    /// On the hold shelf at the pickup branch until `pickup_by`.
    OnShelf {
        item: ItemId,
        pickup_by: DateTime<Utc>,
    },
    Filled {
        at: DateTime<Utc>,
    },
    Cancelled {
        at: DateTime<Utc>,
    },
    /// Not picked up in time, or no longer wanted.
    Expired {
        at: DateTime<Utc>,
    },
}

impl HoldState {
    pub fn is_finished(self) -> bool {
        matches!(self, HoldState::Filled { .. } | HoldState::Cancelled { .. } | HoldState::Expired { .. })
    }

    /// The item trapped for this hold.
    pub fn trapped_item(self) -> Option<ItemId> {
        match self {
            HoldState::InTransit { item } | HoldState::OnShelf { item, .. } => Some(item),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub id: HoldId,
    pub patron: PatronId,
    pub record: RecordId,
    /// `Some` for an item-level hold: only that copy will do.
    pub item: Option<ItemId>,
    pub pickup_branch: Code,
    pub placed_at: DateTime<Utc>,
    /// The patron no longer wants it after this day.
    pub not_needed_after: Option<NaiveDate>,
    pub state: HoldState,
}

impl Hold {
    /// Whether this hold may be trapped today (before the rule's say).
    fn is_eligible_for(&self, item: ItemId, today: NaiveDate) -> bool {
        let active = match self.state {
            HoldState::Waiting => true,
            HoldState::Suspended { until: Some(until) } => today >= until,
            _ => false,
        };
        active && self.not_needed_after.is_none_or(|d| today <= d) && self.item.is_none_or(|i| i == item)
    }
}

/// The hold that has a claim on an item: trapped for it, or first in line for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoldClaim {
    pub hold: HoldId,
    pub patron: PatronId,
    pub trapped: bool,
}

/// Where a checked-in copy goes because of a hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrapDecision {
    /// Onto the hold shelf here; the patron is notified and has until `pickup_by`.
    HoldShelf { hold: HoldId, patron: PatronId, pickup_by: DateTime<Utc> },
    /// In transit to the hold's pickup branch.
    Transit { hold: HoldId, to: Code },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoldError {
    #[error("no hold {0} in this queue")]
    UnknownHold(HoldId),
    #[error("hold {0} is for another title")]
    WrongRecord(HoldId),
    #[error("hold {0} is already in the queue")]
    DuplicateHold(HoldId),
    #[error("hold {0} cannot do that in its present state")]
    WrongState(HoldId),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

/// The pickup deadline for a copy put on the shelf at `now`: the end of the day `shelf_days`
/// after, moved to the next open day of the pickup branch.
pub fn pickup_deadline(
    now: DateTime<Utc>,
    shelf_days: u32,
    calendar: &Calendar,
) -> Result<DateTime<Utc>, CalendarError> {
    let day = calendar.next_open_day(add_days(calendar.local_date(now), shelf_days))?;
    Ok(calendar.end_of_day(day))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldQueue {
    record: RecordId,
    holds: Vec<Hold>,
}

impl HoldQueue {
    pub fn new(record: RecordId) -> HoldQueue {
        HoldQueue { record, holds: Vec::new() }
    }

    /// A queue as stored, in priority order.
    pub fn from_holds(record: RecordId, holds: Vec<Hold>) -> Result<HoldQueue, HoldError> {
        let mut queue = HoldQueue::new(record);
        for hold in holds {
            queue.insert(hold)?;
        }
        Ok(queue)
    }

    pub fn record(&self) -> RecordId {
        self.record
    }

    /// All holds in priority order, finished ones included (they keep the history).
    pub fn holds(&self) -> &[Hold] {
        &self.holds
    }

    pub fn get(&self, id: HoldId) -> Option<&Hold> {
        self.holds.iter().find(|h| h.id == id)
    }

    /// Places a hold at the end of the queue (first come, first served).
    pub fn place(&mut self, mut hold: Hold) -> Result<(), HoldError> {
        hold.state = HoldState::Waiting;
        self.insert(hold)
    }

    fn insert(&mut self, hold: Hold) -> Result<(), HoldError> {
        if hold.record != self.record {
            return Err(HoldError::WrongRecord(hold.id));
        }
        if self.get(hold.id).is_some() {
            return Err(HoldError::DuplicateHold(hold.id));
        }
        self.holds.push(hold);
        Ok(())
    }

    fn index(&self, id: HoldId) -> Result<usize, HoldError> {
        self.holds.iter().position(|h| h.id == id).ok_or(HoldError::UnknownHold(id))
    }

    fn hold_mut(&mut self, id: HoldId) -> Result<&mut Hold, HoldError> {
        let i = self.index(id)?;
        self.holds.get_mut(i).ok_or(HoldError::UnknownHold(id))
    }

    /// Staff moves a hold to `position` (0 is first); positions past the end mean last.
    pub fn move_to(&mut self, id: HoldId, position: usize) -> Result<(), HoldError> {
        let i = self.index(id)?;
        let hold = self.holds.remove(i);
        let position = position.min(self.holds.len());
        self.holds.insert(position, hold);
        Ok(())
    }

    pub fn suspend(&mut self, id: HoldId, until: Option<NaiveDate>) -> Result<(), HoldError> {
        let hold = self.hold_mut(id)?;
        match hold.state {
            HoldState::Waiting | HoldState::Suspended { .. } => {
                hold.state = HoldState::Suspended { until };
                Ok(())
            }
            _ => Err(HoldError::WrongState(id)),
        }
    }

    pub fn resume(&mut self, id: HoldId) -> Result<(), HoldError> {
        let hold = self.hold_mut(id)?;
        match hold.state {
            HoldState::Suspended { .. } => {
                hold.state = HoldState::Waiting;
                Ok(())
            }
            _ => Err(HoldError::WrongState(id)),
        }
    }

    /// Breaks a hold's trap (staff lent the copy to someone else): the hold waits again, keeping
    /// its place; returns the item it had.
    pub fn release(&mut self, id: HoldId) -> Result<ItemId, HoldError> {
        let hold = self.hold_mut(id)?;
        let item = hold.state.trapped_item().ok_or(HoldError::WrongState(id))?;
        hold.state = HoldState::Waiting;
        Ok(item)
    }

    /// Cancels a hold; returns the item that was trapped for it, which must be routed again.
    pub fn cancel(&mut self, id: HoldId, at: DateTime<Utc>) -> Result<Option<ItemId>, HoldError> {
        let hold = self.hold_mut(id)?;
        if hold.state.is_finished() {
            return Err(HoldError::WrongState(id));
        }
        let freed = hold.state.trapped_item();
        hold.state = HoldState::Cancelled { at };
        Ok(freed)
    }

    /// The hold with a claim on `item`: the one it is trapped for, else the first eligible
    /// waiting hold. `allowed` is the rule's say for that hold's patron (hold allowed).
    pub fn claim_on(&self, item: ItemId, today: NaiveDate, allowed: impl Fn(&Hold) -> bool) -> Option<HoldClaim> {
        if let Some(h) = self.holds.iter().find(|h| h.state.trapped_item() == Some(item)) {
            return Some(HoldClaim { hold: h.id, patron: h.patron, trapped: true });
        }
        self.first_eligible(item, today, &allowed).map(|h| HoldClaim { hold: h.id, patron: h.patron, trapped: false })
    }

    fn first_eligible(&self, item: ItemId, today: NaiveDate, allowed: &impl Fn(&Hold) -> bool) -> Option<&Hold> {
        self.holds.iter().find(|h| h.is_eligible_for(item, today) && allowed(h))
    }

    /// Traps a copy checked in (or freed) at `here` for the first eligible hold, if any: onto
    /// the hold shelf when the pickup branch is here, with a deadline in `calendar` (here's), or
    /// in transit to the pickup branch.
    pub fn trap(
        &mut self,
        item: ItemId,
        here: &Code,
        now: DateTime<Utc>,
        calendar: &Calendar,
        shelf_days: u32,
        allowed: impl Fn(&Hold) -> bool,
    ) -> Result<Option<TrapDecision>, HoldError> {
        let today = calendar.local_date(now);
        let Some(id) = self.first_eligible(item, today, &allowed).map(|h| h.id) else { return Ok(None) };
        let pickup_by = pickup_deadline(now, shelf_days, calendar)?;
        let hold = self.hold_mut(id)?;
        if &hold.pickup_branch == here {
            hold.state = HoldState::OnShelf { item, pickup_by };
            Ok(Some(TrapDecision::HoldShelf { hold: id, patron: hold.patron, pickup_by }))
        } else {
            hold.state = HoldState::InTransit { item };
            Ok(Some(TrapDecision::Transit { hold: id, to: hold.pickup_branch.clone() }))
        }
    }

    /// A copy in transit for a hold arrived at the pickup branch: onto the shelf, with a deadline
    /// in the pickup branch's calendar.
    pub fn arrived(
        &mut self,
        id: HoldId,
        now: DateTime<Utc>,
        calendar: &Calendar,
        shelf_days: u32,
    ) -> Result<DateTime<Utc>, HoldError> {
        let pickup_by = pickup_deadline(now, shelf_days, calendar)?;
        let hold = self.hold_mut(id)?;
        match hold.state {
            HoldState::InTransit { item } => {
                hold.state = HoldState::OnShelf { item, pickup_by };
                Ok(pickup_by)
            }
            _ => Err(HoldError::WrongState(id)),
        }
    }

    /// The patron checked the item out: the hold is filled.
    pub fn fill(&mut self, id: HoldId, at: DateTime<Utc>) -> Result<(), HoldError> {
        let hold = self.hold_mut(id)?;
        if hold.state.is_finished() {
            return Err(HoldError::WrongState(id));
        }
        hold.state = HoldState::Filled { at };
        Ok(())
    }

    /// The nightly sweep: holds on the shelf past their pickup deadline and holds no longer
    /// wanted expire. Returns the items freed from the shelf, to be trapped for the next patron
    /// with [`HoldQueue::trap`] at the branch they sit in.
    pub fn expire(&mut self, now: DateTime<Utc>, today: NaiveDate) -> Vec<ItemId> {
        let mut freed = Vec::new();
        for hold in &mut self.holds {
            match hold.state {
                HoldState::OnShelf { item, pickup_by } if pickup_by < now => {
                    hold.state = HoldState::Expired { at: now };
                    freed.push(item);
                }
                HoldState::Waiting | HoldState::Suspended { .. }
                    if hold.not_needed_after.is_some_and(|d| d < today) =>
                {
                    hold.state = HoldState::Expired { at: now };
                }
                _ => {}
            }
        }
        freed
    }

    /// An emergency closure on `closed`: every shelf deadline at a branch whose calendar (with
    /// the closure already in it) `calendar_of` returns is pushed so no pickup day is lost.
    pub fn extend_pickup_deadlines<'c>(
        &mut self,
        closed: NaiveDate,
        today: NaiveDate,
        calendar_of: impl Fn(&Code) -> Option<&'c Calendar>,
    ) -> Result<Vec<HoldId>, CalendarError> {
        let mut moved = Vec::new();
        for hold in &mut self.holds {
            if let HoldState::OnShelf { item, pickup_by } = hold.state {
                let Some(cal) = calendar_of(&hold.pickup_branch) else { continue };
                if let Some(later) = cal.extended_pickup_deadline(pickup_by, closed, today)? {
                    hold.state = HoldState::OnShelf { item, pickup_by: later };
                    moved.push(hold.id);
                }
            }
        }
        Ok(moved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::ClosedDay;
    use crate::testing::{branch_calendar, code, date, local};
    use proptest::prelude::*;

    fn hold(id: i64, patron: i64, pickup: &str, placed: DateTime<Utc>) -> Hold {
        Hold {
            id: HoldId(id),
            patron: PatronId(patron),
            record: RecordId(1),
            item: None,
            pickup_branch: code(pickup),
            placed_at: placed,
            not_needed_after: None,
            state: HoldState::Waiting,
        }
    }

    fn queue(cal: &Calendar) -> HoldQueue {
        let t = local(cal, 2026, 3, 1, 10, 0);
        let mut q = HoldQueue::new(RecordId(1));
        q.place(hold(1, 100, "CPL", t)).unwrap();
        q.place(hold(2, 200, "MPL", t)).unwrap();
        q.place(hold(3, 300, "CPL", t)).unwrap();
        q
    }

    #[test]
    fn traps_first_eligible_hold_skipping_suspended_expired_and_other_items() {
        let cal = branch_calendar();
        let now = local(&cal, 2026, 3, 4, 11, 0); // Wednesday
        let mut q = queue(&cal);
        q.suspend(HoldId(1), None).unwrap();
        // Hold 2 wants a different copy.
        q.holds[1].item = Some(ItemId(99));
        let d = q.trap(ItemId(5), &code("CPL"), now, &cal, 7, |_| true).unwrap();
        // 4 March + 7 = Wednesday 11 March.
        assert_eq!(
            d,
            Some(TrapDecision::HoldShelf {
                hold: HoldId(3),
                patron: PatronId(300),
                pickup_by: local(&cal, 2026, 3, 11, 23, 59)
            })
        );
        assert_eq!(
            q.claim_on(ItemId(5), date(2026, 3, 4), |_| true),
            Some(HoldClaim { hold: HoldId(3), patron: PatronId(300), trapped: true })
        );
        // The item-level hold gets its copy, in transit to MPL.
        let d = q.trap(ItemId(99), &code("CPL"), now, &cal, 7, |_| true).unwrap();
        assert_eq!(d, Some(TrapDecision::Transit { hold: HoldId(2), to: code("MPL") }));
        // Nothing left that is eligible; the rule can refuse too.
        q.resume(HoldId(1)).unwrap();
        assert_eq!(q.trap(ItemId(6), &code("CPL"), now, &cal, 7, |h| h.patron != PatronId(100)).unwrap(), None);
    }

    #[test]
    fn not_needed_after_and_suspension_end_dates_count() {
        let cal = branch_calendar();
        let mut q = queue(&cal);
        q.holds[0].not_needed_after = Some(date(2026, 3, 3));
        q.suspend(HoldId(2), Some(date(2026, 3, 5))).unwrap();
        let claim = |q: &HoldQueue, d| q.claim_on(ItemId(5), d, |_| true).map(|c| c.hold);
        assert_eq!(claim(&q, date(2026, 3, 3)), Some(HoldId(1)));
        assert_eq!(claim(&q, date(2026, 3, 4)), Some(HoldId(3)));
        assert_eq!(claim(&q, date(2026, 3, 5)), Some(HoldId(2)));
        q.move_to(HoldId(3), 0).unwrap();
        assert_eq!(claim(&q, date(2026, 3, 5)), Some(HoldId(3)));
    }

    #[test]
    fn shelf_expiry_passes_the_copy_to_the_next_patron() {
        let cal = branch_calendar();
        let mut q = queue(&cal);
        let now = local(&cal, 2026, 3, 4, 11, 0);
        q.trap(ItemId(5), &code("CPL"), now, &cal, 2, |_| true).unwrap();
        // Deadline Friday 6 March 23:59; Saturday morning it has expired.
        let later = local(&cal, 2026, 3, 7, 9, 0);
        assert!(q.expire(local(&cal, 2026, 3, 6, 20, 0), date(2026, 3, 6)).is_empty());
        let freed = q.expire(later, date(2026, 3, 7));
        assert_eq!(freed, vec![ItemId(5)]);
        assert!(matches!(q.get(HoldId(1)).unwrap().state, HoldState::Expired { .. }));
        // Hold 2 picks up at MPL, so the copy goes in transit; on arrival it gets a deadline.
        let d = q.trap(ItemId(5), &code("CPL"), later, &cal, 2, |_| true).unwrap();
        assert_eq!(d, Some(TrapDecision::Transit { hold: HoldId(2), to: code("MPL") }));
        let by = q.arrived(HoldId(2), local(&cal, 2026, 3, 9, 10, 0), &cal, 2).unwrap();
        assert_eq!(by, local(&cal, 2026, 3, 11, 23, 59));
        q.fill(HoldId(2), local(&cal, 2026, 3, 10, 10, 0)).unwrap();
        assert_eq!(q.fill(HoldId(2), local(&cal, 2026, 3, 10, 10, 0)), Err(HoldError::WrongState(HoldId(2))));
    }

    #[test]
    fn pickup_deadlines_skip_closed_days_and_emergencies_extend_them() {
        let cal = branch_calendar();
        // Friday 6 March + 2 = Sunday: closed, so Monday 9 March.
        assert_eq!(pickup_deadline(local(&cal, 2026, 3, 6, 12, 0), 2, &cal).unwrap(), local(&cal, 2026, 3, 9, 23, 59));
        let mut q = queue(&cal);
        q.trap(ItemId(5), &code("CPL"), local(&cal, 2026, 3, 4, 11, 0), &cal, 2, |_| true).unwrap();
        // A snow day on Thursday 5 March, inside the window: the deadline moves from Friday to Saturday.
        let snowed = cal.clone().closed_on(ClosedDay::On(date(2026, 3, 5))).unwrap();
        let moved = q.extend_pickup_deadlines(date(2026, 3, 5), date(2026, 3, 5), |_| Some(&snowed)).unwrap();
        assert_eq!(moved, vec![HoldId(1)]);
        assert_eq!(
            q.get(HoldId(1)).unwrap().state,
            HoldState::OnShelf { item: ItemId(5), pickup_by: local(&cal, 2026, 3, 7, 23, 59) }
        );
        // A closure after the deadline changes nothing.
        assert!(q.extend_pickup_deadlines(date(2026, 3, 20), date(2026, 3, 5), |_| Some(&snowed)).unwrap().is_empty());
    }

    #[test]
    fn a_released_trap_waits_again_in_its_place() {
        let cal = branch_calendar();
        let mut q = queue(&cal);
        let now = local(&cal, 2026, 3, 4, 11, 0);
        q.trap(ItemId(5), &code("CPL"), now, &cal, 7, |_| true).unwrap();
        assert_eq!(q.release(HoldId(1)), Ok(ItemId(5)));
        assert_eq!(q.get(HoldId(1)).unwrap().state, HoldState::Waiting);
        assert_eq!(q.holds()[0].id, HoldId(1));
        assert_eq!(q.release(HoldId(1)), Err(HoldError::WrongState(HoldId(1))));
        // The next copy back is trapped for it again, first in line.
        assert!(matches!(
            q.trap(ItemId(6), &code("CPL"), now, &cal, 7, |_| true).unwrap(),
            Some(TrapDecision::HoldShelf { hold: HoldId(1), .. })
        ));
    }

    #[test]
    fn queue_rejects_foreign_and_duplicate_holds() {
        let cal = branch_calendar();
        let mut q = queue(&cal);
        let t = local(&cal, 2026, 3, 1, 10, 0);
        assert_eq!(q.place(hold(1, 1, "CPL", t)), Err(HoldError::DuplicateHold(HoldId(1))));
        let mut other = hold(9, 1, "CPL", t);
        other.record = RecordId(2);
        assert_eq!(q.place(other), Err(HoldError::WrongRecord(HoldId(9))));
        assert_eq!(q.resume(HoldId(1)), Err(HoldError::WrongState(HoldId(1))));
    }

    proptest! {
        /// The hold trapped is always eligible, and no hold ahead of it in the queue was.
        #[test]
        fn trap_takes_the_first_eligible_hold(
            holds in proptest::collection::vec((0u8..4, proptest::option::of(0i64..3), proptest::option::of(0u32..10), any::<bool>()), 0..12),
            item in 0i64..3, moves in proptest::collection::vec((0usize..12, 0usize..12), 0..5),
        ) {
            let cal = branch_calendar();
            let now = local(&cal, 2026, 3, 4, 11, 0);
            let today = date(2026, 3, 4);
            let mut q = HoldQueue::new(RecordId(1));
            for (i, (state, want_item, nna, allowed)) in holds.iter().enumerate() {
                let mut h = hold(i as i64, i as i64 * 10 + i64::from(*allowed), "CPL", now);
                h.item = want_item.map(ItemId);
                h.not_needed_after = nna.map(|n| add_days(date(2026, 2, 28), n));
                q.place(h).unwrap();
                match state {
                    1 => q.suspend(HoldId(i as i64), None).unwrap(),
                    2 => q.suspend(HoldId(i as i64), Some(add_days(date(2026, 3, 1), i as u32))).unwrap(),
                    3 => { q.cancel(HoldId(i as i64), now).unwrap(); }
                    _ => {}
                }
            }
            for (from, to) in moves {
                if let Some(h) = q.holds().get(from).map(|h| h.id) { q.move_to(h, to).unwrap(); }
            }
            let allowed = |h: &Hold| h.patron.0 % 10 == 1;
            let before = q.clone();
            let decision = q.trap(ItemId(item), &code("CPL"), now, &cal, 7, allowed).unwrap();
            match decision {
                Some(TrapDecision::HoldShelf { hold, .. }) => {
                    let pos = before.index(hold).unwrap();
                    prop_assert!(before.holds[pos].is_eligible_for(ItemId(item), today) && allowed(&before.holds[pos]));
                    for h in &before.holds[..pos] {
                        prop_assert!(!(h.is_eligible_for(ItemId(item), today) && allowed(h)));
                    }
                }
                Some(TrapDecision::Transit { .. }) => prop_assert!(false, "every pickup branch is here"),
                None => prop_assert!(before.holds.iter().all(|h| !(h.is_eligible_for(ItemId(item), today) && allowed(h)))),
            }
        }
    }
}
