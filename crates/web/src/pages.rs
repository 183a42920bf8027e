//! Server-rendered HTML pages: the home page (name, counts, newest records, search), the catalog
//! browse/search list and the record page (derived fields, items, MARC). No JavaScript.

use crate::api::records::filter_from;
use crate::api::{parse_id, Params};
use crate::error::{ApiError, ErrorCode};
use crate::html::{layout, url_encode, Esc};
use crate::{marcio, AppState};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use catalog::{BibDerived, Item};
use std::collections::{HashMap, VecDeque};
use std::fmt::Write;
use storage::{Database, Page, RecordFilter, StoredRecord};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/", get(home)).route("/records", get(browse)).route("/records/{id}", get(record_page))
}

pub(crate) fn error_page(state: &AppState, e: ApiError) -> Response {
    let (title, text) = match e.code.status() {
        StatusCode::NOT_FOUND => ("Not found", e.message.clone()),
        s if s.is_client_error() => ("Cannot show this page", e.message.clone()),
        _ => ("Something went wrong", "The server could not show this page. Please try again later.".to_string()),
    };
    let main =
        format!("<h1>{}</h1>\n<p>{}</p>\n<p><a href=\"/\">Back to the home page</a></p>\n", Esc(title), Esc(&text));
    (e.code.status(), Html(layout(&state.config.library_name, title, &main))).into_response()
}

pub(crate) async fn not_found(State(state): State<AppState>) -> Response {
    error_page(&state, ApiError::new(ErrorCode::RouteNotFound, "There is no page at this address."))
}

/// MARC language codes most often seen in a public library, else the code itself.
pub(crate) fn language_label(code: &str) -> &str {
    match code {
        "eng" => "English",
        "spa" => "Spanish",
        "fre" => "French",
        "ger" => "German",
        "ita" => "Italian",
        "por" => "Portuguese",
        "chi" => "Chinese",
        "jpn" => "Japanese",
        "kor" => "Korean",
        "rus" => "Russian",
        "ara" => "Arabic",
        "vie" => "Vietnamese",
        "pol" => "Polish",
        "heb" => "Hebrew",
        "hin" => "Hindi",
        "dut" => "Dutch",
        other => other,
    }
}

/// The table of records the home and browse pages show.
fn records_table(out: &mut String, caption: &str, records: &[StoredRecord]) {
    let _ = write!(
        out,
        "<table>\n<caption>{}</caption>\n<thead><tr><th scope=\"col\">Title</th><th scope=\"col\">Author</th>\
         <th scope=\"col\">Year</th><th scope=\"col\">Format</th></tr></thead>\n<tbody>\n",
        Esc(caption)
    );
    for r in records {
        let d = &r.derived;
        let title = if d.title.is_empty() { "[no title]" } else { d.title.as_str() };
        let _ = writeln!(
            out,
            "<tr><td><a href=\"/records/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            r.id,
            Esc(title),
            Esc(d.authors.first().map(String::as_str).unwrap_or("")),
            d.year.map(|y| y.to_string()).unwrap_or_default(),
            Esc(d.format.label()),
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

fn search_form(out: &mut String, title: &str, author: &str) {
    let _ = write!(
        out,
        "<form role=\"search\" action=\"/records\" method=\"get\" aria-label=\"Search the catalog\">\n\
         <div><label for=\"search-title\">Title</label><input id=\"search-title\" name=\"title\" type=\"search\" value=\"{}\"></div>\n\
         <div><label for=\"search-author\">Author</label><input id=\"search-author\" name=\"author\" type=\"search\" value=\"{}\"></div>\n\
         <div><button type=\"submit\">Search</button></div>\n</form>\n",
        Esc(title),
        Esc(author)
    );
}

/// The `n` records with the highest ids, newest first. Ids only grow, so the `n` highest are
/// all above `count - n`; deleted records only make the scan a little longer.
fn newest_records(db: &dyn Database, n: usize) -> Result<Vec<StoredRecord>, ApiError> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let count = db.count_records()?;
    let mut after = i64::try_from(count.saturating_sub(n as u64)).unwrap_or(0);
    let mut newest: VecDeque<StoredRecord> = VecDeque::with_capacity(n + 1);
    loop {
        let page = db.records(&RecordFilter::default(), Page { after, limit: 500 })?;
        let full = page.len() == 500;
        for r in page {
            after = r.id;
            newest.push_back(r);
            if newest.len() > n {
                newest.pop_front();
            }
        }
        if !full {
            break;
        }
    }
    Ok(newest.into_iter().rev().collect())
}

async fn home(State(state): State<AppState>) -> Response {
    let n = state.config.latest_records;
    let result = state.db(move |db| Ok((db.count_records()?, db.count_items()?, newest_records(db, n)?))).await;
    let (records, items, newest) = match result {
        Ok(v) => v,
        Err(e) => return error_page(&state, e),
    };
    let library = &state.config.library_name;
    let mut main = String::new();
    let _ = write!(
        main,
        "<h1>{}</h1>\n<p>The catalog holds <strong>{records}</strong> {} and <strong>{items}</strong> {}.</p>\n",
        Esc(library),
        if records == 1 { "record" } else { "records" },
        if items == 1 { "item" } else { "items" },
    );
    main.push_str("<section aria-labelledby=\"search-heading\">\n<h2 id=\"search-heading\">Search the catalog</h2>\n");
    crate::opac::search_form(&mut main, "");
    main.push_str(
        "</section>\n<section aria-labelledby=\"newest-heading\">\n<h2 id=\"newest-heading\">New in the catalog</h2>\n",
    );
    if newest.is_empty() {
        main.push_str("<p>The catalog is empty.</p>\n");
    } else {
        records_table(&mut main, "Newest records first", &newest);
        main.push_str("<p><a href=\"/records\">Browse the whole catalog</a></p>\n");
    }
    main.push_str("</section>\n");
    Html(layout(library, "Home", &main)).into_response()
}

/// `/records?title=&author=&isbn=&year_from=&year_to=&format=&branch=&after=&limit=`.
async fn browse(
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let parsed = (|| {
        let mut params = Params::new(query)?;
        let filter = filter_from(&mut params)?;
        let page = params.page(&state)?;
        params.finish()?;
        Ok::<_, ApiError>((filter, page))
    })();
    let (filter, page) = match parsed {
        Ok(v) => v,
        Err(e) => return error_page(&state, e),
    };
    let link_filter = filter.clone();
    let records = match state.db(move |db| Ok(db.records(&filter, page)?)).await {
        Ok(r) => r,
        Err(e) => return error_page(&state, e),
    };
    let f = &link_filter;
    let mut main = String::from("<h1>Catalog</h1>\n");
    search_form(&mut main, f.title.as_deref().unwrap_or(""), f.author.as_deref().unwrap_or(""));
    if records.is_empty() {
        main.push_str(if page.after == 0 { "<p>No records match.</p>\n" } else { "<p>No more records.</p>\n" });
    } else {
        records_table(&mut main, "Records in catalog order", &records);
    }
    if records.len() as u64 >= u64::from(page.limit) {
        if let Some(last) = records.last() {
            let mut query = format!("after={}&limit={}", last.id, page.limit);
            let mut add = |k: &str, v: &str| {
                let _ = write!(query, "&{k}={}", url_encode(v));
            };
            if let Some(v) = &f.title {
                add("title", v);
            }
            if let Some(v) = &f.author {
                add("author", v);
            }
            if let Some(v) = &f.isbn {
                add("isbn", v);
            }
            if let Some(v) = f.year_from {
                add("year_from", &v.to_string());
            }
            if let Some(v) = f.year_to {
                add("year_to", &v.to_string());
            }
            if let Some(v) =
                f.format.and_then(|v| serde_json::to_value(v).ok()).and_then(|v| v.as_str().map(str::to_string))
            {
                add("format", &v);
            }
            if let Some(v) = &f.branch {
                add("branch", v.as_str());
            }
            let _ = writeln!(main, "<p><a href=\"/records?{}\" rel=\"next\">Next page</a></p>", Esc(&query));
        }
    }
    Html(layout(&state.config.library_name, "Catalog", &main)).into_response()
}

fn dl_row(out: &mut String, label: &str, values: &[&str]) {
    let values: Vec<&str> = values.iter().copied().filter(|v| !v.is_empty()).collect();
    if values.is_empty() {
        return;
    }
    let _ = write!(out, "<dt>{}</dt>", Esc(label));
    for v in values {
        let _ = write!(out, "<dd>{}</dd>", Esc(v));
    }
    out.push('\n');
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn derived_list(out: &mut String, d: &BibDerived) {
    let year = d.year.map(|y| y.to_string()).unwrap_or_default();
    out.push_str("<dl>\n");
    dl_row(out, "Statement of responsibility", &[d.responsibility.as_deref().unwrap_or("")]);
    dl_row(out, if d.authors.len() == 1 { "Author" } else { "Authors" }, &strs(&d.authors));
    dl_row(out, "Format", &[d.format.label()]);
    dl_row(out, "Edition", &[d.edition.as_deref().unwrap_or("")]);
    dl_row(out, "Publisher", &[d.publisher.as_deref().unwrap_or("")]);
    dl_row(out, "Year", &[&year]);
    dl_row(out, "Language", &[d.language.as_deref().map(language_label).unwrap_or("")]);
    dl_row(out, "Series", &strs(&d.series));
    dl_row(out, "Subjects", &strs(&d.subjects));
    dl_row(out, "ISBN", &strs(&d.isbns));
    dl_row(out, "ISSN", &strs(&d.issns));
    dl_row(out, "Dewey call number", &[d.dewey_call_number.as_deref().unwrap_or("")]);
    dl_row(out, "LC call number", &[d.lc_call_number.as_deref().unwrap_or("")]);
    dl_row(out, "LCCN", &[d.lccn.as_deref().unwrap_or("")]);
    dl_row(out, "OCLC number", &strs(&d.oclc_numbers));
    dl_row(out, "Control number", &[d.control_number.as_deref().unwrap_or("")]);
    out.push_str("</dl>\n");
}

fn items_table(
    out: &mut String,
    items: &[Item],
    due: &HashMap<i64, String>,
    branches: &HashMap<String, String>,
    locations: &HashMap<String, String>,
) {
    if items.is_empty() {
        out.push_str("<p>The library has no copies of this title.</p>\n");
        return;
    }
    out.push_str(
        "<table class=\"copies\">\n<caption>Copies and where to find them</caption>\n<thead><tr><th scope=\"col\">Branch</th>\
         <th scope=\"col\">Shelving location</th><th scope=\"col\">Call number</th><th scope=\"col\">Status</th>\
         <th scope=\"col\">Due back</th><th scope=\"col\">Barcode</th></tr></thead>\n<tbody>\n",
    );
    for i in items {
        let it = &i.item;
        let name =
            |map: &HashMap<String, String>, code: &str| map.get(code).cloned().unwrap_or_else(|| code.to_string());
        let mut branch = name(branches, it.holding_branch.as_str());
        if it.holding_branch != it.home_branch {
            branch = format!("{branch} (belongs to {})", name(branches, it.home_branch.as_str()));
        }
        let location = it.location.as_ref().map(|l| name(locations, l.as_str())).unwrap_or_default();
        let _ = writeln!(
            out,
            "<tr class=\"copy\"><td class=\"branch\">{}</td><td class=\"location\">{}</td><td class=\"call-number\">{}</td>\
             <td class=\"status status-{}\">{}</td><td class=\"due\">{}</td><td>{}</td></tr>",
            Esc(&branch),
            Esc(&location),
            Esc(it.call_number.as_deref().unwrap_or("")),
            it.status.as_str(),
            Esc(it.status.label()),
            Esc(due.get(&i.id).map_or("", String::as_str)),
            Esc(it.barcode.as_str()),
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

fn marc_table(out: &mut String, record: &marc::Record) {
    out.push_str(
        "<table class=\"marc\">\n<caption>MARC 21 record</caption>\n<thead><tr><th scope=\"col\">Tag</th>\
         <th scope=\"col\">Indicators</th><th scope=\"col\">Content</th></tr></thead>\n<tbody>\n",
    );
    let _ = writeln!(out, "<tr><td>LDR</td><td></td><td>{}</td></tr>", Esc(record.leader.as_str()));
    for field in &record.fields {
        match field {
            marc::Field::Control(c) => {
                let _ = writeln!(out, "<tr><td>{}</td><td></td><td>{}</td></tr>", c.tag, Esc(&c.value));
            }
            marc::Field::Data(d) => {
                // A blank indicator shows as `_`, as cataloging screens print it.
                let ind = |c: char| if c == ' ' { '_' } else { c };
                let _ = write!(
                    out,
                    "<tr><td>{}</td><td>{}{}</td><td>",
                    d.tag,
                    Esc(&ind(d.ind1).to_string()),
                    Esc(&ind(d.ind2).to_string())
                );
                for (i, s) in d.subfields.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    let _ = write!(out, "<span class=\"sf\">${}</span> {}", Esc(&s.code.to_string()), Esc(&s.value));
                }
                out.push_str("</td></tr>\n");
            }
        }
    }
    out.push_str("</tbody>\n</table>\n");
}

struct RecordPageData {
    record: StoredRecord,
    items: Vec<Item>,
    /// When each copy on loan is due back, in the library's time zone.
    due: HashMap<i64, String>,
    /// The record's open holds.
    holds: usize,
    branches: HashMap<String, String>,
    locations: HashMap<String, String>,
}

async fn record_page(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let id = match parse_id(&id, "id") {
        Ok(id) => id,
        Err(e) => return error_page(&state, e),
    };
    let circulation = state.desk.circulation();
    let data = state
        .db(move |db| -> Result<RecordPageData, ApiError> {
            let record = db.record(id)?.ok_or_else(|| crate::api::records::record_not_found(id))?;
            let mut items = Vec::new();
            let mut after = 0;
            loop {
                let filter = storage::ItemFilter { bib_id: Some(id), ..Default::default() };
                let page = db.items(&filter, Page { after, limit: 500 })?;
                let full = page.len() == 500;
                after = page.last().map_or(after, |i| i.id);
                items.extend(page);
                if !full {
                    break;
                }
            }
            let mut due = HashMap::new();
            for i in items.iter().filter(|i| i.item.status == catalog::ItemStatus::CheckedOut) {
                if let Some(loan) = db.open_loan_of_item(i.id)? {
                    let local = loan.due_at.with_timezone(&circulation.time_zone);
                    due.insert(i.id, local.format("%Y-%m-%d").to_string());
                }
            }
            let holds = db.record_holds(id)?.iter().filter(|h| h.status.is_open()).count();
            let branches = db.branches()?.into_iter().map(|b| (b.code.to_string(), b.name)).collect();
            let locations = db.locations()?.into_iter().map(|l| (l.code.to_string(), l.name)).collect();
            Ok(RecordPageData { record, items, due, holds, branches, locations })
        })
        .await;
    let data = match data {
        Ok(v) => v,
        Err(e) => return error_page(&state, e),
    };
    let hold_context = match crate::opac::hold_form_context(&state, &headers).await {
        Ok(c) => c,
        Err(e) => return error_page(&state, e),
    };
    let flash = crate::opac::take_flash(&headers);
    let stored = &data.record;
    let record = match marcio::read_stored(&stored.marc) {
        Ok(r) => r,
        Err(e) => return error_page(&state, e),
    };
    let d = &stored.derived;
    let title = if d.title.is_empty() { "[no title]" } else { d.title.as_str() };
    let mut main = String::new();
    let _ = writeln!(main, "<article aria-labelledby=\"record-title\">\n<h1 id=\"record-title\">{}</h1>", Esc(title));
    if let Some(f) = &flash {
        main.push_str(&f.html());
    }
    derived_list(&mut main, d);
    main.push_str("<section aria-labelledby=\"items-heading\">\n<h2 id=\"items-heading\">Availability</h2>\n");
    items_table(&mut main, &data.items, &data.due, &data.branches, &data.locations);
    let _ = writeln!(
        main,
        "<p class=\"holds-count\">{}</p>",
        match data.holds {
            0 => "Nobody is waiting for this title.".to_string(),
            1 => "1 hold on this title.".to_string(),
            n => format!("{n} holds on this title."),
        }
    );
    crate::opac::hold_form(&mut main, id, hold_context.as_ref());
    main.push_str("</section>\n<section aria-labelledby=\"marc-heading\">\n<h2 id=\"marc-heading\">MARC record</h2>\n");
    let _ = writeln!(
        main,
        "<p class=\"muted\">Also as <a href=\"/api/v1/records/{id}?format=marcxml\">MARCXML</a>, \
         <a href=\"/api/v1/records/{id}\">MARC-in-JSON</a> or <a href=\"/api/v1/records/{id}?format=iso2709\">ISO 2709</a>.</p>"
    );
    marc_table(&mut main, &record);
    main.push_str("</section>\n</article>\n");
    crate::opac::page_response(layout(&state.config.library_name, title, &main), flash.is_some())
}
