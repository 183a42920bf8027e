//! `/sru` (and `/sru/{db}`: any database name answers the same, since Z39.50-era clients such
//! as yaz-client open `http://host:port/DB`): the SRU 1.2 and 2.0 server, GET with the
//! parameters in the query string or POST with them as a form. Public, like `/api/v1/search`.
//!
//! The protocol is the `sru` crate's; this edge only hands it the parameters and a
//! [`sru::Catalog`] over the search index (which finds and scans) and the database (which
//! holds the records), on a blocking thread. Every answer is `200 text/xml`, diagnostics
//! included, as SRU clients expect; a failing index or database is diagnostic 1 (or 2 when the
//! server runs without a search index).

use std::sync::Arc;

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use cql::{Diagnostic, DiagnosticKind};
use search::query::SearchField;
use search::structured::{Criterion, Found, ScanTerm};
use search::SearchIndex;
use storage::Database;

use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/sru", get(get_root).post(post_root)).route("/sru/{db}", get(get_named).post(post_named))
}

type Params = Vec<(String, String)>;

async fn get_root(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<Params>, QueryRejection>,
) -> Response {
    let params = query.map(|Query(p)| p).map_err(|e| e.body_text());
    answer(state, headers, "sru".to_string(), params).await
}

async fn post_root(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<Params>, FormRejection>,
) -> Response {
    let params = form.map(|Form(p)| p).map_err(|e| e.body_text());
    answer(state, headers, "sru".to_string(), params).await
}

async fn get_named(
    State(state): State<AppState>,
    Path(db): Path<String>,
    headers: HeaderMap,
    query: Result<Query<Params>, QueryRejection>,
) -> Response {
    let params = query.map(|Query(p)| p).map_err(|e| e.body_text());
    answer(state, headers, format!("sru/{db}"), params).await
}

async fn post_named(
    State(state): State<AppState>,
    Path(db): Path<String>,
    headers: HeaderMap,
    form: Result<Form<Params>, FormRejection>,
) -> Response {
    let params = form.map(|Form(p)| p).map_err(|e| e.body_text());
    answer(state, headers, format!("sru/{db}"), params).await
}

async fn answer(state: AppState, headers: HeaderMap, database: String, params: Result<Params, String>) -> Response {
    let params = match params {
        Ok(p) => p,
        Err(why) => {
            let d = Diagnostic::new(DiagnosticKind::UnsupportedParameterValue, format!("unreadable parameters: {why}"));
            return xml(sru::failure(&[], d));
        }
    };
    let (host, port) = host_and_port(&headers, &state);
    let info = sru::ServerInfo {
        host,
        port,
        database,
        title: state.config.library_name.clone(),
        description: format!("The catalog of {}", state.config.library_name),
        default_records: sru::Limits::default().default_records,
        max_records: sru::Limits::default().max_records,
    };
    let db = state.db.get().cloned();
    let index = state.search.clone();
    let result = tokio::task::spawn_blocking(move || {
        let index = index.as_ref().and_then(|s| s.get()).map(|s| s.index.clone());
        let (Some(index), Some(db)) = (index, db) else {
            let d = Diagnostic::new(
                DiagnosticKind::SystemTemporarilyUnavailable,
                "this server runs without a search index",
            );
            return sru::failure(&params, d);
        };
        let catalog = StoredCatalog { index, db };
        match sru::respond(&params, &sru::Limits::default(), &info, &catalog) {
            Ok(body) => body,
            Err(e) => {
                tracing::error!(error = %e, "SRU request failed");
                sru::failure(&params, Diagnostic::new(DiagnosticKind::GeneralSystemError, e.to_string()))
            }
        }
    })
    .await;
    match result {
        Ok(body) => xml(body),
        Err(e) => xml(sru::failure(&[], Diagnostic::new(DiagnosticKind::GeneralSystemError, e.to_string()))),
    }
}

fn xml(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
}

/// Where the client reached us (the `Host` header), for the explain record; the configured
/// address when the header is missing or unreadable.
fn host_and_port(headers: &HeaderMap, state: &AppState) -> (String, u16) {
    let fallback = (state.config.bind.ip().to_string(), state.config.bind.port());
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else { return fallback };
    match host.rsplit_once(':') {
        Some((name, port)) if !name.ends_with(']') || name.starts_with('[') => match port.parse() {
            Ok(port) => (name.to_string(), port),
            Err(_) => (host.to_string(), 80),
        },
        _ => (host.to_string(), 80),
    }
}

/// The search index finds and scans; the database holds the records it names.
struct StoredCatalog {
    index: Arc<SearchIndex>,
    db: Arc<dyn Database>,
}

#[derive(Debug, thiserror::Error)]
enum CatalogError {
    #[error(transparent)]
    Search(#[from] search::SearchError),
    #[error(transparent)]
    Storage(#[from] storage::StorageError),
    #[error("record {id} is stored but its MARC does not read: {reason}")]
    Unreadable { id: i64, reason: String },
}

impl sru::Catalog for StoredCatalog {
    type Error = CatalogError;

    fn find(&self, criterion: &Criterion, offset: usize, limit: usize) -> Result<Found, CatalogError> {
        Ok(self.index.find(criterion, offset, limit)?)
    }

    fn scan(&self, field: SearchField, from: &str, before: usize, count: usize) -> Result<Vec<ScanTerm>, CatalogError> {
        Ok(self.index.scan(field, from, before, count)?)
    }

    fn record(&self, id: i64) -> Result<Option<marc::Record>, CatalogError> {
        let Some(stored) = self.db.record(id)? else { return Ok(None) };
        marc::iso2709::read_one(&stored.marc)
            .map(Some)
            .map_err(|e| CatalogError::Unreadable { id, reason: e.to_string() })
    }
}
