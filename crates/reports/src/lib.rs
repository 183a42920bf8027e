//! The staff reports as pure logic: which reports there are ([`REPORTS`]), the rows storage's
//! aggregate queries answer with, the table every report becomes ([`Table`]: labelled columns of
//! exact values, counts as integers and money as [`catalog::Money`]), the date range a report
//! covers in the library's time zone ([`Period`]), and the two ways a table leaves Shelfmark:
//! CSV ([`csv`], RFC 4180) and an SVG chart ([`chart`]). No I/O: storage counts, the web edge
//! serves, this crate only shapes.

pub mod chart;
pub mod csv;
mod period;
mod tables;

/// The time-zone type a [`Period`] is counted in.
pub use chrono_tz::Tz;
pub use period::{Period, PeriodError, MAX_DAYS};
pub use tables::*;

use catalog::Money;
use std::fmt;

/// One cell of a report: exact, never a float.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Count(i64),
    Money(Money),
    Date(chrono::NaiveDate),
    /// `numerator / denominator`, shown with two decimals (holds per copy); a zero
    /// denominator shows as "no copies".
    Ratio {
        numerator: i64,
        denominator: i64,
    },
}

impl Value {
    /// The number a chart draws for this cell: counts as themselves, money in minor units.
    pub fn magnitude(&self) -> Option<i64> {
        match self {
            Value::Count(n) => Some(*n),
            Value::Money(m) => Some(m.minor()),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Text(s) => f.write_str(s),
            Value::Count(n) => write!(f, "{n}"),
            Value::Money(m) => write!(f, "{m}"),
            Value::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Value::Ratio { numerator, denominator } => match ratio_hundredths(*numerator, *denominator) {
                Some(h) => write!(f, "{}.{:02}", h / 100, h % 100),
                None => f.write_str("no copies"),
            },
        }
    }
}

/// `numerator / denominator` in hundredths, rounded half up; `None` for a zero denominator.
/// Integer arithmetic, so 2/3 is always "0.67" whatever the platform.
pub fn ratio_hundredths(numerator: i64, denominator: i64) -> Option<i64> {
    if denominator <= 0 {
        return None;
    }
    let n = i128::from(numerator) * 100;
    let d = i128::from(denominator);
    i64::try_from((2 * n + d) / (2 * d)).ok()
}

/// A report's result: column labels and rows of values, one value per column.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    pub fn new(columns: &[&str]) -> Table {
        Table { columns: columns.iter().map(|c| c.to_string()).collect(), rows: Vec::new() }
    }

    pub fn push(&mut self, row: Vec<Value>) {
        debug_assert_eq!(row.len(), self.columns.len());
        self.rows.push(row);
    }

    /// The chart's data: each row's first cell as the label, column `column`'s magnitude as the
    /// value (rows without one are left out).
    pub fn series(&self, column: usize) -> Vec<chart::Point> {
        self.rows
            .iter()
            .filter_map(|row| {
                let value = row.get(column)?;
                let magnitude = value.magnitude()?;
                Some(chart::Point { label: row.first()?.to_string(), value: magnitude, shown: value.to_string() })
            })
            .collect()
    }
}

/// A row of the table.
impl std::ops::Index<usize> for Table {
    type Output = Vec<Value>;
    fn index(&self, row: usize) -> &Vec<Value> {
        &self.rows[row]
    }
}

/// How a report is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    /// One column per day, in date order.
    Days,
    /// One horizontal bar per category.
    Bars,
    /// A list only (the overdue list).
    None,
}

/// What a report covers besides the branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Activity between two dates.
    Range,
    /// The state of things now (the collection, holds, overdue loans): the dates do not apply.
    Now,
}

/// A report the staff can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Definition {
    /// Its name in URLs: `/staff/reports/{name}`.
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub scope: Scope,
    /// Whether a branch narrows it (the ledger records no branch, so money reports cover the
    /// whole library).
    pub by_branch: bool,
    pub chart: ChartKind,
    /// The column the chart draws.
    pub chart_column: usize,
}

pub const CIRCULATION_BY_DAY: &str = "circulation-by-day";
pub const CIRCULATION_BY_BRANCH: &str = "circulation-by-branch";
pub const CIRCULATION_BY_ITEM_TYPE: &str = "circulation-by-item-type";
pub const CIRCULATION_BY_PATRON_CATEGORY: &str = "circulation-by-patron-category";
pub const TOP_TITLES: &str = "top-titles";
pub const OVERDUE: &str = "overdue";
pub const HOLDS_RATIO: &str = "holds-ratio";
pub const COLLECTION_DEWEY: &str = "collection-dewey";
pub const COLLECTION_LC: &str = "collection-lc";
pub const REGISTRATIONS_BY_DAY: &str = "registrations-by-day";
pub const REGISTRATIONS_BY_CATEGORY: &str = "registrations-by-category";
pub const MONEY_BY_DAY: &str = "money-by-day";
pub const MONEY_BY_TYPE: &str = "money-by-type";

const fn def(
    name: &'static str,
    title: &'static str,
    description: &'static str,
    scope: Scope,
    by_branch: bool,
    chart: ChartKind,
    chart_column: usize,
) -> Definition {
    Definition { name, title, description, scope, by_branch, chart, chart_column }
}

/// Every report, in the order the staff see them.
pub const REPORTS: &[Definition] = &[
    def(
        CIRCULATION_BY_DAY,
        "Circulation by day",
        "Checkouts, renewals and check-ins on each day of the range.",
        Scope::Range,
        true,
        ChartKind::Days,
        1,
    ),
    def(
        CIRCULATION_BY_BRANCH,
        "Circulation by branch",
        "Checkouts, renewals and check-ins at each branch.",
        Scope::Range,
        true,
        ChartKind::Bars,
        1,
    ),
    def(
        CIRCULATION_BY_ITEM_TYPE,
        "Circulation by item type",
        "Checkouts, renewals and check-ins of each item type.",
        Scope::Range,
        true,
        ChartKind::Bars,
        1,
    ),
    def(
        CIRCULATION_BY_PATRON_CATEGORY,
        "Circulation by patron category",
        "Checkouts, renewals and check-ins by the borrowers' categories (loans already anonymised \
         count under the anonymous patron's category).",
        Scope::Range,
        true,
        ChartKind::Bars,
        1,
    ),
    def(
        TOP_TITLES,
        "Top titles",
        "The titles checked out most often in the range.",
        Scope::Range,
        true,
        ChartKind::Bars,
        2,
    ),
    def(
        OVERDUE,
        "Overdue loans",
        "Loans past their due date now, the longest overdue first.",
        Scope::Now,
        true,
        ChartKind::None,
        0,
    ),
    def(
        HOLDS_RATIO,
        "Holds to copies",
        "Titles whose open holds per copy are above a threshold: candidates for more copies.",
        Scope::Now,
        true,
        ChartKind::Bars,
        2,
    ),
    def(
        COLLECTION_DEWEY,
        "Collection by Dewey hundreds",
        "Items by the Dewey class (hundreds) of the call number they are shelved under.",
        Scope::Now,
        true,
        ChartKind::Bars,
        1,
    ),
    def(
        COLLECTION_LC,
        "Collection by LC class",
        "Items by the Library of Congress class letters of the call number they are shelved under.",
        Scope::Now,
        true,
        ChartKind::Bars,
        1,
    ),
    def(
        REGISTRATIONS_BY_DAY,
        "New registrations by day",
        "Patrons registered on each day of the range.",
        Scope::Range,
        true,
        ChartKind::Days,
        1,
    ),
    def(
        REGISTRATIONS_BY_CATEGORY,
        "New registrations by category",
        "Patrons registered in the range, by patron category.",
        Scope::Range,
        true,
        ChartKind::Bars,
        1,
    ),
    def(
        MONEY_BY_DAY,
        "Money collected by day",
        "Money taken on each day (cash and card), less credit paid back out.",
        Scope::Range,
        false,
        ChartKind::Days,
        3,
    ),
    def(
        MONEY_BY_TYPE,
        "Money by type",
        "Money taken and paid out by method, and charges by kind, in the range.",
        Scope::Range,
        false,
        ChartKind::Bars,
        1,
    ),
];

/// The report called `name`.
pub fn find(name: &str) -> Option<&'static Definition> {
    REPORTS.iter().find(|d| d.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_names_are_unique_and_url_safe() {
        let mut names: Vec<_> = REPORTS.iter().map(|d| d.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), REPORTS.len());
        for d in REPORTS {
            assert!(d.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'), "{}", d.name);
            assert_eq!(find(d.name), Some(d));
        }
        assert_eq!(find("nope"), None);
    }

    #[test]
    fn ratios_are_exact_and_round_half_up() {
        let shown = |n, d| Value::Ratio { numerator: n, denominator: d }.to_string();
        assert_eq!(shown(2, 3), "0.67");
        assert_eq!(shown(1, 8), "0.13");
        assert_eq!(shown(5, 2), "2.50");
        assert_eq!(shown(7, 0), "no copies");
        assert_eq!(Value::Money(Money::from_minor(-150)).to_string(), Money::from_minor(-150).to_string());
    }

    #[test]
    fn series_takes_the_first_cell_as_label_and_skips_text() {
        let mut t = Table::new(&["Branch", "Checkouts", "Note"]);
        t.push(vec![Value::Text("Main".into()), Value::Count(3), Value::Text("x".into())]);
        t.push(vec![Value::Text("East".into()), Value::Money(Money::from_minor(250)), Value::Text("y".into())]);
        let s = t.series(1);
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].label.as_str(), s[0].value), ("Main", 3));
        assert_eq!((s[1].value, s[1].shown.as_str()), (250, Money::from_minor(250).to_string().as_str()));
        assert!(t.series(2).is_empty());
    }
}
