//! `POST /labels`: a PDF sheet of spine or barcode labels for a chosen set of items.

use super::{body_bytes, Body};
use crate::auth::Acting;
use crate::error::{ApiError, ErrorCode};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use catalog::Barcode;
use circulation::Permission;
use labels::{Align, ItemLabel, Sheet, SheetLayout, Symbology};
use serde_json::Value;

/// What to print, as the API and the command line both say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelKind {
    Spine,
    Barcode,
}

impl LabelKind {
    pub fn parse(s: &str) -> Option<LabelKind> {
        match s {
            "spine" => Some(LabelKind::Spine),
            "barcode" => Some(LabelKind::Barcode),
            _ => None,
        }
    }

    /// The sheet each kind is printed on unless another is named.
    pub fn default_layout(self) -> &'static str {
        match self {
            LabelKind::Spine => "demco-ws14942260",
            LabelKind::Barcode => "avery-5160",
        }
    }

    /// The named sheet layout, or this kind's default; the error names the layouts there are.
    pub fn layout(self, name: Option<&str>) -> Result<SheetLayout, String> {
        let name = name.unwrap_or(self.default_layout());
        SheetLayout::named(name).ok_or_else(|| {
            let known: Vec<&str> = SheetLayout::NAMED.iter().map(|(n, _)| *n).collect();
            format!("layout {name:?} is not one of {}", known.join(", "))
        })
    }
}

/// A chosen set of items on a label sheet.
#[derive(Debug, Clone)]
pub struct LabelRequest {
    pub kind: LabelKind,
    pub barcodes: Vec<Barcode>,
    pub layout: SheetLayout,
    pub offset: usize,
    pub symbology: Symbology,
    pub align: Align,
}

/// Why a label sheet was not made: an item the catalog does not have, or what `labels` refused.
#[derive(Debug, thiserror::Error)]
pub enum LabelsError {
    #[error("no item has barcode {0}")]
    UnknownItem(String),
    #[error(transparent)]
    Label(#[from] labels::LabelError),
    #[error(transparent)]
    Storage(#[from] storage::StorageError),
}

/// Looks the items up and renders the sheet: what `POST /labels` and `shelfmark labels` do.
/// Spine labels carry the call number each item is shelved under (its own, else its record's).
pub fn render(db: &dyn storage::Database, library_name: &str, request: &LabelRequest) -> Result<Vec<u8>, LabelsError> {
    let mut items = Vec::with_capacity(request.barcodes.len());
    for (barcode, found) in request.barcodes.iter().zip(db.shelf_items(&request.barcodes)?) {
        let found = found.ok_or_else(|| LabelsError::UnknownItem(barcode.to_string()))?;
        items.push(ItemLabel::new(library_name, barcode.as_str(), found.call_number.unwrap_or_default(), found.title));
    }
    let sheet = Sheet::new(request.layout).starting_at(request.offset);
    Ok(match request.kind {
        LabelKind::Spine => labels::render_spine_labels(&items, &sheet, labels::Scheme::Auto, request.align)?,
        LabelKind::Barcode => labels::render_barcode_labels(&items, &sheet, request.symbology)?,
    })
}

/// `POST /labels` with `{"kind": "spine"|"barcode", "barcodes": [...], "layout": "avery-5160",
/// "offset": 0, "symbology": "codabar"|"code39", "align": "centre"|"left"}`; answers
/// `application/pdf`.
pub(crate) async fn print(
    State(state): State<AppState>,
    acting: Acting,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    acting.require(Permission::Catalog)?;
    let mut body = Body::parse(&body_bytes(body)?)?;
    let kind = body.required_string("kind")?;
    let kind = LabelKind::parse(&kind)
        .ok_or_else(|| ApiError::field(ErrorCode::InvalidParameter, "kind", "kind is \"spine\" or \"barcode\""))?;
    let barcodes = match body.raw("barcodes") {
        Some(Value::Array(list)) if !list.is_empty() => list
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                let field = format!("barcodes[{i}]");
                let text = v.as_str().ok_or_else(|| {
                    ApiError::field(ErrorCode::InvalidType, field.as_str(), format!("{field} must be a string"))
                })?;
                Barcode::parse(text)
                    .map_err(|e| ApiError::field(ErrorCode::InvalidBarcode, field.as_str(), e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?,
        None => return Err(ApiError::field(ErrorCode::MissingField, "barcodes", "barcodes is required")),
        Some(_) => {
            return Err(ApiError::field(
                ErrorCode::InvalidType,
                "barcodes",
                "barcodes must be a non-empty list of item barcodes",
            ))
        }
    };
    let layout = kind
        .layout(body.string("layout")?.as_deref())
        .map_err(|m| ApiError::field(ErrorCode::InvalidParameter, "layout", m))?;
    let offset = match body.raw("offset") {
        None => 0,
        Some(v) => v.as_u64().and_then(|n| usize::try_from(n).ok()).ok_or_else(|| {
            ApiError::field(ErrorCode::InvalidType, "offset", "offset is the number of labels already used, 0 or more")
        })?,
    };
    let symbology = match body.string("symbology")?.as_deref() {
        None | Some("codabar") => Symbology::Codabar,
        Some("code39") => Symbology::Code39 { check_character: false },
        Some(other) => {
            return Err(ApiError::field(
                ErrorCode::InvalidParameter,
                "symbology",
                format!("symbology {other:?} is \"codabar\" or \"code39\""),
            ))
        }
    };
    let align = match body.string("align")?.as_deref() {
        None | Some("centre") | Some("center") => Align::Centre,
        Some("left") => Align::Left,
        Some(other) => {
            return Err(ApiError::field(
                ErrorCode::InvalidParameter,
                "align",
                format!("align {other:?} is \"centre\" or \"left\""),
            ))
        }
    };
    body.finish()?;
    let request = LabelRequest { kind, barcodes, layout, offset, symbology, align };
    let library_name = state.config.library_name.clone();
    let pdf = state
        .db(move |db| {
            render(db, &library_name, &request).map_err(|e| match e {
                LabelsError::UnknownItem(_) => ApiError::field(ErrorCode::UnknownItem, "barcodes", e.to_string()),
                LabelsError::Label(l) => ApiError::new(ErrorCode::InvalidLabels, l.to_string()),
                LabelsError::Storage(s) => s.into(),
            })
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, "application/pdf")], pdf).into_response())
}
