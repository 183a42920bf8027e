//! The canonical CQL form of a query: single spaces, lowercase booleans and named relations,
//! terms quoted only when they must be, parentheses only where left-to-right reading would
//! group differently. `parse(&q.to_cql()) == Ok(q)` for every query the parser returns.

use std::fmt::{self, Write};

use crate::ast::{Index, Modifier, Node, PrefixAssignment, Query, Relation, SortKey};
use crate::context::CQL;

impl Query {
    pub fn to_cql(&self) -> String {
        self.to_string()
    }
}

impl Node {
    pub fn to_cql(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_prefixes(f, &self.prefixes)?;
        write!(f, "{}", self.root)?;
        if !self.sort.is_empty() {
            f.write_str(" sortby")?;
            for key in &self.sort {
                write!(f, " {key}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Boolean { op, modifiers, left, right } => {
                write!(f, "{left} {op}")?;
                write_modifiers(f, modifiers)?;
                // Booleans group to the left, so only a boolean on the right needs parentheses.
                match **right {
                    Node::Boolean { .. } => write!(f, " ({right})"),
                    _ => write!(f, " {right}"),
                }
            }
            Node::Clause { index, relation, term } => {
                let bare = index.context_set() == CQL
                    && index.prefix() == Some("cql")
                    && index.name() == "serverChoice"
                    && *relation == Relation::new(crate::ast::Comparator::Eq);
                if !bare {
                    write!(f, "{index} {relation} ")?;
                }
                write_term(f, term.text())
            }
            Node::Scoped { prefixes, query } => {
                f.write_char('(')?;
                write_prefixes(f, prefixes)?;
                write!(f, "{query})")
            }
        }
    }
}

impl fmt::Display for Index {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_term(f, &self.written())
    }
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.comparator.as_str())?;
        write_modifiers(f, &self.modifiers)
    }
}

impl fmt::Display for Modifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('/')?;
        write_term(f, &self.name)?;
        if let Some((comparator, value)) = &self.value {
            f.write_str(comparator.as_str())?;
            write_term(f, value)?;
        }
        Ok(())
    }
}

impl fmt::Display for SortKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.index)?;
        write_modifiers(f, &self.modifiers)
    }
}

fn write_prefixes(f: &mut fmt::Formatter<'_>, prefixes: &[PrefixAssignment]) -> fmt::Result {
    for assignment in prefixes {
        f.write_str("> ")?;
        if let Some(prefix) = &assignment.prefix {
            write_term(f, prefix)?;
            f.write_str(" = ")?;
        }
        write_term(f, &assignment.uri)?;
        f.write_char(' ')?;
    }
    Ok(())
}

fn write_modifiers(f: &mut fmt::Formatter<'_>, modifiers: &[Modifier]) -> fmt::Result {
    modifiers.iter().try_for_each(|m| write!(f, "{m}"))
}

/// Whether `text` can be written without quotes: a non-empty word that is not a reserved word.
fn is_bare(text: &str) -> bool {
    !text.is_empty()
        && text.chars().all(|c| !c.is_whitespace() && !matches!(c, '(' | ')' | '=' | '<' | '>' | '"' | '/'))
        && !["and", "or", "not", "prox", "sortby"].iter().any(|r| r.eq_ignore_ascii_case(text))
}

/// Writes a term (or any other CQL string) bare or quoted. In quotes a `"` becomes `\"` and a
/// backslash keeps the character it escapes, so the lexer gives back the same text.
pub(crate) fn write_term(f: &mut impl Write, text: &str) -> fmt::Result {
    if is_bare(text) {
        return f.write_str(text);
    }
    f.write_char('"')?;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => match chars.next() {
                Some(e) => {
                    f.write_char('\\')?;
                    f.write_char(e)?;
                }
                // A lone final backslash cannot come out of the parser; doubling it keeps the
                // output a closed string.
                None => f.write_str("\\\\")?,
            },
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}
