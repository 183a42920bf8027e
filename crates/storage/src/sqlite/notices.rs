use super::{time, SqliteDatabase};
use crate::common::{self, date_str, parse_date};
use crate::holds::HoldId;
use crate::notices::{
    CardDue, Delivery, HoldDue, JobRun, LoanCursor, LoanDue, NewNotice, NoticeId, NoticeKey, NoticePatron,
    NoticeRecord, NoticeStore, StoredTemplate,
};
use crate::{Page, PatronId, Result};
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{params, Connection, Row};

const PATRON_COLUMNS: &str = "p.id, p.card_number, p.first_name, p.surname, p.email, p.expiry_date";

fn patron_from_row(row: &Row<'_>, at: usize) -> Result<NoticePatron> {
    Ok(NoticePatron {
        id: row.get(at)?,
        card_number: row.get(at + 1)?,
        first_name: row.get(at + 2)?,
        surname: row.get(at + 3)?,
        email: row.get::<_, Option<String>>(at + 4)?.filter(|e| !e.trim().is_empty()),
        expiry_date: parse_date("expiry date", &row.get::<_, String>(at + 5)?)?,
    })
}

fn template_from_row(row: &Row<'_>) -> Result<StoredTemplate> {
    Ok(StoredTemplate {
        kind: row.get(0)?,
        channel: row.get(1)?,
        subject: row.get(2)?,
        body: row.get(3)?,
        updated_at: time(&row.get::<_, String>(4)?)?,
        updated_by: row.get(5)?,
    })
}

const TEMPLATE_SQL: &str = "SELECT kind, channel, subject, body, updated_at, updated_by FROM notice_templates";

const NOTICE_SQL: &str = "SELECT n.id, n.patron_id, p.card_number, n.kind, n.channel, n.recipient, n.subject, \
     n.body, n.day, n.created_at, n.status, n.error, n.delivered_at, p.first_name || ' ' || p.surname FROM notices n JOIN patrons p ON p.id = n.patron_id";

fn notice_from_row(row: &Row<'_>) -> Result<NoticeRecord> {
    Ok(NoticeRecord {
        id: row.get(0)?,
        patron_id: row.get(1)?,
        card_number: row.get(2)?,
        kind: row.get(3)?,
        channel: row.get(4)?,
        recipient: row.get(5)?,
        subject: row.get(6)?,
        body: row.get(7)?,
        day: parse_date("notice day", &row.get::<_, String>(8)?)?,
        created_at: time(&row.get::<_, String>(9)?)?,
        status: row.get(10)?,
        error: row.get(11)?,
        delivered_at: row.get::<_, Option<String>>(12)?.map(|t| time(&t)).transpose()?,
        patron_name: row.get(13)?,
    })
}

fn query_notices(conn: &Connection, sql: &str, params: &[&dyn rusqlite::ToSql]) -> Result<Vec<NoticeRecord>> {
    let mut st = conn.prepare_cached(sql)?;
    let mut rows = st.query(params)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(notice_from_row(r)?);
    }
    Ok(out)
}

impl NoticeStore for SqliteDatabase {
    fn notice_templates(&self) -> Result<Vec<StoredTemplate>> {
        self.read(|tx| {
            let mut st = tx.prepare_cached(&format!("{TEMPLATE_SQL} ORDER BY kind, channel"))?;
            let mut rows = st.query([])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(template_from_row(r)?);
            }
            Ok(out)
        })
    }

    fn notice_template(&self, kind: &str, channel: &str) -> Result<Option<StoredTemplate>> {
        self.read(|tx| {
            let mut st = tx.prepare_cached(&format!("{TEMPLATE_SQL} WHERE kind = ?1 AND channel = ?2"))?;
            let mut rows = st.query([kind, channel])?;
            rows.next()?.map(template_from_row).transpose()
        })
    }

    fn put_notice_template(&self, t: &StoredTemplate) -> Result<()> {
        self.write_at(t.updated_at, |tx, now| {
            tx.prepare_cached(
                "INSERT INTO notice_templates (kind, channel, subject, body, updated_at, updated_by) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (kind, channel) DO UPDATE SET \
                 subject = excluded.subject, body = excluded.body, updated_at = excluded.updated_at, \
                 updated_by = excluded.updated_by",
            )?
            .execute(params![t.kind, t.channel, t.subject, t.body, now, t.updated_by])?;
            Ok(())
        })
    }

    fn loans_due_for_notices(&self, due_before: DateTime<Utc>, after: LoanCursor, limit: u32) -> Result<Vec<LoanDue>> {
        // The range on `due_at` is read from loans_open_due_idx; the NOT EXISTS probes the
        // notice keys' primary key, so loans that had every notice cost one lookup each.
        let sql = format!(
            "SELECT l.id, l.due_at, l.checkout_branch, i.barcode, b.title, {PATRON_COLUMNS} \
             FROM loans l JOIN patrons p ON p.id = l.patron_id JOIN items i ON i.id = l.item_id \
             JOIN bib_records b ON b.id = i.bib_id \
             WHERE l.returned_at IS NULL AND l.due_at < ?1 AND (l.patron_id, l.id) > (?2, ?3) \
             AND NOT EXISTS (SELECT 1 FROM notice_keys k WHERE k.patron_id = l.patron_id AND k.kind = 'overdue_3' \
                             AND k.subject = 'loan:' || l.id AND k.occasion = l.due_at) \
             ORDER BY l.patron_id, l.id LIMIT ?4"
        );
        self.read(|tx| {
            let mut st = tx.prepare_cached(&sql)?;
            let mut rows =
                st.query(params![common::rfc3339(due_before), after.patron_id, after.loan_id, i64::from(limit)])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(LoanDue {
                    loan_id: r.get(0)?,
                    due_at: time(&r.get::<_, String>(1)?)?,
                    checkout_branch: r.get(2)?,
                    barcode: r.get(3)?,
                    title: r.get(4)?,
                    patron: patron_from_row(r, 5)?,
                    sent: Vec::new(),
                });
            }
            let mut sent = tx.prepare_cached(
                "SELECT kind FROM notice_keys WHERE subject = ?1 AND occasion = ?2 AND patron_id = ?3 ORDER BY kind",
            )?;
            for loan in &mut out {
                let subject = format!("loan:{}", loan.loan_id);
                let mut rows =
                    sent.query(params![subject, crate::notices::due_occasion(loan.due_at), loan.patron.id])?;
                while let Some(r) = rows.next()? {
                    loan.sent.push(r.get(0)?);
                }
            }
            Ok(out)
        })
    }

    fn holds_on_shelf_for_notices(
        &self,
        expiring_before: DateTime<Utc>,
        after: HoldId,
        limit: u32,
    ) -> Result<Vec<HoldDue>> {
        // The occasion is the deadline as stored (`due_occasion` writes it the same way).
        const SENT: &str = "SELECT 1 FROM notice_keys k WHERE k.patron_id = h.patron_id \
             AND k.subject = 'hold:' || h.id AND k.occasion = h.pickup_by";
        let sql = format!(
            "SELECT h.id, h.pickup_by, h.pickup_branch, i.barcode, b.title, {PATRON_COLUMNS}, i.id, \
                    (SELECT group_concat(k.kind) FROM notice_keys k WHERE k.patron_id = h.patron_id \
                     AND k.subject = 'hold:' || h.id AND k.occasion = h.pickup_by) \
             FROM holds h JOIN patrons p ON p.id = h.patron_id JOIN items i ON i.id = h.trapped_item_id \
             JOIN bib_records b ON b.id = h.bib_id \
             WHERE h.status = 'on_shelf' AND h.id > ?1 \
             AND (NOT EXISTS ({SENT} AND k.kind = 'hold_ready') \
                  OR (h.pickup_by < ?3 AND NOT EXISTS ({SENT} AND k.kind = 'hold_expiring'))) \
             ORDER BY h.id LIMIT ?2"
        );
        self.read(|tx| {
            let mut st = tx.prepare_cached(&sql)?;
            let mut rows = st.query(params![after, i64::from(limit), common::rfc3339(expiring_before)])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let sent: Option<String> = r.get(12)?;
                out.push(HoldDue {
                    hold_id: r.get(0)?,
                    pickup_by: time(&r.get::<_, String>(1)?)?,
                    pickup_branch: r.get(2)?,
                    barcode: r.get(3)?,
                    title: r.get(4)?,
                    patron: patron_from_row(r, 5)?,
                    item_id: r.get(11)?,
                    sent: sent.map(|s| s.split(',').map(str::to_string).collect()).unwrap_or_default(),
                });
            }
            Ok(out)
        })
    }

    fn cards_expiring(&self, from: NaiveDate, to: NaiveDate, after: PatronId, limit: u32) -> Result<Vec<CardDue>> {
        let sql = format!(
            "SELECT {PATRON_COLUMNS}, EXISTS (SELECT 1 FROM notice_keys k WHERE k.patron_id = p.id \
                AND k.kind = 'card_expiring' AND k.subject = 'card' AND k.occasion = p.expiry_date) \
             FROM patrons p WHERE p.expiry_date BETWEEN ?1 AND ?2 AND p.id > ?3 ORDER BY p.id LIMIT ?4"
        );
        self.read(|tx| {
            let mut st = tx.prepare_cached(&sql)?;
            let mut rows = st.query(params![date_str(from), date_str(to), after, i64::from(limit)])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(CardDue { patron: patron_from_row(r, 0)?, sent: r.get(6)? });
            }
            Ok(out)
        })
    }

    fn record_notice(
        &self,
        keys: &[NoticeKey],
        now: DateTime<Utc>,
        render: &mut dyn FnMut(&[usize]) -> Option<NewNotice>,
    ) -> Result<Option<NoticeId>> {
        let mut claimed = Vec::new();
        // Claiming and storing are one transaction: when `render` declines, `Ok(None)` from
        // the closure would commit the claimed keys, so it returns an error that rolls back.
        let result = self.write_at(now, |tx, now_text| {
            let mut insert = tx.prepare_cached(
                "INSERT INTO notice_keys (patron_id, kind, subject, occasion) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT DO NOTHING",
            )?;
            for (i, k) in keys.iter().enumerate() {
                if insert.execute(params![k.patron_id, k.kind, k.subject, k.occasion])? == 1 {
                    claimed.push(i);
                }
            }
            if claimed.is_empty() {
                return Ok(None);
            }
            let Some(n) = render(&claimed) else { return Err(crate::StorageError::Other(DECLINED.into())) };
            let status = if n.channel == "print" { "print" } else { "pending" };
            tx.prepare_cached(
                "INSERT INTO notices (patron_id, kind, channel, recipient, subject, body, day, created_at, status) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![n.patron_id, n.kind, n.channel, n.recipient, n.subject, n.body, date_str(n.day), now_text, status])?;
            let id = tx.last_insert_rowid();
            let mut link = tx.prepare_cached(
                "UPDATE notice_keys SET notice_id = ?1 WHERE patron_id = ?2 AND kind = ?3 AND subject = ?4 AND occasion = ?5",
            )?;
            for &i in &claimed {
                let k = &keys[i];
                link.execute(params![id, k.patron_id, k.kind, k.subject, k.occasion])?;
            }
            Ok(Some(id))
        });
        match result {
            Err(crate::StorageError::Other(m)) if m == DECLINED => Ok(None),
            other => other,
        }
    }

    fn mark_notice(&self, id: NoticeId, delivery: &Delivery, now: DateTime<Utc>) -> Result<()> {
        self.write_at(now, |tx, now_text| {
            let (status, error) = match delivery {
                Delivery::Sent => ("sent", None),
                Delivery::Failed(e) => ("failed", Some(e.as_str())),
            };
            let n = tx
                .prepare_cached(
                    "UPDATE notices SET status = ?1, error = ?2, delivered_at = CASE WHEN ?1 = 'sent' THEN ?3 END \
                     WHERE id = ?4 AND channel = 'email'",
                )?
                .execute(params![status, error, now_text, id])?;
            if n == 0 {
                return Err(crate::StorageError::NotFound { what: "email notice", key: id.to_string() });
            }
            Ok(())
        })
    }

    fn pending_notices(&self, after: NoticeId, limit: u32) -> Result<Vec<NoticeRecord>> {
        let sql = format!("{NOTICE_SQL} WHERE n.status IN ('pending', 'failed') AND n.id > ?1 ORDER BY n.id LIMIT ?2");
        self.read(|tx| query_notices(tx, &sql, &[&after, &i64::from(limit)]))
    }

    fn print_notices(&self, day: NaiveDate) -> Result<Vec<NoticeRecord>> {
        let sql = format!("{NOTICE_SQL} WHERE n.channel = 'print' AND n.day = ?1 ORDER BY n.patron_id, n.id");
        self.read(|tx| query_notices(tx, &sql, &[&date_str(day)]))
    }

    fn notices(&self, page: Page) -> Result<Vec<NoticeRecord>> {
        let sql = format!("{NOTICE_SQL} WHERE n.id > ?1 ORDER BY n.id LIMIT ?2");
        self.read(|tx| query_notices(tx, &sql, &[&page.after, &i64::from(page.limit)]))
    }

    fn patron_notices(&self, patron: PatronId, page: Page) -> Result<Vec<NoticeRecord>> {
        // Every notice is stored with the keys it claimed (notice_keys, keyed by patron first):
        // the patron's notices are found through them, not by reading the whole log.
        let sql = format!(
            "{NOTICE_SQL} WHERE n.patron_id = ?1 AND n.id IN \
             (SELECT k.notice_id FROM notice_keys k WHERE k.patron_id = ?1 AND k.notice_id IS NOT NULL) \
             AND (?2 = 0 OR n.id < ?2) ORDER BY n.id DESC LIMIT ?3"
        );
        self.read(|tx| query_notices(tx, &sql, &[&patron, &page.after, &i64::from(page.limit)]))
    }

    fn job_run(&self, job: &str, day: NaiveDate) -> Result<Option<JobRun>> {
        self.read(|tx| {
            let mut st = tx.prepare_cached(
                "SELECT job, day, started_at, finished_at, summary FROM job_runs WHERE job = ?1 AND day = ?2",
            )?;
            let mut rows = st.query(params![job, date_str(day)])?;
            let Some(r) = rows.next()? else { return Ok(None) };
            Ok(Some(JobRun {
                job: r.get(0)?,
                day: parse_date("job day", &r.get::<_, String>(1)?)?,
                started_at: time(&r.get::<_, String>(2)?)?,
                finished_at: time(&r.get::<_, String>(3)?)?,
                summary: r.get(4)?,
            }))
        })
    }

    fn record_job_run(&self, run: &JobRun) -> Result<bool> {
        self.write_at(run.finished_at, |tx, _| {
            let n = tx
                .prepare_cached(
                    "INSERT INTO job_runs (job, day, started_at, finished_at, summary) VALUES (?1, ?2, ?3, ?4, ?5) \
                     ON CONFLICT DO NOTHING",
                )?
                .execute(params![
                    run.job,
                    date_str(run.day),
                    common::rfc3339(run.started_at),
                    common::rfc3339(run.finished_at),
                    run.summary
                ])?;
            Ok(n == 1)
        })
    }
}

/// The marker error that rolls back a notice `render` declined.
const DECLINED: &str = "notice declined by its renderer";
