//! Searching by explicit criteria, for protocol front ends (SRU's CQL) whose queries name the
//! field, the relation and the masking instead of typing the catalog's query language, and
//! browsing an index's terms in order (SRU scan).
//!
//! The same index, analyzers and translation serve both roads: a [`Criterion::Words`] without
//! masking is searched exactly as a word of [`crate::query`] is, so a CQL `dc.title = whale`
//! and a patron's `title:whale` find the same records. What only CQL needs lives here:
//! masked words (`whale*`, `wom?n`), whole-title matches (`==`), exact record ids, year
//! comparisons, and term enumeration.
//!
//! Results come in relevance order with the record id breaking ties, so the same query over
//! the same index pages stably.

use std::collections::BTreeSet;
use std::ops::Bound;

use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, DisjunctionMaxQuery, EmptyQuery, Occur, Query as TantivyQuery, RangeQuery,
    RegexQuery, TermQuery,
};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{TantivyDocument, Term};

use crate::analysis;
use crate::index::Translator;
use crate::query::SearchField;
use crate::{SearchError, SearchIndex};

/// Where a criterion looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// The keyword fields (title, author, subject, series, publisher, notes) and, for a value
    /// that is one, the ISBN and ISSN.
    Keywords,
    /// One field of the index.
    Field(SearchField),
}

/// One part of a masked word.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Mask {
    /// Characters to match (folded like the index before comparing).
    Literal(String),
    /// Zero or more characters.
    AnyChars,
    /// Exactly one character.
    OneChar,
}

/// What to find. Build a tree of these; [`SearchIndex::find`] runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Criterion {
    /// Every record.
    All,
    /// The words of `text` in this order and next to each other (one word: that word), as the
    /// catalog's query language searches a word or phrase.
    Words {
        target: Target,
        text: String,
    },
    /// One word with masking (`whale*`, `wom?n`): every index term of the target's text
    /// fields that the pattern matches.
    MaskedWord {
        target: Target,
        pattern: Vec<Mask>,
    },
    /// The whole title (245 as a whole, or its title proper, with or without the leading
    /// article) is `pattern`; with masking, `moby*` is every title that starts with "moby".
    WholeTitle {
        pattern: Vec<Mask>,
    },
    /// Publication years in the range.
    Years {
        from: Bound<i32>,
        to: Bound<i32>,
    },
    /// The record with this id.
    RecordId(i64),
    And(Vec<Criterion>),
    Or(Vec<Criterion>),
    /// `include` without `exclude`.
    Not {
        include: Box<Criterion>,
        exclude: Box<Criterion>,
    },
}

/// One page of what [`SearchIndex::find`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// How many records match in all.
    pub total: usize,
    /// The records of the page asked for, in order.
    pub record_ids: Vec<i64>,
}

/// One term of an index with the number of records that hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanTerm {
    /// The term as the index holds it (folded, lower case).
    pub term: String,
    pub records: u64,
}

/// The fields [`SearchIndex::scan`] can list: the text fields by word, identifiers by key.
pub const SCANNABLE: [SearchField; 7] = [
    SearchField::Title,
    SearchField::Author,
    SearchField::Subject,
    SearchField::Publisher,
    SearchField::Isbn,
    SearchField::Issn,
    SearchField::Lccn,
];

/// The text fields a masked keyword word is looked for in, with the weights of plain searches.
const KEYWORD_TEXT_FIELDS: [(SearchField, f32); 6] = [
    (SearchField::Title, 4.0),
    (SearchField::Author, 3.0),
    (SearchField::Subject, 2.0),
    (SearchField::Series, 1.5),
    (SearchField::Publisher, 1.0),
    (SearchField::Notes, 0.5),
];

/// Masked patterns may not start with masking that enumerates the whole dictionary cheaply
/// (`*` alone), so a pattern needs this many literal characters.
pub const MIN_MASKED_LITERAL: usize = 1;

impl SearchIndex {
    /// Runs `criterion` and returns its total and the record ids of `limit` results after the
    /// first `offset`, most relevant first, ties by record id. `limit` 0 only counts.
    pub fn find(&self, criterion: &Criterion, offset: usize, limit: usize) -> Result<Found, SearchError> {
        let generation = self.current();
        let searcher = generation.reader.searcher();
        let query = self.criterion_query(criterion)?;
        if limit == 0 {
            let total = searcher.search(&query, &Count)?;
            return Ok(Found { total, record_ids: Vec::new() });
        }
        let collector =
            TopDocs::with_limit(limit).and_offset(offset).tweak_score(|segment: &tantivy::SegmentReader| {
                let ids = segment.fast_fields().u64("id").ok();
                move |doc: tantivy::DocId, score: tantivy::Score| {
                    let id = ids.as_ref().and_then(|c| c.first(doc)).unwrap_or(u64::MAX);
                    (score, std::cmp::Reverse(id))
                }
            });
        let (total, top) = searcher.search(&query, &(Count, collector))?;
        let mut record_ids = Vec::with_capacity(top.len());
        for (_, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            if let Some(id) = doc.get_first(self.fields.id).and_then(|v| v.as_u64()) {
                record_ids.push(id as i64);
            }
        }
        Ok(Found { total, record_ids })
    }

    /// The terms of `field` around `from` in index order: up to `before` terms before the first
    /// term at or after `from`, then up to `count - before` from there on. Each term comes with
    /// the number of live records holding it; terms only deleted records held are skipped.
    /// `from` is folded as the index folds (`Brontë` starts at `bronte`).
    pub fn scan(
        &self,
        field: SearchField,
        from: &str,
        before: usize,
        count: usize,
    ) -> Result<Vec<ScanTerm>, SearchError> {
        let translator = Translator { fields: &self.fields };
        let tantivy_field = translator.field(field);
        let start = scan_key(field, from);
        let generation = self.current();
        let searcher = generation.reader.searcher();
        let after_wanted = count.saturating_sub(before);
        let mut below: BTreeSet<Vec<u8>> = BTreeSet::new();
        let mut above: BTreeSet<Vec<u8>> = BTreeSet::new();
        // Ask each segment for a few more than wanted: some terms may belong only to deleted
        // records, and segments overlap.
        let slack = 16;
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(tantivy_field)?;
            let dictionary = inverted.terms();
            if before > 0 {
                let mut stream =
                    dictionary.range().lt(start.as_bytes()).backward().into_stream().map_err(term_stream_error)?;
                let mut taken = 0;
                while taken < before + slack && stream.advance() {
                    below.insert(stream.key().to_vec());
                    taken += 1;
                }
            }
            if after_wanted > 0 {
                let mut stream = dictionary.range().ge(start.as_bytes()).into_stream().map_err(term_stream_error)?;
                let mut taken = 0;
                while taken < after_wanted + slack && stream.advance() {
                    above.insert(stream.key().to_vec());
                    taken += 1;
                }
            }
        }
        let live = |key: &[u8]| -> Result<Option<ScanTerm>, SearchError> {
            let text = String::from_utf8_lossy(key).into_owned();
            let query = TermQuery::new(Term::from_field_text(tantivy_field, &text), IndexRecordOption::Basic);
            let records = searcher.search(&query, &Count)? as u64;
            Ok((records > 0).then_some(ScanTerm { term: text, records }))
        };
        let mut earlier = Vec::new();
        for key in below.iter().rev() {
            if earlier.len() == before {
                break;
            }
            if let Some(term) = live(key)? {
                earlier.push(term);
            }
        }
        earlier.reverse();
        let mut terms = earlier;
        for key in &above {
            if terms.len() == count {
                break;
            }
            if let Some(term) = live(key)? {
                terms.push(term);
            }
        }
        Ok(terms)
    }

    fn criterion_query(&self, criterion: &Criterion) -> Result<Box<dyn TantivyQuery>, SearchError> {
        let translator = Translator { fields: &self.fields };
        Ok(match criterion {
            Criterion::All => Box::new(AllQuery),
            Criterion::Words { target, text } => {
                let query = match target {
                    Target::Keywords => translator.keyword(text),
                    Target::Field(field) => translator.in_field(*field, text),
                };
                // Text with nothing searchable in it (punctuation only) matches nothing.
                query.unwrap_or_else(|| Box::new(EmptyQuery))
            }
            Criterion::MaskedWord { target, pattern } => {
                let regex = word_regex(pattern);
                let fields: Vec<(SearchField, f32)> = match target {
                    Target::Keywords => KEYWORD_TEXT_FIELDS.to_vec(),
                    Target::Field(field) => vec![(*field, 1.0)],
                };
                let mut disjuncts: Vec<Box<dyn TantivyQuery>> = Vec::new();
                for (field, weight) in fields {
                    let query = RegexQuery::from_pattern(&regex, translator.field(field))?;
                    disjuncts.push(Box::new(BoostQuery::new(Box::new(query), weight)));
                }
                match disjuncts.len() {
                    1 => disjuncts.remove(0),
                    _ => Box::new(DisjunctionMaxQuery::with_tie_breaker(disjuncts, 0.2)),
                }
            }
            Criterion::WholeTitle { pattern } => {
                let field = self.fields.title_exact;
                if pattern.iter().all(|m| matches!(m, Mask::Literal(_))) {
                    let text: String =
                        pattern.iter().map(|m| if let Mask::Literal(s) = m { s.as_str() } else { "" }).collect();
                    Box::new(TermQuery::new(
                        Term::from_field_text(field, &analysis::normalize(&text)),
                        IndexRecordOption::Basic,
                    ))
                } else {
                    Box::new(RegexQuery::from_pattern(&title_regex(pattern), field)?)
                }
            }
            Criterion::Years { from, to } => {
                let year = |b: &Bound<i32>| match b {
                    Bound::Included(y) => Bound::Included(Term::from_field_i64(self.fields.year, i64::from(*y))),
                    Bound::Excluded(y) => Bound::Excluded(Term::from_field_i64(self.fields.year, i64::from(*y))),
                    Bound::Unbounded => Bound::Unbounded,
                };
                Box::new(RangeQuery::new(year(from), year(to)))
            }
            Criterion::RecordId(id) => match u64::try_from(*id) {
                Ok(id) => Box::new(TermQuery::new(Term::from_field_u64(self.fields.id, id), IndexRecordOption::Basic)),
                Err(_) => Box::new(EmptyQuery),
            },
            Criterion::And(parts) => {
                let clauses = parts.iter().map(|p| Ok((Occur::Must, self.criterion_query(p)?)));
                Box::new(BooleanQuery::new(clauses.collect::<Result<Vec<_>, SearchError>>()?))
            }
            Criterion::Or(parts) => {
                let alternatives = parts.iter().map(|p| self.criterion_query(p));
                Box::new(BooleanQuery::union(alternatives.collect::<Result<Vec<_>, SearchError>>()?))
            }
            Criterion::Not { include, exclude } => Box::new(BooleanQuery::new(vec![
                (Occur::Must, self.criterion_query(include)?),
                (Occur::MustNot, self.criterion_query(exclude)?),
            ])),
        })
    }
}

fn term_stream_error(e: std::io::Error) -> SearchError {
    SearchError::Tantivy(tantivy::TantivyError::from(e))
}

/// The form a scan starts from, as [`SearchIndex::scan`] compares it with the index's terms:
/// folded words for text fields, the key for identifiers.
pub fn scan_key(field: SearchField, from: &str) -> String {
    match field {
        SearchField::Isbn => analysis::isbn_key(from).unwrap_or_else(|| analysis::identifier_key(from)),
        SearchField::Issn | SearchField::Lccn | SearchField::CallNumber => analysis::identifier_key(from),
        _ => analysis::sort_form(from),
    }
}

/// A regular expression (tantivy-fst's dialect) matching index terms of one word: literal
/// pieces are folded as the index folds them, without stemming (a prefix is not a word).
pub(crate) fn word_regex(pattern: &[Mask]) -> String {
    let mut regex = String::new();
    for mask in pattern {
        match mask {
            Mask::Literal(text) => push_escaped(&mut regex, &analysis::sort_form(text).replace(' ', "")),
            Mask::AnyChars => regex.push_str(".*"),
            Mask::OneChar => regex.push('.'),
        }
    }
    regex
}

/// A regular expression matching whole normalised titles: literal pieces keep the spaces at
/// their edges, so `moby *` is a word boundary and `moby*` is not.
pub(crate) fn title_regex(pattern: &[Mask]) -> String {
    let mut regex = String::new();
    for mask in pattern {
        match mask {
            Mask::Literal(text) => {
                let folded = analysis::sort_form(text);
                if folded.is_empty() {
                    if text.chars().any(char::is_whitespace) {
                        regex.push(' ');
                    }
                    continue;
                }
                if text.starts_with(char::is_whitespace) && !regex.is_empty() {
                    regex.push(' ');
                }
                push_escaped(&mut regex, &folded);
                if text.ends_with(char::is_whitespace) {
                    regex.push(' ');
                }
            }
            Mask::AnyChars => regex.push_str(".*"),
            Mask::OneChar => regex.push('.'),
        }
    }
    regex
}

/// Folded text is letters, digits and spaces; anything else is escaped all the same, so no
/// input can change the expression's meaning.
fn push_escaped(regex: &mut String, text: &str) {
    for c in text.chars() {
        if c.is_ascii_punctuation() {
            regex.push('\\');
        }
        regex.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lit(s: &str) -> Mask {
        Mask::Literal(s.to_string())
    }

    #[test]
    fn masked_words_fold_like_the_index() {
        assert_eq!(word_regex(&[lit("Whale"), Mask::AnyChars]), "whale.*");
        assert_eq!(word_regex(&[lit("wom"), Mask::OneChar, lit("n")]), "wom.n");
        assert_eq!(word_regex(&[lit("Brontë"), Mask::AnyChars]), "bronte.*");
        // No stemming of a prefix: `books*` must not become `book.*`.
        assert_eq!(word_regex(&[lit("books"), Mask::AnyChars]), "books.*");
    }

    #[test]
    fn title_patterns_keep_word_boundaries() {
        assert_eq!(title_regex(&[lit("Moby "), Mask::AnyChars]), "moby .*");
        assert_eq!(title_regex(&[lit("Moby"), Mask::AnyChars]), "moby.*");
        assert_eq!(title_regex(&[Mask::AnyChars, lit(" whale")]), ".* whale");
        assert_eq!(title_regex(&[lit("The Whale: a "), Mask::AnyChars]), "the whale a .*");
    }

    proptest! {
        #[test]
        fn every_pattern_is_a_valid_expression(pieces in proptest::collection::vec(
            prop_oneof!["\\PC{0,8}".prop_map(Mask::Literal), Just(Mask::AnyChars), Just(Mask::OneChar)], 0..6)) {
            let field = crate::schema::build().1.title;
            prop_assert!(RegexQuery::from_pattern(&word_regex(&pieces), field).is_ok(), "{}", word_regex(&pieces));
            prop_assert!(RegexQuery::from_pattern(&title_regex(&pieces), field).is_ok(), "{}", title_regex(&pieces));
        }
    }
}
