//! CQL, the Contextual Query Language (version 1.2) that SRU clients search with: a parser to a
//! typed [`Query`], the context sets its indexes belong to, search terms that keep their masking
//! ([`Term`], [`Piece`]), a check against what a server supports that answers with SRU
//! diagnostics ([`validate`], [`Diagnostic`]), the canonical CQL form ([`Query::to_cql`]) and
//! XCQL ([`Query::to_xcql`]), the XML form SRU 1.2 echoes.
//! Pure: no I/O, and no input makes it panic.
//!
//! ```
//! use cql::{Capabilities, Comparator, DiagnosticKind, IndexCapability, Node, Piece};
//!
//! let query = cql::parse(r#"dc.title any "whale* moby" and/rel.combine=sum dc.creator = melville"#).unwrap();
//! let Node::Boolean { left, .. } = &query.root else { panic!() };
//! let Node::Clause { index, relation, term } = &**left else { panic!() };
//! assert_eq!((index.context_set(), index.name()), (cql::DC, "title"));
//! assert_eq!(relation.comparator, Comparator::Any);
//! assert_eq!(term.pattern(), [Piece::Literal("whale".into()), Piece::AnyChars, Piece::Literal(" moby".into())]);
//! assert_eq!(query.to_cql(), r#"dc.title any "whale* moby" and/rel.combine=sum dc.creator = melville"#);
//!
//! // A server that only knows dc.title answers the creator clause with diagnostic 16.
//! let caps = Capabilities {
//!     indexes: vec![IndexCapability::new(cql::DC, "title", &[Comparator::Any])],
//!     booleans: vec![cql::BooleanOp::And],
//!     boolean_modifiers: vec!["rel.combine".into()],
//!     masking: true,
//!     ..Capabilities::default()
//! };
//! let diagnostic = cql::validate(&query, &caps).unwrap_err();
//! assert_eq!(diagnostic.kind, DiagnosticKind::UnsupportedIndex);
//! assert_eq!(diagnostic.uri(), "info:srw/diagnostic/1/16");
//! assert_eq!(diagnostic.details.as_deref(), Some("dc.creator"));
//! ```
//!
//! # What the parser decides
//! - Booleans (`and`, `or`, `not`, `prox`) have no precedence and group to the left:
//!   `a or b and c` is `(a or b) and c`. Booleans, named relations and `sortby` are
//!   case-insensitive; index names keep their spelling and compare case-insensitively.
//! - A bare term (`dinosaur`, `"the the"`) is `cql.serverChoice = term`.
//! - `> dc = "uri"` assigns a prefix for the rest of the query, or, right after `(`, until the
//!   matching `)` ([`Node::Scoped`]); `> "uri"` sets the context set of unprefixed indexes.
//!   Unprefixed indexes otherwise belong to `cql`; the prefixes `cql`, `dc`, `bath` and `rec`
//!   need no assignment. Any other prefix is diagnostic 15.
//! - Reserved words are terms where the grammar wants a term (`dc.title = and`), and are
//!   quoted when written back.
//! - A term's value keeps its backslashes except before `"`; its [`Term::pattern`] reads `*`,
//!   `?` and `^` and the escapes `\*`, `\?`, `\^`, `\"`, `\\`. Any other escape (diagnostic 26)
//!   and a `^` inside a word (diagnostic 32) are errors, as CQL says.
//! - Errors carry a character offset and map to an SRU diagnostic ([`ParseError::diagnostic`]):
//!   13 for parentheses, 14 for an unclosed quote, 15 for an unknown prefix, 38 past
//!   [`MAX_BOOLEANS`], 10 for the rest.

mod ast;
mod context;
mod diagnostic;
mod lexer;
mod parser;
mod serialize;
mod term;
mod validate;
mod xcql;

pub use ast::{BooleanOp, Comparator, Index, Modifier, Node, PrefixAssignment, Query, Relation, SortKey};
pub use context::{known_context_set, BATH, CQL, DC, KNOWN_CONTEXT_SETS, REC};
pub use diagnostic::{Diagnostic, DiagnosticKind, DIAGNOSTIC_NAMESPACE};
pub use parser::{parse, ParseError, ParseErrorKind, MAX_BOOLEANS, MAX_NESTING};
pub use term::{MaskError, Piece, Term};
pub use validate::{validate, Capabilities, IndexCapability, ProximityCapability, SortCapability};
pub use xcql::XCQL_NAMESPACE;
