//! What the staff-screen benchmarks share: a catalog of benchmark items at branch MAIN, the
//! staff account they sign in with, the server on a loopback port, and a clerk's browser (one
//! keep-alive connection with the session cookie from `/staff/login`, one request at a time, so
//! each request pays for the session lookup and each write for its audit entry and commit).

use super::Error;
use catalog::{Barcode, BibDerived, Branch, Code, ItemStatus, ItemType, NewItem, ShelvingLocation};
use std::sync::Arc;
use std::time::{Duration, Instant};
use storage::{Database, ImportCandidate, NewRecord, OnMatch};

pub const ITEMS_PER_RECORD: usize = 10;

/// The database a benchmark runs on: `--database-url`'s when given, else SQLite in `dir`.
pub fn open_database(url: Option<&str>, dir: &std::path::Path) -> Result<Arc<dyn Database>, Error> {
    let config = match url {
        Some(u) => storage::StorageConfig::parse(u),
        None => storage::StorageConfig::parse(dir.to_str().ok_or("temp dir path")?),
    };
    Ok(storage::open(&config)?)
}
const LOGIN: &str = "desk1";
const PASSWORD: &str = "bench desk password";

pub fn code(s: &str) -> Result<Code, Error> {
    Ok(Code::parse(s)?)
}

/// The barcode of the `i`th benchmark item.
pub fn barcode(i: usize) -> String {
    format!("3{i:013}")
}

/// Branch MAIN, location STACKS, item type BK, and `items` available items at MAIN, ten to a
/// record titled "`label` record N", the `i`th with call number `call_number(i)`.
pub fn load_items(
    db: &dyn Database,
    items: usize,
    label: &str,
    call_number: impl Fn(usize) -> String,
) -> Result<(), Error> {
    db.upsert_branch(&Branch { code: code("MAIN")?, name: "Main Library".into() })?;
    db.upsert_location(&ShelvingLocation { code: code("STACKS")?, name: "Stacks".into() })?;
    db.upsert_item_type(&ItemType { code: code("BK")?, name: "Book".into(), loanable: true })?;
    let started = Instant::now();
    let (mut batch, mut made, mut record_no) = (Vec::new(), 0, 0);
    while made < items {
        record_no += 1;
        let derived = BibDerived { title: format!("{label} record {record_no}"), ..BibDerived::default() };
        let mut marc = format!("bench record {record_no}").into_bytes();
        marc.push(0x1d);
        let n = ITEMS_PER_RECORD.min(items - made);
        let its: Vec<NewItem> = (made..made + n)
            .map(|i| {
                Ok(NewItem {
                    barcode: Barcode::parse(&barcode(i))?,
                    home_branch: code("MAIN")?,
                    holding_branch: code("MAIN")?,
                    location: Some(code("STACKS")?),
                    collection: None,
                    call_number: Some(call_number(i)),
                    item_type: code("BK")?,
                    price: None,
                    public_note: None,
                    staff_note: None,
                    materials_specified: None,
                    status: ItemStatus::Available,
                    acquired_on: None,
                })
            })
            .collect::<Result<_, Error>>()?;
        made += n;
        batch.push(ImportCandidate { record: NewRecord { marc, derived, row: None }, items: its });
        if batch.len() == 100 || made == items {
            db.import_batch(&batch, OnMatch::Add)?;
            batch.clear();
        }
    }
    eprintln!("loaded {items} items in {:.1} s ({})", started.elapsed().as_secs_f64(), db.backend());
    Ok(())
}

/// The account [`Clerk::log_in`] signs in with, with these roles at every branch.
pub fn create_account(db: &dyn Database, roles: &[&str]) -> Result<(), Error> {
    db.create_staff(
        &storage::staff::NewStaff {
            login: LOGIN.into(),
            name: "Desk one".into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            branches: vec![],
            password_hash: accounts::hash_password(PASSWORD)?,
        },
        chrono::Utc::now(),
    )?;
    Ok(())
}

/// The real router on a free loopback port, on a runtime of two workers; its base URL.
pub fn serve(db: Arc<dyn Database>, desk: desk::Desk) -> Result<(tokio::runtime::Runtime, String), Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let base = format!("http://{}", listener.local_addr()?);
    runtime.spawn(web::serve(listener, web::router(db, web::WebConfig::default(), desk, None)));
    Ok((runtime, base))
}

pub struct Clerk {
    pub client: reqwest::blocking::Client,
    pub base: String,
    pub cookie: String,
}

impl Clerk {
    /// Logs in as a browser does: the form, then the cookie.
    pub fn log_in(base: &str) -> Result<Clerk, Error> {
        let client = reqwest::blocking::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
        let r = client.post(format!("{base}/staff/login")).form(&[("login", LOGIN), ("password", PASSWORD)]).send()?;
        let cookie = r
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .ok_or("the log-in set no cookie")?
            .to_string();
        Ok(Clerk { client, base: base.to_string(), cookie })
    }

    /// A page that must answer 2xx with `expect` in it: the time, and the page.
    pub fn page(&self, path: &str, expect: &str) -> Result<(Duration, String), Error> {
        let started = Instant::now();
        let r = self.client.get(format!("{}{path}", self.base)).header("cookie", &self.cookie).send()?;
        let status = r.status();
        let body = r.text()?;
        let took = started.elapsed();
        if !status.is_success() || !body.contains(expect) {
            return Err(format!("GET {path}: {status}, no {expect:?} in the page").into());
        }
        Ok((took, body))
    }

    pub fn get(&self, path: &str, expect: &str) -> Result<Duration, Error> {
        Ok(self.page(path, expect)?.0)
    }

    /// A form post answered with a page that holds `expect`, or (with `expect` `None`) with
    /// `303 See Other`.
    pub fn post(&self, path: &str, form: &[(&str, &str)], expect: Option<&str>) -> Result<Duration, Error> {
        let started = Instant::now();
        let r = self.client.post(format!("{}{path}", self.base)).header("cookie", &self.cookie).form(form).send()?;
        let status = r.status();
        let body = r.text()?;
        let took = started.elapsed();
        let answered = match expect {
            Some(e) => status.is_success() && body.contains(e),
            None => status == reqwest::StatusCode::SEE_OTHER,
        };
        if !answered {
            return Err(format!("POST {path}: {status}, expected {expect:?}: {body}").into());
        }
        Ok(took)
    }

    /// A JSON API call with the same session, for the set-up.
    pub fn api(&self, path: &str, body: &serde_json::Value) -> Result<serde_json::Value, Error> {
        let r = self.client.post(format!("{}{path}", self.base)).header("cookie", &self.cookie).json(body).send()?;
        let status = r.status();
        let text = r.text()?;
        if !status.is_success() {
            return Err(format!("POST {path}: {status}: {text}").into());
        }
        Ok(serde_json::from_str(&text)?)
    }
}
