//! The reports screens: `GET /staff/reports` (the list) and `GET /staff/reports/{name}` (a form
//! with the dates and the branch, the chart, the table and a "Download CSV" link to
//! `/staff/reports/{name}.csv` with the same parameters). Every report is one `ReportStore` query
//! (an aggregate in SQL), shaped by the pure `reports` crate into a table, an SVG chart and CSV.
//! All need the Reports permission; a clerk limited to some branches sees only their reports.
//!
//! Reading a report changes nothing, so these are plain GETs: a report is a URL a supervisor can
//! bookmark or send, and a double-click merely asks twice.

use super::{error_page, layout, query_get, QueryParams, StaffUser};
use crate::auth::Acting;
use crate::error::{ApiError, ErrorCode};
use crate::html::{url_encode, Esc};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use catalog::{Branch, Code};
use chrono::{DateTime, Days, NaiveDate, Utc};
use circulation::Permission;
use reports::chart::{self, Labels};
use reports::{ChartKind, Definition, Period, Scope, Table, Threshold};
use std::fmt::Write;
use storage::reports::{CirculationGroup, ClassScheme, OverdueCursor};
use storage::Database;

const PATH: &str = "/staff/reports";
/// Rows of the bounded lists.
const TOP_TITLES: u32 = 25;
const HOLDS_TITLES: u32 = 100;
const OVERDUE_PAGE: u32 = 50;
/// The range shown when none is asked for: the last 30 days up to today.
const DEFAULT_DAYS: u64 = 29;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route(PATH, get(list)).route("/staff/reports/{name}", get(report))
}

const STYLE: &str = "<style>\
.report-form{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:flex-end}.report-form div{margin:0}\
.field-error{color:#b00020;font-weight:700;margin:.2rem 0 0}\
.table-wrap{overflow-x:auto;max-width:100%}.report-table{border-collapse:collapse;margin:1rem 0}\
.report-table th,.report-table td{border-bottom:1px solid #c8cdd3;padding:.25rem .6rem;text-align:left}\
.report-table .n{text-align:right;font-variant-numeric:tabular-nums}\
figure.chart{margin:1rem 0;max-width:100%}figure.chart svg{display:block}\
ul.reports li{margin:.4rem 0}</style>\n";

/// `GET /staff/reports`.
async fn list(State(state): State<AppState>, StaffUser(acting): StaffUser) -> Response {
    let library = &state.config.library_name;
    if let Err(e) = acting.require(Permission::Reports) {
        return error_page(library, Some(&acting), e);
    }
    let mut main = String::from("<h1>Reports</h1>\n<ul class=\"reports\">\n");
    for d in reports::REPORTS {
        let _ = writeln!(main, "<li><a href=\"{PATH}/{}\">{}</a>: {}</li>", d.name, Esc(d.title), Esc(d.description));
    }
    main.push_str("</ul>\n");
    Html(layout(library, Some(&acting), "Reports", &main)).into_response()
}

/// What the form asked for, as typed (so a wrong value is shown back as it was).
struct Asked {
    from: String,
    to: String,
    branch: String,
    threshold: String,
    after: Option<OverdueCursor>,
}

/// What the form asked for, checked.
struct Checked {
    period: Period,
    branch: Option<Code>,
    threshold: Threshold,
}

/// A form field's problem, shown beside it.
struct FieldError {
    field: &'static str,
    message: String,
}

impl Asked {
    fn read(query: &QueryParams, today: NaiveDate) -> Asked {
        let or = |name: &str, default: String| query_get(query, name).map_or(default, str::to_string);
        let from = today.checked_sub_days(Days::new(DEFAULT_DAYS)).unwrap_or(today);
        // A cursor that does not read is the first page.
        let after = query_get(query, "after_due")
            .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
            .zip(query_get(query, "after").and_then(|id| id.parse().ok()))
            .map(|(due, id)| (due.with_timezone(&Utc), id));
        Asked {
            from: or("from", from.to_string()),
            to: or("to", today.to_string()),
            branch: or("branch", String::new()),
            threshold: or("threshold", "1".to_string()),
            after,
        }
    }

    /// The query string of these choices (without the page).
    fn query(&self, def: &Definition) -> String {
        let mut q = Vec::new();
        if def.scope == Scope::Range {
            q.push(format!("from={}&to={}", url_encode(&self.from), url_encode(&self.to)));
        }
        if def.by_branch && !self.branch.is_empty() {
            q.push(format!("branch={}", url_encode(&self.branch)));
        }
        if def.name == reports::HOLDS_RATIO {
            q.push(format!("threshold={}", url_encode(&self.threshold)));
        }
        q.join("&")
    }
}

/// The branches this account may report on, and whether it may see the whole library.
fn branch_choices(db: &dyn Database, acting: &Acting) -> Result<(Vec<Branch>, bool), ApiError> {
    let mut all = db.branches()?;
    all.sort_by(|a, b| a.code.as_str().cmp(b.code.as_str()));
    let total = all.len();
    let mine: Vec<Branch> = all.into_iter().filter(|b| acting.account.may_act_at(&b.code)).collect();
    let whole_library = mine.len() == total;
    Ok((mine, whole_library))
}

fn check(
    asked: &Asked,
    def: &Definition,
    zone: reports::Tz,
    choices: &[Branch],
    whole_library: bool,
) -> Result<Checked, FieldError> {
    let period = Period::parse(&asked.from, &asked.to, zone).map_err(|e| FieldError {
        field: e.field,
        message: capital(&format!("{}: {}", label_of(e.field), e.message)),
    })?;
    let branch = if !def.by_branch {
        None
    } else if asked.branch.is_empty() {
        if whole_library {
            None
        } else {
            // A clerk limited to some branches reports on the first of them by default.
            choices.first().map(|b| b.code.clone())
        }
    } else {
        let code = Code::parse(&asked.branch).ok().filter(|c| choices.iter().any(|b| &b.code == c));
        Some(code.ok_or_else(|| FieldError {
            field: "branch",
            message: format!("Branch: {:?} is not a branch you can report on", asked.branch),
        })?)
    };
    let threshold = if def.name == reports::HOLDS_RATIO {
        Threshold::parse(&asked.threshold).ok_or_else(|| FieldError {
            field: "threshold",
            message: format!(
                "Holds per copy above: {:?} is not a number of holds per copy (write e.g. 1 or 2.5)",
                asked.threshold
            ),
        })?
    } else {
        Threshold { holds: 1, copies: 1 }
    };
    Ok(Checked { period, branch, threshold })
}

fn label_of(field: &str) -> &'static str {
    match field {
        "from" => "From",
        "to" => "To",
        "branch" => "Branch",
        _ => "Holds per copy above",
    }
}

fn capital(s: &str) -> String {
    super::capitalised(s)
}

/// The report's table (and, for the overdue list, where the next page starts).
fn run(
    db: &dyn Database,
    state: &AppState,
    def: &Definition,
    c: &Checked,
    after: Option<OverdueCursor>,
) -> Result<(Table, Option<OverdueCursor>), ApiError> {
    let branch = c.branch.as_ref();
    let span = c.period.span();
    let table = match def.name {
        reports::CIRCULATION_BY_DAY => {
            reports::circulation_by_day(&c.period, &db.circulation_by_day(&c.period.bounds, branch)?)
        }
        reports::CIRCULATION_BY_BRANCH => {
            reports::circulation_by("Branch", &db.circulation_by(CirculationGroup::Branch, span, branch)?)
        }
        reports::CIRCULATION_BY_ITEM_TYPE => {
            reports::circulation_by("Item type", &db.circulation_by(CirculationGroup::ItemType, span, branch)?)
        }
        reports::CIRCULATION_BY_PATRON_CATEGORY => reports::circulation_by(
            "Patron category",
            &db.circulation_by(CirculationGroup::PatronCategory, span, branch)?,
        ),
        reports::TOP_TITLES => reports::top_titles(&db.top_titles(span, branch, TOP_TITLES)?),
        reports::OVERDUE => {
            let now = Utc::now();
            let loans = db.overdue_loans(now, branch, after, OVERDUE_PAGE)?;
            let next =
                if loans.len() == OVERDUE_PAGE as usize { loans.last().map(|l| (l.due_at, l.loan_id)) } else { None };
            return Ok((reports::overdue(&loans, now, |t| super::local(state, t)), next));
        }
        reports::HOLDS_RATIO => reports::holds_ratio(&db.holds_ratio(branch, c.threshold, HOLDS_TITLES)?),
        reports::COLLECTION_DEWEY => reports::collection("Dewey class", &db.collection(ClassScheme::Dewey, branch)?),
        reports::COLLECTION_LC => reports::collection("LC class", &db.collection(ClassScheme::Lc, branch)?),
        reports::REGISTRATIONS_BY_DAY => {
            reports::registrations_by_day(&c.period, &db.registrations_by_day(&c.period.bounds, branch)?)
        }
        reports::REGISTRATIONS_BY_CATEGORY => {
            reports::registrations_by_category(&db.registrations_by_category(span, branch)?)
        }
        reports::MONEY_BY_DAY => reports::money_by_day(&c.period, &db.money_by_day(&c.period.bounds)?),
        reports::MONEY_BY_TYPE => reports::money_by_type(&db.money_by_type(span)?),
        other => return Err(ApiError::new(ErrorCode::RouteNotFound, format!("there is no report {other}"))),
    };
    Ok((table, None))
}

/// `GET /staff/reports/{name}` and `GET /staff/reports/{name}.csv`.
async fn report(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(name): Path<String>,
    query: QueryParams,
) -> Response {
    let library = state.config.library_name.clone();
    if let Err(e) = acting.require(Permission::Reports) {
        return error_page(&library, Some(&acting), e);
    }
    let (name, csv) = match name.strip_suffix(".csv") {
        Some(n) => (n.to_string(), true),
        None => (name, false),
    };
    let Some(def) = reports::find(&name) else {
        let e = ApiError::new(ErrorCode::RouteNotFound, format!("there is no report called {name:?}"));
        return error_page(&library, Some(&acting), e);
    };
    let zone = state.desk.circulation().time_zone;
    let today = Utc::now().with_timezone(&zone).date_naive();
    let asked = Asked::read(&query, today);
    let after = asked.after;
    let st = state.clone();
    let who = acting.clone();
    let from = asked.from.clone();
    let to = asked.to.clone();
    let branch = asked.branch.clone();
    let threshold = asked.threshold.clone();
    let result = state
        .db(move |db| {
            let (choices, whole_library) = branch_choices(db, &who)?;
            let again = Asked { from, to, branch, threshold, after };
            match check(&again, def, zone, &choices, whole_library) {
                Err(field) => Ok((choices, whole_library, Err(field))),
                Ok(checked) => {
                    let (table, next) = run(db, &st, def, &checked, after)?;
                    Ok((choices, whole_library, Ok((checked, table, next))))
                }
            }
        })
        .await;
    let (choices, whole_library, outcome) = match result {
        Ok(r) => r,
        Err(e) => return error_page(&library, Some(&acting), e),
    };
    if csv {
        return match outcome {
            Ok((checked, table, _)) => csv_response(def, &checked, &table),
            Err(field) => (
                StatusCode::BAD_REQUEST,
                [(CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!("{} (field {})\n", field.message, field.field),
            )
                .into_response(),
        };
    }
    let mut main = format!("<h1>{}</h1>\n<p>{}</p>\n", Esc(def.title), Esc(def.description));
    let error = outcome.as_ref().err();
    main.push_str(&form(def, &asked, &choices, whole_library, error));
    let status = match &outcome {
        Err(_) => StatusCode::BAD_REQUEST,
        Ok((checked, table, next)) => {
            body(&mut main, def, &asked, checked, table, *next, &choices);
            StatusCode::OK
        }
    };
    let page = layout(&library, Some(&acting), def.title, &format!("{STYLE}{main}"));
    (status, Html(page)).into_response()
}

/// The form: the dates (for a range), the branch, the threshold (holds to copies).
fn form(
    def: &Definition,
    asked: &Asked,
    choices: &[Branch],
    whole_library: bool,
    error: Option<&FieldError>,
) -> String {
    let mut out = format!(
        "<form method=\"get\" action=\"{PATH}/{}\" class=\"report-form no-print\" aria-label=\"Report options\">\n",
        def.name
    );
    let problem = |field: &str| error.filter(|e| e.field == field);
    let described = |field: &str| match problem(field) {
        Some(_) => format!(" aria-describedby=\"{field}-error\" aria-invalid=\"true\""),
        None => String::new(),
    };
    let message = |field: &str| match problem(field) {
        Some(e) => format!("<p class=\"field-error\" id=\"{field}-error\">{}</p>", Esc(&e.message)),
        None => String::new(),
    };
    if def.scope == Scope::Range {
        for (field, label, value) in [("from", "From", &asked.from), ("to", "To", &asked.to)] {
            let _ = writeln!(
                out,
                "<div><label for=\"{field}\">{label}</label><input id=\"{field}\" name=\"{field}\" type=\"date\" \
                 value=\"{}\" required{}>{}</div>",
                Esc(value),
                described(field),
                message(field)
            );
        }
    }
    if def.by_branch {
        let _ = write!(
            out,
            "<div><label for=\"branch\">Branch</label><select id=\"branch\" name=\"branch\"{}>",
            described("branch")
        );
        if whole_library {
            let _ = write!(out, "<option value=\"\">All branches</option>");
        }
        for b in choices {
            let selected = if b.code.as_str() == asked.branch { " selected" } else { "" };
            let _ = write!(out, "<option value=\"{}\"{selected}>{}</option>", Esc(b.code.as_str()), Esc(&b.name));
        }
        let known = asked.branch.is_empty() || choices.iter().any(|b| b.code.as_str() == asked.branch);
        if !known {
            // What was typed stays visible (and selected) beside its error.
            let _ = write!(out, "<option value=\"{0}\" selected>{0}</option>", Esc(&asked.branch));
        }
        let _ = writeln!(out, "</select>{}</div>", message("branch"));
    }
    if def.name == reports::HOLDS_RATIO {
        let _ = writeln!(
            out,
            "<div><label for=\"threshold\">Holds per copy above</label><input id=\"threshold\" name=\"threshold\" \
             inputmode=\"decimal\" value=\"{}\" required{}>{}</div>",
            Esc(&asked.threshold),
            described("threshold"),
            message("threshold")
        );
    }
    out.push_str("<div><button type=\"submit\">Show the report</button></div>\n</form>\n");
    if let Some(e) = error {
        let _ = writeln!(out, "<p class=\"refused\" role=\"alert\">{}</p>", Esc(&e.message));
    }
    out
}

/// What the report covers, in words.
fn covers(def: &Definition, checked: &Checked, choices: &[Branch]) -> String {
    let place = match &checked.branch {
        Some(code) => choices.iter().find(|b| &b.code == code).map_or_else(|| code.to_string(), |b| b.name.clone()),
        None if def.by_branch => "all branches".to_string(),
        None => "the whole library (the ledger records no branch)".to_string(),
    };
    match def.scope {
        Scope::Range => format!("{} to {}, {place}", checked.period.from, checked.period.to),
        Scope::Now => format!("now, {place}"),
    }
}

fn body(
    main: &mut String,
    def: &Definition,
    asked: &Asked,
    checked: &Checked,
    table: &Table,
    next: Option<OverdueCursor>,
    choices: &[Branch],
) {
    let covers = covers(def, checked, choices);
    let query = asked.query(def);
    let _ = writeln!(
        main,
        "<p class=\"covers\">{}.</p>\n<p><a class=\"csv\" href=\"{PATH}/{}.csv{}{}\" download>Download CSV</a></p>",
        Esc(&capital(&covers)),
        def.name,
        if query.is_empty() { "" } else { "?" },
        Esc(&query)
    );
    if def.chart != ChartKind::None {
        let category_axis = table.columns.first().map_or("", String::as_str);
        let value_axis = table.columns.get(def.chart_column).map_or("", String::as_str);
        let title = format!("{}: {}", def.title, covers);
        let kind = if def.chart == ChartKind::Days { "Column chart" } else { "Bar chart" };
        let description =
            format!("{kind} of {value_axis} by {category_axis}, {covers}. The table below gives every number.");
        let labels = Labels { title: &title, description: &description, category_axis, value_axis };
        let points = table.series(def.chart_column);
        let svg = match def.chart {
            ChartKind::Days => chart::columns(&labels, &points),
            _ => chart::bars(&labels, &points),
        };
        let _ = writeln!(main, "<figure class=\"chart\">{svg}</figure>");
    }
    let _ = write!(
        main,
        "<div class=\"table-wrap\" role=\"region\" aria-labelledby=\"report-caption\" tabindex=\"0\">\
         <table class=\"report-table\"><caption id=\"report-caption\">{} ({})</caption>\n<thead><tr>",
        Esc(def.title),
        Esc(&covers)
    );
    for (i, c) in table.columns.iter().enumerate() {
        let numeric = table.rows.first().and_then(|r| r.get(i)).is_some_and(is_numeric);
        let _ = write!(main, "<th scope=\"col\"{}>{}</th>", if numeric { " class=\"n\"" } else { "" }, Esc(c));
    }
    main.push_str("</tr></thead>\n<tbody>\n");
    if table.rows.is_empty() {
        let _ = writeln!(main, "<tr><td colspan=\"{}\">Nothing to report.</td></tr>", table.columns.len().max(1));
    }
    for row in &table.rows {
        main.push_str("<tr>");
        for v in row {
            let _ = write!(main, "<td{}>{}</td>", if is_numeric(v) { " class=\"n\"" } else { "" }, Esc(&v.to_string()));
        }
        main.push_str("</tr>\n");
    }
    main.push_str("</tbody></table></div>\n");
    if let Some((due, id)) = next {
        let _ = writeln!(
            main,
            "<p><a rel=\"next\" href=\"{PATH}/{}?{}{}after_due={}&amp;after={id}\">Next {OVERDUE_PAGE} loans</a></p>",
            def.name,
            Esc(&query),
            if query.is_empty() { "" } else { "&amp;" },
            url_encode(&due.to_rfc3339()),
        );
    }
}

/// Numbers are right-aligned, so their digits line up.
fn is_numeric(v: &reports::Value) -> bool {
    v.magnitude().is_some() || matches!(v, reports::Value::Ratio { .. })
}

fn csv_response(def: &Definition, checked: &Checked, table: &Table) -> Response {
    let mut file = def.name.to_string();
    if def.scope == Scope::Range {
        let _ = write!(file, "_{}_{}", checked.period.from, checked.period.to);
    }
    if let Some(b) = &checked.branch {
        let _ = write!(file, "_{}", b.as_str().replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_"));
    }
    (
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8; header=present".to_string()),
            (CONTENT_DISPOSITION, format!("attachment; filename=\"{file}.csv\"")),
        ],
        reports::csv::write(table),
    )
        .into_response()
}
