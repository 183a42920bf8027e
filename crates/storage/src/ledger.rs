//! The patron ledger: charges, payments, waivers, write-offs and refunds; lost and damaged items.
//!
//! The trait is implemented by both backends (`sqlite/ledger.rs`, `postgres/ledger.rs`) and is a
//! supertrait of [`crate::Database`], so `dyn Database` offers its methods.
//!
//! Storage does not decide what an account may take. Every write here is one transaction that
//! locks the patron (a row lock on PostgreSQL; SQLite has one writer), reads the patron's
//! entries into the pure [`circulation::Ledger`] (which re-checks every one as it replays them),
//! hands a copy to the caller's closure to post to, and appends exactly the entries the closure
//! added, with their allocations, and sets `patrons.balance` to the ledger's balance. Rows are
//! never updated or deleted, so a charge's outstanding amount is always derivable from the rows.

use crate::loans::{Loan, PatronAccount};
use crate::{ItemId, LoanId, PatronId, Result, StorageError};
use catalog::{Barcode, Code, Item, ItemStatus, Money};
use chrono::{DateTime, Utc};
use circulation::{
    Actor, Allocation, ChargeKind, CreditKind, Entry, EntryId, EntryKind, FoundPolicy, Ledger, LedgerError,
    PaymentMethod, StaffId,
};
use std::collections::HashMap;

/// A patron's account: the ledger replayed from storage, and each entry's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub patron: PatronAccount,
    pub ledger: Ledger,
    /// `rows[i]` is where `ledger.entries()[i]` is stored.
    pub rows: Vec<EntryRow>,
}

/// Where an entry is stored: its row id (what the API names an entry by) and its loan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryRow {
    pub id: i64,
    pub loan_id: Option<LoanId>,
}

impl Account {
    /// The ledger's id for the entry stored in row `row`.
    pub fn entry_id(&self, row: i64) -> Option<EntryId> {
        self.rows.iter().position(|r| r.id == row).and_then(|i| u32::try_from(i).ok()).map(EntryId)
    }

    /// The row an entry is stored in.
    pub fn row(&self, id: EntryId) -> Option<EntryRow> {
        self.rows.get(id.0 as usize).copied()
    }
}

/// Why a ledger, lost, claims-returned, inspection or repair write was refused. Nothing was
/// written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerRefusal {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The API named an entry that is not a charge on this patron's account.
    #[error("entry {0} is not a charge on this account")]
    UnknownCharge(i64),
    #[error("item {0} is not on loan")]
    NotOnLoan(String),
    #[error("the loan of item {barcode} was already {}", kind.past_tense())]
    AlreadyStopped { barcode: String, kind: StopKind },
    #[error("item {0} is on loan: check it in before inspecting it")]
    OnLoan(String),
    #[error("item {0} has never been lent, so there is no borrower to charge")]
    NoBorrower(String),
    #[error("item {0} is not in the repair queue")]
    NotInRepair(ItemId),
}

/// Why a loan's fines stopped before it came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StopKind {
    /// Overdue past the rule's lost-after days: the replacement and processing fee are charged.
    Lost,
    /// The patron says they returned it; the copy is missing until it is found.
    ClaimsReturned,
}

impl StopKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StopKind::Lost => "lost",
            StopKind::ClaimsReturned => "claims_returned",
        }
    }

    pub fn parse(s: &str) -> Option<StopKind> {
        [StopKind::Lost, StopKind::ClaimsReturned].into_iter().find(|k| k.as_str() == s)
    }

    fn past_tense(self) -> &'static str {
        match self {
            StopKind::Lost => "declared lost",
            StopKind::ClaimsReturned => "claimed returned",
        }
    }

    /// The copy's status while the loan stands stopped.
    pub fn item_status(self) -> ItemStatus {
        match self {
            StopKind::Lost => ItemStatus::Lost,
            StopKind::ClaimsReturned => ItemStatus::Missing,
        }
    }
}

/// A loan to stop, and who says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stop {
    pub kind: StopKind,
    pub by: Actor,
    pub note: String,
}

/// What a stop decision looks at, read under the copy's and the patron's locks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopContext {
    pub loan: Loan,
    pub item: Item,
    pub account: Account,
    /// Overdue charges already posted for the loan.
    pub already_charged: Money,
}

/// A loan whose fines stopped, and the entries posted with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoppedLoan {
    pub loan: Loan,
    pub kind: StopKind,
    pub at: DateTime<Utc>,
    /// Rows of the entries posted (overdue fine to date, replacement, processing fee).
    pub entries: Vec<i64>,
    pub account: Account,
}

/// An open loan the daily lost job looks at: overdue, and the copy still counted as on loan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LostCandidate {
    pub loan: Loan,
    pub item: Item,
    pub patron: PatronAccount,
}

/// The copy's condition as the clerk found it at check-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Condition {
    Good,
    /// Wear a library accepts: nothing to do.
    Worn,
    /// Damaged but mendable.
    Damaged,
    /// Beyond repair: to be replaced or withdrawn.
    Unusable,
}

impl Condition {
    pub const ALL: [Condition; 4] = [Condition::Good, Condition::Worn, Condition::Damaged, Condition::Unusable];

    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Good => "good",
            Condition::Worn => "worn",
            Condition::Damaged => "damaged",
            Condition::Unusable => "unusable",
        }
    }

    pub fn parse(s: &str) -> Option<Condition> {
        Condition::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// A damage inspection to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInspection {
    pub barcode: Barcode,
    /// Where the inspection happens: the branch whose repair queue the copy joins.
    pub branch: Code,
    pub condition: Condition,
    pub note: String,
    /// Charged to the last borrower as a damage charge.
    pub damage_charge: Option<Money>,
    /// Send the copy to the repair queue (in repair, not holdable).
    pub to_repair: bool,
    pub by: Actor,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    pub id: i64,
    pub item_id: ItemId,
    pub branch: Code,
    pub at: DateTime<Utc>,
    pub condition: Condition,
    pub note: String,
    /// The last borrower charged, and the charge's row.
    pub charged: Option<(PatronId, i64)>,
    pub to_repair: bool,
    /// The copy's status after the inspection.
    pub status: ItemStatus,
}

/// A copy in a branch's repair queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairEntry {
    pub item: Item,
    pub inspection_id: i64,
    pub condition: Condition,
    pub note: String,
    pub queued_at: DateTime<Utc>,
}

/// The patron ledger: charges, payments, waivers, write-offs and refunds; lost and damaged items.
pub trait LedgerStore {
    /// The account of the patron with this card, or `None`.
    fn account(&self, card_number: &str) -> Result<Option<Account>>;

    /// One ledger operation on the card's account: `post` gets the account as stored and a copy
    /// of its ledger to post to; what it posted is appended (every new entry tagged with `loan`).
    /// A [`LedgerError`] from `post` writes nothing. [`StorageError::NotFound`] for an unknown card.
    fn post_to_account(
        &self,
        card_number: &str,
        now: DateTime<Utc>,
        loan: Option<LoanId>,
        post: &mut dyn FnMut(&Account, &mut Ledger) -> Result<(), LedgerRefusal>,
    ) -> Result<Result<Account, LedgerRefusal>>;

    /// Open loans due before `now` whose copy is still on loan (not lost, not claimed returned).
    fn lost_candidates(&self, now: DateTime<Utc>) -> Result<Vec<LostCandidate>>;

    /// Stops the fines of the copy's open loan (declared lost, or claimed returned): `decide`
    /// posts what the stop charges and says whether to go ahead (`false`: not yet, nothing is
    /// written, `Ok(None)`). The copy becomes Lost or Missing; the loan stays open until the copy
    /// is checked in. A loan stops once: a second stop is refused with `AlreadyStopped`.
    fn stop_loan(
        &self,
        barcode: &Barcode,
        stop: &Stop,
        now: DateTime<Utc>,
        decide: &mut dyn FnMut(&StopContext, &mut Ledger) -> Result<bool, LedgerRefusal>,
    ) -> Result<Result<Option<StoppedLoan>, LedgerRefusal>>;

    /// How many times the patron has claimed to have returned an item.
    fn claims_returned_count(&self, patron: PatronId) -> Result<u32>;

    /// Records a damage inspection of a copy that is not on loan: the damage charge (if any) to
    /// its last borrower, and the copy to the repair queue (status InRepair) or, unusable and not
    /// to be repaired, Damaged.
    fn inspect(&self, inspection: &NewInspection, now: DateTime<Utc>) -> Result<Result<Inspection, LedgerRefusal>>;

    /// The branch's repair queue, longest waiting first.
    fn repair_queue(&self, branch: &Code) -> Result<Vec<RepairEntry>>;

    /// A copy back from repair: available again at the branch that repaired it.
    fn repaired(&self, item: ItemId, now: DateTime<Utc>, by: Actor) -> Result<Result<Item, LedgerRefusal>>;
}

// ---------------------------------------------------------------------------------------------
// What both backends share: entries to rows and back.

/// A ledger row as read.
pub(crate) struct RawEntry {
    pub id: i64,
    pub kind: String,
    pub amount: i64,
    pub loan_id: Option<i64>,
    pub item_id: Option<i64>,
    pub at: DateTime<Utc>,
    pub staff: Option<String>,
    pub note: Option<String>,
    pub method: Option<String>,
    pub refund_of: Option<i64>,
}

/// A row of `ledger_allocations` as read (in `credit_id, seq` order).
pub(crate) struct RawAllocation {
    pub credit_id: i64,
    pub charge_id: i64,
    pub amount: i64,
}

/// A ledger row to write.
pub(crate) struct NewRow {
    pub kind: &'static str,
    pub amount: i64,
    pub item_id: Option<i64>,
    pub staff: Option<String>,
    pub note: String,
    pub method: Option<&'static str>,
    pub refund_of: Option<i64>,
    /// (charge row, amount), in order.
    pub allocations: Vec<(i64, i64)>,
}

fn bad(patron: PatronId, what: impl std::fmt::Display) -> StorageError {
    StorageError::Other(format!("the ledger of patron {patron} does not add up: {what}"))
}

pub(crate) fn actor_text(actor: Actor) -> Option<String> {
    match actor {
        Actor::System => None,
        Actor::Patron => Some("patron".to_string()),
        Actor::Staff(StaffId(id)) => Some(id.to_string()),
    }
}

fn actor_from(text: Option<&str>) -> Option<Actor> {
    match text {
        None => Some(Actor::System),
        Some("patron") => Some(Actor::Patron),
        Some(id) => id.parse().ok().map(|id| Actor::Staff(StaffId(id))),
    }
}

/// Replays stored rows into an account; rows that do not replay are a storage error, never
/// silently skipped.
pub(crate) fn build_account(
    patron: PatronAccount,
    raws: Vec<RawEntry>,
    allocations: Vec<RawAllocation>,
) -> Result<Account> {
    let pid = patron.id;
    let position: HashMap<i64, EntryId> =
        raws.iter().enumerate().map(|(i, r)| (r.id, EntryId(u32::try_from(i).unwrap_or(u32::MAX)))).collect();
    let mut applied: HashMap<i64, Vec<Allocation>> = HashMap::new();
    for a in allocations {
        let charge =
            *position.get(&a.charge_id).ok_or_else(|| bad(pid, format!("allocation to row {}", a.charge_id)))?;
        applied.entry(a.credit_id).or_default().push(Allocation { charge, amount: Money::from_minor(a.amount) });
    }
    let mut rows = Vec::with_capacity(raws.len());
    let mut entries = Vec::with_capacity(raws.len());
    for (i, r) in raws.into_iter().enumerate() {
        let by = actor_from(r.staff.as_deref()).ok_or_else(|| bad(pid, format!("row {} staff", r.id)))?;
        let method = || {
            r.method.as_deref().and_then(PaymentMethod::parse).ok_or_else(|| bad(pid, format!("row {} method", r.id)))
        };
        let credit = Money::from_minor(-r.amount);
        let kind = match r.kind.as_str() {
            "payment" => EntryKind::Credit {
                kind: CreditKind::Payment(method()?),
                amount: credit,
                applied: applied.remove(&r.id).unwrap_or_default(),
            },
            "waiver" | "write_off" => EntryKind::Credit {
                kind: if r.kind == "waiver" { CreditKind::Waiver } else { CreditKind::WriteOff },
                amount: credit,
                applied: applied.remove(&r.id).unwrap_or_default(),
            },
            "refund" => {
                let of = r.refund_of.and_then(|c| position.get(&c).copied());
                let charge = of.ok_or_else(|| bad(pid, format!("refund row {} names no charge", r.id)))?;
                EntryKind::Credit { kind: CreditKind::Refund { charge }, amount: credit, applied: Vec::new() }
            }
            "deposit" => {
                EntryKind::Credit { kind: CreditKind::Deposit(method()?), amount: credit, applied: Vec::new() }
            }
            "payout" => EntryKind::Payout { method: method()?, amount: Money::from_minor(r.amount) },
            other => {
                let kind = ChargeKind::parse(other).ok_or_else(|| bad(pid, format!("row {} kind {other:?}", r.id)))?;
                EntryKind::Charge {
                    kind,
                    amount: Money::from_minor(r.amount),
                    item: r.item_id.map(circulation::ItemId),
                }
            }
        };
        let id = EntryId(u32::try_from(i).unwrap_or(u32::MAX));
        entries.push(Entry { id, at: r.at, by, note: r.note.unwrap_or_default(), kind });
        rows.push(EntryRow { id: r.id, loan_id: r.loan_id });
    }
    let ledger = Ledger::from_entries(entries).map_err(|e| bad(pid, e))?;
    Ok(Account { patron, ledger, rows })
}

/// The row for a new entry. `row_of` gives the row of an entry already stored or written
/// earlier in this operation.
pub(crate) fn new_row(entry: &Entry, row_of: &dyn Fn(EntryId) -> Option<i64>) -> Result<NewRow> {
    let missing = |id: EntryId| StorageError::Other(format!("ledger entry {id:?} has no row"));
    let row = |id: EntryId| row_of(id).ok_or_else(|| missing(id));
    let base = |kind: &'static str, amount: i64| NewRow {
        kind,
        amount,
        item_id: None,
        staff: actor_text(entry.by),
        note: entry.note.clone(),
        method: None,
        refund_of: None,
        allocations: Vec::new(),
    };
    Ok(match &entry.kind {
        EntryKind::Charge { kind, amount, item } => {
            NewRow { item_id: item.map(|i| i.0), ..base(kind.as_str(), amount.minor()) }
        }
        EntryKind::Credit { kind, amount, applied } => {
            let (name, method, refund_of) = match kind {
                CreditKind::Payment(m) => ("payment", Some(m.as_str()), None),
                CreditKind::Deposit(m) => ("deposit", Some(m.as_str()), None),
                CreditKind::Waiver => ("waiver", None, None),
                CreditKind::WriteOff => ("write_off", None, None),
                CreditKind::Refund { charge } => ("refund", None, Some(row(*charge)?)),
            };
            let allocations =
                applied.iter().map(|a| Ok((row(a.charge)?, a.amount.minor()))).collect::<Result<Vec<_>>>()?;
            NewRow { method, refund_of, allocations, ..base(name, -amount.minor()) }
        }
        EntryKind::Payout { method, amount } => {
            NewRow { method: Some(method.as_str()), ..base("payout", amount.minor()) }
        }
    })
}

/// Reverses the lost-item charges for a copy that came back: the policy's part of
/// [`circulation::item_found`], run on `ledger`.
pub(crate) fn found(
    ledger: &mut Ledger,
    now: DateTime<Utc>,
    item: ItemId,
    policy: FoundPolicy,
) -> Result<(), LedgerRefusal> {
    let posting = circulation::Posting { at: now, by: Actor::System, note: "lost item returned".to_string() };
    circulation::item_found(ledger, &posting, circulation::ItemId(item), policy)?;
    Ok(())
}
