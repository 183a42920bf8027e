//! The web crate's one integration test binary: the real server on 127.0.0.1:0 over a real
//! SQLite database in a temporary directory, spoken to over HTTP with reqwest.

mod common;

use common::*;
use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_backend_counts_and_version() {
    let app = spawn_app().await;
    let r = app.get("/health").await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["backend"], "sqlite");
    assert_eq!(body["records"], 0);
    assert_eq!(body["items"], 0);
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn branches_locations_and_item_types() {
    let app = spawn_app().await;
    let r = app.post("/api/v1/branches", &json!({"code": "CEN", "name": "Central Library"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()[LOCATION], "/api/v1/branches/CEN");
    let got: Value = app.get("/api/v1/branches/CEN").await.json().await.expect("json");
    assert_eq!(got, json!({"code": "CEN", "name": "Central Library"}));

    let r = app.post("/api/v1/branches", &json!({"code": "CEN", "name": "Again"})).await;
    assert_error(r, StatusCode::CONFLICT, "branch_exists", Some("code")).await;
    let r = app.post("/api/v1/branches", &json!({"code": "bad code", "name": "X"})).await;
    assert_error(r, StatusCode::BAD_REQUEST, "invalid_code", Some("code")).await;
    let r = app.post("/api/v1/branches", &json!({"code": "NEW"})).await;
    assert_error(r, StatusCode::BAD_REQUEST, "missing_field", Some("name")).await;
    let r = app.post("/api/v1/branches", &json!({"code": "NEW", "name": "N", "nmae": "typo"})).await;
    assert_error(r, StatusCode::BAD_REQUEST, "unknown_field", Some("nmae")).await;
    let r = app.post("/api/v1/branches", &json!({"code": "NEW", "name": 5})).await;
    assert_error(r, StatusCode::BAD_REQUEST, "invalid_type", Some("name")).await;
    let r = app.request(reqwest::Method::POST, "/api/v1/branches").body("{not json").send().await.expect("POST");
    assert_error(r, StatusCode::BAD_REQUEST, "malformed_body", None).await;

    // PUT renames (200) or creates (201); a different code in the body is refused.
    let r = app.put("/api/v1/branches/CEN", &json!({"code": "CEN", "name": "Riverton Central"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app.put("/api/v1/branches/OAK", &json!({"name": "Oak Hill"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = app.put("/api/v1/branches/OAK", &json!({"code": "MIL", "name": "Oak Hill"})).await;
    assert_error(r, StatusCode::BAD_REQUEST, "code_mismatch", Some("code")).await;
    let list: Value = app.get("/api/v1/branches").await.json().await.expect("json");
    let names: Vec<&str> =
        list["branches"].as_array().expect("array").iter().filter_map(|b| b["name"].as_str()).collect();
    assert!(names.contains(&"Riverton Central") && names.contains(&"Oak Hill"), "{list}");

    let r = app.delete("/api/v1/branches/OAK").await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_error(app.get("/api/v1/branches/OAK").await, StatusCode::NOT_FOUND, "branch_not_found", Some("code")).await;
    assert_error(app.delete("/api/v1/branches/OAK").await, StatusCode::NOT_FOUND, "branch_not_found", Some("code"))
        .await;

    let r = app.put("/api/v1/locations/AF", &json!({"name": "Adult Fiction"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = app.put("/api/v1/locations/AF", &json!({"name": "Adult fiction"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let list: Value = app.get("/api/v1/locations").await.json().await.expect("json");
    assert_eq!(list["locations"], json!([{"code": "AF", "name": "Adult fiction"}]));

    let r = app.put("/api/v1/item-types/REF", &json!({"name": "Reference", "loanable": false})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = app.put("/api/v1/item-types/BK", &json!({"name": "Book", "loanable": "yes"})).await;
    assert_error(r, StatusCode::BAD_REQUEST, "invalid_type", Some("loanable")).await;
    let list: Value = app.get("/api/v1/item-types").await.json().await.expect("json");
    assert_eq!(list["item_types"], json!([{"code": "REF", "name": "Reference", "loanable": false}]));

    // Unknown routes and methods answer in JSON too.
    assert_error(app.get("/api/v1/nothing-here").await, StatusCode::NOT_FOUND, "route_not_found", None).await;
    let r = app.request(reqwest::Method::PATCH, "/api/v1/branches").send().await.expect("PATCH");
    assert_error(r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_crud_and_content_negotiation() {
    let app = spawn_app().await;
    let r = app.post("/api/v1/records", &marc_json("Fahrenheit 451", 1953)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let location = r.headers()[LOCATION].to_str().expect("location").to_string();
    let created: Value = r.json().await.expect("json");
    let id = created["id"].as_i64().expect("id");
    assert_eq!(location, format!("/api/v1/records/{id}"));
    assert_eq!(created["title"], "Fahrenheit 451");
    assert_eq!(created["year"], 1953);
    assert_eq!(created["isbns"], json!(["9780306406157"]));
    assert_eq!(created["format"], "book");

    // GET: derived fields and the MARC as MARC-in-JSON, leader/09 set to UTF-8 by the catalog.
    let got: Value = app.get(&location).await.json().await.expect("json");
    assert_eq!(got["title"], "Fahrenheit 451");
    assert_eq!(&got["marc"]["leader"].as_str().expect("leader")[9..10], "a");
    let fields = got["marc"]["fields"].as_array().expect("fields");
    let f245 = fields.iter().find_map(|f| f.get("245")).expect("245");
    assert_eq!(f245["subfields"][0]["a"], "Fahrenheit 451 /");
    assert_eq!(f245["ind1"], "1");

    // MARCXML by Accept header and by ?format=.
    let r = app
        .request(reqwest::Method::GET, &location)
        .header(ACCEPT, "application/marcxml+xml")
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()[CONTENT_TYPE].to_str().expect("ct").starts_with("application/marcxml+xml"));
    let xml = r.text().await.expect("text");
    assert!(xml.contains("<record") && xml.contains("http://www.loc.gov/MARC21/slim"), "{xml}");
    assert!(xml.contains("Fahrenheit 451 /"), "{xml}");
    let by_param = app.get(&format!("{location}?format=marcxml")).await.text().await.expect("text");
    assert_eq!(by_param, xml);
    let iso = app.get(&format!("{location}?format=iso2709")).await.bytes().await.expect("bytes");
    assert_eq!(iso.last(), Some(&0x1d));
    let r = app.request(reqwest::Method::GET, &location).header(ACCEPT, "text/html").send().await.expect("GET");
    assert_error(r, StatusCode::NOT_ACCEPTABLE, "not_acceptable", None).await;
    assert_error(
        app.get(&format!("{location}?format=pdf")).await,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
        Some("format"),
    )
    .await;

    // POST the MARCXML back (a second record), and PUT an edited MARC-in-JSON.
    let edited = xml.replace("Fahrenheit 451 /", "The Martian Chronicles /");
    let r = app
        .request(reqwest::Method::POST, "/api/v1/records")
        .header(CONTENT_TYPE, "application/marcxml+xml")
        .body(edited)
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), StatusCode::CREATED);
    let second: Value = r.json().await.expect("json");
    assert_eq!(second["title"], "The Martian Chronicles");
    assert_ne!(second["id"], id);

    let r = app.put(&location, &marc_json("Fahrenheit 451 (revised)", 1954)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let updated: Value = r.json().await.expect("json");
    assert_eq!(updated["title"], "Fahrenheit 451 (revised)");
    assert_eq!(updated["year"], 1954);
    assert_eq!(updated["id"], id);

    // Refusals.
    let mut bad = marc_json("X", 2000);
    bad["fields"][3]["245"]["ind1"] = json!("xx");
    let r = app.post("/api/v1/records", &bad).await;
    assert_error(r, StatusCode::BAD_REQUEST, "invalid_marc", Some("fields[3].245.ind1")).await;
    let r = app.post("/api/v1/records", &json!({"leader": "short", "fields": []})).await;
    assert_error(r, StatusCode::BAD_REQUEST, "invalid_marc", Some("leader")).await;
    let no_title = json!({"leader": "00000nam a2200000 i 4500", "fields": [{"001": "x1"}]});
    let r = app.post("/api/v1/records", &no_title).await;
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "record_rejected", Some("245")).await;
    let r = app
        .request(reqwest::Method::POST, "/api/v1/records")
        .header(CONTENT_TYPE, "text/plain")
        .body("hi")
        .send()
        .await
        .expect("POST");
    assert_error(r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", None).await;
    let r = app
        .request(reqwest::Method::POST, "/api/v1/records")
        .header(CONTENT_TYPE, "application/marcxml+xml")
        .body("<nonsense/>")
        .send()
        .await
        .expect("POST");
    assert_error(r, StatusCode::BAD_REQUEST, "invalid_marc", None).await;
    assert_error(app.get("/api/v1/records/999999").await, StatusCode::NOT_FOUND, "record_not_found", Some("id")).await;
    assert_error(app.get("/api/v1/records/abc").await, StatusCode::BAD_REQUEST, "invalid_parameter", Some("id")).await;
    let r = app.put("/api/v1/records/999999", &marc_json("Nothing", 2000)).await;
    assert_error(r, StatusCode::NOT_FOUND, "record_not_found", Some("id")).await;

    // A record with items cannot be deleted; without them it can.
    app.organisation().await;
    let r = app.post(&format!("/api/v1/records/{id}/items"), &item_json("31234000000016")).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let item: Value = r.json().await.expect("json");
    assert_error(app.delete(&location).await, StatusCode::CONFLICT, "record_has_items", Some("id")).await;
    let r = app.delete(&format!("/api/v1/items/{}", item["id"])).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.delete(&location).await.status(), StatusCode::NO_CONTENT);
    assert_error(app.get(&location).await, StatusCode::NOT_FOUND, "record_not_found", Some("id")).await;

    let health: Value = app.get("/health").await.json().await.expect("json");
    assert_eq!(health["records"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_crud_lookup_and_validation() {
    let app = spawn_app().await;
    app.organisation().await;
    let bib = app.record("Dandelion Wine", 1957).await;

    let r = app
        .post(
            "/api/v1/items",
            &json!({"bib_id": bib, "barcode": "31234000000024", "home_branch": "CEN",
        "holding_branch": "OAK", "item_type": "BK", "price": 18.5, "materials_specified": "1 book + 1 map"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let first: Value = r.json().await.expect("json");
    assert_eq!(first["bib_id"], bib);
    assert_eq!(first["status"], "available");
    assert_eq!(first["price"], "18.50");
    assert_eq!(first["holding_branch"], "OAK");
    let r = app.post(&format!("/api/v1/records/{bib}/items"), &item_json("31234000000032")).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let second: Value = r.json().await.expect("json");
    let second_url = format!("/api/v1/items/{}", second["id"]);

    // Lookup by barcode, by record, by filters.
    let found: Value = app.get("/api/v1/items?barcode=31234000000032").await.json().await.expect("json");
    assert_eq!(found["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(found["items"][0]["id"], second["id"]);
    let none: Value = app.get("/api/v1/items?barcode=39999999999999").await.json().await.expect("json");
    assert_eq!(none["items"], json!([]));
    let of_record: Value = app.get(&format!("/api/v1/records/{bib}/items")).await.json().await.expect("json");
    assert_eq!(of_record["items"].as_array().map(Vec::len), Some(2));
    let at_oak: Value = app.get("/api/v1/items?holding_branch=OAK").await.json().await.expect("json");
    assert_eq!(at_oak["items"].as_array().map(Vec::len), Some(1));
    assert_error(app.get("/api/v1/records/999999/items").await, StatusCode::NOT_FOUND, "record_not_found", Some("id"))
        .await;

    // Validation: each refusal names its field.
    let cases: Vec<(Value, StatusCode, &str, &str)> = vec![
        (json!({"barcode": "a b"}), StatusCode::BAD_REQUEST, "invalid_barcode", "barcode"),
        (json!({"barcode": ""}), StatusCode::BAD_REQUEST, "missing_field", "barcode"),
        (json!({"home_branch": "NOWHERE"}), StatusCode::BAD_REQUEST, "unknown_branch", "home_branch"),
        (json!({"home_branch": "no where"}), StatusCode::BAD_REQUEST, "invalid_code", "home_branch"),
        (json!({"location": "ZZ"}), StatusCode::BAD_REQUEST, "unknown_location", "location"),
        (json!({"item_type": "ZZ"}), StatusCode::BAD_REQUEST, "unknown_item_type", "item_type"),
        (json!({"price": "12.345"}), StatusCode::BAD_REQUEST, "invalid_price", "price"),
        (json!({"price": "-3"}), StatusCode::BAD_REQUEST, "invalid_price", "price"),
        (json!({"status": "borrowed"}), StatusCode::BAD_REQUEST, "invalid_status", "status"),
        (json!({"acquired_on": "2023-02-30"}), StatusCode::BAD_REQUEST, "invalid_date", "acquired_on"),
        (json!({"shelf": "3"}), StatusCode::BAD_REQUEST, "unknown_field", "shelf"),
        (json!({"barcode": "31234000000024"}), StatusCode::CONFLICT, "barcode_taken", "barcode"),
    ];
    for (patch, status, code, field) in cases {
        let mut body = item_json("31234000009999");
        for (k, v) in patch.as_object().expect("object") {
            body[k] = v.clone();
        }
        let r = app.post(&format!("/api/v1/records/{bib}/items"), &body).await;
        assert_error(r, status, code, Some(field)).await;
    }
    let r = app.post("/api/v1/items", &item_json("31234000009999")).await;
    assert_error(r, StatusCode::BAD_REQUEST, "missing_field", Some("bib_id")).await;
    let mut orphan = item_json("31234000009999");
    orphan["bib_id"] = json!(999999);
    assert_error(app.post("/api/v1/items", &orphan).await, StatusCode::BAD_REQUEST, "unknown_record", Some("bib_id"))
        .await;

    // Update: a GET body can be sent back with changes; id and bib_id cannot change.
    let mut edit: Value = app.get(&second_url).await.json().await.expect("json");
    edit["status"] = json!("checked_out");
    edit["public_note"] = json!("Signed by the author");
    let r = app.put(&second_url, &edit).await;
    assert_eq!(r.status(), StatusCode::OK);
    let updated: Value = r.json().await.expect("json");
    assert_eq!(updated["status"], "checked_out");
    assert_eq!(updated["public_note"], "Signed by the author");
    let out: Value = app.get("/api/v1/items?status=checked_out").await.json().await.expect("json");
    assert_eq!(out["items"].as_array().map(Vec::len), Some(1));
    edit["bib_id"] = json!(bib + 1);
    assert_error(app.put(&second_url, &edit).await, StatusCode::BAD_REQUEST, "read_only_field", Some("bib_id")).await;
    edit["bib_id"] = json!(bib);
    edit["barcode"] = json!("31234000000024");
    assert_error(app.put(&second_url, &edit).await, StatusCode::CONFLICT, "barcode_taken", Some("barcode")).await;
    assert_error(
        app.put("/api/v1/items/999999", &item_json("31234000007777")).await,
        StatusCode::NOT_FOUND,
        "item_not_found",
        Some("id"),
    )
    .await;

    // A branch that items name cannot be deleted.
    assert_error(app.delete("/api/v1/branches/OAK").await, StatusCode::CONFLICT, "branch_in_use", Some("code")).await;

    assert_eq!(app.delete(&second_url).await.status(), StatusCode::NO_CONTENT);
    assert_error(app.get(&second_url).await, StatusCode::NOT_FOUND, "item_not_found", Some("id")).await;
    assert_error(app.delete(&second_url).await, StatusCode::NOT_FOUND, "item_not_found", Some("id")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyset_paging_and_filters() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for (i, year) in (1990..1997).enumerate() {
        ids.push(app.record(&format!("Volume {i}"), year).await);
    }
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page: Value = app.get(&format!("/api/v1/records?limit=3&after={after}")).await.json().await.expect("json");
        let rows = page["records"].as_array().expect("records");
        assert!(rows.len() <= 3);
        seen.extend(rows.iter().filter_map(|r| r["id"].as_i64()));
        match page["next_after"].as_i64() {
            Some(next) => after = next,
            None => break,
        }
    }
    assert_eq!(seen, ids);

    let page: Value = app.get("/api/v1/records?year_from=1992&year_to=1993").await.json().await.expect("json");
    assert_eq!(page["records"].as_array().map(Vec::len), Some(2));
    assert_eq!(page["next_after"], Value::Null);
    let page: Value = app.get("/api/v1/records?title=volume%203").await.json().await.expect("json");
    assert_eq!(page["records"][0]["title"], "Volume 3");
    let page: Value = app.get("/api/v1/records?isbn=978-0-306-40615-7&format=book").await.json().await.expect("json");
    assert_eq!(page["records"].as_array().map(Vec::len), Some(7));

    for (query, field, code) in [
        ("limit=0", "limit", "invalid_parameter"),
        ("limit=100000", "limit", "invalid_parameter"),
        ("after=-1", "after", "invalid_parameter"),
        ("after=x", "after", "invalid_parameter"),
        ("year_from=soon", "year_from", "invalid_parameter"),
        ("isbn=123", "isbn", "invalid_isbn"),
        ("format=scroll", "format", "invalid_format"),
        ("branch=a%20b", "branch", "invalid_code"),
        ("titel=x", "titel", "invalid_parameter"),
    ] {
        let r = app.get(&format!("/api/v1/records?{query}")).await;
        assert_error(r, StatusCode::BAD_REQUEST, code, Some(field)).await;
    }
    let r = app.get("/api/v1/items?status=gone").await;
    assert_error(r, StatusCode::BAD_REQUEST, "invalid_status", Some("status")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_pages() {
    let app = spawn_app().await;
    app.organisation().await;
    let id = app.record("Tom & Jerry <Collected>", 2001).await;
    let r = app.post(&format!("/api/v1/records/{id}/items"), &item_json("31234000000040")).await;
    assert_eq!(r.status(), StatusCode::CREATED);

    let r = app.get("/").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()[CONTENT_TYPE].to_str().expect("ct").starts_with("text/html"));
    let home = r.text().await.expect("text");
    assert!(home.contains("<html lang=\"en\">"), "{home}");
    assert!(home.contains("<title>Home - Riverton &lt;Test&gt; Library</title>"), "{home}");
    assert!(home.contains("<main id=\"main\">") && home.contains("<nav aria-label=\"Main\">"));
    assert!(
        home.contains("<form role=\"search\" action=\"/search\" method=\"get\"") && home.contains("<label for=\"q\">")
    );
    assert!(home.contains(&format!("<a href=\"/records/{id}\">Tom &amp; Jerry &lt;Collected&gt;</a>")), "{home}");
    assert!(!home.contains("<Collected>"));
    assert!(home.contains("<strong>1</strong> record"));

    let page = app.get(&format!("/records/{id}")).await.text().await.expect("text");
    assert!(page.contains("<h1 id=\"record-title\">Tom &amp; Jerry &lt;Collected&gt;</h1>"), "{page}");
    assert!(
        page.contains("Central Library") && page.contains("Adult Fiction") && page.contains("FIC BRADBURY"),
        "{page}"
    );
    assert!(page.contains("Available"));
    assert!(page.contains("<td>245</td>") && page.contains("Bradbury, Ray,"), "{page}");

    let browse = app.get("/records?title=jerry").await.text().await.expect("text");
    assert!(browse.contains("Tom &amp; Jerry"));

    let r = app.get(&format!("/records/{}", id + 100)).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.expect("text").contains("<h1>Not found</h1>"));
    let r = app.get("/no/such/page").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.headers()[CONTENT_TYPE].to_str().expect("ct").starts_with("text/html"));
}

/// The shelf over HTTP: an unparsable call number is accepted with a warning and shelved last;
/// the shelf list pages in shelf order; a label sheet comes back as PDF, and its refusals name
/// their field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shelf_list_warnings_and_labels() {
    let app = spawn_app().await;
    app.organisation().await;
    let bib = app.record("Shelved", 2001).await;
    let numbers =
        ["813.54 KIN 2001 v.10", "QA76.73.R87 K53 2018", "813.54 KIN 2001 v.2", "(((?)))", "FIC KING", "599.75"];
    for (n, cn) in numbers.iter().enumerate() {
        let mut item = item_json(&format!("3123400000{n:04}"));
        item["call_number"] = json!(cn);
        let r = app.post(&format!("/api/v1/records/{bib}/items"), &item).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let body: Value = r.json().await.expect("json");
        let warned = body["warnings"].as_array().map(Vec::len);
        if *cn == "(((?)))" {
            assert_eq!(body["warnings"][0]["code"], "call_number_unparsed", "{body}");
            assert_eq!(body["warnings"][0]["field"], "call_number");
        } else {
            assert_eq!(warned, Some(0), "{body}");
        }
    }
    let mut order = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            None => "/api/v1/shelf-list?branch=CEN&location=AF&limit=4".to_string(),
            Some(a) => format!("/api/v1/shelf-list?branch=CEN&location=AF&limit=4&after={a}"),
        };
        let page: Value = app.get(&path).await.json().await.expect("json");
        for item in page["items"].as_array().expect("items") {
            order.push(item["call_number"].as_str().unwrap_or("").to_string());
        }
        match page["next_after"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(
        order,
        ["599.75", "813.54 KIN 2001 v.2", "813.54 KIN 2001 v.10", "QA76.73.R87 K53 2018", "(((?)))", "FIC KING"]
    );
    let page: Value = app.get("/api/v1/shelf-list?branch=CEN&to=600").await.json().await.expect("json");
    assert_eq!(page["items"][0]["spine_label"], json!(["599.75"]));
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
    assert_error(app.get("/api/v1/shelf-list").await, StatusCode::BAD_REQUEST, "missing_field", Some("branch")).await;
    assert_error(
        app.get("/api/v1/shelf-list?branch=CEN&after=zz").await,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
        Some("after"),
    )
    .await;

    let r = app
        .post(
            "/api/v1/labels",
            &json!({"kind": "spine", "barcodes": ["31234000000001", "31234000000005"], "offset": 3}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[CONTENT_TYPE], "application/pdf");
    assert!(r.bytes().await.expect("pdf").starts_with(b"%PDF-"));
    let r = app.post("/api/v1/labels", &json!({"kind": "barcode", "barcodes": ["31234000009999"]})).await;
    assert_error(r, StatusCode::BAD_REQUEST, "unknown_item", Some("barcodes")).await;
    let r =
        app.post("/api/v1/labels", &json!({"kind": "barcode", "barcodes": ["31234000000001"], "layout": "x"})).await;
    assert_error(r, StatusCode::BAD_REQUEST, "invalid_parameter", Some("layout")).await;
    let r = app.post("/api/v1/labels", &json!({"kind": "barcode", "barcodes": ["31234000000001"], "offset": 30})).await;
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_labels", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkout_renew_and_check_in_over_http() {
    let app = spawn_app().await;
    app.organisation().await;
    app.patrons(&["21234000000017", "21234000000025"]).await;
    let bib = app.record("The Lathe of Heaven", 1971).await;
    let r = app.post(&format!("/api/v1/records/{bib}/items"), &item_json("31234000000099")).await;
    assert_eq!(r.status(), StatusCode::CREATED);

    let out = app
        .post(
            "/api/v1/checkouts",
            &json!({"card_number": "21234000000017", "barcode": "31234000000099", "branch": "CEN"}),
        )
        .await;
    assert_eq!(out.status(), StatusCode::CREATED);
    let out: Value = out.json().await.expect("json");
    assert!(out["loan"]["due"]["utc"].as_str().is_some_and(|t| t.ends_with('Z')), "{out}");
    assert_eq!(out["loan"]["renewals"], 0);

    let other = app
        .post(
            "/api/v1/checkouts",
            &json!({"card_number": "21234000000025", "barcode": "31234000000099", "branch": "CEN"}),
        )
        .await;
    let body = assert_error(other, StatusCode::CONFLICT, "checkout_refused", None).await;
    assert_eq!(body["error"]["refusals"][0]["code"], "item_on_loan_to_other", "{body}");
    assert_eq!(body["error"]["refusals"][0]["overridable"], false);
    let unknown = app
        .post("/api/v1/checkouts", &json!({"card_number": "999", "barcode": "31234000000099", "branch": "CEN"}))
        .await;
    assert_error(unknown, StatusCode::NOT_FOUND, "unknown_card", Some("card_number")).await;
    let missing = app.post("/api/v1/checkouts", &json!({"card_number": "21234000000017", "branch": "CEN"})).await;
    assert_error(missing, StatusCode::BAD_REQUEST, "missing_field", Some("barcode")).await;

    // Renewed the day it went out, the due date would not move: refused, and said why.
    let same_day = app.post("/api/v1/renewals", &json!({"barcode": "31234000000099"})).await;
    let body = assert_error(same_day, StatusCode::CONFLICT, "renewal_refused", None).await;
    assert_eq!(body["error"]["refusals"][0]["code"], "renewal_not_later", "{body}");
    let loans: Value = app.get("/api/v1/patrons/21234000000017/loans").await.json().await.expect("json");
    assert_eq!(loans["loans"].as_array().map(Vec::len), Some(1), "{loans}");
    assert_eq!(loans["balance"], "0.00");

    let back = app.post("/api/v1/checkins", &json!({"barcode": "31234000000099", "branch": "OAK"})).await;
    assert_eq!(back.status(), StatusCode::OK);
    let back: Value = back.json().await.expect("json");
    assert_eq!(back["loan_closed"], true);
    assert_eq!(back["charge"], "0.00");
    assert_eq!(
        back["routing"],
        json!({"to": "transit", "branch": "CEN", "hold": null}),
        "returned at another branch: sent home"
    );
    assert_eq!(back["status"], "in_transit");
    let again = app.post("/api/v1/renewals", &json!({"barcode": "31234000000099"})).await;
    assert_error(again, StatusCode::CONFLICT, "not_on_loan", Some("barcode")).await;
    let future = app
        .post(
            "/api/v1/checkins",
            &json!({"barcode": "31234000000099", "branch": "CEN", "returned_at": "2999-01-01T00:00:00Z"}),
        )
        .await;
    assert_error(future, StatusCode::BAD_REQUEST, "invalid_check_in", Some("returned_at")).await;

    let rule: Value =
        app.get("/api/v1/circulation/rule?branch=CEN&category=ADULT&item_type=BK").await.json().await.expect("json");
    let loan_period =
        rule["parameters"].as_array().expect("parameters").iter().find(|p| p["parameter"] == "loan_period");
    assert_eq!(
        loan_period.map(|p| (p["value"].clone(), p["from_row"].clone())),
        Some((json!("21 days"), json!("*/*/*")))
    );
}

/// Eight desks send a checkout of one copy at the same moment, each for its own patron: one is
/// a loan, seven are refusals; the copy has one loan. On SQLite, and on PostgreSQL when it runs.
async fn one_copy_eight_desks(app: &App) {
    app.organisation().await;
    let cards: Vec<String> = (0..8).map(|n| format!("2123400000{n:04}")).collect();
    app.patrons(&cards.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let bib = app.record("Everyone wants it", 2025).await;
    let r = app.post(&format!("/api/v1/records/{bib}/items"), &item_json("31234000000777")).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let requests = cards.iter().map(|card| {
        app.request(reqwest::Method::POST, "/api/v1/checkouts")
            .json(&json!({"card_number": card, "barcode": "31234000000777", "branch": "CEN"}))
            .send()
    });
    let answers = futures_join_all(requests).await;
    let created = answers.iter().filter(|r| r.status() == StatusCode::CREATED).count();
    let refused = answers.iter().filter(|r| r.status() == StatusCode::CONFLICT).count();
    assert_eq!((created, refused), (1, 7));
    let mut loans = 0;
    for card in &cards {
        let v: Value = app.get(&format!("/api/v1/patrons/{card}/loans")).await.json().await.expect("json");
        loans += v["loans"].as_array().map_or(0, Vec::len);
    }
    assert_eq!(loans, 1);
}

/// Waits for every request (they run concurrently on the runtime).
async fn futures_join_all(
    requests: impl Iterator<Item = impl std::future::Future<Output = reqwest::Result<Response>> + Send + 'static>,
) -> Vec<Response> {
    let handles: Vec<_> = requests.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("join").expect("request"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_copy_eight_desks_sqlite() {
    one_copy_eight_desks(&spawn_app().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_copy_eight_desks_postgresql() {
    if let Some(app) = spawn_app_on_postgres("eight_desks").await {
        one_copy_eight_desks(&app).await;
        // The PostgreSQL client must not be dropped on a runtime thread.
        tokio::task::spawn_blocking(move || drop(app)).await.expect("join");
    }
}

/// A record created over the API is searchable within a second or two (the follower polls the
/// change feed), and `/health` reports the index's lag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_record_becomes_searchable() {
    let app = spawn_app().await;
    app.organisation().await;
    app.record("Zyzzyva and the Quillwort", 2019).await;
    let started = std::time::Instant::now();
    let found = loop {
        let r: Value = app.get("/api/v1/search?q=quillwort").await.json().await.expect("json");
        if r["results"]["total"] == 1 {
            break r;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "not searchable after 10 s: {r}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(found["results"]["hits"][0]["title"], "Zyzzyva and the Quillwort");
    let health: Value = app.get("/health").await.json().await.expect("json");
    assert_eq!(health["search"]["lag"], 0, "{health}");
    assert_eq!(health["search"]["lag_outside_imports"], 0, "{health}");
    let none: Value = app.get("/api/v1/search?q=quillwort&format=dvd").await.json().await.expect("json");
    assert_eq!(none["results"]["total"], 0);
    assert_error(
        app.get("/api/v1/search?q=x&sort=sideways").await,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
        Some("sort"),
    )
    .await;
}

/// The served OpenAPI document passes `openapi-spec-validator` (PyPI; `scripts/test` installs
/// it into the test venv and sets `SHELFMARK_PYTHON`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_is_valid_openapi() {
    let app = spawn_app().await;
    let r = app.get("/api/v1/openapi.json").await;
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.expect("json");
    assert_eq!(doc["openapi"], "3.1.0");
    let python = std::env::var("SHELFMARK_PYTHON").unwrap_or_else(|_| "python3".into());
    let has_validator = std::process::Command::new(&python)
        .args(["-c", "import openapi_spec_validator"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !has_validator {
        assert!(std::env::var_os("CI").is_none(), "CI is set but {python} has no openapi_spec_validator");
        eprintln!("skipping the OpenAPI validation: {python} has no openapi_spec_validator");
        return;
    }
    let file = app._dir.path().join("openapi.json");
    std::fs::write(&file, doc.to_string()).expect("write");
    let out = std::process::Command::new(&python)
        .args([
            "-c",
            "import json, sys\nfrom openapi_spec_validator import validate\nvalidate(json.load(open(sys.argv[1])))",
        ])
        .arg(&file)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "openapi-spec-validator refused the document:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
