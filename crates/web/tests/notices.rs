//! Notices over HTTP: templates (defaults, saving, refusing an unknown placeholder by name), a
//! daily job run on demand (once per day), the notices log and the print batch.

mod common;
use common::*;

use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_over_http_sqlite() {
    notices_over_http(&spawn_app().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_over_http_postgresql() {
    if let Some(app) = spawn_app_on_postgres("notices").await {
        notices_over_http(&app).await;
        // The PostgreSQL client must not be dropped on a runtime thread.
        tokio::task::spawn_blocking(move || drop(app)).await.expect("join");
    }
}

async fn json_of(r: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(r.status(), status);
    r.json().await.expect("json")
}

async fn notices_over_http(app: &App) {
    // Every kind, for email and print, from the defaults; and the placeholders.
    let list = json_of(app.get("/api/v1/notice-templates").await, StatusCode::OK).await;
    let templates = list["templates"].as_array().expect("templates");
    assert_eq!(templates.len(), 14);
    assert!(templates.iter().all(|t| t["default"] == true));
    assert!(list["placeholders"].as_array().expect("list").iter().any(|p| p["name"] == "{items}"));

    // An unknown placeholder is refused when the template is saved, by name.
    let bad = json!({"subject": "Overdue", "body": "Dear {patron.first_name}, you owe {fines}."});
    let body = assert_error(
        app.put("/api/v1/notice-templates/overdue_1", &bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_template",
        Some("body"),
    )
    .await;
    assert!(body["error"]["message"].as_str().expect("message").contains("{fines}"), "{body}");
    assert_error(
        app.put("/api/v1/notice-templates/overdue_9", &json!({"subject": "s", "body": "b"})).await,
        StatusCode::NOT_FOUND,
        "notice_kind_not_found",
        Some("kind"),
    )
    .await;
    assert_error(
        app.put("/api/v1/notice-templates/overdue_1", &json!({"subject": "s"})).await,
        StatusCode::BAD_REQUEST,
        "missing_field",
        Some("body"),
    )
    .await;

    // The library's own wording for the first overdue notice, printed and emailed alike.
    let own =
        json!({"subject": "Overdue at {library.name}", "body": "{patron.first_name}, please bring back:\n{items}\n"});
    let saved = json_of(app.put("/api/v1/notice-templates/overdue_1", &own).await, StatusCode::OK).await;
    assert_eq!((saved["default"].clone(), saved["updated_by"].clone()), (json!(false), json!("admin")));
    let print = json_of(app.get("/api/v1/notice-templates/overdue_1?channel=print").await, StatusCode::OK).await;
    assert_eq!((print["subject"].clone(), print["stored_for"].clone()), (own["subject"].clone(), json!("email")));
    assert_error(
        app.get("/api/v1/notice-templates/overdue_1?channel=sms").await,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
        Some("channel"),
    )
    .await;

    // A patron without email, with a loan three days overdue.
    app.organisation().await;
    app.patrons(&["P1"]).await;
    let bib = app.record("Fahrenheit 451", 1953).await;
    let r = app.post(&format!("/api/v1/records/{bib}/items"), &item_json("31000000000451")).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || {
        let now = chrono::Utc::now();
        let barcode = catalog::Barcode::parse("31000000000451").expect("barcode");
        db.checkout("P1", &barcode, now - chrono::Duration::days(20), &mut |_| {
            Some(storage::loans::LoanWrite {
                checkout_branch: catalog::Code::parse("CEN").expect("code"),
                due_at: now - chrono::Duration::days(3),
                override_entry: None,
                holds: Vec::new(),
            })
        })
        .expect("checkout")
        .expect("lent");
    })
    .await
    .expect("join");

    assert_error(
        app.post("/api/v1/jobs/no_such_job/run", &json!({})).await,
        StatusCode::NOT_FOUND,
        "job_not_found",
        Some("name"),
    )
    .await;
    let ran = json_of(app.post("/api/v1/jobs/loan_notices/run", &json!({})).await, StatusCode::OK).await;
    assert_eq!(ran["outcome"], "ran", "{ran}");
    assert_eq!(ran["summary"], "1 overdue_1 notices (0 by email, 1 to print)");
    let again = json_of(app.post("/api/v1/jobs/loan_notices/run", &json!({})).await, StatusCode::OK).await;
    assert_eq!((again["outcome"].clone(), again["summary"].clone()), (json!("already_ran"), ran["summary"].clone()));
    let day = ran["day"].as_str().expect("day").to_string();
    assert_error(
        app.post("/api/v1/jobs/loan_notices/run?date=2999-01-01", &json!({})).await,
        StatusCode::BAD_REQUEST,
        "invalid_date",
        Some("date"),
    )
    .await;

    // The log, keyset paged.
    let log = json_of(app.get("/api/v1/notices?limit=1").await, StatusCode::OK).await;
    let n = &log["notices"][0];
    assert_eq!(
        (n["kind"].clone(), n["channel"].clone(), n["status"].clone()),
        (json!("overdue_1"), json!("print"), json!("print"))
    );
    assert_eq!((n["card_number"].clone(), n["recipient"].clone()), (json!("P1"), Value::Null));
    assert_eq!(n["subject"], "Overdue at Riverton <Test> Library");
    let after = log["next_after"].as_i64().expect("a full page has a next");
    let rest = json_of(app.get(&format!("/api/v1/notices?after={after}")).await, StatusCode::OK).await;
    assert_eq!(rest["notices"].as_array().expect("list").len(), 0);

    // The print batch: HTML, the patron's notice on a page of its own, the library's wording.
    let r = app.get(&format!("/api/v1/notices/print?date={day}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"].to_str().expect("type").starts_with("text/html"));
    let html = r.text().await.expect("text");
    assert_eq!(html.matches("<section class=\"notice\">").count(), 1);
    assert!(html.contains("P1 Reader (card P1)"), "{html}");
    assert!(html.contains("P1, please bring back:"), "{html}");
    assert!(html.contains("Fahrenheit 451"), "{html}");
    assert!(html.contains("Riverton &lt;Test&gt; Library"), "{html}");
    let empty = app.get("/api/v1/notices/print?date=2001-01-01").await.text().await.expect("text");
    assert!(empty.contains("No printed notices for 2001-01-01."));
    assert_error(
        app.get("/api/v1/notices/print?date=soon").await,
        StatusCode::BAD_REQUEST,
        "invalid_date",
        Some("date"),
    )
    .await;
}
