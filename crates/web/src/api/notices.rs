//! Notices over HTTP: the templates the library edits, the log of what was sent, the day's
//! print batch, and running a daily job on demand.
//!
//! Templates need `Admin` (there is no `Configure` permission in `circulation::Permission`
//! yet; when the staff work adds one, these two calls move to it).

use super::{body_bytes, Body, Params};
use crate::auth::Acting;
use crate::error::{ApiError, ErrorCode};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{NaiveDate, Utc};
use circulation::{NoticeKind, Permission};
use notices::{Template, TemplateError};
use serde_json::{json, Value};
use storage::notices::{NoticeRecord, StoredTemplate};

pub(crate) const CHANNELS: [&str; 2] = ["email", "print"];

fn kind(raw: &str) -> Result<NoticeKind, ApiError> {
    notices::parse_kind(raw).ok_or_else(|| {
        let known: Vec<&str> = notices::KINDS.iter().map(|k| k.as_str()).collect();
        ApiError::field(
            ErrorCode::NoticeKindNotFound,
            "kind",
            format!("there is no {raw:?} notice; the kinds are {}", known.join(", ")),
        )
    })
}

fn channel(raw: Option<String>) -> Result<String, ApiError> {
    match raw {
        None => Ok("email".to_string()),
        Some(c) if CHANNELS.contains(&c.as_str()) => Ok(c),
        Some(c) => Err(ApiError::field(ErrorCode::InvalidParameter, "channel", format!("{c:?} is not email or print"))),
    }
}

/// The template in force for a kind and channel: the library's own for the channel, else its
/// own for email, else the default.
fn effective(kind: NoticeKind, channel: &str, stored: &[StoredTemplate]) -> Value {
    match in_force(kind, channel, stored) {
        Some(t) => json!({
            "kind": kind.as_str(), "channel": channel, "subject": t.subject, "body": t.body, "default": false,
            "stored_for": t.channel, "updated_at": t.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "updated_by": t.updated_by,
        }),
        None => {
            let d = notices::default_template(kind);
            json!({"kind": kind.as_str(), "channel": channel, "subject": d.subject, "body": d.body, "default": true,
                   "stored_for": null, "updated_at": null, "updated_by": null})
        }
    }
}

/// The library's own template in force for a kind and channel (its own for the channel, else
/// its own for email); `None`: the default is in force.
pub(crate) fn in_force<'a>(
    kind: NoticeKind,
    channel: &str,
    stored: &'a [StoredTemplate],
) -> Option<&'a StoredTemplate> {
    stored
        .iter()
        .find(|t| t.kind == kind.as_str() && t.channel == channel)
        .or_else(|| stored.iter().find(|t| t.kind == kind.as_str() && t.channel == "email"))
}

fn placeholders() -> Value {
    notices::PLACEHOLDERS.iter().map(|(name, about)| json!({"name": format!("{{{name}}}"), "about": about})).collect()
}

/// `GET /notice-templates`: every kind's template in force for each channel, and the
/// placeholders a template may use.
pub(crate) async fn list_templates(State(state): State<AppState>, acting: Acting) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::Configure)?;
    let stored = state.db(|db| Ok(db.notice_templates()?)).await?;
    let templates: Vec<Value> = notices::KINDS
        .iter()
        .flat_map(|k| CHANNELS.iter().map(move |c| (*k, *c)))
        .map(|(k, c)| effective(k, c, &stored))
        .collect();
    Ok(Json(json!({"templates": templates, "placeholders": placeholders()})))
}

/// `GET /notice-templates/{kind}?channel=email|print`.
pub(crate) async fn get_template(
    State(state): State<AppState>,
    acting: Acting,
    Path(raw): Path<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::Configure)?;
    let kind = kind(&raw)?;
    let mut params = Params::new(query)?;
    let channel = channel(params.take("channel")?)?;
    params.finish()?;
    let stored = state.db(|db| Ok(db.notice_templates()?)).await?;
    let mut body = effective(kind, &channel, &stored);
    body["placeholders"] = placeholders();
    Ok(Json(body))
}

/// `PUT /notice-templates/{kind}` with `subject`, `body` and optionally `channel` (`email`, the
/// default, or `print`). Refused, naming the placeholder, when it uses one that does not exist.
pub(crate) async fn put_template(
    State(state): State<AppState>,
    acting: Acting,
    Path(raw): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let acting = acting.require(Permission::Configure)?.clone();
    let kind = kind(&raw)?;
    let mut body = Body::parse(&body_bytes(body)?)?;
    if let Some(k) = body.string("kind")? {
        if k != kind.as_str() {
            return Err(ApiError::field(
                ErrorCode::CodeMismatch,
                "kind",
                format!("the body says kind {k:?} but the path says {:?}", kind.as_str()),
            ));
        }
    }
    let channel = channel(body.string("channel")?)?;
    let subject = body.required_string("subject")?;
    // The body keeps its own layout: only a wholly blank one counts as missing.
    let text = match body.raw("body") {
        Some(Value::String(s)) if !s.trim().is_empty() => s,
        Some(Value::String(_)) | None => {
            return Err(ApiError::field(ErrorCode::MissingField, "body", "body is required"));
        }
        Some(_) => return Err(ApiError::field(ErrorCode::InvalidType, "body", "body must be a string")),
    };
    for read_only in ["default", "stored_for", "updated_at", "updated_by", "placeholders"] {
        body.raw(read_only);
    }
    body.finish()?;
    let all = save_template(&state, &acting, kind, channel.clone(), Template { subject, body: text }).await?;
    Ok(Json(effective(kind, &channel, &all)))
}

/// Checks a template (an unknown placeholder is refused on the part that has it) and stores it
/// for the kind and channel; every stored template afterwards. The JSON API and the staff
/// client's template form both come here.
pub(crate) async fn save_template(
    state: &AppState,
    acting: &Acting,
    kind: NoticeKind,
    channel: String,
    template: Template,
) -> Result<Vec<StoredTemplate>, ApiError> {
    notices::check(&template).map_err(|e| {
        let field = match &e {
            TemplateError::UnknownPlaceholder { part, .. }
            | TemplateError::Unclosed { part }
            | TemplateError::Unopened { part }
            | TemplateError::Empty { part } => *part,
            TemplateError::MultilineSubject => "subject",
        };
        ApiError::field(ErrorCode::InvalidTemplate, field, e.to_string())
    })?;
    let stored = StoredTemplate {
        kind: kind.as_str().to_string(),
        channel: channel.clone(),
        subject: template.subject,
        body: template.body,
        updated_at: Utc::now(),
        updated_by: acting.name.clone(),
    };
    state
        .db(move |db| {
            db.put_notice_template(&stored)?;
            Ok(db.notice_templates()?)
        })
        .await
}

fn notice_json(n: &NoticeRecord) -> Value {
    let time = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    json!({
        "id": n.id, "card_number": n.card_number, "kind": n.kind, "channel": n.channel,
        "recipient": n.recipient, "subject": n.subject, "body": n.body,
        "day": n.day.format("%Y-%m-%d").to_string(), "created_at": time(n.created_at),
        "status": n.status, "error": n.error, "delivered_at": n.delivered_at.map(time),
    })
}

/// `GET /notices?after=&limit=`: the log of notices, oldest first, keyset paged by id.
pub(crate) async fn log(
    State(state): State<AppState>,
    acting: Acting,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::Reports)?;
    let mut params = Params::new(query)?;
    let page = params.page(&state)?;
    params.finish()?;
    let rows = state.db(move |db| Ok(db.notices(page)?)).await?;
    let last = rows.last().map(|n| n.id);
    Ok(Json(super::page_json("notices", rows.iter().map(notice_json).collect(), last, page)))
}

fn date_param(params: &mut Params, state: &AppState) -> Result<NaiveDate, ApiError> {
    match params.take("date")? {
        None => Ok(jobs::library_day(&state.desk.circulation(), Utc::now())),
        Some(d) => NaiveDate::parse_from_str(&d, "%Y-%m-%d")
            .map_err(|_| ApiError::field(ErrorCode::InvalidDate, "date", format!("{d:?} is not a date (YYYY-MM-DD)"))),
    }
}

/// `GET /notices/print?date=YYYY-MM-DD` (default: today): the day's printed notices as one
/// HTML document, a page per notice, for the browser to print.
pub(crate) async fn print_batch(
    State(state): State<AppState>,
    acting: Acting,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    acting.require(Permission::Reports)?;
    let mut params = Params::new(query)?;
    let day = date_param(&mut params, &state)?;
    params.finish()?;
    let rows = state.db(move |db| Ok(db.print_notices(day)?)).await?;
    let batch: Vec<notices::PrintNotice> = rows
        .into_iter()
        .map(|n| notices::PrintNotice {
            addressee: format!("{} (card {})", n.patron_name, n.card_number),
            subject: n.subject,
            body: n.body,
        })
        .collect();
    let html = notices::print_batch(&state.notices.library_name, day, &batch);
    Ok(([(CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}

/// `POST /jobs/{name}/run?date=YYYY-MM-DD` (default: today): runs one daily job now. A job that
/// already ran that day is not run again; the answer says so, with that run's summary.
pub(crate) async fn run_job(
    State(state): State<AppState>,
    acting: Acting,
    Path(name): Path<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::Admin)?;
    let job = jobs::job(&name).ok_or_else(|| {
        let known: Vec<&str> = jobs::JOBS.iter().map(|j| j.name).collect();
        ApiError::field(
            ErrorCode::JobNotFound,
            "name",
            format!("there is no job {name:?}; the jobs are {}", known.join(", ")),
        )
    })?;
    let mut params = Params::new(query)?;
    let day = date_param(&mut params, &state)?;
    params.finish()?;
    let now = Utc::now();
    if day > jobs::library_day(&state.desk.circulation(), now) {
        return Err(ApiError::field(ErrorCode::InvalidDate, "date", "a day's jobs cannot run before that day"));
    }
    let (desk, notices) = (state.desk.clone(), state.notices.clone());
    let reports = state
        .db(move |db| {
            jobs::run_day(db, &desk.circulation(), &notices, day, now, &[job.name.to_string()])
                .map_err(ApiError::internal)
        })
        .await?;
    let report = reports.into_iter().next().ok_or_else(|| ApiError::internal("the job did not report"))?;
    let (outcome, summary) = match report.outcome {
        jobs::Outcome::Ran { summary } => ("ran", summary),
        jobs::Outcome::AlreadyRan { summary } => ("already_ran", summary),
        jobs::Outcome::Failed { error } => ("failed", error),
    };
    Ok(Json(
        json!({"job": job.name, "day": day.format("%Y-%m-%d").to_string(), "outcome": outcome, "summary": summary}),
    ))
}
