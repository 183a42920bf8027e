//! The binary end to end, as a librarian runs it: a demo library served over HTTP, files
//! imported and exported, call numbers sorted. Runs the real `shelfmark` executable.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn shelfmark(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shelfmark"));
    cmd.arg("--data").arg(data).env_remove("SHELFMARK_DATABASE_URL").env_remove("SHELFMARK_CONFIG");
    cmd
}

fn shared_marc(rel: &str) -> PathBuf {
    let shared = std::env::var_os("SHELFMARK_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    shared.join("data/marc").join(rel)
}

/// Kills the server when the test ends, however it ends.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `shelfmark serve` on a free port; the server says where it listens.
fn serve(data: &Path) -> (Server, String) {
    let mut child =
        shelfmark(data).args(["serve", "--bind", "127.0.0.1:0"]).stderr(Stdio::piped()).spawn().expect("start server");
    let stderr = child.stderr.take().expect("stderr");
    let server = Server(child);
    let url = BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.split_once("on http://").map(|(_, addr)| format!("http://{}", addr.trim())))
        .expect("the server says where it listens");
    (server, url)
}

#[test]
fn demo_library_is_served_with_its_records() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = shelfmark(dir.path()).args(["demo", "--records", "300", "--no-serve"]).output().expect("run demo");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("300 records"), "{said}");

    // The demo wrote the library's name to the settings.
    let (server, url) = serve(dir.path());
    let client = reqwest::blocking::Client::new();
    let health: serde_json::Value = client.get(format!("{url}/health")).send().expect("health").json().expect("json");
    assert_eq!(health["backend"], "sqlite", "{health}");
    assert_eq!(health["records"], 300, "{health}");
    let home = client.get(&url).send().expect("home").text().expect("text");
    assert!(home.contains("Riverton Public Library"), "the home page names the library");
    // The demo made an administrator and printed the password: it logs in.
    let password = said
        .lines()
        .find_map(|l| l.strip_prefix("staff log-in: admin / "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("the demo prints the admin password: {said}"));
    let login = client
        .post(format!("{url}/api/v1/session"))
        .json(&serde_json::json!({"login": "admin", "password": password}))
        .send()
        .expect("log in");
    assert_eq!(login.status(), reqwest::StatusCode::CREATED);
    let list: serde_json::Value =
        client.get(format!("{url}/api/v1/records?limit=5")).send().expect("records").json().expect("json");
    let records = list["records"].as_array().expect("records array");
    assert_eq!(records.len(), 5, "{list}");
    let title = records[0]["title"].as_str().expect("a title").to_string();
    let id = records[0]["id"].as_i64().expect("an id");
    let page = client.get(format!("{url}/records/{id}")).send().expect("record page").text().expect("text");
    let escaped = title
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;");
    assert!(page.contains(&escaped), "the record page shows {title:?}");
    // The server indexes the demo catalog from the change feed: the title is found by search.
    let started = std::time::Instant::now();
    loop {
        let q = format!("title:\"{}\"", title.replace('"', " "));
        let r: serde_json::Value = client
            .get(format!("{url}/api/v1/search"))
            .query(&[("q", q.as_str())])
            .send()
            .expect("search")
            .json()
            .expect("json");
        if r["results"]["hits"].as_array().is_some_and(|h| h.iter().any(|h| h["record_id"] == id)) {
            break;
        }
        assert!(started.elapsed().as_secs() < 30, "the demo record is not searchable: {r}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    drop(server);
}

#[test]
fn import_reports_rejects_and_export_reads_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("bad_records.mrc");
    std::fs::copy(shared_marc("pymarc-tests/bad_records.mrc"), &input).expect("copy");
    let out = shelfmark(&dir.path().join("db")).arg("import").arg(&input).output().expect("run import");
    let said = String::from_utf8_lossy(&out.stdout);
    // Rejects make the exit status 2 so that a script notices; the summary says what happened.
    assert_eq!(out.status.code(), Some(2), "{said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("read 9") && said.contains("rejected 2"), "{said}");
    let report = std::fs::read_to_string(dir.path().join("bad_records.mrc.rejects.txt")).expect("reject report");
    assert!(report.contains("record 7 (byte 764): record has no fields"), "{report}");
    assert!(dir.path().join("bad_records.mrc.rejects.mrc").exists());

    let koha = shared_marc("koha-sample/koha-sample-with-items.marcxml");
    let out =
        shelfmark(&dir.path().join("db2")).args(["import", "--on-match", "add"]).arg(&koha).output().expect("import");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("added 435"));
    let exported = dir.path().join("out.xml");
    let out = shelfmark(&dir.path().join("db2"))
        .args(["export", "--format", "marcxml", "--items", "-o"])
        .arg(&exported)
        .output()
        .expect("export");
    assert!(String::from_utf8_lossy(&out.stderr).contains("exported 435 records and 958 items"));
    let out = shelfmark(&dir.path().join("db2")).arg("reindex").output().expect("reindex");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && said.contains("indexed 435 records"), "{said}");
    let text = std::fs::read(&exported).expect("exported file");
    let back: Vec<_> = marc::XmlReader::new(&text[..]).collect::<Result<_, _>>().expect("reads back");
    assert_eq!(back.len(), 435);
    assert_eq!(back.iter().map(|r| r.record.data_fields("952").count()).sum::<usize>(), 958);
}

#[test]
fn callnumber_sort_prints_shelf_order_and_labels() {
    let run = |args: &[&str], input: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_shelfmark"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("run");
        child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write");
        let out = child.wait_with_output().expect("wait");
        assert!(out.status.success());
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let sorted = run(&["callnumber", "sort", "--scheme", "lc"], "QA76.73.R9 K53 2018\nQA76.73.R87 K53 2018\nQA9 .B2\n");
    assert_eq!(sorted, "QA9 .B2\nQA76.73.R87 K53 2018\nQA76.73.R9 K53 2018\n");
    let labels = run(&["callnumber", "sort", "--labels"], "QA76.73.R87 K53 2018\n");
    assert_eq!(labels, "QA / 76.73 / .R87 / K53 / 2018\n");
}

/// One line of `shelfmark shelf-list`.
#[derive(Debug, Clone)]
struct Row {
    call_number: String,
    barcode: String,
    status: String,
}

fn shelf_list(data: &Path, args: &[&str]) -> Vec<Row> {
    let out = shelfmark(data).arg("shelf-list").args(args).output().expect("shelf-list");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(cols.len(), 4, "{l}");
            Row { call_number: cols[0].into(), barcode: cols[1].into(), status: cols[2].into() }
        })
        .collect()
}

/// The Koha sample's real items, shelved by their records' call numbers: a shelf list in shelf
/// order, then an inventory of one branch's general collection with items missing, moved,
/// scanned twice, checked out, from other shelves and unknown, uploaded in three batches (two
/// files from the command line and one over the API), whose report is known in advance.
#[test]
fn shelf_list_and_inventory_of_real_items() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("db");
    let out = shelfmark(&data)
        .args(["import", "--on-match", "add"])
        .arg(shared_marc("koha-sample/koha-sample-with-items.mrc"))
        .output()
        .expect("import");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("items added 958"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let shelf = shelf_list(&data, &["--branch", "CPL", "--location", "GEN"]);
    assert!(shelf.len() > 250, "{} items", shelf.len());
    let parse = |c: &str| callnumber::CallNumber::parse(c, callnumber::Scheme::Auto);
    for w in shelf.windows(2) {
        assert!(parse(&w[0].call_number) <= parse(&w[1].call_number), "{:?} before {:?}", w[0], w[1]);
    }
    let shelved = shelf.iter().filter(|r| !r.call_number.is_empty()).count();
    // The sample's items carry no call number of their own: they take their record's (Dewey,
    // else LC); the records without either have none and stand together.
    assert!(shelved * 3 > shelf.len() * 2, "{shelved} of {} have a call number", shelf.len());
    // A range keeps to it, in the same order.
    let from = &shelf[40].call_number;
    let to = &shelf[80].call_number;
    let range = shelf_list(&data, &["--branch", "CPL", "--location", "GEN", "--from", from, "--to", to]);
    let in_range: Vec<&str> = shelf
        .iter()
        .filter(|r| parse(&r.call_number).sort_key() >= parse(from).shelf_key())
        .filter(|r| parse(&r.call_number).sort_key() < parse(to).range_end_key())
        .map(|r| r.barcode.as_str())
        .collect();
    assert_eq!(range.iter().map(|r| r.barcode.as_str()).collect::<Vec<_>>(), in_range);
    assert!(in_range.len() >= 41);

    // The walk: shelf order, with changes whose findings are known.
    let unique = |i: usize| shelf.iter().filter(|r| r.call_number == shelf[i].call_number).count() == 1;
    let moved: Vec<usize> = (20..shelf.len() - 20).filter(|&i| unique(i)).step_by(7).take(2).collect();
    assert_eq!(moved.len(), 2, "two items with call numbers of their own to move");
    let missing = [10, 60, 110, 160, 210];
    let (checked_out, twice) = (70, 80);
    assert!(!missing.iter().any(|m| moved.contains(m) || *m == checked_out || *m == twice));
    assert!(!moved.contains(&checked_out) && !moved.contains(&twice));
    assert!(moved.iter().all(|m| !missing.contains(&(m - 1)) && !missing.contains(&(m + 1))));
    let mut walk: Vec<String> = Vec::new();
    walk.push(shelf[moved[1]].barcode.clone()); // shelved at the very front
    for (i, row) in shelf.iter().enumerate() {
        if missing.contains(&i) || moved.contains(&i) {
            continue;
        }
        walk.push(row.barcode.clone());
        if i == twice {
            walk.push(row.barcode.clone());
        }
        if i == 150 {
            walk.push("NOPE-0001".into());
        }
    }
    walk.push(shelf[moved[0]].barcode.clone()); // and at the very end
    let fpl = shelf_list(&data, &["--branch", "FPL", "--location", "GEN"]);
    let av = shelf_list(&data, &["--branch", "CPL", "--location", "AV"]);
    walk.insert(100, fpl[0].barcode.clone());
    walk.insert(200, fpl[1].barcode.clone());
    walk.insert(230, av[0].barcode.clone());

    let out =
        shelfmark(&data).args(["inventory", "start", "--branch", "CPL", "--location", "GEN"]).output().expect("start");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let id: i64 = String::from_utf8_lossy(&out.stdout).trim().parse().expect("the inventory number");
    let third = walk.len() / 3;
    let (a, b) = (dir.path().join("scans-1.txt"), dir.path().join("scans-2.txt"));
    std::fs::write(&a, walk[..third].join("\n")).expect("write");
    std::fs::write(&b, walk[third..2 * third].join("\r\n") + "\r\n\r\n").expect("write");
    let out = shelfmark(&data).args(["inventory", "scan", &id.to_string()]).arg(&a).arg(&b).output().expect("scan");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("{} scans received", 2 * third)));

    // A cataloger's account and an API token for the requests below.
    let mut add = shelfmark(&data)
        .args(["staff", "add", "--login", "cat", "--name", "Cat Aloger", "--role", "cataloger", "--password-stdin"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("staff add");
    add.stdin.take().expect("stdin").write_all(b"a long cataloging password\n").expect("write");
    let added = add.wait_with_output().expect("staff add");
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let out =
        shelfmark(&data).args(["staff", "token", "--login", "cat", "--name", "cli test"]).output().expect("token");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(token.starts_with("smk_"), "{token}");

    // The rest over the API, after the desk checked one item out (recorded, but on the shelf).
    let (server, url) = serve(&data);
    let anonymous = reqwest::blocking::Client::new();
    let r = anonymous.get(format!("{url}/api/v1/items?barcode={}", shelf[checked_out].barcode)).send().expect("get");
    assert_eq!(r.status(), reqwest::StatusCode::UNAUTHORIZED);
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().expect("header"));
    let client = reqwest::blocking::Client::builder().default_headers(headers).build().expect("client");
    let found: serde_json::Value = client
        .get(format!("{url}/api/v1/items?barcode={}", shelf[checked_out].barcode))
        .send()
        .expect("get")
        .json()
        .expect("json");
    let mut item = found["items"][0].clone();
    item["status"] = "checked_out".into();
    let put = client.put(format!("{url}/api/v1/items/{}", item["id"])).json(&item).send().expect("put");
    assert!(put.status().is_success(), "{}", put.text().unwrap_or_default());
    let sent = client
        .post(format!("{url}/api/v1/inventories/{id}/scans"))
        .header("content-type", "text/plain")
        .body(walk[2 * third..].join("\n"))
        .send()
        .expect("scans");
    assert!(sent.status().is_success());
    let api: serde_json::Value =
        client.get(format!("{url}/api/v1/inventories/{id}/report")).send().expect("report").json().expect("json");
    let page: serde_json::Value = client
        .get(format!("{url}/api/v1/shelf-list?branch=CPL&location=GEN&limit=50"))
        .send()
        .expect("shelf list")
        .json()
        .expect("json");
    drop(server);
    let api_barcodes: Vec<&str> =
        page["items"].as_array().expect("items").iter().map(|i| i["barcode"].as_str().unwrap_or("")).collect();
    let cli_barcodes: Vec<&str> = shelf[..50].iter().map(|r| r.barcode.as_str()).collect();
    assert_eq!(api_barcodes, cli_barcodes, "the API pages the same shelf order");
    assert!(page["next_after"].is_string());

    let out = shelfmark(&data).args(["inventory", "report", &id.to_string(), "--json"]).output().expect("report");
    let cli: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(cli["report"], api["report"], "the command line and the API give the same report");
    let r = &api["report"];
    let barcodes = |key: &str| -> Vec<String> {
        r[key].as_array().expect(key).iter().map(|v| v["barcode"].as_str().unwrap_or("").to_string()).collect()
    };
    let bc = |i: usize| shelf[i].barcode.clone();
    assert_eq!(barcodes("missing"), missing.iter().map(|&i| bc(i)).collect::<Vec<_>>());
    assert_eq!(barcodes("misplaced"), vec![bc(moved[1]), bc(moved[0])]);
    assert_eq!(barcodes("wrong_status"), vec![bc(checked_out)]);
    assert_eq!(r["wrong_status"][0]["fix"], "check_in");
    assert_eq!(barcodes("wrong_place"), vec![fpl[0].barcode.clone(), fpl[1].barcode.clone(), av[0].barcode.clone()]);
    assert_eq!(r["wrong_place"][0]["reason"], "other_branch");
    assert_eq!(r["wrong_place"][2]["reason"], "other_location");
    assert_eq!(r["unknown"], serde_json::json!(["NOPE-0001"]));
    assert_eq!(r["duplicates"], serde_json::json!([{"barcode": bc(twice), "times": 2}]));
    assert_eq!(r["expected"], shelf.len() - 1, "the checked-out item is not expected on the shelf");
    assert_eq!(r["found"], shelf.len() - 1 - missing.len());
    assert_eq!(r["scans"], walk.len());
    // Where each moved item goes back: between its neighbours on the shelf list.
    assert_eq!(r["misplaced"][1]["shelve_after"], bc(moved[0] - 1));
    assert_eq!(r["misplaced"][1]["shelve_before"], bc(moved[0] + 1));

    let text = shelfmark(&data).args(["inventory", "report", &id.to_string()]).output().expect("report");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("Misplaced (out of shelf order: move these): 2"), "{text}");
    assert!(text.contains("recorded as checked out: check it in"), "{text}");
    // Barcode labels for a dozen of these items, starting on the sixth label of a used sheet:
    // every barcode printed decodes back (pdftoppm renders, zbarimg reads).
    let chosen: Vec<String> = shelf.iter().step_by(20).take(12).map(|r| r.barcode.clone()).collect();
    let pdf = dir.path().join("labels.pdf");
    let out = shelfmark(&data)
        .args(["labels", "--kind", "barcode", "--offset", "5", "-o"])
        .arg(&pdf)
        .args(&chosen)
        .output()
        .expect("labels");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let png = dir.path().join("page");
    let render = Command::new("pdftoppm").args(["-r", "300", "-png"]).arg(&pdf).arg(&png).status();
    assert!(render.is_ok_and(|s| s.success()), "pdftoppm (Debian poppler-utils) renders the sheet");
    let decoded = Command::new("zbarimg").args(["--raw", "-q"]).arg(dir.path().join("page-1.png")).output();
    let decoded = decoded.expect("zbarimg (Debian zbar-tools) reads the page");
    // zbarimg reports Codabar's start and stop characters (A...B); scanners at the desk strip them.
    let mut got: Vec<String> = String::from_utf8_lossy(&decoded.stdout)
        .lines()
        .map(|l| l.trim_start_matches(['A', 'B', 'C', 'D']).trim_end_matches(['A', 'B', 'C', 'D']).to_string())
        .collect();
    let mut want = chosen.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    let spines = dir.path().join("spines.pdf");
    let out = shelfmark(&data).args(["labels", "--kind", "spine", "-o"]).arg(&spines).args(&chosen[..3]).output();
    assert!(out.expect("spine labels").status.success());
    let out = shelfmark(&data).args(["labels", "--kind", "barcode", "-o"]).arg(&spines).arg("NO-SUCH-ITEM").output();
    let out = out.expect("labels");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no item has barcode NO-SUCH-ITEM"));

    let after = shelf_list(&data, &["--branch", "CPL", "--location", "GEN"]);
    assert_eq!(after.iter().find(|r| r.barcode == bc(checked_out)).map(|r| r.status.as_str()), Some("checked_out"));
}

/// `shelfmark copycat` against a served library: a source library (the Koha sample, served)
/// and a target library whose settings name the source's `/sru` and a closed port.
#[test]
fn copycat_searches_previews_and_imports_from_a_served_library() {
    let source_dir = tempfile::tempdir().expect("temp dir");
    let sample = shared_marc("koha-sample/koha-sample-with-items.mrc");
    let out = shelfmark(source_dir.path()).arg("import").arg(&sample).output().expect("import");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (server, url) = serve(source_dir.path());
    let client = reqwest::blocking::Client::new();
    let started = std::time::Instant::now();
    loop {
        let health: serde_json::Value =
            client.get(format!("{url}/health")).send().expect("health").json().expect("json");
        if health["search"]["lag"] == 0 {
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "index not caught up: {health}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // The first record of the sample with an ISBN, as the file has it.
    let file = std::fs::File::open(&sample).expect("sample");
    let (record, derived) = marc::MarcReader::detect(BufReader::new(file), marc::ReadOptions::default())
        .expect("readable")
        .expect("MARC")
        .filter_map(Result::ok)
        .map(|read| {
            let d = catalog::derive(&read.record);
            (read.record, d)
        })
        .find(|(_, d)| !d.isbns.is_empty() && d.control_number.is_some())
        .expect("a record with an ISBN");
    let isbn = derived.isbns[0].clone();

    let target_dir = tempfile::tempdir().expect("temp dir");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let settings = target_dir.path().join("shelfmark.toml");
    std::fs::write(
        &settings,
        format!(
            "[[copycat.targets]]\nname = \"down\"\nkind = \"sru\"\nurl = \"http://127.0.0.1:{closed}/sru\"\ntimeout_seconds = 2\n\n\
             [[copycat.targets]]\nname = \"source\"\nkind = \"sru\"\nurl = \"{url}/sru\"\nversion = \"2.0\"\n"
        ),
    )
    .expect("settings");
    let run = |args: &[&str]| {
        let out = shelfmark(target_dir.path()).arg("copycat").args(args).output().expect("run copycat");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    let (ok, listed, said) = run(&["targets"]);
    assert!(ok, "{said}");
    assert!(listed.starts_with("down\tsru\thttp://127.0.0.1:"), "{listed}");
    assert!(listed.contains(&format!("source\tsru\t{url}/sru\t")), "{listed}");

    let (ok, found, said) = run(&["search", "--isbn", &isbn]);
    assert!(ok, "{said}");
    let lines: Vec<&str> = found.lines().collect();
    assert!(lines[0].starts_with(&format!("down: cannot reach http://127.0.0.1:{closed}/sru: ")), "{found}");
    assert_eq!(lines[1], format!("source: 1 found for isbn {isbn}"), "{found}");
    assert!(lines[2].starts_with(&format!("  1. [new] {}", derived.title)), "{found}");

    let (ok, shown, said) = run(&["show", "--target", "source", "--isbn", &isbn, "--pick", "1"]);
    assert!(ok, "{said}");
    let control = record.control("001").expect("001").replace(' ', "\\");
    assert!(shown.lines().any(|l| l == format!("=001  {control}")), "{shown}");
    let title_a = record.subfield_values("245", 'a').next().expect("245 $a").replace('$', "{dollar}");
    assert!(shown.lines().any(|l| l.starts_with("=245  ") && l.contains(&format!("$a{title_a}"))), "{shown}");

    let (ok, imported, said) = run(&["import", "--target", "source", "--isbn", &isbn, "--pick", "1"]);
    assert!(ok, "{said}");
    assert!(imported.ends_with(": added as record 1\n"), "{imported}");
    let (ok, again, said) = run(&["import", "--target", "source", "--isbn", &isbn, "--pick", "1", "--on-match", "add"]);
    assert!(ok, "{said}");
    assert!(again.contains("already in the catalog as record 1"), "{again}");
    let (_, found, _) = run(&["search", "--target", "source", "--isbn", &isbn]);
    assert!(found.contains("  1. [held #1] "), "{found}");

    // Mistakes are named: a position past the list, several targets without --target, a bad
    // ISBN, a target that is down.
    let (ok, _, said) = run(&["show", "--target", "source", "--isbn", &isbn, "--pick", "5"]);
    assert!(!ok && said.contains("target source") && said.contains("no record at position 5"), "{said}");
    let (ok, _, said) = run(&["show", "--isbn", &isbn, "--pick", "1"]);
    assert!(!ok && said.contains("choose one with --target"), "{said}");
    let (ok, _, said) = run(&["search", "--isbn", "0-306-40615-3"]);
    assert!(!ok && said.contains("--isbn") && said.contains("check digit"), "{said}");
    let (ok, _, said) = run(&["import", "--target", "down", "--isbn", &isbn, "--pick", "1"]);
    assert!(!ok && said.contains("target down") && said.contains("cannot reach"), "{said}");
    drop(server);

    // A target the settings get wrong stops the command, naming the target and the setting.
    std::fs::write(&settings, "[[copycat.targets]]\nname = \"lc\"\nkind = \"sru\"\n").expect("settings");
    let (ok, _, said) = run(&["targets"]);
    assert!(!ok && said.contains("[[copycat.targets]] \"lc\": url: missing"), "{said}");
}
