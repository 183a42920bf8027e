//! The API's OpenAPI 3.1 description, served at `GET /api/v1/openapi.json`.
//!
//! Written as one table, [`OPERATIONS`], instead of annotations on the handlers: the handlers
//! parse their bodies by hand (so that every error names its field), and a table a person reads
//! top to bottom is the documentation. It cannot drift from the router: a unit test reads the
//! routes out of `api/mod.rs` and fails when a route and the table disagree, and `scripts/test`
//! checks the served document with `openapi-spec-validator`.

use crate::error::ErrorCode;
use serde_json::{json, Map, Value};

/// A JSON body member or query parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    pub name: &'static str,
    /// `string`, `integer`, `boolean`, `object`, `array`, or one of the string formats this API
    /// uses: `money` (a decimal string such as "12.50"), `date` (YYYY-MM-DD), `date-time` (RFC 3339).
    pub ty: &'static str,
    pub required: bool,
    pub about: &'static str,
}

const fn req(name: &'static str, ty: &'static str, about: &'static str) -> Field {
    Field { name, ty, required: true, about }
}

const fn opt(name: &'static str, ty: &'static str, about: &'static str) -> Field {
    Field { name, ty, required: false, about }
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Body {
    None,
    Json(&'static [Field]),
    /// Another media type (MARCXML, text/plain barcodes, CSV), described in words.
    Other(&'static str, &'static str),
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Operation {
    pub method: &'static str,
    /// Under `/api/v1`, with `{name}` path parameters as the router writes them.
    pub path: &'static str,
    pub summary: &'static str,
    /// The permission the signed-in staff member needs (`signed_in`: any staff login); `None`:
    /// public (the OPAC's reads, the log-in).
    pub permission: Option<&'static str>,
    pub query: &'static [Field],
    pub body: Body,
    pub status: u16,
    /// What a successful answer holds.
    pub answer: &'static str,
}

const COPYCAT_QUERY: &[Field] = &[
    opt("target", "string", "target names separated by commas; default all"),
    opt("isbn", "string", "ISBN-10 or ISBN-13 (both forms are searched); give exactly one access point"),
    opt("issn", "string", ""),
    opt("lccn", "string", ""),
    opt("title", "string", ""),
    opt("author", "string", ""),
    opt("keywords", "string", ""),
    opt("max", "integer", "records asked of each target (1-50, default 10)"),
];

const COPYCAT_IMPORT: &[Field] = &[
    req("target", "string", "the target the record came from"),
    opt("record", "object", "the record as MARC-in-JSON (as the search returned it, perhaps edited)"),
    opt("isbn", "string", "instead of record: the search to repeat (or issn, lccn, title, author, keywords)"),
    opt("position", "integer", "with a search: the candidate's position"),
    opt("on_match", "string", "skip (default), replace or add"),
];

const PAGE: &[Field] = &[
    opt("after", "integer", "keyset paging: the last id of the previous page"),
    opt("limit", "integer", "page size (default 50, at most the server's maximum)"),
];

const ITEM_FIELDS: &[Field] = &[
    req("barcode", "string", "the copy's barcode (unique)"),
    req("home_branch", "string", "branch code"),
    opt("holding_branch", "string", "branch code; defaults to the home branch"),
    opt("location", "string", "shelving location code"),
    req("item_type", "string", "item type code"),
    opt("call_number", "string", "the copy's own call number; else the record's is used"),
    opt("collection", "string", ""),
    opt(
        "status",
        "string",
        "available, checked_out, in_transit, on_hold_shelf, lost, missing, damaged, in_repair, withdrawn, on_order",
    ),
    opt("price", "money", "replacement price"),
    opt("acquired_on", "date", ""),
    opt("materials_specified", "string", "parts to count at checkout and check-in"),
    opt("public_note", "string", ""),
    opt("staff_note", "string", ""),
];

const PATRON_FIELDS: &[Field] = &[
    opt("surname", "string", ""),
    opt("first_name", "string", ""),
    opt("birth_date", "date", ""),
    opt("email", "string", ""),
    opt("phone", "string", ""),
    opt("address", "string", ""),
    opt("category", "string", "patron category code"),
    opt("home_branch", "string", "branch code"),
    opt("guarantor", "string", "the guarantor's card number"),
    opt("notice_preference", "string", "email, sms or print"),
    opt("reading_history", "string", "keep, default or never"),
    opt("card_number", "string", "may repeat the path's card, never change it"),
];

const PATRON_FIELDS_NEW: &[Field] = &[
    req("surname", "string", ""),
    req("first_name", "string", ""),
    opt("birth_date", "date", ""),
    opt("email", "string", ""),
    opt("phone", "string", ""),
    opt("address", "string", ""),
    req("category", "string", "patron category code"),
    req("home_branch", "string", "branch code"),
    opt("guarantor", "string", "the guarantor's card number"),
    opt("notice_preference", "string", "email, sms or print"),
    opt("reading_history", "string", "keep, default or never"),
    opt("card_number", "string", "else the next number of the library's pattern is issued"),
    opt("confirm_duplicate", "boolean", "register a probable duplicate after checking it is someone else"),
];

const MARC_BODY: Body = Body::Other(
    "application/json",
    "the record as MARC-in-JSON (`leader`, `fields`); `application/marcxml+xml` is accepted too",
);

/// Every operation of the API.
pub(crate) const OPERATIONS: &[Operation] = &[
    Operation {
        method: "get",
        path: "/branches",
        summary: "List branches",
        permission: None,
        query: &[],
        body: Body::None,
        status: 200,
        answer: "`branches`: code and name of each",
    },
    Operation {
        method: "post",
        path: "/branches",
        summary: "Create a branch",
        permission: Some("configure"),
        query: &[],
        body: Body::Json(&[req("code", "string", "1-32 letters, digits, -, _ or ."), req("name", "string", "")]),
        status: 201,
        answer: "the branch",
    },
    Operation {
        method: "get",
        path: "/branches/{code}",
        summary: "One branch",
        permission: None,
        query: &[],
        body: Body::None,
        status: 200,
        answer: "the branch",
    },
    Operation {
        method: "put",
        path: "/branches/{code}",
        summary: "Create or rename a branch",
        permission: Some("configure"),
        query: &[],
        body: Body::Json(&[opt("code", "string", "must equal the path's code"), req("name", "string", "")]),
        status: 200,
        answer: "the branch (201 when created)",
    },
    Operation {
        method: "delete",
        path: "/branches/{code}",
        summary: "Delete a branch no item or patron names",
        permission: Some("configure"),
        query: &[],
        body: Body::None,
        status: 204,
        answer: "nothing",
    },
    Operation {
        method: "get",
        path: "/locations",
        summary: "List shelving locations",
        permission: None,
        query: &[],
        body: Body::None,
        status: 200,
        answer: "`locations`",
    },
    Operation {
        method: "put",
        path: "/locations/{code}",
        summary: "Create or rename a shelving location",
        permission: Some("configure"),
        query: &[],
        body: Body::Json(&[opt("code", "string", "must equal the path's code"), req("name", "string", "")]),
        status: 200,
        answer: "the location (201 when created)",
    },
    Operation {
        method: "get",
        path: "/item-types",
        summary: "List item types",
        permission: None,
        query: &[],
        body: Body::None,
        status: 200,
        answer: "`item_types`",
    },
    Operation {
        method: "put",
        path: "/item-types/{code}",
        summary: "Create or change an item type",
        permission: Some("configure"),
        query: &[],
        body: Body::Json(&[
            opt("code", "string", "must equal the path's code"),
            req("name", "string", ""),
            opt("loanable", "boolean", "false: reference only"),
        ]),
        status: 200,
        answer: "the item type (201 when created)",
    },
    Operation {
        method: "get",
        path: "/records",
        summary: "List and filter bibliographic records",
        permission: None,
        query: &[
            opt("title", "string", "substring, any case"),
            opt("author", "string", "substring, any case"),
            opt("isbn", "string", "ISBN-10 or -13"),
            opt("year_from", "integer", ""),
            opt("year_to", "integer", ""),
            opt("format", "string", "book, serial, ..."),
            opt("branch", "string", "records with a copy at this branch"),
            PAGE[0],
            PAGE[1],
        ],
        body: Body::None,
        status: 200,
        answer: "`records` and `next` (the cursor of the next page, or null)",
    },
    Operation {
        method: "post",
        path: "/records",
        summary: "Catalog a record",
        permission: Some("catalog"),
        query: &[],
        body: MARC_BODY,
        status: 201,
        answer: "the stored record with its derived fields; `Location` names it",
    },
    Operation {
        method: "get",
        path: "/records/{id}",
        summary: "One record (JSON, MARC-in-JSON, MARCXML or ISO 2709 by `Accept`)",
        permission: None,
        query: &[],
        body: Body::None,
        status: 200,
        answer: "the record",
    },
    Operation {
        method: "put",
        path: "/records/{id}",
        summary: "Replace a record's MARC",
        permission: Some("catalog"),
        query: &[],
        body: MARC_BODY,
        status: 200,
        answer: "the stored record",
    },
    Operation {
        method: "delete",
        path: "/records/{id}",
        summary: "Delete a record without items",
        permission: Some("catalog"),
        query: &[],
        body: Body::None,
        status: 204,
        answer: "nothing",
    },
    Operation {
        method: "get",
        path: "/records/{id}/items",
        summary: "A record's copies",
        permission: Some("signed_in"),
        query: &[],
        body: Body::None,
        status: 200,
        answer: "`items`",
    },
    Operation {
        method: "post",
        path: "/records/{id}/items",
        summary: "Add a copy to a record",
        permission: Some("catalog"),
        query: &[],
        body: Body::Json(ITEM_FIELDS),
        status: 201,
        answer: "the item, with `warnings` (call_number_unparsed)",
    },
    Operation {
        method: "get",
        path: "/items",
        summary: "List and filter copies",
        permission: Some("signed_in"),
        query: &[
            opt("barcode", "string", "exact"),
            opt("bib_id", "integer", ""),
            opt("branch", "string", "home branch"),
            opt("holding_branch", "string", ""),
            opt("location", "string", ""),
            opt("item_type", "string", ""),
            opt("status", "string", ""),
            PAGE[0],
            PAGE[1],
        ],
        body: Body::None,
        status: 200,
        answer: "`items` and `next`",
    },
    Operation {
        method: "post",
        path: "/items",
        summary: "Add a copy (the body names its record)",
        permission: Some("catalog"),
        query: &[],
        body: Body::Json(&[
            req("bib_id", "integer", "the record"),
            ITEM_FIELDS[0],
            ITEM_FIELDS[1],
            ITEM_FIELDS[2],
            ITEM_FIELDS[3],
            ITEM_FIELDS[4],
            ITEM_FIELDS[5],
            ITEM_FIELDS[6],
            ITEM_FIELDS[7],
            ITEM_FIELDS[8],
            ITEM_FIELDS[9],
            ITEM_FIELDS[10],
            ITEM_FIELDS[11],
            ITEM_FIELDS[12],
        ]),
        status: 201,
        answer: "the item, with `warnings`",
    },
    Operation {
        method: "get",
        path: "/items/{id}",
        summary: "One copy",
        permission: Some("signed_in"),
        query: &[],
        body: Body::None,
        status: 200,
        answer: "the item",
    },
    Operation {
        method: "put",
        path: "/items/{id}",
        summary: "Change a copy",
        permission: Some("catalog"),
        query: &[],
        body: Body::Json(ITEM_FIELDS),
        status: 200,
        answer: "the item, with `warnings`",
    },
    Operation {
        method: "delete",
        path: "/items/{id}",
        summary: "Delete a copy that is not on loan",
        permission: Some("catalog"),
        query: &[],
        body: Body::None,
        status: 204,
        answer: "nothing",
    },
    Operation {
        method: "get",
        path: "/shelf-list",
        summary: "A branch's copies in shelf order",
        permission: Some("shelve"),
        query: &[
            req("branch", "string", ""),
            opt("location", "string", ""),
            opt("from", "string", "call number"),
            opt("to", "string", "call number; includes everything that begins like it"),
            opt("status", "string", ""),
            opt("after", "string", "the `next` token of the previous page"),
            opt("limit", "integer", ""),
        ],
        body: Body::None,
        status: 200,
        answer: "`items` (each with `shelved_under` and `spine`) and `next`",
    },
    Operation {
        method: "post",
        path: "/labels",
        summary: "A PDF sheet of spine or barcode labels",
        permission: Some("catalog"),
        query: &[],
        body: Body::Json(&[
            req("kind", "string", "spine or barcode"),
            req("barcodes", "array", "the copies, in print order"),
            opt("layout", "string", "avery-5160 or demco-ws14942260"),
            opt("offset", "integer", "labels already used on the sheet"),
            opt("symbology", "string", "code39 or codabar"),
            opt("align", "string", ""),
        ]),
        status: 200,
        answer: "application/pdf",
    },
    Operation {
        method: "post",
        path: "/checkouts",
        summary: "Check a copy out to a patron",
        permission: Some("circulate"),
        query: &[],
        body: Body::Json(&[
            req("card_number", "string", ""),
            req("barcode", "string", ""),
            req("branch", "string", "where the desk is"),
            opt("override", "object", "`reason`: go past overridable refusals (needs override)"),
        ]),
        status: 201,
        answer: "`loan` (due in UTC and local time) and `due_note`; 409 checkout_refused lists `refusals`",
    },
    Operation {
        method: "post",
        path: "/checkins",
        summary: "Check a copy in",
        permission: Some("check_in"),
        query: &[],
        body: Body::Json(&[
            req("barcode", "string", ""),
            req("branch", "string", "where the desk is"),
            opt("returned_at", "date-time", "backdate (the book drop)"),
        ]),
        status: 200,
        answer: "`loan_closed`, `status`, `fine`, `routing` (shelf, hold shelf, transit) and `prompts`",
    },
    Operation {
        method: "post",
        path: "/renewals",
        summary: "Renew a loan",
        permission: Some("circulate"),
        query: &[],
        body: Body::Json(&[req("barcode", "string", ""), opt("branch", "string", "where the renewal is done (required of staff limited to branches)"), opt("override", "object", "`reason` (needs override)")]),
        status: 200,
        answer: "`loan` and `due_note`; 409 renewal_refused lists `refusals`",
    },
    Operation {
        method: "get",
        path: "/patrons/{card}/loans",
        summary: "A patron's open loans",
        permission: Some("circulate or manage_patrons"),
        query: &[],
        body: Body::None,
        status: 200,
        answer: "`card_number`, `balance`, `loans`",
    },
    Operation {
        method: "get",
        path: "/circulation/rule",
        summary: "Which circulation rule applies, and why",
        permission: Some("signed_in"),
        query: &[
            req("branch", "string", ""),
            req("category", "string", "patron category"),
            req("item_type", "string", ""),
        ],
        body: Body::None,
        status: 200,
        answer: "the rule and, per parameter, the matrix row it came from",
    },
    Operation {
        method: "get",
        path: "/search",
        summary: "Full-text catalog search with facets",
        permission: None,
        query: &[
            req("q", "string", "the query"),
            opt("sort", "string", "relevance, title, author, year"),
            opt("offset", "integer", ""),
            opt("limit", "integer", ""),
            opt("format", "string", "facet filter (also: language, subject, author, branch, year)"),
        ],
        body: Body::None,
        status: 200,
        answer: "`total`, `hits`, `facets`",
    },
    Operation {
        method: "post",
        path: "/inventories",
        summary: "Start an inventory of a stretch of shelf",
        permission: Some("shelve"),
        query: &[],
        body: Body::Json(&[
            req("branch", "string", ""),
            opt("location", "string", ""),
            opt("call_number_from", "string", ""),
            opt("call_number_to", "string", ""),
        ]),
        status: 201,
        answer: "the inventory",
    },
    Operation {
        method: "get",
        path: "/inventories/{id}",
        summary: "One inventory",
        permission: Some("shelve"),
        query: &[],
        body: Body::None,
        status: 200,
        answer: "the inventory",
    },
    Operation {
        method: "post",
        path: "/inventories/{id}/scans",
        summary: "Add scanned barcodes, in scan order",
        permission: Some("shelve"),
        query: &[],
        body: Body::Json(&[req("barcodes", "array", "also accepted as text/plain, one per line")]),
        status: 200,
        answer: "the inventory",
    },
    Operation {
        method: "get",
        path: "/inventories/{id}/report",
        summary: "The inventory report: missing, misplaced, wrong status, wrong place, unknown",
        permission: Some("shelve"),
        query: &[],
        body: Body::None,
        status: 200,
        answer: "the report",
    },
    // Patrons.
    Operation { method: "post", path: "/patrons", summary: "Register a patron", permission: Some("manage_patrons"), query: &[], body: Body::Json(PATRON_FIELDS_NEW), status: 201, answer: "the patron with the issued card number; 409 duplicate_patron names the probable duplicates" },
    Operation { method: "get", path: "/patrons", summary: "Find patrons by card or by the start of their name", permission: Some("manage_patrons"), query: &[opt("card", "string", ""), opt("name", "string", "the start of \"surname first name\""), PAGE[0], PAGE[1]], body: Body::None, status: 200, answer: "`patrons` and `next`" },
    Operation { method: "get", path: "/patrons/{card}", summary: "One patron, with unlifted blocks and earlier cards", permission: Some("manage_patrons"), query: &[], body: Body::None, status: 200, answer: "the patron; 410 card_replaced for a replaced card" },
    Operation { method: "put", path: "/patrons/{card}", summary: "Change a patron's details", permission: Some("manage_patrons"), query: &[], body: Body::Json(PATRON_FIELDS), status: 200, answer: "the patron" },
    Operation { method: "post", path: "/patrons/{card}/renewal", summary: "Renew the card by its category's validity", permission: Some("manage_patrons"), query: &[], body: Body::None, status: 200, answer: "the patron with the new expiry date" },
    Operation { method: "post", path: "/patrons/{card}/replacement", summary: "Replace a lost card: the old number stops working, loans and fines follow", permission: Some("manage_patrons"), query: &[], body: Body::Json(&[opt("card_number", "string", "else the next number is issued"), opt("reason", "string", "")]), status: 200, answer: "the patron with the new card" },
    Operation { method: "get", path: "/patrons/{card}/blocks", summary: "Every block, lifted ones too", permission: Some("manage_patrons"), query: &[], body: Body::None, status: 200, answer: "`blocks`" },
    Operation { method: "post", path: "/patrons/{card}/blocks", summary: "Block a patron", permission: Some("manage_patrons"), query: &[], body: Body::Json(&[req("kind", "string", "manual, lost_card or address_unknown"), opt("reason", "string", ""), opt("until", "date", "last day of a manual block")]), status: 201, answer: "the block" },
    Operation { method: "delete", path: "/patrons/{card}/blocks/{id}", summary: "Lift a block (kept on record, lifted)", permission: Some("manage_patrons"), query: &[], body: Body::None, status: 200, answer: "the lifted block" },
    Operation { method: "put", path: "/patrons/{card}/password", summary: "Set or clear a patron's password (the self-check PIN)", permission: Some("manage_patrons"), query: &[], body: Body::Json(&[req("password", "string", "4 to 64 characters; null clears it")]), status: 204, answer: "nothing" },
    Operation { method: "get", path: "/patrons/{card}/history", summary: "Reading history, only for a patron who chose to keep it", permission: Some("manage_patrons"), query: &[opt("after", "integer", "the last loan_id of the previous page"), opt("limit", "integer", "")], body: Body::None, status: 200, answer: "`loans`, newest first; 404 history_not_kept" },
    Operation { method: "post", path: "/patrons/import", summary: "Register patrons from a CSV file (a school's student list)", permission: Some("manage_patrons"), query: &[opt("dry_run", "boolean", "check every row, register nobody")], body: Body::Other("text/csv", "a header row naming the columns (surname, first_name, birth_date, email, category, home_branch, card_number, ...), then one patron per row"), status: 200, answer: "a report per row: registered (with the card), duplicate (of which card) or refused (field and reason)" },
    // Holds.
    Operation { method: "post", path: "/holds", summary: "Place a hold on a title or a copy", permission: Some("circulate"), query: &[], body: Body::Json(&[req("card_number", "string", ""), req("pickup_branch", "string", ""), opt("record_id", "integer", "a title-level hold"), opt("barcode", "string", "an item-level hold"), opt("not_needed_after", "date", ""), opt("override", "object", "`{\"reason\": ...}` past overridable refusals (needs override)")]), status: 201, answer: "the hold with its queue position; refusals with their codes" },
    Operation { method: "patch", path: "/holds/{id}", summary: "Suspend, resume, reorder or change a hold", permission: Some("circulate"), query: &[], body: Body::Json(&[opt("suspended", "boolean", "true suspends, false resumes"), opt("suspended_until", "date", ""), opt("position", "integer", "1 is first"), opt("not_needed_after", "date", "or null")]), status: 200, answer: "the hold" },
    Operation { method: "delete", path: "/holds/{id}", summary: "Cancel a hold (a copy on the shelf for it passes to the next patron)", permission: Some("circulate"), query: &[], body: Body::None, status: 200, answer: "the cancelled hold" },
    Operation { method: "get", path: "/records/{id}/holds", summary: "A title's hold queue in order", permission: Some("circulate"), query: &[], body: Body::None, status: 200, answer: "`holds`" },
    Operation { method: "get", path: "/patrons/{card}/holds", summary: "A patron's holds", permission: Some("circulate"), query: &[], body: Body::None, status: 200, answer: "`holds`, newest first" },
    Operation { method: "get", path: "/closures", summary: "Every emergency closure, by day", permission: Some("signed_in"), query: &[], body: Body::None, status: 200, answer: "`closures`: branch, day, reason, declared_by, declared_at" },
    Operation { method: "post", path: "/closures", summary: "Declare an emergency closure: the day closes at the branches, and the due dates and hold-shelf pickup deadlines it falls on move to the next open day", permission: Some("configure"), query: &[], body: Body::Json(&[req("day", "date", "today or later"), req("reason", "string", ""), req("branches", "array|string", "branch codes, or \"all\"")]), status: 201, answer: "`closures`, `loans_moved` and `holds_extended` (counts); errors `invalid_closure`, `unknown_branch`, `already_closed`" },
    Operation { method: "get", path: "/branches/{code}/pull-list", summary: "Copies to fetch from this branch's shelves for holds, in shelf order", permission: Some("circulate"), query: &[], body: Body::None, status: 200, answer: "`items` with title, call number and the hold each is for" },
    // The patron's account, lost and damaged copies.
    Operation { method: "get", path: "/patrons/{card}/account", summary: "The patron's ledger: every charge and credit, what is outstanding, the balance", permission: Some("handle_money"), query: &[], body: Body::None, status: 200, answer: "`balance`, `entries`" },
    Operation { method: "post", path: "/patrons/{card}/charges", summary: "Post a charge", permission: Some("handle_money"), query: &[], body: Body::Json(&[req("kind", "string", "overdue, lost, processing, damage, ..."), req("amount", "money", ""), req("note", "string", ""), opt("item_id", "integer", "")]), status: 201, answer: "the entry" },
    Operation { method: "post", path: "/patrons/{card}/payments", summary: "Take a payment (oldest charges first unless `charges` says which)", permission: Some("handle_money"), query: &[], body: Body::Json(&[req("amount", "money", ""), req("method", "string", "cash or card"), opt("charges", "array", "entry ids, paid in that order"), opt("keep_credit", "boolean", "an overpayment becomes credit"), opt("note", "string", "")]), status: 201, answer: "the entry and how it was allocated" },
    Operation { method: "post", path: "/patrons/{card}/waivers", summary: "Waive charges, with the reason", permission: Some("handle_money"), query: &[], body: Body::Json(&[req("amount", "money", ""), req("note", "string", "the reason"), opt("charges", "array", "entry ids")]), status: 201, answer: "the entry" },
    Operation { method: "post", path: "/patrons/{card}/write-offs", summary: "Write charges off, with the reason", permission: Some("handle_money"), query: &[], body: Body::Json(&[req("amount", "money", ""), req("note", "string", "the reason"), opt("charges", "array", "entry ids")]), status: 201, answer: "the entry" },
    Operation { method: "post", path: "/patrons/{card}/refunds", summary: "Refund what was paid on a charge, as account credit", permission: Some("handle_money"), query: &[], body: Body::Json(&[req("charge", "integer", "entry id"), req("amount", "money", ""), opt("note", "string", "the reason")]), status: 201, answer: "the entry" },
    Operation { method: "post", path: "/patrons/{card}/payouts", summary: "Hand account credit back", permission: Some("handle_money"), query: &[], body: Body::Json(&[req("amount", "money", ""), req("method", "string", "cash or card"), opt("note", "string", "")]), status: 201, answer: "the entry" },
    Operation { method: "post", path: "/claims-returned", summary: "The patron says the copy came back: the fine stops, the copy goes missing", permission: Some("circulate"), query: &[], body: Body::Json(&[req("barcode", "string", ""), opt("note", "string", "")]), status: 200, answer: "the loan and the patron's count of claims" },
    Operation { method: "post", path: "/inspections", summary: "Record a copy's condition at check-in, with an optional damage charge and repair", permission: Some("check_in"), query: &[], body: Body::Json(&[req("barcode", "string", ""), req("branch", "string", ""), req("condition", "string", "good, worn, damaged or unusable"), req("note", "string", ""), opt("damage_charge", "money", "to the last borrower (needs handle_money)"), opt("repair", "boolean", "to the branch's repair queue")]), status: 201, answer: "the inspection" },
    Operation { method: "get", path: "/branches/{code}/repairs", summary: "The branch's repair queue, longest waiting first", permission: Some("catalog"), query: &[], body: Body::None, status: 200, answer: "`items`" },
    Operation { method: "post", path: "/items/{id}/repaired", summary: "Back from repair, available again", permission: Some("catalog"), query: &[], body: Body::None, status: 200, answer: "the item" },
    // Staff: sessions, accounts, tokens, the audit log.
    Operation { method: "post", path: "/session", summary: "Log in: a session token, also set as an HttpOnly cookie", permission: None, query: &[], body: Body::Json(&[req("login", "string", ""), req("password", "string", "")]), status: 201, answer: "`token`, `expires_at` and the staff member; a wrong login or password is the same 401" },
    Operation { method: "get", path: "/session", summary: "Who the request acts as", permission: Some("signed_in"), query: &[], body: Body::None, status: 200, answer: "login, name, roles, permissions, branches" },
    Operation { method: "delete", path: "/session", summary: "Log out: ends the session the request came with", permission: Some("signed_in"), query: &[], body: Body::None, status: 204, answer: "nothing" },
    Operation { method: "get", path: "/staff", summary: "Every staff account", permission: Some("admin"), query: &[], body: Body::None, status: 200, answer: "`staff`" },
    Operation { method: "post", path: "/staff", summary: "Create a staff account", permission: Some("admin"), query: &[], body: Body::Json(&[req("login", "string", ""), req("name", "string", ""), req("roles", "array", "admin, clerk, supervisor, cataloger, volunteer"), opt("branches", "array", "limit the account to these branches"), req("password", "string", "")]), status: 201, answer: "the account" },
    Operation { method: "get", path: "/staff/{login}", summary: "One staff account (admin, or the staff member themselves)", permission: Some("signed_in"), query: &[], body: Body::None, status: 200, answer: "the account" },
    Operation { method: "put", path: "/staff/{login}", summary: "Change an account's name, roles, branches, or disable it", permission: Some("admin"), query: &[], body: Body::Json(&[opt("name", "string", ""), opt("roles", "array", ""), opt("branches", "array", ""), opt("active", "boolean", "false disables the account and ends its sessions")]), status: 200, answer: "the account" },
    Operation { method: "put", path: "/staff/{login}/password", summary: "Set a password (admin, or one's own with the current password)", permission: Some("signed_in"), query: &[], body: Body::Json(&[req("password", "string", ""), opt("current_password", "string", "when changing one's own without admin")]), status: 204, answer: "nothing; the account's sessions end" },
    Operation { method: "get", path: "/staff/{login}/tokens", summary: "An account's API tokens (never the tokens themselves)", permission: Some("signed_in"), query: &[], body: Body::None, status: 200, answer: "`tokens`" },
    Operation { method: "post", path: "/staff/{login}/tokens", summary: "Create a named API token, shown this once", permission: Some("signed_in"), query: &[], body: Body::Json(&[req("name", "string", "")]), status: 201, answer: "`token` and its id" },
    Operation { method: "delete", path: "/staff/{login}/tokens/{id}", summary: "Revoke an API token", permission: Some("signed_in"), query: &[], body: Body::None, status: 204, answer: "nothing" },
    Operation { method: "get", path: "/overrides", summary: "The override log: who went past which refusals, when and why", permission: Some("admin or reports"), query: PAGE, body: Body::None, status: 200, answer: "`overrides` (staff, action, overridden codes, reason, card) and `next_after`" },
    Operation { method: "get", path: "/audit", summary: "The audit log of staff actions, oldest first", permission: Some("admin or reports"), query: &[opt("staff", "string", "a login"), opt("action", "string", ""), PAGE[0], PAGE[1]], body: Body::None, status: 200, answer: "`entries` and `next`" },
    // Notices and the daily jobs.
    Operation { method: "get", path: "/notice-templates", summary: "Every notice kind's template in force, per channel, and the placeholders", permission: Some("configure"), query: &[], body: Body::None, status: 200, answer: "`templates`, `placeholders`" },
    Operation { method: "get", path: "/notice-templates/{kind}", summary: "One notice template", permission: Some("configure"), query: &[opt("channel", "string", "email (default) or print")], body: Body::None, status: 200, answer: "the template" },
    Operation { method: "put", path: "/notice-templates/{kind}", summary: "Change a notice's wording", permission: Some("configure"), query: &[], body: Body::Json(&[req("subject", "string", ""), req("body", "string", "placeholders such as {patron.first_name}, {items}"), opt("channel", "string", "email (default) or print")]), status: 200, answer: "the template; 422 invalid_template names an unknown placeholder" },
    Operation { method: "get", path: "/notices", summary: "The log of notices sent and printed", permission: Some("reports"), query: &[PAGE[0], PAGE[1]], body: Body::None, status: 200, answer: "`notices` and `next`" },
    Operation { method: "get", path: "/notices/print", summary: "The day's printed notices, one page each (HTML for the browser to print)", permission: Some("reports"), query: &[opt("date", "date", "default today")], body: Body::None, status: 200, answer: "text/html" },
    Operation { method: "post", path: "/jobs/{name}/run", summary: "Run one daily job now (once per library day)", permission: Some("admin"), query: &[opt("date", "date", "default today; never in the future")], body: Body::None, status: 200, answer: "the job's summary, or the summary of its earlier run that day" },
    // Copy cataloging.
    Operation { method: "get", path: "/copycat/targets", summary: "The copy-cataloging targets configured in [[copycat.targets]]", permission: Some("catalog"), query: &[], body: Body::None, status: 200, answer: "`targets`: name, kind (sru or z3950), location, timeout_seconds" },
    Operation { method: "get", path: "/copycat/search", summary: "Search copy-cataloging targets at once by one access point", permission: Some("catalog"), query: COPYCAT_QUERY, body: Body::None, status: 200, answer: "`query` and `targets`: per target its `hits` and `candidates` (position, summary, in_catalog, preview, record as MARC-in-JSON), or `ok: false` and the `error`" },
    Operation { method: "post", path: "/copycat/import", summary: "Import a record found on a target through the import path (matching, on-match policy)", permission: Some("catalog"), query: &[], body: Body::Json(COPYCAT_IMPORT), status: 201, answer: "`outcome` (added: 201; replaced, unchanged, skipped: 200) and the record's `id`" },
    Operation {
        method: "get",
        path: "/openapi.json",
        summary: "This document",
        permission: None,
        query: &[],
        body: Body::None,
        status: 200,
        answer: "OpenAPI 3.1",
    },
];

fn schema(ty: &str) -> Value {
    match ty {
        "money" => json!({"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]{1,2})?$", "description": "exact decimal"}),
        "date" => json!({"type": "string", "format": "date"}),
        "date-time" => json!({"type": "string", "format": "date-time"}),
        "array" => json!({"type": "array", "items": {}}),
        // A list, or one word standing for every member (`"all"` branches).
        "array|string" => json!({"oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]}),
        other => json!({"type": other}),
    }
}

fn described(mut s: Value, about: &str) -> Value {
    if !about.is_empty() {
        s["description"] = json!(about);
    }
    s
}

fn operation(op: &Operation) -> Value {
    let mut parameters: Vec<Value> = op
        .path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    parameters.extend(op.query.iter().map(
        |f| json!({"name": f.name, "in": "query", "required": f.required, "schema": described(schema(f.ty), f.about)}),
    ));
    let mut o = json!({
        "operationId": format!("{}{}", op.method, op.path.replace(['/', '{', '}', '-', '.'], "_")),
        "summary": op.summary,
        "parameters": parameters,
        "responses": {
            op.status.to_string(): {"description": op.answer},
            "default": {"description": "an error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        },
    });
    match op.permission {
        None => o["security"] = json!([]),
        Some(p) => {
            o["description"] = json!(format!("Needs the `{p}` permission."));
            o["x-permission"] = json!(p);
        }
    }
    match op.body {
        Body::None => {}
        Body::Json(fields) => {
            let properties: Map<String, Value> =
                fields.iter().map(|f| (f.name.to_string(), described(schema(f.ty), f.about))).collect();
            let required: Vec<&str> = fields.iter().filter(|f| f.required).map(|f| f.name).collect();
            o["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {
                "type": "object", "properties": properties, "required": required, "additionalProperties": false,
            }}}});
        }
        Body::Other(media, about) => {
            o["requestBody"] = json!({"required": true, "description": about, "content": {media: {"schema": {}}}});
        }
    }
    o
}

/// The whole document.
pub(crate) fn document() -> Value {
    let mut paths = Map::new();
    for op in OPERATIONS {
        let entry = paths.entry(op.path.to_string()).or_insert_with(|| json!({}));
        entry[op.method] = operation(op);
    }
    let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.code()).collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Shelfmark API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The integrated library system's JSON API. Every error is a JSON body \
                `{\"error\": {\"code\", \"field\", \"message\"}}` with a stable code. Staff sign in \
                with POST /session and send the token as `Authorization: Bearer`.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "a session or API token"},
                "session": {"type": "apiKey", "in": "cookie", "name": "shelfmark_session"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {
                            "code": {"type": "string", "enum": codes},
                            "field": {"type": ["string", "null"], "description": "the body member or parameter at fault"},
                            "message": {"type": "string", "description": "a sentence for a person"},
                        },
                    }},
                },
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The `(method, path)` pairs `api/mod.rs` routes, read from its source.
    fn routed() -> BTreeSet<(String, String)> {
        let source = include_str!("api/mod.rs");
        let mut found = BTreeSet::new();
        for (start, _) in source.match_indices(".route(\"") {
            let rest = &source[start + ".route(\"".len()..];
            let Some(end) = rest.find('"') else { continue };
            let path = &rest[..end];
            // The handler expression runs to the parenthesis that closes `.route(`.
            let mut depth = 1;
            let mut stop = rest.len();
            for (i, c) in rest[end..].char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            stop = end + i;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let handlers = &rest[end..stop];
            for method in ["get", "post", "put", "patch", "delete"] {
                let called = handlers
                    .match_indices(&format!("{method}("))
                    .any(|(i, _)| i == 0 || !handlers[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_'));
                if called {
                    found.insert((method.to_string(), path.to_string()));
                }
            }
        }
        found
    }

    #[test]
    fn every_route_is_documented_and_every_documented_operation_is_routed() {
        let routed = routed();
        assert!(routed.len() > 30, "the route reader found only {routed:?}");
        let documented: BTreeSet<(String, String)> =
            OPERATIONS.iter().map(|o| (o.method.to_string(), o.path.to_string())).collect();
        assert_eq!(documented.len(), OPERATIONS.len(), "an operation is in the table twice");
        let undocumented: Vec<_> = routed.difference(&documented).collect();
        let unrouted: Vec<_> = documented.difference(&routed).collect();
        assert!(undocumented.is_empty(), "routed but not in OPERATIONS: {undocumented:?}");
        assert!(unrouted.is_empty(), "in OPERATIONS but not routed: {unrouted:?}");
    }

    #[test]
    fn the_document_lists_every_error_code_and_marks_public_operations() {
        let doc = document();
        let codes = &doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"];
        assert_eq!(codes.as_array().map(Vec::len), Some(ErrorCode::ALL.len()));
        assert_eq!(doc["paths"]["/search"]["get"]["security"], json!([]));
        assert_eq!(doc["paths"]["/checkouts"]["post"]["x-permission"], "circulate");
        let params = &doc["paths"]["/records/{id}/items"]["post"]["parameters"];
        assert_eq!(params[0]["name"], "id");
        assert_eq!(params[0]["in"], "path");
    }
}
