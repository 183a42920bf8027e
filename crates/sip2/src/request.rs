//! What a self-check unit or sorter sends (the SC side of the spec), one struct per message.
//!
//! Fields the spec requires are `String` (empty when a kiosk leaves them out); optional ones are
//! `Option`. Variable-length fields are written in the spec's order and read in any order.

use crate::codes::{
    Currency, FeeType, HoldMode, HoldType, Language, PaymentType, ProtocolVersion, StatusCode, Summary,
};
use crate::fields::ids::*;
use crate::wire::{Reader, Writer};
use crate::{Field, SipDate, SipError};

/// 93: log the SC in to the ACS with its account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// `0` for unencrypted; the spec leaves other algorithms to the vendors.
    pub uid_algorithm: char,
    pub pwd_algorithm: char,
    /// CN.
    pub login_user_id: String,
    /// CO.
    pub login_password: String,
    /// CP.
    pub location_code: Option<String>,
    pub extra: Vec<Field>,
}

/// 99: the SC's status; the ACS answers with its own (98).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScStatus {
    pub status_code: StatusCode,
    /// Characters per printed line; `None` for three blanks, as Edmonton Public Library's
    /// SIPCHK client sends (`990   2.00`).
    pub max_print_width: Option<u16>,
    pub protocol_version: ProtocolVersion,
}

/// 23: a patron's status (answered with 24).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PatronStatusRequest {
    pub language: Language,
    /// `None` for blanks (see [`crate`]'s tolerances).
    pub transaction_date: Option<SipDate>,
    pub institution_id: String,
    pub patron_identifier: String,
    pub terminal_password: String,
    pub patron_password: String,
    pub extra: Vec<Field>,
}

/// 63: a patron's details and one list of items (answered with 64).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PatronInformationRequest {
    pub language: Language,
    pub transaction_date: Option<SipDate>,
    pub summary: Summary,
    pub institution_id: String,
    pub patron_identifier: String,
    pub terminal_password: Option<String>,
    pub patron_password: Option<String>,
    /// BP, 1-based: the first item of the list to send.
    pub start_item: Option<u32>,
    /// BQ, 1-based, inclusive.
    pub end_item: Option<u32>,
    pub extra: Vec<Field>,
}

/// 11: check out an item (answered with 12).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Checkout {
    /// Whether the SC may renew an item the patron already has.
    pub sc_renewal_policy: bool,
    /// The SC did this offline and the ACS may not refuse it.
    pub no_block: bool,
    pub transaction_date: Option<SipDate>,
    /// The due date the SC gave while offline; `None` for blanks, which the PyPI `sip2` client
    /// sends whenever it has none.
    pub nb_due_date: Option<SipDate>,
    pub institution_id: String,
    pub patron_identifier: String,
    pub item_identifier: String,
    pub terminal_password: String,
    pub item_properties: Option<String>,
    pub patron_password: Option<String>,
    pub fee_acknowledged: Option<bool>,
    pub cancel: Option<bool>,
    pub extra: Vec<Field>,
}

/// 09: check in an item (answered with 10).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Checkin {
    pub no_block: bool,
    pub transaction_date: Option<SipDate>,
    pub return_date: Option<SipDate>,
    /// AP: where the SC is (the sorter's or kiosk's location).
    pub current_location: String,
    pub institution_id: String,
    pub item_identifier: String,
    pub terminal_password: String,
    pub item_properties: Option<String>,
    pub cancel: Option<bool>,
    pub extra: Vec<Field>,
}

/// 29: renew an item (answered with 30).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Renew {
    pub third_party_allowed: bool,
    pub no_block: bool,
    pub transaction_date: Option<SipDate>,
    /// `None` for blanks (the PyPI `sip2` client's default).
    pub nb_due_date: Option<SipDate>,
    pub institution_id: String,
    pub patron_identifier: String,
    pub patron_password: Option<String>,
    pub item_identifier: Option<String>,
    pub title_identifier: Option<String>,
    pub terminal_password: Option<String>,
    pub item_properties: Option<String>,
    pub fee_acknowledged: Option<bool>,
    pub extra: Vec<Field>,
}

/// 65: renew everything the patron has (answered with 66).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RenewAll {
    /// `None` when left out, as the PyPI `sip2` client does (its 65 starts with `AO` at once).
    pub transaction_date: Option<SipDate>,
    pub institution_id: String,
    pub patron_identifier: String,
    pub patron_password: Option<String>,
    pub terminal_password: Option<String>,
    pub fee_acknowledged: Option<bool>,
    pub extra: Vec<Field>,
}

/// 17: an item's details (answered with 18).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ItemInformation {
    pub transaction_date: Option<SipDate>,
    pub institution_id: String,
    pub item_identifier: String,
    pub terminal_password: Option<String>,
    pub extra: Vec<Field>,
}

/// 19: set an item's properties (answered with 20).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ItemStatusUpdate {
    pub transaction_date: Option<SipDate>,
    pub institution_id: String,
    pub item_identifier: String,
    pub terminal_password: Option<String>,
    pub item_properties: String,
    pub extra: Vec<Field>,
}

/// 15: place, change or cancel a hold (answered with 16).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub hold_mode: HoldMode,
    pub transaction_date: Option<SipDate>,
    pub expiration_date: Option<SipDate>,
    pub pickup_location: Option<String>,
    pub hold_type: Option<HoldType>,
    pub institution_id: String,
    pub patron_identifier: String,
    pub patron_password: Option<String>,
    pub item_identifier: Option<String>,
    pub title_identifier: Option<String>,
    pub terminal_password: Option<String>,
    pub fee_acknowledged: Option<bool>,
    pub extra: Vec<Field>,
}

/// 37: the SC took a payment (answered with 38).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeePaid {
    pub transaction_date: Option<SipDate>,
    pub fee_type: FeeType,
    pub payment_type: PaymentType,
    pub currency_type: Currency,
    /// BV, as the kiosk wrote it (`"12.50"`); reading money is the server's business.
    pub fee_amount: String,
    pub institution_id: String,
    pub patron_identifier: String,
    pub terminal_password: Option<String>,
    pub patron_password: Option<String>,
    pub fee_identifier: Option<String>,
    pub transaction_id: Option<String>,
    pub extra: Vec<Field>,
}

/// 35: the patron is done (answered with 36).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EndPatronSession {
    pub transaction_date: Option<SipDate>,
    pub institution_id: String,
    pub patron_identifier: String,
    pub terminal_password: Option<String>,
    pub patron_password: Option<String>,
    pub extra: Vec<Field>,
}

/// 01: block the patron's card (answered with 24).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlockPatron {
    pub card_retained: bool,
    pub transaction_date: Option<SipDate>,
    pub institution_id: String,
    /// AL.
    pub blocked_card_msg: String,
    pub patron_identifier: String,
    pub terminal_password: String,
    pub extra: Vec<Field>,
}

/// A message from the SC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Login(Login),
    ScStatus(ScStatus),
    PatronStatus(PatronStatusRequest),
    PatronInformation(PatronInformationRequest),
    Checkout(Checkout),
    Checkin(Checkin),
    Renew(Renew),
    RenewAll(RenewAll),
    ItemInformation(ItemInformation),
    ItemStatusUpdate(ItemStatusUpdate),
    Hold(Hold),
    FeePaid(FeePaid),
    EndPatronSession(EndPatronSession),
    BlockPatron(BlockPatron),
    /// 97: send the last response again.
    RequestAcsResend,
}

impl Request {
    /// The two-character command code.
    pub fn command(&self) -> &'static str {
        match self {
            Request::Login(_) => "93",
            Request::ScStatus(_) => "99",
            Request::PatronStatus(_) => "23",
            Request::PatronInformation(_) => "63",
            Request::Checkout(_) => "11",
            Request::Checkin(_) => "09",
            Request::Renew(_) => "29",
            Request::RenewAll(_) => "65",
            Request::ItemInformation(_) => "17",
            Request::ItemStatusUpdate(_) => "19",
            Request::Hold(_) => "15",
            Request::FeePaid(_) => "37",
            Request::EndPatronSession(_) => "35",
            Request::BlockPatron(_) => "01",
            Request::RequestAcsResend => "97",
        }
    }

    pub(crate) fn read(command: [u8; 2], body: &str) -> Result<Option<Request>, SipError> {
        let mut r = Reader::new(body);
        let request = match &command {
            b"93" => {
                let uid_algorithm = r.char("UID algorithm")?;
                let pwd_algorithm = r.char("PWD algorithm")?;
                let mut f = r.fields()?;
                Request::Login(Login {
                    uid_algorithm,
                    pwd_algorithm,
                    login_user_id: f.required(CN_LOGIN_USER_ID),
                    login_password: f.required(CO_LOGIN_PASSWORD),
                    location_code: f.optional(CP_LOCATION_CODE),
                    extra: f.rest(),
                })
            }
            b"99" => Request::ScStatus(ScStatus {
                status_code: r.code(1, "status code", StatusCode::from_code)?,
                max_print_width: r.optional_number(3, "max print width")?,
                protocol_version: r.protocol_version()?,
            }),
            b"23" => {
                let language = r.language()?;
                let transaction_date = r.optional_date("transaction date")?;
                let mut f = r.fields()?;
                Request::PatronStatus(PatronStatusRequest {
                    language,
                    transaction_date,
                    institution_id: f.required(AO_INSTITUTION_ID),
                    patron_identifier: f.required(AA_PATRON_IDENTIFIER),
                    terminal_password: f.required(AC_TERMINAL_PASSWORD),
                    patron_password: f.required(AD_PATRON_PASSWORD),
                    extra: f.rest(),
                })
            }
            b"63" => {
                let language = r.language()?;
                let transaction_date = r.optional_date("transaction date")?;
                let summary = read_summary(r.flags::<{ Summary::WIDTH }>("summary")?);
                let mut f = r.fields()?;
                Request::PatronInformation(PatronInformationRequest {
                    language,
                    transaction_date,
                    summary,
                    institution_id: f.required(AO_INSTITUTION_ID),
                    patron_identifier: f.required(AA_PATRON_IDENTIFIER),
                    terminal_password: f.optional(AC_TERMINAL_PASSWORD),
                    patron_password: f.optional(AD_PATRON_PASSWORD),
                    start_item: f.number(BP_START_ITEM)?,
                    end_item: f.number(BQ_END_ITEM)?,
                    extra: f.rest(),
                })
            }
            b"11" => {
                let sc_renewal_policy = r.yes_no("SC renewal policy")?;
                let no_block = r.yes_no("no block")?;
                let transaction_date = r.optional_date("transaction date")?;
                let nb_due_date = r.optional_date("nb due date")?;
                let mut f = r.fields()?;
                Request::Checkout(Checkout {
                    sc_renewal_policy,
                    no_block,
                    transaction_date,
                    nb_due_date,
                    institution_id: f.required(AO_INSTITUTION_ID),
                    patron_identifier: f.required(AA_PATRON_IDENTIFIER),
                    item_identifier: f.required(AB_ITEM_IDENTIFIER),
                    terminal_password: f.required(AC_TERMINAL_PASSWORD),
                    item_properties: f.optional(CH_ITEM_PROPERTIES),
                    patron_password: f.optional(AD_PATRON_PASSWORD),
                    fee_acknowledged: f.yes_no(BO_FEE_ACKNOWLEDGED)?,
                    cancel: f.yes_no(BI_CANCEL)?,
                    extra: f.rest(),
                })
            }
            b"09" => {
                let no_block = r.yes_no("no block")?;
                let transaction_date = r.optional_date("transaction date")?;
                let return_date = r.optional_date("return date")?;
                let mut f = r.fields()?;
                Request::Checkin(Checkin {
                    no_block,
                    transaction_date,
                    return_date,
                    current_location: f.required(AP_CURRENT_LOCATION),
                    institution_id: f.required(AO_INSTITUTION_ID),
                    item_identifier: f.required(AB_ITEM_IDENTIFIER),
                    terminal_password: f.required(AC_TERMINAL_PASSWORD),
                    item_properties: f.optional(CH_ITEM_PROPERTIES),
                    cancel: f.yes_no(BI_CANCEL)?,
                    extra: f.rest(),
                })
            }
            b"29" => {
                let third_party_allowed = r.yes_no("third party allowed")?;
                let no_block = r.yes_no("no block")?;
                let transaction_date = r.optional_date("transaction date")?;
                let nb_due_date = r.optional_date("nb due date")?;
                let mut f = r.fields()?;
                Request::Renew(Renew {
                    third_party_allowed,
                    no_block,
                    transaction_date,
                    nb_due_date,
                    institution_id: f.required(AO_INSTITUTION_ID),
                    patron_identifier: f.required(AA_PATRON_IDENTIFIER),
                    patron_password: f.optional(AD_PATRON_PASSWORD),
                    item_identifier: f.optional(AB_ITEM_IDENTIFIER),
                    title_identifier: f.optional(AJ_TITLE_IDENTIFIER),
                    terminal_password: f.optional(AC_TERMINAL_PASSWORD),
                    item_properties: f.optional(CH_ITEM_PROPERTIES),
                    fee_acknowledged: f.yes_no(BO_FEE_ACKNOWLEDGED)?,
                    extra: f.rest(),
                })
            }
            b"65" => {
                let transaction_date = r.date_if_present("transaction date")?;
                let mut f = r.fields()?;
                Request::RenewAll(RenewAll {
                    transaction_date,
                    institution_id: f.required(AO_INSTITUTION_ID),
                    patron_identifier: f.required(AA_PATRON_IDENTIFIER),
                    patron_password: f.optional(AD_PATRON_PASSWORD),
                    terminal_password: f.optional(AC_TERMINAL_PASSWORD),
                    fee_acknowledged: f.yes_no(BO_FEE_ACKNOWLEDGED)?,
                    extra: f.rest(),
                })
            }
            b"17" => {
                let transaction_date = r.optional_date("transaction date")?;
                let mut f = r.fields()?;
                Request::ItemInformation(ItemInformation {
                    transaction_date,
                    institution_id: f.required(AO_INSTITUTION_ID),
                    item_identifier: f.required(AB_ITEM_IDENTIFIER),
                    terminal_password: f.optional(AC_TERMINAL_PASSWORD),
                    extra: f.rest(),
                })
            }
            b"19" => {
                let transaction_date = r.optional_date("transaction date")?;
                let mut f = r.fields()?;
                Request::ItemStatusUpdate(ItemStatusUpdate {
                    transaction_date,
                    institution_id: f.required(AO_INSTITUTION_ID),
                    item_identifier: f.required(AB_ITEM_IDENTIFIER),
                    terminal_password: f.optional(AC_TERMINAL_PASSWORD),
                    item_properties: f.required(CH_ITEM_PROPERTIES),
                    extra: f.rest(),
                })
            }
            b"15" => {
                let mode = r.char("hold mode")?;
                let hold_mode = HoldMode::from_char(mode as u8).ok_or(SipError::BadFixedField {
                    field: "hold mode",
                    position: 2,
                    value: mode.to_string(),
                })?;
                let transaction_date = r.optional_date("transaction date")?;
                let mut f = r.fields()?;
                Request::Hold(Hold {
                    hold_mode,
                    transaction_date,
                    expiration_date: f.date(BW_EXPIRATION_DATE)?,
                    pickup_location: f.optional(BS_PICKUP_LOCATION),
                    hold_type: f.code(BY_HOLD_TYPE, HoldType::from_code)?,
                    institution_id: f.required(AO_INSTITUTION_ID),
                    patron_identifier: f.required(AA_PATRON_IDENTIFIER),
                    patron_password: f.optional(AD_PATRON_PASSWORD),
                    item_identifier: f.optional(AB_ITEM_IDENTIFIER),
                    title_identifier: f.optional(AJ_TITLE_IDENTIFIER),
                    terminal_password: f.optional(AC_TERMINAL_PASSWORD),
                    fee_acknowledged: f.yes_no(BO_FEE_ACKNOWLEDGED)?,
                    extra: f.rest(),
                })
            }
            b"37" => {
                let transaction_date = r.optional_date("transaction date")?;
                let fee_type = r.code(2, "fee type", FeeType::from_code)?;
                let payment_type = r.code(2, "payment type", PaymentType::from_code)?;
                let currency_type = r.currency("currency type")?;
                let mut f = r.fields()?;
                Request::FeePaid(FeePaid {
                    transaction_date,
                    fee_type,
                    payment_type,
                    currency_type,
                    fee_amount: f.required(BV_FEE_AMOUNT),
                    institution_id: f.required(AO_INSTITUTION_ID),
                    patron_identifier: f.required(AA_PATRON_IDENTIFIER),
                    terminal_password: f.optional(AC_TERMINAL_PASSWORD),
                    patron_password: f.optional(AD_PATRON_PASSWORD),
                    fee_identifier: f.optional(CG_FEE_IDENTIFIER),
                    transaction_id: f.optional(BK_TRANSACTION_ID),
                    extra: f.rest(),
                })
            }
            b"35" => {
                let transaction_date = r.optional_date("transaction date")?;
                let mut f = r.fields()?;
                Request::EndPatronSession(EndPatronSession {
                    transaction_date,
                    institution_id: f.required(AO_INSTITUTION_ID),
                    patron_identifier: f.required(AA_PATRON_IDENTIFIER),
                    terminal_password: f.optional(AC_TERMINAL_PASSWORD),
                    patron_password: f.optional(AD_PATRON_PASSWORD),
                    extra: f.rest(),
                })
            }
            b"01" => {
                let card_retained = r.yes_no("card retained")?;
                let transaction_date = r.optional_date("transaction date")?;
                let mut f = r.fields()?;
                Request::BlockPatron(BlockPatron {
                    card_retained,
                    transaction_date,
                    institution_id: f.required(AO_INSTITUTION_ID),
                    blocked_card_msg: f.required(AL_BLOCKED_CARD_MSG),
                    patron_identifier: f.required(AA_PATRON_IDENTIFIER),
                    terminal_password: f.required(AC_TERMINAL_PASSWORD),
                    extra: f.rest(),
                })
            }
            b"97" => Request::RequestAcsResend,
            _ => return Ok(None),
        };
        Ok(Some(request))
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        match self {
            Request::Login(m) => {
                w.fixed(m.uid_algorithm)
                    .fixed(m.pwd_algorithm)
                    .field(CN_LOGIN_USER_ID, &m.login_user_id)
                    .field(CO_LOGIN_PASSWORD, &m.login_password)
                    .optional(CP_LOCATION_CODE, m.location_code.as_deref())
                    .extra(&m.extra);
            }
            Request::ScStatus(m) => {
                w.fixed(m.status_code).optional_number(m.max_print_width, 3).fixed(m.protocol_version);
            }
            Request::PatronStatus(m) => {
                w.fixed(m.language)
                    .optional_date(m.transaction_date.as_ref())
                    .field(AO_INSTITUTION_ID, &m.institution_id)
                    .field(AA_PATRON_IDENTIFIER, &m.patron_identifier)
                    .field(AC_TERMINAL_PASSWORD, &m.terminal_password)
                    .field(AD_PATRON_PASSWORD, &m.patron_password)
                    .extra(&m.extra);
            }
            Request::PatronInformation(m) => {
                w.fixed(m.language)
                    .optional_date(m.transaction_date.as_ref())
                    .fixed(m.summary.to_wire())
                    .field(AO_INSTITUTION_ID, &m.institution_id)
                    .field(AA_PATRON_IDENTIFIER, &m.patron_identifier)
                    .optional(AC_TERMINAL_PASSWORD, m.terminal_password.as_deref())
                    .optional(AD_PATRON_PASSWORD, m.patron_password.as_deref())
                    .optional_display(BP_START_ITEM, m.start_item)
                    .optional_display(BQ_END_ITEM, m.end_item)
                    .extra(&m.extra);
            }
            Request::Checkout(m) => {
                w.yes_no(m.sc_renewal_policy)
                    .yes_no(m.no_block)
                    .optional_date(m.transaction_date.as_ref())
                    .optional_date(m.nb_due_date.as_ref())
                    .field(AO_INSTITUTION_ID, &m.institution_id)
                    .field(AA_PATRON_IDENTIFIER, &m.patron_identifier)
                    .field(AB_ITEM_IDENTIFIER, &m.item_identifier)
                    .field(AC_TERMINAL_PASSWORD, &m.terminal_password)
                    .optional(CH_ITEM_PROPERTIES, m.item_properties.as_deref())
                    .optional(AD_PATRON_PASSWORD, m.patron_password.as_deref())
                    .optional_yes_no(BO_FEE_ACKNOWLEDGED, m.fee_acknowledged)
                    .optional_yes_no(BI_CANCEL, m.cancel)
                    .extra(&m.extra);
            }
            Request::Checkin(m) => {
                w.yes_no(m.no_block)
                    .optional_date(m.transaction_date.as_ref())
                    .optional_date(m.return_date.as_ref())
                    .field(AP_CURRENT_LOCATION, &m.current_location)
                    .field(AO_INSTITUTION_ID, &m.institution_id)
                    .field(AB_ITEM_IDENTIFIER, &m.item_identifier)
                    .field(AC_TERMINAL_PASSWORD, &m.terminal_password)
                    .optional(CH_ITEM_PROPERTIES, m.item_properties.as_deref())
                    .optional_yes_no(BI_CANCEL, m.cancel)
                    .extra(&m.extra);
            }
            Request::Renew(m) => {
                w.yes_no(m.third_party_allowed)
                    .yes_no(m.no_block)
                    .optional_date(m.transaction_date.as_ref())
                    .optional_date(m.nb_due_date.as_ref())
                    .field(AO_INSTITUTION_ID, &m.institution_id)
                    .field(AA_PATRON_IDENTIFIER, &m.patron_identifier)
                    .optional(AD_PATRON_PASSWORD, m.patron_password.as_deref())
                    .optional(AB_ITEM_IDENTIFIER, m.item_identifier.as_deref())
                    .optional(AJ_TITLE_IDENTIFIER, m.title_identifier.as_deref())
                    .optional(AC_TERMINAL_PASSWORD, m.terminal_password.as_deref())
                    .optional(CH_ITEM_PROPERTIES, m.item_properties.as_deref())
                    .optional_yes_no(BO_FEE_ACKNOWLEDGED, m.fee_acknowledged)
                    .extra(&m.extra);
            }
            Request::RenewAll(m) => {
                // A missing date stays missing (not blanks): that is how it arrived.
                if let Some(date) = &m.transaction_date {
                    w.fixed(date);
                }
                w.field(AO_INSTITUTION_ID, &m.institution_id)
                    .field(AA_PATRON_IDENTIFIER, &m.patron_identifier)
                    .optional(AD_PATRON_PASSWORD, m.patron_password.as_deref())
                    .optional(AC_TERMINAL_PASSWORD, m.terminal_password.as_deref())
                    .optional_yes_no(BO_FEE_ACKNOWLEDGED, m.fee_acknowledged)
                    .extra(&m.extra);
            }
            Request::ItemInformation(m) => {
                w.optional_date(m.transaction_date.as_ref())
                    .field(AO_INSTITUTION_ID, &m.institution_id)
                    .field(AB_ITEM_IDENTIFIER, &m.item_identifier)
                    .optional(AC_TERMINAL_PASSWORD, m.terminal_password.as_deref())
                    .extra(&m.extra);
            }
            Request::ItemStatusUpdate(m) => {
                w.optional_date(m.transaction_date.as_ref())
                    .field(AO_INSTITUTION_ID, &m.institution_id)
                    .field(AB_ITEM_IDENTIFIER, &m.item_identifier)
                    .optional(AC_TERMINAL_PASSWORD, m.terminal_password.as_deref())
                    .field(CH_ITEM_PROPERTIES, &m.item_properties)
                    .extra(&m.extra);
            }
            Request::Hold(m) => {
                w.fixed(m.hold_mode.as_char())
                    .optional_date(m.transaction_date.as_ref())
                    .optional_display(BW_EXPIRATION_DATE, m.expiration_date)
                    .optional(BS_PICKUP_LOCATION, m.pickup_location.as_deref())
                    .optional_display(BY_HOLD_TYPE, m.hold_type)
                    .field(AO_INSTITUTION_ID, &m.institution_id)
                    .field(AA_PATRON_IDENTIFIER, &m.patron_identifier)
                    .optional(AD_PATRON_PASSWORD, m.patron_password.as_deref())
                    .optional(AB_ITEM_IDENTIFIER, m.item_identifier.as_deref())
                    .optional(AJ_TITLE_IDENTIFIER, m.title_identifier.as_deref())
                    .optional(AC_TERMINAL_PASSWORD, m.terminal_password.as_deref())
                    .optional_yes_no(BO_FEE_ACKNOWLEDGED, m.fee_acknowledged)
                    .extra(&m.extra);
            }
            Request::FeePaid(m) => {
                w.optional_date(m.transaction_date.as_ref())
                    .fixed(m.fee_type)
                    .fixed(m.payment_type)
                    .fixed(m.currency_type)
                    .field(BV_FEE_AMOUNT, &m.fee_amount)
                    .field(AO_INSTITUTION_ID, &m.institution_id)
                    .field(AA_PATRON_IDENTIFIER, &m.patron_identifier)
                    .optional(AC_TERMINAL_PASSWORD, m.terminal_password.as_deref())
                    .optional(AD_PATRON_PASSWORD, m.patron_password.as_deref())
                    .optional(CG_FEE_IDENTIFIER, m.fee_identifier.as_deref())
                    .optional(BK_TRANSACTION_ID, m.transaction_id.as_deref())
                    .extra(&m.extra);
            }
            Request::EndPatronSession(m) => {
                w.optional_date(m.transaction_date.as_ref())
                    .field(AO_INSTITUTION_ID, &m.institution_id)
                    .field(AA_PATRON_IDENTIFIER, &m.patron_identifier)
                    .optional(AC_TERMINAL_PASSWORD, m.terminal_password.as_deref())
                    .optional(AD_PATRON_PASSWORD, m.patron_password.as_deref())
                    .extra(&m.extra);
            }
            Request::BlockPatron(m) => {
                w.yes_no(m.card_retained)
                    .optional_date(m.transaction_date.as_ref())
                    .field(AO_INSTITUTION_ID, &m.institution_id)
                    .field(AL_BLOCKED_CARD_MSG, &m.blocked_card_msg)
                    .field(AA_PATRON_IDENTIFIER, &m.patron_identifier)
                    .field(AC_TERMINAL_PASSWORD, &m.terminal_password)
                    .extra(&m.extra);
            }
            Request::RequestAcsResend => {}
        }
    }
}

/// The summary field names one list; when a kiosk marks several, the first wins (the spec
/// allows one, and the server can send only one list per reply).
fn read_summary(flags: [bool; Summary::WIDTH]) -> Summary {
    flags.iter().position(|&on| on).and_then(Summary::from_position).unwrap_or(Summary::None)
}
