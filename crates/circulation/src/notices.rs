//! Which notice is due now for a loan, a hold or a card: courtesy (before due), overdue 1st/2nd/3rd,
//! hold ready, hold expiring, card expiring.
//!
//! The scheduler asks once a day (or more often) with the notices already sent, and gets at
//! most one notice back, so a missed run never sends a burst: a loan found 30 days late gets the
//! highest overdue notice it has reached, not all three. Days are calendar days in the library's
//! time zone: a notice is about the patron's time, not the branch's opening hours. Delivery
//! (email, SMS, print) is the edge's business.

use crate::calendar::Calendar;
use crate::holds::HoldState;
use chrono::{DateTime, NaiveDate, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoticeKind {
    /// Before the due date.
    Courtesy,
    /// Overdue notice `level` (1, 2, 3).
    Overdue {
        level: u8,
    },
    HoldReady,
    HoldExpiring,
    CardExpiring,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Courtesy => "courtesy",
            NoticeKind::Overdue { level: 1 } => "overdue_1",
            NoticeKind::Overdue { level: 2 } => "overdue_2",
            NoticeKind::Overdue { .. } => "overdue_3",
            NoticeKind::HoldReady => "hold_ready",
            NoticeKind::HoldExpiring => "hold_expiring",
            NoticeKind::CardExpiring => "card_expiring",
        }
    }
}

/// When notices go out; `None` turns a notice off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoticeSchedule {
    pub courtesy_days_before: Option<u32>,
    /// Days after the due day for the 1st, 2nd and 3rd overdue notice, ascending.
    pub overdue_days_after: [Option<u32>; 3],
    pub hold_expiring_days_before: Option<u32>,
    pub card_expiring_days_before: Option<u32>,
}

fn days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days()
}

/// The notice a loan due at `due` needs at `now`, given those sent since it was checked out or
/// last renewed.
pub fn loan_notice(
    due: DateTime<Utc>,
    now: DateTime<Utc>,
    sent: &[NoticeKind],
    schedule: &NoticeSchedule,
    calendar: &Calendar,
) -> Option<NoticeKind> {
    let today = calendar.local_date(now);
    let due_day = calendar.local_date(due);
    if now <= due {
        let before = schedule.courtesy_days_before?;
        let wanted = days_between(today, due_day) <= i64::from(before) && !sent.contains(&NoticeKind::Courtesy);
        return wanted.then_some(NoticeKind::Courtesy);
    }
    let late = days_between(due_day, today);
    let reached = (1u8..=3)
        .zip(schedule.overdue_days_after)
        .filter_map(|(level, days)| days.filter(|d| late >= i64::from(*d)).map(|_| level))
        .max()?;
    let already = sent.iter().any(|n| matches!(n, NoticeKind::Overdue { level } if *level >= reached));
    (!already).then_some(NoticeKind::Overdue { level: reached })
}

/// The notice a hold needs at `now`: ready once it is on the shelf, expiring shortly before the
/// pickup deadline.
pub fn hold_notice(
    state: HoldState,
    now: DateTime<Utc>,
    sent: &[NoticeKind],
    schedule: &NoticeSchedule,
    calendar: &Calendar,
) -> Option<NoticeKind> {
    let HoldState::OnShelf { pickup_by, .. } = state else { return None };
    if !sent.contains(&NoticeKind::HoldReady) {
        return Some(NoticeKind::HoldReady);
    }
    let before = schedule.hold_expiring_days_before?;
    let left = days_between(calendar.local_date(now), calendar.local_date(pickup_by));
    (now <= pickup_by && left <= i64::from(before) && !sent.contains(&NoticeKind::HoldExpiring))
        .then_some(NoticeKind::HoldExpiring)
}

/// The notice a card expiring on `expiry` needs on `today`.
pub fn card_notice(
    expiry: NaiveDate,
    today: NaiveDate,
    sent: &[NoticeKind],
    schedule: &NoticeSchedule,
) -> Option<NoticeKind> {
    let before = schedule.card_expiring_days_before?;
    let left = days_between(today, expiry);
    (left >= 0 && left <= i64::from(before) && !sent.contains(&NoticeKind::CardExpiring))
        .then_some(NoticeKind::CardExpiring)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{branch_calendar, date, local};
    use crate::ItemId;

    fn schedule() -> NoticeSchedule {
        NoticeSchedule {
            courtesy_days_before: Some(2),
            overdue_days_after: [Some(1), Some(14), Some(28)],
            hold_expiring_days_before: Some(1),
            card_expiring_days_before: Some(30),
        }
    }

    #[test]
    fn loan_notices_go_out_once_and_skip_to_the_level_reached() {
        let cal = branch_calendar();
        let due = local(&cal, 2026, 3, 18, 23, 59);
        let at = |d| local(&cal, 2026, 3, d, 3, 0);
        let n = |now, sent: &[NoticeKind]| loan_notice(due, now, sent, &schedule(), &cal);
        assert_eq!(n(at(15), &[]), None);
        assert_eq!(n(at(16), &[]), Some(NoticeKind::Courtesy));
        assert_eq!(n(at(17), &[NoticeKind::Courtesy]), None);
        assert_eq!(n(at(19), &[NoticeKind::Courtesy]), Some(NoticeKind::Overdue { level: 1 }));
        assert_eq!(n(at(20), &[NoticeKind::Overdue { level: 1 }]), None);
        // The scheduler missed two weeks: only the highest level reached goes out.
        assert_eq!(n(local(&cal, 2026, 4, 16, 3, 0), &[]), Some(NoticeKind::Overdue { level: 3 }));
        assert_eq!(NoticeKind::Overdue { level: 2 }.as_str(), "overdue_2");
    }

    #[test]
    fn hold_and_card_notices() {
        let cal = branch_calendar();
        let on_shelf = HoldState::OnShelf { item: ItemId(1), pickup_by: local(&cal, 2026, 3, 11, 23, 59) };
        let now = local(&cal, 2026, 3, 4, 12, 0);
        assert_eq!(hold_notice(on_shelf, now, &[], &schedule(), &cal), Some(NoticeKind::HoldReady));
        assert_eq!(hold_notice(on_shelf, now, &[NoticeKind::HoldReady], &schedule(), &cal), None);
        let eve = local(&cal, 2026, 3, 10, 12, 0);
        assert_eq!(
            hold_notice(on_shelf, eve, &[NoticeKind::HoldReady], &schedule(), &cal),
            Some(NoticeKind::HoldExpiring)
        );
        assert_eq!(hold_notice(HoldState::Waiting, eve, &[], &schedule(), &cal), None);
        assert_eq!(card_notice(date(2026, 4, 1), date(2026, 3, 1), &[], &schedule()), None);
        assert_eq!(card_notice(date(2026, 4, 1), date(2026, 3, 2), &[], &schedule()), Some(NoticeKind::CardExpiring));
        assert_eq!(card_notice(date(2026, 4, 1), date(2026, 4, 2), &[], &schedule()), None);
    }
}
