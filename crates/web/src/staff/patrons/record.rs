//! The patron's record, `/staff/patrons/{card}`, and the forms on it that are about the patron
//! (details, card renewal and replacement, blocks). The account's forms are in [`super::money`].

use super::form::{patron_field_ids, patron_fields, patron_input, state_of, Choices, FormState};
use super::{choices, full_name, page, record_link, refusal, CardPath};
use crate::api::patrons::patron_error;
use crate::auth::Acting;
use crate::error::{ApiError, ErrorCode};
use crate::html::{url_encode, Esc};
use crate::staff::{local, once, query_get, see_other, titles, Fields, QueryParams, StaffUser};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use circulation::{ChargeKind, CreditKind, EntryKind, Permission};
use desk::patrons::{BlockRequest, PatronError};
use std::fmt::Write;
use storage::holds::{HoldStatus, StoredHold};
use storage::ledger::Account;
use storage::loans::Loan;
use storage::notices::NoticeRecord;
use storage::patrons::{BlockKind, PatronBlock, PatronRecord, ReadingHistory, ReplacedCard};
use storage::{Database, Page};

/// How much of each list the record shows; the rest is a click away or, for the lists a
/// patron cannot make long (loans and holds are capped by the rules), counted.
const LOANS_SHOWN: usize = 100;
const HOLDS_SHOWN: usize = 50;
const LIFTED_BLOCKS_SHOWN: usize = 10;
const DEPENDANTS_SHOWN: u32 = 20;
const HISTORY_SHOWN: u32 = 10;
const HISTORY_PAGE: u32 = 50;
const NOTICES_SHOWN: u32 = 10;
const NOTICES_PAGE: u32 = 50;

/// Everything the record page shows.
pub(super) struct Record {
    pub patron: PatronRecord,
    blocks: Vec<PatronBlock>,
    replaced: Vec<ReplacedCard>,
    guarantor: Option<PatronRecord>,
    dependants: Vec<PatronRecord>,
    /// Open loans, soonest due first, with (barcode, title).
    loans: Vec<(Loan, String, String)>,
    loans_total: usize,
    /// Open holds, with (title, pickup branch name).
    holds: Vec<(StoredHold, String, String)>,
    holds_total: usize,
    /// With HandleMoney only.
    pub account: Option<Account>,
    history: ReadingHistory,
    notices: Vec<NoticeRecord>,
    choices: Choices,
}

/// A form shown again after a refusal: which form, and what it holds.
pub(super) struct Shown {
    pub form: &'static str,
    pub state: FormState,
}

impl Shown {
    fn of(&self, form: &str) -> Option<&FormState> {
        (self.form == form).then_some(&self.state)
    }
}

pub(super) fn load(state: &AppState, db: &dyn Database, acting: &Acting, card: &str) -> Result<Record, ApiError> {
    let desk = &state.desk;
    let patron = desk.patron(db, card).map_err(patron_error)?;
    let card = patron.card_number.as_str();
    let blocks = desk.blocks(db, card).map_err(patron_error)?;
    let replaced = desk.replaced_cards(db, card).map_err(patron_error)?;
    let guarantor = match &patron.details.guarantor {
        Some(g) => db.patron_record(g)?,
        None => None,
    };
    let dependants = db.dependants(card, DEPENDANTS_SHOWN)?;
    let mut open = db.open_loans(patron.id)?;
    open.sort_by_key(|l| (l.due_at, l.id));
    let loans_total = open.len();
    open.truncate(LOANS_SHOWN);
    let items = titles(db, open.iter().map(|l| l.item_id))?;
    let loans = open
        .into_iter()
        .map(|l| {
            let (barcode, title) = items
                .get(&l.item_id)
                .map(|(i, t)| (i.item.barcode.as_str().to_string(), t.clone()))
                .unwrap_or_else(|| (String::new(), "[no title]".to_string()));
            (l, barcode, title)
        })
        .collect();
    let branches: std::collections::HashMap<String, String> =
        db.branches()?.into_iter().map(|b| (b.code.as_str().to_string(), b.name)).collect();
    let open_holds: Vec<StoredHold> =
        db.patron_holds(patron.id)?.into_iter().filter(|h| HoldStatus::OPEN.contains(&h.status)).collect();
    let holds_total = open_holds.len();
    let mut holds = Vec::new();
    for h in open_holds.into_iter().take(HOLDS_SHOWN) {
        let title = db.record(h.bib_id)?.map(|r| r.derived.title).unwrap_or_else(|| "[no title]".into());
        let branch = branches.get(h.pickup_branch.as_str()).cloned().unwrap_or_else(|| h.pickup_branch.to_string());
        holds.push((h, title, branch));
    }
    let account = if acting.staff.may(Permission::HandleMoney) { db.account(card)? } else { None };
    let history = desk.reading_history(db, card, Page { after: 0, limit: HISTORY_SHOWN }).map_err(patron_error)?;
    let notices = db.patron_notices(patron.id, Page { after: 0, limit: NOTICES_SHOWN })?;
    let choices = choices(state, db)?;
    Ok(Record {
        patron,
        blocks,
        replaced,
        guarantor,
        dependants,
        loans,
        loans_total,
        holds,
        holds_total,
        account,
        history,
        notices,
        choices,
    })
}

/// The record as a page: `done` says what the last form did, `shown` is a refused form.
pub(super) async fn show(
    state: AppState,
    acting: Acting,
    card: String,
    done: Option<String>,
    shown: Option<Shown>,
    status: StatusCode,
) -> Response {
    if let Err(e) = acting.require(Permission::ManagePatrons) {
        return refusal(&state, &acting, e);
    }
    let (st, who) = (state.clone(), acting.clone());
    let loaded = state.db(move |db| load(&st, db, &who, &card)).await;
    match loaded {
        Ok(record) => {
            let main = render(&state, &acting, &record, done.as_deref(), shown.as_ref());
            page(&state, &acting, status, &full_name(&record.patron), &main)
        }
        Err(e) => refusal(&state, &acting, e),
    }
}

/// `GET /staff/patrons/{card}?done=`.
pub(super) async fn page_handler(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(card): CardPath,
    query: QueryParams,
) -> Response {
    let done = query_get(&query, "done").map(str::to_string);
    show(state, acting, card, done, None, StatusCode::OK).await
}

pub(super) fn charge_label(kind: ChargeKind) -> &'static str {
    match kind {
        ChargeKind::Overdue => "Overdue fine",
        ChargeKind::Lost => "Lost item",
        ChargeKind::Damage => "Damage",
        ChargeKind::Processing => "Processing fee",
        ChargeKind::CardReplacement => "Card replacement",
        ChargeKind::Printing => "Printing",
        ChargeKind::EventFee => "Event fee",
        ChargeKind::Other => "Other charge",
    }
}

pub(super) fn credit_label(kind: CreditKind) -> String {
    match kind {
        CreditKind::Payment(m) => format!("Payment ({})", m.as_str()),
        CreditKind::Deposit(m) => format!("Paid into credit ({})", m.as_str()),
        CreditKind::Waiver => "Waiver".to_string(),
        CreditKind::WriteOff => "Write-off".to_string(),
        CreditKind::Refund { .. } => "Refund".to_string(),
    }
}

/// A charge the clerk can pick in the refund form: (row, text).
pub(super) fn refundable_charges(account: &Account) -> Vec<(i64, String)> {
    account
        .ledger
        .entries()
        .iter()
        .zip(&account.rows)
        .filter_map(|(e, r)| match &e.kind {
            EntryKind::Charge { kind, .. } => account
                .ledger
                .refundable(e.id)
                .filter(|m| m.minor() > 0)
                .map(|m| (r.id, format!("{} of {}: {m} paid", charge_label(*kind), e.at.format("%Y-%m-%d")))),
            _ => None,
        })
        .collect()
}

/// A sentence for the last form's success.
fn done_text(record: &Record, done: &str) -> Option<String> {
    let p = &record.patron;
    Some(match done {
        "registered" => format!("Registered {}. Card number: {}.", full_name(p), p.card_number),
        "updated" => "The patron's details were saved.".to_string(),
        "renewed" => format!("Card renewed: it now expires on {}.", p.details.expiry_date),
        "replaced" => match record.replaced.first() {
            Some(old) => format!(
                "New card {}. The old card {} is recorded as replaced and no longer works.",
                p.card_number, old.card_number
            ),
            None => format!("New card {}.", p.card_number),
        },
        "blocked" => "The block was placed.".to_string(),
        "lifted" => "The block was lifted.".to_string(),
        "paid" => format!("Payment taken. Balance now {}.", balance(record)),
        "waived" => format!("Waived. Balance now {}.", balance(record)),
        "refunded" => format!("Refunded. Balance now {}.", balance(record)),
        _ => return None,
    })
}

fn balance(record: &Record) -> String {
    record.account.as_ref().map_or(record.patron.balance, |a| a.patron.balance).to_string()
}

fn render(state: &AppState, acting: &Acting, r: &Record, done: Option<&str>, shown: Option<&Shown>) -> String {
    let p = &r.patron;
    let d = &p.details;
    let card = p.card_number.as_str();
    let base = record_link(card);
    let today = state.desk.circulation().calendar(&d.home_branch).local_date(Utc::now());
    let mut main = format!("<div class=\"record\">\n<h1>{}</h1>\n", Esc(&full_name(p)));
    if let Some(text) = done.and_then(|d| done_text(r, d)) {
        let _ = writeln!(main, "<div class=\"done\" role=\"status\" id=\"done\"><p>{}</p></div>", Esc(&text));
    }
    if let Some(s) = shown {
        if s.state.has_problems() {
            main.push_str(&s.state.summary(&summary_ids(s.form)));
        }
    }
    let may_money = acting.staff.may(Permission::HandleMoney);
    let _ = writeln!(
        main,
        "<nav class=\"record-nav\" aria-label=\"Parts of the record\"><ul><li><a href=\"/staff/desk?card={}\">Open at the circulation desk</a></li>\
         <li><a href=\"#card\">Card</a></li><li><a href=\"#blocks\">Blocks</a></li><li><a href=\"#loans\">Loans and holds</a></li>{}\
         <li><a href=\"#history\">Reading history</a></li><li><a href=\"#notices\">Notices</a></li><li><a href=\"#details\">Edit details</a></li></ul></nav>",
        url_encode(card),
        if may_money { "<li><a href=\"#account\">Account</a></li>" } else { "" },
    );
    let active: Vec<&PatronBlock> =
        r.blocks.iter().filter(|b| b.lifted.is_none() && b.until.is_none_or(|u| u >= today)).collect();
    if !active.is_empty() {
        main.push_str("<div class=\"blocks\" role=\"alert\"><h2>Blocked</h2><ul>");
        for b in &active {
            let _ = write!(main, "<li>{}</li>", Esc(&block_text(b)));
        }
        main.push_str("</ul></div>\n");
    }
    let opt = |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(|s| Esc(s).to_string());
    let _ = writeln!(
        main,
        "<dl class=\"patron-details\"><dt>Card</dt><dd class=\"card\" id=\"card-number\">{}</dd>\
         <dt>Category</dt><dd>{}</dd><dt>Card expires</dt><dd id=\"expiry\">{}{}</dd><dt>Home branch</dt><dd>{}</dd>\
         <dt>Birth date</dt><dd>{}</dd><dt>Email</dt><dd>{}</dd><dt>Phone</dt><dd>{}</dd><dt>Address</dt><dd>{}</dd>\
         <dt>Notices by</dt><dd>{}</dd><dt>Reading history</dt><dd>{}</dd><dt>Registered</dt><dd>{}</dd>\
         <dt>Balance</dt><dd class=\"balance\">{}</dd></dl>",
        Esc(card),
        Esc(d.category.as_str()),
        d.expiry_date,
        if d.expiry_date < today { " (expired)" } else { "" },
        Esc(d.home_branch.as_str()),
        d.birth_date.map(|b| b.to_string()).unwrap_or_else(|| "not given".into()),
        opt(&d.email).unwrap_or_else(|| "none".into()),
        opt(&d.phone).unwrap_or_else(|| "none".into()),
        opt(&d.address).unwrap_or_else(|| "none".into()),
        d.notice_preference.as_str(),
        match d.reading_history {
            storage::patrons::HistoryChoice::Keep => "kept, as the patron chose",
            storage::patrons::HistoryChoice::Default => "not kept (the library's default)",
            storage::patrons::HistoryChoice::Never => "never kept, as the patron chose",
        },
        local(state, p.registered_at),
        balance(r),
    );
    render_guarantor(&mut main, r);
    render_card(&mut main, state, r, &base, shown);
    render_blocks(&mut main, state, r, &base, shown, today);
    render_loans(&mut main, state, r);
    if let Some(account) = &r.account {
        super::money::render(&mut main, state, account, &base, shown);
    }
    render_history(&mut main, state, r, &base);
    render_notices(&mut main, state, r, &base);
    let edit = shown.and_then(|s| s.of("details")).map_or_else(|| state_of(p), clone_state);
    let _ = writeln!(
        main,
        "<section id=\"details\" aria-labelledby=\"details-heading\"><h2 id=\"details-heading\">Edit details</h2>\
         <form method=\"post\" action=\"{base}/details\" class=\"edit-patron\" aria-labelledby=\"details-heading\">{}",
        once::token_field()
    );
    main.push_str(&patron_fields(&edit, "details", &r.choices));
    main.push_str("<div><button type=\"submit\">Save details</button></div></form></section>\n</div>\n");
    main
}

fn clone_state(s: &FormState) -> FormState {
    s.clone()
}

/// The (field, id, label) list of a form's summary.
fn summary_ids(form: &'static str) -> Vec<(&'static str, String, &'static str)> {
    match form {
        "details" => patron_field_ids("details"),
        "replace" => vec![
            ("card_number", "replace-card_number".into(), "New card number"),
            ("reason", "replace-reason".into(), "Why"),
        ],
        "block" => vec![
            ("kind", "block-kind".into(), "Kind of block"),
            ("reason", "block-reason".into(), "Reason"),
            ("until", "block-until".into(), "Until"),
        ],
        other => super::money::summary_ids(other),
    }
}

fn block_text(b: &PatronBlock) -> String {
    let kind = match b.kind {
        BlockKind::Manual => "Manual",
        BlockKind::LostCard => "Lost card",
        BlockKind::AddressUnknown => "Address unknown",
    };
    let mut text = format!("{kind}: {}", b.reason);
    if let Some(u) = b.until {
        let _ = write!(text, " (until {u})");
    }
    text
}

fn render_guarantor(main: &mut String, r: &Record) {
    if r.guarantor.is_none() && r.dependants.is_empty() {
        return;
    }
    main.push_str("<section id=\"family\" aria-labelledby=\"family-heading\"><h2 id=\"family-heading\">Guarantor and dependants</h2>\n");
    if let Some(g) = &r.guarantor {
        let _ = writeln!(
            main,
            "<p>Guarantor: <a href=\"{}\" class=\"guarantor\">{} (card {})</a></p>",
            record_link(&g.card_number),
            Esc(&full_name(g)),
            Esc(&g.card_number)
        );
    }
    if !r.dependants.is_empty() {
        main.push_str("<p>Guarantor of:</p><ul class=\"dependants\">");
        for dep in &r.dependants {
            let _ = write!(
                main,
                "<li><a href=\"{}\">{} (card {})</a></li>",
                record_link(&dep.card_number),
                Esc(&full_name(dep)),
                Esc(&dep.card_number)
            );
        }
        main.push_str("</ul>\n");
    }
    main.push_str("</section>\n");
}

fn render_card(main: &mut String, state: &AppState, r: &Record, base: &str, shown: Option<&Shown>) {
    let _ = write!(
        main,
        "<section id=\"card\" aria-labelledby=\"card-heading\"><h2 id=\"card-heading\">Card</h2>\n\
         <form method=\"post\" action=\"{base}/renewal\" class=\"renew-card\">{}\
         <div><button type=\"submit\">Renew card</button></div></form>\n",
        once::token_field()
    );
    let empty = FormState::default();
    let replace = shown.and_then(|s| s.of("replace")).unwrap_or(&empty);
    let _ = writeln!(
        main,
        "<form method=\"post\" action=\"{base}/replacement\" class=\"replace-card\" aria-label=\"Replace a lost card\">{}",
        once::token_field()
    );
    main.push_str(&replace.input(
        "replace",
        "card_number",
        "New card number (empty: issue the next)",
        " inputmode=\"numeric\" autocomplete=\"off\"",
    ));
    main.push_str(&replace.input("replace", "reason", "Why (lost, stolen, damaged)", " autocomplete=\"off\""));
    main.push_str("<div><button type=\"submit\">Replace card</button></div></form>\n");
    if !r.replaced.is_empty() {
        main.push_str("<table class=\"replaced-cards\"><caption>Cards replaced</caption><thead><tr><th scope=\"col\">Card</th>\
                       <th scope=\"col\">Replaced</th><th scope=\"col\">By</th><th scope=\"col\">Why</th></tr></thead><tbody>");
        for c in &r.replaced {
            let _ = write!(
                main,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                Esc(&c.card_number),
                local(state, c.replaced_at),
                Esc(&c.replaced_by),
                Esc(c.reason.as_deref().unwrap_or(""))
            );
        }
        main.push_str("</tbody></table>\n");
    }
    main.push_str("</section>\n");
}

fn render_blocks(main: &mut String, state: &AppState, r: &Record, base: &str, shown: Option<&Shown>, today: NaiveDate) {
    main.push_str("<section id=\"blocks\" aria-labelledby=\"blocks-heading\"><h2 id=\"blocks-heading\">Blocks</h2>\n");
    let (current, lifted): (Vec<&PatronBlock>, Vec<&PatronBlock>) = r.blocks.iter().partition(|b| b.lifted.is_none());
    if current.is_empty() {
        main.push_str("<p>No blocks.</p>\n");
    } else {
        main.push_str("<ul class=\"block-list\">");
        for b in current {
            let ended = b.until.is_some_and(|u| u < today);
            let _ = write!(
                main,
                "<li>{}{}, placed {} by {} <form method=\"post\" action=\"{base}/blocks/{}/lift\" class=\"inline\">{}\
                 <button type=\"submit\" class=\"secondary\" aria-label=\"Lift the block: {}\">Lift</button></form></li>",
                Esc(&block_text(b)),
                if ended { " (ended)" } else { "" },
                local(state, b.placed_at),
                Esc(&b.placed_by),
                b.id,
                once::token_field(),
                Esc(&b.reason),
            );
        }
        main.push_str("</ul>\n");
    }
    let empty = FormState::default();
    let block = shown.and_then(|s| s.of("block")).unwrap_or(&empty);
    let _ = writeln!(
        main,
        "<form method=\"post\" action=\"{base}/blocks\" class=\"add-block\" aria-label=\"Add a block\">{}",
        once::token_field()
    );
    let kinds = [("manual", "Manual"), ("lost_card", "Lost card"), ("address_unknown", "Address unknown")]
        .iter()
        .map(|(v, t)| (v.to_string(), t.to_string()))
        .collect::<Vec<_>>();
    main.push_str(&block.select("block", "kind", "Kind of block", &kinds));
    main.push_str(&block.input("block", "reason", "Reason", " size=\"30\" autocomplete=\"off\""));
    main.push_str(&block.input("block", "until", "Until, YYYY-MM-DD (manual, optional)", super::form::DATE_ATTRS));
    main.push_str("<div><button type=\"submit\">Add block</button></div></form>\n");
    if !lifted.is_empty() {
        main.push_str("<details><summary>Lifted blocks</summary><ul>");
        for b in lifted.iter().rev().take(LIFTED_BLOCKS_SHOWN) {
            let (at, by) = b.lifted.as_ref().map(|(at, by)| (local(state, *at), by.as_str())).unwrap_or_default();
            let _ = write!(main, "<li>{}: lifted {at} by {}</li>", Esc(&block_text(b)), Esc(by));
        }
        main.push_str("</ul></details>\n");
    }
    main.push_str("</section>\n");
}

fn render_loans(main: &mut String, state: &AppState, r: &Record) {
    let now = Utc::now();
    main.push_str(
        "<section id=\"loans\" aria-labelledby=\"loans-heading\"><h2 id=\"loans-heading\">Loans and holds</h2>\n",
    );
    if r.loans.is_empty() {
        main.push_str("<p>No loans.</p>\n");
    } else {
        let _ = write!(
            main,
            "<table class=\"loans\"><caption>{} on loan</caption><thead><tr><th scope=\"col\">Title</th><th scope=\"col\">Barcode</th>\
             <th scope=\"col\">Due</th></tr></thead><tbody>",
            r.loans_total
        );
        for (l, barcode, title) in &r.loans {
            let due = match overdue_words(l.due_at, now) {
                Some(words) => format!("<span class=\"overdue\">{} ({words})</span>", local(state, l.due_at)),
                None => local(state, l.due_at),
            };
            let _ =
                write!(main, "<tr class=\"loan\"><td>{}</td><td>{}</td><td>{due}</td></tr>", Esc(title), Esc(barcode));
        }
        main.push_str("</tbody></table>\n");
        if r.loans_total > r.loans.len() {
            let _ = writeln!(main, "<p>The first {} of {} loans, soonest due first.</p>", r.loans.len(), r.loans_total);
        }
    }
    if r.holds.is_empty() {
        main.push_str("<p>No holds.</p>\n");
    } else {
        let _ = write!(
            main,
            "<table class=\"holds\"><caption>{} {}</caption><thead><tr><th scope=\"col\">Title</th><th scope=\"col\">Pickup at</th>\
             <th scope=\"col\">Status</th></tr></thead><tbody>",
            r.holds_total,
            if r.holds_total == 1 { "hold" } else { "holds" }
        );
        for (h, title, branch) in &r.holds {
            let status = match h.status {
                HoldStatus::Waiting => "Waiting".to_string(),
                HoldStatus::Suspended => match h.suspended_until {
                    Some(u) => format!("Suspended until {u}"),
                    None => "Suspended".to_string(),
                },
                HoldStatus::InTransit => "In transit to the pickup branch".to_string(),
                HoldStatus::OnShelf => match h.pickup_by {
                    Some(by) => format!("Ready on the hold shelf until {}", local(state, by)),
                    None => "Ready on the hold shelf".to_string(),
                },
                other => other.as_str().to_string(),
            };
            let _ = write!(
                main,
                "<tr class=\"hold\"><td>{}</td><td>{}</td><td>{}</td></tr>",
                Esc(title),
                Esc(branch),
                Esc(&status)
            );
        }
        main.push_str("</tbody></table>\n");
    }
    main.push_str("</section>\n");
}

/// "overdue by 3 days" for a loan past its due time (a part of a day counts as one), else
/// nothing: the words beside the highlight, for whoever cannot see the colour.
fn overdue_words(due_at: DateTime<Utc>, now: DateTime<Utc>) -> Option<String> {
    if due_at >= now {
        return None;
    }
    let late = (now - due_at).num_minutes();
    let days = (late + 24 * 60 - 1) / (24 * 60);
    Some(format!("overdue by {days} {}", if days == 1 { "day" } else { "days" }))
}

fn history_rows(main: &mut String, state: &AppState, entries: &[storage::patrons::HistoryEntry]) {
    main.push_str(
        "<table class=\"history\"><thead><tr><th scope=\"col\">Title</th><th scope=\"col\">Barcode</th>\
                   <th scope=\"col\">Checked out</th><th scope=\"col\">Returned</th></tr></thead><tbody>",
    );
    for e in entries {
        let _ = write!(
            main,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            Esc(&e.title),
            Esc(&e.barcode),
            local(state, e.checked_out_at),
            local(state, e.returned_at)
        );
    }
    main.push_str("</tbody></table>\n");
}

const NOT_KEPT: &str = "The patron did not choose to keep their reading history, so it is not shown.";

fn render_history(main: &mut String, state: &AppState, r: &Record, base: &str) {
    main.push_str(
        "<section id=\"history\" aria-labelledby=\"history-heading\"><h2 id=\"history-heading\">Reading history</h2>\n",
    );
    match &r.history {
        ReadingHistory::NotKept => {
            let _ = writeln!(main, "<p class=\"history-refused\">{NOT_KEPT}</p>");
        }
        ReadingHistory::Kept(entries) if entries.is_empty() => main.push_str("<p>Nothing returned yet.</p>\n"),
        ReadingHistory::Kept(entries) => {
            history_rows(main, state, entries);
            if entries.len() == HISTORY_SHOWN as usize {
                let _ = writeln!(main, "<p><a href=\"{base}/history\">The whole reading history</a></p>");
            }
        }
    }
    main.push_str("</section>\n");
}

fn render_notices(main: &mut String, state: &AppState, r: &Record, base: &str) {
    main.push_str(
        "<section id=\"notices\" aria-labelledby=\"notices-heading\"><h2 id=\"notices-heading\">Notices sent</h2>\n",
    );
    if r.notices.is_empty() {
        main.push_str("<p>No notices.</p>\n");
    } else {
        notice_rows(main, state, &r.notices, &format!("The latest {}", r.notices.len()));
        if r.notices.len() == NOTICES_SHOWN as usize {
            let _ = writeln!(main, "<p><a href=\"{base}/notices\">Every notice sent</a></p>");
        }
    }
    main.push_str("</section>\n");
}

fn notice_rows(main: &mut String, state: &AppState, notices: &[NoticeRecord], caption: &str) {
    let _ = write!(
        main,
        "<table class=\"notices\"><caption>{}</caption><thead><tr><th scope=\"col\">Date</th><th scope=\"col\">Notice</th>\
         <th scope=\"col\">By</th><th scope=\"col\">Status</th></tr></thead><tbody>",
        Esc(caption)
    );
    for n in notices {
        let status = match (n.status.as_str(), &n.error) {
            ("failed", Some(e)) => format!("failed: {e}"),
            (s, _) => s.to_string(),
        };
        let _ = write!(
            main,
            "<tr class=\"notice-row\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            local(state, n.created_at),
            Esc(&n.subject),
            Esc(&n.channel),
            Esc(&status)
        );
    }
    main.push_str("</tbody></table>\n");
}

/// A page of one of the patron's lists (`?after=` the last entry shown): the patron, the page
/// `read` loads, and the heading with the way back to the record; or the refusal to answer with.
async fn list_page<T: Send + 'static>(
    state: &AppState,
    acting: &Acting,
    card: String,
    query: &QueryParams,
    heading: &str,
    read: impl FnOnce(&dyn Database, &desk::Desk, &PatronRecord, i64) -> Result<T, ApiError> + Send + 'static,
) -> Result<(T, i64, String, String), Response> {
    acting.require(Permission::ManagePatrons).map_err(|e| refusal(state, acting, e))?;
    let after = super::after_param(query);
    let desk = state.desk.clone();
    let loaded = state
        .db(move |db| {
            let p = desk.patron(db, &card).map_err(patron_error)?;
            let list = read(db, &desk, &p, after)?;
            Ok((p, list))
        })
        .await;
    let (p, list) = loaded.map_err(|e| refusal(state, acting, e))?;
    let base = record_link(&p.card_number);
    let main = format!(
        "<h1>{heading} {}</h1>\n<p><a href=\"{base}\">Back to the patron's record</a></p>\n",
        Esc(&full_name(&p))
    );
    Ok((list, after, base, main))
}

/// `GET /staff/patrons/{card}/notices?after=`: every notice sent to the patron, newest first, a
/// page at a time.
pub(super) async fn notices(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(card): CardPath,
    query: QueryParams,
) -> Response {
    let read = |db: &dyn Database, _: &desk::Desk, p: &PatronRecord, after| {
        Ok(db.patron_notices(p.id, Page { after, limit: NOTICES_PAGE })?)
    };
    let (notices, after, base, mut main) = match list_page(&state, &acting, card, &query, "Notices sent to", read).await
    {
        Ok(x) => x,
        Err(refused) => return refused,
    };
    if notices.is_empty() {
        main.push_str("<p>Nothing more.</p>\n");
    } else {
        let caption = if after == 0 { "Newest first" } else { "Older notices, newest first" };
        notice_rows(&mut main, &state, &notices, caption);
    }
    if let (true, Some(last)) = (notices.len() == NOTICES_PAGE as usize, notices.last()) {
        let _ = writeln!(main, "<p><a href=\"{base}/notices?after={}\" rel=\"next\">Older</a></p>", last.id);
    }
    page(&state, &acting, StatusCode::OK, "Notices sent", &main)
}

/// `GET /staff/patrons/{card}/history?after=`: the reading history, a page at a time.
pub(super) async fn history(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(card): CardPath,
    query: QueryParams,
) -> Response {
    let read = |db: &dyn Database, desk: &desk::Desk, p: &PatronRecord, after| {
        desk.reading_history(db, &p.card_number, Page { after, limit: HISTORY_PAGE }).map_err(patron_error)
    };
    let (history, _, base, mut main) = match list_page(&state, &acting, card, &query, "Reading history of", read).await
    {
        Ok(x) => x,
        Err(refused) => return refused,
    };
    match history {
        ReadingHistory::NotKept => {
            let _ = writeln!(main, "<p class=\"history-refused\" role=\"status\">{NOT_KEPT}</p>");
        }
        ReadingHistory::Kept(entries) => {
            if entries.is_empty() {
                main.push_str("<p>Nothing more.</p>\n");
            } else {
                history_rows(&mut main, &state, &entries);
            }
            if let (true, Some(last)) = (entries.len() == HISTORY_PAGE as usize, entries.last()) {
                let _ =
                    writeln!(main, "<p><a href=\"{base}/history?after={}\" rel=\"next\">Older</a></p>", last.loan_id);
            }
        }
    }
    page(&state, &acting, StatusCode::OK, "Reading history", &main)
}

/// Runs a form of the record: checks the permission, reads the form, acts once per token. The
/// action answers `Ok(done)` (to the record with that message) or `Err` (the form again).
pub(super) async fn act<F>(
    state: AppState,
    acting: Acting,
    card: String,
    fields: Fields,
    permissions: &[Permission],
    name: &'static str,
    action: F,
) -> Response
where
    F: FnOnce(&AppState, &dyn Database, &Acting, &str, &Fields) -> Result<Result<&'static str, FormState>, ApiError>
        + Send
        + 'static,
{
    for p in permissions {
        if let Err(e) = acting.require(*p) {
            return refusal(&state, &acting, e);
        }
    }
    let (st, who) = (state.clone(), acting.clone());
    once::once(&st, &who, fields.token(), || async move {
        let (st, who, c) = (state.clone(), acting.clone(), card.clone());
        let outcome = state.db(move |db| action(&st, db, &who, &c, &fields)).await;
        match outcome {
            Ok(Ok(done)) => see_other(&format!("{}?done={done}", record_link(&card))),
            Ok(Err(form_state)) => {
                let shown = Shown { form: name, state: form_state };
                show(state, acting, card, None, Some(shown), StatusCode::UNPROCESSABLE_ENTITY).await
            }
            Err(e) => refusal(&state, &acting, e),
        }
    })
    .await
}

/// A refusal of the patron service as the form's problems, or a real error.
pub(super) fn form_problems(e: PatronError, fields: &Fields) -> Result<FormState, ApiError> {
    let mut shown = FormState::from_fields(fields);
    match e {
        PatronError::Invalid(problems) => shown.add_problems(&problems),
        other => {
            let e = patron_error(other);
            if e.code.status().is_server_error() {
                return Err(e);
            }
            shown.add_problem(e.field.as_deref().unwrap_or("form"), e.message);
        }
    }
    Ok(shown)
}

/// `POST /staff/patrons/{card}/details`.
pub(super) async fn edit(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(card): CardPath,
    fields: Fields,
) -> Response {
    act(state, acting, card, fields, &[Permission::ManagePatrons], "details", |state, db, _, card, fields| {
        let input = match patron_input(fields, false) {
            Ok(i) => i,
            Err(problems) => return form_problems(PatronError::Invalid(problems), fields).map(Err),
        };
        match state.desk.update_patron(db, card, &input, Utc::now()) {
            Ok(_) => Ok(Ok("updated")),
            Err(e) => form_problems(e, fields).map(Err),
        }
    })
    .await
}

/// `POST /staff/patrons/{card}/renewal`: the card is renewed by its category's validity.
pub(super) async fn renew(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(card): CardPath,
    fields: Fields,
) -> Response {
    act(state, acting, card, fields, &[Permission::ManagePatrons], "renew", |state, db, _, card, fields| {
        match state.desk.renew_card(db, card, Utc::now()) {
            Ok(_) => Ok(Ok("renewed")),
            Err(e) => form_problems(e, fields).map(Err),
        }
    })
    .await
}

/// `POST /staff/patrons/{card}/replacement` with `card_number` (optional) and `reason`. The
/// record moves to the new card, so the answer goes there.
pub(super) async fn replace(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(card): CardPath,
    fields: Fields,
) -> Response {
    if let Err(e) = acting.require(Permission::ManagePatrons) {
        return refusal(&state, &acting, e);
    }
    let (st, who) = (state.clone(), acting.clone());
    let fields = std::sync::Arc::new(fields);
    once::once(&st, &who, fields.token(), || async move {
        let (desk, staff, c, f) =
            (state.desk.clone(), acting.name.clone(), card.clone(), std::sync::Arc::clone(&fields));
        let outcome = state
            .db(move |db| match desk.replace_card(db, &c, f.get("card_number"), &staff, f.get("reason"), Utc::now()) {
                Ok(p) => Ok(Ok(p.card_number)),
                Err(e) => form_problems(e, &f).map(Err),
            })
            .await;
        match outcome {
            Ok(Ok(new_card)) => see_other(&format!("{}?done=replaced", record_link(&new_card))),
            Ok(Err(form_state)) => {
                let shown = Shown { form: "replace", state: form_state };
                show(state, acting, card, None, Some(shown), StatusCode::UNPROCESSABLE_ENTITY).await
            }
            Err(e) => refusal(&state, &acting, e),
        }
    })
    .await
}

/// `POST /staff/patrons/{card}/blocks` with `kind`, `reason` and (manual) `until`.
pub(super) async fn add_block(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path(card): CardPath,
    fields: Fields,
) -> Response {
    act(state, acting, card, fields, &[Permission::ManagePatrons], "block", |state, db, acting, card, fields| {
        let mut shown = FormState::from_fields(fields);
        let kind = fields.get("kind").unwrap_or("manual");
        let kind = match BlockKind::parse(kind) {
            Some(k) => k,
            None => {
                shown.add_problem("kind", format!("{kind:?} is not manual, lost card or address unknown"));
                return Ok(Err(shown));
            }
        };
        let until = match fields.get("until") {
            None => None,
            Some(raw) => match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
                Ok(d) => Some(d),
                Err(_) => {
                    shown.add_problem("until", format!("{raw:?} is not a date: write it as YYYY-MM-DD"));
                    return Ok(Err(shown));
                }
            },
        };
        let request = BlockRequest { kind, reason: fields.get("reason").unwrap_or("").to_string(), until };
        match state.desk.add_block(db, card, &request, &acting.name, Utc::now()) {
            Ok(_) => Ok(Ok("blocked")),
            Err(e) => form_problems(e, fields).map(Err),
        }
    })
    .await
}

/// `POST /staff/patrons/{card}/blocks/{id}/lift`.
pub(super) async fn lift_block(
    State(state): State<AppState>,
    StaffUser(acting): StaffUser,
    Path((card, id)): Path<(String, String)>,
    fields: Fields,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        let e = ApiError::field(ErrorCode::InvalidParameter, "id", format!("{id:?} is not a block number"));
        return refusal(&state, &acting, e);
    };
    act(state, acting, card, fields, &[Permission::ManagePatrons], "lift", move |state, db, acting, card, fields| {
        match state.desk.lift_block(db, card, id, &acting.name, Utc::now()) {
            Ok(_) => Ok(Ok("lifted")),
            Err(e) => form_problems(e, fields).map(Err),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overdue_loan_says_so_in_words() {
        let due = DateTime::parse_from_rfc3339("2026-03-10T21:00:00Z").expect("time").with_timezone(&Utc);
        let at = |s: &str| DateTime::parse_from_rfc3339(s).expect("time").with_timezone(&Utc);
        assert_eq!(overdue_words(due, at("2026-03-10T20:59:00Z")), None);
        assert_eq!(overdue_words(due, due), None);
        assert_eq!(overdue_words(due, at("2026-03-10T21:05:00Z")).as_deref(), Some("overdue by 1 day"));
        assert_eq!(overdue_words(due, at("2026-03-11T21:00:00Z")).as_deref(), Some("overdue by 1 day"));
        assert_eq!(overdue_words(due, at("2026-03-13T09:00:00Z")).as_deref(), Some("overdue by 3 days"));
    }
}
