//! Calendars and emergency closures (`/staff/admin/calendars`): each branch's week of opening
//! hours and its closed days as the `[circulation]` settings give them, the emergency closures
//! declared so far (to come, then past), and the form that declares one
//! (`POST /staff/admin/calendars/closures`, through the same `declare_closure` as
//! `POST /api/v1/closures`), answered with what it did: the due dates moved and the hold-shelf
//! deadlines extended. Configure permission.

use std::fmt::Write;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use catalog::Code;
use chrono::{NaiveDate, Utc, Weekday};
use circulation::{Calendar, ClosedDay, Permission};

use super::{page, refusal, scroll_box, Problems};
use crate::api::closures::declare_closure;
use crate::auth::Acting;
use crate::html::Esc;
use crate::staff::{local, once, Fields, StaffUser};
use crate::AppState;

const PATH: &str = "/staff/admin/calendars";
const TITLE: &str = "Calendars and closures";
/// Past closures shown; those to come are always all shown.
const PAST_SHOWN: usize = 50;
/// Moved loans listed one by one after a closure; the rest are counted.
const MOVED_LISTED: usize = 50;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route(PATH, get(screen)).route("/staff/admin/calendars/closures", post(declare))
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
        "<p>In the library's time zone, <strong>{}</strong>. From the <code>[circulation]</code> settings; \
         emergency closures are added to them.</p>",
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
    main.push_str("<p>Closed days before today are not listed.</p>\n</section>\n");
    page(state, acting, status, TITLE, &main)
}

async fn screen(State(state): State<AppState>, StaffUser(acting): StaffUser) -> Response {
    if let Err(e) = acting.require(Permission::Configure) {
        return refusal(&state, &acting, e);
    }
    view(&state, &acting, StatusCode::OK, None, "").await
}

/// `POST /staff/admin/calendars/closures` (day, reason, branches).
async fn declare(State(state): State<AppState>, StaffUser(acting): StaffUser, fields: Fields) -> Response {
    if let Err(e) = acting.require(Permission::Configure) {
        return refusal(&state, &acting, e);
    }
    once::once(&state, &acting, fields.token(), || async {
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
