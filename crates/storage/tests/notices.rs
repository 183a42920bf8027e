//! Notices and daily jobs on every backend: templates, the loans a notice job reads, unique
//! notice keys, delivery status, the print batch, the log's paging, job runs.

mod common;

use catalog::{Barcode, BibDerived, Branch, Code, ItemStatus, ItemType, NewItem};
use chrono::{DateTime, NaiveDate, Utc};
use storage::notices::{due_occasion, Delivery, JobRun, LoanCursor, NewNotice, NoticeKey, StoredTemplate};
use storage::{Database, NewRecord, Page, Patron};

suite! {
    db: [
        templates_are_stored_per_kind_and_channel,
        loans_due_are_found_by_due_time_with_the_notices_already_sent,
        a_notice_key_is_claimed_once,
        a_declined_render_claims_nothing,
        delivery_status_print_batch_and_log_paging,
        cards_expiring_in_a_window,
        a_job_runs_once_a_day,
    ],
    harness: []
}

fn code(s: &str) -> Code {
    Code::parse(s).expect("code")
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("time").with_timezone(&Utc)
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn setup(db: &dyn Database) {
    db.upsert_branch(&Branch { code: code("MAIN"), name: "Main Library".into() }).expect("branch");
    db.upsert_item_type(&ItemType { code: code("BK"), name: "Book".into(), loanable: true }).expect("type");
}

fn register(db: &dyn Database, card: &str, email: Option<&str>, expiry: &str) -> i64 {
    db.upsert_patron(&Patron {
        card_number: card.into(),
        surname: "Reader".into(),
        first_name: format!("First{card}"),
        category: code("ADULT"),
        home_branch: code("MAIN"),
        expiry_date: expiry.into(),
        email: email.map(str::to_string),
    })
    .expect("patron");
    db.patron_account(card).expect("account").expect("registered").id
}

/// A copy of a record titled `title`, lent to `card`, due at `due`; the loan id.
fn lend(db: &dyn Database, card: &str, barcode: &str, title: &str, due: &str) -> i64 {
    let derived = BibDerived { title: title.into(), ..BibDerived::default() };
    let mut marc = b"00000nam a2200000 a 4500".to_vec();
    marc.extend(title.as_bytes());
    marc.push(0x1d);
    let bib = db.create_record(&NewRecord { marc, derived, row: None }).expect("record");
    let bc = Barcode::parse(barcode).expect("barcode");
    db.create_item(
        bib,
        &NewItem {
            barcode: bc.clone(),
            home_branch: code("MAIN"),
            holding_branch: code("MAIN"),
            location: None,
            collection: None,
            call_number: None,
            item_type: code("BK"),
            price: None,
            public_note: None,
            staff_note: None,
            materials_specified: None,
            status: ItemStatus::Available,
            acquired_on: None,
        },
    )
    .expect("item");
    db.checkout(card, &bc, at("2026-03-01T12:00:00Z"), &mut |_| {
        Some(storage::loans::LoanWrite {
            checkout_branch: code("MAIN"),
            due_at: at(due),
            override_entry: None,
            holds: Vec::new(),
        })
    })
    .expect("checkout")
    .expect("lent")
    .id
}

fn notice(patron_id: i64, kind: &str, channel: &str, d: &str) -> NewNotice {
    NewNotice {
        patron_id,
        kind: kind.into(),
        channel: channel.into(),
        recipient: (channel == "email").then(|| "reader@example.org".to_string()),
        subject: format!("{kind} subject"),
        body: format!("{kind} body"),
        day: day(d),
    }
}

fn loan_key(patron_id: i64, kind: &str, loan: i64, due: &str) -> NoticeKey {
    NoticeKey { patron_id, kind: kind.into(), subject: format!("loan:{loan}"), occasion: due_occasion(at(due)) }
}

fn templates_are_stored_per_kind_and_channel(db: &dyn Database) {
    assert!(db.notice_templates().expect("list").is_empty());
    let t = |channel: &str, subject: &str, when: &str| StoredTemplate {
        kind: "courtesy".into(),
        channel: channel.into(),
        subject: subject.into(),
        body: "Dear {patron.first_name}".into(),
        updated_at: at(when),
        updated_by: "alice".into(),
    };
    db.put_notice_template(&t("email", "Due soon", "2026-03-01T10:00:00Z")).expect("put");
    db.put_notice_template(&t("print", "Due soon (print)", "2026-03-01T10:00:00Z")).expect("put");
    db.put_notice_template(&t("email", "Due soon!", "2026-03-02T10:00:00Z")).expect("replace");
    let got = db.notice_template("courtesy", "email").expect("get").expect("stored");
    assert_eq!(got, t("email", "Due soon!", "2026-03-02T10:00:00Z"));
    assert_eq!(db.notice_templates().expect("list").len(), 2);
    assert_eq!(db.notice_template("overdue_1", "email").expect("get"), None);
}

fn loans_due_are_found_by_due_time_with_the_notices_already_sent(db: &dyn Database) {
    setup(db);
    let a = register(db, "A1", Some("a@example.org"), "2030-01-01");
    let b = register(db, "B1", None, "2030-01-01");
    let la = lend(db, "A1", "I1", "Middlemarch", "2026-03-18T23:59:00Z");
    let la2 = lend(db, "A1", "I2", "Persuasion", "2026-03-10T23:59:00Z");
    let lb = lend(db, "B1", "I3", "Ulysses", "2026-03-17T23:59:00Z");
    let _far = lend(db, "B1", "I4", "Far Future", "2026-06-01T23:59:00Z");
    let due = db.loans_due_for_notices(at("2026-03-20T00:00:00Z"), LoanCursor::default(), 10).expect("due");
    let ids: Vec<(i64, i64)> = due.iter().map(|l| (l.patron.id, l.loan_id)).collect();
    assert_eq!(ids, [(a, la), (a, la2), (b, lb)], "by patron, then loan; the June loan is not due");
    assert_eq!((due[0].title.as_str(), due[0].barcode.as_str()), ("Middlemarch", "I1"));
    assert_eq!(due[0].patron.email.as_deref(), Some("a@example.org"));
    assert_eq!(due[2].patron.email, None);
    assert!(due.iter().all(|l| l.sent.is_empty()));

    // Keyset paging.
    let first = db.loans_due_for_notices(at("2026-03-20T00:00:00Z"), LoanCursor::default(), 2).expect("page");
    let cursor = LoanCursor { patron_id: first[1].patron.id, loan_id: first[1].loan_id };
    let rest = db.loans_due_for_notices(at("2026-03-20T00:00:00Z"), cursor, 2).expect("page");
    assert_eq!(rest.iter().map(|l| l.loan_id).collect::<Vec<_>>(), [lb]);

    // Sent kinds come back for the current due date; a 3rd overdue notice retires the loan.
    let keys = [
        loan_key(a, "courtesy", la, "2026-03-18T23:59:00Z"),
        loan_key(a, "overdue_1", la, "2026-03-18T23:59:00Z"),
        loan_key(a, "overdue_3", la2, "2026-03-10T23:59:00Z"),
        // An older due date (before a renewal) is another occasion.
        loan_key(b, "overdue_1", lb, "2026-03-03T23:59:00Z"),
    ];
    db.record_notice(&keys, at("2026-03-19T06:00:00Z"), &mut |_| Some(notice(a, "overdue_1", "email", "2026-03-19")))
        .expect("record")
        .expect("stored");
    let due = db.loans_due_for_notices(at("2026-03-20T00:00:00Z"), LoanCursor::default(), 10).expect("due");
    let got: Vec<(i64, Vec<String>)> = due.iter().map(|l| (l.loan_id, l.sent.clone())).collect();
    assert_eq!(got, [(la, vec!["courtesy".to_string(), "overdue_1".to_string()]), (lb, vec![])]);
}

fn a_notice_key_is_claimed_once(db: &dyn Database) {
    setup(db);
    let a = register(db, "A1", Some("a@example.org"), "2030-01-01");
    let l1 = lend(db, "A1", "I1", "One", "2026-03-18T23:59:00Z");
    let l2 = lend(db, "A1", "I2", "Two", "2026-03-18T23:59:00Z");
    let k1 = loan_key(a, "courtesy", l1, "2026-03-18T23:59:00Z");
    let k2 = loan_key(a, "courtesy", l2, "2026-03-18T23:59:00Z");
    let now = at("2026-03-16T06:00:00Z");
    let mut seen = Vec::new();
    let first = db
        .record_notice(std::slice::from_ref(&k1), now, &mut |claimed| {
            seen.push(claimed.to_vec());
            Some(notice(a, "courtesy", "email", "2026-03-16"))
        })
        .expect("record");
    assert!(first.is_some());
    // Again with both keys: only the second is claimed, and the render is told so.
    let second = db
        .record_notice(&[k1.clone(), k2.clone()], now, &mut |claimed| {
            seen.push(claimed.to_vec());
            Some(notice(a, "courtesy", "email", "2026-03-16"))
        })
        .expect("record");
    assert!(second.is_some() && second != first);
    // Both taken: nothing rendered, nothing stored.
    let third = db
        .record_notice(&[k1, k2], now, &mut |claimed| {
            seen.push(claimed.to_vec());
            Some(notice(a, "courtesy", "email", "2026-03-16"))
        })
        .expect("record");
    assert_eq!(third, None);
    assert_eq!(seen, [vec![0], vec![1]]);
    assert_eq!(db.notices(Page { after: 0, limit: 10 }).expect("log").len(), 2);
}

fn a_declined_render_claims_nothing(db: &dyn Database) {
    setup(db);
    let a = register(db, "A1", Some("a@example.org"), "2030-01-01");
    let l1 = lend(db, "A1", "I1", "One", "2026-03-18T23:59:00Z");
    let k = loan_key(a, "courtesy", l1, "2026-03-18T23:59:00Z");
    let now = at("2026-03-16T06:00:00Z");
    assert_eq!(db.record_notice(std::slice::from_ref(&k), now, &mut |_| None).expect("declined"), None);
    // The key is still free: the render that declined (a broken template) rolled it back.
    let id = db.record_notice(&[k], now, &mut |_| Some(notice(a, "courtesy", "email", "2026-03-16"))).expect("ok");
    assert!(id.is_some());
}

fn delivery_status_print_batch_and_log_paging(db: &dyn Database) {
    setup(db);
    let a = register(db, "A1", Some("a@example.org"), "2030-01-01");
    let b = register(db, "B1", None, "2030-01-01");
    let now = at("2026-03-19T06:00:00Z");
    let key =
        |p: i64, s: &str| NoticeKey { patron_id: p, kind: "overdue_1".into(), subject: s.into(), occasion: "x".into() };
    let e1 = db.record_notice(&[key(a, "loan:1")], now, &mut |_| Some(notice(a, "overdue_1", "email", "2026-03-19")));
    let e2 = db.record_notice(&[key(a, "loan:2")], now, &mut |_| Some(notice(a, "courtesy", "email", "2026-03-19")));
    let p1 = db.record_notice(&[key(b, "loan:3")], now, &mut |_| Some(notice(b, "overdue_1", "print", "2026-03-19")));
    let (e1, e2, p1) = (e1.expect("ok").expect("id"), e2.expect("ok").expect("id"), p1.expect("ok").expect("id"));

    let pending = db.pending_notices(0, 10).expect("pending");
    assert_eq!(
        pending.iter().map(|n| (n.id, n.status.as_str())).collect::<Vec<_>>(),
        [(e1, "pending"), (e2, "pending")]
    );
    assert_eq!(pending[0].recipient.as_deref(), Some("reader@example.org"));
    assert_eq!(pending[0].card_number, "A1");

    let later = at("2026-03-19T06:01:00Z");
    db.mark_notice(e1, &Delivery::Sent, later).expect("sent");
    db.mark_notice(e2, &Delivery::Failed("550 mailbox unavailable".into()), later).expect("failed");
    assert!(matches!(db.mark_notice(p1, &Delivery::Sent, later), Err(storage::StorageError::NotFound { .. })));
    // A failed notice is retried; a sent one is not.
    let pending = db.pending_notices(0, 10).expect("pending");
    assert_eq!(pending.iter().map(|n| n.id).collect::<Vec<_>>(), [e2]);
    assert_eq!(db.pending_notices(e2, 10).expect("after").len(), 0);

    let log = db.notices(Page { after: 0, limit: 2 }).expect("log");
    assert_eq!(log.iter().map(|n| n.id).collect::<Vec<_>>(), [e1, e2]);
    assert_eq!((log[0].status.as_str(), log[0].delivered_at), ("sent", Some(later)));
    assert_eq!((log[1].status.as_str(), log[1].error.as_deref()), ("failed", Some("550 mailbox unavailable")));
    assert_eq!(log[1].delivered_at, None);
    let next = db.notices(Page { after: e2, limit: 2 }).expect("log");
    assert_eq!(next.iter().map(|n| (n.id, n.status.as_str())).collect::<Vec<_>>(), [(p1, "print")]);

    let batch = db.print_notices(day("2026-03-19")).expect("print");
    assert_eq!(batch.iter().map(|n| n.id).collect::<Vec<_>>(), [p1]);
    assert_eq!((batch[0].card_number.as_str(), batch[0].recipient.as_deref()), ("B1", None));
    assert!(db.print_notices(day("2026-03-20")).expect("print").is_empty());
}

fn cards_expiring_in_a_window(db: &dyn Database) {
    setup(db);
    let a = register(db, "A1", Some("a@example.org"), "2026-04-10");
    let _b = register(db, "B1", None, "2026-06-01");
    let c = register(db, "C1", None, "2026-03-20");
    let got = db.cards_expiring(day("2026-03-19"), day("2026-04-18"), 0, 10).expect("cards");
    assert_eq!(got.iter().map(|c| (c.patron.id, c.sent)).collect::<Vec<_>>(), [(a, false), (c, false)]);
    assert_eq!(got[0].patron.expiry_date, day("2026-04-10"));
    let key =
        NoticeKey { patron_id: a, kind: "card_expiring".into(), subject: "card".into(), occasion: "2026-04-10".into() };
    db.record_notice(&[key], at("2026-03-19T06:00:00Z"), &mut |_| {
        Some(notice(a, "card_expiring", "email", "2026-03-19"))
    })
    .expect("record");
    let got = db.cards_expiring(day("2026-03-19"), day("2026-04-18"), 0, 10).expect("cards");
    assert_eq!(got.iter().map(|c| (c.patron.id, c.sent)).collect::<Vec<_>>(), [(a, true), (c, false)]);
    let page = db.cards_expiring(day("2026-03-19"), day("2026-04-18"), a, 10).expect("cards");
    assert_eq!(page.iter().map(|c| c.patron.id).collect::<Vec<_>>(), [c]);
}

fn a_job_runs_once_a_day(db: &dyn Database) {
    let run = JobRun {
        job: "loan_notices".into(),
        day: day("2026-03-19"),
        started_at: at("2026-03-19T06:00:00Z"),
        finished_at: at("2026-03-19T06:00:02Z"),
        summary: "3 courtesy notices".into(),
    };
    assert_eq!(db.job_run("loan_notices", day("2026-03-19")).expect("get"), None);
    assert!(db.record_job_run(&run).expect("record"));
    assert!(!db.record_job_run(&JobRun { summary: "again".into(), ..run.clone() }).expect("second"));
    assert_eq!(db.job_run("loan_notices", day("2026-03-19")).expect("get"), Some(run.clone()));
    assert_eq!(db.job_run("loan_notices", day("2026-03-20")).expect("get"), None);
    assert_eq!(db.job_run("card_notices", day("2026-03-19")).expect("get"), None);
}
