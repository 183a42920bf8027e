//! Staged import of a MARC file, server-rendered: `/staff/cataloging/import` takes a file
//! (ISO 2709 or MARCXML, as a form upload or a raw body, up to [`MAX_UPLOAD`]), parses every
//! record and stores the batch (`storage::staging`) with, per record, its title and the catalog
//! record it matches (`Database::import_match`, the import's own matching: identical MARC,
//! 001+003, OCLC number, ISBN) or why it cannot be imported. The preview page shows the counts
//! and the records page by page; staff then choose, for the batch, what a matched record does
//! (add, replace, skip) and the batch is imported by `import::import_reader`, the engine of the
//! CLI `import`, reading the staged records. A batch moves staged -> applying -> applied in the
//! database, so it is imported once however often the form is sent (and `once` answers a
//! double-click with the first answer). Everything here needs the Catalog permission.

use super::{error_page, layout, local, once, Fields, StaffUser};
use crate::auth::Acting;
use crate::error::{ApiError, ErrorCode};
use crate::html::Esc;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use catalog::ItemMapping;
use chrono::Utc;
use circulation::Permission;
use std::collections::HashMap;
use std::fmt::Write;
use storage::staging::{on_match_str, parse_on_match, Batch, BatchState, NewBatch, StagedMatch, StagedRecord};
use storage::{Database, ImportMatch, OnMatch};

const PATH: &str = "/staff/cataloging/import";
const TITLE: &str = "Import a MARC file";
/// The largest file staged in one go: about 10,000 ordinary records. A larger load is a job
/// for the command line (`shelfmark import`), which streams.
pub(crate) const MAX_UPLOAD: usize = 20 * 1024 * 1024;
/// Records per preview page.
const PAGE: u32 = 100;
/// Batches listed on the upload page.
const RECENT: u32 = 20;
/// An application still unfinished after this long is taken as stopped with the server (a
/// whole upload imports in seconds), and staff may release the batch to apply it again.
const STALE_MINUTES: i64 = 15;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(PATH, get(upload_page).post(stage).layer(DefaultBodyLimit::max(MAX_UPLOAD + 64 * 1024)))
        .route("/staff/cataloging/import/{id}", get(preview))
        .route("/staff/cataloging/import/{id}/apply", post(apply))
        .route("/staff/cataloging/import/{id}/release", post(release))
}

fn page(state: &AppState, acting: &Acting, status: StatusCode, title: &str, main: &str) -> Response {
    (status, Html(layout(&state.config.library_name, Some(acting), title, main))).into_response()
}

fn refusal(state: &AppState, acting: &Acting, e: ApiError) -> Response {
    error_page(&state.config.library_name, Some(acting), e)
}

// ---------------------------------------------------------------------------------------------
// The upload.

fn upload_form(error: Option<&str>) -> String {
    let mut out = String::new();
    if let Some(e) = error {
        let _ = writeln!(out, "<p class=\"refused\" role=\"alert\" id=\"file-error\">{}</p>", Esc(e));
    }
    let described =
        if error.is_some() { " aria-describedby=\"file-error file-help\"" } else { " aria-describedby=\"file-help\"" };
    let _ = write!(
        out,
        "<form method=\"post\" action=\"{PATH}\" enctype=\"multipart/form-data\">\n\
         <div><label for=\"file\">MARC file</label>\
         <input id=\"file\" name=\"file\" type=\"file\" required accept=\".mrc,.marc,.iso,.xml,.dat\"{described}>\
         <p id=\"file-help\">ISO 2709 (MARC 21, UTF-8 or MARC-8) or MARCXML, up to {} MB. Nothing is imported yet: \
         the next page shows what each record matches in the catalog.</p></div>\n\
         <div><button type=\"submit\">Stage the file</button></div>\n</form>\n",
        MAX_UPLOAD / (1024 * 1024)
    );
    out
}

fn batch_list(state: &AppState, batches: &[Batch]) -> String {
    if batches.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<table class=\"batches\"><caption>Recent files</caption><thead><tr><th scope=\"col\">File</th>\
         <th scope=\"col\">Staged</th><th scope=\"col\">Records</th><th scope=\"col\">State</th></tr></thead><tbody>\n",
    );
    for b in batches {
        let _ = writeln!(
            out,
            "<tr><td><a href=\"{PATH}/{}\">{}</a></td><td>{} by {}</td><td>{}</td><td>{}</td></tr>",
            b.id,
            Esc(&b.file_name),
            Esc(&local(state, b.staged_at)),
            Esc(&b.staged_by),
            b.records,
            state_text(b.state)
        );
    }
    out.push_str("</tbody></table>\n");
    out
}

fn state_text(s: BatchState) -> &'static str {
    match s {
        BatchState::Staged => "staged, not imported",
        BatchState::Applying => "importing",
        BatchState::Applied => "imported",
    }
}

async fn upload_screen(state: &AppState, acting: &Acting, status: StatusCode, error: Option<&str>) -> Response {
    let batches = match state.db(|db| Ok(db.batches(RECENT)?)).await {
        Ok(b) => b,
        Err(e) => return refusal(state, acting, e),
    };
    let main = format!("<h1>{TITLE}</h1>\n{}{}", upload_form(error), batch_list(state, &batches));
    page(state, acting, status, TITLE, &main)
}

/// `GET /staff/cataloging/import`: the upload form and the recent batches.
async fn upload_page(State(state): State<AppState>, StaffUser(acting): StaffUser) -> Response {
    if let Err(e) = acting.require(Permission::Catalog) {
        return refusal(&state, &acting, e);
    }
    upload_screen(&state, &acting, StatusCode::OK, None).await
}

/// `POST /staff/cataloging/import`: a `multipart/form-data` upload (field `file`) or the file
/// as the raw body (`?name=` names it). Stages it and sends the browser to its preview.
async fn stage(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Err(e) = acting.require(Permission::Catalog) {
        return refusal(&state, &acting, e);
    }
    let body = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            let message = format!("MARC file: the file is larger than {} MB", MAX_UPLOAD / (1024 * 1024));
            return upload_screen(&state, &acting, StatusCode::PAYLOAD_TOO_LARGE, Some(&message)).await;
        }
        Err(e) => {
            let message = format!("MARC file: the upload could not be read: {e}");
            return upload_screen(&state, &acting, StatusCode::BAD_REQUEST, Some(&message)).await;
        }
    };
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let (name, data) = if content_type.starts_with("multipart/form-data") {
        match multipart_file(content_type, &body, "file") {
            Ok((name, data)) => (name, data.to_vec()),
            Err(problem) => {
                return upload_screen(&state, &acting, StatusCode::BAD_REQUEST, Some(&format!("MARC file: {problem}")))
                    .await
            }
        }
    } else {
        (params.get("name").cloned().unwrap_or_default(), body.to_vec())
    };
    let name = if name.trim().is_empty() { "upload".to_string() } else { name.trim().to_string() };
    if data.is_empty() {
        let message = "MARC file: choose a file; the one sent was empty";
        return upload_screen(&state, &acting, StatusCode::BAD_REQUEST, Some(message)).await;
    }
    let by = acting.name.clone();
    let staged = state.db(move |db| stage_file(db, &name, &data, &by)).await;
    match staged {
        Ok(Ok(batch)) => super::see_other(&format!("{PATH}/{}", batch.id)),
        Ok(Err(problem)) => {
            upload_screen(&state, &acting, StatusCode::UNPROCESSABLE_ENTITY, Some(&format!("MARC file: {problem}")))
                .await
        }
        Err(e) => refusal(&state, &acting, e),
    }
}

/// The part named `field` of a `multipart/form-data` body: its file name and its bytes.
fn multipart_file<'a>(content_type: &str, body: &'a [u8], field: &str) -> Result<(String, &'a [u8]), String> {
    let boundary = content_type
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .next()
        .map(|b| b.trim_matches('"'))
        .filter(|b| !b.is_empty() && b.len() <= 200)
        .ok_or("the form upload has no boundary")?;
    let delimiter = format!("--{boundary}").into_bytes();
    let mut at = find(body, &delimiter, 0).ok_or("the form upload is not multipart")?;
    loop {
        let start = at + delimiter.len();
        if body[start..].starts_with(b"--") {
            return Err(format!("the form has no {field} field"));
        }
        let headers_start = start + if body[start..].starts_with(b"\r\n") { 2 } else { 0 };
        let headers_end = find(body, b"\r\n\r\n", headers_start).ok_or("a part of the form upload has no end")?;
        let content_start = headers_end + 4;
        let mut closing = b"\r\n".to_vec();
        closing.extend_from_slice(&delimiter);
        let content_end = delimiter_at(body, &closing, content_start).ok_or("the form upload is cut short")?;
        let headers = String::from_utf8_lossy(&body[headers_start..headers_end]);
        let disposition = headers
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))
            .unwrap_or("")
            .to_string();
        if parameter(&disposition, "name").as_deref() == Some(field) {
            let name = parameter(&disposition, "filename").unwrap_or_default();
            return Ok((name, &body[content_start..content_end]));
        }
        at = content_end + 2;
    }
}

/// `name="value"` from a header line (quoted or not).
fn parameter(line: &str, name: &str) -> Option<String> {
    line.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        (k.trim().eq_ignore_ascii_case(name)).then(|| v.trim().trim_matches('"').to_string())
    })
}

/// The next delimiter line: CRLF, `--boundary`, optional blanks, then CRLF or the closing
/// `--` (RFC 2046 5.1.1); the same bytes followed by anything else are the file's content.
fn delimiter_at(body: &[u8], closing: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let at = find(body, closing, from)?;
        let rest = &body[at + closing.len()..];
        let blanks = rest.iter().take_while(|b| **b == b' ' || **b == b'\t').count();
        let after = &rest[blanks..];
        if after.starts_with(b"\r\n") || after.starts_with(b"--") {
            return Some(at);
        }
        from = at + 1;
    }
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > haystack.len() || needle.is_empty() {
        return None;
    }
    haystack[from..].windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

/// Parses every record and matches it against the catalog; stores the batch. The outer error
/// is the database's; the inner one a file that is not MARC at all.
fn stage_file(db: &dyn Database, name: &str, data: &[u8], by: &str) -> Result<Result<Batch, String>, ApiError> {
    let options = marc::ReadOptions { encoding: marc::Encoding::Auto };
    let reader = match marc::MarcReader::detect(std::io::Cursor::new(data), options) {
        Ok(Some(r)) => r,
        Ok(None) => {
            return Ok(Err(
                "this is not a MARC file: it starts with neither an ISO 2709 record length nor MARCXML (<)".into()
            ))
        }
        Err(e) => return Ok(Err(format!("the file could not be read: {e}"))),
    };
    let format = match reader.format() {
        marc::FileFormat::MarcXml => "marcxml",
        _ => "iso2709",
    };
    let mapping = ItemMapping::koha_952();
    let mut records = Vec::new();
    for read in reader {
        match read {
            Ok(read) => records.push(stage_record(db, read, &mapping)?),
            Err(e) => {
                records.push(StagedRecord {
                    number: e.number as i64,
                    byte_offset: e.offset as i64,
                    title: String::new(),
                    marc: None,
                    problem: Some(format!("record {} (byte {}): {}", e.number, e.offset, e.problem)),
                    matched: None,
                });
                if e.fatal {
                    break;
                }
            }
        }
    }
    if records.is_empty() {
        return Ok(Err("the file holds no records".into()));
    }
    let batch = NewBatch {
        file_name: name.to_string(),
        format: format.to_string(),
        staged_by: by.to_string(),
        staged_at: Utc::now(),
    };
    Ok(Ok(db.stage_batch(&batch, &records)?))
}

/// One readable record: its title, what it matches, and its bytes as the import will read
/// them; or why the catalog would refuse it.
fn stage_record(db: &dyn Database, read: marc::ReadRecord, mapping: &ItemMapping) -> Result<StagedRecord, ApiError> {
    let marc::ReadRecord { number, offset, record, .. } = read;
    let mut staged = StagedRecord {
        number: number as i64,
        byte_offset: offset as i64,
        title: catalog::derive(&record).title,
        marc: None,
        problem: None,
        matched: None,
    };
    // Matched as the import will match it: without the item fields.
    let mut bare = record.clone();
    bare.fields.retain(|f| !f.as_data().is_some_and(|d| mapping.carries_item(d)));
    let prepared = match import::prepare_record(bare) {
        Ok(p) => p,
        Err(e) => {
            staged.problem = Some(format!("record {number} (byte {offset}): {e}"));
            return Ok(staged);
        }
    };
    let mut marc = Vec::with_capacity(prepared.marc.len() + 256);
    if let Err(e) = marc::iso2709::write_record(&record, &mut marc) {
        staged.problem = Some(format!("record {number} (byte {offset}): cannot be stored as ISO 2709: {e}"));
        return Ok(staged);
    }
    staged.marc = Some(marc);
    staged.matched = match db.import_match(&prepared)? {
        None => None,
        Some(found) => {
            let (bib_id, identical) = match found {
                ImportMatch::Identical(id) => (id, true),
                ImportMatch::Matched(id) => (id, false),
            };
            let existing = db.record(bib_id)?;
            let title = existing.as_ref().map(|r| r.derived.title.clone()).unwrap_or_default();
            let key = match &existing {
                _ if identical => "identical record".to_string(),
                Some(r) => matching_key(&prepared.derived, &r.derived),
                None => "match".to_string(),
            };
            Some(StagedMatch { bib_id, identical, key, title })
        }
    };
    Ok(staged)
}

/// Which identifier two records share, in the order the import matches by.
fn matching_key(new: &catalog::BibDerived, old: &catalog::BibDerived) -> String {
    if let (Some(a), Some(b)) = (&new.control_number, &old.control_number) {
        if a == b && new.control_number_identifier == old.control_number_identifier {
            return match &new.control_number_identifier {
                Some(org) => format!("001 {a} (003 {org})"),
                None => format!("001 {a}"),
            };
        }
    }
    if let Some(o) = new.oclc_numbers.iter().find(|o| old.oclc_numbers.contains(o)) {
        return format!("OCLC number {o}");
    }
    if let Some(i) = new.isbns.iter().find(|i| old.isbns.contains(i)) {
        return format!("ISBN {i}");
    }
    "identifier".to_string()
}

// ---------------------------------------------------------------------------------------------
// The preview.

fn counts(batch: &Batch) -> String {
    let ready = batch.records - batch.failed;
    format!(
        "<dl class=\"counts\"><dt>Records in the file</dt><dd id=\"count-records\">{}</dd>\
         <dt>Ready to import</dt><dd id=\"count-ready\">{ready}</dd>\
         <dt>New to the catalog</dt><dd id=\"count-new\">{}</dd>\
         <dt>Matching a catalog record</dt><dd id=\"count-matched\">{}</dd>\
         <dt>Could not be read or imported</dt><dd id=\"count-failed\">{}</dd></dl>\n",
        batch.records,
        ready - batch.matched,
        batch.matched,
        batch.failed
    )
}

fn record_rows(records: &[StagedRecord]) -> String {
    let mut out = String::from(
        "<table class=\"staged\"><caption>Records</caption><thead><tr><th scope=\"col\">No.</th>\
         <th scope=\"col\">Title</th><th scope=\"col\">In the catalog</th></tr></thead><tbody>\n",
    );
    for r in records {
        let (class, status) = match (&r.problem, &r.matched) {
            (Some(problem), _) => ("failed", format!("<strong>Not imported:</strong> {}", Esc(problem))),
            (None, Some(m)) if m.identical => (
                "identical",
                format!(
                    "Identical to record <a href=\"/records/{0}\">{0}</a>, {1}: importing changes nothing",
                    m.bib_id,
                    Esc(&m.title)
                ),
            ),
            (None, Some(m)) => (
                "matched",
                format!(
                    "Matches record <a href=\"/records/{0}\">{0}</a>, {1}, by {2}",
                    m.bib_id,
                    Esc(&m.title),
                    Esc(&m.key)
                ),
            ),
            (None, None) => ("new", "New".to_string()),
        };
        let title = if r.title.is_empty() { "[no title]".to_string() } else { r.title.clone() };
        let _ = writeln!(
            out,
            "<tr class=\"{class}\" id=\"record-{0}\"><td>{0}</td><td>{1}</td><td>{status}</td></tr>",
            r.number,
            Esc(&title)
        );
    }
    out.push_str("</tbody></table>\n");
    out
}

fn apply_form(batch: &Batch, error: Option<&str>) -> String {
    let mut out = format!(
        "<form method=\"post\" action=\"{PATH}/{}/apply\" class=\"apply no-print\">{}\n",
        batch.id,
        once::token_field()
    );
    if let Some(e) = error {
        let _ = writeln!(out, "<p class=\"refused\" role=\"alert\" id=\"on-match-error\">{}</p>", Esc(e));
    }
    let described = if error.is_some() { " aria-describedby=\"on-match-error\"" } else { "" };
    let _ = writeln!(
        out,
        "<fieldset{described}><legend>The {} records that match a catalog record</legend>",
        batch.matched
    );
    for (value, label, checked) in [
        ("skip", "Skip: leave the catalog record as it is (new copies in the file are still added to it)", true),
        ("replace", "Replace: the file's record takes the place of the catalog record (its copies stay)", false),
        ("add", "Add: a new catalog record beside the one that matches", false),
    ] {
        let _ = writeln!(
            out,
            "<div><input type=\"radio\" id=\"on-match-{value}\" name=\"on_match\" value=\"{value}\"{}>\
             <label for=\"on-match-{value}\" style=\"display:inline;font-weight:400\">{label}</label></div>",
            if checked { " checked" } else { "" }
        );
    }
    let _ = write!(
        out,
        "</fieldset>\n<p>New records are added. Records that could not be read stay out.</p>\n\
         <div><button type=\"submit\">Import {} records</button></div>\n</form>\n",
        batch.records - batch.failed
    );
    out
}

fn applied_summary(state: &AppState, batch: &Batch) -> String {
    let result: serde_json::Value =
        batch.result.as_deref().and_then(|r| serde_json::from_str(r).ok()).unwrap_or_default();
    let n = |k: &str| result[k].as_u64().unwrap_or(0);
    let mut out = format!(
        "<div class=\"done\" role=\"status\"><h2>Imported</h2><p>On {} by {}, matched records: {}.</p>\n\
         <dl class=\"result\"><dt>Added</dt><dd id=\"result-added\">{}</dd><dt>Replaced</dt><dd id=\"result-replaced\">{}</dd>\
         <dt>Skipped</dt><dd id=\"result-skipped\">{}</dd><dt>Unchanged (identical)</dt><dd id=\"result-unchanged\">{}</dd>\
         <dt>Refused when stored</dt><dd id=\"result-rejected\">{}</dd><dt>Copies added</dt><dd id=\"result-items\">{}</dd></dl>\n",
        Esc(&batch.applied_at.map(|t| local(state, t)).unwrap_or_default()),
        Esc(batch.applied_by.as_deref().unwrap_or("")),
        batch.on_match.map_or("", on_match_str),
        n("added"),
        n("replaced"),
        n("skipped"),
        n("unchanged"),
        n("rejected"),
        n("items_added"),
    );
    if let Some(rejects) = result["first_rejects"].as_array().filter(|r| !r.is_empty()) {
        out.push_str("<ul class=\"rejects\">\n");
        for r in rejects {
            let _ = writeln!(out, "<li>{}</li>", Esc(r.as_str().unwrap_or("")));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("<p>This file cannot be imported again; stage it anew to import it again.</p></div>\n");
    out
}

async fn preview_screen(
    state: &AppState,
    acting: &Acting,
    id: i64,
    after: i64,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<&str>,
) -> Response {
    let read = state
        .db(move |db| {
            let batch = db
                .batch(id)?
                .ok_or_else(|| ApiError::new(ErrorCode::RouteNotFound, format!("there is no staged import {id}")))?;
            let records = db.staged_records(id, after, PAGE)?;
            Ok((batch, records))
        })
        .await;
    let (batch, records) = match read {
        Ok(r) => r,
        Err(e) => return refusal(state, acting, e),
    };
    let title = format!("Staged import: {}", batch.file_name);
    let mut main = format!("<h1>{}</h1>\n", Esc(&title));
    if let Some(n) = notice {
        let _ = writeln!(main, "<p class=\"notice\" role=\"alert\">{}</p>", Esc(n));
    }
    let _ = writeln!(
        main,
        "<p>{} ({}), staged {} by {}: <strong class=\"batch-state\">{}</strong>.</p>",
        Esc(&batch.file_name),
        if batch.format == "marcxml" { "MARCXML" } else { "ISO 2709" },
        Esc(&local(state, batch.staged_at)),
        Esc(&batch.staged_by),
        state_text(batch.state)
    );
    main.push_str(&counts(&batch));
    match batch.state {
        BatchState::Applied => main.push_str(&applied_summary(state, &batch)),
        BatchState::Applying if batch.applied_at.is_some_and(|t| t < stale_before()) => {
            let _ = writeln!(
                main,
                "<div class=\"notice\" id=\"stuck\"><p>The import started {} and never finished: the server \
                 probably stopped while importing. Records imported before it stopped are in the catalog; to \
                 import the rest, release the file and apply it again with <em>Skip</em> for matched records, \
                 so that those already imported are not added twice.</p>\n\
                 <form method=\"post\" action=\"{PATH}/{}/release\" class=\"no-print\">{}\
                 <button type=\"submit\">Release the file</button></form></div>",
                Esc(&batch.applied_at.map(|t| local(state, t)).unwrap_or_default()),
                batch.id,
                once::token_field()
            );
        }
        BatchState::Applying => {
            main.push_str("<p class=\"notice\">This file is being imported now. Reload to see the result.</p>\n")
        }
        BatchState::Staged => main.push_str(&apply_form(&batch, error)),
    }
    main.push_str(&record_rows(&records));
    let last = records.last().map_or(after, |r| r.number);
    let mut paging = String::new();
    if after > 0 {
        let back = (after - i64::from(PAGE)).max(0);
        let _ = write!(paging, "<a href=\"{PATH}/{id}?after={back}\">Previous records</a> ");
    }
    if records.len() == PAGE as usize && last < batch.records {
        let _ = write!(paging, "<a href=\"{PATH}/{id}?after={last}\">Next records</a>");
    }
    if !paging.is_empty() {
        let _ = writeln!(main, "<nav aria-label=\"Records pages\" class=\"no-print\"><p>{paging}</p></nav>");
    }
    let _ = writeln!(main, "<p class=\"no-print\"><a href=\"{PATH}\">Import another file</a></p>");
    page(state, acting, status, &title, &main)
}

fn batch_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::new(ErrorCode::RouteNotFound, format!("there is no staged import {raw:?}")))
}

/// `GET /staff/cataloging/import/{id}?after=`: the batch's counts, choice and records.
async fn preview(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    if let Err(e) = acting.require(Permission::Catalog) {
        return refusal(&state, &acting, e);
    }
    let id = match batch_id(&id) {
        Ok(id) => id,
        Err(e) => return refusal(&state, &acting, e),
    };
    let after = params.get("after").and_then(|a| a.parse::<i64>().ok()).unwrap_or(0).max(0);
    preview_screen(&state, &acting, id, after, StatusCode::OK, None, None).await
}

/// What applying did, as stored with the batch.
fn result_json(report: &import::ImportReport) -> String {
    serde_json::json!({
        "read": report.read,
        "added": report.added,
        "replaced": report.replaced,
        "unchanged": report.unchanged,
        "skipped": report.skipped,
        "rejected": report.rejected,
        "items_added": report.items_added,
        "items_existing": report.items_existing,
        "first_rejects": report.first_rejects,
    })
    .to_string()
}

/// The engine numbers the records of what it reads (the staged records only); the clerk reads
/// the file's numbers. `record N (byte B):` becomes `record M:` with M the file's number.
fn renumber(line: &str, numbers: &[i64]) -> String {
    let Some(rest) = line.strip_prefix("record ") else { return line.to_string() };
    let Some((n, tail)) = rest.split_once(' ') else { return line.to_string() };
    let Some(original) = n.parse::<usize>().ok().and_then(|n| numbers.get(n.wrapping_sub(1))) else {
        return line.to_string();
    };
    let tail = match tail.strip_prefix('(').and_then(|t| t.split_once("):")) {
        Some((_, after)) => after.to_string(),
        None => format!(" {tail}"),
    };
    format!("record {original}:{tail}")
}

/// Imports a batch that this request moved to applying; back to staged if the import fails.
fn apply_batch(db: &dyn Database, id: i64, on_match: OnMatch) -> Result<Batch, ApiError> {
    let staged = db.staged_marc(id)?;
    let numbers: Vec<i64> = staged.iter().map(|(n, _)| *n).collect();
    let mut report = import::ImportReport::default();
    if !staged.is_empty() {
        let bytes: Vec<u8> = staged.into_iter().flat_map(|(_, m)| m).collect();
        let options = import::ImportOptions { on_match, ..Default::default() };
        // The web page shows the rejects; the engine's files beside them are not kept.
        let base = std::env::temp_dir().join(format!("shelfmark-staged-{id}-{}", std::process::id()));
        let mut rejects = import::RejectSink::at(&base);
        let done = import::import_reader(
            db,
            std::io::Cursor::new(bytes),
            &options,
            &mut rejects,
            &|_, _: &import::ImportReport| {},
        );
        for path in [rejects.report_path(), rejects.records_path()].into_iter().flatten() {
            let _ = std::fs::remove_file(path);
        }
        match done {
            Ok(r) => report = r,
            Err(e) => {
                db.finish_applying(id, None)?;
                return Err(ApiError::internal(format!("importing staged batch {id}: {e}")));
            }
        }
    }
    report.first_rejects = report.first_rejects.iter().map(|l| renumber(l, &numbers)).collect();
    Ok(db.finish_applying(id, Some(&result_json(&report)))?)
}

/// `POST /staff/cataloging/import/{id}/apply` (on_match, form_token): imports the batch once.
async fn apply(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(id): Path<String>,
    fields: Fields,
) -> Response {
    if let Err(e) = acting.require(Permission::Catalog) {
        return refusal(&state, &acting, e);
    }
    let id = match batch_id(&id) {
        Ok(id) => id,
        Err(e) => return refusal(&state, &acting, e),
    };
    let on_match = match fields.get("on_match").map(|m| (m, parse_on_match(m))) {
        Some((_, Some(m))) => m,
        Some((raw, None)) => {
            let message = format!("Matched records: {raw:?} is not a choice; choose skip, replace or add");
            return preview_screen(&state, &acting, id, 0, StatusCode::BAD_REQUEST, None, Some(&message)).await;
        }
        None => {
            let message = "Matched records: choose skip, replace or add";
            return preview_screen(&state, &acting, id, 0, StatusCode::BAD_REQUEST, None, Some(message)).await;
        }
    };
    once::once(&state, &acting, fields.token(), || async {
        let by = acting.name.clone();
        let applied = state
            .db(move |db| match db.start_applying(id, on_match, &by, Utc::now()) {
                Ok(Some(_)) => apply_batch(db, id, on_match).map(Some),
                Ok(None) => Ok(None),
                Err(storage::StorageError::NotFound { .. }) => {
                    Err(ApiError::new(ErrorCode::RouteNotFound, format!("there is no staged import {id}")))
                }
                Err(e) => Err(e.into()),
            })
            .await;
        match applied {
            Ok(Some(_)) => preview_screen(&state, &acting, id, 0, StatusCode::OK, None, None).await,
            Ok(None) => {
                let notice = "This file was already imported (or is being imported): it was not imported again.";
                preview_screen(&state, &acting, id, 0, StatusCode::CONFLICT, Some(notice), None).await
            }
            Err(e) => refusal(&state, &acting, e),
        }
    })
    .await
}

fn stale_before() -> chrono::DateTime<Utc> {
    Utc::now() - chrono::Duration::minutes(STALE_MINUTES)
}

/// `POST /staff/cataloging/import/{id}/release` (form_token): a batch whose import stopped with
/// the server goes back to staged, so it can be applied again.
async fn release(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(id): Path<String>,
    fields: Fields,
) -> Response {
    if let Err(e) = acting.require(Permission::Catalog) {
        return refusal(&state, &acting, e);
    }
    let id = match batch_id(&id) {
        Ok(id) => id,
        Err(e) => return refusal(&state, &acting, e),
    };
    once::once(&state, &acting, fields.token(), || async {
        match state.db(move |db| Ok(db.release_applying(id, stale_before())?)).await {
            Ok(true) => {
                let notice = "Released: apply it again, with Skip for matched records.";
                preview_screen(&state, &acting, id, 0, StatusCode::OK, Some(notice), None).await
            }
            Ok(false) => {
                let notice = format!(
                    "Not released: the file is not stuck (it was imported, or its import started less than \
                     {STALE_MINUTES} minutes ago)."
                );
                preview_screen(&state, &acting, id, 0, StatusCode::CONFLICT, Some(&notice), None).await
            }
            Err(e) => refusal(&state, &acting, e),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_part_of_a_form_upload() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"form_token\"\r\n\r\nabc\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"vendor.mrc\"\r\nContent-Type: application/octet-stream\r\n\r\n\
00026nam\r\n--XyZ \x1e\x1d\r\n--XyZ--\r\n";
        let (name, data) = multipart_file("multipart/form-data; boundary=XyZ", body, "file").unwrap_or_default();
        assert_eq!(name, "vendor.mrc");
        assert_eq!(data, b"00026nam\r\n--XyZ \x1e\x1d", "a boundary-like line inside the file is data");
        assert_eq!(
            multipart_file("multipart/form-data; boundary=\"XyZ\"", body, "other").map(|(n, _)| n),
            Err("the form has no other field".to_string())
        );
        assert!(multipart_file("multipart/form-data", body, "file").is_err());
        assert!(multipart_file("multipart/form-data; boundary=Q", body, "file").is_err());
        assert!(multipart_file(
            "multipart/form-data; boundary=XyZ",
            b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nno end",
            "file"
        )
        .is_err());
    }

    #[test]
    fn rejects_carry_the_file_record_numbers() {
        let numbers = [1, 3, 7];
        assert_eq!(renumber("record 3 (byte 1234): item barcode twice", &numbers), "record 7: item barcode twice");
        assert_eq!(renumber("record 9 (byte 1): x", &numbers), "record 9 (byte 1): x");
        assert_eq!(renumber("something else", &numbers), "something else");
    }

    #[test]
    fn the_key_two_records_share() {
        let mut a = catalog::BibDerived { isbns: vec!["9780000000002".into()], ..Default::default() };
        let mut b = a.clone();
        assert_eq!(matching_key(&a, &b), "ISBN 9780000000002");
        a.oclc_numbers = vec!["123".into()];
        b.oclc_numbers = vec!["123".into()];
        assert_eq!(matching_key(&a, &b), "OCLC number 123");
        a.control_number = Some("ocm9".into());
        b.control_number = Some("ocm9".into());
        a.control_number_identifier = Some("OCoLC".into());
        b.control_number_identifier = Some("OCoLC".into());
        assert_eq!(matching_key(&a, &b), "001 ocm9 (003 OCoLC)");
    }
}
