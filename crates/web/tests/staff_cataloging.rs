//! The staff client's cataloging screens over plain HTTP: the MARC editor names each kind of
//! problem beside its box (245 missing, 245 without $a, a bad indicator, a bad subfield code, a
//! control field with subfields, a tag that is not three digits) and keeps what was typed; real
//! records (MARC-8 and UTF-8, with diacritics and non-Latin scripts) come back byte for byte
//! when their editor page is posted unchanged; a clerk without the Catalog permission is
//! refused; items: a taken barcode is named, a double submit adds one item, the shelf position
//! shows the neighbours; labels come as a PDF; the catalog search finds by barcode and title.

#![allow(clippy::unwrap_used)]

mod common;
mod staff_fixture;

use common::*;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use staff_fixture::*;

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

/// An attribute's value in one tag's text.
fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    let end = tag[at..].find('"')? + at;
    Some(unescape(&tag[at..end]))
}

/// What a browser sends for the form whose opening tag contains `marker`, without pressing a
/// button: every input (checkboxes only when checked) and the selected option of every select.
fn form_fields(page: &str, marker: &str) -> Vec<(String, String)> {
    let start = page.find(marker).unwrap_or_else(|| panic!("no form {marker} on the page"));
    let end = page[start..].find("</form>").unwrap() + start;
    let form = &page[start..end];
    let mut out = Vec::new();
    let mut rest = form;
    while let Some(at) = rest.find('<') {
        rest = &rest[at..];
        let close = rest.find('>').unwrap();
        let tag = &rest[..close];
        if tag.starts_with("<input") {
            let checkbox = attr(tag, "type").as_deref() == Some("checkbox");
            if let Some(name) = attr(tag, "name") {
                if !checkbox || tag.contains(" checked") {
                    out.push((name, attr(tag, "value").unwrap_or_default()));
                }
            }
        } else if tag.starts_with("<select") {
            let name = attr(tag, "name").unwrap();
            let body_end = rest.find("</select>").unwrap();
            let body = &rest[..body_end];
            let options: Vec<&str> = body.split("<option").skip(1).collect();
            let chosen = options.iter().find(|o| o[..o.find('>').unwrap()].contains(" selected")).or(options.first());
            let value =
                chosen.map(|o| attr(&o[..o.find('>').unwrap()], "value").unwrap_or_default()).unwrap_or_default();
            out.push((name, value));
            rest = &rest[body_end..];
            continue;
        }
        rest = &rest[close..];
    }
    out
}

fn set(fields: &mut Vec<(String, String)>, name: &str, value: &str) {
    match fields.iter_mut().find(|(k, _)| k == name) {
        Some(f) => f.1 = value.to_string(),
        None => fields.push((name.to_string(), value.to_string())),
    }
}

fn with_action(mut fields: Vec<(String, String)>, action: &str) -> Vec<(String, String)> {
    fields.push(("action".into(), action.into()));
    fields
}

const EDITOR: &str = "id=\"marc-editor\"";

/// A library with a cataloger signed in.
async fn cataloging() -> (Library, Clerk) {
    let lib = library().await;
    account(&lib.app, "cat", &["cataloger"], &["CEN"]).await;
    let clerk = sign_in(&lib.app, "cat").await;
    (lib, clerk)
}

/// The book template's form, with a title typed into 245 $a.
async fn book_form(clerk: &Clerk, title: &str) -> Vec<(String, String)> {
    let (status, page) = clerk.get("/staff/cataloging/records/new?template=book").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let mut fields = form_fields(&page, EDITOR);
    let title_row = fields.iter().find(|(k, v)| k.starts_with('t') && v == "245").unwrap().0.clone();
    let i = &title_row[1..];
    set(&mut fields, &format!("s{i}_0"), title);
    fields
}

/// The stored ISO 2709 of a record.
async fn stored_marc(app: &App, id: i64) -> Vec<u8> {
    let r = app.get(&format!("/api/v1/records/{id}?format=iso2709")).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn the_editor_names_each_problem_beside_its_box_and_keeps_what_was_typed() {
    let (lib, clerk) = cataloging().await;
    let base = book_form(&clerk, "The Whale").await;
    let index_of = |fields: &[(String, String)], tag: &str| {
        fields.iter().find(|(k, v)| k.starts_with('t') && v == tag).unwrap().0[1..].to_string()
    };
    let t245 = index_of(&base, "245");
    let t100 = index_of(&base, "100");

    // Each case: a change to the form, the box that must be marked, words the message must hold.
    type Change = Box<dyn Fn(&mut Vec<(String, String)>)>;
    let cases: Vec<(&str, Change, String, Vec<&str>)> = vec![
        (
            "245 missing",
            {
                let t = t245.clone();
                Box::new(move |f: &mut Vec<(String, String)>| set(f, &format!("t{t}"), "246"))
            },
            "record-problems".into(),
            vec!["Field 245 (title statement) is missing"],
        ),
        (
            "245 without $a",
            {
                let t = t245.clone();
                Box::new(move |f: &mut Vec<(String, String)>| {
                    set(f, &format!("c{t}_0"), "b");
                })
            },
            format!("t{t245}"),
            vec!["Field 245 has no subfield $a"],
        ),
        (
            "a bad indicator",
            {
                let t = t245.clone();
                Box::new(move |f: &mut Vec<(String, String)>| set(f, &format!("a{t}"), "7"))
            },
            format!("a{t245}"),
            vec!["Field 245 indicator 1", "\"7\" is not defined for 245", "\"0\" or \"1\""],
        ),
        (
            "an indicator that is no indicator",
            {
                let t = t100.clone();
                Box::new(move |f: &mut Vec<(String, String)>| {
                    set(f, &format!("s{t}_0"), "Melville, Herman.");
                    set(f, &format!("b{t}"), "*");
                })
            },
            format!("b{t100}"),
            vec!["Field 100 indicator 2", "not an indicator"],
        ),
        (
            "a bad subfield code",
            {
                let t = t100.clone();
                Box::new(move |f: &mut Vec<(String, String)>| {
                    set(f, &format!("s{t}_0"), "Melville, Herman.");
                    set(f, &format!("c{t}_0"), "A");
                })
            },
            format!("c{t100}_0"),
            vec!["Field 100 subfield 1", "\"A\"", "one lowercase letter a-z or digit 0-9"],
        ),
        (
            "a control field with subfields",
            {
                let t = t100.clone();
                Box::new(move |f: &mut Vec<(String, String)>| {
                    set(f, &format!("s{t}_0"), "20260101");
                    set(f, &format!("t{t}"), "005");
                })
            },
            format!("t{t100}"),
            vec!["Field 005 is a control field"],
        ),
        (
            "a tag of two digits",
            {
                let t = t100.clone();
                Box::new(move |f: &mut Vec<(String, String)>| {
                    set(f, &format!("s{t}_0"), "Melville, Herman.");
                    set(f, &format!("t{t}"), "10");
                })
            },
            format!("t{t100}"),
            vec!["the tag must be three digits", "\"10\""],
        ),
    ];
    for (n, (what, change, id, words)) in cases.into_iter().enumerate() {
        let mut fields = base.clone();
        change(&mut fields);
        // Each case is another form (a page re-rendered after an error carries a fresh token).
        set(&mut fields, "form_token", &format!("case-{n}"));
        let (status, page) = clerk.post("/staff/cataloging/records/new", &with_action(fields.clone(), "save")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {page}");
        let error = format!("id=\"{id}-error\"");
        let at = page.find(&error).unwrap_or_else(|| panic!("{what}: no message {error} in {page}"));
        let message = &page[at..at + page[at..].find("</p>").unwrap()];
        for w in words {
            assert!(unescape(message).contains(w), "{what}: {w:?} not in {message}");
        }
        if id != "record-problems" {
            assert!(page.contains(&format!("aria-describedby=\"{id}-error\"")), "{what}: the box is not described");
        }
        assert!(page.contains("role=\"alert\""), "{what}: no summary");
        // What was typed is still there.
        let again = form_fields(&page, EDITOR);
        for (k, v) in fields.iter().filter(|(k, v)| k.starts_with('t') || (k.starts_with('s') && !v.is_empty())) {
            assert!(again.contains(&(k.clone(), v.clone())), "{what}: {k}={v:?} was lost");
        }
    }
    // Nothing of that was stored.
    let records: Value = lib.app.get("/api/v1/records?limit=100").await.json().await.unwrap();
    assert_eq!(records["records"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn a_record_made_from_the_book_template_is_saved_once_however_often_it_is_sent() {
    let (lib, clerk) = cataloging().await;
    let mut fields = book_form(&clerk, "Moby Dick, or, The whale /").await;
    // Another type of record: its 008 positions come with the page, nothing is saved.
    let mut video = fields.clone();
    set(&mut video, "l06", "g");
    set(&mut video, "form_token", "video");
    let (status, page) = clerk.post("/staff/cataloging/records/new", &with_action(video, "refresh")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Type of visual material") && !page.contains("Literary form"), "the 008 of a video");
    assert!(form_fields(&page, EDITOR).contains(&("l06".to_string(), "g".to_string())));
    let t100 = fields.iter().find(|(k, v)| k.starts_with('t') && v == "100").unwrap().0[1..].to_string();
    set(&mut fields, &format!("s{t100}_0"), "Melville, Herman,");
    // Adding a subfield posts the form and saves nothing.
    let (status, page) = clerk
        .post("/staff/cataloging/records/new", &with_action(fields.clone(), &format!("add-subfield:{t100}")))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!("id=\"c{t100}_1\"")) && page.contains("autofocus"), "a new subfield row");
    let mut fields = form_fields(&page, EDITOR);
    set(&mut fields, &format!("c{t100}_1"), "d");
    set(&mut fields, &format!("s{t100}_1"), "1819-1891.");
    let save = with_action(fields, "save");
    let first = clerk.post_response("/staff/cataloging/records/new", &save).await;
    let second = clerk.post_response("/staff/cataloging/records/new", &save).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(second.status(), StatusCode::SEE_OTHER);
    let location = first.headers()[LOCATION].to_str().unwrap().to_string();
    assert_eq!(second.headers()[LOCATION].to_str().unwrap(), location, "the repeat answers with the first answer");
    let records: Value = lib.app.get("/api/v1/records?limit=100").await.json().await.unwrap();
    assert_eq!(records["records"].as_array().unwrap().len(), 6, "one record added");
    let id: i64 =
        location.trim_start_matches("/staff/cataloging/records/").trim_end_matches("?saved=1").parse().unwrap();
    let record: Value = lib.app.get(&format!("/api/v1/records/{id}")).await.json().await.unwrap();
    assert_eq!(record["title"], "Moby Dick, or, The whale");
    assert_eq!(record["authors"][0].as_str().unwrap(), "Melville, Herman, 1819-1891");
    let marc = &record["marc"]["fields"];
    let f100 = marc.as_array().unwrap().iter().find_map(|f| f.get("100")).unwrap();
    assert_eq!(f100["ind1"], "1");
    assert_eq!(f100["ind2"], " ");
    // The template's empty fields were left out, its coded 008 kept.
    assert!(marc.as_array().unwrap().iter().all(|f| f.get("020").is_none() && f.get("650").is_none()));
    let f008 = marc.as_array().unwrap().iter().find_map(|f| f.get("008")).unwrap().as_str().unwrap();
    assert_eq!(f008.len(), 40);
    assert_eq!(&f008[35..38], "eng");
    let (_, page) = clerk.get(&location).await;
    assert!(page.contains("id=\"saved\""), "the editor says it saved");
}

/// Real records: the first few of each file, read as the importer reads them.
fn real_records() -> Vec<(String, marc::Record)> {
    let mut out = Vec::new();
    let iso = |relative: &str, n: usize, out: &mut Vec<(String, marc::Record)>| {
        let data = std::fs::read(shared_data(relative)).unwrap();
        let mut taken = 0;
        for chunk in data.split(|b| *b == 0x1d).filter(|r| r.len() > 24) {
            let mut bytes = chunk.to_vec();
            bytes.push(0x1d);
            if let Ok(r) = marc::iso2709::read_one(&bytes) {
                out.push((format!("{relative} #{}", taken + 1), r));
                taken += 1;
                if taken == n {
                    break;
                }
            }
        }
        assert_eq!(taken, n, "{relative}");
    };
    // MARC-8 with Latin diacritics, Cyrillic, CJK and Hebrew; UTF-8 from Koha and LC.
    iso("marc/pymarc-tests/diacritic.dat", 1, &mut out);
    iso("marc/marc-perl-tests/marc-charset-cyrillic.marc", 1, &mut out);
    iso("marc/marc-perl-tests/marc-charset-cjk1.marc", 1, &mut out);
    iso("marc/marc-perl-tests/marc-charset-hebrew1.marc", 1, &mut out);
    iso("marc/koha-sample/koha-sample-with-items.mrc", 3, &mut out);
    iso("marc/lc-books-2016/lc-books-2016-sample.mrc", 3, &mut out);
    let opera = std::fs::read(shared_data("marc/lc-marcxml-samples/collection-opera-43.xml")).unwrap();
    for (n, r) in marc::xml::Reader::new(&opera[..]).take(2).enumerate() {
        out.push((format!("collection-opera-43.xml #{}", n + 1), r.unwrap().record));
    }
    out
}

#[tokio::test]
async fn real_records_come_back_byte_for_byte_when_the_editor_is_sent_unchanged() {
    let (lib, clerk) = cataloging().await;
    let records = real_records();
    let mut non_ascii = 0;
    for (name, record) in records {
        let r = lib
            .app
            .request(reqwest::Method::POST, "/api/v1/records")
            .header("content-type", "application/marcxml+xml")
            .body(marc::xml::to_marcxml(&record))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "{name}: {:?}", r.text().await);
        let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let before = stored_marc(&lib.app, id).await;
        if before.iter().any(|b| *b >= 0x80) {
            non_ascii += 1;
        }
        let (status, page) = clerk.get(&format!("/staff/cataloging/records/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        let fields = form_fields(&page, EDITOR);
        let (status, answer) =
            clerk.post(&format!("/staff/cataloging/records/{id}"), &with_action(fields, "save")).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{name}: {answer}");
        let after = stored_marc(&lib.app, id).await;
        assert!(
            before == after,
            "{name}: the stored MARC changed:\n{}\n{}",
            String::from_utf8_lossy(&before),
            String::from_utf8_lossy(&after)
        );
    }
    assert!(non_ascii >= 5, "records with diacritics and other scripts: {non_ascii}");
}

#[tokio::test]
async fn only_staff_with_the_catalog_permission_catalog() {
    let lib = library().await;
    account(&lib.app, "desk", &["clerk"], &["CEN"]).await;
    let clerk = sign_in(&lib.app, "desk").await;
    let id = lib.records[0].0;
    for path in [
        "/staff/cataloging".to_string(),
        "/staff/cataloging/records/new?template=book".into(),
        format!("/staff/cataloging/records/{id}"),
        format!("/staff/cataloging/records/{id}/items/new"),
        "/staff/cataloging/labels".into(),
    ] {
        let (status, page) = clerk.get(&path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(page.contains("catalog"), "{path}: the refusal names the permission: {page}");
    }
    let before = stored_marc(&lib.app, id).await;
    let posted = vec![
        ("leader".to_string(), "00000nam a2200000 i 4500".to_string()),
        ("t0".into(), "245".into()),
        ("a0".into(), "0".into()),
        ("b0".into(), "0".into()),
        ("c0_0".into(), "a".into()),
        ("s0_0".into(), "Overwritten".into()),
        ("action".into(), "save".into()),
    ];
    let (status, _) = clerk.post(&format!("/staff/cataloging/records/{id}"), &posted).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(stored_marc(&lib.app, id).await, before, "nothing was changed");
    let (status, _) = clerk.post("/staff/cataloging/records/new", &posted).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let labels = vec![("barcode".to_string(), BOOKS[0].to_string()), ("kind".into(), "spine".into())];
    let (status, _) = clerk.post("/staff/cataloging/labels", &labels).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let item = vec![
        ("barcode".to_string(), "39999000000019".to_string()),
        ("home_branch".into(), "CEN".into()),
        ("item_type".into(), "BK".into()),
    ];
    let (status, _) = clerk.post(&format!("/staff/cataloging/records/{id}/items"), &item).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let items: Value = lib.app.get("/api/v1/items?barcode=39999000000019").await.json().await.unwrap();
    assert!(items["items"].as_array().unwrap().is_empty());
    // Without a session: the log-in.
    let anonymous = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = anonymous.get(lib.app.url("/staff/cataloging")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()[LOCATION].to_str().unwrap().starts_with("/staff/login?next="));
}

async fn item_form(clerk: &Clerk, bib: i64) -> Vec<(String, String)> {
    let (status, page) = clerk.get(&format!("/staff/cataloging/records/{bib}/items/new")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    form_fields(&page, "class=\"item-form\"")
}

async fn items_of(app: &App, bib: i64) -> Vec<Value> {
    let body: Value = app.get(&format!("/api/v1/records/{bib}/items?limit=100")).await.json().await.unwrap();
    body["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn items_a_taken_barcode_is_named_a_double_submit_adds_one_and_the_shelf_place_is_shown() {
    let (lib, clerk) = cataloging().await;
    let app = &lib.app;
    let bib = lib.records[1].0;
    // Three items on the CEN Adult Fiction shelf to stand between.
    for (barcode, cn) in
        [("39000000000001", "QA76.73 .A1"), ("39000000000002", "QA76.73 .M5"), ("39000000000003", "QA76.73 .Z9")]
    {
        let mut item = item_json(barcode);
        item["call_number"] = json!(cn);
        let r = app.post(&format!("/api/v1/records/{}/items", lib.records[2].0), &item).await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let before = items_of(app, bib).await.len();
    let mut form = item_form(&clerk, bib).await;
    set(&mut form, "barcode", BOOKS[0]);
    set(&mut form, "location", "AF");
    set(&mut form, "call_number", "QA76.73 .K5");
    set(&mut form, "price", "19.99");

    // The taken barcode: named beside its box, everything typed kept.
    let (status, page) =
        clerk.post(&format!("/staff/cataloging/records/{bib}/items"), &with_action(form.clone(), "save")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("id=\"barcode-error\">Barcode: another item already has this barcode"), "{page}");
    assert!(page.contains("aria-describedby=\"barcode-error\""));
    let kept = form_fields(&page, "class=\"item-form\"");
    for name in ["barcode", "call_number", "price", "location"] {
        let want = form.iter().find(|(k, _)| k == name).unwrap();
        assert!(kept.contains(want), "{name} was not kept");
    }

    // The preview: between .A1/.M5 on the left... .K5 stands after .A1 and before .M5.
    // The page came back with a fresh form token: what the clerk sends next is a new action.
    let (status, page) =
        clerk.post(&format!("/staff/cataloging/records/{bib}/items"), &with_action(kept.clone(), "preview")).await;
    assert_eq!(status, StatusCode::OK);
    let preview = &page[page.find("id=\"shelf-preview\"").unwrap()..];
    let (a1, k5, m5) = (
        preview.find("QA76.73 .A1").unwrap(),
        preview.find("QA76.73 .K5").unwrap(),
        preview.find("QA76.73 .M5").unwrap(),
    );
    assert!(a1 < k5 && k5 < m5, "{preview}");
    assert!(preview.contains("(this item)"));
    assert_eq!(items_of(app, bib).await.len(), before, "a preview adds nothing");

    // A new barcode, sent twice with the same form token: one item.
    let mut form = form_fields(&page, "class=\"item-form\"");
    set(&mut form, "barcode", "39000000000010");
    let save = with_action(form, "save");
    let first = clerk.post_response(&format!("/staff/cataloging/records/{bib}/items"), &save).await;
    let second = clerk.post_response(&format!("/staff/cataloging/records/{bib}/items"), &save).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(second.headers()[LOCATION], first.headers()[LOCATION]);
    let items = items_of(app, bib).await;
    assert_eq!(items.len(), before + 1, "one item added");
    let added = items.iter().find(|i| i["barcode"] == "39000000000010").unwrap();
    assert_eq!(added["call_number"], "QA76.73 .K5");
    assert_eq!(added["price"], "19.99");
    assert_eq!(added["location"], "AF");
    assert_eq!(added["home_branch"], "CEN");

    // Its page: saved, and where it stands now that it is on the shelf.
    let (status, page) = clerk.get(first.headers()[LOCATION].to_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"saved\""));
    let preview = &page[page.find("id=\"shelf-preview\"").unwrap()..];
    assert_eq!(preview.matches("QA76.73 .K5").count(), 1, "the item is not its own neighbour: {preview}");
    assert!(preview.find("QA76.73 .A1").unwrap() < preview.find("QA76.73 .M5").unwrap());

    // Editing: a barcode of another item is refused the same way.
    let edit_path = first.headers()[LOCATION].to_str().unwrap().trim_end_matches("?saved=1").to_string();
    let mut edit = form_fields(&page, "class=\"item-form\"");
    set(&mut edit, "barcode", BOOKS[1]);
    let (status, page) = clerk.post(&edit_path, &with_action(edit.clone(), "save")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"barcode-error\">Barcode: another item already has this barcode"));
    let mut edit = form_fields(&page, "class=\"item-form\"");
    assert!(edit.contains(&("barcode".to_string(), BOOKS[1].to_string())), "the barcode typed is kept");
    set(&mut edit, "barcode", "39000000000010");
    set(&mut edit, "staff_note", "Signed by the author");
    let r = clerk.post_response(&edit_path, &with_action(edit, "save")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let stored: Value = app.get("/api/v1/items?barcode=39000000000010").await.json().await.unwrap();
    assert_eq!(stored["items"][0]["staff_note"], "Signed by the author");
    assert_eq!(stored["items"][0]["status"], "available");
}

#[tokio::test]
async fn chosen_items_print_as_a_label_pdf_and_the_search_finds_records() {
    let (lib, clerk) = cataloging().await;
    let bib = lib.records[0].0;
    let (status, page) = clerk.get(&format!("/staff/cataloging/records/{bib}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!("value=\"{}\"", BOOKS[0])), "the record's items with a box each");
    for kind in ["spine", "barcode"] {
        let form = vec![
            ("barcode".to_string(), BOOKS[0].to_string()),
            ("barcode".into(), BOOKS[1].to_string()),
            ("kind".into(), kind.into()),
            ("layout".into(), "".into()),
            ("offset".into(), "2".into()),
        ];
        let r = clerk.post_response("/staff/cataloging/labels", &form).await;
        assert_eq!(r.status(), StatusCode::OK, "{kind}");
        assert_eq!(r.headers()[CONTENT_TYPE], "application/pdf");
        let pdf = r.bytes().await.unwrap();
        assert!(pdf.starts_with(b"%PDF-"), "{kind}");
    }
    // Nothing chosen, or an unknown item: the page says which.
    let (status, page) = clerk.post("/staff/cataloging/labels", &[("kind".to_string(), "spine".to_string())]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("Choose at least one item"), "{page}");
    let (status, page) =
        clerk.post("/staff/cataloging/labels", &[("barcode".to_string(), "39999999999999".to_string())]).await;
    assert_eq!(status.as_u16() / 100, 4);
    assert!(page.contains("39999999999999"), "{page}");
    // The recent items of the branch, newest first.
    let (status, page) = clerk.get(&format!("/staff/cataloging/labels?barcode={REFERENCE}")).await;
    assert_eq!(status, StatusCode::OK);
    let newest = page.find(REFERENCE).unwrap();
    assert!(newest < page.find(BOOKS[0]).unwrap(), "newest first");
    assert!(page.contains(&format!("value=\"{REFERENCE}\" id=")) && page.contains(" checked"));

    // The catalog search: by barcode (the database), by title (the index).
    let (status, page) = clerk.get(&format!("/staff/cataloging?by=barcode&q={}", BOOKS[0])).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!("href=\"/staff/cataloging/records/{bib}\"")), "{page}");
    assert!(page.contains("1 item"));
    // By ISBN, typed with hyphens.
    let id = lib.app.record("Fahrenheit 451", 1953).await;
    let (status, page) = clerk.get("/staff/cataloging?by=isbn&q=0-306-40615-2").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!("href=\"/staff/cataloging/records/{id}\"")), "{page}");
    let (status, page) = clerk.get("/staff/cataloging?by=isbn&q=0-306-40615-3").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("ISBN &quot;0-306-40615-3&quot; is not a valid ISBN"), "{page}");
    lib.app.wait_for_index().await;
    let title = &lib.records[2].1;
    let word = title.split_whitespace().max_by_key(|w| w.len()).unwrap();
    let (status, page) = clerk.get(&format!("/staff/cataloging?by=title&q={}", encode(word))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!("href=\"/staff/cataloging/records/{}\"", lib.records[2].0)), "{word}: {page}");
    let (status, page) = clerk.get("/staff/cataloging?by=barcode&q=3123%20%C3%A9").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains("Item barcode &quot;3123 é&quot;"), "{page}");
}
