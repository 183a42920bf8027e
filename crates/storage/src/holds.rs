//! Holds: the queue per record, the hold shelf, transits and the pull list.
//!
//! The trait is implemented by both backends (`sqlite/holds.rs`, `postgres/holds.rs`) and is a
//! supertrait of [`crate::Database`], so `dyn Database` offers its methods.

/// Holds: the queue per record, the hold shelf, transits and the pull list.
pub trait HoldStore {}
