//! The circulation desk: checkout, check-in and renewal as services that every front end (the
//! JSON API now; the staff client, the OPAC and the SIP2 server later) calls, so that a
//! checkout is the same checkout wherever it starts.
//!
//! Each operation is one storage transaction: storage locks the copy and reads the context
//! ([`storage::loans`]), this crate turns it into the `circulation` crate's snapshot and asks
//! its pure decision, and storage writes what the decision allows, or nothing. Refusals come
//! back with their stable codes and the sentence a clerk reads out.
//!
//! Not here yet (issue 4): holds (the queue is empty, so a check-in never traps), stored blocks
//! (an expired card, fines over the limit and too many overdue loans do block), staff accounts
//! (an override takes the acting [`circulation::Staff`] from the caller, and the HTTP edge offers
//! none until staff log in), notices. The patron's account, lost items, claims returned and
//! damage inspection are in [`ledger`].

pub mod ledger;
mod settings;

pub use settings::{BranchCalendar, Circulation, CirculationSettings, RuleSettingsText, SettingsError, Week};

use catalog::{Barcode, Code, ItemStatus};
use chrono::{DateTime, Utc};
use circulation::{
    BranchContext, CalendarError, CheckIn, CheckInError, CheckInRequest, CheckoutRequest, DueDate, FineTerms,
    HoldQueue, ItemSnapshot, ItemState, LoanCounts, OpenLoan, OverrideError, PatronSnapshot, Refusal, RenewalRequest,
    Routing, Staff,
};
use storage::loans::{CheckinWrite, Loan, LoanWrite, OverrideEntry, PatronAccount, RenewalWrite};
use storage::{Database, StorageError};

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// The decision said no; every reason, in the order a clerk deals with them.
    #[error("refused: {}", .0.iter().map(|r| r.message.as_str()).collect::<Vec<_>>().join(" "))]
    Refused(Vec<Refusal>),
    #[error(transparent)]
    Override(#[from] OverrideError),
    #[error("{what} {key} does not exist")]
    NotFound { what: &'static str, key: String },
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error(transparent)]
    CheckIn(#[from] CheckInError),
    #[error(transparent)]
    Storage(StorageError),
    /// The ledger, a lost or claims-returned stop, an inspection or a repair refused; nothing was written.
    #[error(transparent)]
    Ledger(#[from] storage::ledger::LedgerRefusal),
}

impl From<StorageError> for DeskError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound { what, key } => DeskError::NotFound { what, key },
            other => DeskError::Storage(other),
        }
    }
}

/// Staff going ahead past overridable refusals, with their reason.
#[derive(Debug, Clone)]
pub struct Override {
    pub staff: Staff,
    pub staff_name: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutReceipt {
    pub loan: Loan,
    pub due: DueDate,
    /// Refusal codes an override went past.
    pub overridden: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckinReceipt {
    pub barcode: Barcode,
    /// The loan closed, if the item was on loan.
    pub loan_closed: bool,
    pub decision: CheckIn,
    pub status: ItemStatus,
}

/// The desk's services over a database, with the library's circulation settings.
#[derive(Debug, Clone)]
pub struct Desk {
    circulation: Circulation,
}

fn patron_snapshot(p: &PatronAccount, overdue_loans: u32) -> PatronSnapshot {
    PatronSnapshot {
        id: circulation::PatronId(p.id),
        category: p.category.clone(),
        home_branch: p.home_branch.clone(),
        card_expiry: p.expiry_date,
        blocks: Vec::new(),
        balance: p.balance,
        overdue_loans,
    }
}

fn item_snapshot(item: &catalog::Item, loanable: bool, on_loan_to: Option<i64>) -> ItemSnapshot {
    let it = &item.item;
    let state = match (it.status, on_loan_to) {
        (_, Some(patron)) => ItemState::CheckedOut { patron: circulation::PatronId(patron) },
        (ItemStatus::Available | ItemStatus::CheckedOut, None) => ItemState::Available,
        (ItemStatus::InTransit, None) => ItemState::InTransit,
        (ItemStatus::OnHoldShelf, None) => ItemState::OnHoldShelf,
        (ItemStatus::Lost, None) => ItemState::Lost,
        (ItemStatus::Missing, None) => ItemState::Missing,
        (ItemStatus::Damaged, None) => ItemState::Damaged,
        (ItemStatus::InRepair, None) => ItemState::InRepair,
        (ItemStatus::Withdrawn, None) => ItemState::Withdrawn,
        (ItemStatus::OnOrder, None) => ItemState::OnOrder,
    };
    ItemSnapshot {
        id: circulation::ItemId(item.id),
        record: circulation::RecordId(item.bib_id),
        item_type: it.item_type.clone(),
        loanable,
        home_branch: it.home_branch.clone(),
        state,
        price: it.price,
        materials_specified: it.materials_specified.clone(),
    }
}

fn override_entry<T>(
    decision: circulation::Decision<T>,
    with: Option<&Override>,
) -> Result<(T, Option<OverrideEntry>), DeskError> {
    if decision.is_allowed() {
        return Ok((decision.plan, None));
    }
    let Some(o) = with else { return Err(DeskError::Refused(decision.refusals)) };
    let done = decision.override_by(&o.staff, &o.reason)?;
    let entry = OverrideEntry {
        staff: o.staff_name.clone(),
        overridden: done.overridden.iter().map(|c| c.as_str().to_string()).collect(),
        reason: done.reason,
    };
    Ok((done.plan, Some(entry)))
}

impl Desk {
    pub fn new(circulation: Circulation) -> Desk {
        Desk { circulation }
    }

    pub fn circulation(&self) -> &Circulation {
        &self.circulation
    }

    /// Checks the copy out to the card's patron at `branch`.
    pub fn checkout(
        &self,
        db: &dyn Database,
        card_number: &str,
        barcode: &Barcode,
        branch: &Code,
        now: DateTime<Utc>,
        with: Option<&Override>,
    ) -> Result<CheckoutReceipt, DeskError> {
        let c = &self.circulation;
        let calendar = c.calendar(branch);
        let mut outcome: Option<Result<(DueDate, Vec<String>), DeskError>> = None;
        let loan = db.checkout(card_number, barcode, now, &mut |ctx| {
            let patron = patron_snapshot(&ctx.patron, ctx.overdue_loans);
            let item = item_snapshot(&ctx.item, ctx.loanable, ctx.open_loan.as_ref().map(|l| l.patron_id));
            let where_ = BranchContext {
                checkout_branch: branch.clone(),
                item_home_branch: ctx.item.item.home_branch.clone(),
                patron_home_branch: ctx.patron.home_branch.clone(),
            };
            let resolution = c.matrix.resolve_for(&where_, &ctx.patron.category, &ctx.item.item.item_type);
            let request = CheckoutRequest {
                patron: &patron,
                item: &item,
                resolution: &resolution,
                loans: LoanCounts { total: ctx.loans_total, of_item_type: ctx.loans_of_item_type },
                claim: None,
                policy: &c.policy,
                calendar,
                now,
            };
            let decided = circulation::decide_checkout(&request)
                .map_err(DeskError::from)
                .and_then(|decision| override_entry(decision, with));
            match decided {
                Ok((plan, entry)) => {
                    let overridden = entry.as_ref().map(|e| e.overridden.clone()).unwrap_or_default();
                    outcome = Some(Ok((plan.due, overridden)));
                    Some(LoanWrite { checkout_branch: branch.clone(), due_at: plan.due.at, override_entry: entry })
                }
                Err(e) => {
                    outcome = Some(Err(e));
                    None
                }
            }
        })?;
        match (loan, outcome) {
            (Some(loan), Some(Ok((due, overridden)))) => Ok(CheckoutReceipt { loan, due, overridden }),
            (_, Some(Err(e))) => Err(e),
            _ => Err(DeskError::Storage(StorageError::Other("the checkout decision was not asked".to_string()))),
        }
    }

    /// Renews the copy's loan (at the desk, the OPAC or a kiosk).
    pub fn renew(
        &self,
        db: &dyn Database,
        barcode: &Barcode,
        now: DateTime<Utc>,
        with: Option<&Override>,
    ) -> Result<(Loan, DueDate), DeskError> {
        let c = &self.circulation;
        let mut outcome: Option<Result<DueDate, DeskError>> = None;
        let loan = db.renew(barcode, now, &mut |ctx| {
            let patron = patron_snapshot(&ctx.patron, ctx.overdue_loans);
            let where_ = BranchContext {
                checkout_branch: ctx.loan.checkout_branch.clone(),
                item_home_branch: ctx.item.item.home_branch.clone(),
                patron_home_branch: ctx.patron.home_branch.clone(),
            };
            let resolution = c.matrix.resolve_for(&where_, &ctx.patron.category, &ctx.item.item.item_type);
            let request = RenewalRequest {
                patron: &patron,
                loan: circulation::LoanSnapshot {
                    item: circulation::ItemId(ctx.item.id),
                    due: ctx.loan.due_at,
                    renewals_used: ctx.loan.renewals,
                },
                resolution: &resolution,
                wanted_by_others: false,
                policy: &c.policy,
                calendar: c.calendar(&ctx.loan.checkout_branch),
                now,
            };
            let decided = circulation::decide_renewal(&request)
                .map_err(DeskError::from)
                .and_then(|decision| override_entry(decision, with));
            match decided {
                Ok((plan, entry)) => {
                    outcome = Some(Ok(plan.due));
                    Some(RenewalWrite { due_at: plan.due.at, override_entry: entry })
                }
                Err(e) => {
                    outcome = Some(Err(e));
                    None
                }
            }
        })?;
        match (loan, outcome) {
            (Some(loan), Some(Ok(due))) => Ok((loan, due)),
            (_, Some(Err(e))) => Err(e),
            _ => Err(DeskError::Storage(StorageError::Other("the renewal decision was not asked".to_string()))),
        }
    }

    /// Checks the copy in at `branch`; `returned_at` backdates it (the book drop).
    pub fn check_in(
        &self,
        db: &dyn Database,
        barcode: &Barcode,
        branch: &Code,
        returned_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<CheckinReceipt, DeskError> {
        let c = &self.circulation;
        let mut outcome: Option<Result<(CheckIn, ItemStatus, bool), DeskError>> = None;
        db.check_in(barcode, now, &mut |ctx| {
            let item = item_snapshot(&ctx.item, true, ctx.loan.as_ref().map(|(l, _)| l.patron_id));
            // Ledger: a loan declared lost or claimed returned stopped accruing then (its fine to
            // that day was posted), so its check-in charges nothing more; a lost copy back
            // reverses its lost charges (`found`).
            let stopped = matches!(ctx.item.item.status, ItemStatus::Lost | ItemStatus::Missing);
            let found = (ctx.item.item.status == ItemStatus::Lost && ctx.loan.is_some()).then_some(c.found);
            let loan = ctx.loan.as_ref().map(|(l, p)| {
                let where_ = BranchContext {
                    checkout_branch: l.checkout_branch.clone(),
                    item_home_branch: ctx.item.item.home_branch.clone(),
                    patron_home_branch: p.home_branch.clone(),
                };
                // The rule in force for this loan: resolved as at checkout.
                let rule = c.matrix.resolve_for(&where_, &p.category, &ctx.item.item.item_type).rule;
                let governing = c.matrix.governing().pick(&where_).clone();
                (
                    OpenLoan {
                        patron: circulation::PatronId(p.id),
                        checked_out_at: l.checked_out_at,
                        due: l.due_at,
                        fine_terms: if stopped {
                            FineTerms { rate: circulation::FineRate::free(), ..FineTerms::from(&rule) }
                        } else {
                            FineTerms::from(&rule)
                        },
                        already_charged: ctx.already_charged,
                    },
                    governing,
                    rule.hold_shelf_days,
                )
            });
            let fine_branch = loan.as_ref().map_or(branch, |(_, g, _)| g);
            let request = CheckInRequest {
                item: &item,
                loan: loan.as_ref().map(|(l, _, _)| *l),
                here: branch,
                calendar: c.calendar(branch),
                fine_calendar: c.calendar(fine_branch),
                returned_at: returned_at.unwrap_or(now),
                now,
                hold_shelf_days: loan.as_ref().map_or(7, |(_, _, d)| *d),
            };
            let mut queue = HoldQueue::new(circulation::RecordId(ctx.item.bib_id));
            match circulation::check_in(&request, &mut queue, |_| true) {
                Ok(decision) => {
                    let (status, holding) = match &decision.routing {
                        Routing::Shelve => (ItemStatus::Available, branch.clone()),
                        Routing::HoldShelf { .. } => (ItemStatus::OnHoldShelf, branch.clone()),
                        Routing::Transit { .. } => (ItemStatus::InTransit, branch.clone()),
                    };
                    let write = CheckinWrite {
                        return_branch: branch.clone(),
                        returned_at: request.returned_at,
                        overdue_charge: decision.charge,
                        status,
                        holding_branch: holding,
                        found,
                    };
                    outcome = Some(Ok((decision, status, ctx.loan.is_some())));
                    Some(write)
                }
                Err(e) => {
                    outcome = Some(Err(e.into()));
                    None
                }
            }
        })?;
        match outcome {
            Some(Ok((decision, status, loan_closed))) => {
                Ok(CheckinReceipt { barcode: barcode.clone(), loan_closed, decision, status })
            }
            Some(Err(e)) => Err(e),
            None => Err(DeskError::Storage(StorageError::Other("the check-in decision was not asked".to_string()))),
        }
    }
}
