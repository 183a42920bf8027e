//! The rule matrix: which loan period, limits, fines and hold policy govern a loan, keyed by
//! (branch, patron category, item type) with `*` wildcards.
//!
//! **Most specific wins.** A row matches when each of its three keys is `*` or equal; the
//! matching rows are ranked by specificity with branch weighing most, then category, then item
//! type (Koha's order): `B/C/T`, `B/C/*`, `B/*/T`, `B/*/*`, `*/C/T`, `*/C/*`, `*/*/T`, `*/*/*`.
//!
//! **A blank field is not zero.** Every field of a row is optional; a blank field falls back to
//! the next less specific matching row, one field at a time. Koha reads a blank fine field as
//! "no fine" or "no cap" depending on the field, and libraries find out from patrons' receipts.
//! Here a row says only what it changes, and the `*/*/*` default row must set every field, so
//! resolution always ends in a value and never in a silent zero. Things that may truly be
//! absent (no fine cap, no hard due date, never declared lost) are explicit values of [`Limit`].
//!
//! **Whose branch.** One library-wide setting, [`GoverningBranch`], says whether the checkout
//! branch, the item's home branch or the patron's home branch picks the rows.
//!
//! **Why.** [`Resolution`] carries the rule and an [`Explanation`]: the rows that matched, the
//! row that won, and for each parameter the row its value came from.

use crate::Money;
use catalog::Code;
use chrono::NaiveDate;
use std::fmt;

/// The unit of a loan period, a grace period and a fine rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    Days,
    Hours,
}

/// A length of time: a loan period (14 days, 4 hours for laptops), a renewal period, a grace period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    pub count: u32,
    pub unit: TimeUnit,
}

impl Period {
    pub const fn days(count: u32) -> Period {
        Period { count, unit: TimeUnit::Days }
    }

    pub const fn hours(count: u32) -> Period {
        Period { count, unit: TimeUnit::Hours }
    }

    /// This period counted in `unit`; a part-day of hours counts as a whole day, so a grace
    /// period is never shortened by conversion.
    pub fn in_unit(self, unit: TimeUnit) -> u32 {
        match (self.unit, unit) {
            (a, b) if a == b => self.count,
            (TimeUnit::Days, _) => self.count.saturating_mul(24),
            (TimeUnit::Hours, _) => self.count.div_ceil(24),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match (self.unit, self.count) {
            (TimeUnit::Days, 1) => "day",
            (TimeUnit::Days, _) => "days",
            (TimeUnit::Hours, 1) => "hour",
            (TimeUnit::Hours, _) => "hours",
        };
        write!(f, "{} {unit}", self.count)
    }
}

/// An overdue fine: `amount` for every open `per` (day or hour) late. Zero is a fine-free rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FineRate {
    pub amount: Money,
    pub per: TimeUnit,
}

impl FineRate {
    pub const fn free() -> FineRate {
        FineRate { amount: Money::ZERO, per: TimeUnit::Days }
    }

    pub fn is_free(self) -> bool {
        self.amount.minor() <= 0
    }
}

impl fmt::Display for FineRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_free() {
            return f.write_str("none (fine-free)");
        }
        let per = match self.per {
            TimeUnit::Days => "day",
            TimeUnit::Hours => "hour",
        };
        write!(f, "{} per {per}", self.amount)
    }
}

/// A limit that a rule may explicitly leave off: a fine cap, a hard due date, lost-after days.
/// "No limit" is a value a row sets on purpose, distinct from a blank field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit<T> {
    Unlimited,
    At(T),
}

impl<T: Copy> Limit<T> {
    pub fn value(self) -> Option<T> {
        match self {
            Limit::Unlimited => None,
            Limit::At(v) => Some(v),
        }
    }
}

impl<T: fmt::Display> fmt::Display for Limit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Unlimited => f.write_str("none"),
            Limit::At(v) => v.fmt(f),
        }
    }
}

macro_rules! rule_parameters {
    ($( $(#[$doc:meta])* $field:ident : $ty:ty => $variant:ident ; )*) => {
        /// One row's settings. `None` is a blank field: it falls back to the next less specific
        /// matching row, never to zero.
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        pub struct RuleSettings {
            $( $(#[$doc])* pub $field: Option<$ty>, )*
        }

        /// Every parameter with a value: what governs one loan.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct Rule {
            $( $(#[$doc])* pub $field: $ty, )*
        }

        /// A parameter of the rule matrix, for explanations and configuration errors.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Parameter {
            $( $variant, )*
        }

        impl Parameter {
            pub const ALL: &'static [Parameter] = &[$(Parameter::$variant,)*];

            /// The stable name, as in configuration files and the API.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Parameter::$variant => stringify!($field), )*
                }
            }
        }

        impl RuleSettings {
            /// The parameters this row leaves blank.
            pub fn blank(&self) -> Vec<Parameter> {
                let mut blank = Vec::new();
                $( if self.$field.is_none() { blank.push(Parameter::$variant); } )*
                blank
            }

            /// The row's value of one parameter as a clerk reads it; `None` when blank.
            pub fn value_text(&self, p: Parameter) -> Option<String> {
                match p {
                    $( Parameter::$variant => self.$field.map(|v| v.to_string()), )*
                }
            }

            fn complete(&self) -> Option<Rule> {
                Some(Rule { $( $field: self.$field?, )* })
            }
        }

        impl Rule {
            /// The value of one parameter as a clerk reads it.
            pub fn value_text(&self, p: Parameter) -> String {
                match p {
                    $( Parameter::$variant => self.$field.to_string(), )*
                }
            }

            /// Every parameter set to this rule's value: a complete default row.
            pub fn to_settings(&self) -> RuleSettings {
                RuleSettings { $( $field: Some(self.$field), )* }
            }
        }

        fn merge(matched: &[&RuleRow], default: &Rule, default_key: &RuleKey) -> (Rule, Vec<(Parameter, RuleKey)>) {
            let mut sources = Vec::with_capacity(Parameter::ALL.len());
            let rule = Rule {
                $( $field: {
                    let found = matched.iter().find_map(|row| row.settings.$field.map(|v| (v, &row.key)));
                    let (value, key) = found.unwrap_or((default.$field, default_key));
                    sources.push((Parameter::$variant, key.clone()));
                    value
                }, )*
            };
            (rule, sources)
        }
    };
}

rule_parameters! {
    /// How long a checkout lasts: days, or hours for laptops and room keys. Zero makes the
    /// item type not for loan (reference only) for this patron category.
    loan_period: Period => LoanPeriod;
    /// How many loans the patron may have at once (of this item type when the row that sets it
    /// names an item type, of any type when it says `*`).
    max_loans: u32 => MaxLoans;
    /// How many times a loan may be renewed.
    renewals_allowed: u32 => RenewalsAllowed;
    /// How long a renewal lasts, counted from the day of renewal.
    renewal_period: Period => RenewalPeriod;
    /// The overdue fine per open day or hour; zero for fine-free libraries.
    fine: FineRate => Fine;
    /// Open days (or hours) late that are forgiven before fines start, deducted from the count.
    grace_period: Period => GracePeriod;
    /// The most one overdue loan can cost; the item's price caps it as well.
    max_fine: Limit<Money> => MaxFine;
    /// Days overdue after which the item is declared lost and its price charged.
    lost_after_days: Limit<u32> => LostAfterDays;
    /// The processing fee charged with a lost item's replacement price.
    lost_processing_fee: Money => LostProcessingFee;
    /// Whether patrons of this category may place holds on items of this type.
    hold_allowed: bool => HoldAllowed;
    /// How many holds the patron may have at once.
    max_holds: u32 => MaxHolds;
    /// Open days a trapped item waits on the hold shelf for its patron.
    hold_shelf_days: u32 => HoldShelfDays;
    /// The last possible due date whatever the loan period (end of term).
    hard_due_date: Limit<NaiveDate> => HardDueDate;
}

/// One key of a row: a code, or `*` for any.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    Any,
    Only(Code),
}

impl Scope {
    fn matches(&self, code: &Code) -> bool {
        match self {
            Scope::Any => true,
            Scope::Only(c) => c == code,
        }
    }

    fn is_specific(&self) -> bool {
        matches!(self, Scope::Only(_))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Any => f.write_str("*"),
            Scope::Only(c) => c.fmt(f),
        }
    }
}

/// Where a row applies: branch x patron category x item type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RuleKey {
    pub branch: Scope,
    pub category: Scope,
    pub item_type: Scope,
}

impl RuleKey {
    pub const DEFAULT: RuleKey = RuleKey { branch: Scope::Any, category: Scope::Any, item_type: Scope::Any };

    fn matches(&self, branch: &Code, category: &Code, item_type: &Code) -> bool {
        self.branch.matches(branch) && self.category.matches(category) && self.item_type.matches(item_type)
    }

    /// Why this key does not match (branch, category, item type): each part that names another
    /// code, with the part's name and the code the row names. Empty when it matches.
    pub fn mismatches(&self, branch: &Code, category: &Code, item_type: &Code) -> Vec<(&'static str, &Code)> {
        [
            ("branch", &self.branch, branch),
            ("category", &self.category, category),
            ("item type", &self.item_type, item_type),
        ]
        .into_iter()
        .filter_map(|(part, scope, asked)| match scope {
            Scope::Only(c) if c != asked => Some((part, c)),
            _ => None,
        })
        .collect()
    }

    /// Whether a match of this key would win over a match of `other` (see the module doc).
    pub fn outranks(&self, other: &RuleKey) -> bool {
        self.specificity() > other.specificity()
    }

    /// Branch outweighs category, which outweighs item type: see the module doc.
    fn specificity(&self) -> u8 {
        u8::from(self.branch.is_specific()) * 4
            + u8::from(self.category.is_specific()) * 2
            + u8::from(self.item_type.is_specific())
    }
}

impl fmt::Display for RuleKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.branch, self.category, self.item_type)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRow {
    pub key: RuleKey,
    pub settings: RuleSettings,
}

/// Whose branch picks the rows of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GoverningBranch {
    /// The branch where the checkout happens (Koha's default, `CircControl = PickupLibrary`).
    CheckoutBranch,
    /// The item's home branch: each branch sets the terms for its own collection.
    ItemHomeBranch,
    /// The patron's home branch: a patron gets the same terms wherever they borrow.
    PatronHomeBranch,
}

impl GoverningBranch {
    pub fn pick(self, ctx: &BranchContext) -> &Code {
        match self {
            GoverningBranch::CheckoutBranch => &ctx.checkout_branch,
            GoverningBranch::ItemHomeBranch => &ctx.item_home_branch,
            GoverningBranch::PatronHomeBranch => &ctx.patron_home_branch,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            GoverningBranch::CheckoutBranch => "checkout branch",
            GoverningBranch::ItemHomeBranch => "item's home branch",
            GoverningBranch::PatronHomeBranch => "patron's home branch",
        }
    }
}

/// The three branches a circulation event involves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchContext {
    pub checkout_branch: Code,
    pub item_home_branch: Code,
    pub patron_home_branch: Code,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("the rule matrix has no */*/* default row")]
    MissingDefault,
    #[error("the */*/* default row leaves blank: {}", names(.0))]
    IncompleteDefault(Vec<Parameter>),
    #[error("two rows have the key {0}")]
    DuplicateKey(RuleKey),
}

fn names(ps: &[Parameter]) -> String {
    ps.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
}

/// The rule matrix: a complete default row and any number of more specific rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleMatrix {
    default: Rule,
    /// Most specific first, so the first match of each field is the one that wins.
    rows: Vec<RuleRow>,
    governing: GoverningBranch,
}

impl RuleMatrix {
    /// Builds the matrix from its rows as configured. Refuses a matrix whose `*/*/*` row is
    /// missing or leaves a field blank, since a blank there would have nothing to fall back to.
    pub fn new(rows: Vec<RuleRow>, governing: GoverningBranch) -> Result<RuleMatrix, RuleError> {
        let mut default = None;
        let mut others: Vec<RuleRow> = Vec::with_capacity(rows.len());
        for row in rows {
            if row.key == RuleKey::DEFAULT {
                if default.is_some() {
                    return Err(RuleError::DuplicateKey(row.key));
                }
                default = Some(row.settings);
            } else if others.iter().any(|o| o.key == row.key) {
                return Err(RuleError::DuplicateKey(row.key));
            } else {
                others.push(row);
            }
        }
        let default = default.ok_or(RuleError::MissingDefault)?;
        let default = default.complete().ok_or_else(|| RuleError::IncompleteDefault(default.blank()))?;
        // Stable sort: rows of equal specificity cannot both match (they differ in a specific
        // key of the same position), so their order never matters.
        others.sort_by_key(|r| std::cmp::Reverse(r.key.specificity()));
        Ok(RuleMatrix { default, rows: others, governing })
    }

    pub fn governing(&self) -> GoverningBranch {
        self.governing
    }

    /// The complete `*/*/*` row.
    pub fn default_rule(&self) -> &Rule {
        &self.default
    }

    /// Every row but `*/*/*`, most specific first.
    pub fn rows(&self) -> &[RuleRow] {
        &self.rows
    }

    /// The rule for a circulation event, with the branch chosen by the governing setting.
    pub fn resolve_for(&self, ctx: &BranchContext, category: &Code, item_type: &Code) -> Resolution {
        let mut resolution = self.resolve(self.governing.pick(ctx), category, item_type);
        resolution.explanation.governing = Some(self.governing);
        resolution
    }

    /// The rule for one (branch, category, item type), and why.
    pub fn resolve(&self, branch: &Code, category: &Code, item_type: &Code) -> Resolution {
        let matched: Vec<&RuleRow> = self.rows.iter().filter(|r| r.key.matches(branch, category, item_type)).collect();
        let (rule, sources) = merge(&matched, &self.default, &RuleKey::DEFAULT);
        let mut candidates: Vec<RuleKey> = matched.iter().map(|r| r.key.clone()).collect();
        candidates.push(RuleKey::DEFAULT);
        Resolution {
            rule,
            explanation: Explanation {
                branch: branch.clone(),
                category: category.clone(),
                item_type: item_type.clone(),
                governing: None,
                candidates,
                sources,
            },
        }
    }
}

/// A resolved rule and where each of its values came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub rule: Rule,
    pub explanation: Explanation,
}

impl Resolution {
    /// Whether `max_loans` counts loans of this item type only: it does when the row that set
    /// it names an item type, and counts all loans when that row says `*`.
    pub fn max_loans_per_item_type(&self) -> bool {
        self.explanation.source(Parameter::MaxLoans).is_some_and(|k| k.item_type.is_specific())
    }
}

/// "Which rule applies and why."
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub branch: Code,
    pub category: Code,
    pub item_type: Code,
    /// The governing-branch setting that chose `branch`, when resolved for an event.
    pub governing: Option<GoverningBranch>,
    /// Every matching row, most specific (the winner) first, `*/*/*` last.
    pub candidates: Vec<RuleKey>,
    /// For each parameter, the row its value came from.
    pub sources: Vec<(Parameter, RuleKey)>,
}

impl Explanation {
    /// The most specific matching row.
    pub fn winner(&self) -> &RuleKey {
        self.candidates.first().unwrap_or(&RuleKey::DEFAULT)
    }

    pub fn source(&self, p: Parameter) -> Option<&RuleKey> {
        self.sources.iter().find(|(q, _)| *q == p).map(|(_, k)| k)
    }

    /// The explanation as lines a manager reads, with the values from `rule`.
    pub fn describe(&self, rule: &Rule) -> String {
        let mut out = format!("branch {}, category {}, item type {}", self.branch, self.category, self.item_type);
        if let Some(g) = self.governing {
            out.push_str(&format!(" (branch is the {})", g.as_str()));
        }
        let candidates: Vec<String> = self.candidates.iter().map(ToString::to_string).collect();
        out.push_str(&format!("\nmatched: {}\nwon: {}", candidates.join(", "), self.winner()));
        for (p, key) in &self.sources {
            let note =
                if key == self.winner() { String::new() } else { format!(" (fallback: blank in {})", self.winner()) };
            out.push_str(&format!("\n{} = {} from {key}{note}", p.as_str(), rule.value_text(*p)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{code, default_rule};
    use proptest::prelude::*;

    fn key(b: &str, c: &str, t: &str) -> RuleKey {
        let s = |v: &str| if v == "*" { Scope::Any } else { Scope::Only(code(v)) };
        RuleKey { branch: s(b), category: s(c), item_type: s(t) }
    }

    fn row(b: &str, c: &str, t: &str, settings: RuleSettings) -> RuleRow {
        RuleRow { key: key(b, c, t), settings }
    }

    fn matrix(rows: Vec<RuleRow>) -> RuleMatrix {
        let mut all = vec![RuleRow { key: RuleKey::DEFAULT, settings: default_rule().to_settings() }];
        all.extend(rows);
        RuleMatrix::new(all, GoverningBranch::CheckoutBranch).unwrap()
    }

    #[test]
    fn most_specific_row_wins_in_koha_order() {
        let keys = [
            ("CPL", "ADULT", "DVD"),
            ("CPL", "ADULT", "*"),
            ("CPL", "*", "DVD"),
            ("CPL", "*", "*"),
            ("*", "ADULT", "DVD"),
            ("*", "ADULT", "*"),
            ("*", "*", "DVD"),
        ];
        // Drop rows from the most specific end: each time the next one in Koha's order wins.
        for skip in 0..keys.len() {
            let rows = keys[skip..]
                .iter()
                .enumerate()
                .map(|(i, (b, c, t))| {
                    row(b, c, t, RuleSettings { max_loans: Some(100 + (skip + i) as u32), ..Default::default() })
                })
                .collect();
            let r = matrix(rows).resolve(&code("CPL"), &code("ADULT"), &code("DVD"));
            assert_eq!(r.rule.max_loans, 100 + skip as u32, "skip {skip}");
            let (b, c, t) = keys[skip];
            assert_eq!(r.explanation.winner(), &key(b, c, t));
        }
    }

    #[test]
    fn a_key_says_which_parts_do_not_match_and_which_key_outranks() {
        let (b, c, t) = (code("CPL"), code("ADULT"), code("DVD"));
        assert!(key("CPL", "*", "DVD").mismatches(&b, &c, &t).is_empty());
        let k = key("OAK", "CHILD", "*");
        let parts: Vec<(&str, String)> =
            k.mismatches(&b, &c, &t).into_iter().map(|(p, c)| (p, c.to_string())).collect();
        assert_eq!(parts, vec![("branch", "OAK".to_string()), ("category", "CHILD".to_string())]);
        assert!(key("CPL", "*", "*").outranks(&key("*", "ADULT", "DVD")));
        assert!(!key("*", "ADULT", "*").outranks(&key("*", "ADULT", "*")));
        let m = matrix(vec![row("CPL", "*", "*", RuleSettings::default())]);
        assert_eq!(m.rows().len(), 1);
        let half = RuleSettings { max_loans: Some(3), ..Default::default() };
        assert_eq!(half.value_text(Parameter::MaxLoans).as_deref(), Some("3"));
        assert_eq!(half.value_text(Parameter::LoanPeriod), None);
        assert_eq!(m.default_rule(), &default_rule());
    }

    #[test]
    fn blank_fields_fall_back_one_field_at_a_time() {
        let m = matrix(vec![
            row("CPL", "*", "DVD", RuleSettings { loan_period: Some(Period::days(7)), ..Default::default() }),
            row(
                "CPL",
                "*",
                "*",
                RuleSettings {
                    fine: Some(FineRate { amount: Money::from_minor(25), per: TimeUnit::Days }),
                    ..Default::default()
                },
            ),
        ]);
        let r = m.resolve(&code("CPL"), &code("ADULT"), &code("DVD"));
        assert_eq!(r.rule.loan_period, Period::days(7));
        assert_eq!(r.rule.fine.amount, Money::from_minor(25));
        assert_eq!(r.rule.max_fine, default_rule().max_fine);
        assert_eq!(r.explanation.source(Parameter::LoanPeriod), Some(&key("CPL", "*", "DVD")));
        assert_eq!(r.explanation.source(Parameter::Fine), Some(&key("CPL", "*", "*")));
        assert_eq!(r.explanation.source(Parameter::MaxFine), Some(&RuleKey::DEFAULT));
        assert_eq!(r.explanation.candidates, vec![key("CPL", "*", "DVD"), key("CPL", "*", "*"), RuleKey::DEFAULT]);
        let text = r.explanation.describe(&r.rule);
        assert!(text.contains("won: CPL/*/DVD"), "{text}");
        assert!(text.contains("fine = 0.25 per day from CPL/*/*"), "{text}");
        // Another branch matches only the default row.
        let other = m.resolve(&code("MPL"), &code("ADULT"), &code("DVD"));
        assert_eq!(other.rule, default_rule());
    }

    #[test]
    fn an_explicit_zero_is_not_a_blank() {
        let m = matrix(vec![row(
            "*",
            "STAFF",
            "*",
            RuleSettings { fine: Some(FineRate::free()), max_fine: Some(Limit::Unlimited), ..Default::default() },
        )]);
        let r = m.resolve(&code("CPL"), &code("STAFF"), &code("BK"));
        assert!(r.rule.fine.is_free());
        assert_eq!(r.rule.max_fine, Limit::Unlimited);
    }

    #[test]
    fn the_default_row_must_be_complete_and_keys_unique() {
        let incomplete = RuleSettings { max_loans: None, ..default_rule().to_settings() };
        assert_eq!(
            RuleMatrix::new(vec![row("*", "*", "*", incomplete)], GoverningBranch::CheckoutBranch),
            Err(RuleError::IncompleteDefault(vec![Parameter::MaxLoans]))
        );
        assert_eq!(RuleMatrix::new(vec![], GoverningBranch::CheckoutBranch), Err(RuleError::MissingDefault));
        let dup = vec![
            row("*", "*", "*", default_rule().to_settings()),
            row("CPL", "*", "*", RuleSettings::default()),
            row("CPL", "*", "*", RuleSettings::default()),
        ];
        assert_eq!(
            RuleMatrix::new(dup, GoverningBranch::CheckoutBranch),
            Err(RuleError::DuplicateKey(key("CPL", "*", "*")))
        );
    }

    #[test]
    fn governing_branch_setting_picks_the_branch() {
        let rows = vec![
            row("*", "*", "*", default_rule().to_settings()),
            row("A", "*", "*", RuleSettings { max_loans: Some(1), ..Default::default() }),
            row("B", "*", "*", RuleSettings { max_loans: Some(2), ..Default::default() }),
            row("C", "*", "*", RuleSettings { max_loans: Some(3), ..Default::default() }),
        ];
        let ctx =
            BranchContext { checkout_branch: code("A"), item_home_branch: code("B"), patron_home_branch: code("C") };
        for (g, want) in [
            (GoverningBranch::CheckoutBranch, 1),
            (GoverningBranch::ItemHomeBranch, 2),
            (GoverningBranch::PatronHomeBranch, 3),
        ] {
            let m = RuleMatrix::new(rows.clone(), g).unwrap();
            let r = m.resolve_for(&ctx, &code("ADULT"), &code("BK"));
            assert_eq!(r.rule.max_loans, want);
            assert!(r.explanation.describe(&r.rule).contains(g.as_str()));
        }
    }

    #[test]
    fn max_loans_scope_follows_the_row_that_set_it() {
        let m = matrix(vec![row("*", "*", "DVD", RuleSettings { max_loans: Some(3), ..Default::default() })]);
        assert!(m.resolve(&code("CPL"), &code("ADULT"), &code("DVD")).max_loans_per_item_type());
        assert!(!m.resolve(&code("CPL"), &code("ADULT"), &code("BK")).max_loans_per_item_type());
    }

    proptest! {
        /// Whatever the rows, each parameter's value is the one of the most specific matching
        /// row that sets it, and its recorded source is that row.
        #[test]
        fn each_field_comes_from_the_most_specific_row_that_sets_it(
            rows in proptest::collection::vec((0u8..8, proptest::option::of(1u32..50), proptest::option::of(0u32..9)), 0..8)
        ) {
            let mut seen = std::collections::HashSet::new();
            let rows: Vec<RuleRow> = rows
                .into_iter()
                .filter(|(mask, _, _)| *mask != 0 && seen.insert(*mask))
                .map(|(mask, loans, holds)| {
                    let b = if mask & 4 != 0 { "CPL" } else { "*" };
                    let c = if mask & 2 != 0 { "ADULT" } else { "*" };
                    let t = if mask & 1 != 0 { "BK" } else { "*" };
                    row(b, c, t, RuleSettings { max_loans: loans, max_holds: holds, ..Default::default() })
                })
                .collect();
            let r = matrix(rows.clone()).resolve(&code("CPL"), &code("ADULT"), &code("BK"));
            let mut ordered = rows.clone();
            ordered.sort_by_key(|r| std::cmp::Reverse(r.key.specificity()));
            let want_loans = ordered.iter().find_map(|r| r.settings.max_loans).unwrap_or(default_rule().max_loans);
            let want_holds = ordered.iter().find_map(|r| r.settings.max_holds).unwrap_or(default_rule().max_holds);
            prop_assert_eq!(r.rule.max_loans, want_loans);
            prop_assert_eq!(r.rule.max_holds, want_holds);
            let src = r.explanation.source(Parameter::MaxLoans).unwrap().clone();
            let src_row = ordered.iter().find(|r| r.key == src);
            prop_assert!(src == RuleKey::DEFAULT || src_row.is_some_and(|r| r.settings.max_loans == Some(want_loans)));
            prop_assert_eq!(r.explanation.candidates.len(), rows.len() + 1);
        }
    }
}
