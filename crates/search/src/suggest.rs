//! "Did you mean": for a search that found nothing, each plain word of the query that no
//! record's title, author, subject or series holds is replaced by the closest word the index
//! does hold, found by walking the FST term dictionary with a Levenshtein automaton (the same
//! automata tantivy's fuzzy query uses; a swapped pair of letters counts as one edit). The
//! nearest distance wins, then the word the most records use. The corrected query is offered
//! only if it finds something, so a suggestion never leads to another empty page.
//!
//! Only bare words are corrected: field searches (`author:x`), phrases, operators and ranges
//! are kept as typed. Words shorter than four letters are kept too: at one edit they are a
//! different word more often than a typo ("cat" is one edit from "car", "hat" and "cut").

use crate::analysis::analyze;
use crate::index::{SearchIndex, SearchRequest};
use crate::SearchError;
use levenshtein_automata::{Distance, LevenshteinAutomatonBuilder, DFA};
use std::collections::HashMap;
use std::sync::OnceLock;
use tantivy::schema::Field;
use tantivy::Searcher;
use tantivy_fst::Automaton;

/// A Levenshtein DFA as an FST automaton (tantivy's own wrapper cannot be built outside it).
struct Dfa(DFA);

impl Automaton for Dfa {
    type State = u32;

    fn start(&self) -> u32 {
        self.0.initial_state()
    }

    fn is_match(&self, state: &u32) -> bool {
        matches!(self.0.distance(*state), Distance::Exact(_))
    }

    fn can_match(&self, state: &u32) -> bool {
        *state != levenshtein_automata::SINK_STATE
    }

    fn accept(&self, state: &u32, byte: u8) -> u32 {
        self.0.transition(*state, byte)
    }
}

/// Building the distance-2 automaton builder takes a while: once per process.
fn builder(distance: u8) -> &'static LevenshteinAutomatonBuilder {
    static ONE: OnceLock<LevenshteinAutomatonBuilder> = OnceLock::new();
    static TWO: OnceLock<LevenshteinAutomatonBuilder> = OnceLock::new();
    let cell = if distance <= 1 { &ONE } else { &TWO };
    cell.get_or_init(|| LevenshteinAutomatonBuilder::new(distance.clamp(1, 2), true))
}

/// The furthest a word of `chars` characters may be corrected.
fn max_distance(chars: usize) -> u8 {
    match chars {
        0..=3 => 0,
        4..=6 => 1,
        _ => 2,
    }
}

fn is_operator(word: &str) -> bool {
    matches!(word, "AND" | "OR" | "NOT")
}

/// A word of the query that could be a typo: letters only, no syntax around it.
fn bare(word: &str) -> bool {
    word.chars().all(|c| c.is_alphabetic() || c == '\'') && !is_operator(word)
}

fn tantivy_io(e: std::io::Error) -> SearchError {
    SearchError::Tantivy(tantivy::TantivyError::from(e))
}

/// How many records hold `term` in any of `fields` (deleted records not yet merged away count).
fn doc_freq(searcher: &Searcher, fields: &[Field], term: &str) -> Result<u64, SearchError> {
    let mut total = 0;
    for field in fields {
        total += searcher.doc_freq(&tantivy::Term::from_field_text(*field, term))?;
    }
    Ok(total)
}

/// The indexed word closest to `term` within `distance` edits, weighted by how many records use
/// it; ties go to the alphabetically first, so the answer is the same every time.
fn closest(searcher: &Searcher, fields: &[Field], term: &str, distance: u8) -> Result<Option<String>, SearchError> {
    let mut found: HashMap<String, (u8, u64)> = HashMap::new();
    for segment in searcher.segment_readers() {
        for field in fields {
            let inverted = segment.inverted_index(*field)?;
            let dfa = builder(distance).build_dfa(term);
            let mut stream = inverted.terms().search(Dfa(dfa)).into_stream().map_err(tantivy_io)?;
            let check = builder(distance).build_dfa(term);
            while stream.advance() {
                let Ok(word) = std::str::from_utf8(stream.key()) else { continue };
                let Distance::Exact(d) = check.eval(word.as_bytes()) else { continue };
                let entry = found.entry(word.to_string()).or_insert((d, 0));
                entry.1 += u64::from(stream.value().doc_freq);
            }
        }
    }
    Ok(found
        .into_iter()
        .filter(|(word, _)| word != term)
        .min_by(|(wa, (da, fa)), (wb, (db, fb))| da.cmp(db).then(fb.cmp(fa)).then(wa.cmp(wb)))
        .map(|(word, _)| word))
}

impl SearchIndex {
    /// A corrected query for one that found nothing, if correcting its words finds something.
    pub fn did_you_mean(&self, query: &str) -> Result<Option<String>, SearchError> {
        let generation = self.current();
        let searcher = generation.reader.searcher();
        let f = &self.fields;
        let fields = [f.title, f.author, f.subject, f.series];
        let mut words = Vec::new();
        let mut changed = false;
        for word in query.split_whitespace() {
            let terms = analyze(word);
            let correction = match terms.as_slice() {
                [t] if bare(word) && max_distance(t.text.chars().count()) > 0 => {
                    if doc_freq(&searcher, &fields, &t.text)? > 0 {
                        None
                    } else {
                        let limit = max_distance(t.text.chars().count());
                        let mut best = None;
                        for distance in 1..=limit {
                            best = closest(&searcher, &fields, &t.text, distance)?;
                            if best.is_some() {
                                break;
                            }
                        }
                        best
                    }
                }
                _ => None,
            };
            match correction {
                Some(c) => {
                    changed = true;
                    words.push(c);
                }
                None => words.push(word.to_string()),
            }
        }
        if !changed {
            return Ok(None);
        }
        let corrected = words.join(" ");
        let check =
            self.search(&SearchRequest { limit: 1, facet_limit: 0, ..SearchRequest::new(corrected.clone()) })?;
        Ok((check.total > 0).then_some(corrected))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bare_words_long_enough_are_corrected() {
        assert!(bare("hemingwya"));
        assert!(bare("O'Brien"));
        for kept in ["author:hemingway", "\"old man\"", "AND", "NOT", "1990-1999", "(sea"] {
            assert!(!bare(kept), "{kept}");
        }
        assert_eq!((max_distance(3), max_distance(4), max_distance(6), max_distance(7)), (0, 1, 1, 2));
    }

    #[test]
    fn the_automaton_counts_a_swap_as_one_edit() {
        let dfa = builder(1).build_dfa("hemingwya");
        assert_eq!(dfa.eval("hemingway"), Distance::Exact(1));
        assert_eq!(dfa.eval("hemingwaya"), Distance::Exact(1));
        assert!(matches!(dfa.eval("heminway"), Distance::AtLeast(_)));
    }
}
