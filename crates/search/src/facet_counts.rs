//! Facet counting that costs what the hits cost, not what the catalog holds.
//!
//! tantivy's `FacetCollector` walks every facet term of every segment on every search (to map
//! the terms onto the requested facets), so a search for a rare word paid for every subject and
//! author in the catalog: 80-550 ms at 250,000 records. Our facets are one level deep
//! (`/format/book`), so each term is already its own count: this collector counts term
//! ordinals per segment and reads a segment's terms once, when it is first searched, into a
//! table kept for as long as the segment lives (segments never change).

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

/// Counts every facet value of the matching documents.
pub(crate) struct FacetCounter<'a> {
    pub field: &'a str,
    pub tables: &'a FacetTables,
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

    /// Every value with a count, per facet, in the order of `FacetName::ALL`.
    fn merge_fruits(&self, segments: Vec<SegmentCounts>) -> tantivy::Result<Self::Fruit> {
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
        let mut out: Vec<(FacetName, Vec<(String, u64)>)> =
            FacetName::ALL.into_iter().map(|name| (name, Vec::new())).collect();
        for ((name, value), count) in merged {
            if let Some((_, values)) = out.iter_mut().find(|(n, _)| *n == name) {
                values.push((value.to_string(), count));
            }
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
            let ours = searcher.search(query, &FacetCounter { field: "facets", tables: &tables }).expect("ours");
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
        }
        assert_eq!(tables.lock().len(), searcher.segment_readers().len());
        tables.retain(&[]);
        assert!(tables.lock().is_empty());
    }
}
