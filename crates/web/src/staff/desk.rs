//! The circulation desk, `/staff/desk`: scan a patron card, see the patron (blocks, alerts,
//! loans, holds ready, balance), scan items to check them out, renew one or all, print the
//! receipt of this visit.
//!
//! Made for a barcode scanner, which types the barcode and presses Enter: each scan submits its
//! form and the answer puts the cursor back in the scan field. The checkouts of the visit ride
//! along in a hidden `session` field (loan ids), so the page needs no server-side state and the
//! receipt is just those loans. A scan sent twice (a double Enter, a resubmitted form) meets the
//! desk's own refusal of a copy already on loan to this patron and is shown as such, never as a
//! second checkout or an error page.

use super::{
    capitalised, desk_branch, error_page, layout, local, query_get, titles, DeskBranch, Fields, QueryParams, StaffUser,
};
use crate::api::circulation::desk_error;
use crate::auth::Acting;
use crate::error::{ApiError, ErrorCode};
use crate::html::{url_encode, Esc};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use catalog::Barcode;
use chrono::Utc;
use circulation::{Permission, Refusal, RefusalCode};
use desk::DeskError;
use std::collections::HashMap;
use std::fmt::Write;
use storage::holds::{HoldStatus, StoredHold};
use storage::loans::{Loan, PatronAccount};
use storage::patrons::PatronRecord;
use storage::Database;

/// What the desk shows about the patron whose card was scanned.
struct Patron {
    record: PatronRecord,
    account: PatronAccount,
    /// Open loans, soonest due first.
    loans: Vec<Loan>,
    /// Holds waiting on the hold shelf, with the pickup branch's name.
    ready: Vec<(StoredHold, String, String)>,
    /// Why the patron could not borrow today, whatever the item (the desk's own rules).
    standing: Vec<Refusal>,
    items: HashMap<storage::ItemId, (catalog::Item, String)>,
}

/// What the last scan or button did.
enum Outcome {
    CheckedOut {
        loan: i64,
        title: String,
        barcode: String,
        due: String,
        note: Option<String>,
        overridden: bool,
    },
    /// The same copy scanned again for the same patron.
    AlreadyOut {
        title: String,
        barcode: String,
        due: String,
    },
    Renewed(Vec<(String, String, String)>),
    /// Refused, with every reason; `barcode` and `action` let an override send it again.
    Refused {
        action: &'static str,
        what: String,
        barcode: String,
        refusals: Vec<Refusal>,
    },
    /// A scan the desk could not act on (unknown barcode, a card replaced): no override.
    Problem(String),
    /// Renew all: some renewed, some refused.
    RenewedSome {
        renewed: Vec<(String, String, String)>,
        refused: Vec<(String, String)>,
    },
}

struct View {
    branch: DeskBranch,
    /// The card as scanned, when no patron has it.
    card: Option<String>,
    patron: Option<Patron>,
    outcome: Option<Outcome>,
    session: Vec<i64>,
}

fn parse_session(raw: Option<&str>) -> Vec<i64> {
    let mut ids: Vec<i64> = raw.unwrap_or("").split(',').filter_map(|s| s.trim().parse().ok()).collect();
    // Only the loans of one visit: a long list is someone editing the form, not a desk.
    ids.truncate(200);
    ids
}

fn session_text(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

fn load_patron(state: &AppState, db: &dyn Database, card: &str) -> Result<Option<Patron>, ApiError> {
    let record = match state.desk.patron(db, card) {
        Ok(r) => r,
        Err(desk::patrons::PatronError::NotFound { .. }) => return Ok(None),
        Err(e @ desk::patrons::PatronError::CardReplaced { .. }) => {
            return Err(ApiError::field(ErrorCode::CardReplaced, "card_number", e.to_string()))
        }
        Err(e) => return Err(ApiError::internal(e)),
    };
    let Some(account) = db.patron_account(&record.card_number)? else { return Ok(None) };
    let mut loans = db.open_loans(account.id)?;
    loans.sort_by_key(|l| (l.due_at, l.id));
    let now = Utc::now();
    let overdue = loans.iter().filter(|l| l.due_at < now).count();
    let standing = state.desk.patron_standing(&account, u32::try_from(overdue).unwrap_or(u32::MAX), now);
    let branches: HashMap<String, String> =
        db.branches()?.into_iter().map(|b| (b.code.as_str().to_string(), b.name)).collect();
    let mut ready = Vec::new();
    for hold in db.patron_holds(account.id)? {
        if hold.status == HoldStatus::OnShelf {
            let title = db.record(hold.bib_id)?.map(|r| r.derived.title).unwrap_or_else(|| "[no title]".into());
            let branch = branches.get(hold.pickup_branch.as_str()).cloned().unwrap_or(hold.pickup_branch.to_string());
            ready.push((hold, title, branch));
        }
    }
    let items = titles(db, loans.iter().map(|l| l.item_id))?;
    Ok(Some(Patron { record, account, loans, ready, standing, items }))
}

fn name(record: &PatronRecord) -> String {
    format!("{} {}", record.details.first_name, record.details.surname).trim().to_string()
}

impl View {
    fn keep(&self) -> Vec<(&str, String)> {
        let mut keep = vec![("branch", self.branch.here.code.as_str().to_string())];
        if let Some(p) = &self.patron {
            keep.push(("card", p.record.card_number.clone()));
        }
        keep.push(("session", session_text(&self.session)));
        keep
    }

    fn hidden(&self) -> String {
        self.keep()
            .iter()
            .map(|(k, v)| format!("<input type=\"hidden\" name=\"{k}\" value=\"{}\">", Esc(v)))
            .collect::<String>()
    }

    fn render(&self, state: &AppState, acting: &Acting) -> String {
        let mut main = String::from("<h1>Circulation desk</h1>\n");
        let card_keep = self.patron.as_ref().map(|p| p.record.card_number.clone()).unwrap_or_default();
        main.push_str(&self.branch.bar("/staff/desk", &[("card", &card_keep)]));
        let loaded = self.patron.is_some();
        let _ = writeln!(
            main,
            "<form method=\"get\" action=\"/staff/desk\" class=\"scan patron-scan\">\
             <input type=\"hidden\" name=\"branch\" value=\"{}\">\
             <div><label for=\"patron-card\">Patron card</label><input id=\"patron-card\" name=\"card\" \
             autocomplete=\"off\" inputmode=\"numeric\" value=\"{}\"{}></div>\
             <div><button type=\"submit\">Find patron</button></div></form>",
            Esc(self.branch.here.code.as_str()),
            Esc(if loaded { "" } else { self.card.as_deref().unwrap_or("") }),
            if loaded { "" } else { " autofocus" },
        );
        if let (Some(card), None) = (&self.card, &self.patron) {
            let _ = writeln!(
                main,
                "<div class=\"refused\" role=\"alert\"><h2>No patron has card {}</h2><p>Check the card and scan it again.</p></div>",
                Esc(card)
            );
        }
        if let Some(outcome) = &self.outcome {
            self.render_outcome(&mut main, state, acting, outcome);
        }
        if let Some(p) = &self.patron {
            self.render_patron(&mut main, state, p);
        }
        main
    }

    fn render_outcome(&self, main: &mut String, state: &AppState, acting: &Acting, outcome: &Outcome) {
        match outcome {
            Outcome::CheckedOut { title, barcode, due, note, overridden, .. } => {
                let _ = writeln!(
                    main,
                    "<div class=\"done\" role=\"status\" id=\"outcome\"><h2>Checked out: {}</h2><p>Barcode {}, due <strong>{}</strong>.{}{}</p></div>",
                    Esc(title),
                    Esc(barcode),
                    Esc(due),
                    note.as_ref().map(|n| format!(" {}", Esc(&capitalised(n)))).unwrap_or_default(),
                    if *overridden { " Checked out by override; the reason is logged." } else { "" },
                );
            }
            Outcome::AlreadyOut { title, barcode, due } => {
                let _ = writeln!(
                    main,
                    "<div class=\"notice\" role=\"status\" id=\"outcome\"><h2>Already checked out to this patron</h2>\
                     <p>{} (barcode {}) is due {}. Nothing was done; renew it from the loans below if needed.</p></div>",
                    Esc(title),
                    Esc(barcode),
                    Esc(due)
                );
            }
            Outcome::Renewed(list) => {
                main.push_str("<div class=\"done\" role=\"status\" id=\"outcome\"><h2>Renewed</h2><ul>");
                for (title, barcode, due) in list {
                    let _ = write!(main, "<li>{} ({}): now due {}</li>", Esc(title), Esc(barcode), Esc(due));
                }
                main.push_str("</ul></div>\n");
            }
            Outcome::RenewedSome { renewed, refused } => {
                main.push_str(
                    "<div class=\"refused\" role=\"alert\" id=\"outcome\"><h2>Not everything was renewed</h2><ul>",
                );
                for (title, why) in refused {
                    let _ = write!(main, "<li>Not renewed: {}: {}</li>", Esc(title), Esc(why));
                }
                for (title, barcode, due) in renewed {
                    let _ = write!(main, "<li>Renewed: {} ({}): now due {}</li>", Esc(title), Esc(barcode), Esc(due));
                }
                main.push_str("</ul></div>\n");
            }
            Outcome::Problem(text) => {
                let _ = writeln!(
                    main,
                    "<div class=\"refused\" role=\"alert\" id=\"outcome\"><h2>Not done</h2><p>{}</p></div>",
                    Esc(&capitalised(text))
                );
            }
            Outcome::Refused { action, what, barcode, refusals } => {
                let verb = if *action == "renew" { "Renewal refused" } else { "Checkout refused" };
                let _ = write!(
                    main,
                    "<div class=\"refused\" role=\"alert\" id=\"outcome\"><h2>{verb}: {}</h2><ul>",
                    Esc(what)
                );
                for r in refusals {
                    let _ = write!(main, "<li data-code=\"{}\">{}</li>", r.code.as_str(), Esc(&r.message));
                }
                main.push_str("</ul></div>\n");
                let overridable = refusals.iter().all(|r| r.code.overridable());
                if overridable && acting.staff.may(Permission::Override) {
                    let target = if *action == "renew" { "/staff/desk/renew" } else { "/staff/desk/checkout" };
                    let _ = writeln!(
                        main,
                        "<form method=\"post\" action=\"{target}\" class=\"override\" aria-label=\"Override\">{}\
                         <input type=\"hidden\" name=\"barcode\" value=\"{}\">\
                         <div><label for=\"override-reason\">Reason for the override</label>\
                         <input id=\"override-reason\" name=\"override_reason\" required size=\"40\"></div>\
                         <div><button type=\"submit\">Override and {}</button></div></form>",
                        self.hidden(),
                        Esc(barcode),
                        if *action == "renew" { "renew" } else { "check out" },
                    );
                } else if overridable {
                    main.push_str(
                        "<p class=\"muted\">A supervisor with the override permission can go past this.</p>\n",
                    );
                }
            }
        }
        let _ = state;
    }

    fn render_patron(&self, main: &mut String, state: &AppState, p: &Patron) {
        let d = &p.record.details;
        let today = state.desk.circulation().calendar(&self.branch.here.code).local_date(Utc::now());
        let _ = write!(
            main,
            "<section class=\"patron\" aria-labelledby=\"patron-heading\" id=\"patron\">\n\
             <div class=\"patron-info\"><h2 id=\"patron-heading\">{}</h2>\n<dl>\
             <dt>Card</dt><dd class=\"card\">{}</dd><dt>Category</dt><dd>{}</dd>\
             <dt>Card expires</dt><dd>{}{}</dd><dt>Home branch</dt><dd>{}</dd><dt>Balance</dt><dd class=\"balance\">{}</dd></dl>\n",
            Esc(&name(&p.record)),
            Esc(&p.record.card_number),
            Esc(d.category.as_str()),
            d.expiry_date,
            if d.expiry_date < today { " (expired)" } else { "" },
            Esc(d.home_branch.as_str()),
            Esc(&p.account.balance.to_string()),
        );
        let _ =
            writeln!(main, "<p><a href=\"/staff/patrons/{}\">Patron record</a></p>", url_encode(&p.record.card_number));
        let blocks: Vec<_> = p.account.blocks.iter().filter(|b| b.until.is_none_or(|u| u >= today)).collect();
        if !blocks.is_empty() {
            main.push_str("<div class=\"blocks\" role=\"alert\"><h3>Blocks</h3><ul>");
            for b in blocks {
                let _ = write!(
                    main,
                    "<li>Blocked ({}): {}{}</li>",
                    Esc(&b.kind.as_str().replace('_', " ")),
                    Esc(&b.reason),
                    b.until.map(|u| format!(", until {u}")).unwrap_or_default()
                );
            }
            main.push_str("</ul></div>\n");
        }
        let mut alerts: Vec<String> =
            p.standing.iter().filter(|r| r.code != RefusalCode::PatronBlocked).map(|r| r.message.clone()).collect();
        let days_left = (d.expiry_date - today).num_days();
        if (0..=30).contains(&days_left) {
            alerts.push(format!("The card expires in {days_left} days: offer to renew it."));
        }
        if !p.ready.is_empty() {
            alerts.push(format!(
                "{} {} waiting on the hold shelf.",
                p.ready.len(),
                if p.ready.len() == 1 { "hold is" } else { "holds are" }
            ));
        }
        if !alerts.is_empty() {
            main.push_str("<div class=\"alerts\"><h3>Alerts</h3><ul>");
            for a in alerts {
                let _ = write!(main, "<li>{}</li>", Esc(&a));
            }
            main.push_str("</ul></div>\n");
        }
        let _ = writeln!(
            main,
            "</div><div class=\"patron-work\"><form method=\"post\" action=\"/staff/desk/checkout\" class=\"scan checkout\">{}\
             <div><label for=\"item-barcode\">Item barcode</label><input id=\"item-barcode\" name=\"barcode\" \
             autocomplete=\"off\" autofocus></div><div><button type=\"submit\">Check out</button></div></form>",
            self.hidden()
        );
        self.render_session(main, state, p);
        self.render_loans(main, state, p);
        if !p.ready.is_empty() {
            main.push_str(
                "<section aria-labelledby=\"ready-heading\" id=\"holds-ready\"><h3 id=\"ready-heading\">Holds ready for pickup</h3>\
                 <table><thead><tr><th scope=\"col\">Title</th><th scope=\"col\">Pickup at</th><th scope=\"col\">Keep until</th></tr></thead><tbody>",
            );
            for (hold, title, branch) in &p.ready {
                let _ = write!(
                    main,
                    "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                    Esc(title),
                    Esc(branch),
                    hold.pickup_by.map(|t| local(state, t)).unwrap_or_default()
                );
            }
            main.push_str("</tbody></table></section>\n");
        }
        main.push_str("</div></section>\n");
    }

    fn render_session(&self, main: &mut String, state: &AppState, p: &Patron) {
        let done: Vec<&Loan> = self.session.iter().filter_map(|id| p.loans.iter().find(|l| l.id == *id)).collect();
        main.push_str(
            "<section aria-labelledby=\"session-heading\" id=\"session\"><h3 id=\"session-heading\">Checked out this session</h3>\n",
        );
        if done.is_empty() {
            main.push_str("<p>Nothing yet.</p>\n");
        } else {
            main.push_str(
                "<table><thead><tr><th scope=\"col\">Title</th><th scope=\"col\">Barcode</th><th scope=\"col\">Due</th></tr></thead><tbody>",
            );
            for l in &done {
                let (barcode, title) = item_label(p, l);
                let _ = write!(
                    main,
                    "<tr class=\"session-loan\"><td>{}</td><td>{}</td><td>{}</td></tr>",
                    Esc(&title),
                    Esc(&barcode),
                    local(state, l.due_at)
                );
            }
            main.push_str("</tbody></table>\n");
            let _ = writeln!(
                main,
                "<p><a class=\"receipt\" href=\"/staff/desk/receipt?card={}&amp;session={}\">Print receipt</a></p>",
                url_encode(&p.record.card_number),
                url_encode(&session_text(&self.session))
            );
        }
        main.push_str("</section>\n");
    }

    fn render_loans(&self, main: &mut String, state: &AppState, p: &Patron) {
        let now = Utc::now();
        let _ = writeln!(
            main,
            "<section aria-labelledby=\"loans-heading\" id=\"loans\"><h3 id=\"loans-heading\">Loans ({})</h3>",
            p.loans.len()
        );
        if p.loans.is_empty() {
            main.push_str("<p>No loans.</p>\n</section>\n");
            return;
        }
        main.push_str(
            "<table><thead><tr><th scope=\"col\">Title</th><th scope=\"col\">Barcode</th><th scope=\"col\">Due</th>\
             <th scope=\"col\">Renewals</th><th scope=\"col\">Renew</th></tr></thead><tbody>\n",
        );
        for l in &p.loans {
            let (barcode, title) = item_label(p, l);
            let overdue = l.due_at < now;
            let _ = writeln!(
                main,
                "<tr class=\"loan{}\"><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td><td>\
                 <form method=\"post\" action=\"/staff/desk/renew\" class=\"inline\">{}<input type=\"hidden\" name=\"barcode\" value=\"{}\">\
                 <button type=\"submit\" aria-label=\"Renew {}\">Renew</button></form></td></tr>",
                if overdue { " overdue" } else { "" },
                Esc(&title),
                Esc(&barcode),
                local(state, l.due_at),
                if overdue { " <strong>Overdue</strong>" } else { "" },
                l.renewals,
                self.hidden(),
                Esc(&barcode),
                Esc(&title),
            );
        }
        main.push_str("</tbody></table>\n");
        let _ = write!(
            main,
            "<form method=\"post\" action=\"/staff/desk/renew-all\" class=\"renew-all\">{}\
             <button type=\"submit\">Renew all</button></form>\n</section>\n",
            self.hidden()
        );
    }
}

fn item_label(p: &Patron, l: &Loan) -> (String, String) {
    match p.items.get(&l.item_id) {
        Some((item, title)) => (item.item.barcode.as_str().to_string(), title.clone()),
        None => (format!("item {}", l.item_id), "[no title]".into()),
    }
}

/// Reads the branch and patron, runs `act` (the scan or button) in between, and renders.
async fn respond<F>(
    state: AppState,
    acting: Acting,
    fields: Vec<(String, String)>,
    need: Permission,
    act: F,
) -> Response
where
    F: FnOnce(&AppState, &dyn Database, &Acting, &DeskBranch, Option<&Patron>) -> Result<Option<Outcome>, ApiError>
        + Send
        + 'static,
{
    let library = state.config.library_name.clone();
    if let Err(e) = acting.require(need) {
        return error_page(&library, Some(&acting), e);
    }
    let get = |name: &str| {
        fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string()).filter(|v| !v.is_empty())
    };
    let branch = get("branch");
    let card = get("card");
    let mut session = parse_session(get("session").as_deref());
    let st = state.clone();
    let who = acting.clone();
    let result = state
        .db(move |db| {
            let branch = desk_branch(db, &who, branch.as_deref())?;
            who.require_at(need, &branch.here.code)?;
            let patron = match &card {
                Some(c) => load_patron(&st, db, c)?,
                None => None,
            };
            let outcome = act(&st, db, &who, &branch, patron.as_ref())?;
            // The new loan joins the visit's list.
            if let Some(Outcome::CheckedOut { loan, .. }) = &outcome {
                if !session.contains(loan) {
                    session.push(*loan);
                }
            }
            // Reload: the checkout or renewal changed the loans shown.
            let patron = if outcome.is_some() {
                match &card {
                    Some(c) => load_patron(&st, db, c)?,
                    None => None,
                }
            } else {
                patron
            };
            Ok(View { branch, card, patron, outcome, session })
        })
        .await;
    match result {
        Ok(view) => {
            let status = match &view.outcome {
                Some(Outcome::Refused { .. } | Outcome::Problem(_) | Outcome::RenewedSome { .. }) => {
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                _ if view.card.is_some() && view.patron.is_none() => StatusCode::NOT_FOUND,
                _ => StatusCode::OK,
            };
            (status, Html(layout(&library, Some(&acting), "Circulation desk", &view.render(&state, &acting))))
                .into_response()
        }
        Err(e) => error_page(&library, Some(&acting), e),
    }
}

/// `GET /staff/desk?card=&branch=`: the desk, with the patron whose card was scanned.
pub(super) async fn page(State(state): State<AppState>, StaffUser(acting): StaffUser, query: QueryParams) -> Response {
    let fields: Vec<(String, String)> = query.map(|q| q.0).unwrap_or_default();
    respond(state, acting, fields, Permission::Circulate, |_, _, _, _, _| Ok(None)).await
}

fn barcode_of(fields: &[(String, String)]) -> Result<Barcode, String> {
    let raw = fields.iter().find(|(k, _)| k == "barcode").map(|(_, v)| v.trim()).unwrap_or("");
    if raw.is_empty() {
        return Err("scan or type the item's barcode".to_string());
    }
    Barcode::parse(raw).map_err(|e| format!("barcode {raw}: {e}"))
}

fn override_of(fields: &[(String, String)], acting: &Acting) -> Result<Option<desk::Override>, ApiError> {
    let Some((_, reason)) = fields.iter().find(|(k, _)| k == "override_reason") else { return Ok(None) };
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ApiError::field(ErrorCode::MissingField, "override_reason", "an override needs a reason"));
    }
    acting.require(Permission::Override)?;
    Ok(Some(desk::Override {
        staff: acting.staff.clone(),
        staff_name: acting.name.clone(),
        reason: reason.to_string(),
    }))
}

fn refusal_outcome(
    db: &dyn Database,
    state: &AppState,
    action: &'static str,
    barcode: &Barcode,
    e: DeskError,
) -> Result<Outcome, ApiError> {
    let what = match db.item_by_barcode(barcode)? {
        Some(item) => {
            let title = db.record(item.bib_id)?.map(|r| r.derived.title).unwrap_or_default();
            format!("{title} ({})", barcode.as_str())
        }
        None => barcode.as_str().to_string(),
    };
    match e {
        DeskError::Refused(refusals) if refusals.iter().any(|r| r.code == RefusalCode::ItemOnLoanToPatron) => {
            // Read now, not from the panel loaded before: the first of two submits may have
            // committed in between.
            let item = db.item_by_barcode(barcode)?;
            let loan = match &item {
                Some(i) => db.open_loan_of_item(i.id)?,
                None => None,
            };
            let title = match &item {
                Some(i) => db.record(i.bib_id)?.map(|r| r.derived.title),
                None => None,
            };
            Ok(Outcome::AlreadyOut {
                title: title.unwrap_or(what),
                barcode: barcode.as_str().to_string(),
                due: loan.map(|l| local(state, l.due_at)).unwrap_or_default(),
            })
        }
        DeskError::Refused(refusals) => {
            Ok(Outcome::Refused { action, what, barcode: barcode.as_str().to_string(), refusals })
        }
        DeskError::Override(circulation::OverrideError::NotOverridable(refusals)) => {
            Ok(Outcome::Refused { action, what, barcode: barcode.as_str().to_string(), refusals })
        }
        DeskError::Storage(e) => Err(ApiError::internal(e)),
        other => {
            let e = desk_error(other, ErrorCode::CheckoutRefused);
            if e.code.status().is_server_error() {
                Err(e)
            } else {
                Ok(Outcome::Problem(e.message))
            }
        }
    }
}

/// `POST /staff/desk/checkout` with `card`, `barcode`, `branch`, `session`, and
/// `override_reason` to go past overridable refusals (Override permission).
pub(super) async fn checkout(State(state): State<AppState>, StaffUser(acting): StaffUser, fields: Fields) -> Response {
    let fields = fields.0;
    let sent = fields.clone();
    respond(state, acting, fields, Permission::Circulate, move |state, db, acting, branch, patron| {
        let Some(p) = patron else {
            return Ok(Some(Outcome::Problem("scan the patron's card first".to_string())));
        };
        let barcode = match barcode_of(&sent) {
            Ok(b) => b,
            Err(e) => return Ok(Some(Outcome::Problem(e))),
        };
        let with = match override_of(&sent, acting) {
            Ok(w) => w,
            Err(e) => return Ok(Some(Outcome::Problem(e.message))),
        };
        let card = p.record.card_number.clone();
        match state.desk.checkout(db, &card, &barcode, &branch.here.code, Utc::now(), with.as_ref()) {
            Ok(receipt) => {
                let title = match db.item(receipt.loan.item_id)? {
                    Some(item) => db.record(item.bib_id)?.map(|r| r.derived.title).unwrap_or_default(),
                    None => String::new(),
                };
                Ok(Some(Outcome::CheckedOut {
                    loan: receipt.loan.id,
                    title,
                    barcode: barcode.as_str().to_string(),
                    due: local(state, receipt.loan.due_at),
                    note: receipt.due.limited_by.map(|l| l.message().to_string()),
                    overridden: !receipt.overridden.is_empty(),
                }))
            }
            Err(e) => refusal_outcome(db, state, "checkout", &barcode, e).map(Some),
        }
    })
    .await
}

/// `POST /staff/desk/renew` with `card`, `barcode` (and `override_reason`).
pub(super) async fn renew(State(state): State<AppState>, StaffUser(acting): StaffUser, fields: Fields) -> Response {
    let fields = fields.0;
    let sent = fields.clone();
    respond(state, acting, fields, Permission::Circulate, move |state, db, acting, _branch, patron| {
        let barcode = match barcode_of(&sent) {
            Ok(b) => b,
            Err(e) => return Ok(Some(Outcome::Problem(e))),
        };
        // Only this patron's loans are renewed from this patron's panel.
        let Some(p) = patron else {
            return Ok(Some(Outcome::Problem("scan the patron's card first".to_string())));
        };
        let Some(loan) =
            p.loans.iter().find(|l| p.items.get(&l.item_id).is_some_and(|(i, _)| i.item.barcode == barcode))
        else {
            return Ok(Some(Outcome::Problem(format!("{} is not on loan to this patron", barcode.as_str()))));
        };
        let title = p.items.get(&loan.item_id).map(|(_, t)| t.clone()).unwrap_or_default();
        let with = match override_of(&sent, acting) {
            Ok(w) => w,
            Err(e) => return Ok(Some(Outcome::Problem(e.message))),
        };
        match state.desk.renew(db, &barcode, Utc::now(), with.as_ref()) {
            Ok((loan, _)) => {
                Ok(Some(Outcome::Renewed(vec![(title, barcode.as_str().to_string(), local(state, loan.due_at))])))
            }
            Err(e) => refusal_outcome(db, state, "renew", &barcode, e).map(Some),
        }
    })
    .await
}

/// `POST /staff/desk/renew-all` with `card`: each of the patron's loans, one renewal (one
/// transaction) each, so a refused one does not stop the others.
pub(super) async fn renew_all(State(state): State<AppState>, StaffUser(acting): StaffUser, fields: Fields) -> Response {
    let fields = fields.0;
    respond(state, acting, fields, Permission::Circulate, move |state, db, _acting, _branch, patron| {
        let Some(p) = patron else {
            return Ok(Some(Outcome::Problem("scan the patron's card first".to_string())));
        };
        let (mut renewed, mut refused) = (Vec::new(), Vec::new());
        for l in &p.loans {
            let Some((item, title)) = p.items.get(&l.item_id) else { continue };
            match state.desk.renew(db, &item.item.barcode, Utc::now(), None) {
                Ok((loan, _)) => {
                    renewed.push((title.clone(), item.item.barcode.as_str().to_string(), local(state, loan.due_at)))
                }
                Err(DeskError::Refused(rs)) => {
                    refused.push((title.clone(), rs.iter().map(|r| r.message.as_str()).collect::<Vec<_>>().join(" ")))
                }
                Err(DeskError::Storage(e)) => return Err(ApiError::internal(e)),
                Err(e) => refused.push((title.clone(), desk_error(e, ErrorCode::RenewalRefused).message)),
            }
        }
        if p.loans.is_empty() {
            return Ok(Some(Outcome::Problem("the patron has no loans to renew".to_string())));
        }
        Ok(Some(if refused.is_empty() { Outcome::Renewed(renewed) } else { Outcome::RenewedSome { renewed, refused } }))
    })
    .await
}

/// `GET /staff/desk/receipt?card=&session=`: the visit's checkouts with their due dates, to
/// print (the page's print style leaves out everything but the slip).
pub(super) async fn receipt(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    query: QueryParams,
) -> Response {
    let card = query_get(&query, "card").map(str::to_string);
    let session = parse_session(query_get(&query, "session"));
    show_receipt(state, acting, card, session, false).await
}

/// `POST /staff/desk/receipt/email` with `card` and `session`: the same receipt, sent to the
/// patron's email address through the library's SMTP server (the `[notices.smtp]` settings).
pub(super) async fn email_receipt(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    fields: Fields,
) -> Response {
    let card = fields.get("card").map(str::to_string);
    let session = parse_session(fields.get("session"));
    show_receipt(state, acting, card, session, true).await
}

/// The lines of the receipt: (title, barcode, due), in the order of the visit.
fn receipt_lines(state: &AppState, p: &Patron, session: &[i64]) -> Vec<(String, String, String)> {
    session
        .iter()
        .filter_map(|id| p.loans.iter().find(|l| l.id == *id))
        .map(|l| {
            let (barcode, title) = item_label(p, l);
            (title, barcode, local(state, l.due_at))
        })
        .collect()
}

/// The address with most of its local part hidden, for a page others may see.
fn masked(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => "***".to_string(),
    }
}

async fn show_receipt(
    state: AppState,
    acting: Acting,
    card: Option<String>,
    session: Vec<i64>,
    send: bool,
) -> Response {
    let library = state.config.library_name.clone();
    if let Err(e) = acting.require(Permission::Circulate) {
        return error_page(&library, Some(&acting), e);
    }
    let Some(card) = card else {
        let e = ApiError::field(ErrorCode::MissingField, "card", "the receipt needs the patron's card");
        return error_page(&library, Some(&acting), e);
    };
    let st = state.clone();
    let loaded = state.db(move |db| load_patron(&st, db, &card)).await;
    let p = match loaded {
        Ok(Some(p)) => p,
        Ok(None) => {
            let e = ApiError::field(ErrorCode::UnknownCard, "card", "no patron has this card");
            return error_page(&library, Some(&acting), e);
        }
        Err(e) => return error_page(&library, Some(&acting), e),
    };
    let lines = receipt_lines(&state, &p, &session);
    let email = p.record.details.email.clone().filter(|e| !e.trim().is_empty());
    let mailer = state.notices.mailer.clone();
    let mut status = StatusCode::OK;
    let mut sent_note = String::new();
    if send {
        let outcome = match (&email, &mailer) {
            (None, _) => Err("the patron has no email address".to_string()),
            (_, None) => Err("email is not set up for this library (the [notices.smtp] settings)".to_string()),
            (Some(to), Some(mailer)) => {
                let mut body =
                    format!("{library}\n{}\n\nChecked out to {}:\n\n", local(&state, Utc::now()), name(&p.record));
                for (title, barcode, due) in &lines {
                    let _ = writeln!(body, "{title}\n  barcode {barcode}, due {due}");
                }
                let _ = write!(body, "\n{} checked out. Total on loan: {}.\n", lines.len(), p.loans.len());
                let (to, subject, mailer) = (to.clone(), format!("Your loans at {library}"), mailer.clone());
                // SMTP is blocking network I/O: off the async workers.
                match tokio::task::spawn_blocking(move || mailer.send(&to, &subject, &body)).await {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(e) => Err(e.to_string()),
                }
            }
        };
        sent_note = match outcome {
            Ok(()) => format!(
                "<p class=\"done no-print\" role=\"status\">Receipt emailed to {}.</p>\n",
                Esc(&masked(email.as_deref().unwrap_or("")))
            ),
            Err(why) => {
                status = StatusCode::UNPROCESSABLE_ENTITY;
                format!(
                    "<p class=\"refused no-print\" role=\"alert\">The receipt was not emailed: {}.</p>\n",
                    Esc(&why)
                )
            }
        };
    }
    let mut main = format!(
        "<h1>Receipt</h1>\n{sent_note}<p>{}<br>{}</p>\n<p>Patron: {} (card ending {})</p>\n",
        Esc(&library),
        local(&state, Utc::now()),
        Esc(&name(&p.record)),
        // A receipt left on the counter should not give away the whole card number.
        Esc(&p.record.card_number.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect::<String>()),
    );
    main.push_str(
        "<table class=\"receipt\"><caption>Checked out</caption><thead><tr><th scope=\"col\">Title</th>\
         <th scope=\"col\">Barcode</th><th scope=\"col\">Due</th></tr></thead><tbody>\n",
    );
    for (title, barcode, due) in &lines {
        let _ = writeln!(
            main,
            "<tr class=\"receipt-loan\"><td>{}</td><td>{}</td><td>{}</td></tr>",
            Esc(title),
            Esc(barcode),
            Esc(due)
        );
    }
    let count = lines.len();
    let _ = writeln!(
        main,
        "</tbody></table>\n<p>{count} {} checked out. Total on loan: {}.</p>\n\
         <p class=\"no-print\"><button type=\"button\" onclick=\"window.print()\">Print</button> \
         <a href=\"/staff/desk?card={}&amp;session={}\">Back to the desk</a></p>",
        if count == 1 { "item" } else { "items" },
        p.loans.len(),
        url_encode(&p.record.card_number),
        url_encode(&session_text(&session)),
    );
    if let (Some(to), Some(_)) = (&email, &mailer) {
        let _ = writeln!(
            main,
            "<form method=\"post\" action=\"/staff/desk/receipt/email\" class=\"no-print email-receipt\">\
             <input type=\"hidden\" name=\"card\" value=\"{}\"><input type=\"hidden\" name=\"session\" value=\"{}\">\
             <button type=\"submit\">Email the receipt to {}</button></form>",
            Esc(&p.record.card_number),
            Esc(&session_text(&session)),
            Esc(&masked(to)),
        );
    }
    (status, Html(layout(&library, Some(&acting), "Receipt", &main))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_list_survives_a_round_trip_and_ignores_junk() {
        assert_eq!(parse_session(Some("3, 5,x,,7")), vec![3, 5, 7]);
        assert_eq!(session_text(&parse_session(Some("3,5,7"))), "3,5,7");
        assert!(parse_session(None).is_empty());
        let long = (0..500).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        assert_eq!(parse_session(Some(&long)).len(), 200);
    }

    #[test]
    fn an_address_on_screen_is_masked() {
        assert_eq!(masked("reader@example.org"), "r***@example.org");
        assert_eq!(masked("nonsense"), "***");
    }
}
