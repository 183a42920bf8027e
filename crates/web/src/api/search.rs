//! `GET /search`: the catalog's full-text search, as the OPAC and the staff client call it.

use super::Params;
use crate::error::{ApiError, ErrorCode};
use crate::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use search::{FacetFilter, FacetName, SearchRequest, Sort};
use serde_json::{json, Value};

/// `GET /search?q=&sort=&offset=&limit=&<facet>=value[,value]`: hits, facet counts, and a
/// message when the query had to be read as plain words.
pub(crate) async fn search(
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Some(engine) = state.search.clone() else {
        return Err(ApiError::new(ErrorCode::Unavailable, "this server runs without a search index"));
    };
    let mut params = Params::new(query)?;
    let mut request = SearchRequest::new(params.take("q")?.unwrap_or_default());
    if let Some(sort) = params.take("sort")? {
        request.sort = Sort::parse(&sort).ok_or_else(|| {
            ApiError::field(
                ErrorCode::InvalidParameter,
                "sort",
                format!("sort {sort:?} is one of relevance, title, author, date, date_oldest, call_number"),
            )
        })?;
    }
    request.offset = params.number::<usize>("offset")?.unwrap_or(0);
    let max = state.config.max_page_size.max(1) as usize;
    request.limit = params.number::<usize>("limit")?.unwrap_or(20);
    if request.limit == 0 || request.limit > max {
        return Err(ApiError::field(
            ErrorCode::InvalidParameter,
            "limit",
            format!("limit must be between 1 and {max}"),
        ));
    }
    // Each facet filters as a query parameter of its name (`format=book,large_print`).
    for facet in FacetName::ALL {
        if let Some(values) = params.take(facet.as_str())? {
            for value in values.split(',').map(str::trim).filter(|v| !v.is_empty()) {
                request.filters.push(FacetFilter { facet, value: value.to_string() });
            }
        }
    }
    params.finish()?;
    let results = tokio::task::spawn_blocking(move || match engine.get() {
        Some(engine) => engine.index.search(&request),
        None => Err(search::SearchError::Closed),
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    let body = serde_json::to_value(&results).map_err(ApiError::internal)?;
    Ok(Json(json!({ "results": body })))
}
