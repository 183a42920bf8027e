//! The JSON API under `/api/v1`, and the request parsing every endpoint shares: query parameters
//! and JSON bodies are read by hand (not by serde derive) so that every refusal names its field.

pub(crate) mod circulation;
pub(crate) mod closures;
pub(crate) mod copycat;
mod holds;
pub(crate) mod items;
pub mod labels;
pub(crate) mod ledger;
pub(crate) mod notices;
pub(crate) mod org;
pub(crate) mod patrons;
pub(crate) mod records;
mod search;
mod shelf;
pub(crate) mod staff;

use crate::error::{ApiError, ErrorCode};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use catalog::Code;
use serde_json::{json, Map, Value};
use storage::Page;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/branches", get(org::list_branches).post(org::create_branch))
        .route("/branches/{code}", get(org::get_branch).put(org::put_branch).delete(org::delete_branch))
        .route("/locations", get(org::list_locations))
        .route("/locations/{code}", axum::routing::put(org::put_location))
        .route("/item-types", get(org::list_item_types))
        .route("/item-types/{code}", axum::routing::put(org::put_item_type))
        .route("/records", get(records::list).post(records::create))
        .route("/records/{id}", get(records::get_one).put(records::update).delete(records::delete))
        .route("/records/{id}/items", get(items::list_for_record).post(items::create_for_record))
        .route("/items", get(items::list).post(items::create))
        .route("/items/{id}", get(items::get_one).put(items::update).delete(items::delete))
        .route("/shelf-list", get(shelf::shelf_list))
        .route("/labels", axum::routing::post(labels::print))
        .route("/checkouts", axum::routing::post(circulation::checkout))
        .route("/checkins", axum::routing::post(circulation::check_in))
        .route("/renewals", axum::routing::post(circulation::renew))
        .route("/patrons/{card}/loans", get(circulation::loans))
        .route("/patrons", get(patrons::find).post(patrons::register))
        .route("/patrons/import", axum::routing::post(patrons::import_csv))
        .route("/patrons/{card}", get(patrons::get_one).put(patrons::update))
        .route("/patrons/{card}/renewal", axum::routing::post(patrons::renew))
        .route("/patrons/{card}/replacement", axum::routing::post(patrons::replace))
        .route("/patrons/{card}/blocks", get(patrons::blocks).post(patrons::add_block))
        .route("/patrons/{card}/blocks/{id}", axum::routing::delete(patrons::lift_block))
        .route("/patrons/{card}/history", get(patrons::history))
        .route("/patrons/{card}/password", axum::routing::put(patrons::set_password))
        .route("/circulation/rule", get(circulation::explain_rule))
        .route("/holds", axum::routing::post(holds::place))
        .route("/holds/{id}", axum::routing::patch(holds::change).delete(holds::cancel))
        .route("/records/{id}/holds", get(holds::for_record))
        .route("/patrons/{card}/holds", get(holds::for_patron))
        .route("/branches/{code}/pull-list", get(holds::pull_list))
        .route("/closures", get(closures::list).post(closures::declare))
        .route("/search", get(search::search))
        .route("/inventories", axum::routing::post(shelf::start_inventory))
        .route("/inventories/{id}", get(shelf::get_inventory))
        .route("/inventories/{id}/scans", axum::routing::post(shelf::add_scans))
        .route("/inventories/{id}/report", get(shelf::report))
        .route("/openapi.json", get(openapi))
        // Ledger: the patron's account, claims returned, inspections and repairs.
        .route("/patrons/{card}/account", get(ledger::account))
        .route("/patrons/{card}/charges", axum::routing::post(ledger::charge))
        .route("/patrons/{card}/payments", axum::routing::post(ledger::pay))
        .route("/patrons/{card}/waivers", axum::routing::post(ledger::waive))
        .route("/patrons/{card}/write-offs", axum::routing::post(ledger::write_off))
        .route("/patrons/{card}/refunds", axum::routing::post(ledger::refund))
        .route("/patrons/{card}/payouts", axum::routing::post(ledger::payout))
        .route("/claims-returned", axum::routing::post(ledger::claims_returned))
        .route("/inspections", axum::routing::post(ledger::inspect))
        .route("/branches/{code}/repairs", get(ledger::repairs))
        .route("/items/{id}/repaired", axum::routing::post(ledger::repaired))
        .route("/session", get(staff::who_am_i).post(staff::log_in).delete(staff::log_out))
        .route("/staff", get(staff::list).post(staff::create))
        .route("/staff/{login}", get(staff::get_one).put(staff::update))
        .route("/staff/{login}/password", axum::routing::put(staff::set_password))
        .route("/staff/{login}/tokens", get(staff::list_tokens).post(staff::create_token))
        .route("/staff/{login}/tokens/{id}", axum::routing::delete(staff::revoke_token))
        .route("/audit", get(staff::audit_log))
        .route("/overrides", get(staff::override_log))
        .route("/notice-templates", get(notices::list_templates))
        .route("/notice-templates/{kind}", get(notices::get_template).put(notices::put_template))
        .route("/notices", get(notices::log))
        .route("/notices/print", get(notices::print_batch))
        .route("/jobs/{name}/run", axum::routing::post(notices::run_job))
        .route("/copycat/targets", get(copycat::targets))
        .route("/copycat/search", get(copycat::search))
        .route("/copycat/import", axum::routing::post(copycat::import))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

/// `GET /api/v1/openapi.json`: the API described in OpenAPI 3.1.
async fn openapi() -> Json<Value> {
    Json(crate::openapi::document())
}

async fn route_not_found() -> ApiError {
    ApiError::new(ErrorCode::RouteNotFound, "no such API route; the API lives under /api/v1")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed, "this route does not accept that method")
}

/// `GET /health`: status, backend, counts and version. 503 when the database does not answer.
pub(crate) async fn health(State(state): State<AppState>) -> Response {
    let backend = state.backend();
    let counts = state.db(|db| Ok((db.count_records()?, db.count_items()?))).await;
    let search = match &state.search {
        None => json!(null),
        Some(s) => {
            let s = s.clone();
            let lag = tokio::task::spawn_blocking(move || {
                s.get().map(|s| (s.follower.lag(), s.handle.last_error(), s.index.generation()))
            })
            .await;
            match lag {
                Ok(Some((Ok(lag), error, generation))) => json!({
                    "lag": lag.pending, "lag_outside_imports": lag.pending_outside_imports,
                    "applied": lag.applied, "database": lag.database,
                    "generation": generation, "error": error,
                }),
                Ok(Some((Err(e), _, _))) => json!({"error": e.to_string()}),
                Ok(None) => json!({"error": "the search index is closed"}),
                Err(e) => json!({"error": e.to_string()}),
            }
        }
    };
    let version = env!("CARGO_PKG_VERSION");
    match counts {
        Ok((records, items)) => Json(json!({
            "status": "ok",
            "backend": backend,
            "records": records,
            "items": items,
            "search": search,
            "version": version,
        }))
        .into_response(),
        Err(e) => {
            tracing::error!("health check failed: {e}");
            let error = ApiError::new(ErrorCode::Unavailable, "the database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "backend": backend, "version": version, "error": error.body()["error"]})),
            )
                .into_response()
        }
    }
}

/// The query string of a request, taken parameter by parameter; parameters left over at
/// [`Params::finish`] are refused, so a misspelt filter never silently returns everything.
/// An empty value (`?title=`, as HTML forms send) counts as absent.
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    pub fn new(query: Result<Query<Vec<(String, String)>>, QueryRejection>) -> Result<Params, ApiError> {
        match query {
            Ok(Query(pairs)) => Ok(Params(pairs)),
            Err(e) => Err(ApiError::new(ErrorCode::InvalidParameter, format!("the query string does not parse: {e}"))),
        }
    }

    pub fn take(&mut self, name: &str) -> Result<Option<String>, ApiError> {
        let mut found = None;
        let mut i = 0;
        while i < self.0.len() {
            if self.0[i].0 == name {
                let (_, value) = self.0.remove(i);
                if found.is_some() {
                    return Err(ApiError::field(ErrorCode::InvalidParameter, name, format!("{name} is given twice")));
                }
                found = Some(value);
            } else {
                i += 1;
            }
        }
        Ok(found.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()))
    }

    pub fn number<T: std::str::FromStr>(&mut self, name: &str) -> Result<Option<T>, ApiError> {
        match self.take(name)? {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                ApiError::field(
                    ErrorCode::InvalidParameter,
                    name,
                    format!("{name} {v:?} is not a whole number in range"),
                )
            }),
        }
    }

    pub fn code(&mut self, name: &str) -> Result<Option<Code>, ApiError> {
        match self.take(name)? {
            None => Ok(None),
            Some(v) => {
                Code::parse(&v).map(Some).map_err(|e| ApiError::field(ErrorCode::InvalidCode, name, e.to_string()))
            }
        }
    }

    /// `after` (an id, default 0) and `limit` (1 to the configured maximum).
    pub fn page(&mut self, state: &AppState) -> Result<Page, ApiError> {
        let after = self.number::<i64>("after")?.unwrap_or(0);
        if after < 0 {
            return Err(ApiError::field(ErrorCode::InvalidParameter, "after", "after is an id, 0 or more"));
        }
        let max = state.config.max_page_size.max(1);
        let limit = self.number::<u32>("limit")?.unwrap_or(state.config.default_page_size.clamp(1, max));
        if limit == 0 || limit > max {
            return Err(ApiError::field(
                ErrorCode::InvalidParameter,
                "limit",
                format!("limit must be between 1 and {max}"),
            ));
        }
        Ok(Page { after, limit })
    }

    pub fn finish(self) -> Result<(), ApiError> {
        match self.0.into_iter().next() {
            None => Ok(()),
            Some((name, _)) => {
                Err(ApiError::field(ErrorCode::InvalidParameter, name.as_str(), format!("unknown parameter {name:?}")))
            }
        }
    }
}

/// A page of a list: the rows under `key`, and `next_after` to pass as `after` for the next page
/// (null on the last page).
pub(crate) fn page_json(key: &str, rows: Vec<Value>, last_id: Option<i64>, page: Page) -> Value {
    let next = if rows.len() as u64 >= u64::from(page.limit) { last_id } else { None };
    let mut out = Map::new();
    out.insert(key.to_string(), Value::Array(rows));
    out.insert("next_after".to_string(), json!(next));
    Value::Object(out)
}

/// A path segment that must be a database id.
pub(crate) fn parse_id(raw: &str, name: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::field(ErrorCode::InvalidParameter, name, format!("{raw:?} is not an id")))
}

pub(crate) fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(ErrorCode::PayloadTooLarge, "the request body is too large")
        } else {
            ApiError::new(ErrorCode::MalformedBody, format!("the request body could not be read: {e}"))
        }
    })
}

/// A JSON object body, taken member by member; members left over at [`Body::finish`] are refused.
pub(crate) struct Body(pub(crate) Map<String, Value>);

impl Body {
    pub fn parse(bytes: &[u8]) -> Result<Body, ApiError> {
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| ApiError::new(ErrorCode::MalformedBody, format!("the body is not JSON: {e}")))?;
        match value {
            Value::Object(map) => Ok(Body(map)),
            _ => Err(ApiError::new(ErrorCode::InvalidBody, "the body must be a JSON object")),
        }
    }

    /// A member, taken out of the body; absent and null are both `None`.
    pub fn raw(&mut self, name: &str) -> Option<Value> {
        self.0.remove(name).filter(|v| !v.is_null())
    }

    /// A string member, trimmed; absent, null and blank are all `None`.
    pub fn string(&mut self, name: &str) -> Result<Option<String>, ApiError> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::String(s)) => {
                let s = s.trim();
                Ok((!s.is_empty()).then(|| s.to_string()))
            }
            Some(_) => Err(ApiError::field(ErrorCode::InvalidType, name, format!("{name} must be a string"))),
        }
    }

    pub fn required_string(&mut self, name: &str) -> Result<String, ApiError> {
        self.string(name)?.ok_or_else(|| ApiError::field(ErrorCode::MissingField, name, format!("{name} is required")))
    }

    pub fn bool(&mut self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(_) => Err(ApiError::field(ErrorCode::InvalidType, name, format!("{name} must be true or false"))),
        }
    }

    pub fn id(&mut self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::Number(n)) if n.as_i64().is_some_and(|i| i > 0) => Ok(n.as_i64()),
            Some(_) => Err(ApiError::field(
                ErrorCode::InvalidType,
                name,
                format!("{name} must be an id (a positive whole number)"),
            )),
        }
    }

    pub fn code(&mut self, name: &str) -> Result<Option<Code>, ApiError> {
        match self.string(name)? {
            None => Ok(None),
            Some(v) => {
                Code::parse(&v).map(Some).map_err(|e| ApiError::field(ErrorCode::InvalidCode, name, e.to_string()))
            }
        }
    }

    pub fn required_code(&mut self, name: &str) -> Result<Code, ApiError> {
        self.code(name)?.ok_or_else(|| ApiError::field(ErrorCode::MissingField, name, format!("{name} is required")))
    }

    /// A display name: required, at most 200 characters.
    pub fn name(&mut self) -> Result<String, ApiError> {
        let name = self.required_string("name")?;
        if name.chars().count() > 200 {
            return Err(ApiError::field(ErrorCode::InvalidName, "name", "name is longer than 200 characters"));
        }
        Ok(name)
    }

    /// The body may repeat the code it is stored under (`PUT /branches/MAIN` with
    /// `{"code": "MAIN", ...}`, as a GET returned it); a different code is refused.
    pub fn matching_code(&mut self, path_code: &Code) -> Result<(), ApiError> {
        match self.code("code")? {
            Some(c) if &c != path_code => Err(ApiError::field(
                ErrorCode::CodeMismatch,
                "code",
                format!("the body says code {c:?} but the path says {:?}", path_code.as_str()),
            )),
            _ => Ok(()),
        }
    }

    pub fn finish(self) -> Result<(), ApiError> {
        match self.0.into_iter().next() {
            None => Ok(()),
            Some((name, _)) => {
                Err(ApiError::field(ErrorCode::UnknownField, name.as_str(), format!("unknown field {name:?}")))
            }
        }
    }
}

/// A path code (`/branches/{code}`).
pub(crate) fn path_code(raw: &str) -> Result<Code, ApiError> {
    Code::parse(raw).map_err(|e| ApiError::field(ErrorCode::InvalidCode, "code", e.to_string()))
}
