//! The administration in a real browser (headless Chromium over WebDriver): the rule explainer
//! worked with the keyboard only (arrow keys in the selects, Enter on the button), every kind of
//! admin page judged by axe-core (with and without form errors) and fitting the window at
//! 1280x720 and at tablet width 768x1024; `admin-rules.png` is written to
//! `target/tmp/screenshots/`.

#![allow(clippy::unwrap_used)]

mod browser;
mod common;
mod staff_fixture;

use browser::{have_axe, Browser};
use common::*;
use fantoccini::key::Key;
use staff_fixture::*;

fn rules_settings() -> desk::CirculationSettings {
    let mut settings = desk::CirculationSettings::default();
    settings.rules.push(desk::RuleSettingsText {
        branch: "CEN".into(),
        category: "*".into(),
        item_type: "*".into(),
        loan_period: Some("14 days".into()),
        ..Default::default()
    });
    settings.rules.push(desk::RuleSettingsText {
        branch: "OAK".into(),
        category: "ADULT".into(),
        item_type: "BK".into(),
        renewals_allowed: Some(5),
        ..Default::default()
    });
    settings
}

/// The id of the element that has the keyboard focus.
async fn focused(browser: &Browser) -> String {
    let element = browser.client.active_element().await.expect("an active element");
    element.attr("id").await.expect("read id").unwrap_or_default()
}

/// Checks the page shown at the desk's size and a tablet's, and with axe-core.
async fn judge(browser: &Browser, axe: bool, name: &str) {
    for (w, h) in [(1280, 720), (768, 1024)] {
        browser.set_window_size(w, h).await;
        assert!(browser.fits_width().await, "{name} scrolls sideways at {w}x{h} ({})", browser.path().await);
    }
    browser.set_window_size(1280, 720).await;
    if axe {
        browser.assert_accessible(name).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_administration_works_with_the_keyboard_fits_a_tablet_and_passes_axe() {
    let Some(browser) = Browser::start().await else { return };
    let axe = have_axe();
    let app = spawn_app_with_circulation(rules_settings()).await;
    app.organisation().await;
    app.staff("helper", &["volunteer"], &[]).await;

    // Log in with the keyboard; the administration is one link from the staff home page.
    browser.goto(&app.url("/staff/admin/rules")).await;
    browser.wait_for("#login").await;
    browser.find("#login").await.send_keys(ADMIN_LOGIN).await.unwrap();
    browser.type_and_enter("#password", ADMIN_PASSWORD).await;
    browser.wait_for("#explainer").await;
    assert_eq!(browser.path().await, "/staff/admin/rules");
    judge(&browser, axe, "rule matrix").await;

    // The explainer with the keyboard: the first choice of each select (Central, ADULT, BK),
    // then Enter on the button.
    for id in ["branch", "category", "item_type"] {
        let select = browser.find(&format!("#{id}")).await;
        select.send_keys(&char::from(Key::Down).to_string()).await.unwrap();
        assert_eq!(focused(&browser).await, id);
    }
    let button = browser.find("#explainer button[type='submit']").await;
    browser.press_enter_on(&button).await;
    browser.wait_for("#answer").await;
    assert_eq!(browser.path().await, "/staff/admin/rules?branch=CEN&category=ADULT&item_type=BK");
    assert_eq!(browser.text("#winner").await, "CEN/*/*");
    assert_eq!(browser.text("#param-loan_period td.value").await, "14 days");
    let passed = browser.text("#passed-over").await;
    assert!(passed.contains("OAK/ADULT/BK: its branch is OAK, not CEN"), "{passed}");
    judge(&browser, axe, "rule explanation").await;
    browser.screenshot("admin-rules").await;

    // A question left half asked: the error is announced and tied to its field.
    browser.goto(&app.url("/staff/admin/rules?branch=&category=ADULT&item_type=BK")).await;
    browser.wait_for("#branch-error").await;
    assert_eq!(browser.find("#branch").await.attr("aria-describedby").await.unwrap().as_deref(), Some("branch-error"));
    judge(&browser, axe, "rule explainer with an error").await;

    // A branch form sent with a bad code, from the keyboard: errors next to the fields.
    browser.goto(&app.url("/staff/admin/branches")).await;
    browser.wait_for("#code").await;
    browser.find("#code").await.send_keys("NOT A CODE").await.unwrap();
    browser.type_and_enter("#name", "East").await;
    browser.wait_for("#code-error").await;
    assert_eq!(browser.find("#code").await.prop("value").await.unwrap().as_deref(), Some("NOT A CODE"));
    judge(&browser, axe, "branch form with an error").await;

    for (path, ready) in [
        ("/staff/admin", "main ul"),
        ("/staff/admin/branches", "#entries"),
        ("/staff/admin/branches/CEN", "#name"),
        ("/staff/admin/locations", "#entries"),
        ("/staff/admin/item-types", "#loanable"),
        ("/staff/admin/item-types/REF", "#loanable"),
        ("/staff/admin/accounts", "#accounts"),
        ("/staff/admin/accounts/helper", "#active"),
        ("/staff/admin/calendars", "#hours"),
        ("/staff/admin/categories", "#categories"),
        ("/staff/admin/notices", "#templates"),
        ("/staff/admin/notices/overdue_1/print", "#preview"),
    ] {
        browser.goto(&app.url(path)).await;
        browser.wait_for(ready).await;
        judge(&browser, axe, path).await;
    }
    browser.close().await;
}
