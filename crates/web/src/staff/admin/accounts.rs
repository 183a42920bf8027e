//! Staff accounts: the list with a form to create one (login, name, password, roles as
//! checkboxes, branches), and each account's page to change its name, roles, branches and
//! whether it is active, reset its password, and see and revoke its API tokens. The same
//! functions as `api::staff` (`create_account`, `update_account`, `set_account_password`); all
//! need the Admin permission.

use std::fmt::Write;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use catalog::Code;
use circulation::Permission;
use storage::staff::{StaffAccount, StaffChange};

use super::{page, refusal, scroll_box, Problems};
use crate::api::staff::{create_account, set_account_password, staff_error, update_account};
use crate::auth::Acting;
use crate::error::{ApiError, ErrorCode};
use crate::html::{url_encode, Esc};
use crate::staff::{local, once, query_get, see_other, Fields, QueryParams, StaffUser};
use crate::AppState;

const PATH: &str = "/staff/admin/accounts";
const TITLE: &str = "Staff accounts";

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(PATH, get(list).post(create))
        .route("/staff/admin/accounts/{login}", get(account_page).post(save))
        .route("/staff/admin/accounts/{login}/password", post(reset_password))
        .route("/staff/admin/accounts/{login}/tokens/{id}/revoke", post(revoke_token))
}

/// What each role may do, for the checkboxes' labels.
fn role_options() -> Vec<(String, String)> {
    accounts::Role::ALL
        .iter()
        .map(|r| {
            let may: Vec<&str> = r.permissions().iter().map(|p| p.as_str()).collect();
            (r.as_str().to_string(), format!("{} ({})", r.as_str(), may.join(", ")))
        })
        .collect()
}

async fn branch_options(state: &AppState) -> Result<Vec<(String, String)>, ApiError> {
    let mut branches = state.db(|db| Ok(db.branches()?)).await?;
    branches.sort_by(|a, b| a.code.as_str().cmp(b.code.as_str()));
    Ok(branches.into_iter().map(|b| (b.code.to_string(), format!("{} ({})", b.name, b.code))).collect())
}

/// The roles and branches ticked on a form, each checked.
fn roles_and_branches(fields: &Fields, problems: &mut Problems) -> (Vec<String>, Vec<String>) {
    let ticked = |name: &str| -> Vec<String> {
        super::all(fields, name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect()
    };
    let roles = ticked("roles");
    for r in &roles {
        if accounts::Role::parse(r).is_err() {
            problems.add("roles", format!("Roles: there is no role {r:?}."));
        }
    }
    let branches = ticked("branches");
    for b in &branches {
        if Code::parse(b).is_err() {
            problems.add("branches", format!("Branches: {b:?} is not a branch code."));
        }
    }
    (roles, branches)
}

fn codes(branches: &[String]) -> Vec<Code> {
    branches.iter().filter_map(|b| Code::parse(b).ok()).collect()
}

/// The create form as sent.
#[derive(Default)]
struct NewAccount {
    login: String,
    name: String,
    roles: Vec<String>,
    branches: Vec<String>,
}

async fn list_page(
    state: &AppState,
    acting: &Acting,
    status: StatusCode,
    sent: Option<(&NewAccount, &Problems)>,
    notice: Option<&str>,
) -> Response {
    let all = state.db(|db| Ok(db.staff_accounts()?)).await;
    let (all, branches) = match (all, branch_options(state).await) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return refusal(state, acting, e),
    };
    let mut main = format!("<h1>{TITLE}</h1>\n");
    if let Some(n) = notice {
        let _ = writeln!(main, "<p class=\"done\" role=\"status\">{}</p>", Esc(n));
    }
    let mut table = String::from(
        "<table class=\"admin\" id=\"accounts\"><thead><tr><th scope=\"col\">Login</th><th scope=\"col\">Name</th>\
         <th scope=\"col\">Roles</th><th scope=\"col\">Branches</th><th scope=\"col\">Active</th></tr></thead>\n<tbody>\n",
    );
    for a in &all {
        let limited: Vec<&str> = a.branches.iter().map(|b| b.as_str()).collect();
        let _ = writeln!(
            table,
            "<tr><th scope=\"row\"><a href=\"{PATH}/{}\">{}</a></th><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            url_encode(&a.login),
            Esc(&a.login),
            Esc(&a.name),
            Esc(&a.roles.join(", ")),
            Esc(&if limited.is_empty() { "every branch".to_string() } else { limited.join(", ") }),
            if a.active { "yes" } else { "no (deactivated)" }
        );
    }
    table.push_str("</tbody></table>\n");
    main.push_str(&scroll_box("Staff accounts", &table));
    main.push_str("<h2 id=\"create\">Create an account</h2>\n");
    let blank = NewAccount::default();
    let none = Problems::default();
    let (new, problems) = sent.unwrap_or((&blank, &none));
    main.push_str(&problems.summary());
    let _ = write!(main, "<form method=\"post\" action=\"{PATH}\" class=\"admin-form\">\n{}\n", once::token_field());
    main.push_str(&problems.input("login", "Login", &new.login, " required autocomplete=\"off\""));
    main.push_str(&problems.input("name", "Name", &new.name, " required maxlength=\"200\""));
    main.push_str(&problems.input(
        "password",
        &format!("Password (at least {} characters)", accounts::MIN_PASSWORD_CHARS),
        "",
        " type=\"password\" required autocomplete=\"new-password\"",
    ));
    main.push_str(&problems.checkboxes("roles", "Roles", &role_options(), &new.roles));
    main.push_str(&problems.checkboxes(
        "branches",
        "Limited to these branches (none ticked: every branch)",
        &branches,
        &new.branches,
    ));
    main.push_str("<div><button type=\"submit\">Create the account</button></div>\n</form>\n");
    page(state, acting, status, TITLE, &main)
}

async fn list(State(state): State<AppState>, StaffUser(acting): StaffUser, query: QueryParams) -> Response {
    if let Err(e) = acting.require(Permission::Admin) {
        return refusal(&state, &acting, e);
    }
    let notice = query_get(&query, "created").map(|l| format!("Account {l} created: it can log in now."));
    list_page(&state, &acting, StatusCode::OK, None, notice.as_deref()).await
}

/// The status of a refused form: the service's (409 for a login taken), 400 for the page's own.
fn status_of(e: &ApiError) -> StatusCode {
    if e.code.status() == StatusCode::CONFLICT {
        StatusCode::CONFLICT
    } else {
        StatusCode::BAD_REQUEST
    }
}

/// `POST /staff/admin/accounts`: a new account.
async fn create(State(state): State<AppState>, StaffUser(acting): StaffUser, fields: Fields) -> Response {
    if let Err(e) = acting.require(Permission::Admin) {
        return refusal(&state, &acting, e);
    }
    once::once(&state, &acting, fields.token(), || async {
        let mut problems = Problems::default();
        let login = fields.get("login").unwrap_or("").to_string();
        let name = fields.get("name").unwrap_or("").to_string();
        let password = fields.raw("password").unwrap_or("").to_string();
        if login.is_empty() {
            problems.add("login", "Login: enter the name this person logs in with.");
        }
        if name.is_empty() {
            problems.add("name", "Name: enter the person's name.");
        } else if name.chars().count() > 200 {
            problems.add("name", "Name: at most 200 characters.");
        }
        if password.is_empty() {
            problems.add("password", "Password: enter a first password for the account.");
        }
        let (roles, branches) = roles_and_branches(&fields, &mut problems);
        if roles.is_empty() {
            problems.add("roles", "Roles: tick at least one role; an account without one can do nothing.");
        }
        let sent =
            NewAccount { login: login.clone(), name: name.clone(), roles: roles.clone(), branches: branches.clone() };
        if !problems.is_empty() {
            return list_page(&state, &acting, StatusCode::BAD_REQUEST, Some((&sent, &problems)), None).await;
        }
        let roles =
            roles.iter().filter_map(|r| accounts::Role::parse(r).ok()).map(|r| r.as_str().to_string()).collect();
        match create_account(&state, login.clone(), name, roles, codes(&branches), password).await {
            Ok(_) => see_other(&format!("{PATH}?created={}", url_encode(&login))),
            Err(e) => {
                let status = status_of(&e);
                match Problems::from_error(e, &["login", "name", "password", "roles", "branches"], "login") {
                    Ok(problems) => list_page(&state, &acting, status, Some((&sent, &problems)), None).await,
                    Err(e) => refusal(&state, &acting, e),
                }
            }
        }
    })
    .await
}

/// The edit form as sent (or as stored).
struct Edit {
    name: String,
    roles: Vec<String>,
    branches: Vec<String>,
    active: bool,
}

impl From<&StaffAccount> for Edit {
    fn from(a: &StaffAccount) -> Edit {
        Edit {
            name: a.name.clone(),
            roles: a.roles.clone(),
            branches: a.branches.iter().map(|b| b.to_string()).collect(),
            active: a.active,
        }
    }
}

/// Which of the account page's forms the problems belong to.
#[derive(Clone, Copy)]
enum Sent<'a> {
    Nothing,
    Edit(&'a Edit, &'a Problems),
    Password(&'a Problems),
}

async fn account_view(
    state: &AppState,
    acting: &Acting,
    login: &str,
    status: StatusCode,
    sent: Sent<'_>,
    notice: Option<&str>,
) -> Response {
    let wanted = login.to_string();
    let found = state
        .db(move |db| {
            let account = db.staff_account(&wanted)?;
            let tokens = match &account {
                Some(_) => db.api_tokens(&wanted).map_err(staff_error)?,
                None => Vec::new(),
            };
            Ok((account, tokens))
        })
        .await;
    let (account, tokens) = match found {
        Ok((Some(a), t)) => (a, t),
        Ok((None, _)) => {
            return refusal(
                state,
                acting,
                ApiError::new(ErrorCode::StaffNotFound, format!("there is no staff account {login}")),
            )
        }
        Err(e) => return refusal(state, acting, e),
    };
    let branches = match branch_options(state).await {
        Ok(b) => b,
        Err(e) => return refusal(state, acting, e),
    };
    let base = format!("{PATH}/{}", url_encode(login));
    let mut main = format!("<h1>Staff account {}</h1>\n", Esc(login));
    if let Some(n) = notice {
        let _ = writeln!(main, "<p class=\"done\" role=\"status\">{}</p>", Esc(n));
    }
    let _ = writeln!(main, "<p>Created {}.</p>", Esc(&account.created_at));
    let stored = Edit::from(&account);
    let none = Problems::default();
    let (edit, problems) = match sent {
        Sent::Edit(e, p) => (e, p),
        _ => (&stored, &none),
    };
    main.push_str("<h2 id=\"details\">Name, roles and branches</h2>\n");
    main.push_str(&problems.summary());
    let _ = write!(main, "<form method=\"post\" action=\"{base}\" class=\"admin-form\">\n{}\n", once::token_field());
    main.push_str(&problems.input("name", "Name", &edit.name, " required maxlength=\"200\""));
    main.push_str(&problems.checkboxes("roles", "Roles", &role_options(), &edit.roles));
    main.push_str(&problems.checkboxes(
        "branches",
        "Limited to these branches (none ticked: every branch)",
        &branches,
        &edit.branches,
    ));
    let tick = if edit.active { " checked" } else { "" };
    let (marks, message) = match problems.get("active") {
        Some(m) => (
            " aria-invalid=\"true\" aria-describedby=\"active-error\"".to_string(),
            format!("<p class=\"field-error\" id=\"active-error\">{}</p>", Esc(m)),
        ),
        None => (String::new(), String::new()),
    };
    let _ = write!(
        main,
        "<div><input type=\"checkbox\" id=\"active\" name=\"active\" value=\"yes\"{tick}{marks}> \
         <label for=\"active\">Active (untick to deactivate: the account can no longer log in, its sessions end and its API tokens stop working)</label>{message}</div>\n\
         <div><button type=\"submit\">Save</button></div>\n</form>\n"
    );

    main.push_str("<h2 id=\"reset\">Reset the password</h2>\n");
    let none = Problems::default();
    let problems = match sent {
        Sent::Password(p) => p,
        _ => &none,
    };
    main.push_str(&problems.summary());
    let _ = write!(
        main,
        "<form method=\"post\" action=\"{base}/password\" class=\"admin-form\">\n{}\n",
        once::token_field()
    );
    main.push_str(&problems.input(
        "password",
        &format!("New password (at least {} characters)", accounts::MIN_PASSWORD_CHARS),
        "",
        " type=\"password\" required autocomplete=\"new-password\"",
    ));
    main.push_str("<div><button type=\"submit\">Set the password</button></div>\n</form>\n");

    main.push_str("<h2 id=\"tokens\">API tokens</h2>\n");
    if tokens.is_empty() {
        main.push_str("<p>No API tokens.</p>\n");
    } else {
        let mut table = String::from(
            "<table class=\"admin\" id=\"token-list\"><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Created</th>\
             <th scope=\"col\">Last used</th><th scope=\"col\">State</th></tr></thead>\n<tbody>\n",
        );
        for t in &tokens {
            let when = |s: &str| {
                chrono::DateTime::parse_from_rfc3339(s)
                    .map_or(s.to_string(), |t| local(state, t.with_timezone(&chrono::Utc)))
            };
            let _ = write!(
                table,
                "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>",
                Esc(&t.name),
                Esc(&when(&t.created_at)),
                Esc(&t.last_used_at.as_deref().map_or("never".to_string(), when))
            );
            match &t.revoked_at {
                Some(r) => {
                    let _ = write!(table, "revoked {}", Esc(&when(r)));
                }
                None => {
                    let _ = write!(
                        table,
                        "live <form class=\"inline\" method=\"post\" action=\"{base}/tokens/{}/revoke\">{}\
                         <button type=\"submit\" class=\"secondary\" aria-label=\"Revoke token {}\">Revoke</button></form>",
                        t.id,
                        once::token_field(),
                        Esc(&t.name)
                    );
                }
            }
            table.push_str("</td></tr>\n");
        }
        table.push_str("</tbody></table>\n");
        main.push_str(&scroll_box("API tokens", &table));
    }
    let _ = writeln!(main, "<p><a href=\"{PATH}\">Back to staff accounts</a></p>");
    page(state, acting, status, TITLE, &main)
}

async fn account_page(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(login): Path<String>,
    query: QueryParams,
) -> Response {
    if let Err(e) = acting.require(Permission::Admin) {
        return refusal(&state, &acting, e);
    }
    let notice = match query_get(&query, "done") {
        Some("saved") => Some("Saved."),
        Some("password") => Some("The password is set; the account's sessions have ended."),
        Some("revoked") => Some("The token is revoked."),
        _ => None,
    };
    account_view(&state, &acting, &login, StatusCode::OK, Sent::Nothing, notice).await
}

/// `POST /staff/admin/accounts/{login}`: name, roles, branches, active.
async fn save(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(login): Path<String>,
    fields: Fields,
) -> Response {
    if let Err(e) = acting.require(Permission::Admin) {
        return refusal(&state, &acting, e);
    }
    once::once(&state, &acting, fields.token(), || async {
        let mut problems = Problems::default();
        let name = fields.get("name").unwrap_or("").to_string();
        if name.is_empty() {
            problems.add("name", "Name: enter the person's name.");
        } else if name.chars().count() > 200 {
            problems.add("name", "Name: at most 200 characters.");
        }
        let (roles, branches) = roles_and_branches(&fields, &mut problems);
        let active = fields.get("active").is_some();
        let sent = Edit { name: name.clone(), roles: roles.clone(), branches: branches.clone(), active };
        if !problems.is_empty() {
            return account_view(&state, &acting, &login, StatusCode::BAD_REQUEST, Sent::Edit(&sent, &problems), None)
                .await;
        }
        let roles =
            roles.iter().filter_map(|r| accounts::Role::parse(r).ok()).map(|r| r.as_str().to_string()).collect();
        let change = StaffChange {
            name: Some(name),
            roles: Some(roles),
            branches: Some(codes(&branches)),
            active: Some(active),
        };
        match update_account(&state, &acting, login.clone(), change).await {
            Ok(_) => see_other(&format!("{PATH}/{}?done=saved", url_encode(&login))),
            Err(e) if e.code == ErrorCode::Forbidden => {
                // Locking oneself out: said next to the fields that would do it.
                let mut problems = Problems::default();
                let field = if active { "roles" } else { "active" };
                problems.add(field, super::super::capitalised(&e.message));
                account_view(&state, &acting, &login, StatusCode::FORBIDDEN, Sent::Edit(&sent, &problems), None).await
            }
            Err(e) => match Problems::from_error(e, &["name", "roles", "branches", "active"], "name") {
                Ok(problems) => {
                    account_view(&state, &acting, &login, StatusCode::BAD_REQUEST, Sent::Edit(&sent, &problems), None)
                        .await
                }
                Err(e) => refusal(&state, &acting, e),
            },
        }
    })
    .await
}

/// `POST /staff/admin/accounts/{login}/password`: an administrator sets a new password.
async fn reset_password(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(login): Path<String>,
    fields: Fields,
) -> Response {
    if let Err(e) = acting.require(Permission::Admin) {
        return refusal(&state, &acting, e);
    }
    once::once(&state, &acting, fields.token(), || async {
        let password = fields.raw("password").unwrap_or("").to_string();
        let result = if password.is_empty() {
            Err(ApiError::field(ErrorCode::MissingField, "password", "password: enter the new password"))
        } else {
            set_account_password(&state, true, login.clone(), password, None).await
        };
        match result {
            Ok(()) => see_other(&format!("{PATH}/{}?done=password", url_encode(&login))),
            Err(e) => match Problems::from_error(e, &["password"], "password") {
                Ok(problems) => {
                    account_view(&state, &acting, &login, StatusCode::BAD_REQUEST, Sent::Password(&problems), None)
                        .await
                }
                Err(e) => refusal(&state, &acting, e),
            },
        }
    })
    .await
}

/// `POST /staff/admin/accounts/{login}/tokens/{id}/revoke`.
async fn revoke_token(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path((login, id)): Path<(String, i64)>,
    fields: Fields,
) -> Response {
    if let Err(e) = acting.require(Permission::Admin) {
        return refusal(&state, &acting, e);
    }
    once::once(&state, &acting, fields.token(), || async {
        let who = login.clone();
        match state.db(move |db| db.revoke_api_token(&who, id, chrono::Utc::now()).map_err(staff_error)).await {
            Ok(()) => see_other(&format!("{PATH}/{}?done=revoked", url_encode(&login))),
            Err(e) => refusal(&state, &acting, e),
        }
    })
    .await
}
