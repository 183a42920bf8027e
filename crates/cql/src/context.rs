//! Context sets: the ones Shelfmark knows by their short names, and the scopes of a query's own
//! prefix assignments. An index written without a prefix belongs to the default set, `cql`
//! unless a `> uri` assignment in scope says otherwise; a bare term is `cql.serverChoice`.

use crate::ast::PrefixAssignment;

/// The CQL context set (version 1.2): `serverChoice`, `anywhere`, `allRecords`, `keywords`...
pub const CQL: &str = "info:srw/cql-context-set/1/cql-v1.2";
/// Dublin Core (version 1.1): `title`, `creator`, `subject`, `date`...
pub const DC: &str = "info:srw/cql-context-set/1/dc-v1.1";
/// The Bath profile (version 2.0): `isbn`, `issn`, `name`...
pub const BATH: &str = "http://zing.z3950.org/cql/bath/2.0/";
/// Record metadata (version 1.1): `id`, `lastModificationDate`...
pub const REC: &str = "info:srw/cql-context-set/2/rec-1.1";

/// The short names a query may use without assigning them.
pub const KNOWN_CONTEXT_SETS: &[(&str, &str)] = &[("cql", CQL), ("dc", DC), ("bath", BATH), ("rec", REC)];

/// The URI of a well-known context set's short name (case-insensitive).
pub fn known_context_set(prefix: &str) -> Option<&'static str> {
    KNOWN_CONTEXT_SETS.iter().find(|(name, _)| name.eq_ignore_ascii_case(prefix)).map(|&(_, uri)| uri)
}

/// The assignments in force, innermost last. A later assignment of a prefix hides an earlier
/// one, in the same scope or an outer one.
#[derive(Debug, Default)]
pub(crate) struct Scopes {
    stack: Vec<Vec<PrefixAssignment>>,
}

impl Scopes {
    pub(crate) fn push(&mut self, assignments: Vec<PrefixAssignment>) {
        self.stack.push(assignments);
    }

    pub(crate) fn pop(&mut self) {
        self.stack.pop();
    }

    fn find(&self, wanted: Option<&str>) -> Option<&str> {
        self.stack.iter().rev().flat_map(|scope| scope.iter().rev()).find_map(|a| {
            let matches = match (wanted, a.prefix.as_deref()) {
                (Some(w), Some(p)) => w.eq_ignore_ascii_case(p),
                (None, None) => true,
                _ => false,
            };
            matches.then_some(a.uri.as_str())
        })
    }

    /// The context set of an index with this prefix (`None` for no prefix), or `None` when the
    /// prefix is neither assigned nor well known.
    pub(crate) fn resolve(&self, prefix: Option<&str>) -> Option<String> {
        match prefix {
            Some(p) => self.find(Some(p)).or_else(|| known_context_set(p)).map(str::to_string),
            None => Some(self.find(None).unwrap_or(CQL).to_string()),
        }
    }
}
