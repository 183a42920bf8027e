//! What the jobs tests share: the circulation settings of their library.

use desk::CirculationSettings;

pub fn circulation() -> CirculationSettings {
    // Closed on Sundays and on Wednesday 18 March (a one-off closure): a loan due that day is
    // due on Thursday the 19th instead.
    toml::from_str(
        r#"
        time_zone = "America/Chicago"
        governing_branch = "checkout"
        fine_limit = "10.00"
        hours = { mon = "09:00-20:00", tue = "09:00-20:00", wed = "09:00-20:00", thu = "09:00-20:00", fri = "09:00-18:00", sat = "10:00-17:00", sun = "closed" }
        closed = ["12-25", "2026-03-18"]
        [[rules]]
        branch = "*"
        category = "*"
        item_type = "*"
        loan_period = "14 days"
        max_loans = 10
        renewals_allowed = 2
        renewal_period = "14 days"
        fine = "0.25 per day"
        grace_period = "0 days"
        max_fine = "5.00"
        lost_after_days = "60"
        lost_processing_fee = "5.00"
        hold_allowed = true
        max_holds = 10
        hold_shelf_days = 7
        hard_due_date = "none"
    "#,
    )
    .unwrap()
}
