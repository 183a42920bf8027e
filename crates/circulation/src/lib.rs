//! Circulation's domain: who may borrow what, for how long, what it costs when it comes back
//! late, who gets it next, and what the patron owes.
//!
//! Everything here is a function of its inputs. Storage, the HTTP edge and the nightly scheduler
//! read a snapshot (the patron, the item, the rule, the counts, the hold queue), call in, and
//! write back what the decision says; the clock is always a `now` parameter. That is what lets
//! a fine be recomputed tomorrow with the same answer, an offline transaction be replayed with
//! its own timestamp, and every rule be proved with property tests instead of fixtures.
//!
//! Read it by module:
//! * [`rules`]: the rule matrix (branch x patron category x item type), blank-field fallback and
//!   the "which rule applies and why" explanation.
//! * [`calendar`]: each branch's opening hours and closed days, in the library's time zone.
//! * [`due`]: due dates from a rule and a calendar, never past the card's expiry or a hard due date.
//! * [`fines`]: the overdue fine as a pure function of the loan, the rule and the calendar.
//! * [`ledger`]: the patron's append-only account of charges and credits.
//! * [`holds`]: the hold queue, trapping a returned item, the hold shelf and its deadlines.
//! * [`checkout`]: the checkout, renewal and hold-placement decisions, with refusal codes.
//! * [`checkin`]: the check-in decision: fine, prompts for the clerk, routing (shelf, hold, transit).
//! * [`lost`]: when an overdue item is declared lost, what that charges, and what comes back.
//! * [`notices`]: which notice (courtesy, overdue, hold ready, ...) is due now.
//! * [`registration`]: card numbers (pattern and check digit), the registration form's checks,
//!   card expiry and renewal, and the keys that find duplicate patrons.
//! * [`patron`], [`refusal`], [`staff`]: the patron snapshot, the refusal codes a clerk reads
//!   out, and the staff permissions that may override them.

pub mod calendar;
pub mod checkin;
pub mod checkout;
pub mod due;
pub mod fines;
pub mod holds;
pub mod ledger;
pub mod lost;
pub mod notices;
pub mod patron;
pub mod refusal;
pub mod registration;
pub mod rules;
pub mod staff;
#[cfg(test)]
mod testing;

pub use calendar::{Calendar, CalendarError, ClosedDay, OpeningHours};
pub use catalog::{Code, Money};
pub use checkin::{check_in, CheckIn, CheckInError, CheckInRequest, OpenLoan, Prompt, Routing};
pub use checkout::{
    decide_checkout, decide_hold_placement, decide_renewal, CheckoutPlan, CheckoutRequest, Decision, HoldRequest,
    ItemSnapshot, ItemState, LoanCounts, LoanSnapshot, Overridden, OverrideError, RenewalPlan, RenewalRequest,
};
pub use due::{due_date, DueDate, DueLimit};
pub use fines::{overdue_fine, FineCap, FineTerms, OverdueFine};
pub use holds::{pickup_deadline, Hold, HoldClaim, HoldError, HoldQueue, HoldState, TrapDecision};
pub use ledger::{
    Actor, Allocation, Apply, ChargeKind, CreditKind, Entry, EntryId, EntryKind, Ledger, LedgerError, PaymentMethod,
    Posting,
};
pub use lost::{declare_lost, is_lost, item_found, FoundPolicy};
pub use notices::{card_notice, hold_notice, loan_notice, NoticeKind, NoticeSchedule};
pub use patron::{patron_refusals, Block, BlockKind, CirculationPolicy, PatronSnapshot};
pub use refusal::{Refusal, RefusalCode};
pub use rules::{
    BranchContext, Explanation, FineRate, GoverningBranch, Limit, Parameter, Period, Resolution, Rule, RuleError,
    RuleKey, RuleMatrix, RuleRow, RuleSettings, Scope, TimeUnit,
};
pub use staff::{Permission, Staff};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

id_type!(
    /// A patron as storage numbers them; never the card number, which changes when a card is replaced.
    PatronId
);
id_type!(
    /// An item (copy) as storage numbers them.
    ItemId
);
id_type!(
    /// A bibliographic record: what a title-level hold waits for.
    RecordId
);
id_type!(
    /// A hold as storage numbers them.
    HoldId
);
id_type!(
    /// A staff account: who did it, for the ledger and the override log.
    StaffId
);
