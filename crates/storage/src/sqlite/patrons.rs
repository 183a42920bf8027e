use super::{exists, is_fk_violation, time, SqliteDatabase};
use crate::common::{self, parse_code, Ref};
use crate::patrons::{
    BlockKind, CardChoice, CardStatus, DuplicateCandidate, HistoryChoice, HistoryEntry, NewBlock, NoticePreference,
    PatronBlock, PatronDetails, PatronQuery, PatronRecord, PatronSession, PatronStore, ReadingHistory, Registration,
    ReplacedCard, ANONYMOUS_CARD,
};
use crate::{Page, PatronId, Result, StorageError};
use catalog::Money;
use chrono::{DateTime, NaiveDate, Utc};
use circulation::registration;
use rusqlite::{params, Connection, OptionalExtension, Row};

const PATRON_SQL: &str = "SELECT p.id, p.card_number, p.surname, p.first_name, p.category, p.home_branch, \
     p.expiry_date, p.birth_date, p.email, p.phone, p.address, g.card_number, p.notice_preference, \
     p.reading_history, p.name_key, p.email_key, p.created_at, p.balance \
     FROM patrons p LEFT JOIN patrons g ON g.id = p.guarantor_id";

fn date(what: &str, s: Option<String>) -> Result<Option<NaiveDate>> {
    s.map(|s| common::parse_date(what, &s)).transpose()
}

fn record_from_row(r: &Row<'_>) -> Result<PatronRecord> {
    let preference: String = r.get(12)?;
    let history: String = r.get(13)?;
    Ok(PatronRecord {
        id: r.get(0)?,
        card_number: r.get(1)?,
        details: PatronDetails {
            surname: r.get(2)?,
            first_name: r.get(3)?,
            category: parse_code(r.get(4)?)?,
            home_branch: parse_code(r.get(5)?)?,
            expiry_date: common::parse_date("expiry date", &r.get::<_, String>(6)?)?,
            birth_date: date("birth date", r.get(7)?)?,
            email: r.get(8)?,
            phone: r.get(9)?,
            address: r.get(10)?,
            guarantor: r.get(11)?,
            notice_preference: NoticePreference::parse(&preference)
                .ok_or_else(|| StorageError::Other(format!("unknown notice preference {preference:?}")))?,
            reading_history: HistoryChoice::parse(&history)
                .ok_or_else(|| StorageError::Other(format!("unknown history choice {history:?}")))?,
            name_key: r.get(14)?,
            email_key: r.get(15)?,
        },
        registered_at: time(&r.get::<_, String>(16)?)?,
        balance: Money::from_minor(r.get(17)?),
    })
}

fn record_where(conn: &Connection, condition: &str, key: &dyn rusqlite::ToSql) -> Result<Option<PatronRecord>> {
    let mut st = conn.prepare_cached(&format!("{PATRON_SQL} WHERE {condition}"))?;
    let mut rows = st.query([key])?;
    rows.next()?.map(record_from_row).transpose()
}

fn by_card(conn: &Connection, card: &str) -> Result<PatronRecord> {
    let card = card.trim();
    if card == ANONYMOUS_CARD {
        return Err(StorageError::NotFound { what: "patron card", key: card.to_string() });
    }
    record_where(conn, "p.card_number = ?1", &card)?
        .ok_or_else(|| StorageError::NotFound { what: "patron card", key: card.to_string() })
}

fn guarantor_id(conn: &Connection, d: &PatronDetails) -> Result<Option<PatronId>> {
    let Some(card) = d.guarantor.as_deref().map(str::trim).filter(|c| !c.is_empty()) else { return Ok(None) };
    let id: Option<PatronId> = conn
        .prepare_cached("SELECT id FROM patrons WHERE card_number = ?1 AND card_number <> ''")?
        .query_row([card], |r| r.get(0))
        .optional()?;
    id.map(Some).ok_or_else(|| StorageError::NotFound { what: "guarantor card", key: card.to_string() })
}

/// A card number that no patron has and none had: the given one, or the sequence's next free.
fn choose_card(conn: &Connection, choice: CardChoice<'_>) -> Result<String> {
    let taken = |n: &str| -> Result<Option<&'static str>> {
        if exists(conn, "SELECT EXISTS (SELECT 1 FROM patrons WHERE card_number = ?1)", &n)? {
            Ok(Some("card number"))
        } else if exists(conn, "SELECT EXISTS (SELECT 1 FROM patron_cards WHERE card_number = ?1)", &n)? {
            Ok(Some("replaced card number"))
        } else {
            Ok(None)
        }
    };
    match choice {
        CardChoice::Given(n) => match taken(n.trim())? {
            Some(what) => Err(StorageError::Conflict { what, key: n.trim().to_string() }),
            None => Ok(n.trim().to_string()),
        },
        CardChoice::Issue(make) => loop {
            let next: i64 = conn
                .prepare_cached("UPDATE patron_card_sequence SET next = next + 1 WHERE id = 1 RETURNING next - 1")?
                .query_row([], |r| r.get(0))?;
            let number = make(u64::try_from(next).unwrap_or(0)).ok_or_else(|| {
                StorageError::Other(format!("the card number pattern has no number after {}", next - 1))
            })?;
            // Cards imported or typed in may already use numbers of the sequence: skip them.
            if taken(&number)?.is_none() {
                return Ok(number);
            }
        },
    }
}

fn duplicates(conn: &Connection, d: &PatronDetails) -> Result<Vec<DuplicateCandidate>> {
    let mut st = conn.prepare_cached(
        "SELECT card_number, surname, first_name, name_key, email_key FROM patrons \
         WHERE (name_key = ?1 OR email_key = ?2) AND card_number <> '' ORDER BY id LIMIT 20",
    )?;
    let mut rows = st.query(params![d.name_key, d.email_key])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(DuplicateCandidate {
            card_number: r.get(0)?,
            surname: r.get(1)?,
            first_name: r.get(2)?,
            name_key: r.get(3)?,
            email_key: r.get(4)?,
        });
    }
    Ok(out)
}

fn block_from_row(r: &Row<'_>) -> Result<PatronBlock> {
    let kind: String = r.get(1)?;
    let lifted_at: Option<String> = r.get(6)?;
    Ok(PatronBlock {
        id: r.get(0)?,
        kind: BlockKind::parse(&kind).ok_or_else(|| StorageError::Other(format!("unknown block kind {kind:?}")))?,
        reason: r.get(2)?,
        until: date("block end", r.get(3)?)?,
        placed_at: time(&r.get::<_, String>(4)?)?,
        placed_by: r.get(5)?,
        lifted: match lifted_at {
            Some(at) => Some((time(&at)?, r.get::<_, Option<String>>(7)?.unwrap_or_default())),
            None => None,
        },
    })
}

const BLOCK_SQL: &str =
    "SELECT id, kind, reason, until_date, placed_at, placed_by, lifted_at, lifted_by FROM patron_blocks";

fn blocks_where(conn: &Connection, condition: &str, patron: PatronId) -> Result<Vec<PatronBlock>> {
    let mut st = conn.prepare_cached(&format!("{BLOCK_SQL} WHERE patron_id = ?1 {condition} ORDER BY id"))?;
    let mut rows = st.query([patron])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(block_from_row(r)?);
    }
    Ok(out)
}

/// The patron's unlifted blocks, for the circulation context (read under its transaction).
pub(super) fn active_blocks(conn: &Connection, patron: PatronId) -> Result<Vec<PatronBlock>> {
    blocks_where(conn, "AND lifted_at IS NULL", patron)
}

/// Fills the search keys (0017) of the patrons written without them: every write of a name or
/// phone leaves them NULL, and its transaction calls this before committing.
pub(super) fn fill_search_keys(conn: &Connection) -> Result<()> {
    let due: Vec<(PatronId, String, String, Option<String>)> = {
        let mut st =
            conn.prepare_cached("SELECT id, surname, first_name, phone FROM patrons WHERE search_name IS NULL")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut st = conn.prepare_cached("UPDATE patrons SET search_name = ?2, phone_key = ?3 WHERE id = ?1")?;
    for (id, surname, first_name, phone) in due {
        st.execute(params![
            id,
            registration::search_name(&surname, &first_name),
            phone.as_deref().and_then(registration::phone_key)
        ])?;
    }
    Ok(())
}

fn write_details_error(e: rusqlite::Error, d: &PatronDetails) -> StorageError {
    if is_fk_violation(&e) {
        Ref::HomeBranch.missing(&d.home_branch)
    } else {
        e.into()
    }
}

impl PatronStore for SqliteDatabase {
    fn register_patron(
        &self,
        d: &PatronDetails,
        card: CardChoice<'_>,
        confirmed: bool,
        now: DateTime<Utc>,
    ) -> Result<Registration> {
        self.write_at(now, |tx, now_text| {
            super::settings::check_category(tx, &d.category)?;
            if !confirmed {
                let found = duplicates(tx, d)?;
                if !found.is_empty() {
                    return Ok(Registration::Duplicates(found));
                }
            }
            let guarantor = guarantor_id(tx, d)?;
            let number = choose_card(tx, card)?;
            tx.prepare_cached(
                "INSERT INTO patrons (card_number, surname, first_name, category, home_branch, expiry_date, email, \
                 created_at, updated_at, birth_date, address, phone, guarantor_id, notice_preference, \
                 reading_history, name_key, email_key) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            )?
            .execute(params![
                number,
                d.surname,
                d.first_name,
                d.category.as_str(),
                d.home_branch.as_str(),
                common::date_str(d.expiry_date),
                d.email,
                now_text,
                d.birth_date.map(common::date_str),
                d.address,
                d.phone,
                guarantor,
                d.notice_preference.as_str(),
                d.reading_history.as_str(),
                d.name_key,
                d.email_key,
            ])
            .map_err(|e| write_details_error(e, d))?;
            let id = tx.last_insert_rowid();
            fill_search_keys(tx)?;
            let record = record_where(tx, "p.id = ?1", &id)?
                .ok_or_else(|| StorageError::Other(format!("patron {id} vanished")))?;
            Ok(Registration::Registered(Box::new(record)))
        })
    }

    fn duplicate_candidates(&self, details: &PatronDetails) -> Result<Vec<DuplicateCandidate>> {
        self.read(|tx| duplicates(tx, details))
    }

    fn patron_record(&self, card: &str) -> Result<Option<PatronRecord>> {
        self.read(|tx| match by_card(tx, card) {
            Ok(r) => Ok(Some(r)),
            Err(StorageError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        })
    }

    fn card_status(&self, card: &str) -> Result<CardStatus> {
        let card = card.trim();
        self.read(|tx| {
            if card == ANONYMOUS_CARD {
                return Ok(CardStatus::Unknown);
            }
            let current: Option<PatronId> = tx
                .prepare_cached("SELECT id FROM patrons WHERE card_number = ?1")?
                .query_row([card], |r| r.get(0))
                .optional()?;
            if let Some(id) = current {
                return Ok(CardStatus::Current(id));
            }
            let replaced: Option<(PatronId, String)> = tx
                .prepare_cached("SELECT patron_id, replaced_at FROM patron_cards WHERE card_number = ?1")?
                .query_row([card], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            match replaced {
                Some((patron, at)) => Ok(CardStatus::Replaced { patron, replaced_at: time(&at)? }),
                None => Ok(CardStatus::Unknown),
            }
        })
    }

    fn update_patron(&self, card: &str, d: &PatronDetails, now: DateTime<Utc>) -> Result<PatronRecord> {
        self.write_at(now, |tx, now_text| {
            let current = by_card(tx, card)?;
            if current.details.category != d.category {
                super::settings::check_category(tx, &d.category)?;
            }
            let guarantor = guarantor_id(tx, d)?;
            if guarantor == Some(current.id) {
                return Err(StorageError::Constraint("a patron cannot be their own guarantor".to_string()));
            }
            tx.prepare_cached(
                "UPDATE patrons SET surname = ?2, first_name = ?3, category = ?4, home_branch = ?5, email = ?6, \
                 birth_date = ?7, address = ?8, phone = ?9, guarantor_id = ?10, notice_preference = ?11, \
                 reading_history = ?12, name_key = ?13, email_key = ?14, updated_at = ?15, search_name = NULL \
                 WHERE id = ?1",
            )?
            .execute(params![
                current.id,
                d.surname,
                d.first_name,
                d.category.as_str(),
                d.home_branch.as_str(),
                d.email,
                d.birth_date.map(common::date_str),
                d.address,
                d.phone,
                guarantor,
                d.notice_preference.as_str(),
                d.reading_history.as_str(),
                d.name_key,
                d.email_key,
                now_text,
            ])
            .map_err(|e| write_details_error(e, d))?;
            fill_search_keys(tx)?;
            record_where(tx, "p.id = ?1", &current.id)?
                .ok_or_else(|| StorageError::Other(format!("patron {} vanished", current.id)))
        })
    }

    fn renew_card(
        &self,
        card: &str,
        now: DateTime<Utc>,
        decide: &mut dyn FnMut(&PatronRecord) -> Option<NaiveDate>,
    ) -> Result<Option<PatronRecord>> {
        self.write_at(now, |tx, now_text| {
            let current = by_card(tx, card)?;
            let Some(expiry) = decide(&current) else { return Ok(None) };
            tx.prepare_cached("UPDATE patrons SET expiry_date = ?2, updated_at = ?3 WHERE id = ?1")?
                .execute(params![current.id, common::date_str(expiry), now_text])?;
            record_where(tx, "p.id = ?1", &current.id)
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
        self.write_at(now, |tx, now_text| {
            let current = by_card(tx, card)?;
            let number = choose_card(tx, new_card)?;
            tx.prepare_cached(
                "INSERT INTO patron_cards (card_number, patron_id, replaced_at, replaced_by, reason) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![current.card_number, current.id, now_text, staff, reason])?;
            tx.prepare_cached("UPDATE patrons SET card_number = ?2, updated_at = ?3 WHERE id = ?1")?
                .execute(params![current.id, number, now_text])?;
            record_where(tx, "p.id = ?1", &current.id)?
                .ok_or_else(|| StorageError::Other(format!("patron {} vanished", current.id)))
        })
    }

    fn replaced_cards(&self, card: &str) -> Result<Vec<ReplacedCard>> {
        self.read(|tx| {
            let patron = by_card(tx, card)?;
            let mut st = tx.prepare_cached(
                "SELECT card_number, replaced_at, replaced_by, reason FROM patron_cards WHERE patron_id = ?1 \
                 ORDER BY replaced_at DESC, card_number",
            )?;
            let mut rows = st.query([patron.id])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(ReplacedCard {
                    card_number: r.get(0)?,
                    replaced_at: time(&r.get::<_, String>(1)?)?,
                    replaced_by: r.get(2)?,
                    reason: r.get(3)?,
                });
            }
            Ok(out)
        })
    }

    fn add_block(&self, card: &str, block: &NewBlock, staff: &str, now: DateTime<Utc>) -> Result<PatronBlock> {
        self.write_at(now, |tx, now_text| {
            let patron = by_card(tx, card)?;
            tx.prepare_cached(
                "INSERT INTO patron_blocks (patron_id, kind, reason, until_date, placed_at, placed_by) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                patron.id,
                block.kind.as_str(),
                block.reason,
                block.until.map(common::date_str),
                now_text,
                staff
            ])?;
            let id = tx.last_insert_rowid();
            let mut st = tx.prepare_cached(&format!("{BLOCK_SQL} WHERE id = ?1"))?;
            let mut rows = st.query([id])?;
            rows.next()?.map(block_from_row).transpose()?.ok_or_else(|| StorageError::Other("block vanished".into()))
        })
    }

    fn lift_block(&self, card: &str, block: i64, staff: &str, now: DateTime<Utc>) -> Result<PatronBlock> {
        self.write_at(now, |tx, now_text| {
            let patron = by_card(tx, card)?;
            tx.prepare_cached(
                "UPDATE patron_blocks SET lifted_at = ?3, lifted_by = ?4 \
                 WHERE id = ?1 AND patron_id = ?2 AND lifted_at IS NULL",
            )?
            .execute(params![block, patron.id, now_text, staff])?;
            let mut st = tx.prepare_cached(&format!("{BLOCK_SQL} WHERE id = ?1 AND patron_id = ?2"))?;
            let mut rows = st.query(params![block, patron.id])?;
            rows.next()?
                .map(block_from_row)
                .transpose()?
                .ok_or_else(|| StorageError::NotFound { what: "block", key: block.to_string() })
        })
    }

    fn blocks(&self, card: &str) -> Result<Vec<PatronBlock>> {
        self.read(|tx| {
            let patron = by_card(tx, card)?;
            blocks_where(tx, "", patron.id)
        })
    }

    fn find_patrons(&self, query: &PatronQuery, page: Page) -> Result<Vec<PatronRecord>> {
        let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_string);
        // Only the conditions asked for, so that each search uses its own index (card number,
        // email key, phone) rather than a scan testing `? IS NULL OR ...` on every row.
        let mut conditions = vec!["p.card_number <> ''".to_string(), "p.id > ?1".to_string()];
        let mut values: Vec<Box<dyn rusqlite::ToSql>> = vec![Box::new(page.after), Box::new(i64::from(page.limit))];
        let mut add = |condition: &str, value: String| {
            values.push(Box::new(value));
            conditions.push(condition.replace('?', &format!("?{}", values.len())));
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
                "(p.search_name, p.id) > (SELECT coalesce(max(a.search_name), ''), ?1 FROM patrons a WHERE a.id = ?1)"
                    .to_string();
            "p.search_name, p.id"
        } else {
            "p.id"
        };
        let sql = format!("{PATRON_SQL} WHERE {} ORDER BY {order} LIMIT ?2", conditions.join(" AND "));
        self.read(|tx| {
            let mut st = tx.prepare_cached(&sql)?;
            let mut rows = st.query(rusqlite::params_from_iter(values.iter()))?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(record_from_row(r)?);
            }
            Ok(out)
        })
    }

    fn dependants(&self, card: &str, limit: u32) -> Result<Vec<PatronRecord>> {
        self.read(|tx| {
            let guarantor = by_card(tx, card)?;
            let mut st = tx.prepare_cached(&format!(
                "{PATRON_SQL} WHERE p.guarantor_id = ?1 AND p.card_number <> '' ORDER BY p.id LIMIT ?2"
            ))?;
            let mut rows = st.query(params![guarantor.id, i64::from(limit)])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(record_from_row(r)?);
            }
            Ok(out)
        })
    }

    fn reading_history(&self, card: &str, page: Page) -> Result<ReadingHistory> {
        self.read(|tx| {
            let patron = by_card(tx, card)?;
            if !patron.details.reading_history.keeps() {
                return Ok(ReadingHistory::NotKept);
            }
            let mut st = tx.prepare_cached(
                "SELECT l.id, i.barcode, r.title, l.checked_out_at, l.returned_at FROM loans l \
                 JOIN items i ON i.id = l.item_id JOIN bib_records r ON r.id = i.bib_id \
                 WHERE l.patron_id = ?1 AND l.returned_at IS NOT NULL AND (?2 = 0 OR l.id < ?2) \
                 ORDER BY l.id DESC LIMIT ?3",
            )?;
            let mut rows = st.query(params![patron.id, page.after, i64::from(page.limit)])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(HistoryEntry {
                    loan_id: r.get(0)?,
                    barcode: r.get(1)?,
                    title: r.get(2)?,
                    checked_out_at: time(&r.get::<_, String>(3)?)?,
                    returned_at: time(&r.get::<_, String>(4)?)?,
                });
            }
            Ok(ReadingHistory::Kept(out))
        })
    }

    fn anonymise_returned_loans(&self, before: DateTime<Utc>, now: DateTime<Utc>) -> Result<u64> {
        let before = common::rfc3339(before);
        self.write_at(now, |tx, now_text| {
            const DUE: &str = "l.returned_at IS NOT NULL AND l.returned_at < ?1 AND l.patron_id IN \
                 (SELECT id FROM patrons WHERE reading_history <> 'keep' AND card_number <> '')";
            let branch: Option<String> = tx
                .prepare_cached(&format!("SELECT l.checkout_branch FROM loans l WHERE {DUE} LIMIT 1"))?
                .query_row([&before], |r| r.get(0))
                .optional()?;
            let Some(branch) = branch else { return Ok(0) };
            let existing: Option<PatronId> = tx
                .prepare_cached("SELECT patron_id FROM anonymous_patron WHERE id = 1")?
                .query_row([], |r| r.get(0))
                .optional()?;
            let anonymous = match existing {
                Some(id) => id,
                None => {
                    tx.prepare_cached(
                        "INSERT INTO patrons (card_number, surname, first_name, category, home_branch, \
                         expiry_date, created_at, updated_at, reading_history) \
                         VALUES (?1, 'Anonymous', '', 'ANONYMOUS', ?2, '1970-01-01', ?3, ?3, 'never')",
                    )?
                    .execute(params![ANONYMOUS_CARD, branch, now_text])?;
                    let id = tx.last_insert_rowid();
                    fill_search_keys(tx)?;
                    tx.prepare_cached("INSERT INTO anonymous_patron (id, patron_id) VALUES (1, ?1)")?.execute([id])?;
                    id
                }
            };
            // The patron's charges for these loans stay on their account (a bill names what it is
            // for) but no longer lead to the loan, which is no longer theirs.
            tx.prepare_cached(&format!(
                "UPDATE ledger_entries SET loan_id = NULL WHERE loan_id IN (SELECT l.id FROM loans l WHERE {DUE})"
            ))?
            .execute([&before])?;
            let n = tx
                .prepare_cached(&format!(
                    "UPDATE loans SET patron_id = ?2 WHERE id IN (SELECT l.id FROM loans l WHERE {DUE})"
                ))?
                .execute(params![before, anonymous])?;
            Ok(n as u64)
        })
    }

    fn set_patron_password(&self, card: &str, password_hash: Option<&str>, now: DateTime<Utc>) -> Result<()> {
        self.write_at(now, |tx, now_text| {
            let patron = by_card(tx, card)?;
            match password_hash {
                Some(hash) => tx
                    .prepare_cached(
                        "INSERT INTO patron_passwords (patron_id, password_hash, set_at) VALUES (?1, ?2, ?3) \
                         ON CONFLICT (patron_id) DO UPDATE SET password_hash = excluded.password_hash, \
                         set_at = excluded.set_at",
                    )?
                    .execute(params![patron.id, hash, now_text])?,
                None => tx.prepare_cached("DELETE FROM patron_passwords WHERE patron_id = ?1")?.execute([patron.id])?,
            };
            Ok(())
        })
    }

    fn patron_password_hash(&self, card: &str) -> Result<Option<String>> {
        self.read(|tx| {
            let patron = by_card(tx, card)?;
            Ok(tx
                .prepare_cached("SELECT password_hash FROM patron_passwords WHERE patron_id = ?1")?
                .query_row([patron.id], |r| r.get(0))
                .optional()?)
        })
    }

    fn create_patron_session(
        &self,
        card: &str,
        token_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.write_at(now, |tx, now_text| {
            let patron = by_card(tx, card)?;
            tx.prepare_cached("DELETE FROM patron_sessions WHERE patron_id = ?1 AND expires_at <= ?2")?
                .execute(params![patron.id, now_text])?;
            tx.prepare_cached(
                "INSERT INTO patron_sessions (token_hash, patron_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![token_hash, patron.id, now_text, common::rfc3339(expires_at)])?;
            Ok(())
        })
    }

    fn patron_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        extend_to: DateTime<Utc>,
    ) -> Result<Option<PatronSession>> {
        let now_text = common::rfc3339(now);
        let extend_text = common::rfc3339(extend_to);
        // A read first: most page views find the session and need no write.
        let found = self.read(|tx| {
            tx.prepare_cached(
                "SELECT s.patron_id, p.card_number, s.expires_at FROM patron_sessions s \
                 JOIN patrons p ON p.id = s.patron_id WHERE s.token_hash = ?1 AND s.expires_at > ?2",
            )?
            .query_row(params![token_hash, now_text], |r| {
                Ok((r.get::<_, PatronId>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
            })
            .optional()
            .map_err(StorageError::from)
        })?;
        let Some((patron_id, card_number, expires)) = found else { return Ok(None) };
        let mut expires_at = time(&expires)?;
        // Moving the expiry is an idempotent write, made at most once a minute per session.
        if extend_to - expires_at > chrono::Duration::seconds(60) {
            let moved = self.write_at(now, |tx, now_text| {
                Ok(tx
                    .prepare_cached(
                        "UPDATE patron_sessions SET expires_at = ?2 \
                         WHERE token_hash = ?1 AND expires_at > ?3 AND expires_at < ?2",
                    )?
                    .execute(params![token_hash, extend_text, now_text])?)
            })?;
            if moved > 0 {
                expires_at = extend_to;
            }
        }
        Ok(Some(PatronSession { patron_id, card_number, expires_at }))
    }

    fn end_patron_session(&self, token_hash: &str) -> Result<bool> {
        self.write(|tx, _| {
            Ok(tx.prepare_cached("DELETE FROM patron_sessions WHERE token_hash = ?1")?.execute([token_hash])? > 0)
        })
    }
}
