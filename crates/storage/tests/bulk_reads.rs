//! The bulk reads the search follower uses to re-read a batch of changes at once, on every
//! backend: records and items by id, and every item of a set of records, each in one read and
//! in a stable order, with ids that name nothing left out.

mod common;

use catalog::{Barcode, BibDerived, Branch, Code, ItemStatus, ItemType, NewItem};
use storage::{Database, NewRecord};

suite! {
    db: [
        records_by_ids_reads_those_that_exist_in_id_order,
        items_by_ids_reads_those_that_exist_in_id_order,
        items_of_records_groups_by_record_then_item,
        empty_id_lists_read_nothing,
    ],
    harness: [],
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

fn item(barcode: &str) -> NewItem {
    NewItem {
        barcode: Barcode::parse(barcode).expect("barcode"),
        home_branch: code("MAIN"),
        holding_branch: code("MAIN"),
        location: None,
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
    db.upsert_branch(&Branch { code: code("MAIN"), name: "Main Library".into() }).expect("branch");
    db.upsert_item_type(&ItemType { code: code("BK"), name: "Book".into(), loanable: true }).expect("type");
}

fn records_by_ids_reads_those_that_exist_in_id_order(db: &dyn Database) {
    let ids: Vec<i64> =
        ["Alpha", "Beta", "Gamma", "Delta"].iter().map(|t| db.create_record(&record(t)).expect("create")).collect();
    db.delete_record(ids[1]).expect("delete");
    // Asked out of order, with a deleted id, a missing id and a duplicate.
    let asked = [ids[3], ids[1], 999_999, ids[0], ids[3]];
    let found = db.records_by_ids(&asked).expect("records_by_ids");
    let got: Vec<(i64, String)> = found.iter().map(|r| (r.id, r.derived.title.clone())).collect();
    assert_eq!(got, vec![(ids[0], "Alpha".to_string()), (ids[3], "Delta".to_string())]);
    // The same stored record as the one-at-a-time read.
    assert_eq!(Some(found[1].clone()), db.record(ids[3]).expect("record"));
}

fn items_by_ids_reads_those_that_exist_in_id_order(db: &dyn Database) {
    setup(db);
    let bib = db.create_record(&record("Items")).expect("create");
    let a = db.create_item(bib, &item("B1")).expect("item");
    let b = db.create_item(bib, &item("B2")).expect("item");
    let c = db.create_item(bib, &item("B3")).expect("item");
    db.delete_item(b).expect("delete item");
    let found = db.items_by_ids(&[c, b, a, 424_242]).expect("items_by_ids");
    assert_eq!(found.iter().map(|i| i.id).collect::<Vec<_>>(), vec![a, c]);
    assert_eq!(found[1].item.barcode.as_str(), "B3");
    assert_eq!(found[1].bib_id, bib);
    assert_eq!(Some(found[0].clone()), db.item(a).expect("item"));
}

fn items_of_records_groups_by_record_then_item(db: &dyn Database) {
    setup(db);
    let first = db.create_record(&record("First")).expect("create");
    let second = db.create_record(&record("Second")).expect("create");
    let none = db.create_record(&record("No copies")).expect("create");
    let other = db.create_record(&record("Not asked")).expect("create");
    // Created interleaved, so item id order alone would mix the records.
    let s1 = db.create_item(second, &item("S1")).expect("item");
    let f1 = db.create_item(first, &item("F1")).expect("item");
    let s2 = db.create_item(second, &item("S2")).expect("item");
    db.create_item(other, &item("O1")).expect("item");
    let f2 = db.create_item(first, &item("F2")).expect("item");
    let found = db.items_of_records(&[second, none, first]).expect("items_of_records");
    let got: Vec<(i64, i64)> = found.iter().map(|i| (i.bib_id, i.id)).collect();
    assert_eq!(got, vec![(first, f1), (first, f2), (second, s1), (second, s2)]);
}

fn empty_id_lists_read_nothing(db: &dyn Database) {
    db.create_record(&record("Something")).expect("create");
    assert!(db.records_by_ids(&[]).expect("records").is_empty());
    assert!(db.items_by_ids(&[]).expect("items").is_empty());
    assert!(db.items_of_records(&[]).expect("items of records").is_empty());
}
