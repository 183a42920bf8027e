//! What staff search a target by, and its CQL (the `bath`, `dc` and `cql` context sets every
//! SRU server of a library understands).

use std::fmt;

/// A copy-cataloging search: one access point and its term, checked when built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyQuery {
    /// Kept as the ISBN-13; searched in both the 13 and the 10 form.
    Isbn(catalog::Isbn),
    Issn(catalog::Issn),
    Lccn(catalog::Lccn),
    Title(String),
    Author(String),
    Keywords(String),
}

/// The access points, as the CLI flags and the API's query parameters name them.
pub const ACCESS_POINTS: [&str; 6] = ["isbn", "issn", "lccn", "title", "author", "keywords"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("{0} is not something to search by; one of isbn, issn, lccn, title, author, keywords")]
    UnknownAccessPoint(String),
    #[error("the {0} to search for is empty")]
    Empty(&'static str),
    #[error("{0}")]
    Invalid(String),
}

impl CopyQuery {
    /// Builds a query from an access point's name and the staff's term; identifiers are
    /// normalised (and refused with their problem when their checksum or shape is wrong).
    pub fn parse(by: &str, term: &str) -> Result<CopyQuery, QueryError> {
        let term = term.trim();
        let by = by.trim();
        let name = match ACCESS_POINTS.iter().find(|a| a.eq_ignore_ascii_case(by)) {
            Some(name) => *name,
            None => return Err(QueryError::UnknownAccessPoint(format!("{by:?}"))),
        };
        if term.is_empty() {
            return Err(QueryError::Empty(name));
        }
        if matches!(name, "title" | "author" | "keywords") && words(term).is_empty() {
            return Err(QueryError::Invalid(format!("the {name} {term:?} has no words to search for")));
        }
        let invalid = |e: &dyn fmt::Display| QueryError::Invalid(format!("not an {}: {e}", name.to_uppercase()));
        Ok(match name {
            "isbn" => CopyQuery::Isbn(catalog::Isbn::parse(term).map_err(|e| invalid(&e))?),
            "issn" => CopyQuery::Issn(catalog::Issn::parse(term).map_err(|e| invalid(&e))?),
            "lccn" => CopyQuery::Lccn(catalog::Lccn::parse(term).map_err(|e| invalid(&e))?),
            "title" => CopyQuery::Title(term.to_string()),
            "author" => CopyQuery::Author(term.to_string()),
            _ => CopyQuery::Keywords(term.to_string()),
        })
    }

    /// The access point's name (`isbn`, `title`...).
    pub fn access_point(&self) -> &'static str {
        match self {
            CopyQuery::Isbn(_) => "isbn",
            CopyQuery::Issn(_) => "issn",
            CopyQuery::Lccn(_) => "lccn",
            CopyQuery::Title(_) => "title",
            CopyQuery::Author(_) => "author",
            CopyQuery::Keywords(_) => "keywords",
        }
    }

    /// The term as searched (identifiers in their normalised form).
    pub fn term(&self) -> &str {
        match self {
            CopyQuery::Isbn(i) => i.as_isbn13(),
            CopyQuery::Issn(i) => i.as_str(),
            CopyQuery::Lccn(l) => l.as_str(),
            CopyQuery::Title(t) | CopyQuery::Author(t) | CopyQuery::Keywords(t) => t,
        }
    }

    /// The query in CQL. Identifiers use `=`; words use `all`, so that a target finds the
    /// words in any order, as staff type them. An ISBN is searched in both forms because a
    /// target's index may hold whichever its record carries (many older records have only the
    /// ISBN-10).
    pub fn to_cql(&self) -> String {
        match self {
            CopyQuery::Isbn(isbn) => {
                let thirteen = format!("bath.isbn = {}", quote(isbn.as_isbn13()));
                match isbn.to_isbn10() {
                    Some(ten) => format!("{thirteen} or bath.isbn = {}", quote(&ten)),
                    None => thirteen,
                }
            }
            CopyQuery::Issn(issn) => format!("bath.issn = {}", quote(issn.as_str())),
            CopyQuery::Lccn(lccn) => format!("bath.lccn = {}", quote(lccn.as_str())),
            CopyQuery::Title(t) => format!("dc.title all {}", quote(&words(t))),
            CopyQuery::Author(a) => format!("dc.creator all {}", quote(&words(a))),
            CopyQuery::Keywords(k) => format!("cql.anywhere all {}", quote(&words(k))),
        }
    }
}

impl fmt::Display for CopyQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.access_point(), self.term())
    }
}

/// The words of a term, without the tokens that are only punctuation: a title copied from a
/// record carries ISBD punctuation (`Title : subtitle / author`), and with `all` a server looks
/// for `:` as a word and finds nothing.
fn words(term: &str) -> String {
    term.split_whitespace().filter(|w| w.chars().any(char::is_alphanumeric)).collect::<Vec<_>>().join(" ")
}

/// A CQL search term, always quoted: a quoted term cannot be read as an index, a relation or a
/// boolean (`and`, `or`, `prox`, `=`), whatever staff type. Inside it, `"` and `\` are escaped,
/// and so are the masking characters `*`, `?` and `^`, which staff mean literally (a title
/// such as "Why?" must not become a wildcard search).
pub fn quote(term: &str) -> String {
    let mut out = String::with_capacity(term.len() + 2);
    out.push('"');
    for c in term.chars() {
        match c {
            '"' | '\\' | '*' | '?' | '^' => {
                out.push('\\');
                out.push(c);
            }
            // CQL has no way to write a control character; a space is what it stood for.
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cql(by: &str, term: &str) -> String {
        CopyQuery::parse(by, term).unwrap_or_else(|e| panic!("{by} {term}: {e}")).to_cql()
    }

    #[test]
    fn isbns_are_searched_in_both_forms() {
        let both = "bath.isbn = \"9780306406157\" or bath.isbn = \"0306406152\"";
        assert_eq!(cql("isbn", "0-306-40615-2"), both);
        assert_eq!(cql("isbn", "978-0-306-40615-7"), both);
        assert_eq!(cql("ISBN", " 0306406152 (pbk.) "), both);
        assert_eq!(cql("isbn", "080442957x"), "bath.isbn = \"9780804429573\" or bath.isbn = \"080442957X\"");
        // A 979 ISBN has no ISBN-10.
        assert_eq!(cql("isbn", "979-10-90636-07-1"), "bath.isbn = \"9791090636071\"");
    }

    #[test]
    fn identifiers_are_normalised_and_bad_ones_refused() {
        assert_eq!(cql("lccn", "n 78-890351"), "bath.lccn = \"n78890351\"");
        assert_eq!(cql("lccn", "2001-000002"), "bath.lccn = \"2001000002\"");
        assert_eq!(cql("issn", "0028-0836"), "bath.issn = \"0028-0836\"");
        assert_eq!(cql("issn", "00280836"), "bath.issn = \"0028-0836\"");
        let message = CopyQuery::parse("isbn", "0-306-40615-3").expect_err("bad check digit").to_string();
        assert!(message.starts_with("not an ISBN:") && message.contains("check digit"), "{message}");
        assert!(CopyQuery::parse("issn", "0028-0837").expect_err("bad").to_string().starts_with("not an ISSN"));
        assert!(CopyQuery::parse("lccn", "abcd").expect_err("bad").to_string().starts_with("not an LCCN"));
        assert_eq!(CopyQuery::parse("title", "  "), Err(QueryError::Empty("title")));
        assert!(matches!(CopyQuery::parse("subject", "x"), Err(QueryError::UnknownAccessPoint(_))));
    }

    #[test]
    fn words_are_quoted_and_escaped() {
        assert_eq!(cql("title", "Moby Dick"), "dc.title all \"Moby Dick\"");
        assert_eq!(cql("author", "Melville, Herman"), "dc.creator all \"Melville, Herman\"");
        assert_eq!(cql("keywords", "whale and sea"), "cql.anywhere all \"whale and sea\"");
        assert_eq!(cql("title", "Why? A \"story\""), "dc.title all \"Why\\? A \\\"story\\\"\"");
        assert_eq!(cql("title", "a\\b c*d ^e?"), "dc.title all \"a\\\\b c\\*d \\^e\\?\"");
        assert_eq!(cql("title", "a\tb"), "dc.title all \"a b\"");
        assert_eq!(
            cql("title", "E Street shuffle : the glory days of Bruce Springsteen & the E Street Band /"),
            "dc.title all \"E Street shuffle the glory days of Bruce Springsteen the E Street Band\""
        );
        assert!(CopyQuery::parse("author", " : / ").expect_err("no words").to_string().contains("no words"));
    }

    #[test]
    fn our_cql_parser_reads_every_query_back_to_the_same_literal_term() {
        for (by, term) in
            [("title", "Why? A \"story\" a\\b *c ^x"), ("author", "O'Brien, Flann"), ("keywords", "x or y")]
        {
            let q = CopyQuery::parse(by, term).expect("query");
            assert_eq!(cql_terms(&q.to_cql()), vec![term.to_string()]);
        }
        assert_eq!(
            cql_terms(&CopyQuery::parse("isbn", "0306406152").expect("isbn").to_cql()),
            vec!["9780306406157".to_string(), "0306406152".to_string()]
        );
    }

    /// The terms of a CQL query as the `cql` crate reads them; each must be a plain literal
    /// (no masking), and the query must parse.
    fn cql_terms(text: &str) -> Vec<String> {
        fn walk(node: &cql::Node, out: &mut Vec<String>) {
            match node {
                cql::Node::Clause { term, .. } => {
                    let literal: String = term
                        .pattern()
                        .iter()
                        .map(|p| match p {
                            cql::Piece::Literal(s) => s.clone(),
                            other => panic!("masking in a term: {other:?}"),
                        })
                        .collect();
                    out.push(literal);
                }
                cql::Node::Boolean { left, right, .. } => {
                    walk(left, out);
                    walk(right, out);
                }
                other => panic!("unexpected node {other:?}"),
            }
        }
        let query = cql::parse(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
        let mut out = Vec::new();
        walk(&query.root, &mut out);
        out
    }

    proptest! {
        #[test]
        fn any_term_survives_quoting(term in "\\PC{1,40}") {
            prop_assume!(!words(&term).is_empty());
            let q = CopyQuery::parse("title", &term).expect("a title");
            prop_assert_eq!(cql_terms(&q.to_cql()), vec![words(&term)]);
        }
    }
}
