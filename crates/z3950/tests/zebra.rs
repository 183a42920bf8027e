//! Our client against Zebra (`zebrasrv`, Debian `idzebra-2.0`, Koha's default engine) loaded
//! with real records: Koha's sample catalogue (435 LC-derived bibliographic records, ISO
//! 2709) from the shared test data. Records are picked from the file with the marc crate,
//! searched by ISBN, title, author and LCCN, and each hit count must equal what `yaz-client`
//! reports for the same PQF query; the presented records must include the very record the
//! search was made from (same 001 and 245 $a).
#![allow(clippy::unwrap_used)]

mod common;

use common::{free_port, peer_available, run, yaz_client_hits, Server};
use std::path::{Path, PathBuf};
use std::process::Command;
use z3950::{Client, ClientOptions, Error, PresentedRecord, Query};

const SAMPLE: &str = "data/marc/koha-sample/koha-sample-with-items.mrc";

fn shared() -> PathBuf {
    match std::env::var_os("SHELFMARK_SHARED") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    }
}

/// A Zebra server over the sample, in a temporary directory removed with it.
struct Zebra {
    server: Server,
    _dir: tempfile::TempDir,
}

fn zebra() -> Option<Zebra> {
    zebra_with(None)
}

/// With `login` ("user:password"), Zebra refuses an Init without those credentials.
fn zebra_with(login: Option<&str>) -> Option<Zebra> {
    for (program, package) in [("zebrasrv", "idzebra-2.0"), ("zebraidx", "idzebra-2.0"), ("yaz-client", "yaz")] {
        if !peer_available(program, package) {
            return None;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for sub in ["reg", "lock", "tmp"] {
        std::fs::create_dir(root.join(sub)).unwrap();
    }
    let port = free_port();
    let peers = shared().join("peers/zebra");
    for file in ["yazgfs.xml", "zebra.cfg"] {
        let text = std::fs::read_to_string(peers.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let text = text.replace("ZEBRA_DIR", root.to_str().unwrap()).replace("PORT", &port.to_string());
        std::fs::write(root.join(file), text).unwrap();
    }
    std::fs::copy("/usr/share/yaz/etc/pqf.properties", root.join("pqf.properties")).unwrap();
    if let Some(login) = login {
        std::fs::write(root.join("passwd"), format!("{login}\n")).unwrap();
        let mut config = std::fs::OpenOptions::new().append(true).open(root.join("zebra.cfg")).unwrap();
        std::io::Write::write_all(&mut config, b"passwd: passwd\n").unwrap();
    }
    // The marc21.abs Zebra ships indexes no standard numbers; the profile path of zebra.cfg
    // starts with ".", so this copy, with ISBN, ISSN and LC card number added, is used.
    let mut abs = std::fs::read_to_string("/usr/share/idzebra-2.0/tab/marc21.abs").unwrap();
    abs.push_str("\nmelm 010$a\t\tLC-card-number\nmelm 020$a\t\tISBN\nmelm 022$a\t\tISSN\n");
    std::fs::write(root.join("marc21.abs"), abs).unwrap();
    run(Command::new("zebraidx").args(["-c", "zebra.cfg", "init"]), root);
    let sample = shared().join(SAMPLE);
    run(Command::new("zebraidx").args(["-c", "zebra.cfg", "-t", "grs.marcxml.marc21", "update"]).arg(&sample), root);
    let mut command = Command::new("zebrasrv");
    command.current_dir(root).args(["-f", "yazgfs.xml"]);
    Some(Zebra { server: Server::start(command, port), _dir: dir })
}

/// What a record is searched by, read from the file.
#[derive(Debug)]
struct Sought {
    control_number: String,
    title_proper: String,
    isbn: String,
    author: String,
    lccn: String,
}

fn trim_punctuation(s: &str) -> String {
    s.trim().trim_end_matches([' ', '/', ':', ';', ',', '.', '=']).trim().to_owned()
}

/// Records of the sample with an 001, 010, 020, 100 and 245: every fifth such record.
fn sought_records() -> Vec<Sought> {
    let file = std::fs::File::open(shared().join(SAMPLE)).unwrap();
    let mut out = Vec::new();
    for read in marc::Iso2709Reader::new(std::io::BufReader::new(file)) {
        let record = read.unwrap().record;
        let first = |tag: &str| record.subfield_values(tag, 'a').next().map(str::to_owned);
        let (Some(control_number), Some(title), Some(isbn), Some(author), Some(lccn)) =
            (record.control("001"), first("245"), first("020"), first("100"), first("010"))
        else {
            continue;
        };
        // Standard numbers are searched as given: the caller strips qualifiers ("(pbk.)").
        let isbn = isbn.split_whitespace().next().unwrap_or_default().replace('-', "");
        out.push(Sought {
            control_number: control_number.trim().to_owned(),
            title_proper: trim_punctuation(&title),
            isbn,
            author: trim_punctuation(&author),
            lccn: lccn.trim().to_owned(),
        });
    }
    assert!(out.len() > 100, "only {} records of the sample qualify", out.len());
    out.into_iter().step_by(5).take(12).collect()
}

fn title_of(bytes: &[u8]) -> (String, String) {
    let record = marc::iso2709::read_one(bytes).unwrap();
    let control = record.control("001").unwrap_or_default().trim().to_owned();
    let title = record.subfield_values("245", 'a').next().map(trim_punctuation).unwrap_or_default();
    (control, title)
}

#[test]
fn searches_of_real_records_agree_with_yaz_client_and_find_the_record() {
    let Some(zebra) = zebra() else { return };
    let port = zebra.server.port;
    let mut client = Client::connect(&zebra.server.addr(), "Default", &ClientOptions::default()).unwrap();
    let sought = sought_records();
    for record in &sought {
        let queries = [
            Query::isbn(&record.isbn),
            Query::title(&record.title_proper),
            Query::author(&record.author),
            Query::lccn(&record.lccn),
        ];
        for query in &queries {
            let hits = client.search(query).unwrap();
            let pqf = query.to_pqf();
            assert_eq!(hits, yaz_client_hits(port, "Default", &pqf), "{pqf}");
            assert!(hits >= 1, "{pqf} finds nothing, but {record:?} has it");
            let presented = client.present(1, hits).unwrap();
            assert_eq!(presented.len() as u64, hits, "{pqf}");
            let found: Vec<(String, String)> = presented
                .iter()
                .map(|p| match p {
                    PresentedRecord::Marc(bytes) => title_of(bytes),
                    PresentedRecord::Diagnostic { .. } => panic!("{pqf}: {p:?}"),
                })
                .collect();
            let expected = (record.control_number.clone(), record.title_proper.clone());
            assert!(found.contains(&expected), "{pqf}: {expected:?} not among {found:?}");
        }
    }
    // A multi-word title search also finds the record from words that are not the whole title.
    let record = sought.iter().find(|r| r.title_proper.split_whitespace().count() >= 3).unwrap();
    let words: Vec<&str> = record.title_proper.split_whitespace().take(2).collect();
    let query = Query::title(&words.join(" "));
    let hits = client.search(&query).unwrap();
    assert_eq!(hits, yaz_client_hits(port, "Default", &query.to_pqf()));
    assert!(hits >= 1, "{}", query.to_pqf());
    client.close().unwrap();
}

#[test]
fn attributed_terms_agree_with_yaz_client() {
    use z3950::{attribute_type as t, completeness, position, relation, structure, truncation, use_attribute as u};
    let Some(zebra) = zebra() else { return };
    let mut client = Client::connect(&zebra.server.addr(), "Default", &ClientOptions::default()).unwrap();
    let attributed = |attributes: &[(u32, u32)], term: &str| Query::Attributed {
        attributes: attributes.to_vec(),
        term: term.into(),
    };
    let queries = [
        attributed(&[(t::USE, u::TITLE), (t::TRUNCATION, truncation::RIGHT)], "program"),
        attributed(&[(t::USE, u::TITLE), (t::TRUNCATION, truncation::DO_NOT_TRUNCATE)], "program"),
        attributed(
            &[(t::USE, u::TITLE), (t::RELATION, relation::EQUAL), (t::POSITION, position::ANY_POSITION_IN_FIELD)],
            "language",
        ),
        attributed(
            &[
                (t::USE, u::AUTHOR),
                (t::STRUCTURE, structure::PHRASE),
                (t::COMPLETENESS, completeness::INCOMPLETE_SUBFIELD),
            ],
            "Kernighan, Brian",
        ),
        Query::And(
            Box::new(attributed(&[(t::USE, u::ANY), (t::TRUNCATION, truncation::RIGHT)], "comput")),
            Box::new(Query::author("Kernighan")),
        ),
    ];
    let mut counts = Vec::new();
    for query in &queries {
        let hits = client.search(query).unwrap();
        assert_eq!(hits, yaz_client_hits(zebra.server.port, "Default", &query.to_pqf()), "{}", query.to_pqf());
        counts.push(hits);
    }
    // Right truncation finds at least what the whole word finds ("programming" besides "program").
    assert!(counts[0] > counts[1], "{counts:?}");
    assert!(counts.iter().all(|&n| n > 0), "{counts:?}");
}

#[test]
fn zebra_diagnostics_become_bib1_errors() {
    let Some(zebra) = zebra() else { return };
    let mut client = Client::connect(&zebra.server.addr(), "Default", &ClientOptions::default()).unwrap();
    let unsupported = Query::Term { use_attribute: 9999, term: "anything".into() };
    match client.search(&unsupported) {
        Err(Error::Diagnostic { code: 114, message, addinfo }) => {
            assert_eq!(message, "Unsupported Use attribute");
            assert_eq!(addinfo.as_deref(), Some("9999"));
        }
        other => panic!("expected diagnostic 114, got {other:?}"),
    }
    let mut client = Client::connect(&zebra.server.addr(), "NoSuchDatabase", &ClientOptions::default()).unwrap();
    match client.search(&Query::title("chess")) {
        Err(Error::Diagnostic { code, addinfo, .. }) => {
            assert_eq!(code, 109, "{addinfo:?}");
            assert_eq!(addinfo.as_deref(), Some("NoSuchDatabase"));
        }
        other => panic!("expected a database diagnostic, got {other:?}"),
    }
}

#[test]
fn present_gathers_records_across_small_messages() {
    let Some(zebra) = zebra() else { return };
    let query = Query::any("the");
    let mut roomy = Client::connect(&zebra.server.addr(), "Default", &ClientOptions::default()).unwrap();
    let hits = roomy.search(&query).unwrap();
    assert_eq!(hits, yaz_client_hits(zebra.server.port, "Default", &query.to_pqf()));
    assert!(hits > 30, "{hits}");
    let all_at_once = roomy.present(1, 20).unwrap();
    assert_eq!(all_at_once.len(), 20);

    // At 4 KiB Zebra sends one or two records per presentResponse; the client asks again.
    let small = ClientOptions { preferred_message_size: 4096, ..ClientOptions::default() };
    let mut cramped = Client::connect(&zebra.server.addr(), "Default", &small).unwrap();
    assert_eq!(cramped.search(&query).unwrap(), hits);
    assert_eq!(cramped.present(1, 20).unwrap(), all_at_once);

    // A count running past the end is cut to the result set.
    let tail = roomy.present(hits - 2, 10).unwrap();
    assert_eq!(tail.len(), 3);
    match roomy.present(hits + 1, 1) {
        Err(Error::Diagnostic { code: 13, .. }) => {}
        other => panic!("expected diagnostic 13 past the end, got {other:?}"),
    }
    roomy.close().unwrap();
    cramped.close().unwrap();
}

#[test]
fn a_target_that_wants_a_login_refuses_the_init_and_says_why() {
    let Some(zebra) = zebra_with(Some("cataloger:secret")) else { return };
    let addr = zebra.server.addr();
    let login = |password: Option<&str>| ClientOptions {
        user: Some("cataloger".into()),
        password: password.map(str::to_owned),
        ..ClientOptions::default()
    };
    match Client::connect(&addr, "Default", &login(Some("wrong"))) {
        Err(Error::InitRefused { code: Some(1011), message }) => {
            assert_eq!(message, "Init/AC: Bad Userid and/or Password: cataloger");
        }
        other => panic!("expected Init refused with 1011, got {other:?}"),
    }
    match Client::connect(&addr, "Default", &ClientOptions::default()) {
        Err(Error::InitRefused { code: Some(_), .. }) => {}
        other => panic!("expected Init refused without a login, got {other:?}"),
    }
    let mut client = Client::connect(&addr, "Default", &login(Some("secret"))).unwrap();
    let query = Query::title("chess");
    assert!(client.search(&query).unwrap() >= 1);
    client.close().unwrap();
}
