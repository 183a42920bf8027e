//! The patron ledger: charges, payments, waivers, write-offs and refunds; lost and damaged items.
//!
//! The trait is implemented by both backends (`sqlite/ledger.rs`, `postgres/ledger.rs`) and is a
//! supertrait of [`crate::Database`], so `dyn Database` offers its methods.

/// The patron ledger: charges, payments, waivers, write-offs and refunds; lost and damaged items.
pub trait LedgerStore {}
