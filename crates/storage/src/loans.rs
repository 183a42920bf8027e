//! Loans as storage keeps them, and the contexts a checkout, renewal or check-in decision reads.
//!
//! Storage does not decide: each of [`crate::Database::checkout`], `renew` and `check_in` opens
//! one transaction, locks the copy, reads the context below, hands it to the caller's decision
//! (the `circulation` crate's pure functions, wrapped by the service), and writes what the
//! decision returned, or nothing. So the decision always sees what the write will change, and
//! two desks checking out the same copy cannot both win: the second waits for the first's lock
//! and then sees the copy on loan (and a unique index on open loans backs this up).

use crate::holds::{NewTransit, StoredHold, Transit};
use crate::{ItemId, LoanId, PatronId};
use catalog::{Code, Item, ItemStatus, Money};
use chrono::{DateTime, NaiveDate, Utc};

/// A patron as circulation needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatronAccount {
    pub id: PatronId,
    pub card_number: String,
    pub category: Code,
    pub home_branch: Code,
    pub expiry_date: NaiveDate,
    /// The sum of the patron's ledger entries.
    pub balance: Money,
    /// The patron's blocks not lifted yet (a manual block past its end date included: the
    /// decision compares the date).
    pub blocks: Vec<crate::patrons::PatronBlock>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loan {
    pub id: LoanId,
    pub item_id: ItemId,
    pub patron_id: PatronId,
    pub checkout_branch: Code,
    pub checked_out_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub renewals: u32,
    pub returned_at: Option<DateTime<Utc>>,
}

/// Everything a checkout decision looks at, read under the copy's lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutContext {
    pub patron: PatronAccount,
    pub item: Item,
    /// The item type lends (false: reference only).
    pub loanable: bool,
    /// The copy's open loan, to this patron or another.
    pub open_loan: Option<Loan>,
    /// The patron's open loans: all, and those of this item's type.
    pub loans_total: u32,
    pub loans_of_item_type: u32,
    /// The patron's overdue loans, counted up to `overdue_limit` + 1 (enough to decide).
    pub overdue_loans: u32,
    /// Holds: the open holds of the copy's record, queue order, read under the copy's lock.
    pub holds: Vec<StoredHold>,
}

/// A staff override of refusals: logged with who, what and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideEntry {
    pub staff: String,
    pub overridden: Vec<String>,
    pub reason: String,
}

/// What a checkout decision allows: a loan from `checkout_branch`, due at `due_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanWrite {
    pub checkout_branch: Code,
    pub due_at: DateTime<Utc>,
    pub override_entry: Option<OverrideEntry>,
    /// Holds: holds in their new state (the one this checkout fills; one whose trap it broke).
    pub holds: Vec<StoredHold>,
}

/// What a renewal decision looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewalContext {
    pub patron: PatronAccount,
    pub item: Item,
    pub loan: Loan,
    pub overdue_loans: u32,
    /// Holds: the open holds of the copy's record, queue order.
    pub holds: Vec<StoredHold>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewalWrite {
    pub due_at: DateTime<Utc>,
    pub override_entry: Option<OverrideEntry>,
}

/// What a check-in decision looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckinContext {
    pub item: Item,
    /// The open loan the check-in closes, with its patron.
    pub loan: Option<(Loan, PatronAccount)>,
    /// Overdue charges already posted for that loan.
    pub already_charged: Money,
    /// Holds: the open holds of the copy's record, queue order, read under the copy's lock;
    /// and the copy's open transit (checking it in receives it).
    pub holds: Vec<StoredHold>,
    pub transit: Option<Transit>,
}

/// What a check-in decision says: when the item came back, where it goes, what to charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckinWrite {
    pub return_branch: Code,
    pub returned_at: DateTime<Utc>,
    /// The overdue fine to post for the loan (zero: nothing).
    pub overdue_charge: Money,
    pub status: ItemStatus,
    pub holding_branch: Code,
    /// Holds: holds in their new state (trapped, arrived) and the transit to start, if any.
    pub holds: Vec<StoredHold>,
    pub transit: Option<NewTransit>,
    /// Ledger: the copy was declared lost and is back: reverse its lost charges on the
    /// borrower's account under this policy, in the check-in's transaction.
    pub found: Option<circulation::FoundPolicy>,
}

/// The scale of `overdue_loans`: counting stops here, so a check costs the same for a patron
/// with a thousand overdue loans.
pub const OVERDUE_COUNT_CAP: u32 = 100;
