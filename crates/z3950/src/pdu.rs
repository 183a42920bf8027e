//! The Z39.50 APDUs a copy-cataloging client sends and reads, as ASN.1 types of the module
//! `Z39-50-APDU-1995` (ANSI/NISO Z39.50-2003, ISO 23950), BER-encoded by `rasn`.
//!
//! The module's default tagging is EXPLICIT: a tag the standard does not mark `IMPLICIT`
//! wraps its value (`tag(explicit(..))` here). Only the PDUs of Init, Search, Present and
//! Close are modelled, each with all its fields (BER sequences have no extension marker, so a
//! field left out of a type would make a conforming response undecodable). `InternationalString`
//! is kept as bytes: targets put UTF-8 or MARC-8 in it, which rasn's `GeneralString` alphabet
//! check would refuse.

use rasn::prelude::*;

/// `InternationalString ::= GeneralString`, kept as the bytes the target sent.
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[rasn(delegate, tag(universal, 27))]
pub struct InternationalString(pub OctetString);

impl InternationalString {
    pub fn new(text: &str) -> Self {
        Self(OctetString::from(text.as_bytes().to_vec()))
    }

    /// The text, with bytes that are not UTF-8 replaced (a MARC-8 or Latin-1 message).
    pub fn to_text(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }
}

/// `VisibleString`, read leniently: version 2 targets put whatever they have in `v2Addinfo`.
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[rasn(delegate, tag(universal, 26))]
pub struct LenientVisibleString(pub OctetString);

/// `EXTERNAL` (X.208), the envelope of records and of anything negotiated.
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[rasn(tag(universal, 8))]
pub struct External {
    pub direct_reference: Option<ObjectIdentifier>,
    pub indirect_reference: Option<Integer>,
    #[rasn(tag(universal, 7))]
    pub data_value_descriptor: Option<OctetString>,
    pub encoding: ExternalEncoding,
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[rasn(choice)]
pub enum ExternalEncoding {
    #[rasn(tag(explicit(0)))]
    SingleAsn1Type(Any),
    #[rasn(tag(1))]
    OctetAligned(OctetString),
    #[rasn(tag(2))]
    Arbitrary(BitString),
}

/// The top-level `PDU ::= CHOICE`, limited to what this client speaks.
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[rasn(choice)]
pub enum Pdu {
    #[rasn(tag(20))]
    InitRequest(InitializeRequest),
    #[rasn(tag(21))]
    InitResponse(InitializeResponse),
    #[rasn(tag(22))]
    SearchRequest(SearchRequest),
    #[rasn(tag(23))]
    SearchResponse(SearchResponse),
    #[rasn(tag(24))]
    PresentRequest(PresentRequest),
    #[rasn(tag(25))]
    PresentResponse(PresentResponse),
    #[rasn(tag(48))]
    Close(Close),
}

/// The context tags of the PDUs a target sends back to this client.
pub const RESPONSE_TAGS: [u32; 4] = [21, 23, 25, 48];

/// The standard's name for a PDU tag, for errors about what a target sent.
pub fn pdu_name(tag: u32) -> &'static str {
    match tag {
        20 => "initRequest",
        21 => "initResponse",
        22 => "searchRequest",
        23 => "searchResponse",
        24 => "presentRequest",
        25 => "presentResponse",
        26 => "deleteResultSetRequest",
        27 => "deleteResultSetResponse",
        28 => "accessControlRequest",
        29 => "accessControlResponse",
        30 => "resourceControlRequest",
        31 => "resourceControlResponse",
        32 => "triggerResourceControlRequest",
        33 => "resourceReportRequest",
        34 => "resourceReportResponse",
        35 => "scanRequest",
        36 => "scanResponse",
        43 => "sortRequest",
        44 => "sortResponse",
        45 => "segmentRequest",
        46 => "extendedServicesRequest",
        47 => "extendedServicesResponse",
        48 => "close",
        49 => "duplicateDetectionRequest",
        50 => "duplicateDetectionResponse",
        _ => "unknown PDU",
    }
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct InitializeRequest {
    #[rasn(tag(2))]
    pub reference_id: Option<OctetString>,
    #[rasn(tag(3))]
    pub protocol_version: BitString,
    #[rasn(tag(4))]
    pub options: BitString,
    #[rasn(tag(5))]
    pub preferred_message_size: Integer,
    #[rasn(tag(6))]
    pub exceptional_record_size: Integer,
    #[rasn(tag(explicit(7)))]
    pub id_authentication: Option<IdAuthentication>,
    #[rasn(tag(110))]
    pub implementation_id: Option<InternationalString>,
    #[rasn(tag(111))]
    pub implementation_name: Option<InternationalString>,
    #[rasn(tag(112))]
    pub implementation_version: Option<InternationalString>,
    #[rasn(tag(explicit(11)))]
    pub user_information_field: Option<External>,
    #[rasn(tag(201))]
    pub other_info: Option<OtherInformation>,
}

/// The standard's recommended form of the `ANY` in `idAuthentication`.
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[rasn(choice)]
pub enum IdAuthentication {
    Open(LenientVisibleString),
    IdPass(IdPass),
    Anonymous(()),
    Other(External),
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct IdPass {
    #[rasn(tag(0))]
    pub group_id: Option<InternationalString>,
    #[rasn(tag(1))]
    pub user_id: Option<InternationalString>,
    #[rasn(tag(2))]
    pub password: Option<InternationalString>,
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct InitializeResponse {
    #[rasn(tag(2))]
    pub reference_id: Option<OctetString>,
    #[rasn(tag(3))]
    pub protocol_version: BitString,
    #[rasn(tag(4))]
    pub options: BitString,
    #[rasn(tag(5))]
    pub preferred_message_size: Integer,
    #[rasn(tag(6))]
    pub exceptional_record_size: Integer,
    #[rasn(tag(12))]
    pub result: bool,
    #[rasn(tag(110))]
    pub implementation_id: Option<InternationalString>,
    #[rasn(tag(111))]
    pub implementation_name: Option<InternationalString>,
    #[rasn(tag(112))]
    pub implementation_version: Option<InternationalString>,
    #[rasn(tag(explicit(11)))]
    pub user_information_field: Option<External>,
    #[rasn(tag(201))]
    pub other_info: Option<OtherInformation>,
}

/// Bits of `ProtocolVersion`.
pub mod version {
    pub const V1: usize = 0;
    pub const V2: usize = 1;
    pub const V3: usize = 2;
}

/// Bits of `Options`.
pub mod option {
    pub const SEARCH: usize = 0;
    pub const PRESENT: usize = 1;
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct SearchRequest {
    #[rasn(tag(2))]
    pub reference_id: Option<OctetString>,
    #[rasn(tag(13))]
    pub small_set_upper_bound: Integer,
    #[rasn(tag(14))]
    pub large_set_lower_bound: Integer,
    #[rasn(tag(15))]
    pub medium_set_present_number: Integer,
    #[rasn(tag(16))]
    pub replace_indicator: bool,
    #[rasn(tag(17))]
    pub result_set_name: InternationalString,
    #[rasn(tag(18))]
    pub database_names: SequenceOf<DatabaseName>,
    #[rasn(tag(explicit(100)))]
    pub small_set_element_set_names: Option<ElementSetNames>,
    #[rasn(tag(explicit(101)))]
    pub medium_set_element_set_names: Option<ElementSetNames>,
    #[rasn(tag(104))]
    pub preferred_record_syntax: Option<ObjectIdentifier>,
    #[rasn(tag(explicit(21)))]
    pub query: Query,
    #[rasn(tag(203))]
    pub additional_search_info: Option<OtherInformation>,
    #[rasn(tag(201))]
    pub other_info: Option<OtherInformation>,
}

/// `DatabaseName ::= [105] IMPLICIT InternationalString`.
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[rasn(delegate, tag(105))]
pub struct DatabaseName(pub OctetString);

/// `ResultSetId ::= [31] IMPLICIT InternationalString`.
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[rasn(delegate, tag(31))]
pub struct ResultSetId(pub OctetString);

/// `ElementSetName ::= [103] IMPLICIT InternationalString`.
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[rasn(delegate, tag(103))]
pub struct ElementSetName(pub OctetString);

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[rasn(choice)]
pub enum ElementSetNames {
    #[rasn(tag(0))]
    GenericElementSetName(InternationalString),
    #[rasn(tag(1))]
    DatabaseSpecific(SequenceOf<DatabaseSpecificElementSet>),
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct DatabaseSpecificElementSet {
    pub db_name: DatabaseName,
    pub esn: ElementSetName,
}

/// The query types; only Type-1 (RPN) is built by this client, the others are carried
/// so a logged request of another client still decodes.
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[rasn(choice)]
pub enum Query {
    #[rasn(tag(explicit(0)))]
    Type0(Any),
    #[rasn(tag(1))]
    Type1(RpnQuery),
    #[rasn(tag(explicit(2)))]
    Type2(OctetString),
    #[rasn(tag(explicit(100)))]
    Type100(OctetString),
    #[rasn(tag(101))]
    Type101(RpnQuery),
    #[rasn(tag(explicit(102)))]
    Type102(OctetString),
    #[rasn(tag(104))]
    Type104(ExternalContent),
}

/// `[104] IMPLICIT EXTERNAL`: the EXTERNAL's fields under another tag.
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct ExternalContent {
    pub direct_reference: Option<ObjectIdentifier>,
    pub indirect_reference: Option<Integer>,
    #[rasn(tag(universal, 7))]
    pub data_value_descriptor: Option<OctetString>,
    pub encoding: ExternalEncoding,
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct RpnQuery {
    pub attribute_set: ObjectIdentifier,
    pub rpn: RpnStructure,
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[rasn(choice)]
pub enum RpnStructure {
    #[rasn(tag(explicit(0)))]
    Op(Operand),
    #[rasn(tag(1))]
    RpnRpnOp(Box<RpnRpnOp>),
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct RpnRpnOp {
    pub rpn1: RpnStructure,
    pub rpn2: RpnStructure,
    pub op: Operator,
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[rasn(choice)]
pub enum Operand {
    AttrTerm(AttributesPlusTerm),
    ResultSet(ResultSetId),
    ResultAttr(ResultSetPlusAttributes),
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[rasn(tag(102))]
pub struct AttributesPlusTerm {
    #[rasn(tag(44))]
    pub attributes: SequenceOf<AttributeElement>,
    pub term: Term,
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[rasn(tag(214))]
pub struct ResultSetPlusAttributes {
    pub result_set: ResultSetId,
    #[rasn(tag(44))]
    pub attributes: SequenceOf<AttributeElement>,
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[rasn(choice)]
pub enum Term {
    #[rasn(tag(45))]
    General(OctetString),
    #[rasn(tag(215))]
    Numeric(Integer),
    #[rasn(tag(216))]
    CharacterString(InternationalString),
    #[rasn(tag(217))]
    Oid(ObjectIdentifier),
    #[rasn(tag(218))]
    DateTime(OctetString),
    #[rasn(tag(219))]
    External(ExternalContent),
    #[rasn(tag(220))]
    IntegerAndUnit(Any),
    #[rasn(tag(221))]
    Null(()),
}

/// `Operator ::= [46] CHOICE`: a tagged choice, so the tag is explicit.
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[rasn(delegate, tag(explicit(46)))]
pub struct Operator(pub OperatorKind);

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[rasn(choice)]
pub enum OperatorKind {
    #[rasn(tag(0))]
    And(()),
    #[rasn(tag(1))]
    Or(()),
    #[rasn(tag(2))]
    AndNot(()),
    #[rasn(tag(3))]
    Prox(ProximityOperator),
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct ProximityOperator {
    #[rasn(tag(1))]
    pub exclusion: Option<bool>,
    #[rasn(tag(2))]
    pub distance: Integer,
    #[rasn(tag(3))]
    pub ordered: bool,
    #[rasn(tag(4))]
    pub relation_type: Integer,
    #[rasn(tag(explicit(5)))]
    pub proximity_unit_code: ProximityUnitCode,
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[rasn(choice)]
pub enum ProximityUnitCode {
    #[rasn(tag(1))]
    Known(Integer),
    #[rasn(tag(2))]
    Private(Integer),
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct AttributeElement {
    #[rasn(tag(1))]
    pub attribute_set: Option<ObjectIdentifier>,
    #[rasn(tag(120))]
    pub attribute_type: Integer,
    pub attribute_value: AttributeValue,
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[rasn(choice)]
pub enum AttributeValue {
    #[rasn(tag(121))]
    Numeric(Integer),
    #[rasn(tag(224))]
    Complex(ComplexAttribute),
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct ComplexAttribute {
    #[rasn(tag(1))]
    pub list: SequenceOf<StringOrNumeric>,
    #[rasn(tag(2))]
    pub semantic_action: Option<SequenceOf<Integer>>,
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[rasn(choice)]
pub enum StringOrNumeric {
    #[rasn(tag(1))]
    String(InternationalString),
    #[rasn(tag(2))]
    Numeric(Integer),
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct SearchResponse {
    #[rasn(tag(2))]
    pub reference_id: Option<OctetString>,
    #[rasn(tag(23))]
    pub result_count: Integer,
    #[rasn(tag(24))]
    pub number_of_records_returned: Integer,
    #[rasn(tag(25))]
    pub next_result_set_position: Integer,
    #[rasn(tag(22))]
    pub search_status: bool,
    #[rasn(tag(26))]
    pub result_set_status: Option<Integer>,
    #[rasn(tag(27))]
    pub present_status: Option<Integer>,
    pub records: OptionalRecords,
    #[rasn(tag(203))]
    pub additional_search_info: Option<OtherInformation>,
    #[rasn(tag(201))]
    pub other_info: Option<OtherInformation>,
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct PresentRequest {
    #[rasn(tag(2))]
    pub reference_id: Option<OctetString>,
    pub result_set_id: ResultSetId,
    #[rasn(tag(30))]
    pub result_set_start_point: Integer,
    #[rasn(tag(29))]
    pub number_of_records_requested: Integer,
    #[rasn(tag(212))]
    pub additional_ranges: Option<SequenceOf<Range>>,
    /// `recordComposition CHOICE { simple [19] ElementSetNames, complex [209] IMPLICIT
    /// CompSpec } OPTIONAL`, as two optional fields (at most one set): the alternatives have
    /// distinct tags, so the encoding is the same, and an absent choice is then recognised
    /// by its tag instead of being tried on the next field.
    #[rasn(tag(explicit(19)))]
    pub simple_composition: Option<ElementSetNames>,
    /// A `CompSpec`, which this client never sends, kept as its raw elements.
    #[rasn(tag(209))]
    pub complex_composition: Option<SequenceOf<Any>>,
    #[rasn(tag(104))]
    pub preferred_record_syntax: Option<ObjectIdentifier>,
    #[rasn(tag(204))]
    pub max_segment_count: Option<Integer>,
    #[rasn(tag(206))]
    pub max_record_size: Option<Integer>,
    #[rasn(tag(207))]
    pub max_segment_size: Option<Integer>,
    #[rasn(tag(201))]
    pub other_info: Option<OtherInformation>,
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Range {
    #[rasn(tag(1))]
    pub starting_position: Integer,
    #[rasn(tag(2))]
    pub number_of_records: Integer,
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct PresentResponse {
    #[rasn(tag(2))]
    pub reference_id: Option<OctetString>,
    #[rasn(tag(24))]
    pub number_of_records_returned: Integer,
    #[rasn(tag(25))]
    pub next_result_set_position: Integer,
    #[rasn(tag(27))]
    pub present_status: Integer,
    pub records: OptionalRecords,
    #[rasn(tag(201))]
    pub other_info: Option<OtherInformation>,
}

/// `records Records OPTIONAL`, an untagged CHOICE followed by optional fields: rasn's
/// derived decoder would try `Records` on whatever comes next (Zebra's
/// `additionalSearchInfo`) and fail, so this field looks at the tag first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OptionalRecords(pub Option<Records>);

impl AsnType for OptionalRecords {
    const TAG: Tag = Tag::EOC;
}

impl Decode for OptionalRecords {
    fn decode<D: Decoder>(decoder: &mut D) -> Result<Self, D::Error> {
        let context = |n| Tag::new(Class::Context, n);
        if let Some(records) = decoder.decode_optional_with_tag(context(28))? {
            return Ok(Self(Some(Records::ResponseRecords(records))));
        }
        if let Some(diagnostic) = decoder.decode_optional_with_tag(context(130))? {
            return Ok(Self(Some(Records::NonSurrogateDiagnostic(diagnostic))));
        }
        if let Some(diagnostics) = decoder.decode_optional_with_tag(context(205))? {
            return Ok(Self(Some(Records::MultipleNonSurDiagnostics(diagnostics))));
        }
        Ok(Self(None))
    }

    fn decode_with_tag_and_constraints<D: Decoder>(
        decoder: &mut D,
        _tag: Tag,
        _constraints: &Constraints,
    ) -> Result<Self, D::Error> {
        Self::decode(decoder)
    }
}

impl Encode for OptionalRecords {
    fn encode<'b, E: Encoder<'b>>(&self, encoder: &mut E) -> Result<(), E::Error> {
        match &self.0 {
            Some(records) => records.encode(encoder),
            None => Ok(()),
        }
    }

    fn encode_with_tag_and_constraints<'b, E: Encoder<'b>>(
        &self,
        encoder: &mut E,
        _tag: Tag,
        _constraints: &Constraints,
        _identifier: Identifier,
    ) -> Result<(), E::Error> {
        self.encode(encoder)
    }
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[rasn(choice)]
pub enum Records {
    #[rasn(tag(28))]
    ResponseRecords(SequenceOf<NamePlusRecord>),
    #[rasn(tag(130))]
    NonSurrogateDiagnostic(DefaultDiagFormat),
    #[rasn(tag(205))]
    MultipleNonSurDiagnostics(SequenceOf<DiagRec>),
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct NamePlusRecord {
    #[rasn(tag(0))]
    pub name: Option<DatabaseNameContent>,
    #[rasn(tag(explicit(1)))]
    pub record: RecordChoice,
}

/// The `[0] IMPLICIT DatabaseName` of `NamePlusRecord`: the string under tag 0, not 105.
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[rasn(delegate)]
pub struct DatabaseNameContent(pub OctetString);

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[rasn(choice)]
pub enum RecordChoice {
    #[rasn(tag(explicit(1)))]
    RetrievalRecord(External),
    #[rasn(tag(explicit(2)))]
    SurrogateDiagnostic(DiagRec),
    #[rasn(tag(explicit(3)))]
    StartingFragment(FragmentSyntax),
    #[rasn(tag(explicit(4)))]
    IntermediateFragment(FragmentSyntax),
    #[rasn(tag(explicit(5)))]
    FinalFragment(FragmentSyntax),
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[rasn(choice)]
pub enum FragmentSyntax {
    ExternallyTagged(External),
    NotExternallyTagged(OctetString),
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[rasn(choice)]
pub enum DiagRec {
    DefaultFormat(DefaultDiagFormat),
    ExternallyDefined(External),
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct DefaultDiagFormat {
    pub diagnostic_set_id: ObjectIdentifier,
    pub condition: Integer,
    pub addinfo: AddInfo,
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[rasn(choice)]
pub enum AddInfo {
    V2(LenientVisibleString),
    V3(InternationalString),
}

impl AddInfo {
    pub fn to_text(&self) -> String {
        let bytes = match self {
            AddInfo::V2(LenientVisibleString(b)) | AddInfo::V3(InternationalString(b)) => b,
        };
        String::from_utf8_lossy(bytes).into_owned()
    }
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Close {
    #[rasn(tag(2))]
    pub reference_id: Option<OctetString>,
    #[rasn(tag(211))]
    pub close_reason: Integer,
    #[rasn(tag(3))]
    pub diagnostic_information: Option<InternationalString>,
    #[rasn(tag(4))]
    pub resource_report_format: Option<ObjectIdentifier>,
    #[rasn(tag(explicit(5)))]
    pub resource_report: Option<External>,
    #[rasn(tag(201))]
    pub other_info: Option<OtherInformation>,
}

/// The standard's names for `CloseReason` values.
pub fn close_reason_name(reason: i64) -> &'static str {
    match reason {
        0 => "finished",
        1 => "shutdown",
        2 => "systemProblem",
        3 => "costLimit",
        4 => "resources",
        5 => "securityViolation",
        6 => "protocolError",
        7 => "lackOfActivity",
        8 => "peerAbort",
        9 => "unspecified",
        _ => "unknown reason",
    }
}

/// `OtherInformation ::= [201] IMPLICIT SEQUENCE OF SEQUENCE {..}` (the tag is on the field).
pub type OtherInformation = SequenceOf<OtherInformationUnit>;

/// `OtherInformation` standing alone with its tag, as UserInfo-1 carries it.
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[rasn(delegate, tag(201))]
pub struct TaggedOtherInformation(pub OtherInformation);

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct OtherInformationUnit {
    #[rasn(tag(1))]
    pub category: Option<InfoCategory>,
    pub information: Information,
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct InfoCategory {
    #[rasn(tag(1))]
    pub category_type_id: Option<ObjectIdentifier>,
    #[rasn(tag(2))]
    pub category_value: Integer,
}

#[derive(AsnType, Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[rasn(choice)]
pub enum Information {
    #[rasn(tag(2))]
    CharacterInfo(InternationalString),
    #[rasn(tag(3))]
    BinaryInfo(OctetString),
    #[rasn(tag(4))]
    ExternallyDefinedInfo(ExternalContent),
    #[rasn(tag(5))]
    Oid(ObjectIdentifier),
}

/// `DiagnosticFormat` (diag-1, 1.2.840.10003.4.2), the shape YAZ-based targets give a
/// refused Init's reason in.
pub mod diag1 {
    use super::{DefaultDiagFormat, InternationalString};
    use rasn::prelude::*;

    pub type DiagnosticFormat = SequenceOf<Entry>;

    #[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
    pub struct Entry {
        #[rasn(tag(explicit(1)))]
        pub diagnostic: Option<Diagnostic>,
        #[rasn(tag(2))]
        pub message: Option<InternationalString>,
    }

    #[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
    #[rasn(choice)]
    pub enum Diagnostic {
        #[rasn(tag(1))]
        DefaultDiagRec(DefaultDiagFormat),
        #[rasn(tag(explicit(2)))]
        ExplicitDiagnostic(Any),
    }
}

/// Object identifiers this client uses.
pub mod oid {
    /// The Bib-1 attribute set.
    pub const BIB1_ATTRIBUTES: &[u32] = &[1, 2, 840, 10003, 3, 1];
    /// The Bib-1 diagnostic set.
    pub const BIB1_DIAGNOSTICS: &[u32] = &[1, 2, 840, 10003, 4, 1];
    /// The diag-1 diagnostic format (`DiagnosticFormat`).
    pub const DIAG1: &[u32] = &[1, 2, 840, 10003, 4, 2];
    /// UserInfo-1: an `OtherInformation` in an Init's `userInformationField`.
    pub const USER_INFO_1: &[u32] = &[1, 2, 840, 10003, 10, 3];
    /// The USMARC (MARC 21) record syntax.
    pub const USMARC: &[u32] = &[1, 2, 840, 10003, 5, 10];
}
