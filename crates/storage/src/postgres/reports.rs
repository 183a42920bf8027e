use super::{Cx, PostgresDatabase};
use crate::reports::{self as sql, pg, CirculationGroup, ClassScheme, OverdueCursor, ReportStore};
use crate::Result;
use ::reports::{CirculationCounts, Group, HoldsRatio, MoneyDay, MoneyKind, OverdueLoan, Threshold, TitleCount};
use catalog::{Code, Money};
use chrono::{DateTime, Utc};
use postgres::GenericClient;

/// The days `d(i, lo, hi)` from the array of bounds in `$1`: day `i` is `[bounds[i], bounds[i+1])`.
const DAYS: &str =
    "d(i, lo, hi) AS (SELECT b.i, b.at, n.at FROM unnest(?1::timestamptz[]) WITH ORDINALITY AS b(at, i) \
                    JOIN unnest(?1::timestamptz[]) WITH ORDINALITY AS n(at, i) ON n.i = b.i + 1)";

/// Separate spans `d(i, lo, hi)` from an array `[lo0, hi0, lo1, hi1, ...]` in `$1`. Both ends
/// come from one row, so both reach the counts' index as its range: paired from two scans of the
/// array, one end filtered every row read. And the rows are a series, whose generic plan (the
/// cached statement's, from its sixth run) the planner costs at a thousand spans, not five: at
/// five it scanned the whole counts table once and compared every span with every row. Either
/// made circulation by day over 30 days at 500,000 loans take 1.4 s.
const SPANS: &str = "d(i, lo, hi) AS (SELECT (s - 1) / 2, ?1[s], ?1[s + 1] \
                     FROM generate_series(1, cardinality(?1::timestamptz[]), 2) AS s)";

fn spans(pieces: &[(usize, DateTime<Utc>, DateTime<Utc>)]) -> Vec<DateTime<Utc>> {
    pieces.iter().flat_map(|(_, lo, hi)| [*lo, *hi]).collect()
}

fn circulation_counts(r: &postgres::Row) -> Result<CirculationCounts> {
    Ok(CirculationCounts { checkouts: r.try_get(1)?, renewals: r.try_get(2)?, check_ins: r.try_get(3)? })
}

fn circulation_group(r: &postgres::Row) -> Result<Group<CirculationCounts>> {
    let counts = CirculationCounts { checkouts: r.try_get(2)?, renewals: r.try_get(3)?, check_ins: r.try_get(4)? };
    Ok(group(r.try_get(0)?, r.try_get(1)?, counts))
}

fn money_day(r: &postgres::Row) -> Result<MoneyDay> {
    Ok(MoneyDay {
        cash: Money::from_minor(r.try_get(1)?),
        card: Money::from_minor(r.try_get(2)?),
        paid_out: Money::from_minor(r.try_get(3)?),
    })
}

fn money_kind(r: &postgres::Row) -> Result<MoneyKind> {
    Ok(MoneyKind {
        entry: r.try_get(0)?,
        kind: r.try_get(1)?,
        entries: r.try_get(2)?,
        amount: Money::from_minor(r.try_get(3)?),
    })
}

/// A class as the report names it: Dewey's hundreds digit as its range (`500-599`).
fn class_code(scheme: ClassScheme, class: String) -> String {
    match scheme {
        ClassScheme::Dewey => ::reports::dewey_hundreds(class.chars().next().unwrap_or('?')),
        ClassScheme::Lc => class,
    }
}

/// Prefix bytes (0x10 + rank, `callnumber::Prefix`) stripped from a sort key: what is left
/// starts with the kind of body (0x03 Dewey, 0x04 LC).
const PREFIX_BYTES: &str = "'\\x101112131415161718191a1b1c1d1e1f202122232425'::bytea";

fn branch_param(branch: Option<&Code>) -> Option<String> {
    branch.map(|b| b.as_str().to_string())
}

fn group<T>(code: String, name: Option<String>, counts: T) -> Group<T> {
    Group { code, name, counts }
}

/// Bib ids `c(bib_id)` from the array in `$1`.
const BIBS: &str = "c(bib_id) AS (SELECT unnest(?1::bigint[]))";

/// The top-titles merge's reads on one snapshot.
struct Lists<'c, 'a, C: GenericClient> {
    cx: &'c mut Cx<'a, C>,
    branch: Option<String>,
    plan: &'c sql::TitleSpan,
}

impl<C: GenericClient> sql::TitleLists for Lists<'_, '_, C> {
    fn ranked(&mut self, list: &sql::TitleList, after: (i64, i64), n: usize) -> Result<Vec<(i64, i64)>> {
        let key = self.branch.as_deref().unwrap_or("*");
        let n = n as i64;
        let rows = match list {
            sql::TitleList::Month(month) => self
                .cx
                .query(&pg(&sql::titles_ranked_sql("title_months", "month")), &[month, &key, &after.0, &after.1, &n])?,
            sql::TitleList::Year(year) => self
                .cx
                .query(&pg(&sql::titles_ranked_sql("title_years", "year")), &[year, &key, &after.0, &after.1, &n])?,
            sql::TitleList::Loans(lo, hi) => {
                self.cx.query(&pg(&sql::titles_ranked_loans_sql()), &[lo, hi, &self.branch, &after.0, &after.1, &n])?
            }
        };
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }

    fn exact(&mut self, bibs: &[i64]) -> Result<Vec<(i64, i64)>> {
        let (whole, [before, after]) = (self.plan.whole, self.plan.edges);
        let key = self.branch.as_deref().unwrap_or("*");
        let bibs = bibs.to_vec();
        self.cx
            .query(
                &pg(&sql::titles_exact_sql(BIBS)),
                &[&bibs, &key, &whole.0, &whole.1, &before.0, &before.1, &after.0, &after.1, &self.branch],
            )?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }
}

/// The kept lists of the months `$1` at the branch key `$2`, each month's titles grouped by
/// their checkouts there: `(checkouts, bib ids)`, one row per month and count (a dozen for even
/// lending) instead of one per title, which the client would decode one at a time. Grouped inside
/// a LATERAL per month, each month is one range of the rank index read in its order (checkouts
/// first, so the grouping streams); over the months as one filter the planner reads a year's
/// twelve months as a sequential scan of the whole table, every branch's rows too.
const TITLES_MONTHS_SQL: &str = "SELECT t.checkouts, t.bibs FROM unnest($1::timestamptz[]) AS m(month) \
     CROSS JOIN LATERAL (SELECT checkouts, array_agg(bib_id) AS bibs FROM title_months \
     WHERE month = m.month AND branch = $2 GROUP BY checkouts) t";

/// The record of each loan out in `[$1, $2)` from the branch `$3`, as one array. Each loan's
/// item is looked up by its key: as a join the planner, blind to the span's bounds, merged the
/// loans with a parallel scan of every item (57 ms for the 19,000 loans of two weeks, 19 this way).
const TITLES_LOANS_SQL: &str =
    "SELECT coalesce(array_agg((SELECT i.bib_id FROM items i WHERE i.id = l.item_id)), '{}') \
     FROM loans l WHERE l.checked_out_at >= $1 AND l.checked_out_at < $2 \
     AND ($3::text IS NULL OR l.checkout_branch = $3::text)";

/// Every title's checkouts in the span from the kept month lists and the loans at its edges
/// (`reports::title_sums`), the best `limit` of them.
fn summed_titles<C: GenericClient>(
    cx: &mut Cx<'_, C>,
    span: (DateTime<Utc>, DateTime<Utc>),
    branch: Option<&Code>,
    limit: u32,
) -> Result<Vec<(i64, i64)>> {
    let sums = sql::title_sums(span);
    let key = sql::title_branch(branch);
    let branch = branch_param(branch);
    let mut tally = sql::Tally::default();
    if !sums.months.is_empty() {
        for row in cx.query(TITLES_MONTHS_SQL, &[&sums.months, &key])? {
            let (n, bibs): (i64, Vec<i64>) = (row.try_get(0)?, row.try_get(1)?);
            for bib in bibs {
                tally.add(bib, n);
            }
        }
    }
    for (pieces, sign) in [(&sums.add, 1), (&sums.subtract, -1)] {
        for (lo, hi) in pieces {
            let bibs: Vec<i64> = cx.query_one(TITLES_LOANS_SQL, &[lo, hi, &branch])?.try_get(0)?;
            for bib in bibs {
                tally.add(bib, sign);
            }
        }
    }
    Ok(tally.top(limit as usize))
}

/// The ranked titles with their names.
fn named_titles<C: GenericClient>(cx: &mut Cx<'_, C>, ranked: Vec<(i64, i64)>) -> Result<Vec<TitleCount>> {
    let bibs: Vec<i64> = ranked.iter().map(|(bib, _)| *bib).collect();
    let titles = cx
        .query(&pg(&sql::titles_sql(BIBS)), &[&bibs])?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_>>()?;
    Ok(sql::title_counts(ranked, titles))
}

/// The holds-to-copies report by one of its two queries.
fn holds_ratio(
    db: &PostgresDatabase,
    query: &str,
    branch: Option<&Code>,
    threshold: Threshold,
    limit: u32,
) -> Result<Vec<HoldsRatio>> {
    let branch = branch_param(branch);
    let limit = i64::from(limit);
    db.report(|cx| {
        cx.query(&pg(query), &[&branch, &threshold.holds, &threshold.copies, &limit])?
            .iter()
            .map(|r| {
                Ok(HoldsRatio {
                    bib_id: r.try_get(0)?,
                    title: r.try_get(1)?,
                    holds: r.try_get(2)?,
                    copies: r.try_get(3)?,
                })
            })
            .collect()
    })
}

impl PostgresDatabase {
    /// One report's reads on one snapshot, with JIT compilation off. The reports' queries run
    /// an index range per day or per span whose bounds the planner cannot see, so it guesses
    /// thousands of rows per range and costs a year of half-hour edges (730 ranges) at 900,000,
    /// far past `jit_above_cost`: compiling then took 78 ms of a query that runs in 10 (EXPLAIN
    /// ANALYZE: circulation by day in Kolkata over a year 116 ms, 46 without JIT; money by day
    /// 180 ms, 22). `set_config(..., true)` lasts until the transaction ends.
    fn report<T>(&self, f: impl FnOnce(&mut Cx<'_, postgres::Transaction<'_>>) -> Result<T>) -> Result<T> {
        self.read_snapshot(|cx| {
            cx.query_one("SELECT set_config('jit', 'off', true)", &[])?;
            f(cx)
        })
    }
}

impl ReportStore for PostgresDatabase {
    fn circulation_by_day(&self, bounds: &[DateTime<Utc>], branch: Option<&Code>) -> Result<Vec<CirculationCounts>> {
        let split = sql::split(sql::days(bounds), sql::HOUR);
        let branch = branch_param(branch);
        self.report(|cx| {
            let mut totals = vec![CirculationCounts::default(); bounds.len().saturating_sub(1)];
            if !split.whole.is_empty() {
                let counts = cx
                    .query(&pg(&sql::circulation_hours_sql(SPANS, true)), &[&spans(&split.whole), &branch])?
                    .iter()
                    .map(circulation_counts)
                    .collect::<Result<_>>()?;
                sql::add_pieces(&mut totals, &split.whole, counts, sql::add_circulation);
            }
            if !split.edges.is_empty() {
                let counts = cx
                    .query(&pg(&sql::circulation_by_day_sql(SPANS)), &[&spans(&split.edges), &branch])?
                    .iter()
                    .map(circulation_counts)
                    .collect::<Result<_>>()?;
                sql::add_pieces(&mut totals, &split.edges, counts, sql::add_circulation);
            }
            Ok(totals)
        })
    }

    fn circulation_by_day_by_scan(
        &self,
        bounds: &[DateTime<Utc>],
        branch: Option<&Code>,
    ) -> Result<Vec<CirculationCounts>> {
        let bounds = bounds.to_vec();
        let branch = branch_param(branch);
        self.read(|cx| {
            cx.query(&pg(&sql::circulation_by_day_sql(DAYS)), &[&bounds, &branch])?
                .iter()
                .map(circulation_counts)
                .collect()
        })
    }

    fn circulation_by(
        &self,
        by: CirculationGroup,
        span: (DateTime<Utc>, DateTime<Utc>),
        branch: Option<&Code>,
    ) -> Result<Vec<Group<CirculationCounts>>> {
        let (from, to) = sql::whole(span, sql::DAY);
        let branch = branch_param(branch);
        self.report(|cx| {
            cx.query(&pg(&sql::circulation_by_sql(by)), &[&span.0, &span.1, &branch, &from, &to, &from, &to])?
                .iter()
                .map(circulation_group)
                .collect()
        })
    }

    fn circulation_by_by_scan(
        &self,
        by: CirculationGroup,
        span: (DateTime<Utc>, DateTime<Utc>),
        branch: Option<&Code>,
    ) -> Result<Vec<Group<CirculationCounts>>> {
        let branch = branch_param(branch);
        self.read(|cx| {
            cx.query(&pg(&sql::circulation_by_scan_sql(by)), &[&span.0, &span.1, &branch])?
                .iter()
                .map(circulation_group)
                .collect()
        })
    }

    fn top_titles(
        &self,
        span: (DateTime<Utc>, DateTime<Utc>),
        branch: Option<&Code>,
        limit: u32,
    ) -> Result<Vec<TitleCount>> {
        let plan = sql::title_span(span);
        self.report(|cx| {
            let mut lists = Lists { cx, branch: branch_param(branch), plan: &plan };
            let ranked = match sql::rank_titles(&mut lists, &sql::title_lists(span), limit as usize)? {
                Some(ranked) => ranked,
                None => summed_titles(lists.cx, span, branch, limit)?,
            };
            named_titles(lists.cx, ranked)
        })
    }

    fn top_titles_summed(
        &self,
        span: (DateTime<Utc>, DateTime<Utc>),
        branch: Option<&Code>,
        limit: u32,
    ) -> Result<Vec<TitleCount>> {
        self.report(|cx| {
            let ranked = summed_titles(cx, span, branch, limit)?;
            named_titles(cx, ranked)
        })
    }

    fn top_titles_by_scan(
        &self,
        span: (DateTime<Utc>, DateTime<Utc>),
        branch: Option<&Code>,
        limit: u32,
    ) -> Result<Vec<TitleCount>> {
        let branch = branch_param(branch);
        let limit = i64::from(limit);
        self.read(|cx| {
            cx.query(&pg(&sql::top_titles_sql()), &[&span.0, &span.1, &branch, &limit])?
                .iter()
                .map(|r| Ok(TitleCount { bib_id: r.try_get(0)?, title: r.try_get(1)?, checkouts: r.try_get(2)? }))
                .collect()
        })
    }

    fn overdue_loans(
        &self,
        now: DateTime<Utc>,
        branch: Option<&Code>,
        after: Option<OverdueCursor>,
        limit: u32,
    ) -> Result<Vec<OverdueLoan>> {
        let branch = branch_param(branch);
        let (after_due, after_id) = after.unwrap_or((DateTime::<Utc>::UNIX_EPOCH, 0));
        let limit = i64::from(limit);
        self.report(|cx| {
            cx.query(&pg(&sql::overdue_sql()), &[&now, &branch, &after_due, &after_id, &limit])?
                .iter()
                .map(|r| {
                    let (surname, first_name): (String, String) = (r.try_get(5)?, r.try_get(6)?);
                    Ok(OverdueLoan {
                        loan_id: r.try_get(0)?,
                        due_at: r.try_get(1)?,
                        barcode: r.try_get(2)?,
                        title: r.try_get(3)?,
                        card_number: r.try_get(4)?,
                        patron_name: format!("{surname}, {first_name}"),
                        checkout_branch: r.try_get(7)?,
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
        let branch = branch_param(branch);
        self.report(|cx| {
            cx.query(&pg(&sql::collection_sql()), &[&name, &branch])?
                .iter()
                .map(|r| Ok(group(class_code(scheme, r.try_get(0)?), None, r.try_get(1)?)))
                .collect()
        })
    }

    fn collection_by_scan(&self, scheme: ClassScheme, branch: Option<&Code>) -> Result<Vec<Group<i64>>> {
        let (kind, class) = match scheme {
            ClassScheme::Dewey => ("\\x03", "substring(t from 2 for 1)"),
            ClassScheme::Lc => ("\\x04", "substring(t from 2 for greatest(position('\\x01'::bytea in t) - 2, 0))"),
        };
        let query = format!(
            "SELECT convert_from({class}, 'UTF8'), count(*) FROM (\
             SELECT ltrim(call_number_sort, {PREFIX_BYTES}) AS t FROM items \
             WHERE call_number_sort IS NOT NULL AND status <> 'withdrawn' \
             AND ($1::text IS NULL OR home_branch = $1::text)) k \
             WHERE substring(t from 1 for 1) = '{kind}'::bytea GROUP BY 1 ORDER BY 1"
        );
        let branch = branch_param(branch);
        self.read(|cx| {
            cx.query(&query, &[&branch])?
                .iter()
                .map(|r| Ok(group(class_code(scheme, r.try_get(0)?), None, r.try_get(1)?)))
                .collect()
        })
    }

    fn registrations_by_day(&self, bounds: &[DateTime<Utc>], branch: Option<&Code>) -> Result<Vec<i64>> {
        let bounds = bounds.to_vec();
        let branch = branch_param(branch);
        self.report(|cx| {
            cx.query(&pg(&sql::registrations_by_day_sql(DAYS)), &[&bounds, &branch])?
                .iter()
                .map(|r| Ok(r.try_get(1)?))
                .collect()
        })
    }

    fn registrations_by_category(
        &self,
        span: (DateTime<Utc>, DateTime<Utc>),
        branch: Option<&Code>,
    ) -> Result<Vec<Group<i64>>> {
        let branch = branch_param(branch);
        self.report(|cx| {
            cx.query(&pg(&sql::registrations_by_category_sql()), &[&span.0, &span.1, &branch])?
                .iter()
                .map(|r| Ok(group(r.try_get(0)?, None, r.try_get(1)?)))
                .collect()
        })
    }

    fn money_by_day(&self, bounds: &[DateTime<Utc>]) -> Result<Vec<MoneyDay>> {
        let split = sql::money_split(sql::days(bounds));
        self.report(|cx| {
            let mut totals = vec![MoneyDay::default(); bounds.len().saturating_sub(1)];
            for (pieces, query) in [
                (&split.days, sql::money_counts_sql(SPANS, "ledger_days", "day", true)),
                (&split.hours, sql::money_counts_sql(SPANS, "ledger_hours", "hour", true)),
                (&split.edges, sql::money_by_day_sql(SPANS)),
            ] {
                if pieces.is_empty() {
                    continue;
                }
                let days = cx.query(&pg(&query), &[&spans(pieces)])?.iter().map(money_day).collect::<Result<_>>()?;
                sql::add_pieces(&mut totals, pieces, days, sql::add_money);
            }
            Ok(totals)
        })
    }

    fn money_by_day_by_scan(&self, bounds: &[DateTime<Utc>]) -> Result<Vec<MoneyDay>> {
        let bounds = bounds.to_vec();
        self.read(|cx| {
            cx.query(&pg(&sql::money_by_day_sql(DAYS)), &[&bounds])?
                .iter()
                .map(|r| {
                    Ok(MoneyDay {
                        cash: Money::from_minor(r.try_get(1)?),
                        card: Money::from_minor(r.try_get(2)?),
                        paid_out: Money::from_minor(r.try_get(3)?),
                    })
                })
                .collect()
        })
    }

    fn money_by_type(&self, span: (DateTime<Utc>, DateTime<Utc>)) -> Result<Vec<MoneyKind>> {
        let m = sql::money_span(span);
        // On PostgreSQL the kept counts' keys are the instants their day or hour starts.
        let (days, before, after) = (m.days, m.hours_before, m.hours_after);
        self.report(|cx| {
            cx.query(
                &pg(&sql::money_by_type_sql()),
                &[
                    &span.0, &span.1, &days.0, &days.1, &before.0, &before.1, &after.0, &after.1, &before.0, &before.1,
                    &days.0, &days.1, &after.0, &after.1,
                ],
            )?
            .iter()
            .map(money_kind)
            .collect()
        })
    }

    fn money_by_type_by_scan(&self, span: (DateTime<Utc>, DateTime<Utc>)) -> Result<Vec<MoneyKind>> {
        self.read(|cx| {
            cx.query(&pg(sql::MONEY_BY_TYPE_SQL), &[&span.0, &span.1])?
                .iter()
                .map(|r| {
                    Ok(MoneyKind {
                        entry: r.try_get(0)?,
                        kind: r.try_get(1)?,
                        entries: r.try_get(2)?,
                        amount: Money::from_minor(r.try_get(3)?),
                    })
                })
                .collect()
        })
    }
}
