//! CQL onto the search crate's criteria: which indexes and relations this server answers (the
//! [`capabilities`] the cql crate validates against, and the explain record lists), and the
//! translation of a validated query into a [`Criterion`] tree, or of a scan clause into the
//! field and start term to list.
//!
//! | index | relations | searched as |
//! |---|---|---|
//! | `cql.serverChoice`, `cql.anywhere` | `=` `adj` `all` `any` | the keyword fields |
//! | `dc.title` | `=` `adj` `all` `any` `==` | title words; `==` the whole title |
//! | `dc.creator`, `bath.name` | `=` `adj` `all` `any` | author words |
//! | `dc.subject`, `bath.subject` | `=` `adj` `all` `any` | subject words |
//! | `dc.publisher` | `=` `adj` `all` `any` | publisher words |
//! | `dc.date` | `=` `==` `<` `>` `<=` `>=` | the publication year |
//! | `dc.identifier` | `=` `==` | ISBN, ISSN or LCCN |
//! | `bath.isbn`, `bath.issn`, `bath.lccn` | `=` `==` | that identifier (any form: ISBN-10 finds ISBN-13) |
//! | `rec.id` | `=` `==` | the record number |
//! | `cql.allRecords` | `=` | every record |
//!
//! `=` on a word index is `adj`: the words in order, next to each other, as CQL 1.2 suggests
//! for a term of several words. Masking (`*`, `?`) works within one word; a masked word needs a
//! literal character (diagnostic 29 otherwise), and masking inside an `adj` phrase of several
//! words is diagnostic 33. Anchoring, proximity, relation modifiers and `sortby` are not
//! supported and get their diagnostics (31, 39, 20, 80).

use std::ops::Bound;

use cql::{
    BooleanOp, Capabilities, Comparator, Diagnostic, DiagnosticKind as K, Index, IndexCapability, Node, Piece, Query,
    Term, BATH, CQL, DC, REC,
};
use search::query::SearchField;
use search::structured::{Criterion, Mask, Target};

/// What one index searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Words(Target),
    WholeTitleToo,
    Year,
    Identifier(Option<SearchField>),
    RecordId,
    AllRecords,
}

const WORD_RELATIONS: &[Comparator] = &[Comparator::Eq, Comparator::Adj, Comparator::All, Comparator::Any];

/// One row of the table above: context set, name, title for explain, what it searches.
struct IndexDef {
    set: &'static str,
    name: &'static str,
    title: &'static str,
    kind: Kind,
}

const INDEXES: &[IndexDef] = &[
    IndexDef {
        set: CQL,
        name: "serverChoice",
        title: "Keywords (title, author, subject, series, publisher, notes)",
        kind: Kind::Words(Target::Keywords),
    },
    IndexDef {
        set: CQL,
        name: "anywhere",
        title: "Anywhere (the keyword fields and identifiers)",
        kind: Kind::Words(Target::Keywords),
    },
    IndexDef { set: CQL, name: "allRecords", title: "All records", kind: Kind::AllRecords },
    IndexDef { set: DC, name: "title", title: "Title", kind: Kind::WholeTitleToo },
    IndexDef { set: DC, name: "creator", title: "Author", kind: Kind::Words(Target::Field(SearchField::Author)) },
    IndexDef { set: DC, name: "subject", title: "Subject", kind: Kind::Words(Target::Field(SearchField::Subject)) },
    IndexDef {
        set: DC,
        name: "publisher",
        title: "Publisher",
        kind: Kind::Words(Target::Field(SearchField::Publisher)),
    },
    IndexDef { set: DC, name: "date", title: "Year of publication", kind: Kind::Year },
    IndexDef { set: DC, name: "identifier", title: "ISBN, ISSN or LCCN", kind: Kind::Identifier(None) },
    IndexDef { set: BATH, name: "isbn", title: "ISBN", kind: Kind::Identifier(Some(SearchField::Isbn)) },
    IndexDef { set: BATH, name: "issn", title: "ISSN", kind: Kind::Identifier(Some(SearchField::Issn)) },
    IndexDef { set: BATH, name: "lccn", title: "LCCN", kind: Kind::Identifier(Some(SearchField::Lccn)) },
    IndexDef { set: BATH, name: "name", title: "Name (author)", kind: Kind::Words(Target::Field(SearchField::Author)) },
    IndexDef { set: BATH, name: "subject", title: "Subject", kind: Kind::Words(Target::Field(SearchField::Subject)) },
    IndexDef { set: REC, name: "id", title: "Record number", kind: Kind::RecordId },
];

impl Kind {
    fn relations(self) -> Vec<Comparator> {
        match self {
            Kind::Words(_) => WORD_RELATIONS.to_vec(),
            Kind::WholeTitleToo => {
                let mut r = WORD_RELATIONS.to_vec();
                r.extend([Comparator::Exact, Comparator::Named("exact".into())]);
                r
            }
            Kind::Year => {
                vec![Comparator::Eq, Comparator::Exact, Comparator::Lt, Comparator::Gt, Comparator::Le, Comparator::Ge]
            }
            Kind::Identifier(_) | Kind::RecordId => vec![Comparator::Eq, Comparator::Exact],
            Kind::AllRecords => vec![Comparator::Eq],
        }
    }

    /// The field a scan of this index lists, when it can be listed.
    fn scan_field(self) -> Option<SearchField> {
        match self {
            Kind::Words(Target::Field(f)) => Some(f),
            Kind::WholeTitleToo => Some(SearchField::Title),
            Kind::Identifier(Some(f)) => Some(f),
            _ => None,
        }
    }
}

/// An index as the explain record lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexInfo {
    /// The context set's short name (`dc`).
    pub set: &'static str,
    pub name: &'static str,
    pub title: &'static str,
    pub relations: Vec<Comparator>,
    pub scannable: bool,
}

/// Every index this server searches, in explain order.
pub fn indexes() -> Vec<IndexInfo> {
    INDEXES
        .iter()
        .map(|d| IndexInfo {
            set: short_name(d.set),
            name: d.name,
            title: d.title,
            relations: d.kind.relations(),
            scannable: d.kind.scan_field().is_some(),
        })
        .collect()
}

fn short_name(uri: &str) -> &'static str {
    cql::KNOWN_CONTEXT_SETS.iter().find(|(_, u)| *u == uri).map(|(n, _)| *n).unwrap_or("cql")
}

/// What this server supports, for [`cql::validate`].
pub fn capabilities() -> Capabilities {
    Capabilities {
        indexes: INDEXES.iter().map(|d| IndexCapability::new(d.set, d.name, &d.kind.relations())).collect(),
        booleans: vec![BooleanOp::And, BooleanOp::Or, BooleanOp::Not],
        boolean_modifiers: Vec::new(),
        proximity: None,
        relation_modifiers: Vec::new(),
        masking: true,
        anchoring: false,
        empty_terms: false,
        sort: None,
    }
}

fn definition(index: &Index) -> Option<&'static IndexDef> {
    INDEXES.iter().find(|d| index.is(d.set, d.name))
}

/// Parses, validates and translates a CQL query: the criterion to search, or the diagnostic
/// that says why not.
pub fn plan(query: &str) -> Result<Criterion, Diagnostic> {
    let parsed = cql::parse(query).map_err(|e| e.diagnostic())?;
    translate(&parsed)
}

/// Translates a parsed query (validated here first).
pub fn translate(query: &Query) -> Result<Criterion, Diagnostic> {
    cql::validate(query, &capabilities())?;
    node(&query.root)
}

fn node(node: &Node) -> Result<Criterion, Diagnostic> {
    match node {
        Node::Scoped { query, .. } => self::node(query),
        Node::Boolean { op, left, right, .. } => {
            let (left, right) = (self::node(left)?, self::node(right)?);
            Ok(match op {
                BooleanOp::And => Criterion::And(vec![left, right]),
                BooleanOp::Or => Criterion::Or(vec![left, right]),
                BooleanOp::Not => Criterion::Not { include: Box::new(left), exclude: Box::new(right) },
                // validate() refused prox already; say so again rather than guess.
                BooleanOp::Prox => return Err(Diagnostic::bare(K::ProximityNotSupported)),
            })
        }
        Node::Clause { index, relation, term } => {
            let def = definition(index).ok_or_else(|| Diagnostic::new(K::UnsupportedIndex, index.written()))?;
            clause(def, &relation.comparator, term)
        }
    }
}

fn clause(def: &IndexDef, comparator: &Comparator, term: &Term) -> Result<Criterion, Diagnostic> {
    match def.kind {
        Kind::AllRecords => Ok(Criterion::All),
        Kind::Words(target) => words(target, comparator, term),
        Kind::WholeTitleToo => match comparator {
            Comparator::Exact | Comparator::Named(_) => Ok(Criterion::WholeTitle { pattern: masks(term.pattern())? }),
            _ => words(Target::Field(SearchField::Title), comparator, term),
        },
        Kind::Year => year(comparator, term),
        Kind::Identifier(field) => {
            let value = unmasked(term)?;
            let fields = match field {
                Some(f) => vec![f],
                None => vec![SearchField::Isbn, SearchField::Issn, SearchField::Lccn],
            };
            let mut alternatives: Vec<Criterion> = fields
                .into_iter()
                .map(|f| Criterion::Words { target: Target::Field(f), text: value.clone() })
                .collect();
            Ok(if alternatives.len() == 1 { alternatives.remove(0) } else { Criterion::Or(alternatives) })
        }
        Kind::RecordId => {
            let value = unmasked(term)?;
            let id = value.trim().parse::<i64>().map_err(|_| Diagnostic::new(K::TermInInvalidFormat, value.clone()))?;
            Ok(Criterion::RecordId(id))
        }
    }
}

fn unmasked(term: &Term) -> Result<String, Diagnostic> {
    term.as_literal().ok_or_else(|| Diagnostic::new(K::MaskingCharacterNotSupported, term.text()))
}

/// The word relations: `all` and `any` take each word on its own (masked or not); `=` and
/// `adj` the words as a phrase.
fn words(target: Target, comparator: &Comparator, term: &Term) -> Result<Criterion, Diagnostic> {
    let words = term.words();
    if words.is_empty() {
        return Err(Diagnostic::bare(K::EmptyTermUnsupported));
    }
    let one = |pieces: &[Piece]| -> Result<Criterion, Diagnostic> {
        let pattern = masks(pieces)?;
        match pattern.as_slice() {
            [Mask::Literal(text)] => Ok(Criterion::Words { target, text: text.clone() }),
            _ => {
                let literal: usize =
                    pattern
                        .iter()
                        .map(|m| {
                            if let Mask::Literal(s) = m {
                                s.chars().filter(|c| c.is_alphanumeric()).count()
                            } else {
                                0
                            }
                        })
                        .sum();
                if literal < MIN_MASKED_LITERAL {
                    return Err(Diagnostic::new(K::MaskedWordsTooShort, MIN_MASKED_LITERAL.to_string()));
                }
                Ok(Criterion::MaskedWord { target, pattern })
            }
        }
    };
    match comparator {
        Comparator::All | Comparator::Any => {
            let mut parts = words.iter().map(|w| one(w)).collect::<Result<Vec<_>, _>>()?;
            if parts.len() == 1 {
                return Ok(parts.remove(0));
            }
            Ok(if *comparator == Comparator::All { Criterion::And(parts) } else { Criterion::Or(parts) })
        }
        _ => {
            if words.len() == 1 {
                return one(&words[0]);
            }
            match term.as_literal() {
                Some(text) => Ok(Criterion::Words { target, text }),
                None => Err(Diagnostic::new(K::ProximityAndMaskingNotSupported, term.text())),
            }
        }
    }
}

/// A masked word needs this many letters or digits, so `*` alone never lists a whole index.
pub const MIN_MASKED_LITERAL: usize = 1;

fn masks(pieces: &[Piece]) -> Result<Vec<Mask>, Diagnostic> {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Literal(s) => Ok(Mask::Literal(s.clone())),
            Piece::AnyChars => Ok(Mask::AnyChars),
            Piece::OneChar => Ok(Mask::OneChar),
            // validate() refuses anchoring (capabilities say so); this is the same answer.
            Piece::Anchor => Err(Diagnostic::bare(K::AnchoringCharacterNotSupported)),
        })
        .collect()
}

fn year(comparator: &Comparator, term: &Term) -> Result<Criterion, Diagnostic> {
    let text = unmasked(term)?;
    let trimmed = text.trim();
    let y = (trimmed.len() == 4 && trimmed.bytes().all(|b| b.is_ascii_digit()))
        .then(|| trimmed.parse::<i32>().ok())
        .flatten()
        .ok_or_else(|| Diagnostic::new(K::TermInInvalidFormat, format!("{text} (a year of four digits)")))?;
    let (from, to) = match comparator {
        Comparator::Lt => (Bound::Unbounded, Bound::Excluded(y)),
        Comparator::Le => (Bound::Unbounded, Bound::Included(y)),
        Comparator::Gt => (Bound::Excluded(y), Bound::Unbounded),
        Comparator::Ge => (Bound::Included(y), Bound::Unbounded),
        _ => (Bound::Included(y), Bound::Included(y)),
    };
    Ok(Criterion::Years { from, to })
}

/// What a scan lists: the field and the term to start from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanPlan {
    pub field: SearchField,
    pub from: String,
}

/// Reads a scan clause (`dc.title = whale`, or a bare term for `cql.serverChoice`).
pub fn plan_scan(scan_clause: &str) -> Result<ScanPlan, Diagnostic> {
    let parsed = cql::parse(scan_clause).map_err(|e| e.diagnostic())?;
    if !parsed.sort.is_empty() {
        return Err(Diagnostic::new(K::QuerySyntaxError, "a scan clause cannot sort"));
    }
    let mut root = &parsed.root;
    while let Node::Scoped { query, .. } = root {
        root = query;
    }
    let Node::Clause { index, relation, term } = root else {
        return Err(Diagnostic::new(K::QuerySyntaxError, "a scan clause is one index, relation and term"));
    };
    let def = definition(index).ok_or_else(|| match cql::known_context_set(index.prefix().unwrap_or("cql")) {
        Some(_) => Diagnostic::new(K::UnsupportedIndex, index.written()),
        None => Diagnostic::new(K::UnsupportedContextSet, index.context_set().to_string()),
    })?;
    let field = def.kind.scan_field().ok_or_else(|| Diagnostic::new(K::UnsupportedIndex, index.written()))?;
    if !matches!(relation.comparator, Comparator::Eq | Comparator::Exact) {
        return Err(Diagnostic::new(K::UnsupportedRelation, relation.comparator.as_str()));
    }
    if let Some(modifier) = relation.modifiers.first() {
        return Err(Diagnostic::new(K::UnsupportedRelationModifier, modifier.name.clone()));
    }
    let from = term.as_literal().ok_or_else(|| Diagnostic::new(K::MaskingCharacterNotSupported, term.text()))?;
    Ok(ScanPlan { field, from })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn words(field: SearchField, text: &str) -> Criterion {
        Criterion::Words { target: Target::Field(field), text: text.into() }
    }

    fn lit(s: &str) -> Mask {
        Mask::Literal(s.into())
    }

    fn refused(query: &str) -> (u16, Option<String>) {
        let d = plan(query).expect_err(query);
        (d.number(), d.details)
    }

    #[test]
    fn indexes_and_relations() {
        assert_eq!(plan("whale").unwrap(), Criterion::Words { target: Target::Keywords, text: "whale".into() });
        assert_eq!(
            plan("cql.anywhere = whale").unwrap(),
            Criterion::Words { target: Target::Keywords, text: "whale".into() }
        );
        assert_eq!(plan("dc.title = \"moby dick\"").unwrap(), words(SearchField::Title, "moby dick"));
        assert_eq!(plan("dc.title adj \"moby dick\"").unwrap(), words(SearchField::Title, "moby dick"));
        assert_eq!(
            plan("dc.title all \"moby dick\"").unwrap(),
            Criterion::And(vec![words(SearchField::Title, "moby"), words(SearchField::Title, "dick")])
        );
        assert_eq!(
            plan("dc.creator any \"melville hawthorne\"").unwrap(),
            Criterion::Or(vec![words(SearchField::Author, "melville"), words(SearchField::Author, "hawthorne")])
        );
        assert_eq!(plan("bath.name = melville").unwrap(), words(SearchField::Author, "melville"));
        assert_eq!(plan("bath.subject = whaling").unwrap(), words(SearchField::Subject, "whaling"));
        assert_eq!(plan("dc.subject = whaling").unwrap(), words(SearchField::Subject, "whaling"));
        assert_eq!(plan("dc.publisher = harper").unwrap(), words(SearchField::Publisher, "harper"));
        assert_eq!(
            plan("dc.title == \"Moby Dick\"").unwrap(),
            Criterion::WholeTitle { pattern: vec![lit("Moby Dick")] }
        );
        assert_eq!(
            plan("dc.title exact \"Moby Dick\"").unwrap(),
            Criterion::WholeTitle { pattern: vec![lit("Moby Dick")] }
        );
        assert_eq!(
            plan("dc.title == \"Moby *\"").unwrap(),
            Criterion::WholeTitle { pattern: vec![lit("Moby "), Mask::AnyChars] }
        );
        assert_eq!(plan("bath.isbn = 0-306-40615-2").unwrap(), words(SearchField::Isbn, "0-306-40615-2"));
        assert_eq!(plan("bath.lccn == 2001012345").unwrap(), words(SearchField::Lccn, "2001012345"));
        assert_eq!(
            plan("dc.identifier = 0028-0836").unwrap(),
            Criterion::Or(vec![
                words(SearchField::Isbn, "0028-0836"),
                words(SearchField::Issn, "0028-0836"),
                words(SearchField::Lccn, "0028-0836")
            ])
        );
        assert_eq!(plan("rec.id = 42").unwrap(), Criterion::RecordId(42));
        assert_eq!(plan("cql.allRecords = 1").unwrap(), Criterion::All);
    }

    #[test]
    fn dates() {
        let years = |from, to| Criterion::Years { from, to };
        assert_eq!(plan("dc.date = 1851").unwrap(), years(Bound::Included(1851), Bound::Included(1851)));
        assert_eq!(plan("dc.date < 1851").unwrap(), years(Bound::Unbounded, Bound::Excluded(1851)));
        assert_eq!(plan("dc.date <= 1851").unwrap(), years(Bound::Unbounded, Bound::Included(1851)));
        assert_eq!(plan("dc.date > 1851").unwrap(), years(Bound::Excluded(1851), Bound::Unbounded));
        assert_eq!(plan("dc.date >= 1851").unwrap(), years(Bound::Included(1851), Bound::Unbounded));
        assert_eq!(refused("dc.date = soon").0, 36);
        assert_eq!(refused("dc.date = 18510").0, 36);
        assert_eq!(refused("dc.date any 1851").0, 22);
        assert_eq!(refused("dc.title < 1851").0, 22);
    }

    #[test]
    fn masking() {
        assert_eq!(
            plan("dc.title = whal*").unwrap(),
            Criterion::MaskedWord {
                target: Target::Field(SearchField::Title),
                pattern: vec![lit("whal"), Mask::AnyChars]
            }
        );
        assert_eq!(
            plan("wom?n").unwrap(),
            Criterion::MaskedWord { target: Target::Keywords, pattern: vec![lit("wom"), Mask::OneChar, lit("n")] }
        );
        assert_eq!(
            plan("dc.title all \"moby whal*\"").unwrap(),
            Criterion::And(vec![
                words(SearchField::Title, "moby"),
                Criterion::MaskedWord {
                    target: Target::Field(SearchField::Title),
                    pattern: vec![lit("whal"), Mask::AnyChars]
                }
            ])
        );
        // An escaped star is a character, not masking.
        assert_eq!(plan(r"dc.title = whale\*").unwrap(), words(SearchField::Title, "whale*"));
        assert_eq!(refused("dc.title = *"), (29, Some("1".into())));
        assert_eq!(refused("dc.title = \"moby dic*\"").0, 33);
        assert_eq!(refused("bath.isbn = 978*").0, 28);
        assert_eq!(refused("rec.id = 4*").0, 28);
        assert_eq!(refused("dc.title = ^moby").0, 31);
    }

    #[test]
    fn booleans_and_scopes() {
        assert_eq!(
            plan("dc.title = moby and dc.creator = melville").unwrap(),
            Criterion::And(vec![words(SearchField::Title, "moby"), words(SearchField::Author, "melville")])
        );
        assert_eq!(
            plan("moby or (dick not whale)").unwrap(),
            Criterion::Or(vec![
                Criterion::Words { target: Target::Keywords, text: "moby".into() },
                Criterion::Not {
                    include: Box::new(Criterion::Words { target: Target::Keywords, text: "dick".into() }),
                    exclude: Box::new(Criterion::Words { target: Target::Keywords, text: "whale".into() }),
                }
            ])
        );
        assert_eq!(
            plan("> d = \"info:srw/cql-context-set/1/dc-v1.1\" d.title = moby").unwrap(),
            words(SearchField::Title, "moby")
        );
        assert_eq!(plan("(> x = \"info:srw/cql-context-set/2/rec-1.1\" x.id = 7)").unwrap(), Criterion::RecordId(7));
        assert_eq!(plan("DC.TITLE = moby").unwrap(), words(SearchField::Title, "moby"));
        assert_eq!(plan("a AND b").unwrap(), plan("a and b").unwrap());
    }

    #[test]
    fn every_refusal_has_its_number() {
        assert_eq!(refused("dc.format = book"), (16, Some("dc.format".into())));
        assert_eq!(refused("marc.245 = moby"), (15, Some("marc".into())));
        assert_eq!(refused("dc.title <> moby"), (19, Some("<>".into())));
        assert_eq!(refused("dc.title within moby").0, 19);
        assert_eq!(refused("dc.title =/stem moby"), (20, Some("stem".into())));
        assert_eq!(refused("moby prox dick").0, 39);
        assert_eq!(refused("moby and/rel.combine=sum dick").0, 46);
        assert_eq!(refused("moby sortby dc.title").0, 80);
        assert_eq!(refused("dc.title = \"\"").0, 27);
        assert_eq!(refused("(moby").0, 13);
        assert_eq!(refused("moby)").0, 13);
        assert_eq!(refused("\"moby").0, 14);
        assert_eq!(refused("dc.title =").0, 10);
        assert_eq!(refused("").0, 10);
        assert_eq!(refused("moby and").0, 10);
        assert_eq!(refused(r"dc.title = \q").0, 26);
        assert_eq!(refused("rec.id = seven").0, 36);
        assert_eq!(refused(&vec!["a"; 1002].join(" or ")).0, 38);
    }

    #[test]
    fn scan_clauses() {
        assert_eq!(plan_scan("dc.title = moby").unwrap(), ScanPlan { field: SearchField::Title, from: "moby".into() });
        assert_eq!(plan_scan("bath.isbn = 978").unwrap(), ScanPlan { field: SearchField::Isbn, from: "978".into() });
        assert_eq!(plan_scan("dc.creator == \"Melville, H\"").unwrap().from, "Melville, H");
        assert_eq!(plan_scan("dc.title = \"\"").unwrap().from, "");
        assert_eq!(plan_scan("moby").unwrap_err().number(), 16);
        assert_eq!(plan_scan("dc.date = 1851").unwrap_err().number(), 16);
        assert_eq!(plan_scan("dc.format = x").unwrap_err().number(), 16);
        assert_eq!(plan_scan("foo.bar = x").unwrap_err().number(), 15);
        assert_eq!(plan_scan("dc.title any moby").unwrap_err().number(), 19);
        assert_eq!(plan_scan("dc.title = moby and dc.title = dick").unwrap_err().number(), 10);
        assert_eq!(plan_scan("dc.title = mob*").unwrap_err().number(), 28);
        assert_eq!(plan_scan("(dc.title").unwrap_err().number(), 13);
    }

    proptest! {
        #[test]
        fn no_query_panics(input in "\\PC{0,80}") {
            let _ = plan(&input);
            let _ = plan_scan(&input);
        }

        #[test]
        fn no_cql_soup_panics(parts in proptest::collection::vec(prop_oneof![
            Just("dc.title"), Just("bath.isbn"), Just("rec.id"), Just("dc.date"), Just("x.y"), Just("="), Just("=="),
            Just("<"), Just(">="), Just("all"), Just("any"), Just("adj"), Just("and"), Just("or"), Just("not"),
            Just("prox"), Just("("), Just(")"), Just("\""), Just("*"), Just("?"), Just("^"), Just("\\"), Just("/"),
            Just("sortby"), Just(">"), Just("moby"), Just("1851"), Just(" ")], 0..24)) {
            let input = parts.join(" ");
            if let Err(d) = plan(&input) {
                prop_assert!(cql::DiagnosticKind::from_number(d.number()).is_some());
            }
        }
    }
}
