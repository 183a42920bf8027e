use super::{Cx, PostgresDatabase};
use crate::holds::HoldId;
use crate::notices::{
    CardDue, Delivery, HoldDue, JobRun, LoanCursor, LoanDue, NewNotice, NoticeId, NoticeKey, NoticePatron,
    NoticeRecord, NoticeStore, StoredTemplate,
};
use crate::{Page, PatronId, Result, StorageError};
use chrono::{DateTime, NaiveDate, Utc};
use postgres::{GenericClient, Row};

const PATRON_COLUMNS: &str = "p.id, p.card_number, p.first_name, p.surname, p.email, p.expiry_date";

fn patron_from_row(row: &Row, at: usize) -> Result<NoticePatron> {
    Ok(NoticePatron {
        id: row.try_get(at)?,
        card_number: row.try_get(at + 1)?,
        first_name: row.try_get(at + 2)?,
        surname: row.try_get(at + 3)?,
        email: row.try_get::<_, Option<String>>(at + 4)?.filter(|e| !e.trim().is_empty()),
        expiry_date: row.try_get(at + 5)?,
    })
}

fn template_from_row(row: &Row) -> Result<StoredTemplate> {
    Ok(StoredTemplate {
        kind: row.try_get(0)?,
        channel: row.try_get(1)?,
        subject: row.try_get(2)?,
        body: row.try_get(3)?,
        updated_at: row.try_get(4)?,
        updated_by: row.try_get(5)?,
    })
}

const TEMPLATE_SQL: &str = "SELECT kind, channel, subject, body, updated_at, updated_by FROM notice_templates";

const NOTICE_SQL: &str = "SELECT n.id, n.patron_id, p.card_number, n.kind, n.channel, n.recipient, n.subject, \
     n.body, n.day, n.created_at, n.status, n.error, n.delivered_at, p.first_name || ' ' || p.surname FROM notices n JOIN patrons p ON p.id = n.patron_id";

fn notice_from_row(row: &Row) -> Result<NoticeRecord> {
    Ok(NoticeRecord {
        id: row.try_get(0)?,
        patron_id: row.try_get(1)?,
        card_number: row.try_get(2)?,
        kind: row.try_get(3)?,
        channel: row.try_get(4)?,
        recipient: row.try_get(5)?,
        subject: row.try_get(6)?,
        body: row.try_get(7)?,
        day: row.try_get(8)?,
        created_at: row.try_get(9)?,
        status: row.try_get(10)?,
        error: row.try_get(11)?,
        delivered_at: row.try_get(12)?,
        patron_name: row.try_get(13)?,
    })
}

/// The loan's due time as [`crate::notices::due_occasion`] writes it (RFC 3339, UTC, microseconds).
const DUE_OCCASION: &str = "to_char(l.due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";

fn query_notices<C: GenericClient>(
    cx: &mut Cx<'_, C>,
    sql: &str,
    params: &[&(dyn postgres::types::ToSql + Sync)],
) -> Result<Vec<NoticeRecord>> {
    cx.query(sql, params)?.iter().map(notice_from_row).collect()
}

impl NoticeStore for PostgresDatabase {
    fn notice_templates(&self) -> Result<Vec<StoredTemplate>> {
        self.read(|cx| {
            cx.query(&format!("{TEMPLATE_SQL} ORDER BY kind, channel"), &[])?.iter().map(template_from_row).collect()
        })
    }

    fn notice_template(&self, kind: &str, channel: &str) -> Result<Option<StoredTemplate>> {
        self.read(|cx| {
            cx.query_opt(&format!("{TEMPLATE_SQL} WHERE kind = $1 AND channel = $2"), &[&kind, &channel])?
                .as_ref()
                .map(template_from_row)
                .transpose()
        })
    }

    fn put_notice_template(&self, t: &StoredTemplate) -> Result<()> {
        self.write(|w| {
            w.cx.execute(
                "INSERT INTO notice_templates (kind, channel, subject, body, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kind, channel) DO UPDATE SET \
                 subject = excluded.subject, body = excluded.body, updated_at = excluded.updated_at, \
                 updated_by = excluded.updated_by",
                &[&t.kind, &t.channel, &t.subject, &t.body, &t.updated_at, &t.updated_by],
            )?;
            Ok(())
        })
    }

    fn loans_due_for_notices(&self, due_before: DateTime<Utc>, after: LoanCursor, limit: u32) -> Result<Vec<LoanDue>> {
        let sql = format!(
            "SELECT l.id, l.due_at, l.checkout_branch, i.barcode, b.title, {PATRON_COLUMNS}, \
                    ARRAY(SELECT k.kind FROM notice_keys k WHERE k.subject = 'loan:' || l.id \
                          AND k.occasion = {DUE_OCCASION} AND k.patron_id = l.patron_id ORDER BY k.kind) \
             FROM loans l JOIN patrons p ON p.id = l.patron_id JOIN items i ON i.id = l.item_id \
             JOIN bib_records b ON b.id = i.bib_id \
             WHERE l.returned_at IS NULL AND l.due_at < $1 AND (l.patron_id, l.id) > ($2, $3) \
             AND NOT EXISTS (SELECT 1 FROM notice_keys k WHERE k.patron_id = l.patron_id AND k.kind = 'overdue_3' \
                             AND k.subject = 'loan:' || l.id AND k.occasion = {DUE_OCCASION}) \
             ORDER BY l.patron_id, l.id LIMIT $4"
        );
        self.read(|cx| {
            cx.query(&sql, &[&due_before, &after.patron_id, &after.loan_id, &i64::from(limit)])?
                .iter()
                .map(|r| {
                    Ok(LoanDue {
                        loan_id: r.try_get(0)?,
                        due_at: r.try_get(1)?,
                        checkout_branch: r.try_get(2)?,
                        barcode: r.try_get(3)?,
                        title: r.try_get(4)?,
                        patron: patron_from_row(r, 5)?,
                        sent: r.try_get(11)?,
                    })
                })
                .collect()
        })
    }

    fn holds_on_shelf_for_notices(
        &self,
        expiring_before: DateTime<Utc>,
        after: HoldId,
        limit: u32,
    ) -> Result<Vec<HoldDue>> {
        let occasion = DUE_OCCASION.replace("l.due_at", "h.pickup_by");
        let sent = format!(
            "SELECT 1 FROM notice_keys k WHERE k.patron_id = h.patron_id AND k.subject = 'hold:' || h.id \
             AND k.occasion = {occasion}"
        );
        let sql = format!(
            "SELECT h.id, h.pickup_by, h.pickup_branch, i.barcode, b.title, {PATRON_COLUMNS}, i.id, \
                    ARRAY(SELECT k.kind FROM notice_keys k WHERE k.subject = 'hold:' || h.id \
                          AND k.occasion = {occasion} AND k.patron_id = h.patron_id ORDER BY k.kind) \
             FROM holds h JOIN patrons p ON p.id = h.patron_id JOIN items i ON i.id = h.trapped_item_id \
             JOIN bib_records b ON b.id = h.bib_id \
             WHERE h.status = 'on_shelf' AND h.id > $1 \
             AND (NOT EXISTS ({sent} AND k.kind = 'hold_ready') \
                  OR (h.pickup_by < $3 AND NOT EXISTS ({sent} AND k.kind = 'hold_expiring'))) \
             ORDER BY h.id LIMIT $2"
        );
        self.read(|cx| {
            cx.query(&sql, &[&after, &i64::from(limit), &expiring_before])?
                .iter()
                .map(|r| {
                    Ok(HoldDue {
                        hold_id: r.try_get(0)?,
                        pickup_by: r.try_get(1)?,
                        pickup_branch: r.try_get(2)?,
                        barcode: r.try_get(3)?,
                        title: r.try_get(4)?,
                        patron: patron_from_row(r, 5)?,
                        item_id: r.try_get(11)?,
                        sent: r.try_get(12)?,
                    })
                })
                .collect()
        })
    }

    fn cards_expiring(&self, from: NaiveDate, to: NaiveDate, after: PatronId, limit: u32) -> Result<Vec<CardDue>> {
        let sql = format!(
            "SELECT {PATRON_COLUMNS}, EXISTS (SELECT 1 FROM notice_keys k WHERE k.patron_id = p.id \
                AND k.kind = 'card_expiring' AND k.subject = 'card' AND k.occasion = to_char(p.expiry_date, 'YYYY-MM-DD')) \
             FROM patrons p WHERE p.expiry_date BETWEEN $1 AND $2 AND p.id > $3 ORDER BY p.id LIMIT $4"
        );
        self.read(|cx| {
            cx.query(&sql, &[&from, &to, &after, &i64::from(limit)])?
                .iter()
                .map(|r| Ok(CardDue { patron: patron_from_row(r, 0)?, sent: r.try_get(6)? }))
                .collect()
        })
    }

    fn record_notice(
        &self,
        keys: &[NoticeKey],
        now: DateTime<Utc>,
        render: &mut dyn FnMut(&[usize]) -> Option<NewNotice>,
    ) -> Result<Option<NoticeId>> {
        // A concurrent run claiming the same key waits on the unique index and then finds it
        // taken (ON CONFLICT DO NOTHING): each key is claimed by exactly one message.
        let result = self.write(|w| {
            let mut claimed = Vec::new();
            for (i, k) in keys.iter().enumerate() {
                let n = w.cx.execute(
                    "INSERT INTO notice_keys (patron_id, kind, subject, occasion) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT DO NOTHING",
                    &[&k.patron_id, &k.kind, &k.subject, &k.occasion],
                )?;
                if n == 1 {
                    claimed.push(i);
                }
            }
            if claimed.is_empty() {
                return Ok(None);
            }
            let Some(n) = render(&claimed) else { return Err(StorageError::Other(DECLINED.into())) };
            let status = if n.channel == "print" { "print" } else { "pending" };
            let id: NoticeId = w
                .cx
                .query_one(
                    "INSERT INTO notices (patron_id, kind, channel, recipient, subject, body, day, created_at, status) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                    &[&n.patron_id, &n.kind, &n.channel, &n.recipient, &n.subject, &n.body, &n.day, &now, &status],
                )?
                .try_get(0)?;
            for &i in &claimed {
                let k = &keys[i];
                w.cx.execute(
                    "UPDATE notice_keys SET notice_id = $1 WHERE patron_id = $2 AND kind = $3 AND subject = $4 \
                     AND occasion = $5",
                    &[&id, &k.patron_id, &k.kind, &k.subject, &k.occasion],
                )?;
            }
            Ok(Some(id))
        });
        match result {
            Err(StorageError::Other(m)) if m == DECLINED => Ok(None),
            other => other,
        }
    }

    fn mark_notice(&self, id: NoticeId, delivery: &Delivery, now: DateTime<Utc>) -> Result<()> {
        let (status, error) = match delivery {
            Delivery::Sent => ("sent", None),
            Delivery::Failed(e) => ("failed", Some(e.clone())),
        };
        self.write(|w| {
            let delivered = (status == "sent").then_some(now);
            let n = w.cx.execute(
                "UPDATE notices SET status = $1, error = $2, delivered_at = $3 WHERE id = $4 AND channel = 'email'",
                &[&status, &error, &delivered, &id],
            )?;
            if n == 0 {
                return Err(StorageError::NotFound { what: "email notice", key: id.to_string() });
            }
            Ok(())
        })
    }

    fn pending_notices(&self, after: NoticeId, limit: u32) -> Result<Vec<NoticeRecord>> {
        let sql = format!("{NOTICE_SQL} WHERE n.status IN ('pending', 'failed') AND n.id > $1 ORDER BY n.id LIMIT $2");
        self.read(|cx| query_notices(cx, &sql, &[&after, &i64::from(limit)]))
    }

    fn print_notices(&self, day: NaiveDate) -> Result<Vec<NoticeRecord>> {
        let sql = format!("{NOTICE_SQL} WHERE n.channel = 'print' AND n.day = $1 ORDER BY n.patron_id, n.id");
        self.read(|cx| query_notices(cx, &sql, &[&day]))
    }

    fn notices(&self, page: Page) -> Result<Vec<NoticeRecord>> {
        let sql = format!("{NOTICE_SQL} WHERE n.id > $1 ORDER BY n.id LIMIT $2");
        self.read(|cx| query_notices(cx, &sql, &[&page.after, &i64::from(page.limit)]))
    }

    fn patron_notices(&self, patron: PatronId, page: Page) -> Result<Vec<NoticeRecord>> {
        // Every notice is stored with the keys it claimed (notice_keys, keyed by patron first):
        // the patron's notices are found through them, not by reading the whole log.
        let sql = format!(
            "{NOTICE_SQL} WHERE n.patron_id = $1 AND n.id IN \
             (SELECT k.notice_id FROM notice_keys k WHERE k.patron_id = $1 AND k.notice_id IS NOT NULL) \
             AND ($2::bigint = 0 OR n.id < $2) ORDER BY n.id DESC LIMIT $3"
        );
        self.read(|cx| query_notices(cx, &sql, &[&patron, &page.after, &i64::from(page.limit)]))
    }

    fn job_run(&self, job: &str, day: NaiveDate) -> Result<Option<JobRun>> {
        self.read(|cx| {
            let Some(r) = cx.query_opt(
                "SELECT job, day, started_at, finished_at, summary FROM job_runs WHERE job = $1 AND day = $2",
                &[&job, &day],
            )?
            else {
                return Ok(None);
            };
            Ok(Some(JobRun {
                job: r.try_get(0)?,
                day: r.try_get(1)?,
                started_at: r.try_get(2)?,
                finished_at: r.try_get(3)?,
                summary: r.try_get(4)?,
            }))
        })
    }

    fn record_job_run(&self, run: &JobRun) -> Result<bool> {
        self.write(|w| {
            let n = w.cx.execute(
                "INSERT INTO job_runs (job, day, started_at, finished_at, summary) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT DO NOTHING",
                &[&run.job, &run.day, &run.started_at, &run.finished_at, &run.summary],
            )?;
            Ok(n == 1)
        })
    }
}

/// The marker error that rolls back a notice `render` declined.
const DECLINED: &str = "notice declined by its renderer";
