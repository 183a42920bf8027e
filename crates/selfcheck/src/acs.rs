//! The automated circulation system's side of each SIP2 message: the kiosk's request turned into
//! a call to the desk's services (the same checkout, renewal, check-in, hold, payment and block
//! the staff API makes), and the outcome into the reply. Refusals are replies with `ok` 0 and
//! the clerk's sentence as the screen message (AF); a broken database is logged and answered
//! the same way, never a dropped connection.

use crate::settings::{branch_code, Config};
use accounts::{Account, Role};
use catalog::{Barcode, Code, Item, ItemStatus, Money};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use circulation::{Actor, EntryKind, PaymentMethod, Permission, RefusalCode, Routing, StaffId};
use desk::ledger::CreditRequest;
use desk::patrons::{BlockRequest, PatronError, PatronPassword};
use desk::{Desk, DeskError};
use sip2::*;
use std::collections::BTreeSet;
use std::sync::Arc;
use storage::holds::{HoldStatus, HoldTarget, NewHold, StoredHold};
use storage::loans::{Loan, PatronAccount};
use storage::patrons::{BlockKind, PatronRecord};
use storage::Database;

/// The request codes the server answers, in one place: the dispatch below and the supported
/// messages field (BX) of 98 both come from it. 25 (patron enable) is not among them: lifting
/// a block is staff work.
pub const ANSWERED: [&str; 15] =
    ["93", "99", "23", "63", "11", "09", "29", "65", "17", "19", "15", "37", "35", "01", "97"];

/// Items a 63 lists when the kiosk gives no range (BP/BQ), and the most it lists at all: the
/// PyPI `sip2` client reads a reply with one 4 KB `recv`, so long lists go out in pages.
pub const DEFAULT_LIST_ITEMS: u32 = 10;
pub const MAX_LIST_ITEMS: u32 = 20;

/// Where the time comes from: the wall clock in production, a fixed instant in the golden tests.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// A kiosk logged in with its staff account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kiosk {
    pub account: Account,
    /// Where its check-ins and checkouts happen: the location code it sent (CP), or the one
    /// branch its account is limited to.
    pub branch: Code,
}

impl Kiosk {
    fn may(&self, p: Permission) -> bool {
        self.account.permissions().contains(&p) || self.account.roles.contains(&Role::Admin)
    }
}

pub struct Acs {
    db: Arc<dyn Database>,
    desk: Desk,
    config: Config,
    clock: Clock,
}

/// A patron as 24 shows them: details, account, open loans, and CQ.
type PatronView = (PatronRecord, PatronAccount, Vec<Loan>, Option<bool>);
/// A renewal done: the loan, its new due date, the title.
type Renewed = (Loan, DateTime<Utc>, String);

/// A screen message for what went wrong inside: the kiosk shows it, the log has the detail.
const ASK_STAFF: &str = "The library system could not complete this. Please ask at the desk.";

impl Acs {
    pub fn new(db: Arc<dyn Database>, desk: Desk, config: Config, clock: Clock) -> Acs {
        Acs { db, desk, config, clock }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    fn db(&self) -> &dyn Database {
        &*self.db
    }

    fn tz(&self) -> Tz {
        self.desk.circulation().time_zone
    }

    /// A SIP2 date in the library's local time (the spec prefers local time, four blanks).
    fn sip_date(&self, at: DateTime<Utc>) -> SipDate {
        SipDate::new(at.with_timezone(&self.tz()).naive_local(), Zone::Local)
    }

    /// A date the kiosk sent, as an instant: local time is the library's.
    fn instant(&self, date: &SipDate) -> Option<DateTime<Utc>> {
        match date.zone() {
            Zone::Utc => Some(Utc.from_utc_datetime(&date.datetime())),
            _ => local_instant(self.tz(), date.datetime()),
        }
    }

    /// 93: the kiosk's staff account, its password, and the branch it works at.
    pub fn login(&self, login: &Login) -> Option<Kiosk> {
        let user = login.login_user_id.trim();
        let stored = match self.db().staff_credentials(user) {
            Ok(found) => found,
            Err(error) => {
                tracing::error!(%error, "sip2 login: reading the account");
                return None;
            }
        };
        // The decoy keeps an unknown login as slow as a wrong password.
        let hash = stored.as_ref().map_or(accounts::decoy_hash(), |(_, h)| h.as_str());
        let password_ok = accounts::verify_password(&login.login_password, hash);
        let (staff, _) = stored?;
        if !password_ok || !staff.active {
            tracing::info!(login = user, "sip2 login refused");
            return None;
        }
        let roles: BTreeSet<Role> = staff.roles.iter().filter_map(|r| Role::parse(r).ok()).collect();
        let account = Account {
            id: staff.id,
            login: staff.login.clone(),
            name: staff.name.clone(),
            roles,
            branches: staff.branches.iter().cloned().collect(),
            active: staff.active,
        };
        let permissions = account.permissions();
        if !(permissions.contains(&Permission::Circulate) || permissions.contains(&Permission::CheckIn)) {
            tracing::info!(login = user, "sip2 login refused: the account may not circulate");
            return None;
        }
        let branch = match login.location_code.as_deref().filter(|c| !c.trim().is_empty()) {
            Some(cp) => branch_code(cp)?,
            None if account.branches.len() == 1 => account.branches.iter().next()?.clone(),
            None => {
                tracing::info!(login = user, "sip2 login refused: no location code and no single branch limit");
                return None;
            }
        };
        if !account.may_act_at(&branch) {
            tracing::info!(login = user, %branch, "sip2 login refused: the account is limited to other branches");
            return None;
        }
        Some(Kiosk { account, branch })
    }

    /// Every request but 93 and 97, from a logged-in kiosk.
    pub fn answer(&self, kiosk: &Kiosk, request: &Request) -> Response {
        let now = (self.clock)();
        match request {
            Request::ScStatus(_) => self.sc_status(kiosk, now),
            Request::PatronStatus(m) => {
                Response::PatronStatus(self.patron_status(&m.patron_identifier, Some(&m.patron_password), now, vec![]))
            }
            Request::PatronInformation(m) => self.patron_information(m, now),
            Request::Checkout(m) => self.checkout(kiosk, m, now),
            Request::Checkin(m) => self.checkin(kiosk, m, now),
            Request::Renew(m) => self.renew(kiosk, m, now),
            Request::RenewAll(m) => self.renew_all(kiosk, m, now),
            Request::ItemInformation(m) => self.item_information(&m.item_identifier, now),
            Request::ItemStatusUpdate(m) => self.item_status_update(kiosk, m, now),
            Request::Hold(m) => self.hold(kiosk, m, now),
            Request::FeePaid(m) => self.fee_paid(kiosk, m, now),
            Request::EndPatronSession(m) => Response::EndSession(EndSessionResponse {
                end_session: true,
                transaction_date: self.sip_date(now),
                institution_id: self.config.institution_id.clone(),
                patron_identifier: m.patron_identifier.clone(),
                screen_message: vec![],
                print_line: vec![],
                extra: vec![],
            }),
            Request::BlockPatron(m) => self.block_patron(kiosk, m, now),
            // The session answers these itself.
            Request::Login(_) | Request::RequestAcsResend => Response::RequestScResend,
        }
    }

    fn sc_status(&self, kiosk: &Kiosk, now: DateTime<Utc>) -> Response {
        Response::AcsStatus(AcsStatus {
            online_status: true,
            checkin_ok: kiosk.may(Permission::CheckIn),
            checkout_ok: kiosk.may(Permission::Circulate),
            acs_renewal_policy: kiosk.may(Permission::Circulate),
            status_update_ok: kiosk.may(Permission::Circulate),
            // Offline transactions (no block) are decided like any other and may be refused.
            offline_ok: false,
            timeout_period: self.config.timeout_period,
            retries_allowed: 3,
            date_time_sync: self.sip_date(now),
            protocol_version: ProtocolVersion::V2_00,
            institution_id: self.config.institution_id.clone(),
            library_name: self.config.library_name.clone(),
            supported_messages: SupportedMessages::from_commands(ANSWERED),
            terminal_location: Some(kiosk.branch.to_string()),
            screen_message: vec![],
            print_line: vec![],
            extra: vec![],
        })
    }

    // -----------------------------------------------------------------------------------------
    // Patrons

    /// CQ: `None` when no password was sent; `Some(false)` for a wrong one or a patron without
    /// one.
    fn password_check(&self, card: &str, sent: Option<&str>) -> Result<Option<bool>, PatronError> {
        let Some(password) = sent.filter(|p| !p.is_empty()) else { return Ok(None) };
        Ok(Some(self.desk.verify_patron_password(self.db(), card, password)? == PatronPassword::Valid))
    }

    fn overdue_count(loans: &[Loan], now: DateTime<Utc>) -> u32 {
        u32::try_from(loans.iter().filter(|l| l.due_at < now).count()).unwrap_or(u32::MAX)
    }

    /// The fourteen patron status flags, from the refusals a checkout would give today.
    fn status_flags(&self, account: &PatronAccount, loans: &[Loan], now: DateTime<Utc>) -> (PatronStatus, Vec<String>) {
        let refusals = self.desk.patron_standing(account, Self::overdue_count(loans, now), now);
        let denied = !refusals.is_empty();
        let status = PatronStatus {
            charge_privileges_denied: denied,
            renewal_privileges_denied: denied,
            hold_privileges_denied: denied,
            card_reported_lost: account.blocks.iter().any(|b| b.kind == BlockKind::LostCard),
            too_many_items_overdue: refusals.iter().any(|r| r.code == RefusalCode::TooManyOverdues),
            excessive_outstanding_fines: refusals.iter().any(|r| r.code == RefusalCode::FinesOverLimit),
            ..PatronStatus::default()
        };
        (status, refusals.into_iter().map(|r| r.message).collect())
    }

    fn unknown_patron_status() -> PatronStatus {
        PatronStatus {
            charge_privileges_denied: true,
            renewal_privileges_denied: true,
            recall_privileges_denied: true,
            hold_privileges_denied: true,
            ..PatronStatus::default()
        }
    }

    fn name(p: &PatronRecord) -> String {
        format!("{} {}", p.details.first_name, p.details.surname).trim().to_string()
    }

    /// 24, for 23 and after 01.
    fn patron_status(
        &self,
        card: &str,
        password: Option<&str>,
        now: DateTime<Utc>,
        mut screen: Vec<String>,
    ) -> PatronStatusResponse {
        let mut reply = PatronStatusResponse {
            patron_status: Self::unknown_patron_status(),
            language: Language::ENGLISH,
            transaction_date: self.sip_date(now),
            institution_id: self.config.institution_id.clone(),
            patron_identifier: card.to_string(),
            personal_name: String::new(),
            valid_patron: Some(false),
            valid_patron_password: None,
            currency_type: None,
            fee_amount: None,
            screen_message: vec![],
            print_line: vec![],
            extra: vec![],
        };
        let found = (|| -> Result<Option<PatronView>, PatronError> {
            let Some(record) = self.db().patron_record(card.trim()).map_err(PatronError::Storage)? else {
                return Ok(None);
            };
            let Some(account) = self.db().patron_account(card.trim()).map_err(PatronError::Storage)? else {
                return Ok(None);
            };
            let loans = self.db().open_loans(account.id).map_err(PatronError::Storage)?;
            let cq = self.password_check(card, password)?;
            Ok(Some((record, account, loans, cq)))
        })();
        match found {
            Ok(Some((record, account, loans, cq))) => {
                let (status, messages) = self.status_flags(&account, &loans, now);
                reply.patron_status = status;
                reply.personal_name = Self::name(&record);
                reply.valid_patron = Some(true);
                reply.valid_patron_password = cq;
                reply.currency_type = Some(self.config.currency);
                reply.fee_amount = Some(account.balance.to_string());
                screen.extend(messages);
            }
            Ok(None) => screen.push(format!("No patron has card {}.", card.trim())),
            Err(error) => {
                tracing::error!(%error, "sip2 patron status");
                screen.push(ASK_STAFF.into());
            }
        }
        reply.screen_message = screen;
        reply
    }

    /// 64, with the one list the summary asks for, paged by BP/BQ.
    fn patron_information(&self, m: &PatronInformationRequest, now: DateTime<Utc>) -> Response {
        let card = m.patron_identifier.trim();
        let mut reply = PatronInformationResponse {
            patron_status: Self::unknown_patron_status(),
            language: Language::ENGLISH,
            transaction_date: self.sip_date(now),
            hold_items_count: Some(0),
            overdue_items_count: Some(0),
            charged_items_count: Some(0),
            fine_items_count: Some(0),
            recall_items_count: Some(0),
            unavailable_holds_count: Some(0),
            institution_id: self.config.institution_id.clone(),
            patron_identifier: m.patron_identifier.clone(),
            personal_name: String::new(),
            hold_items_limit: None,
            overdue_items_limit: None,
            charged_items_limit: None,
            valid_patron: Some(false),
            valid_patron_password: None,
            currency_type: None,
            fee_amount: None,
            fee_limit: None,
            hold_items: vec![],
            overdue_items: vec![],
            charged_items: vec![],
            fine_items: vec![],
            recall_items: vec![],
            unavailable_hold_items: vec![],
            home_address: None,
            email_address: None,
            home_phone_number: None,
            screen_message: vec![],
            print_line: vec![],
            extra: vec![],
        };
        match self.fill_patron_information(&mut reply, m, card, now) {
            Ok(true) => {}
            Ok(false) => reply.screen_message.push(format!("No patron has card {card}.")),
            Err(error) => {
                tracing::error!(%error, "sip2 patron information");
                reply.screen_message.push(ASK_STAFF.into());
            }
        }
        Response::PatronInformation(reply)
    }

    fn fill_patron_information(
        &self,
        reply: &mut PatronInformationResponse,
        m: &PatronInformationRequest,
        card: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, PatronError> {
        let db = self.db();
        let Some(record) = db.patron_record(card).map_err(PatronError::Storage)? else { return Ok(false) };
        let Some(account) = db.account(card).map_err(PatronError::Storage)? else { return Ok(false) };
        let loans = db.open_loans(account.patron.id).map_err(PatronError::Storage)?;
        let holds: Vec<StoredHold> = db
            .patron_holds(account.patron.id)
            .map_err(PatronError::Storage)?
            .into_iter()
            .filter(|h| h.status.is_open())
            .collect();
        let (status, messages) = self.status_flags(&account.patron, &loans, now);
        reply.patron_status = status;
        reply.screen_message.extend(messages);
        reply.personal_name = Self::name(&record);
        reply.valid_patron = Some(true);
        reply.valid_patron_password = self.password_check(card, m.patron_password.as_deref())?;
        reply.currency_type = Some(self.config.currency);
        reply.fee_amount = Some(account.patron.balance.to_string());
        reply.fee_limit = self.desk.circulation().policy.fine_limit.value().map(|l| l.to_string());
        reply.email_address = record.details.email.clone();
        reply.home_phone_number = record.details.phone.clone();
        reply.home_address = record.details.address.clone();

        let barcode_of = |item: storage::ItemId| -> Result<String, PatronError> {
            Ok(db.item(item).map_err(PatronError::Storage)?.map(|i| i.item.barcode.to_string()).unwrap_or_default())
        };
        let title_of = |bib: storage::BibId| -> Result<String, PatronError> {
            Ok(db.record(bib).map_err(PatronError::Storage)?.map(|r| r.derived.title).unwrap_or_default())
        };
        let (ready, waiting): (Vec<&StoredHold>, Vec<&StoredHold>) =
            holds.iter().partition(|h| h.status == HoldStatus::OnShelf);
        let overdue: Vec<&Loan> = loans.iter().filter(|l| l.due_at < now).collect();
        let charges = account.ledger.open_charges();
        let count = |n: usize| Some(u16::try_from(n.min(9999)).unwrap_or(9999));
        reply.hold_items_count = count(ready.len());
        reply.unavailable_holds_count = count(waiting.len());
        reply.overdue_items_count = count(overdue.len());
        reply.charged_items_count = count(loans.len());
        reply.fine_items_count = count(charges.len());

        // Only the page asked for is read item by item.
        let (first, last) = page(m.start_item, m.end_item);
        let window = |n: usize| (first.min(n), (last + 1).min(n));
        match m.summary {
            Summary::HoldItems => {
                let (a, b) = window(ready.len());
                for h in &ready[a..b] {
                    reply.hold_items.push(match h.trapped_item_id {
                        Some(item) => barcode_of(item)?,
                        None => title_of(h.bib_id)?,
                    });
                }
            }
            Summary::UnavailableHolds => {
                let (a, b) = window(waiting.len());
                for h in &waiting[a..b] {
                    reply.unavailable_hold_items.push(title_of(h.bib_id)?);
                }
            }
            Summary::OverdueItems => {
                let (a, b) = window(overdue.len());
                for l in &overdue[a..b] {
                    reply.overdue_items.push(barcode_of(l.item_id)?);
                }
            }
            Summary::ChargedItems => {
                let (a, b) = window(loans.len());
                for l in &loans[a..b] {
                    reply.charged_items.push(barcode_of(l.item_id)?);
                }
            }
            Summary::FineItems => {
                let (a, b) = window(charges.len());
                for (entry, outstanding) in &charges[a..b] {
                    let what = account.ledger.entries().iter().find(|e| e.id == *entry).map(|e| match &e.kind {
                        EntryKind::Charge { kind, item, .. } => {
                            let barcode = item.map(|i| barcode_of(storage::ItemId::from(i.0))).transpose()?;
                            Ok::<_, PatronError>(match barcode {
                                Some(b) => format!("{} {b}", kind.as_str()),
                                None => kind.as_str().to_string(),
                            })
                        }
                        _ => Ok(String::new()),
                    });
                    let what = what.transpose()?.unwrap_or_default();
                    let row = account.row(*entry).map(|r| r.id).unwrap_or_default();
                    reply.fine_items.push(format!("{row} {outstanding} {what}").trim().to_string());
                }
            }
            Summary::RecallItems | Summary::None => {}
        }
        Ok(true)
    }

    // -----------------------------------------------------------------------------------------
    // Items

    fn item(&self, barcode: &str) -> Result<Option<(Barcode, Item, String)>, storage::StorageError> {
        let Ok(barcode) = Barcode::parse(barcode) else { return Ok(None) };
        let Some(item) = self.db().item_by_barcode(&barcode)? else { return Ok(None) };
        let title = self.db().record(item.bib_id)?.map(|r| r.derived.title).unwrap_or_default();
        Ok(Some((barcode, item, title)))
    }

    fn due_text(&self, due: DateTime<Utc>) -> String {
        self.sip_date(due).to_string()
    }

    fn checkout(&self, kiosk: &Kiosk, m: &Checkout, now: DateTime<Utc>) -> Response {
        let mut reply = CheckoutResponse {
            ok: false,
            renewal_ok: false,
            magnetic_media: YesNoUnknown::Unknown,
            desensitize: YesNoUnknown::No,
            transaction_date: self.sip_date(now),
            institution_id: self.config.institution_id.clone(),
            patron_identifier: m.patron_identifier.clone(),
            item_identifier: m.item_identifier.clone(),
            title_identifier: String::new(),
            due_date: String::new(),
            fee_type: None,
            security_inhibit: None,
            currency_type: None,
            fee_amount: None,
            media_type: None,
            item_properties: None,
            transaction_id: None,
            screen_message: vec![],
            print_line: vec![],
            extra: vec![],
        };
        let card = m.patron_identifier.trim();
        if let Some(refusal) = self.refusal(
            kiosk,
            "This machine does not check items out.",
            card,
            m.patron_password.as_deref(),
            self.config.patron_password_required,
        ) {
            reply.screen_message.push(refusal);
            return Response::Checkout(reply);
        }
        let (barcode, item, title) = match self.item(&m.item_identifier) {
            Ok(Some(found)) => found,
            Ok(None) => {
                reply.screen_message.push(format!("No item has barcode {}.", m.item_identifier.trim()));
                return Response::Checkout(reply);
            }
            Err(e) => {
                reply.screen_message.push(self.desk_message(&e.into()));
                return Response::Checkout(reply);
            }
        };
        reply.title_identifier = title;
        reply.item_properties = item.item.materials_specified.clone();
        match self.desk.checkout(self.db(), card, &barcode, &kiosk.branch, now, None) {
            Ok(receipt) => {
                reply.ok = true;
                reply.desensitize = YesNoUnknown::Yes;
                reply.due_date = self.due_text(receipt.due.at);
                reply.transaction_id = Some(receipt.loan.id.to_string());
            }
            // Already this patron's: with the SC's renewal policy, a checkout is a renewal.
            Err(DeskError::Refused(refusals))
                if m.sc_renewal_policy && refusals.iter().any(|r| r.code == RefusalCode::ItemOnLoanToPatron) =>
            {
                match self.desk.renew(self.db(), &barcode, now, None) {
                    Ok((loan, due)) => {
                        reply.ok = true;
                        reply.renewal_ok = true;
                        reply.desensitize = YesNoUnknown::Yes;
                        reply.due_date = self.due_text(due.at);
                        reply.transaction_id = Some(loan.id.to_string());
                    }
                    Err(e) => reply.screen_message.push(self.desk_message(&e)),
                }
            }
            Err(e) => {
                if let DeskError::Refused(r) = &e {
                    reply.renewal_ok = r.iter().any(|r| r.code == RefusalCode::ItemOnLoanToPatron);
                }
                reply.screen_message.push(self.desk_message(&e));
            }
        }
        Response::Checkout(reply)
    }

    /// A refusal sentence when the card or its password stops a patron transaction here;
    /// `required`: a password must be sent and match.
    /// Why this kiosk may not serve this patron now, as the screen message: the machine lacks
    /// the Circulate permission (`machine_does_not`), or the card or its PIN does not do.
    fn refusal(
        &self,
        kiosk: &Kiosk,
        machine_does_not: &str,
        card: &str,
        password: Option<&str>,
        required: bool,
    ) -> Option<String> {
        if !kiosk.may(Permission::Circulate) {
            return Some(machine_does_not.to_string());
        }
        self.patron_allowed(card, password, required).unwrap_or_else(|e| Some(self.patron_message(&e)))
    }

    fn patron_allowed(
        &self,
        card: &str,
        password: Option<&str>,
        required: bool,
    ) -> Result<Option<String>, PatronError> {
        match (self.password_check(card, password), required) {
            (Ok(Some(true)), _) | (Ok(None), false) => Ok(None),
            (Ok(Some(false)), _) => Ok(Some("The PIN does not match this card.".into())),
            (Ok(None), true) => Ok(Some("Please enter your PIN.".into())),
            (Err(PatronError::NotFound { .. }), _) => Ok(Some(format!("No patron has card {card}."))),
            (Err(PatronError::CardReplaced { .. }), _) => {
                Ok(Some("This card was replaced by a new one and no longer works.".into()))
            }
            (Err(e), _) => Err(e),
        }
    }

    /// What the kiosk shows for a desk error: a refusal's sentences, or the plain ask-staff
    /// message for a failure inside (logged).
    fn desk_message(&self, e: &DeskError) -> String {
        match e {
            DeskError::Refused(refusals) => refusals.iter().map(|r| r.message.as_str()).collect::<Vec<_>>().join(" "),
            DeskError::NotFound { what, key } => format!("No {what} {key}."),
            DeskError::CardReplaced { .. } => "This card was replaced by a new one and no longer works.".into(),
            DeskError::CheckIn(e) => e.to_string(),
            DeskError::Hold(e) => e.to_string(),
            DeskError::Ledger(e) => e.to_string(),
            other => {
                tracing::error!(error = %other, "sip2: the desk failed");
                ASK_STAFF.into()
            }
        }
    }

    /// A patron lookup that failed inside (the expected outcomes are refusals already).
    fn patron_message(&self, e: &PatronError) -> String {
        tracing::error!(error = %e, "sip2: reading the patron failed");
        ASK_STAFF.into()
    }

    fn checkin(&self, kiosk: &Kiosk, m: &Checkin, now: DateTime<Utc>) -> Response {
        let bins = &self.config.sort_bins;
        let mut reply = CheckinResponse {
            ok: false,
            resensitize: true,
            magnetic_media: YesNoUnknown::Unknown,
            alert: true,
            transaction_date: self.sip_date(now),
            institution_id: self.config.institution_id.clone(),
            item_identifier: m.item_identifier.clone(),
            permanent_location: String::new(),
            title_identifier: None,
            sort_bin: Some(bins.problem.clone()),
            patron_identifier: None,
            media_type: None,
            item_properties: None,
            destination_location: None,
            alert_type: Some(AlertType::Other),
            hold_patron_id: None,
            hold_patron_name: None,
            screen_message: vec![],
            print_line: vec![],
            extra: vec![],
        };
        if !kiosk.may(Permission::CheckIn) {
            reply.screen_message.push("This machine does not check items in.".into());
            return Response::Checkin(reply);
        }
        let (barcode, item, title) = match self.item(&m.item_identifier) {
            Ok(Some(found)) => found,
            Ok(None) => {
                reply.screen_message.push(format!("No item has barcode {}.", m.item_identifier.trim()));
                return Response::Checkin(reply);
            }
            Err(e) => {
                reply.screen_message.push(self.desk_message(&e.into()));
                return Response::Checkin(reply);
            }
        };
        reply.permanent_location = item.item.home_branch.to_string();
        reply.title_identifier = Some(title);
        reply.item_properties = item.item.materials_specified.clone();
        // The book drop's return date backdates the check-in (no fine for the days in the box).
        let returned_at = m.return_date.as_ref().and_then(|d| self.instant(d)).filter(|at| *at <= now);
        match self.desk.check_in(self.db(), &barcode, &kiosk.branch, returned_at, now) {
            Ok(receipt) => {
                reply.ok = true;
                let hold_card = receipt.hold.as_ref().map(|h| h.card_number.clone());
                match &receipt.decision.routing {
                    Routing::Shelve => {
                        reply.alert = false;
                        reply.alert_type = None;
                        reply.sort_bin = Some(bins.reshelve.clone());
                    }
                    Routing::HoldShelf { .. } => {
                        reply.alert_type = Some(AlertType::HoldLocal);
                        reply.sort_bin = Some(bins.hold_shelf.clone());
                        reply.destination_location = Some(kiosk.branch.to_string());
                        reply.hold_patron_id = hold_card;
                        reply.screen_message.push("On hold: put it on the hold shelf.".into());
                    }
                    Routing::Transit { to, hold } => {
                        reply.alert_type =
                            Some(if hold.is_some() { AlertType::HoldRemote } else { AlertType::Transit });
                        reply.sort_bin = Some(bins.transit.clone());
                        reply.destination_location = Some(to.to_string());
                        reply.hold_patron_id = hold_card;
                        reply.screen_message.push(format!("Send to {to}."));
                    }
                }
                if receipt.decision.charge > Money::from_minor(0) {
                    reply.screen_message.push(format!("An overdue fine of {} was charged.", receipt.decision.charge));
                }
            }
            Err(e) => reply.screen_message.push(self.desk_message(&e)),
        }
        Response::Checkin(reply)
    }

    /// The patron's open loan of this copy, so a kiosk renews only the patron's own items.
    fn own_loan(&self, card: &str, item: &Item) -> Result<Option<Loan>, DeskError> {
        let Some(account) = self.db().patron_account(card)? else {
            return Err(DeskError::NotFound { what: "patron card", key: card.to_string() });
        };
        Ok(self.db().open_loans(account.id)?.into_iter().find(|l| l.item_id == item.id))
    }

    fn renew(&self, kiosk: &Kiosk, m: &Renew, now: DateTime<Utc>) -> Response {
        let mut reply = CheckoutResponse {
            ok: false,
            renewal_ok: false,
            magnetic_media: YesNoUnknown::Unknown,
            desensitize: YesNoUnknown::Unknown,
            transaction_date: self.sip_date(now),
            institution_id: self.config.institution_id.clone(),
            patron_identifier: m.patron_identifier.clone(),
            item_identifier: m.item_identifier.clone().unwrap_or_default(),
            title_identifier: m.title_identifier.clone().unwrap_or_default(),
            due_date: String::new(),
            fee_type: None,
            security_inhibit: None,
            currency_type: None,
            fee_amount: None,
            media_type: None,
            item_properties: None,
            transaction_id: None,
            screen_message: vec![],
            print_line: vec![],
            extra: vec![],
        };
        let card = m.patron_identifier.trim();
        if let Some(refusal) =
            self.refusal(kiosk, "This machine does not renew items.", card, m.patron_password.as_deref(), false)
        {
            reply.screen_message.push(refusal);
            return Response::Renew(reply);
        }
        let Some(given) = m.item_identifier.as_deref().filter(|b| !b.trim().is_empty()) else {
            reply.screen_message.push("Scan the item to renew (renewal by title is not offered).".into());
            return Response::Renew(reply);
        };
        let outcome = (|| -> Result<Result<Renewed, String>, DeskError> {
            let Some((barcode, item, title)) = self.item(given)? else {
                return Ok(Err(format!("No item has barcode {}.", given.trim())));
            };
            if self.own_loan(card, &item)?.is_none() {
                return Ok(Err("This item is not on loan to this card.".into()));
            }
            match self.desk.renew(self.db(), &barcode, now, None) {
                Ok((loan, due)) => Ok(Ok((loan, due.at, title))),
                Err(e @ DeskError::Refused(_)) => Ok(Err(self.desk_message(&e))),
                Err(e) => Err(e),
            }
        })();
        match outcome {
            Ok(Ok((loan, due, title))) => {
                reply.ok = true;
                reply.renewal_ok = true;
                reply.desensitize = YesNoUnknown::Yes;
                reply.due_date = self.due_text(due);
                reply.title_identifier = title;
                reply.transaction_id = Some(loan.id.to_string());
            }
            Ok(Err(message)) => reply.screen_message.push(message),
            Err(e) => reply.screen_message.push(self.desk_message(&e)),
        }
        Response::Renew(reply)
    }

    fn renew_all(&self, kiosk: &Kiosk, m: &RenewAll, now: DateTime<Utc>) -> Response {
        let mut reply = RenewAllResponse {
            ok: false,
            renewed_count: 0,
            unrenewed_count: 0,
            transaction_date: self.sip_date(now),
            institution_id: self.config.institution_id.clone(),
            renewed_items: vec![],
            unrenewed_items: vec![],
            screen_message: vec![],
            print_line: vec![],
            extra: vec![],
        };
        let card = m.patron_identifier.trim();
        if let Some(refusal) =
            self.refusal(kiosk, "This machine does not renew items.", card, m.patron_password.as_deref(), false)
        {
            reply.screen_message.push(refusal);
            return Response::RenewAll(reply);
        }
        let result = (|| -> Result<(), DeskError> {
            let Some(account) = self.db().patron_account(card)? else {
                return Err(DeskError::NotFound { what: "patron card", key: card.to_string() });
            };
            // Each renewal is its own transaction: one refused does not undo the others.
            for loan in self.db().open_loans(account.id)? {
                let Some(item) = self.db().item(loan.item_id)? else { continue };
                let barcode = item.item.barcode.clone();
                match self.desk.renew(self.db(), &barcode, now, None) {
                    Ok(_) => {
                        reply.renewed_count += 1;
                        push_limited(&mut reply.renewed_items, barcode.to_string());
                    }
                    Err(DeskError::Refused(_)) => {
                        reply.unrenewed_count += 1;
                        push_limited(&mut reply.unrenewed_items, barcode.to_string());
                    }
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        })();
        match result {
            Ok(()) => reply.ok = true,
            Err(e) => reply.screen_message.push(self.desk_message(&e)),
        }
        Response::RenewAll(reply)
    }

    fn item_information(&self, barcode: &str, now: DateTime<Utc>) -> Response {
        let mut reply = ItemInformationResponse {
            circulation_status: CirculationStatus::Other,
            security_marker: SecurityMarker::Other,
            fee_type: FeeType::OtherUnknown,
            transaction_date: self.sip_date(now),
            hold_queue_length: None,
            due_date: None,
            recall_date: None,
            hold_pickup_date: None,
            item_identifier: barcode.to_string(),
            title_identifier: String::new(),
            owner: None,
            currency_type: None,
            fee_amount: None,
            media_type: None,
            permanent_location: None,
            current_location: None,
            item_properties: None,
            screen_message: vec![],
            print_line: vec![],
            extra: vec![],
        };
        type Found = (Item, String, Vec<StoredHold>, Option<storage::loans::Loan>);
        let found = (|| -> Result<Option<Found>, storage::StorageError> {
            let Some((_, item, title)) = self.item(barcode)? else { return Ok(None) };
            let holds = self.db().record_holds(item.bib_id)?;
            let loan = self.db().open_loan_of_item(item.id)?;
            Ok(Some((item, title, holds, loan)))
        })();
        match found {
            Ok(Some((item, title, holds, loan))) => {
                let it = &item.item;
                reply.due_date = loan.map(|l| self.due_text(l.due_at));
                reply.circulation_status = circulation_status(it.status);
                reply.title_identifier = title;
                reply.owner = Some(it.home_branch.to_string());
                reply.permanent_location = Some(it.home_branch.to_string());
                reply.current_location = Some(it.holding_branch.to_string());
                reply.item_properties = it.materials_specified.clone();
                let open = holds.iter().filter(|h| h.status.is_open()).count();
                reply.hold_queue_length = Some(u32::try_from(open).unwrap_or(u32::MAX));
                reply.hold_pickup_date = holds
                    .iter()
                    .find(|h| h.trapped_item_id == Some(item.id) && h.status == HoldStatus::OnShelf)
                    .and_then(|h| h.pickup_by)
                    .map(|at| self.sip_date(at));
                if let Some(price) = it.price {
                    reply.currency_type = Some(self.config.currency);
                    reply.fee_amount = Some(price.to_string());
                    reply.fee_type = FeeType::Replacement;
                }
            }
            Ok(None) => reply.screen_message.push(format!("No item has barcode {}.", barcode.trim())),
            Err(error) => {
                tracing::error!(%error, "sip2 item information");
                reply.screen_message.push(ASK_STAFF.into());
            }
        }
        Response::ItemInformation(reply)
    }

    /// 19: the item properties (CH) are the item's "materials specified" ("3 discs + booklet"),
    /// which check-in shows; a kiosk that counts discs keeps them current.
    fn item_status_update(&self, kiosk: &Kiosk, m: &ItemStatusUpdate, now: DateTime<Utc>) -> Response {
        let mut reply = ItemStatusUpdateResponse {
            item_properties_ok: false,
            transaction_date: self.sip_date(now),
            item_identifier: m.item_identifier.clone(),
            title_identifier: None,
            item_properties: None,
            screen_message: vec![],
            print_line: vec![],
            extra: vec![],
        };
        if !kiosk.may(Permission::Circulate) {
            reply.screen_message.push("This machine does not update items.".into());
            return Response::ItemStatusUpdate(reply);
        }
        let result = (|| -> Result<Option<(String, Option<String>)>, storage::StorageError> {
            let Some((_, item, title)) = self.item(&m.item_identifier)? else { return Ok(None) };
            let mut updated = item.item.clone();
            let properties = m.item_properties.trim();
            updated.materials_specified = (!properties.is_empty()).then(|| properties.to_string());
            self.db().update_item(item.id, &updated)?;
            Ok(Some((title, updated.materials_specified)))
        })();
        match result {
            Ok(Some((title, properties))) => {
                reply.item_properties_ok = true;
                reply.title_identifier = Some(title);
                reply.item_properties = properties;
            }
            Ok(None) => reply.screen_message.push(format!("No item has barcode {}.", m.item_identifier.trim())),
            Err(e) => reply.screen_message.push(self.desk_message(&e.into())),
        }
        Response::ItemStatusUpdate(reply)
    }

    fn hold(&self, kiosk: &Kiosk, m: &Hold, now: DateTime<Utc>) -> Response {
        let mut reply = HoldResponse {
            ok: false,
            available: false,
            transaction_date: self.sip_date(now),
            expiration_date: None,
            queue_position: None,
            pickup_location: None,
            institution_id: self.config.institution_id.clone(),
            patron_identifier: m.patron_identifier.clone(),
            item_identifier: m.item_identifier.clone(),
            title_identifier: m.title_identifier.clone(),
            screen_message: vec![],
            print_line: vec![],
            extra: vec![],
        };
        let card = m.patron_identifier.trim();
        if let Some(refusal) =
            self.refusal(kiosk, "This machine does not place holds.", card, m.patron_password.as_deref(), false)
        {
            reply.screen_message.push(refusal);
            return Response::Hold(reply);
        }
        let Some(given) = m.item_identifier.as_deref().filter(|b| !b.trim().is_empty()) else {
            reply
                .screen_message
                .push("Scan an item of the title to hold (holds by title text are not offered).".into());
            return Response::Hold(reply);
        };
        let pickup = match m.pickup_location.as_deref().filter(|p| !p.trim().is_empty()) {
            None => kiosk.branch.clone(),
            Some(p) => match branch_code(p) {
                Some(code) => code,
                None => {
                    reply.screen_message.push(format!("{p:?} is not a branch code."));
                    return Response::Hold(reply);
                }
            },
        };
        let not_needed_after = m.expiration_date.map(|d| d.datetime().date());
        let outcome = (|| -> Result<Result<StoredHold, String>, DeskError> {
            let Some((barcode, item, title)) = self.item(given)? else {
                return Ok(Err(format!("No item has barcode {}.", given.trim())));
            };
            reply.title_identifier = Some(title);
            let Some(patron) = self.db().patron_account(card)? else {
                return Err(DeskError::NotFound { what: "patron card", key: card.to_string() });
            };
            let own = || -> Result<Option<StoredHold>, DeskError> {
                Ok(self
                    .db()
                    .patron_holds(patron.id)?
                    .into_iter()
                    .find(|h| h.bib_id == item.bib_id && h.status.is_open()))
            };
            let refused = |e: DeskError| match e {
                e @ (DeskError::Refused(_) | DeskError::Hold(_)) => Ok(Err(self.desk_message(&e))),
                e => Err(e),
            };
            match m.hold_mode {
                HoldMode::Add => {
                    let target = match m.hold_type {
                        Some(HoldType::SpecificCopy) => HoldTarget::Item(barcode),
                        _ => HoldTarget::Record(item.bib_id),
                    };
                    let hold =
                        NewHold { card_number: card.to_string(), target, pickup_branch: pickup, not_needed_after };
                    self.desk.place_hold(self.db(), &hold, now).map(Ok).or_else(refused)
                }
                HoldMode::Delete => match own()? {
                    Some(h) => self.desk.cancel_hold(self.db(), h.id, now).map(Ok).or_else(refused),
                    None => Ok(Err("There is no hold on this title for this card.".into())),
                },
                HoldMode::Change => match (own()?, not_needed_after) {
                    (Some(h), Some(day)) => {
                        let change = desk::HoldChange { not_needed_after: Some(Some(day)), ..Default::default() };
                        self.desk.change_hold(self.db(), h.id, &change, now).map(Ok).or_else(refused)
                    }
                    (Some(_), None) => Ok(Err("Only the expiration date of a hold can be changed here.".into())),
                    (None, _) => Ok(Err("There is no hold on this title for this card.".into())),
                },
            }
        })();
        match outcome {
            Ok(Ok(hold)) => {
                reply.ok = true;
                reply.available = hold.status == HoldStatus::OnShelf;
                reply.queue_position = u32::try_from(hold.queue_position).ok();
                reply.pickup_location = Some(hold.pickup_branch.to_string());
                reply.expiration_date =
                    hold.not_needed_after.and_then(|d| d.and_hms_opt(23, 59, 59)).map(|d| SipDate::new(d, Zone::Local));
            }
            Ok(Err(message)) => reply.screen_message.push(message),
            Err(e) => reply.screen_message.push(self.desk_message(&e)),
        }
        Response::Hold(reply)
    }

    fn fee_paid(&self, kiosk: &Kiosk, m: &FeePaid, now: DateTime<Utc>) -> Response {
        let mut reply = FeePaidResponse {
            payment_accepted: false,
            transaction_date: self.sip_date(now),
            institution_id: self.config.institution_id.clone(),
            patron_identifier: m.patron_identifier.clone(),
            transaction_id: m.transaction_id.clone(),
            screen_message: vec![],
            print_line: vec![],
            extra: vec![],
        };
        if !kiosk.may(Permission::HandleMoney) {
            reply.screen_message.push("This machine does not take payments.".into());
            return Response::FeePaid(reply);
        }
        if m.currency_type != self.config.currency {
            reply.screen_message.push(format!("Payments here are in {}.", self.config.currency));
            return Response::FeePaid(reply);
        }
        let amount = match Money::parse(&m.fee_amount) {
            Ok(a) if a > Money::from_minor(0) => a,
            _ => {
                reply.screen_message.push(format!("{:?} is not an amount of money.", m.fee_amount));
                return Response::FeePaid(reply);
            }
        };
        let method = match m.payment_type {
            PaymentType::Cash => PaymentMethod::Cash,
            _ => PaymentMethod::Card,
        };
        // CG names one charge (its row id, as 64's fine items list it); without it, oldest first.
        let charge: Option<i64> = match m.fee_identifier.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
            None => None,
            Some(f) => match f.parse() {
                Ok(row) => Some(row),
                Err(_) => {
                    reply.screen_message.push(format!("{f:?} is not a fee identifier."));
                    return Response::FeePaid(reply);
                }
            },
        };
        let note = format!(
            "Paid at self-check {}{}",
            kiosk.account.login,
            m.transaction_id.as_deref().map(|t| format!(", transaction {t}")).unwrap_or_default()
        );
        let charges = charge.map(|c| [c]);
        let by = Actor::Staff(StaffId(kiosk.account.id));
        let card = m.patron_identifier.trim();
        match desk::ledger::credit(
            self.db(),
            card,
            CreditRequest::Payment { method, keep_credit: false },
            amount,
            charges.as_ref().map(|c| &c[..]),
            by,
            &note,
            now,
        ) {
            Ok(posted) => {
                reply.payment_accepted = true;
                if reply.transaction_id.is_none() {
                    reply.transaction_id = posted.entries.first().map(|e| e.to_string());
                }
                reply.screen_message.push(format!("Thank you. Balance now {}.", posted.account.patron.balance));
            }
            Err(e) => reply.screen_message.push(self.desk_message(&e)),
        }
        Response::FeePaid(reply)
    }

    /// 01: the kiosk blocks the card (it kept a card reported lost, or saw it misused); the
    /// block is the desk's manual block, placed by the kiosk's account, and the answer is 24.
    fn block_patron(&self, kiosk: &Kiosk, m: &BlockPatron, now: DateTime<Utc>) -> Response {
        let card = m.patron_identifier.trim();
        let mut screen = vec![];
        if !kiosk.may(Permission::Circulate) {
            screen.push("This machine does not block cards.".into());
        } else {
            let message = m.blocked_card_msg.trim();
            let reason = if message.is_empty() {
                format!("Blocked at self-check {}", kiosk.account.login)
            } else {
                format!("Blocked at self-check {}: {message}", kiosk.account.login)
            };
            let request = BlockRequest { kind: BlockKind::Manual, reason, until: None };
            match self.desk.add_block(self.db(), card, &request, &kiosk.account.login, now) {
                Ok(_) => {}
                Err(PatronError::NotFound { .. }) => {}
                Err(e) => {
                    tracing::error!(error = %e, "sip2 block patron");
                    screen.push(ASK_STAFF.into());
                }
            }
        }
        Response::PatronStatus(self.patron_status(card, None, now, screen))
    }
}

/// The 1-based inclusive BP..BQ range as a 0-based half-open one, at most [`MAX_LIST_ITEMS`].
fn page(start: Option<u32>, end: Option<u32>) -> (usize, usize) {
    let first = start.unwrap_or(1).max(1);
    let last = end.unwrap_or(first + DEFAULT_LIST_ITEMS - 1).max(first).min(first + MAX_LIST_ITEMS - 1);
    (first as usize - 1, last as usize - 1)
}

/// 66's lists go out whole in one reply: past [`MAX_LIST_ITEMS`] only the counts grow.
fn push_limited(list: &mut Vec<String>, barcode: String) {
    if list.len() < MAX_LIST_ITEMS as usize {
        list.push(barcode);
    }
}

fn circulation_status(status: ItemStatus) -> CirculationStatus {
    match status {
        ItemStatus::Available => CirculationStatus::Available,
        ItemStatus::CheckedOut => CirculationStatus::Charged,
        ItemStatus::InTransit => CirculationStatus::InTransit,
        ItemStatus::OnHoldShelf => CirculationStatus::WaitingOnHoldShelf,
        ItemStatus::Lost => CirculationStatus::Lost,
        ItemStatus::Missing => CirculationStatus::Missing,
        ItemStatus::OnOrder => CirculationStatus::OnOrder,
        ItemStatus::InRepair => CirculationStatus::InProcess,
        ItemStatus::Damaged | ItemStatus::Withdrawn => CirculationStatus::Other,
    }
}

/// A local wall-clock time as an instant; in the hour a clock goes back, the earlier one.
fn local_instant(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    tz.from_local_datetime(&local).earliest().map(|d| d.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_one_based_inclusive_and_bounded() {
        assert_eq!(page(None, None), (0, 9));
        assert_eq!(page(Some(3), Some(4)), (2, 3));
        assert_eq!(page(Some(0), Some(0)), (0, 0));
        assert_eq!(page(Some(5), Some(2)), (4, 4));
        assert_eq!(page(Some(1), Some(1000)), (0, 19));
    }

    #[test]
    fn supported_messages_are_what_is_answered() {
        let s = SupportedMessages::from_commands(ANSWERED);
        assert_eq!(s.to_wire(), "YYYYYYYYYYYYNYYY");
    }
}
