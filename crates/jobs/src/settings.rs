//! The `[notices]` settings as the library writes them ("2 days", "none", "06:00"), checked once
//! at start-up with an error that names the field.

use chrono::NaiveTime;
use circulation::NoticeSchedule;
use notices::{Mailer, SmtpSettings};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NoticeSettings {
    /// The local time (library time zone) the daily jobs run at inside `shelfmark serve`.
    pub run_at: String,
    /// Courtesy notice this long before the due day, or `none`.
    pub courtesy: String,
    /// The 1st, 2nd and 3rd overdue notices, this long after the due day; `none` turns a level
    /// off. Ascending.
    pub overdue: Vec<String>,
    pub hold_expiring: String,
    pub card_expiring: String,
    /// Where email goes; without it email notices wait (`pending`) until it is configured.
    pub smtp: Option<SmtpSettings>,
}

impl Default for NoticeSettings {
    fn default() -> Self {
        NoticeSettings {
            run_at: "06:00".into(),
            courtesy: "2 days".into(),
            overdue: vec!["1 day".into(), "14 days".into(), "28 days".into()],
            hold_expiring: "1 day".into(),
            card_expiring: "30 days".into(),
            smtp: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("notices settings, {field}: {message}")]
pub struct NoticeSettingsError {
    pub field: String,
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> NoticeSettingsError {
    NoticeSettingsError { field: field.into(), message: message.into() }
}

/// `2 days`, `1 day`, `0 days` or `none`.
fn days(field: &str, text: &str) -> Result<Option<u32>, NoticeSettingsError> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let (n, unit) = t.split_once(' ').unwrap_or((t, ""));
    match (n.parse::<u32>(), unit.trim()) {
        (Ok(n), "day" | "days") if n <= 3650 => Ok(Some(n)),
        _ => Err(err(field, format!("{text:?} is not a number of days (\"2 days\") or \"none\""))),
    }
}

/// The settings, checked and built.
#[derive(Debug, Clone)]
pub struct Notices {
    pub run_at: NaiveTime,
    pub schedule: NoticeSchedule,
    /// `None`: email notices are stored and wait until SMTP is configured.
    pub mailer: Option<Arc<Mailer>>,
    /// `{library.name}`.
    pub library_name: String,
}

impl NoticeSettings {
    pub fn build(&self, library_name: &str) -> Result<Notices, NoticeSettingsError> {
        let run_at = NaiveTime::parse_from_str(self.run_at.trim(), "%H:%M")
            .map_err(|_| err("run_at", format!("{:?} is not a time of day (\"06:00\")", self.run_at)))?;
        if self.overdue.len() > 3 {
            return Err(err("overdue", "at most three overdue notices (1st, 2nd, 3rd)"));
        }
        let mut overdue = [None; 3];
        for (i, text) in self.overdue.iter().enumerate() {
            overdue[i] = days(&format!("overdue[{i}]"), text)?;
        }
        let set: Vec<u32> = overdue.iter().flatten().copied().collect();
        if set.windows(2).any(|w| w[0] >= w[1]) {
            return Err(err("overdue", "the overdue notices must come later and later (\"1 day\", \"14 days\", ...)"));
        }
        let mailer = match &self.smtp {
            None => None,
            Some(s) => Some(Arc::new(Mailer::new(s).map_err(|e| err("smtp", e.to_string()))?)),
        };
        Ok(Notices {
            run_at,
            schedule: NoticeSchedule {
                courtesy_days_before: days("courtesy", &self.courtesy)?,
                overdue_days_after: overdue,
                hold_expiring_days_before: days("hold_expiring", &self.hold_expiring)?,
                card_expiring_days_before: days("card_expiring", &self.card_expiring)?,
            },
            mailer,
            library_name: library_name.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_build_and_mistakes_name_their_field() {
        let n = NoticeSettings::default().build("L").expect("defaults");
        assert_eq!(n.schedule.courtesy_days_before, Some(2));
        assert_eq!(n.schedule.overdue_days_after, [Some(1), Some(14), Some(28)]);
        assert_eq!(n.run_at, NaiveTime::from_hms_opt(6, 0, 0).expect("time"));
        assert!(n.mailer.is_none());
        let off = NoticeSettings { courtesy: "none".into(), overdue: vec!["1 day".into()], ..Default::default() };
        let off = off.build("L").expect("builds");
        assert_eq!(off.schedule.courtesy_days_before, None);
        assert_eq!(off.schedule.overdue_days_after, [Some(1), None, None]);
        let bad = NoticeSettings { courtesy: "two days".into(), ..Default::default() }.build("L");
        assert_eq!(bad.expect_err("refused").field, "courtesy");
        let order = NoticeSettings { overdue: vec!["14 days".into(), "1 day".into()], ..Default::default() };
        assert_eq!(order.build("L").expect_err("refused").field, "overdue");
        let time = NoticeSettings { run_at: "6am".into(), ..Default::default() }.build("L");
        assert_eq!(time.expect_err("refused").field, "run_at");
    }
}
