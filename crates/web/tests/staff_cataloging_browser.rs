//! Cataloging in a real browser (headless Chromium over WebDriver), with the keyboard: a
//! cataloger logs in, starts a record from the book template, types 100 $a and 245 $a, meets
//! the editor's message for a bad 245 indicator, fixes it and saves; adds an item with a call
//! number and sees where it will stand between two others on the shelf; chooses it on the
//! record's page and gets its spine and barcode labels as a PDF that `pdftotext` and `zbarimg`
//! read back. axe-core judges the search page, the editor and the item form, each of which fits
//! 1280x720 and a 768x1024 tablet; `marc-editor.png` goes to `target/tmp/screenshots/`.

#![allow(clippy::unwrap_used)]

mod browser;
mod common;
mod staff_fixture;

use std::process::Command;

use browser::{have_axe, Browser};
use fantoccini::key::Key;
use reqwest::StatusCode;
use serde_json::{json, Value};
use staff_fixture::*;

async fn focused(browser: &Browser) -> String {
    let element = browser.client.active_element().await.expect("an active element");
    element.attr("id").await.expect("read id").unwrap_or_default()
}

/// The page fits 1280x720 and 768x1024 without sideways scrolling; back to 1280x720.
async fn fits_both(browser: &Browser, page: &str) {
    for (w, h) in [(768, 1024), (1280, 720)] {
        browser.set_window_size(w, h).await;
        assert!(browser.fits_width().await, "the {page} page is wider than {w}x{h}");
    }
}

/// The row index of the editor's field with this tag (`t{i}` holds it).
async fn row_of(browser: &Browser, tag: &str) -> String {
    let input = browser.find(&format!("input[name^='t'][value='{tag}']")).await;
    input.attr("id").await.unwrap().unwrap()[1..].to_string()
}

/// Clears a box and types into it, as a person does (select all, then type over).
async fn retype(browser: &Browser, css: &str, text: &str) {
    let field = browser.find(css).await;
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

fn tool(name: &str) -> bool {
    let found =
        Command::new("sh").arg("-c").arg(format!("command -v {name}")).output().is_ok_and(|o| o.status.success());
    assert!(found || std::env::var_os("CI").is_none(), "CI is set but {name} is not installed");
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cataloger_creates_a_record_adds_an_item_and_prints_its_labels() {
    let Some(browser) = Browser::start().await else { return };
    let axe = have_axe();
    let lib = library().await;
    let app = &lib.app;
    account(app, "cat", &["cataloger"], &["CEN"]).await;
    // Two items on the Adult Fiction shelf at Central for the new one to stand between.
    for (barcode, cn) in [("39000000000001", "PS3545 .A1"), ("39000000000002", "PS3545 .Z9")] {
        let mut item = common::item_json(barcode);
        item["call_number"] = json!(cn);
        let r = app.post(&format!("/api/v1/records/{}/items", lib.records[2].0), &item).await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }

    browser.goto(&app.url("/staff/cataloging")).await;
    browser.wait_for("#login").await;
    browser.find("#login").await.send_keys("cat").await.unwrap();
    browser.type_and_enter("#password", &password("cat")).await;
    browser.wait_for("#q").await;
    assert_eq!(browser.path().await, "/staff/cataloging");
    if axe {
        browser.assert_accessible("catalog search").await;
    }
    fits_both(&browser, "catalog search").await;

    // A new record from the book template, reached with the keyboard.
    let start = browser.find("form[action='/staff/cataloging/records/new'] button").await;
    browser.press_enter_on(&start).await;
    browser.wait_for("#marc-editor").await;
    assert_eq!(browser.path().await, "/staff/cataloging/records/new?template=book");
    // The coded positions as lists: leader/06 language material, 008/23 form of item print.
    assert_eq!(browser.find("#l06").await.prop("value").await.unwrap().as_deref(), Some("a"));
    assert_eq!(browser.find("#p0_23").await.prop("value").await.unwrap().as_deref(), Some(" "));
    let (r100, r245) = (row_of(&browser, "100").await, row_of(&browser, "245").await);
    browser.find(&format!("#s{r100}_0")).await.send_keys("Melville, Herman,").await.unwrap();
    browser.find(&format!("#s{r245}_0")).await.send_keys("Moby Dick, or, The whale /").await.unwrap();
    browser.find(&format!("#s{r245}_1")).await.send_keys("Herman Melville.").await.unwrap();
    retype(&browser, &format!("#a{r245}"), "7").await;
    // Enter in a box sends the form with its first button: Save.
    browser.type_and_enter(&format!("#s{r245}_1"), "").await;
    let error = browser.wait_for(&format!("#a{r245}-error")).await.text().await.unwrap();
    assert!(error.contains("Field 245 indicator 1") && error.contains("\"0\" or \"1\""), "{error}");
    assert_eq!(
        browser.find(&format!("#a{r245}")).await.attr("aria-describedby").await.unwrap().as_deref(),
        Some(format!("a{r245}-error").as_str())
    );
    assert_eq!(
        browser.find(&format!("#s{r245}_0")).await.prop("value").await.unwrap().as_deref(),
        Some("Moby Dick, or, The whale /")
    );
    if axe {
        browser.assert_accessible("MARC editor with a problem").await;
    }
    let r245 = row_of(&browser, "245").await;
    retype(&browser, &format!("#a{r245}"), "1").await;
    browser.type_and_enter(&format!("#a{r245}"), "").await;
    browser.wait_for("#saved").await;
    let path = browser.path().await;
    let id: i64 = path.trim_start_matches("/staff/cataloging/records/").trim_end_matches("?saved=1").parse().unwrap();
    let record: Value = app.get(&format!("/api/v1/records/{id}")).await.json().await.unwrap();
    assert_eq!(record["title"], "Moby Dick, or, The whale");
    assert_eq!(record["authors"][0], "Melville, Herman");
    if axe {
        browser.assert_accessible("MARC editor").await;
    }
    fits_both(&browser, "MARC editor").await;
    // The whole editor in the picture: leader, 008 and the field grid.
    browser.set_window_size(1280, 2000).await;
    browser.client.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
    browser.screenshot("marc-editor").await;
    browser.set_window_size(1280, 720).await;

    // An item with its call number, previewed on the shelf, then saved.
    let add = browser.find(&format!("a[href='/staff/cataloging/records/{id}/items/new']")).await;
    browser.press_enter_on(&add).await;
    browser.wait_for("form.item-form").await;
    assert_eq!(focused(&browser).await, "barcode");
    browser.find("#barcode").await.send_keys("39000000000077").await.unwrap();
    // A select takes the typed start of an option's text.
    browser.find("#location").await.send_keys("Adult").await.unwrap();
    browser.find("#call_number").await.send_keys("PS3545 .M4").await.unwrap();
    browser.find("#price").await.send_keys("18.50").await.unwrap();
    let preview = browser.find("button[value='preview']").await;
    browser.press_enter_on(&preview).await;
    let shelf = browser.wait_for("#shelf-preview").await.text().await.unwrap();
    let (a1, m4, z9) =
        (shelf.find("PS3545 .A1").unwrap(), shelf.find("PS3545 .M4").unwrap(), shelf.find("PS3545 .Z9").unwrap());
    assert!(a1 < m4 && m4 < z9, "between its neighbours: {shelf}");
    if axe {
        browser.assert_accessible("item form").await;
    }
    fits_both(&browser, "item form").await;
    let save = browser.find("button[value='save']").await;
    browser.press_enter_on(&save).await;
    browser.wait_for("#saved").await;
    let items: Value = app.get(&format!("/api/v1/records/{id}/items")).await.json().await.unwrap();
    assert_eq!(items["items"].as_array().unwrap().len(), 1);
    assert_eq!(items["items"][0]["call_number"], "PS3545 .M4");
    assert_eq!(items["items"][0]["location"], "AF");

    // Back on the record's page: choose the item (space on its box) and print.
    let back = browser.find(&format!("a[href='/staff/cataloging/records/{id}']")).await;
    browser.press_enter_on(&back).await;
    browser.wait_for("#items").await;
    let choose = browser.find("input[type='checkbox'][value='39000000000077']").await;
    choose.send_keys(&char::from(Key::Space).to_string()).await.unwrap();
    assert_eq!(choose.prop("checked").await.unwrap().as_deref(), Some("true"));
    // The form opens the PDF in a new tab; its request is sent here with the browser's session.
    let cookie = browser.client.get_named_cookie("shelfmark_session").await.unwrap();
    let checked: Value = browser
        .client
        .execute(
            "return Array.from(document.querySelectorAll(\"form[action='/staff/cataloging/labels'] input[name=barcode]:checked\")).map(e => e.value);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(checked, json!(["39000000000077"]));
    let dir = tempfile::tempdir().unwrap();
    for kind in ["spine", "barcode"] {
        let r = reqwest::Client::new()
            .post(app.url("/staff/cataloging/labels"))
            .header("cookie", format!("shelfmark_session={}", cookie.value()))
            .form(&[("barcode", "39000000000077"), ("kind", kind), ("layout", ""), ("offset", "0")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{kind}");
        assert_eq!(r.headers()["content-type"], "application/pdf");
        let pdf = r.bytes().await.unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let file = dir.path().join(format!("{kind}.pdf"));
        std::fs::write(&file, &pdf).unwrap();
        if kind == "spine" && tool("pdftotext") {
            let out = Command::new("pdftotext").arg(&file).arg("-").output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            // One spine line per call-number part: class letters, number, cutter.
            let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            assert!(lines.windows(3).any(|w| w == ["PS", "3545", ".M4"]), "the spine label: {text}");
        }
        if kind == "barcode" && tool("pdftoppm") && tool("zbarimg") {
            let png = dir.path().join("barcode");
            let ok = Command::new("pdftoppm")
                .args(["-r", "300", "-png", "-f", "1", "-l", "1"])
                .arg(&file)
                .arg(&png)
                .status()
                .unwrap();
            assert!(ok.success());
            let page = std::fs::read_dir(dir.path())
                .unwrap()
                .filter_map(|e| e.ok().map(|e| e.path()))
                .find(|p| p.extension().is_some_and(|e| e == "png"))
                .unwrap();
            let out = Command::new("zbarimg").args(["--raw", "-q", "--nodbus"]).arg(&page).output().unwrap();
            let decoded = String::from_utf8_lossy(&out.stdout);
            assert!(decoded.lines().any(|l| l.contains("39000000000077")), "zbarimg read {decoded:?}");
        }
    }
    browser.close().await;
}
