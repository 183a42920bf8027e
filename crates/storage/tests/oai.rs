//! What the OAI-PMH provider reads, on every backend: records and tombstones in (datestamp, id)
//! order from a position, from/until, sets from items, tombstones written by deletes, the token
//! key kept across restarts.

mod common;

use catalog::{Barcode, BibDerived, Branch, Code, ItemStatus, ItemType, NewItem, ShelvingLocation};
use common::Harness;
use storage::oai::{OaiPosition, OaiQuery, OaiRecord, OaiSet};
use storage::{Database, NewRecord, StorageError};

suite! {
    db: [
        lists_run_in_datestamp_order_from_a_position,
        from_and_before_select_by_datestamp,
        sets_come_from_items,
        a_copy_joining_a_set_redates_its_record,
        deleting_a_record_leaves_a_tombstone,
        earliest_datestamp,
    ],
    harness: [token_key_survives_a_restart],
}

fn code(s: &str) -> Code {
    Code::parse(s).expect("code")
}

fn record(title: &str) -> NewRecord {
    let derived = BibDerived { title: title.into(), ..BibDerived::default() };
    let mut marc = b"00000nam a2200000 a 4500".to_vec();
    marc.extend(title.as_bytes());
    marc.push(0x1d);
    NewRecord { marc, derived, row: None }
}

fn item(barcode: &str, branch: &str, location: Option<&str>) -> NewItem {
    NewItem {
        barcode: Barcode::parse(barcode).expect("barcode"),
        home_branch: code(branch),
        holding_branch: code(branch),
        location: location.map(code),
        collection: None,
        call_number: None,
        item_type: code("BK"),
        price: None,
        public_note: None,
        staff_note: None,
        materials_specified: None,
        status: ItemStatus::Available,
        acquired_on: None,
    }
}

fn setup(db: &dyn Database) {
    for (c, name) in [("MAIN", "Main Library"), ("EAST", "East Branch")] {
        db.upsert_branch(&Branch { code: code(c), name: name.into() }).expect("branch");
    }
    db.upsert_location(&ShelvingLocation { code: code("REF"), name: "Reference".into() }).expect("location");
    db.upsert_item_type(&ItemType { code: code("BK"), name: "Book".into(), loanable: true }).expect("type");
}

/// Every record and tombstone the query selects, read `page` at a time from the start.
fn walk(db: &dyn Database, query: &OaiQuery, page: u32, with_marc: bool) -> (Vec<OaiRecord>, u64) {
    let mut out: Vec<OaiRecord> = Vec::new();
    let mut total = None;
    loop {
        let after = out.last().map(|r| OaiPosition { datestamp: r.datestamp, id: r.id });
        let p = db.oai_page(query, after.as_ref(), page, total.is_none(), with_marc).expect("page");
        assert!(p.records.len() <= page as usize);
        if total.is_none() {
            total = p.total;
            assert!(total.is_some(), "count asked for on the first page");
        } else {
            assert_eq!(p.total, None, "count only when asked");
        }
        let done = p.records.len() < page as usize;
        out.extend(p.records);
        if done {
            break;
        }
    }
    (out, total.unwrap_or(0))
}

fn ids(records: &[OaiRecord]) -> Vec<i64> {
    records.iter().map(|r| r.id).collect()
}

fn lists_run_in_datestamp_order_from_a_position(db: &dyn Database) {
    setup(db);
    let created: Vec<i64> = (0..7).map(|i| db.create_record(&record(&format!("Title {i}"))).expect("create")).collect();
    // Updating the second moves it to the end; deleting the fourth leaves a tombstone after it.
    db.update_record(created[1], &record("Title 1, second edition")).expect("update");
    db.delete_record(created[3]).expect("delete");
    let (all, total) = walk(db, &OaiQuery::default(), 2, true);
    assert_eq!(total, 7);
    assert_eq!(ids(&all), [created[0], created[2], created[4], created[5], created[6], created[1], created[3]]);
    assert!(all.windows(2).all(|w| (w[0].datestamp, w[0].id) < (w[1].datestamp, w[1].id)));
    let deleted: Vec<bool> = all.iter().map(|r| r.deleted).collect();
    assert_eq!(deleted, [false, false, false, false, false, false, true]);
    // MARC as stored, when asked for; never for a tombstone.
    let updated = all.iter().find(|r| r.id == created[1]).expect("updated");
    assert_eq!(updated.marc.as_deref(), Some(record("Title 1, second edition").marc.as_slice()));
    assert_eq!(all.last().expect("tombstone").marc, None);
    let (bare, _) = walk(db, &OaiQuery::default(), 3, false);
    assert_eq!(ids(&bare), ids(&all));
    assert!(bare.iter().all(|r| r.marc.is_none()));
    // The datestamp is the record's updated_at.
    let stored = db.record(created[1]).expect("read").expect("exists");
    assert_eq!(storage_time(&stored.updated_at), updated.datestamp);
}

fn storage_time(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s).expect("time").with_timezone(&chrono::Utc)
}

fn from_and_before_select_by_datestamp(db: &dyn Database) {
    setup(db);
    for i in 0..6 {
        db.create_record(&record(&format!("Title {i}"))).expect("create");
    }
    let first = db.create_record(&record("To delete")).expect("create");
    db.delete_record(first).expect("delete");
    let (all, _) = walk(db, &OaiQuery::default(), 100, false);
    assert_eq!(all.len(), 7);
    let from = all[2].datestamp;
    let before = all[6].datestamp;
    let (window, total) = walk(db, &OaiQuery { from: Some(from), before: Some(before), set: None }, 2, false);
    let expected: Vec<i64> = all.iter().filter(|r| r.datestamp >= from && r.datestamp < before).map(|r| r.id).collect();
    assert_eq!(ids(&window), expected);
    assert_eq!(total, expected.len() as u64);
    // The tombstone is the last datestamp: `from` it alone selects it.
    let (last, total) = walk(db, &OaiQuery { from: Some(before), before: None, set: None }, 5, false);
    assert_eq!((ids(&last), total), (vec![first], 1));
    assert!(last[0].deleted);
    let (none, total) = walk(db, &OaiQuery { from: None, before: Some(all[0].datestamp), set: None }, 5, false);
    assert_eq!((none.len(), total), (0, 0));
}

fn sets_come_from_items(db: &dyn Database) {
    setup(db);
    let main = db.create_record(&record("At main")).expect("create");
    let both = db.create_record(&record("At both, in reference")).expect("create");
    let none = db.create_record(&record("No items")).expect("create");
    let gone = db.create_record(&record("Deleted")).expect("create");
    db.create_item(main, &item("1001", "MAIN", None)).expect("item");
    db.create_item(both, &item("1002", "EAST", Some("REF"))).expect("item");
    db.create_item(both, &item("1003", "MAIN", None)).expect("item");
    db.create_item(both, &item("1004", "MAIN", Some("REF"))).expect("item");
    db.delete_record(gone).expect("delete");
    let select = |set: OaiSet| {
        let (records, total) = walk(db, &OaiQuery { from: None, before: None, set: Some(set) }, 1, false);
        assert_eq!(total, records.len() as u64);
        ids(&records)
    };
    assert_eq!(select(OaiSet::AnyBranch), [main, both]);
    assert_eq!(select(OaiSet::Branch("MAIN".into())), [main, both]);
    assert_eq!(select(OaiSet::Branch("EAST".into())), [both]);
    assert_eq!(select(OaiSet::Branch("NOWHERE".into())), Vec::<i64>::new());
    assert_eq!(select(OaiSet::AnyLocation), [both]);
    assert_eq!(select(OaiSet::Location("REF".into())), [both]);
    // Adding copies re-dated `main` and `both`, after `none`.
    let (all, total) = walk(db, &OaiQuery::default(), 10, false);
    assert_eq!((ids(&all), total), (vec![none, main, both, gone], 4));
    let sets: Vec<(Vec<String>, Vec<String>)> = all.iter().map(|r| (r.branches.clone(), r.locations.clone())).collect();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(sets, [(s(&[]), s(&[])), (s(&["MAIN"]), s(&[])), (s(&["EAST", "MAIN"]), s(&["REF"])), (s(&[]), s(&[]))]);
    let one = db.oai_record(both).expect("read").expect("exists");
    assert_eq!((one.branches, one.locations), (s(&["EAST", "MAIN"]), s(&["REF"])));
}

/// An incremental harvest of a branch's set sees a record whose copy moved there; editing
/// what does not change a set leaves the datestamp alone.
fn a_copy_joining_a_set_redates_its_record(db: &dyn Database) {
    setup(db);
    let bib = db.create_record(&record("Travelling copy")).expect("create");
    let copy = db.create_item(bib, &item("3001", "MAIN", None)).expect("item");
    let stamp = |db: &dyn Database| db.oai_record(bib).expect("read").expect("exists").datestamp;
    let placed = stamp(db);
    let east_since = |from| {
        let (records, _) =
            walk(db, &OaiQuery { from: Some(from), before: None, set: Some(OaiSet::Branch("EAST".into())) }, 5, false);
        ids(&records)
    };
    assert_eq!(east_since(placed), Vec::<i64>::new());

    let mut noted = item("3001", "MAIN", None);
    noted.public_note = Some("Signed by the author".into());
    db.update_item(copy, &noted).expect("update");
    assert_eq!(stamp(db), placed, "a note changes no set");

    std::thread::sleep(std::time::Duration::from_millis(2));
    let mut moved = noted.clone();
    moved.home_branch = code("EAST");
    moved.location = Some(code("REF"));
    db.update_item(copy, &moved).expect("move");
    let moved_at = stamp(db);
    assert!(moved_at > placed);
    assert_eq!(east_since(moved_at), vec![bib]);

    std::thread::sleep(std::time::Duration::from_millis(2));
    db.delete_item(copy).expect("delete");
    assert!(stamp(db) > moved_at, "a copy withdrawn re-dates its record");
    let one = db.oai_record(bib).expect("read").expect("exists");
    assert_eq!((one.branches.len(), one.locations.len()), (0, 0));
}

fn deleting_a_record_leaves_a_tombstone(db: &dyn Database) {
    setup(db);
    let kept = db.create_record(&record("Kept")).expect("create");
    let held = db.create_record(&record("Held")).expect("create");
    db.create_item(held, &item("2001", "MAIN", None)).expect("item");
    // A refused delete writes nothing.
    assert!(matches!(db.delete_record(held), Err(StorageError::Constraint(_))));
    assert!(!db.oai_record(held).expect("read").expect("exists").deleted);
    let live = db.oai_record(kept).expect("read").expect("exists");
    assert!(!live.deleted);
    assert_eq!(live.marc.as_deref(), Some(record("Kept").marc.as_slice()));
    db.delete_record(kept).expect("delete");
    let tombstone = db.oai_record(kept).expect("read").expect("a tombstone");
    assert!(tombstone.deleted);
    assert_eq!(tombstone.marc, None);
    assert!(tombstone.datestamp >= live.datestamp);
    assert_eq!(db.oai_record(kept + 1000).expect("read"), None);
    assert!(matches!(db.delete_record(kept), Err(StorageError::NotFound { .. })));
    // Still exactly one tombstone.
    let (all, _) = walk(db, &OaiQuery::default(), 10, false);
    assert_eq!(all.iter().filter(|r| r.deleted).count(), 1);
}

fn earliest_datestamp(db: &dyn Database) {
    assert_eq!(db.oai_earliest_datestamp().expect("read"), None);
    let first = db.create_record(&record("First")).expect("create");
    db.create_record(&record("Second")).expect("create");
    let stamp = db.oai_record(first).expect("read").expect("exists").datestamp;
    assert_eq!(db.oai_earliest_datestamp().expect("read"), Some(stamp));
    db.delete_record(first).expect("delete");
    let (all, _) = walk(db, &OaiQuery::default(), 10, false);
    assert_eq!(db.oai_earliest_datestamp().expect("read"), all.iter().map(|r| r.datestamp).min());
}

fn token_key_survives_a_restart(h: &mut Harness) {
    let key = h.db().oai_token_key("first candidate").expect("key");
    assert_eq!(key, "first candidate");
    assert_eq!(h.db().oai_token_key("second candidate").expect("key"), "first candidate");
    h.reopen();
    assert_eq!(h.db().oai_token_key("third candidate").expect("key"), "first candidate");
}
