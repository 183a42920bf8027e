//! Branches, shelving locations and item types.

use super::{body_bytes, path_code, Body, Params};
use crate::auth::Acting;
use crate::error::{ApiError, ErrorCode};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use catalog::{Branch, Code, ItemType, ShelvingLocation};
use circulation::Permission;
use serde_json::{json, Value};
use storage::{Database, StorageError};

fn branch_json(b: &Branch) -> Value {
    json!({"code": b.code.as_str(), "name": b.name})
}

fn location_json(l: &ShelvingLocation) -> Value {
    json!({"code": l.code.as_str(), "name": l.name})
}

fn item_type_json(t: &ItemType) -> Value {
    json!({"code": t.code.as_str(), "name": t.name, "loanable": t.loanable})
}

fn no_params(query: Result<Query<Vec<(String, String)>>, QueryRejection>) -> Result<(), ApiError> {
    Params::new(query)?.finish()
}

pub(crate) async fn list_branches(
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    no_params(query)?;
    let branches = state.db(|db| Ok(db.branches()?)).await?;
    Ok(Json(json!({"branches": branches.iter().map(branch_json).collect::<Vec<_>>()})))
}

pub(crate) async fn get_branch(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let code = path_code(&code)?;
    let branch = state
        .db(move |db| {
            db.branch(&code)?.ok_or_else(|| {
                ApiError::field(ErrorCode::BranchNotFound, "code", format!("there is no branch {:?}", code.as_str()))
            })
        })
        .await?;
    Ok(Json(branch_json(&branch)))
}

/// `POST /branches` with `{"code": ..., "name": ...}`: 201, or 409 `branch_exists`.
pub(crate) async fn create_branch(
    State(state): State<AppState>,
    acting: Acting,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    acting.require(Permission::Configure)?;
    let mut body = Body::parse(&body_bytes(body)?)?;
    let code = body.required_code("code")?;
    let name = body.name()?;
    body.finish()?;
    let branch = Branch { code, name };
    let stored = branch.clone();
    state.db(move |db| create_branch_in(db, &stored)).await?;
    let location = format!("/api/v1/branches/{}", branch.code);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(branch_json(&branch))).into_response())
}

/// `PUT /branches/{code}` with `{"name": ...}`: creates (201) or renames (200).
pub(crate) async fn put_branch(
    State(state): State<AppState>,
    acting: Acting,
    Path(code): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    acting.require(Permission::Configure)?;
    let code = path_code(&code)?;
    let mut body = Body::parse(&body_bytes(body)?)?;
    body.matching_code(&code)?;
    let name = body.name()?;
    body.finish()?;
    let branch = Branch { code, name };
    let stored = branch.clone();
    let existed = state.db(move |db| put_branch_in(db, &stored)).await?;
    let status = if existed { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(branch_json(&branch))).into_response())
}

/// `DELETE /branches/{code}`: 204; 404 if unknown; 409 `branch_in_use` while items name it.
pub(crate) async fn delete_branch(
    State(state): State<AppState>,
    acting: Acting,
    Path(code): Path<String>,
) -> Result<StatusCode, ApiError> {
    acting.require(Permission::Configure)?;
    let code = path_code(&code)?;
    state.db(move |db| delete_branch_in(db, &code)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new branch: refused with `branch_exists` on `code` when the code is taken. The JSON API and
/// the staff client's branch form both come here.
pub(crate) fn create_branch_in(db: &dyn Database, branch: &Branch) -> Result<(), ApiError> {
    if db.branch(&branch.code)?.is_some() {
        return Err(ApiError::field(
            ErrorCode::BranchExists,
            "code",
            format!(
                "branch {:?} already exists; PUT /api/v1/branches/{} changes it",
                branch.code.as_str(),
                branch.code
            ),
        ));
    }
    Ok(db.upsert_branch(branch)?)
}

/// Creates or renames a branch; whether it existed.
pub(crate) fn put_branch_in(db: &dyn Database, branch: &Branch) -> Result<bool, ApiError> {
    let existed = db.branch(&branch.code)?.is_some();
    db.upsert_branch(branch)?;
    Ok(existed)
}

/// Deletes a branch: `branch_not_found`, or `branch_in_use` with the reason while anything
/// names it.
pub(crate) fn delete_branch_in(db: &dyn Database, code: &Code) -> Result<(), ApiError> {
    let not_found =
        || ApiError::field(ErrorCode::BranchNotFound, "code", format!("there is no branch {:?}", code.as_str()));
    if db.branch(code)?.is_none() {
        return Err(not_found());
    }
    match db.delete_branch(code) {
        Ok(()) => Ok(()),
        Err(StorageError::NotFound { .. }) => Err(not_found()),
        Err(StorageError::Constraint(why)) => Err(ApiError::field(
            ErrorCode::BranchInUse,
            "code",
            format!("branch {:?} cannot be deleted: {why}", code.as_str()),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Creates or renames a shelving location; whether it existed.
pub(crate) fn put_location_in(db: &dyn Database, location: &ShelvingLocation) -> Result<bool, ApiError> {
    let existed = db.locations()?.iter().any(|l| l.code == location.code);
    db.upsert_location(location)?;
    Ok(existed)
}

/// Creates or changes an item type; whether it existed.
pub(crate) fn put_item_type_in(db: &dyn Database, item_type: &ItemType) -> Result<bool, ApiError> {
    let existed = db.item_types()?.iter().any(|t| t.code == item_type.code);
    db.upsert_item_type(item_type)?;
    Ok(existed)
}

pub(crate) async fn list_locations(
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    no_params(query)?;
    let locations = state.db(|db| Ok(db.locations()?)).await?;
    Ok(Json(json!({"locations": locations.iter().map(location_json).collect::<Vec<_>>()})))
}

/// `PUT /locations/{code}` with `{"name": ...}`.
pub(crate) async fn put_location(
    State(state): State<AppState>,
    acting: Acting,
    Path(code): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    acting.require(Permission::Configure)?;
    let code = path_code(&code)?;
    let mut body = Body::parse(&body_bytes(body)?)?;
    body.matching_code(&code)?;
    let name = body.name()?;
    body.finish()?;
    let location = ShelvingLocation { code, name };
    let stored = location.clone();
    let existed = state.db(move |db| put_location_in(db, &stored)).await?;
    let status = if existed { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(location_json(&location))).into_response())
}

pub(crate) async fn list_item_types(
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    no_params(query)?;
    let types = state.db(|db| Ok(db.item_types()?)).await?;
    Ok(Json(json!({"item_types": types.iter().map(item_type_json).collect::<Vec<_>>()})))
}

/// `PUT /item-types/{code}` with `{"name": ..., "loanable": true}` (`loanable` defaults to true).
pub(crate) async fn put_item_type(
    State(state): State<AppState>,
    acting: Acting,
    Path(code): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    acting.require(Permission::Configure)?;
    let code = path_code(&code)?;
    let mut body = Body::parse(&body_bytes(body)?)?;
    body.matching_code(&code)?;
    let name = body.name()?;
    let loanable = body.bool("loanable")?.unwrap_or(true);
    body.finish()?;
    let item_type = ItemType { code, name, loanable };
    let stored = item_type.clone();
    let existed = state.db(move |db| put_item_type_in(db, &stored)).await?;
    let status = if existed { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(item_type_json(&item_type))).into_response())
}
