//! Who is making a request, and whether they may.
//!
//! A request proves who it is with `Authorization: Bearer <token>` (a session token from
//! `POST /api/v1/session`, or an API token from `POST /api/v1/staff/{login}/tokens`) or with the
//! `shelfmark_session` cookie (HttpOnly, SameSite=Strict) that the log-in sets for browsers. The
//! [`authenticate`] middleware resolves it once per API request; every staff endpoint takes an
//! [`Acting`] (no credentials: 401 `unauthenticated`) and calls [`Acting::require`] (or
//! [`Acting::require_at`] when the action happens at a branch) before anything else:
//!
//! ```ignore
//! async fn pay(State(state): State<AppState>, acting: Acting, body: Bytes) -> Result<Response, ApiError> {
//!     acting.require(Permission::HandleMoney)?;
//!     ...
//! }
//! ```
//!
//! **Public, without a login**, because the OPAC and anyone browsing the catalog need them and
//! they show nothing about patrons or staff: `/health`, the HTML pages, `GET /api/v1/records`
//! and `/records/{id}`, `GET /api/v1/search`, `GET /api/v1/branches` and `/branches/{code}`, and
//! `GET /api/v1/locations` and `/item-types` (the names a catalog display shows next to a copy),
//! and `POST /api/v1/session` (the log-in itself). Every other endpoint needs a staff member:
//! items (prices, staff notes) and the circulation rule with any login; the rest with the
//! permission its handler names.
//!
//! The [`authenticate`] middleware also writes the audit log: one entry for every request other
//! than GET by a signed-in staff member that changed something (login, method, route template,
//! time). The entry commits in the same transaction as the change, through
//! [`storage::staff::audited`] (see [`PENDING_AUDIT`]), so the log is exact even if the process
//! dies and a checkout costs one commit; a successful request that changed nothing in the
//! database (sending notices by mail) is logged after it, with its status. The route template,
//! not the URL, so that the log never records a barcode or card and so never what a patron
//! borrowed.

use crate::error::{ApiError, ErrorCode};
use crate::AppState;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::Response;
use catalog::Code;
use circulation::{Permission, Staff};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use storage::staff::{Credential, NewAuditEntry, StaffAccount};

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "shelfmark_session";

/// The staff member a request acts as.
#[derive(Debug, Clone)]
pub(crate) struct Acting {
    pub staff: Staff,
    /// The login name, for the override log and the audit log.
    pub name: String,
    pub account: accounts::Account,
    pub credential: Credential,
    /// The SHA-256 of the credential the request came with (log-out ends that session).
    pub token_hash: String,
}

/// What the middleware found, for the extractor.
#[derive(Debug, Clone)]
enum Resolved {
    Staff(Box<Acting>),
    /// Credentials came but match no live session or token.
    Rejected,
}

impl Acting {
    fn from_account(account: &StaffAccount, credential: Credential, token_hash: String) -> Acting {
        let roles = account.roles.iter().filter_map(|r| accounts::Role::parse(r).ok()).collect();
        let account = accounts::Account {
            id: account.id,
            login: account.login.clone(),
            name: account.name.clone(),
            roles,
            branches: account.branches.iter().cloned().collect(),
            active: account.active,
        };
        Acting { staff: account.staff(), name: account.login.clone(), account, credential, token_hash }
    }

    /// `Forbidden` unless the staff member has `permission`.
    pub fn require(&self, permission: Permission) -> Result<&Acting, ApiError> {
        if self.staff.may(permission) {
            Ok(self)
        } else {
            Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("this needs the {} permission, which {} does not have", permission.as_str(), self.name),
            ))
        }
    }

    /// `Forbidden` unless the staff member has one of `permissions`.
    pub fn require_any(&self, permissions: &[Permission]) -> Result<&Acting, ApiError> {
        if permissions.iter().any(|p| self.staff.may(*p)) {
            return Ok(self);
        }
        let names: Vec<&str> = permissions.iter().map(|p| p.as_str()).collect();
        Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("this needs the {} permission, which {} does not have", names.join(" or "), self.name),
        ))
    }

    /// [`Acting::require`], and `Forbidden` when the account is limited to other branches.
    pub fn require_at(&self, permission: Permission, branch: &Code) -> Result<&Acting, ApiError> {
        self.require(permission)?;
        if self.account.may_act_at(branch) {
            Ok(self)
        } else {
            let allowed: Vec<&str> = self.account.branches.iter().map(|b| b.as_str()).collect();
            Err(ApiError::field(
                ErrorCode::Forbidden,
                "branch",
                format!("{} may act only at {}, not at {}", self.name, allowed.join(", "), branch.as_str()),
            ))
        }
    }

    /// Whether this is the staff member `login` (people may manage their own password and tokens).
    pub fn is(&self, login: &str) -> bool {
        self.name == login
    }
}

impl FromRequestParts<AppState> for Acting {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let resolved = match parts.extensions.get::<Resolved>() {
            Some(r) => Some(r.clone()),
            // A route outside the middleware: resolve here.
            None => resolve(state, &parts.headers).await?,
        };
        match resolved {
            Some(Resolved::Staff(acting)) => Ok(*acting),
            Some(Resolved::Rejected) => Err(ApiError::new(
                ErrorCode::Unauthenticated,
                "the session has ended or the token is not valid; sign in again",
            )),
            None => Err(ApiError::new(
                ErrorCode::Unauthenticated,
                "sign in first: this needs a staff session or an API token",
            )),
        }
    }
}

/// The token a request carries: the `Authorization` bearer token, else the session cookie.
pub(crate) fn request_token(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let v = v.trim();
        if let Some((scheme, token)) = v.split_once(' ') {
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() {
                return Some(token.trim().to_string());
            }
        }
    }
    cookie(headers, SESSION_COOKIE).map(str::to_string)
}

/// The value of cookie `name` in the request, when it has one.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, v)| *n == name && !v.is_empty())
        .map(|(_, v)| v)
}

async fn resolve(state: &AppState, headers: &HeaderMap) -> Result<Option<Resolved>, ApiError> {
    let Some(token) = request_token(headers) else { return Ok(None) };
    let hash = accounts::token_hash(&token);
    state
        .db(move |db| {
            Ok(Some(match db.authenticate(&hash, chrono::Utc::now())? {
                Some(a) => Resolved::Staff(Box::new(Acting::from_account(&a.account, a.credential, hash))),
                None => Resolved::Rejected,
            }))
        })
        .await
}

/// Resolves the request's credentials for [`Acting`], runs the request, and audits it.
pub(crate) async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let resolved = match resolve(&state, request.headers()).await {
        Ok(r) => r,
        Err(e) => return axum::response::IntoResponse::into_response(e),
    };
    let login = match &resolved {
        Some(Resolved::Staff(a)) => Some(a.name.clone()),
        _ => None,
    };
    if let Some(r) = resolved {
        request.extensions_mut().insert(r);
    }
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| request.uri().path().to_string());
    // Log-ins and log-outs are audited by their handler, with more to say.
    let audited = method != Method::GET && method != Method::HEAD && !route.ends_with("/session");
    let Some(login) = login.filter(|_| audited) else { return next.run(request).await };
    let audit = Arc::new(PendingAudit {
        entry: NewAuditEntry {
            staff: Some(login),
            action: "request".to_string(),
            target: format!("{method} {route}"),
            details: "committed with the change".to_string(),
        },
        written: AtomicBool::new(false),
    });
    let response = PENDING_AUDIT.scope(audit.clone(), next.run(request)).await;
    if response.status().is_success() && !audit.written.load(Ordering::Acquire) {
        let entry = NewAuditEntry { details: format!("status {}", response.status().as_u16()), ..audit.entry.clone() };
        // The action is done; a failure to audit it is logged, not turned into an error the
        // desk would take to mean the action did not happen.
        if let Err(e) = state.db(move |db| Ok(db.append_audit(&entry, chrono::Utc::now())?)).await {
            tracing::error!("could not write the audit log: {e}");
        }
    }
    response
}

tokio::task_local! {
    /// The audit entry of the staff request this task serves: [`crate::AppState::db`] hands it
    /// to storage, which appends it inside the first write transaction that changes anything.
    pub(crate) static PENDING_AUDIT: Arc<PendingAudit>;
}

pub(crate) struct PendingAudit {
    entry: NewAuditEntry,
    written: AtomicBool,
}

impl PendingAudit {
    /// Runs `f` (on the blocking pool) with the entry waiting for its write transaction, once:
    /// after it has committed, later calls of the same request append nothing.
    pub(crate) fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        if self.written.load(Ordering::Acquire) {
            return f();
        }
        let (value, written) = storage::staff::audited(self.entry.clone(), f);
        if written {
            self.written.store(true, Ordering::Release);
        }
        value
    }
}
