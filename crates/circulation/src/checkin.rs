//! The check-in decision: close the loan, work out the fine, and route the item.
//!
//! The fine is [`crate::fines::overdue_fine`] at the effective return time, which may be
//! backdated (the book drop emptied in the morning is checked in as of closing the night before)
//! but never into the future nor before the checkout. Overdue fines are posted to the ledger at
//! check-in, less anything already charged for this loan (when it was declared lost, say), so a
//! fine is never charged twice.
//!
//! Routing, in order: a copy in transit for a hold that has reached its pickup branch goes on the
//! hold shelf; a copy trapped for the first eligible hold goes on the hold shelf here or in
//! transit to the pickup branch; a copy from another branch goes home in transit; anything else
//! goes back on the shelf.

use crate::calendar::Calendar;
use crate::checkout::{ItemSnapshot, ItemState};
use crate::fines::{overdue_fine, FineTerms, OverdueFine};
use crate::holds::{Hold, HoldError, HoldQueue, HoldState, TrapDecision};
use crate::{HoldId, Money, PatronId};
use catalog::Code;
use chrono::{DateTime, Utc};

/// The loan being closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenLoan {
    pub patron: PatronId,
    pub checked_out_at: DateTime<Utc>,
    pub due: DateTime<Utc>,
    /// The rule in force for this loan.
    pub fine_terms: FineTerms,
    /// Overdue fines already posted for this loan.
    pub already_charged: Money,
}

pub struct CheckInRequest<'a> {
    pub item: &'a ItemSnapshot,
    /// `None` when the item was not on loan (a transit arriving, an item found on a table).
    pub loan: Option<OpenLoan>,
    pub here: &'a Code,
    /// This branch's calendar: hold shelf deadlines here.
    pub calendar: &'a Calendar,
    /// The calendar whose closed days the fine skips (the governing branch's).
    pub fine_calendar: &'a Calendar,
    /// When the item came back: `now`, or earlier for a backdated check-in.
    pub returned_at: DateTime<Utc>,
    pub now: DateTime<Utc>,
    pub hold_shelf_days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Routing {
    /// Back on the shelf here.
    Shelve,
    HoldShelf {
        hold: HoldId,
        patron: PatronId,
        pickup_by: DateTime<Utc>,
    },
    /// In transit to `to`: for a hold there, or home (`hold` is `None`).
    Transit {
        to: Code,
        hold: Option<HoldId>,
    },
}

/// Something the clerk must look at before letting the item go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// Count the parts: "3 discs + booklet".
    MaterialsSpecified(String),
    /// The item was lost and is back: the lost charges are to be reversed ([`crate::lost::item_found`]).
    WasLost,
    /// The item was marked damaged: check it.
    WasDamaged,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckIn {
    pub fine: Option<OverdueFine>,
    /// The overdue charge to post now: the fine less what was already charged.
    pub charge: Money,
    pub routing: Routing,
    pub prompts: Vec<Prompt>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckInError {
    #[error("a check-in cannot be dated in the future")]
    ReturnedInFuture,
    #[error("a check-in cannot be dated before the checkout")]
    ReturnedBeforeCheckout,
    #[error(transparent)]
    Hold(#[from] HoldError),
}

/// Checks an item in. `queue` is the hold queue of the item's record; it is updated with the
/// trap (or transit arrival). `allowed` is the rule's say on whether a hold may take this item.
pub fn check_in(
    req: &CheckInRequest<'_>,
    queue: &mut HoldQueue,
    allowed: impl Fn(&Hold) -> bool,
) -> Result<CheckIn, CheckInError> {
    if req.returned_at > req.now {
        return Err(CheckInError::ReturnedInFuture);
    }
    let mut fine = None;
    let mut charge = Money::ZERO;
    if let Some(loan) = req.loan {
        if req.returned_at < loan.checked_out_at {
            return Err(CheckInError::ReturnedBeforeCheckout);
        }
        let f = overdue_fine(loan.due, req.returned_at, &loan.fine_terms, req.item.price, req.fine_calendar);
        charge = Money::from_minor((f.amount.minor() - loan.already_charged.minor()).max(0));
        fine = Some(f);
    }
    let mut prompts = Vec::new();
    if let Some(m) = req.item.materials_specified.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        prompts.push(Prompt::MaterialsSpecified(m.to_string()));
    }
    match req.item.state {
        ItemState::Lost => prompts.push(Prompt::WasLost),
        ItemState::Damaged => prompts.push(Prompt::WasDamaged),
        _ => {}
    }
    let routing = route(req, queue, allowed)?;
    Ok(CheckIn { fine, charge, routing, prompts })
}

fn route(
    req: &CheckInRequest<'_>,
    queue: &mut HoldQueue,
    allowed: impl Fn(&Hold) -> bool,
) -> Result<Routing, CheckInError> {
    let item = req.item.id;
    // Already trapped for a hold (in transit or scanned again on the shelf).
    if let Some(hold) = queue.holds().iter().find(|h| h.state.trapped_item() == Some(item)).cloned() {
        return Ok(match hold.state {
            HoldState::OnShelf { pickup_by, .. } => {
                Routing::HoldShelf { hold: hold.id, patron: hold.patron, pickup_by }
            }
            _ if &hold.pickup_branch == req.here => {
                let pickup_by = queue.arrived(hold.id, req.now, req.calendar, req.hold_shelf_days)?;
                Routing::HoldShelf { hold: hold.id, patron: hold.patron, pickup_by }
            }
            _ => Routing::Transit { to: hold.pickup_branch.clone(), hold: Some(hold.id) },
        });
    }
    Ok(match queue.trap(item, req.here, req.now, req.calendar, req.hold_shelf_days, allowed)? {
        Some(TrapDecision::HoldShelf { hold, patron, pickup_by }) => Routing::HoldShelf { hold, patron, pickup_by },
        Some(TrapDecision::Transit { hold, to }) => Routing::Transit { to, hold: Some(hold) },
        None if &req.item.home_branch != req.here => Routing::Transit { to: req.item.home_branch.clone(), hold: None },
        None => Routing::Shelve,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{FineRate, Limit, Period, TimeUnit};
    use crate::testing::{branch_calendar, code, local, money};
    use crate::{HoldId, ItemId, RecordId};

    fn item(home: &str, state: ItemState) -> ItemSnapshot {
        ItemSnapshot {
            id: ItemId(5),
            record: RecordId(1),
            item_type: code("BK"),
            loanable: true,
            home_branch: code(home),
            state,
            price: Some(money(400)),
            materials_specified: Some("2 discs".into()),
        }
    }

    fn loan(cal: &Calendar) -> OpenLoan {
        OpenLoan {
            patron: PatronId(1),
            checked_out_at: local(cal, 2026, 2, 18, 10, 0),
            due: local(cal, 2026, 3, 4, 23, 59),
            fine_terms: FineTerms {
                rate: FineRate { amount: money(25), per: TimeUnit::Days },
                grace_period: Period::days(1),
                max_fine: Limit::At(money(1000)),
            },
            already_charged: Money::ZERO,
        }
    }

    fn hold(id: i64, pickup: &str, cal: &Calendar) -> Hold {
        Hold {
            id: HoldId(id),
            patron: PatronId(id * 100),
            record: RecordId(1),
            item: None,
            pickup_branch: code(pickup),
            placed_at: local(cal, 2026, 3, 1, 9, 0),
            not_needed_after: None,
            state: HoldState::Waiting,
        }
    }

    fn run(
        it: &ItemSnapshot,
        loan: Option<OpenLoan>,
        here: &str,
        returned_at: DateTime<Utc>,
        q: &mut HoldQueue,
    ) -> Result<CheckIn, CheckInError> {
        let cal = branch_calendar();
        let here = code(here);
        let req = CheckInRequest {
            item: it,
            loan,
            here: &here,
            calendar: &cal,
            fine_calendar: &cal,
            returned_at,
            now: local(&cal, 2026, 3, 10, 9, 30),
            hold_shelf_days: 7,
        };
        check_in(&req, q, |_| true)
    }

    #[test]
    fn late_return_is_fined_and_shelved_at_home() {
        let cal = branch_calendar();
        let mut q = HoldQueue::new(RecordId(1));
        let it = item("CPL", ItemState::CheckedOut { patron: PatronId(1) });
        // Due Wed 4 March; back Tue 10 March: Thu, Fri, Sat, Mon, Tue = 5 open days, less 1 grace.
        let c = run(&it, Some(loan(&cal)), "CPL", local(&cal, 2026, 3, 10, 9, 30), &mut q).unwrap();
        assert_eq!(c.fine.map(|f| (f.late, f.charged)), Some((5, 4)));
        assert_eq!(c.charge, money(100));
        assert_eq!(c.routing, Routing::Shelve);
        assert_eq!(c.prompts, vec![Prompt::MaterialsSpecified("2 discs".into())]);
        // Backdated to the due date (book drop): no fine.
        let c = run(&it, Some(loan(&cal)), "CPL", local(&cal, 2026, 3, 4, 20, 0), &mut q).unwrap();
        assert_eq!(c.charge, Money::ZERO);
        // Already charged part of it: only the rest.
        let partly = OpenLoan { already_charged: money(60), ..loan(&cal) };
        assert_eq!(run(&it, Some(partly), "CPL", local(&cal, 2026, 3, 10, 9, 30), &mut q).unwrap().charge, money(40));
    }

    #[test]
    fn backdating_is_bounded() {
        let cal = branch_calendar();
        let mut q = HoldQueue::new(RecordId(1));
        let it = item("CPL", ItemState::CheckedOut { patron: PatronId(1) });
        assert_eq!(
            run(&it, Some(loan(&cal)), "CPL", local(&cal, 2026, 3, 11, 9, 0), &mut q),
            Err(CheckInError::ReturnedInFuture)
        );
        assert_eq!(
            run(&it, Some(loan(&cal)), "CPL", local(&cal, 2026, 2, 1, 9, 0), &mut q),
            Err(CheckInError::ReturnedBeforeCheckout)
        );
    }

    #[test]
    fn routing_follows_holds_then_home() {
        let cal = branch_calendar();
        let it = item("MPL", ItemState::CheckedOut { patron: PatronId(1) });
        let now = local(&cal, 2026, 3, 10, 9, 30);
        // No hold: an item from another branch goes home.
        let mut q = HoldQueue::new(RecordId(1));
        assert_eq!(
            run(&it, None, "CPL", now, &mut q).unwrap().routing,
            Routing::Transit { to: code("MPL"), hold: None }
        );
        // A hold for pickup here: hold shelf, 7 days (Tue 17 March).
        let mut q = HoldQueue::from_holds(RecordId(1), vec![hold(1, "CPL", &cal), hold(2, "MPL", &cal)]).unwrap();
        let c = run(&it, None, "CPL", now, &mut q).unwrap();
        assert_eq!(
            c.routing,
            Routing::HoldShelf { hold: HoldId(1), patron: PatronId(100), pickup_by: local(&cal, 2026, 3, 17, 23, 59) }
        );
        // The first hold picks up elsewhere: in transit there; scanned at the pickup branch it lands on the shelf.
        let mut q = HoldQueue::from_holds(RecordId(1), vec![hold(2, "MPL", &cal), hold(1, "CPL", &cal)]).unwrap();
        assert_eq!(
            run(&it, None, "CPL", now, &mut q).unwrap().routing,
            Routing::Transit { to: code("MPL"), hold: Some(HoldId(2)) }
        );
        let c = run(&item("MPL", ItemState::InTransit), None, "MPL", now, &mut q).unwrap();
        assert!(matches!(c.routing, Routing::HoldShelf { hold: HoldId(2), .. }));
        assert!(matches!(q.get(HoldId(2)).unwrap().state, HoldState::OnShelf { .. }));
    }

    #[test]
    fn a_lost_item_coming_back_is_flagged() {
        let cal = branch_calendar();
        let mut q = HoldQueue::new(RecordId(1));
        let c = run(&item("CPL", ItemState::Lost), Some(loan(&cal)), "CPL", local(&cal, 2026, 3, 10, 9, 0), &mut q)
            .unwrap();
        assert!(c.prompts.contains(&Prompt::WasLost));
        // The fine is capped by the item's price (4.00 < the rule's 10.00).
        assert!(c.fine.unwrap().amount <= money(400));
    }
}
