//! Who is making a request, and whether they may.
//!
//! Every staff endpoint takes an [`Acting`] and calls [`Acting::require`] with the permission the
//! action needs before it touches the database:
//!
//! ```ignore
//! async fn pay(State(state): State<AppState>, acting: Acting, body: Bytes) -> Result<Response, ApiError> {
//!     acting.require(Permission::HandleMoney)?;
//!     ...
//! }
//! ```
//!
//! PROVISIONAL (issue 4, staff accounts): until staff log in, every request acts as the built-in
//! administrator. The staff-accounts work replaces [`FromRequestParts`] below with a session or
//! API-token lookup; handlers do not change.

// Until every handler takes an `Acting` (the staff-accounts work), parts of this go unused.
#![allow(dead_code)]

use crate::error::{ApiError, ErrorCode};
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use circulation::{Permission, Staff, StaffId};

/// The staff member a request acts as.
#[derive(Debug, Clone)]
pub(crate) struct Acting {
    pub staff: Staff,
    /// The login name, for the override log and the audit log.
    pub name: String,
}

impl Acting {
    /// `Forbidden` unless the staff member has `permission`.
    pub fn require(&self, permission: Permission) -> Result<&Acting, ApiError> {
        if self.staff.may(permission) {
            Ok(self)
        } else {
            Err(ApiError::new(ErrorCode::Forbidden, format!("this needs the {permission:?} permission")))
        }
    }
}

impl FromRequestParts<AppState> for Acting {
    type Rejection = ApiError;

    async fn from_request_parts(_parts: &mut Parts, _state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Acting { staff: Staff::new(StaffId(0), [Permission::Admin]), name: "admin".to_string() })
    }
}
