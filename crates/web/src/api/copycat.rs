//! Copy cataloging: the configured targets, a search of them (candidates with their summary,
//! whether the catalog holds them already, the preview and the record as MARC-in-JSON), and the
//! import of a chosen record through the import path. Everything needs the Catalog permission.
//! The searching itself is the `copycat` crate's; this file translates HTTP.

use super::{body_bytes, Body, Params};
use crate::auth::Acting;
use crate::error::{ApiError, ErrorCode};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use circulation::Permission;
use copycat::{Candidate, CopyQuery, CopycatError, Imported, InCatalog, OnMatch, Targets};
use serde_json::{json, Value};

/// How many records a search asks each target for when the request does not say.
const DEFAULT_MAX: usize = 10;

pub(crate) fn configured(state: &AppState) -> Result<&Targets, ApiError> {
    state
        .copycat
        .as_ref()
        .as_ref()
        .map_err(|e| ApiError::internal(format!("the [copycat] settings are not usable: {e}")))
}

/// `GET /copycat/targets`.
pub(crate) async fn targets(State(state): State<AppState>, acting: Acting) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::Catalog)?;
    let targets: Vec<Value> = configured(&state)?
        .all()
        .iter()
        .map(|t| {
            json!({
                "name": t.name,
                "kind": t.endpoint.kind(),
                "location": t.endpoint.location(),
                "timeout_seconds": t.timeout.as_secs(),
            })
        })
        .collect();
    Ok(Json(json!({ "targets": targets })))
}

/// The one access point a request searches by (`isbn=`, `title=`...), checked.
fn query_from(take: &mut dyn FnMut(&str) -> Result<Option<String>, ApiError>) -> Result<CopyQuery, ApiError> {
    let mut given: Vec<(&str, String)> = Vec::new();
    for name in copycat::ACCESS_POINTS {
        if let Some(term) = take(name)? {
            given.push((name, term));
        }
    }
    match given.as_slice() {
        [(name, term)] => {
            CopyQuery::parse(name, term).map_err(|e| ApiError::field(ErrorCode::InvalidParameter, *name, e.to_string()))
        }
        [] => Err(ApiError::field(
            ErrorCode::MissingField,
            "isbn",
            "give one of isbn, issn, lccn, title, author or keywords to search by",
        )),
        [_, (second, _), ..] => Err(ApiError::field(
            ErrorCode::InvalidParameter,
            *second,
            "search by one of isbn, issn, lccn, title, author or keywords at a time",
        )),
    }
}

fn selected(targets: &Targets, names: Option<String>) -> Result<Vec<copycat::Target>, ApiError> {
    let names: Vec<String> = names
        .map(|n| n.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect())
        .unwrap_or_default();
    let chosen =
        targets.select(&names).map_err(|e| ApiError::field(ErrorCode::UnknownTarget, "target", e.to_string()))?;
    if chosen.is_empty() {
        return Err(ApiError::field(ErrorCode::UnknownTarget, "target", "no copy-cataloging targets are configured"));
    }
    Ok(chosen)
}

/// `GET /copycat/search?target=a,b&isbn=...&max=10`: every named target (all when none is
/// named) searched at once; a target that fails is reported in its own entry.
pub(crate) async fn search(
    State(state): State<AppState>,
    acting: Acting,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::Catalog)?;
    let mut params = Params::new(query)?;
    let chosen = selected(configured(&state)?, params.take("target")?)?;
    let copy_query = query_from(&mut |name| params.take(name))?;
    let max = params.number::<usize>("max")?.unwrap_or(DEFAULT_MAX);
    if !(1..=copycat::MAX_RECORDS).contains(&max) {
        return Err(ApiError::field(
            ErrorCode::InvalidParameter,
            "max",
            format!("max must be between 1 and {}", copycat::MAX_RECORDS),
        ));
    }
    params.finish()?;
    let q = copy_query.clone();
    let results = state
        .db(move |db| {
            let results = copycat::search(&chosen, &q, max);
            results
                .into_iter()
                .map(|r| match r.outcome {
                    Ok(hits) => {
                        let candidates = hits
                            .candidates
                            .iter()
                            .map(|c| Ok(candidate_json(c, &copycat::in_catalog(db, &c.record).map_err(copycat_error)?)))
                            .collect::<Result<Vec<Value>, ApiError>>()?;
                        let unreadable: Vec<Value> = hits
                            .unreadable
                            .iter()
                            .map(|(p, reason)| json!({"position": p, "reason": reason}))
                            .collect();
                        Ok(json!({
                            "target": r.target,
                            "ok": true,
                            "hits": hits.hits,
                            "candidates": candidates,
                            "unreadable": unreadable,
                        }))
                    }
                    Err(e) => Ok(json!({ "target": r.target, "ok": false, "error": e.to_string() })),
                })
                .collect::<Result<Vec<Value>, ApiError>>()
        })
        .await?;
    Ok(Json(json!({
        "query": {
            "access_point": copy_query.access_point(),
            "term": copy_query.term(),
            "cql": copy_query.to_cql(),
        },
        "targets": results,
    })))
}

pub(crate) fn in_catalog_json(m: &InCatalog) -> Value {
    match m {
        InCatalog::No => json!({"status": "new"}),
        InCatalog::Identical(id) => json!({"status": "identical", "id": id}),
        InCatalog::Matched(id) => json!({"status": "matched", "id": id}),
        InCatalog::Refused(reason) => json!({"status": "refused", "reason": reason}),
    }
}

fn candidate_json(c: &Candidate, in_catalog: &InCatalog) -> Value {
    let s = &c.summary;
    json!({
        "position": c.position,
        "summary": {
            "title": s.title,
            "responsibility": s.responsibility,
            "authors": s.authors,
            "publisher": s.publisher,
            "year": s.year,
            "isbns": s.isbns,
            "lccn": s.lccn,
            "control_number": s.control_number,
            "format": s.format,
        },
        "in_catalog": in_catalog_json(in_catalog),
        "preview": copycat::preview(&c.record),
        "warnings": c.warnings,
        "record": marc::json::to_json(&c.record),
    })
}

/// A copycat failure as the API's error: the catalog's refusal is 422 like `POST /records`, a
/// target that failed is 502 naming it.
fn copycat_error(e: CopycatError) -> ApiError {
    match e {
        CopycatError::Rejected { code, reason } => {
            ApiError::new(ErrorCode::RecordRejected, format!("{code}: {reason}"))
        }
        CopycatError::Storage(message) => ApiError::internal(message),
        CopycatError::NoSuchPosition { .. } => ApiError::field(ErrorCode::NoSuchCandidate, "position", e.to_string()),
        CopycatError::UnknownTarget(_) => ApiError::field(ErrorCode::UnknownTarget, "target", e.to_string()),
        other => ApiError::new(ErrorCode::TargetFailed, other.to_string()),
    }
}

pub(crate) fn parse_on_match(raw: Option<&str>) -> Result<OnMatch, ApiError> {
    match raw {
        None | Some("skip") => Ok(OnMatch::Skip),
        Some("replace") => Ok(OnMatch::Replace),
        Some("add") => Ok(OnMatch::Add),
        Some(other) => Err(ApiError::field(
            ErrorCode::InvalidChoice,
            "on_match",
            format!("on_match {other:?} is not one of skip, replace, add"),
        )),
    }
}

/// What an import did, as the API answers it.
pub(crate) fn imported_json(target: &str, imported: Imported) -> Value {
    let id = imported.id();
    json!({
        "target": target,
        "outcome": imported.as_str(),
        "id": id,
        "record": format!("/api/v1/records/{id}"),
    })
}

/// `POST /copycat/import`: `{target, record: MARC-in-JSON, on_match}`, or `{target, isbn (or
/// another access point), position, on_match}` to search the target again and take the record
/// at that position. 201 when a record was added, 200 when it matched one.
pub(crate) async fn import(
    State(state): State<AppState>,
    acting: Acting,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    acting.require(Permission::Catalog)?;
    let mut body = Body::parse(&body_bytes(body)?)?;
    let target_name = body.required_string("target")?;
    let target = configured(&state)?.get(&target_name).cloned().ok_or_else(|| {
        ApiError::field(ErrorCode::UnknownTarget, "target", format!("no target is named {target_name:?}"))
    })?;
    let on_match = parse_on_match(body.string("on_match")?.as_deref())?;
    let source = match body.raw("record") {
        Some(value) => {
            let record = marc::json::from_json(&value).map_err(|e| {
                let message = format!("record is not a MARC-in-JSON record: {e}");
                ApiError::field(ErrorCode::InvalidMarc, format!("record.{}", e.path).trim_end_matches('.'), message)
            })?;
            for name in copycat::ACCESS_POINTS.iter().copied().chain(["position"]) {
                if body.raw(name).is_some() {
                    return Err(ApiError::field(
                        ErrorCode::InvalidParameter,
                        name,
                        "send either the record, or a query and a position, not both",
                    ));
                }
            }
            Ok(record)
        }
        None => {
            let query = query_from(&mut |name| body.string(name))?;
            let position = match body.raw("position") {
                Some(Value::Number(n)) => n
                    .as_u64()
                    .filter(|p| *p >= 1)
                    .ok_or_else(|| ApiError::field(ErrorCode::InvalidParameter, "position", "position is 1 or more"))?,
                Some(_) => {
                    return Err(ApiError::field(ErrorCode::InvalidType, "position", "position must be a number"))
                }
                None => {
                    return Err(ApiError::field(
                        ErrorCode::MissingField,
                        "position",
                        "position is required with a query (or send the record itself)",
                    ))
                }
            };
            Err((query, position as usize))
        }
    };
    body.finish()?;
    let name = target_name.clone();
    let imported = state
        .db(move |db| {
            let record = match source {
                Ok(record) => record,
                Err((query, position)) => copycat::fetch(&target, &query, position).map_err(copycat_error)?.record,
            };
            copycat::import(db, record, on_match).map_err(copycat_error)
        })
        .await?;
    let status = if matches!(imported, Imported::Added(_)) { StatusCode::CREATED } else { StatusCode::OK };
    let location = format!("/api/v1/records/{}", imported.id());
    Ok((status, [(header::LOCATION, location)], Json(imported_json(&name, imported))).into_response())
}
