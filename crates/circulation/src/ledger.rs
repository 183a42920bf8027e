//! The patron's account: an append-only ledger of charges and credits in exact money.
//!
//! Entries are never updated or deleted; a mistake is corrected by a new entry (a waiver, a
//! refund) that says who, when and why. Every state the desk shows is derived from the entries:
//! the balance is their signed sum, and a charge's outstanding amount is its amount less the
//! parts of credits applied to it. [`Ledger::from_entries`] replays stored entries through the
//! same checks that posted them, so a ledger read back from storage is valid by construction.
//!
//! Credits and where they go:
//! * a **payment** (cash or card), a **waiver** and a **write-off** are applied to charges: to
//!   the ones the clerk picks, or oldest first. They never exceed what is outstanding, so a
//!   patron is never silently in credit (the clerk gives change instead). Only a payment taken
//!   with [`Ledger::pay_keeping_credit`] may be more than is owed: the rest is account credit.
//! * a **refund** gives back money the patron *paid* on a charge (a lost item that turned up).
//!   It is not applied to any charge; it leaves the account in credit until it is handed back
//!   as a **payout** (a debit).

use crate::{ItemId, Money, StaffId};
use chrono::{DateTime, Utc};

/// An entry's number within one patron's ledger: its position, from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryId(pub u32);

/// Who posted an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Staff(StaffId),
    /// The patron, paying online.
    Patron,
    /// The scheduler: overdue fines, lost-item charges.
    System,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChargeKind {
    Overdue,
    Lost,
    Damage,
    Processing,
    CardReplacement,
    Printing,
    EventFee,
    /// A charge the clerk describes in the note (a manual charge).
    Other,
}

impl ChargeKind {
    pub const ALL: [ChargeKind; 8] = [
        ChargeKind::Overdue,
        ChargeKind::Lost,
        ChargeKind::Damage,
        ChargeKind::Processing,
        ChargeKind::CardReplacement,
        ChargeKind::Printing,
        ChargeKind::EventFee,
        ChargeKind::Other,
    ];

    /// The stable name, as stored and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            ChargeKind::Overdue => "overdue",
            ChargeKind::Lost => "lost",
            ChargeKind::Damage => "damage",
            ChargeKind::Processing => "processing",
            ChargeKind::CardReplacement => "card_replacement",
            ChargeKind::Printing => "printing",
            ChargeKind::EventFee => "event_fee",
            ChargeKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<ChargeKind> {
        ChargeKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentMethod {
    Cash,
    Card,
}

impl PaymentMethod {
    pub const ALL: [PaymentMethod; 2] = [PaymentMethod::Cash, PaymentMethod::Card];

    /// The stable name, as stored and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::Cash => "cash",
            PaymentMethod::Card => "card",
        }
    }

    pub fn parse(s: &str) -> Option<PaymentMethod> {
        PaymentMethod::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CreditKind {
    Payment(PaymentMethod),
    Waiver,
    WriteOff,
    /// Money paid on `charge` given back to the patron.
    Refund {
        charge: EntryId,
    },
    /// Money paid beyond what was owed, kept as account credit until paid out.
    Deposit(PaymentMethod),
}

/// The part of a credit applied to one charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocation {
    pub charge: EntryId,
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    Charge {
        kind: ChargeKind,
        amount: Money,
        item: Option<ItemId>,
    },
    Credit {
        kind: CreditKind,
        amount: Money,
        applied: Vec<Allocation>,
    },
    /// Account credit (from a refund) handed back to the patron.
    Payout {
        method: PaymentMethod,
        amount: Money,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: EntryId,
    pub at: DateTime<Utc>,
    pub by: Actor,
    /// Why: required for waivers, write-offs and refunds; a description for charges.
    pub note: String,
    pub kind: EntryKind,
}

impl Entry {
    /// The entry's effect on the balance: positive when the patron owes more.
    pub fn signed_amount(&self) -> Money {
        match &self.kind {
            EntryKind::Charge { amount, .. } | EntryKind::Payout { amount, .. } => *amount,
            EntryKind::Credit { amount, .. } => Money::from_minor(-amount.minor()),
        }
    }
}

/// Who, when and why, for a new entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub at: DateTime<Utc>,
    pub by: Actor,
    pub note: String,
}

/// Which charges a credit is applied to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Apply {
    OldestFirst,
    /// The charges the clerk picked, filled in this order.
    Charges(Vec<EntryId>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("an amount must be more than zero, not {0}")]
    NotPositive(Money),
    #[error("{amount} is more than the {outstanding} outstanding")]
    ExceedsOutstanding { amount: Money, outstanding: Money },
    #[error("entry {0:?} is not a charge on this account")]
    NotACharge(EntryId),
    #[error("a waiver, write-off or refund needs a reason")]
    ReasonRequired,
    #[error("{amount} is more than the {refundable} paid and not yet refunded")]
    ExceedsPaid { amount: Money, refundable: Money },
    #[error("{amount} is more than the account's credit of {credit}")]
    ExceedsCredit { amount: Money, credit: Money },
    #[error("entry {found:?} is out of sequence (expected {expected:?})")]
    OutOfSequence { expected: EntryId, found: EntryId },
    #[error("the credit's applied parts do not match its amount or the charges")]
    BadAllocation,
    #[error("the amount is too large to add up")]
    Overflow,
}

/// What is known of one charge, derived from the entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct ChargeState {
    amount: i64,
    /// Applied from payments, waivers and write-offs.
    settled: i64,
    /// Applied from payments only: what a refund can give back.
    paid: i64,
    refunded: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ledger {
    entries: Vec<Entry>,
    /// Indexed by entry id; `None` for credits and payouts.
    charges: Vec<Option<ChargeState>>,
    balance: i64,
    /// Refunded and not yet paid out.
    credit: i64,
}

impl Default for Ledger {
    fn default() -> Self {
        Ledger::new()
    }
}

impl Ledger {
    pub fn new() -> Ledger {
        Ledger { entries: Vec::new(), charges: Vec::new(), balance: 0, credit: 0 }
    }

    /// Rebuilds a ledger from stored entries, checking each as if it were being posted.
    pub fn from_entries(entries: Vec<Entry>) -> Result<Ledger, LedgerError> {
        let mut ledger = Ledger::new();
        for entry in entries {
            ledger.append(entry)?;
        }
        Ok(ledger)
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// What the patron owes: the sum of the entries (negative when the library owes the patron).
    pub fn balance(&self) -> Money {
        Money::from_minor(self.balance)
    }

    /// Refunded money not yet handed back.
    pub fn credit(&self) -> Money {
        Money::from_minor(self.credit)
    }

    /// What is still owed on a charge; `None` when `id` is not a charge.
    pub fn outstanding(&self, id: EntryId) -> Option<Money> {
        self.charge(id).map(|c| Money::from_minor(c.amount - c.settled))
    }

    /// What was paid on a charge and not yet refunded.
    pub fn refundable(&self, id: EntryId) -> Option<Money> {
        self.charge(id).map(|c| Money::from_minor(c.paid - c.refunded))
    }

    /// Charges with something outstanding, oldest first, with the amount outstanding.
    pub fn open_charges(&self) -> Vec<(EntryId, Money)> {
        let mut open: Vec<(&Entry, i64)> = self
            .entries
            .iter()
            .filter_map(|e| self.charge(e.id).map(|c| (e, c.amount - c.settled)))
            .filter(|(_, o)| *o > 0)
            .collect();
        open.sort_by_key(|(e, _)| (e.at, e.id));
        open.into_iter().map(|(e, o)| (e.id, Money::from_minor(o))).collect()
    }

    fn charge(&self, id: EntryId) -> Option<&ChargeState> {
        self.charges.get(id.0 as usize).and_then(Option::as_ref)
    }

    fn next_id(&self) -> EntryId {
        EntryId(u32::try_from(self.entries.len()).unwrap_or(u32::MAX))
    }

    /// Posts a charge.
    pub fn post_charge(
        &mut self,
        posting: Posting,
        kind: ChargeKind,
        amount: Money,
        item: Option<ItemId>,
    ) -> Result<EntryId, LedgerError> {
        self.post(posting, EntryKind::Charge { kind, amount, item })
    }

    /// Takes a payment and applies it to charges.
    pub fn pay(
        &mut self,
        posting: Posting,
        method: PaymentMethod,
        amount: Money,
        apply: Apply,
    ) -> Result<EntryId, LedgerError> {
        self.settle(posting, CreditKind::Payment(method), amount, apply)
    }

    /// Takes a payment that may be more than is owed: what is owed is paid as [`Ledger::pay`]
    /// would, and the rest becomes account credit (handed back by a payout).
    pub fn pay_keeping_credit(
        &mut self,
        posting: Posting,
        method: PaymentMethod,
        amount: Money,
        apply: Apply,
    ) -> Result<EntryId, LedgerError> {
        positive(amount)?;
        let owed: i64 = self.order(apply.clone())?.iter().map(|(_, o)| o.minor()).sum();
        let paid = amount.minor().min(owed);
        let mut draft = self.clone();
        let mut first = None;
        if paid > 0 {
            first = Some(draft.settle(posting.clone(), CreditKind::Payment(method), Money::from_minor(paid), apply)?);
        }
        if amount.minor() > paid {
            let rest = Money::from_minor(amount.minor() - paid);
            let kind = EntryKind::Credit { kind: CreditKind::Deposit(method), amount: rest, applied: Vec::new() };
            let deposit = draft.post(posting, kind)?;
            first.get_or_insert(deposit);
        }
        *self = draft;
        first.ok_or(LedgerError::NotPositive(amount))
    }

    /// Forgives charges (a staff decision, with a reason).
    pub fn waive(&mut self, posting: Posting, amount: Money, apply: Apply) -> Result<EntryId, LedgerError> {
        self.settle(posting, CreditKind::Waiver, amount, apply)
    }

    /// Writes charges off as uncollectable (with a reason).
    pub fn write_off(&mut self, posting: Posting, amount: Money, apply: Apply) -> Result<EntryId, LedgerError> {
        self.settle(posting, CreditKind::WriteOff, amount, apply)
    }

    /// Gives back money paid on `charge` (with a reason); the account is in credit until a payout.
    pub fn refund(&mut self, posting: Posting, charge: EntryId, amount: Money) -> Result<EntryId, LedgerError> {
        self.post(posting, EntryKind::Credit { kind: CreditKind::Refund { charge }, amount, applied: Vec::new() })
    }

    /// Hands account credit back to the patron.
    pub fn payout(&mut self, posting: Posting, method: PaymentMethod, amount: Money) -> Result<EntryId, LedgerError> {
        self.post(posting, EntryKind::Payout { method, amount })
    }

    fn settle(
        &mut self,
        posting: Posting,
        kind: CreditKind,
        amount: Money,
        apply: Apply,
    ) -> Result<EntryId, LedgerError> {
        positive(amount)?;
        let order = self.order(apply)?;
        let mut left = amount.minor();
        let mut applied = Vec::new();
        for (charge, outstanding) in order {
            if left == 0 {
                break;
            }
            let part = left.min(outstanding.minor());
            if part > 0 {
                applied.push(Allocation { charge, amount: Money::from_minor(part) });
                left -= part;
            }
        }
        if left > 0 {
            let outstanding = Money::from_minor(amount.minor() - left);
            return Err(LedgerError::ExceedsOutstanding { amount, outstanding });
        }
        self.post(posting, EntryKind::Credit { kind, amount, applied })
    }

    /// The charges a credit goes to, in order, with what is outstanding on each.
    fn order(&self, apply: Apply) -> Result<Vec<(EntryId, Money)>, LedgerError> {
        Ok(match apply {
            Apply::OldestFirst => self.open_charges(),
            Apply::Charges(ids) => {
                let mut picked: Vec<(EntryId, Money)> = Vec::with_capacity(ids.len());
                for id in ids {
                    let outstanding = self.outstanding(id).ok_or(LedgerError::NotACharge(id))?;
                    if !picked.iter().any(|(p, _)| *p == id) {
                        picked.push((id, outstanding));
                    }
                }
                picked
            }
        })
    }

    fn post(&mut self, posting: Posting, kind: EntryKind) -> Result<EntryId, LedgerError> {
        let id = self.next_id();
        self.append(Entry { id, at: posting.at, by: posting.by, note: posting.note, kind })?;
        Ok(id)
    }

    /// The one place an entry joins the ledger: every rule is checked here, and nothing changes
    /// unless all of them pass.
    fn append(&mut self, entry: Entry) -> Result<(), LedgerError> {
        let expected = self.next_id();
        if entry.id != expected {
            return Err(LedgerError::OutOfSequence { expected, found: entry.id });
        }
        let balance = self.balance.checked_add(entry.signed_amount().minor()).ok_or(LedgerError::Overflow)?;
        let mut state = None;
        match &entry.kind {
            EntryKind::Charge { amount, .. } => {
                positive(*amount)?;
                state = Some(ChargeState { amount: amount.minor(), ..ChargeState::default() });
            }
            EntryKind::Credit { kind, amount, applied } => {
                positive(*amount)?;
                if !matches!(kind, CreditKind::Payment(_) | CreditKind::Deposit(_)) && entry.note.trim().is_empty() {
                    return Err(LedgerError::ReasonRequired);
                }
                match kind {
                    CreditKind::Refund { charge } => {
                        if !applied.is_empty() {
                            return Err(LedgerError::BadAllocation);
                        }
                        let refundable = self.refundable(*charge).ok_or(LedgerError::NotACharge(*charge))?;
                        if *amount > refundable {
                            return Err(LedgerError::ExceedsPaid { amount: *amount, refundable });
                        }
                    }
                    CreditKind::Deposit(_) => {
                        if !applied.is_empty() {
                            return Err(LedgerError::BadAllocation);
                        }
                    }
                    _ => self.check_allocations(*amount, applied)?,
                }
            }
            EntryKind::Payout { amount, .. } => {
                positive(*amount)?;
                if amount.minor() > self.credit {
                    return Err(LedgerError::ExceedsCredit { amount: *amount, credit: self.credit() });
                }
            }
        }
        // All checks passed: from here on nothing can fail.
        match &entry.kind {
            EntryKind::Charge { .. } => {}
            EntryKind::Credit { kind: CreditKind::Refund { charge }, amount, .. } => {
                if let Some(Some(c)) = self.charges.get_mut(charge.0 as usize) {
                    c.refunded += amount.minor();
                }
                self.credit += amount.minor();
            }
            EntryKind::Credit { kind: CreditKind::Deposit(_), amount, .. } => self.credit += amount.minor(),
            EntryKind::Credit { kind, applied, .. } => {
                for a in applied {
                    if let Some(Some(c)) = self.charges.get_mut(a.charge.0 as usize) {
                        c.settled += a.amount.minor();
                        if matches!(kind, CreditKind::Payment(_)) {
                            c.paid += a.amount.minor();
                        }
                    }
                }
            }
            EntryKind::Payout { amount, .. } => self.credit -= amount.minor(),
        }
        self.balance = balance;
        self.charges.push(state);
        self.entries.push(entry);
        Ok(())
    }

    fn check_allocations(&self, amount: Money, applied: &[Allocation]) -> Result<(), LedgerError> {
        let mut total = 0i64;
        let mut seen: Vec<EntryId> = Vec::with_capacity(applied.len());
        for a in applied {
            let outstanding = self.outstanding(a.charge).ok_or(LedgerError::NotACharge(a.charge))?;
            if a.amount.minor() <= 0 || a.amount > outstanding || seen.contains(&a.charge) {
                return Err(LedgerError::BadAllocation);
            }
            seen.push(a.charge);
            total = total.checked_add(a.amount.minor()).ok_or(LedgerError::Overflow)?;
        }
        if total != amount.minor() {
            return Err(LedgerError::BadAllocation);
        }
        Ok(())
    }
}

fn positive(amount: Money) -> Result<(), LedgerError> {
    if amount.minor() > 0 {
        Ok(())
    } else {
        Err(LedgerError::NotPositive(amount))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::money;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn at(minute: i64) -> Posting {
        Posting {
            at: Utc.timestamp_opt(1_770_000_000 + minute * 60, 0).unwrap(),
            by: Actor::Staff(StaffId(7)),
            note: "desk".to_string(),
        }
    }

    #[test]
    fn payments_go_to_the_oldest_charge_unless_charges_are_picked() {
        let mut l = Ledger::new();
        let a = l.post_charge(at(1), ChargeKind::Overdue, money(300), None).unwrap();
        let b = l.post_charge(at(2), ChargeKind::Printing, money(50), None).unwrap();
        let c = l.post_charge(at(3), ChargeKind::Damage, money(1000), Some(ItemId(4))).unwrap();
        assert_eq!(l.balance(), money(1350));
        l.pay(at(4), PaymentMethod::Cash, money(320), Apply::OldestFirst).unwrap();
        assert_eq!(
            (l.outstanding(a), l.outstanding(b), l.outstanding(c)),
            (Some(money(0)), Some(money(30)), Some(money(1000)))
        );
        l.pay(at(5), PaymentMethod::Card, money(400), Apply::Charges(vec![c])).unwrap();
        assert_eq!(l.outstanding(c), Some(money(600)));
        assert_eq!(l.outstanding(b), Some(money(30)));
        assert_eq!(l.balance(), money(630));
        assert_eq!(l.open_charges(), vec![(b, money(30)), (c, money(600))]);
    }

    #[test]
    fn overpaying_and_unreasoned_waivers_are_refused_and_change_nothing() {
        let mut l = Ledger::new();
        let a = l.post_charge(at(1), ChargeKind::Overdue, money(300), None).unwrap();
        let before = l.clone();
        assert_eq!(
            l.pay(at(2), PaymentMethod::Cash, money(301), Apply::OldestFirst),
            Err(LedgerError::ExceedsOutstanding { amount: money(301), outstanding: money(300) })
        );
        let no_reason = Posting { note: " ".into(), ..at(2) };
        assert_eq!(l.waive(no_reason, money(100), Apply::OldestFirst), Err(LedgerError::ReasonRequired));
        assert_eq!(
            l.pay(at(2), PaymentMethod::Cash, money(0), Apply::OldestFirst),
            Err(LedgerError::NotPositive(money(0)))
        );
        assert_eq!(
            l.pay(at(2), PaymentMethod::Cash, money(10), Apply::Charges(vec![EntryId(9)])),
            Err(LedgerError::NotACharge(EntryId(9)))
        );
        assert_eq!(l, before);
        l.waive(Posting { note: "first offence".into(), ..at(3) }, money(300), Apply::Charges(vec![a])).unwrap();
        assert_eq!(l.balance(), Money::ZERO);
    }

    #[test]
    fn refunds_give_back_paid_money_through_a_payout() {
        let mut l = Ledger::new();
        let lost = l.post_charge(at(1), ChargeKind::Lost, money(2500), Some(ItemId(1))).unwrap();
        l.pay(at(2), PaymentMethod::Card, money(1000), Apply::OldestFirst).unwrap();
        // The item turns up: waive what is unpaid, refund what was paid.
        assert_eq!(
            l.refund(Posting { note: "item found".into(), ..at(3) }, lost, money(1001)),
            Err(LedgerError::ExceedsPaid { amount: money(1001), refundable: money(1000) })
        );
        l.waive(Posting { note: "item found".into(), ..at(3) }, money(1500), Apply::Charges(vec![lost])).unwrap();
        l.refund(Posting { note: "item found".into(), ..at(3) }, lost, money(1000)).unwrap();
        assert_eq!(l.balance(), money(-1000));
        assert_eq!(l.credit(), money(1000));
        assert!(matches!(l.payout(at(4), PaymentMethod::Cash, money(1001)), Err(LedgerError::ExceedsCredit { .. })));
        l.payout(at(4), PaymentMethod::Cash, money(1000)).unwrap();
        assert_eq!((l.balance(), l.credit(), l.refundable(lost)), (Money::ZERO, Money::ZERO, Some(Money::ZERO)));
    }

    #[test]
    fn an_overpayment_taken_as_credit_is_paid_out_later() {
        let mut l = Ledger::new();
        let a = l.post_charge(at(1), ChargeKind::Overdue, money(300), None).unwrap();
        let p = l.pay_keeping_credit(at(2), PaymentMethod::Cash, money(500), Apply::OldestFirst).unwrap();
        assert_eq!(l.outstanding(a), Some(Money::ZERO));
        assert_eq!((l.balance(), l.credit()), (money(-200), money(200)));
        // Only what went to the charge can be refunded on it; the rest is credit, paid out.
        assert_eq!(l.refundable(a), Some(money(300)));
        assert!(matches!(l.payout(at(3), PaymentMethod::Cash, money(201)), Err(LedgerError::ExceedsCredit { .. })));
        l.payout(at(3), PaymentMethod::Cash, money(200)).unwrap();
        assert_eq!(l.balance(), Money::ZERO);
        assert_eq!(Ledger::from_entries(l.entries().to_vec()), Ok(l.clone()));
        // A waiver's parts must still add up to its amount: only payments keep credit.
        let mut tampered = l.entries().to_vec();
        tampered[p.0 as usize].kind = EntryKind::Credit {
            kind: CreditKind::Waiver,
            amount: money(500),
            applied: vec![Allocation { charge: a, amount: money(300) }],
        };
        tampered[p.0 as usize].note = "reason".into();
        assert_eq!(Ledger::from_entries(tampered), Err(LedgerError::BadAllocation));
    }

    #[test]
    fn kind_and_method_names_round_trip() {
        for k in ChargeKind::ALL {
            assert_eq!(ChargeKind::parse(k.as_str()), Some(k));
        }
        for m in PaymentMethod::ALL {
            assert_eq!(PaymentMethod::parse(m.as_str()), Some(m));
        }
        assert_eq!(ChargeKind::parse("Overdue"), None);
    }

    #[test]
    fn stored_entries_are_checked_when_read_back() {
        let mut l = Ledger::new();
        l.post_charge(at(1), ChargeKind::Overdue, money(300), None).unwrap();
        l.pay(at(2), PaymentMethod::Cash, money(300), Apply::OldestFirst).unwrap();
        assert_eq!(Ledger::from_entries(l.entries().to_vec()), Ok(l.clone()));
        let mut tampered = l.entries().to_vec();
        if let EntryKind::Credit { amount, .. } = &mut tampered[1].kind {
            *amount = money(500);
        }
        assert_eq!(Ledger::from_entries(tampered), Err(LedgerError::BadAllocation));
        let mut gap = l.entries().to_vec();
        gap.remove(0);
        assert!(matches!(Ledger::from_entries(gap), Err(LedgerError::OutOfSequence { .. })));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Charge(u8, i64),
        PayOldest(i64),
        PayKeepingCredit(i64),
        PayPicked(Vec<u32>, i64),
        Waive(i64),
        WriteOff(Vec<u32>, i64),
        Refund(u32, i64),
        Payout(i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        let amount = 1i64..5000;
        let picks = proptest::collection::vec(0u32..12, 1..4);
        prop_oneof![
            3 => (0u8..7, amount.clone()).prop_map(|(k, a)| Op::Charge(k, a)),
            2 => amount.clone().prop_map(Op::PayOldest),
            1 => amount.clone().prop_map(Op::PayKeepingCredit),
            1 => (picks.clone(), amount.clone()).prop_map(|(p, a)| Op::PayPicked(p, a)),
            1 => amount.clone().prop_map(Op::Waive),
            1 => (picks, amount.clone()).prop_map(|(p, a)| Op::WriteOff(p, a)),
            1 => (0u32..12, amount.clone()).prop_map(|(c, a)| Op::Refund(c, a)),
            1 => amount.prop_map(Op::Payout),
        ]
    }

    const KINDS: [ChargeKind; 7] = [
        ChargeKind::Overdue,
        ChargeKind::Lost,
        ChargeKind::Damage,
        ChargeKind::Processing,
        ChargeKind::CardReplacement,
        ChargeKind::Printing,
        ChargeKind::EventFee,
    ];

    /// Each charge's outstanding amount computed from the entries alone, independently of the
    /// ledger's own bookkeeping.
    fn outstanding_from_entries(entries: &[Entry]) -> Vec<(EntryId, i64, i64)> {
        entries
            .iter()
            .filter_map(|e| match &e.kind {
                EntryKind::Charge { amount, .. } => {
                    let applied: i64 = entries
                        .iter()
                        .filter_map(|c| match &c.kind {
                            EntryKind::Credit { applied, .. } => Some(applied),
                            _ => None,
                        })
                        .flatten()
                        .filter(|a| a.charge == e.id)
                        .map(|a| a.amount.minor())
                        .sum();
                    Some((e.id, amount.minor(), amount.minor() - applied))
                }
                _ => None,
            })
            .collect()
    }

    proptest! {
        #[test]
        fn ledger_invariants_hold_after_any_sequence(ops in proptest::collection::vec(op(), 1..40)) {
            let mut l = Ledger::new();
            for (i, op) in ops.into_iter().enumerate() {
                let before = l.clone();
                let posting = Posting { note: "reason".into(), ..at(i as i64) };
                let oldest_before = l.open_charges();
                let result = match op.clone() {
                    Op::Charge(k, a) => l.post_charge(posting, KINDS[k as usize], money(a), None),
                    Op::PayOldest(a) => l.pay(posting, PaymentMethod::Cash, money(a), Apply::OldestFirst),
                    Op::PayKeepingCredit(a) => l.pay_keeping_credit(posting, PaymentMethod::Card, money(a), Apply::OldestFirst),
                    Op::PayPicked(p, a) => l.pay(posting, PaymentMethod::Card, money(a), Apply::Charges(p.into_iter().map(EntryId).collect())),
                    Op::Waive(a) => l.waive(posting, money(a), Apply::OldestFirst),
                    Op::WriteOff(p, a) => l.write_off(posting, money(a), Apply::Charges(p.into_iter().map(EntryId).collect())),
                    Op::Refund(c, a) => l.refund(posting, EntryId(c), money(a)),
                    Op::Payout(a) => l.payout(posting, PaymentMethod::Cash, money(a)),
                };
                match result {
                    // A refused operation changes nothing.
                    Err(_) => prop_assert_eq!(&l, &before),
                    Ok(id) => {
                        // Append-only: what was there is still there, unchanged, and one entry was added.
                        prop_assert_eq!(&l.entries()[..before.entries().len()], before.entries());
                        // One entry; a payment keeping credit may add a deposit after its payment.
                        let added = l.entries().len() - before.entries().len();
                        prop_assert!(added == 1 || (matches!(op, Op::PayKeepingCredit(_)) && added == 2));
                        prop_assert_eq!(id.0 as usize, before.entries().len());
                        if let (Op::PayOldest(_), EntryKind::Credit { applied, .. }) = (&op, &l.entries()[id.0 as usize].kind) {
                            // Oldest first: the charges paid are a prefix of the open charges in
                            // age order, and all but the last are now settled.
                            for (n, a) in applied.iter().enumerate() {
                                prop_assert_eq!(a.charge, oldest_before[n].0);
                                if n + 1 < applied.len() { prop_assert_eq!(l.outstanding(a.charge), Some(Money::ZERO)); }
                            }
                        }
                    }
                }
                // The balance is the sum of the entries.
                let sum: i64 = l.entries().iter().map(|e| e.signed_amount().minor()).sum();
                prop_assert_eq!(l.balance().minor(), sum);
                // Each charge's outstanding amount is derivable from the entries and within bounds.
                let derived = outstanding_from_entries(l.entries());
                for (id, amount, outstanding) in &derived {
                    prop_assert_eq!(l.outstanding(*id), Some(money(*outstanding)));
                    prop_assert!(*outstanding >= 0 && outstanding <= amount);
                }
                // Balance = what is outstanding less the credit waiting to be paid out.
                let open: i64 = derived.iter().map(|(_, _, o)| o).sum();
                prop_assert_eq!(l.balance().minor(), open - l.credit().minor());
                prop_assert!(l.credit() >= Money::ZERO);
                // Replaying the entries gives the same ledger.
                prop_assert_eq!(Ledger::from_entries(l.entries().to_vec()), Ok(l.clone()));
            }
        }
    }
}
