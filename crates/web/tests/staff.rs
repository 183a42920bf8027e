//! Staff accounts over HTTP: log-in, sessions and API tokens, permissions and branch limits,
//! overrides with their reason, and the audit log.

mod common;
use common::*;

use reqwest::header::SET_COOKIE;
use reqwest::StatusCode;
use serde_json::{json, Value};

const CARD: &str = "21234000000017";
const BARCODE: &str = "31234000000099";

/// Branches, a patron, a record with one copy at CEN.
async fn library(app: &App) {
    app.organisation().await;
    app.patrons(&[CARD]).await;
    let bib = app.record("The Lathe of Heaven", 1971).await;
    let r = app.post(&format!("/api/v1/records/{bib}/items"), &item_json(BARCODE)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

fn checkout(branch: &str) -> Value {
    json!({"card_number": CARD, "barcode": BARCODE, "branch": branch})
}

async fn audit(app: &App, query: &str) -> Vec<Value> {
    let r = app.client.get(app.url(&format!("/api/v1/audit?{query}"))).bearer_auth(&app.admin_token);
    let body: Value = r.send().await.expect("GET /audit").json().await.expect("json");
    body["entries"].as_array().cloned().unwrap_or_else(|| panic!("{body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_credentials_staff_routes_are_401_and_the_catalog_stays_public() {
    let app = spawn_app().await;
    library(&app).await;
    app.act_as(None);
    for path in ["/api/v1/items", "/api/v1/session", "/api/v1/staff", "/api/v1/audit", "/api/v1/shelf-list?branch=CEN"]
    {
        assert_error(app.get(path).await, StatusCode::UNAUTHORIZED, "unauthenticated", None).await;
    }
    let r = app.post("/api/v1/checkouts", &checkout("CEN")).await;
    assert_error(r, StatusCode::UNAUTHORIZED, "unauthenticated", None).await;
    let r = app.post("/api/v1/branches", &json!({"code": "NEW", "name": "New"})).await;
    assert_error(r, StatusCode::UNAUTHORIZED, "unauthenticated", None).await;
    // What the OPAC shows without a login.
    for path in
        ["/health", "/api/v1/records", "/api/v1/branches", "/api/v1/branches/CEN", "/api/v1/search?q=lathe", "/"]
    {
        let r = app.get(path).await;
        assert!(r.status().is_success(), "{path}: {}", r.status());
    }
    // A token nobody issued is refused, and the message says to sign in again.
    app.act_as(Some("smk_0000"));
    let body = assert_error(app.get("/api/v1/items").await, StatusCode::UNAUTHORIZED, "unauthenticated", None).await;
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("sign in")), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_volunteer_checks_in_and_shelves_but_may_not_check_out() {
    let app = spawn_app().await;
    library(&app).await;
    assert_eq!(app.post("/api/v1/checkouts", &checkout("CEN")).await.status(), StatusCode::CREATED);
    let volunteer = app.staff("vol", &["volunteer"], &[]).await;
    app.act_as(Some(&volunteer));

    let r = app.post("/api/v1/renewals", &json!({"barcode": BARCODE})).await;
    let body = assert_error(r, StatusCode::FORBIDDEN, "forbidden", None).await;
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("circulate")), "{body}");
    let r = app.post("/api/v1/checkins", &json!({"barcode": BARCODE, "branch": "CEN"})).await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let r = app.post("/api/v1/checkouts", &checkout("CEN")).await;
    let body = assert_error(r, StatusCode::FORBIDDEN, "forbidden", None).await;
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("the circulate permission")), "{body}");
    // Shelving: shelf lists and inventories, yes; cataloguing and set-up, no.
    assert_eq!(app.get("/api/v1/shelf-list?branch=CEN").await.status(), StatusCode::OK);
    let r = app.post("/api/v1/inventories", &json!({"branch": "CEN"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = app.post("/api/v1/records", &marc_json("Nope", 2000)).await;
    let body = assert_error(r, StatusCode::FORBIDDEN, "forbidden", None).await;
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("catalog")), "{body}");
    let r = app.put("/api/v1/item-types/DVD", &json!({"name": "DVD"})).await;
    assert_error(r, StatusCode::FORBIDDEN, "forbidden", None).await;
    assert_error(app.get("/api/v1/staff").await, StatusCode::FORBIDDEN, "forbidden", None).await;
    assert_error(app.get(&format!("/api/v1/patrons/{CARD}/loans")).await, StatusCode::FORBIDDEN, "forbidden", None)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_limited_to_a_branch_is_refused_at_another() {
    let app = spawn_app().await;
    library(&app).await;
    let clerk = app.staff("oakclerk", &["clerk"], &["OAK"]).await;
    app.act_as(Some(&clerk));
    let r = app.post("/api/v1/checkouts", &checkout("CEN")).await;
    let body = assert_error(r, StatusCode::FORBIDDEN, "forbidden", Some("branch")).await;
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("OAK") && m.contains("CEN")), "{body}");
    assert_error(app.get("/api/v1/shelf-list?branch=CEN").await, StatusCode::FORBIDDEN, "forbidden", Some("branch"))
        .await;
    // Nothing was lent by the refused request.
    app.act_as_admin();
    let loans: Value = app.get(&format!("/api/v1/patrons/{CARD}/loans")).await.json().await.expect("json");
    assert_eq!(loans["loans"].as_array().map(Vec::len), Some(0), "{loans}");
    app.act_as(Some(&clerk));
    assert_eq!(app.post("/api/v1/checkouts", &checkout("OAK")).await.status(), StatusCode::CREATED);
    // A renewal says where it is done: not at all, or at CEN, is refused; at OAK it goes ahead
    // (and is refused on its own terms: it would not move the due date).
    let r = app.post("/api/v1/renewals", &json!({"barcode": BARCODE})).await;
    assert_error(r, StatusCode::BAD_REQUEST, "missing_field", Some("branch")).await;
    let r = app.post("/api/v1/renewals", &json!({"barcode": BARCODE, "branch": "CEN"})).await;
    assert_error(r, StatusCode::FORBIDDEN, "forbidden", Some("branch")).await;
    let r = app.post("/api/v1/renewals", &json!({"barcode": BARCODE, "branch": "OAK"})).await;
    assert_error(r, StatusCode::CONFLICT, "renewal_refused", None).await;
    let r = app.post("/api/v1/checkins", &json!({"barcode": BARCODE, "branch": "CEN"})).await;
    assert_error(r, StatusCode::FORBIDDEN, "forbidden", Some("branch")).await;
    assert_eq!(
        app.post("/api/v1/checkins", &json!({"barcode": BARCODE, "branch": "OAK"})).await.status(),
        StatusCode::OK
    );
}

/// A patron whose card has expired: an overridable refusal.
async fn expired_patron(app: &App, card: &str) {
    let db = app.db.clone();
    let card = card.to_string();
    tokio::task::spawn_blocking(move || {
        db.upsert_patron(&storage::Patron {
            card_number: card,
            surname: "Lapsed".into(),
            first_name: "Lee".into(),
            category: catalog::Code::parse("ADULT").expect("code"),
            home_branch: catalog::Code::parse("CEN").expect("code"),
            expiry_date: "2020-01-31".into(),
            email: None,
        })
        .expect("patron");
    })
    .await
    .expect("join");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_override_needs_the_permission_and_is_logged_with_login_and_reason() {
    let app = spawn_app().await;
    library(&app).await;
    expired_patron(&app, "21234000000999").await;
    let lapsed = json!({"card_number": "21234000000999", "barcode": BARCODE, "branch": "CEN"});
    let with_override = |reason: &str| {
        let mut b = lapsed.clone();
        b["override"] = json!({"reason": reason});
        b
    };
    let clerk = app.staff("clerk1", &["clerk"], &[]).await;
    let supervisor = app.staff("super1", &["supervisor"], &[]).await;

    app.act_as(Some(&clerk));
    let body =
        assert_error(app.post("/api/v1/checkouts", &lapsed).await, StatusCode::CONFLICT, "checkout_refused", None)
            .await;
    assert_eq!(body["error"]["refusals"][0]["code"], "card_expired", "{body}");
    let r = app.post("/api/v1/checkouts", &with_override("renewing at the desk today")).await;
    let body = assert_error(r, StatusCode::FORBIDDEN, "forbidden", Some("override")).await;
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("override")), "{body}");

    app.act_as(Some(&supervisor));
    let r = app
        .post(
            "/api/v1/checkouts",
            &json!({"card_number": "21234000000999", "barcode": BARCODE,
                                                    "branch": "CEN", "override": {}}),
        )
        .await;
    assert_error(r, StatusCode::BAD_REQUEST, "missing_field", Some("override.reason")).await;
    let r = app.post("/api/v1/checkouts", &with_override("renewing at the desk today")).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);

    let overrides = override_log(&app).await;
    assert_eq!(
        overrides,
        vec![("super1".to_string(), "card_expired".to_string(), "renewing at the desk today".to_string())]
    );
}

/// (staff, overridden, reason) of every override_log row, read straight from the SQLite file.
async fn override_log(app: &App) -> Vec<(String, String, String)> {
    let path = app._dir.path().join("shelfmark.db");
    tokio::task::spawn_blocking(move || {
        let conn = rusqlite::Connection::open(path).expect("open");
        let mut st = conn.prepare("SELECT staff, overridden, reason FROM override_log ORDER BY id").expect("prepare");
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("query")
            .collect::<Result<Vec<_>, _>>()
            .expect("rows")
    })
    .await
    .expect("join")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_and_an_expired_or_ended_session_stop_working() {
    let app = spawn_app().await;
    // An API token: shown once, works, then revoked.
    let r = app.post("/api/v1/staff/admin/tokens", &json!({"name": "nightly export"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let made: Value = r.json().await.expect("json");
    let token = made["token"].as_str().expect("token").to_string();
    assert!(token.starts_with("smk_"), "{made}");
    let listed: Value = app.get("/api/v1/staff/admin/tokens").await.json().await.expect("json");
    assert!(!listed.to_string().contains(&token), "a token is shown once, never listed: {listed}");
    app.act_as(Some(&token));
    let me: Value = app.get("/api/v1/session").await.json().await.expect("json");
    assert_eq!(me["staff"]["login"], "admin");
    assert_eq!(me["credential"]["kind"], "api_token");
    app.act_as_admin();
    let r = app.delete(&format!("/api/v1/staff/admin/tokens/{}", made["id"])).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    app.act_as(Some(&token));
    assert_error(app.get("/api/v1/session").await, StatusCode::UNAUTHORIZED, "unauthenticated", None).await;

    // A session whose time is up.
    let (expired, hash) = accounts::new_token().expect("token");
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || {
        let now = chrono::Utc::now();
        db.create_session("admin", &hash, now - chrono::Duration::seconds(1), now - chrono::Duration::hours(12))
    })
    .await
    .expect("join")
    .expect("session");
    app.act_as(Some(&expired));
    assert_error(app.get("/api/v1/session").await, StatusCode::UNAUTHORIZED, "unauthenticated", None).await;

    // Log-out ends the session it is sent with.
    let session = app.login(ADMIN_LOGIN, ADMIN_PASSWORD).await.expect("login");
    app.act_as(Some(&session));
    assert_eq!(app.get("/api/v1/session").await.status(), StatusCode::OK);
    assert_eq!(app.delete("/api/v1/session").await.status(), StatusCode::NO_CONTENT);
    assert_error(app.get("/api/v1/session").await, StatusCode::UNAUTHORIZED, "unauthenticated", None).await;
    // The harness's own admin session is another session and still works.
    app.act_as_admin();
    assert_eq!(app.get("/api/v1/session").await.status(), StatusCode::OK);
    let kinds: Vec<String> = audit(&app, "staff=admin").await.iter().map(|e| e["action"].to_string()).collect();
    assert!(kinds.contains(&"\"logout\"".to_string()), "{kinds:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_log_in_gives_no_hint_and_is_audited() {
    let app = spawn_app().await;
    let wrong_password = app.login(ADMIN_LOGIN, "not the password at all").await.expect_err("refused");
    let unknown_login = app.login("nobody", "not the password at all").await.expect_err("refused");
    assert_eq!(wrong_password["error"]["code"], "unauthenticated");
    assert_eq!(wrong_password, unknown_login, "the answer must not say which was wrong");
    // A disabled account is refused the same way.
    app.staff("leaver", &["clerk"], &[]).await;
    let r = app.put("/api/v1/staff/leaver", &json!({"active": false})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let disabled = app.login("leaver", "leaver has a long password").await.expect_err("refused");
    assert_eq!(disabled, wrong_password);

    let failed = audit(&app, "action=login_failed").await;
    let who: Vec<&str> = failed.iter().filter_map(|e| e["staff"].as_str()).collect();
    assert_eq!(who, vec!["admin", "nobody", "leaver"]);
    assert!(failed.iter().all(|e| !e["at"].as_str().unwrap_or("").is_empty()));
    let logins = audit(&app, "action=login").await;
    assert!(logins.iter().any(|e| e["staff"] == "leaver"), "{logins:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stored_password_is_an_argon2id_phc_string_and_never_sent() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/staff",
            &json!({"login": "cat", "name": "Cat A. Loger", "roles": ["cataloger"], "password": "short"}),
        )
        .await;
    assert_error(r, StatusCode::BAD_REQUEST, "invalid_password", Some("password")).await;
    let r = app
        .post(
            "/api/v1/staff",
            &json!({"login": "cat", "name": "Cat A. Loger", "roles": ["cataloger"], "password": "a long enough phrase"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let body: Value = r.json().await.expect("json");
    assert!(!body.to_string().contains("argon2"), "{body}");
    assert_eq!(body["permissions"], json!(["catalog", "shelve"]));
    let db = app.db.clone();
    let (_, hash) = tokio::task::spawn_blocking(move || db.staff_credentials("cat"))
        .await
        .expect("join")
        .expect("read")
        .expect("cat");
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    assert!(!hash.contains("a long enough phrase"));
    assert!(accounts::verify_password("a long enough phrase", &hash));

    // Changing one's own password needs the current one, and ends the old sessions.
    let session = app.login("cat", "a long enough phrase").await.expect("login");
    app.act_as(Some(&session));
    let r = app.put("/api/v1/staff/cat/password", &json!({"password": "another long phrase"})).await;
    assert_error(r, StatusCode::FORBIDDEN, "forbidden", Some("current_password")).await;
    let r = app
        .put(
            "/api/v1/staff/cat/password",
            &json!({"password": "another long phrase", "current_password": "a long enough phrase"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_error(app.get("/api/v1/session").await, StatusCode::UNAUTHORIZED, "unauthenticated", None).await;
    assert!(app.login("cat", "a long enough phrase").await.is_err());
    assert!(app.login("cat", "another long phrase").await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_leaves_an_audit_entry_without_the_item_or_patron() {
    let app = spawn_app().await;
    library(&app).await;
    let clerk = app.staff("desk1", &["clerk"], &[]).await;
    app.act_as(Some(&clerk));
    assert_eq!(app.post("/api/v1/checkouts", &checkout("CEN")).await.status(), StatusCode::CREATED);
    // A refused request is not an action done: not audited as one.
    assert_eq!(app.post("/api/v1/checkouts", &checkout("CEN")).await.status(), StatusCode::CONFLICT);

    let entries = audit(&app, "staff=desk1&action=request").await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["target"], "POST /api/v1/checkouts");
    assert_eq!(entries[0]["details"], "committed with the change");
    let text = serde_json::to_string(&entries).expect("json");
    assert!(!text.contains(BARCODE) && !text.contains(CARD), "the audit log does not record reading: {text}");

    // Only Admin or Reports reads the log; keyset paging.
    let r = app.get("/api/v1/audit").await;
    let body = assert_error(r, StatusCode::FORBIDDEN, "forbidden", None).await;
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("admin or reports")), "{body}");
    let reports = app.staff("boss", &["supervisor"], &[]).await;
    app.act_as(Some(&reports));
    let first: Value = app.get("/api/v1/audit?limit=2").await.json().await.expect("json");
    let after = first["next_after"].as_i64().expect("a next page");
    let second: Value = app.get(&format!("/api/v1/audit?limit=2&after={after}")).await.json().await.expect("json");
    let first_ids: Vec<i64> =
        first["entries"].as_array().expect("entries").iter().filter_map(|e| e["id"].as_i64()).collect();
    let second_ids: Vec<i64> =
        second["entries"].as_array().expect("entries").iter().filter_map(|e| e["id"].as_i64()).collect();
    assert_eq!(first_ids.len(), 2);
    assert!(second_ids.iter().all(|id| *id > first_ids[1]), "{first_ids:?} {second_ids:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_signs_in_with_an_http_only_strict_cookie() {
    let app = spawn_app().await;
    let r = app
        .client
        .post(app.url("/api/v1/session"))
        .json(&json!({"login": ADMIN_LOGIN, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), StatusCode::CREATED);
    let cookie = r.headers()[SET_COOKIE].to_str().expect("ascii").to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let pair = cookie.split(';').next().expect("name=value").to_string();
    let r = app.client.get(app.url("/api/v1/session")).header("cookie", pair).send().await.expect("GET");
    assert_eq!(r.status(), StatusCode::OK);
    let me: Value = r.json().await.expect("json");
    assert_eq!(me["staff"]["login"], "admin");
    assert_eq!(me["credential"]["kind"], "session");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrators_manage_accounts() {
    let app = spawn_app().await;
    app.organisation().await;
    let r = app
        .post("/api/v1/staff", &json!({"login": "Bad Login", "name": "x", "roles": [], "password": "long enough pw"}))
        .await;
    assert_error(r, StatusCode::BAD_REQUEST, "invalid_login", Some("login")).await;
    let r = app
        .post("/api/v1/staff", &json!({"login": "j", "name": "x", "roles": ["janitor"], "password": "long enough pw"}))
        .await;
    assert_error(r, StatusCode::BAD_REQUEST, "invalid_role", Some("roles")).await;
    let r = app
        .post(
            "/api/v1/staff",
            &json!({"login": "j", "name": "x", "roles": [], "branches": ["ZZZ"], "password": "long enough pw"}),
        )
        .await;
    assert_error(r, StatusCode::BAD_REQUEST, "unknown_branch", Some("branches")).await;
    app.staff("jo", &["clerk"], &["CEN"]).await;
    let r = app
        .post("/api/v1/staff", &json!({"login": "jo", "name": "x", "roles": [], "password": "long enough pw"}))
        .await;
    assert_error(r, StatusCode::CONFLICT, "login_taken", Some("login")).await;
    let r = app.put("/api/v1/staff/jo", &json!({"roles": ["supervisor"], "branches": []})).await;
    let jo: Value = r.json().await.expect("json");
    assert_eq!(jo["roles"], json!(["supervisor"]));
    assert_eq!(jo["branches"], json!([]));
    let all: Value = app.get("/api/v1/staff").await.json().await.expect("json");
    let logins: Vec<&str> =
        all["staff"].as_array().expect("staff").iter().filter_map(|s| s["login"].as_str()).collect();
    assert_eq!(logins, vec!["admin", "jo"]);
    assert_error(app.get("/api/v1/staff/nobody").await, StatusCode::NOT_FOUND, "staff_not_found", None).await;
    let r = app.put("/api/v1/staff/admin", &json!({"active": false})).await;
    assert_error(r, StatusCode::FORBIDDEN, "forbidden", None).await;
}
