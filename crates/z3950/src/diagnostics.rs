//! Bib-1 diagnostics (diagnostic set 1.2.840.10003.4.1): the condition codes a target
//! reports and their meanings, as the Z39.50 Maintenance Agency lists them (the same table
//! YAZ's `yaz_diag_bib1_str` prints, which a test compares with this one).

/// The meaning of a Bib-1 diagnostic condition, or `None` for a code not in the list.
pub fn bib1_message(code: u32) -> Option<&'static str> {
    Some(match code {
        1 => "Permanent system error",
        2 => "Temporary system error",
        3 => "Unsupported search",
        4 => "Terms only exclusion (stop) words",
        5 => "Too many argument words",
        6 => "Too many boolean operators",
        7 => "Too many truncated words",
        8 => "Too many incomplete subfields",
        9 => "Truncated words too short",
        10 => "Invalid format for record number (search term)",
        11 => "Too many characters in search statement",
        12 => "Too many records retrieved",
        13 => "Present request out of range",
        14 => "System error in presenting records",
        15 => "Record no authorized to be sent intersystem",
        16 => "Record exceeds Preferred-message-size",
        17 => "Record exceeds Maximum-record-size",
        18 => "Result set not supported as a search term",
        19 => "Only single result set as search term supported",
        20 => "Only ANDing of a single result set as search term supported",
        21 => "Result set exists and replace indicator off",
        22 => "Result set naming not supported",
        23 => "Combination of specified databases not supported",
        24 => "Element set names not supported",
        25 => "Specified element set name not valid for specified database",
        26 => "Only a single element set name supported",
        27 => "Result set no longer exists - unilaterally deleted by target",
        28 => "Result set is in use",
        29 => "One of the specified databases is locked",
        30 => "Specified result set does not exist",
        31 => "Resources exhausted - no results available",
        32 => "Resources exhausted - unpredictable partial results available",
        33 => "Resources exhausted - valid subset of results available",
        100 => "Unspecified error",
        101 => "Access-control failure",
        102 => "Security challenge required but could not be issued - request terminated",
        103 => "Security challenge required but could not be issued - record not included",
        104 => "Security challenge failed - record not included",
        105 => "Terminated by negative continue response",
        106 => "No abstract syntaxes agreed to for this record",
        107 => "Query type not supported",
        108 => "Malformed query",
        109 => "Database unavailable",
        110 => "Operator unsupported",
        111 => "Too many databases specified",
        112 => "Too many result sets created",
        113 => "Unsupported attribute type",
        114 => "Unsupported Use attribute",
        115 => "Unsupported value for Use attribute",
        116 => "Use attribute required but not supplied",
        117 => "Unsupported Relation attribute",
        118 => "Unsupported Structure attribute",
        119 => "Unsupported Position attribute",
        120 => "Unsupported Truncation attribute",
        121 => "Unsupported Attribute Set",
        122 => "Unsupported Completeness attribute",
        123 => "Unsupported attribute combination",
        124 => "Unsupported coded value for term",
        125 => "Malformed search term",
        126 => "Illegal term value for attribute",
        127 => "Unparsable format for un-normalized value",
        128 => "Illegal result set name",
        129 => "Proximity search of sets not supported",
        130 => "Illegal result set in proximity search",
        131 => "Unsupported proximity relation",
        132 => "Unsupported proximity unit code",
        201 => "Proximity not supported with this attribute combination",
        202 => "Unsupported distance for proximity",
        203 => "Ordered flag not supported for proximity",
        205 => "Only zero step size supported for Scan",
        206 => "Specified step size not supported for Scan",
        207 => "Cannot sort according to sequence",
        208 => "No result set name supplied on Sort",
        209 => "Generic sort not supported (database-specific sort only supported)",
        210 => "Database specific sort not supported",
        211 => "Too many sort keys",
        212 => "Duplicate sort keys",
        213 => "Unsupported missing data action",
        214 => "Illegal sort relation",
        215 => "Illegal case value",
        216 => "Illegal missing data action",
        217 => "Segmentation: Cannot guarantee records will fit in specified segments",
        218 => "ES: Package name already in use",
        219 => "ES: no such package, on modify/delete",
        220 => "ES: quota exceeded",
        221 => "ES: extended service type not supported",
        222 => "ES: permission denied on ES - id not authorized",
        223 => "ES: permission denied on ES - cannot modify or delete",
        224 => "ES: immediate execution failed",
        225 => "ES: immediate execution not supported for this service",
        226 => "ES: immediate execution not supported for these parameters",
        227 => "No data available in requested record syntax",
        228 => "Scan: malformed scan",
        229 => "Term type not supported",
        230 => "Sort: too many input results",
        231 => "Sort: incompatible record formats",
        232 => "Scan: term list not supported",
        233 => "Scan: unsupported value of position-in-response",
        234 => "Too many index terms processed",
        235 => "Database does not exist",
        236 => "Access to specified database denied",
        237 => "Sort: illegal sort",
        238 => "Record not available in requested syntax",
        239 => "Record syntax not supported",
        240 => "Scan: Resources exhausted looking for satisfying terms",
        241 => "Scan: Beginning or end of term list",
        242 => "Segmentation: max-segment-size too small to segment record",
        243 => "Present:  additional-ranges parameter not supported",
        244 => "Present:  comp-spec parameter not supported",
        245 => "Type-1 query: restriction ('resultAttr') operand not supported",
        246 => "Type-1 query: 'complex' attributeValue not supported",
        247 => "Type-1 query: 'attributeSet' as part of AttributeElement not supported",
        1001 => "Malformed APDU",
        1002 => "ES: EXTERNAL form of Item Order request not supported",
        1003 => "ES: Result set item form of Item Order request not supported",
        1004 => "ES: Extended services not supported unless access control is in effect",
        1005 => "Response records in Search response not supported",
        1006 => "Response records in Search response not possible for specified database (or database combination)",
        1007 => "No Explain server. Addinfo: pointers to servers that have a surrogate Explain database for this server",
        1008 => "ES: missing mandatory parameter for specified function. Addinfo: parameter",
        1009 => "ES: Item Order, unsupported OID in itemRequest. Addinfo: OID",
        1010 => "Init/AC: Bad Userid",
        1011 => "Init/AC: Bad Userid and/or Password",
        1012 => "Init/AC: No searches remaining (pre-purchased searches exhausted)",
        1013 => "Init/AC: Incorrect interface type (specified id valid only when used with a particular access method or client)",
        1014 => "Init/AC: Authentication System error",
        1015 => "Init/AC: Maximum number of simultaneous sessions for Userid",
        1016 => "Init/AC: Blocked network address",
        1017 => "Init/AC: No databases available for specified userId",
        1018 => "Init/AC: System temporarily out of resources",
        1019 => "Init/AC: System not available due to maintenance",
        1020 => "Init/AC: System temporarily unavailable (Addinfo: when it's expected back up)",
        1021 => "Init/AC: Account has expired",
        1022 => "Init/AC: Password has expired so a new one must be supplied",
        1023 => "Init/AC: Password has been changed by an administrator so a new one must be supplied",
        1024 => "Unsupported Attribute",
        1025 => "Service not supported for this database",
        1026 => "Record cannot be opened because it is locked",
        1027 => "SQL error",
        1028 => "Record deleted",
        1029 => "Scan: too many terms requested. Addinfo: max terms supported",
        1040 => "ES: Invalid function",
        1041 => "ES: Error in retention time",
        1042 => "ES: Permissions data not understood",
        1043 => "ES: Invalid OID for task specific parameters",
        1044 => "ES: Invalid action",
        1045 => "ES: Unknown schema",
        1046 => "ES: Too many records in package",
        1047 => "ES: Invalid wait action",
        1048 => "ES: Cannot create task package -- exceeds maximum permissible size",
        1049 => "ES: Cannot return task package -- exceeds maximum permissible size",
        1050 => "ES: Extended services request too large",
        1051 => "Scan: Attribute set id required -- not supplied",
        1052 => "ES: Cannot process task package record -- exceeds maximum permissible record size for ES",
        1053 => "ES: Cannot return task package record -- exceeds maximum permissible record size for ES response",
        1054 => "Init: Required negotiation record not included",
        1055 => "Init: negotiation option required",
        1056 => "Attribute not supported for database",
        1057 => "ES: Unsupported value of task package parameter",
        1058 => "Duplicate Detection: Cannot dedup on requested record portion",
        1059 => "Duplicate Detection: Requested detection criterion not supported",
        1060 => "Duplicate Detection: Requested level of match not supported",
        1061 => "Duplicate Detection: Requested regular expression not supported",
        1062 => "Duplicate Detection: Cannot do clustering",
        1063 => "Duplicate Detection: Retention criterion not supported",
        1064 => "Duplicate Detection: Requested number (or percentage) of entries ",
        1065 => "Duplicate Detection: Requested sort criterion not supported",
        1066 => "CompSpec: Unknown schema, or schema not supported.",
        1067 => "Encapsulation: Encapsulated sequence of PDUs not supported",
        1068 => "Encapsulation: Base operation (and encapsulated PDUs) not executed based on pre-screening analysis",
        1069 => "No syntaxes available for this request",
        1070 => "user not authorized to receive record(s) in requested syntax",
        1071 => "preferredRecordSyntax not supplied",
        1072 => "Query term includes characters that do not translate into the target character set",
        1073 => "Database records do not contain data associated with access point",
        1074 => "Proxy failure",
        _ => return None,
    })
}

/// Every code in the table, in ascending order.
pub const BIB1_CODES: &[u32] = &[
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
    32, 33, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120,
    121, 122, 123, 124, 125, 126, 127, 128, 129, 130, 131, 132, 201, 202, 203, 205, 206, 207, 208, 209, 210, 211, 212,
    213, 214, 215, 216, 217, 218, 219, 220, 221, 222, 223, 224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 234, 235,
    236, 237, 238, 239, 240, 241, 242, 243, 244, 245, 246, 247, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009,
    1010, 1011, 1012, 1013, 1014, 1015, 1016, 1017, 1018, 1019, 1020, 1021, 1022, 1023, 1024, 1025, 1026, 1027, 1028,
    1029, 1040, 1041, 1042, 1043, 1044, 1045, 1046, 1047, 1048, 1049, 1050, 1051, 1052, 1053, 1054, 1055, 1056, 1057,
    1058, 1059, 1060, 1061, 1062, 1063, 1064, 1065, 1066, 1067, 1068, 1069, 1070, 1071, 1072, 1073, 1074,
];

/// The message for a code, falling back to a sentence naming the unknown code.
pub fn bib1_message_or_unknown(code: u32) -> String {
    match bib1_message(code) {
        Some(message) => message.to_owned(),
        None => format!("Bib-1 diagnostic {code} (not in the Bib-1 list)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_codes_have_their_bib1_meanings() {
        let check = |code, expected: &str| assert_eq!(bib1_message(code), Some(expected), "{code}");
        check(1, "Permanent system error");
        check(2, "Temporary system error");
        check(3, "Unsupported search");
        check(11, "Too many characters in search statement");
        check(13, "Present request out of range");
        check(14, "System error in presenting records");
        check(114, "Unsupported Use attribute");
        check(235, "Database does not exist");
        check(1005, "Response records in Search response not supported");
        assert_eq!(bib1_message(99_999), None);
        assert!(bib1_message_or_unknown(99_999).contains("99999"));
    }

    #[test]
    fn the_code_list_is_sorted_and_every_code_has_a_message() {
        assert!(BIB1_CODES.windows(2).all(|w| w[0] < w[1]));
        assert!(BIB1_CODES.iter().all(|&c| bib1_message(c).is_some()));
        assert!((100..=132).all(|c| BIB1_CODES.contains(&c)));
    }
}
