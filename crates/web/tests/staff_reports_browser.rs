//! The reports in a real browser (headless Chromium over WebDriver): a supervisor signs in,
//! opens the list, a report with a column chart, one with a bar chart, the holds report's
//! threshold form and a form with a wrong date; axe-core finds nothing serious or critical on
//! any of them, each fits the width of the desk's screen (1280x720) and of a tablet held upright
//! (768x1024), and `report.png` is written to `target/tmp/screenshots/`.

#![allow(clippy::unwrap_used)]

mod browser;
mod common;
mod staff_fixture;

use browser::{have_axe, Browser};
use serde_json::json;
use staff_fixture::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_reads_reports_with_charts() {
    let Some(browser) = Browser::start().await else { return };
    let axe = have_axe();
    let lib = library().await;
    let app = &lib.app;
    account(app, "super", &["supervisor"], &[]).await;
    for (card, barcode, branch) in [(READER, BOOKS[0], "CEN"), (READER, BOOKS[1], "CEN"), (HOLDER, BOOKS[2], "OAK")] {
        let r =
            app.post("/api/v1/checkouts", &json!({"card_number": card, "barcode": barcode, "branch": branch})).await;
        assert!(r.status().is_success(), "{:?}", r.text().await);
    }
    let r = app.post("/api/v1/checkins", &json!({"barcode": BOOKS[0], "branch": "OAK"})).await;
    assert!(r.status().is_success(), "{:?}", r.text().await);

    browser.goto(&app.url("/staff/login?next=/staff/reports")).await;
    browser.wait_for("#login").await;
    browser.find("#login").await.send_keys("super").await.unwrap();
    browser.type_and_enter("#password", &password("super")).await;
    browser.wait_for("ul.reports").await;

    let today = chrono::Utc::now().date_naive();
    let range = format!("from={}&to={}", today - chrono::Duration::days(13), today);
    let pages = [
        ("the report list", "/staff/reports".to_string(), "ul.reports"),
        ("circulation by day", format!("/staff/reports/circulation-by-day?{range}"), "figure.chart svg"),
        ("circulation by branch", format!("/staff/reports/circulation-by-branch?{range}"), "figure.chart svg"),
        ("holds to copies", "/staff/reports/holds-ratio?threshold=0.5".to_string(), "#threshold"),
        ("the overdue list", "/staff/reports/overdue".to_string(), "table.report-table"),
        ("a wrong date", "/staff/reports/money-by-day?from=2026-02-30".to_string(), "#from-error"),
    ];
    for (name, path, shows) in &pages {
        browser.goto(&app.url(path)).await;
        browser.wait_for(shows).await;
        if axe {
            browser.assert_accessible(name).await;
        }
        for (width, height) in [(768, 1024), (1280, 720)] {
            browser.set_window_size(width, height).await;
            assert!(browser.fits_width().await, "{name} scrolls sideways at {width}x{height}");
        }
    }

    // The chart is an image with a name, and its tallest column says what it stands for.
    browser.goto(&app.url(&format!("/staff/reports/circulation-by-day?{range}"))).await;
    let svg = browser.wait_for("figure.chart svg[role='img']").await;
    let label = svg.attr("aria-label").await.unwrap().unwrap_or_default();
    assert!(label.starts_with("Circulation by day:"), "{label}");
    let tallest = browser.find("rect[data-value='3']").await;
    assert!(tallest.attr("height").await.unwrap().is_some_and(|h| h.parse::<f64>().unwrap() > 200.0));
    // The form changes the branch with the keyboard: pick Oak Hill, submit.
    browser.find("#branch").await.send_keys("Oak").await.unwrap();
    let submit = browser.find("form.report-form button").await;
    browser.press_enter_on(&submit).await;
    browser.wait_for("figure.chart rect[data-value='1']").await;
    assert!(browser.path().await.contains("branch=OAK"), "{}", browser.path().await);
    browser.goto(&app.url(&format!("/staff/reports/circulation-by-branch?{range}"))).await;
    browser.wait_for("figure.chart svg").await;
    browser.screenshot("report").await;
    browser.close().await;
}
