//! The library the staff-client tests work in: branches CEN and OAK, real records from the Koha
//! sample catalogue with copies at CEN (three books, a fourth for the blocked patron, one
//! reference copy that does not lend), patrons, and the staff accounts of the scenario.

#![allow(dead_code)] // each test binary uses its own part of the fixture

use crate::common::*;
use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

pub const READER: &str = "21234000000017";
pub const HOLDER: &str = "21234000000025";
pub const BLOCKED: &str = "21234000000033";
pub const BOOKS: [&str; 3] = ["31234000000011", "31234000000029", "31234000000037"];
pub const SPARE: &str = "31234000000045";
pub const REFERENCE: &str = "31234000000052";

pub struct Library {
    pub app: App,
    /// The record of each of [`BOOKS`], and its title as the catalog derives it.
    pub records: Vec<(i64, String)>,
}

fn shared() -> std::path::PathBuf {
    match std::env::var_os("SHELFMARK_SHARED") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    }
}

/// The first `n` records of the Koha sample with a plain title, as MARCXML.
fn real_records(n: usize) -> Vec<String> {
    let path = shared().join("data/marc/koha-sample/koha-sample-with-items.mrc");
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    data.split(|b| *b == 0x1d)
        .filter(|r| r.len() > 24)
        .filter_map(|r| {
            let mut bytes = r.to_vec();
            bytes.push(0x1d);
            marc::iso2709::read_one(&bytes).ok()
        })
        .map(|r| marc::xml::to_marcxml(&r))
        .take(n)
        .collect()
}

pub fn password(login: &str) -> String {
    format!("{login} has a long password")
}

pub async fn library() -> Library {
    library_in(spawn_app().await).await
}

/// The library in `app`'s database (SQLite or PostgreSQL).
pub async fn library_in(app: App) -> Library {
    app.organisation().await;
    let mut records = Vec::new();
    for xml in real_records(5) {
        let r = app
            .request(reqwest::Method::POST, "/api/v1/records")
            .header("content-type", "application/marcxml+xml")
            .body(xml)
            .send()
            .await
            .expect("POST record");
        assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
        let body: Value = r.json().await.expect("json");
        let id = body["id"].as_i64().expect("id");
        let stored: Value = app.get(&format!("/api/v1/records/{id}")).await.json().await.expect("json");
        let title = stored["title"].as_str().expect("title").to_string();
        records.push((id, title));
    }
    let copies = BOOKS.iter().chain([&SPARE]).zip(records.iter()).map(|(b, (id, _))| (*b, *id, "BK"));
    for (barcode, bib, item_type) in copies.chain([(REFERENCE, records[4].0, "REF")]) {
        let mut item = item_json(barcode);
        item["item_type"] = json!(item_type);
        if item_type == "REF" {
            item["location"] = json!("REF");
        }
        let r = app.post(&format!("/api/v1/records/{bib}/items"), &item).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    }
    app.patrons(&[READER, HOLDER, BLOCKED]).await;
    let r = app
        .post(&format!("/api/v1/patrons/{BLOCKED}/blocks"), &json!({"kind": "manual", "reason": "Unpaid damage bill"}))
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    records.truncate(4);
    Library { app, records }
}

/// Creates a staff account with [`password`] (the harness logs it in once too).
pub async fn account(app: &App, login: &str, roles: &[&str], branches: &[&str]) {
    app.staff(login, roles, branches).await;
}

/// The patron's open loans, as the JSON API lists them.
pub async fn loans(app: &App, card: &str) -> Vec<Value> {
    let body: Value = app.get(&format!("/api/v1/patrons/{card}/loans")).await.json().await.expect("json");
    body["loans"].as_array().cloned().unwrap_or_default()
}

/// The server (SQLite, no search index) with the library's own circulation settings, for the
/// pages that show them (the administration's rule matrix and calendars).
pub async fn spawn_app_with_circulation(settings: desk::CirculationSettings) -> App {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().to_str().expect("utf-8 temp path").to_string();
    let storage_config = storage::StorageConfig::parse(&path);
    let db = tokio::task::spawn_blocking(move || storage::open(&storage_config))
        .await
        .expect("join")
        .expect("open database");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let desk = desk::Desk::new(settings.build().expect("the test's circulation settings"));
    let config = web::WebConfig { library_name: "Riverton <Test> Library".into(), ..Default::default() };
    tokio::spawn(web::serve(listener, web::router(db.clone(), config, desk, None)));
    let admin_db = db.clone();
    tokio::task::spawn_blocking(move || {
        let admin = storage::staff::NewStaff {
            login: ADMIN_LOGIN.into(),
            name: "Administrator".into(),
            roles: vec!["admin".into()],
            branches: vec![],
            password_hash: accounts::hash_password(ADMIN_PASSWORD).expect("hash"),
        };
        admin_db.create_staff(&admin, chrono::Utc::now()).expect("admin account");
    })
    .await
    .expect("join");
    let mut app = App {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        db,
        _dir: dir,
        token: std::sync::Mutex::new(None),
        admin_token: String::new(),
    };
    app.admin_token = app.login(ADMIN_LOGIN, ADMIN_PASSWORD).await.expect("the administrator logs in");
    app.act_as(Some(&app.admin_token.clone()));
    app
}

/// A member of staff signed in to the staff client: their session cookie on every request.
pub struct Clerk {
    pub client: Client,
    pub base: String,
    pub cookie: String,
}

/// Signs in through the login form with the fixture's password for `login`.
pub async fn sign_in(app: &App, login: &str) -> Clerk {
    match sign_in_with(app, login, &password(login)).await {
        Ok(clerk) => clerk,
        Err((status, _)) => panic!("{login} could not log in: {status}"),
    }
}

/// Signs in through the login form with `secret`; a refused log-in gives its status and page.
pub async fn sign_in_with(app: &App, login: &str, secret: &str) -> Result<Clerk, (StatusCode, String)> {
    let client = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = client
        .post(app.url("/staff/login"))
        .form(&[("login", login), ("password", secret), ("next", "/staff")])
        .send()
        .await
        .unwrap();
    if r.status() != StatusCode::SEE_OTHER {
        return Err((r.status(), r.text().await.unwrap()));
    }
    let cookie = r.headers()[SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_string();
    Ok(Clerk { client, base: app.base.clone(), cookie })
}

/// An answer to a form: its status, where a 303 sends the browser, and the page.
pub struct Answer {
    pub status: StatusCode,
    pub location: String,
    pub page: String,
}

impl Clerk {
    pub async fn get_response(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base)).header("cookie", &self.cookie).send().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = self.get_response(path).await;
        (r.status(), r.text().await.unwrap())
    }

    pub async fn post_response<F: serde::Serialize + ?Sized>(&self, path: &str, form: &F) -> reqwest::Response {
        self.client.post(format!("{}{path}", self.base)).header("cookie", &self.cookie).form(form).send().await.unwrap()
    }

    pub async fn post<F: serde::Serialize + ?Sized>(&self, path: &str, form: &F) -> (StatusCode, String) {
        let r = self.post_response(path, form).await;
        (r.status(), r.text().await.unwrap())
    }

    /// Posts a form and keeps where a redirect goes.
    pub async fn send<F: serde::Serialize + ?Sized>(&self, path: &str, form: &F) -> Answer {
        let r = self.post_response(path, form).await;
        let location = r.headers().get(LOCATION).map(|l| l.to_str().unwrap().to_string()).unwrap_or_default();
        Answer { status: r.status(), location, page: r.text().await.unwrap() }
    }

    /// Posts a form as a browser does: a redirect is followed (with the cookie) to the page it
    /// names.
    pub async fn submit<F: serde::Serialize + ?Sized>(&self, path: &str, form: &F) -> (StatusCode, String) {
        let r = self.post_response(path, form).await;
        if r.status() == StatusCode::SEE_OTHER {
            let to = r.headers()[LOCATION].to_str().unwrap().to_string();
            return self.get(&to).await;
        }
        (r.status(), r.text().await.unwrap())
    }
}

/// Text as a page writes it.
pub fn html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// The text inside the first element that starts with `open` (up to the next `</`).
pub fn inner<'a>(page: &'a str, open: &str) -> &'a str {
    let at = page.find(open).unwrap_or_else(|| panic!("{open} is not on the page:\n{page}"));
    let rest = &page[at + open.len()..];
    let rest = &rest[rest.find('>').unwrap() + 1..];
    &rest[..rest.find("</").unwrap()]
}

/// Asserts the form came back with `field`'s problem next to it, saying `says`.
pub fn assert_field_error(page: &str, field: &str, says: &str) {
    assert!(
        page.contains(&format!("id=\"{field}\"")) && page.contains(&format!("aria-describedby=\"{field}-error\"")),
        "{field} is not marked invalid:\n{page}"
    );
    let message = inner(page, &format!("id=\"{field}-error\""));
    assert!(message.contains(says), "{field}'s message {message:?} does not say {says:?}");
}

/// The value of the hidden `form_token` field of the form posting to `action`.
pub fn form_token(page: &str, action: &str) -> String {
    let at = page.find(&format!("action=\"{action}\"")).unwrap_or_else(|| panic!("no form to {action}:\n{page}"));
    token(&page[at..])
}

/// The value of the hidden `form_token` field.
pub fn token(page: &str) -> String {
    let at = page.find("name=\"form_token\" value=\"").expect("a form token");
    let rest = &page[at + "name=\"form_token\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}
