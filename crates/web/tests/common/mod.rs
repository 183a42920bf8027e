//! The test harness every web test binary shares: the real server on 127.0.0.1:0 over a real
//! database (SQLite in a temporary directory, or PostgreSQL in a schema of its own), spoken to
//! over HTTP with reqwest, and the fixtures the tests build on.

#![allow(dead_code)] // each test binary uses its own part of the harness

use reqwest::header::CONTENT_TYPE;
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};

pub struct App {
    pub base: String,
    pub client: Client,
    pub db: std::sync::Arc<dyn storage::Database>,
    pub _dir: tempfile::TempDir,
    /// The token every request sends as `Authorization: Bearer`; `None`: anonymous. Starts as
    /// the administrator's session ([`ADMIN_LOGIN`]); [`App::act_as`] switches it.
    pub token: std::sync::Mutex<Option<String>>,
    /// The administrator's session token.
    pub admin_token: String,
}

/// The administrator every test server starts with.
pub const ADMIN_LOGIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

pub async fn spawn_app() -> App {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().to_str().expect("utf-8 temp path").to_string();
    spawn_app_on(storage::StorageConfig::parse(&path), dir).await
}

/// The server over PostgreSQL in a schema of its own, when `SHELFMARK_TEST_DATABASE_URL` names
/// a server; `None` otherwise, except under `CI`, where PostgreSQL must be tested.
pub async fn spawn_app_on_postgres(test: &str) -> Option<App> {
    let url = match std::env::var("SHELFMARK_TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ if std::env::var_os("CI").is_some() => panic!("CI is set but SHELFMARK_TEST_DATABASE_URL is not"),
        _ => {
            eprintln!("skipping PostgreSQL: SHELFMARK_TEST_DATABASE_URL is not set");
            return None;
        }
    };
    let mut options = storage::PostgresOptions::new(url);
    options.schema = Some(format!("web_{test}_{}", std::process::id()));
    Some(spawn_app_on(storage::StorageConfig::Postgres(options), tempfile::tempdir().expect("temp dir")).await)
}

pub async fn spawn_app_on(storage_config: storage::StorageConfig, dir: tempfile::TempDir) -> App {
    let config = web::WebConfig { library_name: "Riverton <Test> Library".into(), ..Default::default() };
    spawn_app_with(storage_config, dir, config).await
}

/// The server on SQLite in a temporary directory, with these settings.
pub async fn spawn_app_configured(config: web::WebConfig) -> App {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().to_str().expect("utf-8 temp path").to_string();
    spawn_app_with(storage::StorageConfig::parse(&path), dir, config).await
}

pub async fn spawn_app_with(
    storage_config: storage::StorageConfig,
    dir: tempfile::TempDir,
    config: web::WebConfig,
) -> App {
    let db = tokio::task::spawn_blocking(move || storage::open(&storage_config))
        .await
        .expect("join")
        .expect("open database");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let desk = desk::Desk::new(desk::CirculationSettings::default().build().expect("default circulation settings"));
    let index_dir = dir.path().join("index");
    let search_db = db.clone();
    let search = tokio::task::spawn_blocking(move || {
        web::Search::start(&index_dir, search_db, search::IndexSettings::default())
    })
    .await
    .expect("join")
    .expect("search index");
    tokio::spawn(web::serve(listener, web::router(db.clone(), config, desk, Some(search))));
    let admin_db = db.clone();
    tokio::task::spawn_blocking(move || {
        let password_hash = accounts::hash_password(ADMIN_PASSWORD).expect("hash");
        let admin = storage::staff::NewStaff {
            login: ADMIN_LOGIN.into(),
            name: "Administrator".into(),
            roles: vec!["admin".into()],
            branches: vec![],
            password_hash,
        };
        admin_db.create_staff(&admin, chrono::Utc::now()).expect("admin account");
    })
    .await
    .expect("join");
    let mut app = App {
        base: format!("http://{addr}"),
        client: Client::new(),
        db,
        _dir: dir,
        token: std::sync::Mutex::new(None),
        admin_token: String::new(),
    };
    app.admin_token = app.login(ADMIN_LOGIN, ADMIN_PASSWORD).await.expect("the administrator logs in");
    app.act_as(Some(&app.admin_token.clone()));
    app
}

impl App {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request to `path` carrying the current token (see [`App::act_as`]).
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let r = self.client.request(method, self.url(path));
        match self.token.lock().unwrap_or_else(|e| e.into_inner()).as_deref() {
            Some(token) => r.bearer_auth(token),
            None => r,
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(reqwest::Method::GET, path).send().await.expect("GET")
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.request(reqwest::Method::POST, path).json(body).send().await.expect("POST")
    }

    pub async fn put(&self, path: &str, body: &Value) -> Response {
        self.request(reqwest::Method::PUT, path).json(body).send().await.expect("PUT")
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Response {
        self.request(reqwest::Method::PATCH, path).json(body).send().await.expect("PATCH")
    }

    /// A body that is not JSON (a CSV upload), with its content type.
    pub async fn post_body(&self, path: &str, content_type: &str, body: impl Into<reqwest::Body>) -> Response {
        self.request(reqwest::Method::POST, path)
            .header(CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .expect("POST")
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.request(reqwest::Method::DELETE, path).send().await.expect("DELETE")
    }

    /// Logs in (without switching who the app acts as); the session token, or the error body.
    pub async fn login(&self, login: &str, password: &str) -> Result<String, Value> {
        let r = self
            .client
            .post(self.url("/api/v1/session"))
            .json(&json!({"login": login, "password": password}))
            .send()
            .await
            .expect("POST /session");
        let ok = r.status() == StatusCode::CREATED;
        let body: Value = r.json().await.expect("json");
        if ok {
            Ok(body["token"].as_str().expect("token").to_string())
        } else {
            Err(body)
        }
    }

    /// Sends `token` with every request from now on; `None`: anonymous.
    pub fn act_as(&self, token: Option<&str>) {
        *self.token.lock().unwrap_or_else(|e| e.into_inner()) = token.map(str::to_string);
    }

    /// Acts as the administrator again.
    pub fn act_as_admin(&self) {
        self.act_as(Some(&self.admin_token));
    }

    /// Creates a staff account (as the administrator) and logs it in; its session token. The
    /// app goes on acting as whoever it acted as before.
    pub async fn staff(&self, login: &str, roles: &[&str], branches: &[&str]) -> String {
        let password = format!("{login} has a long password");
        let r = self
            .client
            .post(self.url("/api/v1/staff"))
            .bearer_auth(&self.admin_token)
            .json(&json!({"login": login, "name": login, "roles": roles, "branches": branches, "password": password}))
            .send()
            .await
            .expect("POST /staff");
        assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
        self.login(login, &password).await.expect("the new account logs in")
    }

    /// Branches CEN and OAK, locations AF and REF, item types BK and REF.
    pub async fn organisation(&self) {
        for (code, name) in [("CEN", "Central Library"), ("OAK", "Oak Hill Branch")] {
            let r = self.post("/api/v1/branches", &json!({"code": code, "name": name})).await;
            assert_eq!(r.status(), StatusCode::CREATED);
        }
        for (code, name) in [("AF", "Adult Fiction"), ("REF", "Reference")] {
            let r = self.put(&format!("/api/v1/locations/{code}"), &json!({"name": name})).await;
            assert_eq!(r.status(), StatusCode::CREATED);
        }
        let r = self.put("/api/v1/item-types/BK", &json!({"name": "Book"})).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let r = self.put("/api/v1/item-types/REF", &json!({"name": "Reference", "loanable": false})).await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }

    /// Creates a record; returns its id.
    pub async fn record(&self, title: &str, year: u32) -> i64 {
        let r = self.post("/api/v1/records", &marc_json(title, year)).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
        let body: Value = r.json().await.expect("json");
        body["id"].as_i64().expect("id")
    }
}

pub fn marc_json(title: &str, year: u32) -> Value {
    json!({
        "leader": "00000nam a2200000 i 4500",
        "fields": [
            {"008": format!("200101s{year}    nyu           000 1 eng d")},
            {"020": {"ind1": " ", "ind2": " ", "subfields": [{"a": "0-306-40615-2"}]}},
            {"100": {"ind1": "1", "ind2": " ", "subfields": [{"a": "Bradbury, Ray,"}, {"e": "author."}]}},
            {"245": {"ind1": "1", "ind2": "0", "subfields": [{"a": format!("{title} /")}, {"c": "Ray Bradbury."}]}},
            {"264": {"ind1": " ", "ind2": "1", "subfields": [{"a": "New York :"}, {"b": "Ballantine,"}, {"c": year.to_string()}]}},
            {"650": {"ind1": " ", "ind2": "0", "subfields": [{"a": "Censorship"}, {"v": "Fiction."}]}}
        ]
    })
}

pub fn item_json(barcode: &str) -> Value {
    json!({"barcode": barcode, "home_branch": "CEN", "location": "AF", "item_type": "BK",
           "call_number": "FIC BRADBURY", "price": "24.95", "acquired_on": "2024-03-01"})
}

/// Asserts an error response: status, `error.code` and `error.field`.
pub async fn assert_error(r: Response, status: StatusCode, code: &str, field: Option<&str>) -> Value {
    assert_eq!(r.status(), status);
    assert!(r.headers()[CONTENT_TYPE].to_str().unwrap_or("").starts_with("application/json"));
    let body: Value = r.json().await.expect("error body is JSON");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert_eq!(body["error"]["field"].as_str(), field, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    body
}

impl App {
    /// Registers patrons (the patron API comes with issue 4's registration work).
    pub async fn patrons(&self, cards: &[&str]) {
        let db = self.db.clone();
        let cards: Vec<String> = cards.iter().map(|c| c.to_string()).collect();
        tokio::task::spawn_blocking(move || {
            for card in cards {
                db.upsert_patron(&storage::Patron {
                    card_number: card.clone(),
                    surname: "Reader".into(),
                    first_name: card,
                    category: catalog::Code::parse("ADULT").expect("code"),
                    home_branch: catalog::Code::parse("CEN").expect("code"),
                    expiry_date: "2099-12-31".into(),
                    email: None,
                })
                .expect("patron");
            }
        })
        .await
        .expect("join");
    }
}

/// A file of the shared test data (`data/` of `SHELFMARK_SHARED`, else `../shared` beside the
/// checkout), e.g. `marc/koha-sample/koha-sample-with-items.mrc`.
pub fn shared_data(relative: &str) -> std::path::PathBuf {
    let shared = std::env::var_os("SHELFMARK_SHARED")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let path = shared.join("data").join(relative);
    // Chromium's file input refuses a path with `..` in it, which the default above has.
    path.canonicalize().unwrap_or(path)
}

impl App {
    /// Imports the Koha sample catalogue (real records) through the import path, adding every
    /// record; its 952 items too when `with_items`.
    pub async fn import_koha_sample(&self, with_items: bool) -> import::ImportReport {
        let db = self.db.clone();
        let dir = self._dir.path().to_path_buf();
        let report = tokio::task::spawn_blocking(move || {
            let path = shared_data("marc/koha-sample/koha-sample-with-items.mrc");
            let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let mut rejects = import::RejectSink::at(&dir.join("rejects"));
            let mut options = import::ImportOptions { on_match: storage::OnMatch::Add, ..Default::default() };
            if !with_items {
                options.items = None;
            }
            import::import_reader(
                &*db,
                std::io::BufReader::new(file),
                &options,
                &mut rejects,
                &|_, _: &import::ImportReport| {},
            )
            .expect("import")
        })
        .await
        .expect("join");
        assert!(report.added > 400, "{report:?}");
        report
    }

    /// Waits (up to a minute) until the search index has applied every change.
    pub async fn wait_for_index(&self) {
        let started = std::time::Instant::now();
        loop {
            let health: Value = self.get("/health").await.json().await.expect("health");
            if health["search"]["lag"] == 0 {
                return;
            }
            assert!(started.elapsed() < std::time::Duration::from_secs(60), "index not caught up: {health}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

/// Percent-encodes a query-string value (every byte but the unreserved ones).
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
