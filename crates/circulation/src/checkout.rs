//! The checkout, renewal and hold-placement decisions.
//!
//! Each is a pure function over a snapshot (the patron's counts and flags, the item's state, the
//! resolved rule, the hold that claims the item) and returns a [`Decision`]: the plan (due date,
//! hold filled) and every refusal that applies, not only the first, so the clerk can deal with
//! all of them at once. The plan is computed even when refused, because an override goes ahead
//! with exactly that plan. The inputs are counts, never lists of loans, so a decision costs the
//! same whatever the patron has out.

use crate::calendar::{Calendar, CalendarError};
use crate::due::{due_date, DueDate};
use crate::holds::HoldClaim;
use crate::patron::{patron_refusals, CirculationPolicy, PatronSnapshot};
use crate::refusal::{Refusal, RefusalCode};
use crate::rules::{Resolution, Rule};
use crate::staff::{Permission, Staff};
use crate::{HoldId, ItemId, Money, PatronId, RecordId, StaffId};
use catalog::{Code, ItemStatus};
use chrono::{DateTime, Utc};

/// An item's state with what circulation needs to know about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemState {
    Available,
    CheckedOut { patron: PatronId },
    InTransit,
    OnHoldShelf,
    Lost,
    Missing,
    Damaged,
    InRepair,
    Withdrawn,
    OnOrder,
}

impl ItemState {
    pub fn status(self) -> ItemStatus {
        match self {
            ItemState::Available => ItemStatus::Available,
            ItemState::CheckedOut { .. } => ItemStatus::CheckedOut,
            ItemState::InTransit => ItemStatus::InTransit,
            ItemState::OnHoldShelf => ItemStatus::OnHoldShelf,
            ItemState::Lost => ItemStatus::Lost,
            ItemState::Missing => ItemStatus::Missing,
            ItemState::Damaged => ItemStatus::Damaged,
            ItemState::InRepair => ItemStatus::InRepair,
            ItemState::Withdrawn => ItemStatus::Withdrawn,
            ItemState::OnOrder => ItemStatus::OnOrder,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemSnapshot {
    pub id: ItemId,
    pub record: RecordId,
    pub item_type: Code,
    /// False for reference-only item types.
    pub loanable: bool,
    pub home_branch: Code,
    pub state: ItemState,
    /// The replacement price, when known.
    pub price: Option<Money>,
    /// "3 discs + booklet": counted at the desk on the way out and back in.
    pub materials_specified: Option<String>,
}

/// The patron's loans, counted: all of them, and those of the item's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoanCounts {
    pub total: u32,
    pub of_item_type: u32,
}

/// A plan and the refusals that stand in its way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision<T> {
    pub plan: T,
    pub refusals: Vec<Refusal>,
}

/// A refused decision that staff went ahead with: log `overridden`, `by` and `reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overridden<T> {
    pub plan: T,
    pub overridden: Vec<RefusalCode>,
    pub by: StaffId,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OverrideError {
    #[error("staff {0} does not have the override permission")]
    NoPermission(StaffId),
    #[error("an override needs a reason")]
    ReasonRequired,
    #[error("these cannot be overridden: {}", .0.iter().map(|r| r.code.as_str()).collect::<Vec<_>>().join(", "))]
    NotOverridable(Vec<Refusal>),
}

impl<T> Decision<T> {
    pub fn is_allowed(&self) -> bool {
        self.refusals.is_empty()
    }

    pub fn has(&self, code: RefusalCode) -> bool {
        self.refusals.iter().any(|r| r.code == code)
    }

    /// The plan when nothing refused it.
    pub fn allowed(self) -> Result<T, Vec<Refusal>> {
        if self.refusals.is_empty() {
            Ok(self.plan)
        } else {
            Err(self.refusals)
        }
    }

    /// Goes ahead despite the refusals, when `staff` may override, gives a reason, and every
    /// refusal is overridable.
    pub fn override_by(self, staff: &Staff, reason: &str) -> Result<Overridden<T>, OverrideError> {
        let fixed: Vec<Refusal> = self.refusals.iter().filter(|r| !r.code.overridable()).cloned().collect();
        if !fixed.is_empty() {
            return Err(OverrideError::NotOverridable(fixed));
        }
        if !self.refusals.is_empty() {
            if !staff.may(Permission::Override) {
                return Err(OverrideError::NoPermission(staff.id));
            }
            if reason.trim().is_empty() {
                return Err(OverrideError::ReasonRequired);
            }
        }
        Ok(Overridden {
            plan: self.plan,
            overridden: self.refusals.iter().map(|r| r.code).collect(),
            by: staff.id,
            reason: reason.trim().to_string(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckoutPlan {
    pub due: DueDate,
    /// The patron's own hold this checkout fills.
    pub fills_hold: Option<HoldId>,
}

/// Everything a checkout decision looks at.
#[derive(Debug, Clone, Copy)]
pub struct CheckoutRequest<'a> {
    pub patron: &'a PatronSnapshot,
    pub item: &'a ItemSnapshot,
    /// The rule for this patron category and item type, resolved for the governing branch.
    pub resolution: &'a Resolution,
    pub loans: LoanCounts,
    /// The hold that claims this item, if any (see [`crate::holds::HoldQueue::claim_on`]).
    pub claim: Option<HoldClaim>,
    pub policy: &'a CirculationPolicy,
    /// The calendar of the checkout branch.
    pub calendar: &'a Calendar,
    pub now: DateTime<Utc>,
}

pub fn decide_checkout(req: &CheckoutRequest<'_>) -> Result<Decision<CheckoutPlan>, CalendarError> {
    let rule = &req.resolution.rule;
    let today = req.calendar.local_date(req.now);
    let mut refusals = patron_refusals(req.patron, req.policy, today);
    let item = req.item;
    match item.state {
        ItemState::CheckedOut { patron } if patron == req.patron.id => refusals
            .push(Refusal::new(RefusalCode::ItemOnLoanToPatron, "The patron already has this item; renew it instead.")),
        ItemState::CheckedOut { .. } => refusals.push(Refusal::new(
            RefusalCode::ItemOnLoanToOther,
            "This item is checked out to another patron; check it in first.",
        )),
        ItemState::Available | ItemState::OnHoldShelf => {}
        other => refusals.push(Refusal::new(
            RefusalCode::ItemNotAvailable,
            format!("This item's status is {}; check it in first.", other.status().as_str().replace('_', " ")),
        )),
    }
    if !item.loanable || (rule.loan_period.count == 0) {
        refusals.push(Refusal::new(RefusalCode::ItemNotLoanable, "This item is not for loan (reference only)."));
    }
    let (count, of_what) = if req.resolution.max_loans_per_item_type() {
        (req.loans.of_item_type, format!("{} loans", item.item_type))
    } else {
        (req.loans.total, "loans".to_string())
    };
    if count >= rule.max_loans {
        refusals.push(Refusal::new(
            RefusalCode::TooManyLoans,
            format!("The patron has {count} {of_what}, the most allowed is {}.", rule.max_loans),
        ));
    }
    let mut fills_hold = None;
    match req.claim {
        Some(claim) if claim.patron == req.patron.id => fills_hold = Some(claim.hold),
        Some(claim) => refusals.push(Refusal::new(
            RefusalCode::ItemOnHoldForOther,
            if claim.trapped {
                "This item is waiting for another patron's hold."
            } else {
                "Another patron has a hold this item could fill."
            },
        )),
        None => {}
    }
    let due = due_date(req.now, rule.loan_period, rule.hard_due_date, req.patron.card_expiry, req.calendar)?;
    Ok(Decision { plan: CheckoutPlan { due, fills_hold }, refusals })
}

/// A loan as a renewal sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoanSnapshot {
    pub item: ItemId,
    pub due: DateTime<Utc>,
    pub renewals_used: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenewalPlan {
    pub due: DueDate,
    pub renewals_used: u32,
}

#[derive(Debug, Clone, Copy)]
pub struct RenewalRequest<'a> {
    pub patron: &'a PatronSnapshot,
    pub loan: LoanSnapshot,
    pub resolution: &'a Resolution,
    /// Whether another patron has a hold this item could fill.
    pub wanted_by_others: bool,
    pub policy: &'a CirculationPolicy,
    pub calendar: &'a Calendar,
    pub now: DateTime<Utc>,
}

/// A renewal runs the rule's renewal period from today; it must move the due date later.
pub fn decide_renewal(req: &RenewalRequest<'_>) -> Result<Decision<RenewalPlan>, CalendarError> {
    let rule = &req.resolution.rule;
    let today = req.calendar.local_date(req.now);
    let mut refusals = patron_refusals(req.patron, req.policy, today);
    if req.loan.renewals_used >= rule.renewals_allowed {
        refusals.push(Refusal::new(
            RefusalCode::RenewalLimit,
            format!("This item has been renewed {} times, the most allowed.", req.loan.renewals_used),
        ));
    }
    if req.wanted_by_others {
        refusals.push(Refusal::new(RefusalCode::RenewalOnHold, "Another patron is waiting for this item."));
    }
    let due = due_date(req.now, rule.renewal_period, rule.hard_due_date, req.patron.card_expiry, req.calendar)?;
    if due.at <= req.loan.due {
        let why = due.limited_by.map_or("", |l| l.message());
        refusals.push(Refusal::new(
            RefusalCode::RenewalNotLater,
            format!("Renewing would not move the due date later. {why}").trim().to_string(),
        ));
    }
    Ok(Decision { plan: RenewalPlan { due, renewals_used: req.loan.renewals_used.saturating_add(1) }, refusals })
}

/// What a hold placement looks at.
#[derive(Debug, Clone, Copy)]
pub struct HoldRequest<'a> {
    pub patron: &'a PatronSnapshot,
    pub rule: &'a Rule,
    pub policy: &'a CirculationPolicy,
    /// Holds the patron has now.
    pub holds_placed: u32,
    /// The patron already has a hold on this title.
    pub already_holds_title: bool,
    /// The patron has this very item (an item-level hold) or a copy of this title on loan.
    pub has_it_on_loan: bool,
    pub now: DateTime<Utc>,
    pub calendar: &'a Calendar,
}

pub fn decide_hold_placement(req: &HoldRequest<'_>) -> Decision<()> {
    let today = req.calendar.local_date(req.now);
    let mut refusals = patron_refusals(req.patron, req.policy, today);
    if !req.rule.hold_allowed {
        refusals.push(Refusal::new(
            RefusalCode::HoldsNotAllowed,
            "Holds are not allowed on this item type for this patron.",
        ));
    }
    if req.holds_placed >= req.rule.max_holds {
        refusals.push(Refusal::new(
            RefusalCode::TooManyHolds,
            format!("The patron has {} holds, the most allowed is {}.", req.holds_placed, req.rule.max_holds),
        ));
    }
    if req.already_holds_title {
        refusals.push(Refusal::new(RefusalCode::HoldAlreadyPlaced, "The patron already has a hold on this title."));
    }
    if req.has_it_on_loan {
        refusals.push(Refusal::new(RefusalCode::ItemOnLoanToPatron, "The patron already has this title on loan."));
    }
    Decision { plan: (), refusals }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patron::{Block, BlockKind};
    use crate::rules::{GoverningBranch, Limit, Period, RuleKey, RuleMatrix, RuleRow, RuleSettings, Scope};
    use crate::testing::{branch_calendar, code, date, default_rule, local, money};
    use proptest::prelude::*;

    fn patron() -> PatronSnapshot {
        PatronSnapshot {
            id: PatronId(1),
            category: code("ADULT"),
            home_branch: code("CPL"),
            card_expiry: date(2027, 1, 1),
            blocks: vec![],
            balance: Money::ZERO,
            overdue_loans: 0,
        }
    }

    fn item() -> ItemSnapshot {
        ItemSnapshot {
            id: ItemId(5),
            record: RecordId(9),
            item_type: code("BK"),
            loanable: true,
            home_branch: code("CPL"),
            state: ItemState::Available,
            price: Some(money(2500)),
            materials_specified: None,
        }
    }

    fn policy() -> CirculationPolicy {
        CirculationPolicy { fine_limit: Limit::At(money(1000)), max_overdues: Limit::At(3) }
    }

    fn resolution(rows: Vec<RuleRow>) -> Resolution {
        let mut all = vec![RuleRow { key: RuleKey::DEFAULT, settings: default_rule().to_settings() }];
        all.extend(rows);
        RuleMatrix::new(all, GoverningBranch::CheckoutBranch).unwrap().resolve(
            &code("CPL"),
            &code("ADULT"),
            &code("BK"),
        )
    }

    fn checkout(
        p: &PatronSnapshot,
        i: &ItemSnapshot,
        loans: LoanCounts,
        claim: Option<HoldClaim>,
    ) -> Decision<CheckoutPlan> {
        let cal = branch_calendar();
        let r = resolution(vec![]);
        let req = CheckoutRequest {
            patron: p,
            item: i,
            resolution: &r,
            loans,
            claim,
            policy: &policy(),
            calendar: &cal,
            now: local(&cal, 2026, 3, 4, 10, 0),
        };
        decide_checkout(&req).unwrap()
    }

    fn codes<T>(d: &Decision<T>) -> Vec<RefusalCode> {
        d.refusals.iter().map(|r| r.code).collect()
    }

    #[test]
    fn a_clean_checkout_is_allowed_with_a_due_date() {
        let d = checkout(&patron(), &item(), LoanCounts::default(), None);
        let cal = branch_calendar();
        assert_eq!(d.clone().allowed().unwrap().due.at, local(&cal, 2026, 3, 18, 23, 59));
    }

    #[test]
    fn every_refusal_is_reported_at_once() {
        let p = PatronSnapshot {
            card_expiry: date(2026, 3, 1),
            blocks: vec![
                Block { kind: BlockKind::Manual { until: Some(date(2026, 3, 10)) }, reason: "damaged books".into() },
                Block { kind: BlockKind::Manual { until: Some(date(2026, 3, 3)) }, reason: "lifted".into() },
            ],
            balance: money(1250),
            overdue_loans: 4,
            ..patron()
        };
        let i = ItemSnapshot { loanable: false, ..item() };
        let claim = HoldClaim { hold: HoldId(3), patron: PatronId(2), trapped: true };
        let d = checkout(&p, &i, LoanCounts { total: 20, of_item_type: 0 }, Some(claim));
        assert_eq!(
            codes(&d),
            vec![
                RefusalCode::CardExpired,
                RefusalCode::PatronBlocked,
                RefusalCode::FinesOverLimit,
                RefusalCode::TooManyOverdues,
                RefusalCode::ItemNotLoanable,
                RefusalCode::TooManyLoans,
                RefusalCode::ItemOnHoldForOther,
            ]
        );
        assert_eq!(d.refusals[2].message, "Fines of 12.50 are over the limit of 10.00.");
        assert_eq!(d.refusals[1].message, "The patron is blocked until 2026-03-10: damaged books.");
    }

    #[test]
    fn items_in_other_hands_must_be_checked_in_first() {
        let on_loan = |patron| ItemSnapshot { state: ItemState::CheckedOut { patron }, ..item() };
        assert_eq!(
            codes(&checkout(&patron(), &on_loan(PatronId(1)), LoanCounts::default(), None)),
            vec![RefusalCode::ItemOnLoanToPatron]
        );
        assert_eq!(
            codes(&checkout(&patron(), &on_loan(PatronId(2)), LoanCounts::default(), None)),
            vec![RefusalCode::ItemOnLoanToOther]
        );
        let d =
            checkout(&patron(), &ItemSnapshot { state: ItemState::InRepair, ..item() }, LoanCounts::default(), None);
        assert_eq!(d.refusals[0].message, "This item's status is in repair; check it in first.");
        let staff = Staff::new(StaffId(1), [Permission::Override]);
        assert!(matches!(d.override_by(&staff, "asked nicely"), Err(OverrideError::NotOverridable(_))));
    }

    #[test]
    fn the_patrons_own_hold_is_filled() {
        let claim = HoldClaim { hold: HoldId(3), patron: PatronId(1), trapped: true };
        let d = checkout(
            &patron(),
            &ItemSnapshot { state: ItemState::OnHoldShelf, ..item() },
            LoanCounts::default(),
            Some(claim),
        );
        assert_eq!(d.allowed().unwrap().fills_hold, Some(HoldId(3)));
    }

    #[test]
    fn overrides_need_the_permission_and_a_reason() {
        let d = checkout(&patron(), &item(), LoanCounts { total: 25, of_item_type: 0 }, None);
        let clerk = Staff::new(StaffId(1), [Permission::Circulate]);
        let supervisor = Staff::new(StaffId(2), [Permission::Circulate, Permission::Override]);
        let admin = Staff::new(StaffId(3), [Permission::Admin]);
        assert_eq!(d.clone().override_by(&clerk, "ok"), Err(OverrideError::NoPermission(StaffId(1))));
        assert_eq!(d.clone().override_by(&supervisor, "  "), Err(OverrideError::ReasonRequired));
        let o = d.clone().override_by(&supervisor, "moving house, needs the books").unwrap();
        assert_eq!((o.overridden, o.by), (vec![RefusalCode::TooManyLoans], StaffId(2)));
        assert!(d.override_by(&admin, "admin").is_ok());
    }

    #[test]
    fn max_loans_counts_the_item_type_when_the_row_names_one() {
        let cal = branch_calendar();
        let r = resolution(vec![RuleRow {
            key: RuleKey { branch: Scope::Any, category: Scope::Any, item_type: Scope::Only(code("BK")) },
            settings: RuleSettings { max_loans: Some(2), ..Default::default() },
        }]);
        let (p, i, pol) = (patron(), item(), policy());
        let req = |loans| CheckoutRequest {
            patron: &p,
            item: &i,
            resolution: &r,
            loans,
            claim: None,
            policy: &pol,
            calendar: &cal,
            now: local(&cal, 2026, 3, 4, 10, 0),
        };
        assert!(decide_checkout(&req(LoanCounts { total: 30, of_item_type: 1 })).unwrap().is_allowed());
        assert!(decide_checkout(&req(LoanCounts { total: 2, of_item_type: 2 }))
            .unwrap()
            .has(RefusalCode::TooManyLoans));
    }

    #[test]
    fn renewals_are_refused_at_the_limit_when_held_or_when_no_later() {
        let cal = branch_calendar();
        let r = resolution(vec![]);
        let (p, pol) = (patron(), policy());
        let now = local(&cal, 2026, 3, 10, 10, 0);
        let req = |renewals_used, wanted_by_others, due, p: &'_ PatronSnapshot| {
            decide_renewal(&RenewalRequest {
                patron: p,
                loan: LoanSnapshot { item: ItemId(5), due, renewals_used },
                resolution: &r,
                wanted_by_others,
                policy: &pol,
                calendar: &cal,
                now,
            })
            .unwrap()
        };
        let due = local(&cal, 2026, 3, 18, 23, 59);
        let ok = req(0, false, due, &p);
        assert_eq!(ok.plan.due.at, local(&cal, 2026, 3, 24, 23, 59));
        assert_eq!(ok.allowed().unwrap().renewals_used, 1);
        assert_eq!(codes(&req(2, true, due, &p)), vec![RefusalCode::RenewalLimit, RefusalCode::RenewalOnHold]);
        // The card expires before the current due date: renewing cannot move it.
        let expiring = PatronSnapshot { card_expiry: date(2026, 3, 12), ..patron() };
        let d = req(0, false, due, &expiring);
        assert_eq!(codes(&d), vec![RefusalCode::RenewalNotLater]);
        assert!(d.refusals[0].message.contains("card expires"), "{}", d.refusals[0].message);
    }

    #[test]
    fn hold_placement_follows_policy_limits() {
        let cal = branch_calendar();
        let (p, pol) = (patron(), policy());
        let rule = default_rule();
        let no_holds = crate::rules::Rule { hold_allowed: false, ..default_rule() };
        let req = |rule, holds_placed, already_holds_title, has_it_on_loan| {
            codes(&decide_hold_placement(&HoldRequest {
                patron: &p,
                rule,
                policy: &pol,
                holds_placed,
                already_holds_title,
                has_it_on_loan,
                now: local(&cal, 2026, 3, 4, 10, 0),
                calendar: &cal,
            }))
        };
        assert!(req(&rule, 9, false, false).is_empty());
        assert_eq!(
            req(&rule, 10, true, true),
            vec![RefusalCode::TooManyHolds, RefusalCode::HoldAlreadyPlaced, RefusalCode::ItemOnLoanToPatron]
        );
        assert_eq!(req(&no_holds, 0, false, false), vec![RefusalCode::HoldsNotAllowed]);
    }

    #[test]
    fn hourly_loans_use_the_hourly_period() {
        let cal = branch_calendar();
        let r = resolution(vec![RuleRow {
            key: RuleKey::DEFAULT.clone_with_item_type("BK"),
            settings: RuleSettings { loan_period: Some(Period::hours(3)), ..Default::default() },
        }]);
        let (p, i, pol) = (patron(), item(), policy());
        let d = decide_checkout(&CheckoutRequest {
            patron: &p,
            item: &i,
            resolution: &r,
            loans: LoanCounts::default(),
            claim: None,
            policy: &pol,
            calendar: &cal,
            now: local(&cal, 2026, 3, 4, 15, 30),
        })
        .unwrap();
        assert_eq!(d.plan.due.at, local(&cal, 2026, 3, 4, 17, 0));
    }

    impl RuleKey {
        fn clone_with_item_type(&self, t: &str) -> RuleKey {
            RuleKey { item_type: Scope::Only(code(t)), ..self.clone() }
        }
    }

    proptest! {
        /// The refusals are exactly the conditions that hold, and an override succeeds exactly
        /// when staff may override, give a reason, and every refusal is overridable.
        #[test]
        fn refusals_match_conditions_and_overrides_respect_codes(
            expired in any::<bool>(), blocked in any::<bool>(), balance in 0i64..2000, overdues in 0u32..6,
            loans in 0u32..25, loanable in any::<bool>(), state in 0u8..4, claim in 0u8..3, may_override in any::<bool>(),
        ) {
            let p = PatronSnapshot {
                card_expiry: if expired { date(2026, 3, 3) } else { date(2027, 1, 1) },
                blocks: if blocked { vec![Block { kind: BlockKind::LostCard, reason: String::new() }] } else { vec![] },
                balance: money(balance),
                overdue_loans: overdues,
                ..patron()
            };
            let state = match state {
                0 => ItemState::Available,
                1 => ItemState::CheckedOut { patron: PatronId(1) },
                2 => ItemState::CheckedOut { patron: PatronId(2) },
                _ => ItemState::Missing,
            };
            let claim = match claim {
                0 => None,
                1 => Some(HoldClaim { hold: HoldId(1), patron: PatronId(1), trapped: false }),
                _ => Some(HoldClaim { hold: HoldId(2), patron: PatronId(2), trapped: false }),
            };
            let i = ItemSnapshot { loanable, state, ..item() };
            let d = checkout(&p, &i, LoanCounts { total: loans, of_item_type: loans }, claim);
            let c = codes(&d);
            prop_assert_eq!(c.contains(&RefusalCode::CardExpired), expired);
            prop_assert_eq!(c.contains(&RefusalCode::PatronBlocked), blocked);
            prop_assert_eq!(c.contains(&RefusalCode::FinesOverLimit), balance > 1000);
            prop_assert_eq!(c.contains(&RefusalCode::TooManyOverdues), overdues > 3);
            prop_assert_eq!(c.contains(&RefusalCode::TooManyLoans), loans >= 20);
            prop_assert_eq!(c.contains(&RefusalCode::ItemNotLoanable), !loanable);
            prop_assert_eq!(c.contains(&RefusalCode::ItemOnHoldForOther), claim.is_some_and(|c| c.patron != PatronId(1)));
            prop_assert_eq!(d.plan.fills_hold.is_some(), claim.is_some_and(|c| c.patron == PatronId(1)));
            prop_assert_eq!(d.is_allowed(), c.is_empty());
            let staff = Staff::new(StaffId(1), if may_override { vec![Permission::Override] } else { vec![] });
            let all_overridable = c.iter().all(|c| c.overridable());
            let result = d.override_by(&staff, "reason");
            prop_assert_eq!(result.is_ok(), all_overridable && (c.is_empty() || may_override));
        }
    }
}
