//! Labels for chosen items: check the items (on a record's page, or among the items added last
//! at a branch), choose spine or barcode labels and the sheet, and get the PDF that
//! `POST /api/v1/labels` makes ([`crate::api::labels::render`]).

use std::fmt::Write;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use catalog::{Barcode, Item};
use circulation::Permission;
use labels::{Align, SheetLayout, Symbology};

use super::{page, refusal, HOME};
use crate::api::labels::{render, LabelKind, LabelRequest, LabelsError};
use crate::error::{ApiError, ErrorCode};
use crate::html::Esc;
use crate::staff::{desk_branch, query_get, Fields, QueryParams, StaffUser};
use crate::AppState;

/// Items the recent list shows.
const RECENT: u32 = 50;
/// Labels one request may print (a few sheets; more is a batch job, not a click).
const MOST: usize = 300;

/// The kind, sheet and offset choices, and the button.
fn print_choices() -> String {
    let mut out = String::from(
        "<fieldset><legend>Labels</legend><div class=\"positions\">\
         <div class=\"pos\"><label for=\"kind\">Kind</label><select id=\"kind\" name=\"kind\">\
         <option value=\"spine\">Spine labels (call number)</option>\
         <option value=\"barcode\">Barcode labels</option></select></div>\
         <div class=\"pos\"><label for=\"layout\">Sheet</label><select id=\"layout\" name=\"layout\">\
         <option value=\"\">The kind's usual sheet</option>",
    );
    for (name, _) in SheetLayout::NAMED {
        let _ = write!(out, "<option value=\"{name}\">{name}</option>");
    }
    out.push_str(
        "</select></div><div class=\"pos\"><label for=\"offset\">Labels already used on the sheet</label>\
         <input id=\"offset\" name=\"offset\" type=\"number\" min=\"0\" value=\"0\" size=\"4\"></div></div>\
         <div class=\"editor-bar\"><button type=\"submit\">Print labels (PDF)</button></div></fieldset>\n",
    );
    out
}

/// The record page's items, each with a box to choose it for labels.
pub(crate) fn items_section(bib_id: i64, items: &[Item], most: u32) -> String {
    let mut out = format!(
        "<section id=\"items\" aria-labelledby=\"items-heading\"><h2 id=\"items-heading\">Items</h2>\n\
         <p><a href=\"/staff/cataloging/records/{bib_id}/items/new\">Add an item</a></p>\n"
    );
    if items.is_empty() {
        out.push_str("<p>This record has no items yet.</p></section>\n");
        return out;
    }
    if items.len() as u32 >= most {
        let _ = writeln!(out, "<p>The first {most} items are listed.</p>");
    }
    out.push_str("<form method=\"post\" action=\"/staff/cataloging/labels\" target=\"_blank\">\n");
    item_table(&mut out, items.iter().map(|i| (i, None)), &[]);
    out.push_str(&print_choices());
    out.push_str("</form></section>\n");
    out
}

fn item_table<'a>(out: &mut String, items: impl Iterator<Item = (&'a Item, Option<&'a str>)>, checked: &[String]) {
    out.push_str(
        "<div class=\"table-wrap\"><table class=\"items\"><thead><tr><th scope=\"col\">Label</th><th scope=\"col\">Barcode</th>\
         <th scope=\"col\">Call number</th><th scope=\"col\">Branch</th><th scope=\"col\">Location</th>\
         <th scope=\"col\">Type</th><th scope=\"col\">Status</th></tr></thead><tbody>\n",
    );
    for (i, title) in items {
        let it = &i.item;
        let barcode = it.barcode.as_str();
        let _ = writeln!(
            out,
            "<tr><td><input type=\"checkbox\" name=\"barcode\" value=\"{b}\" id=\"label-{id}\"{checked} \
             aria-label=\"Label for item {b}\"></td><td><a href=\"/staff/cataloging/items/{id}\">{b}</a>{title}</td>\
             <td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            Esc(it.call_number.as_deref().unwrap_or("")),
            Esc(it.home_branch.as_str()),
            Esc(it.location.as_ref().map_or("", |l| l.as_str())),
            Esc(it.item_type.as_str()),
            Esc(it.status.label()),
            b = Esc(barcode),
            id = i.id,
            checked = if checked.iter().any(|c| c == barcode) { " checked" } else { "" },
            title = title.map(|t| format!("<br>{}", Esc(t))).unwrap_or_default(),
        );
    }
    out.push_str("</tbody></table></div>\n");
}

/// `GET /staff/cataloging/labels?branch=&barcode=`: the items added last at the branch, to
/// choose from (`barcode` comes checked).
pub(crate) async fn screen(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    query: QueryParams,
) -> Response {
    if let Err(e) = acting.require(Permission::Catalog) {
        return refusal(&state, &acting, e);
    }
    let asked = query_get(&query, "branch").map(str::to_string);
    let checked: Vec<String> = query_get(&query, "barcode").map(|b| vec![b.to_string()]).unwrap_or_default();
    let who = acting.clone();
    let loaded = state
        .db(move |db| {
            let branch = desk_branch(db, &who, asked.as_deref())?;
            let recent = db.recent_items(&branch.here.code, RECENT)?;
            Ok((branch, recent))
        })
        .await;
    let (branch, recent) = match loaded {
        Ok(l) => l,
        Err(e) => return refusal(&state, &acting, e),
    };
    let mut main = format!("<p><a href=\"{HOME}\">Cataloging</a></p>\n<h1>Labels</h1>\n");
    main.push_str(&branch.bar("/staff/cataloging/labels", &[]));
    let _ = writeln!(main, "<h2>The last {RECENT} items added at {}</h2>", Esc(&branch.here.name));
    if recent.is_empty() {
        main.push_str("<p>No items have this branch as their home.</p>\n");
    } else {
        main.push_str("<form method=\"post\" action=\"/staff/cataloging/labels\" target=\"_blank\">\n");
        item_table(&mut main, recent.iter().map(|s| (&s.item, Some(s.title.as_str()))), &checked);
        main.push_str(&print_choices());
        main.push_str("</form>\n");
    }
    page(&state, &acting, StatusCode::OK, "Labels", &main)
}

/// The label request a posted form makes: the checked barcodes, kind, sheet and offset.
fn request_from(fields: &Fields) -> Result<LabelRequest, ApiError> {
    let kind_text = fields.get("kind").unwrap_or("spine");
    let kind = LabelKind::parse(kind_text).ok_or_else(|| {
        ApiError::field(ErrorCode::InvalidParameter, "kind", format!("kind: {kind_text:?} is spine or barcode"))
    })?;
    let mut barcodes = Vec::new();
    for (name, value) in &fields.0 {
        if name == "barcode" && !value.trim().is_empty() {
            let b = Barcode::parse(value.trim()).map_err(|e| {
                ApiError::field(ErrorCode::InvalidBarcode, "barcode", format!("barcode {value:?}: {e}"))
            })?;
            if !barcodes.contains(&b) {
                barcodes.push(b);
            }
        }
    }
    if barcodes.is_empty() {
        return Err(ApiError::field(
            ErrorCode::MissingField,
            "barcode",
            "choose at least one item to print labels for",
        ));
    }
    if barcodes.len() > MOST {
        return Err(ApiError::field(
            ErrorCode::InvalidParameter,
            "barcode",
            format!("{} items chosen; one sheet run prints at most {MOST}", barcodes.len()),
        ));
    }
    let layout = kind
        .layout(fields.get("layout"))
        .map_err(|m| ApiError::field(ErrorCode::InvalidParameter, "layout", format!("sheet: {m}")))?;
    let offset = match fields.get("offset") {
        None => 0,
        Some(raw) => raw.parse::<usize>().map_err(|_| {
            ApiError::field(
                ErrorCode::InvalidParameter,
                "offset",
                format!("labels already used: {raw:?} is not a number of labels (0 or more)"),
            )
        })?,
    };
    Ok(LabelRequest { kind, barcodes, layout, offset, symbology: Symbology::Codabar, align: Align::Centre })
}

/// `POST /staff/cataloging/labels`: the PDF (`application/pdf`), or a page naming the problem.
pub(crate) async fn print(State(state): State<AppState>, StaffUser(acting): StaffUser, fields: Fields) -> Response {
    if let Err(e) = acting.require(Permission::Catalog) {
        return refusal(&state, &acting, e);
    }
    let request = match request_from(&fields) {
        Ok(r) => r,
        Err(e) => return refusal(&state, &acting, e),
    };
    let library_name = state.config.library_name.clone();
    let pdf = state
        .db(move |db| {
            render(db, &library_name, &request).map_err(|e| match e {
                LabelsError::UnknownItem(_) => ApiError::field(ErrorCode::UnknownItem, "barcode", e.to_string()),
                LabelsError::Label(l) => ApiError::new(ErrorCode::InvalidLabels, l.to_string()),
                LabelsError::Storage(s) => s.into(),
            })
        })
        .await;
    match pdf {
        Ok(pdf) => (
            [
                (header::CONTENT_TYPE, "application/pdf"),
                (header::CONTENT_DISPOSITION, "inline; filename=\"labels.pdf\""),
            ],
            pdf,
        )
            .into_response(),
        Err(e) => refusal(&state, &acting, e),
    }
}
