//! What storage's aggregate queries answer (one row type per report), and how each becomes a
//! [`Table`]. Storage counts in SQL; these only label.

use crate::{Period, Table, Value};
use catalog::Money;
use chrono::{DateTime, Utc};

/// Circulation counts: of one day, or of one branch, item type or patron category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CirculationCounts {
    pub checkouts: i64,
    pub renewals: i64,
    pub check_ins: i64,
}

/// Counts of one group (a branch, item type, patron category, class): its code and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group<T> {
    pub code: String,
    /// The name the library gave the code, when it has one.
    pub name: Option<String>,
    pub counts: T,
}

impl<T> Group<T> {
    fn label(&self) -> String {
        match &self.name {
            Some(name) if !name.is_empty() && name != &self.code => format!("{name} ({})", self.code),
            _ => self.code.clone(),
        }
    }
}

/// A title and how often its items were checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitleCount {
    pub bib_id: i64,
    pub title: String,
    pub checkouts: i64,
}

/// A loan past its due date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueLoan {
    pub loan_id: i64,
    pub due_at: DateTime<Utc>,
    pub barcode: String,
    pub title: String,
    pub card_number: String,
    pub patron_name: String,
    pub checkout_branch: String,
}

/// A title's open holds against its copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldsRatio {
    pub bib_id: i64,
    pub title: String,
    pub holds: i64,
    pub copies: i64,
}

/// Money taken on one day: payments and deposits by method, and credit paid back out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MoneyDay {
    pub cash: Money,
    pub card: Money,
    pub paid_out: Money,
}

impl MoneyDay {
    pub fn net(&self) -> Money {
        Money::from_minor(self.cash.minor() + self.card.minor() - self.paid_out.minor())
    }
}

/// A ledger total of one kind: `payment` (by method), `payout` (by method) or a charge kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoneyKind {
    /// `payment`, `deposit` (an overpayment kept as credit), `payout` or `charge`.
    pub entry: String,
    /// The method (cash, card) of a payment or payout; the charge's kind (overdue, lost, ...).
    pub kind: String,
    pub entries: i64,
    /// Positive: money taken for payments and deposits, owed for charges, handed back for payouts.
    pub amount: Money,
}

/// The threshold of the holds-to-copies report: more than `holds` holds per `copies` copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold {
    pub holds: i64,
    pub copies: i64,
}

impl Threshold {
    /// Reads `3`, `2.5` or `0.75` as a ratio of holds per copy (two decimals at most).
    pub fn parse(raw: &str) -> Option<Threshold> {
        let money = Money::parse(raw).ok().filter(|m| m.minor() >= 0 && !raw.contains(['$', '£', '€', ',']))?;
        Some(Threshold { holds: money.minor(), copies: 100 })
    }
}

impl std::fmt::Display for Threshold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", Value::Ratio { numerator: self.holds, denominator: self.copies })
    }
}

const CIRCULATION: [&str; 3] = ["Checkouts", "Renewals", "Check-ins"];

fn counts(c: &CirculationCounts) -> [Value; 3] {
    [Value::Count(c.checkouts), Value::Count(c.renewals), Value::Count(c.check_ins)]
}

/// One row per day of the period (a day without activity shows zeros).
pub fn circulation_by_day(period: &Period, days: &[CirculationCounts]) -> Table {
    let mut t = Table::new(&["Day", CIRCULATION[0], CIRCULATION[1], CIRCULATION[2]]);
    for (day, c) in period.days().zip(days.iter().chain(std::iter::repeat(&CirculationCounts::default()))) {
        let mut row = vec![Value::Date(day)];
        row.extend(counts(c));
        t.push(row);
    }
    t
}

/// One row per group, as storage ordered them, and a total.
pub fn circulation_by(group_label: &str, groups: &[Group<CirculationCounts>]) -> Table {
    let mut t = Table::new(&[group_label, CIRCULATION[0], CIRCULATION[1], CIRCULATION[2]]);
    for g in groups {
        let mut row = vec![Value::Text(g.label())];
        row.extend(counts(&g.counts));
        t.push(row);
    }
    t
}

pub fn top_titles(titles: &[TitleCount]) -> Table {
    let mut t = Table::new(&["Title", "Record", "Checkouts"]);
    for title in titles {
        t.push(vec![Value::Text(title.title.clone()), Value::Count(title.bib_id), Value::Count(title.checkouts)]);
    }
    t
}

/// The overdue loans with their days overdue at `now`, the due time shown by `local`.
pub fn overdue(loans: &[OverdueLoan], now: DateTime<Utc>, local: impl Fn(DateTime<Utc>) -> String) -> Table {
    let mut t = Table::new(&["Due", "Days overdue", "Barcode", "Title", "Patron", "Card", "Branch"]);
    for l in loans {
        t.push(vec![
            Value::Text(local(l.due_at)),
            Value::Count((now - l.due_at).num_days().max(0)),
            Value::Text(l.barcode.clone()),
            Value::Text(l.title.clone()),
            Value::Text(l.patron_name.clone()),
            Value::Text(l.card_number.clone()),
            Value::Text(l.checkout_branch.clone()),
        ]);
    }
    t
}

pub fn holds_ratio(titles: &[HoldsRatio]) -> Table {
    let mut t = Table::new(&["Title", "Record", "Holds per copy", "Open holds", "Copies"]);
    for h in titles {
        t.push(vec![
            Value::Text(h.title.clone()),
            Value::Count(h.bib_id),
            Value::Ratio { numerator: h.holds, denominator: h.copies },
            Value::Count(h.holds),
            Value::Count(h.copies),
        ]);
    }
    t
}

/// Hundreds by their Dewey ranges (`500-599`); LC classes by their letters.
pub fn collection(class_label: &str, classes: &[Group<i64>]) -> Table {
    let mut t = Table::new(&[class_label, "Items"]);
    for c in classes {
        t.push(vec![Value::Text(c.label()), Value::Count(c.counts)]);
    }
    t
}

pub fn registrations_by_day(period: &Period, days: &[i64]) -> Table {
    let mut t = Table::new(&["Day", "Registrations"]);
    for (day, n) in period.days().zip(days.iter().chain(std::iter::repeat(&0))) {
        t.push(vec![Value::Date(day), Value::Count(*n)]);
    }
    t
}

pub fn registrations_by_category(categories: &[Group<i64>]) -> Table {
    let mut t = Table::new(&["Patron category", "Registrations"]);
    for c in categories {
        t.push(vec![Value::Text(c.label()), Value::Count(c.counts)]);
    }
    t
}

pub fn money_by_day(period: &Period, days: &[MoneyDay]) -> Table {
    let mut t = Table::new(&["Day", "Cash", "Card", "Collected", "Paid out", "Net"]);
    for (day, m) in period.days().zip(days.iter().chain(std::iter::repeat(&MoneyDay::default()))) {
        t.push(vec![
            Value::Date(day),
            Value::Money(m.cash),
            Value::Money(m.card),
            Value::Money(Money::from_minor(m.cash.minor() + m.card.minor())),
            Value::Money(m.paid_out),
            Value::Money(m.net()),
        ]);
    }
    t
}

pub fn money_by_type(kinds: &[MoneyKind]) -> Table {
    let mut t = Table::new(&["Type", "Amount", "Entries"]);
    for k in kinds {
        let label = match k.entry.as_str() {
            "payment" => format!("Payments: {}", k.kind),
            "deposit" => format!("Deposits kept as credit: {}", k.kind),
            "payout" => format!("Credit paid out: {}", k.kind),
            _ => format!("Charges: {}", k.kind.replace('_', " ")),
        };
        t.push(vec![Value::Text(label), Value::Money(k.amount), Value::Count(k.entries)]);
    }
    t
}

/// The Dewey hundreds a class digit stands for: `5` is `500-599`.
pub fn dewey_hundreds(digit: char) -> String {
    format!("{digit}00-{digit}99")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn days_without_rows_are_zero_and_every_day_has_a_row() {
        let from = NaiveDate::from_ymd_opt(2026, 1, 30).expect("date");
        let to = NaiveDate::from_ymd_opt(2026, 2, 2).expect("date");
        let p = Period::new(from, to, chrono_tz::UTC).expect("period");
        let t = circulation_by_day(&p, &[CirculationCounts { checkouts: 2, renewals: 1, check_ins: 0 }]);
        assert_eq!(t.rows.len(), 4);
        assert_eq!(t.rows[0][1], Value::Count(2));
        assert_eq!(t.rows[3][0].to_string(), "2026-02-02");
        assert_eq!(t.rows[3][1], Value::Count(0));
        let m = money_by_day(
            &p,
            &[MoneyDay { cash: Money::from_minor(150), card: Money::from_minor(275), paid_out: Money::from_minor(25) }],
        );
        assert_eq!(m.rows[0][3].to_string(), "4.25");
        assert_eq!(m.rows[0][5].to_string(), "4.00");
    }

    #[test]
    fn groups_are_labelled_by_name_and_code() {
        let g = Group { code: "MAIN".to_string(), name: Some("Main Library".to_string()), counts: 3 };
        assert_eq!(collection("Branch", &[g])[0][0].to_string(), "Main Library (MAIN)");
        let g = Group { code: "BK".to_string(), name: None, counts: CirculationCounts::default() };
        assert_eq!(circulation_by("Item type", &[g]).rows[0][0].to_string(), "BK");
    }

    #[test]
    fn thresholds_are_decimal_ratios() {
        assert_eq!(Threshold::parse("2.5"), Some(Threshold { holds: 250, copies: 100 }));
        assert_eq!(Threshold::parse("3"), Some(Threshold { holds: 300, copies: 100 }));
        assert_eq!(Threshold::parse("-1"), None);
        assert_eq!(Threshold::parse("lots"), None);
        assert_eq!(Threshold::parse("$2"), None);
        assert_eq!(Threshold { holds: 150, copies: 100 }.to_string(), "1.50");
    }
}
