//! Checking a parsed query against what a server can do, so a request it cannot answer gets
//! the SRU diagnostic that says exactly why (16 and the index name, 19 and the relation, ...)
//! instead of a wrong result.

use crate::ast::{BooleanOp, Comparator, Index, Modifier, Node, Query, SortKey};
use crate::diagnostic::{Diagnostic, DiagnosticKind as K};
use crate::term::Term;

/// What a server supports. Names (modifiers, units) compare case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    pub indexes: Vec<IndexCapability>,
    /// `and`, `or`, `not`; `prox` is allowed by `proximity` instead.
    pub booleans: Vec<BooleanOp>,
    /// Modifiers allowed on `and`, `or`, `not` (`rel.combine`), as written in queries.
    pub boolean_modifiers: Vec<String>,
    /// `None`: `prox` is refused with diagnostic 39.
    pub proximity: Option<ProximityCapability>,
    /// Relation modifiers (`relevant`, `stem`, ...): without a prefix, or with `cql.`.
    pub relation_modifiers: Vec<String>,
    /// `*` and `?`.
    pub masking: bool,
    /// `^`.
    pub anchoring: bool,
    /// Whether `dc.title = ""` is allowed.
    pub empty_terms: bool,
    /// `None`: `sortby` is refused with diagnostic 80.
    pub sort: Option<SortCapability>,
}

/// One searchable index and the relations it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexCapability {
    /// The context set's URI ([`crate::DC`], ...).
    pub context_set: String,
    /// The name within the set, as the explain record spells it (`title`, `serverChoice`).
    pub name: String,
    pub relations: Vec<Comparator>,
    /// Whether `sortby` may use it.
    pub sortable: bool,
}

impl IndexCapability {
    pub fn new(context_set: &str, name: &str, relations: &[Comparator]) -> IndexCapability {
        IndexCapability {
            context_set: context_set.to_string(),
            name: name.to_string(),
            relations: relations.to_vec(),
            sortable: false,
        }
    }

    pub fn sortable(mut self) -> IndexCapability {
        self.sortable = true;
        self
    }
}

/// The `prox` modifiers of CQL 1.2 a server answers: `unit=word`, `distance<=3`, `ordered`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProximityCapability {
    /// `word`, `sentence`, `paragraph`, `element`.
    pub units: Vec<String>,
    /// The comparisons allowed in `distance`: `=`, `<`, `<=`, ...
    pub distance_relations: Vec<Comparator>,
    pub max_distance: u32,
    pub ordered: bool,
    pub unordered: bool,
}

/// The `sortby` modifiers a server answers, without the `sort.` prefix (`ascending`,
/// `descending`, `ignoreCase`, `respectCase`, `missingOmit`, `missingHigh`, `missingLow`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SortCapability {
    pub modifiers: Vec<String>,
}

fn contains_name(names: &[String], name: &str) -> bool {
    names.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// The first thing in `query` (reading left to right, sort keys last) that `capabilities` does
/// not allow, as the SRU diagnostic to answer with.
pub fn validate(query: &Query, capabilities: &Capabilities) -> Result<(), Diagnostic> {
    let checker = Checker { caps: capabilities };
    checker.node(&query.root)?;
    if !query.sort.is_empty() {
        let Some(sort) = &capabilities.sort else { return Err(Diagnostic::bare(K::SortNotSupported)) };
        for key in &query.sort {
            checker.sort_key(key, sort)?;
        }
    }
    Ok(())
}

struct Checker<'a> {
    caps: &'a Capabilities,
}

impl Checker<'_> {
    fn node(&self, node: &Node) -> Result<(), Diagnostic> {
        match node {
            Node::Boolean { op, modifiers, left, right } => {
                self.node(left)?;
                self.boolean(*op, modifiers)?;
                self.node(right)
            }
            Node::Clause { index, relation, term } => {
                let capability = self.index(index)?;
                self.relation(index, capability, &relation.comparator)?;
                for modifier in &relation.modifiers {
                    if !contains_name(&self.caps.relation_modifiers, &modifier.normalized_name("cql")) {
                        return Err(Diagnostic::new(K::UnsupportedRelationModifier, modifier.name.clone()));
                    }
                }
                self.term(&relation.comparator, term)
            }
            Node::Scoped { query, .. } => self.node(query),
        }
    }

    fn index(&self, index: &Index) -> Result<&IndexCapability, Diagnostic> {
        if let Some(capability) = self.caps.indexes.iter().find(|c| index.is(&c.context_set, &c.name)) {
            return Ok(capability);
        }
        if self.caps.indexes.iter().any(|c| c.context_set == index.context_set()) {
            Err(Diagnostic::new(K::UnsupportedIndex, index.written()))
        } else {
            let set = index.prefix().unwrap_or(index.context_set());
            Err(Diagnostic::new(K::UnsupportedContextSet, set))
        }
    }

    fn relation(&self, index: &Index, capability: &IndexCapability, comparator: &Comparator) -> Result<(), Diagnostic> {
        if capability.relations.contains(comparator) {
            return Ok(());
        }
        // 22 when another index answers this relation (the combination is the problem), 19
        // when no index does.
        if self.caps.indexes.iter().any(|c| c.relations.contains(comparator)) {
            Err(Diagnostic::new(
                K::UnsupportedCombinationOfRelationAndIndex,
                format!("{} {comparator}", index.written()),
            ))
        } else {
            Err(Diagnostic::new(K::UnsupportedRelation, comparator.as_str()))
        }
    }

    fn term(&self, comparator: &Comparator, term: &Term) -> Result<(), Diagnostic> {
        if term.is_empty() && !self.caps.empty_terms {
            return Err(Diagnostic::bare(K::EmptyTermUnsupported));
        }
        if term.has_masking() && !self.caps.masking {
            return Err(Diagnostic::new(K::MaskingCharacterNotSupported, term.text()));
        }
        if term.has_anchors() {
            if !self.caps.anchoring {
                return Err(Diagnostic::new(K::AnchoringCharacterNotSupported, term.text()));
            }
            // CQL: `^` anchors words; a `==` match is anchored already and may not use it.
            if *comparator == Comparator::Exact {
                return Err(Diagnostic::new(K::AnchoringCharacterInUnsupportedPosition, term.text()));
            }
        }
        Ok(())
    }

    fn boolean(&self, op: BooleanOp, modifiers: &[Modifier]) -> Result<(), Diagnostic> {
        if op == BooleanOp::Prox {
            let Some(prox) = &self.caps.proximity else { return Err(Diagnostic::bare(K::ProximityNotSupported)) };
            return modifiers.iter().try_for_each(|m| proximity_modifier(prox, m));
        }
        if !self.caps.booleans.contains(&op) {
            return Err(Diagnostic::new(K::UnsupportedBooleanOperator, op.as_str()));
        }
        match modifiers.iter().find(|m| !contains_name(&self.caps.boolean_modifiers, &m.name)) {
            Some(m) => Err(Diagnostic::new(K::UnsupportedBooleanModifier, m.name.clone())),
            None => Ok(()),
        }
    }

    fn sort_key(&self, key: &SortKey, sort: &SortCapability) -> Result<(), Diagnostic> {
        let capability = self.index(&key.index)?;
        if !capability.sortable {
            return Err(Diagnostic::new(K::UnsupportedIndex, key.index.written()));
        }
        for modifier in &key.modifiers {
            let name = modifier.normalized_name("sort");
            if contains_name(&sort.modifiers, &name) {
                continue;
            }
            let kind = match name.as_str() {
                "ascending" | "descending" => K::UnsupportedSortDirection,
                "ignorecase" | "respectcase" => K::UnsupportedSortCase,
                n if n.starts_with("missing") => K::UnsupportedMissingValueAction,
                _ => K::SortNotSupported,
            };
            return Err(Diagnostic::new(kind, modifier.name.clone()));
        }
        Ok(())
    }
}

fn proximity_modifier(prox: &ProximityCapability, modifier: &Modifier) -> Result<(), Diagnostic> {
    match (modifier.normalized_name("cql").as_str(), &modifier.value) {
        ("unit", Some((Comparator::Eq, unit))) if contains_name(&prox.units, unit) => Ok(()),
        ("unit", Some((_, unit))) => Err(Diagnostic::new(K::UnsupportedProximityUnit, unit.clone())),
        ("distance", Some((comparator, distance))) => {
            if !prox.distance_relations.contains(comparator) {
                return Err(Diagnostic::new(K::UnsupportedProximityRelation, comparator.as_str()));
            }
            match distance.parse::<u32>() {
                Ok(d) if d <= prox.max_distance => Ok(()),
                _ => Err(Diagnostic::new(K::UnsupportedProximityDistance, distance.clone())),
            }
        }
        ("ordered", None) if prox.ordered => Ok(()),
        ("unordered", None) if prox.unordered => Ok(()),
        ("ordered" | "unordered", None) => Err(Diagnostic::new(K::UnsupportedProximityOrdering, modifier.name.clone())),
        _ => Err(Diagnostic::new(K::UnsupportedBooleanModifier, modifier.name.clone())),
    }
}
