//! The rule matrix as a table (`GET /staff/admin/rules`), and the explainer on the same page:
//! three selects (branch, patron category, item type) sent as a plain GET, answered with the
//! row that won, the rows that matched, the more specific rows that did not and why, and each
//! parameter's value with the row it came from. The same `RuleMatrix::resolve` as
//! `GET /api/v1/circulation/rule`. The rules come from the `[circulation]` settings.

use std::collections::BTreeSet;
use std::fmt::Write;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use catalog::Code;
use circulation::{Parameter, RuleKey};

use super::{page, refusal, scroll_box, Problems};
use crate::html::Esc;
use crate::staff::{query_get, QueryParams, StaffUser};
use crate::AppState;
use circulation::Permission;

const PATH: &str = "/staff/admin/rules";
const TITLE: &str = "Rule matrix";

pub(super) fn routes() -> Router<AppState> {
    Router::new().route(PATH, get(screen))
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
         <strong id=\"governing\">{}</strong> (setting <code>governing_branch</code>). These rules come \
         from the <code>[circulation]</code> settings.</p>",
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

    main.push_str("<section aria-labelledby=\"matrix\">\n<h2 id=\"matrix\">Every row</h2>\n");
    let _ = writeln!(main, "<p>{} rows, most specific first; a blank cell falls back.</p>", matrix.rows().len() + 1);
    let mut table = String::from("<table class=\"admin\" id=\"rule-rows\">\n<thead><tr><th scope=\"col\">Branch</th><th scope=\"col\">Category</th><th scope=\"col\">Item type</th>");
    for p in Parameter::ALL {
        let _ = write!(table, "<th scope=\"col\">{}</th>", label(*p));
    }
    table.push_str("</tr></thead>\n<tbody>\n");
    let default = matrix.default_rule().to_settings();
    for (key, settings) in matrix.rows().iter().map(|r| (&r.key, &r.settings)).chain([(&RuleKey::DEFAULT, &default)]) {
        let _ = write!(
            table,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td>",
            Esc(&key.branch.to_string()),
            Esc(&key.category.to_string()),
            Esc(&key.item_type.to_string())
        );
        for p in Parameter::ALL {
            let _ = write!(table, "<td>{}</td>", Esc(&settings.value_text(*p).unwrap_or_default()));
        }
        table.push_str("</tr>\n");
    }
    table.push_str("</tbody></table>\n");
    main.push_str(&scroll_box("The rule matrix", &table));
    main.push_str("</section>\n");
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
