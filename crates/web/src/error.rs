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
    /// A hold the rules refuse; `refusals` lists each reason with its own code and sentence.
    HoldRefused => CONFLICT, "hold_refused";
    /// An emergency closure the desk cannot declare (a past day, no reason); `field` names it.
    InvalidClosure => BAD_REQUEST, "invalid_closure";
    /// The day is already closed at that branch.
    AlreadyClosed => CONFLICT, "already_closed";
    /// A hold change its state does not allow (resuming a hold that is not suspended, cancelling
    /// a filled one).
    HoldWrongState => CONFLICT, "hold_wrong_state";
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
    /// A password the policy refuses (too short, the login, one character repeated).
    InvalidPassword => BAD_REQUEST, "invalid_password";
    /// A staff login that is not 1-64 of `a-z 0-9 . - _`.
    InvalidLogin => BAD_REQUEST, "invalid_login";
    /// A role that is not one of the built-in roles.
    InvalidRole => BAD_REQUEST, "invalid_role";
    StaffNotFound => NOT_FOUND, "staff_not_found";
    TokenNotFound => NOT_FOUND, "token_not_found";
    LoginTaken => CONFLICT, "login_taken";
    /// `DELETE /session` with an API token: tokens are revoked, not signed out.
    NotASession => CONFLICT, "not_a_session";
    RouteNotFound => NOT_FOUND, "route_not_found";
    BranchNotFound => NOT_FOUND, "branch_not_found";
    RecordNotFound => NOT_FOUND, "record_not_found";
    ItemNotFound => NOT_FOUND, "item_not_found";
    InventoryNotFound => NOT_FOUND, "inventory_not_found";
    HoldNotFound => NOT_FOUND, "hold_not_found";
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
    /// Copy cataloging: no configured target has that name.
    UnknownTarget => BAD_REQUEST, "unknown_target";
    /// A copy-cataloging target could not be searched (unreachable, timed out, an SRU
    /// diagnostic): the message names the target's problem.
    TargetFailed => BAD_GATEWAY, "target_failed";
    /// The target returned no record at that position for the query.
    NoSuchCandidate => NOT_FOUND, "no_such_candidate";
    /// Patrons (issue 4): a registration or update field the library's rules refuse; `field`
    /// names it, and `problems` lists every problem of the form with its own code.
    InvalidCardNumber => BAD_REQUEST, "invalid_card_number";
    InvalidEmail => BAD_REQUEST, "invalid_email";
    UnknownCategory => BAD_REQUEST, "unknown_category";
    AgeOutsideCategory => BAD_REQUEST, "age_outside_category";
    GuarantorRequired => BAD_REQUEST, "guarantor_required";
    /// The guarantor's card is no patron's, or is the patron's own.
    UnknownGuarantor => BAD_REQUEST, "unknown_guarantor";
    InvalidGuarantor => BAD_REQUEST, "invalid_guarantor";
    InvalidNoticePreference => BAD_REQUEST, "invalid_notice_preference";
    InvalidReadingHistory => BAD_REQUEST, "invalid_reading_history";
    InvalidBlockKind => BAD_REQUEST, "invalid_block_kind";
    /// A CSV upload whose header cannot be used (an unknown or missing column).
    InvalidCsv => BAD_REQUEST, "invalid_csv";
    /// Probably a patron already registered (same name and birth date, or same email):
    /// `duplicates` names them; send `confirm_duplicate: true` if it is someone else.
    DuplicatePatron => CONFLICT, "duplicate_patron";
    CardNumberTaken => CONFLICT, "card_number_taken";
    /// A number once issued and replaced is never issued again.
    CardNumberReplaced => CONFLICT, "card_number_replaced";
    /// The card was replaced by a new one and no longer works.
    CardReplaced => GONE, "card_replaced";
    /// The patron did not choose to keep their reading history.
    HistoryNotKept => NOT_FOUND, "history_not_kept";
    BlockNotFound => NOT_FOUND, "block_not_found";
    // Ledger: the patron's account, claims returned, inspections, repairs.
    /// Money that does not parse, or is not more than 0.00.
    InvalidAmount => BAD_REQUEST, "invalid_amount";
    /// A member that must be one of a few names (a charge kind, a payment method, a condition).
    InvalidChoice => BAD_REQUEST, "invalid_choice";
    /// An entry id that is not a charge on this patron's account.
    UnknownCharge => BAD_REQUEST, "unknown_charge";
    /// More than is owed (on the charges picked, or on the account): give change, or pay with
    /// `keep_credit`.
    ExceedsOutstanding => CONFLICT, "exceeds_outstanding";
    /// A refund of more than was paid on the charge and not yet refunded.
    ExceedsPaid => CONFLICT, "exceeds_paid";
    /// A payout of more than the account's credit.
    ExceedsCredit => CONFLICT, "exceeds_credit";
    /// The loan was already declared lost or claimed returned.
    LoanAlreadyStopped => CONFLICT, "loan_already_stopped";
    /// An inspection of a copy still on loan: check it in first.
    ItemOnLoan => CONFLICT, "item_on_loan";
    /// A damage charge for a copy never lent: there is no borrower to charge.
    NoBorrower => CONFLICT, "no_borrower";
    NotInRepair => CONFLICT, "not_in_repair";
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
