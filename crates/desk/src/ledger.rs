//! The patron's account at the desk (charges, payments, waivers, write-offs, refunds, payouts),
//! lost items (the daily job), claims returned, damage inspection and the repair queue.
//!
//! Money operations are one storage call each: storage locks the patron and replays the stored
//! entries into the pure [`circulation::Ledger`], the closure here posts to it (the ledger
//! refuses what it must: overpaying, a waiver without a reason, refunding more than was paid),
//! and storage appends what was posted. Entries are named by their stored row id, as the API
//! shows them.

use crate::{Desk, DeskError};
use catalog::{Barcode, Code, Item, ItemStatus, Money};
use chrono::{DateTime, Utc};
use circulation::{
    declare_lost, is_lost, overdue_fine, Actor, Apply, BranchContext, ChargeKind, EntryId, FineTerms, Ledger,
    LedgerError, PaymentMethod, Posting, Rule,
};
use storage::ledger::{
    Account, Inspection, LedgerRefusal, NewInspection, RepairEntry, Stop, StopContext, StopKind, StoppedLoan,
};
use storage::{Database, ItemId, LoanId};

/// A credit the clerk gives against charges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditRequest {
    /// Money taken. `keep_credit`: what is more than is owed becomes account credit (else a
    /// payment over what is owed is refused, and the clerk gives change).
    Payment {
        method: PaymentMethod,
        keep_credit: bool,
    },
    Waiver,
    WriteOff,
}

/// An account after a write, and the rows of the entries posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub account: Account,
    pub entries: Vec<i64>,
}

/// Runs one ledger operation on the card's account.
fn post(
    db: &dyn Database,
    card_number: &str,
    now: DateTime<Utc>,
    loan: Option<LoanId>,
    mut f: impl FnMut(&Account, &mut Ledger) -> Result<(), LedgerRefusal>,
) -> Result<Posted, DeskError> {
    let mut before = 0;
    let account = db.post_to_account(card_number, now, loan, &mut |account, ledger| {
        before = account.rows.len();
        f(account, ledger)
    })??;
    Ok(Posted { entries: account.rows[before..].iter().map(|r| r.id).collect(), account })
}

fn entry(account: &Account, row: i64) -> Result<EntryId, LedgerRefusal> {
    account.entry_id(row).ok_or(LedgerRefusal::UnknownCharge(row))
}

/// Posts a charge (any kind: a manual one is [`ChargeKind::Other`], described by `note`).
#[allow(clippy::too_many_arguments)] // one charge, as the clerk fills it in
pub fn charge(
    db: &dyn Database,
    card_number: &str,
    kind: ChargeKind,
    amount: Money,
    item: Option<ItemId>,
    by: Actor,
    note: &str,
    now: DateTime<Utc>,
) -> Result<Posted, DeskError> {
    post(db, card_number, now, None, |_, ledger| {
        let posting = Posting { at: now, by, note: note.to_string() };
        ledger.post_charge(posting, kind, amount, item.map(circulation::ItemId))?;
        Ok(())
    })
}

/// A payment, waiver or write-off: applied to `charges` (rows, in that order) or oldest first.
#[allow(clippy::too_many_arguments)]
pub fn credit(
    db: &dyn Database,
    card_number: &str,
    credit: CreditRequest,
    amount: Money,
    charges: Option<&[i64]>,
    by: Actor,
    note: &str,
    now: DateTime<Utc>,
) -> Result<Posted, DeskError> {
    post(db, card_number, now, None, |account, ledger| {
        let apply = match charges {
            None => Apply::OldestFirst,
            Some(rows) => Apply::Charges(rows.iter().map(|r| entry(account, *r)).collect::<Result<_, _>>()?),
        };
        let posting = Posting { at: now, by, note: note.to_string() };
        match credit {
            CreditRequest::Payment { method, keep_credit: false } => ledger.pay(posting, method, amount, apply),
            CreditRequest::Payment { method, keep_credit: true } => {
                ledger.pay_keeping_credit(posting, method, amount, apply)
            }
            CreditRequest::Waiver => ledger.waive(posting, amount, apply),
            CreditRequest::WriteOff => ledger.write_off(posting, amount, apply),
        }?;
        Ok(())
    })
}

/// Gives back money paid on a charge (the row); the account is in credit until a payout.
pub fn refund(
    db: &dyn Database,
    card_number: &str,
    charge: i64,
    amount: Money,
    by: Actor,
    note: &str,
    now: DateTime<Utc>,
) -> Result<Posted, DeskError> {
    post(db, card_number, now, None, |account, ledger| {
        let posting = Posting { at: now, by, note: note.to_string() };
        ledger.refund(posting, entry(account, charge)?, amount)?;
        Ok(())
    })
}

/// Hands account credit back to the patron.
pub fn payout(
    db: &dyn Database,
    card_number: &str,
    method: PaymentMethod,
    amount: Money,
    by: Actor,
    note: &str,
    now: DateTime<Utc>,
) -> Result<Posted, DeskError> {
    post(db, card_number, now, None, |_, ledger| {
        ledger.payout(Posting { at: now, by, note: note.to_string() }, method, amount)?;
        Ok(())
    })
}

/// Records a damage inspection (see [`storage::LedgerStore::inspect`]).
pub fn inspect(db: &dyn Database, inspection: &NewInspection, now: DateTime<Utc>) -> Result<Inspection, DeskError> {
    Ok(db.inspect(inspection, now)??)
}

pub fn repair_queue(db: &dyn Database, branch: &Code) -> Result<Vec<RepairEntry>, DeskError> {
    Ok(db.repair_queue(branch)?)
}

/// A copy back from repair: available again.
pub fn repaired(db: &dyn Database, item: ItemId, by: Actor, now: DateTime<Utc>) -> Result<Item, DeskError> {
    Ok(db.repaired(item, now, by)??)
}

impl Desk {
    /// The rule in force for a loan and the calendar its fines count on.
    fn loan_rule(&self, ctx: &StopContext) -> (Rule, Code) {
        let c = self.circulation();
        let where_ = BranchContext {
            checkout_branch: ctx.loan.checkout_branch.clone(),
            item_home_branch: ctx.item.item.home_branch.clone(),
            patron_home_branch: ctx.account.patron.home_branch.clone(),
        };
        let rule = c.matrix.resolve_for(&where_, &ctx.account.patron.category, &ctx.item.item.item_type).rule;
        (rule, c.matrix.governing().pick(&where_).clone())
    }

    /// Posts the loan's overdue fine accrued up to `now`, less what was charged already: the
    /// fine stops growing here, so check-in charges nothing more.
    fn fine_to_date(
        &self,
        ctx: &StopContext,
        ledger: &mut Ledger,
        now: DateTime<Utc>,
        by: Actor,
    ) -> Result<(), LedgerError> {
        let (rule, governing) = self.loan_rule(ctx);
        let c = self.circulation();
        let calendar = c.calendar(&governing);
        let fine = overdue_fine(ctx.loan.due_at, now, &FineTerms::from(&rule), ctx.item.item.price, calendar);
        let owed = fine.amount.minor() - ctx.already_charged.minor();
        if owed > 0 {
            let note = format!("overdue to {}", now.with_timezone(&c.time_zone).format("%Y-%m-%d"));
            let item = Some(circulation::ItemId(ctx.item.id));
            ledger.post_charge(Posting { at: now, by, note }, ChargeKind::Overdue, Money::from_minor(owed), item)?;
        }
        Ok(())
    }

    /// The daily lost job: every open loan overdue past its rule's lost-after days is declared
    /// lost: the fine to date, the replacement price and the processing fee are charged, the
    /// copy becomes Lost and its fine stops. Run twice on the same day, the second run finds
    /// nothing (a declared loan's copy is no longer counted as on loan).
    pub fn mark_lost(&self, db: &dyn Database, now: DateTime<Utc>) -> Result<Vec<StoppedLoan>, DeskError> {
        let c = self.circulation();
        let mut declared = Vec::new();
        for candidate in db.lost_candidates(now)? {
            let where_ = BranchContext {
                checkout_branch: candidate.loan.checkout_branch.clone(),
                item_home_branch: candidate.item.item.home_branch.clone(),
                patron_home_branch: candidate.patron.home_branch.clone(),
            };
            let rule = c.matrix.resolve_for(&where_, &candidate.patron.category, &candidate.item.item.item_type).rule;
            let calendar = c.calendar(c.matrix.governing().pick(&where_));
            if !is_lost(candidate.loan.due_at, now, &rule, calendar) {
                continue;
            }
            let days = rule.lost_after_days.value().unwrap_or(0);
            let stop =
                Stop { kind: StopKind::Lost, by: Actor::System, note: format!("lost after {days} days overdue") };
            // Decided again under the copy's lock: a check-in may have come first.
            let outcome = db.stop_loan(&candidate.item.item.barcode, &stop, now, &mut |ctx, ledger| {
                let (rule, governing) = self.loan_rule(ctx);
                if ctx.item.item.status != ItemStatus::CheckedOut
                    || !is_lost(ctx.loan.due_at, now, &rule, c.calendar(&governing))
                {
                    return Ok(false);
                }
                self.fine_to_date(ctx, ledger, now, Actor::System)?;
                let posting = Posting { at: now, by: Actor::System, note: stop.note.clone() };
                let price = ctx.item.item.price.or(c.default_replacement_price).unwrap_or(Money::ZERO);
                declare_lost(ledger, &posting, circulation::ItemId(ctx.item.id), price, &rule)?;
                Ok(true)
            })?;
            match outcome {
                Ok(Some(stopped)) => declared.push(stopped),
                Ok(None) | Err(LedgerRefusal::NotOnLoan(_) | LedgerRefusal::AlreadyStopped { .. }) => {}
                Err(other) => return Err(other.into()),
            }
        }
        Ok(declared)
    }

    /// The patron says they returned the copy: its loan stops accruing (the fine to date is
    /// charged), the copy goes Missing, and the claim counts against the patron.
    pub fn claims_returned(
        &self,
        db: &dyn Database,
        barcode: &Barcode,
        by: Actor,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<StoppedLoan, DeskError> {
        let note = if note.trim().is_empty() { "patron says it was returned" } else { note.trim() };
        let stop = Stop { kind: StopKind::ClaimsReturned, by, note: note.to_string() };
        let stopped = db.stop_loan(barcode, &stop, now, &mut |ctx, ledger| {
            self.fine_to_date(ctx, ledger, now, by)?;
            Ok(true)
        })??;
        stopped.ok_or_else(|| DeskError::Storage(storage::StorageError::Other("the claim was not recorded".into())))
    }
}
