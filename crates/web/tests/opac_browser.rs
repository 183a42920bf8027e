//! The public catalogue in a real browser (headless Chromium over WebDriver), driven with the
//! keyboard: search, narrow by a facet, open a record, log in, place a hold, see it in my
//! account, renew a loan. axe-core judges the home, results, record and account pages, and
//! screenshots of each are written to `target/tmp/screenshots/` for a person to look at.

#![allow(clippy::unwrap_used)]

mod browser;
mod common;

use browser::{have_axe, Browser};
use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const READER: &str = "21234000000017";
const OTHER: &str = "21234000000025";
const PIN: &str = "lantern-7391";

/// The library the patron visits: the Koha sample catalogue (real records) imported and
/// indexed, branches CEN and OAK, two copies of one real record, `wanted`, both on loan to
/// OTHER (so READER must wait for it), and a copy of another checked out to READER (to renew).
struct Library {
    app: App,
    wanted: i64,
    wanted_title: String,
}

async fn library() -> Library {
    let app = spawn_app().await;
    app.organisation().await;
    app.import_koha_sample(false).await;

    // A real record with a distinctive title to find, hold and borrow.
    let records: Value = app.get("/api/v1/records?limit=200").await.json().await.unwrap();
    let mut plain = records["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| Some((r["id"].as_i64()?, r["title"].as_str()?.to_string())))
        .filter(|(_, title)| {
            title.split_whitespace().count() >= 3 && title.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ')
        });
    let (wanted, wanted_title) = plain.next().expect("a record whose title is three plain words or more");
    let (borrowed, _) = plain.next().expect("a second such record");
    for (bib, barcode, branch) in
        [(wanted, "31234000000011", "CEN"), (wanted, "31234000000029", "OAK"), (borrowed, "31234000000037", "CEN")]
    {
        let mut item = item_json(barcode);
        item["home_branch"] = json!(branch);
        let r = app.post(&format!("/api/v1/records/{bib}/items"), &item).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    }
    app.patrons(&[READER, OTHER]).await;
    let r = app.put(&format!("/api/v1/patrons/{READER}/password"), &json!({"password": PIN})).await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    for barcode in ["31234000000011", "31234000000029"] {
        let r =
            app.post("/api/v1/checkouts", &json!({"card_number": OTHER, "barcode": barcode, "branch": "CEN"})).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    }
    // READER's loan began ten days ago, so renewing it today moves the due date.
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || {
        let desk = desk::Desk::new(desk::CirculationSettings::default().build().unwrap());
        let barcode = catalog::Barcode::parse("31234000000037").unwrap();
        let when = chrono::Utc::now() - chrono::Duration::days(10);
        desk.checkout(&*db, READER, &barcode, &catalog::Code::parse("CEN").unwrap(), when, None).expect("checkout");
    })
    .await
    .unwrap();

    // Everything indexed before the browser searches.
    app.wait_for_index().await;
    Library { app, wanted, wanted_title }
}

/// The count an `<h1>` such as "1,234 results for ..." states.
fn stated_count(h1: &str) -> u64 {
    let digits: String =
        h1.chars().take_while(|c| c.is_ascii_digit() || *c == ',').filter(char::is_ascii_digit).collect();
    digits.parse().unwrap_or_else(|_| panic!("no count at the start of the heading {h1:?}"))
}

/// The count in a facet link's "(N)".
fn facet_count(label: &str) -> u64 {
    let inside = label.rsplit_once('(').and_then(|(_, rest)| rest.split_once(')')).map(|(n, _)| n);
    inside.and_then(|n| n.replace(',', "").trim().parse().ok()).unwrap_or_else(|| panic!("no (count) in {label:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patron_finds_holds_and_renews_with_the_keyboard() {
    let Some(browser) = Browser::start().await else { return };
    let axe = have_axe();
    let lib = library().await;
    let app = &lib.app;

    // Home: search for "history" with the keyboard.
    browser.goto(&app.url("/")).await;
    if axe {
        browser.assert_accessible("home").await;
    }
    browser.screenshot("opac-home").await;
    browser.type_and_enter("#q", "history").await;
    browser.wait_for("ol.results li.result").await;
    assert!(browser.path().await.starts_with("/search?"), "{}", browser.path().await);
    let all = stated_count(&browser.text("h1").await);
    assert!(all > 1, "history should find several records, found {all}");

    // Narrow by the first format facet: the new count is the facet's count.
    let facet = browser.find("nav[aria-label='Refine results'] section.facet a.facet-value").await;
    let expected = facet_count(&facet.text().await.unwrap());
    assert!(expected <= all);
    browser.press_enter_on(&facet).await;
    browser.wait_for("a.remove-filter").await;
    let narrowed = stated_count(&browser.text("h1").await);
    assert_eq!(narrowed, expected, "the facet said {expected}, the results say {narrowed}");
    let shown = browser.find_all("ol.results li.result").await.len() as u64;
    assert!(shown >= 1 && shown <= narrowed, "{shown} results shown of {narrowed}");
    if axe {
        browser.assert_accessible("results").await;
    }
    browser.screenshot("opac-results").await;

    // The wanted record: searched by its title, opened from the results with Enter.
    browser.goto(&app.url("/")).await;
    browser.type_and_enter("#q", &lib.wanted_title).await;
    browser.wait_for("ol.results li.result").await;
    let href = format!("/records/{}", lib.wanted);
    let link = browser.find(&format!("ol.results a.title[href='{href}']")).await;
    browser.press_enter_on(&link).await;
    browser.wait_for("table.copies").await;
    assert_eq!(browser.path().await, href);
    assert_eq!(browser.find_all("table.copies tr.copy").await.len(), 2);
    if axe {
        browser.assert_accessible("record").await;
    }
    browser.screenshot("opac-record").await;

    // Not logged in: the record page offers a log-in that comes back here.
    let login = browser.find("a.login-to-hold").await;
    browser.press_enter_on(&login).await;
    browser.wait_for("#card").await;
    assert!(browser.path().await.starts_with("/login"), "{}", browser.path().await);
    browser.find("#card").await.send_keys(READER).await.unwrap();
    browser.type_and_enter("#password", "not the pin").await;
    browser.wait_for("p.error[role='alert']").await;
    browser.find("#card").await.clear().await.unwrap();
    browser.find("#card").await.send_keys(READER).await.unwrap();
    browser.type_and_enter("#password", PIN).await;
    browser.wait_for("form.place-hold").await;
    assert_eq!(browser.path().await, href, "the log-in goes back to the record");

    // Place the hold for pickup at OAK; my account shows it.
    browser.find("#pickup").await.select_by_value("OAK").await.unwrap();
    let place = browser.find("form.place-hold button[type='submit']").await;
    browser.press_enter_on(&place).await;
    browser.wait_for("section#holds").await;
    assert_eq!(browser.path().await, "/account");
    let message = browser.text("p.message[role='status']").await;
    assert!(message.contains("Hold placed"), "{message}");
    let holds = browser.text("section#holds").await;
    assert!(holds.contains(&lib.wanted_title), "the hold is not listed: {holds}");
    let stored: Value = app.get(&format!("/api/v1/patrons/{READER}/holds")).await.json().await.unwrap();
    assert_eq!(stored["holds"][0]["record_id"], lib.wanted, "{stored}");
    assert_eq!(stored["holds"][0]["pickup_branch"], "OAK", "{stored}");

    // Renew the loan from my account; the new due date is the desk's.
    let before: Value = app.get(&format!("/api/v1/patrons/{READER}/loans")).await.json().await.unwrap();
    let renew = browser.find("section#loans tr.loan form button[type='submit']").await;
    browser.press_enter_on(&renew).await;
    browser.wait_for("p.message[role='status']").await;
    let message = browser.text("p.message[role='status']").await;
    assert!(message.to_lowercase().contains("renewed"), "{message}");
    let after: Value = app.get(&format!("/api/v1/patrons/{READER}/loans")).await.json().await.unwrap();
    assert_eq!(after["loans"][0]["renewals"], 1, "{after}");
    assert_ne!(after["loans"][0]["due"], before["loans"][0]["due"], "{after}");
    if axe {
        browser.assert_accessible("account").await;
    }
    browser.screenshot("opac-account").await;

    // On a phone the account page still fits the screen.
    browser.client.set_window_size(390, 844).await.unwrap();
    browser.goto(&app.url("/account")).await;
    assert!(browser.fits_width().await, "the account page scrolls sideways at 390 px");
    browser.screenshot("opac-account-phone").await;
    browser.close().await;
}
