//! The library's organisation: branches, shelving locations, item types, each named by a code.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A short code staff type and files carry (`CPL`, `ADULT-FIC`, `BK`): 1-32 characters of
/// letters, digits, `-`, `_` and `.`; stored as given.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Code(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("a code cannot be empty")]
    Empty,
    #[error("code {0:?} is longer than 32 characters")]
    TooLong(String),
    #[error("code {0:?} may hold only letters, digits, '-', '_' and '.'")]
    BadCharacter(String),
}

impl Code {
    pub fn parse(s: &str) -> Result<Code, CodeError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(CodeError::Empty);
        }
        if s.chars().count() > 32 {
            return Err(CodeError::TooLong(s.to_string()));
        }
        if !s.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.')) {
            return Err(CodeError::BadCharacter(s.to_string()));
        }
        Ok(Code(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Code {
    type Error = CodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Code::parse(&s)
    }
}

impl From<Code> for String {
    fn from(c: Code) -> String {
        c.0
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branch {
    pub code: Code,
    pub name: String,
}

/// A shelving location (Adult Fiction, Children's, Reference, Display, ...). Locations are
/// library-wide codes; an item's branch says which building.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShelvingLocation {
    pub code: Code,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemType {
    pub code: Code,
    pub name: String,
    /// False for reference-only types: such items never leave the building.
    pub loanable: bool,
}
