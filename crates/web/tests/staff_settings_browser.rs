//! Editing the circulation settings in a real browser (headless Chromium over WebDriver): a rule
//! row's loan period changed with the keyboard only (End, Backspace, typing, Enter), a bad value
//! answered at its field, and every editing page judged by axe-core and fitting the window at
//! 1280x720 and at tablet width 768x1024; `admin-rule-edit.png` is written to
//! `target/tmp/screenshots/`.

#![allow(clippy::unwrap_used)]

mod browser;
mod common;
mod staff_fixture;

use browser::{have_axe, Browser};
use common::*;
use fantoccini::key::Key;
use staff_fixture::*;

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

/// Empties a text field from the keyboard: to its end, then Backspace over every character.
async fn clear_with_keys(browser: &Browser, css: &str) {
    let field = browser.find(css).await;
    let length = field.prop("value").await.unwrap().unwrap_or_default().chars().count();
    let keys: String =
        std::iter::once(char::from(Key::End)).chain(std::iter::repeat_n(char::from(Key::Backspace), length)).collect();
    field.send_keys(&keys).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_row_is_edited_with_the_keyboard_and_the_edit_pages_pass_axe() {
    let Some(browser) = Browser::start().await else { return };
    let axe = have_axe();
    let app = spawn_app_with_circulation(desk::CirculationSettings::default()).await;
    app.organisation().await;

    browser.goto(&app.url("/staff/admin/rules/1")).await;
    browser.wait_for("#login").await;
    browser.find("#login").await.send_keys(ADMIN_LOGIN).await.unwrap();
    browser.type_and_enter("#password", ADMIN_PASSWORD).await;
    browser.wait_for("#rule-form").await;
    assert_eq!(browser.path().await, "/staff/admin/rules/1");
    judge(&browser, axe, "rule row edit").await;

    // A loan period that is not one: answered at the field, what was typed kept.
    clear_with_keys(&browser, "#loan_period").await;
    browser.type_and_enter("#loan_period", "a month").await;
    browser.wait_for("#loan_period-error").await;
    let field = browser.find("#loan_period").await;
    assert_eq!(field.attr("aria-describedby").await.unwrap().as_deref(), Some("loan_period-error"));
    assert_eq!(field.prop("value").await.unwrap().as_deref(), Some("a month"));
    judge(&browser, axe, "rule row edit with an error").await;

    // Corrected: 28 days, saved and shown in the matrix.
    clear_with_keys(&browser, "#loan_period").await;
    browser.type_and_enter("#loan_period", "28 days").await;
    browser.wait_for("#saved").await;
    assert_eq!(browser.text("#row-1 td:nth-of-type(3)").await, "28 days");
    let changed = browser.text("#settings-changed").await;
    assert!(changed.starts_with("Last changed by admin on "), "{changed}");
    judge(&browser, axe, "rule matrix after an edit").await;
    browser.screenshot("admin-rule-edit").await;

    for (path, ready) in [
        ("/staff/admin/rules/new", "#rule-form"),
        ("/staff/admin/calendars", "#edit-calendars"),
        ("/staff/admin/calendars/library", "#calendar-form"),
        ("/staff/admin/calendars/branches/CEN", "#own_hours"),
        ("/staff/admin/categories", "#category-form"),
        ("/staff/admin/categories/ADULT", "#category-form"),
    ] {
        browser.goto(&app.url(path)).await;
        browser.wait_for(ready).await;
        judge(&browser, axe, path).await;
    }
    browser.close().await;
}
