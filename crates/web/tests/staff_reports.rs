//! The reports screens over plain HTTP: after a known set of checkouts, check-ins, holds,
//! registrations, charges and payments made through the JSON API, each report's table and its
//! CSV (read back by Python's `csv` module) hold exactly those numbers; a clerk without the
//! Reports permission is refused; a bad date or branch is named beside its field, which keeps
//! what was typed.

#![allow(clippy::unwrap_used)]

mod common;
mod staff_fixture;

use chrono::{Duration, Utc};
use common::*;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use reqwest::StatusCode;
use serde_json::{json, Value};
use staff_fixture::*;
use std::io::Write;
use std::process::{Command, Stdio};

/// A report as the browser receives it.
struct Download {
    status: StatusCode,
    content_type: String,
    disposition: String,
    body: String,
}

trait Reports {
    async fn download(&self, path: &str) -> Download;
    async fn csv(&self, path: &str) -> Vec<Vec<String>>;
}

impl Reports for Clerk {
    async fn download(&self, path: &str) -> Download {
        let r = self.get_response(path).await;
        let header =
            |name| r.headers().get(name).map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_string());
        Download {
            status: r.status(),
            content_type: header(CONTENT_TYPE).unwrap_or_default(),
            disposition: header(CONTENT_DISPOSITION).unwrap_or_default(),
            body: r.text().await.unwrap(),
        }
    }

    /// The report's CSV, read by Python's csv module: the header, then the rows.
    async fn csv(&self, path: &str) -> Vec<Vec<String>> {
        let a = self.download(path).await;
        assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.body);
        assert!(a.content_type.starts_with("text/csv"), "{path}: {}", a.content_type);
        assert!(a.disposition.starts_with("attachment; filename=\""), "{}", a.disposition);
        python_csv(&a.body)
    }
}

fn python() -> String {
    std::env::var("SHELFMARK_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn python_csv(text: &str) -> Vec<Vec<String>> {
    let script = "import csv, io, json, sys\n\
                  data = sys.stdin.buffer.read().decode('utf-8')\n\
                  print(json.dumps(list(csv.reader(io.StringIO(data, newline=''), strict=True))))\n";
    let mut child = Command::new(python())
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {} (set SHELFMARK_PYTHON; scripts/test does): {e}", python()));
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python's csv refused:\n{text}");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

/// Sums column `column` of the rows (after the header) as integers.
fn total(rows: &[Vec<String>], column: usize) -> i64 {
    rows[1..].iter().map(|r| r[column].parse::<i64>().unwrap()).sum()
}

async fn ok(r: reqwest::Response) -> Value {
    let status = r.status();
    let body = r.text().await.unwrap();
    assert!(status.is_success(), "{status}: {body}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

/// The activity the reports count, all through the JSON API (as the administrator), today.
async fn activity(lib: &Library) {
    let app = &lib.app;
    for (card, barcode, branch) in [(READER, BOOKS[0], "CEN"), (READER, BOOKS[1], "CEN"), (HOLDER, BOOKS[2], "OAK")] {
        ok(app.post("/api/v1/checkouts", &json!({"card_number": card, "barcode": barcode, "branch": branch})).await)
            .await;
    }
    ok(app.post("/api/v1/checkins", &json!({"barcode": BOOKS[0], "branch": "OAK"})).await).await;
    for (surname, branch) in [("Ames", "CEN"), ("Bell", "OAK")] {
        let body = json!({"surname": surname, "first_name": "New", "category": "ADULT", "home_branch": branch});
        ok(app.post("/api/v1/patrons", &body).await).await;
    }
    let charge = json!({"kind": "damage", "amount": "3.45", "note": "Coffee stain"});
    ok(app.post(&format!("/api/v1/patrons/{READER}/charges"), &charge).await).await;
    ok(app.post(&format!("/api/v1/patrons/{READER}/payments"), &json!({"amount": "2.00", "method": "cash"})).await)
        .await;
    ok(app.post(&format!("/api/v1/patrons/{READER}/payments"), &json!({"amount": "1.45", "method": "card"})).await)
        .await;
    // The collection: a Dewey copy at OAK and an LC copy at CEN beside the fixture's FIC copies.
    for (barcode, branch, call) in
        [("31234000000060", "OAK", "599.75 SMI"), ("31234000000078", "CEN", "QA76.73 .R87 2018")]
    {
        let mut item = item_json(barcode);
        item["home_branch"] = json!(branch);
        item["call_number"] = json!(call);
        ok(app.post(&format!("/api/v1/records/{}/items", lib.records[0].0), &item).await).await;
    }
    // SPARE went out ten days ago and was due three days ago (written with the old dates
    // directly: the API lends only now).
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || {
        let then = Utc::now() - Duration::days(10);
        let due = Utc::now() - Duration::days(3) - Duration::hours(1);
        db.checkout(BLOCKED, &catalog::Barcode::parse(SPARE).unwrap(), then, &mut |_| {
            Some(storage::loans::LoanWrite {
                checkout_branch: catalog::Code::parse("CEN").unwrap(),
                due_at: due,
                override_entry: None,
                holds: Vec::new(),
            })
        })
        .unwrap()
        .unwrap();
    })
    .await
    .unwrap();
    // Two holds on SPARE's record (one copy), one on the first book's.
    let spare_record = lib.records[3].0;
    for card in [READER, HOLDER] {
        let hold = json!({"card_number": card, "record_id": spare_record, "pickup_branch": "CEN"});
        ok(app.post("/api/v1/holds", &hold).await).await;
    }
    ok(app
        .post("/api/v1/holds", &json!({"card_number": HOLDER, "record_id": lib.records[0].0, "pickup_branch": "CEN"}))
        .await)
    .await;
}

/// Yesterday to tomorrow (the library's zone is UTC in the test settings): today's activity
/// whatever the hour.
fn range() -> String {
    let today = Utc::now().date_naive();
    format!("from={}&to={}", today - Duration::days(1), today + Duration::days(1))
}

#[tokio::test]
async fn every_report_counts_what_the_api_did() {
    let lib = library().await;
    activity(&lib).await;
    account(&lib.app, "super", &["supervisor"], &[]).await;
    let s = sign_in(&lib.app, "super").await;
    let range = range();

    // The list links every report, and the home page and menu link the list.
    let list = s.download("/staff/reports").await;
    assert_eq!(list.status, StatusCode::OK);
    for d in reports::REPORTS {
        assert!(list.body.contains(&format!("href=\"/staff/reports/{}\"", d.name)), "{}", d.name);
    }
    assert!(s.download("/staff").await.body.contains("<a href=\"/staff/reports\">Reports</a>:"));

    // Circulation by day: three checkouts and one check-in over the three days; at CEN two
    // checkouts (the check-in was at OAK).
    let days = s.csv(&format!("/staff/reports/circulation-by-day.csv?{range}")).await;
    assert_eq!(days[0], row(&["Day", "Checkouts", "Renewals", "Check-ins"]));
    assert_eq!(days.len(), 4, "{days:?}");
    assert_eq!((total(&days, 1), total(&days, 2), total(&days, 3)), (3, 0, 1));
    let cen = s.csv(&format!("/staff/reports/circulation-by-day.csv?{range}&branch=CEN")).await;
    assert_eq!((total(&cen, 1), total(&cen, 3)), (2, 0));

    let page = s.download(&format!("/staff/reports/circulation-by-day?{range}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<svg") && page.body.contains("role=\"img\""), "a chart");
    assert!(page.body.contains("data-value=\"3\""), "today's column is 3 checkouts");
    assert!(page
        .body
        .contains(&format!("href=\"/staff/reports/circulation-by-day.csv?{}\"", range.replace('&', "&amp;"))));

    assert_eq!(
        s.csv(&format!("/staff/reports/circulation-by-branch.csv?{range}")).await,
        [
            row(&["Branch", "Checkouts", "Renewals", "Check-ins"]),
            row(&["Central Library (CEN)", "2", "0", "0"]),
            row(&["Oak Hill Branch (OAK)", "1", "0", "1"]),
        ]
    );
    assert_eq!(
        s.csv(&format!("/staff/reports/circulation-by-item-type.csv?{range}")).await[1..],
        [row(&["Book (BK)", "3", "0", "1"])]
    );
    // SPARE's loan began ten days ago: not in the range.
    assert_eq!(
        s.csv(&format!("/staff/reports/circulation-by-patron-category.csv?{range}")).await[1..],
        [row(&["ADULT", "3", "0", "1"])]
    );

    // Top titles: the three books once each, by record id.
    let top = s.csv(&format!("/staff/reports/top-titles.csv?{range}")).await;
    let expected: Vec<Vec<String>> =
        lib.records[..3].iter().map(|(id, title)| vec![title.clone(), id.to_string(), "1".to_string()]).collect();
    assert_eq!(top[1..], expected);

    // Overdue: SPARE, three days, to the blocked patron.
    let overdue = s.csv("/staff/reports/overdue.csv").await;
    assert_eq!(overdue.len(), 2, "{overdue:?}");
    assert_eq!((overdue[1][1].as_str(), overdue[1][2].as_str(), overdue[1][5].as_str()), ("3", SPARE, BLOCKED));
    assert_eq!(overdue[1][3], lib.records[3].1);

    // Holds per copy above 1: SPARE's record, 2 holds on 1 copy; above 0.3 the first book's too
    // (1 hold on its 3 copies: BOOKS[0] and the Dewey and LC copies added above).
    let holds = s.csv("/staff/reports/holds-ratio.csv?threshold=1").await;
    assert_eq!(
        holds[1..],
        [vec![lib.records[3].1.clone(), lib.records[3].0.to_string(), "2.00".into(), "2".into(), "1".into()]]
    );
    assert_eq!(s.csv("/staff/reports/holds-ratio.csv?threshold=0.3").await.len(), 3);
    assert_eq!(s.csv("/staff/reports/holds-ratio.csv?threshold=0.34").await.len(), 2);

    // The collection: the fixture's copies are FIC (local), so one Dewey and one LC copy.
    assert_eq!(s.csv("/staff/reports/collection-dewey.csv").await[1..], [row(&["500-599", "1"])]);
    assert_eq!(s.csv("/staff/reports/collection-lc.csv").await[1..], [row(&["QA", "1"])]);
    assert_eq!(s.csv("/staff/reports/collection-lc.csv?branch=OAK").await.len(), 1, "no LC copy at OAK");

    // Registrations: the fixture's three patrons and the two registered, all ADULT; one at OAK.
    let regs = s.csv(&format!("/staff/reports/registrations-by-day.csv?{range}")).await;
    assert_eq!(total(&regs, 1), 5);
    assert_eq!(total(&s.csv(&format!("/staff/reports/registrations-by-day.csv?{range}&branch=OAK")).await, 1), 1);
    assert_eq!(
        s.csv(&format!("/staff/reports/registrations-by-category.csv?{range}")).await[1..],
        [row(&["ADULT", "5"])]
    );

    // Money: 2.00 cash and 1.45 card against a damage charge of 3.45.
    let money = s.csv(&format!("/staff/reports/money-by-day.csv?{range}")).await;
    let today: Vec<&Vec<String>> = money[1..].iter().filter(|r| r[3] != "0.00").collect();
    assert_eq!(today.len(), 1, "{money:?}");
    assert_eq!(today[0][1..], row(&["2.00", "1.45", "3.45", "0.00", "3.45"]));
    assert_eq!(
        s.csv(&format!("/staff/reports/money-by-type.csv?{range}")).await,
        [
            row(&["Type", "Amount", "Entries"]),
            row(&["Payments: card", "1.45", "1"]),
            row(&["Payments: cash", "2.00", "1"]),
            row(&["Charges: damage", "3.45", "1"]),
        ]
    );
    let page = s.download(&format!("/staff/reports/money-by-type?{range}")).await;
    assert!(page.body.contains("<td class=\"n\">3.45</td>"), "the table shows the exact amount");
}

#[tokio::test]
async fn a_clerk_may_not_and_bad_input_is_named_beside_its_field() {
    let lib = library().await;
    account(&lib.app, "clerk", &["clerk"], &[]).await;
    let clerk = sign_in(&lib.app, "clerk").await;
    for path in ["/staff/reports", "/staff/reports/circulation-by-day", "/staff/reports/top-titles.csv"] {
        let a = clerk.download(path).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{path}");
        assert!(a.body.contains("reports permission"), "{path}: {}", a.body);
    }
    assert!(!clerk.download("/staff").await.body.contains("href=\"/staff/reports\">Reports</a>:"));

    account(&lib.app, "super", &["supervisor"], &[]).await;
    let s = sign_in(&lib.app, "super").await;
    let a = s.download("/staff/reports/circulation-by-day?from=2026-02-30&to=2026-03-02").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("id=\"from-error\">From: &quot;2026-02-30&quot; is not a date"), "{}", a.body);
    assert!(a.body.contains("value=\"2026-02-30\" required aria-describedby=\"from-error\" aria-invalid=\"true\""));
    assert!(!a.body.contains("<svg"), "no chart for a bad range");
    let a = s.download("/staff/reports/circulation-by-day?from=2026-03-02&to=2026-03-01").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("id=\"to-error\">To: the range ends"), "{}", a.body);
    let a = s.download("/staff/reports/circulation-by-branch?branch=NOPE").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("id=\"branch-error\">Branch: &quot;NOPE&quot; is not a branch"), "{}", a.body);
    assert!(a.body.contains("<option value=\"NOPE\" selected>NOPE</option>"));
    let a = s.download("/staff/reports/holds-ratio?threshold=lots").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("id=\"threshold-error\">Holds per copy above: &quot;lots&quot;"), "{}", a.body);
    let a = s.download("/staff/reports/circulation-by-day.csv?from=yesterday").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("(field from)"), "{}", a.body);
    assert_eq!(s.download("/staff/reports/no-such-report").await.status, StatusCode::NOT_FOUND);

    // A supervisor limited to OAK reports on OAK only, and is offered no "All branches".
    account(&lib.app, "oaksuper", &["supervisor"], &["OAK"]).await;
    let oak = sign_in(&lib.app, "oaksuper").await;
    let a = oak.download("/staff/reports/circulation-by-branch").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(!a.body.contains("All branches") && a.body.contains("Oak Hill Branch</option>"));
    assert!(a.body.contains("Oak Hill Branch."), "covers OAK: {}", a.body);
    assert_eq!(oak.download("/staff/reports/circulation-by-branch?branch=CEN").await.status, StatusCode::BAD_REQUEST);
}
