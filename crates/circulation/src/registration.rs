//! Registering a patron: the card number (a configurable pattern with a check digit), the form's
//! checks (every problem at once, each naming its field), the card's expiry from the category,
//! and the keys that find a probable duplicate (same name and birth date, same email).
//!
//! Storage keeps [`name_key`] and [`email_key`] in indexed columns and asks for the patrons that
//! share one; [`duplicates`] says which of those are duplicates and why, so the clerk sees
//! "Maria Lopez, born 2011-04-02, is already card 21234000012345" before a second card is made.

use catalog::Code;
use chrono::{Datelike, Months, NaiveDate};
use std::collections::BTreeMap;
use unicode_normalization::UnicodeNormalization;

/// How the library's patron card numbers look: a fixed prefix (often the library's "2" for
/// patrons and "3" for items), a total length, and the check digit scanners and clerks rely on
/// to catch a mistyped number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardNumberPattern {
    pub prefix: String,
    /// Total length including prefix and check digit.
    pub length: usize,
    pub check_digit: CheckDigit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckDigit {
    None,
    /// The Luhn (mod 10) digit: the common one on 14-digit Codabar library cards.
    Luhn,
}

impl Default for CardNumberPattern {
    /// The usual 14-digit library card: `2`, a 4-digit library code (here `1234`), a sequence
    /// and a Luhn check digit.
    fn default() -> Self {
        CardNumberPattern { prefix: "21234".to_string(), length: 14, check_digit: CheckDigit::Luhn }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardNumberError {
    #[error("card number {0:?} has a character that is not a digit")]
    NotDigits(String),
    #[error("card number {number:?} has {got} digits; cards here have {want}")]
    WrongLength { number: String, got: usize, want: usize },
    #[error("card number {number:?} does not start with {prefix}")]
    WrongPrefix { number: String, prefix: String },
    #[error("card number {0:?} has a wrong check digit: it was probably mistyped")]
    CheckDigit(String),
    #[error("no card numbers are left after sequence {0} with this pattern")]
    Exhausted(u64),
}

impl CardNumberPattern {
    pub fn validate(&self, number: &str) -> Result<(), CardNumberError> {
        let number = number.trim();
        if !number.bytes().all(|b| b.is_ascii_digit()) || number.is_empty() {
            return Err(CardNumberError::NotDigits(number.to_string()));
        }
        if number.len() != self.length {
            return Err(CardNumberError::WrongLength {
                number: number.to_string(),
                got: number.len(),
                want: self.length,
            });
        }
        if !number.starts_with(&self.prefix) {
            return Err(CardNumberError::WrongPrefix { number: number.to_string(), prefix: self.prefix.clone() });
        }
        if self.check_digit == CheckDigit::Luhn && !luhn_valid(number) {
            return Err(CardNumberError::CheckDigit(number.to_string()));
        }
        Ok(())
    }

    /// The card number for the `sequence`-th card: prefix, the sequence zero-padded, check digit.
    pub fn issue(&self, sequence: u64) -> Result<String, CardNumberError> {
        let check = usize::from(self.check_digit == CheckDigit::Luhn);
        let width = self.length.saturating_sub(self.prefix.len() + check);
        let digits = sequence.to_string();
        if width == 0 || digits.len() > width {
            return Err(CardNumberError::Exhausted(sequence));
        }
        let mut number = format!("{}{digits:0>width$}", self.prefix);
        if check == 1 {
            number.push(luhn_digit(&number));
        }
        Ok(number)
    }
}

/// The digit that makes `payload` + digit pass the Luhn check.
pub fn luhn_digit(payload: &str) -> char {
    let sum: u32 = payload
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b.saturating_sub(b'0'));
            // The check digit will sit at the right, so the payload's last digit is doubled.
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

pub fn luhn_valid(number: &str) -> bool {
    match number.len().checked_sub(1) {
        Some(n) if n > 0 => number[n..].starts_with(luhn_digit(&number[..n])),
        _ => false,
    }
}

/// What each patron category means for registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryRules {
    /// How long a card of this category is valid.
    pub validity_months: u32,
    /// Children need a guarantor (a parent or carer who is a patron).
    pub requires_guarantor: bool,
    /// Age limits in whole years on the day of registration, when the category has them.
    pub min_age: Option<u32>,
    pub max_age: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegistrationPolicy {
    pub card_numbers: CardNumberPattern,
    pub categories: BTreeMap<Code, CategoryRules>,
}

/// The registration form as the desk (or a school's CSV row) fills it in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PatronForm {
    pub card_number: String,
    pub surname: String,
    pub first_name: String,
    pub birth_date: Option<NaiveDate>,
    pub email: Option<String>,
    pub category: Option<Code>,
    pub home_branch: Option<Code>,
    /// The card number of the guarantor, for categories that need one.
    pub guarantor: Option<String>,
}

/// One problem with the form, naming its field: the API sends these as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormProblem {
    pub field: &'static str,
    pub code: &'static str,
    pub message: String,
}

impl FormProblem {
    fn new(field: &'static str, code: &'static str, message: impl Into<String>) -> FormProblem {
        FormProblem { field, code, message: message.into() }
    }
}

/// Every problem with the form (not only the first), and on success the card's expiry date.
pub fn check_form(
    form: &PatronForm,
    policy: &RegistrationPolicy,
    today: NaiveDate,
) -> Result<NaiveDate, Vec<FormProblem>> {
    let mut problems = Vec::new();
    if let Err(e) = policy.card_numbers.validate(&form.card_number) {
        problems.push(FormProblem::new("card_number", "invalid_card_number", e.to_string()));
    }
    for (field, value) in [("surname", &form.surname), ("first_name", &form.first_name)] {
        let v = value.trim();
        if v.is_empty() {
            problems.push(FormProblem::new(field, "missing_field", format!("{field} is required")));
        } else if v.chars().count() > 100 || v.chars().any(char::is_control) {
            problems.push(FormProblem::new(
                field,
                "invalid_name",
                format!("{field} is too long or has control characters"),
            ));
        }
    }
    if let Some(email) = &form.email {
        if !plausible_email(email) {
            problems.push(FormProblem::new("email", "invalid_email", format!("{email:?} is not an email address")));
        }
    }
    let age = form.birth_date.map(|b| age_on(b, today));
    if let Some(birth) = form.birth_date {
        if birth > today || birth.year() < 1900 {
            problems.push(FormProblem::new(
                "birth_date",
                "invalid_date",
                format!("birth date {birth} is not possible"),
            ));
        }
    }
    if form.home_branch.is_none() {
        problems.push(FormProblem::new("home_branch", "missing_field", "home_branch is required"));
    }
    let mut expiry = None;
    match form.category.as_ref() {
        None => problems.push(FormProblem::new("category", "missing_field", "category is required")),
        Some(category) => match policy.categories.get(category) {
            None => problems.push(FormProblem::new(
                "category",
                "unknown_category",
                format!("patron category {category} does not exist"),
            )),
            Some(rules) => {
                if rules.requires_guarantor && form.guarantor.as_deref().is_none_or(|g| g.trim().is_empty()) {
                    problems.push(FormProblem::new(
                        "guarantor",
                        "guarantor_required",
                        format!("a {category} patron needs a guarantor (a parent or carer's card number)"),
                    ));
                }
                let needs_age = rules.min_age.is_some() || rules.max_age.is_some();
                match age {
                    None if needs_age => problems.push(FormProblem::new(
                        "birth_date",
                        "missing_field",
                        format!("a {category} patron's birth date is required (the category has age limits)"),
                    )),
                    Some(age) if rules.min_age.is_some_and(|m| age < m) || rules.max_age.is_some_and(|m| age > m) => {
                        problems.push(FormProblem::new(
                            "category",
                            "age_outside_category",
                            format!("a patron aged {age} cannot be in category {category}"),
                        ))
                    }
                    _ => {}
                }
                expiry = today.checked_add_months(Months::new(rules.validity_months));
            }
        },
    }
    match expiry {
        Some(expiry) if problems.is_empty() => Ok(expiry),
        _ => Err(problems),
    }
}

/// Renewing a card: the new expiry runs from the later of today and the old expiry, so renewing
/// early never shortens a card.
pub fn renewed_expiry(old_expiry: NaiveDate, rules: &CategoryRules, today: NaiveDate) -> Option<NaiveDate> {
    old_expiry.max(today).checked_add_months(Months::new(rules.validity_months))
}

/// Whole years from `birth` to `on`.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> u32 {
    let mut years = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    u32::try_from(years).unwrap_or(0)
}

/// A light check: one `@`, something before it, a dot in the domain. Whether the address works
/// is for the first notice to find out; this catches typing mistakes.
fn plausible_email(email: &str) -> bool {
    let email = email.trim();
    let Some((local, domain)) = email.split_once('@') else { return false };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(char::is_whitespace)
}

/// The name as duplicate detection compares it: case, accents, punctuation and spacing
/// ignored, so "José  Pérez-Luna" and "jose perez luna" are the same person on paper.
pub fn name_key(surname: &str, first_name: &str, birth_date: Option<NaiveDate>) -> Option<String> {
    let (s, f) = (fold_name(surname), fold_name(first_name));
    // Without a birth date a shared name is too common to call a duplicate.
    let birth = birth_date?;
    (!s.is_empty() && !f.is_empty()).then(|| format!("{s}|{f}|{birth}"))
}

/// Case, accents, punctuation and spacing dropped, as names are compared.
pub fn fold_name(s: &str) -> String {
    let letters: String = s
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    letters.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The name as the staff search matches its start: "surname first name", folded, so that
/// "perez-luna, j" and "Perez Luna Jo" both find José Pérez-Luna.
pub fn search_name(surname: &str, first_name: &str) -> String {
    fold_name(&format!("{surname} {first_name}"))
}

/// A phone number as the staff search matches it: its digits, last first, so that the last
/// digits a patron reads out (with or without the country or area code) are a prefix. `None`
/// when there are no digits.
pub fn phone_key(phone: &str) -> Option<String> {
    let reversed: String = phone.chars().rev().filter(char::is_ascii_digit).collect();
    (!reversed.is_empty()).then_some(reversed)
}

pub fn email_key(email: Option<&str>) -> Option<String> {
    email.map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty())
}

/// A registered patron as duplicate detection sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub card_number: String,
    pub name_key: Option<String>,
    pub email_key: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuplicateReason {
    SameNameAndBirthDate,
    SameEmail,
}

/// Which of `candidates` (those storage found sharing a key) duplicate the form, and why.
pub fn duplicates<'a>(form: &PatronForm, candidates: &'a [Registered]) -> Vec<(&'a Registered, DuplicateReason)> {
    let name = name_key(&form.surname, &form.first_name, form.birth_date);
    let email = email_key(form.email.as_deref());
    candidates
        .iter()
        .filter(|c| c.card_number != form.card_number.trim())
        .filter_map(|c| {
            if name.is_some() && c.name_key == name {
                Some((c, DuplicateReason::SameNameAndBirthDate))
            } else if email.is_some() && c.email_key == email {
                Some((c, DuplicateReason::SameEmail))
            } else {
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn code(s: &str) -> Code {
        Code::parse(s).unwrap()
    }

    fn policy() -> RegistrationPolicy {
        let mut categories = BTreeMap::new();
        categories.insert(
            code("ADULT"),
            CategoryRules { validity_months: 36, requires_guarantor: false, min_age: Some(18), max_age: None },
        );
        categories.insert(
            code("CHILD"),
            CategoryRules { validity_months: 12, requires_guarantor: true, min_age: None, max_age: Some(12) },
        );
        RegistrationPolicy { card_numbers: CardNumberPattern::default(), categories }
    }

    fn form() -> PatronForm {
        PatronForm {
            card_number: CardNumberPattern::default().issue(42).unwrap(),
            surname: "Lopez".into(),
            first_name: "Maria".into(),
            birth_date: Some(date(1980, 4, 2)),
            email: Some("maria@example.org".into()),
            category: Some(code("ADULT")),
            home_branch: Some(code("CPL")),
            guarantor: None,
        }
    }

    #[test]
    fn luhn_matches_published_examples() {
        // The standard worked example: 7992739871 has check digit 3.
        assert_eq!(luhn_digit("7992739871"), '3');
        assert!(luhn_valid("79927398713"));
        assert!(!luhn_valid("79927398710"));
        assert!(luhn_valid("4539578763621486"), "a valid test card number");
    }

    #[test]
    fn issued_numbers_follow_the_pattern() {
        let p = CardNumberPattern::default();
        let n = p.issue(1).unwrap();
        assert_eq!(n.len(), 14);
        assert!(n.starts_with("2123400000001"));
        assert_eq!(p.validate(&n), Ok(()));
        let right = n.chars().last().unwrap();
        let wrong = format!("{}{}", &n[..13], if right == '9' { '0' } else { char::from(right as u8 + 1) });
        assert_eq!(p.validate(&wrong), Err(CardNumberError::CheckDigit(wrong.clone())));
        assert!(matches!(p.validate("2123400000001"), Err(CardNumberError::WrongLength { got: 13, .. })));
        assert!(matches!(p.validate("31234000000010"), Err(CardNumberError::WrongPrefix { .. })));
        assert!(matches!(p.validate("2123400000001X"), Err(CardNumberError::NotDigits(_))));
        assert_eq!(p.issue(100_000_000), Err(CardNumberError::Exhausted(100_000_000)));
    }

    #[test]
    fn a_good_form_gets_its_expiry_from_the_category() {
        assert_eq!(check_form(&form(), &policy(), date(2026, 11, 30)), Ok(date(2029, 11, 30)));
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let bad = PatronForm {
            card_number: "123".into(),
            surname: " ".into(),
            email: Some("maria at example".into()),
            category: Some(code("CHILD")),
            home_branch: None,
            birth_date: Some(date(2000, 1, 1)),
            ..form()
        };
        let problems = check_form(&bad, &policy(), date(2026, 11, 30)).unwrap_err();
        let fields: Vec<(&str, &str)> = problems.iter().map(|p| (p.field, p.code)).collect();
        assert_eq!(
            fields,
            [
                ("card_number", "invalid_card_number"),
                ("surname", "missing_field"),
                ("email", "invalid_email"),
                ("home_branch", "missing_field"),
                ("guarantor", "guarantor_required"),
                ("category", "age_outside_category"),
            ]
        );
    }

    #[test]
    fn ages_count_whole_years() {
        assert_eq!(age_on(date(2010, 12, 1), date(2026, 11, 30)), 15);
        assert_eq!(age_on(date(2010, 11, 30), date(2026, 11, 30)), 16);
        assert_eq!(age_on(date(2008, 2, 29), date(2026, 2, 28)), 17);
    }

    #[test]
    fn renewing_early_never_shortens_a_card() {
        let rules = &policy().categories[&code("ADULT")];
        assert_eq!(renewed_expiry(date(2027, 1, 31), rules, date(2026, 11, 30)), Some(date(2030, 1, 31)));
        assert_eq!(renewed_expiry(date(2025, 1, 31), rules, date(2026, 11, 30)), Some(date(2029, 11, 30)));
    }

    #[test]
    fn duplicates_by_name_and_birth_date_or_email() {
        let existing = vec![
            Registered {
                card_number: "A".into(),
                name_key: name_key("LÓPEZ", "  María ", Some(date(1980, 4, 2))),
                email_key: None,
            },
            Registered { card_number: "B".into(), name_key: None, email_key: email_key(Some(" Maria@Example.ORG ")) },
            Registered {
                card_number: "C".into(),
                name_key: name_key("Lopez", "Maria", Some(date(1981, 4, 2))),
                email_key: None,
            },
        ];
        let found: Vec<(&str, DuplicateReason)> =
            duplicates(&form(), &existing).into_iter().map(|(r, why)| (r.card_number.as_str(), why)).collect();
        assert_eq!(found, [("A", DuplicateReason::SameNameAndBirthDate), ("B", DuplicateReason::SameEmail)]);
        assert_eq!(name_key("Lopez", "Maria", None), None, "no birth date, no name match");
        assert_eq!(
            name_key("Pérez-Luna", "José", Some(date(1990, 1, 1))),
            name_key("perez luna", "jose", Some(date(1990, 1, 1)))
        );
    }

    #[test]
    fn search_name_is_the_folded_surname_then_first_name() {
        let stored = search_name("Pérez-Luna", "José");
        assert_eq!(stored, "perez luna jose");
        for typed in ["perez-luna, j", "Perez Luna Jo", "PÉREZ", "perez  luna"] {
            assert!(stored.starts_with(&fold_name(typed)), "{typed:?} should find {stored:?}");
        }
        assert!(!stored.starts_with(&fold_name("jose")), "the first name alone is not the start");
    }

    #[test]
    fn phone_key_makes_the_last_digits_a_prefix() {
        let stored = phone_key("+1 (555) 123-4567").unwrap();
        for typed in ["555-123-4567", "1234567", "4567", "15551234567"] {
            assert!(stored.starts_with(&phone_key(typed).unwrap()), "{typed:?}");
        }
        assert!(!stored.starts_with(&phone_key("555-123-4568").unwrap()));
        assert_eq!(phone_key("none given"), None);
    }

    proptest! {
        /// Every issued number validates, and changing any one digit is caught by the check digit.
        #[test]
        fn one_wrong_digit_is_always_caught(seq in 0u64..100_000_000, pos in 5usize..14, delta in 1u8..10) {
            let p = CardNumberPattern::default();
            let n = p.issue(seq).unwrap();
            prop_assert_eq!(p.validate(&n), Ok(()));
            let mut bytes = n.into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let typo = String::from_utf8(bytes).unwrap();
            prop_assert!(p.validate(&typo).is_err(), "{} passed", typo);
        }

        /// No input makes the checks panic.
        #[test]
        fn no_form_panics(card in ".{0,20}", surname in ".{0,30}", email in ".{0,30}") {
            let f = PatronForm { card_number: card, surname, email: Some(email), ..form() };
            let _ = check_form(&f, &policy(), date(2026, 11, 30));
        }
    }
}
