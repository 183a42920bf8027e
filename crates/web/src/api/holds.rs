//! Holds over HTTP: place, list (a record's queue, a patron's holds), change (suspend, resume,
//! move, not-needed-after), cancel, and a branch's pull list. Each call is one `desk` service
//! call; every handler needs the Circulate permission.

use super::circulation::{desk_error, override_from};
use super::{body_bytes, parse_id, path_code, Body};
use crate::auth::Acting;
use crate::error::{ApiError, ErrorCode};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use catalog::Barcode;
use chrono::{DateTime, NaiveDate, Utc};
use circulation::Permission;
use desk::{DeskError, HoldChange};
use serde_json::{json, Value};
use storage::holds::{HoldTarget, NewHold, StoredHold};

fn when(state: &AppState, at: Option<DateTime<Utc>>) -> Value {
    at.map_or(Value::Null, |at| {
        let local = at.with_timezone(&state.desk.circulation().time_zone);
        json!({
            "utc": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "local": local.format("%Y-%m-%d %H:%M").to_string(),
        })
    })
}

pub(crate) fn hold_json(state: &AppState, h: &StoredHold) -> Value {
    json!({
        "id": h.id,
        "card_number": h.card_number,
        "record_id": h.bib_id,
        "item_id": h.item_id,
        "pickup_branch": h.pickup_branch.as_str(),
        "placed_at": when(state, Some(h.placed_at)),
        "position": h.queue_position,
        "not_needed_after": h.not_needed_after.map(|d| d.to_string()),
        "status": h.status.as_str(),
        "suspended_until": h.suspended_until.map(|d| d.to_string()),
        "trapped_item_id": h.trapped_item_id,
        "pickup_by": when(state, h.pickup_by),
        "finished_at": when(state, h.finished_at),
    })
}

/// A desk error from a hold call as the API answers it.
fn hold_error(e: DeskError) -> ApiError {
    match e {
        DeskError::NotFound { what: "hold", key } => {
            ApiError::new(ErrorCode::HoldNotFound, format!("hold {key} does not exist"))
        }
        DeskError::NotFound { what: "record", key } => {
            ApiError::field(ErrorCode::UnknownRecord, "record_id", format!("record {key} does not exist"))
        }
        DeskError::NotFound { what: "branch", key } => {
            ApiError::field(ErrorCode::UnknownBranch, "pickup_branch", format!("branch {key} does not exist"))
        }
        DeskError::Hold(e) => ApiError::new(
            ErrorCode::HoldWrongState,
            format!("{e}: it is filled, cancelled, expired or not in that state"),
        ),
        other => desk_error(other, ErrorCode::HoldRefused),
    }
}

fn date(body: &mut Body, name: &str) -> Result<Option<NaiveDate>, ApiError> {
    body.string(name)?
        .map(|d| {
            NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                .map_err(|_| ApiError::field(ErrorCode::InvalidDate, name, format!("{d:?} is not a date (YYYY-MM-DD)")))
        })
        .transpose()
}

/// `POST /holds` with `card_number`, `pickup_branch`, and either `record_id` (title-level) or
/// `barcode` (item-level); optionally `not_needed_after` (a date) and `override` (`{"reason"}`,
/// with the Override permission: past a hold limit or a block).
pub(crate) async fn place(
    State(state): State<AppState>,
    acting: Acting,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    acting.require(Permission::Circulate)?;
    let mut body = Body::parse(&body_bytes(body)?)?;
    let card_number = body.required_string("card_number")?;
    let pickup_branch = body.required_code("pickup_branch")?;
    let record = body.id("record_id")?;
    let barcode = body
        .string("barcode")?
        .map(|b| Barcode::parse(&b).map_err(|e| ApiError::field(ErrorCode::InvalidBarcode, "barcode", e.to_string())))
        .transpose()?;
    let target = match (record, barcode) {
        (Some(id), None) => HoldTarget::Record(id),
        (None, Some(b)) => HoldTarget::Item(b),
        (Some(_), Some(_)) => {
            return Err(ApiError::field(
                ErrorCode::InvalidBody,
                "barcode",
                "give record_id for a title-level hold or barcode for an item-level hold, not both",
            ))
        }
        (None, None) => {
            return Err(ApiError::field(ErrorCode::MissingField, "record_id", "record_id or barcode is required"))
        }
    };
    let not_needed_after = date(&mut body, "not_needed_after")?;
    let with = override_from(&mut body, &acting)?;
    body.finish()?;
    let hold = NewHold { card_number, target, pickup_branch, not_needed_after };
    let desk = state.desk.clone();
    let placed =
        state.db(move |db| desk.place_hold_with(db, &hold, Utc::now(), with.as_ref()).map_err(hold_error)).await?;
    Ok((StatusCode::CREATED, Json(hold_json(&state, &placed))).into_response())
}

/// `GET /records/{id}/holds`: the record's open holds in queue order.
pub(crate) async fn for_record(
    State(state): State<AppState>,
    acting: Acting,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::Circulate)?;
    let id = parse_id(&id, "id")?;
    let holds = state
        .db(move |db| {
            if db.record(id)?.is_none() {
                return Err(ApiError::new(ErrorCode::RecordNotFound, format!("record {id} does not exist")));
            }
            Ok(db.record_holds(id)?)
        })
        .await?;
    Ok(Json(json!({"record_id": id, "holds": holds.iter().map(|h| hold_json(&state, h)).collect::<Vec<_>>()})))
}

/// `GET /patrons/{card}/holds`: the patron's holds, newest first, finished ones included.
pub(crate) async fn for_patron(
    State(state): State<AppState>,
    acting: Acting,
    Path(card): Path<String>,
) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::Circulate)?;
    let (card, holds) = state
        .db(move |db| {
            let account = db
                .patron_account(&card)?
                .ok_or_else(|| ApiError::field(ErrorCode::UnknownCard, "card", format!("no patron has card {card}")))?;
            Ok((account.card_number, db.patron_holds(account.id)?))
        })
        .await?;
    Ok(Json(json!({"card_number": card, "holds": holds.iter().map(|h| hold_json(&state, h)).collect::<Vec<_>>()})))
}

/// `PATCH /holds/{id}` with any of: `suspended` (true to suspend, false to resume),
/// `suspended_until` (a date, with `suspended: true`), `position` (1 is first),
/// `not_needed_after` (a date, or null to clear).
pub(crate) async fn change(
    State(state): State<AppState>,
    acting: Acting,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::Circulate)?;
    let id = parse_id(&id, "id")?;
    let mut body = Body::parse(&body_bytes(body)?)?;
    let mut change = HoldChange::default();
    let until = date(&mut body, "suspended_until")?;
    match body.bool("suspended")? {
        Some(true) => change.suspend = Some(until),
        Some(false) if until.is_some() => {
            return Err(ApiError::field(
                ErrorCode::InvalidBody,
                "suspended_until",
                "suspended_until goes with suspended: true",
            ))
        }
        Some(false) => change.resume = true,
        None if until.is_some() => change.suspend = Some(until),
        None => {}
    }
    change.position = match body.raw("position") {
        None => None,
        Some(Value::Number(n)) if n.as_u64().is_some_and(|p| p >= 1) => n.as_u64().map(|p| p as usize),
        Some(_) => {
            return Err(ApiError::field(
                ErrorCode::InvalidType,
                "position",
                "position must be a whole number, 1 or more",
            ))
        }
    };
    // null clears the day, so its presence counts, not only its value.
    if body.0.contains_key("not_needed_after") {
        change.not_needed_after = Some(date(&mut body, "not_needed_after")?);
    }
    body.finish()?;
    if change == HoldChange::default() {
        return Err(ApiError::new(
            ErrorCode::MissingField,
            "nothing to change: give suspended, suspended_until, position or not_needed_after",
        ));
    }
    let desk = state.desk.clone();
    let hold = state.db(move |db| desk.change_hold(db, id, &change, Utc::now()).map_err(hold_error)).await?;
    Ok(Json(hold_json(&state, &hold)))
}

/// `DELETE /holds/{id}`: cancels the hold (a copy on the shelf for it passes to the next patron).
pub(crate) async fn cancel(
    State(state): State<AppState>,
    acting: Acting,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::Circulate)?;
    let id = parse_id(&id, "id")?;
    let desk = state.desk.clone();
    let hold = state.db(move |db| desk.cancel_hold(db, id, Utc::now()).map_err(hold_error)).await?;
    Ok(Json(hold_json(&state, &hold)))
}

/// `GET /branches/{code}/pull-list`: copies to fetch from this branch's shelves for holds, in
/// shelf order.
pub(crate) async fn pull_list(
    State(state): State<AppState>,
    acting: Acting,
    Path(code): Path<String>,
) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::Circulate)?;
    let branch = path_code(&code)?;
    let desk = state.desk.clone();
    let b = branch.clone();
    let list = state
        .db(move |db| {
            if db.branch(&b)?.is_none() {
                return Err(ApiError::new(ErrorCode::BranchNotFound, format!("branch {b} does not exist")));
            }
            desk.pull_list(db, &b, Utc::now()).map_err(hold_error)
        })
        .await?;
    let copies: Vec<Value> = list
        .iter()
        .map(|e| {
            json!({
                "barcode": e.shelf.item.item.barcode.as_str(),
                "item_id": e.shelf.item.id,
                "record_id": e.shelf.item.bib_id,
                "title": e.shelf.title,
                "call_number": e.shelf.call_number,
                "location": e.shelf.item.item.location.as_ref().map(|l| l.as_str()),
                "hold_id": e.hold.id,
                "pickup_branch": e.hold.pickup_branch.as_str(),
            })
        })
        .collect();
    Ok(Json(json!({"branch": branch.as_str(), "copies": copies})))
}
