//! The OPAC: the public catalog's search page and the patron's side of the library (log-in,
//! my account, renewals, holds, preferences), as server-rendered HTML that needs no JavaScript.
//!
//! Patrons sign in with their card number and PIN or password (`desk::Desk::verify_patron_password`)
//! and get a session of their own: a 256-bit random token in the `shelfmark_patron` cookie
//! (HttpOnly, SameSite=Strict), of which only the SHA-256 is stored (`patron_sessions`, 0012).
//! It is a different cookie and a different table from staff sessions, so a patron's cookie
//! never grants staff rights and a staff session never opens a patron's account. Every action is
//! a POST that redirects (303) to a page that shows what happened in a one-time flash message,
//! so reloading a page never repeats the action. Every circulation decision is `desk`'s.

mod account;
mod search;

pub(crate) use account::{hold_form, hold_form_context};
pub(crate) use search::search_form;

use crate::auth::cookie;
use crate::error::ApiError;
use crate::html::{layout, url_encode, Esc};
use crate::AppState;
use axum::extract::{Form, Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{Duration, Utc};
use desk::patrons::{PatronError, PatronPassword};
use std::fmt::Write;
use storage::patrons::PatronSession;

/// The patron session cookie; staff sessions use `shelfmark_session`.
pub(crate) const PATRON_COOKIE: &str = "shelfmark_patron";
/// The one-time message an action leaves for the page it redirects to.
const FLASH_COOKIE: &str = "shelfmark_flash";

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/search", get(search::search_page))
        .route("/login", get(login_page).post(log_in))
        .route("/logout", post(log_out))
        .route("/account", get(account::account_page))
        .route("/account/loans/renew", post(account::renew_all))
        .route("/account/loans/{id}/renew", post(account::renew))
        .route("/account/holds/{id}/cancel", post(account::cancel_hold))
        .route("/account/holds/{id}/suspend", post(account::suspend_hold))
        .route("/account/holds/{id}/resume", post(account::resume_hold))
        .route("/account/preferences", post(account::preferences))
        .route("/records/{id}/hold", post(account::place_hold))
}

fn set_cookie(name: &str, value: &str, max_age_seconds: i64) -> HeaderValue {
    let text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}");
    // Names are constants and values are hex tokens or percent-encoded text: always valid.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("shelfmark_flash=; Max-Age=0"))
}

/// How long a patron session lasts without use.
fn idle(state: &AppState) -> Duration {
    Duration::minutes(i64::from(state.config.patron_session_minutes.max(1)))
}

/// The patron the request's cookie signs in, if any; each use moves the idle expiry on.
pub(crate) async fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<Option<PatronSession>, ApiError> {
    let Some(token) = cookie(headers, PATRON_COOKIE) else { return Ok(None) };
    let hash = accounts::token_hash(token);
    let idle = idle(state);
    state
        .db(move |db| {
            let now = Utc::now();
            Ok(db.patron_session(&hash, now, now + idle)?)
        })
        .await
}

/// What an action did, shown once by the page it redirects to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Flash {
    Done(String),
    Refused(String),
}

impl Flash {
    fn encode(&self) -> String {
        match self {
            Flash::Done(m) => format!("ok:{}", url_encode(m)),
            Flash::Refused(m) => format!("no:{}", url_encode(m)),
        }
    }

    fn decode(raw: &str) -> Option<Flash> {
        let (kind, text) = raw.split_once(':')?;
        let text = url_decode(text)?;
        match kind {
            "ok" => Some(Flash::Done(text)),
            "no" => Some(Flash::Refused(text)),
            _ => None,
        }
    }

    /// A refusal is an alert (read out at once); a success a status.
    pub(crate) fn html(&self) -> String {
        match self {
            Flash::Done(m) => format!("<p class=\"message\" role=\"status\">{}</p>\n", Esc(m)),
            Flash::Refused(m) => format!("<p class=\"message error\" role=\"alert\">{}</p>\n", Esc(m)),
        }
    }
}

fn url_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The flash the request carries, if any. The page that shows it also clears it
/// ([`page_response`]).
pub(crate) fn take_flash(headers: &HeaderMap) -> Option<Flash> {
    cookie(headers, FLASH_COOKIE).and_then(Flash::decode)
}

/// A page, clearing the flash cookie when the page showed one.
pub(crate) fn page_response(html: String, flash_shown: bool) -> Response {
    let mut response = Html(html).into_response();
    if flash_shown {
        response.headers_mut().append(SET_COOKIE, set_cookie(FLASH_COOKIE, "", 0));
    }
    response
}

/// 303 See Other to `location`, leaving `flash` for the page there.
pub(crate) fn redirect(location: &str, flash: Option<Flash>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, v);
    }
    if let Some(f) = flash {
        response.headers_mut().append(SET_COOKIE, set_cookie(FLASH_COOKIE, &f.encode(), 300));
    }
    response
}

/// Where a log-in may send the patron afterwards: only a path on this site ("/..." but not
/// "//host" or "/\host", which browsers read as another site).
pub(crate) fn local_path(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\');
    ok.then_some(next)
}

/// A form body's fields, in order (a field may repeat).
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    pub(crate) fn new(form: Result<Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>) -> Fields {
        // A body that does not parse is a form with no fields: each handler then says what is missing.
        Fields(form.map(|Form(f)| f).unwrap_or_default())
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

fn login_form(out: &mut String, card: &str, next: &str) {
    let _ = write!(
        out,
        "<form method=\"post\" action=\"/login\" class=\"login\">\n\
         <div><label for=\"card\">Library card number</label>\
         <input id=\"card\" name=\"card\" autocomplete=\"username\" required value=\"{}\"></div>\n\
         <div><label for=\"password\">PIN or password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required></div>\n\
         <input type=\"hidden\" name=\"next\" value=\"{}\">\n\
         <div><button type=\"submit\">Log in</button></div>\n</form>\n",
        Esc(card),
        Esc(next)
    );
}

fn login_html(state: &AppState, card: &str, next: &str, error: Option<&str>, flash: Option<&Flash>) -> String {
    let mut main = String::from("<h1>Log in to your account</h1>\n");
    if let Some(f) = flash {
        main.push_str(&f.html());
    }
    if let Some(e) = error {
        let _ = writeln!(main, "<p class=\"error\" role=\"alert\">{}</p>", Esc(e));
    }
    login_form(&mut main, card, next);
    main.push_str(
        "<p class=\"muted\">Your card number is printed under the barcode on your library card. \
         Ask at any branch if you do not have a PIN.</p>\n",
    );
    layout(&state.config.library_name, "Log in", &main)
}

/// `GET /login?next=PATH`.
async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Response {
    // A query string that does not decode is a log-in with nowhere particular to go next.
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let next = query.iter().find(|(k, _)| k == "next").and_then(|(_, v)| local_path(v)).unwrap_or("/account");
    let flash = take_flash(&headers);
    page_response(login_html(&state, "", next, None, flash.as_ref()), flash.is_some())
}

/// The one sentence for every failed log-in: it must not tell an unknown card from a wrong PIN.
const LOGIN_FAILED: &str = "The card number or the PIN is not right. Please try again.";

/// `POST /login` with `card`, `password` and `next`.
async fn log_in(
    State(state): State<AppState>,
    form: Result<Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let fields = Fields::new(form);
    let card = fields.get("card").unwrap_or("").trim().to_string();
    let password = fields.get("password").unwrap_or("").to_string();
    let next = fields.get("next").and_then(local_path).unwrap_or("/account").to_string();
    let idle = idle(&state);
    let desk = state.desk.clone();
    let login_card = card.clone();
    let result = state
        .db(move |db| {
            let now = Utc::now();
            let valid = match desk.verify_patron_password(db, &login_card, &password) {
                Ok(PatronPassword::Valid) => true,
                Ok(PatronPassword::Invalid) => false,
                // No such card, a replaced card, or no PIN set: the same argon2 work against a
                // decoy, so the time taken does not tell these apart from a wrong PIN.
                Ok(PatronPassword::NotSet)
                | Err(PatronError::NotFound { .. } | PatronError::CardReplaced { .. } | PatronError::Invalid(_)) => {
                    let _ = accounts::verify_password(&password, accounts::decoy_hash());
                    false
                }
                Err(PatronError::Storage(e)) => return Err(e.into()),
                Err(e) => return Err(ApiError::internal(e)),
            };
            if !valid {
                return Ok(None);
            }
            let (token, hash) = accounts::new_token().map_err(ApiError::internal)?;
            db.create_patron_session(&login_card, &hash, now + idle, now)?;
            Ok(Some(token))
        })
        .await;
    match result {
        Ok(Some(token)) => {
            let mut response = redirect(&next, None);
            // The cookie outlives the idle timeout a little: the server decides when it ends.
            let max_age = idle.num_seconds() + 24 * 3600;
            response.headers_mut().append(SET_COOKIE, set_cookie(PATRON_COOKIE, &token, max_age));
            response
        }
        Ok(None) => {
            let html = login_html(&state, &card, &next, Some(LOGIN_FAILED), None);
            (StatusCode::UNAUTHORIZED, Html(html)).into_response()
        }
        Err(e) => crate::pages::error_page(&state, e),
    }
}

/// `POST /logout`: ends the patron's session.
async fn log_out(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = cookie(&headers, PATRON_COOKIE) {
        let hash = accounts::token_hash(token);
        if let Err(e) = state.db(move |db| Ok(db.end_patron_session(&hash)?)).await {
            return crate::pages::error_page(&state, e);
        }
    }
    let mut response = redirect("/login", Some(Flash::Done("You are logged out.".to_string())));
    response.headers_mut().append(SET_COOKIE, set_cookie(PATRON_COOKIE, "", 0));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_only_a_local_path() {
        assert_eq!(local_path("/records/5"), Some("/records/5"));
        assert_eq!(local_path("/account"), Some("/account"));
        for bad in ["//evil.example/", "/\\evil.example", "https://evil.example/", "account", "", "/a\nb"] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn flash_round_trips_any_text() {
        for f in [Flash::Done("Renewed “Dune” until 2026-06-01; ok?".into()), Flash::Refused("a:b%c+d".into())] {
            assert_eq!(Flash::decode(&f.encode()), Some(f.clone()));
        }
        assert_eq!(Flash::decode("xx:hello"), None);
        assert_eq!(Flash::decode("ok:%zz"), None);
    }

    #[test]
    fn flash_is_escaped() {
        assert_eq!(Flash::Refused("<b>".into()).html(), "<p class=\"message error\" role=\"alert\">&lt;b&gt;</p>\n");
    }
}
