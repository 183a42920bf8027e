//! The staff client's administration over plain HTTP: the rule matrix and its explainer (the
//! same answers as `GET /api/v1/circulation/rule`), branches, shelving locations and item types,
//! staff accounts, calendars and emergency closures, patron categories and notice templates.
//! Every form error names its field next to the field, a clerk is refused, and a double submit
//! acts once.

#![allow(clippy::unwrap_used)]

mod common;
mod staff_fixture;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;
use staff_fixture::*;

async fn admin(app: &App) -> Clerk {
    sign_in_with(app, ADMIN_LOGIN, ADMIN_PASSWORD).await.unwrap()
}

fn rules_settings() -> desk::CirculationSettings {
    let row = |b: &str, c: &str, t: &str| desk::RuleSettingsText {
        branch: b.into(),
        category: c.into(),
        item_type: t.into(),
        ..Default::default()
    };
    let mut settings = desk::CirculationSettings::default();
    settings.rules.extend([
        desk::RuleSettingsText { loan_period: Some("14 days".into()), ..row("CEN", "*", "*") },
        desk::RuleSettingsText { max_loans: Some(5), ..row("CEN", "CHILD", "*") },
        desk::RuleSettingsText {
            loan_period: Some("7 days".into()),
            fine: Some("1.00 per day".into()),
            ..row("*", "*", "DVD")
        },
        desk::RuleSettingsText { renewals_allowed: Some(5), hold_allowed: Some(false), ..row("OAK", "ADULT", "BK") },
    ]);
    settings
}

#[tokio::test]
async fn the_rule_explainer_gives_the_json_apis_answer_and_says_why() {
    let app = spawn_app_with_circulation(rules_settings()).await;
    app.organisation().await;
    let staff = admin(&app).await;

    // Every row of the matrix is in the table, the default last.
    let (status, page) = staff.get("/staff/admin/rules").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let table = &page[page.find("id=\"rule-rows\"").unwrap()..];
    for key in ["CEN", "CHILD", "DVD", "OAK"] {
        assert!(table.contains(&format!("<td>{key}</td>")) || table.contains(&format!(">{key}</th>")), "{key}");
    }
    assert!(table.contains("<td>14 days</td>") && table.contains("<td>1.00 per day</td>"), "{table}");
    assert!(page.contains("id=\"governing\">checkout branch</strong>"));

    for (branch, category, item_type, winner, passed_over) in [
        ("CEN", "ADULT", "BK", "CEN/*/*", vec!["CEN/CHILD/*: its category is CHILD, not ADULT", "OAK/ADULT/BK: its branch is OAK, not CEN"]),
        ("CEN", "CHILD", "DVD", "CEN/CHILD/*", vec!["OAK/ADULT/BK: its branch is OAK, not CEN; its category is ADULT, not CHILD; its item type is BK, not DVD"]),
        ("OAK", "ADULT", "BK", "OAK/ADULT/BK", vec![]),
        ("OAK", "CHILD", "DVD", "*/*/DVD", vec!["CEN/*/*: its branch is CEN, not OAK", "CEN/CHILD/*: its branch is CEN, not OAK"]),
    ] {
        let query = format!("branch={branch}&category={category}&item_type={item_type}");
        let (status, page) = staff.get(&format!("/staff/admin/rules?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}: {page}");
        assert_eq!(inner(&page, "id=\"winner\""), html(winner), "{query}");
        // The selects keep the question.
        assert!(page.contains(&format!("<option value=\"{branch}\" selected>")), "{query}");
        let passed = if passed_over.is_empty() { inner(&page, "id=\"passed-over\"").to_string() } else {
            let at = page.find("id=\"passed-over\"").unwrap();
            page[at..at + page[at..].find("</ul>").unwrap()].to_string()
        };
        for why in &passed_over {
            assert!(passed.contains(&html(why)), "{query}: {why:?} not in {passed}");
        }
        if passed_over.is_empty() {
            assert!(passed.starts_with("None"), "{query}: {passed}");
        }
        // Each value and the row it came from, as the JSON API answers.
        let api: Value = app.get(&format!("/api/v1/circulation/rule?{query}")).await.json().await.unwrap();
        let parameters = api["parameters"].as_array().unwrap();
        assert_eq!(parameters.len(), 13);
        for p in parameters {
            let name = p["parameter"].as_str().unwrap();
            let row = inner(&page, &format!("<tr id=\"param-{name}\""));
            let _ = row;
            let at = page.find(&format!("<tr id=\"param-{name}\"")).unwrap();
            let tr = &page[at..at + page[at..].find("</tr>").unwrap()];
            assert_eq!(inner(tr, "class=\"value\""), html(p["value"].as_str().unwrap()), "{query} {name}");
            assert!(inner(tr, "class=\"from\"").starts_with(p["from_row"].as_str().unwrap()), "{query} {name}: {tr}");
        }
        let matched: Vec<&str> = api["rows_matched"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        let at = page.find("<ol id=\"matched\">").unwrap();
        let listed = &page[at + "<ol id=\"matched\">".len()..at + page[at..].find("</ol>").unwrap()];
        let listed: Vec<String> = listed
            .split("</li>")
            .filter(|li| !li.is_empty())
            .map(|li| li.trim_start_matches("<li>").trim_end_matches(" (wins)").to_string())
            .collect();
        let matched: Vec<String> = matched.iter().map(|m| html(m)).collect();
        assert_eq!(listed, matched, "{query}");
    }
    // Spot checks against the settings themselves, so both answers cannot be wrong together.
    let (_, page) = staff.get("/staff/admin/rules?branch=CEN&category=CHILD&item_type=DVD").await;
    let at = page.find("<tr id=\"param-loan_period\"").unwrap();
    assert!(page[at..].starts_with("<tr id=\"param-loan_period\" class=\"fallback\"><th scope=\"row\">Loan period</th><td class=\"value\">14 days</td><td class=\"from\">CEN/*/*"));
    let at = page.find("<tr id=\"param-max_loans\"").unwrap();
    assert!(page[at..].contains("<td class=\"value\">5</td><td class=\"from\">CEN/CHILD/*</td>"));

    // A question left half asked names the field, and keeps the rest.
    let (status, page) = staff.get("/staff/admin/rules?branch=&category=ADULT&item_type=BK").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_field_error(&page, "branch", "Choose a branch");
    assert!(page.contains("<option value=\"ADULT\" selected>") && page.contains("<option value=\"BK\" selected>"));
    assert!(!page.contains("id=\"answer\""));
    let (status, page) = staff.get("/staff/admin/rules?branch=CEN&category=AD%20ULT&item_type=BK").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_field_error(&page, "category", "Category");
}

#[tokio::test]
async fn a_clerk_is_refused_the_administration() {
    let app = spawn_app().await;
    app.organisation().await;
    account(&app, "clerk", &["clerk"], &[]).await;
    let clerk = sign_in(&app, "clerk").await;
    let (_, home) = clerk.get("/staff").await;
    assert!(!home.contains("href=\"/staff/admin\">Administration</a>:"), "{home}");
    for path in ["/staff/admin", "/staff/admin/rules"] {
        let (status, page) = clerk.get(path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(page.contains("configure permission"), "{path}: {page}");
    }
    let staff = admin(&app).await;
    let (_, home) = staff.get("/staff").await;
    assert!(home.contains("href=\"/staff/admin\">Administration</a>:"));
    let (status, page) = staff.get("/staff/admin").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("href=\"/staff/admin/rules\""));
}

#[tokio::test]
async fn branches_locations_and_item_types_are_added_and_edited_with_errors_on_their_fields() {
    let lib = library().await;
    let app = &lib.app;
    let staff = admin(app).await;

    for (path, code, name) in [
        ("/staff/admin/branches", "EAST", "East Side Branch"),
        ("/staff/admin/locations", "JUV", "Children's"),
        ("/staff/admin/item-types", "DVD", "DVD"),
    ] {
        let (status, page) = staff.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        // A bad code and a blank name: both named, next to their fields, the text kept.
        let token = form_token(&page, path);
        let (status, page) =
            staff.submit(path, &[("form_token", token.as_str()), ("code", "NOT A CODE"), ("name", "")]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_field_error(&page, "code", "Code:");
        assert_field_error(&page, "name", "Name:");
        assert!(page.contains("value=\"NOT A CODE\""), "{path}: the code typed is kept");
        // Added.
        let token = form_token(&page, path);
        let (status, page) =
            staff.submit(path, &[("form_token", token.as_str()), ("code", code), ("name", name)]).await;
        assert_eq!(status, StatusCode::OK, "{path}: {page}");
        assert!(page.contains(&format!("{code} saved.")), "{path}: {page}");
        assert!(page.contains(&format!("<th scope=\"row\">{code}</th><td>{}</td>", html(name))), "{path}");
        // A code already there is refused on the code field, not overwritten.
        let token = form_token(&page, path);
        let (status, page) =
            staff.submit(path, &[("form_token", token.as_str()), ("code", code), ("name", "Someone else's")]).await;
        assert_eq!(status, StatusCode::CONFLICT, "{path}");
        assert_field_error(&page, "code", "already exists");
        // Edited: the name changes, and a blank one is refused on the name field.
        let edit = format!("{path}/{code}");
        let (status, page) = staff.get(&edit).await;
        assert_eq!(status, StatusCode::OK);
        let token = form_token(&page, &edit);
        let (status, page) = staff.submit(&edit, &[("form_token", token.as_str()), ("name", "  ")]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_field_error(&page, "name", "Name:");
        let token = form_token(&page, &edit);
        let renamed = format!("{name} (renamed)");
        let (status, _) = staff.submit(&edit, &[("form_token", token.as_str()), ("name", renamed.as_str())]).await;
        assert_eq!(status, StatusCode::OK);
    }
    // The JSON API sees what the pages did.
    let b: Value = app.get("/api/v1/branches/EAST").await.json().await.unwrap();
    assert_eq!(b["name"], "East Side Branch (renamed)");
    let types: Value = app.get("/api/v1/item-types").await.json().await.unwrap();
    let dvd = types["item_types"].as_array().unwrap().iter().find(|t| t["code"] == "DVD").unwrap().clone();
    // The edit form sent no "loanable": an item type edited that way is reference only.
    assert_eq!(dvd["name"], "DVD (renamed)");
    assert_eq!(dvd["loanable"], false);
    let locations: Value = app.get("/api/v1/locations").await.json().await.unwrap();
    assert!(locations["locations"].as_array().unwrap().iter().any(|l| l["name"] == "Children's (renamed)"));

    // A branch with items is not deleted, and the page says why; an unused one goes.
    let (_, page) = staff.get("/staff/admin/branches").await;
    let token = form_token(&page, "/staff/admin/branches/CEN/delete");
    let (status, page) = staff.submit("/staff/admin/branches/CEN/delete", &[("form_token", token.as_str())]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let why = inner(&page, "id=\"refusal\"><h2>Not deleted</h2><p");
    assert!(why.contains("CEN") && why.contains("item"), "{why}");
    assert_eq!(app.get("/api/v1/branches/CEN").await.status(), StatusCode::OK);
    let token = form_token(&page, "/staff/admin/branches/EAST/delete");
    let (status, page) = staff.submit("/staff/admin/branches/EAST/delete", &[("form_token", token.as_str())]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Branch EAST deleted."));
    assert_eq!(app.get("/api/v1/branches/EAST").await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_staff_account_made_on_the_page_logs_in_with_its_roles_and_a_double_submit_makes_one() {
    let lib = library().await;
    let app = &lib.app;
    let staff = admin(app).await;
    let (status, page) = staff.get("/staff/admin/accounts").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(">admin</a></th>"), "the administrator is listed");

    // Problems are named on their fields, and what was typed stays (never the password).
    let token = form_token(&page, "/staff/admin/accounts");
    let form = [
        ("form_token", token.as_str()),
        ("login", "oakclerk"),
        ("name", "Olive Oak"),
        ("password", "short"),
        ("branches", "OAK"),
    ];
    let (status, page) = staff.submit("/staff/admin/accounts", &form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_field_error(&page, "roles", "Roles:");
    assert!(page.contains("value=\"oakclerk\"") && page.contains("value=\"Olive Oak\""));
    assert!(page.contains("value=\"OAK\" checked"), "the ticked branch stays ticked");
    let token = form_token(&page, "/staff/admin/accounts");
    let form = [
        ("form_token", token.as_str()),
        ("login", "oakclerk"),
        ("name", "Olive Oak"),
        ("password", "short"),
        ("roles", "clerk"),
        ("branches", "OAK"),
    ];
    let (status, page) = staff.submit("/staff/admin/accounts", &form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_field_error(&page, "password", "");
    assert!(!page.contains("value=\"short\""), "a password is never written back");

    // Sent twice with one token (a double-click): one account, the same answer twice.
    let token = form_token(&page, "/staff/admin/accounts");
    let secret = password("oakclerk");
    let form = [
        ("form_token", token.as_str()),
        ("login", "oakclerk"),
        ("name", "Olive Oak"),
        ("password", secret.as_str()),
        ("roles", "clerk"),
        ("roles", "volunteer"),
        ("branches", "OAK"),
    ];
    let (first, second) =
        tokio::join!(staff.submit("/staff/admin/accounts", &form), staff.submit("/staff/admin/accounts", &form));
    assert_eq!(first.0, StatusCode::OK, "{}", first.1);
    assert_eq!(second.0, StatusCode::OK, "{}", second.1);
    assert!(first.1.contains("Account oakclerk created"));
    let all: Value = app.get("/api/v1/staff").await.json().await.unwrap();
    let made: Vec<&Value> = all["staff"].as_array().unwrap().iter().filter(|a| a["login"] == "oakclerk").collect();
    assert_eq!(made.len(), 1);
    assert_eq!(made[0]["roles"], serde_json::json!(["clerk", "volunteer"]));
    assert_eq!(made[0]["branches"], serde_json::json!(["OAK"]));
    // A new token is a new form: the same login again is refused on the login field.
    let (_, page) = staff.get("/staff/admin/accounts").await;
    let token = form_token(&page, "/staff/admin/accounts");
    let again = [
        ("form_token", token.as_str()),
        ("login", "oakclerk"),
        ("name", "Other"),
        ("password", secret.as_str()),
        ("roles", "clerk"),
    ];
    let (status, page) = staff.submit("/staff/admin/accounts", &again).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_field_error(&page, "login", "taken");

    // The account logs in, with a clerk's desk at Oak Hill and no administration.
    let clerk = sign_in_with(app, "oakclerk", &secret).await.expect("the new account logs in");
    let (status, _) = clerk.get("/staff/desk?branch=OAK").await;
    assert_eq!(status, StatusCode::OK);
    let (status, page) = clerk.get("/staff/desk?branch=CEN").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "limited to OAK: {page}");
    let (status, _) = clerk.get("/staff/admin/accounts").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Edited: supervisor instead of clerk, every branch; then deactivated, and it cannot log in.
    let (status, page) = staff.get("/staff/admin/accounts/oakclerk").await;
    assert_eq!(status, StatusCode::OK);
    let token = form_token(&page, "/staff/admin/accounts/oakclerk");
    let form = [("form_token", token.as_str()), ("name", "Olive Oak"), ("roles", "supervisor"), ("active", "yes")];
    let (status, page) = staff.submit("/staff/admin/accounts/oakclerk", &form).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Saved."));
    let one: Value = app.get("/api/v1/staff/oakclerk").await.json().await.unwrap();
    assert_eq!(one["roles"], serde_json::json!(["supervisor"]));
    assert_eq!(one["branches"], serde_json::json!([]));
    let token = form_token(&page, "/staff/admin/accounts/oakclerk");
    let form = [("form_token", token.as_str()), ("name", "Olive Oak"), ("roles", "supervisor")];
    let (status, _) = staff.submit("/staff/admin/accounts/oakclerk", &form).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        sign_in_with(app, "oakclerk", &secret).await.map_err(|(status, _)| status).err(),
        Some(StatusCode::UNAUTHORIZED)
    );

    // An administrator cannot deactivate themselves: said on the field.
    let (_, page) = staff.get("/staff/admin/accounts/admin").await;
    let token = form_token(&page, "/staff/admin/accounts/admin");
    let form = [("form_token", token.as_str()), ("name", "Administrator"), ("roles", "admin")];
    let (status, page) = staff.submit("/staff/admin/accounts/admin", &form).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_field_error(&page, "active", "cannot disable their own account");

    // A password reset: a short one is named, a good one works; tokens are listed and revoked.
    account(app, "helper", &["volunteer"], &[]).await;
    let r = app.post("/api/v1/staff/helper/tokens", &serde_json::json!({"name": "sorter script"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let made: Value = r.json().await.unwrap();
    let (_, page) = staff.get("/staff/admin/accounts/helper").await;
    assert!(page.contains("sorter script"));
    let token = form_token(&page, "/staff/admin/accounts/helper/password");
    let (status, page) = staff
        .submit("/staff/admin/accounts/helper/password", &[("form_token", token.as_str()), ("password", "abc")])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_field_error(&page, "password", "");
    let token = form_token(&page, "/staff/admin/accounts/helper/password");
    let fresh = "a brand new long secret";
    let (status, page) = staff
        .submit("/staff/admin/accounts/helper/password", &[("form_token", token.as_str()), ("password", fresh)])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("The password is set"));
    assert!(sign_in_with(app, "helper", fresh).await.is_ok());
    let revoke = format!("/staff/admin/accounts/helper/tokens/{}/revoke", made["id"]);
    let token = form_token(&page, &revoke);
    let (status, page) = staff.submit(&revoke, &[("form_token", token.as_str())]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("The token is revoked.") && page.contains("revoked "));
    let r =
        app.client.get(app.url("/api/v1/session")).bearer_auth(made["token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_emergency_closure_declared_on_the_page_moves_a_due_date() {
    let lib = library().await;
    let app = &lib.app;
    let r = app
        .post("/api/v1/checkouts", &serde_json::json!({"card_number": READER, "barcode": BOOKS[0], "branch": "CEN"}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let due = loans(app, READER).await[0]["due"]["local"].as_str().unwrap().to_string();
    let day = &due[..10];
    let staff = admin(app).await;
    let (status, page) = staff.get("/staff/admin/calendars").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"hours\"") && page.contains("<td>09:00-20:00</td>") && page.contains("every 12-25"));

    // Each missing part is named on its field; a past day is refused on the day.
    let token = form_token(&page, "/staff/admin/calendars/closures");
    let (status, page) =
        staff.submit("/staff/admin/calendars/closures", &[("form_token", token.as_str()), ("day", "next week")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_field_error(&page, "day", "not a date");
    assert_field_error(&page, "reason", "Reason:");
    assert_field_error(&page, "branches", "Branches:");
    assert!(page.contains("value=\"next week\""));
    let token = form_token(&page, "/staff/admin/calendars/closures");
    let form = [("form_token", token.as_str()), ("day", "2001-01-02"), ("reason", "Snow"), ("branches", "CEN")];
    let (status, page) = staff.submit("/staff/admin/calendars/closures", &form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_field_error(&page, "day", "has passed");

    // Closed on the due day at Central: the loan moves, and the page says so.
    let token = form_token(&page, "/staff/admin/calendars/closures");
    let form = [("form_token", token.as_str()), ("day", day), ("reason", "Burst pipe"), ("branches", "CEN")];
    let (status, page) = staff.submit("/staff/admin/calendars/closures", &form).await;
    assert_eq!(status, StatusCode::CREATED, "{page}");
    assert_eq!(inner(&page, "id=\"loans-moved\""), "1");
    let moved = loans(app, READER).await[0]["due"]["local"].as_str().unwrap().to_string();
    assert!(moved[..10] > *day, "{due} -> {moved}");
    assert!(inner(&page, "id=\"moved\"><li").contains(&moved), "the page shows the new due date {moved}");
    let future = &page[page.find("id=\"closures-future\"").unwrap()..];
    assert!(future.contains(day) && future.contains("Burst pipe") && future.contains("by admin"));
    // The same day again is refused on the day.
    let token = form_token(&page, "/staff/admin/calendars/closures");
    let form = [("form_token", token.as_str()), ("day", day), ("reason", "Again"), ("branches", "CEN")];
    let (status, page) = staff.submit("/staff/admin/calendars/closures", &form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_field_error(&page, "day", "already closed");
}

#[tokio::test]
async fn patron_categories_and_notice_templates() {
    let app = spawn_app().await;
    let staff = admin(&app).await;
    let (status, page) = staff.get("/staff/admin/categories").await;
    assert_eq!(status, StatusCode::OK);
    // The default [patrons] settings: CHILD cards last 24 months, up to age 12, with a guarantor.
    assert!(
        page.contains("<th scope=\"row\">CHILD</th><td>24 months</td><td>none</td><td>12</td><td>required</td>"),
        "{page}"
    );
    assert!(page.contains("younger than 16 need a guarantor"));

    let (status, page) = staff.get("/staff/admin/notices").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("href=\"/staff/admin/notices/overdue_1/email\""), "{page}");
    let path = "/staff/admin/notices/hold_ready/email";
    let (status, page) = staff.get(path).await;
    assert_eq!(status, StatusCode::OK);
    // The default, filled from the sample: the library's name in the subject, the items listed.
    let preview = &page[page.find("id=\"preview\"").unwrap()..];
    assert!(inner(preview, "<p><strong>Subject:</strong").contains("Riverton &lt;Test&gt; Library: your hold is ready"));
    assert!(inner(preview, "<pre").contains("Fahrenheit 451 (barcode 31234000000011): pick up by"), "{preview}");
    // An unknown placeholder is named on the text field, which keeps what was typed.
    let token = form_token(&page, path);
    let body = "Dear {patron.first_name},\n{items}\nSee you {patron.nickname}.";
    let form = [("form_token", token.as_str()), ("subject", "Ready for you"), ("body", body), ("action", "save")];
    let (status, page) = staff.submit(path, &form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_field_error(&page, "body", "patron.nickname");
    assert!(page.contains(&html("See you {patron.nickname}.")));
    // Preview does not save; Save does, and the API serves it.
    let token = form_token(&page, path);
    let body = "Dear {patron.first_name},\n{items}\nFrom {library.name}.";
    let form = [("form_token", token.as_str()), ("subject", "Ready for you"), ("body", body), ("action", "preview")];
    let (status, page) = staff.submit(path, &form).await;
    assert_eq!(status, StatusCode::OK);
    let preview = &page[page.find("id=\"preview\"").unwrap()..];
    assert!(inner(preview, "<pre").starts_with("Dear Ada,\n"), "{preview}");
    let api: Value = app.get("/api/v1/notice-templates/hold_ready").await.json().await.unwrap();
    assert_eq!(api["default"], true);
    let token = form_token(&page, path);
    let form = [("form_token", token.as_str()), ("subject", "Ready for you"), ("body", body), ("action", "save")];
    let (status, page) = staff.submit(path, &form).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("hold_ready email template is saved"), "{page}");
    let api: Value = app.get("/api/v1/notice-templates/hold_ready").await.json().await.unwrap();
    assert_eq!(api["default"], false);
    assert_eq!(api["subject"], "Ready for you");
    assert_eq!(api["body"], body);
    assert_eq!(api["updated_by"], ADMIN_LOGIN);
}
