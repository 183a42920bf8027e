use super::{Cx, PostgresDatabase};
use crate::common::{parse_code, Ref};
use crate::patrons::{
    BlockKind, CardChoice, CardStatus, DuplicateCandidate, HistoryChoice, HistoryEntry, NewBlock, NoticePreference,
    PatronBlock, PatronDetails, PatronQuery, PatronRecord, PatronSession, PatronStore, ReadingHistory, Registration,
    ReplacedCard, ANONYMOUS_CARD,
};
use crate::{common, Page, PatronId, Result, StorageError};
use ::postgres::error::SqlState;
use ::postgres::{GenericClient, Row};
use catalog::Money;
use chrono::{DateTime, NaiveDate, Utc};
use circulation::registration;

const PATRON_SQL: &str = "SELECT p.id, p.card_number, p.surname, p.first_name, p.category, p.home_branch, \
     p.expiry_date, p.birth_date, p.email, p.phone, p.address, g.card_number, p.notice_preference, \
     p.reading_history, p.name_key, p.email_key, p.created_at, p.balance \
     FROM patrons p LEFT JOIN patrons g ON g.id = p.guarantor_id";

fn record_from_row(r: &Row) -> Result<PatronRecord> {
    let preference: String = r.try_get(12)?;
    let history: String = r.try_get(13)?;
    Ok(PatronRecord {
        id: r.try_get(0)?,
        card_number: r.try_get(1)?,
        details: PatronDetails {
            surname: r.try_get(2)?,
            first_name: r.try_get(3)?,
            category: parse_code(r.try_get(4)?)?,
            home_branch: parse_code(r.try_get(5)?)?,
            expiry_date: r.try_get(6)?,
            birth_date: r.try_get(7)?,
            email: r.try_get(8)?,
            phone: r.try_get(9)?,
            address: r.try_get(10)?,
            guarantor: r.try_get(11)?,
            notice_preference: NoticePreference::parse(&preference)
                .ok_or_else(|| StorageError::Other(format!("unknown notice preference {preference:?}")))?,
            reading_history: HistoryChoice::parse(&history)
                .ok_or_else(|| StorageError::Other(format!("unknown history choice {history:?}")))?,
            name_key: r.try_get(14)?,
            email_key: r.try_get(15)?,
        },
        registered_at: r.try_get(16)?,
        balance: Money::from_minor(r.try_get(17)?),
    })
}

fn by_id<C: GenericClient>(cx: &mut Cx<'_, C>, id: PatronId) -> Result<PatronRecord> {
    let row = cx.query_opt(&format!("{PATRON_SQL} WHERE p.id = $1"), &[&id])?;
    row.map(|r| record_from_row(&r)).transpose()?.ok_or_else(|| StorageError::Other(format!("patron {id} vanished")))
}

fn by_card<C: GenericClient>(cx: &mut Cx<'_, C>, card: &str) -> Result<PatronRecord> {
    let card = card.trim();
    let not_found = || StorageError::NotFound { what: "patron card", key: card.to_string() };
    if card == ANONYMOUS_CARD {
        return Err(not_found());
    }
    let row = cx.query_opt(&format!("{PATRON_SQL} WHERE p.card_number = $1"), &[&card])?;
    row.map(|r| record_from_row(&r)).transpose()?.ok_or_else(not_found)
}

fn guarantor_id<C: GenericClient>(cx: &mut Cx<'_, C>, d: &PatronDetails) -> Result<Option<PatronId>> {
    let Some(card) = d.guarantor.as_deref().map(str::trim).filter(|c| !c.is_empty()) else { return Ok(None) };
    let row = cx.query_opt("SELECT id FROM patrons WHERE card_number = $1 AND card_number <> ''", &[&card])?;
    match row {
        Some(r) => Ok(Some(r.try_get(0)?)),
        None => Err(StorageError::NotFound { what: "guarantor card", key: card.to_string() }),
    }
}

fn taken<C: GenericClient>(cx: &mut Cx<'_, C>, n: &str) -> Result<Option<&'static str>> {
    let row = cx.query_one(
        "SELECT EXISTS (SELECT 1 FROM patrons WHERE card_number = $1), \
         EXISTS (SELECT 1 FROM patron_cards WHERE card_number = $1)",
        &[&n],
    )?;
    Ok(if row.try_get(0)? {
        Some("card number")
    } else if row.try_get(1)? {
        Some("replaced card number")
    } else {
        None
    })
}

/// Locks the card sequence: registrations and replacements take turns, so the duplicate search
/// and the card number each sees are still true at commit.
pub(super) fn lock_registrations<C: GenericClient>(cx: &mut Cx<'_, C>) -> Result<()> {
    cx.query_one("SELECT next FROM patron_card_sequence WHERE id = 1 FOR UPDATE", &[])?;
    Ok(())
}

fn choose_card<C: GenericClient>(cx: &mut Cx<'_, C>, choice: CardChoice<'_>) -> Result<String> {
    match choice {
        CardChoice::Given(n) => match taken(cx, n.trim())? {
            Some(what) => Err(StorageError::Conflict { what, key: n.trim().to_string() }),
            None => Ok(n.trim().to_string()),
        },
        CardChoice::Issue(make) => loop {
            let next: i64 = cx
                .query_one("UPDATE patron_card_sequence SET next = next + 1 WHERE id = 1 RETURNING next - 1", &[])?
                .try_get(0)?;
            let number = make(u64::try_from(next).unwrap_or(0)).ok_or_else(|| {
                StorageError::Other(format!("the card number pattern has no number after {}", next - 1))
            })?;
            // Cards imported or typed in may already use numbers of the sequence: skip them.
            if taken(cx, &number)?.is_none() {
                return Ok(number);
            }
        },
    }
}

fn duplicates<C: GenericClient>(cx: &mut Cx<'_, C>, d: &PatronDetails) -> Result<Vec<DuplicateCandidate>> {
    let rows = cx.query(
        "SELECT card_number, surname, first_name, name_key, email_key FROM patrons \
         WHERE (name_key = $1 OR email_key = $2) AND card_number <> '' ORDER BY id LIMIT 20",
        &[&d.name_key, &d.email_key],
    )?;
    rows.iter()
        .map(|r| {
            Ok(DuplicateCandidate {
                card_number: r.try_get(0)?,
                surname: r.try_get(1)?,
                first_name: r.try_get(2)?,
                name_key: r.try_get(3)?,
                email_key: r.try_get(4)?,
            })
        })
        .collect()
}

const BLOCK_SQL: &str =
    "SELECT id, kind, reason, until_date, placed_at, placed_by, lifted_at, lifted_by FROM patron_blocks";

fn block_from_row(r: &Row) -> Result<PatronBlock> {
    let kind: String = r.try_get(1)?;
    let lifted_at: Option<DateTime<Utc>> = r.try_get(6)?;
    Ok(PatronBlock {
        id: r.try_get(0)?,
        kind: BlockKind::parse(&kind).ok_or_else(|| StorageError::Other(format!("unknown block kind {kind:?}")))?,
        reason: r.try_get(2)?,
        until: r.try_get(3)?,
        placed_at: r.try_get(4)?,
        placed_by: r.try_get(5)?,
        lifted: match lifted_at {
            Some(at) => Some((at, r.try_get::<_, Option<String>>(7)?.unwrap_or_default())),
            None => None,
        },
    })
}

/// The patron's unlifted blocks, for the circulation context (read under its transaction).
pub(super) fn active_blocks<C: GenericClient>(cx: &mut Cx<'_, C>, patron: PatronId) -> Result<Vec<PatronBlock>> {
    let rows = cx.query(&format!("{BLOCK_SQL} WHERE patron_id = $1 AND lifted_at IS NULL ORDER BY id"), &[&patron])?;
    rows.iter().map(block_from_row).collect()
}

/// Fills the search keys (0017) of the patrons written without them: every write of a name or
/// phone leaves them NULL, and its transaction calls this before committing.
pub(super) fn fill_search_keys<C: GenericClient>(cx: &mut Cx<'_, C>) -> Result<()> {
    let rows = cx.query("SELECT id, surname, first_name, phone FROM patrons WHERE search_name IS NULL", &[])?;
    if rows.is_empty() {
        return Ok(());
    }
    let (mut ids, mut names, mut phones) = (Vec::new(), Vec::new(), Vec::new());
    for r in &rows {
        let (surname, first_name): (String, String) = (r.try_get(1)?, r.try_get(2)?);
        let phone: Option<String> = r.try_get(3)?;
        ids.push(r.try_get::<_, PatronId>(0)?);
        names.push(registration::search_name(&surname, &first_name));
        phones.push(phone.as_deref().and_then(registration::phone_key));
    }
    cx.execute(
        "UPDATE patrons SET search_name = k.name, phone_key = k.phone \
         FROM unnest($1::int8[], $2::text[], $3::text[]) AS k(id, name, phone) WHERE patrons.id = k.id",
        &[&ids, &names, &phones],
    )?;
    Ok(())
}

fn write_details_error(e: StorageError, d: &PatronDetails) -> StorageError {
    match &e {
        StorageError::Postgres(pg)
            if pg.as_db_error().is_some_and(|db| {
                *db.code() == SqlState::FOREIGN_KEY_VIOLATION && db.constraint() == Some("patrons_home_branch_fkey")
            }) =>
        {
            Ref::HomeBranch.missing(&d.home_branch)
        }
        _ => e,
    }
}

impl PatronStore for PostgresDatabase {
    fn register_patron(
        &self,
        d: &PatronDetails,
        card: CardChoice<'_>,
        confirmed: bool,
        now: DateTime<Utc>,
    ) -> Result<Registration> {
        self.write(|w| {
            lock_registrations(&mut w.cx)?;
            super::settings::check_category(&mut w.cx, &d.category)?;
            if !confirmed {
                let found = duplicates(&mut w.cx, d)?;
                if !found.is_empty() {
                    return Ok(Registration::Duplicates(found));
                }
            }
            let guarantor = guarantor_id(&mut w.cx, d)?;
            let number = choose_card(&mut w.cx, card)?;
            let row =
                w.cx.query_one(
                    "INSERT INTO patrons (card_number, surname, first_name, category, home_branch, expiry_date, \
                     email, created_at, updated_at, birth_date, address, phone, guarantor_id, notice_preference, \
                     reading_history, name_key, email_key) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
                    &[
                        &number,
                        &d.surname,
                        &d.first_name,
                        &d.category.as_str(),
                        &d.home_branch.as_str(),
                        &d.expiry_date,
                        &d.email,
                        &now,
                        &d.birth_date,
                        &d.address,
                        &d.phone,
                        &guarantor,
                        &d.notice_preference.as_str(),
                        &d.reading_history.as_str(),
                        &d.name_key,
                        &d.email_key,
                    ],
                )
                .map_err(|e| write_details_error(e, d))?;
            fill_search_keys(&mut w.cx)?;
            Ok(Registration::Registered(Box::new(by_id(&mut w.cx, row.try_get(0)?)?)))
        })
    }

    fn duplicate_candidates(&self, details: &PatronDetails) -> Result<Vec<DuplicateCandidate>> {
        self.read(|cx| duplicates(cx, details))
    }

    fn patron_record(&self, card: &str) -> Result<Option<PatronRecord>> {
        self.read(|cx| match by_card(cx, card) {
            Ok(r) => Ok(Some(r)),
            Err(StorageError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        })
    }

    fn card_status(&self, card: &str) -> Result<CardStatus> {
        let card = card.trim();
        if card == ANONYMOUS_CARD {
            return Ok(CardStatus::Unknown);
        }
        self.read(|cx| {
            let row = cx.query_one(
                "SELECT (SELECT id FROM patrons WHERE card_number = $1), \
                 (SELECT patron_id FROM patron_cards WHERE card_number = $1), \
                 (SELECT replaced_at FROM patron_cards WHERE card_number = $1)",
                &[&card],
            )?;
            let current: Option<PatronId> = row.try_get(0)?;
            let replaced: Option<PatronId> = row.try_get(1)?;
            let at: Option<DateTime<Utc>> = row.try_get(2)?;
            Ok(match (current, replaced, at) {
                (Some(id), _, _) => CardStatus::Current(id),
                (None, Some(patron), Some(replaced_at)) => CardStatus::Replaced { patron, replaced_at },
                _ => CardStatus::Unknown,
            })
        })
    }

    fn update_patron(&self, card: &str, d: &PatronDetails, now: DateTime<Utc>) -> Result<PatronRecord> {
        self.write(|w| {
            let current = by_card(&mut w.cx, card)?;
            if current.details.category != d.category {
                lock_registrations(&mut w.cx)?;
                super::settings::check_category(&mut w.cx, &d.category)?;
            }
            let guarantor = guarantor_id(&mut w.cx, d)?;
            if guarantor == Some(current.id) {
                return Err(StorageError::Constraint("a patron cannot be their own guarantor".to_string()));
            }
            w.cx.execute(
                "UPDATE patrons SET surname = $2, first_name = $3, category = $4, home_branch = $5, email = $6, \
                 birth_date = $7, address = $8, phone = $9, guarantor_id = $10, notice_preference = $11, \
                 reading_history = $12, name_key = $13, email_key = $14, updated_at = $15, search_name = NULL \
                 WHERE id = $1",
                &[
                    &current.id,
                    &d.surname,
                    &d.first_name,
                    &d.category.as_str(),
                    &d.home_branch.as_str(),
                    &d.email,
                    &d.birth_date,
                    &d.address,
                    &d.phone,
                    &guarantor,
                    &d.notice_preference.as_str(),
                    &d.reading_history.as_str(),
                    &d.name_key,
                    &d.email_key,
                    &now,
                ],
            )
            .map_err(|e| write_details_error(e, d))?;
            fill_search_keys(&mut w.cx)?;
            by_id(&mut w.cx, current.id)
        })
    }

    fn renew_card(
        &self,
        card: &str,
        now: DateTime<Utc>,
        decide: &mut dyn FnMut(&PatronRecord) -> Option<NaiveDate>,
    ) -> Result<Option<PatronRecord>> {
        self.write(|w| {
            let current = by_card(&mut w.cx, card)?;
            w.cx.query_one("SELECT id FROM patrons WHERE id = $1 FOR UPDATE", &[&current.id])?;
            let current = by_id(&mut w.cx, current.id)?;
            let Some(expiry) = decide(&current) else { return Ok(None) };
            w.cx.execute(
                "UPDATE patrons SET expiry_date = $2, updated_at = $3 WHERE id = $1",
                &[&current.id, &expiry, &now],
            )?;
            by_id(&mut w.cx, current.id).map(Some)
        })
    }

    fn replace_card(
        &self,
        card: &str,
        new_card: CardChoice<'_>,
        staff: &str,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<PatronRecord> {
        self.write(|w| {
            lock_registrations(&mut w.cx)?;
            let current = by_card(&mut w.cx, card)?;
            let number = choose_card(&mut w.cx, new_card)?;
            w.cx.execute(
                "INSERT INTO patron_cards (card_number, patron_id, replaced_at, replaced_by, reason) \
                 VALUES ($1, $2, $3, $4, $5)",
                &[&current.card_number, &current.id, &now, &staff, &reason],
            )?;
            w.cx.execute(
                "UPDATE patrons SET card_number = $2, updated_at = $3 WHERE id = $1",
                &[&current.id, &number, &now],
            )?;
            by_id(&mut w.cx, current.id)
        })
    }

    fn replaced_cards(&self, card: &str) -> Result<Vec<ReplacedCard>> {
        self.read(|cx| {
            let patron = by_card(cx, card)?;
            let rows = cx.query(
                "SELECT card_number, replaced_at, replaced_by, reason FROM patron_cards WHERE patron_id = $1 \
                 ORDER BY replaced_at DESC, card_number",
                &[&patron.id],
            )?;
            rows.iter()
                .map(|r| {
                    Ok(ReplacedCard {
                        card_number: r.try_get(0)?,
                        replaced_at: r.try_get(1)?,
                        replaced_by: r.try_get(2)?,
                        reason: r.try_get(3)?,
                    })
                })
                .collect()
        })
    }

    fn add_block(&self, card: &str, block: &NewBlock, staff: &str, now: DateTime<Utc>) -> Result<PatronBlock> {
        self.write(|w| {
            let patron = by_card(&mut w.cx, card)?;
            let row = w.cx.query_one(
                "INSERT INTO patron_blocks (patron_id, kind, reason, until_date, placed_at, placed_by) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 RETURNING id, kind, reason, until_date, placed_at, placed_by, lifted_at, lifted_by",
                &[&patron.id, &block.kind.as_str(), &block.reason, &block.until, &now, &staff],
            )?;
            block_from_row(&row)
        })
    }

    fn lift_block(&self, card: &str, block: i64, staff: &str, now: DateTime<Utc>) -> Result<PatronBlock> {
        self.write(|w| {
            let patron = by_card(&mut w.cx, card)?;
            w.cx.execute(
                "UPDATE patron_blocks SET lifted_at = $3, lifted_by = $4 \
                 WHERE id = $1 AND patron_id = $2 AND lifted_at IS NULL",
                &[&block, &patron.id, &now, &staff],
            )?;
            let row =
                w.cx.query_opt(&format!("{BLOCK_SQL} WHERE id = $1 AND patron_id = $2"), &[&block, &patron.id])?;
            row.map(|r| block_from_row(&r))
                .transpose()?
                .ok_or_else(|| StorageError::NotFound { what: "block", key: block.to_string() })
        })
    }

    fn blocks(&self, card: &str) -> Result<Vec<PatronBlock>> {
        self.read(|cx| {
            let patron = by_card(cx, card)?;
            let rows = cx.query(&format!("{BLOCK_SQL} WHERE patron_id = $1 ORDER BY id"), &[&patron.id])?;
            rows.iter().map(block_from_row).collect()
        })
    }

    fn find_patrons(&self, query: &PatronQuery, page: Page) -> Result<Vec<PatronRecord>> {
        let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_string);
        // Only the conditions asked for, so that each search uses its own index (card number,
        // email key, phone) rather than a generic plan testing `$n IS NULL OR ...` on every row.
        let limit = i64::from(page.limit);
        let mut conditions = vec!["p.card_number <> ''".to_string(), "p.id > $1".to_string()];
        let mut values: Vec<String> = Vec::new();
        let mut add = |condition: &str, value: String| {
            values.push(value);
            conditions.push(condition.replace('?', &format!("${}::text", values.len() + 2)));
        };
        if let Some(card) = given(&query.card) {
            add("p.card_number = ?", card);
        }
        let by_name = given(&query.name_prefix).map(|n| registration::fold_name(&n)).filter(|n| !n.is_empty());
        if let Some(prefix) = &by_name {
            add("p.search_name >= ?", prefix.clone());
            add("p.search_name < ?", common::prefix_end(prefix));
        }
        if let Some(email) = query.email.as_deref().and_then(|e| circulation::registration::email_key(Some(e))) {
            add("p.email_key = ?", email);
        }
        if let Some(digits) = query.phone.as_deref().and_then(registration::phone_key) {
            add("p.phone_key >= ?", digits.clone());
            add("p.phone_key < ?", common::prefix_end(&digits));
        }
        // A name search pages in name order (after the last patron shown), the rest in id order.
        let order = if by_name.is_some() {
            conditions[1] =
                "(p.search_name, p.id) > (SELECT coalesce(max(a.search_name), ''), $1::int8 FROM patrons a WHERE a.id = $1)"
                    .to_string();
            "p.search_name, p.id"
        } else {
            "p.id"
        };
        let sql = format!("{PATRON_SQL} WHERE {} ORDER BY {order} LIMIT $2", conditions.join(" AND "));
        self.read(|cx| {
            let mut params: Vec<&(dyn ::postgres::types::ToSql + Sync)> = vec![&page.after, &limit];
            params.extend(values.iter().map(|v| v as &(dyn ::postgres::types::ToSql + Sync)));
            let rows = cx.query(&sql, &params)?;
            rows.iter().map(record_from_row).collect()
        })
    }

    fn dependants(&self, card: &str, limit: u32) -> Result<Vec<PatronRecord>> {
        self.read(|cx| {
            let guarantor = by_card(cx, card)?;
            let rows = cx.query(
                &format!("{PATRON_SQL} WHERE p.guarantor_id = $1 AND p.card_number <> '' ORDER BY p.id LIMIT $2"),
                &[&guarantor.id, &i64::from(limit)],
            )?;
            rows.iter().map(record_from_row).collect()
        })
    }

    fn reading_history(&self, card: &str, page: Page) -> Result<ReadingHistory> {
        self.read(|cx| {
            let patron = by_card(cx, card)?;
            if !patron.details.reading_history.keeps() {
                return Ok(ReadingHistory::NotKept);
            }
            let rows = cx.query(
                "SELECT l.id, i.barcode, r.title, l.checked_out_at, l.returned_at FROM loans l \
                 JOIN items i ON i.id = l.item_id JOIN bib_records r ON r.id = i.bib_id \
                 WHERE l.patron_id = $1 AND l.returned_at IS NOT NULL AND ($2::bigint = 0 OR l.id < $2) \
                 ORDER BY l.id DESC LIMIT $3",
                &[&patron.id, &page.after, &i64::from(page.limit)],
            )?;
            let entries = rows
                .iter()
                .map(|r| {
                    Ok(HistoryEntry {
                        loan_id: r.try_get(0)?,
                        barcode: r.try_get(1)?,
                        title: r.try_get(2)?,
                        checked_out_at: r.try_get(3)?,
                        returned_at: r.try_get(4)?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(ReadingHistory::Kept(entries))
        })
    }

    fn anonymise_returned_loans(&self, before: DateTime<Utc>, now: DateTime<Utc>) -> Result<u64> {
        const DUE: &str = "l.returned_at IS NOT NULL AND l.returned_at < $1 AND l.patron_id IN \
             (SELECT id FROM patrons WHERE reading_history <> 'keep' AND card_number <> '')";
        self.write(|w| {
            let branch =
                w.cx.query_opt(&format!("SELECT l.checkout_branch FROM loans l WHERE {DUE} LIMIT 1"), &[&before])?;
            let Some(branch) = branch else { return Ok(0) };
            let branch: String = branch.try_get(0)?;
            // Two daily jobs at once must not both create the anonymous patron.
            w.cx.query_one("SELECT next FROM patron_card_sequence WHERE id = 1 FOR UPDATE", &[])?;
            let existing = w.cx.query_opt("SELECT patron_id FROM anonymous_patron WHERE id = 1", &[])?;
            let anonymous: PatronId = match existing {
                Some(r) => r.try_get(0)?,
                None => {
                    let id: PatronId =
                        w.cx.query_one(
                            "INSERT INTO patrons (card_number, surname, first_name, category, home_branch, \
                             expiry_date, created_at, updated_at, reading_history) \
                             VALUES ($1, 'Anonymous', '', 'ANONYMOUS', $2, DATE '1970-01-01', $3, $3, 'never') \
                             RETURNING id",
                            &[&ANONYMOUS_CARD, &branch, &now],
                        )?
                        .try_get(0)?;
                    fill_search_keys(&mut w.cx)?;
                    w.cx.execute("INSERT INTO anonymous_patron (id, patron_id) VALUES (1, $1)", &[&id])?;
                    id
                }
            };
            // The patron's charges for these loans stay on their account (a bill names what it is
            // for) but no longer lead to the loan, which is no longer theirs.
            w.cx.execute(
                &format!(
                    "UPDATE ledger_entries SET loan_id = NULL WHERE loan_id IN (SELECT l.id FROM loans l WHERE {DUE})"
                ),
                &[&before],
            )?;
            let n = w.cx.execute(
                &format!("UPDATE loans SET patron_id = $2 WHERE id IN (SELECT l.id FROM loans l WHERE {DUE})"),
                &[&before, &anonymous],
            )?;
            Ok(n)
        })
    }

    fn set_patron_password(&self, card: &str, password_hash: Option<&str>, now: DateTime<Utc>) -> Result<()> {
        self.write(|w| {
            let patron = by_card(&mut w.cx, card)?;
            match password_hash {
                Some(hash) => w.cx.execute(
                    "INSERT INTO patron_passwords (patron_id, password_hash, set_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (patron_id) DO UPDATE SET password_hash = EXCLUDED.password_hash, \
                     set_at = EXCLUDED.set_at",
                    &[&patron.id, &hash, &now],
                )?,
                None => w.cx.execute("DELETE FROM patron_passwords WHERE patron_id = $1", &[&patron.id])?,
            };
            Ok(())
        })
    }

    fn patron_password_hash(&self, card: &str) -> Result<Option<String>> {
        self.read(|cx| {
            let patron = by_card(cx, card)?;
            let row = cx.query_opt("SELECT password_hash FROM patron_passwords WHERE patron_id = $1", &[&patron.id])?;
            Ok(row.map(|r| r.get(0)))
        })
    }

    fn create_patron_session(
        &self,
        card: &str,
        token_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.write(|w| {
            let patron = by_card(&mut w.cx, card)?;
            w.cx.execute("DELETE FROM patron_sessions WHERE patron_id = $1 AND expires_at <= $2", &[&patron.id, &now])?;
            w.cx.execute(
                "INSERT INTO patron_sessions (token_hash, patron_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
                &[&token_hash, &patron.id, &now, &expires_at],
            )?;
            Ok(())
        })
    }

    fn patron_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        extend_to: DateTime<Utc>,
    ) -> Result<Option<PatronSession>> {
        let found = self.read(|cx| {
            cx.query_opt(
                "SELECT s.patron_id, p.card_number, s.expires_at FROM patron_sessions s \
                 JOIN patrons p ON p.id = s.patron_id WHERE s.token_hash = $1 AND s.expires_at > $2",
                &[&token_hash, &now],
            )
        })?;
        let Some(row) = found else { return Ok(None) };
        let (patron_id, card_number, mut expires_at): (PatronId, String, DateTime<Utc>) =
            (row.get(0), row.get(1), row.get(2));
        // Moving the expiry is an idempotent write, made at most once a minute per session.
        if extend_to - expires_at > chrono::Duration::seconds(60) {
            let moved = self.write(|w| {
                w.cx.execute(
                    "UPDATE patron_sessions SET expires_at = $2 \
                     WHERE token_hash = $1 AND expires_at > $3 AND expires_at < $2",
                    &[&token_hash, &extend_to, &now],
                )
            })?;
            if moved > 0 {
                expires_at = extend_to;
            }
        }
        Ok(Some(PatronSession { patron_id, card_number, expires_at }))
    }

    fn end_patron_session(&self, token_hash: &str) -> Result<bool> {
        self.write(|w| Ok(w.cx.execute("DELETE FROM patron_sessions WHERE token_hash = $1", &[&token_hash])? > 0))
    }
}
