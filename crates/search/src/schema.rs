//! The index's schema: one tantivy document per bibliographic record.
//!
//! Text fields (`title`, `author`, `subject`, `series`, `publisher`, `notes`) use the catalog
//! analyzer ([`crate::analysis`]) with positions for phrases. Identifiers (`isbn`, `issn`,
//! `lccn`, `callnumber`) and `title_exact` are single terms in their normalised form
//! ([`crate::analysis::isbn_key`] and friends); `title_starts` holds each exact title's first
//! one to [`TITLE_STARTS_WORDS`] words, one term each. Sorting and tie-breaking read fast fields
//! (`id`, `year`, `format`, `title_sort`, `author_sort`, `callnumber_sort`); every facet lives
//! in one hierarchical facet field, `facets`, as `/<facet>/<value>`.
//!
//! Change [`SCHEMA_VERSION`] with the schema: an index written under another version is not
//! reused (see [`crate::SearchIndex::open`]).

use tantivy::schema::{
    FacetOptions, Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, FAST, STORED,
};

use crate::analysis::{CATALOG_ANALYZER, PAIRS_ANALYZER};

/// Bump when the schema or the analyzers change the terms an index holds.
pub const SCHEMA_VERSION: u32 = 3;

/// How many leading words of a title `title_starts` holds as terms: a query of up to this many
/// words finds the titles that start with it by one term; a longer one by a range of
/// `title_exact`, which is narrow by then.
pub const TITLE_STARTS_WORDS: usize = 3;

/// The fields of the schema, resolved once.
#[derive(Debug, Clone)]
pub struct Fields {
    pub id: Field,
    pub item_id: Field,
    pub title: Field,
    pub title_exact: Field,
    pub title_starts: Field,
    pub title_sort: Field,
    pub title_display: Field,
    pub author: Field,
    pub author_sort: Field,
    pub author_display: Field,
    pub subject: Field,
    pub series: Field,
    pub publisher: Field,
    pub notes: Field,
    pub author_pairs: Field,
    pub subject_pairs: Field,
    pub series_pairs: Field,
    pub isbn: Field,
    pub issn: Field,
    pub lccn: Field,
    pub callnumber: Field,
    pub callnumber_sort: Field,
    pub year: Field,
    pub format: Field,
    pub facets: Field,
}

pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(CATALOG_ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let pairs = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(PAIRS_ANALYZER).set_index_option(IndexRecordOption::WithFreqs),
    );
    // One term per value, no positions: identifiers and the exact-title form.
    let keyword = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer("raw").set_index_option(IndexRecordOption::Basic),
    );
    let sort = TextOptions::default().set_fast("raw");
    let id_options = NumericOptions::default().set_indexed().set_fast().set_stored();
    let fields = Fields {
        id: b.add_u64_field("id", id_options),
        item_id: b.add_u64_field("item_id", NumericOptions::default().set_indexed()),
        title: b.add_text_field("title", text.clone()),
        title_exact: b.add_text_field("title_exact", keyword.clone()),
        title_starts: b.add_text_field("title_starts", keyword.clone()),
        title_sort: b.add_text_field("title_sort", sort.clone()),
        title_display: b.add_text_field("title_display", STORED),
        author: b.add_text_field("author", text.clone()),
        author_sort: b.add_text_field("author_sort", sort.clone()),
        author_display: b.add_text_field("author_display", STORED),
        subject: b.add_text_field("subject", text.clone()),
        series: b.add_text_field("series", text.clone()),
        publisher: b.add_text_field("publisher", text.clone()),
        notes: b.add_text_field("notes", text),
        author_pairs: b.add_text_field("author_pairs", pairs.clone()),
        subject_pairs: b.add_text_field("subject_pairs", pairs.clone()),
        series_pairs: b.add_text_field("series_pairs", pairs),
        isbn: b.add_text_field("isbn", keyword.clone()),
        issn: b.add_text_field("issn", keyword.clone()),
        lccn: b.add_text_field("lccn", keyword.clone()),
        callnumber: b.add_text_field("callnumber", keyword),
        callnumber_sort: b.add_bytes_field("callnumber_sort", FAST),
        year: b.add_i64_field("year", NumericOptions::default().set_indexed().set_fast().set_stored()),
        format: b.add_u64_field("format", NumericOptions::default().set_fast().set_stored()),
        facets: b.add_facet_field("facets", FacetOptions::default()),
    };
    (b.build(), fields)
}
