//! The patron's account over HTTP (charges, payments, waivers, write-offs, refunds, payouts),
//! claims returned, damage inspections and the repair queue. Money goes both ways as strings
//! ("12.50"), never JSON numbers, so no client ever rounds it through a float. Entries are named
//! by their stored id; a payment or waiver may name the charges it pays (`charges`), else it is
//! applied oldest first.
//!
//! Permissions: money (charges included) needs HandleMoney. Claims returned is a loan decision at
//! the desk: Circulate. An inspection is part of checking an item in, so CheckIn (a volunteer at
//! the book drop can send a torn book to repair), and HandleMoney as well when it charges the
//! borrower. The repair queue and "repaired" are collection maintenance, done by technical
//! services, and put a copy back into circulation: Catalog.

use super::{body_bytes, items::item_json, parse_id, path_code, Body};
use crate::auth::Acting;
use crate::error::{ApiError, ErrorCode};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use catalog::{Barcode, Money};
use chrono::{DateTime, Utc};
use circulation::{Actor, ChargeKind, CreditKind, EntryKind, LedgerError, PaymentMethod, Permission};
use desk::ledger::{CreditRequest, Posted};
use desk::DeskError;
use serde_json::{json, Value};
use storage::ledger::{Account, Condition, Inspection, LedgerRefusal, NewInspection, StopKind, StoppedLoan};

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn actor(a: Actor) -> Value {
    match a {
        Actor::System => json!("system"),
        Actor::Patron => json!("patron"),
        Actor::Staff(id) => json!({"staff": id.0}),
    }
}

pub(crate) fn acting_actor(acting: &Acting) -> Actor {
    Actor::Staff(acting.staff.id)
}

/// The account as the desk shows it: every entry with who, when and why; charges with what is
/// still outstanding; credits with where they went.
pub(crate) fn account_json(a: &Account) -> Value {
    let row = |id: circulation::EntryId| a.row(id).map(|r| r.id);
    let entries: Vec<Value> = a
        .ledger
        .entries()
        .iter()
        .zip(&a.rows)
        .map(|(e, r)| {
            let mut v = json!({
                "id": r.id,
                "at": time(e.at),
                "by": actor(e.by),
                "note": e.note,
                "loan_id": r.loan_id,
                "amount": e.signed_amount().to_string(),
            });
            match &e.kind {
                EntryKind::Charge { kind, item, .. } => {
                    v["type"] = json!("charge");
                    v["kind"] = json!(kind.as_str());
                    v["item_id"] = json!(item.map(|i| i.0));
                    v["outstanding"] = json!(a.ledger.outstanding(e.id).map(|m| m.to_string()));
                    v["refundable"] = json!(a.ledger.refundable(e.id).map(|m| m.to_string()));
                }
                EntryKind::Credit { kind, applied, .. } => {
                    let (t, method) = match kind {
                        CreditKind::Payment(m) => ("payment", Some(m.as_str())),
                        CreditKind::Deposit(m) => ("deposit", Some(m.as_str())),
                        CreditKind::Waiver => ("waiver", None),
                        CreditKind::WriteOff => ("write_off", None),
                        CreditKind::Refund { charge } => {
                            v["refund_of"] = json!(row(*charge));
                            ("refund", None)
                        }
                    };
                    v["type"] = json!(t);
                    v["method"] = json!(method);
                    v["applied"] = Value::Array(
                        applied
                            .iter()
                            .map(|x| json!({"charge": row(x.charge), "amount": x.amount.to_string()}))
                            .collect(),
                    );
                }
                EntryKind::Payout { method, .. } => {
                    v["type"] = json!("payout");
                    v["method"] = json!(method.as_str());
                }
            }
            v
        })
        .collect();
    json!({
        "card_number": a.patron.card_number,
        "balance": a.patron.balance.to_string(),
        "credit": a.ledger.credit().to_string(),
        "entries": entries,
    })
}

fn posted_json(p: &Posted) -> Value {
    let mut v = account_json(&p.account);
    v["posted"] = json!(p.entries);
    v
}

/// A refusal from the ledger or the desk, with its own code.
pub(crate) fn refusal(e: DeskError) -> ApiError {
    let DeskError::Ledger(r) = e else {
        return match e {
            DeskError::NotFound { what: "patron card", key } => {
                ApiError::field(ErrorCode::UnknownCard, "card", format!("no patron has card {key}"))
            }
            DeskError::NotFound { what: "item", key } => {
                ApiError::field(ErrorCode::UnknownItem, "barcode", format!("no item has barcode {key}"))
            }
            other => ApiError::internal(other),
        };
    };
    let message = r.to_string();
    match r {
        LedgerRefusal::Ledger(LedgerError::NotPositive(_)) => {
            ApiError::field(ErrorCode::InvalidAmount, "amount", "the amount must be more than 0.00")
        }
        LedgerRefusal::Ledger(LedgerError::ExceedsOutstanding { .. }) => {
            ApiError::field(ErrorCode::ExceedsOutstanding, "amount", message)
        }
        LedgerRefusal::Ledger(LedgerError::ReasonRequired) => {
            ApiError::field(ErrorCode::MissingField, "note", "a waiver, write-off or refund needs a reason in note")
        }
        LedgerRefusal::Ledger(LedgerError::ExceedsPaid { .. }) => {
            ApiError::field(ErrorCode::ExceedsPaid, "amount", message)
        }
        LedgerRefusal::Ledger(LedgerError::ExceedsCredit { .. }) => {
            ApiError::field(ErrorCode::ExceedsCredit, "amount", message)
        }
        LedgerRefusal::Ledger(LedgerError::Overflow) => ApiError::field(ErrorCode::InvalidAmount, "amount", message),
        LedgerRefusal::UnknownCharge(row) => {
            ApiError::field(ErrorCode::UnknownCharge, "charges", format!("entry {row} is not a charge on this account"))
        }
        LedgerRefusal::Ledger(LedgerError::NotACharge(_)) => {
            ApiError::field(ErrorCode::UnknownCharge, "charges", message)
        }
        LedgerRefusal::Ledger(other) => ApiError::internal(other),
        LedgerRefusal::NotOnLoan(_) => ApiError::field(ErrorCode::NotOnLoan, "barcode", message),
        LedgerRefusal::AlreadyStopped { .. } => ApiError::field(ErrorCode::LoanAlreadyStopped, "barcode", message),
        LedgerRefusal::OnLoan(_) => ApiError::field(ErrorCode::ItemOnLoan, "barcode", message),
        LedgerRefusal::NoBorrower(_) => ApiError::field(ErrorCode::NoBorrower, "damage_charge", message),
        LedgerRefusal::NotInRepair(_) => ApiError::field(ErrorCode::NotInRepair, "id", message),
    }
}

fn amount(body: &mut Body, name: &str) -> Result<Option<Money>, ApiError> {
    match body.raw(name) {
        None => Ok(None),
        Some(Value::String(s)) => Money::parse(s.trim())
            .map(Some)
            .map_err(|e| ApiError::field(ErrorCode::InvalidAmount, name, format!("{name} {s:?}: {e}"))),
        Some(_) => Err(ApiError::field(
            ErrorCode::InvalidType,
            name,
            format!("{name} must be a string of money such as \"12.50\", never a JSON number"),
        )),
    }
}

fn required_amount(body: &mut Body, name: &str) -> Result<Money, ApiError> {
    amount(body, name)?.ok_or_else(|| ApiError::field(ErrorCode::MissingField, name, format!("{name} is required")))
}

/// A member that must be one of a few names.
fn choice<T: Copy>(
    body: &mut Body,
    name: &str,
    all: &[T],
    as_str: fn(T) -> &'static str,
) -> Result<Option<T>, ApiError> {
    match body.string(name)? {
        None => Ok(None),
        Some(v) => all.iter().copied().find(|c| as_str(*c) == v).map(Some).ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|c| as_str(*c)).collect();
            ApiError::field(ErrorCode::InvalidChoice, name, format!("{name} {v:?} is not one of {}", names.join(", ")))
        }),
    }
}

fn required<T>(v: Option<T>, name: &str) -> Result<T, ApiError> {
    v.ok_or_else(|| ApiError::field(ErrorCode::MissingField, name, format!("{name} is required")))
}

/// `charges`: a list of entry ids, in the order to pay them.
fn charges(body: &mut Body) -> Result<Option<Vec<i64>>, ApiError> {
    let bad = || ApiError::field(ErrorCode::InvalidType, "charges", "charges must be a list of entry ids");
    match body.raw("charges") {
        None => Ok(None),
        Some(Value::Array(list)) if !list.is_empty() => {
            list.iter().map(|v| v.as_i64().filter(|i| *i > 0).ok_or_else(bad)).collect::<Result<_, _>>().map(Some)
        }
        Some(_) => Err(bad()),
    }
}

fn barcode(body: &mut Body) -> Result<Barcode, ApiError> {
    let raw = body.required_string("barcode")?;
    Barcode::parse(&raw).map_err(|e| ApiError::field(ErrorCode::InvalidBarcode, "barcode", e.to_string()))
}

fn created(v: Value) -> Response {
    (StatusCode::CREATED, Json(v)).into_response()
}

/// `GET /patrons/{card}/account`.
pub(crate) async fn account(
    State(state): State<AppState>,
    acting: Acting,
    Path(card): Path<String>,
) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::HandleMoney)?;
    let account = state
        .db(move |db| {
            db.account(&card)?
                .ok_or_else(|| ApiError::field(ErrorCode::UnknownCard, "card", format!("no patron has card {card}")))
        })
        .await?;
    Ok(Json(account_json(&account)))
}

/// `POST /patrons/{card}/charges` with `kind`, `amount`, `note` and optionally `item_id`.
pub(crate) async fn charge(
    State(state): State<AppState>,
    acting: Acting,
    Path(card): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    acting.require(Permission::HandleMoney)?;
    let mut body = Body::parse(&body_bytes(body)?)?;
    let kind = required(choice(&mut body, "kind", &ChargeKind::ALL, ChargeKind::as_str)?, "kind")?;
    let amount = required_amount(&mut body, "amount")?;
    let note = body.required_string("note")?;
    let item = body.id("item_id")?;
    body.finish()?;
    let by = acting_actor(&acting);
    let posted = state
        .db(move |db| {
            if let Some(id) = item {
                if db.item(id)?.is_none() {
                    return Err(ApiError::field(ErrorCode::UnknownItem, "item_id", format!("there is no item {id}")));
                }
            }
            desk::ledger::charge(db, &card, kind, amount, item, by, &note, Utc::now()).map_err(refusal)
        })
        .await?;
    Ok(created(posted_json(&posted)))
}

async fn credit(
    state: AppState,
    acting: Acting,
    card: String,
    body: Result<Bytes, BytesRejection>,
    kind: Option<CreditRequest>,
) -> Result<Response, ApiError> {
    acting.require(Permission::HandleMoney)?;
    let mut body = Body::parse(&body_bytes(body)?)?;
    let amount = required_amount(&mut body, "amount")?;
    let picked = charges(&mut body)?;
    let kind = match kind {
        Some(k) => k,
        None => {
            let method = required(choice(&mut body, "method", &PaymentMethod::ALL, PaymentMethod::as_str)?, "method")?;
            CreditRequest::Payment { method, keep_credit: body.bool("keep_credit")?.unwrap_or(false) }
        }
    };
    // A payment's note is optional; a waiver's or write-off's is its reason, checked by the ledger.
    let note = body.string("note")?.unwrap_or_default();
    body.finish()?;
    let by = acting_actor(&acting);
    let posted = state
        .db(move |db| {
            desk::ledger::credit(db, &card, kind, amount, picked.as_deref(), by, &note, Utc::now()).map_err(refusal)
        })
        .await?;
    Ok(created(posted_json(&posted)))
}

/// `POST /patrons/{card}/payments` with `amount`, `method` (cash, card), optionally `charges`
/// (ids, paid in that order; else oldest first), `keep_credit` (what is over the amount owed
/// becomes account credit; else it is refused) and `note`.
pub(crate) async fn pay(
    State(state): State<AppState>,
    acting: Acting,
    Path(card): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    credit(state, acting, card, body, None).await
}

/// `POST /patrons/{card}/waivers` with `amount`, `note` (the reason) and optionally `charges`.
pub(crate) async fn waive(
    State(state): State<AppState>,
    acting: Acting,
    Path(card): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    credit(state, acting, card, body, Some(CreditRequest::Waiver)).await
}

/// `POST /patrons/{card}/write-offs` with `amount`, `note` (the reason) and optionally `charges`.
pub(crate) async fn write_off(
    State(state): State<AppState>,
    acting: Acting,
    Path(card): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    credit(state, acting, card, body, Some(CreditRequest::WriteOff)).await
}

/// `POST /patrons/{card}/refunds` with `charge` (an id), `amount` and `note` (the reason).
pub(crate) async fn refund(
    State(state): State<AppState>,
    acting: Acting,
    Path(card): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    acting.require(Permission::HandleMoney)?;
    let mut body = Body::parse(&body_bytes(body)?)?;
    let charge = required(body.id("charge")?, "charge")?;
    let amount = required_amount(&mut body, "amount")?;
    let note = body.string("note")?.unwrap_or_default();
    body.finish()?;
    let by = acting_actor(&acting);
    let posted = state
        .db(move |db| {
            desk::ledger::refund(db, &card, charge, amount, by, &note, Utc::now()).map_err(|e| match refusal(e) {
                ApiError { code: ErrorCode::UnknownCharge, message, .. } => {
                    ApiError::field(ErrorCode::UnknownCharge, "charge", message)
                }
                other => other,
            })
        })
        .await?;
    Ok(created(posted_json(&posted)))
}

/// `POST /patrons/{card}/payouts` with `amount`, `method` and optionally `note`: account credit
/// (a refund, an overpayment) handed back.
pub(crate) async fn payout(
    State(state): State<AppState>,
    acting: Acting,
    Path(card): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    acting.require(Permission::HandleMoney)?;
    let mut body = Body::parse(&body_bytes(body)?)?;
    let amount = required_amount(&mut body, "amount")?;
    let method = required(choice(&mut body, "method", &PaymentMethod::ALL, PaymentMethod::as_str)?, "method")?;
    let note = body.string("note")?.unwrap_or_default();
    body.finish()?;
    let by = acting_actor(&acting);
    let posted = state
        .db(move |db| desk::ledger::payout(db, &card, method, amount, by, &note, Utc::now()).map_err(refusal))
        .await?;
    Ok(created(posted_json(&posted)))
}

fn stopped_json(s: &StoppedLoan, claims: u32) -> Value {
    json!({
        "loan_id": s.loan.id,
        "item_id": s.loan.item_id,
        "stopped": s.kind.as_str(),
        "at": time(s.at),
        "item_status": s.kind.item_status().as_str(),
        "posted": s.entries,
        "balance": s.account.patron.balance.to_string(),
        "claims_returned": claims,
    })
}

/// `POST /claims-returned` with `barcode` and optionally `note`: the patron says the copy on loan
/// to them came back. Its fine stops (the fine to date is charged), the copy goes missing, and
/// the patron's count of claims grows.
pub(crate) async fn claims_returned(
    State(state): State<AppState>,
    acting: Acting,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    acting.require(Permission::Circulate)?;
    let mut body = Body::parse(&body_bytes(body)?)?;
    let item = barcode(&mut body)?;
    let note = body.string("note")?.unwrap_or_default();
    body.finish()?;
    let by = acting_actor(&acting);
    let desk = state.desk.clone();
    let (stopped, claims) = state
        .db(move |db| {
            let stopped = desk.claims_returned(db, &item, by, &note, Utc::now()).map_err(refusal)?;
            let claims = db.claims_returned_count(stopped.loan.patron_id)?;
            Ok((stopped, claims))
        })
        .await?;
    debug_assert_eq!(stopped.kind, StopKind::ClaimsReturned);
    Ok(created(stopped_json(&stopped, claims)))
}

fn inspection_json(i: &Inspection) -> Value {
    json!({
        "id": i.id,
        "item_id": i.item_id,
        "branch": i.branch.as_str(),
        "at": time(i.at),
        "condition": i.condition.as_str(),
        "note": i.note,
        "charged": i.charged.map(|(patron, entry)| json!({"patron_id": patron, "entry": entry})),
        "to_repair": i.to_repair,
        "item_status": i.status.as_str(),
    })
}

/// `POST /inspections` with `barcode`, `branch`, `condition` (good, worn, damaged, unusable),
/// `note`, optionally `damage_charge` (charged to the last borrower) and `repair` (to the
/// branch's repair queue).
pub(crate) async fn inspect(
    State(state): State<AppState>,
    acting: Acting,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    acting.require(Permission::CheckIn)?;
    let mut body = Body::parse(&body_bytes(body)?)?;
    let item = barcode(&mut body)?;
    let branch = body.required_code("branch")?;
    let condition = required(choice(&mut body, "condition", &Condition::ALL, Condition::as_str)?, "condition")?;
    let note = body.required_string("note")?;
    let damage_charge = amount(&mut body, "damage_charge")?;
    let to_repair = body.bool("repair")?.unwrap_or(false);
    body.finish()?;
    if damage_charge.is_some() {
        acting.require(Permission::HandleMoney)?;
    }
    let new = NewInspection {
        barcode: item,
        branch: branch.clone(),
        condition,
        note,
        damage_charge,
        to_repair,
        by: acting_actor(&acting),
    };
    let done = state
        .db(move |db| {
            if db.branch(&branch)?.is_none() {
                return Err(ApiError::field(
                    ErrorCode::UnknownBranch,
                    "branch",
                    format!("there is no branch {branch}"),
                ));
            }
            desk::ledger::inspect(db, &new, Utc::now()).map_err(refusal)
        })
        .await?;
    Ok(created(inspection_json(&done)))
}

/// `GET /branches/{code}/repairs`: the branch's repair queue, longest waiting first.
pub(crate) async fn repairs(
    State(state): State<AppState>,
    acting: Acting,
    Path(code): Path<String>,
) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::Catalog)?;
    let branch = path_code(&code)?;
    let queue = state
        .db(move |db| {
            if db.branch(&branch)?.is_none() {
                return Err(ApiError::field(ErrorCode::BranchNotFound, "code", format!("there is no branch {branch}")));
            }
            desk::ledger::repair_queue(db, &branch).map_err(refusal)
        })
        .await?;
    let rows: Vec<Value> = queue
        .iter()
        .map(|r| {
            json!({
                "item": item_json(&r.item),
                "inspection_id": r.inspection_id,
                "condition": r.condition.as_str(),
                "note": r.note,
                "queued_at": time(r.queued_at),
            })
        })
        .collect();
    Ok(Json(json!({"branch": code, "repairs": rows})))
}

/// `POST /items/{id}/repaired`: back from repair, available again.
pub(crate) async fn repaired(
    State(state): State<AppState>,
    acting: Acting,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::Catalog)?;
    let id = parse_id(&id, "id")?;
    let by = acting_actor(&acting);
    let item = state
        .db(move |db| {
            if db.item(id)?.is_none() {
                return Err(ApiError::field(ErrorCode::ItemNotFound, "id", format!("there is no item {id}")));
            }
            desk::ledger::repaired(db, id, by, Utc::now()).map_err(refusal)
        })
        .await?;
    Ok(Json(item_json(&item)))
}
