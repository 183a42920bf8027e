//! Holds and transits at a branch, server-rendered: the pull list in shelf order (printable),
//! the hold shelf, the holds whose pickup deadline passed with the action that clears them, and
//! the transits to send and to receive. Every list is one bounded, indexed read (the pull list
//! is `desk::Desk::pull_list`, the same service as `GET /branches/{code}/pull-list`); clearing
//! is `desk::Desk::expire_holds_of`, the nightly sweep's own code, over the lapsed holds' records.
//!
//! Reading the lists needs Circulate or Shelve (a shelver fetches the pull list); clearing the
//! shelf changes holds and needs Circulate, as the JSON hold handlers do.

use super::{desk_branch, error_page, layout, local, once, query_get, DeskBranch, Fields, QueryParams, StaffUser};
use crate::auth::Acting;
use crate::error::ApiError;
use crate::html::{url_encode, Esc};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use catalog::Code;
use chrono::Utc;
use circulation::{Permission, Routing};
use std::collections::HashMap;
use std::fmt::Write;
use storage::holds::{OpenTransit, ShelvedHold, TransitWay};
use storage::Database;

/// The most lines a list shows: a branch's day of holds fits many times over, and a longer
/// list says that it is cut.
const LIST_LIMIT: u32 = 500;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff/holds/pull-list", get(pull_list))
        .route("/staff/holds/shelf", get(shelf))
        .route("/staff/holds/expired", get(expired).post(clear_expired))
        .route("/staff/transits", get(transits))
}

fn page(state: &AppState, acting: &Acting, status: StatusCode, title: &str, main: &str) -> Response {
    (status, Html(layout(&state.config.library_name, Some(acting), title, main))).into_response()
}

fn refusal(state: &AppState, acting: &Acting, e: ApiError) -> Response {
    error_page(&state.config.library_name, Some(acting), e)
}

/// The links between the four lists, for the branch being worked.
fn lists_nav(here: &Code, current: &str) -> String {
    let branch = url_encode(here.as_str());
    let mut out = String::from("<nav aria-label=\"Holds and transits\" class=\"no-print\"><ul class=\"staff-bar\">");
    for (path, label) in [
        ("/staff/holds/pull-list", "Pull list"),
        ("/staff/holds/shelf", "Hold shelf"),
        ("/staff/holds/expired", "Expired holds"),
        ("/staff/transits", "Transits"),
    ] {
        if path == current {
            let _ = write!(out, "<li><a href=\"{path}?branch={branch}\" aria-current=\"page\">{label}</a></li>");
        } else {
            let _ = write!(out, "<li><a href=\"{path}?branch={branch}\">{label}</a></li>");
        }
    }
    out.push_str("</ul></nav>\n");
    out
}

/// The card as a printed list shows it: its last four characters only, since a list left on a
/// trolley must not say who reads what.
fn card_ending(card: &str) -> String {
    let chars: Vec<char> = card.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    format!("card ending {tail}")
}

fn location_names(db: &dyn Database) -> Result<HashMap<Code, String>, ApiError> {
    Ok(db.locations()?.into_iter().map(|l| (l.code, l.name)).collect())
}

fn location_of(names: &HashMap<Code, String>, code: Option<&Code>) -> String {
    match code {
        Some(c) => names.get(c).cloned().unwrap_or_else(|| c.to_string()),
        None => String::new(),
    }
}

fn cut_notice(shown: usize, limit: u32) -> String {
    if shown >= limit as usize {
        format!(
            "<p class=\"notice\">Only the first {limit} are shown; work through these and reload for the rest.</p>\n"
        )
    } else {
        String::new()
    }
}

/// The clerk may read these lists: Circulate or Shelve.
fn may_read(acting: &Acting) -> Result<(), ApiError> {
    acting.require_any(&[Permission::Circulate, Permission::Shelve]).map(|_| ())
}

/// `GET /staff/holds/pull-list?branch=`: the copies to fetch from this branch's shelves for
/// holds, in shelf order, with a print button; printed, the list alone.
async fn pull_list(State(state): State<AppState>, StaffUser(acting): StaffUser, query: QueryParams) -> Response {
    if let Err(e) = may_read(&acting) {
        return refusal(&state, &acting, e);
    }
    let asked = query_get(&query, "branch").map(str::to_string);
    let desk = state.desk.clone();
    let who = acting.clone();
    let read = state
        .db(move |db| {
            let branch = desk_branch(db, &who, asked.as_deref())?;
            let list = desk
                .pull_list(db, &branch.here.code, Utc::now())
                .map_err(|e| ApiError::internal(format!("pull list: {e}")))?;
            Ok((branch, list, location_names(db)?))
        })
        .await;
    let (branch, list, names) = match read {
        Ok(r) => r,
        Err(e) => return refusal(&state, &acting, e),
    };
    let title = format!("Pull list: {}", branch.here.name);
    let mut main = format!("<h1>{}</h1>\n", Esc(&title));
    main.push_str(&branch.bar("/staff/holds/pull-list", &[]));
    main.push_str(&lists_nav(&branch.here.code, "/staff/holds/pull-list"));
    let _ = writeln!(
        main,
        "<p>Copies on the shelves here that holds are waiting for, in shelf order ({} today, {}). \
         <button type=\"button\" class=\"no-print\" onclick=\"window.print()\">Print the pull list</button></p>",
        list.len(),
        Esc(&local(&state, Utc::now()))
    );
    if list.is_empty() {
        main.push_str("<p role=\"status\">Nothing to pull: no copy on the shelves here is wanted for a hold.</p>\n");
        return page(&state, &acting, StatusCode::OK, &title, &main);
    }
    let shown = list.len().min(LIST_LIMIT as usize);
    main.push_str(
        "<table class=\"pull-list\"><caption>Copies to pull</caption><thead><tr><th scope=\"col\">Call number</th>\
         <th scope=\"col\">Title</th><th scope=\"col\">Barcode</th><th scope=\"col\">Location</th>\
         <th scope=\"col\">For</th></tr></thead><tbody>\n",
    );
    for e in list.iter().take(shown) {
        let item = &e.shelf.item.item;
        let pickup = if e.hold.pickup_branch == branch.here.code {
            "pickup here".to_string()
        } else {
            format!("pickup at {}", e.hold.pickup_branch)
        };
        let _ = writeln!(
            main,
            "<tr class=\"pull\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}, {}</td></tr>",
            Esc(e.shelf.call_number.as_deref().unwrap_or("")),
            Esc(&e.shelf.title),
            Esc(item.barcode.as_str()),
            Esc(&location_of(&names, item.location.as_ref())),
            Esc(&card_ending(&e.hold.card_number)),
            Esc(&pickup),
        );
    }
    main.push_str("</tbody></table>\n");
    main.push_str(&cut_notice(list.len(), LIST_LIMIT));
    page(&state, &acting, StatusCode::OK, &title, &main)
}

fn shelf_table(state: &AppState, rows: &[ShelvedHold], names: &HashMap<Code, String>, caption: &str) -> String {
    let mut out = format!(
        "<table class=\"hold-shelf\"><caption>{}</caption><thead><tr><th scope=\"col\">Patron</th>\
         <th scope=\"col\">Title</th><th scope=\"col\">Barcode</th><th scope=\"col\">Hold placed</th>\
         <th scope=\"col\">Pickup by</th></tr></thead><tbody>\n",
        Esc(caption)
    );
    for s in rows {
        let _ = writeln!(
            out,
            "<tr class=\"on-shelf\"><td>{} {} (card {})</td><td>{}</td><td>{}<br><small>{}</small></td><td>{}</td><td>{}</td></tr>",
            Esc(&s.first_name),
            Esc(&s.surname),
            Esc(&s.hold.card_number),
            Esc(&s.copy.title),
            Esc(s.copy.item.item.barcode.as_str()),
            Esc(&location_of(names, s.copy.item.item.location.as_ref())),
            Esc(&local(state, s.hold.placed_at)),
            Esc(&s.hold.pickup_by.map(|t| local(state, t)).unwrap_or_default()),
        );
    }
    out.push_str("</tbody></table>\n");
    out
}

type ShelfRead = (DeskBranch, Vec<ShelvedHold>, HashMap<Code, String>);

async fn read_shelf(
    state: &AppState,
    acting: &Acting,
    asked: Option<&str>,
    lapsed: bool,
) -> Result<ShelfRead, ApiError> {
    let asked = asked.map(str::to_string);
    let who = acting.clone();
    state
        .db(move |db| {
            let branch = desk_branch(db, &who, asked.as_deref())?;
            let cut = lapsed.then(Utc::now);
            let rows = db.hold_shelf(&branch.here.code, cut, LIST_LIMIT)?;
            Ok((branch, rows, location_names(db)?))
        })
        .await
}

/// `GET /staff/holds/shelf?branch=`: the holds waiting on this branch's hold shelf, the
/// earliest pickup deadline first.
async fn shelf(State(state): State<AppState>, StaffUser(acting): StaffUser, query: QueryParams) -> Response {
    if let Err(e) = may_read(&acting) {
        return refusal(&state, &acting, e);
    }
    let (branch, rows, names) = match read_shelf(&state, &acting, query_get(&query, "branch"), false).await {
        Ok(r) => r,
        Err(e) => return refusal(&state, &acting, e),
    };
    let title = format!("Hold shelf: {}", branch.here.name);
    let mut main = format!("<h1>{}</h1>\n", Esc(&title));
    main.push_str(&branch.bar("/staff/holds/shelf", &[]));
    main.push_str(&lists_nav(&branch.here.code, "/staff/holds/shelf"));
    if rows.is_empty() {
        main.push_str("<p role=\"status\">The hold shelf is empty.</p>\n");
    } else {
        let _ = writeln!(main, "<p>{} holds ready for pickup.</p>", rows.len());
        main.push_str(&shelf_table(&state, &rows, &names, "Ready for pickup"));
        main.push_str(&cut_notice(rows.len(), LIST_LIMIT));
    }
    page(&state, &acting, StatusCode::OK, &title, &main)
}

fn expired_page(state: &AppState, branch: &DeskBranch, rows: &[ShelvedHold], names: &HashMap<Code, String>) -> String {
    let title = format!("Expired holds: {}", branch.here.name);
    let mut main = format!("<h1>{}</h1>\n", Esc(&title));
    main.push_str(&branch.bar("/staff/holds/expired", &[]));
    main.push_str(&lists_nav(&branch.here.code, "/staff/holds/expired"));
    if rows.is_empty() {
        main.push_str("<p role=\"status\">No hold on the shelf here is past its pickup date.</p>\n");
        return main;
    }
    let _ = writeln!(main, "<p>{} holds were not picked up in time.</p>", rows.len());
    main.push_str(&shelf_table(state, rows, names, "Past their pickup date"));
    main.push_str(&cut_notice(rows.len(), LIST_LIMIT));
    let _ = writeln!(
        main,
        "<form method=\"post\" action=\"/staff/holds/expired\">{}\
         <input type=\"hidden\" name=\"branch\" value=\"{}\">\
         <p>Clearing expires these holds; each copy then goes to the next patron waiting for it, or back.</p>\
         <div><button type=\"submit\">Clear the expired holds</button></div></form>",
        once::token_field(),
        Esc(branch.here.code.as_str())
    );
    main
}

/// `GET /staff/holds/expired?branch=`: the holds on this shelf whose pickup date passed.
async fn expired(State(state): State<AppState>, StaffUser(acting): StaffUser, query: QueryParams) -> Response {
    if let Err(e) = may_read(&acting) {
        return refusal(&state, &acting, e);
    }
    let (branch, rows, names) = match read_shelf(&state, &acting, query_get(&query, "branch"), true).await {
        Ok(r) => r,
        Err(e) => return refusal(&state, &acting, e),
    };
    let main = expired_page(&state, &branch, &rows, &names);
    page(&state, &acting, StatusCode::OK, &format!("Expired holds: {}", branch.here.name), &main)
}

/// What the clerk does with one copy freed from the shelf.
struct Freed {
    barcode: String,
    title: String,
    action: String,
}

/// `POST /staff/holds/expired` (branch, form_token): expires the branch's lapsed holds (the
/// nightly sweep, now, over their records) and says what to do with each copy.
async fn clear_expired(State(state): State<AppState>, StaffUser(acting): StaffUser, fields: Fields) -> Response {
    if let Err(e) = acting.require(Permission::Circulate) {
        return refusal(&state, &acting, e);
    }
    let asked = fields.get("branch").map(str::to_string);
    once::once(&state, &acting, fields.token(), || async {
        let desk = state.desk.clone();
        let who = acting.clone();
        let st = state.clone();
        let done = state
            .db(move |db| {
                let branch = desk_branch(db, &who, asked.as_deref())?;
                let now = Utc::now();
                let lapsed = db.hold_shelf(&branch.here.code, Some(now), LIST_LIMIT)?;
                let mut records: Vec<storage::BibId> = lapsed.iter().map(|s| s.hold.bib_id).collect();
                records.sort_unstable();
                records.dedup();
                let sweep =
                    desk.expire_holds_of(db, &records, now).map_err(|e| ApiError::internal(format!("expire: {e}")))?;
                let names = location_names(db)?;
                let mut freed = Vec::new();
                for s in &lapsed {
                    let Some((_, routing)) = sweep.routed.iter().find(|(id, _)| *id == s.copy.item.id) else {
                        continue;
                    };
                    freed.push(Freed {
                        barcode: s.copy.item.item.barcode.as_str().to_string(),
                        title: s.copy.title.clone(),
                        action: what_to_do(&st, db, s, routing, &names)?,
                    });
                }
                let expired = lapsed.iter().filter(|s| sweep.expired.contains(&s.hold.id)).count();
                let remaining = db.hold_shelf(&branch.here.code, Some(now), LIST_LIMIT)?;
                Ok((branch, expired, freed, remaining, names))
            })
            .await;
        let (branch, expired, freed, remaining, names) = match done {
            Ok(d) => d,
            Err(e) => return refusal(&state, &acting, e),
        };
        let mut main = expired_page(&state, &branch, &remaining, &names);
        let mut result = format!("<div class=\"done\" role=\"status\"><h2>Cleared {expired} expired holds</h2>\n");
        if !freed.is_empty() {
            result.push_str("<ul class=\"freed\">\n");
            for f in &freed {
                let _ = writeln!(
                    result,
                    "<li><strong>{}</strong> ({}): <span class=\"action\">{}</span></li>",
                    Esc(&f.title),
                    Esc(&f.barcode),
                    Esc(&f.action)
                );
            }
            result.push_str("</ul>\n");
        }
        result.push_str("</div>\n");
        // The result goes right under the heading, before the (now shorter) list.
        let at = main.find("</h1>\n").map_or(0, |i| i + "</h1>\n".len());
        main.insert_str(at, &result);
        page(&state, &acting, StatusCode::OK, &format!("Expired holds: {}", branch.here.name), &main)
    })
    .await
}

/// The sentence for a copy freed from the shelf: to the shelf, to the next patron's hold here,
/// or in transit.
fn what_to_do(
    state: &AppState,
    db: &dyn Database,
    s: &ShelvedHold,
    routing: &Routing,
    names: &HashMap<Code, String>,
) -> Result<String, ApiError> {
    let patron = |hold: i64| -> Result<String, ApiError> {
        let Some(h) = db.hold(hold)? else { return Ok("the next patron".to_string()) };
        Ok(match db.patron_record(&h.card_number)? {
            Some(p) => format!("{} {} (card {})", p.details.first_name, p.details.surname, h.card_number),
            None => format!("card {}", h.card_number),
        })
    };
    Ok(match routing {
        Routing::Shelve => {
            let location = location_of(names, s.copy.item.item.location.as_ref());
            match (&s.copy.call_number, location.is_empty()) {
                (Some(call), false) => format!("Reshelve at {location}, {call}"),
                (Some(call), true) => format!("Reshelve at {call}"),
                (None, _) => "Reshelve".to_string(),
            }
        }
        Routing::HoldShelf { hold, pickup_by, .. } => {
            format!("Keep on the hold shelf for {}, until {}", patron(hold.0)?, local(state, *pickup_by))
        }
        Routing::Transit { to, hold: Some(hold) } => {
            let name = db.branch(to)?.map_or_else(|| to.to_string(), |b| b.name);
            format!("In transit to {name} for {}", patron(hold.0)?)
        }
        Routing::Transit { to, hold: None } => {
            let name = db.branch(to)?.map_or_else(|| to.to_string(), |b| b.name);
            format!("In transit to {name} (its home branch)")
        }
    })
}

fn transit_table(state: &AppState, rows: &[OpenTransit], way: TransitWay, branches: &HashMap<Code, String>) -> String {
    let (caption, other) = match way {
        TransitWay::Sending => ("To send from here", "To"),
        TransitWay::Receiving => ("Coming here", "From"),
    };
    let mut out = format!(
        "<table class=\"transits\"><caption>{caption}</caption><thead><tr><th scope=\"col\">Title</th>\
         <th scope=\"col\">Barcode</th><th scope=\"col\">Call number</th><th scope=\"col\">{other}</th>\
         <th scope=\"col\">Why</th><th scope=\"col\">Sent</th></tr></thead><tbody>\n"
    );
    for t in rows {
        let end = match way {
            TransitWay::Sending => &t.transit.to_branch,
            TransitWay::Receiving => &t.transit.from_branch,
        };
        let why = match &t.card_number {
            Some(card) => format!("hold for card {card}"),
            None => "back to its home branch".to_string(),
        };
        let _ = writeln!(
            out,
            "<tr class=\"transit\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            Esc(&t.copy.title),
            Esc(t.copy.item.item.barcode.as_str()),
            Esc(t.copy.call_number.as_deref().unwrap_or("")),
            Esc(branches.get(end).map_or(end.as_str(), String::as_str)),
            Esc(&why),
            Esc(&local(state, t.transit.sent_at)),
        );
    }
    out.push_str("</tbody></table>\n");
    out
}

/// `GET /staff/transits?branch=`: copies in transit from this branch (to send) and to it (to
/// receive, by checking them in here).
async fn transits(State(state): State<AppState>, StaffUser(acting): StaffUser, query: QueryParams) -> Response {
    if let Err(e) = may_read(&acting) {
        return refusal(&state, &acting, e);
    }
    let asked = query_get(&query, "branch").map(str::to_string);
    let who = acting.clone();
    let read = state
        .db(move |db| {
            let branch = desk_branch(db, &who, asked.as_deref())?;
            let sending = db.open_transits(&branch.here.code, TransitWay::Sending, LIST_LIMIT)?;
            let receiving = db.open_transits(&branch.here.code, TransitWay::Receiving, LIST_LIMIT)?;
            let names: HashMap<Code, String> = db.branches()?.into_iter().map(|b| (b.code, b.name)).collect();
            Ok((branch, sending, receiving, names))
        })
        .await;
    let (branch, sending, receiving, names) = match read {
        Ok(r) => r,
        Err(e) => return refusal(&state, &acting, e),
    };
    let title = format!("Transits: {}", branch.here.name);
    let mut main = format!("<h1>{}</h1>\n", Esc(&title));
    main.push_str(&branch.bar("/staff/transits", &[]));
    main.push_str(&lists_nav(&branch.here.code, "/staff/transits"));
    main.push_str("<section aria-labelledby=\"to-send\"><h2 id=\"to-send\">To send</h2>\n");
    if sending.is_empty() {
        main.push_str("<p>Nothing to send.</p>\n");
    } else {
        let _ = writeln!(main, "<p>{} copies checked in here go to another branch.</p>", sending.len());
        main.push_str(&transit_table(&state, &sending, TransitWay::Sending, &names));
        main.push_str(&cut_notice(sending.len(), LIST_LIMIT));
    }
    main.push_str("</section>\n<section aria-labelledby=\"to-receive\"><h2 id=\"to-receive\">To receive</h2>\n");
    if receiving.is_empty() {
        main.push_str("<p>Nothing is on its way here.</p>\n");
    } else {
        let _ = writeln!(
            main,
            "<p>{} copies are on their way here. Receive each by checking it in at \
             <a href=\"/staff/checkin?branch={}\">Check in</a>.</p>",
            receiving.len(),
            url_encode(branch.here.code.as_str())
        );
        main.push_str(&transit_table(&state, &receiving, TransitWay::Receiving, &names));
        main.push_str(&cut_notice(receiving.len(), LIST_LIMIT));
    }
    main.push_str("</section>\n");
    page(&state, &acting, StatusCode::OK, &title, &main)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_printed_list_shows_only_the_end_of_a_card() {
        assert_eq!(card_ending("21234000000017"), "card ending 0017");
        assert_eq!(card_ending("P1"), "card ending P1");
        assert_eq!(card_ending(""), "card ending ");
    }

    #[test]
    fn a_full_list_says_it_is_cut() {
        assert!(cut_notice(499, 500).is_empty());
        assert!(cut_notice(500, 500).contains("first 500"));
    }
}
