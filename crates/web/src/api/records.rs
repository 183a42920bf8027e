//! Bibliographic records: list with filters and keyset paging, get (JSON with MARC-in-JSON,
//! MARCXML or ISO 2709 by content negotiation), create and update from MARC-in-JSON or MARCXML,
//! delete.

use super::{body_bytes, page_json, parse_id, Params};
use crate::auth::Acting;
use crate::error::{ApiError, ErrorCode};
use crate::marcio;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use circulation::Permission;
use serde_json::{json, Value};
use storage::{RecordFilter, StorageError, StoredRecord};

pub(crate) const MARCXML: &str = "application/marcxml+xml";
pub(crate) const ISO2709: &str = "application/marc";

/// A stored record as the API shows it: id, timestamps and every derived field at the top
/// level, plus `marc` (MARC-in-JSON) when asked for.
pub(crate) fn record_json(r: &StoredRecord, marc: Option<Value>) -> Result<Value, ApiError> {
    let mut v = serde_json::to_value(&r.derived).map_err(ApiError::internal)?;
    let Some(obj) = v.as_object_mut() else {
        return Err(ApiError::internal("derived fields did not serialise to an object"));
    };
    obj.insert("id".into(), json!(r.id));
    obj.insert("created_at".into(), json!(r.created_at));
    obj.insert("updated_at".into(), json!(r.updated_at));
    if let Some(marc) = marc {
        obj.insert("marc".into(), marc);
    }
    Ok(v)
}

pub(crate) fn record_not_found(id: i64) -> ApiError {
    ApiError::field(ErrorCode::RecordNotFound, "id", format!("there is no record {id}"))
}

/// Reads the record filters shared by the API and the HTML browse page.
pub(crate) fn filter_from(params: &mut Params) -> Result<RecordFilter, ApiError> {
    let isbn = match params.take("isbn")? {
        None => None,
        Some(raw) => Some(marcio::normalise_isbn(&raw).ok_or_else(|| {
            ApiError::field(ErrorCode::InvalidIsbn, "isbn", format!("{raw:?} is not a valid ISBN-10 or ISBN-13"))
        })?),
    };
    let format = match params.take("format")? {
        None => None,
        Some(raw) => Some(parse_format(&raw)?),
    };
    let year_from = params.number::<i32>("year_from")?;
    let year_to = params.number::<i32>("year_to")?;
    Ok(RecordFilter {
        title: params.take("title")?,
        author: params.take("author")?,
        isbn,
        year_from,
        year_to,
        format,
        branch: params.code("branch")?,
        ids: None,
    })
}

fn parse_format(raw: &str) -> Result<catalog::Format, ApiError> {
    serde_json::from_value(Value::String(raw.to_string())).map_err(|_| {
        ApiError::field(
            ErrorCode::InvalidFormat,
            "format",
            format!("{raw:?} is not a format (book, large_print, dvd, ...)"),
        )
    })
}

/// `GET /records?title=&author=&isbn=&year_from=&year_to=&format=&branch=&after=&limit=`.
pub(crate) async fn list(
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let mut params = Params::new(query)?;
    let filter = filter_from(&mut params)?;
    let page = params.page(&state)?;
    params.finish()?;
    let records = state.db(move |db| Ok(db.records(&filter, page)?)).await?;
    let last = records.last().map(|r| r.id);
    let rows = records.iter().map(|r| record_json(r, None)).collect::<Result<Vec<_>, _>>()?;
    Ok(Json(page_json("records", rows, last, page)))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Representation {
    Json,
    MarcXml,
    Iso2709,
}

/// `?format=` wins over `Accept`. Accept ranges are tried by quality, then in order; `*/*` and
/// `application/*` give JSON. Nothing acceptable is a 406.
fn negotiate(format: Option<&str>, accept: Option<&str>) -> Result<Representation, ApiError> {
    if let Some(f) = format {
        return match f {
            "json" => Ok(Representation::Json),
            "marcxml" | "xml" => Ok(Representation::MarcXml),
            "iso2709" | "marc" => Ok(Representation::Iso2709),
            other => Err(ApiError::field(
                ErrorCode::InvalidParameter,
                "format",
                format!("format {other:?} is not one of json, marcxml, iso2709"),
            )),
        };
    }
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Ok(Representation::Json);
    };
    let mut ranges: Vec<(f32, usize, String)> = accept
        .split(',')
        .enumerate()
        .map(|(i, part)| {
            let mut pieces = part.split(';');
            let media = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces
                .filter_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()))
                .next()
                .unwrap_or(1.0);
            (q, i, media)
        })
        .filter(|(q, _, _)| *q > 0.0)
        .collect();
    ranges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, _, media) in ranges {
        match media.as_str() {
            "application/json" | "application/*" | "*/*" => return Ok(Representation::Json),
            MARCXML | "application/xml" | "text/xml" => return Ok(Representation::MarcXml),
            ISO2709 => return Ok(Representation::Iso2709),
            _ => {}
        }
    }
    Err(ApiError::new(
        ErrorCode::NotAcceptable,
        format!("a record is available as application/json, {MARCXML} or {ISO2709}, not {accept:?}"),
    ))
}

/// `GET /records/{id}`.
pub(crate) async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, "id")?;
    let mut params = Params::new(query)?;
    let format = params.take("format")?;
    params.finish()?;
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let representation = negotiate(format.as_deref(), accept)?;
    let stored = state.db(move |db| db.record(id)?.ok_or_else(|| record_not_found(id))).await?;
    match representation {
        Representation::Iso2709 => Ok(([(header::CONTENT_TYPE, ISO2709)], stored.marc).into_response()),
        Representation::MarcXml => {
            let record = marcio::read_stored(&stored.marc)?;
            let xml = marcio::to_marcxml(&record);
            Ok(([(header::CONTENT_TYPE, format!("{MARCXML}; charset=utf-8"))], xml).into_response())
        }
        Representation::Json => {
            let record = marcio::read_stored(&stored.marc)?;
            Ok(Json(record_json(&stored, Some(marc::json::to_json(&record)))?).into_response())
        }
    }
}

/// The record a POST or PUT carries: MARC-in-JSON (`application/json`, the default) or MARCXML
/// (`application/marcxml+xml`, `application/xml`, `text/xml`).
fn record_from_body(headers: &HeaderMap, body: &[u8]) -> Result<marc::Record, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    match content_type.as_deref() {
        None | Some("") | Some("application/json") => {}
        Some(ct) if ct.ends_with("+json") => {}
        Some(MARCXML | "application/xml" | "text/xml") => return marcio::from_marcxml(body),
        Some(other) => {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                format!("a record is sent as application/json (MARC-in-JSON) or {MARCXML}, not {other}"),
            ))
        }
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::new(ErrorCode::MalformedBody, format!("the body is not JSON: {e}")))?;
    marc::json::from_json(&value).map_err(|e| {
        let message = format!("the body is not a MARC-in-JSON record: {e}");
        if e.path.is_empty() {
            ApiError::new(ErrorCode::InvalidMarc, message)
        } else {
            ApiError::field(ErrorCode::InvalidMarc, e.path, message)
        }
    })
}

async fn stored_json(state: &AppState, id: i64) -> Result<Value, ApiError> {
    let stored = state.db(move |db| db.record(id)?.ok_or_else(|| record_not_found(id))).await?;
    let record = marcio::read_stored(&stored.marc)?;
    record_json(&stored, Some(marc::json::to_json(&record)))
}

/// Checks, derives and stores a new record (one transaction): what `POST /records` and the
/// staff client's MARC editor do. A refusal is a 422 naming the catalog's reason.
pub(crate) async fn save_new(state: &AppState, record: marc::Record) -> Result<i64, ApiError> {
    let new = marcio::prepare(record)?;
    state.db(move |db| Ok(db.create_record(&new)?)).await
}

/// Checks, derives and stores record `id`'s new MARC (one transaction; its items stay): what
/// `PUT /records/{id}` and the MARC editor do.
pub(crate) async fn save(state: &AppState, id: i64, record: marc::Record) -> Result<(), ApiError> {
    let new = marcio::prepare(record)?;
    state
        .db(move |db| match db.update_record(id, &new) {
            Err(StorageError::NotFound { .. }) => Err(record_not_found(id)),
            other => Ok(other?),
        })
        .await
}

/// `POST /records`: 201 with `Location`, 400 for a body that is not a record, 422 for a record
/// the catalog refuses.
pub(crate) async fn create(
    State(state): State<AppState>,
    acting: Acting,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    acting.require(Permission::Catalog)?;
    let record = record_from_body(&headers, &body_bytes(body)?)?;
    let id = save_new(&state, record).await?;
    let body = stored_json(&state, id).await?;
    Ok((StatusCode::CREATED, [(header::LOCATION, format!("/api/v1/records/{id}"))], Json(body)).into_response())
}

/// `PUT /records/{id}`: replaces the MARC (items stay attached).
pub(crate) async fn update(
    State(state): State<AppState>,
    acting: Acting,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    acting.require(Permission::Catalog)?;
    let id = parse_id(&id, "id")?;
    let record = record_from_body(&headers, &body_bytes(body)?)?;
    save(&state, id, record).await?;
    Ok(Json(stored_json(&state, id).await?))
}

/// `DELETE /records/{id}`: 204; 409 `record_has_items` while items are attached.
pub(crate) async fn delete(
    State(state): State<AppState>,
    acting: Acting,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    acting.require(Permission::Catalog)?;
    let id = parse_id(&id, "id")?;
    state
        .db(move |db| {
            if db.record(id)?.is_none() {
                return Err(record_not_found(id));
            }
            match db.delete_record(id) {
                Ok(()) => Ok(()),
                Err(StorageError::NotFound { .. }) => Err(record_not_found(id)),
                Err(StorageError::Constraint(why)) => Err(ApiError::field(
                    ErrorCode::RecordHasItems,
                    "id",
                    format!("record {id} still has items; delete or move them first ({why})"),
                )),
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
    fn negotiation() {
        use Representation::*;
        let n = |f: Option<&str>, a: Option<&str>| negotiate(f, a).map_err(|e| e.code);
        assert_eq!(n(None, None), Ok(Json));
        assert_eq!(n(Some("marcxml"), Some("application/json")), Ok(MarcXml));
        assert_eq!(n(None, Some("application/marcxml+xml")), Ok(MarcXml));
        assert_eq!(n(None, Some("text/html,application/xhtml+xml,*/*;q=0.8")), Ok(Json));
        assert_eq!(n(None, Some("application/json;q=0.5, application/marcxml+xml")), Ok(MarcXml));
        assert_eq!(n(None, Some("application/marc")), Ok(Iso2709));
        assert_eq!(n(None, Some("text/html")), Err(ErrorCode::NotAcceptable));
        assert_eq!(n(Some("pdf"), None), Err(ErrorCode::InvalidParameter));
    }
}
