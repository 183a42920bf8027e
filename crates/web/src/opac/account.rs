//! My account (`/account`): loans with renewal, holds with cancel, suspend and resume and the
//! place in the queue, fines, the reading history when the patron keeps one, and the notice and
//! privacy preferences; and placing a hold from a record page. Each action checks that the loan
//! or hold is the signed-in patron's own, then calls the same `desk` service as the staff API.
//!
//! Double submits do no work twice: a renewal form carries the loan's renewal count as the page
//! showed it, and a renewal whose count has moved on since is reported as already done; a
//! second cancel finds the hold finished; a second hold on the same title is refused by the
//! desk as a duplicate.

use super::{page_response, redirect, signed_in, take_flash, Fields, Flash};
use crate::api::parse_id;
use crate::error::ApiError;
use crate::html::{layout, url_encode, Esc};
use crate::AppState;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use catalog::{Barcode, Code};
use chrono::{DateTime, NaiveDate, Utc};
use circulation::{ChargeKind, CreditKind, EntryKind};
use desk::patrons::{PatronError, PatronInput};
use desk::{Circulation, Desk, DeskError, HoldChange};
use std::collections::{HashMap, HashSet};
use std::fmt::Write;
use storage::holds::{HoldStatus, HoldTarget, NewHold, StoredHold};
use storage::loans::Loan;
use storage::patrons::{HistoryChoice, NoticePreference, PatronRecord, PatronSession, ReadingHistory};
use storage::{Database, Page, PatronId};

type FormBody = Result<Form<Vec<(String, String)>>, FormRejection>;

/// The signed-in patron, or the answer that sends them to log in and come back to `back`.
async fn patron_or_login(state: &AppState, headers: &HeaderMap, back: &str) -> Result<PatronSession, Response> {
    match signed_in(state, headers).await {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(redirect(&format!("/login?next={}", url_encode(back)), None)),
        Err(e) => Err(crate::pages::error_page(state, e)),
    }
}

fn time(c: &Circulation, at: DateTime<Utc>) -> String {
    at.with_timezone(&c.time_zone).format("%Y-%m-%d %H:%M").to_string()
}

fn day(c: &Circulation, at: DateTime<Utc>) -> String {
    at.with_timezone(&c.time_zone).format("%Y-%m-%d").to_string()
}

/// "1st", "2nd", "3rd", "4th", "11th", "21st".
pub(crate) fn ordinal(n: i64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn desk_failure(e: DeskError) -> ApiError {
    match e {
        DeskError::Storage(e) => e.into(),
        other => ApiError::internal(other),
    }
}

fn refusal_text(refusals: &[circulation::Refusal]) -> String {
    refusals.iter().map(|r| r.message.as_str()).collect::<Vec<_>>().join(" ")
}

fn title_of(db: &dyn Database, bib_id: i64) -> Result<String, ApiError> {
    Ok(db
        .record(bib_id)?
        .map(|r| r.derived.title)
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "[no title]".to_string()))
}

/// A loan as the account shows it.
struct LoanRow {
    loan: Loan,
    barcode: Barcode,
    bib_id: i64,
    title: String,
}

fn loan_row(db: &dyn Database, loan: Loan) -> Result<LoanRow, ApiError> {
    let item = db.item(loan.item_id)?.ok_or_else(|| ApiError::internal(format!("loan {} has no item", loan.id)))?;
    let title = title_of(db, item.bib_id)?;
    Ok(LoanRow { loan, barcode: item.item.barcode, bib_id: item.bib_id, title })
}

struct AccountData {
    patron: PatronRecord,
    /// Why the card cannot borrow or place holds today (none: it can).
    standing: Vec<circulation::Refusal>,
    loans: Vec<LoanRow>,
    holds: Vec<(StoredHold, String)>,
    ledger: Option<storage::ledger::Account>,
    history: ReadingHistory,
    branches: HashMap<String, String>,
}

fn account_data(desk: &Desk, db: &dyn Database, card: &str, now: DateTime<Utc>) -> Result<AccountData, ApiError> {
    let patron = db.patron_record(card)?.ok_or_else(|| ApiError::internal("the signed-in card has no patron"))?;
    let mut loans = db.open_loans(patron.id)?.into_iter().map(|l| loan_row(db, l)).collect::<Result<Vec<_>, _>>()?;
    loans.sort_by(|a, b| a.loan.due_at.cmp(&b.loan.due_at).then(a.loan.id.cmp(&b.loan.id)));
    let overdue = loans.iter().filter(|l| l.loan.due_at < now).count() as u32;
    let standing = match db.patron_account(card)? {
        Some(account) => desk.patron_standing(&account, overdue, now),
        None => Vec::new(),
    };
    let mut holds = Vec::new();
    for h in db.patron_holds(patron.id)?.into_iter().filter(|h| h.status.is_open()) {
        let title = title_of(db, h.bib_id)?;
        holds.push((h, title));
    }
    let ledger = db.account(card)?;
    let history = desk.reading_history(db, card, Page { after: 0, limit: 100 }).map_err(patron_failure)?;
    let branches = db.branches()?.into_iter().map(|b| (b.code.to_string(), b.name)).collect();
    Ok(AccountData { patron, standing, loans, holds, ledger, history, branches })
}

fn patron_failure(e: PatronError) -> ApiError {
    match e {
        PatronError::Storage(e) => e.into(),
        other => ApiError::internal(other),
    }
}

fn branch_name<'a>(branches: &'a HashMap<String, String>, code: &'a Code) -> &'a str {
    branches.get(code.as_str()).map_or(code.as_str(), String::as_str)
}

fn loans_section(out: &mut String, c: &Circulation, loans: &[LoanRow], now: DateTime<Utc>) {
    out.push_str("<section id=\"loans\" aria-labelledby=\"loans-heading\">\n<h2 id=\"loans-heading\">Loans</h2>\n");
    if loans.is_empty() {
        out.push_str("<p>You have nothing on loan.</p>\n</section>\n");
        return;
    }
    out.push_str(
        "<table>\n<caption>What you have borrowed, soonest due first</caption>\n<thead><tr>\
         <th scope=\"col\">Title</th><th scope=\"col\">Barcode</th><th scope=\"col\">Due</th>\
         <th scope=\"col\">Renewals</th><th scope=\"col\">Renew</th></tr></thead>\n<tbody>\n",
    );
    for l in loans {
        let overdue = if l.loan.due_at < now { " <strong class=\"overdue\">Overdue</strong>" } else { "" };
        let _ = writeln!(
            out,
            "<tr class=\"loan\"><td><a href=\"/records/{bib}\">{title}</a></td><td>{barcode}</td>\
             <td class=\"due\">{due}{overdue}</td><td>{renewals}</td><td>\
             <form method=\"post\" action=\"/account/loans/{id}/renew\">\
             <input type=\"hidden\" name=\"renewals\" value=\"{renewals}\">\
             <button type=\"submit\" aria-label=\"Renew {title}\">Renew</button></form></td></tr>",
            bib = l.bib_id,
            title = Esc(&l.title),
            barcode = Esc(l.barcode.as_str()),
            due = Esc(&time(c, l.loan.due_at)),
            renewals = l.loan.renewals,
            id = l.loan.id,
        );
    }
    out.push_str("</tbody>\n</table>\n<form method=\"post\" action=\"/account/loans/renew\">\n");
    for l in loans {
        let _ = writeln!(out, "<input type=\"hidden\" name=\"loan\" value=\"{}:{}\">", l.loan.id, l.loan.renewals);
    }
    out.push_str("<button type=\"submit\">Renew all</button>\n</form>\n</section>\n");
}

fn hold_place(c: &Circulation, h: &StoredHold, branches: &HashMap<String, String>) -> String {
    match h.status {
        HoldStatus::OnShelf => match h.pickup_by {
            Some(by) => format!("Ready for pickup until {}", day(c, by)),
            None => "Ready for pickup".to_string(),
        },
        HoldStatus::InTransit => format!("On its way to {}", branch_name(branches, &h.pickup_branch)),
        HoldStatus::Suspended => match h.suspended_until {
            Some(until) => format!("Suspended until {until} ({} in line)", ordinal(h.queue_position)),
            None => format!("Suspended until you resume it ({} in line)", ordinal(h.queue_position)),
        },
        _ => format!("{} in line", ordinal(h.queue_position)),
    }
}

fn hold_status(h: &StoredHold) -> &'static str {
    match h.status {
        HoldStatus::Waiting => "Waiting",
        HoldStatus::Suspended => "Suspended",
        HoldStatus::InTransit => "In transit",
        HoldStatus::OnShelf => "On the hold shelf",
        HoldStatus::Filled => "Filled",
        HoldStatus::Cancelled => "Cancelled",
        HoldStatus::Expired => "Expired",
    }
}

fn holds_section(
    out: &mut String,
    c: &Circulation,
    holds: &[(StoredHold, String)],
    branches: &HashMap<String, String>,
) {
    out.push_str("<section id=\"holds\" aria-labelledby=\"holds-heading\">\n<h2 id=\"holds-heading\">Holds</h2>\n");
    if holds.is_empty() {
        out.push_str("<p>You have no holds. Place one from a title's page in the catalog.</p>\n</section>\n");
        return;
    }
    out.push_str(
        "<table>\n<caption>Titles you are waiting for</caption>\n<thead><tr><th scope=\"col\">Title</th>\
         <th scope=\"col\">Pickup branch</th><th scope=\"col\">Status</th><th scope=\"col\">Place in queue</th>\
         <th scope=\"col\">Change</th></tr></thead>\n<tbody>\n",
    );
    for (h, title) in holds {
        let _ = write!(
            out,
            "<tr class=\"hold\"><td><a href=\"/records/{bib}\">{title}</a></td><td>{branch}</td><td>{status}</td>\
             <td class=\"position\">{place}</td><td>\
             <form method=\"post\" action=\"/account/holds/{id}/cancel\">\
             <button type=\"submit\" aria-label=\"Cancel the hold on {title}\">Cancel hold</button></form>",
            bib = h.bib_id,
            title = Esc(title),
            branch = Esc(branch_name(branches, &h.pickup_branch)),
            status = hold_status(h),
            place = Esc(&hold_place(c, h, branches)),
            id = h.id,
        );
        match h.status {
            HoldStatus::Suspended => {
                let _ = write!(
                    out,
                    "<form method=\"post\" action=\"/account/holds/{id}/resume\">\
                     <button type=\"submit\" aria-label=\"Resume the hold on {title}\">Resume</button></form>",
                    id = h.id,
                    title = Esc(title),
                );
            }
            HoldStatus::Waiting => {
                let _ = write!(
                    out,
                    "<form method=\"post\" action=\"/account/holds/{id}/suspend\">\
                     <div><label for=\"until-{id}\">Suspend until (optional)</label>\
                     <input type=\"date\" id=\"until-{id}\" name=\"until\"></div>\
                     <button type=\"submit\" aria-label=\"Suspend the hold on {title}\">Suspend</button></form>",
                    id = h.id,
                    title = Esc(title),
                );
            }
            _ => {}
        }
        out.push_str("</td></tr>\n");
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

fn words(s: &str) -> String {
    let s = s.replace('_', " ");
    let mut chars = s.chars();
    chars.next().map(|f| f.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn fines_section(out: &mut String, c: &Circulation, patron: &PatronRecord, ledger: Option<&storage::ledger::Account>) {
    out.push_str(
        "<section id=\"fines\" aria-labelledby=\"fines-heading\">\n<h2 id=\"fines-heading\">Fines and fees</h2>\n",
    );
    let entries = ledger.map(|a| a.ledger.entries()).unwrap_or_default();
    if entries.is_empty() {
        out.push_str("<p>You have no charges.</p>\n");
    } else {
        out.push_str(
            "<table>\n<caption>Charges and payments, oldest first</caption>\n<thead><tr><th scope=\"col\">Date</th>\
             <th scope=\"col\">What</th><th scope=\"col\">Amount</th><th scope=\"col\">Still owed</th></tr></thead>\n<tbody>\n",
        );
        for e in entries {
            let (class, what, amount, owed) = match &e.kind {
                EntryKind::Charge { kind, amount, .. } => {
                    let owed =
                        ledger.and_then(|a| a.ledger.outstanding(e.id)).map(|m| m.to_string()).unwrap_or_default();
                    ("charge", charge_label(*kind), amount.to_string(), owed)
                }
                EntryKind::Credit { kind, amount, .. } => {
                    ("credit", credit_label(kind), format!("-{amount}"), String::new())
                }
                EntryKind::Payout { amount, .. } => {
                    ("credit", "Credit paid out".to_string(), amount.to_string(), String::new())
                }
            };
            let note = if e.note.is_empty() { String::new() } else { format!(": {}", e.note) };
            let _ = writeln!(
                out,
                "<tr class=\"{class}\"><td>{}</td><td>{}{}</td><td class=\"money\">{}</td><td class=\"money\">{}</td></tr>",
                Esc(&day(c, e.at)),
                Esc(&what),
                Esc(&note),
                Esc(&amount),
                Esc(&owed)
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }
    let balance = patron.balance;
    let text = if balance.minor() > 0 {
        format!("You owe <strong>{balance}</strong>.")
    } else if balance.minor() < 0 {
        format!("You have a credit of <strong>{}</strong>.", catalog::Money::from_minor(-balance.minor()))
    } else {
        "You owe nothing.".to_string()
    };
    let _ = writeln!(out, "<p class=\"balance\">{text}</p>\n</section>");
}

fn charge_label(kind: ChargeKind) -> String {
    words(kind.as_str())
}

fn credit_label(kind: &CreditKind) -> String {
    match kind {
        CreditKind::Payment(m) => format!("Payment ({})", words(m.as_str()).to_lowercase()),
        CreditKind::Waiver => "Waived".to_string(),
        CreditKind::WriteOff => "Written off".to_string(),
        CreditKind::Refund { .. } => "Refund".to_string(),
        CreditKind::Deposit(_) => "Deposit".to_string(),
    }
}

fn history_section(out: &mut String, c: &Circulation, history: &ReadingHistory) {
    out.push_str(
        "<section id=\"history\" aria-labelledby=\"history-heading\">\n<h2 id=\"history-heading\">Reading history</h2>\n",
    );
    match history {
        ReadingHistory::NotKept => out.push_str(
            "<p>Your reading history is not kept: once you return something, the library forgets that you \
             borrowed it. To keep a list of what you return from now on, choose \
             <a href=\"#preferences\">Keep my reading history</a> under Preferences.</p>\n",
        ),
        ReadingHistory::Kept(entries) if entries.is_empty() => {
            out.push_str("<p>Your reading history is kept, and is empty so far.</p>\n");
        }
        ReadingHistory::Kept(entries) => {
            out.push_str(
                "<table>\n<caption>What you have returned, newest first</caption>\n<thead><tr>\
                 <th scope=\"col\">Title</th><th scope=\"col\">Borrowed</th><th scope=\"col\">Returned</th></tr></thead>\n<tbody>\n",
            );
            for e in entries {
                let _ = writeln!(
                    out,
                    "<tr class=\"history-entry\"><td>{}</td><td>{}</td><td>{}</td></tr>",
                    Esc(&e.title),
                    Esc(&day(c, e.checked_out_at)),
                    Esc(&day(c, e.returned_at))
                );
            }
            out.push_str("</tbody>\n</table>\n");
        }
    }
    out.push_str("</section>\n");
}

fn preferences_section(out: &mut String, p: &PatronRecord) {
    out.push_str(
        "<section id=\"preferences\" aria-labelledby=\"preferences-heading\">\n\
         <h2 id=\"preferences-heading\">Preferences</h2>\n\
         <form method=\"post\" action=\"/account/preferences\" class=\"preferences\">\n\
         <fieldset><legend>Send my notices by</legend>\n",
    );
    for (value, label) in [(NoticePreference::Email, "Email"), (NoticePreference::Print, "Post (printed letter)")] {
        let checked = if p.details.notice_preference == value { " checked" } else { "" };
        let _ = writeln!(
            out,
            "<div><input type=\"radio\" id=\"notice-{v}\" name=\"notice\" value=\"{v}\"{checked}>\
             <label for=\"notice-{v}\">{label}</label></div>",
            v = value.as_str()
        );
    }
    if p.details.notice_preference == NoticePreference::Sms {
        out.push_str(
            "<div><input type=\"radio\" id=\"notice-sms\" name=\"notice\" value=\"sms\" checked>\
             <label for=\"notice-sms\">Text message</label></div>\n",
        );
    }
    out.push_str("</fieldset>\n<fieldset><legend>My reading history</legend>\n");
    for (value, label) in [
        (HistoryChoice::Keep, "Keep my reading history"),
        (HistoryChoice::Default, "Do not keep it (the library's default)"),
        (HistoryChoice::Never, "Never keep it, even if the library's default changes"),
    ] {
        let checked = if p.details.reading_history == value { " checked" } else { "" };
        let _ = writeln!(
            out,
            "<div><input type=\"radio\" id=\"history-{v}\" name=\"history\" value=\"{v}\"{checked}>\
             <label for=\"history-{v}\">{label}</label></div>",
            v = value.as_str()
        );
    }
    out.push_str("</fieldset>\n<div><button type=\"submit\">Save preferences</button></div>\n</form>\n</section>\n");
}

/// `GET /account`.
pub(super) async fn account_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let session = match patron_or_login(&state, &headers, "/account").await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let desk = state.desk.clone();
    let card = session.card_number.clone();
    let now = Utc::now();
    let data = match state.db(move |db| account_data(&desk, db, &card, now)).await {
        Ok(d) => d,
        Err(e) => return crate::pages::error_page(&state, e),
    };
    let c = state.desk.circulation();
    let flash = take_flash(&headers);
    let p = &data.patron;
    let mut main = String::from("<h1>My account</h1>\n");
    if let Some(f) = &flash {
        main.push_str(&f.html());
    }
    let _ = writeln!(
        main,
        "<p>{} {} &middot; card {} &middot; home branch {} &middot; card valid until {}</p>",
        Esc(&p.details.first_name),
        Esc(&p.details.surname),
        Esc(&p.card_number),
        Esc(branch_name(&data.branches, &p.details.home_branch)),
        p.details.expiry_date
    );
    if !data.standing.is_empty() {
        let _ = writeln!(
            main,
            "<p class=\"notice\" role=\"status\">Your card cannot be used to borrow or place holds just now: {} \
             Please ask at any branch.</p>",
            Esc(&refusal_text(&data.standing))
        );
    }
    main.push_str("<form method=\"post\" action=\"/logout\"><button type=\"submit\">Log out</button></form>\n");
    loans_section(&mut main, &c, &data.loans, now);
    holds_section(&mut main, &c, &data.holds, &data.branches);
    fines_section(&mut main, &c, p, data.ledger.as_ref());
    history_section(&mut main, &c, &data.history);
    preferences_section(&mut main, p);
    page_response(layout(&state.config.library_name, "My account", &main), flash.is_some())
}

/// Renews one of `patron`'s loans, unless the form's renewal count shows it was renewed since.
fn renew_one(
    desk: &Desk,
    c: &Circulation,
    db: &dyn Database,
    patron: PatronId,
    loan_id: i64,
    expected_renewals: Option<u32>,
    now: DateTime<Utc>,
) -> Result<Result<String, String>, ApiError> {
    let Some(loan) = db.open_loans(patron)?.into_iter().find(|l| l.id == loan_id) else {
        return Ok(Err("That loan is not on your account (it may have been returned).".to_string()));
    };
    let row = loan_row(db, loan)?;
    if expected_renewals.is_some_and(|n| n != row.loan.renewals) {
        return Ok(Ok(format!("{} was already renewed; it is due {}.", row.title, time(c, row.loan.due_at))));
    }
    match desk.renew(db, &row.barcode, now, None) {
        Ok((_, due)) => Ok(Ok(format!("Renewed {} until {}.", row.title, time(c, due.at)))),
        Err(DeskError::Refused(r)) => Ok(Err(format!("Could not renew {}: {}", row.title, refusal_text(&r)))),
        Err(e) => Err(desk_failure(e)),
    }
}

/// `POST /account/loans/{id}/renew` with `renewals` (the count the page showed).
pub(super) async fn renew(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormBody,
) -> Response {
    let session = match patron_or_login(&state, &headers, "/account").await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Ok(loan_id) = parse_id(&id, "id") else {
        return redirect("/account", Some(Flash::Refused("That loan is not on your account.".into())));
    };
    let expected = Fields::new(form).get("renewals").and_then(|v| v.trim().parse().ok());
    let (desk, c) = (state.desk.clone(), state.desk.circulation());
    let result = state.db(move |db| renew_one(&desk, &c, db, session.patron_id, loan_id, expected, Utc::now())).await;
    match result {
        Ok(Ok(m)) => redirect("/account", Some(Flash::Done(m))),
        Ok(Err(m)) => redirect("/account", Some(Flash::Refused(m))),
        Err(e) => crate::pages::error_page(&state, e),
    }
}

/// `POST /account/loans/renew` with `loan=ID:RENEWALS` for each loan the page showed.
pub(super) async fn renew_all(State(state): State<AppState>, headers: HeaderMap, form: FormBody) -> Response {
    let session = match patron_or_login(&state, &headers, "/account").await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let fields = Fields::new(form);
    let shown: HashMap<i64, u32> = fields
        .all("loan")
        .filter_map(|v| v.split_once(':'))
        .filter_map(|(id, n)| Some((id.trim().parse().ok()?, n.trim().parse().ok()?)))
        .collect();
    let (desk, c) = (state.desk.clone(), state.desk.circulation());
    let result = state
        .db(move |db| {
            let now = Utc::now();
            let mut ids: Vec<i64> = db.open_loans(session.patron_id)?.iter().map(|l| l.id).collect();
            // Only the loans the page showed: one borrowed since is not renewed behind the patron's back.
            if !shown.is_empty() {
                ids.retain(|id| shown.contains_key(id));
            }
            let mut done = Vec::new();
            let mut refused = Vec::new();
            for id in ids {
                match renew_one(&desk, &c, db, session.patron_id, id, shown.get(&id).copied(), now)? {
                    Ok(m) => done.push(m),
                    Err(m) => refused.push(m),
                }
            }
            Ok((done, refused))
        })
        .await;
    match result {
        Ok((done, refused)) if done.is_empty() && refused.is_empty() => {
            redirect("/account", Some(Flash::Done("You have nothing on loan to renew.".into())))
        }
        Ok((done, refused)) => {
            let text = done.into_iter().chain(refused.iter().cloned()).collect::<Vec<_>>().join(" ");
            let flash = if refused.is_empty() { Flash::Done(text) } else { Flash::Refused(text) };
            redirect("/account", Some(flash))
        }
        Err(e) => crate::pages::error_page(&state, e),
    }
}

/// The patron's own open hold `id`, with its title.
fn own_hold(db: &dyn Database, patron: PatronId, id: i64) -> Result<Option<(StoredHold, String)>, ApiError> {
    match db.hold(id)? {
        Some(h) if h.patron_id == patron => {
            let title = title_of(db, h.bib_id)?;
            Ok(Some((h, title)))
        }
        _ => Ok(None),
    }
}

enum HoldAction {
    Cancel,
    Suspend(Option<NaiveDate>),
    Resume,
}

async fn hold_action(state: AppState, headers: HeaderMap, id: String, action: HoldAction) -> Response {
    let session = match patron_or_login(&state, &headers, "/account").await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let not_yours = || redirect("/account", Some(Flash::Refused("That hold is not on your account.".into())));
    let Ok(hold_id) = parse_id(&id, "id") else { return not_yours() };
    let desk = state.desk.clone();
    let result = state
        .db(move |db| {
            let Some((hold, title)) = own_hold(db, session.patron_id, hold_id)? else { return Ok(None) };
            let now = Utc::now();
            let outcome = match action {
                HoldAction::Cancel => {
                    desk.cancel_hold(db, hold.id, now).map(|_| format!("Cancelled your hold on {title}."))
                }
                HoldAction::Suspend(until) => {
                    let change = HoldChange { suspend: Some(until), ..HoldChange::default() };
                    desk.change_hold(db, hold.id, &change, now).map(|_| match until {
                        Some(d) => format!("Your hold on {title} is suspended until {d}."),
                        None => format!("Your hold on {title} is suspended until you resume it."),
                    })
                }
                HoldAction::Resume => {
                    let change = HoldChange { resume: true, ..HoldChange::default() };
                    desk.change_hold(db, hold.id, &change, now)
                        .map(|_| format!("Your hold on {title} is active again."))
                }
            };
            match outcome {
                Ok(m) => Ok(Some(Ok(m))),
                Err(DeskError::Hold(_)) => Ok(Some(Err(format!(
                    "Your hold on {title} is {} and cannot be changed that way.",
                    hold_status(&hold).to_lowercase()
                )))),
                Err(DeskError::Refused(r)) => Ok(Some(Err(refusal_text(&r)))),
                Err(DeskError::NotFound { .. }) => Ok(None),
                Err(e) => Err(desk_failure(e)),
            }
        })
        .await;
    match result {
        Ok(Some(Ok(m))) => redirect("/account", Some(Flash::Done(m))),
        Ok(Some(Err(m))) => redirect("/account", Some(Flash::Refused(m))),
        Ok(None) => not_yours(),
        Err(e) => crate::pages::error_page(&state, e),
    }
}

/// `POST /account/holds/{id}/cancel`.
pub(super) async fn cancel_hold(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    hold_action(state, headers, id, HoldAction::Cancel).await
}

/// `POST /account/holds/{id}/suspend` with `until` (a date, or empty: until resumed).
pub(super) async fn suspend_hold(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormBody,
) -> Response {
    let fields = Fields::new(form);
    let until = match fields.get("until").map(str::trim).filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                let m = format!("{v:?} is not a date: give it as YYYY-MM-DD, or leave it empty.");
                return redirect("/account", Some(Flash::Refused(m)));
            }
        },
    };
    hold_action(state, headers, id, HoldAction::Suspend(until)).await
}

/// `POST /account/holds/{id}/resume`.
pub(super) async fn resume_hold(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    hold_action(state, headers, id, HoldAction::Resume).await
}

/// `POST /account/preferences` with `notice` and `history`.
pub(super) async fn preferences(State(state): State<AppState>, headers: HeaderMap, form: FormBody) -> Response {
    let session = match patron_or_login(&state, &headers, "/account").await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let fields = Fields::new(form);
    let (Some(notice), Some(history)) =
        (fields.get("notice").and_then(NoticePreference::parse), fields.get("history").and_then(HistoryChoice::parse))
    else {
        let m = "Choose how to get notices and whether to keep your reading history.";
        return redirect("/account#preferences", Some(Flash::Refused(m.into())));
    };
    let desk = state.desk.clone();
    let result = state
        .db(move |db| {
            let card = session.card_number;
            let p = desk.patron(db, &card).map_err(patron_failure)?;
            let d = p.details;
            let input = PatronInput {
                card_number: Some(card.clone()),
                surname: d.surname,
                first_name: d.first_name,
                birth_date: d.birth_date,
                email: d.email,
                phone: d.phone,
                address: d.address,
                category: Some(d.category),
                home_branch: Some(d.home_branch),
                guarantor: d.guarantor,
                notice_preference: notice,
                reading_history: history,
            };
            match desk.update_patron(db, &card, &input, Utc::now()) {
                Ok(_) => Ok(Ok(())),
                Err(PatronError::Invalid(problems)) => {
                    Ok(Err(problems.into_iter().map(|p| p.message).collect::<Vec<_>>().join(" ")))
                }
                Err(e) => Err(patron_failure(e)),
            }
        })
        .await;
    match result {
        Ok(Ok(())) => redirect("/account", Some(Flash::Done("Your preferences are saved.".into()))),
        Ok(Err(m)) => redirect("/account", Some(Flash::Refused(format!("Your preferences could not be saved: {m}")))),
        Err(e) => crate::pages::error_page(&state, e),
    }
}

/// `POST /records/{id}/hold` with `pickup` (a branch code): a title-level hold for the
/// signed-in patron, through the same desk service as `POST /api/v1/holds`.
pub(super) async fn place_hold(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormBody,
) -> Response {
    let back = format!("/records/{}", url_encode(&id));
    let session = match patron_or_login(&state, &headers, &back).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let record_id = match parse_id(&id, "id") {
        Ok(id) => id,
        Err(e) => return crate::pages::error_page(&state, e),
    };
    let fields = Fields::new(form);
    let Some(pickup) = fields.get("pickup").and_then(|v| Code::parse(v.trim()).ok()) else {
        return redirect(&back, Some(Flash::Refused("Choose a pickup branch.".into())));
    };
    let desk = state.desk.clone();
    let result = state
        .db(move |db| {
            let branches: HashSet<String> = db.branches()?.into_iter().map(|b| b.code.to_string()).collect();
            if !branches.contains(pickup.as_str()) {
                return Ok(Err("Choose one of the library's branches for pickup.".to_string()));
            }
            let title = title_of(db, record_id)?;
            let hold = NewHold {
                card_number: session.card_number,
                target: HoldTarget::Record(record_id),
                pickup_branch: pickup.clone(),
                not_needed_after: None,
            };
            match desk.place_hold(db, &hold, Utc::now()) {
                Ok(h) => {
                    let branch = db.branch(&h.pickup_branch)?.map_or_else(|| pickup.to_string(), |b| b.name);
                    Ok(Ok(format!("Hold placed on {title} for pickup at {branch}")))
                }
                Err(DeskError::Refused(r)) => {
                    Ok(Err(format!("Could not place a hold on {title}: {}", refusal_text(&r))))
                }
                Err(DeskError::NotFound { what, .. }) => Ok(Err(format!("The {what} no longer exists."))),
                Err(e) => Err(desk_failure(e)),
            }
        })
        .await;
    match result {
        Ok(Ok(m)) => redirect("/account", Some(Flash::Done(m))),
        Ok(Err(m)) => redirect(&back, Some(Flash::Refused(m))),
        Err(e) => crate::pages::error_page(&state, e),
    }
}

/// For the record page: the signed-in patron's home branch and the branches to pick up at, or
/// `None` when nobody is signed in.
pub(crate) async fn hold_form_context(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(Code, Vec<(Code, String)>)>, ApiError> {
    let Some(session) = signed_in(state, headers).await? else { return Ok(None) };
    let context = state
        .db(move |db| {
            let home = db.patron_record(&session.card_number)?.map(|p| p.details.home_branch);
            let branches = db.branches()?.into_iter().map(|b| (b.code, b.name)).collect::<Vec<_>>();
            Ok(home.map(|h| (h, branches)))
        })
        .await?;
    Ok(context)
}

/// The hold form (or the log-in link) for record `id`.
pub(crate) fn hold_form(out: &mut String, id: i64, context: Option<&(Code, Vec<(Code, String)>)>) {
    let Some((home, branches)) = context else {
        let _ = writeln!(
            out,
            "<p><a class=\"login-to-hold\" href=\"/login?next=/records/{id}\">Log in to place a hold</a></p>"
        );
        return;
    };
    let _ = write!(
        out,
        "<form class=\"place-hold\" method=\"post\" action=\"/records/{id}/hold\">\n\
         <div><label for=\"pickup\">Pickup branch</label><select id=\"pickup\" name=\"pickup\">"
    );
    for (code, name) in branches {
        let selected = if code == home { " selected" } else { "" };
        let _ = write!(out, "<option value=\"{}\"{selected}>{}</option>", Esc(code.as_str()), Esc(name));
    }
    out.push_str("</select></div>\n<div><button type=\"submit\">Place hold</button></div>\n</form>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals() {
        let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111].into_iter().map(ordinal).collect();
        assert_eq!(got, ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "101st", "111th"]);
    }
}
