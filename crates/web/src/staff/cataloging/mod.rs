//! The staff client's cataloging screens (Catalog permission, as the JSON API's records, items
//! and labels): `/staff/cataloging` finds records (the search index when the server has one,
//! else the database, always one bounded page) and starts a new one from a template;
//! `/staff/cataloging/records/{id}` and `/records/new?template=` are the MARC editor
//! ([`editor`]); `/staff/cataloging/records/{id}/items/new` and `/staff/cataloging/items/{id}`
//! add and edit items with the shelf position previewed ([`items`]); `/staff/cataloging/labels`
//! prints spine and barcode labels for chosen items ([`labels`]).

mod editor;
mod items;
mod labels;

use std::fmt::Write;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use catalog::editing::{template, Draft, Place, Problem, TEMPLATES};
use circulation::Permission;
use storage::{ItemFilter, Page, RecordFilter};

use super::{error_page, layout, once, query_get, see_other, Fields, QueryParams, StaffUser};
use crate::api::records::record_not_found;
use crate::auth::Acting;
use crate::error::{ApiError, ErrorCode};
use crate::html::{url_encode, Esc};
use crate::AppState;
use editor::Action;

const HOME: &str = "/staff/cataloging";
/// Hits on one page of the catalog search.
const HITS: usize = 20;
/// Items listed on a record's page; a record with more says so (serials can have thousands).
const ITEMS_SHOWN: u32 = 100;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(HOME, get(search_page))
        .route("/staff/cataloging/records/new", get(new_record).post(create_record))
        .route("/staff/cataloging/records/{id}", get(record_page).post(update_record))
        .route("/staff/cataloging/records/{id}/items/new", get(items::new_item))
        .route("/staff/cataloging/records/{id}/items", post(items::create_item))
        .route("/staff/cataloging/items/{id}", get(items::item_page).post(items::update_item))
        .route("/staff/cataloging/labels", get(labels::screen).post(labels::print))
}

/// A cataloging page: the staff layout with the editor's style.
fn page(state: &AppState, acting: &Acting, status: StatusCode, title: &str, main: &str) -> Response {
    let main = format!("<style>{}</style>\n{main}", editor::STYLE);
    (status, Html(layout(&state.config.library_name, Some(acting), title, &main))).into_response()
}

fn refusal(state: &AppState, acting: &Acting, e: ApiError) -> Response {
    error_page(&state.config.library_name, Some(acting), e)
}

/// The access points of the catalog search, as staff read them.
const SEARCH_BY: [(&str, &str); 6] = [
    ("keywords", "Keywords"),
    ("title", "Title"),
    ("author", "Author"),
    ("isbn", "ISBN"),
    ("barcode", "Item barcode"),
    ("callnumber", "Call number"),
];

/// One record found: its id, title, author and year.
struct Found {
    id: i64,
    title: String,
    author: Option<String>,
    year: Option<i32>,
}

/// A phrase for the index's query language: the words only, quoted.
fn phrase(term: &str) -> String {
    let words: Vec<&str> = term.split(|c: char| c == '"' || c.is_whitespace()).filter(|w| !w.is_empty()).collect();
    format!("\"{}\"", words.join(" "))
}

/// `GET /staff/cataloging?by=&q=`: the search form, the "new record" choice and the hits.
async fn search_page(State(state): State<AppState>, StaffUser(acting): StaffUser, query: QueryParams) -> Response {
    if let Err(e) = acting.require(Permission::Catalog) {
        return refusal(&state, &acting, e);
    }
    let by = query_get(&query, "by").unwrap_or("keywords").to_string();
    let term = query_get(&query, "q").unwrap_or("").to_string();
    let mut main = String::from("<h1>Cataloging</h1>\n");
    let _ = write!(
        main,
        "<form method=\"get\" action=\"{HOME}\" role=\"search\" aria-label=\"Search the catalog\" class=\"field-row\">\
         <div><label for=\"by\">Search by</label><select id=\"by\" name=\"by\">"
    );
    for (value, label) in SEARCH_BY {
        let _ =
            write!(main, "<option value=\"{value}\"{}>{label}</option>", if value == by { " selected" } else { "" });
    }
    let _ = writeln!(
        main,
        "</select></div><div><label for=\"q\">Search for</label><input id=\"q\" name=\"q\" type=\"search\" value=\"{}\" \
         autofocus></div><div><button type=\"submit\">Search</button></div></form>",
        Esc(&term)
    );
    let _ = write!(
        main,
        "<form method=\"get\" action=\"/staff/cataloging/records/new\" class=\"field-row\" aria-label=\"New record\">\
         <div><label for=\"template\">New record</label><select id=\"template\" name=\"template\">"
    );
    for (value, label) in TEMPLATES {
        let _ = write!(main, "<option value=\"{value}\">{label}</option>");
    }
    main.push_str(
        "</select></div><div><button type=\"submit\" class=\"secondary\">Start a new record</button></div></form>\n\
         <p><a href=\"/staff/cataloging/labels\">Print labels for recently added items</a></p>\n",
    );
    if term.is_empty() {
        return page(&state, &acting, StatusCode::OK, "Cataloging", &main);
    }
    let found = match find(&state, &by, &term).await {
        Ok(found) => found,
        Err(e) if e.code.status().is_client_error() => {
            let _ = writeln!(main, "<p role=\"alert\" class=\"refused\">{}</p>", Esc(&super::capitalised(&e.message)));
            return page(&state, &acting, e.code.status(), "Cataloging", &main);
        }
        Err(e) => return refusal(&state, &acting, e),
    };
    let ids: Vec<i64> = found.iter().map(|f| f.id).collect();
    // The items of the whole page in one read, counted per record.
    let counts = match state
        .db(move |db| {
            let filter = ItemFilter { bib_ids: Some(ids), ..ItemFilter::default() };
            let mut counts = std::collections::HashMap::<i64, usize>::new();
            for item in db.items(&filter, Page { after: 0, limit: 2000 })? {
                *counts.entry(item.bib_id).or_default() += 1;
            }
            Ok(counts)
        })
        .await
    {
        Ok(c) => c,
        Err(e) => return refusal(&state, &acting, e),
    };
    let _ = writeln!(
        main,
        "<section aria-labelledby=\"hits\"><h2 id=\"hits\">{} for {}</h2>",
        match found.len() {
            0 => "No records".to_string(),
            1 => "One record".to_string(),
            n if n >= HITS => format!("The first {n} records"),
            n => format!("{n} records"),
        },
        Esc(&term)
    );
    if !found.is_empty() {
        main.push_str("<ol class=\"results\">\n");
        for f in &found {
            let items = counts.get(&f.id).copied().unwrap_or(0);
            let _ = writeln!(
                main,
                "<li><a href=\"/staff/cataloging/records/{id}\">{}</a>{}{} <span class=\"record-id\">(record {id})</span>\
                 <br><a href=\"/staff/cataloging/records/{id}#items\">{}</a> \
                 <a href=\"/staff/cataloging/records/{id}/items/new\">Add an item</a></li>",
                Esc(if f.title.is_empty() { "[no title]" } else { &f.title }),
                f.author.as_deref().map(|a| format!(" / {}", Esc(a))).unwrap_or_default(),
                f.year.map(|y| format!(", {y}")).unwrap_or_default(),
                match items {
                    0 => "No items".to_string(),
                    1 => "1 item".to_string(),
                    n if n >= 2000 => "2000 or more items".to_string(),
                    n => format!("{n} items"),
                },
                id = f.id,
            );
        }
        main.push_str("</ol>\n");
    }
    main.push_str("</section>\n");
    page(&state, &acting, StatusCode::OK, "Cataloging", &main)
}

/// One bounded page of records for the search: the index when there is one; the database's
/// indexed look-ups (barcode, ISBN) always, and its title and author filters otherwise.
async fn find(state: &AppState, by: &str, term: &str) -> Result<Vec<Found>, ApiError> {
    let bad = |m: String| ApiError::field(ErrorCode::InvalidParameter, "q", m);
    match by {
        "barcode" => {
            let barcode = catalog::Barcode::parse(term).map_err(|e| bad(format!("item barcode {term:?}: {e}")))?;
            return state
                .db(move |db| {
                    let Some(item) = db.item_by_barcode(&barcode)? else { return Ok(Vec::new()) };
                    Ok(db.record(item.bib_id)?.map(found).into_iter().collect())
                })
                .await;
        }
        // An ISBN names few records: the database's exact match on the normalised ISBN-13,
        // whatever hyphens the cataloger typed.
        "isbn" => {
            let isbn = crate::marcio::normalise_isbn(term)
                .ok_or_else(|| bad(format!("ISBN {term:?} is not a valid ISBN-10 or ISBN-13")))?;
            let filter = RecordFilter { isbn: Some(isbn), ..RecordFilter::default() };
            return records(state, filter).await;
        }
        "keywords" | "title" | "author" | "callnumber" => {}
        other => {
            return Err(ApiError::field(
                ErrorCode::InvalidParameter,
                "by",
                format!("search by {other:?} is not offered"),
            ))
        }
    }
    let Some(engine) = state.search.clone() else {
        let filter = match by {
            "title" | "keywords" => RecordFilter { title: Some(term.to_string()), ..RecordFilter::default() },
            "author" => RecordFilter { author: Some(term.to_string()), ..RecordFilter::default() },
            _ => {
                return Err(bad(
                    "this server runs without a search index: search by title, author, ISBN or barcode".into()
                ))
            }
        };
        return records(state, filter).await;
    };
    let query = match by {
        "keywords" => term.to_string(),
        field => format!("{field}:{}", phrase(term)),
    };
    let mut request = search::SearchRequest::new(query);
    request.limit = HITS;
    let results = tokio::task::spawn_blocking(move || match engine.get() {
        Some(engine) => engine.index.search(&request),
        None => Err(search::SearchError::Closed),
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    Ok(results
        .hits
        .into_iter()
        .map(|h| Found { id: h.record_id, title: h.title, author: h.author, year: h.year })
        .collect())
}

fn found(r: storage::StoredRecord) -> Found {
    Found { id: r.id, author: r.derived.authors.first().cloned(), year: r.derived.year, title: r.derived.title }
}

async fn records(state: &AppState, filter: RecordFilter) -> Result<Vec<Found>, ApiError> {
    let page = Page { after: 0, limit: HITS as u32 };
    state.db(move |db| Ok(db.records(&filter, page)?.into_iter().map(found).collect())).await
}

/// Today as the 008 writes the date a record was entered (`yymmdd`), in the library's time zone.
fn today_yymmdd(state: &AppState) -> String {
    chrono::Utc::now().with_timezone(&state.desk.circulation().time_zone).format("%y%m%d").to_string()
}

/// What the editor page shows besides the draft.
#[derive(Default)]
struct View<'a> {
    /// The record's id; `None` for a new record.
    id: Option<i64>,
    problems: &'a [Problem],
    /// The box to put the cursor in.
    focus: Option<&'a str>,
    /// A sentence above the heading ("Saved.").
    notice: Option<&'a str>,
    /// What follows the editor (the record's items).
    after: &'a str,
}

/// The editor page, 200 (or 422 when there are problems).
fn editor_page(state: &AppState, acting: &Acting, draft: &Draft, view: View<'_>) -> Response {
    let (title, action) = match view.id {
        Some(id) => (format!("Record {id}"), format!("/staff/cataloging/records/{id}")),
        None => ("New record".to_string(), "/staff/cataloging/records/new".to_string()),
    };
    let heading = draft
        .fields
        .iter()
        .find(|f| f.tag.trim() == "245")
        .and_then(|f| f.subfields.iter().find(|(c, v)| c == "a" && !v.trim().is_empty()))
        .map(|(_, v)| format!("{title}: {}", v.trim()))
        .unwrap_or_else(|| title.clone());
    let mut main = format!("<p><a href=\"{HOME}\">Cataloging</a></p>\n");
    if let Some(notice) = view.notice {
        let _ = writeln!(main, "<p class=\"done\" role=\"status\" id=\"saved\">{}</p>", Esc(notice));
    }
    let _ = writeln!(main, "<h1>{}</h1>", Esc(&heading));
    main.push_str(&editor::form(&action, draft, view.problems, view.focus));
    main.push_str(view.after);
    let status = if view.problems.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    page(state, acting, status, &title, &main)
}

/// `GET /staff/cataloging/records/new?template=book`.
async fn new_record(State(state): State<AppState>, StaffUser(acting): StaffUser, query: QueryParams) -> Response {
    if let Err(e) = acting.require(Permission::Catalog) {
        return refusal(&state, &acting, e);
    }
    let kind = query_get(&query, "template").unwrap_or("book");
    let Some(draft) = template(kind, &today_yymmdd(&state)) else {
        let known: Vec<&str> = TEMPLATES.iter().map(|(k, _)| *k).collect();
        let e = ApiError::field(
            ErrorCode::InvalidParameter,
            "template",
            format!("template {kind:?} is not one of {}", known.join(", ")),
        );
        return refusal(&state, &acting, e);
    };
    let first = draft.fields.iter().position(|f| !f.tag.starts_with("00")).map(|i| format!("s{i}_0"));
    editor_page(&state, &acting, &draft, View { focus: first.as_deref(), ..View::default() })
}

/// `GET /staff/cataloging/records/{id}`: the editor, then the record's items.
async fn record_page(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(id): Path<String>,
    query: QueryParams,
) -> Response {
    if let Err(e) = acting.require(Permission::Catalog) {
        return refusal(&state, &acting, e);
    }
    let id = match crate::api::parse_id(&id, "id") {
        Ok(id) => id,
        Err(e) => return refusal(&state, &acting, e),
    };
    let loaded = state
        .db(move |db| {
            let stored = db.record(id)?.ok_or_else(|| record_not_found(id))?;
            let filter = ItemFilter { bib_id: Some(id), ..ItemFilter::default() };
            let items = db.items(&filter, Page { after: 0, limit: ITEMS_SHOWN })?;
            Ok((stored, items))
        })
        .await;
    let (stored, record_items) = match loaded {
        Ok(l) => l,
        Err(e) => return refusal(&state, &acting, e),
    };
    let record = match crate::marcio::read_stored(&stored.marc) {
        Ok(r) => r,
        Err(e) => return refusal(&state, &acting, e),
    };
    let after = labels::items_section(id, &record_items, ITEMS_SHOWN);
    let draft = Draft::from_record(&record);
    let notice = query_get(&query, "saved").map(|_| "Saved.");
    editor_page(&state, &acting, &draft, View { id: Some(id), notice, after: &after, ..View::default() })
}

/// `POST /staff/cataloging/records/new`.
async fn create_record(State(state): State<AppState>, StaffUser(acting): StaffUser, fields: Fields) -> Response {
    post_editor(state, acting, None, fields).await
}

/// `POST /staff/cataloging/records/{id}`.
async fn update_record(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(id): Path<String>,
    fields: Fields,
) -> Response {
    match crate::api::parse_id(&id, "id") {
        Ok(id) => post_editor(state, acting, Some(id), fields).await,
        Err(e) => refusal(&state, &acting, e),
    }
}

/// A post of the editor: a field or subfield added or removed (the page again, nothing
/// saved), or a save, which a second click of the same form does not repeat.
async fn post_editor(state: AppState, acting: Acting, id: Option<i64>, fields: Fields) -> Response {
    if let Err(e) = acting.require(Permission::Catalog) {
        return refusal(&state, &acting, e);
    }
    let (st, who) = (state.clone(), acting.clone());
    once::once(&st, &who, fields.token(), move || async move {
        let action = Action::parse(fields.get("action"));
        let (mut draft, form_problems) = editor::draft_from_form(&fields.0);
        if action != Action::Save {
            let focus = action.apply(&mut draft);
            return editor_page(&state, &acting, &draft, View { id, focus: focus.as_deref(), ..View::default() });
        }
        if !form_problems.is_empty() {
            return editor_page(&state, &acting, &draft, View { id, problems: &form_problems, ..View::default() });
        }

        let record = match draft.to_record() {
            Ok(r) => r,
            Err(problems) => {
                return editor_page(&state, &acting, &draft, View { id, problems: &problems, ..View::default() })
            }
        };
        let saved = match id {
            None => crate::api::records::save_new(&state, record).await,
            Some(id) => crate::api::records::save(&state, id, record).await.map(|()| id),
        };
        match saved {
            Ok(id) => see_other(&format!("/staff/cataloging/records/{id}?saved=1")),
            Err(e) if e.code == ErrorCode::RecordRejected => {
                let problem = Problem { place: Place::Record, message: e.message };
                editor_page(&state, &acting, &draft, View { id, problems: &[problem], ..View::default() })
            }
            Err(e) => refusal(&state, &acting, e),
        }
    })
    .await
}

/// `?name=value&...` for a link.
fn query_string(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}={}", url_encode(v))).collect::<Vec<_>>().join("&amp;")
}
