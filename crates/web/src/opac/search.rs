//! `GET /search?q=&<facet>=&sort=&page=`: the catalog's search page. Every search is a plain GET
//! URL, so a result list can be bookmarked and shared; facet links add a filter to the current
//! URL and "remove" links take one away. A query that does not parse is searched as plain words
//! with a notice, and an odd parameter (an unknown sort, a page past the end) is read as its
//! default, so this page never answers with an error for what a person typed.

use super::page_response;
use crate::html::{layout, url_encode, Esc};
use crate::pages::language_label;
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use catalog::{Format, ItemStatus};
use search::{FacetFilter, FacetName, SearchRequest, SearchResults, Sort};
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;
use storage::{Database, ItemFilter, Page};

/// Results per page.
const PAGE_SIZE: usize = 20;
/// The deepest page served: past it, paging by offset costs more than anyone reads.
const MAX_PAGE: usize = 500;

const SORTS: [(Sort, &str, &str); 5] = [
    (Sort::Relevance, "relevance", "Relevance"),
    (Sort::Title, "title", "Title"),
    (Sort::Author, "author", "Author"),
    (Sort::DateNewest, "date", "Date, newest first"),
    (Sort::CallNumber, "call_number", "Call number"),
];

fn sort_name(sort: Sort) -> &'static str {
    match sort {
        Sort::DateOldest => "date_oldest",
        other => SORTS.iter().find(|(s, _, _)| *s == other).map_or("relevance", |(_, n, _)| n),
    }
}

/// What a search URL says.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SearchUrl {
    pub q: String,
    pub filters: Vec<(FacetName, String)>,
    pub sort: Sort,
    /// 1 first.
    pub page: usize,
}

impl SearchUrl {
    pub(crate) fn from_pairs(pairs: &[(String, String)]) -> SearchUrl {
        let mut url = SearchUrl { q: String::new(), filters: Vec::new(), sort: Sort::Relevance, page: 1 };
        for (name, value) in pairs {
            let value = value.trim();
            match name.as_str() {
                "q" => url.q = value.to_string(),
                "sort" => url.sort = Sort::parse(value).unwrap_or(Sort::Relevance),
                "page" => url.page = value.parse().unwrap_or(1).clamp(1, MAX_PAGE),
                other => {
                    if let (Some(facet), false) = (FacetName::parse(other), value.is_empty()) {
                        let pair = (facet, value.to_string());
                        if !url.filters.contains(&pair) {
                            url.filters.push(pair);
                        }
                    }
                }
            }
        }
        url
    }

    /// The URL of this search (page 1 is left out, as is the default sort).
    pub(crate) fn href(&self) -> String {
        let mut parts = vec![format!("q={}", url_encode(&self.q))];
        for (facet, value) in &self.filters {
            parts.push(format!("{}={}", facet.as_str(), url_encode(value)));
        }
        if self.sort != Sort::Relevance {
            parts.push(format!("sort={}", sort_name(self.sort)));
        }
        if self.page > 1 {
            parts.push(format!("page={}", self.page));
        }
        format!("/search?{}", parts.join("&"))
    }

    fn with_filter(&self, facet: FacetName, value: &str) -> SearchUrl {
        let mut next = SearchUrl { page: 1, ..self.clone() };
        if !next.filters.iter().any(|(f, v)| *f == facet && v == value) {
            next.filters.push((facet, value.to_string()));
        }
        next
    }

    fn without_filter(&self, i: usize) -> SearchUrl {
        let mut next = SearchUrl { page: 1, ..self.clone() };
        next.filters.remove(i);
        next
    }

    fn at_page(&self, page: usize) -> SearchUrl {
        SearchUrl { page, ..self.clone() }
    }

    fn request(&self) -> SearchRequest {
        let mut r = SearchRequest::new(self.q.clone());
        r.filters =
            self.filters.iter().map(|(facet, value)| FacetFilter { facet: *facet, value: value.clone() }).collect();
        r.sort = self.sort;
        r.offset = (self.page - 1) * PAGE_SIZE;
        r.limit = PAGE_SIZE;
        r.facet_limit = 10;
        r
    }
}

/// The search form of the home and results pages.
pub(crate) fn search_form(out: &mut String, q: &str) {
    let _ = write!(
        out,
        "<form role=\"search\" action=\"/search\" method=\"get\" aria-label=\"Search the catalog\">\n\
         <div><label for=\"q\">Search for</label><input id=\"q\" name=\"q\" type=\"search\" value=\"{}\"></div>\n\
         <div><button type=\"submit\">Search</button></div>\n</form>\n",
        Esc(q)
    );
}

/// The names the page shows for codes.
#[derive(Default)]
struct Names {
    branches: HashMap<String, String>,
    locations: HashMap<String, String>,
}

impl Names {
    fn branch<'a>(&'a self, code: &'a str) -> &'a str {
        self.branches.get(code).map_or(code, String::as_str)
    }
}

fn facet_heading(facet: FacetName) -> &'static str {
    match facet {
        FacetName::Format => "Format",
        FacetName::Availability => "On the shelf now at",
        FacetName::Branch => "Branch",
        FacetName::Location => "Shelving location",
        FacetName::Language => "Language",
        FacetName::Decade => "Decade",
        FacetName::Year => "Year",
        FacetName::Subject => "Subject",
        FacetName::Author => "Author",
        FacetName::Audience => "Audience",
    }
}

fn facet_label(names: &Names, facet: FacetName, value: &str) -> String {
    match facet {
        FacetName::Format => Format::ALL.iter().find(|f| f.as_str() == value).map_or(value, |f| f.label()).to_string(),
        FacetName::Availability | FacetName::Branch => names.branch(value).to_string(),
        FacetName::Location => names.locations.get(value).map_or(value, String::as_str).to_string(),
        FacetName::Language => language_label(value).to_string(),
        FacetName::Decade => format!("{value}s"),
        _ => value.to_string(),
    }
}

/// Where the copies of a record are: "Available at Main, Eastside", "All copies checked out",
/// "No copies".
fn availability(names: &Names, items: &[catalog::Item]) -> String {
    let live: Vec<&catalog::Item> = items.iter().filter(|i| i.item.status != ItemStatus::Withdrawn).collect();
    if live.is_empty() {
        return "No copies".to_string();
    }
    let on_shelf: BTreeSet<&str> = live
        .iter()
        .filter(|i| i.item.status == ItemStatus::Available)
        .map(|i| names.branch(i.item.holding_branch.as_str()))
        .collect();
    if !on_shelf.is_empty() {
        return format!("Available at {}", on_shelf.into_iter().collect::<Vec<_>>().join(", "));
    }
    if live.iter().all(|i| i.item.status == ItemStatus::CheckedOut) {
        "All copies checked out".to_string()
    } else {
        "No copy on the shelf just now".to_string()
    }
}

/// The copies of each hit's record, and the names of branches and locations.
fn page_context(db: &dyn Database, ids: &[i64]) -> Result<(Names, HashMap<i64, String>), crate::error::ApiError> {
    let names = Names {
        branches: db.branches()?.into_iter().map(|b| (b.code.to_string(), b.name)).collect(),
        locations: db.locations()?.into_iter().map(|l| (l.code.to_string(), l.name)).collect(),
    };
    // Every copy of the page's records in one query (a page at a time), grouped by record.
    let filter = ItemFilter { bib_ids: Some(ids.to_vec()), ..Default::default() };
    let mut by_record: HashMap<i64, Vec<catalog::Item>> = ids.iter().map(|&id| (id, Vec::new())).collect();
    let mut after = 0;
    loop {
        let page = db.items(&filter, Page { after, limit: 1000 })?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for item in page {
            by_record.entry(item.bib_id).or_default().push(item);
        }
    }
    let available = by_record.into_iter().map(|(id, items)| (id, availability(&names, &items))).collect();
    Ok((names, available))
}

fn results_list(out: &mut String, results: &SearchResults, available: &HashMap<i64, String>) {
    let _ = writeln!(out, "<ol class=\"results\" start=\"{}\">", 1);
    for hit in &results.hits {
        let title = if hit.title.is_empty() { "[no title]" } else { hit.title.as_str() };
        let _ = write!(
            out,
            "<li class=\"result\"><a class=\"title\" href=\"/records/{}\">{}</a>",
            hit.record_id,
            Esc(title)
        );
        if let Some(author) = &hit.author {
            let _ = write!(out, " <span class=\"author\">{}</span>", Esc(author));
        }
        if let Some(year) = hit.year {
            let _ = write!(out, " <span class=\"year\">{year}</span>");
        }
        let _ = write!(out, " <span class=\"format\">{}</span>", Esc(hit.format.label()));
        let here = available.get(&hit.record_id).map_or("No copies", String::as_str);
        let class = if here.starts_with("Available") { "availability available" } else { "availability" };
        let _ = writeln!(out, " <span class=\"{class}\">{}</span></li>", Esc(here));
    }
    out.push_str("</ol>\n");
}

fn facets_nav(out: &mut String, url: &SearchUrl, results: &SearchResults, names: &Names) {
    if url.filters.is_empty() && results.facets.is_empty() {
        return;
    }
    out.push_str("<nav aria-label=\"Refine results\" class=\"facets\">\n");
    if !url.filters.is_empty() {
        out.push_str("<section class=\"active-filters\"><h2>Showing only</h2><ul>\n");
        for (i, (facet, value)) in url.filters.iter().enumerate() {
            let label = format!("{}: {}", facet_heading(*facet), facet_label(names, *facet, value));
            let _ = writeln!(
                out,
                "<li>{} <a class=\"remove-filter\" href=\"{}\" aria-label=\"Remove {}\">remove</a></li>",
                Esc(&label),
                Esc(&url.without_filter(i).href()),
                Esc(&label)
            );
        }
        out.push_str("</ul></section>\n");
    }
    for counts in &results.facets {
        let facet = counts.facet;
        let _ = writeln!(
            out,
            "<section class=\"facet\" data-facet=\"{}\"><h2>{}</h2><ul>",
            facet.as_str(),
            facet_heading(facet)
        );
        for v in &counts.values {
            let _ = writeln!(
                out,
                "<li><a class=\"facet-value\" href=\"{}\">{} <span class=\"count\">({})</span></a></li>",
                Esc(&url.with_filter(facet, &v.value).href()),
                Esc(&facet_label(names, facet, &v.value)),
                v.count
            );
        }
        out.push_str("</ul></section>\n");
    }
    out.push_str("</nav>\n");
}

fn sort_form(out: &mut String, url: &SearchUrl) {
    out.push_str("<form class=\"sort\" action=\"/search\" method=\"get\">\n");
    let _ = writeln!(out, "<input type=\"hidden\" name=\"q\" value=\"{}\">", Esc(&url.q));
    for (facet, value) in &url.filters {
        let _ = writeln!(out, "<input type=\"hidden\" name=\"{}\" value=\"{}\">", facet.as_str(), Esc(value));
    }
    out.push_str("<div><label for=\"sort\">Sort by</label><select id=\"sort\" name=\"sort\">");
    for (sort, name, label) in SORTS {
        let selected = if sort == url.sort { " selected" } else { "" };
        let _ = write!(out, "<option value=\"{name}\"{selected}>{label}</option>");
    }
    out.push_str("</select></div>\n<div><button type=\"submit\">Sort</button></div>\n</form>\n");
}

fn pages_nav(out: &mut String, url: &SearchUrl, total: usize) {
    let pages = total.div_ceil(PAGE_SIZE).clamp(1, MAX_PAGE);
    if pages <= 1 && url.page == 1 {
        return;
    }
    out.push_str("<nav aria-label=\"Pages\" class=\"pages\"><ul>\n");
    if url.page > 1 {
        let _ = writeln!(
            out,
            "<li><a rel=\"prev\" href=\"{}\">Previous page</a></li>",
            Esc(&url.at_page(url.page - 1).href())
        );
    }
    let _ = writeln!(out, "<li aria-current=\"page\">Page {} of {pages}</li>", url.page);
    if url.page < pages {
        let _ =
            writeln!(out, "<li><a rel=\"next\" href=\"{}\">Next page</a></li>", Esc(&url.at_page(url.page + 1).href()));
    }
    out.push_str("</ul></nav>\n");
}

/// `GET /search`.
pub(super) async fn search_page(
    State(state): State<AppState>,
    _headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Response {
    // A query string that does not even decode is read as an empty search.
    let pairs = query.map(|Query(p)| p).unwrap_or_default();
    let url = SearchUrl::from_pairs(&pairs);
    let Some(engine) = state.search.clone() else {
        let e = crate::error::ApiError::new(crate::error::ErrorCode::Unavailable, "This catalog has no search index.");
        return crate::pages::error_page(&state, e);
    };
    let request = url.request();
    let found = tokio::task::spawn_blocking(move || match engine.get() {
        Some(engine) => {
            let results = engine.index.search(&request)?;
            let suggestion = if results.total == 0 && !request.query.trim().is_empty() {
                engine.index.did_you_mean(&request.query)?
            } else {
                None
            };
            Ok((results, suggestion))
        }
        None => Err(search::SearchError::Closed),
    })
    .await;
    let (results, suggestion) = match found {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return crate::pages::error_page(&state, crate::error::ApiError::internal(e)),
        Err(e) => return crate::pages::error_page(&state, crate::error::ApiError::internal(e)),
    };
    let ids: Vec<i64> = results.hits.iter().map(|h| h.record_id).collect();
    let (names, available) = match state.db(move |db| page_context(db, &ids)).await {
        Ok(v) => v,
        Err(e) => return crate::pages::error_page(&state, e),
    };

    let mut main = String::new();
    let count = match results.total {
        0 => "No results".to_string(),
        1 => "1 result".to_string(),
        n => format!("{n} results"),
    };
    if url.q.is_empty() {
        let _ = writeln!(main, "<h1>{count} in the catalog</h1>");
    } else {
        let _ = writeln!(main, "<h1>{count} for “{}”</h1>", Esc(&url.q));
    }
    search_form(&mut main, &url.q);
    if let Some(message) = &results.message {
        let _ = writeln!(main, "<p class=\"notice\" role=\"status\">{}</p>", Esc(message));
    }
    if let Some(words) = &suggestion {
        let _ = writeln!(
            main,
            "<p class=\"did-you-mean\">Did you mean <a href=\"/search?q={}\">{}</a>?</p>",
            Esc(&url_encode(words)),
            Esc(words)
        );
    }
    main.push_str("<div class=\"search-layout\">\n");
    facets_nav(&mut main, &url, &results, &names);
    main.push_str("<section class=\"result-list\" aria-label=\"Results\">\n");
    if !results.hits.is_empty() {
        sort_form(&mut main, &url);
        let first = (url.page - 1) * PAGE_SIZE + 1;
        let _ = writeln!(
            main,
            "<p class=\"muted\">Showing {first} to {} of {}.</p>",
            first + results.hits.len() - 1,
            results.total
        );
        results_list(&mut main, &results, &available);
    } else if results.total > 0 {
        let _ = writeln!(
            main,
            "<p>There are no more results. <a href=\"{}\">Back to the first page</a>.</p>",
            Esc(&url.at_page(1).href())
        );
    } else {
        main.push_str("<p>Nothing in the catalog matches. Try fewer or other words, or remove a filter.</p>\n");
    }
    pages_nav(&mut main, &url, results.total);
    main.push_str("</section>\n</div>\n");
    let title = if url.q.is_empty() { "Search".to_string() } else { format!("Search: {}", url.q) };
    page_response(layout(&state.config.library_name, &title, &main), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_search_url_round_trips() {
        let url = SearchUrl::from_pairs(&pairs(&[
            ("q", "history of england"),
            ("format", "book"),
            ("subject", "Cats -- Fiction, comic"),
            ("sort", "title"),
            ("page", "3"),
        ]));
        assert_eq!(
            url.filters,
            vec![(FacetName::Format, "book".into()), (FacetName::Subject, "Cats -- Fiction, comic".into())]
        );
        assert_eq!(
            url.href(),
            "/search?q=history%20of%20england&format=book&subject=Cats%20--%20Fiction%2C%20comic&sort=title&page=3"
        );
        let again: Vec<(String, String)> = url.href()["/search?".len()..]
            .split('&')
            .map(|kv| {
                let (k, v) = kv.split_once('=').expect("pair");
                (k.to_string(), super::super::url_decode(v).expect("decodes"))
            })
            .collect();
        assert_eq!(SearchUrl::from_pairs(&again), url);
    }

    #[test]
    fn odd_parameters_fall_back_to_defaults() {
        let url = SearchUrl::from_pairs(&pairs(&[
            ("q", "x"),
            ("sort", "sideways"),
            ("page", "-2"),
            ("colour", "red"),
            ("format", ""),
        ]));
        assert_eq!((url.sort, url.page, url.filters.len()), (Sort::Relevance, 1, 0));
        assert_eq!(SearchUrl::from_pairs(&pairs(&[("page", "999999")])).page, MAX_PAGE);
    }

    #[test]
    fn facet_links_add_and_remove_links_take_away_and_both_restart_at_page_one() {
        let url = SearchUrl::from_pairs(&pairs(&[("q", "x"), ("format", "book"), ("page", "2")]));
        let added = url.with_filter(FacetName::Language, "eng");
        assert_eq!(added.href(), "/search?q=x&format=book&language=eng");
        assert_eq!(added.without_filter(0).href(), "/search?q=x&language=eng");
        assert_eq!(url.with_filter(FacetName::Format, "book").filters.len(), 1);
    }
}
