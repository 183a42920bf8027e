//! The desk over HTTP: checkout, check-in, renewal, a patron's loans, and "which rule applies
//! and why". Each call is one `desk` service call, the same one the staff client, the OPAC and
//! the SIP2 server make. Times go out in UTC (RFC 3339) and in the library's time zone.
//!
//! Checkout needs Circulate at the desk's branch, check-in CheckIn at its branch, renewal
//! Circulate. A checkout or renewal body may carry `"override": {"reason": "..."}` to go past
//! overridable refusals: that needs the Override permission, and the override is logged with
//! the staff login and the reason (`override_log`).

use super::{body_bytes, Body, Params};
use crate::auth::Acting;
use crate::error::{ApiError, ErrorCode};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use catalog::Barcode;
use chrono::{DateTime, Utc};
use circulation::Permission;
use circulation::{DueDate, Routing};
use desk::DeskError;
use serde_json::{json, Value};
use storage::loans::Loan;

fn when(state: &AppState, at: DateTime<Utc>) -> Value {
    let local = at.with_timezone(&state.desk.circulation().time_zone);
    json!({"utc": storage_time(at), "local": local.format("%Y-%m-%d %H:%M").to_string()})
}

fn storage_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn loan_json(state: &AppState, loan: &Loan) -> Value {
    json!({
        "id": loan.id,
        "item_id": loan.item_id,
        "checkout_branch": loan.checkout_branch.as_str(),
        "checked_out_at": when(state, loan.checked_out_at),
        "due": when(state, loan.due_at),
        "renewals": loan.renewals,
    })
}

fn due_note(due: &DueDate) -> Value {
    json!(due.limited_by.map(|l| l.message()))
}

/// A desk error as the API answers it: refusals with every reason and its own code.
pub(crate) fn desk_error(e: DeskError, refused: ErrorCode) -> ApiError {
    match e {
        DeskError::Refused(refusals) => {
            let message = refusals.iter().map(|r| r.message.as_str()).collect::<Vec<_>>().join(" ");
            let list: Vec<Value> = refusals
                .iter()
                .map(|r| json!({"code": r.code.as_str(), "message": r.message, "overridable": r.code.overridable()}))
                .collect();
            ApiError { details: Some(("refusals", Value::Array(list))), ..ApiError::new(refused, message) }
        }
        DeskError::NotFound { what: "patron card", key } => {
            ApiError::field(ErrorCode::UnknownCard, "card_number", format!("no patron has card {key}"))
        }
        DeskError::NotFound { what: "item", key } => {
            ApiError::field(ErrorCode::UnknownItem, "barcode", format!("no item has barcode {key}"))
        }
        DeskError::NotFound { what: "loan of item", key } => {
            ApiError::field(ErrorCode::NotOnLoan, "barcode", format!("item {key} is not on loan"))
        }
        DeskError::Override(e @ circulation::OverrideError::NoPermission(_)) => {
            ApiError::field(ErrorCode::Forbidden, "override", e.to_string())
        }
        DeskError::Override(e @ circulation::OverrideError::ReasonRequired) => {
            ApiError::field(ErrorCode::MissingField, "override.reason", e.to_string())
        }
        DeskError::Override(circulation::OverrideError::NotOverridable(refusals)) => {
            let e = desk_error(DeskError::Refused(refusals), refused);
            ApiError { message: format!("not even an override can go past this: {}", e.message), ..e }
        }
        DeskError::CheckIn(e) => ApiError::field(ErrorCode::InvalidCheckIn, "returned_at", e.to_string()),
        e @ DeskError::CardReplaced { .. } => ApiError::field(ErrorCode::CardReplaced, "card_number", e.to_string()),
        other => ApiError::internal(other),
    }
}

/// `"override": {"reason": "..."}`: going past overridable refusals, which needs the Override
/// permission (checked here, before the desk is asked).
pub(super) fn override_from(body: &mut Body, acting: &Acting) -> Result<Option<desk::Override>, ApiError> {
    let Some(value) = body.raw("override") else { return Ok(None) };
    let Value::Object(map) = value else {
        return Err(ApiError::field(ErrorCode::InvalidType, "override", "override must be an object with a reason"));
    };
    let mut inner = Body(map);
    let reason = inner
        .string("reason")?
        .ok_or_else(|| ApiError::field(ErrorCode::MissingField, "override.reason", "an override needs a reason"))?;
    inner.finish().map_err(|e| ApiError { field: e.field.map(|f| format!("override.{f}")), ..e })?;
    acting.require(Permission::Override).map_err(|e| ApiError { field: Some("override".into()), ..e })?;
    Ok(Some(desk::Override { staff: acting.staff.clone(), staff_name: acting.name.clone(), reason }))
}

fn barcode(body: &mut Body) -> Result<Barcode, ApiError> {
    let raw = body.required_string("barcode")?;
    Barcode::parse(&raw).map_err(|e| ApiError::field(ErrorCode::InvalidBarcode, "barcode", e.to_string()))
}

/// `POST /checkouts` with `card_number`, `barcode` and `branch` (the desk's branch).
pub(crate) async fn checkout(
    State(state): State<AppState>,
    acting: Acting,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    acting.require(Permission::Circulate)?;
    let mut body = Body::parse(&body_bytes(body)?)?;
    let card = body.required_string("card_number")?;
    let item = barcode(&mut body)?;
    let branch = body.required_code("branch")?;
    let with = override_from(&mut body, &acting)?;
    body.finish()?;
    acting.require_at(Permission::Circulate, &branch)?;
    let desk = state.desk.clone();
    let receipt = state
        .db(move |db| {
            desk.checkout(db, &card, &item, &branch, Utc::now(), with.as_ref())
                .map_err(|e| desk_error(e, ErrorCode::CheckoutRefused))
        })
        .await?;
    let body = json!({"loan": loan_json(&state, &receipt.loan), "due_note": due_note(&receipt.due)});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `POST /renewals` with `barcode`, and `branch` (where the renewal is done; required of staff
/// limited to branches).
pub(crate) async fn renew(
    State(state): State<AppState>,
    acting: Acting,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::Circulate)?;
    let mut body = Body::parse(&body_bytes(body)?)?;
    let item = barcode(&mut body)?;
    // Where the renewal is done: staff limited to branches say which, and must be allowed there.
    match body.code("branch")? {
        Some(branch) => {
            acting.require_at(Permission::Circulate, &branch)?;
        }
        None if !acting.account.branches.is_empty() => {
            return Err(ApiError::field(
                ErrorCode::MissingField,
                "branch",
                format!("{} is limited to branches: say at which branch the renewal is done", acting.name),
            ))
        }
        None => {}
    }
    let with = override_from(&mut body, &acting)?;
    body.finish()?;
    let desk = state.desk.clone();
    let (loan, due) = state
        .db(move |db| {
            desk.renew(db, &item, Utc::now(), with.as_ref()).map_err(|e| desk_error(e, ErrorCode::RenewalRefused))
        })
        .await?;
    Ok(Json(json!({"loan": loan_json(&state, &loan), "due_note": due_note(&due)})))
}

/// `POST /checkins` with `barcode`, `branch` and optionally `returned_at` (RFC 3339) to date a
/// book-drop return back.
pub(crate) async fn check_in(
    State(state): State<AppState>,
    acting: Acting,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::CheckIn)?;
    let mut body = Body::parse(&body_bytes(body)?)?;
    let item = barcode(&mut body)?;
    let branch = body.required_code("branch")?;
    acting.require_at(Permission::CheckIn, &branch)?;
    let returned_at = match body.string("returned_at")? {
        None => None,
        Some(t) => Some(DateTime::parse_from_rfc3339(&t).map(|t| t.with_timezone(&Utc)).map_err(|_| {
            ApiError::field(ErrorCode::InvalidDate, "returned_at", format!("{t:?} is not an RFC 3339 time"))
        })?),
    };
    body.finish()?;
    let desk = state.desk.clone();
    let receipt = state
        .db(move |db| {
            desk.check_in(db, &item, &branch, returned_at, Utc::now())
                .map_err(|e| desk_error(e, ErrorCode::InvalidCheckIn))
        })
        .await?;
    let d = &receipt.decision;
    let routing = match &d.routing {
        Routing::Shelve => json!({"to": "shelf"}),
        Routing::HoldShelf { pickup_by, .. } => json!({"to": "hold_shelf", "pickup_by": when(&state, *pickup_by)}),
        Routing::Transit { to, .. } => json!({"to": "transit", "branch": to.as_str()}),
    };
    // Holds: for whom the copy goes to the hold shelf or travels.
    let mut routing = routing;
    routing["hold"] = receipt.hold.as_ref().map_or(Value::Null, |h| super::holds::hold_json(&state, h));
    let prompts: Vec<Value> = d
        .prompts
        .iter()
        .map(|p| match p {
            circulation::Prompt::MaterialsSpecified(m) => json!({"kind": "materials_specified", "text": m}),
            circulation::Prompt::WasLost => json!({"kind": "was_lost"}),
            circulation::Prompt::WasDamaged => json!({"kind": "was_damaged"}),
        })
        .collect();
    Ok(Json(json!({
        "barcode": receipt.barcode.as_str(),
        "loan_closed": receipt.loan_closed,
        "status": receipt.status.as_str(),
        "fine": d.fine.as_ref().map(|f| json!({"amount": f.amount.to_string(), "late": f.late, "charged": f.charged})),
        "charge": d.charge.to_string(),
        "routing": routing,
        "prompts": prompts,
    })))
}

/// `GET /patrons/{card}/loans`: the patron's open loans, soonest due first.
pub(crate) async fn loans(
    State(state): State<AppState>,
    acting: Acting,
    Path(card): Path<String>,
) -> Result<Json<Value>, ApiError> {
    acting.require_any(&[Permission::Circulate, Permission::ManagePatrons])?;
    let loans = state
        .db(move |db| {
            let account = db
                .patron_account(&card)?
                .ok_or_else(|| ApiError::field(ErrorCode::UnknownCard, "card", format!("no patron has card {card}")))?;
            let loans = db.open_loans(account.id)?;
            Ok((account, loans))
        })
        .await?;
    let (account, loans) = loans;
    Ok(Json(json!({
        "card_number": account.card_number,
        "balance": account.balance.to_string(),
        "loans": loans.iter().map(|l| loan_json(&state, l)).collect::<Vec<_>>(),
    })))
}

/// `GET /circulation/rule?branch=&category=&item_type=`: the rule for that combination, and
/// for each parameter the row its value came from.
pub(crate) async fn explain_rule(
    State(state): State<AppState>,
    _acting: Acting,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let mut params = Params::new(query)?;
    let missing = |name: &str| ApiError::field(ErrorCode::MissingField, name, format!("{name} is required"));
    let branch = params.code("branch")?.ok_or_else(|| missing("branch"))?;
    let category = params.code("category")?.ok_or_else(|| missing("category"))?;
    let item_type = params.code("item_type")?.ok_or_else(|| missing("item_type"))?;
    params.finish()?;
    let resolution = state.desk.circulation().matrix.resolve(&branch, &category, &item_type);
    let parameters: Vec<Value> = circulation::Parameter::ALL
        .iter()
        .map(|p| {
            json!({
                "parameter": p.as_str(),
                "value": resolution.rule.value_text(*p),
                "from_row": resolution.explanation.source(*p).map(|k| k.to_string()),
            })
        })
        .collect();
    Ok(Json(json!({
        "rows_matched": resolution.explanation.candidates.iter().map(|k| k.to_string()).collect::<Vec<_>>(),
        "parameters": parameters,
        "explanation": resolution.explanation.describe(&resolution.rule),
    })))
}
