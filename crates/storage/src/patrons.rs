//! Patrons: registration, blocks, guarantors, preferences, card replacement, reading history.
//!
//! The trait is implemented by both backends (`sqlite/patrons.rs`, `postgres/patrons.rs`) and is a
//! supertrait of [`crate::Database`], so `dyn Database` offers its methods.
//!
//! Storage does not decide: the desk checks the form (the `circulation` crate's registration
//! rules) and computes the duplicate keys; storage finds the patrons sharing a key, issues card
//! numbers from a sequence, and writes, each operation in one transaction.
//!
//! A replaced card's number is kept in `patron_cards`, so it keeps refusing with its own reason
//! and can never be issued again; loans, the ledger and history key on the patron id, so they
//! follow the patron to the new card.
//!
//! Returned loans of patrons who did not choose to keep their history are handed to one
//! anonymous patron row ([`PatronStore::anonymise_returned_loans`]): `loans.patron_id` is NOT
//! NULL (0003) and SQLite cannot relax that without rebuilding a table other tables point at,
//! so the loan keeps its item, branch and dates for statistics and loses only who borrowed it.

use crate::{LoanId, Page, PatronId, Result};
use catalog::{Code, Money};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// How the patron wants their notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticePreference {
    #[default]
    Email,
    Sms,
    Print,
}

impl NoticePreference {
    pub const ALL: [NoticePreference; 3] = [NoticePreference::Email, NoticePreference::Sms, NoticePreference::Print];

    pub fn as_str(self) -> &'static str {
        match self {
            NoticePreference::Email => "email",
            NoticePreference::Sms => "sms",
            NoticePreference::Print => "print",
        }
    }

    pub fn parse(s: &str) -> Option<NoticePreference> {
        Self::ALL.into_iter().find(|p| p.as_str() == s.trim().to_ascii_lowercase())
    }
}

/// The patron's choice about their reading history. The library's default is not to keep it
/// (LIBRARY.md, Privacy): only `Keep` keeps returned loans linked to the patron.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryChoice {
    Keep,
    #[default]
    Default,
    Never,
}

impl HistoryChoice {
    pub const ALL: [HistoryChoice; 3] = [HistoryChoice::Keep, HistoryChoice::Default, HistoryChoice::Never];

    pub fn as_str(self) -> &'static str {
        match self {
            HistoryChoice::Keep => "keep",
            HistoryChoice::Default => "default",
            HistoryChoice::Never => "never",
        }
    }

    pub fn parse(s: &str) -> Option<HistoryChoice> {
        Self::ALL.into_iter().find(|p| p.as_str() == s.trim().to_ascii_lowercase())
    }

    pub fn keeps(self) -> bool {
        self == HistoryChoice::Keep
    }
}

/// Everything about a patron that registration and updates write. `name_key` and `email_key`
/// are the duplicate keys (`circulation::registration::name_key` / `email_key`), computed by
/// the caller from the same form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatronDetails {
    pub surname: String,
    pub first_name: String,
    pub category: Code,
    pub home_branch: Code,
    /// The last day the card is valid.
    pub expiry_date: NaiveDate,
    pub birth_date: Option<NaiveDate>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    /// The guarantor's current card number.
    pub guarantor: Option<String>,
    pub notice_preference: NoticePreference,
    pub reading_history: HistoryChoice,
    pub name_key: Option<String>,
    pub email_key: Option<String>,
}

/// A stored patron.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatronRecord {
    pub id: PatronId,
    pub card_number: String,
    pub details: PatronDetails,
    pub registered_at: DateTime<Utc>,
    /// The sum of the patron's ledger entries.
    pub balance: Money,
}

/// Where a new card number comes from.
#[derive(Clone, Copy)]
pub enum CardChoice<'a> {
    /// Staff typed or scanned it (already validated against the pattern by the caller).
    Given(&'a str),
    /// The next number of the library's sequence: the function makes the `n`-th number of the
    /// pattern, `None` when the pattern has no more. Numbers already in use are skipped.
    Issue(&'a dyn Fn(u64) -> Option<String>),
}

/// A registered patron sharing a duplicate key with a new registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateCandidate {
    pub card_number: String,
    pub surname: String,
    pub first_name: String,
    pub name_key: Option<String>,
    pub email_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registration {
    Registered(Box<PatronRecord>),
    /// Nothing was written: these patrons share the name and birth date or the email, and the
    /// caller did not confirm that the new patron is someone else.
    Duplicates(Vec<DuplicateCandidate>),
}

/// What a card number is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardStatus {
    Current(PatronId),
    /// The number was replaced by another card: it no longer works.
    Replaced {
        patron: PatronId,
        replaced_at: DateTime<Utc>,
    },
    Unknown,
}

/// A card the patron had before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplacedCard {
    pub card_number: String,
    pub replaced_at: DateTime<Utc>,
    pub replaced_by: String,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    /// A debarment; `until` is its last day, or none until lifted.
    Manual,
    LostCard,
    AddressUnknown,
}

impl BlockKind {
    pub const ALL: [BlockKind; 3] = [BlockKind::Manual, BlockKind::LostCard, BlockKind::AddressUnknown];

    pub fn as_str(self) -> &'static str {
        match self {
            BlockKind::Manual => "manual",
            BlockKind::LostCard => "lost_card",
            BlockKind::AddressUnknown => "address_unknown",
        }
    }

    pub fn parse(s: &str) -> Option<BlockKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBlock {
    pub kind: BlockKind,
    pub reason: String,
    /// The last day a manual block applies.
    pub until: Option<NaiveDate>,
}

/// A block, lifted or not: lifted blocks are kept, so the patron's record shows what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatronBlock {
    pub id: i64,
    pub kind: BlockKind,
    pub reason: String,
    pub until: Option<NaiveDate>,
    pub placed_at: DateTime<Utc>,
    pub placed_by: String,
    pub lifted: Option<(DateTime<Utc>, String)>,
}

/// Finding patrons: by card (exact), by the start of "surname first name" (case-insensitive),
/// by email (case-insensitive) or phone (exact), or all; in id order, keyset paged.
#[derive(Debug, Clone, Default)]
pub struct PatronQuery {
    pub card: Option<String>,
    pub name_prefix: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// A returned loan in a patron's kept history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub loan_id: LoanId,
    pub barcode: String,
    pub title: String,
    pub checked_out_at: DateTime<Utc>,
    pub returned_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadingHistory {
    /// The patron did not choose to keep their history: nothing is shown, even if some returned
    /// loans are not anonymised yet.
    NotKept,
    /// Most recent first; keyset paged by loan id (`page.after` 0 starts at the newest).
    Kept(Vec<HistoryEntry>),
}

/// A patron signed in to the OPAC (`patron_sessions`, 0012).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatronSession {
    pub patron_id: PatronId,
    /// The patron's current card (a session outlives a card replacement: it names the patron).
    pub card_number: String,
    pub expires_at: DateTime<Utc>,
}

/// Patrons: registration, blocks, guarantors, preferences, card replacement.
/// [`crate::StorageError::NotFound`] names `"patron card"` for an unknown card and
/// `"guarantor card"` for an unknown guarantor; [`crate::StorageError::Conflict`] names
/// `"card number"` for a number in use and `"replaced card number"` for a number once issued.
pub trait PatronStore {
    /// Registers a patron unless patrons share its name key or email key (and `confirmed` is
    /// false), in one transaction with the duplicate search, so two clerks registering the
    /// same person at once cannot both miss each other.
    fn register_patron(
        &self,
        details: &PatronDetails,
        card: CardChoice<'_>,
        confirmed: bool,
        now: DateTime<Utc>,
    ) -> Result<Registration>;
    /// The patrons sharing `details`' name key or email key (what registration would refuse).
    fn duplicate_candidates(&self, details: &PatronDetails) -> Result<Vec<DuplicateCandidate>>;
    /// The patron with this current card.
    fn patron_record(&self, card: &str) -> Result<Option<PatronRecord>>;
    fn card_status(&self, card: &str) -> Result<CardStatus>;
    /// Rewrites the patron's details (not the card number or the expiry: see renewal).
    fn update_patron(&self, card: &str, details: &PatronDetails, now: DateTime<Utc>) -> Result<PatronRecord>;
    /// Renews the card: `decide` gets the patron as stored and says the new expiry (or `None`:
    /// nothing is written).
    fn renew_card(
        &self,
        card: &str,
        now: DateTime<Utc>,
        decide: &mut dyn FnMut(&PatronRecord) -> Option<NaiveDate>,
    ) -> Result<Option<PatronRecord>>;
    /// Gives the patron a new card; the old number is kept as replaced and stops working.
    fn replace_card(
        &self,
        card: &str,
        new_card: CardChoice<'_>,
        staff: &str,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<PatronRecord>;
    /// The cards the patron had before the current one, newest first.
    fn replaced_cards(&self, card: &str) -> Result<Vec<ReplacedCard>>;
    fn add_block(&self, card: &str, block: &NewBlock, staff: &str, now: DateTime<Utc>) -> Result<PatronBlock>;
    /// Lifts a block (kept, marked lifted); lifting it again changes nothing.
    fn lift_block(&self, card: &str, block: i64, staff: &str, now: DateTime<Utc>) -> Result<PatronBlock>;
    /// Every block of the patron, lifted ones too, oldest first.
    fn blocks(&self, card: &str) -> Result<Vec<PatronBlock>>;
    fn find_patrons(&self, query: &PatronQuery, page: Page) -> Result<Vec<PatronRecord>>;
    /// The patrons whose guarantor is the patron with this card, at most `limit`, in id order.
    fn dependants(&self, card: &str, limit: u32) -> Result<Vec<PatronRecord>>;
    fn reading_history(&self, card: &str, page: Page) -> Result<ReadingHistory>;
    /// Hands the loans returned before `before`, of patrons who did not choose to keep their
    /// history, to the anonymous patron. Returns how many loans it anonymised: running it
    /// again changes nothing.
    fn anonymise_returned_loans(&self, before: DateTime<Utc>, now: DateTime<Utc>) -> Result<u64>;
    /// Sets (an argon2id PHC string) or clears (`None`) the patron's password, the PIN a
    /// self-check kiosk asks for. The caller hashes: storage never sees the password.
    fn set_patron_password(&self, card: &str, password_hash: Option<&str>, now: DateTime<Utc>) -> Result<()>;
    /// The patron's password hash; `None` when the patron has none. An unknown card is
    /// [`crate::StorageError::NotFound`].
    fn patron_password_hash(&self, card: &str) -> Result<Option<String>>;
    /// Starts an OPAC session for the card's patron, stored by the SHA-256 of its token (the
    /// caller makes both), and drops that patron's sessions that have expired.
    fn create_patron_session(
        &self,
        card: &str,
        token_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()>;
    /// The live session with this token hash; its expiry moves forward to `extend_to` (the idle
    /// timeout counts from the last use). `None` for an unknown or expired token.
    fn patron_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        extend_to: DateTime<Utc>,
    ) -> Result<Option<PatronSession>>;
    /// Ends the session (log-out); whether there was one.
    fn end_patron_session(&self, token_hash: &str) -> Result<bool>;
}

/// The anonymous patron's card number: blank, which no card reader or form produces.
pub(crate) const ANONYMOUS_CARD: &str = "";
