//! The patron screens over plain HTTP: who may open them (a cataloger cannot register, a
//! volunteer cannot take money), finding a patron by name, card, email or phone, registration
//! with its field errors and duplicate warning, the record (card renewal and replacement,
//! blocks, guarantor both ways, loans, reading history only as the patron chose, notices), and
//! the account: partial payment, a refused overpayment and waiver, a refund, and a payment form
//! posted twice that takes one payment.

#![allow(clippy::unwrap_used)]

mod common;
mod staff_fixture;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use staff_fixture::*;

/// The patron's account as the JSON API shows it.
async fn account_of(app: &App, card: &str) -> Value {
    app.get(&format!("/api/v1/patrons/{card}/account")).await.json().await.unwrap()
}

async fn patron_json(app: &App, card: &str) -> Value {
    app.get(&format!("/api/v1/patrons/{card}")).await.json().await.unwrap()
}

async fn charge(app: &App, card: &str, amount: &str) {
    let r = app
        .post(
            &format!("/api/v1/patrons/{card}/charges"),
            &json!({"kind": "overdue", "amount": amount, "note": "Overdue: returned late"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
}

fn adult<'a>(surname: &'a str, first: &'a str, birth: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("surname", surname),
        ("first_name", first),
        ("birth_date", birth),
        ("category", "ADULT"),
        ("home_branch", "CEN"),
        ("notice_preference", "email"),
        ("reading_history", "default"),
    ]
}

#[tokio::test]
async fn only_staff_with_the_permission_register_patrons_or_take_money() {
    let lib = library().await;
    let app = &lib.app;
    account(app, "cat", &["cataloger"], &[]).await;
    account(app, "vol", &["volunteer"], &[]).await;
    account(app, "clerk", &["clerk"], &["CEN"]).await;

    // A cataloger cannot open or post the registration, and nothing is registered.
    let cat = sign_in(app, "cat").await;
    let (status, page) = cat.get("/staff/patrons/new").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        page.contains("manage_patrons") || page.contains("ManagePatrons") || page.contains("manage patrons"),
        "{page}"
    );
    let a = cat.send("/staff/patrons/new", &adult("Moreau", "Lise", "1975-02-03")).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let found: Value = app.get("/api/v1/patrons?name=moreau").await.json().await.unwrap();
    assert_eq!(found["patrons"].as_array().unwrap().len(), 0, "the refused registration wrote nothing");
    assert_eq!(cat.get("/staff/patrons").await.0, StatusCode::FORBIDDEN);
    assert_eq!(cat.get(&format!("/staff/patrons/{READER}")).await.0, StatusCode::FORBIDDEN);
    let (_, home) = cat.get("/staff").await;
    assert!(!home.contains("href=\"/staff/patrons\">Patrons</a>:"), "{home}");

    // A volunteer cannot take money: the fine stays.
    charge(app, READER, "1.50").await;
    let vol = sign_in(app, "vol").await;
    let a = vol.send(&format!("/staff/patrons/{READER}/payment"), &[("amount", "1.50"), ("method", "cash")]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(a.page.contains("handle_money") || a.page.contains("handle money"), "{}", a.page);
    assert_eq!(account_of(app, READER).await["balance"], "1.50");

    // A clerk may do both, and sees the screen from the home page.
    let clerk = sign_in(app, "clerk").await;
    let (_, home) = clerk.get("/staff").await;
    assert!(home.contains("href=\"/staff/patrons\">Patrons</a>:"), "{home}");
    let (status, page) = clerk.get(&format!("/staff/patrons/{READER}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("action=\"/staff/patrons/21234000000017/payment\""), "{page}");
}

#[tokio::test]
async fn registration_names_the_fields_warns_of_duplicates_and_registers_once() {
    let lib = library().await;
    let app = &lib.app;
    account(app, "clerk", &["clerk"], &["CEN"]).await;
    let clerk = sign_in(app, "clerk").await;
    let (status, form) = clerk.get("/staff/patrons/new").await;
    assert_eq!(status, StatusCode::OK);
    for category in ["ADULT", "CHILD", "YA", "SENIOR"] {
        assert!(form.contains(&format!("<option value=\"{category}\"")), "category {category} offered: {form}");
    }
    assert!(form.contains("<option value=\"OAK\">Oak Hill Branch</option>"), "{form}");

    // Problems: each next to its field, the clerk's text kept.
    let mut bad = adult("", "Ana", "1980-13-45");
    bad.push(("email", "ana-at-example.org"));
    bad.push(("form_token", "bad-1"));
    let a = clerk.send("/staff/patrons/new", &bad).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.page);
    assert!(a.page.contains("aria-describedby=\"register-birth_date-error\""), "{}", a.page);
    assert!(a.page.contains("id=\"register-birth_date-error\">&quot;1980-13-45&quot; is not a date"), "{}", a.page);
    assert!(a.page.contains("value=\"1980-13-45\""), "the typed date is kept");
    assert!(a.page.contains("value=\"ana-at-example.org\""), "the typed email is kept");
    let fixed = {
        let mut f = adult("", "Ana", "1980-05-04");
        f.push(("email", "ana-at-example.org"));
        f.push(("form_token", "bad-2"));
        f
    };
    let a = clerk.send("/staff/patrons/new", &fixed).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.page);
    for field in ["surname", "email"] {
        assert!(
            a.page.contains(&format!("aria-describedby=\"register-{field}-error\"")),
            "{field} is marked: {}",
            a.page
        );
        assert!(a.page.contains(&format!("<a href=\"#register-{field}\">")), "{field} in the summary");
    }

    // A child needs a guarantor: said at the guarantor field.
    let mut child = adult("Lopez", "Mia", "2018-06-01");
    child[3] = ("category", "CHILD");
    child.push(("form_token", "child-1"));
    let a = clerk.send("/staff/patrons/new", &child).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.page.contains("id=\"register-guarantor-error\""), "{}", a.page);

    // Registered: to the record, with the new card. The same form sent twice registers once.
    let mut ana = adult("Lopez", "Ana", "1980-05-04");
    ana.extend([("email", "ana.lopez@example.org"), ("phone", "555-0100"), ("address", "1 Elm St")]);
    ana.push(("form_token", "ana-1"));
    let (first, second) = tokio::join!(clerk.send("/staff/patrons/new", &ana), clerk.send("/staff/patrons/new", &ana));
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.page);
    assert_eq!(second.status, StatusCode::SEE_OTHER);
    assert_eq!(first.location, second.location, "the repeat gets the first answer");
    let card = first.location.trim_start_matches("/staff/patrons/").trim_end_matches("?done=registered").to_string();
    assert_eq!(card.len(), 14, "{}", first.location);
    let found: Value = app.get("/api/v1/patrons?name=lopez%20ana").await.json().await.unwrap();
    assert_eq!(found["patrons"].as_array().unwrap().len(), 1, "one registration: {found}");
    let (_, record) = clerk.get(&first.location).await;
    assert!(record.contains(&format!("Registered Ana Lopez. Card number: {card}.")), "{record}");
    assert!(record.contains("ana.lopez@example.org") && record.contains("555-0100"), "{record}");

    // The same person again: the warning names and links the patron; nothing is registered
    // until the clerk confirms it is someone else.
    let mut again = adult("LOPEZ", "Ana", "1980-05-04");
    again.push(("form_token", "ana-2"));
    let a = clerk.send("/staff/patrons/new", &again).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.page);
    assert!(a.page.contains("This patron may already be registered"), "{}", a.page);
    assert!(
        a.page.contains(&format!(
            "<a href=\"/staff/patrons/{card}\">Ana Lopez (card {card}) has the same name and birth date</a>"
        )),
        "{}",
        a.page
    );
    assert!(a.page.contains("value=\"LOPEZ\""), "the form keeps what was typed");
    assert_eq!(
        app.get("/api/v1/patrons?name=lopez").await.json::<Value>().await.unwrap()["patrons"].as_array().unwrap().len(),
        1
    );
    again.pop();
    again.extend([("confirm_duplicate", "yes"), ("form_token", "ana-3")]);
    let a = clerk.send("/staff/patrons/new", &again).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.page);
    assert_ne!(a.location, first.location);
    assert_eq!(
        app.get("/api/v1/patrons?name=lopez").await.json::<Value>().await.unwrap()["patrons"].as_array().unwrap().len(),
        2
    );

    // Found again by name, card, email and phone.
    for q in ["lop", card.as_str(), "ANA.LOPEZ@example.org", "555-0100"] {
        let (status, page) = clerk.get(&format!("/staff/patrons?q={}", encode(q))).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains(&format!("<a href=\"/staff/patrons/{card}\">Lopez, Ana</a>")), "{q}: {page}");
    }
    let (_, page) = clerk.get("/staff/patrons?q=nobody-by-this-name").await;
    assert!(page.contains("No patron whose name starts with nobody-by-this-name"), "{page}");
}

#[tokio::test]
async fn the_account_takes_part_payments_refuses_what_it_must_and_pays_once_per_form() {
    let lib = library().await;
    let app = &lib.app;
    account(app, "clerk", &["clerk"], &["CEN"]).await;
    let clerk = sign_in(app, "clerk").await;
    charge(app, READER, "3.00").await;
    let path = format!("/staff/patrons/{READER}");
    let (_, page) = clerk.get(&path).await;
    assert!(page.contains("<strong id=\"balance\">3.00</strong>"), "{page}");
    assert!(page.contains("Overdue fine") && page.contains("Overdue: returned late"), "{page}");

    // The payment form sent twice (a double-click): one payment.
    let pay = format!("{path}/payment");
    let t = form_token(&page, &pay);
    let form = [("amount", "1.25"), ("method", "cash"), ("note", ""), ("form_token", t.as_str())];
    let (a, b) = tokio::join!(clerk.send(&pay, &form), clerk.send(&pay, &form));
    assert_eq!((a.status, b.status), (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER));
    assert_eq!(a.location, format!("{path}?done=paid"));
    let c = clerk.send(&pay, &form).await;
    assert_eq!(c.location, a.location, "a later repeat too");
    let acct = account_of(app, READER).await;
    let payments: Vec<&Value> = acct["entries"].as_array().unwrap().iter().filter(|e| e["type"] == "payment").collect();
    assert_eq!(payments.len(), 1, "{acct}");
    assert_eq!(acct["balance"], "1.75");
    let (_, page) = clerk.get(&a.location).await;
    assert!(page.contains("Payment taken. Balance now 1.75."), "{page}");

    // More than is owed: refused at the amount field, nothing posted.
    let t = form_token(&page, &pay);
    let a = clerk.send(&pay, &[("amount", "5.00"), ("method", "card"), ("form_token", &t)]).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.page.contains("id=\"pay-amount-error\""), "{}", a.page);
    assert!(a.page.contains("value=\"5.00\""), "the typed amount is kept");
    let t = form_token(&a.page, &pay);
    let a = clerk.send(&pay, &[("amount", "lots"), ("method", "card"), ("form_token", &t)]).await;
    assert!(a.page.contains("id=\"pay-amount-error\">&quot;lots&quot; is not an amount of money"), "{}", a.page);

    // A waiver needs a reason, named at the reason field.
    let waive = format!("{path}/waiver");
    let t = form_token(&a.page, &waive);
    let a = clerk.send(&waive, &[("amount", "0.75"), ("note", ""), ("form_token", &t)]).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.page.contains("aria-describedby=\"waive-note-error\""), "{}", a.page);
    assert!(a.page.contains("<a href=\"#waive-note\">Reason</a>"), "{}", a.page);
    let t = form_token(&a.page, &waive);
    let a = clerk.send(&waive, &[("amount", "0.75"), ("note", "First offence"), ("form_token", &t)]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.page);
    assert_eq!(account_of(app, READER).await["balance"], "1.00");

    // The rest by card; then the cash payment refunded with a reason.
    let (_, page) = clerk.get(&path).await;
    let t = form_token(&page, &pay);
    let a = clerk.send(&pay, &[("amount", "1.00"), ("method", "card"), ("form_token", &t)]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let (_, page) = clerk.get(&a.location).await;
    assert!(page.contains("<strong id=\"balance\">0.00</strong>"), "{page}");
    assert!(!page.contains(&format!("action=\"{pay}\"")), "nothing owed: no payment form");
    let refund = format!("{path}/refund");
    let t = form_token(&page, &refund);
    let charge_row =
        acct["entries"].as_array().unwrap().iter().find(|e| e["type"] == "charge").unwrap()["id"].to_string();
    let a = clerk
        .send(
            &refund,
            &[("charge", charge_row.as_str()), ("amount", "9.00"), ("note", "Paid twice"), ("form_token", t.as_str())],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "more than was paid");
    assert!(a.page.contains("id=\"refund-amount-error\""), "{}", a.page);
    let t = form_token(&a.page, &refund);
    let a = clerk
        .send(
            &refund,
            &[("charge", charge_row.as_str()), ("amount", "1.00"), ("note", "Paid twice"), ("form_token", t.as_str())],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.page);
    let acct = account_of(app, READER).await;
    let refunds: Vec<&Value> = acct["entries"].as_array().unwrap().iter().filter(|e| e["type"] == "refund").collect();
    assert_eq!(refunds.len(), 1, "{acct}");
    assert_eq!(refunds[0]["note"], "Paid twice");
}

#[tokio::test]
async fn the_record_renews_replaces_blocks_and_links_the_family() {
    let lib = library().await;
    let app = &lib.app;
    account(app, "clerk", &["clerk"], &["CEN"]).await;
    let clerk = sign_in(app, "clerk").await;

    // A guarantor and a child: linked both ways.
    let mut parent = adult("Okafor", "Grace", "1984-09-12");
    parent.extend([("reading_history", "keep"), ("form_token", "p-1")]);
    let a = clerk.send("/staff/patrons/new", &parent).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.page);
    let parent_card = a.location.trim_start_matches("/staff/patrons/").trim_end_matches("?done=registered").to_string();
    let mut child = adult("Okafor", "Tobi", "2017-03-02");
    child[3] = ("category", "CHILD");
    child.extend([("guarantor", parent_card.as_str()), ("form_token", "c-1")]);
    let a = clerk.send("/staff/patrons/new", &child).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.page);
    let child_card = a.location.trim_start_matches("/staff/patrons/").trim_end_matches("?done=registered").to_string();
    let (_, page) = clerk.get(&format!("/staff/patrons/{child_card}")).await;
    assert!(page.contains(&format!("Guarantor: <a href=\"/staff/patrons/{parent_card}\" class=\"guarantor\">Grace Okafor (card {parent_card})</a>")), "{page}");
    let (_, page) = clerk.get(&format!("/staff/patrons/{parent_card}")).await;
    assert!(
        page.contains(&format!("<a href=\"/staff/patrons/{child_card}\">Tobi Okafor (card {child_card})</a>")),
        "{page}"
    );
    assert!(page.contains(&format!("href=\"/staff/desk?card={parent_card}\">Open at the circulation desk")), "{page}");

    // Renewal: a later expiry, shown.
    let before = patron_json(app, &parent_card).await["expiry_date"].as_str().unwrap().to_string();
    let base = format!("/staff/patrons/{parent_card}");
    let t = form_token(&page, &format!("{base}/renewal"));
    let a = clerk.send(&format!("{base}/renewal"), &[("form_token", t.as_str())]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let after = patron_json(app, &parent_card).await["expiry_date"].as_str().unwrap().to_string();
    assert!(after > before, "{before} -> {after}");
    let (_, page) = clerk.get(&a.location).await;
    assert!(page.contains(&format!("Card renewed: it now expires on {after}.")), "{page}");

    // A lost card replaced: the record moves to the new card; the old one is recorded.
    let t = form_token(&page, &format!("{base}/replacement"));
    let a = clerk
        .send(&format!("{base}/replacement"), &[("card_number", ""), ("reason", "Lost on the bus"), ("form_token", &t)])
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.page);
    assert!(a.location.ends_with("?done=replaced"));
    assert!(!a.location.contains(&parent_card));
    let (_, page) = clerk.get(&a.location).await;
    assert!(page.contains(&format!("The old card {parent_card} is recorded as replaced")), "{page}");
    assert!(page.contains("Lost on the bus"), "{page}");
    let new_card = a.location.trim_start_matches("/staff/patrons/").trim_end_matches("?done=replaced").to_string();
    let (status, old) = clerk.get(&base).await;
    assert_eq!(status, StatusCode::GONE, "the old card no longer opens the record: {old}");
    assert!(old.contains(&format!("Card {parent_card} was replaced on")), "{old}");

    // Blocks: a reason is required (named at its field); placed, then lifted.
    let base = format!("/staff/patrons/{new_card}");
    let t = form_token(&page, &format!("{base}/blocks"));
    let a = clerk
        .send(&format!("{base}/blocks"), &[("kind", "manual"), ("reason", ""), ("until", ""), ("form_token", &t)])
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.page.contains("id=\"block-reason-error\""), "{}", a.page);
    let t = form_token(&a.page, &format!("{base}/blocks"));
    let a = clerk
        .send(
            &format!("{base}/blocks"),
            &[("kind", "manual"), ("reason", "Damaged three books"), ("until", ""), ("form_token", &t)],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.page);
    let blocks: Value = app.get(&format!("/api/v1/patrons/{new_card}/blocks")).await.json().await.unwrap();
    let id = blocks["blocks"][0]["id"].as_i64().unwrap();
    let (_, page) = clerk.get(&a.location).await;
    assert!(page.contains("Manual: Damaged three books"), "{page}");
    let lift = format!("{base}/blocks/{id}/lift");
    let t = form_token(&page, &lift);
    let a = clerk.send(&lift, &[("form_token", t.as_str())]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let blocks: Value = app.get(&format!("/api/v1/patrons/{new_card}/blocks")).await.json().await.unwrap();
    assert!(blocks["blocks"][0]["lifted_at"].is_string(), "{blocks}");

    // Details edited: a bad email is named, a good one saved.
    let (_, page) = clerk.get(&base).await;
    let t = form_token(&page, &format!("{base}/details"));
    let mut edit = adult("Okafor", "Grace", "1984-09-12");
    edit.extend([("email", "grace@"), ("form_token", t.as_str())]);
    let a = clerk.send(&format!("{base}/details"), &edit).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.page);
    assert!(a.page.contains("id=\"details-email-error\""), "{}", a.page);
    let t = form_token(&a.page, &format!("{base}/details"));
    let mut edit = adult("Okafor", "Grace", "1984-09-12");
    edit.extend([("email", "grace@example.org"), ("reading_history", "keep"), ("form_token", t.as_str())]);
    let a = clerk.send(&format!("{base}/details"), &edit).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.page);
    assert_eq!(patron_json(app, &new_card).await["email"], "grace@example.org");
}

#[tokio::test]
async fn loans_history_and_notices_show_only_what_the_patron_allows() {
    let lib = library().await;
    let app = &lib.app;
    account(app, "clerk", &["clerk"], &["CEN"]).await;
    let clerk = sign_in(app, "clerk").await;
    // READER keeps no history (the default); borrow and return one, keep another out.
    for barcode in BOOKS[..2].iter() {
        let r =
            app.post("/api/v1/checkouts", &json!({"card_number": READER, "barcode": barcode, "branch": "CEN"})).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    }
    let r = app.post("/api/v1/checkins", &json!({"barcode": BOOKS[0], "branch": "CEN"})).await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let hold = json!({"card_number": READER, "record_id": lib.records[3].0, "pickup_branch": "OAK"});
    let r = app.post("/api/v1/holds", &hold).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    let (_, page) = clerk.get(&format!("/staff/patrons/{READER}")).await;
    assert_eq!(page.matches("<tr class=\"loan\">").count(), 1, "{page}");
    assert_eq!(page.matches("<tr class=\"hold\">").count(), 1, "{page}");
    assert!(page.contains("Oak Hill Branch"), "the hold's pickup branch: {page}");
    assert!(page.contains(&lib.records[1].1.replace('&', "&amp;")), "the loan's title");
    assert!(page.contains("The patron did not choose to keep their reading history, so it is not shown."), "{page}");
    assert!(!page.contains("<table class=\"history\">"));
    let (_, page) = clerk.get(&format!("/staff/patrons/{READER}/history")).await;
    assert!(page.contains("did not choose to keep their reading history"), "{page}");

    // HOLDER chooses to keep it: the returned loan is listed.
    let details = json!({"surname": "Reader", "first_name": HOLDER, "category": "ADULT", "home_branch": "CEN",
                         "reading_history": "keep"});
    let r = app.put(&format!("/api/v1/patrons/{HOLDER}"), &details).await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let r = app.post("/api/v1/checkouts", &json!({"card_number": HOLDER, "barcode": BOOKS[2], "branch": "CEN"})).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    let r = app.post("/api/v1/checkins", &json!({"barcode": BOOKS[2], "branch": "CEN"})).await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let (_, page) = clerk.get(&format!("/staff/patrons/{HOLDER}")).await;
    assert!(page.contains("<table class=\"history\">"), "{page}");
    assert!(page.contains(&lib.records[2].1.replace('&', "&amp;")), "the returned title: {page}");
    assert!(!page.contains("did not choose to keep"), "{page}");

    // A notice the job sent: listed on the record, not on another patron's.
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || {
        let patron = db.patron_record(READER).unwrap().unwrap();
        let key = storage::notices::NoticeKey {
            patron_id: patron.id,
            kind: "overdue".into(),
            subject: "loan:1".into(),
            occasion: "2026-01-01T00:00:00Z".into(),
        };
        db.record_notice(&[key], chrono::Utc::now(), &mut |_| {
            Some(storage::notices::NewNotice {
                patron_id: patron.id,
                kind: "overdue".into(),
                channel: "print".into(),
                recipient: None,
                subject: "An item is overdue".into(),
                body: "Please return it.".into(),
                day: chrono::Utc::now().date_naive(),
            })
        })
        .unwrap()
        .unwrap();
    })
    .await
    .unwrap();
    let (_, page) = clerk.get(&format!("/staff/patrons/{READER}")).await;
    assert!(page.contains("<tr class=\"notice-row\">") && page.contains("An item is overdue"), "{page}");
    let (_, other) = clerk.get(&format!("/staff/patrons/{HOLDER}")).await;
    assert!(!other.contains("An item is overdue") && other.contains("No notices."), "{other}");
    assert!(!page.contains("Every notice sent"), "one notice needs no further page: {page}");

    // Sixty more: the record shows the latest ten and leads to every one, fifty a page.
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || {
        let patron = db.patron_record(READER).unwrap().unwrap();
        for n in 2..=61 {
            let key = storage::notices::NoticeKey {
                patron_id: patron.id,
                kind: "overdue".into(),
                subject: format!("loan:{n}"),
                occasion: "2026-01-01T00:00:00Z".into(),
            };
            db.record_notice(&[key], chrono::Utc::now(), &mut |_| {
                Some(storage::notices::NewNotice {
                    patron_id: patron.id,
                    kind: "overdue".into(),
                    channel: "print".into(),
                    recipient: None,
                    subject: format!("Overdue notice number {n}."),
                    body: "Please return it.".into(),
                    day: chrono::Utc::now().date_naive(),
                })
            })
            .unwrap()
            .unwrap();
        }
    })
    .await
    .unwrap();
    let (_, page) = clerk.get(&format!("/staff/patrons/{READER}")).await;
    assert_eq!(page.matches("<tr class=\"notice-row\">").count(), 10, "{page}");
    assert!(page.contains("number 61.") && !page.contains("number 51."), "the latest ten: {page}");
    assert!(page.contains(&format!("href=\"/staff/patrons/{READER}/notices\"")), "{page}");
    let (status, first) = clerk.get(&format!("/staff/patrons/{READER}/notices")).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first.matches("<tr class=\"notice-row\">").count(), 50, "{first}");
    assert!(first.contains("number 61.") && first.contains("number 12.") && !first.contains("number 11."), "{first}");
    let older = first.split("rel=\"next\"").next().and_then(|s| s.rsplit("href=\"").next()).expect("an Older link");
    let (_, rest) = clerk.get(older.trim_end_matches("\" ")).await;
    assert_eq!(rest.matches("<tr class=\"notice-row\">").count(), 11, "ten and the first one: {rest}");
    assert!(rest.contains("number 11.") && rest.contains("An item is overdue"), "{rest}");
    assert!(!rest.contains("rel=\"next\""), "the last page: {rest}");
}
