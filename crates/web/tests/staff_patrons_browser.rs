//! The patron screens in a real browser (headless Chromium over WebDriver), typed at with the
//! keyboard as a clerk does: log in, register a patron (and meet the duplicate warning when the
//! same name and birth date come again), find a patron with an overdue fine, take the fine in
//! cash at the record and see the balance go to 0.00. axe-core judges the search, register and
//! record pages; each fits a 1280x720 desk screen and a 768x1024 tablet; `patron.png` is
//! written to `target/tmp/screenshots/`.

#![allow(clippy::unwrap_used)]

mod browser;
mod common;
mod staff_fixture;

use browser::{have_axe, Browser};
use fantoccini::key::Key;
use reqwest::StatusCode;
use serde_json::json;
use staff_fixture::*;

async fn focused(browser: &Browser) -> String {
    let element = browser.client.active_element().await.expect("an active element");
    element.attr("id").await.expect("read id").unwrap_or_default()
}

/// Types into a field without submitting.
async fn type_into(browser: &Browser, css: &str, text: &str) {
    let field = browser.find(css).await;
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap_or_else(|e| panic!("type into {css}: {e}"));
}

/// The page fits the desk's screen and a tablet held upright, and axe-core finds nothing
/// serious on it.
async fn check_page(browser: &Browser, name: &str, axe: bool) {
    for (width, height) in [(768, 1024), (1280, 720)] {
        browser.set_window_size(width, height).await;
        assert!(browser.fits_width().await, "the {name} page scrolls sideways at {width}x{height}");
    }
    if axe {
        browser.assert_accessible(name).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_registers_a_patron_and_takes_a_fine_in_cash() {
    let Some(browser) = Browser::start().await else { return };
    let axe = have_axe();
    let lib = library().await;
    let app = &lib.app;
    account(app, "desk", &["clerk"], &["CEN"]).await;

    // The registration form, after the log-in.
    browser.goto(&app.url("/staff/patrons/new")).await;
    browser.wait_for("#login").await;
    browser.find("#login").await.send_keys("desk").await.unwrap();
    browser.type_and_enter("#password", &password("desk")).await;
    browser.wait_for("#register-surname").await;
    assert_eq!(browser.path().await, "/staff/patrons/new");
    assert_eq!(focused(&browser).await, "register-card_number", "the cursor starts in the first field");
    check_page(&browser, "register", axe).await;

    // Typed in, Enter on the last field: the new patron's record, with the card issued.
    type_into(&browser, "#register-surname", "Lindqvist").await;
    type_into(&browser, "#register-first_name", "Maja").await;
    type_into(&browser, "#register-birth_date", "1979-11-23").await;
    type_into(&browser, "#register-email", "maja.lindqvist@example.org").await;
    browser.type_and_enter("#register-phone", "555-0142").await;
    browser.wait_for("#done").await;
    let done = browser.text("#done").await;
    let card = browser.text("#card-number").await;
    assert_eq!(card.len(), 14, "{card}");
    assert!(done.contains("Registered Maja Lindqvist") && done.contains(&card), "{done}");
    check_page(&browser, "patron record", axe).await;

    // The same name and birth date again: the warning names the patron, nothing registered.
    browser.goto(&app.url("/staff/patrons/new")).await;
    type_into(&browser, "#register-surname", "Lindqvist").await;
    type_into(&browser, "#register-first_name", "Maja").await;
    browser.type_and_enter("#register-birth_date", "1979-11-23").await;
    browser.wait_for("#duplicates").await;
    let warning = browser.text("#duplicates").await;
    assert!(warning.contains(&format!("Maja Lindqvist (card {card}) has the same name and birth date")), "{warning}");
    assert_eq!(browser.find("#register-surname").await.prop("value").await.unwrap().as_deref(), Some("Lindqvist"));
    check_page(&browser, "register with the duplicate warning", axe).await;
    let found: serde_json::Value = app.get("/api/v1/patrons?name=lindqvist").await.json().await.unwrap();
    assert_eq!(found["patrons"].as_array().unwrap().len(), 1, "{found}");

    // A patron with an overdue fine, found by card from the search box.
    let r = app
        .post(
            &format!("/api/v1/patrons/{READER}/charges"),
            &json!({"kind": "overdue", "amount": "2.50", "note": "Overdue: 5 days late"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    browser.goto(&app.url("/staff/patrons")).await;
    assert_eq!(focused(&browser).await, "patron-q");
    browser.type_and_enter("#patron-q", READER).await;
    browser.wait_for("tr.patron-result").await;
    check_page(&browser, "patron search", axe).await;
    let link = browser.find("tr.patron-result a").await;
    browser.press_enter_on(&link).await;
    browser.wait_for("#balance").await;
    assert_eq!(browser.text("#balance").await, "2.50");
    assert!(browser.text("table.ledger").await.contains("Overdue fine"));

    // Paid in cash: the amount typed, the method chosen with the keyboard, Enter.
    type_into(&browser, "#pay-amount", "2.50").await;
    let method = browser.find("#pay-method").await;
    method.send_keys("cash").await.unwrap();
    assert_eq!(method.prop("value").await.unwrap().as_deref(), Some("cash"));
    let amount = browser.find("#pay-amount").await;
    let before = browser.find("html").await;
    amount.send_keys(&char::from(Key::Enter).to_string()).await.unwrap();
    let started = std::time::Instant::now();
    while before.tag_name().await.is_ok() {
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "the payment did not answer");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    browser.wait_for("#done").await;
    assert!(browser.text("#done").await.contains("Payment taken. Balance now 0.00."));
    assert_eq!(browser.text("#balance").await, "0.00");
    assert!(browser.text("table.ledger").await.contains("Payment (cash)"));
    let account: serde_json::Value = app.get(&format!("/api/v1/patrons/{READER}/account")).await.json().await.unwrap();
    assert_eq!(account["balance"], "0.00", "{account}");
    check_page(&browser, "patron record after the payment", axe).await;
    // The account in the picture: the ledger with the fine and the payment.
    browser.client.execute("document.getElementById('account').scrollIntoView()", vec![]).await.unwrap();
    browser.screenshot("patron").await;
    browser.close().await;
}
