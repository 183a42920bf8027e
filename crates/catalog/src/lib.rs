//! The catalog's domain model: bibliographic records as Shelfmark sees them (fields derived from
//! the MARC record for display and matching), items, branches, shelving locations, item types.
//!
//! Architecture invariant: this crate does no I/O. Everything here is a function of its inputs,
//! so it is tested with plain unit and property tests.

pub mod derive;
pub mod dublin_core;
pub mod editing;
pub mod ident;
pub mod inventory;
pub mod item;
pub mod money;
pub mod org;
#[cfg(test)]
mod testing;

pub use derive::{check_bibliographic, derive, format_of, BibDerived, Format, Rejection};
pub use ident::{oclc_number, Isbn, IsbnError, Issn, IssnError, Lccn, LccnError};

pub use item::{extract_items, item_field, shelving_call_number, Barcode, Item, ItemMapping, ItemStatus, NewItem};
pub use money::Money;
pub use org::{Branch, Code, ItemType, ShelvingLocation};
