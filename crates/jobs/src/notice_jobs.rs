//! The notice jobs: decide which loans and cards need a notice today (`circulation::notices`),
//! record each message with its unique keys, and send the email ones.
//!
//! A patron gets one message per kind and day, listing every item of that kind (three books
//! overdue are one letter, not three). Patrons without an email address get theirs in the day's
//! print batch.

use crate::{JobContext, JobResult};
use catalog::Code;
use chrono::{Duration, NaiveDate};
use circulation::{card_notice, hold_notice, loan_notice, HoldState, NoticeKind};
use notices::{default_template, parse_kind, render, NoticeContext, NoticeItem, Template};
use std::collections::BTreeMap;
use storage::notices::{due_occasion, Delivery, LoanCursor, LoanDue, NewNotice, NoticeKey, NoticePatron};

const PAGE: u32 = 500;

/// A notice's key and the item line it adds (none for a card).
type Entry = (NoticeKey, Option<NoticeItem>);

/// One patron's notices to send, by kind: one message per kind.
type ByKind = BTreeMap<&'static str, (NoticeKind, Vec<Entry>)>;

/// The library's templates, read once per run: its own for the channel, else its own for email,
/// else the default.
struct Templates(BTreeMap<(String, String), Template>);

impl Templates {
    fn load(cx: &JobContext<'_>) -> storage::Result<Templates> {
        let stored = cx.db.notice_templates()?;
        Ok(Templates(
            stored.into_iter().map(|t| ((t.kind, t.channel), Template { subject: t.subject, body: t.body })).collect(),
        ))
    }

    fn get(&self, kind: NoticeKind, channel: &str) -> Template {
        let k = kind.as_str().to_string();
        self.0
            .get(&(k.clone(), channel.to_string()))
            .or_else(|| self.0.get(&(k, "email".to_string())))
            .cloned()
            .unwrap_or_else(|| default_template(kind))
    }
}

#[derive(Default)]
struct Tally {
    by_kind: BTreeMap<&'static str, u32>,
    email: u32,
    print: u32,
}

impl Tally {
    fn add(&mut self, kind: NoticeKind, channel: &str) {
        *self.by_kind.entry(kind.as_str()).or_default() += 1;
        if channel == "email" {
            self.email += 1;
        } else {
            self.print += 1;
        }
    }

    fn summary(&self) -> String {
        if self.by_kind.is_empty() {
            return "no notices due".to_string();
        }
        let kinds: Vec<String> = self.by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
        format!("{} notices ({} by email, {} to print)", kinds.join(", "), self.email, self.print)
    }
}

/// Records one message to `patron` of `kind` about `items` (each with its key), rendering only
/// the items whose keys this run claimed.
fn notify(
    cx: &JobContext<'_>,
    templates: &Templates,
    tally: &mut Tally,
    patron: &NoticePatron,
    kind: NoticeKind,
    entries: &[(NoticeKey, Option<NoticeItem>)],
) -> storage::Result<()> {
    let channel = if patron.email.is_some() { "email" } else { "print" };
    let template = templates.get(kind, channel);
    let keys: Vec<NoticeKey> = entries.iter().map(|(k, _)| k.clone()).collect();
    let mut render_error = None;
    let id = cx.db.record_notice(&keys, cx.now, &mut |claimed| {
        let context = NoticeContext {
            kind,
            library_name: cx.notices.library_name.clone(),
            time_zone: cx.circulation.time_zone,
            first_name: patron.first_name.clone(),
            surname: patron.surname.clone(),
            card_number: patron.card_number.clone(),
            card_expiry: patron.expiry_date,
            today: cx.day,
            items: claimed.iter().filter_map(|&i| entries[i].1.clone()).collect(),
        };
        match render(&template, &context) {
            Ok(r) => Some(NewNotice {
                patron_id: patron.id,
                kind: kind.as_str().to_string(),
                channel: channel.to_string(),
                recipient: patron.email.clone(),
                subject: r.subject,
                body: r.body,
                day: cx.day,
            }),
            Err(e) => {
                render_error = Some(e);
                None
            }
        }
    })?;
    if let Some(e) = render_error {
        // Nothing was claimed: the notice goes out once the template is fixed.
        return Err(storage::StorageError::Other(format!("the {} template: {e}", kind.as_str())));
    }
    if id.is_some() {
        tally.add(kind, channel);
    }
    Ok(())
}

/// Courtesy and overdue notices for every open loan due before the horizon.
pub(crate) fn loan_notices(cx: &JobContext<'_>) -> JobResult {
    let templates = Templates::load(cx)?;
    let schedule = &cx.notices.schedule;
    // Loans due within the courtesy window are candidates; a day of slack covers the time-zone
    // offset, and `loan_notice` decides on the library's calendar days.
    let ahead = i64::from(schedule.courtesy_days_before.map_or(0, |d| d + 2));
    let due_before = cx.now + Duration::days(ahead);
    let mut tally = Tally::default();
    let mut after = LoanCursor::default();
    let mut group: Vec<LoanDue> = Vec::new();
    loop {
        let page = cx.db.loans_due_for_notices(due_before, after, PAGE)?;
        let last = page.len() < PAGE as usize;
        if let Some(l) = page.last() {
            after = LoanCursor { patron_id: l.patron.id, loan_id: l.loan_id };
        }
        for loan in page {
            if group.first().is_some_and(|g| g.patron.id != loan.patron.id) {
                patron_loans(cx, &templates, &mut tally, &std::mem::take(&mut group))?;
            }
            group.push(loan);
        }
        if last {
            break;
        }
    }
    if !group.is_empty() {
        patron_loans(cx, &templates, &mut tally, &group)?;
    }
    Ok(tally.summary())
}

fn patron_loans(
    cx: &JobContext<'_>,
    templates: &Templates,
    tally: &mut Tally,
    loans: &[LoanDue],
) -> storage::Result<()> {
    let mut by_kind = ByKind::new();
    for loan in loans {
        let sent: Vec<NoticeKind> = loan.sent.iter().filter_map(|s| parse_kind(s)).collect();
        let Some(kind) =
            loan_notice(loan.due_at, cx.now, &sent, &cx.notices.schedule, &cx.circulation.library_calendar)
        else {
            continue;
        };
        let key = NoticeKey {
            patron_id: loan.patron.id,
            kind: kind.as_str().to_string(),
            subject: format!("loan:{}", loan.loan_id),
            occasion: due_occasion(loan.due_at),
        };
        let item =
            NoticeItem { title: loan.title.clone(), barcode: loan.barcode.clone(), date: loan.due_at, branch: None };
        by_kind.entry(kind.as_str()).or_insert_with(|| (kind, Vec::new())).1.push((key, Some(item)));
    }
    let Some(first) = loans.first() else { return Ok(()) };
    for (kind, entries) in by_kind.into_values() {
        notify(cx, templates, tally, &first.patron, kind, &entries)?;
    }
    Ok(())
}

/// Hold-ready notices for holds put on a hold shelf, and hold-expiring notices shortly before
/// their pickup deadline. Every hold on the shelves is read (there are far fewer than loans),
/// so that a patron with several holds ready gets one message listing them.
pub(crate) fn hold_notices(cx: &JobContext<'_>) -> JobResult {
    let templates = Templates::load(cx)?;
    let mut tally = Tally::default();
    let mut by_patron: BTreeMap<i64, (NoticePatron, ByKind)> = BTreeMap::new();
    // Deadlines within the expiring window are candidates; a day of slack each side covers the
    // time-zone offset, and `hold_notice` decides on the pickup branch's calendar days.
    let ahead = i64::from(cx.notices.schedule.hold_expiring_days_before.map_or(0, |d| d + 2));
    let expiring_before = cx.now + Duration::days(ahead);
    let mut after = 0;
    loop {
        let page = cx.db.holds_on_shelf_for_notices(expiring_before, after, PAGE)?;
        for hold in &page {
            after = hold.hold_id;
            let sent: Vec<NoticeKind> = hold.sent.iter().filter_map(|s| parse_kind(s)).collect();
            let calendar = match Code::parse(&hold.pickup_branch) {
                Ok(branch) => cx.circulation.calendar(&branch),
                Err(_) => &cx.circulation.library_calendar,
            };
            let state = HoldState::OnShelf { item: circulation::ItemId(hold.item_id), pickup_by: hold.pickup_by };
            let Some(kind) = hold_notice(state, cx.now, &sent, &cx.notices.schedule, calendar) else { continue };
            let key = NoticeKey {
                patron_id: hold.patron.id,
                kind: kind.as_str().to_string(),
                subject: format!("hold:{}", hold.hold_id),
                occasion: due_occasion(hold.pickup_by),
            };
            let item = NoticeItem {
                title: hold.title.clone(),
                barcode: hold.barcode.clone(),
                date: hold.pickup_by,
                branch: Some(hold.pickup_branch.clone()),
            };
            let (_, kinds) = by_patron.entry(hold.patron.id).or_insert_with(|| (hold.patron.clone(), BTreeMap::new()));
            kinds.entry(kind.as_str()).or_insert_with(|| (kind, Vec::new())).1.push((key, Some(item)));
        }
        if page.len() < PAGE as usize {
            break;
        }
    }
    for (patron, kinds) in by_patron.into_values() {
        for (kind, entries) in kinds.into_values() {
            notify(cx, &templates, &mut tally, &patron, kind, &entries)?;
        }
    }
    Ok(tally.summary())
}

/// Card-expiring notices for cards expiring within the notice window.
pub(crate) fn card_notices(cx: &JobContext<'_>) -> JobResult {
    let Some(window) = cx.notices.schedule.card_expiring_days_before else {
        return Ok("card-expiring notices are off".to_string());
    };
    let templates = Templates::load(cx)?;
    let mut tally = Tally::default();
    let to: NaiveDate = cx.day + Duration::days(i64::from(window));
    let mut after = 0;
    loop {
        let page = cx.db.cards_expiring(cx.day, to, after, PAGE)?;
        for card in &page {
            after = card.patron.id;
            let sent: &[NoticeKind] = if card.sent { &[NoticeKind::CardExpiring] } else { &[] };
            if card_notice(card.patron.expiry_date, cx.day, sent, &cx.notices.schedule).is_none() {
                continue;
            }
            let key = NoticeKey {
                patron_id: card.patron.id,
                kind: NoticeKind::CardExpiring.as_str().to_string(),
                subject: "card".to_string(),
                occasion: card.patron.expiry_date.format("%Y-%m-%d").to_string(),
            };
            notify(cx, &templates, &mut tally, &card.patron, NoticeKind::CardExpiring, &[(key, None)])?;
        }
        if page.len() < PAGE as usize {
            break;
        }
    }
    Ok(tally.summary())
}

/// Emails every notice not yet delivered: those the notice jobs just stored, those a crashed
/// run left `pending`, and those that failed before (the SMTP server was down).
pub(crate) fn send_notices(cx: &JobContext<'_>) -> JobResult {
    let Some(mailer) = &cx.notices.mailer else {
        let waiting = cx.db.pending_notices(0, PAGE)?.len();
        return Ok(format!("SMTP is not configured: {waiting} email notices wait"));
    };
    let (mut sent, mut failed) = (0u32, 0u32);
    let mut after = 0;
    loop {
        let page = cx.db.pending_notices(after, PAGE)?;
        for n in &page {
            after = n.id;
            let delivery = match n.recipient.as_deref() {
                None => Delivery::Failed("no email address".to_string()),
                Some(to) => match mailer.send(to, &n.subject, &n.body) {
                    Ok(()) => Delivery::Sent,
                    Err(e) => Delivery::Failed(e.to_string()),
                },
            };
            if delivery == Delivery::Sent {
                sent += 1;
            } else {
                failed += 1;
            }
            cx.db.mark_notice(n.id, &delivery, cx.now)?;
        }
        if page.len() < PAGE as usize {
            break;
        }
    }
    Ok(format!("{sent} email notices sent, {failed} failed"))
}
