//! The patron API over HTTP on a real server: registration (issued cards, duplicates, field
//! errors), finding, reading and updating, card renewal and replacement, blocks refusing a
//! checkout, reading history only when kept, and a school's CSV list. On SQLite, and on
//! PostgreSQL when `SHELFMARK_TEST_DATABASE_URL` is set.

#![allow(clippy::unwrap_used)] // a test that fails on a missing member says so in its line

mod common;
use common::*;

use chrono::{Datelike, Months, NaiveDate, Utc};
use circulation::registration::{luhn_digit, CardNumberPattern};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn issued(n: u64) -> String {
    CardNumberPattern::default().issue(n).expect("card")
}

async fn body(r: reqwest::Response) -> Value {
    r.json().await.expect("json")
}

async fn created(r: reqwest::Response) -> Value {
    let status = r.status();
    let b = body(r).await;
    assert_eq!(status, StatusCode::CREATED, "{b}");
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patrons_on_sqlite() {
    patron_lifecycle(&spawn_app().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patrons_on_postgresql() {
    if let Some(app) = spawn_app_on_postgres("patrons").await {
        patron_lifecycle(&app).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_import_on_sqlite() {
    csv_import(&spawn_app().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_import_on_postgresql() {
    if let Some(app) = spawn_app_on_postgres("patrons_csv").await {
        csv_import(&app).await;
    }
}

async fn patron_lifecycle(app: &App) {
    app.organisation().await;
    let ana = json!({"surname": "Lopez", "first_name": "Ana", "birth_date": "1980-02-03",
                     "email": "ana@example.org", "category": "ADULT", "home_branch": "CEN", "phone": "555-0101"});
    let p = created(app.post("/api/v1/patrons", &ana).await).await;
    let card = issued(1);
    assert_eq!(p["card_number"], card.as_str());
    assert_eq!(
        (p["surname"].as_str(), p["phone"].as_str(), p["balance"].as_str()),
        (Some("Lopez"), Some("555-0101"), Some("0.00"))
    );
    assert_eq!((p["notice_preference"].as_str(), p["reading_history"].as_str()), (Some("email"), Some("default")));

    // A duplicate is refused naming who it duplicates, then registered once staff confirm.
    let twin = json!({"surname": "lopez", "first_name": "ANA", "birth_date": "1980-02-03",
                      "category": "ADULT", "home_branch": "CEN"});
    let e =
        assert_error(app.post("/api/v1/patrons", &twin).await, StatusCode::CONFLICT, "duplicate_patron", None).await;
    assert_eq!(
        e["error"]["duplicates"],
        json!([{"card_number": card, "name": "Ana Lopez", "reason": "same_name_and_birth_date"}])
    );
    let mut confirmed = twin.clone();
    confirmed["confirm_duplicate"] = json!(true);
    confirmed["reading_history"] = json!("keep");
    let twin_card =
        created(app.post("/api/v1/patrons", &confirmed).await).await["card_number"].as_str().unwrap().to_string();
    assert_eq!(twin_card, issued(2));

    // Field errors: each names its field; a form with several problems lists them all.
    let body_with = |k: &str, v: Value| {
        let mut b = json!({"surname": "Kim", "first_name": "Joon", "category": "ADULT", "home_branch": "CEN"});
        b[k] = v;
        b
    };
    assert_error(
        app.post("/api/v1/patrons", &body_with("birth_date", json!("1990-02-30"))).await,
        StatusCode::BAD_REQUEST,
        "invalid_date",
        Some("birth_date"),
    )
    .await;
    let wrong = format!("2123400000999{}", (luhn_digit("2123400000999") as u8 - b'0' + 1) % 10);
    assert_error(
        app.post("/api/v1/patrons", &body_with("card_number", json!(wrong))).await,
        StatusCode::BAD_REQUEST,
        "invalid_card_number",
        Some("card_number"),
    )
    .await;
    assert_error(
        app.post("/api/v1/patrons", &body_with("card_number", json!(card))).await,
        StatusCode::CONFLICT,
        "card_number_taken",
        Some("card_number"),
    )
    .await;
    assert_error(
        app.post("/api/v1/patrons", &body_with("category", json!("CHILD"))).await,
        StatusCode::BAD_REQUEST,
        "guarantor_required",
        Some("guarantor"),
    )
    .await;
    assert_error(
        app.post("/api/v1/patrons", &body_with("guarantor", json!("21234999999999"))).await,
        StatusCode::BAD_REQUEST,
        "unknown_guarantor",
        Some("guarantor"),
    )
    .await;
    assert_error(
        app.post("/api/v1/patrons", &body_with("home_branch", json!("NOWHERE"))).await,
        StatusCode::BAD_REQUEST,
        "unknown_branch",
        Some("home_branch"),
    )
    .await;
    assert_error(
        app.post("/api/v1/patrons", &body_with("notice_preference", json!("pigeon"))).await,
        StatusCode::BAD_REQUEST,
        "invalid_notice_preference",
        Some("notice_preference"),
    )
    .await;
    assert_error(
        app.post("/api/v1/patrons", &body_with("shoe_size", json!(9))).await,
        StatusCode::BAD_REQUEST,
        "unknown_field",
        Some("shoe_size"),
    )
    .await;
    let e = assert_error(
        app.post("/api/v1/patrons", &json!({"email": "not-an-email", "category": "ADULT", "home_branch": "CEN"})).await,
        StatusCode::BAD_REQUEST,
        "missing_field",
        Some("surname"),
    )
    .await;
    let fields: Vec<&str> =
        e["error"]["problems"].as_array().unwrap().iter().map(|p| p["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["surname", "first_name", "email"]);

    // Finding.
    let found = body(app.get("/api/v1/patrons?name=LOP").await).await;
    assert_eq!(found["patrons"].as_array().unwrap().len(), 2);
    let found = body(app.get(&format!("/api/v1/patrons?card={card}")).await).await;
    assert_eq!(found["patrons"][0]["first_name"], "Ana");
    let page = body(app.get("/api/v1/patrons?limit=1").await).await;
    let next = page["next_after"].as_i64().unwrap();
    let page2 = body(app.get(&format!("/api/v1/patrons?limit=1&after={next}")).await).await;
    assert_eq!(page2["patrons"][0]["card_number"], twin_card.as_str());
    assert_error(app.get("/api/v1/patrons?nmae=x").await, StatusCode::BAD_REQUEST, "invalid_parameter", Some("nmae"))
        .await;

    // Reading and updating: the GET body goes back with a change.
    let mut got = body(app.get(&format!("/api/v1/patrons/{card}")).await).await;
    assert_eq!(got["blocks"], json!([]));
    got["address"] = json!("4 Elm St");
    got["notice_preference"] = json!("sms");
    let r = app.put(&format!("/api/v1/patrons/{card}"), &got).await;
    assert_eq!(r.status(), StatusCode::OK);
    let updated = body(r).await;
    assert_eq!((updated["address"].as_str(), updated["notice_preference"].as_str()), (Some("4 Elm St"), Some("sms")));
    got["card_number"] = json!(issued(7));
    assert_error(
        app.put(&format!("/api/v1/patrons/{card}"), &got).await,
        StatusCode::BAD_REQUEST,
        "read_only_field",
        Some("card_number"),
    )
    .await;
    assert_error(app.get("/api/v1/patrons/21234999999999").await, StatusCode::NOT_FOUND, "unknown_card", Some("card"))
        .await;

    // The patron password (the self-check PIN): set, refused when too short, cleared; the hash
    // is what storage keeps, and it verifies only the password.
    let password_path = format!("/api/v1/patrons/{card}/password");
    assert_eq!(app.put(&password_path, &json!({"password": "4321"})).await.status(), StatusCode::NO_CONTENT);
    // Storage is synchronous (PostgreSQL's client runs a runtime of its own): off the async thread.
    let stored = |db: std::sync::Arc<dyn storage::Database>, card: String| async move {
        tokio::task::spawn_blocking(move || db.patron_password_hash(&card).unwrap()).await.unwrap()
    };
    let hash = stored(app.db.clone(), card.clone()).await.unwrap();
    assert!(
        hash.starts_with("$argon2id$")
            && accounts::verify_password("4321", &hash)
            && !accounts::verify_password("1234", &hash)
    );
    assert_error(
        app.put(&password_path, &json!({"password": "12"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_password",
        Some("password"),
    )
    .await;
    assert_error(app.put(&password_path, &json!({})).await, StatusCode::BAD_REQUEST, "missing_field", Some("password"))
        .await;
    assert_error(
        app.put("/api/v1/patrons/21234999999999/password", &json!({"password": "4321"})).await,
        StatusCode::NOT_FOUND,
        "unknown_card",
        Some("card"),
    )
    .await;
    assert_eq!(app.put(&password_path, &json!({"password": null})).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(stored(app.db.clone(), card.clone()).await, None);

    // Renewal: 36 months from the later of today and the expiry.
    let expiry = NaiveDate::parse_from_str(p["expiry_date"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    let r = app.post(&format!("/api/v1/patrons/{card}/renewal"), &json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(body(r).await["expiry_date"], (expiry + Months::new(36)).to_string());

    // A block refuses a checkout with its code and reason; lifted, the checkout goes through.
    let bib = app.record("Fahrenheit 451", 1953).await;
    for bc in ["31234000000001", "31234000000002"] {
        created(app.post(&format!("/api/v1/records/{bib}/items"), &item_json(bc)).await).await;
    }
    let block = created(
        app.post(&format!("/api/v1/patrons/{card}/blocks"), &json!({"kind": "manual", "reason": "Damaged books"}))
            .await,
    )
    .await;
    assert_eq!(
        (block["kind"].as_str(), block["placed_by"].as_str(), block["lifted_at"].as_str()),
        (Some("manual"), Some("admin"), None)
    );
    let checkout = json!({"card_number": card, "barcode": "31234000000001", "branch": "CEN"});
    let e =
        assert_error(app.post("/api/v1/checkouts", &checkout).await, StatusCode::CONFLICT, "checkout_refused", None)
            .await;
    assert_eq!(e["error"]["refusals"][0]["code"], "patron_blocked");
    assert_eq!(e["error"]["refusals"][0]["message"], "The patron is blocked: Damaged books.");
    assert_error(
        app.post(&format!("/api/v1/patrons/{card}/blocks"), &json!({"kind": "banned"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_block_kind",
        Some("kind"),
    )
    .await;
    let id = block["id"].as_i64().unwrap();
    let r = app.delete(&format!("/api/v1/patrons/{card}/blocks/{id}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(body(r).await["lifted_at"].is_string());
    assert_error(
        app.delete(&format!("/api/v1/patrons/{card}/blocks/999999")).await,
        StatusCode::NOT_FOUND,
        "block_not_found",
        Some("id"),
    )
    .await;
    created(app.post("/api/v1/checkouts", &checkout).await).await;
    let all = body(app.get(&format!("/api/v1/patrons/{card}/blocks")).await).await;
    assert_eq!(all["blocks"].as_array().unwrap().len(), 1);

    // Replacement: the old card is refused with its own code; the loan follows.
    let new = created(app.post(&format!("/api/v1/patrons/{card}/replacement"), &json!({"reason": "lost"})).await).await;
    let new_card = new["card_number"].as_str().unwrap().to_string();
    assert_eq!(new_card, issued(3));
    let old_checkout = json!({"card_number": card, "barcode": "31234000000002", "branch": "CEN"});
    assert_error(
        app.post("/api/v1/checkouts", &old_checkout).await,
        StatusCode::GONE,
        "card_replaced",
        Some("card_number"),
    )
    .await;
    assert_error(app.get(&format!("/api/v1/patrons/{card}")).await, StatusCode::GONE, "card_replaced", Some("card"))
        .await;
    let loans = body(app.get(&format!("/api/v1/patrons/{new_card}/loans")).await).await;
    assert_eq!(loans["loans"].as_array().unwrap().len(), 1);
    let got = body(app.get(&format!("/api/v1/patrons/{new_card}")).await).await;
    assert_eq!(got["replaced_cards"][0]["card_number"], card.as_str());

    // History: refused for a patron who did not choose to keep it; shown for one who did.
    assert_error(
        app.get(&format!("/api/v1/patrons/{new_card}/history")).await,
        StatusCode::NOT_FOUND,
        "history_not_kept",
        None,
    )
    .await;
    let twin_checkout = json!({"card_number": twin_card, "barcode": "31234000000002", "branch": "CEN"});
    created(app.post("/api/v1/checkouts", &twin_checkout).await).await;
    let r = app.post("/api/v1/checkins", &json!({"barcode": "31234000000002", "branch": "CEN"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let h = body(app.get(&format!("/api/v1/patrons/{twin_card}/history")).await).await;
    assert_eq!(h["history"][0]["title"], "Fahrenheit 451");
    assert_eq!(h["history"][0]["barcode"], "31234000000002");
}

/// The school list of the desk test, dated from today so ages hold whenever this runs.
fn school_list() -> (String, Vec<String>) {
    let today = Utc::now().date_naive();
    let born = |years: u32, days: u64| {
        (today.checked_sub_months(Months::new(12 * years)).unwrap() - chrono::Days::new(days)).to_string()
    };
    let body = "2123400000999";
    let wrong = format!("{body}{}", (luhn_digit(body) as u8 - b'0' + 1) % 10);
    let bad_date = format!("{}-13-01", today.year() - 17);
    let csv = format!(
        "Surname,First Name,Birth Date,Email,Category,Home Branch,Card Number\n\
         Okafor,Chidi,{a},chidi.okafor@school.example,STUDENT,CEN,\n\
         Nguyen,Linh,{bad_date},,STUDENT,CEN,\n\
         Okafor,Chidi,{a},,STUDENT,CEN,\n\
         ,Sam,{b},,STUDENT,CEN,\n\
         Garcia,Mateo,{c},,STUDENT,CEN,{wrong}\n\
         Brown,Tia,{d},,STUDENT,CEN,\n\
         \"Schmidt\",\"Lena, Marie\",{e},lena.schmidt@school.example,STUDENT,OAK,\n",
        a = born(17, 40),
        b = born(16, 3),
        c = born(17, 100),
        d = born(14, 10),
        e = born(18, 5),
    );
    let report = vec![
        format!("row 2: registered as card {}", issued(1)),
        format!("row 3: refused: field birth_date: \"{bad_date}\" is not a date (YYYY-MM-DD)"),
        format!("row 4: duplicate of card {}", issued(1)),
        "row 5: refused: field surname: surname is required".to_string(),
        format!("row 6: refused: field card_number: card number \"{wrong}\" has a wrong check digit: it was probably mistyped"),
        "row 7: refused: field guarantor: a patron under 16 needs a guarantor (a parent or carer's card number)".to_string(),
        format!("row 8: registered as card {}", issued(2)),
    ];
    (csv, report)
}

async fn csv_import(app: &App) {
    app.organisation().await;
    let (csv, expected) = school_list();

    let r = app.post_body("/api/v1/patrons/import?dry_run=true", "text/csv", csv.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let dry = body(r).await;
    assert_eq!(
        (dry["dry_run"].as_bool(), dry["registered"].as_u64(), dry["duplicates"].as_u64(), dry["refused"].as_u64()),
        (Some(true), Some(0), Some(1), Some(4))
    );
    assert_eq!(dry["rows"][2]["report"], "row 4: duplicate of row 2");
    assert_eq!(body(app.get("/api/v1/patrons").await).await["patrons"], json!([]), "a dry run writes nothing");

    let r = app.post_body("/api/v1/patrons/import", "text/csv; charset=utf-8", csv.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let done = body(r).await;
    let lines: Vec<&str> = done["rows"].as_array().unwrap().iter().map(|r| r["report"].as_str().unwrap()).collect();
    assert_eq!(lines, expected);
    assert_eq!(
        (done["registered"].as_u64(), done["duplicates"].as_u64(), done["refused"].as_u64()),
        (Some(2), Some(1), Some(4))
    );
    assert_eq!(
        done["rows"][1]["problems"],
        json!([{"field": "birth_date", "code": "invalid_date", "message": expected[1].trim_start_matches("row 3: refused: field birth_date: ")}])
    );
    let lena = body(app.get(&format!("/api/v1/patrons/{}", issued(2))).await).await;
    assert_eq!((lena["first_name"].as_str(), lena["home_branch"].as_str()), (Some("Lena, Marie"), Some("OAK")));

    assert_error(
        app.post_body("/api/v1/patrons/import", "application/json", "{}").await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        None,
    )
    .await;
    assert_error(
        app.post_body("/api/v1/patrons/import", "text/csv", "surname,first_name,shoe_size\nA,B,9\n").await,
        StatusCode::BAD_REQUEST,
        "invalid_csv",
        None,
    )
    .await;
}
