//! The SRU server over real HTTP with real records (the Koha sample catalogue, imported through
//! the import path and indexed by the follower), judged by peers nobody here wrote: `xmllint`
//! checks every response is well-formed and reads its structure with XPath, `yaz-client` and
//! `zoomsh` (Debian yaz) search it in SRU mode, and records are read back as MARCXML. Hit
//! counts are compared with what the database holds.
//!
//! Under `CI` a missing peer fails the test; elsewhere the peer's part is skipped with a note.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{encode, spawn_app, App};
use storage::{Page, RecordFilter, StoredRecord};

const SRW: &str = "http://www.loc.gov/zing/srw/";
const SRU2: &str = "http://docs.oasis-open.org/ns/search-ws/sruResponse";

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

/// The server with the Koha sample imported and indexed, and every record the database holds.
async fn library() -> (App, Vec<StoredRecord>) {
    let app = spawn_app().await;
    let report = app.import_koha_sample(true).await;
    let db = app.db.clone();
    let records = tokio::task::spawn_blocking(move || {
        let mut all: Vec<StoredRecord> = Vec::new();
        loop {
            let after = all.last().map_or(0, |r| r.id);
            let page = db.records(&RecordFilter::default(), Page { after, limit: 200 }).expect("records");
            if page.is_empty() {
                break all;
            }
            all.extend(page);
        }
    })
    .await
    .unwrap();
    assert_eq!(records.len() as u64, report.added);
    app.wait_for_index().await;
    (app, records)
}

async fn sru(app: &App, query: &str) -> String {
    let r = app.client.get(app.url(&format!("/sru?{query}"))).send().await.unwrap();
    assert_eq!(r.status(), 200, "{query}");
    assert_eq!(r.headers()["content-type"], "text/xml; charset=utf-8");
    let body = r.text().await.unwrap();
    well_formed(&body);
    body
}

fn search_params(version: &str, query: &str, extra: &str) -> String {
    format!("version={version}&operation=searchRetrieve&query={}{extra}", encode(query))
}

/// `xmllint --noout` accepts the document (when xmllint is installed).
fn well_formed(xml: &str) {
    if !have("xmllint") {
        return;
    }
    let out = run_with_stdin(Command::new("xmllint").args(["--noout", "-"]), xml);
    assert!(out.status.success(), "xmllint: {}\n{xml}", String::from_utf8_lossy(&out.stderr));
}

/// An XPath expression's value, as xmllint computes it.
fn xpath(xml: &str, expression: &str) -> String {
    let out = run_with_stdin(Command::new("xmllint").args(["--xpath", expression, "-"]), xml);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn run_with_stdin(command: &mut Command, input: &str) -> std::process::Output {
    let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// The text of the first `<prefix:name>` element.
fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(&xml[start..end])
}

fn number_of_records(xml: &str, prefix: &str) -> u64 {
    element(xml, &format!("{prefix}:numberOfRecords")).unwrap_or_else(|| panic!("{xml}")).parse().unwrap()
}

/// Every `recordData` of a response, unescaped when packed as a string.
fn record_data(xml: &str, prefix: &str) -> Vec<String> {
    let open = format!("<{prefix}:recordData>");
    let close = format!("</{prefix}:recordData>");
    xml.split(&open).skip(1).map(|part| part[..part.find(&close).unwrap()].to_string()).collect()
}

fn diagnostic_uri(xml: &str) -> Option<String> {
    element(xml, "diag:uri").map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sru_over_http_with_real_records() {
    let (app, records) = library().await;
    app.act_as(None); // public: no login
    let total = records.len() as u64;

    // Explain in both versions: the namespaces, and the indexes and schemas really supported.
    let explain = sru(&app, "version=1.2&operation=explain").await;
    assert!(explain.contains(&format!("<zs:explainResponse xmlns:zs=\"{SRW}\">")), "{explain}");
    assert!(explain.contains("<zs:recordPacking>xml</zs:recordPacking>"));
    for name in ["<name set=\"dc\">title</name>", "<name set=\"bath\">isbn</name>", "<name set=\"rec\">id</name>"] {
        assert!(explain.contains(name), "{name}");
    }
    assert!(explain.contains("identifier=\"info:srw/schema/1/marcxml-v1.1\""));
    assert!(explain.contains("identifier=\"info:srw/schema/1/dc-v1.1\""));
    let explain2 = sru(&app, "").await;
    assert!(explain2.contains(&format!("<sru:explainResponse xmlns:sru=\"{SRU2}\">")), "{explain2}");
    assert!(explain2.contains("<sru:recordXMLEscaping>xml</sru:recordXMLEscaping>"));
    assert!(!explain2.contains("recordPacking"));

    // Every record, paged: counts equal the database's, positions run on, pages are stable.
    let all = sru(&app, &search_params("1.2", "cql.allRecords = 1", "&maximumRecords=0")).await;
    assert_eq!(number_of_records(&all, "zs"), total);
    assert!(!all.contains("<zs:records>"));
    let mut titles_by_50 = Vec::new();
    let mut start = 1;
    loop {
        let page =
            sru(&app, &search_params("1.2", "cql.allRecords = 1", &format!("&startRecord={start}&maximumRecords=50")))
                .await;
        assert_eq!(number_of_records(&page, "zs"), total);
        let data = record_data(&page, "zs");
        assert_eq!(data.len() as u64, 50.min(total - (start - 1)));
        if have("xmllint") {
            let positions =
                xpath(&page, &format!("//*[local-name()='recordPosition' and namespace-uri()='{SRW}']/text()"));
            let expected: Vec<String> = (start..start + data.len() as u64).map(|p| p.to_string()).collect();
            assert_eq!(positions.split_whitespace().collect::<Vec<_>>(), expected);
        }
        for xml in &data {
            let record = marc::xml::read_one(xml.as_bytes()).unwrap_or_else(|e| panic!("{e:?}\n{xml}"));
            titles_by_50.push(catalog::derive(&record).title);
        }
        match element(&page, "zs:nextRecordPosition") {
            Some(next) => {
                assert_eq!(next.parse::<u64>().unwrap(), start + 50);
                start += 50;
            }
            None => {
                assert!(start + 50 > total);
                break;
            }
        }
    }
    assert_eq!(titles_by_50.len() as u64, total);
    let mut titles_by_100 = Vec::new();
    for start in (1..=total).step_by(100) {
        let page =
            sru(&app, &search_params("2.0", "cql.allRecords = 1", &format!("&startRecord={start}&maximumRecords=100")))
                .await;
        for xml in record_data(&page, "sru") {
            titles_by_100.push(catalog::derive(&marc::xml::read_one(xml.as_bytes()).unwrap()).title);
        }
    }
    assert_eq!(titles_by_100, titles_by_50, "pages of 50 and of 100 list the same records in the same order");
    let mut db_titles: Vec<String> = records.iter().map(|r| r.derived.title.clone()).collect();
    let mut sru_titles = titles_by_50.clone();
    db_titles.sort();
    sru_titles.sort();
    assert_eq!(sru_titles, db_titles, "every record once");

    // Counts the database can confirm: years, ISBNs, record ids.
    let year = records
        .iter()
        .filter_map(|r| r.derived.year)
        .max_by_key(|y| records.iter().filter(|r| r.derived.year == Some(*y)).count())
        .unwrap();
    let count = |f: &dyn Fn(&StoredRecord) -> bool| records.iter().filter(|r| f(r)).count() as u64;
    for (query, expected) in [
        (format!("dc.date = {year}"), count(&|r| r.derived.year == Some(year))),
        (format!("dc.date < {year}"), count(&|r| r.derived.year.is_some_and(|y| y < year))),
        (format!("dc.date >= {year}"), count(&|r| r.derived.year.is_some_and(|y| y >= year))),
        (
            format!("dc.date <= {year} and dc.date > 1990"),
            count(&|r| r.derived.year.is_some_and(|y| y <= year && y > 1990)),
        ),
        (format!("cql.allRecords = 1 not dc.date = {year}"), count(&|r| r.derived.year != Some(year))),
    ] {
        for version in ["1.2", "2.0"] {
            let body = sru(&app, &search_params(version, &query, "&maximumRecords=0")).await;
            let prefix = if version == "1.2" { "zs" } else { "sru" };
            assert_eq!(number_of_records(&body, prefix), expected, "{query} ({version})\n{body}");
        }
    }
    let with_isbn = records.iter().find(|r| !r.derived.isbns.is_empty()).unwrap();
    let isbn13 = &with_isbn.derived.isbns[0];
    let isbn10 = catalog::Isbn::parse(isbn13).unwrap().to_isbn10().unwrap();
    let holders = count(&|r| r.derived.isbns.contains(isbn13));
    for query in
        [format!("bath.isbn = {isbn13}"), format!("bath.isbn == \"{isbn10}\""), format!("dc.identifier = {isbn13}")]
    {
        let body = sru(&app, &search_params("1.2", &query, "")).await;
        assert_eq!(number_of_records(&body, "zs"), holders, "{query}");
    }
    let body = sru(&app, &search_params("1.2", &format!("rec.id = {}", with_isbn.id), "&recordSchema=dc")).await;
    assert_eq!(number_of_records(&body, "zs"), 1);
    assert!(body.contains("<zs:recordSchema>info:srw/schema/1/dc-v1.1</zs:recordSchema>"));
    let dc = &record_data(&body, "zs")[0];
    assert!(dc.starts_with("<srw_dc:dc xmlns:srw_dc=\"info:srw/schema/1/dc-schema\""), "{dc}");
    let title = element(dc, "dc:title").unwrap();
    assert!(with_isbn.derived.title.starts_with(&title.replace("&amp;", "&")), "{title} / {}", with_isbn.derived.title);

    // The whole title, masking, words: the record with a known title is found each way.
    let c = records.iter().find(|r| r.derived.title == "The C programming language").expect("K&R in the sample");
    for query in [
        "dc.title == \"The C programming language\"",
        "dc.title == \"C programming language\"",
        "dc.title = \"c programming language\"",
        "dc.title all \"language programming\"",
        "dc.title any \"zzzzqx programming\"",
        "dc.title = progr* and dc.creator = kernighan",
        "dc.creator = \"Kernighan\" and bath.name = ritchie",
        "programming and kernighan",
    ] {
        let body = sru(&app, &search_params("1.2", query, "&maximumRecords=100")).await;
        let titles: Vec<String> = record_data(&body, "zs")
            .iter()
            .map(|x| catalog::derive(&marc::xml::read_one(x.as_bytes()).unwrap()).title)
            .collect();
        assert!(titles.contains(&c.derived.title), "{query}: {titles:?}");
    }
    let exact = sru(&app, &search_params("1.2", "dc.title == \"programming language\"", "")).await;
    assert_eq!(
        number_of_records(&exact, "zs"),
        count(&|r| r.derived.title.eq_ignore_ascii_case("programming language"))
    );

    // String packing escapes the record; POST and a database path answer the same.
    let packed = sru(&app, &search_params("1.2", &format!("rec.id = {}", c.id), "&recordPacking=string")).await;
    assert!(record_data(&packed, "zs")[0].starts_with("&lt;record"), "{packed}");
    let form = [("version", "1.2"), ("operation", "searchRetrieve"), ("query", "dc.title = programming")];
    let posted = app.client.post(app.url("/sru")).form(&form).send().await.unwrap().text().await.unwrap();
    let got = sru(&app, &search_params("1.2", "dc.title = programming", "")).await;
    assert_eq!(posted, got);
    let named = app
        .client
        .get(app.url(&format!("/sru/Default?{}", search_params("1.2", "dc.title = programming", ""))))
        .send()
        .await
        .unwrap();
    assert_eq!(named.text().await.unwrap(), got);

    // Scan: terms in order with counts that a search confirms.
    let scan = sru(&app, "version=1.2&operation=scan&scanClause=dc.title%3Dprogramming&maximumTerms=5").await;
    assert!(scan.contains(&format!("<zs:scanResponse xmlns:zs=\"{SRW}\">")), "{scan}");
    let values: Vec<&str> = scan.split("<zs:value>").skip(1).map(|p| &p[..p.find('<').unwrap()]).collect();
    assert_eq!(values.len(), 5, "{scan}");
    assert_eq!(values[0], "programming");
    assert!(values.windows(2).all(|w| w[0] < w[1]));
    let first_count: u64 = element(&scan, "zs:numberOfRecords").unwrap().parse().unwrap();
    let searched = sru(&app, &search_params("1.2", "dc.title = programming", "&maximumRecords=0")).await;
    assert_eq!(first_count, number_of_records(&searched, "zs"));
    let scan2 = sru(&app, "version=2.0&scanClause=dc.title%3Dprogramming&maximumTerms=3&responsePosition=2").await;
    assert!(
        scan2.contains("<scan:scanResponse xmlns:scan=\"http://docs.oasis-open.org/ns/search-ws/scan\">"),
        "{scan2}"
    );
    let values2: Vec<&str> = scan2.split("<scan:value>").skip(1).map(|p| &p[..p.find('<').unwrap()]).collect();
    assert_eq!(values2.len(), 3);
    assert!(values2[0] < "programming" && values2[1] == "programming", "{values2:?}");

    // Every bad request is its diagnostic, in the version asked, inside the operation's response.
    for (params, uri) in [
        ("version=1.1&operation=searchRetrieve&query=a", 5),
        ("version=1.2&operation=update", 4),
        ("version=1.2&operation=searchRetrieve", 7),
        (&*search_params("1.2", "dc.format = book", "") as &str, 16),
        (&search_params("1.2", "dc.title <> whale", ""), 19),
        (&search_params("1.2", "dc.date any 1999", ""), 22),
        (&search_params("1.2", "whale", "&startRecord=0"), 6),
        (&search_params("1.2", "whale", "&startRecord=1000000"), 61),
        (&search_params("1.2", "whale", "&recordSchema=mods"), 66),
        (&search_params("1.2", "whale", "&recordPacking=json"), 71),
        (&search_params("1.2", "(whale", ""), 13),
        (&search_params("1.2", "\"whale", ""), 14),
        (&search_params("1.2", "dc.title =", ""), 10),
        (&search_params("1.2", "foo.bar = whale", ""), 15),
        (&search_params("1.2", "whale prox sea", ""), 39),
        (&search_params("1.2", "whale sortby dc.title", ""), 80),
        (&search_params("1.2", "dc.date = soon", ""), 36),
        (&search_params("1.2", "whale", "&sortKeys=title"), 8),
        ("version=1.2&operation=scan&scanClause=dc.date%3D1999", 16),
        ("version=1.2&operation=scan&scanClause=dc.title%3Da&maximumTerms=5&responsePosition=9", 120),
    ] {
        let body = sru(&app, params).await;
        assert_eq!(diagnostic_uri(&body), Some(format!("info:srw/diagnostic/1/{uri}")), "{params}\n{body}");
        assert!(body.contains("xmlns:diag=\"http://www.loc.gov/zing/srw/diagnostic/\""), "{body}");
        assert!(body.contains("<zs:version>1.2</zs:version>"), "{body}");
    }
    let body = sru(&app, &search_params("2.0", "dc.format = book", "")).await;
    assert!(
        body.contains("<sru:searchRetrieveResponse xmlns:sru=\"http://docs.oasis-open.org/ns/search-ws/sruResponse\">")
    );
    assert!(body.contains("xmlns:diag=\"http://docs.oasis-open.org/ns/search-ws/diagnostic\""));
    assert_eq!(diagnostic_uri(&body).as_deref(), Some("info:srw/diagnostic/1/16"));
    assert_eq!(element(&body, "diag:details"), Some("dc.format"));
    // Hostile input is escaped, never echoed raw.
    let body = sru(&app, &search_params("1.2", "dc.title = \"a\" and x.<y> = 1", "")).await;
    assert_eq!(diagnostic_uri(&body).as_deref(), Some("info:srw/diagnostic/1/15"));
}

/// yaz-client and zoomsh, in SRU mode (GET, 1.2 and 2.0), find what the database holds and
/// read the records back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yaz_client_and_zoomsh_search_it() {
    let (app, records) = library().await;
    app.act_as(None);
    let with_isbn = records.iter().find(|r| !r.derived.isbns.is_empty()).unwrap();
    let isbn = with_isbn.derived.isbns[0].clone();
    let isbn_holders = records.iter().filter(|r| r.derived.isbns.contains(&isbn)).count();
    let expected_programming =
        number_of_records(&sru(&app, &search_params("1.2", "dc.title = programming", "&maximumRecords=0")).await, "zs");
    assert!(expected_programming > 1);
    let url = app.url("/sru");
    if have("yaz-client") {
        for version in ["1.2", "2.0"] {
            let script = format!(
                "sru get {version}\nopen {url}\nquerytype cql\nfind dc.title=programming\nshow 1\nfind bath.isbn={isbn}\nfind cql.allRecords=1\nquit\n"
            );
            let out = run_with_stdin(&mut Command::new("yaz-client"), &script);
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            let hits: Vec<u64> = text
                .lines()
                .filter_map(|l| l.strip_prefix("Number of hits: "))
                .map(|n| n.split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap())
                .collect();
            assert_eq!(
                hits,
                // `show` searches again (SRU keeps no result sets): the first count twice.
                vec![expected_programming, expected_programming, isbn_holders as u64, records.len() as u64],
                "{version}\n{text}"
            );
            assert!(text.contains("<record xmlns=\"http://www.loc.gov/MARC21/slim\">"), "{version}\n{text}");
        }
    }
    if have("zoomsh") {
        for version in ["1.2", "2.0"] {
            let out = Command::new("zoomsh")
                .args([
                    "set sru get",
                    &format!("set sru_version {version}"),
                    &format!("connect {url}"),
                    "search cql:dc.title=programming",
                    "show 0 1",
                    &format!("search cql:bath.isbn={isbn}"),
                    "quit",
                ])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            let hits: Vec<u64> = text
                .lines()
                .filter_map(|l| l.split_once(": ").map(|(_, r)| r).and_then(|r| r.strip_suffix(" hits")))
                .map(|n| n.trim().parse().unwrap())
                .collect();
            assert_eq!(hits, vec![expected_programming, isbn_holders as u64], "{version}\n{text}");
            assert!(text.contains("245"), "the record is shown: {version}\n{text}");
        }
    }
}
