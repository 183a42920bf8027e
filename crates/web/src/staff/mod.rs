//! The staff client: server-rendered pages under `/staff` for the people at the desk. Log-in
//! (`/staff/login`, the same session and cookie as `POST /api/v1/session`), the home page, the
//! circulation desk ([`desk`]) and the check-in screen ([`checkin`]).
//!
//! Every page works without JavaScript: forms post, the server answers with the whole page, and
//! `autofocus` puts the cursor back in the field a barcode scanner types into. The little script
//! there is only sounds the refusal cue and re-focuses the scan field when a browser ignores
//! `autofocus`. A page is an adapter: each action is one `desk` service call, with the same
//! permission checks ([`Acting::require`], [`Acting::require_at`]) and the same audit entry (the
//! `authenticate` middleware runs in front of these routes too) as the JSON API's.
//!
//! Cross-site requests cannot act as a clerk: the session cookie is `SameSite=Strict`, so a form
//! posted from another site arrives without it and meets the log-in page.

mod admin;
mod cataloging;
mod checkin;
mod copycat;
mod desk;
mod holds;
mod import;
pub(crate) mod once;
mod patrons;
mod reports;

use crate::auth::Acting;
use crate::error::{ApiError, ErrorCode};
use crate::html::{base_style, url_encode, Esc};
use crate::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, FromRequestParts, OriginalUri, Query, Request, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use catalog::{Branch, Code};
use chrono::{DateTime, Utc};
use std::fmt::Write;
use storage::Database;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff", get(home))
        .route("/staff/login", get(login_page).post(log_in))
        .route("/staff/logout", post(log_out))
        .route("/staff/desk", get(desk::page))
        .route("/staff/desk/checkout", post(desk::checkout))
        .route("/staff/desk/renew", post(desk::renew))
        .route("/staff/desk/renew-all", post(desk::renew_all))
        .route("/staff/desk/receipt", get(desk::receipt))
        .route("/staff/desk/receipt/email", post(desk::email_receipt))
        .route("/staff/checkin", get(checkin::page).post(checkin::check_in))
        .route("/staff/checkin/inspection", post(checkin::inspect))
        .merge(copycat::routes())
        .merge(admin::routes())
        .merge(cataloging::routes())
        .merge(holds::routes())
        .merge(import::routes())
        .merge(reports::routes())
        .merge(patrons::routes())
}

/// The signed-in staff member of a staff page. Without a session the page answers with a
/// redirect to the log-in, which comes back here afterwards.
pub(crate) struct StaffUser(pub Acting);

impl FromRequestParts<AppState> for StaffUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match Acting::from_request_parts(parts, state).await {
            Ok(acting) => Ok(StaffUser(acting)),
            Err(e) if e.code == ErrorCode::Unauthenticated => {
                // Only a GET comes back to where it was: a form's POST is not repeated.
                let next = if parts.method == axum::http::Method::GET {
                    parts.uri.path_and_query().map_or("/staff".to_string(), |p| p.as_str().to_string())
                } else {
                    "/staff".to_string()
                };
                Err(see_other(&format!("/staff/login?next={}", url_encode(&next))))
            }
            Err(e) => Err(error_page(&state.config.library_name, None, e)),
        }
    }
}

/// `303 See Other` to `to`.
pub(crate) fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, to.to_string())]).into_response()
}

const STAFF_STYLE: &str = "\
header,main,footer{max-width:80rem}h1{margin:.6rem 0;font-size:1.7rem}\
.patron{display:grid;grid-template-columns:minmax(14rem,22rem) 1fr;gap:0 2rem;align-items:start}\
.patron h2{margin:.6rem 0}.patron-work form.scan{margin-top:.6rem}\
@media (max-width:900px){.patron{display:block}}\
.staff-bar{display:flex;gap:1rem;align-items:baseline;flex-wrap:wrap}.staff-bar form{margin:0}\
.staff-bar button{background:none;color:#1d4e89;text-decoration:underline;padding:0}\
.refused{border-left:8px solid #b00020;background:#fdecee;padding:.5rem 1rem;margin:1rem 0}\
.refused h2,.notice h2{margin:.2rem 0;font-size:1.15rem}\
.notice{border-left:8px solid #1d4e89;background:#eef2f7;padding:.5rem 1rem;margin:1rem 0}\
.done{border-left:8px solid #0b6b2c;background:#e9f6ee;padding:.5rem 1rem;margin:1rem 0}\
.blocks{border:2px solid #b00020;padding:.25rem 1rem;margin:.5rem 0}.alerts{border:2px solid #8a5a00;padding:.25rem 1rem;margin:.5rem 0}\
.overdue{color:#b00020;font-weight:700}.patron{border-top:2px solid #1d4e89;margin-top:1rem}\
.scan input{font-size:1.2rem;min-width:16rem}.action{font-weight:700}\
ol.results{padding-left:1.2rem}ol.results li{margin:.5rem 0;padding:.4rem .6rem;background:#f6f8fb}\
.inline{display:inline;margin:0}.inline button{padding:.2rem .6rem}\
button.secondary{background:#fff;color:#1d4e89;border:1px solid #1d4e89}\
@media print{header,footer,form,.no-print,.skip{display:none!important}body{font-size:11pt}main{max-width:none}}";

/// Plays a short beep when the page shows a refusal (WebAudio), and puts the cursor in the
/// scan field when a browser did not honour `autofocus`. Some browsers allow sound only after a
/// key press on the page itself: then the beep comes with the next key.
const STAFF_SCRIPT: &str = "\
(function(){var f=document.querySelector('[autofocus]');if(f&&document.activeElement!==f){f.focus();}\
if(!document.querySelector('.refused')){return;}var C=window.AudioContext||window.webkitAudioContext;if(!C){return;}\
function beep(){try{var c=new C();var o=c.createOscillator();var g=c.createGain();o.type='square';o.frequency.value=330;\
g.gain.value=0.15;o.connect(g);g.connect(c.destination);o.start();o.stop(c.currentTime+0.35);\
document.body.setAttribute('data-cue',c.state);if(c.state!=='running'){document.addEventListener('keydown',function k(){\
document.removeEventListener('keydown',k);c.resume();},{once:true});}}catch(e){document.body.setAttribute('data-cue','failed');}}\
beep();})();";

/// The page every staff screen shares: who is signed in, where, and the screens' links.
pub(crate) fn layout(library: &str, who: Option<&Acting>, title: &str, main: &str) -> String {
    let mut out = String::with_capacity(main.len() + 4096);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} - Staff - {library}</title>\n<style>{}{STAFF_STYLE}</style>\n</head>\n<body>\n\
         <a class=\"skip\" href=\"#main\">Skip to main content</a>\n<header>\n\
         <p class=\"library\"><a href=\"/staff\">{library} staff</a></p>\n",
        base_style(),
        title = Esc(title),
        library = Esc(library),
    );
    if let Some(who) = who {
        let _ = writeln!(
            out,
            "<nav aria-label=\"Staff\" class=\"staff-bar\"><ul><li><a href=\"/staff/desk\">Circulation desk</a></li>\
             <li><a href=\"/staff/checkin\">Check in</a></li>\
             <li><a href=\"/staff/patrons\">Patrons</a></li>\
             <li><a href=\"/staff/holds/pull-list\">Holds and transits</a></li>\
             <li><a href=\"/staff/cataloging\">Cataloging</a></li>\
             <li><a href=\"/staff/reports\">Reports</a></li>\
             <li><a href=\"/staff/admin\">Administration</a></li></ul>\
             <span>Signed in as {}</span>\
             <form method=\"post\" action=\"/staff/logout\"><button type=\"submit\">Log out</button></form></nav>",
            Esc(&who.account.name),
        );
    }
    let _ = write!(
        out,
        "</header>\n<main id=\"main\">\n{main}</main>\n<footer><p>Shelfmark {}</p></footer>\n\
         <script>{STAFF_SCRIPT}</script>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
    );
    out
}

/// An error as a page: 403 for a permission the clerk lacks, and the sentence that says which.
pub(crate) fn error_page(library: &str, who: Option<&Acting>, e: ApiError) -> Response {
    let status = e.code.status();
    let (title, text) = match status {
        StatusCode::FORBIDDEN => ("Not allowed", e.message.clone()),
        s if s.is_client_error() => ("Cannot do this", e.message.clone()),
        _ => {
            tracing::error!("staff page: {}", e.message);
            ("Something went wrong", "The server could not do this. Please try again.".to_string())
        }
    };
    let main = format!(
        "<h1>{}</h1>\n<p role=\"alert\">{}</p>\n<p><a href=\"/staff\">Back to the staff home page</a></p>\n",
        Esc(title),
        Esc(&capitalised(&text))
    );
    (status, Html(layout(library, who, title, &main))).into_response()
}

pub(crate) fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The fields of a posted form, in order; a body that is not a form is the clerk's browser
/// misbehaving, answered with a page that says so (before the handler runs).
pub(crate) struct Fields(Vec<(String, String)>);

impl FromRequest<AppState> for Fields {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match Form::<Vec<(String, String)>>::from_request(req, state).await {
            Ok(Form(fields)) => Ok(Fields(fields)),
            Err(e) => Err(error_page(
                &state.config.library_name,
                None,
                ApiError::new(ErrorCode::InvalidBody, format!("the form could not be read: {e}")),
            )),
        }
    }
}

impl Fields {
    /// The field's value, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    /// The form's `form_token` ([`once::once`] acts once per token).
    pub fn token(&self) -> Option<String> {
        self.get(once::FIELD).map(str::to_string)
    }

    /// The raw value (passwords keep their spaces).
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// A query string's parameters, for the GET pages.
pub(crate) type QueryParams = Result<Query<Vec<(String, String)>>, QueryRejection>;

pub(crate) fn query_get<'a>(q: &'a QueryParams, name: &str) -> Option<&'a str> {
    q.as_ref().ok()?.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

/// Where the clerk works: the branch asked for (if they may act there), else the first of their
/// branches, else the library's first branch. With every branch the clerk may choose from.
pub(crate) struct DeskBranch {
    pub here: Branch,
    pub choices: Vec<Branch>,
}

pub(crate) fn desk_branch(db: &dyn Database, acting: &Acting, asked: Option<&str>) -> Result<DeskBranch, ApiError> {
    let mut all = db.branches()?;
    all.sort_by(|a, b| a.code.as_str().cmp(b.code.as_str()));
    let choices: Vec<Branch> = all.into_iter().filter(|b| acting.account.may_act_at(&b.code)).collect();
    let here = match asked {
        Some(raw) => {
            let code = Code::parse(raw)
                .map_err(|e| ApiError::field(ErrorCode::InvalidCode, "branch", format!("branch: {e}")))?;
            match choices.iter().find(|b| b.code == code) {
                Some(b) => b.clone(),
                None if db.branch(&code)?.is_some() => {
                    let allowed: Vec<&str> = acting.account.branches.iter().map(|b| b.as_str()).collect();
                    return Err(ApiError::field(
                        ErrorCode::Forbidden,
                        "branch",
                        format!("{} may act only at {}, not at {code}", acting.name, allowed.join(", ")),
                    ));
                }
                None => {
                    return Err(ApiError::field(
                        ErrorCode::UnknownBranch,
                        "branch",
                        format!("there is no branch {code}"),
                    ))
                }
            }
        }
        None => choices.first().cloned().ok_or_else(|| {
            ApiError::new(ErrorCode::Forbidden, format!("{} may not act at any branch of this library", acting.name))
        })?,
    };
    Ok(DeskBranch { here, choices })
}

impl DeskBranch {
    /// "Working at ..." and, when the clerk may work at more than one branch, a form to change.
    pub fn bar(&self, action: &str, keep: &[(&str, &str)]) -> String {
        let mut out = format!("<p class=\"working-at\">Working at <strong>{}</strong>.</p>\n", Esc(&self.here.name));
        if self.choices.len() > 1 {
            let _ = write!(
                out,
                "<form method=\"get\" action=\"{action}\" class=\"change-branch no-print\">\
                 <div><label for=\"desk-branch\">Desk branch</label><select id=\"desk-branch\" name=\"branch\">"
            );
            for b in &self.choices {
                let _ = write!(
                    out,
                    "<option value=\"{}\"{}>{}</option>",
                    Esc(b.code.as_str()),
                    if b.code == self.here.code { " selected" } else { "" },
                    Esc(&b.name)
                );
            }
            out.push_str("</select></div>");
            for (k, v) in keep {
                let _ = write!(out, "<input type=\"hidden\" name=\"{}\" value=\"{}\">", Esc(k), Esc(v));
            }
            out.push_str("<div><button type=\"submit\" class=\"secondary\">Change branch</button></div></form>\n");
        }
        out
    }
}

/// A time as the desk reads it: in the library's time zone.
pub(crate) fn local(state: &AppState, at: DateTime<Utc>) -> String {
    at.with_timezone(&state.desk.circulation().time_zone).format("%Y-%m-%d %H:%M").to_string()
}

/// The title of each item's record, by item id.
pub(crate) fn titles(
    db: &dyn Database,
    items: impl IntoIterator<Item = storage::ItemId>,
) -> Result<std::collections::HashMap<storage::ItemId, (catalog::Item, String)>, ApiError> {
    let mut out = std::collections::HashMap::new();
    for id in items {
        if out.contains_key(&id) {
            continue;
        }
        if let Some(item) = db.item(id)? {
            let title = db.record(item.bib_id)?.map(|r| r.derived.title).filter(|t| !t.is_empty());
            out.insert(id, (item, title.unwrap_or_else(|| "[no title]".to_string())));
        }
    }
    Ok(out)
}

async fn home(State(state): State<AppState>, StaffUser(acting): StaffUser) -> Response {
    let mut main = format!("<h1>Staff</h1>\n<p>Welcome, {}.</p>\n<ul>\n", Esc(&acting.account.name));
    let may = |p| acting.staff.may(p);
    if may(circulation::Permission::Circulate) {
        main.push_str("<li><a href=\"/staff/desk\">Circulation desk</a>: scan a patron card, check out, renew</li>\n");
    }
    if may(circulation::Permission::CheckIn) {
        main.push_str(
            "<li><a href=\"/staff/checkin\">Check in</a>: returns and the book drop, with what to do with each item</li>\n",
        );
    }
    if may(circulation::Permission::Catalog) {
        main.push_str(
            "<li><a href=\"/staff/cataloging/copy\">Copy cataloging</a>: find a record in another library's \
             catalog and import it</li>\n",
        );
    }
    if may(circulation::Permission::Configure) {
        main.push_str("<li><a href=\"/staff/admin\">Administration</a>: branches, calendars, rules, notices, staff accounts</li>\n");
    }
    if may(circulation::Permission::Catalog) {
        main.push_str("<li><a href=\"/staff/cataloging\">Cataloging</a>: records, items and their labels</li>\n");
        main.push_str(
            "<li><a href=\"/staff/cataloging/import\">Import a MARC file</a>: stage a file, see what each record \
             matches in the catalog, then add, replace or skip</li>\n",
        );
    }
    if may(circulation::Permission::Circulate) || may(circulation::Permission::Shelve) {
        main.push_str(
            "<li><a href=\"/staff/holds/pull-list\">Holds and transits</a>: the pull list, the hold shelf, \
             expired holds, transits to send and receive</li>\n",
        );
    }
    if may(circulation::Permission::Reports) {
        main.push_str("<li><a href=\"/staff/reports\">Reports</a>: circulation, collection, patrons and money, with charts and CSV</li>\n");
    }
    if may(circulation::Permission::ManagePatrons) {
        main.push_str("<li><a href=\"/staff/patrons\">Patrons</a>: find, register, cards, blocks, the account</li>\n");
    }
    main.push_str("</ul>\n");
    Html(layout(&state.config.library_name, Some(&acting), "Home", &main)).into_response()
}

fn login_form(library: &str, next: &str, login: &str, error: Option<&str>) -> String {
    let mut main = String::from("<h1>Staff log-in</h1>\n");
    if let Some(e) = error {
        let _ = writeln!(main, "<p class=\"refused\" role=\"alert\" id=\"login-error\">{}</p>", Esc(e));
    }
    let described = if error.is_some() { " aria-describedby=\"login-error\"" } else { "" };
    let _ = write!(
        main,
        "<form method=\"post\" action=\"/staff/login\" class=\"login\">\n\
         <input type=\"hidden\" name=\"next\" value=\"{next}\">\n\
         <div><label for=\"login\">Login</label><input id=\"login\" name=\"login\" autocomplete=\"username\" required value=\"{login}\"{described}{focus_login}></div>\n\
         <div><label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required{focus_password}></div>\n\
         <div><button type=\"submit\">Log in</button></div>\n</form>\n",
        next = Esc(next),
        login = Esc(login),
        focus_login = if login.is_empty() { " autofocus" } else { "" },
        focus_password = if login.is_empty() { "" } else { " autofocus" },
    );
    layout(library, None, "Log in", &main)
}

/// Only a path of this site: `next` must not send the clerk elsewhere after the log-in.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/staff") && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/staff".to_string(),
    }
}

async fn login_page(State(state): State<AppState>, query: QueryParams) -> Response {
    let next = safe_next(query_get(&query, "next"));
    Html(login_form(&state.config.library_name, &next, "", None)).into_response()
}

async fn log_in(State(state): State<AppState>, fields: Fields) -> Response {
    let library = state.config.library_name.clone();
    let next = safe_next(fields.get("next"));
    let login = fields.get("login").unwrap_or("").to_string();
    let password = fields.raw("password").unwrap_or("").to_string();
    if login.is_empty() || password.is_empty() {
        let which = if login.is_empty() { "Enter your login." } else { "Enter your password." };
        return (StatusCode::BAD_REQUEST, Html(login_form(&library, &next, &login, Some(which)))).into_response();
    }
    match crate::api::staff::start_session(&state, login.clone(), password).await {
        Ok(session) => (StatusCode::SEE_OTHER, [(LOCATION, next), (SET_COOKIE, session.cookie)]).into_response(),
        Err(e) if e.code == ErrorCode::Unauthenticated => (
            StatusCode::UNAUTHORIZED,
            Html(login_form(&library, &next, &login, Some("The login or the password is wrong."))),
        )
            .into_response(),
        Err(e) => error_page(&library, None, e),
    }
}

async fn log_out(State(state): State<AppState>, StaffUser(acting): StaffUser, _uri: OriginalUri) -> Response {
    match crate::api::staff::end_session(&state, &acting).await {
        Ok(()) => (
            StatusCode::SEE_OTHER,
            [(LOCATION, "/staff/login".to_string()), (SET_COOKIE, crate::api::staff::cookie("", 0))],
        )
            .into_response(),
        Err(e) => error_page(&state.config.library_name, Some(&acting), e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_the_log_in_only_a_staff_page_of_this_site() {
        assert_eq!(safe_next(Some("/staff/desk?card=1")), "/staff/desk?card=1");
        for elsewhere in
            [None, Some("https://evil.example/"), Some("//evil.example/staff"), Some("/records"), Some("/staff\\..")]
        {
            assert_eq!(safe_next(elsewhere), "/staff", "{elsewhere:?}");
        }
    }

    #[test]
    fn the_layout_escapes_and_names_who_is_signed_in_only_when_someone_is() {
        let page = layout("<Lib>", None, "A & B", "<p>x</p>");
        assert!(page.contains("<title>A &amp; B - Staff - &lt;Lib&gt;</title>"));
        assert!(!page.contains("Log out"));
        assert_eq!(capitalised("the login"), "The login");
        assert_eq!(capitalised(""), "");
    }
}
