//! Notices and daily jobs: templates, what was sent, and which job ran on which day.
//!
//! The trait is implemented by both backends (`sqlite/notices.rs`, `postgres/notices.rs`) and is a
//! supertrait of [`crate::Database`], so `dyn Database` offers its methods.
//!
//! # Never the same notice twice
//!
//! A notice is about something (a loan, a hold, a card) on an occasion (the due date it was
//! sent for, the expiry date): its key is (patron, kind, subject, occasion), unique in the
//! `notice_keys` table. [`NoticeStore::record_notice`] claims the keys and stores the message in
//! one transaction, so a job that crashes half-way and runs again finds the keys taken and sends
//! nothing new for them; a message stored but not yet delivered stays `pending` and the next run
//! delivers it ([`NoticeStore::pending_notices`]). The one window left is a crash after the SMTP
//! server accepted a message and before it was marked sent: that message goes out again
//! (at-least-once delivery, never silently lost).

use crate::{LoanId, Page, PatronId};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

pub type NoticeId = i64;

/// A template the library edited (the defaults live in the `notices` crate, not here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredTemplate {
    /// `courtesy`, `overdue_1`, ... (`circulation::NoticeKind::as_str`).
    pub kind: String,
    /// `email` or `print`.
    pub channel: String,
    pub subject: String,
    pub body: String,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

/// What a notice is about and on which occasion: the unique key that stops a second copy.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NoticeKey {
    pub patron_id: PatronId,
    pub kind: String,
    /// `loan:12`, `hold:7`, `card`.
    pub subject: String,
    /// The loan's due time (RFC 3339) or the card's expiry date: a renewed loan or a renewed
    /// card is a new occasion.
    pub occasion: String,
}

/// The occasion of a loan's notices: its due time as storage writes it, so a renewal (a new
/// due time) is a new occasion.
pub fn due_occasion(due: DateTime<Utc>) -> String {
    crate::common::rfc3339(due)
}

/// A message to store with the keys it claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotice {
    pub patron_id: PatronId,
    pub kind: String,
    /// `email` or `print`.
    pub channel: String,
    /// The email address, or `None` for print.
    pub recipient: Option<String>,
    pub subject: String,
    pub body: String,
    /// The library day the job ran for.
    pub day: NaiveDate,
}

/// How a stored notice fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    Failed(String),
}

/// One message of the notices log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoticeRecord {
    pub id: NoticeId,
    pub patron_id: PatronId,
    pub card_number: String,
    pub kind: String,
    pub channel: String,
    pub recipient: Option<String>,
    pub subject: String,
    pub body: String,
    pub day: NaiveDate,
    pub created_at: DateTime<Utc>,
    /// `pending`, `sent`, `failed` (email) or `print` (waiting in the print batch).
    pub status: String,
    pub error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// First name and surname, for the print batch's address line.
    pub patron_name: String,
}

/// A patron as a notice addresses them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticePatron {
    pub id: PatronId,
    pub card_number: String,
    pub first_name: String,
    pub surname: String,
    pub email: Option<String>,
    pub expiry_date: NaiveDate,
}

/// An open loan that may need a courtesy or overdue notice, with the notice kinds already sent
/// for its current due date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanDue {
    pub loan_id: LoanId,
    pub patron: NoticePatron,
    pub barcode: String,
    pub title: String,
    pub checkout_branch: String,
    pub due_at: DateTime<Utc>,
    pub sent: Vec<String>,
}

/// A hold waiting on a hold shelf, which may need a hold-ready or hold-expiring notice, with
/// the notice kinds already sent for its current pickup deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldDue {
    pub hold_id: crate::holds::HoldId,
    pub patron: NoticePatron,
    /// The copy waiting on the shelf.
    pub item_id: crate::ItemId,
    pub barcode: String,
    pub title: String,
    pub pickup_branch: String,
    pub pickup_by: DateTime<Utc>,
    pub sent: Vec<String>,
}

/// A patron whose card expires soon, and whether the notice for this expiry date went out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardDue {
    pub patron: NoticePatron,
    pub sent: bool,
}

/// A finished run of a daily job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobRun {
    pub job: String,
    pub day: NaiveDate,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub summary: String,
}

/// Keyset position in [`NoticeStore::loans_due_for_notices`]: the last (patron, loan) seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoanCursor {
    pub patron_id: PatronId,
    pub loan_id: LoanId,
}

/// Notices and daily jobs: templates, what was sent, and which job ran on which day.
pub trait NoticeStore {
    // Templates.
    fn notice_templates(&self) -> crate::Result<Vec<StoredTemplate>>;
    fn notice_template(&self, kind: &str, channel: &str) -> crate::Result<Option<StoredTemplate>>;
    /// Stores (or replaces) the library's template for `kind` and `channel`.
    fn put_notice_template(&self, template: &StoredTemplate) -> crate::Result<()>;

    // What needs a notice.
    /// Open loans due before `due_before`, by patron then loan, after `after`, at most `limit`;
    /// loans that already had their 3rd overdue notice for this due date are left out. Read from
    /// the index of open loans by due time, never by walking each patron's loans.
    fn loans_due_for_notices(
        &self,
        due_before: DateTime<Utc>,
        after: LoanCursor,
        limit: u32,
    ) -> crate::Result<Vec<LoanDue>>;
    /// Holds on a hold shelf that may still need a notice: no hold-ready notice yet, or a
    /// pickup deadline before `expiring_before` and no hold-expiring notice yet; by hold id after
    /// `after`, at most `limit`. The scheduler asks every minute, so holds already told are
    /// filtered here, not read and skipped. A hold's notices are keyed on its pickup deadline
    /// ([`due_occasion`] of it), so a deadline pushed back by an emergency closure is a new
    /// occasion: the patron hears of the new date.
    fn holds_on_shelf_for_notices(
        &self,
        expiring_before: DateTime<Utc>,
        after: crate::holds::HoldId,
        limit: u32,
    ) -> crate::Result<Vec<HoldDue>>;
    /// Patrons whose card expires between `from` and `to` (inclusive), by patron id after
    /// `after`, at most `limit`.
    fn cards_expiring(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        after: PatronId,
        limit: u32,
    ) -> crate::Result<Vec<CardDue>>;

    // The notices log.
    /// In one transaction: claims each key not yet taken, calls `render` with the indices of
    /// the keys it claimed (never empty), and stores the message it returns. Nothing is claimed
    /// or stored when every key was taken already or `render` returns `None`. Email notices are
    /// stored `pending`, print notices `print`.
    fn record_notice(
        &self,
        keys: &[NoticeKey],
        now: DateTime<Utc>,
        render: &mut dyn FnMut(&[usize]) -> Option<NewNotice>,
    ) -> crate::Result<Option<NoticeId>>;
    fn mark_notice(&self, id: NoticeId, delivery: &Delivery, now: DateTime<Utc>) -> crate::Result<()>;
    /// Email notices stored but not yet delivered (or that failed), oldest first, with id
    /// greater than `after`.
    fn pending_notices(&self, after: NoticeId, limit: u32) -> crate::Result<Vec<NoticeRecord>>;
    /// The print batch of a library day, by patron.
    fn print_notices(&self, day: NaiveDate) -> crate::Result<Vec<NoticeRecord>>;
    /// The log, newest last, keyset paged by id.
    fn notices(&self, page: Page) -> crate::Result<Vec<NoticeRecord>>;
    /// The patron's notices, newest first, keyset paged by id (`page.after` 0 starts at the
    /// newest; otherwise the notices older than that id).
    fn patron_notices(&self, patron: crate::PatronId, page: Page) -> crate::Result<Vec<NoticeRecord>>;

    // Job runs.
    fn job_run(&self, job: &str, day: NaiveDate) -> crate::Result<Option<JobRun>>;
    /// Records a finished run; `false` when (job, day) was recorded already (the run's work was
    /// idempotent, so nothing is lost).
    fn record_job_run(&self, run: &JobRun) -> crate::Result<bool>;
}
