//! The patron screens, `/staff/patrons...`: find a patron (name, card, email or phone),
//! register one (with the duplicate warning the registration service gives), and the patron's
//! record: details and their edit form, card renewal and replacement, blocks, guarantor and
//! dependants, loans and holds, the account with pay / waive / refund, the reading history as
//! the patron's privacy choice allows, and the notices sent.
//!
//! Each page is an adapter over the same `desk` services as the JSON API (`api/patrons.rs`,
//! `api/ledger.rs`), with the same permissions: ManagePatrons for everything about the patron,
//! HandleMoney for the account. Every form that changes something carries a `form_token` and
//! runs through [`once`](super::once), so a double-click registers or pays once. A successful
//! form answers `303 See Other` to the record (so a reload does not post again); a refused one
//! shows the form again with what the clerk typed and each problem next to its field.

mod form;
mod money;
mod record;

use super::{error_page, layout, once, query_get, see_other, Fields, QueryParams, StaffUser};
use crate::api::patrons::patron_error;
use crate::auth::Acting;
use crate::error::ApiError;
use crate::html::{url_encode, Esc};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use circulation::Permission;
use desk::patrons::PatronError;
use form::{patron_field_ids, patron_fields, patron_input, Choices, FormState};
use std::fmt::Write;
use storage::patrons::{PatronQuery, PatronRecord};
use storage::{Database, Page};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff/patrons", get(search))
        .route("/staff/patrons/new", get(new_patron).post(register))
        .route("/staff/patrons/{card}", get(record::page_handler))
        .route("/staff/patrons/{card}/details", post(record::edit))
        .route("/staff/patrons/{card}/renewal", post(record::renew))
        .route("/staff/patrons/{card}/replacement", post(record::replace))
        .route("/staff/patrons/{card}/blocks", post(record::add_block))
        .route("/staff/patrons/{card}/blocks/{id}/lift", post(record::lift_block))
        .route("/staff/patrons/{card}/history", get(record::history))
        .route("/staff/patrons/{card}/notices", get(record::notices))
        .route("/staff/patrons/{card}/payment", post(money::pay))
        .route("/staff/patrons/{card}/waiver", post(money::waive))
        .route("/staff/patrons/{card}/refund", post(money::refund))
}

/// How many patrons one page of search results lists.
const RESULTS_PER_PAGE: u32 = 25;

/// The little the patron screens add to the staff style: field messages and the record's
/// sections.
const STYLE: &str = "<style>.field-error{color:#8a1c1c;font-weight:600;margin:.15rem 0 0;max-width:24rem}\
.record-nav ul{display:flex;flex-wrap:wrap;gap:.3rem 1rem;list-style:none;padding:0}\
.record section{border-top:1px solid #ccc;margin-top:1rem}.record h2{font-size:1.3rem;margin:.6rem 0}\
.duplicates{border-left:8px solid #8a5a00;background:#fff6dd;padding:.5rem 1rem;margin:1rem 0}\
textarea{font:inherit;padding:.3rem .5rem}.money{font-variant-numeric:tabular-nums;text-align:right}\
details summary{cursor:pointer;font-weight:600;margin:.5rem 0}fieldset legend{font-weight:600}\
.record td,.record th{overflow-wrap:anywhere}</style>\n";

fn page(state: &AppState, acting: &Acting, status: StatusCode, title: &str, main: &str) -> Response {
    let main = format!("{STYLE}{main}");
    (status, Html(layout(&state.config.library_name, Some(acting), title, &main))).into_response()
}

fn refusal(state: &AppState, acting: &Acting, e: ApiError) -> Response {
    error_page(&state.config.library_name, Some(acting), e)
}

pub(super) fn full_name(p: &PatronRecord) -> String {
    format!("{} {}", p.details.first_name, p.details.surname).trim().to_string()
}

pub(super) fn record_link(card: &str) -> String {
    format!("/staff/patrons/{}", url_encode(card))
}

/// `?after=`: the id of the last entry a paged list showed (0: the first page).
fn after_param(query: &QueryParams) -> i64 {
    query_get(query, "after").and_then(|a| a.parse::<i64>().ok()).filter(|a| *a > 0).unwrap_or(0)
}

/// What one search box asks for: an address, a card (digits that are a patron's card), a phone
/// number (other digits), or the start of a name.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Wanted {
    Email(String),
    CardOrPhone(String),
    Phone(String),
    Name(String),
}

fn wanted(q: &str) -> Wanted {
    let q = q.trim();
    if q.contains('@') {
        return Wanted::Email(q.to_string());
    }
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    let phone_like = q.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if !digits.is_empty() && phone_like {
        if digits.len() == q.len() {
            Wanted::CardOrPhone(q.to_string())
        } else {
            Wanted::Phone(q.to_string())
        }
    } else {
        Wanted::Name(q.to_string())
    }
}

fn query_for(w: &Wanted) -> PatronQuery {
    match w {
        Wanted::Email(e) => PatronQuery { email: Some(e.clone()), ..PatronQuery::default() },
        Wanted::CardOrPhone(c) => PatronQuery { card: Some(c.clone()), ..PatronQuery::default() },
        Wanted::Phone(p) => PatronQuery { phone: Some(p.clone()), ..PatronQuery::default() },
        Wanted::Name(n) => PatronQuery { name_prefix: Some(n.clone()), ..PatronQuery::default() },
    }
}

/// `GET /staff/patrons?q=&after=`: one box for a name, card, email or phone; a page of
/// patrons, each linked to their record.
async fn search(State(state): State<AppState>, StaffUser(acting): StaffUser, query: QueryParams) -> Response {
    if let Err(e) = acting.require(Permission::ManagePatrons) {
        return refusal(&state, &acting, e);
    }
    let q = query_get(&query, "q").unwrap_or("").to_string();
    let after = after_param(&query);
    let mut main = format!(
        "<h1>Patrons</h1>\n<p><a href=\"/staff/patrons/new\">Register a patron</a></p>\n\
         <form method=\"get\" action=\"/staff/patrons\" role=\"search\" aria-label=\"Find a patron\">\
         <div><label for=\"patron-q\">Name, card, email or phone</label>\
         <input id=\"patron-q\" name=\"q\" type=\"search\" size=\"30\" autocomplete=\"off\" value=\"{}\" autofocus></div>\
         <div><button type=\"submit\">Find</button></div></form>\n",
        Esc(&q)
    );
    if q.is_empty() {
        return page(&state, &acting, StatusCode::OK, "Patrons", &main);
    }
    let w = wanted(&q);
    let desk = state.desk.clone();
    let w2 = w.clone();
    let found = state
        .db(move |db| {
            let page = Page { after, limit: RESULTS_PER_PAGE };
            let mut found = desk.find_patrons(db, &query_for(&w2), page).map_err(patron_error)?;
            // Digits that are nobody's card may be a phone number.
            if found.is_empty() && after == 0 {
                if let Wanted::CardOrPhone(digits) = &w2 {
                    found = desk
                        .find_patrons(db, &query_for(&Wanted::Phone(digits.clone())), page)
                        .map_err(patron_error)?;
                }
            }
            Ok(found)
        })
        .await;
    let found = match found {
        Ok(f) => f,
        Err(e) => return refusal(&state, &acting, e),
    };
    let what = match &w {
        Wanted::Email(_) => "with the email address",
        Wanted::CardOrPhone(_) => "with the card or phone number",
        Wanted::Phone(_) => "with the phone number",
        Wanted::Name(_) => "whose name starts with",
    };
    let _ = writeln!(
        main,
        "<section aria-labelledby=\"results-heading\"><h2 id=\"results-heading\">Patrons {what} {}</h2>",
        Esc(&q)
    );
    if found.is_empty() {
        let _ = writeln!(
            main,
            "<p role=\"status\">No patron {what} {}{}.</p>",
            Esc(&q),
            if after > 0 { " on this page" } else { "" }
        );
    } else {
        main.push_str("<table class=\"patron-results\"><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Card</th>\
                       <th scope=\"col\">Category</th><th scope=\"col\">Card expires</th><th scope=\"col\">Contact</th></tr></thead><tbody>\n");
        for p in &found {
            let d = &p.details;
            let contact: Vec<&str> = [d.email.as_deref(), d.phone.as_deref()].into_iter().flatten().collect();
            let _ = writeln!(
                main,
                "<tr class=\"patron-result\"><td><a href=\"{}\">{}, {}</a>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                record_link(&p.card_number),
                Esc(&d.surname),
                Esc(&d.first_name),
                d.birth_date.map(|b| format!(" <span class=\"muted\">born {b}</span>")).unwrap_or_default(),
                Esc(&p.card_number),
                Esc(d.category.as_str()),
                d.expiry_date,
                Esc(&contact.join(", ")),
            );
        }
        main.push_str("</tbody></table>\n");
    }
    if found.len() == RESULTS_PER_PAGE as usize {
        if let Some(last) = found.last() {
            let _ = writeln!(
                main,
                "<p><a href=\"/staff/patrons?q={}&amp;after={}\" rel=\"next\">More patrons</a></p>",
                url_encode(&q),
                last.id
            );
        }
    }
    main.push_str("</section>\n");
    page(&state, &acting, StatusCode::OK, "Patrons", &main)
}

/// The categories configured for registration, and the branches.
fn choices(state: &AppState, db: &dyn Database) -> Result<Choices, ApiError> {
    let rules = state.desk.patron_rules();
    let categories = rules
        .registration
        .categories
        .iter()
        .map(|(code, r)| {
            let mut notes = Vec::new();
            match (r.min_age, r.max_age) {
                (Some(min), Some(max)) => notes.push(format!("ages {min} to {max}")),
                (Some(min), None) => notes.push(format!("{min} and over")),
                (None, Some(max)) => notes.push(format!("up to {max}")),
                (None, None) => {}
            }
            if r.requires_guarantor {
                notes.push("needs a guarantor".to_string());
            }
            let text =
                if notes.is_empty() { code.as_str().to_string() } else { format!("{} ({})", code, notes.join(", ")) };
            (code.as_str().to_string(), text)
        })
        .collect();
    let mut branches = db.branches()?;
    branches.sort_by(|a, b| a.code.as_str().cmp(b.code.as_str()));
    let branches = branches.into_iter().map(|b| (b.code.as_str().to_string(), b.name)).collect();
    Ok(Choices { categories, branches })
}

/// A duplicate the service found: (card, sentence).
type Duplicates = Vec<(String, String)>;

fn register_page(
    state: &AppState,
    acting: &Acting,
    status: StatusCode,
    form: &FormState,
    duplicates: &Duplicates,
    choices: &Choices,
) -> Response {
    let mut main = String::from("<h1>Register a patron</h1>\n");
    main.push_str(&form.summary(&patron_field_ids("register")));
    let rules = state.desk.patron_rules();
    if let Some(age) = rules.guarantor_under_age {
        let _ = writeln!(
            main,
            "<p class=\"muted\">A patron under {age}, or in a category that needs one, is registered with a \
             guarantor: a parent or carer who is a patron (their card number).</p>"
        );
    }
    let _ = writeln!(
        main,
        "<form method=\"post\" action=\"/staff/patrons/new\" class=\"register\" aria-label=\"Register a patron\">{}",
        once::token_field()
    );
    if !duplicates.is_empty() {
        main.push_str(
            "<fieldset class=\"duplicates\" id=\"duplicates\"><legend>This patron may already be registered</legend><ul>",
        );
        for (card, sentence) in duplicates {
            let _ = write!(main, "<li><a href=\"{}\">{}</a></li>", record_link(card), Esc(sentence));
        }
        main.push_str(
            "</ul><div><input type=\"checkbox\" id=\"register-confirm_duplicate\" name=\"confirm_duplicate\" value=\"yes\">\
             <label for=\"register-confirm_duplicate\" style=\"display:inline\">This is a different person: register anyway</label></div></fieldset>\n",
        );
    }
    main.push_str(&form.input(
        "register",
        "card_number",
        "Card number (leave empty to issue the next)",
        " inputmode=\"numeric\" autocomplete=\"off\" autofocus",
    ));
    main.push_str(&patron_fields(form, "register", choices));
    main.push_str("<div><button type=\"submit\">Register</button></div>\n</form>\n");
    page(state, acting, status, "Register a patron", &main)
}

/// `GET /staff/patrons/new`.
async fn new_patron(State(state): State<AppState>, StaffUser(acting): StaffUser) -> Response {
    if let Err(e) = acting.require(Permission::ManagePatrons) {
        return refusal(&state, &acting, e);
    }
    let st = state.clone();
    let choices = match state.db(move |db| choices(&st, db)).await {
        Ok(c) => c,
        Err(e) => return refusal(&state, &acting, e),
    };
    // The usual registration: an adult at the clerk's own branch.
    let branch = acting.account.branches.iter().next().map(|b| b.as_str().to_string());
    let mut form = FormState::default();
    if choices.categories.iter().any(|(c, _)| c == "ADULT") {
        form = form.with("category", "ADULT");
    }
    if let Some(b) = branch {
        form = form.with("home_branch", b);
    }
    register_page(&state, &acting, StatusCode::OK, &form, &Vec::new(), &choices)
}

/// `POST /staff/patrons/new`: registers, or shows the form again with its problems or the
/// probable duplicates; `confirm_duplicate=yes` registers a probable duplicate.
async fn register(State(state): State<AppState>, StaffUser(acting): StaffUser, fields: Fields) -> Response {
    if let Err(e) = acting.require(Permission::ManagePatrons) {
        return refusal(&state, &acting, e);
    }
    let (st, who) = (state.clone(), acting.clone());
    once::once(&st, &who, fields.token(), || async move {
        let confirmed = fields.get("confirm_duplicate") == Some("yes");
        let input = patron_input(&fields, true);
        let desk = state.desk.clone();
        let st = state.clone();
        let outcome = state
            .db(move |db| {
                let choices = choices(&st, db)?;
                let registered = match input {
                    Err(problems) => Err(PatronError::Invalid(problems)),
                    Ok(input) => desk.register_patron(db, &input, confirmed, Utc::now()),
                };
                match registered {
                    Ok(p) => Ok((Ok(p), choices)),
                    Err(e @ PatronError::Storage(_)) => Err(patron_error(e)),
                    Err(e) => Ok((Err(e), choices)),
                }
            })
            .await;
        let mut shown = FormState::from_fields(&fields);
        match outcome {
            Ok((Ok(p), _)) => see_other(&format!("{}?done=registered", record_link(&p.card_number))),
            Ok((Err(PatronError::Invalid(problems)), choices)) => {
                shown.add_problems(&problems);
                register_page(&state, &acting, StatusCode::UNPROCESSABLE_ENTITY, &shown, &Vec::new(), &choices)
            }
            Ok((Err(PatronError::Duplicate(list)), choices)) => {
                let dups = list.iter().map(|d| (d.card_number.clone(), d.sentence())).collect();
                register_page(&state, &acting, StatusCode::CONFLICT, &shown, &dups, &choices)
            }
            Ok((Err(e), _)) => refusal(&state, &acting, patron_error(e)),
            Err(e) => refusal(&state, &acting, e),
        }
    })
    .await
}

/// `{card}` of the path, as given.
type CardPath = Path<String>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_box_finds_by_what_was_typed() {
        assert_eq!(wanted(" Ana@Example.org "), Wanted::Email("Ana@Example.org".into()));
        assert_eq!(wanted("21234000000017"), Wanted::CardOrPhone("21234000000017".into()));
        assert_eq!(wanted("555-0100"), Wanted::Phone("555-0100".into()));
        assert_eq!(wanted("+1 (555) 0100"), Wanted::Phone("+1 (555) 0100".into()));
        assert_eq!(wanted("Lopez, A"), Wanted::Name("Lopez, A".into()));
        assert_eq!(wanted("O'Brien"), Wanted::Name("O'Brien".into()));
    }
}
