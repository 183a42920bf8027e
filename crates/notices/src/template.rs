//! Templates and rendering: pure functions, no I/O.
//!
//! A template is a subject and a body with placeholders in braces: `{patron.first_name}`,
//! `{library.name}`, `{items}` (one line per loan or hold: title, barcode and the date, in the
//! library's time zone). `{{` and `}}` are literal braces. A template is checked when the
//! library saves it, so an unknown placeholder is refused then, with its name, rather than
//! printed to a patron.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use circulation::NoticeKind;

/// Every kind of notice, in the order a librarian reads the list.
pub const KINDS: [NoticeKind; 7] = [
    NoticeKind::Courtesy,
    NoticeKind::Overdue { level: 1 },
    NoticeKind::Overdue { level: 2 },
    NoticeKind::Overdue { level: 3 },
    NoticeKind::HoldReady,
    NoticeKind::HoldExpiring,
    NoticeKind::CardExpiring,
];

/// `courtesy`, `overdue_2`, ... back to the kind.
pub fn parse_kind(s: &str) -> Option<NoticeKind> {
    KINDS.into_iter().find(|k| k.as_str() == s)
}

/// The placeholders a template may use, with what each stands for.
pub const PLACEHOLDERS: &[(&str, &str)] = &[
    ("patron.first_name", "the patron's first name"),
    ("patron.surname", "the patron's surname"),
    ("patron.card_number", "the patron's card number"),
    ("library.name", "the library's name"),
    ("card.expiry_date", "the date the patron's card expires"),
    ("date", "the day the notice is sent"),
    ("item_count", "how many items the notice lists"),
    ("items", "the items, one per line: title, barcode and due date (or pickup deadline)"),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub subject: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("the {part} uses the unknown placeholder {{{name}}}; known placeholders are {known}")]
    UnknownPlaceholder { part: &'static str, name: String, known: String },
    #[error("the {part} has a {{ with no closing }} (write {{{{ for a literal brace)")]
    Unclosed { part: &'static str },
    #[error("the {part} has a }} with no opening {{ (write }}}} for a literal brace)")]
    Unopened { part: &'static str },
    #[error("the {part} is empty")]
    Empty { part: &'static str },
    #[error("the subject must be one line")]
    MultilineSubject,
}

/// The library's default wording for each kind.
pub fn default_template(kind: NoticeKind) -> Template {
    let (subject, intro) = match kind {
        NoticeKind::Courtesy => (
            "{library.name}: items due soon",
            "This is a reminder that the following items are due soon. You can renew them unless someone else is waiting.",
        ),
        NoticeKind::Overdue { level: 1 } => (
            "{library.name}: items overdue",
            "The following items are overdue. Please return or renew them.",
        ),
        NoticeKind::Overdue { level: 2 } => (
            "{library.name}: second notice, items overdue",
            "Our records show the following items are still overdue. Please return them as soon as you can.",
        ),
        NoticeKind::Overdue { .. } => (
            "{library.name}: final notice, items overdue",
            "This is our final notice. If the following items are not returned they will be marked lost and their replacement cost charged to your account.",
        ),
        NoticeKind::HoldReady => (
            "{library.name}: your hold is ready",
            "The following items you asked for are ready for you to pick up.",
        ),
        NoticeKind::HoldExpiring => (
            "{library.name}: pick up your hold soon",
            "The following items are waiting for you, but not for much longer.",
        ),
        NoticeKind::CardExpiring => (
            "{library.name}: your library card expires soon",
            "Your library card {patron.card_number} expires on {card.expiry_date}. Visit any branch to renew it.",
        ),
    };
    let items = if matches!(kind, NoticeKind::CardExpiring) { "" } else { "\n\n{items}" };
    Template {
        subject: subject.to_string(),
        body: format!("Dear {{patron.first_name}} {{patron.surname}},\n\n{intro}{items}\n\n{{library.name}}\n"),
    }
}

enum Piece<'a> {
    Text(&'a str),
    Brace(char),
    Placeholder(&'a str),
}

fn pieces<'a>(part: &'static str, text: &'a str) -> Result<Vec<Piece<'a>>, TemplateError> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(['{', '}']) {
        out.push(Piece::Text(&rest[..at]));
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("{{") {
            out.push(Piece::Brace('{'));
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            out.push(Piece::Brace('}'));
            rest = after;
        } else if tail.starts_with('}') {
            return Err(TemplateError::Unopened { part });
        } else {
            let close = tail.find('}').ok_or(TemplateError::Unclosed { part })?;
            let name = &tail[1..close];
            if name.contains('{') {
                return Err(TemplateError::Unclosed { part });
            }
            out.push(Piece::Placeholder(name));
            rest = &tail[close + 1..];
        }
    }
    out.push(Piece::Text(rest));
    Ok(out)
}

fn check_part(part: &'static str, text: &str) -> Result<(), TemplateError> {
    if text.trim().is_empty() {
        return Err(TemplateError::Empty { part });
    }
    for piece in pieces(part, text)? {
        if let Piece::Placeholder(name) = piece {
            if !PLACEHOLDERS.iter().any(|(p, _)| *p == name.trim()) {
                let known = PLACEHOLDERS.iter().map(|(p, _)| format!("{{{p}}}")).collect::<Vec<_>>().join(", ");
                return Err(TemplateError::UnknownPlaceholder { part, name: name.to_string(), known });
            }
        }
    }
    Ok(())
}

/// Checks a template before it is saved.
pub fn check(template: &Template) -> Result<(), TemplateError> {
    if template.subject.contains(['\n', '\r']) {
        return Err(TemplateError::MultilineSubject);
    }
    check_part("subject", &template.subject)?;
    check_part("body", &template.body)
}

/// One line of `{items}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeItem {
    pub title: String,
    pub barcode: String,
    /// The due time (loans) or pickup deadline (holds).
    pub date: DateTime<Utc>,
    /// The pickup branch (holds).
    pub branch: Option<String>,
}

/// Everything a notice's placeholders are filled from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeContext {
    pub kind: NoticeKind,
    pub library_name: String,
    pub time_zone: Tz,
    pub first_name: String,
    pub surname: String,
    pub card_number: String,
    pub card_expiry: NaiveDate,
    pub today: NaiveDate,
    pub items: Vec<NoticeItem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

fn local(ctx: &NoticeContext, at: DateTime<Utc>) -> String {
    at.with_timezone(&ctx.time_zone).format("%Y-%m-%d %H:%M").to_string()
}

fn items_text(ctx: &NoticeContext) -> String {
    let hold = matches!(ctx.kind, NoticeKind::HoldReady | NoticeKind::HoldExpiring);
    ctx.items
        .iter()
        .map(|i| {
            if hold {
                let at = i.branch.as_deref().map(|b| format!(" at {b}")).unwrap_or_default();
                format!("  - {} (barcode {}): pick up by {}{at}", i.title, i.barcode, local(ctx, i.date))
            } else {
                format!("  - {} (barcode {}): due {}", i.title, i.barcode, local(ctx, i.date))
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn value(ctx: &NoticeContext, name: &str) -> String {
    match name {
        "patron.first_name" => ctx.first_name.clone(),
        "patron.surname" => ctx.surname.clone(),
        "patron.card_number" => ctx.card_number.clone(),
        "library.name" => ctx.library_name.clone(),
        "card.expiry_date" => ctx.card_expiry.format("%Y-%m-%d").to_string(),
        "date" => ctx.today.format("%Y-%m-%d").to_string(),
        "item_count" => ctx.items.len().to_string(),
        "items" => items_text(ctx),
        // `check` refused anything else when the template was saved; a default never has one.
        _ => String::new(),
    }
}

fn render_part(part: &'static str, text: &str, ctx: &NoticeContext) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(text.len() + 64);
    for piece in pieces(part, text)? {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Brace(c) => out.push(c),
            Piece::Placeholder(name) => out.push_str(&value(ctx, name.trim())),
        }
    }
    Ok(out)
}

/// Fills a template. Checks it first, so a template that never went through [`check`] (one
/// edited in the database by hand) fails here rather than reaching a patron half-filled.
pub fn render(template: &Template, ctx: &NoticeContext) -> Result<Rendered, TemplateError> {
    check(template)?;
    Ok(Rendered {
        // Names are patrons' data: a line break in one must not start a new mail header line.
        subject: render_part("subject", &template.subject, ctx)?.replace(['\r', '\n'], " "),
        body: render_part("body", &template.body, ctx)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ctx(kind: NoticeKind) -> NoticeContext {
        NoticeContext {
            kind,
            library_name: "Riverton Public Library".into(),
            time_zone: chrono_tz::America::Chicago,
            first_name: "Ada".into(),
            surname: "Lovelace".into(),
            card_number: "21000000000017".into(),
            card_expiry: NaiveDate::from_ymd_opt(2027, 1, 31).expect("date"),
            today: NaiveDate::from_ymd_opt(2026, 3, 16).expect("date"),
            items: vec![NoticeItem {
                title: "Middlemarch".into(),
                barcode: "31000000000012".into(),
                // 04:59 UTC on the 19th is 23:59 on the 18th in Chicago (CDT, UTC-5).
                date: Utc.with_ymd_and_hms(2026, 3, 19, 4, 59, 0).single().expect("time"),
                branch: Some("MAIN".into()),
            }],
        }
    }

    #[test]
    fn every_default_template_passes_its_own_check_and_fills_every_placeholder() {
        for kind in KINDS {
            let t = default_template(kind);
            check(&t).expect("default template checks");
            let r = render(&t, &ctx(kind)).expect("renders");
            assert!(!r.subject.contains('{') && !r.body.contains('{'), "{kind:?}: {r:?}");
            assert!(r.subject.starts_with("Riverton Public Library: "), "{kind:?}");
            assert!(r.body.starts_with("Dear Ada Lovelace,"), "{kind:?}");
        }
        assert_eq!(KINDS.iter().map(|k| parse_kind(k.as_str())).collect::<Vec<_>>(), KINDS.map(Some).to_vec());
        assert_eq!(parse_kind("overdue_4"), None);
    }

    #[test]
    fn items_show_title_barcode_and_the_due_date_in_the_library_time_zone() {
        let r = render(&default_template(NoticeKind::Courtesy), &ctx(NoticeKind::Courtesy)).expect("renders");
        assert!(r.body.contains("  - Middlemarch (barcode 31000000000012): due 2026-03-18 23:59"), "{}", r.body);
        let hold = render(&default_template(NoticeKind::HoldReady), &ctx(NoticeKind::HoldReady)).expect("renders");
        assert!(hold.body.contains("pick up by 2026-03-18 23:59 at MAIN"), "{}", hold.body);
        let card = render(&default_template(NoticeKind::CardExpiring), &ctx(NoticeKind::CardExpiring)).expect("ok");
        assert!(card.body.contains("card 21000000000017 expires on 2027-01-31"), "{}", card.body);
    }

    #[test]
    fn an_unknown_placeholder_is_refused_with_its_name() {
        let t = Template { subject: "Hi {patron.firstname}".into(), body: "x".into() };
        match check(&t) {
            Err(TemplateError::UnknownPlaceholder { part: "subject", name, .. }) => {
                assert_eq!(name, "patron.firstname")
            }
            other => panic!("{other:?}"),
        }
        let e = check(&Template { subject: "s".into(), body: "{items} {fines}".into() }).expect_err("refused");
        assert!(e.to_string().contains("{fines}"), "{e}");
        assert!(e.to_string().contains("{patron.first_name}"), "the message lists the known ones: {e}");
    }

    #[test]
    fn braces_escape_and_unbalanced_braces_are_refused() {
        let t = Template { subject: "s".into(), body: "{{not a placeholder}} for {patron.first_name}".into() };
        assert_eq!(render(&t, &ctx(NoticeKind::Courtesy)).expect("ok").body, "{not a placeholder} for Ada");
        let open = Template { subject: "s".into(), body: "Dear {patron.first_name".into() };
        assert_eq!(check(&open), Err(TemplateError::Unclosed { part: "body" }));
        let close = Template { subject: "s}".into(), body: "b".into() };
        assert_eq!(check(&close), Err(TemplateError::Unopened { part: "subject" }));
        let empty = Template { subject: " ".into(), body: "b".into() };
        assert_eq!(check(&empty), Err(TemplateError::Empty { part: "subject" }));
        let two = Template { subject: "a\nb".into(), body: "b".into() };
        assert_eq!(check(&two), Err(TemplateError::MultilineSubject));
    }

    #[test]
    fn a_line_break_in_a_name_never_reaches_the_subject_line() {
        let mut c = ctx(NoticeKind::Courtesy);
        c.first_name = "Ada\r\nBcc: x@example.org".into();
        let t = Template { subject: "Hello {patron.first_name}".into(), body: "b".into() };
        assert_eq!(render(&t, &c).expect("ok").subject, "Hello Ada  Bcc: x@example.org");
    }
}
