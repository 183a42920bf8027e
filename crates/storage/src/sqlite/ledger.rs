//! The ledger on SQLite. The writer connection is the lock: one write transaction at a time, so
//! the account a closure posts to is the account its rows are appended to.

use super::{
    account_where, circulating_item, get_loan, item_from_row, loan_from_row, open_loan, set_item_status, time,
    SqliteDatabase, LOAN_COLUMNS,
};
use crate::common::{self, parse_code};
use crate::ledger::{
    actor_text, build_account, new_row, Account, Condition, EntryRow, Inspection, LedgerRefusal, LedgerStore,
    LostCandidate, NewInspection, RawAllocation, RawEntry, RepairEntry, Stop, StopContext, StoppedLoan,
};
use crate::loans::PatronAccount;
use crate::{ItemId, LoanId, PatronId, Result, StorageError};
use catalog::{Barcode, Code, Item, ItemStatus, Money};
use chrono::{DateTime, Utc};
use circulation::{Actor, FoundPolicy, Ledger};
use rusqlite::{params, Connection, OptionalExtension};

const ENTRY_SQL: &str = "SELECT e.id, e.kind, e.amount, e.loan_id, coalesce(e.item_id, l.item_id), e.at, e.staff, \
     e.note, e.method, e.refund_of FROM ledger_entries e LEFT JOIN loans l ON l.id = e.loan_id \
     WHERE e.patron_id = ?1 ORDER BY e.id";
const ALLOCATION_SQL: &str = "SELECT a.credit_id, a.charge_id, a.amount FROM ledger_allocations a \
     JOIN ledger_entries e ON e.id = a.credit_id WHERE e.patron_id = ?1 ORDER BY a.credit_id, a.seq";

/// The patron's account as stored.
pub(super) fn read_account(conn: &Connection, patron: PatronAccount) -> Result<Account> {
    let mut raws = Vec::new();
    {
        let mut st = conn.prepare_cached(ENTRY_SQL)?;
        let mut rows = st.query([patron.id])?;
        while let Some(r) = rows.next()? {
            raws.push(RawEntry {
                id: r.get(0)?,
                kind: r.get(1)?,
                amount: r.get(2)?,
                loan_id: r.get(3)?,
                item_id: r.get(4)?,
                at: time(&r.get::<_, String>(5)?)?,
                staff: r.get(6)?,
                note: r.get(7)?,
                method: r.get(8)?,
                refund_of: r.get(9)?,
            });
        }
    }
    let mut allocations = Vec::new();
    {
        let mut st = conn.prepare_cached(ALLOCATION_SQL)?;
        let mut rows = st.query([patron.id])?;
        while let Some(r) = rows.next()? {
            allocations.push(RawAllocation { credit_id: r.get(0)?, charge_id: r.get(1)?, amount: r.get(2)? });
        }
    }
    build_account(patron, raws, allocations)
}

/// Appends the entries `draft` has beyond `account`'s, and sets the balance to the draft's.
pub(super) fn append(conn: &Connection, account: &Account, draft: &Ledger, loan: Option<LoanId>) -> Result<Account> {
    let mut rows = account.rows.clone();
    for entry in &draft.entries()[account.rows.len()..] {
        let row = new_row(entry, &|id| rows.get(id.0 as usize).map(|r| r.id))?;
        conn.prepare_cached(
            "INSERT INTO ledger_entries (patron_id, kind, amount, loan_id, at, staff, note, item_id, method, refund_of) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            account.patron.id,
            row.kind,
            row.amount,
            loan,
            common::rfc3339(entry.at),
            row.staff,
            row.note,
            row.item_id,
            row.method,
            row.refund_of
        ])?;
        let id = conn.last_insert_rowid();
        for (seq, (charge, amount)) in row.allocations.iter().enumerate() {
            conn.prepare_cached(
                "INSERT INTO ledger_allocations (credit_id, seq, charge_id, amount) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![id, seq as i64, charge, amount])?;
        }
        rows.push(EntryRow { id, loan_id: loan });
    }
    let balance = draft.balance();
    conn.prepare_cached("UPDATE patrons SET balance = ?1 WHERE id = ?2")?
        .execute(params![balance.minor(), account.patron.id])?;
    let patron = PatronAccount { balance, ..account.patron.clone() };
    Ok(Account { patron, ledger: draft.clone(), rows })
}

/// Part of a check-in: reverses a returned lost copy's charges on the borrower's account.
pub(super) fn found_at_check_in(
    conn: &Connection,
    patron: PatronId,
    item: ItemId,
    now: DateTime<Utc>,
    policy: FoundPolicy,
) -> Result<()> {
    let patron = account_where(conn, "id = ?1", &patron)?
        .ok_or_else(|| StorageError::Other(format!("patron {patron} does not exist")))?;
    let account = read_account(conn, patron)?;
    let mut draft = account.ledger.clone();
    crate::ledger::found(&mut draft, now, item, policy).map_err(|e| StorageError::Other(e.to_string()))?;
    append(conn, &account, &draft, None)?;
    Ok(())
}

fn overdue_charged(conn: &Connection, loan: LoanId) -> Result<Money> {
    let sum: i64 = conn
        .prepare_cached("SELECT coalesce(sum(amount), 0) FROM ledger_entries WHERE loan_id = ?1 AND kind = 'overdue'")?
        .query_row([loan], |r| r.get(0))?;
    Ok(Money::from_minor(sum))
}

impl LedgerStore for SqliteDatabase {
    fn account(&self, card_number: &str) -> Result<Option<Account>> {
        self.read(|tx| match account_where(tx, "card_number = ?1", &card_number.trim())? {
            None => Ok(None),
            Some(patron) => read_account(tx, patron).map(Some),
        })
    }

    fn post_to_account(
        &self,
        card_number: &str,
        now: DateTime<Utc>,
        loan: Option<LoanId>,
        post: &mut dyn FnMut(&Account, &mut Ledger) -> Result<(), LedgerRefusal>,
    ) -> Result<Result<Account, LedgerRefusal>> {
        let card = card_number.trim();
        self.write_at(now, |tx, _| {
            let patron = account_where(tx, "card_number = ?1", &card)?
                .ok_or_else(|| StorageError::NotFound { what: "patron card", key: card.to_string() })?;
            let account = read_account(tx, patron)?;
            let mut draft = account.ledger.clone();
            if let Err(refusal) = post(&account, &mut draft) {
                return Ok(Err(refusal));
            }
            Ok(Ok(append(tx, &account, &draft, loan)?))
        })
    }

    fn lost_candidates(&self, now: DateTime<Utc>) -> Result<Vec<LostCandidate>> {
        let sql = format!(
            "SELECT {LOAN_COLUMNS} FROM loans l JOIN items i ON i.id = l.item_id \
             WHERE l.returned_at IS NULL AND l.due_at < ?1 AND i.status = 'checked_out' ORDER BY l.due_at, l.id"
        );
        let item_sql = format!("SELECT {} FROM items i WHERE i.id = ?1", common::ITEM_COLUMNS);
        self.read(|tx| {
            let mut out = Vec::new();
            let mut st = tx.prepare_cached(&sql)?;
            let mut rows = st.query([common::rfc3339(now)])?;
            while let Some(r) = rows.next()? {
                let loan = loan_from_row(r)?;
                let item = tx.prepare_cached(&item_sql)?.query_row([loan.item_id], |r| Ok(item_from_row(r)))??;
                let patron = account_where(tx, "id = ?1", &loan.patron_id)?
                    .ok_or_else(|| StorageError::Other(format!("loan {} names no patron", loan.id)))?;
                out.push(LostCandidate { loan, item, patron });
            }
            Ok(out)
        })
    }

    fn stop_loan(
        &self,
        barcode: &Barcode,
        stop: &Stop,
        now: DateTime<Utc>,
        decide: &mut dyn FnMut(&StopContext, &mut Ledger) -> Result<bool, LedgerRefusal>,
    ) -> Result<Result<Option<StoppedLoan>, LedgerRefusal>> {
        self.write_at(now, |tx, now_text| {
            let (item, _) = circulating_item(tx, barcode)?;
            let Some(loan) = open_loan(tx, item.id)? else {
                return Ok(Err(LedgerRefusal::NotOnLoan(barcode.to_string())));
            };
            let stopped: Option<String> = tx
                .prepare_cached("SELECT kind FROM loan_stops WHERE loan_id = ?1")?
                .query_row([loan.id], |r| r.get(0))
                .optional()?;
            if let Some(kind) = stopped.as_deref().and_then(crate::ledger::StopKind::parse) {
                return Ok(Err(LedgerRefusal::AlreadyStopped { barcode: barcode.to_string(), kind }));
            }
            let patron = account_where(tx, "id = ?1", &loan.patron_id)?
                .ok_or_else(|| StorageError::Other(format!("loan {} names no patron", loan.id)))?;
            let context = StopContext {
                already_charged: overdue_charged(tx, loan.id)?,
                account: read_account(tx, patron)?,
                loan,
                item,
            };
            let mut draft = context.account.ledger.clone();
            match decide(&context, &mut draft) {
                Err(refusal) => return Ok(Err(refusal)),
                Ok(false) => return Ok(Ok(None)),
                Ok(true) => {}
            }
            let before = context.account.rows.len();
            let account = append(tx, &context.account, &draft, Some(context.loan.id))?;
            tx.prepare_cached(
                "INSERT INTO loan_stops (loan_id, kind, patron_id, item_id, at, staff, note) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                context.loan.id,
                stop.kind.as_str(),
                context.loan.patron_id,
                context.item.id,
                now_text,
                actor_text(stop.by),
                stop.note
            ])?;
            set_item_status(tx, now_text, context.item.id, stop.kind.item_status(), None)?;
            Ok(Ok(Some(StoppedLoan {
                loan: get_loan(tx, context.loan.id)?,
                kind: stop.kind,
                at: now,
                entries: account.rows[before..].iter().map(|r| r.id).collect(),
                account,
            })))
        })
    }

    fn claims_returned_count(&self, patron: PatronId) -> Result<u32> {
        self.read(|tx| {
            let n: i64 = tx
                .prepare_cached("SELECT count(*) FROM loan_stops WHERE patron_id = ?1 AND kind = 'claims_returned'")?
                .query_row([patron], |r| r.get(0))?;
            Ok(u32::try_from(n).unwrap_or(u32::MAX))
        })
    }

    fn inspect(&self, new: &NewInspection, now: DateTime<Utc>) -> Result<Result<Inspection, LedgerRefusal>> {
        self.write_at(now, |tx, now_text| {
            let (item, _) = circulating_item(tx, &new.barcode)?;
            if open_loan(tx, item.id)?.is_some() {
                return Ok(Err(LedgerRefusal::OnLoan(new.barcode.to_string())));
            }
            let mut charged = None;
            let mut loan_id = None;
            if let Some(amount) = new.damage_charge {
                let last: Option<(LoanId, PatronId)> = tx
                    .prepare_cached(
                        "SELECT id, patron_id FROM loans WHERE item_id = ?1 ORDER BY checked_out_at DESC, id DESC LIMIT 1",
                    )?
                    .query_row([item.id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                let Some((loan, patron)) = last else {
                    return Ok(Err(LedgerRefusal::NoBorrower(new.barcode.to_string())));
                };
                let patron = account_where(tx, "id = ?1", &patron)?
                    .ok_or_else(|| StorageError::Other(format!("loan {loan} names no patron")))?;
                let account = read_account(tx, patron)?;
                let mut draft = account.ledger.clone();
                let posting = circulation::Posting { at: now, by: new.by, note: new.note.clone() };
                let charge = circulation::ChargeKind::Damage;
                if let Err(e) = draft.post_charge(posting, charge, amount, Some(circulation::ItemId(item.id))) {
                    return Ok(Err(e.into()));
                }
                let account = append(tx, &account, &draft, Some(loan))?;
                let row = account.rows.last().map(|r| r.id).unwrap_or_default();
                charged = Some((account.patron.id, row));
                loan_id = Some(loan);
            }
            tx.prepare_cached(
                "INSERT INTO inspections (item_id, branch, at, staff, condition, note, loan_id, charge_entry_id, to_repair) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                item.id,
                new.branch.as_str(),
                now_text,
                actor_text(new.by),
                new.condition.as_str(),
                new.note,
                loan_id,
                charged.map(|(_, row)| row),
                new.to_repair
            ])?;
            let id = tx.last_insert_rowid();
            let status = if new.to_repair {
                tx.prepare_cached(
                    "INSERT INTO repairs (item_id, inspection_id, branch, queued_at) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![item.id, id, new.branch.as_str(), now_text])?;
                ItemStatus::InRepair
            } else if new.condition == Condition::Unusable {
                ItemStatus::Damaged
            } else {
                item.item.status
            };
            if status != item.item.status {
                set_item_status(tx, now_text, item.id, status, Some(&new.branch))?;
            }
            Ok(Ok(Inspection {
                id,
                item_id: item.id,
                branch: new.branch.clone(),
                at: now,
                condition: new.condition,
                note: new.note.clone(),
                charged,
                to_repair: new.to_repair,
                status,
            }))
        })
    }

    fn repair_queue(&self, branch: &Code) -> Result<Vec<RepairEntry>> {
        let sql = format!(
            "SELECT {}, r.inspection_id, n.condition, n.note, r.queued_at FROM repairs r \
             JOIN items i ON i.id = r.item_id JOIN inspections n ON n.id = r.inspection_id \
             WHERE r.branch = ?1 AND r.repaired_at IS NULL ORDER BY r.queued_at, r.id",
            common::ITEM_COLUMNS
        );
        self.read(|tx| {
            let mut st = tx.prepare_cached(&sql)?;
            let mut rows = st.query([branch.as_str()])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let condition: String = r.get(16)?;
                out.push(RepairEntry {
                    item: item_from_row(r)?,
                    inspection_id: r.get(15)?,
                    condition: Condition::parse(&condition)
                        .ok_or_else(|| StorageError::Other(format!("unknown condition {condition:?}")))?,
                    note: r.get(17)?,
                    queued_at: time(&r.get::<_, String>(18)?)?,
                });
            }
            Ok(out)
        })
    }

    fn repaired(&self, item_id: ItemId, now: DateTime<Utc>, by: Actor) -> Result<Result<Item, LedgerRefusal>> {
        self.write_at(now, |tx, now_text| {
            let branch: Option<String> = tx
                .prepare_cached("SELECT branch FROM repairs WHERE item_id = ?1 AND repaired_at IS NULL")?
                .query_row([item_id], |r| r.get(0))
                .optional()?;
            let Some(branch) = branch else { return Ok(Err(LedgerRefusal::NotInRepair(item_id))) };
            tx.prepare_cached(
                "UPDATE repairs SET repaired_at = ?1, repaired_by = ?2 WHERE item_id = ?3 AND repaired_at IS NULL",
            )?
            .execute(params![now_text, actor_text(by), item_id])?;
            let branch = parse_code(branch)?;
            set_item_status(tx, now_text, item_id, ItemStatus::Available, Some(&branch))?;
            let sql = format!("SELECT {} FROM items i WHERE i.id = ?1", common::ITEM_COLUMNS);
            let item = tx.prepare_cached(&sql)?.query_row([item_id], |r| Ok(item_from_row(r)))??;
            Ok(Ok(item))
        })
    }
}
