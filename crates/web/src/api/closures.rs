//! Emergency closures over HTTP: declare one (a day closed at some or all branches, moving the
//! due dates and hold-shelf deadlines it falls on) and list them. Declaring needs the Configure
//! permission; the list, any staff login.

use super::{body_bytes, Body};
use crate::auth::Acting;
use crate::error::{ApiError, ErrorCode};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use catalog::Code;
use chrono::{NaiveDate, Utc};
use circulation::Permission;
use desk::DeskError;
use serde_json::{json, Value};
use storage::closures::Closure;
use storage::StorageError;

fn closure_json(c: &Closure) -> Value {
    json!({
        "branch": c.branch.as_str(),
        "day": c.day.to_string(),
        "reason": c.reason,
        "declared_by": c.declared_by,
        "declared_at": c.declared_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    })
}

/// `POST /closures` with `day` (YYYY-MM-DD), `reason`, and `branches`: a list of branch codes,
/// or `"all"` for every branch.
pub(crate) async fn declare(
    State(state): State<AppState>,
    acting: Acting,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    acting.require(Permission::Configure)?;
    let mut body = Body::parse(&body_bytes(body)?)?;
    let day = body.required_string("day")?;
    let day = NaiveDate::parse_from_str(&day, "%Y-%m-%d")
        .map_err(|_| ApiError::field(ErrorCode::InvalidDate, "day", format!("{day:?} is not a date (YYYY-MM-DD)")))?;
    let reason = body.required_string("reason")?;
    let branches = match body.raw("branches") {
        Some(Value::String(all)) if all == "all" => None,
        Some(Value::Array(list)) => Some(
            list.iter()
                .map(|v| v.as_str().and_then(|s| Code::parse(s).ok()))
                .collect::<Option<Vec<Code>>>()
                .ok_or_else(|| {
                    ApiError::field(ErrorCode::InvalidCode, "branches", "branches must be a list of branch codes")
                })?,
        ),
        Some(_) => {
            return Err(ApiError::field(
                ErrorCode::InvalidType,
                "branches",
                "branches must be a list of codes or \"all\"",
            ))
        }
        None => return Err(ApiError::field(ErrorCode::MissingField, "branches", "branches is required")),
    };
    body.finish()?;
    let report = declare_closure(&state, &acting, branches, day, reason).await?;
    let answer = json!({
        "closures": report.closures.iter().map(closure_json).collect::<Vec<_>>(),
        "loans_moved": report.loans_moved.len(),
        "holds_extended": report.holds_extended.len(),
    });
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// Closes `day` at `branches` (`None`: every branch), declared by `acting`. The JSON API and the
/// staff client's closure form both come here.
pub(crate) async fn declare_closure(
    state: &AppState,
    acting: &Acting,
    branches: Option<Vec<Code>>,
    day: NaiveDate,
    reason: String,
) -> Result<desk::ClosureReport, ApiError> {
    let desk = state.desk.clone();
    let by = acting.name.clone();
    state
        .db(move |db| {
            let branches = match branches {
                Some(list) => list,
                None => db.branches()?.into_iter().map(|b| b.code).collect(),
            };
            desk.declare_closure(db, &branches, day, &reason, Some(&by), Utc::now()).map_err(closure_error)
        })
        .await
}

fn closure_error(e: DeskError) -> ApiError {
    match e {
        DeskError::Invalid { field, message } => ApiError::field(ErrorCode::InvalidClosure, field, message),
        DeskError::NotFound { what: "branch", key } => {
            ApiError::field(ErrorCode::UnknownBranch, "branches", format!("branch {key} does not exist"))
        }
        DeskError::Storage(StorageError::Conflict { key, .. }) => {
            ApiError::field(ErrorCode::AlreadyClosed, "day", format!("{key} is already closed"))
        }
        DeskError::Calendar(e) => ApiError::field(ErrorCode::InvalidClosure, "day", e.to_string()),
        other => ApiError::internal(other),
    }
}

/// `GET /closures`: every emergency closure, by day.
pub(crate) async fn list(State(state): State<AppState>, _signed_in: Acting) -> Result<Json<Value>, ApiError> {
    let closures = state.db(|db| Ok(db.closures()?)).await?;
    Ok(Json(json!({"closures": closures.iter().map(closure_json).collect::<Vec<_>>()})))
}
