//! Emergency closures: a branch closes for a day after due dates and pickup deadlines were set.
//!
//! Declaring one closes the day in the branches' calendars, moves the due dates of the loans
//! checked out there that fall on it ([`circulation::Calendar::moved_due`]: same hour on the next
//! open day, closing time for hourly loans) and pushes back the deadlines of the holds waiting
//! on their hold shelves ([`circulation::Calendar::extended_pickup_deadline`]), all in one
//! transaction. The stored closures are part of the calendars from then on, so fines never count
//! the day and new due dates skip it; [`Desk::load_closures`] reads them at start-up (and the job
//! scheduler each time it runs, so a closure declared on another server is seen there too).

use crate::{Desk, DeskError};
use catalog::Code;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use circulation::{Calendar, ClosedDay};
use std::collections::BTreeMap;
use std::sync::Arc;
use storage::closures::{Closure, ClosureWrite};
use storage::holds::HoldId;
use storage::{Database, LoanId};

/// What a declared closure changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosureReport {
    pub closures: Vec<Closure>,
    /// Loans whose due date moved, with the new due instant.
    pub loans_moved: Vec<(LoanId, DateTime<Utc>)>,
    /// Holds on a hold shelf whose pickup deadline moved, with the new deadline.
    pub holds_extended: Vec<(HoldId, DateTime<Utc>)>,
}

impl Desk {
    /// Reads the stored closures into the calendars (of the settings in force).
    pub fn load_closures(&self, db: &dyn Database) -> Result<(), DeskError> {
        let closures = db.closures()?;
        let mut live = self.live_mut();
        live.closures = closures.into_iter().map(|c| (c.branch, c.day)).collect();
        live.current = Arc::new(live.circulation.with_closures(live.closures.iter().map(|(b, d)| (b, *d))));
        Ok(())
    }

    /// Closes `day` at `branches` from `now` on, declared by `by` for `reason`.
    pub fn declare_closure(
        &self,
        db: &dyn Database,
        branches: &[Code],
        day: NaiveDate,
        reason: &str,
        by: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<ClosureReport, DeskError> {
        let invalid = |field, message: String| DeskError::Invalid { field, message };
        if branches.is_empty() {
            return Err(invalid("branches", "name at least one branch to close".into()));
        }
        if reason.trim().is_empty() {
            return Err(invalid("reason", "say why the branch closes; patrons and staff will ask".into()));
        }
        let c = self.circulation();
        let today = c.library_calendar.local_date(now);
        if day < today {
            return Err(invalid(
                "day",
                format!("{day} has passed; an emergency closure closes today or a day to come"),
            ));
        }
        // The calendars with the closure in them, checked before anything is written: a branch
        // with no open day after it has nowhere to move a due date to.
        let mut calendars: BTreeMap<Code, Calendar> = BTreeMap::new();
        for branch in branches {
            let calendar = c.calendar(branch).clone().closed_on(ClosedDay::On(day))?;
            calendar.next_open_day(day)?;
            calendars.insert(branch.clone(), calendar);
        }
        let closures: Vec<Closure> = calendars
            .keys()
            .map(|branch| Closure {
                branch: branch.clone(),
                day,
                reason: reason.trim().to_string(),
                declared_by: by.map(str::to_string),
                declared_at: now,
            })
            .collect();
        let window = (local_midnight(&c.library_calendar, day), local_midnight(&c.library_calendar, next_day(day)));
        let writes = db.declare_closures(&closures, window, &mut |closure, ctx| {
            let Some(calendar) = calendars.get(&closure.branch) else { return ClosureWrite::default() };
            // Checked above: the calendar has an open day after the closure, so neither fails.
            ClosureWrite {
                loans: ctx
                    .loans
                    .iter()
                    .filter_map(|&(id, due)| Some((id, calendar.moved_due(due).ok().flatten()?)))
                    .collect(),
                shelf_holds: ctx
                    .shelf_holds
                    .iter()
                    .filter_map(|&(id, by)| {
                        Some((id, calendar.extended_pickup_deadline(by, day, today).ok().flatten()?))
                    })
                    .collect(),
            }
        })?;
        {
            let mut live = self.live_mut();
            live.closures.extend(closures.iter().map(|c| (c.branch.clone(), c.day)));
            live.current = Arc::new(live.current.with_closures(closures.iter().map(|c| (&c.branch, c.day))));
        }
        let (mut loans_moved, mut holds_extended) = (Vec::new(), Vec::new());
        for w in writes {
            loans_moved.extend(w.loans);
            holds_extended.extend(w.shelf_holds);
        }
        Ok(ClosureReport { closures, loans_moved, holds_extended })
    }
}

/// The instant the local day begins (the first valid local time, should midnight not exist).
fn local_midnight(calendar: &Calendar, day: NaiveDate) -> DateTime<Utc> {
    let tz = calendar.time_zone();
    let mut t = day.and_time(chrono::NaiveTime::MIN);
    loop {
        if let Some(at) = tz.from_local_datetime(&t).earliest() {
            return at.with_timezone(&Utc);
        }
        t += chrono::Duration::minutes(30);
    }
}

fn next_day(day: NaiveDate) -> NaiveDate {
    day.succ_opt().unwrap_or(day)
}
