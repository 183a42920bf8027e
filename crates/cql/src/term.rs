//! Search terms and their masking: `*` (zero or more characters), `?` (one character), `^`
//! (anchor at the start or end of a word) and the backslash escapes `\*`, `\?`, `\^`, `\"`,
//! `\\`. The search layer reads the [`Piece`]s, never the raw text, so an escaped `\*` can never
//! be mistaken for truncation.

use thiserror::Error;

use crate::diagnostic::{Diagnostic, DiagnosticKind};

/// One piece of a term's pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Piece {
    /// Characters to match as they are (escapes already removed; may contain whitespace).
    Literal(String),
    /// `*`: zero or more characters.
    AnyChars,
    /// `?`: exactly one character.
    OneChar,
    /// `^`: the start of the field when it opens a word, its end when it closes one.
    Anchor,
}

/// Why a term's masking cannot be read. The CQL specification makes both errors: a backslash
/// may only escape `*`, `?`, `^`, `"` and itself, and a `^` means something only at the start or
/// end of a word (elsewhere it "must be escaped nevertheless").
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MaskError {
    #[error("backslash escapes {}, which is not a masking character", describe(*.0))]
    NonSpecialEscaped(Option<char>),
    #[error("`^` in the middle of a word (escape it as `\\^` to search for it)")]
    AnchorInsideWord,
}

fn describe(c: Option<char>) -> String {
    match c {
        Some(c) => format!("{c:?}"),
        None => "nothing (the term ends)".to_string(),
    }
}

impl MaskError {
    pub fn diagnostic(&self, term: &str) -> Diagnostic {
        match self {
            MaskError::NonSpecialEscaped(c) => Diagnostic::new(
                DiagnosticKind::NonSpecialCharacterEscaped,
                c.map_or_else(|| "\\".to_string(), |c| c.to_string()),
            ),
            MaskError::AnchorInsideWord => {
                Diagnostic::new(DiagnosticKind::AnchoringCharacterInUnsupportedPosition, term)
            }
        }
    }
}

/// A search term: the value as CQL defines it (surrounding quotes removed, `\"` turned into `"`,
/// every other backslash kept) and the pattern read from it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Term {
    text: String,
    pattern: Vec<Piece>,
}

/// What one character of a term is, once escapes are read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Char(char),
    Any,
    One,
    Caret,
}

impl Term {
    /// Reads the masking in `text` (a term's value as defined above).
    pub fn new(text: impl Into<String>) -> Result<Term, MaskError> {
        let text = text.into();
        let units = units(&text)?;
        let pattern = pattern(&units)?;
        Ok(Term { text, pattern })
    }

    /// A term that matches `literal` exactly: masking characters in it are escaped.
    pub fn literal(literal: &str) -> Term {
        let mut text = String::with_capacity(literal.len());
        for c in literal.chars() {
            if matches!(c, '*' | '?' | '^' | '\\') {
                text.push('\\');
            }
            text.push(c);
        }
        let pattern = if literal.is_empty() { Vec::new() } else { vec![Piece::Literal(literal.to_string())] };
        Term { text, pattern }
    }

    /// The value as written in the query (backslashes kept, except before `"`).
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn pattern(&self) -> &[Piece] {
        &self.pattern
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Whether the term uses `*` or `?`.
    pub fn has_masking(&self) -> bool {
        self.pattern.iter().any(|p| matches!(p, Piece::AnyChars | Piece::OneChar))
    }

    /// Whether the term uses `^`.
    pub fn has_anchors(&self) -> bool {
        self.pattern.contains(&Piece::Anchor)
    }

    /// The characters to match when the term has no masking or anchors at all.
    pub fn as_literal(&self) -> Option<String> {
        let mut out = String::new();
        for piece in &self.pattern {
            match piece {
                Piece::Literal(s) => out.push_str(s),
                _ => return None,
            }
        }
        Some(out)
    }

    /// The pattern cut into whitespace-separated words, for the word relations (`all`, `any`,
    /// `adj`) where each word is matched on its own and anchors belong to words.
    pub fn words(&self) -> Vec<Vec<Piece>> {
        let mut words = Vec::new();
        let mut word: Vec<Piece> = Vec::new();
        for piece in &self.pattern {
            let Piece::Literal(s) = piece else {
                word.push(piece.clone());
                continue;
            };
            let mut rest = s.as_str();
            loop {
                let (chunk, after) = match rest.find(char::is_whitespace) {
                    Some(at) => rest.split_at(at),
                    None => (rest, ""),
                };
                if !chunk.is_empty() {
                    word.push(Piece::Literal(chunk.to_string()));
                }
                let Some(space) = after.chars().next() else { break };
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                rest = &after[space.len_utf8()..];
            }
        }
        if !word.is_empty() {
            words.push(word);
        }
        words
    }
}

fn units(text: &str) -> Result<Vec<Unit>, MaskError> {
    let mut units = Vec::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        units.push(match c {
            '\\' => match chars.next() {
                Some(e @ ('*' | '?' | '^' | '"' | '\\')) => Unit::Char(e),
                other => return Err(MaskError::NonSpecialEscaped(other)),
            },
            '*' => Unit::Any,
            '?' => Unit::One,
            '^' => Unit::Caret,
            c => Unit::Char(c),
        });
    }
    Ok(units)
}

fn pattern(units: &[Unit]) -> Result<Vec<Piece>, MaskError> {
    let is_space = |i: usize| matches!(units.get(i), Some(Unit::Char(c)) if c.is_whitespace());
    let mut pattern = Vec::new();
    let mut literal = String::new();
    for (i, unit) in units.iter().enumerate() {
        let piece = match *unit {
            Unit::Char(c) => {
                literal.push(c);
                continue;
            }
            Unit::Any => Piece::AnyChars,
            Unit::One => Piece::OneChar,
            Unit::Caret => {
                let opens_word = i == 0 || is_space(i - 1);
                let closes_word = i + 1 == units.len() || is_space(i + 1);
                if !opens_word && !closes_word {
                    return Err(MaskError::AnchorInsideWord);
                }
                Piece::Anchor
            }
        };
        if !literal.is_empty() {
            pattern.push(Piece::Literal(std::mem::take(&mut literal)));
        }
        pattern.push(piece);
    }
    if !literal.is_empty() {
        pattern.push(Piece::Literal(literal));
    }
    Ok(pattern)
}
