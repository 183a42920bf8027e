//! The index on disk and searching it.
//!
//! # Layout
//!
//! ```text
//! <dir>/CURRENT        the name of the generation in service ("gen-000002"), replaced atomically
//! <dir>/gen-000002/    a tantivy index
//! ```
//!
//! A rebuild writes a whole new generation beside the one in service and then points `CURRENT`
//! at it (write a temporary file, rename it over), so searches never see a half-built index and
//! a crash mid-rebuild leaves the old one serving. Each generation's commit payload says which
//! schema wrote it and the last change of the database's change feed it holds (the
//! checkpoint), so a restart resumes exactly where the last commit left off.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use catalog::Format;
use serde::{Deserialize, Serialize};
use tantivy::collector::sort_key::{
    Comparator, NaturalComparator, SegmentSortKeyComputer, SortByBytes, SortByStaticFastValue, SortByString,
    SortKeyComputer,
};
use tantivy::collector::{Count, TopDocs, TopNComputer};
use tantivy::columnar::Column;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, Occur, PhraseQuery,
    Query as TantivyQuery, RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term};

use crate::analysis::{self, CatalogTokenizer, CATALOG_ANALYZER, PAIRS_ANALYZER};
use crate::document::{format_code, FacetName};
use crate::query::{self, Query, SearchField};
use crate::schema::{self, Fields, SCHEMA_VERSION};
use crate::SearchError;

/// How the library wants its index to behave.
#[derive(Debug, Clone)]
pub struct IndexSettings {
    /// When two records are about equally relevant, the format earlier in this list comes first
    /// (regular print before large print and audiobooks). Formats not listed come after, in
    /// [`Format::ALL`] order.
    pub format_preference: Vec<Format>,
    /// Memory the index writer buffers before it writes a segment.
    pub writer_memory_bytes: usize,
}

impl Default for IndexSettings {
    fn default() -> Self {
        IndexSettings {
            format_preference: vec![
                Format::Book,
                Format::Ebook,
                Format::Serial,
                Format::Ejournal,
                Format::LargePrint,
                Format::AudiobookCd,
                Format::Audiobook,
                Format::Braille,
            ],
            writer_memory_bytes: 64 * 1024 * 1024,
        }
    }
}

/// The orders results can come in. Ties are always broken by record id, so paging is stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    #[default]
    Relevance,
    Title,
    Author,
    /// Newest first.
    DateNewest,
    DateOldest,
    /// Shelf order of the LC (else Dewey, else the first item's) call number.
    CallNumber,
}

impl Sort {
    pub fn parse(s: &str) -> Option<Sort> {
        Some(match s {
            "relevance" => Sort::Relevance,
            "title" => Sort::Title,
            "author" => Sort::Author,
            "date" | "date_newest" | "newest" => Sort::DateNewest,
            "date_oldest" | "oldest" => Sort::DateOldest,
            "call_number" | "callnumber" => Sort::CallNumber,
            _ => return None,
        })
    }
}

/// Narrow the results to records with this facet value (an empty value: any value, e.g.
/// "available anywhere"). Filters on the same facet are alternatives; different facets must
/// all hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetFilter {
    pub facet: FacetName,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchRequest {
    /// In the query language of [`crate::query`]; empty finds everything.
    pub query: String,
    pub filters: Vec<FacetFilter>,
    pub sort: Sort,
    pub offset: usize,
    pub limit: usize,
    /// How many values each facet lists at most.
    pub facet_limit: usize,
}

impl Default for SearchRequest {
    fn default() -> Self {
        SearchRequest {
            query: String::new(),
            filters: Vec::new(),
            sort: Sort::Relevance,
            offset: 0,
            limit: 20,
            facet_limit: 20,
        }
    }
}

impl SearchRequest {
    pub fn new(query: impl Into<String>) -> Self {
        SearchRequest { query: query.into(), ..Default::default() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub record_id: i64,
    /// The relevance score (0 when sorted by something else).
    pub score: f32,
    pub title: String,
    pub author: Option<String>,
    pub year: Option<i32>,
    pub format: Format,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FacetValue {
    pub value: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FacetCounts {
    pub facet: FacetName,
    /// Most frequent first (decades and years: newest first).
    pub values: Vec<FacetValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResults {
    pub total: usize,
    pub hits: Vec<Hit>,
    pub facets: Vec<FacetCounts>,
    /// Said to the patron when the query could not be read as written.
    pub message: Option<String>,
    /// The query as understood, for display and debugging.
    pub understood: String,
}

/// What a commit records besides the documents.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Payload {
    schema_version: u32,
    checkpoint: i64,
}

/// One generation: a tantivy index directory, its reader, and (while something writes) its
/// writer.
pub(crate) struct Generation {
    pub(crate) name: String,
    pub(crate) index: Index,
    pub(crate) reader: IndexReader,
    writer: Mutex<Option<IndexWriter>>,
    checkpoint: Mutex<i64>,
    /// The last change that is not bulk the index holds, when the follower took changes ahead
    /// of an import's backlog: past the checkpoint until the backlog reaches it. Kept in memory
    /// only; after a restart the follower applies those changes again, which is harmless.
    ahead: Mutex<i64>,
}

impl Generation {
    fn open(root: &Path, name: &str) -> Result<Option<Generation>, SearchError> {
        let dir = root.join(name);
        let index = Index::open_in_dir(&dir)?;
        let payload = read_payload(&index)?;
        match payload {
            Some(p) if p.schema_version == SCHEMA_VERSION => {
                Ok(Some(Generation::with_index(name, index, p.checkpoint)?))
            }
            _ => Ok(None),
        }
    }

    fn create(root: &Path, name: &str, settings: &IndexSettings) -> Result<Generation, SearchError> {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).map_err(|e| SearchError::io(&dir, e))?;
        let (schema, _) = schema::build();
        let index = Index::create_in_dir(&dir, schema)?;
        register_analyzer(&index);
        let generation = Generation::with_index(name, index, 0)?;
        generation.commit(0, settings)?;
        Ok(generation)
    }

    fn with_index(name: &str, index: Index, checkpoint: i64) -> Result<Generation, SearchError> {
        register_analyzer(&index);
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(Generation {
            name: name.to_string(),
            index,
            reader,
            writer: Mutex::new(None),
            checkpoint: Mutex::new(checkpoint),
            ahead: Mutex::new(checkpoint),
        })
    }

    pub(crate) fn checkpoint(&self) -> i64 {
        *lock(&self.checkpoint)
    }

    /// Every change that is not bulk up to here is in the index (never below the checkpoint).
    pub(crate) fn ahead(&self) -> i64 {
        (*lock(&self.ahead)).max(self.checkpoint())
    }

    /// Records that the last commit holds the changes that are not bulk up to `ahead`.
    pub(crate) fn set_ahead(&self, ahead: i64) {
        *lock(&self.ahead) = ahead;
    }

    /// The writer, opened on first use (tantivy allows one per index, held until dropped).
    pub(crate) fn writer(&self, settings: &IndexSettings) -> Result<MutexGuard<'_, Option<IndexWriter>>, SearchError> {
        let mut guard = lock(&self.writer);
        if guard.is_none() {
            // One indexing thread: the machine has two cores and serves searches with the other.
            let memory = settings.writer_memory_bytes.max(15_000_000);
            *guard = Some(self.index.writer_with_num_threads(1, memory)?);
        }
        Ok(guard)
    }

    /// Commits what the writer holds with `checkpoint` in the payload, then makes it visible.
    pub(crate) fn commit(&self, checkpoint: i64, settings: &IndexSettings) -> Result<(), SearchError> {
        let mut guard = self.writer(settings)?;
        let writer = guard.as_mut().ok_or(SearchError::Closed)?;
        let payload = serde_json::to_string(&Payload { schema_version: SCHEMA_VERSION, checkpoint })
            .map_err(|e| SearchError::Payload(e.to_string()))?;
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&payload);
        prepared.commit()?;
        drop(guard);
        self.reader.reload()?;
        *lock(&self.checkpoint) = checkpoint;
        Ok(())
    }

    /// Merges every segment into one. A rebuilt index is read far more than it is written, and
    /// a search pays per segment (facet counts are merged by value across segments; one
    /// segment counts by term ordinal alone).
    ///
    /// Call it after a commit: the writer is closed and reopened, and what it held uncommitted
    /// is lost. Closing it waits for the merges its merge policy started in the background,
    /// which would otherwise race this one for the same segments (tantivy then refuses the
    /// finished merge: "The segments that were merged could not be found"), and none start
    /// until this one is done.
    pub(crate) fn merge_segments(&self, settings: &IndexSettings) -> Result<(), SearchError> {
        if let Some(writer) = lock(&self.writer).take() {
            writer.wait_merging_threads()?;
        }
        let ids = self.index.searchable_segment_ids()?;
        if ids.len() > 1 {
            let mut guard = self.writer(settings)?;
            let writer = guard.as_mut().ok_or(SearchError::Closed)?;
            writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
            let merged = writer.merge(&ids).wait();
            writer.set_merge_policy(Box::<tantivy::indexer::LogMergePolicy>::default());
            merged?;
        }
        self.reader.reload()?;
        Ok(())
    }

    fn close_writer(&self) {
        if let Some(writer) = lock(&self.writer).take() {
            // Waiting lets merges finish before the directory may be removed.
            let _ = writer.wait_merging_threads();
        }
    }
}

fn read_payload(index: &Index) -> Result<Option<Payload>, SearchError> {
    let metas = index.load_metas()?;
    Ok(metas.payload.as_deref().and_then(|p| serde_json::from_str(p).ok()))
}

fn register_analyzer(index: &Index) {
    index.tokenizers().register(CATALOG_ANALYZER, tantivy::tokenizer::TextAnalyzer::from(CatalogTokenizer::default()));
    index.tokenizers().register(PAIRS_ANALYZER, tantivy::tokenizer::TextAnalyzer::from(CatalogTokenizer::pairs()));
}

/// A poisoned lock only means another thread panicked while holding it; the data (a writer, a
/// number) is still usable.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The search index of one node.
pub struct SearchIndex {
    root: PathBuf,
    pub(crate) settings: IndexSettings,
    pub(crate) fields: Fields,
    current: RwLock<Arc<Generation>>,
    /// Held while changes are applied or a generation is swapped in, so the two never interleave.
    pub(crate) apply: Mutex<()>,
    /// Each live segment's facet terms, read on its first search.
    facet_tables: crate::facet_counts::FacetTables,
    admission: crate::admission::Admission,
}

const CURRENT: &str = "CURRENT";

impl SearchIndex {
    /// Opens the index in `dir`, creating an empty one when there is none, or when the one there
    /// was written by another schema version (it then fills from the change feed, or faster by
    /// [`SearchIndex::rebuild`]).
    pub fn open(dir: impl AsRef<Path>, settings: IndexSettings) -> Result<SearchIndex, SearchError> {
        let root = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&root).map_err(|e| SearchError::io(&root, e))?;
        let (_, fields) = schema::build();
        let existing = match std::fs::read_to_string(root.join(CURRENT)) {
            // An index that does not open (a disk that filled up mid-merge, files removed by
            // hand) is replaced by an empty one rather than keeping the server down: the index
            // is rebuildable, and the follower or a rebuild fills the new one.
            Ok(name) => Generation::open(&root, name.trim()).ok().flatten(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(SearchError::io(&root.join(CURRENT), e)),
        };
        let generation = match existing {
            Some(g) => g,
            None => {
                let name = next_generation_name(&root)?;
                let g = Generation::create(&root, &name, &settings)?;
                write_current(&root, &name)?;
                g
            }
        };
        Ok(SearchIndex {
            root,
            settings,
            fields,
            current: RwLock::new(Arc::new(generation)),
            apply: Mutex::new(()),
            facet_tables: Default::default(),
            admission: crate::admission::Admission::per_core(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.root
    }

    pub(crate) fn current(&self) -> Arc<Generation> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The last change of the database's change feed that the index holds.
    pub fn checkpoint(&self) -> i64 {
        self.current().checkpoint()
    }

    /// The name of the generation in service (`gen-000002`): changes with each rebuild.
    pub fn generation(&self) -> String {
        self.current().name.clone()
    }

    /// How many records the index holds.
    pub fn len(&self) -> u64 {
        self.current().reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Switches to the generation `CURRENT` names when another process (a `shelfmark reindex`)
    /// has swapped one in. Returns whether it switched.
    pub fn refresh(&self) -> Result<bool, SearchError> {
        let name = match std::fs::read_to_string(self.root.join(CURRENT)) {
            Ok(n) => n.trim().to_string(),
            Err(e) => return Err(SearchError::io(&self.root.join(CURRENT), e)),
        };
        if name == self.current().name {
            return Ok(false);
        }
        let _apply = lock(&self.apply);
        match Generation::open(&self.root, &name)? {
            Some(g) => {
                self.swap_in(g);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Puts a generation in service (the caller holds `apply`), closes the old one's writer and
    /// removes generations older than the one it replaced. The one it replaced stays on disk
    /// until the next swap, because another process may still be serving it.
    pub(crate) fn swap_in(&self, generation: Generation) {
        let name = generation.name.clone();
        let old = {
            let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
            std::mem::replace(&mut *current, Arc::new(generation))
        };
        old.close_writer();
        if let Ok(entries) = std::fs::read_dir(&self.root) {
            for entry in entries.flatten() {
                let n = entry.file_name().to_string_lossy().to_string();
                if n.starts_with("gen-") && n != name && n != old.name && n < old.name {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
    }

    pub(crate) fn new_generation(&self) -> Result<Generation, SearchError> {
        let name = next_generation_name(&self.root)?;
        Generation::create(&self.root, &name, &self.settings)
    }

    pub(crate) fn publish(&self, generation: Generation) -> Result<(), SearchError> {
        // A rebuilt generation is one large segment: its facet table is read here, before it
        // serves, rather than by the first search after the swap.
        self.facet_tables.prepare(&generation.reader.searcher(), "facets")?;
        let _apply = lock(&self.apply);
        write_current(&self.root, &generation.name)?;
        self.swap_in(generation);
        Ok(())
    }

    /// The record an item belongs to, as the index last saw it (for items since deleted).
    pub(crate) fn record_for_item(&self, item_id: i64) -> Result<Option<i64>, SearchError> {
        let searcher = self.current().reader.searcher();
        let query = TermQuery::new(Term::from_field_u64(self.fields.item_id, item_id as u64), IndexRecordOption::Basic);
        let top = searcher.search(&query, &TopDocs::with_limit(1).order_by_score())?;
        match top.first() {
            Some((_, address)) => Ok(self.stored_id(&searcher, *address)?),
            None => Ok(None),
        }
    }

    fn stored_id(&self, searcher: &tantivy::Searcher, address: DocAddress) -> Result<Option<i64>, SearchError> {
        let doc: TantivyDocument = searcher.doc(address)?;
        Ok(doc.get_first(self.fields.id).and_then(|v| v.as_u64()).map(|v| v as i64))
    }

    /// Runs a search. A query that does not parse is searched as plain words, with a message.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResults, SearchError> {
        let _admitted = self.admission.enter();
        let generation = self.current();
        let searcher = generation.reader.searcher();
        let parsed = query::parse(&request.query);
        let translator = Translator { fields: &self.fields };
        let mut main = translator.translate(&parsed.query).unwrap_or_else(|| Box::new(AllQuery));
        if parsed.query.is_plain() {
            main = translator.with_title_boosts(main, &parsed.query.plain_text());
        }
        let query = with_filters(main, &request.filters, self.fields.facets);

        // One pass over the matches counts them, counts their facet values and keeps the page.
        let counter = crate::facet_counts::FacetCounter {
            field: "facets",
            tables: &self.facet_tables,
            limit: request.facet_limit,
        };
        let limit = request.limit.clamp(1, 1000);
        let top = TopDocs::with_limit(limit).and_offset(request.offset);
        let id_asc = (SortByStaticFastValue::<u64>::for_field("id"), Order::Asc);
        let (total, facet_values, addresses): (usize, _, Vec<(f32, DocAddress)>) = match request.sort {
            Sort::Relevance => {
                let collector = top.order_by(RelevanceOrder { ranks: format_ranks(&self.settings.format_preference) });
                let (total, facets, top) = searcher.search(&query, &(Count, counter, collector))?;
                (total, facets, top.into_iter().map(|(k, a)| (k.score, a)).collect())
            }
            Sort::Title => {
                let c = top.order_by(((SortByString::for_field("title_sort"), Order::Asc), id_asc));
                let (total, facets, top) = searcher.search(&query, &(Count, counter, c))?;
                (total, facets, top.into_iter().map(|(_, a)| (0.0, a)).collect())
            }
            Sort::Author => {
                let c = top.order_by(((SortByString::for_field("author_sort"), Order::Asc), id_asc));
                let (total, facets, top) = searcher.search(&query, &(Count, counter, c))?;
                (total, facets, top.into_iter().map(|(_, a)| (0.0, a)).collect())
            }
            Sort::DateNewest | Sort::DateOldest => {
                let order = if request.sort == Sort::DateNewest { Order::Desc } else { Order::Asc };
                let c = top.order_by(((SortByStaticFastValue::<i64>::for_field("year"), order), id_asc));
                let (total, facets, top) = searcher.search(&query, &(Count, counter, c))?;
                (total, facets, top.into_iter().map(|(_, a)| (0.0, a)).collect())
            }
            Sort::CallNumber => {
                let c = top.order_by(((SortByBytes::for_field("callnumber_sort"), Order::Asc), id_asc));
                let (total, facets, top) = searcher.search(&query, &(Count, counter, c))?;
                (total, facets, top.into_iter().map(|(_, a)| (0.0, a)).collect())
            }
        };
        let live: Vec<_> = searcher.segment_readers().iter().map(|r| r.segment_id()).collect();
        self.facet_tables.retain(&live);
        let facets = facet_values
            .into_iter()
            .map(|(facet, values)| FacetCounts {
                facet,
                values: values.into_iter().map(|(value, count)| FacetValue { value, count }).collect(),
            })
            .filter(|f| !f.values.is_empty())
            .collect();

        let mut hits = Vec::with_capacity(addresses.len());
        for (score, address) in addresses {
            let doc: TantivyDocument = searcher.doc(address)?;
            let text = |field: Field| doc.get_first(field).and_then(|v| v.as_str()).map(str::to_string);
            let format = doc.get_first(self.fields.format).and_then(|v| v.as_u64()).unwrap_or(0) as usize;
            hits.push(Hit {
                record_id: doc.get_first(self.fields.id).and_then(|v| v.as_u64()).unwrap_or(0) as i64,
                score,
                title: text(self.fields.title_display).unwrap_or_default(),
                author: text(self.fields.author_display),
                year: doc.get_first(self.fields.year).and_then(|v| v.as_i64()).map(|y| y as i32),
                format: Format::ALL.get(format).copied().unwrap_or(Format::Other),
            });
        }
        Ok(SearchResults { total, hits, facets, message: parsed.message, understood: parsed.query.to_string() })
    }
}

/// The relevance order: score bucket, then the preferred format, then the exact score, then the
/// record id (smaller first). Larger keys come first.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
struct RelevanceKey {
    bucket: i64,
    format_rank: std::cmp::Reverse<u32>,
    score: f32,
    id: std::cmp::Reverse<u64>,
}

/// Scores within about 2% of each other count as a tie, so that the preferred format decides
/// between the regular-print and the large-print record of one title (their scores differ
/// only by field lengths).
fn relevance_bucket(score: f32) -> i64 {
    if score <= 0.0 || !score.is_finite() {
        return i64::MIN;
    }
    (score.ln() * 50.0).round() as i64
}

/// The relevance order for tantivy's top-documents collector.
struct RelevanceOrder {
    ranks: Arc<Vec<std::cmp::Reverse<u32>>>,
}

impl SortKeyComputer for RelevanceOrder {
    type SortKey = RelevanceKey;
    type Child = SegmentRelevance;
    type Comparator = NaturalComparator;

    fn requires_scoring(&self) -> bool {
        true
    }

    fn segment_sort_key_computer(&self, segment: &tantivy::SegmentReader) -> tantivy::Result<SegmentRelevance> {
        Ok(SegmentRelevance {
            format: segment.fast_fields().u64("format").ok(),
            id: segment.fast_fields().u64("id").ok(),
            ranks: self.ranks.clone(),
            floor: (i64::MIN, f32::NEG_INFINITY),
        })
    }
}

struct SegmentRelevance {
    format: Option<Column<u64>>,
    id: Option<Column<u64>>,
    ranks: Arc<Vec<std::cmp::Reverse<u32>>>,
    /// A relevance bucket and a score below which every score falls in a lower bucket.
    floor: (i64, f32),
}

impl SegmentRelevance {
    /// A score under this cannot reach `bucket`. A margin of a thousandth (a twentieth of a
    /// bucket) covers the rounding of `ln`.
    fn floor(&mut self, bucket: i64) -> f32 {
        if self.floor.0 != bucket {
            let least = if bucket == i64::MIN {
                f32::NEG_INFINITY
            } else {
                (((bucket as f64) - 0.5) / 50.0).exp() as f32 * 0.999
            };
            self.floor = (bucket, least);
        }
        self.floor.1
    }
}

impl SegmentSortKeyComputer for SegmentRelevance {
    type SortKey = RelevanceKey;
    type SegmentSortKey = RelevanceKey;
    type SegmentComparator = NaturalComparator;

    fn segment_sort_key(&mut self, doc: tantivy::DocId, score: tantivy::Score) -> RelevanceKey {
        let format = self.format.as_ref().and_then(|c| c.first(doc)).unwrap_or(u64::MAX);
        let format_rank = self.ranks.get(format as usize).copied().unwrap_or(std::cmp::Reverse(u32::MAX));
        let id = self.id.as_ref().and_then(|c| c.first(doc)).unwrap_or(u64::MAX);
        RelevanceKey { bucket: relevance_bucket(score), format_rank, score, id: std::cmp::Reverse(id) }
    }

    /// Once the page is full, a match whose score falls in a lower bucket than the weakest
    /// kept cannot enter it, whatever its format and id: it is passed over before its key is
    /// read (two fast fields and a logarithm), which in a broad search is nearly every match.
    /// (`C` is this order's natural comparator, larger first.)
    fn compute_sort_key_and_collect<C: Comparator<RelevanceKey>>(
        &mut self,
        doc: tantivy::DocId,
        score: tantivy::Score,
        top: &mut TopNComputer<RelevanceKey, tantivy::DocId, C>,
    ) {
        if let Some(weakest) = top.threshold {
            if score < self.floor(weakest.bucket) {
                return;
            }
        }
        let key = self.segment_sort_key(doc, score);
        top.push(key, doc);
    }

    fn convert_segment_sort_key(&self, key: RelevanceKey) -> RelevanceKey {
        key
    }
}

/// `ranks[format_code]` = place in the library's preference; unlisted formats after, in
/// [`Format::ALL`] order.
fn format_ranks(preference: &[Format]) -> Arc<Vec<std::cmp::Reverse<u32>>> {
    let mut ranks = vec![std::cmp::Reverse(u32::MAX); Format::ALL.len()];
    for (code, format) in Format::ALL.iter().enumerate() {
        let rank = match preference.iter().position(|p| p == format) {
            Some(p) => p as u32,
            None => preference.len() as u32 + code as u32,
        };
        ranks[format_code(*format) as usize] = std::cmp::Reverse(rank);
    }
    Arc::new(ranks)
}

impl RelevanceKey {
    #[cfg(test)]
    fn new(bucket: i64, rank: u32, score: f32, id: u64) -> Self {
        RelevanceKey { bucket, format_rank: std::cmp::Reverse(rank), score, id: std::cmp::Reverse(id) }
    }
}

fn with_filters(main: Box<dyn TantivyQuery>, filters: &[FacetFilter], facets: Field) -> Box<dyn TantivyQuery> {
    if filters.is_empty() {
        return main;
    }
    let mut groups: BTreeMap<&str, Vec<Box<dyn TantivyQuery>>> = BTreeMap::new();
    for f in filters {
        let term = Term::from_facet(facets, &f.facet.facet(&f.value));
        groups.entry(f.facet.as_str()).or_default().push(Box::new(TermQuery::new(term, IndexRecordOption::Basic)));
    }
    let mut clauses: Vec<(Occur, Box<dyn TantivyQuery>)> = vec![(Occur::Must, main)];
    for (_, alternatives) in groups {
        let q: Box<dyn TantivyQuery> = if alternatives.len() == 1 {
            alternatives.into_iter().next().unwrap_or_else(|| Box::new(AllQuery))
        } else {
            Box::new(BooleanQuery::union(alternatives))
        };
        // Filters narrow; they do not score.
        clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0))));
    }
    Box::new(BooleanQuery::new(clauses))
}

/// The keyword fields and their weights: title > author > subject > series > publisher > notes.
const KEYWORD_FIELDS: [(SearchField, f32); 6] = [
    (SearchField::Title, 4.0),
    (SearchField::Author, 3.0),
    (SearchField::Subject, 2.0),
    (SearchField::Series, 1.5),
    (SearchField::Publisher, 1.0),
    (SearchField::Notes, 0.5),
];

/// How much an exact title match and a title that starts with the query add to a score.
const EXACT_TITLE_BOOST: f32 = 12.0;
const TITLE_STARTS_WITH_BOOST: f32 = 5.0;

pub(crate) struct Translator<'a> {
    pub(crate) fields: &'a Fields,
}

impl Translator<'_> {
    pub(crate) fn field(&self, f: SearchField) -> Field {
        match f {
            SearchField::Title => self.fields.title,
            SearchField::Author => self.fields.author,
            SearchField::Subject => self.fields.subject,
            SearchField::Series => self.fields.series,
            SearchField::Publisher => self.fields.publisher,
            SearchField::Notes => self.fields.notes,
            SearchField::Isbn => self.fields.isbn,
            SearchField::Issn => self.fields.issn,
            SearchField::Lccn => self.fields.lccn,
            SearchField::CallNumber => self.fields.callnumber,
        }
    }

    /// The field of `field`'s word pairs, for a heading field. Headings are controlled: the
    /// same pairs recur in record after record, so their terms are few and their phrases
    /// common (`"united states"` is in a quarter of the subjects). Titles, publishers and notes
    /// are free text, nearly every pair of words a new term: pairing them too doubled the time
    /// to build the index (80 s to 162 s at 1,000,000 records), for phrases that cost little
    /// by positions, as their words rarely meet in one record.
    fn pairs(&self, field: Field) -> Option<Field> {
        let f = self.fields;
        [(f.author, f.author_pairs), (f.subject, f.subject_pairs), (f.series, f.series_pairs)]
            .into_iter()
            .find_map(|(words, pairs)| (words == field).then_some(pairs))
    }

    /// `None`: the part matches nothing that can be searched (punctuation only) and is left out.
    fn translate(&self, q: &Query) -> Option<Box<dyn TantivyQuery>> {
        match q {
            Query::All => Some(Box::new(AllQuery)),
            Query::Word { field, text } | Query::Phrase { field, text } => match field {
                None => self.keyword(text),
                Some(f) => self.in_field(*f, text),
            },
            Query::Years { from, to } => {
                let bound = |y: &Option<i32>, inclusive: fn(Term) -> Bound<Term>| match y {
                    Some(y) => inclusive(Term::from_field_i64(self.fields.year, *y as i64)),
                    None => Bound::Unbounded,
                };
                Some(Box::new(RangeQuery::new(bound(from, Bound::Included), bound(to, Bound::Included))))
            }
            Query::And(parts) => {
                let mut clauses: Vec<(Occur, Box<dyn TantivyQuery>)> = Vec::new();
                for p in parts {
                    match p {
                        Query::Not(inner) => {
                            if let Some(t) = self.translate(inner) {
                                clauses.push((Occur::MustNot, t));
                            }
                        }
                        _ => {
                            if let Some(t) = self.translate(p) {
                                clauses.push((Occur::Must, t));
                            }
                        }
                    }
                }
                if clauses.is_empty() {
                    return None;
                }
                if clauses.iter().all(|(o, _)| *o == Occur::MustNot) {
                    clauses.push((Occur::Must, Box::new(AllQuery)));
                }
                Some(Box::new(BooleanQuery::new(clauses)))
            }
            Query::Or(parts) => {
                let alternatives: Vec<Box<dyn TantivyQuery>> = parts.iter().filter_map(|p| self.translate(p)).collect();
                if alternatives.is_empty() {
                    return None;
                }
                Some(Box::new(BooleanQuery::union(alternatives)))
            }
            Query::Not(inner) => {
                let excluded = self.translate(inner)?;
                Some(Box::new(BooleanQuery::new(vec![(Occur::Must, Box::new(AllQuery)), (Occur::MustNot, excluded)])))
            }
        }
    }

    /// A word or phrase in the keyword fields, each with its weight (the best field counts, the
    /// others a little), and as an ISBN or ISSN when it looks like one.
    pub(crate) fn keyword(&self, text: &str) -> Option<Box<dyn TantivyQuery>> {
        let mut disjuncts: Vec<Box<dyn TantivyQuery>> = Vec::new();
        for (field, weight) in KEYWORD_FIELDS {
            if let Some(q) = self.text_query(self.field(field), text) {
                disjuncts.push(Box::new(BoostQuery::new(q, weight)));
            }
        }
        if catalog::Isbn::parse(text).is_ok() {
            if let Some(q) = self.in_field(SearchField::Isbn, text) {
                disjuncts.push(Box::new(BoostQuery::new(q, 10.0)));
            }
        }
        if catalog::Issn::parse(text).is_ok() {
            if let Some(q) = self.in_field(SearchField::Issn, text) {
                disjuncts.push(Box::new(BoostQuery::new(q, 10.0)));
            }
        }
        match disjuncts.len() {
            0 => None,
            1 => disjuncts.pop(),
            _ => Some(Box::new(DisjunctionMaxQuery::with_tie_breaker(disjuncts, 0.2))),
        }
    }

    pub(crate) fn in_field(&self, f: SearchField, text: &str) -> Option<Box<dyn TantivyQuery>> {
        let field = self.field(f);
        let key = match f {
            SearchField::Isbn => analysis::isbn_key(text).unwrap_or_else(|| analysis::identifier_key(text)),
            SearchField::Issn | SearchField::Lccn => match f {
                SearchField::Lccn => catalog::Lccn::parse(text)
                    .map(|l| analysis::identifier_key(l.as_str()))
                    .unwrap_or_else(|_| analysis::identifier_key(text)),
                _ => analysis::identifier_key(text),
            },
            SearchField::CallNumber => {
                // A prefix: `QA76` finds `QA76.73.R87 K53 2018`.
                let key = analysis::call_number_key(text);
                if key.is_empty() {
                    return None;
                }
                let mut end = key.clone();
                end.push(char::MAX);
                return Some(Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_text(field, &key)),
                    Bound::Excluded(Term::from_field_text(field, &end)),
                )));
            }
            _ => {
                return self.text_query(field, text).map(|q| Box::new(BoostQuery::new(q, 1.0)) as Box<dyn TantivyQuery>)
            }
        };
        if key.is_empty() {
            return None;
        }
        Some(Box::new(TermQuery::new(Term::from_field_text(field, &key), IndexRecordOption::Basic)))
    }

    /// A word is a term; text that analyzes to several terms (a phrase, `Jean-Paul`, a run of
    /// Chinese) must match them in order: two in a heading by the term of its pair field, the
    /// rest by positions.
    pub(crate) fn text_query(&self, field: Field, text: &str) -> Option<Box<dyn TantivyQuery>> {
        let terms = analysis::analyze(text);
        if let (Some(pairs), Some(pair)) = (self.pairs(field), analysis::query_pair(&terms)) {
            return Some(Box::new(TermQuery::new(Term::from_field_text(pairs, &pair), IndexRecordOption::WithFreqs)));
        }
        match terms.len() {
            0 => None,
            1 => Some(Box::new(TermQuery::new(
                Term::from_field_text(field, &terms[0].text),
                IndexRecordOption::WithFreqs,
            ))),
            _ => Some(Box::new(PhraseQuery::new_with_offset(
                terms.iter().map(|t| (t.position, Term::from_field_text(field, &t.text))).collect(),
            ))),
        }
    }

    /// Ranks a title that is exactly the query, then one that starts with it, above the rest.
    fn with_title_boosts(&self, main: Box<dyn TantivyQuery>, text: &str) -> Box<dyn TantivyQuery> {
        let normal = analysis::normalize(text);
        if normal.is_empty() {
            return main;
        }
        let field = self.fields.title_exact;
        let exact = TermQuery::new(Term::from_field_text(field, &normal), IndexRecordOption::Basic);
        Box::new(BooleanQuery::new(vec![
            (Occur::Must, main),
            (Occur::Should, Box::new(ConstScoreQuery::new(Box::new(exact), EXACT_TITLE_BOOST))),
            (Occur::Should, Box::new(ConstScoreQuery::new(self.title_starts_with(&normal), TITLE_STARTS_WITH_BOOST))),
        ]))
    }

    /// The titles that start with the normalised words `normal` and go on. A short query is one
    /// term of `title_starts`: as a range of `title_exact` it would open the postings of every
    /// title that starts with it (thousands for `history` at a million records, 30 ms a search).
    fn title_starts_with(&self, normal: &str) -> Box<dyn TantivyQuery> {
        if normal.matches(' ').count() < schema::TITLE_STARTS_WORDS {
            let term = Term::from_field_text(self.fields.title_starts, normal);
            return Box::new(TermQuery::new(term, IndexRecordOption::Basic));
        }
        let field = self.fields.title_exact;
        Box::new(RangeQuery::new(
            Bound::Included(Term::from_field_text(field, &format!("{normal} "))),
            Bound::Excluded(Term::from_field_text(field, &format!("{normal} {}", char::MAX))),
        ))
    }
}

fn next_generation_name(root: &Path) -> Result<String, SearchError> {
    let mut highest = 0u64;
    let entries = std::fs::read_dir(root).map_err(|e| SearchError::io(root, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if let Some(n) = name.strip_prefix("gen-").and_then(|n| n.parse::<u64>().ok()) {
            highest = highest.max(n);
        }
    }
    Ok(format!("gen-{:06}", highest + 1))
}

fn write_current(root: &Path, name: &str) -> Result<(), SearchError> {
    let tmp = root.join("CURRENT.tmp");
    std::fs::write(&tmp, name).map_err(|e| SearchError::io(&tmp, e))?;
    // Make the new generation's name durable before it replaces the old one.
    if let Ok(f) = std::fs::File::open(&tmp) {
        let _ = f.sync_all();
    }
    std::fs::rename(&tmp, root.join(CURRENT)).map_err(|e| SearchError::io(&root.join(CURRENT), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relevance_ties_go_to_the_preferred_format() {
        let close = relevance_bucket(10.0) == relevance_bucket(10.05);
        assert!(close);
        assert!(relevance_bucket(10.0) < relevance_bucket(12.0));
        let ranks = format_ranks(&IndexSettings::default().format_preference);
        let book = ranks[format_code(Format::Book) as usize].0;
        let large = ranks[format_code(Format::LargePrint) as usize].0;
        let audio = ranks[format_code(Format::AudiobookCd) as usize].0;
        assert!(book < large && large < audio);
        // Same bucket: the book wins over a slightly higher-scoring large-print record.
        assert!(RelevanceKey::new(5, book, 10.0, 2) > RelevanceKey::new(5, large, 10.1, 1));
        // Same everything: the smaller id first.
        assert!(RelevanceKey::new(5, book, 10.0, 1) > RelevanceKey::new(5, book, 10.0, 2));
    }

    /// A title starts with a query of any length exactly when a plain comparison says so,
    /// whether the query is one term of `title_starts` (up to three words) or a range of
    /// `title_exact` (longer), and for every exact-title form of a record.
    #[test]
    fn titles_start_with_short_and_long_queries() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let index = SearchIndex::open(dir.path(), IndexSettings::default()).expect("index");
        let titles: [&[&str]; 8] = [
            &["History"],
            &["History of"],
            &["A history of the world", "History of the world"],
            &["History of the world at war"],
            &["History of the world atlas, revised edition"],
            &["Histories of the world"],
            &["The history of the world in maps"],
            &["Of the world: a history"],
        ];
        let generation = index.current();
        {
            let mut guard = generation.writer(&index.settings).expect("writer");
            let writer = guard.as_mut().expect("open writer");
            for (id, forms) in titles.iter().enumerate() {
                let doc = crate::CatalogDocument {
                    id: id as i64,
                    exact_titles: forms.iter().map(|t| analysis::normalize(t)).collect(),
                    ..Default::default()
                };
                writer.add_document(doc.to_tantivy(&index.fields)).expect("add");
            }
        }
        generation.commit(0, &index.settings).expect("commit");
        let searcher = generation.reader.searcher();
        let translator = Translator { fields: &index.fields };
        let mut found_some = 0;
        for query in [
            "history",
            "History of",
            "history of the",
            "history of the world",
            "history of the world at",
            "history of the world atlas revised",
            "of the",
            "world",
        ] {
            let normal = analysis::normalize(query);
            let docs = searcher
                .search(&*translator.title_starts_with(&normal), &tantivy::collector::DocSetCollector)
                .expect("search");
            let mut found: Vec<i64> =
                docs.into_iter().map(|a| index.stored_id(&searcher, a).expect("stored").expect("id")).collect();
            found.sort_unstable();
            let expected: Vec<i64> = (0..titles.len() as i64)
                .filter(|&id| {
                    titles[id as usize].iter().any(|t| analysis::normalize(t).starts_with(&format!("{normal} ")))
                })
                .collect();
            assert_eq!(found, expected, "{query}");
            found_some += usize::from(!found.is_empty());
        }
        assert!(found_some >= 5, "the queries find titles");
    }

    /// The pages of a broad search are those of the full relevance order, although most
    /// matches are passed over by score once a page is full: many matches with close and equal
    /// scores, several formats, three segments, every page size and offset tried.
    #[test]
    fn relevance_pages_are_those_of_the_full_order() {
        use tantivy::schema::{NumericOptions, Schema, TEXT};
        let mut schema = Schema::builder();
        let word = schema.add_text_field("word", TEXT);
        let id = schema.add_u64_field("id", NumericOptions::default().set_fast());
        let format = schema.add_u64_field("format", NumericOptions::default().set_fast());
        let index = Index::create_in_ram(schema.build());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).expect("writer");
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        let mut state = 7u64;
        let mut next = |below: u64| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) % below
        };
        for n in 0..1500u64 {
            // Repeats and lengths from a few choices, so that many scores tie or nearly do.
            let text = format!("{} {}", "history ".repeat(1 + next(3) as usize), "filler ".repeat(next(6) as usize));
            let doc = tantivy::doc!(word => text, id => 10_000 - n, format => next(Format::ALL.len() as u64));
            writer.add_document(doc).expect("add");
            if n % 500 == 499 {
                writer.commit().expect("commit");
            }
        }
        let searcher = index.reader().expect("reader").searcher();
        assert_eq!(searcher.segment_readers().len(), 3);
        let query = TermQuery::new(Term::from_field_text(word, "history"), IndexRecordOption::WithFreqs);
        let order = || RelevanceOrder { ranks: format_ranks(&IndexSettings::default().format_preference) };
        // With room for every match nothing is passed over.
        let all = searcher.search(&query, &TopDocs::with_limit(1500).order_by(order())).expect("all");
        assert_eq!(all.len(), 1500);
        for (limit, offset) in [(1, 0), (3, 0), (10, 0), (20, 0), (20, 20), (20, 700), (50, 1460)] {
            let page = searcher
                .search(&query, &TopDocs::with_limit(limit).and_offset(offset).order_by(order()))
                .expect("page");
            let expected: Vec<_> = all.iter().skip(offset).take(limit).map(|(_, a)| *a).collect();
            let got: Vec<_> = page.iter().map(|(_, a)| *a).collect();
            assert_eq!(got, expected, "limit {limit}, offset {offset}");
        }
    }
}
