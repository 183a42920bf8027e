//! Staff accounts, roles and permissions, sessions and API tokens, and the audit log.
//!
//! The trait is implemented by both backends (`sqlite/staff.rs`, `postgres/staff.rs`) and is a
//! supertrait of [`crate::Database`], so `dyn Database` offers its methods.

/// Staff accounts, roles and permissions, sessions and API tokens, and the audit log.
pub trait StaffStore {}
