//! The patron's account on the record: the entries, the balance, and the pay (cash or card,
//! any part of what is owed), waive and refund forms. Each is one `desk::ledger` call, as in
//! `api/ledger.rs`, and needs HandleMoney; a refusal of the ledger (more than is owed, a waiver
//! without a reason, more refunded than was paid) names its field.

use super::form::FormState;
use super::record::{act, charge_label, credit_label, refundable_charges, Shown};
use super::CardPath;
use crate::api::ledger::{acting_actor, refusal};
use crate::error::ApiError;
use crate::html::Esc;
use crate::staff::{local, once, Fields, StaffUser};
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use catalog::Money;
use chrono::Utc;
use circulation::{EntryKind, PaymentMethod, Permission};
use desk::ledger::CreditRequest;
use desk::DeskError;
use std::fmt::Write;
use storage::ledger::Account;

/// The account's latest entries shown; the JSON API has the whole ledger.
const ENTRIES_SHOWN: usize = 50;

/// The (field, id, label) list of a money form's summary.
pub(super) fn summary_ids(form: &'static str) -> Vec<(&'static str, String, &'static str)> {
    let id = |name: &str| format!("{form}-{name}");
    match form {
        "pay" => {
            vec![("amount", id("amount"), "Amount"), ("method", id("method"), "Paid by"), ("note", id("note"), "Note")]
        }
        "waive" => vec![("amount", id("amount"), "Amount"), ("note", id("note"), "Reason")],
        "refund" => {
            vec![("charge", id("charge"), "Charge"), ("amount", id("amount"), "Amount"), ("note", id("note"), "Reason")]
        }
        _ => Vec::new(),
    }
}

pub(super) fn render(main: &mut String, state: &AppState, account: &Account, base: &str, shown: Option<&Shown>) {
    let owed = account.patron.balance;
    let credit = account.ledger.credit();
    let _ = write!(
        main,
        "<section id=\"account\" aria-labelledby=\"account-heading\"><h2 id=\"account-heading\">Account</h2>\n\
         <p>Balance owed: <strong id=\"balance\">{owed}</strong>{}</p>\n",
        if credit.minor() > 0 { format!(" (account credit {credit})") } else { String::new() }
    );
    let entries = account.ledger.entries();
    if entries.is_empty() {
        main.push_str("<p>No charges or payments.</p>\n");
    } else {
        let shown_count = entries.len().min(ENTRIES_SHOWN);
        let _ = write!(
            main,
            "<table class=\"ledger\"><caption>{}</caption><thead><tr><th scope=\"col\">Date</th><th scope=\"col\">What</th>\
             <th scope=\"col\">Note</th><th scope=\"col\" class=\"money\">Amount</th><th scope=\"col\" class=\"money\">Outstanding</th></tr></thead><tbody>",
            if shown_count < entries.len() {
                format!("The latest {shown_count} of {} entries", entries.len())
            } else {
                "Charges and payments, newest first".to_string()
            }
        );
        for e in entries.iter().rev().take(shown_count) {
            let (what, outstanding) = match &e.kind {
                EntryKind::Charge { kind, .. } => (
                    charge_label(*kind).to_string(),
                    account.ledger.outstanding(e.id).map(|m| m.to_string()).unwrap_or_default(),
                ),
                EntryKind::Credit { kind, .. } => (credit_label(*kind), String::new()),
                EntryKind::Payout { method, .. } => (format!("Paid out ({})", method.as_str()), String::new()),
            };
            let _ = write!(
                main,
                "<tr class=\"entry\"><td>{}</td><td>{}</td><td>{}</td><td class=\"money\">{}</td><td class=\"money\">{}</td></tr>",
                local(state, e.at),
                Esc(&what),
                Esc(&e.note),
                e.signed_amount(),
                outstanding
            );
        }
        main.push_str("</tbody></table>\n");
    }
    let empty = FormState::default();
    let form_of = |name: &str| shown.filter(|s| s.form == name).map(|s| &s.state);
    if owed.minor() > 0 {
        let pay = form_of("pay").cloned().unwrap_or_else(|| empty.clone().with("amount", owed.to_string()));
        let _ = writeln!(
            main,
            "<form method=\"post\" action=\"{base}/payment\" class=\"pay\" aria-label=\"Take a payment\">{}",
            once::token_field()
        );
        main.push_str(&pay.input(
            "pay",
            "amount",
            "Amount",
            " inputmode=\"decimal\" size=\"8\" autocomplete=\"off\" required",
        ));
        let methods: Vec<(String, String)> = PaymentMethod::ALL
            .iter()
            .map(|m| (m.as_str().to_string(), crate::staff::capitalised(m.as_str())))
            .collect();
        main.push_str(&pay.select("pay", "method", "Paid by", &methods));
        main.push_str(&pay.input("pay", "note", "Note (optional)", " autocomplete=\"off\""));
        main.push_str("<div><button type=\"submit\">Take payment</button></div></form>\n");
        let waive = form_of("waive").unwrap_or(&empty);
        let _ = writeln!(
            main,
            "<form method=\"post\" action=\"{base}/waiver\" class=\"waive\" aria-label=\"Waive charges\">{}",
            once::token_field()
        );
        main.push_str(&waive.input(
            "waive",
            "amount",
            "Amount to waive",
            " inputmode=\"decimal\" size=\"8\" autocomplete=\"off\" required",
        ));
        main.push_str(&waive.input("waive", "note", "Reason", " size=\"30\" autocomplete=\"off\" required"));
        main.push_str("<div><button type=\"submit\" class=\"secondary\">Waive</button></div></form>\n");
    }
    let refundable = refundable_charges(account);
    if !refundable.is_empty() {
        let refund = form_of("refund").unwrap_or(&empty);
        let _ = writeln!(
            main,
            "<form method=\"post\" action=\"{base}/refund\" class=\"refund\" aria-label=\"Refund a payment\">{}",
            once::token_field()
        );
        let charges: Vec<(String, String)> =
            refundable.into_iter().map(|(row, text)| (row.to_string(), text)).collect();
        main.push_str(&refund.select("refund", "charge", "Charge", &charges));
        main.push_str(&refund.input(
            "refund",
            "amount",
            "Amount to refund",
            " inputmode=\"decimal\" size=\"8\" autocomplete=\"off\" required",
        ));
        main.push_str(&refund.input("refund", "note", "Reason", " size=\"30\" autocomplete=\"off\" required"));
        main.push_str("<div><button type=\"submit\" class=\"secondary\">Refund</button></div></form>\n");
    }
    main.push_str("</section>\n");
}

/// The amount field, or the form again saying what is wrong with it.
fn amount(fields: &Fields, shown: &mut FormState) -> Option<Money> {
    match fields.get("amount") {
        None => {
            shown.add_problem("amount", "enter the amount, such as 2.50");
            None
        }
        Some(raw) => match Money::parse(raw) {
            Ok(m) => Some(m),
            Err(e) => {
                shown.add_problem("amount", e.to_string());
                None
            }
        },
    }
}

/// A ledger refusal as the form's problem (on the field it names), or a real error.
fn ledger_problem(e: DeskError, fields: &Fields) -> Result<FormState, ApiError> {
    let e = refusal(e);
    if e.code.status().is_server_error() {
        return Err(e);
    }
    let mut shown = FormState::from_fields(fields);
    let field = match e.field.as_deref() {
        // The JSON API's `charges` list is the refund form's one charge.
        Some("charges") => "charge",
        Some(f) => f,
        None => "form",
    };
    let message = match (field, e.message.as_str()) {
        ("note", _) => "a waiver or refund needs a reason the patron can be told".to_string(),
        (_, m) => m.to_string(),
    };
    shown.add_problem(field, message);
    Ok(shown)
}

/// `POST /staff/patrons/{card}/payment` with `amount`, `method` (cash, card) and `note`:
/// applied to the oldest charges first; less than is owed is fine, more is refused.
pub(super) async fn pay(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(card): CardPath,
    fields: Fields,
) -> Response {
    let needs = [Permission::HandleMoney, Permission::ManagePatrons];
    act(state, acting, card, fields, &needs, "pay", |_, db, acting, card, fields| {
        let mut shown = FormState::from_fields(fields);
        let amount = amount(fields, &mut shown);
        let method = fields.get("method").and_then(PaymentMethod::parse);
        if method.is_none() {
            shown.add_problem("method", "choose cash or card");
        }
        let (Some(amount), Some(method)) = (amount, method) else { return Ok(Err(shown)) };
        let request = CreditRequest::Payment { method, keep_credit: false };
        let note = fields.get("note").unwrap_or("");
        match desk::ledger::credit(db, card, request, amount, None, acting_actor(acting), note, Utc::now()) {
            Ok(_) => Ok(Ok("paid")),
            Err(e) => ledger_problem(e, fields).map(Err),
        }
    })
    .await
}

/// `POST /staff/patrons/{card}/waiver` with `amount` and `note` (the reason).
pub(super) async fn waive(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(card): CardPath,
    fields: Fields,
) -> Response {
    let needs = [Permission::HandleMoney, Permission::ManagePatrons];
    act(state, acting, card, fields, &needs, "waive", |_, db, acting, card, fields| {
        let mut shown = FormState::from_fields(fields);
        let Some(amount) = amount(fields, &mut shown) else { return Ok(Err(shown)) };
        let note = fields.get("note").unwrap_or("");
        match desk::ledger::credit(
            db,
            card,
            CreditRequest::Waiver,
            amount,
            None,
            acting_actor(acting),
            note,
            Utc::now(),
        ) {
            Ok(_) => Ok(Ok("waived")),
            Err(e) => ledger_problem(e, fields).map(Err),
        }
    })
    .await
}

/// `POST /staff/patrons/{card}/refund` with `charge` (an entry), `amount` and `note`.
pub(super) async fn refund(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(card): CardPath,
    fields: Fields,
) -> Response {
    let needs = [Permission::HandleMoney, Permission::ManagePatrons];
    act(state, acting, card, fields, &needs, "refund", |_, db, acting, card, fields| {
        let mut shown = FormState::from_fields(fields);
        let charge = fields.get("charge").and_then(|c| c.parse::<i64>().ok());
        if charge.is_none() {
            shown.add_problem("charge", "choose the charge whose payment is refunded");
        }
        let amount = amount(fields, &mut shown);
        let (Some(charge), Some(amount)) = (charge, amount) else { return Ok(Err(shown)) };
        let note = fields.get("note").unwrap_or("");
        match desk::ledger::refund(db, card, charge, amount, acting_actor(acting), note, Utc::now()) {
            Ok(_) => Ok(Ok("refunded")),
            Err(e) => ledger_problem(e, fields).map(Err),
        }
    })
    .await
}
