//! The parsed query. Parentheses that only group leave no trace (the tree's shape is the
//! grouping); parentheses that open a prefix scope become [`Node::Scoped`], so the query can be
//! written back exactly.

use std::fmt;

use crate::term::Term;

/// A whole CQL query: prefix assignments at the top, the search, and the `sortby` keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// `> dc = "info:srw/cql-context-set/1/dc-v1.1"` before the search; they hold for the whole
    /// query, sort keys included.
    pub prefixes: Vec<PrefixAssignment>,
    pub root: Node,
    /// The `sortby` keys, most significant first; empty when the query does not sort.
    pub sort: Vec<SortKey>,
}

/// `> prefix = uri`, or `> uri` (no prefix), which makes `uri` the context set of the indexes
/// written without a prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PrefixAssignment {
    pub prefix: Option<String>,
    pub uri: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// `left op/modifiers right`. Booleans have no precedence and associate to the left, so
    /// `a or b and c` is `(a or b) and c`.
    Boolean { op: BooleanOp, modifiers: Vec<Modifier>, left: Box<Node>, right: Box<Node> },
    /// `index relation term`; a bare term is `cql.serverChoice = term`.
    Clause { index: Index, relation: Relation, term: Term },
    /// `( > prefix = uri ... query )`: assignments that hold inside these parentheses only.
    Scoped { prefixes: Vec<PrefixAssignment>, query: Box<Node> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BooleanOp {
    And,
    Or,
    Not,
    Prox,
}

impl BooleanOp {
    pub fn as_str(self) -> &'static str {
        match self {
            BooleanOp::And => "and",
            BooleanOp::Or => "or",
            BooleanOp::Not => "not",
            BooleanOp::Prox => "prox",
        }
    }

    /// Booleans are case-insensitive: `AND`, `And` and `and` are one operator.
    pub fn from_word(word: &str) -> Option<BooleanOp> {
        [BooleanOp::And, BooleanOp::Or, BooleanOp::Not, BooleanOp::Prox]
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(word))
    }
}

impl fmt::Display for BooleanOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An index name as written and the context set it was resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Index {
    prefix: Option<String>,
    name: String,
    context_set: String,
}

impl Index {
    /// An index `prefix.name` (or `name`) that belongs to the context set with URI
    /// `context_set`. The parser resolves the URI from the prefix assignments in scope.
    pub fn new(prefix: Option<&str>, name: &str, context_set: &str) -> Index {
        Index { prefix: prefix.map(str::to_string), name: name.to_string(), context_set: context_set.to_string() }
    }

    /// Cuts a written index name at its first dot: `dc.title` is prefix `dc`, name `title`.
    pub(crate) fn split(written: &str) -> (Option<&str>, &str) {
        match written.split_once('.') {
            Some((prefix, name)) if !prefix.is_empty() => (Some(prefix), name),
            _ => (None, written),
        }
    }

    /// The prefix as written (`dc` in `dc.title`), if there was one.
    pub fn prefix(&self) -> Option<&str> {
        self.prefix.as_deref()
    }

    /// The name within its context set (`title` in `dc.title`), as written.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URI of the context set the index belongs to.
    pub fn context_set(&self) -> &str {
        &self.context_set
    }

    /// The index as written: `dc.title`, or `title` without a prefix.
    pub fn written(&self) -> String {
        match &self.prefix {
            Some(prefix) => format!("{prefix}.{}", self.name),
            None => self.name.clone(),
        }
    }

    /// Whether this is the index `context_set`.`name` (names compare case-insensitively, as
    /// CQL says they do).
    pub fn is(&self, context_set: &str, name: &str) -> bool {
        self.context_set == context_set && self.name.eq_ignore_ascii_case(name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Relation {
    pub comparator: Comparator,
    pub modifiers: Vec<Modifier>,
}

impl Relation {
    pub fn new(comparator: Comparator) -> Relation {
        Relation { comparator, modifiers: Vec::new() }
    }
}

/// The relation's base. The symbols and the CQL context set's named relations are variants;
/// named relations compare case-insensitively and may carry the `cql.` prefix, so `ANY`,
/// `cql.any` and `any` are all [`Comparator::Any`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Comparator {
    /// `=`
    Eq,
    /// `==`
    Exact,
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `>=`
    Ge,
    /// `<>`
    Ne,
    Adj,
    All,
    Any,
    Within,
    Encloses,
    /// Any other named relation (`exact` from CQL 1.1, another context set's `x.near`), as
    /// written. Never one of the names above.
    Named(String),
}

impl Comparator {
    pub fn as_str(&self) -> &str {
        match self {
            Comparator::Eq => "=",
            Comparator::Exact => "==",
            Comparator::Lt => "<",
            Comparator::Gt => ">",
            Comparator::Le => "<=",
            Comparator::Ge => ">=",
            Comparator::Ne => "<>",
            Comparator::Adj => "adj",
            Comparator::All => "all",
            Comparator::Any => "any",
            Comparator::Within => "within",
            Comparator::Encloses => "encloses",
            Comparator::Named(name) => name,
        }
    }

    /// Whether this is one of the symbols (the only comparators a modifier may use).
    pub fn is_symbol(&self) -> bool {
        matches!(
            self,
            Comparator::Eq
                | Comparator::Exact
                | Comparator::Lt
                | Comparator::Gt
                | Comparator::Le
                | Comparator::Ge
                | Comparator::Ne
        )
    }

    /// A named relation as written in a query.
    pub fn named(word: &str) -> Comparator {
        let lower = word.to_ascii_lowercase();
        let base = lower.strip_prefix("cql.").unwrap_or(&lower);
        match base {
            "adj" => Comparator::Adj,
            "all" => Comparator::All,
            "any" => Comparator::Any,
            "within" => Comparator::Within,
            "encloses" => Comparator::Encloses,
            _ => Comparator::Named(word.to_string()),
        }
    }
}

impl fmt::Display for Comparator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `/name` or `/name comparator value`, after a relation, a boolean or a sort key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Modifier {
    /// As written (`relevant`, `rel.combine`, `sort.descending`, `distance`).
    pub name: String,
    /// The comparison symbol and the value, as in `/distance>2` or `/unit=word`.
    pub value: Option<(Comparator, String)>,
}

impl Modifier {
    pub fn flag(name: &str) -> Modifier {
        Modifier { name: name.to_string(), value: None }
    }

    pub fn with_value(name: &str, comparator: Comparator, value: &str) -> Modifier {
        Modifier { name: name.to_string(), value: Some((comparator, value.to_string())) }
    }

    /// The name lowercased and without the context-set prefix `prefix` (`sort.Descending` with
    /// `sort` is `descending`), for comparing against what a server supports.
    pub fn normalized_name(&self, prefix: &str) -> String {
        let lower = self.name.to_ascii_lowercase();
        match lower.strip_prefix(prefix).and_then(|rest| rest.strip_prefix('.')) {
            Some(base) => base.to_string(),
            None => lower,
        }
    }
}

/// One `sortby` key: `dc.date/sort.descending`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    pub index: Index,
    pub modifiers: Vec<Modifier>,
}
