//! The index against real records: the Koha sample (with items) and the LC sample imported into
//! SQLite in a temporary directory, indexed by the follower from the change feed, then searched
//! the way patrons search. Also: keeping in step with edits, deletes and item status changes,
//! resuming after a restart, and rebuilding while the old index serves.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use catalog::ItemStatus;
use import::{ImportOptions, ImportReport, RejectSink};
use search::{FacetFilter, FacetName, Follower, IndexSettings, SearchIndex, SearchRequest, SearchResults, Sort};
use storage::{Database, ItemFilter, OnMatch, Page, RecordFilter, SqliteOptions, StorageConfig};

fn shared() -> PathBuf {
    match std::env::var_os("SHELFMARK_SHARED") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    }
}

struct Library {
    db: Arc<dyn Database>,
    index: Arc<SearchIndex>,
    dir: tempfile::TempDir,
}

impl Library {
    fn new() -> Library {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = storage::open(&StorageConfig::Sqlite(SqliteOptions::new(dir.path().join("db")))).expect("open SQLite");
        let index =
            Arc::new(SearchIndex::open(dir.path().join("index"), IndexSettings::default()).expect("open the index"));
        Library { db, index, dir }
    }

    fn import(&self, rel: &str) -> ImportReport {
        let path = shared().join("data/marc").join(rel);
        let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut rejects = RejectSink::at(&self.dir.path().join(rel.replace('/', "_")));
        let options = ImportOptions { on_match: OnMatch::Add, ..Default::default() };
        import::import_reader(
            &*self.db,
            std::io::BufReader::new(file),
            &options,
            &mut rejects,
            &|_, _: &ImportReport| {},
        )
        .expect("import")
    }

    fn follower(&self) -> Follower {
        Follower::new(self.index.clone(), self.db.clone())
    }

    fn search(&self, query: &str) -> SearchResults {
        self.index.search(&SearchRequest::new(query)).expect("search")
    }

    fn ids(&self, query: &str) -> Vec<i64> {
        self.search(query).hits.iter().map(|h| h.record_id).collect()
    }

    fn record_titled(&self, title: &str) -> storage::StoredRecord {
        let filter = RecordFilter { title: Some(title.to_string()), ..Default::default() };
        self.db
            .records(&filter, Page::default())
            .expect("records")
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no {title}"))
    }
}

fn koha() -> Library {
    let lib = Library::new();
    let report = lib.import("koha-sample/koha-sample-with-items.mrc");
    assert!(report.added > 400, "{report:?}");
    lib.follower().catch_up().expect("catch up");
    lib
}

#[test]
fn koha_sample_known_items() {
    let lib = koha();
    assert_eq!(lib.index.len(), lib.db.count_records().unwrap());
    let lag = lib.follower().lag().unwrap();
    assert_eq!(lag.pending, 0, "{lag:?}");
    assert_eq!(lag.applied, lag.database);

    let c = lib.record_titled("The C programming language");
    // Title words, with and without the article; exact title first.
    assert_eq!(lib.ids("the c programming language")[0], c.id);
    assert_eq!(lib.ids("C programming language")[0], c.id);
    // Author surname + a title word.
    assert_eq!(lib.ids("kernighan programming")[0], c.id);
    assert_eq!(lib.ids("author:ritchie title:language")[0], c.id);
    // ISBN-10 and ISBN-13, with and without hyphens.
    let isbn13 = c.derived.isbns[0].clone();
    let isbn10 = catalog::Isbn::parse(&isbn13).unwrap().to_isbn10().unwrap();
    let hyphenated = format!("{}-{}-{}-{}", &isbn10[0..1], &isbn10[1..3], &isbn10[3..9], &isbn10[9..]);
    for q in
        [isbn13.clone(), isbn10.clone(), hyphenated.clone(), format!("isbn:{hyphenated}"), format!("isbn:{isbn13}")]
    {
        assert_eq!(lib.ids(&q), vec![c.id], "{q}");
    }

    let perl = lib.record_titled("Perl best practices");
    assert_eq!(lib.ids("perl best practices")[0], perl.id);
    assert_eq!(lib.ids("\"best practices\" conway")[0], perl.id);
    assert!(!lib.ids("perl NOT conway").contains(&perl.id));
    assert!(lib.ids("perl -conway").iter().all(|id| *id != perl.id));
    assert!(lib.ids("(conway OR kernighan) AND (perl OR programming)").contains(&c.id));

    // Plurals meet singulars.
    assert!(lib.ids("perl best practice").contains(&perl.id));

    // An unreadable query still searches, with a message.
    let r = lib.search("perl (best practices");
    assert!(r.message.is_some());
    assert_eq!(r.hits[0].record_id, perl.id);
}

#[test]
fn koha_sample_facets_sorts_and_paging() {
    let lib = koha();
    let all = lib.index.search(&SearchRequest { facet_limit: 100, ..SearchRequest::new("") }).unwrap();
    assert_eq!(all.total as u64, lib.db.count_records().unwrap());
    let facet = |r: &SearchResults, name: FacetName| {
        r.facets.iter().find(|f| f.facet == name).map(|f| f.values.clone()).unwrap_or_default()
    };
    let branches: Vec<String> = facet(&all, FacetName::Branch).into_iter().map(|v| v.value).collect();
    for b in ["CPL", "FPL", "MPL"] {
        assert!(branches.contains(&b.to_string()), "{branches:?}");
    }
    for name in [FacetName::Format, FacetName::Availability, FacetName::Language, FacetName::Decade, FacetName::Subject]
    {
        assert!(!facet(&all, name).is_empty(), "{name:?}");
    }

    // A filter narrows to what its count said.
    let cpl = facet(&all, FacetName::Availability).into_iter().find(|v| v.value == "CPL").unwrap();
    let filtered = lib
        .index
        .search(&SearchRequest {
            filters: vec![FacetFilter { facet: FacetName::Availability, value: "CPL".into() }],
            ..SearchRequest::new("")
        })
        .unwrap();
    assert_eq!(filtered.total as u64, cpl.count);

    // Year ranges.
    let nineties = lib.search("year:1990-1999");
    assert!(nineties.total > 0);
    for hit in &nineties.hits {
        assert!((1990..=1999).contains(&hit.year.unwrap()), "{hit:?}");
    }

    // Sorts, and paging that neither repeats nor skips.
    for sort in [Sort::Relevance, Sort::Title, Sort::Author, Sort::DateNewest, Sort::DateOldest, Sort::CallNumber] {
        let request = |offset| SearchRequest { sort, offset, limit: 25, ..SearchRequest::new("") };
        let mut seen = Vec::new();
        let mut offset = 0;
        loop {
            let page = lib.index.search(&request(offset)).unwrap();
            if page.hits.is_empty() {
                break;
            }
            seen.extend(page.hits.iter().map(|h| h.record_id));
            offset += 25;
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "{sort:?} repeats");
        assert_eq!(seen.len(), all.total, "{sort:?} skips");
    }
    let by_date = lib.index.search(&SearchRequest { sort: Sort::DateNewest, ..SearchRequest::new("") }).unwrap();
    let years: Vec<i32> = by_date.hits.iter().filter_map(|h| h.year).collect();
    assert!(years.windows(2).all(|w| w[0] >= w[1]), "{years:?}");
    let by_title = lib.index.search(&SearchRequest { sort: Sort::Title, ..SearchRequest::new("perl") }).unwrap();
    let titles: Vec<String> = by_title.hits.iter().map(|h| search::analysis::sort_form(&h.title)).collect();
    assert!(titles.len() > 2);

    // Call-number prefix search.
    let c = lib.record_titled("The C programming language");
    if let Some(lc) = &c.derived.lc_call_number {
        let prefix: String = lc.chars().take(4).collect();
        assert!(lib.ids(&format!("callnumber:{prefix}")).contains(&c.id), "{lc}");
    }
}

#[test]
fn follows_edits_deletes_and_item_status_and_resumes_after_restart() {
    let lib = koha();
    let follower = lib.follower();

    // An edit: the new title is searchable, the old is not. (The record of the first item, so
    // that it has items to change.)
    let first_item = lib.db.items(&ItemFilter::default(), Page { after: 0, limit: 1 }).unwrap().remove(0);
    let perl = lib.db.record(first_item.bib_id).unwrap().unwrap();
    let old_title = format!("\"{}\"", perl.derived.title.replace('"', " "));
    assert!(lib.ids(&old_title).contains(&perl.id));
    let mut marc = marc::iso2709::read_one(&perl.marc).unwrap();
    for f in marc.fields.iter_mut() {
        if let marc::Field::Data(d) = f {
            if d.tag == "245" {
                for s in d.subfields.iter_mut().filter(|s| s.code == 'a') {
                    s.value = "Zyxwvut camel handbook".into();
                }
            }
        }
    }
    lib.db.update_record(perl.id, &import::prepare_record(marc).unwrap()).unwrap();
    assert!(follower.lag().unwrap().pending > 0);
    follower.catch_up().unwrap();
    assert_eq!(lib.ids("zyxwvut"), vec![perl.id]);
    assert!(!lib.ids(&old_title).contains(&perl.id));

    // An item status change moves the record in and out of "on the shelf at CPL".
    let items = lib.db.items(&ItemFilter { bib_id: Some(perl.id), ..Default::default() }, Page::default()).unwrap();
    assert!(!items.is_empty());
    let on_shelf = |lib: &Library| {
        let request = SearchRequest {
            filters: vec![FacetFilter { facet: FacetName::Availability, value: String::new() }],
            ..SearchRequest::new("zyxwvut")
        };
        lib.index.search(&request).unwrap().total
    };
    for item in &items {
        let mut changed = item.item.clone();
        changed.status = ItemStatus::CheckedOut;
        lib.db.update_item(item.id, &changed).unwrap();
    }
    follower.catch_up().unwrap();
    assert_eq!(on_shelf(&lib), 0);
    let mut back = items[0].item.clone();
    back.status = ItemStatus::Available;
    lib.db.update_item(items[0].id, &back).unwrap();
    follower.catch_up().unwrap();
    assert_eq!(on_shelf(&lib), 1);

    // Deleting the items, then the record: gone from the index.
    for item in &items {
        lib.db.delete_item(item.id).unwrap();
    }
    follower.catch_up().unwrap();
    let r = lib.index.search(&SearchRequest { facet_limit: 100, ..SearchRequest::new("zyxwvut") }).unwrap();
    assert!(r.facets.iter().all(|f| f.facet != FacetName::Branch), "{:?}", r.facets);
    lib.db.delete_record(perl.id).unwrap();
    follower.catch_up().unwrap();
    assert!(lib.ids("zyxwvut").is_empty());

    // A restart resumes from the checkpoint in the commit payload.
    let checkpoint = lib.index.checkpoint();
    let dir = lib.index.dir().to_path_buf();
    let Library { db, index, dir: _tmp } = lib;
    drop(follower);
    drop(index);
    let index = Arc::new(SearchIndex::open(&dir, IndexSettings::default()).unwrap());
    assert_eq!(index.checkpoint(), checkpoint);
    let follower = Follower::new(index.clone(), db.clone());
    assert_eq!(follower.poll_once().unwrap(), 0, "nothing to re-apply");
    let c = db
        .records(
            &RecordFilter { title: Some("The C programming language".into()), ..Default::default() },
            Page::default(),
        )
        .unwrap()
        .remove(0);
    let mut marc = marc::iso2709::read_one(&c.marc).unwrap();
    marc.push_data(marc::DataField::new(marc::Tag::parse("500").unwrap(), ' ', ' ').with('a', "Qwertyuiop note."));
    db.update_record(c.id, &import::prepare_record(marc).unwrap()).unwrap();
    assert_eq!(follower.poll_once().unwrap(), 1, "exactly the one new change");
    let hits = index.search(&SearchRequest::new("qwertyuiop")).unwrap();
    assert_eq!(hits.hits[0].record_id, c.id);
}

#[test]
fn background_follower_makes_changes_searchable_within_a_second() {
    let lib = koha();
    let handle = lib.follower().spawn(std::time::Duration::from_millis(100)).unwrap();
    let c = lib.record_titled("The C programming language");
    let mut marc = marc::iso2709::read_one(&c.marc).unwrap();
    marc.push_data(marc::DataField::new(marc::Tag::parse("500").unwrap(), ' ', ' ').with('a', "Plokijuh note."));
    let written = std::time::Instant::now();
    lib.db.update_record(c.id, &import::prepare_record(marc).unwrap()).unwrap();
    while lib.ids("plokijuh").is_empty() {
        assert!(written.elapsed() < std::time::Duration::from_secs(5), "not searchable after 5 s");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let took = written.elapsed();
    assert!(handle.last_error().is_none());
    handle.stop();
    println!("change searchable after {took:?}");
    assert!(took < std::time::Duration::from_secs(1), "{took:?}");
}

#[test]
fn rebuild_swaps_in_a_fresh_index_while_the_old_one_serves() {
    let lib = koha();
    let before = lib.search("programming").total;
    let old_reader = lib.index.clone();
    let mut ticks = Vec::new();
    let report = lib
        .index
        .rebuild(&*lib.db, &mut |p| {
            // The old index answers while the new one is built.
            if ticks.is_empty() {
                assert_eq!(old_reader.search(&SearchRequest::new("programming")).unwrap().total, before);
            }
            ticks.push(p);
        })
        .unwrap();
    assert_eq!(report.records, lib.db.count_records().unwrap());
    assert!(ticks.len() >= 2);
    assert_eq!(lib.search("programming").total, before);
    assert_eq!(lib.index.checkpoint(), report.checkpoint);
    assert_eq!(lib.follower().catch_up().unwrap(), 0);

    // Another process's view (a server) switches to the new generation on refresh.
    let other = SearchIndex::open(lib.index.dir(), IndexSettings::default()).unwrap();
    let second = lib.index.rebuild(&*lib.db, &mut |_| {}).unwrap();
    assert!(other.refresh().unwrap());
    assert_eq!(other.search(&SearchRequest::new("programming")).unwrap().total, before);
    // The rebuilt index's segments were merged into one after its commit: the commit's
    // checkpoint survives the merge, so a restart resumes from it.
    let restarted = SearchIndex::open(lib.index.dir(), IndexSettings::default()).unwrap();
    assert_eq!(restarted.checkpoint(), second.checkpoint);
}

/// Records with alternate-script 880 fields and diacritics, from the LC sample, are found by
/// their own script and by the folded spelling.
#[test]
fn lc_sample_scripts_and_diacritics() {
    let lib = Library::new();
    lib.import("lc-books-2016/lc-books-2016-sample.mrc");
    lib.index.rebuild(&*lib.db, &mut |_| {}).unwrap();

    let mut han = None;
    let mut cyrillic = None;
    let mut hebrew = None;
    let mut arabic = None;
    let mut accented = None;
    let mut after = 0;
    'scan: loop {
        let page = lib.db.records(&RecordFilter::default(), Page { after, limit: 500 }).unwrap();
        if page.is_empty() {
            break;
        }
        after = page.last().unwrap().id;
        for rec in page {
            let marc = marc::iso2709::read_one(&rec.marc).unwrap();
            for f in marc.data_fields("880") {
                if f.subfield('6').is_some_and(|l| l.starts_with("245")) {
                    let title = f.subfield('a').unwrap_or("").trim_end_matches([' ', '/', ':', ';', '.']).to_string();
                    let first = title.chars().next().unwrap_or(' ');
                    let slot = match first as u32 {
                        0x4E00..=0x9FFF => &mut han,
                        0x0400..=0x04FF => &mut cyrillic,
                        0x05D0..=0x05EA => &mut hebrew,
                        0x0620..=0x064A => &mut arabic,
                        _ => continue,
                    };
                    if slot.is_none() && title.chars().count() >= 3 {
                        *slot = Some((rec.id, title));
                    }
                }
            }
            if accented.is_none() && rec.derived.title.chars().any(|c| matches!(c, 'é' | 'ë' | 'ü' | 'ñ' | 'ç' | 'ö'))
            {
                accented = Some((rec.id, rec.derived.title.clone()));
            }
            if han.is_some() && cyrillic.is_some() && hebrew.is_some() && arabic.is_some() && accented.is_some() {
                break 'scan;
            }
        }
    }
    for (script, found) in [("Han", &han), ("Cyrillic", &cyrillic), ("Hebrew", &hebrew), ("Arabic", &arabic)] {
        let (id, title) = found.clone().unwrap_or_else(|| panic!("no {script} 880 title in the LC sample"));
        let hits = lib.ids(&format!("\"{title}\""));
        assert!(hits.contains(&id), "{script}: {title} -> {hits:?}");
    }
    let (id, title) = accented.unwrap();
    let folded: String = title
        .chars()
        .map(|c| match c {
            'é' => 'e',
            'ë' => 'e',
            'ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            'ö' => 'o',
            c => c,
        })
        .collect();
    let hits = lib.ids(&folded.replace([':', '/', '"', '(', ')', '-'], " "));
    assert!(hits.contains(&id), "{folded} -> {hits:?}");
}

/// A record as a cataloger would make it: leader, 008 (with its form of item), 100 and 245.
fn crafted(title: &str, author: Option<&str>, large_print: bool) -> storage::NewRecord {
    import::prepare_record(crafted_marc(title, author, large_print)).expect("a bibliographic record")
}

fn crafted_marc(title: &str, author: Option<&str>, large_print: bool) -> marc::Record {
    let mut record = marc::Record::new(marc::Leader::from_bytes(*b"00000nam a2200000 a 4500"));
    let mut f008: Vec<u8> = b"200101s2001    xxu           000 1 eng d".to_vec();
    if large_print {
        f008[23] = b'd';
    }
    record.push_control(marc::Tag::parse("008").expect("tag"), String::from_utf8(f008).expect("ASCII"));
    if let Some(a) = author {
        record.push_data(marc::DataField::new(marc::Tag::parse("100").expect("tag"), '1', ' ').with('a', a));
    }
    let nonfiling = if title.starts_with("The ") { '4' } else { '0' };
    record.push_data(marc::DataField::new(marc::Tag::parse("245").expect("tag"), '1', nonfiling).with('a', title));
    record
}

#[test]
fn stop_words_stemming_folding_and_format_preference() {
    let lib = Library::new();
    let add =
        |title: &str, author: Option<&str>, large: bool| lib.db.create_record(&crafted(title, author, large)).unwrap();
    // The large-print edition is catalogued first (smaller id): preference, not id, must decide.
    let pride_large = add("Pride and prejudice", Some("Austen, Jane"), true);
    let pride = add("Pride and prejudice", Some("Austen, Jane"), false);
    let the_the = add("The The", Some("Johnson, Matt"), false);
    let _the_things = add("The things they carried", Some("O'Brien, Tim"), false);
    let it = add("It", Some("King, Stephen"), false);
    let _it_ends = add("It ends with us", Some("Hoover, Colleen"), false);
    let apples = add("Apples of gold", None, false);
    let appling = add("The Appling family history", None, false);
    let eyre = add("Jane Eyre", Some("Brontë, Charlotte"), false);
    let espace = add("L'espace judiciaire européen", None, false);
    lib.follower().catch_up().unwrap();

    assert_eq!(lib.search("The The").hits[0].record_id, the_the);
    assert_eq!(lib.search("it").hits[0].record_id, it);
    assert_eq!(lib.ids("apples"), vec![apples]);
    assert_eq!(lib.ids("apple"), vec![apples]);
    assert!(!lib.ids("apples").contains(&appling));
    assert_eq!(lib.ids("appling"), vec![appling]);
    assert_eq!(lib.ids("bronte"), vec![eyre]);
    assert_eq!(lib.ids("Brontë eyre"), vec![eyre]);
    assert_eq!(lib.ids("author:bronte"), vec![eyre]);
    assert_eq!(lib.ids("espace europeen"), vec![espace]);
    assert_eq!(lib.ids("l'espace"), vec![espace]);
    assert!(lib.ids("obrien").len() == 1 && lib.ids("o'brien carried").len() == 1);

    let pride_hits = lib.ids("pride and prejudice");
    assert_eq!(pride_hits, vec![pride, pride_large], "regular print ahead of large print");
    let prefer_large = SearchIndex::open(
        lib.dir.path().join("index"),
        IndexSettings { format_preference: vec![catalog::Format::LargePrint], ..IndexSettings::default() },
    )
    .unwrap();
    let hits: Vec<i64> = prefer_large
        .search(&SearchRequest::new("pride and prejudice"))
        .unwrap()
        .hits
        .iter()
        .map(|h| h.record_id)
        .collect();
    assert_eq!(hits, vec![pride_large, pride], "the preference is the library's to set");
}

/// A two-word phrase is searched by the pair of words in a heading (`<field>_pairs`) and by
/// positions elsewhere: either way it finds the words side by side and in order, in the field
/// asked, never across two headings; longer phrases go by positions.
#[test]
fn two_word_phrases_find_the_words_side_by_side() {
    let lib = Library::new();
    let add = |title: &str, author: Option<&str>| lib.db.create_record(&crafted(title, author, false)).unwrap();
    let beside = add("The United States in world affairs", None);
    let apart = add("States of the union: united we stand", None);
    let espace = add("L'espace judiciaire européen", None);
    let by = add("Letters home", Some("States, United"));
    let with_subjects = |title: &str, subjects: &[&str]| {
        let mut record = crafted_marc(title, None, false);
        for subject in subjects {
            let field = marc::DataField::new(marc::Tag::parse("650").expect("tag"), ' ', '0').with('a', *subject);
            record.push_data(field);
        }
        lib.db.create_record(&import::prepare_record(record).expect("a bibliographic record")).unwrap()
    };
    let women = with_subjects("Working lives", &["Women -- United States", "Social conditions"]);
    let rights = with_subjects("Federalism", &["States' rights", "United Nations"]);
    lib.follower().catch_up().unwrap();

    assert_eq!(lib.ids("subject:\"united states\""), vec![women]);
    assert_eq!(lib.ids("subject:\"rights united\""), Vec::<i64>::new(), "two headings are not one phrase");
    assert_eq!(lib.ids("subject:\"women united\""), vec![women], "subdivisions run on");
    assert!(lib.ids("\"united states\"").contains(&women));
    assert!(!lib.ids("\"united states\"").contains(&rights));

    assert_eq!(lib.ids("title:\"united states\""), vec![beside]);
    let mut both = lib.ids("\"UNITED  STATES\"");
    both.sort_unstable();
    assert_eq!(both, vec![beside, women]);
    assert_eq!(lib.ids("\"states united\""), vec![by], "in order: the author's heading reads so");
    assert_eq!(lib.ids("title:\"united states\""), vec![beside]);
    assert_eq!(lib.ids("title:\"states united\""), Vec::<i64>::new());
    assert_eq!(lib.ids("author:\"states united\""), vec![by]);
    assert_eq!(lib.ids("\"united we\""), vec![apart]);
    assert_eq!(lib.ids("\"lespace judiciaire\""), vec![espace]);
    assert_eq!(lib.ids("\"l'espace judiciaire\""), vec![espace]);
    assert_eq!(lib.ids("\"united states in\""), vec![beside], "three words: by positions");
    assert_eq!(lib.ids("\"union united\""), vec![apart], "punctuation between words is no gap");
    assert!(lib.ids("united states").contains(&apart), "without quotes, the words anywhere");
}

/// The explicit criteria SRU's CQL maps to ([`search::structured`]) agree with the query
/// language on what both can say, and add what only CQL says: masking, whole titles, record
/// ids, year comparisons; pages are stable; scan lists the index's terms with live counts.
#[test]
fn structured_criteria_and_scan_on_the_koha_sample() {
    use search::query::SearchField;
    use search::structured::{Criterion, Mask, Target};
    use std::ops::Bound;

    let lib = koha();
    let everything = lib.index.len() as usize;
    let find = |c: &Criterion| lib.index.find(c, 0, 1000).unwrap();
    let words = |field: SearchField, text: &str| Criterion::Words { target: Target::Field(field), text: text.into() };
    let lit = |s: &str| Mask::Literal(s.into());

    // A plain word finds what the query language finds.
    let perl = find(&words(SearchField::Title, "perl"));
    assert!(perl.total > 3, "{perl:?}");
    assert_eq!(perl.total, lib.search("title:perl").total);
    let keywords = find(&Criterion::Words { target: Target::Keywords, text: "perl".into() });
    assert_eq!(keywords.total, lib.search("perl").total);

    // A masked word finds at least every record of the word, and words the word does not.
    let masked = find(&Criterion::MaskedWord {
        target: Target::Field(SearchField::Title),
        pattern: vec![lit("Pe"), Mask::AnyChars],
    });
    assert!(masked.total > perl.total, "{} vs {}", masked.total, perl.total);
    assert!(perl.record_ids.iter().all(|id| masked.record_ids.contains(id)));
    let one_char = find(&Criterion::MaskedWord {
        target: Target::Field(SearchField::Title),
        pattern: vec![lit("pe"), Mask::OneChar, lit("l")],
    });
    assert!(perl.record_ids.iter().all(|id| one_char.record_ids.contains(id)));

    // The whole title, exactly or as a start; a title word alone is not the whole title.
    let practices = lib.record_titled("Perl best practices");
    let whole = find(&Criterion::WholeTitle { pattern: vec![lit("Perl best practices")] });
    assert_eq!(whole.record_ids, vec![practices.id]);
    assert_eq!(find(&Criterion::WholeTitle { pattern: vec![lit("Perl")] }).total, 0);
    let starts = find(&Criterion::WholeTitle { pattern: vec![lit("perl best "), Mask::AnyChars] });
    assert!(starts.record_ids.contains(&practices.id));

    // Record ids, years, booleans.
    assert_eq!(find(&Criterion::RecordId(practices.id)).record_ids, vec![practices.id]);
    assert_eq!(find(&Criterion::RecordId(-1)).total, 0);
    let years = find(&Criterion::Years { from: Bound::Included(2000), to: Bound::Excluded(2005) });
    assert_eq!(years.total, lib.search("year:2000-2004").total);
    assert!(years.total > 0);
    let not_perl = find(&Criterion::Not {
        include: Box::new(Criterion::All),
        exclude: Box::new(words(SearchField::Title, "perl")),
    });
    assert_eq!(not_perl.total, everything - perl.total);
    let both = Criterion::And(vec![words(SearchField::Title, "perl"), words(SearchField::Title, "practices")]);
    assert!(find(&both).record_ids.contains(&practices.id));
    let either = Criterion::Or(vec![words(SearchField::Title, "perl"), words(SearchField::Title, "programming")]);
    assert!(find(&either).total > perl.total);

    // Pages of 7 put together are the whole list, in the same order.
    let all = lib.index.find(&Criterion::All, 0, 1000).unwrap();
    assert_eq!(all.total, everything);
    let mut paged = Vec::new();
    for offset in (0..everything).step_by(7) {
        paged.extend(lib.index.find(&Criterion::All, offset, 7).unwrap().record_ids);
    }
    assert_eq!(paged, all.record_ids);
    assert_eq!(
        lib.index.find(&Criterion::All, 0, 0).unwrap(),
        search::structured::Found { total: everything, record_ids: vec![] }
    );

    // Scan: terms in order from the start term, with counts a search confirms.
    let terms = lib.index.scan(SearchField::Title, "Perl", 0, 5).unwrap();
    assert_eq!(terms.len(), 5);
    assert_eq!(terms[0].term, "perl");
    assert_eq!(terms[0].records as usize, perl.total);
    assert!(terms.windows(2).all(|w| w[0].term < w[1].term), "{terms:?}");
    for t in &terms {
        assert_eq!(
            t.records as usize,
            find(&Criterion::MaskedWord { target: Target::Field(SearchField::Title), pattern: vec![lit(&t.term)] })
                .total,
            "{t:?}"
        );
    }
    // Two terms before the start, then the start.
    let around = lib.index.scan(SearchField::Title, "perl", 2, 5).unwrap();
    assert_eq!(around.len(), 5);
    assert!(around[1].term.as_str() < "perl");
    assert_eq!(around[2..], terms[..3]);
    // Identifiers scan by key.
    let isbns = lib.index.scan(SearchField::Isbn, "", 0, 3).unwrap();
    assert_eq!(isbns.len(), 3);
    assert!(isbns.iter().all(|t| t.term.len() == 13 && t.term.starts_with("97")), "{isbns:?}");
}

/// "Did you mean" on the LC sample: misspelt words are corrected to the index's own words (a
/// swapped pair of letters and a dropped letter are one edit each), the correction is offered
/// only when it finds something, and what is typed correctly or as syntax is left alone.
#[test]
fn did_you_mean_corrects_misspellings_from_the_index() {
    let lib = Library::new();
    lib.import("lc-books-2016/lc-books-2016-sample.mrc");
    lib.index.rebuild(&*lib.db, &mut |_| {}).unwrap();

    for (typed, meant) in [("hemingwya", "hemingway"), ("histroy of englnd", "history of england")] {
        assert_eq!(lib.search(typed).total, 0, "{typed}");
        let offered = lib.index.did_you_mean(typed).unwrap();
        assert_eq!(offered.as_deref(), Some(meant), "{typed}");
        assert!(lib.search(meant).total > 0, "{meant}");
    }
    // A correction that would find nothing either is not offered: no Hemingway record here is
    // about history.
    assert_eq!(lib.search("hemingway history").total, 0);
    assert_eq!(lib.index.did_you_mean("hemingway histroy").unwrap(), None);
    // Words the index holds need no correction.
    assert_eq!(lib.index.did_you_mean("history of england").unwrap(), None);
    // Nothing within two edits.
    assert_eq!(lib.index.did_you_mean("qqqqzzzzxxxx").unwrap(), None);
    // Field searches and phrases are kept as typed, so there is nothing to offer.
    assert_eq!(lib.index.did_you_mean("author:hemingwya").unwrap(), None);
    assert_eq!(lib.index.did_you_mean("\"hemingwya\"").unwrap(), None);
}
