//! Branches, shelving locations and item types: a list with a form to add one
//! (`GET`/`POST /staff/admin/{branches,locations,item-types}`), an edit form for each
//! (`GET`/`POST .../{code}`), and for branches a delete button, refused with the reason while
//! items, patrons or staff name the branch. The same functions as the JSON API's
//! `api::org` handlers. All need the Configure permission.

use std::fmt::Write;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use catalog::{Branch, Code, ItemType, ShelvingLocation};
use circulation::Permission;

use super::{page, refusal, scroll_box, Problems};
use crate::api::org::{create_branch_in, delete_branch_in, put_branch_in, put_item_type_in, put_location_in};
use crate::auth::Acting;
use crate::error::{ApiError, ErrorCode};
use crate::html::{url_encode, Esc};
use crate::staff::{once, query_get, see_other, Fields, QueryParams, StaffUser};
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for kind in [Kind::Branch, Kind::Location, Kind::ItemType] {
        let list = move |state, user, query| list(kind, state, user, query);
        let create = move |state, user, form| create(kind, state, user, form);
        let edit = move |state, user, path| edit_page(kind, state, user, path);
        let save = move |state, user, path, form| save(kind, state, user, path, form);
        router = router
            .route(kind.path(), get(list).post(create))
            .route(&format!("{}/{{code}}", kind.path()), get(edit).post(save));
    }
    router.route("/staff/admin/branches/{code}/delete", post(delete_branch))
}

/// The three lists share their pages; only item types have a field more (loanable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Branch,
    Location,
    ItemType,
}

/// What the list page says above the list.
enum Banner {
    None,
    Done(String),
    Refused(String),
}

/// One entry as the pages show it.
struct Entry {
    code: String,
    name: String,
    loanable: bool,
}

impl Kind {
    fn path(self) -> &'static str {
        match self {
            Kind::Branch => "/staff/admin/branches",
            Kind::Location => "/staff/admin/locations",
            Kind::ItemType => "/staff/admin/item-types",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Kind::Branch => "Branches",
            Kind::Location => "Shelving locations",
            Kind::ItemType => "Item types",
        }
    }

    fn one(self) -> &'static str {
        match self {
            Kind::Branch => "branch",
            Kind::Location => "shelving location",
            Kind::ItemType => "item type",
        }
    }

    fn unknown(self) -> ErrorCode {
        match self {
            Kind::Branch => ErrorCode::BranchNotFound,
            Kind::Location => ErrorCode::UnknownLocation,
            Kind::ItemType => ErrorCode::UnknownItemType,
        }
    }

    /// Every entry, by code. A library has tens of these, never thousands.
    fn entries(self, db: &dyn storage::Database) -> Result<Vec<Entry>, ApiError> {
        let mut out: Vec<Entry> = match self {
            Kind::Branch => db
                .branches()?
                .into_iter()
                .map(|b| Entry { code: b.code.to_string(), name: b.name, loanable: true })
                .collect(),
            Kind::Location => db
                .locations()?
                .into_iter()
                .map(|l| Entry { code: l.code.to_string(), name: l.name, loanable: true })
                .collect(),
            Kind::ItemType => db
                .item_types()?
                .into_iter()
                .map(|t| Entry { code: t.code.to_string(), name: t.name, loanable: t.loanable })
                .collect(),
        };
        out.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(out)
    }

    /// Stores the entry: `create` refuses a code already in use (the form adds, never
    /// overwrites); an edit changes the one it names.
    fn store(self, db: &dyn storage::Database, entry: &Entry, create: bool) -> Result<(), ApiError> {
        let code =
            Code::parse(&entry.code).map_err(|e| ApiError::field(ErrorCode::InvalidCode, "code", e.to_string()))?;
        let exists = self.entries(db)?.iter().any(|e| e.code == entry.code);
        if create && exists {
            let code_taken = match self {
                Kind::Branch => ErrorCode::BranchExists,
                _ => ErrorCode::Conflict,
            };
            return Err(ApiError::field(
                code_taken,
                "code",
                format!("{} {} already exists: edit it from the list instead", self.one(), entry.code),
            ));
        }
        if !create && !exists {
            return Err(ApiError::field(self.unknown(), "code", format!("there is no {} {}", self.one(), entry.code)));
        }
        let name = entry.name.clone();
        match self {
            Kind::Branch if create => create_branch_in(db, &Branch { code, name }),
            Kind::Branch => put_branch_in(db, &Branch { code, name }).map(drop),
            Kind::Location => put_location_in(db, &ShelvingLocation { code, name }).map(drop),
            Kind::ItemType => put_item_type_in(db, &ItemType { code, name, loanable: entry.loanable }).map(drop),
        }
    }
}

/// The form's fields checked as the JSON API checks them: a valid code, a name of at most
/// 200 characters.
fn read(fields: &Fields, code: Option<&str>) -> (Entry, Problems) {
    let mut problems = Problems::default();
    let code = code.or(fields.get("code")).unwrap_or("").to_string();
    match Code::parse(&code) {
        Ok(_) => {}
        Err(_) if code.is_empty() => problems.add("code", "Code: enter a code, such as MAIN."),
        Err(e) => problems.add("code", format!("Code: {e}")),
    }
    let name = fields.get("name").unwrap_or("").to_string();
    if name.is_empty() {
        problems.add("name", "Name: enter the name staff and patrons see.");
    } else if name.chars().count() > 200 {
        problems.add("name", "Name: at most 200 characters.");
    }
    let loanable = fields.get("loanable").is_some();
    (Entry { code, name, loanable }, problems)
}

fn form(kind: Kind, action: &str, entry: &Entry, problems: &Problems, editing: bool) -> String {
    let mut out = problems.summary();
    let _ = write!(
        out,
        "<form method=\"post\" action=\"{}\" class=\"admin-form\">\n{}\n",
        Esc(action),
        once::token_field()
    );
    if editing {
        let _ = writeln!(
            out,
            "<p>Code: <strong>{}</strong> (a code cannot change: items and rules name it)</p>",
            Esc(&entry.code)
        );
    } else {
        out.push_str(&problems.input("code", "Code", &entry.code, " required maxlength=\"32\" autocomplete=\"off\""));
    }
    out.push_str(&problems.input("name", "Name", &entry.name, " required maxlength=\"200\""));
    if kind == Kind::ItemType {
        let tick = if entry.loanable { " checked" } else { "" };
        let _ = writeln!(
            out,
            "<div><input type=\"checkbox\" id=\"loanable\" name=\"loanable\" value=\"yes\"{tick}> \
             <label for=\"loanable\">Lends (untick for reference only)</label></div>"
        );
    }
    let button = if editing { "Save".to_string() } else { format!("Add the {}", kind.one()) };
    let _ = write!(out, "<div><button type=\"submit\">{button}</button></div>\n</form>\n");
    out
}

/// The list page, with the add form (blank, or as sent with its problems) and any notice.
async fn list_page(
    kind: Kind,
    state: &AppState,
    acting: &Acting,
    status: StatusCode,
    sent: Option<(&Entry, &Problems)>,
    banner: Banner,
) -> Response {
    let entries = match state.db(move |db| kind.entries(db)).await {
        Ok(e) => e,
        Err(e) => return refusal(state, acting, e),
    };
    let mut main = format!("<h1>{}</h1>\n", kind.title());
    match banner {
        Banner::None => {}
        Banner::Done(n) => {
            let _ = writeln!(main, "<p class=\"done\" role=\"status\">{}</p>", Esc(&n));
        }
        Banner::Refused(why) => {
            let _ = writeln!(
                main,
                "<div class=\"refused\" role=\"alert\" id=\"refusal\"><h2>Not deleted</h2><p>{}</p></div>",
                Esc(&super::super::capitalised(&why))
            );
        }
    }
    let mut table = String::from(
        "<table class=\"admin\" id=\"entries\"><thead><tr><th scope=\"col\">Code</th><th scope=\"col\">Name</th>",
    );
    if kind == Kind::ItemType {
        table.push_str("<th scope=\"col\">Lends</th>");
    }
    table.push_str("<th scope=\"col\">Actions</th></tr></thead>\n<tbody>\n");
    for e in &entries {
        let _ = write!(table, "<tr><th scope=\"row\">{}</th><td>{}</td>", Esc(&e.code), Esc(&e.name));
        if kind == Kind::ItemType {
            let _ = write!(table, "<td>{}</td>", if e.loanable { "yes" } else { "no (reference only)" });
        }
        let _ = write!(
            table,
            "<td><a href=\"{}/{}\" aria-label=\"Edit {} {}\">Edit</a>",
            kind.path(),
            url_encode(&e.code),
            kind.one(),
            Esc(&e.code)
        );
        if kind == Kind::Branch {
            let _ = write!(
                table,
                " <form class=\"inline\" method=\"post\" action=\"/staff/admin/branches/{}/delete\">{}\
                 <button type=\"submit\" class=\"secondary\" aria-label=\"Delete branch {}\">Delete</button></form>",
                url_encode(&e.code),
                once::token_field(),
                Esc(&e.code)
            );
        }
        table.push_str("</td></tr>\n");
    }
    table.push_str("</tbody></table>\n");
    if entries.is_empty() {
        let _ = writeln!(main, "<p>No {} yet.</p>", kind.title().to_lowercase());
    } else {
        main.push_str(&scroll_box(kind.title(), &table));
    }
    let _ = writeln!(main, "<h2 id=\"add\">Add a {}</h2>", kind.one());
    let blank = Entry { code: String::new(), name: String::new(), loanable: true };
    let none = Problems::default();
    let (entry, problems) = sent.unwrap_or((&blank, &none));
    main.push_str(&form(kind, kind.path(), entry, problems, false));
    page(state, acting, status, kind.title(), &main)
}

async fn list(kind: Kind, State(state): State<AppState>, StaffUser(acting): StaffUser, query: QueryParams) -> Response {
    if let Err(e) = acting.require(Permission::Configure) {
        return refusal(&state, &acting, e);
    }
    let notice = query_get(&query, "saved").map(|c| format!("{} {c} saved.", super::super::capitalised(kind.one())));
    let notice = notice.or_else(|| query_get(&query, "deleted").map(|c| format!("Branch {c} deleted.")));
    let banner = notice.map_or(Banner::None, Banner::Done);
    list_page(kind, &state, &acting, StatusCode::OK, None, banner).await
}

/// The status a form's refusal answers with: 409 for a code in use, else 400.
fn status_of(problems_from: &ApiError) -> StatusCode {
    match problems_from.code.status() {
        StatusCode::CONFLICT => StatusCode::CONFLICT,
        _ => StatusCode::BAD_REQUEST,
    }
}

async fn create(kind: Kind, State(state): State<AppState>, StaffUser(acting): StaffUser, fields: Fields) -> Response {
    super::configure_once(&state, &acting, &fields, || async {
        let (entry, problems) = read(&fields, None);
        if !problems.is_empty() {
            return list_page(kind, &state, &acting, StatusCode::BAD_REQUEST, Some((&entry, &problems)), Banner::None)
                .await;
        }
        let stored = Entry { code: entry.code.clone(), name: entry.name.clone(), loanable: entry.loanable };
        match state.db(move |db| kind.store(db, &stored, true)).await {
            Ok(()) => see_other(&format!("{}?saved={}", kind.path(), url_encode(&entry.code))),
            Err(e) => {
                let status = status_of(&e);
                match Problems::from_error(e, &["code", "name"], "code") {
                    Ok(problems) => {
                        list_page(kind, &state, &acting, status, Some((&entry, &problems)), Banner::None).await
                    }
                    Err(e) => refusal(&state, &acting, e),
                }
            }
        }
    })
    .await
}

fn edit_main(kind: Kind, entry: &Entry, problems: &Problems) -> String {
    let mut main = format!("<h1>Edit {} {}</h1>\n", kind.one(), Esc(&entry.code));
    let action = format!("{}/{}", kind.path(), url_encode(&entry.code));
    main.push_str(&form(kind, &action, entry, problems, true));
    let _ = writeln!(main, "<p><a href=\"{}\">Back to {}</a></p>", kind.path(), kind.title().to_lowercase());
    main
}

async fn edit_page(
    kind: Kind,
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(code): Path<String>,
) -> Response {
    if let Err(e) = acting.require(Permission::Configure) {
        return refusal(&state, &acting, e);
    }
    let wanted = code.clone();
    let found = state.db(move |db| Ok(kind.entries(db)?.into_iter().find(|e| e.code == wanted))).await;
    match found {
        Ok(Some(entry)) => {
            page(&state, &acting, StatusCode::OK, kind.title(), &edit_main(kind, &entry, &Problems::default()))
        }
        Ok(None) => {
            refusal(&state, &acting, ApiError::new(kind.unknown(), format!("there is no {} {code}", kind.one())))
        }
        Err(e) => refusal(&state, &acting, e),
    }
}

async fn save(
    kind: Kind,
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(code): Path<String>,
    fields: Fields,
) -> Response {
    super::configure_once(&state, &acting, &fields, || async {
        let (entry, problems) = read(&fields, Some(&code));
        let answer = |status, problems: &Problems| {
            page(&state, &acting, status, kind.title(), &edit_main(kind, &entry, problems))
        };
        if !problems.is_empty() {
            return answer(StatusCode::BAD_REQUEST, &problems);
        }
        let stored = Entry { code: entry.code.clone(), name: entry.name.clone(), loanable: entry.loanable };
        match state.db(move |db| kind.store(db, &stored, false)).await {
            Ok(()) => see_other(&format!("{}?saved={}", kind.path(), url_encode(&entry.code))),
            Err(e) => {
                let status = status_of(&e);
                match Problems::from_error(e, &["name"], "name") {
                    Ok(problems) => answer(status, &problems),
                    Err(e) => refusal(&state, &acting, e),
                }
            }
        }
    })
    .await
}

/// `POST /staff/admin/branches/{code}/delete`: the branch goes, or the list says why not.
async fn delete_branch(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(code): Path<String>,
    fields: Fields,
) -> Response {
    super::configure_once(&state, &acting, &fields, || async {
        let parsed = match Code::parse(&code) {
            Ok(c) => c,
            Err(e) => return refusal(&state, &acting, ApiError::field(ErrorCode::InvalidCode, "code", e.to_string())),
        };
        match state.db(move |db| delete_branch_in(db, &parsed)).await {
            Ok(()) => see_other(&format!("/staff/admin/branches?deleted={}", url_encode(&code))),
            Err(e) if e.code == ErrorCode::BranchInUse || e.code == ErrorCode::BranchNotFound => {
                let status = e.code.status();
                list_page(Kind::Branch, &state, &acting, status, None, Banner::Refused(e.message)).await
            }
            Err(e) => refusal(&state, &acting, e),
        }
    })
    .await
}
