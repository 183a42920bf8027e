//! Circulation settings as the library writes them (the `[circulation]` table of
//! `shelfmark.toml`, or JSON): the rule matrix, whose branch governs, the blocking limits, the
//! time zone and each branch's opening hours and closed days. Everything is text a librarian
//! reads ("21 days", "0.25 per day", "none", "09:00-20:00"), checked once at start-up into the
//! `circulation` crate's types, with an error that names the row and field.

use catalog::{Code, Money};
use chrono::{NaiveDate, NaiveTime};
use chrono_tz::Tz;
use circulation::{
    Calendar, CirculationPolicy, ClosedDay, FineRate, FoundPolicy, GoverningBranch, Limit, OpeningHours, Period,
    RuleKey, RuleMatrix, RuleRow, RuleSettings, Scope, TimeUnit,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CirculationSettings {
    /// An IANA zone (`America/Chicago`): due dates and opening hours are local facts.
    pub time_zone: String,
    /// `checkout` (the desk's branch), `item_home` or `patron_home`.
    pub governing_branch: String,
    /// Fines above this block borrowing; `none` for no limit.
    pub fine_limit: String,
    /// More overdue loans than this block borrowing; absent for no limit.
    #[serde(default)]
    pub max_overdues: Option<u32>,
    /// The library's usual week; a branch may have its own.
    pub hours: Week,
    /// Closed days: `MM-DD` every year, `YYYY-MM-DD` once.
    #[serde(default)]
    pub closed: Vec<String>,
    #[serde(default)]
    pub branches: BTreeMap<String, BranchCalendar>,
    pub rules: Vec<RuleSettingsText>,
    /// When a lost item comes back, reverse its processing fee too (the replacement charge is
    /// always reversed: the unpaid part waived, the paid part refunded).
    #[serde(default)]
    pub refund_processing_fee_when_found: bool,
    /// The replacement charged when a copy without a price of its own is declared lost;
    /// absent: such a copy costs only the processing fee.
    #[serde(default)]
    pub default_replacement_price: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BranchCalendar {
    #[serde(default)]
    pub hours: Option<Week>,
    /// Added to the library's closed days.
    #[serde(default)]
    pub closed: Vec<String>,
}

/// Opening hours per weekday: `09:00-20:00` or `closed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Week {
    pub mon: String,
    pub tue: String,
    pub wed: String,
    pub thu: String,
    pub fri: String,
    pub sat: String,
    pub sun: String,
}

/// One row of the rule matrix; every field but the key may be left out (blank: it falls back
/// to the next less specific row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RuleSettingsText {
    pub branch: String,
    pub category: String,
    pub item_type: String,
    pub loan_period: Option<String>,
    pub max_loans: Option<u32>,
    pub renewals_allowed: Option<u32>,
    pub renewal_period: Option<String>,
    pub fine: Option<String>,
    pub grace_period: Option<String>,
    pub max_fine: Option<String>,
    pub lost_after_days: Option<String>,
    pub lost_processing_fee: Option<String>,
    pub hold_allowed: Option<bool>,
    pub max_holds: Option<u32>,
    pub hold_shelf_days: Option<u32>,
    pub hard_due_date: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("circulation settings, {place}: {message}")]
pub struct SettingsError {
    pub place: String,
    pub message: String,
}

fn err(place: impl Into<String>, message: impl Into<String>) -> SettingsError {
    SettingsError { place: place.into(), message: message.into() }
}

impl Default for CirculationSettings {
    /// A public library's usual settings, for a library that has not written its own: three
    /// weeks, two renewals, 0.25 a day capped at 5.00, holds allowed, open six days and Sunday
    /// afternoons.
    fn default() -> Self {
        let day = |s: &str| s.to_string();
        CirculationSettings {
            time_zone: "UTC".into(),
            governing_branch: "checkout".into(),
            fine_limit: "10.00".into(),
            max_overdues: Some(10),
            hours: Week {
                mon: day("09:00-20:00"),
                tue: day("09:00-20:00"),
                wed: day("09:00-20:00"),
                thu: day("09:00-20:00"),
                fri: day("09:00-18:00"),
                sat: day("10:00-17:00"),
                sun: day("13:00-17:00"),
            },
            closed: vec!["01-01".into(), "12-25".into()],
            branches: BTreeMap::new(),
            rules: vec![RuleSettingsText {
                branch: "*".into(),
                category: "*".into(),
                item_type: "*".into(),
                loan_period: Some("21 days".into()),
                max_loans: Some(50),
                renewals_allowed: Some(2),
                renewal_period: Some("21 days".into()),
                fine: Some("0.25 per day".into()),
                grace_period: Some("0 days".into()),
                max_fine: Some("5.00".into()),
                lost_after_days: Some("60".into()),
                lost_processing_fee: Some("5.00".into()),
                hold_allowed: Some(true),
                max_holds: Some(20),
                hold_shelf_days: Some(7),
                hard_due_date: Some("none".into()),
            }],
            refund_processing_fee_when_found: false,
            default_replacement_price: None,
        }
    }
}

/// The settings, checked and built.
#[derive(Debug, Clone)]
pub struct Circulation {
    pub matrix: RuleMatrix,
    pub policy: CirculationPolicy,
    pub time_zone: Tz,
    pub library_calendar: Calendar,
    pub branch_calendars: BTreeMap<Code, Calendar>,
    /// What a lost item's return reverses.
    pub found: FoundPolicy,
    /// The replacement price of a lost copy that has none of its own.
    pub default_replacement_price: Option<Money>,
    /// The settings as written, which these were built from: what the staff client edits.
    pub source: CirculationSettings,
}

impl CirculationSettings {
    pub fn build(&self) -> Result<Circulation, SettingsError> {
        let time_zone: Tz = self
            .time_zone
            .parse()
            .map_err(|_| err("time_zone", format!("{:?} is not an IANA time zone", self.time_zone)))?;
        let governing = match self.governing_branch.as_str() {
            "checkout" => GoverningBranch::CheckoutBranch,
            "item_home" => GoverningBranch::ItemHomeBranch,
            "patron_home" => GoverningBranch::PatronHomeBranch,
            other => {
                return Err(err("governing_branch", format!("{other:?} is not checkout, item_home or patron_home")))
            }
        };
        let policy = CirculationPolicy {
            fine_limit: limit(&self.fine_limit, "fine_limit", money)?,
            max_overdues: self.max_overdues.map_or(Limit::Unlimited, Limit::At),
        };
        let rows = self.rules.iter().enumerate().map(|(i, r)| r.build(i + 1)).collect::<Result<Vec<_>, _>>()?;
        let matrix = RuleMatrix::new(rows, governing).map_err(|e| err("rules", e.to_string()))?;
        let library_calendar = calendar(time_zone, &self.hours, &self.closed, "hours")?;
        let mut branch_calendars = BTreeMap::new();
        for (code, b) in &self.branches {
            let place = format!("branches.{code}");
            let branch = Code::parse(code).map_err(|e| err(&place, e.to_string()))?;
            let closed: Vec<String> = self.closed.iter().chain(&b.closed).cloned().collect();
            branch_calendars
                .insert(branch, calendar(time_zone, b.hours.as_ref().unwrap_or(&self.hours), &closed, &place)?);
        }
        let found = FoundPolicy { refund_processing_fee: self.refund_processing_fee_when_found };
        let default_replacement_price = self
            .default_replacement_price
            .as_deref()
            .map(|t| money(t).map_err(|m| err("default_replacement_price", m)))
            .transpose()?;
        Ok(Circulation {
            matrix,
            policy,
            time_zone,
            library_calendar,
            branch_calendars,
            found,
            default_replacement_price,
            source: self.clone(),
        })
    }
}

impl Circulation {
    /// The branch's calendar: its own, else the library's.
    pub fn calendar(&self, branch: &Code) -> &Calendar {
        self.branch_calendars.get(branch).unwrap_or(&self.library_calendar)
    }

    /// Closes `day` at `branch` (an emergency closure): the branch gets a calendar of its own
    /// if it shared the library's.
    fn close(&mut self, branch: &Code, day: NaiveDate) {
        let calendar = self.branch_calendars.entry(branch.clone()).or_insert_with(|| self.library_calendar.clone());
        // A one-off day is always accepted (only yearly days are checked).
        let _ = calendar.close(ClosedDay::On(day));
    }

    /// The settings with every stored closure added.
    pub fn with_closures<'a>(&self, closures: impl IntoIterator<Item = (&'a Code, NaiveDate)>) -> Circulation {
        let mut c = self.clone();
        for (branch, day) in closures {
            c.close(branch, day);
        }
        c
    }
}

fn calendar(tz: Tz, week: &Week, closed: &[String], place: &str) -> Result<Calendar, SettingsError> {
    let days = [&week.mon, &week.tue, &week.wed, &week.thu, &week.fri, &week.sat, &week.sun];
    let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let mut hours = [None; 7];
    for (i, text) in days.iter().enumerate() {
        hours[i] = opening(text).map_err(|m| err(format!("{place}.{}", names[i]), m))?;
    }
    let mut calendar = Calendar::new(tz, hours).map_err(|e| err(place, e.to_string()))?;
    for day in closed {
        let closed_day = closed_day(day).map_err(|m| err(format!("{place}: closed"), m))?;
        calendar.close(closed_day).map_err(|e| err(format!("{place}: closed {day:?}"), e.to_string()))?;
    }
    Ok(calendar)
}

fn opening(text: &str) -> Result<Option<OpeningHours>, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("closed") {
        return Ok(None);
    }
    let bad = || format!("{t:?} is not opening hours like 09:00-20:00, or closed");
    let (open, close) = t.split_once('-').ok_or_else(bad)?;
    let time = |s: &str| NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| bad());
    OpeningHours::new(time(open)?, time(close)?).map(Some).map_err(|e| e.to_string())
}

fn closed_day(text: &str) -> Result<ClosedDay, String> {
    let t = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(ClosedDay::On(date));
    }
    let bad = || format!("{t:?} is not a closed day (MM-DD every year, YYYY-MM-DD once)");
    let (m, d) = t.split_once('-').ok_or_else(bad)?;
    Ok(ClosedDay::Yearly { month: m.parse().map_err(|_| bad())?, day: d.parse().map_err(|_| bad())? })
}

fn money(text: &str) -> Result<Money, String> {
    Money::parse(text).map_err(|e| e.to_string())
}

fn limit<T>(text: &str, field: &str, value: impl Fn(&str) -> Result<T, String>) -> Result<Limit<T>, SettingsError> {
    limited(text, value).map_err(|m| err(field, m))
}

/// `none` (or `never`) for no limit, else the value.
fn limited<T>(text: &str, value: impl Fn(&str) -> Result<T, String>) -> Result<Limit<T>, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("none") || t.eq_ignore_ascii_case("never") {
        Ok(Limit::Unlimited)
    } else {
        value(t).map(Limit::At)
    }
}

fn days(t: &str) -> Result<u32, String> {
    t.trim().parse::<u32>().map_err(|_| format!("{t:?} is not a number of days"))
}

fn date(t: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d").map_err(|_| format!("{t:?} is not a date (YYYY-MM-DD)"))
}

/// `21 days`, `1 day`, `4 hours`.
fn period(text: &str) -> Result<Period, String> {
    let bad = || format!("{text:?} is not a period like \"21 days\" or \"4 hours\"");
    let mut parts = text.split_whitespace();
    let count: u32 = parts.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
    let unit = match parts.next() {
        Some("day" | "days") => TimeUnit::Days,
        Some("hour" | "hours") => TimeUnit::Hours,
        _ => return Err(bad()),
    };
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok(Period { count, unit })
}

/// `0.25 per day`, `1.00 per hour`, `0` (fine-free).
fn fine(text: &str) -> Result<FineRate, String> {
    let t = text.trim();
    let (amount, unit) = match t.split_once(" per ") {
        Some((a, u)) => (a, u.trim()),
        None => (t, "day"),
    };
    let per = match unit {
        "day" => TimeUnit::Days,
        "hour" => TimeUnit::Hours,
        _ => return Err(format!("{t:?} is not a fine like \"0.25 per day\"")),
    };
    Ok(FineRate { amount: money(amount)?, per })
}

fn scope(text: &str) -> Result<Scope, String> {
    match text.trim() {
        "*" => Ok(Scope::Any),
        other => Code::parse(other).map(Scope::Only).map_err(|e| e.to_string()),
    }
}

impl RuleSettingsText {
    fn build(&self, n: usize) -> Result<RuleRow, SettingsError> {
        let place = |field: &str| format!("rule {n} ({}/{}/{}) {field}", self.branch, self.category, self.item_type);
        let key = RuleKey {
            branch: scope(&self.branch).map_err(|m| err(place("branch"), m))?,
            category: scope(&self.category).map_err(|m| err(place("category"), m))?,
            item_type: scope(&self.item_type).map_err(|m| err(place("item_type"), m))?,
        };
        fn field<T>(
            v: &Option<String>,
            f: impl Fn(&str) -> Result<T, String>,
            place: String,
        ) -> Result<Option<T>, SettingsError> {
            v.as_deref().map(|t| f(t).map_err(|m| err(place, m))).transpose()
        }
        let settings = RuleSettings {
            loan_period: field(&self.loan_period, period, place("loan_period"))?,
            max_loans: self.max_loans,
            renewals_allowed: self.renewals_allowed,
            renewal_period: field(&self.renewal_period, period, place("renewal_period"))?,
            fine: field(&self.fine, fine, place("fine"))?,
            grace_period: field(&self.grace_period, period, place("grace_period"))?,
            max_fine: field(&self.max_fine, |t| limited(t, money), place("max_fine"))?,
            lost_after_days: field(&self.lost_after_days, |t| limited(t, days), place("lost_after_days"))?,
            lost_processing_fee: field(&self.lost_processing_fee, money, place("lost_processing_fee"))?,
            hold_allowed: self.hold_allowed,
            max_holds: self.max_holds,
            hold_shelf_days: self.hold_shelf_days,
            hard_due_date: field(&self.hard_due_date, |t| limited(t, date), place("hard_due_date"))?,
        };
        Ok(RuleRow { key, settings })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_settings_build() {
        let c = CirculationSettings::default().build().unwrap();
        let r = c.matrix.resolve(
            &Code::parse("MAIN").unwrap(),
            &Code::parse("ADULT").unwrap(),
            &Code::parse("BK").unwrap(),
        );
        assert_eq!(r.rule.loan_period, Period::days(21));
        assert_eq!(r.rule.fine, FineRate { amount: Money::from_minor(25), per: TimeUnit::Days });
        assert_eq!(c.policy.fine_limit, Limit::At(Money::from_minor(1000)));
    }

    #[test]
    fn settings_from_toml_with_a_more_specific_row() {
        let text = r#"
            time_zone = "America/Chicago"
            governing_branch = "item_home"
            fine_limit = "none"
            hours = { mon = "09:00-20:00", tue = "09:00-20:00", wed = "09:00-20:00", thu = "09:00-20:00", fri = "09:00-18:00", sat = "10:00-17:00", sun = "closed" }
            closed = ["12-25", "2026-12-24"]
            [branches.EAST]
            closed = ["2026-11-27"]
            [[rules]]
            branch = "*"
            category = "*"
            item_type = "*"
            loan_period = "21 days"
            max_loans = 50
            renewals_allowed = 2
            renewal_period = "14 days"
            fine = "0.25 per day"
            grace_period = "1 day"
            max_fine = "5.00"
            lost_after_days = "60"
            lost_processing_fee = "5.00"
            hold_allowed = true
            max_holds = 20
            hold_shelf_days = 7
            hard_due_date = "none"
            [[rules]]
            branch = "*"
            category = "*"
            item_type = "LAPTOP"
            loan_period = "4 hours"
            fine = "1.00 per hour"
        "#;
        let settings: CirculationSettings = toml::from_str(text).unwrap();
        let c = settings.build().unwrap();
        let laptop = c.matrix.resolve(
            &Code::parse("EAST").unwrap(),
            &Code::parse("ADULT").unwrap(),
            &Code::parse("LAPTOP").unwrap(),
        );
        assert_eq!(laptop.rule.loan_period, Period::hours(4));
        assert_eq!(
            laptop.rule.max_fine,
            Limit::At(Money::from_minor(500)),
            "blank fields fall back to the default row"
        );
        assert_eq!(c.policy.fine_limit, Limit::Unlimited);
        let east = c.calendar(&Code::parse("EAST").unwrap());
        assert!(!east.is_open(NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()));
        assert!(c.calendar(&Code::parse("MAIN").unwrap()).is_open(NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()));
        assert!(!east.is_open(NaiveDate::from_ymd_opt(2026, 12, 25).unwrap()));
    }

    #[test]
    fn errors_name_the_row_and_field() {
        let mut s = CirculationSettings::default();
        s.rules[0].fine = Some("a quarter".into());
        let e = s.build().unwrap_err();
        assert_eq!(e.place, "rule 1 (*/*/*) fine");
        let mut s = CirculationSettings::default();
        s.hours.sun = "noon till two".into();
        assert_eq!(s.build().unwrap_err().place, "hours.sun");
        let mut s = CirculationSettings::default();
        s.rules[0].loan_period = None;
        assert!(s.build().unwrap_err().message.contains("loan_period"));
    }
}
