//! The holds and transits lists and the staged import in a real browser (headless Chromium
//! over WebDriver): each page at the desk's 1280x720 and a tablet's 768x1024 without sideways
//! scrolling, judged by axe-core; the pull list's print button; `pull-list.png` and
//! `staffimport.png` written to `target/tmp/screenshots/`.

#![allow(clippy::unwrap_used)]

mod browser;
mod common;
mod staff_fixture;

use browser::{have_axe, Browser};
use common::*;
use reqwest::StatusCode;
use serde_json::json;
use staff_fixture::*;

async fn log_in(browser: &Browser, app: &App, login: &str, to: &str) {
    browser.goto(&app.url(to)).await;
    browser.wait_for("#login").await;
    browser.find("#login").await.send_keys(login).await.unwrap();
    browser.type_and_enter("#password", &password(login)).await;
}

/// The page at both sizes: it fits, and axe-core finds nothing serious.
async fn judge(browser: &Browser, name: &str, axe: bool) {
    for (w, h) in [(1280, 720), (768, 1024)] {
        browser.set_window_size(w, h).await;
        assert!(browser.fits_width().await, "{name} scrolls sideways at {w}x{h}");
        if axe {
            browser.assert_accessible(&format!("{name} at {w}x{h}")).await;
        }
    }
    browser.set_window_size(1280, 720).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_holds_lists_fit_the_desk_and_a_tablet() {
    let Some(browser) = Browser::start().await else { return };
    let axe = have_axe();
    let lib = library().await;
    let app = &lib.app;
    account(app, "desk", &["clerk"], &["CEN", "OAK"]).await;
    // Holds on three titles with copies at Central, one to be picked up at Oak Hill.
    for ((bib, _), pickup) in lib.records.iter().zip(["CEN", "CEN", "OAK"]) {
        let r =
            app.post("/api/v1/holds", &json!({"card_number": HOLDER, "record_id": bib, "pickup_branch": pickup})).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    }

    log_in(&browser, app, "desk", "/staff/holds/pull-list?branch=CEN").await;
    browser.wait_for("table.pull-list").await;
    assert_eq!(browser.find_all("tr.pull").await.len(), 3);
    let list = browser.text("table.pull-list").await;
    assert!(list.contains("FIC BRADBURY") && list.contains("card ending 0025") && !list.contains(HOLDER), "{list}");
    let print = browser.find("button[onclick='window.print()']").await;
    assert_eq!(print.text().await.unwrap(), "Print the pull list");
    judge(&browser, "pull list", axe).await;
    browser.screenshot("pull-list").await;

    // Checked in, one waits on the shelf here and one travels to Oak Hill.
    for barcode in [BOOKS[0], BOOKS[2]] {
        let r = app.post("/api/v1/checkins", &json!({"barcode": barcode, "branch": "CEN"})).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    browser.goto(&app.url("/staff/holds/shelf?branch=CEN")).await;
    browser.wait_for("tr.on-shelf").await;
    judge(&browser, "hold shelf", axe).await;
    browser.goto(&app.url("/staff/holds/expired?branch=CEN")).await;
    browser.wait_for("h1").await;
    judge(&browser, "expired holds", axe).await;
    browser.goto(&app.url("/staff/transits?branch=CEN")).await;
    browser.wait_for("tr.transit").await;
    judge(&browser, "transits", axe).await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_staged_import_fits_the_desk_and_a_tablet() {
    let Some(browser) = Browser::start().await else { return };
    let axe = have_axe();
    let app = spawn_app().await;
    app.organisation().await;
    account(&app, "cat", &["cataloger"], &[]).await;

    log_in(&browser, &app, "cat", "/staff/cataloging/import").await;
    browser.wait_for("#file").await;
    judge(&browser, "import upload", axe).await;

    // The browser's own upload: the file input, then the form's button.
    let path = shared_data("marc/marc-perl-tests/marc-record-badldr.usmarc");
    browser.find("#file").await.send_keys(path.to_str().unwrap()).await.unwrap();
    let submit = browser.find("form[enctype='multipart/form-data'] button[type='submit']").await;
    submit.click().await.unwrap();
    browser.wait_for("#count-records").await;
    assert!(browser.path().await.starts_with("/staff/cataloging/import/"), "{}", browser.path().await);
    assert!(!browser.find_all("tr.failed").await.is_empty(), "the broken record is listed");
    judge(&browser, "import preview", axe).await;
    browser.screenshot("staffimport").await;

    browser.find("#on-match-replace").await.click().await.unwrap();
    browser.find("form.apply button[type='submit']").await.click().await.unwrap();
    browser.wait_for("#result-added").await;
    let added: u64 = browser.text("#result-added").await.parse().unwrap();
    assert_eq!(added, browser.text("#count-ready").await.parse::<u64>().unwrap());
    judge(&browser, "import result", axe).await;
    browser.close().await;
}
