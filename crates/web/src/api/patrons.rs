//! Patrons over HTTP: registration, finding, reading and updating a patron, card renewal and
//! replacement, blocks, reading history (only when the patron chose to keep it), and a CSV
//! list of patrons. Every handler needs the ManagePatrons permission; each is one `desk` call.
//!
//! A form the library's rules refuse answers with the first problem's code and field, and
//! `problems` listing every problem with its own code, so a client can mark every field at once.

use super::{body_bytes, Body, Params};
use crate::auth::Acting;
use crate::error::{ApiError, ErrorCode};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use circulation::registration::FormProblem;
use circulation::Permission;
use desk::patrons::{BlockRequest, PatronError, PatronInput, RowOutcome};
use serde_json::{json, Value};
use storage::patrons::{
    BlockKind, HistoryChoice, NoticePreference, PatronBlock, PatronQuery, PatronRecord, ReadingHistory,
};

fn utc(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn patron_json(p: &PatronRecord) -> Value {
    let d = &p.details;
    json!({
        "id": p.id,
        "card_number": p.card_number,
        "surname": d.surname,
        "first_name": d.first_name,
        "category": d.category.as_str(),
        "home_branch": d.home_branch.as_str(),
        "expiry_date": d.expiry_date.to_string(),
        "birth_date": d.birth_date.map(|b| b.to_string()),
        "email": d.email,
        "phone": d.phone,
        "address": d.address,
        "guarantor": d.guarantor,
        "notice_preference": d.notice_preference.as_str(),
        "reading_history": d.reading_history.as_str(),
        "registered_at": utc(p.registered_at),
        "balance": p.balance.to_string(),
    })
}

fn block_json(b: &PatronBlock) -> Value {
    json!({
        "id": b.id,
        "kind": b.kind.as_str(),
        "reason": b.reason,
        "until": b.until.map(|u| u.to_string()),
        "placed_at": utc(b.placed_at),
        "placed_by": b.placed_by,
        "lifted_at": b.lifted.as_ref().map(|(at, _)| utc(*at)),
        "lifted_by": b.lifted.as_ref().map(|(_, by)| by.clone()),
    })
}

fn problem_code(code: &str) -> ErrorCode {
    match code {
        "missing_field" => ErrorCode::MissingField,
        "invalid_name" => ErrorCode::InvalidName,
        "invalid_email" => ErrorCode::InvalidEmail,
        "invalid_date" => ErrorCode::InvalidDate,
        "invalid_code" => ErrorCode::InvalidCode,
        "unknown_category" => ErrorCode::UnknownCategory,
        "age_outside_category" => ErrorCode::AgeOutsideCategory,
        "guarantor_required" => ErrorCode::GuarantorRequired,
        "unknown_guarantor" => ErrorCode::UnknownGuarantor,
        "invalid_guarantor" => ErrorCode::InvalidGuarantor,
        "invalid_card_number" => ErrorCode::InvalidCardNumber,
        "card_number_taken" => ErrorCode::CardNumberTaken,
        "card_number_replaced" => ErrorCode::CardNumberReplaced,
        "unknown_branch" => ErrorCode::UnknownBranch,
        "invalid_notice_preference" => ErrorCode::InvalidNoticePreference,
        "invalid_reading_history" => ErrorCode::InvalidReadingHistory,
        "password_too_short" | "password_too_long" | "invalid_password" => ErrorCode::InvalidPassword,
        _ => ErrorCode::InvalidBody,
    }
}

fn problems_json(problems: &[FormProblem]) -> Value {
    problems.iter().map(|p| json!({"field": p.field, "code": p.code, "message": p.message})).collect()
}

pub(crate) fn patron_error(e: PatronError) -> ApiError {
    match e {
        PatronError::Invalid(problems) => {
            let Some(first) = problems.first() else { return ApiError::internal("a refusal without a problem") };
            let message = problems.iter().map(|p| format!("{}: {}", p.field, p.message)).collect::<Vec<_>>().join("; ");
            ApiError {
                details: Some(("problems", problems_json(&problems))),
                ..ApiError::field(problem_code(first.code), first.field, message)
            }
        }
        e @ PatronError::Duplicate(_) => {
            let PatronError::Duplicate(list) = &e else { unreachable!() };
            let duplicates: Vec<Value> = list
                .iter()
                .map(|d| {
                    let reason = match d.reason {
                        circulation::registration::DuplicateReason::SameNameAndBirthDate => "same_name_and_birth_date",
                        circulation::registration::DuplicateReason::SameEmail => "same_email",
                    };
                    json!({"card_number": d.card_number, "name": d.name, "reason": reason})
                })
                .collect();
            ApiError {
                details: Some(("duplicates", Value::Array(duplicates))),
                ..ApiError::new(ErrorCode::DuplicatePatron, e.to_string())
            }
        }
        e @ PatronError::CardReplaced { .. } => ApiError::field(ErrorCode::CardReplaced, "card", e.to_string()),
        PatronError::NotFound { what: "patron card", key } => {
            ApiError::field(ErrorCode::UnknownCard, "card", format!("no patron has card {key}"))
        }
        PatronError::NotFound { what: "block", key } => {
            ApiError::field(ErrorCode::BlockNotFound, "id", format!("the patron has no block {key}"))
        }
        PatronError::NotFound { what, key } => {
            ApiError::new(ErrorCode::RouteNotFound, format!("{what} {key} does not exist"))
        }
        PatronError::Storage(e) => e.into(),
    }
}

fn date(body: &mut Body, name: &str) -> Result<Option<NaiveDate>, ApiError> {
    match body.string(name)? {
        None => Ok(None),
        Some(t) => NaiveDate::parse_from_str(&t, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| ApiError::field(ErrorCode::InvalidDate, name, format!("{t:?} is not a date (YYYY-MM-DD)"))),
    }
}

/// The form members of a registration or an update.
fn input(body: &mut Body) -> Result<PatronInput, ApiError> {
    let notice_preference = match body.string("notice_preference")? {
        None => NoticePreference::default(),
        Some(v) => NoticePreference::parse(&v).ok_or_else(|| {
            ApiError::field(
                ErrorCode::InvalidNoticePreference,
                "notice_preference",
                format!("{v:?} is not email, sms or print"),
            )
        })?,
    };
    let reading_history = match body.string("reading_history")? {
        None => HistoryChoice::default(),
        Some(v) => HistoryChoice::parse(&v).ok_or_else(|| {
            ApiError::field(
                ErrorCode::InvalidReadingHistory,
                "reading_history",
                format!("{v:?} is not keep, default or never"),
            )
        })?,
    };
    Ok(PatronInput {
        card_number: None,
        surname: body.string("surname")?.unwrap_or_default(),
        first_name: body.string("first_name")?.unwrap_or_default(),
        birth_date: date(body, "birth_date")?,
        email: body.string("email")?,
        phone: body.string("phone")?,
        address: body.string("address")?,
        category: body.code("category")?,
        home_branch: body.code("home_branch")?,
        guarantor: body.string("guarantor")?,
        notice_preference,
        reading_history,
    })
}

/// `POST /patrons`: registers a patron. `card_number` is optional (the next number of the
/// library's pattern is issued); `confirm_duplicate: true` registers a probable duplicate.
pub(crate) async fn register(
    State(state): State<AppState>,
    acting: Acting,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    acting.require(Permission::ManagePatrons)?;
    let mut body = Body::parse(&body_bytes(body)?)?;
    let card_number = body.string("card_number")?;
    let confirmed = body.bool("confirm_duplicate")?.unwrap_or(false);
    let input = PatronInput { card_number, ..input(&mut body)? };
    body.finish()?;
    let desk = state.desk.clone();
    let p = state.db(move |db| desk.register_patron(db, &input, confirmed, Utc::now()).map_err(patron_error)).await?;
    Ok((StatusCode::CREATED, Json(patron_json(&p))).into_response())
}

/// `GET /patrons?card=&name=&after=&limit=`: by card, by the start of "surname first name".
pub(crate) async fn find(
    State(state): State<AppState>,
    acting: Acting,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::ManagePatrons)?;
    let mut params = Params::new(query)?;
    let q = PatronQuery { card: params.take("card")?, name_prefix: params.take("name")?, ..PatronQuery::default() };
    let page = params.page(&state)?;
    params.finish()?;
    let desk = state.desk.clone();
    let found = state.db(move |db| desk.find_patrons(db, &q, page).map_err(patron_error)).await?;
    let last = found.last().map(|p| p.id);
    Ok(Json(super::page_json("patrons", found.iter().map(patron_json).collect(), last, page)))
}

/// `GET /patrons/{card}`: the patron, their unlifted blocks and the cards they had before.
pub(crate) async fn get_one(
    State(state): State<AppState>,
    acting: Acting,
    Path(card): Path<String>,
) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::ManagePatrons)?;
    let desk = state.desk.clone();
    let (p, blocks, cards) = state
        .db(move |db| {
            let p = desk.patron(db, &card).map_err(patron_error)?;
            let blocks = desk.blocks(db, &card).map_err(patron_error)?;
            let cards = desk.replaced_cards(db, &card).map_err(patron_error)?;
            Ok((p, blocks, cards))
        })
        .await?;
    let mut out = patron_json(&p);
    out["blocks"] = blocks.iter().filter(|b| b.lifted.is_none()).map(block_json).collect();
    out["replaced_cards"] = cards
        .iter()
        .map(|c| json!({"card_number": c.card_number, "replaced_at": utc(c.replaced_at), "reason": c.reason}))
        .collect();
    Ok(Json(out))
}

/// `PUT /patrons/{card}`: the patron's details, as a GET returned them (the card number, the
/// expiry, the balance and the other read-only members may be repeated; the card number may not
/// differ).
pub(crate) async fn update(
    State(state): State<AppState>,
    acting: Acting,
    Path(card): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::ManagePatrons)?;
    let mut body = Body::parse(&body_bytes(body)?)?;
    if let Some(c) = body.string("card_number")? {
        if c != card.trim() {
            return Err(ApiError::field(
                ErrorCode::ReadOnlyField,
                "card_number",
                "the card number changes by replacing the card (POST .../replacement)",
            ));
        }
    }
    for read_only in ["id", "expiry_date", "registered_at", "balance", "blocks", "replaced_cards"] {
        body.raw(read_only);
    }
    let input = input(&mut body)?;
    body.finish()?;
    let desk = state.desk.clone();
    let p = state.db(move |db| desk.update_patron(db, &card, &input, Utc::now()).map_err(patron_error)).await?;
    Ok(Json(patron_json(&p)))
}

/// `POST /patrons/{card}/renewal`: the card is renewed by its category's validity.
pub(crate) async fn renew(
    State(state): State<AppState>,
    acting: Acting,
    Path(card): Path<String>,
) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::ManagePatrons)?;
    let desk = state.desk.clone();
    let p = state.db(move |db| desk.renew_card(db, &card, Utc::now()).map_err(patron_error)).await?;
    Ok(Json(patron_json(&p)))
}

/// `POST /patrons/{card}/replacement` with optional `card_number` (else one is issued) and
/// `reason`: the old card stops working; loans, fines and history stay with the patron.
pub(crate) async fn replace(
    State(state): State<AppState>,
    acting: Acting,
    Path(card): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    acting.require(Permission::ManagePatrons)?;
    let bytes = body_bytes(body)?;
    let (new_card, reason) = if bytes.iter().all(u8::is_ascii_whitespace) {
        (None, None)
    } else {
        let mut body = Body::parse(&bytes)?;
        let parsed = (body.string("card_number")?, body.string("reason")?);
        body.finish()?;
        parsed
    };
    let desk = state.desk.clone();
    let staff = acting.name.clone();
    let p = state
        .db(move |db| {
            desk.replace_card(db, &card, new_card.as_deref(), &staff, reason.as_deref(), Utc::now())
                .map_err(patron_error)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(patron_json(&p))).into_response())
}

/// `GET /patrons/{card}/blocks`: every block, lifted ones too.
pub(crate) async fn blocks(
    State(state): State<AppState>,
    acting: Acting,
    Path(card): Path<String>,
) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::ManagePatrons)?;
    let desk = state.desk.clone();
    let blocks = state.db(move |db| desk.blocks(db, &card).map_err(patron_error)).await?;
    Ok(Json(json!({"blocks": blocks.iter().map(block_json).collect::<Vec<_>>()})))
}

/// `POST /patrons/{card}/blocks` with `kind` (manual, lost_card, address_unknown), `reason`
/// and, for a manual block, optionally `until` (its last day).
pub(crate) async fn add_block(
    State(state): State<AppState>,
    acting: Acting,
    Path(card): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    acting.require(Permission::ManagePatrons)?;
    let mut body = Body::parse(&body_bytes(body)?)?;
    let kind = body.required_string("kind")?;
    let kind = BlockKind::parse(&kind).ok_or_else(|| {
        ApiError::field(
            ErrorCode::InvalidBlockKind,
            "kind",
            format!("{kind:?} is not manual, lost_card or address_unknown"),
        )
    })?;
    let request =
        BlockRequest { kind, reason: body.string("reason")?.unwrap_or_default(), until: date(&mut body, "until")? };
    body.finish()?;
    let desk = state.desk.clone();
    let staff = acting.name.clone();
    let block =
        state.db(move |db| desk.add_block(db, &card, &request, &staff, Utc::now()).map_err(patron_error)).await?;
    Ok((StatusCode::CREATED, Json(block_json(&block))).into_response())
}

/// `PUT /patrons/{card}/password` with `password`: the PIN a self-check kiosk asks for (and the
/// OPAC's, later); `null` clears it. The password is hashed (argon2id) and never shown again.
pub(crate) async fn set_password(
    State(state): State<AppState>,
    acting: Acting,
    Path(card): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    acting.require(Permission::ManagePatrons)?;
    let mut body = Body::parse(&body_bytes(body)?)?;
    // Present and null clears; absent is a mistake, not a request to clear.
    if !body.0.contains_key("password") {
        return Err(ApiError::field(ErrorCode::MissingField, "password", "password is required (null clears it)"));
    }
    let password = match body.raw("password") {
        None => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            return Err(ApiError::field(ErrorCode::InvalidType, "password", "password must be a string or null"))
        }
    };
    body.finish()?;
    let desk = state.desk.clone();
    state
        .db(move |db| desk.set_patron_password(db, &card, password.as_deref(), Utc::now()).map_err(patron_error))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /patrons/{card}/blocks/{id}`: lifts the block (it stays on the record, lifted).
pub(crate) async fn lift_block(
    State(state): State<AppState>,
    acting: Acting,
    Path((card, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::ManagePatrons)?;
    let id = super::parse_id(&id, "id")?;
    let desk = state.desk.clone();
    let staff = acting.name.clone();
    let block = state.db(move |db| desk.lift_block(db, &card, id, &staff, Utc::now()).map_err(patron_error)).await?;
    Ok(Json(block_json(&block)))
}

/// `GET /patrons/{card}/history?after=&limit=`: returned loans, newest first, only for a patron
/// who chose to keep their history (`after` is the last `loan_id` of the previous page).
pub(crate) async fn history(
    State(state): State<AppState>,
    acting: Acting,
    Path(card): Path<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::ManagePatrons)?;
    let mut params = Params::new(query)?;
    let page = params.page(&state)?;
    params.finish()?;
    let desk = state.desk.clone();
    let history = state.db(move |db| desk.reading_history(db, &card, page).map_err(patron_error)).await?;
    match history {
        ReadingHistory::NotKept => {
            Err(ApiError::new(ErrorCode::HistoryNotKept, "the patron did not choose to keep their reading history"))
        }
        ReadingHistory::Kept(entries) => {
            let last = entries.last().map(|e| e.loan_id);
            let rows = entries
                .iter()
                .map(|e| {
                    json!({
                        "loan_id": e.loan_id,
                        "barcode": e.barcode,
                        "title": e.title,
                        "checked_out_at": utc(e.checked_out_at),
                        "returned_at": utc(e.returned_at),
                    })
                })
                .collect();
            Ok(Json(super::page_json("history", rows, last, page)))
        }
    }
}

/// `POST /patrons/import?dry_run=true` with a `text/csv` body: a per-row report. Each row is
/// registered in its own transaction; a bad row never stops the rest.
pub(crate) async fn import_csv(
    State(state): State<AppState>,
    acting: Acting,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::ManagePatrons)?;
    let mut params = Params::new(query)?;
    let dry_run = match params.take("dry_run")?.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::field(
                ErrorCode::InvalidParameter,
                "dry_run",
                format!("{other:?} is not true or false"),
            ))
        }
    };
    params.finish()?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("text/csv")) {
        return Err(ApiError::new(ErrorCode::UnsupportedMediaType, "send the patron list as text/csv"));
    }
    let bytes = body_bytes(body)?;
    let desk = state.desk.clone();
    let reports = state
        .db(move |db| {
            desk.import_patrons_csv(db, &bytes[..], dry_run, Utc::now(), &mut |_| {})
                .map_err(|e| ApiError::new(ErrorCode::InvalidCsv, e.to_string()))
        })
        .await?;
    let mut counts = [0u64; 4];
    let rows: Vec<Value> = reports
        .iter()
        .map(|r| {
            let (outcome, card, problems, slot) = match &r.outcome {
                RowOutcome::Registered { card_number } => ("registered", Some(card_number.clone()), None, 0),
                RowOutcome::WouldRegister => ("would_register", None, None, 0),
                RowOutcome::Duplicate { card_number } => ("duplicate", Some(card_number.clone()), None, 1),
                RowOutcome::DuplicateOfRow(_) => ("duplicate", None, None, 1),
                RowOutcome::Refused(p) => ("refused", None, Some(problems_json(p)), 2),
            };
            counts[slot] += 1;
            json!({"row": r.row, "outcome": outcome, "card_number": card, "problems": problems, "report": r.to_string()})
        })
        .collect();
    Ok(Json(json!({
        "dry_run": dry_run,
        "registered": if dry_run { 0 } else { counts[0] },
        "duplicates": counts[1],
        "refused": counts[2],
        "rows": rows,
    })))
}
