//! The requests this client sends, built from plain values (pure, so tests can compare them
//! byte for byte with what `yaz-client` sends).

use crate::pdu::{
    self, oid, Close, DatabaseName, ElementSetNames, IdAuthentication, IdPass, InitializeRequest, InternationalString,
    LenientVisibleString, PresentRequest, ResultSetId, RpnQuery, SearchRequest,
};
use rasn::types::{BitString, Integer, ObjectIdentifier, OctetString};

/// What the client says about itself and asks for in an Init.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitParameters<'a> {
    pub preferred_message_size: u32,
    pub exceptional_record_size: u32,
    pub user: Option<&'a str>,
    pub password: Option<&'a str>,
    pub implementation_id: &'a str,
    pub implementation_name: &'a str,
    pub implementation_version: &'a str,
}

/// A bit string of whole octets with the given bits set (bit 0 first), the shape YAZ sends.
pub fn bits(set: &[usize], len: usize) -> BitString {
    let mut out = BitString::repeat(false, len);
    for &bit in set {
        out.set(bit, true);
    }
    out
}

fn string(text: &str) -> InternationalString {
    InternationalString::new(text)
}

/// An InitializeRequest for protocol version 3 (bits 1-3 set: versions 1 and 2 are
/// implied) with the search and present services. A user with a password goes out as
/// `idPass`; a user alone as `open` (the form targets that take "user/password" in one
/// string expect); neither sends no authentication.
pub fn init(parameters: &InitParameters<'_>) -> pdu::Pdu {
    let id_authentication = match (parameters.user, parameters.password) {
        (Some(user), Some(password)) => Some(IdAuthentication::IdPass(IdPass {
            group_id: None,
            user_id: Some(string(user)),
            password: Some(string(password)),
        })),
        (Some(user), None) => {
            Some(IdAuthentication::Open(LenientVisibleString(OctetString::from(user.as_bytes().to_vec()))))
        }
        (None, Some(password)) => {
            Some(IdAuthentication::IdPass(IdPass { group_id: None, user_id: None, password: Some(string(password)) }))
        }
        (None, None) => None,
    };
    pdu::Pdu::InitRequest(InitializeRequest {
        reference_id: None,
        protocol_version: bits(&[pdu::version::V1, pdu::version::V2, pdu::version::V3], 8),
        options: bits(&[pdu::option::SEARCH, pdu::option::PRESENT], 8),
        preferred_message_size: Integer::from(parameters.preferred_message_size),
        exceptional_record_size: Integer::from(parameters.exceptional_record_size),
        id_authentication,
        implementation_id: Some(string(parameters.implementation_id)),
        implementation_name: Some(string(parameters.implementation_name)),
        implementation_version: Some(string(parameters.implementation_version)),
        user_information_field: None,
        other_info: None,
    })
}

/// A SearchRequest that asks for no records back (no piggybacked present: records are
/// fetched with [`present`] in the syntax we want) and replaces the named result set.
pub fn search(result_set_name: &str, database: &str, query: RpnQuery) -> pdu::Pdu {
    pdu::Pdu::SearchRequest(SearchRequest {
        reference_id: None,
        small_set_upper_bound: Integer::from(0),
        large_set_lower_bound: Integer::from(1),
        medium_set_present_number: Integer::from(0),
        replace_indicator: true,
        result_set_name: string(result_set_name),
        database_names: vec![DatabaseName(OctetString::from(database.as_bytes().to_vec()))],
        small_set_element_set_names: None,
        medium_set_element_set_names: None,
        preferred_record_syntax: None,
        query: pdu::Query::Type1(query),
        additional_search_info: None,
        other_info: None,
    })
}

/// A PresentRequest for `count` records from `start` (1-based) in USMARC with the given
/// element set ("F", full records).
pub fn present(result_set_name: &str, start: u64, count: u64, element_set: &str) -> pdu::Pdu {
    pdu::Pdu::PresentRequest(PresentRequest {
        reference_id: None,
        result_set_id: ResultSetId(OctetString::from(result_set_name.as_bytes().to_vec())),
        result_set_start_point: Integer::from(start),
        number_of_records_requested: Integer::from(count),
        additional_ranges: None,
        simple_composition: Some(ElementSetNames::GenericElementSetName(string(element_set))),
        complex_composition: None,
        preferred_record_syntax: Some(ObjectIdentifier::new_unchecked(oid::USMARC.to_vec().into())),
        max_segment_count: None,
        max_record_size: None,
        max_segment_size: None,
        other_info: None,
    })
}

/// A Close with reason `finished` (0).
pub fn close() -> pdu::Pdu {
    pdu::Pdu::Close(Close {
        reference_id: None,
        close_reason: Integer::from(0),
        diagnostic_information: None,
        resource_report_format: None,
        resource_report: None,
        other_info: None,
    })
}
