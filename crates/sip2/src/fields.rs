//! Variable-length fields: a two-character identifier, the value, and the `|` delimiter.

use std::fmt;

/// A field identifier, two ASCII characters (`AA` patron identifier, `AB` item identifier, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldId(pub [u8; 2]);

impl FieldId {
    pub const fn new(id: &[u8; 2]) -> Self {
        FieldId(*id)
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII alphanumerics get in: constants below and `is_valid` on the way in.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }

    /// What a received identifier may be: two ASCII letters or digits.
    pub fn is_valid(bytes: &[u8]) -> bool {
        bytes.len() == 2 && bytes.iter().all(u8::is_ascii_alphanumeric)
    }
}

impl fmt::Display for FieldId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A variable-length field the typed message has no place for (a vendor extension, or a second
/// copy of a field that may appear once), kept in the order received so it can be logged or
/// passed on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Field {
    pub id: FieldId,
    pub value: String,
}

impl Field {
    pub fn new(id: FieldId, value: impl Into<String>) -> Self {
        Field { id, value: value.into() }
    }
}

/// The identifiers of SIP2 2.00, with the 3M extensions Shelfmark uses in check-in responses.
pub mod ids {
    use super::FieldId;

    pub const AA_PATRON_IDENTIFIER: FieldId = FieldId::new(b"AA");
    pub const AB_ITEM_IDENTIFIER: FieldId = FieldId::new(b"AB");
    pub const AC_TERMINAL_PASSWORD: FieldId = FieldId::new(b"AC");
    pub const AD_PATRON_PASSWORD: FieldId = FieldId::new(b"AD");
    pub const AE_PERSONAL_NAME: FieldId = FieldId::new(b"AE");
    pub const AF_SCREEN_MESSAGE: FieldId = FieldId::new(b"AF");
    pub const AG_PRINT_LINE: FieldId = FieldId::new(b"AG");
    pub const AH_DUE_DATE: FieldId = FieldId::new(b"AH");
    pub const AJ_TITLE_IDENTIFIER: FieldId = FieldId::new(b"AJ");
    pub const AL_BLOCKED_CARD_MSG: FieldId = FieldId::new(b"AL");
    pub const AM_LIBRARY_NAME: FieldId = FieldId::new(b"AM");
    pub const AN_TERMINAL_LOCATION: FieldId = FieldId::new(b"AN");
    pub const AO_INSTITUTION_ID: FieldId = FieldId::new(b"AO");
    pub const AP_CURRENT_LOCATION: FieldId = FieldId::new(b"AP");
    pub const AQ_PERMANENT_LOCATION: FieldId = FieldId::new(b"AQ");
    pub const AS_HOLD_ITEMS: FieldId = FieldId::new(b"AS");
    pub const AT_OVERDUE_ITEMS: FieldId = FieldId::new(b"AT");
    pub const AU_CHARGED_ITEMS: FieldId = FieldId::new(b"AU");
    pub const AV_FINE_ITEMS: FieldId = FieldId::new(b"AV");
    pub const AY_SEQUENCE_NUMBER: FieldId = FieldId::new(b"AY");
    pub const AZ_CHECKSUM: FieldId = FieldId::new(b"AZ");
    pub const BD_HOME_ADDRESS: FieldId = FieldId::new(b"BD");
    pub const BE_EMAIL_ADDRESS: FieldId = FieldId::new(b"BE");
    pub const BF_HOME_PHONE_NUMBER: FieldId = FieldId::new(b"BF");
    pub const BG_OWNER: FieldId = FieldId::new(b"BG");
    pub const BH_CURRENCY_TYPE: FieldId = FieldId::new(b"BH");
    pub const BI_CANCEL: FieldId = FieldId::new(b"BI");
    pub const BK_TRANSACTION_ID: FieldId = FieldId::new(b"BK");
    pub const BL_VALID_PATRON: FieldId = FieldId::new(b"BL");
    pub const BM_RENEWED_ITEMS: FieldId = FieldId::new(b"BM");
    pub const BN_UNRENEWED_ITEMS: FieldId = FieldId::new(b"BN");
    pub const BO_FEE_ACKNOWLEDGED: FieldId = FieldId::new(b"BO");
    pub const BP_START_ITEM: FieldId = FieldId::new(b"BP");
    pub const BQ_END_ITEM: FieldId = FieldId::new(b"BQ");
    pub const BR_QUEUE_POSITION: FieldId = FieldId::new(b"BR");
    pub const BS_PICKUP_LOCATION: FieldId = FieldId::new(b"BS");
    pub const BT_FEE_TYPE: FieldId = FieldId::new(b"BT");
    pub const BU_RECALL_ITEMS: FieldId = FieldId::new(b"BU");
    pub const BV_FEE_AMOUNT: FieldId = FieldId::new(b"BV");
    pub const BW_EXPIRATION_DATE: FieldId = FieldId::new(b"BW");
    pub const BX_SUPPORTED_MESSAGES: FieldId = FieldId::new(b"BX");
    pub const BY_HOLD_TYPE: FieldId = FieldId::new(b"BY");
    pub const BZ_HOLD_ITEMS_LIMIT: FieldId = FieldId::new(b"BZ");
    pub const CA_OVERDUE_ITEMS_LIMIT: FieldId = FieldId::new(b"CA");
    pub const CB_CHARGED_ITEMS_LIMIT: FieldId = FieldId::new(b"CB");
    pub const CC_FEE_LIMIT: FieldId = FieldId::new(b"CC");
    pub const CD_UNAVAILABLE_HOLD_ITEMS: FieldId = FieldId::new(b"CD");
    pub const CF_HOLD_QUEUE_LENGTH: FieldId = FieldId::new(b"CF");
    pub const CG_FEE_IDENTIFIER: FieldId = FieldId::new(b"CG");
    pub const CH_ITEM_PROPERTIES: FieldId = FieldId::new(b"CH");
    pub const CI_SECURITY_INHIBIT: FieldId = FieldId::new(b"CI");
    pub const CJ_RECALL_DATE: FieldId = FieldId::new(b"CJ");
    pub const CK_MEDIA_TYPE: FieldId = FieldId::new(b"CK");
    pub const CL_SORT_BIN: FieldId = FieldId::new(b"CL");
    pub const CM_HOLD_PICKUP_DATE: FieldId = FieldId::new(b"CM");
    pub const CN_LOGIN_USER_ID: FieldId = FieldId::new(b"CN");
    pub const CO_LOGIN_PASSWORD: FieldId = FieldId::new(b"CO");
    pub const CP_LOCATION_CODE: FieldId = FieldId::new(b"CP");
    pub const CQ_VALID_PATRON_PASSWORD: FieldId = FieldId::new(b"CQ");
    /// 3M extension: where a checked-in item should go next.
    pub const CT_DESTINATION_LOCATION: FieldId = FieldId::new(b"CT");
    /// 3M extension: why a check-in raised the alert (see [`crate::AlertType`]).
    pub const CV_ALERT_TYPE: FieldId = FieldId::new(b"CV");
    /// 3M extension: the patron a checked-in item is on hold for.
    pub const CY_HOLD_PATRON_ID: FieldId = FieldId::new(b"CY");
    /// 3M extension: that patron's name.
    pub const DA_HOLD_PATRON_NAME: FieldId = FieldId::new(b"DA");
}
