//! The staged import over plain HTTP with real files from the shared data: the Koha sample
//! staged (a form upload, as a browser sends it), previewed page by page and imported; the same
//! records staged again match the catalog (identical), a revised copy of some of them matches
//! by identifier and is skipped, replaced or added as chosen; a file with a broken record lists
//! it by number and imports the rest; MARCXML as a raw body; a double submit of the import
//! imports once and a later one is refused; who may import.

#![allow(clippy::unwrap_used)]

mod common;
mod staff_fixture;

use common::*;
use reqwest::header::LOCATION;
use reqwest::StatusCode;
use staff_fixture::{account, sign_in, token, Clerk};

impl Clerk {
    /// Uploads `data` as the upload form does (`multipart/form-data`, field `file`). Returns
    /// the status and, after a redirect to the preview, the preview's path; else the page.
    async fn upload(&self, name: &str, data: &[u8]) -> (StatusCode, String) {
        let boundary = "----shelfmarktestboundary7MA4YWxkTrZu0gW";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(data);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let r = self
            .client
            .post(format!("{}/staff/cataloging/import", self.base))
            .header("cookie", &self.cookie)
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        if status == StatusCode::SEE_OTHER {
            return (status, r.headers()[LOCATION].to_str().unwrap().to_string());
        }
        (status, r.text().await.unwrap())
    }

    /// Stages `data` and returns the preview's path.
    async fn stage(&self, name: &str, data: &[u8]) -> String {
        let (status, to) = self.upload(name, data).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{to}");
        assert!(to.starts_with("/staff/cataloging/import/"), "{to}");
        to
    }
}

/// The text of the element with this id.
fn by_id(page: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let at = page.find(&marker).unwrap_or_else(|| panic!("no #{id} in {page}"));
    let rest = &page[at + marker.len()..];
    rest[..rest.find('<').unwrap()].to_string()
}

fn count(page: &str, id: &str) -> u64 {
    by_id(page, id).parse().unwrap_or_else(|_| panic!("#{id} is not a number"))
}

/// The file's records as the marc crate reads them, with their bytes.
fn records_of(data: &[u8]) -> Vec<(marc::Record, Vec<u8>)> {
    let reader = marc::MarcReader::detect(std::io::Cursor::new(data), marc::ReadOptions::default()).unwrap().unwrap();
    reader.filter_map(Result::ok).map(|r| (r.record, r.raw)).collect()
}

async fn record_count(app: &App) -> u64 {
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || db.count_records().unwrap()).await.unwrap()
}

/// The catalog's titles of the records with these control numbers (001).
async fn titles_by_001(app: &App, numbers: Vec<String>) -> Vec<Vec<String>> {
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let page = db.records(&storage::RecordFilter::default(), storage::Page { after, limit: 500 }).unwrap();
            if page.is_empty() {
                break;
            }
            after = page.last().unwrap().id;
            all.extend(page);
        }
        numbers
            .iter()
            .map(|n| {
                all.iter()
                    .filter(|r| r.derived.control_number.as_deref() == Some(n.as_str()))
                    .map(|r| r.derived.title.clone())
                    .collect()
            })
            .collect()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_file_is_staged_previewed_and_imported_with_the_choice_for_matches() {
    let app = spawn_app().await;
    app.organisation().await;
    account(&app, "cat", &["cataloger"], &[]).await;
    let cat = sign_in(&app, "cat").await;
    let koha = std::fs::read(shared_data("marc/koha-sample/koha-sample-with-items.mrc")).unwrap();
    let read = records_of(&koha);
    let in_file = read.len() as u64;
    assert!(in_file > 100, "the sample has {in_file} records");

    // Staged: nothing imported yet; all new; the first page of 100, then the next.
    let preview = cat.stage("koha-sample-with-items.mrc", &koha).await;
    assert_eq!(record_count(&app).await, 0, "staging imports nothing");
    let (status, page) = cat.get(&preview).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(count(&page, "count-records"), in_file);
    assert_eq!(count(&page, "count-matched"), 0);
    assert_eq!(count(&page, "count-failed"), 0, "{page}");
    assert_eq!(page.matches("<tr class=\"new\"").count(), 100);
    let first_title = catalog::derive(&read[0].0).title;
    assert!(page.contains(&format!("<td>1</td><td>{}</td>", first_title.replace('&', "&amp;"))), "{first_title}");
    let (_, next) = cat.get(&format!("{preview}?after=100")).await;
    assert!(next.contains("id=\"record-101\"") && !next.contains("id=\"record-100\""));

    let (status, page) =
        cat.post(&format!("{preview}/apply"), &[("on_match", "skip"), ("form_token", &token(&page))]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    // Matching was against the catalog when staged: a record that matches one before it in
    // the same file is matched (and skipped) when the import reaches it.
    let in_catalog = count(&page, "result-added");
    assert_eq!(in_catalog + count(&page, "result-skipped"), in_file, "{page}");
    assert!(in_catalog > 100);
    assert!(count(&page, "result-items") > 0, "the 952 copies came too");
    assert_eq!(record_count(&app).await, in_catalog);
    assert!(page.contains("<strong class=\"batch-state\">imported</strong>") && !page.contains("/apply\""));

    // The same records again: each identical to its catalog record; importing adds nothing.
    let first: Vec<u8> = read.iter().take(8).flat_map(|(_, raw)| raw.clone()).collect();
    let again = cat.stage("again.mrc", &first).await;
    let (_, page) = cat.get(&again).await;
    assert_eq!((count(&page, "count-records"), count(&page, "count-matched")), (8, 8));
    assert_eq!(page.matches("<tr class=\"identical\"").count(), 8, "{page}");
    let (_, page) = cat.post(&format!("{again}/apply"), &[("on_match", "add"), ("form_token", &token(&page))]).await;
    assert_eq!((count(&page, "result-unchanged"), count(&page, "result-added")), (8, 0), "{page}");
    assert_eq!(record_count(&app).await, in_catalog);

    // A vendor's revision of five of them: each matches by an identifier, and the preview says
    // which record (its title) and by what.
    let revised: Vec<(marc::Record, String)> = read
        .iter()
        .filter(|(r, _)| r.control("001").is_some())
        .take(5)
        .map(|(r, _)| {
            let mut r = r.clone();
            for f in &mut r.fields {
                if let marc::Field::Data(d) = f {
                    if d.tag == "245" {
                        for s in &mut d.subfields {
                            if s.code == 'a' {
                                *s = marc::Subfield::new('a', format!("Revised {}", s.value.as_str()));
                            }
                        }
                    }
                }
            }
            let number = r.control("001").unwrap().to_string();
            (r, number)
        })
        .collect();
    assert_eq!(revised.len(), 5);
    let numbers: Vec<String> = revised.iter().map(|(_, n)| n.clone()).collect();
    let mut file = Vec::new();
    for (r, _) in &revised {
        marc::iso2709::write_record(r, &mut file).unwrap();
    }
    let before = titles_by_001(&app, numbers.clone()).await;
    assert!(before.iter().all(|t| t.len() == 1 && !t[0].starts_with("Revised")), "{before:?}");

    // Skip leaves the catalog alone.
    let skip = cat.stage("revised.mrc", &file).await;
    let (_, page) = cat.get(&skip).await;
    assert_eq!((count(&page, "count-matched"), count(&page, "count-new")), (5, 0), "{page}");
    assert_eq!(page.matches("<tr class=\"matched\"").count(), 5, "{page}");
    assert!(
        page.contains(&format!(", {}, by ", before[0][0].replace('&', "&amp;"))),
        "the matched record's title: {page}"
    );
    assert!(page.contains(", by 001 ") || page.contains(", by ISBN ") || page.contains(", by OCLC number "), "{page}");
    let (_, page) = cat.post(&format!("{skip}/apply"), &[("on_match", "skip"), ("form_token", &token(&page))]).await;
    assert_eq!(count(&page, "result-skipped"), 5, "{page}");
    assert_eq!(titles_by_001(&app, numbers.clone()).await, before);

    // Replace updates the matched records in place.
    let replace = cat.stage("revised.mrc", &file).await;
    let (_, page) = cat.get(&replace).await;
    let (_, page) =
        cat.post(&format!("{replace}/apply"), &[("on_match", "replace"), ("form_token", &token(&page))]).await;
    assert_eq!(count(&page, "result-replaced"), 5, "{page}");
    let after = titles_by_001(&app, numbers.clone()).await;
    for (t, b) in after.iter().zip(&before) {
        assert_eq!(t.len(), 1);
        assert!(t[0].starts_with("Revised") && t[0].contains(b[0].trim_end_matches(['/', ' ', ':'])), "{t:?} {b:?}");
    }
    assert_eq!(record_count(&app).await, in_catalog);

    // Add creates new records beside them (the catalog now holds the revision: modify again).
    let added = cat.stage("revised.mrc", &file).await;
    let (_, page) = cat.get(&added).await;
    assert_eq!(page.matches("<tr class=\"identical\"").count(), 5, "the replaced records are the file's now");
    let mut file2 = Vec::new();
    for (r, _) in &revised {
        let mut r = r.clone();
        r.push_data(marc::DataField::new(marc::Tag::parse("500").unwrap(), ' ', ' ').with('a', "Second revision."));
        marc::iso2709::write_record(&r, &mut file2).unwrap();
    }
    let added = cat.stage("revised-2.mrc", &file2).await;
    let (_, page) = cat.get(&added).await;
    assert_eq!(count(&page, "count-matched"), 5);
    let (_, page) = cat.post(&format!("{added}/apply"), &[("on_match", "add"), ("form_token", &token(&page))]).await;
    assert_eq!(count(&page, "result-added"), 5, "{page}");
    assert_eq!(record_count(&app).await, in_catalog + 5);
    assert!(titles_by_001(&app, numbers).await.iter().all(|t| t.len() == 2));

    // The upload page lists the batches, newest first.
    let (_, page) = cat.get("/staff/cataloging/import").await;
    assert!(page.contains("revised-2.mrc") && page.contains("koha-sample-with-items.mrc"));
    assert!(page.find("revised-2.mrc").unwrap() < page.find("koha-sample-with-items.mrc").unwrap());
}

#[tokio::test]
async fn a_broken_record_is_listed_and_the_rest_import_once() {
    let app = spawn_app().await;
    app.organisation().await;
    account(&app, "cat", &["cataloger"], &[]).await;
    let cat = sign_in(&app, "cat").await;

    // MARC::Record's test file with a broken leader among good records.
    let data = std::fs::read(shared_data("marc/marc-perl-tests/marc-record-badldr.usmarc")).unwrap();
    let reader = marc::MarcReader::detect(std::io::Cursor::new(&data), marc::ReadOptions::default()).unwrap().unwrap();
    let (good, bad): (Vec<_>, Vec<_>) = reader.partition(Result::is_ok);
    assert!(!bad.is_empty() && !good.is_empty());
    let bad: Vec<marc::RecordError> = bad.into_iter().map(|e| e.err().unwrap()).collect();

    let preview = cat.stage("badldr.usmarc", &data).await;
    let (_, page) = cat.get(&preview).await;
    assert_eq!(count(&page, "count-failed"), bad.len() as u64, "{page}");
    assert_eq!(count(&page, "count-ready"), good.len() as u64);
    for e in &bad {
        let row = format!("<tr class=\"failed\" id=\"record-{0}\"><td>{0}</td>", e.number);
        assert!(page.contains(&row), "record {} not listed: {page}", e.number);
        assert!(page.contains(&format!("record {} (byte {}): ", e.number, e.offset)), "{page}");
    }

    // The same form twice at once (a double-click): one import, the same answer twice.
    let form_token = token(&page);
    let form = [("on_match", "skip"), ("form_token", form_token.as_str())];
    let apply = format!("{preview}/apply");
    let (a, b) = tokio::join!(cat.post(&apply, &form), cat.post(&apply, &form));
    assert_eq!(a.0, StatusCode::OK, "{}", a.1);
    assert_eq!(a, b, "a double submit answered differently");
    assert_eq!(count(&a.1, "result-added"), good.len() as u64);
    assert_eq!(record_count(&app).await, good.len() as u64);

    // A later try (a new form, another tab) finds it imported: refused, nothing added.
    let (status, page) = cat.post(&apply, &[("on_match", "add"), ("form_token", "another-form")]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("already imported"), "{page}");
    assert_eq!(record_count(&app).await, good.len() as u64);
}

/// The server stopped in the middle of an import: the batch stays "applying" until staff release
/// it (only once it is plainly stale), and applying it again with Skip adds only the records
/// the stopped import had not reached.
#[tokio::test]
async fn an_import_the_server_stopped_is_released_and_applied_again_without_duplicates() {
    let app = spawn_app().await;
    app.organisation().await;
    account(&app, "cat", &["cataloger"], &[]).await;
    let cat = sign_in(&app, "cat").await;
    let data = std::fs::read(shared_data("marc/marc-perl-tests/marc-record-badldr.usmarc")).unwrap();
    let good = records_of(&data);
    assert!(good.len() >= 2);

    let preview = cat.stage("badldr.usmarc", &data).await;
    let id: i64 = preview.rsplit('/').next().unwrap().parse().unwrap();
    // What a stopped import leaves: the batch applying since an hour ago, its first record in.
    let (db, first) = (app.db.clone(), good[0].1.clone());
    tokio::task::spawn_blocking(move || {
        let an_hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
        db.start_applying(id, storage::OnMatch::Add, "cat", an_hour_ago).unwrap().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut rejects = import::RejectSink::at(&dir.path().join("rejects"));
        let options = import::ImportOptions::default();
        let report = import::import_reader(
            &*db,
            std::io::Cursor::new(first),
            &options,
            &mut rejects,
            &|_, _: &import::ImportReport| {},
        );
        assert_eq!(report.unwrap().added, 1);
    })
    .await
    .unwrap();
    assert_eq!(record_count(&app).await, 1);

    let (_, page) = cat.get(&preview).await;
    assert!(page.contains("id=\"stuck\"") && page.contains("never finished"), "{page}");
    let (status, page) = cat.post(&format!("{preview}/release"), &[("form_token", &token(&page))]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Released"), "{page}");
    let (status, page) =
        cat.post(&format!("{preview}/apply"), &[("on_match", "skip"), ("form_token", &token(&page))]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(count(&page, "result-added"), good.len() as u64 - 1, "{page}");
    assert_eq!(record_count(&app).await, good.len() as u64, "the first record was not added twice");

    // A batch whose import has just started is not released: it may be running.
    let other = cat.stage("again.usmarc", &data).await;
    let other_id: i64 = other.rsplit('/').next().unwrap().parse().unwrap();
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || {
        db.start_applying(other_id, storage::OnMatch::Skip, "cat", chrono::Utc::now()).unwrap().unwrap()
    })
    .await
    .unwrap();
    let (_, page) = cat.get(&other).await;
    assert!(page.contains("being imported now") && !page.contains("/release"), "{page}");
    let (status, page) = cat.post(&format!("{other}/release"), &[("form_token", "a-forged-form")]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(page.contains("Not released"), "{page}");
}

#[tokio::test]
async fn marcxml_as_a_raw_body_errors_name_the_field_and_only_catalogers_import() {
    let app = spawn_app().await;
    app.organisation().await;
    account(&app, "cat", &["cataloger"], &[]).await;
    account(&app, "desk", &["clerk"], &["CEN"]).await;
    let cat = sign_in(&app, "cat").await;
    let desk = sign_in(&app, "desk").await;

    // MARCXML sent as the body itself.
    let xml = std::fs::read(shared_data("marc/lc-marcxml-samples/collection-sandburg-1.xml")).unwrap();
    let in_file = records_of(&xml).len() as u64;
    let r = cat
        .client
        .post(format!("{}/staff/cataloging/import?name=sandburg.xml", cat.base))
        .header("cookie", &cat.cookie)
        .header("content-type", "application/marcxml+xml")
        .body(xml.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let preview = r.headers()[LOCATION].to_str().unwrap().to_string();
    let (_, page) = cat.get(&preview).await;
    assert!(page.contains("sandburg.xml (MARCXML)"), "{page}");
    assert_eq!(count(&page, "count-records"), in_file);

    // Not MARC: the error names the field, sits by it, and the form is there again.
    let (status, page) = cat.upload("notes.txt", b"Dear vendor, here are the records.").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"file-error\">MARC file: this is not a MARC file"), "{page}");
    assert!(page.contains("aria-describedby=\"file-error file-help\""));
    let (status, page) = cat.upload("empty.mrc", b"").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("MARC file: choose a file"), "{page}");
    // A choice that is none of the three is named.
    let (_, page) = cat.get(&preview).await;
    let (status, page) =
        cat.post(&format!("{preview}/apply"), &[("on_match", "merge"), ("form_token", &token(&page))]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("id=\"on-match-error\">Matched records: &quot;merge&quot; is not a choice"), "{page}");
    assert_eq!(record_count(&app).await, 0);
    assert_eq!(cat.get("/staff/cataloging/import/99999").await.0, StatusCode::NOT_FOUND);

    // A clerk has no Catalog permission: no page, no staging, no import.
    let (status, page) = desk.get("/staff/cataloging/import").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("catalog permission"), "{page}");
    assert_eq!(desk.upload("sandburg.xml", &xml).await.0, StatusCode::FORBIDDEN);
    assert_eq!(desk.get(&preview).await.0, StatusCode::FORBIDDEN);
    let (_, page) = cat.get(&preview).await;
    let (status, _) =
        desk.post(&format!("{preview}/apply"), &[("on_match", "add"), ("form_token", &token(&page))]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(record_count(&app).await, 0);
    let (_, list) = cat.get("/staff/cataloging/import").await;
    assert_eq!(list.matches("sandburg.xml").count(), 1, "the clerk's upload staged nothing");
}
