//! Why a checkout, renewal or hold was refused: a stable code for the API, SIP2 and logs, and a
//! sentence a clerk can read out to the patron.
//!
//! A refusal is an ordinary outcome, not an error. Whether a code may be overridden is a property
//! of the code, decided here once: overrides are for policy (limits, blocks, holds), not for facts
//! (the item is in someone else's hands, or still checked in somewhere else).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefusalCode {
    CardExpired,
    PatronBlocked,
    FinesOverLimit,
    TooManyOverdues,
    TooManyLoans,
    ItemNotLoanable,
    ItemNotAvailable,
    ItemOnLoanToOther,
    ItemOnLoanToPatron,
    ItemOnHoldForOther,
    RenewalLimit,
    RenewalOnHold,
    RenewalNotLater,
    HoldsNotAllowed,
    TooManyHolds,
    HoldAlreadyPlaced,
}

impl RefusalCode {
    pub const ALL: [RefusalCode; 16] = [
        RefusalCode::CardExpired,
        RefusalCode::PatronBlocked,
        RefusalCode::FinesOverLimit,
        RefusalCode::TooManyOverdues,
        RefusalCode::TooManyLoans,
        RefusalCode::ItemNotLoanable,
        RefusalCode::ItemNotAvailable,
        RefusalCode::ItemOnLoanToOther,
        RefusalCode::ItemOnLoanToPatron,
        RefusalCode::ItemOnHoldForOther,
        RefusalCode::RenewalLimit,
        RefusalCode::RenewalOnHold,
        RefusalCode::RenewalNotLater,
        RefusalCode::HoldsNotAllowed,
        RefusalCode::TooManyHolds,
        RefusalCode::HoldAlreadyPlaced,
    ];

    /// The stable code, as in the API and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalCode::CardExpired => "card_expired",
            RefusalCode::PatronBlocked => "patron_blocked",
            RefusalCode::FinesOverLimit => "fines_over_limit",
            RefusalCode::TooManyOverdues => "too_many_overdues",
            RefusalCode::TooManyLoans => "too_many_loans",
            RefusalCode::ItemNotLoanable => "item_not_loanable",
            RefusalCode::ItemNotAvailable => "item_not_available",
            RefusalCode::ItemOnLoanToOther => "item_on_loan_to_other",
            RefusalCode::ItemOnLoanToPatron => "item_on_loan_to_patron",
            RefusalCode::ItemOnHoldForOther => "item_on_hold_for_other",
            RefusalCode::RenewalLimit => "renewal_limit",
            RefusalCode::RenewalOnHold => "renewal_on_hold",
            RefusalCode::RenewalNotLater => "renewal_not_later",
            RefusalCode::HoldsNotAllowed => "holds_not_allowed",
            RefusalCode::TooManyHolds => "too_many_holds",
            RefusalCode::HoldAlreadyPlaced => "hold_already_placed",
        }
    }

    /// Whether staff with the override permission may go ahead anyway (with a logged reason).
    /// Not overridable: an item on loan to someone else or not available must be checked in
    /// first; an item already on loan to this patron is a renewal; a renewal that would not move
    /// the due date has nothing to grant; a second hold on the same title is a mistake.
    pub fn overridable(self) -> bool {
        !matches!(
            self,
            RefusalCode::ItemNotAvailable
                | RefusalCode::ItemOnLoanToOther
                | RefusalCode::ItemOnLoanToPatron
                | RefusalCode::RenewalNotLater
                | RefusalCode::HoldAlreadyPlaced
        )
    }
}

impl fmt::Display for RefusalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: RefusalCode,
    /// What the clerk reads out, with the particulars ("Fines of 12.50 are over the limit of 10.00.").
    pub message: String,
}

impl Refusal {
    pub fn new(code: RefusalCode, message: impl Into<String>) -> Refusal {
        Refusal { code, message: message.into() }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for c in RefusalCode::ALL {
            assert!(seen.insert(c.as_str()), "{c}");
            assert!(c.as_str().chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'));
        }
    }
}
