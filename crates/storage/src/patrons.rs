//! Patrons: registration, blocks, guarantors, preferences, card replacement.
//!
//! The trait is implemented by both backends (`sqlite/patrons.rs`, `postgres/patrons.rs`) and is a
//! supertrait of [`crate::Database`], so `dyn Database` offers its methods.

/// Patrons: registration, blocks, guarantors, preferences, card replacement.
pub trait PatronStore {}
