//! A recursive-descent parser for CQL 1.2:
//!
//! ```text
//! sortedQuery      ::= prefixAssignment sortedQuery | scopedClause ['sortby' sortSpec]
//! cqlQuery         ::= prefixAssignment cqlQuery | scopedClause
//! prefixAssignment ::= '>' prefix '=' uri | '>' uri
//! scopedClause     ::= scopedClause booleanGroup searchClause | searchClause
//! booleanGroup     ::= boolean [modifierList]
//! searchClause     ::= '(' cqlQuery ')' | index relation searchTerm | searchTerm
//! relation         ::= comparitor [modifierList]
//! modifier         ::= '/' modifierName [comparitorSymbol modifierValue]
//! sortSpec         ::= singleSpec+ ;  singleSpec ::= index [modifierList]
//! ```
//!
//! Index names are resolved to context sets while parsing, with the assignments in scope.
//! Nesting is bounded ([`MAX_NESTING`], [`MAX_BOOLEANS`]) so no query can exhaust the stack.

use thiserror::Error;

use crate::ast::{BooleanOp, Comparator, Index, Modifier, Node, PrefixAssignment, Query, Relation, SortKey};
use crate::context::{Scopes, CQL};
use crate::diagnostic::{Diagnostic, DiagnosticKind};
use crate::lexer::{lex, Token, TokenKind};
use crate::term::{MaskError, Term};

/// How deep parentheses may nest. The parser recurses once per level; real queries use a
/// handful.
pub const MAX_NESTING: usize = 100;
/// How many boolean operators a query may have. Every one adds a level to the tree, which is
/// walked recursively; a thousand leaves room for a long list of ISBNs joined by `or`.
pub const MAX_BOOLEANS: usize = 1000;

/// A query that cannot be parsed: where (a character offset into the query) and why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{kind} (at character {position})")]
pub struct ParseError {
    pub position: usize,
    pub kind: ParseErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseErrorKind {
    #[error("the query is empty")]
    EmptyQuery,
    #[error("expected {expected}, found {found}")]
    Unexpected { expected: &'static str, found: String },
    #[error("expected {expected}, but the query ends")]
    UnexpectedEnd { expected: &'static str },
    #[error("`)` without a matching `(`")]
    UnmatchedClose,
    #[error("`(` is never closed")]
    UnclosedParenthesis,
    #[error("empty parentheses")]
    EmptyParentheses,
    #[error("parentheses nest deeper than {MAX_NESTING}")]
    TooDeep,
    #[error("more than {MAX_BOOLEANS} boolean operators")]
    TooManyBooleans,
    #[error("a quoted string is never closed")]
    UnterminatedString,
    #[error("unknown context set prefix {0:?}")]
    UnknownPrefix(String),
    #[error("in term {term:?}: {error}")]
    Masking { term: String, error: MaskError },
}

impl ParseError {
    pub(crate) fn new(position: usize, kind: ParseErrorKind) -> ParseError {
        ParseError { position, kind }
    }

    /// The SRU diagnostic that answers this error, with the details the SRU list asks for.
    pub fn diagnostic(&self) -> Diagnostic {
        use ParseErrorKind as K;
        match &self.kind {
            K::UnmatchedClose | K::UnclosedParenthesis | K::EmptyParentheses | K::TooDeep => {
                Diagnostic::new(DiagnosticKind::InvalidParentheses, self.position.to_string())
            }
            K::UnterminatedString => Diagnostic::new(DiagnosticKind::InvalidQuotes, self.position.to_string()),
            K::UnknownPrefix(prefix) => Diagnostic::new(DiagnosticKind::UnsupportedContextSet, prefix.clone()),
            K::TooManyBooleans => Diagnostic::new(DiagnosticKind::TooManyBooleanOperators, MAX_BOOLEANS.to_string()),
            K::Masking { term, error } => error.diagnostic(term),
            K::EmptyQuery | K::Unexpected { .. } | K::UnexpectedEnd { .. } => {
                Diagnostic::new(DiagnosticKind::QuerySyntaxError, self.to_string())
            }
        }
    }
}

/// Parses a CQL query (with an optional `sortby` clause).
pub fn parse(input: &str) -> Result<Query, ParseError> {
    let tokens = lex(input)?;
    if tokens.len() == 1 {
        return Err(ParseError::new(0, ParseErrorKind::EmptyQuery));
    }
    let mut parser = Parser { tokens, at: 0, scopes: Scopes::default(), open: Vec::new(), booleans: 0 };
    parser.query()
}

fn is_reserved(word: &str) -> bool {
    BooleanOp::from_word(word).is_some() || word.eq_ignore_ascii_case("sortby")
}

fn describe(kind: &TokenKind) -> String {
    match kind {
        TokenKind::LParen => "`(`".to_string(),
        TokenKind::RParen => "`)`".to_string(),
        TokenKind::Slash => "`/`".to_string(),
        TokenKind::Symbol(c) => format!("`{c}`"),
        TokenKind::Word(w) => format!("`{w}`"),
        TokenKind::Quoted(q) => format!("\"{q}\""),
        TokenKind::End => "the end of the query".to_string(),
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    scopes: Scopes,
    /// Where the parentheses still open were opened: a query that ends inside them is
    /// diagnostic 13 at the innermost one.
    open: Vec<usize>,
    booleans: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        // The lexer always ends the list with `End` and `advance` never moves past it.
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn advance(&mut self) {
        if self.at + 1 < self.tokens.len() {
            self.at += 1;
        }
    }

    fn unexpected(&self, expected: &'static str) -> ParseError {
        let token = self.peek();
        let kind = match &token.kind {
            TokenKind::End => match self.open.last() {
                Some(&open) => return ParseError::new(open, ParseErrorKind::UnclosedParenthesis),
                None => ParseErrorKind::UnexpectedEnd { expected },
            },
            other => ParseErrorKind::Unexpected { expected, found: describe(other) },
        };
        ParseError::new(token.position, kind)
    }

    /// A term where the grammar wants one: a word (reserved words included) or a quoted string.
    fn term(&mut self, expected: &'static str) -> Result<(String, usize), ParseError> {
        let token = self.peek();
        let position = token.position;
        match &token.kind {
            TokenKind::Word(text) | TokenKind::Quoted(text) => {
                let text = text.clone();
                self.advance();
                Ok((text, position))
            }
            _ => Err(self.unexpected(expected)),
        }
    }

    fn query(&mut self) -> Result<Query, ParseError> {
        let prefixes = self.prefix_assignments()?;
        self.scopes.push(prefixes.clone());
        let root = self.scoped_clause()?;
        let mut sort = Vec::new();
        if matches!(&self.peek().kind, TokenKind::Word(w) if w.eq_ignore_ascii_case("sortby")) {
            self.advance();
            sort = self.sort_keys()?;
        }
        let token = self.peek();
        match token.kind {
            TokenKind::End => Ok(Query { prefixes, root, sort }),
            TokenKind::RParen => Err(ParseError::new(token.position, ParseErrorKind::UnmatchedClose)),
            _ => Err(self.unexpected("a boolean operator, `sortby` or the end of the query")),
        }
    }

    fn prefix_assignments(&mut self) -> Result<Vec<PrefixAssignment>, ParseError> {
        let mut assignments = Vec::new();
        while self.peek().kind == TokenKind::Symbol(Comparator::Gt) {
            self.advance();
            let (first, _) = self.term("a prefix or a context set URI after `>`")?;
            if self.peek().kind == TokenKind::Symbol(Comparator::Eq) {
                self.advance();
                let (uri, _) = self.term("a context set URI")?;
                assignments.push(PrefixAssignment { prefix: Some(first), uri });
            } else {
                assignments.push(PrefixAssignment { prefix: None, uri: first });
            }
        }
        Ok(assignments)
    }

    fn scoped_clause(&mut self) -> Result<Node, ParseError> {
        let mut left = self.search_clause()?;
        loop {
            let token = self.peek();
            let op = match &token.kind {
                TokenKind::Word(w) => BooleanOp::from_word(w),
                _ => None,
            };
            let Some(op) = op else { return Ok(left) };
            let position = token.position;
            self.booleans += 1;
            if self.booleans > MAX_BOOLEANS {
                return Err(ParseError::new(position, ParseErrorKind::TooManyBooleans));
            }
            self.advance();
            let modifiers = self.modifiers()?;
            let right = self.search_clause()?;
            left = Node::Boolean { op, modifiers, left: Box::new(left), right: Box::new(right) };
        }
    }

    fn search_clause(&mut self) -> Result<Node, ParseError> {
        let token = self.peek();
        let position = token.position;
        match &token.kind {
            TokenKind::LParen => {
                if self.open.len() == MAX_NESTING {
                    return Err(ParseError::new(position, ParseErrorKind::TooDeep));
                }
                self.open.push(position);
                self.advance();
                if self.peek().kind == TokenKind::RParen {
                    return Err(ParseError::new(position, ParseErrorKind::EmptyParentheses));
                }
                let prefixes = self.prefix_assignments()?;
                self.scopes.push(prefixes.clone());
                let inner = self.scoped_clause()?;
                self.scopes.pop();
                if self.peek().kind != TokenKind::RParen {
                    return Err(self.unexpected("a boolean operator or `)`"));
                }
                self.advance();
                self.open.pop();
                Ok(if prefixes.is_empty() { inner } else { Node::Scoped { prefixes, query: Box::new(inner) } })
            }
            TokenKind::RParen => Err(ParseError::new(position, ParseErrorKind::UnmatchedClose)),
            TokenKind::Word(_) | TokenKind::Quoted(_) => {
                let (first, first_position) = self.term("a search term")?;
                let comparator = match &self.peek().kind {
                    TokenKind::Symbol(symbol) => Some(symbol.clone()),
                    TokenKind::Word(w) if !is_reserved(w) => Some(Comparator::named(w)),
                    _ => None,
                };
                let Some(comparator) = comparator else {
                    // A bare term: `cql.serverChoice =`, whatever the prefixes in scope say.
                    let index = Index::new(Some("cql"), "serverChoice", CQL);
                    let term = search_term(first, first_position)?;
                    return Ok(Node::Clause { index, relation: Relation::new(Comparator::Eq), term });
                };
                self.advance();
                let index = self.index(&first, first_position)?;
                let modifiers = self.modifiers()?;
                let (text, term_position) = self.term("a search term after the relation")?;
                let term = search_term(text, term_position)?;
                Ok(Node::Clause { index, relation: Relation { comparator, modifiers }, term })
            }
            _ => Err(self.unexpected("a search term or `(`")),
        }
    }

    fn modifiers(&mut self) -> Result<Vec<Modifier>, ParseError> {
        let mut modifiers = Vec::new();
        while self.peek().kind == TokenKind::Slash {
            self.advance();
            let (name, _) = self.term("a modifier name after `/`")?;
            let value = match &self.peek().kind {
                TokenKind::Symbol(symbol) => {
                    let symbol = symbol.clone();
                    self.advance();
                    let (value, _) = self.term("a modifier value")?;
                    Some((symbol, value))
                }
                _ => None,
            };
            modifiers.push(Modifier { name, value });
        }
        Ok(modifiers)
    }

    fn sort_keys(&mut self) -> Result<Vec<SortKey>, ParseError> {
        let mut keys = Vec::new();
        loop {
            let token = self.peek();
            let position = token.position;
            let written = match &token.kind {
                TokenKind::Word(w) | TokenKind::Quoted(w) => w.clone(),
                _ if keys.is_empty() => return Err(self.unexpected("an index to sort by")),
                _ => return Ok(keys),
            };
            self.advance();
            let index = self.index(&written, position)?;
            let modifiers = self.modifiers()?;
            keys.push(SortKey { index, modifiers });
        }
    }

    fn index(&self, written: &str, position: usize) -> Result<Index, ParseError> {
        let (prefix, name) = Index::split(written);
        match self.scopes.resolve(prefix) {
            Some(uri) => Ok(Index::new(prefix, name, &uri)),
            None => {
                Err(ParseError::new(position, ParseErrorKind::UnknownPrefix(prefix.unwrap_or_default().to_string())))
            }
        }
    }
}

fn search_term(text: String, position: usize) -> Result<Term, ParseError> {
    match Term::new(text.clone()) {
        Ok(term) => Ok(term),
        Err(error) => Err(ParseError::new(position, ParseErrorKind::Masking { term: text, error })),
    }
}
