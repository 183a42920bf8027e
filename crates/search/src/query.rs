//! The catalog's query language, parsed without I/O into a [`Query`] tree.
//!
//! ```text
//! pride prejudice                 both words, anywhere (AND is implied)
//! "pride and prejudice"           a phrase
//! austen AND (emma OR persuasion) operators in capitals; parentheses group
//! cats NOT dogs   cats -dogs      exclusion
//! title:emma  author:"Austen, Jane"  subject:whales  series:  publisher:
//! isbn:0-306-40615-2  issn:  lccn:  callnumber:QA76 (prefix)  year:1990-1999  year:1990-
//! ```
//!
//! Lower-case `and`, `or` and `not` are words (titles contain them). Input that does not parse
//! (an unclosed parenthesis or quote, an operator with nothing after it, an unknown field) is
//! never an error: [`parse`] falls back to the plain words of the input and says so in
//! [`Parsed::message`].

use std::fmt;

/// Which part of the record a term is looked for in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SearchField {
    Title,
    Author,
    Subject,
    Series,
    Publisher,
    Notes,
    Isbn,
    Issn,
    Lccn,
    CallNumber,
}

impl SearchField {
    pub const ALL: [SearchField; 10] = [
        SearchField::Title,
        SearchField::Author,
        SearchField::Subject,
        SearchField::Series,
        SearchField::Publisher,
        SearchField::Notes,
        SearchField::Isbn,
        SearchField::Issn,
        SearchField::Lccn,
        SearchField::CallNumber,
    ];

    /// The name used in queries (`title:`), also accepting the usual aliases.
    pub fn parse(name: &str) -> Option<SearchField> {
        Some(match name.to_ascii_lowercase().as_str() {
            "title" | "ti" => SearchField::Title,
            "author" | "au" | "creator" => SearchField::Author,
            "subject" | "su" => SearchField::Subject,
            "series" | "se" => SearchField::Series,
            "publisher" | "pb" => SearchField::Publisher,
            "note" | "notes" => SearchField::Notes,
            "isbn" => SearchField::Isbn,
            "issn" => SearchField::Issn,
            "lccn" => SearchField::Lccn,
            "callnumber" | "call" | "cn" => SearchField::CallNumber,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SearchField::Title => "title",
            SearchField::Author => "author",
            SearchField::Subject => "subject",
            SearchField::Series => "series",
            SearchField::Publisher => "publisher",
            SearchField::Notes => "notes",
            SearchField::Isbn => "isbn",
            SearchField::Issn => "issn",
            SearchField::Lccn => "lccn",
            SearchField::CallNumber => "callnumber",
        }
    }
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// Matches every record (an empty query: browse by facets).
    All,
    /// A word; `field` `None` means the keyword fields (title, author, subject, series,
    /// publisher, notes, identifiers).
    Word {
        field: Option<SearchField>,
        text: String,
    },
    Phrase {
        field: Option<SearchField>,
        text: String,
    },
    /// Publication years, both ends included.
    Years {
        from: Option<i32>,
        to: Option<i32>,
    },
    And(Vec<Query>),
    Or(Vec<Query>),
    Not(Box<Query>),
}

/// What [`parse`] returns: the query, and a sentence for the patron when the input could not
/// be read as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub query: Query,
    pub message: Option<String>,
}

impl Query {
    /// True when the query is only words and phrases, all of them in the keyword fields or the
    /// title: the kind of query for which an exact or starts-with title match should come first.
    pub fn is_plain(&self) -> bool {
        match self {
            Query::Word { field, .. } | Query::Phrase { field, .. } => {
                matches!(field, None | Some(SearchField::Title))
            }
            Query::And(parts) => parts.iter().all(Query::is_plain),
            _ => false,
        }
    }

    /// The words of a plain query in order, as typed (for the exact-title comparison).
    pub fn plain_text(&self) -> String {
        match self {
            Query::Word { text, .. } | Query::Phrase { text, .. } => text.clone(),
            Query::And(parts) => parts.iter().map(Query::plain_text).collect::<Vec<_>>().join(" "),
            _ => String::new(),
        }
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = |field: &Option<SearchField>| field.map(|fl| format!("{}:", fl.as_str())).unwrap_or_default();
        match self {
            Query::All => f.write_str("*"),
            Query::Word { field, text } => write!(f, "{}{text}", prefix(field)),
            Query::Phrase { field, text } => write!(f, "{}\"{text}\"", prefix(field)),
            Query::Years { from, to } => {
                let end = |y: &Option<i32>| y.map(|y| y.to_string()).unwrap_or_default();
                write!(f, "year:{}-{}", end(from), end(to))
            }
            Query::And(parts) | Query::Or(parts) => {
                let op = if matches!(self, Query::And(_)) { " AND " } else { " OR " };
                f.write_str("(")?;
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(op)?;
                    }
                    write!(f, "{p}")?;
                }
                f.write_str(")")
            }
            Query::Not(inner) => write!(f, "NOT {inner}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Phrase(String),
    Field(String),
    LParen,
    RParen,
    And,
    Or,
    Not,
    Minus,
}

/// Why the input could not be read as written.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Problem {
    UnclosedQuote,
    UnbalancedParenthesis,
    DanglingOperator(&'static str),
    UnknownField(String),
    BadYears(String),
    NothingAfterField(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::UnclosedQuote => f.write_str("a quotation mark is not closed"),
            Problem::UnbalancedParenthesis => f.write_str("the parentheses do not match"),
            Problem::DanglingOperator(op) => write!(f, "{op} needs a word on each side"),
            Problem::UnknownField(name) => write!(f, "there is no field called \u{201c}{name}\u{201d}"),
            Problem::BadYears(text) => write!(f, "\u{201c}{text}\u{201d} is not a year or a range of years"),
            Problem::NothingAfterField(name) => write!(f, "nothing follows \u{201c}{name}:\u{201d}"),
        }
    }
}

/// Parses a query; never fails (see the module documentation).
pub fn parse(input: &str) -> Parsed {
    match parse_strict(input) {
        Ok(query) => Parsed { query, message: None },
        Err(problem) => {
            let query = plain_words(input);
            let message = format!("Could not read the search as written ({problem}); searched for the words instead.");
            Parsed { query, message: Some(message) }
        }
    }
}

/// Every word of the input, all required, with the query syntax ignored.
fn plain_words(input: &str) -> Query {
    let words: Vec<Query> = input
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '"' | ':' | '\u{201c}' | '\u{201d}'))
        .map(|w| w.trim_start_matches('-'))
        .filter(|w| !w.is_empty() && !matches!(*w, "AND" | "OR" | "NOT"))
        .map(|w| Query::Word { field: None, text: w.to_string() })
        .collect();
    match words.len() {
        0 => Query::All,
        1 => words.into_iter().next().unwrap_or(Query::All),
        _ => Query::And(words),
    }
}

fn parse_strict(input: &str) -> Result<Query, Problem> {
    let tokens = lex(input)?;
    if tokens.is_empty() {
        return Ok(Query::All);
    }
    let mut parser = Parser { tokens, pos: 0, depth: 0 };
    let query = parser.or_expr()?;
    if parser.pos < parser.tokens.len() {
        // Only a stray closing parenthesis can stop the top-level expression early.
        return Err(Problem::UnbalancedParenthesis);
    }
    Ok(query)
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '\u{201c}' | '\u{201d}' | '\u{201e}')
}

fn lex(input: &str) -> Result<Vec<Token>, Problem> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            tokens.push(Token::LParen);
            i += 1;
        } else if c == ')' {
            tokens.push(Token::RParen);
            i += 1;
        } else if is_quote(c) {
            let start = i + 1;
            let end =
                chars[start..].iter().position(|&c| is_quote(c)).map(|p| start + p).ok_or(Problem::UnclosedQuote)?;
            tokens.push(Token::Phrase(chars[start..end].iter().collect()));
            i = end + 1;
        } else if c == '-' && chars.get(i + 1).is_some_and(|n| !n.is_whitespace()) {
            tokens.push(Token::Minus);
            i += 1;
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() && !matches!(chars[i], '(' | ')') && !is_quote(chars[i])
            {
                if chars[i] == ':' {
                    break;
                }
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if i < chars.len() && chars[i] == ':' {
                i += 1;
                if word.is_empty() {
                    continue;
                }
                tokens.push(Token::Field(word));
                continue;
            }
            tokens.push(match word.as_str() {
                "AND" | "&&" => Token::And,
                "OR" | "||" => Token::Or,
                "NOT" => Token::Not,
                _ => Token::Word(word),
            });
        }
    }
    Ok(tokens)
}

/// Deep nesting is refused rather than recursed into (the stack is finite, patrons are not).
const MAX_DEPTH: usize = 32;

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn or_expr(&mut self) -> Result<Query, Problem> {
        let mut parts = vec![self.and_expr()?];
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            if matches!(self.peek(), None | Some(Token::RParen) | Some(Token::Or) | Some(Token::And)) {
                return Err(Problem::DanglingOperator("OR"));
            }
            parts.push(self.and_expr()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Query::Or(parts) })
    }

    fn and_expr(&mut self) -> Result<Query, Problem> {
        if matches!(self.peek(), Some(Token::And) | Some(Token::Or)) {
            return Err(Problem::DanglingOperator(if self.peek() == Some(&Token::And) { "AND" } else { "OR" }));
        }
        let mut parts = vec![self.unary()?];
        loop {
            match self.peek() {
                None | Some(Token::RParen) | Some(Token::Or) => break,
                Some(Token::And) => {
                    self.pos += 1;
                    if matches!(self.peek(), None | Some(Token::RParen) | Some(Token::Or) | Some(Token::And)) {
                        return Err(Problem::DanglingOperator("AND"));
                    }
                }
                _ => {}
            }
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Query::And(parts) })
    }

    fn unary(&mut self) -> Result<Query, Problem> {
        match self.peek() {
            Some(Token::Not) | Some(Token::Minus) => {
                let op = if self.peek() == Some(&Token::Not) { "NOT" } else { "-" };
                self.pos += 1;
                if matches!(self.peek(), None | Some(Token::RParen) | Some(Token::Or) | Some(Token::And)) {
                    return Err(Problem::DanglingOperator(op));
                }
                self.descend()?;
                let inner = self.unary();
                self.depth -= 1;
                Ok(Query::Not(Box::new(inner?)))
            }
            _ => self.primary(None),
        }
    }

    fn descend(&mut self) -> Result<(), Problem> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Problem::UnbalancedParenthesis);
        }
        Ok(())
    }

    fn primary(&mut self, field: Option<SearchField>) -> Result<Query, Problem> {
        match self.next() {
            Some(Token::LParen) => {
                self.descend()?;
                let inner = self.group(field);
                self.depth -= 1;
                inner
            }
            Some(Token::Word(text)) => Ok(Query::Word { field, text }),
            Some(Token::Phrase(text)) => Ok(Query::Phrase { field, text }),
            Some(Token::Field(name)) => {
                if field.is_some() {
                    // `title:author:x`: the inner name is a word of the outer field.
                    return Ok(Query::Word { field, text: name });
                }
                if name.eq_ignore_ascii_case("year") || name.eq_ignore_ascii_case("date") {
                    return match self.next() {
                        Some(Token::Word(text)) => parse_years(&text).ok_or(Problem::BadYears(text)),
                        _ => Err(Problem::NothingAfterField(name)),
                    };
                }
                let field = SearchField::parse(&name).ok_or(Problem::UnknownField(name.clone()))?;
                match self.peek() {
                    None | Some(Token::RParen) | Some(Token::And) | Some(Token::Or) => {
                        Err(Problem::NothingAfterField(name))
                    }
                    Some(Token::Not) | Some(Token::Minus) => Err(Problem::NothingAfterField(name)),
                    _ => self.primary(Some(field)),
                }
            }
            Some(Token::RParen) => Err(Problem::UnbalancedParenthesis),
            Some(Token::And) => Err(Problem::DanglingOperator("AND")),
            Some(Token::Or) => Err(Problem::DanglingOperator("OR")),
            Some(Token::Not) => Err(Problem::DanglingOperator("NOT")),
            Some(Token::Minus) => Err(Problem::DanglingOperator("-")),
            None => Err(Problem::DanglingOperator("AND")),
        }
    }

    /// The inside of a parenthesis, with a field applied to every word in it (`title:(a OR b)`).
    fn group(&mut self, field: Option<SearchField>) -> Result<Query, Problem> {
        if self.peek() == Some(&Token::RParen) {
            self.pos += 1;
            return Ok(Query::All);
        }
        let inner = self.or_expr()?;
        if self.next() != Some(Token::RParen) {
            return Err(Problem::UnbalancedParenthesis);
        }
        Ok(match field {
            Some(f) => with_field(inner, f),
            None => inner,
        })
    }
}

fn with_field(query: Query, field: SearchField) -> Query {
    match query {
        Query::Word { field: None, text } => Query::Word { field: Some(field), text },
        Query::Phrase { field: None, text } => Query::Phrase { field: Some(field), text },
        Query::And(parts) => Query::And(parts.into_iter().map(|p| with_field(p, field)).collect()),
        Query::Or(parts) => Query::Or(parts.into_iter().map(|p| with_field(p, field)).collect()),
        Query::Not(inner) => Query::Not(Box::new(with_field(*inner, field))),
        other => other,
    }
}

/// `1990`, `1990-1999`, `1990-`, `-1999` (also with `..` or `–`).
fn parse_years(text: &str) -> Option<Query> {
    let year = |s: &str| -> Option<Option<i32>> {
        let s = s.trim();
        if s.is_empty() {
            return Some(None);
        }
        if s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit()) {
            return s.parse().ok().map(Some);
        }
        None
    };
    let separators = ["..", "-", "\u{2013}"];
    for sep in separators {
        if let Some((a, b)) = text.split_once(sep) {
            let (from, to) = (year(a)?, year(b)?);
            if from.is_none() && to.is_none() {
                return None;
            }
            return Some(Query::Years { from, to });
        }
    }
    let y = year(text)??;
    Some(Query::Years { from: Some(y), to: Some(y) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(input: &str, expected: &str) {
        let parsed = parse(input);
        assert_eq!(parsed.message, None, "{input}");
        assert_eq!(parsed.query.to_string(), expected, "{input}");
    }

    fn fallback(input: &str, expected: &str) {
        let parsed = parse(input);
        assert!(parsed.message.is_some(), "{input} parsed as {}", parsed.query);
        assert_eq!(parsed.query.to_string(), expected, "{input}");
    }

    #[test]
    fn words_and_phrases() {
        check("", "*");
        check("   ", "*");
        check("emma", "emma");
        check("pride prejudice", "(pride AND prejudice)");
        check("\"pride and prejudice\"", "\"pride and prejudice\"");
        check("\u{201c}curly quotes\u{201d}", "\"curly quotes\"");
        check("war and peace", "(war AND and AND peace)");
        check("The The", "(The AND The)");
        check("It", "It");
        check("0-306-40615-2", "0-306-40615-2");
        check("Jean-Paul", "Jean-Paul");
    }

    #[test]
    fn operators() {
        check("cats OR dogs", "(cats OR dogs)");
        check("cats AND dogs OR birds", "((cats AND dogs) OR birds)");
        check("cats NOT dogs", "(cats AND NOT dogs)");
        check("cats -dogs", "(cats AND NOT dogs)");
        check("austen AND (emma OR persuasion)", "(austen AND (emma OR persuasion))");
        check("-dogs", "NOT dogs");
        check("a - b", "(a AND - AND b)");
        check("((emma))", "emma");
    }

    #[test]
    fn fields() {
        check("title:emma", "title:emma");
        check("author:\"Austen, Jane\"", "author:\"Austen, Jane\"");
        check("ti:emma au:austen", "(title:emma AND author:austen)");
        check("subject:(whales OR dolphins)", "(subject:whales OR subject:dolphins)");
        check("isbn:0-306-40615-2", "isbn:0-306-40615-2");
        check("callnumber:QA76.73", "callnumber:QA76.73");
        check("year:1990-1999", "year:1990-1999");
        check("year:1990", "year:1990-1990");
        check("year:1990-", "year:1990-");
        check("year:..1999", "year:-1999");
        check("title:emma -author:austen", "(title:emma AND NOT author:austen)");
    }

    #[test]
    fn unreadable_input_falls_back_to_words() {
        fallback("(cats", "cats");
        fallback("cats)", "cats");
        fallback("\"unclosed phrase", "(unclosed AND phrase)");
        fallback("cats AND", "cats");
        fallback("OR dogs", "dogs");
        fallback("colour:red", "(colour AND red)");
        fallback("year:soon", "(year AND soon)");
        fallback("title:", "title");
        fallback(&"(".repeat(100), "*");
    }

    #[test]
    fn plain_queries() {
        assert!(parse("pride and prejudice").query.is_plain());
        assert!(parse("title:emma").query.is_plain());
        assert!(!parse("author:austen").query.is_plain());
        assert!(!parse("a OR b").query.is_plain());
        assert_eq!(parse("the  hobbit").query.plain_text(), "the hobbit");
    }

    proptest! {
        #[test]
        fn never_panics(input in "\\PC{0,60}") {
            let _ = parse(&input);
        }

        #[test]
        fn never_panics_on_syntax_soup(input in "[()\" :a-zA-Z0-9-]{0,40}|((AND|OR|NOT|title:|year:|\\(|\\)|\"|-| |x|1990-)){0,20}") {
            let parsed = parse(&input);
            let _ = parsed.query.to_string();
        }
    }
}
