//! Holds: the queue per record, the hold shelf, transits and the pull list.
//!
//! The trait is implemented by both backends (`sqlite/holds.rs`, `postgres/holds.rs`) and is a
//! supertrait of [`crate::Database`], so `dyn Database` offers its methods.
//!
//! As for loans, storage does not decide: each write opens one transaction, locks what the
//! decision depends on (the patron for a placement, the trapped copies and the record's queue
//! for a queue change), reads a context, asks the caller's closure, and writes what it returned
//! or nothing. Check-in, checkout and renewal read the record's queue under the copy's lock in
//! their own transactions ([`crate::loans`]).

use crate::loans::PatronAccount;
use crate::{BibId, ItemId, PatronId};
use catalog::inventory::ShelfItem;
use catalog::{Barcode, Code, Item, ItemStatus};
use chrono::{DateTime, NaiveDate, Utc};

pub type HoldId = i64;
pub type TransitId = i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HoldStatus {
    Waiting,
    Suspended,
    InTransit,
    OnShelf,
    Filled,
    Cancelled,
    Expired,
}

impl HoldStatus {
    pub const OPEN: [HoldStatus; 4] =
        [HoldStatus::Waiting, HoldStatus::Suspended, HoldStatus::InTransit, HoldStatus::OnShelf];

    pub fn as_str(self) -> &'static str {
        match self {
            HoldStatus::Waiting => "waiting",
            HoldStatus::Suspended => "suspended",
            HoldStatus::InTransit => "in_transit",
            HoldStatus::OnShelf => "on_shelf",
            HoldStatus::Filled => "filled",
            HoldStatus::Cancelled => "cancelled",
            HoldStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<HoldStatus> {
        [
            HoldStatus::Waiting,
            HoldStatus::Suspended,
            HoldStatus::InTransit,
            HoldStatus::OnShelf,
            HoldStatus::Filled,
            HoldStatus::Cancelled,
            HoldStatus::Expired,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }

    pub fn is_open(self) -> bool {
        HoldStatus::OPEN.contains(&self)
    }
}

/// A hold as stored, with what the rule matrix needs of its patron.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredHold {
    pub id: HoldId,
    pub patron_id: PatronId,
    pub card_number: String,
    pub patron_category: Code,
    pub patron_home_branch: Code,
    pub bib_id: BibId,
    /// `Some` for an item-level hold.
    pub item_id: Option<ItemId>,
    pub pickup_branch: Code,
    pub placed_at: DateTime<Utc>,
    /// Queue order within the record (ties broken by id).
    pub queue_position: i64,
    pub not_needed_after: Option<NaiveDate>,
    pub status: HoldStatus,
    pub suspended_until: Option<NaiveDate>,
    /// The copy trapped for it (in transit or on the hold shelf), or the copy that filled it.
    pub trapped_item_id: Option<ItemId>,
    /// On the hold shelf until then.
    pub pickup_by: Option<DateTime<Utc>>,
    /// When it was filled, cancelled or expired.
    pub finished_at: Option<DateTime<Utc>>,
}

/// What a hold is placed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldTarget {
    /// Title-level: any copy of the record.
    Record(BibId),
    /// Item-level: this copy only.
    Item(Barcode),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHold {
    pub card_number: String,
    pub target: HoldTarget,
    pub pickup_branch: Code,
    pub not_needed_after: Option<NaiveDate>,
}

/// What a hold-placement decision looks at, read with the patron locked (so two placements at
/// once cannot both take the last hold the rule allows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldPlacementContext {
    pub patron: PatronAccount,
    pub bib_id: BibId,
    /// The copy, for an item-level hold.
    pub item: Option<Item>,
    /// The item types of the copies a hold could take (the one copy for an item-level hold),
    /// distinct and sorted: the rule is resolved for them.
    pub item_types: Vec<Code>,
    /// The patron's open holds.
    pub holds_placed: u32,
    pub already_holds_title: bool,
    /// The patron has a copy of the title on loan.
    pub has_it_on_loan: bool,
    /// The patron's overdue loans, counted up to the cap (as for checkout).
    pub overdue_loans: u32,
}

/// What a hold-placement decision allows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HoldPlacement {
    /// Staff went past refusals: who, which and why.
    pub override_entry: Option<crate::loans::OverrideEntry>,
}

/// A copy trapped for a hold in the queue, or freed from one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemMove {
    pub item_id: ItemId,
    pub status: ItemStatus,
    pub holding_branch: Code,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitReason {
    /// To the pickup branch of a hold.
    Hold,
    /// Back to the copy's home branch.
    Home,
}

impl TransitReason {
    pub fn as_str(self) -> &'static str {
        match self {
            TransitReason::Hold => "hold",
            TransitReason::Home => "home",
        }
    }

    pub fn parse(s: &str) -> Option<TransitReason> {
        match s {
            "hold" => Some(TransitReason::Hold),
            "home" => Some(TransitReason::Home),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transit {
    pub id: TransitId,
    pub item_id: ItemId,
    pub from_branch: Code,
    pub to_branch: Code,
    pub reason: TransitReason,
    pub hold_id: Option<HoldId>,
    pub sent_at: DateTime<Utc>,
    pub received_at: Option<DateTime<Utc>>,
}

/// A transit to start; the reason is `Hold` exactly when `hold_id` is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTransit {
    pub item_id: ItemId,
    pub from_branch: Code,
    pub to_branch: Code,
    pub hold_id: Option<HoldId>,
}

/// A record's queue, read under lock: its open holds in queue order and the copies trapped
/// for them (locked too), with the copies' open transits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueContext {
    pub bib_id: BibId,
    pub holds: Vec<StoredHold>,
    pub trapped_items: Vec<Item>,
}

/// What a queue decision writes: holds in their new state (only those that changed), copies
/// moved, transits started. A copy that is moved has its open transit (if any) closed first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueueWrite {
    pub holds: Vec<StoredHold>,
    pub items: Vec<ItemMove>,
    pub transits: Vec<NewTransit>,
}

/// A hold on the hold shelf with its copy and its patron: a line of a branch's hold-shelf list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShelvedHold {
    pub hold: StoredHold,
    pub surname: String,
    pub first_name: String,
    /// The copy trapped for it, with its record's title and call number.
    pub copy: ShelfItem,
}

/// Which of a branch's open transits: the copies it sends, or those coming to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitWay {
    /// Leaving the branch (`from_branch`).
    Sending,
    /// Coming to the branch (`to_branch`).
    Receiving,
}

/// An open transit with its copy and, for a hold, the card of the patron it travels for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenTransit {
    pub transit: Transit,
    pub copy: ShelfItem,
    pub card_number: Option<String>,
}

/// Holds: the queue per record, the hold shelf, transits and the pull list.
pub trait HoldStore {
    /// Places a hold at the end of its record's queue, when `decide` allows (returns `Some`;
    /// with an override, logged in the same transaction as action `hold`).
    /// [`crate::StorageError::NotFound`] for an unknown card, record, barcode or branch.
    fn place_hold(
        &self,
        hold: &NewHold,
        now: DateTime<Utc>,
        decide: &mut dyn FnMut(&HoldPlacementContext) -> Option<HoldPlacement>,
    ) -> crate::Result<Option<StoredHold>>;

    /// Changes a record's queue in one transaction (cancel, suspend, resume, move, expire):
    /// locks the copies trapped for it and its open holds, asks `decide`, writes what it returns.
    fn change_queue(
        &self,
        bib_id: BibId,
        now: DateTime<Utc>,
        decide: &mut dyn FnMut(&QueueContext) -> Option<QueueWrite>,
    ) -> crate::Result<Option<QueueContext>>;

    fn hold(&self, id: HoldId) -> crate::Result<Option<StoredHold>>;
    /// The record's open holds in queue order.
    fn record_holds(&self, bib_id: BibId) -> crate::Result<Vec<StoredHold>>;
    /// The patron's holds, open and finished, newest first.
    fn patron_holds(&self, patron: PatronId) -> crate::Result<Vec<StoredHold>>;
    /// Records with a hold on the shelf past its deadline at `now`, or waiting (or suspended) but
    /// not needed after a day before `today`: the nightly sweep's work.
    fn records_with_expiring_holds(&self, now: DateTime<Utc>, today: NaiveDate) -> crate::Result<Vec<BibId>>;
    /// For the records with a waiting hold and a copy on the shelf (available) at `branch`:
    /// their copies on the shelf at every branch, in shelf order, and their open holds in queue
    /// order, for the desk to match so that each hold is on one branch's list only (see
    /// `desk::Desk::pull_list`).
    fn pull_candidates(&self, branch: &Code) -> crate::Result<(Vec<ShelfItem>, Vec<StoredHold>)>;
    /// The copy's transits, oldest first.
    fn transits(&self, item_id: ItemId) -> crate::Result<Vec<Transit>>;
    /// The branch's hold shelf: holds on the shelf for pickup there, earliest pickup deadline
    /// first (then hold id), at most `limit`; with `lapsed_at`, only those whose deadline is
    /// before it (to clear from the shelf). One indexed range.
    fn hold_shelf(
        &self,
        branch: &Code,
        lapsed_at: Option<DateTime<Utc>>,
        limit: u32,
    ) -> crate::Result<Vec<ShelvedHold>>;
    /// The branch's open transits going `way`, oldest first (then id), at most `limit`. One
    /// indexed range.
    fn open_transits(&self, branch: &Code, way: TransitWay, limit: u32) -> crate::Result<Vec<OpenTransit>>;
}
