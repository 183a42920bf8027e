//! Patron categories as the `[patrons]` settings give them (`GET /staff/admin/categories`): how
//! long a card is valid, the age limits, whether a guarantor is needed, with the card-number
//! pattern they are issued from. Read-only: the settings file is where they change. Configure
//! permission.

use std::fmt::Write;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use circulation::Permission;

use super::{page, refusal, scroll_box};
use crate::html::Esc;
use crate::staff::StaffUser;
use crate::AppState;

const TITLE: &str = "Patron categories";

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/staff/admin/categories", get(screen))
}

async fn screen(State(state): State<AppState>, StaffUser(acting): StaffUser) -> Response {
    if let Err(e) = acting.require(Permission::Configure) {
        return refusal(&state, &acting, e);
    }
    let rules = state.desk.patron_rules();
    let mut main = format!("<h1>{TITLE}</h1>\n");
    main.push_str("<p>From the <code>[patrons]</code> settings.</p>\n");
    if let Some(age) = rules.guarantor_under_age {
        let _ = writeln!(
            main,
            "<p id=\"guarantor-age\">Patrons younger than {age} need a guarantor whatever their category.</p>"
        );
    }
    let mut table = String::from(
        "<table class=\"admin\" id=\"categories\"><thead><tr><th scope=\"col\">Category</th>\
         <th scope=\"col\">Card valid for</th><th scope=\"col\">Minimum age</th><th scope=\"col\">Maximum age</th>\
         <th scope=\"col\">Guarantor</th></tr></thead>\n<tbody>\n",
    );
    let age = |a: Option<u32>| a.map_or("none".to_string(), |a| a.to_string());
    for (code, c) in &rules.registration.categories {
        let _ = writeln!(
            table,
            "<tr><th scope=\"row\">{}</th><td>{} months</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            Esc(code.as_str()),
            c.validity_months,
            age(c.min_age),
            age(c.max_age),
            if c.requires_guarantor { "required" } else { "not required" }
        );
    }
    table.push_str("</tbody></table>\n");
    main.push_str(&scroll_box("Patron categories", &table));
    let pattern = &rules.registration.card_numbers;
    let _ = writeln!(
        main,
        "<h2>Card numbers</h2>\n<p id=\"card-pattern\">{} digits starting with {}, check digit: {}.</p>",
        pattern.length,
        Esc(&pattern.prefix),
        match pattern.check_digit {
            circulation::registration::CheckDigit::Luhn => "Luhn (mod 10)",
            circulation::registration::CheckDigit::None => "none",
        }
    );
    page(&state, &acting, StatusCode::OK, TITLE, &main)
}
