//! The HTTP edge: the JSON API under `/api/v1`, `/health`, and server-rendered HTML pages.
//!
//! API boundary: this crate translates HTTP to storage and catalog calls and back; it holds no
//! library logic of its own. Wire types (the JSON bodies) are built here, separate from the
//! domain types. Storage is synchronous, so every database call runs in
//! [`tokio::task::spawn_blocking`] and never blocks the async workers.
//!
//! Routes:
//!
//! | route | methods |
//! | --- | --- |
//! | `/health` | GET |
//! | `/api/v1/branches`, `/api/v1/branches/{code}` | GET, POST / GET, PUT, DELETE |
//! | `/api/v1/locations`, `/api/v1/locations/{code}` | GET / PUT |
//! | `/api/v1/item-types`, `/api/v1/item-types/{code}` | GET / PUT |
//! | `/api/v1/records`, `/api/v1/records/{id}` | GET, POST / GET, PUT, DELETE |
//! | `/api/v1/records/{id}/items` | GET, POST |
//! | `/api/v1/items`, `/api/v1/items/{id}` | GET, POST / GET, PUT, DELETE |
//! | `/api/v1/shelf-list` | GET (items of a branch in shelf order) |
//! | `/api/v1/labels` | POST (a PDF sheet of spine or barcode labels) |
//! | `/api/v1/checkouts`, `/api/v1/checkins`, `/api/v1/renewals` | POST |
//! | `/api/v1/patrons/{card}/loans` | GET |
//! | `/api/v1/circulation/rule` | GET (which rule applies and why) |
//! | `/api/v1/search` | GET (the catalog's full-text search with facets) |
//! | `/api/v1/inventories`, `/api/v1/inventories/{id}` | POST / GET |
//! | `/api/v1/inventories/{id}/scans`, `/api/v1/inventories/{id}/report` | POST / GET |
//! | `/api/v1/openapi.json` | GET (this table, as OpenAPI 3.1) |
//! | `/api/v1/session` | POST (log in), GET (who am I), DELETE (log out) |
//! | `/api/v1/staff`, `/api/v1/staff/{login}` | GET, POST / GET, PUT |
//! | `/api/v1/staff/{login}/password` | PUT |
//! | `/api/v1/staff/{login}/tokens`, `/api/v1/staff/{login}/tokens/{id}` | GET, POST / DELETE |
//! | `/api/v1/audit` | GET (the audit log of staff actions) |
//! | `/`, `/records`, `/records/{id}` | GET (HTML) |
//! | `/search`, `/login`, `/account` | GET (HTML: the OPAC's search page, patron log-in, my account) |
//! | `/login`, `/logout`, `/records/{id}/hold`, `/account/...` | POST (HTML forms of the OPAC; see `opac`) |
//! | `/sru`, `/sru/{db}` | GET, POST (SRU 1.2 and 2.0: explain, searchRetrieve, scan; public) |
//! | `/oai` | GET, POST (OAI-PMH 2.0, public) |
//! | `/api/v1/copycat/targets`, `/api/v1/copycat/search` | GET (copy-cataloging targets; search them) |
//! | `/api/v1/copycat/import` | POST (import a found record through the import path) |
//! | `/staff/cataloging/copy`, `/staff/cataloging/copy/import` | GET / POST (the copy-cataloging screen, HTML) |
//! | `/staff`, `/staff/login`, `/staff/logout`, `/staff/desk...`, `/staff/checkin...` | the staff client (HTML; see `staff/`) |
//!
//! Which routes need a login and which permission each needs: see `auth.rs`.

mod api;
pub use api::labels;
mod auth;
pub mod error;
mod html;
mod marcio;
mod oai;
mod opac;
mod openapi;
mod pages;
mod sru;
mod staff;

use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use storage::Database;

pub use error::{ApiError, ErrorCode};
pub use oai::OaiConfig;

/// The server's settings, read by the binary from the `[web]` table of its TOML file and from
/// the environment. Every member has a default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebConfig {
    /// Shown in the page header and titles.
    pub library_name: String,
    /// Where `shelfmark serve` listens; the router itself does not use it.
    pub bind: SocketAddr,
    /// Page size of list endpoints when the request gives no `limit`.
    pub default_page_size: u32,
    /// The largest `limit` a list endpoint accepts.
    pub max_page_size: u32,
    /// How many of the newest records the home page shows.
    pub latest_records: usize,
    /// How long a staff session lasts after log-in, in minutes.
    pub session_minutes: u32,
    /// How long a patron's OPAC session lasts without use, in minutes.
    pub patron_session_minutes: u32,
    /// The OAI-PMH provider at `/oai` (`[oai]`).
    pub oai: OaiConfig,
    /// Copy-cataloging targets (`[[copycat.targets]]`), checked when the router is built.
    pub copycat: copycat::CopycatSettings,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            library_name: "Shelfmark Library".to_string(),
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            default_page_size: 50,
            max_page_size: 500,
            latest_records: 10,
            session_minutes: 12 * 60,
            patron_session_minutes: 30,
            oai: OaiConfig::default(),
            copycat: copycat::CopycatSettings::default(),
        }
    }
}

/// Something the server holds that must not be dropped on a tokio worker: the PostgreSQL client
/// blocks on its own small runtime, and doing that on a worker panics. When the server stops,
/// the value is dropped on a plain thread instead.
pub(crate) struct OffRuntime<T: Send + 'static>(Option<T>);

impl<T: Send + 'static> OffRuntime<T> {
    fn new(value: T) -> Self {
        OffRuntime(Some(value))
    }

    fn get(&self) -> Option<&T> {
        self.0.as_ref()
    }
}

impl<T: Send + 'static> Drop for OffRuntime<T> {
    fn drop(&mut self) {
        if let Some(value) = self.0.take() {
            let _ = std::thread::spawn(move || drop(value)).join();
        }
    }
}

/// The catalog's search index and the follower that keeps it in step with the database.
pub struct Search {
    pub index: Arc<search::SearchIndex>,
    pub follower: search::Follower,
    pub handle: search::FollowerHandle,
}

impl Search {
    /// Opens (or creates) the index in `dir` and starts following the database's change feed,
    /// polling every quarter second so that a change is searchable within a second.
    pub fn start(
        dir: &std::path::Path,
        db: Arc<dyn Database>,
        settings: search::IndexSettings,
    ) -> Result<Search, search::SearchError> {
        let index = Arc::new(search::SearchIndex::open(dir, settings)?);
        let follower = search::Follower::new(index.clone(), db);
        let handle = follower.clone().spawn(std::time::Duration::from_millis(250))?;
        Ok(Search { index, follower, handle })
    }
}

#[derive(Clone)]
pub(crate) struct AppState {
    pub db: Arc<OffRuntime<Arc<dyn Database>>>,
    pub config: Arc<WebConfig>,
    /// Checkout, check-in and renewal, with the library's circulation settings.
    pub desk: Arc<desk::Desk>,
    /// `None` serves without search (`/api/v1/search` answers 503).
    pub search: Option<Arc<OffRuntime<Search>>>,
    /// The `[notices]` settings the daily jobs run with (`POST /jobs/{name}/run`).
    pub notices: Arc<jobs::Notices>,
    /// The key OAI-PMH resumption tokens are signed with, read from the database on first use.
    pub oai_key: Arc<std::sync::OnceLock<Vec<u8>>>,
    /// The copy-cataloging targets, or why the settings are unusable (the binary checks them at
    /// start-up, so this is an error only for a router built with unchecked settings).
    pub copycat: Arc<Result<copycat::Targets, String>>,
    /// The staff forms already sent, so that a double-click acts once (`staff::once`).
    pub submissions: Arc<staff::once::Submissions>,
}

impl AppState {
    pub fn backend(&self) -> &'static str {
        self.db.get().map_or("closed", |db| db.backend())
    }

    /// Runs `f` against the database on the blocking pool.
    pub async fn db<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Database) -> Result<T, ApiError> + Send + 'static,
    {
        let db = self.db.get().cloned().ok_or_else(|| ApiError::internal("the database handle is closed"))?;
        let audit = auth::PENDING_AUDIT.try_with(Arc::clone).ok();
        tokio::task::spawn_blocking(move || match audit {
            Some(audit) => audit.run(|| f(&*db)),
            None => f(&*db),
        })
        .await
        .map_err(ApiError::internal)?
    }
}

/// The whole application: API, health check and pages, with the desk's circulation settings.
pub fn router(db: Arc<dyn Database>, config: WebConfig, desk: desk::Desk, search: Option<Search>) -> Router {
    // The default notice settings always build: they name no SMTP server.
    let notices = jobs::NoticeSettings::default().build(&config.library_name).expect("default notice settings");
    router_with_notices(db, config, desk, search, notices)
}

/// [`router`] with the library's `[notices]` settings (SMTP, schedule) for the jobs it runs.
pub fn router_with_notices(
    db: Arc<dyn Database>,
    config: WebConfig,
    desk: desk::Desk,
    search: Option<Search>,
    notices: jobs::Notices,
) -> Router {
    let copycat = Arc::new(config.copycat.build().map_err(|e| e.to_string()));
    let state = AppState {
        copycat,
        notices: Arc::new(notices),
        db: Arc::new(OffRuntime::new(db)),
        config: Arc::new(config),
        desk: Arc::new(desk),
        search: search.map(|s| Arc::new(OffRuntime::new(s))),
        oai_key: Arc::default(),
        submissions: Arc::default(),
    };
    let authenticate = axum::middleware::from_fn_with_state(state.clone(), auth::authenticate);
    Router::new()
        .route("/health", get(api::health))
        .route("/oai", get(oai::get).post(oai::post))
        .merge(staff::routes().route_layer(authenticate.clone()))
        .nest("/api/v1", api::routes().route_layer(authenticate))
        .merge(pages::routes())
        .merge(opac::routes())
        .merge(sru::routes())
        .fallback(pages::not_found)
        .with_state(state)
}

/// Serves `router` on an already bound listener until the process ends. Binding first lets
/// tests use `127.0.0.1:0` and read the port before any request is made.
pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
    axum::serve(listener, router).await
}

/// Like [`serve`], stopping gracefully (finishing requests in flight) when `shutdown` completes.
pub async fn serve_with_shutdown<F>(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_reads_partial_toml_like_values() {
        let c: WebConfig =
            serde_json::from_value(serde_json::json!({"library_name": "Riverton Public Library"})).expect("config");
        assert_eq!(c.library_name, "Riverton Public Library");
        assert_eq!(c.bind, SocketAddr::from(([127, 0, 0, 1], 8080)));
        let bad = serde_json::from_value::<WebConfig>(serde_json::json!({"libary_name": "x"}));
        assert!(bad.is_err());
    }
}
