use super::{time, SqliteDatabase};
use crate::common;
use crate::reports::{self as sql, CirculationGroup, ClassScheme, OverdueCursor, ReportStore};
use crate::Result;
use ::reports::{CirculationCounts, Group, HoldsRatio, MoneyDay, MoneyKind, OverdueLoan, Threshold, TitleCount};
use catalog::{Code, Money};
use chrono::{DateTime, Utc};
use rusqlite::{params, Row};

/// The days `d(i, lo, hi)` from a JSON array of bounds in `?1`: day `i` is `[bounds[i], bounds[i+1])`.
const DAYS: &str = "d(i, lo, hi) AS (SELECT CAST(b.key AS INTEGER), b.value, n.value FROM json_each(?1) b \
                    JOIN json_each(?1) n ON n.key = b.key + 1)";

/// Separate spans `d(i, lo, hi)` from a JSON array of pairs `[[lo0, hi0], [lo1, hi1], ...]` in
/// `?1`: one pass over the array, where pairing neighbours of a flat array would join it with
/// itself (a year of half-hour edges is 730 spans).
const SPANS: &str = "d(i, lo, hi) AS (SELECT CAST(key AS INTEGER), json_extract(value, '$[0]'), \
                     json_extract(value, '$[1]') FROM json_each(?1))";

/// Prefix bytes (0x10 + rank, `callnumber::Prefix`) stripped from a sort key: what is left
/// starts with the kind of body (0x03 Dewey, 0x04 LC).
const PREFIX_BYTES: &str =
    "char(16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37)";

fn bounds_json(bounds: &[DateTime<Utc>]) -> String {
    let texts: Vec<String> = bounds.iter().map(|b| common::rfc3339(*b)).collect();
    serde_json::to_string(&texts).unwrap_or_else(|_| "[]".to_string())
}

/// Spans as `SPANS` reads them, each end through `key` (an instant, or a counts table's key).
fn spans_json(pieces: &[(usize, DateTime<Utc>, DateTime<Utc>)], key: impl Fn(DateTime<Utc>) -> String) -> String {
    let pairs: Vec<[String; 2]> = pieces.iter().map(|(_, lo, hi)| [key(*lo), key(*hi)]).collect();
    serde_json::to_string(&pairs).unwrap_or_else(|_| "[]".to_string())
}

/// A `circulation_hours` key: the instant's first 13 characters, `YYYY-MM-DDTHH`.
fn hour_key(at: DateTime<Utc>) -> String {
    common::rfc3339(at)[..13].to_string()
}

/// A `circulation_days` key, `YYYY-MM-DD`.
fn day_key(at: DateTime<Utc>) -> String {
    common::rfc3339(at)[..10].to_string()
}

fn circulation_counts(r: &Row<'_>) -> rusqlite::Result<CirculationCounts> {
    Ok(CirculationCounts { checkouts: r.get(1)?, renewals: r.get(2)?, check_ins: r.get(3)? })
}

fn money_day(r: &Row<'_>) -> rusqlite::Result<MoneyDay> {
    Ok(MoneyDay {
        cash: Money::from_minor(r.get(1)?),
        card: Money::from_minor(r.get(2)?),
        paid_out: Money::from_minor(r.get(3)?),
    })
}

fn money_kind(r: &Row<'_>) -> rusqlite::Result<MoneyKind> {
    Ok(MoneyKind { entry: r.get(0)?, kind: r.get(1)?, entries: r.get(2)?, amount: Money::from_minor(r.get(3)?) })
}

fn branch_param(branch: Option<&Code>) -> Option<&str> {
    branch.map(Code::as_str)
}

fn circulation_group(r: &Row<'_>) -> rusqlite::Result<Group<CirculationCounts>> {
    let counts = CirculationCounts { checkouts: r.get(2)?, renewals: r.get(3)?, check_ins: r.get(4)? };
    Ok(group(r.get(0)?, r.get(1)?, counts))
}

fn group<T>(code: String, name: Option<String>, counts: T) -> Group<T> {
    Group { code, name, counts }
}

/// A class as the report names it: Dewey's hundreds digit as its range (`500-599`).
fn class_code(scheme: ClassScheme, class: String) -> String {
    match scheme {
        ClassScheme::Dewey => ::reports::dewey_hundreds(class.chars().next().unwrap_or('?')),
        ClassScheme::Lc => class,
    }
}

/// Bib ids `c(bib_id)` from a JSON array in `?1`.
const BIBS: &str = "c(bib_id) AS (SELECT value FROM json_each(?1))";

fn json(bibs: &[i64]) -> String {
    serde_json::to_string(bibs).unwrap_or_else(|_| "[]".to_string())
}

/// A `title_years` key, `YYYY`.
fn year_key(at: DateTime<Utc>) -> String {
    common::rfc3339(at)[..4].to_string()
}

/// A `title_months` key, `YYYY-MM`.
fn month_key(at: DateTime<Utc>) -> String {
    common::rfc3339(at)[..7].to_string()
}

/// The top-titles merge's reads in one read transaction.
struct Lists<'a> {
    tx: &'a rusqlite::Transaction<'a>,
    branch: Option<&'a Code>,
    plan: &'a sql::TitleSpan,
}

impl sql::TitleLists for Lists<'_> {
    fn ranked(&mut self, list: &sql::TitleList, after: (i64, i64), n: usize) -> Result<Vec<(i64, i64)>> {
        let (branch, n) = (sql::title_branch(self.branch), n as i64);
        let row = |r: &Row<'_>| Ok((r.get(0)?, r.get(1)?));
        let rows = match list {
            sql::TitleList::Month(month) => self
                .tx
                .prepare_cached(&sql::titles_ranked_sql("title_months", "month"))?
                .query_map(params![month_key(*month), branch, after.0, after.1, n], row)?
                .collect::<rusqlite::Result<_>>()?,
            sql::TitleList::Year(year) => self
                .tx
                .prepare_cached(&sql::titles_ranked_sql("title_years", "year"))?
                .query_map(params![year_key(*year), branch, after.0, after.1, n], row)?
                .collect::<rusqlite::Result<_>>()?,
            sql::TitleList::Loans(lo, hi) => self
                .tx
                .prepare_cached(&sql::titles_ranked_loans_sql())?
                .query_map(
                    params![common::rfc3339(*lo), common::rfc3339(*hi), branch_param(self.branch), after.0, after.1, n],
                    row,
                )?
                .collect::<rusqlite::Result<_>>()?,
        };
        Ok(rows)
    }

    fn exact(&mut self, bibs: &[i64]) -> Result<Vec<(i64, i64)>> {
        let (whole, [before, after]) = (self.plan.whole, self.plan.edges);
        let t = common::rfc3339;
        let mut st = self.tx.prepare_cached(&sql::titles_exact_sql(BIBS))?;
        let rows = st.query_map(
            params![
                json(bibs),
                sql::title_branch(self.branch),
                month_key(whole.0),
                month_key(whole.1),
                t(before.0),
                t(before.1),
                t(after.0),
                t(after.1),
                branch_param(self.branch)
            ],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// One UTC month's kept list of titles: `?1` the month's key, `?2` the branch key (`*` for all),
/// read from the rank index alone. (PostgreSQL reads the months its own way: see its
/// `summed_titles`.)
const TITLES_MONTH_SQL: &str = "SELECT bib_id, checkouts FROM title_months WHERE month = ?1 AND branch = ?2";

/// The record of each loan out in `[?1, ?2)` from the branch `?3`, one row per loan (summed in
/// Rust: grouping would sort them).
fn titles_loans_sql() -> String {
    format!(
        "SELECT i.bib_id FROM loans l JOIN items i ON i.id = l.item_id \
         WHERE l.checked_out_at >= ?1 AND l.checked_out_at < ?2 AND {}",
        sql::branch("l.checkout_branch", 3)
    )
}

/// Every title's checkouts in the span from the kept month lists and the loans at its edges
/// (`reports::title_sums`), the best `limit` of them.
fn summed_titles(
    tx: &rusqlite::Transaction<'_>,
    span: (DateTime<Utc>, DateTime<Utc>),
    branch: Option<&Code>,
    limit: u32,
) -> Result<Vec<(i64, i64)>> {
    let sums = sql::title_sums(span);
    let mut tally = sql::Tally::default();
    let mut st = tx.prepare_cached(TITLES_MONTH_SQL)?;
    for month in &sums.months {
        let mut rows = st.query(params![month_key(*month), sql::title_branch(branch)])?;
        while let Some(r) = rows.next()? {
            tally.add(r.get(0)?, r.get(1)?);
        }
    }
    let mut st = tx.prepare_cached(&titles_loans_sql())?;
    for (pieces, sign) in [(&sums.add, 1), (&sums.subtract, -1)] {
        for (lo, hi) in pieces {
            let mut rows = st.query(params![common::rfc3339(*lo), common::rfc3339(*hi), branch_param(branch)])?;
            while let Some(r) = rows.next()? {
                tally.add(r.get(0)?, sign);
            }
        }
    }
    Ok(tally.top(limit as usize))
}

/// The ranked titles with their names.
fn named_titles(tx: &rusqlite::Transaction<'_>, ranked: Vec<(i64, i64)>) -> Result<Vec<TitleCount>> {
    let bibs: Vec<i64> = ranked.iter().map(|(bib, _)| *bib).collect();
    let mut st = tx.prepare_cached(&sql::titles_sql(BIBS))?;
    let titles = st.query_map(params![json(&bibs)], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(sql::title_counts(ranked, titles.collect::<rusqlite::Result<_>>()?))
}

/// The holds-to-copies report by one of its two queries.
fn holds_ratio(
    db: &SqliteDatabase,
    query: &str,
    branch: Option<&Code>,
    threshold: Threshold,
    limit: u32,
) -> Result<Vec<HoldsRatio>> {
    db.read(|tx| {
        let mut st = tx.prepare_cached(query)?;
        let rows = st.query_map(params![branch_param(branch), threshold.holds, threshold.copies, limit], |r| {
            Ok(HoldsRatio { bib_id: r.get(0)?, title: r.get(1)?, holds: r.get(2)?, copies: r.get(3)? })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    })
}

impl ReportStore for SqliteDatabase {
    fn circulation_by_day(&self, bounds: &[DateTime<Utc>], branch: Option<&Code>) -> Result<Vec<CirculationCounts>> {
        let split = sql::split(sql::days(bounds), sql::HOUR);
        self.read(|tx| {
            let mut totals = vec![CirculationCounts::default(); bounds.len().saturating_sub(1)];
            if !split.whole.is_empty() {
                let mut st = tx.prepare_cached(&sql::circulation_hours_sql(SPANS, false))?;
                let rows = st.query_map(params![spans_json(&split.whole, hour_key), branch_param(branch)], |r| {
                    circulation_counts(r)
                })?;
                sql::add_pieces(
                    &mut totals,
                    &split.whole,
                    rows.collect::<rusqlite::Result<_>>()?,
                    sql::add_circulation,
                );
            }
            if !split.edges.is_empty() {
                let mut st = tx.prepare_cached(&sql::circulation_by_day_sql(SPANS))?;
                let rows = st
                    .query_map(params![spans_json(&split.edges, common::rfc3339), branch_param(branch)], |r| {
                        circulation_counts(r)
                    })?;
                sql::add_pieces(
                    &mut totals,
                    &split.edges,
                    rows.collect::<rusqlite::Result<_>>()?,
                    sql::add_circulation,
                );
            }
            Ok(totals)
        })
    }

    fn circulation_by_day_by_scan(
        &self,
        bounds: &[DateTime<Utc>],
        branch: Option<&Code>,
    ) -> Result<Vec<CirculationCounts>> {
        self.read(|tx| {
            let mut st = tx.prepare_cached(&sql::circulation_by_day_sql(DAYS))?;
            let rows = st.query_map(params![bounds_json(bounds), branch_param(branch)], circulation_counts)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn circulation_by(
        &self,
        by: CirculationGroup,
        span: (DateTime<Utc>, DateTime<Utc>),
        branch: Option<&Code>,
    ) -> Result<Vec<Group<CirculationCounts>>> {
        let (from, to) = sql::whole(span, sql::DAY);
        self.read(|tx| {
            let mut st = tx.prepare_cached(&sql::circulation_by_sql(by))?;
            let rows = st.query_map(
                params![
                    common::rfc3339(span.0),
                    common::rfc3339(span.1),
                    branch_param(branch),
                    day_key(from),
                    day_key(to),
                    common::rfc3339(from),
                    common::rfc3339(to)
                ],
                circulation_group,
            )?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn circulation_by_by_scan(
        &self,
        by: CirculationGroup,
        span: (DateTime<Utc>, DateTime<Utc>),
        branch: Option<&Code>,
    ) -> Result<Vec<Group<CirculationCounts>>> {
        self.read(|tx| {
            let mut st = tx.prepare_cached(&sql::circulation_by_scan_sql(by))?;
            let rows = st.query_map(
                params![common::rfc3339(span.0), common::rfc3339(span.1), branch_param(branch)],
                circulation_group,
            )?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn top_titles(
        &self,
        span: (DateTime<Utc>, DateTime<Utc>),
        branch: Option<&Code>,
        limit: u32,
    ) -> Result<Vec<TitleCount>> {
        let plan = sql::title_span(span);
        self.read(|tx| {
            let mut lists = Lists { tx, branch, plan: &plan };
            let ranked = match sql::rank_titles(&mut lists, &sql::title_lists(span), limit as usize)? {
                Some(ranked) => ranked,
                None => summed_titles(tx, span, branch, limit)?,
            };
            named_titles(tx, ranked)
        })
    }

    fn top_titles_summed(
        &self,
        span: (DateTime<Utc>, DateTime<Utc>),
        branch: Option<&Code>,
        limit: u32,
    ) -> Result<Vec<TitleCount>> {
        self.read(|tx| {
            let ranked = summed_titles(tx, span, branch, limit)?;
            named_titles(tx, ranked)
        })
    }

    fn top_titles_by_scan(
        &self,
        span: (DateTime<Utc>, DateTime<Utc>),
        branch: Option<&Code>,
        limit: u32,
    ) -> Result<Vec<TitleCount>> {
        self.read(|tx| {
            let mut st = tx.prepare_cached(&sql::top_titles_sql())?;
            let rows = st.query_map(
                params![common::rfc3339(span.0), common::rfc3339(span.1), branch_param(branch), limit],
                |r| Ok(TitleCount { bib_id: r.get(0)?, title: r.get(1)?, checkouts: r.get(2)? }),
            )?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn overdue_loans(
        &self,
        now: DateTime<Utc>,
        branch: Option<&Code>,
        after: Option<OverdueCursor>,
        limit: u32,
    ) -> Result<Vec<OverdueLoan>> {
        // Before every loan: no due time sorts before the empty string.
        let (after_due, after_id) = after.map_or((String::new(), 0), |(due, id)| (common::rfc3339(due), id));
        self.read(|tx| {
            let mut st = tx.prepare_cached(&sql::overdue_sql())?;
            let rows =
                st.query_map(params![common::rfc3339(now), branch_param(branch), after_due, after_id, limit], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, String>(6)?,
                        r.get::<_, String>(7)?,
                    ))
                })?;
            rows.map(|row| {
                let (loan_id, due, barcode, title, card_number, surname, first_name, checkout_branch) = row?;
                Ok(OverdueLoan {
                    loan_id,
                    due_at: time(&due)?,
                    barcode,
                    title,
                    card_number,
                    patron_name: format!("{surname}, {first_name}"),
                    checkout_branch,
                })
            })
            .collect()
        })
    }

    fn holds_ratio(&self, branch: Option<&Code>, threshold: Threshold, limit: u32) -> Result<Vec<HoldsRatio>> {
        holds_ratio(self, &sql::holds_ratio_sql(), branch, threshold, limit)
    }

    fn holds_ratio_by_scan(&self, branch: Option<&Code>, threshold: Threshold, limit: u32) -> Result<Vec<HoldsRatio>> {
        holds_ratio(self, &sql::holds_ratio_by_scan_sql(), branch, threshold, limit)
    }

    fn collection(&self, scheme: ClassScheme, branch: Option<&Code>) -> Result<Vec<Group<i64>>> {
        let name = match scheme {
            ClassScheme::Dewey => "dewey",
            ClassScheme::Lc => "lc",
        };
        self.read(|tx| {
            let mut st = tx.prepare_cached(&sql::collection_sql())?;
            let rows =
                st.query_map(params![name, branch_param(branch)], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))?;
            rows.map(|row| {
                let (class, items) = row?;
                Ok(group(class_code(scheme, class), None, items))
            })
            .collect()
        })
    }

    fn collection_by_scan(&self, scheme: ClassScheme, branch: Option<&Code>) -> Result<Vec<Group<i64>>> {
        // The key as text (its bytes before the 0x00 are ASCII) without its prefixes.
        let (kind, class) = match scheme {
            ClassScheme::Dewey => (3, "substr(t, 2, 1)"),
            ClassScheme::Lc => (4, "substr(t, 2, instr(t, char(1)) - 2)"),
        };
        let query = format!(
            "SELECT {class}, count(*) FROM (SELECT ltrim(CAST(call_number_sort AS TEXT), {PREFIX_BYTES}) AS t \
             FROM items WHERE call_number_sort IS NOT NULL AND status <> 'withdrawn' \
             AND (CAST(?1 AS TEXT) IS NULL OR home_branch = CAST(?1 AS TEXT))) \
             WHERE substr(t, 1, 1) = char({kind}) GROUP BY 1 ORDER BY 1"
        );
        self.read(|tx| {
            let mut st = tx.prepare_cached(&query)?;
            let rows = st.query_map(params![branch_param(branch)], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))?;
            rows.map(|row| {
                let (class, items) = row?;
                Ok(group(class_code(scheme, class), None, items))
            })
            .collect()
        })
    }

    fn registrations_by_day(&self, bounds: &[DateTime<Utc>], branch: Option<&Code>) -> Result<Vec<i64>> {
        self.read(|tx| {
            let mut st = tx.prepare_cached(&sql::registrations_by_day_sql(DAYS))?;
            let rows = st.query_map(params![bounds_json(bounds), branch_param(branch)], |r| r.get(1))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn registrations_by_category(
        &self,
        span: (DateTime<Utc>, DateTime<Utc>),
        branch: Option<&Code>,
    ) -> Result<Vec<Group<i64>>> {
        self.read(|tx| {
            let mut st = tx.prepare_cached(&sql::registrations_by_category_sql())?;
            let rows = st
                .query_map(params![common::rfc3339(span.0), common::rfc3339(span.1), branch_param(branch)], |r| {
                    Ok(group(r.get(0)?, None, r.get(1)?))
                })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn money_by_day(&self, bounds: &[DateTime<Utc>]) -> Result<Vec<MoneyDay>> {
        let split = sql::money_split(sql::days(bounds));
        type Key = fn(DateTime<Utc>) -> String;
        self.read(|tx| {
            let mut totals = vec![MoneyDay::default(); bounds.len().saturating_sub(1)];
            for (pieces, query, key) in [
                (&split.days, sql::money_counts_sql(SPANS, "ledger_days", "day", false), day_key as Key),
                (&split.hours, sql::money_counts_sql(SPANS, "ledger_hours", "hour", false), hour_key as Key),
                (&split.edges, sql::money_by_day_sql(SPANS), common::rfc3339 as Key),
            ] {
                if pieces.is_empty() {
                    continue;
                }
                let mut st = tx.prepare_cached(&query)?;
                let rows = st.query_map(params![spans_json(pieces, key)], money_day)?;
                sql::add_pieces(&mut totals, pieces, rows.collect::<rusqlite::Result<_>>()?, sql::add_money);
            }
            Ok(totals)
        })
    }

    fn money_by_day_by_scan(&self, bounds: &[DateTime<Utc>]) -> Result<Vec<MoneyDay>> {
        self.read(|tx| {
            let mut st = tx.prepare_cached(&sql::money_by_day_sql(DAYS))?;
            let rows = st.query_map(params![bounds_json(bounds)], |r| {
                Ok(MoneyDay {
                    cash: Money::from_minor(r.get(1)?),
                    card: Money::from_minor(r.get(2)?),
                    paid_out: Money::from_minor(r.get(3)?),
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn money_by_type(&self, span: (DateTime<Utc>, DateTime<Utc>)) -> Result<Vec<MoneyKind>> {
        let m = sql::money_span(span);
        let t = common::rfc3339;
        self.read(|tx| {
            let mut st = tx.prepare_cached(&sql::money_by_type_sql())?;
            let rows = st.query_map(
                params![
                    t(span.0),
                    t(span.1),
                    day_key(m.days.0),
                    day_key(m.days.1),
                    hour_key(m.hours_before.0),
                    hour_key(m.hours_before.1),
                    hour_key(m.hours_after.0),
                    hour_key(m.hours_after.1),
                    t(m.hours_before.0),
                    t(m.hours_before.1),
                    t(m.days.0),
                    t(m.days.1),
                    t(m.hours_after.0),
                    t(m.hours_after.1)
                ],
                money_kind,
            )?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn money_by_type_by_scan(&self, span: (DateTime<Utc>, DateTime<Utc>)) -> Result<Vec<MoneyKind>> {
        self.read(|tx| {
            let mut st = tx.prepare_cached(sql::MONEY_BY_TYPE_SQL)?;
            let rows = st.query_map(params![common::rfc3339(span.0), common::rfc3339(span.1)], |r| {
                Ok(MoneyKind {
                    entry: r.get(0)?,
                    kind: r.get(1)?,
                    entries: r.get(2)?,
                    amount: Money::from_minor(r.get(3)?),
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}
