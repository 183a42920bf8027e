//! Staff accounts as circulation sees them: who is acting, and what they may do.
//!
//! Permissions are granular (LIBRARY.md: circulate, override, catalog, manage patrons, handle
//! money, reports, admin) so a volunteer can be given check-in and nothing else. `Admin` implies
//! every other permission, so a new permission never locks the administrator out.

use crate::StaffId;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    /// Check out and renew.
    Circulate,
    /// Check in (volunteers at the book drop).
    CheckIn,
    /// Go ahead past an overridable refusal, with a reason.
    Override,
    /// Take payments; waive, write off and refund charges.
    HandleMoney,
    ManagePatrons,
    Catalog,
    Reports,
    Admin,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    pub id: StaffId,
    permissions: BTreeSet<Permission>,
}

impl Staff {
    pub fn new(id: StaffId, permissions: impl IntoIterator<Item = Permission>) -> Staff {
        Staff { id, permissions: permissions.into_iter().collect() }
    }

    pub fn may(&self, p: Permission) -> bool {
        self.permissions.contains(&p) || self.permissions.contains(&Permission::Admin)
    }
}
