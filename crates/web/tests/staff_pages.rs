//! The staff client's pages over plain HTTP: who may open which screen (no session: to the
//! log-in; a patron's card and PIN do not open it; a volunteer may check in but not check out;
//! a clerk limited to a branch cannot work at another), a double submit that must not check
//! out twice, the override with its reason in the override log, renewals, the receipt, and a
//! backdated book-drop return.

#![allow(clippy::unwrap_used)]

mod common;
mod staff_fixture;

use common::*;
use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use staff_fixture::*;

fn no_redirects() -> Client {
    Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn sign_in(app: &App, login: &str, secret: &str) -> Result<Clerk, (StatusCode, String)> {
    let client = no_redirects();
    let r = client
        .post(app.url("/staff/login"))
        .form(&[("login", login), ("password", secret), ("next", "/staff/desk")])
        .send()
        .await
        .unwrap();
    if r.status() != StatusCode::SEE_OTHER {
        return Err((r.status(), r.text().await.unwrap()));
    }
    assert_eq!(r.headers()[LOCATION], "/staff/desk");
    let set = r.headers()[SET_COOKIE].to_str().unwrap().to_string();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
    let cookie = set.split(';').next().unwrap().to_string();
    Ok(Clerk { client, base: app.base.clone(), cookie })
}

/// The value of the hidden `session` field of the checkout form.
fn session_field(page: &str) -> String {
    let at = page.find("name=\"session\" value=\"").expect("a session field");
    let rest = &page[at + "name=\"session\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

#[tokio::test]
async fn screens_need_a_staff_session_and_the_right_permission() {
    let lib = library().await;
    let app = &lib.app;

    // No session: every screen sends the browser to the log-in, which comes back.
    let anonymous = no_redirects();
    for path in ["/staff", "/staff/desk?card=21234000000017", "/staff/checkin", "/staff/desk/receipt?card=x"] {
        let r = anonymous.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        let to = r.headers()[LOCATION].to_str().unwrap().to_string();
        assert!(to.starts_with("/staff/login?next=%2Fstaff"), "{path} -> {to}");
    }
    let r = anonymous.post(app.url("/staff/desk/checkout")).form(&[("barcode", BOOKS[0])]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/staff/login?next=%2Fstaff");
    // A stale cookie is no session either.
    let r = anonymous.get(app.url("/staff/desk")).header("cookie", "shelfmark_session=expired").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The log-in page sends nobody to another site afterwards.
    let page = anonymous.get(app.url("/staff/login?next=https://evil.example/")).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("name=\"next\" value=\"/staff\""));

    // A patron's card and PIN are not a staff log-in.
    let r = app.put(&format!("/api/v1/patrons/{READER}/password"), &json!({"password": "lantern-7391"})).await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let (status, page) = sign_in(app, READER, "lantern-7391").await.err().expect("a patron is refused");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(page.contains("role=\"alert\"") && page.contains("The login or the password is wrong"), "{page}");
    let (status, page) = sign_in(app, "", "x").await.err().unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("Enter your login."));

    // A volunteer checks in but may not use the desk: 403 pages that say why.
    account(app, "vol", &["volunteer"], &[]).await;
    let vol = sign_in(app, "vol", &password("vol")).await.unwrap();
    let (status, page) = vol.get("/staff/desk").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("circulate permission") && page.contains("vol"), "{page}");
    let form = [("card", READER), ("barcode", BOOKS[0]), ("branch", "CEN")];
    let (status, _) = vol.post("/staff/desk/checkout", &form).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(loans(app, READER).await.is_empty(), "the refused checkout wrote nothing");
    let (status, home) = vol.get("/staff").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("/staff/checkin") && !home.contains("href=\"/staff/desk\">Circulation desk</a>:"));
    let (status, page) = vol.get("/staff/checkin").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"item-barcode\""));

    // A cataloger has neither screen.
    account(app, "cat", &["cataloger"], &[]).await;
    let cat = sign_in(app, "cat", &password("cat")).await.unwrap();
    assert_eq!(cat.get("/staff/desk").await.0, StatusCode::FORBIDDEN);
    assert_eq!(cat.get("/staff/checkin").await.0, StatusCode::FORBIDDEN);

    // A clerk limited to Oak Hill cannot work the Central desk.
    account(app, "oakdesk", &["clerk"], &["OAK"]).await;
    let oak = sign_in(app, "oakdesk", &password("oakdesk")).await.unwrap();
    let (status, page) = oak.get("/staff/desk?branch=CEN").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("may act only at OAK"), "{page}");
    let (status, page) = oak.get("/staff/checkin").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Working at <strong>Oak Hill Branch</strong>"));
    let (status, _) = oak.get("/staff/desk?branch=NOPE").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Log-out ends the session: the cookie no longer opens the desk.
    let (status, _) = vol.post("/staff/logout", &[] as &[(&str, &str)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(vol.get("/staff/checkin").await.0, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_double_submit_checks_out_once_and_the_visit_prints() {
    double_submit_and_visit(&library().await).await;
}

/// The same on PostgreSQL, whose row locks (not SQLite's one writer) keep the double submit
/// to one loan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_double_submit_checks_out_once_on_postgresql() {
    let Some(app) = spawn_app_on_postgres("staffdesk").await else { return };
    let lib = library_in(app).await;
    double_submit_and_visit(&lib).await;
    // The PostgreSQL client must not be dropped on a runtime thread.
    tokio::task::spawn_blocking(move || drop(lib)).await.expect("join");
}

async fn double_submit_and_visit(lib: &Library) {
    let app = &lib.app;
    account(app, "desk", &["clerk"], &["CEN"]).await;
    let clerk = sign_in(app, "desk", &password("desk")).await.unwrap();

    let (status, page) = clerk.get(&format!("/staff/desk?card={READER}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"item-barcode\"") && page.contains("autofocus"));
    let (status, page) = clerk.get("/staff/desk?card=29999999999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("No patron has card 29999999999999"));

    // The same form sent twice (a double Enter): one loan, the second answer says so.
    let form = [("card", READER), ("barcode", BOOKS[0]), ("branch", "CEN"), ("session", "")];
    let (first, second) = tokio::join!(clerk.post("/staff/desk/checkout", &form), async {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        clerk.post("/staff/desk/checkout", &form).await
    });
    let answers = [first, second];
    assert_eq!(loans(app, READER).await.len(), 1, "a double submit checked out twice");
    let done = answers.iter().filter(|(s, p)| *s == StatusCode::OK && p.contains("Checked out: ")).count();
    let again = answers
        .iter()
        .filter(|(s, p)| *s == StatusCode::OK && p.contains("Already checked out to this patron"))
        .count();
    assert_eq!((done, again), (1, 1), "{answers:?}");

    // A second item; the session field carries both loans to the receipt.
    let page = &answers.iter().find(|(_, p)| p.contains("Checked out: ")).unwrap().1;
    let session = session_field(page);
    let form = [("card", READER), ("barcode", BOOKS[1]), ("branch", "CEN"), ("session", session.as_str())];
    let (status, page) = clerk.post("/staff/desk/checkout", &form).await;
    assert_eq!(status, StatusCode::OK);
    let session = session_field(&page);
    assert_eq!(session.split(',').count(), 2, "{session}");
    let (status, receipt) = clerk.get(&format!("/staff/desk/receipt?card={READER}&session={session}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(receipt.contains("@media print"));
    assert_eq!(receipt.matches("class=\"receipt-loan\"").count(), 2);
    for loan in loans(app, READER).await {
        assert!(receipt.contains(loan["due"]["local"].as_str().unwrap()), "{receipt}");
    }
    assert!(receipt.contains(&html(&lib.records[0].1)) && receipt.contains(&html(&lib.records[1].1)), "{receipt}");
    assert!(receipt.contains(&format!("card ending {}", &READER[READER.len() - 4..])), "{receipt}");

    // An unknown barcode is a refusal the clerk hears, not an error page.
    let form = [("card", READER), ("barcode", "39999999999999"), ("branch", "CEN")];
    let (status, page) = clerk.post("/staff/desk/checkout", &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("class=\"refused\" role=\"alert\"") && page.contains("No item has barcode 39999999999999"));

    // Renewing on the day of the checkout would not move the due date: refused, with why.
    let form = [("card", READER), ("barcode", BOOKS[0]), ("branch", "CEN")];
    let (status, page) = clerk.post("/staff/desk/renew", &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Renewal refused") && page.contains("data-code=\"renewal_not_later\""), "{page}");

    // A loan from ten days ago (the desk's own checkout, dated then) renews.
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || {
        let desk = desk::Desk::new(desk::CirculationSettings::default().build().unwrap());
        let then = chrono::Utc::now() - chrono::Duration::days(10);
        let barcode = catalog::Barcode::parse(BOOKS[2]).unwrap();
        desk.checkout(&*db, READER, &barcode, &catalog::Code::parse("CEN").unwrap(), then, None).unwrap();
    })
    .await
    .unwrap();
    let form = [("card", READER), ("barcode", BOOKS[2]), ("branch", "CEN")];
    let (status, page) = clerk.post("/staff/desk/renew", &form).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let renewed: Vec<Value> = loans(app, READER).await.into_iter().filter(|l| l["renewals"] == 1).collect();
    assert_eq!(renewed.len(), 1, "one loan renewed");
    assert!(page.contains(&format!("now due {}", renewed[0]["due"]["local"].as_str().unwrap())), "{page}");

    // Renew all: each loan tried; those that cannot move are listed with the reason.
    let (status, page) = clerk.post("/staff/desk/renew-all", &[("card", READER), ("branch", "CEN")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(page.matches("<li>Not renewed: ").count(), 3, "{page}");
    assert!(page.contains("Renewing would not move the due date later."));

    // A loan from a month ago is overdue: said in words, not only in colour.
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || {
        let desk = desk::Desk::new(desk::CirculationSettings::default().build().unwrap());
        let then = chrono::Utc::now() - chrono::Duration::days(30);
        let barcode = catalog::Barcode::parse(SPARE).unwrap();
        desk.checkout(&*db, READER, &barcode, &catalog::Code::parse("CEN").unwrap(), then, None).unwrap();
    })
    .await
    .unwrap();
    let (status, page) = clerk.get(&format!("/staff/desk?card={READER}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page.matches("<tr class=\"loan overdue\">").count(), 1, "{page}");
    assert_eq!(page.matches("<strong>Overdue</strong>").count(), 1);
    assert!(page.contains("Loans (4)"));
}

#[tokio::test]
async fn an_override_needs_the_permission_and_a_reason_and_is_logged() {
    let lib = library().await;
    let app = &lib.app;
    account(app, "desk", &["clerk"], &["CEN"]).await;
    account(app, "boss", &["supervisor"], &[]).await;
    let clerk = sign_in(app, "desk", &password("desk")).await.unwrap();
    let boss = sign_in(app, "boss", &password("boss")).await.unwrap();

    let form = [("card", BLOCKED), ("barcode", SPARE), ("branch", "CEN")];
    let (status, page) = clerk.post("/staff/desk/checkout", &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("data-code=\"patron_blocked\"") && !page.contains("form.override"));
    assert!(!page.contains("id=\"override-reason\""), "a clerk without Override is offered the override");
    let with = [("card", BLOCKED), ("barcode", SPARE), ("branch", "CEN"), ("override_reason", "manager said so")];
    let (status, page) = clerk.post("/staff/desk/checkout", &with).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("override permission"), "{page}");
    assert!(loans(app, BLOCKED).await.is_empty());

    // The supervisor sees the override form; empty reason refused; with a reason it goes through.
    let (status, page) = boss.post("/staff/desk/checkout", &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"override-reason\""));
    let empty = [("card", BLOCKED), ("barcode", SPARE), ("branch", "CEN"), ("override_reason", " ")];
    let (_, page) = boss.post("/staff/desk/checkout", &empty).await;
    assert!(page.contains("An override needs a reason"), "{page}");
    let (status, page) = boss.post("/staff/desk/checkout", &with).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("by override"));
    assert_eq!(loans(app, BLOCKED).await.len(), 1);
    let log: Value = app.get("/api/v1/overrides").await.json().await.unwrap();
    let text = log.to_string();
    assert!(text.contains("manager said so") && text.contains("boss") && text.contains("patron_blocked"), "{log}");

    // A reference copy cannot be overridden: no form, even for the supervisor.
    let form = [("card", READER), ("barcode", REFERENCE), ("branch", "CEN")];
    let (_, page) = boss.post("/staff/desk/checkout", &form).await;
    assert!(page.contains("data-code=\"item_not_loanable\""));
    assert_eq!(page.contains("id=\"override-reason\""), circulation::RefusalCode::ItemNotLoanable.overridable());
}

#[tokio::test]
async fn the_book_drop_is_backdated_and_check_in_says_what_to_do() {
    let lib = library().await;
    let app = &lib.app;
    account(app, "desk", &["clerk"], &["CEN"]).await;
    let clerk = sign_in(app, "desk", &password("desk")).await.unwrap();
    let r = app.post("/api/v1/checkouts", &json!({"card_number": READER, "barcode": BOOKS[2], "branch": "CEN"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);

    // Returned yesterday in the book drop: dated then (a date before the loan is refused).
    let today = chrono::Utc::now().date_naive();
    let yesterday = (today - chrono::Duration::days(1)).to_string();
    let (status, page) =
        clerk.post("/staff/checkin", &[("barcode", BOOKS[2]), ("branch", "CEN"), ("returned_on", &yesterday)]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("before the checkout"), "{page}");
    let (status, page) = clerk
        .post("/staff/checkin", &[("barcode", BOOKS[2]), ("branch", "CEN"), ("returned_on", &today.to_string())])
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Reshelve at Adult Fiction, FIC BRADBURY"), "{page}");
    assert!(page.contains("role=\"status\""));
    assert!(loans(app, READER).await.is_empty());

    // The results so far ride along; a copy that was not on loan says so.
    let at = page.find("name=\"log\" value=\"").unwrap() + "name=\"log\" value=\"".len();
    let log = page[at..at + page[at..].find('"').unwrap()]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    let (status, page) = clerk.post("/staff/checkin", &[("barcode", BOOKS[1]), ("branch", "CEN"), ("log", &log)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page.matches("class=\"checkin-result\"").count(), 2, "{page}");
    assert!(page.contains("It was not on loan"));

    // The damage inspection from the check-in screen goes to the ledger and the repair queue.
    let (status, page) = clerk
        .post(
            "/staff/checkin/inspection",
            &[
                ("barcode", BOOKS[2]),
                ("branch", "CEN"),
                ("condition", "damaged"),
                ("note", "Torn cover"),
                ("repair", "yes"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Inspected (damaged): send to repair"), "{page}");
    let repairs: Value = app.get("/api/v1/branches/CEN/repairs").await.json().await.unwrap();
    assert!(repairs.to_string().contains(BOOKS[2]), "{repairs}");

    // Bad input names the problem.
    let (status, page) = clerk.post("/staff/checkin", &[("barcode", "39999999999999"), ("branch", "CEN")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("role=\"alert\""));
    let (_, page) =
        clerk.post("/staff/checkin", &[("barcode", BOOKS[0]), ("branch", "CEN"), ("returned_on", "soon")]).await;
    assert!(page.contains("give the date as YYYY-MM-DD"));
}

/// aiosmtpd (PyPI, a peer nobody here wrote) on a free port of 127.0.0.1, writing each message
/// it accepts to a folder as JSON. `SHELFMARK_PYTHON` names a python with aiosmtpd; without one
/// the test fails, it is not skipped.
struct SmtpCapture {
    child: std::process::Child,
    port: u16,
    dir: tempfile::TempDir,
}

const SMTP_SERVER: &str = r#"
import json, os, sys, email
from email import policy
from aiosmtpd.controller import Controller

out, port = sys.argv[1], int(sys.argv[2])
count = 0

class Capture:
    async def handle_DATA(self, server, session, envelope):
        global count
        count += 1
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        record = {"rcpt": envelope.rcpt_tos, "subject": msg["Subject"], "body": msg.get_content()}
        path = os.path.join(out, "%05d.json" % count)
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        return "250 Message accepted"

c = Controller(Capture(), hostname="127.0.0.1", port=port)
c.start()
print("ready", flush=True)
sys.stdin.read()
c.stop()
"#;

impl SmtpCapture {
    fn start() -> SmtpCapture {
        use std::io::BufRead;
        let python = std::env::var("SHELFMARK_PYTHON").unwrap_or_else(|_| "python3".into());
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("capture.py");
        std::fs::write(&script, SMTP_SERVER).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = std::process::Command::new(&python)
            .arg(&script)
            .arg(dir.path())
            .arg(port.to_string())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {python} (set SHELFMARK_PYTHON to a python with aiosmtpd): {e}"));
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready", "aiosmtpd did not start (is it installed for {python}?)");
        SmtpCapture { child, port, dir }
    }

    fn messages(&self) -> Vec<Value> {
        let mut names: Vec<_> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        names.sort();
        names.iter().map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()).collect()
    }
}

impl Drop for SmtpCapture {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The test server of `common`, but with the library's SMTP server configured.
async fn spawn_app_with_smtp(port: u16) -> App {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap().to_string();
    let db = tokio::task::spawn_blocking(move || storage::open(&storage::StorageConfig::parse(&path)))
        .await
        .unwrap()
        .unwrap();
    let config = web::WebConfig { library_name: "Riverton Library".into(), ..Default::default() };
    let smtp = notices::SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        security: notices::SmtpSecurity::None,
        from: "Riverton Library <desk@riverton.example>".into(),
        ..Default::default()
    };
    let notices = jobs::NoticeSettings { smtp: Some(smtp), ..Default::default() }.build(&config.library_name).unwrap();
    let desk = desk::Desk::new(desk::CirculationSettings::default().build().unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(web::serve(listener, web::router_with_notices(db.clone(), config, desk, None, notices)));
    let admin_db = db.clone();
    tokio::task::spawn_blocking(move || {
        let admin = storage::staff::NewStaff {
            login: ADMIN_LOGIN.into(),
            name: "Administrator".into(),
            roles: vec!["admin".into()],
            branches: vec![],
            password_hash: accounts::hash_password(ADMIN_PASSWORD).unwrap(),
        };
        admin_db.create_staff(&admin, chrono::Utc::now()).unwrap();
    })
    .await
    .unwrap();
    let mut app = App {
        base: format!("http://{addr}"),
        client: Client::new(),
        db,
        _dir: dir,
        token: std::sync::Mutex::new(None),
        admin_token: String::new(),
    };
    app.admin_token = app.login(ADMIN_LOGIN, ADMIN_PASSWORD).await.unwrap();
    app.act_as(Some(&app.admin_token.clone()));
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_receipt_is_emailed_to_the_patron() {
    let smtp = SmtpCapture::start();
    let lib = library_in(spawn_app_with_smtp(smtp.port).await).await;
    let app = &lib.app;
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || {
        db.upsert_patron(&storage::Patron {
            card_number: "21234000000041".into(),
            surname: "Mailer".into(),
            first_name: "Mo".into(),
            category: catalog::Code::parse("ADULT").unwrap(),
            home_branch: catalog::Code::parse("CEN").unwrap(),
            expiry_date: "2099-12-31".into(),
            email: Some("mo.mailer@example.org".into()),
        })
        .unwrap();
    })
    .await
    .unwrap();
    account(app, "desk", &["clerk"], &["CEN"]).await;
    let clerk = sign_in(app, "desk", &password("desk")).await.unwrap();
    let form = [("card", "21234000000041"), ("barcode", BOOKS[0]), ("branch", "CEN"), ("session", "")];
    let (status, page) = clerk.post("/staff/desk/checkout", &form).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let session = session_field(&page);
    let (status, receipt) = clerk.get(&format!("/staff/desk/receipt?card=21234000000041&session={session}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(receipt.contains("Email the receipt to m***@example.org"), "{receipt}");

    let form = [("card", "21234000000041"), ("session", session.as_str())];
    let (status, page) = clerk.post("/staff/desk/receipt/email", &form).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Receipt emailed to m***@example.org"));
    let sent = smtp.messages();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["rcpt"], json!(["mo.mailer@example.org"]));
    assert_eq!(sent[0]["subject"], "Your loans at Riverton Library");
    let body = sent[0]["body"].as_str().unwrap();
    let due = loans(app, "21234000000041").await[0]["due"]["local"].as_str().unwrap().to_string();
    assert!(body.contains(&lib.records[0].1) && body.contains(&due) && body.contains(BOOKS[0]), "{body}");

    // A patron without an address: no form, and a sent form says why nothing went.
    let (_, receipt) = clerk.get(&format!("/staff/desk/receipt?card={READER}&session=")).await;
    assert!(!receipt.contains("Email the receipt"));
    let (status, page) = clerk.post("/staff/desk/receipt/email", &[("card", READER), ("session", "")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("the patron has no email address"), "{page}");
    assert_eq!(smtp.messages().len(), 1);
}
