//! XCQL, the XML form of a CQL query, which SRU 1.2 echoes back in `<xQuery>`: `<triple>` for
//! a boolean, `<searchClause>` for a clause, `<prefixes>` on the element they scope, `<sortKeys>`
//! at the end of the outermost element.

use std::fmt::Write;

use crate::ast::{Modifier, Node, PrefixAssignment, Query, SortKey};

/// The XCQL namespace, declared on the outermost element.
pub const XCQL_NAMESPACE: &str = "http://www.loc.gov/zing/cql/xcql/";

impl Query {
    /// The query as XCQL, indented by two spaces per level.
    pub fn to_xcql(&self) -> String {
        let mut out = String::new();
        let mut xml = Xml { out: &mut out };
        xml.node(&self.root, self.prefixes.clone(), &self.sort, 0);
        out
    }
}

struct Xml<'a> {
    out: &'a mut String,
}

impl Xml<'_> {
    fn line(&mut self, depth: usize, text: &str) {
        self.out.extend(std::iter::repeat_n("  ", depth));
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn element(&mut self, depth: usize, name: &str, text: &str) {
        self.out.extend(std::iter::repeat_n("  ", depth));
        // Writing to a String cannot fail.
        let _ = write!(self.out, "<{name}>{}</{name}>", Escaped(text));
        self.out.push('\n');
    }

    /// Writes `node` with the prefix assignments that scope it; `sort` goes into the outermost
    /// element only (depth 0).
    fn node(&mut self, node: &Node, mut prefixes: Vec<PrefixAssignment>, sort: &[SortKey], depth: usize) {
        let namespace = if depth == 0 { format!(" xmlns=\"{XCQL_NAMESPACE}\"") } else { String::new() };
        match node {
            Node::Scoped { prefixes: inner, query } => {
                // Scopes that meet with nothing between them are one scope in XCQL.
                prefixes.extend(inner.iter().cloned());
                self.node(query, prefixes, sort, depth);
            }
            Node::Boolean { op, modifiers, left, right } => {
                self.line(depth, &format!("<triple{namespace}>"));
                self.prefixes(&prefixes, depth + 1);
                self.line(depth + 1, "<boolean>");
                self.element(depth + 2, "value", op.as_str());
                self.modifiers(modifiers, depth + 2);
                self.line(depth + 1, "</boolean>");
                self.line(depth + 1, "<leftOperand>");
                self.node(left, Vec::new(), &[], depth + 2);
                self.line(depth + 1, "</leftOperand>");
                self.line(depth + 1, "<rightOperand>");
                self.node(right, Vec::new(), &[], depth + 2);
                self.line(depth + 1, "</rightOperand>");
                self.sort_keys(sort, depth + 1);
                self.line(depth, "</triple>");
            }
            Node::Clause { index, relation, term } => {
                self.line(depth, &format!("<searchClause{namespace}>"));
                self.prefixes(&prefixes, depth + 1);
                self.element(depth + 1, "index", &index.written());
                self.line(depth + 1, "<relation>");
                self.element(depth + 2, "value", relation.comparator.as_str());
                self.modifiers(&relation.modifiers, depth + 2);
                self.line(depth + 1, "</relation>");
                self.element(depth + 1, "term", term.text());
                self.sort_keys(sort, depth + 1);
                self.line(depth, "</searchClause>");
            }
        }
    }

    fn prefixes(&mut self, prefixes: &[PrefixAssignment], depth: usize) {
        if prefixes.is_empty() {
            return;
        }
        self.line(depth, "<prefixes>");
        for assignment in prefixes {
            self.line(depth + 1, "<prefix>");
            if let Some(name) = &assignment.prefix {
                self.element(depth + 2, "name", name);
            }
            self.element(depth + 2, "identifier", &assignment.uri);
            self.line(depth + 1, "</prefix>");
        }
        self.line(depth, "</prefixes>");
    }

    fn modifiers(&mut self, modifiers: &[Modifier], depth: usize) {
        if modifiers.is_empty() {
            return;
        }
        self.line(depth, "<modifiers>");
        for modifier in modifiers {
            self.line(depth + 1, "<modifier>");
            self.element(depth + 2, "type", &modifier.name);
            if let Some((comparator, value)) = &modifier.value {
                self.element(depth + 2, "comparison", comparator.as_str());
                self.element(depth + 2, "value", value);
            }
            self.line(depth + 1, "</modifier>");
        }
        self.line(depth, "</modifiers>");
    }

    fn sort_keys(&mut self, keys: &[SortKey], depth: usize) {
        if keys.is_empty() {
            return;
        }
        self.line(depth, "<sortKeys>");
        for key in keys {
            self.line(depth + 1, "<key>");
            self.element(depth + 2, "index", &key.index.written());
            self.modifiers(&key.modifiers, depth + 2);
            self.line(depth + 1, "</key>");
        }
        self.line(depth, "</sortKeys>");
    }
}

/// Text with the XML specials escaped.
struct Escaped<'a>(&'a str);

impl std::fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for c in self.0.chars() {
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                // XML 1.0 cannot carry these even as references; a query may, so the echo
                // shows U+FFFD rather than becoming a document no client can read.
                '\t' | '\n' | '\r' => f.write_char(c)?,
                '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => f.write_char('\u{fffd}')?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}
