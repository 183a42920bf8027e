//! The one table of API error codes and the HTTP status each maps to, and the JSON error body
//! every refusal is sent as:
//!
//! ```json
//! {"error": {"code": "invalid_barcode", "field": "barcode", "message": "barcode \"a b\" has a space ..."}}
//! ```
//!
//! Codes are stable: clients (the staff desk, scripts) branch on them, so a code is never renamed
//! or reused for another meaning. `field` names the body member or query parameter at fault when
//! there is one. A 500 says only "internal error"; the cause goes to the log, never to the client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident => $status:ident, $code:literal; )*) => {
        /// Every error the API can answer with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The stable name sent as `error.code`.
            pub fn code(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }

            pub fn status(self) -> StatusCode {
                match self { $(ErrorCode::$variant => StatusCode::$status,)* }
            }
        }
    };
}

error_codes! {
    /// The body is not JSON (or not the MARCXML its content type claims).
    MalformedBody => BAD_REQUEST, "malformed_body";
    /// The body is JSON but not an object.
    InvalidBody => BAD_REQUEST, "invalid_body";
    /// A body member the resource does not have (a typo would otherwise be silently dropped).
    UnknownField => BAD_REQUEST, "unknown_field";
    MissingField => BAD_REQUEST, "missing_field";
    /// A member of the wrong JSON type (a number where a string belongs, ...).
    InvalidType => BAD_REQUEST, "invalid_type";
    /// A query or path parameter that does not parse (`limit=abc`, `/records/x`).
    InvalidParameter => BAD_REQUEST, "invalid_parameter";
    /// A branch, location or item type code (1-32 letters, digits, `-`, `_`, `.`).
    InvalidCode => BAD_REQUEST, "invalid_code";
    /// The code in the body differs from the code in the path.
    CodeMismatch => BAD_REQUEST, "code_mismatch";
    /// A member that may be repeated from a GET but not changed (`id`, an item's `bib_id`).
    ReadOnlyField => BAD_REQUEST, "read_only_field";
    InvalidName => BAD_REQUEST, "invalid_name";
    InvalidBarcode => BAD_REQUEST, "invalid_barcode";
    InvalidPrice => BAD_REQUEST, "invalid_price";
    InvalidStatus => BAD_REQUEST, "invalid_status";
    InvalidDate => BAD_REQUEST, "invalid_date";
    InvalidIsbn => BAD_REQUEST, "invalid_isbn";
    InvalidFormat => BAD_REQUEST, "invalid_format";
    /// MARC-in-JSON or MARCXML that does not describe a record; `field` is the place
    /// (`fields[3].245.ind1`).
    InvalidMarc => BAD_REQUEST, "invalid_marc";
    /// An item names a branch, shelving location, item type or record that does not exist.
    UnknownBranch => BAD_REQUEST, "unknown_branch";
    UnknownLocation => BAD_REQUEST, "unknown_location";
    UnknownItemType => BAD_REQUEST, "unknown_item_type";
    UnknownRecord => BAD_REQUEST, "unknown_record";
    /// A barcode in a list (labels to print) that no item has.
    UnknownItem => BAD_REQUEST, "unknown_item";
    /// A label sheet that cannot be printed (a barcode neither symbology encodes, an item with
    /// no call number for its spine, an offset past the sheet): the reason is in the message.
    InvalidLabels => UNPROCESSABLE_ENTITY, "invalid_labels";
    /// A checkout the rules refuse; `refusals` lists each reason with its own code and sentence.
    CheckoutRefused => CONFLICT, "checkout_refused";
    RenewalRefused => CONFLICT, "renewal_refused";
    /// A check-in dated in the future or before the checkout.
    InvalidCheckIn => BAD_REQUEST, "invalid_check_in";
    UnknownCard => NOT_FOUND, "unknown_card";
    /// The copy is not on loan (a renewal).
    NotOnLoan => CONFLICT, "not_on_loan";
    /// No valid session or API token came with a request that needs one.
    Unauthenticated => UNAUTHORIZED, "unauthenticated";
    /// The staff member signed in lacks the permission the action needs (or may not act at
    /// that branch); the message names the permission.
    Forbidden => FORBIDDEN, "forbidden";
    RouteNotFound => NOT_FOUND, "route_not_found";
    BranchNotFound => NOT_FOUND, "branch_not_found";
    RecordNotFound => NOT_FOUND, "record_not_found";
    ItemNotFound => NOT_FOUND, "item_not_found";
    InventoryNotFound => NOT_FOUND, "inventory_not_found";
    MethodNotAllowed => METHOD_NOT_ALLOWED, "method_not_allowed";
    /// `Accept` asks for a representation the resource does not have.
    NotAcceptable => NOT_ACCEPTABLE, "not_acceptable";
    BranchExists => CONFLICT, "branch_exists";
    /// Another item already has this barcode.
    BarcodeTaken => CONFLICT, "barcode_taken";
    /// A branch that items still name cannot be deleted.
    BranchInUse => CONFLICT, "branch_in_use";
    /// A record with items cannot be deleted; delete or move its items first.
    RecordHasItems => CONFLICT, "record_has_items";
    /// Any other uniqueness or reference conflict the database reports.
    Conflict => CONFLICT, "conflict";
    PayloadTooLarge => PAYLOAD_TOO_LARGE, "payload_too_large";
    UnsupportedMediaType => UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type";
    /// Well-formed MARC that the catalog refuses (no 245, ...): the reason is in the message.
    RecordRejected => UNPROCESSABLE_ENTITY, "record_rejected";
    /// A notice template that cannot be saved (an unknown placeholder, an unclosed brace): the
    /// message names the placeholder, `field` is `subject` or `body`.
    InvalidTemplate => UNPROCESSABLE_ENTITY, "invalid_template";
    /// No notice of that kind (`courtesy`, `overdue_1`, ...).
    NoticeKindNotFound => NOT_FOUND, "notice_kind_not_found";
    /// No daily job by that name.
    JobNotFound => NOT_FOUND, "job_not_found";
    Internal => INTERNAL_SERVER_ERROR, "internal";
    /// The database cannot be reached (`/health` only).
    Unavailable => SERVICE_UNAVAILABLE, "unavailable";
}

/// An API refusal: a code from the table, the field at fault if any, and a sentence for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub field: Option<String>,
    pub message: String,
    /// More members of the error object (a refused checkout's `refusals`).
    pub details: Option<(&'static str, serde_json::Value)>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError { code, field: None, message: message.into(), details: None }
    }

    pub fn field(code: ErrorCode, field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError { code, field: Some(field.into()), message: message.into(), details: None }
    }

    /// A failure the client cannot fix. The cause is logged here and not sent.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {cause}");
        ApiError::new(ErrorCode::Internal, "internal error; the server log has the details")
    }

    pub fn body(&self) -> serde_json::Value {
        let mut error = json!({"code": self.code.code(), "message": self.message});
        if let Some(field) = &self.field {
            error["field"] = json!(field);
        }
        if let Some((name, value)) = &self.details {
            error[*name] = value.clone();
        }
        json!({ "error": error })
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.code(), self.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.code.status(), Json(self.body())).into_response()
    }
}

/// Storage errors that are not the client's fault become 500s; the caller maps the expected ones
/// (not found, conflict) to specific codes before falling back to this.
impl From<storage::StorageError> for ApiError {
    fn from(e: storage::StorageError) -> Self {
        use storage::StorageError as S;
        match e {
            S::NotFound { what, key } => {
                ApiError::new(ErrorCode::RouteNotFound, format!("{what} {key} does not exist"))
            }
            S::Conflict { what, key } => ApiError::new(ErrorCode::Conflict, format!("{what} {key} already exists")),
            S::Constraint(message) => ApiError::new(ErrorCode::Conflict, message),
            other => ApiError::internal(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_snake_case_and_statuses_are_errors() {
        let mut seen = HashSet::new();
        for &c in ErrorCode::ALL {
            assert!(seen.insert(c.code()), "duplicate code {}", c.code());
            assert!(c.code().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{}", c.code());
            assert!(c.status().is_client_error() || c.status().is_server_error(), "{}", c.code());
        }
    }

    #[test]
    fn body_names_code_and_field() {
        let e = ApiError::field(ErrorCode::InvalidBarcode, "barcode", "bad");
        assert_eq!(e.body(), json!({"error": {"code": "invalid_barcode", "field": "barcode", "message": "bad"}}));
        assert_eq!(e.code.status(), StatusCode::BAD_REQUEST);
    }
}
