//! The circulation desk: checkout, check-in and renewal as services that every front end (the
//! JSON API now; the staff client, the OPAC and the SIP2 server later) calls, so that a
//! checkout is the same checkout wherever it starts.
//!
//! Each operation is one storage transaction: storage locks the copy and reads the context
//! ([`storage::loans`]), this crate turns it into the `circulation` crate's snapshot and asks
//! its pure decision, and storage writes what the decision allows, or nothing. Refusals come
//! back with their stable codes and the sentence a clerk reads out.
//!
//! Holds (`holds.rs`): placing and changing holds, the pull list, the nightly hold-shelf sweep;
//! check-in traps for the queue, checkout fills the patron's hold, renewal yields to one.
//! Patrons ([`patrons`]): registration, cards, blocks (a checkout reads the active ones under the
//! copy's lock), CSV import. The patron's account, lost items, claims returned and damage
//! inspection: [`ledger`]. Overrides take the acting [`circulation::Staff`] from the caller (the
//! HTTP edge passes the signed-in staff member). Notices and the nightly jobs are the `jobs`
//! crate's, calling the services here.

mod closures;
mod holds;
pub mod ledger;
mod library_settings;
pub mod patrons;
mod settings;

pub use closures::ClosureReport;
pub use holds::{HoldChange, PullListEntry, ShelfSweep};
pub use library_settings::SettingsStamp;
pub use settings::{BranchCalendar, Circulation, CirculationSettings, RuleSettingsText, SettingsError, Week};

use catalog::{Barcode, Code, ItemStatus};
use chrono::{DateTime, Utc};
use circulation::{
    BranchContext, CalendarError, CheckIn, CheckInError, CheckInRequest, CheckoutRequest, DueDate, FineTerms,
    HoldState, ItemSnapshot, ItemState, LoanCounts, OpenLoan, OverrideError, PatronSnapshot, Refusal, RenewalRequest,
    Routing, Staff,
};
use std::sync::{Arc, RwLock};
use storage::holds::NewTransit;
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
    /// A hold change the hold's state does not allow (resuming a hold that is not suspended).
    #[error(transparent)]
    Hold(#[from] circulation::HoldError),
    /// A request the desk cannot act on as asked (an emergency closure of a past day).
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    /// Edited settings that do not build; the place names the row and field.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// Edited settings saved from a version someone else has changed since.
    #[error(transparent)]
    StaleSettings(#[from] storage::settings::StaleSettings),
    /// The card was replaced by a new one: its number no longer works.
    #[error("card {card} was replaced on {} and no longer works", .replaced_at.format("%Y-%m-%d"))]
    CardReplaced { card: String, replaced_at: DateTime<Utc> },
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
    /// Holds: the hold the copy goes to (hold shelf or transit), with its patron's card.
    pub hold: Option<storage::holds::StoredHold>,
}

/// The desk's services over a database, with the library's circulation settings.
///
/// Clones share one view of the settings, so an emergency closure declared or a rule edited
/// through one (the web server's) is seen by all (the SIP2 server's, the job scheduler's).
#[derive(Debug, Clone)]
pub struct Desk {
    /// As configured (`shelfmark.toml`): what a library runs on until staff edit its settings.
    configured: Arc<Configured>,
    /// In force: the edited settings where there are any, with the stored emergency closures.
    live: Arc<RwLock<Live>>,
}

#[derive(Debug)]
struct Configured {
    circulation: Arc<Circulation>,
    patrons: Arc<patrons::PatronRules>,
}

/// The settings in force. Each part is an `Arc` swapped whole, so a checkout that took the
/// circulation settings before an edit finishes with them, and one after it sees only the new.
#[derive(Debug, Clone)]
struct Live {
    /// The circulation settings before the closures are added (the edited ones, or the file's).
    circulation: Arc<Circulation>,
    circulation_stamp: SettingsStamp,
    /// Every stored emergency closure, kept so an edit of the calendars keeps them.
    closures: Vec<(Code, chrono::NaiveDate)>,
    /// `circulation` with the closures in the branches' calendars: what every operation uses.
    current: Arc<Circulation>,
    patrons: Arc<patrons::PatronRules>,
    patrons_stamp: SettingsStamp,
}

impl Live {
    fn new(circulation: Arc<Circulation>, patrons: Arc<patrons::PatronRules>) -> Live {
        Live {
            current: circulation.clone(),
            circulation,
            circulation_stamp: SettingsStamp::default(),
            closures: Vec::new(),
            patrons,
            patrons_stamp: SettingsStamp::default(),
        }
    }
}

fn patron_snapshot(p: &PatronAccount, overdue_loans: u32) -> PatronSnapshot {
    PatronSnapshot {
        id: circulation::PatronId(p.id),
        category: p.category.clone(),
        home_branch: p.home_branch.clone(),
        card_expiry: p.expiry_date,
        blocks: p.blocks.iter().map(patrons::block).collect(),
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
        Desk::configured(Arc::new(circulation), Arc::new(patrons::PatronRules::default()))
    }

    fn configured(circulation: Arc<Circulation>, patrons: Arc<patrons::PatronRules>) -> Desk {
        Desk {
            live: Arc::new(RwLock::new(Live::new(circulation.clone(), patrons.clone()))),
            configured: Arc::new(Configured { circulation, patrons }),
        }
    }

    /// The desk with the library's `[patrons]` settings (card numbers, categories).
    pub fn with_patron_rules(self, patron_rules: patrons::PatronRules) -> Desk {
        Desk::configured(self.configured.circulation.clone(), Arc::new(patron_rules))
    }

    /// The patron settings in force: the edited ones, else the configured ones.
    pub fn patron_rules(&self) -> Arc<patrons::PatronRules> {
        self.live().patrons.clone()
    }

    /// The circulation settings in force: the edited ones (else the configured ones), with the
    /// stored closures.
    pub fn circulation(&self) -> Arc<Circulation> {
        self.live().current.clone()
    }

    fn live(&self) -> std::sync::RwLockReadGuard<'_, Live> {
        self.live.read().unwrap_or_else(|e| e.into_inner())
    }

    fn live_mut(&self) -> std::sync::RwLockWriteGuard<'_, Live> {
        self.live.write().unwrap_or_else(|e| e.into_inner())
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
        let c = self.circulation();
        let calendar = c.calendar(branch);
        let mut outcome: Option<Result<(DueDate, Vec<String>), DeskError>> = None;
        let loan = db
            .checkout(card_number, barcode, now, &mut |ctx| {
                let patron = patron_snapshot(&ctx.patron, ctx.overdue_loans);
                let item = item_snapshot(&ctx.item, ctx.loanable, ctx.open_loan.as_ref().map(|l| l.patron_id));
                let where_ = BranchContext {
                    checkout_branch: branch.clone(),
                    item_home_branch: ctx.item.item.home_branch.clone(),
                    patron_home_branch: ctx.patron.home_branch.clone(),
                };
                let resolution = c.matrix.resolve_for(&where_, &ctx.patron.category, &ctx.item.item.item_type);
                // Holds: the hold with a claim on this copy (trapped for it, or first in line).
                let queue = match holds::queue_of(ctx.item.bib_id, &ctx.holds) {
                    Ok(q) => q,
                    Err(e) => {
                        outcome = Some(Err(e));
                        return None;
                    }
                };
                let claim = queue.claim_on(item.id, calendar.local_date(now), self.hold_allowed(&ctx.holds, &ctx.item));
                let request = CheckoutRequest {
                    patron: &patron,
                    item: &item,
                    resolution: &resolution,
                    loans: LoanCounts { total: ctx.loans_total, of_item_type: ctx.loans_of_item_type },
                    claim,
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
                        // Holds: the patron's own hold is filled; another patron's trap broken by an
                        // override waits again for the next copy.
                        let mut queue = queue.clone();
                        let own = plan.fills_hold.or_else(|| {
                            // Past another's claim by override: the patron's own untrapped hold this
                            // copy could fill is filled too, so it does not trap a second copy later.
                            queue
                                .holds()
                                .iter()
                                .find(|h| {
                                    h.patron == patron.id
                                        && matches!(h.state, HoldState::Waiting | HoldState::Suspended { .. })
                                        && h.item.is_none_or(|i| i == item.id)
                                })
                                .map(|h| h.id)
                        });
                        let mut update = || -> Result<(), circulation::HoldError> {
                            if let Some(h) = own {
                                queue.fill(h, now)?;
                            }
                            match claim {
                                Some(cl) if cl.trapped && Some(cl.hold) != own => queue.release(cl.hold).map(|_| ()),
                                _ => Ok(()),
                            }
                        };
                        if let Err(e) = update() {
                            outcome = Some(Err(e.into()));
                            return None;
                        }
                        let mut holds = holds::changed(&ctx.holds, &queue);
                        for h in holds.iter_mut().filter(|h| Some(circulation::HoldId(h.id)) == own) {
                            h.trapped_item_id = Some(ctx.item.id);
                        }
                        outcome = Some(Ok((plan.due, overridden)));
                        Some(LoanWrite {
                            checkout_branch: branch.clone(),
                            due_at: plan.due.at,
                            override_entry: entry,
                            holds,
                        })
                    }
                    Err(e) => {
                        outcome = Some(Err(e));
                        None
                    }
                }
            })
            .map_err(|e| patrons::card_error(db, e))?;
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
        let c = self.circulation();
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
                // Holds: refused when a hold of another patron could take this copy.
                wanted_by_others: holds::queue_of(ctx.item.bib_id, &ctx.holds)
                    .map(|q| {
                        let today = c.calendar(&ctx.loan.checkout_branch).local_date(now);
                        q.claim_on(circulation::ItemId(ctx.item.id), today, self.hold_allowed(&ctx.holds, &ctx.item))
                            .is_some_and(|cl| cl.patron != circulation::PatronId(ctx.patron.id))
                    })
                    .unwrap_or(true),
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
        let c = self.circulation();
        let mut outcome: Option<Result<CheckinReceipt, DeskError>> = None;
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
            // Holds (begin): the record's queue, read under the copy's lock; the hold-shelf days
            // are those of the rule of the hold with a claim on the copy.
            let calendar = c.calendar(branch);
            let mut queue = match holds::queue_of(ctx.item.bib_id, &ctx.holds) {
                Ok(q) => q,
                Err(e) => {
                    outcome = Some(Err(e));
                    return None;
                }
            };
            let shelf_days = self.shelf_days(&ctx.holds, &queue, &ctx.item, calendar.local_date(now));
            // Holds (end).
            let request = CheckInRequest {
                item: &item,
                loan: loan.as_ref().map(|(l, _, _)| *l),
                here: branch,
                calendar,
                fine_calendar: c.calendar(fine_branch),
                returned_at: returned_at.unwrap_or(now),
                now,
                hold_shelf_days: shelf_days,
            };
            match circulation::check_in(&request, &mut queue, self.hold_allowed(&ctx.holds, &ctx.item)) {
                Ok(decision) => {
                    let (status, holding) = match &decision.routing {
                        Routing::Shelve => (ItemStatus::Available, branch.clone()),
                        Routing::HoldShelf { .. } => (ItemStatus::OnHoldShelf, branch.clone()),
                        Routing::Transit { .. } => (ItemStatus::InTransit, branch.clone()),
                    };
                    // Holds: the trap (or arrival) to write, the transit to start, and the hold
                    // the copy goes to, for the receipt.
                    let (to_hold, transit) = match &decision.routing {
                        Routing::Shelve => (None, None),
                        Routing::HoldShelf { hold, .. } => (Some(*hold), None),
                        Routing::Transit { to, hold } => (
                            *hold,
                            Some(NewTransit {
                                item_id: ctx.item.id,
                                from_branch: branch.clone(),
                                to_branch: to.clone(),
                                hold_id: hold.map(|h| h.0),
                            }),
                        ),
                    };
                    let holds = holds::changed(&ctx.holds, &queue);
                    let hold = to_hold.and_then(|id| holds.iter().chain(&ctx.holds).find(|h| h.id == id.0).cloned());
                    let write = CheckinWrite {
                        return_branch: branch.clone(),
                        returned_at: request.returned_at,
                        overdue_charge: decision.charge,
                        status,
                        holding_branch: holding,
                        holds,
                        transit,
                        found,
                    };
                    outcome = Some(Ok(CheckinReceipt {
                        barcode: barcode.clone(),
                        loan_closed: ctx.loan.is_some(),
                        decision,
                        status,
                        hold,
                    }));
                    Some(write)
                }
                Err(e) => {
                    outcome = Some(Err(e.into()));
                    None
                }
            }
        })?;
        match outcome {
            Some(outcome) => outcome,
            None => Err(DeskError::Storage(StorageError::Other("the check-in decision was not asked".to_string()))),
        }
    }
}
