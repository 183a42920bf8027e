//! Emergency closures: a day a branch closes after due dates and hold-shelf pickup deadlines
//! were set (a snow day, a burst pipe).
//!
//! Closing the day, moving the due dates of the loans it falls on and pushing back the pickup
//! deadlines of the holds waiting on that branch's shelf happen in one transaction: a closure
//! is never half-declared. Storage keeps what the desk decides (`circulation::Calendar` says how
//! a due date or deadline moves); the closures stored here are added to the branches'
//! calendars whenever the desk reads them.

use crate::holds::HoldId;
use crate::{LoanId, Result};
use catalog::Code;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// A day closed at a branch, as declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Closure {
    pub branch: Code,
    /// The local date closed.
    pub day: NaiveDate,
    pub reason: String,
    /// The staff login that declared it.
    pub declared_by: Option<String>,
    pub declared_at: DateTime<Utc>,
}

/// What a closure touches, read inside its transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosureContext {
    /// Open loans checked out at the branch (whose due dates its calendar set) due inside the
    /// asked window, with their due instants.
    pub loans: Vec<(LoanId, DateTime<Utc>)>,
    /// Holds on the branch's hold shelf whose pickup deadline is at or after the window's start.
    pub shelf_holds: Vec<(HoldId, DateTime<Utc>)>,
}

/// The moves the desk decided: new due instants and new pickup deadlines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClosureWrite {
    pub loans: Vec<(LoanId, DateTime<Utc>)>,
    pub shelf_holds: Vec<(HoldId, DateTime<Utc>)>,
}

/// Emergency closures. Every method is one transaction.
pub trait ClosureStore {
    /// Records the closures (one day at one or more branches), and for each reads the open
    /// loans checked out at its branch due between `window.0` and `window.1` (UTC instants
    /// covering the local day) and the hold-shelf deadlines from `window.0` on, and writes what
    /// `decide` returns; all in one transaction. [`crate::StorageError::Conflict`] when the day
    /// is already closed at one of the branches; [`crate::StorageError::NotFound`] for an
    /// unknown branch.
    fn declare_closures(
        &self,
        closures: &[Closure],
        window: (DateTime<Utc>, DateTime<Utc>),
        decide: &mut dyn FnMut(&Closure, &ClosureContext) -> ClosureWrite,
    ) -> Result<Vec<ClosureWrite>>;

    /// Every closure, by day then branch.
    fn closures(&self) -> Result<Vec<Closure>>;
}
