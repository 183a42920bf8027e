//! Adding and editing a record's items: barcode (unique: a taken one is named beside the box),
//! branch, shelving location, item type, call number, price and notes, stored through the same
//! checks as `POST /records/{id}/items` and `PUT /items/{id}`. The call number's place on the
//! shelf is shown before and after saving: the items it will stand between at that branch and
//! location, read from the shelf list (two indexed reads of a few rows each).

use std::fmt::Write;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use catalog::inventory::ShelfItem;
use catalog::{Barcode, Branch, Code, Item, ItemStatus, ItemType, Money, NewItem, ShelvingLocation};
use circulation::Permission;
use storage::{Database, ShelfPage, ShelfQuery};

use super::{page, query_string, refusal, HOME};
use crate::api::items::{store_new, store_update, valid_date};
use crate::api::records::record_not_found;
use crate::auth::Acting;
use crate::error::{ApiError, ErrorCode};
use crate::html::Esc;
use crate::staff::{desk_branch, once, query_get, see_other, Fields, QueryParams, StaffUser};
use crate::AppState;

/// Neighbours shown on each side of the new place.
const NEIGHBOURS: u32 = 2;

/// The item form as typed.
#[derive(Debug, Clone, Default)]
pub(crate) struct ItemForm {
    pub barcode: String,
    pub home_branch: String,
    pub location: String,
    pub item_type: String,
    pub call_number: String,
    pub price: String,
    pub public_note: String,
    pub staff_note: String,
}

/// The form's boxes: name, label.
const BOXES: [(&str, &str); 8] = [
    ("barcode", "Barcode"),
    ("home_branch", "Branch"),
    ("location", "Shelving location"),
    ("item_type", "Item type"),
    ("call_number", "Call number"),
    ("price", "Price"),
    ("public_note", "Public note"),
    ("staff_note", "Staff note"),
];

fn label_of(name: &str) -> &'static str {
    BOXES.iter().find(|(n, _)| *n == name).map_or("Item", |(_, l)| l)
}

/// A problem of one box: its name and the sentence (which names the box).
type FieldError = (String, String);

impl ItemForm {
    fn from_fields(f: &Fields) -> ItemForm {
        let get = |n: &str| f.get(n).unwrap_or("").to_string();
        ItemForm {
            barcode: get("barcode"),
            home_branch: get("home_branch"),
            location: get("location"),
            item_type: get("item_type"),
            call_number: get("call_number"),
            price: get("price"),
            public_note: get("public_note"),
            staff_note: get("staff_note"),
        }
    }

    fn from_item(item: &NewItem) -> ItemForm {
        ItemForm {
            barcode: item.barcode.to_string(),
            home_branch: item.home_branch.to_string(),
            location: item.location.as_ref().map(Code::to_string).unwrap_or_default(),
            item_type: item.item_type.to_string(),
            call_number: item.call_number.clone().unwrap_or_default(),
            price: item.price.map(|p| p.to_string()).unwrap_or_default(),
            public_note: item.public_note.clone().unwrap_or_default(),
            staff_note: item.staff_note.clone().unwrap_or_default(),
        }
    }

    /// The item the form describes; `current` keeps what the form does not show (status,
    /// holding branch, ...) of an item being edited. Every box's problem is reported at once.
    fn to_item(&self, current: Option<&NewItem>) -> Result<NewItem, Vec<FieldError>> {
        let mut errors: Vec<FieldError> = Vec::new();
        let mut fail = |name: &str, why: String| errors.push((name.to_string(), format!("{}: {why}", label_of(name))));
        let barcode = match Barcode::parse(&self.barcode) {
            Ok(b) => Some(b),
            Err(_) if self.barcode.is_empty() => {
                fail("barcode", "scan or type the item's barcode".into());
                None
            }
            Err(e) => {
                fail("barcode", e.to_string());
                None
            }
        };
        let mut code = |name: &str, raw: &str, required: bool| -> Option<Code> {
            if raw.is_empty() {
                if required {
                    fail(name, "choose one".into());
                }
                return None;
            }
            Code::parse(raw).map_err(|e| fail(name, e.to_string())).ok()
        };
        let home_branch = code("home_branch", &self.home_branch, true);
        let location = code("location", &self.location, false);
        let item_type = code("item_type", &self.item_type, true);
        let price = if self.price.is_empty() {
            None
        } else {
            match Money::parse(&self.price) {
                Ok(m) if m.minor() < 0 => {
                    fail("price", format!("{:?} is negative", self.price));
                    None
                }
                Ok(m) => Some(m),
                Err(e) => {
                    fail("price", format!("{:?} is not an amount such as 24.95 ({e})", self.price));
                    None
                }
            }
        };
        let (Some(barcode), Some(home_branch), Some(item_type)) = (barcode, home_branch, item_type) else {
            return Err(errors);
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let text = |s: &str| Some(s.to_string()).filter(|s| !s.is_empty());
        let kept = current.cloned();
        Ok(NewItem {
            barcode,
            holding_branch: kept.as_ref().map_or_else(|| home_branch.clone(), |k| k.holding_branch.clone()),
            home_branch,
            location,
            collection: kept.as_ref().and_then(|k| k.collection.clone()),
            call_number: text(&self.call_number),
            item_type,
            price,
            public_note: text(&self.public_note),
            staff_note: text(&self.staff_note),
            materials_specified: kept.as_ref().and_then(|k| k.materials_specified.clone()),
            status: kept.as_ref().map_or(ItemStatus::Available, |k| k.status),
            acquired_on: kept.and_then(|k| k.acquired_on).filter(|d| valid_date(d)),
        })
    }
}

/// What the form's lists offer, read once per page.
struct Choices {
    branches: Vec<Branch>,
    locations: Vec<ShelvingLocation>,
    item_types: Vec<ItemType>,
}

fn choices(db: &dyn Database) -> Result<Choices, ApiError> {
    Ok(Choices { branches: db.branches()?, locations: db.locations()?, item_types: db.item_types()? })
}

/// Where the call number (the item's own, else its record's) will stand: the items before and
/// after it on its branch's shelf (and location, when it has one). `own` is left out.
pub(crate) struct ShelfPlace {
    pub call_number: String,
    pub before: Vec<ShelfItem>,
    pub after: Vec<ShelfItem>,
}

fn shelf_place(
    db: &dyn Database,
    record: &catalog::BibDerived,
    branch: &Code,
    location: Option<&Code>,
    own_call_number: Option<&str>,
    own: Option<i64>,
) -> Result<Option<ShelfPlace>, ApiError> {
    let Some(call_number) = catalog::shelving_call_number(
        own_call_number,
        record.dewey_call_number.as_deref(),
        record.lc_call_number.as_deref(),
    ) else {
        return Ok(None);
    };
    let key = callnumber::CallNumber::parse(call_number, callnumber::Scheme::Auto).shelf_key();
    let query = ShelfQuery {
        branch: branch.clone(),
        location: location.cloned(),
        from: Some(call_number.to_string()),
        to: None,
        status: None,
    };
    let not_own = |s: &ShelfItem| Some(s.item.id) != own;
    let mut before: Vec<ShelfItem> =
        db.shelf_before(&query, &key, NEIGHBOURS + 1)?.into_iter().filter(not_own).take(NEIGHBOURS as usize).collect();
    before.reverse();
    let after = db
        .shelf_list(&query, &ShelfPage { after: None, limit: NEIGHBOURS + 1 })?
        .into_iter()
        .filter(not_own)
        .take(NEIGHBOURS as usize)
        .collect();
    Ok(Some(ShelfPlace { call_number: call_number.to_string(), before, after }))
}

fn neighbour(out: &mut String, s: &ShelfItem) {
    let _ = write!(
        out,
        "<li><span class=\"mono\">{}</span> {} <span class=\"barcode\">({})</span></li>",
        Esc(s.call_number.as_deref().unwrap_or("[no call number]")),
        Esc(&s.title),
        Esc(s.item.item.barcode.as_str())
    );
}

fn render_place(place: Option<&ShelfPlace>, branch: &str, location: Option<&str>, title: &str) -> String {
    let mut out =
        String::from("<section class=\"shelf-preview\" id=\"shelf-preview\" aria-labelledby=\"shelf-heading\">\n");
    let Some(place) = place else {
        out.push_str(
            "<h2 id=\"shelf-heading\">Shelf position</h2><p>Neither the item nor its record has a call number: \
             it has no place on the shelf yet.</p></section>\n",
        );
        return out;
    };
    let _ = write!(
        out,
        "<h2 id=\"shelf-heading\">Shelf position at {}{}</h2>\n<ol>",
        Esc(branch),
        location.map(|l| format!(", {}", Esc(l))).unwrap_or_default()
    );
    if place.before.is_empty() {
        out.push_str("<li>(start of the shelf)</li>");
    }
    for s in &place.before {
        neighbour(&mut out, s);
    }
    let _ = write!(
        out,
        "<li class=\"here\"><span class=\"mono\">{}</span> {} <strong>(this item)</strong></li>",
        Esc(&place.call_number),
        Esc(title)
    );
    for s in &place.after {
        neighbour(&mut out, s);
    }
    if place.after.is_empty() {
        out.push_str("<li>(end of the shelf)</li>");
    }
    out.push_str("</ol>\n");
    let parsed = callnumber::CallNumber::parse(&place.call_number, callnumber::Scheme::Auto);
    if !parsed.is_parsed() {
        let _ = write!(
            out,
            "<p class=\"notice\">Call number {} is not a Dewey, LC or local call number: it is kept and shelved after \
             the ones that are.</p>",
            Esc(&place.call_number)
        );
    }
    out.push_str("</section>\n");
    out
}

fn select_box<'a>(
    out: &mut String,
    name: &str,
    current: &str,
    options: impl Iterator<Item = (&'a str, &'a str)>,
    blank: Option<&str>,
    errors: &[FieldError],
) {
    let _ = write!(out, "<div class=\"field-row\"><label for=\"{name}\">{}</label>", label_of(name));
    let _ = write!(out, "<select id=\"{name}\" name=\"{name}\"{}>", invalid(name, errors));
    if let Some(blank) = blank {
        let _ = write!(out, "<option value=\"\">{}</option>", Esc(blank));
    }
    for (code, name) in options {
        let _ = write!(
            out,
            "<option value=\"{}\"{}>{} ({})</option>",
            Esc(code),
            if code == current { " selected" } else { "" },
            Esc(name),
            Esc(code)
        );
    }
    out.push_str("</select>");
    out.push_str(&error_text(name, errors));
    out.push_str("</div>\n");
}

fn invalid(name: &str, errors: &[FieldError]) -> String {
    if errors.iter().any(|(n, _)| n == name) {
        format!(" aria-invalid=\"true\" aria-describedby=\"{name}-error\"")
    } else {
        String::new()
    }
}

fn error_text(name: &str, errors: &[FieldError]) -> String {
    let mine: Vec<&str> = errors.iter().filter(|(n, _)| n == name).map(|(_, m)| m.as_str()).collect();
    if mine.is_empty() {
        String::new()
    } else {
        format!("<p class=\"field-error\" id=\"{name}-error\">{}</p>", Esc(&mine.join(" ")))
    }
}

fn text_box(out: &mut String, name: &str, value: &str, errors: &[FieldError], extra: &str) {
    let _ = writeln!(
        out,
        "<div class=\"field-row\"><label for=\"{name}\">{}</label><input id=\"{name}\" name=\"{name}\" value=\"{}\"{}{extra}>{}</div>",
        label_of(name),
        Esc(value),
        invalid(name, errors),
        error_text(name, errors)
    );
}

/// The item form posting to `action`.
fn item_form(action: &str, form: &ItemForm, choices: &Choices, errors: &[FieldError], focus: &str) -> String {
    let mut out = String::new();
    if !errors.is_empty() {
        out.push_str("<div class=\"refused\" role=\"alert\" id=\"problems\"><h2>The item was not saved</h2><ul>");
        for (name, message) in errors {
            let _ = write!(out, "<li><a href=\"#{name}\">{}</a></li>", Esc(message));
        }
        out.push_str("</ul></div>\n");
    }
    let _ =
        writeln!(out, "<form method=\"post\" action=\"{}\" class=\"item-form\">{}", Esc(action), once::token_field());
    let af = |n: &str| if n == focus { " autofocus" } else { "" };
    text_box(&mut out, "barcode", &form.barcode, errors, &format!(" required autocomplete=\"off\"{}", af("barcode")));
    select_box(
        &mut out,
        "home_branch",
        &form.home_branch,
        choices.branches.iter().map(|b| (b.code.as_str(), b.name.as_str())),
        None,
        errors,
    );
    select_box(
        &mut out,
        "location",
        &form.location,
        choices.locations.iter().map(|l| (l.code.as_str(), l.name.as_str())),
        Some("(none)"),
        errors,
    );
    select_box(
        &mut out,
        "item_type",
        &form.item_type,
        choices.item_types.iter().map(|t| (t.code.as_str(), t.name.as_str())),
        None,
        errors,
    );
    text_box(
        &mut out,
        "call_number",
        &form.call_number,
        errors,
        &format!(" autocomplete=\"off\" class=\"mono\" aria-describedby=\"call-number-hint\"{}", af("call_number")),
    );
    out.push_str(
        "<p class=\"hint\" id=\"call-number-hint\">Leave empty to shelve the item under its record's call number.</p>\n",
    );
    text_box(&mut out, "price", &form.price, errors, " inputmode=\"decimal\" autocomplete=\"off\"");
    text_box(&mut out, "public_note", &form.public_note, errors, "");
    text_box(&mut out, "staff_note", &form.staff_note, errors, "");
    out.push_str(
        "<div class=\"editor-bar\"><button type=\"submit\" name=\"action\" value=\"save\">Save item</button> \
         <button type=\"submit\" name=\"action\" value=\"preview\" class=\"secondary\">Preview shelf position</button></div>\n</form>\n",
    );
    out
}

/// The record an item belongs to, for the page's heading and the shelf preview.
fn record_of(db: &dyn Database, bib_id: i64) -> Result<storage::StoredRecord, ApiError> {
    db.record(bib_id)?.ok_or_else(|| record_not_found(bib_id))
}

fn title_of(record: &storage::StoredRecord) -> &str {
    if record.derived.title.is_empty() {
        "[no title]"
    } else {
        &record.derived.title
    }
}

fn branch_name(choices: &Choices, code: &str) -> String {
    choices.branches.iter().find(|b| b.code.as_str() == code).map_or_else(|| code.to_string(), |b| b.name.clone())
}

fn location_name(choices: &Choices, code: &str) -> Option<String> {
    (!code.is_empty()).then(|| {
        choices.locations.iter().find(|l| l.code.as_str() == code).map_or_else(|| code.to_string(), |l| l.name.clone())
    })
}

/// Everything an item page shows, read in one go: the record, the lists, the shelf place.
struct Loaded {
    record: storage::StoredRecord,
    choices: Choices,
    place: Option<ShelfPlace>,
}

fn load(db: &dyn Database, bib_id: i64, form: &ItemForm, own: Option<i64>) -> Result<Loaded, ApiError> {
    let record = record_of(db, bib_id)?;
    let choices = choices(db)?;
    let place = match Code::parse(&form.home_branch) {
        Ok(branch) => {
            let location = Code::parse(&form.location).ok();
            let own_cn = Some(form.call_number.as_str()).filter(|c| !c.is_empty());
            shelf_place(db, &record.derived, &branch, location.as_ref(), own_cn, own)?
        }
        Err(_) => None,
    };
    Ok(Loaded { record, choices, place })
}

#[allow(clippy::too_many_arguments)]
fn item_screen(
    state: &AppState,
    acting: &Acting,
    status: StatusCode,
    loaded: &Loaded,
    action: &str,
    form: &ItemForm,
    errors: &[FieldError],
    item_id: Option<i64>,
    notice: Option<&str>,
) -> Response {
    let bib_id = loaded.record.id;
    let title = title_of(&loaded.record);
    let heading = match item_id {
        Some(id) => format!("Item {id} of {title}"),
        None => format!("New item for {title}"),
    };
    let mut main = format!(
        "<p><a href=\"{HOME}\">Cataloging</a> &gt; <a href=\"/staff/cataloging/records/{bib_id}\">Record {bib_id}</a></p>\n"
    );
    if let Some(notice) = notice {
        let _ = writeln!(main, "<p class=\"done\" role=\"status\" id=\"saved\">{}</p>", Esc(notice));
    }
    let _ = writeln!(main, "<h1>{}</h1>", Esc(&heading));
    let focus =
        if errors.iter().any(|(n, _)| n == "barcode") || form.barcode.is_empty() { "barcode" } else { "call_number" };
    main.push_str(&item_form(action, form, &loaded.choices, errors, focus));
    let branch = branch_name(&loaded.choices, &form.home_branch);
    let location = location_name(&loaded.choices, &form.location);
    main.push_str(&render_place(loaded.place.as_ref(), &branch, location.as_deref(), title));
    if let Some(id) = item_id {
        let _ = writeln!(
            main,
            "<p><a href=\"/staff/cataloging/labels?{}\">Print labels for this item</a> \
             <a href=\"/staff/cataloging/records/{bib_id}/items/new\">Add another item</a></p>",
            query_string(&[("barcode", &form.barcode), ("item", &id.to_string())])
        );
    }
    page(state, acting, status, &heading, &main)
}

/// `GET /staff/cataloging/records/{id}/items/new`: a blank item at the cataloger's branch.
pub(crate) async fn new_item(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(id): Path<String>,
) -> Response {
    if let Err(e) = acting.require(Permission::Catalog) {
        return refusal(&state, &acting, e);
    }
    let bib_id = match crate::api::parse_id(&id, "id") {
        Ok(id) => id,
        Err(e) => return refusal(&state, &acting, e),
    };
    let who = acting.clone();
    let loaded = state
        .db(move |db| {
            let here = desk_branch(db, &who, None).map(|b| b.here.code.to_string()).unwrap_or_default();
            let types = db.item_types()?;
            let form = ItemForm {
                home_branch: here,
                item_type: types.first().map(|t| t.code.to_string()).unwrap_or_default(),
                ..ItemForm::default()
            };
            Ok((load(db, bib_id, &form, None)?, form))
        })
        .await;
    match loaded {
        Ok((loaded, form)) => {
            let action = format!("/staff/cataloging/records/{bib_id}/items");
            item_screen(&state, &acting, StatusCode::OK, &loaded, &action, &form, &[], None, None)
        }
        Err(e) => refusal(&state, &acting, e),
    }
}

/// The field an API error is about, for the form: the item's own boxes keep their name.
fn field_error(e: ApiError) -> Result<FieldError, ApiError> {
    match e.field.as_deref() {
        Some(f @ ("barcode" | "home_branch" | "location" | "item_type" | "price")) => {
            let message = match e.code {
                ErrorCode::BarcodeTaken => {
                    "another item already has this barcode; scan the item's own label".to_string()
                }
                _ => e.message.clone(),
            };
            Ok((f.to_string(), format!("{}: {message}", label_of(f))))
        }
        Some("holding_branch") => Ok(("home_branch".to_string(), format!("Branch: {}", e.message))),
        _ => Err(e),
    }
}

/// `POST /staff/cataloging/records/{id}/items`: preview the shelf position, or save (once per
/// form: a double click adds one item).
pub(crate) async fn create_item(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(id): Path<String>,
    fields: Fields,
) -> Response {
    if let Err(e) = acting.require(Permission::Catalog) {
        return refusal(&state, &acting, e);
    }
    let bib_id = match crate::api::parse_id(&id, "id") {
        Ok(id) => id,
        Err(e) => return refusal(&state, &acting, e),
    };
    let (st, who) = (state.clone(), acting.clone());
    once::once(&st, &who, fields.token(), move || async move {
        let form = ItemForm::from_fields(&fields);
        let save = fields.get("action") != Some("preview");
        let action = format!("/staff/cataloging/records/{bib_id}/items");
        let parsed = form.to_item(None);
        let form2 = form.clone();
        let outcome = state
            .db(move |db| {
                let stored = match (save, parsed) {
                    (true, Ok(item)) => match store_new(db, bib_id, &item, record_not_found(bib_id)) {
                        Ok(stored) => Ok(Some(stored)),
                        Err(e) => field_error(e).map(|fe| vec![fe]).map(Err)?,
                    },
                    (true, Err(errors)) => Err(errors),
                    (false, _) => Ok(None),
                };
                Ok((stored, load(db, bib_id, &form2, None)?))
            })
            .await;
        match outcome {
            Ok((Ok(Some(item)), _)) => see_other(&format!("/staff/cataloging/items/{}?saved=1", item.id)),
            Ok((Ok(None), loaded)) => {
                item_screen(&state, &acting, StatusCode::OK, &loaded, &action, &form, &[], None, None)
            }
            Ok((Err(errors), loaded)) => item_screen(
                &state,
                &acting,
                StatusCode::UNPROCESSABLE_ENTITY,
                &loaded,
                &action,
                &form,
                &errors,
                None,
                None,
            ),
            Err(e) => refusal(&state, &acting, e),
        }
    })
    .await
}

fn item_not_found(id: i64) -> ApiError {
    ApiError::field(ErrorCode::ItemNotFound, "id", format!("there is no item {id}"))
}

/// `GET /staff/cataloging/items/{id}`: the item's form and where it stands.
pub(crate) async fn item_page(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(id): Path<String>,
    query: QueryParams,
) -> Response {
    if let Err(e) = acting.require(Permission::Catalog) {
        return refusal(&state, &acting, e);
    }
    let id = match crate::api::parse_id(&id, "id") {
        Ok(id) => id,
        Err(e) => return refusal(&state, &acting, e),
    };
    let loaded = state
        .db(move |db| {
            let item: Item = db.item(id)?.ok_or_else(|| item_not_found(id))?;
            let form = ItemForm::from_item(&item.item);
            Ok((load(db, item.bib_id, &form, Some(id))?, form))
        })
        .await;
    match loaded {
        Ok((loaded, form)) => {
            let notice = query_get(&query, "saved").map(|_| "Saved.");
            let action = format!("/staff/cataloging/items/{id}");
            item_screen(&state, &acting, StatusCode::OK, &loaded, &action, &form, &[], Some(id), notice)
        }
        Err(e) => refusal(&state, &acting, e),
    }
}

/// `POST /staff/cataloging/items/{id}`: preview or save the item's new values.
pub(crate) async fn update_item(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(id): Path<String>,
    fields: Fields,
) -> Response {
    if let Err(e) = acting.require(Permission::Catalog) {
        return refusal(&state, &acting, e);
    }
    let id = match crate::api::parse_id(&id, "id") {
        Ok(id) => id,
        Err(e) => return refusal(&state, &acting, e),
    };
    let (st, who) = (state.clone(), acting.clone());
    once::once(&st, &who, fields.token(), move || async move {
        let form = ItemForm::from_fields(&fields);
        let save = fields.get("action") != Some("preview");
        let action = format!("/staff/cataloging/items/{id}");
        let form2 = form.clone();
        let outcome = state
            .db(move |db| {
                let current = db.item(id)?.ok_or_else(|| item_not_found(id))?;
                let stored = match (save, form2.to_item(Some(&current.item))) {
                    (true, Ok(item)) => match store_update(db, id, Some(current.bib_id), &item) {
                        Ok(_) => Ok(true),
                        Err(e) => field_error(e).map(|fe| vec![fe]).map(Err)?,
                    },
                    (true, Err(errors)) => Err(errors),
                    (false, _) => Ok(false),
                };
                Ok((stored, load(db, current.bib_id, &form2, Some(id))?))
            })
            .await;
        match outcome {
            Ok((Ok(true), _)) => see_other(&format!("/staff/cataloging/items/{id}?saved=1")),
            Ok((Ok(false), loaded)) => {
                item_screen(&state, &acting, StatusCode::OK, &loaded, &action, &form, &[], Some(id), None)
            }
            Ok((Err(errors), loaded)) => item_screen(
                &state,
                &acting,
                StatusCode::UNPROCESSABLE_ENTITY,
                &loaded,
                &action,
                &form,
                &errors,
                Some(id),
                None,
            ),
            Err(e) => refusal(&state, &acting, e),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_box_with_a_problem_is_named() {
        let form = ItemForm {
            barcode: "".into(),
            home_branch: "".into(),
            item_type: "BK".into(),
            price: "12.3.4".into(),
            ..ItemForm::default()
        };
        let errors = form.to_item(None).expect_err("problems");
        let names: Vec<&str> = errors.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["barcode", "home_branch", "price"]);
        assert!(errors[0].1.starts_with("Barcode: "), "{errors:?}");
        assert!(errors[2].1.starts_with("Price: \"12.3.4\""), "{errors:?}");
    }

    #[test]
    fn an_edit_keeps_what_the_form_does_not_show() {
        let form = ItemForm {
            barcode: "31234000000011".into(),
            home_branch: "CEN".into(),
            item_type: "BK".into(),
            call_number: "QA76.73 .R87".into(),
            price: "24.95".into(),
            ..ItemForm::default()
        };
        let mut current = form.to_item(None).expect("a good form");
        current.status = ItemStatus::CheckedOut;
        current.holding_branch = Code::parse("OAK").expect("a code");
        let edited = form.to_item(Some(&current)).expect("a good form");
        assert_eq!(edited.status, ItemStatus::CheckedOut);
        assert_eq!(edited.holding_branch.as_str(), "OAK");
        assert_eq!(edited.price.map(|p| p.to_string()).as_deref(), Some("24.95"));
    }
}
