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

/// Prefix bytes (0x10 + rank, `callnumber::Prefix`) stripped from a sort key: what is left
/// starts with the kind of body (0x03 Dewey, 0x04 LC).
const PREFIX_BYTES: &str =
    "char(16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37)";

fn bounds_json(bounds: &[DateTime<Utc>]) -> String {
    let texts: Vec<String> = bounds.iter().map(|b| common::rfc3339(*b)).collect();
    serde_json::to_string(&texts).unwrap_or_else(|_| "[]".to_string())
}

fn branch_param(branch: Option<&Code>) -> Option<&str> {
    branch.map(Code::as_str)
}

fn group<T>(code: String, name: Option<String>, counts: T) -> Group<T> {
    Group { code, name, counts }
}

impl ReportStore for SqliteDatabase {
    fn circulation_by_day(&self, bounds: &[DateTime<Utc>], branch: Option<&Code>) -> Result<Vec<CirculationCounts>> {
        self.read(|tx| {
            let mut st = tx.prepare_cached(&sql::circulation_by_day_sql(DAYS))?;
            let rows = st.query_map(params![bounds_json(bounds), branch_param(branch)], |r| {
                Ok(CirculationCounts { checkouts: r.get(1)?, renewals: r.get(2)?, check_ins: r.get(3)? })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn circulation_by(
        &self,
        by: CirculationGroup,
        span: (DateTime<Utc>, DateTime<Utc>),
        branch: Option<&Code>,
    ) -> Result<Vec<Group<CirculationCounts>>> {
        self.read(|tx| {
            let mut st = tx.prepare_cached(&sql::circulation_by_sql(by))?;
            let rows = st.query_map(
                params![common::rfc3339(span.0), common::rfc3339(span.1), branch_param(branch)],
                |r: &Row<'_>| {
                    let counts = CirculationCounts { checkouts: r.get(2)?, renewals: r.get(3)?, check_ins: r.get(4)? };
                    Ok(group(r.get(0)?, r.get(1)?, counts))
                },
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
        self.read(|tx| {
            let mut st = tx.prepare_cached(&sql::holds_ratio_sql())?;
            let rows = st.query_map(params![branch_param(branch), threshold.holds, threshold.copies, limit], |r| {
                Ok(HoldsRatio { bib_id: r.get(0)?, title: r.get(1)?, holds: r.get(2)?, copies: r.get(3)? })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn collection(&self, scheme: ClassScheme, branch: Option<&Code>) -> Result<Vec<Group<i64>>> {
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
                let code = match scheme {
                    ClassScheme::Dewey => ::reports::dewey_hundreds(class.chars().next().unwrap_or('?')),
                    ClassScheme::Lc => class,
                };
                Ok(group(code, None, items))
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
