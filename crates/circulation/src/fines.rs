//! The overdue fine, as a pure function of the loan's due instant, when it ended (returned, or
//! "now" for a loan still out), the rule in force and the calendar of the branch whose days count.
//!
//! Nothing is accumulated day by day: the nightly job, the check-in and the patron's account
//! page all call [`overdue_fine`] and get the same answer, so a fine can be recomputed after a
//! backdated check-in or an emergency closure without unwinding anything.
//!
//! The count is in the rate's unit. Per day: the open days after the due day, through the day
//! it came back (closed days do not accrue, and anything returned by the end of the due day is
//! on time). Per hour: the started hours the branch was open after the due instant. Then the
//! grace period is deducted (LIBRARY.md: "days overdue minus closed days minus grace, x rate"),
//! the count is multiplied by the rate, and the result is capped by the rule's maximum fine and
//! the item's replacement price, whichever is lower.

use crate::calendar::Calendar;
use crate::rules::{FineRate, Limit, Period, Rule, TimeUnit};
use crate::Money;
use chrono::{DateTime, Utc};

/// The part of a rule the fine depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FineTerms {
    pub rate: FineRate,
    pub grace_period: Period,
    pub max_fine: Limit<Money>,
}

impl From<&Rule> for FineTerms {
    fn from(rule: &Rule) -> FineTerms {
        FineTerms { rate: rule.fine, grace_period: rule.grace_period, max_fine: rule.max_fine }
    }
}

/// What stopped the fine growing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FineCap {
    MaxFine,
    ItemPrice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverdueFine {
    pub amount: Money,
    pub unit: TimeUnit,
    /// Open days (or started open hours) late.
    pub late: u32,
    /// `late` less the grace period: what was multiplied by the rate.
    pub charged: u32,
    pub capped_by: Option<FineCap>,
}

impl OverdueFine {
    pub fn is_zero(&self) -> bool {
        self.amount == Money::ZERO
    }
}

/// The fine for a loan due at `due` that ended (or is being looked at) at `end`. `item_price`
/// is the replacement price when known; `None` when unknown, which leaves only the rule's cap.
pub fn overdue_fine(
    due: DateTime<Utc>,
    end: DateTime<Utc>,
    terms: &FineTerms,
    item_price: Option<Money>,
    calendar: &Calendar,
) -> OverdueFine {
    let unit = terms.rate.per;
    let late = if end <= due {
        0
    } else {
        match unit {
            TimeUnit::Days => calendar.open_days_between(calendar.local_date(due), calendar.local_date(end)),
            TimeUnit::Hours => {
                let minutes = calendar.open_minutes_between(due, end);
                u32::try_from((minutes + 59) / 60).unwrap_or(u32::MAX)
            }
        }
    };
    let charged = late.saturating_sub(terms.grace_period.in_unit(unit));
    let rate = terms.rate.amount.minor().max(0);
    let mut amount = rate.saturating_mul(i64::from(charged));
    let mut capped_by = None;
    if let Some(max) = terms.max_fine.value() {
        if amount > max.minor().max(0) {
            amount = max.minor().max(0);
            capped_by = Some(FineCap::MaxFine);
        }
    }
    if let Some(price) = item_price {
        if amount > price.minor().max(0) {
            amount = price.minor().max(0);
            capped_by = Some(FineCap::ItemPrice);
        }
    }
    OverdueFine { amount: Money::from_minor(amount), unit, late, charged, capped_by }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{add_days, ClosedDay};
    use crate::testing::{branch_calendar, date, local, money, open_every_day};
    use chrono::Duration;
    use proptest::prelude::*;

    fn daily(rate: i64, grace: u32, max: Option<i64>) -> FineTerms {
        FineTerms {
            rate: FineRate { amount: money(rate), per: TimeUnit::Days },
            grace_period: Period::days(grace),
            max_fine: max.map_or(Limit::Unlimited, |m| Limit::At(money(m))),
        }
    }

    #[test]
    fn counts_open_days_after_the_due_day() {
        let cal = branch_calendar();
        let due = local(&cal, 2026, 3, 4, 23, 59); // Wednesday
        let check = |end, want_late: u32, want: i64| {
            let f = overdue_fine(due, end, &daily(25, 0, None), None, &cal);
            assert_eq!((f.late, f.amount), (want_late, money(want)), "{end}");
        };
        check(local(&cal, 2026, 3, 4, 12, 0), 0, 0);
        check(local(&cal, 2026, 3, 5, 0, 10), 1, 25); // Thursday just after midnight
        check(local(&cal, 2026, 3, 7, 12, 0), 3, 75); // Saturday
        check(local(&cal, 2026, 3, 8, 12, 0), 3, 75); // Sunday: closed, no fine
        check(local(&cal, 2026, 3, 9, 12, 0), 4, 100); // Monday
    }

    #[test]
    fn grace_is_deducted_and_caps_apply() {
        let cal = open_every_day();
        let due = local(&cal, 2026, 3, 4, 23, 59);
        let end = local(&cal, 2026, 3, 14, 12, 0); // 10 days late
        let f = overdue_fine(due, end, &daily(25, 3, None), None, &cal);
        assert_eq!((f.late, f.charged, f.amount), (10, 7, money(175)));
        let f = overdue_fine(due, end, &daily(25, 0, Some(200)), None, &cal);
        assert_eq!((f.amount, f.capped_by), (money(200), Some(FineCap::MaxFine)));
        let f = overdue_fine(due, end, &daily(25, 0, Some(200)), Some(money(150)), &cal);
        assert_eq!((f.amount, f.capped_by), (money(150), Some(FineCap::ItemPrice)));
        let f = overdue_fine(due, end, &daily(0, 0, None), Some(money(150)), &cal);
        assert!(f.is_zero());
    }

    #[test]
    fn hourly_fines_count_started_open_hours() {
        let cal = branch_calendar();
        let terms = FineTerms {
            rate: FineRate { amount: money(100), per: TimeUnit::Hours },
            grace_period: Period::hours(0),
            max_fine: Limit::Unlimited,
        };
        let due = local(&cal, 2026, 3, 4, 14, 0);
        assert_eq!(overdue_fine(due, due + Duration::minutes(61), &terms, None, &cal).amount, money(200));
        // Closed from 17:00: returned at 10:00 next morning is 3 + 1 open hours late.
        assert_eq!(overdue_fine(due, local(&cal, 2026, 3, 5, 10, 0), &terms, None, &cal).late, 4);
    }

    fn terms_strategy() -> impl Strategy<Value = FineTerms> {
        (0i64..500, any::<bool>(), 0u32..5, proptest::option::of(0i64..5000)).prop_map(|(rate, hourly, grace, max)| {
            let unit = if hourly { TimeUnit::Hours } else { TimeUnit::Days };
            FineTerms {
                rate: FineRate { amount: money(rate), per: unit },
                grace_period: Period { count: grace, unit },
                max_fine: max.map_or(Limit::Unlimited, |m| Limit::At(money(m))),
            }
        })
    }

    /// A due instant (end of an open day or a time in opening hours) and an end up to 90 days later.
    fn loan_strategy() -> impl Strategy<Value = (u32, u32, u32)> {
        (0u32..300, 0u32..(90 * 24), 9u32..17)
    }

    fn instants(cal: &Calendar, (due_day, late_hours, due_hour): (u32, u32, u32)) -> (DateTime<Utc>, DateTime<Utc>) {
        let day = add_days(date(2026, 1, 1), due_day);
        let due = cal.instant(day.and_hms_opt(due_hour, 0, 0).unwrap());
        (due, due + Duration::hours(i64::from(late_hours)))
    }

    proptest! {
        #[test]
        fn closing_a_day_never_raises_a_fine(
            terms in terms_strategy(), loan in loan_strategy(), price in proptest::option::of(0i64..5000),
            closed in proptest::collection::vec(0u32..400, 1..10),
        ) {
            let cal = branch_calendar();
            let (due, end) = instants(&cal, loan);
            let before = overdue_fine(due, end, &terms, price.map(money), &cal);
            let mut more = cal.clone();
            for c in closed { more.close(ClosedDay::On(add_days(date(2026, 1, 1), c))).unwrap(); }
            let after = overdue_fine(due, end, &terms, price.map(money), &more);
            prop_assert!(after.amount <= before.amount);
        }

        #[test]
        fn a_fine_never_exceeds_the_cap_or_the_price(
            terms in terms_strategy(), loan in loan_strategy(), price in proptest::option::of(0i64..5000),
        ) {
            let cal = branch_calendar();
            let (due, end) = instants(&cal, loan);
            let f = overdue_fine(due, end, &terms, price.map(money), &cal);
            prop_assert!(f.amount >= Money::ZERO);
            if let Some(max) = terms.max_fine.value() { prop_assert!(f.amount <= max); }
            if let Some(p) = price { prop_assert!(f.amount <= money(p)); }
        }

        #[test]
        fn backdating_to_the_due_date_costs_nothing(terms in terms_strategy(), loan in loan_strategy(), minute in 0u32..1440) {
            let cal = branch_calendar();
            let (due, _) = instants(&cal, loan);
            // Any moment on the due day itself up to the due instant (a book-drop check-in).
            let day = cal.local_date(due);
            let back = cal.instant(day.and_hms_opt(minute / 60, minute % 60, 0).unwrap()).min(due);
            prop_assert!(overdue_fine(due, back, &terms, None, &cal).is_zero());
            prop_assert!(overdue_fine(due, due, &terms, None, &cal).is_zero());
        }

        #[test]
        fn fine_free_rules_never_charge(terms in terms_strategy(), loan in loan_strategy()) {
            let cal = branch_calendar();
            let (due, end) = instants(&cal, loan);
            let free = FineTerms { rate: FineRate { amount: Money::ZERO, per: terms.rate.per }, ..terms };
            prop_assert!(overdue_fine(due, end, &free, None, &cal).is_zero());
        }

        #[test]
        fn grace_period_is_honoured(terms in terms_strategy(), loan in loan_strategy()) {
            let cal = branch_calendar();
            let (due, end) = instants(&cal, loan);
            let f = overdue_fine(due, end, &terms, None, &cal);
            let grace = terms.grace_period.in_unit(terms.rate.per);
            if f.late <= grace { prop_assert!(f.is_zero()); }
            prop_assert_eq!(f.charged, f.late.saturating_sub(grace));
            // Without caps the fine is exactly (late - grace) x rate.
            let uncapped = FineTerms { max_fine: Limit::Unlimited, ..terms };
            let g = overdue_fine(due, end, &uncapped, None, &cal);
            prop_assert_eq!(g.amount.minor(), terms.rate.amount.minor() * i64::from(g.charged));
        }

        #[test]
        fn closed_days_do_not_accrue(terms in terms_strategy(), loan in loan_strategy()) {
            // Against a calendar open every day with the same hours, the branch calendar (closed
            // Sundays, short Saturdays) counts exactly the open days or hours.
            let cal = branch_calendar();
            let (due, end) = instants(&cal, loan);
            let f = overdue_fine(due, end, &terms, None, &cal);
            if terms.rate.per == TimeUnit::Days {
                let mut open = 0;
                let mut d = cal.local_date(due);
                while d < cal.local_date(end) {
                    d = d.succ_opt().unwrap();
                    if cal.is_open(d) { open += 1; }
                }
                prop_assert_eq!(f.late, open);
            }
            let every_day = overdue_fine(due, end, &terms, None, &open_every_day());
            prop_assert!(f.late <= every_day.late);
        }

        #[test]
        fn a_loan_late_only_on_closed_days_costs_nothing(terms in terms_strategy(), loan in loan_strategy()) {
            // Close every day after the due day through the return day: nothing accrues.
            let mut cal = branch_calendar();
            let (due, end) = instants(&cal, loan);
            let mut d = cal.local_date(due).succ_opt().unwrap();
            while d <= cal.local_date(end) {
                cal.close(ClosedDay::On(d)).unwrap();
                d = d.succ_opt().unwrap();
            }
            // Hourly fines may still count the rest of the due day itself; daily ones count nothing.
            let f = overdue_fine(due, end, &terms, None, &cal);
            if terms.rate.per == TimeUnit::Days {
                prop_assert!(f.is_zero());
            } else {
                let rest_of_due_day = cal.closing_time(cal.local_date(due)).map_or(0, |c| (c - due).num_minutes().max(0));
                prop_assert!(i64::from(f.late) <= (rest_of_due_day + 59) / 60);
            }
        }

        #[test]
        fn a_later_return_never_costs_less(terms in terms_strategy(), loan in loan_strategy(), extra in 0u32..500) {
            let cal = branch_calendar();
            let (due, end) = instants(&cal, loan);
            let a = overdue_fine(due, end, &terms, None, &cal);
            let b = overdue_fine(due, end + Duration::hours(i64::from(extra)), &terms, None, &cal);
            prop_assert!(a.amount <= b.amount);
        }
    }
}
