//! Patrons at the desk: registration (the form's checks, duplicates, card numbers from the
//! library's pattern), updates, card renewal and replacement, blocks, finding patrons, reading
//! history, the daily anonymising of returned loans, and a school's CSV list of students.
//!
//! The settings are the `[patrons]` table of `shelfmark.toml` ([`PatronSettings`]): the card
//! number pattern, the rules of each patron category (how long a card lasts, age limits,
//! whether a guarantor is needed) and the age under which every patron needs a guarantor.

use crate::{Desk, DeskError};
use catalog::Code;
use chrono::{DateTime, NaiveDate, Utc};
use circulation::registration::{
    self, CardNumberPattern, CategoryRules, CheckDigit, DuplicateReason, FormProblem, PatronForm, Registered,
    RegistrationPolicy,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use storage::patrons::{
    BlockKind, CardChoice, CardStatus, DuplicateCandidate, HistoryChoice, NewBlock, NoticePreference, PatronBlock,
    PatronDetails, PatronQuery, PatronRecord, ReadingHistory, Registration, ReplacedCard,
};
use storage::{Database, Page, StorageError};

/// The `[patrons]` settings as the library writes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PatronSettings {
    /// Every card number starts with this (often "2" and a 4-digit library code).
    pub card_prefix: String,
    /// Total digits, prefix and check digit included.
    pub card_length: usize,
    /// `luhn` or `none`.
    pub check_digit: String,
    /// Patrons younger than this need a guarantor whatever their category.
    pub guarantor_under_age: Option<u32>,
    pub categories: BTreeMap<String, CategorySettings>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategorySettings {
    /// How long a card of the category is valid, in months.
    pub validity_months: u32,
    #[serde(default)]
    pub min_age: Option<u32>,
    #[serde(default)]
    pub max_age: Option<u32>,
    #[serde(default)]
    pub guarantor: bool,
}

impl Default for PatronSettings {
    /// The usual 14-digit Codabar card with a Luhn digit, and LIBRARY.md's categories.
    fn default() -> Self {
        let category = |validity_months, min_age, max_age, guarantor| CategorySettings {
            validity_months,
            min_age,
            max_age,
            guarantor,
        };
        let categories = [
            ("ADULT", category(36, None, None, false)),
            ("CHILD", category(24, None, Some(12), true)),
            ("YA", category(24, Some(13), Some(17), false)),
            ("SENIOR", category(36, Some(60), None, false)),
            ("STAFF", category(12, None, None, false)),
            ("FACULTY", category(12, None, None, false)),
            ("STUDENT", category(12, None, None, false)),
            ("INST", category(12, None, None, false)),
            ("PARTNER", category(12, None, None, false)),
        ];
        PatronSettings {
            card_prefix: "21234".into(),
            card_length: 14,
            check_digit: "luhn".into(),
            guarantor_under_age: Some(16),
            categories: categories.into_iter().map(|(c, s)| (c.to_string(), s)).collect(),
        }
    }
}

/// The `[patrons]` settings, checked.
#[derive(Debug, Clone)]
pub struct PatronRules {
    pub registration: RegistrationPolicy,
    pub guarantor_under_age: Option<u32>,
    /// The settings as written, which these were built from: what the staff client edits.
    pub source: PatronSettings,
}

impl Default for PatronRules {
    fn default() -> Self {
        PatronSettings::default().build().expect("the default patron settings are valid")
    }
}

impl PatronSettings {
    pub fn build(&self) -> Result<PatronRules, crate::SettingsError> {
        let err = |place: &str, message: String| crate::SettingsError { place: format!("patrons.{place}"), message };
        let check_digit = match self.check_digit.trim() {
            "luhn" => CheckDigit::Luhn,
            "none" => CheckDigit::None,
            other => return Err(err("check_digit", format!("{other:?} is not luhn or none"))),
        };
        if !self.card_prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err("card_prefix", format!("{:?} must be digits", self.card_prefix)));
        }
        let pattern = CardNumberPattern { prefix: self.card_prefix.clone(), length: self.card_length, check_digit };
        if pattern.issue(1).is_err() {
            return Err(err(
                "card_length",
                format!(
                    "{} digits leave no room for a sequence after the prefix {}",
                    self.card_length, self.card_prefix
                ),
            ));
        }
        let mut categories = BTreeMap::new();
        for (name, c) in &self.categories {
            let code = Code::parse(name).map_err(|e| err(&format!("categories.{name}"), e.to_string()))?;
            if c.validity_months == 0 {
                return Err(err(&format!("categories.{name}.validity_months"), "must be at least 1".into()));
            }
            categories.insert(
                code,
                CategoryRules {
                    validity_months: c.validity_months,
                    requires_guarantor: c.guarantor,
                    min_age: c.min_age,
                    max_age: c.max_age,
                },
            );
        }
        Ok(PatronRules {
            registration: RegistrationPolicy { card_numbers: pattern, categories },
            guarantor_under_age: self.guarantor_under_age,
            source: self.clone(),
        })
    }
}

/// A registration or update as the desk, the API or a CSV row fills it in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PatronInput {
    /// `None`: issue the next number of the library's pattern.
    pub card_number: Option<String>,
    pub surname: String,
    pub first_name: String,
    pub birth_date: Option<NaiveDate>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub category: Option<Code>,
    pub home_branch: Option<Code>,
    /// The guarantor's card number.
    pub guarantor: Option<String>,
    pub notice_preference: NoticePreference,
    pub reading_history: HistoryChoice,
}

/// A registered patron the new one probably is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    pub card_number: String,
    pub name: String,
    pub reason: DuplicateReason,
}

impl Duplicate {
    /// "Ana Lopez (card 21234000000019) has the same name and birth date".
    pub fn sentence(&self) -> String {
        let why = match self.reason {
            DuplicateReason::SameNameAndBirthDate => "has the same name and birth date",
            DuplicateReason::SameEmail => "has the same email address",
        };
        format!("{} (card {}) {why}", self.name, self.card_number)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PatronError {
    /// Problems with the form, each naming its field.
    #[error("{}", .0.iter().map(|p| format!("{}: {}", p.field, p.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FormProblem>),
    /// Probably someone already registered; staff may confirm it is someone else.
    #[error("probably already registered: {}", .0.iter().map(Duplicate::sentence).collect::<Vec<_>>().join("; "))]
    Duplicate(Vec<Duplicate>),
    #[error("card {card} was replaced on {} and no longer works", .replaced_at.format("%Y-%m-%d"))]
    CardReplaced { card: String, replaced_at: DateTime<Utc> },
    #[error("{what} {key} does not exist")]
    NotFound { what: &'static str, key: String },
    #[error(transparent)]
    Storage(StorageError),
}

fn problem(field: &'static str, code: &'static str, message: impl Into<String>) -> PatronError {
    PatronError::Invalid(vec![FormProblem { field, code, message: message.into() }])
}

/// A storage error as the desk reports it: the expected ones name their field.
fn patron_error(db: &dyn Database, e: StorageError) -> PatronError {
    match e {
        StorageError::NotFound { what: "patron card", key } => match db.card_status(&key) {
            Ok(CardStatus::Replaced { replaced_at, .. }) => PatronError::CardReplaced { card: key, replaced_at },
            _ => PatronError::NotFound { what: "patron card", key },
        },
        StorageError::NotFound { what: "guarantor card", key } => {
            problem("guarantor", "unknown_guarantor", format!("no patron has card {key}"))
        }
        // Removed from the settings since this desk checked the form (storage checks again
        // in the registration's own transaction).
        StorageError::NotFound { what: "patron category", key } => problem(
            "category",
            "unknown_category",
            format!("patron category {key} was removed from the settings: choose another"),
        ),
        StorageError::NotFound { what, key } => PatronError::NotFound { what, key },
        StorageError::Conflict { what: "card number", key } => {
            problem("card_number", "card_number_taken", format!("card {key} belongs to another patron"))
        }
        StorageError::Conflict { what: "replaced card number", key } => problem(
            "card_number",
            "card_number_replaced",
            format!("card {key} was issued before and replaced; it cannot be issued again"),
        ),
        StorageError::Constraint(m) if m.contains("branch") => problem("home_branch", "unknown_branch", m),
        StorageError::Constraint(m) if m.contains("guarantor") => problem("guarantor", "invalid_guarantor", m),
        other => PatronError::Storage(other),
    }
}

/// An unknown card at checkout: a replaced card says so, with its own refusal.
pub(crate) fn card_error(db: &dyn Database, e: StorageError) -> DeskError {
    match e {
        StorageError::NotFound { what: "patron card", key } => match db.card_status(&key) {
            Ok(CardStatus::Replaced { replaced_at, .. }) => DeskError::CardReplaced { card: key, replaced_at },
            _ => DeskError::NotFound { what: "patron card", key },
        },
        other => other.into(),
    }
}

/// The circulation crate's block, from the stored one.
pub(crate) fn block(b: &PatronBlock) -> circulation::patron::Block {
    let kind = match b.kind {
        BlockKind::Manual => circulation::patron::BlockKind::Manual { until: b.until },
        BlockKind::LostCard => circulation::patron::BlockKind::LostCard,
        BlockKind::AddressUnknown => circulation::patron::BlockKind::AddressUnknown,
    };
    circulation::patron::Block { kind, reason: b.reason.clone() }
}

fn clean(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

impl PatronRules {
    /// The form's problems (all of them) and, when there are none, the new card's expiry.
    /// `card_number` is what the form is checked with (a placeholder of the pattern when the
    /// card is to be issued).
    fn check(&self, input: &PatronInput, card_number: &str, today: NaiveDate) -> Result<NaiveDate, Vec<FormProblem>> {
        let form = self.form(input, card_number);
        let mut result = registration::check_form(&form, &self.registration, today);
        let needs_guarantor = match (self.guarantor_under_age, input.birth_date) {
            (Some(limit), Some(birth)) => birth <= today && registration::age_on(birth, today) < limit,
            _ => false,
        };
        if needs_guarantor && form.guarantor.is_none() {
            let extra = FormProblem {
                field: "guarantor",
                code: "guarantor_required",
                message: format!(
                    "a patron under {} needs a guarantor (a parent or carer's card number)",
                    self.guarantor_under_age.unwrap_or_default()
                ),
            };
            match &mut result {
                Err(problems) if problems.iter().any(|p| p.code == "guarantor_required") => {}
                Err(problems) => problems.push(extra),
                Ok(_) => result = Err(vec![extra]),
            }
        }
        result
    }

    fn form(&self, input: &PatronInput, card_number: &str) -> PatronForm {
        PatronForm {
            card_number: card_number.to_string(),
            surname: input.surname.trim().to_string(),
            first_name: input.first_name.trim().to_string(),
            birth_date: input.birth_date,
            email: clean(&input.email),
            category: input.category.clone(),
            home_branch: input.home_branch.clone(),
            guarantor: clean(&input.guarantor),
        }
    }

    fn details(&self, input: &PatronInput, expiry_date: NaiveDate) -> Result<PatronDetails, PatronError> {
        let (Some(category), Some(home_branch)) = (input.category.clone(), input.home_branch.clone()) else {
            return Err(problem("category", "missing_field", "category and home_branch are required"));
        };
        let email = clean(&input.email);
        Ok(PatronDetails {
            surname: input.surname.trim().to_string(),
            first_name: input.first_name.trim().to_string(),
            category,
            home_branch,
            expiry_date,
            birth_date: input.birth_date,
            email: email.clone(),
            phone: clean(&input.phone),
            address: clean(&input.address),
            guarantor: clean(&input.guarantor),
            notice_preference: input.notice_preference,
            reading_history: input.reading_history,
            name_key: registration::name_key(&input.surname, &input.first_name, input.birth_date),
            email_key: registration::email_key(email.as_deref()),
        })
    }

    /// The number the form is checked with: the one given, or the pattern's first (any valid
    /// number will do: storage issues the real one).
    fn card_for_check(&self, input: &PatronInput) -> String {
        match clean(&input.card_number) {
            Some(c) => c,
            None => self.registration.card_numbers.issue(1).unwrap_or_default(),
        }
    }

    fn duplicates(&self, input: &PatronInput, card: &str, found: &[DuplicateCandidate]) -> Vec<Duplicate> {
        let form = self.form(input, card);
        let registered: Vec<Registered> = found
            .iter()
            .map(|c| Registered {
                card_number: c.card_number.clone(),
                name_key: c.name_key.clone(),
                email_key: c.email_key.clone(),
            })
            .collect();
        registration::duplicates(&form, &registered)
            .into_iter()
            .map(|(r, reason)| {
                let c = found.iter().find(|c| c.card_number == r.card_number);
                Duplicate {
                    card_number: r.card_number.clone(),
                    name: c.map(|c| format!("{} {}", c.first_name, c.surname)).unwrap_or_default(),
                    reason,
                }
            })
            .collect()
    }
}

/// A block to place, as staff ask for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockRequest {
    pub kind: BlockKind,
    pub reason: String,
    pub until: Option<NaiveDate>,
}

impl Desk {
    fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.circulation().time_zone).date_naive()
    }

    /// Registers a patron. A probable duplicate (same name and birth date, or same email) is
    /// refused naming who it duplicates, unless staff `confirmed` it is someone else.
    pub fn register_patron(
        &self,
        db: &dyn Database,
        input: &PatronInput,
        confirmed: bool,
        now: DateTime<Utc>,
    ) -> Result<PatronRecord, PatronError> {
        let rules = self.patron_rules();
        let card = self.card_for_check(input);
        let expiry = rules.check(input, &card, self.today(now)).map_err(PatronError::Invalid)?;
        let details = rules.details(input, expiry)?;
        let pattern = &rules.registration.card_numbers;
        let issue = |n: u64| pattern.issue(n).ok();
        let choice = match clean(&input.card_number) {
            Some(_) => CardChoice::Given(&card),
            None => CardChoice::Issue(&issue),
        };
        match db.register_patron(&details, choice, confirmed, now).map_err(|e| patron_error(db, e))? {
            Registration::Registered(p) => Ok(*p),
            Registration::Duplicates(found) => {
                let mut dups = rules.duplicates(input, &card, &found);
                if dups.is_empty() {
                    // Storage matched a key the pure check did not (it should not happen): name them all.
                    dups = found
                        .iter()
                        .map(|c| Duplicate {
                            card_number: c.card_number.clone(),
                            name: format!("{} {}", c.first_name, c.surname),
                            reason: if c.email_key.is_some() && c.email_key == details.email_key {
                                DuplicateReason::SameEmail
                            } else {
                                DuplicateReason::SameNameAndBirthDate
                            },
                        })
                        .collect();
                }
                Err(PatronError::Duplicate(dups))
            }
        }
    }

    fn card_for_check(&self, input: &PatronInput) -> String {
        self.patron_rules().card_for_check(input)
    }

    pub fn patron(&self, db: &dyn Database, card: &str) -> Result<PatronRecord, PatronError> {
        match db.patron_record(card).map_err(|e| patron_error(db, e))? {
            Some(p) => Ok(p),
            None => Err(patron_error(db, StorageError::NotFound { what: "patron card", key: card.trim().to_string() })),
        }
    }

    /// Rewrites the patron's details after the same checks as registration (but the card
    /// number and the expiry stay: see [`Desk::replace_card`] and [`Desk::renew_card`]).
    pub fn update_patron(
        &self,
        db: &dyn Database,
        card: &str,
        input: &PatronInput,
        now: DateTime<Utc>,
    ) -> Result<PatronRecord, PatronError> {
        let current = self.patron(db, card)?;
        let rules = self.patron_rules();
        let checked = rules.check(input, &rules.card_for_check(&PatronInput::default()), self.today(now));
        if let Err(problems) = checked {
            // The card is not changed here, so an older card outside today's pattern is fine.
            let problems: Vec<FormProblem> = problems.into_iter().filter(|p| p.field != "card_number").collect();
            if !problems.is_empty() {
                return Err(PatronError::Invalid(problems));
            }
        }
        let details = rules.details(input, current.details.expiry_date)?;
        db.update_patron(card, &details, now).map_err(|e| patron_error(db, e))
    }

    /// Renews the card by its category's validity, from the later of today and the old expiry.
    pub fn renew_card(&self, db: &dyn Database, card: &str, now: DateTime<Utc>) -> Result<PatronRecord, PatronError> {
        let today = self.today(now);
        let rules = self.patron_rules();
        let categories = &rules.registration.categories;
        let mut refused = None;
        let renewed = db
            .renew_card(card, now, &mut |p| match categories.get(&p.details.category) {
                Some(rules) => registration::renewed_expiry(p.details.expiry_date, rules, today),
                None => {
                    refused = Some(problem(
                        "category",
                        "unknown_category",
                        format!(
                            "patron category {} has no rules: change the patron's category first",
                            p.details.category
                        ),
                    ));
                    None
                }
            })
            .map_err(|e| patron_error(db, e))?;
        match (renewed, refused) {
            (Some(p), _) => Ok(p),
            (None, Some(e)) => Err(e),
            (None, None) => Err(PatronError::Storage(StorageError::Other("the renewal was not decided".into()))),
        }
    }

    /// Gives the patron a new card (the given number, or the next issued); the old one stops
    /// working. Loans, fines and history stay with the patron.
    pub fn replace_card(
        &self,
        db: &dyn Database,
        card: &str,
        new_card: Option<&str>,
        staff: &str,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<PatronRecord, PatronError> {
        let rules = self.patron_rules();
        let pattern = &rules.registration.card_numbers;
        let issue = |n: u64| pattern.issue(n).ok();
        let choice = match new_card.map(str::trim).filter(|c| !c.is_empty()) {
            Some(n) => {
                pattern.validate(n).map_err(|e| problem("card_number", "invalid_card_number", e.to_string()))?;
                CardChoice::Given(n)
            }
            None => CardChoice::Issue(&issue),
        };
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        db.replace_card(card, choice, staff, reason, now).map_err(|e| patron_error(db, e))
    }

    pub fn replaced_cards(&self, db: &dyn Database, card: &str) -> Result<Vec<ReplacedCard>, PatronError> {
        db.replaced_cards(card).map_err(|e| patron_error(db, e))
    }

    pub fn add_block(
        &self,
        db: &dyn Database,
        card: &str,
        request: &BlockRequest,
        staff: &str,
        now: DateTime<Utc>,
    ) -> Result<PatronBlock, PatronError> {
        let reason = request.reason.trim().to_string();
        if request.kind == BlockKind::Manual && reason.is_empty() {
            return Err(problem("reason", "missing_field", "a manual block needs a reason the clerk can read out"));
        }
        if request.kind != BlockKind::Manual && request.until.is_some() {
            return Err(problem("until", "invalid_date", "only a manual block has an end date"));
        }
        if let Some(until) = request.until {
            if until < self.today(now) {
                return Err(problem("until", "invalid_date", format!("the end date {until} is already past")));
            }
        }
        let block = NewBlock { kind: request.kind, reason, until: request.until };
        db.add_block(card, &block, staff, now).map_err(|e| patron_error(db, e))
    }

    pub fn lift_block(
        &self,
        db: &dyn Database,
        card: &str,
        block: i64,
        staff: &str,
        now: DateTime<Utc>,
    ) -> Result<PatronBlock, PatronError> {
        db.lift_block(card, block, staff, now).map_err(|e| patron_error(db, e))
    }

    pub fn blocks(&self, db: &dyn Database, card: &str) -> Result<Vec<PatronBlock>, PatronError> {
        db.blocks(card).map_err(|e| patron_error(db, e))
    }

    pub fn find_patrons(
        &self,
        db: &dyn Database,
        query: &PatronQuery,
        page: Page,
    ) -> Result<Vec<PatronRecord>, PatronError> {
        db.find_patrons(query, page).map_err(PatronError::Storage)
    }

    pub fn reading_history(&self, db: &dyn Database, card: &str, page: Page) -> Result<ReadingHistory, PatronError> {
        db.reading_history(card, page).map_err(|e| patron_error(db, e))
    }

    /// The daily job: loans returned before `before` by patrons who did not choose to keep
    /// their history lose their patron. Running it again changes nothing.
    pub fn anonymise_returned_loans(
        &self,
        db: &dyn Database,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, PatronError> {
        db.anonymise_returned_loans(before, now).map_err(PatronError::Storage)
    }
}

// ---------------------------------------------------------------------------------------------
// Patron passwords: the PIN a self-check kiosk asks for (SIP2 AD, answered by CQ), and later the
// OPAC's sign-in. Hashed with argon2id like staff passwords; the rules are a PIN's, not a staff
// password's, since patrons type them on a kiosk's keypad.

/// The shortest patron password: a four-digit PIN, what kiosks' keypads expect.
pub const MIN_PATRON_PASSWORD_CHARS: usize = 4;
/// The longest, in characters: enough for a passphrase, and within SIP2's 255-byte field.
pub const MAX_PATRON_PASSWORD_CHARS: usize = 64;

/// What a patron password check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatronPassword {
    /// The patron has no password (SIP2 answers CQ N to any password sent).
    NotSet,
    Valid,
    Invalid,
}

impl Desk {
    /// Sets the patron's password, or clears it with `None`. A password is 4 to 64 characters,
    /// none of them a control character or `|` (which SIP2 cannot carry in a field).
    pub fn set_patron_password(
        &self,
        db: &dyn Database,
        card: &str,
        password: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), PatronError> {
        let hash = match password {
            None => None,
            Some(p) => {
                let chars = p.chars().count();
                if chars < MIN_PATRON_PASSWORD_CHARS {
                    return Err(problem(
                        "password",
                        "password_too_short",
                        format!("a patron password has at least {MIN_PATRON_PASSWORD_CHARS} characters"),
                    ));
                }
                if chars > MAX_PATRON_PASSWORD_CHARS {
                    return Err(problem(
                        "password",
                        "password_too_long",
                        format!("a patron password has at most {MAX_PATRON_PASSWORD_CHARS} characters"),
                    ));
                }
                if p.chars().any(|c| c.is_control() || c == '|') {
                    return Err(problem(
                        "password",
                        "invalid_password",
                        "a patron password cannot hold control characters or '|' (self-check kiosks cannot send them)",
                    ));
                }
                let hash = accounts::hash_password(p)
                    .map_err(|e| PatronError::Storage(StorageError::Other(format!("hashing the password: {e}"))))?;
                Some(hash)
            }
        };
        db.set_patron_password(card, hash.as_deref(), now).map_err(|e| patron_error(db, e))
    }

    /// Checks a patron's password. An unknown card is [`PatronError::NotFound`] (or
    /// [`PatronError::CardReplaced`]).
    pub fn verify_patron_password(
        &self,
        db: &dyn Database,
        card: &str,
        password: &str,
    ) -> Result<PatronPassword, PatronError> {
        match db.patron_password_hash(card).map_err(|e| patron_error(db, e))? {
            None => Ok(PatronPassword::NotSet),
            Some(hash) if accounts::verify_password(password, &hash) => Ok(PatronPassword::Valid),
            Some(_) => Ok(PatronPassword::Invalid),
        }
    }

    /// What stops the patron borrowing today, whatever the item (card expired, blocks, fines,
    /// overdues): the same refusals a checkout would give, for a kiosk's patron status.
    pub fn patron_standing(
        &self,
        account: &storage::loans::PatronAccount,
        overdue_loans: u32,
        now: DateTime<Utc>,
    ) -> Vec<circulation::Refusal> {
        let snapshot = crate::patron_snapshot(account, overdue_loans);
        circulation::patron_refusals(&snapshot, &self.circulation().policy, self.today(now))
    }
}

// ---------------------------------------------------------------------------------------------
// CSV import.

/// What became of one row of a CSV import. Rows are numbered as a spreadsheet shows them: the
/// header is row 1, the first patron row 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowReport {
    pub row: u64,
    pub outcome: RowOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    Registered {
        card_number: String,
    },
    /// A dry run: the row would be registered.
    WouldRegister,
    /// Probably a patron already registered: not registered again.
    Duplicate {
        card_number: String,
    },
    /// Probably the same person as an earlier row of a dry run.
    DuplicateOfRow(u64),
    Refused(Vec<FormProblem>),
}

impl std::fmt::Display for RowReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "row {}: ", self.row)?;
        match &self.outcome {
            RowOutcome::Registered { card_number } => write!(f, "registered as card {card_number}"),
            RowOutcome::WouldRegister => write!(f, "would be registered"),
            RowOutcome::Duplicate { card_number } => write!(f, "duplicate of card {card_number}"),
            RowOutcome::DuplicateOfRow(row) => write!(f, "duplicate of row {row}"),
            RowOutcome::Refused(problems) => {
                let list: Vec<String> = problems.iter().map(|p| format!("field {}: {}", p.field, p.message)).collect();
                write!(f, "refused: {}", list.join("; "))
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("the CSV file has no header row")]
    NoHeader,
    #[error("the CSV header has an unknown column {0:?} (known: {known})", known = COLUMNS.join(", "))]
    UnknownColumn(String),
    #[error("the CSV header names column {0:?} twice")]
    RepeatedColumn(String),
    #[error("the CSV header lacks the column {0:?}")]
    MissingColumn(&'static str),
    #[error("the CSV file cannot be read: {0}")]
    Read(String),
}

/// The columns a CSV file may have, by header name (any order, any case).
pub const COLUMNS: [&str; 12] = [
    "card_number",
    "surname",
    "first_name",
    "birth_date",
    "email",
    "phone",
    "address",
    "category",
    "home_branch",
    "guarantor",
    "notice_preference",
    "reading_history",
];

/// A row's text as an input form, or the problems with it.
fn row_input(get: &dyn Fn(&str) -> Option<String>) -> Result<PatronInput, Vec<FormProblem>> {
    let mut problems = Vec::new();
    let mut input = PatronInput {
        card_number: get("card_number"),
        surname: get("surname").unwrap_or_default(),
        first_name: get("first_name").unwrap_or_default(),
        email: get("email"),
        phone: get("phone"),
        address: get("address"),
        guarantor: get("guarantor"),
        ..PatronInput::default()
    };
    if let Some(d) = get("birth_date") {
        match NaiveDate::parse_from_str(&d, "%Y-%m-%d") {
            Ok(date) => input.birth_date = Some(date),
            Err(_) => problems.push(FormProblem {
                field: "birth_date",
                code: "invalid_date",
                message: format!("{d:?} is not a date (YYYY-MM-DD)"),
            }),
        }
    }
    for (field, slot) in [("category", &mut input.category), ("home_branch", &mut input.home_branch)] {
        if let Some(v) = get(field) {
            match Code::parse(&v) {
                Ok(c) => *slot = Some(c),
                Err(e) => problems.push(FormProblem { field, code: "invalid_code", message: e.to_string() }),
            }
        }
    }
    if let Some(v) = get("notice_preference") {
        match NoticePreference::parse(&v) {
            Some(p) => input.notice_preference = p,
            None => problems.push(FormProblem {
                field: "notice_preference",
                code: "invalid_notice_preference",
                message: format!("{v:?} is not email, sms or print"),
            }),
        }
    }
    if let Some(v) = get("reading_history") {
        match HistoryChoice::parse(&v) {
            Some(h) => input.reading_history = h,
            None => problems.push(FormProblem {
                field: "reading_history",
                code: "invalid_reading_history",
                message: format!("{v:?} is not keep, default or never"),
            }),
        }
    }
    if problems.is_empty() {
        Ok(input)
    } else {
        Err(problems)
    }
}

impl Desk {
    /// Imports patrons from CSV with a header row naming the columns ([`COLUMNS`]). Each row is
    /// registered in its own transaction; a bad row is reported and the rest go on. Probable
    /// duplicates are reported, never registered. `dry_run` checks every row (against the
    /// database too) and writes nothing. `progress` is called after each row with its number.
    pub fn import_patrons_csv(
        &self,
        db: &dyn Database,
        csv_text: impl std::io::Read,
        dry_run: bool,
        now: DateTime<Utc>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Vec<RowReport>, CsvError> {
        let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(csv_text);
        let headers = reader.headers().map_err(|e| CsvError::Read(e.to_string()))?.clone();
        if headers.is_empty() || headers.iter().all(str::is_empty) {
            return Err(CsvError::NoHeader);
        }
        let mut index: HashMap<&'static str, usize> = HashMap::new();
        for (i, h) in headers.iter().enumerate() {
            let name = h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase().replace([' ', '-'], "_");
            let Some(known) = COLUMNS.iter().find(|c| **c == name) else {
                return Err(CsvError::UnknownColumn(h.to_string()));
            };
            if index.insert(known, i).is_some() {
                return Err(CsvError::RepeatedColumn(h.to_string()));
            }
        }
        for required in ["surname", "first_name"] {
            if !index.contains_key(required) {
                return Err(CsvError::MissingColumn(required));
            }
        }
        let mut reports = Vec::new();
        // In a dry run nothing is written, so rows are also compared with the rows before them.
        let mut seen_keys: HashMap<String, u64> = HashMap::new();
        let rules = self.patron_rules();
        for (i, record) in reader.records().enumerate() {
            let row = i as u64 + 2;
            let outcome = match record {
                Err(e) => RowOutcome::Refused(vec![FormProblem {
                    field: "row",
                    code: "unreadable_row",
                    message: format!("the row cannot be read: {e}"),
                }]),
                Ok(record) => {
                    let get = |name: &str| -> Option<String> {
                        index
                            .get(name)
                            .and_then(|i| record.get(*i))
                            .map(str::trim)
                            .filter(|v| !v.is_empty())
                            .map(str::to_string)
                    };
                    match row_input(&get) {
                        Err(problems) => RowOutcome::Refused(problems),
                        Ok(input) if dry_run => self.dry_run_row(db, &rules, &input, row, &mut seen_keys, now),
                        Ok(input) => match self.register_patron(db, &input, false, now) {
                            Ok(p) => RowOutcome::Registered { card_number: p.card_number },
                            Err(PatronError::Duplicate(d)) => RowOutcome::Duplicate {
                                card_number: d.first().map(|d| d.card_number.clone()).unwrap_or_default(),
                            },
                            Err(PatronError::Invalid(problems)) => RowOutcome::Refused(problems),
                            Err(e) => RowOutcome::Refused(vec![FormProblem {
                                field: "row",
                                code: "not_registered",
                                message: e.to_string(),
                            }]),
                        },
                    }
                }
            };
            reports.push(RowReport { row, outcome });
            progress(row);
        }
        Ok(reports)
    }

    fn dry_run_row(
        &self,
        db: &dyn Database,
        rules: &PatronRules,
        input: &PatronInput,
        row: u64,
        seen: &mut HashMap<String, u64>,
        now: DateTime<Utc>,
    ) -> RowOutcome {
        let card = rules.card_for_check(input);
        let mut problems = match rules.check(input, &card, self.today(now)) {
            Ok(_) => Vec::new(),
            Err(p) => p,
        };
        let refused = |e: StorageError| {
            RowOutcome::Refused(vec![FormProblem { field: "row", code: "not_checked", message: e.to_string() }])
        };
        if let Some(g) = clean(&input.guarantor) {
            match db.patron_record(&g) {
                Ok(Some(_)) => {}
                Ok(None) => problems.push(FormProblem {
                    field: "guarantor",
                    code: "unknown_guarantor",
                    message: format!("no patron has card {g}"),
                }),
                Err(e) => return refused(e),
            }
        }
        if let Some(b) = &input.home_branch {
            match db.branch(b) {
                Ok(Some(_)) => {}
                Ok(None) => problems.push(FormProblem {
                    field: "home_branch",
                    code: "unknown_branch",
                    message: format!("branch {b} does not exist"),
                }),
                Err(e) => return refused(e),
            }
        }
        if let Some(c) = clean(&input.card_number) {
            match db.card_status(&c) {
                Ok(CardStatus::Unknown) => {}
                Ok(_) => problems.push(FormProblem {
                    field: "card_number",
                    code: "card_number_taken",
                    message: format!("card {c} belongs to another patron"),
                }),
                Err(e) => return refused(e),
            }
        }
        if !problems.is_empty() {
            return RowOutcome::Refused(problems);
        }
        let Ok(details) = rules.details(input, NaiveDate::MIN) else { return RowOutcome::WouldRegister };
        match db.duplicate_candidates(&details) {
            Ok(found) => {
                if let Some(d) = rules.duplicates(input, &card, &found).first() {
                    return RowOutcome::Duplicate { card_number: d.card_number.clone() };
                }
            }
            Err(e) => return refused(e),
        }
        let keys = [details.name_key.map(|k| format!("n:{k}")), details.email_key.map(|k| format!("e:{k}"))];
        for key in keys.iter().flatten() {
            if let Some(earlier) = seen.get(key) {
                return RowOutcome::DuplicateOfRow(*earlier);
            }
        }
        for key in keys.into_iter().flatten() {
            seen.insert(key, row);
        }
        RowOutcome::WouldRegister
    }
}
