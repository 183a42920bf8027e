//! The shelf reads the staff client's cataloging screens make, on every backend: the items
//! that stand before a call number (nearest first; the right-hand neighbours are the shelf
//! list from it) and the items added last at a branch.

mod common;

use catalog::{Barcode, BibDerived, Branch, Code, ItemStatus, ItemType, NewItem, ShelvingLocation};
use storage::{Database, NewRecord, ShelfPage, ShelfQuery};

suite! {
    db: [neighbours_on_the_shelf, recent_items_newest_first],
    harness: [],
}

fn code(s: &str) -> Code {
    Code::parse(s).expect("code")
}

fn setup(db: &dyn Database) -> i64 {
    for (c, n) in [("MAIN", "Main Library"), ("EAST", "East Branch")] {
        db.upsert_branch(&Branch { code: code(c), name: n.into() }).expect("branch");
    }
    for c in ["ADULT", "KIDS"] {
        db.upsert_location(&ShelvingLocation { code: code(c), name: c.into() }).expect("location");
    }
    db.upsert_item_type(&ItemType { code: code("BK"), name: "Book".into(), loanable: true }).expect("type");
    let derived = BibDerived { title: "A book".into(), ..BibDerived::default() };
    let mut marc = b"00000nam a2200000 a 4500".to_vec();
    marc.extend(serde_json::to_vec(&derived).expect("json"));
    marc.push(0x1d);
    db.create_record(&NewRecord { marc, derived, row: None }).expect("record")
}

fn add(db: &dyn Database, bib: i64, barcode: &str, branch: &str, location: &str, call_number: &str) -> i64 {
    let item = NewItem {
        barcode: Barcode::parse(barcode).expect("barcode"),
        home_branch: code(branch),
        holding_branch: code(branch),
        location: Some(code(location)),
        collection: None,
        call_number: Some(call_number.into()),
        item_type: code("BK"),
        price: None,
        public_note: None,
        staff_note: None,
        materials_specified: None,
        status: ItemStatus::Available,
        acquired_on: None,
    };
    db.create_item(bib, &item).expect("item")
}

fn key(call_number: &str) -> Vec<u8> {
    callnumber::CallNumber::parse(call_number, callnumber::Scheme::Auto).shelf_key()
}

fn neighbours_on_the_shelf(db: &dyn Database) {
    let bib = setup(db);
    for (barcode, cn) in [("B1", "QA76.73 .A1"), ("B2", "QA76.73 .C3"), ("B3", "QA76.9 .B2"), ("B4", "QA76.73 .K2")] {
        add(db, bib, barcode, "MAIN", "ADULT", cn);
    }
    // Elsewhere: another location and another branch, which a neighbour is never from.
    add(db, bib, "K1", "MAIN", "KIDS", "QA76.73 .J1");
    add(db, bib, "E1", "EAST", "ADULT", "QA76.73 .J1");
    let query = ShelfQuery {
        branch: code("MAIN"),
        location: Some(code("ADULT")),
        from: Some("QA76.73 .J5".into()),
        to: None,
        status: None,
    };
    let before = db.shelf_before(&query, &key("QA76.73 .J5"), 2).expect("before");
    let barcodes: Vec<&str> = before.iter().map(|s| s.item.item.barcode.as_str()).collect();
    assert_eq!(barcodes, ["B2", "B1"], "nearest first");
    assert_eq!(before[0].call_number.as_deref(), Some("QA76.73 .C3"));
    assert_eq!(before[0].title, "A book");
    let after = db.shelf_list(&query, &ShelfPage { after: None, limit: 2 }).expect("after");
    let barcodes: Vec<&str> = after.iter().map(|s| s.item.item.barcode.as_str()).collect();
    assert_eq!(barcodes, ["B4", "B3"]);
    // At the start of the shelf nothing stands before; an equal call number is not before.
    assert!(db.shelf_before(&query, &key("QA1"), 2).expect("before").is_empty());
    assert_eq!(db.shelf_before(&query, &key("QA76.73 .C3"), 5).expect("before").len(), 1);
    let any_location = ShelfQuery { location: None, ..query };
    let all = db.shelf_before(&any_location, &key("QA76.73 .J5"), 5).expect("before");
    let barcodes: Vec<&str> = all.iter().map(|s| s.item.item.barcode.as_str()).collect();
    assert_eq!(barcodes, ["K1", "B2", "B1"]);
}

fn recent_items_newest_first(db: &dyn Database) {
    let bib = setup(db);
    let mut main = Vec::new();
    for n in 0..5 {
        main.push(add(db, bib, &format!("M{n}"), "MAIN", "ADULT", "813.54 KIN"));
        add(db, bib, &format!("E{n}"), "EAST", "ADULT", "813.54 KIN");
    }
    let recent = db.recent_items(&code("MAIN"), 3).expect("recent");
    let ids: Vec<i64> = recent.iter().map(|s| s.item.id).collect();
    assert_eq!(ids, [main[4], main[3], main[2]]);
    assert!(recent.iter().all(|s| s.item.item.home_branch.as_str() == "MAIN" && s.title == "A book"));
    assert!(db.recent_items(&code("NONE"), 3).expect("recent").is_empty());
}
