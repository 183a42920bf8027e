//! Notices and daily jobs: templates, what was sent, and which job ran on which day.
//!
//! The trait is implemented by both backends (`sqlite/notices.rs`, `postgres/notices.rs`) and is a
//! supertrait of [`crate::Database`], so `dyn Database` offers its methods.

/// Notices and daily jobs: templates, what was sent, and which job ran on which day.
pub trait NoticeStore {}
