//! Copy-cataloging queries and their Type-1 (RPN) form with Bib-1 attributes.
//!
//! A [`Query::Term`] carries only its Bib-1 use attribute; the structure attribute is chosen
//! when the query is built: identifiers (ISBN, ISSN, LCCN) go out as a single word
//! (`4=2`) and are searched exactly as given, so the caller strips hyphens and qualifiers
//! ("(pbk.)") first; a term of several words goes out as a phrase (`4=1`), which the big
//! catalogs (Library of Congress, Zebra, Koha) read as "these words in this order", the way a
//! title proper or "Surname, Forename" is written; a single word goes out as a word (`4=2`).
//! No relation, position, truncation or completeness attributes are sent: every target
//! defaults them (equal, any position, no truncation, incomplete subfield), and a target that
//! does not support one answers diagnostic 117-123 instead of searching.

use crate::pdu::{
    oid, AttributeElement, AttributeValue, AttributesPlusTerm, Operand, Operator, OperatorKind, RpnQuery, RpnRpnOp,
    RpnStructure, Term,
};
use rasn::types::{Integer, ObjectIdentifier, OctetString};

/// Bib-1 attribute types (the `attributeType` of an `AttributeElement`).
pub mod attribute_type {
    pub const USE: u32 = 1;
    pub const RELATION: u32 = 2;
    pub const POSITION: u32 = 3;
    pub const STRUCTURE: u32 = 4;
    pub const TRUNCATION: u32 = 5;
    pub const COMPLETENESS: u32 = 6;
}

/// Bib-1 use attributes copy cataloging searches by.
pub mod use_attribute {
    pub const PERSONAL_NAME: u32 = 1;
    pub const TITLE: u32 = 4;
    pub const ISBN: u32 = 7;
    pub const ISSN: u32 = 8;
    pub const LC_CARD_NUMBER: u32 = 9;
    pub const AUTHOR: u32 = 1003;
    pub const ANY: u32 = 1016;
}

/// Bib-1 relation attribute values.
pub mod relation {
    pub const LESS_THAN: u32 = 1;
    pub const LESS_THAN_OR_EQUAL: u32 = 2;
    pub const EQUAL: u32 = 3;
    pub const GREATER_OR_EQUAL: u32 = 4;
    pub const GREATER_THAN: u32 = 5;
    pub const NOT_EQUAL: u32 = 6;
}

/// Bib-1 position attribute values.
pub mod position {
    pub const FIRST_IN_FIELD: u32 = 1;
    pub const FIRST_IN_SUBFIELD: u32 = 2;
    pub const ANY_POSITION_IN_FIELD: u32 = 3;
}

/// Bib-1 structure attribute values.
pub mod structure {
    pub const PHRASE: u32 = 1;
    pub const WORD: u32 = 2;
    pub const KEY: u32 = 3;
    pub const YEAR: u32 = 4;
    pub const WORD_LIST: u32 = 6;
}

/// Bib-1 truncation attribute values.
pub mod truncation {
    pub const RIGHT: u32 = 1;
    pub const LEFT: u32 = 2;
    pub const LEFT_AND_RIGHT: u32 = 3;
    pub const DO_NOT_TRUNCATE: u32 = 100;
}

/// Bib-1 completeness attribute values.
pub mod completeness {
    pub const INCOMPLETE_SUBFIELD: u32 = 1;
    pub const COMPLETE_SUBFIELD: u32 = 2;
    pub const COMPLETE_FIELD: u32 = 3;
}

/// A search: terms under Bib-1 use attributes, combined with boolean operators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    Term {
        use_attribute: u32,
        term: String,
    },
    /// A term with exactly these Bib-1 attributes, (type, value) pairs from
    /// [`attribute_type`] and the value modules, for a target that needs more than a use
    /// attribute (right truncation `(5, 1)`, complete field `(6, 3)`, ...).
    Attributed {
        attributes: Vec<(u32, u32)>,
        term: String,
    },
    And(Box<Query>, Box<Query>),
    Or(Box<Query>, Box<Query>),
    AndNot(Box<Query>, Box<Query>),
}

impl Query {
    fn term(use_attribute: u32, term: &str) -> Query {
        Query::Term { use_attribute, term: term.to_owned() }
    }

    /// ISBN (Bib-1 use 7), searched exactly as given: strip hyphens and qualifiers first.
    pub fn isbn(isbn: &str) -> Query {
        Query::term(use_attribute::ISBN, isbn)
    }

    /// ISSN (Bib-1 use 8), searched exactly as given.
    pub fn issn(issn: &str) -> Query {
        Query::term(use_attribute::ISSN, issn)
    }

    /// Title (Bib-1 use 4); several words are a phrase.
    pub fn title(title: &str) -> Query {
        Query::term(use_attribute::TITLE, title)
    }

    /// Author (Bib-1 use 1003); several words are a phrase ("Surname, Forename").
    pub fn author(author: &str) -> Query {
        Query::term(use_attribute::AUTHOR, author)
    }

    /// LC control number (Bib-1 use 9), searched exactly as given.
    pub fn lccn(lccn: &str) -> Query {
        Query::term(use_attribute::LC_CARD_NUMBER, lccn)
    }

    /// Any field (Bib-1 use 1016).
    pub fn any(words: &str) -> Query {
        Query::term(use_attribute::ANY, words)
    }

    /// The Bib-1 attributes (type, value) this term goes out with.
    pub fn attributes(use_attribute: u32, term: &str) -> Vec<(u32, u32)> {
        let identifier =
            matches!(use_attribute, use_attribute::ISBN | use_attribute::ISSN | use_attribute::LC_CARD_NUMBER);
        let structure =
            if identifier || term.split_whitespace().nth(1).is_none() { structure::WORD } else { structure::PHRASE };
        vec![(attribute_type::USE, use_attribute), (attribute_type::STRUCTURE, structure)]
    }

    /// The Type-1 query with the Bib-1 attribute set.
    pub fn to_rpn(&self) -> RpnQuery {
        RpnQuery {
            attribute_set: ObjectIdentifier::new_unchecked(oid::BIB1_ATTRIBUTES.to_vec().into()),
            rpn: self.to_structure(),
        }
    }

    fn to_structure(&self) -> RpnStructure {
        let (left, right, op) = match self {
            Query::Term { use_attribute, term } => {
                return term_structure(Query::attributes(*use_attribute, term), term);
            }
            Query::Attributed { attributes, term } => return term_structure(attributes.clone(), term),
            Query::And(l, r) => (l, r, OperatorKind::And(())),
            Query::Or(l, r) => (l, r, OperatorKind::Or(())),
            Query::AndNot(l, r) => (l, r, OperatorKind::AndNot(())),
        };
        RpnStructure::RpnRpnOp(Box::new(RpnRpnOp {
            rpn1: left.to_structure(),
            rpn2: right.to_structure(),
            op: Operator(op),
        }))
    }

    /// The same query in YAZ's prefix query format (PQF), as `yaz-client`'s `find` takes it:
    /// for logs, and for tests that ask a peer the same question.
    pub fn to_pqf(&self) -> String {
        match self {
            Query::Term { use_attribute, term } => pqf_term(&Query::attributes(*use_attribute, term), term),
            Query::Attributed { attributes, term } => pqf_term(attributes, term),
            Query::And(l, r) => format!("@and {} {}", l.to_pqf(), r.to_pqf()),
            Query::Or(l, r) => format!("@or {} {}", l.to_pqf(), r.to_pqf()),
            Query::AndNot(l, r) => format!("@not {} {}", l.to_pqf(), r.to_pqf()),
        }
    }
}

fn term_structure(attributes: Vec<(u32, u32)>, term: &str) -> RpnStructure {
    let attributes = attributes
        .into_iter()
        .map(|(kind, value)| AttributeElement {
            attribute_set: None,
            attribute_type: Integer::from(kind),
            attribute_value: AttributeValue::Numeric(Integer::from(value)),
        })
        .collect();
    RpnStructure::Op(Operand::AttrTerm(AttributesPlusTerm {
        attributes,
        term: Term::General(OctetString::from(term.as_bytes().to_vec())),
    }))
}

fn pqf_term(attributes: &[(u32, u32)], term: &str) -> String {
    let mut out = String::new();
    for (kind, value) in attributes {
        out.push_str(&format!("@attr {kind}={value} "));
    }
    out.push('"');
    for c in term.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_words_and_multi_word_titles_are_phrases() {
        assert_eq!(Query::attributes(7, "0131103628"), vec![(1, 7), (4, 2)]);
        assert_eq!(Query::attributes(9, "2001 12345"), vec![(1, 9), (4, 2)]);
        assert_eq!(Query::attributes(4, "dune"), vec![(1, 4), (4, 2)]);
        assert_eq!(Query::attributes(4, "the art of computer"), vec![(1, 4), (4, 1)]);
        assert_eq!(Query::attributes(1003, "Knuth, Donald"), vec![(1, 1003), (4, 1)]);
    }

    #[test]
    fn pqf_mirrors_the_rpn_tree() {
        let q = Query::AndNot(
            Box::new(Query::And(Box::new(Query::title("art of")), Box::new(Query::author("knuth")))),
            Box::new(Query::isbn("0201\"x")),
        );
        assert_eq!(
            q.to_pqf(),
            "@not @and @attr 1=4 @attr 4=1 \"art of\" @attr 1=1003 @attr 4=2 \"knuth\" \
             @attr 1=7 @attr 4=2 \"0201\\\"x\""
        );
        let RpnStructure::RpnRpnOp(top) = q.to_rpn().rpn else {
            panic!("a boolean query is an rpnRpnOp");
        };
        assert_eq!(top.op, Operator(OperatorKind::AndNot(())));
        assert!(matches!(top.rpn1, RpnStructure::RpnRpnOp(_)));
        assert!(matches!(top.rpn2, RpnStructure::Op(_)));
    }
}
