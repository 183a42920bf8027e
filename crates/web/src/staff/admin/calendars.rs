//! Calendars and emergency closures (`/staff/admin/calendars`): each branch's week of opening
//! hours and its closed days as the `[circulation]` settings give them, the emergency closures
//! declared so far (to come, then past), and the form that declares one
//! (`POST /staff/admin/calendars/closures`, through the same `declare_closure` as
//! `POST /api/v1/closures`), answered with what it did: the due dates moved and the hold-shelf
//! deadlines extended. Configure permission.
//!
//! The weeks and closed days are edited here: the library's (`GET`/`POST
//! /staff/admin/calendars/library`) and a branch's own (`GET`/`POST
//! /staff/admin/calendars/branches/{code}`; a branch without hours of its own keeps the
//! library's week, and its closed days are added to the library's). Each save goes through
//! `Desk::update_circulation`: checked as the settings file is (the error names the day or the
//! closed day), stored over the version the form was opened at, in force at once.

use std::fmt::Write;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use catalog::Code;
use chrono::{NaiveDate, Utc, Weekday};
use circulation::{Calendar, ClosedDay, Permission};

use super::{page, refusal, scroll_box, Problems, Saved};
use crate::api::closures::declare_closure;
use crate::auth::Acting;
use crate::error::{ApiError, ErrorCode};
use crate::html::{url_encode, Esc};
use crate::staff::{local, once, query_get, see_other, Fields, QueryParams, StaffUser};
use crate::AppState;

const PATH: &str = "/staff/admin/calendars";
const TITLE: &str = "Calendars and closures";
/// Past closures shown; those to come are always all shown.
const PAST_SHOWN: usize = 50;
/// Moved loans listed one by one after a closure; the rest are counted.
const MOVED_LISTED: usize = 50;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(PATH, get(screen))
        .route("/staff/admin/calendars/closures", post(declare))
        .route("/staff/admin/calendars/library", get(library_page).post(save_library))
        .route("/staff/admin/calendars/branches/{code}", get(branch_page).post(save_branch))
}

const WEEK: [(Weekday, &str); 7] = [
    (Weekday::Mon, "Monday"),
    (Weekday::Tue, "Tuesday"),
    (Weekday::Wed, "Wednesday"),
    (Weekday::Thu, "Thursday"),
    (Weekday::Fri, "Friday"),
    (Weekday::Sat, "Saturday"),
    (Weekday::Sun, "Sunday"),
];

fn closed_day(d: ClosedDay) -> String {
    match d {
        ClosedDay::Yearly { month, day } => format!("every {month:02}-{day:02}"),
        ClosedDay::On(date) => date.to_string(),
    }
}

fn week_cells(c: &Calendar) -> String {
    WEEK.iter()
        .map(|(d, _)| match c.weekly_hours(*d) {
            Some(h) => format!("<td>{}-{}</td>", h.open().format("%H:%M"), h.close().format("%H:%M")),
            None => "<td>closed</td>".to_string(),
        })
        .collect()
}

/// The closure form as sent.
#[derive(Default)]
struct Sent {
    day: String,
    reason: String,
    branches: Vec<String>,
}

async fn view(
    state: &AppState,
    acting: &Acting,
    status: StatusCode,
    sent: Option<(&Sent, &Problems)>,
    done: &str,
) -> Response {
    let lists = state.db(|db| Ok((db.branches()?, db.closures()?))).await;
    let (mut branches, closures) = match lists {
        Ok(l) => l,
        Err(e) => return refusal(state, acting, e),
    };
    branches.sort_by(|a, b| a.code.as_str().cmp(b.code.as_str()));
    let circulation = state.desk.circulation();
    let today = circulation.library_calendar.local_date(Utc::now());
    let mut main = format!("<h1>{TITLE}</h1>\n{done}");

    main.push_str("<section aria-labelledby=\"declare\">\n<h2 id=\"declare\">Declare an emergency closure</h2>\n");
    main.push_str(
        "<p>The branches close for the day: loans due that day move to the next open day, hold-shelf \
         pickup deadlines are extended, and the day accrues no fines.</p>\n",
    );
    let blank = Sent::default();
    let none = Problems::default();
    let (form, problems) = sent.unwrap_or((&blank, &none));
    main.push_str(&problems.summary());
    let _ = write!(
        main,
        "<form method=\"post\" action=\"{PATH}/closures\" class=\"admin-form\">\n{}\n",
        once::token_field()
    );
    main.push_str(&problems.input("day", "Day", &form.day, &format!(" type=\"date\" required min=\"{today}\"")));
    main.push_str(&problems.input(
        "reason",
        "Reason (staff and patrons will ask)",
        &form.reason,
        " required maxlength=\"200\"",
    ));
    let options: Vec<(String, String)> =
        branches.iter().map(|b| (b.code.to_string(), format!("{} ({})", b.name, b.code))).collect();
    main.push_str(&problems.checkboxes("branches", "Branches that close", &options, &form.branches));
    main.push_str("<div><button type=\"submit\">Declare the closure</button></div>\n</form>\n</section>\n");

    main.push_str("<section aria-labelledby=\"closures\">\n<h2 id=\"closures\">Emergency closures</h2>\n");
    let (future, past): (Vec<_>, Vec<_>) = closures.iter().partition(|c| c.day >= today);
    for (heading, id, list) in [
        ("To come", "closures-future", future.iter().collect::<Vec<_>>()),
        ("Past", "closures-past", past.iter().rev().take(PAST_SHOWN).collect()),
    ] {
        let _ = writeln!(main, "<h3>{heading}</h3>");
        if list.is_empty() {
            main.push_str("<p>None.</p>\n");
            continue;
        }
        let mut table = format!(
            "<table class=\"admin\" id=\"{id}\"><thead><tr><th scope=\"col\">Day</th><th scope=\"col\">Branch</th>\
             <th scope=\"col\">Reason</th><th scope=\"col\">Declared</th></tr></thead>\n<tbody>\n"
        );
        for c in list {
            let _ = writeln!(
                table,
                "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{} by {}</td></tr>",
                c.day,
                Esc(c.branch.as_str()),
                Esc(&c.reason),
                Esc(&local(state, c.declared_at)),
                Esc(c.declared_by.as_deref().unwrap_or("the system"))
            );
        }
        table.push_str("</tbody></table>\n");
        main.push_str(&scroll_box(&format!("Emergency closures: {}", heading.to_lowercase()), &table));
    }
    main.push_str("</section>\n");

    main.push_str("<section aria-labelledby=\"calendars\">\n<h2 id=\"calendars\">Opening hours and closed days</h2>\n");
    let _ = writeln!(
        main,
        "<p>In the library's time zone, <strong>{}</strong>. As the <code>[circulation]</code> settings \
         file gives them or as edited here; emergency closures are added to them.</p>",
        Esc(circulation.time_zone.name())
    );
    let mut table = String::from("<table class=\"admin\" id=\"hours\"><thead><tr><th scope=\"col\">Branch</th>");
    for (_, name) in WEEK {
        let _ = write!(table, "<th scope=\"col\">{name}</th>");
    }
    table.push_str("<th scope=\"col\">Closed days</th></tr></thead>\n<tbody>\n");
    let mut rows: Vec<(String, &Calendar)> =
        vec![("Library (every branch without its own)".to_string(), &circulation.library_calendar)];
    for b in &branches {
        if let Some(c) = circulation.branch_calendars.get(&b.code) {
            rows.push((format!("{} ({})", b.name, b.code), c));
        }
    }
    for (code, c) in &circulation.branch_calendars {
        if !branches.iter().any(|b| &b.code == code) {
            rows.push((code.to_string(), c));
        }
    }
    for (name, c) in rows {
        let days: Vec<String> = c
            .closed_days()
            .filter(|d| match d {
                ClosedDay::On(date) => *date >= today,
                ClosedDay::Yearly { .. } => true,
            })
            .map(closed_day)
            .collect();
        let _ = writeln!(
            table,
            "<tr><th scope=\"row\">{}</th>{}<td>{}</td></tr>",
            Esc(&name),
            week_cells(c),
            Esc(&if days.is_empty() { "none".to_string() } else { days.join(", ") })
        );
    }
    table.push_str("</tbody></table>\n");
    main.push_str(&scroll_box("Opening hours", &table));
    main.push_str("<p>Closed days before today are not listed.</p>\n");
    let (_, stamp) = state.desk.circulation_settings();
    main.push_str(&super::changed_line(state, &stamp, "circulation"));
    main.push_str("<h3>Change the hours and closed days</h3>\n<ul id=\"edit-calendars\">");
    let _ = write!(main, "<li><a href=\"{PATH}/library\">The library's week and closed days</a></li>");
    for b in &branches {
        let _ = write!(
            main,
            "<li><a href=\"{PATH}/branches/{}\">{} ({})</a></li>",
            url_encode(b.code.as_str()),
            Esc(&b.name),
            Esc(b.code.as_str())
        );
    }
    main.push_str("</ul>\n</section>\n");
    page(state, acting, status, TITLE, &main)
}

async fn screen(State(state): State<AppState>, StaffUser(acting): StaffUser, query: QueryParams) -> Response {
    if let Err(e) = acting.require(Permission::Configure) {
        return refusal(&state, &acting, e);
    }
    let done = match query_get(&query, "saved") {
        Some(_) => "<p class=\"done\" role=\"status\" id=\"saved\">The calendar is saved and in force.</p>\n",
        None => "",
    };
    view(&state, &acting, StatusCode::OK, None, done).await
}

/// `POST /staff/admin/calendars/closures` (day, reason, branches).
async fn declare(State(state): State<AppState>, StaffUser(acting): StaffUser, fields: Fields) -> Response {
    super::configure_once(&state, &acting, &fields, || async {
        let mut problems = Problems::default();
        let sent = Sent {
            day: fields.get("day").unwrap_or("").to_string(),
            reason: fields.get("reason").unwrap_or("").to_string(),
            branches: super::all(&fields, "branches").map(str::to_string).collect(),
        };
        let day = match NaiveDate::parse_from_str(&sent.day, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) if sent.day.is_empty() => {
                problems.add("day", "Day: enter the day the branches close.");
                None
            }
            Err(_) => {
                problems.add("day", format!("Day: {:?} is not a date (YYYY-MM-DD).", sent.day));
                None
            }
        };
        if sent.reason.is_empty() {
            problems.add("reason", "Reason: say why the branches close; patrons and staff will ask.");
        }
        let mut codes = Vec::new();
        for b in &sent.branches {
            match Code::parse(b) {
                Ok(c) => codes.push(c),
                Err(e) => problems.add("branches", format!("Branches: {b:?}: {e}")),
            }
        }
        if sent.branches.is_empty() {
            problems.add("branches", "Branches: tick the branches that close.");
        }
        let Some(day) = day.filter(|_| problems.is_empty()) else {
            return view(&state, &acting, StatusCode::BAD_REQUEST, Some((&sent, &problems)), "").await;
        };
        match declare_closure(&state, &acting, Some(codes), day, sent.reason.clone()).await {
            Ok(report) => {
                let mut done =
                    String::from("<div class=\"done\" role=\"status\" id=\"closure-done\"><h2>Closure declared</h2>\n");
                let closed: Vec<&str> = report.closures.iter().map(|c| c.branch.as_str()).collect();
                let _ = writeln!(
                    done,
                    "<p>Closed on {day}: {}. <span id=\"loans-moved\">{}</span> loan(s) now due on another day; \
                     <span id=\"holds-extended\">{}</span> hold-shelf pickup deadline(s) extended.</p>",
                    Esc(&closed.join(", ")),
                    report.loans_moved.len(),
                    report.holds_extended.len()
                );
                if !report.loans_moved.is_empty() {
                    done.push_str("<ul id=\"moved\">");
                    for (loan, due) in report.loans_moved.iter().take(MOVED_LISTED) {
                        let _ = write!(done, "<li>Loan {loan}: now due {}</li>", Esc(&local(&state, *due)));
                    }
                    if report.loans_moved.len() > MOVED_LISTED {
                        let _ = write!(done, "<li>and {} more</li>", report.loans_moved.len() - MOVED_LISTED);
                    }
                    done.push_str("</ul>\n");
                }
                if !report.holds_extended.is_empty() {
                    done.push_str("<ul id=\"extended\">");
                    for (hold, by) in report.holds_extended.iter().take(MOVED_LISTED) {
                        let _ = write!(done, "<li>Hold {hold}: pick up by {}</li>", Esc(&local(&state, *by)));
                    }
                    done.push_str("</ul>\n");
                }
                done.push_str("</div>\n");
                view(&state, &acting, StatusCode::CREATED, None, &done).await
            }
            Err(e) => match Problems::from_error(e, &["day", "reason", "branches"], "day") {
                Ok(problems) => view(&state, &acting, StatusCode::BAD_REQUEST, Some((&sent, &problems)), "").await,
                Err(e) => refusal(&state, &acting, e),
            },
        }
    })
    .await
}

/// Which calendar a form edits.
#[derive(Clone)]
enum Which {
    Library,
    Branch(Code),
}

impl Which {
    fn action(&self) -> String {
        match self {
            Which::Library => format!("{PATH}/library"),
            Which::Branch(code) => format!("{PATH}/branches/{}", url_encode(code.as_str())),
        }
    }

    fn title(&self) -> String {
        match self {
            Which::Library => "The library's opening hours and closed days".to_string(),
            Which::Branch(code) => format!("Opening hours and closed days of {code}"),
        }
    }
}

/// A calendar form as shown or sent: each day's hours, the closed days one a line, and for a
/// branch whether it has a week of its own.
struct CalendarForm {
    days: [String; 7],
    closed: String,
    own_hours: bool,
}

const DAY_FIELDS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn week_texts(w: &desk::Week) -> [String; 7] {
    [&w.mon, &w.tue, &w.wed, &w.thu, &w.fri, &w.sat, &w.sun].map(|d| d.clone())
}

fn week_of(days: &[String; 7]) -> desk::Week {
    let [mon, tue, wed, thu, fri, sat, sun] = days.clone();
    desk::Week { mon, tue, wed, thu, fri, sat, sun }
}

fn shown(settings: &desk::CirculationSettings, which: &Which) -> CalendarForm {
    match which {
        Which::Library => {
            CalendarForm { days: week_texts(&settings.hours), closed: settings.closed.join("\n"), own_hours: true }
        }
        Which::Branch(code) => {
            let own = settings.branches.get(code.as_str());
            CalendarForm {
                days: week_texts(own.and_then(|b| b.hours.as_ref()).unwrap_or(&settings.hours)),
                closed: own.map(|b| b.closed.join("\n")).unwrap_or_default(),
                own_hours: own.is_some_and(|b| b.hours.is_some()),
            }
        }
    }
}

fn read(fields: &Fields) -> (CalendarForm, Problems) {
    let mut problems = Problems::default();
    let days = DAY_FIELDS.map(|d| fields.get(d).unwrap_or("").to_string());
    let own_hours = fields.get("own_hours").is_some();
    for ((field, text), (_, name)) in DAY_FIELDS.iter().zip(&days).zip(WEEK) {
        if text.is_empty() && own_hours {
            problems.add(field, format!("{name}: enter hours like 09:00-20:00, or closed."));
        }
    }
    let closed = fields.raw("closed").unwrap_or("").trim().to_string();
    (CalendarForm { days, closed, own_hours }, problems)
}

/// The settings with the form's calendar in them.
fn apply(mut settings: desk::CirculationSettings, which: &Which, sent: &CalendarForm) -> desk::CirculationSettings {
    let closed: Vec<String> =
        sent.closed.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect();
    match which {
        Which::Library => {
            settings.hours = week_of(&sent.days);
            settings.closed = closed;
        }
        Which::Branch(code) => {
            let hours = sent.own_hours.then(|| week_of(&sent.days));
            if hours.is_none() && closed.is_empty() {
                // Nothing of its own: the branch follows the library's calendar.
                settings.branches.remove(code.as_str());
            } else {
                settings.branches.insert(code.to_string(), desk::BranchCalendar { hours, closed });
            }
        }
    }
    settings
}

/// The settings' complaint on the form's field: a day's hours (`hours.sat`,
/// `branches.OAK.sat`) or the closed days.
fn settings_problem(e: &desk::SettingsError) -> Problems {
    let mut problems = Problems::default();
    let last = e.place.rsplit('.').next().unwrap_or("");
    match DAY_FIELDS.iter().position(|d| *d == last) {
        Some(i) => problems.add(DAY_FIELDS[i], format!("{}: {}", WEEK[i].1, e.message)),
        None => problems.add("closed", format!("Closed days: {}", e.message)),
    }
    problems
}

#[allow(clippy::too_many_arguments)]
fn calendar_page(
    state: &AppState,
    acting: &Acting,
    status: StatusCode,
    which: &Which,
    sent: &CalendarForm,
    version: i64,
    problems: &Problems,
    conflict: Option<&str>,
) -> Response {
    let title = which.title();
    let action = which.action();
    let (_, stamp) = state.desk.circulation_settings();
    let mut main = format!("<h1>{}</h1>\n", Esc(&title));
    if let Some(message) = conflict {
        main.push_str(&super::conflict_banner(message, &action));
    }
    main.push_str(&super::changed_line(state, &stamp, "circulation"));
    main.push_str(&problems.summary());
    let _ = writeln!(
        main,
        "<form method=\"post\" action=\"{}\" class=\"admin-form\" id=\"calendar-form\">\n{}{}",
        Esc(&action),
        once::token_field(),
        super::version_field(&desk::SettingsStamp { version, ..Default::default() })
    );
    if let Which::Branch(_) = which {
        let tick = if sent.own_hours { " checked" } else { "" };
        main.push_str(&format!(
            "<div><input type=\"checkbox\" id=\"own_hours\" name=\"own_hours\" value=\"yes\"{tick}> \
             <label for=\"own_hours\">Hours of its own (unticked: the library's week below is kept for reference only)</label></div>\n"
        ));
    }
    main.push_str("<fieldset><legend>Opening hours: 09:00-20:00, or closed</legend>\n");
    for (i, field) in DAY_FIELDS.iter().enumerate() {
        main.push_str(&problems.input(field, WEEK[i].1, &sent.days[i], " maxlength=\"20\" autocomplete=\"off\""));
    }
    main.push_str("</fieldset>\n");
    let closed_label = match which {
        Which::Library => "Closed days, one a line: MM-DD every year, YYYY-MM-DD once",
        Which::Branch(_) => {
            "Closed days of this branch besides the library's, one a line: MM-DD every year, YYYY-MM-DD once"
        }
    };
    main.push_str(&problems.textarea("closed", closed_label, &sent.closed, 6));
    main.push_str("<div><button type=\"submit\">Save the calendar</button></div>\n</form>\n");
    let _ = writeln!(main, "<p><a href=\"{PATH}\">Back to calendars and closures</a></p>");
    page(state, acting, status, &title, &main)
}

async fn branch_of(state: &AppState, code: &str) -> Result<Which, ApiError> {
    let parsed = Code::parse(code).map_err(|e| ApiError::field(ErrorCode::InvalidCode, "code", e.to_string()))?;
    let wanted = parsed.clone();
    match state.db(move |db| Ok(db.branch(&wanted)?)).await? {
        Some(_) => Ok(Which::Branch(parsed)),
        None => Err(ApiError::new(ErrorCode::BranchNotFound, format!("there is no branch {code}"))),
    }
}

async fn open_form(state: &AppState, acting: &Acting, which: Which) -> Response {
    let (settings, stamp) = state.desk.circulation_settings();
    let sent = shown(&settings, &which);
    calendar_page(state, acting, StatusCode::OK, &which, &sent, stamp.version, &Problems::default(), None)
}

async fn save_form(state: &AppState, acting: &Acting, which: Which, fields: &Fields) -> Response {
    let version = match super::sent_version(fields) {
        Ok(v) => v,
        Err(e) => return refusal(state, acting, e),
    };
    let (sent, problems) = read(fields);
    let answer = |status, problems: &Problems, conflict: Option<&str>| {
        calendar_page(state, acting, status, &which, &sent, version, problems, conflict)
    };
    if !problems.is_empty() {
        return answer(StatusCode::BAD_REQUEST, &problems, None);
    }
    let (settings, _) = state.desk.circulation_settings();
    match super::save_circulation(state, acting, apply(settings, &which, &sent), version).await {
        Ok(Saved::Done) => see_other(&format!("{PATH}?saved=calendar#calendars")),
        Ok(Saved::Invalid(e)) => answer(StatusCode::BAD_REQUEST, &settings_problem(&e), None),
        Ok(Saved::Stale(message)) => answer(StatusCode::CONFLICT, &Problems::default(), Some(&message)),
        Ok(Saved::Refused { message, .. }) => {
            let mut problems = Problems::default();
            problems.add("closed", message);
            answer(StatusCode::BAD_REQUEST, &problems, None)
        }
        Err(e) => refusal(state, acting, e),
    }
}

/// `GET /staff/admin/calendars/library`.
async fn library_page(State(state): State<AppState>, StaffUser(acting): StaffUser) -> Response {
    if let Err(e) = acting.require(Permission::Configure) {
        return refusal(&state, &acting, e);
    }
    open_form(&state, &acting, Which::Library).await
}

/// `POST /staff/admin/calendars/library`.
async fn save_library(State(state): State<AppState>, StaffUser(acting): StaffUser, fields: Fields) -> Response {
    super::configure_once(&state, &acting, &fields, || async {
        save_form(&state, &acting, Which::Library, &fields).await
    })
    .await
}

/// `GET /staff/admin/calendars/branches/{code}`.
async fn branch_page(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(code): Path<String>,
) -> Response {
    if let Err(e) = acting.require(Permission::Configure) {
        return refusal(&state, &acting, e);
    }
    match branch_of(&state, &code).await {
        Ok(which) => open_form(&state, &acting, which).await,
        Err(e) => refusal(&state, &acting, e),
    }
}

/// `POST /staff/admin/calendars/branches/{code}`.
async fn save_branch(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(code): Path<String>,
    fields: Fields,
) -> Response {
    super::configure_once(&state, &acting, &fields, || async {
        match branch_of(&state, &code).await {
            Ok(which) => save_form(&state, &acting, which, &fields).await,
            Err(e) => refusal(&state, &acting, e),
        }
    })
    .await
}
