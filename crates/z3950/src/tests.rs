//! Encoding and decoding checked against PDUs captured from YAZ (yaz-client 5.34 talking to
//! yaz-ztest, recorded by a TCP relay; see tests/data/README.md).

use crate::frame::frame;
use crate::pdu::{Operand, Pdu, RpnStructure};
use crate::{
    decode, decode_response, encode, init_outcome, present_outcome, request, search_outcome, Error, PresentedRecord,
    Query,
};

const CLIENT_SESSION: &[u8] = include_bytes!("../tests/data/yaz-client-session.bin");
const ZTEST_SESSION: &[u8] = include_bytes!("../tests/data/yaz-ztest-session.bin");
const DATABASE_UNAVAILABLE: &[u8] = include_bytes!("../tests/data/yaz-ztest-database-unavailable.bin");
const OUT_OF_RANGE: &[u8] = include_bytes!("../tests/data/yaz-ztest-present-out-of-range.bin");
const ZEBRA_SESSION: &[u8] = include_bytes!("../tests/data/zebrasrv-session.bin");
const ZEBRA_INIT_REFUSED: &[u8] = include_bytes!("../tests/data/zebrasrv-init-refused.bin");

/// Cuts a captured stream into its PDUs with the framer.
fn split(mut stream: &[u8]) -> Vec<&[u8]> {
    let mut pdus = Vec::new();
    while !stream.is_empty() {
        let n = frame(stream, 1 << 24).unwrap().expect("the capture ends inside a PDU");
        pdus.push(&stream[..n]);
        stream = &stream[n..];
    }
    pdus
}

/// Decodes every PDU of a capture, checks it encodes back to bytes that decode to the same
/// value, and returns them.
fn decode_all(stream: &[u8]) -> Vec<Pdu> {
    split(stream)
        .into_iter()
        .map(|bytes| {
            let pdu = decode(bytes).unwrap_or_else(|e| panic!("{e}: {bytes:02x?}"));
            let again = encode(&pdu).unwrap();
            assert_eq!(decode(&again).unwrap(), pdu, "round trip of {bytes:02x?}");
            pdu
        })
        .collect()
}

#[test]
fn yaz_client_requests_decode_and_encode_back_to_the_same_bytes() {
    let pdus = decode_all(CLIENT_SESSION);
    let kinds: Vec<_> = pdus.iter().map(std::mem::discriminant).collect();
    assert_eq!(kinds.len(), 4);
    assert!(matches!(pdus[0], Pdu::InitRequest(_)));
    assert!(matches!(pdus[1], Pdu::SearchRequest(_)));
    assert!(matches!(pdus[2], Pdu::PresentRequest(_)));
    assert!(matches!(pdus[3], Pdu::Close(_)));
    // No BOOLEAN in these three: rasn writes TRUE as 0xFF where YAZ writes 0x01 (both BER).
    let raw = split(CLIENT_SESSION);
    for i in [0, 2, 3] {
        assert_eq!(encode(&pdus[i]).unwrap(), raw[i], "PDU {i}");
    }
}

#[test]
fn our_requests_are_the_bytes_yaz_client_sends_for_the_same_values() {
    let raw = split(CLIENT_SESSION);
    let Pdu::InitRequest(yaz_init) = decode(raw[0]).unwrap() else {
        panic!("the first PDU is the Init");
    };
    let Pdu::InitRequest(mut ours) = request::init(&request::InitParameters {
        preferred_message_size: 67_108_864,
        exceptional_record_size: 67_108_864,
        user: None,
        password: None,
        implementation_id: "81",
        implementation_name: "YAZ",
        implementation_version: "5.34.0 dec0c8a0b762132468cc8264c1b220eae1c67bd7",
    }) else {
        panic!("request::init builds an Init");
    };
    assert_eq!(ours.protocol_version, yaz_init.protocol_version);
    // YAZ offers every service it has; we ask for search and present only.
    assert_eq!(ours.options, request::bits(&[0, 1], 8));
    ours.options = yaz_init.options.clone();
    assert_eq!(encode(&Pdu::InitRequest(ours)).unwrap(), raw[0]);

    assert_eq!(encode(&request::present("1", 1, 2, "F")).unwrap(), raw[2]);
    assert_eq!(encode(&request::close()).unwrap(), raw[3]);

    // yaz-client sent `@attr 1=4 @attr 4=1 "computer science"` with its attributes in the
    // order 4, 1; ours go out 1, 4 and are otherwise the same query.
    let Pdu::SearchRequest(yaz_search) = decode(raw[1]).unwrap() else {
        panic!("the second PDU is the Search");
    };
    let mut rpn = Query::title("computer science").to_rpn();
    if let RpnStructure::Op(Operand::AttrTerm(term)) = &mut rpn.rpn {
        term.attributes.reverse();
    }
    let Pdu::SearchRequest(ours) = request::search("1", "Default", rpn) else {
        panic!("request::search builds a Search");
    };
    assert_eq!(ours, yaz_search);
}

#[test]
fn yaz_ztest_responses_decode_including_indefinite_lengths() {
    let raw = split(ZTEST_SESSION);
    // yaz-ztest sends the present response with indefinite lengths.
    assert_eq!(&raw[2][..2], &[0xb9, 0x80]);
    let pdus = decode_all(ZTEST_SESSION);
    let Pdu::InitResponse(init) = &pdus[0] else { panic!("Init response first") };
    assert_eq!(init_outcome(init).unwrap().as_deref(), Some("GFS/YAZ 5.34.0 dec0c8a0b762132468cc8264c1b220eae1c67bd7"));
    let Pdu::SearchResponse(search) = &pdus[1] else { panic!("Search response second") };
    assert_eq!(search_outcome(search).unwrap(), 21);
    let Pdu::PresentResponse(present) = &pdus[2] else { panic!("Present response third") };
    let records = present_outcome(present).unwrap();
    assert_eq!(records.len(), 2);
    for (record, control_number) in records.iter().zip(["11224466", "11224467"]) {
        let PresentedRecord::Marc(bytes) = record else { panic!("{record:?}") };
        assert!(bytes.starts_with(b"00366nam"));
        assert_eq!(bytes.len(), 366);
        let text = String::from_utf8_lossy(bytes);
        assert!(text.contains(&format!("   {control_number} ")), "{text}");
    }
    let Pdu::Close(close) = &pdus[3] else { panic!("Close last") };
    assert_eq!(
        close.diagnostic_information.as_ref().map(|s| s.to_text()).as_deref(),
        Some("Association terminated by client")
    );
}

#[test]
fn zebra_responses_decode_with_additional_search_info_after_absent_records() {
    let pdus = decode_all(ZEBRA_SESSION);
    let Pdu::InitResponse(init) = &pdus[0] else { panic!("{:?}", pdus[0]) };
    assert!(init_outcome(init).unwrap().unwrap().starts_with("Zebra Information Server"));
    let Pdu::SearchResponse(search) = &pdus[1] else { panic!("{:?}", pdus[1]) };
    assert!(search.records.0.is_none());
    assert!(search.additional_search_info.as_ref().is_some_and(|info| !info.is_empty()));
    assert_eq!(search_outcome(search).unwrap(), 2);
    let Pdu::PresentResponse(present) = &pdus[2] else { panic!("{:?}", pdus[2]) };
    let records = present_outcome(present).unwrap();
    let [PresentedRecord::Marc(bytes)] = &records[..] else { panic!("{records:?}") };
    let text = String::from_utf8_lossy(bytes);
    assert!(text.contains("1491800") && text.contains("The C programming language"), "{text}");
}

#[test]
fn a_refused_init_names_the_diagnostic_zebra_put_in_user_info_1() {
    let pdus = decode_all(ZEBRA_INIT_REFUSED);
    let Pdu::InitResponse(init) = &pdus[0] else { panic!("{:?}", pdus[0]) };
    assert!(!init.result);
    match init_outcome(init) {
        Err(Error::InitRefused { code: Some(1011), message }) => {
            assert_eq!(message, "Init/AC: Bad Userid and/or Password: cataloger");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn diagnostics_of_captured_responses_become_errors_with_bib1_codes() {
    let pdus = decode_all(DATABASE_UNAVAILABLE);
    let Pdu::SearchResponse(search) = &pdus[1] else { panic!("{:?}", pdus[1]) };
    match search_outcome(search) {
        Err(Error::Diagnostic { code: 109, message, addinfo }) => {
            assert_eq!(message, "Database unavailable");
            assert_eq!(addinfo.as_deref(), Some("nosuchdb"));
        }
        other => panic!("{other:?}"),
    }
    let pdus = decode_all(OUT_OF_RANGE);
    let Pdu::PresentResponse(present) = &pdus[2] else { panic!("{:?}", pdus[2]) };
    match present_outcome(present) {
        Err(Error::Diagnostic { code: 13, message, addinfo }) => {
            assert_eq!(message, "Present request out of range");
            assert_eq!(addinfo.as_deref(), Some("5"));
        }
        other => panic!("{other:?}"),
    }
}

/// Rewrites every constructed element of a definite-length encoding in the indefinite form.
fn to_indefinite(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let h = crate::frame::header(bytes, pos).unwrap().unwrap();
        let len = h.length.unwrap() as usize;
        let content = &bytes[pos + h.header_len..pos + h.header_len + len];
        let identifier_len = if bytes[pos] & 0x1f == 0x1f {
            1 + bytes[pos + 1..].iter().position(|b| b & 0x80 == 0).unwrap() + 1
        } else {
            1
        };
        out.extend_from_slice(&bytes[pos..pos + identifier_len]);
        if h.constructed {
            out.push(0x80);
            out.extend(to_indefinite(content));
            out.extend([0, 0]);
        } else {
            out.extend_from_slice(&bytes[pos + identifier_len..pos + h.header_len + len]);
        }
        pos += h.header_len + len;
    }
    out
}

#[test]
fn a_present_request_without_composition_decodes() {
    let Pdu::PresentRequest(mut present) = request::present("default", 3, 7, "F") else { panic!() };
    present.simple_composition = None;
    let bytes = encode(&Pdu::PresentRequest(present.clone())).unwrap();
    assert_eq!(decode(&bytes).unwrap(), Pdu::PresentRequest(present));
}

#[test]
fn indefinite_and_definite_forms_decode_alike() {
    for bytes in split(CLIENT_SESSION).into_iter().chain(split(DATABASE_UNAVAILABLE)) {
        let indefinite = to_indefinite(bytes);
        assert_ne!(indefinite, bytes);
        assert_eq!(frame(&indefinite, 1 << 20), Ok(Some(indefinite.len())));
        assert_eq!(decode(&indefinite).unwrap(), decode(bytes).unwrap());
    }
}

#[test]
fn trailing_bytes_and_request_pdus_are_refused_by_name() {
    let raw = split(ZTEST_SESSION);
    let mut two = raw[1].to_vec();
    two.extend_from_slice(raw[1]);
    assert!(decode(&two).is_err());
    match decode_response(split(CLIENT_SESSION)[1], "Search") {
        Err(Error::Protocol(message)) => assert!(message.contains("searchRequest"), "{message}"),
        other => panic!("{other:?}"),
    }
    // A scanResponse (tag 36) is well-formed BER but not a PDU this client handles.
    match decode_response(&[0xbf, 0x24, 0x00], "Search") {
        Err(Error::Protocol(message)) => assert!(message.contains("scanResponse"), "{message}"),
        other => panic!("{other:?}"),
    }
}

proptest::proptest! {
    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2048)) {
        let _ = decode(&bytes);
        let _ = decode_response(&bytes, "Search");
    }

    #[test]
    fn decoding_damaged_captures_never_panics(
        which in 0usize..6,
        edits in proptest::collection::vec((proptest::num::usize::ANY, proptest::num::u8::ANY), 1..8),
        cut in proptest::num::usize::ANY,
    ) {
        let mut bytes = [ZTEST_SESSION, CLIENT_SESSION, DATABASE_UNAVAILABLE, OUT_OF_RANGE, ZEBRA_SESSION, ZEBRA_INIT_REFUSED][which].to_vec();
        for (at, value) in edits {
            let at = at % bytes.len();
            bytes[at] = value;
        }
        bytes.truncate(cut % (bytes.len() + 1));
        let mut rest = &bytes[..];
        while let Ok(Some(n)) = frame(rest, 1 << 20) {
            proptest::prop_assert!(n > 0 && n <= rest.len());
            if let Ok(pdu) = decode(&rest[..n]) {
                if let Pdu::PresentResponse(p) = &pdu { let _ = present_outcome(p); }
                if let Pdu::SearchResponse(s) = &pdu { let _ = search_outcome(s); }
                if let Pdu::InitResponse(i) = &pdu { let _ = init_outcome(i); }
            }
            rest = &rest[n..];
        }
    }
}

fn arbitrary_query() -> impl proptest::strategy::Strategy<Value = Query> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        (1u32..2000, "\\PC{0,24}").prop_map(|(use_attribute, term)| Query::Term { use_attribute, term }),
        (proptest::collection::vec((1u32..7, 1u32..200), 0..6), "\\PC{0,24}")
            .prop_map(|(attributes, term)| Query::Attributed { attributes, term }),
    ];
    leaf.prop_recursive(6, 48, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Query::And(Box::new(l), Box::new(r))),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Query::Or(Box::new(l), Box::new(r))),
            (inner.clone(), inner).prop_map(|(l, r)| Query::AndNot(Box::new(l), Box::new(r))),
        ]
    })
}

proptest::proptest! {
    #[test]
    fn every_query_survives_encoding_framing_and_decoding(query in arbitrary_query()) {
        let pdu = request::search("default", "Default", query.to_rpn());
        let bytes = encode(&pdu).unwrap();
        proptest::prop_assert_eq!(frame(&bytes, 1 << 20), Ok(Some(bytes.len())));
        proptest::prop_assert_eq!(frame(&bytes[..bytes.len() - 1], 1 << 20), Ok(None));
        proptest::prop_assert_eq!(decode(&bytes).unwrap(), pdu);
        let indefinite = to_indefinite(&bytes);
        proptest::prop_assert_eq!(frame(&indefinite, 1 << 20), Ok(Some(indefinite.len())));
        proptest::prop_assert_eq!(decode(&indefinite).unwrap(), decode(&bytes).unwrap());
    }
}
