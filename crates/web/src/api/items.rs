//! Items: list with filters and paging (and lookup by barcode), get, create, update, delete,
//! and the items of one record.

use super::{body_bytes, page_json, parse_id, Body, Params};
use crate::api::records::record_not_found;
use crate::auth::Acting;
use crate::error::{ApiError, ErrorCode};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use catalog::{Barcode, Item, ItemStatus, Money, NewItem};
use circulation::Permission;
use serde_json::{json, Value};
use storage::{Database, ItemFilter, StorageError};

/// An item as the API shows it. `price` is a decimal string (`"24.95"`), never a float.
pub(crate) fn item_json(i: &Item) -> Value {
    let it = &i.item;
    json!({
        "id": i.id,
        "bib_id": i.bib_id,
        "barcode": it.barcode.as_str(),
        "home_branch": it.home_branch.as_str(),
        "holding_branch": it.holding_branch.as_str(),
        "location": it.location.as_ref().map(|c| c.as_str()),
        "collection": it.collection,
        "call_number": it.call_number,
        "item_type": it.item_type.as_str(),
        "price": it.price.map(|p| p.to_string()),
        "public_note": it.public_note,
        "staff_note": it.staff_note,
        "materials_specified": it.materials_specified,
        "status": it.status.as_str(),
        "acquired_on": it.acquired_on,
    })
}

fn item_not_found(id: i64) -> ApiError {
    ApiError::field(ErrorCode::ItemNotFound, "id", format!("there is no item {id}"))
}

/// `YYYY-MM-DD`, a real calendar date.
pub(crate) fn valid_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Ok(y), Ok(m), Ok(d)) = (s[0..4].parse::<u32>(), s[5..7].parse::<u32>(), s[8..10].parse::<u32>()) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    y > 0 && (1..=days).contains(&d)
}

/// Reads every item member from the body (everything but `id` and `bib_id`, which the caller
/// takes first). Checks only the values themselves; [`check_references`] checks the codes exist.
fn item_from_body(body: &mut Body) -> Result<NewItem, ApiError> {
    let barcode_text = body.required_string("barcode")?;
    let barcode = Barcode::parse(&barcode_text)
        .map_err(|e| ApiError::field(ErrorCode::InvalidBarcode, "barcode", e.to_string()))?;
    let home_branch = body.required_code("home_branch")?;
    let holding_branch = body.code("holding_branch")?.unwrap_or_else(|| home_branch.clone());
    let location = body.code("location")?;
    let item_type = body.required_code("item_type")?;
    let price = match body.raw("price") {
        None => None,
        Some(v) => {
            let text = match &v {
                Value::String(s) => s.trim().to_string(),
                Value::Number(n) => n.to_string(),
                _ => {
                    return Err(ApiError::field(
                        ErrorCode::InvalidType,
                        "price",
                        "price is a decimal string such as \"24.95\"",
                    ))
                }
            };
            if text.is_empty() {
                None
            } else {
                let money = Money::parse(&text)
                    .map_err(|e| ApiError::field(ErrorCode::InvalidPrice, "price", e.to_string()))?;
                if money.minor() < 0 {
                    return Err(ApiError::field(
                        ErrorCode::InvalidPrice,
                        "price",
                        format!("price {text:?} is negative"),
                    ));
                }
                Some(money)
            }
        }
    };
    let status = match body.string("status")? {
        None => ItemStatus::Available,
        Some(s) => ItemStatus::parse(&s).ok_or_else(|| {
            let all: Vec<&str> = ItemStatus::ALL.iter().map(|s| s.as_str()).collect();
            ApiError::field(
                ErrorCode::InvalidStatus,
                "status",
                format!("status {s:?} is not one of {}", all.join(", ")),
            )
        })?,
    };
    let acquired_on = match body.string("acquired_on")? {
        Some(d) if !valid_date(&d) => {
            return Err(ApiError::field(
                ErrorCode::InvalidDate,
                "acquired_on",
                format!("acquired_on {d:?} is not a date (YYYY-MM-DD)"),
            ))
        }
        other => other,
    };
    Ok(NewItem {
        barcode,
        home_branch,
        holding_branch,
        location,
        collection: body.string("collection")?,
        call_number: body.string("call_number")?,
        item_type,
        price,
        public_note: body.string("public_note")?,
        staff_note: body.string("staff_note")?,
        materials_specified: body.string("materials_specified")?,
        status,
        acquired_on,
    })
}

/// The branches, location and item type an item names must exist.
fn check_references(db: &dyn Database, item: &NewItem) -> Result<(), ApiError> {
    let branches = db.branches()?;
    for (field, code) in [("home_branch", &item.home_branch), ("holding_branch", &item.holding_branch)] {
        if !branches.iter().any(|b| &b.code == code) {
            return Err(ApiError::field(
                ErrorCode::UnknownBranch,
                field,
                format!("there is no branch {:?}", code.as_str()),
            ));
        }
    }
    if let Some(location) = &item.location {
        if !db.locations()?.iter().any(|l| &l.code == location) {
            return Err(ApiError::field(
                ErrorCode::UnknownLocation,
                "location",
                format!("there is no shelving location {:?}", location.as_str()),
            ));
        }
    }
    if !db.item_types()?.iter().any(|t| t.code == item.item_type) {
        return Err(ApiError::field(
            ErrorCode::UnknownItemType,
            "item_type",
            format!("there is no item type {:?}", item.item_type.as_str()),
        ));
    }
    Ok(())
}

fn barcode_taken(barcode: &Barcode) -> ApiError {
    ApiError::field(
        ErrorCode::BarcodeTaken,
        "barcode",
        format!("another item already has barcode {:?}", barcode.as_str()),
    )
}

/// Checks and stores a new item on record `bib_id`; `missing_record` is the error when the
/// record does not exist (404 under `/records/{id}/items`, 400 for a `bib_id` in the body).
pub(crate) fn store_new(
    db: &dyn Database,
    bib_id: i64,
    item: &NewItem,
    missing_record: ApiError,
) -> Result<Item, ApiError> {
    if db.record(bib_id)?.is_none() {
        return Err(missing_record);
    }
    check_references(db, item)?;
    if db.item_by_barcode(&item.barcode)?.is_some() {
        return Err(barcode_taken(&item.barcode));
    }
    let id = match db.create_item(bib_id, item) {
        Ok(id) => id,
        Err(StorageError::Conflict { .. }) => return Err(barcode_taken(&item.barcode)),
        Err(e) => return Err(e.into()),
    };
    db.item(id)?.ok_or_else(|| ApiError::internal(format!("item {id} vanished after insert")))
}

fn created(item: &Item) -> Response {
    (StatusCode::CREATED, [(header::LOCATION, format!("/api/v1/items/{}", item.id))], Json(with_warnings(item)))
        .into_response()
}

/// The item as written, with `warnings`: an unparsable call number is stored and shelved
/// (after the parsed ones of its prefix), never refused, so cataloging goes on; the warning
/// tells the cataloger it will not sort where they may expect.
fn with_warnings(item: &Item) -> Value {
    let mut v = item_json(item);
    let unparsed = item
        .item
        .call_number
        .as_deref()
        .map(|c| callnumber::CallNumber::parse(c, callnumber::Scheme::Auto))
        .filter(|c| !c.is_parsed());
    let warnings: Vec<Value> = unparsed
        .map(|c| {
            json!({
                "code": "call_number_unparsed",
                "field": "call_number",
                "message": format!(
                    "call number {:?} is not a Dewey, LC or local call number; it is kept and shelved after the \
                     parsed ones",
                    c.original()
                ),
            })
        })
        .into_iter()
        .collect();
    v["warnings"] = json!(warnings);
    v
}

async fn list_filtered(state: AppState, mut params: Params, bib_id: Option<i64>) -> Result<Json<Value>, ApiError> {
    let barcode = match params.take("barcode")? {
        None => None,
        Some(b) => {
            Some(Barcode::parse(&b).map_err(|e| ApiError::field(ErrorCode::InvalidBarcode, "barcode", e.to_string()))?)
        }
    };
    let bib_id = match bib_id {
        Some(id) => Some(id),
        None => params.number::<i64>("bib_id")?,
    };
    let status = match params.take("status")? {
        None => None,
        Some(s) => Some(ItemStatus::parse(&s).ok_or_else(|| {
            ApiError::field(ErrorCode::InvalidStatus, "status", format!("status {s:?} is not an item status"))
        })?),
    };
    let filter = ItemFilter {
        bib_id,
        home_branch: params.code("branch")?,
        holding_branch: params.code("holding_branch")?,
        location: params.code("location")?,
        item_type: params.code("item_type")?,
        status,
        bib_ids: None,
    };
    let page = params.page(&state)?;
    params.finish()?;
    let items = state
        .db(move |db| {
            let Some(barcode) = barcode else {
                return Ok(db.items(&filter, page)?);
            };
            // A barcode names at most one item; the other filters still apply to it.
            let found = db.item_by_barcode(&barcode)?.filter(|i| {
                i.id > page.after
                    && filter.bib_id.is_none_or(|b| b == i.bib_id)
                    && filter.home_branch.as_ref().is_none_or(|c| c == &i.item.home_branch)
                    && filter.holding_branch.as_ref().is_none_or(|c| c == &i.item.holding_branch)
                    && filter.location.as_ref().is_none_or(|c| Some(c) == i.item.location.as_ref())
                    && filter.item_type.as_ref().is_none_or(|c| c == &i.item.item_type)
                    && filter.status.is_none_or(|s| s == i.item.status)
            });
            Ok(found.into_iter().collect())
        })
        .await?;
    let last = items.last().map(|i| i.id);
    Ok(Json(page_json("items", items.iter().map(item_json).collect(), last, page)))
}

/// `GET /items?barcode=&bib_id=&branch=&holding_branch=&location=&item_type=&status=&after=&limit=`.
/// `branch` is the home branch. With `barcode` the list has at most one item.
pub(crate) async fn list(
    State(state): State<AppState>,
    _acting: Acting,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let params = Params::new(query)?;
    list_filtered(state, params, None).await
}

/// `GET /records/{id}/items`: 404 when the record does not exist.
pub(crate) async fn list_for_record(
    State(state): State<AppState>,
    _acting: Acting,
    Path(id): Path<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id, "id")?;
    let params = Params::new(query)?;
    if state.db(move |db| Ok(db.record(id)?.is_none())).await? {
        return Err(record_not_found(id));
    }
    list_filtered(state, params, Some(id)).await
}

pub(crate) async fn get_one(
    State(state): State<AppState>,
    _acting: Acting,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id, "id")?;
    let item = state.db(move |db| db.item(id)?.ok_or_else(|| item_not_found(id))).await?;
    Ok(Json(item_json(&item)))
}

/// `POST /items` with the item and its `bib_id`.
pub(crate) async fn create(
    State(state): State<AppState>,
    acting: Acting,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    acting.require(Permission::Catalog)?;
    let mut body = Body::parse(&body_bytes(body)?)?;
    let bib_id = body.id("bib_id")?.ok_or_else(|| {
        ApiError::field(ErrorCode::MissingField, "bib_id", "bib_id (the record the item belongs to) is required")
    })?;
    let item = item_from_body(&mut body)?;
    body.finish()?;
    let missing = ApiError::field(ErrorCode::UnknownRecord, "bib_id", format!("there is no record {bib_id}"));
    let stored = state.db(move |db| store_new(db, bib_id, &item, missing)).await?;
    Ok(created(&stored))
}

/// `POST /records/{id}/items` with the item (a `bib_id` in the body must be this record's).
pub(crate) async fn create_for_record(
    State(state): State<AppState>,
    acting: Acting,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    acting.require(Permission::Catalog)?;
    let bib_id = parse_id(&id, "id")?;
    let mut body = Body::parse(&body_bytes(body)?)?;
    if let Some(other) = body.id("bib_id")?.filter(|b| *b != bib_id) {
        return Err(ApiError::field(
            ErrorCode::ReadOnlyField,
            "bib_id",
            format!("the body says bib_id {other} but the path says record {bib_id}"),
        ));
    }
    let item = item_from_body(&mut body)?;
    body.finish()?;
    let stored = state.db(move |db| store_new(db, bib_id, &item, record_not_found(bib_id))).await?;
    Ok(created(&stored))
}

/// `PUT /items/{id}`: replaces every member of the item. `id` and `bib_id` may be repeated from
/// a GET but not changed.
pub(crate) async fn update(
    State(state): State<AppState>,
    acting: Acting,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::Catalog)?;
    let id = parse_id(&id, "id")?;
    let mut body = Body::parse(&body_bytes(body)?)?;
    if let Some(other) = body.id("id")?.filter(|i| *i != id) {
        return Err(ApiError::field(
            ErrorCode::ReadOnlyField,
            "id",
            format!("the body says id {other} but the path says item {id}"),
        ));
    }
    let bib_id = body.id("bib_id")?;
    let item = item_from_body(&mut body)?;
    body.finish()?;
    let stored = state.db(move |db| store_update(db, id, bib_id, &item)).await?;
    Ok(Json(with_warnings(&stored)))
}

/// Checks and stores item `id`'s new members; `bib_id`, when given, must be its record's. What
/// `PUT /items/{id}` and the staff client's item form do.
pub(crate) fn store_update(db: &dyn Database, id: i64, bib_id: Option<i64>, item: &NewItem) -> Result<Item, ApiError> {
    let current = db.item(id)?.ok_or_else(|| item_not_found(id))?;
    if let Some(other) = bib_id.filter(|b| *b != current.bib_id) {
        return Err(ApiError::field(
            ErrorCode::ReadOnlyField,
            "bib_id",
            format!(
                "item {id} belongs to record {}; it cannot be moved to record {other} by an update",
                current.bib_id
            ),
        ));
    }
    check_references(db, item)?;
    if db.item_by_barcode(&item.barcode)?.is_some_and(|other| other.id != id) {
        return Err(barcode_taken(&item.barcode));
    }
    match db.update_item(id, item) {
        Ok(()) => {}
        Err(StorageError::NotFound { .. }) => return Err(item_not_found(id)),
        Err(StorageError::Conflict { .. }) => return Err(barcode_taken(&item.barcode)),
        Err(e) => return Err(e.into()),
    }
    db.item(id)?.ok_or_else(|| item_not_found(id))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    acting: Acting,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    acting.require(Permission::Catalog)?;
    let id = parse_id(&id, "id")?;
    state
        .db(move |db| {
            if db.item(id)?.is_none() {
                return Err(item_not_found(id));
            }
            match db.delete_item(id) {
                Ok(()) => Ok(()),
                Err(StorageError::NotFound { .. }) => Err(item_not_found(id)),
                Err(e) => Err(e.into()),
            }
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        for ok in ["2024-02-29", "1999-12-31", "2023-01-01"] {
            assert!(valid_date(ok), "{ok}");
        }
        for bad in ["2023-02-29", "2023-13-01", "2023-00-10", "2023-1-1", "20230101", "abcd-ef-gh", "2023-04-31"] {
            assert!(!valid_date(bad), "{bad}");
        }
    }
}
