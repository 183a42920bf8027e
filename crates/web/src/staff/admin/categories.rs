//! Patron categories (`/staff/admin/categories`): how long a card is valid, the age limits,
//! whether a guarantor is needed, with the card-number pattern they are issued from. Staff
//! add a category (`POST /staff/admin/categories`), edit one (`GET`/`POST
//! /staff/admin/categories/{code}`) and delete one nobody has
//! (`POST /staff/admin/categories/{code}/delete`; refused, saying how many patrons are in it,
//! while anyone is). Each save goes through `Desk::update_patron_settings`: checked as the
//! `[patrons]` settings are, stored over the version the form was opened at, in force at once
//! for registration everywhere. Configure permission.

use std::fmt::Write;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use catalog::Code;
use circulation::Permission;
use desk::patrons::CategorySettings;

use super::{page, refusal, scroll_box, Problems, Saved};
use crate::auth::Acting;
use crate::error::{ApiError, ErrorCode};
use crate::html::{url_encode, Esc};
use crate::staff::{once, query_get, see_other, Fields, QueryParams, StaffUser};
use crate::AppState;

const PATH: &str = "/staff/admin/categories";
const TITLE: &str = "Patron categories";

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(PATH, get(screen).post(add))
        .route("/staff/admin/categories/{code}", get(edit_page).post(save))
        .route("/staff/admin/categories/{code}/delete", post(delete))
}

/// A category form as shown or sent, as typed.
#[derive(Default)]
struct Sent {
    code: String,
    validity_months: String,
    min_age: String,
    max_age: String,
    guarantor: bool,
}

impl Sent {
    fn of(code: &str, c: &CategorySettings) -> Sent {
        let age = |a: Option<u32>| a.map(|a| a.to_string()).unwrap_or_default();
        Sent {
            code: code.to_string(),
            validity_months: c.validity_months.to_string(),
            min_age: age(c.min_age),
            max_age: age(c.max_age),
            guarantor: c.guarantor,
        }
    }
}

/// The form checked as far as it can be alone: a code, a number of months, ages as numbers.
fn read(fields: &Fields, code: Option<&str>) -> (Sent, Option<(Code, CategorySettings)>, Problems) {
    let mut problems = Problems::default();
    let text = |name: &str| fields.get(name).unwrap_or("").to_string();
    let sent = Sent {
        code: code.map_or_else(|| text("code"), str::to_string),
        validity_months: text("validity_months"),
        min_age: text("min_age"),
        max_age: text("max_age"),
        guarantor: fields.get("guarantor").is_some(),
    };
    let parsed = match Code::parse(&sent.code) {
        Ok(c) => Some(c),
        Err(_) if sent.code.is_empty() => {
            problems.add("code", "Code: enter a code, such as ADULT.");
            None
        }
        Err(e) => {
            problems.add("code", format!("Code: {e}"));
            None
        }
    };
    let validity = match sent.validity_months.parse::<u32>() {
        Ok(n) if n >= 1 => Some(n),
        _ if sent.validity_months.is_empty() => {
            problems.add("validity_months", "Card valid for: enter a number of months, such as 36.");
            None
        }
        _ => {
            problems.add(
                "validity_months",
                format!("Card valid for: {:?} is not a number of months (1 or more).", sent.validity_months),
            );
            None
        }
    };
    let mut age = |field: &str, name: &str, text: &str| -> Option<u32> {
        if text.is_empty() {
            return None;
        }
        text.parse::<u32>().map_or_else(
            |_| {
                problems.add(field, format!("{name}: {text:?} is not an age in years (blank for none)."));
                None
            },
            Some,
        )
    };
    let min_age = age("min_age", "Minimum age", &sent.min_age);
    let max_age = age("max_age", "Maximum age", &sent.max_age);
    if let (Some(min), Some(max)) = (min_age, max_age) {
        if min > max {
            problems.add("max_age", format!("Maximum age: {max} is below the minimum age {min}."));
        }
    }
    let category = match (parsed, validity) {
        (Some(code), Some(validity_months)) if problems.is_empty() => {
            Some((code, CategorySettings { validity_months, min_age, max_age, guarantor: sent.guarantor }))
        }
        _ => None,
    };
    (sent, category, problems)
}

fn form(action: &str, sent: &Sent, version: i64, problems: &Problems, editing: bool) -> String {
    let mut out = problems.summary();
    let _ = writeln!(
        out,
        "<form method=\"post\" action=\"{}\" class=\"admin-form\" id=\"category-form\">\n{}{}",
        Esc(action),
        once::token_field(),
        super::version_field(&desk::SettingsStamp { version, ..Default::default() })
    );
    if editing {
        let _ = writeln!(
            out,
            "<p>Code: <strong>{}</strong> (a code cannot change: patrons and rules name it)</p>",
            Esc(&sent.code)
        );
    } else {
        out.push_str(&problems.input("code", "Code", &sent.code, " required maxlength=\"32\" autocomplete=\"off\""));
    }
    out.push_str(&problems.input(
        "validity_months",
        "Card valid for (months)",
        &sent.validity_months,
        " required inputmode=\"numeric\" maxlength=\"4\"",
    ));
    out.push_str(&problems.input(
        "min_age",
        "Minimum age (blank: none)",
        &sent.min_age,
        " inputmode=\"numeric\" maxlength=\"3\"",
    ));
    out.push_str(&problems.input(
        "max_age",
        "Maximum age (blank: none)",
        &sent.max_age,
        " inputmode=\"numeric\" maxlength=\"3\"",
    ));
    let tick = if sent.guarantor { " checked" } else { "" };
    let _ = writeln!(
        out,
        "<div><input type=\"checkbox\" id=\"guarantor\" name=\"guarantor\" value=\"yes\"{tick}> \
         <label for=\"guarantor\">A guarantor is required</label></div>"
    );
    let button = if editing { "Save the category" } else { "Add the category" };
    let _ = write!(out, "<div><button type=\"submit\">{button}</button></div>\n</form>\n");
    out
}

/// The list, with the add form (blank, or as sent with its problems) and any notice.
fn list_page(
    state: &AppState,
    acting: &Acting,
    status: StatusCode,
    sent: Option<(&Sent, i64, &Problems)>,
    banner: &str,
) -> Response {
    let rules = state.desk.patron_rules();
    let (_, stamp) = state.desk.patron_settings();
    let mut main = format!("<h1>{TITLE}</h1>\n{banner}");
    main.push_str(&super::changed_line(state, &stamp, "patrons"));
    if let Some(age) = rules.guarantor_under_age {
        let _ = writeln!(
            main,
            "<p id=\"guarantor-age\">Patrons younger than {age} need a guarantor whatever their category.</p>"
        );
    }
    let mut table = String::from(
        "<table class=\"admin\" id=\"categories\"><thead><tr><th scope=\"col\">Category</th>\
         <th scope=\"col\">Card valid for</th><th scope=\"col\">Minimum age</th><th scope=\"col\">Maximum age</th>\
         <th scope=\"col\">Guarantor</th><th scope=\"col\">Actions</th></tr></thead>\n<tbody>\n",
    );
    let age = |a: Option<u32>| a.map_or("none".to_string(), |a| a.to_string());
    for (code, c) in &rules.registration.categories {
        let _ = writeln!(
            table,
            "<tr><th scope=\"row\">{}</th><td>{} months</td><td>{}</td><td>{}</td><td>{}</td>\
             <td><a href=\"{PATH}/{u}\" aria-label=\"Edit category {c}\">Edit</a> \
             <form class=\"inline\" method=\"post\" action=\"{PATH}/{u}/delete\">{}{}\
             <button type=\"submit\" class=\"secondary\" aria-label=\"Delete category {c}\">Delete</button></form></td></tr>",
            Esc(code.as_str()),
            c.validity_months,
            age(c.min_age),
            age(c.max_age),
            if c.requires_guarantor { "required" } else { "not required" },
            once::token_field(),
            super::version_field(&stamp),
            u = url_encode(code.as_str()),
            c = Esc(code.as_str()),
        );
    }
    table.push_str("</tbody></table>\n");
    main.push_str(&scroll_box("Patron categories", &table));
    main.push_str("<h2 id=\"add\">Add a category</h2>\n");
    let blank = Sent { validity_months: "36".into(), ..Sent::default() };
    let none = Problems::default();
    let (sent, version, problems) = sent.unwrap_or((&blank, stamp.version, &none));
    main.push_str(&form(PATH, sent, version, problems, false));
    let pattern = &rules.registration.card_numbers;
    let _ = writeln!(
        main,
        "<h2>Card numbers</h2>\n<p id=\"card-pattern\">{} digits starting with {}, check digit: {}.</p>",
        pattern.length,
        Esc(&pattern.prefix),
        match pattern.check_digit {
            circulation::registration::CheckDigit::Luhn => "Luhn (mod 10)",
            circulation::registration::CheckDigit::None => "none",
        }
    );
    page(state, acting, status, TITLE, &main)
}

fn edit_main(state: &AppState, sent: &Sent, version: i64, problems: &Problems, conflict: Option<&str>) -> String {
    let action = format!("{PATH}/{}", url_encode(&sent.code));
    let mut main = format!("<h1>Edit patron category {}</h1>\n", Esc(&sent.code));
    if let Some(message) = conflict {
        main.push_str(&super::conflict_banner(message, &action));
    }
    main.push_str(&super::changed_line(state, &state.desk.patron_settings().1, "patrons"));
    main.push_str(&form(&action, sent, version, problems, true));
    let _ = writeln!(main, "<p><a href=\"{PATH}\">Back to patron categories</a></p>");
    main
}

async fn screen(State(state): State<AppState>, StaffUser(acting): StaffUser, query: QueryParams) -> Response {
    if let Err(e) = acting.require(Permission::Configure) {
        return refusal(&state, &acting, e);
    }
    let banner = if let Some(c) = query_get(&query, "saved") {
        format!("<p class=\"done\" role=\"status\" id=\"saved\">Category {} saved and in force.</p>\n", Esc(c))
    } else if let Some(c) = query_get(&query, "deleted") {
        format!("<p class=\"done\" role=\"status\" id=\"saved\">Category {} deleted.</p>\n", Esc(c))
    } else {
        String::new()
    };
    list_page(&state, &acting, StatusCode::OK, None, &banner)
}

fn unknown(code: &str) -> ApiError {
    ApiError::new(ErrorCode::RouteNotFound, format!("there is no patron category {code}"))
}

/// `POST /staff/admin/categories`.
async fn add(State(state): State<AppState>, StaffUser(acting): StaffUser, fields: Fields) -> Response {
    super::configure_once(&state, &acting, &fields, || async {
        let version = match super::sent_version(&fields) {
            Ok(v) => v,
            Err(e) => return refusal(&state, &acting, e),
        };
        let (sent, category, mut problems) = read(&fields, None);
        let (mut settings, _) = state.desk.patron_settings();
        if let Some((code, _)) = &category {
            if settings.categories.contains_key(code.as_str()) {
                problems.add("code", format!("Code: category {code} already exists: edit it from the list instead."));
            }
        }
        let Some((code, c)) = category.filter(|_| problems.is_empty()) else {
            return list_page(&state, &acting, StatusCode::BAD_REQUEST, Some((&sent, version, &problems)), "");
        };
        settings.categories.insert(code.to_string(), c);
        match super::save_patrons(&state, &acting, settings, version).await {
            Ok(Saved::Done) => see_other(&format!("{PATH}?saved={}", url_encode(code.as_str()))),
            Ok(Saved::Invalid(e)) => {
                let mut problems = Problems::default();
                problems.add("code", super::super::capitalised(&e.to_string()));
                list_page(&state, &acting, StatusCode::BAD_REQUEST, Some((&sent, version, &problems)), "")
            }
            Ok(Saved::Stale(message)) => {
                let banner = super::conflict_banner(&message, PATH);
                list_page(&state, &acting, StatusCode::CONFLICT, Some((&sent, version, &Problems::default())), &banner)
            }
            Ok(Saved::Refused { message, .. }) => {
                let mut problems = Problems::default();
                problems.add("code", super::super::capitalised(&message));
                list_page(&state, &acting, StatusCode::BAD_REQUEST, Some((&sent, version, &problems)), "")
            }
            Err(e) => refusal(&state, &acting, e),
        }
    })
    .await
}

/// `GET /staff/admin/categories/{code}`.
async fn edit_page(State(state): State<AppState>, StaffUser(acting): StaffUser, Path(code): Path<String>) -> Response {
    if let Err(e) = acting.require(Permission::Configure) {
        return refusal(&state, &acting, e);
    }
    let (settings, stamp) = state.desk.patron_settings();
    match settings.categories.get(&code) {
        Some(c) => {
            let main = edit_main(&state, &Sent::of(&code, c), stamp.version, &Problems::default(), None);
            page(&state, &acting, StatusCode::OK, TITLE, &main)
        }
        None => refusal(&state, &acting, unknown(&code)),
    }
}

/// `POST /staff/admin/categories/{code}`.
async fn save(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(code): Path<String>,
    fields: Fields,
) -> Response {
    super::configure_once(&state, &acting, &fields, || async {
        let version = match super::sent_version(&fields) {
            Ok(v) => v,
            Err(e) => return refusal(&state, &acting, e),
        };
        let (mut settings, _) = state.desk.patron_settings();
        if !settings.categories.contains_key(&code) {
            return refusal(&state, &acting, unknown(&code));
        }
        let (sent, category, problems) = read(&fields, Some(&code));
        let answer = |status, problems: &Problems, conflict: Option<&str>| {
            page(&state, &acting, status, TITLE, &edit_main(&state, &sent, version, problems, conflict))
        };
        let Some((_, c)) = category else { return answer(StatusCode::BAD_REQUEST, &problems, None) };
        settings.categories.insert(code.clone(), c);
        match super::save_patrons(&state, &acting, settings, version).await {
            Ok(Saved::Done) => see_other(&format!("{PATH}?saved={}", url_encode(&code))),
            Ok(Saved::Invalid(e)) => {
                let mut problems = Problems::default();
                let field = if e.place.ends_with("validity_months") { "validity_months" } else { "max_age" };
                problems.add(field, super::super::capitalised(&e.to_string()));
                answer(StatusCode::BAD_REQUEST, &problems, None)
            }
            Ok(Saved::Stale(message)) => answer(StatusCode::CONFLICT, &Problems::default(), Some(&message)),
            Ok(Saved::Refused { message, .. }) => {
                let mut problems = Problems::default();
                problems.add("validity_months", super::super::capitalised(&message));
                answer(StatusCode::BAD_REQUEST, &problems, None)
            }
            Err(e) => refusal(&state, &acting, e),
        }
    })
    .await
}

/// `POST /staff/admin/categories/{code}/delete`: gone, or the list says why not.
async fn delete(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(code): Path<String>,
    fields: Fields,
) -> Response {
    super::configure_once(&state, &acting, &fields, || async {
        let version = match super::sent_version(&fields) {
            Ok(v) => v,
            Err(e) => return refusal(&state, &acting, e),
        };
        let (mut settings, _) = state.desk.patron_settings();
        if settings.categories.remove(&code).is_none() {
            return refusal(&state, &acting, unknown(&code));
        }
        let not_deleted = |message: &str| {
            format!(
                "<div class=\"refused\" role=\"alert\" id=\"refusal\"><h2>Not deleted</h2><p>{}</p></div>\n",
                Esc(&super::super::capitalised(message))
            )
        };
        match super::save_patrons(&state, &acting, settings, version).await {
            Ok(Saved::Done) => see_other(&format!("{PATH}?deleted={}", url_encode(&code))),
            Ok(Saved::Refused { message, .. }) => {
                list_page(&state, &acting, StatusCode::CONFLICT, None, &not_deleted(&message))
            }
            Ok(Saved::Stale(message)) => list_page(&state, &acting, StatusCode::CONFLICT, None, &not_deleted(&message)),
            Ok(Saved::Invalid(e)) => {
                list_page(&state, &acting, StatusCode::BAD_REQUEST, None, &not_deleted(&e.to_string()))
            }
            Err(e) => refusal(&state, &acting, e),
        }
    })
    .await
}
