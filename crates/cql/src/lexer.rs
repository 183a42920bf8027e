//! Tokens of CQL. A word is any run of characters other than whitespace, `(`, `)`, `=`, `<`,
//! `>`, `"` and `/`; a quoted string keeps its backslashes except the ones before `"`.
//! Whether a word is a reserved word (`and`, `or`, `not`, `prox`, `sortby`) is the parser's
//! question: the grammar lets reserved words be terms too.

use crate::ast::Comparator;
use crate::parser::{ParseError, ParseErrorKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenKind {
    LParen,
    RParen,
    Slash,
    /// `=`, `==`, `<`, `>`, `<=`, `>=`, `<>`.
    Symbol(Comparator),
    Word(String),
    Quoted(String),
    End,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) kind: TokenKind,
    /// Character (not byte) offset of the token's first character: the SRU details for
    /// diagnostics 13 and 14 are character offsets.
    pub(crate) position: usize,
}

fn is_word_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '(' | ')' | '=' | '<' | '>' | '"' | '/')
}

pub(crate) fn lex(input: &str) -> Result<Vec<Token>, ParseError> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let next = chars.get(i + 1).copied();
        let (kind, len) = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => (TokenKind::LParen, 1),
            ')' => (TokenKind::RParen, 1),
            '/' => (TokenKind::Slash, 1),
            '=' if next == Some('=') => (TokenKind::Symbol(Comparator::Exact), 2),
            '=' => (TokenKind::Symbol(Comparator::Eq), 1),
            '<' if next == Some('=') => (TokenKind::Symbol(Comparator::Le), 2),
            '<' if next == Some('>') => (TokenKind::Symbol(Comparator::Ne), 2),
            '<' => (TokenKind::Symbol(Comparator::Lt), 1),
            '>' if next == Some('=') => (TokenKind::Symbol(Comparator::Ge), 2),
            '>' => (TokenKind::Symbol(Comparator::Gt), 1),
            '"' => {
                let mut text = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => return Err(ParseError::new(start, ParseErrorKind::UnterminatedString)),
                        Some('"') => break,
                        Some('\\') => {
                            match chars.get(j + 1) {
                                None => return Err(ParseError::new(start, ParseErrorKind::UnterminatedString)),
                                // `\"` releases a quote; every other backslash stays in the
                                // value for the masking rules to read.
                                Some('"') => text.push('"'),
                                Some(&e) => {
                                    text.push('\\');
                                    text.push(e);
                                }
                            }
                            j += 2;
                        }
                        Some(&c) => {
                            text.push(c);
                            j += 1;
                        }
                    }
                }
                (TokenKind::Quoted(text), j + 1 - i)
            }
            _ => {
                let len = chars[i..].iter().take_while(|&&c| is_word_char(c)).count();
                (TokenKind::Word(chars[i..i + len].iter().collect()), len)
            }
        };
        tokens.push(Token { kind, position: start });
        i += len;
    }
    tokens.push(Token { kind: TokenKind::End, position: chars.len() });
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Vec<TokenKind> {
        lex(input).unwrap().into_iter().map(|t| t.kind).collect()
    }

    fn word(w: &str) -> TokenKind {
        TokenKind::Word(w.to_string())
    }

    #[test]
    fn symbols_take_the_longest_match() {
        use Comparator::*;
        let symbols: Vec<_> = ["=", "==", "<", ">", "<=", ">=", "<>"].iter().flat_map(|s| kinds(s)).collect();
        let sym = TokenKind::Symbol;
        let end = TokenKind::End;
        assert_eq!(
            symbols,
            [
                sym(Eq),
                end.clone(),
                sym(Exact),
                end.clone(),
                sym(Lt),
                end.clone(),
                sym(Gt),
                end.clone(),
                sym(Le),
                end.clone(),
                sym(Ge),
                end.clone(),
                sym(Ne),
                end
            ]
        );
        // `===` is `==` then `=`; `=<` is `=` then `<`.
        assert_eq!(kinds("==="), [sym(Exact), sym(Eq), TokenKind::End]);
        assert_eq!(kinds("=<"), [sym(Eq), sym(Lt), TokenKind::End]);
    }

    #[test]
    fn words_stop_at_specials_and_quotes_keep_backslashes() {
        assert_eq!(
            kinds(r#"dc.title="a \"b\" \* c"/x(y)"#),
            [
                word("dc.title"),
                TokenKind::Symbol(Comparator::Eq),
                TokenKind::Quoted(r#"a "b" \* c"#.to_string()),
                TokenKind::Slash,
                word("x"),
                TokenKind::LParen,
                word("y"),
                TokenKind::RParen,
                TokenKind::End,
            ]
        );
        assert_eq!(kinds(r"a\b\ c"), [word(r"a\b\"), word("c"), TokenKind::End]);
        assert_eq!(kinds(r#""\\""#), [TokenKind::Quoted(r"\\".to_string()), TokenKind::End]);
        assert_eq!(kinds("\u{a0}x\u{3000}y"), [word("x"), word("y"), TokenKind::End]);
    }

    #[test]
    fn positions_are_character_offsets() {
        let positions: Vec<usize> = lex("ü = \"é\" )").unwrap().iter().map(|t| t.position).collect();
        assert_eq!(positions, [0, 2, 4, 8, 9]);
    }
}
