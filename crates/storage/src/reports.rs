//! The staff reports' aggregate queries: each report is one read transaction and one SQL
//! statement that counts or sums with `GROUP BY` (or one indexed count per day), never rows
//! loaded into Rust to be counted. The row types are `reports`' own.
//!
//! The collection and circulation reports read counts that triggers keep in the transaction of
//! every item, loan and renewal write (migration 0016: `collection_counts` per scheme, branch
//! and class; `circulation_hours` per UTC hour and branch; `circulation_days` per UTC day,
//! branch, item type and category), so their cost does not grow with the catalog or the loans.
//! A day or span is read as the whole hours (days) it covers from the counts, plus its edges
//! that are not whole hours (days) counted from the loans by index range (`split`): exact in a
//! zone whose offset is not whole hours too. The queries they replaced stay as `*_by_scan`, the
//! oracle the tests hold the counts to.
//!
//! Days are the library's local days, given as UTC bounds (`reports::Period::bounds`): the
//! query counts each `[bounds[i], bounds[i + 1])` by an index range, so the answer is exact in
//! any time zone and a day without activity is a zero, not a missing row. A range read is
//! `[span.0, span.1)`. `branch` narrows a report to one branch: the checkout branch for checkouts
//! and renewals, the return branch for check-ins, the home branch for items and patrons, the
//! pickup branch for holds. The ledger records no branch, so money reports take none.
//!
//! What the counts count: a checkout is a loan started in the range; a renewal a row of
//! `loan_renewals` (written by every renewal since migration 0014); a check-in a loan returned
//! in the range. Patron categories are the borrower's category now (a loan anonymised after its
//! return counts under the anonymous patron's category). The collection counts items not
//! withdrawn by the call number they are shelved under (`items.call_number_sort`, whose layout
//! `callnumber` documents: prefixes, then the kind of body, then for Dewey its three digits and
//! for LC its class letters).

use crate::{LoanId, Result};
use ::reports::{CirculationCounts, Group, HoldsRatio, MoneyDay, MoneyKind, OverdueLoan, Threshold, TitleCount};
use catalog::{Code, Money};
use chrono::{DateTime, DurationRound, TimeDelta, Utc};

/// What circulation is grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CirculationGroup {
    Branch,
    ItemType,
    PatronCategory,
}

/// The classification the collection report groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassScheme {
    /// Dewey hundreds (`500-599`).
    Dewey,
    /// LC class letters (`QA`).
    Lc,
}

/// Where a page of the overdue list starts: after this loan (due time, then id).
pub type OverdueCursor = (DateTime<Utc>, LoanId);

/// The reports' queries. Every method is one read transaction.
pub trait ReportStore {
    /// Checkouts, renewals and check-ins per day: one entry per day, `bounds.len() - 1` in all.
    fn circulation_by_day(&self, bounds: &[DateTime<Utc>], branch: Option<&Code>) -> Result<Vec<CirculationCounts>>;

    /// Checkouts, renewals and check-ins in the span, per group, by code.
    fn circulation_by(
        &self,
        group: CirculationGroup,
        span: (DateTime<Utc>, DateTime<Utc>),
        branch: Option<&Code>,
    ) -> Result<Vec<Group<CirculationCounts>>>;

    /// The `limit` titles checked out most in the span (ties by record id).
    fn top_titles(
        &self,
        span: (DateTime<Utc>, DateTime<Utc>),
        branch: Option<&Code>,
        limit: u32,
    ) -> Result<Vec<TitleCount>>;

    /// Open loans due before `now`, by due time then id, after `after`, at most `limit`.
    fn overdue_loans(
        &self,
        now: DateTime<Utc>,
        branch: Option<&Code>,
        after: Option<OverdueCursor>,
        limit: u32,
    ) -> Result<Vec<OverdueLoan>>;

    /// Titles whose open holds per copy (not withdrawn) exceed `threshold`, the highest ratio
    /// first (titles without copies first of all), at most `limit`.
    fn holds_ratio(&self, branch: Option<&Code>, threshold: Threshold, limit: u32) -> Result<Vec<HoldsRatio>>;

    /// Items not withdrawn per class, in class order.
    fn collection(&self, scheme: ClassScheme, branch: Option<&Code>) -> Result<Vec<Group<i64>>>;

    /// Patrons registered per day (the anonymous patron is not one).
    fn registrations_by_day(&self, bounds: &[DateTime<Utc>], branch: Option<&Code>) -> Result<Vec<i64>>;

    /// Patrons registered in the span, per category.
    fn registrations_by_category(
        &self,
        span: (DateTime<Utc>, DateTime<Utc>),
        branch: Option<&Code>,
    ) -> Result<Vec<Group<i64>>>;

    /// Payments (cash, card) and payouts per day.
    fn money_by_day(&self, bounds: &[DateTime<Utc>]) -> Result<Vec<MoneyDay>>;

    /// Payments and payouts by method, charges by kind, in the span.
    fn money_by_type(&self, span: (DateTime<Utc>, DateTime<Utc>)) -> Result<Vec<MoneyKind>>;

    /// [`ReportStore::circulation_by_day`] counted from the loans themselves, not from the
    /// kept counts: the oracle the counts are tested against, never a report's source.
    #[doc(hidden)]
    fn circulation_by_day_by_scan(
        &self,
        bounds: &[DateTime<Utc>],
        branch: Option<&Code>,
    ) -> Result<Vec<CirculationCounts>>;

    /// [`ReportStore::circulation_by`] counted from the loans themselves (the tests' oracle).
    #[doc(hidden)]
    fn circulation_by_by_scan(
        &self,
        group: CirculationGroup,
        span: (DateTime<Utc>, DateTime<Utc>),
        branch: Option<&Code>,
    ) -> Result<Vec<Group<CirculationCounts>>>;

    /// [`ReportStore::money_by_day`] summed from the ledger itself (the tests' oracle).
    #[doc(hidden)]
    fn money_by_day_by_scan(&self, bounds: &[DateTime<Utc>]) -> Result<Vec<MoneyDay>>;

    /// [`ReportStore::money_by_type`] summed from the ledger itself (the tests' oracle).
    #[doc(hidden)]
    fn money_by_type_by_scan(&self, span: (DateTime<Utc>, DateTime<Utc>)) -> Result<Vec<MoneyKind>>;

    /// [`ReportStore::collection`] counted from the items themselves (the tests' oracle).
    #[doc(hidden)]
    fn collection_by_scan(&self, scheme: ClassScheme, branch: Option<&Code>) -> Result<Vec<Group<i64>>>;
}

/// Where the kept counts answer and where the loans must be counted: each `[lo, hi)` of the
/// request split into the whole `unit`s it covers (UTC hours or days, the counts' buckets) and
/// the pieces at its edges that are not whole units (in a zone whose offset is not whole hours,
/// or a span that does not start at a UTC midnight). Each piece names the request it belongs to.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Split {
    pub(crate) whole: Vec<(usize, DateTime<Utc>, DateTime<Utc>)>,
    pub(crate) edges: Vec<(usize, DateTime<Utc>, DateTime<Utc>)>,
}

pub(crate) const HOUR: TimeDelta = TimeDelta::hours(1);
pub(crate) const DAY: TimeDelta = TimeDelta::days(1);

fn floor(t: DateTime<Utc>, unit: TimeDelta) -> DateTime<Utc> {
    t.duration_trunc(unit).unwrap_or(t)
}

fn ceil(t: DateTime<Utc>, unit: TimeDelta) -> DateTime<Utc> {
    let down = floor(t, unit);
    if down == t {
        t
    } else {
        down + unit
    }
}

pub(crate) fn split(spans: impl IntoIterator<Item = (DateTime<Utc>, DateTime<Utc>)>, unit: TimeDelta) -> Split {
    let mut out = Split::default();
    for (i, (lo, hi)) in spans.into_iter().enumerate() {
        if hi <= lo {
            continue;
        }
        let (whole_lo, whole_hi) = (ceil(lo, unit), floor(hi, unit));
        if whole_lo < whole_hi {
            out.whole.push((i, whole_lo, whole_hi));
            for (a, b) in [(lo, whole_lo), (whole_hi, hi)] {
                if a < b {
                    out.edges.push((i, a, b));
                }
            }
        } else {
            out.edges.push((i, lo, hi));
        }
    }
    out
}

/// The days `[bounds[i], bounds[i + 1])` as spans.
pub(crate) fn days(bounds: &[DateTime<Utc>]) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
    bounds.windows(2).map(|w| (w[0], w[1]))
}

/// The whole `unit`s (UTC days or hours) inside a span, as `(from, to)`, and the edges before and
/// after them: `[span.0, from)` and `[to, span.1)`. A span without a whole unit is all edge
/// (`from = to = span.1`).
pub(crate) fn whole(span: (DateTime<Utc>, DateTime<Utc>), unit: TimeDelta) -> (DateTime<Utc>, DateTime<Utc>) {
    let (from, to) = (ceil(span.0, unit), floor(span.1, unit));
    if from < to && span.0 < span.1 {
        (from, to)
    } else {
        (span.1.max(span.0), span.1.max(span.0))
    }
}

/// Adds per-piece counts (in the order of `pieces`) into the per-request totals.
pub(crate) fn add_pieces<T>(
    totals: &mut [T],
    pieces: &[(usize, DateTime<Utc>, DateTime<Utc>)],
    counts: Vec<T>,
    add: impl Fn(&mut T, T),
) {
    for ((i, _, _), c) in pieces.iter().zip(counts) {
        if let Some(t) = totals.get_mut(*i) {
            add(t, c);
        }
    }
}

pub(crate) fn add_circulation(t: &mut CirculationCounts, c: CirculationCounts) {
    t.checkouts += c.checkouts;
    t.renewals += c.renewals;
    t.check_ins += c.check_ins;
}

pub(crate) fn add_money(t: &mut MoneyDay, c: MoneyDay) {
    t.cash = Money::from_minor(t.cash.minor() + c.cash.minor());
    t.card = Money::from_minor(t.card.minor() + c.card.minor());
    t.paid_out = Money::from_minor(t.paid_out.minor() + c.paid_out.minor());
}

// ---------------------------------------------------------------------------------------------
// SQL both backends run: `?N` parameters (PostgreSQL's `$N` after `pg`), `CAST(? AS TEXT)` so a
// NULL branch has a type on both. `DAYS` is each backend's table of day bounds `d(i, lo, hi)`.

/// A filter on `column` by the branch parameter `n`, true when no branch is given.
fn branch(column: &str, n: u8) -> String {
    format!("(CAST(?{n} AS TEXT) IS NULL OR {column} = CAST(?{n} AS TEXT))")
}

/// Per day (`d` from the backend's `WITH`): checkouts, renewals, check-ins. `?1` bounds, `?2` branch.
pub(crate) fn circulation_by_day_sql(days_cte: &str) -> String {
    format!(
        "WITH {days_cte} SELECT d.i, \
         (SELECT count(*) FROM loans l WHERE l.checked_out_at >= d.lo AND l.checked_out_at < d.hi AND {b1}), \
         (SELECT count(*) FROM loan_renewals r JOIN loans l ON l.id = r.loan_id \
          WHERE r.renewed_at >= d.lo AND r.renewed_at < d.hi AND {b1}), \
         (SELECT count(*) FROM loans l WHERE l.returned_at >= d.lo AND l.returned_at < d.hi AND {b2}) \
         FROM d ORDER BY d.i",
        b1 = branch("l.checkout_branch", 2),
        b2 = branch("l.return_branch", 2),
    )
}

/// The key of a checkout or renewal, of a check-in, the join that finds them on a loan `l`,
/// the join that names a group `g.k`, and the key's column in `circulation_days`.
fn grouping(group: CirculationGroup) -> (&'static str, &'static str, &'static str, &'static str, &'static str) {
    match group {
        CirculationGroup::Branch => {
            ("l.checkout_branch", "l.return_branch", "", "LEFT JOIN branches n ON n.code = g.k", "branch")
        }
        CirculationGroup::ItemType => (
            "i.item_type",
            "i.item_type",
            "JOIN items i ON i.id = l.item_id",
            "LEFT JOIN item_types n ON n.code = g.k",
            "item_type",
        ),
        // Categories are named in the settings, not in the database.
        CirculationGroup::PatronCategory => (
            "p.category",
            "p.category",
            "JOIN patrons p ON p.id = l.patron_id",
            "LEFT JOIN branches n ON 1 = 0",
            "category",
        ),
    }
}

/// Checkouts, renewals and check-ins counted from the loans in `[?lo, ?hi)`, per group, as
/// rows `(k, c, r, i)` to be summed; `?3` the branch.
fn circulation_scan(group: CirculationGroup, lo: u8, hi: u8) -> String {
    let (out_key, in_key, join, _, _) = grouping(group);
    let b_out = branch("l.checkout_branch", 3);
    let b_in = branch("l.return_branch", 3);
    format!(
        "SELECT {out_key} AS k, count(*) AS c, 0 AS r, 0 AS i FROM loans l {join} \
         WHERE l.checked_out_at >= ?{lo} AND l.checked_out_at < ?{hi} AND {b_out} GROUP BY {out_key} \
         UNION ALL SELECT {out_key}, 0, count(*), 0 FROM loan_renewals rn JOIN loans l ON l.id = rn.loan_id {join} \
         WHERE rn.renewed_at >= ?{lo} AND rn.renewed_at < ?{hi} AND {b_out} GROUP BY {out_key} \
         UNION ALL SELECT {in_key}, 0, 0, count(*) FROM loans l {join} \
         WHERE l.returned_at >= ?{lo} AND l.returned_at < ?{hi} AND {b_in} GROUP BY {in_key}"
    )
}

/// By scan: `?1`..`?2` the span, `?3` the branch.
pub(crate) fn circulation_by_scan_sql(group: CirculationGroup) -> String {
    let names = grouping(group).3;
    format!(
        "SELECT g.k, max(n.name), CAST(sum(g.c) AS BIGINT), CAST(sum(g.r) AS BIGINT), CAST(sum(g.i) AS BIGINT) FROM (\
         {}) g {names} GROUP BY g.k ORDER BY g.k",
        circulation_scan(group, 1, 2)
    )
}

/// From the counts: `?1`..`?2` the span, `?3` the branch, `?4`..`?5` the whole UTC days inside
/// it as `circulation_days` keys, `?6`..`?7` the same days as instants: the whole days are read
/// from `circulation_days`, the edges `[?1, ?6)` and `[?7, ?2)` counted from the loans. A group
/// whose counts were all moved elsewhere (rows netted to zero) is not a group.
pub(crate) fn circulation_by_sql(group: CirculationGroup) -> String {
    let (_, _, _, names, column) = grouping(group);
    format!(
        "SELECT g.k, max(n.name), CAST(sum(g.c) AS BIGINT), CAST(sum(g.r) AS BIGINT), CAST(sum(g.i) AS BIGINT) FROM (\
         SELECT {column} AS k, sum(checkouts) AS c, sum(renewals) AS r, sum(check_ins) AS i FROM circulation_days \
         WHERE day >= ?4 AND day < ?5 AND {b} GROUP BY {column} \
         UNION ALL {before} UNION ALL {after}\
         ) g {names} GROUP BY g.k HAVING sum(g.c) <> 0 OR sum(g.r) <> 0 OR sum(g.i) <> 0 ORDER BY g.k",
        b = branch("branch", 3),
        before = circulation_scan(group, 1, 6),
        after = circulation_scan(group, 7, 2),
    )
}

/// Per span (`d` from the backend's `WITH`, hour keys or instants): the kept hourly counts.
/// `?1` the spans, `?2` the branch.
pub(crate) fn circulation_hours_sql(spans_cte: &str) -> String {
    format!(
        "WITH {spans_cte} SELECT d.i, CAST(coalesce(sum(h.checkouts), 0) AS BIGINT), \
         CAST(coalesce(sum(h.renewals), 0) AS BIGINT), CAST(coalesce(sum(h.check_ins), 0) AS BIGINT) \
         FROM d LEFT JOIN circulation_hours h ON h.hour >= d.lo AND h.hour < d.hi AND {} \
         GROUP BY d.i ORDER BY d.i",
        branch("h.branch", 2)
    )
}

/// `?1` the scheme (`dewey`, `lc`), `?2` the branch: the kept counts per class.
pub(crate) fn collection_sql() -> String {
    format!(
        "SELECT class, CAST(sum(items) AS BIGINT) FROM collection_counts WHERE scheme = ?1 AND {} \
         GROUP BY class HAVING sum(items) <> 0 ORDER BY class",
        branch("branch", 2)
    )
}

/// `?1`..`?2` the span, `?3` the branch, `?4` the limit.
pub(crate) fn top_titles_sql() -> String {
    format!(
        "SELECT t.bib_id, b.title, t.n FROM (\
         SELECT i.bib_id AS bib_id, count(*) AS n FROM loans l JOIN items i ON i.id = l.item_id \
         WHERE l.checked_out_at >= ?1 AND l.checked_out_at < ?2 AND {} \
         GROUP BY i.bib_id ORDER BY count(*) DESC, i.bib_id LIMIT ?4\
         ) t JOIN bib_records b ON b.id = t.bib_id ORDER BY t.n DESC, t.bib_id",
        branch("l.checkout_branch", 3)
    )
}

/// `?1` now, `?2` the branch, `?3`/`?4` the cursor (due, id), `?5` the limit.
pub(crate) fn overdue_sql() -> String {
    format!(
        "SELECT l.id, l.due_at, i.barcode, b.title, p.card_number, p.surname, p.first_name, l.checkout_branch \
         FROM loans l JOIN items i ON i.id = l.item_id JOIN bib_records b ON b.id = i.bib_id \
         JOIN patrons p ON p.id = l.patron_id \
         WHERE l.returned_at IS NULL AND l.due_at < ?1 AND {} AND (l.due_at > ?3 OR (l.due_at = ?3 AND l.id > ?4)) \
         ORDER BY l.due_at, l.id LIMIT ?5",
        branch("l.checkout_branch", 2)
    )
}

/// `?1` the branch, `?2`/`?3` the threshold (holds, copies), `?4` the limit. The counts are
/// materialised first: a correlated count of copies would be run again for every place the
/// outer query names it (SQLite flattens it into the WHERE and the ORDER BY).
pub(crate) fn holds_ratio_sql() -> String {
    format!(
        "WITH h AS MATERIALIZED (\
         SELECT bib_id, count(*) AS holds FROM holds \
         WHERE status IN ('waiting', 'suspended', 'in_transit', 'on_shelf') AND {holds} GROUP BY bib_id), \
         c AS MATERIALIZED (\
         SELECT h.bib_id AS bib_id, h.holds AS holds, count(i.id) AS copies FROM h \
         LEFT JOIN items i ON i.bib_id = h.bib_id AND i.status <> 'withdrawn' AND {items} \
         GROUP BY h.bib_id, h.holds) \
         SELECT c.bib_id, b.title, c.holds, c.copies FROM c JOIN bib_records b ON b.id = c.bib_id \
         WHERE c.holds * ?3 > ?2 * c.copies \
         ORDER BY CASE WHEN c.copies = 0 THEN 0 ELSE 1 END, \
         CASE WHEN c.copies = 0 THEN c.holds ELSE c.holds * 1.0 / c.copies END DESC, c.bib_id LIMIT ?4",
        items = branch("i.home_branch", 1),
        holds = branch("pickup_branch", 1),
    )
}

/// Per day: `?1` bounds, `?2` branch.
pub(crate) fn registrations_by_day_sql(days_cte: &str) -> String {
    format!(
        "WITH {days_cte} SELECT d.i, (SELECT count(*) FROM patrons p WHERE p.created_at >= d.lo AND p.created_at < d.hi \
         AND {} AND p.id NOT IN (SELECT patron_id FROM anonymous_patron)) FROM d ORDER BY d.i",
        branch("p.home_branch", 2)
    )
}

/// `?1`..`?2` the span, `?3` the branch.
pub(crate) fn registrations_by_category_sql() -> String {
    format!(
        "SELECT p.category, count(*) FROM patrons p WHERE p.created_at >= ?1 AND p.created_at < ?2 AND {} \
         AND p.id NOT IN (SELECT patron_id FROM anonymous_patron) GROUP BY p.category ORDER BY p.category",
        branch("p.home_branch", 3)
    )
}

/// Per day: `?1` bounds. Payments and deposits (an overpayment kept as credit) are money taken,
/// stored as credits (negative); payouts hand money back, stored positive.
pub(crate) fn money_by_day_sql(days_cte: &str) -> String {
    let sum = |condition: &str, sign: &str| {
        format!(
            "(SELECT CAST(coalesce(sum({sign}e.amount), 0) AS BIGINT) FROM ledger_entries e \
             WHERE e.at >= d.lo AND e.at < d.hi AND {condition})"
        )
    };
    format!(
        "WITH {days_cte} SELECT d.i, {}, {}, {} FROM d ORDER BY d.i",
        sum("e.kind IN ('payment', 'deposit') AND e.method = 'cash'", "-"),
        sum("e.kind IN ('payment', 'deposit') AND e.method = 'card'", "-"),
        sum("e.kind = 'payout'", ""),
    )
}

/// `?1`..`?2` the span. Waivers, write-offs and refunds move no money and are left out.
pub(crate) const MONEY_BY_TYPE_SQL: &str = "SELECT g.entry, g.k, count(*), CAST(sum(g.amount) AS BIGINT) FROM (\
     SELECT CASE WHEN e.kind IN ('payment', 'deposit', 'payout') THEN e.kind ELSE 'charge' END AS entry, \
     CASE WHEN e.kind IN ('payment', 'deposit', 'payout') THEN coalesce(e.method, '') ELSE e.kind END AS k, \
     CASE WHEN e.kind IN ('payment', 'deposit') THEN -e.amount ELSE e.amount END AS amount \
     FROM ledger_entries e WHERE e.at >= ?1 AND e.at < ?2 AND e.kind NOT IN ('waiver', 'write_off', 'refund')\
     ) g GROUP BY g.entry, g.k ORDER BY CASE g.entry WHEN 'payment' THEN 0 WHEN 'deposit' THEN 1 WHEN 'payout' THEN 2 ELSE 3 END, g.k";

/// Per span (`d` from the backend's `WITH`, hour keys or instants): money taken in cash and by
/// card, and paid out, from the kept hourly sums. `?1` the spans.
pub(crate) fn money_hours_sql(spans_cte: &str) -> String {
    let sum = |condition: &str, sign: &str| {
        format!("CAST(coalesce(sum(CASE WHEN {condition} THEN {sign}h.amount ELSE 0 END), 0) AS BIGINT)")
    };
    format!(
        "WITH {spans_cte} SELECT d.i, {}, {}, {} FROM d \
         LEFT JOIN ledger_hours h ON h.hour >= d.lo AND h.hour < d.hi GROUP BY d.i ORDER BY d.i",
        sum("h.kind IN ('payment', 'deposit') AND h.method = 'cash'", "-"),
        sum("h.kind IN ('payment', 'deposit') AND h.method = 'card'", "-"),
        sum("h.kind = 'payout'", ""),
    )
}

/// From the counts: `?1`..`?2` the span, `?3`..`?4` the whole UTC hours inside it as
/// `ledger_hours` keys, `?5`..`?6` the same hours as instants: the whole hours are read from
/// `ledger_hours`, the edges `[?1, ?5)` and `[?6, ?2)` summed from the entries.
pub(crate) fn money_by_type_sql() -> String {
    let scan = |lo: u8, hi: u8| {
        format!(
            "SELECT CASE WHEN e.kind IN ('payment', 'deposit', 'payout') THEN e.kind ELSE 'charge' END AS entry, \
             CASE WHEN e.kind IN ('payment', 'deposit', 'payout') THEN coalesce(e.method, '') ELSE e.kind END AS k, \
             1 AS n, CASE WHEN e.kind IN ('payment', 'deposit') THEN -e.amount ELSE e.amount END AS amount \
             FROM ledger_entries e WHERE e.at >= ?{lo} AND e.at < ?{hi} AND e.kind NOT IN ('waiver', 'write_off', 'refund')"
        )
    };
    format!(
        "SELECT g.entry, g.k, CAST(sum(g.n) AS BIGINT), CAST(sum(g.amount) AS BIGINT) FROM (\
         SELECT CASE WHEN h.kind IN ('payment', 'deposit', 'payout') THEN h.kind ELSE 'charge' END AS entry, \
         CASE WHEN h.kind IN ('payment', 'deposit', 'payout') THEN h.method ELSE h.kind END AS k, \
         h.entries AS n, CASE WHEN h.kind IN ('payment', 'deposit') THEN -h.amount ELSE h.amount END AS amount \
         FROM ledger_hours h WHERE h.hour >= ?3 AND h.hour < ?4 AND h.kind NOT IN ('waiver', 'write_off', 'refund') \
         UNION ALL {} UNION ALL {}\
         ) g GROUP BY g.entry, g.k HAVING sum(g.n) <> 0 \
         ORDER BY CASE g.entry WHEN 'payment' THEN 0 WHEN 'deposit' THEN 1 WHEN 'payout' THEN 2 ELSE 3 END, g.k",
        scan(1, 5),
        scan(6, 2)
    )
}

/// `?` parameters as PostgreSQL's `$`.
pub(crate) fn pg(sql: &str) -> String {
    sql.replace('?', "$")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).unwrap_or_default()
    }

    #[test]
    fn days_on_whole_hours_are_all_counts() {
        let bounds = [at("2026-11-02T05:00:00Z"), at("2026-11-03T05:00:00Z"), at("2026-11-04T05:00:00Z")];
        let split = split(days(&bounds), HOUR);
        assert_eq!(split.whole, [(0, bounds[0], bounds[1]), (1, bounds[1], bounds[2])]);
        assert!(split.edges.is_empty());
    }

    #[test]
    fn half_hour_days_count_their_edges_from_the_rows() {
        let bounds = [at("2026-11-01T18:30:00Z"), at("2026-11-02T18:30:00Z")];
        let split = split(days(&bounds), HOUR);
        assert_eq!(split.whole, [(0, at("2026-11-01T19:00:00Z"), at("2026-11-02T18:00:00Z"))]);
        assert_eq!(
            split.edges,
            [
                (0, at("2026-11-01T18:30:00Z"), at("2026-11-01T19:00:00Z")),
                (0, at("2026-11-02T18:00:00Z"), at("2026-11-02T18:30:00Z"))
            ]
        );
    }

    #[test]
    fn a_span_inside_one_unit_is_all_edge_and_an_empty_one_nothing() {
        let (lo, hi) = (at("2026-11-03T14:10:00Z"), at("2026-11-03T14:50:00Z"));
        let split = split([(lo, hi), (hi, hi)], HOUR);
        assert!(split.whole.is_empty());
        assert_eq!(split.edges, [(0, lo, hi)]);
        assert_eq!(whole((lo, hi), DAY), (hi, hi));
        let span = (at("2026-11-01T18:30:00Z"), at("2026-11-04T18:30:00Z"));
        assert_eq!(whole(span, DAY), (at("2026-11-02T00:00:00Z"), at("2026-11-04T00:00:00Z")));
    }
}
