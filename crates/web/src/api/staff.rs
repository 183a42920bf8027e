//! Staff over HTTP: log-in and log-out (`/session`), staff accounts (`/staff`, Admin), passwords,
//! API tokens, and the audit log (`/audit`, Admin or Reports).
//!
//! A wrong password and an unknown login get the same 401 and the same sentence, after the same
//! argon2 work (a decoy hash for an unknown login), so the answer tells nobody which logins exist;
//! both are written to the audit log as `login_failed`.

use super::{body_bytes, page_json, Body, Params};
use crate::auth::{Acting, SESSION_COOKIE};
use crate::error::{ApiError, ErrorCode};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use catalog::Code;
use chrono::{Duration, Utc};
use circulation::Permission;
use serde_json::{json, Value};
use storage::staff::{AuditFilter, Credential, NewAuditEntry, NewStaff, StaffAccount, StaffChange};
use storage::StorageError;

pub(crate) fn account_error(e: accounts::AccountError) -> ApiError {
    use accounts::AccountError as A;
    match e {
        A::PasswordTooShort | A::PasswordTooLong | A::PasswordIsLogin | A::PasswordRepetitive => {
            ApiError::field(ErrorCode::InvalidPassword, "password", e.to_string())
        }
        A::InvalidLogin(_) => ApiError::field(ErrorCode::InvalidLogin, "login", e.to_string()),
        A::UnknownRole(_) => ApiError::field(ErrorCode::InvalidRole, "roles", e.to_string()),
        A::Hashing(_) | A::Randomness(_) => ApiError::internal(e),
    }
}

pub(crate) fn staff_error(e: StorageError) -> ApiError {
    match e {
        StorageError::NotFound { what: "staff account", key } => {
            ApiError::new(ErrorCode::StaffNotFound, format!("there is no staff account {key}"))
        }
        StorageError::NotFound { what: "API token", key } => {
            ApiError::new(ErrorCode::TokenNotFound, format!("there is no live API token {key}"))
        }
        StorageError::Conflict { what: "staff login", key } => {
            ApiError::field(ErrorCode::LoginTaken, "login", format!("the login {key} is taken"))
        }
        StorageError::Constraint(m) if m.starts_with("there is no branch") => {
            ApiError::field(ErrorCode::UnknownBranch, "branches", m)
        }
        other => other.into(),
    }
}

fn not_found(login: &str) -> ApiError {
    ApiError::new(ErrorCode::StaffNotFound, format!("there is no staff account {login}"))
}

pub(crate) fn staff_json(a: &StaffAccount) -> Value {
    let permissions: std::collections::BTreeSet<&str> = a
        .roles
        .iter()
        .filter_map(|r| accounts::Role::parse(r).ok())
        .flat_map(|r| r.permissions().iter().map(|p| p.as_str()))
        .collect();
    json!({
        "login": a.login,
        "name": a.name,
        "roles": a.roles,
        "branches": a.branches.iter().map(|b| b.as_str()).collect::<Vec<_>>(),
        "permissions": permissions,
        "active": a.active,
        "created_at": a.created_at,
    })
}

fn strings(body: &mut Body, name: &str) -> Result<Option<Vec<String>>, ApiError> {
    match body.raw(name) {
        None => Ok(None),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.trim().to_string()),
                _ => Err(ApiError::field(ErrorCode::InvalidType, name, format!("{name} must be a list of strings"))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(ApiError::field(ErrorCode::InvalidType, name, format!("{name} must be a list of strings"))),
    }
}

fn roles(body: &mut Body) -> Result<Option<Vec<String>>, ApiError> {
    let Some(list) = strings(body, "roles")? else { return Ok(None) };
    list.iter()
        .map(|r| accounts::Role::parse(r).map(|r| r.as_str().to_string()).map_err(account_error))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn branches(body: &mut Body) -> Result<Option<Vec<Code>>, ApiError> {
    let Some(list) = strings(body, "branches")? else { return Ok(None) };
    list.iter()
        .map(|b| Code::parse(b).map_err(|e| ApiError::field(ErrorCode::InvalidCode, "branches", e.to_string())))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The raw password: not trimmed (spaces may be part of it).
fn password(body: &mut Body, name: &str) -> Result<Option<String>, ApiError> {
    match body.raw(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::field(ErrorCode::InvalidType, name, format!("{name} must be a string"))),
    }
}

fn audit(staff: Option<String>, action: &str, target: String, details: String) -> NewAuditEntry {
    NewAuditEntry { staff, action: action.to_string(), target, details }
}

pub(crate) fn cookie(token: &str, max_age_seconds: i64) -> String {
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}")
}

/// A new staff session: the account, its token, when it ends, and the `Set-Cookie` value.
pub(crate) struct NewSession {
    pub account: StaffAccount,
    pub token: String,
    pub expires_at: chrono::DateTime<Utc>,
    pub cookie: String,
}

/// Checks `login` and `password` and starts a session, auditing the attempt either way. The
/// JSON log-in and the staff client's log-in page both come here.
pub(crate) async fn start_session(state: &AppState, login: String, password: String) -> Result<NewSession, ApiError> {
    let lifetime = Duration::minutes(i64::from(state.config.session_minutes.max(1)));
    let session = state
        .db(move |db| {
            let now = Utc::now();
            let found = db.staff_credentials(&login)?;
            // Verify against a decoy when the login is unknown: the same work, the same answer.
            let hash = found.as_ref().map_or(accounts::decoy_hash(), |(_, h)| h.as_str());
            let ok = accounts::verify_password(&password, hash);
            match found {
                Some((account, _)) if ok && account.active => {
                    let (token, token_hash) = accounts::new_token().map_err(account_error)?;
                    let expires_at = now + lifetime;
                    db.create_session(&login, &token_hash, expires_at, now)?;
                    db.append_audit(&audit(Some(login.clone()), "login", "session".into(), String::new()), now)?;
                    Ok(Ok((account, token, expires_at)))
                }
                other => {
                    let why = match other {
                        None => "unknown login",
                        Some((a, _)) if !a.active => "account disabled",
                        Some(_) => "wrong password",
                    };
                    db.append_audit(&audit(Some(login), "login_failed", "session".into(), why.into()), now)?;
                    Ok(Err(ApiError::new(ErrorCode::Unauthenticated, "the login or the password is wrong")))
                }
            }
        })
        .await??;
    let (account, token, expires_at) = session;
    let cookie = cookie(&token, lifetime.num_seconds());
    Ok(NewSession { account, token, expires_at, cookie })
}

/// Ends the session `acting` came with, auditing it. The JSON log-out and the staff client's
/// log-out both come here.
pub(crate) async fn end_session(state: &AppState, acting: &Acting) -> Result<(), ApiError> {
    if !matches!(acting.credential, Credential::Session { .. }) {
        return Err(ApiError::new(
            ErrorCode::NotASession,
            "this request came with an API token, not a session: revoke the token instead",
        ));
    }
    let (hash, login) = (acting.token_hash.clone(), acting.name.clone());
    state
        .db(move |db| {
            db.end_session(&hash)?;
            db.append_audit(&audit(Some(login), "logout", "session".into(), String::new()), Utc::now())?;
            Ok(())
        })
        .await
}

/// `POST /session` with `login` and `password`: a session token (also set as a cookie).
pub(crate) async fn log_in(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let mut body = Body::parse(&body_bytes(body)?)?;
    let login = body.required_string("login")?;
    let password = password(&mut body, "password")?
        .ok_or_else(|| ApiError::field(ErrorCode::MissingField, "password", "password is required"))?;
    body.finish()?;
    let session = start_session(&state, login, password).await?;
    let body = json!({
        "token": session.token,
        "expires_at": session.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "staff": staff_json(&session.account),
    });
    Ok((StatusCode::CREATED, [(SET_COOKIE, session.cookie)], Json(body)).into_response())
}

/// `GET /session`: who the request acts as.
pub(crate) async fn who_am_i(State(state): State<AppState>, acting: Acting) -> Result<Json<Value>, ApiError> {
    let login = acting.name.clone();
    let account = state.db(move |db| db.staff_account(&login)?.ok_or_else(|| not_found(&login))).await?;
    let credential = match &acting.credential {
        Credential::Session { expires_at } => {
            json!({"kind": "session", "expires_at": expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)})
        }
        Credential::ApiToken { id, name } => json!({"kind": "api_token", "id": id, "name": name}),
    };
    Ok(Json(json!({"staff": staff_json(&account), "credential": credential})))
}

/// `DELETE /session`: ends the session the request came with.
pub(crate) async fn log_out(State(state): State<AppState>, acting: Acting) -> Result<Response, ApiError> {
    end_session(&state, &acting).await?;
    Ok((StatusCode::NO_CONTENT, [(SET_COOKIE, cookie("", 0))]).into_response())
}

/// `GET /staff`: every account (Admin).
pub(crate) async fn list(State(state): State<AppState>, acting: Acting) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::Admin)?;
    let all = state.db(|db| Ok(db.staff_accounts()?)).await?;
    Ok(Json(json!({"staff": all.iter().map(staff_json).collect::<Vec<_>>()})))
}

/// `POST /staff` with `login`, `name`, `roles`, optional `branches`, `password` (Admin).
pub(crate) async fn create(
    State(state): State<AppState>,
    acting: Acting,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    acting.require(Permission::Admin)?;
    let mut body = Body::parse(&body_bytes(body)?)?;
    let login = body.required_string("login")?;
    accounts::check_login(&login).map_err(account_error)?;
    let name = body.name()?;
    let roles = roles(&mut body)?.unwrap_or_default();
    let branches = branches(&mut body)?.unwrap_or_default();
    let password = password(&mut body, "password")?
        .ok_or_else(|| ApiError::field(ErrorCode::MissingField, "password", "password is required"))?;
    body.finish()?;
    let account = create_account(&state, login, name, roles, branches, password).await?;
    Ok((StatusCode::CREATED, Json(staff_json(&account))).into_response())
}

/// A new staff account, its login and password checked by `accounts`. The JSON API and the
/// staff client's account form both come here.
pub(crate) async fn create_account(
    state: &AppState,
    login: String,
    name: String,
    roles: Vec<String>,
    branches: Vec<Code>,
    password: String,
) -> Result<StaffAccount, ApiError> {
    accounts::check_login(&login).map_err(account_error)?;
    accounts::check_password(&login, &password).map_err(account_error)?;
    state
        .db(move |db| {
            let password_hash = accounts::hash_password(&password).map_err(account_error)?;
            let new = NewStaff { login, name, roles, branches, password_hash };
            db.create_staff(&new, Utc::now()).map_err(staff_error)
        })
        .await
}

/// `GET /staff/{login}`: Admin, or the staff member themselves.
pub(crate) async fn get_one(
    State(state): State<AppState>,
    acting: Acting,
    Path(login): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if !acting.is(&login) {
        acting.require(Permission::Admin)?;
    }
    let account = state.db(move |db| db.staff_account(&login)?.ok_or_else(|| not_found(&login))).await?;
    Ok(Json(staff_json(&account)))
}

/// `PUT /staff/{login}` with any of `name`, `roles`, `branches`, `active` (Admin).
pub(crate) async fn update(
    State(state): State<AppState>,
    acting: Acting,
    Path(login): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::Admin)?;
    let mut body = Body::parse(&body_bytes(body)?)?;
    if body.string("login")?.is_some_and(|l| l != login) {
        return Err(ApiError::field(ErrorCode::ReadOnlyField, "login", "a login cannot be changed"));
    }
    // Members a GET returned may come back unchanged.
    let _ = (body.raw("permissions"), body.raw("created_at"));
    let change = StaffChange {
        name: body.string("name")?,
        roles: roles(&mut body)?,
        branches: branches(&mut body)?,
        active: body.bool("active")?,
    };
    body.finish()?;
    Ok(Json(staff_json(&update_account(&state, &acting, login, change).await?)))
}

/// Changes an account's name, roles, branches or whether it is active; an administrator cannot
/// lock themselves out. The JSON API and the staff client's account form both come here.
pub(crate) async fn update_account(
    state: &AppState,
    acting: &Acting,
    login: String,
    change: StaffChange,
) -> Result<StaffAccount, ApiError> {
    if acting.is(&login)
        && (change.active == Some(false) || change.roles.as_ref().is_some_and(|r| !r.iter().any(|r| r == "admin")))
    {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "an administrator cannot disable their own account or take away their own admin role",
        ));
    }
    state.db(move |db| db.update_staff(&login, &change, Utc::now()).map_err(staff_error)).await
}

/// `PUT /staff/{login}/password` with `password` (and `current_password` when changing one's
/// own without Admin). Ends the account's sessions.
pub(crate) async fn set_password(
    State(state): State<AppState>,
    acting: Acting,
    Path(login): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let admin = acting.staff.may(Permission::Admin);
    if !acting.is(&login) {
        acting.require(Permission::Admin)?;
    }
    let mut body = Body::parse(&body_bytes(body)?)?;
    let new = password(&mut body, "password")?
        .ok_or_else(|| ApiError::field(ErrorCode::MissingField, "password", "password is required"))?;
    let current = password(&mut body, "current_password")?;
    body.finish()?;
    set_account_password(&state, admin, login, new, current).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets an account's password, ending its sessions: an administrator (`admin`) needs no
/// current password. The JSON API and the staff client's reset form both come here.
pub(crate) async fn set_account_password(
    state: &AppState,
    admin: bool,
    login: String,
    new: String,
    current: Option<String>,
) -> Result<(), ApiError> {
    accounts::check_password(&login, &new).map_err(account_error)?;
    state
        .db(move |db| {
            let (_, stored) = db.staff_credentials(&login)?.ok_or_else(|| not_found(&login))?;
            if !admin && !current.is_some_and(|c| accounts::verify_password(&c, &stored)) {
                return Err(ApiError::field(
                    ErrorCode::Forbidden,
                    "current_password",
                    "give your current password to change it",
                ));
            }
            let hash = accounts::hash_password(&new).map_err(account_error)?;
            db.set_staff_password(&login, &hash, Utc::now()).map_err(staff_error)
        })
        .await
}

/// `GET /staff/{login}/tokens`: Admin or the staff member.
pub(crate) async fn list_tokens(
    State(state): State<AppState>,
    acting: Acting,
    Path(login): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if !acting.is(&login) {
        acting.require(Permission::Admin)?;
    }
    let tokens = state.db(move |db| db.api_tokens(&login).map_err(staff_error)).await?;
    Ok(Json(json!({"tokens": tokens})))
}

/// `POST /staff/{login}/tokens` with `name`: a new API token, shown this once.
pub(crate) async fn create_token(
    State(state): State<AppState>,
    acting: Acting,
    Path(login): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    if !acting.is(&login) {
        acting.require(Permission::Admin)?;
    }
    let mut body = Body::parse(&body_bytes(body)?)?;
    let name = body.name()?;
    body.finish()?;
    let (token, stored) = state
        .db(move |db| {
            let (token, hash) = accounts::new_token().map_err(account_error)?;
            Ok((token, db.create_api_token(&login, &name, &hash, Utc::now()).map_err(staff_error)?))
        })
        .await?;
    let mut body = serde_json::to_value(&stored).map_err(ApiError::internal)?;
    body["token"] = json!(token);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `DELETE /staff/{login}/tokens/{id}`: revokes the token.
pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    acting: Acting,
    Path((login, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    if !acting.is(&login) {
        acting.require(Permission::Admin)?;
    }
    let id = super::parse_id(&id, "id")?;
    state.db(move |db| db.revoke_api_token(&login, id, Utc::now()).map_err(staff_error)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /audit?after=&limit=&staff=&action=`: the audit log, oldest first, keyset paged.
pub(crate) async fn audit_log(
    State(state): State<AppState>,
    acting: Acting,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    acting.require_any(&[Permission::Admin, Permission::Reports])?;
    let mut params = Params::new(query)?;
    let filter = AuditFilter { staff: params.take("staff")?, action: params.take("action")? };
    let page = params.page(&state)?;
    params.finish()?;
    let entries = state.db(move |db| Ok(db.audit_log(&filter, page)?)).await?;
    let last = entries.last().map(|e| e.id);
    let rows = entries.iter().map(|e| serde_json::to_value(e).unwrap_or(Value::Null)).collect();
    Ok(Json(page_json("entries", rows, last, page)))
}

/// `GET /overrides?after=&limit=`: every override (who, when, which refusals, why), oldest
/// first, keyset paged.
pub(crate) async fn override_log(
    State(state): State<AppState>,
    acting: Acting,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    acting.require_any(&[Permission::Admin, Permission::Reports])?;
    let mut params = Params::new(query)?;
    let page = params.page(&state)?;
    params.finish()?;
    let entries = state.db(move |db| Ok(db.override_log(page)?)).await?;
    let last = entries.last().map(|e| e.id);
    let rows = entries.iter().map(|e| serde_json::to_value(e).unwrap_or(Value::Null)).collect();
    Ok(Json(page_json("overrides", rows, last, page)))
}
