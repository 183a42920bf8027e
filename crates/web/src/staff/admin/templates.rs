//! Notice templates (`/staff/admin/notices`): every kind's template in force for email and
//! print (the library's own or the default), and an edit form for each with the placeholders
//! it may use and a preview filled by `notices::render` from a sample patron and two items. The
//! form's Preview button shows the text as sent without saving it; Save stores it through the
//! same `save_template` as `PUT /api/v1/notice-templates/{kind}`, which refuses an unknown
//! placeholder on the part that has it. Configure permission, as the JSON API.

use std::fmt::Write;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::{Duration, Utc};
use circulation::{NoticeKind, Permission};
use notices::{NoticeContext, NoticeItem, Template};
use storage::notices::StoredTemplate;

use super::{page, refusal, scroll_box, Problems};
use crate::api::notices::{in_force, save_template, CHANNELS};
use crate::auth::Acting;
use crate::error::{ApiError, ErrorCode};
use crate::html::Esc;
use crate::staff::{local, once, query_get, see_other, Fields, QueryParams, StaffUser};
use crate::AppState;

const PATH: &str = "/staff/admin/notices";
const TITLE: &str = "Notice templates";

pub(super) fn routes() -> Router<AppState> {
    Router::new().route(PATH, get(list)).route("/staff/admin/notices/{kind}/{channel}", get(edit).post(save))
}

fn kind_name(kind: NoticeKind) -> String {
    super::super::capitalised(&kind.as_str().replace('_', " "))
}

/// The template in force, and who last changed it (`None`: the default).
fn current(kind: NoticeKind, channel: &str, stored: &[StoredTemplate]) -> (Template, Option<String>) {
    match in_force(kind, channel, stored) {
        Some(t) => (
            Template { subject: t.subject.clone(), body: t.body.clone() },
            Some(format!("{} (stored for {})", t.updated_by, t.channel)),
        ),
        None => (notices::default_template(kind), None),
    }
}

async fn list(State(state): State<AppState>, StaffUser(acting): StaffUser, query: QueryParams) -> Response {
    if let Err(e) = acting.require(Permission::Configure) {
        return refusal(&state, &acting, e);
    }
    let stored = match state.db(|db| Ok(db.notice_templates()?)).await {
        Ok(s) => s,
        Err(e) => return refusal(&state, &acting, e),
    };
    let mut main = format!("<h1>{TITLE}</h1>\n");
    if let Some(saved) = query_get(&query, "saved") {
        let _ = writeln!(main, "<p class=\"done\" role=\"status\">The {} template is saved.</p>", Esc(saved));
    }
    let mut table = String::from(
        "<table class=\"admin\" id=\"templates\"><thead><tr><th scope=\"col\">Notice</th><th scope=\"col\">Channel</th>\
         <th scope=\"col\">Subject</th><th scope=\"col\">Text</th><th scope=\"col\">Edit</th></tr></thead>\n<tbody>\n",
    );
    for kind in notices::KINDS {
        for channel in CHANNELS {
            let (t, by) = current(kind, channel, &stored);
            let _ = writeln!(
                table,
                "<tr><th scope=\"row\">{}</th><td>{channel}</td><td>{}</td><td>{}</td>\
                 <td><a href=\"{PATH}/{}/{channel}\" aria-label=\"Edit the {} {channel} template\">Edit</a></td></tr>",
                Esc(&kind_name(kind)),
                Esc(&t.subject),
                Esc(&by.map_or("the default".to_string(), |b| format!("the library's own, by {b}"))),
                kind.as_str(),
                Esc(&kind_name(kind).to_lowercase()),
            );
        }
    }
    table.push_str("</tbody></table>\n");
    main.push_str(&scroll_box(TITLE, &table));
    page(&state, &acting, StatusCode::OK, TITLE, &main)
}

fn parse(kind: &str, channel: &str) -> Result<(NoticeKind, &'static str), ApiError> {
    let k = notices::parse_kind(kind).ok_or_else(|| {
        ApiError::field(ErrorCode::NoticeKindNotFound, "kind", format!("there is no {kind:?} notice"))
    })?;
    let c = CHANNELS.iter().copied().find(|c| *c == channel).ok_or_else(|| {
        ApiError::field(ErrorCode::InvalidParameter, "channel", format!("{channel:?} is not email or print"))
    })?;
    Ok((k, c))
}

/// A patron and two items to fill the preview with.
fn sample(state: &AppState, kind: NoticeKind) -> NoticeContext {
    let now = Utc::now();
    let today = jobs::library_day(&state.desk.circulation(), now);
    let item = |title: &str, barcode: &str, days| NoticeItem {
        title: title.into(),
        barcode: barcode.into(),
        date: now + Duration::days(days),
        branch: Some("Central Library".into()),
    };
    NoticeContext {
        kind,
        library_name: state.config.library_name.clone(),
        time_zone: state.desk.circulation().time_zone,
        first_name: "Ada".into(),
        surname: "Lovelace".into(),
        card_number: "21234000000017".into(),
        card_expiry: today + Duration::days(365),
        today,
        items: vec![
            item("Fahrenheit 451", "31234000000011", 3),
            item("The Left Hand of Darkness", "31234000000029", 3),
        ],
    }
}

fn form_main(
    state: &AppState,
    kind: NoticeKind,
    channel: &str,
    template: &Template,
    by: Option<&str>,
    problems: &Problems,
    preview: bool,
) -> String {
    let mut main = format!("<h1>{} notice, {channel}</h1>\n", Esc(&kind_name(kind)));
    let _ = writeln!(
        main,
        "<p>In force now: {}.</p>",
        Esc(&by.map_or("the default".to_string(), |b| format!("the library's own, last saved by {b}")))
    );
    main.push_str(&problems.summary());
    let _ = write!(
        main,
        "<form method=\"post\" action=\"{PATH}/{}/{channel}\" class=\"admin-form\">\n{}\n",
        kind.as_str(),
        once::token_field()
    );
    main.push_str(&problems.input("subject", "Subject", &template.subject, " required size=\"60\""));
    main.push_str(&problems.textarea("body", "Text", &template.body, 12));
    main.push_str(
        "<div><button type=\"submit\" name=\"action\" value=\"save\">Save</button> \
         <button type=\"submit\" name=\"action\" value=\"preview\" class=\"secondary\">Preview without saving</button></div>\n</form>\n",
    );
    main.push_str("<h2>Placeholders</h2>\n<dl id=\"placeholders\">");
    for (name, about) in notices::PLACEHOLDERS {
        let _ = write!(main, "<dt><code>{{{}}}</code></dt><dd>{}</dd>", Esc(name), Esc(about));
    }
    main.push_str("</dl>\n");
    let heading = if preview { "Preview of the text above (not saved)" } else { "Preview" };
    let _ = writeln!(main, "<h2 id=\"preview-heading\">{heading}</h2>");
    match notices::render(template, &sample(state, kind)) {
        Ok(r) => {
            let _ = writeln!(
                main,
                "<div id=\"preview\" class=\"notice\"><p><strong>Subject:</strong> {}</p><pre>{}</pre></div>",
                Esc(&r.subject),
                Esc(&r.body)
            );
        }
        Err(e) => {
            let _ = writeln!(main, "<p id=\"preview\">No preview: {}</p>", Esc(&e.to_string()));
        }
    }
    let _ = writeln!(main, "<p>Sample: Ada Lovelace, two items, as of {}.</p>", Esc(&local(state, Utc::now())));
    let _ = writeln!(main, "<p><a href=\"{PATH}\">Back to notice templates</a></p>");
    main
}

async fn edit(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path((kind, channel)): Path<(String, String)>,
) -> Response {
    if let Err(e) = acting.require(Permission::Configure) {
        return refusal(&state, &acting, e);
    }
    let (kind, channel) = match parse(&kind, &channel) {
        Ok(k) => k,
        Err(e) => return refusal(&state, &acting, e),
    };
    let stored = match state.db(|db| Ok(db.notice_templates()?)).await {
        Ok(s) => s,
        Err(e) => return refusal(&state, &acting, e),
    };
    let (template, by) = current(kind, channel, &stored);
    let main = form_main(&state, kind, channel, &template, by.as_deref(), &Problems::default(), false);
    page(&state, &acting, StatusCode::OK, TITLE, &main)
}

async fn save(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path((kind, channel)): Path<(String, String)>,
    fields: Fields,
) -> Response {
    if let Err(e) = acting.require(Permission::Configure) {
        return refusal(&state, &acting, e);
    }
    let (kind, channel) = match parse(&kind, &channel) {
        Ok(k) => k,
        Err(e) => return refusal(&state, &acting, e),
    };
    once::once(&state, &acting, fields.token(), || async {
        let answer = |acting: &Acting, status, template: &Template, problems: &Problems, preview| {
            let main = form_main(&state, kind, channel, template, None, problems, preview);
            page(&state, acting, status, TITLE, &main)
        };
        // The body keeps its own layout; the browser sends CR LF line ends.
        let template = Template {
            subject: fields.get("subject").unwrap_or("").to_string(),
            body: fields.raw("body").unwrap_or("").replace("\r\n", "\n"),
        };
        let mut problems = Problems::default();
        if template.subject.is_empty() {
            problems.add("subject", "Subject: enter the subject line.");
        }
        if template.body.trim().is_empty() {
            problems.add("body", "Text: enter the notice's text.");
        }
        if let Err(e) = notices::check(&template) {
            let field = match &e {
                notices::TemplateError::UnknownPlaceholder { part, .. }
                | notices::TemplateError::Unclosed { part }
                | notices::TemplateError::Unopened { part }
                | notices::TemplateError::Empty { part } => *part,
                notices::TemplateError::MultilineSubject => "subject",
            };
            let label = if field == "body" { "Text" } else { "Subject" };
            problems.add(field, format!("{label}: {e}"));
        }
        if !problems.is_empty() {
            return answer(&acting, StatusCode::BAD_REQUEST, &template, &problems, true);
        }
        if fields.get("action") == Some("preview") {
            return answer(&acting, StatusCode::OK, &template, &problems, true);
        }
        match save_template(&state, &acting, kind, channel.to_string(), template.clone()).await {
            Ok(_) => see_other(&format!("{PATH}?saved={}+{channel}", kind.as_str())),
            Err(e) => match Problems::from_error(e, &["subject", "body"], "body") {
                Ok(problems) => answer(&acting, StatusCode::BAD_REQUEST, &template, &problems, true),
                Err(e) => refusal(&state, &acting, e),
            },
        }
    })
    .await
}
