//! What the ACS (Shelfmark) sends back, one struct per message.
//!
//! Every response ends with screen messages (AF) and print lines (AG), which kiosks show and
//! print, and keeps unknown fields in `extra`. A field the spec requires is always written, even
//! when empty; `pysip2` refuses a reply without it.

use crate::codes::{
    AlertType, CirculationStatus, Currency, FeeType, Language, MediaType, PatronStatus, ProtocolVersion,
    SecurityMarker, SupportedMessages, YesNoUnknown,
};
use crate::fields::ids::*;
use crate::wire::{Reader, Writer};
use crate::{Field, SipDate, SipError};

/// 94: whether the login was accepted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LoginResponse {
    pub ok: bool,
}

/// 98: the ACS's status and the rules for the SC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcsStatus {
    pub online_status: bool,
    pub checkin_ok: bool,
    pub checkout_ok: bool,
    pub acs_renewal_policy: bool,
    pub status_update_ok: bool,
    pub offline_ok: bool,
    /// Tenths of a second the SC waits for an answer; 0 means "do not time out".
    pub timeout_period: u16,
    /// 999 means "unlimited".
    pub retries_allowed: u16,
    pub date_time_sync: SipDate,
    pub protocol_version: ProtocolVersion,
    pub institution_id: String,
    pub library_name: Option<String>,
    /// BX: what the server really answers.
    pub supported_messages: SupportedMessages,
    pub terminal_location: Option<String>,
    pub screen_message: Vec<String>,
    pub print_line: Vec<String>,
    pub extra: Vec<Field>,
}

/// 24: a patron's status (the answer to 23 and to 01).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatronStatusResponse {
    pub patron_status: PatronStatus,
    pub language: Language,
    pub transaction_date: SipDate,
    pub institution_id: String,
    pub patron_identifier: String,
    pub personal_name: String,
    pub valid_patron: Option<bool>,
    pub valid_patron_password: Option<bool>,
    pub currency_type: Option<Currency>,
    pub fee_amount: Option<String>,
    pub screen_message: Vec<String>,
    pub print_line: Vec<String>,
    pub extra: Vec<Field>,
}

/// 64: a patron's details, counts, and the list the request's summary asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatronInformationResponse {
    pub patron_status: PatronStatus,
    pub language: Language,
    pub transaction_date: SipDate,
    /// The six counts are four digits, or blanks (`None`) for "not known".
    pub hold_items_count: Option<u16>,
    pub overdue_items_count: Option<u16>,
    pub charged_items_count: Option<u16>,
    pub fine_items_count: Option<u16>,
    pub recall_items_count: Option<u16>,
    pub unavailable_holds_count: Option<u16>,
    pub institution_id: String,
    pub patron_identifier: String,
    pub personal_name: String,
    /// BZ, CA, CB: four digits each.
    pub hold_items_limit: Option<u16>,
    pub overdue_items_limit: Option<u16>,
    pub charged_items_limit: Option<u16>,
    pub valid_patron: Option<bool>,
    pub valid_patron_password: Option<bool>,
    pub currency_type: Option<Currency>,
    pub fee_amount: Option<String>,
    pub fee_limit: Option<String>,
    /// AS, AT, AU, AV, BU, CD: one field per item.
    pub hold_items: Vec<String>,
    pub overdue_items: Vec<String>,
    pub charged_items: Vec<String>,
    pub fine_items: Vec<String>,
    pub recall_items: Vec<String>,
    pub unavailable_hold_items: Vec<String>,
    pub home_address: Option<String>,
    pub email_address: Option<String>,
    pub home_phone_number: Option<String>,
    pub screen_message: Vec<String>,
    pub print_line: Vec<String>,
    pub extra: Vec<Field>,
}

/// 12 (checkout) and 30 (renew): the spec gives both the same fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutResponse {
    pub ok: bool,
    pub renewal_ok: bool,
    pub magnetic_media: YesNoUnknown,
    pub desensitize: YesNoUnknown,
    pub transaction_date: SipDate,
    pub institution_id: String,
    pub patron_identifier: String,
    pub item_identifier: String,
    pub title_identifier: String,
    /// AH: free text in the ACS's own format (the spec does not fix one).
    pub due_date: String,
    pub fee_type: Option<FeeType>,
    pub security_inhibit: Option<bool>,
    pub currency_type: Option<Currency>,
    pub fee_amount: Option<String>,
    pub media_type: Option<MediaType>,
    pub item_properties: Option<String>,
    pub transaction_id: Option<String>,
    pub screen_message: Vec<String>,
    pub print_line: Vec<String>,
    pub extra: Vec<Field>,
}

/// 30 has the fields of 12.
pub type RenewResponse = CheckoutResponse;

/// 10: the answer to a check-in, with where a sorter should drop the item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckinResponse {
    pub ok: bool,
    pub resensitize: bool,
    pub magnetic_media: YesNoUnknown,
    /// Y when the item must not go back to the shelf (a hold, a transit): kiosks beep, sorters
    /// divert.
    pub alert: bool,
    pub transaction_date: SipDate,
    pub institution_id: String,
    pub item_identifier: String,
    pub permanent_location: String,
    pub title_identifier: Option<String>,
    /// CL: the bin a sorter drops the item into, named as the sorter is configured.
    pub sort_bin: Option<String>,
    pub patron_identifier: Option<String>,
    pub media_type: Option<MediaType>,
    pub item_properties: Option<String>,
    /// CT (3M extension): where the item goes next (a branch for a transit).
    pub destination_location: Option<String>,
    /// CV (3M extension): why the alert.
    pub alert_type: Option<AlertType>,
    /// CY (3M extension): the patron the hold is for.
    pub hold_patron_id: Option<String>,
    /// DA (3M extension).
    pub hold_patron_name: Option<String>,
    pub screen_message: Vec<String>,
    pub print_line: Vec<String>,
    pub extra: Vec<Field>,
}

/// 66: what a renew all renewed and what it could not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewAllResponse {
    pub ok: bool,
    pub renewed_count: u16,
    pub unrenewed_count: u16,
    pub transaction_date: SipDate,
    pub institution_id: String,
    pub renewed_items: Vec<String>,
    pub unrenewed_items: Vec<String>,
    pub screen_message: Vec<String>,
    pub print_line: Vec<String>,
    pub extra: Vec<Field>,
}

/// 18: an item's details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemInformationResponse {
    pub circulation_status: CirculationStatus,
    pub security_marker: SecurityMarker,
    pub fee_type: FeeType,
    pub transaction_date: SipDate,
    pub hold_queue_length: Option<u32>,
    /// AH, free text as in 12.
    pub due_date: Option<String>,
    pub recall_date: Option<SipDate>,
    pub hold_pickup_date: Option<SipDate>,
    pub item_identifier: String,
    pub title_identifier: String,
    pub owner: Option<String>,
    pub currency_type: Option<Currency>,
    pub fee_amount: Option<String>,
    pub media_type: Option<MediaType>,
    pub permanent_location: Option<String>,
    pub current_location: Option<String>,
    pub item_properties: Option<String>,
    pub screen_message: Vec<String>,
    pub print_line: Vec<String>,
    pub extra: Vec<Field>,
}

/// 20: whether the item properties were stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemStatusUpdateResponse {
    pub item_properties_ok: bool,
    pub transaction_date: SipDate,
    pub item_identifier: String,
    pub title_identifier: Option<String>,
    pub item_properties: Option<String>,
    pub screen_message: Vec<String>,
    pub print_line: Vec<String>,
    pub extra: Vec<Field>,
}

/// 16: the answer to a hold request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldResponse {
    pub ok: bool,
    pub available: bool,
    pub transaction_date: SipDate,
    pub expiration_date: Option<SipDate>,
    pub queue_position: Option<u32>,
    pub pickup_location: Option<String>,
    pub institution_id: String,
    pub patron_identifier: String,
    pub item_identifier: Option<String>,
    pub title_identifier: Option<String>,
    pub screen_message: Vec<String>,
    pub print_line: Vec<String>,
    pub extra: Vec<Field>,
}

/// 38: whether the payment was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeePaidResponse {
    pub payment_accepted: bool,
    pub transaction_date: SipDate,
    pub institution_id: String,
    pub patron_identifier: String,
    pub transaction_id: Option<String>,
    pub screen_message: Vec<String>,
    pub print_line: Vec<String>,
    pub extra: Vec<Field>,
}

/// 36: the end of a patron's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndSessionResponse {
    pub end_session: bool,
    pub transaction_date: SipDate,
    pub institution_id: String,
    pub patron_identifier: String,
    pub screen_message: Vec<String>,
    pub print_line: Vec<String>,
    pub extra: Vec<Field>,
}

/// A message from the ACS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    Login(LoginResponse),
    AcsStatus(AcsStatus),
    PatronStatus(PatronStatusResponse),
    PatronInformation(PatronInformationResponse),
    Checkout(CheckoutResponse),
    Checkin(CheckinResponse),
    Renew(RenewResponse),
    RenewAll(RenewAllResponse),
    ItemInformation(ItemInformationResponse),
    ItemStatusUpdate(ItemStatusUpdateResponse),
    Hold(HoldResponse),
    FeePaid(FeePaidResponse),
    EndSession(EndSessionResponse),
    /// 96: the last request arrived damaged (bad checksum); send it again.
    RequestScResend,
}

impl Response {
    /// The two-character command code.
    pub fn command(&self) -> &'static str {
        match self {
            Response::Login(_) => "94",
            Response::AcsStatus(_) => "98",
            Response::PatronStatus(_) => "24",
            Response::PatronInformation(_) => "64",
            Response::Checkout(_) => "12",
            Response::Checkin(_) => "10",
            Response::Renew(_) => "30",
            Response::RenewAll(_) => "66",
            Response::ItemInformation(_) => "18",
            Response::ItemStatusUpdate(_) => "20",
            Response::Hold(_) => "16",
            Response::FeePaid(_) => "38",
            Response::EndSession(_) => "36",
            Response::RequestScResend => "96",
        }
    }

    pub(crate) fn read(command: [u8; 2], body: &str) -> Result<Option<Response>, SipError> {
        let mut r = Reader::new(body);
        let response = match &command {
            b"94" => Response::Login(LoginResponse { ok: r.zero_one("ok")? }),
            b"98" => {
                let online_status = r.yes_no("on-line status")?;
                let checkin_ok = r.yes_no("checkin ok")?;
                let checkout_ok = r.yes_no("checkout ok")?;
                let acs_renewal_policy = r.yes_no("ACS renewal policy")?;
                let status_update_ok = r.yes_no("status update ok")?;
                let offline_ok = r.yes_no("off-line ok")?;
                let timeout_period = r.number(3, "timeout period")?;
                let retries_allowed = r.number(3, "retries allowed")?;
                let date_time_sync = r.date("date / time sync")?;
                let protocol_version = r.protocol_version()?;
                let mut f = r.fields()?;
                let supported = f.required(BX_SUPPORTED_MESSAGES);
                Response::AcsStatus(AcsStatus {
                    online_status,
                    checkin_ok,
                    checkout_ok,
                    acs_renewal_policy,
                    status_update_ok,
                    offline_ok,
                    timeout_period,
                    retries_allowed,
                    date_time_sync,
                    protocol_version,
                    institution_id: f.required(AO_INSTITUTION_ID),
                    library_name: f.optional(AM_LIBRARY_NAME),
                    supported_messages: read_supported(&supported)
                        .ok_or(SipError::BadFieldValue { id: BX_SUPPORTED_MESSAGES, value: supported })?,
                    terminal_location: f.optional(AN_TERMINAL_LOCATION),
                    screen_message: f.all(AF_SCREEN_MESSAGE),
                    print_line: f.all(AG_PRINT_LINE),
                    extra: f.rest(),
                })
            }
            b"24" => {
                let patron_status = PatronStatus::from_flags(r.flags("patron status")?);
                let language = r.language()?;
                let transaction_date = r.date("transaction date")?;
                let mut f = r.fields()?;
                Response::PatronStatus(PatronStatusResponse {
                    patron_status,
                    language,
                    transaction_date,
                    institution_id: f.required(AO_INSTITUTION_ID),
                    patron_identifier: f.required(AA_PATRON_IDENTIFIER),
                    personal_name: f.required(AE_PERSONAL_NAME),
                    valid_patron: f.yes_no(BL_VALID_PATRON)?,
                    valid_patron_password: f.yes_no(CQ_VALID_PATRON_PASSWORD)?,
                    currency_type: f.currency(BH_CURRENCY_TYPE)?,
                    fee_amount: f.optional(BV_FEE_AMOUNT),
                    screen_message: f.all(AF_SCREEN_MESSAGE),
                    print_line: f.all(AG_PRINT_LINE),
                    extra: f.rest(),
                })
            }
            b"64" => {
                let patron_status = PatronStatus::from_flags(r.flags("patron status")?);
                let language = r.language()?;
                let transaction_date = r.date("transaction date")?;
                let hold_items_count = r.optional_number(4, "hold items count")?;
                let overdue_items_count = r.optional_number(4, "overdue items count")?;
                let charged_items_count = r.optional_number(4, "charged items count")?;
                let fine_items_count = r.optional_number(4, "fine items count")?;
                let recall_items_count = r.optional_number(4, "recall items count")?;
                let unavailable_holds_count = r.optional_number(4, "unavailable holds count")?;
                let mut f = r.fields()?;
                Response::PatronInformation(PatronInformationResponse {
                    patron_status,
                    language,
                    transaction_date,
                    hold_items_count,
                    overdue_items_count,
                    charged_items_count,
                    fine_items_count,
                    recall_items_count,
                    unavailable_holds_count,
                    institution_id: f.required(AO_INSTITUTION_ID),
                    patron_identifier: f.required(AA_PATRON_IDENTIFIER),
                    personal_name: f.required(AE_PERSONAL_NAME),
                    hold_items_limit: limit(f.number(BZ_HOLD_ITEMS_LIMIT)?),
                    overdue_items_limit: limit(f.number(CA_OVERDUE_ITEMS_LIMIT)?),
                    charged_items_limit: limit(f.number(CB_CHARGED_ITEMS_LIMIT)?),
                    valid_patron: f.yes_no(BL_VALID_PATRON)?,
                    valid_patron_password: f.yes_no(CQ_VALID_PATRON_PASSWORD)?,
                    currency_type: f.currency(BH_CURRENCY_TYPE)?,
                    fee_amount: f.optional(BV_FEE_AMOUNT),
                    fee_limit: f.optional(CC_FEE_LIMIT),
                    hold_items: f.all(AS_HOLD_ITEMS),
                    overdue_items: f.all(AT_OVERDUE_ITEMS),
                    charged_items: f.all(AU_CHARGED_ITEMS),
                    fine_items: f.all(AV_FINE_ITEMS),
                    recall_items: f.all(BU_RECALL_ITEMS),
                    unavailable_hold_items: f.all(CD_UNAVAILABLE_HOLD_ITEMS),
                    home_address: f.optional(BD_HOME_ADDRESS),
                    email_address: f.optional(BE_EMAIL_ADDRESS),
                    home_phone_number: f.optional(BF_HOME_PHONE_NUMBER),
                    screen_message: f.all(AF_SCREEN_MESSAGE),
                    print_line: f.all(AG_PRINT_LINE),
                    extra: f.rest(),
                })
            }
            b"12" | b"30" => {
                let ok = r.zero_one("ok")?;
                let renewal_ok = r.yes_no("renewal ok")?;
                let magnetic_media = r.yes_no_unknown("magnetic media")?;
                let desensitize = r.yes_no_unknown("desensitize")?;
                let transaction_date = r.date("transaction date")?;
                let mut f = r.fields()?;
                let m = CheckoutResponse {
                    ok,
                    renewal_ok,
                    magnetic_media,
                    desensitize,
                    transaction_date,
                    institution_id: f.required(AO_INSTITUTION_ID),
                    patron_identifier: f.required(AA_PATRON_IDENTIFIER),
                    item_identifier: f.required(AB_ITEM_IDENTIFIER),
                    title_identifier: f.required(AJ_TITLE_IDENTIFIER),
                    due_date: f.required(AH_DUE_DATE),
                    fee_type: f.code(BT_FEE_TYPE, FeeType::from_code)?,
                    security_inhibit: f.yes_no(CI_SECURITY_INHIBIT)?,
                    currency_type: f.currency(BH_CURRENCY_TYPE)?,
                    fee_amount: f.optional(BV_FEE_AMOUNT),
                    media_type: f.code(CK_MEDIA_TYPE, MediaType::from_code)?,
                    item_properties: f.optional(CH_ITEM_PROPERTIES),
                    transaction_id: f.optional(BK_TRANSACTION_ID),
                    screen_message: f.all(AF_SCREEN_MESSAGE),
                    print_line: f.all(AG_PRINT_LINE),
                    extra: f.rest(),
                };
                if &command == b"12" {
                    Response::Checkout(m)
                } else {
                    Response::Renew(m)
                }
            }
            b"10" => {
                let ok = r.zero_one("ok")?;
                let resensitize = r.yes_no("resensitize")?;
                let magnetic_media = r.yes_no_unknown("magnetic media")?;
                let alert = r.yes_no("alert")?;
                let transaction_date = r.date("transaction date")?;
                let mut f = r.fields()?;
                Response::Checkin(CheckinResponse {
                    ok,
                    resensitize,
                    magnetic_media,
                    alert,
                    transaction_date,
                    institution_id: f.required(AO_INSTITUTION_ID),
                    item_identifier: f.required(AB_ITEM_IDENTIFIER),
                    permanent_location: f.required(AQ_PERMANENT_LOCATION),
                    title_identifier: f.optional(AJ_TITLE_IDENTIFIER),
                    sort_bin: f.optional(CL_SORT_BIN),
                    patron_identifier: f.optional(AA_PATRON_IDENTIFIER),
                    media_type: f.code(CK_MEDIA_TYPE, MediaType::from_code)?,
                    item_properties: f.optional(CH_ITEM_PROPERTIES),
                    destination_location: f.optional(CT_DESTINATION_LOCATION),
                    alert_type: f.code(CV_ALERT_TYPE, AlertType::from_code)?,
                    hold_patron_id: f.optional(CY_HOLD_PATRON_ID),
                    hold_patron_name: f.optional(DA_HOLD_PATRON_NAME),
                    screen_message: f.all(AF_SCREEN_MESSAGE),
                    print_line: f.all(AG_PRINT_LINE),
                    extra: f.rest(),
                })
            }
            b"66" => {
                let ok = r.zero_one("ok")?;
                let renewed_count = r.number(4, "renewed count")?;
                let unrenewed_count = r.number(4, "unrenewed count")?;
                let transaction_date = r.date("transaction date")?;
                let mut f = r.fields()?;
                Response::RenewAll(RenewAllResponse {
                    ok,
                    renewed_count,
                    unrenewed_count,
                    transaction_date,
                    institution_id: f.required(AO_INSTITUTION_ID),
                    renewed_items: f.all(BM_RENEWED_ITEMS),
                    unrenewed_items: f.all(BN_UNRENEWED_ITEMS),
                    screen_message: f.all(AF_SCREEN_MESSAGE),
                    print_line: f.all(AG_PRINT_LINE),
                    extra: f.rest(),
                })
            }
            b"18" => {
                let circulation_status = r.code(2, "circulation status", CirculationStatus::from_code)?;
                let security_marker = r.code(2, "security marker", SecurityMarker::from_code)?;
                let fee_type = r.code(2, "fee type", FeeType::from_code)?;
                let transaction_date = r.date("transaction date")?;
                let mut f = r.fields()?;
                Response::ItemInformation(ItemInformationResponse {
                    circulation_status,
                    security_marker,
                    fee_type,
                    transaction_date,
                    hold_queue_length: f.number(CF_HOLD_QUEUE_LENGTH)?,
                    due_date: f.optional(AH_DUE_DATE),
                    recall_date: f.date(CJ_RECALL_DATE)?,
                    hold_pickup_date: f.date(CM_HOLD_PICKUP_DATE)?,
                    item_identifier: f.required(AB_ITEM_IDENTIFIER),
                    title_identifier: f.required(AJ_TITLE_IDENTIFIER),
                    owner: f.optional(BG_OWNER),
                    currency_type: f.currency(BH_CURRENCY_TYPE)?,
                    fee_amount: f.optional(BV_FEE_AMOUNT),
                    media_type: f.code(CK_MEDIA_TYPE, MediaType::from_code)?,
                    permanent_location: f.optional(AQ_PERMANENT_LOCATION),
                    current_location: f.optional(AP_CURRENT_LOCATION),
                    item_properties: f.optional(CH_ITEM_PROPERTIES),
                    screen_message: f.all(AF_SCREEN_MESSAGE),
                    print_line: f.all(AG_PRINT_LINE),
                    extra: f.rest(),
                })
            }
            b"20" => {
                let item_properties_ok = r.zero_one("item properties ok")?;
                let transaction_date = r.date("transaction date")?;
                let mut f = r.fields()?;
                Response::ItemStatusUpdate(ItemStatusUpdateResponse {
                    item_properties_ok,
                    transaction_date,
                    item_identifier: f.required(AB_ITEM_IDENTIFIER),
                    title_identifier: f.optional(AJ_TITLE_IDENTIFIER),
                    item_properties: f.optional(CH_ITEM_PROPERTIES),
                    screen_message: f.all(AF_SCREEN_MESSAGE),
                    print_line: f.all(AG_PRINT_LINE),
                    extra: f.rest(),
                })
            }
            b"16" => {
                let ok = r.zero_one("ok")?;
                let available = r.yes_no("available")?;
                let transaction_date = r.date("transaction date")?;
                let mut f = r.fields()?;
                Response::Hold(HoldResponse {
                    ok,
                    available,
                    transaction_date,
                    expiration_date: f.date(BW_EXPIRATION_DATE)?,
                    queue_position: f.number(BR_QUEUE_POSITION)?,
                    pickup_location: f.optional(BS_PICKUP_LOCATION),
                    institution_id: f.required(AO_INSTITUTION_ID),
                    patron_identifier: f.required(AA_PATRON_IDENTIFIER),
                    item_identifier: f.optional(AB_ITEM_IDENTIFIER),
                    title_identifier: f.optional(AJ_TITLE_IDENTIFIER),
                    screen_message: f.all(AF_SCREEN_MESSAGE),
                    print_line: f.all(AG_PRINT_LINE),
                    extra: f.rest(),
                })
            }
            b"38" => {
                let payment_accepted = r.yes_no("payment accepted")?;
                let transaction_date = r.date("transaction date")?;
                let mut f = r.fields()?;
                Response::FeePaid(FeePaidResponse {
                    payment_accepted,
                    transaction_date,
                    institution_id: f.required(AO_INSTITUTION_ID),
                    patron_identifier: f.required(AA_PATRON_IDENTIFIER),
                    transaction_id: f.optional(BK_TRANSACTION_ID),
                    screen_message: f.all(AF_SCREEN_MESSAGE),
                    print_line: f.all(AG_PRINT_LINE),
                    extra: f.rest(),
                })
            }
            b"36" => {
                let end_session = r.yes_no("end session")?;
                let transaction_date = r.date("transaction date")?;
                let mut f = r.fields()?;
                Response::EndSession(EndSessionResponse {
                    end_session,
                    transaction_date,
                    institution_id: f.required(AO_INSTITUTION_ID),
                    patron_identifier: f.required(AA_PATRON_IDENTIFIER),
                    screen_message: f.all(AF_SCREEN_MESSAGE),
                    print_line: f.all(AG_PRINT_LINE),
                    extra: f.rest(),
                })
            }
            b"96" => Response::RequestScResend,
            _ => return Ok(None),
        };
        Ok(Some(response))
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        match self {
            Response::Login(m) => {
                w.zero_one(m.ok);
            }
            Response::AcsStatus(m) => {
                w.yes_no(m.online_status)
                    .yes_no(m.checkin_ok)
                    .yes_no(m.checkout_ok)
                    .yes_no(m.acs_renewal_policy)
                    .yes_no(m.status_update_ok)
                    .yes_no(m.offline_ok)
                    .number(m.timeout_period, 3)
                    .number(m.retries_allowed, 3)
                    .fixed(m.date_time_sync)
                    .fixed(m.protocol_version)
                    .field(AO_INSTITUTION_ID, &m.institution_id)
                    .optional(AM_LIBRARY_NAME, m.library_name.as_deref())
                    .field(BX_SUPPORTED_MESSAGES, &m.supported_messages.to_wire())
                    .optional(AN_TERMINAL_LOCATION, m.terminal_location.as_deref());
                tail(w, &m.screen_message, &m.print_line, &m.extra);
            }
            Response::PatronStatus(m) => {
                w.fixed(m.patron_status.to_wire())
                    .fixed(m.language)
                    .fixed(m.transaction_date)
                    .field(AO_INSTITUTION_ID, &m.institution_id)
                    .field(AA_PATRON_IDENTIFIER, &m.patron_identifier)
                    .field(AE_PERSONAL_NAME, &m.personal_name)
                    .optional_yes_no(BL_VALID_PATRON, m.valid_patron)
                    .optional_yes_no(CQ_VALID_PATRON_PASSWORD, m.valid_patron_password)
                    .optional_display(BH_CURRENCY_TYPE, m.currency_type)
                    .optional(BV_FEE_AMOUNT, m.fee_amount.as_deref());
                tail(w, &m.screen_message, &m.print_line, &m.extra);
            }
            Response::PatronInformation(m) => {
                w.fixed(m.patron_status.to_wire())
                    .fixed(m.language)
                    .fixed(m.transaction_date)
                    .optional_number(m.hold_items_count, 4)
                    .optional_number(m.overdue_items_count, 4)
                    .optional_number(m.charged_items_count, 4)
                    .optional_number(m.fine_items_count, 4)
                    .optional_number(m.recall_items_count, 4)
                    .optional_number(m.unavailable_holds_count, 4)
                    .field(AO_INSTITUTION_ID, &m.institution_id)
                    .field(AA_PATRON_IDENTIFIER, &m.patron_identifier)
                    .field(AE_PERSONAL_NAME, &m.personal_name)
                    .optional_display(BZ_HOLD_ITEMS_LIMIT, m.hold_items_limit.map(four_digits))
                    .optional_display(CA_OVERDUE_ITEMS_LIMIT, m.overdue_items_limit.map(four_digits))
                    .optional_display(CB_CHARGED_ITEMS_LIMIT, m.charged_items_limit.map(four_digits))
                    .optional_yes_no(BL_VALID_PATRON, m.valid_patron)
                    .optional_yes_no(CQ_VALID_PATRON_PASSWORD, m.valid_patron_password)
                    .optional_display(BH_CURRENCY_TYPE, m.currency_type)
                    .optional(BV_FEE_AMOUNT, m.fee_amount.as_deref())
                    .optional(CC_FEE_LIMIT, m.fee_limit.as_deref())
                    .all(AS_HOLD_ITEMS, &m.hold_items)
                    .all(AT_OVERDUE_ITEMS, &m.overdue_items)
                    .all(AU_CHARGED_ITEMS, &m.charged_items)
                    .all(AV_FINE_ITEMS, &m.fine_items)
                    .all(BU_RECALL_ITEMS, &m.recall_items)
                    .all(CD_UNAVAILABLE_HOLD_ITEMS, &m.unavailable_hold_items)
                    .optional(BD_HOME_ADDRESS, m.home_address.as_deref())
                    .optional(BE_EMAIL_ADDRESS, m.email_address.as_deref())
                    .optional(BF_HOME_PHONE_NUMBER, m.home_phone_number.as_deref());
                tail(w, &m.screen_message, &m.print_line, &m.extra);
            }
            Response::Checkout(m) | Response::Renew(m) => {
                w.zero_one(m.ok)
                    .yes_no(m.renewal_ok)
                    .fixed(m.magnetic_media.as_char())
                    .fixed(m.desensitize.as_char())
                    .fixed(m.transaction_date)
                    .field(AO_INSTITUTION_ID, &m.institution_id)
                    .field(AA_PATRON_IDENTIFIER, &m.patron_identifier)
                    .field(AB_ITEM_IDENTIFIER, &m.item_identifier)
                    .field(AJ_TITLE_IDENTIFIER, &m.title_identifier)
                    .field(AH_DUE_DATE, &m.due_date)
                    .optional_display(BT_FEE_TYPE, m.fee_type)
                    .optional_yes_no(CI_SECURITY_INHIBIT, m.security_inhibit)
                    .optional_display(BH_CURRENCY_TYPE, m.currency_type)
                    .optional(BV_FEE_AMOUNT, m.fee_amount.as_deref())
                    .optional_display(CK_MEDIA_TYPE, m.media_type)
                    .optional(CH_ITEM_PROPERTIES, m.item_properties.as_deref())
                    .optional(BK_TRANSACTION_ID, m.transaction_id.as_deref());
                tail(w, &m.screen_message, &m.print_line, &m.extra);
            }
            Response::Checkin(m) => {
                w.zero_one(m.ok)
                    .yes_no(m.resensitize)
                    .fixed(m.magnetic_media.as_char())
                    .yes_no(m.alert)
                    .fixed(m.transaction_date)
                    .field(AO_INSTITUTION_ID, &m.institution_id)
                    .field(AB_ITEM_IDENTIFIER, &m.item_identifier)
                    .field(AQ_PERMANENT_LOCATION, &m.permanent_location)
                    .optional(AJ_TITLE_IDENTIFIER, m.title_identifier.as_deref())
                    .optional(CL_SORT_BIN, m.sort_bin.as_deref())
                    .optional(AA_PATRON_IDENTIFIER, m.patron_identifier.as_deref())
                    .optional_display(CK_MEDIA_TYPE, m.media_type)
                    .optional(CH_ITEM_PROPERTIES, m.item_properties.as_deref())
                    .optional(CT_DESTINATION_LOCATION, m.destination_location.as_deref())
                    .optional_display(CV_ALERT_TYPE, m.alert_type)
                    .optional(CY_HOLD_PATRON_ID, m.hold_patron_id.as_deref())
                    .optional(DA_HOLD_PATRON_NAME, m.hold_patron_name.as_deref());
                tail(w, &m.screen_message, &m.print_line, &m.extra);
            }
            Response::RenewAll(m) => {
                w.zero_one(m.ok)
                    .number(m.renewed_count, 4)
                    .number(m.unrenewed_count, 4)
                    .fixed(m.transaction_date)
                    .field(AO_INSTITUTION_ID, &m.institution_id)
                    .all(BM_RENEWED_ITEMS, &m.renewed_items)
                    .all(BN_UNRENEWED_ITEMS, &m.unrenewed_items);
                tail(w, &m.screen_message, &m.print_line, &m.extra);
            }
            Response::ItemInformation(m) => {
                w.fixed(m.circulation_status)
                    .fixed(m.security_marker)
                    .fixed(m.fee_type)
                    .fixed(m.transaction_date)
                    .optional_display(CF_HOLD_QUEUE_LENGTH, m.hold_queue_length)
                    .optional(AH_DUE_DATE, m.due_date.as_deref())
                    .optional_display(CJ_RECALL_DATE, m.recall_date)
                    .optional_display(CM_HOLD_PICKUP_DATE, m.hold_pickup_date)
                    .field(AB_ITEM_IDENTIFIER, &m.item_identifier)
                    .field(AJ_TITLE_IDENTIFIER, &m.title_identifier)
                    .optional(BG_OWNER, m.owner.as_deref())
                    .optional_display(BH_CURRENCY_TYPE, m.currency_type)
                    .optional(BV_FEE_AMOUNT, m.fee_amount.as_deref())
                    .optional_display(CK_MEDIA_TYPE, m.media_type)
                    .optional(AQ_PERMANENT_LOCATION, m.permanent_location.as_deref())
                    .optional(AP_CURRENT_LOCATION, m.current_location.as_deref())
                    .optional(CH_ITEM_PROPERTIES, m.item_properties.as_deref());
                tail(w, &m.screen_message, &m.print_line, &m.extra);
            }
            Response::ItemStatusUpdate(m) => {
                w.zero_one(m.item_properties_ok)
                    .fixed(m.transaction_date)
                    .field(AB_ITEM_IDENTIFIER, &m.item_identifier)
                    .optional(AJ_TITLE_IDENTIFIER, m.title_identifier.as_deref())
                    .optional(CH_ITEM_PROPERTIES, m.item_properties.as_deref());
                tail(w, &m.screen_message, &m.print_line, &m.extra);
            }
            Response::Hold(m) => {
                w.zero_one(m.ok)
                    .yes_no(m.available)
                    .fixed(m.transaction_date)
                    .optional_display(BW_EXPIRATION_DATE, m.expiration_date)
                    .optional_display(BR_QUEUE_POSITION, m.queue_position)
                    .optional(BS_PICKUP_LOCATION, m.pickup_location.as_deref())
                    .field(AO_INSTITUTION_ID, &m.institution_id)
                    .field(AA_PATRON_IDENTIFIER, &m.patron_identifier)
                    .optional(AB_ITEM_IDENTIFIER, m.item_identifier.as_deref())
                    .optional(AJ_TITLE_IDENTIFIER, m.title_identifier.as_deref());
                tail(w, &m.screen_message, &m.print_line, &m.extra);
            }
            Response::FeePaid(m) => {
                w.yes_no(m.payment_accepted)
                    .fixed(m.transaction_date)
                    .field(AO_INSTITUTION_ID, &m.institution_id)
                    .field(AA_PATRON_IDENTIFIER, &m.patron_identifier)
                    .optional(BK_TRANSACTION_ID, m.transaction_id.as_deref());
                tail(w, &m.screen_message, &m.print_line, &m.extra);
            }
            Response::EndSession(m) => {
                w.yes_no(m.end_session)
                    .fixed(m.transaction_date)
                    .field(AO_INSTITUTION_ID, &m.institution_id)
                    .field(AA_PATRON_IDENTIFIER, &m.patron_identifier);
                tail(w, &m.screen_message, &m.print_line, &m.extra);
            }
            Response::RequestScResend => {}
        }
    }
}

/// Screen messages, print lines and kept fields close every response.
fn tail(w: &mut Writer, screen_message: &[String], print_line: &[String], extra: &[Field]) {
    w.all(AF_SCREEN_MESSAGE, screen_message).all(AG_PRINT_LINE, print_line).extra(extra);
}

/// BZ, CA and CB are four digits (`pysip2` checks the width).
fn four_digits(value: u16) -> String {
    format!("{:04}", value % 10000)
}

/// A limit above what four digits hold is not a limit the spec can express; keep the digits.
fn limit(value: Option<u32>) -> Option<u16> {
    value.map(|v| (v % 10000) as u16)
}

fn read_supported(text: &str) -> Option<SupportedMessages> {
    let mut flags = [false; SupportedMessages::WIDTH];
    let bytes = text.as_bytes();
    // Fewer than sixteen positions: the rest are "no" (older ACSs predate the last messages).
    if bytes.len() > SupportedMessages::WIDTH {
        return None;
    }
    for (flag, b) in flags.iter_mut().zip(bytes) {
        *flag = match b {
            b'Y' | b'y' => true,
            b'N' | b'n' | b' ' => false,
            _ => return None,
        };
    }
    Some(SupportedMessages::from_flags(flags))
}
