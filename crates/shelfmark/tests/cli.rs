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

#[test]
fn demo_library_is_served_with_its_records() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = shelfmark(dir.path()).args(["demo", "--records", "300", "--no-serve"]).output().expect("run demo");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("300 records"), "{said}");

    // `serve` on port 0 says where it listens; the demo wrote the library's name to the settings.
    let mut child = shelfmark(dir.path())
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("start server");
    let stderr = child.stderr.take().expect("stderr");
    let server = Server(child);
    let mut lines = BufReader::new(stderr).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.split_once("on http://").map(|(_, addr)| format!("http://{}", addr.trim())))
        .expect("the server says where it listens");
    let client = reqwest::blocking::Client::new();
    let health: serde_json::Value = client.get(format!("{url}/health")).send().expect("health").json().expect("json");
    assert_eq!(health["backend"], "sqlite", "{health}");
    assert_eq!(health["records"], 300, "{health}");
    let home = client.get(&url).send().expect("home").text().expect("text");
    assert!(home.contains("Riverton Public Library"), "the home page names the library");
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
