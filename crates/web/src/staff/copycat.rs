//! The staff client's copy-cataloging screen, server-rendered: `GET /staff/cataloging/copy`
//! (the search form, and the candidates of each target with their preview and an Import
//! button) and `POST /staff/cataloging/copy/import` (the import, through the same import path as
//! the API; a second click finds the record by the import's matching and adds nothing). Both
//! need the Catalog permission.

use std::collections::HashMap;
use std::fmt::Write;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use circulation::Permission;
use copycat::{CopyQuery, Imported, InCatalog, OnMatch};

use super::{error_page, layout, StaffUser};
use crate::api::copycat::configured;
use crate::auth::Acting;
use crate::error::ApiError;
use crate::html::{url_encode, Esc};
use crate::AppState;

const PATH: &str = "/staff/cataloging/copy";
const TITLE: &str = "Copy cataloging";
const RECORDS_PER_TARGET: usize = 10;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route(PATH, get(screen)).route("/staff/cataloging/copy/import", post(import))
}

fn page(state: &AppState, acting: &Acting, status: StatusCode, main: &str) -> Response {
    (status, Html(layout(&state.config.library_name, Some(acting), TITLE, main))).into_response()
}

fn refusal(state: &AppState, acting: &Acting, e: ApiError) -> Response {
    error_page(&state.config.library_name, Some(acting), e)
}

/// The form's access points, as staff read them.
const SEARCH_BY: [(&str, &str); 6] = [
    ("isbn", "ISBN"),
    ("issn", "ISSN"),
    ("lccn", "LCCN"),
    ("title", "Title"),
    ("author", "Author"),
    ("keywords", "Keywords"),
];

fn form(state: &AppState, target: &str, by: &str, term: &str) -> Result<String, ApiError> {
    let mut out = String::new();
    let _ = write!(out, "<form method=\"get\" action=\"{PATH}\" role=\"search\" aria-label=\"Search copy-cataloging targets\">\n<div><label for=\"target\">Target</label><select id=\"target\" name=\"target\">\n<option value=\"\">All targets</option>\n");
    for t in configured(state)?.all() {
        let selected = if t.name == target { " selected" } else { "" };
        let _ = writeln!(out, "<option value=\"{0}\"{selected}>{0}</option>", Esc(&t.name));
    }
    out.push_str("</select></div>\n<div><label for=\"by\">Search by</label><select id=\"by\" name=\"by\">\n");
    for (value, label) in SEARCH_BY {
        let selected = if value == by { " selected" } else { "" };
        let _ = writeln!(out, "<option value=\"{value}\"{selected}>{label}</option>");
    }
    let _ = write!(
        out,
        "</select></div>\n<div><label for=\"term\">Search for</label><input id=\"term\" name=\"term\" type=\"search\" \
         required value=\"{}\"></div>\n<div><button type=\"submit\">Search</button></div>\n</form>\n",
        Esc(term)
    );
    Ok(out)
}

/// `GET /staff/cataloging/copy?target=&by=&term=`.
async fn screen(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    if let Err(e) = acting.require(Permission::Catalog) {
        return refusal(&state, &acting, e);
    }
    let get = |name: &str| params.get(name).map(|v| v.trim().to_string()).unwrap_or_default();
    let (target, by, term) = (get("target"), get("by"), get("term"));
    let by = if by.is_empty() { "isbn".to_string() } else { by };
    let mut main = format!("<h1>{TITLE}</h1>\n");
    match form(&state, &target, &by, &term) {
        Ok(f) => main.push_str(&f),
        Err(e) => return refusal(&state, &acting, e),
    }
    if term.is_empty() {
        return page(&state, &acting, StatusCode::OK, &main);
    }
    let query = match CopyQuery::parse(&by, &term) {
        Ok(q) => q,
        Err(e) => {
            let _ = writeln!(main, "<p role=\"alert\">{}</p>", Esc(&e.to_string()));
            return page(&state, &acting, StatusCode::BAD_REQUEST, &main);
        }
    };
    let chosen = match configured(&state).and_then(|all| {
        let names = if target.is_empty() { vec![] } else { vec![target.clone()] };
        all.select(&names).map_err(|e| ApiError::new(crate::error::ErrorCode::UnknownTarget, e.to_string()))
    }) {
        Ok(c) => c,
        Err(e) => return refusal(&state, &acting, e),
    };
    let q = query.clone();
    let results = state
        .db(move |db| {
            let mut out = String::new();
            for result in copycat::search(&chosen, &q, RECORDS_PER_TARGET) {
                render_target(db, &mut out, &result, &q)?;
            }
            Ok(out)
        })
        .await;
    match results {
        Ok(html) => {
            let _ = writeln!(
                main,
                "<section aria-labelledby=\"results\">\n<h2 id=\"results\">Results for {}</h2>",
                Esc(&query.to_string())
            );
            main.push_str(&html);
            main.push_str("</section>\n");
            page(&state, &acting, StatusCode::OK, &main)
        }
        Err(e) => refusal(&state, &acting, e),
    }
}

fn render_target(
    db: &dyn storage::Database,
    out: &mut String,
    result: &copycat::TargetResult,
    query: &CopyQuery,
) -> Result<(), ApiError> {
    let name = Esc(&result.target);
    let hits = match &result.outcome {
        Err(e) => {
            let _ =
                writeln!(out, "<h3>{name}</h3>\n<p role=\"alert\">{name} did not answer: {}</p>", Esc(&e.to_string()));
            return Ok(());
        }
        Ok(hits) => hits,
    };
    let _ = writeln!(out, "<h3>{name}: {} found</h3>", hits.hits);
    if hits.candidates.is_empty() && hits.unreadable.is_empty() {
        out.push_str("<p>No records.</p>\n");
        return Ok(());
    }
    out.push_str("<ol class=\"candidates\">\n");
    for c in &hits.candidates {
        let s = &c.summary;
        let held = copycat::in_catalog(db, &c.record).map_err(|e| ApiError::internal(e.to_string()))?;
        let _ = write!(out, "<li value=\"{}\"><h4>{}</h4>\n<dl>", c.position, Esc(&s.title));
        let mut row = |label: &str, value: &str| {
            if !value.is_empty() {
                let _ = write!(out, "<dt>{label}</dt><dd>{}</dd>", Esc(value));
            }
        };
        row("Statement of responsibility", s.responsibility.as_deref().unwrap_or(""));
        row("Authors", &s.authors.join("; "));
        row("Publisher", s.publisher.as_deref().unwrap_or(""));
        row("Year", &s.year.map(|y| y.to_string()).unwrap_or_default());
        row("ISBN", &s.isbns.join(", "));
        row("LCCN", s.lccn.as_deref().unwrap_or(""));
        row("Format", s.format);
        let status = match &held {
            InCatalog::No => "Not in the catalog".to_string(),
            InCatalog::Identical(id) => format!("In the catalog as record {id}, identical"),
            InCatalog::Matched(id) => {
                format!("In the catalog as record {id} (same control number, OCLC number or ISBN)")
            }
            InCatalog::Refused(reason) => format!("Cannot be imported: {reason}"),
        };
        let _ = write!(out, "<dt>In our catalog</dt><dd>{}", Esc(&status));
        if let InCatalog::Identical(id) | InCatalog::Matched(id) = held {
            let _ = write!(out, " (<a href=\"/records/{id}\">show record {id}</a>)");
        }
        out.push_str("</dd></dl>\n");
        let _ = writeln!(
            out,
            "<details><summary>MARC preview of {}</summary><pre>{}</pre></details>",
            Esc(&s.title),
            Esc(&copycat::preview(&c.record))
        );
        if !matches!(held, InCatalog::Refused(_)) {
            let _ = writeln!(
                out,
                "<form method=\"post\" action=\"/staff/cataloging/copy/import\">\
                 <input type=\"hidden\" name=\"target\" value=\"{name}\">\
                 <input type=\"hidden\" name=\"by\" value=\"{}\">\
                 <input type=\"hidden\" name=\"term\" value=\"{}\">\
                 <input type=\"hidden\" name=\"position\" value=\"{}\">\
                 <button type=\"submit\" aria-label=\"Import {} from {name}\">Import</button></form>",
                query.access_point(),
                Esc(query.term()),
                c.position,
                Esc(&s.title),
            );
        }
        out.push_str("</li>\n");
    }
    for (position, reason) in &hits.unreadable {
        let _ = writeln!(out, "<li value=\"{position}\">This record could not be read: {}</li>", Esc(reason));
    }
    out.push_str("</ol>\n");
    Ok(())
}

/// `POST /staff/cataloging/copy/import` (form: target, by, term, position): searches the target
/// again, imports the record at that position with on-match skip, and says what happened.
async fn import(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Err(e) = acting.require(Permission::Catalog) {
        return refusal(&state, &acting, e);
    }
    let get = |name: &str| form.get(name).map(|v| v.trim().to_string()).unwrap_or_default();
    let (target_name, by, term) = (get("target"), get("by"), get("term"));
    let back = format!(
        "<p><a href=\"{PATH}?target={}&amp;by={}&amp;term={}\">Back to the results</a></p>\n",
        url_encode(&target_name),
        url_encode(&by),
        url_encode(&term)
    );
    let fail = |status: StatusCode, message: String| {
        let main = format!("<h1>{TITLE}</h1>\n<p role=\"alert\">{}</p>\n{back}", Esc(&message));
        page(&state, &acting, status, &main)
    };
    let target = match configured(&state).map(|all| all.get(&target_name).cloned()) {
        Ok(Some(t)) => t,
        Ok(None) => return fail(StatusCode::BAD_REQUEST, format!("no target is named {target_name:?}")),
        Err(e) => return refusal(&state, &acting, e),
    };
    let query = match CopyQuery::parse(&by, &term) {
        Ok(q) => q,
        Err(e) => return fail(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let Some(position) = get("position").parse::<usize>().ok().filter(|p| *p >= 1) else {
        return fail(StatusCode::BAD_REQUEST, "the candidate's position is missing".into());
    };
    let outcome = state
        .db(move |db| {
            let candidate = copycat::fetch(&target, &query, position);
            Ok(candidate.and_then(|c| {
                let title = c.summary.title.clone();
                copycat::import(db, c.record, OnMatch::Skip).map(|i| (title, i))
            }))
        })
        .await;
    let (title, imported) = match outcome {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => return fail(StatusCode::BAD_GATEWAY, format!("{target_name}: {e}")),
        Err(e) => return refusal(&state, &acting, e),
    };
    let id = imported.id();
    let (status, sentence) = match imported {
        Imported::Added(_) => (StatusCode::CREATED, format!("Added to the catalog as record {id}.")),
        Imported::Unchanged(_) | Imported::Skipped(_) | Imported::Replaced(_) => {
            (StatusCode::OK, format!("Already in the catalog as record {id}: nothing was added."))
        }
    };
    let main = format!(
        "<h1>{TITLE}</h1>\n<p role=\"status\"><strong>{}</strong> {}</p>\n<p><a href=\"/records/{id}\">Show record {id}</a></p>\n{back}",
        Esc(&title),
        Esc(&sentence)
    );
    page(&state, &acting, status, &main)
}
