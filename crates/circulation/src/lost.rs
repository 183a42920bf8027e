//! Lost items: when an overdue loan is declared lost, what that charges, and what is given back
//! when the item turns up.
//!
//! "Lost after N days" counts calendar days, not open days: it is about how long the patron has
//! kept the item, and the branch being closed does not make it more likely to come back. The
//! charges are the replacement price and the rule's processing fee. When the item comes back, the
//! replacement charge is reversed through the ledger, never deleted: the unpaid part waived and
//! the paid part refunded. The processing fee stays unless the library's [`FoundPolicy`] says
//! otherwise, since the work of declaring the item lost was done.

use crate::calendar::Calendar;
use crate::ledger::{Apply, ChargeKind, EntryId, EntryKind, Ledger, LedgerError, Posting};
use crate::rules::Rule;
use crate::{ItemId, Money};
use chrono::{DateTime, Utc};

/// Whether a loan due at `due` should be declared lost at `now` under `rule`.
pub fn is_lost(due: DateTime<Utc>, now: DateTime<Utc>, rule: &Rule, calendar: &Calendar) -> bool {
    let Some(after) = rule.lost_after_days.value() else { return false };
    if now <= due {
        return false;
    }
    let days = (calendar.local_date(now) - calendar.local_date(due)).num_days();
    days >= i64::from(after)
}

/// Posts the charges for an item declared lost: its replacement price (`price`, the item's or
/// the library's default) and the rule's processing fee. Zero amounts are not posted.
pub fn declare_lost(
    ledger: &mut Ledger,
    posting: &Posting,
    item: ItemId,
    price: Money,
    rule: &Rule,
) -> Result<Vec<EntryId>, LedgerError> {
    let mut posted = Vec::new();
    for (kind, amount) in [(ChargeKind::Lost, price), (ChargeKind::Processing, rule.lost_processing_fee)] {
        if amount > Money::ZERO {
            posted.push(ledger.post_charge(posting.clone(), kind, amount, Some(item))?);
        }
    }
    Ok(posted)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FoundPolicy {
    /// Also reverse the processing fee when a lost item comes back.
    pub refund_processing_fee: bool,
}

/// Reverses the lost-item charges for `item`: waives what is unpaid and refunds what was paid.
/// `posting.note` is the reason recorded on each credit. Returns the credits posted.
pub fn item_found(
    ledger: &mut Ledger,
    posting: &Posting,
    item: ItemId,
    policy: FoundPolicy,
) -> Result<Vec<EntryId>, LedgerError> {
    let charges: Vec<EntryId> = ledger
        .entries()
        .iter()
        .filter(|e| match e.kind {
            EntryKind::Charge { kind: ChargeKind::Lost, item: Some(i), .. } => i == item,
            EntryKind::Charge { kind: ChargeKind::Processing, item: Some(i), .. } => {
                i == item && policy.refund_processing_fee
            }
            _ => false,
        })
        .map(|e| e.id)
        .collect();
    // Check on a copy so that a failure half-way leaves the real ledger untouched.
    let mut draft = ledger.clone();
    let mut posted = Vec::new();
    for charge in charges {
        if let Some(outstanding) = draft.outstanding(charge).filter(|o| *o > Money::ZERO) {
            posted.push(draft.waive(posting.clone(), outstanding, Apply::Charges(vec![charge]))?);
        }
        if let Some(paid) = draft.refundable(charge).filter(|p| *p > Money::ZERO) {
            posted.push(draft.refund(posting.clone(), charge, paid)?);
        }
    }
    *ledger = draft;
    Ok(posted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{Actor, PaymentMethod};
    use crate::rules::Limit;
    use crate::testing::{branch_calendar, default_rule, local, money};
    use crate::StaffId;

    #[test]
    fn lost_after_counts_calendar_days() {
        let cal = branch_calendar();
        let rule = Rule { lost_after_days: Limit::At(30), ..default_rule() };
        let due = local(&cal, 2026, 3, 4, 23, 59);
        assert!(!is_lost(due, local(&cal, 2026, 4, 2, 12, 0), &rule, &cal));
        assert!(is_lost(due, local(&cal, 2026, 4, 3, 12, 0), &rule, &cal));
        let never = Rule { lost_after_days: Limit::Unlimited, ..rule };
        assert!(!is_lost(due, local(&cal, 2030, 1, 1, 12, 0), &never, &cal));
    }

    #[test]
    fn found_item_waives_unpaid_and_refunds_paid_replacement() {
        let cal = branch_calendar();
        let p = Posting { at: local(&cal, 2026, 4, 3, 2, 0), by: Actor::System, note: "lost after 30 days".into() };
        let mut l = Ledger::new();
        let rule = default_rule();
        let ids = declare_lost(&mut l, &p, ItemId(5), money(2500), &rule).unwrap();
        assert_eq!(ids.len(), 2);
        assert_eq!(l.balance(), money(3000));
        l.pay(
            Posting { by: Actor::Staff(StaffId(1)), ..p.clone() },
            PaymentMethod::Card,
            money(1000),
            Apply::OldestFirst,
        )
        .unwrap();
        let found = Posting { note: "item returned".into(), by: Actor::Staff(StaffId(1)), ..p };
        let credits = item_found(&mut l, &found, ItemId(5), FoundPolicy::default()).unwrap();
        assert_eq!(credits.len(), 2);
        // Replacement: 1500 waived, 1000 refunded; the processing fee of 5.00 is still owed, and
        // the patron is owed 10.00 until it is paid out.
        assert_eq!(l.outstanding(ids[0]), Some(Money::ZERO));
        assert_eq!(l.outstanding(ids[1]), Some(money(500)));
        assert_eq!(l.credit(), money(1000));
        assert_eq!(l.balance(), money(-500));
        // Found again (a second scan): nothing more to reverse.
        assert!(item_found(&mut l, &found, ItemId(5), FoundPolicy::default()).unwrap().is_empty());
        let all = item_found(&mut l, &found, ItemId(5), FoundPolicy { refund_processing_fee: true }).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(l.balance(), money(-1000));
    }
}
