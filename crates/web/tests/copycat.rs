//! Copy cataloging between two real servers: a SOURCE library loaded with the Koha sample
//! (real records, imported through the import path and indexed), and an empty TARGET library
//! whose `[[copycat.targets]]` name the source's `/sru` (SRU 1.2 with inline records, and 2.0
//! with string-packed ones) and a closed port. Records found by ISBN, title, author and LCCN are
//! compared with the file, imported through the API, read back, found by the target's own
//! search index, and a second import reports the match. `yaz-ztest` (Debian yaz), an SRU
//! server nobody here wrote, is searched too; under `CI` it must be installed.

#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use common::{encode, shared_data, spawn_app, spawn_app_configured, App};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The source library: the Koha sample imported and indexed.
async fn source_library() -> App {
    let app = spawn_app().await;
    app.import_koha_sample(true).await;
    app.wait_for_index().await;
    app
}

fn target(name: &str, url: &str, extra: &[(&str, &str)], timeout: u64) -> copycat::TargetSettings {
    let mut t = copycat::TargetSettings {
        name: name.into(),
        kind: "sru".into(),
        url: Some(url.into()),
        timeout_seconds: Some(timeout),
        ..Default::default()
    };
    for (k, v) in extra {
        match *k {
            "version" => t.version = Some(v.to_string()),
            "record_packing" => t.record_packing = Some(v.to_string()),
            _ => panic!("{k}"),
        }
    }
    t
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    port
}

async fn target_library(targets: Vec<copycat::TargetSettings>) -> App {
    let config = web::WebConfig {
        library_name: "Target Library".into(),
        copycat: copycat::CopycatSettings { targets },
        ..Default::default()
    };
    spawn_app_configured(config).await
}

/// The first record of the sample with an ISBN, an LCCN, an author and a control number, as the
/// file has it (items and all).
fn chosen_record() -> (marc::Record, catalog::BibDerived) {
    let file = std::fs::File::open(shared_data("marc/koha-sample/koha-sample-with-items.mrc")).unwrap();
    let reader =
        marc::MarcReader::detect(std::io::BufReader::new(file), marc::ReadOptions::default()).unwrap().unwrap();
    for read in reader {
        let Ok(read) = read else { continue };
        let d = catalog::derive(&read.record);
        if !d.isbns.is_empty() && d.lccn.is_some() && !d.authors.is_empty() && d.control_number.is_some() {
            return (read.record, d);
        }
    }
    panic!("no record with ISBN, LCCN, author and 001 in the sample");
}

fn field_245a(record: &marc::Record) -> String {
    record.subfield_values("245", 'a').next().unwrap_or_default().to_string()
}

/// The candidate in a target's answer whose 001 is `control`.
fn candidate_with<'a>(answer: &'a Value, target: &str, control: &str) -> &'a Value {
    let entry = answer["targets"].as_array().unwrap().iter().find(|t| t["target"] == target).unwrap();
    assert_eq!(entry["ok"], true, "{entry}");
    entry["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["summary"]["control_number"] == control)
        .unwrap_or_else(|| panic!("no candidate with 001 {control} in {entry}"))
}

/// The record's fields without the item fields (952): what a copy brings along.
fn without_items(record: &marc::Record) -> Vec<marc::Field> {
    record.fields.iter().filter(|f| f.tag().as_str() != "952").cloned().collect()
}

#[tokio::test]
async fn copy_cataloging_from_our_own_sru_server() {
    let source = source_library().await;
    let sru = source.url("/sru");
    let down = format!("http://127.0.0.1:{}/sru", closed_port());
    let target_app = target_library(vec![
        target("source", &sru, &[], 20),
        target("source2", &sru, &[("version", "2.0"), ("record_packing", "string")], 20),
        target("down", &down, &[], 2),
    ])
    .await;
    let (file_record, derived) = chosen_record();
    let control = derived.control_number.clone().unwrap();

    // The targets as configured.
    let targets: Value = target_app.get("/api/v1/copycat/targets").await.json().await.unwrap();
    let names: Vec<&str> = targets["targets"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["source", "source2", "down"]);
    assert_eq!(targets["targets"][0]["location"], sru);

    // Each access point finds the record, on both versions; compared with the file.
    let isbn = derived.isbns[0].clone();
    let lccn = derived.lccn.clone().unwrap();
    let title = derived.title.clone();
    let author = derived.authors[0].clone();
    let mut found_record = None;
    for (by, term) in [("isbn", isbn.as_str()), ("lccn", &lccn), ("title", &title), ("author", &author)] {
        let path = format!("/api/v1/copycat/search?target=source,source2&{by}={}&max=50", encode(term));
        let r = target_app.get(&path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let answer: Value = r.json().await.unwrap();
        assert_eq!(answer["query"]["access_point"], by);
        for t in ["source", "source2"] {
            let candidate = candidate_with(&answer, t, &control);
            let record = marc::json::from_json(&candidate["record"]).unwrap();
            assert_eq!(record.control("001"), file_record.control("001"), "{by} on {t}");
            assert_eq!(field_245a(&record), field_245a(&file_record), "{by} on {t}");
            assert_eq!(candidate["in_catalog"], json!({"status": "new"}));
            assert_eq!(candidate["summary"]["title"], title);
            let preview = candidate["preview"].as_str().unwrap();
            assert!(preview.contains(&format!("=001  {}", control.replace(' ', "\\"))), "{preview}");
            assert!(preview.lines().any(|l| l.starts_with("=245  ") && l.contains("$a")), "{preview}");
            found_record = Some(candidate["record"].clone());
        }
    }
    let isbn_path = format!("/api/v1/copycat/search?target=source&isbn={}", encode(&isbn));

    // Import it through the API: added, and then in the catalog with the same fields.
    let r = target_app
        .post("/api/v1/copycat/import", &json!({"target": "source", "record": found_record.clone().unwrap()}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let outcome: Value = r.json().await.unwrap();
    assert_eq!(outcome["outcome"], "added");
    let id = outcome["id"].as_i64().unwrap();
    let (target_db, source_db) = (target_app.db.clone(), source.db.clone());
    let control2 = control.clone();
    let (stored, original) = tokio::task::spawn_blocking(move || {
        let stored = target_db.record(id).unwrap().unwrap();
        let page =
            source_db.records(&storage::RecordFilter::default(), storage::Page { after: 0, limit: 1000 }).unwrap();
        let original = page.into_iter().find(|r| r.derived.control_number.as_deref() == Some(&control2)).unwrap();
        (stored, original)
    })
    .await
    .unwrap();
    let stored_record = marc::iso2709::read_one(&stored.marc).unwrap();
    let original_record = marc::iso2709::read_one(&original.marc).unwrap();
    assert_eq!(without_items(&stored_record), without_items(&original_record));
    assert_eq!(without_items(&stored_record), without_items(&file_record));
    assert_eq!(stored.derived.isbns, derived.isbns);
    assert_eq!(stored.derived.lccn, derived.lccn);
    assert_eq!(stored.derived.title, title);

    // The target's own search index finds it.
    target_app.wait_for_index().await;
    let hits: Value =
        target_app.get(&format!("/api/v1/search?q={}", encode(&format!("isbn:{isbn}")))).await.json().await.unwrap();
    let ids: Vec<i64> =
        hits["results"]["hits"].as_array().unwrap().iter().map(|h| h["record_id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [id], "{hits}");

    // The search now marks the candidate as held; a second import reports the match.
    let answer: Value = target_app.get(&isbn_path).await.json().await.unwrap();
    assert_eq!(candidate_with(&answer, "source", &control)["in_catalog"], json!({"status": "identical", "id": id}));
    let r = target_app
        .post(
            "/api/v1/copycat/import",
            &json!({"target": "source", "record": found_record.unwrap(), "on_match": "add"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let again: Value = r.json().await.unwrap();
    assert_eq!((again["outcome"].as_str(), again["id"].as_i64()), (Some("unchanged"), Some(id)));
    // By query and position, from the other version: the same record, matched.
    let answer: Value = target_app
        .get(&format!("/api/v1/copycat/search?target=source2&lccn={}", encode(&lccn)))
        .await
        .json()
        .await
        .unwrap();
    let position = candidate_with(&answer, "source2", &control)["position"].as_u64().unwrap();
    let r = target_app
        .post("/api/v1/copycat/import", &json!({"target": "source2", "lccn": lccn, "position": position}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let third: Value = r.json().await.unwrap();
    assert_eq!(third["id"].as_i64(), Some(id), "{third}");
    let count = target_app.db.clone();
    assert_eq!(tokio::task::spawn_blocking(move || count.count_records().unwrap()).await.unwrap(), 1);

    // A target that is down is reported beside the one that answers.
    let r = target_app.get(&format!("/api/v1/copycat/search?target=down,source&isbn={}", encode(&isbn))).await;
    assert_eq!(r.status(), StatusCode::OK);
    let answer: Value = r.json().await.unwrap();
    let down_entry = &answer["targets"][0];
    assert_eq!((down_entry["target"].as_str(), down_entry["ok"].as_bool()), (Some("down"), Some(false)));
    let error = down_entry["error"].as_str().unwrap();
    assert!(error.contains(&down.replace("/sru", "")) || error.contains("127.0.0.1"), "{error}");
    assert!(!candidate_with(&answer, "source", &control).is_null());
    // Importing by query from the target that is down names the problem.
    let r = target_app.post("/api/v1/copycat/import", &json!({"target": "down", "isbn": isbn, "position": 1})).await;
    let body = common::assert_error(r, StatusCode::BAD_GATEWAY, "target_failed", None).await;
    assert!(body["error"]["message"].as_str().unwrap().contains("cannot reach"), "{body}");

    // Refusals name the parameter.
    let r = target_app.get("/api/v1/copycat/search?target=nowhere&isbn=0306406152").await;
    common::assert_error(r, StatusCode::BAD_REQUEST, "unknown_target", Some("target")).await;
    let r = target_app.get("/api/v1/copycat/search?isbn=0306406153").await;
    common::assert_error(r, StatusCode::BAD_REQUEST, "invalid_parameter", Some("isbn")).await;
    let r = target_app.get("/api/v1/copycat/search?target=source").await;
    common::assert_error(r, StatusCode::BAD_REQUEST, "missing_field", Some("isbn")).await;
    let r = target_app.get("/api/v1/copycat/search?title=a&author=b").await;
    common::assert_error(r, StatusCode::BAD_REQUEST, "invalid_parameter", Some("author")).await;
    let r = target_app.post("/api/v1/copycat/import", &json!({"target": "source", "isbn": isbn, "position": 99})).await;
    common::assert_error(r, StatusCode::NOT_FOUND, "no_such_candidate", Some("position")).await;
    let r = target_app
        .post("/api/v1/copycat/import", &json!({"target": "source", "on_match": "merge", "isbn": isbn, "position": 1}))
        .await;
    common::assert_error(r, StatusCode::BAD_REQUEST, "invalid_choice", Some("on_match")).await;

    // Only staff who may catalog.
    let clerk = target_app.staff("clerk1", &["clerk"], &[]).await;
    target_app.act_as(Some(&clerk));
    let r = target_app.get(&isbn_path).await;
    common::assert_error(r, StatusCode::FORBIDDEN, "forbidden", None).await;
    let cataloger = target_app.staff("cat1", &["cataloger"], &[]).await;
    target_app.act_as(Some(&cataloger));
    assert_eq!(target_app.get("/api/v1/copycat/targets").await.status(), StatusCode::OK);
}

/// Whether a peer tool is installed; under `CI` it must be.
fn have(tool: &str) -> bool {
    let found =
        Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "CI is set but {tool} is not installed");
        eprintln!("skipping the {tool} checks: {tool} is not installed");
    }
    found
}

/// yaz-ztest on a free port, killed when dropped.
struct ZTest(std::process::Child, u16);

impl Drop for ZTest {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn yaz_ztest() -> ZTest {
    let port = closed_port();
    let log = std::env::temp_dir().join(format!("ztest-{}-{port}.log", std::process::id()));
    let child = Command::new("yaz-ztest")
        .arg("-l")
        .arg(&log)
        .arg(format!("tcp:127.0.0.1:{port}"))
        .spawn()
        .expect("yaz-ztest starts");
    let ztest = ZTest(child, port);
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "yaz-ztest does not listen on {port}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    ztest
}

#[tokio::test]
async fn copy_cataloging_from_yaz_ztest() {
    if !have("yaz-ztest") {
        return;
    }
    let ztest = yaz_ztest().await;
    let url = format!("http://127.0.0.1:{}/Default", ztest.1);
    // yaz-ztest answers Z39.50 on the same port: the z3950 client's path through copycat.
    let z3950 = copycat::TargetSettings {
        name: "ztest-z3950".into(),
        kind: "z3950".into(),
        address: Some(format!("127.0.0.1:{}", ztest.1)),
        database: Some("Default".into()),
        timeout_seconds: Some(10),
        ..Default::default()
    };
    let app = target_library(vec![
        target("ztest", &url, &[], 10),
        target("ztest-string", &url, &[("record_packing", "string")], 10),
        target("ztest2", &url, &[("version", "2.0")], 10),
        z3950,
    ])
    .await;
    let r = app.get("/api/v1/copycat/search?title=computer&max=2").await;
    assert_eq!(r.status(), StatusCode::OK);
    let answer: Value = r.json().await.unwrap();
    for entry in answer["targets"].as_array().unwrap() {
        assert_eq!(entry["ok"], true, "{entry}");
        assert!(entry["hits"].as_u64().unwrap() >= 1, "{entry}");
        let candidates = entry["candidates"].as_array().unwrap();
        assert_eq!(candidates.len(), 2, "{entry}");
        // yaz-ztest's canned record.
        assert_eq!(candidates[0]["summary"]["title"], "How to program a computer");
        assert_eq!(candidates[0]["summary"]["authors"], json!(["Jack Collins"]));
        assert_eq!(candidates[0]["position"], 1);
    }
    let r = app.post("/api/v1/copycat/import", &json!({"target": "ztest", "title": "computer", "position": 1})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let outcome: Value = r.json().await.unwrap();
    let id = outcome["id"].as_i64().unwrap();
    let r = app.post("/api/v1/copycat/import", &json!({"target": "ztest2", "title": "computer", "position": 1})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let again: Value = r.json().await.unwrap();
    assert_eq!((again["outcome"].as_str(), again["id"].as_i64()), (Some("unchanged"), Some(id)));
    // The same record over Z39.50 (ISO 2709 rather than MARCXML) matches the one imported.
    let r =
        app.post("/api/v1/copycat/import", &json!({"target": "ztest-z3950", "title": "computer", "position": 1})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let by_z3950: Value = r.json().await.unwrap();
    assert_eq!(by_z3950["id"].as_i64(), Some(id), "{by_z3950}");

    // A Bib-1 diagnostic (yaz-ztest refuses a database it does not know)
    // is reported for that target, beside the others' results.
    let app = target_library(vec![
        target("ztest", &url, &[], 10),
        copycat::TargetSettings {
            name: "nowhere".into(),
            kind: "z3950".into(),
            address: Some(format!("127.0.0.1:{}", ztest.1)),
            database: Some("nosuchdb".into()),
            timeout_seconds: Some(10),
            ..Default::default()
        },
    ])
    .await;
    let answer: Value = app.get("/api/v1/copycat/search?title=computer").await.json().await.unwrap();
    let by_name =
        |name: &str| answer["targets"].as_array().unwrap().iter().find(|t| t["target"] == name).cloned().unwrap();
    assert_eq!(by_name("ztest")["ok"], true, "{answer}");
    let refused = by_name("nowhere");
    assert_eq!(refused["ok"], false, "{refused}");
    assert!(refused["error"].as_str().unwrap().contains("Bib-1 diagnostic 109 (Database unavailable)"), "{refused}");
}

/// The staff screen: the form, the candidates with their preview and Import button, an import
/// that a second click does not repeat, and refusals without a session or the permission.
#[tokio::test]
async fn the_copy_cataloging_screen() {
    if !have("yaz-ztest") {
        return;
    }
    let ztest = yaz_ztest().await;
    let url = format!("http://127.0.0.1:{}/Default", ztest.1);
    let app = target_library(vec![target("ztest", &url, &[], 10)]).await;
    let cookie = format!("shelfmark_session={}", app.admin_token);
    let get = |path: String, cookie: Option<String>| {
        let r = app.client.get(app.url(&path));
        async move {
            let r = match cookie {
                Some(c) => r.header(reqwest::header::COOKIE, c),
                None => r,
            };
            let r = r.send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (status, empty) = get("/staff/cataloging/copy".into(), Some(cookie.clone())).await;
    assert_eq!(status, StatusCode::OK);
    for needle in [
        "<h1>Copy cataloging</h1>",
        "<label for=\"target\">",
        "<label for=\"by\">",
        "<label for=\"term\">",
        "<option value=\"ztest\">ztest</option>",
    ] {
        assert!(empty.contains(needle), "{needle} in {empty}");
    }
    let (status, found) =
        get("/staff/cataloging/copy?target=ztest&by=title&term=computer".into(), Some(cookie.clone())).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert!(found.contains("<h3>ztest: 3 found</h3>"), "{found}");
    assert!(found.contains("<h4>How to program a computer</h4>"), "{found}");
    assert!(found.contains("Not in the catalog"), "{found}");
    assert!(found.contains("=245  10$aHow to program a computer"), "{found}");
    assert!(found.contains("<input type=\"hidden\" name=\"position\" value=\"1\">"), "{found}");

    let post = |cookie: Option<String>| {
        let r = app
            .client
            .post(app.url("/staff/cataloging/copy/import"))
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("target=ztest&by=title&term=computer&position=1");
        async move {
            let r = match cookie {
                Some(c) => r.header(reqwest::header::COOKIE, c),
                None => r,
            };
            let r = r.send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (status, added) = post(Some(cookie.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert!(added.contains("Added to the catalog as record 1."), "{added}");
    // A double click: matched, not added twice.
    let (status, again) = post(Some(cookie.clone())).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert!(again.contains("Already in the catalog as record 1"), "{again}");
    let db = app.db.clone();
    assert_eq!(tokio::task::spawn_blocking(move || db.count_records().unwrap()).await.unwrap(), 1);
    let (_, held) =
        get("/staff/cataloging/copy?target=ztest&by=title&term=computer".into(), Some(cookie.clone())).await;
    assert!(held.contains("In the catalog as record 1, identical"), "{held}");

    // Without a session: the staff log-in (the redirect followed), and without the catalog
    // permission: refused.
    let (status, page) = get("/staff/cataloging/copy".into(), None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("id=\"login\"") && page.contains("id=\"password\""), "{page}");
    let (status, page) = post(None).await;
    assert!(status == StatusCode::OK && page.contains("id=\"login\""), "{status} {page}");
    let clerk = app.staff("clerk2", &["clerk"], &[]).await;
    let (status, page) = get("/staff/cataloging/copy".into(), Some(format!("shelfmark_session={clerk}"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("catalog permission"), "{page}");
    let (status, _) = post(Some(format!("shelfmark_session={clerk}"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
