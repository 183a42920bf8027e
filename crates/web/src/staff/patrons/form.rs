//! The patron forms' shared pieces: a form re-shown after a refusal keeps what the clerk typed
//! and puts each problem next to its field (`aria-describedby`), and the registration and
//! edit forms are one set of fields read into one [`PatronInput`].

use crate::html::Esc;
use crate::staff::Fields;
use catalog::Code;
use chrono::NaiveDate;
use circulation::registration::FormProblem;
use desk::patrons::PatronInput;
use std::fmt::Write;
use storage::patrons::{HistoryChoice, NoticePreference, PatronRecord};

/// A form as shown: the values in its fields and the problems, by field name.
#[derive(Default, Clone)]
pub(super) struct FormState {
    values: Vec<(String, String)>,
    problems: Vec<(String, String)>,
}

impl FormState {
    pub fn from_fields(fields: &Fields) -> FormState {
        FormState { values: fields.0.clone(), problems: Vec::new() }
    }

    pub fn with(mut self, name: &str, value: impl Into<String>) -> FormState {
        self.values.push((name.to_string(), value.into()));
        self
    }

    pub fn value(&self, name: &str) -> &str {
        self.values.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }

    pub fn add_problem(&mut self, field: &str, message: impl Into<String>) {
        self.problems.push((field.to_string(), message.into()));
    }

    pub fn add_problems(&mut self, problems: &[FormProblem]) {
        for p in problems {
            self.add_problem(p.field, p.message.clone());
        }
    }

    pub fn has_problems(&self) -> bool {
        !self.problems.is_empty()
    }

    fn problems_of(&self, field: &str) -> Vec<&str> {
        self.problems.iter().filter(|(f, _)| f == field).map(|(_, m)| m.as_str()).collect()
    }

    /// Every problem, each naming its field, linked to it: the summary at the top of a form.
    /// `fields` maps a field name to (its element id, its label).
    pub fn summary(&self, fields: &[(&str, String, &str)]) -> String {
        if self.problems.is_empty() {
            return String::new();
        }
        let mut out = String::from(
            "<div class=\"refused\" role=\"alert\"><h2>Please correct the form</h2><ul class=\"form-problems\">",
        );
        for (field, message) in &self.problems {
            match fields.iter().find(|(name, _, _)| name == field) {
                Some((_, id, label)) => {
                    let _ = write!(out, "<li><a href=\"#{}\">{}</a>: {}</li>", Esc(id), Esc(label), Esc(message));
                }
                None => {
                    let _ = write!(out, "<li>{}: {}</li>", Esc(field), Esc(message));
                }
            }
        }
        out.push_str("</ul></div>\n");
        out
    }

    /// `aria-invalid` and `aria-describedby` for the field, and the message element after it.
    fn marks(&self, id: &str, name: &str) -> (String, String) {
        let problems = self.problems_of(name);
        if problems.is_empty() {
            return (String::new(), String::new());
        }
        (
            format!(" aria-invalid=\"true\" aria-describedby=\"{id}-error\""),
            format!("<p class=\"field-error\" id=\"{id}-error\">{}</p>", Esc(&problems.join(" "))),
        )
    }

    /// A labelled input. `attrs` goes into the tag as written (type, required, autocomplete).
    pub fn input(&self, form: &str, name: &str, label: &str, attrs: &str) -> String {
        let id = format!("{form}-{name}");
        let (aria, error) = self.marks(&id, name);
        format!(
            "<div><label for=\"{id}\">{}</label><input id=\"{id}\" name=\"{name}\" value=\"{}\"{attrs}{aria}>{error}</div>\n",
            Esc(label),
            Esc(self.value(name)),
        )
    }

    pub fn textarea(&self, form: &str, name: &str, label: &str) -> String {
        let id = format!("{form}-{name}");
        let (aria, error) = self.marks(&id, name);
        format!(
            "<div><label for=\"{id}\">{}</label><textarea id=\"{id}\" name=\"{name}\" rows=\"2\" cols=\"30\"{aria}>{}</textarea>{error}</div>\n",
            Esc(label),
            Esc(self.value(name)),
        )
    }

    /// A select of (value, text); the current value is selected.
    pub fn select(&self, form: &str, name: &str, label: &str, options: &[(String, String)]) -> String {
        let id = format!("{form}-{name}");
        let (aria, error) = self.marks(&id, name);
        let current = self.value(name);
        let mut out =
            format!("<div><label for=\"{id}\">{}</label><select id=\"{id}\" name=\"{name}\"{aria}>", Esc(label));
        for (value, text) in options {
            let _ = write!(
                out,
                "<option value=\"{}\"{}>{}</option>",
                Esc(value),
                if value == current { " selected" } else { "" },
                Esc(text)
            );
        }
        let _ = writeln!(out, "</select>{error}</div>");
        out
    }
}

/// A date typed as text: YYYY-MM-DD.
pub(super) const DATE_ATTRS: &str =
    " inputmode=\"numeric\" size=\"10\" placeholder=\"YYYY-MM-DD\" autocomplete=\"off\"";

/// The fields of the registration and edit forms: (name, label).
pub(super) const PATRON_FIELDS: [(&str, &str); 12] = [
    ("card_number", "Card number"),
    ("surname", "Surname"),
    ("first_name", "First name"),
    ("birth_date", "Birth date"),
    ("category", "Patron category"),
    ("home_branch", "Home branch"),
    ("email", "Email"),
    ("phone", "Phone"),
    ("address", "Address"),
    ("guarantor", "Guarantor's card number"),
    ("notice_preference", "Notices by"),
    ("reading_history", "Reading history"),
];

/// The summary's (field, element id, label) list for a form whose ids start with `form`.
pub(super) fn patron_field_ids(form: &str) -> Vec<(&'static str, String, &'static str)> {
    PATRON_FIELDS.iter().map(|(name, label)| (*name, format!("{form}-{name}"), *label)).collect()
}

/// The registration or edit form's fields read into the service's input; the fields that
/// cannot even be read (a date that is not a date) are problems of their own.
pub(super) fn patron_input(fields: &Fields, with_card: bool) -> Result<PatronInput, Vec<FormProblem>> {
    let mut problems = Vec::new();
    let text = |name: &str| fields.get(name).map(str::to_string);
    let birth_date = match fields.get("birth_date") {
        None => None,
        Some(raw) => match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                problems.push(FormProblem {
                    field: "birth_date",
                    code: "invalid_date",
                    message: format!("{raw:?} is not a date: write it as YYYY-MM-DD"),
                });
                None
            }
        },
    };
    let mut code = |name: &'static str, what: &str| match fields.get(name) {
        None => None,
        Some(raw) => match Code::parse(raw) {
            Ok(c) => Some(c),
            Err(e) => {
                problems.push(FormProblem {
                    field: name,
                    code: "invalid_code",
                    message: format!("{what} {raw:?}: {e}"),
                });
                None
            }
        },
    };
    let category = code("category", "the category");
    let home_branch = code("home_branch", "the branch");
    let notice_preference = match fields.get("notice_preference") {
        None => NoticePreference::default(),
        Some(v) => NoticePreference::parse(v).unwrap_or_else(|| {
            problems.push(FormProblem {
                field: "notice_preference",
                code: "invalid_notice_preference",
                message: format!("{v:?} is not email, sms or print"),
            });
            NoticePreference::default()
        }),
    };
    let reading_history = match fields.get("reading_history") {
        None => HistoryChoice::default(),
        Some(v) => HistoryChoice::parse(v).unwrap_or_else(|| {
            problems.push(FormProblem {
                field: "reading_history",
                code: "invalid_reading_history",
                message: format!("{v:?} is not keep, default or never"),
            });
            HistoryChoice::default()
        }),
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(PatronInput {
        card_number: if with_card { text("card_number") } else { None },
        surname: text("surname").unwrap_or_default(),
        first_name: text("first_name").unwrap_or_default(),
        birth_date,
        email: text("email"),
        phone: text("phone"),
        address: text("address"),
        category,
        home_branch,
        guarantor: text("guarantor"),
        notice_preference,
        reading_history,
    })
}

/// The edit form's starting values: the patron as stored.
pub(super) fn state_of(p: &PatronRecord) -> FormState {
    let d = &p.details;
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    FormState::default()
        .with("surname", d.surname.clone())
        .with("first_name", d.first_name.clone())
        .with("birth_date", d.birth_date.map(|b| b.to_string()).unwrap_or_default())
        .with("category", d.category.as_str())
        .with("home_branch", d.home_branch.as_str())
        .with("email", opt(&d.email))
        .with("phone", opt(&d.phone))
        .with("address", opt(&d.address))
        .with("guarantor", opt(&d.guarantor))
        .with("notice_preference", d.notice_preference.as_str())
        .with("reading_history", d.reading_history.as_str())
}

/// The choices of the form's selects.
pub(super) struct Choices {
    /// (code, "CODE: needs a guarantor, ages ...").
    pub categories: Vec<(String, String)>,
    pub branches: Vec<(String, String)>,
}

/// The patron fields (all but the card number), in the order a clerk fills them in.
pub(super) fn patron_fields(state: &FormState, form: &str, choices: &Choices) -> String {
    let mut out = String::new();
    out.push_str(&state.input(form, "surname", "Surname", " required autocomplete=\"off\""));
    out.push_str(&state.input(form, "first_name", "First name", " required autocomplete=\"off\""));
    // A text field, not type=date: a clerk types the digits from an ID card faster than they
    // work a date picker, and the form says which format it reads.
    out.push_str(&state.input(form, "birth_date", "Birth date (YYYY-MM-DD)", DATE_ATTRS));
    out.push_str(&state.select(form, "category", "Patron category", &choices.categories));
    out.push_str(&state.select(form, "home_branch", "Home branch", &choices.branches));
    out.push_str(&state.input(form, "email", "Email", " type=\"email\" autocomplete=\"off\""));
    out.push_str(&state.input(form, "phone", "Phone", " type=\"tel\" autocomplete=\"off\""));
    out.push_str(&state.textarea(form, "address", "Address"));
    out.push_str(&state.input(
        form,
        "guarantor",
        "Guarantor's card number (children and young patrons)",
        " inputmode=\"numeric\" autocomplete=\"off\"",
    ));
    let prefs: Vec<(String, String)> =
        NoticePreference::ALL.iter().map(|p| (p.as_str().to_string(), capital(p.as_str()))).collect();
    out.push_str(&state.select(form, "notice_preference", "Notices by", &prefs));
    let history = [
        ("default", "The library's default (not kept)"),
        ("keep", "Keep my reading history"),
        ("never", "Never keep it"),
    ]
    .iter()
    .map(|(v, t)| (v.to_string(), t.to_string()))
    .collect::<Vec<_>>();
    out.push_str(&state.select(form, "reading_history", "Reading history", &history));
    out
}

fn capital(s: &str) -> String {
    match s {
        "sms" => "SMS".to_string(),
        other => crate::staff::capitalised(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        Fields(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn a_field_with_a_problem_keeps_its_value_and_points_at_the_message() {
        let mut state = FormState::from_fields(&fields(&[("surname", "<Lopez>")]));
        state.add_problem("surname", "the surname is too short");
        let html = state.input("register", "surname", "Surname", " required");
        assert!(html.contains("value=\"&lt;Lopez&gt;\""), "{html}");
        assert!(html.contains("aria-describedby=\"register-surname-error\""), "{html}");
        assert!(html.contains("id=\"register-surname-error\">the surname is too short</p>"), "{html}");
        let clean = state.input("register", "email", "Email", "");
        assert!(!clean.contains("aria-invalid"), "{clean}");
        let summary = state.summary(&patron_field_ids("register"));
        assert!(summary.contains("<a href=\"#register-surname\">Surname</a>: the surname is too short"), "{summary}");
    }

    #[test]
    fn unreadable_fields_are_problems_naming_them() {
        let problems = patron_input(
            &fields(&[("surname", "Lopez"), ("birth_date", "31/12/2010"), ("category", "no spaces allowed")]),
            true,
        )
        .expect_err("the problems");
        let named: Vec<&str> = problems.iter().map(|p| p.field).collect();
        assert_eq!(named, ["birth_date", "category"]);
        let input = patron_input(
            &fields(&[
                ("surname", " Lopez "),
                ("first_name", "Ana"),
                ("birth_date", "2010-12-31"),
                ("card_number", ""),
            ]),
            true,
        )
        .expect("a readable form");
        assert_eq!(input.surname, "Lopez");
        assert_eq!(input.birth_date, NaiveDate::from_ymd_opt(2010, 12, 31));
        assert_eq!(input.card_number, None);
    }
}
