//! The ledger on PostgreSQL. Every write locks the patron's row (`SELECT ... FOR UPDATE`) before
//! it reads the entries, so two desks taking a payment at once are serialised: the second reads
//! the first's allocations and cannot apply to the same outstanding amount again. Writes that
//! also touch a copy lock the copy first, as checkout and check-in do, so locks are always taken
//! in the same order.

use super::{
    account_from_row, get_loan, item_from_row, lock_item, open_loan, set_item_status, Cx, PostgresDatabase, Tx,
    ACCOUNT_SQL, LOAN_COLUMNS,
};
use crate::common::{self, parse_code};
use crate::ledger::{
    actor_text, build_account, new_row, Account, Condition, EntryRow, Inspection, LedgerRefusal, LedgerStore,
    LostCandidate, NewInspection, RawAllocation, RawEntry, RepairEntry, Stop, StopContext, StopKind, StoppedLoan,
};
use crate::loans::PatronAccount;
use crate::{ItemId, LoanId, PatronId, Result, StorageError};
use ::postgres::GenericClient;
use catalog::{Barcode, Code, Item, ItemStatus, Money};
use chrono::{DateTime, Utc};
use circulation::{Actor, FoundPolicy, Ledger};

const ENTRY_SQL: &str = "SELECT e.id, e.kind, e.amount, e.loan_id, coalesce(e.item_id, l.item_id), e.at, e.staff, \
     e.note, e.method, e.refund_of FROM ledger_entries e LEFT JOIN loans l ON l.id = e.loan_id \
     WHERE e.patron_id = $1 ORDER BY e.id";
const ALLOCATION_SQL: &str = "SELECT a.credit_id, a.charge_id, a.amount FROM ledger_allocations a \
     JOIN ledger_entries e ON e.id = a.credit_id WHERE e.patron_id = $1 ORDER BY a.credit_id, a.seq";

/// The patron's row, locked for the rest of the transaction.
fn lock_patron<C: GenericClient>(
    cx: &mut Cx<'_, C>,
    condition: &str,
    key: &(dyn ::postgres::types::ToSql + Sync),
) -> Result<Option<PatronAccount>> {
    cx.query_opt(&format!("{ACCOUNT_SQL} WHERE {condition} FOR UPDATE"), &[key])?
        .map(|r| account_from_row(&r))
        .transpose()
}

fn lock_patron_id<C: GenericClient>(cx: &mut Cx<'_, C>, id: PatronId) -> Result<PatronAccount> {
    lock_patron(cx, "id = $1", &id)?.ok_or_else(|| StorageError::Other(format!("patron {id} does not exist")))
}

pub(super) fn read_account<C: GenericClient>(cx: &mut Cx<'_, C>, patron: PatronAccount) -> Result<Account> {
    let raws = cx
        .query(ENTRY_SQL, &[&patron.id])?
        .iter()
        .map(|r| {
            Ok(RawEntry {
                id: r.try_get(0)?,
                kind: r.try_get(1)?,
                amount: r.try_get(2)?,
                loan_id: r.try_get(3)?,
                item_id: r.try_get(4)?,
                at: r.try_get(5)?,
                staff: r.try_get(6)?,
                note: r.try_get(7)?,
                method: r.try_get(8)?,
                refund_of: r.try_get(9)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let allocations = cx
        .query(ALLOCATION_SQL, &[&patron.id])?
        .iter()
        .map(|r| Ok(RawAllocation { credit_id: r.try_get(0)?, charge_id: r.try_get(1)?, amount: r.try_get(2)? }))
        .collect::<Result<Vec<_>>>()?;
    build_account(patron, raws, allocations)
}

/// Appends the entries `draft` has beyond `account`'s, and sets the balance to the draft's.
pub(super) fn append(w: &mut Tx<'_, '_>, account: &Account, draft: &Ledger, loan: Option<LoanId>) -> Result<Account> {
    let mut rows = account.rows.clone();
    for entry in &draft.entries()[account.rows.len()..] {
        let row = new_row(entry, &|id| rows.get(id.0 as usize).map(|r| r.id))?;
        let id: i64 = w
            .cx
            .query_one(
                "INSERT INTO ledger_entries (patron_id, kind, amount, loan_id, at, staff, note, item_id, method, refund_of) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                &[
                    &account.patron.id,
                    &row.kind,
                    &row.amount,
                    &loan,
                    &entry.at,
                    &row.staff,
                    &row.note,
                    &row.item_id,
                    &row.method,
                    &row.refund_of,
                ],
            )?
            .try_get(0)?;
        for (seq, (charge, amount)) in row.allocations.iter().enumerate() {
            let seq = i32::try_from(seq).unwrap_or(i32::MAX);
            w.cx.execute(
                "INSERT INTO ledger_allocations (credit_id, seq, charge_id, amount) VALUES ($1, $2, $3, $4)",
                &[&id, &seq, charge, amount],
            )?;
        }
        rows.push(EntryRow { id, loan_id: loan });
    }
    let balance = draft.balance();
    w.cx.execute("UPDATE patrons SET balance = $1 WHERE id = $2", &[&balance.minor(), &account.patron.id])?;
    let patron = PatronAccount { balance, ..account.patron.clone() };
    Ok(Account { patron, ledger: draft.clone(), rows })
}

/// Part of a check-in: reverses a returned lost copy's charges on the borrower's account.
pub(super) fn found_at_check_in(
    w: &mut Tx<'_, '_>,
    patron: PatronId,
    item: ItemId,
    now: DateTime<Utc>,
    policy: FoundPolicy,
) -> Result<()> {
    let patron = lock_patron_id(&mut w.cx, patron)?;
    let account = read_account(&mut w.cx, patron)?;
    let mut draft = account.ledger.clone();
    crate::ledger::found(&mut draft, now, item, policy).map_err(|e| StorageError::Other(e.to_string()))?;
    append(w, &account, &draft, None)?;
    Ok(())
}

fn item_by_id<C: GenericClient>(cx: &mut Cx<'_, C>, id: ItemId) -> Result<Item> {
    item_from_row(&cx.query_one(&format!("SELECT {} FROM items i WHERE i.id = $1", common::ITEM_COLUMNS), &[&id])?)
}

impl LedgerStore for PostgresDatabase {
    fn account(&self, card_number: &str) -> Result<Option<Account>> {
        let card = card_number.trim();
        // Two statements: one transaction, so the entries and allocations agree.
        self.write(|w| match w.cx.query_opt(&format!("{ACCOUNT_SQL} WHERE card_number = $1"), &[&card])? {
            None => Ok(None),
            Some(row) => {
                let patron = account_from_row(&row)?;
                read_account(&mut w.cx, patron).map(Some)
            }
        })
    }

    fn post_to_account(
        &self,
        card_number: &str,
        _now: DateTime<Utc>,
        loan: Option<LoanId>,
        post: &mut dyn FnMut(&Account, &mut Ledger) -> Result<(), LedgerRefusal>,
    ) -> Result<Result<Account, LedgerRefusal>> {
        let card = card_number.trim();
        self.write(|w| {
            let patron = lock_patron(&mut w.cx, "card_number = $1", &card)?
                .ok_or_else(|| StorageError::NotFound { what: "patron card", key: card.to_string() })?;
            let account = read_account(&mut w.cx, patron)?;
            let mut draft = account.ledger.clone();
            if let Err(refusal) = post(&account, &mut draft) {
                return Ok(Err(refusal));
            }
            Ok(Ok(append(w, &account, &draft, loan)?))
        })
    }

    fn lost_candidates(&self, now: DateTime<Utc>) -> Result<Vec<LostCandidate>> {
        let sql = format!(
            "SELECT {LOAN_COLUMNS} FROM loans l JOIN items i ON i.id = l.item_id \
             WHERE l.returned_at IS NULL AND l.due_at < $1 AND i.status = 'checked_out' ORDER BY l.due_at, l.id"
        );
        self.write(|w| {
            let loans = w.cx.query(&sql, &[&now])?.iter().map(super::loan_from_row).collect::<Result<Vec<_>>>()?;
            let mut out = Vec::with_capacity(loans.len());
            for loan in loans {
                let item = item_by_id(&mut w.cx, loan.item_id)?;
                let patron =
                    w.cx.query_opt(&format!("{ACCOUNT_SQL} WHERE id = $1"), &[&loan.patron_id])?
                        .map(|r| account_from_row(&r))
                        .transpose()?
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
        self.write(|w| {
            let (item, _) = lock_item(&mut w.cx, barcode)?;
            let Some(loan) = open_loan(&mut w.cx, item.id)? else {
                return Ok(Err(LedgerRefusal::NotOnLoan(barcode.to_string())));
            };
            let stopped = w.cx.query_opt("SELECT kind FROM loan_stops WHERE loan_id = $1", &[&loan.id])?;
            if let Some(kind) =
                stopped.map(|r| r.try_get::<_, String>(0)).transpose()?.as_deref().and_then(StopKind::parse)
            {
                return Ok(Err(LedgerRefusal::AlreadyStopped { barcode: barcode.to_string(), kind }));
            }
            let patron = lock_patron_id(&mut w.cx, loan.patron_id)?;
            let charged: i64 =
                w.cx.query_one(
                    "SELECT coalesce(sum(amount), 0)::int8 FROM ledger_entries WHERE loan_id = $1 AND kind = 'overdue'",
                    &[&loan.id],
                )?
                .try_get(0)?;
            let context = StopContext {
                already_charged: Money::from_minor(charged),
                account: read_account(&mut w.cx, patron)?,
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
            let account = append(w, &context.account, &draft, Some(context.loan.id))?;
            w.cx.execute(
                "INSERT INTO loan_stops (loan_id, kind, patron_id, item_id, at, staff, note) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &context.loan.id,
                    &stop.kind.as_str(),
                    &context.loan.patron_id,
                    &context.item.id,
                    &now,
                    &actor_text(stop.by),
                    &stop.note,
                ],
            )?;
            set_item_status(w, context.item.id, stop.kind.item_status(), &context.item.item.holding_branch)?;
            Ok(Ok(Some(StoppedLoan {
                loan: get_loan(&mut w.cx, context.loan.id)?,
                kind: stop.kind,
                at: now,
                entries: account.rows[before..].iter().map(|r| r.id).collect(),
                account,
            })))
        })
    }

    fn claims_returned_count(&self, patron: PatronId) -> Result<u32> {
        self.read(|cx| {
            let n: i64 = cx
                .query_one(
                    "SELECT count(*) FROM loan_stops WHERE patron_id = $1 AND kind = 'claims_returned'",
                    &[&patron],
                )?
                .try_get(0)?;
            Ok(u32::try_from(n).unwrap_or(u32::MAX))
        })
    }

    fn inspect(&self, new: &NewInspection, now: DateTime<Utc>) -> Result<Result<Inspection, LedgerRefusal>> {
        self.write(|w| {
            let (item, _) = lock_item(&mut w.cx, &new.barcode)?;
            if open_loan(&mut w.cx, item.id)?.is_some() {
                return Ok(Err(LedgerRefusal::OnLoan(new.barcode.to_string())));
            }
            let mut charged = None;
            let mut loan_id: Option<LoanId> = None;
            if let Some(amount) = new.damage_charge {
                let last = w.cx.query_opt(
                    "SELECT id, patron_id FROM loans WHERE item_id = $1 ORDER BY checked_out_at DESC, id DESC LIMIT 1",
                    &[&item.id],
                )?;
                let Some(last) = last else {
                    return Ok(Err(LedgerRefusal::NoBorrower(new.barcode.to_string())));
                };
                let (loan, patron): (LoanId, PatronId) = (last.try_get(0)?, last.try_get(1)?);
                let patron = lock_patron_id(&mut w.cx, patron)?;
                let account = read_account(&mut w.cx, patron)?;
                let mut draft = account.ledger.clone();
                let posting = circulation::Posting { at: now, by: new.by, note: new.note.clone() };
                let charge = circulation::ChargeKind::Damage;
                if let Err(e) = draft.post_charge(posting, charge, amount, Some(circulation::ItemId(item.id))) {
                    return Ok(Err(e.into()));
                }
                let account = append(w, &account, &draft, Some(loan))?;
                let row = account.rows.last().map(|r| r.id).unwrap_or_default();
                charged = Some((account.patron.id, row));
                loan_id = Some(loan);
            }
            let id: i64 = w
                .cx
                .query_one(
                    "INSERT INTO inspections (item_id, branch, at, staff, condition, note, loan_id, charge_entry_id, to_repair) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                    &[
                        &item.id,
                        &new.branch.as_str(),
                        &now,
                        &actor_text(new.by),
                        &new.condition.as_str(),
                        &new.note,
                        &loan_id,
                        &charged.map(|(_, row)| row),
                        &new.to_repair,
                    ],
                )?
                .try_get(0)?;
            let status = if new.to_repair {
                w.cx.execute(
                    "INSERT INTO repairs (item_id, inspection_id, branch, queued_at) VALUES ($1, $2, $3, $4)",
                    &[&item.id, &id, &new.branch.as_str(), &now],
                )?;
                ItemStatus::InRepair
            } else if new.condition == Condition::Unusable {
                ItemStatus::Damaged
            } else {
                item.item.status
            };
            if status != item.item.status {
                set_item_status(w, item.id, status, &new.branch)?;
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
             WHERE r.branch = $1 AND r.repaired_at IS NULL ORDER BY r.queued_at, r.id",
            common::ITEM_COLUMNS
        );
        self.read(|cx| {
            cx.query(&sql, &[&branch.as_str()])?
                .iter()
                .map(|r| {
                    let condition: String = r.try_get(16)?;
                    Ok(RepairEntry {
                        item: item_from_row(r)?,
                        inspection_id: r.try_get(15)?,
                        condition: Condition::parse(&condition)
                            .ok_or_else(|| StorageError::Other(format!("unknown condition {condition:?}")))?,
                        note: r.try_get(17)?,
                        queued_at: r.try_get(18)?,
                    })
                })
                .collect()
        })
    }

    fn repaired(&self, item_id: ItemId, now: DateTime<Utc>, by: Actor) -> Result<Result<Item, LedgerRefusal>> {
        self.write(|w| {
            // The copy's row is the lock, as for every other change of its status.
            w.cx.query_opt("SELECT id FROM items WHERE id = $1 FOR UPDATE", &[&item_id])?;
            let open =
                w.cx.query_opt("SELECT branch FROM repairs WHERE item_id = $1 AND repaired_at IS NULL", &[&item_id])?;
            let Some(open) = open else { return Ok(Err(LedgerRefusal::NotInRepair(item_id))) };
            let branch = parse_code(open.try_get(0)?)?;
            w.cx.execute(
                "UPDATE repairs SET repaired_at = $1, repaired_by = $2 WHERE item_id = $3 AND repaired_at IS NULL",
                &[&now, &actor_text(by), &item_id],
            )?;
            set_item_status(w, item_id, ItemStatus::Available, &branch)?;
            Ok(Ok(item_by_id(&mut w.cx, item_id)?))
        })
    }
}
