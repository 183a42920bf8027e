//! The spec's coded values: numeric codes in fixed and variable fields, single-character modes,
//! and the strings of Y/blank flags (patron status, supported messages).

use std::fmt;

/// A numeric code of a fixed width. Every code enum keeps a code the spec does not define as
/// `Unlisted(code)` rather than refusing the message: vendors extend these lists, and a kiosk that
/// sends a payment type of its own still deserves an answer.
macro_rules! numeric_code {
    ($(#[$meta:meta])* $name:ident, width $width:literal, { $($(#[$vmeta:meta])* $variant:ident = $code:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A code the spec does not define, kept as received. (A defined code is always read
            /// as its named variant.)
            Unlisted(u16),
        }

        impl $name {
            /// Digits on the wire.
            pub const WIDTH: usize = $width;

            pub fn code(self) -> u16 {
                match self {
                    $(Self::$variant => $code,)+
                    Self::Unlisted(code) => code,
                }
            }

            pub fn from_code(code: u16) -> Self {
                match code {
                    $($code => Self::$variant,)+
                    other => Self::Unlisted(other),
                }
            }
        }

        impl fmt::Display for $name {
            /// The code as it goes on the wire, zero-padded; an out-of-range `Unlisted` is cut to
            /// its last digits so the width stays right.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let code = u32::from(self.code()) % 10u32.pow($width);
                write!(f, "{code:0width$}", width = $width)
            }
        }
    };
}

numeric_code!(
    /// Circulation status of an item (18, item information response).
    CirculationStatus, width 2, {
        Other = 1,
        OnOrder = 2,
        Available = 3,
        Charged = 4,
        /// Charged; not to be recalled until the earliest recall date.
        ChargedNotToBeRecalled = 5,
        InProcess = 6,
        Recalled = 7,
        WaitingOnHoldShelf = 8,
        WaitingToBeReshelved = 9,
        InTransit = 10,
        ClaimedReturned = 11,
        Lost = 12,
        Missing = 13,
    }
);

numeric_code!(
    /// The kind of security marker in an item (18).
    SecurityMarker, width 2, {
        Other = 0,
        None = 1,
        TattleTape = 2,
        WhisperTape = 3,
    }
);

numeric_code!(
    /// Fee type (fixed in 18 and 37, BT in 12 and 30).
    FeeType, width 2, {
        OtherUnknown = 1,
        Administrative = 2,
        Damage = 3,
        Overdue = 4,
        Processing = 5,
        Rental = 6,
        Replacement = 7,
        ComputerAccessCharge = 8,
        HoldFee = 9,
    }
);

numeric_code!(
    /// How a fee was paid (37).
    PaymentType, width 2, {
        Cash = 0,
        Visa = 1,
        CreditCard = 2,
    }
);

numeric_code!(
    /// Media type (CK).
    MediaType, width 3, {
        Other = 0,
        Book = 1,
        Magazine = 2,
        BoundJournal = 3,
        AudioTape = 4,
        VideoTape = 5,
        CdCdrom = 6,
        Diskette = 7,
        BookWithDiskette = 8,
        BookWithCd = 9,
        BookWithAudioTape = 10,
    }
);

numeric_code!(
    /// Why a check-in raised the alert (CV, the 3M extension sorters and kiosks read to route an
    /// item: to the hold shelf here, into transit, or back to the shelves).
    AlertType, width 2, {
        Unknown = 0,
        /// On hold for a patron at this location: to the hold shelf.
        HoldLocal = 1,
        /// On hold for a patron at another location: into transit.
        HoldRemote = 2,
        /// An interlibrary loan going back.
        InterlibraryLoan = 3,
        /// Belongs to another location: into transit.
        Transit = 4,
        Other = 99,
    }
);

numeric_code!(
    /// Hold type (BY, 15).
    HoldType, width 1, {
        Other = 1,
        AnyCopyOfTitle = 2,
        SpecificCopy = 3,
        AnyCopyAtBranch = 4,
    }
);

numeric_code!(
    /// Status code of the self-check unit (99).
    StatusCode, width 1, {
        ScOk = 0,
        PrinterOutOfPaper = 1,
        ShuttingDown = 2,
    }
);

/// Hold mode (15): add, delete or change a hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HoldMode {
    Add,
    Delete,
    Change,
}

impl HoldMode {
    pub fn from_char(c: u8) -> Option<Self> {
        match c {
            b'+' => Some(HoldMode::Add),
            b'-' => Some(HoldMode::Delete),
            b'*' => Some(HoldMode::Change),
            _ => None,
        }
    }

    pub fn as_char(self) -> char {
        match self {
            HoldMode::Add => '+',
            HoldMode::Delete => '-',
            HoldMode::Change => '*',
        }
    }
}

/// A Y/N/U field: magnetic media and desensitize in 12 and 30, magnetic media in 10.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum YesNoUnknown {
    Yes,
    No,
    #[default]
    Unknown,
}

impl YesNoUnknown {
    pub fn as_char(self) -> char {
        match self {
            YesNoUnknown::Yes => 'Y',
            YesNoUnknown::No => 'N',
            YesNoUnknown::Unknown => 'U',
        }
    }
}

/// An ISO 4217 currency code (BH and the fixed field of 37): three upper-case letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const USD: Currency = Currency(*b"USD");
    pub const EUR: Currency = Currency(*b"EUR");
    pub const GBP: Currency = Currency(*b"GBP");
    pub const CAD: Currency = Currency(*b"CAD");

    /// Three letters, upper-cased (a kiosk that sends `usd` means USD); `None` otherwise.
    pub fn new(code: &str) -> Option<Self> {
        match code.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_alphabetic) => {
                Some(Currency([a.to_ascii_uppercase(), b.to_ascii_uppercase(), c.to_ascii_uppercase()]))
            }
            _ => None,
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII letters get in (see `new`).
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Language code (3 digits: 000 unknown, 001 English, 002 French, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Language(pub u16);

impl Language {
    pub const UNKNOWN: Language = Language(0);
    pub const ENGLISH: Language = Language(1);
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:03}", self.0 % 1000)
    }
}

/// Protocol version (99, 98): `d.dd` on the wire, `2.00` for this spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProtocolVersion {
    pub major: u8,
    pub minor: u8,
}

impl ProtocolVersion {
    pub const V2_00: ProtocolVersion = ProtocolVersion { major: 2, minor: 0 };

    pub fn parse(text: &str) -> Option<Self> {
        match text.as_bytes() {
            &[a, b'.', b, c] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
                Some(ProtocolVersion { major: a - b'0', minor: (b - b'0') * 10 + (c - b'0') })
            }
            _ => None,
        }
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.major % 10, self.minor % 100)
    }
}

/// A fixed field of flags, one character each, in the spec's order.
macro_rules! flags {
    ($(#[$meta:meta])* $name:ident, $yes:literal, $no:literal, [$($(#[$fmeta:meta])* $field:ident,)+]) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: bool,)+
        }

        impl $name {
            /// Characters on the wire.
            pub const WIDTH: usize = [$(stringify!($field)),+].len();

            /// The flags in wire order.
            pub fn to_flags(&self) -> [bool; Self::WIDTH] {
                [$(self.$field),+]
            }

            pub fn from_flags(flags: [bool; Self::WIDTH]) -> Self {
                let [$($field),+] = flags;
                $name { $($field),+ }
            }

            /// The wire form.
            pub fn to_wire(&self) -> String {
                self.to_flags().iter().map(|&on| if on { $yes } else { $no }).collect()
            }
        }
    };
}

flags!(
    /// Patron status (24, 64): fourteen characters, `Y` where the condition holds, blank where not.
    PatronStatus, 'Y', ' ', [
        charge_privileges_denied,
        renewal_privileges_denied,
        recall_privileges_denied,
        hold_privileges_denied,
        card_reported_lost,
        too_many_items_charged,
        too_many_items_overdue,
        too_many_renewals,
        too_many_claims_of_items_returned,
        too_many_items_lost,
        excessive_outstanding_fines,
        excessive_outstanding_fees,
        recall_overdue,
        too_many_items_billed,
    ]
);

flags!(
    /// Supported messages (BX in 98): sixteen `Y`/`N`, one per request the ACS answers. Say `Y`
    /// only for what the server really handles; kiosks hide features on `N`.
    SupportedMessages, 'Y', 'N', [
        patron_status_request,
        checkout,
        checkin,
        block_patron,
        sc_acs_status,
        request_sc_acs_resend,
        login,
        patron_information,
        end_patron_session,
        fee_paid,
        item_information,
        item_status_update,
        patron_enable,
        hold,
        renew,
        renew_all,
    ]
);

impl SupportedMessages {
    /// The request command codes in BX order.
    pub const COMMANDS: [&'static str; 16] =
        ["23", "11", "09", "01", "99", "97", "93", "63", "35", "37", "17", "19", "25", "15", "29", "65"];

    /// `Y` for exactly the request codes given (`"11"`, `"09"`, ...), so the server can derive
    /// the field from what it dispatches rather than keep a second list in step by hand.
    pub fn from_commands<'a>(commands: impl IntoIterator<Item = &'a str>) -> Self {
        let mut flags = [false; Self::WIDTH];
        for command in commands {
            if let Some(i) = Self::COMMANDS.iter().position(|&c| c == command) {
                flags[i] = true;
            }
        }
        Self::from_flags(flags)
    }
}

/// Which list a patron information request (63) asks for: the summary field has ten positions
/// and at most one `Y`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Summary {
    #[default]
    None,
    HoldItems,
    OverdueItems,
    ChargedItems,
    FineItems,
    RecallItems,
    UnavailableHolds,
}

impl Summary {
    pub const WIDTH: usize = 10;

    /// The position of the `Y` (0-based), if any.
    pub fn position(self) -> Option<usize> {
        match self {
            Summary::None => None,
            Summary::HoldItems => Some(0),
            Summary::OverdueItems => Some(1),
            Summary::ChargedItems => Some(2),
            Summary::FineItems => Some(3),
            Summary::RecallItems => Some(4),
            Summary::UnavailableHolds => Some(5),
        }
    }

    pub fn from_position(position: usize) -> Option<Self> {
        Some(match position {
            0 => Summary::HoldItems,
            1 => Summary::OverdueItems,
            2 => Summary::ChargedItems,
            3 => Summary::FineItems,
            4 => Summary::RecallItems,
            5 => Summary::UnavailableHolds,
            _ => return None,
        })
    }

    pub fn to_wire(self) -> String {
        (0..Self::WIDTH).map(|i| if Some(i) == self.position() { 'Y' } else { ' ' }).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supported_messages_from_commands() {
        let s = SupportedMessages::from_commands(["23", "11", "09", "65", "xx"]);
        assert_eq!(s.to_wire(), "YYY............Y".replace('.', "N"));
        assert!(s.patron_status_request && s.checkout && s.checkin && s.renew_all && !s.patron_enable);
    }

    #[test]
    fn codes_keep_their_width() {
        assert_eq!(MediaType::Book.to_string(), "001");
        assert_eq!(CirculationStatus::Unlisted(1234).to_string(), "34");
        assert_eq!(CirculationStatus::from_code(8), CirculationStatus::WaitingOnHoldShelf);
        assert_eq!(Language(7).to_string(), "007");
        assert_eq!(ProtocolVersion::parse("2.00"), Some(ProtocolVersion::V2_00));
        assert_eq!(ProtocolVersion::V2_00.to_string(), "2.00");
        assert_eq!(Currency::new("usd"), Some(Currency::USD));
        assert_eq!(Currency::new("US"), None);
        assert_eq!(Summary::UnavailableHolds.to_wire(), "     Y    ");
    }
}
