//! Random valid messages for the round-trip and peer tests, driven by a seed so proptest can
//! find and replay a failing case.

use sip2::*;

pub struct Gen {
    state: u64,
    /// Which characters values may hold (the connection's encoding must be able to write them).
    pub encoding: Encoding,
    /// Only what the spec itself allows (every fixed date present, no blanks): what `pysip2`,
    /// which knows no tolerances, accepts.
    pub strict: bool,
}

impl Gen {
    pub fn new(seed: u64, encoding: Encoding, strict: bool) -> Self {
        Gen { state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1, encoding, strict }
    }

    pub fn next(&mut self) -> u64 {
        // xorshift64*: enough spread for test data.
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn bool(&mut self) -> bool {
        self.below(2) == 0
    }

    pub fn text(&mut self) -> String {
        const ASCII: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,:;-_/#$%&()'\"+*=?!@";
        const LATIN: &str = "éÅßñüØç";
        const WIDE: &str = "Ωж漢字🙂";
        let len = self.below(24) as usize;
        (0..len)
            .map(|_| {
                let pool: Vec<char> = match (self.below(8), self.encoding) {
                    (0, _) => LATIN.chars().collect(),
                    (1, Encoding::Utf8) => WIDE.chars().collect(),
                    _ => ASCII.chars().collect(),
                };
                pool[self.below(pool.len() as u64) as usize]
            })
            .collect()
    }

    pub fn opt_text(&mut self) -> Option<String> {
        self.bool().then(|| self.text())
    }

    pub fn texts(&mut self) -> Vec<String> {
        (0..self.below(4)).map(|_| self.text()).collect()
    }

    pub fn opt_bool(&mut self) -> Option<bool> {
        match self.below(3) {
            0 => None,
            1 => Some(true),
            _ => Some(false),
        }
    }

    pub fn date(&mut self) -> SipDate {
        let zone = match self.below(3) {
            0 => Zone::Local,
            1 => Zone::Utc,
            _ => Zone::Other(b'A' + self.below(25) as u8),
        };
        loop {
            let (y, m, d) = (self.below(10000) as i32, self.below(12) as u32 + 1, self.below(31) as u32 + 1);
            let (h, mi, s) = (self.below(24) as u32, self.below(60) as u32, self.below(60) as u32);
            if let Some(date) = SipDate::from_parts(y, m, d, h, mi, s, zone) {
                return date;
            }
        }
    }

    /// A fixed-field date that tolerant parsing allows to be blank.
    pub fn fixed_date(&mut self) -> Option<SipDate> {
        if self.strict || self.below(4) != 0 {
            Some(self.date())
        } else {
            None
        }
    }

    pub fn opt_date(&mut self) -> Option<SipDate> {
        self.bool().then(|| self.date())
    }

    pub fn number(&mut self, max: u64) -> u16 {
        self.below(max + 1) as u16
    }

    pub fn opt_number(&mut self, max: u64) -> Option<u16> {
        self.bool().then(|| self.number(max))
    }

    pub fn opt_u32(&mut self) -> Option<u32> {
        self.bool().then(|| self.below(100_000) as u32)
    }

    pub fn currency(&mut self) -> Currency {
        let letters: String = (0..3).map(|_| char::from(b'A' + self.below(26) as u8)).collect();
        Currency::new(&letters).unwrap()
    }

    pub fn opt_currency(&mut self) -> Option<Currency> {
        self.bool().then(|| self.currency())
    }

    pub fn language(&mut self) -> Language {
        Language(self.number(999))
    }

    /// Fields no message knows: `X?` and `Z?` identifiers.
    pub fn extra(&mut self) -> Vec<Field> {
        (0..self.below(3))
            .map(|_| {
                let id = [if self.bool() { b'X' } else { b'Z' }, b'A' + self.below(26) as u8];
                Field::new(FieldId(id), self.text())
            })
            .collect()
    }

    pub fn flags<const N: usize>(&mut self) -> [bool; N] {
        std::array::from_fn(|_| self.bool())
    }

    fn algorithm(&mut self) -> char {
        char::from(b'0' + self.below(10) as u8)
    }

    pub fn request(&mut self, kind: u64) -> Request {
        match kind % 15 {
            0 => Request::Login(Login {
                uid_algorithm: self.algorithm(),
                pwd_algorithm: self.algorithm(),
                login_user_id: self.text(),
                login_password: self.text(),
                location_code: self.opt_text(),
                extra: self.extra(),
            }),
            1 => Request::ScStatus(ScStatus {
                // pysip2 knows status codes 0-2 only.
                status_code: StatusCode::from_code(self.number(if self.strict { 2 } else { 9 })),
                max_print_width: if self.strict { Some(self.number(999)) } else { self.opt_number(999) },
                protocol_version: ProtocolVersion { major: self.below(10) as u8, minor: self.below(100) as u8 },
            }),
            2 => Request::PatronStatus(PatronStatusRequest {
                language: self.language(),
                transaction_date: self.fixed_date(),
                institution_id: self.text(),
                patron_identifier: self.text(),
                terminal_password: self.text(),
                patron_password: self.text(),
                extra: self.extra(),
            }),
            3 => Request::PatronInformation(PatronInformationRequest {
                language: self.language(),
                transaction_date: self.fixed_date(),
                summary: Summary::from_position(self.below(7) as usize).unwrap_or(Summary::None),
                institution_id: self.text(),
                patron_identifier: self.text(),
                terminal_password: self.opt_text(),
                patron_password: self.opt_text(),
                start_item: self.opt_u32(),
                end_item: self.opt_u32(),
                extra: self.extra(),
            }),
            4 => Request::Checkout(Checkout {
                sc_renewal_policy: self.bool(),
                no_block: self.bool(),
                transaction_date: self.fixed_date(),
                nb_due_date: self.fixed_date(),
                institution_id: self.text(),
                patron_identifier: self.text(),
                item_identifier: self.text(),
                terminal_password: self.text(),
                item_properties: self.opt_text(),
                patron_password: self.opt_text(),
                fee_acknowledged: self.opt_bool(),
                cancel: self.opt_bool(),
                extra: self.extra(),
            }),
            5 => Request::Checkin(Checkin {
                no_block: self.bool(),
                transaction_date: self.fixed_date(),
                return_date: self.fixed_date(),
                current_location: self.text(),
                institution_id: self.text(),
                item_identifier: self.text(),
                terminal_password: self.text(),
                item_properties: self.opt_text(),
                cancel: self.opt_bool(),
                extra: self.extra(),
            }),
            6 => Request::Renew(Renew {
                third_party_allowed: self.bool(),
                no_block: self.bool(),
                transaction_date: self.fixed_date(),
                nb_due_date: self.fixed_date(),
                institution_id: self.text(),
                patron_identifier: self.text(),
                patron_password: self.opt_text(),
                item_identifier: self.opt_text(),
                title_identifier: self.opt_text(),
                terminal_password: self.opt_text(),
                item_properties: self.opt_text(),
                fee_acknowledged: self.opt_bool(),
                extra: self.extra(),
            }),
            7 => Request::RenewAll(RenewAll {
                transaction_date: self.fixed_date(),
                institution_id: self.text(),
                patron_identifier: self.text(),
                patron_password: self.opt_text(),
                terminal_password: self.opt_text(),
                fee_acknowledged: self.opt_bool(),
                extra: self.extra(),
            }),
            8 => Request::ItemInformation(ItemInformation {
                transaction_date: self.fixed_date(),
                institution_id: self.text(),
                item_identifier: self.text(),
                terminal_password: self.opt_text(),
                extra: self.extra(),
            }),
            9 => Request::ItemStatusUpdate(ItemStatusUpdate {
                transaction_date: self.fixed_date(),
                institution_id: self.text(),
                item_identifier: self.text(),
                terminal_password: self.opt_text(),
                item_properties: self.text(),
                extra: self.extra(),
            }),
            10 => Request::Hold(Hold {
                hold_mode: [HoldMode::Add, HoldMode::Delete, HoldMode::Change][self.below(3) as usize],
                transaction_date: self.fixed_date(),
                expiration_date: self.opt_date(),
                pickup_location: self.opt_text(),
                // pysip2 allows hold types 1-9 only.
                hold_type: self.bool().then(|| HoldType::from_code(self.number(8) + 1)),
                institution_id: self.text(),
                patron_identifier: self.text(),
                patron_password: self.opt_text(),
                item_identifier: self.opt_text(),
                title_identifier: self.opt_text(),
                terminal_password: self.opt_text(),
                fee_acknowledged: self.opt_bool(),
                extra: self.extra(),
            }),
            11 => Request::FeePaid(FeePaid {
                transaction_date: self.fixed_date(),
                fee_type: FeeType::from_code(self.number(99)),
                payment_type: PaymentType::from_code(self.number(99)),
                currency_type: self.currency(),
                fee_amount: self.text(),
                institution_id: self.text(),
                patron_identifier: self.text(),
                terminal_password: self.opt_text(),
                patron_password: self.opt_text(),
                fee_identifier: self.opt_text(),
                transaction_id: self.opt_text(),
                extra: self.extra(),
            }),
            12 => Request::EndPatronSession(EndPatronSession {
                transaction_date: self.fixed_date(),
                institution_id: self.text(),
                patron_identifier: self.text(),
                terminal_password: self.opt_text(),
                patron_password: self.opt_text(),
                extra: self.extra(),
            }),
            13 => Request::BlockPatron(BlockPatron {
                card_retained: self.bool(),
                transaction_date: self.fixed_date(),
                institution_id: self.text(),
                blocked_card_msg: self.text(),
                patron_identifier: self.text(),
                terminal_password: self.text(),
                extra: self.extra(),
            }),
            _ => Request::RequestAcsResend,
        }
    }

    fn ynu(&mut self) -> YesNoUnknown {
        [YesNoUnknown::Yes, YesNoUnknown::No, YesNoUnknown::Unknown][self.below(3) as usize]
    }

    fn checkout_response(&mut self) -> CheckoutResponse {
        CheckoutResponse {
            ok: self.bool(),
            renewal_ok: self.bool(),
            magnetic_media: self.ynu(),
            desensitize: self.ynu(),
            transaction_date: self.date(),
            institution_id: self.text(),
            patron_identifier: self.text(),
            item_identifier: self.text(),
            title_identifier: self.text(),
            due_date: self.text(),
            fee_type: self.bool().then(|| FeeType::from_code(self.number(99))),
            security_inhibit: self.opt_bool(),
            currency_type: self.opt_currency(),
            fee_amount: self.opt_text(),
            media_type: self.bool().then(|| MediaType::from_code(self.number(999))),
            item_properties: self.opt_text(),
            transaction_id: self.opt_text(),
            screen_message: self.texts(),
            print_line: self.texts(),
            extra: self.extra(),
        }
    }

    pub fn response(&mut self, kind: u64) -> Response {
        match kind % 14 {
            0 => Response::Login(LoginResponse { ok: self.bool() }),
            1 => Response::AcsStatus(AcsStatus {
                online_status: self.bool(),
                checkin_ok: self.bool(),
                checkout_ok: self.bool(),
                acs_renewal_policy: self.bool(),
                status_update_ok: self.bool(),
                offline_ok: self.bool(),
                timeout_period: self.number(999),
                retries_allowed: self.number(999),
                date_time_sync: self.date(),
                protocol_version: ProtocolVersion { major: self.below(10) as u8, minor: self.below(100) as u8 },
                institution_id: self.text(),
                library_name: self.opt_text(),
                supported_messages: SupportedMessages::from_flags(self.flags()),
                terminal_location: self.opt_text(),
                screen_message: self.texts(),
                print_line: self.texts(),
                extra: self.extra(),
            }),
            2 => Response::PatronStatus(PatronStatusResponse {
                patron_status: PatronStatus::from_flags(self.flags()),
                language: self.language(),
                transaction_date: self.date(),
                institution_id: self.text(),
                patron_identifier: self.text(),
                personal_name: self.text(),
                valid_patron: self.opt_bool(),
                valid_patron_password: self.opt_bool(),
                currency_type: self.opt_currency(),
                fee_amount: self.opt_text(),
                screen_message: self.texts(),
                print_line: self.texts(),
                extra: self.extra(),
            }),
            3 => Response::PatronInformation(PatronInformationResponse {
                patron_status: PatronStatus::from_flags(self.flags()),
                language: self.language(),
                transaction_date: self.date(),
                hold_items_count: self.opt_number(9999),
                overdue_items_count: self.opt_number(9999),
                charged_items_count: self.opt_number(9999),
                fine_items_count: self.opt_number(9999),
                recall_items_count: self.opt_number(9999),
                unavailable_holds_count: self.opt_number(9999),
                institution_id: self.text(),
                patron_identifier: self.text(),
                personal_name: self.text(),
                hold_items_limit: self.opt_number(9999),
                overdue_items_limit: self.opt_number(9999),
                charged_items_limit: self.opt_number(9999),
                valid_patron: self.opt_bool(),
                valid_patron_password: self.opt_bool(),
                currency_type: self.opt_currency(),
                fee_amount: self.opt_text(),
                fee_limit: self.opt_text(),
                hold_items: self.texts(),
                overdue_items: self.texts(),
                charged_items: self.texts(),
                fine_items: self.texts(),
                recall_items: self.texts(),
                unavailable_hold_items: self.texts(),
                home_address: self.opt_text(),
                email_address: self.opt_text(),
                home_phone_number: self.opt_text(),
                screen_message: self.texts(),
                print_line: self.texts(),
                extra: self.extra(),
            }),
            4 => Response::Checkout(self.checkout_response()),
            5 => Response::Checkin(CheckinResponse {
                ok: self.bool(),
                resensitize: self.bool(),
                magnetic_media: self.ynu(),
                alert: self.bool(),
                transaction_date: self.date(),
                institution_id: self.text(),
                item_identifier: self.text(),
                permanent_location: self.text(),
                title_identifier: self.opt_text(),
                sort_bin: self.opt_text(),
                patron_identifier: self.opt_text(),
                media_type: self.bool().then(|| MediaType::from_code(self.number(999))),
                item_properties: self.opt_text(),
                destination_location: self.opt_text(),
                alert_type: self.bool().then(|| AlertType::from_code(self.number(99))),
                hold_patron_id: self.opt_text(),
                hold_patron_name: self.opt_text(),
                screen_message: self.texts(),
                print_line: self.texts(),
                extra: self.extra(),
            }),
            6 => Response::Renew(self.checkout_response()),
            7 => Response::RenewAll(RenewAllResponse {
                ok: self.bool(),
                renewed_count: self.number(9999),
                unrenewed_count: self.number(9999),
                transaction_date: self.date(),
                institution_id: self.text(),
                renewed_items: self.texts(),
                unrenewed_items: self.texts(),
                screen_message: self.texts(),
                print_line: self.texts(),
                extra: self.extra(),
            }),
            8 => Response::ItemInformation(ItemInformationResponse {
                circulation_status: CirculationStatus::from_code(self.number(99)),
                security_marker: SecurityMarker::from_code(self.number(99)),
                fee_type: FeeType::from_code(self.number(99)),
                transaction_date: self.date(),
                hold_queue_length: self.opt_u32(),
                due_date: self.opt_text(),
                recall_date: self.opt_date(),
                hold_pickup_date: self.opt_date(),
                item_identifier: self.text(),
                title_identifier: self.text(),
                owner: self.opt_text(),
                currency_type: self.opt_currency(),
                fee_amount: self.opt_text(),
                media_type: self.bool().then(|| MediaType::from_code(self.number(999))),
                permanent_location: self.opt_text(),
                current_location: self.opt_text(),
                item_properties: self.opt_text(),
                screen_message: self.texts(),
                print_line: self.texts(),
                extra: self.extra(),
            }),
            9 => Response::ItemStatusUpdate(ItemStatusUpdateResponse {
                item_properties_ok: self.bool(),
                transaction_date: self.date(),
                item_identifier: self.text(),
                title_identifier: self.opt_text(),
                item_properties: self.opt_text(),
                screen_message: self.texts(),
                print_line: self.texts(),
                extra: self.extra(),
            }),
            10 => Response::Hold(HoldResponse {
                ok: self.bool(),
                available: self.bool(),
                transaction_date: self.date(),
                expiration_date: self.opt_date(),
                queue_position: self.opt_u32(),
                pickup_location: self.opt_text(),
                institution_id: self.text(),
                patron_identifier: self.text(),
                item_identifier: self.opt_text(),
                title_identifier: self.opt_text(),
                screen_message: self.texts(),
                print_line: self.texts(),
                extra: self.extra(),
            }),
            11 => Response::FeePaid(FeePaidResponse {
                payment_accepted: self.bool(),
                transaction_date: self.date(),
                institution_id: self.text(),
                patron_identifier: self.text(),
                transaction_id: self.opt_text(),
                screen_message: self.texts(),
                print_line: self.texts(),
                extra: self.extra(),
            }),
            12 => Response::EndSession(EndSessionResponse {
                end_session: self.bool(),
                transaction_date: self.date(),
                institution_id: self.text(),
                patron_identifier: self.text(),
                screen_message: self.texts(),
                print_line: self.texts(),
                extra: self.extra(),
            }),
            _ => Response::RequestScResend,
        }
    }
}
