//! Our client against `yaz-ztest` (Debian `yaz`), Index Data's test target with canned
//! records, on 127.0.0.1: Init, Search, Present and Close, hit counts compared with what
//! `yaz-client` reports for the same query, records read by the marc crate, diagnostics
//! mapped to Bib-1 codes. Also targets that misbehave (silent, garbage, oversize), played by
//! a listener in the test.
#![allow(clippy::unwrap_used)]

mod common;

use common::{free_port, peer_available, yaz_client_hits, Server};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;
use z3950::{Client, ClientOptions, Error, PresentedRecord, Query};

fn ztest() -> Option<Server> {
    if !peer_available("yaz-ztest", "yaz") || !peer_available("yaz-client", "yaz") {
        return None;
    }
    let port = free_port();
    let log = std::env::temp_dir().join(format!("shelfmark-ztest-{port}.log"));
    let mut command = Command::new("yaz-ztest");
    command.arg("-l").arg(log).arg(format!("tcp:127.0.0.1:{port}"));
    Some(Server::start(command, port))
}

#[test]
fn search_and_present_against_yaz_ztest() {
    let Some(server) = ztest() else { return };
    let mut client = Client::connect(&server.addr(), "Default", &ClientOptions::default()).unwrap();
    assert!(
        client.target_implementation.as_deref().is_some_and(|i| i.starts_with("GFS/YAZ")),
        "{:?}",
        client.target_implementation
    );

    let queries = [
        Query::title("computer science"),
        Query::isbn("0131103628"),
        Query::author("knuth"),
        // yaz-ztest answers a numeric term with that many hits.
        Query::any("42"),
        Query::And(Box::new(Query::title("computer")), Box::new(Query::author("knuth"))),
        Query::Or(Box::new(Query::title("computer")), Box::new(Query::lccn("11224466"))),
        Query::AndNot(Box::new(Query::issn("1234-5678")), Box::new(Query::title("cats"))),
    ];
    for query in &queries {
        let hits = client.search(query).unwrap();
        let expected = yaz_client_hits(server.port, "Default", &query.to_pqf());
        assert_eq!(hits, expected, "{}", query.to_pqf());
    }
    assert_eq!(client.search(&Query::any("42")).unwrap(), 42);

    let records = client.present(1, 3).unwrap();
    assert_eq!(records.len(), 3);
    let mut ours = Vec::new();
    for record in &records {
        let PresentedRecord::Marc(bytes) = record else {
            panic!("expected a MARC record, got {record:?}");
        };
        let record = marc::iso2709::read_one(bytes).unwrap();
        assert!(record.data_field("245").and_then(|f| f.subfield('a')).is_some());
        ours.push(record.control("001").unwrap().trim().to_owned());
    }
    // yaz-client shows the same records, in the same order, for the same search.
    let script = format!(
        "open tcp:127.0.0.1:{}/Default\nfind @attr 1=1016 @attr 4=2 \"42\"\nformat usmarc\nelements F\nshow 1+3\nquit\n",
        server.port
    );
    let shown = common::run_with_input(Command::new("yaz-client"), &script);
    let theirs: Vec<_> = shown.lines().filter_map(|l| l.strip_prefix("001    ")).map(|l| l.trim().to_owned()).collect();
    assert_eq!(ours, theirs, "{shown}");
    // Presenting the same range again gives the same records in the same order.
    assert_eq!(client.present(1, 3).unwrap(), records);
    assert_eq!(client.present(2, 1).unwrap()[0], records[1]);
    client.close().unwrap();
}

#[test]
fn yaz_ztest_diagnostics_become_bib1_errors() {
    let Some(server) = ztest() else { return };
    let mut client = Client::connect(&server.addr(), "nosuchdb", &ClientOptions::default()).unwrap();
    match client.search(&Query::title("dogs")) {
        Err(Error::Diagnostic { code, message, addinfo }) => {
            assert_eq!(code, 109);
            assert_eq!(message, "Database unavailable");
            assert_eq!(addinfo.as_deref(), Some("nosuchdb"));
        }
        other => panic!("expected diagnostic 109, got {other:?}"),
    }
    let error = client.present(1, 1).unwrap_err();
    assert!(matches!(error, Error::Protocol(ref m) if m.contains("before any successful search")), "{error}");

    let mut client = Client::connect(&server.addr(), "Default", &ClientOptions::default()).unwrap();
    assert_eq!(client.search(&Query::any("3")).unwrap(), 3);
    match client.present(5, 1) {
        Err(Error::Diagnostic { code: 13, message, .. }) => assert_eq!(message, "Present request out of range"),
        other => panic!("expected diagnostic 13, got {other:?}"),
    }
    // The association survives a diagnostic.
    assert_eq!(client.present(3, 1).unwrap().len(), 1);
    client.close().unwrap();
}

#[test]
fn login_goes_out_in_the_init() {
    let Some(server) = ztest() else { return };
    // yaz-ztest accepts any login; the point is that an Init with idPass is well-formed for it.
    let options =
        ClientOptions { user: Some("cataloger".into()), password: Some("secret".into()), ..ClientOptions::default() };
    let mut client = Client::connect(&server.addr(), "Default", &options).unwrap();
    assert_eq!(client.search(&Query::any("7")).unwrap(), 7);
    client.close().unwrap();
}

/// A target played by the test: accepts one connection, reads the Init, answers with `reply`
/// (or nothing), then keeps the connection open until the client gives up.
fn fake_target(reply: Option<Vec<u8>>) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = stream.read(&mut buf);
        if let Some(reply) = reply {
            let _ = stream.write_all(&reply);
        }
        let _ = stream.read(&mut buf);
    });
    (addr, handle)
}

fn quick() -> ClientOptions {
    ClientOptions { timeout: Duration::from_millis(300), ..ClientOptions::default() }
}

#[test]
fn misbehaving_targets_give_errors_not_hangs() {
    let (addr, handle) = fake_target(None);
    let error = Client::connect(&addr, "Default", &quick()).unwrap_err();
    assert!(matches!(error, Error::Timeout { .. }), "{error}");
    handle.join().unwrap();

    // A target that answers the Init, then falls silent: the search times out, and the
    // association is not used again.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let init_response = include_bytes!("data/yaz-ztest-session.bin")[..0x5b].to_vec();
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = stream.read(&mut buf);
        stream.write_all(&init_response).unwrap();
        let _ = stream.read(&mut buf);
        let _ = stream.read(&mut buf);
    });
    let mut client = Client::connect(&addr, "Default", &quick()).unwrap();
    let error = client.search(&Query::title("dogs")).unwrap_err();
    assert!(matches!(error, Error::Timeout { .. }), "{error}");
    let error = client.search(&Query::title("dogs")).unwrap_err();
    assert!(matches!(error, Error::Protocol(ref m) if m.contains("failed earlier")), "{error}");
    client.close().unwrap();
    handle.join().unwrap();

    let (addr, handle) = fake_target(Some(b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec()));
    let error = Client::connect(&addr, "Default", &quick()).unwrap_err();
    assert!(matches!(error, Error::Protocol(_)), "{error}");
    handle.join().unwrap();

    // An initResponse header announcing 2 GiB.
    let (addr, handle) = fake_target(Some(vec![0xb5, 0x84, 0x7f, 0xff, 0xff, 0xff]));
    let error = Client::connect(&addr, "Default", &quick()).unwrap_err();
    assert!(matches!(error, Error::TooLarge { pdu: "initResponse", .. }), "{error}");
    handle.join().unwrap();

    // A refused Init with its reason in userInformationField, as YAZ-based targets send it.
    let (addr, handle) = fake_target(Some(refused_init()));
    match Client::connect(&addr, "Default", &quick()) {
        Err(Error::InitRefused { code: Some(1011), message }) => {
            assert_eq!(message, "Init/AC: Bad Userid and/or Password: cataloger");
        }
        other => panic!("expected a refused Init, got {other:?}"),
    }
    handle.join().unwrap();

    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap().to_string();
    drop(closed);
    let error = Client::connect(&addr, "Default", &quick()).unwrap_err();
    assert!(matches!(error, Error::Io { .. }), "{error}");
}

fn refused_init() -> Vec<u8> {
    use rasn::types::{Any, BitString, Integer, ObjectIdentifier, OctetString};
    use z3950::pdu::{self, diag1, oid};
    let oid = |arcs: &[u32]| ObjectIdentifier::new(arcs.to_vec()).unwrap();
    let reason: diag1::DiagnosticFormat = vec![diag1::Entry {
        diagnostic: Some(diag1::Diagnostic::DefaultDiagRec(pdu::DefaultDiagFormat {
            diagnostic_set_id: oid(oid::BIB1_DIAGNOSTICS),
            condition: Integer::from(1011),
            addinfo: pdu::AddInfo::V3(pdu::InternationalString::new("cataloger")),
        })),
        message: None,
    }];
    let response = pdu::InitializeResponse {
        reference_id: None,
        protocol_version: BitString::repeat(true, 3),
        options: BitString::repeat(true, 2),
        preferred_message_size: Integer::from(1 << 20),
        exceptional_record_size: Integer::from(1 << 20),
        result: false,
        implementation_id: None,
        implementation_name: None,
        implementation_version: None,
        user_information_field: Some(pdu::External {
            direct_reference: Some(oid(oid::DIAG1)),
            indirect_reference: None,
            data_value_descriptor: None::<OctetString>,
            encoding: pdu::ExternalEncoding::SingleAsn1Type(Any::new(rasn::ber::encode(&reason).unwrap())),
        }),
        other_info: None,
    };
    z3950::encode(&pdu::Pdu::InitResponse(response)).unwrap()
}

/// Our Bib-1 table against the one in YAZ's library (`yaz_diag_bib1_str`, read through
/// Python's ctypes): the same codes with the same meanings.
#[test]
fn bib1_messages_match_yaz() {
    if !peer_available("yaz-client", "yaz") {
        return;
    }
    let python = std::env::var("SHELFMARK_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let script = "import ctypes\n\
        lib = ctypes.CDLL('libyaz.so.5')\n\
        lib.yaz_diag_bib1_str.restype = ctypes.c_char_p\n\
        for code in range(0, 5000):\n\
        \x20   text = lib.yaz_diag_bib1_str(code)\n\
        \x20   if text and text != b'Unknown error':\n\
        \x20       print(f'{code}\\t{text.decode()}')\n";
    let output = Command::new(&python).arg("-c").arg(script).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let yaz: Vec<(u32, String)> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let (code, text) = line.split_once('\t').unwrap();
            (code.parse().unwrap(), text.to_owned())
        })
        .collect();
    assert!(yaz.len() > 150, "{yaz:?}");
    for (code, text) in &yaz {
        assert_eq!(z3950::diagnostics::bib1_message(*code), Some(text.as_str()), "code {code}");
    }
    let codes: Vec<u32> = yaz.iter().map(|(code, _)| *code).collect();
    assert_eq!(z3950::diagnostics::BIB1_CODES, &codes[..]);
}
