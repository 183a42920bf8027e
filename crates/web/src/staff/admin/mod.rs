//! Administration in the staff client, under `/staff/admin`: the rule matrix and "which rule
//! applies and why" ([`rules`]), branches, shelving locations and item types ([`org`]), staff
//! accounts with their roles, branches, passwords and API tokens ([`accounts`]), calendars and
//! emergency closures ([`calendars`]), patron categories ([`categories`]) and notice templates
//! ([`templates`]).
//!
//! Each page is an adapter over the service the JSON API calls (`api::org`, `api::closures`,
//! `api::staff`, `api::notices`, `desk`), behind the same permission: Configure for the
//! library's set-up, Admin for staff accounts. A form that fails comes back with what the
//! manager typed, and the message sits next to the field it names (`aria-describedby`).

mod accounts;
mod calendars;
mod categories;
mod org;
mod rules;
mod templates;

use std::collections::BTreeMap;
use std::fmt::Write;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use circulation::Permission;

use super::{error_page, layout, StaffUser};
use crate::auth::Acting;
use crate::error::ApiError;
use crate::html::Esc;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff/admin", get(home))
        .merge(rules::routes())
        .merge(org::routes())
        .merge(accounts::routes())
        .merge(calendars::routes())
        .merge(categories::routes())
        .merge(templates::routes())
}

/// Styles of the admin pages: wide tables scroll inside their own box, never the page.
const ADMIN_STYLE: &str = "<style>\
.table-scroll{overflow-x:auto;max-width:100%}\
.table-scroll:focus{outline:3px solid #1d4e89}\
table.admin{border-collapse:collapse;margin:.5rem 0}\
table.admin th,table.admin td{border:1px solid #c5ccd6;padding:.25rem .5rem;text-align:left;vertical-align:top}\
table.admin thead th{background:#eef2f7}\
.field-error{color:#b00020;font-weight:700;margin:.2rem 0}\
[aria-invalid=true]{border:2px solid #b00020}\
.won{background:#e9f6ee}.fallback{color:#5a4000}\
fieldset{border:1px solid #c5ccd6;margin:.5rem 0}\
.admin-form div{margin:.4rem 0}\
</style>\n";

/// An admin page in the staff layout.
pub(super) fn page(state: &AppState, acting: &Acting, status: StatusCode, title: &str, main: &str) -> Response {
    let main = format!("{ADMIN_STYLE}{main}");
    (status, Html(layout(&state.config.library_name, Some(acting), title, &main))).into_response()
}

pub(super) fn refusal(state: &AppState, acting: &Acting, e: ApiError) -> Response {
    error_page(&state.config.library_name, Some(acting), e)
}

/// A settings form's action: refused without the Configure permission, otherwise run once per
/// form token (a double submit gets the first answer, [`super::once::once`]).
pub(super) async fn configure_once<F, Fut>(
    state: &AppState,
    acting: &Acting,
    fields: &super::Fields,
    act: F,
) -> Response
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    if let Err(e) = acting.require(Permission::Configure) {
        return refusal(state, acting, e);
    }
    super::once::once(state, acting, fields.token(), act).await
}

/// The problems of a sent form, by field name.
#[derive(Debug, Default)]
pub(super) struct Problems(BTreeMap<String, String>);

impl Problems {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.entry(field.to_string()).or_insert_with(|| message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    /// The error a service answered, on the field it names (`fallback` when it names none
    /// this form has): `Err` with the error itself when it is not about the form at all.
    pub fn from_error(e: ApiError, fields: &[&str], fallback: &str) -> Result<Problems, ApiError> {
        if !e.code.status().is_client_error() || e.code.status() == StatusCode::FORBIDDEN {
            return Err(e);
        }
        let mut p = Problems::default();
        let field = e.field.as_deref().filter(|f| fields.contains(f)).unwrap_or(fallback);
        p.add(field, super::capitalised(&e.message));
        Ok(p)
    }

    /// A summary at the top of the form, linking to each field.
    pub fn summary(&self) -> String {
        if self.0.is_empty() {
            return String::new();
        }
        let mut out = String::from("<div class=\"refused\" role=\"alert\"><h2>Please correct this form</h2><ul>");
        for (field, message) in &self.0 {
            let _ = write!(out, "<li><a href=\"#{}\">{}</a></li>", Esc(field), Esc(message));
        }
        out.push_str("</ul></div>\n");
        out
    }

    /// The attributes and message of a field: ` aria-invalid="true" aria-describedby="F-error"`,
    /// and the `<p>` to put after it.
    fn marks(&self, id: &str) -> (String, String) {
        match self.0.get(id) {
            Some(m) => (
                format!(" aria-invalid=\"true\" aria-describedby=\"{0}-error\"", Esc(id)),
                format!("<p class=\"field-error\" id=\"{}-error\">{}</p>", Esc(id), Esc(m)),
            ),
            None => (String::new(), String::new()),
        }
    }

    /// A labelled text input that keeps `value` and shows its problem.
    pub fn input(&self, id: &str, label: &str, value: &str, attrs: &str) -> String {
        let (marks, message) = self.marks(id);
        format!(
            "<div><label for=\"{id}\">{label}</label> <input id=\"{id}\" name=\"{id}\" value=\"{}\"{attrs}{marks}>{message}</div>\n",
            Esc(value),
            id = Esc(id),
            label = Esc(label),
        )
    }

    /// A labelled textarea.
    pub fn textarea(&self, id: &str, label: &str, value: &str, rows: u32) -> String {
        let (marks, message) = self.marks(id);
        format!(
            "<div><label for=\"{id}\">{label}</label><br><textarea id=\"{id}\" name=\"{id}\" rows=\"{rows}\" cols=\"60\"{marks}>{}</textarea>{message}</div>\n",
            Esc(value),
            id = Esc(id),
            label = Esc(label),
        )
    }

    /// A labelled select of `(value, text)` options with `chosen` selected.
    pub fn select(&self, id: &str, label: &str, options: &[(String, String)], chosen: &str) -> String {
        let (marks, message) = self.marks(id);
        let mut out = format!(
            "<div><label for=\"{id}\">{label}</label> <select id=\"{id}\" name=\"{id}\"{marks}>",
            id = Esc(id),
            label = Esc(label)
        );
        for (value, text) in options {
            let selected = if value == chosen { " selected" } else { "" };
            let _ = write!(out, "<option value=\"{}\"{selected}>{}</option>", Esc(value), Esc(text));
        }
        let _ = writeln!(out, "</select>{message}</div>");
        out
    }

    /// A group of checkboxes named `name`, each `(value, text)`, those in `checked` ticked.
    pub fn checkboxes(&self, name: &str, legend: &str, options: &[(String, String)], checked: &[String]) -> String {
        let (marks, message) = self.marks(name);
        let mut out = format!("<fieldset id=\"{0}\"{marks}><legend>{1}</legend>", Esc(name), Esc(legend));
        for (i, (value, text)) in options.iter().enumerate() {
            let tick = if checked.contains(value) { " checked" } else { "" };
            let _ = write!(
                out,
                "<div><input type=\"checkbox\" id=\"{name}-{i}\" name=\"{name}\" value=\"{}\"{tick}> \
                 <label for=\"{name}-{i}\">{}</label></div>",
                Esc(value),
                Esc(text),
                name = Esc(name),
            );
        }
        let _ = writeln!(out, "{message}</fieldset>");
        out
    }
}

/// Every value a form sent under `name` (a group of checkboxes), in order.
pub(super) fn all<'a>(fields: &'a super::Fields, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    fields.0.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Who saved the edited settings last and when, or that they are still the settings file's.
pub(super) fn changed_line(state: &AppState, stamp: &desk::SettingsStamp, table: &str) -> String {
    match stamp.changed_at.filter(|_| stamp.version > 0) {
        Some(at) => format!(
            "<p id=\"settings-changed\">Last changed by <strong>{}</strong> on {} (version {}).</p>\n",
            Esc(stamp.changed_by.as_deref().unwrap_or("the system")),
            Esc(&super::local(state, at)),
            stamp.version
        ),
        None => format!(
            "<p id=\"settings-changed\">As the <code>[{table}]</code> settings file gives them: not edited here yet.</p>\n"
        ),
    }
}

/// The version a settings form was opened at, sent back so a save over someone else's change
/// is refused.
pub(super) fn version_field(stamp: &desk::SettingsStamp) -> String {
    format!("<input type=\"hidden\" name=\"version\" value=\"{}\">", stamp.version)
}

/// The version a settings form was opened at; a form without one is refused as a whole.
pub(super) fn sent_version(fields: &super::Fields) -> Result<i64, ApiError> {
    fields.get("version").and_then(|v| v.parse().ok()).filter(|v: &i64| *v >= 0).ok_or_else(|| {
        ApiError::new(
            crate::error::ErrorCode::InvalidBody,
            "the form does not say which version of the settings it was opened at: reload the page",
        )
    })
}

/// What saving edited settings came to.
pub(super) enum Saved {
    Done,
    /// They do not build: the place names the row and field.
    Invalid(desk::SettingsError),
    /// Someone saved since the form was opened: the sentence says who and when.
    Stale(String),
    /// A change the desk refuses (a category patrons still have), on the field it names.
    Refused {
        field: &'static str,
        message: String,
    },
}

impl Saved {
    fn of(r: Result<desk::SettingsStamp, desk::DeskError>) -> Result<Saved, ApiError> {
        match r {
            Ok(_) => Ok(Saved::Done),
            Err(desk::DeskError::Settings(e)) => Ok(Saved::Invalid(e)),
            Err(desk::DeskError::StaleSettings(e)) => Ok(Saved::Stale(e.to_string())),
            Err(desk::DeskError::Invalid { field, message }) => Ok(Saved::Refused { field, message }),
            Err(desk::DeskError::Storage(e)) => Err(e.into()),
            Err(e) => Err(ApiError::internal(e)),
        }
    }
}

/// Puts edited circulation settings in force (one transaction, audited with the request).
pub(super) async fn save_circulation(
    state: &AppState,
    acting: &Acting,
    settings: desk::CirculationSettings,
    version: i64,
) -> Result<Saved, ApiError> {
    let (desk, by) = (state.desk.clone(), acting.name.clone());
    let r =
        state.db(move |db| Ok(desk.update_circulation(db, settings, version, Some(&by), chrono::Utc::now()))).await?;
    Saved::of(r)
}

/// Puts edited patron settings in force (one transaction, audited with the request).
pub(super) async fn save_patrons(
    state: &AppState,
    acting: &Acting,
    settings: desk::patrons::PatronSettings,
    version: i64,
) -> Result<Saved, ApiError> {
    let (desk, by) = (state.desk.clone(), acting.name.clone());
    let r = state
        .db(move |db| Ok(desk.update_patron_settings(db, settings, version, Some(&by), chrono::Utc::now())))
        .await?;
    Saved::of(r)
}

/// The answer to a save over someone else's change: what they did, and how to go on.
pub(super) fn conflict_banner(message: &str, reload: &str) -> String {
    format!(
        "<div class=\"refused\" role=\"alert\" id=\"conflict\"><h2>Not saved: someone else changed these settings</h2>\
         <p>{}</p><p><a href=\"{}\">Reload the settings</a> (what you typed is below, to copy).</p></div>\n",
        Esc(&super::capitalised(message)),
        Esc(reload)
    )
}

/// A table too wide for a tablet scrolls in its own box, which the keyboard can reach.
pub(super) fn scroll_box(label: &str, table: &str) -> String {
    format!(
        "<div class=\"table-scroll\" role=\"region\" aria-label=\"{}\" tabindex=\"0\">\n{table}</div>\n",
        Esc(label)
    )
}

/// The sections of the administration, with the permission each needs.
const SECTIONS: [(&str, &str, &str, Permission); 7] = [
    (
        "/staff/admin/rules",
        "Rule matrix",
        "every row, and which rule applies to a branch, category and item type, and why",
        Permission::Configure,
    ),
    ("/staff/admin/branches", "Branches", "codes and names", Permission::Configure),
    ("/staff/admin/locations", "Shelving locations", "codes and names", Permission::Configure),
    ("/staff/admin/item-types", "Item types", "codes, names, and whether they lend", Permission::Configure),
    (
        "/staff/admin/calendars",
        "Calendars and closures",
        "opening hours, closed days, emergency closures",
        Permission::Configure,
    ),
    ("/staff/admin/categories", "Patron categories", "card validity, age limits, guarantors", Permission::Configure),
    ("/staff/admin/accounts", "Staff accounts", "logins, roles, branches, passwords, API tokens", Permission::Admin),
];

const TEMPLATES: (&str, &str, &str, Permission) =
    ("/staff/admin/notices", "Notice templates", "the text of each notice, with a preview", Permission::Configure);

/// `GET /staff/admin`: the sections this account may open.
async fn home(State(state): State<AppState>, StaffUser(acting): StaffUser) -> Response {
    if let Err(e) = acting.require(Permission::Configure) {
        return refusal(&state, &acting, e);
    }
    let mut main = String::from("<h1>Administration</h1>\n<ul>\n");
    for (href, name, about, permission) in SECTIONS.iter().chain([&TEMPLATES]) {
        if acting.staff.may(*permission) {
            let _ = writeln!(main, "<li><a href=\"{href}\">{name}</a>: {about}</li>");
        }
    }
    main.push_str("</ul>\n");
    page(&state, &acting, StatusCode::OK, "Administration", &main)
}
