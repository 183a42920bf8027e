//! The staff client's holds and transits lists over plain HTTP: the pull list in shelf order
//! (LC call numbers whose text order is not their shelf order) with only the end of the card
//! printed; the hold shelf; expired holds cleared (each copy told where it goes next: the next
//! patron's hold shelf, or back to the shelf), once for a double submit; transits to send at one
//! branch and to receive at the other until the copy is checked in there; who may do what.

#![allow(clippy::unwrap_used)]

mod common;
mod staff_fixture;

use catalog::{Barcode, Code};
use chrono::{Duration, Utc};
use common::*;
use reqwest::header::LOCATION;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use staff_fixture::*;
use storage::holds::{HoldTarget, NewHold};

/// The barcodes of the rows of class `class`, in page order.
fn rows(page: &str, class: &str) -> Vec<String> {
    let marker = format!("<tr class=\"{class}\">");
    page.split(&marker)
        .skip(1)
        .map(|row| {
            let row = &row[..row.find("</tr>").unwrap()];
            row.split("<td>").find_map(|cell| {
                let cell = &cell[..cell.find("</td>").unwrap_or(cell.len())];
                let code = cell.split("<br>").next().unwrap();
                (code.len() == 14 && code.starts_with('3')).then(|| code.to_string())
            })
        })
        .map(|b| b.expect("a barcode in the row"))
        .collect()
}

async fn add_copy(app: &App, bib: i64, barcode: &str, call_number: &str) {
    let mut item = item_json(barcode);
    item["call_number"] = json!(call_number);
    let r = app.post(&format!("/api/v1/records/{bib}/items"), &item).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
}

async fn place_hold(app: &App, card: &str, bib: i64, pickup: &str) {
    let r = app.post("/api/v1/holds", &json!({"card_number": card, "record_id": bib, "pickup_branch": pickup})).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
}

async fn check_in(app: &App, barcode: &str, branch: &str) -> Value {
    let r = app.post("/api/v1/checkins", &json!({"barcode": barcode, "branch": branch})).await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    r.json().await.unwrap()
}

#[tokio::test]
async fn the_pull_list_is_in_shelf_order_and_prints_only_the_card_ending() {
    let lib = library().await;
    let app = &lib.app;
    // LC call numbers: QA9 shelves before QA76 though "QA7" sorts before "QA9" as text.
    let copies = [
        ("31234000000102", "QA76.73.R87 K53 2018"),
        ("31234000000110", "QA9.58 .A43 2004"),
        ("31234000000128", "PS3552.R6 F3 1953"),
    ];
    let mut titles = Vec::new();
    for (n, (barcode, call)) in copies.iter().enumerate() {
        let title = format!("Shelf order {n}");
        let bib = app.record(&title, 2000 + n as u32).await;
        add_copy(app, bib, barcode, call).await;
        place_hold(app, READER, bib, "CEN").await;
        titles.push(title);
    }
    account(app, "desk", &["clerk"], &["CEN"]).await;
    let clerk = sign_in(app, "desk").await;

    let (status, page) = clerk.get("/staff/holds/pull-list?branch=CEN").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let pulled = rows(&page, "pull");
    let order: Vec<&str> = pulled.iter().map(String::as_str).collect();
    assert_eq!(order, vec![copies[2].0, copies[1].0, copies[0].0], "PS3552 < QA9.58 < QA76.73: {page}");
    for (barcode, call) in copies {
        assert!(page.contains(&format!("<td>{}</td>", html(call))), "{barcode}'s call number");
    }
    // The same list as the JSON API's pull list.
    let api: Value = app.get("/api/v1/branches/CEN/pull-list").await.json().await.unwrap();
    let api_order: Vec<&str> =
        api["copies"].as_array().unwrap().iter().map(|c| c["barcode"].as_str().unwrap()).collect();
    assert_eq!(order, api_order);
    for title in &titles {
        assert!(page.contains(&html(title)), "{title} missing");
    }
    assert!(page.contains("Adult Fiction"), "the location");
    assert!(page.contains("card ending 0017") && !page.contains(READER), "the printed list names no card");
    assert!(page.contains("onclick=\"window.print()\"") && page.contains("@media print"));

    // Nothing to pull at Oak Hill.
    account(app, "both", &["clerk"], &["CEN", "OAK"]).await;
    let both = sign_in(app, "both").await;
    let (status, page) = both.get("/staff/holds/pull-list?branch=OAK").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Nothing to pull") && rows(&page, "pull").is_empty());
}

#[tokio::test]
async fn the_hold_shelf_expired_holds_and_transits() {
    let lib = library().await;
    let app = &lib.app;
    account(app, "both", &["clerk"], &["CEN", "OAK"]).await;
    let clerk = sign_in(app, "both").await;
    let (dune, emma, third) = (lib.records[0].0, lib.records[1].0, lib.records[2].0);

    // Long ago: READER's holds on two titles were trapped at Central and never picked up;
    // HOLDER waits for the first title too.
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || {
        let desk = desk::Desk::new(desk::CirculationSettings::default().build().unwrap());
        let then = Utc::now() - Duration::days(30);
        let cen = Code::parse("CEN").unwrap();
        for (card, bib, minutes) in [(READER, dune, 0), (READER, emma, 1), (HOLDER, dune, 2)] {
            let hold = NewHold {
                card_number: card.into(),
                target: HoldTarget::Record(bib),
                pickup_branch: cen.clone(),
                not_needed_after: None,
            };
            desk.place_hold(&*db, &hold, then + Duration::minutes(minutes)).unwrap();
        }
        for barcode in [BOOKS[0], BOOKS[1]] {
            let receipt = desk.check_in(&*db, &Barcode::parse(barcode).unwrap(), &cen, None, then + Duration::hours(1));
            assert!(matches!(receipt.unwrap().decision.routing, circulation::Routing::HoldShelf { .. }));
        }
    })
    .await
    .unwrap();
    // Today: a hold on the third title, trapped now, is on the shelf and not expired.
    place_hold(app, HOLDER, third, "CEN").await;
    let routed = check_in(app, BOOKS[2], "CEN").await;
    assert_eq!(routed["routing"]["to"], "hold_shelf", "{routed}");

    let (status, page) = clerk.get("/staff/holds/shelf?branch=CEN").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(rows(&page, "on-shelf"), vec![BOOKS[0], BOOKS[1], BOOKS[2]], "earliest pickup deadline first");
    assert!(page.contains(&format!("{READER} Reader (card {READER})")), "{page}");
    assert!(page.contains(&html(&lib.records[2].1)));

    let (status, page) = clerk.get("/staff/holds/expired?branch=CEN").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rows(&page, "on-shelf"), vec![BOOKS[0], BOOKS[1]], "only the lapsed ones");
    let form_token = token(&page);

    // Cleared, twice with the same form: one sweep, the same answer both times.
    let form = [("branch", "CEN"), ("form_token", form_token.as_str())];
    let (first, second) =
        tokio::join!(clerk.post("/staff/holds/expired", &form), clerk.post("/staff/holds/expired", &form));
    assert_eq!(first.0, StatusCode::OK, "{}", first.1);
    assert_eq!(first, second, "a double submit answered differently");
    let page = first.1;
    assert!(page.contains("Cleared 2 expired holds"), "{page}");
    // BOOKS[0] goes to HOLDER, next in the queue; BOOKS[1] has nobody waiting.
    assert!(
        page.contains(&format!("Keep on the hold shelf for {HOLDER} Reader (card {HOLDER})")),
        "the next patron: {page}"
    );
    assert!(page.contains("Reshelve at Adult Fiction, FIC BRADBURY"), "{page}");
    assert!(page.contains("No hold on the shelf here is past its pickup date"), "{page}");
    let holds: Value = app.get(&format!("/api/v1/patrons/{READER}/holds")).await.json().await.unwrap();
    let expired = holds["holds"].as_array().unwrap().iter().filter(|h| h["status"] == "expired").count();
    assert_eq!(expired, 2, "{holds}");
    let (_, page) = clerk.get("/staff/holds/shelf?branch=CEN").await;
    // Both trapped today: the same pickup deadline, the earlier hold (HOLDER's first) first.
    assert_eq!(rows(&page, "on-shelf"), vec![BOOKS[0], BOOKS[2]]);

    // A hold at Oak Hill for the copy just reshelved: checked in at Central it travels.
    place_hold(app, READER, emma, "OAK").await;
    let routed = check_in(app, BOOKS[1], "CEN").await;
    assert_eq!(
        (routed["routing"]["to"].as_str(), routed["routing"]["branch"].as_str()),
        (Some("transit"), Some("OAK"))
    );
    let (status, page) = clerk.get("/staff/transits?branch=CEN").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rows(&page, "transit"), vec![BOOKS[1]], "{page}");
    assert!(page.contains("Oak Hill Branch") && page.contains(&format!("hold for card {READER}")), "{page}");
    assert!(page.contains("Nothing is on its way here."));
    let (_, page) = clerk.get("/staff/transits?branch=OAK").await;
    assert_eq!(rows(&page, "transit"), vec![BOOKS[1]], "{page}");
    assert!(page.contains("Central Library") && page.contains("href=\"/staff/checkin?branch=OAK\""), "{page}");
    assert!(page.contains("Nothing to send."));

    // Received: checked in at Oak Hill, it leaves both lists and waits on Oak Hill's shelf.
    let routed = check_in(app, BOOKS[1], "OAK").await;
    assert_eq!(routed["routing"]["to"], "hold_shelf");
    for branch in ["CEN", "OAK"] {
        let (_, page) = clerk.get(&format!("/staff/transits?branch={branch}")).await;
        assert!(rows(&page, "transit").is_empty(), "{branch}: {page}");
    }
    let (_, page) = clerk.get("/staff/holds/shelf?branch=OAK").await;
    assert_eq!(rows(&page, "on-shelf"), vec![BOOKS[1]]);
}

#[tokio::test]
async fn who_may_read_the_lists_and_clear_the_shelf() {
    let lib = library().await;
    let app = &lib.app;
    let bib = lib.records[0].0;
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || {
        let desk = desk::Desk::new(desk::CirculationSettings::default().build().unwrap());
        let then = Utc::now() - Duration::days(30);
        let cen = Code::parse("CEN").unwrap();
        let hold = NewHold {
            card_number: READER.into(),
            target: HoldTarget::Record(bib),
            pickup_branch: cen.clone(),
            not_needed_after: None,
        };
        desk.place_hold(&*db, &hold, then).unwrap();
        desk.check_in(&*db, &Barcode::parse(BOOKS[0]).unwrap(), &cen, None, then).unwrap();
    })
    .await
    .unwrap();

    // No session: to the log-in.
    let anonymous = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for path in ["/staff/holds/pull-list", "/staff/holds/shelf", "/staff/holds/expired", "/staff/transits"] {
        let r = anonymous.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(r.headers()[LOCATION].to_str().unwrap().starts_with("/staff/login?next="));
    }

    // A volunteer (Shelve) reads the lists but may not clear: nothing changes.
    account(app, "vol", &["volunteer"], &[]).await;
    let vol = sign_in(app, "vol").await;
    for path in ["/staff/holds/pull-list", "/staff/holds/shelf", "/staff/holds/expired", "/staff/transits"] {
        assert_eq!(vol.get(&format!("{path}?branch=CEN")).await.0, StatusCode::OK, "{path}");
    }
    let (_, page) = vol.get("/staff/holds/expired?branch=CEN").await;
    let form_token = token(&page);
    let (status, page) = vol.post("/staff/holds/expired", &[("branch", "CEN"), ("form_token", &form_token)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("circulate permission"), "{page}");
    let (_, page) = vol.get("/staff/holds/expired?branch=CEN").await;
    assert_eq!(rows(&page, "on-shelf"), vec![BOOKS[0]], "the refused clearing wrote nothing");

    // A clerk of Oak Hill reads no list of Central, and clears nothing there.
    account(app, "oakdesk", &["clerk"], &["OAK"]).await;
    let oak = sign_in(app, "oakdesk").await;
    let (status, page) = oak.get("/staff/holds/shelf?branch=CEN").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("may act only at OAK"), "{page}");
    let (status, _) = oak.post("/staff/holds/expired", &[("branch", "CEN")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, page) = oak.get("/staff/holds/shelf").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Working at <strong>Oak Hill Branch</strong>") && page.contains("The hold shelf is empty"));
    assert_eq!(oak.get("/staff/transits?branch=NOPE").await.0, StatusCode::BAD_REQUEST);

    // The home page links the lists for those who may read them.
    let (_, home) = vol.get("/staff").await;
    assert!(home.contains("href=\"/staff/holds/pull-list\""));
}
