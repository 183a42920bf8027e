//! Staff accounts as circulation sees them: who is acting, and what they may do.
//!
//! Permissions are granular (LIBRARY.md: circulate, override, catalog, manage patrons, handle
//! money, configure, reports, admin; check-in and shelving for volunteers) so a volunteer can be
//! given check-in and shelving and nothing else. `Admin` implies
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
    /// Branches, shelving locations, item types: the library's set-up.
    Configure,
    /// Read shelf lists and take inventories (shelving, shelf reading).
    Shelve,
}

impl Permission {
    pub const ALL: [Permission; 10] = [
        Permission::Circulate,
        Permission::CheckIn,
        Permission::Override,
        Permission::HandleMoney,
        Permission::ManagePatrons,
        Permission::Catalog,
        Permission::Reports,
        Permission::Admin,
        Permission::Configure,
        Permission::Shelve,
    ];

    /// The stable name, as the API and the audit log say it.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Circulate => "circulate",
            Permission::CheckIn => "check_in",
            Permission::Override => "override",
            Permission::HandleMoney => "handle_money",
            Permission::ManagePatrons => "manage_patrons",
            Permission::Catalog => "catalog",
            Permission::Reports => "reports",
            Permission::Admin => "admin",
            Permission::Configure => "configure",
            Permission::Shelve => "shelve",
        }
    }

    pub fn parse(s: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.as_str() == s)
    }
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

    /// The permissions as granted (not expanded by `Admin`).
    pub fn permissions(&self) -> impl Iterator<Item = Permission> + '_ {
        self.permissions.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_names_round_trip_and_are_unique() {
        let names: BTreeSet<&str> = Permission::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(names.len(), Permission::ALL.len());
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
        }
        assert_eq!(Permission::parse("Circulate"), None);
    }

    #[test]
    fn admin_implies_every_permission_and_nothing_else_does() {
        let admin = Staff::new(StaffId(1), [Permission::Admin]);
        assert!(Permission::ALL.iter().all(|p| admin.may(*p)));
        let checkin = Staff::new(StaffId(2), [Permission::CheckIn]);
        assert_eq!(Permission::ALL.iter().filter(|p| checkin.may(**p)).count(), 1);
    }
}
