//! The rule matrix as a table (`GET /staff/admin/rules`), and the explainer on the same page:
//! three selects (branch, patron category, item type) sent as a plain GET, answered with the
//! row that won, the rows that matched, the more specific rows that did not and why, and each
//! parameter's value with the row it came from. The same `RuleMatrix::resolve` as
//! `GET /api/v1/circulation/rule`.
//!
//! The rows are edited here: add (`POST /staff/admin/rules`), edit (`GET`/`POST
//! /staff/admin/rules/{n}`, `n` counting the rows as written from 1) and delete
//! (`POST /staff/admin/rules/{n}/delete`). Each save puts the whole matrix through
//! `Desk::update_circulation`, which checks it as the settings file is checked (the error names
//! the field), stores it over the version the form was opened at, and puts it in force for every
//! front end at once; then the explainer answers for the saved row.

use std::collections::BTreeSet;
use std::fmt::Write;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use catalog::Code;
use circulation::{Parameter, RuleKey};
use desk::RuleSettingsText;

use super::{page, refusal, scroll_box, Problems, Saved};
use crate::auth::Acting;
use crate::html::{url_encode, Esc};
use crate::staff::{once, query_get, see_other, Fields, QueryParams, StaffUser};
use crate::AppState;
use circulation::Permission;

const PATH: &str = "/staff/admin/rules";
const TITLE: &str = "Rule matrix";

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(PATH, get(screen).post(add_row))
        .route("/staff/admin/rules/new", get(new_page))
        .route("/staff/admin/rules/{n}", get(edit_page).post(save_row))
        .route("/staff/admin/rules/{n}/delete", post(delete_row))
}

/// A parameter's name as a manager reads it.
pub(super) fn label(p: Parameter) -> &'static str {
    match p {
        Parameter::LoanPeriod => "Loan period",
        Parameter::MaxLoans => "Maximum loans",
        Parameter::RenewalsAllowed => "Renewals allowed",
        Parameter::RenewalPeriod => "Renewal period",
        Parameter::Fine => "Fine",
        Parameter::GracePeriod => "Grace period",
        Parameter::MaxFine => "Maximum fine",
        Parameter::LostAfterDays => "Lost after (days overdue)",
        Parameter::LostProcessingFee => "Lost processing fee",
        Parameter::HoldAllowed => "Holds allowed",
        Parameter::MaxHolds => "Maximum holds",
        Parameter::HoldShelfDays => "Hold shelf days",
        Parameter::HardDueDate => "Hard due date",
    }
}

/// The codes each select offers: the library's branches and item types, the configured
/// categories, and any code the matrix names (a row may name a code not yet created).
struct Choices {
    branches: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    item_types: Vec<(String, String)>,
}

fn choices(
    branches: Vec<catalog::Branch>,
    item_types: Vec<catalog::ItemType>,
    categories: impl Iterator<Item = Code>,
    keys: &[&RuleKey],
) -> Choices {
    fn merge(known: Vec<(String, String)>, named: impl Iterator<Item = String>) -> Vec<(String, String)> {
        let mut codes: BTreeSet<String> = known.iter().map(|(c, _)| c.clone()).collect();
        let mut out = known;
        for code in named {
            if codes.insert(code.clone()) {
                out.push((code.clone(), format!("{code} (named in the rules only)")));
            }
        }
        out.sort();
        out
    }
    let only = |s: &circulation::Scope| match s {
        circulation::Scope::Only(c) => Some(c.to_string()),
        circulation::Scope::Any => None,
    };
    Choices {
        branches: merge(
            branches.into_iter().map(|b| (b.code.to_string(), format!("{} ({})", b.name, b.code))).collect(),
            keys.iter().filter_map(|k| only(&k.branch)),
        ),
        categories: merge(
            categories.map(|c| (c.to_string(), c.to_string())).collect(),
            keys.iter().filter_map(|k| only(&k.category)),
        ),
        item_types: merge(
            item_types.into_iter().map(|t| (t.code.to_string(), format!("{} ({})", t.name, t.code))).collect(),
            keys.iter().filter_map(|k| only(&k.item_type)),
        ),
    }
}

/// `GET /staff/admin/rules?branch=&category=&item_type=`.
async fn screen(State(state): State<AppState>, StaffUser(acting): StaffUser, query: QueryParams) -> Response {
    if let Err(e) = acting.require(Permission::Configure) {
        return refusal(&state, &acting, e);
    }
    let circulation = state.desk.circulation();
    let matrix = &circulation.matrix;
    let lists = state.db(|db| Ok((db.branches()?, db.item_types()?))).await;
    let (branches, item_types) = match lists {
        Ok(l) => l,
        Err(e) => return refusal(&state, &acting, e),
    };
    let keys: Vec<&RuleKey> = matrix.rows().iter().map(|r| &r.key).collect();
    let categories = state.desk.patron_rules().registration.categories.keys().cloned().collect::<Vec<_>>();
    let choices = choices(branches, item_types, categories.into_iter(), &keys);

    let mut main = format!("<h1>{TITLE}</h1>\n");
    let _ = writeln!(
        main,
        "<p>The most specific matching row wins, field by field: a blank field falls back to the next \
         matching row, and <code>*</code> matches any code. The branch of a loan is the \
         <strong id=\"governing\">{}</strong> (setting <code>governing_branch</code>). The rows start \
         as the <code>[circulation]</code> settings file gives them; a change saved here takes its place, at \
         once, everywhere.</p>",
        Esc(matrix.governing().as_str())
    );

    // The explainer first: it is what a manager comes here for.
    let asked = ["branch", "category", "item_type"].map(|f| query_get(&query, f).unwrap_or("").to_string());
    let mut problems = Problems::default();
    let mut parsed = Vec::new();
    let any_asked = asked.iter().any(|a| !a.is_empty());
    for (field, raw) in ["branch", "category", "item_type"].iter().zip(&asked) {
        let name = if *field == "item_type" { "item type" } else { field };
        match Code::parse(raw) {
            Ok(c) => parsed.push(c),
            Err(_) if raw.is_empty() => problems.add(field, format!("Choose a {name}.")),
            Err(e) => problems.add(field, format!("{}: {e}", super::super::capitalised(name))),
        }
    }
    main.push_str("<section aria-labelledby=\"explain\">\n<h2 id=\"explain\">Which rule applies, and why</h2>\n");
    if any_asked {
        main.push_str(&problems.summary());
    }
    let unasked = Problems::default();
    let shown = if any_asked { &problems } else { &unasked };
    let _ = writeln!(main, "<form method=\"get\" action=\"{PATH}\" class=\"admin-form\" id=\"explainer\">");
    let pick = |list: &[(String, String)], what: &str| {
        let mut v = vec![(String::new(), format!("Choose a {what}"))];
        v.extend(list.iter().cloned());
        v
    };
    main.push_str(&shown.select("branch", "Branch", &pick(&choices.branches, "branch"), &asked[0]));
    main.push_str(&shown.select("category", "Patron category", &pick(&choices.categories, "category"), &asked[1]));
    main.push_str(&shown.select("item_type", "Item type", &pick(&choices.item_types, "item type"), &asked[2]));
    main.push_str("<div><button type=\"submit\">Explain</button></div>\n</form>\n");
    let mut status = StatusCode::OK;
    if any_asked && !problems.is_empty() {
        status = StatusCode::BAD_REQUEST;
    } else if let [branch, category, item_type] = parsed.as_slice() {
        explain(&mut main, matrix, branch, category, item_type);
    }
    main.push_str("</section>\n");

    let (written, stamp) = state.desk.circulation_settings();
    main.push_str("<section aria-labelledby=\"matrix\">\n<h2 id=\"matrix\">Every row</h2>\n");
    main.push_str(&super::changed_line(&state, &stamp, "circulation"));
    if let Some(n) = query_get(&query, "saved") {
        let _ = writeln!(main, "<p class=\"done\" role=\"status\" id=\"saved\">Row {} saved and in force.</p>", Esc(n));
    }
    if let Some(key) = query_get(&query, "deleted") {
        let _ = writeln!(main, "<p class=\"done\" role=\"status\" id=\"saved\">Row {} deleted.</p>", Esc(key));
    }
    let _ = writeln!(
        main,
        "<p>{} rows, as written; whatever their order, the most specific matching row wins, and a blank \
         cell falls back.</p>",
        written.rules.len()
    );
    let mut table = String::from("<table class=\"admin\" id=\"rule-rows\">\n<thead><tr><th scope=\"col\">Branch</th><th scope=\"col\">Category</th><th scope=\"col\">Item type</th>");
    for p in Parameter::ALL {
        let _ = write!(table, "<th scope=\"col\">{}</th>", label(*p));
    }
    table.push_str("<th scope=\"col\">Actions</th></tr></thead>\n<tbody>\n");
    for (i, row) in written.rules.iter().enumerate() {
        let n = i + 1;
        let key = format!("{}/{}/{}", row.branch, row.category, row.item_type);
        let _ = write!(
            table,
            "<tr id=\"row-{n}\"><th scope=\"row\">{}</th><td>{}</td><td>{}</td>",
            Esc(&row.branch),
            Esc(&row.category),
            Esc(&row.item_type)
        );
        for p in Parameter::ALL {
            let _ = write!(table, "<td>{}</td>", Esc(&value(row, *p)));
        }
        let _ = writeln!(
            table,
            "<td><a href=\"{PATH}/{n}\" aria-label=\"Edit row {n}, {k}\">Edit</a> \
             <form class=\"inline\" method=\"post\" action=\"{PATH}/{n}/delete\">{}{}\
             <button type=\"submit\" class=\"secondary\" aria-label=\"Delete row {n}, {k}\">Delete</button></form></td></tr>",
            once::token_field(),
            super::version_field(&stamp),
            k = Esc(&key),
        );
    }
    table.push_str("</tbody></table>\n");
    main.push_str(&scroll_box("The rule matrix", &table));
    main.push_str("</section>\n");
    // The add form has a page of its own: its key fields would share their ids with the explainer's.
    let _ = writeln!(main, "<p><a href=\"{PATH}/new\" id=\"add-row\">Add a row</a></p>");
    page(&state, &acting, status, TITLE, &main)
}

/// The answer: the winner, the matches, the passed-over rows, and each value's row.
fn explain(out: &mut String, matrix: &circulation::RuleMatrix, branch: &Code, category: &Code, item_type: &Code) {
    let r = matrix.resolve(branch, category, item_type);
    let e = &r.explanation;
    let winner = e.winner();
    let _ = writeln!(
        out,
        "<div class=\"done\" id=\"answer\" role=\"status\"><h3>Branch {}, category {}, item type {}: row <strong id=\"winner\">{}</strong> applies</h3>",
        Esc(branch.as_str()),
        Esc(category.as_str()),
        Esc(item_type.as_str()),
        Esc(&winner.to_string())
    );
    let _ = writeln!(
        out,
        "<p>For a loan the branch is the {}: at a checkout it is that branch's code that is looked up here.</p>",
        Esc(matrix.governing().as_str())
    );
    out.push_str("<h4>Rows that match, most specific first</h4>\n<ol id=\"matched\">");
    for k in &e.candidates {
        let note = if k == winner { " (wins)" } else { "" };
        let _ = write!(out, "<li>{}{note}</li>", Esc(&k.to_string()));
    }
    out.push_str("</ol>\n");
    let passed: Vec<String> = matrix
        .rows()
        .iter()
        .filter(|row| row.key.outranks(winner))
        .filter_map(|row| {
            let why = row.key.mismatches(branch, category, item_type);
            (!why.is_empty()).then(|| {
                let asked = |part: &str| match part {
                    "branch" => branch,
                    "category" => category,
                    _ => item_type,
                };
                let reasons: Vec<String> =
                    why.iter().map(|(part, code)| format!("its {part} is {code}, not {}", asked(part))).collect();
                format!("<li>{}: {}</li>", Esc(&row.key.to_string()), Esc(&reasons.join("; ")))
            })
        })
        .collect();
    out.push_str("<h4>More specific rows that do not match</h4>\n");
    if passed.is_empty() {
        out.push_str("<p id=\"passed-over\">None: no row more specific than the winner exists.</p>\n");
    } else {
        let _ = writeln!(out, "<ul id=\"passed-over\">{}</ul>", passed.concat());
    }
    let mut table = String::from(
        "<table class=\"admin\" id=\"rule-values\"><caption>The rule</caption>\n<thead><tr><th scope=\"col\">Parameter</th>\
         <th scope=\"col\">Value</th><th scope=\"col\">From row</th></tr></thead>\n<tbody>\n",
    );
    for p in Parameter::ALL {
        let from = e.source(*p).unwrap_or(&RuleKey::DEFAULT);
        let (class, note) =
            if from == winner { ("", String::new()) } else { (" class=\"fallback\"", format!(" (blank in {winner})")) };
        let _ = writeln!(
            table,
            "<tr id=\"param-{}\"{class}><th scope=\"row\">{}</th><td class=\"value\">{}</td><td class=\"from\">{}{}</td></tr>",
            p.as_str(),
            label(*p),
            Esc(&r.rule.value_text(*p)),
            Esc(&from.to_string()),
            Esc(&note)
        );
    }
    table.push_str("</tbody></table>\n");
    out.push_str(&scroll_box("The rule that applies", &table));
    out.push_str("</div>\n");
}

/// A row's value of one parameter as written; blank when it falls back.
fn value(row: &RuleSettingsText, p: Parameter) -> String {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let number = |v: Option<u32>| v.map(|n| n.to_string()).unwrap_or_default();
    match p {
        Parameter::LoanPeriod => text(&row.loan_period),
        Parameter::MaxLoans => number(row.max_loans),
        Parameter::RenewalsAllowed => number(row.renewals_allowed),
        Parameter::RenewalPeriod => text(&row.renewal_period),
        Parameter::Fine => text(&row.fine),
        Parameter::GracePeriod => text(&row.grace_period),
        Parameter::MaxFine => text(&row.max_fine),
        Parameter::LostAfterDays => text(&row.lost_after_days),
        Parameter::LostProcessingFee => text(&row.lost_processing_fee),
        Parameter::HoldAllowed => {
            row.hold_allowed.map(|b| if b { "yes" } else { "no" }.to_string()).unwrap_or_default()
        }
        Parameter::MaxHolds => number(row.max_holds),
        Parameter::HoldShelfDays => number(row.hold_shelf_days),
        Parameter::HardDueDate => text(&row.hard_due_date),
    }
}

/// What each text field takes, under its input.
fn hint(p: Parameter) -> &'static str {
    match p {
        Parameter::LoanPeriod | Parameter::RenewalPeriod | Parameter::GracePeriod => "such as 21 days or 4 hours",
        Parameter::Fine => "such as 0.25 per day, 1.00 per hour, or 0",
        Parameter::MaxFine => "an amount such as 5.00, or none",
        Parameter::LostAfterDays => "days overdue, or never",
        Parameter::LostProcessingFee => "an amount such as 5.00",
        Parameter::HardDueDate => "YYYY-MM-DD, or none",
        Parameter::MaxLoans | Parameter::RenewalsAllowed | Parameter::MaxHolds | Parameter::HoldShelfDays => {
            "a whole number"
        }
        Parameter::HoldAllowed => "",
    }
}

/// The row as the form sent it, with the problems the form itself can see (a count that is
/// not a number, a blank key); the settings' own checks come when it is saved.
fn read_row(fields: &Fields) -> (RuleSettingsText, Problems) {
    let mut problems = Problems::default();
    let key = |name: &str| fields.get(name).unwrap_or("").to_string();
    let mut row = RuleSettingsText {
        branch: key("branch"),
        category: key("category"),
        item_type: key("item_type"),
        ..Default::default()
    };
    for (field, name) in [("branch", "Branch"), ("category", "Patron category"), ("item_type", "Item type")] {
        if fields.get(field).is_none() {
            problems.add(field, format!("{name}: enter a code, or * for any."));
        }
    }
    let text = |p: Parameter| fields.get(p.as_str()).map(str::to_string);
    let mut number = |p: Parameter| match fields.get(p.as_str()) {
        None => None,
        Some(t) => match t.parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => {
                problems.add(p.as_str(), format!("{}: {t:?} is not a whole number.", label(p)));
                None
            }
        },
    };
    row.max_loans = number(Parameter::MaxLoans);
    row.renewals_allowed = number(Parameter::RenewalsAllowed);
    row.max_holds = number(Parameter::MaxHolds);
    row.hold_shelf_days = number(Parameter::HoldShelfDays);
    row.loan_period = text(Parameter::LoanPeriod);
    row.renewal_period = text(Parameter::RenewalPeriod);
    row.fine = text(Parameter::Fine);
    row.grace_period = text(Parameter::GracePeriod);
    row.max_fine = text(Parameter::MaxFine);
    row.lost_after_days = text(Parameter::LostAfterDays);
    row.lost_processing_fee = text(Parameter::LostProcessingFee);
    row.hard_due_date = text(Parameter::HardDueDate);
    row.hold_allowed = match fields.get("hold_allowed") {
        None => None,
        Some("yes") => Some(true),
        Some("no") => Some(false),
        Some(other) => {
            problems.add("hold_allowed", format!("Holds allowed: {other:?} is not yes, no or blank."));
            None
        }
    };
    (row, problems)
}

/// The numbers a form sent that did not parse are kept as typed, to show them back.
fn typed(fields: &Fields, row: &RuleSettingsText, p: Parameter) -> String {
    fields.get(p.as_str()).map(str::to_string).unwrap_or_else(|| value(row, p))
}

/// The add or edit form of one row.
fn row_form_typed(
    action: &str,
    row: &RuleSettingsText,
    stamp: &desk::SettingsStamp,
    problems: &Problems,
    button: &str,
    shown: impl Fn(Parameter) -> String,
) -> String {
    let mut out = problems.summary();
    let _ = writeln!(
        out,
        "<form method=\"post\" action=\"{}\" class=\"admin-form\" id=\"rule-form\">\n{}{}",
        Esc(action),
        once::token_field(),
        super::version_field(stamp)
    );
    out.push_str("<fieldset><legend>Which loans the row is for (a code, or * for any)</legend>\n");
    let key = " required maxlength=\"32\" autocomplete=\"off\"";
    out.push_str(&problems.input("branch", "Branch", &row.branch, key));
    out.push_str(&problems.input("category", "Patron category", &row.category, key));
    out.push_str(&problems.input("item_type", "Item type", &row.item_type, key));
    out.push_str("</fieldset>\n<fieldset><legend>The rule (blank: the next less specific row's value)</legend>\n");
    for p in Parameter::ALL {
        if *p == Parameter::HoldAllowed {
            let options =
                [("", "blank (falls back)"), ("yes", "yes"), ("no", "no")].map(|(v, t)| (v.to_string(), t.to_string()));
            out.push_str(&problems.select(p.as_str(), label(*p), &options, &shown(*p)));
        } else {
            let attrs = format!(" maxlength=\"40\" autocomplete=\"off\" placeholder=\"{}\"", hint(*p));
            out.push_str(&problems.input(p.as_str(), label(*p), &shown(*p), &attrs));
        }
    }
    let _ = write!(out, "</fieldset>\n<div><button type=\"submit\">{}</button></div>\n</form>\n", Esc(button));
    out
}

/// The settings' complaint on the form's field: the place ends in the field's name for a row's
/// fields (`rule 2 (CEN/*/*) loan_period`); a complaint about the matrix as a whole (a row
/// twice, the default row's blanks) goes on the field it mentions, else the branch.
fn settings_problem(e: &desk::SettingsError) -> Problems {
    let mut problems = Problems::default();
    let last = e.place.rsplit(' ').next().unwrap_or("");
    let field = ["branch", "category", "item_type"]
        .into_iter()
        .chain(Parameter::ALL.iter().map(|p| p.as_str()))
        .find(|f| *f == last)
        .or_else(|| Parameter::ALL.iter().map(|p| p.as_str()).find(|f| e.message.contains(f)))
        .unwrap_or("branch");
    let name = match field {
        "branch" => "Branch",
        "category" => "Patron category",
        "item_type" => "Item type",
        other => Parameter::ALL.iter().find(|p| p.as_str() == other).map_or("Rule", |p| label(*p)),
    };
    problems.add(field, format!("{name}: {}", e.message));
    problems
}

/// The edit page of row `n` (or the add form again), with what was typed and its problems.
#[allow(clippy::too_many_arguments)]
fn row_page(
    state: &AppState,
    acting: &Acting,
    status: StatusCode,
    n: Option<usize>,
    row: &RuleSettingsText,
    fields: Option<&Fields>,
    problems: &Problems,
    conflict: Option<&str>,
) -> Response {
    let (_, stamp) = state.desk.circulation_settings();
    // A form sent back keeps the version it was opened at: a stale one stays stale.
    let stamp = match fields.and_then(|f| super::sent_version(f).ok()) {
        Some(v) => desk::SettingsStamp { version: v, ..stamp },
        None => stamp,
    };
    let (title, action, button) = match n {
        Some(n) => (format!("Edit rule row {n}"), format!("{PATH}/{n}"), "Save the row"),
        None => ("Add a rule row".to_string(), PATH.to_string(), "Add the row"),
    };
    let mut main = format!("<h1>{}</h1>\n", Esc(&title));
    if let Some(message) = conflict {
        main.push_str(&super::conflict_banner(message, &action));
    }
    main.push_str(&super::changed_line(state, &stamp, "circulation"));
    main.push_str(&row_form_typed(&action, row, &stamp, problems, button, |p| match fields {
        Some(f) => typed(f, row, p),
        None => value(row, p),
    }));
    let _ = writeln!(main, "<p><a href=\"{PATH}\">Back to the rule matrix</a></p>");
    page(state, acting, status, &title, &main)
}

/// Where a saved row is shown: the explainer asked for its codes, when it names one of each.
fn after_save(row: &RuleSettingsText, n: usize) -> String {
    let specific = [&row.branch, &row.category, &row.item_type].iter().all(|c| c.trim() != "*");
    if specific {
        format!(
            "{PATH}?saved={n}&branch={}&category={}&item_type={}#answer",
            url_encode(&row.branch),
            url_encode(&row.category),
            url_encode(&row.item_type)
        )
    } else {
        format!("{PATH}?saved={n}#rule-rows")
    }
}

/// The row number in the path, among the rows as written.
fn row_number(n: &str, rules: &[RuleSettingsText]) -> Option<usize> {
    n.parse::<usize>().ok().filter(|n| (1..=rules.len()).contains(n))
}

fn no_row(n: &str) -> crate::error::ApiError {
    crate::error::ApiError::new(
        crate::error::ErrorCode::RouteNotFound,
        format!("there is no rule row {n}: the rows may have changed, see the rule matrix"),
    )
}

/// `GET /staff/admin/rules/new`: a blank row to add.
async fn new_page(State(state): State<AppState>, StaffUser(acting): StaffUser) -> Response {
    if let Err(e) = acting.require(Permission::Configure) {
        return refusal(&state, &acting, e);
    }
    row_page(&state, &acting, StatusCode::OK, None, &RuleSettingsText::default(), None, &Problems::default(), None)
}

/// `GET /staff/admin/rules/{n}`.
async fn edit_page(State(state): State<AppState>, StaffUser(acting): StaffUser, Path(n): Path<String>) -> Response {
    if let Err(e) = acting.require(Permission::Configure) {
        return refusal(&state, &acting, e);
    }
    let (written, _) = state.desk.circulation_settings();
    match row_number(&n, &written.rules) {
        Some(i) => {
            row_page(&state, &acting, StatusCode::OK, Some(i), &written.rules[i - 1], None, &Problems::default(), None)
        }
        None => refusal(&state, &acting, no_row(&n)),
    }
}

/// Saves `settings` (with `row` at `n` changed), answering with the form again on a problem.
async fn save_matrix(
    state: &AppState,
    acting: &Acting,
    fields: &Fields,
    settings: desk::CirculationSettings,
    n: Option<usize>,
    row: &RuleSettingsText,
) -> Response {
    let version = match super::sent_version(fields) {
        Ok(v) => v,
        Err(e) => return refusal(state, acting, e),
    };
    let saved_as = n.unwrap_or(settings.rules.len());
    match super::save_circulation(state, acting, settings, version).await {
        Ok(Saved::Done) => see_other(&after_save(row, saved_as)),
        Ok(Saved::Invalid(e)) => {
            row_page(state, acting, StatusCode::BAD_REQUEST, n, row, Some(fields), &settings_problem(&e), None)
        }
        Ok(Saved::Stale(message)) => {
            row_page(state, acting, StatusCode::CONFLICT, n, row, Some(fields), &Problems::default(), Some(&message))
        }
        Ok(Saved::Refused { field, message }) => {
            let mut problems = Problems::default();
            problems.add(field, message);
            row_page(state, acting, StatusCode::BAD_REQUEST, n, row, Some(fields), &problems, None)
        }
        Err(e) => refusal(state, acting, e),
    }
}

/// `POST /staff/admin/rules`: a new row, added at the end.
async fn add_row(State(state): State<AppState>, StaffUser(acting): StaffUser, fields: Fields) -> Response {
    super::configure_once(&state, &acting, &fields, || async {
        let (row, problems) = read_row(&fields);
        if !problems.is_empty() {
            return row_page(&state, &acting, StatusCode::BAD_REQUEST, None, &row, Some(&fields), &problems, None);
        }
        let (mut settings, _) = state.desk.circulation_settings();
        settings.rules.push(row.clone());
        save_matrix(&state, &acting, &fields, settings, None, &row).await
    })
    .await
}

/// `POST /staff/admin/rules/{n}`: row `n` replaced by the form's.
async fn save_row(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(n): Path<String>,
    fields: Fields,
) -> Response {
    super::configure_once(&state, &acting, &fields, || async {
        let (mut settings, _) = state.desk.circulation_settings();
        let Some(i) = row_number(&n, &settings.rules) else { return refusal(&state, &acting, no_row(&n)) };
        let (row, problems) = read_row(&fields);
        if !problems.is_empty() {
            return row_page(&state, &acting, StatusCode::BAD_REQUEST, Some(i), &row, Some(&fields), &problems, None);
        }
        settings.rules[i - 1] = row.clone();
        save_matrix(&state, &acting, &fields, settings, Some(i), &row).await
    })
    .await
}

/// `POST /staff/admin/rules/{n}/delete`.
async fn delete_row(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(n): Path<String>,
    fields: Fields,
) -> Response {
    super::configure_once(&state, &acting, &fields, || async {
        let version = match super::sent_version(&fields) {
            Ok(v) => v,
            Err(e) => return refusal(&state, &acting, e),
        };
        let (mut settings, _) = state.desk.circulation_settings();
        let Some(i) = row_number(&n, &settings.rules) else { return refusal(&state, &acting, no_row(&n)) };
        let row = settings.rules.remove(i - 1);
        let key = format!("{}/{}/{}", row.branch, row.category, row.item_type);
        let refused = |message: String| {
            crate::error::ApiError::new(
                crate::error::ErrorCode::Conflict,
                format!("row {i} ({key}) was not deleted: {message}"),
            )
        };
        match super::save_circulation(&state, &acting, settings, version).await {
            Ok(Saved::Done) => see_other(&format!("{PATH}?deleted={}#rule-rows", url_encode(&key))),
            Ok(Saved::Invalid(e)) => refusal(&state, &acting, refused(e.to_string())),
            Ok(Saved::Stale(message)) | Ok(Saved::Refused { message, .. }) => {
                refusal(&state, &acting, refused(message))
            }
            Err(e) => refusal(&state, &acting, e),
        }
    })
    .await
}
