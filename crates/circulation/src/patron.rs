//! The patron as a circulation decision sees them: a snapshot of counts and flags, never a list
//! of loans, so that a decision costs the same for a patron with two loans or two hundred.

use crate::refusal::{Refusal, RefusalCode};
use crate::rules::Limit;
use crate::{Money, PatronId};
use catalog::Code;
use chrono::NaiveDate;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockKind {
    /// A manual block (debarment); `until` is the last day it applies, `None` until lifted.
    Manual { until: Option<NaiveDate> },
    /// The card was reported lost: its number must not borrow.
    LostCard,
    /// Mail came back: the patron must update their address.
    AddressUnknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub kind: BlockKind,
    /// Staff's note, read out with the refusal.
    pub reason: String,
}

impl Block {
    pub fn is_active(&self, today: NaiveDate) -> bool {
        match self.kind {
            BlockKind::Manual { until: Some(until) } => today <= until,
            _ => true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatronSnapshot {
    pub id: PatronId,
    pub category: Code,
    pub home_branch: Code,
    /// The last day the card is valid.
    pub card_expiry: NaiveDate,
    pub blocks: Vec<Block>,
    /// The ledger balance.
    pub balance: Money,
    /// Loans now overdue.
    pub overdue_loans: u32,
}

/// Library-wide limits that block a patron whatever the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CirculationPolicy {
    /// Fines above this block borrowing (LIBRARY.md's example: 10.00).
    pub fine_limit: Limit<Money>,
    /// More overdue loans than this block borrowing.
    pub max_overdues: Limit<u32>,
}

/// What stops this patron borrowing today, whatever the item.
pub fn patron_refusals(patron: &PatronSnapshot, policy: &CirculationPolicy, today: NaiveDate) -> Vec<Refusal> {
    let mut out = Vec::new();
    if patron.card_expiry < today {
        out.push(Refusal::new(
            RefusalCode::CardExpired,
            format!("The library card expired on {}.", patron.card_expiry),
        ));
    }
    for block in patron.blocks.iter().filter(|b| b.is_active(today)) {
        let what = match block.kind {
            BlockKind::Manual { until: Some(until) } => format!("The patron is blocked until {until}"),
            BlockKind::Manual { until: None } => "The patron is blocked".to_string(),
            BlockKind::LostCard => "This card was reported lost".to_string(),
            BlockKind::AddressUnknown => "The patron's address must be updated".to_string(),
        };
        let reason = if block.reason.trim().is_empty() { String::new() } else { format!(": {}", block.reason.trim()) };
        out.push(Refusal::new(RefusalCode::PatronBlocked, format!("{what}{reason}.")));
    }
    if let Some(limit) = policy.fine_limit.value() {
        if patron.balance > limit {
            out.push(Refusal::new(
                RefusalCode::FinesOverLimit,
                format!("Fines of {} are over the limit of {limit}.", patron.balance),
            ));
        }
    }
    if let Some(max) = policy.max_overdues.value() {
        if patron.overdue_loans > max {
            out.push(Refusal::new(
                RefusalCode::TooManyOverdues,
                format!("The patron has {} overdue items (the limit is {max}).", patron.overdue_loans),
            ));
        }
    }
    out
}
