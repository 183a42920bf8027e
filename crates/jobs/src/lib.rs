//! The daily jobs and their scheduler.
//!
//! A job is a named function of a [`JobContext`] (the database, the settings, the library day
//! and `now`) returning a one-line summary. [`JOBS`] lists them in the order they run: adding a
//! job is one line there. [`run_day`] runs each job at most once per library day: a finished
//! run is recorded in `job_runs` as (job, day), and a second run on that day is skipped and
//! changes nothing. A job that fails (or a process that dies half-way) records nothing, so the
//! next run does the job again; each job must therefore be safe to redo, as the notice jobs are
//! (every notice has a unique key, see `storage::notices`).
//!
//! [`Scheduler`] runs the day's jobs inside `shelfmark serve` on a background thread once the
//! library's clock passes the configured time; `shelfmark jobs run` runs them on demand.

mod notice_jobs;
mod settings;

pub use settings::{NoticeSettings, NoticeSettingsError, Notices};

use chrono::{DateTime, NaiveDate, Utc};
use desk::Circulation;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;
use storage::notices::JobRun;
use storage::Database;

/// What a job runs with.
pub struct JobContext<'a> {
    pub db: &'a dyn Database,
    pub circulation: &'a Circulation,
    pub notices: &'a Notices,
    /// The library day the job runs for (in the library's time zone).
    pub day: NaiveDate,
    pub now: DateTime<Utc>,
}

pub type JobResult = Result<String, Box<dyn std::error::Error + Send + Sync>>;

/// A daily job: its name (`shelfmark jobs run NAME`, `POST /api/v1/jobs/NAME/run`) and its body.
#[derive(Clone, Copy)]
pub struct Job {
    pub name: &'static str,
    pub about: &'static str,
    pub run: fn(&JobContext<'_>) -> JobResult,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("name", &self.name).finish_non_exhaustive()
    }
}

/// Every daily job, in the order they run: notices are decided before they are sent. A job
/// from another concern is one line, a closure adapting its function:
///
/// ```ignore
/// Job { name: "hold_shelf_expiry", about: "...", run: |cx| Ok(format!("{} holds expired", desk::expire_holds(cx.db, cx.circulation, cx.now)?)) },
/// ```
pub const JOBS: &[Job] = &[
    Job {
        name: "lost_marking",
        about: "declare lost the loans overdue past their rule's lost-after days, and charge the replacement",
        run: |cx| Ok(format!("{} loans declared lost", desk(cx).mark_lost(cx.db, cx.now)?.len())),
    },
    Job {
        name: "hold_shelf_expiry",
        about: "expire holds past their pickup deadline and pass the copy to the next patron",
        run: |cx| {
            let sweep = desk(cx).expire_hold_shelf(cx.db, cx.now)?;
            Ok(format!("{} holds expired, {} copies routed", sweep.expired.len(), sweep.routed.len()))
        },
    },
    Job {
        name: "anonymise_loans",
        about: "unlink returned loans from patrons who did not choose to keep their reading history",
        run: |cx| Ok(format!("{} returned loans anonymised", cx.db.anonymise_returned_loans(cx.now, cx.now)?)),
    },
    Job {
        name: "loan_notices",
        about: "courtesy notices before the due day and 1st/2nd/3rd overdue notices",
        run: notice_jobs::loan_notices,
    },
    Job {
        name: "hold_notices",
        about: "hold-ready notices for holds on a hold shelf, and hold-expiring notices before the pickup deadline",
        run: notice_jobs::hold_notices,
    },
    Job { name: "card_notices", about: "card-expiring notices", run: notice_jobs::card_notices },
    Job {
        name: "send_notices",
        about: "email the notices not yet delivered (and retry failed ones)",
        run: notice_jobs::send_notices,
    },
];

/// Jobs the scheduler also runs on every tick, outside the once-a-day bookkeeping, so that a
/// copy put on the hold shelf at noon is announced within the minute rather than the next
/// morning. Both are safe to repeat: every notice has a unique key, and only undelivered
/// notices are sent.
pub const EVERY_TICK: &[&str] = &["hold_notices", "send_notices"];

/// The desk's services for a job (lost marking and the hold-shelf sweep are the desk's own
/// decisions, run for the whole library).
fn desk(cx: &JobContext<'_>) -> desk::Desk {
    desk::Desk::new(cx.circulation.clone())
}

pub fn job(name: &str) -> Option<&'static Job> {
    JOBS.iter().find(|j| j.name == name)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ran {
        summary: String,
    },
    /// Ran already on this day; the summary of that run.
    AlreadyRan {
        summary: String,
    },
    Failed {
        error: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobReport {
    pub job: &'static str,
    pub day: NaiveDate,
    pub outcome: Outcome,
}

#[derive(Debug, thiserror::Error)]
pub enum JobsError {
    #[error("no job is called {0:?}; the jobs are {names}", names = JOBS.iter().map(|j| j.name).collect::<Vec<_>>().join(", "))]
    UnknownJob(String),
}

/// Runs the named jobs (all when `names` is empty), in [`JOBS`] order, for `day`. Each runs at
/// most once per day; one failing does not stop the others.
pub fn run_day(
    db: &dyn Database,
    circulation: &Circulation,
    notices: &Notices,
    day: NaiveDate,
    now: DateTime<Utc>,
    names: &[String],
) -> Result<Vec<JobReport>, JobsError> {
    if let Some(unknown) = names.iter().find(|n| job(n).is_none()) {
        return Err(JobsError::UnknownJob(unknown.clone()));
    }
    let cx = JobContext { db, circulation, notices, day, now };
    let chosen = JOBS.iter().filter(|j| names.is_empty() || names.iter().any(|n| n == j.name));
    Ok(chosen.map(|j| JobReport { job: j.name, day, outcome: run_once(&cx, j) }).collect())
}

fn run_once(cx: &JobContext<'_>, job: &Job) -> Outcome {
    match cx.db.job_run(job.name, cx.day) {
        Ok(Some(run)) => return Outcome::AlreadyRan { summary: run.summary },
        Ok(None) => {}
        Err(e) => return Outcome::Failed { error: e.to_string() },
    }
    let started_at = Utc::now();
    match (job.run)(cx) {
        Err(e) => {
            tracing::error!(job = job.name, day = %cx.day, "daily job failed: {e}");
            Outcome::Failed { error: e.to_string() }
        }
        Ok(summary) => {
            let run = JobRun {
                job: job.name.to_string(),
                day: cx.day,
                started_at,
                finished_at: Utc::now().max(started_at),
                summary: summary.clone(),
            };
            match cx.db.record_job_run(&run) {
                Ok(true) => Outcome::Ran { summary },
                // Another runner (the CLI beside the server) finished the same day first; both
                // runs were idempotent, so this one changed nothing new.
                Ok(false) => Outcome::AlreadyRan { summary },
                Err(e) => Outcome::Failed { error: e.to_string() },
            }
        }
    }
}

/// The library day `now` falls on.
pub fn library_day(circulation: &Circulation, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&circulation.time_zone).date_naive()
}

/// The daily jobs on a background thread; dropping it stops the thread.
pub struct Scheduler {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Scheduler {
    /// Checks the clock every `tick` (a minute in `serve`) and runs the day's jobs once the
    /// library's local time passes `notices.run_at`. `run_day` skips what already ran, so a
    /// restart on the same day runs nothing twice.
    /// Every tick it reads the stored settings and emergency closures into `desk`
    /// ([`desk::Desk::load_settings`]), so a rule, calendar or category edited on another server
    /// on the same database, or a closure declared there, is in force here within a tick.
    pub fn start(
        db: Arc<dyn Database>,
        desk: desk::Desk,
        notices: Notices,
        tick: Duration,
    ) -> std::io::Result<Scheduler> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new().name("shelfmark-jobs".into()).spawn(move || {
            let mut done: Option<NaiveDate> = None;
            loop {
                let now = Utc::now();
                let local = now.with_timezone(&desk.circulation().time_zone);
                let day = local.date_naive();
                if let Err(e) = desk.load_settings(&*db) {
                    tracing::error!("reading the edited settings and the emergency closures: {e}");
                }
                if done != Some(day) && local.time() >= notices.run_at {
                    match run_day(&*db, &desk.circulation(), &notices, day, now, &[]) {
                        Ok(reports) => {
                            for r in &reports {
                                tracing::info!(job = r.job, day = %day, "{:?}", r.outcome);
                            }
                            // A failed job is tried again on the next tick.
                            if reports.iter().all(|r| !matches!(r.outcome, Outcome::Failed { .. })) {
                                done = Some(day);
                            }
                        }
                        Err(e) => tracing::error!("daily jobs: {e}"),
                    }
                }
                let circulation = desk.circulation();
                let cx = JobContext { db: &*db, circulation: &circulation, notices: &notices, day, now };
                for job in EVERY_TICK.iter().filter_map(|name| job(name)) {
                    if let Err(e) = (job.run)(&cx) {
                        tracing::error!(job = job.name, "{e}");
                    }
                }
                match stopped.recv_timeout(tick) {
                    Err(RecvTimeoutError::Timeout) => {}
                    Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                }
            }
        })?;
        Ok(Scheduler { stop: Some(stop), thread: Some(thread) })
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
