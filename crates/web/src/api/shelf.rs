//! The shelf: shelf lists in shelf order, and inventories (shelf reading) with their reports.

use super::items::item_json;
use super::{body_bytes, parse_id, Body, Params};
use crate::auth::Acting;
use crate::error::{ApiError, ErrorCode};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use catalog::inventory::ShelfItem;
use catalog::ItemStatus;
use circulation::Permission;
use serde_json::{json, Value};
use storage::{Inventory, NewInventory, ShelfCursor, ShelfPage, ShelfQuery, StorageError};

/// A shelf-list entry: the item, its title, the call number it is shelved under (its own or
/// its record's), its spine-label lines and when an inventory last saw it.
pub(crate) fn shelf_json(s: &ShelfItem) -> Value {
    let mut v = item_json(&s.item);
    v["title"] = json!(s.title);
    v["shelved_under"] = json!(s.call_number);
    v["spine_label"] = json!(s
        .call_number
        .as_deref()
        .map(|c| callnumber::CallNumber::parse(c, callnumber::Scheme::Auto).spine_label())
        .unwrap_or_default());
    v["last_seen_at"] = json!(s.last_seen_at);
    v
}

/// `GET /shelf-list?branch=&location=&from=&to=&status=&after=&limit=`: items of a branch in
/// shelf order. `from`/`to` are call numbers (`to` includes everything that begins like it);
/// `after` is the `next_after` token of the previous page.
pub(crate) async fn shelf_list(
    State(state): State<AppState>,
    acting: Acting,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::Shelve)?;
    let mut params = Params::new(query)?;
    let branch = params
        .code("branch")?
        .ok_or_else(|| ApiError::field(ErrorCode::MissingField, "branch", "branch is required"))?;
    acting.require_at(Permission::Shelve, &branch)?;
    let status = match params.take("status")? {
        None => None,
        Some(s) => Some(ItemStatus::parse(&s).ok_or_else(|| {
            ApiError::field(ErrorCode::InvalidStatus, "status", format!("status {s:?} is not an item status"))
        })?),
    };
    let query = ShelfQuery {
        branch,
        location: params.code("location")?,
        from: params.take("from")?,
        to: params.take("to")?,
        status,
    };
    let after = match params.take("after")? {
        None => None,
        Some(token) => Some(ShelfCursor::parse(&token).ok_or_else(|| {
            ApiError::field(ErrorCode::InvalidParameter, "after", "after is not a next_after token from a shelf list")
        })?),
    };
    let limit = params.page(&state)?.limit;
    params.finish()?;
    let page = ShelfPage { after, limit };
    let entries = state.db(move |db| Ok(db.shelf_list(&query, &page)?)).await?;
    let next =
        (entries.len() as u64 >= u64::from(limit)).then(|| entries.last().map(|e| ShelfCursor::after(e).token()));
    Ok(Json(json!({
        "items": entries.iter().map(shelf_json).collect::<Vec<_>>(),
        "next_after": next.flatten(),
    })))
}

fn inventory_json(i: &Inventory) -> Value {
    json!({
        "id": i.id,
        "branch": i.scope.branch.as_str(),
        "location": i.scope.location.as_ref().map(|c| c.as_str()),
        "call_number_from": i.scope.call_number_from,
        "call_number_to": i.scope.call_number_to,
        "started_at": i.started_at,
        "scans": i.scans,
    })
}

fn inventory_not_found(id: i64) -> ApiError {
    ApiError::field(ErrorCode::InventoryNotFound, "id", format!("there is no inventory {id}"))
}

fn storage_error(e: StorageError, id: Option<i64>) -> ApiError {
    match (e, id) {
        (StorageError::NotFound { .. }, Some(id)) => inventory_not_found(id),
        (StorageError::Constraint(m), _) if m.starts_with("branch") => {
            ApiError::field(ErrorCode::UnknownBranch, "branch", m)
        }
        (StorageError::Constraint(m), _) if m.starts_with("shelving location") => {
            ApiError::field(ErrorCode::UnknownLocation, "location", m)
        }
        (e, _) => e.into(),
    }
}

/// `POST /inventories` with `branch`, and optionally `location`, `call_number_from`,
/// `call_number_to`: starts a shelf reading.
pub(crate) async fn start_inventory(
    State(state): State<AppState>,
    acting: Acting,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    acting.require(Permission::Shelve)?;
    let mut body = Body::parse(&body_bytes(body)?)?;
    let scope = NewInventory {
        branch: body.required_code("branch")?,
        location: body.code("location")?,
        call_number_from: body.string("call_number_from")?,
        call_number_to: body.string("call_number_to")?,
    };
    body.finish()?;
    acting.require_at(Permission::Shelve, &scope.branch)?;
    let inventory = state.db(move |db| db.start_inventory(&scope).map_err(|e| storage_error(e, None))).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/inventories/{}", inventory.id))],
        Json(inventory_json(&inventory)),
    )
        .into_response())
}

pub(crate) async fn get_inventory(
    State(state): State<AppState>,
    acting: Acting,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::Shelve)?;
    let id = parse_id(&id, "id")?;
    let inventory = state.db(move |db| db.inventory(id)?.ok_or_else(|| inventory_not_found(id))).await?;
    Ok(Json(inventory_json(&inventory)))
}

/// `POST /inventories/{id}/scans`: barcodes in scan order, appended after earlier batches.
/// Either `{"barcodes": ["...", ...]}` or a `text/plain` body with one barcode a line (what a
/// scanner's file holds).
pub(crate) async fn add_scans(
    State(state): State<AppState>,
    acting: Acting,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::Shelve)?;
    let id = parse_id(&id, "id")?;
    let bytes = body_bytes(body)?;
    let plain = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("text/plain"));
    let barcodes: Vec<String> = if plain {
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| ApiError::new(ErrorCode::MalformedBody, "the scan file is not UTF-8 text"))?;
        text.lines().map(str::to_string).collect()
    } else {
        let mut body = Body::parse(&bytes)?;
        let list = match body.raw("barcodes") {
            Some(Value::Array(list)) => list,
            None => return Err(ApiError::field(ErrorCode::MissingField, "barcodes", "barcodes is required")),
            Some(_) => {
                return Err(ApiError::field(ErrorCode::InvalidType, "barcodes", "barcodes must be a list of strings"))
            }
        };
        body.finish()?;
        list.into_iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s),
                _ => Err(ApiError::field(
                    ErrorCode::InvalidType,
                    format!("barcodes[{i}]"),
                    format!("barcodes[{i}] must be a string"),
                )),
            })
            .collect::<Result<_, _>>()?
    };
    let inventory =
        state.db(move |db| db.add_inventory_scans(id, &barcodes).map_err(|e| storage_error(e, Some(id)))).await?;
    Ok(Json(inventory_json(&inventory)))
}

/// `GET /inventories/{id}/report`: missing, misplaced, wrong status, wrong place, unknown and
/// duplicate scans, computed now from what is stored.
pub(crate) async fn report(
    State(state): State<AppState>,
    acting: Acting,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::Shelve)?;
    let id = parse_id(&id, "id")?;
    let (inventory, report) =
        state.db(move |db| storage::inventory_report(db, id).map_err(|e| storage_error(e, Some(id)))).await?;
    let report = serde_json::to_value(&report).map_err(ApiError::internal)?;
    Ok(Json(json!({ "inventory": inventory_json(&inventory), "report": report })))
}
