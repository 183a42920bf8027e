//! Items: the physical copies, each with a unique barcode, and how import files carry them.

use crate::{Code, Money};
use serde::{Deserialize, Serialize};
use std::fmt;

/// An item barcode: 1-64 printable ASCII characters with no spaces (Codabar, Code 39 and the
/// 13-digit `3999900000001` style all fit). Stored as scanned; never reformatted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Barcode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BarcodeError {
    #[error("a barcode cannot be empty")]
    Empty,
    #[error("barcode {0:?} is longer than 64 characters")]
    TooLong(String),
    #[error("barcode {0:?} has a space or a character a scanner cannot type")]
    BadCharacter(String),
}

impl Barcode {
    pub fn parse(s: &str) -> Result<Barcode, BarcodeError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(BarcodeError::Empty);
        }
        if s.len() > 64 {
            return Err(BarcodeError::TooLong(s.to_string()));
        }
        if !s.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(BarcodeError::BadCharacter(s.to_string()));
        }
        Ok(Barcode(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Barcode {
    type Error = BarcodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Barcode::parse(&s)
    }
}

impl From<Barcode> for String {
    fn from(b: Barcode) -> String {
        b.0
    }
}

impl fmt::Display for Barcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where an item is in its life. One value at a time: an item on the hold shelf is not also
/// "available".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    Available,
    CheckedOut,
    InTransit,
    OnHoldShelf,
    Lost,
    Missing,
    Damaged,
    InRepair,
    Withdrawn,
    OnOrder,
}

impl ItemStatus {
    pub const ALL: [ItemStatus; 10] = [
        ItemStatus::Available,
        ItemStatus::CheckedOut,
        ItemStatus::InTransit,
        ItemStatus::OnHoldShelf,
        ItemStatus::Lost,
        ItemStatus::Missing,
        ItemStatus::Damaged,
        ItemStatus::InRepair,
        ItemStatus::Withdrawn,
        ItemStatus::OnOrder,
    ];

    /// The stable name used in the database, the API and files.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Available => "available",
            ItemStatus::CheckedOut => "checked_out",
            ItemStatus::InTransit => "in_transit",
            ItemStatus::OnHoldShelf => "on_hold_shelf",
            ItemStatus::Lost => "lost",
            ItemStatus::Missing => "missing",
            ItemStatus::Damaged => "damaged",
            ItemStatus::InRepair => "in_repair",
            ItemStatus::Withdrawn => "withdrawn",
            ItemStatus::OnOrder => "on_order",
        }
    }

    pub fn parse(s: &str) -> Option<ItemStatus> {
        ItemStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// What staff read on screen.
    pub fn label(self) -> &'static str {
        match self {
            ItemStatus::Available => "Available",
            ItemStatus::CheckedOut => "Checked out",
            ItemStatus::InTransit => "In transit",
            ItemStatus::OnHoldShelf => "On hold shelf",
            ItemStatus::Lost => "Lost",
            ItemStatus::Missing => "Missing",
            ItemStatus::Damaged => "Damaged",
            ItemStatus::InRepair => "In repair",
            ItemStatus::Withdrawn => "Withdrawn",
            ItemStatus::OnOrder => "On order",
        }
    }
}

impl fmt::Display for ItemStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An item as written by cataloging or import: everything but the database id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewItem {
    pub barcode: Barcode,
    pub home_branch: Code,
    pub holding_branch: Code,
    pub location: Option<Code>,
    pub collection: Option<String>,
    pub call_number: Option<String>,
    pub item_type: Code,
    pub price: Option<Money>,
    pub public_note: Option<String>,
    pub staff_note: Option<String>,
    /// "3 discs + booklet": checked at check-in.
    pub materials_specified: Option<String>,
    pub status: ItemStatus,
    /// The date the library acquired it (`YYYY-MM-DD`), when the file says.
    pub acquired_on: Option<String>,
}

/// A stored item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub id: i64,
    pub bib_id: i64,
    #[serde(flatten)]
    pub item: NewItem,
}

/// Which field and subfields of an import file carry the embedded items: Koha's 952 (default),
/// an 852 holdings field, or a vendor 949. See [`ItemMapping::koha_952`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemMapping {
    pub tag: String,
    pub barcode: char,
    pub home_branch: char,
    pub holding_branch: Option<char>,
    pub location: Option<char>,
    pub collection: Option<char>,
    pub call_number: Vec<char>,
    pub item_type: Option<char>,
    pub price: Option<char>,
    pub public_note: Option<char>,
    pub staff_note: Option<char>,
    pub materials_specified: Option<char>,
    pub acquired_on: Option<char>,
    /// Subfields whose non-zero value marks the item lost, damaged, withdrawn, not for loan
    /// (Koha's $1, $4, $0, $7).
    pub lost: Option<char>,
    pub damaged: Option<char>,
    pub withdrawn: Option<char>,
    /// Item type used when the field has none.
    pub default_item_type: String,
    /// Branch used when the field has none.
    pub default_branch: Option<String>,
}
