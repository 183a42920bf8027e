//! How the follower batches the change feed: chunks read in bulk, batches cut by count or by
//! time, and the checkpoint of each commit covering exactly what the index holds. Records are
//! made up here, each with a title word of its own, so a search counts its documents.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use catalog::{Barcode, Branch, Code, ItemStatus, ItemType, NewItem};
use search::{Follower, IndexSettings, SearchIndex, SearchRequest};
use storage::{Database, SqliteOptions, StorageConfig};

struct Library {
    db: Arc<dyn Database>,
    index: Arc<SearchIndex>,
    _dir: tempfile::TempDir,
}

fn library() -> Library {
    let dir = tempfile::tempdir().unwrap();
    let db = storage::open(&StorageConfig::Sqlite(SqliteOptions::new(dir.path().join("db")))).unwrap();
    let index = Arc::new(SearchIndex::open(dir.path().join("index"), IndexSettings::default()).unwrap());
    Library { db, index, _dir: dir }
}

fn record(word: &str) -> storage::NewRecord {
    let mut record = marc::Record::new(marc::Leader::new_bibliographic());
    record.push(marc::Field::Control(marc::ControlField {
        tag: marc::Tag::parse("008").unwrap(),
        value: "200101s2020    nyu           000 1 eng d".into(),
    }));
    record.push(marc::Field::Data(
        marc::DataField::new(marc::Tag::parse("245").unwrap(), '1', '0').with('a', format!("Volume {word}")),
    ));
    import::prepare_record(record).unwrap()
}

fn word(n: usize) -> String {
    // Letters only, so the analyzer keeps each as one word.
    let letters: String = n.to_string().bytes().map(|b| (b'a' + (b - b'0')) as char).collect();
    format!("qz{letters}")
}

fn hits(index: &SearchIndex, query: &str) -> usize {
    index.search(&SearchRequest::new(query)).unwrap().total
}

fn item(barcode: &str) -> NewItem {
    NewItem {
        barcode: Barcode::parse(barcode).unwrap(),
        home_branch: Code::parse("MAIN").unwrap(),
        holding_branch: Code::parse("MAIN").unwrap(),
        location: None,
        collection: None,
        call_number: None,
        item_type: Code::parse("BK").unwrap(),
        price: None,
        public_note: None,
        staff_note: None,
        materials_specified: None,
        status: ItemStatus::Available,
        acquired_on: None,
    }
}

#[test]
fn a_batch_cut_by_time_still_applies_every_change_exactly_once() {
    let lib = library();
    let ids: Vec<i64> = (0..1200).map(|n| lib.db.create_record(&record(&word(n))).unwrap()).collect();
    // A zero time limit commits after every chunk of the feed read.
    let follower = Follower::new(lib.index.clone(), lib.db.clone()).with_batch_limits(10_000, Duration::ZERO);
    let mut batches = Vec::new();
    loop {
        let n = follower.poll_once().unwrap();
        if n == 0 {
            break;
        }
        batches.push(n);
        // Each commit's checkpoint covers what was applied, and no more.
        let lag = follower.lag().unwrap();
        assert_eq!(lag.pending as usize, 1200 - batches.iter().sum::<usize>(), "{lag:?}");
        assert_eq!(lib.index.len() as usize, batches.iter().sum::<usize>());
    }
    assert!(batches.len() > 1, "the time limit split the feed: {batches:?}");
    assert_eq!(batches.iter().sum::<usize>(), 1200);
    assert_eq!(lib.index.len(), 1200);
    for n in [0, 499, 500, 501, 1199] {
        assert_eq!(hits(&lib.index, &format!("title:{}", word(n))), 1, "record {}", ids[n]);
    }
    let lag = follower.lag().unwrap();
    assert_eq!((lag.pending, lag.applied), (0, lag.database));
}

#[test]
fn a_batch_cut_by_count_commits_that_many_changes() {
    let lib = library();
    for n in 0..250 {
        lib.db.create_record(&record(&word(n))).unwrap();
    }
    let follower = Follower::new(lib.index.clone(), lib.db.clone()).with_batch_limits(100, Duration::from_secs(60));
    assert_eq!(follower.poll_once().unwrap(), 100);
    assert_eq!(lib.index.len(), 100);
    assert_eq!(follower.poll_once().unwrap(), 100);
    assert_eq!(follower.poll_once().unwrap(), 50);
    assert_eq!(follower.poll_once().unwrap(), 0);
    assert_eq!(lib.index.len(), 250);
}

#[test]
fn a_record_changed_in_two_chunks_of_one_batch_is_indexed_once_as_it_ends() {
    let lib = library();
    let first = lib.db.create_record(&record("qzoriginal")).unwrap();
    for n in 0..600 {
        lib.db.create_record(&record(&word(n))).unwrap();
    }
    // The first record's creation is in the feed's first chunk, its edit in the second.
    lib.db.update_record(first, &record("qzedited")).unwrap();
    let follower = Follower::new(lib.index.clone(), lib.db.clone());
    assert_eq!(follower.poll_once().unwrap(), 602, "one batch");
    assert_eq!(lib.index.len(), 601);
    assert_eq!(hits(&lib.index, "title:qzedited"), 1);
    assert_eq!(hits(&lib.index, "title:qzoriginal"), 0);
}

#[test]
fn deletes_and_re_adds_within_one_batch_end_as_the_database_does() {
    let lib = library();
    lib.db.upsert_branch(&Branch { code: Code::parse("MAIN").unwrap(), name: "Main".into() }).unwrap();
    lib.db
        .upsert_item_type(&ItemType { code: Code::parse("BK").unwrap(), name: "Book".into(), loanable: true })
        .unwrap();
    let kept = lib.db.create_record(&record("qzkept")).unwrap();
    let old_copy = lib.db.create_item(kept, &item("OLD1")).unwrap();
    let gone = lib.db.create_record(&record("qzgone")).unwrap();
    let follower = Follower::new(lib.index.clone(), lib.db.clone());
    follower.catch_up().unwrap();
    assert_eq!(hits(&lib.index, "title:qzgone"), 1);

    // In one batch: the record deleted and the same title catalogued again as a new record;
    // the kept record's only copy deleted and a new one added; a record created and deleted
    // before the follower ever saw it.
    lib.db.delete_record(gone).unwrap();
    let again = lib.db.create_record(&record("qzgone")).unwrap();
    lib.db.delete_item(old_copy).unwrap();
    let new_copy = lib.db.create_item(kept, &item("NEW1")).unwrap();
    let fleeting = lib.db.create_record(&record("qzfleeting")).unwrap();
    lib.db.delete_record(fleeting).unwrap();
    assert_eq!(follower.poll_once().unwrap(), 6, "one batch");

    let found = lib.index.search(&SearchRequest::new("title:qzgone")).unwrap();
    assert_eq!(found.hits.iter().map(|h| h.record_id).collect::<Vec<_>>(), vec![again]);
    assert_eq!(hits(&lib.index, "title:qzfleeting"), 0);
    assert_eq!(lib.index.len(), 2);
    // The kept record is still there, filed under its new copy's id and not the old one's: a
    // later change to the new copy finds its record through the database, one to the old copy
    // (already gone) finds nothing.
    assert_eq!(hits(&lib.index, "title:qzkept"), 1);
    let mut moved = item("NEW1");
    moved.status = ItemStatus::CheckedOut;
    lib.db.update_item(new_copy, &moved).unwrap();
    assert_eq!(follower.poll_once().unwrap(), 1);
    assert_eq!(hits(&lib.index, "title:qzkept"), 1);
}

#[test]
fn the_running_follower_wakes_on_a_commit_rather_than_at_its_next_poll() {
    let lib = library();
    lib.db.create_record(&record("qzbefore")).unwrap();
    // An hour between polls: only the database's change signal can make the next write
    // searchable within the test's time.
    let handle = Follower::new(lib.index.clone(), lib.db.clone()).spawn(Duration::from_secs(3600)).unwrap();
    let wait_for = |query: &str| {
        let started = std::time::Instant::now();
        while hits(&lib.index, query) == 0 {
            assert!(started.elapsed() < Duration::from_secs(60), "{query} not searchable after 60 s");
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    wait_for("title:qzbefore");
    // The follower is idle now, waiting; each write wakes it.
    for n in 0..3 {
        lib.db.create_record(&record(&word(n))).unwrap();
        wait_for(&format!("title:{}", word(n)));
    }
    assert!(handle.last_error().is_none());
    // Stopping does not wait for the hour either.
    handle.stop();
}

#[test]
fn a_staff_edit_is_indexed_ahead_of_an_imports_backlog() {
    let lib = library();
    // An import's backlog: 3,000 records in six batches, all bulk changes.
    let mut imported = Vec::new();
    for b in 0..6 {
        let batch: Vec<storage::ImportCandidate> = (0..500)
            .map(|n| storage::ImportCandidate { record: record(&word(b * 500 + n)), items: Vec::new() })
            .collect();
        for outcome in lib.db.import_batch(&batch, storage::OnMatch::Add).unwrap() {
            match outcome {
                storage::ImportOutcome::Added { id, .. } => imported.push(id),
                other => panic!("{other:?}"),
            }
        }
    }
    // Behind it in the feed: a cataloger corrects the last imported record and adds one by hand.
    let last = imported[2999];
    lib.db.update_record(last, &record("qzcorrected")).unwrap();
    lib.db.create_record(&record("qzbyhand")).unwrap();

    // The batch limits would take the whole feed at once; the two changes are committed alone,
    // ahead of the backlog, so they wait behind none of it.
    let follower = Follower::new(lib.index.clone(), lib.db.clone()).with_batch_limits(10_000, Duration::from_secs(60));
    let lag = follower.lag().unwrap();
    assert_eq!((lag.pending, lag.pending_outside_imports), (3002, 2));
    assert_eq!(follower.poll_once().unwrap(), 2);
    assert_eq!(hits(&lib.index, "title:qzbyhand"), 1);
    assert_eq!(hits(&lib.index, "title:qzcorrected"), 1);
    assert_eq!(hits(&lib.index, &format!("title:{}", word(2999))), 0, "the correction, not the import");
    assert_eq!(hits(&lib.index, &format!("title:{}", word(0))), 0, "nothing of the backlog yet");
    assert_eq!(lib.index.len(), 2);
    // The checkpoint has not moved: the lag counts the whole backlog and the two behind it, of
    // which none waits any more.
    let lag = follower.lag().unwrap();
    assert_eq!((lag.pending, lag.pending_outside_imports), (3002, 0));
    // Behind an import a batch is a thousand changes at first, whatever the limits allow.
    assert_eq!(follower.backlog_batch(), 1000);
    assert_eq!(follower.poll_once().unwrap(), 1000);
    assert_eq!(hits(&lib.index, &format!("title:{}", word(999))), 1);
    assert_eq!(hits(&lib.index, &format!("title:{}", word(1000))), 0);
    // The next is sized from that one's pace. Set as a busy machine's pace would set it, it
    // holds exactly that many, though the feed is read in chunks of 500.
    let next = follower.backlog_batch();
    assert!((50..=1000).contains(&next), "{next}");
    follower.set_backlog_batch(300);
    let n = follower.poll_once().unwrap();
    assert_eq!(n, 300);
    assert_eq!(hits(&lib.index, &format!("title:{}", word(1299))), 1);
    assert_eq!(hits(&lib.index, &format!("title:{}", word(1300))), 0);

    // When the backlog reaches the two changes it passes them: every change is applied once, and
    // the corrected record keeps its correction though its import comes after in the batch.
    let mut applied = 1002 + n;
    loop {
        let n = follower.poll_once().unwrap();
        if n == 0 {
            break;
        }
        applied += n;
    }
    assert_eq!(applied, 3002);
    assert_eq!(lib.index.len(), 3001);
    assert_eq!(hits(&lib.index, "title:qzcorrected"), 1);
    assert_eq!(hits(&lib.index, &format!("title:{}", word(2999))), 0);
    assert_eq!(hits(&lib.index, &format!("title:{}", word(2998))), 1);
    assert_eq!(follower.lag().unwrap().pending, 0);
}
