//! The staff client in a real browser (headless Chromium over WebDriver). At the desk only the
//! keyboard is used, as with a barcode scanner: a clerk logs in, scans a patron card, checks out
//! three items (the cursor is back in the barcode field after each), scans one twice, meets a
//! refusal; the copy another patron holds for pickup at Oak Hill is checked in at Central ("in
//! transit to Oak Hill Branch") and at Oak Hill ("hold shelf for ..."); a volunteer is refused
//! the desk but checks items in. axe-core judges the log-in, desk and check-in pages, and
//! `desk.png` and `checkin.png` are written to `target/tmp/screenshots/`.

#![allow(clippy::unwrap_used)]

mod browser;
mod common;
mod staff_fixture;

use browser::{have_axe, Browser};
use reqwest::StatusCode;
use serde_json::json;
use staff_fixture::*;

/// The id of the element that has the keyboard focus.
async fn focused(browser: &Browser) -> String {
    let element = browser.client.active_element().await.expect("an active element");
    element.attr("id").await.expect("read id").unwrap_or_default()
}

/// Logs in on the log-in page shown, with the keyboard.
async fn log_in(browser: &Browser, login: &str) {
    browser.wait_for("#login").await;
    assert_eq!(focused(browser).await, "login", "the log-in page puts the cursor in #login");
    browser.find("#login").await.send_keys(login).await.unwrap();
    browser.type_and_enter("#password", &password(login)).await;
}

async fn log_out(browser: &Browser) {
    let button = browser.find("form[action='/staff/logout'] button").await;
    browser.press_enter_on(&button).await;
    browser.wait_for("#login").await;
}

/// Waits until `css` matches `n` elements.
async fn wait_count(browser: &Browser, css: &str, n: usize) {
    let started = std::time::Instant::now();
    loop {
        if browser.find_all(css).await.len() == n {
            return;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "{css} never matched {n} elements");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_works_the_desk_and_check_in_with_the_keyboard() {
    let Some(browser) = Browser::start().await else { return };
    let axe = have_axe();
    let lib = library().await;
    let app = &lib.app;
    account(app, "desk", &["clerk"], &["CEN"]).await;
    account(app, "oakdesk", &["clerk"], &["OAK"]).await;
    account(app, "vol", &["volunteer"], &[]).await;

    // Without a session the desk sends the clerk to log in, and back.
    browser.goto(&app.url("/staff/desk")).await;
    browser.wait_for("#login").await;
    assert!(browser.path().await.starts_with("/staff/login?next="), "{}", browser.path().await);
    if axe {
        browser.assert_accessible("log-in").await;
    }
    log_in(&browser, "desk").await;
    browser.wait_for("#patron-card").await;
    assert_eq!(browser.path().await, "/staff/desk");
    assert_eq!(focused(&browser).await, "patron-card");

    // Scan the patron's card: the panel, then the cursor in the item barcode field.
    browser.type_and_enter("#patron-card", READER).await;
    browser.wait_for("#item-barcode").await;
    let panel = browser.text("#patron").await;
    assert!(panel.contains(READER) && panel.contains("Reader"), "{panel}");
    assert!(panel.contains("ADULT") && panel.contains("2099-12-31"), "category and expiry: {panel}");
    assert_eq!(focused(&browser).await, "item-barcode");

    // Three checkouts, each added to the session list with its due date.
    for (n, barcode) in BOOKS.iter().enumerate() {
        browser.type_and_enter("#item-barcode", barcode).await;
        wait_count(&browser, "tr.session-loan", n + 1).await;
        assert_eq!(focused(&browser).await, "item-barcode", "focus after scanning {barcode}");
        let outcome = browser.text("#outcome").await;
        assert!(outcome.contains("Checked out") && outcome.contains(&lib.records[n].1), "{outcome}");
    }
    let stored = loans(app, READER).await;
    assert_eq!(stored.len(), 3);
    let session = browser.text("#session").await;
    for (_, title) in &lib.records[..3] {
        assert!(session.contains(title.as_str()), "{title} missing from {session}");
    }
    for loan in &stored {
        let due = loan["due"]["local"].as_str().unwrap();
        assert!(session.contains(due), "due {due} not shown in {session}");
    }

    // The same copy scanned again: said so, not a second loan, not an error.
    browser.type_and_enter("#item-barcode", BOOKS[2]).await;
    browser.wait_for("#outcome.notice").await;
    let again = browser.text("#outcome").await;
    assert!(again.contains("Already checked out to this patron"), "{again}");
    assert_eq!(loans(app, READER).await.len(), 3);
    assert_eq!(browser.find_all("tr.session-loan").await.len(), 3);
    assert_eq!(focused(&browser).await, "item-barcode");
    if axe {
        browser.assert_accessible("desk").await;
    }
    // The whole panel in the picture: the top of the page, the cursor still in the field.
    browser.client.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
    browser.screenshot("desk").await;

    // The receipt of the visit, reached with the keyboard; then back to the desk.
    let print = browser.find("a.receipt").await;
    browser.press_enter_on(&print).await;
    browser.wait_for("table.receipt").await;
    assert_eq!(browser.find_all("tr.receipt-loan").await.len(), 3);
    let back = browser.find("a[href^='/staff/desk?card=']").await;
    browser.press_enter_on(&back).await;
    browser.wait_for("#item-barcode").await;
    assert_eq!(browser.find_all("tr.session-loan").await.len(), 3, "the visit's list comes back with the desk");
    assert_eq!(focused(&browser).await, "item-barcode");

    // On a tablet the desk still fits the screen.
    browser.client.set_window_size(768, 1024).await.unwrap();
    assert!(browser.fits_width().await, "the desk scrolls sideways at 768 px");
    browser.client.set_window_size(1280, 720).await.unwrap();

    // A reference copy does not lend: the refusal is an alert with its reason and a cue.
    browser.type_and_enter("#item-barcode", REFERENCE).await;
    browser.wait_for(".refused[role='alert'] li[data-code='item_not_loanable']").await;
    assert_eq!(focused(&browser).await, "item-barcode");
    assert!(browser.find_all("form.override").await.is_empty(), "a clerk without Override is offered it");
    // The page's script sounded the cue (the attribute holds the audio context's state).
    browser.wait_for("body[data-cue]").await;

    // A blocked patron: the block is an alert on the panel, and a checkout is refused.
    browser.type_and_enter("#patron-card", BLOCKED).await;
    browser.wait_for(".blocks[role='alert']").await;
    assert!(browser.text(".blocks").await.contains("Unpaid damage bill"));
    browser.type_and_enter("#item-barcode", SPARE).await;
    browser.wait_for(".refused[role='alert'] li[data-code='patron_blocked']").await;
    assert!(loans(app, BLOCKED).await.is_empty());

    // Another patron holds the first title, for pickup at Oak Hill.
    let hold = json!({"card_number": HOLDER, "record_id": lib.records[0].0, "pickup_branch": "OAK"});
    let r = app.post("/api/v1/holds", &hold).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);

    // Checked in at Central: it travels to Oak Hill for that patron.
    browser.goto(&app.url("/staff/checkin")).await;
    browser.wait_for("#item-barcode").await;
    assert_eq!(focused(&browser).await, "item-barcode");
    browser.type_and_enter("#item-barcode", BOOKS[0]).await;
    browser.wait_for("li.checkin-result [role='status']").await;
    let result = browser.text("li.checkin-result").await;
    assert!(result.contains("In transit to Oak Hill Branch"), "{result}");
    assert!(result.contains(HOLDER), "the patron is named: {result}");
    assert_eq!(focused(&browser).await, "item-barcode");
    if axe {
        browser.assert_accessible("check-in").await;
    }
    browser.screenshot("checkin").await;

    // Checked in at Oak Hill by a clerk who works there: to the hold shelf for the patron.
    log_out(&browser).await;
    browser.goto(&app.url("/staff/checkin")).await;
    log_in(&browser, "oakdesk").await;
    browser.wait_for("#item-barcode").await;
    assert!(browser.text(".working-at").await.contains("Oak Hill Branch"));
    browser.type_and_enter("#item-barcode", BOOKS[0]).await;
    browser.wait_for("li.checkin-result").await;
    let result = browser.text("li.checkin-result").await;
    assert!(result.contains("Hold shelf for") && result.contains(HOLDER), "{result}");
    let holds: serde_json::Value = app.get(&format!("/api/v1/patrons/{HOLDER}/holds")).await.json().await.unwrap();
    assert_eq!(holds["holds"][0]["status"], "on_shelf", "{holds}");

    // The patron comes in: the desk shows the hold ready, and the checkout fills it.
    browser.goto(&app.url("/staff/desk")).await;
    browser.type_and_enter("#patron-card", HOLDER).await;
    browser.wait_for("#holds-ready").await;
    let ready = browser.text("#holds-ready").await;
    assert!(ready.contains(&lib.records[0].1) && ready.contains("Oak Hill Branch"), "{ready}");
    assert!(browser.text(".alerts").await.contains("1 hold is waiting on the hold shelf"));
    browser.type_and_enter("#item-barcode", BOOKS[0]).await;
    wait_count(&browser, "tr.session-loan", 1).await;
    let holds: serde_json::Value = app.get(&format!("/api/v1/patrons/{HOLDER}/holds")).await.json().await.unwrap();
    assert_eq!(holds["holds"][0]["status"], "filled", "{holds}");

    // A volunteer: the desk is refused with a page that says why; check-in works.
    log_out(&browser).await;
    browser.goto(&app.url("/staff/desk")).await;
    log_in(&browser, "vol").await;
    browser.wait_for("p[role='alert']").await;
    let refused = browser.text("main").await;
    assert!(refused.contains("Not allowed") && refused.contains("circulate"), "{refused}");
    browser.goto(&app.url("/staff/checkin")).await;
    browser.type_and_enter("#item-barcode", BOOKS[1]).await;
    browser.wait_for("li.checkin-result").await;
    let result = browser.text("li.checkin-result").await;
    assert!(result.contains("Reshelve at Adult Fiction"), "{result}");
    assert_eq!(loans(app, READER).await.len(), 1);
    browser.close().await;
}
