//! The check-in screen, `/staff/checkin`: scan each returned item and read what to do with it:
//! reshelve where, put on the hold shelf for whom, send to which branch for whom, which parts
//! to count, what the return charged. An optional date backdates the returns of the book drop.
//! A damage inspection can be recorded for the item just checked in.
//!
//! The list of this sitting's results rides along in a hidden field (display text only: it is
//! the clerk's own screen, and every value is escaped when shown), so the page keeps no state.

use super::{
    capitalised, desk_branch, error_page, layout, once, query_get, DeskBranch, Fields, QueryParams, StaffUser,
};
use crate::api::circulation::desk_error;
use crate::auth::Acting;
use crate::error::{ApiError, ErrorCode};
use crate::html::Esc;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use catalog::{Barcode, ItemStatus};
use chrono::{DateTime, NaiveDate, Utc};
use circulation::{Actor, Permission, Prompt, Routing};
use desk::{CheckinReceipt, DeskError};
use serde::{Deserialize, Serialize};
use std::fmt::Write;
use storage::ledger::{Condition, NewInspection};
use storage::Database;

/// One scan's answer as the clerk reads it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Row {
    barcode: String,
    title: String,
    /// What to do with the item now, one sentence.
    action: String,
    /// What else the clerk must know (parts to count, a fine charged, a lost item found).
    notes: Vec<String>,
    /// A scan that did nothing (an unknown barcode): shown as an alert.
    problem: bool,
}

/// How many results the screen keeps showing.
const KEEP: usize = 30;

fn parse_log(raw: Option<&str>) -> Vec<Row> {
    let mut rows: Vec<Row> = raw.and_then(|r| serde_json::from_str(r).ok()).unwrap_or_default();
    rows.truncate(KEEP);
    rows
}

fn patron_label(db: &dyn Database, card: &str) -> Result<String, ApiError> {
    Ok(match db.patron_record(card)? {
        Some(p) => format!("{} {} (card {card})", p.details.first_name, p.details.surname).trim().to_string(),
        None => format!("card {card}"),
    })
}

fn branch_name(db: &dyn Database, code: &catalog::Code) -> Result<String, ApiError> {
    Ok(db.branch(code)?.map_or_else(|| code.to_string(), |b| b.name))
}

/// The sentences for one check-in: where the item goes, then what to look at.
fn describe(
    state: &AppState,
    db: &dyn Database,
    here: &DeskBranch,
    receipt: &CheckinReceipt,
    backdated: Option<NaiveDate>,
) -> Result<Row, ApiError> {
    let item = db.item_by_barcode(&receipt.barcode)?;
    let title = match &item {
        Some(i) => db.record(i.bib_id)?.map(|r| r.derived.title).unwrap_or_default(),
        None => String::new(),
    };
    let d = &receipt.decision;
    let for_whom = match &receipt.hold {
        Some(h) => Some(patron_label(db, &h.card_number)?),
        None => None,
    };
    let action = match &d.routing {
        Routing::Shelve => {
            let (location, call) = match &item {
                Some(i) => {
                    let name = match &i.item.location {
                        Some(code) => db
                            .locations()?
                            .into_iter()
                            .find(|l| &l.code == code)
                            .map_or_else(|| code.to_string(), |l| l.name),
                        None => here.here.name.clone(),
                    };
                    (name, i.item.call_number.clone())
                }
                None => (here.here.name.clone(), None),
            };
            match call {
                Some(c) => format!("Reshelve at {location}, {c}"),
                None => format!("Reshelve at {location}"),
            }
        }
        Routing::HoldShelf { pickup_by, .. } => format!(
            "Hold shelf for {} (pickup here), until {}",
            for_whom.as_deref().unwrap_or("the patron whose hold it fills"),
            super::local(state, *pickup_by)
        ),
        Routing::Transit { to, .. } => match &for_whom {
            Some(who) => format!("In transit to {} for {who}", branch_name(db, to)?),
            None => format!("In transit to {} (its home branch)", branch_name(db, to)?),
        },
    };
    let mut notes = Vec::new();
    for p in &d.prompts {
        notes.push(match p {
            Prompt::MaterialsSpecified(m) => format!("Materials to check: {m}"),
            Prompt::WasLost if receipt.loan_closed => {
                "It was declared lost and is found: the lost charges are reversed on the patron's account".to_string()
            }
            Prompt::WasLost => "It was marked lost or missing and is found".to_string(),
            Prompt::WasDamaged => "It was marked damaged: inspect it before it goes out again".to_string(),
        });
    }
    if item.as_ref().is_some_and(|i| i.item.status == ItemStatus::Available) && !receipt.loan_closed {
        // Nothing was on loan: a copy found on a table, or scanned twice.
        notes.push("It was not on loan".to_string());
    }
    if d.charge.minor() > 0 {
        let late = d.fine.as_ref().map(|f| format!(" ({} late)", f.late)).unwrap_or_default();
        notes.push(format!("Overdue fine charged: {}{late}", d.charge));
    }
    if let Some(day) = backdated {
        notes.push(format!("Returned on {day} (backdated)"));
    }
    Ok(Row { barcode: receipt.barcode.as_str().to_string(), title, action, notes, problem: false })
}

fn render(branch: &DeskBranch, log: &[Row], returned_on: Option<&str>, last: Option<&Row>) -> String {
    let mut main = String::from("<h1>Check in</h1>\n");
    main.push_str(&branch.bar("/staff/checkin", &[]));
    let log_json = serde_json::to_string(log).unwrap_or_else(|_| "[]".into());
    let _ = writeln!(
        main,
        "<form method=\"post\" action=\"/staff/checkin\" class=\"scan checkin\">\
         <input type=\"hidden\" name=\"branch\" value=\"{}\"><input type=\"hidden\" name=\"log\" value=\"{}\">\
         <div><label for=\"item-barcode\">Item barcode</label><input id=\"item-barcode\" name=\"barcode\" autocomplete=\"off\" autofocus></div>\
         <div><label for=\"returned-on\">Returned on (book drop; empty: now)</label>\
         <input id=\"returned-on\" name=\"returned_on\" type=\"date\" value=\"{}\"></div>\
         <div><button type=\"submit\">Check in</button></div></form>",
        Esc(branch.here.code.as_str()),
        Esc(&log_json),
        Esc(returned_on.unwrap_or("")),
    );
    if log.is_empty() {
        main.push_str("<p>Scan the first item.</p>\n");
        return main;
    }
    main.push_str(
        "<section aria-labelledby=\"results-heading\"><h2 id=\"results-heading\">Checked in, newest first</h2>\n<ol class=\"results\">\n",
    );
    for (i, row) in log.iter().enumerate() {
        let role = if row.problem { "alert" } else { "status" };
        let _ = write!(
            main,
            "<li class=\"checkin-result{}\"><div role=\"{role}\"><span class=\"what\">{} ({})</span>: <span class=\"action\">{}</span>",
            if row.problem { " refused" } else { "" },
            Esc(if row.title.is_empty() { "[no title]" } else { &row.title }),
            Esc(&row.barcode),
            Esc(&row.action),
        );
        if !row.notes.is_empty() {
            main.push_str("<ul class=\"notes\">");
            for n in &row.notes {
                let _ = write!(main, "<li>{}</li>", Esc(n));
            }
            main.push_str("</ul>");
        }
        main.push_str("</div>");
        // The damage inspection is offered for the item just checked in.
        if i == 0 && !row.problem && last.is_some() {
            let _ = write!(
                main,
                "<details class=\"inspection no-print\"><summary>Damage inspection</summary>\
                 <form method=\"post\" action=\"/staff/checkin/inspection\">\
                 <input type=\"hidden\" name=\"branch\" value=\"{}\"><input type=\"hidden\" name=\"log\" value=\"{}\">\
                 <input type=\"hidden\" name=\"barcode\" value=\"{}\">{}\
                 <div><label for=\"condition\">Condition</label><select id=\"condition\" name=\"condition\">\
                 <option value=\"damaged\">Damaged (mendable)</option><option value=\"unusable\">Unusable</option>\
                 <option value=\"worn\">Worn</option><option value=\"good\">Good</option></select></div>\
                 <div><label for=\"inspection-note\">What is wrong</label><input id=\"inspection-note\" name=\"note\" required></div>\
                 <div><label><input type=\"checkbox\" name=\"repair\" value=\"yes\"> Send to repair</label></div>\
                 <div><button type=\"submit\">Record the inspection</button></div></form></details>",
                Esc(branch.here.code.as_str()),
                Esc(&log_json),
                Esc(&row.barcode),
                once::token_field(),
            );
        }
        main.push_str("</li>\n");
    }
    main.push_str("</ol>\n</section>\n");
    main
}

/// The returned-on date as the instant the check-in is dated: the end of that day at the desk's
/// branch (a loan due that day is not late), but never later than now.
fn returned_at(state: &AppState, branch: &catalog::Code, day: NaiveDate, now: DateTime<Utc>) -> DateTime<Utc> {
    let calendar = state.desk.circulation();
    calendar.calendar(branch).end_of_day(day).min(now)
}

/// `GET /staff/checkin?branch=`.
pub(super) async fn page(State(state): State<AppState>, StaffUser(acting): StaffUser, query: QueryParams) -> Response {
    let branch = query_get(&query, "branch").map(str::to_string);
    let fields = branch.map(|b| vec![("branch".to_string(), b)]).unwrap_or_default();
    respond(state, acting, fields, |_, _, _, _| Ok(None)).await
}

type Act = dyn FnOnce(&AppState, &dyn Database, &Acting, &DeskBranch) -> Result<Option<Row>, ApiError> + Send;

async fn respond<F>(state: AppState, acting: Acting, fields: Vec<(String, String)>, act: F) -> Response
where
    F: FnOnce(&AppState, &dyn Database, &Acting, &DeskBranch) -> Result<Option<Row>, ApiError> + Send + 'static,
{
    let library = state.config.library_name.clone();
    if let Err(e) = acting.require(Permission::CheckIn) {
        return error_page(&library, Some(&acting), e);
    }
    let get = |name: &str| {
        fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string()).filter(|v| !v.is_empty())
    };
    let asked = get("branch");
    let mut log = parse_log(get("log").as_deref());
    let returned_on = get("returned_on");
    let st = state.clone();
    let who = acting.clone();
    let act: Box<Act> = Box::new(act);
    let result = state
        .db(move |db| {
            let branch = desk_branch(db, &who, asked.as_deref())?;
            who.require_at(Permission::CheckIn, &branch.here.code)?;
            let row = act(&st, db, &who, &branch)?;
            Ok((branch, row))
        })
        .await;
    match result {
        Ok((branch, row)) => {
            let status =
                if row.as_ref().is_some_and(|r| r.problem) { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
            if let Some(row) = &row {
                log.insert(0, row.clone());
                log.truncate(KEEP);
            }
            let main = render(&branch, &log, returned_on.as_deref(), row.as_ref());
            (status, Html(layout(&library, Some(&acting), "Check in", &main))).into_response()
        }
        Err(e) => error_page(&library, Some(&acting), e),
    }
}

fn problem(barcode: &str, text: String) -> Row {
    Row {
        barcode: barcode.to_string(),
        title: String::new(),
        action: capitalised(&text),
        notes: Vec::new(),
        problem: true,
    }
}

/// `POST /staff/checkin` with `barcode`, `branch`, optionally `returned_on` (a date) and `log`.
pub(super) async fn check_in(State(state): State<AppState>, StaffUser(acting): StaffUser, fields: Fields) -> Response {
    let raw = fields.get("barcode").unwrap_or("").to_string();
    let day = fields.get("returned_on").map(str::to_string);
    respond(state, acting, fields.0, move |state, db, _acting, branch| {
        if raw.is_empty() {
            return Ok(Some(problem("", "scan or type the item's barcode".to_string())));
        }
        let barcode = match Barcode::parse(&raw) {
            Ok(b) => b,
            Err(e) => return Ok(Some(problem(&raw, format!("barcode {raw}: {e}")))),
        };
        let day = match day.as_deref().map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d")) {
            None => None,
            Some(Ok(d)) => Some(d),
            Some(Err(_)) => {
                return Ok(Some(problem(&raw, "returned on: give the date as YYYY-MM-DD".to_string())));
            }
        };
        let now = Utc::now();
        let at = day.map(|d| returned_at(state, &branch.here.code, d, now));
        match state.desk.check_in(db, &barcode, &branch.here.code, at, now) {
            Ok(receipt) => describe(state, db, branch, &receipt, day).map(Some),
            Err(DeskError::Storage(e)) => Err(ApiError::internal(e)),
            Err(e) => {
                let e = desk_error(e, ErrorCode::InvalidCheckIn);
                if e.code.status().is_server_error() {
                    Err(e)
                } else {
                    Ok(Some(problem(&raw, e.message)))
                }
            }
        }
    })
    .await
}

/// `POST /staff/checkin/inspection` with `barcode`, `condition`, `note`, `repair`: the ledger's
/// damage inspection of the item just checked in, recorded at the desk's branch.
pub(super) async fn inspect(State(state): State<AppState>, StaffUser(acting): StaffUser, fields: Fields) -> Response {
    let raw = fields.get("barcode").unwrap_or("").to_string();
    let condition = fields.get("condition").and_then(Condition::parse);
    let note = fields.get("note").map(str::to_string);
    let repair = fields.get("repair").is_some();
    let by = Actor::Staff(acting.staff.id);
    // A second click must not record (and charge for) the same damage twice.
    let (st, who, token) = (state.clone(), acting.clone(), fields.token());
    let act = move || {
        respond(state, acting, fields.0, move |_state, db, _acting, branch| {
            let barcode = match Barcode::parse(&raw) {
                Ok(b) => b,
                Err(e) => return Ok(Some(problem(&raw, format!("barcode {raw}: {e}")))),
            };
            let Some(condition) = condition else {
                return Ok(Some(problem(&raw, "condition: choose good, worn, damaged or unusable".to_string())));
            };
            let Some(note) = note else {
                return Ok(Some(problem(&raw, "what is wrong: describe the damage".to_string())));
            };
            let new = NewInspection {
                barcode: barcode.clone(),
                branch: branch.here.code.clone(),
                condition,
                note: note.clone(),
                damage_charge: None,
                to_repair: repair,
                by,
            };
            match desk::ledger::inspect(db, &new, Utc::now()) {
                Ok(_) => {
                    let title = match db.item_by_barcode(&barcode)? {
                        Some(i) => db.record(i.bib_id)?.map(|r| r.derived.title).unwrap_or_default(),
                        None => String::new(),
                    };
                    let action = if repair {
                        format!("Inspected ({}): send to repair", condition.as_str())
                    } else {
                        format!("Inspected ({})", condition.as_str())
                    };
                    Ok(Some(Row { barcode: raw, title, action, notes: vec![note], problem: false }))
                }
                Err(DeskError::Storage(e)) => Err(ApiError::internal(e)),
                Err(DeskError::NotFound { key, .. }) => Ok(Some(problem(&raw, format!("no item has barcode {key}")))),
                Err(e) => Ok(Some(problem(&raw, e.to_string()))),
            }
        })
    };
    once::once(&st, &who, token, act).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_round_trips_and_is_capped() {
        let row = Row {
            barcode: "3123".into(),
            title: "<b>Tom & Jerry</b>".into(),
            action: "Reshelve at Adult Fiction".into(),
            notes: vec!["Materials to check: 2 discs".into()],
            problem: false,
        };
        let text = serde_json::to_string(&vec![row.clone(); 40]).unwrap_or_default();
        let back = parse_log(Some(&text));
        assert_eq!(back.len(), KEEP);
        assert_eq!(back[0], row);
        assert!(parse_log(Some("not json")).is_empty());
    }
}
