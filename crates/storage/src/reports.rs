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
//! Migration 0019 adds money per UTC day (`ledger_days`: a span's whole days from it, whole
//! hours at its edges from `ledger_hours`, the minutes left from the ledger, `money_split`) and
//! checkouts per title, branch and UTC month (`title_months`, branch `*` for every branch). The
//! top titles are a threshold merge of the months' lists read in order of checkouts, each title
//! read counted exactly in SQL ([`rank_titles`]): exact for any data, and a few pages of each
//! list when lending is skewed, as it is in libraries. Loans spread evenly over the titles of
//! several lists never settle the merge: then every title's kept counts of the span's months are
//! added up in a vector by bib id ([`title_sums`], [`Tally`]), edges counted from the loans by time.
//!
//! Migration 0020 keeps the copies (items not withdrawn) per title and home branch
//! (`title_copies`); 0021 keeps the open holds per title and pickup branch in the same rows, and
//! both for every branch under `*`, so holds to copies reads its page from an index in its order.
//! 0021 also keeps checkouts per title, branch and UTC year (`title_years`): the merge reads a
//! year the span touches in all its months as one list ([`title_lists`]), which settles lending
//! spread evenly over the year's titles at its first page, where twelve month lists never do.
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
use chrono::{DateTime, Datelike, DurationRound, TimeDelta, TimeZone, Utc};
use std::collections::HashMap;

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

    /// [`ReportStore::top_titles`] counted from the loans themselves (the tests' oracle).
    #[doc(hidden)]
    fn top_titles_by_scan(
        &self,
        span: (DateTime<Utc>, DateTime<Utc>),
        branch: Option<&Code>,
        limit: u32,
    ) -> Result<Vec<TitleCount>>;

    /// [`ReportStore::top_titles`] summed from every title's kept counts ([`title_sums`]): what
    /// `top_titles` does when the merge gives up, callable alone so the tests reach it on a
    /// small library.
    #[doc(hidden)]
    fn top_titles_summed(
        &self,
        span: (DateTime<Utc>, DateTime<Utc>),
        branch: Option<&Code>,
        limit: u32,
    ) -> Result<Vec<TitleCount>>;

    /// [`ReportStore::holds_ratio`] with each title's copies counted from its items, not from
    /// the kept copies per title (the tests' oracle).
    #[doc(hidden)]
    fn holds_ratio_by_scan(&self, branch: Option<&Code>, threshold: Threshold, limit: u32) -> Result<Vec<HoldsRatio>>;

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

/// A piece of a request: its index and `[lo, hi)`.
pub(crate) type Piece = (usize, DateTime<Utc>, DateTime<Utc>);

/// Where the money counts answer: the whole UTC days of each request from `ledger_days`, the
/// whole UTC hours of what is left from `ledger_hours`, and the minutes left after that (in a
/// zone whose offset is not whole hours) summed from the ledger. `split` twice: first by day,
/// then its edges by hour.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct MoneySplit {
    pub(crate) days: Vec<Piece>,
    pub(crate) hours: Vec<Piece>,
    pub(crate) edges: Vec<Piece>,
}

pub(crate) fn money_split(spans: impl IntoIterator<Item = (DateTime<Utc>, DateTime<Utc>)>) -> MoneySplit {
    let by_day = split(spans, DAY);
    let by_hour = split(by_day.edges.iter().map(|(_, lo, hi)| (*lo, *hi)), HOUR);
    // `by_hour` numbers the day edges; each belongs to the request its day edge came from.
    let request = |pieces: Vec<Piece>| -> Vec<Piece> {
        pieces.into_iter().filter_map(|(j, lo, hi)| by_day.edges.get(j).map(|(i, _, _)| (*i, lo, hi))).collect()
    };
    MoneySplit { hours: request(by_hour.whole), edges: request(by_hour.edges), days: by_day.whole }
}

/// One span for `money_by_type_sql`: its whole UTC days, the whole UTC hours before and after
/// them, and the four pieces of minutes left at the edges, in the order the query numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MoneySpan {
    pub(crate) span: (DateTime<Utc>, DateTime<Utc>),
    pub(crate) days: (DateTime<Utc>, DateTime<Utc>),
    pub(crate) hours_before: (DateTime<Utc>, DateTime<Utc>),
    pub(crate) hours_after: (DateTime<Utc>, DateTime<Utc>),
}

pub(crate) fn money_span(span: (DateTime<Utc>, DateTime<Utc>)) -> MoneySpan {
    let days = whole(span, DAY);
    MoneySpan { span, days, hours_before: whole((span.0, days.0), HOUR), hours_after: whole((days.1, span.1), HOUR) }
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
// Top titles: a threshold merge (Fagin's TA) over the kept per-title month counts.

/// The branch key of `title_months` for a report: the branch, or `*` for every branch.
pub(crate) fn title_branch(branch: Option<&Code>) -> &str {
    branch.map_or("*", Code::as_str)
}

fn first_of_month(t: DateTime<Utc>) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(t.year(), t.month(), 1, 0, 0, 0).single().unwrap_or(t)
}

fn next_month(m: DateTime<Utc>) -> DateTime<Utc> {
    let (y, mo) = if m.month() == 12 { (m.year() + 1, 1) } else { (m.year(), m.month() + 1) };
    Utc.with_ymd_and_hms(y, mo, 1, 0, 0, 0).single().unwrap_or(m)
}

/// How a span reads the title counts: the UTC months it touches (each a list of titles by
/// checkouts), the whole months inside it (`[whole.0, whole.1)`, counted from the lists), and
/// the two edges outside them (`[span.0, whole.0)`, `[whole.1, span.1)`), counted from the loans.
/// A span without a whole month is all edge (`whole = (span.1, span.1)`), like [`whole`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TitleSpan {
    pub(crate) months: Vec<DateTime<Utc>>,
    pub(crate) whole: (DateTime<Utc>, DateTime<Utc>),
    pub(crate) edges: [(DateTime<Utc>, DateTime<Utc>); 2],
}

pub(crate) fn title_span(span: (DateTime<Utc>, DateTime<Utc>)) -> TitleSpan {
    let mut months = Vec::new();
    if span.0 < span.1 {
        let mut m = first_of_month(span.0);
        while m < span.1 {
            months.push(m);
            m = next_month(m);
        }
    }
    let start = first_of_month(span.0);
    let from = if start == span.0 { start } else { next_month(start) };
    let to = first_of_month(span.1);
    let whole = if from < to && span.0 < span.1 { (from, to) } else { (span.1.max(span.0), span.1.max(span.0)) };
    TitleSpan { months, whole, edges: [(span.0, whole.0), (whole.1, span.1)] }
}

/// One list of titles by checkouts that the merge reads: a UTC month's kept counts
/// (`title_months`), a UTC year's (`title_years`, migration 0021), or the loans out in a short
/// piece of a month, counted per title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TitleList {
    Month(DateTime<Utc>),
    Year(DateTime<Utc>),
    Loans(DateTime<Utc>, DateTime<Utc>),
}

fn first_of_year(t: DateTime<Utc>) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(t.year(), 1, 1, 0, 0, 0).single().unwrap_or(t)
}

/// The lists a span's merge reads, each holding at least the span's checkouts in its part of
/// the span: a UTC year whose twelve months the span touches is one list (a library's year in
/// its own zone touches one or two hours of the next or last year, never all of it), so
/// lending spread evenly over a year's titles settles from it; a piece of a month shorter than
/// a day (a year in a zone east or west of UTC starts or ends with one) is its loans, so
/// the list is read whole at once and loosens nothing; any other month is its month's list.
pub(crate) fn title_lists(span: (DateTime<Utc>, DateTime<Utc>)) -> Vec<TitleList> {
    let months = title_span(span).months;
    let mut lists = Vec::new();
    for (i, m) in months.iter().enumerate() {
        let year = first_of_year(*m);
        let in_year = months.iter().filter(|n| first_of_year(**n) == year).count();
        if in_year == 12 {
            if i == 0 || first_of_year(months[i - 1]) != year {
                lists.push(TitleList::Year(year));
            }
            continue;
        }
        let (lo, hi) = (span.0.max(*m), span.1.min(next_month(*m)));
        if hi - lo < DAY && (lo, hi) != (*m, next_month(*m)) {
            lists.push(TitleList::Loans(lo, hi));
        } else {
            lists.push(TitleList::Month(*m));
        }
    }
    lists
}

/// What the top-titles merge reads, all on one snapshot.
pub(crate) trait TitleLists {
    /// Up to `n` titles of a list (those with checkouts) after `after` (checkouts, bib id), most
    /// checkouts first, then by bib id: `(bib id, checkouts in the list)`.
    fn ranked(&mut self, list: &TitleList, after: (i64, i64), n: usize) -> Result<Vec<(i64, i64)>>;

    /// Each title's exact checkouts in the span: `(bib id, checkouts)`, in any order.
    fn exact(&mut self, bibs: &[i64]) -> Result<Vec<(i64, i64)>>;
}

/// How many titles the merge may count exactly before it gives up: loans spread so evenly that
/// this many titles cannot settle the last place are counted faster by summing every title's
/// kept counts ([`title_sums`]). Skewed lending settles within a few hundred.
const TITLE_BUDGET: usize = 1_000;

/// The `limit` titles with the most checkouts in the span (ties by bib id), exact, as
/// `(bib id, checkouts)`; `None` when the lists could not settle them within the budget.
///
/// Fagin's threshold algorithm: each round reads the next titles of every list in order of
/// checkouts and counts each new title exactly. A title not yet read in a list has at most the
/// checkouts of the last one read there (none once a list is exhausted), so no title unread
/// everywhere has more than the sum of those, the threshold; once the `limit`-th best title
/// counted has more, the answer is settled. It is settled on a tie too when its bib id is no
/// higher than the last one read in some list still open: an unread title reaching the
/// threshold has each list's last count and, the lists being in bib id order within a count,
/// a higher bib id than each list's last, so it ranks below. The lists at the span's edges may
/// count more than the span holds, which only loosens the threshold. With the skewed
/// popularity of real lending this settles within a few rounds, and lending spread evenly over
/// a UTC year's titles in the first; otherwise it never settles early, and the merge gives up
/// before counting a round that would take it past the budget.
pub(crate) fn rank_titles(
    lists: &mut dyn TitleLists,
    read: &[TitleList],
    limit: usize,
) -> Result<Option<Vec<(i64, i64)>>> {
    if limit == 0 || read.is_empty() {
        return Ok(Some(Vec::new()));
    }
    // Per list: the last (checkouts, bib id) read, and whether the list is exhausted.
    let mut cursors: Vec<((i64, i64), bool)> = vec![((i64::MAX, 0), false); read.len()];
    let mut counted: HashMap<i64, i64> = HashMap::new();
    // Past the last place at once: a list's head falls below the last place's share only
    // after it, so a first read of just `limit` titles would always need a second.
    let mut batch = limit.saturating_mul(2).max(32);
    loop {
        let mut fresh: Vec<i64> = Vec::new();
        for (list, (after, done)) in read.iter().zip(cursors.iter_mut()) {
            if *done {
                continue;
            }
            let rows = lists.ranked(list, *after, batch)?;
            *done = rows.len() < batch;
            if let Some(&(bib, n)) = rows.last() {
                *after = (n, bib);
            }
            fresh.extend(rows.into_iter().map(|(bib, _)| bib).filter(|bib| !counted.contains_key(bib)));
        }
        fresh.sort_unstable();
        fresh.dedup();
        // Before counting them: the exact counts are the merge's cost, wasted once it gives up.
        if counted.len() + fresh.len() > TITLE_BUDGET {
            return Ok(None);
        }
        if !fresh.is_empty() {
            counted.extend(lists.exact(&fresh)?);
        }
        let threshold: i64 = cursors.iter().filter(|(_, done)| !done).map(|((n, _), _)| *n).sum();
        let last_read = cursors.iter().filter(|(_, done)| !done).map(|((_, bib), _)| *bib).max();
        let mut best: Vec<(i64, i64)> = counted.iter().filter(|(_, n)| **n > 0).map(|(b, n)| (*b, *n)).collect();
        best.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let settled = best
            .get(limit - 1)
            .is_some_and(|(bib, n)| *n > threshold || (*n == threshold && last_read.is_some_and(|last| *bib <= last)));
        if settled || threshold <= 0 {
            best.truncate(limit);
            return Ok(Some(best));
        }
        batch = batch.saturating_mul(2);
    }
}

// ---------------------------------------------------------------------------------------------
// Top titles when the merge gives up: every title's kept counts added up.

/// How the summing path reads a span: the kept lists of `months` added in full, the loans of the
/// `add` pieces counted in and those of the `subtract` pieces taken out. Each piece lies inside
/// one UTC month; a part of a month longer than half of it is read as the whole month's list less
/// the loans of the rest, since a list row costs less than a loan (no join to its item).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct TitleSums {
    pub(crate) months: Vec<DateTime<Utc>>,
    pub(crate) add: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    pub(crate) subtract: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

pub(crate) fn title_sums(span: (DateTime<Utc>, DateTime<Utc>)) -> TitleSums {
    let plan = title_span(span);
    let mut sums = TitleSums {
        months: plan.months.iter().copied().filter(|m| *m >= plan.whole.0 && *m < plan.whole.1).collect(),
        ..TitleSums::default()
    };
    for (lo, hi) in plan.edges {
        let mut from = lo;
        while from < hi {
            let month = first_of_month(from);
            let end = next_month(month);
            let to = hi.min(end);
            if (to - from) * 2 > end - month {
                sums.months.push(month);
                sums.subtract.extend([(month, from), (to, end)].into_iter().filter(|(a, b)| a < b));
            } else {
                sums.add.push((from, to));
            }
            from = to;
        }
    }
    sums
}

/// Checkouts per title summed densely, indexed by bib id: record ids are a sequence from 1, so a
/// vector of them is smaller and far faster to add into than a map of a year's titles. An id
/// past `DENSE_IDS` (one written by hand) goes to a map instead of growing the vector.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    dense: Vec<i64>,
    sparse: HashMap<i64, i64>,
}

const DENSE_IDS: usize = 1 << 24;

impl Tally {
    pub(crate) fn add(&mut self, bib: i64, n: i64) {
        match usize::try_from(bib) {
            Ok(i) if i < DENSE_IDS => {
                if i >= self.dense.len() {
                    self.dense.resize(i + 1, 0);
                }
                self.dense[i] += n;
            }
            _ => *self.sparse.entry(bib).or_insert(0) += n,
        }
    }

    /// The `limit` titles with the most checkouts (ties by bib id) as `(bib id, checkouts)`.
    pub(crate) fn top(&self, limit: usize) -> Vec<(i64, i64)> {
        if limit == 0 {
            return Vec::new();
        }
        let order = |a: &(i64, i64), b: &(i64, i64)| b.1.cmp(&a.1).then(a.0.cmp(&b.0));
        let dense = self.dense.iter().enumerate().map(|(bib, n)| (bib as i64, *n));
        let sparse = self.sparse.iter().map(|(bib, n)| (*bib, *n));
        let mut titles: Vec<(i64, i64)> = dense.chain(sparse).filter(|(_, n)| *n > 0).collect();
        if titles.len() > limit {
            titles.select_nth_unstable_by(limit - 1, order);
            titles.truncate(limit);
        }
        titles.sort_unstable_by(order);
        titles
    }
}

// ---------------------------------------------------------------------------------------------
// SQL both backends run: `?N` parameters (PostgreSQL's `$N` after `pg`), `CAST(? AS TEXT)` so a
// NULL branch has a type on both. `DAYS` is each backend's table of day bounds `d(i, lo, hi)`.

/// A filter on `column` by the branch parameter `n`, true when no branch is given.
pub(crate) fn branch(column: &str, n: u8) -> String {
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
/// `?1` the spans, `?2` the branch. `lateral` (PostgreSQL) sums each span in a subquery of its
/// own, which PostgreSQL cannot flatten into a join, so every span is one range of the counts'
/// index whatever the planner guesses of the spans; as a join over 30 spans it chose to compare
/// every span with every row of the table (1,058,400 comparisons, 107 ms in EXPLAIN ANALYZE),
/// and over 365 an index range per span (38 ms). SQLite has no LATERAL and keeps the join.
pub(crate) fn circulation_hours_sql(spans_cte: &str, lateral: bool) -> String {
    let sums = "CAST(coalesce(sum(h.checkouts), 0) AS BIGINT), CAST(coalesce(sum(h.renewals), 0) AS BIGINT), \
                CAST(coalesce(sum(h.check_ins), 0) AS BIGINT)";
    let b = branch("h.branch", 2);
    if lateral {
        format!(
            "WITH {spans_cte} SELECT d.i, s.* FROM d CROSS JOIN LATERAL (SELECT {sums} FROM circulation_hours h \
             WHERE h.hour >= d.lo AND h.hour < d.hi AND {b}) s ORDER BY d.i"
        )
    } else {
        format!(
            "WITH {spans_cte} SELECT d.i, {sums} FROM d LEFT JOIN circulation_hours h \
             ON h.hour >= d.lo AND h.hour < d.hi AND {b} GROUP BY d.i ORDER BY d.i"
        )
    }
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

/// One month's or year's list of titles after a cursor (`table` `title_months` by `month` or
/// `title_years` by `year`): `?1` the list's key, `?2` the branch key (`*` for all), `?3`/`?4`
/// the cursor (checkouts, bib id), `?5` how many. Ties on checkouts are read by bib id, so the
/// cursor is two ranges, each in the rank index's order.
pub(crate) fn titles_ranked_sql(table: &str, key: &str) -> String {
    format!(
        "SELECT a.bib_id, a.checkouts FROM (\
         SELECT bib_id, checkouts FROM {table} WHERE {key} = ?1 AND branch = ?2 AND checkouts = ?3 AND bib_id > ?4 \
         ORDER BY bib_id LIMIT ?5) a \
         UNION ALL SELECT b.bib_id, b.checkouts FROM (\
         SELECT bib_id, checkouts FROM {table} WHERE {key} = ?1 AND branch = ?2 AND checkouts < ?3 AND checkouts > 0 \
         ORDER BY checkouts DESC, bib_id LIMIT ?5) b \
         ORDER BY 2 DESC, 1 LIMIT ?5"
    )
}

/// The titles of the loans out in `[?1, ?2)` from the branch `?3` as a list after a cursor:
/// `?4`/`?5` the cursor (checkouts, bib id), `?6` how many.
pub(crate) fn titles_ranked_loans_sql() -> String {
    format!(
        "SELECT t.bib_id, t.n FROM (SELECT i.bib_id AS bib_id, count(*) AS n FROM loans l \
         JOIN items i ON i.id = l.item_id WHERE l.checked_out_at >= ?1 AND l.checked_out_at < ?2 AND {} \
         GROUP BY i.bib_id) t WHERE t.n < ?4 OR (t.n = ?4 AND t.bib_id > ?5) ORDER BY t.n DESC, t.bib_id LIMIT ?6",
        branch("l.checkout_branch", 3)
    )
}

/// Each title's (`c(bib_id)` from the backend's `WITH`, `?1`) exact checkouts in a span: `?2`
/// the branch key, `?3`..`?4` the whole months as `title_months` keys, `[?5, ?6)` and `[?7, ?8)`
/// the edges counted from the loans of the title's items, `?9` the branch.
pub(crate) fn titles_exact_sql(bibs_cte: &str) -> String {
    let edge = |lo: u8, hi: u8| {
        format!(
            "(SELECT count(*) FROM items i JOIN loans l ON l.item_id = i.id WHERE i.bib_id = c.bib_id \
             AND l.checked_out_at >= ?{lo} AND l.checked_out_at < ?{hi} AND {})",
            branch("l.checkout_branch", 9)
        )
    };
    format!(
        "WITH {bibs_cte} SELECT c.bib_id, CAST(\
         (SELECT coalesce(sum(t.checkouts), 0) FROM title_months t \
          WHERE t.bib_id = c.bib_id AND t.branch = ?2 AND t.month >= ?3 AND t.month < ?4) + {} + {} AS BIGINT) FROM c",
        edge(5, 6),
        edge(7, 8)
    )
}

/// The titles of the records `c(bib_id)` (`?1`, from the backend's `WITH`).
pub(crate) fn titles_sql(bibs_cte: &str) -> String {
    format!("WITH {bibs_cte} SELECT b.id, b.title FROM c JOIN bib_records b ON b.id = c.bib_id")
}

/// The ranked titles with their names, in rank order.
pub(crate) fn title_counts(ranked: Vec<(i64, i64)>, titles: Vec<(i64, String)>) -> Vec<TitleCount> {
    let titles: HashMap<i64, String> = titles.into_iter().collect();
    ranked
        .into_iter()
        .filter_map(|(bib_id, checkouts)| {
            titles.get(&bib_id).map(|title| TitleCount { bib_id, title: title.clone(), checkouts })
        })
        .collect()
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

/// `?1` the branch, `?2`/`?3` the threshold (holds, copies), `?4` the limit: each title's
/// copies are `copies(c)`, a scalar subquery on the title `c.bib_id`. The counts are
/// materialised first: a correlated count of copies would be run again for every place the
/// outer query names it (SQLite flattens it into the WHERE and the ORDER BY). Only the page's
/// titles are joined to their records, not every title with holds (for 20,000 of them
/// PostgreSQL read the whole `bib_records` table to hash it).
fn holds_ratio_with(copies: &str) -> String {
    let order = "CASE WHEN c.copies = 0 THEN 0 ELSE 1 END, \
                 CASE WHEN c.copies = 0 THEN c.holds ELSE c.holds * 1.0 / c.copies END DESC, c.bib_id";
    format!(
        "WITH h AS MATERIALIZED (\
         SELECT bib_id, count(*) AS holds FROM holds \
         WHERE status IN ('waiting', 'suspended', 'in_transit', 'on_shelf') AND {holds} GROUP BY bib_id), \
         c AS MATERIALIZED (SELECT h.bib_id AS bib_id, h.holds AS holds, {copies} AS copies FROM h), \
         p AS MATERIALIZED (SELECT c.bib_id, c.holds, c.copies FROM c WHERE c.holds * ?3 > ?2 * c.copies \
         ORDER BY {order} LIMIT ?4) \
         SELECT c.bib_id, b.title, c.holds, c.copies FROM p c JOIN bib_records b ON b.id = c.bib_id ORDER BY {order}",
        holds = branch("pickup_branch", 1),
    )
}

/// From the kept holds and copies per title and branch (`title_copies`, migrations 0020 and
/// 0021; branch `*` for every branch): one range of `title_copies_ratio_idx`, whose expressions
/// and partial condition these are, so the titles come in the report's order and the range
/// stops at the page. The page's titles are then joined to their records.
pub(crate) fn holds_ratio_sql() -> String {
    let order = "CASE WHEN t.copies = 0 THEN 0 ELSE 1 END, \
                 CASE WHEN t.copies = 0 THEN t.holds ELSE t.holds * 1.0 / t.copies END DESC, t.bib_id";
    format!(
        "WITH p AS MATERIALIZED (SELECT t.bib_id, t.holds, t.copies FROM title_copies t \
         WHERE t.branch = coalesce(CAST(?1 AS TEXT), '*') AND t.holds > 0 AND t.holds * ?3 > ?2 * t.copies \
         ORDER BY {order} LIMIT ?4) \
         SELECT t.bib_id, b.title, t.holds, t.copies FROM p t JOIN bib_records b ON b.id = t.bib_id ORDER BY {order}"
    )
}

/// Counting each title's copies from the items (the tests' oracle), over `items_bib_status_idx`
/// (bib, status, branch): no item row is read, but on PostgreSQL each index entry not known
/// visible costs a visit to its heap row.
pub(crate) fn holds_ratio_by_scan_sql() -> String {
    holds_ratio_with(&format!(
        "(SELECT count(*) FROM items i WHERE i.bib_id = h.bib_id AND i.status <> 'withdrawn' AND {})",
        branch("i.home_branch", 1)
    ))
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

/// Per span (`d` from the backend's `WITH`, keys of `table` or instants): money taken in cash and
/// by card, and paid out, from the kept sums of `table` (`ledger_days` by `day`, `ledger_hours`
/// by `hour`). `?1` the spans. `lateral` as for [`circulation_hours_sql`].
pub(crate) fn money_counts_sql(spans_cte: &str, table: &str, key: &str, lateral: bool) -> String {
    let sum = |condition: &str, sign: &str| {
        format!("CAST(coalesce(sum(CASE WHEN {condition} THEN {sign}h.amount ELSE 0 END), 0) AS BIGINT)")
    };
    let sums = format!(
        "{}, {}, {}",
        sum("h.kind IN ('payment', 'deposit') AND h.method = 'cash'", "-"),
        sum("h.kind IN ('payment', 'deposit') AND h.method = 'card'", "-"),
        sum("h.kind = 'payout'", ""),
    );
    if lateral {
        format!(
            "WITH {spans_cte} SELECT d.i, s.* FROM d CROSS JOIN LATERAL (SELECT {sums} FROM {table} h \
             WHERE h.{key} >= d.lo AND h.{key} < d.hi) s ORDER BY d.i"
        )
    } else {
        format!(
            "WITH {spans_cte} SELECT d.i, {sums} FROM d \
             LEFT JOIN {table} h ON h.{key} >= d.lo AND h.{key} < d.hi GROUP BY d.i ORDER BY d.i"
        )
    }
}

/// From the counts (`MoneySpan`): `?1`..`?2` the span, `?3`..`?4` its whole UTC days as
/// `ledger_days` keys, `?5`..`?6` and `?7`..`?8` the whole UTC hours before and after them as
/// `ledger_hours` keys, and the minutes left summed from the entries: `[?1, ?9)`, `[?10, ?11)`,
/// `[?12, ?13)` and `[?14, ?2)`, where `?9`..`?10` and `?13`..`?14` are the hours and
/// `?11`..`?12` the days as instants.
pub(crate) fn money_by_type_sql() -> String {
    let scan = |lo: u8, hi: u8| {
        format!(
            "SELECT CASE WHEN e.kind IN ('payment', 'deposit', 'payout') THEN e.kind ELSE 'charge' END AS entry, \
             CASE WHEN e.kind IN ('payment', 'deposit', 'payout') THEN coalesce(e.method, '') ELSE e.kind END AS k, \
             1 AS n, CASE WHEN e.kind IN ('payment', 'deposit') THEN -e.amount ELSE e.amount END AS amount \
             FROM ledger_entries e WHERE e.at >= ?{lo} AND e.at < ?{hi} AND e.kind NOT IN ('waiver', 'write_off', 'refund')"
        )
    };
    let kept = |table: &str, key: &str, lo: u8, hi: u8| {
        format!(
            "SELECT CASE WHEN h.kind IN ('payment', 'deposit', 'payout') THEN h.kind ELSE 'charge' END AS entry, \
             CASE WHEN h.kind IN ('payment', 'deposit', 'payout') THEN h.method ELSE h.kind END AS k, \
             h.entries AS n, CASE WHEN h.kind IN ('payment', 'deposit') THEN -h.amount ELSE h.amount END AS amount \
             FROM {table} h WHERE h.{key} >= ?{lo} AND h.{key} < ?{hi} AND h.kind NOT IN ('waiver', 'write_off', 'refund')"
        )
    };
    format!(
        "SELECT g.entry, g.k, CAST(sum(g.n) AS BIGINT), CAST(sum(g.amount) AS BIGINT) FROM (\
         {} UNION ALL {} UNION ALL {} UNION ALL {} UNION ALL {} UNION ALL {} UNION ALL {}\
         ) g GROUP BY g.entry, g.k HAVING sum(g.n) <> 0 \
         ORDER BY CASE g.entry WHEN 'payment' THEN 0 WHEN 'deposit' THEN 1 WHEN 'payout' THEN 2 ELSE 3 END, g.k",
        kept("ledger_days", "day", 3, 4),
        kept("ledger_hours", "hour", 5, 6),
        kept("ledger_hours", "hour", 7, 8),
        scan(1, 9),
        scan(10, 11),
        scan(12, 13),
        scan(14, 2),
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

    #[test]
    fn money_days_then_hours_then_minutes_each_name_their_request() {
        // Kolkata: each local day is 18:30 to 18:30 UTC, so no whole UTC day, 23 whole hours,
        // and half hours at both edges; a UTC day is one whole day.
        let kolkata = [at("2026-11-01T18:30:00Z"), at("2026-11-02T18:30:00Z")];
        let utc = [at("2026-11-03T00:00:00Z"), at("2026-11-04T00:00:00Z")];
        let s = money_split([(kolkata[0], kolkata[1]), (utc[0], utc[1])]);
        assert_eq!(s.days, [(1, utc[0], utc[1])]);
        assert_eq!(s.hours, [(0, at("2026-11-01T19:00:00Z"), at("2026-11-02T18:00:00Z"))]);
        assert_eq!(s.edges, [(0, kolkata[0], at("2026-11-01T19:00:00Z")), (0, at("2026-11-02T18:00:00Z"), kolkata[1])]);
        let m = money_span((kolkata[0], at("2026-11-04T18:30:00Z")));
        assert_eq!(m.days, (at("2026-11-02T00:00:00Z"), at("2026-11-04T00:00:00Z")));
        assert_eq!(m.hours_before, (at("2026-11-01T19:00:00Z"), at("2026-11-02T00:00:00Z")));
        assert_eq!(m.hours_after, (at("2026-11-04T00:00:00Z"), at("2026-11-04T18:00:00Z")));
    }

    #[test]
    fn a_title_span_lists_the_months_it_touches_and_counts_its_edges() {
        let year = title_span((at("2025-12-31T18:30:00Z"), at("2026-12-31T18:30:00Z")));
        assert_eq!(year.months.len(), 13);
        assert_eq!(year.months[0], at("2025-12-01T00:00:00Z"));
        assert_eq!(year.whole, (at("2026-01-01T00:00:00Z"), at("2026-12-01T00:00:00Z")));
        assert_eq!(year.edges[1], (at("2026-12-01T00:00:00Z"), at("2026-12-31T18:30:00Z")));
        let aligned = title_span((at("2026-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z")));
        assert_eq!((aligned.months.len(), aligned.whole), (12, (aligned.months[0], at("2027-01-01T00:00:00Z"))));
        assert_eq!(aligned.edges, [(aligned.whole.0, aligned.whole.0), (aligned.whole.1, aligned.whole.1)]);
        let inside = title_span((at("2026-03-03T05:00:00Z"), at("2026-03-20T05:00:00Z")));
        assert_eq!(inside.months, [at("2026-03-01T00:00:00Z")]);
        assert_eq!(inside.edges[0], (at("2026-03-03T05:00:00Z"), at("2026-03-20T05:00:00Z")));
        assert!(inside.edges[1].0 == inside.edges[1].1);
        assert!(title_span((at("2026-03-03T05:00:00Z"), at("2026-03-03T05:00:00Z"))).months.is_empty());
    }

    /// Month lists and exact counts from a matrix: `counts[m][b]` checkouts of title `b` in
    /// month `m`, of which `inside[m][b]` fall in the span (all of them in a whole month).
    struct Matrix {
        counts: Vec<Vec<i64>>,
        inside: Vec<Vec<i64>>,
        reads: usize,
        counted: usize,
    }

    impl TitleLists for Matrix {
        fn ranked(&mut self, list: &TitleList, after: (i64, i64), n: usize) -> Result<Vec<(i64, i64)>> {
            self.reads += 1;
            let m = match list {
                TitleList::Month(month) => month.timestamp() as usize,
                other => panic!("the matrix holds months only: {other:?}"),
            };
            let mut list: Vec<(i64, i64)> =
                self.counts[m].iter().enumerate().map(|(b, n)| (b as i64, *n)).filter(|(_, n)| *n > 0).collect();
            list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            Ok(list.into_iter().filter(|(b, c)| *c < after.0 || (*c == after.0 && *b > after.1)).take(n).collect())
        }

        fn exact(&mut self, bibs: &[i64]) -> Result<Vec<(i64, i64)>> {
            self.counted += bibs.len();
            Ok(bibs.iter().map(|b| (*b, self.inside.iter().map(|m| m[*b as usize]).sum())).collect())
        }
    }

    fn brute(inside: &[Vec<i64>], limit: usize) -> Vec<(i64, i64)> {
        let titles = inside.first().map_or(0, Vec::len);
        let mut all: Vec<(i64, i64)> =
            (0..titles).map(|b| (b as i64, inside.iter().map(|m| m[b]).sum::<i64>())).filter(|(_, n)| *n > 0).collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        all.truncate(limit);
        all
    }

    fn month(m: usize) -> DateTime<Utc> {
        DateTime::from_timestamp(m as i64, 0).unwrap_or_default()
    }

    proptest::proptest! {
        #[test]
        fn the_threshold_merge_equals_counting_every_title(
            months in 1..14usize,
            titles in 1..120usize,
            seed in proptest::collection::vec(0..1000u32, 14 * 120 * 2),
            skew in 1..4u32,
            limit in 0..30usize,
        ) {
            // Title b is lent about 1 / (b + 1)^skew as often as the first; the first and last
            // months are edges where only some of a title's checkouts fall in the span.
            let mut counts = vec![vec![0i64; titles]; months];
            let mut inside = vec![vec![0i64; titles]; months];
            for m in 0..months {
                for b in 0..titles {
                    let r = i64::from(seed[(m * 120 + b) * 2]);
                    let n = r * 40 / ((b as i64 + 1).pow(skew) * 1000);
                    counts[m][b] = n;
                    let edge = m == 0 || m + 1 == months;
                    inside[m][b] = if edge { n * i64::from(seed[(m * 120 + b) * 2 + 1] % 4) / 3 } else { n };
                }
            }
            let lists: Vec<TitleList> = (0..months).map(|m| TitleList::Month(month(m))).collect();
            let mut matrix = Matrix { counts, inside: inside.clone(), reads: 0, counted: 0 };
            let got = rank_titles(&mut matrix, &lists, limit).expect("rank");
            proptest::prop_assert_eq!(got, Some(brute(&inside, limit)));
        }
    }

    /// How many times the sums count an instant: once per month list holding it, once per
    /// added piece, less once per subtracted piece.
    fn times_counted(sums: &TitleSums, t: DateTime<Utc>) -> i64 {
        let inside = |(lo, hi): &(DateTime<Utc>, DateTime<Utc>)| i64::from(*lo <= t && t < *hi);
        sums.months.iter().map(|m| inside(&(*m, next_month(*m)))).sum::<i64>()
            + sums.add.iter().map(inside).sum::<i64>()
            - sums.subtract.iter().map(inside).sum::<i64>()
    }

    proptest::proptest! {
        #[test]
        fn the_sums_count_every_instant_of_the_span_once_and_no_other(
            start in 0..(800 * 24 * 60i64),
            length in 0..(367 * 24 * 60i64),
            probes in proptest::collection::vec(-(40 * 24 * 60i64)..(420 * 24 * 60i64), 64),
        ) {
            let base = at("2025-01-01T00:00:00Z");
            let span = (base + TimeDelta::minutes(start), base + TimeDelta::minutes(start + length));
            let sums = title_sums(span);
            let mut lists = sums.months.clone();
            lists.sort();
            lists.dedup();
            proptest::prop_assert_eq!(lists.len(), sums.months.len(), "a month read twice");
            let edges = [span.0, span.1, span.0 - TimeDelta::seconds(1), span.1 - TimeDelta::seconds(1)];
            for t in probes.iter().map(|p| span.0 + TimeDelta::minutes(*p)).chain(edges) {
                let expected = i64::from(span.0 <= t && t < span.1);
                proptest::prop_assert_eq!(times_counted(&sums, t), expected, "{:?} in {:?}", t, span);
            }
            for (lo, hi) in sums.add.iter().chain(&sums.subtract) {
                proptest::prop_assert!(lo < hi && first_of_month(*lo) == first_of_month(*hi - TimeDelta::seconds(1)));
            }
        }

        #[test]
        fn the_tally_ranks_like_sorting_every_title(
            adds in proptest::collection::vec((0..300i64, -2..6i64), 0..600),
            limit in 0..40usize,
        ) {
            // Ids from 280 on are written far apart, past the vector's range, and one negative.
            let id = |b: i64| match b {
                299 => -7,
                b if b >= 280 => (DENSE_IDS as i64) * (b - 279),
                b => b,
            };
            let mut tally = Tally::default();
            let mut totals = vec![0i64; 300];
            for (bib, n) in &adds {
                tally.add(id(*bib), *n);
                totals[*bib as usize] += n;
            }
            let mut expected: Vec<(i64, i64)> = (0..300).map(|b| (id(b), totals[b as usize])).filter(|(_, n)| *n > 0).collect();
            expected.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            expected.truncate(limit);
            proptest::prop_assert_eq!(tally.top(limit), expected);
        }
    }

    #[test]
    fn most_of_a_month_is_its_list_less_the_rest() {
        // A Kolkata year: Dec 31 18:30 UTC to Dec 31 18:30 UTC.
        let sums = title_sums((at("2025-12-31T18:30:00Z"), at("2026-12-31T18:30:00Z")));
        assert_eq!(sums.months.len(), 12);
        assert_eq!(sums.add, [(at("2025-12-31T18:30:00Z"), at("2026-01-01T00:00:00Z"))]);
        assert_eq!(sums.subtract, [(at("2026-12-31T18:30:00Z"), at("2027-01-01T00:00:00Z"))]);
        // Ten days across a month's end: two short pieces of loans, no list.
        let short = title_sums((at("2026-03-25T00:00:00Z"), at("2026-04-04T00:00:00Z")));
        assert!(short.months.is_empty() && short.subtract.is_empty());
        assert_eq!(short.add.len(), 2);
    }

    #[test]
    fn a_skewed_year_settles_in_the_first_round() {
        let (months, titles) = (12, 5000);
        let counts: Vec<Vec<i64>> =
            (0..months).map(|m| (0..titles).map(|b| (10_000 / (b as i64 + 1) + m as i64) / 10).collect()).collect();
        let lists: Vec<TitleList> = (0..months).map(|m| TitleList::Month(month(m))).collect();
        let mut matrix = Matrix { inside: counts.clone(), counts, reads: 0, counted: 0 };
        let got = rank_titles(&mut matrix, &lists, 25).expect("rank");
        assert_eq!(got, Some(brute(&matrix.inside, 25)));
        assert_eq!(matrix.reads, months, "one read of each month's list");
    }

    #[test]
    fn loans_spread_evenly_give_up_to_the_sums_within_the_budget() {
        // Every title lent in two months of the twelve: the threshold (one for each list still
        // open) never drops to the last place's two.
        let (months, titles) = (12, 3 * TITLE_BUDGET);
        let counts: Vec<Vec<i64>> = (0..months)
            .map(|m| (0..titles).map(|b| i64::from(b % months == m || (b + 1) % months == m)).collect())
            .collect();
        let lists: Vec<TitleList> = (0..months).map(|m| TitleList::Month(month(m))).collect();
        let mut matrix = Matrix { inside: counts.clone(), counts, reads: 0, counted: 0 };
        assert_eq!(rank_titles(&mut matrix, &lists, 25).expect("rank"), None);
        assert!(matrix.counted > 0 && matrix.counted <= TITLE_BUDGET, "{} counted", matrix.counted);
    }

    #[test]
    fn a_tie_at_the_threshold_settles_when_every_unread_title_has_a_higher_id() {
        // Every title lent as often, in every list (or in one list, a year's): those read first,
        // the lowest ids, are the answer at the first read.
        for months in [1, 12] {
            let counts = vec![vec![2i64; 5000]; months];
            let lists: Vec<TitleList> = (0..months).map(|m| TitleList::Month(month(m))).collect();
            let mut matrix = Matrix { inside: counts.clone(), counts, reads: 0, counted: 0 };
            let got = rank_titles(&mut matrix, &lists, 25).expect("rank");
            assert_eq!(got, Some(brute(&matrix.inside, 25)));
            assert_eq!(matrix.reads, months, "one read of each list");
        }
    }

    #[test]
    fn a_year_touched_in_all_its_months_is_one_list_and_short_edges_are_loans() {
        let lists = |from: &str, to: &str| title_lists((at(from), at(to)));
        let year = at("2026-01-01T00:00:00Z");
        assert_eq!(lists("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"), [TitleList::Year(year)]);
        // A Kolkata year: five and a half hours of the last UTC year, then most of this one.
        assert_eq!(
            lists("2025-12-31T18:30:00Z", "2026-12-31T18:30:00Z"),
            [TitleList::Loans(at("2025-12-31T18:30:00Z"), year), TitleList::Year(year)]
        );
        // A New York year ends five hours into the next UTC year.
        assert_eq!(
            lists("2026-01-01T05:00:00Z", "2027-01-01T05:00:00Z"),
            [TitleList::Year(year), TitleList::Loans(at("2027-01-01T00:00:00Z"), at("2027-01-01T05:00:00Z"))]
        );
        // Across a year's end, no year whole: months; a piece of a month of a day or more is its list.
        assert_eq!(
            lists("2025-11-15T00:00:00Z", "2026-02-01T00:00:00Z"),
            [
                TitleList::Month(at("2025-11-01T00:00:00Z")),
                TitleList::Month(at("2025-12-01T00:00:00Z")),
                TitleList::Month(year)
            ]
        );
        assert!(lists("2026-03-03T05:00:00Z", "2026-03-03T05:00:00Z").is_empty());
    }
}
