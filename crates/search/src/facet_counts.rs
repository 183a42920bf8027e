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

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::ops::Range;
use std::sync::{Arc, Mutex};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::index::SegmentId;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use crate::document::FacetName;

/// One segment's facet terms: for each facet, the range of term ordinals under it (the
/// dictionary is sorted, so they are contiguous, and within a facet ordinal order is the
/// values' order), each ordinal's value, and each document's ordinals.
pub(crate) struct SegmentFacets {
    ranges: Vec<(FacetName, Range<u32>)>,
    values: Vec<Box<str>>,
    /// The count slots of document `d` are `ords[starts[d]..starts[d + 1]]`: its ordinals,
    /// without repeats, without the facets' own root terms, and with those of the combined
    /// facets replaced by their combination's slot. Read from the fast-field column once,
    /// because the column answers each value through a bit-packed reader behind a virtual call,
    /// and a broad search reads millions of values: a plain slice counts several times faster,
    /// for about four bytes a value.
    starts: Vec<u32>,
    ords: Vec<u32>,
    /// The combinations of few-valued facets (see [`COMBINED`]) the segment's documents have:
    /// combination `c` is counted in slot `values.len() + c` and stands for the ordinals
    /// `combined[combined_starts[c]..combined_starts[c + 1]]`, which a document with it does
    /// not list.
    combined_starts: Vec<u32>,
    combined: Vec<u32>,
    /// Zeroed count arrays of searches that finished, for the next ones: a fresh array of a
    /// large segment (a million values at a million records) is memory the kernel must zero
    /// page by page, which cost more than a broad search's counting.
    spare: Mutex<Vec<Vec<u32>>>,
}

/// Facets of a few values each, counted together: a document's values of all of them take one
/// count, of their combination, spread onto the values once per search. A broad search's hits
/// each have a format, a language, a decade and a year: four counts a hit became one, where
/// counting is most of a broad search's time. (Subjects and authors are too many to combine;
/// branches and locations come in sets that grow with a consortium.)
const COMBINED: [FacetName; 5] =
    [FacetName::Format, FacetName::Language, FacetName::Decade, FacetName::Year, FacetName::Audience];

/// How many zeroed count arrays a segment keeps: one per search running at once, about.
const SPARE_COUNTS: usize = 8;

impl SegmentFacets {
    fn read(reader: &SegmentReader, field: &str) -> tantivy::Result<SegmentFacets> {
        let facets = reader.facet_reader(field)?;
        let mut values: Vec<Box<str>> = Vec::with_capacity(facets.num_facets());
        let mut ranges: Vec<(FacetName, Range<u32>)> = Vec::new();
        let mut stream = facets.facet_dict().range().into_stream()?;
        while stream.advance() {
            let ord = ord32(stream.term_ord())?;
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
        let mut counted = vec![false; values.len()];
        for (_, range) in &ranges {
            counted[range.start as usize..range.end as usize].fill(true);
        }
        let mut few = vec![false; values.len()];
        for (name, range) in &ranges {
            if COMBINED.contains(name) {
                few[range.start as usize..range.end as usize].fill(true);
            }
        }
        let mut combinations: HashMap<Vec<u32>, u32> = HashMap::new();
        let (mut combined_starts, mut combined) = (vec![0u32], Vec::new());
        let mut starts = Vec::with_capacity(reader.max_doc() as usize + 1);
        let mut ords = Vec::new();
        let mut combination = Vec::new();
        starts.push(0);
        for doc in 0..reader.max_doc() {
            let mut previous = None;
            // The combination's slot goes first, taken back when the document has none.
            let first = ords.len();
            ords.push(0);
            // A document's ordinals come sorted, so repeats are neighbours.
            for ord in facets.facet_ords(doc) {
                let ord = ord32(ord)?;
                if previous != Some(ord) && counted.get(ord as usize) == Some(&true) {
                    if few[ord as usize] {
                        combination.push(ord);
                    } else {
                        ords.push(ord);
                    }
                }
                previous = Some(ord);
            }
            if combination.is_empty() {
                ords.remove(first);
            } else {
                // Looked up by slice: a million documents share a few thousand combinations,
                // and only a new one is stored.
                let c = match combinations.get(combination.as_slice()) {
                    Some(&c) => c,
                    None => {
                        let c = ord32(combinations.len() as u64)?;
                        combined.extend_from_slice(&combination);
                        combined_starts.push(ord32(combined.len() as u64)?);
                        combinations.insert(combination.clone(), c);
                        c
                    }
                };
                combination.clear();
                ords[first] = ord32(values.len() as u64 + u64::from(c))?;
            }
            starts.push(ord32(ords.len() as u64)?);
        }
        ords.shrink_to_fit();
        Ok(SegmentFacets { ranges, values, starts, ords, combined_starts, combined, spare: Mutex::new(Vec::new()) })
    }

    /// The count slots: one per value, then one per combination.
    fn slots(&self) -> usize {
        self.values.len() + self.combined_starts.len() - 1
    }

    /// Adds each combination's count to the values it stands for.
    fn spread_combinations(&self, counts: &mut [u32]) {
        let (values, combinations) = counts.split_at_mut(self.values.len());
        for (c, &n) in combinations.iter().enumerate().filter(|(_, n)| **n > 0) {
            let (from, to) = (self.combined_starts[c] as usize, self.combined_starts[c + 1] as usize);
            for &ord in &self.combined[from..to] {
                values[ord as usize] += n;
            }
        }
    }

    fn range(&self, name: FacetName) -> Range<u32> {
        self.ranges.iter().find(|(n, _)| *n == name).map_or(0..0, |(_, range)| range.clone())
    }

    fn counts(self: &Arc<Self>) -> SegmentCounts {
        let spare = lock(&self.spare).pop();
        SegmentCounts { table: self.clone(), counts: spare.unwrap_or_else(|| vec![0; self.slots()]) }
    }

    fn value(&self, ord: u32) -> &str {
        &self.values[ord as usize]
    }

    /// The ordinal of `value` under `name`, by binary search (ordinal order is value order).
    fn find(&self, name: FacetName, value: &str) -> Option<u32> {
        let range = self.range(name);
        let slice = &self.values[range.start as usize..range.end as usize];
        slice.binary_search_by(|v| (**v).cmp(value)).ok().map(|i| range.start + i as u32)
    }
}

/// A segment holds under 2^31 documents, and so fewer facet values than that.
fn ord32(ord: u64) -> tantivy::Result<u32> {
    u32::try_from(ord).map_err(|_| tantivy::TantivyError::InternalError(format!("facet ordinal {ord} beyond u32")))
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

    /// Reads the tables of segments not yet searched, so that the first search of a new
    /// segment (a rebuild's, a merge's) does not pay for it.
    pub(crate) fn prepare(&self, searcher: &tantivy::Searcher, field: &str) -> tantivy::Result<()> {
        for reader in searcher.segment_readers() {
            self.get(reader, field)?;
        }
        Ok(())
    }

    /// Forgets the segments no longer searched (merged away or deleted).
    pub(crate) fn retain(&self, live: &[SegmentId]) {
        self.lock().retain(|id, _| live.contains(id));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SegmentId, Arc<SegmentFacets>>> {
        lock(&self.by_segment)
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

/// How many counts [`top_ordinals`] passes over at once when none of them can be shown.
const SKIM: usize = 64;

/// The `limit` ordinals of `range` shown first, in that order, compared by count and ordinal
/// alone (within one segment's facet, ordinal order is A-Z): no value is read.
fn top_ordinals(name: FacetName, range: Range<u32>, counts: &[u32], limit: usize) -> Vec<(u32, u32)> {
    if let FacetName::Decade | FacetName::Year = name {
        let counted = range.map(|ord| (ord, counts[ord as usize])).filter(|&(_, count)| count > 0);
        return counted.rev().take(limit).collect();
    }
    if limit == 0 {
        return Vec::new();
    }
    // The best `limit` so far, the weakest on top: most values of a broad search are counted
    // once and fall at the first comparison.
    let mut best: BinaryHeap<Reverse<(u32, Reverse<u32>)>> = BinaryHeap::with_capacity(limit + 1);
    let (start, end) = (range.start as usize, range.end as usize);
    for (at, block) in counts[start..end].chunks(SKIM).enumerate() {
        // Ordinals rise as the scan goes, so a later value that only ties the weakest kept one
        // loses to it (A-Z): a block whose largest count does not pass the weakest is passed
        // over whole, its largest found by a loop the compiler turns into vector instructions.
        if best.len() == limit {
            let weakest = best.peek().map_or(0, |Reverse((count, _))| *count);
            if block.iter().copied().max().unwrap_or(0) <= weakest {
                continue;
            }
        }
        let first = (start + at * SKIM) as u32;
        for (ord, &count) in (first..).zip(block).filter(|(_, count)| **count > 0) {
            let key = (count, Reverse(ord));
            if best.len() < limit {
                best.push(Reverse(key));
            } else if best.peek().is_some_and(|Reverse(weakest)| key > *weakest) {
                best.pop();
                best.push(Reverse(key));
            }
        }
    }
    let mut shown: Vec<(u32, u32)> = best.into_iter().map(|Reverse((count, Reverse(ord)))| (ord, count)).collect();
    shown.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    shown
}

/// A segment's counts, by term ordinal, with the segment's table to read them. Dropped, the
/// counts go back to the table zeroed.
pub(crate) struct SegmentCounts {
    table: Arc<SegmentFacets>,
    counts: Vec<u32>,
}

impl Drop for SegmentCounts {
    fn drop(&mut self) {
        let mut counts = std::mem::take(&mut self.counts);
        counts.fill(0);
        let mut spare = lock(&self.table.spare);
        if spare.len() < SPARE_COUNTS {
            spare.push(counts);
        }
    }
}

/// A poisoned lock only means another search panicked while holding it.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) struct FacetSegmentCounter {
    counts: SegmentCounts,
    /// Hits not counted yet: see [`FacetSegmentCounter::flush`].
    pending: Vec<DocId>,
    spans: Vec<(u32, u32)>,
}

/// How many hits are counted together.
const BATCH: usize = 256;

impl FacetSegmentCounter {
    /// Counts the pending hits: first every hit's span of ordinals, then their values. A hit
    /// of a narrow search lies far from the last in the tables, so each of its reads waits on
    /// memory; counted one at a time between the scorer's work, the waits came one after the
    /// other, where in a loop of their own the processor overlaps them.
    fn flush(&mut self) {
        let table = &*self.counts.table;
        self.spans.clear();
        for &doc in &self.pending {
            let doc = doc as usize;
            if let (Some(&start), Some(&end)) = (table.starts.get(doc), table.starts.get(doc + 1)) {
                self.spans.push((start, end));
            }
        }
        self.pending.clear();
        for &(start, end) in &self.spans {
            for &ord in &table.ords[start as usize..end as usize] {
                self.counts.counts[ord as usize] += 1;
            }
        }
    }

    #[inline]
    fn count(&mut self, doc: DocId) {
        self.pending.push(doc);
        if self.pending.len() == BATCH {
            self.flush();
        }
    }
}

impl SegmentCollector for FacetSegmentCounter {
    type Fruit = SegmentCounts;

    fn collect(&mut self, doc: DocId, _: Score) {
        self.count(doc);
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        for &doc in docs {
            self.count(doc);
        }
    }

    fn harvest(mut self) -> SegmentCounts {
        self.flush();
        let SegmentCounts { table, counts } = &mut self.counts;
        table.spread_combinations(counts);
        self.counts
    }
}

impl Collector for FacetCounter<'_> {
    type Fruit = Vec<(FacetName, Vec<(String, u64)>)>;
    type Child = FacetSegmentCounter;

    fn for_segment(&self, _: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<FacetSegmentCounter> {
        Ok(FacetSegmentCounter {
            counts: self.tables.get(reader, self.field)?.counts(),
            pending: Vec::with_capacity(BATCH),
            spans: Vec::with_capacity(BATCH),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    /// The values shown, per facet, in the order of `FacetName::ALL`.
    ///
    /// The largest segment's counts stay by ordinal; every other segment's counted values are
    /// looked up in its table (by binary search: these segments are the follower's small ones,
    /// with few values counted) and added there, or kept aside by value when it lacks them.
    /// The values shown are then the largest segment's first `limit` plus those kept aside,
    /// ordered by value: a value of the largest segment not among its first `limit` has
    /// `limit` values ahead of it wherever the others fall, so the result is exact.
    fn merge_fruits(&self, mut segments: Vec<SegmentCounts>) -> tantivy::Result<Self::Fruit> {
        let Some(largest) = (0..segments.len()).max_by_key(|&i| segments[i].table.values.len()) else {
            return Ok(FacetName::ALL.into_iter().map(|name| (name, Vec::new())).collect());
        };
        let mut base = segments.swap_remove(largest);
        let mut aside: HashMap<(FacetName, &str), u64> = HashMap::new();
        for segment in &segments {
            for (name, range) in &segment.table.ranges {
                for ord in range.clone() {
                    let count = segment.counts[ord as usize];
                    if count == 0 {
                        continue;
                    }
                    let value = segment.table.value(ord);
                    match base.table.find(*name, value) {
                        // Counts of one index fit in u32: tantivy numbers documents in u32.
                        Some(at) => base.counts[at as usize] = base.counts[at as usize].saturating_add(count),
                        None => *aside.entry((*name, value)).or_default() += u64::from(count),
                    }
                }
            }
        }
        let mut out: Vec<(FacetName, Vec<(String, u64)>)> = Vec::with_capacity(FacetName::ALL.len());
        for name in FacetName::ALL {
            let table = &base.table;
            let top = top_ordinals(name, table.range(name), &base.counts, self.limit);
            let mut shown: Vec<(&str, u64)> =
                top.into_iter().map(|(ord, c)| (table.value(ord), u64::from(c))).collect();
            let before = shown.len();
            shown.extend(aside.iter().filter(|((n, _), _)| *n == name).map(|((_, value), count)| (*value, *count)));
            if shown.len() > before {
                shown.sort_unstable_by(|a, b| shown_first(name, *a, *b));
                shown.truncate(self.limit);
            }
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

    /// A narrow search of a segment with many values, beside a small segment with values of its
    /// own and of the large one's that the search does not count there: the same counts as
    /// tantivy's collector, for several limits, and again after a broad search.
    #[test]
    fn narrow_searches_of_large_segments_count_exactly() {
        let mut schema = Schema::builder();
        let facets = schema.add_facet_field("facets", FacetOptions::default());
        let word = schema.add_text_field("word", STRING);
        let index = Index::create_in_ram(schema.build());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).expect("writer");
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        for (segment, docs) in [(0u32, 4000u32), (1, 30)] {
            for i in 0..docs {
                let rare = if segment == 0 { i % 997 == 0 } else { i % 7 == 3 };
                let mut d = doc!(word => if rare { "rare" } else { "common" });
                let subject = if segment == 1 && i % 2 == 0 { format!("t{i:04}") } else { format!("s{:04}", i % 2000) };
                d.add_facet(facets, FacetName::Subject.facet(&subject));
                d.add_facet(facets, FacetName::Decade.facet(&format!("19{}0", i % 10)));
                d.add_facet(facets, FacetName::Format.facet(if i % 3 == 0 { "book" } else { "ebook" }));
                writer.add_document(d).expect("add");
            }
            writer.commit().expect("commit");
        }
        let searcher = index.reader().expect("reader").searcher();
        let tables = FacetTables::default();
        let rare = TermQuery::new(Term::from_field_text(word, "rare"), IndexRecordOption::Basic);
        for (query, limit) in
            [(&rare as &dyn tantivy::query::Query, 1000), (&rare, 2), (&AllQuery, 3), (&rare, 1), (&rare, 1000)]
        {
            let ours = searcher.search(query, &FacetCounter { field: "facets", tables: &tables, limit }).expect("ours");
            let mut theirs = FacetCollector::for_field("facets");
            for name in FacetName::ALL {
                theirs.add_facet(name.facet(""));
            }
            let theirs = searcher.search(query, &theirs).expect("theirs");
            for (name, values) in ours {
                let mut expected: Vec<(String, u64)> = theirs
                    .get(name.facet(""))
                    .filter_map(|(f, c): (&Facet, u64)| f.to_path().get(1).map(|v| (v.to_string(), c)))
                    .collect();
                expected.sort_by(|a, b| shown_first(name, (&a.0, a.1), (&b.0, b.1)));
                expected.truncate(limit);
                assert_eq!(values, expected, "{name:?}, limit {limit}");
            }
        }
    }

    /// A document of the generated indexes: whether it says "odd", and its facet values.
    type Doc = (bool, Vec<(usize, usize)>);

    /// Facets with their value orders: counted, and newest first.
    const NAMES: [FacetName; 3] = [FacetName::Subject, FacetName::Decade, FacetName::Language];
    const VALUES: [&str; 6] = ["1950", "1960", "Maine", "Whales", "eng", "fre"];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

        /// Over segments that hold different values (as the follower's small segments hold
        /// values the large one lacks), with documents deleted, for any limit: the values shown
        /// are the first `limit` of the exact counts in the order shown.
        #[test]
        fn shows_the_first_of_the_exact_counts(
            segments in proptest::collection::vec(
                proptest::collection::vec(
                    (proptest::bool::ANY, proptest::collection::vec((0..NAMES.len(), 0..VALUES.len()), 0..4)),
                    1..25,
                ),
                1..4,
            ),
            deleted in proptest::collection::vec(0..100usize, 0..6),
            limit in 0..5usize,
        ) {
            let mut schema = Schema::builder();
            let facets = schema.add_facet_field("facets", FacetOptions::default());
            let word = schema.add_text_field("word", STRING);
            let serial = schema.add_u64_field("serial", tantivy::schema::INDEXED);
            let index = Index::create_in_ram(schema.build());
            let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).expect("writer");
            writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
            let all: Vec<&Doc> = segments.iter().flatten().collect();
            let mut n = 0u64;
            for segment in &segments {
                for (odd, values) in segment {
                    let mut d = doc!(word => if *odd { "odd" } else { "even" }, serial => n);
                    for &(name, value) in values {
                        d.add_facet(facets, NAMES[name].facet(VALUES[value]));
                    }
                    writer.add_document(d).expect("add");
                    n += 1;
                }
                writer.commit().expect("commit");
            }
            let deleted: Vec<usize> = deleted.into_iter().filter(|&d| d < all.len()).collect();
            for &d in &deleted {
                writer.delete_term(Term::from_field_u64(serial, d as u64));
            }
            writer.commit().expect("commit deletes");
            let searcher = index.reader().expect("reader").searcher();
            let tables = FacetTables::default();
            let odd = TermQuery::new(Term::from_field_text(word, "odd"), IndexRecordOption::Basic);
            for (query, only_odd) in [(&AllQuery as &dyn tantivy::query::Query, false), (&odd, true)] {
                let ours = searcher.search(query, &FacetCounter { field: "facets", tables: &tables, limit }).expect("ours");
                for (name, shown) in ours {
                    let Some(k) = NAMES.iter().position(|n| *n == name) else {
                        proptest::prop_assert!(shown.is_empty());
                        continue;
                    };
                    let mut counts: std::collections::BTreeMap<&str, u64> = Default::default();
                    for (i, (is_odd, values)) in all.iter().enumerate() {
                        if deleted.contains(&i) || (only_odd && !is_odd) {
                            continue;
                        }
                        let mut mine: Vec<&str> = values.iter().filter(|(n, _)| *n == k).map(|(_, v)| VALUES[*v]).collect();
                        mine.sort_unstable();
                        mine.dedup();
                        for v in mine {
                            *counts.entry(v).or_default() += 1;
                        }
                    }
                    let mut expected: Vec<(&str, u64)> = counts.into_iter().collect();
                    expected.sort_by(|a, b| shown_first(name, *a, *b));
                    expected.truncate(limit);
                    let shown: Vec<(&str, u64)> = shown.iter().map(|(v, c)| (v.as_str(), *c)).collect();
                    proptest::prop_assert_eq!(shown, expected, "{:?}", name);
                }
            }
        }
    }
}
