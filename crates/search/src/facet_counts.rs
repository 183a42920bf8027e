//! Facet counting that costs what the hits cost, not what the catalog holds.
//!
//! tantivy's `FacetCollector` walks every facet term of every segment on every search (to map
//! the terms onto the requested facets), so a search for a rare word paid for every subject and
//! author in the catalog: 80-550 ms at 250,000 records. Our facets are one level deep
//! (`/format/book`), so each term is already its own count: this collector counts term
//! ordinals per segment and reads a segment's terms once, when it is first searched, into a
//! table kept for as long as the segment lives (segments never change). Only the values
//! shown are turned into text: a broad search touches hundreds of thousands of authors and
//! subjects, and the page lists ten of each.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::index::SegmentId;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use crate::document::FacetName;

/// One segment's facet terms: for each facet, the range of term ordinals under it (the
/// dictionary is sorted, so they are contiguous) and each ordinal's value.
pub(crate) struct SegmentFacets {
    ranges: Vec<(FacetName, Range<u64>)>,
    values: Vec<Box<str>>,
}

impl SegmentFacets {
    fn read(reader: &SegmentReader, field: &str) -> tantivy::Result<SegmentFacets> {
        let facets = reader.facet_reader(field)?;
        let mut values: Vec<Box<str>> = Vec::with_capacity(facets.num_facets());
        let mut ranges: Vec<(FacetName, Range<u64>)> = Vec::new();
        let mut stream = facets.facet_dict().range().into_stream()?;
        while stream.advance() {
            let ord = stream.term_ord();
            let key = stream.key();
            let (root, value) = match key.iter().position(|&b| b == 0) {
                Some(at) => (&key[..at], &key[at + 1..]),
                None => (key, &[][..]),
            };
            values.push(String::from_utf8_lossy(value).into());
            let Some(name) = std::str::from_utf8(root).ok().and_then(FacetName::parse) else { continue };
            if value.is_empty() {
                continue;
            }
            match ranges.last_mut() {
                Some((last, range)) if *last == name => range.end = ord + 1,
                _ => ranges.push((name, ord..ord + 1)),
            }
        }
        Ok(SegmentFacets { ranges, values })
    }
}

/// The tables of the segments searched so far, dropped with their segments.
#[derive(Default)]
pub(crate) struct FacetTables {
    by_segment: Mutex<HashMap<SegmentId, Arc<SegmentFacets>>>,
}

impl FacetTables {
    fn get(&self, reader: &SegmentReader, field: &str) -> tantivy::Result<Arc<SegmentFacets>> {
        let id = reader.segment_id();
        if let Some(found) = self.lock().get(&id) {
            return Ok(found.clone());
        }
        // Read outside the lock: another search may read the same segment meanwhile, which
        // only costs the time.
        let table = Arc::new(SegmentFacets::read(reader, field)?);
        self.lock().insert(id, table.clone());
        Ok(table)
    }

    /// Forgets the segments no longer searched (merged away or deleted).
    pub(crate) fn retain(&self, live: &[SegmentId]) {
        self.lock().retain(|id, _| live.contains(id));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SegmentId, Arc<SegmentFacets>>> {
        self.by_segment.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Counts every facet value of the matching documents and keeps the `limit` shown per facet:
/// the most frequent (decades and years: the newest).
pub(crate) struct FacetCounter<'a> {
    pub field: &'a str,
    pub tables: &'a FacetTables,
    pub limit: usize,
}

/// Decades and years read newest first; everything else most frequent first, then A-Z.
fn shown_first(name: FacetName, a: (&str, u64), b: (&str, u64)) -> Ordering {
    match name {
        FacetName::Decade | FacetName::Year => b.0.cmp(a.0),
        _ => b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)),
    }
}

/// The first `limit` of `values` in `order`, without sorting the rest.
fn first<T>(mut values: Vec<T>, limit: usize, order: impl Fn(&T, &T) -> Ordering) -> Vec<T> {
    if limit == 0 {
        return Vec::new();
    }
    if values.len() > limit {
        values.select_nth_unstable_by(limit - 1, &order);
        values.truncate(limit);
    }
    values.sort_unstable_by(order);
    values
}

/// A segment's counts, by term ordinal, with the segment's table to read them.
pub(crate) struct SegmentCounts {
    table: Arc<SegmentFacets>,
    counts: Vec<u32>,
}

pub(crate) struct FacetSegmentCounter {
    reader: tantivy::fastfield::FacetReader,
    counts: SegmentCounts,
}

impl SegmentCollector for FacetSegmentCounter {
    type Fruit = SegmentCounts;

    /// A document counts once per value, however often the value is on it (a document's
    /// ordinals come sorted, so repeats are neighbours).
    fn collect(&mut self, doc: DocId, _: Score) {
        let mut previous = u64::MAX;
        for ord in self.reader.facet_ords(doc) {
            if ord != previous {
                if let Some(c) = self.counts.counts.get_mut(ord as usize) {
                    *c += 1;
                }
            }
            previous = ord;
        }
    }

    fn harvest(self) -> SegmentCounts {
        self.counts
    }
}

impl Collector for FacetCounter<'_> {
    type Fruit = Vec<(FacetName, Vec<(String, u64)>)>;
    type Child = FacetSegmentCounter;

    fn for_segment(&self, _: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<FacetSegmentCounter> {
        let table = self.tables.get(reader, self.field)?;
        let counts = vec![0u32; table.values.len()];
        Ok(FacetSegmentCounter { reader: reader.facet_reader(self.field)?, counts: SegmentCounts { table, counts } })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    /// The values shown, per facet, in the order of `FacetName::ALL`.
    fn merge_fruits(&self, segments: Vec<SegmentCounts>) -> tantivy::Result<Self::Fruit> {
        let mut out: Vec<(FacetName, Vec<(String, u64)>)> = Vec::with_capacity(FacetName::ALL.len());
        if let [segment] = segments.as_slice() {
            // One segment (an optimised index): its ordinals are the values, so nothing is
            // hashed and only the values shown are read.
            let table = &segment.table;
            for name in FacetName::ALL {
                let counted: Vec<(u32, u32)> = table
                    .ranges
                    .iter()
                    .filter(|(n, _)| *n == name)
                    .flat_map(|(_, range)| range.clone())
                    .filter_map(|ord| {
                        let count = segment.counts[ord as usize];
                        (count > 0).then_some((ord as u32, count))
                    })
                    .collect();
                let value = |ord: u32| &*table.values[ord as usize];
                let shown = first(counted, self.limit, |a, b| {
                    shown_first(name, (value(a.0), u64::from(a.1)), (value(b.0), u64::from(b.1)))
                });
                out.push((name, shown.into_iter().map(|(ord, c)| (value(ord).to_string(), u64::from(c))).collect()));
            }
            return Ok(out);
        }
        let mut merged: HashMap<(FacetName, &str), u64> = HashMap::new();
        for segment in &segments {
            for (name, range) in &segment.table.ranges {
                for ord in range.clone() {
                    let count = segment.counts[ord as usize];
                    if count > 0 {
                        *merged.entry((*name, &segment.table.values[ord as usize])).or_default() += u64::from(count);
                    }
                }
            }
        }
        let mut by_facet: Vec<Vec<(&str, u64)>> = vec![Vec::new(); FacetName::ALL.len()];
        for ((name, value), count) in merged {
            if let Some(i) = FacetName::ALL.iter().position(|n| *n == name) {
                by_facet[i].push((value, count));
            }
        }
        for (name, values) in FacetName::ALL.into_iter().zip(by_facet) {
            let shown = first(values, self.limit, |a, b| shown_first(name, *a, *b));
            out.push((name, shown.into_iter().map(|(v, c)| (v.to_string(), c)).collect()));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::collector::FacetCollector;
    use tantivy::query::{AllQuery, TermQuery};
    use tantivy::schema::{Facet, FacetOptions, IndexRecordOption, Schema, STRING};
    use tantivy::{doc, Index, IndexWriter, Term};

    /// The same counts as tantivy's own collector, over several segments, for every document
    /// and for some; a segment merged away leaves the tables.
    #[test]
    fn counts_as_tantivys_facet_collector_does() {
        let mut schema = Schema::builder();
        let facets = schema.add_facet_field("facets", FacetOptions::default());
        let word = schema.add_text_field("word", STRING);
        let index = Index::create_in_ram(schema.build());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).expect("writer");
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        let subjects = ["Whales", "Ships", "Sea stories", "Nantucket", "Maine"];
        for segment in 0..4u32 {
            for i in 0..50u32 {
                let n = segment * 50 + i;
                let mut d = doc!(word => if n % 3 == 0 { "odd" } else { "even" });
                d.add_facet(facets, FacetName::Format.facet(if n % 4 == 0 { "book" } else { "ebook" }));
                d.add_facet(facets, FacetName::Subject.facet(subjects[(n % 5) as usize]));
                d.add_facet(facets, FacetName::Subject.facet(subjects[((n + segment) % 5) as usize]));
                d.add_facet(facets, FacetName::Decade.facet(&format!("{}", 1900 + (n % 7) * 10)));
                writer.add_document(d).expect("add");
            }
            writer.commit().expect("commit");
        }
        let reader = index.reader().expect("reader");
        let searcher = reader.searcher();
        assert!(searcher.segment_readers().len() > 1);
        let tables = FacetTables::default();
        let queries: Vec<Box<dyn tantivy::query::Query>> = vec![
            Box::new(AllQuery),
            Box::new(TermQuery::new(Term::from_field_text(word, "odd"), IndexRecordOption::Basic)),
        ];
        for query in &queries {
            let ours =
                searcher.search(query, &FacetCounter { field: "facets", tables: &tables, limit: 1000 }).expect("ours");
            let mut theirs = FacetCollector::for_field("facets");
            for name in FacetName::ALL {
                theirs.add_facet(name.facet(""));
            }
            let theirs = searcher.search(query, &theirs).expect("theirs");
            for (name, mut values) in ours {
                let mut expected: Vec<(String, u64)> = theirs
                    .get(name.facet(""))
                    .filter_map(|(f, c): (&Facet, u64)| f.to_path().get(1).map(|v| (v.to_string(), c)))
                    .collect();
                values.sort();
                expected.sort();
                assert_eq!(values, expected, "{name:?}");
            }
            // Only the first two are kept: most frequent first (ties A-Z), decades newest first.
            let all = searcher.search(query, &FacetCounter { field: "facets", tables: &tables, limit: 1000 });
            let two = searcher.search(query, &FacetCounter { field: "facets", tables: &tables, limit: 2 });
            for ((name, mut all), (same, two)) in all.expect("all").into_iter().zip(two.expect("two")) {
                assert_eq!(name, same);
                all.sort_by(|a, b| shown_first(name, (&a.0, a.1), (&b.0, b.1)));
                all.truncate(2);
                assert_eq!(two, all, "{name:?}");
            }
        }
        assert_eq!(tables.lock().len(), searcher.segment_readers().len());
        tables.retain(&[]);
        assert!(tables.lock().is_empty());

        // Merged into one segment, the counts are read straight from the ordinals.
        let ids = index.searchable_segment_ids().expect("segments");
        writer.merge(&ids).wait().expect("merge");
        reader.reload().expect("reload");
        let merged = reader.searcher();
        assert_eq!(merged.segment_readers().len(), 1);
        for limit in [0, 2, 1000] {
            let before = searcher.search(&AllQuery, &FacetCounter { field: "facets", tables: &tables, limit });
            let after = merged.search(&AllQuery, &FacetCounter { field: "facets", tables: &tables, limit });
            assert_eq!(after.expect("one segment"), before.expect("four segments"), "limit {limit}");
        }
    }
}
