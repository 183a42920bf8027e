//! Circulation settings edited in the staff client over plain HTTP, used at once by the JSON
//! API without a restart: a rule row added and edited changes the next checkout's due date and
//! the explainer's answer; a bad value names its field, keeps what was typed and changes
//! nothing; of two forms opened at one version the second save gets the conflict message; a
//! double submit acts once; a change is audited and the page says who made it.

#![allow(clippy::unwrap_used)]

mod common;
mod staff_fixture;

use chrono::{NaiveDate, Utc};
use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use staff_fixture::*;

/// The value of the hidden field `name` in the form posting to `action`.
fn hidden(page: &str, action: &str, name: &str) -> String {
    let at = page
        .find(&format!("method=\"post\" action=\"{action}\""))
        .unwrap_or_else(|| panic!("no form posting to {action}:\n{page}"));
    let rest = &page[at..];
    let marker = format!("name=\"{name}\" value=\"");
    let at = rest.find(&marker).unwrap_or_else(|| panic!("no {name} in the form to {action}"));
    let rest = &rest[at + marker.len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// The inside of the paragraph with that id.
fn paragraph<'a>(page: &'a str, id: &str) -> &'a str {
    let open = format!("<p id=\"{id}\">");
    let at = page.find(&open).unwrap_or_else(|| panic!("no paragraph {id}:\n{page}"));
    let rest = &page[at + open.len()..];
    &rest[..rest.find("</p>").unwrap()]
}

/// The form of one rule row, every parameter as the row has it, with the token and version of
/// the form to `action` on `page`.
fn row_form(page: &str, action: &str, row: &desk::RuleSettingsText) -> Vec<(String, String)> {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let number = |v: Option<u32>| v.map(|n| n.to_string()).unwrap_or_default();
    let pairs = [
        ("form_token", hidden(page, action, "form_token")),
        ("version", hidden(page, action, "version")),
        ("branch", row.branch.clone()),
        ("category", row.category.clone()),
        ("item_type", row.item_type.clone()),
        ("loan_period", text(&row.loan_period)),
        ("max_loans", number(row.max_loans)),
        ("renewals_allowed", number(row.renewals_allowed)),
        ("renewal_period", text(&row.renewal_period)),
        ("fine", text(&row.fine)),
        ("grace_period", text(&row.grace_period)),
        ("max_fine", text(&row.max_fine)),
        ("lost_after_days", text(&row.lost_after_days)),
        ("lost_processing_fee", text(&row.lost_processing_fee)),
        ("hold_allowed", row.hold_allowed.map(|b| if b { "yes" } else { "no" }).unwrap_or("").to_string()),
        ("max_holds", number(row.max_holds)),
        ("hold_shelf_days", number(row.hold_shelf_days)),
        ("hard_due_date", text(&row.hard_due_date)),
    ];
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn set(form: &mut [(String, String)], name: &str, value: &str) {
    form.iter_mut().find(|(k, _)| k == name).unwrap_or_else(|| panic!("no field {name}")).1 = value.to_string();
}

/// The default settings' only row, `*/*/*`: 21-day loans.
fn default_row() -> desk::RuleSettingsText {
    desk::CirculationSettings::default().rules[0].clone()
}

/// Checks `barcode` out to the reader at CEN through the JSON API; the local due date.
async fn checkout(app: &App, barcode: &str) -> NaiveDate {
    let r = app.post("/api/v1/checkouts", &json!({"card_number": READER, "barcode": barcode, "branch": "CEN"})).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    let body: Value = r.json().await.unwrap();
    let due = body["loan"]["due"]["utc"].as_str().unwrap_or_else(|| panic!("{body}"));
    // The default settings keep the library's time in UTC.
    chrono::DateTime::parse_from_rfc3339(due).unwrap().with_timezone(&Utc).date_naive()
}

/// The day a loan of `days` starting today is due in the default calendar: that many days on,
/// moved to the next open day.
fn due_after(days: u64) -> NaiveDate {
    let c = desk::CirculationSettings::default().build().unwrap();
    let mut day = Utc::now().date_naive() + chrono::Days::new(days);
    while !c.library_calendar.is_open(day) {
        day = day.succ_opt().unwrap();
    }
    day
}

async fn stored_version(app: &App) -> Option<i64> {
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || db.settings_document("circulation").unwrap().map(|d| d.version)).await.unwrap()
}

#[tokio::test]
async fn an_added_and_edited_rule_row_changes_the_next_checkout_at_once() {
    let lib = library().await;
    let app = &lib.app;
    let staff = sign_in_with(app, ADMIN_LOGIN, ADMIN_PASSWORD).await.unwrap();
    assert_eq!(checkout(app, BOOKS[0]).await, due_after(21), "the file's 21 days");

    let (status, page) = staff.get("/staff/admin/rules").await;
    assert_eq!(status, StatusCode::OK);
    assert!(paragraph(&page, "settings-changed").contains("not edited here yet"), "{page}");
    let (status, page) = staff.get("/staff/admin/rules/new").await;
    assert_eq!(status, StatusCode::OK);

    // A row for adult books at CEN: 7 days. The explainer answers with it right after.
    let row = desk::RuleSettingsText {
        branch: "CEN".into(),
        category: "ADULT".into(),
        item_type: "BK".into(),
        loan_period: Some("7 days".into()),
        ..Default::default()
    };
    let form = row_form(&page, "/staff/admin/rules", &row);
    let (status, page) = staff.submit("/staff/admin/rules", &form).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("id=\"saved\">Row 2 saved"), "{page}");
    assert_eq!(inner(&page, "id=\"winner\""), "CEN/ADULT/BK");
    assert!(
        page.contains("<tr id=\"param-loan_period\"><th scope=\"row\">Loan period</th><td class=\"value\">7 days</td>"),
        "{page}"
    );
    let changed = paragraph(&page, "settings-changed");
    assert!(changed.starts_with("Last changed by <strong>admin</strong> on "), "{changed}");
    assert_eq!(checkout(app, BOOKS[1]).await, due_after(7), "the new row, without a restart");

    // The row edited: 10 days.
    let (status, page) = staff.get("/staff/admin/rules/2").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("value=\"7 days\""), "{page}");
    let mut form = row_form(&page, "/staff/admin/rules/2", &row);
    set(&mut form, "loan_period", "10 days");
    let (status, page) = staff.submit("/staff/admin/rules/2", &form).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("<td class=\"value\">10 days</td>"), "{page}");
    assert_eq!(checkout(app, BOOKS[2]).await, due_after(10));
    assert_eq!(stored_version(app).await, Some(2));

    // The edit is in the audit log, committed with the change.
    let r = app.client.get(app.url("/api/v1/audit?staff=admin")).bearer_auth(&app.admin_token).send().await.unwrap();
    let body: Value = r.json().await.unwrap();
    let targets: Vec<&str> = body["entries"].as_array().unwrap().iter().filter_map(|e| e["target"].as_str()).collect();
    assert!(targets.contains(&"POST /staff/admin/rules"), "{targets:?}");
    assert!(targets.contains(&"POST /staff/admin/rules/{n}"), "{targets:?}");

    // Deleted: the file's row applies again.
    let (_, page) = staff.get("/staff/admin/rules").await;
    let form = [
        ("form_token".to_string(), hidden(&page, "/staff/admin/rules/2/delete", "form_token")),
        ("version".to_string(), hidden(&page, "/staff/admin/rules/2/delete", "version")),
    ];
    let (status, page) = staff.submit("/staff/admin/rules/2/delete", &form).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Row CEN/ADULT/BK deleted"), "{page}");
    assert!(!page.contains("id=\"row-2\""), "{page}");
}

#[tokio::test]
async fn a_bad_value_names_its_field_keeps_what_was_typed_and_changes_nothing() {
    let lib = library().await;
    let app = &lib.app;
    let staff = sign_in_with(app, ADMIN_LOGIN, ADMIN_PASSWORD).await.unwrap();
    let (_, page) = staff.get("/staff/admin/rules/1").await;
    let mut form = row_form(&page, "/staff/admin/rules/1", &default_row());
    set(&mut form, "loan_period", "three weeks");
    let (status, page) = staff.submit("/staff/admin/rules/1", &form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert_field_error(&page, "loan_period", "Loan period: &quot;three weeks&quot; is not a period");
    assert!(page.contains("value=\"three weeks\""), "what was typed is kept");
    assert!(page.contains("Please correct this form"), "{page}");

    // A count that is not a number is caught by the form itself.
    let (_, page) = staff.get("/staff/admin/rules/1").await;
    let mut form = row_form(&page, "/staff/admin/rules/1", &default_row());
    set(&mut form, "max_loans", "lots");
    let (status, page) = staff.submit("/staff/admin/rules/1", &form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert_field_error(&page, "max_loans", "Maximum loans: &quot;lots&quot; is not a whole number");
    assert!(page.contains("value=\"lots\""));

    // The default row cannot lose a value every loan falls back to.
    let (_, page) = staff.get("/staff/admin/rules/1").await;
    let mut form = row_form(&page, "/staff/admin/rules/1", &default_row());
    set(&mut form, "fine", "");
    let (status, page) = staff.submit("/staff/admin/rules/1", &form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert_field_error(&page, "fine", "fine");

    assert_eq!(stored_version(app).await, None, "nothing was stored");
    assert_eq!(checkout(app, BOOKS[0]).await, due_after(21), "the old settings are in force");
}

#[tokio::test]
async fn of_two_forms_opened_at_one_version_the_second_save_is_a_conflict() {
    let lib = library().await;
    let app = &lib.app;
    let ana = sign_in_with(app, ADMIN_LOGIN, ADMIN_PASSWORD).await.unwrap();
    let ben = sign_in_with(app, ADMIN_LOGIN, ADMIN_PASSWORD).await.unwrap();
    let (_, first) = ana.get("/staff/admin/rules/1").await;
    let (_, second) = ben.get("/staff/admin/rules/1").await;
    let mut a = row_form(&first, "/staff/admin/rules/1", &default_row());
    set(&mut a, "loan_period", "28 days");
    let mut b = row_form(&second, "/staff/admin/rules/1", &default_row());
    set(&mut b, "loan_period", "14 days");

    let (status, page) = ana.submit("/staff/admin/rules/1", &a).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let (status, page) = ben.submit("/staff/admin/rules/1", &b).await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    let conflict = &page[page.find("id=\"conflict\"").unwrap_or_else(|| panic!("{page}"))..];
    assert!(conflict.contains("changed by admin at"), "{conflict}");
    assert!(conflict.contains("version 1, not 0"), "{conflict}");
    assert!(page.contains("value=\"14 days\""), "what was typed is kept, to copy");

    assert_eq!(stored_version(app).await, Some(1));
    assert_eq!(checkout(app, BOOKS[0]).await, due_after(28), "the first save is in force");
}

#[tokio::test]
async fn a_double_submit_adds_the_row_once() {
    let lib = library().await;
    let app = &lib.app;
    let staff = sign_in_with(app, ADMIN_LOGIN, ADMIN_PASSWORD).await.unwrap();
    let (_, page) = staff.get("/staff/admin/rules/new").await;
    let row = desk::RuleSettingsText {
        branch: "*".into(),
        category: "*".into(),
        item_type: "BK".into(),
        loan_period: Some("14 days".into()),
        ..Default::default()
    };
    let form = row_form(&page, "/staff/admin/rules", &row);
    let (first, a) = staff.submit("/staff/admin/rules", &form).await;
    let (second, b) = staff.submit("/staff/admin/rules", &form).await;
    assert_eq!((first, second), (StatusCode::OK, StatusCode::OK));
    assert!(a.contains("id=\"row-2\"") && !a.contains("id=\"row-3\""), "{a}");
    assert!(b.contains("id=\"row-2\"") && !b.contains("id=\"row-3\""), "the repeat added nothing: {b}");
    assert_eq!(stored_version(app).await, Some(1));
}

#[tokio::test]
async fn a_clerk_cannot_edit_the_rules() {
    let lib = library().await;
    let app = &lib.app;
    account(app, "clerk", &["clerk"], &["CEN"]).await;
    let clerk = sign_in(app, "clerk").await;
    let (status, _) = clerk.get("/staff/admin/rules/1").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let form = vec![("form_token".to_string(), "t1".to_string()), ("version".to_string(), "0".to_string())];
    let (status, _) = clerk.submit("/staff/admin/rules/1/delete", &form).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(stored_version(app).await, None);
}

#[tokio::test]
async fn a_branchs_hours_and_closed_days_are_edited_and_used_at_once() {
    let lib = library().await;
    let app = &lib.app;
    let staff = sign_in_with(app, ADMIN_LOGIN, ADMIN_PASSWORD).await.unwrap();
    let (status, page) = staff.get("/staff/admin/calendars").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("href=\"/staff/admin/calendars/branches/CEN\""), "{page}");

    // CEN closes on the day a 21-day loan would fall due: the due date moves to the next day.
    let due = due_after(21);
    let (_, page) = staff.get("/staff/admin/calendars/branches/CEN").await;
    let action = "/staff/admin/calendars/branches/CEN";
    let week =
        ["09:00-20:00", "09:00-20:00", "09:00-20:00", "09:00-20:00", "09:00-18:00", "10:00-17:00", "13:00-17:00"];
    let mut form: Vec<(String, String)> = vec![
        ("form_token".into(), hidden(&page, action, "form_token")),
        ("version".into(), hidden(&page, action, "version")),
        ("own_hours".into(), "yes".into()),
        ("closed".into(), format!("{due}\n")),
    ];
    for (day, hours) in ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].iter().zip(week) {
        form.push((day.to_string(), hours.to_string()));
    }
    // A day's hours that are not hours name that day, and nothing is saved.
    let mut bad = form.clone();
    set(&mut bad, "sat", "ten till five");
    let (status, page) = staff.submit(action, &bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert_field_error(&page, "sat", "Saturday: &quot;ten till five&quot; is not opening hours");
    assert!(page.contains("value=\"ten till five\""));
    assert_eq!(stored_version(app).await, None);

    let (_, page) = staff.get(action).await;
    set(&mut form, "form_token", &hidden(&page, action, "form_token"));
    let (status, page) = staff.submit(action, &form).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("id=\"saved\""), "{page}");
    assert!(page.contains("Central Library (CEN)"), "CEN has a calendar of its own now: {page}");
    let mut expected = due.succ_opt().unwrap();
    let c = desk::CirculationSettings::default().build().unwrap();
    while !c.library_calendar.is_open(expected) {
        expected = expected.succ_opt().unwrap();
    }
    assert_eq!(checkout(app, BOOKS[0]).await, expected, "the closed day is skipped, without a restart");

    // The library's closed days: a day that is not a date names the field.
    let action = "/staff/admin/calendars/library";
    let (_, page) = staff.get(action).await;
    assert!(page.contains(">01-01\n12-25</textarea>"), "{page}");
    let mut form: Vec<(String, String)> = vec![
        ("form_token".into(), hidden(&page, action, "form_token")),
        ("version".into(), hidden(&page, action, "version")),
        ("closed".into(), "01-01\n12-25\nsome day".into()),
    ];
    for (day, hours) in ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].iter().zip(week) {
        form.push((day.to_string(), hours.to_string()));
    }
    let (status, page) = staff.submit(action, &form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert_field_error(&page, "closed", "&quot;some day&quot; is not a closed day");
    assert_eq!(stored_version(app).await, Some(1), "only the branch's save is stored");
}

#[tokio::test]
async fn patron_categories_are_added_edited_and_deleted_unless_patrons_have_them() {
    let lib = library().await;
    let app = &lib.app;
    let staff = sign_in_with(app, ADMIN_LOGIN, ADMIN_PASSWORD).await.unwrap();
    let (_, page) = staff.get("/staff/admin/categories").await;
    let add = |page: &str, code: &str, months: &str| -> Vec<(String, String)> {
        vec![
            ("form_token".into(), hidden(page, "/staff/admin/categories", "form_token")),
            ("version".into(), hidden(page, "/staff/admin/categories", "version")),
            ("code".into(), code.into()),
            ("validity_months".into(), months.into()),
            ("min_age".into(), String::new()),
            ("max_age".into(), String::new()),
        ]
    };
    // A bad number names its field and keeps it.
    let (status, body) = staff.submit("/staff/admin/categories", &add(&page, "HOMEBOUND", "two years")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_field_error(&body, "validity_months", "&quot;two years&quot; is not a number of months");
    assert!(body.contains("value=\"HOMEBOUND\"") && body.contains("value=\"two years\""));

    // The form sent back carries a fresh token: correcting it is a new action.
    let (status, body) = staff.submit("/staff/admin/categories", &add(&body, "HOMEBOUND", "24")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("<th scope=\"row\">HOMEBOUND</th><td>24 months</td>"), "{body}");
    // Registration takes the new category at once.
    let r = app
        .post(
            "/api/v1/patrons",
            &json!({"surname": "Home", "first_name": "Bound", "birth_date": "1950-02-03", "category": "HOMEBOUND",
                    "home_branch": "CEN"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);

    // Edited: 12 months.
    let action = "/staff/admin/categories/HOMEBOUND";
    let (_, page) = staff.get(action).await;
    let form: Vec<(String, String)> = vec![
        ("form_token".into(), hidden(&page, action, "form_token")),
        ("version".into(), hidden(&page, action, "version")),
        ("validity_months".into(), "12".into()),
        ("min_age".into(), "60".into()),
        ("max_age".into(), String::new()),
    ];
    let (status, body) = staff.submit(action, &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("<th scope=\"row\">HOMEBOUND</th><td>12 months</td><td>60</td><td>none</td>"), "{body}");

    // HOMEBOUND has a patron: not deleted, saying how many. INST has none: deleted.
    let delete = |page: &str, code: &str| -> Vec<(String, String)> {
        let action = format!("/staff/admin/categories/{code}/delete");
        vec![
            ("form_token".into(), hidden(page, &action, "form_token")),
            ("version".into(), hidden(page, &action, "version")),
        ]
    };
    let (status, body) = staff.submit("/staff/admin/categories/HOMEBOUND/delete", &delete(&body, "HOMEBOUND")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let refusal = &body[body.find("id=\"refusal\"").unwrap()..];
    assert!(refusal.contains("1 patron is in category HOMEBOUND"), "{refusal}");
    assert!(body.contains("<th scope=\"row\">HOMEBOUND</th>"));
    let (status, body) = staff.submit("/staff/admin/categories/INST/delete", &delete(&body, "INST")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("Category INST deleted") && !body.contains("<th scope=\"row\">INST</th>"), "{body}");
    let db = app.db.clone();
    let version =
        tokio::task::spawn_blocking(move || db.settings_document("patrons").unwrap().unwrap().version).await.unwrap();
    assert_eq!(version, 3);
}
